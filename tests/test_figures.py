"""Each figure script on fabricated tables (tests/study_tables.py): PNG, PDF and caption written;
missing data skipped; nothing hidden or moved (fig1's legend covers no point, fig2 keeps 0-Hz runs
in their own strip, fig3's ticks are the tested levels); the shared helpers' statistics."""
import importlib.util
import math
import os
import re
import shutil

import numpy as np
import pandas as pd
import pytest

import study_tables
from ei_brian import plotting

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


def runs_of(data, study):
    return plotting.read_table(data, os.path.join(study, "runs.csv"))


@pytest.mark.parametrize("name", NAMES)
def test_each_figure_is_drawn_from_the_tables_with_its_caption(name, data, capsys):
    assert load(name).main(["--data", data]) == 0
    for kind in ("png", "pdf"):
        path = os.path.join(data, "figures", f"{name}.{kind}")
        assert os.path.getsize(path) > 5000
    assert "wrote" in capsys.readouterr().out
    with open(os.path.join(data, "figures", f"{name}.caption.md")) as handle:
        caption = handle.read()
    assert caption.startswith(f"**Figure {name[3]}.**")
    assert caption.count("\n") == 1  # one paragraph
    assert re.search(r"n = \d+", caption)  # n computed from the data
    if name != "fig6_activity":
        assert "t-interval" in caption and "validation-chosen" in caption
        assert "silent" in caption and "saturated" in caption


def test_the_png_is_300_dpi(data):
    from PIL import Image
    load("fig3_update_noise").main(["--data", data])
    with Image.open(os.path.join(data, "figures", "fig3_update_noise.png")) as image:
        assert round(image.info["dpi"][0]) == 300


@pytest.mark.parametrize("name", NAMES)
def test_a_figure_without_its_data_is_skipped(name, tmp_path, capsys):
    assert load(name).main(["--data", str(tmp_path)]) == 0
    assert "skipped" in capsys.readouterr().out
    assert not (tmp_path / "figures").exists()


def test_the_figures_share_one_style_file():
    assert os.path.exists(os.path.join(FIGURES, "ei_brian.mplstyle"))


def _points(figure):
    """Display coordinates of every data point shown (scatter offsets, markers of lines, within
    their axis: a broken axis draws each point into every part, and clips it in all but one)."""
    figure.canvas.draw()
    out = []
    for axis in figure.axes:
        box = axis.get_window_extent()
        drawn = []
        for collection in axis.collections:
            offsets = np.asarray(collection.get_offsets(), dtype=float)
            if offsets.size:
                drawn.append(collection.get_offset_transform().transform(offsets))
        for line in axis.lines:
            if line.get_marker() not in (None, "None", "", " ") and len(line.get_xydata()):
                drawn.append(line.get_transform().transform(line.get_xydata()))
        for xy in drawn:
            shown = ((xy[:, 0] >= box.x0 - 1) & (xy[:, 0] <= box.x1 + 1) &
                     (xy[:, 1] >= box.y0 - 1) & (xy[:, 1] <= box.y1 + 1))
            if shown.any():
                out.append((axis, xy[shown]))
    return out


def test_fig1_legend_covers_no_point_and_100_0_is_in_view(data):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    module = load("fig1_ratio")
    figure, _ = module.draw(runs_of(data, "ratio"))
    FigureCanvasAgg(figure)
    points = _points(figure)
    renderer = figure.canvas.get_renderer()
    legends = list(figure.legends) + [a.get_legend() for a in figure.axes if a.get_legend()]
    assert legends
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for axis, xy in points:
            inside = ((xy[:, 0] >= box.x0) & (xy[:, 0] <= box.x1) &
                      (xy[:, 1] >= box.y0) & (xy[:, 1] <= box.y1))
            assert not inside.any(), f"the legend covers a point of {axis.get_title()!r}"
    assert sum(len(xy) for _, xy in points) >= len(runs_of(data, "ratio")) // 3
    main = figure.axes[0]
    low, high = main.get_xlim()
    assert low < 10 and high > 100  # 10:90 and 100:0 inside the axis


def test_fig1_uses_each_network_at_its_tuned_cell(data):
    _, tuned, grid, column = load("fig1_ratio").prepare(runs_of(data, "ratio"))
    assert column == "val_test_acc"
    for network, (learning_rate, target_rate) in study_tables.TUNED.items():
        part = tuned[tuned["network"] == network]
        assert set(part["learning_rate"]) == {learning_rate}
        assert set(part["target_rate"]) == {target_rate}
        assert len(part) == len(study_tables.RATIO_SEEDS)
    assert grid.groupby("network")["tuned"].sum().eq(1).all()


