"""The Spiking Heidelberg Digits (SHD): find, check, read, bin and download.

SHD (Cramer, Stradmann, Schemmel & Zenke 2020, *The Heidelberg spiking data sets for the
systematic evaluation of spiking neural networks*, IEEE TNNLS 33:2744) are spoken digits, zero to
nine in English and German (20 classes), turned into spikes of 700 channels by a model of the
inner ear. They are distributed at https://zenkelab.org/datasets/ as two gzipped HDF5 files,
``shd_train.h5.gz`` (8,156 samples) and ``shd_test.h5.gz`` (2,264 samples), with a list of their
MD5 checksums, ``md5sums.txt``, beside them (CC BY 4.0).

File layout
-----------
==========================  ================================================================
``spikes/times``            one variable-length float array a sample: spike times in seconds
``spikes/units``            one variable-length integer array a sample: the channel, 0 .. 699
``labels``                  the class of each sample, 0 .. 19
``extra/speaker``           the speaker of each sample (optional here)
``extra/keys``              the name of each class (optional here; used as class names)
``extra/meta_info/...``     speakers' gender, age, body height (not read)
==========================  ================================================================

Binning
-------
The spikes are put on the network's time grid, by default ``dt = 2 ms`` over the first 700 ms
(350 steps): a spike at ``t`` falls into step ``floor(t / dt)``, computed in float64 with a
tolerance of 1e-9 steps (:data:`STEP_TOLERANCE`) so that a time written as an exact multiple of
``dt`` (2.0 ms, 6.0 ms) starts its step despite rounding (1.999 ms is step 0, 2.0 ms step 1).
Spikes at or after the end of the sample (700 ms) are dropped; several spikes of one channel in
one step count as one (the input is binary, as in the compiled network's spike generator: the
loss is small at 2 ms, where a cochlear channel rarely fires twice). ``--dt`` and ``--duration``
change the grid.

Where the files are looked for
------------------------------
:func:`find_shd` searches, in this order: the folder given (``--data-dir``; then only that one);
``$EI_BRIAN_DATA`` (the folder itself, then its ``shd/`` subfolder); ``<repository>/data/shd/``.
A folder qualifies when it holds ``shd_train.h5`` or ``shd_train.h5.gz`` and the same for the test
file. A ``.gz`` file is decompressed once into the plain file beside it (or, if that folder is not
writable, into a temporary file for each load).

Download
--------
``ei-brian data fetch shd`` (:func:`fetch_shd`) downloads ``md5sums.txt`` from the official site
first, then each ``.gz`` file with :mod:`pooch`, which checks it against the MD5 of that list (the
checksums are not kept in this package: they come from the official list at download time, so
they protect against a truncated or corrupt download, not against a compromised site), then
decompresses it. ``ei-brian data where shd`` prints the folder in use.
"""
import contextlib
import gzip
import hashlib
import os
import pathlib
import shutil
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zlib

import numpy as np

from ei_brian.datasets import download as _download, folders as _folders
from ei_brian.datasets.dataset import spike_dataset
from ei_brian.datasets.errors import DatasetError
from ei_brian.datasets.folders import DATA_ENVIRONMENT_VARIABLE
from ei_brian.datasets.registry import SHD, SHD_N_CHANNELS, SHD_N_CLASSES
from ei_brian.encoding import SpikeSamples

#: The two files, without the ``.gz`` suffix.
SHD_FILES = {"train": "shd_train.h5", "test": "shd_test.h5"}
#: Official download site, and the name of its list of MD5 checksums.
SHD_BASE_URL = "https://zenkelab.org/datasets"
SHD_MD5_LIST = "md5sums.txt"
#: Tolerance, in steps, of ``floor(t / dt)``: a time that is an exact multiple of dt in decimal
#: starts its step even where float rounding puts ``t / dt`` just below the integer.
STEP_TOLERANCE = 1e-9
#: Samples binned at once (bounds the memory of binning).
CHUNK_SAMPLES = 1024

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _how_to_get():
    return (f"run `ei-brian data fetch shd` (downloads into {_folders.REPO_DATA_DIR / SHD}) or "
            f"download shd_train.h5.gz and shd_test.h5.gz from {SHD_BASE_URL}/ into a folder "
            f"given with --data-dir or ${DATA_ENVIRONMENT_VARIABLE}")


