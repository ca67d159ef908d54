"""Gradients derived from a neuron model's own equations.

For a :class:`ei_brian.neuron_model.NeuronModel` this module takes the code Brian2 itself
generates for the model (the abstract code of its state updater, the threshold and the reset),
turns it into SymPy expressions of one time step, differentiates them symbolically and generates a
compiled module (Cython, built once per model into the cache folder like ``_kernels.pyx``) that
replays the discrete dynamics and runs their backward pass. A new model costs a code generation,
not a hand derivation.

One step of a hidden neuron with state ``X`` (all state variables; ``X = 0`` when a sample
begins), in Brian2's order within a step::

    X'  = F(X)                       the state updater (e.g. exponential Euler), from Brian2
    s   = [lhs(X') > rhs(X')]        the threshold (recorded by the compiled run)
    X'' = X' + e_exc (W^T s_E + W_x^T x) + e_inh W^T s_I      synapses add to their targets
    X   = R(X'') if s else X''       the reset statements

Backward, with ``L`` the adjoint of ``X`` after a step and ``g`` = dloss/ds from the synapses, the
readout and the rate penalty::

    L'' = J_R(X'')^T L if s else L                     (no gradient through s into the reset)
    L'  = L'' + g * sigma'(m(X')) * grad m(X')         m = lhs - rhs, SuperSpike surrogate
    L_before = J_F(X_before)^T L'
    dloss/dW_jk = sum over steps of s_j * L''_k[target]

For the default LIF model this is the same computation as :mod:`ei_brian.gradients` (which stays
its engine: it is faster, see ``benchmarks/bench_models.py``); the tests check the two against
each other and every model against PyTorch autograd.
"""
import hashlib
import re
import sysconfig
import warnings

import numpy as np
import sympy

from ei_brian.gradient_common import Workspace, _array, _sparse_split, decay_factors, last_steps
from ei_brian.gradients import (
    ForwardState,
    GradientEngine,
    _stacked,
    input_matrix,
    loss_and_output_gradient,
    rate_penalty,
    weight_gradients,
)
from ei_brian.kernels import load_generated
from ei_brian.neuron_model import ModelError, check_network_options, load_model, model_info

__all__ = ["Derivation", "derivation", "DerivedEngine", "forward", "backward",
           "loss_and_gradients"]

_MATH = ("exp", "log", "log10", "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh", "fabs",
         "floor", "ceil", "copysign", "asin", "acos", "atan", "pow")


