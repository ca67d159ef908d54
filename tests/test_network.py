"""The Brian2 builder in interactive (runtime) use, as a notebook user would run it."""
import numpy as np
import pytest

from conftest import active_weights, random_input, small_config
from ei_brian import gradients
from ei_brian.network import SYNAPSE_PROJECTIONS, build_network, initial_weights
from ei_brian.trained import spike_generator_arguments


def projection_weights(config, synapses, structure=None):
    """Per-projection ``w_<projection>`` arrays read back from the Synapses objects of a network
    (runtime mode, after a run or after setting ``w``); zeros where ``structure`` has no synapse."""
    n_exc = config.n_exc
    weights = {}
    if structure is not None:
        for name, synapse in synapses.items():
            projections = [p for p in SYNAPSE_PROJECTIONS[name] if p in config.projections]
            weights.update(structure.block(projections).scatter(np.asarray(synapse.w[:])))
        return weights
    for name, synapse in synapses.items():
        projections = [p for p in SYNAPSE_PROJECTIONS[name] if p in config.projections]
        n_pre = config.projection_shape(projections[0])[0]
        matrix = np.asarray(synapse.w[:]).reshape(n_pre, -1)
        if len(projections) == 1:
            weights["w_" + projections[0]] = matrix
        else:
            weights["w_" + projections[0]] = matrix[:, :n_exc]
            weights["w_" + projections[1]] = matrix[:, n_exc:]
    return weights


def test_interactive_network_runs_with_brian2_tools(numpy_target):
    config = small_config()
    weights = active_weights(config)
    spike_input = random_input(config, 2)
    indices, times = spike_generator_arguments(spike_input)  # samples one after another
    parts = build_network(config, weights=weights, input_indices=indices,
                          input_times=times, n_samples=2, record_potentials=True, name="nb")
    parts["network"].run(2 * config.sample_duration)
    assert len(parts["exc"]) == 16 and len(parts["inh"]) == 4
    # the same spikes as the discrete model the gradients follow
    steps = np.rint(parts["spikes"].t / config.dt).astype(int)
    spikes = np.zeros((2 * config.n_steps, config.n_hidden), dtype=bool)
    spikes[steps, parts["spikes"].i[:]] = True
    free = gradients.forward(config, weights, spike_input)
    assert np.array_equal(spikes.reshape(2, config.n_steps, -1), free.spikes)
    # weights read back per projection
    back = projection_weights(config, parts["synapses"])
    for name, array in weights.items():
        np.testing.assert_array_equal(back[name], array)


def test_missing_or_misshapen_weights_are_refused(numpy_target):
    config = small_config()
    weights = initial_weights(config, 0)
    with pytest.raises(ValueError, match="missing"):
        build_network(config, weights={k: v for k, v in weights.items() if k != "w_ii"}, name="a")
    with pytest.raises(ValueError, match="n_pre, n_post"):
        build_network(config, weights=dict(weights, w_eo=weights["w_eo"].T), name="b")
