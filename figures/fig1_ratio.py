"""Figure 1: accuracy against the E share of the hidden layer, beside the tuned unbounded
baseline, with the tuning grids of 80:20 and the baseline.

Reads ``DATA/ratio/runs.csv`` (the ratio study); writes ``fig1_ratio.png``, ``.pdf`` and
``.caption.md`` into ``DATA/figures``. (a) Every E:I ratio at its tuned cell (the ratios without a
grid at the recipe): large markers the mean over trained seeds with a 95 % t-interval, small
markers the seeds (one style per outcome); the band is the tuned unbounded baseline (mean +/- 95 %
t-interval) inside H1's +/- 2-point equivalence margin; the dotted line is 80 %. Runs far below the
rest (silent or saturated) sit in a strip under a break of the accuracy axis, at their value.
(b, c) Mean validation accuracy per cell of the tuning grid (learning rate x initial E rate) of
80:20 and of the baseline; the outlined cell is the tuned one.

    python figures/fig1_ratio.py [--data data/quick] [--out DIR]
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

from ei_brian import plotting  # noqa: E402

NAME = "fig1_ratio"
#: H1's equivalence margin around the tuned baseline (accuracy points), and the paper's threshold
MARGIN = 2.0
THRESHOLD = 80.0
#: a run this many points below the lowest trained mean goes to the strip under the axis break
BREAK_POINTS = 15.0


def prepare(runs):
    """``(runs, tuned, grid, column)``: the runs with the common columns, the runs at each
    network's tuned cell, the tuning grid and the accuracy column."""
    runs, column = plotting.prepare_runs(runs)
    return runs, plotting.tuned_runs(runs), plotting.tuning_grid(runs), column


def _cell_text(learning_rate, target_rate):
    rate = "scale init." if target_rate < 0 else f"{target_rate:g} Hz"
    return f"lr {learning_rate:g}, {rate}" if learning_rate > 0 else rate


def _scale_text(runs):
    """``"55,000 training samples, 5,000 held out for validation, 10,000 test samples, 30
    epochs"``
    from the columns the table has."""
    parts = []
    if "train_samples" in runs:
        text = f"{int(runs['train_samples'].max()):,} training samples"
        if "validation_samples" in runs and runs["validation_samples"].max() > 0:
            text += f", {int(runs['validation_samples'].max()):,} held out for validation"
        parts.append(text)
    if "test_samples" in runs:
        parts.append(f"{int(runs['test_samples'].max()):,} test samples")
    parts.append(f"{int(runs['epochs'].max())} epochs")
    return ", ".join(parts)


def _draw_ratios(axes, tuned, ratios):
    """Seeds and means per ratio into every axis of ``axes`` (the main axis and the strip)."""
    summary = {}
    for network in ratios:
        part = tuned[tuned["network"] == network]
        x0 = 100 * plotting.e_share(network)
        color = plotting.network_color(network)
        offsets = np.linspace(0.3, 1.9, len(part)) if len(part) > 1 else np.array([1.1])
        trained = part[part["outcome"] == "trained"]
        mean, sd, n, half = plotting.t_interval(100 * trained["accuracy"])
        summary[network] = (mean, half, n, len(part))
        for axis in axes:
            plotting.draw_seeds(axis, x0 + offsets, 100 * part["accuracy"], part["outcome"],
                                color, size=10)
            if n:
                axis.errorbar(x0 - 0.9, mean, yerr=half if np.isfinite(half) else None, fmt="o",
                              color=color, markersize=6.5, markeredgecolor="white",
                              markeredgewidth=0.6, elinewidth=1.4, capsize=3, zorder=6)
    return summary


def _draw_grid(axis, grid, network, letter, norm):
    from matplotlib.patches import Rectangle
    cells = grid[grid["network"] == network]
    rates = sorted(cells["target_rate"].unique())
    rates_lr = sorted(cells["learning_rate"].unique())
    values = np.full((len(rates_lr), len(rates)), np.nan)
    for row in cells.itertuples():
        values[rates_lr.index(row.learning_rate), rates.index(row.target_rate)] = 100 * row.mean
    image = axis.imshow(values, cmap="cividis", norm=norm, aspect="auto", origin="lower")
    for row in cells.itertuples():
        i, j = rates_lr.index(row.learning_rate), rates.index(row.target_rate)
        shade = norm(100 * row.mean)
        axis.text(j, i, f"{100 * row.mean:.1f}\nn = {row.n}", ha="center", va="center",
                  fontsize=6.5, color="black" if shade > 0.55 else "white")
        if row.tuned:
            axis.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, lw=2.2,
                                     edgecolor="black", zorder=5))
    axis.set_xticks(range(len(rates)), ["scale" if r < 0 else f"{r:g}" for r in rates])
    axis.set_yticks(range(len(rates_lr)), ["default" if r < 0 else f"{r:g}" for r in rates_lr])
    axis.set_xlabel("initial E rate target (Hz)")
    axis.set_ylabel("learning rate")
    axis.grid(False)
    score = "validation" if cells["score"].iloc[0] == "val_acc" else "test"
    axis.set_title(f"({letter}) {network}: mean {score} acc. (%)")
    return image


