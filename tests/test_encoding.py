"""Tests of ei_brian.encoding: latency and Poisson spike codes."""
import math

import numpy as np
import pytest

from ei_brian.encoding import (SpikeInput, latency_encode, latency_times, poisson_encode)


def _is_sorted_unique(spikes):
    keys = (spikes.sample * spikes.n_steps + spikes.step) * spikes.n_channels + spikes.channel
    return bool(np.all(np.diff(keys) > 0))


# --------------------------------------------------------------------------------------------------
# latency
# --------------------------------------------------------------------------------------------------

def test_latency_hand_computed_values():
    # channel:        0    1    2     3    4      5      6
    x = np.array([[1.0, 0.2, 0.1, 0.3, 0.0, 0.201, 0.21]])
    spikes = latency_encode(x, n_steps=100, dt=1e-3, tau_eff=20e-3, threshold=0.2)
    # x = 1:     t = 0.02 * ln(1 / 0.8) = 4.46 ms  -> step 4
    # x = 0.3:   t = 0.02 * ln(3)       = 21.97 ms -> step 21
    # x = 0.21:  t = 0.02 * ln(21)      = 60.89 ms -> step 60
    # x = 0.201: t = 0.02 * ln(201)     = 106.1 ms -> after 100 ms, dropped
    # x <= 0.2: no spike
    assert 0.02 * math.log(1 / 0.8) == pytest.approx(4.4629e-3, abs=1e-7)
    assert dict(zip(spikes.channel.tolist(), spikes.step.tolist())) == {0: 4, 3: 21, 6: 60}
    assert spikes.n_spikes == 3
    assert spikes.sample.tolist() == [0, 0, 0]
    # sorted by step within the sample
    assert spikes.channel.tolist() == [0, 3, 6]
    assert (spikes.n_samples, spikes.n_steps, spikes.n_channels) == (1, 100, 7)
    for array in (spikes.sample, spikes.step, spikes.channel):
        assert array.dtype == np.int64


def test_latency_times_function():
    times = latency_times(np.array([1.0, 0.3, 0.2, 0.0]))
    assert times[0] == pytest.approx(0.02 * math.log(1.25))
    assert times[1] == pytest.approx(0.02 * math.log(3))
    assert np.isinf(times[2]) and np.isinf(times[3])


def test_latency_step_is_floor_of_t_over_dt():
    rng = np.random.default_rng(1)
    x = rng.random((5, 50))
    dt, tau, theta = 0.5e-3, 10e-3, 0.3
    spikes = latency_encode(x, n_steps=40, dt=dt, tau_eff=tau, threshold=theta)
    dense = spikes.dense()
    t = np.where(x > theta, tau * np.log(x / np.maximum(x - theta, 1e-300)), np.inf)
    expected_step = np.floor(t / dt)
    for s, c in np.ndindex(x.shape):
        k = expected_step[s, c]
        if k < 40:
            assert dense[s, :, c].sum() == 1 and dense[s, int(k), c] == 1
        else:
            assert dense[s, :, c].sum() == 0


def test_latency_shorter_window_drops_late_spikes():
    x = np.array([[1.0, 0.3]])
    spikes = latency_encode(x, n_steps=10)
    assert spikes.channel.tolist() == [0]  # the 21.97 ms spike falls outside 10 ms


def test_latency_at_most_one_spike_per_pixel_sorted_and_dense_round_trip():
    rng = np.random.default_rng(0)
    x = rng.random((20, 784))
    x[:, :100] = 0.0
    spikes = latency_encode(x)
    dense = spikes.dense(dtype=np.uint8)
    assert dense.shape == (20, 100, 784)
    assert dense.max() <= 1
    assert dense.sum(axis=1).max() == 1  # at most one spike per (sample, channel)
    assert dense[:, :, :100].sum() == 0
    assert dense.sum() == spikes.n_spikes
    assert _is_sorted_unique(spikes)
    again = SpikeInput.from_dense(dense, dt=spikes.dt)
    for name in ("sample", "step", "channel"):
        np.testing.assert_array_equal(getattr(again, name), getattr(spikes, name))


def test_latency_brighter_spikes_earlier():
    x = np.linspace(0.25, 1.0, 16)[None, :]
    spikes = latency_encode(x, n_steps=1000)
    assert spikes.n_spikes == 16
    assert np.all(np.diff(spikes.step) >= 0)  # one sample: sorted by step
    steps_by_channel = spikes.step[np.argsort(spikes.channel)]
    assert np.all(np.diff(steps_by_channel) <= 0)


def test_latency_empty_and_dark_batches():
    spikes = latency_encode(np.zeros((3, 5)))
    assert spikes.n_spikes == 0 and spikes.dense().shape == (3, 100, 5)
    assert latency_encode(np.zeros((0, 5))).n_spikes == 0


@pytest.mark.parametrize("x, message", [
    (np.zeros(5), "shape"),
    (np.zeros((2, 2, 2)), "shape"),
    (np.full((2, 3), 1.5), r"\[0, 1\]"),
    (np.full((2, 3), -0.1), r"\[0, 1\]"),
    (np.array([[np.nan, 0.5]]), "NaN"),
    (np.array([["a", "b"]]), "real numbers"),
])
def test_latency_rejects_bad_images(x, message):
    with pytest.raises(ValueError, match=message):
        latency_encode(x)


