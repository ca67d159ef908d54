"""The surrogate gradients against an independent autodiff implementation (PyTorch, float64)."""
import numpy as np
import pytest
from brian2 import Hz

from conftest import active_weights, random_input, small_config
from ei_brian import gradients
from ei_brian.encoding import SpikeInput
from ei_brian.network import membrane_noise_drive
from ei_brian.optimizers import SMORMS3, Adam

torch = pytest.importorskip("torch")
from torch_reference import TorchEINetwork  # noqa: E402


def torch_gradients(config, weights, spike_input, labels, strength=0.0, rate=10 * Hz,
                    time_constants=None, membrane_noise=None):
    network = TorchEINetwork(config, weights, dtype=torch.float64, time_constants=time_constants)
    inputs = torch.as_tensor(spike_input.dense(), dtype=torch.float64)
    loss, readout, spikes = network.loss(inputs, labels, membrane_noise)
    if strength:
        bound = float(rate * config.sample_duration)
        loss = loss + strength * torch.relu(spikes.sum(dim=1) - bound).pow(2).mean()
    loss.backward()
    return (float(loss.detach()), {"w_" + name: p.grad.numpy() for name, p in network.weights.items()},
            spikes.detach())


@pytest.mark.parametrize("unbounded", [False, True])
@pytest.mark.parametrize("strength", [0.0, 0.05])
def test_gradients_equal_autodiff(unbounded, strength):
    config = small_config(unbounded=unbounded)
    weights = active_weights(config)
    spike_input = random_input(config, 5)
    labels = np.array([0, 1, 2, 1, 0])
    loss, grads, info = gradients.loss_and_gradients(
        config, weights, spike_input, labels, regularizer_strength=strength, regularizer_rate=10 * Hz)
    ref_loss, ref_grads, ref_spikes = torch_gradients(config, weights, spike_input, labels, strength)
    spikes = info["spikes"]
    # the check is only meaningful with recurrent activity in every population
    assert spikes[..., :config.n_exc].sum() > 20
    if config.n_inh:
        assert spikes[..., config.n_exc:].sum() > 10
    assert np.array_equal(spikes, ref_spikes.numpy().astype(bool))
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    assert set(grads) == set(ref_grads) == {"w_" + p for p in config.projections}
    for name, ref in ref_grads.items():
        assert np.abs(ref).max() > 0, name
        error = np.abs(grads[name] - ref).max() / np.abs(ref).max()
        assert error < 1e-6, (name, error)


def test_gradients_equal_autodiff_with_diverse_time_constants_and_membrane_noise():
    config = small_config(tau_spread_exc=0.3, tau_spread_inh=0.5, inh_tau_factor=0.5,
                          membrane_noise=0.3)
    weights = active_weights(config)
    spike_input = random_input(config, 4)
    labels = np.array([2, 1, 0, 1])
    time_constants = config.time_constants(7)
    assert np.ptp(time_constants["tau_mem"]) > 0.005
    noise = membrane_noise_drive(config, 4, seed=3, time_constants=time_constants)
    loss, grads, info = gradients.loss_and_gradients(config, weights, spike_input, labels,
                                                     time_constants=time_constants,
                                                     membrane_noise=noise)
    quiet = gradients.forward(config, weights, spike_input, time_constants=time_constants)
    assert not np.array_equal(quiet.spikes, info["spikes"])  # the noise matters
    ref_loss, ref_grads, ref_spikes = torch_gradients(config, weights, spike_input, labels,
                                                      time_constants=time_constants,
                                                      membrane_noise=noise)
    assert np.array_equal(info["spikes"], ref_spikes.numpy().astype(bool))
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    for name, ref in ref_grads.items():
        assert np.abs(grads[name] - ref).max() / np.abs(ref).max() < 1e-6, name


def test_replay_with_recorded_spikes_equals_free_run(small):
    config, weights, spike_input = small
    free = gradients.forward(config, weights, spike_input)
    replay = gradients.forward(config, weights, spike_input,
                               hidden_spikes=np.ascontiguousarray(free.spikes))
    np.testing.assert_allclose(replay.u, free.u, rtol=0, atol=1e-12)
    np.testing.assert_allclose(replay.readout, free.readout, rtol=0, atol=1e-12)


def test_threaded_engine_equals_single_thread(small):
    config, weights, spike_input = small
    labels = np.array([2, 0, 1, 1])
    loss, grads, info = gradients.loss_and_gradients(config, weights, spike_input, labels)
    engine = gradients.GradientEngine(config, n_threads=2)
    for _ in range(2):  # the second call reuses the workspaces
        loss2, grads2, info2 = engine(weights, spike_input, labels)
        assert loss2 == pytest.approx(loss, rel=1e-12)
        for name in grads:
            np.testing.assert_allclose(grads2[name], grads[name], rtol=1e-10, atol=1e-15)
        assert np.array_equal(info2["predictions"], info["predictions"])
    engine.close()


