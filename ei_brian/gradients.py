"""Surrogate gradients: backpropagation through time of the discrete dynamics Brian2 simulated.

The compiled run records the hidden spikes and the readout potentials. :func:`forward` replays
the same discrete update, step for step (see :mod:`ei_brian.network` for the order within a step),
given the recorded spikes, to recover the membrane potentials and synaptic currents; with
``hidden_spikes=None`` it runs free, thresholding itself (the tests check that this reproduces the
compiled run's spikes and potentials). :func:`backward` then propagates the loss gradient back in
time. The spike nonlinearity has the SuperSpike surrogate derivative
``1 / (beta * |u - threshold| + 1)^2``; the reset is treated as a constant (no gradient through it).

Per time step ``n`` and hidden neuron (``a_x = exp(-dt / tau_x)``, all states zero at ``n = 0``)::

    u[n] = c + (v[n-1] - c) * a_mem,      c = I_exc[n-1] - I_inh[n-1]
    s[n] = u[n] > threshold
    I_exc[n] = a_exc * I_exc[n-1] + W_xe^T x[n] + W_ee^T s_E[n]      (to E; W_xi, W_ei to I)
    I_inh[n] = a_inh * I_inh[n-1] + W_ie^T s_I[n]                    (to E; W_ii to I)
    v[n] = v_reset if s[n] else u[n]

and per readout unit ``uo[n] = c + (uo[n-1] - c) * a_out_mem`` with ``c = I_syn[n-1]`` and
``I_syn[n] = a_out_syn * I_syn[n-1] + W_eo^T s_E[n]``. Prediction: argmax over units of the
maximum of ``uo`` over time; loss: cross-entropy of those maxima (mean over the minibatch), plus
the optional upper-bound L2 rate penalty.
"""
import concurrent.futures
import os

import numpy as np
import scipy.sparse
import threadpoolctl

from ei_brian.gradient_common import Workspace, _array, _sparse_split, decay_factors, last_steps
from ei_brian.kernels import kernels
from ei_brian.sparse_gradients import SparseOperators, backward_sparse, torch_module

__all__ = ["decay_factors", "input_matrix", "forward", "loss_and_output_gradient", "last_steps",
           "backward", "loss_and_gradients", "GradientEngine", "Workspace"]


def input_matrix(spike_input, time_major=False):
    """Input spikes as a sparse matrix of ones (CSR), one row per (sample, step).

    Rows are ordered ``sample * n_steps + step``, or ``step * n_samples + sample`` when
    ``time_major``; columns are channels.
    """
    if time_major:
        rows = spike_input.step * spike_input.n_samples + spike_input.sample
    else:
        rows = spike_input.sample * spike_input.n_steps + spike_input.step
    shape = (spike_input.n_samples * spike_input.n_steps, spike_input.n_channels)
    data = np.ones(len(rows))
    return scipy.sparse.csr_matrix((data, (rows, spike_input.channel)), shape=shape)


def _stacked(config, weights, with_input=True):
    """Weights grouped by presynaptic population: input (None unless ``with_input``), E and I to
    all hidden neurons."""
    n_exc, n_inh = config.n_exc, config.n_inh
    if n_inh:
        w_x = np.hstack([weights["w_xe"], weights["w_xi"]]) if with_input else None
        w_e = np.hstack([weights["w_ee"], weights["w_ei"]])
        w_i = np.hstack([weights["w_ie"], weights["w_ii"]])
    else:
        w_x, w_e = weights["w_xe"], weights["w_ee"]
        w_i = np.zeros((0, n_exc))
    return w_x, w_e, w_i


class ForwardState:
    """States of a forward pass. Arrays are stored time-major, (n_steps, n_samples, units); the
    properties ``u``, ``spikes`` and ``readout`` give (n_samples, n_steps, units) views."""

    def __init__(self, **arrays):
        self.__dict__.update(arrays)

    u = property(lambda self: np.moveaxis(self.u_tm, 0, 1))
    spikes = property(lambda self: np.moveaxis(self.spikes_tm, 0, 1))
    readout = property(lambda self: np.moveaxis(self.readout_tm, 0, 1))


