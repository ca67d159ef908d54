"""Compiled runs: build the C++ standalone project once, rerun it with new weights and inputs.

One :class:`CompiledNetwork` owns Brian2's standalone device while it lives. Its project folder
sits in a cache keyed by the architecture (sizes, parameters, samples per run, spike capacity and
the versions of brian2 and ei_brian), so a second process with the same architecture reuses the
compiled binary. Each :meth:`CompiledNetwork.run` passes the weights and one minibatch of input
spikes with ``device.run(run_args=...)``; the arrays that this writes into the project folder are
removed after the run, so nothing piles up on disk.
"""
import contextlib
import gc
import hashlib
import io
import json
import os
import time

import brian2
import numpy as np
from brian2 import device, prefs, second, set_device
from brian2.codegen.cpp_prefs import get_compiler_and_args
from filelock import FileLock

import ei_brian
from ei_brian.network import build_network, check_weights, synapse_weights

#: where compiled projects are kept (override with $EI_BRIAN_CACHE)
DEFAULT_CACHE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".cache",
                             "brian2")


def _source_digest(directory):
    """SHA-256 of the generated sources and makefile: equal digests mean the same program.

    Each file's lines are sorted before hashing: Brian2 emits a few independent statements (the
    clocks' initialisation) in an order that varies between processes, which must not trigger a
    recompilation.
    """
    digest = hashlib.sha256()
    for folder, _, names in sorted(os.walk(directory)):
        if os.path.basename(folder) in ("results", "static_arrays"):
            continue
        for name in sorted(names):
            if name.endswith((".cpp", ".h")) or name == "makefile":
                path = os.path.join(folder, name)
                digest.update(os.path.relpath(path, directory).encode())
                with open(path, "rb") as f:
                    digest.update(b"\n".join(sorted(f.read().splitlines())))
    return digest.hexdigest()


def cache_root():
    return os.environ.get("EI_BRIAN_CACHE", DEFAULT_CACHE)


class RunResult:
    """What one compiled run recorded, per sample of the minibatch.

    Attributes
    ----------
    hidden_spikes : ndarray of bool, shape (n_samples, n_steps, n_hidden)
        Spikes of hidden neurons (E first, then I).
    readout : ndarray, shape (n_samples, n_steps, n_outputs)
        Readout potentials after each step's state update.
    potentials : ndarray or None, shape (n_samples, n_steps, n_hidden)
        Hidden membrane potentials after the state update, before threshold and reset (only with
        ``record_potentials``).
    seconds : float
        Wall time of the compiled run, including writing inputs and reading results.
    """

    def __init__(self, hidden_spikes, readout, potentials, seconds):
        self.hidden_spikes = hidden_spikes
        self.readout = readout
        self.potentials = potentials
        self.seconds = seconds


