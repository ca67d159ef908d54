"""A data set held in memory (:class:`Dataset`), its reproducible class-balanced subsets, and the
:class:`Dataset` of a spike data set (:func:`spike_dataset`, which :mod:`ei_brian.datasets.shd`,
:mod:`ei_brian.datasets.randman` and :mod:`ei_brian.datasets.shd_like` build theirs with)."""
import dataclasses

import numpy as np

from ei_brian import streams
from ei_brian.datasets.errors import SampleCountError
from ei_brian.datasets.registry import FASHION_MNIST, FASHION_MNIST_CLASSES, IMAGE_SIZE, N_CLASSES


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A classification data set held in memory: images (Fashion-MNIST) or spikes (SHD, randman).

    Attributes
    ----------
    x_train, x_test : numpy.ndarray of float64, shape (n_samples, n_channels), or SpikeSamples
        Image data sets: flattened images, pixel values scaled to [0, 1], which the training
        encodes into spikes. Spike data sets: :class:`ei_brian.encoding.SpikeSamples`, already
        on the time grid of ``dt`` and ``n_steps`` (indexing one gives the samples' events, its
        ``to_input()`` the spikes of a minibatch).
    y_train, y_test : numpy.ndarray of int64, shape (n_samples,)
        Class labels, 0 .. n_classes - 1.
    train_indices, test_indices : numpy.ndarray of int64, shape (n_samples,)
        Position of each sample in the original file, so that a subset is traceable.
    n_classes : int
        Number of classes.
    n_channels : int
        Number of input channels (pixels).
    name : str
        Name of the data set.
    source : str
        Folder the files were read from.
    class_names : tuple of str
        Name of each class, indexed by label.
    n_steps : int or None
        Spike data sets: time steps per sample; None for images (the encoding decides).
    dt : float or None
        Spike data sets: length of a time step in seconds; None for images.
    capacity_counts : numpy.ndarray of int64 or None
        Spike data sets: the spike count of every sample of the whole data set (training and test
        samples before any subset is drawn), from which a compiled run's input-spike capacity is
        computed so that it does not depend on the run's seed (:meth:`spike_capacity`).
    extra : dict
        Further per-sample information, subset like the samples: for SHD ``train_speaker`` and
        ``test_speaker``; for randman nothing.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    train_indices: np.ndarray
    test_indices: np.ndarray
    n_classes: int = N_CLASSES
    n_channels: int = IMAGE_SIZE * IMAGE_SIZE
    name: str = FASHION_MNIST
    source: str = ""
    class_names: tuple = FASHION_MNIST_CLASSES
    n_steps: int = None
    dt: float = None
    capacity_counts: np.ndarray = None
    extra: dict = dataclasses.field(default_factory=dict)

    @property
    def spiking(self):
        """Whether the samples are spikes (SHD, randman) rather than images."""
        return self.n_steps is not None

    def spike_capacity(self, batch_size):
        """Input-spike slots a compiled run of ``batch_size`` samples needs for any minibatch of
        this data set: the sum of the ``batch_size`` largest spike counts of the whole data set
        (None for images)."""
        if self.capacity_counts is None:
            return None
        counts = np.sort(np.asarray(self.capacity_counts))[::-1]
        return max(1, int(counts[:int(batch_size)].sum()))

    @property
    def n_train(self):
        """Number of training samples."""
        return len(self.y_train)

    @property
    def n_test(self):
        """Number of test samples."""
        return len(self.y_test)



def _check_n_samples(n_samples, argument, n_available, path):
    if n_samples is None:
        return None
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)):
        raise ValueError(f"{argument} must be a positive integer or None, got {n_samples!r}")
    n_samples = int(n_samples)
    if n_samples <= 0:
        raise ValueError(f"{argument} must be a positive integer or None, got {n_samples}")
    if n_samples > n_available:
        option = "--" + argument.replace("_", "-")
        raise SampleCountError(f"{argument}={n_samples} ({option}) is more than the {n_available} "
                               f"samples in {path}; use at most {n_available}, or all of them "
                               "(None; --full on the command line)")
    return n_samples



def _check_seed(seed):
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or a numpy.random.SeedSequence, "
                         f"got {seed!r}")
    return np.random.SeedSequence(int(seed))



