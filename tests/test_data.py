"""Tests of ei_brian.datasets.fashion_mnist and ei_brian.data: finding, reading, subsetting and
downloading Fashion-MNIST, loading a data set by name.

The real-file tests use whatever folder :func:`find_fashion_mnist` finds (on the reference machine
the Debian package's ``/usr/share/datasets/fashion-mnist``) and are skipped only where there is
none. Everything else uses small fake IDX files in ``tmp_path``; nothing is downloaded
(the downloader is tested with ``file://`` URLs).
"""
import argparse
import gzip
import hashlib

import numpy as np
import pytest

from ei_brian import data
from ei_brian.cli import data as data_command
from ei_brian.data import DatasetError, load_dataset
from ei_brian.datasets import fashion_mnist, folders
from ei_brian.datasets.fashion_mnist import (
    FASHION_MNIST_FILES,
    fetch_fashion_mnist,
    find_fashion_mnist,
    load_fashion_mnist,
    read_idx,
)

# --------------------------------------------------------------------------------------------------
# helpers: small fake data sets
# --------------------------------------------------------------------------------------------------


def idx_bytes(array, magic=None):
    """IDX encoding of a uint8 array (images: 3-D, labels: 1-D)."""
    array = np.asarray(array, dtype=np.uint8)
    if magic is None:
        magic = 0x00000800 | array.ndim
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    return header + array.tobytes()


def write_file(folder, name, payload, compress):
    path = folder / (name + ".gz" if compress else name)
    path.write_bytes(gzip.compress(payload) if compress else payload)
    return path


def fake_arrays(n_train=40, n_test=20, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": np.arange(n_train, dtype=np.uint8) % 10,
        "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_labels": np.arange(n_test, dtype=np.uint8) % 10,
    }


def write_fake_dataset(folder, compress=True, arrays=None):
    folder.mkdir(parents=True, exist_ok=True)
    arrays = fake_arrays() if arrays is None else arrays
    for key, name in FASHION_MNIST_FILES.items():
        write_file(folder, name, idx_bytes(arrays[key]), compress)
    return arrays


@pytest.fixture
def no_default_locations(monkeypatch, tmp_path):
    """Point the repository and system data folders at empty places and unset $EI_BRIAN_DATA."""
    monkeypatch.delenv(folders.DATA_ENVIRONMENT_VARIABLE, raising=False)
    # the one place it is read from (the command line's REPO_DATA_DIR is only a copy of the name)
    monkeypatch.setattr(folders, "REPO_DATA_DIR", tmp_path / "repo-data")
    monkeypatch.setattr(fashion_mnist, "SYSTEM_DATA_DIR", tmp_path / "system-data")


# --------------------------------------------------------------------------------------------------
# real files
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_folder():
    try:
        return find_fashion_mnist()
    except DatasetError as error:
        pytest.skip(f"Fashion-MNIST is not installed anywhere: {error}")


@pytest.fixture(scope="module")
def real_labels(real_folder):
    paths = fashion_mnist.fashion_mnist_paths(real_folder)
    return read_idx(paths["train_labels"], "labels"), read_idx(paths["test_labels"], "labels")


def test_real_files_full_test_set_and_checksums(real_folder):
    fashion_mnist.verify_fashion_mnist(real_folder)
    dataset = load_fashion_mnist(real_folder, train_samples=10, seed=0)
    assert dataset.x_test.shape == (10000, 784) and dataset.x_test.dtype == np.float64
    assert dataset.y_test.shape == (10000,) and dataset.y_test.dtype == np.int64
    assert dataset.x_test.min() == 0.0 and dataset.x_test.max() == 1.0
    assert set(np.unique(dataset.y_test).tolist()) == set(range(10))
    np.testing.assert_array_equal(np.bincount(dataset.y_test), np.full(10, 1000))
    np.testing.assert_array_equal(dataset.test_indices, np.arange(10000))
    assert (dataset.n_classes, dataset.n_channels, dataset.name) == (10, 784, "fashion-mnist")
    assert dataset.source == str(real_folder)
    assert len(dataset.class_names) == 10


