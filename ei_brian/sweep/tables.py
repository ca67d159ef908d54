"""The tables of a sweep: ``runs.csv`` (one row a run) and ``epochs.csv`` (every epoch of every
run), collected from the run folders (:func:`collect`) or from the tables recorded before
(:func:`ei_brian.sweep.state.recorded`), and rewritten atomically (:func:`write_tables`).
"""
import csv
import io
import math
import os
import shlex

from brian2 import Hz

from ei_brian.io import LOG_FILE, RESULT_FILE, atomic_write_text
from ei_brian.outcome import DEFAULT_DT, run_warnings
from ei_brian.sweep.estimate import _samples
from ei_brian.sweep.state import _last_error, _metrics_rows, _read_json, recorded, run_state
from ei_brian.training import summarize

#: what made each run, written for every run whether the sweep varies it or not
CONFIG_COLUMNS = ("init", "init_distribution", "init_scale_exc", "target_rate", "learning_rate",
                  "lr_schedule", "update_noise", "update_noise_kind", "train_samples",
                  "validation_samples", "test_samples", "n_classes")
RUNS_COLUMNS_AFTER = ("label", "run_dir", "status", "outcome", "stopped_early", "warnings",
                      "epochs_done", "epochs", "peak_test_acc", "peak_epoch", "final_test_acc",
                      "val_acc", "val_epoch", "val_test_acc", "rate_exc_initial_hz",
                      "rate_inh_initial_hz", "rate_exc_final_hz", "rate_inh_final_hz",
                      "rate_exc_max_hz", "wall_seconds", "trained_at", "trained_on", "command",
                      "error")
EPOCHS_COLUMNS = ("epoch", "train_loss", "train_acc", "val_acc", "test_acc", "rate_exc_hz",
                  "rate_inh_hz", "silent_frac", "seconds")


def collect(spec, out):
    """The tidy tables of a sweep from its run folders: one row a run, one row an epoch.

    Returns
    -------
    runs : list of dict
    epochs : list of dict
    """
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
               "trained_at": result.get("git_commit", "") if finished else "",
               "trained_on": result.get("trained_on", "") if finished else "",
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


#: text columns of the tables (every other column is a number, or empty)
_TEXT_COLUMNS = {"network", "dataset", "init", "init_distribution", "lr_schedule",
                 "update_noise_kind", "label", "run_dir", "status", "outcome", "warnings",
                 "command", "error", "ratio", "trained_at", "trained_on"}


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
