"""A trained run, back as Brian2 objects: :func:`load_run` and :class:`TrainedRun`.

::

    import ei_brian
    run = ei_brian.load_run("runs/fashion-mnist_80-20_h160_quick_s0_...")
    run.metrics                                  # metrics.csv as a DataFrame
    parts = run.build_network(probe_sample=0)    # Brian2 objects wired to probe sample 0
    parts["network"].run(run.net_config.sample_duration)
    parts["spikes"].i, parts["spikes"].t         # the spikes saved in spikes_final.npz for it

``build_network`` returns the dict of :func:`ei_brian.network.build_network` (network, E and I
subgroups, synapses, SpikeMonitor, optional StateMonitor) on the user's current Brian2 device
(runtime by default), with the run's weights, per-neuron time constants and, for a probe sample,
the very input (and membrane noise) the training's probe evaluation gave it. Change a time
constant (``parts["hidden"].tau_mem``) or a weight (``parts["synapses"]["e_to_hidden"].w["j <
n_exc"]`` is E->E; or change ``run.weights["w_ee"]`` and build again) and run again.
"""
import os
import warnings

import numpy as np
from brian2 import second

from ei_brian.config import NetworkConfig, TrainConfig
from ei_brian.encoding import SpikeInput
from ei_brian.io import (
    INITIAL_WEIGHTS_FILE,
    PROBE_SPIKES_FILES,
    TIME_CONSTANTS_FILE,
    RunFolderError,
    load_npz,
    load_probe_spikes,
    read_run_record,
)
from ei_brian.network import build_network
from ei_brian.structure import load_structure

__all__ = ["load_run", "TrainedRun", "spike_generator_arguments", "INITIAL_WEIGHTS_FILE",
           "TIME_CONSTANTS_FILE"]


def spike_generator_arguments(spike_input, sample=None):
    """Indices and times for a Brian2 ``SpikeGeneratorGroup`` from a :class:`SpikeInput`.

    Parameters
    ----------
    spike_input : ei_brian.encoding.SpikeInput
        Input spikes of a batch.
    sample : int, optional
        Only this sample, its times from 0. By default all samples one after another, sample
        ``k`` starting at ``k * n_steps * dt`` (as the compiled runs present them).

    Returns
    -------
    indices : numpy.ndarray of int
    times : brian2.Quantity
    """
    if sample is None:
        steps = spike_input.sample * spike_input.n_steps + spike_input.step
        return np.asarray(spike_input.channel, dtype=int), steps * spike_input.dt * second
    if not 0 <= sample < spike_input.n_samples:
        raise IndexError(f"sample {sample} is not in this input of {spike_input.n_samples} "
                         "samples")
    keep = spike_input.sample == sample
    return (np.asarray(spike_input.channel[keep], dtype=int),
            spike_input.step[keep] * spike_input.dt * second)


def _read_config(run_dir):
    record = read_run_record(run_dir)
    if record is None:
        raise RunFolderError(f"{run_dir!r} holds no run (no config.json)")
    return NetworkConfig.from_dict(record["network"]), TrainConfig.from_dict(record["training"])


def load_run(run_dir, snapshot="final", data_dir=None):
    """Open a run folder.

    Parameters
    ----------
    run_dir : str or os.PathLike
        A folder written by ``ei-brian train`` (or a sweep).
    snapshot : ``"final"``, ``"initial"`` or int
        Which weights: after the latest epoch (``weights.npz``), before training
        (``weights_initial.npz``), or after the epoch of the checkpoint (``checkpoint.npz`` holds
        only the latest epoch's).
    data_dir : str, optional
        Where the data set files are (for probe samples and images; as ``--data-dir``).

    Returns
    -------
    TrainedRun

    Raises
    ------
    RunFolderError
        If the folder holds no run, another version's run, or not the snapshot asked for.
    """
    return TrainedRun(run_dir, snapshot=snapshot, data_dir=data_dir)


