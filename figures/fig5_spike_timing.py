"""Figure 5: the E:I ratio comparison on spike-timing data (SHD, or the random-manifold stand-in).

Reads ``DATA/spike_timing/runs.csv`` and ``epochs.csv``; writes ``fig5_spike_timing.png`` and
``.pdf``. The title names the data set the runs used: the Spiking Heidelberg Digits where their
files were found, else the generated random-manifold task (``--dataset randman``). (a) Peak test
accuracy per network, mean +/- sd over seeds (dots: seeds). (b) Test accuracy per epoch, mean over
seeds.

    python figures/fig5_spike_timing.py [--data data/quick] [--out DIR]
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from ei_brian import plotting  # noqa: E402

NAME = "fig5_spike_timing"
DATASETS = {"shd": "Spiking Heidelberg Digits (SHD)",
            "randman": "random manifolds (offline stand-in for SHD)"}


def draw(runs, epochs):
    figure, axes = plotting.study_figure(1, 2, width=4.4, height=3.6)
    peak, curves = axes[0]
    order = plotting.network_order(runs["network"])
    stats = plotting.mean_sd_n(runs, "network", "peak_test_acc").set_index("network")
    for x, network in enumerate(order):
        color = plotting.network_color(network)
        seeds = runs[runs["network"] == network]["peak_test_acc"]
        peak.plot([x] * len(seeds), 100 * seeds, "o", color=color, alpha=0.35, markersize=3.5)
        peak.errorbar(x, 100 * stats.loc[network, "mean"], yerr=100 * stats["sd"].fillna(0)[network],
                      fmt="o", color=color, markersize=6)
        curve = epochs[epochs["network"] == network].groupby("epoch")["test_acc"].mean()
        curves.plot(curve.index, 100 * curve.to_numpy(), marker="o", markersize=3, color=color,
                    label=network)
    peak.set_xticks(range(len(order)), order)
    peak.set_xlabel("network")
    peak.set_ylabel("peak test accuracy (%)")
    peak.set_title(f"(a) peak accuracy, mean +/- sd, {plotting.seed_note(runs)}")
    curves.set_xlabel("epoch")
    curves.set_ylabel("test accuracy (%)")
    curves.set_title("(b) learning curves (mean over seeds)")
    curves.legend()
    dataset = runs["dataset"].iloc[0] if "dataset" in runs else "unknown"
    figure.suptitle(f"Spike timing: {DATASETS.get(dataset, dataset)}")
    return figure


def main(argv=None):
    args = plotting.figure_arguments(__doc__, argv)
    runs = plotting.read_table(args.data, os.path.join("spike_timing", "runs.csv"))
    epochs = plotting.read_table(args.data, os.path.join("spike_timing", "epochs.csv"))
    if runs is None or epochs is None:
        return plotting.skip(NAME, os.path.join(args.data, "spike_timing", "runs.csv"))
    plotting.save_figure(draw(runs, epochs), args.out, NAME)
    return 0


if __name__ == "__main__":
    sys.exit(main())