class CompiledNetwork:
    """A network compiled to C++ once, run many times with new weights and inputs.

    Parameters
    ----------
    config : NetworkConfig
    samples_per_run : int
        Samples carried by one run (one after another, state reset between them); minibatches
        with fewer samples are padded with silent samples.
    spike_capacity : int, optional
        Input spike slots per run; default ``samples_per_run * n_inputs`` (enough for the latency
        code, which emits at most one spike per channel and sample).
    record_potentials : bool
        Also record hidden membrane potentials (costs time and memory; for checks).
    cache_dir : str, optional
        Root of the compiled-project cache; default ``$EI_BRIAN_CACHE`` or ``.cache/brian2``.
    verbose : bool
        Print what is compiled and where.

    Attributes
    ----------
    compile_seconds : float
        Wall time of the build step (code generation, and compilation unless cached).
    compiled : bool
        Whether this build compiled (False: the cached binary was reused).
    """

    _active = None

    def __init__(self, config, samples_per_run, spike_capacity=None, record_potentials=False,
                 cache_dir=None, verbose=True):
        self.config = config
        self.samples_per_run = int(samples_per_run)
        self.spike_capacity = int(spike_capacity or self.samples_per_run * config.n_inputs)
        self.record_potentials = bool(record_potentials)
        self.n_exc, self.n_inh = config.population_sizes()
        self.n_hidden = self.n_exc + self.n_inh
        key = {"network": config.to_dict(), "samples_per_run": self.samples_per_run,
               "spike_capacity": self.spike_capacity, "record_potentials": self.record_potentials,
               "brian2": brian2.__version__, "ei_brian": ei_brian.__version__}
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
        self.directory = os.path.join(cache_dir or cache_root(), digest)
        self.compile_seconds = self._build(key, verbose)

    # ------------------------------------------------------------------------------------------
    def _build(self, key, verbose):
        if CompiledNetwork._active is not None:
            CompiledNetwork._active.close()
        device.reinit()
        device.activate()
        set_device("cpp_standalone", build_on_run=False, directory=self.directory)
        prefs.devices.cpp_standalone.extra_make_args_unix = ["-j2", "-s"]
        prefs.logging.std_redirection = False
        brian2.seed(0)  # no random numbers are drawn in the compiled code; fixed for reproducibility
        self.parts = build_network(self.config, n_samples=self.samples_per_run,
                                   spike_capacity=self.spike_capacity,
                                   record_potentials=self.record_potentials)
        self.parts["network"].run(self.samples_per_run * self.config.sample_duration)
        os.makedirs(self.directory, exist_ok=True)
        start = time.perf_counter()
        # one process builds a project folder at a time (parallel sweeps share the cache)
        with FileLock(os.path.join(self.directory, "ei_brian_build.lock")):
            with contextlib.redirect_stdout(io.StringIO()):
                device.build(directory=self.directory, compile=False, run=False)
            sources = _source_digest(self.directory)
            stamp = os.path.join(self.directory, "ei_brian_build.json")
            cached = False
            if os.path.exists(stamp) and os.path.exists(os.path.join(self.directory, "main")):
                with open(stamp) as f:
                    cached = json.load(f).get("sources") == sources
            if verbose:
                print(("reusing the compiled network in " if cached else "compiling the network "
                       "(once per architecture) in ") + self.directory, flush=True)
            self.compiled = not cached
            if not cached:
                compiler, _ = get_compiler_and_args()
                device.compile_source(self.directory, compiler, False, False)
                with open(stamp, "w") as f:
                    json.dump(dict(key, sources=sources), f, indent=1)
        seconds = time.perf_counter() - start
        inputs = self.parts["input"]
        self._timebins = inputs.variables["_timebins"].get_addressable_value_with_unit(
            "_timebins", inputs)
        self._neuron_index = inputs.neuron_index
        CompiledNetwork._active = self
        self._closed = False
        return seconds

    def close(self):
        """Release the standalone device (a later CompiledNetwork may then be built)."""
        if getattr(self, "_closed", True):
            return
        self._closed = True
        if CompiledNetwork._active is self:
            CompiledNetwork._active = None
        self.parts = None  # free the Brian2 objects, and with them their names
        gc.collect()
        device.reinit()
        device.activate()
        set_device("runtime")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------------------------------
    def run(self, weights, spike_input, time_constants=None, membrane_noise=None):
        """Run one minibatch.

        Parameters
        ----------
        weights : dict
            ``w_<projection>`` arrays (n_pre, n_post).
        spike_input : ei_brian.encoding.SpikeInput
            Input spikes of at most ``samples_per_run`` samples.
        time_constants : dict, optional
            Per-neuron ``tau_mem``, ``tau_exc``, ``tau_inh`` (seconds); required when the network
            has time-constant diversity (``config.heterogeneous``).
        membrane_noise : ndarray (n_samples, n_steps, n_hidden), optional
            Membrane-noise drive; required when ``config.membrane_noise > 0``.

        Returns
        -------
        RunResult
            Recordings for the ``spike_input.n_samples`` samples.
        """
        if self._closed:
            raise RuntimeError("this CompiledNetwork was closed (another one was built after it); "
                               "build it again")
        cfg = self.config
        n_samples = spike_input.n_samples
        if n_samples > self.samples_per_run:
            raise ValueError(f"{n_samples} samples do not fit a run of {self.samples_per_run}")
        if spike_input.n_channels != cfg.n_inputs or spike_input.n_steps != cfg.n_steps:
            raise ValueError(f"input has {spike_input.n_channels} channels x {spike_input.n_steps} "
                             f"steps; the network needs {cfg.n_inputs} x {cfg.n_steps}")
        n_spikes = spike_input.n_spikes
        if n_spikes > self.spike_capacity:
            raise ValueError(f"{n_spikes} input spikes exceed the compiled capacity of "
                             f"{self.spike_capacity}; build with a larger spike_capacity")
        check_weights(cfg, weights)
        start = time.perf_counter()
        # spikes sorted by (sample, step, channel) are sorted by global time bin, as Brian2 needs
        timebins = np.full(self.spike_capacity, self.samples_per_run * cfg.n_steps + 1, np.int32)
        channels = np.zeros(self.spike_capacity, np.int32)
        timebins[:n_spikes] = spike_input.sample * cfg.n_steps + spike_input.step
        channels[:n_spikes] = spike_input.channel
        run_args = {self._timebins: timebins, self._neuron_index: channels}
        for name, flat in synapse_weights(cfg, weights).items():
            run_args[self.parts["synapses"][name].w] = flat
        if cfg.heterogeneous:
            if time_constants is None:
                raise ValueError("this network has time-constant diversity: pass time_constants "
                                 "(NetworkConfig.time_constants(seed))")
            hidden = self.parts["hidden"]
            for variable in ("tau_mem", "tau_exc", "tau_inh"):
                values = np.asarray(time_constants[variable], dtype=np.float64)
                if values.shape != (self.n_hidden,) or not np.all(values > 0):
                    raise ValueError(f"{variable} needs {self.n_hidden} positive values (seconds)")
                run_args[getattr(hidden, variable)] = values * second
        if cfg.membrane_noise > 0:
            if membrane_noise is None or np.shape(membrane_noise) != (n_samples, cfg.n_steps,
                                                                      self.n_hidden):
                raise ValueError("this network has membrane noise: pass its drive, shape "
                                 f"({n_samples}, {cfg.n_steps}, {self.n_hidden})")
            values = np.zeros((self.samples_per_run * cfg.n_steps, self.n_hidden))
            values[:n_samples * cfg.n_steps] = np.asarray(membrane_noise).reshape(-1, self.n_hidden)
            run_args[self.parts["noise"]] = values
        try:
            device.run(run_args=run_args, with_output=False)
        finally:
            self._remove_run_arrays()
        total_steps = self.samples_per_run * cfg.n_steps
        monitor = self.parts["spikes"]
        steps = np.rint(monitor.t_[:] / float(cfg.dt)).astype(np.int64)
        neurons = monitor.i_[:]
        keep = steps < n_samples * cfg.n_steps
        steps, neurons = steps[keep], neurons[keep]
        # time-major storage (step, sample, neuron), handed out as (sample, step, neuron) views
        spikes = np.zeros((cfg.n_steps, n_samples, self.n_hidden), dtype=bool)
        spikes[steps % cfg.n_steps, steps // cfg.n_steps, neurons] = True
        readout = self.parts["readout_monitor"].v_[:]  # (n_outputs, total_steps)
        if readout.shape[1] != total_steps:
            raise RuntimeError(f"the compiled run recorded {readout.shape[1]} steps, not {total_steps}")
        readout = readout[:, :n_samples * cfg.n_steps].reshape(-1, n_samples, cfg.n_steps)
        readout = np.ascontiguousarray(readout.transpose(1, 2, 0))
        potentials = None
        if self.record_potentials:
            potentials = self.parts["potential_monitor"].v_[:][:, :n_samples * cfg.n_steps]
            potentials = potentials.reshape(-1, n_samples, cfg.n_steps).transpose(1, 2, 0)
        seconds = time.perf_counter() - start
        return RunResult(np.moveaxis(spikes, 0, 1), readout, potentials, seconds)

    def _remove_run_arrays(self):
        folder = os.path.join(self.directory, "static_arrays")
        for name in device.run_args_arrays:
            for path in (os.path.join(folder, name), os.path.join(folder, name + ".lock")):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path)
        device.run_args_arrays.clear()
