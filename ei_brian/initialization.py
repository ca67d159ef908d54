"""Initial weights that set the network's initial firing rate: three schemes, chosen by name.

The paper finds that a low initial firing rate is a key factor for trainability
(``docs/model.md``). The initial rate is set here in three ways (``TrainConfig.init``):

``scale``
    Magnitudes drawn from a named distribution whose root mean square is ``g / sqrt(fan_in)`` per
    projection, with a gain ``g`` for excitatory (``xe, xi, ee, ei``), inhibitory (``ie, ii``) and
    readout (``eo``) projections. Every distribution has the same second moment, so ``g`` means the
    same thing for each (:func:`draw_magnitudes`):

    ===========  =============================================================  ===================
    name         magnitude ``w`` with ``E[w^2] = r^2``, ``r = g/sqrt(fan_in)``  mean ``E[w] / r``
    ===========  =============================================================  ===================
    half-normal  ``|N(0, r^2)|``                                                sqrt(2/pi) = 0.798
    exponential  exponential with mean ``r / sqrt(2)``                          1/sqrt(2) = 0.707
    log-normal   ``exp(N(mu, s^2))``, ``s = 1``, ``mu = ln r - s^2``            exp(-s^2/2) = 0.607
    ===========  =============================================================  ===================

    ``half-normal`` is :func:`ei_brian.network.initial_weights` itself (the same draws). For the
    unbounded baseline the draws are signed: a random sign times the magnitude.

``fluctuation``
    The fluctuation-driven initialization of Rossbroich, Gygax & Zenke (2022), adapted to Dale's
    law (:func:`fluctuation_weights`): the weight scales are derived so that the free membrane
    potential (no threshold) of every hidden neuron fluctuates with a target standard deviation
    ``sigma_u`` (in units of the threshold), while the mean excitatory and inhibitory drive cancel.

``target-rate``
    The ``scale`` weights, with the gain of all excitatory projections and then that of the
    inhibitory ones searched (bisection on a log scale, then joint Newton steps on both, since
    each moves both rates) until the mean initial rate of the E and of the I population on a
    probe batch is within 10 % of a target (:func:`calibrate_rates`); an unreachable target gives
    an :class:`InitializationWarning` that says why.

:func:`initialize` picks the scheme from a :class:`ei_brian.config.TrainConfig`.
"""
import math
import warnings

import numpy as np
from brian2 import Hz

from ei_brian.network import initial_weights

__all__ = ["SCHEMES", "DISTRIBUTIONS", "LOG_NORMAL_SIGMA", "InitializationWarning",
           "mean_over_rms", "draw_magnitudes", "scale_weights", "psp_kernel", "psp_integrals",
           "input_rate", "fluctuation_weights", "scale_projections", "calibrate_rates",
           "initialize"]

#: initialization schemes, by name
SCHEMES = ("scale", "fluctuation", "target-rate")
#: distributions of the initial magnitudes, by name
DISTRIBUTIONS = ("half-normal", "exponential", "log-normal")
#: shape (std of the logarithm) of the log-normal distribution
LOG_NORMAL_SIGMA = 1.0
# projections that add to the inhibitory synaptic current (the others but the readout "eo" add
# to the excitatory: "xe", "xi", "ee", "ei")
INHIBITORY = ("ie", "ii")


class InitializationWarning(UserWarning):
    """An initialization could not do what it was asked; the message says why."""


def _check_distribution(distribution):
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"weight distribution {distribution!r} is unknown; use one of "
                         f"{', '.join(DISTRIBUTIONS)}")


def mean_over_rms(distribution):
    """``E[w] / sqrt(E[w^2])`` of a magnitude distribution (see the module docstring)."""
    _check_distribution(distribution)
    return {"half-normal": math.sqrt(2 / math.pi), "exponential": 1 / math.sqrt(2),
            "log-normal": math.exp(-LOG_NORMAL_SIGMA ** 2 / 2)}[distribution]


def draw_magnitudes(rng, distribution, rms, shape):
    """Non-negative draws with root mean square ``rms`` (``E[w^2] = rms^2``).

    Parameters
    ----------
    rng : numpy.random.Generator
    distribution : {"half-normal", "exponential", "log-normal"}
    rms : float
    shape : tuple of int

    Returns
    -------
    ndarray of float64
    """
    _check_distribution(distribution)
    if rms < 0:
        raise ValueError(f"rms must be >= 0, got {rms!r}")
    if distribution == "half-normal":
        return np.abs(rng.normal(0.0, rms, size=shape))
    if distribution == "exponential":
        return rng.exponential(rms / math.sqrt(2), size=shape)
    if rms == 0:
        return np.zeros(shape)
    mu = math.log(rms) - LOG_NORMAL_SIGMA ** 2
    return rng.lognormal(mu, LOG_NORMAL_SIGMA, size=shape)


