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
import numpy as np
import scipy.sparse

__all__ = ["decay_factors", "input_matrix", "forward", "loss_and_output_gradient", "backward",
           "loss_and_gradients"]


def decay_factors(config):
    """Per-step decay factors ``exp(-dt / tau)`` of hidden (per neuron) and readout variables."""
    dt = float(config.dt)
    n_hidden = config.n_exc + config.n_inh
    ones = np.ones(n_hidden)
    return {"mem": np.exp(-dt / float(config.tau_mem)) * ones,
            "exc": np.exp(-dt / float(config.tau_exc)) * ones,
            "inh": np.exp(-dt / float(config.tau_inh)) * ones,
            "out_mem": float(np.exp(-dt / float(config.tau_out_mem))),
            "out_syn": float(np.exp(-dt / float(config.tau_out_syn)))}


def input_matrix(spike_input):
    """Input spikes as a sparse (n_samples * n_steps, n_channels) matrix of ones (CSR)."""
    rows = spike_input.sample * spike_input.n_steps + spike_input.step
    shape = (spike_input.n_samples * spike_input.n_steps, spike_input.n_channels)
    data = np.ones(len(rows))
    return scipy.sparse.csr_matrix((data, (rows, spike_input.channel)), shape=shape)


def _stacked(config, weights):
    """Weights grouped by presynaptic population: input, E and I to all hidden neurons."""
    n_exc, n_inh = config.n_exc, config.n_inh
    if n_inh:
        w_x = np.hstack([weights["w_xe"], weights["w_xi"]])
        w_e = np.hstack([weights["w_ee"], weights["w_ei"]])
        w_i = np.hstack([weights["w_ie"], weights["w_ii"]])
    else:
        w_x, w_e = weights["w_xe"], weights["w_ee"]
        w_i = np.zeros((0, n_exc))
    return w_x, w_e, w_i


class ForwardState:
    """States of a forward pass, arrays of shape (n_samples, n_steps, units)."""

    def __init__(self, **arrays):
        self.__dict__.update(arrays)


def forward(config, weights, spike_input, hidden_spikes=None):
    """Simulate the discrete dynamics (see the module docstring).

    Parameters
    ----------
    config : NetworkConfig
    weights : dict
        ``w_<projection>`` arrays (n_pre, n_post).
    spike_input : ei_brian.encoding.SpikeInput
    hidden_spikes : ndarray of bool (n_samples, n_steps, n_hidden), optional
        Spikes recorded by the compiled run; the replay uses them instead of thresholding.

    Returns
    -------
    ForwardState
        ``u`` (potentials before threshold and reset), ``spikes``, ``exc``, ``inh`` (synaptic
        currents after each step), ``readout`` (readout potentials), ``readout_syn``, and the
        sparse input matrix ``x``.
    """
    n_samples, n_steps = spike_input.n_samples, config.n_steps
    n_exc = config.n_exc
    n_hidden = n_exc + config.n_inh
    decay = decay_factors(config)
    w_x, w_e, w_i = _stacked(config, weights)
    w_eo = weights["w_eo"]
    x = input_matrix(spike_input)
    drive = np.asarray(x @ w_x).reshape(n_samples, n_steps, n_hidden)
    threshold, v_reset = config.v_threshold, config.v_reset
    shape = (n_samples, n_steps, n_hidden)
    u_all, exc_all, inh_all = np.empty(shape), np.empty(shape), np.empty(shape)
    spikes_all = np.empty(shape, dtype=bool) if hidden_spikes is None else hidden_spikes
    readout_all = np.empty((n_samples, n_steps, config.n_outputs))
    readout_syn_all = np.empty_like(readout_all)
    v = np.zeros((n_samples, n_hidden))
    exc = np.zeros_like(v)
    inh = np.zeros_like(v)
    vo = np.zeros((n_samples, config.n_outputs))
    syn_o = np.zeros_like(vo)
    for step in range(n_steps):
        c = exc - inh
        u = c + (v - c) * decay["mem"]
        spikes = u > threshold if hidden_spikes is None else hidden_spikes[:, step]
        s = spikes.astype(np.float64)
        exc = decay["exc"] * exc + drive[:, step] + s[:, :n_exc] @ w_e
        inh = decay["inh"] * inh + s[:, n_exc:] @ w_i
        v = np.where(spikes, v_reset, u)
        co = syn_o
        vo = co + (vo - co) * decay["out_mem"]
        syn_o = decay["out_syn"] * syn_o + s[:, :n_exc] @ w_eo
        u_all[:, step], exc_all[:, step], inh_all[:, step] = u, exc, inh
        readout_all[:, step], readout_syn_all[:, step] = vo, syn_o
        if hidden_spikes is None:
            spikes_all[:, step] = spikes
    return ForwardState(u=u_all, spikes=spikes_all, exc=exc_all, inh=inh_all, readout=readout_all,
                        readout_syn=readout_syn_all, x=x)


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


