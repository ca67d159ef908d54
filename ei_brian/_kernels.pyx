# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# cython: language_level=3
# distutils: extra_compile_args = -O3 -ffp-contract=off -fno-trapping-math
"""Fused loops of the forward replay and of the backward pass (see ei_brian.kernels).

Each function does, element by element and in the same order, the arithmetic that the NumPy code
of ei_brian.gradients did one whole array at a time, so it gives the same numbers bit for bit
(``-ffp-contract=off``: no fused multiply-adds), while reading and writing each array once per
step instead of once per operation.

The loops over neurons are small C functions (below) whose arrays are declared not to overlap
(``__restrict__``), so that the C compiler turns them into vector instructions; vector arithmetic
rounds each element exactly as the scalar code does, so the numbers do not change.
``-fno-trapping-math`` lets it vectorize the loops that hold a choice (a spike's reset): it
only tells the compiler that no floating-point operation stops the program with a signal (they
do not in Python), and changes no value.
"""
import numpy as np

from libc.stdint cimport int32_t, int64_t
from libc.string cimport memset

ctypedef fused real:
    float
    double

cdef extern from *:
    """
    #include <math.h>
    #include <stdint.h>
    #include <string.h>
    #if defined(_MSC_VER)
    #define EI_RESTRICT __restrict
    #else
    #define EI_RESTRICT __restrict__
    #endif

    /* The nonzero entries of one row of bytes, ascending: columns below split into low (from
       0), the others into high (from 0 again); with low / high NULL they are only counted.
       Eight bytes are tested at once, and a nonzero word yields its nonzero bytes one by one
       (the lowest first: the byte order of x86-64 and ARM; elsewhere byte by byte). */
    static void ei_row_split(const unsigned char *row, Py_ssize_t n, Py_ssize_t split,
                             int *low, Py_ssize_t *k_low, int *high, Py_ssize_t *k_high) {
        Py_ssize_t j = 0, c;
    #if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        uint64_t word;
        for (; j + 8 <= n; j += 8) {
            memcpy(&word, row + j, 8);
            while (word) {
                int b = __builtin_ctzll(word) >> 3;
                c = j + b;
                if (c < split) {
                    if (low)
                        low[*k_low] = (int)c;
                    (*k_low)++;
                } else {
                    if (high)
                        high[*k_high] = (int)(c - split);
                    (*k_high)++;
                }
                word &= ~((uint64_t)0xFF << (8 * b));
            }
        }
    #endif
        for (; j < n; j++) {
            if (!row[j])
                continue;
            if (j < split) {
                if (low)
                    low[*k_low] = (int)j;
                (*k_low)++;
            } else {
                if (high)
                    high[*k_high] = (int)(j - split);
                (*k_high)++;
            }
        }
    }

    /* one (step, sample) row of the replay's state update (see replay) */
    static void ei_replay_row(Py_ssize_t n, double *EI_RESTRICT v, double *EI_RESTRICT exc,
                              double *EI_RESTRICT inh, double *EI_RESTRICT u_out,
                              const unsigned char *EI_RESTRICT spikes,
                              const double *EI_RESTRICT noise,
                              const double *EI_RESTRICT a_mem, const double *EI_RESTRICT a_exc,
                              const double *EI_RESTRICT a_inh, const double *EI_RESTRICT b_in,
                              const double *EI_RESTRICT b_exc, const double *EI_RESTRICT b_inh,
                              double v_reset) {
        Py_ssize_t j;
        /* the compiler takes the test of noise out of the loop (-O3 unswitches loops) */
        for (j = 0; j < n; j++) {
            double c = exc[j] - inh[j];
            if (noise)
                c = c + noise[j];
            double u = (v[j] - c) * a_mem[j] + c;
            u_out[j] = u;
            exc[j] = exc[j] * a_exc[j] + (b_in[j] + b_exc[j]);
            inh[j] = inh[j] * a_inh[j] + b_inh[j];
            v[j] = spikes[j] ? v_reset : u;
        }
    }

    /* one sample's row of a backward step (see backward_step), g_s and the history in REAL */
    #define EI_BACKWARD_ROW(NAME, REAL)                                                        \
    static void NAME(Py_ssize_t n, const REAL *EI_RESTRICT g_s,                               \
                     const double *EI_RESTRICT add, const double *EI_RESTRICT u,              \
                     const unsigned char *EI_RESTRICT spikes, double *EI_RESTRICT g_u,        \
                     double *EI_RESTRICT g_exc, double *EI_RESTRICT g_inh,                    \
                     const double *EI_RESTRICT a_mem, const double *EI_RESTRICT a_exc,        \
                     const double *EI_RESTRICT a_inh, double beta, double threshold,          \
                     int begin_next, REAL *EI_RESTRICT h_exc, REAL *EI_RESTRICT h_inh) {      \
        Py_ssize_t j;                                                                         \
        for (j = 0; j < n; j++) {                                                             \
            double gs = (double)g_s[j];                                                       \
            if (add)                                                                          \
                gs = gs + add[j];                                                             \
            double gu = g_u[j] * a_mem[j];                                                    \
            gu = spikes[j] ? 0.0 : gu;                                                        \
            double d = fabs(u[j] - threshold) * beta + 1.0;                                   \
            g_u[j] = gu + gs / (d * d);                                                       \
        }                                                                                     \
        if (!begin_next)                                                                      \
            return;                                                                           \
        for (j = 0; j < n; j++) {                                                             \
            double scaled = (1.0 - a_mem[j]) * g_u[j];                                        \
            double ge = g_exc[j] * a_exc[j] + scaled;                                         \
            double gi = g_inh[j] * a_inh[j] - scaled;                                         \
            g_exc[j] = ge;                                                                    \
            g_inh[j] = gi;                                                                    \
            if (h_exc) {                                                                      \
                h_exc[j] = (REAL)ge;                                                          \
                h_inh[j] = (REAL)gi;                                                          \
            }                                                                                 \
        }                                                                                     \
    }
    EI_BACKWARD_ROW(ei_backward_row_float, float)
    EI_BACKWARD_ROW(ei_backward_row_double, double)

    /* the row for float (single != 0) or double g_s and history */
    static void ei_backward_row(int single, Py_ssize_t n, const void *g_s, const double *add,
                                const double *u, const unsigned char *spikes, double *g_u,
                                double *g_exc, double *g_inh, const double *a_mem,
                                const double *a_exc, const double *a_inh, double beta,
                                double threshold, int begin_next, void *h_exc, void *h_inh) {
        if (single)
            ei_backward_row_float(n, (const float *)g_s, add, u, spikes, g_u, g_exc, g_inh,
                                  a_mem, a_exc, a_inh, beta, threshold, begin_next,
                                  (float *)h_exc, (float *)h_inh);
        else
            ei_backward_row_double(n, (const double *)g_s, add, u, spikes, g_u, g_exc, g_inh,
                                   a_mem, a_exc, a_inh, beta, threshold, begin_next,
                                   (double *)h_exc, (double *)h_inh);
    }

    /* The sparse product of the backward pass: out (rows x width) = A b, A a sparse matrix
       (rows x columns) stored in column tiles (see tiled_product), b dense (columns x width),
       both row-major. Each output element is the sum, in column order, of the products
       A[r, c] * b[c, s], rounded one by one (no fused multiply-adds: -ffp-contract=off), so
       every path below gives the same numbers. Its rows accumulate in vector registers, four
       64-byte vectors of samples at a time, then one, then what is left; GCC on x86-64 builds
       the function for AVX-512, AVX2 and the baseline and picks one when the module loads. */
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
    #define EI_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
    #else
    #define EI_CLONES
    #endif
    #if defined(__GNUC__)
    #define EI_TILED_VECTORS(REAL, LANES)                                                      \
        typedef REAL vec __attribute__((vector_size(64)));                                    \
        for (; c + 4 * LANES <= width; c += 4 * LANES) {                                      \
            vec a0, a1, a2, a3, x;                                                            \
            if (tile) {                                                                       \
                memcpy(&a0, o + c, 64); memcpy(&a1, o + c + LANES, 64);                       \
                memcpy(&a2, o + c + 2 * LANES, 64); memcpy(&a3, o + c + 3 * LANES, 64);       \
            } else {                                                                          \
                a0 = a1 = a2 = a3 = (vec){0};                                                 \
            }                                                                                 \
            for (k = start; k < stop; k++) {                                                  \
                const vec w = (vec){0} + values[k];                                           \
                const REAL *row = b + (Py_ssize_t)columns[k] * width + c;                     \
                memcpy(&x, row, 64); a0 += w * x;                                             \
                memcpy(&x, row + LANES, 64); a1 += w * x;                                     \
                memcpy(&x, row + 2 * LANES, 64); a2 += w * x;                                 \
                memcpy(&x, row + 3 * LANES, 64); a3 += w * x;                                 \
            }                                                                                 \
            memcpy(o + c, &a0, 64); memcpy(o + c + LANES, &a1, 64);                           \
            memcpy(o + c + 2 * LANES, &a2, 64); memcpy(o + c + 3 * LANES, &a3, 64);           \
        }                                                                                     \
        for (; c + LANES <= width; c += LANES) {                                              \
            vec a0, x;                                                                        \
            if (tile)                                                                         \
                memcpy(&a0, o + c, 64);                                                       \
            else                                                                              \
                a0 = (vec){0};                                                                \
            for (k = start; k < stop; k++) {                                                  \
                const vec w = (vec){0} + values[k];                                           \
                memcpy(&x, b + (Py_ssize_t)columns[k] * width + c, 64);                       \
                a0 += w * x;                                                                  \
            }                                                                                 \
            memcpy(o + c, &a0, 64);                                                           \
        }
    #else
    #define EI_TILED_VECTORS(REAL, LANES)
    #endif
    /* the columns left (fewer than LANES, or all without vector extensions), LANES at a time */
    #define EI_TILED_PRODUCT(NAME, REAL, LANES)                                                \
    EI_CLONES static void NAME(Py_ssize_t n_tiles, Py_ssize_t n_rows, Py_ssize_t width,       \
                               const int64_t *EI_RESTRICT indptr,                             \
                               const int32_t *EI_RESTRICT columns,                            \
                               const REAL *EI_RESTRICT values, const REAL *EI_RESTRICT b,     \
                               REAL *EI_RESTRICT out) {                                       \
        Py_ssize_t tile, r, c, k, j, m;                                                       \
        for (tile = 0; tile < n_tiles; tile++) {                                              \
            for (r = 0; r < n_rows; r++) {                                                    \
                const int64_t start = indptr[tile * n_rows + r];                              \
                const int64_t stop = indptr[tile * n_rows + r + 1];                           \
                REAL *o = out + r * width;                                                    \
                c = 0;                                                                        \
                EI_TILED_VECTORS(REAL, LANES)                                                 \
                for (; c < width; c += m) {                                                   \
                    REAL acc[LANES];                                                          \
                    m = width - c < LANES ? width - c : LANES;                                \
                    for (j = 0; j < m; j++)                                                   \
                        acc[j] = tile ? o[c + j] : (REAL)0;                                   \
                    for (k = start; k < stop; k++) {                                          \
                        const REAL w = values[k];                                             \
                        const REAL *row = b + (Py_ssize_t)columns[k] * width + c;             \
                        for (j = 0; j < m; j++)                                               \
                            acc[j] += w * row[j];                                             \
                    }                                                                         \
                    for (j = 0; j < m; j++)                                                   \
                        o[c + j] = acc[j];                                                    \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
    }
    EI_TILED_PRODUCT(ei_tiled_product_float, float, 16)
    EI_TILED_PRODUCT(ei_tiled_product_double, double, 8)

    /* out (columns x width) = S^T dense for a CSR matrix S (rows x columns) and dense (rows x
       width), row-major, out zeroed first: row c of out is the sum of values[k] * dense[r] over
       the entries (r, c) of S in the order of its rows, each product rounded, then each sum
       (SciPy's order and operations for S.T @ dense, so the same numbers). */
    EI_CLONES static void ei_transposed_product(Py_ssize_t n_rows, Py_ssize_t width,
                                                const int *indptr, const int *columns,
                                                const double *values, const double *dense,
                                                double *out) {
        Py_ssize_t r, k, c;
        for (r = 0; r < n_rows; r++) {
            const double *EI_RESTRICT source = dense + r * width;
            for (k = indptr[r]; k < indptr[r + 1]; k++) {
                double *EI_RESTRICT target = out + (Py_ssize_t)columns[k] * width;
                const double v = values[k];
                if (v == 1.0)
                    for (c = 0; c < width; c++)
                        target[c] = target[c] + source[c];
                else
                    for (c = 0; c < width; c++)
                        target[c] = target[c] + v * source[c];
            }
        }
    }
    """
    void ei_row_split(const unsigned char *row, Py_ssize_t n, Py_ssize_t split, int *low,
                      Py_ssize_t *k_low, int *high, Py_ssize_t *k_high) noexcept nogil
    void ei_replay_row(Py_ssize_t n, double *v, double *exc, double *inh, double *u_out,
                       const unsigned char *spikes, const double *noise, const double *a_mem,
                       const double *a_exc, const double *a_inh, const double *b_in,
                       const double *b_exc, const double *b_inh, double v_reset) noexcept nogil
    void ei_backward_row(int single, Py_ssize_t n, const void *g_s, const double *add,
                         const double *u, const unsigned char *spikes, double *g_u,
                         double *g_exc, double *g_inh, const double *a_mem, const double *a_exc,
                         const double *a_inh, double beta, double threshold, int begin_next,
                         void *h_exc, void *h_inh) noexcept nogil
    void ei_transposed_product(Py_ssize_t n_rows, Py_ssize_t width, const int *indptr,
                               const int *columns, const double *values, const double *dense,
                               double *out) noexcept nogil
    void ei_tiled_product_float(Py_ssize_t n_tiles, Py_ssize_t n_rows, Py_ssize_t width,
                                const int64_t *indptr, const int32_t *columns, const float *values,
                                const float *b, float *out) noexcept nogil
    void ei_tiled_product_double(Py_ssize_t n_tiles, Py_ssize_t n_rows, Py_ssize_t width,
                                 const int64_t *indptr, const int32_t *columns,
                                 const double *values, const double *b, double *out) noexcept nogil


