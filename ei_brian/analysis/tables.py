"""The analysis of run folders as tables: ``analysis.csv`` and ``analysis_neurons.csv``.

:func:`analyze_run` reads a run folder's probe spike trains (:mod:`ei_brian.analysis.neo_io`) and
``config.json`` (:func:`~ei_brian.analysis.run_config.read_run_config`), computes the measures
(:mod:`ei_brian.analysis.measures`) and tabulates them with the run's grouping parameters
(:func:`~ei_brian.analysis.run_config.run_parameters`) as a
:class:`RunAnalysis`. :func:`save_run_analysis` writes ``analysis.csv`` (the measures as a tidy
table) and ``analysis_neurons.csv`` (per-neuron rate, CV, Fano factor and distance (b)) into the run
folder, optionally with figures, and changes nothing else; :func:`format_summary` prints one run's
measures and its warnings (:func:`read_run_warnings`).
"""
import csv
import dataclasses
import json
import os

import quantities as pq

from ei_brian import plotting
from ei_brian.analysis.measures import MEASURE_NAMES, Measures, compute_measures
from ei_brian.analysis.neo_io import SNAPSHOTS, ProbeSpikeTrains, load_run_spiketrains
from ei_brian.analysis.run_config import GROUPING_KEYS, read_run_config, run_parameters
from ei_brian.io import (
    PROBE_SPIKES_FILES,
    RESULT_FILE,
    RunFolderError,
    atomic_write_bytes,
    atomic_write_text,
)
from ei_brian.outcome import run_warnings

__all__ = ["GROUPING_KEYS", "MEASURE_NAMES", "ANALYSIS_FILE", "NEURONS_FILE", "PLOT_FILES",
           "RunAnalysis", "read_run_config", "read_run_warnings", "run_parameters", "analyze_run",
           "save_run_analysis", "format_summary"]

ANALYSIS_FILE = "analysis.csv"
NEURONS_FILE = "analysis_neurons.csv"
PLOT_FILES = {"raster": "analysis_raster.png", "rates": "analysis_rates.png",
              "van_rossum": "analysis_van_rossum.png"}


