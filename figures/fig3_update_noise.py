"""Figure 3: peak test accuracy against the level of weight-update noise, per E:I ratio.

Reads ``DATA/update_noise/runs.csv`` (the update-noise study); writes ``fig3_update_noise.png``
and ``.pdf``. (a) Peak accuracy, mean +/- sd over seeds, against the relative noise level eta
(Gaussian noise of sd eta * |update| on every weight update; symmetric-log axis so that 0 shows).
(b) The same as a share of each seed's noise-free accuracy (retention).

    python figures/fig3_update_noise.py [--data data/quick] [--out DIR]
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from ei_brian import plotting  # noqa: E402
from ei_brian.report import noise_retention  # noqa: E402

NAME = "fig3_update_noise"


def draw(runs):
    runs = noise_retention(runs)
    figure, axes = plotting.study_figure(1, 2, width=4.4, height=3.6)
    accuracy, retention = axes[0]
    for network in plotting.network_order(runs["network"]):
        part = runs[runs["network"] == network]
        for axis, column, scale in ((accuracy, "peak_test_acc", 100), (retention, "retention",
                                                                       100)):
            stats = plotting.mean_sd_n(part, "update_noise", column).sort_values("update_noise")
            axis.errorbar(stats["update_noise"], scale * stats["mean"],
                          yerr=scale * stats["sd"].fillna(0), marker="o",
                          color=plotting.network_color(network), label=network)
    for axis in (accuracy, retention):
        axis.set_xscale("symlog", linthresh=1.0)
        axis.set_xlabel("relative update noise eta (sd = eta |update|)")
    accuracy.set_ylabel("peak test accuracy (%)")
    accuracy.set_title(f"(a) accuracy under update noise, {plotting.seed_note(runs)}")
    retention.set_ylabel("peak accuracy / noise-free peak accuracy (%)")
    retention.axhline(90, color="0.5", lw=0.8, ls=":")
    retention.set_title("(b) share of the noise-free accuracy kept")
    accuracy.legend(title="E:I ratio", loc="lower left")
    return figure


def main(argv=None):
    args = plotting.figure_arguments(__doc__, argv)
    runs = plotting.read_table(args.data, os.path.join("update_noise", "runs.csv"))
    if runs is None:
        return plotting.skip(NAME, os.path.join(args.data, "update_noise", "runs.csv"))
    plotting.save_figure(draw(runs), args.out, NAME)
    return 0


if __name__ == "__main__":
    sys.exit(main())
