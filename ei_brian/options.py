"""The training options: the one definition of the options of a training run, used by the
command line (``ei-brian train``), by sweep specs (:mod:`ei_brian.sweep`, whose keys are these
options' names) and by ``ei-brian config``.

:func:`add_train_arguments` adds the options to an :class:`argparse.ArgumentParser`;
:func:`configs_from_args` turns the parsed options into a run's
:class:`~ei_brian.config.NetworkConfig` and :class:`~ei_brian.config.TrainConfig`, so a sweep key
means exactly what the option means. :data:`OPTION_FIELDS` and :data:`RUN_OPTIONS` say which
configuration field each option sets, and which options are no part of the configuration.
"""
from brian2 import Hz, ms

from ei_brian import initialization, noise
from ei_brian.config import LR_SCHEDULES, ConfigError, NetworkConfig, TrainConfig, dataset_default
from ei_brian.datasets.registry import DATASET_NAMES, SPIKE_DATASETS
from ei_brian.neuron_model import check_network_options, model_spec
from ei_brian.outcome import SATURATED_EVALUATIONS, SATURATED_HZ, SATURATED_SHARE
from ei_brian.training import FULL_SCALE

__all__ = ["add_train_arguments", "configs_from_args", "OPTION_FIELDS", "RUN_OPTIONS"]

#: the options whose name is not that of the configuration field they set; every other option
#: of the configurations is its field's name (``--batch-size`` sets ``TrainConfig.batch_size``,
#: ``--ratio`` ``NetworkConfig.ratio``). The command line's documentation page shows this table.
OPTION_FIELDS = {
    "--hidden": "NetworkConfig.n_hidden",
    "--duration": "NetworkConfig.n_steps (the duration over --dt)",
    "--lr": "TrainConfig.learning_rate",
    "--target-rate": "TrainConfig.target_rate_exc",
    "--regularizer": "TrainConfig.regularizer_strength",
    "--init-scale": "TrainConfig.init_scale_exc and TrainConfig.init_scale_inh",
    "--full": "TrainConfig.train_samples, test_samples and epochs (the paper's scale)",
    "--neuron-model": "NetworkConfig.neuron_model (a built-in's name, or a model file's text)",
}
#: options of ``ei-brian train`` that are not part of the configuration a run records
RUN_OPTIONS = ("--data-dir", "--out", "--resume", "--quiet", "--threads")