def spike_lists(const unsigned char[:, ::1] spikes, Py_ssize_t split):
    """The nonzero entries of a 0/1 matrix (rows x neurons) as two CSR index pairs
    ``(indptr, columns)`` (int32): neurons below ``split`` and the others (renumbered from 0),
    columns ascending within a row (the order of ``np.nonzero``)."""
    cdef Py_ssize_t r, n_rows = spikes.shape[0], n_columns = spikes.shape[1]
    cdef Py_ssize_t count_low = 0, count_high = 0
    cdef Py_ssize_t n_rows_scanned = n_rows if n_columns else 0  # rows of no columns: no entry
    with nogil:
        for r in range(n_rows_scanned):
            ei_row_split(&spikes[r, 0], n_columns, split, NULL, &count_low, NULL, &count_high)
    indptr_low = np.empty(n_rows + 1, dtype=np.int32)
    indptr_high = np.empty(n_rows + 1, dtype=np.int32)
    columns_low = np.empty(max(count_low, 1), dtype=np.int32)
    columns_high = np.empty(max(count_high, 1), dtype=np.int32)
    cdef int[::1] p_low = indptr_low, p_high = indptr_high
    cdef int[::1] c_low = columns_low, c_high = columns_high
    cdef Py_ssize_t k_low = 0, k_high = 0
    with nogil:
        for r in range(n_rows):
            p_low[r] = <int>k_low
            p_high[r] = <int>k_high
            if r < n_rows_scanned:
                ei_row_split(&spikes[r, 0], n_columns, split, &c_low[0], &k_low, &c_high[0],
                             &k_high)
        p_low[n_rows] = <int>k_low
        p_high[n_rows] = <int>k_high
    return (indptr_low, columns_low[:count_low]), (indptr_high, columns_high[:count_high])


