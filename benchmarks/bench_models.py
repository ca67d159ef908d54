"""The engine derived from a model's equations beside the hand-written LIF engine, in one run.

For the default network (80:20, 160 hidden neurons, 784 inputs, 100 steps of 1 ms) and minibatches
of 256 samples, both engines compute the loss and gradients of the same minibatch from the same
recorded spikes and readout, as training does after each compiled run: the hand-written one
(``ei_brian.gradients``, chosen for ``--neuron-model lif``) and the derived one
(``ei_brian.derived``) on the LIF model's file (``ei_brian/models/lif.toml``), which is the same
model. They take turns (A B A B ...) in one process and one thread (BLAS too, as a study run);
the script prints the median time per minibatch of each, their ratio, and the largest relative
difference of the gradients. The derived engine's time for the built-in ``alif`` and ``qif``
models is printed beside it.

The inputs are latency-coded random images (a spike per channel for about half of the 784
channels, in the first 60 steps), the weights the ``scale`` initialization's at gain 0.6, so the
hidden neurons fire at about 15 Hz; the spikes are the hand-written engine's free run.

    python benchmarks/bench_models.py [--repeats 7] [--batch 256]

Run it on a quiet machine: it measures wall time.
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402
import threadpoolctl  # noqa: E402

from ei_brian import derived, gradients  # noqa: E402
from ei_brian.config import NetworkConfig  # noqa: E402
from ei_brian.encoding import SpikeInput  # noqa: E402
from ei_brian.network import initial_weights  # noqa: E402
from ei_brian.neuron_model import MODELS_DIR  # noqa: E402


def inputs(config, n_samples, seed):
    rng = np.random.default_rng(seed)
    dense = np.zeros((n_samples, config.n_steps, config.n_inputs), dtype=bool)
    active = rng.random((n_samples, config.n_inputs)) < 0.5
    steps = rng.integers(0, 60, size=(n_samples, config.n_inputs))
    sample, channel = np.nonzero(active)
    dense[sample, steps[sample, channel], channel] = True
    return SpikeInput.from_dense(dense, dt=float(config.dt))


def timed(engine, weights, spike_input, labels, spikes, readout):
    start = time.perf_counter()
    loss, grads, _ = engine(weights, spike_input, labels, hidden_spikes=spikes, readout=readout)
    return time.perf_counter() - start, loss, grads


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args(argv)
    config = NetworkConfig()
    with open(os.path.join(MODELS_DIR, "lif.toml")) as f:
        lif_file = config.replace(neuron_model=f.read())
    weights = initial_weights(config, seed=0, scale_exc=0.6, scale_inh=0.6)
    spike_input = inputs(config, args.batch, seed=1)
    labels = np.random.default_rng(2).integers(0, config.n_outputs, args.batch)
    free = gradients.forward(config, weights, spike_input)  # the spikes a compiled run records
    spikes, readout = free.spikes, free.readout
    rates = spikes.mean(axis=(0, 1)) / float(config.dt)
    print(f"default network, batch {args.batch}: E {rates[:config.n_exc].mean():.1f} Hz, "
          f"I {rates[config.n_exc:].mean():.1f} Hz; {args.repeats} repeats, 1 thread")
    engines = {"hand-written (lif)": gradients.GradientEngine(config, n_threads=1),
               "derived (lif.toml)": derived.DerivedEngine(lif_file, n_threads=1)}
    others = {name: derived.DerivedEngine(config.replace(neuron_model=name), n_threads=1)
              for name in ("alif", "qif")}
    times = {name: [] for name in [*engines, *others]}
    results = {}
    with threadpoolctl.threadpool_limits(1):
        for name, engine in [*engines.items(), *others.items()]:  # warm-up (builds, caches)
            timed(engine, weights, spike_input, labels, spikes if name in engines else None,
                  readout if name in engines else None)
        for _ in range(args.repeats):
            for name, engine in engines.items():
                seconds, loss, grads = timed(engine, weights, spike_input, labels, spikes, readout)
                times[name].append(seconds)
                results[name] = (loss, grads)
        # alif and qif fire other spikes: their own free run gives them, timed from a replay
        for name, engine in others.items():
            own = derived.forward(engine.config, weights, spike_input)
            for _ in range(args.repeats):
                seconds, _, _ = timed(engine, weights, spike_input, labels, own.spikes,
                                      own.readout)
                times[name].append(seconds)
    (hand_loss, hand), (derived_loss, other) = results.values()
    error = max(np.abs(other[key] - hand[key]).max() / np.abs(hand[key]).max() for key in hand)
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"{'engine':<22} {'median ms per minibatch':>24} {'samples/s':>10}")
    for name, value in medians.items():
        print(f"{name:<22} {1000 * value:>24.1f} {args.batch / value:>10.0f}")
    ratio = medians["derived (lif.toml)"] / medians["hand-written (lif)"]
    print(f"derived / hand-written on the same LIF model: {ratio:.2f}x the time; largest relative "
          f"gradient difference {error:.1e}, losses {hand_loss:.12g} and {derived_loss:.12g}")
    for engine in [*engines.values(), *others.values()]:
        engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