def add_train_arguments(parser):
    net_config, train_config = NetworkConfig(), TrainConfig()  # the defaults of the options
    parser.add_argument("--dataset", default=train_config.dataset,
                        choices=list(DATASET_NAMES),
                        help="fashion-mnist: images, latency- or Poisson-coded; shd: the Spiking "
                        "Heidelberg Digits (700 channels, 20 classes; `ei-brian data fetch shd`); "
                        "randman: random manifolds of spike times, generated (Zenke & Vogels "
                        "2021); shd-like: long, sparse samples of SHD's shape, generated (the offline "
                        "stand-in for SHD) (default %(default)s)")
    parser.add_argument("--data-dir", default=None, help="folder with the data set files "
                        "(default: $EI_BRIAN_DATA, data/<dataset>/, then for fashion-mnist "
                        "/usr/share/datasets)")
    parser.add_argument("--dt", type=float, default=None, metavar="MS",
                        help="time step in ms (default: fashion-mnist 1, shd 2, randman 2, shd-like 2); spike "
                        "data are binned on it, several spikes of a channel in a step count once")
    parser.add_argument("--duration", type=float, default=None, metavar="MS",
                        help="duration of a sample in ms, a whole number of steps (default: "
                        "fashion-mnist 100, shd 700 (later spikes are dropped), randman 100, shd-like "
                        "1000)")
    randman = parser.add_argument_group("random manifolds (--dataset randman; the task is fixed "
                                        "by its own seed, the same for every --seed)")
    randman.add_argument("--randman-classes", type=int, default=None, metavar="N",
                         help=f"classes (default {train_config.randman_classes})")
    randman.add_argument("--randman-channels", type=int, default=None, metavar="N",
                         help="input channels, one spike each per sample (default "
                         f"{train_config.randman_channels})")
    randman.add_argument("--randman-samples", type=int, default=None, metavar="N",
                         help=f"samples per class, a sixth of them for testing (default "
                         f"{train_config.randman_samples})")
    randman.add_argument("--randman-dim", type=int, default=None, metavar="D",
                         help=f"manifold dimension (default {train_config.randman_dim}; 2 and 3 "
                         "trained faster here)")
    randman.add_argument("--randman-alpha", type=float, default=None, metavar="ALPHA",
                         help="smoothness: lower is rougher (default "
                         f"{train_config.randman_alpha:g})")
    randman.add_argument("--randman-seed", type=int, default=None, metavar="SEED",
                         help=f"seed of the task (default {train_config.randman_seed})")
    like = parser.add_argument_group("the SHD-like task (--dataset shd-like; fixed by its own seed)")
    like.add_argument("--shd-like-samples", type=int, default=None, metavar="N",
                      help=f"samples per word, a sixth of them for testing (default "
                      f"{train_config.shd_like_samples})")
    like.add_argument("--shd-like-speakers", type=int, default=None, metavar="N",
                      help=f"speakers (default {train_config.shd_like_speakers})")
    like.add_argument("--shd-like-difficulty", type=float, default=None, metavar="D",
                      help="0 to 1: how far every word is blended towards one shared word "
                      f"(default {train_config.shd_like_difficulty:g})")
    like.add_argument("--shd-like-seed", type=int, default=None, metavar="SEED",
                      help=f"seed of the task (default {train_config.shd_like_seed})")
    parser.add_argument("--ratio", default=net_config.ratio, help="E:I ratio of the hidden layer, "
                        "100:0 to 10:90 (default %(default)s)")
    parser.add_argument("--hidden", type=int, default=net_config.n_hidden, help="hidden neurons, "
                        "total (default %(default)s)")
    parser.add_argument("--unbounded", action="store_true",
                        help="the sign-free baseline: one population, weights free in sign")
    parser.add_argument("--neuron-model", default=net_config.neuron_model,
                        metavar="lif|alif|qif|FILE.toml",
                        help="the hidden neurons' model: a built-in (lif: leaky integrate-and-fire, "
                        "alif: with an adaptive threshold, qif: quadratic integrate-and-fire) or a "
                        "model file of Brian2 equations, trained by gradients derived from them "
                        "(default %(default)s; --tau-spread-*, --inh-tau-factor and "
                        "--membrane-noise belong to lif)")
    parser.add_argument("--tau-spread-exc", type=float, default=net_config.tau_spread_exc,
                        help="log-normal spread of E neurons' time constants, per neuron "
                        "(default %(default)s: none)")
    parser.add_argument("--tau-spread-inh", type=float, default=net_config.tau_spread_inh,
                        help="log-normal spread of I neurons' time constants (default %(default)s)")
    parser.add_argument("--inh-tau-factor", type=float, default=net_config.inh_tau_factor,
                        help="mean time constants of I neurons relative to E neurons "
                        "(default %(default)s)")
    parser.add_argument("--membrane-noise", type=float, default=net_config.membrane_noise,
                        help="white membrane noise, as the potential std of an isolated neuron "
                        "(default %(default)s: none)")
    parser.add_argument("--connectivity", type=float, default=net_config.connectivity,
                        metavar="P", help="connection probability of the recurrent projections "
                        "(E->E, E->I, I->E, I->I): each hidden neuron gets round(P * n) synapses "
                        "from each population, drawn from the seed (default %(default)s: all to "
                        "all)")
    parser.add_argument("--input-connectivity", type=float,
                        default=net_config.input_connectivity, metavar="P",
                        help="the same for the input projections (default %(default)s)")
    parser.add_argument("--epochs", type=int, default=None,
                        help=f"default {train_config.epochs} (quick), {FULL_SCALE['epochs']} with "
                        "--full")
    parser.add_argument("--batch-size", type=int, default=None,
                        help=f"samples per minibatch (default {train_config.batch_size} for "
                        f"fashion-mnist, {dataset_default('shd', 'batch_size')} for the spike data "
                        "sets)")
    parser.add_argument("--train-samples", type=int, default=None,
                        help="class-balanced training subset (default "
                        f"{train_config.train_samples} for fashion-mnist, all for shd and randman; "
                        "all with --full)")
    parser.add_argument("--test-samples", type=int, default=None,
                        help=f"class-balanced test subset (default {train_config.test_samples} "
                        "for fashion-mnist, all for shd and randman; all with --full)")
    parser.add_argument("--full", action="store_true",
                        help="the paper's scale: all 60,000/10,000 samples, 30 epochs")
    parser.add_argument("--validation-samples", type=int, default=train_config.validation_samples,
                        metavar="N", help="class-balanced training samples held out (beside "
                        "--train-samples) to choose the epoch: their accuracy is measured after "
                        "every epoch (default %(default)s: none)")
    parser.add_argument("--optimizer", default=train_config.optimizer, choices=["adam", "smorms3"])
    parser.add_argument("--lr", type=float, default=None,
                        help=f"learning rate (default {train_config.learning_rate} for "
                        f"fashion-mnist, {dataset_default('shd', 'learning_rate')} for the spike "
                        "data sets)")
    parser.add_argument("--lr-schedule", default=train_config.lr_schedule,
                        choices=list(LR_SCHEDULES), help="constant, or cosine: from --lr in the "
                        "first epoch down to nearly 0 in the last (default %(default)s)")
    parser.add_argument("--stop-saturated", action="store_true",
                        help=f"stop a run whose E rate stays above {SATURATED_HZ:g} Hz (at dt 1 ms; "
                        f"{SATURATED_SHARE:g} spike per step at any dt) for "
                        f"{SATURATED_EVALUATIONS} evaluations in a row (recorded as saturated)")
    parser.add_argument("--encoding", default=None, choices=["latency", "poisson"],
                        help=f"spike code of images (default {train_config.encoding}); not for "
                        "shd and randman, which are spikes")
    init = parser.add_argument_group("initialization (sets the initial firing rate)")
    init.add_argument("--init", default=None, choices=list(initialization.SCHEMES),
                      help="scale: magnitudes of root mean square g/sqrt(fan_in); fluctuation: "
                      "fluctuation-driven (Rossbroich et al. 2022) for a target membrane-potential "
                      "spread; target-rate: the scale weights with excitatory and inhibitory gains "
                      "searched until the initial E and I rates hit a target (default: scale for "
                      "fashion-mnist, fluctuation for the spike data sets, which sets the weights "
                      "from the input's spike rate)")
    init.add_argument("--init-distribution", default=train_config.init_distribution,
                      choices=list(initialization.DISTRIBUTIONS),
                      help="distribution of the initial magnitudes, all with root mean square "
                      "g/sqrt(fan_in) (default %(default)s)")
    init.add_argument("--init-scale", type=float, default=None, metavar="G",
                      help="gain g of excitatory and inhibitory initial weights")
    init.add_argument("--init-scale-exc", type=float, default=None, metavar="G",
                      help="gain g of excitatory initial weights (default "
                      f"{train_config.init_scale_exc})")
    init.add_argument("--init-scale-inh", type=float, default=None, metavar="G",
                      help="gain g of inhibitory initial weights (default "
                      f"{train_config.init_scale_inh})")
    init.add_argument("--init-scale-readout", type=float, default=train_config.init_scale_readout,
                      metavar="G", help="gain g of the E-to-readout initial weights "
                      "(default %(default)s)")
    init.add_argument("--target-rate", type=float, default=None, metavar="HZ",
                      help="target-rate: initial mean rate of the E population "
                      f"(default {float(train_config.target_rate_exc / Hz):g} Hz)")
    init.add_argument("--target-rate-inh", type=float, default=None, metavar="HZ",
                      help="target-rate: initial mean rate of the I population (default: the E "
                      "target)")
    init.add_argument("--sigma-u", type=float, default=None,
                      help=f"fluctuation: target std of the free membrane potential in units of "
                      f"the threshold (default {train_config.sigma_u})")
    init.add_argument("--fluctuation-share", type=float, default=None, metavar="ALPHA",
                      help="fluctuation: share of the excitatory membrane-potential variance from "
                      f"the input (default {train_config.fluctuation_share})")
    init.add_argument("--input-rate", type=float, default=None, metavar="HZ",
                      help="fluctuation: mean rate of an input channel (default: estimated from "
                      "the encoded training data)")
    noisy = parser.add_argument_group("noise during training")
    noisy.add_argument("--update-noise", type=float, default=train_config.update_noise,
                       metavar="ETA",
                       help="Gaussian noise on every weight update, before the Dale's-law "
                       "projection (default %(default)s: none)")
    noisy.add_argument("--update-noise-kind", default=train_config.update_noise_kind,
                       choices=list(noise.UPDATE_NOISE_KINDS),
                       help="relative: std ETA * |update|; absolute: std ETA (default %(default)s)")
    noisy.add_argument("--input-jitter", type=float, default=float(train_config.input_jitter / ms),
                       metavar="MS", help="std of Gaussian input spike-time jitter in ms, training "
                       "minibatches (default %(default)s)")
    noisy.add_argument("--input-deletion", type=float, default=train_config.input_deletion,
                       metavar="P",
                       help="probability that an input spike is deleted (default %(default)s)")
    noisy.add_argument("--input-insertion", type=float, default=train_config.input_insertion,
                       metavar="P",
                       help="probability that an empty input (sample, step, channel) gets a spike "
                       "(default %(default)s)")
    noisy.add_argument("--input-noise-at-test", action="store_true",
                       help="also apply the input noise when evaluating (fixed per minibatch)")
    parser.add_argument("--regularizer", type=float, default=train_config.regularizer_strength,
                        help="strength of the upper-bound L2 rate penalty (default 0: off)")
    parser.add_argument("--seed", type=int, default=train_config.seed)
    parser.add_argument("--out", default=None, help="output folder (default runs/<name made from "
                        "the configuration>)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its last checkpoint")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads of the gradient computation (default 2; results do not "
                        "depend on it)")


