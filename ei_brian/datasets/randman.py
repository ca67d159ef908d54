"""Random manifolds: a spike-timing classification task generated from a seed.

The random-manifold ("randman") task of Zenke & Vogels (2021), *The remarkable robustness of
surrogate gradient learning for instilling complex function in spiking neural networks*, Neural
Computation 33(4), written here in NumPy after the Zenke lab's generator
(https://github.com/fzenke/randman; it is not on PyPI). It stands in for the Spiking Heidelberg
Digits where those files cannot be downloaded: like SHD, each input channel carries spike *times*,
and the class lies in the timing.

The task
--------
Each class ``k`` is a smooth random map ``f_k`` from the ``D``-dimensional unit cube (the
manifold's intrinsic coordinates) to ``[0, 1]^C``, one coordinate per input channel. Coordinate
``c`` of ``f_k`` is a product over the ``D`` manifold dimensions of random 1-D functions::

    g(x) = sum_{i=0}^{F-1} a_i / (i + 1)^alpha * sin(2 pi (i * x * b_i + p_i))

with ``a_i, b_i, p_i ~ U(0, 1)`` drawn once per (class, channel, dimension) and ``a_0 = 0`` (no
constant term). The amplitudes fall as ``1 / (i + 1)^alpha``: ``alpha`` is the smoothness (larger
is smoother), and the sum is cut at ``F = ceil(1000^(1/alpha))`` terms (the generator's precision
1e-3; at most 1000). A sample of class ``k`` is ``f_k(x)`` at a random point ``x ~ U(0, 1)^D``,
each channel's value standardized to ``[0, 1]`` over the samples of its class and read as the
time of that channel's one spike, as a fraction of the first ``window`` (:data:`WINDOW`, half)
of the sample. Spike ``t`` falls into time step ``floor(t / dt)``. So every sample carries
exactly one spike per channel, and only the timing tells the classes apart.

Difficulty grows with the number of classes and falls with the number of channels. The manifold
dimension ``D`` might be expected to add difficulty; with the default 700 channels, dimensions 2
and 3 trained *faster* than 1 here (the product of ``D`` random functions
concentrates the standardized spike times), so ``D = 1`` is the default. The default 80:20
network learns the default task within a few epochs (``docs/spike_data.md``).

Reproducibility
---------------
The whole task (manifolds, points, order) derives from its own ``seed`` through
:class:`numpy.random.SeedSequence`, independent of a training run's seed, so that every seed of
a study trains on the same task. Class ``k``'s manifold draws from the spawn key ``(k, 0)`` of
the seed, its points from ``(k, 1)`` and the order of the samples from ``(0, 2)``, so adding
samples does not change the manifolds. The same arguments give the same data (NumPy's PCG64 draws
are the same everywhere; ``sin`` in float64 may differ in the last bit between platforms, which
could move a spike that lies within 1e-13 of a step boundary).
"""
import math
import numbers

import numpy as np

from ei_brian.datasets.dataset import spike_dataset
from ei_brian.datasets.registry import RANDMAN_DEFAULTS
from ei_brian.encoding import SpikeSamples

__all__ = ["frequency_cutoff", "manifold_parameters", "eval_manifold", "make_randman"]

#: Defaults of the task (:func:`load_randman`, ``TrainConfig.randman_*``, ``--randman-*``): the
#: registry's (:data:`ei_brian.datasets.registry.RANDMAN_DEFAULTS`).
DEFAULTS = RANDMAN_DEFAULTS

#: precision of the generator: the sum stops where the amplitude bound falls below it
PRECISION = 1e-3
#: most terms of a 1-D random function
MAX_FREQUENCIES = 1000
#: elements of the largest temporary array of :func:`eval_manifold` (bounds its memory)
CHUNK_ELEMENTS = 1 << 22


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def frequency_cutoff(alpha, precision=PRECISION, max_frequencies=MAX_FREQUENCIES):
    """Number of terms ``F = min(ceil(precision^(-1/alpha)), max_frequencies)`` of each 1-D
    random function (32 for ``alpha = 2``)."""
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not alpha > 0 \
            or not math.isfinite(alpha):
        raise ValueError(f"alpha (the smoothness) must be a positive number, got {alpha!r}")
    return int(min(math.ceil(precision ** (-1.0 / alpha)), max_frequencies))


