"""The Spiking Heidelberg Digits: reading, binning, bad files, download, training.

Every SHD file here is written by the test itself in the official layout (h5py, variable-length
datasets); nothing is downloaded (the downloader is tested with ``file://`` URLs).
"""
import csv
import gzip
import hashlib
import json
import os

import h5py
import numpy as np
import pytest

from ei_brian.cli import main
from ei_brian.data import DatasetError, load_dataset
from ei_brian.datasets import folders
from ei_brian.datasets.shd import bin_spikes, fetch_shd, find_shd, read_shd_file
from ei_brian.io import load_probe_spikes

ADVICE = "ei-brian data fetch shd"


# --------------------------------------------------------------------------------------------------
# helpers: SHD files in the official layout
# --------------------------------------------------------------------------------------------------

def write_shd(path, times, units, labels, speaker=None, keys=True, drop=(), time_dtype="float32"):
    """An SHD file: spikes/times, spikes/units (variable length), labels, extra/...; the names
    in ``drop`` are left out (to make bad layouts)."""
    with h5py.File(path, "w") as f:
        if "spikes/times" not in drop:
            ds = f.create_dataset("spikes/times", (len(times),),
                                  dtype=h5py.vlen_dtype(np.dtype(time_dtype)))
            for k, t in enumerate(times):
                ds[k] = np.asarray(t, dtype=time_dtype)
        if "spikes/units" not in drop:
            ds = f.create_dataset("spikes/units", (len(units),),
                                  dtype=h5py.vlen_dtype(np.dtype("uint16")))
            for k, u in enumerate(units):
                ds[k] = np.asarray(u, dtype=np.uint16)
        if "labels" not in drop:
            f.create_dataset("labels", data=np.asarray(labels, dtype=np.uint16))
        f.create_dataset("extra/speaker", data=np.asarray(
            np.arange(len(labels)) % 3 if speaker is None else speaker, dtype=np.uint16))
        if keys:
            f.create_dataset("extra/keys", data=np.array([f"word-{k}".encode()
                                                          for k in range(20)]))
        f.create_dataset("extra/meta_info/gender", data=np.array([b"female", b"male", b"male"]))
    return path


