"""Figures: one run's spike-train analysis (raster, rate and Van Rossum histograms), and the
shared parts of the study's figure scripts (``figures/fig*.py``: reading tables, style, colours,
saving PNG and PDF).

Figures are built as :class:`matplotlib.figure.Figure` objects without pyplot, so they render headless
(Agg) whatever backend is configured, and nothing here computes a measure: the functions draw what
:mod:`ei_brian.analysis` computed.
"""
import argparse
import io
import os

import numpy as np

from ei_brian.io import atomic_write_bytes

__all__ = ["POPULATION_COLORS", "probe_raster_figure", "rate_histogram_figure",
           "van_rossum_histogram_figure", "figure_png_bytes", "figure_arguments", "read_table",
           "skip", "use_study_style", "study_figure", "save_figure", "network_order",
           "network_color", "mean_sd_n", "seed_note", "accuracy_measure", "prepare_runs",
           "t_interval", "summarize", "count_text", "outcome_text", "tuning_grid", "tuned_runs",
           "dedupe", "chance_retention", "draw_seeds", "outcome_handles", "OUTCOME_STYLE"]

#: Colour of each population in every figure (Okabe-Ito vermillion and blue: colour-blind safe).
POPULATION_COLORS = {"E": "#D55E00", "I": "#0072B2"}

_SNAPSHOT_ORDER = ("initial", "final")


def _figure(n_rows, n_columns, width_per_column=5.0, height_per_row=3.6, **subplot_kw):
    from matplotlib.figure import Figure  # matplotlib (0.3 s) only when a figure is drawn

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
# the study's figures (figures/fig*.py): shared reading, style, colours, statistics and saving

#: the one matplotlib style file of the study's figures
STYLE_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "figures",
                          "ei_brian.mplstyle")
#: resolution of the study's PNGs
PNG_DPI = 300
#: colour of the unbounded baseline in every figure
UNBOUNDED_COLOR = "0.2"
#: the outcome rule's thresholds (ei_brian/outcome.py), for tables written before the column
SATURATED_HZ = 500.0
SILENT_HZ = 0.1
#: how a run's outcome is drawn in every figure: trained filled circles, silent open downward
#: triangles, saturated crosses
OUTCOMES = ("trained", "silent", "saturated")
OUTCOME_STYLE = {"trained": {"marker": "o", "filled": True},
                 "silent": {"marker": "v", "filled": False},
                 "saturated": {"marker": "X", "filled": True}}
#: how the captions describe the markers
OUTCOME_CAPTION = ("single runs are small markers: filled circles trained, open downward "
                   "triangles silent (initial or final E rate below 0.1 Hz, or never 5 points "
                   "above chance), crosses saturated (E above half of one spike per step, 500 Hz "
                   "at 1 ms and 250 Hz at 2 ms, at two evaluations, stopped early)")


def figure_arguments(description, argv=None, default_data=os.path.join("data", "quick")):
    """``--data DIR`` (the tables, default ``data/quick``) and ``--out DIR`` (default
    ``DIR/figures``) of a figure script."""
    parser = argparse.ArgumentParser(description=description.strip().splitlines()[0])
    parser.add_argument("--data", default=default_data,
                        help="folder of the tables (a reproduction's folder; default %(default)s)")
    parser.add_argument("--out", default=None,
                        help="where the PNG, PDF and caption go (default DATA/figures)")
    args = parser.parse_args(argv)
    args.out = args.out or os.path.join(args.data, "figures")
    return args


def read_table(data, relative, finished=True):
    """A table under ``data`` as a DataFrame, finished runs only (if it has a ``status``); None
    if it is missing or holds no such row."""
    import pandas as pd  # pandas (0.3 s) only when a table is read or built
    path = os.path.join(data, relative)
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError):
        return None
    if finished and "status" in table:
        table = table[table["status"] == "finished"]
    return table.reset_index(drop=True) if len(table) else None


def skip(name, *missing):
    """Say that a figure is skipped because its data are missing (exit status 0)."""
    print(f"skipped {name}: no data in {', '.join(missing)} (run its study first, e.g. "
          "ei-brian reproduce)")
    return 0


