"""The network as Brian2 equations: Dale's-law E and I populations, an E-only readout.

The same builder serves the compiled training runs (:mod:`ei_brian.runner`) and interactive use::

    from brian2 import ms
    from ei_brian.config import NetworkConfig
    from ei_brian.network import build_network, initial_weights
    config = NetworkConfig(ratio="80:20")
    parts = build_network(config, weights=initial_weights(config, seed=0),
                          input_indices=[0, 1], input_times=[5, 7] * ms, record_potentials=True)
    parts["network"].run(config.sample_duration)
    parts["spikes"].i, parts["spikes"].t  # a brian2 SpikeMonitor of all hidden neurons

Model, in short (the full description, with the defaults and the order of operations, is
``docs/model.md``; per hidden neuron, E and I neurons obey the same equations)::

    dv/dt     = (I_exc - I_inh - v) / tau_mem      membrane potential (dimensionless, threshold 1)
    dI_exc/dt = -I_exc / tau_exc                   excitatory synaptic current
    dI_inh/dt = -I_inh / tau_inh                   inhibitory synaptic current, subtracted
    spike when v > v_threshold, then v = v_reset (no refractory period)

Excitatory projections (``xe, xi, ee, ei``) add their weight to ``I_exc`` of the target, inhibitory
ones (``ie, ii``) to ``I_inh``. Weights are magnitudes >= 0 (Dale's law). The readout units are
non-spiking leaky integrators driven by E neurons only (``eo``). In the unbounded baseline all
hidden neurons form one population and every weight, free in sign, adds to ``I_exc``.

Integration is ``exponential_euler``: each variable decays by its own factor over a step, the
others held at their values from the start of the step (``docs/model.md``, "Numerics", says
why not ``exact``).
A run may carry many samples one after another; every ``n_steps`` all state is set back to zero.
Within one time step Brian2 runs, in order: the reset between samples, the state update, the
threshold, the synaptic effects of this step's spikes (input and hidden), the reset of spiking
neurons. :mod:`ei_brian.gradients` follows the same order.
"""
import warnings

import numpy as np
from brian2 import (
    Clock,
    Network,
    NeuronGroup,
    SpikeGeneratorGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    TimedArray,
    ms,
    second,
)

from ei_brian.brian2_warnings import quiet_brian2_warnings
from ei_brian.config import NetworkConfig
from ei_brian.neuron_model import DEFAULT_MODEL, load_model, model_info

HIDDEN_EQUATIONS = """
dv/dt = (I_exc - I_inh - v) / tau_mem : 1         # membrane potential (threshold v_threshold)
dI_exc/dt = -I_exc / tau_exc : 1                  # excitatory synaptic current
dI_inh/dt = -I_inh / tau_inh : 1                  # inhibitory synaptic current (subtracted)
tau_mem : second (constant, shared)               # membrane time constant
tau_exc : second (constant, shared)               # excitatory synaptic time constant
tau_inh : second (constant, shared)               # inhibitory synaptic time constant
"""

#: with time-constant diversity the time constants are per-neuron variables (set at every run)
HETEROGENEOUS_TIME_CONSTANTS = """
tau_mem : second (constant)                       # membrane time constant, per neuron
tau_exc : second (constant)                       # excitatory synaptic time constant, per neuron
tau_inh : second (constant)                       # inhibitory synaptic time constant, per neuron
"""

#: with membrane noise, a drive held over each time step, drawn in Python and passed in per run
MEMBRANE_NOISE_EQUATIONS = """
dv/dt = (I_exc - I_inh + I_noise - v) / tau_mem : 1   # membrane potential with noise
I_noise = membrane_noise_drive(t, i) : 1              # white-noise drive (a TimedArray)
"""


