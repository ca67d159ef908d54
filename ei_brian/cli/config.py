"""``ei-brian config``: the configuration a training run would record, without training.

It takes every option of ``ei-brian train`` and prints, as JSON, the record that the run would
write into its ``config.json`` (:func:`ei_brian.io._config_record`: the network and training
configurations with every default filled in, the format and version), and the run folder the
run would use. Bad options give the same one-line errors as ``train``.
"""
import json
import os
import sys

from ei_brian.config import ConfigError
from ei_brian.data import DatasetError
from ei_brian.io import RunFolderError, _config_record
from ei_brian.options import add_train_arguments, configs_from_args
from ei_brian.training import default_run_name

__all__ = ["add_config_arguments", "run_config_command"]


def add_config_arguments(parser):
    add_train_arguments(parser)


def run_config_command(args):
    try:
        net_config, train_config = configs_from_args(args)
    except (ConfigError, DatasetError, RunFolderError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    record = _config_record(net_config, train_config, argv=["train", *sys.argv[2:]])
    record["run_folder"] = args.out or os.path.join("runs",
                                                    default_run_name(net_config, train_config))
    print(json.dumps(record, indent=1))
    return 0
