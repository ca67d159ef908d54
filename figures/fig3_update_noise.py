"""Figure 3: accuracy and chance-corrected retention against the level of weight-update noise,
per E:I ratio.

Reads ``DATA/update_noise/runs.csv`` (the update-noise study); writes ``fig3_update_noise.png``,
``.pdf`` and ``.caption.md``. The x axis has one position per tested level of the relative update
noise eta (Gaussian noise of sd eta * |update| on every weight update), labelled with the level, so
0 shows. (a) Accuracy, mean over seeds with a 95 % t-interval, seeds as small markers, chance as a
dashed line. (b) Chance-corrected retention, (acc - chance) / (acc0 - chance), acc0 the accuracy of
the same network and seed at eta = 0 and chance = 1 / n_classes, computed here from the runs;
retention 0.5 (half the gain over chance lost) marked.

    python figures/fig3_update_noise.py [--data data/quick] [--out DIR]
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

from ei_brian import plotting  # noqa: E402

NAME = "fig3_update_noise"
HALF = 0.5


def prepare(runs):
    """``(runs, levels, column)``: the runs with the common columns and ``retention``
    (chance-corrected; NaN where the same network and seed has no trained eta = 0 run), the
    tested levels in order, and the accuracy column."""
    runs, column = plotting.prepare_runs(runs)
    runs["retention"] = plotting.chance_retention(runs)
    levels = sorted(float(level) for level in runs["update_noise"].unique())
    return runs, levels, column


def halving(stats, levels):
    """The first tested level at which the mean retention is below one half, or None."""
    for level in levels:
        row = stats[stats["update_noise"] == level]
        if len(row) and level > 0 and row["mean"].iloc[0] < HALF:
            return level
    return None


def draw(runs):
    from matplotlib.lines import Line2D
    runs, levels, column = prepare(runs)
    chance = float(runs["chance"].iloc[0])
    position = {level: k for k, level in enumerate(levels)}
    networks = plotting.network_order(runs["network"])
    figure = plotting.empty_figure(10.0, 4.6)
    accuracy, retention = figure.subplots(1, 2)
    width = 0.7 / max(1, len(networks))
    handles, halved_text, counts = [], [], []
    usable = runs[np.isfinite(runs["retention"])]
    for k, network in enumerate(networks):
        color = plotting.network_color(network)
        offset = -0.35 + width * (k + 0.5)
        label = network
        for axis, table, value, scale in ((accuracy, runs, "accuracy", 100.0),
                                          (retention, usable, "retention", 1.0)):
            part = table[table["network"] == network]
            stats = plotting.summarize(part, "update_noise", value).sort_values("update_noise")
            x = np.array([position[level] for level in stats["update_noise"]]) + offset
            half = stats["ci"].fillna(0).to_numpy()
            axis.errorbar(x - 0.25 * width, scale * stats["mean"], yerr=scale * half, marker="o",
                          color=color, markersize=5, lw=1.3, capsize=2, zorder=5)
            seeds_x = np.array([position[level] for level in part["update_noise"]]) + offset + \
                0.2 * width
            plotting.draw_seeds(axis, seeds_x, scale * part[value], part["outcome"], color,
                                size=9)
            if value == "retention":
                level = halving(stats, levels)
                label += (f" (mean retention below {HALF:g} from eta = {level:g})"
                          if level is not None else f" (above {HALF:g} at every level)")
                halved_text.append(f"{network} from eta = {level:g}" if level is not None
                                   else f"{network} at no level")
                counts += list(stats["n"])
        handles.append(Line2D([], [], color=color, marker="o", markersize=5, label=label))
    for axis in (accuracy, retention):
        axis.set_xticks(range(len(levels)), [plotting.format_level(level) for level in levels])
        axis.set_xlim(-0.6, len(levels) - 0.4)
        axis.set_xlabel("relative update noise eta (sd = eta x |update|); tested levels")
        axis.grid(False, axis="x")
        for k in range(1, len(levels)):
            axis.axvline(k - 0.5, color="0.9", lw=0.6, zorder=0)
    plotting.chance_line(accuracy, chance, label=False)
    accuracy.set_ylim(bottom=min(100 * chance - 3, 100 * runs["accuracy"].min() - 2))
    accuracy.set_ylabel(f"{plotting.accuracy_measure(runs)[1].split(' (')[0]} (%)")
    accuracy.set_title("(a) accuracy under update noise")
    retention.axhline(HALF, color="#E69F00", lw=1.2, ls="-.", zorder=1)
    retention.axhline(1.0, color="0.6", lw=0.8, zorder=1)
    retention.axhline(0.0, color="0.35", lw=0.9, ls="--", zorder=1)
    retention.set_ylabel("retention (acc - chance) / (acc at eta 0 - chance)")
    retention.set_title("(b) chance-corrected retention")
    handles += plotting.outcome_handles(outcomes=[o for o in plotting.OUTCOMES
                                                  if o in set(runs["outcome"])
                                                  or o == "trained"])
    handles += [Line2D([], [], color="0.35", ls="--", lw=0.9,
                       label=f"chance (1/{round(1 / chance)}; retention 0)"),
                Line2D([], [], color="#E69F00", ls="-.", lw=1.2,
                       label=f"retention {HALF:g}: half the gain over chance lost")]
    figure.legend(handles=handles, loc="outside lower center", ncol=3)

    per_point = runs.groupby(["network", "update_noise"])["seed"].nunique()
    dropped = int(runs["retention"].isna().sum())
    caption = (
        f"**Figure 3.** (a) {plotting.accuracy_measure(runs)[1].capitalize()} of each network "
        f"under relative weight-update noise eta (Gaussian noise of sd eta x |update| on every "
        f"update), one x position per tested level ({', '.join(map(plotting.format_level, levels))}"
        f"), {plotting.count_text(per_point)} per network and level; the dashed line is chance "
        f"(1/{round(1 / chance)}). (b) Chance-corrected retention (acc - chance) / (acc0 - chance),"
        " acc0 the accuracy of the same network and seed at eta = 0, computed from the runs: 1 "
        "keeps all of the noise-free gain over chance, 0 is chance; the dash-dotted line marks "
        f"{HALF:g}. Mean retention first falls below {HALF:g} at: {'; '.join(halved_text)}. "
        f"Large markers: means over seeds ({plotting.count_text(counts)} per point in (b)) with "
        f"95 % t-intervals (none below two seeds); {plotting.OUTCOME_CAPTION}. Unlike the other "
        "figures, runs that end silent or saturated under noise count in the means at their "
        "accuracy, since failing to train is the effect of the noise; a seed whose eta = 0 run did"
        f" not train has no retention ({dropped} runs without one). Outcomes: "
        f"{plotting.outcome_text(runs)}. {plotting.accuracy_caption(column)}")
    return figure, caption


def main(argv=None):
    args = plotting.figure_arguments(__doc__, argv)
    runs = plotting.read_table(args.data, os.path.join("update_noise", "runs.csv"))
    if runs is None:
        return plotting.skip(NAME, os.path.join(args.data, "update_noise", "runs.csv"))
    figure, caption = draw(runs)
    plotting.save_figure(figure, args.out, NAME, caption)
    return 0


if __name__ == "__main__":
    sys.exit(main())
