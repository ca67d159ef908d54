"""Neuron models as data: Brian2 equations, threshold, reset, state updater and parameters.

A :class:`NeuronModel` says what the hidden neurons are; everything else of the network (the
E and I populations, Dale's law, the readout, the inputs) stays as it is. The model is written the
way Brian2 takes it, in a TOML file::

    [model]
    equations = '''
    dv/dt = (I_exc - I_inh - v) / tau_mem : 1
    dI_exc/dt = -I_exc / tau_exc : 1
    dI_inh/dt = -I_inh / tau_inh : 1
    da/dt = -a / tau_a : 1
    '''
    threshold = "v > 1 + beta * a"
    reset = "v = 0; a += 1"
    method = "exponential_euler"
    excitatory_target = "I_exc"   # what excitatory synapses add their weight to
    inhibitory_target = "I_inh"   # what inhibitory synapses add their weight to
    [model.parameters]
    tau_mem = "20*ms"
    ...

Built-in models (``ei_brian/models/*.toml``): ``lif`` (the default, docs/model.md), ``alif``
(adaptive threshold) and ``qif`` (quadratic integrate-and-fire). ``lif`` is trained by the
hand-written engine (:mod:`ei_brian.gradients`); every other model by the engine derived from its
own equations (:mod:`ei_brian.derived`).

Every state variable starts each sample at 0, and synapses add dimensionless weights, so the
variables they target are dimensionless (``: 1``). What ei_brian cannot differentiate is refused
when the model is loaded, with one line naming the construct: stochastic terms (``xi``), the
time ``t``, refractoriness, per-neuron parameters written as equations lines without a right-hand
side, and thresholds that are not one comparison.
"""
import dataclasses
import json
import os
import re
import tomllib
import warnings

from ei_brian.brian2_warnings import quiet_brian2_warnings
from ei_brian.config import ConfigError

__all__ = ["NeuronModel", "ModelError", "BUILTIN_MODELS", "load_model", "model_spec",
           "check_network_options"]

MODELS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")
#: the models shipped with ei_brian, by name (a file models/<name>.toml each)
BUILTIN_MODELS = ("lif", "alif", "qif")
#: the model the network options (tau_mem, v_threshold, ...) describe, with its own engine
DEFAULT_MODEL = "lif"
STATE_UPDATERS = ("exponential_euler", "euler", "rk2", "rk4", "heun", "milstein", "exact",
                  "linear")
_KEYS = {"equations", "threshold", "reset", "method", "excitatory_target", "inhibitory_target",
         "reset_gradient",
         "parameters", "name", "description"}
_RESET_STATEMENT = re.compile(r"^\s*([A-Za-z_]\w*)\s*(=|\+=|-=|\*=|/=)\s*(\S.*?)\s*$")


class ModelError(ConfigError):
    """A neuron model that cannot be read, built or differentiated (one line says why)."""


