# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# cython: language_level=3
# distutils: extra_compile_args = -O3 -ffp-contract=off
"""Fused loops of the forward replay and of the backward pass (see ei_brian.kernels).

Each function does, element by element and in the same order, the arithmetic that the NumPy code
of ei_brian.gradients does one whole array at a time, so it gives the same numbers bit for bit
(``-ffp-contract=off``: no fused multiply-adds), while reading and writing each array once per
step instead of once per operation.
"""
from libc.math cimport fabs

ctypedef fused real:
    float
    double


def add_rows(double[:, ::1] out, const int[::1] indptr, const int[::1] indices,
             const double[:, ::1] weights):
    """``out[r] += weights[j]`` for each entry ``j`` of row ``r`` of a CSR 0/1 matrix
    (``indptr``, ``indices``): the product of a spike matrix with dense weights, in the order of
    the entries (SciPy's order)."""
    cdef Py_ssize_t r, k, c, j, n_columns = out.shape[1]
    for r in range(out.shape[0]):
        for k in range(indptr[r], indptr[r + 1]):
            j = indices[k]
            for c in range(n_columns):
                out[r, c] += weights[j, c]


def scatter_rows(double[:, ::1] out, const int[::1] indptr, const int[::1] indices,
                 const int[::1] w_indptr, const int[::1] w_columns, const double[::1] w_values):
    """As :func:`add_rows` with sparse weights (CSR by presynaptic neuron: ``w_indptr``,
    ``w_columns``, ``w_values``): only the synapses of each spiking neuron are added."""
    cdef Py_ssize_t r, k, j, q
    for r in range(out.shape[0]):
        for k in range(indptr[r], indptr[r + 1]):
            j = indices[k]
            for q in range(w_indptr[j], w_indptr[j + 1]):
                out[r, w_columns[q]] += w_values[q]


def replay_steps(double[:, :, ::1] u_tm, const unsigned char[:, :, ::1] spikes_tm,
                 const double[:, :, ::1] drive_exc, const double[:, :, ::1] drive_inh,
                 noise_tm, const double[::1] a_mem, const double[::1] a_exc,
                 const double[::1] a_inh, double v_reset):
    """The hidden neurons' update of the replay (ei_brian.gradients.forward with recorded spikes),
    all steps: fills ``u_tm`` (steps, samples, neurons). ``noise_tm`` is None or the
    membrane-noise drive, shaped like ``u_tm``."""
    cdef Py_ssize_t n, i, j
    cdef Py_ssize_t n_steps = u_tm.shape[0], n_samples = u_tm.shape[1], n_hidden = u_tm.shape[2]
    cdef const double[:, :, ::1] noise
    cdef bint noisy = noise_tm is not None
    if noisy:
        noise = noise_tm
    cdef double c, u, v, exc, inh
    # one sample at a time: its states stay in registers while the steps go by
    for i in range(n_samples):
        for j in range(n_hidden):
            v = 0.0
            exc = 0.0
            inh = 0.0
            for n in range(n_steps):
                c = exc - inh
                if noisy:
                    c = c + noise[n, i, j]
                u = (v - c) * a_mem[j] + c
                u_tm[n, i, j] = u
                exc = exc * a_exc[j] + drive_exc[n, i, j]
                inh = inh * a_inh[j] + drive_inh[n, i, j]
                v = v_reset if spikes_tm[n, i, j] else u
    return None


def backward_step(real[:, :] g_s, const double[:, ::1] u, const unsigned char[:, ::1] spikes,
                  extra, double[:, ::1] g_u, double[:, :] g_exc, double[:, ::1] g_inh,
                  const double[::1] a_mem, const double[::1] a_exc, const double[::1] a_inh,
                  double beta, double threshold, bint begin_next):
    """One step of the backward recursion (ei_brian.gradients.backward), after its products.

    Ends step ``n``: ``g_u = g_u * a_mem`` (0 where the neuron spiked) plus
    ``(g_s + extra) / (beta |u - threshold| + 1)^2``, with ``g_s`` the spikes' adjoint from the
    products (samples x neurons, any strides, float32 or float64) and ``extra`` None or the rate
    penalty's (samples x neurons). With ``begin_next`` it then begins step ``n - 1``:
    ``g_exc = g_exc * a_exc + (1 - a_mem) g_u`` and ``g_inh = g_inh * a_inh - (1 - a_mem) g_u``.
    """
    cdef Py_ssize_t i, j, n_samples = g_u.shape[0], n_hidden = g_u.shape[1]
    cdef const double[:, ::1] add
    cdef bint has_extra = extra is not None
    if has_extra:
        add = extra
    cdef double gs, gu, d, scaled
    for i in range(n_samples):
        for j in range(n_hidden):
            gs = <double>g_s[i, j]
            if has_extra:
                gs = gs + add[i, j]
            gu = g_u[i, j] * a_mem[j]
            if spikes[i, j]:
                gu = 0.0
            d = fabs(u[i, j] - threshold) * beta + 1.0
            gs = gs / (d * d)
            gu = gu + gs
            g_u[i, j] = gu
            if begin_next:
                scaled = (1.0 - a_mem[j]) * gu
                g_exc[i, j] = g_exc[i, j] * a_exc[j] + scaled
                g_inh[i, j] = g_inh[i, j] * a_inh[j] - scaled
    return None
