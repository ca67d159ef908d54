"""Bit for bit: each study arm's settings train to the same numbers here and at another commit.

Speed work must not change what a run produces (the committed reports stay valid). This trains
each arm for two short epochs with ``ei-brian train --threads 1`` in this tree and in a git
worktree of the commit named by ``--baseline`` (or an existing checkout, ``--baseline-tree``),
each side importing its own ``ei_brian``, and compares what the run folders hold: every column of
``metrics.csv`` but the wall time, ``initialization.json``, and every array of ``weights.npz``,
``initial_weights.npz`` and the probe spike trains, bit for bit.

    python benchmarks/same_results.py --baseline d79c9ae [--arms default,sparse]
    python benchmarks/same_results.py --baseline f130599,bfeb2e0 --record data/standard/same_results.csv

Several baselines (comma-separated) are each compared with this tree, which trains each arm once.
``--record CSV`` appends one row per baseline and arm (this tree's commit, the baseline's, the
arm, ``same``/``different``/``n/a``/``error``) to the file that ``ei-brian reproduce`` reads to show, in its
report, that the commits which trained a reproduction's runs give the same results (this tree's
``ei_brian`` must be committed). An arm that a baseline's command line refuses (an option it
did not have yet) is ``n/a``; a baseline that fails otherwise is ``error`` (exit status 1).

Arms: the default network (Fashion-MNIST, latency code), target-rate initialization (the
studies' equal starts), noise (weight-update noise, membrane noise and input-spike deletion),
the unbounded baseline, time-constant spread, a sparse network, and spike data (the SHD-like
task, 2 ms steps), and the spike data with adaptive neurons (``--neuron-model alif``, the
spike-timing study's adaptive arm; a baseline from before the option has no such arm); the
baseline and the spike data start at 5 Hz, as in the studies. The ``study-*`` arms add the
studies' own recipe (a validation split, Adam at 5e-3 with the cosine schedule, saturated runs
stopped) to the target-rate start, the unbounded baseline, the scaled initial weights, the
update noise, the spike data and the adaptive neurons. Exit status 1 if any arm differs.
"""
import argparse
import csv
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMMON = ["--train-samples", "1000", "--test-samples", "500", "--epochs", "2", "--seed", "1",
          "--threads", "1", "--quiet"]
ARMS = {
    "default": [],
    "target-rate": ["--init", "target-rate", "--target-rate", "5"],
    "noise": ["--update-noise", "0.3", "--membrane-noise", "0.1", "--input-deletion", "0.1"],
    "unbounded": ["--unbounded", "--init", "target-rate", "--target-rate", "5"],
    "tau-spread": ["--tau-spread-exc", "0.5", "--tau-spread-inh", "0.5"],
    "sparse": ["--connectivity", "0.2", "--hidden", "200"],
    "spike-data": ["--dataset", "shd-like", "--shd-like-samples", "30", "--shd-like-difficulty",
                   "0.5", "--batch-size", "64", "--train-samples", "300", "--test-samples", "100",
                   "--init", "target-rate", "--target-rate", "5"],
    "alif": ["--dataset", "shd-like", "--shd-like-samples", "30", "--shd-like-difficulty",
             "0.5", "--batch-size", "64", "--train-samples", "300", "--test-samples", "100",
             "--init", "target-rate", "--target-rate", "5", "--neuron-model", "alif"],
}
#: the studies' own recipe (studies/*.toml): a validation split, the cosine schedule, saturated
#: runs stopped; added to each arm below as a study-<arm> arm
STUDY_RECIPE = ["--lr", "0.005", "--lr-schedule", "cosine", "--stop-saturated"]
ARMS.update({
    "study": ["--init", "target-rate", "--target-rate", "5", "--validation-samples", "200",
              *STUDY_RECIPE],
    "study-unbounded": ["--unbounded", "--init", "target-rate", "--target-rate", "5",
                        "--validation-samples", "200", *STUDY_RECIPE],
    "study-scale-init": ["--init", "scale", "--init-distribution", "log-normal",
                         "--init-scale-exc", "0.4", "--validation-samples", "200", *STUDY_RECIPE],
    "study-update-noise": ["--init", "target-rate", "--target-rate", "5", "--update-noise", "3",
                           "--update-noise-kind", "relative", "--validation-samples", "200",
                           *STUDY_RECIPE],
    "study-spike-data": ARMS["spike-data"] + ["--validation-samples", "60", *STUDY_RECIPE],
    "study-alif": ARMS["alif"] + ["--validation-samples", "60", *STUDY_RECIPE],
})
ARRAY_FILES = ("weights.npz", "initial_weights.npz", "spikes_initial.npz", "spikes_final.npz")