cdef struct Weights:
    # the weights of one presynaptic population to its targets: dense rows (``dense`` not NULL,
    # ``stride`` doubles apart) or synapse lists (CSR by presynaptic neuron)
    const double *dense
    Py_ssize_t stride
    const int *indptr
    const int *columns
    const double *values


cdef Weights _weights(object given, list keep):
    """``given``: a dense (n_pre, n_targets) float64 array, or ``(indptr, columns, values)``."""
    cdef Weights w
    cdef const double[:, ::1] dense
    cdef const int[::1] indptr, columns
    cdef const double[::1] values
    w.dense = NULL
    w.stride = 0
    w.indptr = NULL
    w.columns = NULL
    w.values = NULL
    if isinstance(given, tuple):
        indptr, columns, values = given
        keep.extend((indptr, columns, values))
        w.indptr = &indptr[0]
        if columns.shape[0]:
            w.columns = &columns[0]
            w.values = &values[0]
    else:
        dense = given
        keep.append(dense)
        w.stride = dense.shape[1]
        if dense.shape[0] and dense.shape[1]:
            w.dense = &dense[0, 0]
    return w


cdef inline void _add_spikes(double *out, Py_ssize_t width, const int *indptr, const int *indices,
                             Py_ssize_t row, Weights w) noexcept nogil:
    """``out[:width] =`` the sum of the weight rows of the spikes in ``row`` of a CSR 0/1 matrix,
    added in the order of its entries (SciPy's order for ``S @ W``)."""
    cdef Py_ssize_t k, c, q, j
    cdef const double *source
    for c in range(width):
        out[c] = 0.0
    for k in range(indptr[row], indptr[row + 1]):
        j = indices[k]
        if w.dense != NULL:
            source = w.dense + j * w.stride
            for c in range(width):
                out[c] += source[c]
        else:
            for q in range(w.indptr[j], w.indptr[j + 1]):
                out[w.columns[q]] += w.values[q]