def read_run_warnings(run_dir):
    """The warnings of a run folder's training (:func:`ei_brian.outcome.run_warnings`).

    They are those of ``result.json``; a run without them there (unfinished, or trained before
    runs recorded warnings) gets them computed from its ``metrics.csv``.

    Parameters
    ----------
    run_dir : str or os.PathLike
        The run folder.

    Returns
    -------
    list of dict
        ``{"kind", "epoch", "message"}`` in epoch order; empty where neither file can be read.
    """
    run_dir = os.fspath(run_dir)
    try:
        with open(os.path.join(run_dir, RESULT_FILE), encoding="utf-8") as file:
            result = json.load(file)
        if isinstance(result, dict) and isinstance(result.get("warnings"), list):
            return result["warnings"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        pass
    dt = 1e-3  # the images' step, unless config.json says otherwise
    try:
        number, unit = str(read_run_config(run_dir)[0]["network"]["dt"]).split()  # e.g. "2. ms"
        dt = float(number) * {"ms": 1e-3, "s": 1.0, "us": 1e-6}[unit]
    except (RunFolderError, KeyError, TypeError, ValueError):
        pass
    try:
        with open(os.path.join(run_dir, "metrics.csv"), newline="", encoding="utf-8") as file:
            return run_warnings(csv.DictReader(file), dt)
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


@dataclasses.dataclass
class RunAnalysis:
    """The analysis of one run folder, from :func:`analyze_run`.

    Attributes
    ----------
    run_dir : str
        The run folder.
    run : str
        Its name (base name of the folder).
    parameters : dict
        Grouping parameters (:func:`run_parameters`, with ``n_exc`` and ``n_inh`` from the spike
        files where the configuration lacks them).
    probe : ProbeSpikeTrains
        The spike trains.
    measures : Measures
        The measures.
    table : pandas.DataFrame
        ``analysis.csv``: ``run``, ``snapshot``, ``epoch``, ``population``, ``measure``, ``value``,
        ``time_constant_ms`` and the grouping parameters.
    neuron_table : pandas.DataFrame
        ``analysis_neurons.csv``: per-neuron measures with the same leading and grouping columns.
    notes : list of str
        What was missing or odd (for example an interrupted run without ``spikes_final.npz``).
    warnings : list of dict
        The warnings of the run's training (:func:`read_run_warnings`).
    """

    run_dir: str
    run: str
    parameters: dict
    probe: ProbeSpikeTrains
    measures: Measures
    table: object
    neuron_table: object
    notes: list
    warnings: list = dataclasses.field(default_factory=list)


def _with_columns(frame, leading, parameters):
    frame = frame.copy()
    for position, (name, value) in enumerate(leading.items()):
        frame.insert(position, name, value)
    for name, value in parameters.items():
        if name not in frame.columns:
            frame[name] = value
    return frame


def analyze_run(run_dir, time_constant=10.0 * pq.ms):
    """Compute the measures of one run folder (nothing is written).

    Parameters
    ----------
    run_dir : str or os.PathLike
        A folder written by ``ei-brian train``.
    time_constant : quantities.Quantity
        Time constant of the Van Rossum distance.

    Returns
    -------
    RunAnalysis

    Raises
    ------
    ei_brian.io.RunFolderError
        If the folder or its files cannot be used; the message names the folder or file.
    """
    run_dir = os.fspath(run_dir)
    probe = load_run_spiketrains(run_dir)
    config, note = read_run_config(run_dir)
    notes = [note] if note else []
    for snapshot in probe.missing:
        notes.append(f"{PROBE_SPIKES_FILES[snapshot]} is missing"
                     + (" (training interrupted?)" if snapshot == "final" else "")
                     + f": analysed the {' and '.join(probe.snapshots)} snapshot only")
    parameters = run_parameters(config)
    for name, value in (("n_exc", probe.n_exc), ("n_inh", probe.n_inh)):
        if name not in parameters:
            parameters[name] = value
        elif parameters[name] != value:
            notes.append(f"config.json says {name} = {parameters[name]} but the spike files have "
                         f"{value}; the table keeps the config value")
    measures = compute_measures(probe, time_constant=time_constant)
    run = os.path.basename(os.path.normpath(os.path.abspath(run_dir)))
    tau_ms = float(time_constant.rescale(pq.ms).magnitude)
    table = _with_columns(measures.summary, {"run": run}, {"time_constant_ms": tau_ms, **parameters})
    neuron_table = _with_columns(measures.neurons, {"run": run},
                                 {"time_constant_ms": tau_ms, **parameters})
    return RunAnalysis(run_dir=run_dir, run=run, parameters=parameters, probe=probe, measures=measures,
                       table=table, neuron_table=neuron_table, notes=notes,
                       warnings=read_run_warnings(run_dir))


def save_run_analysis(analysis, plots=False):
    """Write ``analysis.csv``, ``analysis_neurons.csv`` and, optionally, figures into the run folder.

    Each file is written atomically; nothing else in the folder changes.

    Parameters
    ----------
    analysis : RunAnalysis
        From :func:`analyze_run`.
    plots : bool
        Also write ``analysis_raster.png``, ``analysis_rates.png`` and ``analysis_van_rossum.png``.

    Returns
    -------
    list of str
        The paths written.
    """
    written = []
    path = os.path.join(analysis.run_dir, ANALYSIS_FILE)
    atomic_write_text(path, analysis.table.to_csv(index=False))
    written.append(path)
    path = os.path.join(analysis.run_dir, NEURONS_FILE)
    atomic_write_text(path, analysis.neuron_table.to_csv(index=False))
    written.append(path)
    if plots:
        figures = {
            "raster": plotting.probe_raster_figure(analysis.probe, sample=0, title=analysis.run),
            "rates": plotting.rate_histogram_figure(analysis.measures.neurons, title=analysis.run),
            "van_rossum": plotting.van_rossum_histogram_figure(analysis.measures, title=analysis.run),
        }
        for key, figure in figures.items():
            path = os.path.join(analysis.run_dir, PLOT_FILES[key])
            atomic_write_bytes(path, plotting.figure_png_bytes(figure))
            written.append(path)
    return written


def format_summary(analysis):
    """A readable table of one run's measures (rows: measures; columns: snapshot and population),
    after its notes and the warnings of its training."""
    table = analysis.measures.summary
    warnings = [f"warning: {warning['message']}" for warning in analysis.warnings]
    if table.empty:
        return "\n".join([f"{analysis.run}: no measures", *warnings])
    wide = table.pivot_table(index="measure", columns=["snapshot", "population"], values="value",
                             aggfunc="first", dropna=False)
    wide = wide.reindex(index=[m for m in MEASURE_NAMES if m in wide.index])
    wide = wide.reindex(columns=sorted(wide.columns, key=lambda c: (
        SNAPSHOTS.index(c[0]) if c[0] in SNAPSHOTS else len(SNAPSHOTS), c[1])))
    wide.columns = [f"{snapshot} {population}" for snapshot, population in wide.columns]
    wide.index.name = None
    parameters = ", ".join(f"{key}={value}" for key, value in analysis.parameters.items())
    tau_ms = float(analysis.measures.time_constant.rescale(pq.ms).magnitude)
    lines = [f"== {analysis.run} ({parameters}); Van Rossum tau = {tau_ms:g} ms"]
    lines.extend(f"note: {note}" for note in analysis.notes)
    lines.extend(warnings)
    lines.append(wide.to_string(float_format=lambda x: f"{x:.4g}", na_rep="nan"))
    return "\n".join(lines)