def synthetic(n, seed, duration=0.05, per_sample=700):
    """Class-dependent spikes: class c fires in channels 35c .. 35c + 34; each sample has
    exactly ``per_sample`` distinct (2 ms step, channel) events within ``duration``."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 20
    n_steps = int(round(duration / 2e-3))
    times, units = [], []
    for c in labels:
        cells = rng.choice(n_steps * 35, size=per_sample, replace=False)
        step, channel = np.divmod(cells, 35)
        times.append((step + rng.uniform(0.1, 0.9, per_sample)) * 2e-3)
        units.append(35 * c + channel)
    return times, units, labels


def write_folder(folder, n_train=120, n_test=40, compress=False, **kwargs):
    folder.mkdir(parents=True, exist_ok=True)
    for name, n, seed in (("shd_train.h5", n_train, 0), ("shd_test.h5", n_test, 1)):
        path = write_shd(folder / name, *synthetic(n, seed, **kwargs))
        if compress:
            (folder / (name + ".gz")).write_bytes(gzip.compress(path.read_bytes()))
            path.unlink()
    return folder


@pytest.fixture
def no_default_locations(monkeypatch, tmp_path):
    monkeypatch.delenv(folders.DATA_ENVIRONMENT_VARIABLE, raising=False)
    monkeypatch.setattr(folders, "REPO_DATA_DIR", tmp_path / "repo-data")


# --------------------------------------------------------------------------------------------------
# binning
# --------------------------------------------------------------------------------------------------

def test_binning_hand_checked_cases(tmp_path):
    # channel 5: 1.999 ms -> step 0, 2.0 ms -> step 1, 6.0 ms -> step 3 (6.0 / 2.0 rounds to
    # 2.9999999999999996 in float64), 699.999 ms -> step 349; 700 ms and later: dropped;
    # channel 7: 2.1 and 3.9 ms fall into one step and count once
    times = [[0.001999, 0.002, 0.006, 0.699999, 0.7, 0.75, 0.0021, 0.0039]]
    units = [[5, 5, 5, 5, 5, 5, 7, 7]]
    path = write_shd(tmp_path / "shd_train.h5", times, units, [3], time_dtype="float64")
    samples, labels, info = read_shd_file(path, dt=2e-3, n_steps=350)
    spikes = samples.to_input()
    assert list(zip(spikes.step, spikes.channel)) == [(0, 5), (1, 5), (1, 7), (3, 5), (349, 5)]
    assert labels.tolist() == [3]
    assert (info["n_raw_spikes"], info["n_dropped_late"], info["n_merged"]) == (8, 2, 1)
    assert info["class_names"][3] == "word-3" and info["speaker"].tolist() == [0]
    # a shorter sample drops more; float32 times (as the official files) bin the same
    samples, _, _ = read_shd_file(write_shd(tmp_path / "f32.h5", times, units, [3]), 2e-3, 2)
    assert list(zip(samples.step, samples.channel)) == [(0, 5), (1, 5), (1, 7)]


def test_bin_spikes_matches_a_dense_histogram():
    rng = np.random.default_rng(4)
    times = [rng.uniform(0, 0.12, 500) for _ in range(5)]
    units = [rng.integers(0, 700, 500) for _ in range(5)]
    samples = bin_spikes(times, units, dt=1e-3, n_steps=100)
    dense = np.zeros((5, 100, 700), dtype=bool)
    for k, (t, u) in enumerate(zip(times, units)):
        step = np.floor(t / 1e-3 + 1e-9).astype(int)
        dense[k, step[step < 100], u[step < 100]] = True
    np.testing.assert_array_equal(samples.dense(bool), dense)


# --------------------------------------------------------------------------------------------------
# finding and loading
# --------------------------------------------------------------------------------------------------

def test_load_gz_files_subsets_and_search_order(tmp_path, monkeypatch, no_default_locations):
    folder = write_folder(tmp_path / "env" / "shd", compress=True)
    with pytest.raises(DatasetError, match="not found") as error:
        find_shd()
    assert ADVICE in str(error.value)
    monkeypatch.setenv(folders.DATA_ENVIRONMENT_VARIABLE, str(tmp_path / "env"))
    assert find_shd() == folder
    full = load_dataset("shd", dt=2e-3, n_steps=25)
    assert (folder / "shd_train.h5").is_file()  # the .gz was decompressed beside it, once
    assert (full.n_train, full.n_test, full.n_channels, full.n_classes) == (120, 40, 700, 20)
    assert full.x_train.shape == (120, 25, 700) and full.dt == 2e-3
    assert full.x_train.counts().tolist() == [700] * 120
    assert full.class_names[0] == "word-0" and len(full.extra["train_speaker"]) == 120
    assert full.spike_capacity(20) == 20 * 700
    subset = load_dataset("shd", train_samples=40, test_samples=20, seed=3, dt=2e-3, n_steps=25)
    assert np.bincount(subset.y_train).tolist() == [2] * 20
    np.testing.assert_array_equal(subset.y_train, full.y_train[subset.train_indices])
    np.testing.assert_array_equal(subset.extra["train_speaker"],
                                  full.extra["train_speaker"][subset.train_indices])
    np.testing.assert_array_equal(subset.x_train.step,
                                  full.x_train[subset.train_indices].step)
    again = load_dataset("shd", train_samples=40, test_samples=20, seed=3, dt=2e-3, n_steps=25)
    np.testing.assert_array_equal(again.train_indices, subset.train_indices)
    assert subset.spike_capacity(20) == full.spike_capacity(20)  # from the whole set
    # --data-dir: only that folder
    with pytest.raises(DatasetError, match="no such folder"):
        load_dataset("shd", data_dir=tmp_path / "elsewhere")


# --------------------------------------------------------------------------------------------------
# bad files: a clear error naming the file and the fix
# --------------------------------------------------------------------------------------------------

def _good(tmp_path):
    return synthetic(4, 0)


def _truncate(path):
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])


BAD = {
    "missing": (lambda p: p.unlink(), "file not found|missing shd_train"),
    "truncated": (_truncate, "truncated or corrupt"),
    "not HDF5": (lambda p: p.write_text("<html>404 Not Found</html>"), "not an HDF5 file"),
    "empty file": (lambda p: p.write_bytes(b""), "is empty"),
    "no units": (lambda p: write_shd(p, *_good(p), drop=("spikes/units",)),
                 "wrong layout: no dataset 'spikes/units'"),
    "no labels": (lambda p: write_shd(p, *_good(p), drop=("labels",)),
                  "wrong layout: no dataset 'labels'"),
    "lengths differ": (lambda p: write_shd(p, [[0.01, 0.02]], [[3]], [1]),
                       "sample 0 has 2 spike times but 1 channels"),
    "more labels": (lambda p: write_shd(p, [[0.01]], [[3]], [1, 2]),
                    "1 spike-time arrays and 1 channel arrays for 2 labels"),
    "label out of range": (lambda p: write_shd(p, [[0.01], [0.02]], [[3], [4]], [1, 20]),
                           "label 20 of sample 1 is outside 0 .. 19"),
    "empty sample": (lambda p: write_shd(p, [[0.01], []], [[3], []], [1, 2]),
                     "sample 1 holds no spikes"),
    "no samples": (lambda p: write_shd(p, [], [], []), "the file holds no samples"),
    "channel out of range": (lambda p: write_shd(p, [[0.01]], [[700]], [1]),
                             "channel 700 is outside 0 .. 699"),
    "negative time": (lambda p: write_shd(p, [[-0.01]], [[3]], [1]), "negative or not finite"),
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_files_give_a_clear_error(tmp_path, kind):
    folder = write_folder(tmp_path / "shd", n_train=20, n_test=20)
    damage, words = BAD[kind]
    damage(folder / "shd_train.h5")
    with pytest.raises(DatasetError, match=words) as error:
        load_dataset("shd", data_dir=folder)
    message = str(error.value)
    assert "shd_train.h5" in message and ADVICE in message


def test_bad_gz_files_give_a_clear_error(tmp_path):
    folder = write_folder(tmp_path / "shd", n_train=20, n_test=20, compress=True)
    _truncate(folder / "shd_test.h5.gz")
    with pytest.raises(DatasetError, match="shd_test.h5.gz: not a valid gzip file"):
        load_dataset("shd", data_dir=folder)
    assert not (folder / "shd_test.h5").exists()  # no half-decompressed file left behind
    (folder / "shd_test.h5.gz").write_bytes(gzip.compress(b"not hdf5 at all"))
    with pytest.raises(DatasetError, match="shd_test.h5: is not an HDF5 file") as error:
        load_dataset("shd", data_dir=folder)
    assert ADVICE in str(error.value)


def test_train_refuses_bad_data_without_traceback_or_run_folder(tmp_path, capsys):
    folder = write_folder(tmp_path / "shd", n_train=20, n_test=20)
    write_shd(folder / "shd_test.h5", [[0.01], [0.02]], [[3], [4]], [1, 25])
    out = tmp_path / "run"
    assert main(["train", "--dataset", "shd", "--data-dir", str(folder), "--quiet",
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "label 25" in err and "Traceback" not in err
    assert not out.exists()
    assert main(["train", "--dataset", "shd", "--data-dir", str(tmp_path / "none"), "--quiet",
                 "--out", str(out)]) == 2
    assert "SHD files" in capsys.readouterr().err and not out.exists()
    assert main(["train", "--dataset", "shd", "--encoding", "poisson", "--out", str(out)]) == 2
    assert "does not apply to shd" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------------
# download: pooch, the official MD5 list, file:// URLs
# --------------------------------------------------------------------------------------------------

@pytest.fixture
def mirror(tmp_path):
    """A folder served as file://: the two .gz files and an md5sums.txt naming them."""
    site = tmp_path / "site"
    write_folder(site, n_train=20, n_test=20, compress=True)
    lines = [f"{hashlib.md5((site / name).read_bytes()).hexdigest()}  {name}"
             for name in ("shd_test.h5.gz", "shd_train.h5.gz")]
    (site / "md5sums.txt").write_text("\n".join(["0" * 32 + "  ssc_train.h5.gz", *lines]) + "\n")
    return site


