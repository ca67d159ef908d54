"""An SHD-like task: long, sparse spike samples of spoken-word shape, generated from a seed.

The Spiking Heidelberg Digits (:mod:`ei_brian.datasets.shd`) are 700 cochlear channels, 20
classes, a few thousand spikes per sample spread over half a second to a second, spoken by a dozen
speakers. This module generates a task of that shape offline, so that the tests and the study's
spike-timing arm train on samples as long and as sparse as SHD's without downloading anything. It
is a stand-in, not a model of speech: its accuracies say nothing about SHD's (see docs/model.md,
"Spike data").

The task
--------
A *word* (class ``k``) is three *formant tracks*: smooth random paths through the channels over
the word's normalized time ``u`` in ``[0, 1)``, track ``f`` within its own band of channels
(:data:`BANDS`: low, middle, high, as the formants of a vowel). Each path is a random function of
the random-manifold task (:func:`ei_brian.datasets.randman.eval_manifold`, smoothness
:data:`ALPHA`), standardized to ``[0, 1]``.

A *sample* of word ``k`` spoken by speaker ``s``:

- lasts ``L = L_k * r_s * j`` seconds, clipped to :data:`DURATION_RANGE` (0.5 to 0.95 s): the
  word's length ``L_k ~ U(0.6, 0.85) s``, the speaker's speaking rate ``r_s ~ U(0.85, 1.15)`` and
  a per-sample factor ``j ~ N(1, 0.05)``; it starts after an onset ``~ U(0, 50 ms)``, so that
  every spike falls within the first second;
- each track fires ``Poisson(RATE * g_s * L)`` spikes at times uniform over the word, each in
  channel ``round(700 * w_s * path(u) + N(0, WIDTH))`` (dropped outside the channels): the
  speaker's loudness ``g_s ~ U(0.8, 1.2)`` and vocal-tract factor ``w_s ~ U(0.92, 1.08)``, which
  moves every formant up or down the channels, are the nuisance variation;
- plus background spikes, ``NOISE_RATE`` per channel per second, uniform over ``L`` and the
  channels.

At the defaults a sample holds about 3,000 spikes (4 a channel; more in the channels a track
crosses).

Difficulty
----------
``difficulty`` in ``[0, 1]`` blends every word towards one shared word: word ``k``'s paths and
length are ``(1 - d) * own + d * shared``. At 0 the words are as different as their random draws;
at 1 they are one word and no classifier beats chance. A nearest-centroid classifier on spike
counts binned by 10 channels and 50 ms (:func:`nearest_centroid_accuracy`) measures how hard a
setting is; docs/model.md gives its accuracy at the study's difficulties.

Reproducibility
---------------
The whole task derives from its own ``data_seed`` (:class:`numpy.random.SeedSequence`), apart
from any training run's seed: word ``k``'s paths and length draw from the spawn key ``(k, 0)``,
the shared word from ``(classes, 0)``, the speakers from ``(0, 1)``, the samples of word ``k`` from
``(k, 2)`` and the order of all samples from ``(0, 3)``. Adding samples per class does not change
the words or the speakers.
"""
import numbers
import os

import numpy as np

from ei_brian.datasets.dataset import spike_dataset
from ei_brian.datasets.randman import eval_manifold, manifold_parameters
from ei_brian.datasets.registry import SHD_LIKE_DEFAULTS
from ei_brian.datasets.shd import bin_spikes

__all__ = ["DEFAULTS", "make_shd_like", "shd_like_spikes", "load_shd_like",
           "nearest_centroid_accuracy", "write_shd_files"]

