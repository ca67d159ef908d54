# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# cython: language_level=3
# distutils: extra_compile_args = -O3 -ffp-contract=off
"""Fused loops of the forward replay and of the backward pass (see ei_brian.kernels).

Each function does, element by element and in the same order, the arithmetic that the NumPy code
of ei_brian.gradients did one whole array at a time, so it gives the same numbers bit for bit
(``-ffp-contract=off``: no fused multiply-adds), while reading and writing each array once per
step instead of once per operation.
"""
import numpy as np

from libc.math cimport fabs

ctypedef fused real:
    float
    double


def spike_lists(const unsigned char[:, ::1] spikes, Py_ssize_t split):
    """The nonzero entries of a 0/1 matrix (rows x neurons) as two CSR index pairs
    ``(indptr, columns)`` (int32): neurons below ``split`` and the others (renumbered from 0),
    columns ascending within a row (the order of ``np.nonzero``)."""
    cdef Py_ssize_t r, j, n_rows = spikes.shape[0], n_columns = spikes.shape[1]
    cdef Py_ssize_t count_low = 0, count_high = 0
    with nogil:
        for r in range(n_rows):
            for j in range(n_columns):
                if spikes[r, j]:
                    if j < split:
                        count_low += 1
                    else:
                        count_high += 1
    indptr_low = np.empty(n_rows + 1, dtype=np.int32)
    indptr_high = np.empty(n_rows + 1, dtype=np.int32)
    columns_low = np.empty(count_low, dtype=np.int32)
    columns_high = np.empty(count_high, dtype=np.int32)
    cdef int[::1] p_low = indptr_low, p_high = indptr_high
    cdef int[::1] c_low = columns_low, c_high = columns_high
    cdef int k_low = 0, k_high = 0
    with nogil:
        for r in range(n_rows):
            p_low[r] = k_low
            p_high[r] = k_high
            for j in range(n_columns):
                if spikes[r, j]:
                    if j < split:
                        c_low[k_low] = <int>j
                        k_low += 1
                    else:
                        c_high[k_high] = <int>(j - split)
                        k_high += 1
        p_low[n_rows] = k_low
        p_high[n_rows] = k_high
    return (indptr_low, columns_low), (indptr_high, columns_high)


def spikes_times_weights(double[:, ::1] out, const int[::1] indptr, const int[::1] indices,
                         const double[:, ::1] weights):
    """``out = S @ weights`` for a CSR 0/1 matrix ``S`` (``indptr``, ``indices``) and dense
    weights: each row the sum of the weight rows of its entries, added in the order of the
    entries (SciPy's order)."""
    cdef Py_ssize_t r, k, c, j, n_columns = out.shape[1]
    cdef double *row
    cdef const double *source
    with nogil:
        for r in range(out.shape[0]):
            row = &out[r, 0]
            for c in range(n_columns):
                row[c] = 0.0
            for k in range(indptr[r], indptr[r + 1]):
                j = indices[k]
                source = &weights[j, 0]
                for c in range(n_columns):
                    row[c] += source[c]


def spikes_times_synapses(double[:, ::1] out, const int[::1] indptr, const int[::1] indices,
                          const int[::1] w_indptr, const int[::1] w_columns,
                          const double[::1] w_values):
    """As :func:`spikes_times_weights` with sparse weights (CSR by presynaptic neuron:
    ``w_indptr``, ``w_columns``, ``w_values``): only the synapses of each spiking neuron are
    added (the same sums: the absent weights are zeros)."""
    cdef Py_ssize_t r, k, j, q, c, n_columns = out.shape[1]
    with nogil:
        for r in range(out.shape[0]):
            for c in range(n_columns):
                out[r, c] = 0.0
            for k in range(indptr[r], indptr[r + 1]):
                j = indices[k]
                for q in range(w_indptr[j], w_indptr[j + 1]):
                    out[r, w_columns[q]] += w_values[q]


