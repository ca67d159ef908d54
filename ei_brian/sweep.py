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
"""
import argparse
import copy
import csv
import dataclasses
import hashlib
import io
import itertools
import json
import logging
import math
import os
import shlex
import sys
import time
import tomllib

from brian2 import Hz

from ei_brian.config import ConfigError
from ei_brian.io import atomic_write_text
from ei_brian.outcome import DEFAULT_DT, run_warnings

__all__ = ["SweepError", "SweepSpec", "SweepRun", "load_spec", "run_sweep", "collect",
           "slurm_cluster", "DEFAULT_ROOT"]

#: sweeps write under data/<name> (data/<scale>/<name> for a scale) unless told otherwise
DEFAULT_ROOT = "data"
#: options a sweep sets itself
MANAGED_OPTIONS = {"out": "the sweep chooses each run's folder",
                   "resume": "the sweep resumes interrupted runs itself",
                   "quiet": "runs in a sweep are always quiet",
                   "threads": "the sweep sets each run's threads to fit the workers"}
#: size of each data set (train, test), for estimates of runs that use all of it
DATASET_SIZES = {"fashion-mnist": (60000, 10000), "shd": (8156, 2264), "randman": (10000, 2000)}
#: training passes per second of one core on the default network, assumed by --dry-run when no
#: epoch has been measured (about half what a 2-core machine measured in December 2026)
ASSUMED_SAMPLES_PER_CORE_SECOND = 1000.0
#: retries of a run whose worker died (Dask's allowed failures); the run resumes each time
WORKER_DEATHS_ALLOWED = 3
#: what made each run, written for every run whether the sweep varies it or not
CONFIG_COLUMNS = ("init", "init_distribution", "init_scale_exc", "target_rate", "learning_rate",
                  "lr_schedule", "update_noise", "update_noise_kind", "train_samples",
                  "validation_samples", "test_samples", "n_classes")
RUNS_COLUMNS_AFTER = ("label", "run_dir", "status", "outcome", "stopped_early", "warnings",
                      "epochs_done", "epochs", "peak_test_acc", "peak_epoch", "final_test_acc",
                      "val_acc", "val_epoch", "val_test_acc", "rate_exc_initial_hz",
                      "rate_inh_initial_hz", "rate_exc_final_hz", "rate_inh_final_hz",
                      "rate_exc_max_hz", "wall_seconds", "command", "error")
EPOCHS_COLUMNS = ("epoch", "train_loss", "train_acc", "val_acc", "test_acc", "rate_exc_hz",
                  "rate_inh_hz", "silent_frac", "seconds")


class SweepError(ValueError):
    """A sweep spec cannot be used; the message names the key, the run and what to do."""


# ---------------------------------------------------------------------------------------------
# the spec

class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise SweepError(message)


def _train_parser():
    from ei_brian.options import add_train_arguments
    parser = _Parser(prog="ei-brian train", add_help=False)
    add_train_arguments(parser)
    return parser


@dataclasses.dataclass
class SweepRun:
    """One run of a sweep.

    Attributes
    ----------
    label : str
        Made from the run's varied values; the run folder is ``<label>/seed-<seed>``.
    seed : int
    options : dict
        Every option of the run (``ei-brian train`` destinations), base included.
    varied : dict
        The run's values of the sweep's varied keys (its effective value where the run's block
        leaves a key at the base or default value).
    net_config, train_config : NetworkConfig, TrainConfig
    argv : list of str
        The equivalent ``ei-brian train`` arguments (without ``--out``).
    """
    label: str
    seed: int
    options: dict
    varied: dict
    net_config: object
    train_config: object
    argv: list

    @property
    def folder(self):
        return os.path.join(self.label, f"seed-{self.seed}")


@dataclasses.dataclass
class SweepSpec:
    """A loaded, checked sweep: its name, scale, varied keys and runs."""
    name: str
    scale: str
    varied_keys: list
    runs: list
    source: str = None
    description: str = ""

    def default_out(self):
        parts = [DEFAULT_ROOT] + ([self.scale] if self.scale else []) + [self.name]
        return os.path.join(*parts)


def _normalize(key, where):
    if not isinstance(key, str) or not key:
        raise SweepError(f"{where}: {key!r} is not an option name")
    return key.replace("-", "_")


def _format_value(value):
    return repr(value) if isinstance(value, float) else str(value)


def _label_part(key, value):
    name = key.replace("_", "-")
    if value is True:
        return name
    if value is False:
        return f"no-{name}"
    text = _format_value(value).replace(":", "-").replace("/", "-").replace(" ", "")
    return f"{name}-{text}"


def _option_argv(options, actions, where):
    """``ei-brian train`` arguments for ``options`` ({dest: value})."""
    argv = []
    for dest, value in options.items():
        action = actions[dest]
        flag = max(action.option_strings, key=len)
        if isinstance(action, argparse._StoreTrueAction):
            if not isinstance(value, bool):
                raise SweepError(f"{where}: {dest} is a switch; give true or false, not {value!r}")
            if value:
                argv.append(flag)
            continue
        if isinstance(value, (list, dict)) or isinstance(value, bool):
            raise SweepError(f"{where}: {dest} = {value!r} is not a single value for "
                             f"{flag}" + ("; lists belong in [grid] or [[extra]]"
                                          if isinstance(value, list) else ""))
        argv += [flag, _format_value(value)]
    return argv


def _check_keys(table, where, actions, allow_lists):
    out = {}
    for key, value in table.items():
        dest = _normalize(key, where)
        if dest in MANAGED_OPTIONS:
            raise SweepError(f"{where}: {key!r} cannot be set in a sweep ({MANAGED_OPTIONS[dest]})")
        if dest not in actions:
            known = ", ".join(sorted(name.replace("_", "-") for name in actions
                                     if name not in MANAGED_OPTIONS))
            raise SweepError(f"{where}: unknown option {key!r}; a sweep takes the options of "
                             f"`ei-brian train`: {known}")
        if isinstance(value, list):
            if not allow_lists:
                raise SweepError(f"{where}: {key!r} is a list; lists belong in [grid] or [[extra]]")
            if not value:
                raise SweepError(f"{where}: {key!r} is an empty list; give at least one value")
        if isinstance(value, dict):
            raise SweepError(f"{where}: {key!r} is a table, not a value")
        out[dest] = value
    return out


def _apply_scale(raw, scale, actions):
    scales = raw.get("scale", {})
    if not isinstance(scales, dict):
        raise SweepError("[scale] must hold tables such as [scale.quick]")
    if scale is None:
        scale = raw.get("study", {}).get("default_scale")
        if scale is None:
            return raw, None
    if scale not in scales:
        raise SweepError(f"this sweep has no scale {scale!r}; it has "
                         f"{', '.join(sorted(scales)) or 'none'}")
    table = dict(scales[scale])
    grid_only = table.pop("grid", {})
    where = f"[scale.{scale}]"
    overrides = _check_keys(table, where, actions, allow_lists=True)
    grid_overrides = _check_keys(grid_only, where + ".grid", actions, allow_lists=True)
    out = copy.deepcopy({key: value for key, value in raw.items() if key != "scale"})
    base = out.setdefault("base", {})
    blocks = [out.setdefault("grid", {})] + out.get("extra", [])
    for dest, value in overrides.items():
        in_blocks = [block for block in blocks if any(_normalize(k, where) == dest for k in block)]
        for block in in_blocks:
            _replace_in_place(block, dest, value, where)
        if isinstance(value, list):
            if not in_blocks:
                out["grid"][dest] = value
        else:
            for key in [k for k in base if _normalize(k, where) == dest]:
                del base[key]
            base[dest] = value
    for dest, value in grid_overrides.items():
        _replace_in_place(out["grid"], dest, value, where)
    return out, scale


def _replace_in_place(block, dest, value, where):
    """Set ``dest`` in ``block`` where the key stands (the labels keep their order)."""
    items = list(block.items())
    block.clear()
    placed = False
    for key, old in items:
        if _normalize(key, where) == dest:
            if not placed:
                block[dest] = value
                placed = True
        else:
            block[key] = old
    if not placed:
        block[dest] = value


def load_spec(spec, scale=None):
    """Load and check a sweep: every run's configuration is built (and so checked) here.

    Parameters
    ----------
    spec : str, os.PathLike or dict
        A TOML file, or its content as a dict.
    scale : str, optional
        A scale of the spec (``[scale.NAME]``); default: ``study.default_scale`` if set.

    Returns
    -------
    SweepSpec

    Raises
    ------
    SweepError
        Unknown keys, impossible values (naming the key and the run), duplicate runs.
    """
    from ei_brian.options import configs_from_args
    source = None
    if isinstance(spec, dict):
        raw = copy.deepcopy(spec)
    else:
        source = os.fspath(spec)
        try:
            with open(source, "rb") as f:
                raw = tomllib.load(f)
        except FileNotFoundError:
            raise SweepError(f"sweep spec {source!r} does not exist") from None
        except tomllib.TOMLDecodeError as error:
            raise SweepError(f"sweep spec {source!r} is not valid TOML: {error}") from None
    unknown = sorted(set(raw) - {"study", "base", "grid", "extra", "scale"})
    if unknown:
        raise SweepError(f"unknown section(s) {unknown} in the sweep spec; it has [study], [base], "
                         "[grid], [[extra]] and [scale.NAME]")
    parser = _train_parser()
    actions = {action.dest: action for action in parser._actions if action.option_strings}
    raw, scale = _apply_scale(raw, scale, actions)
    study = raw.get("study", {})
    unknown = sorted(set(study) - {"name", "description", "default_scale"})
    if unknown:
        raise SweepError(f"unknown key(s) {unknown} in [study]; it takes name, description and "
                         "default_scale")
    name = study.get("name") or (os.path.splitext(os.path.basename(source))[0] if source
                                 else "sweep")
    base = _check_keys(raw.get("base", {}), "[base]", actions, allow_lists=False)
    extra = raw.get("extra", [])
    if isinstance(extra, dict):
        extra = [extra]
    blocks = [("[grid]", _check_keys(raw.get("grid", {}), "[grid]", actions, True))]
    blocks += [(f"[[extra]] #{k + 1}", _check_keys(block, f"[[extra]] #{k + 1}", actions, True))
               for k, block in enumerate(extra)]
    # every run: base, then its block's values (one combination of the block's lists)
    combos = []
    for where, block in blocks:
        if not block and where != "[grid]":
            raise SweepError(f"{where} is empty; give it the values of its runs")
        keys = list(block)
        lists = [value if isinstance(value, list) else [value] for value in block.values()]
        for values in itertools.product(*lists):
            combos.append((where, dict(zip(keys, values))))
    order = []
    for _, own in combos:
        order += [key for key in own if key not in order and key != "seed"]
    defaults = {dest: action.default for dest, action in actions.items()}

    def effective(dest, own):
        return own.get(dest, base.get(dest, defaults.get(dest)))

    # every key a block sets is part of the labels (so a run keeps its folder at every scale)
    varied = order
    runs, seen = [], {}
    for where, own in combos:
        options = dict(base, **own)
        seed = options.get("seed", defaults["seed"])
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise SweepError(f"{where}: seed {seed!r} must be a non-negative integer")
        label = "_".join(_label_part(key, own[key]) for key in varied if key in own) or "base"
        run_name = f"{label}/seed-{seed}"
        where_run = f"{where}, run {run_name}"
        argv = _option_argv(options, actions, where_run)
        try:
            args = parser.parse_args(argv)
            net_config, train_config = configs_from_args(args)
        except (SweepError, ConfigError) as error:
            raise SweepError(f"{where_run}: {error}") from None
        identity = json.dumps([net_config.to_dict(), train_config.to_dict()], sort_keys=True)
        if identity in seen.values():
            other = next(key for key, value in seen.items() if value == identity)
            raise SweepError(f"{where_run}: the same configuration as run {other}")
        if run_name in seen:
            raise SweepError(f"{where_run}: two runs of this sweep get the folder {run_name}; "
                             "make the values that differ vary in [grid] or [[extra]]")
        seen[run_name] = identity
        runs.append(SweepRun(label=label, seed=seed, options=options,
                             varied={key: effective(key, own) for key in varied},
                             net_config=net_config, train_config=train_config, argv=argv))
    if not runs:
        raise SweepError("the sweep has no runs: give [grid] or [[extra]] values")
    return SweepSpec(name=name, scale=scale, varied_keys=varied, runs=runs, source=source,
                     description=study.get("description", ""))


# ---------------------------------------------------------------------------------------------
# the state of run folders

def _read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _metrics_rows(run_dir):
    try:
        with open(os.path.join(run_dir, "metrics.csv"), newline="") as f:
            return list(csv.DictReader(f))
    except OSError:
        return []


def run_state(run, run_dir):
    """``(status, epochs_done)`` of a run folder: ``new``, ``partial``, ``finished``, ``failed``
    or ``conflict`` (the folder holds a run of another configuration)."""
    from ei_brian.config import NetworkConfig, TrainConfig
    from ei_brian.io import LOG_FILE, RESULT_FILE, _config_record, _filled
    config = _read_json(os.path.join(run_dir, "config.json"))
    rows = _metrics_rows(run_dir)
    epochs_done = max((int(row["epoch"]) for row in rows), default=-1)
    if config is None:
        status = "new"
    else:
        record = _config_record(run.net_config, run.train_config)
        same = all(_filled(cls, config.get(key)) == record[key]
                   for key, cls in (("network", NetworkConfig), ("training", TrainConfig)))
        if not same:
            return "conflict", epochs_done
        result = _read_json(os.path.join(run_dir, RESULT_FILE))
        status = "finished" if result and result.get("finished") else "partial"
    if status != "finished" and _failed(os.path.join(run_dir, LOG_FILE)):
        status = "failed"
    return status, epochs_done


def _failed(log_path):
    """Whether the latest session in a run's log ended with a failure."""
    try:
        with open(log_path) as f:
            text = f.read()
    except OSError:
        return False
    last_start = max(text.rfind("  run folder: "), 0)
    return "  FAILED: " in text[last_start:]