#: Defaults of the task (``TrainConfig.shd_like_*``, ``--shd-like-*``): the registry's
#: (:data:`ei_brian.datasets.registry.SHD_LIKE_DEFAULTS`).
DEFAULTS = SHD_LIKE_DEFAULTS
#: Channel bands of the three formant tracks, as fractions of the channels.
BANDS = ((0.05, 0.45), (0.30, 0.75), (0.55, 0.95))
#: Smoothness of the tracks (the random-manifold ``alpha``).
ALPHA = 3.0
#: Spikes per second of one track (before the speaker's loudness).
RATE = 1200.0
#: Spread of a track across channels (sd, in channels).
WIDTH = 6.0
#: Background spikes per channel per second.
NOISE_RATE = 1.0
#: Shortest and longest sample, in seconds.
DURATION_RANGE = (0.5, 0.95)
#: Latest onset of a word in a sample, in seconds.
MAX_ONSET = 0.05
#: Share of each class's samples that form the test set.
TEST_FRACTION = 1 / 6
#: Speakers heard in the test set only (SHD has two of its twelve so).
HELD_OUT_SPEAKERS = 2
#: Points at which each track is tabulated (and interpolated between).
TRACK_POINTS = 513


def _positive_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _sequence(seed):
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"the task's seed must be a non-negative integer, got {seed!r}")
    return np.random.SeedSequence(int(seed))


def _rng(sequence, *key):
    return np.random.default_rng(np.random.SeedSequence(sequence.entropy,
                                                        spawn_key=sequence.spawn_key + key))


def _word(rng):
    """Paths (3, TRACK_POINTS) in [0, 1] of the channels, and the length in seconds."""
    u = np.linspace(0.0, 1.0, TRACK_POINTS)[:, None]
    params = manifold_parameters(len(BANDS), 1, ALPHA, rng)
    paths = eval_manifold(params, ALPHA, u).T                       # (3, points)
    low, high = paths.min(axis=1, keepdims=True), paths.max(axis=1, keepdims=True)
    paths = (paths - low) / (high - low + 1e-12)
    bands = np.array(BANDS)
    paths = bands[:, :1] + (bands[:, 1:] - bands[:, :1]) * paths
    return paths, rng.uniform(0.6, 0.85)


