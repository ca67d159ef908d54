"""Spike-train analysis of saved runs through Neo and Elephant.

The probe spike trains that ``ei-brian train`` saves (see :mod:`ei_brian.io`) become Neo
:class:`~neo.core.SpikeTrain` objects (:class:`ProbeSpikeTrains`, :func:`load_run_spiketrains`), which
can be written to and read from NIX files (:func:`export_nix`, :func:`read_nix`). Spike trains of a
Brian2 :class:`~brian2.monitors.spikemonitor.SpikeMonitor` convert the same way
(:func:`spiketrains_from_monitor`).

Measures (:func:`compute_measures`), per snapshot (``initial``, ``final``) and population (``E``, ``I``):

==================================  ==================================================================
measure                             definition
==================================  ==================================================================
``rate_*_hz``                       per-neuron firing rate: spikes in all probe samples divided by
                                    ``n_samples * (t_stop - t_start)``, i.e. the neuron's
                                    :func:`elephant.statistics.mean_firing_rate` averaged over samples;
                                    mean, standard deviation, minimum, quartiles and maximum over neurons
``silent_fraction``                 fraction of neurons without a spike in any probe sample
``cv_isi``                          :func:`elephant.statistics.cv` of :func:`elephant.statistics.isi` of
                                    each train (one neuron, one sample) with at least two intervals,
                                    averaged over those trains (``cv_isi_n_trains`` of them); NaN if none
``fano_factor``                     :func:`elephant.statistics.fanofactor` of one neuron's spike counts
                                    across the probe samples (variance / mean, population variance),
                                    averaged over the ``fano_factor_n_neurons`` neurons with at least one
                                    spike; the samples are different inputs, so this measures how much
                                    a neuron's spike count varies from input to input, not trial-to-trial
                                    noise. NaN with fewer than two samples.
``van_rossum_within_population``    (a) for one probe sample, the mean Van Rossum distance over all pairs
                                    of neurons of the population; averaged over samples. How diverse
                                    the population's spiking is.
``van_rossum_between_samples``      (b) for one neuron, the mean Van Rossum distance over all pairs of
                                    probe samples; averaged over the population's neurons (silent ones
                                    included, at distance 0). How well a neuron tells inputs apart.
==================================  ==================================================================

Van Rossum distances use Elephant's normalisation (a single spike against an empty train is at
distance 1; divide by ``sqrt(2)`` for the normalisation of van Rossum 2001), computed by
:func:`van_rossum_distance`, an exact and much faster equivalent of
:func:`elephant.spike_train_dissimilarity.van_rossum_distance`. Populations without neurons (the I
population of a 100:0 or unbounded network) are left out.

``ei-brian analyze RUN_DIR ...`` (:func:`add_analyze_arguments`, :func:`run_analyze_command`) writes
``analysis.csv`` (the measures as a tidy table) and ``analysis_neurons.csv`` (per-neuron rate, CV,
Fano factor and distance (b)) into each run folder, optionally with figures, and changes nothing else.
"""
import dataclasses
import glob
import json
import math
import os
import sys

import numpy as np
import quantities as pq

from ei_brian.io import (PROBE_SPIKES_FILES, RunFolderError, atomic_write_bytes, atomic_write_text,
                         load_probe_spikes)

__all__ = [
    "POPULATIONS", "SNAPSHOTS", "ProbeSpikeTrains", "Measures", "RunAnalysis",
    "van_rossum_distance", "spiketrains_from_probe_file", "load_run_spiketrains",
    "spiketrains_from_monitor", "export_nix", "read_nix", "compute_measures", "read_run_config",
    "run_parameters", "analyze_run", "save_run_analysis", "format_summary", "expand_run_arguments",
    "add_analyze_arguments", "run_analyze_command",
]

POPULATIONS = ("E", "I")
SNAPSHOTS = ("initial", "final")

#: Leaf names of config.json values copied into the analysis tables as grouping columns, besides any
#: value whose key path mentions ``init`` or ``noise``.
GROUPING_KEYS = ("label", "ratio", "unbounded", "dataset", "seed", "n_hidden", "n_exc", "n_inh",
                 "encoding", "optimizer", "epochs")

#: Order of the measures in the tables.
MEASURE_NAMES = (
    "n_neurons", "n_samples", "rate_mean_hz", "rate_std_hz", "rate_min_hz", "rate_q25_hz",
    "rate_median_hz", "rate_q75_hz", "rate_max_hz", "silent_fraction", "cv_isi", "cv_isi_n_trains",
    "fano_factor", "fano_factor_n_neurons", "van_rossum_within_population",
    "van_rossum_between_samples",
)

