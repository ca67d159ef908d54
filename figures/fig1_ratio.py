"""Figure 1: peak test accuracy against the E:I ratio, beside the unbounded baseline.

Reads ``DATA/ratio/runs.csv`` (the ratio study); writes ``fig1_ratio.png`` and ``.pdf`` into
``DATA/figures``. Each point is the mean over seeds with its standard deviation; the dots are the
seeds; the grey band is the unbounded baseline (mean +/- sd).

    python figures/fig1_ratio.py [--data data/quick] [--out DIR]
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from ei_brian import plotting  # noqa: E402

NAME = "fig1_ratio"


def draw(runs):
    figure, axes = plotting.study_figure(1, 1, width=5.6, height=3.8)
    axis = axes[0, 0]
    order = [name for name in plotting.network_order(runs["network"]) if name != "unbounded"]
    stats = plotting.mean_sd_n(runs, "network", "peak_test_acc").set_index("network")
    positions = range(len(order))
    for x, network in zip(positions, order):
        seeds = runs[runs["network"] == network]["peak_test_acc"]
        axis.plot([x] * len(seeds), 100 * seeds, "o", color=plotting.network_color(network),
                  alpha=0.35, markersize=3.5)
        axis.errorbar(x, 100 * stats.loc[network, "mean"], yerr=100 * stats["sd"].fillna(0)[network],
                      fmt="o", color=plotting.network_color(network), markersize=6)
    if "unbounded" in stats.index:
        mean, sd = 100 * stats.loc["unbounded", "mean"], 100 * (stats["sd"].fillna(0)["unbounded"])
        axis.axhspan(mean - sd, mean + sd, color=plotting.UNBOUNDED_COLOR, alpha=0.15, lw=0)
        axis.axhline(mean, color=plotting.UNBOUNDED_COLOR, lw=1.2,
                     label=f"unbounded baseline (n = {int(stats.loc['unbounded', 'n'])})")
    axis.axhline(80, color="0.5", lw=0.8, ls=":", label="80 % (the paper's threshold)")
    axis.set_xticks(list(positions), order)
    axis.set_xlabel("E:I ratio (Dale's law; 160 hidden neurons)")
    axis.set_ylabel("peak test accuracy (%)")
    dataset = runs["dataset"].iloc[0] if "dataset" in runs else "fashion-mnist"
    axis.set_title(f"E:I ratio: {dataset}, mean +/- sd, {plotting.seed_note(runs)}")
    axis.legend(loc="lower left")
    return figure


def main(argv=None):
    args = plotting.figure_arguments(__doc__, argv)
    runs = plotting.read_table(args.data, os.path.join("ratio", "runs.csv"))
    if runs is None:
        return plotting.skip(NAME, os.path.join(args.data, "ratio", "runs.csv"))
    plotting.save_figure(draw(runs), args.out, NAME)
    return 0


if __name__ == "__main__":
    sys.exit(main())
