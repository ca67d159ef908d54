"""The example notebook runs from top to bottom (nbclient), so it never rots."""
import os

import pytest

pytestmark = [pytest.mark.compiled, pytest.mark.slow]

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples")


def test_explore_trained_network_notebook(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient
    notebook = nbformat.read(os.path.join(EXAMPLES, "explore_trained_network.ipynb"),
                             as_version=4)
    # the notebook trains its small run into this folder (the kernel inherits the environment)
    monkeypatch.setenv("EI_BRIAN_EXAMPLE_RUN", str(tmp_path / "run"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = "".join(output.get("text", "") for cell in notebook.cells
                      if cell.cell_type == "code" for output in cell.get("outputs", []))
    assert "spikes in Brian2" in outputs and "mean Van Rossum distance per neuron" in outputs
    assert "spikes of the adapting network in Brian2" in outputs  # a model of the notebook's own
    assert (tmp_path / "run" / "result.json").exists()
    assert (tmp_path / "run-adaptation" / "result.json").exists()
