"""Figure 5: the E:I ratio comparison on spike-timing data (SHD, or the SHD-like stand-in),
with the networks' initial and final E rates.

Reads ``DATA/spike_timing/runs.csv`` and ``epochs.csv``; writes ``fig5_spike_timing.png``,
``.pdf`` and ``.caption.md``. The title names the data set the runs used: the Spiking Heidelberg
Digits where their files were found, else the generated SHD-like task (``--dataset shd-like``;
older tables: the random-manifold task). (a) Accuracy per network (each at its tuned cell where it has a grid): mean of the
trained seeds with a 95 % t-interval, seeds as small markers, chance dashed. (b) Measured initial
(open) and final (filled) mean E rate per run, so unequal starts show. (c) Accuracy per epoch, mean
over seeds. Panels (a)-(c) show the LIF runs; where the table has runs of another neuron model
(the adaptive arm, ``neuron_model = "alif"``), (d) sets each network's ALIF runs beside its LIF
runs.

    python figures/fig5_spike_timing.py [--data data/quick] [--out DIR]
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

from ei_brian import plotting  # noqa: E402

NAME = "fig5_spike_timing"
DATASETS = {"shd": "Spiking Heidelberg Digits (SHD)",
            "shd-like": "the SHD-like task (shd-like, the offline stand-in for SHD)",
            "randman": "random manifolds (randman)",
            "fashion-mnist": "Fashion-MNIST"}


def _models(runs):
    """Each row's neuron model (lif where the table has none: runs before the option)."""
    if "neuron_model" not in runs:
        return np.array(["lif"] * len(runs), dtype=object)
    return runs["neuron_model"].fillna("lif").astype(str).to_numpy()


def draw(runs, epochs):
    from matplotlib.lines import Line2D
    runs, column = plotting.prepare_runs(runs)
    models = _models(runs)
    others = sorted(set(models) - {"lif"})
    everything = runs
    runs = plotting.tuned_runs(runs[models == "lif"])
    chance = float(runs["chance"].iloc[0])
    order = plotting.network_order(runs["network"])
    if others:
        figure = plotting.empty_figure(11.0, 8.6)
        grid = figure.subplots(2, 2)
        accuracy, rates, curves, versus = grid.ravel()
    else:
        figure = plotting.empty_figure(12.0, 4.9)
        accuracy, rates, curves = figure.subplots(1, 3, gridspec_kw={"width_ratios": [1.1, 1, 1]})
        versus = None
    counts, totals = [], []
    measure = "val_acc" if epochs is not None and "val_acc" in epochs and \
        epochs["val_acc"].notna().any() else "test_acc"
    for x, network in enumerate(order):
        color = plotting.network_color(network)
        part = runs[runs["network"] == network]
        offsets = np.linspace(0.08, 0.3, len(part)) if len(part) > 1 else np.array([0.19])
        plotting.draw_seeds(accuracy, x + offsets, 100 * part["accuracy"], part["outcome"],
                            color, size=12)
        mean, sd, n, half = plotting.t_interval(100 * part.loc[part["outcome"] == "trained",
                                                               "accuracy"])
        counts.append(n)
        totals.append(len(part))
        if n:
            accuracy.errorbar(x - 0.12, mean, yerr=half if np.isfinite(half) else None, fmt="o",
                              color=color, markersize=6.5, markeredgecolor="white", zorder=5)
        for offset, name, filled in ((-0.14, "rate_exc_initial_hz", False),
                                     (0.14, "rate_exc_final_hz", True)):
            values = part[name].astype(float)
            xs = x + offset + np.linspace(-0.05, 0.05, len(values))
            rates.scatter(xs, values, s=16, marker="o", linewidths=0.9,
                          facecolors=color if filled else "white", edgecolors=color, zorder=4)
        if epochs is not None:
            rows = epochs[epochs["label"].isin(part["label"]) & epochs[measure].notna()]
            curve = rows.groupby("epoch")[measure].mean()
            curves.plot(curve.index, 100 * curve.to_numpy(), color=color, lw=1.6)
    for axis in (accuracy, curves):
        plotting.chance_line(axis, chance, label=False)
    accuracy.set_xticks(range(len(order)), order)
    accuracy.set_xlim(-0.5, len(order) - 0.5)
    accuracy.set_xlabel("network")
    accuracy.set_ylabel(f"{plotting.accuracy_measure(runs)[1].split(' (')[0]} (%)")
    accuracy.set_ylim(bottom=min(100 * chance - 3, 100 * runs["accuracy"].min() - 3))
    accuracy.set_title("(a) accuracy (dashed: chance)")
    handles = [Line2D([], [], color=plotting.network_color(n), lw=1.6, marker="o",
                      markersize=4, label=n) for n in order]
    handles += [Line2D([], [], ls="", marker="o", markersize=6.5, color="0.3",
                       label="(a) mean of trained seeds, 95 % t-interval")]
    shown = set(runs["outcome"]) | (set(everything["outcome"]) if others else set())
    handles += plotting.outcome_handles(outcomes=[o for o in plotting.OUTCOMES
                                                  if o in shown or o == "trained"],
                                        prefix="(a) run: ")
    handles += [Line2D([], [], ls="", marker="o", markersize=5, color="0.3",
                       markerfacecolor="white", label="(b) initial E rate"),
                Line2D([], [], ls="", marker="o", markersize=5, color="0.3",
                       label="(b) final E rate"),
                Line2D([], [], color="0.35", ls="--", lw=0.9,
                       label=f"chance (1/{round(1 / chance)})")]
    model_caption = ""
    if versus is not None:
        model_caption, model_handles = _draw_versus(versus, everything, models, others, order,
                                                    chance)
        handles += model_handles
    figure.legend(handles=handles, loc="outside lower center", ncol=min(6, len(handles)))
    rates.set_yscale("symlog", linthresh=0.1, linscale=0.5)
    top = np.nanmax(runs[["rate_exc_initial_hz", "rate_exc_final_hz"]].to_numpy(float))
    rates.set_ylim(-0.02, max(1.0, 2.5 * top))
    rates.set_xticks(range(len(order)), order)
    rates.set_xlim(-0.5, len(order) - 0.5)
    rates.set_xlabel("network")
    rates.set_ylabel("mean E rate (Hz)")
    rates.set_title("(b) E rate before (open) and after (filled) training")
    curves.set_xlabel("epoch")
    curves.set_ylabel(f"{'validation' if measure == 'val_acc' else 'test'} accuracy (%)")
    curves.set_title("(c) learning curves (mean over seeds)")
    dataset = runs["dataset"].iloc[0] if "dataset" in runs else "unknown"
    n_classes = int(round(1 / chance))
    figure.suptitle(f"Spike timing: {DATASETS.get(dataset, dataset)}, {n_classes} classes")

    initial = runs.groupby("network")["rate_exc_initial_hz"].agg(["min", "max"])
    spread = ", ".join(f"{n} {plotting.format_rate(initial.loc[n, 'min'])}-"
                       f"{plotting.format_rate(initial.loc[n, 'max'])} Hz" for n in order)
    caption = (
        f"**Figure 5.** Spike-timing data: {DATASETS.get(dataset, dataset)}, {n_classes} classes "
        f"(chance {100 * chance:.0f} %, dashed). (a) {plotting.accuracy_measure(runs)[1]} per "
        "network, each at its tuned cell where it has a tuning grid: large markers the mean over "
        f"the trained seeds ({plotting.count_text(counts)} per network, of "
        f"{plotting.count_text(totals)} finished) with 95 % t-intervals (none below two seeds); "
        f"{plotting.OUTCOME_CAPTION}; silent and saturated runs are left out of the means. (b) "
        "Measured mean E rate of every run before (open) and after (filled) training, on an axis "
        "linear up to 0.1 Hz and logarithmic above (0 Hz drawn at 0): initial E rates "
        f"{spread}. (c) {'Validation' if measure == 'val_acc' else 'Test'} accuracy per epoch, "
        f"mean over the seeds.{' Panels (a)-(c): the LIF runs.' if others else ''}"
        f"{model_caption} {plotting.accuracy_caption(column)}")
    return figure, caption


