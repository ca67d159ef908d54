"""The ``ei-brian`` command: ``train``, ``analyze`` and ``data``.

Each subcommand imports its module only when it runs, so ``ei-brian --help`` is quick.
"""
import argparse
import sys


def _add_train(sub):
    from ei_brian import training
    parser = sub.add_parser(
        "train", help="train an E/I network (default: 80:20 on Fashion-MNIST at the quick scale)",
        description="Train a Dale's-law E/I spiking network, compiled with Brian2, with surrogate "
                    "gradients. Writes config.json, metrics.csv, weights.npz, a checkpoint and the "
                    "probe spike trains into the output folder.")
    training.add_train_arguments(parser)
    parser.set_defaults(func=training.run_train_command)


def _add_analyze(sub):
    from ei_brian import analysis
    parser = sub.add_parser(
        "analyze", help="spike-train measures (rates, CV, Fano factor, Van Rossum) of saved runs",
        description="Compute spike-train measures of one or more run folders through Neo and Elephant.")
    analysis.add_analyze_arguments(parser)
    parser.set_defaults(func=analysis.run_analyze_command)


def _add_data(sub):
    from ei_brian import data
    parser = sub.add_parser("data", help="find, check or download data sets")
    data.add_data_arguments(parser)
    parser.set_defaults(func=data.run_data_command)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="ei-brian",
        description="Dale's-law E/I spiking networks in Brian2, trained with surrogate gradients.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    _add_train(sub)
    _add_analyze(sub)
    _add_data(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
