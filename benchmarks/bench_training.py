"""Training throughput: ei_brian (compiled Brian2 forward + NumPy BPTT) beside PyTorch on the CPU.

Both sides train the same model (the default 80:20 network, 160 hidden neurons) from the same
initial weights on the same Fashion-MNIST minibatches, with Adam and the same batch size: a
forward pass, the backward pass and the update per minibatch. The PyTorch side is written the way
PyTorch users write it (``tests/torch_reference.py``: batched tensors, one loop over time steps,
autograd). The PyTorch side's dense input tensors are built outside its timer, while
ei_brian's timing includes encoding, so the comparison favours PyTorch. Throughput depends on how much the network spikes for ei_brian (event-driven) and not
for PyTorch (dense), so the firing rates are printed beside the numbers. Compile time is paid once
per architecture and reported separately.

    python benchmarks/bench_training.py [--batches 12] [--batch-size 256] [--warmup 8]
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
# torch_reference, the tests' PyTorch model
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from ei_brian.config import NetworkConfig, TrainConfig  # noqa: E402
from ei_brian.network import initial_weights  # noqa: E402
from ei_brian.optimizers import Adam  # noqa: E402
from ei_brian.training import Trainer  # noqa: E402


def batches(data, batch_size, count, seed):
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(data.y_train))
    for k in range(count):
        index = order[(k * batch_size) % len(order):][:batch_size]
        yield data.x_train[index], data.y_train[index]


def bench_ei_brian(trainer, weights, plan, learning_rate):
    optimizer = Adam(learning_rate)
    weights = {key: value.copy() for key, value in weights.items()}
    seconds, samples = 0.0, 0
    for k, (x, y) in enumerate(plan):
        start = time.perf_counter()
        trainer.train_batch(weights, optimizer, x, y, batch=k)  # run, gradients, update, Dale
        elapsed = time.perf_counter() - start
        if k >= plan.warmup:
            seconds += elapsed
            samples += len(y)
    return samples / seconds, weights


def bench_torch(config, weights, plan, learning_rate, encode):
    import torch
    network = TorchEINetwork(config, weights, dtype=torch.float32)
    optimizer = torch.optim.Adam(network.parameters(), lr=learning_rate)
    seconds, samples = 0.0, 0
    for k, (x, y) in enumerate(plan):
        inputs = torch.as_tensor(encode(x, "poisson", 0, k).dense(np.float32))  # not timed
        start = time.perf_counter()
        loss, _, _ = network.loss(inputs, torch.as_tensor(y))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        network.clip_()
        elapsed = time.perf_counter() - start
        if k >= plan.warmup:
            seconds += elapsed
            samples += len(y)
    return samples / seconds


class Plan(list):
    warmup = 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=12, help="timed minibatches per side")
    parser.add_argument("--warmup", type=int, default=8,
                        help="untimed minibatches first (they also let the rates move off init)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    global TorchEINetwork
    import torch
    from torch_reference import TorchEINetwork

    net = NetworkConfig()
    train_config = TrainConfig(batch_size=args.batch_size, train_samples=10000, test_samples=100,
                               seed=args.seed)
    start = time.perf_counter()
    trainer = Trainer(net, train_config, verbose=False)
    setup_seconds = time.perf_counter() - start
    weights = initial_weights(net, args.seed, train_config.init_scale_exc,
                              train_config.init_scale_inh, train_config.init_scale_readout)
    plan = Plan(batches(trainer.data, args.batch_size, args.warmup + args.batches, args.seed))
    plan.warmup = args.warmup
    print(f"model: {net.ratio} E:I, {net.n_hidden} hidden, {net.n_steps} steps, batch "
          f"{args.batch_size}; {args.warmup} warm-up + {args.batches} timed minibatches per side")
    how = "compiled now" if trainer.network.compiled else "cached binary reused"
    print(f"ei_brian build step (paid once per architecture): {trainer.network.compile_seconds:.1f} s "
          f"({how}); {setup_seconds:.1f} s with loading the data")
    print(f"threads: PyTorch {torch.get_num_threads()}, ei_brian {trainer.engine.n_threads} "
          f"(+ {trainer.network.processes} processes of the Brian2 program per run)")

    ours, trained = bench_ei_brian(trainer, weights, plan, train_config.learning_rate)
    rates = trainer.evaluate(trained, trainer.data.x_train[:512], trainer.data.y_train[:512])
    theirs = bench_torch(net, weights, plan, train_config.learning_rate, trainer.encode)
    trainer.close()
    print(f"ei_brian : {ours:8.1f} samples/s  (E {rates['rate_exc_hz']:.1f} Hz, "
          f"I {rates['rate_inh_hz']:.1f} Hz after the timed batches)")
    print(f"PyTorch  : {theirs:8.1f} samples/s  (float32, autograd; input encoding not timed)")
    print(f"ratio ei_brian / PyTorch = {ours / theirs:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
