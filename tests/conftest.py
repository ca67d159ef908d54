"""Shared fixtures: small networks and inputs with recurrent E and I activity."""
import numpy as np
import pytest

from brian2 import prefs

from ei_brian.config import NetworkConfig
from ei_brian.encoding import SpikeInput
from ei_brian.network import initial_weights


def small_config(**overrides):
    values = dict(ratio="80:20", n_hidden=20, n_inputs=30, n_outputs=3, n_steps=60)
    values.update(overrides)
    return NetworkConfig(**values)


def random_input(config, n_samples, density=0.03, seed=1):
    rng = np.random.default_rng(seed)
    dense = rng.random((n_samples, config.n_steps, config.n_inputs)) < density
    return SpikeInput.from_dense(dense, dt=float(config.dt))


def active_weights(config, seed=0):
    """Weights strong enough that E and I neurons both spike (recurrent activity)."""
    return initial_weights(config, seed, scale_exc=2.0, scale_inh=2.0, scale_readout=2.0)


@pytest.fixture
def small():
    config = small_config()
    return config, active_weights(config), random_input(config, 4)


@pytest.fixture
def numpy_target():
    """Brian2's runtime device with NumPy code (no compilation), as in a notebook."""
    previous = prefs.codegen.target
    prefs.codegen.target = "numpy"
    yield
    prefs.codegen.target = previous
