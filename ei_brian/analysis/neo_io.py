"""Probe spike trains of saved runs, and Brian2 spike monitors, as Neo spike trains; NIX export.

The probe spike trains that ``ei-brian train`` saves (see :mod:`ei_brian.io`) become Neo
:class:`~neo.core.SpikeTrain` objects (:class:`ProbeSpikeTrains`, :func:`spiketrains_from_probe_file`,
:func:`load_run_spiketrains`), which can be written to and read from NIX files (:func:`export_nix`,
:func:`read_nix`). Spike trains of a Brian2 :class:`~brian2.monitors.spikemonitor.SpikeMonitor`
convert the same way (:func:`spiketrains_from_monitor`).
"""
import os
import tempfile

import numpy as np
import quantities as pq

from ei_brian.analysis.run_config import read_run_config, run_parameters
from ei_brian.analysis.vanrossum import _is_time_quantity
from ei_brian.io import PROBE_SPIKES_FILES, RunFolderError, load_probe_spikes

__all__ = ["POPULATIONS", "SNAPSHOTS", "ProbeSpikeTrains", "spiketrains_from_probe_file",
           "load_run_spiketrains", "spiketrains_from_monitor", "export_nix", "read_nix"]

POPULATIONS = ("E", "I")
SNAPSHOTS = ("initial", "final")


def _as_seconds(value, name):
    """A time given as a Brian2 or quantities quantity, or a number of seconds, in seconds."""
    if value is None:
        return None
    if isinstance(value, pq.Quantity):
        if not _is_time_quantity(value):
            raise TypeError(f"{name} must be a time, not {value!r}")
        return float(value.rescale(pq.s).magnitude)
    try:
        # Brian2 (0.9 s) only for a Brian2 quantity (results are read without it)
        from brian2 import Quantity as BrianQuantity, second
    except ImportError:  # pragma: no cover - brian2 is a dependency
        BrianQuantity = None
    if BrianQuantity is not None and isinstance(value, BrianQuantity):
        if not value.has_same_dimensions(second):
            raise TypeError(f"{name} must be a time, not {value!r}")
        return float(value / second)
    return float(value)


def _population_of(neuron, n_exc):
    return "E" if neuron < n_exc else "I"


def _check_choice(value, allowed, name):
    for item in np.atleast_1d(np.asarray(value, dtype=object)):
        if item not in allowed:
            raise ValueError(f"unknown {name} {item!r}; use one of {list(allowed)}")