def _last_error(log_path):
    try:
        with open(log_path) as f:
            lines = [line for line in f.read().splitlines() if "  FAILED: " in line]
    except OSError:
        return ""
    return lines[-1].split("  FAILED: ", 1)[1] if lines else ""


def collect(spec, out):
    """The tidy tables of a sweep from its run folders: one row a run, one row an epoch.

    Returns
    -------
    runs : list of dict
    epochs : list of dict
    """
    from ei_brian.io import LOG_FILE, RESULT_FILE
    from ei_brian.training import summarize
    runs, epochs = [], []
    recorded_runs, recorded_epochs = recorded(out)
    for run in spec.runs:
        run_dir = os.path.join(out, run.folder)
        status, epochs_done = run_state(run, run_dir)
        kept = recorded_runs.get(run.folder)
        if status == "new" and kept is not None and kept.get("command") == train_command(run):
            # finished elsewhere: its folder is gone, its rows are the record (tables written
            # before the warnings column get it from the recorded epochs)
            kept_epochs = recorded_epochs.get(run.label, {}).get(str(run.seed), [])
            if "warnings" not in kept:
                kept = {**kept, "warnings": warning_kinds(kept_epochs,
                                                          float(run.net_config.dt))}
            runs.append(_typed(kept))
            epochs += [_typed(row) for row in kept_epochs]
            continue
        rows = _metrics_rows(run_dir) if status != "conflict" else []
        result = _read_json(os.path.join(run_dir, RESULT_FILE)) or {}
        numbers = [{key: _number(value) for key, value in row.items()} for row in rows]
        dt = float(run.net_config.dt)
        summary = summarize(numbers, run.net_config.n_outputs, dt) if numbers else {}
        finished = status == "finished"
        row = {**{key: run.varied[key] for key in spec.varied_keys}, "seed": run.seed,
               "network": "unbounded" if run.net_config.unbounded else run.net_config.ratio,
               "dataset": run.train_config.dataset, **config_columns(run),
               "label": run.label, "run_dir": run.folder, "status": status,
               "outcome": summary.get("outcome", "") if finished else "",
               "stopped_early": bool(result.get("stopped_early", False)),
               "warnings": warning_kinds(rows, dt),
               "epochs_done": max(epochs_done, 0), "epochs": run.train_config.epochs,
               "peak_test_acc": summary.get("peak_test_acc", math.nan) if rows[1:] else math.nan,
               "peak_epoch": summary.get("peak_epoch") if rows[1:] else None,
               "final_test_acc": summary.get("final_test_acc", math.nan),
               "val_acc": _number(summary.get("val_acc")),
               "val_epoch": summary.get("val_epoch"),
               "val_test_acc": _number(summary.get("val_test_acc")),
               "rate_exc_initial_hz": _number(summary.get("initial_rate_exc_hz")),
               "rate_inh_initial_hz": _number(summary.get("initial_rate_inh_hz")),
               "rate_exc_final_hz": _number(summary.get("final_rate_exc_hz")),
               "rate_inh_final_hz": _number(summary.get("final_rate_inh_hz")),
               "rate_exc_max_hz": _number(summary.get("max_rate_exc_hz")),
               "wall_seconds": result.get("wall_seconds", math.nan),
               "command": train_command(run),
               "error": _last_error(os.path.join(run_dir, LOG_FILE)) if status == "failed" else ""}
        for key in ("peak_epoch", "val_epoch"):
            if row[key] is not None and row[key] == row[key]:
                row[key] = int(row[key])
        runs.append(row)
        for metrics in rows:
            epochs.append({**{key: run.varied[key] for key in spec.varied_keys}, "seed": run.seed,
                           "network": row["network"], "label": run.label,
                           **{key: _number(value) if key != "epoch" else int(value)
                              for key, value in metrics.items()}})
    return runs, epochs


