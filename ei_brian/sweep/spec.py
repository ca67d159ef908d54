"""A sweep's TOML spec: its sections, scales and grid, expanded into runs (:func:`load_spec`,
:class:`SweepSpec`, :class:`SweepRun`), every run checked by the options of ``ei-brian train``
(:mod:`ei_brian.options`) before anything runs; bad specs raise :class:`SweepError`.
"""
import argparse
import copy
import dataclasses
import itertools
import json
import os
import tomllib

from ei_brian.config import ConfigError
from ei_brian.options import add_train_arguments, configs_from_args

#: sweeps write under data/<name> (data/<scale>/<name> for a scale) unless told otherwise
DEFAULT_ROOT = "data"
#: options a sweep sets itself
MANAGED_OPTIONS = {"out": "the sweep chooses each run's folder",
                   "resume": "the sweep resumes interrupted runs itself",
                   "quiet": "runs in a sweep are always quiet",
                   "threads": "the sweep sets each run's threads to fit the workers"}


class SweepError(ValueError):
    """A sweep spec cannot be used; the message names the key, the run and what to do."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise SweepError(message)


def _train_parser():
    parser = _Parser(prog="ei-brian train", add_help=False)
    add_train_arguments(parser)
    return parser


@dataclasses.dataclass
class SweepRun:
    """One run of a sweep.

    Attributes
    ----------
    label : str
        Made from the run's varied values; the run folder is ``<label>/seed-<seed>``.
    seed : int
    options : dict
        Every option of the run (``ei-brian train`` destinations), base included.
    varied : dict
        The run's values of the sweep's varied keys (its effective value where the run's block
        leaves a key at the base or default value).
    net_config, train_config : NetworkConfig, TrainConfig
    argv : list of str
        The equivalent ``ei-brian train`` arguments (without ``--out``).
    """
    label: str
    seed: int
    options: dict
    varied: dict
    net_config: object
    train_config: object
    argv: list

    @property
    def folder(self):
        return os.path.join(self.label, f"seed-{self.seed}")


@dataclasses.dataclass
class SweepSpec:
    """A loaded, checked sweep: its name, scale, varied keys and runs."""
    name: str
    scale: str
    varied_keys: list
    runs: list
    source: str = None
    description: str = ""

    def default_out(self):
        parts = [DEFAULT_ROOT] + ([self.scale] if self.scale else []) + [self.name]
        return os.path.join(*parts)


def _normalize(key, where):
    if not isinstance(key, str) or not key:
        raise SweepError(f"{where}: {key!r} is not an option name")
    return key.replace("-", "_")


def _format_value(value):
    return repr(value) if isinstance(value, float) else str(value)


def _label_part(key, value):
    name = key.replace("_", "-")
    if value is True:
        return name
    if value is False:
        return f"no-{name}"
    text = _format_value(value).replace(":", "-").replace("/", "-").replace(" ", "")
    return f"{name}-{text}"


def _beside_spec(options, source):
    """A model file named relative to the spec (``neuron_model = "models/adapt.toml"``) is read
    from the spec's folder where it is there, else from the working folder."""
    value = options.get("neuron_model")
    if (source and isinstance(value, str) and value.endswith(".toml")
            and not os.path.isabs(value)):
        beside = os.path.join(os.path.dirname(os.path.abspath(source)), value)
        if os.path.exists(beside):
            return {**options, "neuron_model": beside}
    return options


def _option_argv(options, actions, where):
    """``ei-brian train`` arguments for ``options`` ({dest: value})."""
    argv = []
    for dest, value in options.items():
        action = actions[dest]
        flag = max(action.option_strings, key=len)
        if isinstance(action, argparse._StoreTrueAction):
            if not isinstance(value, bool):
                raise SweepError(f"{where}: {dest} is a switch; give true or false, not {value!r}")
            if value:
                argv.append(flag)
            continue
        if isinstance(value, (list, dict)) or isinstance(value, bool):
            raise SweepError(f"{where}: {dest} = {value!r} is not a single value for "
                             f"{flag}" + ("; lists belong in [grid] or [[extra]]"
                                          if isinstance(value, list) else ""))
        argv += [flag, _format_value(value)]
    return argv


def _check_keys(table, where, actions, allow_lists):
    out = {}
    for key, value in table.items():
        dest = _normalize(key, where)
        if dest in MANAGED_OPTIONS:
            raise SweepError(f"{where}: {key!r} cannot be set in a sweep ({MANAGED_OPTIONS[dest]})")
        if dest not in actions:
            known = ", ".join(sorted(name.replace("_", "-") for name in actions
                                     if name not in MANAGED_OPTIONS))
            raise SweepError(f"{where}: unknown option {key!r}; a sweep takes the options of "
                             f"`ei-brian train`: {known}")
        if isinstance(value, list):
            if not allow_lists:
                raise SweepError(f"{where}: {key!r} is a list; lists belong in [grid] or [[extra]]")
            if not value:
                raise SweepError(f"{where}: {key!r} is an empty list; give at least one value")
        if isinstance(value, dict):
            raise SweepError(f"{where}: {key!r} is a table, not a value")
        out[dest] = value
    return out