def _fresh(seed):
    """A SeedSequence that has spawned nothing yet: ``seed`` itself, or a copy of it (spawning
    changes a SeedSequence, and the same seed must give the same weights every time)."""
    if isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key,
                                      pool_size=seed.pool_size)
    return np.random.SeedSequence(seed)


def _streams(config, seed):
    """One generator per projection: the streams :func:`ei_brian.network.initial_weights` uses."""
    children = _fresh(seed).spawn(len(config.projections))
    return {name: np.random.default_rng(child) for name, child in zip(config.projections, children)}


def _draw(config, seed, rms, distribution):
    """Weights with the given root mean square per projection; signed when unbounded."""
    if distribution == "half-normal":
        # exactly the draws of network.initial_weights: |N(0, rms^2)| (signed when unbounded)
        streams = _streams(config, seed)
        weights = {}
        for name in config.projections:
            draw = streams[name].normal(0.0, rms[name], size=config.projection_shape(name))
            weights["w_" + name] = draw if config.unbounded else np.abs(draw)
        return weights
    streams = _streams(config, seed)
    weights = {}
    for name in config.projections:
        shape = config.projection_shape(name)
        magnitude = draw_magnitudes(streams[name], distribution, rms[name], shape)
        if config.unbounded:
            magnitude *= np.where(streams[name].random(shape) < 0.5, -1.0, 1.0)
        weights["w_" + name] = magnitude
    return weights


def scale_weights(config, seed, scale_exc=0.4, scale_inh=0.8, scale_readout=10.0,
                  distribution="half-normal"):
    """The ``scale`` scheme: magnitudes with root mean square ``g / sqrt(fan_in)`` per projection.

    Parameters
    ----------
    config : NetworkConfig
    seed : int or numpy.random.SeedSequence
        Seed of the draws (one independent stream per projection, as in
        :func:`ei_brian.network.initial_weights`; a SeedSequence is used as if it had spawned
        nothing yet, so the same seed always gives the same weights).
    scale_exc, scale_inh, scale_readout : float
        Gain ``g`` of the excitatory (``xe, xi, ee, ei``), inhibitory (``ie, ii``) and readout
        (``eo``) projections. In the unbounded baseline all hidden projections use ``scale_exc``.
    distribution : {"half-normal", "exponential", "log-normal"}
        See the module docstring; ``half-normal`` gives exactly
        ``network.initial_weights(config, seed, scale_exc, scale_inh, scale_readout)``.

    Returns
    -------
    dict of str to ndarray
        ``w_<projection>`` arrays (n_pre, n_post).
    """
    _check_distribution(distribution)
    if min(scale_exc, scale_inh, scale_readout) < 0:
        raise ValueError("initial weight gains must be >= 0")
    if distribution == "half-normal":
        return initial_weights(config, _fresh(seed), scale_exc=scale_exc, scale_inh=scale_inh,
                               scale_readout=scale_readout)
    rms = {}
    for name in config.projections:
        gain = scale_readout if name == "eo" else scale_inh if name in INHIBITORY else scale_exc
        rms[name] = gain / math.sqrt(config.fan_in(name))
    return _draw(config, seed, rms, distribution)


# ---------------------------------------------------------------------------------------------
# fluctuation-driven initialization

def psp_kernel(dt, tau_mem, tau_syn, length=None):
    """Membrane response to one presynaptic spike of weight 1, step by step.

    The same discrete update as the simulation (exponential Euler, see :mod:`ei_brian.gradients`):
    a spike in step 0 adds 1 to the synaptic current; ``kernel[k]`` is the potential ``k`` steps
    later (``kernel[0] = 0``).

    Parameters
    ----------
    dt, tau_mem, tau_syn : float or Quantity
        Time step, membrane and synaptic time constant (seconds when plain numbers).
    length : int, optional
        Steps; default 30 times the longer time constant (the kernel is then below 1e-12).

    Returns
    -------
    ndarray of float64
    """
    dt, tau_mem, tau_syn = float(dt), float(tau_mem), float(tau_syn)
    length = length or int(math.ceil(30 * max(tau_mem, tau_syn) / dt)) + 1
    a_mem, a_syn = math.exp(-dt / tau_mem), math.exp(-dt / tau_syn)
    kernel = np.zeros(length)
    v, current = 0.0, 1.0
    for k in range(1, length):
        v = current + (v - current) * a_mem
        current *= a_syn
        kernel[k] = v
    return kernel


