"""Tests of ei_brian.analysis: Van Rossum distance, Neo/NIX conversion, measures and the analyze command."""
import argparse
import hashlib
import json
import math
import os
import warnings

import numpy as np
import pytest
import quantities as pq

neo = pytest.importorskip("neo")
elephant_dissimilarity = pytest.importorskip("elephant.spike_train_dissimilarity")
elephant_statistics = pytest.importorskip("elephant.statistics")

from ei_brian import analysis  # noqa: E402
from ei_brian.cli import analyze as analyze_command  # noqa: E402
from ei_brian.analysis import van_rossum_distance  # noqa: E402
from ei_brian.analysis.measures import MEASURE_NAMES  # noqa: E402
from ei_brian.analysis.vanrossum import _kernel_sums  # noqa: E402
from ei_brian.io import RunFolderError, save_probe_spikes  # noqa: E402

MS = pq.ms


def train(times, units="s", t_stop=None):
    times = np.asarray(times, dtype=float)
    if t_stop is None:
        t_stop = (times.max() + 1.0) if times.size else 1.0
    return neo.SpikeTrain(times, units=units, t_stop=t_stop)


def elephant_van_rossum(trains, time_constant, sort=True):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # Elephant's note on clipped rounding
        return elephant_dissimilarity.van_rossum_distance(trains, time_constant, sort=sort)


# ---------------------------------------------------------------------------------------------------
# Van Rossum distance: hand-computed cases
# ---------------------------------------------------------------------------------------------------

def test_two_single_spikes_hand_computed():
    # K_11 = K_22 = 1, K_12 = exp(-|t1 - t2| / tau) = exp(-30 ms / 10 ms):
    # Elephant's D = sqrt(K_11 + K_22 - 2 K_12) = sqrt(2 - 2 exp(-3)).
    trains = [train([0.100]), train([0.130])]
    expected = math.sqrt(2.0 - 2.0 * math.exp(-3.0))
    distances = van_rossum_distance(trains, 10 * MS)
    assert distances.shape == (2, 2)
    assert distances[0, 1] == pytest.approx(expected, rel=1e-12)
    assert distances[1, 0] == pytest.approx(expected, rel=1e-12)
    assert distances[0, 0] == 0.0 and distances[1, 1] == 0.0
    # and Elephant agrees with the hand computation (the normalisation is Elephant's)
    assert elephant_van_rossum(trains, 10 * MS)[0, 1] == pytest.approx(expected, rel=1e-12)


def test_empty_and_small_trains_hand_computed():
    trains = [train([]), train([0.5]), train([0.10, 0.12]), train([])]
    distances = van_rossum_distance(trains, 10 * MS)
    assert distances[0, 1] == pytest.approx(1.0, rel=1e-14)  # Elephant's normalisation
    assert distances[0, 3] == 0.0  # two empty trains
    # two spikes 20 ms apart against nothing: sqrt(K_22) = sqrt(2 + 2 exp(-2))
    assert distances[0, 2] == pytest.approx(math.sqrt(2 + 2 * math.exp(-2.0)), rel=1e-12)
    # one spike at 0.5 s against two near 0.1 s: the cross term exp(-38) + exp(-40) is negligible
    expected = math.sqrt(1 + 2 + 2 * math.exp(-2.0) - 2 * (math.exp(-40.0) + math.exp(-38.0)))
    assert distances[1, 2] == pytest.approx(expected, rel=1e-12)


def test_train_against_itself_is_zero():
    rng = np.random.default_rng(3)
    times = np.sort(rng.uniform(0, 2, 50))
    trains = [train(times), train(times.copy()), train(times * 1000, units="ms", t_stop=3000)]
    distances = van_rossum_distance(trains, 10 * MS)
    assert np.all(np.diag(distances) == 0.0)
    # the same spikes in other objects (and units): zero up to rounding of sqrt(eps * K)
    assert np.all(distances < 1e-6)
    assert van_rossum_distance([train([0.2])] * 3, 10 * MS).max() == 0.0


def test_time_constant_zero_and_infinite_as_elephant():
    trains = [train([]), train([0.1]), train([0.1, 0.3, 0.5])]
    counts = np.array([0.0, 1.0, 3.0])
    zero = van_rossum_distance(trains, 0 * MS)
    infinite = van_rossum_distance(trains, np.inf * pq.s)
    np.testing.assert_allclose(zero, np.sqrt(counts[:, None] + counts[None, :]))
    np.testing.assert_allclose(infinite, np.abs(counts[:, None] - counts[None, :]))
    np.testing.assert_allclose(zero, elephant_van_rossum(trains, 0 * MS))
    np.testing.assert_allclose(infinite, elephant_van_rossum(trains, np.inf * pq.s))


