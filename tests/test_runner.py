"""The compiled Brian2 network: its recordings, the replay the gradients assume, run_args files."""
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import active_weights, random_input, small_config
from ei_brian import gradients
from ei_brian.network import membrane_noise_drive
from ei_brian.runner import CompiledNetwork

pytestmark = pytest.mark.compiled


@pytest.fixture(scope="module")
def compiled():
    config = small_config()
    with CompiledNetwork(config, samples_per_run=6, spike_capacity=2000, record_potentials=True,
                         verbose=False) as network:
        yield network


def static_arrays(network):
    return sorted(os.listdir(os.path.join(network.directory, "static_arrays")))


def test_replay_reproduces_the_compiled_run(compiled):
    config = compiled.config
    weights = active_weights(config)
    spike_input = random_input(config, 5)  # fewer samples than the run carries: padded
    result = compiled.run(weights, spike_input)
    assert result.hidden_spikes.shape == (5, config.n_steps, config.n_hidden)
    n_exc_spikes = result.hidden_spikes[..., :config.n_exc].sum()
    n_inh_spikes = result.hidden_spikes[..., config.n_exc:].sum()
    assert n_exc_spikes > 20 and n_inh_spikes > 10  # recurrent E and I activity
    free = gradients.forward(config, weights, spike_input)
    assert np.array_equal(free.spikes, result.hidden_spikes)
    assert np.abs(free.u - result.potentials).max() < 1e-9
    assert np.abs(free.readout - result.readout).max() < 1e-9
    replay = gradients.forward(config, weights, spike_input, hidden_spikes=result.hidden_spikes)
    assert np.abs(replay.u - result.potentials).max() < 1e-9


def test_new_weights_and_inputs_change_the_run_and_leave_no_files(compiled):
    config = compiled.config
    before = static_arrays(compiled)
    first = compiled.run(active_weights(config, seed=0), random_input(config, 6, seed=2))
    second = compiled.run(active_weights(config, seed=5), random_input(config, 6, seed=2))
    third = compiled.run(active_weights(config, seed=5), random_input(config, 6, seed=3))
    assert not np.array_equal(first.hidden_spikes, second.hidden_spikes)
    assert not np.array_equal(second.hidden_spikes, third.hidden_spikes)
    again = compiled.run(active_weights(config, seed=0), random_input(config, 6, seed=2))
    assert np.array_equal(first.hidden_spikes, again.hidden_spikes)
    assert static_arrays(compiled) == before


def test_samples_are_independent_state_is_reset_between_them(compiled):
    config = compiled.config
    weights = active_weights(config)
    batch = random_input(config, 6, seed=4)
    whole = compiled.run(weights, batch)
    alone = compiled.run(weights, batch.subset(3, 4))
    assert np.array_equal(whole.hidden_spikes[3], alone.hidden_spikes[0])
    np.testing.assert_allclose(whole.potentials[3], alone.potentials[0], atol=1e-12)


def test_bad_runs_are_refused(compiled):
    config = compiled.config
    weights = active_weights(config)
    with pytest.raises(ValueError, match="do not fit"):
        compiled.run(weights, random_input(config, 7))
    with pytest.raises(ValueError, match="capacity"):
        compiled.run(weights, random_input(config, 6, density=0.5))
    negative = dict(weights, w_ie=-weights["w_ie"])
    with pytest.raises(ValueError, match="Dale"):
        compiled.run(negative, random_input(config, 2))
    with pytest.raises(ValueError, match="shape"):
        compiled.run(dict(weights, w_xe=weights["w_xe"][:5]), random_input(config, 2))


def test_unbounded_network_replay_matches():
    config = small_config(unbounded=True)
    weights = active_weights(config)
    spike_input = random_input(config, 3)
    with CompiledNetwork(config, samples_per_run=3, spike_capacity=2000, record_potentials=True,
                         verbose=False) as network:
        result = network.run(weights, spike_input)
    assert (weights["w_ee"] < 0).any()
    free = gradients.forward(config, weights, spike_input)
    assert result.hidden_spikes.sum() > 10
    assert np.array_equal(free.spikes, result.hidden_spikes)
    assert np.abs(free.u - result.potentials).max() < 1e-9


BUILD_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from conftest import small_config
from ei_brian.runner import CompiledNetwork
CompiledNetwork(small_config(n_hidden=10), samples_per_run=2, verbose=False).close()
"""


def test_a_second_process_with_the_same_architecture_does_not_recompile(tmp_path):
    script = BUILD_SCRIPT.format(tests=os.path.dirname(__file__))
    env = dict(os.environ, EI_BRIAN_CACHE=str(tmp_path))
    subprocess.run([sys.executable, "-c", script], check=True, env=env)
    (project,) = tmp_path.iterdir()
    binary = project / "main"
    stamp = binary.stat().st_mtime_ns
    for _ in range(3):  # Brian2's code generation varies a little between processes
        subprocess.run([sys.executable, "-c", script], check=True, env=env)
        assert binary.stat().st_mtime_ns == stamp


def test_diverse_time_constants_and_membrane_noise_reach_the_compiled_run():
    config = small_config(tau_spread_exc=0.3, tau_spread_inh=0.5, inh_tau_factor=2.0,
                          membrane_noise=0.3)
    weights = active_weights(config)
    spike_input = random_input(config, 3)
    time_constants = config.time_constants(seed=11)
    noise = membrane_noise_drive(config, 3, seed=5, time_constants=time_constants)
    with CompiledNetwork(config, samples_per_run=3, spike_capacity=2000, record_potentials=True,
                         verbose=False) as network:
        result = network.run(weights, spike_input, time_constants=time_constants,
                             membrane_noise=noise)
        other = network.run(weights, spike_input, time_constants=config.time_constants(seed=12),
                            membrane_noise=noise)
        with pytest.raises(ValueError, match="time_constants"):
            network.run(weights, spike_input, membrane_noise=noise)
    free = gradients.forward(config, weights, spike_input, time_constants=time_constants,
                             membrane_noise=noise)
    assert np.array_equal(free.spikes, result.hidden_spikes)
    assert np.abs(free.u - result.potentials).max() < 1e-9
    assert not np.allclose(other.potentials, result.potentials)


def test_membrane_noise_gives_the_stated_variance_on_an_isolated_neuron():
    # no input, threshold out of reach: the potential is the filtered noise alone
    config = small_config(n_hidden=10, n_steps=200, membrane_noise=0.25, v_threshold=1e6)
    weights = {name: np.zeros(shape) for name, shape in
               ((f"w_{p}", config.projection_shape(p)) for p in config.projections)}
    n_samples = 20
    noise = membrane_noise_drive(config, n_samples, seed=0)
    empty = random_input(config, n_samples, density=0.0)
    with CompiledNetwork(config, samples_per_run=n_samples, spike_capacity=10,
                         record_potentials=True, verbose=False) as network:
        result = network.run(weights, empty, membrane_noise=noise)
    stationary = result.potentials[:, 50:, :]  # after 10 membrane time constants
    # 20 samples x 150 steps x 10 neurons, correlated over ~20 steps: the std is known to ~3%
    assert stationary.std() == pytest.approx(0.25, rel=0.08)
    assert abs(stationary.mean()) < 0.03
