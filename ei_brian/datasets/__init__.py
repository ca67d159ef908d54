"""The data sets, from the ground floor up: nothing here imports a module of ``ei_brian`` outside
``ei_brian.datasets`` but the light :mod:`ei_brian.streams` and :mod:`ei_brian.encoding`
(``tests/test_imports.py`` keeps it so).

:mod:`ei_brian.datasets.registry` names the data sets and holds their sizes, time grids and
defaults (the configuration reads it); :mod:`ei_brian.datasets.errors`,
:mod:`ei_brian.datasets.folders`, :mod:`ei_brian.datasets.download` and
:mod:`ei_brian.datasets.dataset` are the helpers the data sets share. The data sets themselves:
:mod:`ei_brian.datasets.fashion_mnist` (images), :mod:`ei_brian.datasets.shd` (the Spiking
Heidelberg Digits), :mod:`ei_brian.datasets.randman` and :mod:`ei_brian.datasets.shd_like`
(generated tasks). :func:`ei_brian.data.load_dataset`, above them, loads any of them by name.
"""