def psp_integrals(dt, tau_mem, tau_syn):
    """The integrals of the PSP kernel of Rossbroich et al. (2022), in seconds.

    ``epsilon_bar = dt * sum(kernel)`` and ``epsilon_hat = dt * sum(kernel^2)`` over the discrete
    kernel of :func:`psp_kernel`. In continuous time they are ``tau_syn`` and
    ``tau_syn^2 / (2 (tau_syn + tau_mem))``; at ``dt = 1 ms`` the discrete values are a few per cent
    larger (10.5 ms and 1.84 ms for tau_syn = 10 ms, tau_mem = 20 ms), and they are what the
    simulation follows.

    Returns
    -------
    epsilon_bar, epsilon_hat : float
    """
    kernel = psp_kernel(dt, tau_mem, tau_syn)
    return float(kernel.sum() * float(dt)), float((kernel ** 2).sum() * float(dt))


def _population_time_constants(config, population):
    """Mean ``tau_mem, tau_exc, tau_inh`` (seconds) of the E or I neurons of ``config``."""
    factor = getattr(config, "inh_tau_factor", 1.0) if population == "i" else 1.0
    return tuple(float(getattr(config, name)) * factor
                 for name in ("tau_mem", "tau_exc", "tau_inh"))


def input_rate(spike_input):
    """Mean spikes per channel per second of a :class:`ei_brian.encoding.SpikeInput` (Hz)."""
    seconds = spike_input.n_samples * spike_input.n_steps * spike_input.dt
    if seconds == 0 or spike_input.n_channels == 0:
        raise ValueError("the input holds no samples or no channels")
    return spike_input.n_spikes / (spike_input.n_channels * seconds)


