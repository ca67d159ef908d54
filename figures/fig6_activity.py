"""Figure 6: rasters and firing-rate distributions of trained networks at each E:I ratio.

Reads ``DATA/tables/activity_spikes.csv`` (probe sample 0 of seed 0 of each network of the ratio
study) and ``DATA/tables/activity_rates.csv`` (every neuron's mean rate over the 20 probe samples,
every seed); writes ``fig6_activity.png``, ``.pdf`` and ``.caption.md``. Top: one raster per
network after training (E neurons vermillion, below; I neurons blue, above). Bottom: distributions
of the neurons' rates after training, E and I per network (box: quartiles; whiskers: 5th-95th
percentile).

    python figures/fig6_activity.py [--data data/quick] [--out DIR]
"""
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from ei_brian import plotting  # noqa: E402

NAME = "fig6_activity"


def common_cell(ratio_runs):
    """The ratio study's most common (learning rate, target rate) cell, whose runs the activity
    tables hold (``ei_brian.reproduce.write_tables``); None without the table."""
    if ratio_runs is None or not {"learning_rate", "target_rate"} <= set(ratio_runs):
        return None
    cells = list(zip(ratio_runs["learning_rate"], ratio_runs["target_rate"]))
    return max(set(cells), key=cells.count) if cells else None


def draw(spikes, rates, cell=None):
    from matplotlib.gridspec import GridSpec
    order = plotting.network_order(spikes["network"])
    n_columns = min(5, max(1, len(order)))
    n_rows = math.ceil(len(order) / n_columns)
    figure, _ = plotting.study_figure(1, 1, width=2.3 * n_columns, height=2.0 * n_rows + 3.2)
    figure.clear()
    grid = GridSpec(n_rows + 1, n_columns, figure=figure, height_ratios=[1.0] * n_rows + [1.5])
    final = spikes[spikes["snapshot"] == "final"]
    # one time axis for every raster: the latest spike of any, to the next 10 ms
    end = 10.0 * math.ceil(float(final["time_ms"].max()) / 10.0) if len(final) else 1.0
    for k, network in enumerate(order):
        axis = figure.add_subplot(grid[k // n_columns, k % n_columns])
        part = final[final["network"] == network]
        for population in ("E", "I"):
            chosen = part[part["population"] == population]
            axis.scatter(chosen["time_ms"], chosen["neuron"], s=1.2, lw=0,
                         color=plotting.POPULATION_COLORS[population])
        n_neurons = int(part[["n_exc", "n_inh"]].sum(axis=1).max()) if len(part) else 0
        axis.set_ylim(-1, max(n_neurons, 1))
        axis.set_xlim(0, max(end, 1.0))
        axis.set_title(f"{network}: {len(part)} spikes", fontsize=8)
        if k % n_columns == 0:
            axis.set_ylabel("neuron")
        if k // n_columns == n_rows - 1:
            axis.set_xlabel("time (ms)")
        axis.grid(False)
    axis = figure.add_subplot(grid[n_rows, :])
    after = rates[rates["snapshot"] == "final"]
    positions, data, colors, ticks, labels = [], [], [], [], []
    for k, network in enumerate(plotting.network_order(after["network"])):
        for offset, population in ((-0.18, "E"), (0.18, "I")):
            values = after[(after["network"] == network) &
                           (after["population"] == population)]["rate_hz"].to_numpy()
            if len(values):
                positions.append(k + offset)
                data.append(values)
                colors.append(plotting.POPULATION_COLORS[population])
        ticks.append(k)
        labels.append(network)
    if data:
        boxes = axis.boxplot(data, positions=positions, widths=0.3, whis=(5, 95), showfliers=False,
                             patch_artist=True)
        for patch, color in zip(boxes["boxes"], colors):
            patch.set(facecolor=color, alpha=0.5, edgecolor=color)
    axis.set_xticks(ticks, labels)
    axis.set_xlabel("network (vermillion: E neurons, blue: I neurons)")
    axis.set_yscale("symlog", linthresh=10.0)  # 100:0 runs near saturation, the rest at a few Hz
    axis.set_ylim(bottom=0)
    axis.set_ylabel("rate after training (Hz, log above 10)")
    axis.set_title(f"rate distributions over neurons, {plotting.seed_note(after)}")
    figure.suptitle("Activity of trained networks (probe sample 0, seed 0)")
    per_network = after.groupby("network")["seed"].nunique()
    neurons = after.groupby(["network", "seed"])["neuron"].nunique()
    where = ("" if cell is None else
             f", all at the study's most common setting (learning rate {cell[0]:g}, initial rate "
             f"{cell[1]:g} Hz): for a network with a tuning grid this need not be its tuned cell, "
             "which Figures 1 and 4 show")
    caption = (
        f"**Figure 6.** Activity after training of each network of the ratio study{where}. Top: "
        "spike raster of every hidden neuron for probe sample 0 of seed 0 (E neurons vermillion, "
        "numbered first; I neurons blue, above them), with the number of spikes in the title, on "
        f"one time axis (0 to {end:g} ms). "
        "Bottom: distribution over neurons of the mean rate after training (averaged over the "
        "probe samples), E and I side by side per network, pooled over "
        f"{plotting.count_text(per_network)} per network ({plotting.count_text(neurons, 'neurons')}"
        " per seed): boxes are quartiles, whiskers the 5th and 95th percentiles; the rate axis "
        "is linear up to 10 Hz and logarithmic above. Rasters and rates come from the runs as "
        "analysed, whatever their outcome.")
    return figure, caption


def main(argv=None):
    args = plotting.figure_arguments(__doc__, argv)
    spikes = plotting.read_table(args.data, os.path.join("tables", "activity_spikes.csv"))
    rates = plotting.read_table(args.data, os.path.join("tables", "activity_rates.csv"))
    if spikes is None or rates is None:
        return plotting.skip(NAME, os.path.join(args.data, "tables", "activity_*.csv"))
    ratio_runs = plotting.read_table(args.data, os.path.join("ratio", "runs.csv"),
                                     finished=False)
    figure, caption = draw(spikes, rates, common_cell(ratio_runs))
    plotting.save_figure(figure, args.out, NAME, caption)
    return 0


if __name__ == "__main__":
    sys.exit(main())