def configs_from_args(args):
    """NetworkConfig and TrainConfig from parsed ``ei-brian train`` arguments.

    The network's inputs, outputs and time grid follow the data set
    (:meth:`NetworkConfig.for_dataset`, with ``--dt`` and ``--duration``). The spike data sets
    (shd, randman) use all their samples unless ``--train-samples``/``--test-samples`` say
    otherwise, and take no ``--encoding``; ``--randman-*`` options need ``--dataset randman``.
    """
    spiking = args.dataset in SPIKE_DATASETS
    scale = dict(FULL_SCALE) if args.full else {}
    if spiking:
        scale.update(train_samples=None, test_samples=None)
    for key, value in (("epochs", args.epochs), ("train_samples", args.train_samples),
                       ("test_samples", args.test_samples)):
        if value is not None:
            scale[key] = value
    if spiking and args.encoding is not None:
        raise ConfigError(f"--encoding does not apply to {args.dataset}, whose samples are spikes "
                          "already")
    encoding_name = "spikes" if spiking else (args.encoding or TrainConfig().encoding)
    generator = {}  # the options of a generated data set, refused for any other
    for dataset, names in (("randman", ("classes", "channels", "samples", "dim", "alpha", "seed")),
                           ("shd-like", ("samples", "speakers", "difficulty", "seed"))):
        prefix = dataset.replace("-", "_") + "_"
        for name in names:
            value = getattr(args, prefix + name, None)
            if value is None:
                continue
            if args.dataset != dataset:
                raise ConfigError(f"--{dataset}-{name} applies to --dataset {dataset} only, not "
                                  f"to {args.dataset}")
            generator[prefix + name] = value
    train_config = TrainConfig(dataset=args.dataset, batch_size=args.batch_size,
                               optimizer=args.optimizer, learning_rate=args.lr,
                               encoding=encoding_name, regularizer_strength=args.regularizer,
                               seed=args.seed, **scale, **_init_options(args), **generator,
                               update_noise=args.update_noise,
                               update_noise_kind=args.update_noise_kind,
                               input_jitter=args.input_jitter * ms,
                               input_deletion=args.input_deletion,
                               input_insertion=args.input_insertion,
                               input_noise_at_test=args.input_noise_at_test,
                               validation_samples=args.validation_samples,
                               lr_schedule=args.lr_schedule, stop_saturated=args.stop_saturated)
    time_grid = {name: (None if getattr(args, name, None) is None else getattr(args, name) * ms)
                 for name in ("dt", "duration")}
    net_config = NetworkConfig.for_dataset(
        train_config, **time_grid, ratio=args.ratio, n_hidden=args.hidden,
        unbounded=args.unbounded, tau_spread_exc=args.tau_spread_exc,
        tau_spread_inh=args.tau_spread_inh, inh_tau_factor=args.inh_tau_factor,
        membrane_noise=args.membrane_noise, connectivity=args.connectivity,
        input_connectivity=args.input_connectivity,
        neuron_model=model_spec(args.neuron_model))
    check_network_options(net_config)
    if net_config.neuron_model != "lif":
        # SymPy's derivation of the model (no compilation): what it cannot differentiate is
        # refused here, before a run folder or a sweep exists
        from ei_brian.derived import derivation
        derivation(net_config.neuron_model, net_config.dt)
    if train_config.init == "target-rate":
        highest = 1.0 / float(net_config.dt)  # one spike per time step
        for name, target in (("--target-rate", train_config.target_rate_exc),
                             ("--target-rate-inh", train_config.target_rate_inh)):
            if target is not None and float(target / Hz) >= highest:
                raise ConfigError(f"{name} {float(target / Hz):g} Hz is out of reach: a neuron "
                                  f"spikes at most once per time step ({highest:g} Hz at dt = "
                                  f"{1000 * float(net_config.dt):g} ms); choose a lower target")
    return net_config, train_config


