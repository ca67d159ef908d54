"""The backward pass's sparse product: PyTorch's (MKL) against a hand-written blocked kernel.

Each step of a sparse network's backward pass multiplies the weights of the E neurons (rows:
presynaptic E neurons; columns: their targets, hidden and readout) with the adjoints of one step
(targets x samples): ``synapses x samples`` multiply-adds. ``ei_brian.sparse_gradients`` uses
``torch.sparse.mm`` on a float32 CSR matrix. This benchmark compares it, on the real synapse
structure of a network and one thread, with a kernel written for this product: the synapse lists
cut into blocks of targets so that a block's adjoints (samples contiguous) stay in the L1 cache,
each row's sums kept in 8-wide vector registers over the samples (GCC vector extensions, compiled
here with ``-O3 -march=native``). It is an experiment kept for reference, not used by ei_brian:
on the 2-core machine of the scale work it ran at the same speed as MKL (see the README,
*Large, sparse networks*).

    python benchmarks/bench_sparse_product.py [--hidden 2560] [--connectivity 0.1]
        [--samples 64] [--block 256] [--repeats 20]

Prints the milliseconds per product (best of 5 rounds) and the multiply-adds per second of each,
and the largest difference between the two results relative to the largest entry.
"""
import argparse
import contextlib
import io
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from ei_brian.config import NetworkConfig  # noqa: E402
from ei_brian.sparse_gradients import _csr, torch_module  # noqa: E402
from ei_brian.structure import draw_structure  # noqa: E402

KERNEL = r'''
# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# cython: language_level=3
cdef extern from *:
    """
    typedef float v8 __attribute__((vector_size(32), aligned(4)));
    /* total[i * width + b] = sum over the blocks J, over row i's entries k in block J, of
       values[k] * source[columns[k] * width + b]; width a multiple of 64 */
    static void blocked_rows(Py_ssize_t n_blocks, Py_ssize_t n_rows, const int *indptr,
                             const int *columns, const float *values, const float *source,
                             Py_ssize_t width, float *total) {
        for (Py_ssize_t J = 0; J < n_blocks; J++) {
            const int *ptr = indptr + J * (n_rows + 1);
            for (Py_ssize_t i = 0; i < n_rows; i++) {
                for (Py_ssize_t c0 = 0; c0 < width; c0 += 64) {
                    v8 *dest = (v8 *)(total + i * width + c0);
                    v8 acc[8];
                    for (int v = 0; v < 8; v++) acc[v] = J ? dest[v] : (v8){0};
                    for (int k = ptr[i]; k < ptr[i + 1]; k++) {
                        const float w = values[k];
                        const v8 *row = (const v8 *)(source + (Py_ssize_t)columns[k] * width + c0);
                        for (int v = 0; v < 8; v++) acc[v] += w * row[v];
                    }
                    for (int v = 0; v < 8; v++) dest[v] = acc[v];
                }
            }
        }
    }
    """
    void blocked_rows(Py_ssize_t n_blocks, Py_ssize_t n_rows, const int *indptr,
                      const int *columns, const float *values, const float *source,
                      Py_ssize_t width, float *total) nogil


def product(const int[:, ::1] indptr, const int[::1] columns, const float[::1] values,
            const float[:, ::1] source, float[:, ::1] out, float[:, ::1] buffer,
            float[:, ::1] total):
    """out[b, i] = sum over row i's synapses of value * source[b, column] (source: samples x
    targets, as the backward pass stores its adjoints)"""
    cdef Py_ssize_t n_samples = source.shape[0], n_targets = source.shape[1]
    cdef Py_ssize_t n_rows = indptr.shape[1] - 1, width = buffer.shape[1], b, t, i
    with nogil:
        for t in range(n_targets):  # targets x samples, padded with zeros
            for b in range(n_samples):
                buffer[t, b] = source[b, t]
            for b in range(n_samples, width):
                buffer[t, b] = 0
        blocked_rows(indptr.shape[0], n_rows, &indptr[0, 0], &columns[0], &values[0],
                     &buffer[0, 0], width, &total[0, 0])
        for i in range(n_rows):
            for b in range(n_samples):
                out[b, i] = total[i, b]
'''


