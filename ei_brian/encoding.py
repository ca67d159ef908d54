"""Spike encodings of images: latency (time to first spike) and Poisson.

Both encoders take a batch of images ``x`` of shape (n_samples, n_channels) with values in [0, 1]
and return a :class:`SpikeInput`: the spikes as three integer arrays (sample, time step, channel),
sorted, with at most one spike per (sample, step, channel). Time is discretised in steps of ``dt``
seconds; sample ``s`` lasts ``n_steps * dt`` seconds. Times are plain floats in seconds, because
Brian2 units are applied by the caller (``step * dt * second``).

Both encoders are vectorised: there is no Python loop over samples or pixels.

Spike data sets (SHD, random manifolds) need no encoding: their samples are kept as events in a
:class:`SpikeSamples`, which gives a minibatch's :class:`SpikeInput` directly.
"""
import dataclasses
import math
import numbers

import numpy as np

#: Largest number of random draws :func:`poisson_encode` makes at once (bounds its memory use).
POISSON_CHUNK_DRAWS = 1 << 23


@dataclasses.dataclass(frozen=True)
class SpikeInput:
    """Input spikes of a batch of samples, on a grid of time steps.

    Attributes
    ----------
    sample : numpy.ndarray of int64, shape (n_spikes,)
        Sample of the batch each spike belongs to, 0 .. n_samples - 1.
    step : numpy.ndarray of int64, shape (n_spikes,)
        Time step of each spike within its sample, 0 .. n_steps - 1 (spike time ``step * dt``).
    channel : numpy.ndarray of int64, shape (n_spikes,)
        Input channel (pixel) of each spike, 0 .. n_channels - 1.
    n_samples, n_steps, n_channels : int
        Size of the grid.
    dt : float
        Length of a time step in seconds.

    Notes
    -----
    Spikes are sorted by (sample, step, channel), and there is at most one spike per
    (sample, step, channel); the constructor checks both, and the ranges.
    """

    sample: np.ndarray
    step: np.ndarray
    channel: np.ndarray
    n_samples: int
    n_steps: int
    n_channels: int
    dt: float = 1e-3

    def __post_init__(self):
        for name in ("n_samples", "n_steps", "n_channels"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
                raise ValueError(f"SpikeInput.{name} must be a non-negative integer, got {value!r}")
            object.__setattr__(self, name, int(value))
        _check_positive("dt", self.dt)
        object.__setattr__(self, "dt", float(self.dt))
        arrays = {}
        for name in ("sample", "step", "channel"):
            array = np.asarray(getattr(self, name))
            if array.ndim != 1 or not (array.size == 0 or np.issubdtype(array.dtype, np.integer)):
                raise ValueError(f"SpikeInput.{name} must be a 1-D integer array, got dtype "
                                 f"{array.dtype} and shape {array.shape}")
            arrays[name] = array.astype(np.int64, copy=False)
            object.__setattr__(self, name, arrays[name])
        if not len(arrays["sample"]) == len(arrays["step"]) == len(arrays["channel"]):
            raise ValueError(f"SpikeInput.sample, step and channel must have the same length, got "
                             f"{len(arrays['sample'])}, {len(arrays['step'])} and "
                             f"{len(arrays['channel'])}")
        for name, size in (("sample", self.n_samples), ("step", self.n_steps),
                           ("channel", self.n_channels)):
            array = arrays[name]
            if array.size and (array.min() < 0 or array.max() >= size):
                raise ValueError(f"SpikeInput.{name} must lie in 0 .. {size - 1}, got values from "
                                 f"{array.min()} to {array.max()}")
        keys = self._flat_index()
        if keys.size > 1 and not np.all(np.diff(keys) > 0):
            raise ValueError("SpikeInput spikes must be sorted by (sample, step, channel) with at "
                             "most one spike per (sample, step, channel)")

    def _flat_index(self):
        return (self.sample * self.n_steps + self.step) * self.n_channels + self.channel

    def subset(self, start, stop):
        """The spikes of samples ``start .. stop - 1``, renumbered from 0 (a contiguous sub-batch)."""
        start, stop = int(start), int(stop)
        if not 0 <= start <= stop <= self.n_samples:
            raise ValueError(f"sample range {start}..{stop} is outside 0..{self.n_samples}")
        lo, hi = np.searchsorted(self.sample, [start, stop])
        return SpikeInput(self.sample[lo:hi] - start, self.step[lo:hi], self.channel[lo:hi],
                          stop - start, self.n_steps, self.n_channels, self.dt)

    @property
    def n_spikes(self):
        """Total number of spikes."""
        return int(self.sample.size)

    @property
    def duration(self):
        """Duration of one sample in seconds, ``n_steps * dt``."""
        return self.n_steps * self.dt

    def times(self):
        """Spike times in seconds from the start of each sample, ``step * dt`` (float64)."""
        return self.step * self.dt

    def dense(self, dtype=float):
        """The spikes as a dense 0/1 array.

        Parameters
        ----------
        dtype : data-type, optional
            Type of the result.

        Returns
        -------
        numpy.ndarray, shape (n_samples, n_steps, n_channels)
            1 where a spike is, 0 elsewhere.
        """
        out = np.zeros((self.n_samples, self.n_steps, self.n_channels), dtype=dtype)
        out[self.sample, self.step, self.channel] = 1
        return out

    @classmethod
    def from_dense(cls, spikes, dt=1e-3):
        """Build a SpikeInput from a dense array of shape (n_samples, n_steps, n_channels).

        Parameters
        ----------
        spikes : array_like, shape (n_samples, n_steps, n_channels)
            Nonzero entries are spikes.
        dt : float, optional
            Length of a time step in seconds.

        Returns
        -------
        SpikeInput
        """
        spikes = np.asarray(spikes)
        if spikes.ndim != 3:
            raise ValueError(f"spikes must have shape (n_samples, n_steps, n_channels), got "
                             f"shape {spikes.shape}")
        sample, step, channel = np.nonzero(spikes)
        return cls(sample, step, channel, *spikes.shape, dt=dt)


def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
            or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def _check_n_steps(n_steps):
    if isinstance(n_steps, bool) or not isinstance(n_steps, numbers.Integral) or n_steps <= 0:
        raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")
    return int(n_steps)


def _check_images(x):
    """Return ``x`` as a float64 array of shape (n_samples, n_channels) with values in [0, 1]."""
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"x must have shape (n_samples, n_channels), got shape {x.shape}; "
                         "flatten images first, e.g. x.reshape(len(x), -1)")
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)
            or x.dtype == bool):
        raise ValueError(f"x must hold real numbers in [0, 1], got dtype {x.dtype}")
    x = x.astype(np.float64, copy=False)
    if x.size:
        if not np.all(np.isfinite(x)):
            raise ValueError("x holds NaN or infinite values; pixel values must lie in [0, 1]")
        low, high = x.min(), x.max()
        if low < 0 or high > 1:
            raise ValueError(f"x must lie in [0, 1], got values from {low} to {high}; scale "
                             "pixels first (e.g. divide uint8 pixels by 255)")
    return x