def use_study_style():
    """Apply the study's style (``figures/ei_brian.mplstyle``) to everything drawn after."""
    import matplotlib  # matplotlib (0.3 s) only when a figure is drawn
    matplotlib.use("Agg")
    import matplotlib.style
    if os.path.exists(STYLE_FILE):
        matplotlib.style.use(STYLE_FILE)


def study_figure(n_rows=1, n_columns=1, width=4.6, height=3.6, **subplot_kw):
    """A figure in the study's style, without pyplot (headless)."""
    from matplotlib.figure import Figure  # matplotlib (0.3 s) only when a figure is drawn
    use_study_style()
    figure = Figure(figsize=(width * n_columns, height * n_rows), layout="constrained")
    axes = figure.subplots(n_rows, n_columns, squeeze=False, **subplot_kw)
    return figure, axes


def empty_figure(width, height):
    """An empty figure in the study's style (for subfigures and grids)."""
    from matplotlib.figure import Figure  # matplotlib (0.3 s) only when a figure is drawn
    use_study_style()
    return Figure(figsize=(width, height), layout="constrained")


def save_figure(figure, out_dir, name, caption=None):
    """Write ``name.png`` (300 dpi), ``name.pdf`` and, given a caption, ``name.caption.md`` into
    ``out_dir`` (atomically); return the paths."""
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for kind in ("png", "pdf"):
        buffer = io.BytesIO()
        metadata = {"Software": None} if kind == "png" else {"CreationDate": None,
                                                             "Creator": None, "Producer": None}
        figure.savefig(buffer, format=kind, dpi=PNG_DPI, metadata=metadata)
        path = os.path.join(out_dir, f"{name}.{kind}")
        atomic_write_bytes(path, buffer.getvalue())
        paths.append(path)
    if caption is not None:
        path = os.path.join(out_dir, f"{name}.caption.md")
        text = " ".join(caption.split())  # one paragraph
        atomic_write_bytes(path, (text + "\n").encode("utf-8"))
        paths.append(path)
    print(f"wrote {paths[0]}, .pdf" + (" and .caption.md" if caption is not None else ""))
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


#: the data sets' names in titles and captions
DATASET_NAMES = {"fashion-mnist": "Fashion-MNIST", "randman": "random manifolds",
                 "shd": "SHD", "shd-like": "SHD-like"}


def dataset_name(dataset):
    """``"Fashion-MNIST"`` for ``"fashion-mnist"`` (unknown names as they are)."""
    return DATASET_NAMES.get(dataset, dataset)


#: one colour per E:I ratio in every figure: Paul Tol's colour-blind-safe "muted" scheme
#: (others fall back to a colour map by E share); the unbounded baseline is near-black
NETWORK_COLORS = {"100:0": "#882255", "95:5": "#CC6677", "90:10": "#999933", "80:20": "#332288",
                  "70:30": "#88CCEE", "50:50": "#117733", "20:80": "#44AA99", "10:90": "#AA4499"}


def network_color(network):
    """One colour per network in every figure; near-black for the unbounded baseline."""
    import matplotlib  # matplotlib (0.3 s) only when a figure is drawn
    if network == "unbounded":
        return UNBOUNDED_COLOR
    if network in NETWORK_COLORS:
        return NETWORK_COLORS[network]
    return matplotlib.colormaps["cividis"](1.0 - e_share(network))


# -- the runs' measures ---------------------------------------------------------------------------

def accuracy_measure(runs):
    """The accuracy the study reports: ``("val_test_acc", text)`` (the test accuracy at the epoch
    of best validation accuracy), or ``("peak_test_acc", text)`` when the table has no validation
    (the paper's peak over epochs)."""
    if "val_test_acc" in runs and runs["val_test_acc"].notna().any():
        return "val_test_acc", "validation-chosen test accuracy"
    return "peak_test_acc", "peak test accuracy (no validation split)"