class Derivation:
    """The one-step map, threshold margin and reset of a model as SymPy expressions of its state
    (``x0, x1, ...`` in the order of ``state``), their derivatives, and the compiled module.

    Parameters
    ----------
    model : NeuronModel or str
    dt : float
        The time step in seconds.
    """

    def __init__(self, model, dt):
        self.model = load_model(model)
        self.dt = float(dt)
        info = model_info(self.model, where=f"neuron model {self.model.name}")
        self.state = info["state"]
        self.exc_index = self.state.index(self.model.excitatory_target)
        self.inh_index = self.state.index(self.model.inhibitory_target)
        self.x = sympy.symbols(f"x0:{len(self.state)}", real=True)
        values = {sympy.Symbol(name): item["value"] for name, item in info["parameters"].items()}
        values[sympy.Symbol("dt")] = self.dt
        own = {sympy.Symbol(name): symbol for name, symbol in zip(self.state, self.x)}
        self._values, self._own = values, own
        subexpressions = self._subexpressions(info)
        where = f"neuron model {self.model.name}"
        # the state updater, as Brian2 writes it for this model
        code = _abstract_code(self.model, info)
        current = dict(own)
        for line in code.strip().splitlines():
            name, expression = (part.strip() for part in line.split("=", 1))
            current[sympy.Symbol(name)] = self._sympy(expression, current, subexpressions, where)
        self.update = [current[sympy.Symbol(name)] for name in self.state]
        lhs, operator, rhs = info["threshold"]
        left = self._sympy(lhs, own, subexpressions, where)
        right = self._sympy(rhs, own, subexpressions, where)
        self.operator = operator
        self.lhs, self.rhs = left, right
        self.margin = left - right if operator in (">", ">=") else right - left
        current = dict(own)
        for statement in re.split(r"[;\n]", self.model.reset):
            if not statement.strip():
                continue
            name, op, expression = re.match(r"^\s*([A-Za-z_]\w*)\s*(=|\+=|-=|\*=|/=)\s*(\S.*?)\s*$",
                                            statement).groups()
            value = self._sympy(expression, current, subexpressions, where)
            old = current[sympy.Symbol(name)]
            current[sympy.Symbol(name)] = {"=": value, "+=": old + value, "-=": old - value,
                                           "*=": old * value, "/=": old / value}[op]
        self.reset = [current[sympy.Symbol(name)] for name in self.state]
        for label, expressions in (("the state update", self.update),
                                   ("the threshold", [self.margin]), ("the reset", self.reset)):
            for expression in expressions:
                extra = expression.free_symbols - set(self.x)
                if extra:
                    raise ModelError(f"{where}: {label} depends on {sorted(map(str, extra))}, "
                                     "which are neither state variables nor parameters")
        n = len(self.state)
        self.jacobian = [[sympy.diff(self.update[i], self.x[k]) for k in range(n)]
                         for i in range(n)]
        self.margin_gradient = [sympy.diff(self.margin, self.x[k]) for k in range(n)]
        self.reset_jacobian = [[sympy.diff(self.reset[i], self.x[k]) for k in range(n)]
                               for i in range(n)]
        for expression in (sum(map(list, self.jacobian), []) + self.margin_gradient
                           + sum(map(list, self.reset_jacobian), [])):
            if expression.has(sympy.Derivative, sympy.Subs, sympy.DiracDelta, sympy.Heaviside):
                raise ModelError(f"{where}: cannot differentiate {expression} symbolically "
                                 "(a step, sign or rounding function has no useful gradient)")
        try:
            self.source = generate_source(self)
        except Exception as error:  # SymPy's printers raise several types
            raise ModelError(f"{where}: cannot generate code for the model: "
                             f"{' '.join(str(error).split())}") from None
        self.digest = hashlib.sha256(
            (self.source + sysconfig.get_config_var("EXT_SUFFIX")).encode()).hexdigest()[:16]
        self._module = None

    def _subexpressions(self, info):
        equations = info["equations"]
        return {name: str(equations[name].expr) for name in info["subexpressions"]}

    def _sympy(self, text, current, subexpressions, where):
        from brian2.parsing.sympytools import str_to_sympy
        try:
            expression = str_to_sympy(text)
        except Exception as error:  # brian2's parser raises several types
            raise ModelError(f"{where}: cannot read {text!r}: {error}") from None
        for _ in range(10):  # subexpressions may use each other
            names = {symbol for symbol in expression.free_symbols
                     if str(symbol) in subexpressions}
            if not names:
                break
            expression = expression.xreplace({symbol: str_to_sympy(subexpressions[str(symbol)])
                                              for symbol in names})
        by_name = {str(key): value for key, value in current.items()}
        by_name.update({str(key): value for key, value in self._values.items()})
        return expression.xreplace({symbol: sympy.sympify(by_name[str(symbol)])
                                    for symbol in expression.free_symbols
                                    if str(symbol) in by_name})

    @property
    def module(self):
        """The compiled module (built on first use, cached by the source's digest)."""
        if self._module is None:
            self._module = load_generated("derived_" + self.digest, self.source)
        return self._module


_derivations = {}


def derivation(model, dt):
    """The :class:`Derivation` of ``model`` at ``dt`` (kept per process)."""
    model = load_model(model)
    key = (model, float(dt))
    if key not in _derivations:
        _derivations[key] = Derivation(model, dt)
    return _derivations[key]


