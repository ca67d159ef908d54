"""Sparse connectivity: which synapses a network has.

With ``NetworkConfig.connectivity < 1`` (recurrent ``ee, ei, ie, ii``) or ``input_connectivity < 1``
(``xe, xi``) each hidden neuron receives a fixed number of synapses from each presynaptic
population, ``K = max(1, round(p * n_pre))``, its sources drawn at random without replacement
(self-connections allowed, as in the all-to-all network). The draw comes from the run's seed
(stream ``"structure"``), so the same configuration and seed give the same structure; a run saves
it (``structure.npz``) and ``--resume`` and :func:`ei_brian.load_run` read it back rather than
draw it again. The readout (``eo``) stays all to all.

Weights keep their dense ``(n_pre, n_post)`` arrays everywhere (files, optimizer, analysis); an
absent synapse holds 0 and is never updated. The compiled Brian2 network creates only the synapses
that exist (``Synapses.connect(i=..., j=...)``), and the gradient code multiplies with the synapse
lists (:mod:`ei_brian.sparse_gradients`).
"""
import functools
import os

import numpy as np

from ei_brian import streams
from ei_brian.io import STRUCTURE_FILE, RunFolderError, load_npz

__all__ = ["Structure", "draw_structure", "load_structure", "StructureError"]


class StructureError(ValueError):
    """A saved structure does not fit the network."""


