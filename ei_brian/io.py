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

Run folders and checkpoints
---------------------------
The files of a run folder are listed in :mod:`ei_brian.training`. Its ``config.json`` (the record of
:func:`_config_record`) carries ``format`` :data:`RUN_FORMAT` and ``format_version``
:data:`RUN_FORMAT_VERSION`; :func:`_check_existing` refuses a folder that holds a run of another
version or configuration. After every epoch :func:`_save_epoch` writes ``metrics.csv``
(:data:`METRICS_COLUMNS`), ``weights.npz`` and, last, ``checkpoint.npz`` (weights, optimizer state,
RNG state, the metrics rows, the wall time and the code commits of the sessions so far), from
which a run resumes.
"""
import csv
import io as _io
import json
import os
import tempfile

import numpy as np

from ei_brian._version import __version__

PROBE_SPIKES_FORMAT = "ei_brian.probe_spikes"
PROBE_SPIKES_VERSION = 1
PROBE_SPIKES_FILES = {"initial": "spikes_initial.npz", "final": "spikes_final.npz"}

#: ``format`` and ``format_version`` of a run folder's ``config.json``
RUN_FORMAT = "ei_brian.run"
RUN_FORMAT_VERSION = 1
#: the run's messages and, if it failed, the error with its traceback
LOG_FILE = "log.txt"
#: written last, when the run has finished: its peak accuracy, rates and wall time
RESULT_FILE = "result.json"
METRICS_COLUMNS = ("epoch", "train_loss", "train_acc", "test_acc", "rate_exc_hz", "rate_inh_hz",
                   "silent_frac", "seconds")
#: the initial weights, saved by every run (since version 0.1.0's random-stream registry)
INITIAL_WEIGHTS_FILE = "weights_initial.npz"
#: the per-neuron time constants of a run with time-constant diversity
TIME_CONSTANTS_FILE = "time_constants.npz"
#: the synapses of a sparse network (connectivity < 1), see ei_brian.structure (whose
#: load_structure reads and checks it)
STRUCTURE_FILE = "structure.npz"


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


# ---------------------------------------------------------------------------------------------
# run folders and checkpoints

def _metrics_text(rows):
    """``metrics.csv`` of the metrics rows (dicts with the keys of :data:`METRICS_COLUMNS`)."""
    columns = METRICS_COLUMNS
    if any("val_acc" in row for row in rows):  # a run with validation samples
        columns = columns[:3] + ("val_acc",) + columns[3:]
    buffer = _io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        value = {key: row.get(key, "") for key in columns}
        writer.writerow({key: (f"{item:.6g}" if isinstance(item, float) else item)
                         for key, item in value.items()})
    return buffer.getvalue()


_CODE_COMMIT = []


def code_commit():
    """The git commit of the ``ei_brian`` code that runs, ``+uncommitted`` appended when its
    files differ from it; ``""`` outside a git checkout (an installed package) or when git fails.
    Read once per process, when first asked (training asks when a session starts). A run's
    ``result.json`` records the commits of its sessions (``git_commit``) and a study's runs table
    names them (``trained_at``), so that a report can show which code trained each run."""
    if not _CODE_COMMIT:
        import subprocess
        package = os.path.dirname(os.path.abspath(__file__))
        root = os.path.dirname(package)
        commit = ""
        if os.path.exists(os.path.join(root, ".git")):  # a folder, or a worktree's file
            # no index lock taken: a commit in this checkout at the same moment must not fail
            environment = dict(os.environ, GIT_OPTIONAL_LOCKS="0")
            try:
                def git(*args):
                    return subprocess.run(["git", *args], cwd=root, capture_output=True,
                                          timeout=10, check=True,
                                          env=environment).stdout.decode(errors="replace").strip()
                commit = git("rev-parse", "HEAD")
                if git("status", "--porcelain", "--untracked-files=no", "--", package):
                    commit += "+uncommitted"
            except Exception:  # provenance must never stop a run
                commit = ""
        _CODE_COMMIT.append(commit)
    return _CODE_COMMIT[0]


_MACHINE = []


def machine_description():
    """The processor and the BLAS kernel that run the code, e.g. ``AMD EPYC (family 25 model 17,
    AVX-512), OpenBLAS 0.3.30 SkylakeX``; read once per process.

    A run's last bits depend on them: OpenBLAS picks its kernel for the processor when it loads,
    and Brian2 compiles the network for the processor it finds (``-march=native``), so the same
    commit and command can give slightly different numbers on another machine. A run's
    ``result.json`` records the machines of its sessions (``trained_on``) and a study's runs table
    names them, so that a report can say which runs a bit-for-bit check on one machine covers."""
    if not _MACHINE:
        import platform
        cpu, family, model, flags = "", "", "", set()
        try:
            with open("/proc/cpuinfo") as f:
                for line in f:
                    key, _, value = line.partition(":")
                    key, value = key.strip(), value.strip()
                    if key == "model name" and not cpu:
                        cpu = value
                    elif key == "cpu family" and not family:
                        family = value
                    elif key == "model" and not model:
                        model = value
                    elif key == "flags" and not flags:
                        flags = set(value.split())
                    elif not line.strip() and cpu:
                        break  # the first processor's block is enough
        except OSError:
            pass
        cpu = cpu or platform.processor() or platform.machine() or "unknown processor"
        isa = ("AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags
               else "AVX" if "avx" in flags else "")
        details = ", ".join(part for part in (
            f"family {family} model {model}" if family and model else "", isa) if part)
        blas = "BLAS unknown"
        try:
            import threadpoolctl
            libraries = [library for library in threadpoolctl.threadpool_info()
                         if library.get("user_api") == "blas"]
            if libraries:
                library = libraries[0]
                name = {"openblas": "OpenBLAS", "mkl": "MKL", "blis": "BLIS"}.get(
                    library.get("internal_api"), library.get("internal_api", "BLAS"))
                blas = " ".join(str(part) for part in (name, library.get("version"),
                                                        library.get("architecture")) if part)
        except Exception:  # provenance must never stop a run
            pass
        _MACHINE.append(f"{cpu}{f' ({details})' if details else ''}, {blas}")
    return _MACHINE[0]


def _config_record(net_config, train_config, argv=None):
    """The ``config.json`` record of a run: format, version, the two configurations, the command."""
    return {"format": RUN_FORMAT, "format_version": RUN_FORMAT_VERSION,
            "ei_brian_version": __version__,
            "dataset": train_config.dataset, "ratio": None if net_config.unbounded else net_config.ratio,
            "unbounded": net_config.unbounded, "n_hidden": net_config.n_hidden,
            "n_exc": net_config.n_exc, "n_inh": net_config.n_inh, "seed": train_config.seed,
            "network": net_config.to_dict(), "training": train_config.to_dict(),
            "command": argv}


def read_run_record(run_dir, fix=""):
    """A run folder's ``config.json`` as a dict, None if there is none.

    Raises :class:`RunFolderError` (ending with ``fix``) if it cannot be read or was written by
    another version of the run format.
    """
    path = os.path.join(run_dir, "config.json")
    if not os.path.exists(path):
        return None
    fix = f"; {fix}" if fix else ""
    try:
        with open(path) as f:
            record = json.load(f)
    except (OSError, ValueError) as error:
        raise RunFolderError(f"{path!r} cannot be read ({error}){fix}") from None
    if record.get("format") != RUN_FORMAT or record.get("format_version") != RUN_FORMAT_VERSION:
        raise RunFolderError(f"{run_dir!r} was written by another version of ei_brian (run format "
                             f"{record.get('format')!r} version {record.get('format_version')!r}, "
                             f"this one reads and writes version {RUN_FORMAT_VERSION}){fix}")
    return record


def _check_existing(out_dir, record, resume):
    """Whether ``out_dir`` holds the run of ``record`` to resume (True) or no run (False).

    Raises :class:`RunFolderError` if it holds a run of another version or configuration, an
    unreadable ``config.json``, this very run without ``resume``, or no run with ``resume``.
    """
    # imported here: ei_brian.config imports Brian2 (0.9 s), which reading results does not need
    from ei_brian.config import NetworkConfig, TrainConfig

    existing = read_run_record(out_dir, fix="use another --out")
    if existing is None:
        if resume:
            raise RunFolderError(f"--resume: {out_dir!r} holds no run (no config.json); start it "
                                 "without --resume")
        return False
    same = all(_filled(cls, existing.get(key)) == record[key]
               for key, cls in (("network", NetworkConfig), ("training", TrainConfig)))
    if not same:
        raise RunFolderError(f"{out_dir!r} holds a run with another configuration; use another --out "
                             "(or the same options as that run to --resume it)")
    if not resume:
        raise RunFolderError(f"{out_dir!r} already holds this run; add --resume to continue it, or "
                             "choose another --out")
    return True


def _filled(cls, values):
    """A stored configuration with the defaults of options added since it was written (so a run
    folder written before an option existed still matches a run that leaves it at its default);
    None if it cannot be read."""
    # Brian2 through ei_brian.config (0.9 s) only when a stored configuration is compared
    from ei_brian.config import ConfigError

    try:
        return cls.from_dict(values).to_dict()
    except (ConfigError, TypeError, ValueError, AttributeError):
        return None


def _save_epoch(out_dir, weights, optimizer, rng, rows, wall_seconds, commits=(),
                machines=()):
    """metrics.csv, weights.npz and checkpoint.npz of the latest epoch, each written atomically.

    The checkpoint goes last: a run killed before it resumes from the previous epoch and rewrites
    the other two files. It also keeps the commits of the code of the sessions so far
    (``git_commits``, see :func:`code_commit`) and their machines (``machines``, see
    :func:`machine_description`).
    """
    atomic_write_text(os.path.join(out_dir, "metrics.csv"), _metrics_text(rows))
    atomic_savez(os.path.join(out_dir, "weights.npz"), **weights)
    state = {"opt:" + key: value for key, value in optimizer.state_dict().items()}
    atomic_savez(os.path.join(out_dir, "checkpoint.npz"), **weights, **state,
                 epoch=np.array(rows[-1]["epoch"]),
                 rng_state=np.array(json.dumps(rng.bit_generator.state)),
                 metrics=np.array(json.dumps(rows)), wall_seconds=np.array(wall_seconds),
                 git_commits=np.array(json.dumps(list(commits))),
                 machines=np.array(json.dumps(list(machines))))