class TrainedRun:
    """A trained run: its configurations, weights, time constants and metrics, and its network
    as Brian2 objects (see the module docstring).

    Attributes
    ----------
    run_dir : str
    net_config : NetworkConfig
    train_config : TrainConfig
    snapshot : str or int
    epoch : int
        The epoch of the weights (0: initial).
    weights : dict of numpy.ndarray
        ``w_<projection>`` arrays ``(n_pre, n_post)``.
    time_constants : dict or None
        Per-neuron ``tau_mem``, ``tau_exc``, ``tau_inh`` in seconds (runs with time-constant
        diversity), else None.
    structure : ei_brian.structure.Structure or None
        The synapses of a sparse network (``structure.npz``), else None; ``structure.masks``
        says which entries of the weight arrays are synapses.
    metrics : pandas.DataFrame
        ``metrics.csv``.
    """

    def __init__(self, run_dir, snapshot="final", data_dir=None):
        import pandas as pd  # pandas (+0.1 s after Brian2) only when a run is loaded
        self.run_dir = os.fspath(run_dir)
        self.data_dir = data_dir
        self.net_config, self.train_config = _read_config(self.run_dir)
        metrics_path = os.path.join(self.run_dir, "metrics.csv")
        self.metrics = pd.read_csv(metrics_path) if os.path.exists(metrics_path) else None
        self.snapshot = snapshot
        self.weights, self.epoch = self._load_weights(snapshot)
        self.time_constants = self._load_time_constants()
        self.structure = load_structure(self.run_dir, self.net_config)
        self._trainer = None

    def __repr__(self):
        network = "unbounded" if self.net_config.unbounded else self.net_config.ratio
        return (f"TrainedRun({self.run_dir!r}, {network}, {self.train_config.dataset}, "
                f"seed {self.train_config.seed}, snapshot {self.snapshot!r}, epoch {self.epoch})")

    # -----------------------------------------------------------------------------------------
    # what the folder holds

    def _load_weights(self, snapshot):
        def arrays(path, what):
            return {key: value for key, value in load_npz(path, what=what).items()
                    if key.startswith("w_")}

        if snapshot == "final":
            path = os.path.join(self.run_dir, "weights.npz")
            epoch = int(self.metrics["epoch"].max()) if self.metrics is not None else -1
            return arrays(path, "the final weights"), epoch
        if snapshot == "initial":
            path = os.path.join(self.run_dir, INITIAL_WEIGHTS_FILE)
            if not os.path.exists(path):
                raise RunFolderError(f"{self.run_dir!r} has no {INITIAL_WEIGHTS_FILE}: it was "
                                     "written before runs kept their initial weights; retrain it "
                                     "with this version to get them")
            return arrays(path, "the initial weights"), 0
        if isinstance(snapshot, (int, np.integer)) and not isinstance(snapshot, bool):
            if snapshot == 0:
                return self._load_weights("initial")
            checkpoint = load_npz(os.path.join(self.run_dir, "checkpoint.npz"), what="checkpoint")
            if int(checkpoint["epoch"]) != snapshot:
                raise RunFolderError(f"{self.run_dir!r} keeps the weights of epoch "
                                     f"{int(checkpoint['epoch'])} (its checkpoint), 0 (initial) "
                                     f"and the final ones, not those of epoch {snapshot}")
            return {key: value for key, value in checkpoint.items() if key.startswith("w_")}, \
                int(snapshot)
        raise ValueError(f"snapshot {snapshot!r} is not 'final', 'initial' or an epoch number")

    def _load_time_constants(self):
        if not self.net_config.heterogeneous:
            return None
        path = os.path.join(self.run_dir, TIME_CONSTANTS_FILE)
        if os.path.exists(path):
            return {key: value for key, value in load_npz(path, what="time constants").items()}
        warnings.warn(f"{self.run_dir!r} has no {TIME_CONSTANTS_FILE} (written before runs saved "
                      "them): the per-neuron time constants are drawn again from the run's seed, "
                      "as training drew them", stacklevel=3)
        return self.net_config.time_constants(self.train_config.seed)

    def probe_spikes(self, snapshot=None):
        """The saved probe spike trains (``spikes_initial.npz`` or ``spikes_final.npz``; by
        default the one of this snapshot) as :func:`ei_brian.io.load_probe_spikes` reads them."""
        snapshot = snapshot or ("initial" if self.epoch == 0 else "final")
        return load_probe_spikes(os.path.join(self.run_dir, PROBE_SPIKES_FILES[snapshot]))

    # -----------------------------------------------------------------------------------------
    # inputs

    @property
    def trainer(self):
        """The run's data and encoders (:class:`ei_brian.training.Trainer`, nothing compiled)."""
        if self._trainer is None:
            # the training stack (gradients, kernels: +65 ms) only to train on
            from ei_brian.training import Trainer
            self._trainer = Trainer(self.net_config, self.train_config, data_dir=self.data_dir,
                                    verbose=False, compile=False, structure=self.structure)
        return self._trainer

    def probe_input(self, probe_sample):
        """Input spikes and membrane-noise drive that training's probe evaluation gave probe
        sample ``probe_sample`` (0 .. n_probe - 1).

        Returns
        -------
        spike_input : SpikeInput
            One sample.
        drive : numpy.ndarray (1, n_steps, n_hidden) or None
        label : int
        """
        # the training stack (gradients, kernels: +65 ms) only to probe
        from ei_brian.training import EVALUATION_KEYS
        trainer = self.trainer
        probe = self.probe_spikes("final" if os.path.exists(os.path.join(
            self.run_dir, PROBE_SPIKES_FILES["final"])) else "initial")
        n_probe = len(probe["sample_indices"])
        if not 0 <= probe_sample < n_probe:
            raise IndexError(f"probe sample {probe_sample} is not one of the run's {n_probe}")
        position = {int(index): k for k, index in enumerate(trainer.data.test_indices)}
        try:
            probe_positions = np.array([position[int(index)]
                                        for index in probe["sample_indices"]])
        except KeyError:
            raise RunFolderError(f"the probe samples of {self.run_dir!r} are not in the test set "
                                 "this run's configuration loads: the data set files differ from "
                                 "the ones it was trained on") from None
        batch_size = self.train_config.batch_size
        batch, within = divmod(probe_sample, batch_size)
        chosen = probe_positions[batch * batch_size:(batch + 1) * batch_size]
        images = trainer.data.x_test[chosen]
        spike_input = trainer.encode(images, "test-poisson", EVALUATION_KEYS["probe"], batch)
        if self.train_config.input_noise_at_test and trainer.input_noise:
            spike_input = trainer.perturb(spike_input, "test-input", EVALUATION_KEYS["probe"],
                                          batch)
        drive = trainer.membrane_noise(len(chosen), "test-membrane", EVALUATION_KEYS["probe"],
                                       batch)
        keep = spike_input.sample == within
        one = SpikeInput(np.zeros(int(keep.sum()), dtype=np.int64), spike_input.step[keep],
                         spike_input.channel[keep], 1, spike_input.n_steps,
                         spike_input.n_channels, spike_input.dt)
        return one, (None if drive is None else drive[within:within + 1]), \
            int(trainer.data.y_test[chosen[within]])

    # -----------------------------------------------------------------------------------------
    # the network

    def build_network(self, probe_sample=None, images=None, spike_input=None,
                      record_potentials=False, name="trained"):
        """The run's network as Brian2 objects, on the current Brian2 device.

        Give one input: ``probe_sample`` (a probe sample of the run, with the input and membrane
        noise training gave it), ``images`` (an array ``(n, 784)`` or ``(784,)`` of pixel values in
        [0, 1], encoded as in training and presented one after another), or ``spike_input`` (a
        :class:`ei_brian.encoding.SpikeInput`). Without any, the network has no input.

        Returns
        -------
        dict
            As :func:`ei_brian.network.build_network`; run it for ``n_samples *
            net_config.sample_duration``. ``parts["n_samples"]`` says how many samples it holds.
        """
        given = [value is not None for value in (probe_sample, images, spike_input)]
        if sum(given) > 1:
            raise ValueError("give one of probe_sample, images and spike_input")
        drive = None
        if probe_sample is not None:
            spike_input, drive, _ = self.probe_input(probe_sample)
        elif images is not None:
            if self.train_config.dataset != "fashion-mnist":
                raise ValueError(f"{self.train_config.dataset} samples are spikes: give "
                                 "spike_input (or probe_sample), not images")
            images = np.asarray(images, dtype=float)
            if images.ndim == 1:
                images = images[None]
            if images.ndim != 2 or images.shape[1] != self.net_config.n_inputs:
                raise ValueError(f"images must have shape (n, {self.net_config.n_inputs}), not "
                                 f"{images.shape}")
            # the training stack (gradients, kernels: +65 ms) only to build
            from ei_brian.training import EVALUATION_KEYS
            spike_input = self.trainer.encode(images, "test-poisson", EVALUATION_KEYS["test"], 0)
        n_samples = 1 if spike_input is None else spike_input.n_samples
        if spike_input is not None:
            indices, times = spike_generator_arguments(spike_input)
        else:
            indices, times = [], None
        parts = build_network(self.net_config, weights=self.weights, input_indices=indices,
                              input_times=times, n_samples=n_samples,
                              record_potentials=record_potentials,
                              time_constants=self.time_constants, membrane_noise=drive,
                              structure=self.structure, name=name)
        parts["n_samples"] = n_samples
        return parts
