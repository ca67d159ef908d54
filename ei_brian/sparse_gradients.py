"""The backward pass of a sparse network, on its synapse lists.

Same recursion as :func:`ei_brian.gradients.backward` (see that module's docstring), with the two
products that cost ``N^2`` per step in a dense network done as sparse-matrix products:

- the adjoint of the hidden spikes at each step, ``g_s = W g_post`` for the E-neuron targets
  (hidden currents and readout) and the I-neuron targets: one product with the synapse list per
  step, cost ``synapses x samples``;
- the weight gradients, ``S^T G`` of the recorded spikes ``S`` (a sparse matrix of the minibatch's
  spikes) and the stored adjoints ``G``: cost ``spikes x targets``; only the entries of existing
  synapses are kept.

The forward replay is :func:`ei_brian.gradients.forward` (float64) given the synapse lists
(:attr:`SparseOperators.replay_exc` ...): per recorded spike it adds the weights of the neuron's
existing synapses (cost ``spikes x fan-out``), the same sums the dense code forms, so the
potentials whose surrogate derivative the backward pass uses are those the dense code computes.
The element-wise part of each backward step runs in the compiled loop of :mod:`ei_brian.kernels`.

The per-step products run in the tiled kernel of :mod:`ei_brian.kernels` (``tiled_product``:
the synapse lists cut into tiles of ``TILE_COLUMNS`` targets whose adjoints stay in the cache,
each row's sums held in vector registers; 1.4-1.9 times as fast as PyTorch's MKL product, which
it replaced, see ``benchmarks/bench_sparse_product.py``), and only for the samples whose loss
can reach that step (see :func:`ei_brian.gradients.last_steps`); the weight gradients' products
run on PyTorch's sparse CSR kernels (MKL). By default both are in float32 (about 3.5 times
faster than float64 with MKL): the weights and the adjoints enter each product rounded to float32
and the stored adjoints are float32, while the recursion itself, the potentials and the
returned gradients stay float64 (rounding the recursion's state to float32 as well gave relative
errors above 1e-6). ``dtype="float64"`` gives the dense code's precision; the tests check both
against automatic differentiation of the masked dense model.
"""
import warnings

import numpy as np

from ei_brian.gradient_common import _array, _sparse_split, decay_factors, last_steps
from ei_brian.kernels import kernels

__all__ = ["SparseOperators", "backward_sparse", "torch_module"]


def torch_module():
    """PyTorch, or an ImportError that says what needs it and how to install it."""
    try:
        import torch  # PyTorch (1.5 s) only for sparse networks
    except ImportError:  # pragma: no cover - torch is in requirements.txt
        raise ImportError("sparse networks (connectivity < 1) compute their gradients with "
                          "PyTorch's sparse kernels: install it with 'pip install torch' (CPU "
                          "build) or 'pip install ei_brian[sparse]'") from None
    return torch


def _csr(rows_ptr, columns, values, shape):
    torch = torch_module()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Sparse CSR tensor support is in beta", UserWarning)
        return torch.sparse_csr_tensor(torch.from_numpy(rows_ptr), torch.from_numpy(columns),
                                       torch.from_numpy(values), size=shape,
                                       check_invariants=False)


def _csr_from_scipy(matrix, dtype):
    matrix = matrix.tocsr()
    return _csr(matrix.indptr.astype(np.int32), matrix.indices.astype(np.int32),
                np.ascontiguousarray(matrix.data, dtype=dtype), matrix.shape)


class SparseOperators:
    """The weights of one minibatch as sparse matrices (built once, shared by its parts).

    Parameters
    ----------
    config : NetworkConfig
    structure : ei_brian.structure.Structure
    weights : dict
        Dense ``w_<projection>`` arrays (zeros where there is no synapse).
    dtype : {"float32", "float64"}
    """

    def __init__(self, config, structure, weights, dtype="float32"):
        self.structure = structure
        self.dtype = np.dtype(dtype)
        # E neurons reach hidden E, hidden I and the readout; I neurons hidden E and I. Each
        # block's weights are gathered once (float64, CSR by presynaptic neuron: the replay's)
        # and rounded to ``dtype`` for the products of the backward pass.
        exc = structure.block(("ee", "ei", "eo"))
        self.replay_exc = self._lists(exc, weights)
        self.from_exc = self._operator(exc, self.replay_exc[2])
        if config.n_inh:
            inh = structure.block(("ie", "ii"))
            self.replay_inh = self._lists(inh, weights)
            self.from_inh = self._operator(inh, self.replay_inh[2])
        else:
            self.replay_inh, self.from_inh = np.zeros((0, config.n_exc)), None
        inputs = [name for name in ("xe", "xi") if name in config.projections]
        self.replay_input = (self._lists(structure.block(inputs), weights)
                             if config.input_connectivity < 1
                             else np.hstack([weights["w_" + name] for name in inputs]))

    @staticmethod
    def _lists(block, weights):
        return (*block.indices32, block.gather(weights, np.float64))

    def _operator(self, block, values):
        indptr, columns, order = block.tiles(TILE_COLUMNS)
        return TiledMatrix(indptr, columns, values[order].astype(self.dtype), block.shape)


