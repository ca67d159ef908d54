"""Neuron models as data, and the engine derived from their equations (ei_brian.neuron_model,
ei_brian.derived): against the hand-written LIF engine, against PyTorch autograd, against the
compiled Brian2 run, and the one-line refusals."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from brian2 import Hz, ms
from conftest import active_weights, random_input, small_config

from ei_brian import derived, gradients
from ei_brian.config import ConfigError
from ei_brian.neuron_model import BUILTIN_MODELS, ModelError, NeuronModel, load_model, model_spec

MODELS_DIR = os.path.join(os.path.dirname(__file__), "..", "ei_brian", "models")
LIF_TEXT = open(os.path.join(MODELS_DIR, "lif.toml")).read()
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def model_config(model, **overrides):
    """The tests' small network with the hidden neurons of ``model`` (a built-in's name, or
    ``"lif-derived"``: the LIF model's file, so that the derived engine trains it)."""
    spec = LIF_TEXT if model == "lif-derived" else model
    return small_config(neuron_model=spec, **overrides)


@pytest.mark.parametrize("unbounded", [False, True])
@pytest.mark.parametrize("strength", [0.0, 0.05])
def test_the_derived_engine_equals_the_hand_written_one_for_lif(unbounded, strength):
    config = small_config(unbounded=unbounded)
    weights = active_weights(config)
    spike_input = random_input(config, 5)
    labels = np.array([0, 1, 2, 1, 0])
    rate = 10 * Hz
    loss, grads, info = gradients.loss_and_gradients(
        config, weights, spike_input, labels, regularizer_strength=strength,
        regularizer_rate=rate)
    derived_config = model_config("lif-derived", unbounded=unbounded)
    assert info["spikes"][..., :config.n_exc].sum() > 20
    for hidden_spikes in (None, info["spikes"]):  # free run, then the replay of recorded spikes
        d_loss, d_grads, d_info = derived.loss_and_gradients(
            derived_config, weights, spike_input, labels, hidden_spikes=hidden_spikes,
            regularizer_strength=strength, regularizer_rate=rate)
        assert np.array_equal(d_info["spikes"], info["spikes"])
        assert d_loss == pytest.approx(loss, rel=1e-12)
        assert set(d_grads) == set(grads)
        for name, value in grads.items():
            assert np.abs(value).max() > 0
            error = np.abs(d_grads[name] - value).max() / np.abs(value).max()
            assert error < 1e-12, (name, error)


def torch_gradients(model, config, weights, spike_input, labels, reset_gradient=False):
    torch = pytest.importorskip("torch")
    from torch_models import TorchModelNetwork
    network = TorchModelNetwork(model, config, weights, reset_gradient=reset_gradient)
    inputs = torch.as_tensor(spike_input.dense(), dtype=torch.float64)
    loss, _, spikes = network.loss(inputs, labels)
    loss.backward()
    return (float(loss.detach()), {"w_" + name: p.grad.numpy()
                                   for name, p in network.weights.items()},
            spikes.detach().numpy().astype(bool))


@pytest.mark.parametrize("model", ["lif", "alif", "qif"])
@pytest.mark.parametrize("unbounded", [False, True])
def test_derived_gradients_equal_pytorch_autograd(model, unbounded):
    config = model_config("lif-derived" if model == "lif" else model, unbounded=unbounded)
    weights = active_weights(config)
    spike_input = random_input(config, 5)
    labels = np.array([0, 1, 2, 1, 0])
    loss, grads, info = derived.loss_and_gradients(config, weights, spike_input, labels)
    ref_loss, ref_grads, ref_spikes = torch_gradients(model, config, weights, spike_input, labels)
    spikes = info["spikes"]
    assert spikes[..., :config.n_exc].sum() > 20  # recurrent activity, or the check says little
    if config.n_inh:
        assert spikes[..., config.n_exc:].sum() > 10
    assert np.array_equal(spikes, ref_spikes)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    assert set(grads) == set(ref_grads)
    for name, ref in ref_grads.items():
        assert np.abs(ref).max() > 0, name
        error = np.abs(grads[name] - ref).max() / np.abs(ref).max()
        assert error < 1e-10, (model, name, error)


