"""The ``ei-brian`` command: ``train``, ``analyze``, ``sweep``, ``reproduce``, ``data`` and ``config``.

Every command's argparse code is here, one module each (:mod:`ei_brian.cli.train`,
:mod:`~ei_brian.cli.analyze`, :mod:`~ei_brian.cli.sweep`, :mod:`~ei_brian.cli.reproduce`,
:mod:`~ei_brian.cli.data`, :mod:`~ei_brian.cli.config`); the library modules hold no command-line code. Only the module of the
subcommand that runs is imported, so ``ei-brian data ...`` does not load Brian2 and
``ei-brian --help`` is quick.
"""
import argparse
import importlib
import os
import sys

from ei_brian import __version__

#: subcommand -> (module, function adding its arguments, function running it, help, description)
COMMANDS = {
    "train": ("ei_brian.cli.train", "add_train_arguments", "run_train_command",
              "train an E/I network (default: 80:20 on Fashion-MNIST at the quick scale)",
              "Train a Dale's-law E/I spiking network, compiled with Brian2, with surrogate "
              "gradients. Writes config.json, metrics.csv, weights.npz, a checkpoint and the probe "
              "spike trains into the output folder."),
    "analyze": ("ei_brian.cli.analyze", "add_analyze_arguments", "run_analyze_command",
                "spike-train measures (rates, CV, Fano factor, Van Rossum) of saved runs",
                "Compute spike-train measures of one or more run folders through Neo and Elephant."),
    "sweep": ("ei_brian.cli.sweep", "add_sweep_arguments", "run_sweep_command",
              "many training runs from a TOML spec, on Dask (local cluster or a scheduler)",
              "Run every run of a sweep spec (a TOML file: [base] options, a [grid] of values, "
              "[[extra]] runs) on Dask distributed. Finished runs are skipped, interrupted ones "
              "resume; runs.csv and epochs.csv gather the results."),
    "reproduce": ("ei_brian.cli.reproduce", "add_reproduce_arguments", "run_reproduce_command",
                  "every study, the analysis, the figures and REPORT.md (the paper's claims "
                  "tested)",
                  "Run every study of studies/ at a scale through the sweep engine, analyse the "
                  "runs, draw every figure from the tables and write REPORT.md, which tests the "
                  "paper's five claims. Finished runs are skipped, so it can be stopped and "
                  "started again."),
    "data": ("ei_brian.cli.data", "add_data_arguments", "run_data_command",
             "find, check or download data sets", "Find, check or download data sets."),
    "config": ("ei_brian.cli.config", "add_config_arguments", "run_config_command",
               "the configuration a training run would record, without training",
               "Print, as JSON, the configuration that `ei-brian train` with the same options "
               "would record in its config.json (every default filled in), and its run folder. "
               "Nothing is trained or written."),
}


#: the version in which the older spellings of options (see :func:`add_old_spelling`) go away
OLD_SPELLINGS_REMOVED_IN = "0.3"


class _OldSpelling(argparse.Action):
    """An older spelling of an option: it still works, and says which spelling replaces it."""

    def __init__(self, option_strings, dest, new, nargs=None, const=None, **kwargs):
        self.new = new
        super().__init__(option_strings, dest, nargs=nargs, const=const, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"warning: {option_string} is the older spelling of {self.new}; it goes away in "
              f"ei_brian {OLD_SPELLINGS_REMOVED_IN}", file=sys.stderr)
        setattr(namespace, self.dest, self.const if self.nargs == 0 else values)


def add_old_spelling(parser, old, new, dest, flag_value=None):
    """Accept ``old`` as ``new`` (hidden from ``--help``), with a deprecation message when used.

    ``flag_value``: for a flag (no value), what it stores in ``dest``."""
    if flag_value is None:
        parser.add_argument(old, dest=dest, action=_OldSpelling, new=new, help=argparse.SUPPRESS)
    else:
        parser.add_argument(old, dest=dest, action=_OldSpelling, new=new, nargs=0,
                            const=flag_value, help=argparse.SUPPRESS)


def build_parser(command=None):
    """The argument parser; only ``command``'s module is imported to fill in its arguments."""
    parser = argparse.ArgumentParser(
        prog="ei-brian",
        description="Dale's-law E/I spiking networks in Brian2, trained with surrogate gradients.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (module_name, add, run, help_text, description) in COMMANDS.items():
        subparser = sub.add_parser(name, help=help_text, description=description)
        if name == command:
            module = importlib.import_module(module_name)
            getattr(module, add)(subparser)
            subparser.set_defaults(func=getattr(module, run))
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    parser = build_parser(command if command in COMMANDS else None)
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except KeyboardInterrupt as error:
        print("interrupted", file=sys.stderr)
        return getattr(error, "exit_code", 130)  # 143 where SIGTERM was turned into it
    except BrokenPipeError:  # the reader of the output went away (`... | head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