#: columns of a tile of the backward pass's sparse products: a tile's adjoint rows (128 x 64
#: samples x 4 bytes = 32 KB for a part of 64 samples in float32) stay in the cache while every
#: presynaptic neuron takes its synapses' entries from them. (Measured at 2,048 x 2,570 and
#: 4,096 x 5,130, connectivity 0.1, 64 samples, float32: tiles of 128 and 256 columns 1.3-1.7
#: times as fast as PyTorch's MKL product, untiled 1.0-1.4 times, 64 columns slower.)
TILE_COLUMNS = 128


class TiledMatrix:
    """A sparse matrix (presynaptic neurons x targets) in the column tiles of
    ``ei_brian.kernels``' ``tiled_product``; ``matrix @ b`` for a dense (targets x samples) ``b``
    is ``matrix.product(b, out)``."""

    def __init__(self, indptr, columns, values, shape):
        self.indptr, self.columns, self.values, self.shape = indptr, columns, values, shape

    def product(self, b, out):
        kernels().tiled_product(self.indptr, self.columns, self.values, b, out)
        return out


def backward_sparse(config, state, output_gradient, argmax_step, operators, spike_gradient=None,
                    time_constants=None, workspace=None):
    """Backpropagation through time on the synapse lists; same arguments and result as
    :func:`ei_brian.gradients.backward`, with ``operators`` (:class:`SparseOperators`) instead of
    the weights. Gradients are zero where the structure has no synapse."""
    torch = torch_module()
    np_dtype = operators.dtype
    n_steps, n_samples, n_hidden = state.u_tm.shape
    n_exc, n_out = config.n_exc, config.n_outputs
    decay = decay_factors(config, time_constants)
    a_mem, a_exc, a_inh = (np.ascontiguousarray(np.broadcast_to(decay[name], (n_hidden,)))
                           for name in ("mem", "exc", "inh"))
    a_out_mem, a_out_syn = decay["out_mem"], decay["out_syn"]
    beta, threshold = config.surrogate_beta, config.v_threshold
    injection = np.zeros((n_steps, n_samples, n_out))
    samples, units = np.indices((n_samples, n_out))
    injection[argmax_step, samples, units] = output_gradient
    extra = None if spike_gradient is None else np.ascontiguousarray(spike_gradient, dtype=float)
    # adjoints of the states (float64, samples x units); E-neuron targets (hidden E, I, readout)
    # side by side. Only the products with the synapse lists (and the stored adjoints) use
    # the operators' dtype.
    g_u = np.zeros((n_samples, n_hidden))
    g_exc_out = np.zeros((n_samples, n_hidden + n_out))
    g_exc, g_syn_o = g_exc_out[:, :n_hidden], g_exc_out[:, n_hidden:]
    g_inh = np.zeros((n_samples, n_hidden))
    g_uo = np.zeros((n_samples, n_out))
    # the stored adjoints (steps, samples, targets), in the products' precision: the compiled
    # step writes the hidden columns of step - 1, the readout columns are written here; each
    # step's product takes a transposed copy (below), the weight gradients the whole history
    history_exc = _array(workspace, "history_exc", (n_steps, n_samples, n_hidden + n_out),
                         np_dtype)
    history_inh = _array(workspace, "history_inh", (n_steps, n_samples, n_hidden), np_dtype)
    g_s = _array(workspace, "g_s", (n_samples, n_hidden), np_dtype)
    # each product takes a step's adjoints as targets x samples (contiguous copies) and writes
    # presynaptic neurons x samples into a buffer of its own; the samples are padded with zero
    # columns to whole vectors of the tiled product (64 bytes: 16 float32 or 8 float64)
    lanes = 64 // np_dtype.itemsize
    padded = -(-n_samples // lanes) * lanes
    products = []  # (operator, stored adjoints, columns of g_s, adjoints buffer, product buffer)
    for k, (operator, stored, columns) in enumerate((
            (operators.from_exc, history_exc, slice(0, n_exc)),
            (operators.from_inh, history_inh, slice(n_exc, n_hidden)))):
        if operator is not None:
            adjoints = _array(workspace, f"adjoints_{k}", (stored.shape[2] * padded,), np_dtype)
            product = _array(workspace, f"product_{k}", (operator.shape[0] * padded,), np_dtype)
            products.append((operator, stored, columns, adjoints, product))
    step_loop = kernels().backward_step
    spikes_all = state.spikes_tm.view(np.uint8)
    # a sample's adjoints are all 0 after its last step (see last_steps): the recursion starts at
    # the latest one, and each step's products take only the samples that have begun (their
    # columns gathered; the others' rows of g_s stay 0). Each product's column is the same sum
    # whichever columns are beside it, so the numbers do not change.
    last = last_steps(argmax_step, n_steps, spike_gradient)
    order = np.argsort(-last, kind="stable")  # samples by last step, latest first
    begun = np.searchsorted(-last[order], -np.arange(n_steps), side="right")  # per step
    top = int(last.max(initial=-1))
    history_exc[top + 1:] = 0.0  # the steps skipped
    history_inh[top + 1:] = 0.0
    history_exc[max(top, 0), :, :n_hidden] = 0.0  # the first step's, which no later step writes
    history_inh[max(top, 0)] = 0.0
    g_s[...] = 0.0
    for step in range(top, -1, -1):
        g_syn_o *= a_out_syn
        g_syn_o += (1.0 - a_out_mem) * g_uo
        g_uo *= a_out_mem
        g_uo += injection[step]
        history_exc[step, :, n_hidden:] = g_syn_o
        count = begun[step]
        width = min(padded, -(-count // lanes) * lanes)
        every = count == n_samples
        active = slice(None) if every else np.sort(order[:count])
        for operator, stored, columns, adjoints, product in products:
            b = adjoints[:width * stored.shape[2]].reshape(-1, width)
            b[:, :count] = stored[step].T if every else stored[step, active].T
            b[:, count:] = 0.0
            out = operator.product(b, product[:width * operator.shape[0]].reshape(-1, width))
            g_s[active, columns] = out[:, :count].T
        # g_u = g_u * a_mem (0 after a spike: the reset is treated as a constant)
        #       + (g_s + spike_gradient) / (beta |u - threshold| + 1)^2; then step - 1 begins
        #       and its hidden adjoints are stored
        begin = step > 0
        step_loop(g_s, state.u_tm[step], spikes_all[step], extra, g_u, g_exc, g_inh, a_mem, a_exc,
                  a_inh, beta, threshold, begin, history_exc[step - 1] if begin else None,
                  history_inh[step - 1] if begin else None)
    history_exc, history_inh = torch.from_numpy(history_exc), torch.from_numpy(history_inh)
    flat_exc = history_exc.reshape(-1, n_hidden + n_out)
    s_exc, s_inh = state.s_exc, state.s_inh
    if s_exc is None:
        s_exc, s_inh = _sparse_split(state.spikes_tm, n_exc)

    def product(spikes, adjoints):  # spikes^T @ adjoints, NumPy in the operators' dtype
        return torch.sparse.mm(_csr_from_scipy(spikes.T, np_dtype), adjoints).numpy()

    d_x = product(state.x, flat_exc)  # readout columns too: a strided view would be copied
    d_from_exc = product(s_exc, flat_exc)
    grads = {"w_xe": d_x[:, :n_exc], "w_ee": d_from_exc[:, :n_exc],
             "w_eo": d_from_exc[:, n_hidden:]}
    if config.n_inh:
        d_i = product(s_inh, history_inh.reshape(-1, n_hidden))
        grads.update(w_xi=d_x[:, n_exc:n_hidden], w_ei=d_from_exc[:, n_exc:n_hidden],
                     w_ie=d_i[:, :n_exc], w_ii=d_i[:, n_exc:])
    # float64 arrays of their own; a sparse projection's absent synapses 0 (in the same pass)
    structure = operators.structure
    return {key: (np.multiply(value, structure.masks[key[2:]], dtype=np.float64)
                  if key[2:] in structure.sources else value.astype(np.float64, order="C"))
            for key, value in grads.items()}