@pytest.mark.parametrize("model", ["lif", "alif"])
def test_a_gradient_through_the_reset_equals_pytorch_autograd_without_detaching_it(model):
    """``reset_gradient = true``: X = X'' + s (R(X'') - X''), the surrogate standing in for ds."""
    text = open(os.path.join(MODELS_DIR, model + ".toml")).read().replace(
        'method = ', 'reset_gradient = true\nmethod = ')
    config = small_config(neuron_model=text)
    assert load_model(text).reset_gradient
    weights = active_weights(config)
    spike_input = random_input(config, 5)
    labels = np.array([0, 1, 2, 1, 0])
    loss, grads, info = derived.loss_and_gradients(config, weights, spike_input, labels)
    ref_loss, ref_grads, ref_spikes = torch_gradients(model, config, weights, spike_input, labels,
                                                      reset_gradient=True)
    _, detached, _ = derived.loss_and_gradients(small_config(neuron_model=text.replace(
        "reset_gradient = true\n", "")), weights, spike_input, labels)
    assert np.array_equal(info["spikes"], ref_spikes)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    for name, ref in ref_grads.items():
        error = np.abs(grads[name] - ref).max() / np.abs(ref).max()
        assert error < 1e-10, (model, name, error)
    assert not np.allclose(grads["w_ee"], detached["w_ee"])  # the option changes the gradients


def test_the_adaptation_changes_the_dynamics_and_the_gradients():
    """alif is not lif under another name: its threshold rises after spikes."""
    weights = active_weights(small_config())
    spike_input = random_input(small_config(), 4)
    labels = np.array([0, 1, 2, 1])
    _, lif_grads, lif = derived.loss_and_gradients(model_config("lif-derived"), weights,
                                                   spike_input, labels)
    _, alif_grads, alif = derived.loss_and_gradients(model_config("alif"), weights, spike_input,
                                                     labels)
    assert alif["spikes"].sum() < lif["spikes"].sum()
    assert not np.allclose(alif_grads["w_ee"], lif_grads["w_ee"])


@pytest.mark.compiled
@pytest.mark.parametrize("model", ["alif", "qif"])
def test_the_compiled_brian2_run_equals_the_derived_replay_spike_for_spike(model):
    from ei_brian.runner import CompiledNetwork
    config = model_config(model)
    weights = active_weights(config)
    spike_input = random_input(config, 5)
    with CompiledNetwork(config, samples_per_run=5, spike_capacity=2000, record_potentials=True,
                         verbose=False) as network:
        result = network.run(weights, spike_input)
    assert result.hidden_spikes[..., :config.n_exc].sum() > 20
    free = derived.forward(config, weights, spike_input)
    assert np.array_equal(free.spikes, result.hidden_spikes)
    assert np.abs(free.u - result.potentials).max() < 1e-9
    assert np.abs(free.readout - result.readout).max() < 1e-9
    replay = derived.forward(config, weights, spike_input, hidden_spikes=result.hidden_spikes)
    assert np.abs(replay.u - result.potentials).max() < 1e-9


def test_a_sparse_network_of_another_model_equals_autograd_on_the_masked_dense_one():
    """The derived engine computes a sparse network densely (weights 0 off the structure) and
    keeps the gradients where synapses exist."""
    torch = pytest.importorskip("torch")
    from torch_models import TorchModelNetwork

    from ei_brian.structure import draw_structure
    config = model_config("alif", connectivity=0.5, input_connectivity=0.6)
    structure = draw_structure(config, 3)
    weights = {key: value * structure.masks[key[2:]]
               for key, value in active_weights(config).items()}
    spike_input = random_input(config, 5)
    labels = np.array([0, 1, 2, 1, 0])
    loss, grads, info = derived.loss_and_gradients(config, weights, spike_input, labels,
                                                   structure=structure)
    network = TorchModelNetwork("alif", config, weights, masks=structure.masks)
    ref_loss, _, ref_spikes = network.loss(
        torch.as_tensor(spike_input.dense(), dtype=torch.float64), labels)
    ref_loss.backward()
    assert info["spikes"][..., :config.n_exc].sum() > 20
    assert np.array_equal(info["spikes"], ref_spikes.detach().numpy().astype(bool))
    assert loss == pytest.approx(float(ref_loss), rel=1e-12)
    for name, parameter in network.weights.items():
        ref = parameter.grad.numpy()
        mask = structure.masks[name]
        assert not mask.all() or name == "eo"
        assert np.all(grads["w_" + name][~mask] == 0)
        error = np.abs(grads["w_" + name] - ref).max() / np.abs(ref).max()
        assert error < 1e-10, (name, error)