class Block:
    """Several projections from one presynaptic population side by side, as one sparse matrix.

    ``names`` are projections whose weight arrays are stacked along the postsynaptic axis (e.g.
    ``("ee", "ei")``: all hidden neurons as targets). ``rows`` and ``columns`` list the synapses in
    row-major order (the order of ``np.nonzero`` of the stacked mask), which is the order of the
    Brian2 synapses and of the CSR data.
    """

    def __init__(self, masks, names):
        self.names = tuple(names)
        if not self.names:
            raise ValueError("a Block needs at least one projection of the network")
        self.widths = [masks[name].shape[1] for name in self.names]
        self.offsets = np.concatenate([[0], np.cumsum(self.widths)])
        self.shape = (masks[self.names[0]].shape[0], int(self.offsets[-1]))
        stacked = np.hstack([masks[name] for name in self.names])
        self.rows, self.columns = (index.astype(np.int64) for index in np.nonzero(stacked))
        self.indptr = np.zeros(self.shape[0] + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.rows, minlength=self.shape[0]), out=self.indptr[1:])
        # where each projection's synapses sit in the block, and their flat index in its array
        self._parts = []
        self._tiles = {}
        for name, start, width in zip(self.names, self.offsets[:-1], self.widths):
            where = np.flatnonzero((self.columns >= start) & (self.columns < start + width))
            self._parts.append((name, where, self.rows[where] * width + self.columns[where] - start))

    @property
    def n_synapses(self):
        return len(self.rows)

    @functools.cached_property
    def indices32(self):
        """``(indptr, columns)`` as 32-bit arrays (the CSR form the sparse kernels and Brian2 take;
        made once per structure, not per minibatch)."""
        return self.indptr.astype(np.int32), self.columns.astype(np.int32)

    def tiles(self, tile_columns):
        """The synapses cut into tiles of ``tile_columns`` consecutive columns (the layout of
        ``ei_brian.kernels``' ``tiled_product``): ``(indptr, columns, order)``, with ``indptr``
        (int64) the start of each (tile, row) segment, tile after tile, ``columns`` (int32) and
        ``order`` the block's synapses in that layout (``data[order]`` lays out block data).
        Made once per structure, not per minibatch."""
        if tile_columns in self._tiles:
            return self._tiles[tile_columns]
        tile = self.columns // tile_columns
        n_tiles = max(1, -(-self.shape[1] // tile_columns))
        order = np.lexsort((self.columns, self.rows, tile))  # tile, then row, then column
        segments = tile[order] * self.shape[0] + self.rows[order]
        indptr = np.searchsorted(segments, np.arange(n_tiles * self.shape[0] + 1))
        tiles = self._tiles[tile_columns] = (indptr.astype(np.int64),
                                             self.columns[order].astype(np.int32), order)
        return tiles

    def gather(self, weights, dtype=np.float64):
        """The weights of the existing synapses, in block order (cost: one read per synapse)."""
        data = np.empty(self.n_synapses, dtype=dtype)
        for name, where, flat in self._parts:
            data[where] = np.asarray(weights["w_" + name]).ravel()[flat]
        return data

    def scatter(self, data):
        """Dense ``w_<projection>`` arrays (zeros where there is no synapse) from block data."""
        out = {}
        for (name, where, flat), width in zip(self._parts, self.widths):
            array = np.zeros(self.shape[0] * width)
            array[flat] = data[where]
            out["w_" + name] = array.reshape(self.shape[0], width)
        return out


class Structure:
    """The synapses of a network: per projection a boolean mask ``(n_pre, n_post)``.

    Parameters
    ----------
    config : NetworkConfig
    sources : dict of str to ndarray (n_post, K)
        For each sparse projection, the presynaptic indices of each target neuron's synapses.
    """

    def __init__(self, config, sources):
        self.config = config
        self.sources = {name: np.asarray(value, dtype=np.int32) for name, value in sources.items()}
        self.masks = {}
        for name in config.projections:
            n_pre, n_post = config.projection_shape(name)
            if name not in self.sources:
                self.masks[name] = np.ones((n_pre, n_post), dtype=bool)
                continue
            index = self.sources[name]
            if (index.ndim != 2 or index.shape[0] != n_post or index.shape[1] != config.fan_in(name)
                    or (index.size and (index.min() < 0 or index.max() >= n_pre))):
                raise StructureError(
                    f"the saved structure of {name} has shape {index.shape}; the network needs "
                    f"({n_post}, {config.fan_in(name)}) presynaptic indices below {n_pre}")
            mask = np.zeros((n_pre, n_post), dtype=bool)
            mask[index, np.arange(n_post)[:, None]] = True
            if mask.sum() != index.size:
                raise StructureError(f"the saved structure of {name} repeats a synapse")
            self.masks[name] = mask
        self._blocks = {}

    def block(self, names):
        """The :class:`Block` of projections ``names`` (those the network has), cached."""
        names = tuple(name for name in names if name in self.config.projections)
        if names not in self._blocks:
            self._blocks[names] = Block(self.masks, names)
        return self._blocks[names]

    @functools.cached_property
    def entries(self):
        """``{"w_<projection>": flat indices of its synapses}`` for the sparse projections (the
        entries an optimizer step can change)."""
        return {"w_" + name: np.flatnonzero(self.masks[name]) for name in self.sources}

    @property
    def n_synapses(self):
        return {name: int(mask.sum()) for name, mask in self.masks.items()}

    def apply(self, weights):
        """Set the weights of absent synapses to 0, in place; returns ``weights``."""
        for name in self.sources:
            key = "w_" + name
            if key in weights:
                weights[key] *= self.masks[name]
        return weights

    def check_weights(self, weights):
        """Raise ValueError if an absent synapse holds a nonzero weight."""
        for name in self.sources:
            if np.any(np.asarray(weights["w_" + name])[~self.masks[name]] != 0):
                raise ValueError(f"w_{name} has nonzero weights where the structure has no synapse")

    def arrays(self):
        """What ``structure.npz`` holds: ``sources_<projection>`` arrays (n_post, K)."""
        return {"sources_" + name: value for name, value in self.sources.items()}

    @classmethod
    def from_arrays(cls, config, arrays):
        sources = {key[len("sources_"):]: arrays[key] for key in arrays
                   if key.startswith("sources_")}
        expected = {name for name in config.projections if config.fan_in(name) <
                    config.projection_shape(name)[0]}
        if set(sources) != expected:
            raise StructureError(f"the saved structure has projections {sorted(sources)}; the "
                                 f"network's sparse projections are {sorted(expected)}")
        return cls(config, sources)

    def __eq__(self, other):
        return (isinstance(other, Structure) and set(self.sources) == set(other.sources)
                and all(np.array_equal(self.sources[k], other.sources[k]) for k in self.sources))


def draw_structure(config, seed):
    """The structure of a network with ``seed``, or None when the network is all to all
    (``config.sparse`` is False).

    Parameters
    ----------
    config : NetworkConfig
    seed : int
        The run's seed (stream ``"structure"``, one child per projection).
    """
    if not config.sparse:
        return None
    # (a projection whose K rounds to n_pre keeps every synapse: no sources, a full mask)
    sparse = [name for name in config.projections
              if config.fan_in(name) < config.projection_shape(name)[0]]
    sources = {}
    for name in sparse:
        rng = streams.generator(seed, "structure", config.projections.index(name))
        n_pre, n_post = config.projection_shape(name)
        k = config.fan_in(name)
        # for each target, k distinct sources: the k smallest of n_pre random keys, sorted
        index = np.empty((n_post, k), dtype=np.int32)
        for post in range(n_post):
            index[post] = np.sort(rng.choice(n_pre, size=k, replace=False))
        sources[name] = index
    return Structure(config, sources)


def load_structure(run_dir, net_config):
    """The saved :class:`Structure` of a sparse run (None for a dense one).

    Raises :class:`ei_brian.io.RunFolderError` if a sparse run's ``structure.npz`` is missing,
    unreadable or does not fit its network (the run folder's readers are :mod:`ei_brian.io`'s,
    which knows nothing of the structure).
    """
    if not net_config.sparse:
        return None
    path = os.path.join(run_dir, STRUCTURE_FILE)
    if not os.path.exists(path):
        raise RunFolderError(f"{run_dir!r} holds a sparse network (connectivity < 1) but no "
                             f"{STRUCTURE_FILE}, which says which synapses it has; the run cannot "
                             "be continued or rebuilt: start it again in another folder")
    try:
        return Structure.from_arrays(net_config, load_npz(path, what="the network's structure"))
    except StructureError as error:
        raise RunFolderError(f"{path!r} does not fit the run's network: {error}") from None
