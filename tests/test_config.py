import pytest
from brian2 import ms

from ei_brian.config import ConfigError, NetworkConfig, TrainConfig, parse_ratio, population_sizes


@pytest.mark.parametrize("ratio, sizes", [("80:20", (128, 32)), ("100:0", (160, 0)),
                                          ("95:5", (152, 8)), ("50:50", (80, 80)),
                                          ("10:90", (16, 144)), ("4:1", (128, 32))])
def test_population_sizes_keep_the_total(ratio, sizes):
    assert population_sizes(ratio, 160) == sizes
    config = NetworkConfig(ratio=ratio)
    assert (config.n_exc, config.n_inh) == sizes


@pytest.mark.parametrize("ratio, words", [("0:100", "no excitatory"), ("-10:110", "negative"),
                                          ("eighty", "not a ratio"), ("80:20:1", "not a ratio"),
                                          ("0:0", "no neurons"), ("999:1", "rounds to 0 inhibitory"),
                                          ("1:999", "0 excitatory")])
def test_impossible_ratios_are_refused_clearly(ratio, words):
    with pytest.raises(ConfigError, match=words):
        NetworkConfig(ratio=ratio)


def test_unbounded_has_one_population_and_three_projections():
    config = NetworkConfig(unbounded=True)
    assert (config.n_exc, config.n_inh) == (160, 0)
    assert config.projections == ("xe", "ee", "eo")


def test_overrides_reject_unknown_keys_and_round_trip():
    config = NetworkConfig().replace(tau_mem=30 * ms)
    assert NetworkConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ConfigError, match="tau_membrane"):
        config.replace(tau_membrane=30 * ms)
    with pytest.raises(ConfigError, match="unknown"):
        TrainConfig.from_dict({"epoch": 3})
    assert TrainConfig.from_dict(TrainConfig().to_dict()) == TrainConfig()
    assert config.digest() != NetworkConfig().digest()


def test_bad_values_are_refused():
    with pytest.raises(ConfigError, match="tau_mem"):
        NetworkConfig(tau_mem=20)
    with pytest.raises(ConfigError, match="optimizer"):
        TrainConfig(optimizer="sgd")
    with pytest.raises(ConfigError, match="batch_size"):
        TrainConfig(batch_size=0)
    assert parse_ratio("80:20") == pytest.approx(0.8)


def test_version_is_written_once_and_printed(capsys):
    import pathlib
    import tomllib

    import ei_brian
    from ei_brian.cli import main
    with open(pathlib.Path(__file__).resolve().parent.parent / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)
    assert "version" not in project["project"] and project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "ei_brian._version.__version__"}
    assert project["project"]["requires-python"] == ">=3.11"
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"ei-brian {ei_brian.__version__}"


def test_the_commands_speak_one_dialect(capsys):
    """The same option has the same spelling in every command; older spellings still work."""
    from ei_brian.cli import build_parser
    parse = lambda *argv: build_parser(argv[0]).parse_args(list(argv))  # noqa: E731
    assert parse("sweep", "spec.toml", "--standard").scale == "standard"
    assert parse("sweep", "spec.toml", "--scale", "quick").scale == "quick"
    assert parse("reproduce", "--scale", "standard").scale == "standard"
    assert parse("reproduce", "--full").scale == "full"
    assert parse("reproduce").scale == "quick"
    assert parse("analyze", "run", "--out", "all.csv").output == "all.csv"
    assert parse("data", "where", "shd", "--quiet").progress is False
    assert parse("data", "where", "shd").progress is True
    assert "older spelling" not in capsys.readouterr().err
    # the older spellings work for one more version, and say so
    assert parse("analyze", "run", "--output", "all.csv").output == "all.csv"
    assert "--output is the older spelling of --out; it goes away in ei_brian 0.3" in \
        capsys.readouterr().err
    assert parse("data", "where", "shd", "--no-progress").progress is False
    assert "--no-progress is the older spelling of --quiet" in capsys.readouterr().err
    helps = ""
    for command in ("analyze", "data"):
        (subparsers,) = build_parser(command)._subparsers._group_actions
        helps += subparsers.choices[command].format_help()
    assert "--out CSV" in helps and "--quiet" in helps
    assert "--output" not in helps and "--no-progress" not in helps
    with pytest.raises(SystemExit):
        parse("sweep", "spec.toml", "--standard", "--scale", "quick")


