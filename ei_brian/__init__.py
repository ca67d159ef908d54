"""ei_brian: Dale's-law excitatory/inhibitory spiking networks in Brian2, trained with surrogate
gradients, analysed with Neo and Elephant."""
from ei_brian._version import __version__  # noqa: F401 (ei_brian.__version__)
from ei_brian.brian2_warnings import quiet_brian2_warnings as _quiet_brian2_warnings

_quiet_brian2_warnings()


def __getattr__(name):
    # ``ei_brian.load_run``, ``ei_brian.TrainedRun`` and ``ei_brian.NeuronModel`` without
    # importing Brian2 for every ``import ei_brian`` (the command line stays quick)
    if name in ("load_run", "TrainedRun"):
        from ei_brian import trained  # Brian2 through config (0.9 s)
        return getattr(trained, name)
    if name in ("NeuronModel", "load_model"):
        from ei_brian import neuron_model  # Brian2's units through config (0.9 s)
        return getattr(neuron_model, name)
    raise AttributeError(f"module 'ei_brian' has no attribute {name!r}")
