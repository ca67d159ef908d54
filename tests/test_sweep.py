"""Sweeps: specs, labels and refusals; runs on a local Dask cluster equal runs done alone; a
killed worker's run resumes; a finished sweep trains nothing; failures are listed."""
import csv
import os
import signal
import threading
import time

import numpy as np
import pytest

from ei_brian.cli import main
from ei_brian.sweep import SweepError, SweepFailed, load_spec, run_sweep, slurm_cluster
from ei_brian.training import train

SMALL = {"hidden": 20, "batch_size": 50, "train_samples": 300, "test_samples": 100, "epochs": 2}


def spec(grid, extra=None, **base):
    out = {"study": {"name": "test"}, "base": dict(SMALL, **base), "grid": grid}
    if extra is not None:
        out["extra"] = extra
    return out


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# ---------------------------------------------------------------------------------------------
# the spec

def test_a_grid_with_extra_runs_gets_readable_labels_and_folders():
    loaded = load_spec(spec({"ratio": ["80:20", "100:0"], "update-noise": [0.0, 0.5],
                             "seed": [0, 1]},
                            extra=[{"unbounded": True, "seed": [0, 1]}]))
    assert loaded.varied_keys == ["ratio", "update_noise", "unbounded"]
    folders = [run.folder for run in loaded.runs]
    assert len(folders) == 10 and len(set(folders)) == 10
    assert "ratio-80-20_update-noise-0.5/seed-1" in folders
    assert "unbounded/seed-0" in folders
    run = next(run for run in loaded.runs if run.folder == "ratio-100-0_update-noise-0.0/seed-0")
    assert run.net_config.ratio == "100:0" and run.net_config.n_hidden == 20
    assert run.train_config.epochs == 2 and run.train_config.batch_size == 50
    assert run.varied == {"ratio": "100:0", "update_noise": 0.0, "unbounded": False}
    baseline = next(run for run in loaded.runs if run.label == "unbounded")
    assert baseline.net_config.unbounded and baseline.varied["unbounded"] is True


def test_scales_override_the_base_and_the_lists(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[study]\nname = "ratio"\n[base]\nepochs = 10\nhidden = 20\n'
                    '[grid]\nratio = ["80:20", "95:5", "50:50"]\nseed = [0, 1, 2]\n'
                    '[[extra]]\nunbounded = true\nseed = [0, 1, 2]\n'
                    '[scale.smoke]\nepochs = 1\nseed = [0]\n[scale.smoke.grid]\nratio = ["80:20"]\n')
    full = load_spec(path)
    assert (full.name, full.scale, len(full.runs)) == ("ratio", None, 12)
    smoke = load_spec(path, scale="smoke")
    assert sorted(run.folder for run in smoke.runs) == ["ratio-80-20/seed-0", "unbounded/seed-0"]
    assert all(run.train_config.epochs == 1 for run in smoke.runs)
    assert smoke.default_out() == os.path.join("data", "smoke", "ratio")
    with pytest.raises(SweepError, match="no scale 'huge'"):
        load_spec(path, scale="huge")


@pytest.mark.parametrize("bad, message", [
    (spec({"ratio": ["80:20", "0:100"]}), r"\[grid\], run ratio-0-100/seed-0: .*no excitatory"),
    (spec({"ratoi": ["80:20"]}), r"\[grid\]: unknown option 'ratoi'"),
    (spec({"seed": [0]}, lr=-1), r"run base/seed-0: the learning rate \(--lr\) must be above 0"),
    (spec({"seed": [0]}, ratio=["80:20"]), r"\[base\]: 'ratio' is a list"),
    (spec({"seed": [0]}, out="x"), r"'out' cannot be set in a sweep"),
    (spec({"seed": [0, -1]}), r"seed -1 must be a non-negative integer"),
    (spec({"optimizer": ["adam", "sgd"]}), r"run optimizer-sgd/seed-0: .*invalid choice"),
    (spec({"unbounded": ["yes"]}), r"unbounded is a switch"),
    (dict(spec({"seed": [0]}), grids={}), r"unknown section"),
    (spec({"seed": [0]}, extra=[{"seed": 0}]), r"the same configuration as run base/seed-0"),
])
def test_a_bad_spec_is_refused_naming_the_key_and_the_run(bad, message):
    with pytest.raises(SweepError, match=message):
        load_spec(bad)