def recorded(out):
    """The finished runs that ``OUT/runs.csv`` records, by run folder, and their ``epochs.csv``
    rows by label and seed: what a later invocation (another machine, a fresh clone holding only
    the committed tables) counts as done without the run folders."""
    try:
        with open(os.path.join(out, "runs.csv"), newline="") as f:
            rows = [row for row in csv.DictReader(f) if row.get("status") == "finished"
                    and row.get("command")]
    except OSError:
        return {}, {}
    runs = {row["run_dir"]: row for row in rows}
    epochs = {}
    try:
        with open(os.path.join(out, "epochs.csv"), newline="") as f:
            for row in csv.DictReader(f):
                epochs.setdefault(row["label"], {}).setdefault(row["seed"], []).append(row)
    except OSError:
        pass
    return runs, epochs


#: text columns of the tables (every other column is a number, or empty)
_TEXT_COLUMNS = {"network", "dataset", "init", "init_distribution", "lr_schedule",
                 "update_noise_kind", "label", "run_dir", "status", "outcome", "warnings",
                 "command", "error", "ratio"}


def warning_kinds(rows, dt=DEFAULT_DT):
    """The ``warnings`` column of a run: the kinds of :func:`ei_brian.outcome.run_warnings` of its
    metrics rows (epoch 0 first; the network's time step ``dt`` in seconds), joined by ``;`` in
    epoch order; ``""`` for none."""
    return ";".join(warning["kind"] for warning in run_warnings(rows, dt))


