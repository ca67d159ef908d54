"""Neuron models written by hand in PyTorch: the autodiff reference of the derived engine.

Each model is its discrete update map as Brian2 integrates it (exponential Euler for ``lif`` and
``alif``, forward Euler for ``qif``), its threshold margin and its reset, written out here by hand
from the model files in ``ei_brian/models/`` and not from the SymPy expressions that
:mod:`ei_brian.derived` generates, so that the two are independent. The network around them (E
and I populations, Dale's-law magnitudes, the readout, the loss) is that of
``torch_reference.TorchEINetwork``.
"""
import math

import torch
from torch_reference import SuperSpike

__all__ = ["MODELS", "TorchModelNetwork"]


def _lif(dt, p):
    a_mem, a_exc, a_inh = (math.exp(-dt / p[name]) for name in ("tau_mem", "tau_exc", "tau_inh"))

    def update(v, exc, inh, *rest):
        c = exc - inh
        return (c + (v - c) * a_mem, exc * a_exc, inh * a_inh)

    def margin(v, exc, inh, *rest):
        return v - 1.0

    def reset(state, s):
        v, exc, inh = state
        return (v * (1 - s), exc, inh)
    return update, margin, reset


def _alif(dt, p):
    a_mem, a_exc, a_inh, a_a = (math.exp(-dt / p[name])
                                for name in ("tau_mem", "tau_exc", "tau_inh", "tau_a"))

    def update(v, exc, inh, a):
        c = exc - inh
        return (c + (v - c) * a_mem, exc * a_exc, inh * a_inh, a * a_a)

    def margin(v, exc, inh, a):
        return v - (1.0 + p["beta"] * a)

    def reset(state, s):
        v, exc, inh, a = state
        return (v * (1 - s), exc, inh, a + s)
    return update, margin, reset


def _qif(dt, p):
    def update(v, exc, inh):
        return (v + dt * (exc - inh + v * (v - p["v_c"]) / p["v_c"]) / p["tau_mem"],
                exc - dt * exc / p["tau_exc"], inh - dt * inh / p["tau_inh"])

    def margin(v, exc, inh):
        return v - 1.0

    def reset(state, s):
        v, exc, inh = state
        return (v * (1 - s), exc, inh)
    return update, margin, reset


#: per model: (its maker, the parameters of its file in SI units, the index of I_exc and I_inh)
MODELS = {
    "lif": (_lif, {"tau_mem": 0.02, "tau_exc": 0.01, "tau_inh": 0.02}, 1, 2, 3),
    "alif": (_alif, {"tau_mem": 0.02, "tau_exc": 0.01, "tau_inh": 0.02, "tau_a": 0.2,
                     "beta": 0.2}, 1, 2, 4),
    "qif": (_qif, {"tau_mem": 0.02, "tau_exc": 0.01, "tau_inh": 0.02, "v_c": 0.5}, 1, 2, 3),
}


class TorchModelNetwork(torch.nn.Module):
    """The E/I network of ``config`` with hidden neurons of a model of :data:`MODELS`."""

    def __init__(self, model, config, weights, dtype=torch.float64, reset_gradient=False,
                 masks=None):
        super().__init__()
        self.masks = {name: torch.as_tensor(mask, dtype=dtype)
                      for name, mask in (masks or {}).items()}
        self.reset_gradient = reset_gradient
        make, parameters, self.exc, self.inh, self.n_state = MODELS[model]
        self.update, self.margin, self.reset = make(float(config.dt), parameters)
        self.config = config
        self.weights = torch.nn.ParameterDict({
            name: torch.nn.Parameter(torch.as_tensor(weights["w_" + name], dtype=dtype).clone())
            for name in config.projections})
        self.a_out_mem = math.exp(-float(config.dt) / float(config.tau_out_mem))
        self.a_out_syn = math.exp(-float(config.dt) / float(config.tau_out_syn))
        self.dtype = dtype

    def forward(self, inputs):
        config = self.config
        w = {name: value * self.masks[name] if name in self.masks else value
             for name, value in self.weights.items()}
        n_exc, n_inh = config.n_exc, config.n_inh
        batch, n_steps, _ = inputs.shape
        state = [torch.zeros(batch, n_exc + n_inh, dtype=self.dtype)
                 for _ in range(self.n_state)]
        v_o = torch.zeros(batch, config.n_outputs, dtype=self.dtype)
        syn_o = torch.zeros_like(v_o)
        readout, spikes = [], []
        for step in range(n_steps):
            after = list(self.update(*state))
            s = SuperSpike.apply(self.margin(*after), config.surrogate_beta)
            s_e, s_i = s[:, :n_exc], s[:, n_exc:]
            x = inputs[:, step]
            if n_inh:
                to_exc = torch.cat([x @ w["xe"] + s_e @ w["ee"], x @ w["xi"] + s_e @ w["ei"]], 1)
                to_inh = torch.cat([s_i @ w["ie"], s_i @ w["ii"]], 1)
                after[self.inh] = after[self.inh] + to_inh
            else:
                to_exc = x @ w["xe"] + s_e @ w["ee"]
            after[self.exc] = after[self.exc] + to_exc
            # no gradient through s into the reset, unless the model asks for it
            state = list(self.reset(after, s if self.reset_gradient else s.detach()))
            v_o = syn_o + (v_o - syn_o) * self.a_out_mem
            syn_o = self.a_out_syn * syn_o + s_e @ w["eo"]
            readout.append(v_o)
            spikes.append(s)
        return torch.stack(readout, dim=1), torch.stack(spikes, dim=1)

    def loss(self, inputs, labels):
        readout, spikes = self.forward(inputs)
        peaks = readout.max(dim=1).values
        return torch.nn.functional.cross_entropy(peaks, torch.as_tensor(labels)), readout, spikes