def _abstract_code(model, info):
    """Brian2's abstract code of the state updater (one ``name = expression`` a line)."""
    import brian2

    from ei_brian.brian2_warnings import quiet_brian2_warnings
    namespace = {name: item["quantity"] for name, item in info["parameters"].items()}
    with warnings.catch_warnings():
        quiet_brian2_warnings()
        try:
            group = brian2.NeuronGroup(1, info["equations"], method=model.method,
                                       namespace=namespace, name="ei_brian_derivation*")
            group._network = "ei_brian.derived"  # not meant for a network: no warning when freed
            group.state_updater.update_abstract_code(run_namespace={})
        except Exception as error:  # Brian2 raises several types; one line names it
            message = " ".join(str(error).split())
            raise ModelError(f"neuron model {model.name}: Brian2's state updater "
                             f"{model.method!r} cannot integrate the equations: {message}") from None
    return group.state_updater.abstract_code


# -- code generation ---------------------------------------------------------------------------
def _printer():
    from sympy.printing.pycode import PythonCodePrinter

    class Printer(PythonCodePrinter):
        def _print_Rational(self, expr):  # 1/2 as C doubles, never integer division
            return f"({float(expr.p)!r}/{float(expr.q)!r})"

        def _print_Integer(self, expr):
            return f"{float(expr.p)!r}"

    return Printer({"fully_qualified_modules": False})


def _block(assignments, indent="    "):
    """Cython lines computing ``assignments`` [(target, expression)] with shared subexpressions;
    returns (declarations of temporaries, lines)."""
    printer = _printer()
    expressions = [expression for _, expression in assignments]
    temporaries, reduced = sympy.cse(expressions, symbols=sympy.numbered_symbols("_t"),
                                     optimizations="basic")
    names, lines = [], []
    for symbol, expression in temporaries:
        names.append(str(symbol))
        lines.append(f"{indent}{symbol} = {printer.doprint(expression)}")
    for (target, _), expression in zip(assignments, reduced):
        lines.append(f"{indent}{target} = {printer.doprint(expression)}")
    return names, lines


def _function(name, arguments, assignments, n, returns=None, doc=""):
    header = [f"cdef inline {'double' if returns else 'void'} {name}({arguments}) "
              "noexcept nogil:"]
    if doc:
        header.append(f'    """{doc}"""')
    loads = [f"    cdef double x{k} = x[{k}]" for k in range(n)]
    if "lam" in arguments:
        loads += [f"    cdef double L{k} = lam[{k}]" for k in range(n)]
    temporaries, lines = _block(assignments)
    declarations = [f"    cdef double {t}" for t in temporaries]
    if returns:
        declarations.append("    cdef double _result")
        lines.append("    return _result")
    return "\n".join(header + loads + declarations + lines)


def generate_source(d):
    """The Cython source of the compiled module of derivation ``d``."""
    n = len(d.state)
    L = sympy.symbols(f"L0:{n}", real=True)
    update = _function("_update", "const double* x, double* out",
                       [(f"out[{i}]", d.update[i]) for i in range(n)], n,
                       doc="X' = F(X): the state updater")
    crossed = _function("_crossed", "const double* x",
                        [("_result", sympy.Piecewise((1.0, _relation(d)), (0.0, True)))], n,
                        returns=True, doc="the threshold, as written")
    margin = _function("_margin", "const double* x", [("_result", d.margin)], n, returns=True)
    margin_gradient = _function("_margin_gradient", "const double* x, double* out",
                                [(f"out[{k}]", d.margin_gradient[k]) for k in range(n)], n)
    reset = _function("_reset", "const double* x, double* out",
                      [(f"out[{i}]", d.reset[i]) for i in range(n)], n)
    update_vjp = _function(
        "_update_vjp", "const double* x, const double* lam, double* out",
        [(f"out[{k}]", sum(d.jacobian[i][k] * L[i] for i in range(n))) for k in range(n)], n,
        doc="J_F(X)^T lam")
    reset_vjp = _function(
        "_reset_vjp", "const double* x, const double* lam, double* out",
        [(f"out[{k}]", sum(d.reset_jacobian[i][k] * L[i] for i in range(n))) for k in range(n)],
        n, doc="J_R(X)^T lam")
    header = ('# cython: boundscheck=False, wraparound=False, cdivision=True, '
              'initializedcheck=False, language_level=3, cpow=True\n'
              f'"""Generated by ei_brian.derived for the neuron model {d.model.name!r} at dt = '
              f'{d.dt!r} s; do not edit."""\n'
              f"from libc.math cimport {', '.join(_MATH)}\n\n"
              f"cdef enum:\n    N = {n}\n    EXC = {d.exc_index}\n    INH = {d.inh_index}\n"
              f"    RESET_GRADIENT = {int(d.model.reset_gradient)}\n\n")
    model_text = d.model.to_toml().replace('"""', "'''")
    return (header + f"MODEL = {model_text!r}\nSTATE = {tuple(d.state)!r}\n\n"
            + "\n\n\n".join([update, crossed, margin, margin_gradient, reset, update_vjp,
                             reset_vjp]) + "\n\n\n" + _KERNELS)