def test_builtin_models_load_and_round_trip_through_their_text():
    for name in BUILTIN_MODELS:
        model = load_model(name)
        assert model.name == name
        again = NeuronModel.from_toml(model.to_toml())
        assert again == model
    assert model_spec("alif") == "alif"
    assert load_model("lif").is_default and not load_model("alif").is_default


BAD_MODELS = {
    "syntax": ("[model]\nequations = \"dv/dt = (1 - v / tau : 1\"\nthreshold = \"v > 1\"\n"
               "reset = \"v = 0\"\nexcitatory_target = \"v\"\ninhibitory_target = \"v\"\n",
               "cannot be parsed"),
    "toml": ("[model\nequations = 'x'\n", "not valid TOML"),
    "noise": (LIF_TEXT.replace("dv/dt = (I_exc - I_inh - v) / tau_mem : 1",
                               "dv/dt = (I_exc - I_inh - v) / tau_mem + xi / sqrt(tau_mem) : 1"),
              "stochastic"),
    "refractory": (LIF_TEXT.replace("/ tau_mem : 1", "/ tau_mem : 1 (unless refractory)"),
                   "unless refractory"),
    "threshold": (LIF_TEXT.replace('threshold = "v > 1"', 'threshold = "v > theta"'),
                  "unknown name(s) ['theta'] in the threshold"),
    "target": (LIF_TEXT.replace('inhibitory_target = "I_inh"', 'inhibitory_target = "g_inh"'),
               "inhibitory_target 'g_inh' is not a state variable"),
    "missing": (LIF_TEXT.replace('inhibitory_target = "I_inh"\n', ""),
                "has no inhibitory_target"),
    "reset": (LIF_TEXT.replace('reset = "v = 0"', 'reset = "w = 0"'),
              "the reset assigns w"),
    "weight": (LIF_TEXT.replace("I_inh - v) / tau_mem : 1", "I_inh - w - v) / tau_mem : 1\n"
                                "dw/dt = -w / tau_mem : 1"),
               "the variable w has the name of the synapses' weight"),
    "unit": (LIF_TEXT.replace('tau_mem = "20*ms"', 'tau_mem = "20*ms"\nus = "3"').replace(
        "I_inh - v) / tau_mem", "I_inh - v * us) / tau_mem"), "parameter us has the name of a Brian2 unit"),
    "flag": (LIF_TEXT.replace("dI_inh/dt = -I_inh / tau_inh : 1",
                              "dI_inh/dt = -I_inh / tau_inh : 1\ny = 2 * v : 1 (constant over dt)"),
             "(constant over dt) on y"),
    "same targets": (LIF_TEXT.replace('inhibitory_target = "I_inh"', 'inhibitory_target = "I_exc"'),
                     "inhibitory synapses would excite"),
    "method": (LIF_TEXT.replace('method = "exponential_euler"', 'method = "magic"'),
               "unknown state updater"),
    "parameter": (LIF_TEXT.replace('tau_mem = "20*ms"', 'tau_mem = "20*mss"'),
                  "parameter tau_mem"),
}


@pytest.mark.parametrize("case", sorted(BAD_MODELS))
def test_a_bad_model_is_refused_with_one_line_naming_the_problem(case):
    text, expected = BAD_MODELS[case]
    with pytest.raises(ModelError) as caught:
        NeuronModel.from_toml(text, where="my.toml")
    message = str(caught.value)
    assert expected in message and "\n" not in message, message
    assert isinstance(caught.value, ConfigError)  # the command line prints it as one line


def test_a_function_without_a_useful_gradient_is_refused_when_the_model_is_derived():
    text = LIF_TEXT.replace('threshold = "v > 1"', 'threshold = "v + 0.1 * sign(I_exc) > 1"')
    with pytest.raises(ModelError, match="unknown name"):  # sign is not among the functions
        NeuronModel.from_toml(text)