class ProbeSpikeTrains:
    """Probe spike trains of one run (one or both snapshots) as Neo spike trains, easy to select from.

    Each :class:`neo.core.SpikeTrain` holds one hidden neuron's spikes for one probe sample and
    snapshot, in seconds, with ``t_start = 0`` and ``t_stop`` the sample duration, and the
    annotations ``population`` (``"E"`` or ``"I"``), ``neuron`` (index in the hidden layer),
    ``neuron_in_population``, ``sample`` (probe position), ``sample_index`` (index in the test set),
    ``label`` (class), ``snapshot`` (``"initial"`` or ``"final"``) and ``epoch``.

    Parameters
    ----------
    spiketrains : list of neo.SpikeTrain
        The trains, annotated as above, one per snapshot, sample and neuron.
    n_exc, n_inh : int
        Sizes of the E and I populations; hidden neurons ``0 .. n_exc-1`` are E.
    snapshot_info : dict
        For each snapshot present, a dict with ``epoch``, ``t_stop`` (s), ``dt`` (s),
        ``sample_indices``, ``sample_labels`` and ``path`` (the file read, or None).
    source : str, optional
        The run folder or file the trains come from.
    missing : tuple of str
        Snapshots whose spike file was missing.

    Attributes
    ----------
    spiketrains : list of neo.SpikeTrain
        All trains, ordered by snapshot, sample and neuron.
    snapshots : tuple of str
        The snapshots present, ``initial`` before ``final``.
    """

    def __init__(self, spiketrains, n_exc, n_inh, snapshot_info, source=None, missing=()):
        self.spiketrains = list(spiketrains)
        self.n_exc = int(n_exc)
        self.n_inh = int(n_inh)
        self.snapshot_info = dict(snapshot_info)
        self.source = source
        self.missing = tuple(missing)
        self.snapshots = tuple(s for s in SNAPSHOTS if s in self.snapshot_info) + tuple(
            s for s in self.snapshot_info if s not in SNAPSHOTS)
        annotations = [train.annotations for train in self.spiketrains]
        self._population = np.array([a["population"] for a in annotations], dtype=object)
        self._neuron = np.array([a["neuron"] for a in annotations], dtype=np.int64)
        self._sample = np.array([a["sample"] for a in annotations], dtype=np.int64)
        self._snapshot = np.array([a["snapshot"] for a in annotations], dtype=object)
        self._grid = {}
        for position, (snapshot, sample, neuron) in enumerate(zip(self._snapshot, self._sample,
                                                                  self._neuron)):
            grid = self._grid.setdefault(snapshot, {})
            grid[(int(sample), int(neuron))] = self.spiketrains[position]

    @property
    def n_neurons(self):
        """Number of hidden neurons, ``n_exc + n_inh``."""
        return self.n_exc + self.n_inh

    def n_samples(self, snapshot):
        """Number of probe samples of a snapshot."""
        return len(self.snapshot_info[snapshot]["sample_indices"])

    def neurons(self, population):
        """Hidden-layer indices of the neurons of a population (``"E"`` or ``"I"``)."""
        _check_choice(population, POPULATIONS, "population")
        if population == "E":
            return np.arange(self.n_exc)
        return np.arange(self.n_exc, self.n_neurons)

    def select(self, population=None, neuron=None, sample=None, snapshot=None):
        """The spike trains that match every criterion given.

        Parameters
        ----------
        population : str or sequence of str, optional
            ``"E"`` and/or ``"I"``.
        neuron : int or sequence of int, optional
            Index or indices in the hidden layer (E neurons first).
        sample : int or sequence of int, optional
            Probe position(s).
        snapshot : str or sequence of str, optional
            ``"initial"`` and/or ``"final"``.

        Returns
        -------
        list of neo.SpikeTrain
            Ordered by snapshot, sample and neuron; all trains when no criterion is given.
        """
        mask = np.ones(len(self.spiketrains), dtype=bool)
        if population is not None:
            _check_choice(population, POPULATIONS, "population")
            mask &= np.isin(self._population, np.atleast_1d(np.asarray(population, dtype=object)))
        if snapshot is not None:
            _check_choice(snapshot, SNAPSHOTS, "snapshot")
            mask &= np.isin(self._snapshot, np.atleast_1d(np.asarray(snapshot, dtype=object)))
        if neuron is not None:
            mask &= np.isin(self._neuron, np.atleast_1d(neuron))
        if sample is not None:
            mask &= np.isin(self._sample, np.atleast_1d(sample))
        return [self.spiketrains[i] for i in np.flatnonzero(mask)]

    def train(self, snapshot, sample, neuron):
        """The one spike train of a snapshot, probe sample and hidden neuron."""
        return self._grid[snapshot][(int(sample), int(neuron))]

    def to_block(self, name=None, samples=None, **annotations):
        """The trains as a :class:`neo.core.Block`, ready for NIX export.

        One :class:`neo.core.Segment` per snapshot and probe sample (annotated with ``snapshot``,
        ``epoch``, ``sample``, ``sample_index``, ``label`` and ``dt``) holds the trains of every
        neuron; one :class:`neo.core.Group` per hidden neuron (annotated with ``population``,
        ``neuron`` and ``neuron_in_population``) holds that neuron's trains across segments. The
        block shares its spike trains with this object.

        Parameters
        ----------
        name : str, optional
            Block name; the base name of :attr:`source` if not given.
        samples : sequence of int, optional
            Probe positions to include; all if not given.
        **annotations
            Extra block annotations (for example the run's parameters); strings, numbers or bools.
            ``n_exc``, ``n_inh`` and ``snapshots`` always come from this object.

        Returns
        -------
        neo.Block
        """
        import neo  # Neo (0.2 s) only when a Neo object is built

        if name is None:
            name = os.path.basename(os.path.normpath(self.source)) if self.source else "probe spikes"
        annotations = {**annotations, "n_exc": self.n_exc, "n_inh": self.n_inh,
                       "snapshots": ",".join(self.snapshots)}
        block = neo.Block(name=name, **annotations)
        groups = {}
        for neuron in range(self.n_neurons):
            population = _population_of(neuron, self.n_exc)
            groups[neuron] = neo.Group(
                name=f"{population}{neuron - (0 if population == 'E' else self.n_exc)}",
                allowed_types=[neo.SpikeTrain], population=population, neuron=neuron,
                neuron_in_population=neuron - (0 if population == "E" else self.n_exc))
        for snapshot in self.snapshots:
            info = self.snapshot_info[snapshot]
            positions = range(self.n_samples(snapshot)) if samples is None else samples
            for sample in positions:
                sample = int(sample)
                segment = neo.Segment(
                    name=f"{snapshot} sample {sample}", snapshot=snapshot, epoch=int(info["epoch"]),
                    sample=sample, sample_index=int(info["sample_indices"][sample]),
                    label=int(info["sample_labels"][sample]), dt=float(info["dt"]))
                for neuron in range(self.n_neurons):
                    train = self.train(snapshot, sample, neuron)
                    segment.spiketrains.append(train)
                    groups[neuron].add(train)
                block.segments.append(segment)
        block.groups.extend(groups.values())
        return block

    def __repr__(self):
        samples = ", ".join(f"{s}: {self.n_samples(s)} samples" for s in self.snapshots)
        return (f"<ProbeSpikeTrains {self.source or ''} n_exc={self.n_exc} n_inh={self.n_inh} "
                f"({samples}); {len(self.spiketrains)} trains>")


