"""``ei-brian train`` end to end on real Fashion-MNIST files, with a small network."""
import csv
import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from ei_brian.cli import main
from ei_brian.io import load_probe_spikes

pytestmark = [pytest.mark.compiled, pytest.mark.slow]

SMALL = ["--hidden", "20", "--batch-size", "50", "--train-samples", "300", "--test-samples", "100",
         "--seed", "3", "--quiet"]


def read_metrics(run):
    with open(os.path.join(run, "metrics.csv")) as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run = str(tmp_path_factory.mktemp("runs") / "small")
    assert main(["train", *SMALL, "--epochs", "2", "--out", run]) == 0
    return run


def test_run_folder_holds_what_the_issue_names(trained):
    files = set(os.listdir(trained))
    assert {"config.json", "metrics.csv", "weights.npz", "checkpoint.npz", "spikes_initial.npz",
            "spikes_final.npz"} <= files
    assert not [name for name in files if name.endswith(".tmp")]
    config = json.load(open(os.path.join(trained, "config.json")))
    assert config["ratio"] == "80:20" and (config["n_exc"], config["n_inh"]) == (16, 4)
    assert config["training"]["epochs"] == 2 and config["seed"] == 3
    rows = read_metrics(trained)
    assert list(rows[0]) == ["epoch", "train_loss", "train_acc", "test_acc", "rate_exc_hz",
                             "rate_inh_hz", "silent_frac", "seconds"]
    assert [int(row["epoch"]) for row in rows] == [0, 1, 2]
    assert all(0 <= float(row["test_acc"]) <= 1 for row in rows)
    # it learns something in two short epochs: twice chance (10%)
    assert max(float(row["test_acc"]) for row in rows[1:]) > 0.2
    with np.load(os.path.join(trained, "weights.npz")) as weights:
        assert sorted(weights.files) == ["w_ee", "w_ei", "w_eo", "w_ie", "w_ii", "w_xe", "w_xi"]
        assert weights["w_xe"].shape == (784, 16) and weights["w_ie"].shape == (4, 16)
        assert all((weights[name] >= 0).all() for name in weights.files)  # Dale's law


def test_probe_spike_trains_load_as_neo(trained):
    from ei_brian.analysis import load_run_spiketrains
    initial = load_probe_spikes(os.path.join(trained, "spikes_initial.npz"))
    final = load_probe_spikes(os.path.join(trained, "spikes_final.npz"))
    assert (initial["snapshot"], final["snapshot"], final["epoch"]) == ("initial", "final", 2)
    assert len(final["sample_indices"]) == 20 and final["t_stop"] == pytest.approx(0.1)
    probe = load_run_spiketrains(trained)
    trains = probe.select(population="I", snapshot="final")
    assert len(trains) == 4 * 20
    assert all(str(train.units.dimensionality) == "s" for train in trains)


def test_analyze_a_real_run(trained, capsys):
    assert main(["analyze", trained, "--plots"]) == 0
    with open(os.path.join(trained, "analysis.csv")) as f:
        rows = list(csv.DictReader(f))
    populations = {(row["snapshot"], row["population"]) for row in rows}
    assert populations == {(s, p) for s in ("initial", "final") for p in ("E", "I")}
    assert any(name.endswith(".png") for name in os.listdir(trained))


def test_an_existing_run_is_not_overwritten(trained, capsys):
    before = open(os.path.join(trained, "metrics.csv")).read()
    assert main(["train", *SMALL, "--epochs", "2", "--out", trained]) == 2
    assert "--resume" in capsys.readouterr().err
    assert main(["train", *SMALL, "--epochs", "3", "--ratio", "50:50", "--out", trained]) == 2
    assert "another configuration" in capsys.readouterr().err
    assert open(os.path.join(trained, "metrics.csv")).read() == before


def test_bad_ratio_is_refused_clearly(tmp_path, capsys):
    assert main(["train", "--ratio", "0:100", "--out", str(tmp_path / "x"), "--quiet"]) == 2
    assert "no excitatory neurons" in capsys.readouterr().err
    assert main(["train", "--ratio", "80-20", "--out", str(tmp_path / "y"), "--quiet"]) == 2
    assert "not a ratio" in capsys.readouterr().err