def _typed(row):
    """A row read back from a table, with its numbers, counts and flags as such."""
    out = {}
    for key, value in row.items():
        if key in _TEXT_COLUMNS or value is None:
            out[key] = value if value is not None else ""
        elif value in ("True", "False"):
            out[key] = value == "True"
        elif value == "":
            out[key] = math.nan
        else:
            try:
                number = float(value)
            except ValueError:
                out[key] = value
                continue
            out[key] = int(number) if number.is_integer() and "." not in value \
                and "e" not in value.lower() else number
    return out


def is_recorded(run, out, recorded_runs):
    """Whether ``run`` has no folder under ``out`` but finished by the record of its tables."""
    row = recorded_runs.get(run.folder)
    return (row is not None and row.get("command") == train_command(run)
            and not os.path.exists(os.path.join(out, run.folder, "config.json")))


def config_columns(run):
    """The :data:`CONFIG_COLUMNS` of a run, from its configuration."""
    config = run.train_config
    return {"init": config.init, "init_distribution": config.init_distribution,
            "init_scale_exc": config.init_scale_exc,
            "target_rate": (float(config.target_rate_exc / Hz) if config.init == "target-rate"
                            else math.nan),
            "learning_rate": config.learning_rate, "lr_schedule": config.lr_schedule,
            "update_noise": config.update_noise, "update_noise_kind": config.update_noise_kind,
            "train_samples": _samples(run)[0], "validation_samples": config.validation_samples,
            "test_samples": _samples(run)[1], "n_classes": run.net_config.n_outputs}