def accuracy_caption(column):
    """The caption's sentence on the accuracy measure."""
    if column == "val_test_acc":
        return ("Accuracy is the validation-chosen test accuracy (val_test_acc: the test accuracy "
                "at the epoch of best accuracy on a validation split held out of the training "
                "set).")
    return ("Accuracy is the peak test accuracy over epochs >= 1 (peak_test_acc), the paper's "
            "measure: these tables have no validation split, so no validation-chosen accuracy.")


def _derived_outcome(row, chance):
    if row.get("stopped_early") in (True, "True") or (
            row.get("rate_exc_max_hz", 0) > SATURATED_HZ
            and row.get("rate_exc_final_hz", 0) > SATURATED_HZ):
        return "saturated"
    initial, final = row.get("rate_exc_initial_hz"), row.get("rate_exc_final_hz")
    peak = row.get("peak_test_acc")
    if (initial == initial and initial < SILENT_HZ) or (final == final and final < SILENT_HZ) \
            or (peak == peak and peak <= chance + 0.05):
        return "silent"
    return "trained"


def prepare_runs(runs):
    """A copy of a runs table with the columns every figure uses, whatever the table's age:
    ``accuracy`` (the study's measure, :func:`accuracy_measure`), ``chance`` (1 / n_classes),
    ``outcome`` (the table's, or the rule of ``ei_brian/outcome.py`` from the summary columns
    where the table has none), and ``learning_rate``, ``target_rate``, ``update_noise``,
    ``command`` where missing. Returns ``(table, accuracy_column)``."""
    import pandas as pd  # pandas (0.3 s) only when a table is read or built
    runs = runs.copy()
    column, _ = accuracy_measure(runs)
    runs["accuracy"] = runs[column].astype(float)
    if "n_classes" not in runs:
        runs["n_classes"] = [10 if d == "fashion-mnist" else 20
                             for d in runs.get("dataset", ["fashion-mnist"] * len(runs))]
    runs["chance"] = 1.0 / runs["n_classes"].astype(float)
    for name in ("learning_rate", "target_rate", "update_noise"):
        if name not in runs:
            runs[name] = 0.0 if name == "update_noise" else np.nan
    runs["update_noise"] = runs["update_noise"].fillna(0.0).astype(float)
    if "command" not in runs or runs["command"].isna().all():
        runs["command"] = runs["label"].astype(str) + "/seed-" + runs["seed"].astype(str)
    derived = [_derived_outcome(row, chance) for row, chance in
               zip(runs.to_dict("records"), runs["chance"])]
    if "outcome" in runs:
        given = runs["outcome"].where(runs["outcome"].isin(OUTCOMES))
        runs["outcome"] = given.fillna(pd.Series(derived, index=runs.index))
    else:
        runs["outcome"] = derived
    return runs, column


def t_interval(values, level=0.95):
    """Mean, sd (n - 1), n and the half-width of the ``level`` t-interval of the mean of the
    finite values (NaN half-width below two values)."""
    from scipy import stats  # scipy.stats (0.6 s) only when a test is computed
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    n = values.size
    if n == 0:
        return float("nan"), float("nan"), 0, float("nan")
    mean = float(values.mean())
    if n < 2:
        return mean, float("nan"), 1, float("nan")
    sd = float(values.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * sd / np.sqrt(n))
    return mean, sd, n, half


def seed_slopes(runs, column="accuracy"):
    """H2's slopes (:func:`ei_brian.report._seed_slopes`): per seed, the least-squares slope of
    ``column`` on log10 of the measured initial E rate (``rate_exc_initial_hz``), over the rows
    given; the figures draw what the report tests."""
    from ei_brian.report import _seed_slopes
    return _seed_slopes(runs, column)


def summarize(table, by, value, level=0.95):
    """Mean, sd, n and t-interval half-width (``ci``) of ``value`` per group of ``by``."""
    import pandas as pd  # pandas (0.3 s) only when a table is read or built
    rows = []
    for key, part in table.groupby(by, sort=False, dropna=False):
        mean, sd, n, half = t_interval(part[value], level)
        key = key if isinstance(key, tuple) else (key,)
        names = by if isinstance(by, (list, tuple)) else [by]
        rows.append({**dict(zip(names, key)), "mean": mean, "sd": sd, "n": n, "ci": half})
    return pd.DataFrame(rows)