def latency_times(x, tau_eff=20e-3, threshold=0.2):
    """First-spike latency of each pixel, in seconds (``inf`` where there is no spike).

    ``t = tau_eff * ln(x / (x - threshold))`` for ``x > threshold``: the time a leaky integrator
    with time constant ``tau_eff``, driven by a constant input ``x``, takes to reach ``threshold``.

    Parameters
    ----------
    x : array_like
        Pixel values in [0, 1].
    tau_eff : float, optional
        Effective time constant in seconds.
    threshold : float, optional
        Threshold in [0, 1); pixels at or below it never spike.

    Returns
    -------
    numpy.ndarray of float64
        Same shape as ``x``.
    """
    x = np.asarray(x, dtype=np.float64)
    _check_positive("tau_eff", tau_eff)
    _check_threshold(threshold)
    times = np.full(x.shape, np.inf)
    above = x > threshold
    times[above] = tau_eff * np.log(x[above] / (x[above] - threshold))
    return times


def _check_threshold(threshold):
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) \
            or not 0 <= threshold < 1:
        raise ValueError(f"threshold must be a number in [0, 1), got {threshold!r}")


def latency_encode(x, n_steps=100, dt=1e-3, tau_eff=20e-3, threshold=0.2):
    """Latency code: each pixel brighter than ``threshold`` spikes once; brighter spikes earlier.

    A pixel of value ``x > threshold`` spikes once at ``t = tau_eff * ln(x / (x - threshold))``
    (see :func:`latency_times`), in time step ``floor(t / dt)``, computed exactly as
    ``numpy.floor(t / dt)`` (so a latency that is an exact multiple of ``dt`` in real numbers
    may fall one step early through rounding). Spikes in step ``n_steps`` or later are dropped;
    pixels at or below ``threshold`` never spike.

    With the defaults (dt = 1 ms, 100 steps, tau_eff = 20 ms, threshold = 0.2) a white pixel
    (x = 1) spikes at 4.46 ms (step 4), x = 0.3 at 21.97 ms (step 21), and pixels below about
    0.2014 would spike after 100 ms and are dropped.

    Parameters
    ----------
    x : array_like, shape (n_samples, n_channels)
        Pixel values in [0, 1].
    n_steps : int, optional
        Number of time steps per sample.
    dt : float, optional
        Length of a time step in seconds.
    tau_eff : float, optional
        Effective time constant in seconds.
    threshold : float, optional
        Threshold in [0, 1).

    Returns
    -------
    SpikeInput
        At most one spike per (sample, channel).

    Raises
    ------
    ValueError
        If ``x`` is not 2-D or not in [0, 1], or a parameter is out of range.
    """
    x = _check_images(x)
    n_steps = _check_n_steps(n_steps)
    _check_positive("dt", dt)
    _check_positive("tau_eff", tau_eff)
    _check_threshold(threshold)
    sample, channel = np.nonzero(x > threshold)
    values = x[sample, channel]
    times = tau_eff * np.log(values / (values - threshold))
    step = np.floor(times / dt)
    keep = step < n_steps
    sample, step, channel = sample[keep], step[keep].astype(np.int64), channel[keep]
    # by sample, step, channel: np.nonzero lists each sample's channels in ascending order, and a
    # stable sort by (sample, step) keeps it (the order of np.lexsort, about 4 times faster)
    order = np.argsort(sample * n_steps + step, kind="stable")
    return SpikeInput(sample[order], step[order], channel[order],
                      n_samples=x.shape[0], n_steps=n_steps, n_channels=x.shape[1], dt=dt)