def fluctuation_weights(config, seed, sigma_u=1.0, input_rate=5.0, share=0.9, hidden_rate=None,
                        distribution="half-normal", scale_readout=10.0):
    """Fluctuation-driven initialization (Rossbroich, Gygax & Zenke 2022), adapted to Dale's law.

    Presynaptic spike trains are taken as independent Poisson processes: the input channels at
    ``input_rate``, the hidden neurons at ``hidden_rate``. By Campbell's theorem a projection of
    ``N`` neurons at rate ``nu`` with weight magnitudes of mean ``m`` and root mean square ``r``
    adds ``N nu m epsilon_bar`` to the mean of the free membrane potential (no threshold) of its
    targets and ``N nu r^2 epsilon_hat`` to its variance (``epsilon_bar``, ``epsilon_hat``: the
    integrals of the target's PSP kernel, :func:`psp_integrals`, with its ``tau_exc`` for
    excitatory and ``tau_inh`` for inhibitory projections). For each target population (E, then
    I) the root mean squares ``r_x, r_e, r_i`` of its input, excitatory and inhibitory projections
    solve:

    1. ``share`` of the *excitatory* variance comes from the input:
       ``V_x = share * (V_x + V_e)``;
    2. the mean drive is balanced: mean input + mean recurrent excitation = mean inhibition;
    3. the total variance is ``V_x + V_e + V_i = sigma_u^2``.

    The adaptation to Dale's law is in 1 and 2. In the paper the weights have zero mean and
    ``alpha`` is the input's share of all the variance. Under Dale's law the input only excites,
    so inhibition has to cancel the mean of the input as well as that of the recurrent excitation
    (cancelling the recurrent parts alone would leave the input's mean, about ten ``sigma_u``
    above threshold for latency-coded Fashion-MNIST); an inhibition strong enough for that
    carries a large part of the variance by itself, so ``share`` splits the excitatory variance
    only. This is what the stork library does for its Dale's-law layers (its fluctuation-driven
    initializers for E/I populations). ``info["variance_share"]`` gives the resulting split.
    Without inhibitory neurons (100:0) the mean cannot be balanced: ``share`` is then the input's
    share of the total variance, and a warning gives the predicted mean potential. The unbounded
    baseline has zero-mean (signed) weights, the paper's own case: ``share`` of the variance from
    the input, the rest from the recurrent projection. Per-neuron spreads of time constants are
    not modelled (the population means are used). The readout keeps the ``scale`` scheme's gain
    ``scale_readout``.

    Parameters
    ----------
    config : NetworkConfig
    seed : int or numpy.random.SeedSequence
        Seed of the draws (the streams of :func:`scale_weights`).
    sigma_u : float
        Target standard deviation of the free membrane potential, in units of the threshold
        (the potential is dimensionless and the threshold is ``config.v_threshold``).
    input_rate : float
        Mean rate of an input channel, Hz (:func:`input_rate` of the encoded training data).
    share : float
        ``alpha`` of the paper, in (0, 1] (see above).
    hidden_rate : float, optional
        Assumed rate of hidden neurons, Hz; default ``input_rate`` (the paper uses one rate).
    distribution : {"half-normal", "exponential", "log-normal"}
    scale_readout : float
        Gain of the readout projection.

    Returns
    -------
    weights : dict of str to ndarray
    info : dict
        The derived numbers: per target population (``"E"``, ``"I"``) the PSP integrals, the
        predicted mean and std of the free potential and the variance split; per projection the
        ``rms`` and the ``gain`` (``rms * sqrt(fan_in)``, comparable with the ``scale`` scheme).
    """
    _check_distribution(distribution)
    if not sigma_u > 0:
        raise ValueError(f"sigma_u must be > 0, got {sigma_u!r}")
    if not input_rate > 0:
        raise ValueError(f"input_rate must be > 0 Hz, got {input_rate!r}")
    if not 0 < share <= 1:
        raise ValueError(f"share (alpha) must lie in (0, 1], got {share!r}")
    hidden_rate = input_rate if hidden_rate is None else hidden_rate
    if not hidden_rate > 0:
        raise ValueError(f"hidden_rate must be > 0 Hz, got {hidden_rate!r}")
    sigma = sigma_u * config.v_threshold
    # synapses each target neuron receives from the input, E and I (fewer in a sparse network)
    n_x, n_e = config.fan_in("xe"), config.fan_in("ee")
    n_i = config.fan_in("ie") if config.n_inh else 0
    balanced = not config.unbounded and n_i > 0
    kappa = 0.0 if config.unbounded else mean_over_rms(distribution)
    rms = {"eo": scale_readout / math.sqrt(config.fan_in("eo"))}
    populations = {}
    for target in ("e", "i") if n_i else ("e",):
        tau_mem, tau_exc, tau_inh = _population_time_constants(config, target)
        bar_exc, hat_exc = psp_integrals(config.dt, tau_mem, tau_exc)
        bar_inh, hat_inh = psp_integrals(config.dt, tau_mem, tau_inh)
        # variance (V = a r^2) and mean (M = kappa b r) coefficients of each projection
        a_x, b_x = n_x * input_rate * hat_exc, n_x * input_rate * bar_exc
        a_e, b_e = n_e * hidden_rate * hat_exc, n_e * hidden_rate * bar_exc
        a_i, b_i = n_i * hidden_rate * hat_inh, n_i * hidden_rate * bar_inh
        # root mean squares relative to r_x: recurrent excitation from the share, inhibition
        # from the balance, then r_x from the total variance
        rho_e = math.sqrt((1 - share) * a_x / (share * a_e))
        rho_i = (b_x + b_e * rho_e) / b_i if balanced else 0.0
        r_x = sigma / math.sqrt(a_x + a_e * rho_e ** 2 + a_i * rho_i ** 2)
        r_e, r_i = rho_e * r_x, rho_i * r_x
        rms.update({"x" + target: r_x, "e" + target: r_e, "i" + target: r_i})
        variance = {"feed_forward": a_x * r_x ** 2, "recurrent_exc": a_e * r_e ** 2,
                    "inhibitory": a_i * r_i ** 2}
        total = sum(variance.values())
        populations[target.upper()] = {
            "epsilon_bar_exc_s": bar_exc, "epsilon_hat_exc_s": hat_exc,
            "epsilon_bar_inh_s": bar_inh, "epsilon_hat_inh_s": hat_inh,
            "predicted_mean_u": float(kappa * (b_x * r_x + b_e * r_e - b_i * r_i)),
            "predicted_std_u": float(math.sqrt(total)),
            "variance_share": {key: float(value / total) for key, value in variance.items()}}
    rms = {name: float(rms[name]) for name in config.projections}
    weights = _draw(config, seed, rms, distribution)
    info = {"scheme": "fluctuation", "sigma_u": float(sigma_u), "input_rate_hz": float(input_rate),
            "hidden_rate_hz": float(hidden_rate), "share": float(share),
            "distribution": distribution, "balanced": balanced, "populations": populations,
            "rms": rms, "gain": {name: rms[name] * math.sqrt(config.fan_in(name))
                                 for name in rms}}
    if not config.unbounded and n_i == 0:
        warnings.warn(f"fluctuation initialization without inhibitory neurons: the mean drive "
                      f"cannot be balanced; the predicted mean membrane potential is "
                      f"{populations['E']['predicted_mean_u']:.3g} (threshold "
                      f"{config.v_threshold})", InitializationWarning, stacklevel=2)
    return weights, info