def make_shd_like(n_classes=DEFAULTS["classes"], n_channels=DEFAULTS["channels"],
                  n_samples=DEFAULTS["samples"], n_speakers=DEFAULTS["speakers"],
                  difficulty=DEFAULTS["difficulty"], seed=DEFAULTS["data_seed"], rate=RATE,
                  noise_rate=NOISE_RATE):
    """Generate the task's spike events (see the module docstring).

    Parameters
    ----------
    n_classes, n_channels : int
        Words and channels.
    n_samples : int
        Samples per word, at least 2; the last sixth of them (at least one) are test samples.
    n_speakers : int
        Speakers. As in SHD, the last :data:`HELD_OUT_SPEAKERS` of them (when there are more than
        that) speak test samples only; each sample's speaker is drawn uniformly from those its
        set may have.
    difficulty : float
        In ``[0, 1]``: how far every word is blended towards one shared word.
    seed : int or numpy.random.SeedSequence
        The task's seed.
    rate, noise_rate : float
        Spikes per second of a track, and background spikes per channel per second (default
        :data:`RATE`, :data:`NOISE_RATE`; lower them for sparser samples).

    Returns
    -------
    times : list of numpy.ndarray of float64
        Spike times in seconds, one array a sample, sorted.
    units : list of numpy.ndarray of int64
        The channel of each spike.
    labels, speakers : numpy.ndarray of int64
        Word and speaker of each sample; the samples come in a random order.
    is_test : numpy.ndarray of bool
        Whether each sample belongs to the test set.
    """
    n_classes = _positive_int("n_classes", n_classes, 2)
    n_channels = _positive_int("n_channels", n_channels)
    n_samples = _positive_int("n_samples", n_samples, 2)
    n_speakers = _positive_int("n_speakers", n_speakers)
    if isinstance(difficulty, bool) or not isinstance(difficulty, numbers.Real) \
            or not 0 <= difficulty <= 1:
        raise ValueError(f"difficulty must lie in [0, 1], got {difficulty!r}")
    for name, value in (("rate", rate), ("noise_rate", noise_rate)):
        if not (isinstance(value, numbers.Real) and value >= 0 and np.isfinite(value)):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    sequence = _sequence(seed)
    n_test = min(n_samples - 1, max(1, int(round(n_samples * TEST_FRACTION))))
    training_speakers = n_speakers - HELD_OUT_SPEAKERS if n_speakers > HELD_OUT_SPEAKERS \
        else n_speakers
    shared_paths, shared_length = _word(_rng(sequence, n_classes, 0))
    speaker_rng = _rng(sequence, 0, 1)
    pace = speaker_rng.uniform(0.85, 1.15, n_speakers)
    loudness = speaker_rng.uniform(0.8, 1.2, n_speakers)
    warp = speaker_rng.uniform(0.92, 1.08, n_speakers)
    grid = np.linspace(0.0, 1.0, TRACK_POINTS)
    times, units = [], []
    is_test = np.tile(np.arange(n_samples) >= n_samples - n_test, n_classes)
    labels = np.repeat(np.arange(n_classes, dtype=np.int64), n_samples)
    speakers = np.empty(n_classes * n_samples, dtype=np.int64)
    for k in range(n_classes):
        paths, length = _word(_rng(sequence, k, 0))
        paths = (1 - difficulty) * paths + difficulty * shared_paths
        length = (1 - difficulty) * length + difficulty * shared_length
        rng = _rng(sequence, k, 2)
        who = np.where(is_test[:n_samples], rng.integers(0, n_speakers, n_samples),
                       rng.integers(0, training_speakers, n_samples))
        speakers[k * n_samples:(k + 1) * n_samples] = who
        spread = rng.normal(1.0, 0.05, n_samples)
        onset = rng.uniform(0.0, MAX_ONSET, n_samples)
        for n in range(n_samples):
            s = who[n]
            duration = float(np.clip(length * pace[s] * spread[n], *DURATION_RANGE))
            counts = rng.poisson(rate * loudness[s] * duration, len(BANDS))
            u = rng.uniform(0.0, 1.0, counts.sum())
            track = np.repeat(np.arange(len(BANDS)), counts)
            centre = np.empty(u.size)
            for f in range(len(BANDS)):
                chosen = track == f
                centre[chosen] = np.interp(u[chosen], grid, paths[f])
            channel = np.rint(n_channels * warp[s] * centre + rng.normal(0.0, WIDTH, u.size))
            n_noise = rng.poisson(noise_rate * n_channels * duration)
            t = np.concatenate([u * duration, rng.uniform(0.0, duration, n_noise)]) + onset[n]
            channel = np.concatenate([channel, rng.integers(0, n_channels, n_noise)])
            keep = (channel >= 0) & (channel < n_channels)
            order = np.argsort(t[keep], kind="stable")
            times.append(t[keep][order])
            units.append(channel[keep][order].astype(np.int64))
    order = _rng(sequence, 0, 3).permutation(len(labels))
    return ([times[i] for i in order], [units[i] for i in order], labels[order], speakers[order],
            is_test[order])


def shd_like_spikes(times, units, dt, n_steps, n_channels):
    """The events on a time grid, as for SHD files (:func:`ei_brian.datasets.shd.bin_spikes`)."""
    return bin_spikes(times, units, dt, n_steps, n_channels)


def load_shd_like(train_samples=None, test_samples=None, seed=0, dt=2e-3, n_steps=500,
                  classes=DEFAULTS["classes"], channels=DEFAULTS["channels"],
                  samples=DEFAULTS["samples"], speakers=DEFAULTS["speakers"],
                  difficulty=DEFAULTS["difficulty"], data_seed=DEFAULTS["data_seed"]):
    """The SHD-like task as a :class:`ei_brian.datasets.dataset.Dataset`.

    ``samples`` samples per word are generated; a sixth of each word's (at least one) form the
    test set, some of them spoken by speakers the training set never hears. Subsets of ``train_samples`` and ``test_samples`` are drawn from the run's
    ``seed`` as for every data set (class-balanced; None: all). ``extra`` holds each sample's
    speaker (``train_speaker``, ``test_speaker``).
    """
    samples = _positive_int("samples", samples, 2)
    times, units, labels, who, test = make_shd_like(classes, channels, samples, speakers,
                                                    difficulty, data_seed)
    spikes = shd_like_spikes(times, units, dt, n_steps, channels)
    return spike_dataset(
        {"train": spikes[~test], "test": spikes[test]},
        {"train": labels[~test], "test": labels[test]}, train_samples, test_samples, seed,
        n_classes=classes, n_channels=channels, name="shd-like",
        extra={"train_speaker": who[~test], "test_speaker": who[test]},
        source=(f"generated: {classes} words, {channels} channels, {samples} samples per word, "
                f"{speakers} speakers, difficulty {difficulty:g}, data seed {data_seed}"),
        class_names=tuple(f"word {k}" for k in range(classes)))