def train_command(run):
    """The ``ei-brian train`` command line that trains ``run`` on its own (without ``--out``)."""
    return shlex.join(["ei-brian", "train", *run.argv])


def _number(value):
    if value is None or value == "":
        return math.nan
    try:
        return float(value)
    except ValueError:
        return math.nan


def _csv_text(rows, columns):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: ("" if isinstance(value, float) and math.isnan(value) else
                               f"{value:.6g}" if isinstance(value, float) else value)
                         for key, value in row.items()})
    return buffer.getvalue()


def write_tables(spec, out):
    """Rewrite ``runs.csv`` and ``epochs.csv`` of a sweep (atomically); return the run rows."""
    runs, epochs = collect(spec, out)
    # the varied keys that the configuration columns do not already hold ("lr": learning_rate)
    head = [key for key in spec.varied_keys
            if key not in CONFIG_COLUMNS and key != "lr"] + ["seed", "network"]
    atomic_write_text(os.path.join(out, "runs.csv"), _csv_text(
        runs, head + ["dataset"] + list(CONFIG_COLUMNS) + list(RUNS_COLUMNS_AFTER)))
    atomic_write_text(os.path.join(out, "epochs.csv"), _csv_text(
        epochs, [*spec.varied_keys, "seed", "network", "label", *EPOCHS_COLUMNS]))
    return runs


# ---------------------------------------------------------------------------------------------
# estimates

def _samples(run):
    config = run.train_config
    sizes = DATASET_SIZES.get(config.dataset)
    if config.dataset == "randman":
        from ei_brian.randman import TEST_FRACTION
        total = config.randman_classes * config.randman_samples
        n_test_all = int(round(total * TEST_FRACTION))
        sizes = (total - n_test_all, n_test_all)
    if config.dataset == "shd-like":
        from ei_brian.shd_like import DEFAULTS, TEST_FRACTION
        per_word = config.shd_like_samples
        n_test_word = min(per_word - 1, max(1, int(round(per_word * TEST_FRACTION))))
        sizes = (DEFAULTS["classes"] * (per_word - n_test_word),
                 DEFAULTS["classes"] * n_test_word)
    n_train = config.train_samples or ((sizes[0] if sizes else 10000)
                                       - config.validation_samples)
    n_test = config.test_samples or (sizes[1] if sizes else 2000)
    return n_train, n_test


#: a forward-only pass (evaluation) costs about this share of a training pass
EVALUATION_SHARE = 1.0 / 3.0


def _epoch_work(n_train, n_validation, n_test):
    """Training passes of one epoch, evaluations counted at :data:`EVALUATION_SHARE`."""
    return n_train + EVALUATION_SHARE * (n_validation + n_test)


def _size(run):
    return max(1.0, run.net_config.n_hidden / 160) * (run.net_config.n_steps / 100)


def _run_cost(run, epochs_done):
    """Training passes left to do (a measure of work; seconds = work / measured speed)."""
    n_train, n_test = _samples(run)
    n_val = run.train_config.validation_samples
    passes = (run.train_config.epochs - max(epochs_done, 0)) * _epoch_work(n_train, n_val, n_test)
    if epochs_done < 0:
        passes += EVALUATION_SHARE * (n_train + n_val + n_test + 2 * run.train_config.n_probe)
        if run.train_config.init == "target-rate":
            passes += EVALUATION_SHARE * 15 * run.train_config.target_rate_samples
    return passes * _size(run)


def _measured_work(spec, out):
    passes, seconds = 0.0, 0.0
    for run in spec.runs:
        n_train, n_test = _samples(run)
        work = _epoch_work(n_train, run.train_config.validation_samples, n_test) * _size(run)
        for row in _metrics_rows(os.path.join(out, run.folder))[1:]:
            passes += work
            seconds += float(row["seconds"])
    return passes, seconds


def measured_speed(spec, out):
    """Training passes per second of one core, from the epochs of this sweep's runs so far."""
    passes, seconds = _measured_work(spec, out)
    return passes / seconds if seconds > 0 else None


# ---------------------------------------------------------------------------------------------
# running

def _run_one(options_argv, run_dir, threads, data_dir=None, analyze=False):
    """In a worker: train one run (resuming it if its folder holds a start) unless it has
    finished, then, with ``analyze``, write its spike-train analysis unless it is there."""
    import threadpoolctl

    from ei_brian.data import DatasetError
    from ei_brian.io import RESULT_FILE, RunFolderError
    from ei_brian.options import configs_from_args
    from ei_brian.training import RunLog, train
    parser = _train_parser()
    args = parser.parse_args(options_argv)
    net_config, train_config = configs_from_args(args)
    result = _read_json(os.path.join(run_dir, RESULT_FILE))
    try:
        with threadpoolctl.threadpool_limits(threads):
            if not (result and result.get("finished")):
                resume = os.path.exists(os.path.join(run_dir, "config.json"))
                train(net_config, train_config, out_dir=run_dir, resume=resume,
                      data_dir=data_dir or args.data_dir, progress=False,
                      argv=["train", *options_argv, "--out", run_dir], threads=threads)
            if analyze and not analysis_done(run_dir):
                from ei_brian.analysis import analyze_run, save_run_analysis
                save_run_analysis(analyze_run(run_dir))
    except (ConfigError, DatasetError, RunFolderError) as error:
        RunLog(run_dir, echo=False).failure(error)  # train() writes the other failures itself
        raise
    except Exception as error:
        if os.path.exists(os.path.join(run_dir, RESULT_FILE)):  # the analysis failed
            RunLog(run_dir, echo=False).failure(error)
        raise
    return _read_json(os.path.join(run_dir, RESULT_FILE))


