"""Configuration: frozen parameter objects with defaults, overrides that reject unknown keys.

Physical parameters are Brian2 quantities (``20*ms``). A configuration turns into plain JSON with
:meth:`to_dict` (quantities as strings such as ``"20. ms"``) and back with :meth:`from_dict`, and
has a short label made from its content, so a results folder says what made it.
"""
import dataclasses
import hashlib
import json
import math
import re

import numpy as np
from brian2 import Hz, Quantity, ms, second

from ei_brian.datasets import registry
from ei_brian.datasets.registry import dataset_size
from ei_brian.streams import STREAMS

__all__ = ["NetworkConfig", "TrainConfig", "ConfigError", "parse_ratio", "population_sizes"]

#: data sets known to TrainConfig (:data:`ei_brian.datasets.registry.DATASET_NAMES`), and those
#: whose samples are spikes
DATASET_NAMES = registry.DATASET_NAMES
SPIKE_DATASET_NAMES = registry.SPIKE_DATASETS
RANDMAN_DEFAULTS = registry.RANDMAN_DEFAULTS
SHD_LIKE_DEFAULTS = registry.SHD_LIKE_DEFAULTS
#: TrainConfig fields of the random-manifold task
RANDMAN_FIELDS = ("randman_classes", "randman_channels", "randman_samples", "randman_dim",
                  "randman_alpha", "randman_seed")
_RANDMAN_FIELD_DEFAULTS = dict(zip(RANDMAN_FIELDS, (
    RANDMAN_DEFAULTS[key] for key in ("classes", "channels", "samples", "dim", "alpha",
                                      "data_seed"))))
#: TrainConfig fields of the SHD-like task (ei_brian.datasets.shd_like)
SHD_LIKE_FIELDS = ("shd_like_samples", "shd_like_speakers", "shd_like_difficulty",
                   "shd_like_seed")
_SHD_LIKE_FIELD_DEFAULTS = dict(zip(SHD_LIKE_FIELDS, (
    SHD_LIKE_DEFAULTS[key] for key in ("samples", "speakers", "difficulty", "data_seed"))))

#: training options of the decisive study (validation, schedule, early stop), with their defaults
STUDY_FIELD_DEFAULTS = {"validation_samples": 0, "lr_schedule": "constant",
                        "stop_saturated": False}
LR_SCHEDULES = ("constant", "cosine")

#: The training recipe of the spike data sets, and the defaults of ``init``, ``batch_size`` and
#: ``learning_rate`` by data set: the registry's
#: (:data:`ei_brian.datasets.registry.DATASET_DEFAULTS`).
SPIKE_RECIPE = registry.SPIKE_RECIPE
DATASET_DEFAULTS = registry.DATASET_DEFAULTS


def dataset_default(dataset, name):
    """The default of TrainConfig field ``name`` (``init``, ``batch_size``, ``learning_rate``)
    for ``dataset`` (:data:`~ei_brian.datasets.registry.DATASET_DEFAULTS`)."""
    return DATASET_DEFAULTS.get(dataset, DATASET_DEFAULTS["fashion-mnist"])[name]

_UNITS = {"ms": ms, "s": second, "second": second, "Hz": Hz}


class ConfigError(ValueError):
    """A configuration value is impossible; the message says which and what to do."""


def parse_ratio(ratio):
    """Parse an E:I ratio such as ``"80:20"`` into the excitatory fraction.

    Parameters
    ----------
    ratio : str
        Two non-negative numbers separated by a colon, e.g. ``"80:20"``, ``"4:1"`` or ``"100:0"``.

    Returns
    -------
    float
        The excitatory fraction, ``e / (e + i)``.
    """
    if not isinstance(ratio, str) or not re.fullmatch(r"\s*[-+0-9.eE]+\s*:\s*[-+0-9.eE]+\s*", ratio):
        raise ConfigError(f"E:I ratio {ratio!r} is not a ratio: write it as two numbers with a colon, "
                          "such as 80:20")
    try:
        exc, inh = (float(part) for part in ratio.split(":"))
    except ValueError:
        raise ConfigError(f"E:I ratio {ratio!r} is not a ratio: write it as two numbers with a colon, "
                          "such as 80:20") from None
    if exc < 0 or inh < 0:
        raise ConfigError(f"E:I ratio {ratio!r} has a negative part; both parts must be >= 0")
    if exc + inh <= 0:
        raise ConfigError(f"E:I ratio {ratio!r} has no neurons in it; use for example 80:20")
    if exc == 0:
        raise ConfigError(f"E:I ratio {ratio!r} has no excitatory neurons, but the readout listens to "
                          "E neurons only (and nothing would excite the network); give the E part a "
                          "share above 0, such as 10:90")
    return exc / (exc + inh)