def test_default_time_constant_is_elephants():
    trains = [train([0.1, 0.9]), train([0.4])]
    np.testing.assert_allclose(van_rossum_distance(trains),
                               elephant_dissimilarity.van_rossum_distance(trains), rtol=1e-12)
    expected = math.sqrt(2 + 2 * math.exp(-0.8) + 1 - 2 * (math.exp(-0.3) + math.exp(-0.5)))
    assert van_rossum_distance(trains)[0, 1] == pytest.approx(expected, rel=1e-12)


def test_no_trains_and_bad_arguments():
    assert van_rossum_distance([], 10 * MS).shape == (0, 0)
    with pytest.raises(TypeError, match="time unit"):
        van_rossum_distance([np.array([0.1, 0.2])], 10 * MS)
    with pytest.raises(TypeError, match="time unit"):
        van_rossum_distance([pq.Quantity([0.1], "mV")], 10 * MS)
    with pytest.raises(TypeError, match="time quantity"):
        van_rossum_distance([train([0.1])], 10.0)
    with pytest.raises(ValueError, match=">= 0"):
        van_rossum_distance([train([0.1])], -10 * MS)


# ---------------------------------------------------------------------------------------------------
# Van Rossum distance: agreement with Elephant and with a brute-force sum
# ---------------------------------------------------------------------------------------------------

def _random_trains(rng, n_trains, max_spikes, t_stop_s, units="s"):
    trains = []
    for _ in range(n_trains):
        times = np.sort(rng.uniform(0, t_stop_s, rng.integers(0, max_spikes + 1)))
        if units == "ms":
            trains.append(neo.SpikeTrain(times * 1e3, units="ms", t_stop=t_stop_s * 1e3))
        else:
            trains.append(neo.SpikeTrain(times, units="s", t_stop=t_stop_s))
    return trains


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("time_constant", [10 * MS, 1 * pq.s, 0.3 * MS])
def test_agrees_with_elephant_on_random_trains(seed, time_constant):
    rng = np.random.default_rng(seed)
    trains = _random_trains(rng, 25, 30, 1.0) + _random_trains(rng, 5, 10, 1.0, units="ms")
    trains.append(train(np.sort(rng.uniform(0, 1, 300)), t_stop=1.0))  # a much longer train
    fast = van_rossum_distance(trains, time_constant)
    reference = elephant_van_rossum(trains, time_constant)
    np.testing.assert_array_equal(np.diag(fast), 0.0)
    np.testing.assert_allclose(fast, reference, rtol=1e-9, atol=0)
    np.testing.assert_array_equal(fast, fast.T)


def test_agrees_with_elephant_on_unsorted_trains():
    rng = np.random.default_rng(7)
    sorted_trains = _random_trains(rng, 12, 20, 0.5)
    shuffled = [neo.SpikeTrain(rng.permutation(st.magnitude), units="s", t_stop=0.5) for st in sorted_trains]
    reference = elephant_van_rossum(sorted_trains, 10 * MS)
    np.testing.assert_allclose(van_rossum_distance(shuffled, 10 * MS), reference, rtol=1e-9)
    np.testing.assert_allclose(elephant_van_rossum(shuffled, 10 * MS, sort=True), reference, rtol=1e-9)
    # sort=False only promises sorted input; the result does not depend on it here
    np.testing.assert_allclose(van_rossum_distance(shuffled, 10 * MS, sort=False), reference, rtol=1e-9)


def test_agrees_with_elephant_on_edge_cases():
    base = np.array([0.010, 0.020, 0.021, 0.300])
    trains = [
        train([]), train([]), train([0.05]), train([0.05]),           # empty, one spike, coincident
        train(base), train(base), train(np.r_[base, 0.5]),            # identical, one spike more
        train(np.r_[base[:2], 0.0205, base[2:]]),                     # a spike between two others
        train(np.linspace(0, 0.999, 2000), t_stop=1.0),                # very different lengths
        train(1000.0 + base, t_stop=1001.0),                          # far from the others
        train(base * 1000, units="ms", t_stop=1000.0),                # other units, same spikes
    ]
    fast = van_rossum_distance(trains, 10 * MS)
    reference = elephant_van_rossum(trains, 10 * MS)
    counts = np.array([len(st) for st in trains], dtype=float)
    # relative 1e-9, except where the distance is zero up to rounding: sqrt(eps * K) ~ 1e-8 * n
    atol = 1e-7 * (counts[:, None] + counts[None, :])
    assert np.all(np.abs(fast - reference) <= 1e-9 * reference + atol)
    far = reference > 1e-3
    np.testing.assert_allclose(fast[far], reference[far], rtol=1e-9)
    assert fast[0, 1] == 0.0 and fast[2, 3] == 0.0 and fast[0, 2] == 1.0


