"""The errors of the data sets (:mod:`ei_brian.datasets.fashion_mnist`,
:mod:`ei_brian.datasets.shd` and the generated tasks share them)."""


class DatasetError(RuntimeError):
    """A data set file is missing or unusable (corrupt, truncated, wrong checksum)."""


class SampleCountError(DatasetError, ValueError):
    """More samples were asked for than the data set holds."""