def build_kernel(folder):
    from Cython.Build import cythonize
    from setuptools import Distribution, Extension
    source = os.path.join(folder, "blocked_product.pyx")
    with open(source, "w") as f:
        f.write(KERNEL)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        extension = Extension("blocked_product", [source],
                              extra_compile_args=["-O3", "-march=native"])
        build = Distribution({"ext_modules": cythonize([extension], quiet=True)}
                             ).get_command_obj("build_ext")
        build.build_lib = build.build_temp = folder
        build.ensure_finalized()
        build.run()
    sys.path.insert(0, folder)
    import blocked_product
    return blocked_product


def blocked_lists(rows, columns, values, n_rows, block):
    """CSR lists per block of ``block`` targets: indptr (blocks x rows + 1, offsets into the
    concatenated lists), columns and values ascending by column within each row."""
    which = columns // block
    order = np.lexsort((columns, rows, which))
    n_blocks = int(which.max()) + 1
    indptr = np.zeros((n_blocks, n_rows + 1), dtype=np.int64)
    for J in range(n_blocks):
        indptr[J, 1:] = np.cumsum(np.bincount(rows[which == J], minlength=n_rows))
    indptr += np.concatenate([[0], np.cumsum(indptr[:, -1])[:-1]])[:, None]
    return (indptr.astype(np.int32), columns[order].astype(np.int32),
            values[order].astype(np.float32))


def best_time(call, repeats):
    best = np.inf
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeats):
            call()
        best = min(best, (time.perf_counter() - start) / repeats)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=2560)
    parser.add_argument("--connectivity", type=float, default=0.1)
    parser.add_argument("--samples", type=int, default=64,
                        help="samples of one part of a minibatch (64: 256 in 4 parts)")
    parser.add_argument("--block", type=int, default=256, help="targets per block")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    torch = torch_module()
    torch.set_num_threads(1)
    config = NetworkConfig(n_hidden=args.hidden, connectivity=args.connectivity)
    exc = draw_structure(config, 0).block(("ee", "ei", "eo"))
    indptr, columns = exc.indices32
    n_rows, n_targets = exc.shape
    rng = np.random.default_rng(0)
    values = rng.standard_normal(len(columns)).astype(np.float32)
    source = rng.standard_normal((args.samples, n_targets)).astype(np.float32)
    csr = _csr(indptr, columns, values, (n_rows, n_targets))  # as the backward pass makes it
    adjoints = torch.from_numpy(source)
    rows = np.repeat(np.arange(n_rows), np.diff(indptr))
    lists = blocked_lists(rows, columns.astype(np.int64), values, n_rows, args.block)
    width = -(-args.samples // 64) * 64
    out = np.zeros((args.samples, n_rows), np.float32)
    buffer = np.zeros((n_targets, width), np.float32)
    total = np.zeros((n_rows, width), np.float32)
    with tempfile.TemporaryDirectory() as folder:
        kernel = build_kernel(folder)
        reference = torch.sparse.mm(csr, adjoints.T).numpy().T
        kernel.product(*lists, source, out, buffer, total)
        difference = np.abs(out - reference).max() / np.abs(reference).max()
        macs = len(columns) * args.samples
        print(f"{args.hidden} hidden, connectivity {args.connectivity:g}: E rows {n_rows} x "
              f"{n_targets} targets, {len(columns):,} synapses, {args.samples} samples; "
              f"largest relative difference {difference:.1e}")
        for name, call in (("torch.sparse.mm (MKL)", lambda: torch.sparse.mm(csr, adjoints.T)),
                           (f"blocked kernel ({args.block} targets a block)",
                            lambda: kernel.product(*lists, source, out, buffer, total))):
            seconds = best_time(call, args.repeats)
            print(f"  {name:40s} {1e3 * seconds:7.2f} ms  {macs / seconds / 1e9:5.1f} GMAC/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
