"""The random streams of a run, in one registry.

Every random draw of a run derives from its seed through :class:`numpy.random.SeedSequence`
with a spawn key whose first element names the stream (:data:`STREAMS`), followed by where the
draw is used (for example the epoch and the minibatch). Two streams can never start from the same
state because no two names share a first key; a stream keyed by ``(epoch, minibatch)`` draws the
same numbers whatever was drawn before, so a run killed and resumed draws what an uninterrupted
one draws.

==========================  =====  =============================================================
stream                      key    what it draws
==========================  =====  =============================================================
``initial-weights``         0      initial weights (one child per projection)
``minibatch-order``         1      the order of training samples, epoch after epoch
``probe-samples``           2      the probe test samples whose spike trains are saved
``train-subset``            3      the class-balanced training subset
``test-subset``             4      the class-balanced test subset
``update``                  16     weight-update noise, per (epoch, minibatch)
``input``                   17     input-spike noise of training minibatches
``test-input``              18     input-spike noise of evaluations (``input_noise_at_test``)
``membrane``                19     membrane noise of training minibatches
``target-rate-probe``       20     the training samples on which ``target-rate`` measures rates
``test-membrane``           21     membrane noise of evaluations
``poisson``                 22     Poisson input spikes of training minibatches
``test-poisson``            23     Poisson input spikes of evaluations
``time-constants``          101    per-neuron time constants (``NetworkConfig.time_constants``)
==========================  =====  =============================================================

Not a run stream: the random-manifold *task* (``--dataset randman``) derives from its own data
seed (``TrainConfig.randman_seed``, default 0), not from the run's seed, so that every seed of a
study trains on the same task (:mod:`ei_brian.datasets.randman`); its subsets use
``train-subset`` and ``test-subset`` as every data set's do.
"""
import numpy as np

__all__ = ["STREAMS", "stream", "generator"]

STREAMS = {
    "initial-weights": 0,
    "minibatch-order": 1,
    "probe-samples": 2,
    "train-subset": 3,
    "test-subset": 4,
    "structure": 5,
    "validation-split": 6,
    "update": 16,
    "input": 17,
    "test-input": 18,
    "membrane": 19,
    "target-rate-probe": 20,
    "test-membrane": 21,
    "poisson": 22,
    "test-poisson": 23,
    "time-constants": 101,
}

if len(set(STREAMS.values())) != len(STREAMS):  # pragma: no cover - guards edits of the table
    raise RuntimeError("two random streams share a spawn key")


def stream(seed, name, *key):
    """The seed sequence of stream ``name`` of the run with seed ``seed``.

    Parameters
    ----------
    seed : int
        The run's seed (a non-negative integer).
    name : str
        A name in :data:`STREAMS`.
    *key : int
        Where the draws are used, e.g. ``(epoch, minibatch)``: the same key gives the same draws.

    Returns
    -------
    numpy.random.SeedSequence
    """
    if name not in STREAMS:
        raise ValueError(f"unknown random stream {name!r}; known: {sorted(STREAMS)}")
    return np.random.SeedSequence(int(seed), spawn_key=(STREAMS[name], *(int(k) for k in key)))


def generator(seed, name, *key):
    """A :class:`numpy.random.Generator` on :func:`stream` ``(seed, name, *key)``."""
    return np.random.default_rng(stream(seed, name, *key))
