"""Optimizers on dicts of NumPy arrays: Adam and SMORMS3, with state that can be checkpointed.

Each optimizer updates the arrays in place. The Dale's-law projection (magnitudes clipped at zero)
is the training loop's job, after every step (:func:`ei_brian.training.project_dale`).
"""
import numpy as np

__all__ = ["Adam", "SMORMS3", "make_optimizer"]


class _Optimizer:
    """Shared state handling: one set of named moment arrays per parameter."""

    moments = ()

    def __init__(self, learning_rate):
        self.learning_rate = float(learning_rate)
        self.step_count = 0
        self.state = {}

    def _moments(self, name, shape):
        if name not in self.state:
            self.state[name] = {m: self._initial(m, shape) for m in self.moments}
        return self.state[name]

    def _initial(self, moment, shape):
        return np.zeros(shape)

    def updates(self, grads, entries=None):
        """The update each parameter would receive (without applying it); advances the state.

        ``entries`` (optional): for some parameters, the flat indices of the only entries that
        can change (the synapses of a sparse projection); the others keep their state and get an
        update of 0, and the cost is that of the listed entries.
        """
        out = {}
        for name, index, update in self.updates_on(grads, entries):
            if index is not None:
                dense = np.zeros(np.size(grads[name]))
                dense[index] = update
                update = dense.reshape(np.shape(grads[name]))
            out[name] = update
        return out

    def updates_on(self, grads, entries=None):
        """As :meth:`updates`, as a list of ``(name, index, update)``: ``index`` None (``update``
        has the parameter's shape) or the flat indices of ``entries[name]`` (``update`` holds
        their updates alone)."""
        self.step_count += 1
        out = []
        for name, grad in grads.items():
            grad = np.asarray(grad, dtype=np.float64)
            index = None if entries is None else entries.get(name)
            if index is None:
                out.append((name, None, self._step(self._moments(name, grad.shape), grad)))
                continue
            moments = {key: array.reshape(-1) for key, array in
                       self._moments(name, grad.shape).items()}
            chosen = {key: array[index] for key, array in moments.items()}
            out.append((name, index, self._step(chosen, grad.reshape(-1)[index])))
            for key, array in chosen.items():
                moments[key][index] = array
        return out

    def step(self, params, grads):
        """Apply one update to ``params`` (dict of arrays, changed in place)."""
        for name, update in self.updates(grads).items():
            params[name] += update

    def state_dict(self):
        """Flat dict of arrays for ``np.savez``: ``<param>/<moment>`` plus ``step_count``."""
        flat = {"step_count": np.array(self.step_count)}
        for name, moments in self.state.items():
            for moment, array in moments.items():
                flat[f"{name}/{moment}"] = array
        return flat

    def load_state_dict(self, flat):
        self.step_count = int(flat["step_count"])
        self.state = {}
        for key, array in flat.items():
            if key == "step_count":
                continue
            name, moment = key.split("/")
            self.state.setdefault(name, {})[moment] = np.array(array, dtype=np.float64)


class Adam(_Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction."""

    moments = ("m", "v")

    def __init__(self, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8):
        super().__init__(learning_rate)
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon

    def _step(self, state, grad):
        # -lr * m_hat / (sqrt(v_hat) + eps) with m_hat = m / (1 - beta1^t), v_hat likewise,
        # computed in place (the same operations in the same order: the same numbers)
        scratch = np.multiply(grad, 1 - self.beta1)
        state["m"] *= self.beta1
        state["m"] += scratch
        np.multiply(grad, 1 - self.beta2, out=scratch)
        scratch *= grad
        state["v"] *= self.beta2
        state["v"] += scratch
        update = np.divide(state["m"], 1 - self.beta1 ** self.step_count)
        update *= -self.learning_rate
        np.divide(state["v"], 1 - self.beta2 ** self.step_count, out=scratch)
        np.sqrt(scratch, out=scratch)
        scratch += self.epsilon
        update /= scratch
        return update


class SMORMS3(_Optimizer):
    """SMORMS3 (Simon Funk 2015), as used by the stork library; default step size 5e-3."""

    moments = ("memory", "g", "g2")

    def __init__(self, learning_rate=5e-3, epsilon=1e-16):
        super().__init__(learning_rate)
        self.epsilon = epsilon

    def _initial(self, moment, shape):
        return np.ones(shape) if moment == "memory" else np.zeros(shape)

    def _step(self, state, grad):
        r = 1.0 / (state["memory"] + 1.0)
        state["g"] = (1 - r) * state["g"] + r * grad
        state["g2"] = (1 - r) * state["g2"] + r * grad * grad
        x = state["g"] ** 2 / (state["g2"] + self.epsilon)
        state["memory"] = 1.0 + state["memory"] * (1.0 - x)
        return -grad * np.minimum(self.learning_rate, x) / (np.sqrt(state["g2"]) + self.epsilon)


def make_optimizer(name, learning_rate):
    """``"adam"`` or ``"smorms3"``."""
    if name == "adam":
        return Adam(learning_rate)
    if name == "smorms3":
        return SMORMS3(learning_rate)
    raise ValueError(f"unknown optimizer {name!r}; use adam or smorms3")
