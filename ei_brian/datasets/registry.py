"""The registry of the data sets: their names, sizes, time grids and defaults.

The one definition of the data sets :func:`ei_brian.data.load_dataset`, the configuration
(:mod:`ei_brian.config`) and the command line know, and of what is known of each without loading
it. This module imports nothing of ``ei_brian``, so that anything may read it.
"""

#: Name of Fashion-MNIST (images, :mod:`ei_brian.datasets.fashion_mnist`).
FASHION_MNIST = "fashion-mnist"
#: Name of the Spiking Heidelberg Digits (:mod:`ei_brian.datasets.shd`).
SHD = "shd"
#: Name of the random-manifold task (:mod:`ei_brian.datasets.randman`).
RANDMAN = "randman"
#: Name of the SHD-like generated task (:mod:`ei_brian.datasets.shd_like`).
SHD_LIKE = "shd-like"

#: The data sets, in the order the command line lists them.
DATASET_NAMES = (FASHION_MNIST, SHD, RANDMAN, SHD_LIKE)
#: Data sets whose samples are spikes (no encoding; the network's time grid bins them).
SPIKE_DATASETS = (SHD, RANDMAN, SHD_LIKE)

#: Side of a Fashion-MNIST image, in pixels.
IMAGE_SIZE = 28
#: Classes of Fashion-MNIST.
N_CLASSES = 10
#: Class names of Fashion-MNIST, indexed by label.
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

#: Channels and classes of SHD.
SHD_N_CHANNELS = 700
SHD_N_CLASSES = 20

#: Defaults of the random-manifold task (:func:`ei_brian.datasets.randman.load_randman`,
#: ``TrainConfig.randman_*``, ``--randman-*``).
RANDMAN_DEFAULTS = {"classes": 20, "channels": 700, "samples": 600, "dim": 1, "alpha": 2.0,
                    "data_seed": 0}

#: Defaults of the SHD-like task (``TrainConfig.shd_like_*``, ``--shd-like-*``).
SHD_LIKE_DEFAULTS = {"classes": 20, "channels": 700, "samples": 500, "speakers": 12,
                     "difficulty": 0.95, "data_seed": 0}

#: Default time grid of each data set: (time step, duration of a sample), in ms. Fashion-MNIST:
#: the latency code of docs/model.md; SHD: 2 ms bins over the first 700 ms (the samples last up to
#: about 1 s; most of a spoken digit lies within 700 ms); randman: SHD's 2 ms steps, 100 ms with
#: the spikes in the first 50 ms (:data:`ei_brian.datasets.randman.WINDOW`); SHD-like: 2 ms over
#: 1 s, the longest sample (:data:`ei_brian.datasets.shd_like.DURATION_RANGE`).
DEFAULT_TIME_GRID_MS = {FASHION_MNIST: (1.0, 100.0), SHD: (2.0, 700.0), RANDMAN: (2.0, 100.0),
                        SHD_LIKE: (2.0, 1000.0)}

#: The training recipe of the spike data sets (docs/model.md, "Spike data"): the
#: fluctuation-driven initialization sets the weights from the input's spike rate (the image
#: defaults leave a network silent on long, sparse samples), and smaller minibatches at a larger
#: step give the few hundred samples of a small spike data set enough updates.
SPIKE_RECIPE = {"init": "fluctuation", "batch_size": 64, "learning_rate": 0.01}
#: Defaults of ``init``, ``batch_size`` and ``learning_rate`` by data set (TrainConfig fills them
#: in where they are left at None).
DATASET_DEFAULTS = {
    FASHION_MNIST: {"init": "scale", "batch_size": 256, "learning_rate": 5e-3},
    SHD: SPIKE_RECIPE, RANDMAN: SPIKE_RECIPE, SHD_LIKE: SPIKE_RECIPE,
}


def dataset_size(name, randman_classes=None, randman_channels=None):
    """``(n_channels, n_classes)`` of a data set, known without reading it.

    Parameters
    ----------
    name : str
        One of :data:`DATASET_NAMES`.
    randman_classes, randman_channels : int
        The generator's options (randman only).
    """
    if name == FASHION_MNIST:
        return IMAGE_SIZE * IMAGE_SIZE, N_CLASSES
    if name == SHD:
        return SHD_N_CHANNELS, SHD_N_CLASSES
    if name == RANDMAN:
        return int(randman_channels), int(randman_classes)
    if name == SHD_LIKE:
        return SHD_LIKE_DEFAULTS["channels"], SHD_LIKE_DEFAULTS["classes"]
    raise ValueError(f"unknown data set {name!r}; known data sets: "
                     f"{', '.join(sorted(DATASET_NAMES))}")
