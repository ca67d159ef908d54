"""What both gradient engines use: :mod:`ei_brian.gradients` (the dense replay and backward pass)
and :mod:`ei_brian.sparse_gradients` (the backward pass on a sparse network's synapse lists).

A module below both, so that neither imports the other for these; every name here stays
importable from :mod:`ei_brian.gradients` as before.
"""
import numpy as np
import scipy.sparse

from ei_brian.kernels import kernels

__all__ = ["decay_factors", "last_steps", "Workspace"]


def decay_factors(config, time_constants=None):
    """Per-step decay factors ``exp(-dt / tau)`` of hidden (per neuron) and readout variables.

    ``time_constants`` holds per-neuron ``tau_mem``, ``tau_exc``, ``tau_inh`` in seconds (see
    ``NetworkConfig.time_constants``); by default every neuron has the configuration's means.
    """
    dt = float(config.dt)
    n_hidden = config.n_exc + config.n_inh
    if time_constants is None:
        time_constants = {name: np.full(n_hidden, float(getattr(config, name)))
                          for name in ("tau_mem", "tau_exc", "tau_inh")}
    factors = {short: np.exp(-dt / np.asarray(time_constants[name], dtype=np.float64))
               for short, name in (("mem", "tau_mem"), ("exc", "tau_exc"), ("inh", "tau_inh"))}
    factors["out_mem"] = float(np.exp(-dt / float(config.tau_out_mem)))
    factors["out_syn"] = float(np.exp(-dt / float(config.tau_out_syn)))
    return factors


def _sparse_split(spikes_tm, n_exc):
    """CSR matrices (n_steps * n_samples rows, int32 indices) of the E and of the I spikes of a
    time-major boolean spike array."""
    n_rows = spikes_tm.shape[0] * spikes_tm.shape[1]
    flat = np.ascontiguousarray(spikes_tm.reshape(n_rows, -1)).view(np.uint8)
    out = []
    for (indptr, columns), width in zip(kernels().spike_lists(flat, n_exc),
                                        (n_exc, spikes_tm.shape[-1] - n_exc)):
        out.append(scipy.sparse.csr_matrix((np.ones(len(columns)), columns, indptr),
                                           shape=(n_rows, width)))
    return out


class Workspace:
    """Reusable arrays for :func:`~ei_brian.gradients.forward` and
    :func:`~ei_brian.gradients.backward`.

    Large arrays that are allocated afresh at every minibatch cost page faults; a training loop
    passes one Workspace to every call so the same memory is reused. Arrays handed out by a call
    (``ForwardState.u``...) are then overwritten by the next call with the same workspace.
    """

    def __init__(self):
        self._arrays = {}

    def get(self, name, shape, dtype=np.float64):
        array = self._arrays.get(name)
        if array is None or array.shape != tuple(shape) or array.dtype != dtype:
            array = self._arrays[name] = np.empty(shape, dtype=dtype)
        return array


def _array(workspace, name, shape, dtype=np.float64):
    return np.empty(shape, dtype=dtype) if workspace is None else workspace.get(name, shape, dtype)


def last_steps(argmax_step, n_steps, spike_gradient=None):
    """Per sample, the last step at which the backward pass can give it a nonzero adjoint.

    The loss reaches the network through the readout's maxima (``argmax_step``) and, with a rate
    penalty, through every step's spikes. Without the penalty every adjoint of a sample is
    exactly 0 at the steps after its latest maximum (the recursion adds and multiplies zeros),
    so the backward pass need not compute them: it starts at the latest step of any sample and,
    in a sparse network, multiplies only the samples that have begun. The numbers are the same
    bit for bit.
    """
    n_samples = len(argmax_step)
    if spike_gradient is not None or not n_samples:
        return np.full(n_samples, n_steps - 1)
    return np.asarray(argmax_step).max(axis=1)