def test_large_spike_times_do_not_overflow():
    rng = np.random.default_rng(11)
    offset = 1e4  # seconds; t / tau = 1e6 would overflow exp(t / tau) features
    trains = [train(offset + np.sort(rng.uniform(0, 5, 40)), t_stop=offset + 5) for _ in range(6)]
    fast = van_rossum_distance(trains, 10 * MS)
    assert np.all(np.isfinite(fast))
    np.testing.assert_allclose(fast, elephant_van_rossum(trains, 10 * MS), rtol=1e-9)


@pytest.mark.parametrize("block_size", [1, 2, 3, 7, 64, 10_000])
def test_kernel_sums_match_brute_force(block_size):
    rng = np.random.default_rng(block_size)
    values = [rng.uniform(0, 30, rng.integers(0, 15)) for _ in range(9)]
    values[3] = values[2].copy()  # coincident spikes
    values[4] = np.array([5.0, 5.0])  # two spikes at the same time in one train
    sums = _kernel_sums(values, block_size=block_size)
    expected = np.array([[np.exp(-np.abs(a[:, None] - b[None, :])).sum() for b in values] for a in values])
    np.testing.assert_allclose(sums, expected, rtol=1e-12, atol=1e-300)


def test_kernel_sums_many_trains_match_brute_force():
    # 2100 trains: n_trains**2 exceeds the pairs of a chunk, so pairs are added with np.add.at
    rng = np.random.default_rng(5)
    values = [rng.uniform(0, 200, rng.integers(0, 3)) for _ in range(2100)]
    owner = np.repeat(np.arange(len(values)), [len(v) for v in values])
    times = np.concatenate(values)
    expected = np.zeros((len(values), len(values)))
    np.add.at(expected, (owner[:, None], owner[None, :]), np.exp(-np.abs(times[:, None] - times[None, :])))
    for block_size in (4, None):
        np.testing.assert_allclose(_kernel_sums(values, block_size=block_size), expected,
                                   rtol=1e-12, atol=1e-300)


# ---------------------------------------------------------------------------------------------------
# Run folders fabricated with save_probe_spikes
# ---------------------------------------------------------------------------------------------------

N_EXC, N_INH, N_SAMPLES, T_STOP = 4, 2, 3, 0.1
REGULAR = 0.005 + 0.01 * np.arange(10)  # 10 spikes in 100 ms: 100 Hz, all ISIs 10 ms
I_SPIKES = {0: [0.012, 0.044], 1: [0.030], 2: []}


def _fixture_spikes(snapshot):
    """Spikes with hand-computable measures (see the expected values in the tests).

    E: neuron 0 regular at 100 Hz in every sample; neuron 1 silent (one spike in the final
    snapshot); neuron 2 with 1, 3 and 0 spikes; neuron 3 one spike per sample.
    I: neurons 4 and 5 identical.
    """
    spikes = []  # (time, neuron, sample)
    for sample in range(N_SAMPLES):
        spikes += [(t, 0, sample) for t in REGULAR]
        spikes += [(0.03 + 0.01 * sample, 3, sample)]
        for neuron in (4, 5):
            spikes += [(t, neuron, sample) for t in I_SPIKES[sample]]
    spikes += [(0.02, 2, 0), (0.01, 2, 1), (0.05, 2, 1), (0.07, 2, 1)]
    if snapshot == "final":
        spikes += [(0.05, 1, 0)]
    return spikes


def write_probe_file(path, snapshot, spikes=None, epoch=None):
    spikes = _fixture_spikes(snapshot) if spikes is None else spikes
    times, neurons, samples = (np.array(column) for column in zip(*spikes)) if spikes else ([], [], [])
    if epoch is None:
        epoch = 0 if snapshot == "initial" else 5
    save_probe_spikes(path, snapshot=snapshot, epoch=epoch, times=times, neurons=neurons, samples=samples,
                      sample_indices=np.array([17, 4, 250]), sample_labels=np.array([3, 9, 0]),
                      n_exc=N_EXC, n_inh=N_INH, t_stop=T_STOP, dt=0.001)