def test_the_engine_gives_the_same_bits_in_one_thread_or_two(small):
    """A sweep gives each training one thread: its results must equal a run alone (two)."""
    config, weights, spike_input = small
    labels = np.array([2, 0, 1, 1])
    results = []
    for n_threads in (1, 2):
        engine = gradients.GradientEngine(config, n_threads=n_threads)
        assert engine.n_threads == n_threads and engine.n_parts == 2
        results.append(engine(weights, spike_input, labels))
        engine.close()
    (loss1, grads1, _), (loss2, grads2, _) = results
    assert loss1 == loss2
    for name in grads1:
        assert np.array_equal(grads1[name], grads2[name])


def test_loss_and_output_gradient_by_hand():
    # two units; unit 0 peaks at 2.0 (step 1), unit 1 at 0.5 (step 0)
    readout = np.array([[[0.0, 0.5], [2.0, 0.1], [1.0, 0.2]]])
    loss, gradient, argmax_step, predictions = gradients.loss_and_output_gradient(readout, [1])
    p = np.exp([2.0, 0.5]) / np.exp([2.0, 0.5]).sum()
    assert loss == pytest.approx(-np.log(p[1]))
    np.testing.assert_allclose(gradient, [[p[0], p[1] - 1]])
    assert argmax_step.tolist() == [[1, 0]] and predictions.tolist() == [0]


def test_adam_first_step_by_hand():
    params = {"w": np.array([1.0, -1.0])}
    Adam(learning_rate=0.1).step(params, {"w": np.array([0.5, -2.0])})
    # bias-corrected first step moves each weight by lr * sign(grad)
    np.testing.assert_allclose(params["w"], [0.9, -0.9], rtol=1e-6)


def test_smorms3_first_step_by_hand_and_state_round_trip():
    optimizer = SMORMS3(learning_rate=5e-3)
    params = {"w": np.array([1.0])}
    optimizer.step(params, {"w": np.array([2.0])})
    # memory 1 -> r = 1/2: g = 1, g2 = 2, x = 1/2, step = 2 * min(5e-3, 0.5) / sqrt(2)
    np.testing.assert_allclose(params["w"], [1.0 - 2 * 5e-3 / np.sqrt(2)])
    restored = SMORMS3(learning_rate=5e-3)
    restored.load_state_dict(optimizer.state_dict())
    a, b = {"w": params["w"].copy()}, {"w": params["w"].copy()}
    optimizer.step(a, {"w": np.array([1.0])})
    restored.step(b, {"w": np.array([1.0])})
    assert a["w"][0] == b["w"][0]


def test_a_failing_build_of_the_compiled_loops_says_what_is_needed(tmp_path, monkeypatch):
    from ei_brian import kernels
    module = kernels.kernels()  # the build in use (made with the working compiler)
    monkeypatch.setenv("EI_BRIAN_CACHE", str(tmp_path))
    monkeypatch.setenv("CC", str(tmp_path / "no-such-compiler"))
    with pytest.raises(kernels.KernelBuildError, match="a C compiler is needed"):
        kernels._load()
    assert not list(tmp_path.glob("kernels/*/_kernels*"))  # nothing half-built is left
    assert kernels.kernels() is module  # the module in use is unaffected


@pytest.mark.parametrize("shape, density", [((300, 2560), 0.004), ((40, 13), 0.3), ((9, 7), 1.0),
                                            ((6, 0), 0.5), ((0, 11), 0.5)])