def replay(double[:, :, ::1] u_tm, const unsigned char[:, :, ::1] spikes_tm, inputs,
           from_input, spikes_exc, from_exc, spikes_inh, from_inh, double[:, ::1] drive_out,
           noise_tm, const double[::1] a_mem, const double[::1] a_exc, const double[::1] a_inh,
           double v_reset, last_steps=None):
    """The replay of ei_brian.gradients.forward with recorded spikes, all steps.

    ``inputs``, ``spikes_exc``, ``spikes_inh``: the input spikes and the recorded E and I spikes
    as CSR ``(indptr, indices)`` (int32) with one row per (step, sample), time-major. The
    weights from each population (``from_*``): dense rows, float64 (input: to the hidden
    neurons; E: to the hidden neurons, then the readout; I: to the hidden neurons) or synapse
    lists ``(indptr, columns, values)``. Per row the synaptic input is summed spike by spike (as
    ``x @ W`` would, the input and E parts separately, then added) and the states updated, one
    sample after another (samples are independent; its states stay in the cache); fills
    ``u_tm`` (steps, samples, neurons) and ``drive_out`` (rows, readout units), the readout's
    input. ``noise_tm``: None or the membrane-noise drive, shaped like ``u_tm``. ``last_steps``:
    None (every step) or, per sample, the last step to replay (int64); the later rows of
    ``u_tm`` and ``drive_out`` are set to 0.
    """
    cdef Py_ssize_t n, i, j, r
    cdef Py_ssize_t n_steps = u_tm.shape[0], n_samples = u_tm.shape[1], n_hidden = u_tm.shape[2]
    cdef Py_ssize_t n_exc_targets = n_hidden + drive_out.shape[1], n_out = drive_out.shape[1]
    cdef list keep = []
    cdef Weights w_input = _weights(from_input, keep)
    cdef Weights w_exc = _weights(from_exc, keep)
    cdef Weights w_inh = _weights(from_inh, keep)
    cdef const int[::1] x_ptr = inputs[0], x_idx = inputs[1]
    cdef const int[::1] e_ptr = spikes_exc[0], e_idx = spikes_exc[1]
    cdef const int[::1] i_ptr = spikes_inh[0], i_idx = spikes_inh[1]
    cdef const int *x_idx_p = &x_idx[0] if x_idx.shape[0] else NULL
    cdef const int *e_idx_p = &e_idx[0] if e_idx.shape[0] else NULL
    cdef const int *i_idx_p = &i_idx[0] if i_idx.shape[0] else NULL
    cdef const double[:, :, ::1] noise
    cdef bint noisy = noise_tm is not None
    if noisy:
        noise = noise_tm
    cdef double[::1] buffer_input = np.empty(n_hidden)
    cdef double[::1] buffer_exc = np.empty(n_exc_targets)
    cdef double[::1] buffer_inh = np.empty(n_hidden)
    # one sample's states (all its steps run before the next sample's: they stay in the cache)
    cdef double[::1] v = np.empty(n_hidden)
    cdef double[::1] exc = np.empty(n_hidden)
    cdef double[::1] inh = np.empty(n_hidden)
    cdef double *b_in = &buffer_input[0]
    cdef double *b_exc = &buffer_exc[0]
    cdef double *b_inh = &buffer_inh[0]
    cdef double *v_row
    cdef double *exc_row
    cdef double *inh_row
    cdef const int64_t[::1] last
    cdef bint truncated = last_steps is not None
    cdef Py_ssize_t n_run
    if truncated:
        last = last_steps
        if last.shape[0] != n_samples:
            raise ValueError(f"replay: {last.shape[0]} last steps for {n_samples} samples")
    v_row = &v[0]
    exc_row = &exc[0]
    inh_row = &inh[0]
    with nogil:
        for i in range(n_samples):
            for j in range(n_hidden):
                v_row[j] = 0.0
                exc_row[j] = 0.0
                inh_row[j] = 0.0
            n_run = n_steps
            if truncated:
                n_run = min(max(last[i] + 1, 0), n_steps)
                for n in range(n_run, n_steps):
                    memset(&u_tm[n, i, 0], 0, n_hidden * sizeof(double))
                    r = n * n_samples + i
                    for j in range(n_out):
                        drive_out[r, j] = 0.0
            for n in range(n_run):
                r = n * n_samples + i
                _add_spikes(b_in, n_hidden, &x_ptr[0], x_idx_p, r, w_input)
                _add_spikes(b_exc, n_exc_targets, &e_ptr[0], e_idx_p, r, w_exc)
                _add_spikes(b_inh, n_hidden, &i_ptr[0], i_idx_p, r, w_inh)
                for j in range(n_out):
                    drive_out[r, j] = b_exc[n_hidden + j]
                ei_replay_row(n_hidden, v_row, exc_row, inh_row, &u_tm[n, i, 0],
                              &spikes_tm[n, i, 0], &noise[n, i, 0] if noisy else NULL,
                              &a_mem[0], &a_exc[0], &a_inh[0], b_in, b_exc, b_inh, v_reset)


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
    cdef Py_ssize_t i, n_samples = g_u.shape[0], n_hidden = g_u.shape[1]
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
    cdef const double *add_row = NULL
    cdef void *h_exc_row = NULL
    cdef void *h_inh_row = NULL
    with nogil:
        for i in range(n_samples):
            if has_extra:
                add_row = &add[i, 0]
            if store and begin_next:
                h_exc_row = &h_exc[i, 0]
                h_inh_row = &h_inh[i, 0]
            ei_backward_row(real is float, n_hidden, &g_s[i, 0], add_row, &u[i, 0],
                            &spikes[i, 0], &g_u[i, 0], &g_exc[i, 0], &g_inh[i, 0], &a_mem[0],
                            &a_exc[0], &a_inh[0], beta, threshold, begin_next, h_exc_row,
                            h_inh_row)


