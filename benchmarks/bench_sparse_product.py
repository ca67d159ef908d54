"""The backward pass's sparse product: ei_brian's tiled kernel beside PyTorch's (MKL).

Each step of a sparse network's backward pass multiplies the weights of the E neurons (rows:
presynaptic E neurons; columns: their targets, hidden and readout) with the adjoints of one step
(targets x samples, samples contiguous): ``synapses x samples`` multiply-adds.
``ei_brian.sparse_gradients`` does it with ``tiled_product`` (``ei_brian/_kernels.pyx``): the
synapse lists cut into tiles of ``TILE_COLUMNS`` targets, so that a tile's adjoints stay in the
cache, each row's sums kept in vector registers over the samples (AVX-512, AVX2 or SSE2, chosen
when the module loads). Until it, the backward pass used ``torch.addmm`` on a float32 CSR matrix
(Intel MKL in PyTorch's CPU build); this benchmark runs both on the real synapse structure of a
network, on the same inputs, in one thread, alternately (the machine's speed drifts), and
reports each one's best and median time and their ratio.

    python benchmarks/bench_sparse_product.py [--hidden 2560] [--connectivity 0.1]
        [--samples 64] [--tile 128] [--rounds 200]

Prints the milliseconds per product and the multiply-adds per second of each, and the largest
difference between the two results relative to the largest entry (float32 sums in another order).
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from ei_brian.config import NetworkConfig  # noqa: E402
from ei_brian.sparse_gradients import TILE_COLUMNS, TiledMatrix, _csr, torch_module  # noqa: E402
from ei_brian.structure import draw_structure  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=2560)
    parser.add_argument("--connectivity", type=float, default=0.1)
    parser.add_argument("--samples", type=int, default=64,
                        help="samples of one part of a minibatch (64: 256 in 4 parts)")
    parser.add_argument("--tile", type=int, default=TILE_COLUMNS, help="targets per tile")
    parser.add_argument("--rounds", type=int, default=200, help="timed products of each")
    args = parser.parse_args(argv)
    torch = torch_module()
    torch.set_num_threads(1)
    config = NetworkConfig(n_hidden=args.hidden, connectivity=args.connectivity)
    exc = draw_structure(config, 0).block(("ee", "ei", "eo"))
    n_rows, n_targets = exc.shape
    rng = np.random.default_rng(0)
    values = rng.random(exc.n_synapses).astype(np.float32)
    adjoints = rng.standard_normal((n_targets, args.samples)).astype(np.float32)
    indptr, columns, order = exc.tiles(args.tile)
    tiled = TiledMatrix(indptr, columns, values[order], exc.shape)
    csr = _csr(*exc.indices32, values, exc.shape)  # as the backward pass made it before
    out_tiled = np.empty((n_rows, args.samples), np.float32)
    out_mkl = torch.empty((n_rows, args.samples))
    adjoints_torch = torch.from_numpy(adjoints)
    calls = {f"ei_brian tiled ({args.tile} targets a tile)":
             lambda: tiled.product(adjoints, out_tiled),
             "torch.addmm (MKL)":
             lambda: torch.addmm(out_mkl, csr, adjoints_torch, beta=0, out=out_mkl)}
    times = {name: [] for name in calls}
    for name, call in calls.items():
        call()  # warm-up
    for _ in range(args.rounds):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    reference = out_mkl.numpy()
    difference = np.abs(out_tiled - reference).max() / np.abs(reference).max()
    macs = exc.n_synapses * args.samples
    print(f"{args.hidden} hidden, connectivity {args.connectivity:g}: E rows {n_rows} x "
          f"{n_targets} targets, {exc.n_synapses:,} synapses, {args.samples} samples; largest "
          f"relative difference {difference:.1e}")
    for name, seconds in times.items():
        best, median = min(seconds), float(np.median(seconds))
        print(f"  {name:36s} best {1e3 * best:6.2f} ms ({macs / best / 1e9:5.1f} GMAC/s), "
              f"median {1e3 * median:6.2f} ms")
    (tiled_times, mkl_times) = times.values()
    print(f"  MKL / tiled: best {min(mkl_times) / min(tiled_times):.2f}, median "
          f"{np.median(mkl_times) / np.median(tiled_times):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