def mean_sd_n(table, by, value):
    """Mean, sd (n - 1) and n of ``value`` per group of ``by``, as a DataFrame."""
    grouped = table.groupby(by, sort=False)[value]
    out = grouped.agg(["mean", "std", "count"]).reset_index()
    return out.rename(columns={"std": "sd", "count": "n"})


def count_text(counts, unit="seeds"):
    """``"n = 5 seeds"`` or ``"n = 3-6 seeds"`` from counts per point."""
    counts = [int(c) for c in counts]
    if not counts:
        return f"n = 0 {unit}"
    low, high = min(counts), max(counts)
    unit_text = unit[:-1] if unit.endswith("s") and high == 1 else unit
    return f"n = {low} {unit_text}" if low == high else f"n = {low}-{high} {unit}"


def seed_note(table, seed_column="seed"):
    """``"n = 2 seeds"`` (or a range) for a figure's caption."""
    counts = table.groupby("label")[seed_column].nunique() if "label" in table else \
        [table[seed_column].nunique()]
    return count_text(list(counts))


def outcome_text(runs):
    """``"147 trained, 2 silent, 1 saturated"`` (outcomes with no run left out, trained kept)."""
    counts = runs["outcome"].value_counts()
    parts = [f"{int(counts.get(name, 0))} {name}" for name in OUTCOMES
             if name == "trained" or counts.get(name, 0)]
    return ", ".join(parts)


def interval_caption(level=0.95):
    return (f"error bars are {int(100 * level)} % t-intervals of the mean over seeds "
            "(trained runs; none where a point has fewer than two)")


# -- tuning, duplicates, retention ---------------------------------------------------------------

def tuning_grid(runs):
    """Per network and (learning_rate, target_rate) cell: mean validation accuracy over its
    finished runs (all outcomes; the accuracy measure where there is no validation), n, and
    whether it is the network's tuned cell (the highest mean). ``target_rate`` is -1 where
    the init is not target-rate."""
    import pandas as pd  # pandas (0.3 s) only when a table is read or built
    table = runs.copy()
    score = "val_acc" if "val_acc" in table and table["val_acc"].notna().any() else "accuracy"
    table["_score"] = table[score].astype(float).fillna(1.0 / table["n_classes"])
    table["learning_rate"] = table["learning_rate"].astype(float).fillna(-1.0)
    table["target_rate"] = table["target_rate"].astype(float).fillna(-1.0)
    grid = (table.groupby(["network", "learning_rate", "target_rate"])["_score"]
            .agg(["mean", "count"]).reset_index().rename(columns={"count": "n"}))
    best = grid.groupby("network")["mean"].transform("max")
    grid["tuned"] = np.isclose(grid["mean"], best)
    # a tie goes to the first cell in the table's order (lowest learning rate, then rate)
    grid["tuned"] &= ~grid.duplicated(["network", "tuned"]) | ~grid["tuned"]
    grid["score"] = score
    return pd.DataFrame(grid)


def tuned_runs(runs):
    """The runs at each network's tuned cell (:func:`tuning_grid`)."""
    grid = tuning_grid(runs)
    chosen = {row.network: (row.learning_rate, row.target_rate)
              for row in grid[grid["tuned"]].itertuples()}
    cells = list(zip(runs["learning_rate"].astype(float).fillna(-1.0),
                     runs["target_rate"].astype(float).fillna(-1.0)))
    keep = [chosen.get(network) == cell for network, cell in zip(runs["network"], cells)]
    return runs[keep]


def dedupe(table, key="command", extra=()):
    """Rows of a table with one run per ``command`` (and per ``extra`` columns, e.g. snapshot
    and population): a run shared by two studies counts once."""
    if key not in table:
        return table
    return table.drop_duplicates([key, *extra], keep="first")


