"""Many runs at once: runs sharing one compiled build give what they give alone; failures speak."""
import csv
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from ei_brian.cli import main
from ei_brian.config import NetworkConfig
from ei_brian.runner import CompiledNetwork

pytestmark = [pytest.mark.compiled, pytest.mark.slow]

SMALL = ["--hidden", "20", "--batch-size", "50", "--train-samples", "300", "--test-samples", "100",
         "--epochs", "2", "--quiet"]


def outcome(run):
    """What a run produced, minus its timings: metrics rows and final weights."""
    with open(os.path.join(run, "metrics.csv")) as f:
        rows = [{key: value for key, value in row.items() if key != "seconds"}
                for row in csv.DictReader(f)]
    with np.load(os.path.join(run, "weights.npz")) as weights:
        return rows, {name: weights[name].copy() for name in weights.files}


def assert_same(a, b):
    assert a[0] == b[0]
    assert sorted(a[1]) == sorted(b[1])
    for name in a[1]:
        assert np.array_equal(a[1][name], b[1][name]), name


def test_three_runs_started_at_once_each_equal_their_solo_run(tmp_path):
    seeds = [1, 2, 2]  # two of them the same configuration
    solo = {}
    for seed in sorted(set(seeds)):
        run = str(tmp_path / f"solo-{seed}")
        assert main(["train", *SMALL, "--seed", str(seed), "--out", run]) == 0
        solo[seed] = outcome(run)
    processes = [subprocess.Popen([sys.executable, "-m", "ei_brian.cli", "train", *SMALL,
                                   "--seed", str(seed), "--out", str(tmp_path / f"together-{k}")],
                                  stderr=subprocess.PIPE, text=True)
                 for k, seed in enumerate(seeds)]
    errors = [process.communicate()[1] for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], errors
    for k, seed in enumerate(seeds):
        assert_same(outcome(str(tmp_path / f"together-{k}")), solo[seed])


def test_a_failing_compiled_run_reaches_the_caller_and_the_run_log(tmp_path, monkeypatch, capsys):
    # the cached build of this architecture, copied into a cache of its own with a binary that
    # crashes as a real one might
    network = CompiledNetwork(NetworkConfig(n_hidden=20), 50, verbose=False)
    project = network.directory
    network.close()
    cache = tmp_path / "cache"
    shutil.copytree(project, cache / os.path.basename(project))
    binary = cache / os.path.basename(project) / "main"
    binary.write_text("#!/bin/sh\necho 'simulated crash: out of memory' >&2\nexit 137\n")
    monkeypatch.setenv("EI_BRIAN_CACHE", str(cache))
    run = tmp_path / "run"
    assert main(["train", *SMALL, "--out", str(run)]) == 1
    error = capsys.readouterr().err
    assert "failed" in error and "simulated crash" in error and "log.txt" in error
    log = (run / "log.txt").read_text()
    assert "CompiledRunError" in log and "simulated crash" in log and "Traceback" in log