# ---------------------------------------------------------------------------------------------
# calibration to a target rate

def scale_projections(weights, factor_exc=1.0, factor_inh=1.0):
    """Weights with the excitatory projections (``xe, xi, ee, ei``) multiplied by ``factor_exc``
    and the inhibitory ones (``ie, ii``) by ``factor_inh``; the readout ``eo`` unchanged."""
    scaled = {}
    for key, array in weights.items():
        name = key[2:]
        factor = 1.0 if name == "eo" else factor_inh if name in INHIBITORY else factor_exc
        scaled[key] = np.asarray(array, dtype=np.float64) * factor
    return scaled


class _OutOfMeasurements(Exception):
    """The calibration used up its measurements."""


class _Calibration:
    """Measurements at (log2 excitatory factor, log2 inhibitory factor), each made once."""

    def __init__(self, weights, measure, targets, max_measurements):
        self.weights = weights
        self.measure = measure
        self.targets = targets
        self.max_measurements = max_measurements
        self.cache = {}
        self.log = []

    def rates(self, log_exc, log_inh):
        key = (round(float(log_exc), 9), round(float(log_inh), 9))
        if key not in self.cache:
            if len(self.log) >= self.max_measurements:
                raise _OutOfMeasurements
            rate_exc, rate_inh = self.measure(
                scale_projections(self.weights, 2.0 ** key[0], 2.0 ** key[1]))
            self.cache[key] = (float(rate_exc), float(rate_inh))
            self.log.append({"factor_exc": 2.0 ** key[0], "factor_inh": 2.0 ** key[1],
                             "rate_exc_hz": float(rate_exc), "rate_inh_hz": float(rate_inh)})
        return self.cache[key]

    def residual(self, point):
        """``log((rate + f) / (target + f))`` per calibrated population (``f``: a tenth of the
        target, so that silence stays finite)."""
        rates = self.rates(*point)
        return np.array([math.log((rate + 0.1 * target) / (1.1 * target))
                         for rate, target in zip(rates, self.targets)])

    def best(self):
        """The measured point whose worse rate is closest to its target."""
        return min(self.cache, key=lambda point: np.abs(self.residual(point)).max())

    def close(self, point, tolerance):
        return all(_close(rate, target, tolerance)
                   for rate, target in zip(self.rates(*point), self.targets))


def _close(rate, target, tolerance):
    return abs(rate - target) <= tolerance * target


def _search(rate_at, target, increasing, start, tolerance, limit, first_step=1.0,
            resolution=1e-3):
    """Find a log2 factor where ``rate_at`` is within ``tolerance`` of ``target``.

    Expands from ``start`` in steps of ``first_step``, twice that, four times... (log2 units)
    until the target is bracketed or
    ``|log2 factor|`` reaches ``limit``, then bisects. Returns ``(x, rate, outcome, tried)``;
    outcome ``"reached"``, ``"low"`` / ``"high"`` (the rate stays below / above the target over
    the whole range), or ``"jump"`` (the rate jumps across the target between two factors closer
    than ``resolution``); ``tried`` is the list of (x, rate) measured.
    """
    tried = []

    def measure(x):
        rate = rate_at(x)
        tried.append((x, rate))
        return rate

    def above(rate):
        return rate > target

    x0 = start
    r0 = measure(x0)
    if _close(r0, target, tolerance):
        return x0, r0, "reached", tried
    # direction that moves the rate towards the target
    direction = 1.0 if (r0 < target) == increasing else -1.0
    step, x_prev, r_prev = first_step, x0, r0
    while True:
        x = float(np.clip(x_prev + direction * step, -limit, limit))
        if x == x_prev:
            return x_prev, r_prev, ("low" if r_prev < target else "high"), tried
        r = measure(x)
        if _close(r, target, tolerance):
            return x, r, "reached", tried
        if above(r) != above(r_prev):
            break
        x_prev, r_prev = x, r
        step *= 2
    lo, r_lo, hi, r_hi = x_prev, r_prev, x, r
    while abs(hi - lo) > resolution:
        mid = (lo + hi) / 2
        r_mid = measure(mid)
        if _close(r_mid, target, tolerance):
            return mid, r_mid, "reached", tried
        if above(r_mid) == above(r_lo):
            lo, r_lo = mid, r_mid
        else:
            hi, r_hi = mid, r_mid
    best = min((lo, r_lo), (hi, r_hi), key=lambda item: abs(item[1] - target))
    return best[0], best[1], "jump", tried