CONFIG = {
    "network": {"ratio": "67:33", "n_hidden": 6, "unbounded": False, "tau_mem": "20.0 ms"},
    "train": {"dataset": "fashion-mnist", "seed": 7, "epochs": 5, "init_scale_exc": 0.5,
              "init_scale_inh": 2.0, "learning_rate": 0.002},
    "noise": {"weight_update": 0.1, "levels": [0.0, 0.1]},
    "label": "abc123",
}


def make_run(folder, final=True, config=CONFIG):
    os.makedirs(folder, exist_ok=True)
    write_probe_file(os.path.join(folder, "spikes_initial.npz"), "initial")
    if final:
        write_probe_file(os.path.join(folder, "spikes_final.npz"), "final")
    if config is not None:
        with open(os.path.join(folder, "config.json"), "w") as file:
            json.dump(config, file)
    with open(os.path.join(folder, "metrics.csv"), "w") as file:
        file.write("epoch,train_loss\n1,2.3\n")
    np.savez(os.path.join(folder, "weights.npz"), xe=np.ones((2, 2)))
    return str(folder)


def folder_state(folder):
    state = {}
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        with open(path, "rb") as file:
            state[name] = (hashlib.sha256(file.read()).hexdigest(), os.stat(path).st_mtime_ns)
    return state


@pytest.fixture
def run_dir(tmp_path):
    return make_run(tmp_path / "run_a")


# ---------------------------------------------------------------------------------------------------
# Neo conversion
# ---------------------------------------------------------------------------------------------------

def test_probe_file_to_neo_annotations_and_selection(run_dir):
    probe = analysis.spiketrains_from_probe_file(os.path.join(run_dir, "spikes_initial.npz"))
    assert probe.snapshots == ("initial",)
    assert len(probe.spiketrains) == N_SAMPLES * (N_EXC + N_INH)
    st = probe.train("initial", 1, 2)
    np.testing.assert_array_equal(st.magnitude, [0.01, 0.05, 0.07])
    assert st.units == pq.s and float(st.t_start) == 0.0 and float(st.t_stop) == T_STOP
    assert st.annotations["population"] == "E" and st.annotations["neuron"] == 2
    assert st.annotations["neuron_in_population"] == 2 and st.annotations["sample"] == 1
    assert st.annotations["sample_index"] == 4 and st.annotations["label"] == 9
    assert st.annotations["snapshot"] == "initial"
    inhibitory = probe.select(population="I", sample=0)
    assert [s.annotations["neuron"] for s in inhibitory] == [4, 5]
    assert [s.annotations["neuron_in_population"] for s in inhibitory] == [0, 1]
    assert all(s.annotations["population"] == "I" for s in inhibitory)
    np.testing.assert_array_equal(inhibitory[1].magnitude, I_SPIKES[0])
    neuron_0 = probe.select(neuron=0)
    assert [s.annotations["sample"] for s in neuron_0] == [0, 1, 2]
    assert all(np.allclose(s.magnitude, REGULAR) for s in neuron_0)
    assert len(probe.select(population="E")) == N_SAMPLES * N_EXC
    assert len(probe.select(neuron=[0, 5], sample=[0, 2])) == 4
    assert probe.select(neuron=1, sample=0)[0].size == 0  # silent neuron: an empty train
    with pytest.raises(ValueError, match="population"):
        probe.select(population="X")


def test_load_run_both_snapshots_and_missing_final(run_dir, tmp_path):
    probe = analysis.load_run_spiketrains(run_dir)
    assert probe.snapshots == ("initial", "final") and probe.missing == ()
    finals = probe.select(snapshot="final", neuron=1)
    assert [s.size for s in finals] == [1, 0, 0]
    assert finals[0].annotations["epoch"] == 5
    interrupted = analysis.load_run_spiketrains(make_run(tmp_path / "interrupted", final=False))
    assert interrupted.snapshots == ("initial",) and interrupted.missing == ("final",)