def test_real_files_balanced_reproducible_subset(real_folder, real_labels):
    train_labels, test_labels = real_labels
    assert len(train_labels) == 60000 and len(test_labels) == 10000
    a = load_fashion_mnist(real_folder, train_samples=1003, test_samples=50, seed=7)
    assert a.x_train.shape == (1003, 784) and a.x_test.shape == (50, 784)
    assert 0.0 <= a.x_train.min() and a.x_train.max() <= 1.0
    counts = np.bincount(a.y_train, minlength=10)
    assert counts.sum() == 1003 and counts.min() == 100 and counts.max() == 101
    assert (counts == 101).sum() == 3
    np.testing.assert_array_equal(np.bincount(a.y_test, minlength=10), np.full(10, 5))
    # traceable: the indices point at the right labels in the files
    np.testing.assert_array_equal(train_labels[a.train_indices], a.y_train)
    np.testing.assert_array_equal(test_labels[a.test_indices], a.y_test)
    assert len(np.unique(a.train_indices)) == 1003
    # shuffled, not in file order
    assert not np.all(np.diff(a.train_indices) > 0)


def test_subset_reproducible_and_seed_dependent(real_labels):
    train_labels, _ = real_labels

    def draw(seed):
        return data.balanced_subset(train_labels, 500, np.random.default_rng(seed))

    np.testing.assert_array_equal(draw(1), draw(1))
    assert not np.array_equal(draw(1), draw(2))
    np.testing.assert_array_equal(np.bincount(train_labels[draw(1)]), np.full(10, 50))


def test_load_same_seed_same_subset_other_seed_other_subset(tmp_path):
    write_fake_dataset(tmp_path)
    a = load_fashion_mnist(tmp_path, train_samples=20, test_samples=10, seed=1)
    b = load_fashion_mnist(tmp_path, train_samples=20, test_samples=10, seed=1)
    c = load_fashion_mnist(tmp_path, train_samples=20, test_samples=10, seed=2)
    np.testing.assert_array_equal(a.train_indices, b.train_indices)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.train_indices, c.train_indices)
    # the test subset does not depend on the number of training samples
    d = load_fashion_mnist(tmp_path, train_samples=30, test_samples=10, seed=1)
    np.testing.assert_array_equal(a.test_indices, d.test_indices)


def test_load_values_match_files(tmp_path):
    arrays = write_fake_dataset(tmp_path, compress=False)
    dataset = load_fashion_mnist(tmp_path)
    np.testing.assert_array_equal(dataset.x_train,
                                  arrays["train_images"].reshape(40, 784) / 255.0)
    np.testing.assert_array_equal(dataset.y_train, arrays["train_labels"])
    np.testing.assert_array_equal(dataset.train_indices, np.arange(40))
    assert dataset.n_train == 40 and dataset.n_test == 20


@pytest.mark.parametrize("kwargs, message", [
    ({"train_samples": 0}, "train_samples must be a positive integer"),
    ({"train_samples": -3}, "train_samples must be a positive integer"),
    ({"train_samples": 2.5}, "train_samples must be a positive integer"),
    ({"train_samples": True}, "train_samples must be a positive integer"),
    ({"train_samples": 41}, "more than the 40 samples"),
    ({"test_samples": 21}, "more than the 20 samples"),
    ({"seed": -1}, "seed"),
    ({"seed": None}, "seed"),
])
def test_load_rejects_bad_arguments(tmp_path, kwargs, message):
    write_fake_dataset(tmp_path)
    with pytest.raises(ValueError, match=message):
        load_fashion_mnist(tmp_path, **kwargs)


def test_balanced_subset_class_too_small():
    labels = np.array([0] * 10 + [1] * 2)
    with pytest.raises(ValueError, match="class 1"):
        data.balanced_subset(labels, 8, np.random.default_rng(0), n_classes=2)