ANALYSIS_FILE = "analysis.csv"
NEURONS_FILE = "analysis_neurons.csv"
PLOT_FILES = {"raster": "analysis_raster.png", "rates": "analysis_rates.png",
              "van_rossum": "analysis_van_rossum.png"}


# ---------------------------------------------------------------------------------------------------
# Van Rossum distance
# ---------------------------------------------------------------------------------------------------

def _is_time_quantity(value):
    return (isinstance(value, pq.Quantity)
            and value.dimensionality.simplified == pq.Quantity(1, "s").dimensionality.simplified)


def _units_key(quantity):
    """A hashable key of a quantity's units (``dimensionality.string`` is much slower)."""
    return tuple((unit.name, power) for unit, power in quantity.dimensionality.items())


_SECONDS_PER_UNIT = {}  # units key -> seconds per unit
_IS_TIME_UNIT = {}  # units key -> whether the units are a time
_TIME_RATIO_FACTORS = {}  # (units key, units key) -> conversion factor of their ratio


def _is_time_unit(key, quantity):
    """Whether ``quantity`` (whose units have the key ``key``) is a time; cached by units."""
    if key not in _IS_TIME_UNIT:
        _IS_TIME_UNIT[key] = _is_time_quantity(quantity)
    return _IS_TIME_UNIT[key]


def _seconds(quantity):
    """A scalar time quantity in seconds, as a float (much faster than ``rescale`` per call)."""
    key = _units_key(quantity)
    if key not in _SECONDS_PER_UNIT:
        _SECONDS_PER_UNIT[key] = float(pq.Quantity(1.0, quantity.dimensionality).rescale(pq.s).magnitude)
    return float(quantity.magnitude) * _SECONDS_PER_UNIT[key]