def _reason(population, outcome, tried, target, limit, max_rate):
    """Why the search of the E (excitatory gain) or I (inhibitory gain) rate failed, in words."""
    rates = [rate for _, rate in tried]
    knob = "excitatory" if population == "E" else "inhibitory"
    factors = f"x{2.0 ** -limit:.3g} to x{2.0 ** limit:.4g}"
    if outcome == "jump":
        return (f"the {population} rate jumps across the target {target:g} Hz between two "
                f"{knob} gains less than 0.1 % apart (to {rates[-1]:.3g} Hz): the network is "
                "bistable there")
    if target >= max_rate:
        return (f"saturated: the {population} target {target:g} Hz is at or above the largest "
                f"possible rate, one spike per time step ({max_rate:g} Hz); the rate reaches "
                f"{max(rates):.4g} Hz")
    if population == "E" and all(rate == 0 for rate in rates):
        return (f"the E population is silent at every excitatory gain tried ({factors}): the "
                "input does not make it fire (is there input?)")
    if population == "E" and outcome == "low":
        top = sorted(rates)[-2:]
        if len(top) == 2 and top[1] <= 1.05 * top[0]:
            return (f"saturated: the E rate stops growing at {top[1]:.4g} Hz as the excitatory "
                    f"gain rises (up to x{2.0 ** limit:.4g}), below the target {target:g} Hz")
        return (f"the E rate reaches only {max(rates):.4g} Hz with the excitatory gain up to "
                f"x{2.0 ** limit:.4g}, below the target {target:g} Hz")
    if population == "E":
        return (f"the E rate stays at {min(rates):.4g} Hz or above with the excitatory gain down "
                f"to x{2.0 ** -limit:.3g}, above the target {target:g} Hz")
    if all(rate == 0 for rate in rates):
        return (f"the I population is silent at every inhibitory gain tried ({factors}): the "
                "excitatory drive that gives the E target does not make I neurons fire; raise "
                "the E target or lower the I target")
    if outcome == "low":
        return (f"the I rate reaches only {max(rates):.4g} Hz even with the inhibitory gain down "
                f"to x{2.0 ** -limit:.3g}: the excitatory drive that gives the E target is too "
                f"weak for the I target {target:g} Hz; lower the I target or raise the E target")
    return (f"the I rate stays at {min(rates):.4g} Hz or above even with the inhibitory gain up "
            f"to x{2.0 ** limit:.4g}: the excitatory drive that gives the E target is too strong "
            f"for the I target {target:g} Hz; raise the I target or lower the E target")


def _newton(calibration, x, tolerance, limit, max_steps=8, h=1 / 8):
    """Joint steps on both log2 factors towards both targets.

    Newton's method on the residuals of :meth:`_Calibration.residual`, with the Jacobian from
    finite differences of ``h`` in each factor and the step halved until the larger residual
    shrinks. Returns the point reached and whether both rates are within ``tolerance`` there.
    """
    x = np.array(x, dtype=float)
    for _ in range(max_steps):
        if calibration.close(x, tolerance):
            return tuple(x), True
        current = calibration.residual(x)
        jacobian = np.column_stack([(calibration.residual(x + h * unit) - current) / h
                                    for unit in np.eye(2)])
        if abs(np.linalg.det(jacobian)) < 1e-9:
            break
        step = -np.linalg.solve(jacobian, current)
        step *= min(1.0, 1.0 / np.abs(step).max())  # at most a factor 2 at once
        for fraction in (1.0, 0.5, 0.25):
            trial = np.clip(x + fraction * step, -limit, limit)
            if np.abs(calibration.residual(trial)).max() < np.abs(current).max():
                x = trial
                break
        else:
            break
    return tuple(x), calibration.close(x, tolerance)