@dataclasses.dataclass(frozen=True)
class NeuronModel:
    """The hidden neurons' model (see the module docstring).

    Parameters
    ----------
    equations : str
        Brian2 differential equations (``dx/dt = ... : unit``), one a line; subexpressions
        (``y = ... : 1``) are allowed.
    threshold : str
        One comparison, e.g. ``"v > 1 + beta * a"``; the surrogate gradient acts on the margin
        ``lhs - rhs`` (``rhs - lhs`` for ``<``).
    reset : str
        Statements separated by ``;`` or new lines (``=``, ``+=``, ``-=``, ``*=``, ``/=``), run for
        each neuron that spiked. As in the LIF engine, no gradient flows through the spike into the
        reset (unless ``reset_gradient``); the reset's own dependence on the state is
        differentiated.
    method : str
        Brian2 state updater (``exponential_euler`` for equations linear in their own variable,
        ``euler``, ``rk2``, ``rk4``, ...).
    excitatory_target, inhibitory_target : str
        State variables that excitatory and inhibitory synapses add their weight to.
    parameters : tuple of (str, str)
        Parameter names and Brian2 expressions with units (``("tau_mem", "20*ms")``).
    name : str
        A short name (a built-in's name, or the file's stem).
    reset_gradient : bool
        Let the gradient flow through the spike into the reset too (``X = X'' + s (R(X'') -
        X'')``, the surrogate standing in for ``ds``); off by default, as in the LIF engine.
    """

    equations: str
    threshold: str
    reset: str
    excitatory_target: str
    inhibitory_target: str
    method: str = "exponential_euler"
    parameters: tuple = ()
    name: str = "custom"
    reset_gradient: bool = False

    @property
    def parameter_dict(self):
        return dict(self.parameters)

    # -- reading and writing -------------------------------------------------------------------
    @classmethod
    def from_dict(cls, values, name="custom", where="the model"):
        """From the ``[model]`` table of a model file (``values``)."""
        if not isinstance(values, dict):
            raise ModelError(f"{where}: needs a [model] table")
        unknown = sorted(set(values) - _KEYS)
        if unknown:
            raise ModelError(f"{where}: unknown key(s) {unknown} in [model]; known: "
                             f"{sorted(_KEYS - {'name', 'description'})}")
        for key in ("equations", "threshold", "reset", "excitatory_target", "inhibitory_target"):
            if key not in values:
                raise ModelError(f"{where}: [model] has no {key}")
        for key in ("equations", "threshold", "reset", "excitatory_target", "inhibitory_target",
                    "method"):
            if key in values and not isinstance(values[key], str):
                raise ModelError(f"{where}: [model] {key} must be a string")
        if not isinstance(values.get("reset_gradient", False), bool):
            raise ModelError(f"{where}: [model] reset_gradient must be true or false")
        parameters = values.get("parameters", {})
        if not isinstance(parameters, dict):
            raise ModelError(f"{where}: [model.parameters] must be a table of name = \"value\"")
        pairs = []
        for key, value in parameters.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                value = repr(value)
            if not isinstance(value, str):
                raise ModelError(f"{where}: parameter {key} must be a number or a string such as "
                                 f"\"20*ms\", not {value!r}")
            pairs.append((key, value))
        model = cls(equations=values["equations"].strip(), threshold=values["threshold"].strip(),
                    reset=values["reset"].strip(), method=values.get("method",
                                                                     "exponential_euler").strip(),
                    excitatory_target=values["excitatory_target"].strip(),
                    inhibitory_target=values["inhibitory_target"].strip(),
                    parameters=tuple(pairs), name=str(values.get("name", name)),
                    reset_gradient=values.get("reset_gradient", False))
        model.validate(where)
        return model

    @classmethod
    def from_toml(cls, text, name="custom", where="the model"):
        """From the text of a model file."""
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise ModelError(f"{where}: not valid TOML: {error}") from None
        if set(document) != {"model"}:
            raise ModelError(f"{where}: a model file holds one [model] table (with "
                             f"[model.parameters]), found {sorted(document) or 'nothing'}")
        return cls.from_dict(document["model"], name=name, where=where)

    @classmethod
    def from_file(cls, path):
        """From a model file (``name`` is the file's stem)."""
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as error:
            raise ModelError(f"cannot read the neuron model file {path}: "
                             f"{error.strerror or error}") from None
        stem = os.path.splitext(os.path.basename(path))[0]
        return cls.from_toml(text, name=stem, where=str(path))

    def to_toml(self):
        """The model file's text (what ``config.json`` records for a model from a file)."""
        lines = ["[model]", f"name = {json.dumps(self.name)}",
                 'equations = """\n' + self.equations.strip() + '\n"""']
        for key in ("threshold", "reset", "method", "excitatory_target", "inhibitory_target"):
            lines.append(f"{key} = {json.dumps(getattr(self, key))}")
        if self.reset_gradient:
            lines.append("reset_gradient = true")
        lines += ["", "[model.parameters]"]
        lines += [f"{key} = {json.dumps(value)}" for key, value in self.parameters]
        return "\n".join(lines) + "\n"

    # -- checks --------------------------------------------------------------------------------
    def validate(self, where="the model"):
        """Raise :class:`ModelError` (one line) for what Brian2 or the derived engine cannot take.

        Checks the equations' syntax, the state updater, the parameters (Brian2 expressions with
        units), that the synaptic targets are dimensionless state variables, that the threshold is
        one comparison of known names and that the reset assigns state variables from known
        names. Imports Brian2 (about a second, once).
        """
        info = model_info(self, where)
        return info

    @property
    def is_default(self):
        """Whether this is the built-in default (trained by the hand-written engine)."""
        return self == load_model(DEFAULT_MODEL)


def _split_statements(text):
    return [part for part in re.split(r"[;\n]", text) if part.strip()]