def test_block_and_nix_round_trip(run_dir, tmp_path):
    probe = analysis.load_run_spiketrains(run_dir)
    block = probe.to_block()
    assert len(block.segments) == 2 * N_SAMPLES
    assert all(len(segment.spiketrains) == N_EXC + N_INH for segment in block.segments)
    assert len(block.groups) == N_EXC + N_INH

    with open(os.path.join(run_dir, "config.json"), "w") as file:  # n_exc also in the config
        json.dump(dict(CONFIG, n_exc=N_EXC, n_inh=N_INH), file)
    path = analysis.export_nix(run_dir, str(tmp_path / "out" / "run_a.nix"))
    assert os.listdir(tmp_path / "out") == ["run_a.nix"]  # no temporary file left
    back = analysis.read_nix(path)
    assert back.annotations["ratio"] == "67:33" and back.annotations["seed"] == 7
    assert back.annotations["n_exc"] == N_EXC and back.annotations["n_inh"] == N_INH
    assert len(back.segments) == 2 * N_SAMPLES
    count = 0
    for segment in back.segments:
        snapshot, sample = segment.annotations["snapshot"], segment.annotations["sample"]
        for st in segment.spiketrains:
            original = probe.train(snapshot, sample, st.annotations["neuron"])
            np.testing.assert_array_equal(st.rescale(pq.s).magnitude, original.magnitude)
            assert float(st.t_stop.rescale(pq.s)) == T_STOP
            for key in ("population", "neuron_in_population", "sample", "sample_index", "label",
                        "snapshot", "epoch"):
                assert st.annotations[key] == original.annotations[key]
            count += 1
    assert count == len(probe.spiketrains)
    by_neuron = {group.annotations["neuron"]: group for group in back.groups}
    assert len(by_neuron[4].spiketrains) == 2 * N_SAMPLES
    assert all(st.annotations["population"] == "I" for st in by_neuron[4].spiketrains)

    subset = analysis.read_nix(analysis.export_nix(probe, str(tmp_path / "sample2.nix"), samples=[2]))
    assert [(seg.annotations["snapshot"], seg.annotations["sample"]) for seg in subset.segments] == [
        ("initial", 2), ("final", 2)]
    np.testing.assert_array_equal(subset.segments[0].spiketrains[2].magnitude, [])
    np.testing.assert_allclose(subset.segments[1].spiketrains[0].magnitude, REGULAR)


def test_spike_monitor_conversion():
    brian2 = pytest.importorskip("brian2")
    from brian2 import Hz, Network, NeuronGroup, SpikeGeneratorGroup, SpikeMonitor, ms, prefs, set_device
    from brian2.devices.device import get_device, reset_device

    previous_target = prefs.codegen.target
    previous_device = get_device()
    set_device("runtime")
    prefs.codegen.target = "numpy"
    try:
        generator = SpikeGeneratorGroup(3, [0, 2, 0, 2], [1.0, 2.5, 7.0, 19.9] * ms, name="generator")
        group = NeuronGroup(3, "dv/dt = rate : 1\nrate : Hz (constant)", threshold="v >= 1",
                            reset="v = 0", method="euler", name="drifting")
        group.rate = [0, 130, 310] * Hz
        generator_monitor = SpikeMonitor(generator)
        group_monitor = SpikeMonitor(group)
        network = Network(generator, group, generator_monitor, group_monitor)
        network.run(20 * ms)

        trains = analysis.spiketrains_from_monitor(generator_monitor, population="E")
        assert len(trains) == 3
        np.testing.assert_allclose(trains[0].rescale(pq.ms).magnitude, [1.0, 7.0])
        assert trains[1].size == 0
        np.testing.assert_allclose(trains[2].rescale(pq.ms).magnitude, [2.5, 19.9])
        assert float(trains[0].t_start) == 0.0
        assert float(trains[0].t_stop.rescale(pq.ms)) == pytest.approx(20.0)
        assert trains[2].annotations == {"source": "generator", "population": "E", "neuron": 2,
                                         "neuron_in_population": 2}
        assert trains[0].units == pq.s

        drifting = analysis.spiketrains_from_monitor(group_monitor)
        assert [st.size for st in drifting] == list(group_monitor.count[:])
        assert drifting[0].size == 0 and drifting[2].size > drifting[1].size > 0
        for k, times in group_monitor.spike_trains().items():
            np.testing.assert_array_equal(drifting[k].magnitude, np.asarray(times / brian2.second))
        window = analysis.spiketrains_from_monitor(generator_monitor, t_start=2 * ms, t_stop=0.010 * pq.s)
        assert [list(np.round(st.rescale(pq.ms).magnitude, 9)) for st in window] == [[7.0], [], [2.5]]
        assert float(window[0].t_start.rescale(pq.ms)) == pytest.approx(2.0)
    finally:
        prefs.codegen.target = previous_target
        reset_device(previous_device)


# ---------------------------------------------------------------------------------------------------
# Measures
# ---------------------------------------------------------------------------------------------------