def hidden_equations(config):
    """The hidden neurons' equations for ``config`` (see the module docstring)."""
    lines = HIDDEN_EQUATIONS.strip().splitlines()
    if config.heterogeneous:
        lines = lines[:3] + HETEROGENEOUS_TIME_CONSTANTS.strip().splitlines()
    if config.membrane_noise > 0:
        lines = MEMBRANE_NOISE_EQUATIONS.strip().splitlines() + lines[1:]
    return "\n".join(lines)


def membrane_noise_drive(config, n_samples, seed, time_constants=None):
    """Membrane-noise drive of every hidden neuron and step, shape (n_samples, n_steps, n_hidden).

    The drive enters the membrane equation like a current held over one step. Its standard
    deviation is chosen so that an isolated neuron's potential fluctuates with standard deviation
    ``config.membrane_noise`` (the stationary variance of ``u[n] = a u[n-1] + (1 - a) xi[n]`` is
    ``var(xi) (1 - a) / (1 + a)``, ``a = exp(-dt / tau_mem)``).

    Parameters
    ----------
    seed : int, numpy.random.SeedSequence or numpy.random.Generator
        Drawn from the run's seed, a fresh stream per minibatch.
    time_constants : dict, optional
        Per-neuron ``tau_mem`` in seconds (default: the mean of ``config``).
    """
    n_hidden = config.n_exc + config.n_inh
    tau_mem = (np.full(n_hidden, float(config.tau_mem)) if time_constants is None
               else np.asarray(time_constants["tau_mem"], dtype=float))
    decay = np.exp(-float(config.dt) / tau_mem)
    scale = config.membrane_noise * np.sqrt((1 + decay) / (1 - decay))
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return rng.standard_normal((n_samples, config.n_steps, n_hidden)) * scale


READOUT_EQUATIONS = """
dv/dt = (I_syn - v) / tau_out_mem : 1             # readout potential (non-spiking)
dI_syn/dt = -I_syn / tau_out_syn : 1              # synaptic current from E neurons
"""

#: target variable of each projection (excitatory ones add to I_exc, inhibitory ones to I_inh)
PROJECTION_TARGETS = {"xe": "I_exc", "xi": "I_exc", "ee": "I_exc", "ei": "I_exc",
                      "ie": "I_inh", "ii": "I_inh", "eo": "I_syn"}

#: Brian2 Synapses objects and the projections each carries. A source population reaches all
#: hidden neurons through one Synapses object (E targets first, then I), so the compiled code runs
#: four synaptic pathways per time step instead of seven; the weights of e.g. ``x_to_hidden`` are
#: ``[w_xe | w_xi]`` (n_pre, n_exc + n_inh), kept in the per-projection form everywhere else.
SYNAPSE_PROJECTIONS = {"x_to_hidden": ("xe", "xi"), "e_to_hidden": ("ee", "ei"),
                       "i_to_hidden": ("ie", "ii"), "e_to_readout": ("eo",)}


def synapse_weights(config, weights, structure=None):
    """Flat weight arrays of the Brian2 Synapses objects (see ``SYNAPSE_PROJECTIONS``): all pairs
    in row-major order, or with a :class:`ei_brian.structure.Structure` its synapses only."""
    flat = {}
    for name, projections in SYNAPSE_PROJECTIONS.items():
        present = [p for p in projections if p in config.projections]
        if present and structure is not None:
            flat[name] = structure.block(present).gather(weights)
        elif present:
            flat[name] = np.ascontiguousarray(
                np.hstack([np.asarray(weights["w_" + p], dtype=np.float64) for p in present])).ravel()
    return flat