def manifold_parameters(n_channels, dim, alpha, rng):
    """Random parameters of one class's manifold.

    Returns
    -------
    params : numpy.ndarray, shape (n_channels, dim, 3, F)
        ``params[c, d, 0]`` amplitudes (the first one 0), ``[..., 1]`` frequency factors,
        ``[..., 2]`` phases, each ``U(0, 1)``.
    """
    params = rng.uniform(0.0, 1.0, size=(n_channels, dim, 3, frequency_cutoff(alpha)))
    params[:, :, 0, 0] = 0.0  # no constant term (the generator's use_bias=False)
    return params


def eval_manifold(params, alpha, x):
    """Points of a manifold: ``y[n, c] = prod_d g_{c,d}(x[n, d])`` (see the module docstring).

    Parameters
    ----------
    params : numpy.ndarray, shape (n_channels, dim, 3, F)
    alpha : float
    x : numpy.ndarray, shape (n_points, dim)
        Intrinsic coordinates in [0, 1).

    Returns
    -------
    numpy.ndarray, shape (n_points, n_channels)
    """
    n_channels, dim, _, n_freq = params.shape
    x = np.asarray(x, dtype=np.float64)
    spectrum = 1.0 / (np.arange(n_freq) + 1.0) ** alpha
    index = np.arange(n_freq, dtype=np.float64)
    y = np.ones((len(x), n_channels))
    chunk = max(1, CHUNK_ELEMENTS // max(1, len(x) * n_freq))
    for d in range(dim):
        for start in range(0, n_channels, chunk):
            p = params[start:start + chunk, d]                       # (c, 3, F)
            # 2 pi (i x b_i + p_i), computed in place: (n, c, F)
            phase = np.multiply(x[:, d, None, None], (2 * np.pi * index * p[:, 1])[None])
            phase += (2 * np.pi * p[:, 2])[None]
            np.sin(phase, out=phase)
            y[:, start:start + chunk] *= np.einsum("ncf,cf->nc", phase, p[:, 0] * spectrum)
    return y


def _standardize(y, eps=1e-7):
    low, high = y.min(axis=0), y.max(axis=0)
    return (y - low) / (high - low + eps)


def make_randman(n_classes=10, n_channels=100, n_samples=1000, dim=1, alpha=2.0, seed=0):
    """Generate a random-manifold data set: one spike time per channel and sample.

    Parameters
    ----------
    n_classes : int
        Number of classes (one manifold each).
    n_channels : int
        Input channels (the embedding dimension).
    n_samples : int
        Samples per class.
    dim : int
        Dimension ``D`` of each manifold.
    alpha : float
        Smoothness (the exponent of the amplitude fall-off).
    seed : int or numpy.random.SeedSequence
        Seed of the task.

    Returns
    -------
    times : numpy.ndarray of float64, shape (n_classes * n_samples, n_channels)
        Spike time of each channel as a fraction of the spiking window, in [0, 1).
    labels : numpy.ndarray of int64, shape (n_classes * n_samples,)
        Class of each sample. Samples come in a random order (drawn from the seed).
    """
    n_classes = _positive_int("n_classes", n_classes)
    n_channels = _positive_int("n_channels", n_channels)
    n_samples = _positive_int("n_samples", n_samples)
    dim = _positive_int("dim", dim)
    frequency_cutoff(alpha)
    if isinstance(seed, np.random.SeedSequence):
        sequence = seed
    elif isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    else:
        sequence = np.random.SeedSequence(int(seed))
    times = np.empty((n_classes * n_samples, n_channels))
    for k in range(n_classes):
        manifold_rng = np.random.default_rng(
            np.random.SeedSequence(sequence.entropy, spawn_key=sequence.spawn_key + (k, 0)))
        point_rng = np.random.default_rng(
            np.random.SeedSequence(sequence.entropy, spawn_key=sequence.spawn_key + (k, 1)))
        params = manifold_parameters(n_channels, dim, alpha, manifold_rng)
        x = point_rng.uniform(0.0, 1.0, size=(n_samples, dim))
        times[k * n_samples:(k + 1) * n_samples] = _standardize(eval_manifold(params, alpha, x))
    labels = np.repeat(np.arange(n_classes, dtype=np.int64), n_samples)
    # the order of the samples: key (0, 2), next to the classes' (k, 0) and (k, 1)
    order_rng = np.random.default_rng(
        np.random.SeedSequence(sequence.entropy, spawn_key=sequence.spawn_key + (0, 2)))
    order = order_rng.permutation(len(labels))
    return times[order], labels[order]


#: Fraction of a sample in which the spikes fall: the first half, so that the 700 spikes of a
#: sample drive the default network about as densely as Fashion-MNIST's latency code does (spread
#: over 160 ms they left it silent, and a silent network gets no gradient); the second half leaves
#: the readout time to respond.
WINDOW = 0.5
#: Share of each class's samples that form the test set.
TEST_FRACTION = 1 / 6


def randman_spikes(times, dt, n_steps, window=WINDOW):
    """Spike samples of :func:`make_randman` times on a time grid.

    Channel ``c`` of sample ``n`` spikes once, at ``times[n, c] * window * n_steps * dt``, in
    step ``floor(times[n, c] * window * n_steps)`` (at most ``n_steps - 1``).
    """
    n_samples, n_channels = times.shape
    step = np.minimum(np.floor(times * (window * n_steps)).astype(np.int64), n_steps - 1)
    sample = np.repeat(np.arange(n_samples), n_channels)
    channel = np.tile(np.arange(n_channels), n_samples)
    return SpikeSamples.from_events(sample, step.ravel(), channel, n_samples, n_steps,
                                    n_channels, dt)


def load_randman(train_samples=None, test_samples=None, seed=0, dt=2e-3, n_steps=100,
                 classes=DEFAULTS["classes"], channels=DEFAULTS["channels"],
                 samples=DEFAULTS["samples"], dim=DEFAULTS["dim"], alpha=DEFAULTS["alpha"],
                 data_seed=DEFAULTS["data_seed"]):
    """The random-manifold task as a :class:`~ei_brian.datasets.dataset.Dataset` (see the module
    docstring).

    ``samples`` samples are generated per class (:func:`make_randman` with ``data_seed``); of
    each class the last ``round(samples * TEST_FRACTION)`` (at least one) form the test set, the
    others the training set. Subsets of ``train_samples`` and ``test_samples`` are then drawn
    from the run's ``seed`` as for every data set (class-balanced; None: all).

    Parameters
    ----------
    train_samples, test_samples : int or None
    seed : int or numpy.random.SeedSequence
        The run's seed (subsets only: the task itself depends on ``data_seed`` alone).
    dt, n_steps : float, int
        The time grid; spikes fall into the first :data:`WINDOW` of the sample.
    classes, channels, samples, dim, alpha, data_seed
        The task: number of classes, input channels, samples per class, manifold dimension,
        smoothness and the task's own seed.
    """
    samples = _positive_int("samples", samples)
    if samples < 2:
        raise ValueError("randman needs at least 2 samples per class (one for the test set)")
    times, labels = make_randman(classes, channels, samples, dim, alpha, data_seed)
    n_test = min(samples - 1, max(1, int(round(samples * TEST_FRACTION))))
    # rank of each sample within its class (the order is random, so the split is too)
    rank = np.empty(len(labels), dtype=np.int64)
    for k in range(classes):
        positions = np.flatnonzero(labels == k)
        rank[positions] = np.arange(len(positions))
    test = rank >= samples - n_test
    spikes = randman_spikes(times, dt, n_steps, WINDOW)
    return spike_dataset(
        {"train": spikes[~test], "test": spikes[test]}, {"train": labels[~test],
                                                         "test": labels[test]},
        train_samples, test_samples, seed, n_classes=classes, n_channels=channels,
        name="randman", source=(f"generated: {classes} classes, {channels} channels, {samples} "
                                f"samples per class, dim {dim}, alpha {alpha:g}, data seed "
                                f"{data_seed}"),
        class_names=tuple(f"manifold {k}" for k in range(classes)))
