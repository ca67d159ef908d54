"""The ground floor of the data sets: what every other module may know of them without loading any.

:mod:`ei_brian.datasets.registry` names the data sets and holds their sizes, time grids and
defaults (the configuration reads it); :mod:`ei_brian.datasets.errors`,
:mod:`ei_brian.datasets.folders`, :mod:`ei_brian.datasets.download` and
:mod:`ei_brian.datasets.dataset` are the helpers the data set modules (:mod:`ei_brian.data`,
:mod:`ei_brian.shd`, :mod:`ei_brian.randman`, :mod:`ei_brian.shd_like`) share. None of them imports
a module of ``ei_brian`` above it.
"""