def _block_size(n_trains, n_spikes):
    """Spikes per block of :func:`_kernel_sums`, from a rough cost model.

    Cross-block sums cost about ``n_trains * n_blocks**2 + n_trains**2 * n_blocks`` multiply-adds
    (matrix products); within-block sums cost ``n_spikes * block_size`` kernel evaluations and
    scatter-adds, each worth a few hundred multiply-adds.
    """
    best, best_cost = 1, math.inf
    for block_size in (2 ** k for k in range(3, 14)):
        block_size = min(block_size, n_spikes)
        n_blocks = -(-n_spikes // block_size)
        cost = (n_trains * n_blocks ** 2 + n_trains ** 2 * n_blocks + 600.0 * n_spikes * block_size)
        if cost < best_cost:
            best, best_cost = block_size, cost
        if block_size == n_spikes:
            break
    return best


def _kernel_sums(values, block_size=None):
    """All-pairs sums ``K[i, j] = sum over spikes a of train i, b of train j of exp(-|a - b|)``.

    Parameters
    ----------
    values : list of numpy.ndarray
        Spike times of each train divided by the time constant (any order).
    block_size : int, optional
        Spikes per block; chosen by :func:`_block_size` if not given.

    Returns
    -------
    numpy.ndarray
        ``(n, n)`` array of sums.

    Notes
    -----
    All spikes are sorted together and cut into blocks of ``block_size`` consecutive spikes. For a
    spike ``a`` in block ``p`` and ``b`` in an earlier block ``q``, ``a >= b`` and
    ``exp(-(a - b)) = exp(first_p - a) * exp(last_q - first_p) * exp(b - last_q)``, where ``first_p``
    is the first spike of block ``p`` and ``last_q`` the last of block ``q``. Every factor is at
    most 1 (no overflow, whatever the times), and the sums over such pairs are the matrix product
    ``F @ M @ G.T`` of per-train, per-block sums ``F``, ``G`` and the strictly lower triangular
    ``M``. Pairs in the same block are summed directly. The sum of each term is exact up to rounding.
    """
    n_trains = len(values)
    sums = np.zeros((n_trains, n_trains))
    sizes = np.array([len(v) for v in values], dtype=np.int64)
    n_spikes = int(sizes.sum())
    if n_spikes == 0:
        return sums
    times = np.concatenate(values).astype(np.float64, copy=False)
    owner = np.repeat(np.arange(n_trains, dtype=np.int64), sizes)
    order = np.argsort(times, kind="stable")
    times, owner = times[order], owner[order]

    block_size = min(int(block_size or _block_size(n_trains, n_spikes)), n_spikes)
    n_blocks = -(-n_spikes // block_size)
    n_pad = n_blocks * block_size - n_spikes
    # Padding spikes repeat the last time and belong to an extra train ``n_trains`` that is dropped.
    times_blocked = np.concatenate([times, np.full(n_pad, times[-1])]).reshape(n_blocks, block_size)
    owner_blocked = np.concatenate([owner, np.full(n_pad, n_trains, dtype=np.int64)]).reshape(
        n_blocks, block_size)
    first = times_blocked[:, 0]
    last = times[np.minimum(np.arange(1, n_blocks + 1) * block_size, n_spikes) - 1]

    # cross-block pairs
    block_of = np.broadcast_to(np.arange(n_blocks)[:, None], (n_blocks, block_size))
    index = (owner_blocked * n_blocks + block_of).ravel()
    n_cells = (n_trains + 1) * n_blocks
    later = np.bincount(index, weights=np.exp(first[:, None] - times_blocked).ravel(),
                        minlength=n_cells)[:n_trains * n_blocks].reshape(n_trains, n_blocks)
    earlier = np.bincount(index, weights=np.exp(times_blocked - last[:, None]).ravel(),
                          minlength=n_cells)[:n_trains * n_blocks].reshape(n_trains, n_blocks)
    between = np.tril(np.exp(np.minimum(last[None, :] - first[:, None], 0.0)), -1)
    cross = (later @ between) @ earlier.T
    sums += cross
    sums += cross.T

    # pairs within a block, a few blocks (about 4 million pairs) at a time
    n_all = n_trains + 1
    per_chunk = max(1, (1 << 22) // (block_size * block_size))
    within = np.zeros(n_all * n_all)
    for start in range(0, n_blocks, per_chunk):
        chunk_times = times_blocked[start:start + per_chunk]
        chunk_owner = owner_blocked[start:start + per_chunk]
        kernel = np.exp(-np.abs(chunk_times[:, :, None] - chunk_times[:, None, :]))
        pairs = (chunk_owner[:, :, None] * n_all + chunk_owner[:, None, :]).ravel()
        if within.size <= pairs.size:  # bincount is faster but allocates n_all**2 per chunk
            within += np.bincount(pairs, weights=kernel.ravel(), minlength=within.size)
        else:
            np.add.at(within, pairs, kernel.ravel())
    sums += within.reshape(n_all, n_all)[:n_trains, :n_trains]
    return sums


def van_rossum_distance(spiketrains, time_constant=1.0 * pq.s, sort=True):
    """Van Rossum distances between all pairs of spike trains, as Elephant computes them, but faster.

    Same arguments and result as :func:`elephant.spike_train_dissimilarity.van_rossum_distance`
    (Elephant 1.2): the distance is the Euclidean distance between the trains convolved with a
    causal exponential kernel ``exp(-t / time_constant)``, normalised so that a single spike is at
    distance 1 from an empty train (divide by ``sqrt(2)`` for the normalisation of van Rossum 2001):

    ``D[i, j] = sqrt(K[i, i] + K[j, j] - 2 K[i, j])``,
    ``K[i, j] = sum over spikes a of train i, b of train j of exp(-|a - b| / time_constant)``.

    All pairs are computed exactly, with vectorised sums (see :func:`_kernel_sums`) instead of
    Elephant's loop over pairs: some hundred times faster for a thousand trains. Results agree with
    Elephant to rounding (relative 1e-9 or better); squared distances that rounding makes slightly
    negative are set to 0, as Elephant does (without its warning).

    Parameters
    ----------
    spiketrains : sequence of neo.SpikeTrain or quantities.Quantity
        Spike trains; each must carry a time unit. Units may differ between trains.
    time_constant : quantities.Quantity
        Time constant of the exponential kernel. ``0`` gives ``sqrt(n_i + n_j)`` and ``inf`` gives
        ``|n_i - n_j|`` (spike counts ``n``), both as in Elephant.
    sort : bool
        Accepted for compatibility with Elephant, where ``False`` promises sorted trains. Here all
        spikes are sorted together in any case, so the result is correct either way.

    Returns
    -------
    numpy.ndarray
        ``(n, n)`` array of distances (dimensionless), zero on the diagonal.

    Raises
    ------
    TypeError
        If a spike train or the time constant lacks a time unit.
    ValueError
        If the time constant is negative or NaN.
    """
    del sort  # every spike is sorted in _kernel_sums
    spiketrains = list(spiketrains)
    keys = []
    for train in spiketrains:
        if not isinstance(train, pq.Quantity):
            raise TypeError("Spike trains must have a time unit.")
        keys.append(_units_key(train))
        if not _is_time_unit(keys[-1], train):
            raise TypeError("Spike trains must have a time unit.")
    if not (isinstance(time_constant, pq.Quantity)
            and _is_time_unit(_units_key(time_constant), time_constant)):
        raise TypeError("tau must be a time quantity.")
    tau_magnitude = float(np.asarray(time_constant.magnitude).ravel()[0])
    if not tau_magnitude >= 0:
        raise ValueError(f"the time constant must be >= 0, not {time_constant}")
    if tau_magnitude == 0 or math.isinf(tau_magnitude):
        counts = np.array([np.size(train) for train in spiketrains], dtype=np.float64)
        if tau_magnitude == 0:
            return np.sqrt(counts[:, None] + counts[None, :])
        return np.abs(counts[:, None] - counts[None, :])

    # times / time_constant, rounded as Elephant rounds them: (t / tau) times the unit conversion
    tau_key = _units_key(time_constant)
    values = []
    for train, key in zip(spiketrains, keys):
        if (key, tau_key) not in _TIME_RATIO_FACTORS:
            ratio = (pq.Quantity(1.0, train.dimensionality)
                     / pq.Quantity(1.0, time_constant.dimensionality) * pq.dimensionless).simplified
            _TIME_RATIO_FACTORS[(key, tau_key)] = np.asarray(ratio.magnitude, dtype=np.float64)
        magnitude = np.asarray(train.magnitude, dtype=np.float64).ravel()
        values.append(_TIME_RATIO_FACTORS[(key, tau_key)] * (magnitude / tau_magnitude))

    sums = _kernel_sums(values)
    diagonal = np.diag(sums).copy()
    squared = diagonal[:, None] + diagonal[None, :]  # both sums are commutative: exactly symmetric
    cross = sums + sums.T
    squared -= cross
    np.maximum(squared, 0.0, out=squared)
    return np.sqrt(squared, out=squared)


# ---------------------------------------------------------------------------------------------------
# Neo spike trains
# ---------------------------------------------------------------------------------------------------

def _as_seconds(value, name):
    """A time given as a Brian2 or quantities quantity, or a number of seconds, in seconds."""
    if value is None:
        return None
    if isinstance(value, pq.Quantity):
        if not _is_time_quantity(value):
            raise TypeError(f"{name} must be a time, not {value!r}")
        return float(value.rescale(pq.s).magnitude)
    try:
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
        import neo

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
    import neo

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
    import neo
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
    import neo
    import tempfile

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
    import neo

    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"NIX file {path!r} does not exist")
    with neo.NixIO(path, mode="ro") as nix_file:
        return nix_file.read_block()


# ---------------------------------------------------------------------------------------------------
# Measures
# ---------------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Measures:
    """Spike-train measures of one run, from :func:`compute_measures`.

    Attributes
    ----------
    summary : pandas.DataFrame
        Tidy table with columns ``snapshot``, ``epoch``, ``population``, ``measure``, ``value``
        (measures of the module docstring, in :data:`MEASURE_NAMES` order).
    neurons : pandas.DataFrame
        One row per snapshot and neuron: ``snapshot``, ``epoch``, ``population``, ``neuron``,
        ``neuron_in_population``, ``rate_hz``, ``silent``, ``cv_isi`` (mean over the neuron's trains
        with at least two intervals), ``fano_factor`` and ``van_rossum_between_samples``.
    within_population_distances : dict
        ``(snapshot, population)`` -> array of every pairwise distance between the population's
        neurons, all probe samples together (measure (a) before averaging).
    time_constant : quantities.Quantity
        Time constant of the Van Rossum distances.
    """

    summary: object
    neurons: object
    within_population_distances: dict
    time_constant: object


def _cv_isi(times):
    """``elephant.statistics.cv(elephant.statistics.isi(times))`` for sorted times, in numpy.

    Elephant's ``cv`` is :func:`scipy.stats.variation` (standard deviation with ``ddof=0`` over the
    mean), which costs about a millisecond per call; the tests check that the two agree.
    """
    intervals = np.diff(times)
    return float(np.std(intervals) / np.mean(intervals))


def _upper_mean(matrix):
    n = matrix.shape[0]
    if n < 2:
        return math.nan, np.empty(0)
    values = matrix[np.triu_indices(n, 1)]
    return float(values.mean()), values


def compute_measures(probe, time_constant=10.0 * pq.ms):
    """Firing rates, silent fraction, CV of ISIs, Fano factor and Van Rossum distances.

    Definitions are in the module docstring. Elephant computes the Fano factor
    (:func:`elephant.statistics.fanofactor`). For speed, three are computed here and tested to agree
    with Elephant: rates are spike counts over the duration (what
    :func:`elephant.statistics.mean_firing_rate` returns), the CV is the standard deviation over the
    mean of the intervals (:func:`elephant.statistics.cv` of :func:`elephant.statistics.isi`), and
    distances come from :func:`van_rossum_distance`.

    Parameters
    ----------
    probe : ProbeSpikeTrains
        The run's probe spike trains.
    time_constant : quantities.Quantity
        Time constant of the Van Rossum distance.

    Returns
    -------
    Measures
    """
    import pandas as pd
    from elephant.statistics import fanofactor

    if not _is_time_quantity(time_constant):
        raise TypeError(f"time_constant must be a time quantity such as 10 * pq.ms, not {time_constant!r}")
    summary_rows, neuron_rows, within_distances = [], [], {}
    for snapshot in probe.snapshots:
        info = probe.snapshot_info[snapshot]
        n_samples = probe.n_samples(snapshot)
        epoch = info["epoch"]
        for population in POPULATIONS:
            neurons = probe.neurons(population)
            if len(neurons) == 0:
                continue
            trains = [[probe.train(snapshot, sample, neuron) for neuron in neurons]
                      for sample in range(n_samples)]
            counts = np.array([[train.size for train in row] for row in trains], dtype=np.float64)
            counts = counts.reshape(n_samples, len(neurons))
            durations = np.array([[_seconds(train.t_stop) - _seconds(train.t_start) for train in row]
                                  for row in trains]).reshape(counts.shape)
            rates = (counts / durations).mean(axis=0) if n_samples else np.full(len(neurons), np.nan)
            silent = counts.sum(axis=0) == 0

            train_cvs = np.full(counts.shape, np.nan)
            for sample in range(n_samples):
                for k in range(len(neurons)):
                    if counts[sample, k] >= 3:
                        train_cvs[sample, k] = _cv_isi(trains[sample][k].magnitude)
            n_cv = int(np.isfinite(train_cvs).sum())
            neuron_cvs = np.array([np.mean(column[np.isfinite(column)]) if np.isfinite(column).any()
                                   else np.nan for column in train_cvs.T])

            fanos = np.full(len(neurons), np.nan)
            if n_samples >= 2:
                for k in range(len(neurons)):
                    if counts[:, k].sum() > 0:
                        # plain arrays: Elephant's check that the durations agree is slow, and
                        # the trains of one snapshot share t_start and t_stop
                        fanos[k] = fanofactor([trains[sample][k].magnitude
                                               for sample in range(n_samples)])
            n_fano = int(np.isfinite(fanos).sum())

            sample_means, pair_values = [], []
            for sample in range(n_samples):
                mean, values = _upper_mean(van_rossum_distance(trains[sample], time_constant))
                sample_means.append(mean)
                pair_values.append(values)
            within_distances[(snapshot, population)] = (np.concatenate(pair_values) if pair_values
                                                        else np.empty(0))
            between = np.array([_upper_mean(van_rossum_distance(
                [trains[sample][k] for sample in range(n_samples)], time_constant))[0]
                for k in range(len(neurons))])

            values = {
                "n_neurons": len(neurons),
                "n_samples": n_samples,
                "rate_mean_hz": np.mean(rates),
                "rate_std_hz": np.std(rates),
                "rate_min_hz": np.min(rates),
                "rate_q25_hz": np.percentile(rates, 25),
                "rate_median_hz": np.median(rates),
                "rate_q75_hz": np.percentile(rates, 75),
                "rate_max_hz": np.max(rates),
                "silent_fraction": np.mean(silent),
                "cv_isi": np.nanmean(train_cvs) if n_cv else np.nan,
                "cv_isi_n_trains": n_cv,
                "fano_factor": np.nanmean(fanos) if n_fano else np.nan,
                "fano_factor_n_neurons": n_fano,
                "van_rossum_within_population": (np.mean(sample_means) if sample_means
                                                 and len(neurons) >= 2 else np.nan),
                "van_rossum_between_samples": np.mean(between) if n_samples >= 2 else np.nan,
            }
            for measure in MEASURE_NAMES:
                summary_rows.append({"snapshot": snapshot, "epoch": epoch, "population": population,
                                     "measure": measure, "value": float(values[measure])})
            for k, neuron in enumerate(neurons):
                neuron_rows.append({
                    "snapshot": snapshot, "epoch": epoch, "population": population,
                    "neuron": int(neuron),
                    "neuron_in_population": int(neuron - (0 if population == "E" else probe.n_exc)),
                    "rate_hz": float(rates[k]), "silent": bool(silent[k]),
                    "cv_isi": float(neuron_cvs[k]), "fano_factor": float(fanos[k]),
                    "van_rossum_between_samples": float(between[k])})
    summary = pd.DataFrame(summary_rows, columns=["snapshot", "epoch", "population", "measure", "value"])
    neuron_table = pd.DataFrame(neuron_rows, columns=[
        "snapshot", "epoch", "population", "neuron", "neuron_in_population", "rate_hz", "silent",
        "cv_isi", "fano_factor", "van_rossum_between_samples"])
    return Measures(summary=summary, neurons=neuron_table,
                    within_population_distances=within_distances, time_constant=time_constant)


# ---------------------------------------------------------------------------------------------------
# Run folders
# ---------------------------------------------------------------------------------------------------

def read_run_config(run_dir):
    """Read a run folder's ``config.json``.

    Parameters
    ----------
    run_dir : str or os.PathLike
        The run folder.

    Returns
    -------
    config : dict
        The parsed JSON (empty if the file is missing).
    note : str or None
        A message if the file is missing, else None.

    Raises
    ------
    ei_brian.io.RunFolderError
        If the file exists but is not a JSON object.
    """
    path = os.path.join(os.fspath(run_dir), "config.json")
    if not os.path.exists(path):
        return {}, "no config.json: the tables have no grouping parameters besides n_exc and n_inh"
    try:
        with open(path, encoding="utf-8") as file:
            config = json.load(file)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RunFolderError(f"{path!r} cannot be read as JSON ({error.__class__.__name__}: {error})") \
            from error
    if not isinstance(config, dict):
        raise RunFolderError(f"{path!r} does not hold a JSON object")
    return config, None


def _flatten(config, prefix=()):
    for key, value in config.items():
        path = prefix + (str(key),)
        if isinstance(value, dict):
            yield from _flatten(value, path)
        elif value is None or isinstance(value, (str, bool, int, float)):
            yield path, value
        elif isinstance(value, list) and all(
                item is None or isinstance(item, (str, bool, int, float)) for item in value):
            yield path, json.dumps(value)


def run_parameters(config):
    """Grouping parameters of a run, from its configuration.

    Scalars are looked up at any depth of ``config``; kept are those whose own key is in
    :data:`GROUPING_KEYS` and those whose key path mentions ``init`` or ``noise``. A column is named
    by the key, or by the key path joined with ``_`` where two kept values share a key. Lists of
    scalars are written as JSON text.

    Parameters
    ----------
    config : dict
        The parsed ``config.json``.

    Returns
    -------
    dict
        Column name -> value, in the order of :data:`GROUPING_KEYS`, then alphabetical.
    """
    kept = [(path, value) for path, value in _flatten(config)
            if path[-1] in GROUPING_KEYS
            or any("init" in part.lower() or "noise" in part.lower() for part in path)]
    leaf_counts = {}
    for path, _ in kept:
        leaf_counts[path[-1]] = leaf_counts.get(path[-1], 0) + 1
    named = {(path[-1] if leaf_counts[path[-1]] == 1 else "_".join(path)): value for path, value in kept}
    order = {key: position for position, key in enumerate(GROUPING_KEYS)}
    return dict(sorted(named.items(), key=lambda item: (order.get(item[0], len(order)), item[0])))


@dataclasses.dataclass
class RunAnalysis:
    """The analysis of one run folder, from :func:`analyze_run`.

    Attributes
    ----------
    run_dir : str
        The run folder.
    run : str
        Its name (base name of the folder).
    parameters : dict
        Grouping parameters (:func:`run_parameters`, with ``n_exc`` and ``n_inh`` from the spike
        files where the configuration lacks them).
    probe : ProbeSpikeTrains
        The spike trains.
    measures : Measures
        The measures.
    table : pandas.DataFrame
        ``analysis.csv``: ``run``, ``snapshot``, ``epoch``, ``population``, ``measure``, ``value``,
        ``time_constant_ms`` and the grouping parameters.
    neuron_table : pandas.DataFrame
        ``analysis_neurons.csv``: per-neuron measures with the same leading and grouping columns.
    notes : list of str
        What was missing or odd (for example an interrupted run without ``spikes_final.npz``).
    """

    run_dir: str
    run: str
    parameters: dict
    probe: ProbeSpikeTrains
    measures: Measures
    table: object
    neuron_table: object
    notes: list


def _with_columns(frame, leading, parameters):
    frame = frame.copy()
    for position, (name, value) in enumerate(leading.items()):
        frame.insert(position, name, value)
    for name, value in parameters.items():
        if name not in frame.columns:
            frame[name] = value
    return frame


def analyze_run(run_dir, time_constant=10.0 * pq.ms):
    """Compute the measures of one run folder (nothing is written).

    Parameters
    ----------
    run_dir : str or os.PathLike
        A folder written by ``ei-brian train``.
    time_constant : quantities.Quantity
        Time constant of the Van Rossum distance.

    Returns
    -------
    RunAnalysis

    Raises
    ------
    ei_brian.io.RunFolderError
        If the folder or its files cannot be used; the message names the folder or file.
    """
    run_dir = os.fspath(run_dir)
    probe = load_run_spiketrains(run_dir)
    config, note = read_run_config(run_dir)
    notes = [note] if note else []
    for snapshot in probe.missing:
        notes.append(f"{PROBE_SPIKES_FILES[snapshot]} is missing"
                     + (" (training interrupted?)" if snapshot == "final" else "")
                     + f": analysed the {' and '.join(probe.snapshots)} snapshot only")
    parameters = run_parameters(config)
    for name, value in (("n_exc", probe.n_exc), ("n_inh", probe.n_inh)):
        if name not in parameters:
            parameters[name] = value
        elif parameters[name] != value:
            notes.append(f"config.json says {name} = {parameters[name]} but the spike files have "
                         f"{value}; the table keeps the config value")
    measures = compute_measures(probe, time_constant=time_constant)
    run = os.path.basename(os.path.normpath(os.path.abspath(run_dir)))
    tau_ms = float(time_constant.rescale(pq.ms).magnitude)
    table = _with_columns(measures.summary, {"run": run}, {"time_constant_ms": tau_ms, **parameters})
    neuron_table = _with_columns(measures.neurons, {"run": run},
                                 {"time_constant_ms": tau_ms, **parameters})
    return RunAnalysis(run_dir=run_dir, run=run, parameters=parameters, probe=probe, measures=measures,
                       table=table, neuron_table=neuron_table, notes=notes)


def save_run_analysis(analysis, plots=False):
    """Write ``analysis.csv``, ``analysis_neurons.csv`` and, optionally, figures into the run folder.

    Each file is written atomically; nothing else in the folder changes.

    Parameters
    ----------
    analysis : RunAnalysis
        From :func:`analyze_run`.
    plots : bool
        Also write ``analysis_raster.png``, ``analysis_rates.png`` and ``analysis_van_rossum.png``.

    Returns
    -------
    list of str
        The paths written.
    """
    written = []
    path = os.path.join(analysis.run_dir, ANALYSIS_FILE)
    atomic_write_text(path, analysis.table.to_csv(index=False))
    written.append(path)
    path = os.path.join(analysis.run_dir, NEURONS_FILE)
    atomic_write_text(path, analysis.neuron_table.to_csv(index=False))
    written.append(path)
    if plots:
        from ei_brian import plotting

        figures = {
            "raster": plotting.probe_raster_figure(analysis.probe, sample=0, title=analysis.run),
            "rates": plotting.rate_histogram_figure(analysis.measures.neurons, title=analysis.run),
            "van_rossum": plotting.van_rossum_histogram_figure(analysis.measures, title=analysis.run),
        }
        for key, figure in figures.items():
            path = os.path.join(analysis.run_dir, PLOT_FILES[key])
            atomic_write_bytes(path, plotting.figure_png_bytes(figure))
            written.append(path)
    return written


def format_summary(analysis):
    """A readable table of one run's measures (rows: measures; columns: snapshot and population)."""
    table = analysis.measures.summary
    if table.empty:
        return f"{analysis.run}: no measures"
    wide = table.pivot_table(index="measure", columns=["snapshot", "population"], values="value",
                             aggfunc="first", dropna=False)
    wide = wide.reindex(index=[m for m in MEASURE_NAMES if m in wide.index])
    wide = wide.reindex(columns=sorted(wide.columns, key=lambda c: (
        SNAPSHOTS.index(c[0]) if c[0] in SNAPSHOTS else len(SNAPSHOTS), c[1])))
    wide.columns = [f"{snapshot} {population}" for snapshot, population in wide.columns]
    wide.index.name = None
    parameters = ", ".join(f"{key}={value}" for key, value in analysis.parameters.items())
    tau_ms = float(analysis.measures.time_constant.rescale(pq.ms).magnitude)
    lines = [f"== {analysis.run} ({parameters}); Van Rossum tau = {tau_ms:g} ms"]
    lines.extend(f"note: {note}" for note in analysis.notes)
    lines.append(wide.to_string(float_format=lambda x: f"{x:.4g}", na_rep="nan"))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------------

def expand_run_arguments(arguments):
    """Expand run-folder arguments (folders or glob patterns) into folders.

    Parameters
    ----------
    arguments : list of str
        Folders or patterns such as ``runs/*``; patterns keep only the folders they match.

    Returns
    -------
    run_dirs : list of str
        Folders, in order of the arguments (matches of a pattern sorted), without duplicates.
    problems : list of str
        A message for each argument that matched nothing.
    """
    run_dirs, problems, seen = [], [], set()
    for argument in arguments:
        if glob.has_magic(argument):
            matches = [path for path in sorted(glob.glob(argument)) if os.path.isdir(path)]
            if not matches:
                problems.append(f"pattern {argument!r} matches no folder")
        else:
            matches = [argument]
        for path in matches:
            key = os.path.realpath(path)
            if key not in seen:
                seen.add(key)
                run_dirs.append(path)
    return run_dirs, problems


def _positive_float(text):
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def add_analyze_arguments(parser):
    """Add the arguments of ``ei-brian analyze`` to an :class:`argparse.ArgumentParser`."""
    parser.add_argument("runs", nargs="+", metavar="RUN",
                        help="run folders written by 'ei-brian train', or glob patterns such as 'runs/*'")
    parser.add_argument("--time-constant-ms", type=_positive_float, default=10.0,
                        help="time constant of the Van Rossum distance in ms (default: %(default)s)")
    parser.add_argument("--plots", action="store_true",
                        help="also write figures into each run folder: raster of probe sample 0, "
                             "rate histograms and Van Rossum distance histograms (PNG)")
    parser.add_argument("--output", metavar="CSV",
                        help="also write the tables of all runs into this one CSV file")
    return parser


def run_analyze_command(args):
    """Run ``ei-brian analyze``: analyse each run folder, write its tables, print a summary.

    A folder that cannot be analysed is reported (naming the folder and the problem) and skipped.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments of :func:`add_analyze_arguments`.

    Returns
    -------
    int
        0 if every folder was analysed, 1 otherwise.
    """
    import pandas as pd
    from tqdm import tqdm

    run_dirs, problems = expand_run_arguments(args.runs)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    time_constant = args.time_constant_ms * pq.ms
    tables, failed = [], []
    progress = tqdm(run_dirs, unit="run", desc="analyze", file=sys.stderr, disable=len(run_dirs) < 2)
    for run_dir in progress:
        try:
            analysis = analyze_run(run_dir, time_constant=time_constant)
            written = save_run_analysis(analysis, plots=args.plots)
        except (RunFolderError, OSError) as error:
            failed.append(run_dir)
            tqdm.write(f"error: cannot analyse run folder {run_dir!r}: {error}", file=sys.stderr)
            continue
        tqdm.write(format_summary(analysis))
        tqdm.write("wrote " + ", ".join(os.path.basename(path) for path in written)
                   + f" in {run_dir}\n")
        table = analysis.table.copy()
        table.insert(1, "run_dir", os.path.normpath(run_dir))
        tables.append(table)
    if args.output:
        if tables:
            combined = pd.concat(tables, ignore_index=True, sort=False)
            atomic_write_text(args.output, combined.to_csv(index=False))
            print(f"wrote {len(tables)} run(s) to {args.output}")
        else:
            print(f"error: no run could be analysed; {args.output} not written", file=sys.stderr)
    n_problems = len(failed) + len(problems)
    if n_problems:
        print(f"error: {n_problems} of {len(run_dirs) + len(problems)} run argument(s) could not be "
              "analysed: " + ", ".join(failed + [p for p in problems]), file=sys.stderr)
        return 1
    return 0