def _probe_spiketrains(data, path):
    """Neo spike trains and snapshot info from the dict of :func:`ei_brian.io.load_probe_spikes`."""
    import neo  # Neo (0.2 s) only when a Neo object is built

    n_exc, n_inh = data["n_exc"], data["n_inh"]
    n_neurons = n_exc + n_inh
    n_samples = len(data["sample_indices"])
    snapshot, epoch, t_stop, dt = data["snapshot"], data["epoch"], data["t_stop"], data["dt"]
    times = np.asarray(data["times"], dtype=np.float64)
    keys = np.asarray(data["samples"], dtype=np.int64) * n_neurons + np.asarray(data["neurons"],
                                                                               dtype=np.int64)
    order = np.lexsort((times, keys))
    times, keys = times[order], keys[order]
    bounds = np.searchsorted(keys, np.arange(n_samples * n_neurons + 1))
    # quantities built once: building them per train doubles the cost of a SpikeTrain
    sampling_rate = (1.0 / dt) * pq.Hz if dt > 0 else 1.0 * pq.Hz
    t_start_quantity, t_stop_quantity = 0.0 * pq.s, t_stop * pq.s
    trains = []
    for sample in range(n_samples):
        sample_index = int(data["sample_indices"][sample])
        label = int(data["sample_labels"][sample])
        for neuron in range(n_neurons):
            key = sample * n_neurons + neuron
            population = _population_of(neuron, n_exc)
            in_population = neuron if population == "E" else neuron - n_exc
            trains.append(neo.SpikeTrain(
                times[bounds[key]:bounds[key + 1]], units=pq.s, t_start=t_start_quantity,
                t_stop=t_stop_quantity, sampling_rate=sampling_rate,
                name=f"{snapshot} sample {sample} {population}{in_population}",
                population=population, neuron=neuron, neuron_in_population=in_population,
                sample=sample, sample_index=sample_index, label=label, snapshot=snapshot,
                epoch=int(epoch)))
    info = {"epoch": int(epoch), "t_stop": float(t_stop), "dt": float(dt),
            "sample_indices": np.asarray(data["sample_indices"]),
            "sample_labels": np.asarray(data["sample_labels"]), "path": path}
    return trains, info


