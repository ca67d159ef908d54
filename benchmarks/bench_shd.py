"""Training throughput on SHD-shaped input: ei_brian beside PyTorch on the CPU.

The shape of the Spiking Heidelberg Digits (700 input channels, 20 classes, 350 steps of 2 ms:
700 ms), the default 80:20 network (160 hidden neurons), batch 256, Adam, the same initial
weights and the same minibatches on both sides: a forward pass, the backward pass and the update
per minibatch. No SHD files are needed; the input is one of

- ``shd-like`` (default): SHD files in the official layout written to a temporary folder and read
  through ``--dataset shd`` (so the binning is timed as part of ei_brian's data path, not in the
  loop), each sample ``--spikes-per-sample`` spikes (default 8,000; SHD samples carry thousands)
  at random channels, at times spread over the first 600 ms, class-dependent in channel;
- ``randman``: the random-manifold stand-in on the same grid (one spike per channel, 700 spikes
  a sample, in the first 350 ms). Spread so thinly they leave the default network silent, which
  flatters ei_brian (measured: ratio 1.90 at 0 Hz); the headline number is the shd-like one.

ei_brian's cost grows with the spikes (the compiled run is event-driven), PyTorch's does not
(dense tensors), so the rates and the input spikes are printed beside the numbers. PyTorch's
dense input tensors are built outside its timer, ei_brian's input preparation inside it.

    python benchmarks/bench_shd.py [--input shd-like|randman] [--batches 6] [--warmup 4]
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
# torch_reference, the tests' PyTorch model
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from brian2 import ms  # noqa: E402

from ei_brian import streams  # noqa: E402
from ei_brian.config import NetworkConfig, TrainConfig  # noqa: E402
from ei_brian.optimizers import Adam  # noqa: E402
from ei_brian.training import Trainer  # noqa: E402


def write_shd_like(folder, n_train, n_test, spikes_per_sample, seed):
    """Two SHD files (official layout) of random class-dependent spikes."""
    import h5py
    rng = np.random.default_rng(seed)
    for name, n in (("shd_train.h5", n_train), ("shd_test.h5", n_test)):
        labels = rng.integers(0, 20, n)
        with h5py.File(os.path.join(folder, name), "w") as f:
            times = f.create_dataset("spikes/times", (n,), dtype=h5py.vlen_dtype(np.float32))
            units = f.create_dataset("spikes/units", (n,), dtype=h5py.vlen_dtype(np.uint16))
            for k in range(n):
                # half the spikes anywhere, half in a band of 100 channels set by the class
                count = int(rng.poisson(spikes_per_sample))
                band = rng.integers(0, 100, count // 2) + 30 * labels[k]
                channel = np.concatenate([rng.integers(0, 700, count - count // 2), band])
                times[k] = np.sort(rng.uniform(0.0, 0.6, count)).astype(np.float32)
                units[k] = channel.astype(np.uint16)
            f.create_dataset("labels", data=labels.astype(np.uint16))


class Plan(list):
    warmup = 0


def bench_ei_brian(trainer, weights, plan, learning_rate):
    optimizer = Adam(learning_rate)
    weights = {key: value.copy() for key, value in weights.items()}
    seconds, samples = 0.0, 0
    for k, (x, y) in enumerate(plan):
        start = time.perf_counter()
        trainer.train_batch(weights, optimizer, x, y)  # input spikes, run, gradients, update
        elapsed = time.perf_counter() - start
        if k >= plan.warmup:
            seconds += elapsed
            samples += len(y)
    return samples / seconds, weights


def bench_torch(config, weights, plan, learning_rate, encode):
    import torch
    from torch_reference import TorchEINetwork
    network = TorchEINetwork(config, weights, dtype=torch.float32)
    optimizer = torch.optim.Adam(network.parameters(), lr=learning_rate)
    seconds, samples = 0.0, 0
    for k, (x, y) in enumerate(plan):
        inputs = torch.as_tensor(encode(x, "poisson").dense(np.float32))  # not timed
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", choices=["shd-like", "randman"], default="shd-like")
    parser.add_argument("--spikes-per-sample", type=int, default=8000,
                        help="shd-like: mean spikes of a sample (default %(default)s)")
    parser.add_argument("--batches", type=int, default=6, help="timed minibatches per side")
    parser.add_argument("--warmup", type=int, default=4, help="untimed minibatches first")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    import torch

    n_batches = args.warmup + args.batches
    with tempfile.TemporaryDirectory(prefix="bench_shd_") as folder:
        if args.input == "shd-like":
            write_shd_like(folder, 4 * args.batch_size, args.batch_size, args.spikes_per_sample,
                           args.seed)
            train_config = TrainConfig(dataset="shd", train_samples=None, test_samples=None,
                                       batch_size=args.batch_size, seed=args.seed)
        else:
            train_config = TrainConfig(dataset="randman", train_samples=None, test_samples=None,
                                       batch_size=args.batch_size, seed=args.seed,
                                       randman_samples=60)
        net = NetworkConfig.for_dataset(train_config, dt=2 * ms, duration=700 * ms)
        start = time.perf_counter()
        trainer = Trainer(net, train_config, data_dir=folder, verbose=False)
        setup_seconds = time.perf_counter() - start
    data = trainer.data
    weights, _ = trainer.initial_weights(streams.stream(args.seed, "initial-weights"))
    rng = np.random.default_rng(args.seed)
    plan = Plan()
    for _ in range(n_batches):
        index = rng.choice(data.n_train, size=args.batch_size, replace=False)
        plan.append((data.x_train[index], data.y_train[index]))
    plan.warmup = args.warmup
    spikes = np.mean([x.n_spikes / len(x) for x, _ in plan])
    print(f"model: {net.ratio} E:I, {net.n_hidden} hidden, {net.n_inputs} inputs, "
          f"{net.n_outputs} classes, {net.n_steps} steps of {float(net.dt / ms):g} ms, batch "
          f"{args.batch_size}; {args.warmup} warm-up + {args.batches} timed minibatches per side")
    print(f"input: {args.input}, {spikes:.0f} input spikes per sample after binning "
          f"(compiled capacity {trainer.network.spike_capacity} per run)")
    how = "compiled now" if trainer.network.compiled else "cached binary reused"
    print(f"ei_brian build step (once per architecture): {trainer.network.compile_seconds:.1f} s "
          f"({how}); {setup_seconds:.1f} s with reading the data")
    print(f"threads: PyTorch {torch.get_num_threads()}, ei_brian {trainer.engine.n_threads} "
          f"(+ {trainer.network.processes} processes of the Brian2 program per run)")
    ours, trained = bench_ei_brian(trainer, weights, plan, train_config.learning_rate)
    rates = trainer.evaluate(trained, data.x_train[:512], data.y_train[:512])
    theirs = bench_torch(net, weights, plan, train_config.learning_rate, trainer.encode)
    trainer.close()
    print(f"ei_brian : {ours:8.1f} samples/s  (E {rates['rate_exc_hz']:.1f} Hz, "
          f"I {rates['rate_inh_hz']:.1f} Hz after the timed batches)")
    print(f"PyTorch  : {theirs:8.1f} samples/s  (float32, autograd; dense input not timed)")
    print(f"ratio ei_brian / PyTorch = {ours / theirs:.2f}")
    if rates["rate_exc_hz"] == 0:
        print("note: the hidden E neurons are silent on this input, which makes ei_brian's runs "
              "cheap; compare on an input that drives the network (the default shd-like input)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