def analysis_done(run_dir):
    """Whether the run folder holds an analysis newer than its final spike trains."""
    from ei_brian.analysis.tables import ANALYSIS_FILE
    from ei_brian.io import PROBE_SPIKES_FILES
    try:
        return (os.path.getmtime(os.path.join(run_dir, ANALYSIS_FILE)) >=
                os.path.getmtime(os.path.join(run_dir, PROBE_SPIKES_FILES["final"])))
    except OSError:
        return False


def _task_key(spec, run, out):
    digest = hashlib.sha256(f"{os.path.abspath(out)}|{run.folder}".encode()).hexdigest()[:12]
    return f"ei-brian-{run.label}-seed-{run.seed}-{digest}"


def _make_client(workers, scheduler):
    import dask
    from dask.distributed import Client, LocalCluster
    if scheduler:
        return Client(scheduler), None
    # a run is retried on another worker when its worker dies; tasks wait at the scheduler
    # until a worker is free (so "running" means running)
    dask.config.set({"distributed.scheduler.allowed-failures": WORKER_DEATHS_ALLOWED,
                     "distributed.scheduler.worker-saturation": 1.0})
    n_workers = workers or os.cpu_count() or 1
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                           silence_logs=logging.ERROR)
    return Client(cluster), cluster


def sweeps_speed(sweeps):
    """``(samples per core-second, how it was found)`` for estimates: measured on the epochs of
    these sweeps' run folders, else on the committed tables beside them (``epochs.csv`` of any
    scale under the same root), else :data:`ASSUMED_SAMPLES_PER_CORE_SECOND`."""
    passes = seconds = 0.0
    for spec, out in sweeps:
        p, s = _measured_work(spec, out)
        passes, seconds = passes + p, seconds + s
    if seconds > 0:
        return passes / seconds, "measured on these runs' epochs"
    roots = {os.path.dirname(os.path.dirname(os.path.abspath(out))) for _, out in sweeps}
    for root in sorted(roots):
        p, s = _table_work(root)
        passes, seconds = passes + p, seconds + s
    if seconds > 0:
        return passes / seconds, "measured on the recorded epochs of earlier reproductions"
    return ASSUMED_SAMPLES_PER_CORE_SECOND, "assumed: nothing measured yet"


def _table_work(root):
    """Work and seconds of the epochs recorded in ``ROOT/*/*/epochs.csv`` with their
    ``runs.csv`` (sizes from its columns)."""
    import glob
    passes = seconds = 0.0
    for runs_path in glob.glob(os.path.join(root, "*", "*", "runs.csv")):
        try:
            with open(runs_path, newline="") as f:
                sizes = {(row["label"], row["seed"]): row for row in csv.DictReader(f)}
            with open(os.path.join(os.path.dirname(runs_path), "epochs.csv"), newline="") as f:
                rows = list(csv.DictReader(f))
        except (OSError, KeyError):
            continue
        for row in rows:
            run = sizes.get((row.get("label"), row.get("seed")))
            if run is None or row.get("epoch") in (None, "", "0") or "train_samples" not in run:
                continue
            try:
                work = _epoch_work(float(run["train_samples"]),
                                   float(run.get("validation_samples") or 0),
                                   float(run["test_samples"]))
                passes, seconds = passes + work, seconds + float(row["seconds"])
            except ValueError:
                continue
    return passes, seconds


def fit_in_hours(todo, states, hours, lanes, speed):
    """The runs of ``todo`` expected to finish within ``hours`` on ``lanes`` workers, longest
    first, each given to the least loaded worker; ``(chosen, left)``."""
    budget = hours * 3600.0
    loads = [0.0] * max(1, int(lanes))
    chosen, left = [], []
    order = sorted(todo, key=lambda item: -_run_cost(item[2], states[(item[1], item[2].folder)][1]))
    for item in order:
        cost = _run_cost(item[2], states[(item[1], item[2].folder)][1]) / speed
        lane = loads.index(min(loads))
        if loads[lane] + cost <= budget:
            loads[lane] += cost
            chosen.append(item)
        else:
            left.append(item)
    return chosen, left


def _describe_plan(spec, out, states, speed, how, stream=None):
    stream = stream or sys.stdout
    width = max(len(run.folder) for run in spec.runs)
    counts = {}
    for run in spec.runs:
        status, epochs_done = states[run.folder]
        counts[status] = counts.get(status, 0) + 1
        progress = (f"{max(epochs_done, 0)}/{run.train_config.epochs} epochs"
                    if status in ("partial", "failed") else "")
        print(f"  {run.folder:<{width}}  {status:<9} {progress}", file=stream)
    remaining = sum(_run_cost(run, states[run.folder][1]) for run in spec.runs
                    if states[run.folder][0] not in ("finished", "conflict"))
    rate = speed
    summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    print(f"{len(spec.runs)} runs in {out}: {summary}", file=stream)
    hours = remaining / rate / 3600
    print(f"estimated work left: {hours:.2f} core-hours ({hours * 60:.0f} core-minutes) at "
          f"{rate:.0f} samples/s "
          f"per core, {how}", file=stream)


