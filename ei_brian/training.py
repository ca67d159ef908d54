"""Training: compiled forward runs, surrogate gradients, updates, Dale's-law projection.

:func:`train` is the whole loop; ``ei-brian train`` (:mod:`ei_brian.cli.train`) is its command
line. It writes a run folder (``config.json``, ``metrics.csv``, the weights, a checkpoint for
``--resume``, the initialization, the probe spike trains; every file atomically): the files and
their formats are in :mod:`ei_brian.io`, and the documentation's run-folder page, generated from
it, lists them all. The model it trains is described in ``docs/model.md``.

The warnings of a run (:func:`ei_brian.outcome.run_warnings`: a silent start, a runaway E rate, a
training loss that is not finite or that keeps rising) are said once each, at the epoch that
raises them, on standard error even without progress output, and written to ``log.txt`` and
``result.json`` (``warnings``). A training loss that is not finite (the updates broke the weights)
ends the run after its epoch (``result.json``: ``stopped_early``, ``stop_reason``), as
``stop_saturated`` ends a saturated one; that epoch is not evaluated, and ``weights.npz``, the
checkpoint and the final spike trains keep the weights of the epoch before.

Initialization (:mod:`ei_brian.initialization`) and noise (:mod:`ei_brian.noise`) are training
options: the initial weights come from ``TrainConfig.init``; Gaussian noise may be added to every
weight update (after the optimizer, before the Dale's-law projection) and to the input spikes of
training minibatches. Every random draw derives from the run's seed, the noise of each minibatch
from (seed, epoch, minibatch), so a resumed run draws what an uninterrupted one draws.
"""
import dataclasses
import json
import os
import re
import sys
import time
import traceback

import numpy as np
from filelock import FileLock, Timeout
from tqdm import tqdm

from ei_brian import encoding, gradients, initialization, noise, outcome, streams
from ei_brian.config import ConfigError, NetworkConfig, TrainConfig
from ei_brian.data import SPIKE_DATASETS, DatasetError, load_dataset
from ei_brian.io import (
    INITIAL_WEIGHTS_FILE,
    LOG_FILE,
    PROBE_SPIKES_FILES,
    RESULT_FILE,
    STRUCTURE_FILE,
    TIME_CONSTANTS_FILE,
    RunFolderError,
    _check_existing,
    _config_record,
    _metrics_text,
    _save_epoch,
    atomic_savez,
    atomic_write_json,
    atomic_write_text,
    code_commit,
    load_npz,
    machine_description,
    save_probe_spikes,
)
from ei_brian.network import membrane_noise_drive
from ei_brian.neuron_model import DEFAULT_MODEL, load_model
from ei_brian.optimizers import make_optimizer
from ei_brian.runner import CompiledNetwork
from ei_brian.structure import draw_structure, load_structure

#: the paper's full scale (docs/model.md): the whole data set, 30 epochs
FULL_SCALE = {"train_samples": None, "test_samples": None, "epochs": 30}
#: keys of the evaluations whose input noise is frozen when TrainConfig.input_noise_at_test is set
#: (and of the input-rate estimate of the fluctuation-driven initialization)
EVALUATION_KEYS = {"test": 0, "train": 1, "probe": 2, "calibration": 3, "input-rate": 4,
                   "validation": 5}


def project_dale(config, weights):
    """Dale's law: clip magnitudes at zero, in place (nothing to do for the unbounded baseline)."""
    if not config.unbounded:
        for array in weights.values():
            np.maximum(array, 0.0, out=array)


def update_weights(config, weights, optimizer, grads, update_noise=0.0,
                   update_noise_kind="relative", seed=None, structure=None):
    """One optimizer step: update, optional update noise, then the Dale's-law projection (and,
    in a sparse network, absent synapses held at 0: update noise must not create synapses).

    Parameters
    ----------
    config : NetworkConfig
    weights : dict
        Changed in place.
    optimizer : ei_brian.optimizers.Adam or SMORMS3
    grads : dict
    update_noise : float
        Level ``eta`` of :func:`ei_brian.noise.add_update_noise` (0: none).
    update_noise_kind : {"relative", "absolute"}
    seed : int, numpy.random.SeedSequence or numpy.random.Generator
        Seed of the noise (needed when ``update_noise > 0``).
    structure : ei_brian.structure.Structure, optional
        The synapses of a sparse network.

    Returns
    -------
    dict or None
        The updates that were added (noise included), before the projection; None for a sparse
        network without update noise, where only the synapses are updated (the same weights, at
        the cost of the synapses alone).
    """
    if structure is not None and update_noise == 0:
        _update_synapses(config, weights, optimizer, grads, structure.entries)
        return None
    updates = optimizer.updates(grads, None if structure is None else structure.entries)
    if update_noise > 0:
        updates = noise.add_update_noise(updates, update_noise, update_noise_kind, seed)
    for name, update in updates.items():
        weights[name] += update
    project_dale(config, weights)
    if structure is not None:
        structure.apply(weights)
    return updates