def _replay_weights(config, weights, operators=None):
    """The weights of the replay, by presynaptic population (input, E, I): dense rows to all
    their targets (hidden neurons; for E also the readout), or, in a sparse network, its synapse
    lists where the projections are sparse (``operators``, a SparseOperators)."""
    if operators is not None:
        return operators.replay_input, operators.replay_exc, operators.replay_inh
    w_x, w_e, w_i = _stacked(config, weights)
    return w_x, np.hstack([w_e, weights["w_eo"]]), w_i


def forward(config, weights, spike_input, hidden_spikes=None, workspace=None,
            time_constants=None, membrane_noise=None, operators=None, last_steps=None):
    """Simulate the discrete dynamics (see the module docstring).

    Parameters
    ----------
    config : NetworkConfig
    weights : dict
        ``w_<projection>`` arrays (n_pre, n_post).
    spike_input : ei_brian.encoding.SpikeInput
    hidden_spikes : ndarray of bool (n_samples, n_steps, n_hidden), optional
        Spikes recorded by the compiled run; the replay uses them instead of thresholding, so
        each step's synaptic input is known before the step: a compiled loop sums it spike by
        spike and updates the states (:func:`ei_brian.kernels`).
    workspace : Workspace, optional
        Reuse its arrays (faster in a loop); by default the arrays are new.
    time_constants : dict, optional
        Per-neuron time constants (seconds) when the network has time-constant diversity.
    membrane_noise : ndarray (n_samples, n_steps, n_hidden), optional
        The membrane-noise drive the compiled run received (it adds to ``c`` below).
    operators : ei_brian.sparse_gradients.SparseOperators, optional
        The synapse lists of a sparse network: the replay then adds, per spike, only the weights
        of the neuron's existing synapses (the same sums as with the dense arrays).
    last_steps : ndarray of int (n_samples,), optional
        With ``hidden_spikes``: replay each sample only up to this step, all that the backward
        pass uses of it (see :func:`last_steps`); its later potentials are 0, and its readout
        after that step misses the input of those steps.

    Returns
    -------
    ForwardState
        ``u`` (potentials after the state update, before threshold and reset), ``spikes``,
        ``readout`` (readout potentials), and the sparse time-major input matrix ``x``.
    """
    n_samples, n_steps = spike_input.n_samples, config.n_steps
    n_exc = config.n_exc
    n_hidden = n_exc + config.n_inh
    decay = decay_factors(config, time_constants)
    a_mem, a_exc, a_inh = decay["mem"], decay["exc"], decay["inh"]
    noise_tm = None
    if membrane_noise is not None:
        noise_tm = np.ascontiguousarray(np.moveaxis(np.asarray(membrane_noise, dtype=float), 1, 0))
    x = input_matrix(spike_input, time_major=True)
    shape = (n_steps, n_samples, n_hidden)
    threshold, v_reset = config.v_threshold, config.v_reset
    u_tm = _array(workspace, "u", shape)
    readout_tm = _array(workspace, "readout", (n_steps, n_samples, config.n_outputs))
    if hidden_spikes is not None:
        spikes_tm = np.ascontiguousarray(np.moveaxis(np.asarray(hidden_spikes, dtype=bool), 1, 0))
        s_exc, s_inh = _sparse_split(spikes_tm, n_exc)
        from_input, from_exc, from_inh = _replay_weights(config, weights, operators)
        drive_out = _array(workspace, "drive_out", (n_steps * n_samples, config.n_outputs))

        def lists(matrix):
            return (matrix.indptr.astype(np.int32, copy=False),
                    matrix.indices.astype(np.int32, copy=False))

        kernels().replay(u_tm, spikes_tm.view(np.uint8), lists(x), from_input, lists(s_exc),
                         from_exc, lists(s_inh), from_inh, drive_out, noise_tm, a_mem, a_exc,
                         a_inh, v_reset,
                         None if last_steps is None else np.asarray(last_steps, dtype=np.int64))
        vo = np.zeros((n_samples, config.n_outputs))
        syn_o = np.zeros_like(vo)
        drive_out = drive_out.reshape(n_steps, n_samples, config.n_outputs)
        for step in range(n_steps):
            vo = syn_o + (vo - syn_o) * decay["out_mem"]
            syn_o = decay["out_syn"] * syn_o + drive_out[step]
            readout_tm[step] = vo
        return ForwardState(u_tm=u_tm, spikes_tm=spikes_tm, readout_tm=readout_tm, x=x,
                            s_exc=s_exc, s_inh=s_inh)
    # free run: threshold step by step
    w_x, w_e, w_i = _stacked(config, weights)
    w_eo = weights["w_eo"]
    drive_exc = np.asarray(x @ w_x).reshape(shape)
    spikes_tm = _array(workspace, "spikes", shape, bool)
    v = np.zeros((n_samples, n_hidden))
    exc = np.zeros_like(v)
    inh = np.zeros_like(v)
    c = np.empty_like(v)
    vo = np.zeros((n_samples, config.n_outputs))
    syn_o = np.zeros_like(vo)
    for step in range(n_steps):
        u = u_tm[step]
        np.subtract(exc, inh, out=c)          # u = c + (v - c) * a_mem, c = I_exc - I_inh
        if noise_tm is not None:
            c += noise_tm[step]                # (+ the membrane-noise drive)
        np.subtract(v, c, out=u)
        u *= a_mem
        u += c
        spikes = np.greater(u, threshold, out=spikes_tm[step])
        s = spikes.astype(np.float64)
        exc = a_exc * exc + drive_exc[step] + s[:, :n_exc] @ w_e
        inh = a_inh * inh + s[:, n_exc:] @ w_i
        syn_out = s[:, :n_exc] @ w_eo
        np.copyto(v, u)
        v[spikes] = v_reset
        vo = syn_o + (vo - syn_o) * decay["out_mem"]
        syn_o = decay["out_syn"] * syn_o + syn_out
        readout_tm[step] = vo
    return ForwardState(u_tm=u_tm, spikes_tm=spikes_tm, readout_tm=readout_tm, x=x,
                        s_exc=None, s_inh=None)


