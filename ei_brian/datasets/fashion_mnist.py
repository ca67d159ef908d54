"""Fashion-MNIST: find, check, read, load and download it (``ei-brian data fetch|ensure|where
fashion-mnist``); :func:`ei_brian.data.load_dataset` loads it by name.

Fashion-MNIST (Xiao, Rasul and Vollgraf 2017, https://github.com/zalandoresearch/fashion-mnist)
is stored as four IDX files, gzipped (``.gz``) or plain:

===========================  ==================================  ===============
file                         content                             shape
===========================  ==================================  ===============
``train-images-idx3-ubyte``  training images, uint8 gray values  (60000, 28, 28)
``train-labels-idx1-ubyte``  training labels, 0 .. 9             (60000,)
``t10k-images-idx3-ubyte``   test images                         (10000, 28, 28)
``t10k-labels-idx1-ubyte``   test labels                         (10000,)
===========================  ==================================  ===============

Where the files are looked for
------------------------------
:func:`find_fashion_mnist` searches, in this order:

1. the folder given explicitly (``data_dir=`` or ``--data-dir``); if one is given, only that one;
2. ``$EI_BRIAN_DATA``, the folder itself or its ``fashion-mnist/`` subfolder;
3. ``<repository>/data/fashion-mnist/`` (where ``ei-brian data fetch fashion-mnist`` puts them);
4. ``/usr/share/datasets/fashion-mnist/`` (the Debian package ``dataset-fashion-mnist``).

Checksums
---------
Two sets of SHA-256 checksums are kept, because the same data circulate in different gzip wrappers:
:data:`FASHION_MNIST_SHA256` holds the checksums of the ``.gz`` files as served by the upstream
download site, and :data:`FASHION_MNIST_RAW_SHA256` those of the decompressed IDX files. The Debian
package recompresses the files (its ``.gz`` files lack the original file name in the gzip header,
so they are 23-24 bytes shorter and hash differently) but their decompressed content is identical to
upstream's. A file is accepted when either its own checksum or that of its decompressed content
matches.
"""
import gzip
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys
import urllib.error
import zlib

import numpy as np

from ei_brian import streams
from ei_brian.datasets import folders as _folders
from ei_brian.datasets.dataset import Dataset, _check_n_samples, _check_seed, balanced_subset
from ei_brian.datasets.download import _download
from ei_brian.datasets.errors import DatasetError
from ei_brian.datasets.folders import (
    DATA_ENVIRONMENT_VARIABLE,
    candidate_folders,
    files_in_folder,
    find_folder,
)
from ei_brian.datasets.registry import FASHION_MNIST, IMAGE_SIZE, N_CLASSES

#: The four IDX files of Fashion-MNIST, without the ``.gz`` suffix.
FASHION_MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

#: SHA-256 of the ``.gz`` files as served by the upstream download site and its GitHub repository
#: (they match the MD5 checksums published in the upstream README).
FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}

#: SHA-256 of the decompressed IDX files (the same for upstream's and Debian's ``.gz`` files).
FASHION_MNIST_RAW_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}

#: Download sites, tried in this order; a file's URL is ``<base URL>/<name>.gz``.
FASHION_MNIST_URLS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion",
)

#: Debian package that installs the ``.gz`` files into ``/usr/share/datasets/fashion-mnist/``.
FASHION_MNIST_DEBIAN_PACKAGE = "dataset-fashion-mnist"

#: Parent folder of the data sets installed by Debian packages.
SYSTEM_DATA_DIR = pathlib.Path("/usr/share/datasets")

_IDX_KINDS = {
    # kind: (magic number, number of dimensions)
    "images": (0x00000803, 3),
    "labels": (0x00000801, 1),
}

_HOW_TO_GET = ("run `ei-brian data fetch fashion-mnist` (downloads into {repo}) "
               "or, as root on Debian/Ubuntu, `apt-get install {package}`")


def _how_to_get():
    return _HOW_TO_GET.format(repo=_folders.REPO_DATA_DIR / FASHION_MNIST,
                              package=FASHION_MNIST_DEBIAN_PACKAGE)


# --------------------------------------------------------------------------------------------------
# Finding the files
# --------------------------------------------------------------------------------------------------


