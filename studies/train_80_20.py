"""Study: train the default 80:20 network on Fashion-MNIST, one run per seed.

Quick scale by default (10,000/2,000 samples, 10 epochs); ``--full`` for the paper's scale
(60,000/10,000 samples, 30 epochs). Runs go to ``data/runs/<name>``; a finished run is skipped and
an interrupted one resumes from its checkpoint.

    python studies/train_80_20.py [--full] [--seeds 0 1 2] [--ratio 80:20]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from ei_brian.config import NetworkConfig, TrainConfig  # noqa: E402
from ei_brian.training import FULL_SCALE, default_run_name, train  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "runs")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the paper's scale")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--ratio", default="80:20")
    args = parser.parse_args(argv)
    network = NetworkConfig(ratio=args.ratio)
    for seed in args.seeds:
        training = TrainConfig(seed=seed, **(FULL_SCALE if args.full else {}))
        out = os.path.join(DATA, default_run_name(network, training))
        train(network, training, out_dir=out, resume=os.path.exists(os.path.join(out, "config.json")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