def backward(config, weights, state, output_gradient, argmax_step, spike_gradient=None):
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

    Returns
    -------
    dict of str to ndarray
        ``w_<projection>`` gradients, shaped like the weights.
    """
    n_samples, n_steps, n_hidden = state.u.shape
    n_exc = config.n_exc
    decay = decay_factors(config)
    a_mem, a_exc, a_inh = decay["mem"], decay["exc"], decay["inh"]
    a_out_mem, a_out_syn = decay["out_mem"], decay["out_syn"]
    w_x, w_e, w_i = _stacked(config, weights)
    w_e_t, w_i_t, w_eo_t = w_e.T.copy(), w_i.T.copy(), weights["w_eo"].T.copy()
    beta, threshold = config.surrogate_beta, config.v_threshold
    surrogate = 1.0 / (beta * np.abs(state.u - threshold) + 1.0) ** 2
    not_spiked = 1.0 - state.spikes
    grad_exc = np.empty((n_samples, n_steps, n_hidden))
    grad_inh = np.empty((n_samples, n_steps, n_hidden))
    grad_out_syn = np.empty((n_samples, n_steps, config.n_outputs))
    g_u = np.zeros((n_samples, n_hidden))
    g_exc = np.zeros_like(g_u)
    g_inh = np.zeros_like(g_u)
    g_uo = np.zeros((n_samples, config.n_outputs))
    g_syn_o = np.zeros_like(g_uo)
    one_minus_a_mem = 1.0 - a_mem
    for step in range(n_steps - 1, -1, -1):
        # adjoints of the states after step `step`, from those of step + 1
        g_exc = a_exc * g_exc + one_minus_a_mem * g_u
        g_inh = a_inh * g_inh - one_minus_a_mem * g_u
        g_syn_o = a_out_syn * g_syn_o + (1.0 - a_out_mem) * g_uo
        g_uo = a_out_mem * g_uo + np.where(argmax_step == step, output_gradient, 0.0)
        g_s = np.empty((n_samples, n_hidden))
        g_s[:, :n_exc] = g_exc @ w_e_t + g_syn_o @ w_eo_t
        g_s[:, n_exc:] = g_inh @ w_i_t
        if spike_gradient is not None:
            g_s += spike_gradient
        g_u = a_mem * g_u * not_spiked[:, step] + surrogate[:, step] * g_s
        grad_exc[:, step], grad_inh[:, step], grad_out_syn[:, step] = g_exc, g_inh, g_syn_o
    flat_exc = grad_exc.reshape(-1, n_hidden)
    flat_inh = grad_inh.reshape(-1, n_hidden)
    spikes = state.spikes.reshape(-1, n_hidden)
    active = np.flatnonzero(spikes.any(axis=1))  # only steps with hidden spikes contribute
    s_exc = spikes[active, :n_exc].astype(np.float64)
    s_inh = spikes[active, n_exc:].astype(np.float64)
    d_x = np.asarray(state.x.T @ flat_exc)
    d_e = s_exc.T @ flat_exc[active]
    d_eo = s_exc.T @ grad_out_syn.reshape(-1, config.n_outputs)[active]
    grads = {"w_xe": d_x[:, :n_exc], "w_ee": d_e[:, :n_exc], "w_eo": d_eo}
    if config.n_inh:
        d_i = s_inh.T @ flat_inh[active]
        grads.update(w_xi=d_x[:, n_exc:], w_ei=d_e[:, n_exc:], w_ie=d_i[:, :n_exc],
                     w_ii=d_i[:, n_exc:])
    return {key: np.ascontiguousarray(value) for key, value in grads.items()}


def loss_and_gradients(config, weights, spike_input, labels, hidden_spikes=None, readout=None,
                       regularizer_strength=0.0, regularizer_rate=None):
    """Loss, gradients and predictions of one minibatch.

    ``hidden_spikes`` and ``readout`` are what the compiled run recorded; without them the
    forward pass runs free in NumPy (used by the tests).

    Returns
    -------
    loss : float
        Cross-entropy plus the rate penalty.
    grads : dict
    info : dict
        ``predictions``, ``cross_entropy``, ``penalty``, ``spikes`` (n_samples, n_steps, n_hidden).
    """
    state = forward(config, weights, spike_input, hidden_spikes=hidden_spikes)
    recorded = state.readout if readout is None else readout
    cross_entropy, output_gradient, argmax_step, predictions = loss_and_output_gradient(recorded,
                                                                                        labels)
    penalty, spike_gradient = 0.0, None
    if regularizer_strength:
        penalty, spike_gradient = rate_penalty(config, state.spikes, regularizer_strength,
                                               regularizer_rate)
    grads = backward(config, weights, state, output_gradient, argmax_step, spike_gradient)
    return cross_entropy + penalty, grads, {"predictions": predictions, "cross_entropy": cross_entropy,
                                            "penalty": penalty, "spikes": state.spikes}