def fashion_mnist_paths(folder):
    """Paths of the four Fashion-MNIST files in a folder.

    Parameters
    ----------
    folder : str or os.PathLike
        Folder holding the files, plain or gzipped. Where both ``name`` and ``name.gz`` exist the
        plain file is used (it needs no decompression).

    Returns
    -------
    dict of str to pathlib.Path
        Keys as in :data:`FASHION_MNIST_FILES` (``train_images``, ...).

    Raises
    ------
    DatasetError
        If one or more of the files is missing; the message names them.
    """
    return files_in_folder(folder, FASHION_MNIST_FILES, "Fashion-MNIST",
                           f"Put the four files there, or {_how_to_get()}.")


def find_fashion_mnist(data_dir=None):
    """Find the folder holding the four Fashion-MNIST files.

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        Folder to use. If given, only this folder is searched. Otherwise the search order is
        ``$EI_BRIAN_DATA`` (the folder itself, then its ``fashion-mnist/`` subfolder),
        ``<repository>/data/fashion-mnist/`` and ``/usr/share/datasets/fashion-mnist/``.

    Returns
    -------
    pathlib.Path
        The first folder holding all four files (each plain or gzipped).

    Raises
    ------
    DatasetError
        If no folder holds all four files; the message lists every place searched and why it was
        not used.
    """
    candidates = candidate_folders(FASHION_MNIST, (f"Debian package {FASHION_MNIST_DEBIAN_PACKAGE}",
                                                   SYSTEM_DATA_DIR / FASHION_MNIST))
    names = FASHION_MNIST_FILES.values()
    return find_folder(data_dir, candidates, names, (
        "Fashion-MNIST files (" + ", ".join(f + "[.gz]" for f in names) + ") not found.",
        f"To get them, {_how_to_get()}; or set ${DATA_ENVIRONMENT_VARIABLE} or pass --data-dir to "
        "a folder holding them."))


# --------------------------------------------------------------------------------------------------
# Reading IDX files
# --------------------------------------------------------------------------------------------------

def _read_bytes(path):
    path = pathlib.Path(path)
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found. To get it, {_how_to_get()}.") from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise DatasetError(
            f"{path}: not a valid gzip file ({type(error).__name__}: {error}); it is probably "
            f"truncated or corrupt. Delete it and get a good copy: {_how_to_get()}.") from error
    except OSError as error:
        raise DatasetError(f"{path}: cannot be read ({error}).") from error


def read_idx(path, expected_kind):
    """Read and check one Fashion-MNIST IDX file, gzipped or plain.

    Parameters
    ----------
    path : str or os.PathLike
        The file; a name ending in ``.gz`` is decompressed.
    expected_kind : {"images", "labels"}
        ``"images"``: magic number 0x00000803, unsigned bytes, 3 dimensions (n, 28, 28).
        ``"labels"``: magic number 0x00000801, unsigned bytes, 1 dimension (n,), values 0 .. 9.

    Returns
    -------
    numpy.ndarray of uint8
        Shape (n_items, 28, 28) for images, (n_items,) for labels.

    Raises
    ------
    DatasetError
        If the file is missing, not valid gzip, has another magic number or image size, holds more
        or fewer bytes than its header announces, or a label outside 0 .. 9. The message names the
        file.
    ValueError
        If ``expected_kind`` is neither ``"images"`` nor ``"labels"``.
    """
    if expected_kind not in _IDX_KINDS:
        raise ValueError(f"expected_kind must be one of {sorted(_IDX_KINDS)}, "
                         f"got {expected_kind!r}")
    path = pathlib.Path(path)
    data = _read_bytes(path)
    magic, n_dimensions = _IDX_KINDS[expected_kind]
    header_bytes = 4 + 4 * n_dimensions
    advice = f"Delete it and get a good copy: {_how_to_get()}."
    if len(data) < header_bytes:
        raise DatasetError(f"{path}: truncated: the file holds {len(data)} bytes, fewer than the "
                           f"{header_bytes}-byte IDX header of {expected_kind}. {advice}")
    found_magic = int.from_bytes(data[:4], "big")
    if found_magic != magic:
        raise DatasetError(
            f"{path}: bad magic number 0x{found_magic:08x}, expected 0x{magic:08x} "
            f"(IDX {expected_kind}: unsigned bytes, {n_dimensions} dimension(s)); this is not a "
            f"Fashion-MNIST {expected_kind} file. {advice}")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(n_dimensions))
    if expected_kind == "images" and shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise DatasetError(f"{path}: images are {shape[1]}x{shape[2]} pixels, expected "
                           f"{IMAGE_SIZE}x{IMAGE_SIZE}. {advice}")
    n_items = shape[0]
    expected_payload = int(np.prod(shape))
    payload = len(data) - header_bytes
    if payload < expected_payload:
        raise DatasetError(
            f"{path}: truncated: header says {n_items} items ({expected_payload} bytes after the "
            f"header), file holds {payload} bytes. {advice}")
    if payload > expected_payload:
        raise DatasetError(
            f"{path}: {payload - expected_payload} bytes of trailing garbage: header says "
            f"{n_items} items ({expected_payload} bytes after the header), file holds {payload} "
            f"bytes. {advice}")
    array = np.frombuffer(data, dtype=np.uint8, offset=header_bytes).reshape(shape)
    if expected_kind == "labels" and array.size and array.max() >= N_CLASSES:
        position = int(np.argmax(array >= N_CLASSES))
        raise DatasetError(
            f"{path}: label {int(array[position])} at position {position} is outside "
            f"0 .. {N_CLASSES - 1}. {advice}")
    return array


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------