def draw(runs):
    import matplotlib.colors
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    runs, tuned, grid, column = prepare(runs)
    counts = grid.groupby("network").size()
    grid_networks = [n for n in plotting.network_order(grid["network"]) if counts[n] > 1]
    ratios = [n for n in plotting.network_order(tuned["network"]) if n != "unbounded"]

    figure = plotting.empty_figure(10.0 if grid_networks else 6.6, 5.4)
    outer = figure.add_gridspec(1, 2 if grid_networks else 1,
                                width_ratios=[2.1, 1] if grid_networks else [1])
    trained_means = [plotting.t_interval(100 * tuned.loc[(tuned["network"] == n) &
                                                         (tuned["outcome"] == "trained"),
                                                         "accuracy"])[0]
                     for n in list(ratios) + ["unbounded"]]
    trained_means = [m for m in trained_means if np.isfinite(m)]
    floor = (min(trained_means) if trained_means else 0.0) - BREAK_POINTS
    low = tuned[100 * tuned["accuracy"] < floor]
    if len(low):
        left = outer[0, 0].subgridspec(2, 1, height_ratios=[5, 1], hspace=0.04)
        main = figure.add_subplot(left[0])
        strip = figure.add_subplot(left[1], sharex=main)
        axes = [main, strip]
    else:
        main, strip = figure.add_subplot(outer[0, 0]), None
        axes = [main]
    summary = _draw_ratios(axes, tuned, ratios)

    baseline = tuned[tuned["network"] == "unbounded"]
    handles = [Line2D([], [], ls="", marker="o", markersize=6.5, color="0.3",
                      label="mean of the trained seeds, 95 % t-interval")]
    handles += plotting.outcome_handles(outcomes=[o for o in plotting.OUTCOMES
                                                  if o in set(tuned["outcome"]) or o == "trained"])
    base_text = "No unbounded baseline has finished yet."
    if len(baseline):
        cell = _cell_text(baseline["learning_rate"].fillna(-1).iloc[0],
                          baseline["target_rate"].fillna(-1).iloc[0])
        mean, sd, n, half = plotting.t_interval(100 * baseline.loc[baseline["outcome"] == "trained",
                                                                   "accuracy"])
        half = half if np.isfinite(half) else 0.0
        main.axhspan(mean - MARGIN, mean + MARGIN, color=plotting.UNBOUNDED_COLOR, alpha=0.08,
                     lw=0, zorder=0)
        main.axhspan(mean - half, mean + half, color=plotting.UNBOUNDED_COLOR, alpha=0.25, lw=0,
                     zorder=0)
        main.axhline(mean, color=plotting.UNBOUNDED_COLOR, lw=1.0, zorder=1)
        handles += [Patch(color=plotting.UNBOUNDED_COLOR, alpha=0.4,
                          label=f"unbounded, tuned ({cell}): mean {mean:.1f} %, 95 % t-interval "
                                f"(n = {n} trained of {len(baseline)})"),
                    Patch(color=plotting.UNBOUNDED_COLOR, alpha=0.12,
                          label=f"baseline +/- {MARGIN:g} points (H1's equivalence margin)")]
        base_text = (f"The dark band is the unbounded baseline at its tuned cell ({cell}): mean "
                     f"{mean:.1f} % with its 95 % t-interval over {n} trained seeds (of "
                     f"{len(baseline)} finished); the light band is +/- {MARGIN:g} points around "
                     "its mean, H1's equivalence margin.")
    main.axhline(THRESHOLD, color="0.35", lw=0.9, ls=":", zorder=1)
    handles.append(Line2D([], [], color="0.35", lw=0.9, ls=":",
                          label=f"{THRESHOLD:g} % (the paper's threshold)"))

    shares = [100 * plotting.e_share(n) for n in ratios]
    bottom = axes[-1]
    bottom.set_xticks(shares, ratios)
    bottom.set_xlim(min(shares + [100]) - 5, max(shares + [100]) + 4)
    bottom.set_xlabel("E:I ratio, placed at its E share of the 160 hidden neurons (%)")
    high = [100 * tuned.loc[tuned["accuracy"] * 100 >= floor, "accuracy"].max()]
    if len(baseline):
        high.append(mean + MARGIN)
    high += [m + h for m, h, n, _ in summary.values() if n and np.isfinite(h)]
    top = max(high + [THRESHOLD]) + 1.5
    kept = 100 * tuned.loc[tuned["accuracy"] * 100 >= floor, "accuracy"]
    lows = [kept.min() if len(kept) else THRESHOLD, THRESHOLD]
    if len(baseline):
        lows.append(mean - MARGIN)
    for network, (m, h, n, total) in summary.items():
        if n:
            lows.append(m - (h if np.isfinite(h) else 0))
    main.set_ylim(min(lows) - 1.5, top)
    main.set_ylabel(f"{plotting.accuracy_measure(runs)[1].split(' (')[0]} (%)")
    dataset = plotting.dataset_name(runs["dataset"].iloc[0] if "dataset" in runs
                                    else "fashion-mnist")
    main.set_title(f"(a) E:I ratio on {dataset}: each network at its tuned setting")
    if strip is not None:
        values = 100 * low["accuracy"]
        chance = 100 * runs["chance"].iloc[0]
        strip.set_ylim(min(values.min(), chance) - 2, max(values.max(), chance) + 2)
        plotting.chance_line(strip, runs["chance"].iloc[0], label=False)
        plotting.axis_break(main, strip)
        handles.append(Line2D([], [], color="0.35", ls="--", lw=0.9,
                              label=f"chance (1/{round(1 / runs['chance'].iloc[0])}; lower strip)"))

    if grid_networks:
        right = outer[0, 1].subgridspec(len(grid_networks), 1)
        for k, (network, letter) in enumerate(zip(grid_networks, "bcdefg")):
            axis = figure.add_subplot(right[k])
            values = 100 * grid.loc[grid["network"] == network, "mean"]
            # each grid its own colours (the question is which cell is best); a failed cell far
            # below the rest would wash the others out: it takes the darkest colour
            norm = matplotlib.colors.Normalize(
                vmin=max(float(values.min()), float(values.max()) - 6), vmax=float(values.max()),
                clip=True)
            image = _draw_grid(axis, grid, network, letter, norm)
            figure.colorbar(image, ax=axis, shrink=0.9, aspect=12, label="%",
                            extend="min" if values.min() < norm.vmin else "neither")
    figure.legend(handles=handles, loc="outside lower center", ncol=2 if grid_networks else 1)

    # the caption
    trained_counts = [summary[n][2] for n in ratios]
    totals = [summary[n][3] for n in ratios]
    grid_text = ""
    if grid_networks:
        cells = grid[grid["network"].isin(grid_networks)]
        grid_text = (f" Panels ({'bcdefg'[0]}"
                     + (f", {'bcdefg'[len(grid_networks) - 1]})" if len(grid_networks) > 1 else ")")
                     + " show the tuning grid of " + " and ".join(grid_networks)
                     + f" (learning rate x initial E rate target): the mean "
                     f"{'validation' if cells['score'].iloc[0] == 'val_acc' else 'test'} "
                     f"accuracy of each cell over its finished runs, all outcomes counted "
                     f"({plotting.count_text(cells['n'], 'runs')} per cell); the outlined cell is "
                     "the tuned one (highest mean), used in (a).")
    strip_text = (f" {len(low)} run(s) more than {BREAK_POINTS:g} points below the lowest trained "
                  "mean are drawn at their value in the strip under the break of the accuracy "
                  "axis, with chance as a dashed line." if len(low) else "")
    caption = (
        f"**Figure 1.** {plotting.accuracy_measure(runs)[1].capitalize()} of each E:I ratio on "
        f"{dataset} ({_scale_text(runs)}) against its E share. Every "
        "network is shown at its tuned cell (learning rate x initial E rate target with the "
        "highest mean validation accuracy; a ratio without a grid at the recipe). Large markers: "
        f"mean over the trained seeds ({plotting.count_text(trained_counts)} per ratio, of "
        f"{plotting.count_text(totals)} finished); {plotting.interval_caption()}. "
        f"{plotting.OUTCOME_CAPTION[0].upper() + plotting.OUTCOME_CAPTION[1:]}; silent and saturated runs are left out of "
        f"the means ({plotting.outcome_text(tuned[tuned['network'] != 'unbounded'])} runs "
        f"shown). {base_text} Dotted: the paper's {THRESHOLD:g} % threshold.{strip_text}"
        f"{grid_text} {plotting.accuracy_caption(column)}")
    return figure, caption


def main(argv=None):
    args = plotting.figure_arguments(__doc__, argv)
    runs = plotting.read_table(args.data, os.path.join("ratio", "runs.csv"))
    if runs is None:
        return plotting.skip(NAME, os.path.join(args.data, "ratio", "runs.csv"))
    figure, caption = draw(runs)
    plotting.save_figure(figure, args.out, NAME, caption)
    return 0


if __name__ == "__main__":
    sys.exit(main())