def test_fig2_keeps_0_hz_runs_at_0_hz_in_their_own_strip(data):
    module = load("fig2_initial_rate")
    runs = runs_of(data, "initial_rate")
    prepared, _ = module.prepare(runs)
    zero = prepared["rate_exc_initial_hz"] == 0
    assert zero.sum() >= 2  # the fabricated tables have 0-Hz runs in the target-rate arm
    assert (prepared.loc[zero, "strip"] == module.ZERO_STRIP).all()
    assert (prepared.loc[zero, "rate"] == 0).all()  # not moved to 0.05 Hz
    assert (prepared.loc[~zero, "strip"] == module.LOG_AXIS).all()
    assert np.array_equal(prepared["rate"], runs["rate_exc_initial_hz"])
    # drawn: the strip left of the break holds exactly the 0-Hz runs of the target-rate arm
    figure, _ = module.draw(runs, None)
    strip = figure.subfigs[0].axes[0]
    n_drawn = sum(len(c.get_offsets()) for c in strip.collections)
    arm = prepared[prepared["arm"] != "scale"]
    assert n_drawn == int((arm["strip"] == module.ZERO_STRIP).sum())


def test_fig2_trend_is_fitted_over_trained_runs_only():
    module = load("fig2_initial_rate")
    rates = [0.1, 1.0, 10.0, 100.0]
    rows = [{"rate": r, "strip": module.LOG_AXIS, "outcome": "trained", "seed": s,
             "accuracy": 0.8 - 0.02 * math.log10(r) + 0.001 * s} for r in rates for s in range(3)]
    rows.append({"rate": 0.2, "strip": module.LOG_AXIS, "outcome": "silent", "seed": 0,
                 "accuracy": 0.1})
    fit = module.trend(pd.DataFrame(rows))
    assert fit["slope"] == pytest.approx(-2.0) and fit["n"] == 12 and fit["seeds"] == 3
    assert fit["low"] == pytest.approx(-2.0) and fit["rho"] < -0.9
    # the slope is H2's (the mean of the seeds' slopes, as the report computes it), and the line
    # drawn has that slope through the mean of the trained runs
    from ei_brian.report import _seed_slopes
    rows += [{"rate": r, "strip": module.LOG_AXIS, "outcome": "trained", "seed": 3,
              "accuracy": 0.5 + 0.1 * math.log10(r)} for r in rates[:2]]
    frame = pd.DataFrame(rows)
    fit = module.trend(frame)
    trained = frame[frame["outcome"] == "trained"]
    expected = 100 * _seed_slopes(trained.assign(rate_exc_initial_hz=trained["rate"]),
                                  "accuracy").mean()
    assert fit["seeds"] == 4 and fit["slope"] == pytest.approx(expected)
    assert fit["slope"] == pytest.approx((3 * -2.0 + 10.0) / 4)
    pooled = np.polyfit(np.log10(trained["rate"]), 100 * trained["accuracy"], 1)[0]
    assert abs(fit["slope"] - pooled) > 0.5  # the pooled fit is another number
    assert np.polyval(fit["fit"], np.log10(trained["rate"]).mean()) == \
        pytest.approx(100 * trained["accuracy"].mean())


def test_fig3_ticks_are_exactly_the_tested_levels(data):
    module = load("fig3_update_noise")
    figure, _ = module.draw(runs_of(data, "update_noise"))
    expected = [plotting.format_level(level) for level in study_tables.LEVELS]
    assert expected == ["0", "1", "3", "10", "30", "100"]
    for axis in figure.axes:
        assert [t.get_text() for t in axis.get_xticklabels()] == expected
        assert list(axis.get_xticks()) == list(range(len(expected)))


def test_fig3_retention_is_chance_corrected(data):
    runs, levels, _ = load("fig3_update_noise").prepare(runs_of(data, "update_noise"))
    assert levels == study_tables.LEVELS
    row = runs[(runs["network"] == "80:20") & (runs["update_noise"] == 10.0)].iloc[0]
    clean = runs[(runs["network"] == "80:20") & (runs["update_noise"] == 0) &
                 (runs["seed"] == row["seed"])].iloc[0]
    chance = 1 / row["n_classes"]
    assert row["retention"] == pytest.approx((row["val_test_acc"] - chance) /
                                             (clean["val_test_acc"] - chance))
    assert (runs.loc[runs["update_noise"] == 0, "retention"] == 1).all()