def population_sizes(ratio, n_hidden):
    """Split ``n_hidden`` neurons into (n_exc, n_inh) by an E:I ratio, total size fixed.

    ``n_exc = round(n_hidden * e / (e + i))``. A population that the ratio asks for but that rounds
    to zero neurons is refused.
    """
    if int(n_hidden) != n_hidden or n_hidden < 1:
        raise ConfigError(f"hidden size {n_hidden!r} must be a positive integer")
    fraction = parse_ratio(ratio)
    n_exc = int(round(n_hidden * fraction))
    n_inh = int(n_hidden) - n_exc
    if n_exc == 0:
        raise ConfigError(f"E:I ratio {ratio} with {n_hidden} hidden neurons gives 0 excitatory neurons; "
                          "use more hidden neurons or a larger E share")
    if fraction < 1 and n_inh == 0:
        raise ConfigError(f"E:I ratio {ratio} with {n_hidden} hidden neurons rounds to 0 inhibitory "
                          f"neurons; use more hidden neurons (at least {int(1 / (2 * (1 - fraction))) + 1}) "
                          "or the ratio 100:0")
    return n_exc, n_inh


def _encode(value):
    if isinstance(value, Quantity):
        for name in ("ms", "Hz", "second"):
            unit = _UNITS[name]
            if value.has_same_dimensions(unit):
                return f"{float(value / unit)!r} {name}"
        raise TypeError(f"cannot store quantity {value!r}")
    return value


def _decode(value, default):
    if isinstance(default, Quantity):
        if isinstance(value, str):
            number, _, unit = value.partition(" ")
            if unit not in _UNITS:
                raise ConfigError(f"unknown unit in {value!r}")
            return float(number) * _UNITS[unit]
        raise ConfigError(f"{value!r} needs a unit, e.g. '20 ms'")
    if isinstance(default, tuple):
        return tuple(value)
    return value


def _quantity(value):
    """A dataclass field whose default is a (mutable) Brian2 quantity."""
    return dataclasses.field(default_factory=lambda: value)


class _Config:
    """Shared behaviour of the frozen configuration classes."""

    def replace(self, **overrides):
        """Return a copy with ``overrides``; an unknown key raises :class:`ConfigError`."""
        names = {field.name for field in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise ConfigError(f"unknown {type(self).__name__} parameter(s) {unknown}; "
                              f"known: {sorted(names)}")
        return dataclasses.replace(self, **overrides)

    def to_dict(self):
        return {field.name: _encode(getattr(self, field.name)) for field in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, values):
        default = cls()
        names = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ConfigError(f"unknown {cls.__name__} parameter(s) {unknown}")
        return default.replace(**{key: _decode(value, getattr(default, key))
                                  for key, value in values.items()})

    def digest(self, length=8):
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:length]