def _apply_scale(raw, scale, actions):
    scales = raw.get("scale", {})
    if not isinstance(scales, dict):
        raise SweepError("[scale] must hold tables such as [scale.quick]")
    if scale is None:
        scale = raw.get("study", {}).get("default_scale")
        if scale is None:
            return raw, None
    if scale not in scales:
        raise SweepError(f"this sweep has no scale {scale!r}; it has "
                         f"{', '.join(sorted(scales)) or 'none'}")
    table = dict(scales[scale])
    grid_only = table.pop("grid", {})
    where = f"[scale.{scale}]"
    overrides = _check_keys(table, where, actions, allow_lists=True)
    grid_overrides = _check_keys(grid_only, where + ".grid", actions, allow_lists=True)
    out = copy.deepcopy({key: value for key, value in raw.items() if key != "scale"})
    base = out.setdefault("base", {})
    blocks = [out.setdefault("grid", {})] + out.get("extra", [])
    for dest, value in overrides.items():
        in_blocks = [block for block in blocks if any(_normalize(k, where) == dest for k in block)]
        for block in in_blocks:
            _replace_in_place(block, dest, value, where)
        if isinstance(value, list):
            if not in_blocks:
                out["grid"][dest] = value
        else:
            for key in [k for k in base if _normalize(k, where) == dest]:
                del base[key]
            base[dest] = value
    for dest, value in grid_overrides.items():
        _replace_in_place(out["grid"], dest, value, where)
    return out, scale


def _replace_in_place(block, dest, value, where):
    """Set ``dest`` in ``block`` where the key stands (the labels keep their order)."""
    items = list(block.items())
    block.clear()
    placed = False
    for key, old in items:
        if _normalize(key, where) == dest:
            if not placed:
                block[dest] = value
                placed = True
        else:
            block[key] = old
    if not placed:
        block[dest] = value


def load_spec(spec, scale=None):
    """Load and check a sweep: every run's configuration is built (and so checked) here.

    Parameters
    ----------
    spec : str, os.PathLike or dict
        A TOML file, or its content as a dict.
    scale : str, optional
        A scale of the spec (``[scale.NAME]``); default: ``study.default_scale`` if set.

    Returns
    -------
    SweepSpec

    Raises
    ------
    SweepError
        Unknown keys, impossible values (naming the key and the run), duplicate runs.
    """
    source = None
    if isinstance(spec, dict):
        raw = copy.deepcopy(spec)
    else:
        source = os.fspath(spec)
        try:
            with open(source, "rb") as f:
                raw = tomllib.load(f)
        except FileNotFoundError:
            raise SweepError(f"sweep spec {source!r} does not exist") from None
        except tomllib.TOMLDecodeError as error:
            raise SweepError(f"sweep spec {source!r} is not valid TOML: {error}") from None
    unknown = sorted(set(raw) - {"study", "base", "grid", "extra", "scale"})
    if unknown:
        raise SweepError(f"unknown section(s) {unknown} in the sweep spec; it has [study], [base], "
                         "[grid], [[extra]] and [scale.NAME]")
    parser = _train_parser()
    actions = {action.dest: action for action in parser._actions if action.option_strings}
    raw, scale = _apply_scale(raw, scale, actions)
    study = raw.get("study", {})
    unknown = sorted(set(study) - {"name", "description", "default_scale"})
    if unknown:
        raise SweepError(f"unknown key(s) {unknown} in [study]; it takes name, description and "
                         "default_scale")
    name = study.get("name") or (os.path.splitext(os.path.basename(source))[0] if source
                                 else "sweep")
    base = _check_keys(raw.get("base", {}), "[base]", actions, allow_lists=False)
    extra = raw.get("extra", [])
    if isinstance(extra, dict):
        extra = [extra]
    blocks = [("[grid]", _check_keys(raw.get("grid", {}), "[grid]", actions, True))]
    blocks += [(f"[[extra]] #{k + 1}", _check_keys(block, f"[[extra]] #{k + 1}", actions, True))
               for k, block in enumerate(extra)]
    # every run: base, then its block's values (one combination of the block's lists)
    combos = []
    for where, block in blocks:
        if not block and where != "[grid]":
            raise SweepError(f"{where} is empty; give it the values of its runs")
        keys = list(block)
        lists = [value if isinstance(value, list) else [value] for value in block.values()]
        for values in itertools.product(*lists):
            combos.append((where, dict(zip(keys, values))))
    order = []
    for _, own in combos:
        order += [key for key in own if key not in order and key != "seed"]
    defaults = {dest: action.default for dest, action in actions.items()}

    def effective(dest, own):
        return own.get(dest, base.get(dest, defaults.get(dest)))

    # every key a block sets is part of the labels (so a run keeps its folder at every scale)
    varied = order
    runs, seen = [], {}
    for where, own in combos:
        options = dict(base, **own)
        seed = options.get("seed", defaults["seed"])
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise SweepError(f"{where}: seed {seed!r} must be a non-negative integer")
        label = "_".join(_label_part(key, own[key]) for key in varied if key in own) or "base"
        run_name = f"{label}/seed-{seed}"
        where_run = f"{where}, run {run_name}"
        argv = _option_argv(_beside_spec(options, source), actions, where_run)
        try:
            args = parser.parse_args(argv)
            net_config, train_config = configs_from_args(args)
        except (SweepError, ConfigError) as error:
            raise SweepError(f"{where_run}: {error}") from None
        identity = json.dumps([net_config.to_dict(), train_config.to_dict()], sort_keys=True)
        if identity in seen.values():
            other = next(key for key, value in seen.items() if value == identity)
            raise SweepError(f"{where_run}: the same configuration as run {other}")
        if run_name in seen:
            raise SweepError(f"{where_run}: two runs of this sweep get the folder {run_name}; "
                             "make the values that differ vary in [grid] or [[extra]]")
        seen[run_name] = identity
        runs.append(SweepRun(label=label, seed=seed, options=options,
                             varied={key: effective(key, own) for key in varied},
                             net_config=net_config, train_config=train_config, argv=argv))
    if not runs:
        raise SweepError("the sweep has no runs: give [grid] or [[extra]] values")
    return SweepSpec(name=name, scale=scale, varied_keys=varied, runs=runs, source=source,
                     description=study.get("description", ""))