def _relation(d):
    operators = {">": sympy.StrictGreaterThan, ">=": sympy.GreaterThan,
                 "<": sympy.StrictLessThan, "<=": sympy.LessThan}
    return operators[d.operator](d.lhs, d.rhs, evaluate=False)


_KERNELS = r'''
def replay(double[:, :, ::1] xp, const unsigned char[:, ::1] spikes,
           const double[:, ::1] drive_exc, const double[:, ::1] drive_inh,
           double[:, ::1] state, long first_step=0):
    """Replay steps first_step.. with the recorded spikes: xp[n] = F(X), the state before the
    threshold; state holds X (cells x N) on entry and the state after the last step on exit."""
    cdef Py_ssize_t n_steps = xp.shape[0], n_cells = xp.shape[1], step, cell, k
    cdef bint has_inh = drive_inh is not None
    cdef double after[N]
    cdef double* x
    with nogil:
        for step in range(first_step, n_steps):
            for cell in range(n_cells):
                x = &state[cell, 0]
                _update(x, &xp[step, cell, 0])
                for k in range(N):
                    x[k] = xp[step, cell, k]
                x[EXC] = x[EXC] + drive_exc[step, cell]
                if has_inh:
                    x[INH] = x[INH] + drive_inh[step, cell]
                if spikes[step, cell]:
                    _reset(x, after)
                    for k in range(N):
                        x[k] = after[k]


def threshold_step(double[:, ::1] state, double[:, ::1] xp, unsigned char[::1] spikes):
    """Free run, first half of a step: xp = F(state), spikes = the threshold of xp."""
    cdef Py_ssize_t cell
    with nogil:
        for cell in range(state.shape[0]):
            _update(&state[cell, 0], &xp[cell, 0])
            spikes[cell] = _crossed(&xp[cell, 0]) > 0.5


def finish_step(double[:, ::1] state, const double[:, ::1] xp, const double[::1] drive_exc,
                const double[::1] drive_inh, const unsigned char[::1] spikes):
    """Free run, second half: synaptic input onto the targets, then the reset of spiking cells."""
    cdef Py_ssize_t cell, k
    cdef bint has_inh = drive_inh is not None
    cdef double after[N]
    cdef double* x
    with nogil:
        for cell in range(state.shape[0]):
            x = &state[cell, 0]
            for k in range(N):
                x[k] = xp[cell, k]
            x[EXC] = x[EXC] + drive_exc[cell]
            if has_inh:
                x[INH] = x[INH] + drive_inh[cell]
            if spikes[cell]:
                _reset(x, after)
                for k in range(N):
                    x[k] = after[k]


def backward_step(double[:, ::1] lam, const double[::1] g_s, const double[::1] extra,
                  const double[:, ::1] xp_now, const double[:, ::1] xp_before,
                  const double[::1] drive_exc_before, const double[::1] drive_inh_before,
                  const unsigned char[::1] spikes_before, double beta, bint has_before,
                  double[::1] reset_term):
    """One step back: lam holds L'' of step n (cells x N) on entry and L'' of step n - 1 on exit
    (0 when has_before is false: the sample began at step n). With a gradient through the reset
    (RESET_GRADIENT), reset_term holds dloss/ds of step n from the reset on entry, and that of
    step n - 1 on exit: (R(X'') - X'') . L."""
    cdef Py_ssize_t cell, k
    cdef bint has_extra = extra is not None, has_inh = drive_inh_before is not None
    cdef double gradient[N]
    cdef double before[N]
    cdef double after[N]
    cdef double out[N]
    cdef double g, m, surrogate
    with nogil:
        for cell in range(lam.shape[0]):
            g = g_s[cell]
            if has_extra:
                g = g + extra[cell]
            if RESET_GRADIENT:
                g = g + reset_term[cell]
            if g != 0.0:
                m = _margin(&xp_now[cell, 0])
                surrogate = 1.0 / ((beta * fabs(m) + 1.0) * (beta * fabs(m) + 1.0))
                _margin_gradient(&xp_now[cell, 0], gradient)
                for k in range(N):
                    lam[cell, k] = lam[cell, k] + g * surrogate * gradient[k]
            if not has_before:
                for k in range(N):
                    lam[cell, k] = 0.0
                continue
            # the state after step n - 1, as the forward pass made it
            for k in range(N):
                before[k] = xp_before[cell, k]
            before[EXC] = before[EXC] + drive_exc_before[cell]
            if has_inh:
                before[INH] = before[INH] + drive_inh_before[cell]
            _reset(before, after)
            if spikes_before[cell]:
                _update_vjp(after, &lam[cell, 0], out)
            else:
                _update_vjp(before, &lam[cell, 0], out)
            if RESET_GRADIENT:  # d X / d s = R(X'') - X'', whether or not the neuron spiked
                m = 0.0
                for k in range(N):
                    m = m + (after[k] - before[k]) * out[k]
                reset_term[cell] = m
            if spikes_before[cell]:
                _reset_vjp(before, out, &lam[cell, 0])
            else:
                for k in range(N):
                    lam[cell, k] = out[k]
'''