# --------------------------------------------------------------------------------------------------
# Finding the files
# --------------------------------------------------------------------------------------------------

def shd_paths(folder):
    """Paths of the training and test file in ``folder`` (plain preferred over ``.gz``).

    Returns
    -------
    dict
        ``{"train": path, "test": path}``.

    Raises
    ------
    DatasetError
        If a file is missing.
    """
    return _folders.files_in_folder(folder, SHD_FILES, "SHD", f"To get the files, {_how_to_get()}.")


def find_shd(data_dir=None):
    """The folder holding the two SHD files.

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        If given, only this folder is searched; otherwise ``$EI_BRIAN_DATA`` (itself, then its
        ``shd/`` subfolder) and ``<repository>/data/shd/``.

    Raises
    ------
    DatasetError
        If no folder holds both files; the message lists every place searched and why it was not
        used, and how to get the files.
    """
    return _folders.find_folder(data_dir, _folders.candidate_folders(SHD), SHD_FILES.values(), (
        "SHD files (shd_train.h5[.gz], shd_test.h5[.gz]) not found.",
        f"To get them, {_how_to_get()}."))


def shd_available(data_dir=None):
    """The folder holding SHD, or None where it is not found (nothing is downloaded)."""
    try:
        return find_shd(data_dir)
    except DatasetError:
        return None


# --------------------------------------------------------------------------------------------------
# Reading and binning
# --------------------------------------------------------------------------------------------------

def _advice():
    return f"Delete it and get a good copy: {_how_to_get()}."