@pytest.mark.compiled
def test_a_fractional_power_of_a_negative_potential_gives_nan_as_brian2_does():
    """cpow: Brian2's C++ pow gives NaN for (-1)**1.5; the generated code must too, not fall into
    Cython's complex arithmetic (which ignored an exception and left the outputs unwritten)."""
    text = (LIF_TEXT.replace('method = "exponential_euler"', 'method = "euler"')
            .replace("(I_exc - I_inh - v)", "(I_exc - I_inh - v + 0.01 * v ** 1.5)"))
    module = derived.Derivation(NeuronModel.from_toml(text), 0.001).module
    state = np.array([[-1.0, 0.0, 0.0], [0.5, 0.0, 0.0]])
    xp = np.full_like(state, 7.0)
    spikes = np.zeros(2, dtype=np.uint8)
    module.threshold_step(state, xp, spikes)
    assert np.isnan(xp[0, 0]) and np.all(xp[0, 1:] == 0)  # every output written
    assert xp[1, 0] == pytest.approx(0.5 + 0.001 * (-0.5 + 0.01 * 0.5 ** 1.5) / 0.02)


def test_a_nonlinear_model_that_exponential_euler_cannot_integrate_is_refused():
    text = open(os.path.join(MODELS_DIR, "qif.toml")).read().replace('"euler"',
                                                                        '"exponential_euler"')
    model = NeuronModel.from_toml(text)  # valid as a model; the state updater refuses it
    with pytest.raises(ModelError, match="cannot integrate the equations"):
        derived.Derivation(model, 0.001)


def test_lif_options_are_refused_with_another_model_and_sparse_networks_taken():
    from ei_brian.neuron_model import check_network_options
    with pytest.raises(ModelError, match="NetworkConfig.tau_mem"):
        check_network_options(model_config("alif", tau_mem=30 * ms))
    with pytest.raises(ModelError, match="--membrane-noise"):
        check_network_options(model_config("alif", membrane_noise=0.2))
    check_network_options(model_config("alif", connectivity=0.5))  # sparse: taken, see below


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "ei_brian.cli", *args], cwd=cwd,
                          capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=ROOT))


@pytest.mark.parametrize("case", ["threshold", "noise", "toml"])
def test_the_command_line_refuses_a_bad_model_file_in_one_line_and_writes_nothing(case,
                                                                                  tmp_path):
    path = tmp_path / "my.toml"
    path.write_text(BAD_MODELS[case][0])
    out = tmp_path / "run"
    result = run_cli("train", "--dataset", "randman", "--neuron-model", str(path), "--out",
                     str(out), "--epochs", "1", cwd=tmp_path)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and BAD_MODELS[case][1] in lines[0], result.stderr
    assert not out.exists()


@pytest.mark.compiled
def test_a_model_file_trains_above_chance_and_the_run_rebuilds_it(tmp_path):
    """A user's file (the ALIF model with other parameters): trained from the command line,
    recorded whole in config.json, rebuilt by load_run in Brian2."""
    from ei_brian.trained import load_run
    text = open(os.path.join(MODELS_DIR, "alif.toml")).read().replace('tau_a = "200*ms"',
                                                                        'tau_a = "100*ms"')
    path = tmp_path / "my_alif.toml"
    path.write_text(text)
    out = tmp_path / "run"
    result = run_cli("train", "--dataset", "randman", "--neuron-model", str(path),
                     "--randman-samples", "60", "--randman-classes", "4", "--hidden", "40",
                     "--epochs", "8", "--batch-size", "16", "--out", str(out), "--quiet",
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with open(out / "config.json") as f:
        recorded = json.load(f)["network"]["neuron_model"]
    assert 'tau_a = "100*ms"' in recorded
    with open(out / "result.json") as f:
        peak = json.load(f)["peak_test_acc"]
    assert peak >= 0.75  # chance is 0.25 (measured: 1.0)
    path.unlink()  # the run needs the file no more
    run = load_run(out)
    assert load_model(run.net_config.neuron_model).parameter_dict["tau_a"] == "100*ms"
    parts = run.build_network(probe_sample=0)
    assert "a" in parts["hidden"].variables
