"""Figure 2: peak test accuracy against the initial firing rate, and learning curves.

Reads ``DATA/initial_rate/runs.csv`` and ``epochs.csv`` (the initial-rate study); writes
``fig2_initial_rate.png`` and ``.pdf``. (a) Each point is one condition (ratio, way of setting
the rate): mean over seeds of the initial E rate (x, log scale) and of the peak accuracy (y),
with standard deviations; the marker says how the rate was set. (b, c) Test accuracy per epoch,
mean over seeds, of the target-rate conditions of 80:20 and 100:0 (epoch 0: before training).

    python figures/fig2_initial_rate.py [--data data/quick] [--out DIR]
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from ei_brian import plotting  # noqa: E402

NAME = "fig2_initial_rate"


def scheme(row):
    init = row.get("init", "scale")
    if init == "scale":
        return f"scale, {row.get('init_distribution', 'half-normal')}"
    return init


MARKERS = {"target-rate": "o", "scale, half-normal": "s", "scale, log-normal": "^",
           "fluctuation": "D"}


def draw(runs, epochs):
    import matplotlib.cm
    import matplotlib.colors
    runs = runs.copy()
    runs["scheme"] = [scheme(row) for row in runs.to_dict("records")]
    figure, axes = plotting.study_figure(1, 3, width=4.2, height=3.6)
    scatter, *curves = axes[0]
    for (network, label), part in runs.groupby(["network", "label"], sort=False):
        x, y = part["rate_exc_initial_hz"].clip(lower=0.05), 100 * part["peak_test_acc"]
        scatter.errorbar(x.mean(), y.mean(), xerr=x.std() if len(x) > 1 else None,
                         yerr=y.std() if len(y) > 1 else None,
                         fmt=MARKERS.get(part["scheme"].iloc[0], "o"),
                         color=plotting.network_color(network), alpha=0.85, markersize=5)
    scatter.set_xscale("log")
    scatter.set_xlabel("initial mean E rate (Hz, log scale)")
    scatter.set_ylabel("peak test accuracy (%)")
    scatter.set_title(f"(a) accuracy vs initial rate, {plotting.seed_note(runs)}")
    from matplotlib.lines import Line2D
    handles = [Line2D([], [], color=plotting.network_color(n), marker="o", ls="", label=n)
               for n in plotting.network_order(runs["network"])]
    handles += [Line2D([], [], color="0.4", marker=m, ls="", label=s) for s, m in MARKERS.items()
                if s in set(runs["scheme"])]
    scatter.legend(handles=handles, loc="lower left", ncol=2)
    targets = runs[runs["init"] == "target-rate"] if "init" in runs else runs.iloc[0:0]
    norm = matplotlib.colors.LogNorm(vmin=max(0.5, targets["rate_exc_initial_hz"].min()
                                              if len(targets) else 1),
                                     vmax=max(2, targets["rate_exc_initial_hz"].max()
                                              if len(targets) else 100))
    cmap = matplotlib.colormaps["viridis"]
    for axis, network, letter in zip(curves, ("80:20", "100:0"), "bc"):
        chosen = targets[targets["network"] == network]
        for label, part in chosen.groupby("label", sort=False):
            rate = part["rate_exc_initial_hz"].mean()
            curve = epochs[epochs["label"] == label].groupby("epoch")["test_acc"].mean()
            axis.plot(curve.index, 100 * curve.to_numpy(), marker="o", markersize=3,
                      color=cmap(norm(max(rate, norm.vmin))), label=f"{rate:.3g} Hz")
        axis.set_xlabel("epoch")
        axis.set_ylabel("test accuracy (%)")
        axis.set_title(f"({letter}) {network}, target-rate init.: learning curves")
        if len(chosen):
            axis.legend(title="initial E rate", loc="lower right")
        else:
            axis.text(0.5, 0.5, "no runs", transform=axis.transAxes, ha="center")
    figure.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap), ax=curves,
                    label="initial mean E rate (Hz)", shrink=0.8)
    return figure


def main(argv=None):
    args = plotting.figure_arguments(__doc__, argv)
    runs = plotting.read_table(args.data, os.path.join("initial_rate", "runs.csv"))
    epochs = plotting.read_table(args.data, os.path.join("initial_rate", "epochs.csv"))
    if runs is None or epochs is None:
        return plotting.skip(NAME, os.path.join(args.data, "initial_rate", "runs.csv"))
    plotting.save_figure(draw(runs, epochs), args.out, NAME)
    return 0


if __name__ == "__main__":
    sys.exit(main())
