"""Sweep speed-up: the same small runs one after another, then as a sweep on a local Dask cluster.

Two ways of running them one after another are timed: ``ei-brian train`` commands, one per run
(what a user does without sweeps: each command starts Python, loads the data and generates the
network's code), and a loop of ``train()`` calls in one process (the best case for running one
after another: everything after the first run is warm). Both use the default threads (the
gradient engine may use both cores). As a sweep, the runs go to a ``LocalCluster`` of
``--workers`` single-threaded workers (``ei-brian sweep``'s default on this machine), each training
with one thread. The architecture is compiled before anything is timed; the sweep's time includes
starting the cluster. The script checks that every way gives the same weights.

    python benchmarks/bench_sweep.py [--runs 4] [--train-samples 2000] [--epochs 2] [--workers 2]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from ei_brian.sweep import load_spec, run_sweep  # noqa: E402
from ei_brian.training import Trainer, train  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--train-samples", type=int, default=2000)
    parser.add_argument("--test-samples", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    spec = load_spec({"study": {"name": "bench"},
                      "base": {"train_samples": args.train_samples,
                               "test_samples": args.test_samples, "epochs": args.epochs},
                      "grid": {"seed": list(range(args.runs))}})
    first = spec.runs[0]
    Trainer(first.net_config, first.train_config, verbose=True).close()  # compile, not timed
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        for run in spec.runs:
            subprocess.run([sys.executable, "-m", "ei_brian.cli", "train", *run.argv, "--quiet",
                            "--out", os.path.join(folder, "commands", run.folder)], check=True)
        commands = time.perf_counter() - start
        start = time.perf_counter()
        for run in spec.runs:
            train(run.net_config, run.train_config, out_dir=os.path.join(folder, "loop",
                                                                         run.folder),
                  progress=False)
        loop = time.perf_counter() - start
        start = time.perf_counter()
        run_sweep(spec, out=os.path.join(folder, "sweep"), workers=args.workers, progress=False)
        swept = time.perf_counter() - start
        for run in spec.runs:
            for way in ("commands", "loop"):
                with np.load(os.path.join(folder, way, run.folder, "weights.npz")) as a, \
                        np.load(os.path.join(folder, "sweep", run.folder, "weights.npz")) as b:
                    assert all(np.array_equal(a[name], b[name]) for name in a.files), run.folder
    print(f"{args.runs} runs (80:20, {args.train_samples}/{args.test_samples} samples, "
          f"{args.epochs} epochs) on {os.cpu_count()} cores")
    print(f"one after another, one `ei-brian train` command each: {commands:.1f} s")
    print(f"one after another, train() in one process:           {loop:.1f} s")
    print(f"sweep on {args.workers} workers (cluster start included):      {swept:.1f} s")
    print(f"speed-up of the sweep: {commands / swept:.2f}x over the commands, {loop / swept:.2f}x "
          "over the loop (same weights every way)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