def _select(images, labels, n_samples, rng):
    if n_samples is None or n_samples == len(labels):
        indices = np.arange(len(labels), dtype=np.int64)
    else:
        indices = balanced_subset(labels, n_samples, rng)
    x = images[indices].reshape(len(indices), -1).astype(np.float64)
    x /= 255.0
    return x, labels[indices].astype(np.int64), indices


def load_fashion_mnist(data_dir=None, train_samples=None, test_samples=None, seed=0):
    """Load Fashion-MNIST, all of it or a reproducible class-balanced subset.

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        Folder holding the files; by default found by :func:`find_fashion_mnist`.
    train_samples, test_samples : int, optional
        Number of training / test samples. None, or the full size, takes the whole file in file
        order. A smaller number draws a class-balanced subset (see :func:`balanced_subset`) in
        random order, reproducible from ``seed``.
    seed : int or numpy.random.SeedSequence, optional
        Seed of the subset draws. Training and test subsets use two independent streams: the
        run's ``train-subset`` and ``test-subset`` streams (:mod:`ei_brian.streams`) for an int,
        two children spawned from a SeedSequence. Changing ``test_samples`` does not change the
        training subset.

    Returns
    -------
    Dataset
        ``x_*`` float64 in [0, 1] of shape (n, 784), ``y_*`` int64, ``*_indices`` int64 positions
        in the files.

    Raises
    ------
    DatasetError
        If the files are missing or corrupt, or images and labels disagree on the number of items.
    ValueError
        If ``train_samples``, ``test_samples`` or ``seed`` is invalid.
    """
    seed_sequence = _check_seed(seed)
    folder = find_fashion_mnist(data_dir)
    paths = fashion_mnist_paths(folder)
    arrays = {key: read_idx(path, key.split("_")[1]) for key, path in paths.items()}
    for split in ("train", "test"):
        n_images = len(arrays[f"{split}_images"])
        n_labels = len(arrays[f"{split}_labels"])
        if n_images != n_labels:
            raise DatasetError(
                f"{paths[f'{split}_images']} holds {n_images} images but "
                f"{paths[f'{split}_labels']} holds {n_labels} labels; the files do not belong "
                f"together. Replace both with good copies: {_how_to_get()}.")
        if n_images == 0:
            raise DatasetError(f"{paths[f'{split}_images']} holds no images. "
                               f"Get a good copy: {_how_to_get()}.")
    train_samples = _check_n_samples(train_samples, "train_samples",
                                     len(arrays["train_labels"]), paths["train_labels"])
    test_samples = _check_n_samples(test_samples, "test_samples",
                                    len(arrays["test_labels"]), paths["test_labels"])
    if isinstance(seed, np.random.SeedSequence):
        train_seed, test_seed = seed_sequence.spawn(2)
    else:
        train_seed = streams.stream(seed, "train-subset")
        test_seed = streams.stream(seed, "test-subset")
    x_train, y_train, train_indices = _select(arrays["train_images"], arrays["train_labels"],
                                              train_samples, np.random.default_rng(train_seed))
    x_test, y_test, test_indices = _select(arrays["test_images"], arrays["test_labels"],
                                           test_samples, np.random.default_rng(test_seed))
    return Dataset(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
                   train_indices=train_indices, test_indices=test_indices,
                   source=str(folder))


# --------------------------------------------------------------------------------------------------
# Checksums and download
# --------------------------------------------------------------------------------------------------

def _sha256_of_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _sha256_of_content(path):
    """SHA-256 of the decompressed content of a gzip file, or None if it is not valid gzip."""
    digest = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    except (gzip.BadGzipFile, EOFError, zlib.error, OSError):
        return None
    return digest.hexdigest()


