"""Results on disk: atomic writes, run folders, checkpoints and probe spike trains.

Every file is written to a temporary name in the same folder and moved into place with
``os.replace``, so a killed process leaves either the old file or the new one, never half a file.

Probe spike-train files
-----------------------
``ei-brian train`` records the spikes of every hidden neuron for a fixed probe set of test samples,
once at initialization (``spikes_initial.npz``) and once after the last epoch (``spikes_final.npz``).
Each is a NumPy ``.npz`` archive (no pickles) holding:

==================  =========  ==========================================================
array               dtype      meaning
==================  =========  ==========================================================
``format``          str        ``"ei_brian.probe_spikes"``
``format_version``  int        ``1``
``snapshot``        str        ``"initial"`` or ``"final"``
``epoch``           int        epochs of training the network had (0 for ``initial``)
``times``           float64    spike times in seconds, from the start of the sample
``neurons``         int32      hidden neuron index: ``0 .. n_exc-1`` are E, ``n_exc ..`` are I
``samples``         int32      position of the probe sample, ``0 .. n_samples-1``
``sample_indices``  int64      index of each probe sample in the test set
``sample_labels``   int64      class label of each probe sample
``n_exc``           int        number of excitatory neurons
``n_inh``           int        number of inhibitory neurons
``t_stop``          float64    duration of one sample in seconds (``t_start`` is 0)
``dt``              float64    simulation time step in seconds
==================  =========  ==========================================================

Spikes are sorted by sample, then time, then neuron. :func:`load_probe_spikes` reads and checks one.
"""
import json
import os
import tempfile

import numpy as np

PROBE_SPIKES_FORMAT = "ei_brian.probe_spikes"
PROBE_SPIKES_VERSION = 1
PROBE_SPIKES_FILES = {"initial": "spikes_initial.npz", "final": "spikes_final.npz"}


_UMASK = os.umask(0)
os.umask(_UMASK)


class RunFolderError(RuntimeError):
    """A run folder or one of its files cannot be used (missing, corrupt, another version)."""


def _atomic_target(path):
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; results are ordinary files
    return path, tmp


def _atomic_write(path, write):
    """Call ``write(file)`` on a temporary file beside ``path``, then move it into place."""
    path, tmp = _atomic_target(path)
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def atomic_write_bytes(path, data):
    """Write ``data`` (bytes) to ``path`` atomically."""
    _atomic_write(path, lambda f: f.write(data))


def atomic_write_text(path, text):
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path, obj):
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def atomic_savez(path, **arrays):
    """Save arrays to an ``.npz`` file atomically (uncompressed, no pickles)."""
    _atomic_write(path, lambda f: np.savez(f, **arrays))


def load_npz(path, what="file"):
    """Load an ``.npz`` file into a dict of arrays, with a clear error if it is unreadable."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise RunFolderError(f"{what} {path!r} does not exist")
    try:
        with np.load(path, allow_pickle=False) as f:
            return {key: f[key] for key in f.files}
    except Exception as error:  # zipfile.BadZipFile, ValueError, OSError ...
        raise RunFolderError(
            f"{what} {path!r} cannot be read ({error.__class__.__name__}: {error}); "
            "it is truncated or not an .npz file: delete it and rerun the step that writes it"
        ) from error


def save_probe_spikes(path, *, snapshot, epoch, times, neurons, samples, sample_indices,
                      sample_labels, n_exc, n_inh, t_stop, dt):
    """Write probe spike trains in the documented format (see the module docstring)."""
    times = np.asarray(times, dtype=np.float64)
    neurons = np.asarray(neurons, dtype=np.int32)
    samples = np.asarray(samples, dtype=np.int32)
    if not (times.shape == neurons.shape == samples.shape) or times.ndim != 1:
        raise ValueError("times, neurons and samples must be 1-D arrays of the same length")
    order = np.lexsort((neurons, times, samples))
    atomic_savez(
        path,
        format=np.array(PROBE_SPIKES_FORMAT),
        format_version=np.array(PROBE_SPIKES_VERSION),
        snapshot=np.array(str(snapshot)),
        epoch=np.array(int(epoch)),
        times=times[order],
        neurons=neurons[order],
        samples=samples[order],
        sample_indices=np.asarray(sample_indices, dtype=np.int64),
        sample_labels=np.asarray(sample_labels, dtype=np.int64),
        n_exc=np.array(int(n_exc)),
        n_inh=np.array(int(n_inh)),
        t_stop=np.array(float(t_stop)),
        dt=np.array(float(dt)),
    )


def load_probe_spikes(path):
    """Read a probe spike-train file and check it.

    Returns
    -------
    dict
        The arrays of the module docstring; scalars as Python ``int``/``float``/``str``.

    Raises
    ------
    RunFolderError
        If the file is missing, unreadable, of another format or version, or inconsistent.
    """
    data = load_npz(path, what="probe spike-train file")
    if str(data.get("format", "")) != PROBE_SPIKES_FORMAT:
        raise RunFolderError(f"{path!r} is not an ei_brian probe spike-train file (no 'format' entry "
                             f"{PROBE_SPIKES_FORMAT!r})")
    version = int(data["format_version"])
    if version != PROBE_SPIKES_VERSION:
        raise RunFolderError(f"{path!r} has probe spike-train format version {version}; this ei_brian "
                             f"reads version {PROBE_SPIKES_VERSION}: use the ei_brian version that wrote it")
    out = {}
    for key in ("snapshot",):
        out[key] = str(data[key])
    for key in ("epoch", "format_version", "n_exc", "n_inh"):
        out[key] = int(data[key])
    for key in ("t_stop", "dt"):
        out[key] = float(data[key])
    out["format"] = str(data["format"])
    for key in ("times", "neurons", "samples", "sample_indices", "sample_labels"):
        out[key] = data[key]
    n_hidden = out["n_exc"] + out["n_inh"]
    n_samples = len(out["sample_indices"])
    if len(out["times"]) and (out["neurons"].min() < 0 or out["neurons"].max() >= n_hidden
                              or out["samples"].min() < 0 or out["samples"].max() >= n_samples
                              or out["times"].min() < 0 or out["times"].max() >= out["t_stop"]):
        raise RunFolderError(f"{path!r} is inconsistent: spike neuron, sample or time out of range")
    return out
