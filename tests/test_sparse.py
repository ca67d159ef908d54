"""Sparse networks: the structure, gradients on the synapse lists against masked autodiff, the
all-to-all structure equal to the dense code, a resumed sparse run equal to an uninterrupted one."""
import copy
import os

import numpy as np
import pytest
from brian2 import Hz

import ei_brian
from conftest import active_weights, random_input, small_config
from ei_brian import gradients, training
from ei_brian.config import ConfigError, NetworkConfig, TrainConfig
from ei_brian.io import STRUCTURE_FILE, RunFolderError
from ei_brian.network import build_network, membrane_noise_drive
from ei_brian.optimizers import SMORMS3, Adam
from ei_brian.structure import Structure, StructureError, draw_structure

torch = pytest.importorskip("torch")
from torch_reference import TorchEINetwork  # noqa: E402

SPARSE = dict(connectivity=0.3, input_connectivity=0.5)


def test_structure_has_a_fixed_fan_in_drawn_from_the_seed():
    config = small_config(**SPARSE)
    structure = draw_structure(config, 4)
    assert config.fan_in("ee") == round(0.3 * config.n_exc) and config.fan_in("xe") == 15
    for name, mask in structure.masks.items():
        column_sums = mask.sum(axis=0)
        assert np.all(column_sums == config.fan_in(name)), name
    assert structure.masks["eo"].all()               # the readout stays all to all
    assert structure == draw_structure(config, 4)
    assert structure != draw_structure(config, 5)
    assert Structure.from_arrays(config, structure.arrays()) == structure
    assert draw_structure(small_config(), 4) is None  # all to all: no structure
    nearly = small_config(connectivity=0.99)           # K rounds to n_pre everywhere
    assert nearly.sparse and draw_structure(nearly, 4).masks["ee"].all()
    assert Structure.from_arrays(nearly, draw_structure(nearly, 4).arrays()).sources == {}
    arrays = structure.arrays()
    arrays["sources_ee"] = arrays["sources_ee"][:, :-1]
    with pytest.raises(StructureError, match="sources|shape"):
        Structure.from_arrays(config, arrays)
    with pytest.raises(StructureError, match="sparse projections"):
        Structure.from_arrays(small_config(connectivity=0.3), structure.arrays())


@pytest.mark.parametrize("value", [0, -0.1, 1.5])
def test_impossible_connectivity_is_refused(value):
    with pytest.raises(ConfigError, match="connection probability"):
        NetworkConfig(connectivity=value)
    with pytest.raises(ConfigError, match="connection probability"):
        NetworkConfig(input_connectivity=value)


def masked_autodiff(config, weights, masks, spike_input, labels, strength=0.0, **kwargs):
    network = TorchEINetwork(config, weights, dtype=torch.float64, masks=masks,
                             time_constants=kwargs.get("time_constants"))
    inputs = torch.as_tensor(spike_input.dense(), dtype=torch.float64)
    loss, _, spikes = network.loss(inputs, labels, kwargs.get("membrane_noise"))
    if strength:
        bound = float(10 * Hz * config.sample_duration)
        loss = loss + strength * torch.relu(spikes.sum(dim=1) - bound).pow(2).mean()
    loss.backward()
    return float(loss.detach()), {"w_" + n: p.grad.numpy() for n, p in network.weights.items()}, \
        spikes.detach().numpy().astype(bool)