def model_info(model, where="the model"):
    """Parse ``model`` with Brian2: ``{"state": [names], "parameters": {name: float in SI},
    "equations": brian2.Equations}`` (see :meth:`NeuronModel.validate`)."""
    import brian2  # about 1 s on first import; not needed for the default model

    with warnings.catch_warnings():
        quiet_brian2_warnings()
        try:
            equations = brian2.Equations(model.equations)
        except Exception as error:  # brian2 raises several types; one line either way
            message = " ".join(str(error).split())
            raise ModelError(f"{where}: the equations cannot be parsed: {message}") from None
    if not equations.diff_eq_names:
        raise ModelError(f"{where}: the equations have no differential equation (dx/dt = ...)")
    if equations.stochastic_variables:
        raise ModelError(f"{where}: stochastic term(s) {sorted(equations.stochastic_variables)} "
                         "in the equations: ei_brian cannot differentiate noise inside the model")
    for eq in equations.values():
        flags = tuple(getattr(eq, "flags", ()))
        if "unless refractory" in flags:
            raise ModelError(f"{where}: the flag '(unless refractory)' on {eq.varname}: "
                             "refractoriness is not supported by the derived engine")
        if flags and eq.type != "parameter":
            # e.g. (constant over dt): Brian2 then evaluates it once per step, before the update,
            # which the one-step map of the derived engine does not model
            raise ModelError(f"{where}: the flag(s) ({', '.join(flags)}) on {eq.varname} are not "
                             "supported by the derived engine; remove them")
        if eq.type == "parameter":
            raise ModelError(f"{where}: '{eq.varname}' is declared as a variable without an "
                             "equation; give its value in [model.parameters] instead")
    if model.method not in STATE_UPDATERS:
        raise ModelError(f"{where}: unknown state updater method {model.method!r}; "
                         f"one of {', '.join(STATE_UPDATERS)}")
    taken = {"w": "the synapses' weight"}  # names of the network around the neurons
    for name in sorted(set(equations.names) & set(taken)):
        raise ModelError(f"{where}: the variable {name} has the name of {taken[name]}; rename it "
                         f"(e.g. {name}_{'adapt' if name == 'w' else 'model'})")
    state = list(equations.diff_eq_names)
    state.sort(key=lambda name: list(equations.keys()).index(name))
    subexpressions = list(equations.subexpr_names)
    reserved = {"t", "dt", "xi", "i", "N", "lastspike", "not_refractory", "w"}
    parameters = {}
    from brian2.core.namespace import DEFAULT_CONSTANTS, DEFAULT_FUNCTIONS, DEFAULT_UNITS
    for name, expression in model.parameters:
        if not name.isidentifier() or name in reserved:
            raise ModelError(f"{where}: {name!r} cannot be a parameter name")
        if name in DEFAULT_UNITS or name in DEFAULT_CONSTANTS or name in DEFAULT_FUNCTIONS:
            # Brian2 would take its unit, constant or function over the model's parameter
            kind = ("unit" if name in DEFAULT_UNITS else
                    "constant" if name in DEFAULT_CONSTANTS else "function")
            raise ModelError(f"{where}: parameter {name} has the name of a Brian2 {kind}, which "
                             "Brian2 would use instead; rename it")
        if name in state or name in subexpressions:
            raise ModelError(f"{where}: parameter {name} is also a variable of the equations")
        try:
            value = eval(expression, {"__builtins__": {}}, _unit_namespace(brian2))  # noqa: S307
        except Exception as error:
            raise ModelError(f"{where}: parameter {name} = {expression!r} is not a Brian2 "
                             f"expression with units: {error}") from None
        try:
            number = float(value if not isinstance(value, brian2.Quantity)
                           else brian2.asarray(value))
        except (TypeError, ValueError):
            raise ModelError(f"{where}: parameter {name} = {expression!r} is not a number "
                             "(with units)") from None
        parameters[name] = {"value": number, "quantity": value}
    known = set(state) | set(subexpressions) | set(parameters)
    for eq in equations.values():
        if eq.expr is None:
            continue
        names = eq.expr.identifiers - set(_FUNCTIONS)
        if "t" in names:
            raise ModelError(f"{where}: the equation of {eq.varname} uses the time t; the "
                             "derived engine needs equations without explicit time")
        unknown = sorted(names - known)
        if unknown:
            raise ModelError(f"{where}: unknown name(s) {unknown} in the equation of "
                             f"{eq.varname}; add them to [model.parameters]")
    if model.excitatory_target == model.inhibitory_target:
        raise ModelError(f"{where}: excitatory_target and inhibitory_target are both "
                         f"{model.excitatory_target}: inhibitory synapses would excite; give "
                         "inhibition a variable of its own (subtracted in the equations)")
    for label, target in (("excitatory_target", model.excitatory_target),
                          ("inhibitory_target", model.inhibitory_target)):
        if target not in state:
            raise ModelError(f"{where}: {label} {target!r} is not a state variable of the "
                             f"equations (they have {', '.join(state)})")
        if not equations[target].dim.is_dimensionless:
            raise ModelError(f"{where}: {label} {target} must be dimensionless (': 1'): synapses "
                             "add dimensionless weights")
    comparison = re.fullmatch(r"\s*(.+?)\s*(>=|<=|>|<)\s*(.+?)\s*", model.threshold)
    if comparison is None or re.search(r"[<>]|\band\b|\bor\b", comparison.group(3)):
        raise ModelError(f"{where}: threshold {model.threshold!r} must be one comparison such as "
                         "'v > 1'")
    for side in (comparison.group(1), comparison.group(3)):
        unknown = sorted(set(re.findall(r"[A-Za-z_]\w*", side)) - known - set(_FUNCTIONS))
        if unknown:
            raise ModelError(f"{where}: unknown name(s) {unknown} in the threshold "
                             f"{model.threshold!r}")
    statements = _split_statements(model.reset)
    if not statements:
        raise ModelError(f"{where}: the reset is empty (e.g. 'v = 0')")
    for statement in statements:
        match = _RESET_STATEMENT.match(statement)
        if match is None:
            raise ModelError(f"{where}: reset statement {statement.strip()!r} is not of the form "
                             "'x = ...' or 'x += ...'")
        if match.group(1) not in state:
            raise ModelError(f"{where}: the reset assigns {match.group(1)}, which is not a state "
                             f"variable (they are {', '.join(state)})")
        unknown = sorted(set(re.findall(r"[A-Za-z_]\w*", match.group(3))) - known
                         - set(_FUNCTIONS))
        if unknown:
            raise ModelError(f"{where}: unknown name(s) {unknown} in the reset statement "
                             f"{statement.strip()!r}")
    return {"state": state, "subexpressions": subexpressions, "parameters": parameters,
            "equations": equations, "threshold": comparison.groups()}


