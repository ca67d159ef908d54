"""The folder of the compiled networks and kernels: ``$EI_BRIAN_CACHE`` or ``.cache/brian2``.

A module of its own (it imports nothing of ``ei_brian``), so that :mod:`ei_brian.kernels` can find
the folder without importing :mod:`ei_brian.runner` and Brian2.
"""
import os

__all__ = ["DEFAULT_CACHE", "cache_root"]

#: where compiled projects are kept (override with $EI_BRIAN_CACHE)
DEFAULT_CACHE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".cache",
                             "brian2")


def cache_root():
    return os.environ.get("EI_BRIAN_CACHE", DEFAULT_CACHE)