def binned_counts(samples, channel_bin=10, time_bin=0.05):
    """Spike counts of each sample in bins of ``channel_bin`` channels and ``time_bin`` seconds,
    flattened: ``(n_samples, n_channel_bins * n_time_bins)``."""
    steps_per_bin = max(1, int(round(time_bin / samples.dt)))
    n_time = -(-samples.n_steps // steps_per_bin)
    n_chan = -(-samples.n_channels // channel_bin)
    sample = np.repeat(np.arange(len(samples)), samples.counts())
    cell = (samples.step.astype(np.int64) // steps_per_bin) * n_chan \
        + samples.channel.astype(np.int64) // channel_bin
    counts = np.zeros((len(samples), n_time * n_chan))
    np.add.at(counts, (sample, cell), 1.0)
    return counts


def nearest_centroid_accuracy(x_train, y_train, x_test, y_test, channel_bin=10, time_bin=0.05):
    """Test accuracy of a nearest-centroid classifier on binned spike counts.

    Each sample becomes its spike counts in bins of ``channel_bin`` channels by ``time_bin``
    seconds (:func:`binned_counts`); each class's centroid is the mean of its training samples;
    a test sample gets the class of the nearest centroid (Euclidean). A baseline of how separable
    a spike data set is, independent of any network.
    """
    train, test = binned_counts(x_train, channel_bin, time_bin), binned_counts(
        x_test, channel_bin, time_bin)
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    classes = np.unique(y_train)
    centroids = np.stack([train[y_train == k].mean(axis=0) for k in classes])
    distance = ((test ** 2).sum(axis=1)[:, None] - 2 * test @ centroids.T
                + (centroids ** 2).sum(axis=1)[None])
    return float(np.mean(classes[distance.argmin(axis=1)] == y_test))


def write_shd_files(folder, **task):
    """Write the task as the two files of SHD's layout (``shd_train.h5``, ``shd_test.h5``), so
    that ``ei-brian train --dataset shd --data-dir FOLDER`` reads it as a user's SHD files.

    ``task`` takes the arguments of :func:`make_shd_like`; the test set is the one it draws, as in
    :func:`load_shd_like`. Returns the two paths.
    """
    import h5py  # h5py (0.4 s) only when the files are written
    n_classes = task.get("n_classes", DEFAULTS["classes"])
    times, units, labels, who, test = make_shd_like(**task)
    os.makedirs(folder, exist_ok=True)
    paths = {}
    for split, chosen in (("train", ~test), ("test", test)):
        index = np.flatnonzero(chosen)
        path = os.path.join(folder, f"shd_{split}.h5")
        with h5py.File(path, "w") as f:
            spikes = f.create_group("spikes")
            t = spikes.create_dataset("times", (len(index),),
                                      dtype=h5py.vlen_dtype(np.dtype("float32")))
            u = spikes.create_dataset("units", (len(index),),
                                      dtype=h5py.vlen_dtype(np.dtype("uint16")))
            for row, i in enumerate(index):
                t[row] = times[i].astype(np.float32)
                u[row] = units[i].astype(np.uint16)
            f.create_dataset("labels", data=labels[index].astype(np.uint8))
            extra = f.create_group("extra")
            extra.create_dataset("speaker", data=who[index].astype(np.uint8))
            extra.create_dataset("keys", data=np.array(
                [f"word {k}".encode() for k in range(n_classes)]))
        paths[split] = path
    return paths
