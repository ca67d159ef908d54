"""Noise during training: on the weight updates and on the input spikes.

The study (docs/model.md) asks whether networks still train when every weight
update is noisy, as on stochastic neuromorphic hardware, and when the input spikes are jittered,
deleted or inserted. Both act on NumPy arrays between compiled runs, so the compiled program never
changes between minibatches.

**Update noise** (:func:`add_update_noise`): Gaussian noise added to each element of the update the
optimizer computed, before the Dale's-law projection (magnitudes clipped at zero), so a noisy step
can push a weight below zero and the projection then puts it back to zero:

- ``relative``: ``update + eta * |update| * N(0, 1)`` (std ``eta`` times the size of the update);
- ``absolute``: ``update + eta * N(0, 1)`` (std ``eta``, in weight units).

**Input noise** (:func:`perturb_input`), applied in this order to a :class:`SpikeInput`:

1. jitter: every spike moves by ``round(N(0, jitter^2) / dt)`` steps, clipped to the sample
   (``0 .. n_steps - 1``); spikes of one channel that land in the same step merge into one;
2. deletion: every spike is removed with probability ``deletion``;
3. insertion: every empty (sample, step, channel) cell gets a spike with probability
   ``insertion``, independently (drawn without touching every cell: the gaps between inserted
   spikes along the empty cells are geometric, which is the same Bernoulli process).

**Seeds.** Every random stream derives from the run's seed with :func:`numpy.random.SeedSequence`
and a key of its own (:data:`STREAMS`); each minibatch draws from a fresh sub-stream keyed by
(epoch, minibatch), see :func:`minibatch_seed`, so a run resumed after a kill draws exactly what an
uninterrupted run draws.
"""
import math
import numbers

import numpy as np

from ei_brian import streams
from ei_brian.encoding import SpikeInput
from ei_brian.streams import STREAMS as _ALL_STREAMS

__all__ = ["STREAMS", "UPDATE_NOISE_KINDS", "minibatch_seed", "add_update_noise", "perturb_input",
           "insertion_capacity"]

#: kinds of weight-update noise
UPDATE_NOISE_KINDS = ("relative", "absolute")

#: the noise streams of a run (their spawn keys are kept with every other stream in
#: :data:`ei_brian.streams.STREAMS`)
STREAMS = {name: _ALL_STREAMS[name] for name in ("update", "input", "test-input", "membrane",
                                            "test-membrane")}


def minibatch_seed(seed, stream, *key):
    """The seed of one minibatch's draws of one noise stream.

    Parameters
    ----------
    seed : int
        The run's seed.
    stream : str
        A name in :data:`STREAMS` (``"update"``, ``"input"``, ``"test-input"``).
    *key : int
        Where the draws are used, e.g. ``(epoch, minibatch)``: the same key gives the same draws,
        whatever was drawn before.

    Returns
    -------
    numpy.random.SeedSequence
    """
    if stream not in STREAMS:
        raise ValueError(f"unknown noise stream {stream!r}; known: {sorted(STREAMS)}")
    return streams.stream(seed, stream, *key)


