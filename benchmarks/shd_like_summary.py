"""The spike data sets' default recipe on the SHD-like task, beside a nearest-centroid baseline.

Reads the tables of ``ei-brian sweep benchmarks/shd_like_defaults.toml --out DIR`` and prints, per
difficulty and network, the test accuracy after the last epoch and the peak over the epochs (mean
+/- sd over the seeds), the seconds an epoch took (training and evaluation), and the
nearest-centroid classifier's test accuracy on the same training subsets (spike counts binned by
10 channels x 50 ms; :func:`ei_brian.datasets.shd_like.nearest_centroid_accuracy`)::

    python benchmarks/shd_like_summary.py benchmarks/results/shd_like_defaults
"""
import argparse
import os
import sys

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from ei_brian.data import load_dataset  # noqa: E402
from ei_brian.datasets.shd_like import nearest_centroid_accuracy  # noqa: E402


def baseline(difficulty, train_samples, seeds):
    """Nearest-centroid test accuracy on each seed's training subset."""
    out = []
    for seed in seeds:
        data = load_dataset("shd-like", train_samples=train_samples, seed=seed, dt=2e-3,
                            n_steps=500, difficulty=difficulty)
        out.append(nearest_centroid_accuracy(data.x_train, data.y_train, data.x_test,
                                             data.y_test))
    return np.array(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tables", help="the sweep's output folder (runs.csv, epochs.csv)")
    args = parser.parse_args(argv)
    runs = pd.read_csv(os.path.join(args.tables, "runs.csv"))
    epochs = pd.read_csv(os.path.join(args.tables, "epochs.csv"))
    runs = runs[runs["status"] == "finished"]
    print("| difficulty | network | seeds | final test accuracy | peak test accuracy | outcomes "
          "| s per epoch | nearest centroid |")
    print("|---|---|---|---|---|---|---|---|")
    cache = {}
    for (difficulty, network), part in runs.groupby(["shd_like_difficulty", "network"],
                                                    sort=True):
        seeds = sorted(part["seed"])
        key = (difficulty, tuple(seeds))
        if key not in cache:
            cache[key] = baseline(difficulty, int(part["train_samples"].iloc[0]), seeds)
        nc = cache[key]
        trained = epochs[epochs["label"].isin(part["label"]) & (epochs["epoch"] > 0)]
        outcomes = ", ".join(f"{n} {kind}" for kind, n in part["outcome"].value_counts().items())
        print(f"| {difficulty:g} | {network} | {len(part)} | "
              f"{100 * part['final_test_acc'].mean():.1f} +/- {100 * part['final_test_acc'].std():.1f} % | "
              f"{100 * part['peak_test_acc'].mean():.1f} +/- {100 * part['peak_test_acc'].std():.1f} % | "
              f"{outcomes} | {trained['seconds'].mean():.1f} | "
              f"{100 * nc.mean():.1f} +/- {100 * nc.std(ddof=1):.1f} % |")


if __name__ == "__main__":
    main()
