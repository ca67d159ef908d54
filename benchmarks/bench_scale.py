"""Training cost against network size: ei_brian dense and sparse beside dense PyTorch.

For each hidden size (80:20) it trains, from the same initial weights (the default ``scale``
initialization) on the same latency-coded Fashion-MNIST minibatches, with Adam:

- ``ei_brian dense``: ei_brian at connectivity 1 (every hidden neuron connected to every other);
- ``ei_brian p=0.1``: ei_brian with ``--connectivity 0.1`` (each hidden neuron receives 10 % of the
  possible synapses from the E and from the I population; the input stays all to all: with 10 %
  of the input synapses as well the default initialization leaves the network silent);
- ``PyTorch dense``: the dense model in PyTorch (``tests/torch_reference.py``: float32, autograd,
  the way PyTorch users write it; its dense input tensors are built outside its timer).

Each (size, side) runs in a fresh process, so its peak memory is its own: the Python process's
peak resident memory and the peak of its child processes (the compiled Brian2 program, or the
compiler; sampled every 50 ms); the memory bound of the issue applies to their sum. Per side a warm-up minibatch, then
minibatches until ``--seconds`` have passed (at least ``--min-batches``). ei_brian's time is split
into the compiled run (writing inputs, the Brian2 program, reading results), the gradients
(replay and backward pass) and the update. Sides that would not fit in memory or time are left
out with ``--skip``.

    python benchmarks/bench_scale.py [--sizes 160 640 2560 5120] [--out benchmarks/results]

Writes ``scale.csv`` and ``scale.png`` (cost per sample and peak memory against size) in ``--out``.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))  # torch_reference, the tests' PyTorch model

SIDES = ("ei_brian dense", "ei_brian p=0.1", "PyTorch dense")


class ChildMemory(threading.Thread):
    """Samples the resident memory of this process's children every 50 ms (Linux
    ``/proc/<pid>/task/<tid>/children``); ``peak`` is the largest sum seen (GB). (``getrusage``
    cannot tell: a forked child's peak counts the pages it shares with its parent.) It reads a
    few small files per sample: scanning all of ``/proc`` held the GIL long enough to slow the
    gradient threads by half."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak = 0.0
        self.running = True

    @staticmethod
    def _children():
        pids = []
        for task in os.listdir(f"/proc/{os.getpid()}/task"):
            try:
                with open(f"/proc/{os.getpid()}/task/{task}/children") as f:
                    pids += f.read().split()
            except OSError:
                pass
        return pids

    def run(self):
        while self.running:
            total = 0
            for pid in self._children():
                try:
                    with open(f"/proc/{pid}/statm") as f:
                        total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
                except OSError:
                    continue
            self.peak = max(self.peak, total / 1e9)
            time.sleep(0.05)


def peak_memory_gb(children):
    """Peak resident memory of this process and the sampled peak of its children (GB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB on Linux
    return own, children.peak


def minibatches(data, batch_size, seed):
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(data.y_train))
    k = 0
    while True:
        index = order[(k * batch_size) % len(order):][:batch_size]
        if len(index) < batch_size:
            index = order[:batch_size]
        yield data.x_train[index], data.y_train[index]
        k += 1


def measure(side, n_hidden, batch_size, seconds, min_batches, seed):
    """Train one side for about ``seconds``; returns a dict of results (run in a child process)."""
    from ei_brian.config import NetworkConfig, TrainConfig
    from ei_brian.optimizers import Adam
    from ei_brian.training import Trainer, update_weights

    children = ChildMemory()
    children.start()
    connectivity = 0.1 if side == "ei_brian p=0.1" else 1.0
    net = NetworkConfig(n_hidden=n_hidden, connectivity=connectivity)
    train_config = TrainConfig(batch_size=batch_size, train_samples=5000, test_samples=100,
                               seed=seed)
    start = time.perf_counter()
    trainer = Trainer(net, train_config, verbose=False, compile=side != "PyTorch dense")
    setup = time.perf_counter() - start
    weights, _ = trainer.initial_weights(seed) if side != "PyTorch dense" else (None, None)
    plan = minibatches(trainer.data, batch_size, seed)
    parts = {"run": 0.0, "gradients": 0.0, "update": 0.0}
    timed, samples, spikes = 0.0, 0, np.zeros(2)
    if side == "PyTorch dense":
        import torch
        from ei_brian.network import initial_weights
        from torch_reference import TorchEINetwork
        weights = initial_weights(net, seed, train_config.init_scale_exc,
                                  train_config.init_scale_inh, train_config.init_scale_readout)
        network = TorchEINetwork(net, weights, dtype=torch.float32)
        optimizer = torch.optim.Adam(network.parameters(), lr=train_config.learning_rate)
        k = 0
        while k < 1 + min_batches or timed < seconds:
            x, y = next(plan)
            inputs = torch.as_tensor(trainer.encode(x, "poisson", 0, k).dense(np.float32))
            began = time.perf_counter()
            loss, _, hidden = network.loss(inputs, torch.as_tensor(y))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            network.clip_()
            elapsed = time.perf_counter() - began
            if k >= 1:
                timed += elapsed
                samples += len(y)
                s = hidden.detach().numpy()
                spikes += s[..., :net.n_exc].sum(), s[..., net.n_exc:].sum()
            k += 1
    else:
        optimizer = Adam(train_config.learning_rate)
        k = 0
        while k < 1 + min_batches or timed < seconds:
            x, y = next(plan)
            clock = [time.perf_counter()]
            spike_input = trainer.encode(x, "poisson", 0, k)
            result = trainer.network.run(weights, spike_input)
            clock.append(time.perf_counter())
            _, grads, _ = trainer.engine(weights, spike_input, y, hidden_spikes=result.hidden_spikes,
                                         readout=result.readout)
            clock.append(time.perf_counter())
            update_weights(net, weights, optimizer, grads, structure=trainer.structure)
            clock.append(time.perf_counter())
            if k >= 1:
                for name, a, b in zip(parts, clock, clock[1:]):
                    parts[name] += b - a
                timed += clock[-1] - clock[0]
                samples += len(y)
                s = result.hidden_spikes
                spikes += s[..., :net.n_exc].sum(), s[..., net.n_exc:].sum()
            k += 1
        trainer.close()
    duration = samples * float(net.sample_duration)
    own, child = peak_memory_gb(children)
    children.running = False
    synapses = net.n_hidden * (net.fan_in("ee") + net.fan_in("ie"))
    return {"side": side, "n_hidden": n_hidden, "recurrent_synapses": int(synapses),
            "samples_per_s": samples / timed, "timed_batches": k - 1,
            "seconds_per_batch": timed / (k - 1),
            **{f"share_{name}": value / timed for name, value in parts.items()},
            "rate_exc_hz": spikes[0] / (net.n_exc * duration),
            "rate_inh_hz": spikes[1] / (net.n_inh * duration),
            "peak_gb_python": own, "peak_gb_child": child, "peak_gb_total": own + child,
            "setup_s": setup}


def plot(table, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker
    figure, (cost, memory) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    styles = {"ei_brian dense": ("C0", "o"), "ei_brian p=0.1": ("C2", "s"),
              "PyTorch dense": ("C3", "^")}
    for side, group in table.groupby("side", sort=False):
        colour, marker = styles[side]
        group = group.sort_values("n_hidden")
        cost.plot(group.n_hidden, 1e3 / group.samples_per_s, marker=marker, color=colour,
                  label=side)
        for _, row in group.iterrows():  # the cost of an event-driven run depends on the rate
            cost.annotate(f"{row.rate_exc_hz:.0f} Hz", (row.n_hidden, 1e3 / row.samples_per_s),
                          textcoords="offset points", xytext=(6, -4), fontsize=7, color=colour)
        memory.plot(group.n_hidden, group.peak_gb_total, marker=marker, color=colour, label=side)
    sizes = sorted(table.n_hidden.unique())
    for axis in (cost, memory):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xticks(sizes, [str(size) for size in sizes])
        axis.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        axis.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        axis.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        axis.set_xlabel("hidden neurons (80:20)")
        axis.grid(True, which="both", alpha=0.3)
    cost.set_ylabel("training time per sample (ms)")
    cost.set_title("cost: forward, backward, update (labels: E rate)", fontsize=10)
    memory.axhline(8, color="grey", linestyle="--", linewidth=1)
    memory.set_yticks([0.25, 0.5, 1, 2, 4, 8])
    memory.set_ylabel("peak memory (GB, process + child)")
    memory.set_title("peak memory (dashed: the 8 GB bound)", fontsize=10)
    cost.legend()
    figure.savefig(path, dpi=120)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[160, 640, 2560, 5120])
    parser.add_argument("--sides", nargs="+", default=list(SIDES), choices=SIDES)
    parser.add_argument("--skip", nargs="*", metavar="SIDE@SIZE",
                        default=["ei_brian dense@5120", "PyTorch dense@5120"],
                        help="leave out a side at a size (default: the dense sides at 5,120, "
                        "which need more memory than this machine's 24 GB or hours); '--skip' "
                        "with nothing after it runs them all")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="timed seconds per side and size (after one warm-up minibatch)")
    parser.add_argument("--min-batches", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results"))
    parser.add_argument("--plot-only", action="store_true",
                        help="draw scale.png again from --out's scale.csv, running nothing")
    parser.add_argument("--one", nargs=2, metavar=("SIDE", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.plot_only:
        import pandas as pd
        plot(pd.read_csv(os.path.join(args.out, "scale.csv")), os.path.join(args.out, "scale.png"))
        return 0
    if args.one:
        result = measure(args.one[0], int(args.one[1]), args.batch_size, args.seconds,
                         args.min_batches, args.seed)
        print("RESULT " + json.dumps(result))
        return 0
    import pandas as pd
    rows = []
    for size in args.sizes:
        for side in args.sides:
            if f"{side}@{size}" in args.skip:
                print(f"{side:15s} {size:5d}: skipped", flush=True)
                continue
            command = [sys.executable, os.path.abspath(__file__), "--one", side, str(size),
                       "--batch-size", str(args.batch_size), "--seconds", str(args.seconds),
                       "--min-batches", str(args.min_batches), "--seed", str(args.seed)]
            done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True)
            lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
            if done.returncode != 0 or not lines:
                print(f"{side:15s} {size:5d}: failed (exit {done.returncode})\n"
                      + done.stdout[-2000:], flush=True)
                continue
            row = json.loads(lines[-1][len("RESULT "):])
            rows.append(row)
            shares = (f"  run {row['share_run']:.0%} gradients {row['share_gradients']:.0%} "
                      f"update {row['share_update']:.0%}" if side != "PyTorch dense" else "")
            print(f"{side:15s} {size:5d}: {row['samples_per_s']:8.1f} samples/s "
                  f"({row['timed_batches']} batches)  peak {row['peak_gb_python']:.2f} + "
                  f"{row['peak_gb_child']:.2f} GB  E {row['rate_exc_hz']:.1f} Hz "
                  f"I {row['rate_inh_hz']:.1f} Hz{shares}", flush=True)
    if not rows:
        return 1
    table = pd.DataFrame(rows)
    os.makedirs(args.out, exist_ok=True)
    table.to_csv(os.path.join(args.out, "scale.csv"), index=False, float_format="%.4g")
    plot(table, os.path.join(args.out, "scale.png"))
    reference = table[table.side == "PyTorch dense"].set_index("n_hidden").samples_per_s
    print("\nratios to PyTorch dense (samples/s):")
    for side in ("ei_brian dense", "ei_brian p=0.1"):
        ours = table[table.side == side].set_index("n_hidden").samples_per_s
        for size in ours.index.intersection(reference.index):
            print(f"  {side:15s} {size:5d}: {ours[size] / reference[size]:.2f}")
    print(f"written: {os.path.join(args.out, 'scale.csv')}, scale.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