# -- the engine --------------------------------------------------------------------------------
def forward(config, weights, spike_input, hidden_spikes=None, workspace=None):
    """The discrete dynamics of ``config.neuron_model`` (see the module docstring); with
    ``hidden_spikes`` (recorded) a replay, without them a free run that thresholds itself.

    Returns a :class:`ei_brian.gradients.ForwardState` with, besides ``u_tm`` (the margin is not
    stored; ``u_tm`` holds the first state variable before the threshold), ``xp`` (n_steps,
    n_samples * n_hidden, n_state): every state variable before the threshold, and the drives.
    """
    d = derivation(config.neuron_model, config.dt)
    module = d.module
    n_samples, n_steps = spike_input.n_samples, config.n_steps
    n_exc, n_hidden = config.n_exc, config.n_exc + config.n_inh
    n_cells, n_state = n_samples * n_hidden, len(d.state)
    x = input_matrix(spike_input, time_major=True)
    w_x, w_e, w_i = _stacked(config, weights)
    xp = _array(workspace, "xp", (n_steps, n_cells, n_state))
    state = np.zeros((n_cells, n_state))
    readout_tm = _array(workspace, "readout", (n_steps, n_samples, config.n_outputs))
    drive_exc = _array(workspace, "drive_exc", (n_steps, n_cells))
    drive_inh = _array(workspace, "drive_inh", (n_steps, n_cells)) if config.n_inh else None
    if hidden_spikes is not None:
        spikes_tm = np.ascontiguousarray(np.moveaxis(np.asarray(hidden_spikes, dtype=bool), 1, 0))
        s_exc, s_inh = _sparse_split(spikes_tm, n_exc)
        drive_exc.reshape(-1, n_hidden)[:] = x @ w_x
        drive_exc.reshape(-1, n_hidden)[:] += s_exc @ w_e
        if drive_inh is not None:
            drive_inh.reshape(-1, n_hidden)[:] = s_inh @ w_i
        module.replay(xp, spikes_tm.reshape(n_steps, n_cells).view(np.uint8), drive_exc,
                      drive_inh, state)
        drive_out = np.asarray(s_exc @ weights["w_eo"]).reshape(n_steps, n_samples, -1)
    else:
        spikes_tm = np.zeros((n_steps, n_samples, n_hidden), dtype=bool)
        from_input = np.asarray(x @ w_x).reshape(n_steps, n_samples, n_hidden)
        drive_out = np.zeros((n_steps, n_samples, config.n_outputs))
        for step in range(n_steps):
            flat = spikes_tm[step].reshape(-1).view(np.uint8)
            module.threshold_step(state, xp[step], flat)
            s = spikes_tm[step].astype(np.float64)
            exc = from_input[step] + s[:, :n_exc] @ w_e
            drive_exc[step] = exc.reshape(-1)
            if drive_inh is not None:
                drive_inh[step] = (s[:, n_exc:] @ w_i).reshape(-1)
            drive_out[step] = s[:, :n_exc] @ weights["w_eo"]
            module.finish_step(state, xp[step], drive_exc[step],
                               None if drive_inh is None else drive_inh[step], flat)
        s_exc, s_inh = _sparse_split(spikes_tm, n_exc)
    decay = decay_factors(config)
    vo = np.zeros((n_samples, config.n_outputs))
    syn_o = np.zeros_like(vo)
    for step in range(n_steps):
        vo = syn_o + (vo - syn_o) * decay["out_mem"]
        syn_o = decay["out_syn"] * syn_o + drive_out[step]
        readout_tm[step] = vo
    u_tm = xp[:, :, 0].reshape(n_steps, n_samples, n_hidden)
    return ForwardState(u_tm=u_tm, spikes_tm=spikes_tm, readout_tm=readout_tm, x=x,
                        s_exc=s_exc, s_inh=s_inh, xp=xp, drive_exc=drive_exc,
                        drive_inh=drive_inh, derivation=d)


