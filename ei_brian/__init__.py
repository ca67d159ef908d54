"""ei_brian: Dale's-law excitatory/inhibitory spiking networks in Brian2, trained with surrogate
gradients, analysed with Neo and Elephant."""
__version__ = "0.2.0"

import warnings as _warnings


def _quiet_brian2_warnings():
    """Brian2 2.9 calls pyparsing methods that pyparsing 3.3 deprecates; the warnings are about
    Brian2's code, not the user's, and would fill every log. Called again where other libraries
    put filters in front (Elephant's ``spade`` module shows every ``UserWarning`` once, and
    pyparsing's warnings are ``UserWarning``s too)."""
    _warnings.filterwarnings("ignore", category=DeprecationWarning,
                             module=r"(brian2|pyparsing)(\.|$)")


_quiet_brian2_warnings()


def __getattr__(name):
    # ``ei_brian.load_run`` and ``ei_brian.TrainedRun`` without importing Brian2 for every
    # ``import ei_brian`` (the command line stays quick)
    if name in ("load_run", "TrainedRun"):
        from ei_brian import trained
        return getattr(trained, name)
    raise AttributeError(f"module 'ei_brian' has no attribute {name!r}")