def train(tree, arm, out_dir, check=True):
    environment = dict(os.environ, PYTHONPATH=tree, OMP_NUM_THREADS="1",
                       OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
                       EI_BRIAN_CACHE=os.environ.get("EI_BRIAN_CACHE",
                                                     os.path.join(ROOT, ".cache", "brian2")))
    command = [sys.executable, "-m", "ei_brian.cli", "train", *COMMON, *ARMS[arm], "--out", out_dir]
    done = subprocess.run(command, env=environment, cwd=tree, stdout=subprocess.DEVNULL,
                          stderr=None if check else subprocess.PIPE, text=True, errors="replace")
    if check and done.returncode:
        raise subprocess.CalledProcessError(done.returncode, command)
    if done.returncode == 0:
        return "ok", []
    last = (done.stderr or "").strip().splitlines()[-1:]
    # the command line refused an option that this commit did not have yet: no evidence either
    # way; any other failure (a crash, a kill) is an error
    refused = done.returncode == 2 and any(
        phrase in " ".join(last) for phrase in ("unrecognized arguments", "invalid choice"))
    return ("refused" if refused else "failed"), last


def contents(run):
    """What must be equal: the metrics without the seconds, the initialization, the arrays."""
    with open(os.path.join(run, "metrics.csv")) as f:
        metrics = [{key: value for key, value in row.items() if key != "seconds"}
                   for row in csv.DictReader(f)]
    with open(os.path.join(run, "initialization.json")) as f:
        initialization = json.load(f)
    arrays = {}
    for name in ARRAY_FILES:
        path = os.path.join(run, name)
        if os.path.exists(path):
            with np.load(path) as loaded:
                arrays.update({f"{name}:{key}": loaded[key] for key in loaded.files})
    return metrics, initialization, arrays


def differences(one, other):
    found = []
    if one[0] != other[0]:
        found.append("metrics.csv")
    if one[1] != other[1]:
        found.append("initialization.json")
    for key in sorted(set(one[2]) | set(other[2])):
        a, b = one[2].get(key), other[2].get(key)
        if a is None or b is None or a.shape != b.shape or a.dtype != b.dtype \
                or a.tobytes() != b.tobytes():
            found.append(key)
    return found


def git(*args):
    return subprocess.run(["git", "-C", ROOT, *args], check=True, capture_output=True,
                          text=True).stdout.strip()


RECORD_COLUMNS = ["date", "checked_at", "baseline", "arm", "result", "differs", "settings"]