def backward(config, weights, state, output_gradient, argmax_step, spike_gradient=None,
             workspace=None):
    """Backpropagation through time of :func:`forward`'s dynamics (the module docstring);
    same arguments and result as :func:`ei_brian.gradients.backward`."""
    d = state.derivation
    module = d.module
    n_steps, n_samples, n_hidden = state.spikes_tm.shape
    n_exc, n_out = config.n_exc, config.n_outputs
    n_cells = n_samples * n_hidden
    decay = decay_factors(config)
    a_out_mem, a_out_syn = decay["out_mem"], decay["out_syn"]
    _, w_e, w_i = _stacked(config, weights, with_input=False)
    w_from_exc_t = np.vstack([w_e.T, weights["w_eo"].T])
    w_i_t = np.ascontiguousarray(w_i.T)
    spikes = state.spikes_tm.reshape(n_steps, n_cells).view(np.uint8)
    injection = np.zeros((n_steps, n_samples, n_out))
    samples, units = np.indices((n_samples, n_out))
    injection[argmax_step, samples, units] = output_gradient
    grad_from_exc = _array(workspace, "grad_from_exc", (n_steps, n_samples, n_hidden + n_out))
    grad_inh = _array(workspace, "grad_inh", (n_steps, n_samples, n_hidden))
    lam = np.zeros((n_cells, len(d.state)))
    lam_exc = lam[:, d.exc_index].reshape(n_samples, n_hidden)
    lam_inh = lam[:, d.inh_index].reshape(n_samples, n_hidden)
    g_syn_o = np.zeros((n_samples, n_out))
    g_uo = np.zeros((n_samples, n_out))
    g_s = np.empty((n_samples, n_hidden))
    extra = None if spike_gradient is None else np.ascontiguousarray(
        np.asarray(spike_gradient, dtype=float).reshape(-1))
    reset_term = np.zeros(n_cells)
    top = int(last_steps(argmax_step, n_steps, spike_gradient).max(initial=-1))
    grad_from_exc[top + 1:] = 0.0
    grad_inh[top + 1:] = 0.0
    drive_inh = state.drive_inh
    for step in range(top, -1, -1):
        g_syn_o *= a_out_syn
        g_syn_o += (1.0 - a_out_mem) * g_uo
        g_uo *= a_out_mem
        g_uo += injection[step]
        grad_from_exc[step, :, :n_hidden] = lam_exc
        grad_from_exc[step, :, n_hidden:] = g_syn_o
        grad_inh[step] = lam_inh
        np.matmul(grad_from_exc[step], w_from_exc_t, out=g_s[:, :n_exc])
        np.matmul(grad_inh[step], w_i_t, out=g_s[:, n_exc:])
        before = max(step - 1, 0)
        # the rate penalty's spike gradient is per (sample, neuron): pass it flat per cell
        module.backward_step(lam, g_s.reshape(-1), extra, state.xp[step], state.xp[before],
                             state.drive_exc[before],
                             None if drive_inh is None else drive_inh[before],
                             spikes[before], config.surrogate_beta, step > 0, reset_term)
    return weight_gradients(config, state.x, state.s_exc, state.s_inh, grad_from_exc, grad_inh)