@pytest.mark.parametrize("kwargs, message", [
    ({"n_steps": 0}, "n_steps"),
    ({"n_steps": 2.5}, "n_steps"),
    ({"dt": 0.0}, "dt"),
    ({"dt": -1e-3}, "dt"),
    ({"tau_eff": 0.0}, "tau_eff"),
    ({"tau_eff": float("inf")}, "tau_eff"),
    ({"threshold": 1.0}, "threshold"),
    ({"threshold": -0.1}, "threshold"),
])
def test_latency_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        latency_encode(np.zeros((1, 4)), **kwargs)


# --------------------------------------------------------------------------------------------------
# Poisson
# --------------------------------------------------------------------------------------------------

def test_poisson_spike_count_matches_expectation():
    rng = np.random.default_rng(5)
    x = rng.random((50, 784))
    n_steps, dt, max_rate = 100, 1e-3, 100.0
    spikes = poisson_encode(x, n_steps=n_steps, dt=dt, max_rate=max_rate, seed=11)
    p = x * max_rate * dt
    expected = n_steps * p.sum()
    sigma = math.sqrt(n_steps * (p * (1 - p)).sum())
    assert abs(spikes.n_spikes - expected) < 5 * sigma
    # per-pixel rates follow x: correlation of counts with x is high
    counts = spikes.dense(dtype=np.int32).sum(axis=1)
    assert np.corrcoef(counts.ravel(), x.ravel())[0, 1] > 0.7  # about 0.8 expected
    assert _is_sorted_unique(spikes)
    assert spikes.dense().max() == 1


def test_poisson_reproducible_per_seed_and_different_across_seeds():
    x = np.full((4, 30), 0.5)
    a = poisson_encode(x, seed=3)
    b = poisson_encode(x, seed=3)
    c = poisson_encode(x, seed=4)
    np.testing.assert_array_equal(a.dense(), b.dense())
    assert not np.array_equal(a.dense(), c.dense())
    d = poisson_encode(x, seed=np.random.SeedSequence(3))
    np.testing.assert_array_equal(a.dense(), d.dense())


def test_poisson_does_not_depend_on_chunk_size(monkeypatch):
    from ei_brian import encoding
    x = np.random.default_rng(2).random((7, 13))
    reference = np.random.default_rng(9).random((7, 100, 13)) < x[:, None, :] * 0.1
    monkeypatch.setattr(encoding, "POISSON_CHUNK_DRAWS", 2 * 100 * 13)  # 2 samples per chunk
    chunked = poisson_encode(x, seed=9)
    np.testing.assert_array_equal(chunked.dense(dtype=bool), reference)


def test_poisson_zero_and_full_probability():
    x = np.zeros((2, 5))
    assert poisson_encode(x, seed=0).n_spikes == 0
    full = poisson_encode(np.ones((2, 5)), n_steps=10, dt=1e-3, max_rate=1000.0, seed=0)
    assert full.n_spikes == 2 * 10 * 5


@pytest.mark.parametrize("kwargs, message", [
    ({"max_rate": 2000.0}, "probability above 1"),
    ({"max_rate": 0.0}, "max_rate"),
    ({"n_steps": -1}, "n_steps"),
    ({"dt": float("nan")}, "dt"),
    ({"seed": None}, "seed"),
])
def test_poisson_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        poisson_encode(np.zeros((1, 4)), **kwargs)


def test_poisson_rejects_bad_images():
    with pytest.raises(ValueError, match="shape"):
        poisson_encode(np.zeros(4), seed=0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        poisson_encode(np.full((1, 4), 255.0), seed=0)


# --------------------------------------------------------------------------------------------------
# SpikeInput
# --------------------------------------------------------------------------------------------------

def test_spike_input_checks_order_range_and_duplicates():
    ok = SpikeInput(np.array([0, 0, 1]), np.array([0, 2, 1]), np.array([3, 0, 0]), 2, 3, 4)
    assert ok.n_spikes == 3
    np.testing.assert_allclose(ok.times(), [0.0, 2e-3, 1e-3])
    assert ok.duration == pytest.approx(3e-3)
    with pytest.raises(ValueError, match="sorted"):
        SpikeInput(np.array([1, 0]), np.array([0, 0]), np.array([0, 0]), 2, 3, 4)
    with pytest.raises(ValueError, match="sorted"):  # duplicate spike
        SpikeInput(np.array([0, 0]), np.array([1, 1]), np.array([2, 2]), 2, 3, 4)
    with pytest.raises(ValueError, match="channel must lie"):
        SpikeInput(np.array([0]), np.array([0]), np.array([4]), 2, 3, 4)
    with pytest.raises(ValueError, match="same length"):
        SpikeInput(np.array([0]), np.array([0, 1]), np.array([0]), 2, 3, 4)
    with pytest.raises(ValueError, match="integer"):
        SpikeInput(np.array([0.5]), np.array([0]), np.array([0]), 2, 3, 4)
