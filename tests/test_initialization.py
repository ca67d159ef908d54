"""Initialization schemes: each knob moves the initial firing rate, and each lands where it says."""
import csv
import hashlib
import json
import math
import os
import warnings

import numpy as np
import pytest
from brian2 import Hz
from conftest import random_input, small_config

from ei_brian import gradients, initialization, streams
from ei_brian.config import NetworkConfig, TrainConfig
from ei_brian.encoding import SpikeInput
from ei_brian.network import initial_weights


def rate_measure(config, spike_input):
    """``measure(weights) -> (rate_exc_hz, rate_inh_hz)`` with the NumPy forward pass."""
    seconds = spike_input.n_samples * config.n_steps * float(config.dt)

    def measure(weights):
        spikes = gradients.forward(config, weights, spike_input).spikes
        rate_exc = spikes[..., :config.n_exc].sum() / (config.n_exc * seconds)
        rate_inh = (spikes[..., config.n_exc:].sum() / (config.n_inh * seconds)
                    if config.n_inh else float("nan"))
        return float(rate_exc), float(rate_inh)
    return measure


# ---------------------------------------------------------------------------------------------
# scale

#: SHA-256 of the default network's initial weights for seed 0 (sorted names, little-endian
#: float64), recorded when the study's first runs were made; a change here changes every result
DEFAULT_WEIGHTS_SHA256 = "10d2722891b36b53d57419b0ac2ff3b7366e5fcb2d3a56b3b00d4ecaec3f6f5f"


def test_the_default_initial_weights_are_pinned():
    config = NetworkConfig()
    weights, info = initialization.initialize(config, TrainConfig(),
                                              streams.stream(0, "initial-weights"))
    assert info["scheme"] == "scale"
    digest = hashlib.sha256()
    for key in sorted(weights):
        digest.update(key.encode())
        digest.update(np.ascontiguousarray(weights[key], dtype="<f8").tobytes())
    assert digest.hexdigest() == DEFAULT_WEIGHTS_SHA256
    # the scale scheme's default is initial_weights with the default gains
    expected = initial_weights(config, streams.stream(0, "initial-weights"), 0.4, 0.8, 10.0)
    assert sorted(weights) == sorted(expected)
    for key in expected:
        np.testing.assert_array_equal(weights[key], expected[key])


@pytest.mark.parametrize("distribution", initialization.DISTRIBUTIONS)
def test_every_distribution_has_rms_g_over_sqrt_fan_in(distribution):
    rng = np.random.default_rng(0)
    draws = initialization.draw_magnitudes(rng, distribution, 0.3, (1_000_000,))
    assert draws.min() >= 0
    # standard error of the rms below 0.4 % for all three (log-normal: CV of w^2 is 7.3)
    assert math.sqrt(np.mean(draws ** 2)) == pytest.approx(0.3, rel=0.02)
    assert draws.mean() / 0.3 == pytest.approx(initialization.mean_over_rms(distribution), rel=0.02)
    config = small_config()
    weights = initialization.scale_weights(config, 1, 0.5, 1.5, 2.0, distribution)
    for name, gain in (("xe", 0.5), ("ie", 1.5), ("eo", 2.0)):
        w = weights[f"w_{name}"]
        assert w.min() >= 0
        assert math.sqrt(np.mean(w ** 2)) == pytest.approx(gain / math.sqrt(w.shape[0]), rel=0.5)
    signed = initialization.scale_weights(config.replace(unbounded=True), 1, 1.0, 1.0, 1.0,
                                          distribution)
    assert (signed["w_xe"] < 0).mean() == pytest.approx(0.5, abs=0.1)


@pytest.mark.parametrize("distribution", initialization.DISTRIBUTIONS)
def test_the_initial_rate_follows_the_scale(distribution):
    config = small_config(n_steps=100)
    measure = rate_measure(config, random_input(config, 16))
    rates = np.array([measure(initialization.scale_weights(config, 0, g, g, 2.0, distribution))
                      for g in (1, 2, 4, 8)])
    assert rates[0, 0] > 0 and rates[0, 1] > 0
    assert np.all(np.diff(rates[:, 0]) > 0) and np.all(np.diff(rates[:, 1]) > 0), rates