def run_sweep(spec, out=None, scale=None, workers=None, scheduler=None, client=None,
              dry_run=False, progress=True, threads=None, data_dir=None, hours=None):
    """Run every unfinished run of a sweep on Dask; return the runs table as a DataFrame.

    Parameters
    ----------
    spec : str, os.PathLike, dict or SweepSpec
        The sweep (see the module docstring).
    out : str, optional
        Folder of the sweep (default ``data/<name>``, ``data/<scale>/<name>`` with a scale).
    scale : str, optional
        A scale of the spec.
    workers : int, optional
        Workers of the local cluster (default: one per core).
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``) instead of a local cluster.
    client : dask.distributed.Client, optional
        A client to use as it is (e.g. on a ``dask_jobqueue`` cluster, see :func:`slurm_cluster`).
    dry_run : bool
        Print the runs, how many are finished and the work left; run nothing.
    progress : bool
        Show a progress bar over runs (what the sweep does is printed either way).
    threads : int, optional
        Threads of each training (default: cores per local worker, 1 on other clusters).
    data_dir : str, optional
        Folder of the data set files on the workers.
    hours : float, optional
        Start no run expected to finish after this many hours; a later call trains the rest.

    Returns
    -------
    pandas.DataFrame
        ``runs.csv``: one row a run.

    Raises
    ------
    SweepError
        A bad spec, or run folders holding other configurations (before anything runs).
    SweepFailed
        Some runs failed for good (the others ran); ``.failures`` lists them.
    """
    import pandas as pd
    if not isinstance(spec, SweepSpec):
        spec = load_spec(spec, scale=scale)
    out = out or spec.default_out()
    tables = run_sweeps([(spec, out)], workers=workers, scheduler=scheduler, client=client,
                        dry_run=dry_run, progress=progress, threads=threads, data_dir=data_dir,
                        hours=hours)
    return pd.DataFrame(tables[out])


def run_sweeps(sweeps, workers=None, scheduler=None, client=None, dry_run=False, progress=True,
               threads=None, data_dir=None, analyze=False, hours=None):
    """Run several sweeps on one Dask cluster at once (their runs share the workers).

    Parameters
    ----------
    sweeps : list of (SweepSpec, str)
        Each sweep with its folder.
    analyze : bool
        Also write each run's spike-train analysis (``ei-brian analyze``) in its worker.
    hours : float, optional
        Start no run expected to finish after this many hours (:func:`fit_in_hours`); the
        runs left out are trained by a later call. Every finished run is recorded at once.
    workers, scheduler, client, dry_run, progress, threads, data_dir
        As in :func:`run_sweep`.

    Returns
    -------
    dict
        ``{folder: list of dict}``: each sweep's ``runs.csv`` rows.

    Raises
    ------
    SweepError, SweepFailed
        As :func:`run_sweep`; ``SweepFailed`` after every run that could run has run.
    """
    if hours is not None and not hours > 0:
        raise SweepError(f"--hours must be above 0, not {hours:g}")
    states = {}
    for spec, out in sweeps:
        recorded_runs = recorded(out)[0]
        for run in spec.runs:
            states[(out, run.folder)] = (
                ("finished", run.train_config.epochs) if is_recorded(run, out, recorded_runs)
                else run_state(run, os.path.join(out, run.folder)))
        conflicts = [folder for (where, folder), (status, _) in states.items()
                     if where == out and status == "conflict"]
        if conflicts:
            raise SweepError(f"{len(conflicts)} run folder(s) under {out} hold runs of another "
                             f"configuration (was the spec or its scale changed?), e.g. "
                             f"{os.path.join(out, conflicts[0])}; use another --out or remove "
                             "them")
    speed, how = sweeps_speed(sweeps)
    if dry_run:
        for spec, out in sweeps:
            _describe_plan(spec, out, {run.folder: states[(out, run.folder)] for run in spec.runs},
                           speed, how)
        total = sum(_run_cost(run, states[(out, run.folder)][1]) for spec, out in sweeps
                    for run in spec.runs if states[(out, run.folder)][0] != "finished")
        if len(sweeps) > 1:
            print(f"in all: {total / speed / 3600:.1f} core-hours left at {speed:.0f} samples/s "
                  f"per core ({how})")
        return {out: collect(spec, out)[0] for spec, out in sweeps}
    todo = []
    for spec, out in sweeps:
        os.makedirs(out, exist_ok=True)
        write_tables(spec, out)
        runs = [run for run in spec.runs if states[(out, run.folder)][0] != "finished" or
                (analyze and states[(out, run.folder)][1] >= 0
                 and os.path.exists(os.path.join(out, run.folder, "config.json"))
                 and not analysis_done(os.path.join(out, run.folder)))]
        print(f"sweep {spec.name}{f' ({spec.scale})' if spec.scale else ''}: {len(spec.runs)} "
              f"runs, {len(spec.runs) - len(runs)} finished already; results in {out}")
        todo += [(spec, out, run) for run in runs]
    if hours is not None and todo:
        todo, left = fit_in_hours(todo, states, hours, workers or os.cpu_count() or 1, speed)
        if left:
            print(f"--hours {hours:g}: {len(todo)} run(s) expected to finish in time (at "
                  f"{speed:.0f} samples/s per core, {how}); {len(left)} left for a later "
                  "invocation")
    failures = []
    if todo:
        failures = _run_on_dask(todo, workers, scheduler, client, progress, threads, data_dir,
                                analyze, states)
    tables = {out: write_tables(spec, out) for spec, out in sweeps}
    if failures:
        raise SweepFailed(failures)
    return tables