def test_load_dataset_dispatch(tmp_path):
    write_fake_dataset(tmp_path)
    dataset = load_dataset("fashion-mnist", data_dir=tmp_path, train_samples=10, test_samples=10)
    assert dataset.x_train.shape == (10, 784)
    with pytest.raises(ValueError, match="known data sets: fashion-mnist"):
        load_dataset("cifar-10")


# --------------------------------------------------------------------------------------------------
# corrupt files
# --------------------------------------------------------------------------------------------------


def test_bad_magic(tmp_path):
    write_fake_dataset(tmp_path)
    labels = np.zeros(40, dtype=np.uint8)
    path = write_file(tmp_path, FASHION_MNIST_FILES["train_images"], idx_bytes(labels), True)
    with pytest.raises(DatasetError, match="bad magic number") as error:
        load_fashion_mnist(tmp_path)
    assert path.name in str(error.value)


def test_truncated_gzip(tmp_path):
    write_fake_dataset(tmp_path)
    path = tmp_path / (FASHION_MNIST_FILES["train_images"] + ".gz")
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DatasetError, match="not a valid gzip file") as error:
        load_fashion_mnist(tmp_path)
    assert path.name in str(error.value)


def test_not_gzip_at_all(tmp_path):
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(b"this is not gzip data")
    with pytest.raises(DatasetError, match="train-labels-idx1-ubyte.gz"):
        read_idx(path, "labels")


def test_truncated_payload(tmp_path):
    write_fake_dataset(tmp_path)
    payload = idx_bytes(fake_arrays()["test_images"])[:-784]
    path = write_file(tmp_path, FASHION_MNIST_FILES["test_images"], payload, True)
    with pytest.raises(DatasetError,
                       match=r"truncated: header says 20 items .*file holds 14896 bytes") as error:
        load_fashion_mnist(tmp_path)
    assert path.name in str(error.value)


def test_truncated_header(tmp_path):
    path = write_file(tmp_path, "t10k-images-idx3-ubyte", b"\x00\x00\x08\x03\x00", False)
    with pytest.raises(DatasetError, match="t10k-images-idx3-ubyte: truncated"):
        read_idx(path, "images")


def test_trailing_bytes(tmp_path):
    payload = idx_bytes(np.zeros(5, dtype=np.uint8)) + b"\x00"
    path = write_file(tmp_path, "t10k-labels-idx1-ubyte", payload, False)
    with pytest.raises(DatasetError, match="t10k-labels-idx1-ubyte: 1 bytes of trailing"):
        read_idx(path, "labels")


def test_wrong_image_size(tmp_path):
    path = write_file(tmp_path, "t10k-images-idx3-ubyte", idx_bytes(np.zeros((2, 32, 32))), False)
    with pytest.raises(DatasetError, match="32x32 pixels, expected 28x28"):
        read_idx(path, "images")


def test_labels_out_of_range(tmp_path):
    arrays = fake_arrays()
    arrays["train_labels"][7] = 10
    write_fake_dataset(tmp_path, arrays=arrays)
    with pytest.raises(DatasetError,
                       match=r"train-labels-idx1-ubyte.gz: label 10 at position 7 is outside"):
        load_fashion_mnist(tmp_path)


def test_count_mismatch(tmp_path):
    write_fake_dataset(tmp_path)
    write_file(tmp_path, FASHION_MNIST_FILES["test_labels"],
               idx_bytes(np.zeros(19, dtype=np.uint8)), True)
    with pytest.raises(DatasetError, match="20 images but .*t10k-labels-idx1-ubyte.gz holds 19"):
        load_fashion_mnist(tmp_path)


def test_missing_file(tmp_path):
    write_fake_dataset(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetError, match="t10k-labels-idx1-ubyte") as error:
        load_fashion_mnist(tmp_path)
    assert "ei-brian data fetch fashion-mnist" in str(error.value)
    with pytest.raises(DatasetError, match="file not found"):
        read_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", "labels")


def test_read_idx_bad_kind(tmp_path):
    with pytest.raises(ValueError, match="expected_kind"):
        read_idx(tmp_path / "x", "pictures")


