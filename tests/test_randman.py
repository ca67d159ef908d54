"""Random manifolds (Zenke & Vogels 2021): the generator, the data set, a short training run."""
import csv
import json
import os

import numpy as np
import pytest

from ei_brian.cli import main
from ei_brian.config import ConfigError, NetworkConfig, TrainConfig
from ei_brian.data import load_dataset
from ei_brian.datasets import randman


def reference_manifold(params, alpha, x):
    """The generator's loops (github.com/fzenke/randman, ``Randman.eval_manifold``)."""
    n_channels, dim, _, n_freq = params.shape
    spectrum = 1.0 / (np.arange(n_freq) + 1) ** alpha
    out = np.ones((len(x), n_channels))
    for c in range(n_channels):
        for d in range(dim):
            theta = params[c, d]
            value = np.zeros(len(x))
            for i in range(n_freq):
                value += theta[0, i] * spectrum[i] * np.sin(
                    2 * np.pi * (i * x[:, d] * theta[1, i] + theta[2, i]))
            out[:, c] *= value
    return out


def test_manifolds_follow_the_generator():
    rng = np.random.default_rng(0)
    for alpha, dim in ((2.0, 1), (1.5, 2), (3.0, 3)):
        params = randman.manifold_parameters(6, dim, alpha, rng)
        assert params.shape == (6, dim, 3, randman.frequency_cutoff(alpha))
        assert np.all(params[:, :, 0, 0] == 0)
        x = rng.random((9, dim))
        np.testing.assert_allclose(randman.eval_manifold(params, alpha, x),
                                   reference_manifold(params, alpha, x), rtol=1e-12, atol=1e-15)
    assert randman.frequency_cutoff(2.0) == 32 and randman.frequency_cutoff(0.5) == 1000


def test_the_same_seed_gives_the_same_task():
    a_times, a_labels = randman.make_randman(4, 30, 50, dim=2, alpha=2.0, seed=7)
    b_times, b_labels = randman.make_randman(4, 30, 50, dim=2, alpha=2.0, seed=7)
    np.testing.assert_array_equal(a_times, b_times)
    np.testing.assert_array_equal(a_labels, b_labels)
    c_times, _ = randman.make_randman(4, 30, 50, dim=2, alpha=2.0, seed=8)
    assert not np.allclose(a_times, c_times)
    assert a_times.shape == (200, 30) and np.bincount(a_labels).tolist() == [50] * 4
    assert a_times.min() >= 0 and a_times.max() < 1
    # every class's spike times span the window on every channel (standardized per class)
    for k in range(4):
        spread = a_times[a_labels == k]
        assert np.all(spread.max(axis=0) - spread.min(axis=0) > 0.99)


def test_the_data_set_one_spike_per_channel_split_and_subsets():
    options = dict(classes=4, channels=30, samples=60, dim=1, alpha=2.0, data_seed=1)
    full = load_dataset("randman", dt=2e-3, n_steps=50, **options)
    assert (full.n_train, full.n_test, full.n_channels, full.n_classes) == (200, 40, 30, 4)
    assert np.bincount(full.y_test).tolist() == [10] * 4
    # one spike per channel and sample, all within the first half of the sample
    assert full.x_train.counts().tolist() == [30] * 200
    spikes = full.x_train.to_input()
    assert spikes.step.max() < 0.5 * 50 and full.spike_capacity(16) == 16 * 30
    np.testing.assert_array_equal(np.sort(spikes.channel[spikes.sample == 3]), np.arange(30))
    # the task does not depend on the run's seed; the subsets do, through the subset streams
    other = load_dataset("randman", seed=5, dt=2e-3, n_steps=50, **options)
    np.testing.assert_array_equal(other.x_train.step, full.x_train.step)
    subset = load_dataset("randman", train_samples=40, test_samples=8, seed=5, dt=2e-3,
                          n_steps=50, **options)
    assert np.bincount(subset.y_train).tolist() == [10] * 4
    np.testing.assert_array_equal(subset.x_train.step, full.x_train[subset.train_indices].step)


def test_train_config_records_randman_options_only_for_randman():
    # Fashion-MNIST's record and digest are what they were before randman existed
    assert TrainConfig().digest() == "21fb4274"
    assert not any(key.startswith("randman") for key in TrainConfig().to_dict())
    config = TrainConfig(dataset="randman", randman_dim=2, train_samples=None, test_samples=None)
    assert config.to_dict()["randman_dim"] == 2 and config.encoding == "spikes"
    assert TrainConfig.from_dict(config.to_dict()) == config
    network = NetworkConfig.for_dataset(config)
    assert (network.n_inputs, network.n_outputs, network.n_steps) == (700, 20, 50)
    with pytest.raises(ConfigError, match="randman_dim only applies to the data set randman"):
        TrainConfig(randman_dim=2)
    with pytest.raises(ConfigError, match="not a whole number of time steps"):
        NetworkConfig.for_dataset(config, duration=NetworkConfig().dt * 7.5)


@pytest.mark.compiled
def test_a_short_training_run_beats_chance_clearly(tmp_path):
    # the architecture of test_shd.py's training (700 inputs, 20 classes, 25 steps of 2 ms,
    # batch 20, 14,000 input-spike slots), so that one compiled binary serves both
    run = str(tmp_path / "randman")
    assert main(["train", "--dataset", "randman", "--randman-samples", "48", "--hidden", "80",
                 "--batch-size", "20", "--duration", "50", "--seed", "2", "--epochs", "4",
                 "--quiet", "--out", run]) == 0
    with open(os.path.join(run, "metrics.csv")) as f:
        rows = list(csv.DictReader(f))
    training = json.load(open(os.path.join(run, "config.json")))["training"]
    assert training["randman_classes"] == 20 and training["train_samples"] is None
    # 20 classes: chance is 5 % (measured: 0.3 to 0.5 after 4 epochs, by seed)
    assert max(float(row["test_acc"]) for row in rows[1:]) > 0.2
