"""The study's run outcomes (trained, silent, saturated), the validation split, the learning-rate
schedule and the early stop of saturated runs."""
import csv
import json
import math
import os

import numpy as np
import pytest

from ei_brian import outcome
from ei_brian.cli import main
from ei_brian.config import ConfigError, TrainConfig

SMALL = ["--hidden", "20", "--batch-size", "50", "--test-samples", "100", "--seed", "3",
         "--quiet"]


def test_outcomes_by_hand():
    classify = outcome.classify
    assert classify([5.0, 20.0, 30.0], [0.5, 0.7], 10) == "trained"
    assert classify([0.0, 20.0, 30.0], [0.5, 0.7], 10) == "silent"       # started silent
    assert classify([5.0, 2.0, 0.05], [0.5, 0.7], 10) == "silent"        # fell silent
    assert classify([5.0, 20.0], [0.15], 10) == "silent"                 # never chance + 5
    assert classify([5.0, 20.0], [0.1501], 10) == "trained"
    assert classify([5.0, 20.0], [0.1501], 20) == "trained"              # chance 5 %
    assert classify([600.0, 400.0, 600.0, 300.0], [0.8] * 3, 10) == "trained"  # never twice
    assert classify([5.0, 600.0, 700.0], [0.8, 0.8], 10) == "saturated"
    assert classify([600.0, 700.0], [0.05], 10) == "saturated"           # before silent
    assert classify([], [], 10) == ""
    assert outcome.saturated([501, 501]) and not outcome.saturated([500, 501])


def test_the_cosine_schedule_by_hand():
    config = TrainConfig(learning_rate=0.004, epochs=4, lr_schedule="cosine")
    assert [config.learning_rate_at(e) for e in (1, 2, 3, 4)] == pytest.approx(
        [0.004, 0.002 * (1 + math.cos(math.pi / 4)), 0.002, 0.002 * (1 + math.cos(3 * math.pi / 4))])
    assert TrainConfig(learning_rate=0.004).learning_rate_at(3) == 0.004
    with pytest.raises(ConfigError, match="lr_schedule 'step' is unknown"):
        TrainConfig(lr_schedule="step")
    with pytest.raises(ConfigError, match="validation_samples"):
        TrainConfig(validation_samples=-1)
    # left at their defaults, the new options leave the record (and a run's digest) unchanged
    assert "lr_schedule" not in TrainConfig().to_dict()
    assert TrainConfig(lr_schedule="cosine").to_dict()["lr_schedule"] == "cosine"


def _rows(run):
    with open(os.path.join(run, "metrics.csv")) as f:
        return list(csv.DictReader(f))


@pytest.mark.compiled
@pytest.mark.slow
def test_validation_chooses_the_epoch_and_is_held_out_of_training(tmp_path):
    run = str(tmp_path / "run")
    assert main(["train", *SMALL, "--train-samples", "300", "--validation-samples", "100",
                 "--epochs", "3", "--lr-schedule", "cosine", "--out", run]) == 0
    rows = _rows(run)
    assert list(rows[0])[:5] == ["epoch", "train_loss", "train_acc", "val_acc", "test_acc"]
    result = json.load(open(os.path.join(run, "result.json")))
    val = [float(row["val_acc"]) for row in rows[1:]]
    assert result["val_acc"] == pytest.approx(max(val), abs=1e-6)
    chosen = rows[result["val_epoch"]]
    assert result["val_test_acc"] == pytest.approx(float(chosen["test_acc"]), abs=1e-6)
    assert result["outcome"] in outcome.OUTCOMES and not result["stopped_early"]
    # the split itself: disjoint, class-balanced, the training set the size asked for
    from ei_brian.config import NetworkConfig
    from ei_brian.training import Trainer
    config = TrainConfig(train_samples=300, validation_samples=100, test_samples=100, seed=3)
    trainer = Trainer(NetworkConfig(n_hidden=20), config, compile=False)
    assert len(trainer.data.y_train) == 300 and len(trainer.y_val) == 100
    assert np.bincount(trainer.y_val, minlength=10).tolist() == [10] * 10
    train_rows = {row.tobytes() for row in trainer.data.x_train}
    assert not any(row.tobytes() in train_rows for row in trainer.x_val)
    with pytest.raises(ConfigError, match="leave nothing to train on"):
        Trainer(NetworkConfig(n_hidden=20), TrainConfig(train_samples=None, test_samples=100,
                                                        validation_samples=60000), compile=False)


@pytest.mark.compiled
@pytest.mark.slow
def test_a_saturated_run_stops_early_and_says_so(tmp_path, capsys):
    run = str(tmp_path / "hot")
    # no inhibition and a large excitatory gain: the network runs away at once
    assert main(["train", *SMALL, "--train-samples", "200", "--ratio", "100:0",
                 "--init-scale-exc", "4", "--epochs", "4", "--stop-saturated", "--out", run]) == 0
    result = json.load(open(os.path.join(run, "result.json")))
    rows = _rows(run)
    assert float(rows[0]["rate_exc_hz"]) > 500 and float(rows[1]["rate_exc_hz"]) > 500
    assert result["stopped_early"] and result["outcome"] == "saturated"
    assert [int(row["epoch"]) for row in rows] == [0, 1]
    assert "stopped after epoch 1" in open(os.path.join(run, "log.txt")).read()
