"""Figure: learning curves (test accuracy, E and I firing rates) of the runs under data/runs.

Reads only saved results (``data/runs/*/metrics.csv`` and ``config.json``); writes
``data/figures/learning_curves.png``.

    python figures/learning_curves.py [--runs 'data/runs/*'] [--out data/figures/learning_curves.png]
"""
import argparse
import glob
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def load_runs(pattern):
    runs = []
    for folder in sorted(glob.glob(pattern)):
        metrics, config = os.path.join(folder, "metrics.csv"), os.path.join(folder, "config.json")
        if os.path.exists(metrics) and os.path.exists(config):
            with open(config) as f:
                cfg = json.load(f)
            label = "unbounded" if cfg.get("unbounded") else cfg.get("ratio")
            runs.append((f"{label}, seed {cfg.get('seed')}", pd.read_csv(metrics)))
    return runs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default=os.path.join(ROOT, "data", "runs", "*"))
    parser.add_argument("--out", default=os.path.join(ROOT, "data", "figures", "learning_curves.png"))
    args = parser.parse_args(argv)
    runs = load_runs(args.runs)
    if not runs:
        print(f"error: no run folders with metrics.csv match {args.runs!r}; run a study first "
              "(e.g. python studies/train_80_20.py)", file=sys.stderr)
        return 2
    figure, (accuracy, rates) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for label, metrics in runs:
        line, = accuracy.plot(metrics["epoch"], 100 * metrics["test_acc"], marker="o", label=label)
        rates.plot(metrics["epoch"], metrics["rate_exc_hz"], color=line.get_color(), label=f"{label} E")
        rates.plot(metrics["epoch"], metrics["rate_inh_hz"], color=line.get_color(), linestyle="--",
                   label=f"{label} I")
    accuracy.set(xlabel="epoch", ylabel="test accuracy (%)", title="Fashion-MNIST test accuracy")
    rates.set(xlabel="epoch", ylabel="mean firing rate (Hz)", title="E (solid) and I (dashed) rates")
    for axis in (accuracy, rates):
        axis.grid(alpha=0.3)
    accuracy.legend(fontsize="small")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    figure.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