def initial_weights(config, seed, scale_exc=1.0, scale_inh=1.0, scale_readout=None):
    """Initial weights: magnitudes ``|N(0, (g / sqrt(fan_in))^2)|`` per projection.

    ``fan_in`` is the number of synapses a target neuron receives (``NetworkConfig.fan_in``); in a
    sparse network the draws are dense arrays, of which the structure keeps its synapses.

    Parameters
    ----------
    config : NetworkConfig
    seed : int or numpy.random.SeedSequence
        Seed of the weight draw (one independent stream per projection).
    scale_exc, scale_inh : float
        Gain ``g`` of excitatory (``xe, xi, ee, ei``) and inhibitory (``ie, ii``) projections.
    scale_readout : float, optional
        Gain of the readout projection ``eo``; defaults to ``scale_exc``.

    Returns
    -------
    dict of str to ndarray
        ``w_<projection>`` arrays of shape ``(n_pre, n_post)``. For the unbounded baseline the
        draws are signed normal with the excitatory gain.
    """
    sequence = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    streams = dict(zip(config.projections, sequence.spawn(len(config.projections))))
    weights = {}
    for name in config.projections:
        n_pre, n_post = config.projection_shape(name)
        rng = np.random.default_rng(streams[name])
        gain = scale_inh if name in ("ie", "ii") else scale_exc
        if name == "eo" and scale_readout is not None:
            gain = scale_readout
        draw = rng.normal(0.0, gain / np.sqrt(config.fan_in(name)), size=(n_pre, n_post))
        weights["w_" + name] = draw if config.unbounded else np.abs(draw)
    return weights


def check_weights(config, weights):
    """Check that ``weights`` has every projection of ``config`` with the right shape and sign."""
    expected = {"w_" + name for name in config.projections}
    missing = sorted(expected - set(weights))
    extra = sorted(set(weights) - expected)
    if missing or extra:
        raise ValueError(f"weights do not fit the network: missing {missing}, unexpected {extra}")
    for name in config.projections:
        array = np.asarray(weights["w_" + name])
        if array.shape != config.projection_shape(name):
            raise ValueError(f"w_{name} has shape {array.shape}, the network needs "
                             f"{config.projection_shape(name)} (n_pre, n_post)")
        if not np.all(np.isfinite(array)):
            raise ValueError(f"w_{name} holds NaN or infinite values")
        if not config.unbounded and np.any(array < 0):
            raise ValueError(f"w_{name} has negative entries, but Dale's law needs magnitudes >= 0")


def _connect(synapses, n_pre, n_post, block=None):
    """All-to-all, in row-major order of ``w[pre, post]``, so weights map to the array directly;
    with a structure's :class:`~ei_brian.structure.Block` its synapses, in the same order."""
    if block is None:
        synapses.connect(i=np.repeat(np.arange(n_pre), n_post), j=np.tile(np.arange(n_post), n_pre))
    else:
        synapses.connect(i=block.rows.astype(np.int32), j=block.columns.astype(np.int32))