def loss_and_output_gradient(readout, labels):
    """Cross-entropy on the maximum over time of each readout unit.

    Returns
    -------
    loss : float
        Mean over the minibatch.
    gradient : ndarray (n_samples, n_outputs)
        d loss / d max-potential.
    argmax_step : ndarray (n_samples, n_outputs)
        Step at which each unit reached its maximum (first one on ties).
    predictions : ndarray (n_samples,)
    """
    labels = np.asarray(labels)
    argmax_step = readout.argmax(axis=1)
    peaks = np.take_along_axis(readout, argmax_step[:, None, :], axis=1)[:, 0, :]
    shifted = peaks - peaks.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1))
    log_prob = shifted - log_norm[:, None]
    n_samples = len(labels)
    loss = -log_prob[np.arange(n_samples), labels].mean()
    gradient = np.exp(log_prob)
    gradient[np.arange(n_samples), labels] -= 1.0
    gradient /= n_samples
    return float(loss), gradient, argmax_step, peaks.argmax(axis=1)


def rate_penalty(config, spikes, strength, rate):
    """Upper-bound L2 penalty on hidden spike counts and its gradient with respect to each spike.

    ``strength * mean over samples and neurons of relu(count - rate * duration)^2``.
    """
    if strength == 0:
        return 0.0, None
    counts = spikes.sum(axis=1, dtype=np.float64)  # (n_samples, n_hidden)
    bound = float(rate * config.sample_duration)
    excess = np.maximum(counts - bound, 0.0)
    penalty = strength * np.mean(excess ** 2)
    return float(penalty), 2.0 * strength * excess / excess.size


