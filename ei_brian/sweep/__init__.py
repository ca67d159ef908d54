"""Sweeps: many training runs at once, on Dask distributed.

A sweep is a TOML file::

    [study]
    name = "ratio"            # results go to data/ratio/ unless --out says otherwise

    [base]                    # any `ei-brian train` option, by its long name (dashes or underscores)
    dataset = "fashion-mnist"
    train_samples = 10000
    epochs = 10

    [grid]                    # every combination of these lists is one run
    ratio = ["100:0", "95:5", "80:20", "50:50"]
    seed = [0, 1, 2]

    [[extra]]                 # more runs beside the grid, each block a product of its own lists
    unbounded = true
    seed = [0, 1, 2]

    [scale.smoke]             # optional scales: `--scale smoke` merges these into the spec
    train_samples = 200       # a single value: the base value, and every block's value
    seed = [0]                # a list: replaces the key's list in every block that varies it

``[scale.NAME.grid]`` overrides keys of ``[grid]`` only (for example fewer ratios in a smoke
test). Each run is an ordinary run folder ``OUT/<label>/seed-<n>/``, where the label is made from
the values that vary across the sweep (``ratio-80-20``, ``unbounded``, ...). A finished run is
skipped and an interrupted one resumes from its checkpoint, so a sweep can be stopped and started
again. Unknown keys and impossible values are refused before anything runs.

The runs go to a :class:`dask.distributed.LocalCluster` (one worker process per core, one thread
each) unless a scheduler address or a client is given; see :func:`slurm_cluster` for a batch
cluster. ``OUT/runs.csv`` (one row a run) and ``OUT/epochs.csv`` (every epoch of every run) are
rewritten atomically as runs finish; the ``warnings`` column of ``runs.csv`` holds the kinds of the
run's warnings (:func:`ei_brian.outcome.run_warnings`) joined by ``;``, empty for none.

The package has one module per job; every name is importable from here:

===============================  ==================================================================
module                           what it holds
===============================  ==================================================================
:mod:`ei_brian.sweep.spec`       the spec: sections, scales and grid expanded into checked runs
                                 (:func:`load_spec`, :class:`SweepSpec`, :class:`SweepRun`,
                                 :class:`SweepError`)
:mod:`ei_brian.sweep.state`      the state of a run folder (:func:`~ei_brian.sweep.state.run_state`)
:mod:`ei_brian.sweep.estimate`   the work a run has left, the measured speed, the runs that fit in
                                 ``--hours`` and the ``--dry-run`` plan
:mod:`ei_brian.sweep.tables`     ``runs.csv`` and ``epochs.csv``
                                 (:func:`collect`, :func:`~ei_brian.sweep.tables.write_tables`)
:mod:`ei_brian.sweep.execution`  running on Dask (:func:`run_sweep`,
                                 :func:`~ei_brian.sweep.execution.run_sweeps`,
                                 :class:`~ei_brian.sweep.execution.SweepFailed`)
:mod:`ei_brian.sweep.slurm`      a SLURM cluster for sweeps (:func:`slurm_cluster`)
===============================  ==================================================================
"""
# every name of the former single module ei_brian/sweep.py stays importable from here (the
# "X as X" form re-exports a name outside __all__)
from ei_brian.sweep.estimate import (
    ASSUMED_SAMPLES_PER_CORE_SECOND as ASSUMED_SAMPLES_PER_CORE_SECOND,
    DATASET_SIZES as DATASET_SIZES,
    EVALUATION_SHARE as EVALUATION_SHARE,
    _describe_plan as _describe_plan,
    _epoch_work as _epoch_work,
    _measured_work as _measured_work,
    _run_cost as _run_cost,
    _samples as _samples,
    _size as _size,
    _table_work as _table_work,
    fit_in_hours as fit_in_hours,
    measured_speed as measured_speed,
    sweeps_speed as sweeps_speed,
)
from ei_brian.sweep.execution import (
    WORKER_DEATHS_ALLOWED as WORKER_DEATHS_ALLOWED,
    SweepFailed as SweepFailed,
    _make_client as _make_client,
    _run_on_dask as _run_on_dask,
    _run_one as _run_one,
    _task_key as _task_key,
    analysis_done as analysis_done,
    run_sweep,
    run_sweeps as run_sweeps,
)
from ei_brian.sweep.slurm import (
    slurm_cluster,
)
from ei_brian.sweep.spec import (
    DEFAULT_ROOT,
    MANAGED_OPTIONS as MANAGED_OPTIONS,
    SweepError,
    SweepRun,
    SweepSpec,
    _apply_scale as _apply_scale,
    _check_keys as _check_keys,
    _format_value as _format_value,
    _label_part as _label_part,
    _normalize as _normalize,
    _option_argv as _option_argv,
    _Parser as _Parser,
    _replace_in_place as _replace_in_place,
    _train_parser as _train_parser,
    load_spec,
)
from ei_brian.sweep.state import (
    _failed as _failed,
    _last_error as _last_error,
    _metrics_rows as _metrics_rows,
    _read_json as _read_json,
    run_state as run_state,
)
from ei_brian.sweep.tables import (
    _TEXT_COLUMNS as _TEXT_COLUMNS,
    CONFIG_COLUMNS as CONFIG_COLUMNS,
    EPOCHS_COLUMNS as EPOCHS_COLUMNS,
    RUNS_COLUMNS_AFTER as RUNS_COLUMNS_AFTER,
    _csv_text as _csv_text,
    _number as _number,
    _typed as _typed,
    collect,
    config_columns as config_columns,
    is_recorded as is_recorded,
    recorded as recorded,
    train_command as train_command,
    warning_kinds as warning_kinds,
    write_tables as write_tables,
)

__all__ = ["SweepError", "SweepSpec", "SweepRun", "load_spec", "run_sweep", "collect",
           "slurm_cluster", "DEFAULT_ROOT"]
