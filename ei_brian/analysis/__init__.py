"""Spike-train analysis of saved runs through Neo and Elephant.

The package has one module per job; every public name is importable from here:

=======================================  ===========================================================
module                                   what it holds
=======================================  ===========================================================
:mod:`ei_brian.analysis.vanrossum`       :func:`van_rossum_distance`, an exact and much faster
                                         equivalent of Elephant's, and its kernel sums
:mod:`ei_brian.analysis.run_config`      a run folder's ``config.json``
                                         (:func:`read_run_config`) and the grouping parameters
                                         it gives the tables (:func:`run_parameters`)
:mod:`ei_brian.analysis.neo_io`          probe spike trains and Brian2 spike monitors as Neo spike
                                         trains (:class:`ProbeSpikeTrains`,
                                         :func:`load_run_spiketrains`,
                                         :func:`spiketrains_from_monitor`); NIX export and reading
:mod:`ei_brian.analysis.measures`        firing rates, silent fraction, CV of ISIs, Fano factor and
                                         Van Rossum distances (:func:`compute_measures`; the
                                         definitions are in that module's docstring)
:mod:`ei_brian.analysis.tables`          one run folder's measures as tables with its grouping
                                         parameters (:func:`analyze_run`), written as
                                         ``analysis.csv`` and ``analysis_neurons.csv``
                                         (:func:`save_run_analysis`)
=======================================  ===========================================================

The command ``ei-brian analyze RUN_DIR ...`` is in :mod:`ei_brian.cli.analyze`. The probe spike
trains that ``ei-brian train`` saves are described in :mod:`ei_brian.io`.
"""
from ei_brian.analysis.measures import Measures, compute_measures
from ei_brian.analysis.neo_io import (
    POPULATIONS,
    SNAPSHOTS,
    ProbeSpikeTrains,
    export_nix,
    load_run_spiketrains,
    read_nix,
    spiketrains_from_monitor,
    spiketrains_from_probe_file,
)
from ei_brian.analysis.tables import (
    RunAnalysis,
    analyze_run,
    format_summary,
    read_run_config,
    run_parameters,
    save_run_analysis,
)
from ei_brian.analysis.vanrossum import van_rossum_distance

__all__ = [
    "POPULATIONS", "SNAPSHOTS", "ProbeSpikeTrains", "Measures", "RunAnalysis",
    "van_rossum_distance", "spiketrains_from_probe_file", "load_run_spiketrains",
    "spiketrains_from_monitor", "export_nix", "read_nix", "compute_measures", "read_run_config",
    "run_parameters", "analyze_run", "save_run_analysis", "format_summary",
]