@pytest.mark.parametrize("argv, words", [
    (["--ratio", "0:100"], "give the E part a share above 0, such as 10:90"),
    (["--ratio", "5:95", "--hidden", "10"], "0 excitatory neurons"),
    (["--lr", "0"], "the learning rate (--lr) must be above 0"),
    (["--connectivity", "0"], "connectivity (--connectivity) is a connection probability"),
    (["--input-connectivity", "1.5"], "(--input-connectivity) is a connection probability"),
    (["--lr=-1e-3"], "the learning rate (--lr) must be above 0"),
    (["--train-samples", "70000"], "--train-samples) is more than the 60000 samples"),
    (["--test-samples", "10001"], "--test-samples) is more than the 10000 samples"),
])
def test_bad_options_are_refused_in_one_line_and_write_nothing(tmp_path, capsys, argv, words):
    out = tmp_path / "run"
    assert main(["train", *argv, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and words in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("encoding", ["latency", "poisson"])
def test_killed_run_resumes_from_its_checkpoint_and_ends_where_an_uninterrupted_one_does(
        tmp_path, encoding, monkeypatch):
    # with noise on the updates and the inputs, and Poisson input: each minibatch's draws depend
    # on (seed, epoch, minibatch) only, so the resumed run draws what the uninterrupted one draws
    args = [*SMALL, "--epochs", "4", "--update-noise", "0.05", "--input-jitter", "1",
            "--input-deletion", "0.05", "--encoding", encoding]
    reference = str(tmp_path / "reference")
    assert main(["train", *args, "--out", reference]) == 0
    killed = str(tmp_path / "killed")
    process = subprocess.Popen([sys.executable, "-m", "ei_brian.cli", "train", *args, "--out", killed])
    deadline = time.time() + 300
    while time.time() < deadline and process.poll() is None:
        if os.path.exists(os.path.join(killed, "checkpoint.npz")) and \
                len(read_metrics(killed)) >= 2:  # epoch 1 finished
            break
        time.sleep(0.02)
    assert process.poll() is None, "the run ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    done = len(read_metrics(killed)) - 1
    assert 1 <= done < 4
    # the resumed session runs other code (as a piece resumed after a commit would): the run
    # names the commits of both sessions, the first one's first
    from ei_brian import io
    first = io.code_commit()
    monkeypatch.setattr(io, "_CODE_COMMIT", ["r" * 40])
    # and on another machine: the run names both, the first session's first
    here = io.machine_description()
    monkeypatch.setattr(io, "_MACHINE", ["Another CPU (AVX2), OpenBLAS 0.3.30 Haswell"])
    assert main(["train", *args, "--out", killed, "--resume"]) == 0
    with open(os.path.join(killed, "result.json")) as f:
        result = json.load(f)
    assert result["git_commit"] == " ".join(c for c in (first, "r" * 40) if c)
    assert result["trained_on"] == f"{here}; Another CPU (AVX2), OpenBLAS 0.3.30 Haswell"
    assert [r["test_acc"] for r in read_metrics(killed)] == \
        [r["test_acc"] for r in read_metrics(reference)]
    with np.load(os.path.join(killed, "weights.npz")) as a, \
            np.load(os.path.join(reference, "weights.npz")) as b:
        for name in b.files:
            np.testing.assert_array_equal(a[name], b[name])


def test_time_constant_diversity_and_membrane_noise_from_the_command_line(tmp_path):
    run = str(tmp_path / "diverse")
    options = ["--tau-spread-exc", "0.2", "--tau-spread-inh", "0.4", "--inh-tau-factor", "1.5",
               "--membrane-noise", "0.1"]
    assert main(["train", *SMALL, "--epochs", "1", *options, "--out", run]) == 0
    network = json.load(open(os.path.join(run, "config.json")))["network"]
    assert (network["tau_spread_exc"], network["tau_spread_inh"], network["inh_tau_factor"],
            network["membrane_noise"]) == (0.2, 0.4, 1.5, 0.1)
    rows = read_metrics(run)
    assert [int(row["epoch"]) for row in rows] == [0, 1]
    assert float(rows[1]["test_acc"]) > 0.15


def test_a_quiet_run_still_warns_of_a_silent_start(tmp_path, capsys):
    run = str(tmp_path / "silent")
    assert main(["train", *SMALL, "--epochs", "1", "--init-scale", "0", "--out", run]) == 0
    printed = capsys.readouterr()
    # once, naming the run (quiet runs, such as a sweep's, share a terminal)
    assert printed.err.count(f"{run}: warning: the initial network is silent") == 1
    assert "--init fluctuation" in printed.err
    assert "epoch   0" not in printed.out + printed.err  # --quiet: no other message
    log = open(os.path.join(run, "log.txt")).read()
    assert "warning: the initial network is silent" in log and "epoch   0" in log
    result = json.load(open(os.path.join(run, "result.json")))
    assert [(w["kind"], w["epoch"]) for w in result["warnings"]] == [("silent-start", 0)]
    assert not result["stopped_early"] and result["stop_reason"] is None


def test_runaway_and_rising_loss_are_announced_once_recorded_and_analyzed(tmp_path, capsys,
                                                                           monkeypatch):
    from ei_brian.training import Trainer
    original = Trainer.train_batch
    interrupt = [True]

    def rising(self, weights, optimizer, images, labels, epoch=0, batch=0):
        if epoch == 3 and interrupt[0]:
            raise RuntimeError("interrupted")
        loss, correct, spikes = original(self, weights, optimizer, images, labels, epoch=epoch,
                                         batch=batch)
        return 1e6 * epoch, correct, spikes  # a training loss that rises at every epoch

    monkeypatch.setattr(Trainer, "train_batch", rising)
    run = str(tmp_path / "hot")
    # no inhibition and a large excitatory gain: the E rate runs away from epoch 0 on
    args = [*SMALL, "--train-samples", "200", "--ratio", "100:0", "--init-scale-exc", "4",
            "--epochs", "3", "--out", run]
    assert main(["train", *args]) == 1  # stopped in epoch 3, after the checkpoint of epoch 2
    first = capsys.readouterr().err
    assert first.count("warning: the E rate ran away") == 1
    assert "at epoch 1" in first and "warning: the training loss rose" not in first
    interrupt[0] = False
    assert main(["train", *args, "--resume"]) == 0
    second = capsys.readouterr().err
    assert "ran away" not in second  # said before the resume
    assert second.count("warning: the training loss rose at 3 epochs in a row (epochs 0 to 3") == 1
    result = json.load(open(os.path.join(run, "result.json")))
    assert [(w["kind"], w["epoch"]) for w in result["warnings"]] == [("runaway", 1),
                                                                    ("rising-loss", 3)]
    assert result["outcome"] == "saturated" and result["stop_reason"] is None
    log = open(os.path.join(run, "log.txt")).read()
    assert log.count("warning: the E rate ran away") == 1
    assert log.count("warning: the training loss rose") == 1
    # ei-brian analyze shows them: from result.json, or from metrics.csv without it
    for finished in (True, False):
        if not finished:  # an unfinished run, or one from before result.json had warnings
            os.remove(os.path.join(run, "result.json"))
        assert main(["analyze", run]) == 0
        printed = capsys.readouterr().out
        assert re.search(r"warning: the E rate ran away: \d+ Hz at epoch 1", printed)
        assert "warning: the training loss rose at 3 epochs" in printed


def test_the_evaluation_path_gives_what_the_training_forward_pass_gives():
    """Evaluation runs forward only (the readout and spike counts, no spike array): its loss,
    accuracy, rates and silent fraction equal those computed from the full recordings that a
    training step uses, on a set that ends in a short minibatch."""
    from ei_brian import gradients
    from ei_brian.config import NetworkConfig, TrainConfig
    from ei_brian.training import Trainer
    train_config = TrainConfig(train_samples=200, test_samples=130, batch_size=50, seed=3)
    net_config = NetworkConfig.for_dataset(train_config, n_hidden=20)
    trainer = Trainer(net_config, train_config, verbose=False, threads=1)
    try:
        weights, _ = trainer.initial_weights(0)
        x, y = trainer.data.x_test, trainer.data.y_test
        evaluated = trainer.evaluate(weights, x, y)
        loss, correct, counts = 0.0, 0, np.zeros(net_config.n_hidden)
        for start in range(0, len(y), 50):
            spike_input = trainer.encode(x[start:start + 50], "test-poisson", 0, start // 50)
            result = trainer.network.run(weights, spike_input)  # as in a training step
            assert result.hidden_spikes is not None
            part_loss, _, _, predictions = gradients.loss_and_output_gradient(
                result.readout, y[start:start + 50])
            loss += part_loss * len(predictions)
            correct += int((predictions == y[start:start + 50]).sum())
            counts += result.hidden_spikes.sum(axis=(0, 1))
        seconds = len(y) * float(net_config.sample_duration)
        assert counts.sum() > 0
        assert evaluated["loss"] == loss / len(y)
        assert evaluated["acc"] == correct / len(y)
        assert evaluated["rate_exc_hz"] == counts[:net_config.n_exc].sum() / (net_config.n_exc
                                                                              * seconds)
        assert evaluated["rate_inh_hz"] == counts[net_config.n_exc:].sum() / (net_config.n_inh
                                                                              * seconds)
        assert evaluated["silent_frac"] == float(np.mean(counts == 0))
    finally:
        trainer.close()
