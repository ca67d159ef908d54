"""Noise during training: each knob changes what it should, by the expected amount, reproducibly."""
import math

import numpy as np
import pytest

from ei_brian import noise, streams
from ei_brian.config import NetworkConfig
from ei_brian.encoding import SpikeInput
from ei_brian.optimizers import Adam
from ei_brian.training import update_weights


def random_updates(seed=0):
    rng = np.random.default_rng(seed)
    return {"w_xe": rng.normal(0, 1e-3, (300, 100)), "w_ie": rng.normal(0, 1e-2, (100, 200))}


def flat(arrays):
    return np.concatenate([np.ravel(arrays[key]) for key in sorted(arrays)])


def test_minibatch_seeds_depend_only_on_their_key():
    state = lambda *args: noise.minibatch_seed(*args).generate_state(4).tolist()  # noqa: E731
    assert state(3, "update", 2, 5) == state(3, "update", 2, 5)
    others = [state(3, "update", 2, 6), state(3, "update", 1, 5), state(4, "update", 2, 5),
              state(3, "input", 2, 5), state(3, "membrane", 2, 5),
              *(streams.stream(3, name).generate_state(4).tolist() for name in streams.STREAMS)]
    assert state(3, "update", 2, 5) not in others
    with pytest.raises(ValueError, match="unknown noise stream"):
        noise.minibatch_seed(3, "synapse", 0, 0)


@pytest.mark.parametrize("kind", ["relative", "absolute"])
def test_update_noise_has_the_expected_spread(kind):
    clean = random_updates()
    eta = 0.1
    noisy = noise.add_update_noise(clean, eta, kind, seed=1)
    difference = flat(noisy) - flat(clean)
    scale = np.abs(flat(clean)) if kind == "relative" else 1.0
    z = difference / scale
    n = z.size  # 50,000 elements: the standard error of the std is eta / sqrt(2 n) = 0.3 % of eta
    assert abs(z.std() / eta - 1) < 5 / math.sqrt(2 * n)
    assert abs(z.mean()) < 5 * eta / math.sqrt(n)
    for key in clean:  # the input is not changed
        np.testing.assert_array_equal(clean[key], random_updates()[key])


def test_update_noise_is_reproducible_by_seed_and_off_at_zero():
    clean = random_updates()
    a = noise.add_update_noise(clean, 0.2, "relative", seed=np.random.SeedSequence(5))
    b = noise.add_update_noise(clean, 0.2, "relative", seed=np.random.SeedSequence(5))
    c = noise.add_update_noise(clean, 0.2, "relative", seed=np.random.SeedSequence(6))
    np.testing.assert_array_equal(flat(a), flat(b))
    assert np.mean(flat(a) != flat(c)) > 0.99
    np.testing.assert_array_equal(flat(noise.add_update_noise(clean, 0.0, seed=None)), flat(clean))
    with pytest.raises(ValueError, match="kind"):
        noise.add_update_noise(clean, 0.1, "multiplicative", seed=0)


def test_update_noise_comes_before_the_dale_projection():
    config = NetworkConfig(ratio="80:20", n_hidden=10, n_inputs=20, n_outputs=2)
    rng = np.random.default_rng(0)
    weights = {"w_" + name: rng.uniform(0, 0.02, config.projection_shape(name))
               for name in config.projections}
    grads = {key: rng.normal(0, 1, value.shape) for key, value in weights.items()}
    before = {key: value.copy() for key, value in weights.items()}
    # Adam's first step moves every element by about the learning rate (0.01), so with
    # eta = 1 (relative) many elements cross zero only because of the noise
    applied = update_weights(config, weights, Adam(0.01), grads, update_noise=1.0,
                             update_noise_kind="relative", seed=9)
    clean = Adam(0.01).updates(grads)
    expected = noise.add_update_noise(clean, 1.0, "relative", seed=9)
    for key in weights:
        np.testing.assert_array_equal(applied[key], expected[key])
        np.testing.assert_array_equal(weights[key], np.maximum(before[key] + expected[key], 0))
    noisy_sum, clean_sum = flat(before) + flat(expected), flat(before) + flat(clean)
    crossed = (noisy_sum < 0) & (clean_sum >= 0)   # pushed below zero by the noise alone
    assert crossed.sum() > 20  # of 316 elements
    assert np.all(flat(weights)[crossed] == 0) and np.all(flat(weights) >= 0)
    # the unbounded baseline is not clipped
    free = NetworkConfig(unbounded=True, n_hidden=10, n_inputs=20, n_outputs=2)
    w = {"w_" + name: np.zeros(free.projection_shape(name)) for name in free.projections}
    g = {key: rng.normal(0, 1, value.shape) for key, value in w.items()}
    applied = update_weights(free, w, Adam(0.01), g, update_noise=0.5, seed=2)
    for key in w:
        np.testing.assert_array_equal(w[key], applied[key])
    assert flat(w).min() < 0