@dataclasses.dataclass(frozen=True)
class NetworkConfig(_Config):
    """The network: sizes, E:I ratio and neuron and readout parameters (docs/model.md).

    Parameters
    ----------
    ratio : str
        E:I ratio of the hidden layer, e.g. ``"80:20"``; ignored when ``unbounded``.
    n_hidden : int
        Total number of hidden neurons, split by ``ratio``.
    n_inputs, n_outputs : int
        Input channels and readout units.
    unbounded : bool
        The sign-free baseline: one hidden population, every projection free in sign.
    tau_mem, tau_exc, tau_inh : Quantity
        Membrane and synaptic time constants of hidden neurons.
    tau_out_mem, tau_out_syn : Quantity
        Membrane and synaptic time constants of the (non-spiking) readout units.
    v_threshold, v_reset : float
        Threshold and reset of the dimensionless membrane potential.
    dt : Quantity
        Simulation time step.
    n_steps : int
        Time steps per sample (the sample lasts ``n_steps * dt``).
    surrogate_beta : float
        Steepness of the SuperSpike surrogate derivative ``1 / (beta |v - threshold| + 1)^2``.
    tau_spread_exc, tau_spread_inh : float
        Per-neuron diversity of E and of I neurons: each neuron's ``tau_mem``, ``tau_exc`` and
        ``tau_inh`` are the means times independent log-normal factors ``exp(s * z - s^2 / 2)``,
        ``z ~ N(0, 1)`` (mean 1, spread ``s``); drawn from the run's seed.
    inh_tau_factor : float
        The mean time constants of I neurons are those of E neurons times this factor.
    membrane_noise : float
        Amplitude of a white-noise term in the membrane equation, stated as the standard deviation
        it gives the potential of an isolated neuron (in units of the threshold); the noise is
        drawn in Python from the run's seed and passed in with every run.
    connectivity : float
        Connection probability of the recurrent projections (``ee, ei, ie, ii``), in (0, 1]. Below
        1 every hidden neuron receives exactly ``round(connectivity * n_pre)`` synapses from each
        hidden population, chosen at random from the run's seed (:mod:`ei_brian.structure`); 1:
        all to all.
    input_connectivity : float
        The same for the input projections (``xe, xi``). The readout (``eo``) stays all to all.
    neuron_model : str
        The hidden neurons' model: ``"lif"`` (the default, described by the fields above),
        another built-in (``"alif"``, ``"qif"``) or a model file's text
        (:mod:`ei_brian.neuron_model`); models other than ``lif`` bring their own parameters and
        are trained by the engine derived from their equations (:mod:`ei_brian.derived`).
    """

    ratio: str = "80:20"
    n_hidden: int = 160
    n_inputs: int = 784
    n_outputs: int = 10
    unbounded: bool = False
    tau_mem: Quantity = _quantity(20 * ms)
    tau_exc: Quantity = _quantity(10 * ms)
    tau_inh: Quantity = _quantity(20 * ms)
    tau_out_mem: Quantity = _quantity(100 * ms)
    tau_out_syn: Quantity = _quantity(10 * ms)
    v_threshold: float = 1.0
    v_reset: float = 0.0
    dt: Quantity = _quantity(1 * ms)
    n_steps: int = 100
    surrogate_beta: float = 20.0
    tau_spread_exc: float = 0.0
    tau_spread_inh: float = 0.0
    inh_tau_factor: float = 1.0
    membrane_noise: float = 0.0
    connectivity: float = 1.0
    input_connectivity: float = 1.0
    neuron_model: str = "lif"

    def to_dict(self):
        """The fields as JSON values; ``neuron_model`` only when it is not the default ``lif``
        (a record without it, as every run's before the field existed, is a LIF network)."""
        values = super().to_dict()
        if values["neuron_model"] == "lif":
            del values["neuron_model"]
        return values

    def __post_init__(self):
        for name in ("n_inputs", "n_outputs", "n_steps"):
            value = getattr(self, name)
            if int(value) != value or value < 1:
                raise ConfigError(f"{name} must be a positive integer, not {value!r}")
        for name in ("tau_mem", "tau_exc", "tau_inh", "tau_out_mem", "tau_out_syn", "dt"):
            value = getattr(self, name)
            if not isinstance(value, Quantity) or not value.has_same_dimensions(second) or value <= 0:
                raise ConfigError(f"{name} must be a positive time such as 20*ms, not {value!r}")
        if not isinstance(self.neuron_model, str) or not self.neuron_model.strip():
            raise ConfigError("neuron_model must be a built-in model's name or a model file's "
                              f"text, not {self.neuron_model!r}")
        if self.v_reset >= self.v_threshold:
            raise ConfigError("v_reset must lie below v_threshold")
        if min(self.tau_spread_exc, self.tau_spread_inh, self.membrane_noise) < 0:
            raise ConfigError("tau spreads and membrane_noise must be >= 0")
        if not self.inh_tau_factor > 0:
            raise ConfigError("inh_tau_factor must be positive")
        for name in ("connectivity", "input_connectivity"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 < value <= 1):
                raise ConfigError(f"{name} (--{name.replace('_', '-')}) is a connection "
                                  f"probability in (0, 1], not {value!r}")
        self.population_sizes()  # validates ratio and size

    @property
    def heterogeneous(self):
        """Whether time constants differ between neurons (then they are per-neuron variables)."""
        return (self.tau_spread_exc > 0 or self.tau_spread_inh > 0 or
                (self.inh_tau_factor != 1 and self.n_inh > 0))

    def time_constants(self, seed):
        """Per-neuron ``tau_mem``, ``tau_exc``, ``tau_inh`` in seconds (arrays of n_hidden).

        Parameters
        ----------
        seed : int or numpy.random.SeedSequence
            The run's seed (a stream of its own is derived from it).
        """
        sequence = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        rng = np.random.default_rng(np.random.SeedSequence(
            sequence.entropy, spawn_key=sequence.spawn_key + (STREAMS["time-constants"],)))
        n_exc, n_inh = self.population_sizes()
        out = {}
        for name in ("tau_mem", "tau_exc", "tau_inh"):
            mean = float(getattr(self, name))
            values = np.full(n_exc + n_inh, mean)
            values[n_exc:] *= self.inh_tau_factor
            for spread, part in ((self.tau_spread_exc, slice(0, n_exc)),
                                 (self.tau_spread_inh, slice(n_exc, None))):
                z = rng.standard_normal(n_exc + n_inh)[part]
                values[part] *= np.exp(spread * z - spread ** 2 / 2)
            out[name] = values
        return out

    @classmethod
    def for_dataset(cls, train_config, dt=None, duration=None, **fields):
        """A network whose inputs, outputs and time grid fit ``train_config``'s data set.

        Parameters
        ----------
        train_config : TrainConfig
            Its ``dataset`` (and for randman the number of classes and channels) decides
            ``n_inputs`` and ``n_outputs``.
        dt, duration : Quantity, optional
            Time step and duration of a sample; default the data set's
            (:data:`ei_brian.datasets.registry.DEFAULT_TIME_GRID_MS`: Fashion-MNIST 1 ms x 100,
            SHD 2 ms x 350, randman 2 ms x 50). The duration must be a whole number of steps.
        **fields
            Any other NetworkConfig field (``ratio``, ``n_hidden``, ...).

        Returns
        -------
        NetworkConfig
        """
        default_dt, default_duration = registry.DEFAULT_TIME_GRID_MS[train_config.dataset]
        dt = default_dt * ms if dt is None else dt
        duration = default_duration * ms if duration is None else duration
        for name, value in (("dt", dt), ("duration", duration)):
            if not isinstance(value, Quantity) or not value.has_same_dimensions(second) \
                    or not value > 0:
                raise ConfigError(f"{name} must be a positive time such as 2*ms, not {value!r}")
        n_steps = int(round(float(duration / dt)))
        if n_steps < 1 or abs(n_steps * float(dt) - float(duration)) > 1e-9 * float(duration):
            raise ConfigError(f"the duration {float(duration / ms):g} ms is not a whole number of "
                              f"time steps of {float(dt / ms):g} ms")
        n_inputs, n_outputs = dataset_size(train_config.dataset, train_config.randman_classes,
                                           train_config.randman_channels)
        return cls(n_inputs=n_inputs, n_outputs=n_outputs, dt=dt, n_steps=n_steps, **fields)

    def population_sizes(self):
        """``(n_exc, n_inh)``; the unbounded baseline has one population of ``n_hidden``."""
        if self.unbounded:
            if int(self.n_hidden) != self.n_hidden or self.n_hidden < 1:
                raise ConfigError(f"hidden size {self.n_hidden!r} must be a positive integer")
            return int(self.n_hidden), 0
        return population_sizes(self.ratio, self.n_hidden)

    @property
    def n_exc(self):
        return self.population_sizes()[0]

    @property
    def n_inh(self):
        return self.population_sizes()[1]

    @property
    def projections(self):
        """Names of the projections this network has (``xe, xi, ee, ei, ie, ii, eo``)."""
        if self.n_inh == 0:
            return ("xe", "ee", "eo")
        return ("xe", "xi", "ee", "ei", "ie", "ii", "eo")

    def projection_shape(self, name):
        """``(n_pre, n_post)`` of a projection."""
        sizes = {"x": self.n_inputs, "e": self.n_exc, "i": self.n_inh, "o": self.n_outputs}
        return sizes[name[0]], sizes[name[1]]

    def projection_connectivity(self, name):
        """Connection probability of a projection (1 for all to all)."""
        if name == "eo":
            return 1.0
        return float(self.input_connectivity if name[0] == "x" else self.connectivity)

    @property
    def sparse(self):
        """Whether any projection is not all to all (then the run has a structure)."""
        return self.connectivity < 1 or self.input_connectivity < 1

    def fan_in(self, name):
        """Synapses each target neuron receives from a projection: ``n_pre`` when all to all,
        else ``max(1, round(p * n_pre))`` (a fixed number per neuron)."""
        n_pre = self.projection_shape(name)[0]
        p = self.projection_connectivity(name)
        return n_pre if p >= 1 else max(1, int(round(p * n_pre)))

    @property
    def sample_duration(self):
        return self.n_steps * self.dt