def test_plain_preferred_over_gz(tmp_path):
    arrays = write_fake_dataset(tmp_path, compress=False)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(b"garbage, never read")
    dataset = load_fashion_mnist(tmp_path)
    np.testing.assert_array_equal(dataset.y_test, arrays["test_labels"])


# --------------------------------------------------------------------------------------------------
# search order
# --------------------------------------------------------------------------------------------------


def test_explicit_dir_only(tmp_path, monkeypatch):
    good = tmp_path / "good"
    write_fake_dataset(good)
    monkeypatch.setenv(folders.DATA_ENVIRONMENT_VARIABLE, str(good))
    assert find_fashion_mnist(good) == good
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DatasetError) as error:
        find_fashion_mnist(empty)  # $EI_BRIAN_DATA is not consulted
    assert str(empty) in str(error.value) and str(good) not in str(error.value)


def test_environment_variable_folder_and_subfolder(tmp_path, monkeypatch, no_default_locations):
    root = tmp_path / "env"
    write_fake_dataset(root / "fashion-mnist")
    monkeypatch.setenv(folders.DATA_ENVIRONMENT_VARIABLE, str(root))
    assert find_fashion_mnist() == root / "fashion-mnist"
    write_fake_dataset(root)
    assert find_fashion_mnist() == root  # the folder itself comes first


def test_repository_before_system(tmp_path, no_default_locations):
    write_fake_dataset(fashion_mnist.SYSTEM_DATA_DIR / "fashion-mnist")
    assert find_fashion_mnist() == fashion_mnist.SYSTEM_DATA_DIR / "fashion-mnist"
    write_fake_dataset(folders.REPO_DATA_DIR / "fashion-mnist", compress=False)
    assert find_fashion_mnist() == folders.REPO_DATA_DIR / "fashion-mnist"


def test_not_found_lists_all_places(tmp_path, monkeypatch, no_default_locations):
    env = tmp_path / "env"
    env.mkdir()
    (env / "train-images-idx3-ubyte.gz").write_bytes(b"")
    monkeypatch.setenv(folders.DATA_ENVIRONMENT_VARIABLE, str(env))
    with pytest.raises(DatasetError) as error:
        find_fashion_mnist()
    message = str(error.value)
    for folder in (env, env / "fashion-mnist", folders.REPO_DATA_DIR / "fashion-mnist",
                   fashion_mnist.SYSTEM_DATA_DIR / "fashion-mnist"):
        assert str(folder) in message
    assert "incomplete: missing train-labels-idx1-ubyte" in message
    assert "apt-get install dataset-fashion-mnist" in message


# --------------------------------------------------------------------------------------------------
# downloader (file:// URLs only)
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def mirror(tmp_path):
    """A folder of small .gz files served through file://, with their checksums."""
    folder = tmp_path / "mirror"
    write_fake_dataset(folder)
    checksums = {path.name: hashlib.sha256(path.read_bytes()).hexdigest()
                 for path in folder.iterdir()}
    return folder, checksums


def test_fetch_good_checksums(tmp_path, mirror):
    folder, checksums = mirror
    dest = tmp_path / "dest"
    result = fetch_fashion_mnist(dest, base_urls=[folder.as_uri()], progress=False,
                                 checksums=checksums)
    assert result == dest
    assert sorted(p.name for p in dest.iterdir()) == sorted(checksums)  # no temporary files left
    for name in checksums:
        assert (dest / name).read_bytes() == (folder / name).read_bytes()
    assert load_fashion_mnist(dest).x_train.shape == (40, 784)
    # a second run downloads nothing: an unreachable mirror is then fine
    fetch_fashion_mnist(dest, base_urls=[(tmp_path / "gone").as_uri()], progress=False,
                        checksums=checksums)


def test_fetch_with_progress_bar(tmp_path, mirror, capsys):
    folder, checksums = mirror
    fetch_fashion_mnist(tmp_path / "dest", base_urls=[folder.as_uri()], progress=True,
                        checksums=checksums)
    assert "t10k-labels-idx1-ubyte.gz" in capsys.readouterr().err