def chance_retention(runs):
    """Chance-corrected retention of each run: (acc - chance) / (acc0 - chance), acc0 the
    accuracy of the same network and seed at eta 0, chance = 1 / n_classes (``runs`` from
    :func:`prepare_runs`). NaN where that run is missing or did not train (acc0 not above
    chance)."""
    clean = runs[(runs["update_noise"] == 0) & (runs["outcome"] == "trained")]
    clean = clean.drop_duplicates(["network", "seed"]).set_index(["network", "seed"])["accuracy"]
    acc0 = np.array([clean.get((network, seed), np.nan)
                     for network, seed in zip(runs["network"], runs["seed"])], dtype=float)
    return (runs["accuracy"].to_numpy() - runs["chance"].to_numpy()) / \
        (acc0 - runs["chance"].to_numpy())


# -- drawing ---------------------------------------------------------------------------------------

def draw_seeds(axis, x, y, outcomes, color, size=14, alpha=0.75, zorder=3):
    """Single runs as small markers, one style per outcome (:data:`OUTCOME_STYLE`)."""
    x, y, outcomes = np.asarray(x, float), np.asarray(y, float), np.asarray(outcomes)
    for outcome, style in OUTCOME_STYLE.items():
        chosen = outcomes == outcome
        if not chosen.any():
            continue
        if outcome == "saturated":
            axis.scatter(x[chosen], y[chosen], s=size * 2.2, marker=style["marker"], color=color,
                         edgecolors="black", linewidths=0.4, alpha=0.95, zorder=zorder + 0.6)
        elif style["filled"]:
            axis.scatter(x[chosen], y[chosen], s=size, marker=style["marker"], color=color,
                         alpha=alpha, linewidths=0, zorder=zorder)
        else:
            axis.scatter(x[chosen], y[chosen], s=size * 1.3, marker=style["marker"],
                         facecolors="white", edgecolors=color, linewidths=0.9, alpha=0.95,
                         zorder=zorder + 0.5)


def outcome_handles(color="0.3", outcomes=OUTCOMES, prefix="run: "):
    """Legend handles of the outcome markers."""
    from matplotlib.lines import Line2D  # matplotlib (0.3 s) only when a figure is drawn
    handles = []
    for outcome in outcomes:
        style = OUTCOME_STYLE[outcome]
        handles.append(Line2D([], [], ls="", marker=style["marker"],
                              markersize=6 if outcome == "saturated" else 5, color=color,
                              markerfacecolor=color if style["filled"] else "white",
                              markeredgecolor="black" if outcome == "saturated" else color,
                              markeredgewidth=0.4 if outcome == "saturated" else 1.0,
                              label=f"{prefix}{outcome}"))
    return handles


def chance_line(axis, chance, label=True, scale=100.0):
    """Chance (1 / n_classes) as a dashed line."""
    axis.axhline(scale * chance, color="0.35", ls="--", lw=0.9, zorder=1,
                 label=f"chance (1/{round(1 / chance)})" if label else None)


def format_level(value):
    """A tested level as a tick label: 0, 0.3, 1, 10, 100."""
    return f"{value:g}"


def format_rate(value):
    """A rate in Hz for a label: 0.1, 1.1, 11, 105."""
    return f"{value:.0f}" if abs(value) >= 10 else f"{value:.2g}"


def break_floor(values, trained, gap=10.0):
    """Where to break an accuracy axis (points): ``gap`` below the lowest of ``trained`` (the
    values the eye should resolve), or None when no value of ``values`` lies below it. Every
    value is then drawn in the upper part (>= floor) or in the strip below the break."""
    values = np.asarray(values, dtype=float)
    trained = np.asarray(trained, dtype=float)
    trained = trained[np.isfinite(trained)]
    if trained.size == 0:
        return None
    floor = float(trained.min()) - gap
    return floor if (values[np.isfinite(values)] < floor).any() else None