def build_network(config=None, weights=None, input_indices=(), input_times=None, n_samples=1,
                  record_potentials=False, spike_capacity=None, time_constants=None,
                  membrane_noise=None, structure=None, name="ei"):
    """Create the Brian2 objects of an E/I network.

    (Brian2 2.9's equation parser calls pyparsing methods that pyparsing 3.3 deprecates; those
    warnings are silenced here, where the objects are made, since other libraries and notebooks
    may have put filters in front of the one set when ``ei_brian`` was imported.)

    Parameters
    ----------
    config : NetworkConfig, optional
        Defaults to ``NetworkConfig()`` (80:20, 160 hidden neurons).
    weights : dict, optional
        ``w_<projection>`` arrays (n_pre, n_post); zeros if omitted (set them later, or pass them
        with ``run_args`` in standalone mode).
    input_indices, input_times : array-like, Quantity
        Input spikes (channel, time); with ``spike_capacity`` they are placeholders.
    n_samples : int
        Samples carried by one run; the state is reset every ``config.n_steps`` steps.
    record_potentials : bool
        Also record hidden membrane potentials (after the state update, before the threshold).
    spike_capacity : int, optional
        For compiled runs: the input group holds this many spike slots whose channels and time
        bins are replaced at every run (unused slots lie after the end of the run).
    time_constants : dict, optional
        Per-neuron ``tau_mem``, ``tau_exc``, ``tau_inh`` in seconds (see
        ``NetworkConfig.time_constants``); used when the configuration asks for diversity.
    membrane_noise : ndarray (n_samples, n_steps, n_hidden), optional
        Membrane-noise drive (see :func:`membrane_noise_drive`); zeros if omitted when the
        configuration has membrane noise.
    structure : ei_brian.structure.Structure, optional
        The synapses of a sparse network (``config.sparse``); required then.
    name : str
        Prefix of the Brian2 object names.

    Returns
    -------
    dict
        ``network`` (a ``brian2.Network`` holding everything), ``input`` (SpikeGeneratorGroup),
        ``hidden`` (NeuronGroup), ``exc`` and ``inh`` (its E and I subgroups; ``inh`` is None
        without I neurons), ``readout`` (NeuronGroup), ``synapses`` (dict of the Brian2 Synapses
        objects by their name, ``x_to_hidden``, ``e_to_hidden``, ``i_to_hidden``,
        ``e_to_readout``: see ``SYNAPSE_PROJECTIONS`` for the projections each carries),
        ``spikes`` (SpikeMonitor of ``hidden``), ``readout_monitor`` (StateMonitor of the readout
        ``v``), ``potential_monitor`` (StateMonitor of hidden ``v`` or None).
    """
    # in front of the filters other libraries put since ei_brian was imported (Elephant shows
    # every UserWarning), for the statements Brian2 parses when the network runs
    quiet_brian2_warnings()
    with warnings.catch_warnings():
        quiet_brian2_warnings()
        return _build_network(config, weights, input_indices, input_times, n_samples,
                              record_potentials, spike_capacity, time_constants, membrane_noise,
                              structure, name)


def _lif_hidden(config, n_exc, n_inh, n_samples, dt, clock, time_constants, membrane_noise,
                name):
    """The hidden NeuronGroup of the default LIF model (its options: time-constant diversity,
    membrane noise), and the noise TimedArray or None."""
    namespace = {"v_threshold": config.v_threshold, "v_reset": config.v_reset}
    noise = None
    if config.membrane_noise > 0:
        values = np.zeros((n_samples * config.n_steps, n_exc + n_inh))
        if membrane_noise is not None:
            values[:] = np.asarray(membrane_noise).reshape(-1, n_exc + n_inh)
        noise = namespace["membrane_noise_drive"] = TimedArray(values, dt=dt,
                                                               name=f"{name}_membrane_noise")
    hidden = NeuronGroup(n_exc + n_inh, hidden_equations(config), threshold="v > v_threshold",
                         reset="v = v_reset", method="exponential_euler", clock=clock,
                         namespace=namespace, name=f"{name}_hidden")
    if config.heterogeneous:
        values = time_constants or config.time_constants(0)
        for variable in ("tau_mem", "tau_exc", "tau_inh"):
            setattr(hidden, variable, np.asarray(values[variable]) * second)
    else:
        hidden.tau_mem = config.tau_mem
        hidden.tau_exc = config.tau_exc
        hidden.tau_inh = config.tau_inh
    return hidden, noise