def backward(config, weights, state, output_gradient, argmax_step, spike_gradient=None,
             workspace=None, time_constants=None):
    """Backpropagation through time.

    Parameters
    ----------
    state : ForwardState
        From :func:`forward` (replayed with the recorded spikes).
    output_gradient : ndarray (n_samples, n_outputs)
        d loss / d (maximum readout potential).
    argmax_step : ndarray (n_samples, n_outputs)
        Where each maximum was reached.
    spike_gradient : ndarray (n_samples, n_hidden), optional
        Extra d loss / d s[n] that is the same at every step (from the rate penalty).
    workspace : Workspace, optional
    time_constants : dict, optional
        As given to :func:`forward`.

    Returns
    -------
    dict of str to ndarray
        ``w_<projection>`` gradients, shaped like the weights.
    """
    n_steps, n_samples, n_hidden = state.u_tm.shape
    n_exc, n_out = config.n_exc, config.n_outputs
    decay = decay_factors(config, time_constants)
    a_mem, a_exc, a_inh = decay["mem"], decay["exc"], decay["inh"]
    a_out_mem, a_out_syn = decay["out_mem"], decay["out_syn"]
    _, w_e, w_i = _stacked(config, weights, with_input=False)  # input weights get no adjoint
    # E neurons feed hidden E and I currents and the readout: one product per step
    w_from_exc_t = np.vstack([w_e.T, weights["w_eo"].T])
    w_i_t = np.ascontiguousarray(w_i.T)
    beta, threshold = config.surrogate_beta, config.v_threshold
    spikes_tm = state.spikes_tm.view(np.uint8)
    injection = np.zeros((n_steps, n_samples, n_out))   # d loss / d readout potential
    samples, units = np.indices((n_samples, n_out))
    injection[argmax_step, samples, units] = output_gradient
    # adjoints of the E-neuron targets (hidden E and I currents, readout current) side by side
    grad_from_exc = _array(workspace, "grad_from_exc", (n_steps, n_samples, n_hidden + n_out))
    grad_inh = _array(workspace, "grad_inh", (n_steps, n_samples, n_hidden))
    g_u = np.zeros((n_samples, n_hidden))
    g_exc_out = np.zeros((n_samples, n_hidden + n_out))
    g_exc, g_syn_o = g_exc_out[:, :n_hidden], g_exc_out[:, n_hidden:]
    g_inh = np.zeros((n_samples, n_hidden))
    g_uo = np.zeros((n_samples, n_out))
    g_s = np.empty((n_samples, n_hidden))
    extra = None if spike_gradient is None else np.ascontiguousarray(spike_gradient, dtype=float)
    compiled = kernels()
    step_loop = compiled.backward_step
    # after the latest step any sample's loss depends on, every adjoint is 0 (see last_steps)
    top = int(last_steps(argmax_step, n_steps, spike_gradient).max(initial=-1))
    grad_from_exc[top + 1:] = 0.0
    grad_inh[top + 1:] = 0.0
    for step in range(top, -1, -1):
        # adjoints of the states after step `step`, from those of step + 1 (the hidden ones were
        # carried on by the end of the previous iteration, begin_next)
        g_syn_o *= a_out_syn
        g_syn_o += (1.0 - a_out_mem) * g_uo
        g_uo *= a_out_mem
        g_uo += injection[step]
        grad_from_exc[step] = g_exc_out
        grad_inh[step] = g_inh
        np.matmul(g_exc_out, w_from_exc_t, out=g_s[:, :n_exc])
        np.matmul(g_inh, w_i_t, out=g_s[:, n_exc:])
        # g_u = g_u * a_mem (0 after a spike: the reset is treated as a constant)
        #       + (g_s + spike_gradient) / (beta |u - threshold| + 1)^2; then step - 1 begins
        step_loop(g_s, state.u_tm[step], spikes_tm[step], extra, g_u, g_exc, g_inh, a_mem, a_exc,
                  a_inh, beta, threshold, step > 0)
    s_exc, s_inh = state.s_exc, state.s_inh
    if s_exc is None:
        s_exc, s_inh = _sparse_split(spikes_tm, n_exc)
    return weight_gradients(config, state.x, s_exc, s_inh, grad_from_exc, grad_inh)


def weight_gradients(config, x, s_exc, s_inh, grad_from_exc, grad_inh):
    """The weight gradients from the stored adjoints: ``S.T @ adjoints`` for the 0/1 input and
    spike matrices (CSR, time-major rows), in a compiled loop with SciPy's order of sums.

    ``grad_from_exc`` (n_steps, n_samples, n_hidden + n_out) holds the adjoints of the targets of
    E neurons (hidden currents, then the readout current), ``grad_inh`` (n_steps, n_samples,
    n_hidden) those of I neurons' targets. Shared by this module's :func:`backward` and the
    derived engine's (:mod:`ei_brian.derived`).
    """
    n_exc, n_hidden = config.n_exc, config.n_exc + config.n_inh
    product = kernels().transposed_product

    def spikes_t(matrix, adjoints):
        return product(matrix.indptr.astype(np.int32, copy=False),
                       matrix.indices.astype(np.int32, copy=False),
                       matrix.data.astype(np.float64, copy=False), matrix.shape[1], adjoints)
    # with the readout columns too (dropped below): each column's sums are the same either way
    flat_from_exc = grad_from_exc.reshape(-1, grad_from_exc.shape[-1])
    d_x = spikes_t(x, flat_from_exc)
    d_from_exc = spikes_t(s_exc, flat_from_exc)
    grads = {"w_xe": d_x[:, :n_exc], "w_ee": d_from_exc[:, :n_exc],
             "w_eo": d_from_exc[:, n_hidden:]}
    if config.n_inh:
        d_i = spikes_t(s_inh, grad_inh.reshape(-1, n_hidden))
        grads.update(w_xi=d_x[:, n_exc:n_hidden], w_ei=d_from_exc[:, n_exc:n_hidden],
                     w_ie=d_i[:, :n_exc], w_ii=d_i[:, n_exc:])
    return {key: np.ascontiguousarray(value) for key, value in grads.items()}