def _summary_dict(measures):
    return {(row.snapshot, row.population, row.measure): row.value
            for row in measures.summary.itertuples()}


def test_measures_hand_computed(run_dir):
    measures = analysis.compute_measures(analysis.load_run_spiketrains(run_dir), 10 * MS)
    values = _summary_dict(measures)
    initial = {key[2]: value for key, value in values.items() if key[:2] == ("initial", "E")}
    # rates (Hz): neuron 0 100, neuron 1 0, neuron 2 4 spikes / 0.3 s, neuron 3 10
    rates = np.array([100.0, 0.0, 4 / 0.3, 10.0])
    assert initial["rate_mean_hz"] == pytest.approx(rates.mean(), rel=1e-12)
    assert initial["rate_std_hz"] == pytest.approx(rates.std(), rel=1e-12)
    assert initial["rate_max_hz"] == pytest.approx(100.0) and initial["rate_min_hz"] == 0.0
    assert initial["silent_fraction"] == 0.25
    assert values[("final", "E", "silent_fraction")] == 0.0  # neuron 1 spikes once after training
    # CV: three regular trains (0) and neuron 2 sample 1, ISIs 40 and 20 ms: std / mean = 10 / 30
    assert initial["cv_isi_n_trains"] == 4
    assert initial["cv_isi"] == pytest.approx((0 + 0 + 0 + 1 / 3) / 4, abs=1e-12)
    # Fano factors of counts across samples: neuron 0 [10, 10, 10] -> 0; neuron 2 [1, 3, 0] ->
    # var 14/9 / mean 4/3 = 7/6; neuron 3 [1, 1, 1] -> 0; the silent neuron 1 is left out
    assert initial["fano_factor_n_neurons"] == 3
    assert initial["fano_factor"] == pytest.approx(7 / 18, rel=1e-12)
    inhibitory = {key[2]: value for key, value in values.items() if key[:2] == ("initial", "I")}
    assert inhibitory["n_neurons"] == 2 and inhibitory["n_samples"] == 3
    assert inhibitory["rate_mean_hz"] == pytest.approx(10.0)
    assert inhibitory["fano_factor"] == pytest.approx((2 / 3) / 1, rel=1e-12)  # counts [2, 1, 0]
    assert inhibitory["cv_isi_n_trains"] == 0 and math.isnan(inhibitory["cv_isi"])
    # Van Rossum (a): the two I neurons are identical in every sample
    assert inhibitory["van_rossum_within_population"] == 0.0
    # Van Rossum (b), tau = 10 ms: sample 0 {12, 44 ms}, sample 1 {30 ms}, sample 2 {}
    k00, k11 = 2 + 2 * math.exp(-3.2), 1.0
    k01 = math.exp(-1.8) + math.exp(-1.4)
    expected = (math.sqrt(k00 + k11 - 2 * k01) + math.sqrt(k00) + math.sqrt(k11)) / 3
    assert inhibitory["van_rossum_between_samples"] == pytest.approx(expected, rel=1e-12)
    neurons = measures.neurons
    row = neurons[(neurons.snapshot == "initial") & (neurons.neuron == 2)].iloc[0]
    assert row.rate_hz == pytest.approx(4 / 0.3) and row.fano_factor == pytest.approx(7 / 6)
    assert row.cv_isi == pytest.approx(1 / 3) and not row.silent
    assert set(measures.summary.measure) == set(MEASURE_NAMES)


def _random_run(folder, seed):
    rng = np.random.default_rng(seed)
    spikes = []
    for sample in range(N_SAMPLES):
        for neuron in range(N_EXC + N_INH):
            for t in np.unique(np.round(rng.uniform(0, T_STOP, rng.poisson(6)), 4)):
                spikes.append((t, neuron, sample))
    os.makedirs(folder, exist_ok=True)
    write_probe_file(os.path.join(folder, "spikes_initial.npz"), "initial", spikes=spikes)
    return analysis.load_run_spiketrains(folder)