def _update_synapses(config, weights, optimizer, grads, entries):
    """:func:`update_weights` without noise in a sparse network: the update, the Dale's-law
    projection and the absent synapses (left at 0) on the synapses' entries alone."""
    for name, index, update in optimizer.updates_on(grads, entries):
        array = weights[name]
        if index is None:  # a dense projection of the sparse network
            array += update
            if not config.unbounded:
                np.maximum(array, 0.0, out=array)
            continue
        flat = array.reshape(-1) if array.flags.c_contiguous else array.flat  # in place
        values = flat[index]
        values += update
        if not config.unbounded:
            np.maximum(values, 0.0, out=values)
        flat[index] = values
    if not config.unbounded:  # weights that had no gradient (none in training)
        for name in weights.keys() - grads.keys():
            np.maximum(weights[name], 0.0, out=weights[name])


def engine_for(net_config, n_threads=None, structure=None):
    """The gradient engine of a network: the hand-written one for the default LIF model
    (:mod:`ei_brian.gradients`), the one derived from the equations for any other
    (:mod:`ei_brian.derived`; it compiles the model's loops on first use)."""
    if net_config.neuron_model == DEFAULT_MODEL:
        return gradients.GradientEngine(net_config, n_threads=n_threads, structure=structure)
    # SymPy's expressions of the model and its generated, compiled loops: only for such models
    from ei_brian.derived import DerivedEngine
    return DerivedEngine(net_config, n_threads=n_threads, structure=structure)


def default_run_name(net_config, train_config):
    """A folder name that says what made the run: data set, ratio, scale, seed, content hash."""
    full = train_config.train_samples is None and train_config.epochs >= 30
    ratio = "unbounded" if net_config.unbounded else net_config.ratio.replace(":", "-")
    if net_config.neuron_model != DEFAULT_MODEL:
        ratio += "_" + re.sub(r"[^A-Za-z0-9-]+", "-", load_model(net_config.neuron_model).name)
    digest = TrainConfig.digest(train_config)[:4] + net_config.digest()[:4]
    return (f"{train_config.dataset}_{ratio}_h{net_config.n_hidden}_{'full' if full else 'quick'}"
            f"_s{train_config.seed}_{digest}")