def _check_probability(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
    return float(value)


def _check_non_negative(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
            or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def _generator(seed):
    if seed is None:
        raise ValueError("seed must be given explicitly (an int, a numpy.random.SeedSequence or a "
                         "numpy.random.Generator), not None")
    return np.random.default_rng(seed)


def add_update_noise(updates, eta, kind="relative", seed=None):
    """Weight updates with Gaussian noise added to every element.

    Parameters
    ----------
    updates : dict of str to ndarray
        The updates the optimizer computed (:meth:`ei_brian.optimizers.Adam.updates`); not changed.
    eta : float
        Noise level: std relative to each element's update size (``relative``) or in weight units
        (``absolute``). 0 returns the updates unchanged.
    kind : {"relative", "absolute"}
    seed : int, numpy.random.SeedSequence or numpy.random.Generator
        Seed of the draws (one standard normal per element, arrays in sorted order of their names).

    Returns
    -------
    dict of str to ndarray
        New arrays ``update + eta * scale * N(0, 1)`` with ``scale = |update|`` or ``1``.
    """
    eta = _check_non_negative("eta", eta)
    if kind not in UPDATE_NOISE_KINDS:
        raise ValueError(f"update noise kind {kind!r} is unknown; use relative or absolute")
    if eta == 0:
        return {name: np.array(update, dtype=np.float64) for name, update in updates.items()}
    rng = _generator(seed)
    noisy = {}
    for name in sorted(updates):
        update = np.asarray(updates[name], dtype=np.float64)
        draw = rng.standard_normal(update.shape)
        scale = np.abs(update) if kind == "relative" else 1.0
        noisy[name] = update + eta * scale * draw
    return {name: noisy[name] for name in updates}


def _decode(flat, n_steps, n_channels):
    sample, rest = np.divmod(flat, n_steps * n_channels)
    step, channel = np.divmod(rest, n_channels)
    return sample, step, channel


def _bernoulli_positions(rng, n_cells, probability):
    """Sorted positions ``0 .. n_cells - 1`` chosen independently with ``probability`` each.

    The gaps between successive chosen positions of a Bernoulli process are geometric, so the
    positions are cumulative sums of geometric draws; memory grows with the number chosen, not
    with ``n_cells``.
    """
    if probability == 0 or n_cells == 0:
        return np.zeros(0, dtype=np.int64)
    parts, last = [], -1
    expected = n_cells * probability
    while True:
        count = int(expected + 6 * math.sqrt(expected) + 16)
        positions = last + np.cumsum(rng.geometric(probability, size=count))
        if positions[-1] >= n_cells:
            parts.append(positions[positions < n_cells])
            break
        parts.append(positions)
        last = int(positions[-1])
    return np.concatenate(parts).astype(np.int64)


def perturb_input(spike_input, jitter=0.0, deletion=0.0, insertion=0.0, seed=None):
    """Input spikes with jitter, deletion and insertion noise (see the module docstring).

    Parameters
    ----------
    spike_input : ei_brian.encoding.SpikeInput
        Not changed.
    jitter : float
        Std of the Gaussian spike-time jitter, in seconds (rounded to whole steps of ``dt``).
    deletion : float
        Probability that a spike is removed.
    insertion : float
        Probability that an empty (sample, step, channel) cell gets a spike.
    seed : int, numpy.random.SeedSequence or numpy.random.Generator
        Seed of the draws; required unless all three levels are 0.

    Returns
    -------
    SpikeInput
        Sorted by (sample, step, channel), at most one spike per cell; ``spike_input`` itself when
        all three levels are 0.
    """
    jitter = _check_non_negative("jitter", jitter)
    deletion = _check_probability("deletion", deletion)
    insertion = _check_probability("insertion", insertion)
    if jitter == 0 and deletion == 0 and insertion == 0:
        return spike_input
    rng = _generator(seed)
    n_steps, n_channels = spike_input.n_steps, spike_input.n_channels
    sample, step, channel = spike_input.sample, spike_input.step, spike_input.channel
    flat = spike_input._flat_index()
    if jitter > 0 and flat.size:
        shift = np.rint(rng.normal(0.0, jitter / spike_input.dt, size=flat.size)).astype(np.int64)
        step = np.clip(step + shift, 0, n_steps - 1)
        flat = np.unique((sample * n_steps + step) * n_channels + channel)  # sorted, merged
    if deletion > 0 and flat.size:
        flat = flat[rng.random(flat.size) >= deletion]
    if insertion > 0:
        n_cells = spike_input.n_samples * n_steps * n_channels
        ranks = _bernoulli_positions(rng, n_cells - flat.size, insertion)
        # the r-th empty cell is cell r + (number of occupied cells before it)
        occupied_before = np.searchsorted(flat - np.arange(flat.size), ranks, side="right")
        flat = np.sort(np.concatenate([flat, ranks + occupied_before]))
    sample, step, channel = _decode(flat, n_steps, n_channels)
    return SpikeInput(sample, step, channel, spike_input.n_samples, n_steps, n_channels,
                      spike_input.dt)


def insertion_capacity(n_cells, insertion, margin=8.0):
    """Spike slots to reserve for the insertions into ``n_cells`` empty cells: the expected number
    plus ``margin`` standard deviations (the chance of needing more is below 1e-15)."""
    insertion = _check_probability("insertion", insertion)
    expected = n_cells * insertion
    return int(math.ceil(expected + margin * math.sqrt(expected * (1 - insertion)))) + 64