def _init_options(args):
    """TrainConfig initialization fields from the command line; an option of another scheme than
    ``--init`` is refused rather than silently ignored."""
    train_config = TrainConfig()  # the defaults
    init = args.init if args.init is not None else dataset_default(args.dataset, "init")
    belongs = {"target_rate": "target-rate", "target_rate_inh": "target-rate",
               "sigma_u": "fluctuation", "fluctuation_share": "fluctuation",
               "input_rate": "fluctuation"}
    for name, scheme in belongs.items():
        if getattr(args, name) is not None and init != scheme:
            raise ConfigError(f"--{name.replace('_', '-')} belongs to --init {scheme}, but the "
                              f"initialization is {init}")
    if init == "fluctuation":
        for name in ("init_scale", "init_scale_exc", "init_scale_inh"):
            if getattr(args, name) is not None:
                raise ConfigError(f"--{name.replace('_', '-')} does not apply to --init "
                                  "fluctuation, which derives the weight scales")
    scale_exc = scale_inh = args.init_scale
    values = {"init": init, "init_distribution": args.init_distribution,
              "init_scale_exc": _first(args.init_scale_exc, scale_exc, train_config.init_scale_exc),
              "init_scale_inh": _first(args.init_scale_inh, scale_inh, train_config.init_scale_inh),
              "init_scale_readout": args.init_scale_readout}
    if args.target_rate is not None:
        values["target_rate_exc"] = args.target_rate * Hz
    if args.target_rate_inh is not None:
        values["target_rate_inh"] = args.target_rate_inh * Hz
    if args.sigma_u is not None:
        values["sigma_u"] = args.sigma_u
    if args.fluctuation_share is not None:
        values["fluctuation_share"] = args.fluctuation_share
    if args.input_rate is not None:
        values["input_rate"] = args.input_rate * Hz
    return values


def _first(*values):
    return next(value for value in values if value is not None)