# ---------------------------------------------------------------------------------------------
# input noise

def dense_input(n_samples=20, n_steps=100, n_channels=200, density=0.05, seed=0):
    rng = np.random.default_rng(seed)
    return SpikeInput.from_dense(rng.random((n_samples, n_steps, n_channels)) < density)


def cells(spike_input):
    return set(spike_input._flat_index().tolist())


def test_deletion_removes_the_expected_fraction():
    spikes = dense_input()
    p = 0.2
    kept = noise.perturb_input(spikes, deletion=p, seed=1)
    assert cells(kept) <= cells(spikes)
    n = spikes.n_spikes  # about 20,000
    fraction = 1 - kept.n_spikes / n
    assert abs(fraction - p) < 5 * math.sqrt(p * (1 - p) / n)


def test_insertion_fills_the_expected_number_of_empty_cells():
    spikes = dense_input()
    p = 0.01
    out = noise.perturb_input(spikes, insertion=p, seed=2)
    assert cells(spikes) <= cells(out)
    empty = spikes.n_samples * spikes.n_steps * spikes.n_channels - spikes.n_spikes
    inserted = out.n_spikes - spikes.n_spikes
    assert abs(inserted - p * empty) < 5 * math.sqrt(empty * p * (1 - p))
    # spread evenly: as many in the first half of each sample as in the second
    new = np.array(sorted(cells(out) - cells(spikes)))
    step = (new // spikes.n_channels) % spikes.n_steps
    early = np.sum(step < spikes.n_steps // 2)
    assert abs(early - inserted / 2) < 5 * math.sqrt(inserted / 4)
    assert inserted <= noise.insertion_capacity(empty, p)
    # the extremes
    full = noise.perturb_input(spikes, insertion=1.0, seed=3)
    assert full.n_spikes == spikes.n_samples * spikes.n_steps * spikes.n_channels


def test_jitter_moves_spikes_by_the_given_spread():
    # one spike per (sample, channel) in the middle of the sample, as in a latency code: each
    # spike can be followed, and no two can merge
    n_samples, n_channels, n_steps = 50, 200, 100
    dense = np.zeros((n_samples, n_steps, n_channels), dtype=bool)
    dense[:, 50, :] = True
    spikes = SpikeInput.from_dense(dense, dt=1e-3)
    jitter = 5e-3
    out = noise.perturb_input(spikes, jitter=jitter, seed=4)
    assert out.n_spikes == spikes.n_spikes
    order = np.lexsort((out.channel, out.sample))
    displacement = out.step[order] - 50
    n = displacement.size
    expected = math.sqrt((jitter / 1e-3) ** 2 + 1 / 12)  # Gaussian rounded to whole steps
    assert abs(displacement.std() - expected) < 5 * expected / math.sqrt(2 * n)
    assert abs(displacement.mean()) < 5 * expected / math.sqrt(n)


def test_perturbed_input_is_valid_and_reproducible_by_seed():
    spikes = dense_input(density=0.2)
    options = dict(jitter=30e-3, deletion=0.1, insertion=0.02)
    a = noise.perturb_input(spikes, seed=np.random.SeedSequence(8), **options)
    b = noise.perturb_input(spikes, seed=np.random.SeedSequence(8), **options)
    c = noise.perturb_input(spikes, seed=np.random.SeedSequence(9), **options)
    # SpikeInput checks order, ranges and at most one spike per cell when it is built; again here
    keys = a._flat_index()
    assert np.all(np.diff(keys) > 0) and a.step.min() >= 0 and a.step.max() < spikes.n_steps
    for name in ("sample", "step", "channel"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert cells(a) != cells(c)
    assert noise.perturb_input(spikes) is spikes  # all levels 0: nothing drawn, nothing changed
    with pytest.raises(ValueError, match="seed"):
        noise.perturb_input(spikes, deletion=0.1)
    with pytest.raises(ValueError, match="probability"):
        noise.perturb_input(spikes, deletion=1.5, seed=0)