def test_the_command_refuses_a_bad_spec_before_anything_runs(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('[grid]\nratio = ["80:20", "0:100"]\n')
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "ratio-0-100/seed-0" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    path.write_text("[grid\n")
    assert main(["sweep", str(path)]) == 2
    assert "not valid TOML" in capsys.readouterr().err


def test_the_slurm_recipe_writes_a_job_script_with_one_single_threaded_worker_per_core():
    cluster = slurm_cluster(cores=8, memory="16GB", walltime="04:00:00", account="mylab",
                            queue="normal", cache_dir="/scratch/ei_brian_cache")
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "#SBATCH -A mylab" in script and "#SBATCH -p normal" in script
    assert "#SBATCH -t 04:00:00" in script and "#SBATCH --mem=15G" in script
    assert "--nworkers 8" in script and "--nthreads 1" in script
    assert "export EI_BRIAN_CACHE=/scratch/ei_brian_cache" in script
    assert "export OMP_NUM_THREADS=1" in script


# ---------------------------------------------------------------------------------------------
# running (a local cluster of 2 workers, the small network of the training tests)

def outcome(run):
    rows = [{key: value for key, value in row.items() if key != "seconds"}
            for row in read_csv(os.path.join(run, "metrics.csv"))]
    with np.load(os.path.join(run, "weights.npz")) as weights:
        return rows, {name: weights[name].copy() for name in weights.files}


@pytest.mark.compiled
@pytest.mark.slow
def test_a_sweep_on_two_workers_equals_its_runs_done_alone_and_runs_once(tmp_path, capsys):
    sweep = spec({"seed": [1, 2], "update_noise": [0.0, 0.2]})
    out = str(tmp_path / "sweep")
    table = run_sweep(sweep, out=out, workers=2, progress=False)
    assert sorted(table["status"]) == ["finished"] * 4
    runs = read_csv(os.path.join(out, "runs.csv"))
    assert [row["status"] for row in runs] == ["finished"] * 4
    assert {row["run_dir"] for row in runs} == {f"update-noise-{noise}/seed-{seed}"
                                                 for noise in ("0.0", "0.2") for seed in (1, 2)}
    assert all(0 <= float(row["peak_test_acc"]) <= 1 for row in runs)
    assert all(float(row["wall_seconds"]) > 0 for row in runs)
    epochs = read_csv(os.path.join(out, "epochs.csv"))
    assert len(epochs) == 4 * 3 and {"update_noise", "seed", "epoch", "test_acc"} <= set(epochs[0])
    loaded = load_spec(sweep)
    for run in loaded.runs:
        if run.varied["update_noise"] == 0.2:  # the noisy runs, alone
            alone = str(tmp_path / f"alone-{run.seed}")
            train(run.net_config, run.train_config, out_dir=alone, progress=False)
            a, b = outcome(alone), outcome(os.path.join(out, run.folder))
            assert a[0] == b[0]
            for name in a[1]:
                assert np.array_equal(a[1][name], b[1][name])
    # a second call trains nothing: no cluster, no file touched
    stamps = {path: os.stat(os.path.join(out, path, "metrics.csv")).st_mtime_ns
              for path in (row["run_dir"] for row in runs)}
    capsys.readouterr()
    assert main(["sweep", "--out", out, "--quiet", write_spec(tmp_path, sweep)]) == 0
    assert "4 finished already" in capsys.readouterr().out
    assert stamps == {path: os.stat(os.path.join(out, path, "metrics.csv")).st_mtime_ns
                      for path in stamps}
    assert main(["sweep", "--out", out, "--dry-run", write_spec(tmp_path, sweep)]) == 0
    printed = capsys.readouterr().out
    assert "4 runs" in printed and "4 finished" in printed and "core-hours" in printed


def write_spec(tmp_path, sweep):
    import json
    path = tmp_path / "spec.toml"
    lines = []
    for section in ("study", "base", "grid"):
        lines.append(f"[{section}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in sweep[section].items()]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.mark.compiled
@pytest.mark.slow
def test_a_killed_worker_is_replaced_and_its_run_resumes_once(tmp_path):
    from dask.distributed import Client, LocalCluster
    sweep = spec({"seed": [4, 5]}, epochs=4, train_samples=500)
    out = str(tmp_path / "sweep")
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True)
    client = Client(cluster)
    result = {}
    thread = threading.Thread(target=lambda: result.update(
        table=run_sweep(sweep, out=out, client=client, progress=False, threads=1)))
    thread.start()
    killed = None
    deadline = time.time() + 240
    while killed is None and time.time() < deadline and thread.is_alive():
        for seed in (4, 5):
            run_dir = os.path.join(out, "base", f"seed-{seed}")
            metrics = os.path.join(run_dir, "metrics.csv")
            if os.path.exists(os.path.join(run_dir, "checkpoint.npz")) and \
                    os.path.exists(metrics) and len(read_csv(metrics)) >= 2 and \
                    not os.path.exists(os.path.join(run_dir, "result.json")):
                pids = client.run(os.getpid)
                for worker, keys in client.processing().items():
                    if any(f"seed-{seed}-" in str(key) for key in keys):
                        os.kill(pids[worker], signal.SIGKILL)  # mid-run, after epoch >= 1
                        killed = seed
                break
        time.sleep(0.02)
    thread.join(timeout=300)
    client.close()
    cluster.close()
    assert killed is not None, "no run could be killed in the middle"
    assert sorted(result["table"]["status"]) == ["finished", "finished"]
    for seed in (4, 5):
        rows = read_csv(os.path.join(out, "base", f"seed-{seed}", "metrics.csv"))
        assert [int(row["epoch"]) for row in rows] == [0, 1, 2, 3, 4]  # each epoch once
    log = open(os.path.join(out, "base", f"seed-{killed}", "log.txt")).read()
    assert "resuming after epoch" in log


@pytest.mark.compiled
@pytest.mark.slow
def test_a_failing_run_does_not_stop_the_others_and_is_listed(tmp_path, capsys):
    sweep = spec({"seed": [1]}, extra=[{"seed": 1, "lr": 0.001, "data_dir": str(tmp_path / "none")}])
    out = str(tmp_path / "sweep")
    assert main(["sweep", write_spec_with_extra(tmp_path, sweep), "--out", out, "--workers", "2",
                 "--quiet"]) == 1
    error = capsys.readouterr().err
    assert "1 run(s) of the sweep" in error and "DatasetError" in error and "log.txt" in error
    runs = {row["label"]: row for row in read_csv(os.path.join(out, "runs.csv"))}
    assert runs["base"]["status"] == "finished"
    failed = next(row for label, row in runs.items() if label != "base")
    assert failed["status"] == "failed" and "DatasetError" in failed["error"]
    with pytest.raises(SweepFailed):  # the Python face raises too, after running the rest
        run_sweep(sweep, out=out, workers=1, progress=False)


def write_spec_with_extra(tmp_path, sweep):
    import json
    path = write_spec(tmp_path, sweep)
    with open(path, "a") as f:
        for block in sweep["extra"]:
            f.write("[[extra]]\n" + "".join(f"{key} = {json.dumps(value)}\n"
                                            for key, value in block.items()))
    return path


def test_fit_in_hours_gives_the_longest_runs_first_to_the_least_loaded_worker():
    from ei_brian.sweep import _run_cost, fit_in_hours
    loaded = load_spec(spec({"seed": [0, 1, 2]}, epochs=2))
    states = {("out", run.folder): ("new", -1) for run in loaded.runs}
    todo = [(loaded, "out", run) for run in loaded.runs]
    cost = _run_cost(loaded.runs[0], -1)  # every run costs the same
    chosen, left = fit_in_hours(todo, states, hours=1.5 * cost / 3600, lanes=2, speed=1.0)
    assert (len(chosen), len(left)) == (2, 1)  # one run per worker fits, a second does not
    chosen, left = fit_in_hours(todo, states, hours=2.0 * cost / 3600, lanes=2, speed=1.0)
    assert (len(chosen), len(left)) == (3, 0)
    chosen, left = fit_in_hours(todo, states, hours=0.5 * cost / 3600, lanes=2, speed=1.0)
    assert (len(chosen), len(left)) == (0, 3)
    # a run started before (its checkpoint at half its epochs) goes first, though it is shortest
    many = load_spec(spec({"seed": [0, 1, 2, 3, 4]}, epochs=2))
    states = {("out", run.folder): ("new", -1) for run in many.runs}
    states[("out", many.runs[4].folder)] = ("partial", 1)
    todo = [(many, "out", run) for run in many.runs]
    half = _run_cost(many.runs[4], 1)
    assert half < cost
    chosen, left = fit_in_hours(todo, states, hours=(2 * cost + half) / 3600, lanes=1,
                                speed=1.0)
    assert chosen[0][2] is many.runs[4] and (len(chosen), len(left)) == (3, 2)


def test_the_speed_is_measured_on_a_sweeps_own_tables_with_its_runs_sizes(tmp_path):
    from ei_brian.sweep import sweeps_speed
    from ei_brian.sweep.estimate import EVALUATION_SHARE
    # runs of 200 steps (--duration twice the default): an epoch is twice the work per sample
    loaded = load_spec(spec({"seed": [0, 1]}, duration=200.0))
    assert loaded.runs[0].net_config.n_steps == 200
    out = tmp_path / "data" / "standard" / "study"
    out.mkdir(parents=True)
    with open(out / "runs.csv", "w") as f:
        f.write("label,seed,run_dir,status,train_samples,validation_samples,test_samples,"
                "command\n")
        for run in loaded.runs:
            f.write(f"{run.label},{run.seed},{run.folder},finished,300,0,100,ei-brian train\n")
    with open(out / "epochs.csv", "w") as f:
        f.write("label,seed,epoch,seconds\n")
        for run in loaded.runs:
            f.write(f"{run.label},{run.seed},0,9.0\n"  # the start: no training epoch
                    f"{run.label},{run.seed},1,2.0\n{run.label},{run.seed},2,2.0\n")
    speed, how = sweeps_speed([(loaded, str(out))])
    assert how == "measured on these runs' epochs"
    assert speed == pytest.approx(2 * (300 + EVALUATION_SHARE * 100) / 2.0)


@pytest.mark.compiled
@pytest.mark.slow
def test_runs_in_pieces_and_from_the_tables_alone(tmp_path, capsys):
    import shutil

    from ei_brian.io import code_commit, machine_description
    from ei_brian.sweep import _run_cost, sweeps_speed
    sweep = spec({"seed": [0, 1, 2]}, epochs=1, validation_samples=50, lr_schedule="cosine")
    loaded = load_spec(sweep)
    out = str(tmp_path / "data" / "standard" / "piece")  # no other tables under tmp_path/data
    speed, how = sweeps_speed([(loaded, out)])
    assert how.startswith("assumed")
    # a budget that fits two runs on two workers, not three
    hours = 1.5 * _run_cost(loaded.runs[0], -1) / speed / 3600
    with pytest.raises(SweepError, match="--hours must be above 0"):
        run_sweep(sweep, out=out, hours=0)
    table = run_sweep(sweep, out=out, workers=2, progress=False, hours=hours)
    assert sorted(table["status"]) == ["finished", "finished", "new"]
    assert "1 left for a later invocation" in capsys.readouterr().out
    runs = read_csv(os.path.join(out, "runs.csv"))
    done = [row for row in runs if row["status"] == "finished"]
    for row in done:
        assert row["outcome"] in ("trained", "silent", "saturated")
        assert row["command"].startswith("ei-brian train ") and f"--seed {row['seed']}" in \
            row["command"] and "--validation-samples 50" in row["command"]
        assert row["val_epoch"] == "1" and row["val_test_acc"] == row["peak_test_acc"]
        assert row["learning_rate"] == "0.005" and row["lr_schedule"] == "cosine"
        assert row["n_classes"] == "10" and row["validation_samples"] == "50"
        assert row["trained_at"] == code_commit()  # the code that trained it (git checkouts)
        assert row["trained_on"] == machine_description()  # and the machine
    # a fresh clone holds the tables, not the run folders: the finished runs stay finished,
    # and the speed they were trained at is still measured, on the tables
    measured, how = sweeps_speed([(loaded, out)])
    assert how == "measured on these runs' epochs"
    for row in done:
        shutil.rmtree(os.path.join(out, row["run_dir"]))
    again_speed, again_how = sweeps_speed([(loaded, out)])
    assert again_how == how and again_speed == pytest.approx(measured)
    table = run_sweep(sweep, out=out, workers=1, progress=False)
    assert sorted(table["status"]) == ["finished"] * 3
    again = {row["run_dir"]: row for row in read_csv(os.path.join(out, "runs.csv"))}
    for row in done:
        assert again[row["run_dir"]] == row
    epochs = read_csv(os.path.join(out, "epochs.csv"))
    assert sorted((row["seed"], row["epoch"]) for row in epochs) == [
        (str(seed), str(epoch)) for seed in range(3) for epoch in range(2)]


def test_the_runs_table_names_each_runs_warnings_also_from_tables_without_them(tmp_path):
    import json
    import shutil

    from ei_brian.io import _config_record, _metrics_text
    from ei_brian.sweep import RUNS_COLUMNS_AFTER, write_tables
    loaded = load_spec(spec({"seed": [0, 1, 2]}))
    out = str(tmp_path / "sweep")
    # seed 0 finished, silent at the start and with a rising loss; seed 1 unfinished, without
    # a warning; seed 2 not started (folders as `ei-brian train` writes them, without training)
    for run, losses, rates in ((loaded.runs[0], [2.0, 2.1, 2.2, 2.3], [0.0, 5.0, 6.0, 7.0]),
                               (loaded.runs[1], [2.3, 2.0], [5.0, 6.0])):
        run_dir = os.path.join(out, run.folder)
        os.makedirs(run_dir)
        with open(os.path.join(run_dir, "config.json"), "w") as f:
            json.dump(_config_record(run.net_config, run.train_config), f)
        rows = [{"epoch": epoch, "train_loss": loss, "train_acc": 0.5, "test_acc": 0.5,
                 "rate_exc_hz": rate, "rate_inh_hz": rate, "silent_frac": 0.0, "seconds": 1.0}
                for epoch, (loss, rate) in enumerate(zip(losses, rates))]
        with open(os.path.join(run_dir, "metrics.csv"), "w") as f:
            f.write(_metrics_text(rows))
    with open(os.path.join(out, loaded.runs[0].folder, "result.json"), "w") as f:
        json.dump({"finished": True}, f)
    write_tables(loaded, out)
    assert RUNS_COLUMNS_AFTER.index("warnings") == RUNS_COLUMNS_AFTER.index("stopped_early") + 1
    table = read_csv(os.path.join(out, "runs.csv"))
    assert [(row["status"], row["warnings"]) for row in table] == [
        ("finished", "silent-start;rising-loss"), ("partial", ""), ("new", "")]
    # a table written before the column, and a fresh clone without the run folders: the
    # warnings of the finished run come from its recorded epochs
    with open(os.path.join(out, "runs.csv"), "w", newline="") as f:
        columns = [column for column in table[0] if column != "warnings"]
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(table)
    shutil.rmtree(os.path.join(out, loaded.runs[0].folder))
    write_tables(loaded, out)
    assert read_csv(os.path.join(out, "runs.csv"))[0] == table[0]


def test_a_spec_varies_the_neuron_model_with_a_file_beside_it(tmp_path, monkeypatch):
    """``neuron_model`` is a sweep key like any option; a model file is found beside the spec,
    and each run's configuration holds the whole model (config.json will record it)."""
    models = os.path.join(os.path.dirname(__file__), "..", "ei_brian", "models")
    (tmp_path / "models").mkdir()
    with open(os.path.join(models, "alif.toml")) as f:
        (tmp_path / "models" / "slow_alif.toml").write_text(
            f.read().replace('tau_a = "200*ms"', 'tau_a = "500*ms"'))
    path = tmp_path / "study.toml"
    path.write_text('[base]\nepochs = 1\n[grid]\nneuron_model = ["lif", "alif", '
                    '"models/slow_alif.toml"]\n')
    monkeypatch.chdir(os.path.dirname(__file__))  # not the spec's folder
    loaded = load_spec(str(path))
    labels = [run.label for run in loaded.runs]
    assert labels == ["neuron-model-lif", "neuron-model-alif",
                      "neuron-model-models-slow_alif.toml"]
    models_of_runs = [run.net_config.neuron_model for run in loaded.runs]
    assert models_of_runs[:2] == ["lif", "alif"] and 'tau_a = "500*ms"' in models_of_runs[2]
    path.write_text('[grid]\nneuron_model = ["lif", "nonsense"]\n')
    with pytest.raises(SweepError, match="unknown neuron model 'nonsense'"):
        load_spec(str(path))