@pytest.mark.parametrize("precision, tolerance", [("float64", 1e-10), ("float32", 1e-6)])
@pytest.mark.parametrize("kind", ["dale", "unbounded", "noisy"])
def test_sparse_gradients_equal_masked_autodiff(kind, precision, tolerance):
    extra, kwargs, strength = {}, {}, 0.0
    if kind == "unbounded":
        extra = dict(unbounded=True)
    if kind == "noisy":  # every knob the backward pass sees
        extra = dict(tau_spread_exc=0.3, tau_spread_inh=0.5, membrane_noise=0.3)
        strength = 0.05
    config = small_config(**SPARSE, **extra)
    structure = draw_structure(config, 0)
    weights = structure.apply(active_weights(config))
    spike_input = random_input(config, 5)
    labels = np.array([0, 1, 2, 1, 0])
    if kind == "noisy":
        kwargs["time_constants"] = config.time_constants(7)
        kwargs["membrane_noise"] = membrane_noise_drive(config, 5, seed=3,
                                                        time_constants=kwargs["time_constants"])
    loss, grads, info = gradients.loss_and_gradients(
        config, weights, spike_input, labels, regularizer_strength=strength,
        regularizer_rate=10 * Hz, structure=structure, precision=precision, **kwargs)
    ref_loss, ref_grads, ref_spikes = masked_autodiff(config, weights, structure.masks,
                                                      spike_input, labels, strength, **kwargs)
    assert info["spikes"][..., :config.n_exc].sum() > 10  # recurrent activity to check
    assert np.array_equal(info["spikes"], ref_spikes)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    for name, ref in ref_grads.items():
        mask = structure.masks[name[2:]]
        assert np.abs(ref).max() > 0, name
        assert np.all(grads[name][~mask] == 0), name  # no gradient where there is no synapse
        error = np.abs(grads[name] - ref).max() / np.abs(ref).max()
        assert error < tolerance, (name, error)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_tiled_product_equals_scipys_and_is_the_same_for_every_width(dtype):
    """The backward pass's sparse product (column tiles, rows summed in vector registers of 4,
    then 1, then 0 vectors' worth of samples): SciPy's result, and each sample's column the same
    bit for bit whichever path computed it (widths 1 to 100, tiles narrower than the matrix, rows
    of a tile with no synapse)."""
    import scipy.sparse
    from ei_brian.sparse_gradients import TiledMatrix
    config = small_config(n_hidden=200, connectivity=0.1)
    block = draw_structure(config, 3).block(("ee", "ei", "eo"))
    rng = np.random.default_rng(0)
    values = rng.random(block.n_synapses)
    values[block.rows == 5] = 0.0  # a row of zeros as well as the structure's own gaps
    matrix = scipy.sparse.csr_matrix((values, (block.rows, block.columns)), shape=block.shape)
    b = rng.standard_normal((block.shape[1], 100))
    indptr, columns, order = block.tiles(16)
    tiled = TiledMatrix(indptr, columns, values[order].astype(dtype), block.shape)
    widest = tiled.product(b.astype(dtype), np.empty((block.shape[0], 100), dtype))
    reference = matrix @ b
    tolerance = 1e-6 if dtype == np.float32 else 1e-13
    assert np.abs(widest - reference).max() < tolerance * np.abs(reference).max()
    for width in (1, 7, 16, 37, 64, 65):
        part = tiled.product(np.ascontiguousarray(b[:, :width], dtype=dtype),
                             np.full((block.shape[0], width), np.nan, dtype))
        np.testing.assert_array_equal(part, widest[:, :width])
    empty = TiledMatrix(*block.tiles(16)[:2], np.zeros(block.n_synapses, dtype), block.shape)
    assert not empty.product(b.astype(dtype), np.full((block.shape[0], 100), np.nan, dtype)).any()