def _part_loss_and_gradients(config, weights, spike_input, labels, hidden_spikes, readout,
                             regularizer_strength, regularizer_rate, share, workspace,
                             time_constants=None, membrane_noise=None, operators=None):
    last = None
    if readout is not None and hidden_spikes is not None:
        # the recorded readout gives the loss before the replay, which then stops, sample by
        # sample, at the last step the backward pass needs (every step with a rate penalty)
        cross_entropy, output_gradient, argmax_step, predictions = loss_and_output_gradient(
            readout, labels)
        if not regularizer_strength:
            last = last_steps(argmax_step, config.n_steps)
    state = forward(config, weights, spike_input, hidden_spikes=hidden_spikes, workspace=workspace,
                    time_constants=time_constants, membrane_noise=membrane_noise,
                    operators=operators, last_steps=last)
    if readout is None or hidden_spikes is None:
        recorded = state.readout if readout is None else readout
        cross_entropy, output_gradient, argmax_step, predictions = loss_and_output_gradient(
            recorded, labels)
    penalty, spike_gradient = 0.0, None
    if regularizer_strength:
        penalty, spike_gradient = rate_penalty(config, state.spikes, regularizer_strength,
                                               regularizer_rate)
        spike_gradient *= share
    if operators is None:
        grads = backward(config, weights, state, output_gradient * share, argmax_step,
                         spike_gradient, workspace=workspace, time_constants=time_constants)
    else:  # a sparse network: products with the synapse lists
        grads = backward_sparse(config, state, output_gradient * share, argmax_step, operators,
                                spike_gradient, time_constants=time_constants,
                                workspace=workspace)
    return cross_entropy * share, penalty * share, grads, predictions, state.spikes