MODEL_MARKERS = {"lif": "o", "alif": "D"}


def _draw_versus(axis, runs, models, others, order, chance):
    """(d): each network's runs of every neuron model side by side: seeds small, the mean of
    the trained seeds large with its 95 % t-interval; returns the caption's sentence and the
    legend's handles."""
    from matplotlib.lines import Line2D
    names = ["lif"] + others
    width = 0.34
    counts = {name: [] for name in names}
    for x, network in enumerate(order):
        color = plotting.network_color(network)
        for k, name in enumerate(names):
            part = runs[(runs["network"] == network) & (models == name)]
            if part.empty:
                counts[name].append(0)
                continue
            center = x + (k - (len(names) - 1) / 2) * width
            marker = MODEL_MARKERS.get(name, "s")
            seeds = center + np.linspace(-0.06, 0.06, len(part)) if len(part) > 1 else [center]
            plotting.draw_seeds(axis, seeds, 100 * part["accuracy"], part["outcome"], color,
                                size=9)
            trained = part.loc[part["outcome"] == "trained", "accuracy"]
            mean, sd, n, half = plotting.t_interval(100 * trained)
            counts[name].append(n)
            if n:
                axis.errorbar(center, mean, yerr=half if np.isfinite(half) else None,
                              fmt=marker, color=color, markersize=7,
                              markerfacecolor="white" if name != "lif" else color,
                              markeredgewidth=1.4, zorder=5)
    plotting.chance_line(axis, chance, label=False)
    axis.set_xticks(range(len(order)), order)
    axis.set_xlim(-0.5, len(order) - 0.5)
    axis.set_xlabel("network")
    axis.set_ylabel(f"{plotting.accuracy_measure(runs)[1].split(' (')[0]} (%)")
    axis.set_ylim(bottom=min(100 * chance - 3, 100 * runs["accuracy"].min() - 3))
    axis.set_title(f"(d) {' vs '.join(names)}: the same networks and seeds")
    handles = [Line2D([], [], ls="", marker=MODEL_MARKERS.get(name, "s"), markersize=6.5,
                      color="0.3", markerfacecolor="white" if name != "lif" else "0.3",
                      label=f"(d) {name} neurons") for name in names]
    sentence = (f" (d) The same networks, seeds and recipe with {', '.join(others)} neurons (open "
                "markers; alif: each spike raises the threshold by 0.2, decaying with 200 ms) "
                "beside the LIF runs (filled): seeds small, the mean of the trained seeds with "
                "its 95 % t-interval; trained runs per network: "
                + "; ".join(f"{name} {plotting.count_text(counts[name])}" for name in names)
                + ".")
    return sentence, handles


def main(argv=None):
    args = plotting.figure_arguments(__doc__, argv)
    runs = plotting.read_table(args.data, os.path.join("spike_timing", "runs.csv"))
    epochs = plotting.read_table(args.data, os.path.join("spike_timing", "epochs.csv"),
                                 finished=False)
    if runs is None:
        return plotting.skip(NAME, os.path.join(args.data, "spike_timing", "runs.csv"))
    figure, caption = draw(runs, epochs)
    plotting.save_figure(figure, args.out, NAME, caption)
    return 0


if __name__ == "__main__":
    sys.exit(main())