def _load_probe_file(path):
    """:func:`ei_brian.io.load_probe_spikes` with missing entries reported as RunFolderError."""
    try:
        return load_probe_spikes(path)
    except RunFolderError:
        raise
    except (KeyError, ValueError, TypeError, IndexError) as error:
        raise RunFolderError(
            f"probe spike-train file {os.fspath(path)!r} is incomplete or malformed "
            f"({error.__class__.__name__}: {error}); it was not written by "
            "ei_brian.io.save_probe_spikes") from error


def spiketrains_from_probe_file(path):
    """Read one probe spike-train file (``spikes_initial.npz`` or ``spikes_final.npz``) as Neo trains.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    ProbeSpikeTrains
        One snapshot's trains, one per probe sample and hidden neuron.

    Raises
    ------
    ei_brian.io.RunFolderError
        If the file is missing, corrupt, of another format version or inconsistent.
    """
    path = os.fspath(path)
    data = _load_probe_file(path)
    trains, info = _probe_spiketrains(data, path)
    return ProbeSpikeTrains(trains, data["n_exc"], data["n_inh"], {data["snapshot"]: info},
                            source=path)


def load_run_spiketrains(run_dir):
    """Read the probe spike trains of a run folder (both snapshots where present) as Neo trains.

    Parameters
    ----------
    run_dir : str or os.PathLike
        A folder written by ``ei-brian train``.

    Returns
    -------
    ProbeSpikeTrains
        The trains of ``spikes_initial.npz`` and ``spikes_final.npz``. A missing file (training
        interrupted) is listed in :attr:`ProbeSpikeTrains.missing`; the other is still read.

    Raises
    ------
    ei_brian.io.RunFolderError
        If the folder does not exist or has no spike file, if a spike file is corrupt or of another
        format version, or if the two files disagree on the population sizes.
    """
    run_dir = os.fspath(run_dir)
    if not os.path.isdir(run_dir):
        raise RunFolderError(f"run folder {run_dir!r} does not exist or is not a folder")
    trains, infos, missing, sizes = [], {}, [], {}
    for snapshot, filename in PROBE_SPIKES_FILES.items():
        path = os.path.join(run_dir, filename)
        if not os.path.exists(path):
            missing.append(snapshot)
            continue
        data = _load_probe_file(path)
        if data["snapshot"] != snapshot:
            raise RunFolderError(f"{path!r} holds the {data['snapshot']!r} snapshot, not {snapshot!r}")
        snapshot_trains, infos[snapshot] = _probe_spiketrains(data, path)
        trains.extend(snapshot_trains)
        sizes[snapshot] = (data["n_exc"], data["n_inh"])
    if not infos:
        names = ", ".join(PROBE_SPIKES_FILES.values())
        raise RunFolderError(f"run folder {run_dir!r} has no probe spike-train file ({names}); "
                             "is it a folder written by 'ei-brian train'?")
    if len(set(sizes.values())) > 1:
        raise RunFolderError(f"run folder {run_dir!r}: the spike files disagree on the population sizes "
                             f"(n_exc, n_inh): {sizes}")
    n_exc, n_inh = next(iter(sizes.values()))
    return ProbeSpikeTrains(trains, n_exc, n_inh, infos, source=run_dir, missing=missing)


