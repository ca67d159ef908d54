"""Where a training minibatch's time goes: encoding, the compiled run, the gradients, the update.

Runs the calls of ``Trainer.train_batch`` one by one on Fashion-MNIST minibatches and times each,
plus a compiled run whose input is a single spike (the run's fixed cost: starting the program,
files, the state updates of every step) and the forward replay alone (one thread).

    python benchmarks/bench_minibatch_parts.py [--hidden 160] [--connectivity 1] [--batches 20]
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from ei_brian import gradients  # noqa: E402
from ei_brian.config import NetworkConfig, TrainConfig  # noqa: E402
from ei_brian.encoding import SpikeInput  # noqa: E402
from ei_brian.optimizers import Adam  # noqa: E402
from ei_brian.sparse_gradients import SparseOperators  # noqa: E402
from ei_brian.training import Trainer, update_weights  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=160)
    parser.add_argument("--connectivity", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--batches", type=int, default=20, help="timed minibatches")
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args(argv)
    net = NetworkConfig(n_hidden=args.hidden, connectivity=args.connectivity)
    batch = args.batch_size
    trainer = Trainer(net, TrainConfig(batch_size=batch, train_samples=5000, test_samples=100),
                      verbose=False)
    weights, _ = trainer.initial_weights(0)
    optimizer = Adam(5e-3)
    one_spike = SpikeInput(np.array([batch - 1]), np.array([net.n_steps - 1]), np.array([0]),
                           batch, net.n_steps, net.n_inputs, float(net.dt))
    totals = dict.fromkeys(("encoding", "compiled run", "  of which fixed (one input spike)",
                            "gradients (replay + backward)", "  replay alone, one thread",
                            "update"), 0.0)
    n_batches = len(trainer.data.y_train) // batch
    workspace = gradients.Workspace()  # the replay's arrays reused, as in training
    for k in range(args.warmup + args.batches):
        index = slice((k % n_batches) * batch, (k % n_batches + 1) * batch)
        x, y = trainer.data.x_train[index], trainer.data.y_train[index]
        # a sparse network's replay runs on its synapse lists (built here, outside the clocks)
        operators = (None if trainer.structure is None or not net.sparse
                     else SparseOperators(net, trainer.structure, weights))
        clock = [time.perf_counter()]
        spike_input = trainer.encode(x, "poisson", 0, k)
        clock.append(time.perf_counter())
        result = trainer.network.run(weights, spike_input)
        clock.append(time.perf_counter())
        trainer.network.run(weights, one_spike)
        clock.append(time.perf_counter())
        _, grads, _ = trainer.engine(weights, spike_input, y, hidden_spikes=result.hidden_spikes,
                                     readout=result.readout)
        clock.append(time.perf_counter())
        gradients.forward(net, weights, spike_input, hidden_spikes=result.hidden_spikes,
                          workspace=workspace, operators=operators)
        clock.append(time.perf_counter())
        update_weights(net, weights, optimizer, grads, structure=trainer.structure)
        clock.append(time.perf_counter())
        if k >= args.warmup:
            for name, a, b in zip(totals, clock, clock[1:]):
                totals[name] += b - a
    trainer.close()
    print(f"{args.hidden} hidden, connectivity {args.connectivity:g}, batch {batch}: mean over "
          f"{args.batches} minibatches")
    for name, seconds in totals.items():
        print(f"  {name:32s} {1e3 * seconds / args.batches:8.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
