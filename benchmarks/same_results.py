"""Bit for bit: each study arm's settings train to the same numbers here and at another commit.

Speed work must not change what a run produces (the committed reports stay valid). This trains
each arm for two short epochs with ``ei-brian train --threads 1`` in this tree and in a git
worktree of the commit named by ``--baseline`` (or an existing checkout, ``--baseline-tree``),
each side importing its own ``ei_brian``, and compares what the run folders hold: every column of
``metrics.csv`` but the wall time, ``initialization.json``, and every array of ``weights.npz``,
``initial_weights.npz`` and the probe spike trains, bit for bit.

    python benchmarks/same_results.py --baseline d79c9ae [--arms default,sparse]

Arms: the default network (Fashion-MNIST, latency code), target-rate initialization (the
studies' equal starts), noise (weight-update noise, membrane noise and input-spike deletion),
the unbounded baseline, time-constant spread, a sparse network, and spike data (the SHD-like
task, 2 ms steps), and the spike data with adaptive neurons (``--neuron-model alif``, the
spike-timing study's adaptive arm; a baseline from before the option has no such arm); the
baseline and the spike data start at 5 Hz, as in the studies. Exit status 1 if any arm differs.
"""
import argparse
import csv
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
ARRAY_FILES = ("weights.npz", "initial_weights.npz", "spikes_initial.npz", "spikes_final.npz")


def train(tree, arm, out_dir):
    environment = dict(os.environ, PYTHONPATH=tree, OMP_NUM_THREADS="1",
                       OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
                       EI_BRIAN_CACHE=os.environ.get("EI_BRIAN_CACHE",
                                                     os.path.join(ROOT, ".cache", "brian2")))
    command = [sys.executable, "-m", "ei_brian.cli", "train", *COMMON, *ARMS[arm], "--out", out_dir]
    subprocess.run(command, env=environment, check=True, cwd=tree, stdout=subprocess.DEVNULL)


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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="commit to compare with (a temporary worktree)")
    parser.add_argument("--baseline-tree", help="an existing checkout to compare with")
    parser.add_argument("--arms", default=",".join(ARMS), help="comma-separated, from: "
                        + ", ".join(ARMS))
    args = parser.parse_args(argv)
    if bool(args.baseline) == bool(args.baseline_tree):
        parser.error("name one of --baseline COMMIT or --baseline-tree DIR")
    arms = args.arms.split(",")
    unknown = [arm for arm in arms if arm not in ARMS]
    if unknown:
        parser.error(f"unknown arm(s) {unknown}; choose from {', '.join(ARMS)}")
    work = tempfile.mkdtemp(prefix="same_results_")
    baseline_tree = args.baseline_tree
    failed = False
    try:
        if args.baseline:
            baseline_tree = os.path.join(work, "baseline")
            subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", "-q", baseline_tree,
                            args.baseline], check=True)
        for arm in arms:
            runs = {}
            for side, tree in (("baseline", baseline_tree), ("this", ROOT)):
                runs[side] = os.path.join(work, f"{arm}-{side}")
                train(tree, arm, runs[side])
            found = differences(contents(runs["baseline"]), contents(runs["this"]))
            with open(os.path.join(runs["this"], "metrics.csv")) as f:
                last = list(csv.DictReader(f))[-1]
            print(f"{arm:12s} {'same' if not found else 'DIFFERENT: ' + ', '.join(found)}  "
                  f"(test accuracy {float(last['test_acc']):.4f}, E {float(last['rate_exc_hz']):.1f}"
                  f" Hz after epoch {last['epoch']}; {' '.join(ARMS[arm]) or 'defaults'})",
                  flush=True)
            failed |= bool(found)
    finally:
        if args.baseline:
            subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", baseline_tree])
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