def calibrate_rates(config, weights, measure, target_exc, target_inh=None, tolerance=0.1,
                    max_rounds=4, limit=10, max_measurements=60):
    """Scale excitatory and inhibitory weights until the initial E and I rates hit their targets.

    The excitatory gain (a factor on ``xe, xi, ee, ei``, input projections included) is searched
    for the E target, then the inhibitory gain (on ``ie, ii``) for the I target. Each search
    expands (from the current factor, in steps of a factor 2 in the first round and 2**0.25
    later, doubling), then bisects, on a log2 scale within factors ``2**-limit .. 2**limit`` of
    the given weights. Since each gain moves both rates, the I search leaves the E rate off its
    target; then joint Newton steps on both gains (finite-difference Jacobian of the log rates)
    finish the job, and where they stall the two searches run again, for up to ``max_rounds``
    rounds, until both rates are within ``tolerance`` of their targets. The readout is not
    scaled. Without inhibitory neurons (100:0, unbounded) only the E rate is calibrated.

    Parameters
    ----------
    config : NetworkConfig
    weights : dict
        Starting weights (the ``scale`` scheme's).
    measure : callable
        ``measure(weights) -> (rate_exc_hz, rate_inh_hz)``: mean initial rates of the E and I
        populations, e.g. :meth:`ei_brian.training.Trainer.evaluate` on a probe batch, or
        :func:`ei_brian.gradients.forward` in tests.
    target_exc : float
        Target E rate, Hz (> 0).
    target_inh : float, optional
        Target I rate, Hz; default ``target_exc``.
    tolerance : float
        Relative tolerance on each rate.
    max_rounds : int
        Rounds of (E search, I search, joint steps).
    limit : float
        Largest ``|log2 factor|`` tried.
    max_measurements : int
        Stop after this many measurements (then the best point measured is returned).

    Returns
    -------
    weights : dict
        The scaled weights (the closest found when the target could not be reached).
    info : dict
        ``factor_exc``, ``factor_inh``, ``rate_exc_hz``, ``rate_inh_hz`` (as measured on the
        returned weights), ``reached``, ``n_measurements``, ``rounds``, ``warning`` (the reason, or
        None) and ``measurements`` (every factor pair measured with its rates).

    Warns
    -----
    InitializationWarning
        When a target cannot be reached; the message says why (silent at every scale tried,
        saturated, bistable, or the two searches did not settle).
    """
    target_inh = target_exc if target_inh is None else target_inh
    if not target_exc > 0 or not target_inh > 0:
        raise ValueError(f"target rates must be > 0 Hz, got {target_exc!r} and {target_inh!r}")
    has_inh = (not config.unbounded) and config.n_inh > 0
    targets = (target_exc, target_inh) if has_inh else (target_exc,)
    calibration = _Calibration(weights, measure, targets, max_measurements)
    max_rate = 1.0 / float(config.dt)
    x_exc = x_inh = 0.0
    problem = None
    rounds = 0
    try:
        for rounds in range(1, max_rounds + 1):
            first_step = 1.0 if rounds == 1 else 0.25
            x_exc, _, outcome, tried = _search(
                lambda x: calibration.rates(x, x_inh)[0],  # noqa: B023  # _search calls it at once
                target_exc, True, x_exc, tolerance, limit, first_step)
            if outcome != "reached":
                problem = _reason("E", outcome, tried, target_exc, limit, max_rate)
                break  # the E rate cannot be set: nothing the inhibitory gain does will help
            problem = None
            if not has_inh:
                break
            x_inh, _, outcome, tried = _search(
                lambda x: calibration.rates(x_exc, x)[1],  # noqa: B023  # _search calls it at once
                target_inh, False, x_inh, tolerance, limit, first_step)
            if outcome != "reached":
                problem = _reason("I", outcome, tried, target_inh, limit, max_rate)
            if calibration.close((x_exc, x_inh), tolerance):
                break
            # the I search moved the E rate: joint steps on both gains
            (x_exc, x_inh), done = _newton(calibration, (x_exc, x_inh), tolerance, limit)
            if done:
                problem = None
                break
    except _OutOfMeasurements:
        pass
    best = calibration.best()
    if problem is None or calibration.close(best, tolerance):
        x_exc, x_inh = best
    rate_exc, rate_inh = calibration.rates(x_exc, x_inh)
    reached = calibration.close((x_exc, x_inh), tolerance)
    if reached:
        problem = None
    elif problem is None:
        problem = (f"the excitatory and inhibitory gains did not settle (E {rate_exc:.3g} Hz for "
                   f"target {target_exc:g} Hz, I {rate_inh:.3g} Hz for target {target_inh:g} Hz "
                   f"after {len(calibration.log)} measurements): each gain moves both rates, and "
                   "these two targets may not be reachable together; try other targets")
    if problem is not None:
        warnings.warn(f"target-rate initialization did not reach its target: {problem}",
                      InitializationWarning, stacklevel=2)
    info = {"scheme": "target-rate", "target_rate_exc_hz": float(target_exc),
            "target_rate_inh_hz": float(target_inh) if has_inh else None,
            "factor_exc": 2.0 ** x_exc, "factor_inh": 2.0 ** x_inh if has_inh else None,
            "rate_exc_hz": rate_exc, "rate_inh_hz": rate_inh if has_inh else float("nan"),
            "reached": bool(reached), "rounds": rounds,
            "n_measurements": len(calibration.log), "warning": problem,
            "measurements": calibration.log}
    return scale_projections(weights, 2.0 ** x_exc, 2.0 ** x_inh), info