# ---------------------------------------------------------------------------------------------
# target rate

@pytest.mark.parametrize("target_exc, target_inh", [(5.0, None), (1.0, 1.0), (40.0, 40.0),
                                                    (10.0, 8.0)])
def test_target_rate_lands_within_ten_percent(target_exc, target_inh):
    config = small_config(n_steps=100)
    measure = rate_measure(config, random_input(config, 32))
    start = initialization.scale_weights(config, 0, 2.0, 2.0, 2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", initialization.InitializationWarning)
        weights, info = initialization.calibrate_rates(config, start, measure, target_exc,
                                                       target_inh)
    rate_exc, rate_inh = measure(weights)
    assert rate_exc == pytest.approx(target_exc, rel=0.1)
    assert rate_inh == pytest.approx(target_inh or target_exc, rel=0.1)
    assert info["reached"] and (info["rate_exc_hz"], info["rate_inh_hz"]) == (rate_exc, rate_inh)
    assert info["n_measurements"] == len(info["measurements"]) > 1
    # excitatory projections share one factor, inhibitory ones another; the readout is untouched
    for name in ("xe", "xi", "ee", "ei"):
        np.testing.assert_allclose(weights[f"w_{name}"], start[f"w_{name}"] * info["factor_exc"])
    for name in ("ie", "ii"):
        np.testing.assert_allclose(weights[f"w_{name}"], start[f"w_{name}"] * info["factor_inh"])
    np.testing.assert_array_equal(weights["w_eo"], start["w_eo"])


def test_an_unreachable_target_warns_with_the_reason():
    config = small_config(n_steps=100)
    start = initialization.scale_weights(config, 0, 2.0, 2.0, 2.0)
    no_input = SpikeInput.from_dense(np.zeros((4, config.n_steps, config.n_inputs), bool))
    with pytest.warns(initialization.InitializationWarning, match="silent at every excitatory"):
        _, info = initialization.calibrate_rates(config, start, rate_measure(config, no_input), 5.0)
    assert not info["reached"] and "silent" in info["warning"]
    measure = rate_measure(config, random_input(config, 8))
    with pytest.warns(initialization.InitializationWarning, match="saturated"):
        _, info = initialization.calibrate_rates(config, start, measure, 2000.0)
    assert not info["reached"] and info["rate_exc_hz"] > 500
    with pytest.warns(initialization.InitializationWarning, match="too weak for the I target"):
        initialization.calibrate_rates(config, start, measure, 5.0, 200.0)


# ---------------------------------------------------------------------------------------------
# fluctuation-driven

def test_psp_integrals_approach_the_continuous_ones():
    # continuous time: epsilon_bar = tau_syn, epsilon_hat = tau_syn^2 / (2 (tau_syn + tau_mem))
    bar, hat = initialization.psp_integrals(1e-5, 20e-3, 10e-3)
    assert bar == pytest.approx(10e-3, rel=1e-3)
    assert hat == pytest.approx(10e-3 ** 2 / (2 * 30e-3), rel=2e-3)  # O(dt / tau) = 1e-3
    bar, hat = initialization.psp_integrals(1e-3, 20e-3, 10e-3)  # what dt = 1 ms simulates
    assert bar == pytest.approx(1e-3 / (1 - math.exp(-0.1)))  # area of the current, sum of a^k


def free_potential(config, weights, rate, seed, hidden=True, n_chunks=8, n_samples=32, settle=150,
                   memory=100):
    """Mean over neurons of the time average and of the temporal variance of the membrane potential,
    with the input channels and (``hidden``) the presynaptic hidden neurons firing as Bernoulli
    processes at ``rate``.

    The hidden spikes are replayed (``gradients.forward(..., hidden_spikes=...)``), so the
    potential is the free one apart from each neuron's reset at its own replayed spike; values up
    to ``memory`` steps after one are left out (the reset has then decayed by exp(-5)), as are
    the first ``settle`` steps of each sample (start from rest). Without ``hidden`` no hidden
    neuron spikes: the network with its threshold removed.
    """
    rng = np.random.default_rng(seed)
    p = rate * float(config.dt)
    n_hidden = config.n_exc + config.n_inh
    steps = np.arange(config.n_steps)
    sums = np.zeros((3, n_hidden))
    for _ in range(n_chunks):
        x = SpikeInput.from_dense(rng.random((n_samples, config.n_steps, config.n_inputs)) < p)
        h = rng.random((n_samples, config.n_steps, n_hidden)) < (p if hidden else 0)
        u = gradients.forward(config, weights, x, hidden_spikes=h).u
        before = np.concatenate([np.zeros((n_samples, 1, n_hidden), int), np.cumsum(h, axis=1)],
                                axis=1)
        usable = before[:, steps] - before[:, np.maximum(steps - memory, 0)] == 0
        usable &= (steps >= settle)[None, :, None]
        sums += [usable.sum(axis=(0, 1)), (u * usable).sum(axis=(0, 1)),
                 (u * u * usable).sum(axis=(0, 1))]
    mean = sums[1] / sums[0]
    return float(mean.mean()), math.sqrt(np.mean(sums[2] / sums[0] - mean ** 2))


@pytest.mark.parametrize("distribution, sigma_u, unbounded", [("half-normal", 0.5, False),
                                                              ("exponential", 2.0, False),
                                                              ("half-normal", 1.0, True)])
def test_fluctuation_init_gives_the_target_membrane_potential_spread(distribution, sigma_u,
                                                                     unbounded):
    """The theory's premise, simulated: every presynaptic neuron fires as a Poisson (here
    Bernoulli, p = rate * dt) process at the assumed rate; then the free potential of every
    hidden neuron fluctuates with std sigma_u around a mean of 0 (balanced).

    Tolerances: the variance averaged over neurons is dominated by the input all neurons share,
    estimated from 64 s of simulated time with a correlation time of tens of ms: a standard error
    of about 1 % on the std (six seeds spread by 1.1 %), so 5 % is over four standard errors. The
    mean of each neuron scatters around 0 with std ~0.45 sigma_u (its weights are random), 200
    neurons: 0.2 sigma_u is over five standard errors.
    """
    config = NetworkConfig(ratio="80:20", n_hidden=200, n_inputs=200, n_outputs=3, n_steps=400,
                           unbounded=unbounded)
    rate = 5.0
    weights, info = initialization.fluctuation_weights(config, 1, sigma_u=sigma_u, input_rate=rate,
                                                       distribution=distribution)
    mean, std = free_potential(config, weights, rate, seed=11)
    bernoulli = math.sqrt(1 - rate * float(config.dt))  # variance of a Bernoulli train: p (1 - p)
    assert std == pytest.approx(sigma_u * bernoulli, rel=0.05)
    assert abs(mean) < 0.2 * sigma_u
    assert info["populations"]["E"]["predicted_std_u"] == pytest.approx(sigma_u)
    if not unbounded:
        # with the threshold removed and the hidden neurons silent only the input acts: its share
        # of the variance, and its (unbalanced) mean
        share = info["populations"]["E"]["variance_share"]["feed_forward"]
        no_threshold = config.replace(v_threshold=1e9)
        mean, std = free_potential(no_threshold, weights, rate, seed=12, hidden=False)
        # (replaying no hidden spikes is the network without threshold, run free:)
        x = random_input(config, 2, density=rate * float(config.dt))
        free = gradients.forward(no_threshold, weights, x)
        silent = gradients.forward(no_threshold, weights, x, hidden_spikes=free.spikes)
        assert not free.spikes.any()
        np.testing.assert_allclose(silent.u, free.u, rtol=1e-9, atol=1e-12)
        assert std == pytest.approx(sigma_u * math.sqrt(share) * bernoulli, rel=0.05)
        predicted = (initialization.mean_over_rms(distribution) * config.n_inputs * rate *
                     info["populations"]["E"]["epsilon_bar_exc_s"] * info["rms"]["xe"])
        assert mean == pytest.approx(predicted, rel=0.1)


def test_fluctuation_init_follows_sigma_u_and_warns_without_inhibition():
    config = small_config()
    small, _ = initialization.fluctuation_weights(config, 0, sigma_u=0.5, input_rate=5.0)
    large, info = initialization.fluctuation_weights(config, 0, sigma_u=1.5, input_rate=5.0)
    for key in small:
        if key != "w_eo":
            np.testing.assert_allclose(large[key], 3 * small[key])
    shares = info["populations"]["E"]["variance_share"]
    assert sum(shares.values()) == pytest.approx(1)
    assert shares["feed_forward"] / (shares["feed_forward"] + shares["recurrent_exc"]) == \
        pytest.approx(0.9)
    with pytest.warns(initialization.InitializationWarning, match="cannot be balanced"):
        initialization.fluctuation_weights(small_config(ratio="100:0"), 0, input_rate=5.0)


def test_initialize_picks_the_scheme_and_reports_what_it_derived():
    config = small_config(n_steps=100)
    train = TrainConfig(init="fluctuation", sigma_u=0.8, input_rate=6 * Hz,
                        init_distribution="exponential")
    _, info = initialization.initialize(config, train, 0)
    assert (info["scheme"], info["input_rate_hz"], info["sigma_u"]) == ("fluctuation", 6.0, 0.8)
    assert info["input_rate_source"] == "config"
    with pytest.raises(ValueError, match="input rate"):
        initialization.initialize(config, train.replace(input_rate=None), 0)
    measure = rate_measure(config, random_input(config, 32))
    train = TrainConfig(init="target-rate", target_rate_exc=20 * Hz, target_rate_inh=30 * Hz,
                        init_scale_exc=2.0, init_scale_inh=2.0)
    weights, info = initialization.initialize(config, train, 0, measure=measure)
    assert info["reached"] and info["target_rate_inh_hz"] == 30.0
    assert measure(weights)[1] == pytest.approx(30.0, rel=0.1)


# ---------------------------------------------------------------------------------------------
# in training

def test_run_folders_from_before_these_options_still_resume(tmp_path):
    from ei_brian.io import _check_existing, _config_record
    net, train = NetworkConfig(), TrainConfig()
    record = _config_record(net, train)
    old = json.loads(json.dumps(record))
    for key in ("init", "update_noise", "input_deletion", "target_rate_exc"):
        del old["training"][key]  # written before the options existed
    with open(tmp_path / "config.json", "w") as f:
        json.dump(old, f)
    assert _check_existing(str(tmp_path), record, resume=True)
    noisy = _config_record(net, train.replace(update_noise=0.1))
    with pytest.raises(Exception, match="another configuration"):
        _check_existing(str(tmp_path), noisy, resume=True)


@pytest.mark.compiled
@pytest.mark.slow
def test_train_with_target_rate_and_noise_end_to_end(tmp_path):
    """``ei-brian train --init target-rate`` on real data with the compiled network. The default
    weights of this small network already fire at about 5 Hz, so the target is 12 Hz: the
    calibration has to act."""
    from test_training import SMALL

    from ei_brian.cli import main
    run = str(tmp_path / "run")
    assert main(["train", *SMALL, "--epochs", "1", "--init", "target-rate", "--target-rate", "12",
                 "--update-noise", "0.1", "--input-deletion", "0.1", "--out", run]) == 0
    config = json.load(open(os.path.join(run, "config.json")))["training"]
    assert (config["init"], config["target_rate_exc"], config["target_rate_inh"]) == \
        ("target-rate", "12.0 Hz", None)
    assert (config["update_noise"], config["update_noise_kind"], config["input_deletion"]) == \
        (0.1, "relative", 0.1)
    init = json.load(open(os.path.join(run, "initialization.json")))
    assert init["reached"] and init["n_measurements"] > 1 and init["probe_samples"] == 256
    assert init["factor_exc"] > 1.05
    assert init["rate_exc_hz"] == pytest.approx(12, rel=0.1)
    assert init["rate_inh_hz"] == pytest.approx(12, rel=0.1)
    with open(os.path.join(run, "metrics.csv")) as f:
        rows = list(csv.DictReader(f))
    # epoch 0 is measured on the 100 test samples, not on the probe batch of training samples
    assert float(rows[0]["rate_exc_hz"]) == pytest.approx(12, rel=0.25)
    assert float(rows[0]["rate_inh_hz"]) == pytest.approx(12, rel=0.25)
    assert [int(row["epoch"]) for row in rows] == [0, 1]
