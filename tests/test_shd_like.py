"""The SHD-like task: determinism, statistics, difficulty, SHD-format files, and the default
recipe of the spike data sets training on long, sparse samples."""
import csv
import json
import os

import numpy as np
import pytest

from ei_brian.cli import main
from ei_brian.config import ConfigError, NetworkConfig, TrainConfig
from ei_brian.data import load_dataset
from ei_brian.datasets import shd_like
from ei_brian.datasets.shd import load_shd


def test_same_seed_same_task_other_seed_other_task():
    a = shd_like.make_shd_like(n_classes=3, n_samples=4, seed=5)
    b = shd_like.make_shd_like(n_classes=3, n_samples=4, seed=5)
    c = shd_like.make_shd_like(n_classes=3, n_samples=4, seed=6)
    for x, y in zip(a[0] + a[1], b[0] + b[1]):
        np.testing.assert_array_equal(x, y)
    for x, y in zip(a[2:], b[2:]):
        np.testing.assert_array_equal(x, y)
    assert any(len(x) != len(y) or not np.array_equal(x, y) for x, y in zip(a[0], c[0]))


def test_statistics_of_the_default_task():
    times, units, labels, speakers, is_test = shd_like.make_shd_like(n_samples=12)
    counts = np.array([len(t) for t in times])
    # about 3,000 spikes a sample, every spike in the first second and in a channel
    assert 2000 < counts.mean() < 4000 and counts.min() > 1000
    assert max(t.max() for t in times) <= 1.0 and min(t.min() for t in times) >= 0
    assert all(np.all(np.diff(t) >= 0) for t in times)
    assert min(u.min() for u in units) >= 0 and max(u.max() for u in units) < 700
    # several spikes a channel on average; SHD's shape: 20 words, 12 speakers
    assert counts.mean() / 700 > 2
    assert np.bincount(labels).tolist() == [12] * 20
    # a sixth of each word's samples are test samples; two speakers are heard in them only
    assert is_test.sum() == 20 * 2
    assert set(speakers[~is_test]) <= set(range(10))
    # the words last 0.5 to 0.95 s (plus an onset of at most 50 ms)
    last = np.array([t.max() for t in times])
    assert last.min() > 0.4 and np.percentile(last, 90) > 0.6


@pytest.mark.parametrize("difficulty, low, high", [(0.0, 0.9, 1.0), (1.0, 0.0, 0.2)])
def test_difficulty_moves_the_nearest_centroid_baseline(difficulty, low, high):
    data = shd_like.load_shd_like(samples=30, difficulty=difficulty)
    accuracy = shd_like.nearest_centroid_accuracy(data.x_train, data.y_train, data.x_test,
                                                  data.y_test)
    assert low <= accuracy <= high
    assert data.n_channels == 700 and data.n_classes == 20 and data.x_train.n_steps == 500


def test_nearest_centroid_by_hand():
    from ei_brian.encoding import SpikeSamples
    # two classes: spikes in channel 0 early, or in channel 25 late (bins of 10 channels, 50 ms)
    x = SpikeSamples.from_events([0, 1, 2, 3], [0, 40, 1, 41], [0, 25, 1, 26], 4, 50, 30,
                                 dt=2e-3)
    y = np.array([0, 1, 0, 1])
    assert shd_like.nearest_centroid_accuracy(x[:2], y[:2], x[2:], y[2:]) == 1.0
    assert shd_like.nearest_centroid_accuracy(x[:2], y[:2], x[2:], y[::-1][:2]) == 0.0


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="difficulty"):
        shd_like.make_shd_like(difficulty=1.5)
    with pytest.raises(ValueError, match="n_samples"):
        shd_like.make_shd_like(n_samples=1)
    with pytest.raises(ConfigError, match="shd_like_difficulty"):
        TrainConfig(dataset="shd-like", shd_like_difficulty=-0.1)
    with pytest.raises(ConfigError, match="only applies to the data set shd-like"):
        TrainConfig(dataset="randman", shd_like_difficulty=0.5)
    assert main(["train", "--dataset", "randman", "--shd-like-samples", "10"]) == 2


def test_config_and_dataset_defaults():
    config = TrainConfig(dataset="shd-like")
    assert (config.init, config.batch_size, config.learning_rate) == ("fluctuation", 64, 0.01)
    record = config.to_dict()
    assert record["shd_like_difficulty"] == shd_like.DEFAULTS["difficulty"]
    assert "shd_like_samples" not in TrainConfig().to_dict()
    assert (TrainConfig().init, TrainConfig().batch_size) == ("scale", 256)
    network = NetworkConfig.for_dataset(config)
    assert (network.n_inputs, network.n_outputs, network.n_steps) == (700, 20, 500)
    data = load_dataset("shd-like", train_samples=40, test_samples=20, seed=1,
                        dt=float(network.dt), n_steps=network.n_steps,
                        **TrainConfig(dataset="shd-like", shd_like_samples=6).dataset_options())
    assert len(data.y_train) == 40 and len(data.y_test) == 20
    assert data.extra["test_speaker"].shape == (20,)


def _metrics(run):
    with open(os.path.join(run, "metrics.csv")) as f:
        return list(csv.DictReader(f))


@pytest.mark.compiled
def test_default_train_learns_long_sparse_shd_files(tmp_path, capsys):
    """`ei-brian train --dataset shd` with its defaults on SHD-format files of long, sparse
    samples (about 2,800 spikes in 700 channels x 350 steps, under 1.2 % of the cells) learns
    to at least 60 % in five epochs of 500 samples; the nearest-centroid baseline says the
    classes are separable."""
    folder = tmp_path / "shd"
    shd_like.write_shd_files(folder, n_samples=30, difficulty=0.5)
    data = load_shd(folder)
    cells = data.x_train.n_steps * data.x_train.n_channels
    assert data.x_train.counts().mean() < 0.012 * cells and data.x_train.n_steps == 350
    baseline = shd_like.nearest_centroid_accuracy(data.x_train, data.y_train, data.x_test,
                                                  data.y_test)
    assert baseline > 0.8
    run = str(tmp_path / "run")
    assert main(["train", "--dataset", "shd", "--data-dir", str(folder), "--epochs", "5",
                 "--quiet", "--out", run]) == 0
    config = json.load(open(os.path.join(run, "config.json")))["training"]
    assert (config["init"], config["batch_size"], config["learning_rate"]) == \
        ("fluctuation", 64, 0.01)
    rows = _metrics(run)
    assert float(rows[0]["rate_exc_hz"]) > 0.1  # not a silent start
    assert max(float(row["test_acc"]) for row in rows[1:]) >= 0.6
    # the image defaults leave the same network silent, and it says so despite --quiet
    silent = str(tmp_path / "silent")
    assert main(["train", "--dataset", "shd", "--data-dir", str(folder), "--epochs", "1",
                 "--init", "scale", "--quiet", "--out", silent]) == 0
    assert float(_metrics(silent)[0]["rate_exc_hz"]) == 0
    assert "silent" in capsys.readouterr().err
