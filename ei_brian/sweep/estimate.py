"""Estimates of a sweep's work: the training passes a run has left (:func:`_run_cost`), the
speed measured on the epochs so far (:func:`sweeps_speed`), the runs that fit in a time budget
(:func:`fit_in_hours`) and the plan that ``--dry-run`` prints.
"""
import csv
import glob
import os
import sys

from ei_brian.sweep.state import _metrics_rows, recorded

#: size of each data set (train, test), for estimates of runs that use all of it
DATASET_SIZES = {"fashion-mnist": (60000, 10000), "shd": (8156, 2264), "randman": (10000, 2000)}
#: training passes per second of one core on the default network, assumed by --dry-run when no
#: epoch has been measured (about half what a 2-core machine measured in December 2026)
ASSUMED_SAMPLES_PER_CORE_SECOND = 1000.0


def _samples(run):
    config = run.train_config
    sizes = DATASET_SIZES.get(config.dataset)
    if config.dataset == "randman":
        # local: both data sets name their split TEST_FRACTION
        from ei_brian.datasets.randman import TEST_FRACTION
        total = config.randman_classes * config.randman_samples
        n_test_all = int(round(total * TEST_FRACTION))
        sizes = (total - n_test_all, n_test_all)
    if config.dataset == "shd-like":
        from ei_brian.datasets.shd_like import DEFAULTS, TEST_FRACTION
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
    """Work and seconds of the epochs run so far: from each run's folder, else from the sweep's
    tables (the work of each epoch from the run's own sizes: samples, steps, neurons)."""
    passes, seconds = 0.0, 0.0
    tables = None
    for run in spec.runs:
        n_train, n_test = _samples(run)
        work = _epoch_work(n_train, run.train_config.validation_samples, n_test) * _size(run)
        rows = _metrics_rows(os.path.join(out, run.folder))
        if not rows:
            if tables is None:
                tables = recorded(out)
            if run.folder in tables[0]:
                rows = tables[1].get(run.label, {}).get(str(run.seed), [])
        for row in rows:
            try:
                if int(row["epoch"]) < 1:
                    continue
                passes, seconds = passes + work, seconds + float(row["seconds"])
            except (KeyError, ValueError):
                continue
    return passes, seconds


def measured_speed(spec, out):
    """Training passes per second of one core, from the epochs of this sweep's runs so far."""
    passes, seconds = _measured_work(spec, out)
    return passes / seconds if seconds > 0 else None


def sweeps_speed(sweeps):
    """``(samples per core-second, how it was found)`` for estimates: measured on the epochs of
    these sweeps' runs (their folders, or their tables where the folders are gone), else on the
    committed tables of other scales under the same root (sizes from the tables' columns), else
    :data:`ASSUMED_SAMPLES_PER_CORE_SECOND`."""
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
    """The runs of ``todo`` expected to finish within ``hours`` on ``lanes`` workers, each given
    to the least loaded worker: first the runs already started (``partial``, from their
    checkpoints: finishing them completes studies that later ones wait for), then the longest;
    ``(chosen, left)``."""
    budget = hours * 3600.0
    loads = [0.0] * max(1, int(lanes))
    chosen, left = [], []

    def state(item):
        return states[(item[1], item[2].folder)]

    order = sorted(todo, key=lambda item: (state(item)[0] != "partial",
                                           -_run_cost(item[2], state(item)[1])))
    for item in order:
        cost = _run_cost(item[2], state(item)[1]) / speed
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