# ---------------------------------------------------------------------------------------------

def _hz(value):
    return None if value is None else float(value / Hz)


def initialize(config, train_config, seed, measure=None, input_rate=None, structure=None):
    """Initial weights by the scheme of ``train_config.init``.

    Parameters
    ----------
    config : NetworkConfig
    train_config : TrainConfig
        ``init``, ``init_distribution``, ``init_scale_*``; ``sigma_u``, ``fluctuation_share``,
        ``input_rate`` (fluctuation); ``target_rate_exc``, ``target_rate_inh`` (target-rate).
    seed : int or numpy.random.SeedSequence
        Seed of the weight draws.
    measure : callable, optional
        ``measure(weights) -> (rate_exc_hz, rate_inh_hz)``; needed by ``target-rate``.
    input_rate : float, optional
        Input rate in Hz estimated from the training data; used by ``fluctuation`` when
        ``train_config.input_rate`` is None.
    structure : ei_brian.structure.Structure, optional
        The synapses of a sparse network: the weights of absent synapses are set to 0 (every
        scheme already scales by the real fan-in, ``NetworkConfig.fan_in``).

    Returns
    -------
    weights : dict
    info : dict
        ``scheme`` and what the scheme derived (see :func:`fluctuation_weights`,
        :func:`calibrate_rates`).
    """
    tc = train_config
    scheme = tc.init
    if scheme not in SCHEMES:
        raise ValueError(f"initialization {scheme!r} is unknown; use one of {', '.join(SCHEMES)}")
    info = {"scheme": scheme, "distribution": tc.init_distribution}
    if scheme == "fluctuation":
        rate = _hz(tc.input_rate) if tc.input_rate is not None else input_rate
        if rate is None:
            raise ValueError("fluctuation initialization needs the input rate: set "
                             "TrainConfig.input_rate or pass the rate estimated from the data")
        weights, derived = fluctuation_weights(
            config, seed, sigma_u=tc.sigma_u, input_rate=rate, share=tc.fluctuation_share,
            distribution=tc.init_distribution, scale_readout=tc.init_scale_readout)
        info.update(derived)
        info["input_rate_source"] = "config" if tc.input_rate is not None else "data"
        return _masked(weights, structure), info
    weights = _masked(scale_weights(config, seed, tc.init_scale_exc, tc.init_scale_inh,
                                    tc.init_scale_readout, tc.init_distribution), structure)
    info.update(scale_exc=tc.init_scale_exc, scale_inh=tc.init_scale_inh,
                scale_readout=tc.init_scale_readout)
    if scheme == "scale":
        return weights, info
    if measure is None:
        raise ValueError("target-rate initialization needs measure(weights) -> (rate_exc_hz, "
                         "rate_inh_hz)")
    weights, derived = calibrate_rates(config, weights, measure, _hz(tc.target_rate_exc),
                                       _hz(tc.target_rate_inh))
    info.update(derived)
    return weights, info


def _masked(weights, structure):
    return weights if structure is None else structure.apply(weights)