def _decompress(path, target):
    """Decompress ``path`` into ``target`` through a temporary file (never half-written)."""
    fd, tmp = tempfile.mkstemp(prefix="." + target.name + ".", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out, gzip.open(path, "rb") as source:
            shutil.copyfileobj(source, out, 1 << 20)
        os.replace(tmp, target)
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise DatasetError(f"{path}: not a valid gzip file ({type(error).__name__}: {error}); it "
                           f"is probably truncated or corrupt. {_advice()}") from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


@contextlib.contextmanager
def _plain_file(path):
    """The HDF5 file of ``path``: itself, or for ``name.h5.gz`` the decompressed ``name.h5``
    beside it (made once), or a temporary copy where that folder is not writable."""
    path = pathlib.Path(path)
    if not path.name.endswith(".gz"):
        yield path
        return
    target = path.with_name(path.name[:-3])
    if target.is_file():
        yield target
        return
    if os.access(path.parent, os.W_OK):
        print(f"decompressing {path} into {target} (once)", file=sys.stderr)
        _decompress(path, target)
        yield target
        return
    with tempfile.TemporaryDirectory(prefix="ei_brian_shd_") as folder:
        target = pathlib.Path(folder) / target.name
        _decompress(path, target)
        yield target


def _open_error(path, error):
    """A DatasetError saying why h5py could not open ``path``."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
        size = os.path.getsize(path)
    except OSError as read_error:
        return DatasetError(f"{path}: cannot be read ({read_error}).")
    if head != _HDF5_SIGNATURE:
        what = "is empty" if size == 0 else "is not an HDF5 file (no HDF5 signature)"
        return DatasetError(f"{path}: {what}; SHD files are HDF5 files (shd_train.h5, "
                            f"shd_test.h5, or gzipped). {_advice()}")
    return DatasetError(f"{path}: HDF5 file cannot be opened, it is probably truncated or "
                        f"corrupt ({size} bytes; h5py: {error}). {_advice()}")


def _layout_error(path, problem):
    return DatasetError(
        f"{path}: wrong layout: {problem}. An SHD file holds spikes/times and spikes/units (one "
        f"variable-length array per sample) and labels (0 .. {SHD_N_CLASSES - 1}). "
        f"{_advice()}")


def _dataset(handle, name, path):
    import h5py  # h5py (0.4 s) only when the SHD files are read
    if name not in handle or not isinstance(handle[name], h5py.Dataset):
        raise _layout_error(path, f"no dataset {name!r}")
    return handle[name]


def bin_spikes(times, units, dt, n_steps, n_channels=SHD_N_CHANNELS):
    """Put spike events on a time grid (see the module docstring).

    Parameters
    ----------
    times : sequence of array_like of float
        Spike times in seconds, one array per sample.
    units : sequence of array_like of int
        Channels, one array per sample, each as long as its ``times``.
    dt : float
        Time step in seconds.
    n_steps : int
        Steps per sample; spikes at ``t >= n_steps * dt`` are dropped.
    n_channels : int

    Returns
    -------
    SpikeSamples
        One spike at most per (sample, step, channel).
    """
    parts = []
    for start in range(0, len(times), CHUNK_SAMPLES):
        chunk_times = times[start:start + CHUNK_SAMPLES]
        chunk_units = units[start:start + CHUNK_SAMPLES]
        counts = np.array([len(t) for t in chunk_times], dtype=np.int64)
        sample = np.repeat(np.arange(len(counts)), counts)
        if counts.sum():
            t = np.concatenate([np.asarray(x, dtype=np.float64) for x in chunk_times])
            u = np.concatenate([np.asarray(x, dtype=np.int64) for x in chunk_units])
        else:
            t, u = np.zeros(0), np.zeros(0, dtype=np.int64)
        step = np.floor(t / dt + STEP_TOLERANCE)
        keep = step < n_steps
        parts.append(SpikeSamples.from_events(sample[keep], step[keep].astype(np.int64), u[keep],
                                              len(counts), n_steps, n_channels, dt))
    if not parts:
        return SpikeSamples(np.zeros(1, dtype=np.int64), np.zeros(0, np.int16),
                            np.zeros(0, np.int16), n_steps, n_channels, dt)
    return SpikeSamples.concatenate(parts)


def read_shd_file(path, dt=2e-3, n_steps=350):
    """Read, check and bin one SHD file.

    Parameters
    ----------
    path : str or os.PathLike
        ``shd_train.h5``, ``shd_test.h5`` or their ``.gz``.
    dt, n_steps : float, int
        The time grid (seconds, steps per sample).

    Returns
    -------
    samples : SpikeSamples
    labels : numpy.ndarray of int64
    info : dict
        ``speaker`` (array per sample or None), ``class_names`` (tuple or None), ``n_raw_spikes``
        (spikes in the file), ``n_dropped_late`` (at or after the end of the sample) and
        ``n_merged`` (merged into a spike of the same channel and step).

    Raises
    ------
    DatasetError
        If the file is missing, not (valid) gzip, not HDF5, truncated, lacks a dataset of the
        layout, holds no sample, a sample without spikes, times and channels of different lengths,
        a negative or non-finite time, a channel outside 0 .. 699 or a label outside 0 .. 19. The
        message names the file and says what to do.
    """
    import h5py  # h5py (0.4 s) only when the SHD files are read
    path = pathlib.Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: file not found. To get it, {_how_to_get()}.")
    with _plain_file(path) as plain:
        try:
            handle = h5py.File(plain, "r")
        except OSError as error:
            raise _open_error(plain, error) from None
        try:
            with handle:
                times_ds = _dataset(handle, "spikes/times", path)
                units_ds = _dataset(handle, "spikes/units", path)
                labels_ds = _dataset(handle, "labels", path)
                times, units = times_ds[()], units_ds[()]
                labels = np.asarray(labels_ds[()])
                speaker = keys = None
                if "extra/speaker" in handle:
                    speaker = np.asarray(handle["extra/speaker"][()])
                if "extra/keys" in handle:
                    keys = [k.decode("utf-8", "replace") if isinstance(k, bytes) else str(k)
                            for k in np.asarray(handle["extra/keys"][()]).ravel()]
        except OSError as error:
            raise DatasetError(f"{path}: HDF5 data cannot be read, the file is probably truncated "
                               f"or corrupt (h5py: {error}). {_advice()}") from None
    for name, array in (("spikes/times", times), ("spikes/units", units), ("labels", labels)):
        if np.ndim(array) != 1:
            raise _layout_error(path, f"{name} has shape {np.shape(array)}, expected one entry "
                                      "per sample")
    n = len(labels)
    if n == 0:
        raise _layout_error(path, "the file holds no samples")
    if len(times) != n or len(units) != n:
        raise _layout_error(path, f"{len(times)} spike-time arrays and {len(units)} channel "
                                  f"arrays for {n} labels")
    if times.dtype != object or units.dtype != object:
        raise _layout_error(path, "spikes/times and spikes/units must be variable-length arrays")
    counts = np.array([np.size(t) for t in times], dtype=np.int64)
    unit_counts = np.array([np.size(u) for u in units], dtype=np.int64)
    bad = np.flatnonzero(counts != unit_counts)
    if bad.size:
        k = int(bad[0])
        raise _layout_error(path, f"sample {k} has {counts[k]} spike times but {unit_counts[k]} "
                                  f"channels ({bad.size} such samples)")
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        raise DatasetError(f"{path}: sample {int(empty[0])} holds no spikes ({empty.size} empty "
                           f"samples); SHD samples are never empty, so the file is damaged. "
                           f"{_advice()}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise _layout_error(path, f"labels are {labels.dtype}, not integers")
    outside = np.flatnonzero((labels < 0) | (labels >= SHD_N_CLASSES))
    if outside.size:
        k = int(outside[0])
        raise DatasetError(f"{path}: label {labels[k]} of sample {k} is outside 0 .. "
                           f"{SHD_N_CLASSES - 1} ({outside.size} such labels). {_advice()}")
    for k in range(0, n, CHUNK_SAMPLES):
        t = np.concatenate([np.asarray(x, dtype=np.float64) for x in times[k:k + CHUNK_SAMPLES]])
        u = np.concatenate([np.asarray(x) for x in units[k:k + CHUNK_SAMPLES]])
        if not np.issubdtype(u.dtype, np.integer):
            raise _layout_error(path, f"spikes/units are {u.dtype}, not integers")
        if not np.all(np.isfinite(t)) or t.min() < 0:
            raise DatasetError(f"{path}: a spike time is negative or not finite (samples {k} .. "
                               f"{min(n, k + CHUNK_SAMPLES) - 1}); SHD times are seconds >= 0. "
                               f"{_advice()}")
        if u.min() < 0 or u.max() >= SHD_N_CHANNELS:
            raise DatasetError(f"{path}: channel {int(u.min() if u.min() < 0 else u.max())} is "
                               f"outside 0 .. {SHD_N_CHANNELS - 1} (samples {k} .. "
                               f"{min(n, k + CHUNK_SAMPLES) - 1}). {_advice()}")
    samples = bin_spikes(times, units, dt, n_steps)
    n_late = int(sum(int(np.sum(np.floor(np.asarray(t, dtype=np.float64) / dt + STEP_TOLERANCE)
                                >= n_steps)) for t in times))
    info = {"speaker": speaker if speaker is not None and len(speaker) == n else None,
            "class_names": tuple(keys) if keys is not None and len(keys) == SHD_N_CLASSES
            else None,
            "n_raw_spikes": int(counts.sum()), "n_dropped_late": n_late,
            "n_merged": int(counts.sum()) - n_late - samples.n_spikes}
    return samples, labels.astype(np.int64), info


def load_shd(data_dir=None, train_samples=None, test_samples=None, seed=0, dt=2e-3, n_steps=350):
    """Load SHD, binned on a time grid; all of it or class-balanced subsets.

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        Folder of the files (default: found by :func:`find_shd`).
    train_samples, test_samples : int, optional
        Subset sizes; None takes the whole file (8,156 and 2,264 samples).
    seed : int or numpy.random.SeedSequence
        Seed of the subsets (the run's ``train-subset`` and ``test-subset`` streams).
    dt, n_steps : float, int
        The time grid (default 2 ms, 350 steps: 700 ms).

    Returns
    -------
    Dataset
        ``x_train``, ``x_test`` are :class:`~ei_brian.encoding.SpikeSamples`; ``extra`` holds
        ``train_speaker`` and ``test_speaker`` where the files have them.
    """
    folder = find_shd(data_dir)
    paths = shd_paths(folder)
    samples, labels, extra, names = {}, {}, {}, None
    for split in ("train", "test"):
        samples[split], labels[split], info = read_shd_file(paths[split], dt=dt, n_steps=n_steps)
        if info["speaker"] is not None:
            extra[f"{split}_speaker"] = info["speaker"]
        names = names or info["class_names"]
    if len(extra) == 1:
        extra = {}
    return spike_dataset(samples, labels, train_samples, test_samples, seed,
                         n_classes=SHD_N_CLASSES, n_channels=SHD_N_CHANNELS, name=SHD,
                         source=str(folder), extra=extra,
                         class_names=names or tuple(f"digit {k}" for k in range(SHD_N_CLASSES)))


# --------------------------------------------------------------------------------------------------
# Download
# --------------------------------------------------------------------------------------------------

def read_md5_list(text):
    """``{file name: md5}`` from the lines ``<md5>  <name>`` of an ``md5sums.txt``."""
    checksums = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and len(parts[0]) == 32:
            checksums[parts[1].lstrip("*").split("/")[-1]] = parts[0].lower()
    return checksums


def _md5(path):
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_shd(dest=None, base_url=SHD_BASE_URL, progress=True):
    """Download the two SHD files, check their MD5 against the official list, decompress them.

    ``md5sums.txt`` is read from ``base_url`` first; each ``.gz`` file is then downloaded with
    :func:`pooch.retrieve` with the MD5 of that list as its known hash (a file already present
    with that checksum is not downloaded again; a download with another checksum is discarded),
    and decompressed into the plain ``.h5`` file beside it (kept along with the ``.gz``, so that
    a later fetch can check it without downloading).

    Parameters
    ----------
    dest : str or os.PathLike, optional
        Target folder, created if needed; default ``<repository>/data/shd/``.
    base_url : str
        Folder URL of the files and of ``md5sums.txt``; ``file://`` works too.
    progress : bool
        Show download progress bars.

    Returns
    -------
    pathlib.Path
        The folder holding the files.

    Raises
    ------
    DatasetError
        If the list or a file cannot be downloaded, the list lacks a file, or a checksum is wrong.
    """
    import pooch  # pooch (0.1 s) only when the SHD files are downloaded

    dest = _folders.REPO_DATA_DIR / SHD if dest is None else pathlib.Path(dest).expanduser()
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatasetError(f"cannot create the data folder {dest} ({error}); pass another folder "
                           "with --data-dir") from error
    base_url = base_url.rstrip("/")
    download = _download.pooch_downloader(progress)
    list_url = f"{base_url}/{SHD_MD5_LIST}"
    fd, list_path = tempfile.mkstemp(prefix=".md5sums.", suffix=".txt", dir=dest)
    os.close(fd)
    try:
        print(f"downloading {list_url}", file=sys.stderr)
        download(list_url, list_path, None)
        with open(list_path, errors="replace") as f:
            checksums = read_md5_list(f.read())
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise DatasetError(f"could not download the official MD5 list {list_url} ({error}). "
                           "Check the network connection and try again.") from None
    finally:
        os.remove(list_path)
    for name in SHD_FILES.values():
        gz_name = name + ".gz"
        if gz_name not in checksums:
            raise DatasetError(f"the MD5 list {list_url} does not name {gz_name} (it names "
                               f"{', '.join(sorted(checksums)) or 'nothing'}); cannot check the "
                               "download")
        url = f"{base_url}/{gz_name}"
        known = checksums[gz_name]
        target = dest / gz_name
        if target.is_file() and _md5(target) != known:
            print(f"{target}: present but its MD5 is wrong; downloading again", file=sys.stderr)
        try:
            pooch.retrieve(url, known_hash=f"md5:{known}", fname=gz_name, path=dest,
                           downloader=download, progressbar=progress)
        except ValueError as error:  # pooch: checksum mismatch (the download is discarded)
            raise DatasetError(f"{url}: the download does not match the MD5 {known} of the "
                               f"official list ({error}). Try again later; if it persists, the "
                               "site serves another version.") from None
        except (urllib.error.URLError, OSError, RuntimeError) as error:
            raise DatasetError(f"could not download {url} into {dest} ({error}). Check the "
                               "network connection and try again.") from None
        except Exception as error:  # requests' errors, without importing requests here
            raise DatasetError(f"could not download {url} into {dest} ({type(error).__name__}: "
                               f"{error}). Check the network connection and try again.") from None
        plain = dest / name
        if plain.is_file():
            plain.unlink()  # may belong to an older .gz: decompress the checked one again
        _decompress(target, plain)
        print(f"{target}: MD5 OK (official list); decompressed into {plain}", file=sys.stderr)
    return dest


def ensure_shd(data_dir=None, base_url=SHD_BASE_URL, progress=True):
    """Find SHD (:func:`find_shd`), else download it (:func:`fetch_shd`) into ``data_dir``
    (default ``<repository>/data/shd/``); return the folder."""
    folder = shd_available(data_dir)
    if folder is not None:
        print(f"SHD found in {folder}")
        return folder
    print("SHD not found; downloading", file=sys.stderr)
    folder = fetch_shd(data_dir, base_url=base_url, progress=progress)
    print(f"SHD downloaded into {folder}")
    return folder