def poisson_encode(x, n_steps=100, dt=1e-3, max_rate=100.0, seed=0):
    """Poisson (Bernoulli) rate code: independent spikes at rate ``x * max_rate``.

    Each (sample, step, channel) spikes with probability ``x * max_rate * dt``, independently.
    The random numbers are ``numpy.random.default_rng(seed).random((n_samples, n_steps,
    n_channels))``, drawn in chunks of samples to bound memory; the result does not depend on
    the chunk size, so the same ``x`` and ``seed`` always give the same spikes.

    Parameters
    ----------
    x : array_like, shape (n_samples, n_channels)
        Pixel values in [0, 1].
    n_steps : int, optional
        Number of time steps per sample.
    dt : float, optional
        Length of a time step in seconds.
    max_rate : float, optional
        Rate of a white pixel (x = 1) in Hz.
    seed : int, numpy.random.SeedSequence or numpy.random.Generator
        Seed of the draws (required to be explicit; None is refused). A Generator is used, and
        advanced, as is.

    Returns
    -------
    SpikeInput

    Raises
    ------
    ValueError
        If ``x`` is not 2-D or not in [0, 1], a parameter is out of range, or
        ``max_rate * dt > 1`` (the spike probability per step would exceed 1).
    """
    x = _check_images(x)
    n_steps = _check_n_steps(n_steps)
    _check_positive("dt", dt)
    _check_positive("max_rate", max_rate)
    if max_rate * dt > 1:
        raise ValueError(f"max_rate * dt = {max_rate} Hz * {dt} s = {max_rate * dt} is a spike "
                         "probability above 1 per step; lower max_rate or dt")
    if seed is None:
        raise ValueError("seed must be given explicitly (an int, a numpy.random.SeedSequence or a "
                         "numpy.random.Generator), not None")
    rng = np.random.default_rng(seed)
    n_samples, n_channels = x.shape
    probability = x * (max_rate * dt)
    chunk = max(1, POISSON_CHUNK_DRAWS // max(1, n_steps * n_channels))
    samples, steps, channels = [], [], []
    for start in range(0, n_samples, chunk):
        p = probability[start:start + chunk]
        spikes = rng.random((len(p), n_steps, n_channels)) < p[:, None, :]
        sample, step, channel = np.nonzero(spikes)
        samples.append(sample + start)
        steps.append(step)
        channels.append(channel)
    if samples:
        sample, step, channel = (np.concatenate(a) for a in (samples, steps, channels))
    else:
        sample = step = channel = np.zeros(0, dtype=np.int64)
    return SpikeInput(sample, step, channel, n_samples=n_samples, n_steps=n_steps,
                      n_channels=n_channels, dt=dt)


@dataclasses.dataclass(frozen=True, eq=False)
class SpikeSamples:
    """The samples of a spike data set (SHD, random manifolds), kept as spike events.

    A spike data set holds these where an image data set holds an array of images: indexing
    (``samples[3:9]``, ``samples[index_array]``, ``samples[bool_mask]``) gives another
    :class:`SpikeSamples`, ``len`` the number of samples, and :meth:`to_input` the
    :class:`SpikeInput` of a minibatch, ready for a compiled run. The events of sample ``k`` are
    ``step[offsets[k]:offsets[k + 1]]`` and ``channel[...]``, sorted by (step, channel) with at
    most one spike per (step, channel).

    Attributes
    ----------
    offsets : numpy.ndarray of int64, shape (n_samples + 1,)
        Start of each sample's events; ``offsets[0] == 0``, ``offsets[-1] == n_spikes``.
    step, channel : numpy.ndarray of int16 or int32, shape (n_spikes,)
        Time step and input channel of each event.
    n_steps, n_channels : int
        Size of the grid.
    dt : float
        Length of a time step in seconds.

    Use :meth:`from_events` to build one from unsorted events (it sorts them and merges spikes of
    one channel in one step).
    """

    offsets: np.ndarray
    step: np.ndarray
    channel: np.ndarray
    n_steps: int
    n_channels: int
    dt: float = 1e-3

    def __post_init__(self):
        n_steps, n_channels = _check_n_steps(self.n_steps), int(self.n_channels)
        _check_positive("dt", self.dt)
        offsets = np.asarray(self.offsets, dtype=np.int64)
        step, channel = np.asarray(self.step), np.asarray(self.channel)
        if offsets.ndim != 1 or offsets.size < 1 or offsets[0] != 0 or \
                np.any(np.diff(offsets) < 0) or offsets[-1] != step.size:
            raise ValueError("SpikeSamples.offsets must start at 0, never decrease and end at the "
                             "number of events")
        if step.shape != channel.shape or step.ndim != 1:
            raise ValueError("SpikeSamples.step and channel must be 1-D arrays of one length")
        if step.size and (step.min() < 0 or step.max() >= n_steps or channel.min() < 0
                          or channel.max() >= n_channels):
            raise ValueError(f"SpikeSamples events must lie in 0 .. {n_steps - 1} (steps) and "
                             f"0 .. {n_channels - 1} (channels)")
        object.__setattr__(self, "offsets", offsets)
        object.__setattr__(self, "step", step)
        object.__setattr__(self, "channel", channel)
        object.__setattr__(self, "n_steps", n_steps)
        object.__setattr__(self, "n_channels", n_channels)
        object.__setattr__(self, "dt", float(self.dt))

    @classmethod
    def from_events(cls, sample, step, channel, n_samples, n_steps, n_channels, dt=1e-3):
        """Build from events in any order; spikes of one channel in one step count once.

        Parameters
        ----------
        sample, step, channel : array_like of int, shape (n_events,)
            Sample (0 .. n_samples - 1), time step and channel of each event.
        n_samples, n_steps, n_channels : int
        dt : float

        Returns
        -------
        SpikeSamples
        """
        sample = np.asarray(sample, dtype=np.int64)
        step = np.asarray(step, dtype=np.int64)
        channel = np.asarray(channel, dtype=np.int64)
        n_samples, n_steps, n_channels = int(n_samples), int(n_steps), int(n_channels)
        if sample.size and (sample.min() < 0 or sample.max() >= n_samples):
            raise ValueError(f"sample indices must lie in 0 .. {n_samples - 1}")
        if step.size and (step.min() < 0 or step.max() >= n_steps or channel.min() < 0
                          or channel.max() >= n_channels):
            raise ValueError(f"events must lie in 0 .. {n_steps - 1} (steps) and "
                             f"0 .. {n_channels - 1} (channels)")
        keys = np.sort((sample * n_steps + step) * n_channels + channel)
        if keys.size > 1:  # merge duplicates (faster than numpy.unique's hash path here)
            keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
        sample, rest = np.divmod(keys, n_steps * n_channels)
        step, channel = np.divmod(rest, n_channels)
        offsets = np.zeros(n_samples + 1, dtype=np.int64)
        np.cumsum(np.bincount(sample, minlength=n_samples), out=offsets[1:])
        return cls(offsets, step.astype(_event_dtype(n_steps)),
                   channel.astype(_event_dtype(n_channels)), n_steps, n_channels, dt)

    @classmethod
    def concatenate(cls, parts):
        """The samples of several :class:`SpikeSamples` of one grid, one after another."""
        parts = list(parts)
        if not parts:
            raise ValueError("nothing to concatenate")
        first = parts[0]
        for part in parts[1:]:
            if (part.n_steps, part.n_channels, part.dt) != (first.n_steps, first.n_channels,
                                                            first.dt):
                raise ValueError("SpikeSamples on different grids cannot be concatenated")
        counts = np.concatenate([part.counts() for part in parts])
        offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return cls(offsets, np.concatenate([part.step for part in parts]),
                   np.concatenate([part.channel for part in parts]), first.n_steps,
                   first.n_channels, first.dt)

    def __len__(self):
        return self.offsets.size - 1

    @property
    def shape(self):
        """``(n_samples, n_steps, n_channels)``, the shape of :meth:`dense`."""
        return (len(self), self.n_steps, self.n_channels)

    @property
    def n_spikes(self):
        """Total number of spikes."""
        return int(self.offsets[-1])

    @property
    def duration(self):
        """Duration of one sample in seconds, ``n_steps * dt``."""
        return self.n_steps * self.dt

    def counts(self):
        """Number of spikes of each sample (int64 array of ``len(self)``)."""
        return np.diff(self.offsets)

    def __getitem__(self, index):
        n = len(self)
        if isinstance(index, slice):
            index = np.arange(n)[index]
        elif isinstance(index, numbers.Integral) and not isinstance(index, bool):
            if not -n <= index < n:
                raise IndexError(f"sample {index} is outside 0 .. {n - 1}")
            index = np.array([index % n])
        else:
            index = np.asarray(index)
            if index.dtype == bool:
                if index.shape != (n,):
                    raise IndexError(f"a boolean index needs shape ({n},), got {index.shape}")
                index = np.flatnonzero(index)
            elif index.size == 0:
                index = np.zeros(0, dtype=np.int64)
            elif not np.issubdtype(index.dtype, np.integer) or index.ndim != 1:
                raise IndexError("index SpikeSamples with a slice, an integer, or a 1-D integer "
                                 "or boolean array")
            if index.size and (index.min() < -n or index.max() >= n):
                raise IndexError(f"sample index out of range 0 .. {n - 1}")
            index = index % max(n, 1)
        starts, counts = self.offsets[index], np.diff(self.offsets)[index]
        offsets = np.zeros(index.size + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        # positions of the chosen events: each sample's run start .. start + count
        positions = np.arange(offsets[-1]) - np.repeat(offsets[:-1] - starts, counts)
        return SpikeSamples(offsets, self.step[positions], self.channel[positions], self.n_steps,
                            self.n_channels, self.dt)

    def to_input(self):
        """The :class:`SpikeInput` of these samples (sample ``k`` of the batch is ``self[k]``)."""
        sample = np.repeat(np.arange(len(self), dtype=np.int64), self.counts())
        return SpikeInput(sample, self.step.astype(np.int64), self.channel.astype(np.int64),
                          n_samples=len(self), n_steps=self.n_steps, n_channels=self.n_channels,
                          dt=self.dt)

    def dense(self, dtype=float):
        """The spikes as a dense 0/1 array of shape (n_samples, n_steps, n_channels)."""
        return self.to_input().dense(dtype)


def _event_dtype(size):
    """The smallest of int16 and int32 that holds 0 .. size - 1."""
    return np.int16 if size <= np.iinfo(np.int16).max else np.int32