class Trainer:
    """Holds the data, the compiled network and the encoder of one run."""

    def __init__(self, net_config, train_config, data_dir=None, cache_dir=None, verbose=True,
                 threads=None, compile=True, structure=None):
        self.net_config = net_config
        self.train_config = train_config
        self.verbose = verbose
        # the synapses of a sparse network: given (a resumed run's), or drawn from the seed
        if net_config.sparse and structure is None:
            structure = draw_structure(net_config, train_config.seed)
        self.structure = structure if net_config.sparse else None
        if train_config.dataset in SPIKE_DATASETS:  # binned on the network's time grid
            grid = {"dt": float(net_config.dt), "n_steps": net_config.n_steps}
        else:
            grid = {}
        n_validation = train_config.validation_samples
        train_samples = train_config.train_samples
        if n_validation and train_samples is not None:  # validation drawn beside the training
            train_samples += n_validation
        self.data = load_dataset(train_config.dataset, data_dir=data_dir,
                                 train_samples=train_samples,
                                 test_samples=train_config.test_samples, seed=train_config.seed,
                                 **grid, **train_config.dataset_options())
        self.x_val = self.y_val = None
        if n_validation:
            self.data, self.x_val, self.y_val = _hold_out(self.data, n_validation,
                                                          train_config.seed)
        if self.data.n_channels != net_config.n_inputs or self.data.n_classes != net_config.n_outputs:
            raise ConfigError(f"{train_config.dataset} has {self.data.n_channels} channels and "
                              f"{self.data.n_classes} classes; the network has {net_config.n_inputs} "
                              f"inputs and {net_config.n_outputs} outputs (build it with "
                              "NetworkConfig.for_dataset(train_config))")
        self.network = self.engine = None
        if compile:  # without: the data and encoders only (ei_brian.trained)
            self.network = CompiledNetwork(net_config, train_config.batch_size,
                                           spike_capacity=self.spike_capacity(),
                                           cache_dir=cache_dir, verbose=verbose,
                                           structure=self.structure, processes=threads)
            self.engine = engine_for(net_config, n_threads=threads, structure=self.structure)
        # per-neuron time constants (diversity) are drawn once from the run's seed
        self.time_constants = (net_config.time_constants(train_config.seed)
                               if net_config.heterogeneous else None)

    def spike_capacity(self):
        """Input spike slots of a compiled run; None: the runner's default (one per channel and
        sample, enough for the latency code). Poisson input and inserted noise spikes need more;
        jitter and deletion never add spikes. A spike data set (SHD, randman) needs the sum of
        the ``batch_size`` largest spike counts of the whole data set (``Dataset.spike_capacity``:
        independent of the seed and of subsets, so every run of a study reuses one binary)."""
        net_config, train_config = self.net_config, self.train_config
        if train_config.encoding == "latency" and train_config.input_insertion == 0:
            return None
        base = train_config.batch_size * net_config.n_inputs
        if self.data.spiking:  # SHD, randman: any minibatch's spikes, from the whole data set
            base = self.data.spike_capacity(train_config.batch_size)
        if train_config.encoding == "poisson":
            expected = (self.data.x_train.sum(axis=1).max() * 100.0
                        * float(net_config.sample_duration))
            base = int(train_config.batch_size * expected * 1.5) + 1000
        n_cells = train_config.batch_size * net_config.n_steps * net_config.n_inputs
        return min(base + noise.insertion_capacity(n_cells, train_config.input_insertion), n_cells)

    def perturb(self, spike_input, stream, *key):
        """The input noise of TrainConfig applied to ``spike_input`` (see :mod:`ei_brian.noise`),
        with the draws of ``noise.minibatch_seed(seed, stream, *key)``."""
        train_config = self.train_config
        return noise.perturb_input(spike_input, jitter=float(train_config.input_jitter),
                                   deletion=train_config.input_deletion,
                                   insertion=train_config.input_insertion,
                                   seed=noise.minibatch_seed(train_config.seed, stream, *key))

    def membrane_noise(self, n_samples, stream, *key):
        """Membrane-noise drive of one run (None without membrane noise), keyed like the input
        noise so that a resumed run draws what an uninterrupted one draws."""
        if self.net_config.membrane_noise == 0:
            return None
        return membrane_noise_drive(self.net_config, n_samples,
                                    noise.minibatch_seed(self.train_config.seed, stream, *key),
                                    self.time_constants)

    @property
    def input_noise(self):
        train_config = self.train_config
        return bool(float(train_config.input_jitter) > 0 or train_config.input_deletion > 0 or
                    train_config.input_insertion > 0)

    def encode(self, images, stream, *key):
        """Input spikes of ``images``; the Poisson code draws from ``streams.stream(seed, stream,
        *key)`` (``"poisson"`` keyed by (epoch, minibatch) in training, ``"test-poisson"`` keyed by
        (evaluation, minibatch) when evaluating), so a resumed run draws what an uninterrupted one
        draws and every evaluation of a set sees the same spikes."""
        net_config = self.net_config
        if isinstance(images, encoding.SpikeSamples):  # a spike data set: no encoding
            return images.to_input()
        if self.train_config.encoding == "latency":
            return encoding.latency_encode(images, n_steps=net_config.n_steps,
                                           dt=float(net_config.dt))
        return encoding.poisson_encode(images, n_steps=net_config.n_steps, dt=float(net_config.dt),
                                       seed=streams.stream(self.train_config.seed, stream, *key))

    def evaluate(self, weights, images, labels, keep_spikes=False, noise_key="test"):
        """Forward runs only: loss, accuracy, E/I rates and silent fraction on a data set.

        Input noise acts here only with ``TrainConfig.input_noise_at_test``: then minibatch ``k``
        of the evaluation named ``noise_key`` (a key of ``EVALUATION_KEYS``) always gets the same
        noise, so every epoch is tested on the same noisy inputs.
        """
        net_config = self.net_config
        n_exc = net_config.n_exc
        batch = self.train_config.batch_size
        total_loss, correct = 0.0, 0
        counts = np.zeros(net_config.n_exc + net_config.n_inh)
        kept = []
        noisy = self.train_config.input_noise_at_test and self.input_noise
        for start in range(0, len(labels), batch):
            x, y = images[start:start + batch], labels[start:start + batch]
            spike_input = self.encode(x, "test-poisson", EVALUATION_KEYS[noise_key], start // batch)
            if noisy:
                spike_input = self.perturb(spike_input, "test-input", EVALUATION_KEYS[noise_key],
                                           start // batch)
            drive = self.membrane_noise(len(y), "test-membrane", EVALUATION_KEYS[noise_key],
                                        start // batch)
            # forward only: the readout and each neuron's spike count, unless spikes are kept
            result = self.network.run(weights, spike_input, self.time_constants, drive,
                                      counts_only=not keep_spikes)
            loss, _, _, predictions = gradients.loss_and_output_gradient(result.readout, y)
            total_loss += loss * len(y)
            correct += int((predictions == y).sum())
            counts += result.spike_counts
            if keep_spikes:
                kept.append(result.hidden_spikes)
        seconds = len(labels) * float(net_config.sample_duration)
        rate_inh = (counts[n_exc:].sum() / (net_config.n_inh * seconds) if net_config.n_inh
                    else float("nan"))
        out = {"loss": total_loss / len(labels), "acc": correct / len(labels),
               "rate_exc_hz": counts[:n_exc].sum() / (n_exc * seconds), "rate_inh_hz": rate_inh,
               "silent_frac": float(np.mean(counts == 0))}
        if keep_spikes:
            out["spikes"] = np.concatenate(kept)
        return out

    def train_batch(self, weights, optimizer, images, labels, epoch=0, batch=0):
        """One minibatch: compiled forward run, surrogate gradients, update, Dale's projection.

        ``epoch`` and ``batch`` (the minibatch's position in its epoch) key the minibatch's input
        and update noise (:func:`ei_brian.noise.minibatch_seed`).
        """
        net_config, train_config = self.net_config, self.train_config
        spike_input = self.encode(images, "poisson", epoch, batch)
        if self.input_noise:
            spike_input = self.perturb(spike_input, "input", epoch, batch)
        drive = self.membrane_noise(len(labels), "membrane", epoch, batch)
        result = self.network.run(weights, spike_input, self.time_constants, drive)
        loss, grads, info = self.engine(
            weights, spike_input, labels, hidden_spikes=result.hidden_spikes,
            readout=result.readout, regularizer_strength=train_config.regularizer_strength,
            regularizer_rate=train_config.regularizer_rate, time_constants=self.time_constants,
            membrane_noise=drive)
        update_weights(net_config, weights, optimizer, grads, train_config.update_noise,
                       train_config.update_noise_kind,
                       seed=noise.minibatch_seed(train_config.seed, "update", epoch, batch),
                       structure=self.structure)
        spikes = result.hidden_spikes
        return loss, int((info["predictions"] == labels).sum()), spikes

    def estimate_input_rate(self, n_samples=1000):
        """Mean input spikes per channel per second of the training input (Hz), from up to
        ``n_samples`` training samples encoded as in training, input noise included; what the
        fluctuation-driven initialization assumes."""
        images = self.data.x_train[:n_samples]
        spikes = self.encode(images, "test-poisson", EVALUATION_KEYS["input-rate"], 0)
        if self.input_noise:
            spikes = self.perturb(spikes, "test-input", EVALUATION_KEYS["input-rate"], 0)
        return initialization.input_rate(spikes)

    def initial_weights(self, seed):
        """Initial weights by ``TrainConfig.init`` (:func:`ei_brian.initialization.initialize`).

        ``target-rate`` measures the E and I rates with compiled runs on a probe batch of
        ``TrainConfig.target_rate_samples`` training samples (drawn from the run's seed).

        Returns
        -------
        weights : dict
        info : dict
            What the scheme derived.
        """
        train_config = self.train_config
        measure, rate = None, None  # measure: firing rates of trial weights (target-rate)
        if train_config.init == "target-rate":
            n_train = len(self.data.y_train)
            rng = streams.generator(train_config.seed, "target-rate-probe")
            n_samples = min(train_config.target_rate_samples, n_train)
            probe = np.sort(rng.permutation(n_train)[:n_samples])
            images, labels = self.data.x_train[probe], self.data.y_train[probe]

            def probe_rates(weights):
                result = self.evaluate(weights, images, labels, noise_key="calibration")
                return result["rate_exc_hz"], result["rate_inh_hz"]
            measure = probe_rates
        if train_config.init == "fluctuation" and train_config.input_rate is None:
            rate = self.estimate_input_rate()
        weights, info = initialization.initialize(self.net_config, train_config, seed,
                                                  measure=measure, input_rate=rate,
                                                  structure=self.structure)
        if train_config.init == "target-rate":
            info["probe_samples"] = int(len(labels))
        return weights, info

    def close(self):
        for part in (self.engine, self.network):
            if part is not None:
                part.close()

    def save_probe(self, path, weights, probe, snapshot, epoch):
        net_config = self.net_config
        images, labels = self.data.x_test[probe], self.data.y_test[probe]
        result = self.evaluate(weights, images, labels, keep_spikes=True, noise_key="probe")
        sample, step, neuron = np.nonzero(result["spikes"])
        save_probe_spikes(path, snapshot=snapshot, epoch=epoch, times=step * float(net_config.dt),
                          neurons=neuron, samples=sample,
                          sample_indices=self.data.test_indices[probe], sample_labels=labels,
                          n_exc=net_config.n_exc, n_inh=net_config.n_inh,
                          t_stop=float(net_config.sample_duration), dt=float(net_config.dt))


class RunLog:
    """The run's messages: printed (unless quiet) and appended to ``log.txt`` in its folder.

    Calling it says an ordinary message; :meth:`warn` says a warning, which goes to standard
    error even when quiet (naming the run folder then: the runs of a sweep are quiet and share
    a terminal). Lines are kept in memory until the run folder holds a run (``open``), so a run
    refused before it starts writes nothing.
    """

    def __init__(self, out_dir, echo=True):
        self.out_dir = out_dir
        self.path = os.path.join(out_dir, LOG_FILE)
        self.echo = echo
        self.pending = []
        self.opened = False

    def open(self):
        self.opened = True
        lines, self.pending = self.pending, []
        self._append(lines)

    def __call__(self, text):
        if self.echo:
            tqdm.write(text)
        self._record(text)

    def warn(self, text):
        """Say ``"warning: " + text`` on standard error, quiet or not (between progress bars;
        quiet, after the run folder and a colon), and in the log."""
        text = f"warning: {text}"
        tqdm.write(text if self.echo else f"{self.out_dir}: {text}", file=sys.stderr)
        self._record(text)

    def _record(self, text):
        stamped = f"{time.strftime('%Y-%m-%d %H:%M:%S')}  {text}"
        if self.opened:
            self._append([stamped])
        else:
            self.pending.append(stamped)

    def _append(self, lines):
        if lines:
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
            with open(self.path, "a") as f:
                f.write("".join(line + "\n" for line in lines))

    def failure(self, error):
        """Write ``error`` with its traceback into the log (the folder is made if need be)."""
        self.opened = True
        lines = self.pending + [f"{time.strftime('%Y-%m-%d %H:%M:%S')}  FAILED: "
                                f"{type(error).__name__}: {error}"]
        self.pending = []
        self._append(lines + ["".join(traceback.format_exception(error)).rstrip()])


def train(net_config=None, train_config=None, out_dir=None, resume=False, data_dir=None,
          cache_dir=None, progress=True, argv=None, threads=None):
    """Train a network and write its run folder (see the module docstring).

    Parameters
    ----------
    net_config : NetworkConfig, optional
    train_config : TrainConfig, optional
    out_dir : str, optional
        The run folder (default ``runs/<name made from the configuration>``).
    resume : bool
        Continue the run in ``out_dir`` from its last checkpoint.
    data_dir : str, optional
        Folder of the data set files.
    cache_dir : str, optional
        Root of the compiled-network cache.
    progress : bool
        Print progress bars and messages (the messages go to ``log.txt`` either way); warnings
        (:func:`ei_brian.outcome.run_warnings`, an early stop) go to standard error either way.
    argv : list of str, optional
        The command line, recorded in ``config.json``.
    threads : int, optional
        Threads of the gradient computation and processes of the compiled run (default 2, 1 on a
        one-core machine); the results do not depend on it.

    Returns
    -------
    list of dict
        The metrics rows, epoch 0 first.

    Raises
    ------
    ConfigError, DatasetError, RunFolderError
        Before anything is written, when the configuration, the data or the folder cannot be
        used. Any other failure is written with its traceback to the run's ``log.txt`` first.
    """
    net_config = net_config or NetworkConfig()
    train_config = train_config or TrainConfig()
    out_dir = out_dir or os.path.join("runs", default_run_name(net_config, train_config))
    say = RunLog(out_dir, echo=progress)
    try:
        return _train(net_config, train_config, out_dir, resume, data_dir, cache_dir, progress,
                      argv, threads, say)
    except (ConfigError, DatasetError, RunFolderError):
        raise
    except BaseException as error:
        say.failure(error)
        raise


def _train(net_config, train_config, out_dir, resume, data_dir, cache_dir, progress, argv, threads,
           say):
    session_start = time.perf_counter()
    record = _config_record(net_config, train_config, argv)
    # refuse early, before loading and compiling; a resumed sparse run keeps its saved synapses
    structure = (load_structure(out_dir, net_config)
                 if _check_existing(out_dir, record, resume) else None)
    checkpoint_path = os.path.join(out_dir, "checkpoint.npz")
    say(f"run folder: {out_dir}")
    trainer = Trainer(net_config, train_config, data_dir=data_dir, cache_dir=cache_dir,
                      verbose=progress, threads=threads, structure=structure)
    # one process at a time in a run folder (a sweep's retried run must not meet its first try)
    os.makedirs(out_dir, exist_ok=True)
    lock = FileLock(os.path.join(out_dir, ".lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        trainer.close()
        raise RunFolderError(f"{out_dir!r} is in use: another process is training in it") from None
    try:
        resuming = _check_existing(out_dir, record, resume)
        if not resuming:
            atomic_write_json(os.path.join(out_dir, "config.json"), record)
        say.open()
        return _train_loop(trainer, out_dir, checkpoint_path, resuming, progress, say,
                           session_start)
    finally:
        trainer.close()
        lock.release()


def _train_loop(trainer, out_dir, checkpoint_path, resuming, progress, say, session_start):
    net_config, train_config = trainer.net_config, trainer.train_config
    commits = [code_commit()]  # this session's code, read as it starts
    machines = [machine_description()]  # and the machine it runs on
    data = trainer.data
    wall_before = 0.0
    probe = _probe_samples(data.y_test, train_config.n_probe,
                           streams.stream(train_config.seed, "probe-samples"))
    optimizer = make_optimizer(train_config.optimizer, train_config.learning_rate)
    rng = streams.generator(train_config.seed, "minibatch-order")

    if resuming and os.path.exists(checkpoint_path):
        checkpoint = load_npz(checkpoint_path, what="checkpoint")
        weights = {key: checkpoint[key].copy() for key in checkpoint if key.startswith("w_")}
        optimizer.load_state_dict({key[4:]: value for key, value in checkpoint.items()
                                   if key.startswith("opt:")})
        rng.bit_generator.state = json.loads(str(checkpoint["rng_state"]))
        rows = json.loads(str(checkpoint["metrics"]))
        first_epoch = int(checkpoint["epoch"]) + 1
        wall_before = float(checkpoint["wall_seconds"]) if "wall_seconds" in checkpoint else 0.0
        before = json.loads(str(checkpoint["git_commits"])) if "git_commits" in checkpoint else []
        commits = list(dict.fromkeys(before + commits))  # the earlier sessions' first
        before = json.loads(str(checkpoint["machines"])) if "machines" in checkpoint else []
        machines = list(dict.fromkeys(before + machines))
        say(f"resuming after epoch {first_epoch - 1}")
    else:
        if trainer.structure is not None:
            atomic_savez(os.path.join(out_dir, STRUCTURE_FILE), **trainer.structure.arrays())
        weights, init_info = trainer.initial_weights(
            streams.stream(train_config.seed, "initial-weights"))
        atomic_write_json(os.path.join(out_dir, "initialization.json"), _jsonable(init_info))
        atomic_savez(os.path.join(out_dir, INITIAL_WEIGHTS_FILE), **weights)
        if trainer.time_constants is not None:
            atomic_savez(os.path.join(out_dir, TIME_CONSTANTS_FILE), **trainer.time_constants)
        if init_info["scheme"] == "target-rate":
            say(f"target-rate initialization: E {init_info['rate_exc_hz']:.2f} Hz, I "
                f"{init_info['rate_inh_hz']:.2f} Hz on {init_info['probe_samples']} probe samples "
                f"after {init_info['n_measurements']} measurements (excitatory gain "
                f"x{init_info['factor_exc']:.3g}"
                + (f", inhibitory x{init_info['factor_inh']:.3g})" if init_info["factor_inh"]
                   is not None else ")"))
        rows, first_epoch = [], 0
    # warnings of the epochs before a resume were said in their session
    dt = float(net_config.dt)
    announced = {warning["kind"] for warning in outcome.run_warnings(rows, dt)}

    def wall():
        """Wall time of the run so far, over every session that worked on it."""
        return wall_before + time.perf_counter() - session_start

    if first_epoch == 0:
        start = time.perf_counter()
        trainer.save_probe(os.path.join(out_dir, PROBE_SPIKES_FILES["initial"]), weights, probe,
                           "initial", 0)
        on_train = trainer.evaluate(weights, data.x_train, data.y_train, noise_key="train")
        on_test = trainer.evaluate(weights, data.x_test, data.y_test)
        rows.append(_row(0, on_train["loss"], on_train["acc"], on_test, time.perf_counter() - start,
                         on_validation=_validate(trainer, weights)))
        say(_describe(rows[-1]))
        _announce(rows, announced, say, dt)
        _save_epoch(out_dir, weights, optimizer, rng, rows, wall(), commits, machines)
        first_epoch = 1

    batch = train_config.batch_size
    n_train = len(data.y_train)
    stopped = _stop_reason(train_config, rows, dt)
    for epoch in range(first_epoch, train_config.epochs + 1):
        if stopped:
            break
        start = time.perf_counter()
        optimizer.learning_rate = train_config.learning_rate_at(epoch)
        order = rng.permutation(n_train)
        total_loss, correct, seen = 0.0, 0, 0
        spike_counts = np.zeros(2)
        bar = tqdm(range(0, n_train, batch), desc=f"epoch {epoch}/{train_config.epochs}",
                   unit="batch", disable=not progress, leave=False, file=sys.stderr)
        for offset in bar:
            index = order[offset:offset + batch]
            loss, n_correct, spikes = trainer.train_batch(weights, optimizer, data.x_train[index],
                                                          data.y_train[index], epoch=epoch,
                                                          batch=offset // batch)
            total_loss += loss * len(index)
            correct += n_correct
            seen += len(index)
            spike_counts += spikes[..., :net_config.n_exc].sum(), spikes[..., net_config.n_exc:].sum()
            seconds = seen * float(net_config.sample_duration)
            bar.set_postfix(loss=f"{total_loss / seen:.3f}", acc=f"{correct / seen:.3f}",
                            E=f"{spike_counts[0] / (net_config.n_exc * seconds):.1f}Hz",
                            I=(f"{spike_counts[1] / (net_config.n_inh * seconds):.1f}Hz"
                               if net_config.n_inh else "-"))
            if not np.isfinite(loss) or not _finite(weights):
                break  # the weights are lost (the network refuses to run them): the epoch ends
        bar.close()
        lost = not _finite(weights)
        if lost:  # no evaluation; the epoch's loss is not a number
            total_loss = np.nan
            on_test = {"acc": np.nan, "rate_exc_hz": np.nan, "rate_inh_hz": np.nan,
                       "silent_frac": np.nan}
            on_validation = None if trainer.y_val is None else {"acc": np.nan}
        else:
            on_test = trainer.evaluate(weights, data.x_test, data.y_test)
            on_validation = _validate(trainer, weights)
        rows.append(_row(epoch, total_loss / seen, correct / seen, on_test,
                         time.perf_counter() - start, on_validation=on_validation))
        say(_describe(rows[-1]))
        _announce(rows, announced, say, dt)
        if lost:  # weights.npz and the checkpoint keep the last weights that are numbers
            atomic_write_text(os.path.join(out_dir, "metrics.csv"), _metrics_text(rows))
        else:
            _save_epoch(out_dir, weights, optimizer, rng, rows, wall(), commits, machines)
        stopped = _stop_reason(train_config, rows, dt)
    last_epoch = rows[-1]["epoch"]
    stopped = stopped if last_epoch < train_config.epochs else None
    if stopped == outcome.SATURATED:
        say.warn(f"stopped after epoch {last_epoch}: the E rate has been above "
                 f"{outcome.saturation_hz(dt):g} Hz at {outcome.SATURATED_EVALUATIONS} evaluations in "
                 "a row (saturated; --stop-saturated)")
    elif stopped:
        say.warn(f"stopped after epoch {last_epoch}: the training loss is not a finite number")
    final_path = os.path.join(out_dir, PROBE_SPIKES_FILES["final"])
    if not os.path.exists(final_path) or first_epoch <= train_config.epochs:
        if _finite(weights):
            trainer.save_probe(final_path, weights, probe, "final", last_epoch)
        else:  # those of the epoch before, the last that are numbers (weights.npz)
            trainer.save_probe(final_path, load_npz(os.path.join(out_dir, "weights.npz")), probe,
                               "final", last_epoch - 1)
    result = summarize(rows, trainer.data.n_classes, dt)
    result.update({"finished": True, "epochs": train_config.epochs,
                   "stopped_early": bool(stopped), "stop_reason": stopped,
                   "warnings": outcome.run_warnings(rows, dt), "wall_seconds": wall(),
                   "git_commit": " ".join(commit for commit in commits if commit),
                   "trained_on": "; ".join(machines)})
    atomic_write_json(os.path.join(out_dir, RESULT_FILE), _jsonable(result))
    say(f"peak test accuracy {result['peak_test_acc']:.4f} at epoch {result['peak_epoch']}"
        + (f"; validation chose epoch {result['val_epoch']} (test accuracy "
           f"{result['val_test_acc']:.4f})" if result["val_epoch"] is not None else "")
        + f"; outcome: {result['outcome']}; results in {out_dir}")
    return rows


def _validate(trainer, weights):
    """Accuracy on the validation samples (None without them)."""
    if trainer.y_val is None:
        return None
    return trainer.evaluate(weights, trainer.x_val, trainer.y_val, noise_key="validation")


def _finite(weights):
    """Whether every weight is a number (neither NaN nor infinite)."""
    return all(np.isfinite(array).all() for array in weights.values())


def _stop_reason(train_config, rows, dt):
    """Why training stops after the latest of ``rows``: ``"non-finite-loss"`` (a training loss is
    not finite: the weights are lost), ``"saturated"`` (with ``stop_saturated``), or None."""
    if any(warning["kind"] == outcome.NON_FINITE_LOSS
           for warning in outcome.run_warnings(rows, dt)):
        return outcome.NON_FINITE_LOSS
    if train_config.stop_saturated and outcome.saturated([row["rate_exc_hz"] for row in rows],
                                                         dt):
        return outcome.SATURATED
    return None


def _announce(rows, announced, say, dt):
    """Warn of each warning of ``rows`` (:func:`ei_brian.outcome.run_warnings`) whose kind is not
    in ``announced`` yet, and add it there."""
    for warning in outcome.run_warnings(rows, dt):
        if warning["kind"] not in announced:
            announced.add(warning["kind"])
            say.warn(warning["message"])


def summarize(rows, n_classes, dt=outcome.DEFAULT_DT):
    """What ``result.json`` says of a run's metrics rows (epoch 0 first): the peak test accuracy
    and its epoch (over the epochs that were evaluated: not the one whose weights were lost to a
    non-finite loss), the epoch of the best validation accuracy and its test accuracy, the
    initial, final and largest rates, and the outcome (:func:`ei_brian.outcome.classify`, at the
    network's time step ``dt`` in seconds)."""
    evaluated = [row for row in rows if row["test_acc"] == row["test_acc"]]
    trained = evaluated[1:] or evaluated
    best = max(trained, key=lambda row: row["test_acc"])  # the first of equal maxima
    validated = [row for row in trained if row.get("val_acc") is not None
                 and row["val_acc"] == row["val_acc"]]
    chosen = max(validated, key=lambda row: row["val_acc"]) if validated else None
    return {"peak_test_acc": best["test_acc"], "peak_epoch": best["epoch"],
            "final_test_acc": rows[-1]["test_acc"],
            "val_acc": chosen["val_acc"] if chosen else None,
            "val_epoch": chosen["epoch"] if chosen else None,
            "val_test_acc": chosen["test_acc"] if chosen else None,
            "initial_rate_exc_hz": rows[0]["rate_exc_hz"],
            "initial_rate_inh_hz": rows[0]["rate_inh_hz"],
            "final_rate_exc_hz": rows[-1]["rate_exc_hz"],
            "final_rate_inh_hz": rows[-1]["rate_inh_hz"],
            "max_rate_exc_hz": max(row["rate_exc_hz"] for row in rows),
            "outcome": outcome.classify([row["rate_exc_hz"] for row in rows],
                                        [row["test_acc"] for row in rows[1:]], n_classes, dt)}


def _hold_out(data, n_validation, seed):
    """``(data, x_val, y_val)``: ``n_validation`` class-balanced training samples, drawn from the
    run's ``validation-split`` stream, taken out of the training set."""
    n_train = len(data.y_train)
    if n_validation >= n_train:
        raise ConfigError(f"{n_validation} validation samples leave nothing to train on: the "
                          f"training set has {n_train}; lower --validation-samples")
    chosen = _probe_samples(data.y_train, n_validation,
                            streams.stream(seed, "validation-split"))
    keep = np.ones(n_train, dtype=bool)
    keep[chosen] = False
    rest = np.flatnonzero(keep)
    extra = {key: (value[rest] if key.startswith("train_") else value)
             for key, value in data.extra.items()}
    held = dataclasses.replace(data, x_train=data.x_train[rest], y_train=data.y_train[rest],
                               train_indices=data.train_indices[rest], extra=extra)
    return held, data.x_train[chosen], data.y_train[chosen]


def _probe_samples(labels, n_probe, seed):
    """A fixed, class-balanced set of test-sample positions (as many per class as fit)."""
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    per_class = [rng.permutation(np.flatnonzero(labels == c)) for c in classes]
    chosen = []
    for rank in range(max(len(p) for p in per_class)):
        for positions in per_class:
            if rank < len(positions) and len(chosen) < n_probe:
                chosen.append(positions[rank])
    return np.sort(np.array(chosen, dtype=np.int64))


def _jsonable(value):
    """``value`` with NaN as None and NumPy numbers as Python numbers (plain JSON)."""
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, (float, np.floating)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _row(epoch, train_loss, train_acc, on_test, seconds, on_validation=None):
    row = {"epoch": epoch, "train_loss": float(train_loss), "train_acc": float(train_acc),
           "test_acc": float(on_test["acc"]), "rate_exc_hz": float(on_test["rate_exc_hz"]),
           "rate_inh_hz": float(on_test["rate_inh_hz"]), "silent_frac": on_test["silent_frac"],
           "seconds": float(seconds)}
    if on_validation is not None:
        row["val_acc"] = float(on_validation["acc"])
    return row


def _describe(row):
    validation = f"val acc {row['val_acc']:.4f}  " if "val_acc" in row else ""
    return (f"epoch {row['epoch']:3d}  train loss {row['train_loss']:.4f}  train acc "
            f"{row['train_acc']:.4f}  {validation}test acc {row['test_acc']:.4f}  "
            f"E {row['rate_exc_hz']:.1f} Hz  "
            f"I {row['rate_inh_hz']:.1f} Hz  silent {row['silent_frac']:.2f}  ({row['seconds']:.1f} s)")
