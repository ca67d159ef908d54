"""Each figure script on small fabricated tables: PNG and PDF written; missing data skipped."""
import importlib.util
import os

import pytest

import study_tables

FIGURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "figures")
NAMES = ["fig1_ratio", "fig2_initial_rate", "fig3_update_noise", "fig4_van_rossum",
         "fig5_spike_timing", "fig6_activity"]


def load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(FIGURES, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("reproduction"))
    study_tables.write_all(out)
    return out


@pytest.mark.parametrize("name", NAMES)
def test_each_figure_is_drawn_from_the_tables(name, data, capsys):
    assert load(name).main(["--data", data]) == 0
    for kind in ("png", "pdf"):
        path = os.path.join(data, "figures", f"{name}.{kind}")
        assert os.path.getsize(path) > 5000
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize("name", NAMES)
def test_a_figure_without_its_data_is_skipped(name, tmp_path, capsys):
    assert load(name).main(["--data", str(tmp_path)]) == 0
    assert "skipped" in capsys.readouterr().out
    assert not (tmp_path / "figures").exists()


def test_the_figures_share_one_style_file():
    assert os.path.exists(os.path.join(FIGURES, "ei_brian.mplstyle"))