def test_fetch_checks_the_official_md5_list_and_decompresses(tmp_path, mirror, capsys,
                                                              no_default_locations):
    dest = tmp_path / "data"
    assert fetch_shd(dest, base_url=mirror.as_uri(), progress=False) == dest
    for name in ("shd_train.h5", "shd_test.h5"):
        assert (dest / name).is_file() and (dest / (name + ".gz")).is_file()
    assert load_dataset("shd", data_dir=dest, dt=2e-3, n_steps=25).n_train == 20
    # present and correct: not downloaded again (the site's files may go away)
    (mirror / "shd_train.h5.gz").unlink()
    (mirror / "shd_test.h5.gz").unlink()
    assert fetch_shd(dest, base_url=mirror.as_uri(), progress=False) == dest
    # the command line
    assert main(["data", "where", "shd", "--data-dir", str(dest)]) == 0
    assert capsys.readouterr().out.strip() == str(dest)
    assert main(["data", "where", "shd", "--data-dir", str(tmp_path / "none")]) == 2
    assert ADVICE in capsys.readouterr().err


def test_fetch_refuses_a_wrong_checksum_and_a_list_without_the_file(tmp_path, mirror, capsys):
    text = (mirror / "md5sums.txt").read_text()
    good = hashlib.md5((mirror / "shd_train.h5.gz").read_bytes()).hexdigest()
    (mirror / "md5sums.txt").write_text(text.replace(good, "f" * 32))
    dest = tmp_path / "data"
    assert main(["data", "fetch", "shd", "--data-dir", str(dest), "--url", mirror.as_uri(),
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "shd_train.h5.gz" in err and "does not match the MD5" in err
    assert not (dest / "shd_train.h5.gz").exists() and not (dest / "shd_train.h5").exists()
    (mirror / "md5sums.txt").write_text("\n".join(line for line in text.splitlines()
                                                  if "shd_test" not in line))
    with pytest.raises(DatasetError, match="does not name shd_test.h5.gz"):
        fetch_shd(dest, base_url=mirror.as_uri(), progress=False)
    with pytest.raises(DatasetError, match="could not download the official MD5 list"):
        fetch_shd(dest, base_url=(tmp_path / "nowhere").as_uri(), progress=False)


# --------------------------------------------------------------------------------------------------
# training on SHD (compiled): 700 inputs, 20 outputs, a short time grid
# --------------------------------------------------------------------------------------------------

#: a small network on a 50 ms grid; test_randman.py trains the same architecture (700 inputs,
#: 20 classes, 25 steps, batch 20, one spike per channel: capacity 14,000), so one binary serves
SMALL = ["--hidden", "80", "--batch-size", "20", "--duration", "50", "--seed", "2", "--quiet"]


def _metrics(run):
    with open(os.path.join(run, "metrics.csv")) as f:
        return list(csv.DictReader(f))


@pytest.mark.compiled
def test_train_an_epoch_on_shd_files_and_resume(tmp_path, monkeypatch):
    folder = write_folder(tmp_path / "shd")
    run = str(tmp_path / "run")
    args = ["train", "--dataset", "shd", "--data-dir", str(folder), *SMALL, "--epochs", "2"]
    assert main([*args, "--out", run]) == 0
    config = json.load(open(os.path.join(run, "config.json")))
    assert config["dataset"] == "shd" and config["training"]["encoding"] == "spikes"
    network = config["network"]
    assert (network["n_inputs"], network["n_outputs"], network["n_steps"], network["dt"]) == \
        (700, 20, 25, "2.0 ms")
    assert "randman_classes" not in config["training"]
    rows = _metrics(run)
    assert [int(row["epoch"]) for row in rows] == [0, 1, 2]
    assert float(rows[1]["rate_exc_hz"]) > 0
    probe = load_probe_spikes(os.path.join(run, "spikes_final.npz"))
    assert probe["t_stop"] == pytest.approx(0.05) and len(probe["sample_indices"]) == 20
    assert main(["analyze", run]) == 0
    # interrupted after epoch 1, resumed: ends where the uninterrupted run ended
    from ei_brian import training
    killed = str(tmp_path / "killed")
    original = training.Trainer.train_batch

    def interrupt(self, weights, optimizer, images, labels, epoch=0, batch=0):
        if epoch == 2:
            raise KeyboardInterrupt
        return original(self, weights, optimizer, images, labels, epoch=epoch, batch=batch)

    monkeypatch.setattr(training.Trainer, "train_batch", interrupt)
    assert main([*args, "--out", killed]) == 130
    assert len(_metrics(killed)) == 2
    monkeypatch.setattr(training.Trainer, "train_batch", original)
    assert main([*args, "--out", killed, "--resume"]) == 0
    assert [r["test_acc"] for r in _metrics(killed)] == [r["test_acc"] for r in rows]
    with np.load(os.path.join(killed, "weights.npz")) as a, \
            np.load(os.path.join(run, "weights.npz")) as b:
        for name in b.files:
            np.testing.assert_array_equal(a[name], b[name])
