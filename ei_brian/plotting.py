"""Figures of one run's spike-train analysis: raster, rate histograms, Van Rossum histograms.

Figures are built as :class:`matplotlib.figure.Figure` objects without pyplot, so they render headless
(Agg) whatever backend is configured, and nothing here computes a measure: the functions draw what
:mod:`ei_brian.analysis` computed.
"""
import io

import numpy as np

__all__ = ["POPULATION_COLORS", "probe_raster_figure", "rate_histogram_figure",
           "van_rossum_histogram_figure", "figure_png_bytes"]

#: Colour of each population in every figure.
POPULATION_COLORS = {"E": "tab:red", "I": "tab:blue"}

_SNAPSHOT_ORDER = ("initial", "final")


def _figure(n_rows, n_columns, width_per_column=5.0, height_per_row=3.6, **subplot_kw):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width_per_column * n_columns, height_per_row * n_rows),
                    layout="constrained")
    axes = figure.subplots(n_rows, n_columns, squeeze=False, **subplot_kw)
    return figure, axes


def _snapshots(values):
    present = list(dict.fromkeys(values))
    return [s for s in _SNAPSHOT_ORDER if s in present] + [s for s in present if s not in _SNAPSHOT_ORDER]


def probe_raster_figure(probe, sample=0, title=None):
    """Raster of every hidden neuron for one probe sample, one panel per snapshot side by side.

    Parameters
    ----------
    probe : ei_brian.analysis.ProbeSpikeTrains
        The run's probe spike trains.
    sample : int
        Probe position to draw.
    title : str, optional
        Figure title (for example the run name).

    Returns
    -------
    matplotlib.figure.Figure
    """
    snapshots = list(probe.snapshots)
    figure, axes = _figure(1, len(snapshots), height_per_row=4.6, sharey=True)
    for axis, snapshot in zip(axes[0], snapshots):
        info = probe.snapshot_info[snapshot]
        for population in ("E", "I"):
            neurons = probe.neurons(population)
            if len(neurons) == 0:
                continue
            times, rows = [], []
            for neuron in neurons:
                train = probe.train(snapshot, sample, neuron)
                times.append(train.rescale("ms").magnitude)
                rows.append(np.full(train.size, neuron))
            times = np.concatenate(times)
            rows = np.concatenate(rows)
            axis.scatter(times, rows, marker="|", s=12, linewidths=0.8,
                         color=POPULATION_COLORS[population],
                         label=f"{population} ({len(neurons)} neurons, {times.size} spikes)")
        if probe.n_inh and probe.n_exc:
            axis.axhline(probe.n_exc - 0.5, color="0.6", linewidth=0.6)
        axis.set_xlim(0, info["t_stop"] * 1e3)
        axis.set_ylim(-0.5, probe.n_neurons - 0.5)
        axis.set_xlabel("time from sample onset (ms)")
        label = int(info["sample_labels"][sample])
        axis.set_title(f"{snapshot} (epoch {info['epoch']}): probe sample {sample}, class {label}")
        axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize="small",
                    frameon=False)  # below the panel, where it hides no spike
    axes[0][0].set_ylabel("hidden neuron (E below, I above)")
    if title:
        figure.suptitle(title)
    return figure


def _histograms(axis, data_by_population, bins, xlabel, ylabel, title):
    drawn = False
    for population, values in data_by_population.items():
        values = np.asarray(values, dtype=float)
        values = values[np.isfinite(values)]
        if values.size == 0:
            continue
        axis.hist(values, bins=bins, weights=np.full(values.size, 1.0 / values.size),
                  histtype="stepfilled", alpha=0.35, color=POPULATION_COLORS[population],
                  edgecolor=POPULATION_COLORS[population], linewidth=1.2,
                  label=f"{population} (n = {values.size}, mean {values.mean():.3g})")
        drawn = True
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.set_title(title)
    if drawn:
        axis.legend(fontsize="small")
    else:
        axis.text(0.5, 0.5, "no data", transform=axis.transAxes, ha="center", va="center")


def _shared_bins(arrays, n_bins=30):
    values = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays] or [np.empty(0)])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return n_bins
    low, high = float(values.min()), float(values.max())
    if high <= low:
        high = low + 1.0
    return np.linspace(low, high, n_bins + 1)


def rate_histogram_figure(neuron_table, title=None):
    """Histograms of per-neuron firing rates, E against I, one panel per snapshot.

    Parameters
    ----------
    neuron_table : pandas.DataFrame
        Per-neuron measures (:attr:`ei_brian.analysis.Measures.neurons`), with columns ``snapshot``,
        ``population`` and ``rate_hz``.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    snapshots = _snapshots(neuron_table["snapshot"])
    figure, axes = _figure(1, max(1, len(snapshots)), sharex=True)
    bins = _shared_bins([neuron_table["rate_hz"].to_numpy()])
    for axis, snapshot in zip(axes[0], snapshots):
        rows = neuron_table[neuron_table["snapshot"] == snapshot]
        data = {population: rows.loc[rows["population"] == population, "rate_hz"].to_numpy()
                for population in ("E", "I")}
        epoch = rows["epoch"].iloc[0] if len(rows) else "?"
        _histograms(axis, data, bins, "firing rate, averaged over probe samples (Hz)",
                    "fraction of neurons", f"{snapshot} (epoch {epoch}): per-neuron rates")
    if title:
        figure.suptitle(title)
    return figure


def van_rossum_histogram_figure(measures, title=None):
    """Histograms of Van Rossum distances, E against I, one column per snapshot.

    Top row: distances between the neurons of a population for the same probe sample, every pair
    and sample (measure (a)). Bottom row: each neuron's mean distance between its trains for
    different probe samples (measure (b)).

    Parameters
    ----------
    measures : ei_brian.analysis.Measures
        From :func:`ei_brian.analysis.compute_measures`.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    neurons = measures.neurons
    snapshots = _snapshots([key[0] for key in measures.within_population_distances]
                           + list(neurons["snapshot"]))
    tau_ms = float(measures.time_constant.rescale("ms").magnitude)
    figure, axes = _figure(2, max(1, len(snapshots)))
    within_bins = _shared_bins(list(measures.within_population_distances.values()))
    between_bins = _shared_bins([neurons["van_rossum_between_samples"].to_numpy()])
    for column, snapshot in enumerate(snapshots):
        within = {population: measures.within_population_distances.get((snapshot, population), [])
                  for population in ("E", "I")}
        _histograms(axes[0][column], within, within_bins, "Van Rossum distance", "fraction of pairs",
                    f"{snapshot}: between neurons, same sample")
        rows = neurons[neurons["snapshot"] == snapshot]
        between = {population: rows.loc[rows["population"] == population,
                                        "van_rossum_between_samples"].to_numpy()
                   for population in ("E", "I")}
        _histograms(axes[1][column], between, between_bins, "mean Van Rossum distance",
                    "fraction of neurons", f"{snapshot}: per neuron, between samples")
    figure.suptitle((f"{title}: " if title else "") + f"Van Rossum distances, tau = {tau_ms:g} ms "
                    "(dimensionless, Elephant normalisation: one spike vs none = 1)")
    return figure


def figure_png_bytes(figure, dpi=120):
    """Render a figure to PNG bytes (Agg), for an atomic write."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