def _build_network(config, weights, input_indices, input_times, n_samples, record_potentials,
                   spike_capacity, time_constants, membrane_noise, structure, name):
    config = config or NetworkConfig()
    if config.sparse and structure is None:
        raise ValueError("this network is sparse (connectivity < 1): pass its structure "
                         "(ei_brian.structure.draw_structure(config, seed), or load_run's)")
    n_exc, n_inh = config.population_sizes()
    # explicitly named clocks and network: the generated code is then the same in every process,
    # so a cached compiled project is not rebuilt
    dt = config.dt
    clock = Clock(dt, name=f"{name}_clock")
    sample_clock = Clock(config.sample_duration, name=f"{name}_sample_clock")
    if spike_capacity is not None:
        total_steps = n_samples * config.n_steps
        slots = np.arange(spike_capacity)
        input_indices = slots % config.n_inputs
        input_times = (total_steps + slots // config.n_inputs) * dt
    elif input_times is None:
        input_times = [] * ms
    inputs = SpikeGeneratorGroup(config.n_inputs, np.asarray(input_indices, dtype=int), input_times,
                                 clock=clock, name=f"{name}_input")
    if spike_capacity is not None:
        # the spike slots are replaced through run_args at every compiled run
        for variable in ("neuron_index", "_timebins"):
            inputs.variables[variable].read_only = False

    if config.neuron_model != DEFAULT_MODEL:  # a model of its own (ei_brian.neuron_model)
        model = load_model(config.neuron_model)
        info = model_info(model, where=f"neuron model {model.name}")
        hidden = NeuronGroup(n_exc + n_inh, model.equations, threshold=model.threshold,
                             reset=model.reset, method=model.method, clock=clock,
                             namespace={name: item["quantity"]
                                        for name, item in info["parameters"].items()},
                             name=f"{name}_hidden")
        state_variables = tuple(info["state"])
        targets = {"I_exc": model.excitatory_target, "I_inh": model.inhibitory_target}
        noise = None
    else:
        hidden, noise = _lif_hidden(config, n_exc, n_inh, n_samples, dt, clock, time_constants,
                                    membrane_noise, name)
        state_variables = ("v", "I_exc", "I_inh")
        targets = {"I_exc": "I_exc", "I_inh": "I_inh"}
    exc = hidden[:n_exc]
    inh = hidden[n_exc:] if n_inh else None
    readout = NeuronGroup(config.n_outputs, READOUT_EQUATIONS, method="exponential_euler",
                          clock=clock,
                          namespace={"tau_out_mem": config.tau_out_mem,
                                     "tau_out_syn": config.tau_out_syn},
                          name=f"{name}_readout")
    for group, variables in ((hidden, state_variables), (readout, ("v", "I_syn"))):
        group.run_regularly("\n".join(f"{var} = 0" for var in variables), clock=sample_clock,
                            when="start", order=-1, name=f"{group.name}_sample_reset")

    sources = {"x_to_hidden": inputs, "e_to_hidden": exc, "i_to_hidden": inh,
               "e_to_readout": exc}
    post_groups = {"x_to_hidden": hidden, "e_to_hidden": hidden, "i_to_hidden": hidden,
                   "e_to_readout": readout}
    if weights is not None:
        check_weights(config, weights)
        flat_weights = synapse_weights(config, weights, structure)
    synapses = {}
    for synapse_name, projections in SYNAPSE_PROJECTIONS.items():
        if projections[0] not in config.projections:
            continue  # no I neurons
        pre, post = sources[synapse_name], post_groups[synapse_name]
        target = PROJECTION_TARGETS[projections[0]]
        synapse = Synapses(pre, post, "w : 1  # weight (a magnitude under Dale's law)",
                           on_pre=f"{targets.get(target, target)}_post += w",
                           clock=clock, name=f"{name}_{synapse_name}")
        _connect(synapse, len(pre), len(post),
                 None if structure is None else structure.block(projections))
        if weights is not None:
            synapse.w = flat_weights[synapse_name]
        synapses[synapse_name] = synapse

    spikes = SpikeMonitor(hidden, name=f"{name}_spikes")
    readout_monitor = StateMonitor(readout, "v", record=True, when="before_thresholds",
                                   clock=clock,
                                   name=f"{name}_readout_v")
    potential_monitor = None
    objects = [inputs, hidden, readout, *synapses.values(), spikes, readout_monitor]
    if record_potentials:
        potential_monitor = StateMonitor(hidden, state_variables[0], record=True,
                                         when="before_thresholds",
                                         clock=clock,
                                         name=f"{name}_hidden_v")
        objects.append(potential_monitor)
    return {"network": Network(*objects, name=f"{name}_network"), "input": inputs, "hidden": hidden, "exc": exc, "inh": inh,
            "readout": readout, "synapses": synapses, "spikes": spikes,
            "readout_monitor": readout_monitor, "potential_monitor": potential_monitor,
            "noise": noise}