#: functions a model may call (Brian2's defaults that the derived engine differentiates)
_FUNCTIONS = ("exp", "log", "log10", "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh", "abs",
              "arcsin", "arccos", "arctan")


def _unit_namespace(brian2):
    from brian2.units import allunits, stdunits
    namespace = {name: getattr(module, name) for module in (allunits, stdunits)
                 for name in dir(module) if not name.startswith("_")}
    namespace.update({name: getattr(brian2, name) for name in ("exp", "sqrt", "log")})
    return namespace


def load_model(spec):
    """A built-in model by name, a model file by path, or a model file's text (as ``config.json``
    records it). Raises :class:`ModelError` with one line for anything else."""
    if isinstance(spec, NeuronModel):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise ModelError(f"--neuron-model must be one of {', '.join(BUILTIN_MODELS)} or a .toml "
                         f"file, not {spec!r}")
    if spec in BUILTIN_MODELS:
        return _builtin(spec)
    if "[model]" in spec:  # a model's text (config.json's): parsed and checked once a process
        if spec not in _texts:
            _texts[spec] = NeuronModel.from_toml(spec)
        return _texts[spec]
    if spec.endswith(".toml") or os.path.sep in spec:
        if not os.path.exists(spec):
            raise ModelError(f"neuron model file {spec} does not exist")
        key = (os.path.abspath(spec), os.stat(spec).st_mtime_ns)  # read again when it changes
        if key not in _texts:
            _texts[key] = NeuronModel.from_file(spec)
        return _texts[key]
    raise ModelError(f"unknown neuron model {spec!r}: one of {', '.join(BUILTIN_MODELS)}, or the "
                     "path of a .toml model file")


_builtins = {}
_texts = {}


def _builtin(name):
    if name not in _builtins:
        path = os.path.join(MODELS_DIR, name + ".toml")
        with open(path, encoding="utf-8") as f:
            _builtins[name] = NeuronModel.from_toml(f.read(), name=name, where=path)
    return _builtins[name]


def model_spec(value):
    """The value of ``NetworkConfig.neuron_model`` for a command-line value: a built-in's name as
    it is, a file's model as its text (so that ``config.json`` holds the whole model and
    ``load_run`` rebuilds it wherever the file went). Validates the model."""
    model = load_model(value)
    if value in BUILTIN_MODELS:
        return value
    return model.to_toml()


#: network options that describe the built-in LIF model (a model of its own brings its own)
LIF_OPTIONS = ("tau_mem", "tau_exc", "tau_inh", "v_threshold", "v_reset", "tau_spread_exc",
               "tau_spread_inh", "inh_tau_factor", "membrane_noise")
#: those of them that are options of ``ei-brian train`` (the others are NetworkConfig fields)
LIF_COMMAND_LINE = ("tau_spread_exc", "tau_spread_inh", "inh_tau_factor", "membrane_noise")


def check_network_options(config):
    """Raise :class:`ModelError` (one line) when a network of a model other than ``lif`` sets
    options that belong to ``lif``."""
    if config.neuron_model == DEFAULT_MODEL:
        return
    defaults = type(config)()
    name = load_model(config.neuron_model).name
    lif_only = [option for option in LIF_OPTIONS
                if getattr(config, option) != getattr(defaults, option)]
    if lif_only:
        options = ", ".join("--" + option.replace("_", "-") if option in LIF_COMMAND_LINE
                            else f"NetworkConfig.{option}" for option in lif_only)
        raise ModelError(f"{options} set(s) the built-in LIF model; with --neuron-model {name} "
                         "give the model's parameters in its file instead")