def test_measures_agree_with_elephant_on_random_spikes(tmp_path):
    probe = _random_run(tmp_path / "random", seed=5)
    tau = 10 * MS
    measures = analysis.compute_measures(probe, tau)
    values = _summary_dict(measures)
    for population in ("E", "I"):
        neurons = probe.neurons(population)

        def value(measure):
            return values[("initial", population, measure)]

        rates = [np.mean([float(elephant_statistics.mean_firing_rate(st).rescale(pq.Hz))
                          for st in probe.select(neuron=k)]) for k in neurons]
        assert value("rate_mean_hz") == pytest.approx(np.mean(rates), rel=1e-12)
        table = measures.neurons[measures.neurons.population == population]
        np.testing.assert_allclose(table.rate_hz, rates, rtol=1e-12)
        cvs = [elephant_statistics.cv(elephant_statistics.isi(st)) for st in
               probe.select(population=population) if len(st) >= 3]
        assert value("cv_isi") == pytest.approx(np.mean(cvs), rel=1e-12)
        for k, neuron_cv in zip(neurons, table.cv_isi):
            cvs = [elephant_statistics.cv(elephant_statistics.isi(st.magnitude))
                   for st in probe.select(neuron=k) if len(st) >= 3]
            assert neuron_cv == pytest.approx(np.mean(cvs), rel=1e-12) if cvs else math.isnan(neuron_cv)
        fanos = [elephant_statistics.fanofactor(probe.select(neuron=k)) for k in neurons]
        assert value("fano_factor") == pytest.approx(np.nanmean(fanos), rel=1e-12)
        within = [elephant_van_rossum(probe.select(population=population, sample=s), tau)
                  for s in range(N_SAMPLES)]
        within = np.mean([d[np.triu_indices(len(neurons), 1)].mean() for d in within])
        assert value("van_rossum_within_population") == pytest.approx(within, rel=1e-9)
        pairs = np.triu_indices(N_SAMPLES, 1)
        between = np.mean([elephant_van_rossum(probe.select(neuron=k), tau)[pairs].mean() for k in neurons])
        assert value("van_rossum_between_samples") == pytest.approx(between, rel=1e-9)


def test_run_parameters_from_nested_config():
    parameters = analysis.run_parameters(CONFIG)
    assert parameters["ratio"] == "67:33" and parameters["seed"] == 7
    assert parameters["unbounded"] is False and parameters["dataset"] == "fashion-mnist"
    assert parameters["init_scale_exc"] == 0.5 and parameters["label"] == "abc123"
    assert parameters["weight_update"] == 0.1 and parameters["levels"] == "[0.0, 0.1]"
    assert "learning_rate" not in parameters and "tau_mem" not in parameters
    assert analysis.run_parameters({}) == {}
    clash = analysis.run_parameters({"a": {"seed": 1}, "b": {"seed": 2}})
    assert clash == {"a_seed": 1, "b_seed": 2}


# ---------------------------------------------------------------------------------------------------
# The analyze command
# ---------------------------------------------------------------------------------------------------

def analyze(*arguments):
    parser = argparse.ArgumentParser()
    analyze_command.add_analyze_arguments(parser)
    return analyze_command.run_analyze_command(parser.parse_args([str(a) for a in arguments]))


def test_analyze_command_writes_tables_and_changes_nothing_else(run_dir, capsys):
    pd = pytest.importorskip("pandas")
    before = folder_state(run_dir)
    assert analyze(run_dir, "--plots") == 0
    after = folder_state(run_dir)
    added = set(after) - set(before)
    assert added == {"analysis.csv", "analysis_neurons.csv", "analysis_raster.png",
                     "analysis_rates.png", "analysis_van_rossum.png"}
    assert {name: after[name] for name in before} == before  # nothing else touched
    for name in ("analysis_raster.png", "analysis_rates.png", "analysis_van_rossum.png"):
        with open(os.path.join(run_dir, name), "rb") as file:
            assert file.read(8) == b"\x89PNG\r\n\x1a\n"

    table = pd.read_csv(os.path.join(run_dir, "analysis.csv"))
    assert list(table.columns[:7]) == ["run", "snapshot", "epoch", "population", "measure", "value",
                                       "time_constant_ms"]
    for column in ("ratio", "seed", "unbounded", "dataset", "n_exc", "n_inh", "init_scale_exc",
                   "init_scale_inh", "weight_update", "label"):
        assert column in table.columns, column
    assert set(table.run) == {"run_a"} and set(table.ratio) == {"67:33"} and set(table.seed) == {7}
    assert set(table.n_exc) == {N_EXC} and set(table.time_constant_ms) == {10.0}
    silent = table[(table.measure == "silent_fraction") & (table.population == "E")]
    assert dict(zip(silent.snapshot, silent.value)) == {"initial": 0.25, "final": 0.0}
    assert set(table.epoch) == {0, 5}
    neurons = pd.read_csv(os.path.join(run_dir, "analysis_neurons.csv"))
    assert len(neurons) == 2 * (N_EXC + N_INH)
    out = capsys.readouterr().out
    assert "run_a" in out and "silent_fraction" in out and "initial E" in out and "final I" in out