class GradientEngine:
    """Loss and gradients of minibatches, split into parts by sample and run in threads.

    Samples are independent until the weight gradients are summed, so the minibatch is cut into
    ``n_parts`` parts whose forward replay and backward pass may run at the same time (NumPy
    releases the GIL in its array operations); each part keeps its own :class:`Workspace`. The
    cut does not depend on the number of threads, and the parts' gradients are summed in the same
    order, so the result is the same bit for bit whether the parts run in 1 thread or in
    ``n_parts`` (a sweep running one training per core gives each training one thread).

    Parameters
    ----------
    config : NetworkConfig
    n_threads : int, optional
        Threads to use (default: 2, or 1 on a one-core machine).
    n_parts : int, optional
        Parts a minibatch is cut into (decides the order of the gradient sums); default 2, and 4
        for a sparse network with fewer than 1.5 million recurrent synapses. (Measured on a
        2-core machine: at 2,560 neurons and connectivity 0.1, 676,000 synapses, 4 parts were
        10 % faster than 2; at 5,120, 2.7 million, 2 parts were 20 % faster than 4: each sparse
        product then streams its synapse list from memory, and a wider part uses it for more
        samples.)
    structure : ei_brian.structure.Structure, optional
        The synapses of a sparse network: the backward pass then runs on the synapse lists
        (:mod:`ei_brian.sparse_gradients`).
    precision : {"float32", "float64"}
        Precision of the sparse backward pass (the dense one is always float64).
    """

    #: the loss and gradients of one part (:mod:`ei_brian.derived` puts its own)
    part_function = staticmethod(_part_loss_and_gradients)

    def __init__(self, config, n_threads=None, n_parts=None, structure=None, precision="float32"):
        self.config = config
        self.structure = structure if config.sparse else None
        self.precision = precision
        if n_parts is None:
            n_parts = 2
            if self.structure is not None and sum(
                    count for name, count in self.structure.n_synapses.items()
                    if name in ("ee", "ei", "eo", "ie", "ii")) < 1_500_000:
                n_parts = 4  # see the docstring
        self.n_parts = max(1, int(n_parts))
        self.n_threads = max(1, min(self.n_parts, int(n_threads or min(2, os.cpu_count() or 1))))
        self.workspaces = [Workspace() for _ in range(self.n_parts)]
        self.pool = (concurrent.futures.ThreadPoolExecutor(self.n_threads)
                     if self.n_threads > 1 else None)

    def __call__(self, weights, spike_input, labels, hidden_spikes=None, readout=None,
                 regularizer_strength=0.0, regularizer_rate=None, time_constants=None,
                 membrane_noise=None):
        """Same arguments and result as :func:`loss_and_gradients`."""
        labels = np.asarray(labels)
        n_samples = len(labels)
        n_parts = min(self.n_parts, n_samples)
        operators = None
        if self.structure is not None:
            operators = SparseOperators(self.config, self.structure, weights, self.precision)
            torch = torch_module()
            torch_threads = torch.get_num_threads()
            torch.set_num_threads(1)  # one thread per part, as for BLAS below
        bounds = np.linspace(0, n_samples, n_parts + 1).astype(int)
        jobs = []
        for part, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:])):
            jobs.append((self.config, weights, spike_input.subset(start, stop), labels[start:stop],
                         None if hidden_spikes is None else hidden_spikes[start:stop],
                         None if readout is None else readout[start:stop],
                         regularizer_strength, regularizer_rate, (stop - start) / n_samples,
                         self.workspaces[part], time_constants,
                         None if membrane_noise is None else membrane_noise[start:stop],
                         operators))
        # one BLAS thread per part, however many parts run at once: the same sums every time
        try:
            with threadpoolctl.threadpool_limits(1, user_api="blas"):
                part = self.part_function
                if self.pool is None or n_parts == 1:
                    results = [part(*job) for job in jobs]
                else:
                    results = list(self.pool.map(lambda job: part(*job), jobs))
        finally:
            if operators is not None:
                torch.set_num_threads(torch_threads)
        cross_entropy = sum(r[0] for r in results)
        penalty = sum(r[1] for r in results)
        grads = results[0][2]
        for other in results[1:]:
            for key in grads:
                grads[key] += other[2][key]
        return cross_entropy + penalty, grads, {
            "predictions": np.concatenate([r[3] for r in results]), "cross_entropy": cross_entropy,
            "penalty": penalty, "spikes": np.concatenate([r[4] for r in results])}

    def close(self):
        if self.pool is not None:
            self.pool.shutdown()


def loss_and_gradients(config, weights, spike_input, labels, hidden_spikes=None, readout=None,
                       regularizer_strength=0.0, regularizer_rate=None, time_constants=None,
                       membrane_noise=None, structure=None, precision="float32"):
    """Loss, gradients and predictions of one minibatch (in one thread; see GradientEngine).

    ``hidden_spikes`` and ``readout`` are what the compiled run recorded; without them the
    forward pass runs free in NumPy (used by the tests). With a ``structure`` the backward pass
    runs on its synapse lists in ``precision`` (:mod:`ei_brian.sparse_gradients`), even when
    every synapse exists (the tests compare it with the dense code that way).

    Returns
    -------
    loss : float
        Cross-entropy plus the rate penalty.
    grads : dict
    info : dict
        ``predictions``, ``cross_entropy``, ``penalty``, ``spikes`` (n_samples, n_steps, n_hidden).
    """
    operators = None
    if structure is not None:
        operators = SparseOperators(config, structure, weights, precision)
    cross_entropy, penalty, grads, predictions, spikes = _part_loss_and_gradients(
        config, weights, spike_input, np.asarray(labels), hidden_spikes, readout,
        regularizer_strength, regularizer_rate, 1.0, None, time_constants, membrane_noise,
        operators)
    return cross_entropy + penalty, grads, {"predictions": predictions,
                                            "cross_entropy": cross_entropy, "penalty": penalty,
                                            "spikes": spikes}