def transposed_product(const int[::1] indptr, const int[::1] columns, const double[::1] values,
                       Py_ssize_t n_columns, const double[:, ::1] dense):
    """``S.T @ dense`` for the CSR matrix ``S`` = (``values``, ``columns``, ``indptr``) of
    ``n_columns`` columns, with SciPy's numbers (see ei_transposed_product): a new
    (n_columns, width) array."""
    cdef Py_ssize_t n_rows = indptr.shape[0] - 1, width = dense.shape[1]
    if dense.shape[0] != n_rows or columns.shape[0] != values.shape[0] \
            or (n_rows >= 0 and indptr[n_rows] > columns.shape[0]):
        raise ValueError("the sparse matrix does not fit the dense one")
    out = np.zeros((n_columns, width))
    cdef double[:, ::1] o = out
    if n_rows > 0 and width > 0 and n_columns > 0 and columns.shape[0] > 0:
        with nogil:
            ei_transposed_product(n_rows, width, &indptr[0], &columns[0], &values[0],
                                  &dense[0, 0], &o[0, 0])
    return out


def tiled_product(const int64_t[::1] indptr, const int32_t[::1] columns, const real[::1] values,
                  const real[:, ::1] b, real[:, ::1] out):
    """``out = A @ b`` for a sparse ``A`` (rows x columns) stored in column tiles, float32 or
    float64 throughout, without the GIL.

    ``A`` is cut into tiles of consecutive columns; ``indptr`` (int64, ``n_tiles * rows + 1``)
    gives, tile after tile and row after row within a tile, where each (tile, row) segment's
    entries lie in ``columns`` (int32, ascending within a segment) and ``values``. ``b`` is
    (columns x width), ``out`` (rows x width), both C-contiguous. A tile's rows of ``b`` stay in
    the cache while every row of ``A`` takes its entries from them.
    """
    cdef Py_ssize_t n_rows = out.shape[0], width = out.shape[1]
    if b.shape[1] != width or (indptr.shape[0] - 1) % max(n_rows, 1):
        raise ValueError(f"tiled_product: b is {b.shape[0]} x {b.shape[1]} and out "
                         f"{n_rows} x {width}, with {indptr.shape[0]} tile pointers")
    cdef Py_ssize_t n_tiles = (indptr.shape[0] - 1) // n_rows if n_rows else 0
    if indptr[indptr.shape[0] - 1] > columns.shape[0] or columns.shape[0] != values.shape[0]:
        raise ValueError("tiled_product: the tile pointers, columns and values disagree")
    if n_rows == 0 or width == 0:
        return
    if n_tiles == 0 or columns.shape[0] == 0:
        out[:, :] = 0
        return
    with nogil:
        if real is float:
            ei_tiled_product_float(n_tiles, n_rows, width, &indptr[0], &columns[0], &values[0],
                                   &b[0, 0], &out[0, 0])
        else:
            ei_tiled_product_double(n_tiles, n_rows, width, &indptr[0], &columns[0],
                                    &values[0], &b[0, 0], &out[0, 0])