def spiketrains_from_monitor(spike_monitor, t_start=None, t_stop=None, population=None):
    """Convert the spikes of a Brian2 ``SpikeMonitor`` into Neo spike trains, one per neuron.

    Parameters
    ----------
    spike_monitor : brian2.SpikeMonitor
        A monitor after a run (runtime device, or standalone after the run).
    t_start, t_stop : brian2 or quantities time, or float in seconds, optional
        Window of the trains; spikes outside ``[t_start, t_stop]`` are left out. Default: from 0 to
        the monitor's clock time at the end of the run.
    population : str, optional
        Value of the ``population`` annotation (for example ``"E"`` or ``"I"``).

    Returns
    -------
    list of neo.SpikeTrain
        One train per neuron of the monitored group, in seconds, annotated with ``neuron`` (and
        ``neuron_in_population``, the same index), ``population`` and ``source`` (the group's name).
    """
    import neo  # Neo (0.2 s) and Brian2 (0.9 s) only for a live monitor
    from brian2 import second

    t_start_s = _as_seconds(t_start, "t_start")
    t_stop_s = _as_seconds(t_stop, "t_stop")
    if t_start_s is None:
        t_start_s = 0.0
    if t_stop_s is None:
        t_stop_s = float(spike_monitor.clock.t / second)
    if t_stop_s < t_start_s:
        raise ValueError(f"t_stop ({t_stop_s} s) lies before t_start ({t_start_s} s)")
    source = spike_monitor.source
    n_neurons = len(source)
    indices = np.asarray(spike_monitor.i[:], dtype=np.int64)
    times = np.asarray(spike_monitor.t[:] / second, dtype=np.float64)
    keep = (times >= t_start_s) & (times <= t_stop_s)
    indices, times = indices[keep], times[keep]
    order = np.lexsort((times, indices))
    indices, times = indices[order], times[order]
    bounds = np.searchsorted(indices, np.arange(n_neurons + 1))
    dt = float(spike_monitor.clock.dt / second)
    annotations = {"source": str(source.name)}
    if population is not None:
        annotations["population"] = str(population)
    return [neo.SpikeTrain(times[bounds[k]:bounds[k + 1]], units=pq.s, t_start=t_start_s * pq.s,
                           t_stop=t_stop_s * pq.s, sampling_rate=(1.0 / dt) * pq.Hz,
                           name=f"{source.name}[{k}]", neuron=k, neuron_in_population=k,
                           **annotations)
            for k in range(n_neurons)]


def export_nix(source, path, samples=None):
    """Write probe spike trains to a NIX file with :class:`neo.io.NixIO` (overwriting it).

    Parameters
    ----------
    source : str, os.PathLike, ProbeSpikeTrains or neo.Block
        A run folder (its spike trains, with the run's grouping parameters as block annotations),
        probe spike trains (:meth:`ProbeSpikeTrains.to_block`) or a block.
    path : str or os.PathLike
        The NIX file; written to a temporary name first and moved into place.
    samples : sequence of int, optional
        Probe positions to export (not for a block); all if not given.

    Returns
    -------
    str
        ``path``.

    Notes
    -----
    Neo's NIX writer stores every spike train as its own data array with its annotations: about
    40 ms and 40 kB per train (neo 0.14, nixio 1.5). A whole run of 160 neurons, 20 probe samples
    and two snapshots (6,400 trains) takes minutes and some 250 MB; export a few ``samples`` where
    that is enough.
    """
    import neo  # Neo (0.2 s) only when NIX is written

    if isinstance(source, neo.Block):
        if samples is not None:
            raise ValueError("samples selects probe samples of a run or ProbeSpikeTrains, not of a block")
        block = source
    elif isinstance(source, ProbeSpikeTrains):
        block = source.to_block(samples=samples)
    else:
        run_dir = os.fspath(source)
        probe = load_run_spiketrains(run_dir)
        parameters = run_parameters(read_run_config(run_dir)[0])
        block = probe.to_block(samples=samples,
                               **{key: value for key, value in parameters.items() if value is not None})
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".nix", dir=folder)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; give it the usual mode
    try:
        with neo.NixIO(tmp, mode="ow") as nix_file:
            nix_file.write_block(block)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def read_nix(path):
    """Read the block of a NIX file written by :func:`export_nix`.

    Parameters
    ----------
    path : str or os.PathLike
        The NIX file.

    Returns
    -------
    neo.Block
        The block, with its segments, groups and spike trains and their annotations.
    """
    import neo  # Neo (0.2 s) only when NIX is read

    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"NIX file {path!r} does not exist")
    with neo.NixIO(path, mode="ro") as nix_file:
        return nix_file.read_block()
