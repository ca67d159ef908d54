"""The random streams of a run: one registry, every stream distinct by construction."""
import itertools

import numpy as np
import pytest

from ei_brian import streams
from ei_brian.data import load_dataset


def test_every_stream_of_a_run_starts_from_its_own_state():
    assert len(set(streams.STREAMS.values())) == len(streams.STREAMS)
    for seed in (0, 1, 7):
        first = {name: tuple(streams.stream(seed, name).generate_state(4))
                 for name in streams.STREAMS}
        assert len(set(first.values())) == len(first)
        # keyed draws (epoch, minibatch) differ from each other and from the unkeyed stream
        keyed = {(name, *key): tuple(streams.stream(seed, name, *key).generate_state(4))
                 for name in ("update", "poisson") for key in itertools.product(range(3), range(3))}
        assert len(set(keyed.values()) | set(first.values())) == len(keyed) + len(first)


def test_the_same_key_gives_the_same_draws_and_unknown_names_are_refused():
    a = streams.generator(3, "poisson", 2, 5).random(5)
    np.testing.assert_array_equal(a, streams.generator(3, "poisson", 2, 5).random(5))
    assert not np.array_equal(a, streams.generator(4, "poisson", 2, 5).random(5))
    with pytest.raises(ValueError, match="unknown random stream"):
        streams.stream(0, "synapses")


def test_the_data_subsets_do_not_share_a_stream_with_training():
    """The test subset and the minibatch order used to start from one state (issue: random
    streams); now the subset draws are the registry's own streams."""
    data = load_dataset("fashion-mnist", train_samples=500, test_samples=300, seed=5)
    order = streams.generator(5, "minibatch-order").permutation(10_000)
    test_draw = np.random.default_rng(streams.stream(5, "test-subset")).permutation(10_000)
    assert not np.array_equal(order, test_draw)
    again = load_dataset("fashion-mnist", train_samples=500, test_samples=300, seed=5)
    np.testing.assert_array_equal(data.test_indices, again.test_indices)
    other = load_dataset("fashion-mnist", train_samples=500, test_samples=200, seed=5)
    np.testing.assert_array_equal(data.train_indices, other.train_indices)