def test_analyze_command_time_constant_and_combined_output(tmp_path):
    pd = pytest.importorskip("pandas")
    make_run(tmp_path / "runs" / "seed0")
    make_run(tmp_path / "runs" / "seed1", config=dict(CONFIG, train=dict(CONFIG["train"], seed=1)))
    (tmp_path / "runs" / "notes.txt").write_text("not a run")
    output = tmp_path / "summary" / "all.csv"
    assert analyze(str(tmp_path / "runs" / "seed*"), "--time-constant-ms", "5", "--output", output) == 0
    combined = pd.read_csv(output)
    assert set(combined.run) == {"seed0", "seed1"} and set(combined.seed) == {7, 1}
    assert set(combined.time_constant_ms) == {5.0}
    # tau = 5 ms changes the between-sample distance of the I neurons in the hand-computed way
    k00, k01 = 2 + 2 * math.exp(-6.4), math.exp(-3.6) + math.exp(-2.8)
    expected = (math.sqrt(k00 + 1 - 2 * k01) + math.sqrt(k00) + 1) / 3
    rows = combined[(combined.measure == "van_rossum_between_samples") & (combined.population == "I")]
    np.testing.assert_allclose(rows.value, expected, rtol=1e-12)


def test_analyze_command_quiet_prints_nothing_but_problems(tmp_path, capsys):
    make_run(tmp_path / "runs" / "seed0")
    make_run(tmp_path / "runs" / "seed1", config=dict(CONFIG, train=dict(CONFIG["train"], seed=1)))
    output = tmp_path / "all.csv"
    assert analyze(str(tmp_path / "runs" / "seed*"), "--out", output, "--quiet") == 0
    printed = capsys.readouterr()
    assert printed.out == "" and "analyze" not in printed.err and output.exists()
    assert analyze(str(tmp_path / "runs" / "seed*"), "--out", output) == 0
    assert "wrote 2 run(s)" in capsys.readouterr().out


def test_analyze_command_interrupted_run(tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    folder = make_run(tmp_path / "interrupted", final=False)
    assert analyze(folder) == 0
    captured = capsys.readouterr()
    assert "spikes_final.npz is missing" in captured.out
    table = pd.read_csv(os.path.join(folder, "analysis.csv"))
    assert set(table.snapshot) == {"initial"}


def _corrupt(folder):
    with open(os.path.join(folder, "spikes_final.npz"), "wb") as file:
        file.write(b"PK\x03\x04 this is not a zip archive")


def _wrong_version(folder):
    path = os.path.join(folder, "spikes_initial.npz")
    with np.load(path) as data:
        arrays = {key: data[key] for key in data.files}
    arrays["format_version"] = np.array(2)
    np.savez(path, **arrays)


def _no_spikes(folder):
    os.remove(os.path.join(folder, "spikes_initial.npz"))
    os.remove(os.path.join(folder, "spikes_final.npz"))


def _bad_config(folder):
    with open(os.path.join(folder, "config.json"), "w") as file:
        file.write("{not json")


@pytest.mark.parametrize("breaker, message", [
    (_corrupt, "cannot be read"),
    (_wrong_version, "format version 2"),
    (_no_spikes, "no probe spike-train file"),
    (_bad_config, "cannot be read as JSON"),
])
def test_analyze_command_reports_broken_folder_and_continues(tmp_path, capsys, breaker, message):
    good = make_run(tmp_path / "good")
    broken = make_run(tmp_path / "broken")
    breaker(broken)
    before = folder_state(broken)
    assert analyze(broken, good) == 1
    captured = capsys.readouterr()
    error_lines = [line for line in captured.err.splitlines() if line.startswith("error: cannot analyse")]
    assert len(error_lines) == 1
    assert broken in error_lines[0] and message in error_lines[0]
    assert folder_state(broken) == before  # nothing written into the broken folder
    assert os.path.exists(os.path.join(good, "analysis.csv"))  # the good one is still analysed
    with pytest.raises(RunFolderError, match=message):
        analysis.analyze_run(broken)


def test_analyze_command_missing_folder_and_empty_pattern(tmp_path, capsys):
    assert analyze(tmp_path / "nowhere", str(tmp_path / "nothing*")) == 1
    err = capsys.readouterr().err
    assert "does not exist" in err and "matches no folder" in err