def test_fetch_wrong_checksum(tmp_path, mirror):
    folder, checksums = mirror
    bad = dict(checksums, **{"train-labels-idx1-ubyte.gz": "0" * 64})
    dest = tmp_path / "dest"
    with pytest.raises(DatasetError) as error:
        fetch_fashion_mnist(dest, base_urls=[folder.as_uri()], progress=False, checksums=bad)
    message = str(error.value)
    assert "train-labels-idx1-ubyte.gz" in message
    assert "0" * 64 in message and checksums["train-labels-idx1-ubyte.gz"] in message
    assert not (dest / "train-labels-idx1-ubyte.gz").exists()
    assert not [p for p in dest.iterdir() if p.name.startswith(".")]  # temporary file removed


def test_fetch_falls_back_to_second_mirror(tmp_path, mirror):
    folder, checksums = mirror
    dest = tmp_path / "dest"
    fetch_fashion_mnist(dest, base_urls=[(tmp_path / "gone").as_uri(), folder.as_uri()],
                        progress=False, checksums=checksums)
    assert len(list(dest.iterdir())) == 4


def test_fetch_replaces_corrupt_present_file(tmp_path, mirror):
    folder, checksums = mirror
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "t10k-labels-idx1-ubyte.gz").write_bytes(b"corrupt")
    fetch_fashion_mnist(dest, base_urls=[folder.as_uri()], progress=False, checksums=checksums)
    fashion_mnist.verify_fashion_mnist(dest, checksums=checksums)


def test_fetch_accepts_recompressed_file_by_content_checksum(tmp_path):
    # a mirror may wrap the same content in another gzip header (as Debian does)
    folder = tmp_path / "mirror"
    write_fake_dataset(folder)
    raw = {name: hashlib.sha256(gzip.decompress((folder / (name + ".gz")).read_bytes()))
           .hexdigest() for name in FASHION_MNIST_FILES.values()}
    dest = tmp_path / "dest"
    fetch_fashion_mnist(dest, base_urls=[folder.as_uri()], progress=False,
                        checksums={}, raw_checksums=raw)
    assert len(list(dest.iterdir())) == 4


def test_ensure_found_and_download(tmp_path, mirror, capsys):
    folder, checksums = mirror
    dest = tmp_path / "dest"
    result = fashion_mnist.ensure_fashion_mnist(dest, base_urls=[folder.as_uri()], progress=False,
                                       checksums=checksums)
    assert result == dest and len(list(dest.iterdir())) == 4
    assert fashion_mnist.ensure_fashion_mnist(dest, base_urls=[], checksums=checksums) == dest
    assert f"found in {dest}" in capsys.readouterr().out


def test_known_checksums_cover_all_files():
    names = sorted(FASHION_MNIST_FILES.values())
    assert sorted(fashion_mnist.FASHION_MNIST_SHA256) == [name + ".gz" for name in names]
    assert sorted(fashion_mnist.FASHION_MNIST_RAW_SHA256) == names


# --------------------------------------------------------------------------------------------------
# command line hooks
# --------------------------------------------------------------------------------------------------


def _parse(argv):
    parser = argparse.ArgumentParser()
    data_command.add_data_arguments(parser)
    return parser.parse_args(argv)


def test_cli_where(tmp_path, capsys):
    write_fake_dataset(tmp_path)
    args = _parse(["where", "fashion-mnist", "--data-dir", str(tmp_path)])
    assert data_command.run_data_command(args) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path)


def test_cli_error_exit_code(tmp_path, capsys):
    args = _parse(["where", "fashion-mnist", "--data-dir", str(tmp_path / "none")])
    assert data_command.run_data_command(args) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_cli_rejects_unknown_choices():
    with pytest.raises(SystemExit):
        _parse(["download", "fashion-mnist"])
    with pytest.raises(SystemExit):
        _parse(["where", "mnist"])
