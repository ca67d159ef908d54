"""Spike-train measures of a run's probe spike trains (:func:`compute_measures`).

Measures, per snapshot (``initial``, ``final``) and population (``E``, ``I``):

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
:func:`ei_brian.analysis.vanrossum.van_rossum_distance`, an exact and much faster equivalent of
:func:`elephant.spike_train_dissimilarity.van_rossum_distance`. Populations without neurons (the I
population of a 100:0 or unbounded network) are left out.
"""
import dataclasses
import math

import numpy as np
import quantities as pq

from ei_brian.analysis.neo_io import POPULATIONS
from ei_brian.analysis.vanrossum import _is_time_quantity, _seconds, van_rossum_distance

__all__ = ["MEASURE_NAMES", "Measures", "compute_measures"]

#: Order of the measures in the tables.
MEASURE_NAMES = (
    "n_neurons", "n_samples", "rate_mean_hz", "rate_std_hz", "rate_min_hz", "rate_q25_hz",
    "rate_median_hz", "rate_q75_hz", "rate_max_hz", "silent_fraction", "cv_isi", "cv_isi_n_trains",
    "fano_factor", "fano_factor_n_neurons", "van_rossum_within_population",
    "van_rossum_between_samples",
)


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
    import pandas as pd  # pandas (0.3 s) and Elephant (0.8 s) only when measures are computed
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