def test_fig4_counts_each_run_once_and_never_pools_data_sets(data):
    module = load("fig4_van_rossum")
    table = plotting.read_table(data, os.path.join("tables", "vanrossum.csv"))
    prepared, _, tuned, retention = module.prepare(table, runs_of(data, "ratio"),
                                                   runs_of(data, "update_noise"))
    assert len(prepared) < len(table)  # the shared eta = 0 / 5 Hz runs appear twice there
    assert not prepared.duplicated(["command", "snapshot", "population"]).any()
    assert tuned and retention is not None and retention.notna().all()
    figure, caption = module.draw(table, runs_of(data, "ratio"), runs_of(data, "update_noise"))
    assert "Fashion-MNIST" in caption and "random manifolds" in caption
    assert f"of the {table['command'].nunique()} LIF runs" in caption and "counted once" in caption
    titles = " ".join(axis.get_title() for axis in figure.axes)
    assert "Fashion-MNIST" in titles and "random manifolds" in titles and "retention" in titles


def test_fig5_shows_the_initial_rates_and_names_the_data_set(data):
    figure, caption = load("fig5_spike_timing").draw(runs_of(data, "spike_timing"), None)
    assert "random manifolds" in figure.get_suptitle()
    assert "initial E rates" in caption and "chance 5 %" in caption


def test_without_validation_the_figures_fall_back_to_the_peak(data, tmp_path):
    shutil.copytree(os.path.join(data, "ratio"), tmp_path / "ratio")
    path = tmp_path / "ratio" / "runs.csv"
    runs = pd.read_csv(path)
    runs[["val_acc", "val_epoch", "val_test_acc"]] = np.nan
    runs.to_csv(path, index=False)
    assert load("fig1_ratio").main(["--data", str(tmp_path)]) == 0
    caption = (tmp_path / "figures" / "fig1_ratio.caption.md").read_text()
    assert "peak test accuracy" in caption and "no validation split" in caption


def test_outcomes_are_derived_for_tables_without_the_column():
    runs = pd.DataFrame({"network": ["80:20"] * 3, "seed": [0, 1, 2], "label": ["a"] * 3,
                         "dataset": ["fashion-mnist"] * 3, "peak_test_acc": [0.8, 0.12, 0.5],
                         "rate_exc_initial_hz": [5.0, 0.0, 5.0],
                         "rate_exc_final_hz": [20.0, 0.0, 700.0],
                         "rate_exc_max_hz": [25.0, 0.0, 800.0]})
    prepared, column = plotting.prepare_runs(runs)
    assert column == "peak_test_acc"
    assert list(prepared["outcome"]) == ["trained", "silent", "saturated"]
    assert list(prepared["chance"]) == [0.1] * 3


def test_t_interval_by_hand():
    mean, sd, n, half = plotting.t_interval([1.0, 2.0, 3.0, float("nan")])
    assert (mean, sd, n) == (2.0, 1.0, 3)
    assert half == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)  # t(0.975, 2) sd / sqrt(n)
    assert math.isnan(plotting.t_interval([1.0])[3])
    assert plotting.count_text([5, 5]) == "n = 5 seeds"
    assert plotting.count_text([3, 6]) == "n = 3-6 seeds"


def test_fig6_names_the_setting_of_its_runs_and_shares_one_time_axis(data):
    module = load("fig6_activity")
    ratio = plotting.read_table(data, os.path.join("ratio", "runs.csv"), finished=False)
    cells = list(zip(ratio["learning_rate"], ratio["target_rate"]))
    cell = module.common_cell(ratio)
    assert cells.count(cell) == max(cells.count(c) for c in set(cells))
    assert module.common_cell(None) is None
    spikes = plotting.read_table(data, os.path.join("tables", "activity_spikes.csv"))
    rates = plotting.read_table(data, os.path.join("tables", "activity_rates.csv"))
    figure, caption = module.draw(spikes, rates, cell)
    assert f"learning rate {cell[0]:g}, initial rate {cell[1]:g} Hz" in caption
    rasters = [axis for axis in figure.axes if axis.get_title().endswith("spikes")]
    assert len(rasters) > 1 and len({axis.get_xlim() for axis in rasters}) == 1