def test_the_documentation_pages_generated_from_the_code():
    """docs/_ext/generated.py writes every default and every command's --help from the code."""
    import sys
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent / "docs"
                           / "_ext"))
    try:
        import generated
    finally:
        sys.path.pop(0)
    defaults = generated.defaults_page()
    assert "| `learning_rate` | `0.005` |" in defaults and "| `n_hidden` | `160` |" in defaults
    assert "| shd-like | `64` | `fluctuation` | `0.01` |" in defaults
    cli = generated.cli_page()
    for command in ("train", "analyze", "sweep", "reproduce", "data", "config"):
        assert f"## ei-brian {command}" in cli
    assert "--shd-like-difficulty" in cli and "--version" in cli


def test_config_prints_what_a_run_would_record_and_refuses_what_train_refuses(capsys):
    """``ei-brian config [train options]``: the resolved configuration, nothing trained."""
    import json

    from ei_brian.cli import main
    assert main(["config", "--ratio", "95:5", "--seed", "2", "--lr", "0.01"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert (record["n_exc"], record["n_inh"], record["seed"]) == (152, 8, 2)
    assert record["training"]["learning_rate"] == 0.01
    assert record["training"]["batch_size"] == 256  # a default, filled in
    assert record["format"] == "ei_brian.run" and record["command"][0] == "train"
    assert record["run_folder"].startswith("runs/fashion-mnist_95-5_h160_quick_s2_")
    assert main(["config", "--dataset", "shd-like"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["training"]["init"] == "fluctuation" and record["network"]["n_inputs"] == 700
    for argv in (["--ratio", "0:100"], ["--ratio", "4:3:2"]):
        assert main(["config", *argv]) == 2
        config_error = capsys.readouterr().err
        assert main(["train", *argv]) == 2
        assert capsys.readouterr().err == config_error
        assert config_error.count("\n") == 1 and config_error.startswith("error: ")
    with pytest.raises(SystemExit):
        main(["config", "--no-such-option"])


def test_every_train_option_is_a_configuration_field_or_in_the_table_of_other_names():
    """An option is named after the configuration field it sets, or OPTION_FIELDS says which
    field it sets (and does), or it is an option of the run, not of its configuration."""
    import argparse
    import dataclasses

    from brian2 import Hz

    from ei_brian.cli.train import (OPTION_FIELDS, RUN_OPTIONS, add_train_arguments,
                                    configs_from_args)
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    fields = {f.name for cls in (NetworkConfig, TrainConfig) for f in dataclasses.fields(cls)}
    for action in parser._actions:
        option = action.option_strings[-1] if action.option_strings else None
        if option in (None, "--help"):
            continue
        assert action.dest in fields or option in OPTION_FIELDS or option in RUN_OPTIONS, option
    assert not set(OPTION_FIELDS) & set(RUN_OPTIONS)

    def configs(*argv):
        return configs_from_args(parser.parse_args(list(argv)))
    assert configs("--hidden", "40")[0].n_hidden == 40
    assert configs("--duration", "50")[0].n_steps == 50
    assert configs("--lr", "0.02")[1].learning_rate == 0.02
    assert configs("--target-rate", "3", "--init", "target-rate")[1].target_rate_exc == 3 * Hz
    assert configs("--regularizer", "0.5")[1].regularizer_strength == 0.5
    train_config = configs("--init-scale", "0.7")[1]
    assert train_config.init_scale_exc == train_config.init_scale_inh == 0.7
    full = configs("--full")[1]
    assert (full.train_samples, full.test_samples, full.epochs) == (None, None, 30)
