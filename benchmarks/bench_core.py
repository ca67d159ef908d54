"""One study run's throughput on one core: this code beside a git worktree of another commit.

The study is many single-threaded runs side by side (``ei-brian sweep`` gives each run one
thread), so what it costs is the throughput of one run on one core. Each side trains the default
network as ``ei-brian train --threads 1`` does (BLAS limited to one thread, Fashion-MNIST,
``--train-samples 10000 --test-samples 5000``) in a process of its own, importing ``ei_brian``
from its own tree; the sides take turns (A B A B ...), so a slow minute of the machine falls on
both. Reported per side: the median wall time of the training epochs (epoch 1 on: 10,000
training samples and the 5,000-sample evaluation; epoch 0, the evaluation of the initial
weights, and the compilation are left out), the samples per second, the split of an epoch
(the compiled Brian2 runs of training, the evaluation, the gradients, the update, the
encoding), and whether both sides wrote the same ``metrics.csv`` and weights bit for bit.

    python benchmarks/bench_core.py --baseline d79c9ae [--repeats 3] [--epochs 2] [--study]

``--study`` trains as one run of the ratio study at the standard scale does instead (80:20 at its
tuned cell: ``--init target-rate --target-rate 2 --lr 0.005 --lr-schedule cosine
--stop-saturated --validation-samples 2000``; ``--epochs 20`` for the whole run): the networks
of a study fire faster than the default one after a few epochs (E about 40 Hz), which makes the
compiled runs a larger part of the time.

``--baseline`` names a commit (a worktree of it is made in a temporary folder and removed after)
or ``--baseline-tree`` an existing checkout. Both sides share one compiled-network cache
(``$EI_BRIAN_CACHE``, by default this tree's ``.cache/brian2``), so each architecture compiles
once. Run it on a quiet machine: it measures wall time.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
#: parts of an epoch, in the order printed
PARTS = ("brian2_train", "evaluation", "gradients", "update", "encoding", "other")
LABELS = {"brian2_train": "Brian2 runs (training)", "evaluation": "evaluation (all of it)",
          "gradients": "gradients", "update": "update", "encoding": "encoding (training)",
          "other": "other"}


def child(tree, out_dir, train_samples, test_samples, epochs, study=False):
    """Train in this process with ``ei_brian`` imported from ``tree``; print a JSON line."""
    sys.path.insert(0, tree)
    import numpy as np
    from ei_brian import gradients, training
    from ei_brian.config import NetworkConfig, TrainConfig
    assert os.path.dirname(os.path.dirname(os.path.abspath(training.__file__))) == \
        os.path.abspath(tree), "imported ei_brian from the wrong tree"

    spent = {part: 0.0 for part in PARTS}
    state = {"evaluating": 0}

    def timed(owner, name, part):
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                if not (part in ("brian2_train", "encoding") and state["evaluating"]):
                    spent[part] += time.perf_counter() - start
        setattr(owner, name, wrapper)

    original_evaluate = training.Trainer.evaluate

    def evaluate(self, *args, **kwargs):
        state["evaluating"] += 1
        start = time.perf_counter()
        try:
            return original_evaluate(self, *args, **kwargs)
        finally:
            state["evaluating"] -= 1
            spent["evaluation"] += time.perf_counter() - start
    training.Trainer.evaluate = evaluate
    timed(training.CompiledNetwork, "run", "brian2_train")
    timed(gradients.GradientEngine, "__call__", "gradients")
    timed(training, "update_weights", "update")
    timed(training.Trainer, "encode", "encoding")

    marks = {}  # the split so far when each epoch's metrics row is made (its end)
    original_row = training._row

    def row(epoch, *args, **kwargs):
        marks[epoch] = dict(spent)
        return original_row(epoch, *args, **kwargs)
    training._row = row

    from brian2 import Hz
    # a standard ratio-study run's settings (80:20 at its tuned cell)
    settings = dict(init="target-rate", target_rate_exc=2.0 * Hz, learning_rate=0.005,
                    lr_schedule="cosine", stop_saturated=True,
                    validation_samples=2000) if study else {}
    rows = training.train(NetworkConfig(), TrainConfig(train_samples=train_samples,
                                                       test_samples=test_samples, epochs=epochs,
                                                       **settings),
                          out_dir=out_dir, progress=False, threads=1)
    epoch_parts = []
    for epoch in range(1, epochs + 1):
        split = {part: marks[epoch][part] - marks[epoch - 1][part] for part in PARTS}
        seconds = rows[epoch]["seconds"]
        split["other"] = seconds - sum(split[part] for part in PARTS if part != "other")
        epoch_parts.append(split)
    weights = np.load(os.path.join(out_dir, "weights.npz"))
    print(json.dumps({"seconds": [row["seconds"] for row in rows[1:]], "split": epoch_parts,
                      "weights_digest": _digest(weights)}))


def _digest(arrays):
    import hashlib
    digest = hashlib.sha256()
    for key in sorted(arrays.files):
        digest.update(key.encode() + arrays[key].tobytes())
    return digest.hexdigest()[:16]


def run_side(tree, args, work):
    out_dir = tempfile.mkdtemp(prefix="run-", dir=work)
    shutil.rmtree(out_dir)
    environment = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                       MKL_NUM_THREADS="1",
                       EI_BRIAN_CACHE=os.environ.get("EI_BRIAN_CACHE",
                                                     os.path.join(ROOT, ".cache", "brian2")))
    command = [sys.executable, os.path.abspath(__file__), "--child", tree, "--out", out_dir,
               "--train-samples", str(args.train_samples), "--test-samples",
               str(args.test_samples), "--epochs", str(args.epochs)] + (["--study"] if args.study
                                                                         else [])
    result = subprocess.run(command, env=environment, stdout=subprocess.PIPE, text=True,
                            check=True)
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    with open(os.path.join(out_dir, "metrics.csv")) as f:
        # the seconds column is wall time; everything else must match bit for bit
        measured["metrics"] = [",".join(line.split(",")[:-1]) for line in f.read().splitlines()]
    shutil.rmtree(out_dir, ignore_errors=True)
    return measured


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="commit to compare with (a temporary worktree)")
    parser.add_argument("--baseline-tree", help="an existing checkout to compare with")
    parser.add_argument("--repeats", type=int, default=3, help="runs per side (alternating)")
    parser.add_argument("--epochs", type=int, default=2, help="training epochs per run")
    parser.add_argument("--train-samples", type=int, default=10000)
    parser.add_argument("--test-samples", type=int, default=5000)
    parser.add_argument("--study", action="store_true",
                        help="train as a standard ratio-study run does (see the module's text)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.out, args.train_samples, args.test_samples, args.epochs,
              args.study)
        return 0
    if bool(args.baseline) == bool(args.baseline_tree):
        parser.error("name one of --baseline COMMIT or --baseline-tree DIR")
    work = tempfile.mkdtemp(prefix="bench_core_")
    baseline_tree = args.baseline_tree
    try:
        if args.baseline:
            baseline_tree = os.path.join(work, "baseline")
            subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", "-q", baseline_tree,
                            args.baseline], check=True)
        label = args.baseline or baseline_tree
        commit = subprocess.run(["git", "-C", baseline_tree, "rev-parse", "--short", "HEAD"],
                                stdout=subprocess.PIPE, text=True).stdout.strip()
        head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                              stdout=subprocess.PIPE, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               stdout=subprocess.PIPE, text=True).stdout.strip()
        sides = {"baseline": baseline_tree, "this": ROOT}
        names = {"baseline": f"baseline {label} ({commit})",
                 "this": f"this tree ({head}{' + changes' if dirty else ''})"}
        print(f"{args.repeats} runs per side, alternating; each: {args.epochs} epochs of "
              f"{args.train_samples} training samples, {args.test_samples} test samples, "
              + ("a standard ratio-study run's settings" if args.study else "default network")
              + ", 1 thread")
        results = {side: [] for side in sides}
        for repeat in range(args.repeats):
            for side, tree in sides.items():
                # warm the compiled-network cache on the first turn (it may compile)
                measured = run_side(tree, args, work)
                results[side].append(measured)
                print(f"  {side:8s} run {repeat + 1}: epochs "
                      + ", ".join(f"{s:.2f} s" for s in measured["seconds"]), flush=True)
        summary = {}
        for side, runs in results.items():
            epochs = [s for run in runs for s in run["seconds"]]
            splits = [split for run in runs for split in run["split"]]
            median = statistics.median(epochs)
            summary[side] = {"median": median,
                             "split": {p: statistics.median(s[p] for s in splits) for p in PARTS}}
            print(f"\n{names[side]}: median epoch {median:.2f} s over {len(epochs)} epochs "
                  f"(min {min(epochs):.2f}, max {max(epochs):.2f}); "
                  f"{args.train_samples / median:.0f} training samples/s with the evaluation")
            for part in PARTS:
                print(f"    {LABELS[part]:26s} {summary[side]['split'][part]:6.2f} s")
        same_metrics = all(run["metrics"] == results["baseline"][0]["metrics"]
                           for runs in results.values() for run in runs)
        same_weights = len({run["weights_digest"] for runs in results.values()
                            for run in runs}) == 1
        print(f"\nsame metrics.csv (all but the seconds column) on both sides: "
              f"{'yes' if same_metrics else 'NO'}; same final weights bit for bit: "
              f"{'yes' if same_weights else 'NO'}")
        ratio = summary["baseline"]["median"] / summary["this"]["median"]
        print(f"speed-up of this tree over the baseline (median epoch): {ratio:.2f}x")
    finally:
        if args.baseline:
            subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", baseline_tree])
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
