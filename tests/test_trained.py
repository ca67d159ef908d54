"""A trained run back as Brian2 objects: the saved probe spikes, spike for spike."""
import os
import warnings

import numpy as np
import pytest

import ei_brian
from ei_brian.cli import main
from ei_brian.encoding import latency_encode
from ei_brian.io import RunFolderError
from ei_brian.trained import TIME_CONSTANTS_FILE, spike_generator_arguments

pytestmark = [pytest.mark.compiled, pytest.mark.slow]

SMALL = ["--hidden", "20", "--batch-size", "50", "--train-samples", "200", "--test-samples", "100",
         "--epochs", "1", "--quiet"]
KINDS = {
    "dale": [],
    # unbounded, with every input and neuron noise a probe run replays: Poisson input, membrane
    # noise, per-neuron time constants (the small network starts at 10 Hz: at the default scale it
    # is silent)
    "unbounded-noisy": ["--unbounded", "--init", "target-rate", "--target-rate", "10",
                        "--encoding", "poisson", "--membrane-noise", "0.2",
                        "--tau-spread-exc", "0.3"],
    # a sparse network: Brian2 builds only the synapses of the saved structure
    "sparse": ["--hidden", "40", "--connectivity", "0.3", "--input-connectivity", "0.5"],
}


@pytest.fixture(scope="module", params=list(KINDS))
def run_dir(request, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("trained") / request.param)
    assert main(["train", *SMALL, *KINDS[request.param], "--out", out]) == 0
    return out


def spike_set(steps, neurons):
    return sorted(zip(np.asarray(steps).tolist(), np.asarray(neurons).tolist()))


@pytest.mark.parametrize("snapshot", ["initial", "final"])
def test_the_brian2_network_fires_the_saved_probe_spikes(run_dir, snapshot, numpy_target):
    run = ei_brian.load_run(run_dir, snapshot=snapshot)
    assert run.epoch == (0 if snapshot == "initial" else 1)
    probe = run.probe_spikes()
    assert probe["snapshot"] == snapshot and len(probe["times"]) > 0
    dt = float(run.net_config.dt)
    for k in range(0, len(probe["sample_indices"]), 4):  # 5 of the 20 (a build costs ~0.6 s)
        parts = run.build_network(probe_sample=k, name=f"p{snapshot}{k}")
        parts["network"].run(run.net_config.sample_duration)
        keep = probe["samples"] == k
        want = spike_set(np.rint(probe["times"][keep] / dt).astype(int), probe["neurons"][keep])
        got = spike_set(np.rint(parts["spikes"].t_ / dt).astype(int), parts["spikes"].i[:])
        assert got == want, f"probe sample {k}"


def test_what_a_run_holds(run_dir):
    run = ei_brian.load_run(run_dir)
    assert list(run.metrics["epoch"]) == [0, 1]
    assert set(run.weights) == {f"w_{name}" for name in run.net_config.projections}
    initial = ei_brian.load_run(run_dir, snapshot=0)
    assert any(not np.array_equal(initial.weights[key], run.weights[key]) for key in run.weights)
    checkpoint = ei_brian.load_run(run_dir, snapshot=1)
    for key in run.weights:
        np.testing.assert_array_equal(checkpoint.weights[key], run.weights[key])
    with pytest.raises(RunFolderError, match="not those of epoch 5"):
        ei_brian.load_run(run_dir, snapshot=5)
    with pytest.raises(ValueError, match="snapshot"):
        ei_brian.load_run(run_dir, snapshot="best")
    if run.net_config.heterogeneous:  # a folder from before time constants were saved
        saved = run.time_constants
        os.rename(os.path.join(run_dir, TIME_CONSTANTS_FILE), os.path.join(run_dir, "tc.npz"))
        try:
            with pytest.warns(UserWarning, match="drawn again from the run's seed"):
                rebuilt = ei_brian.load_run(run_dir).time_constants
        finally:
            os.rename(os.path.join(run_dir, "tc.npz"), os.path.join(run_dir, TIME_CONSTANTS_FILE))
        for name, values in saved.items():
            np.testing.assert_array_equal(rebuilt[name], values)
    else:
        assert run.time_constants is None
    if run.net_config.sparse:  # the saved structure, and no weight off it
        assert run.structure.n_synapses["ee"] == run.net_config.n_exc * run.net_config.fan_in("ee")
        run.structure.check_weights(run.weights)
        parts = run.build_network(name="structure")
        assert len(parts["synapses"]["e_to_hidden"]) == (run.structure.n_synapses["ee"]
                                                         + run.structure.n_synapses["ei"])
    else:
        assert run.structure is None


def test_images_and_spike_input(run_dir, numpy_target):
    run = ei_brian.load_run(run_dir)
    images = run.trainer.data.x_test[:2]
    parts = run.build_network(images=images, name="img")
    assert parts["n_samples"] == 2
    parts["network"].run(2 * run.net_config.sample_duration)
    with pytest.raises(ValueError, match="shape"):
        run.build_network(images=np.zeros((2, 5)))
    with pytest.raises(ValueError, match="one of"):
        run.build_network(probe_sample=0, images=images)


def test_spike_generator_arguments():
    spikes = latency_encode(np.array([[0.0, 0.5, 1.0], [0.9, 0.0, 0.3]]), n_steps=100, dt=1e-3)
    indices, times = spike_generator_arguments(spikes)
    expected = (spikes.sample * 100 + spikes.step) * 1e-3
    np.testing.assert_array_equal(indices, spikes.channel)
    np.testing.assert_allclose(np.asarray(times), expected)
    one_indices, one_times = spike_generator_arguments(spikes, sample=1)
    keep = spikes.sample == 1
    np.testing.assert_array_equal(one_indices, spikes.channel[keep])
    np.testing.assert_allclose(np.asarray(one_times), spikes.step[keep] * 1e-3)
    with pytest.raises(IndexError):
        spike_generator_arguments(spikes, sample=2)


def test_not_a_run(tmp_path):
    with pytest.raises(RunFolderError, match="no config.json"):
        ei_brian.load_run(tmp_path)
    (tmp_path / "config.json").write_text('{"format": "other"}')
    with pytest.raises(RunFolderError, match="another version"):
        ei_brian.load_run(tmp_path)
    warnings.simplefilter("default")