def axis_break(first, second, horizontal=False, marks=True):
    """A broken axis between two axes: ``first`` above ``second`` (a broken y axis), or with
    ``horizontal``, ``first`` left of ``second`` (a broken x axis). The facing spines and ticks
    go; ``marks`` draws the diagonal marks on the remaining outer spine."""
    kwargs = dict(markersize=8, linestyle="none", color="0.3", mec="0.3", mew=1, clip_on=False)
    if horizontal:
        kwargs["marker"] = [(-0.5, -1), (0.5, 1)]
        if marks:
            first.plot([1], [0], transform=first.transAxes, **kwargs)
            second.plot([0], [0], transform=second.transAxes, **kwargs)
        first.spines["right"].set_visible(False)
        second.spines["left"].set_visible(False)
        second.tick_params(which="both", left=False, labelleft=False)
    else:
        kwargs["marker"] = [(-1, -0.5), (1, 0.5)]
        if marks:
            first.plot([0], [0], transform=first.transAxes, **kwargs)
            second.plot([0], [1], transform=second.transAxes, **kwargs)
        first.spines["bottom"].set_visible(False)
        second.spines["top"].set_visible(False)
        first.tick_params(which="both", bottom=False, labelbottom=False)


def split_point(values, trained, relative=1.0, minimum=0.0):
    """Where to break an axis so that the trained runs are resolved: below the lowest trained
    value by ``relative`` times their range (at least ``minimum``); None when no value lies
    below that point (no break needed)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    trained = np.asarray(trained, dtype=float)
    trained = trained[np.isfinite(trained)]
    if trained.size == 0 or values.size == 0:
        return None
    floor = float(trained.min()) - max(relative * float(np.ptp(trained)), minimum)
    return floor if (values < floor).any() else None


def _limits(values, pad_share=0.08, minimum_pad=0.02):
    low, high = float(np.min(values)), float(np.max(values))
    pad = max(pad_share * (high - low), minimum_pad * max(1.0, abs(high)))
    return low - pad, high + pad


def _few_ticks(axis, values):
    """At most two ticks on the narrow part of a broken axis (one where its values are equal)."""
    # matplotlib (0.3 s) only when a figure is drawn
    from matplotlib.ticker import FixedLocator, MaxNLocator
    if len(values) and np.ptp(values) == 0:
        axis.set_major_locator(FixedLocator([float(values[0])]))
    else:
        axis.set_major_locator(MaxNLocator(2))


def broken_axes(parent, spec, x, y, x_split=None, y_split=None):
    """A scatter panel whose x and/or y axis is broken so that every point stays visible at its
    value: a narrow column on the left for ``x < x_split`` and a short row below for
    ``y < y_split`` (each None for no break).

    Returns a dict of axes keyed ``(row, column)``, row "high" or "low" (y), column "low" or
    "high" (x); ``("high", "high")`` is the main axis. Draw every point into each axis: each
    point lies inside the limits of exactly one. Label the x axis on the last row and the y axis
    on the first column."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    finite = np.isfinite(x) & np.isfinite(y)
    x, y = x[finite], y[finite]
    columns = [("low", x < x_split), ("high", x >= x_split)] if x_split is not None else \
        [("high", np.ones(x.size, bool))]
    rows = [("high", y >= y_split), ("low", y < y_split)] if y_split is not None else \
        [("high", np.ones(y.size, bool))]
    grid = spec.subgridspec(len(rows), len(columns), wspace=0.04, hspace=0.06,
                            width_ratios=[1, 5][-len(columns):],
                            height_ratios=[5, 1.2][:len(rows)])
    axes = {}
    for i, (row, in_row) in enumerate(rows):
        for j, (column, in_column) in enumerate(columns):
            share_x = axes.get(("high", column)) if row == "low" else None
            share_y = axes.get((row, "low")) if column == "high" else None
            axis = parent.add_subplot(grid[i, j], sharex=share_x, sharey=share_y)
            axes[(row, column)] = axis
            if in_column.any():
                axis.set_xlim(*_limits(x[in_column]))
            if in_row.any():
                axis.set_ylim(*_limits(y[in_row]))
            _few_ticks(axis.xaxis, x[in_column]) if column == "low" else None
            _few_ticks(axis.yaxis, y[in_row]) if row == "low" else None
    last_row, first_column = rows[-1][0], columns[0][0]
    for row, _ in rows:
        if (row, "low") in axes:
            axis_break(axes[(row, "low")], axes[(row, "high")], horizontal=True,
                       marks=row == last_row)
    for column, _ in columns:
        if ("low", column) in axes:
            axis_break(axes[("high", column)], axes[("low", column)],
                       marks=column == first_column)
    return axes