@dataclasses.dataclass(frozen=True)
class TrainConfig(_Config):
    """Training: data, optimisation and initialisation.

    Parameters
    ----------
    dataset : str
        Data set name: ``"fashion-mnist"`` (images, encoded into spikes), ``"shd"`` (the Spiking
        Heidelberg Digits) or ``"randman"`` (random manifolds, generated); the last two are
        spikes already. The network's inputs, outputs and time grid must fit the data set:
        :meth:`NetworkConfig.for_dataset` builds one that does.
    train_samples, test_samples : int or None
        Sizes of class-balanced subsets drawn from the seed; ``None`` uses the whole set (the
        command line's default for the spike data sets).
    epochs, batch_size : int
        Epochs of training and samples per minibatch (one compiled run carries one minibatch).
        ``batch_size`` None: the data set's default
        (:data:`~ei_brian.datasets.registry.DATASET_DEFAULTS`: 256 for Fashion-MNIST, 64 for the
        spike data sets).
    optimizer : str
        ``"adam"`` or ``"smorms3"``.
    learning_rate : float
        Step size of the optimizer; None: the data set's default (5e-3 for Fashion-MNIST, 1e-2
        for the spike data sets).
    seed : int
        The run's seed; every random stream derives from it.
    encoding : str
        ``"latency"`` (docs/model.md) or ``"poisson"`` for images; ``"spikes"`` for the spike data
        sets, which need no encoding (set automatically when the default ``"latency"`` is left).
    init : str
        Initialization scheme; None: the data set's default (``"scale"`` for Fashion-MNIST,
        ``"fluctuation"`` for the spike data sets) (:mod:`ei_brian.initialization`): ``"scale"`` (magnitudes of root
        mean square ``g / sqrt(fan_in)``), ``"fluctuation"`` (fluctuation-driven, target membrane
        potential spread ``sigma_u``) or ``"target-rate"`` (the ``scale`` weights, excitatory and
        inhibitory gains searched until the initial E and I rates on a probe batch of training
        data are within 10 % of ``target_rate_exc`` and ``target_rate_inh``).
    init_distribution : str
        Distribution of the initial magnitudes: ``"half-normal"``, ``"exponential"`` or
        ``"log-normal"``, each with root mean square ``g / sqrt(fan_in)``.
    init_scale_exc, init_scale_inh : float
        Gain ``g`` of the excitatory (``xe, xi, ee, ei``) and inhibitory (``ie, ii``) initial
        weights (``scale`` and the start of ``target-rate``).
    init_scale_readout : float
        Gain of the E-to-readout weights (every scheme).
    target_rate_exc : Quantity
        Target initial mean rate of the E population (``target-rate``).
    target_rate_inh : Quantity or None
        Target initial mean rate of the I population; None: the same as ``target_rate_exc``.
    target_rate_samples : int
        Training samples in the probe batch on which ``target-rate`` measures the rates.
    sigma_u : float
        Target standard deviation of the free membrane potential, in units of the threshold
        (``fluctuation``).
    fluctuation_share : float
        Share ``alpha`` of the excitatory membrane-potential variance that comes from the input
        (``fluctuation``), in (0, 1].
    input_rate : Quantity or None
        Mean rate of an input channel assumed by ``fluctuation``; None: estimated from the encoded
        training data (mean spikes per channel per second).
    update_noise : float
        Level ``eta`` of the Gaussian noise added to every weight update, before the Dale's-law
        projection (0: none).
    update_noise_kind : str
        ``"relative"`` (std ``eta * |update|``) or ``"absolute"`` (std ``eta``).
    input_jitter : Quantity
        Std of the Gaussian jitter of input spike times (rounded to steps, clipped to the sample).
    input_deletion : float
        Probability that an input spike is deleted.
    input_insertion : float
        Probability that an empty (sample, step, channel) cell of the input gets a spike.
    input_noise_at_test : bool
        Also apply the input noise when evaluating (test set, epoch-0 rates, probe spikes,
        target-rate probe), with one fixed realization per minibatch position; by default input
        noise acts on training minibatches only.
    regularizer_strength : float
        Strength of the upper-bound L2 penalty on hidden spike counts (0 disables it).
    regularizer_rate : Quantity
        Rate above which the penalty acts.
    n_probe : int
        Test samples whose hidden spike trains are saved before and after training.
    validation_samples : int
        Class-balanced samples of the training set held out for validation (drawn from the
        seed, disjoint from the ``train_samples`` trained on; with ``train_samples=None`` they
        are taken out of the whole set). Their accuracy is measured after every epoch
        (``val_acc``) and chooses the epoch whose test accuracy a study reports. 0: none.
    lr_schedule : str
        ``"constant"`` (the learning rate throughout) or ``"cosine"``: epoch ``e`` of ``E``
        trains at ``learning_rate * (1 + cos(pi * (e - 1) / E)) / 2``, from the full rate down
        to a small one in the last epoch, which damps the swings between late epochs.
    stop_saturated : bool
        Stop a run whose E rate stays above :func:`ei_brian.outcome.saturation_hz` (500 Hz at
        ``dt = 1 ms``) for
        :data:`ei_brian.outcome.SATURATED_EVALUATIONS` evaluations in a row (recorded as
        stopped early, outcome ``saturated``); by default such a run trains on.
    randman_classes, randman_channels, randman_samples, randman_dim, randman_alpha, randman_seed
        The random-manifold task (``dataset="randman"`` only; :mod:`ei_brian.datasets.randman`):
        classes, input channels, samples per class (a sixth of them the test set), manifold
        dimension, smoothness ``alpha`` and the task's own seed (the same task for every run
        seed). Left out of :meth:`to_dict` for other data sets.
    """

    dataset: str = "fashion-mnist"
    train_samples: int = 10000
    test_samples: int = 2000
    epochs: int = 10
    batch_size: int = None
    optimizer: str = "adam"
    learning_rate: float = None
    seed: int = 0
    encoding: str = "latency"
    init: str = None
    init_distribution: str = "half-normal"
    init_scale_exc: float = 0.4
    init_scale_inh: float = 0.8
    init_scale_readout: float = 10.0
    target_rate_exc: Quantity = _quantity(5 * Hz)
    target_rate_inh: Quantity = None
    target_rate_samples: int = 256
    sigma_u: float = 1.0
    fluctuation_share: float = 0.9
    input_rate: Quantity = None
    update_noise: float = 0.0
    update_noise_kind: str = "relative"
    input_jitter: Quantity = _quantity(0 * ms)
    input_deletion: float = 0.0
    input_insertion: float = 0.0
    input_noise_at_test: bool = False
    regularizer_strength: float = 0.0
    regularizer_rate: Quantity = _quantity(10 * Hz)
    n_probe: int = 20
    validation_samples: int = 0
    lr_schedule: str = "constant"
    stop_saturated: bool = False
    randman_classes: int = RANDMAN_DEFAULTS["classes"]
    randman_channels: int = RANDMAN_DEFAULTS["channels"]
    randman_samples: int = RANDMAN_DEFAULTS["samples"]
    randman_dim: int = RANDMAN_DEFAULTS["dim"]
    randman_alpha: float = RANDMAN_DEFAULTS["alpha"]
    randman_seed: int = RANDMAN_DEFAULTS["data_seed"]
    shd_like_samples: int = SHD_LIKE_DEFAULTS["samples"]
    shd_like_speakers: int = SHD_LIKE_DEFAULTS["speakers"]
    shd_like_difficulty: float = SHD_LIKE_DEFAULTS["difficulty"]
    shd_like_seed: int = SHD_LIKE_DEFAULTS["data_seed"]

    def to_dict(self):
        """The fields as plain JSON; the randman fields only for ``dataset="randman"``, the
        SHD-like ones only for ``dataset="shd-like"`` (so the
        record, and the digest, of every other run is what it was before they existed)."""
        values = super().to_dict()
        if self.dataset != "randman":
            for name in RANDMAN_FIELDS:
                values.pop(name)
        if self.dataset != "shd-like":
            for name in SHD_LIKE_FIELDS:
                values.pop(name)
        # options added with the decisive study: recorded only where set, so the record and
        # the digest of a run that leaves them at their defaults are what they were before
        for name, default in STUDY_FIELD_DEFAULTS.items():
            if values[name] == default:
                values.pop(name)
        return values

    def learning_rate_at(self, epoch):
        """The learning rate of training epoch ``epoch`` (1 .. ``epochs``) by ``lr_schedule``."""
        if self.lr_schedule == "constant":
            return self.learning_rate
        return self.learning_rate * 0.5 * (1.0 + math.cos(math.pi * (epoch - 1) / self.epochs))

    def dataset_options(self):
        """Keyword arguments of the generator of a generated data set (randman:
        :func:`ei_brian.datasets.randman.load_randman`; shd-like:
        :func:`ei_brian.datasets.shd_like.load_shd_like`); empty for the others."""
        if self.dataset == "shd-like":
            return {"samples": self.shd_like_samples, "speakers": self.shd_like_speakers,
                    "difficulty": self.shd_like_difficulty, "data_seed": self.shd_like_seed}
        return self.randman_options()

    def randman_options(self):
        """Keyword arguments of :func:`ei_brian.datasets.randman.load_randman` (empty for other
        data sets)."""
        if self.dataset != "randman":
            return {}
        return {"classes": self.randman_classes, "channels": self.randman_channels,
                "samples": self.randman_samples, "dim": self.randman_dim,
                "alpha": self.randman_alpha, "data_seed": self.randman_seed}

    def __post_init__(self):
        self._check_dataset()
        for name in ("init", "batch_size", "learning_rate"):  # the data set's defaults
            if getattr(self, name) is None:
                object.__setattr__(self, name, dataset_default(self.dataset, name))
        # optional quantities: None, or a quantity (a string such as "5.0 Hz" from to_dict)
        for name, unit in (("target_rate_inh", Hz), ("input_rate", Hz)):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, _decode(value, unit))
        for name, unit, words in (("target_rate_exc", Hz, "a rate such as 5*Hz"),
                                  ("target_rate_inh", Hz, "a rate such as 5*Hz, or None"),
                                  ("input_rate", Hz, "a rate such as 5*Hz, or None"),
                                  ("input_jitter", second, "a time such as 2*ms")):
            value = getattr(self, name)
            if value is None and name in ("target_rate_inh", "input_rate"):
                continue
            if not isinstance(value, Quantity) or not value.has_same_dimensions(unit) \
                    or not value >= 0:
                raise ConfigError(f"{name} must be {words}, not {value!r}")
        for name in ("epochs", "batch_size", "n_probe", "target_rate_samples"):
            value = getattr(self, name)
            if int(value) != value or value < 1:
                raise ConfigError(f"{name} must be a positive integer, not {value!r}")
        for name in ("train_samples", "test_samples"):
            value = getattr(self, name)
            if value is not None and (int(value) != value or value < 1):
                raise ConfigError(f"{name} must be a positive integer or None, not {value!r}")
        if isinstance(self.validation_samples, bool) or int(self.validation_samples) != \
                self.validation_samples or self.validation_samples < 0:
            raise ConfigError("validation_samples must be a whole number >= 0, not "
                              f"{self.validation_samples!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ConfigError(f"lr_schedule {self.lr_schedule!r} is unknown; use "
                              f"{' or '.join(LR_SCHEDULES)}")
        if self.encoding not in ("latency", "poisson", "spikes"):
            raise ConfigError(f"encoding {self.encoding!r} is unknown; use latency or poisson")
        if self.optimizer not in ("adam", "smorms3"):
            raise ConfigError(f"optimizer {self.optimizer!r} is unknown; use adam or smorms3")
        if not self.learning_rate > 0:
            raise ConfigError(f"the learning rate (--lr) must be above 0, not {self.learning_rate!r}; "
                              f"the default is {dataset_default(self.dataset, 'learning_rate')}")
        if min(self.init_scale_exc, self.init_scale_inh, self.init_scale_readout) < 0:
            raise ConfigError("initial weight scales must be >= 0")
        schemes = ("scale", "fluctuation", "target-rate")
        if self.init not in schemes:
            raise ConfigError(f"init {self.init!r} is unknown; use {', '.join(schemes)}")
        distributions = ("half-normal", "exponential", "log-normal")
        if self.init_distribution not in distributions:
            raise ConfigError(f"init_distribution {self.init_distribution!r} is unknown; use "
                              f"{', '.join(distributions)}")
        for name in ("target_rate_exc", "target_rate_inh", "input_rate"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ConfigError(f"{name} must be above 0 Hz")
        if not self.sigma_u > 0:
            raise ConfigError("sigma_u must be > 0")
        if not 0 < self.fluctuation_share <= 1:
            raise ConfigError("fluctuation_share must lie in (0, 1]")
        if not self.update_noise >= 0:
            raise ConfigError("update_noise must be >= 0")
        if self.update_noise_kind not in ("relative", "absolute"):
            raise ConfigError(f"update_noise_kind {self.update_noise_kind!r} is unknown; use "
                              "relative or absolute")
        for name in ("input_deletion", "input_insertion"):
            if not 0 <= getattr(self, name) <= 1:
                raise ConfigError(f"{name} must be a probability in [0, 1]")
        if self.regularizer_strength < 0:
            raise ConfigError("regularizer_strength must be >= 0")

    def _check_dataset(self):
        """The data set is known, its encoding fits it, randman options go with randman."""
        if self.dataset not in DATASET_NAMES:
            raise ConfigError(f"dataset {self.dataset!r} is unknown; use "
                              f"{', '.join(DATASET_NAMES)}")
        spiking = self.dataset in SPIKE_DATASET_NAMES
        if spiking and self.encoding == "latency":  # the default: spikes need no encoding
            object.__setattr__(self, "encoding", "spikes")
        if spiking and self.encoding != "spikes":
            raise ConfigError(f"{self.dataset} is spikes already: the encoding {self.encoding!r} "
                              "does not apply (leave --encoding out)")
        if not spiking and self.encoding == "spikes":
            raise ConfigError(f"{self.dataset} holds images: use the encoding latency or poisson")
        for generated, fields, defaults in (("randman", RANDMAN_FIELDS, _RANDMAN_FIELD_DEFAULTS),
                                            ("shd-like", SHD_LIKE_FIELDS,
                                             _SHD_LIKE_FIELD_DEFAULTS)):
            if self.dataset == generated:
                continue
            changed = [name for name in fields if getattr(self, name) != defaults[name]]
            if changed:
                verb = "applies" if len(changed) == 1 else "apply"
                raise ConfigError(f"{', '.join(changed)} only {verb} to the data set {generated}; "
                                  f"the data set is {self.dataset}")
        if self.dataset == "shd-like":
            for name in ("shd_like_speakers", "shd_like_seed"):
                value = getattr(self, name)
                if isinstance(value, bool) or int(value) != value or value < (name == "shd_like_speakers"):
                    raise ConfigError(f"{name} must be a whole number >= "
                                      f"{int(name == 'shd_like_speakers')}, not {value!r}")
            if int(self.shd_like_samples) != self.shd_like_samples or self.shd_like_samples < 2:
                raise ConfigError("shd_like_samples (per word) must be an integer >= 2: a sixth "
                                  "of them, at least one, form the test set")
            if not 0 <= self.shd_like_difficulty <= 1:
                raise ConfigError("shd_like_difficulty must lie in [0, 1] (0: the words as "
                                  "drawn, 1: one word for every class)")
            return
        if self.dataset != "randman":
            return
        for name in ("randman_classes", "randman_channels", "randman_dim"):
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) != value or value < 1:
                raise ConfigError(f"{name} must be a positive integer, not {value!r}")
        if self.randman_classes < 2:
            raise ConfigError("randman_classes must be at least 2")
        if int(self.randman_samples) != self.randman_samples or self.randman_samples < 2:
            raise ConfigError("randman_samples (per class) must be an integer >= 2: a sixth of "
                              "them, at least one, form the test set")
        if not self.randman_alpha > 0:
            raise ConfigError("randman_alpha (the smoothness) must be > 0")
        if int(self.randman_seed) != self.randman_seed or self.randman_seed < 0:
            raise ConfigError("randman_seed must be a non-negative integer")
