"""The documentation builds without a warning (-W), offline; its generated pages follow the code.

Needs the documentation's requirements (docs/requirements.txt, installed by ``make docs``);
``make test`` installs only requirements.txt, so there these tests are skipped.
"""
import os
import runpy
import subprocess
import sys

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir)
DOCS = os.path.join(ROOT, "docs")


def _docs_requirements():
    for module in ("sphinx", "myst_parser", "myst_nb", "numpydoc"):
        pytest.importorskip(module, reason=f"{module} is not installed: the documentation's "
                            "requirements are in docs/requirements.txt (make docs installs them)")


@pytest.mark.slow
def test_documentation_builds_without_warnings(tmp_path):
    """The whole build, as ``make docs`` runs it, with every warning an error."""
    _docs_requirements()
    # EI_BRIAN_DOCS_OFFLINE=1: no intersphinx inventories, nothing asked of the network
    env = dict(os.environ, EI_BRIAN_DOCS_OFFLINE="1")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-q", "-W", "--keep-going", "-b", "html",
         "-d", str(tmp_path / "doctrees"), DOCS, str(tmp_path / "html")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"the documentation build failed:\n{result.stderr[-6000:]}"
    run_folder = (tmp_path / "html" / "run_folder.html").read_text(encoding="utf-8")
    from ei_brian import io
    for name in (io.INITIAL_WEIGHTS_FILE, io.LOG_FILE, io.RESULT_FILE, io.RUN_FORMAT,
                 *io.PROBE_SPIKES_FILES.values(), *io.METRICS_COLUMNS):
        assert name in run_folder, f"{name!r} is missing from the run folder's page"
    notebook = (tmp_path / "html" / "generated" / "examples" /
                "explore_trained_network.html").read_text(encoding="utf-8")
    assert "spikes in Brian2" in notebook and "<img" in notebook, \
        "the example notebook is rendered without its outputs"


def test_intersphinx_falls_back_to_an_empty_inventory(monkeypatch):
    """Offline, every inventory has a readable second location, so -W does not fail on it."""
    _docs_requirements()
    from sphinx.util.inventory import InventoryFile
    monkeypatch.delenv("EI_BRIAN_DOCS_OFFLINE", raising=False)
    monkeypatch.delenv("EI_BRIAN_DOCS_STRICT_INTERSPHINX", raising=False)
    monkeypatch.chdir(DOCS)  # as Sphinx reads conf.py
    monkeypatch.setattr(sys, "path", list(sys.path))
    mapping = runpy.run_path(os.path.join(DOCS, "conf.py"))["intersphinx_mapping"]
    assert {"python", "numpy", "brian2"} <= set(mapping)
    for name, (url, locations) in mapping.items():
        assert url.startswith("https://") and locations[0] is None, name
        with open(os.path.join(DOCS, locations[-1]), "rb") as stream:
            assert InventoryFile.load(stream, url, os.path.join) == {}, name


def test_run_folder_page_refuses_an_undescribed_file(monkeypatch):
    """A new file-name constant in ei_brian.io without a description stops the build."""
    _docs_requirements()
    from sphinx.errors import ExtensionError
    monkeypatch.syspath_prepend(os.path.join(DOCS, "_ext"))
    import generated

    from ei_brian import io
    generated.run_folder_pages()  # today every file and column is described
    monkeypatch.setattr(io, "EXAMPLE_FILE", "example.npz", raising=False)
    with pytest.raises(ExtensionError, match="example.npz"):
        generated.run_folder_pages()
    monkeypatch.delattr(io, "EXAMPLE_FILE")
    monkeypatch.setattr(io, "METRICS_COLUMNS", io.METRICS_COLUMNS + ("example_column",))
    with pytest.raises(ExtensionError, match="example_column"):
        generated.run_folder_pages()