@pytest.mark.parametrize("unbounded", [False, True])  # the unbounded network has no I neurons
def test_sparse_engine_in_parts_equals_one_part(unbounded):
    config = small_config(**SPARSE, unbounded=unbounded)
    structure = draw_structure(config, 1)
    weights = structure.apply(active_weights(config))
    spike_input = random_input(config, 8)
    labels = np.arange(8) % 3
    state = gradients.forward(config, weights, spike_input)
    _, whole, _ = gradients.loss_and_gradients(config, weights, spike_input, labels,
                                               hidden_spikes=state.spikes, structure=structure,
                                               precision="float64")
    engine = gradients.GradientEngine(config, n_threads=2, structure=structure,
                                      precision="float64")
    assert engine.n_parts == 4  # a small sparse network
    _, parts, _ = engine(weights, spike_input, labels, hidden_spikes=state.spikes)
    engine.close()
    for name in whole:
        np.testing.assert_allclose(parts[name], whole[name], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("optimizer", [Adam, SMORMS3])
def test_an_optimizer_step_on_the_synapses_alone_equals_the_dense_step(optimizer):
    """Updating only a sparse projection's synapses gives those entries the dense step's numbers
    (three steps, state carried) and every other entry an update of exactly 0."""
    config = small_config(connectivity=0.3)  # the input stays all to all
    structure = draw_structure(config, 2)
    rng = np.random.default_rng(0)
    dense, lists = optimizer(0.01), optimizer(0.01)
    for _ in range(3):
        grads = structure.apply({name: rng.standard_normal(config.projection_shape(name[2:]))
                                 for name in ("w_ee", "w_ie", "w_xe")})
        full = dense.updates(grads)
        partial = lists.updates(grads, structure.entries)
        for name, update in partial.items():
            mask = structure.masks[name[2:]]
            assert np.array_equal(update[mask], full[name][mask])
            assert not update[~mask].any()
    assert "w_xe" not in structure.entries  # a dense projection is updated whole
    assert np.array_equal(partial["w_xe"], full["w_xe"])


@pytest.mark.parametrize("unbounded", [False, True])
def test_a_training_step_on_the_synapses_alone_gives_the_dense_steps_weights(unbounded):
    """update_weights in a sparse network without update noise works on the synapses alone;
    three steps give the weights of the general path (dense updates, Dale's law on every entry,
    absent synapses set to 0), in a non-contiguous array too."""
    config = small_config(connectivity=0.3, unbounded=unbounded)
    structure = draw_structure(config, 2)
    rng = np.random.default_rng(1)
    shapes = {"w_" + name: config.projection_shape(name) for name in ("ee", "ie", "xe")
              if name in config.projections}  # the unbounded network has no I population
    start = structure.apply({name: rng.uniform(0.0 if not unbounded else -1.0, 1.0, shape)
                             for name, shape in shapes.items()})
    start["w_ee"] = np.asfortranarray(start["w_ee"])
    fast, general = copy.deepcopy(start), copy.deepcopy(start)
    fast_optimizer, general_optimizer = Adam(0.3), Adam(0.3)
    for _ in range(3):
        grads = structure.apply({name: rng.standard_normal(shape)
                                 for name, shape in shapes.items()})
        assert training.update_weights(config, fast, fast_optimizer, grads, structure=structure) is None
        for name, update in general_optimizer.updates(grads, structure.entries).items():
            general[name] += update
        training.project_dale(config, general)
        structure.apply(general)
    for name in shapes:
        np.testing.assert_array_equal(fast[name], general[name])
        assert not np.array_equal(fast[name], start[name])
        assert unbounded or (fast[name] >= 0).all()
        assert not fast[name][~structure.masks[name[2:]]].any()


def test_a_structure_with_every_synapse_equals_the_dense_network(numpy_target):
    """Connectivity 1 through the sparse code paths: the gradients on the synapse lists and a
    Brian2 network connected by explicit indices give what the dense code gives."""
    config = small_config()
    everything = Structure(config, {})
    weights = active_weights(config)
    spike_input = random_input(config, 4)
    labels = np.array([0, 1, 2, 0])
    _, dense, info = gradients.loss_and_gradients(config, weights, spike_input, labels)
    _, sparse, _ = gradients.loss_and_gradients(config, weights, spike_input, labels,
                                                structure=everything, precision="float64")
    for name in dense:
        np.testing.assert_allclose(sparse[name], dense[name], rtol=1e-12, atol=1e-15)
    from ei_brian.trained import spike_generator_arguments
    indices, times = spike_generator_arguments(spike_input)
    fired = []
    for structure in (None, everything):
        parts = build_network(config, weights=weights, input_indices=indices, input_times=times,
                              n_samples=4, structure=structure,
                              name="full" if structure else "dense")
        parts["network"].run(4 * config.sample_duration)
        fired.append((parts["spikes"].i[:].tolist(), parts["spikes"].t_[:].tolist()))
    assert fired[0] == fired[1] and len(fired[0][0]) > 20
    assert sum(info["spikes"].ravel()) == len(fired[0][0])


SMALL = dict(n_hidden=40, **SPARSE)
TRAIN = dict(batch_size=50, train_samples=200, test_samples=100, epochs=2, update_noise=0.02,
             update_noise_kind="absolute")


@pytest.mark.compiled
def test_a_resumed_sparse_run_keeps_its_structure_and_ends_like_an_uninterrupted_one(
        tmp_path, monkeypatch):
    net, train_config = NetworkConfig(**SMALL), TrainConfig(**TRAIN)
    reference = str(tmp_path / "reference")
    training.train(net, train_config, out_dir=reference, progress=False)
    structure = ei_brian.load_run(reference).structure
    assert structure == draw_structure(net, train_config.seed)
    with np.load(os.path.join(reference, "weights.npz")) as final:
        structure.check_weights(dict(final))  # absolute update noise created no synapse

    # a run stopped after epoch 1, then resumed: the structure must come from structure.npz
    interrupted = str(tmp_path / "interrupted")
    save_epoch = training._save_epoch

    def stop_after_epoch_1(out_dir, weights, optimizer, rng, rows, *args):
        save_epoch(out_dir, weights, optimizer, rng, rows, *args)
        if rows[-1]["epoch"] == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(training, "_save_epoch", stop_after_epoch_1)
    with pytest.raises(KeyboardInterrupt):
        training.train(net, train_config, out_dir=interrupted, progress=False)
    monkeypatch.setattr(training, "_save_epoch", save_epoch)

    def no_redraw(*args):
        raise AssertionError("a resumed run drew its structure again")

    monkeypatch.setattr(training, "draw_structure", no_redraw)
    training.train(net, train_config, out_dir=interrupted, resume=True, progress=False)
    with np.load(os.path.join(interrupted, "weights.npz")) as a, \
            np.load(os.path.join(reference, "weights.npz")) as b:
        for name in b.files:
            np.testing.assert_array_equal(a[name], b[name])

    os.remove(os.path.join(interrupted, STRUCTURE_FILE))
    with pytest.raises(RunFolderError, match="no structure.npz"):
        ei_brian.load_run(interrupted)
