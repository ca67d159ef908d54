"""The same model in PyTorch, written the way PyTorch users write it (batched tensors, one loop
over time steps, autograd for the backward pass, as in snnTorch or stork).

It is the independent automatic-differentiation reference that the tests check the gradients of
:mod:`ei_brian.gradients` against, and the other side of ``benchmarks/bench_training.py`` (and
of bench_shd.py and bench_scale.py, which put this folder on their ``sys.path``). It lives with
the tests, not in the package: ei_brian imports none of it. PyTorch is an optional dependency
(``pip install torch``; sparse networks use PyTorch's sparse kernels in
:mod:`ei_brian.sparse_gradients`).
"""
import math

import numpy as np
import torch

__all__ = ["TorchEINetwork"]


class SuperSpike(torch.autograd.Function):
    """Heaviside step forward, SuperSpike surrogate derivative backward."""

    @staticmethod
    def forward(ctx, v_minus_threshold, beta):
        ctx.save_for_backward(v_minus_threshold)
        ctx.beta = beta
        return (v_minus_threshold > 0).to(v_minus_threshold.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        (v_minus_threshold,) = ctx.saved_tensors
        return grad_output / (ctx.beta * v_minus_threshold.abs() + 1.0) ** 2, None


class TorchEINetwork(torch.nn.Module):
    """E/I network with Dale's-law magnitudes (or signed weights when ``unbounded``).

    Parameters
    ----------
    config : ei_brian.config.NetworkConfig
    weights : dict of str to ndarray
        ``w_<projection>`` arrays (n_pre, n_post) to start from.
    dtype : torch.dtype
    masks : dict of str to ndarray of bool, optional
        Per projection (by name, e.g. ``"ee"``), which synapses exist: the forward pass uses
        ``w * mask``, so autodiff gives the gradients of a sparse network (zero off the mask).
        ``Structure.masks`` of a sparse network; the computation stays dense.
    """

    def __init__(self, config, weights, dtype=torch.float32, time_constants=None, masks=None):
        super().__init__()
        self.config = config
        self.masks = {name: torch.as_tensor(np.asarray(mask), dtype=dtype)
                      for name, mask in (masks or {}).items()}
        self.n_exc, self.n_inh = config.n_exc, config.n_inh
        self.weights = torch.nn.ParameterDict({
            name: torch.nn.Parameter(torch.as_tensor(weights["w_" + name], dtype=dtype).clone())
            for name in config.projections})
        dt = float(config.dt)
        n_hidden = self.n_exc + self.n_inh
        if time_constants is None:
            time_constants = {name: [float(getattr(config, name))] * n_hidden
                              for name in ("tau_mem", "tau_exc", "tau_inh")}
        # per-neuron decay factors, split into the E and the I part
        for short, name in (("mem", "tau_mem"), ("exc", "tau_exc"), ("inh", "tau_inh")):
            decay = torch.exp(-dt / torch.as_tensor(time_constants[name], dtype=torch.float64))
            setattr(self, f"a_{short}_e", decay[:self.n_exc].to(dtype))
            setattr(self, f"a_{short}_i", decay[self.n_exc:].to(dtype))
        self.a_out_mem = math.exp(-dt / float(config.tau_out_mem))
        self.a_out_syn = math.exp(-dt / float(config.tau_out_syn))
        self.dtype = dtype

    def forward(self, inputs, membrane_noise=None):
        """Run the network on dense inputs (batch, steps, channels); returns readout potentials
        (batch, steps, outputs) and hidden spikes (batch, steps, n_exc + n_inh). A membrane-noise
        drive (batch, steps, n_hidden) adds to the membrane equation's input."""
        config = self.config
        w = {name: value * self.masks[name] if name in self.masks else value
             for name, value in self.weights.items()}
        batch, n_steps, _ = inputs.shape
        has_inh = self.n_inh > 0
        zeros = lambda n: torch.zeros(batch, n, dtype=self.dtype)  # noqa: E731
        v_e, exc_e, inh_e = zeros(self.n_exc), zeros(self.n_exc), zeros(self.n_exc)
        v_i, exc_i, inh_i = zeros(self.n_inh), zeros(self.n_inh), zeros(self.n_inh)
        v_o, syn_o = zeros(config.n_outputs), zeros(config.n_outputs)
        readout, spikes = [], []
        noise = None if membrane_noise is None else torch.as_tensor(membrane_noise, dtype=self.dtype)
        for step in range(n_steps):
            x = inputs[:, step]
            c_e = exc_e - inh_e
            if noise is not None:
                c_e = c_e + noise[:, step, :self.n_exc]
            u_e = c_e + (v_e - c_e) * self.a_mem_e
            s_e = SuperSpike.apply(u_e - config.v_threshold, config.surrogate_beta)
            new_exc_e = self.a_exc_e * exc_e + x @ w["xe"] + s_e @ w["ee"]
            if has_inh:
                c_i = exc_i - inh_i
                if noise is not None:
                    c_i = c_i + noise[:, step, self.n_exc:]
                u_i = c_i + (v_i - c_i) * self.a_mem_i
                s_i = SuperSpike.apply(u_i - config.v_threshold, config.surrogate_beta)
                new_inh_e = self.a_inh_e * inh_e + s_i @ w["ie"]
                exc_i = self.a_exc_i * exc_i + x @ w["xi"] + s_e @ w["ei"]
                inh_i = self.a_inh_i * inh_i + s_i @ w["ii"]
                reset_i = s_i.detach()
                v_i = u_i * (1 - reset_i) + config.v_reset * reset_i
                inh_e = new_inh_e
            exc_e = new_exc_e
            reset_e = s_e.detach()
            v_e = u_e * (1 - reset_e) + config.v_reset * reset_e
            v_o = syn_o + (v_o - syn_o) * self.a_out_mem
            syn_o = self.a_out_syn * syn_o + s_e @ w["eo"]
            readout.append(v_o)
            spikes.append(torch.cat([s_e, s_i], dim=1) if has_inh else s_e)
        return torch.stack(readout, dim=1), torch.stack(spikes, dim=1)

    def loss(self, inputs, labels, membrane_noise=None):
        """Cross-entropy on each readout unit's maximum over time (mean over the batch)."""
        readout, spikes = self.forward(inputs, membrane_noise)
        peaks = readout.max(dim=1).values
        return torch.nn.functional.cross_entropy(peaks, torch.as_tensor(labels)), readout, spikes

    def clip_(self):
        """Dale's law: clip magnitudes at zero after an update (no-op when unbounded)."""
        if not self.config.unbounded:
            with torch.no_grad():
                for parameter in self.weights.values():
                    parameter.clamp_(min=0.0)