def replay_steps(double[:, :, ::1] u_tm, const unsigned char[:, :, ::1] spikes_tm,
                 const double[:, ::1] drive_input, const double[:, :] drive_exc,
                 const double[:, ::1] drive_inh, noise_tm, const double[::1] a_mem,
                 const double[::1] a_exc, const double[::1] a_inh, double v_reset):
    """The hidden neurons' update of the replay (ei_brian.gradients.forward with recorded spikes),
    all steps: fills ``u_tm`` (steps, samples, neurons). The drives have one row per (step,
    sample), time-major: from the input and from E neurons (their sum, in that order, enters the
    excitatory current), from I neurons; ``noise_tm`` is None or the membrane-noise drive,
    shaped like ``u_tm``."""
    cdef Py_ssize_t n, i, j, r
    cdef Py_ssize_t n_steps = u_tm.shape[0], n_samples = u_tm.shape[1], n_hidden = u_tm.shape[2]
    cdef const double[:, :, ::1] noise
    cdef bint noisy = noise_tm is not None
    if noisy:
        noise = noise_tm
    cdef double c, u
    cdef double[:, ::1] v = np.zeros((n_samples, n_hidden))
    cdef double[:, ::1] exc = np.zeros((n_samples, n_hidden))
    cdef double[:, ::1] inh = np.zeros((n_samples, n_hidden))
    with nogil:
        for n in range(n_steps):
            for i in range(n_samples):
                r = n * n_samples + i
                for j in range(n_hidden):
                    c = exc[i, j] - inh[i, j]
                    if noisy:
                        c = c + noise[n, i, j]
                    u = (v[i, j] - c) * a_mem[j] + c
                    u_tm[n, i, j] = u
                    exc[i, j] = exc[i, j] * a_exc[j] + (drive_input[r, j] + drive_exc[r, j])
                    inh[i, j] = inh[i, j] * a_inh[j] + drive_inh[r, j]
                    v[i, j] = v_reset if spikes_tm[n, i, j] else u


def backward_step(const real[:, ::1] g_s, const double[:, ::1] u,
                  const unsigned char[:, ::1] spikes, extra, double[:, ::1] g_u,
                  double[:, :] g_exc, double[:, ::1] g_inh, const double[::1] a_mem,
                  const double[::1] a_exc, const double[::1] a_inh, double beta,
                  double threshold, bint begin_next, history_exc=None, history_inh=None):
    """One step of the backward recursion (ei_brian.gradients.backward), after its products.

    Ends step ``n``: ``g_u = g_u * a_mem`` (0 where the neuron spiked) plus
    ``(g_s + extra) / (beta |u - threshold| + 1)^2``, with ``g_s`` the spikes' adjoint from the
    products (samples x neurons, float32 or float64) and ``extra`` None or the rate penalty's
    (samples x neurons). With ``begin_next`` it then begins step ``n - 1``: ``g_exc = g_exc *
    a_exc + (1 - a_mem) g_u`` and ``g_inh = g_inh * a_inh - (1 - a_mem) g_u``, and, when given,
    stores them (in the precision of ``g_s``) into the first columns of ``history_exc`` and
    ``history_inh`` (samples x columns).
    """
    cdef Py_ssize_t i, j, n_samples = g_u.shape[0], n_hidden = g_u.shape[1]
    cdef const double[:, ::1] add
    cdef bint has_extra = extra is not None
    cdef bint store = history_exc is not None
    cdef real[:, ::1] h_exc, h_inh
    if g_exc.shape[1] and g_exc.strides[1] != sizeof(double):
        raise ValueError("g_exc must be contiguous along neurons")
    if has_extra:
        add = extra
    if store:
        h_exc = history_exc
        h_inh = history_inh
    cdef const real *gs_row
    cdef const double *add_row = NULL
    cdef const double *u_row
    cdef const unsigned char *spike_row
    cdef double *gu_row
    cdef double *exc_row
    cdef double *inh_row
    cdef real *h_exc_row = NULL
    cdef real *h_inh_row = NULL
    cdef double gs, gu, d, scaled, ge, gi
    with nogil:
        for i in range(n_samples):
            gs_row = &g_s[i, 0]
            u_row = &u[i, 0]
            spike_row = &spikes[i, 0]
            gu_row = &g_u[i, 0]
            if has_extra:
                add_row = &add[i, 0]
            for j in range(n_hidden):
                gs = <double>gs_row[j]
                if has_extra:
                    gs = gs + add_row[j]
                gu = gu_row[j] * a_mem[j]
                gu = 0.0 if spike_row[j] else gu
                d = fabs(u_row[j] - threshold) * beta + 1.0
                gu_row[j] = gu + gs / (d * d)
            if not begin_next:
                continue
            exc_row = &g_exc[i, 0]
            inh_row = &g_inh[i, 0]
            if store:
                h_exc_row = &h_exc[i, 0]
                h_inh_row = &h_inh[i, 0]
            for j in range(n_hidden):
                scaled = (1.0 - a_mem[j]) * gu_row[j]
                ge = exc_row[j] * a_exc[j] + scaled
                gi = inh_row[j] * a_inh[j] - scaled
                exc_row[j] = ge
                inh_row[j] = gi
                if store:
                    h_exc_row[j] = <real>ge
                    h_inh_row[j] = <real>gi