def _part_loss_and_gradients(config, weights, spike_input, labels, hidden_spikes, readout,
                             regularizer_strength, regularizer_rate, share, workspace,
                             time_constants=None, membrane_noise=None, operators=None):
    state = forward(config, weights, spike_input, hidden_spikes=hidden_spikes,
                    workspace=workspace)
    recorded = state.readout if readout is None else readout
    cross_entropy, output_gradient, argmax_step, predictions = loss_and_output_gradient(
        recorded, labels)
    penalty, spike_gradient = 0.0, None
    if regularizer_strength:
        penalty, spike_gradient = rate_penalty(config, state.spikes, regularizer_strength,
                                               regularizer_rate)
        spike_gradient *= share
    grads = backward(config, weights, state, output_gradient * share, argmax_step,
                     spike_gradient, workspace=workspace)
    return cross_entropy * share, penalty * share, grads, predictions, state.spikes


class DerivedEngine(GradientEngine):
    """:class:`ei_brian.gradients.GradientEngine` for any neuron model: the same minibatch parts
    and threads, with the replay and backward pass derived from the model's equations.

    A sparse network (``structure``) is computed with its dense weight arrays (0 where no synapse
    is) and its gradients are kept only where synapses exist: exact, but at the dense cost, not
    the synapse lists' of the LIF engine (:mod:`ei_brian.sparse_gradients`).
    """

    part_function = staticmethod(_part_loss_and_gradients)

    def __init__(self, config, n_threads=None, n_parts=None, structure=None, precision="float32"):
        check_network_options(config)
        super().__init__(config, n_threads=n_threads, n_parts=n_parts, structure=None)
        self.module = derivation(config.neuron_model, config.dt).module  # built now, not in a thread
        if structure is not None and config.sparse:
            masks = {"w_" + name: mask for name, mask in structure.masks.items()
                     if not mask.all()}

            def masked(*job):
                result = _part_loss_and_gradients(*job)
                for key, mask in masks.items():
                    result[2][key] *= mask
                return result
            self.part_function = masked


def loss_and_gradients(config, weights, spike_input, labels, hidden_spikes=None, readout=None,
                       regularizer_strength=0.0, regularizer_rate=None, structure=None):
    """Loss, gradients and predictions of one minibatch with the derived engine (one thread);
    same result layout as :func:`ei_brian.gradients.loss_and_gradients`. With a sparse
    network's ``structure`` the gradients are kept only where synapses exist."""
    cross_entropy, penalty, grads, predictions, spikes = _part_loss_and_gradients(
        config, weights, spike_input, np.asarray(labels), hidden_spikes, readout,
        regularizer_strength, regularizer_rate, 1.0, None)
    if structure is not None and config.sparse:
        for name, mask in structure.masks.items():
            grads["w_" + name] *= mask
    return cross_entropy + penalty, grads, {"predictions": predictions,
                                            "cross_entropy": cross_entropy, "penalty": penalty,
                                            "spikes": spikes}


__all__ += ["Workspace"]