def _check_gz(path, gz_name, checksums, raw_checksums):
    """Return (ok, actual_sha256) for a downloaded or present ``.gz`` file."""
    actual = _sha256_of_file(path)
    if checksums.get(gz_name) == actual:
        return True, actual
    raw_expected = raw_checksums.get(gz_name[: -len(".gz")])
    if raw_expected is not None and _sha256_of_content(path) == raw_expected:
        return True, actual
    return False, actual


def verify_fashion_mnist(folder, checksums=None, raw_checksums=None):
    """Check the Fashion-MNIST files in a folder against the known SHA-256 checksums.

    Parameters
    ----------
    folder : str or os.PathLike
        Folder holding the four files.
    checksums : dict of str to str, optional
        SHA-256 of the ``.gz`` files; default :data:`FASHION_MNIST_SHA256`.
    raw_checksums : dict of str to str, optional
        SHA-256 of the decompressed files; default :data:`FASHION_MNIST_RAW_SHA256`.

    Raises
    ------
    DatasetError
        If a file is missing or matches neither checksum; the message names the file.
    """
    checksums = FASHION_MNIST_SHA256 if checksums is None else checksums
    raw_checksums = FASHION_MNIST_RAW_SHA256 if raw_checksums is None else raw_checksums
    for path in fashion_mnist_paths(folder).values():
        if path.name.endswith(".gz"):
            ok, actual = _check_gz(path, path.name, checksums, raw_checksums)
            expected = (f"{checksums.get(path.name)} for the .gz file or "
                        f"{raw_checksums.get(path.name[:-3])} for its decompressed content")
        else:
            actual = _sha256_of_file(path)
            expected = str(raw_checksums.get(path.name))
            ok = expected == actual
        if not ok:
            raise DatasetError(
                f"{path}: SHA-256 mismatch: expected {expected}, got {actual}; the file is "
                f"corrupt or another version. Delete it, then {_how_to_get()}.")


def fetch_fashion_mnist(dest=None, base_urls=FASHION_MNIST_URLS, progress=True, checksums=None,
                        raw_checksums=None):
    """Download the four Fashion-MNIST ``.gz`` files and verify their SHA-256.

    Each file is downloaded with :mod:`pooch` to a temporary name in ``dest``, checked (the
    SHA-256 of the ``.gz`` file or of its decompressed content), and only then renamed into
    place (``os.replace``), so an interrupted or corrupt download never leaves a file under the
    real name. Files already present with a correct checksum are not downloaded again.

    Parameters
    ----------
    dest : str or os.PathLike, optional
        Target folder, created if needed; default ``<repository>/data/fashion-mnist/``.
    base_urls : sequence of str, optional
        Download sites, tried in order until one gives a file with the right checksum; a file's URL
        is ``<base URL>/<name>.gz``. HTTP(S), FTP and ``file://`` URLs work.
    progress : bool, optional
        Show a tqdm progress bar per file (on stderr).
    checksums : dict of str to str, optional
        Expected SHA-256 of each ``.gz`` file; default :data:`FASHION_MNIST_SHA256`.
    raw_checksums : dict of str to str, optional
        Expected SHA-256 of each decompressed file, accepted in place of the ``.gz`` checksum (a
        mirror may recompress the files); default :data:`FASHION_MNIST_RAW_SHA256`.

    Returns
    -------
    pathlib.Path
        The folder holding the files.

    Raises
    ------
    DatasetError
        If a file cannot be downloaded from any site, or every download has a wrong checksum; the
        message names the file, the expected and the actual checksum (or the network error).
    """
    dest = (_folders.REPO_DATA_DIR / FASHION_MNIST if dest is None
            else pathlib.Path(dest).expanduser())
    checksums = FASHION_MNIST_SHA256 if checksums is None else dict(checksums)
    raw_checksums = FASHION_MNIST_RAW_SHA256 if raw_checksums is None else dict(raw_checksums)
    if isinstance(base_urls, str):
        base_urls = (base_urls,)
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatasetError(f"cannot create the data folder {dest} ({error}); pass another folder "
                           f"with --data-dir") from error
    for name in FASHION_MNIST_FILES.values():
        gz_name = name + ".gz"
        target = dest / gz_name
        if target.is_file():
            ok, actual = _check_gz(target, gz_name, checksums, raw_checksums)
            if ok:
                print(f"{target}: present, checksum OK", file=sys.stderr)
                continue
            print(f"{target}: present but SHA-256 {actual} is wrong; downloading again",
                  file=sys.stderr)
        failures = []
        for base_url in base_urls:
            url = base_url.rstrip("/") + "/" + gz_name
            # a fresh name that does not exist yet (pooch skips files that exist)
            tmp = str(dest / f".{gz_name}.{os.getpid()}.{os.urandom(4).hex()}.part")
            try:
                print(f"downloading {url}", file=sys.stderr)
                _download(url, tmp, progress)
                ok, actual = _check_gz(tmp, gz_name, checksums, raw_checksums)
                if not ok:
                    failures.append(
                        f"{url}: SHA-256 mismatch for {gz_name}: expected {checksums.get(gz_name)}"
                        f" (or {raw_checksums.get(name)} after decompression), got {actual}")
                    continue
                os.replace(tmp, target)
                print(f"{target}: downloaded, checksum OK", file=sys.stderr)
                break
            except (urllib.error.URLError, OSError, ValueError) as error:
                failures.append(f"{url}: {error}")
            finally:
                if os.path.exists(tmp):
                    os.remove(tmp)
        else:
            raise DatasetError(
                f"could not get a good {gz_name} into {dest}:\n  " + "\n  ".join(failures)
                + f"\nCheck the network connection and try again, or, as root on Debian/Ubuntu, "
                  f"`apt-get install {FASHION_MNIST_DEBIAN_PACKAGE}`.")
    return dest