def balanced_subset(labels, n_samples, rng, n_classes=N_CLASSES):
    """Draw a class-balanced random subset of sample positions.

    Each class gets ``n_samples // n_classes`` samples; the remaining ``n_samples % n_classes``
    go one each to the first classes of a random permutation of the classes. Within a class the
    samples are drawn without replacement, and the result is shuffled.

    Parameters
    ----------
    labels : numpy.ndarray of int, shape (n_available,)
        Label of every available sample.
    n_samples : int
        Size of the subset, 1 .. n_available.
    rng : numpy.random.Generator
        Source of randomness.
    n_classes : int, optional
        Number of classes; labels are 0 .. n_classes - 1.

    Returns
    -------
    numpy.ndarray of int64, shape (n_samples,)
        Positions into ``labels``, in random order.

    Raises
    ------
    ValueError
        If a class has fewer samples than its share.
    """
    labels = np.asarray(labels)
    per_class = np.full(n_classes, n_samples // n_classes, dtype=np.int64)
    per_class[rng.permutation(n_classes)[: n_samples % n_classes]] += 1
    available = np.bincount(labels, minlength=n_classes)
    short = np.flatnonzero(available < per_class)
    if short.size:
        details = ", ".join(f"class {c}: {available[c]} < {per_class[c]}" for c in short)
        raise ValueError(f"cannot draw a class-balanced subset of {n_samples} samples: too few "
                         f"samples in {details}; ask for fewer samples")
    chosen = [rng.choice(np.flatnonzero(labels == c), size=per_class[c], replace=False)
              for c in range(n_classes)]
    return rng.permutation(np.concatenate(chosen).astype(np.int64))



def subset_seeds(seed):
    """Seeds of the training and the test subset: the run's ``train-subset`` and ``test-subset``
    streams for an int, two spawned children for a SeedSequence (as
    :func:`~ei_brian.datasets.fashion_mnist.load_fashion_mnist`)."""
    seed_sequence = _check_seed(seed)
    if isinstance(seed, np.random.SeedSequence):
        return tuple(seed_sequence.spawn(2))
    return streams.stream(seed, "train-subset"), streams.stream(seed, "test-subset")



def spike_dataset(samples, labels, train_samples, test_samples, seed, **fields):
    """A :class:`Dataset` of spike samples, with class-balanced subsets as for Fashion-MNIST.

    Parameters
    ----------
    samples : dict
        ``{"train": SpikeSamples, "test": SpikeSamples}``, the whole data set.
    labels : dict
        ``{"train": int array, "test": int array}``.
    train_samples, test_samples : int or None
        Subset sizes (None: all, in file order), drawn with :func:`balanced_subset` from the
        run's ``train-subset`` and ``test-subset`` streams.
    seed : int or numpy.random.SeedSequence
    **fields
        ``n_classes``, ``n_channels``, ``name``, ``source``, ``class_names`` and ``extra``
        (``{"train_<key>": array, "test_<key>": array}``, subset like the samples).
    """
    n_classes = int(fields["n_classes"])
    sizes = {}
    for split, requested in (("train", train_samples), ("test", test_samples)):
        sizes[split] = _check_n_samples(requested, f"{split}_samples", len(labels[split]),
                                        f"the {split} set of {fields['name']}")
    seeds = dict(zip(("train", "test"), subset_seeds(seed)))
    chosen = {}
    for split in ("train", "test"):
        n_available = len(labels[split])
        if sizes[split] is None or sizes[split] == n_available:
            chosen[split] = np.arange(n_available, dtype=np.int64)
        else:
            chosen[split] = balanced_subset(labels[split], sizes[split],
                                            np.random.default_rng(seeds[split]), n_classes)
    extra = {key: np.asarray(value)[chosen[key.split("_")[0]]]
             for key, value in fields.pop("extra", {}).items()}
    counts = np.concatenate([samples["train"].counts(), samples["test"].counts()])
    return Dataset(
        x_train=samples["train"][chosen["train"]],
        y_train=np.asarray(labels["train"], dtype=np.int64)[chosen["train"]],
        x_test=samples["test"][chosen["test"]],
        y_test=np.asarray(labels["test"], dtype=np.int64)[chosen["test"]],
        train_indices=chosen["train"], test_indices=chosen["test"],
        n_steps=samples["train"].n_steps, dt=samples["train"].dt, capacity_counts=counts,
        extra=extra, **fields)