def append_record(path, rows):
    """Append rows to the record CSV (written whole to a temporary file, then renamed)."""
    old = []
    if os.path.exists(path):
        with open(path, newline="") as f:
            old = list(csv.DictReader(f))
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=RECORD_COLUMNS)
            writer.writeheader()
            writer.writerows({key: row.get(key, "") for key in RECORD_COLUMNS}
                             for row in old + rows)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="commit(s) to compare with, comma-separated (each in "
                        "a temporary worktree)")
    parser.add_argument("--baseline-tree", help="an existing checkout to compare with")
    parser.add_argument("--arms", default=",".join(ARMS), help="comma-separated, from: "
                        + ", ".join(ARMS))
    parser.add_argument("--record", metavar="CSV", help="append the results to this file "
                        "(e.g. data/standard/same_results.csv, shown in that scale's report)")
    args = parser.parse_args(argv)
    if bool(args.baseline) == bool(args.baseline_tree):
        parser.error("name one of --baseline COMMIT[,COMMIT...] or --baseline-tree DIR")
    arms = args.arms.split(",")
    unknown = [arm for arm in arms if arm not in ARMS]
    if unknown:
        parser.error(f"unknown arm(s) {unknown}; choose from {', '.join(ARMS)}")
    baselines = list(dict.fromkeys(b.strip() for b in (args.baseline or "").split(",")
                                   if b.strip()))
    checked_at = None
    if args.record:
        if not args.baseline:
            parser.error("--record needs --baseline COMMIT (a record names the commits compared)")
        if git("status", "--porcelain", "--", "ei_brian"):
            parser.error("--record: this tree's ei_brian/ has uncommitted changes; commit them "
                         "first (a record names the commit it checked)")
        checked_at = git("rev-parse", "HEAD")
    try:
        resolved = {name: git("rev-parse", "--verify", f"{name}^{{commit}}") for name in baselines}
    except subprocess.CalledProcessError:
        parser.error(f"--baseline: not a commit of this repository: {args.baseline}")
    work = tempfile.mkdtemp(prefix="same_results_")
    trees = {}
    failed = False
    records = []
    date = datetime.date.today().isoformat()
    width = max(len(arm) for arm in arms)
    try:
        if args.baseline_tree:
            trees[args.baseline_tree] = args.baseline_tree
        try:
            code = {name: git("rev-parse", f"{resolved[name]}:ei_brian") for name in baselines}
        except subprocess.CalledProcessError:
            parser.error(f"--baseline: a commit without ei_brian/ among {args.baseline}")
        same_code = {}  # baselines with the same ei_brian code train once, as the first
        for name in baselines:
            same_code.setdefault(code[name], []).append(name)
        twins = {names[0]: names[1:] for names in same_code.values()}
        for name in twins:
            trees[name] = os.path.join(work, f"baseline-{resolved[name][:12]}")
            subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", "-q", trees[name],
                            resolved[name]], check=True)
        for arm in arms:
            this = os.path.join(work, f"{arm}-this")
            train(ROOT, arm, this)
            with open(os.path.join(this, "metrics.csv")) as f:
                last = list(csv.DictReader(f))[-1]
            for name, tree in trees.items():
                other = os.path.join(work, f"{arm}-{len(records)}-baseline")
                how, why = train(tree, arm, other, check=False)
                if how == "refused":
                    result, found = "n/a", ["the baseline cannot run this arm: " + " ".join(why)]
                elif how == "failed":
                    result, found = "error", ["the baseline failed: " + " ".join(why)]
                    failed = True
                else:
                    found = differences(contents(other), contents(this))
                    result = "same" if not found else "different"
                    failed |= bool(found)
                    shutil.rmtree(other, ignore_errors=True)
                label = (f"{name[:12]:12s} " if len(trees) > 1 or twins.get(name) else "")
                label += "".join(f"(and {other[:12]}, the same code) "
                                 for other in twins.get(name, []))
                text = {"same": "same", "different": "DIFFERENT: " + ", ".join(found),
                        "n/a": "n/a (" + "; ".join(found) + ")",
                        "error": "ERROR (" + "; ".join(found) + ")"}[result]
                print(f"{label}{arm:{width}s} {text}  (test accuracy "
                      f"{float(last['test_acc']):.4f}, "
                      f"E {float(last['rate_exc_hz']):.1f} Hz after epoch {last['epoch']}; "
                      f"{' '.join(ARMS[arm]) or 'defaults'})", flush=True)
                for each in [name] + twins.get(name, []):
                    records.append({"date": date, "checked_at": checked_at,
                                    "baseline": resolved.get(each, each), "arm": arm,
                                    "result": result, "differs": " ".join(found)[:200],
                                    "settings": " ".join(ARMS[arm]) or "defaults"})
            shutil.rmtree(this, ignore_errors=True)
    finally:
        for name in baselines:
            if name in trees:
                subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", trees[name]])
        shutil.rmtree(work, ignore_errors=True)
        if args.record and records:
            append_record(args.record, records)
            print(f"recorded {len(records)} comparisons in {args.record}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