def _apt_install():
    """Try ``apt-get install -y dataset-fashion-mnist``; return True on success."""
    command = ["apt-get", "install", "-y", FASHION_MNIST_DEBIAN_PACKAGE]
    print("running: " + " ".join(command), file=sys.stderr)
    environment = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        result = subprocess.run(command, env=environment, check=False)
    except OSError as error:
        print(f"apt-get failed to start ({error})", file=sys.stderr)
        return False
    if result.returncode != 0:
        print(f"apt-get exited with status {result.returncode}", file=sys.stderr)
        return False
    return True


def ensure_fashion_mnist(data_dir=None, base_urls=FASHION_MNIST_URLS, progress=True,
                         use_apt=True, checksums=None, raw_checksums=None):
    """Make sure Fashion-MNIST is on disk; install or download it if not.

    Used by ``make`` on first use (``ei-brian data ensure fashion-mnist``):

    1. if :func:`find_fashion_mnist` finds the files, check them with
       :func:`verify_fashion_mnist` (a mismatch is an error), say where they are and stop;
    2. else, without ``data_dir``, if ``use_apt``, ``apt-get`` exists and we are root, run
       ``apt-get install -y dataset-fashion-mnist`` (a failure falls through to step 3);
    3. else download with :func:`fetch_fashion_mnist` into ``data_dir`` (default
       ``<repository>/data/fashion-mnist/``).

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        Folder that must hold the files; it is the only one searched, and the download target.
    base_urls, progress, checksums, raw_checksums
        As in :func:`fetch_fashion_mnist`.
    use_apt : bool, optional
        Allow step 2.

    Returns
    -------
    pathlib.Path
        The folder holding the files.

    Raises
    ------
    DatasetError
        If the data cannot be installed or downloaded.
    """
    try:
        folder = find_fashion_mnist(data_dir)
    except DatasetError:
        pass
    else:
        verify_fashion_mnist(folder, checksums=checksums, raw_checksums=raw_checksums)
        print(f"Fashion-MNIST found in {folder} (checksums OK)")
        return folder
    print("Fashion-MNIST not found", file=sys.stderr)
    if data_dir is None and use_apt and shutil.which("apt-get") and hasattr(os, "geteuid") \
            and os.geteuid() == 0:
        if _apt_install():
            try:
                folder = find_fashion_mnist()
            except DatasetError as error:
                print(f"apt-get succeeded but the files are still not found: {error}",
                      file=sys.stderr)
            else:
                print(f"Fashion-MNIST installed with apt-get in {folder}")
                return folder
        print("falling back to downloading", file=sys.stderr)
    target = _folders.REPO_DATA_DIR / FASHION_MNIST if data_dir is None else pathlib.Path(data_dir)
    print(f"downloading Fashion-MNIST into {target}", file=sys.stderr)
    folder = fetch_fashion_mnist(target, base_urls=base_urls, progress=progress,
                                 checksums=checksums, raw_checksums=raw_checksums)
    print(f"Fashion-MNIST downloaded into {folder}")
    return folder
