"""``ei-brian train``: train one run from the options of a training run.

The options and their translation into the run's configurations are :mod:`ei_brian.options`
(also what a sweep uses to check and build its runs, :mod:`ei_brian.sweep`, and what
``ei-brian config`` prints); they are re-exported here.
"""
import os
import sys

from ei_brian.config import ConfigError
from ei_brian.data import DatasetError
from ei_brian.io import LOG_FILE, RunFolderError
from ei_brian.options import (  # re-exported
    OPTION_FIELDS,
    RUN_OPTIONS,
    add_train_arguments,
    configs_from_args,
)
from ei_brian.training import default_run_name, train

__all__ = ["add_train_arguments", "configs_from_args", "run_train_command", "OPTION_FIELDS",
           "RUN_OPTIONS"]


def run_train_command(args):
    try:
        net_config, train_config = configs_from_args(args)
    except (ConfigError, DatasetError, RunFolderError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    out_dir = args.out or os.path.join("runs", default_run_name(net_config, train_config))
    try:
        train(net_config, train_config, out_dir=out_dir, resume=args.resume, data_dir=args.data_dir,
              progress=not args.quiet, argv=sys.argv[1:], threads=args.threads)
    except (ConfigError, DatasetError, RunFolderError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # a failure of the run itself: say what, and where the details are
        print(f"error: the run in {out_dir} failed: {type(error).__name__}: {error}\n"
              f"(the traceback is in {os.path.join(out_dir, LOG_FILE)})", file=sys.stderr)
        return 1
    return 0
