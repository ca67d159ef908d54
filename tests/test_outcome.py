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


def _metrics(losses, rates):
    return [{"epoch": epoch, "train_loss": loss, "rate_exc_hz": rate, "test_acc": 0.5}
            for epoch, (loss, rate) in enumerate(zip(losses, rates))]


def test_warnings_by_hand():
    warnings = outcome.run_warnings
    assert warnings(_metrics([2.3, 1.9, 1.7, 1.8, 1.6], [5.0, 20.0, 30.0, 0.05, 0.0])) == []
    assert warnings([]) == []
    # each kind at its epoch, with a message that says what to do
    (silent,) = warnings(_metrics([2.3, 2.2], [0.05, 0.0]))
    assert (silent["kind"], silent["epoch"]) == ("silent-start", 0)
    assert all(option in silent["message"] for option in ("readout gets no input",
                                                           "--init-scale", "--init fluctuation",
                                                           "--init target-rate"))
    assert warnings(_metrics([2.3], [0.1])) == []  # the bound itself is not silent
    (runaway,) = warnings(_metrics([2.3, 2.2, 2.1, 2.0], [600.0, 400.0, 501.0, 700.0]))
    assert (runaway["kind"], runaway["epoch"]) == ("runaway", 3)  # completes the streak
    assert "700 Hz" in runaway["message"] and "--stop-saturated" in runaway["message"]
    assert warnings(_metrics([2.3, 2.2, 2.1], [600.0, 400.0, 600.0])) == []  # never twice
    (broken,) = warnings(_metrics([2.3, 2.2, float("inf"), float("nan")], [5.0] * 4))
    assert (broken["kind"], broken["epoch"]) == ("non-finite-loss", 2)
    assert "inf" in broken["message"] and "--lr" in broken["message"]
    (rising,) = warnings(_metrics([2.0, 2.1, 2.2, 2.3, 2.4], [5.0] * 5))
    assert (rising["kind"], rising["epoch"]) == ("rising-loss", 3)  # epoch 1 vs 0 counts
    assert "epochs 0 to 3" in rising["message"] and "--lr" in rising["message"]
    assert outcome.RISING_EPOCHS == 3
    assert warnings(_metrics([2.0, 2.1, 2.2, 2.2, 2.3, 2.4, 2.5], [5.0] * 7))[0]["epoch"] == 6
    assert warnings(_metrics([2.0, 2.1, 2.2, 2.1, 2.3, 2.4], [5.0] * 6)) == []
    assert warnings(_metrics([2.0, 2.1, float("nan"), 2.3, 2.4], [5.0] * 5))[0]["kind"] == \
        "non-finite-loss"  # a NaN breaks a rise


def test_warnings_of_csv_rows_in_epoch_order_each_kind_once():
    rows = [{"epoch": str(epoch), "train_loss": loss, "rate_exc_hz": rate}
            for epoch, (loss, rate) in enumerate([("2.3", "0"), ("2.4", "600"), ("2.5", "700"),
                                                  ("2.6", "800"), ("nan", "900"),
                                                  ("3", "0"), ("3.1", "600"), ("3.2", "600"),
                                                  ("3.3", "")])]
    found = outcome.run_warnings(rows)
    assert [(w["kind"], w["epoch"]) for w in found] == [
        ("silent-start", 0), ("runaway", 2), ("rising-loss", 3), ("non-finite-loss", 4)]
    assert all(isinstance(w["message"], str) and w["message"] for w in found)
    # an empty cell is no value: no rule reads it
    assert outcome.run_warnings([{"epoch": "0", "train_loss": "", "rate_exc_hz": ""}]) == []
    # the warnings leave the outcome as it is
    assert outcome.classify([0.05, 20.0], [0.5], 10) == "silent"
    assert outcome.classify([5.0, 20.0, 30.0], [0.5, 0.6], 10) == "trained"


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
    assert result["stop_reason"] == "saturated"
    assert [(w["kind"], w["epoch"]) for w in result["warnings"]] == [("runaway", 1)]
    assert [int(row["epoch"]) for row in rows] == [0, 1]
    assert "stopped after epoch 1" in open(os.path.join(run, "log.txt")).read()
    # --quiet hides progress, not warnings
    assert "warning: stopped after epoch 1" in capsys.readouterr().err


@pytest.mark.compiled
@pytest.mark.slow
def test_a_non_finite_loss_stops_the_run_and_says_so(tmp_path, capsys, monkeypatch):
    from ei_brian import training
    from ei_brian.io import load_probe_spikes
    original = training.update_weights
    calls = []

    def poisoned(config, weights, optimizer, grads, *args, **kwargs):
        calls.append(len(calls))
        if len(calls) == 6:  # epoch 2's second minibatch (4 a epoch): gradients not numbers
            grads = {name: np.full_like(grad, np.nan) for name, grad in grads.items()}
        return original(config, weights, optimizer, grads, *args, **kwargs)

    monkeypatch.setattr(training, "update_weights", poisoned)
    run = str(tmp_path / "broken")
    assert main(["train", *SMALL, "--train-samples", "200", "--epochs", "4", "--out", run]) == 0
    assert len(calls) == 6  # no minibatch ran on the lost weights
    rows = _rows(run)
    assert [int(row["epoch"]) for row in rows] == [0, 1, 2]  # the rest is not trained
    assert math.isfinite(float(rows[1]["train_loss"])) and rows[2]["train_loss"] == "nan"
    assert rows[2]["test_acc"] == "nan"  # lost weights are not evaluated
    result = json.load(open(os.path.join(run, "result.json")))
    assert result["finished"] and result["stopped_early"]
    assert result["stop_reason"] == "non-finite-loss"
    assert ("non-finite-loss", 2) in [(w["kind"], w["epoch"]) for w in result["warnings"]]
    assert result["peak_epoch"] == 1 and result["peak_test_acc"] == float(rows[1]["test_acc"])
    err = capsys.readouterr().err
    assert "warning: the training loss is nan at epoch 2" in err
    assert "warning: stopped after epoch 2: the training loss is not a finite number" in err
    # the files keep the last weights that are numbers: those of epoch 1
    with np.load(os.path.join(run, "weights.npz")) as weights:
        assert all(np.isfinite(weights[name]).all() for name in weights.files)
    assert load_probe_spikes(os.path.join(run, "spikes_final.npz"))["epoch"] == 1


def test_saturation_is_half_of_one_spike_per_step():
    """500 Hz at the images' 1 ms step; 250 Hz at the spike data's 2 ms, where no neuron can
    fire above 500 Hz."""
    assert outcome.saturation_hz() == 500 and outcome.saturation_hz(2e-3) == 250
    rates = [484.3, 484.2, 484.3]  # a 100:0 network at dt = 2 ms, stuck near one spike per step
    assert not outcome.saturated(rates) and outcome.saturated(rates, 2e-3)
    assert outcome.classify(rates, [0.05, 0.05], 20, dt=2e-3) == outcome.SATURATED
    assert outcome.classify(rates, [0.05, 0.05], 20) == outcome.SILENT
    kinds = [w["kind"] for w in outcome.run_warnings(
        [{"epoch": k, "train_loss": 3.0, "rate_exc_hz": r} for k, r in enumerate(rates)], 2e-3)]
    assert kinds == [outcome.RUNAWAY]
    with pytest.raises(ValueError, match="time step"):
        outcome.saturation_hz(0)
