"""The state of a sweep's run folders: new, partial, finished, failed or conflict
(:func:`run_state`), and what their files say (``config.json``, ``metrics.csv``, the log).
"""
import csv
import json
import os

from ei_brian.config import NetworkConfig, TrainConfig
from ei_brian.io import LOG_FILE, RESULT_FILE, _config_record, _filled


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


def run_state(run, run_dir):
    """``(status, epochs_done)`` of a run folder: ``new``, ``partial``, ``finished``, ``failed``
    or ``conflict`` (the folder holds a run of another configuration)."""
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
