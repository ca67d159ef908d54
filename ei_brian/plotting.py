"""Figures: one run's spike-train analysis (raster, rate and Van Rossum histograms), and the
shared parts of the study's figure scripts (``figures/fig*.py``: reading tables, style, colours,
saving PNG and PDF).

Figures are built as :class:`matplotlib.figure.Figure` objects without pyplot, so they render headless
(Agg) whatever backend is configured, and nothing here computes a measure: the functions draw what
:mod:`ei_brian.analysis` computed.
"""
import io
import os

import numpy as np

__all__ = ["POPULATION_COLORS", "probe_raster_figure", "rate_histogram_figure",
           "van_rossum_histogram_figure", "figure_png_bytes", "figure_arguments", "read_table",
           "skip", "use_study_style", "study_figure", "save_figure", "network_order",
           "network_color", "mean_sd_n", "seed_note"]

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


# ---------------------------------------------------------------------------------------------
# the study's figures (figures/fig*.py): shared reading, style, colours and saving

#: the one matplotlib style file of the study's figures
STYLE_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "figures",
                          "ei_brian.mplstyle")
#: colour of the unbounded baseline in every figure
UNBOUNDED_COLOR = "0.25"


def figure_arguments(description, argv=None, default_data=os.path.join("data", "quick")):
    """``--data DIR`` (the tables, default ``data/quick``) and ``--out DIR`` (default
    ``DIR/figures``) of a figure script."""
    import argparse
    parser = argparse.ArgumentParser(description=description.strip().splitlines()[0])
    parser.add_argument("--data", default=default_data,
                        help="folder of the tables (a reproduction's folder; default %(default)s)")
    parser.add_argument("--out", default=None, help="where the PNG and PDF go (default DATA/figures)")
    args = parser.parse_args(argv)
    args.out = args.out or os.path.join(args.data, "figures")
    return args


def read_table(data, relative, finished=True):
    """A table under ``data`` as a DataFrame, finished runs only (if it has a ``status``); None
    if it is missing or holds no such row."""
    import pandas as pd
    path = os.path.join(data, relative)
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError):
        return None
    if finished and "status" in table:
        table = table[table["status"] == "finished"]
    return table if len(table) else None


def skip(name, *missing):
    """Say that a figure is skipped because its data are missing (exit status 0)."""
    print(f"skipped {name}: no data in {', '.join(missing)} (run its study first, e.g. "
          "ei-brian reproduce)")
    return 0


def use_study_style():
    """Apply the study's style (``figures/ei_brian.mplstyle``) to everything drawn after."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.style
    if os.path.exists(STYLE_FILE):
        matplotlib.style.use(STYLE_FILE)


def study_figure(n_rows=1, n_columns=1, width=4.6, height=3.6, **subplot_kw):
    """A figure in the study's style, without pyplot (headless)."""
    from matplotlib.figure import Figure
    use_study_style()
    figure = Figure(figsize=(width * n_columns, height * n_rows), layout="constrained")
    axes = figure.subplots(n_rows, n_columns, squeeze=False, **subplot_kw)
    return figure, axes


def save_figure(figure, out_dir, name):
    """Write ``name.png`` and ``name.pdf`` into ``out_dir`` (atomically); return the paths."""
    from ei_brian.io import atomic_write_bytes
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for kind in ("png", "pdf"):
        buffer = io.BytesIO()
        metadata = {"Software": None} if kind == "png" else {"CreationDate": None,
                                                             "Creator": None, "Producer": None}
        figure.savefig(buffer, format=kind, dpi=150, metadata=metadata)
        path = os.path.join(out_dir, f"{name}.{kind}")
        atomic_write_bytes(path, buffer.getvalue())
        paths.append(path)
    print(f"wrote {paths[0]} and .pdf")
    return paths


def e_share(network):
    """E share of ``"80:20"`` (0.8); NaN for ``"unbounded"``."""
    try:
        exc, inh = (float(part) for part in str(network).split(":"))
        return exc / (exc + inh)
    except ValueError:
        return float("nan")


def network_order(networks):
    """Ratios from most to least excitatory, then the unbounded baseline."""
    names = list(dict.fromkeys(networks))
    ratios = sorted((name for name in names if name != "unbounded"), key=lambda n: -e_share(n))
    return ratios + (["unbounded"] if "unbounded" in names else [])


#: one colour per E:I ratio in every figure (others fall back to a colour map by E share)
NETWORK_COLORS = {"100:0": "#d62728", "95:5": "#ff7f0e", "90:10": "#bcbd22", "80:20": "#1f77b4",
                  "70:30": "#17becf", "50:50": "#2ca02c", "20:80": "#9467bd", "10:90": "#8c564b"}


def network_color(network):
    """One colour per network in every figure; grey for the unbounded baseline."""
    import matplotlib
    if network == "unbounded":
        return UNBOUNDED_COLOR
    if network in NETWORK_COLORS:
        return NETWORK_COLORS[network]
    return matplotlib.colormaps["viridis"](1.0 - e_share(network))


def mean_sd_n(table, by, value):
    """Mean, sd (n - 1) and n of ``value`` per group of ``by``, as a DataFrame."""
    grouped = table.groupby(by, sort=False)[value]
    out = grouped.agg(["mean", "std", "count"]).reset_index()
    return out.rename(columns={"std": "sd", "count": "n"})


def seed_note(table, seed_column="seed"):
    """``"n = 2 seeds"`` (or a range) for a figure's caption."""
    counts = table.groupby("label")[seed_column].nunique() if "label" in table else \
        table[seed_column].nunique()
    low, high = (int(counts.min()), int(counts.max())) if hasattr(counts, "min") else (counts,) * 2
    return f"n = {low} seed{'s' if low != 1 else ''}" if low == high else \
        f"n = {low}-{high} seeds"