class SweepFailed(RuntimeError):
    """Some runs of a sweep failed for good; the others ran. ``failures``: (run folder, error,
    log path)."""

    def __init__(self, failures):
        self.failures = failures
        lines = [f"{len(failures)} run(s) of the sweep failed:"]
        lines += [f"  {folder}: {error}\n    log: {log}" for folder, error, log in failures]
        super().__init__("\n".join(lines))


def _run_on_dask(todo, workers, scheduler, client, progress, threads, data_dir, analyze, states):
    from tqdm import tqdm

    from ei_brian.io import LOG_FILE
    own_client, cluster = (client, None) if client is not None else _make_client(workers, scheduler)
    try:
        if threads is None:
            n_workers = len(own_client.scheduler_info().get("workers", {})) or 1
            threads = max(1, (os.cpu_count() or 1) // n_workers) if cluster is not None else 1
        print(f"Dask dashboard: {own_client.dashboard_link}")
        futures = {}
        # the longest runs first, so that the sweep does not end waiting for one of them
        ordered = sorted(todo, key=lambda item: -_run_cost(item[2],
                                                           states[(item[1], item[2].folder)][1]))
        for rank, (spec, out, run) in enumerate(ordered):
            run_dir = os.path.abspath(os.path.join(out, run.folder))
            future = own_client.submit(_run_one, run.argv, run_dir, threads, data_dir, analyze,
                                       key=_task_key(spec, run, out), pure=False,
                                       priority=len(ordered) - rank)
            futures[future] = (spec, out, run)
        failures = []
        bar = tqdm(total=len(futures), unit="run", desc="sweep", disable=not progress,
                   file=sys.stderr, mininterval=1.0)
        pending = set(futures)
        while pending:
            finished = [future for future in pending if future.status != "pending"]
            for future in finished:
                pending.discard(future)
                spec, out, run = futures[future]
                if future.status != "finished":
                    error = (future.exception() if future.status == "error"
                             else RuntimeError(f"the run's task was {future.status}"))
                    failures.append((os.path.join(out, run.folder),
                                     f"{type(error).__name__}: {error}".splitlines()[0],
                                     os.path.join(out, run.folder, LOG_FILE)))
                bar.update(1)
            for out, spec in {futures[f][1]: futures[f][0] for f in finished}.items():
                write_tables(spec, out)
            if pending:
                processing = own_client.processing()
                keys = {future.key for future in pending}
                running = sum(min(len([key for key in tasks if key in keys]),
                                  own_client.nthreads().get(worker, 1))
                              for worker, tasks in processing.items())
                bar.set_postfix(done=bar.n - len(failures), running=running, failed=len(failures),
                                refresh=True)
                time.sleep(1.0)
        bar.set_postfix(done=bar.n - len(failures), running=0, failed=len(failures))
        bar.close()
        return failures
    except KeyboardInterrupt:
        print("interrupted: finished runs are kept; run the sweep again to continue the others")
        raise
    finally:
        if client is None:
            own_client.close()
            if cluster is not None:
                cluster.close()


# ---------------------------------------------------------------------------------------------
# batch clusters

def slurm_cluster(cores=8, memory="16GB", walltime="04:00:00", cache_dir=None, **kwargs):
    """A ``dask_jobqueue.SLURMCluster`` set up for sweeps: one worker process per core, one
    thread each, BLAS pinned to one thread, and (optionally) a shared compiled-network cache.

    Parameters
    ----------
    cores : int
        Cores (and worker processes) per batch job.
    memory : str
        Memory per job (each worker needs about 1 GB at the default network size).
    walltime : str
        Time limit per job; an interrupted run resumes from its checkpoint on another worker.
    cache_dir : str, optional
        ``EI_BRIAN_CACHE`` on the nodes (a folder every node sees compiles each architecture
        once for the whole cluster; a node-local one once per node).
    **kwargs
        Passed on (``queue``, ``account``, ``job_extra_directives``, ``python``, ...).

    Returns
    -------
    dask_jobqueue.SLURMCluster
        Scale it with ``cluster.scale(jobs=N)`` and give ``Client(cluster)`` to
        :func:`run_sweep`.
    """
    from dask_jobqueue import SLURMCluster
    prologue = list(kwargs.pop("job_script_prologue", []))
    prologue += ["export OMP_NUM_THREADS=1", "export OPENBLAS_NUM_THREADS=1"]
    if cache_dir:
        prologue.append(f"export EI_BRIAN_CACHE={cache_dir}")
    return SLURMCluster(cores=cores, processes=cores, memory=memory, walltime=walltime,
                        job_script_prologue=prologue, **kwargs)