def test_spike_lists_equal_scipys_csr(shape, density):
    # the compiled scan skips zero bytes 8 at a time: widths that are not multiples of 8, dense
    # and empty rows, and every split point must still give SciPy's indices
    import scipy.sparse
    from ei_brian.kernels import kernels
    spikes = (np.random.default_rng(7).random(shape) < density).astype(np.uint8)
    spikes[:, -1:] = 1  # the last column, where the scan's tail begins
    for split in sorted({0, shape[1] // 3, shape[1]}):
        for (indptr, columns), part in zip(kernels().spike_lists(spikes, split),
                                           (spikes[:, :split], spikes[:, split:])):
            expected = scipy.sparse.csr_matrix(part)
            np.testing.assert_array_equal(indptr, expected.indptr)
            np.testing.assert_array_equal(columns, expected.indices)


@pytest.mark.parametrize("network", ["dense", "sparse float32", "sparse float64"])
def test_skipping_the_steps_after_each_samples_last_maximum_changes_no_bit(network):
    """Without a rate penalty the backward pass starts at the latest readout maximum and, in a
    sparse network, multiplies only the samples that have begun (``gradients.last_steps``). A
    penalty of exactly 0 at every step makes it compute every step of every sample: the
    gradients must be the same bit for bit."""
    from ei_brian.sparse_gradients import SparseOperators, backward_sparse
    from ei_brian.structure import draw_structure
    config = small_config(**({} if network == "dense" else
                             dict(connectivity=0.3, input_connectivity=0.5)))
    structure = None if network == "dense" else draw_structure(config, 0)
    weights = active_weights(config)
    if structure is not None:
        weights = structure.apply(weights)
    n_samples = 40  # more than a vector of float32 samples: every path of the product
    spike_input = random_input(config, n_samples)
    state = gradients.forward(config, weights, spike_input)
    rng = np.random.default_rng(5)
    output_gradient = rng.standard_normal((n_samples, config.n_outputs))
    argmax_step = rng.integers(0, 35, (n_samples, config.n_outputs))  # maxima in the first steps
    argmax_step[3, 2] = 41
    last = gradients.last_steps(argmax_step, config.n_steps)
    assert last.max() == 41 and len(np.unique(last)) > 10
    assert (gradients.last_steps(argmax_step, config.n_steps, np.zeros(1)) == 59).all()
    results = []
    for spike_gradient in (None, np.zeros((n_samples, config.n_exc + config.n_inh))):
        if structure is None:
            results.append(gradients.backward(config, weights, state, output_gradient,
                                              argmax_step, spike_gradient))
        else:
            operators = SparseOperators(config, structure, weights, network.split()[1])
            results.append(backward_sparse(config, state, output_gradient, argmax_step,
                                           operators, spike_gradient))
    skipped, full = results
    for name in full:
        assert np.abs(full[name]).max() > 0, name
        np.testing.assert_array_equal(skipped[name], full[name], err_msg=name)


@pytest.mark.parametrize("network", ["dense", "sparse"])
def test_the_replay_stopped_at_each_samples_last_step_gives_the_same_gradients(network):
    """Given the recorded readout, the replay stops each sample at its last maximum (all the
    backward pass needs): loss and gradients are those of the whole replay, bit for bit."""
    from ei_brian.structure import draw_structure
    config = small_config(**({} if network == "dense" else dict(connectivity=0.3)))
    structure = None if network == "dense" else draw_structure(config, 0)
    weights = active_weights(config)
    if structure is not None:
        weights = structure.apply(weights)
        weights["w_ee"] = weights["w_ee"] * 0.5  # activity that ends before the sample does
    labels = np.arange(12) % config.n_outputs
    dense = np.random.default_rng(2).random((len(labels), config.n_steps, config.n_inputs)) < 0.08
    dense[:, 20:] = False  # input in the first steps only: the readout peaks before the end
    spike_input = SpikeInput.from_dense(dense, dt=float(config.dt))
    free = gradients.forward(config, weights, spike_input)
    replay = gradients.forward(config, weights, spike_input, hidden_spikes=free.spikes)
    common = dict(hidden_spikes=free.spikes, structure=structure, precision="float64")
    # without a readout the whole replay runs and gives the readout (the same as `replay`'s)
    _, whole, info_whole = gradients.loss_and_gradients(config, weights, spike_input, labels,
                                                        **common)
    _, stopped, info_stopped = gradients.loss_and_gradients(config, weights, spike_input, labels,
                                                            readout=replay.readout, **common)
    _, _, argmax_step, _ = gradients.loss_and_output_gradient(replay.readout, labels)
    assert gradients.last_steps(argmax_step, config.n_steps).max() < config.n_steps - 5
    assert info_stopped["cross_entropy"] == info_whole["cross_entropy"]
    for name in whole:
        assert np.abs(whole[name]).max() > 0, name
        np.testing.assert_array_equal(stopped[name], whole[name], err_msg=name)
    # the replay's own potentials after the last step are 0, not left over from before
    workspace = gradients.Workspace()
    workspace.get("u", (config.n_steps, len(labels), config.n_exc + config.n_inh))[:] = np.nan
    last = np.full(len(labels), 10)
    state = gradients.forward(config, weights, spike_input, hidden_spikes=free.spikes,
                              workspace=workspace, last_steps=last)
    assert not state.u_tm[11:].any() and np.array_equal(state.u_tm[:11], replay.u_tm[:11])
