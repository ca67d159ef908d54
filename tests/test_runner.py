"""The compiled Brian2 network: its recordings, the replay the gradients assume, run_args files."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import active_weights, random_input, small_config
from ei_brian import gradients
from ei_brian.network import membrane_noise_drive
from ei_brian import runner
from ei_brian.runner import (CompiledNetwork, CompiledRunError, _drop_per_step_clock,
                              _direct_synaptic_events, source_digest)

pytestmark = pytest.mark.compiled


@pytest.fixture(scope="module")
def compiled():
    config = small_config()
    with CompiledNetwork(config, samples_per_run=6, spike_capacity=2000, record_potentials=True,
                         verbose=False) as network:
        yield network


def static_arrays(network):
    return sorted(os.listdir(os.path.join(network.directory, "static_arrays")))


def test_replay_reproduces_the_compiled_run(compiled):
    config = compiled.config
    weights = active_weights(config)
    spike_input = random_input(config, 5)  # fewer samples than the run carries: padded
    result = compiled.run(weights, spike_input)
    assert result.hidden_spikes.shape == (5, config.n_steps, config.n_hidden)
    n_exc_spikes = result.hidden_spikes[..., :config.n_exc].sum()
    n_inh_spikes = result.hidden_spikes[..., config.n_exc:].sum()
    assert n_exc_spikes > 20 and n_inh_spikes > 10  # recurrent E and I activity
    free = gradients.forward(config, weights, spike_input)
    assert np.array_equal(free.spikes, result.hidden_spikes)
    assert np.abs(free.u - result.potentials).max() < 1e-9
    assert np.abs(free.readout - result.readout).max() < 1e-9
    replay = gradients.forward(config, weights, spike_input, hidden_spikes=result.hidden_spikes)
    assert np.abs(replay.u - result.potentials).max() < 1e-9


def test_new_weights_and_inputs_change_the_run_and_leave_no_files(compiled):
    config = compiled.config
    before = static_arrays(compiled)
    first = compiled.run(active_weights(config, seed=0), random_input(config, 6, seed=2))
    second = compiled.run(active_weights(config, seed=5), random_input(config, 6, seed=2))
    third = compiled.run(active_weights(config, seed=5), random_input(config, 6, seed=3))
    assert not np.array_equal(first.hidden_spikes, second.hidden_spikes)
    assert not np.array_equal(second.hidden_spikes, third.hidden_spikes)
    again = compiled.run(active_weights(config, seed=0), random_input(config, 6, seed=2))
    assert np.array_equal(first.hidden_spikes, again.hidden_spikes)
    assert static_arrays(compiled) == before


def test_samples_are_independent_state_is_reset_between_them(compiled):
    config = compiled.config
    weights = active_weights(config)
    batch = random_input(config, 6, seed=4)
    whole = compiled.run(weights, batch)
    alone = compiled.run(weights, batch.subset(3, 4))
    assert np.array_equal(whole.hidden_spikes[3], alone.hidden_spikes[0])
    np.testing.assert_allclose(whole.potentials[3], alone.potentials[0], atol=1e-12)


def test_a_counts_only_run_gives_the_readout_and_counts_of_a_full_run(compiled):
    """The evaluation's run: the same readout bit for bit, and each neuron's spike count over
    the real samples (the padding samples of a short minibatch add none)."""
    config = compiled.config
    weights = active_weights(config)
    spike_input = random_input(config, 4, seed=9)  # padded: the run carries 6
    full = compiled.run(weights, spike_input)
    counts = compiled.run(weights, spike_input, counts_only=True)
    assert counts.hidden_spikes is None
    assert np.array_equal(counts.readout, full.readout)
    assert counts.spike_counts.sum() > 20
    assert np.array_equal(counts.spike_counts, full.hidden_spikes.sum(axis=(0, 1)))
    assert np.array_equal(full.spike_counts, counts.spike_counts)


def test_the_compiled_loop_reads_the_cpu_clock_once_not_at_every_step(compiled, tmp_path):
    with open(os.path.join(compiled.directory, "network.cpp")) as f:
        source = f.read()
    start = source.index("while(clock && clock->running()")
    loop = source[start:source.index("Network::_globally_running = false;", start)]
    # inside the loop only the progress report (not asked for) reads the clock
    assert "std::clock()" not in loop[loop.index("Clock *obj_clock"):]
    assert "elapsed_realtime = (double)(current - start)" in source  # still set, once, after it
    # a network.cpp of another form is left as it is
    other = tmp_path / "network.cpp"
    other.write_text("int main() { return 0; }\n")
    assert not _drop_per_step_clock(str(tmp_path))
    assert other.read_text() == "int main() { return 0; }\n"


def test_bad_runs_are_refused(compiled):
    config = compiled.config
    weights = active_weights(config)
    with pytest.raises(ValueError, match="do not fit"):
        compiled.run(weights, random_input(config, 7))
    with pytest.raises(ValueError, match="capacity"):
        compiled.run(weights, random_input(config, 6, density=0.5))
    negative = dict(weights, w_ie=-weights["w_ie"])
    with pytest.raises(ValueError, match="Dale"):
        compiled.run(negative, random_input(config, 2))
    with pytest.raises(ValueError, match="shape"):
        compiled.run(dict(weights, w_xe=weights["w_xe"][:5]), random_input(config, 2))


def test_a_run_whose_inputs_the_binary_cannot_read_raises(compiled):
    # the binary itself only prints a warning and goes on with stale values: it must not pass
    weights = compiled.parts["synapses"][next(iter(compiled.parts["synapses"]))].w
    with pytest.raises(CompiledRunError, match="could not read"):
        compiled._run_binary({weights: np.zeros(3)})


@pytest.mark.parametrize("options", [{}, {"membrane_noise": 0.2, "tau_spread_exc": 0.3,
                                          "tau_spread_inh": 0.3}])
def test_runs_served_by_one_process_equal_runs_in_new_processes(options):
    """A process of the program that serves run after run (new weights, inputs, noise, padded
    minibatches) records what a new process for each run records, bit for bit."""
    config = small_config(**options)
    time_constants = config.time_constants(1) if config.heterogeneous else None
    recorded = {}
    for serve in (True, False):
        with CompiledNetwork(config, samples_per_run=6, spike_capacity=2000,
                             record_potentials=True, verbose=False, processes=2,
                             serve=serve) as network:
            assert network.serves  # the generated main.cpp took the loop
            runs = []
            for k, n_samples in enumerate((6, 5, 3, 6, 1)):
                drive = (membrane_noise_drive(config, n_samples, k, time_constants)
                         if config.membrane_noise else None)
                runs.append(network.run(active_weights(config, seed=k % 3),
                                        random_input(config, n_samples, seed=k),
                                        time_constants, drive))
            assert len(network._servers) == (2 if serve else 0)
            servers = list(network._servers.values())
        assert all(process.poll() is not None for process in servers)  # ended by close()
        recorded[serve] = runs
    assert recorded[True][1].hidden_spikes.sum() > 20
    for served, fresh in zip(recorded[True], recorded[False]):
        assert np.array_equal(served.hidden_spikes, fresh.hidden_spikes)
        assert served.readout.tobytes() == fresh.readout.tobytes()
        assert served.potentials.tobytes() == fresh.potentials.tobytes()


@pytest.mark.parametrize("options", [{}, {"connectivity": 0.3, "input_connectivity": 0.5}])
def test_pathways_without_delays_add_what_brians_spike_queue_adds(options, monkeypatch):
    """Each pathway adds its spikes' effects straight from the source's spikes, in runs of
    consecutive synapses (dense: one run a neuron, its whole row; sparse: runs of any length),
    and records what Brian2's own spike queue gives, bit for bit."""
    from ei_brian.structure import draw_structure
    config = small_config(**options)
    structure = draw_structure(config, 0) if options else None
    weights = [active_weights(config, seed=k) for k in range(2)]
    if structure is not None:
        weights = [structure.apply(w) for w in weights]
    recorded = {}
    for direct in (True, False):
        if not direct:
            monkeypatch.setattr(runner, "_direct_synaptic_events", lambda directory: 0)
        with CompiledNetwork(config, samples_per_run=6, spike_capacity=2000,
                             record_potentials=True, verbose=False,
                             structure=structure) as network:
            folder = os.path.join(network.directory, "code_objects")
            changed = [name for name in os.listdir(folder) if name.endswith("_pre_codeobject.cpp")
                       and "ei_brian: no delays" in open(os.path.join(folder, name)).read()]
            assert len(changed) == (4 if direct else 0)  # input, E, I to hidden; E to readout
            recorded[direct] = [network.run(weights[k], random_input(config, n, seed=k))
                                for k, n in enumerate((6, 4))]
    assert recorded[True][0].hidden_spikes.sum() > 20
    for new, queued in zip(recorded[True], recorded[False]):
        assert np.array_equal(new.hidden_spikes, queued.hidden_spikes)
        assert new.readout.tobytes() == queued.readout.tobytes()
        assert new.potentials.tobytes() == queued.potentials.tobytes()


def test_code_in_another_form_keeps_brians_spike_queue(tmp_path):
    folder = tmp_path / "code_objects"
    folder.mkdir()
    (folder / "a_pre_push_spikes.cpp").write_text("void f() { a_pre.push(spikes, n); }\n")
    (folder / "a_pre_codeobject.cpp").write_text("void g() { /* another template */ }\n")
    assert _direct_synaptic_events(str(tmp_path)) == 0
    assert (folder / "a_pre_codeobject.cpp").read_text() == "void g() { /* another template */ }\n"
    # the template's start, but a loop whose braces do not close
    (folder / "a_pre_push_spikes.cpp").write_text(
        "    a_pre.push(_ptr_array_x__spikespace, _ptr_array_x__spikespace[_num_spikespace-1]);\n")
    broken = ("    std::vector<int> *_spiking_synapses = a_pre.peek();\n"
              "    const int _num_spiking_synapses = _spiking_synapses->size();\n"
              "    {\n        for(int _spiking_synapse_idx=0;\n"
              "            _spiking_synapse_idx<_num_spiking_synapses;\n"
              "            _spiking_synapse_idx++)\n        {\n"
              "            const size_t _idx = (*_spiking_synapses)[_spiking_synapse_idx];\n"
              "            const size_t _vectorisation_idx = _idx;\n")
    (folder / "a_pre_codeobject.cpp").write_text(broken)
    assert _direct_synaptic_events(str(tmp_path)) == 0
    assert (folder / "a_pre_codeobject.cpp").read_text() == broken


def test_a_minibatch_split_over_processes_equals_one_process():
    """Two processes of 3 samples and one process carrying all 6 (another program) record the
    same, bit for bit, and each process writes only its monitors' arrays."""
    config = small_config()
    weights = active_weights(config)
    batch = random_input(config, 5, seed=6)  # parts of 3 and 2 samples
    recorded = []
    for processes in (2, 1):
        with CompiledNetwork(config, samples_per_run=6, spike_capacity=2000,
                             record_potentials=True, verbose=False,
                             processes=processes) as network:
            assert network.samples_per_process == 6 // processes
            recorded.append(network.run(weights, batch))
            written = os.listdir(os.path.join(network.scratch, "part0", "results"))
        assert any("spikes_t" in name for name in written)
        assert not [name for name in written
                    if "_w_" in name or "delay" in name or "synaptic" in name]
    split, whole = recorded
    assert split.hidden_spikes.sum() > 20
    assert np.array_equal(split.hidden_spikes, whole.hidden_spikes)
    assert np.array_equal(split.readout, whole.readout)
    assert np.array_equal(split.potentials, whole.potentials)


def test_unbounded_network_replay_matches():
    config = small_config(unbounded=True)
    weights = active_weights(config)
    spike_input = random_input(config, 3)
    with CompiledNetwork(config, samples_per_run=3, spike_capacity=2000, record_potentials=True,
                         verbose=False) as network:
        result = network.run(weights, spike_input)
    assert (weights["w_ee"] < 0).any()
    free = gradients.forward(config, weights, spike_input)
    assert result.hidden_spikes.sum() > 10
    assert np.array_equal(free.spikes, result.hidden_spikes)
    assert np.abs(free.u - result.potentials).max() < 1e-9


BUILD_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from conftest import small_config
from ei_brian.runner import CompiledNetwork
network = CompiledNetwork(small_config(n_hidden=10), samples_per_run=2, verbose=False)
print("compiled" if network.compiled else "reused", network.directory)
network.close()
"""


def test_processes_started_at_once_compile_once_and_share_the_build(tmp_path):
    """Three processes (other hash seeds: Brian2 orders some statements by a Python set) need
    the same new architecture at once: one compiles under the lock, the others wait and reuse."""
    script = BUILD_SCRIPT.format(tests=os.path.dirname(__file__))
    processes = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                                  env=dict(os.environ, EI_BRIAN_CACHE=str(tmp_path),
                                           PYTHONHASHSEED=str(seed)))
                 for seed in (1, 2, 6)]
    outputs = [process.communicate()[0].split() for process in processes]
    assert all(process.returncode == 0 for process in processes)
    assert sorted(word for word, _ in outputs) == ["compiled", "reused", "reused"]
    assert len({directory for _, directory in outputs}) == 1
    projects = [path for path in tmp_path.iterdir() if path.is_dir()]
    assert [path.name for path in projects] == [os.path.basename(outputs[0][1])]  # no staging left
    binary = projects[0] / "main"
    stamp = binary.stat().st_mtime_ns
    later = subprocess.run([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                           check=True, env=dict(os.environ, EI_BRIAN_CACHE=str(tmp_path)))
    assert later.stdout.startswith("reused") and binary.stat().st_mtime_ns == stamp


def test_the_build_key_follows_every_statement_but_the_clock_initialisations(tmp_path):
    main = ["int main() {", "  _array_a_clock_timestep[0] = 0;", "  _array_a_clock_t[0] = 0.0;",
            "  _array_b_clock_timestep[0] = 0;", "  _array_b_clock_t[0] = 0.0;",
            "  x = 1;", "  y = x + 1;", "}"]

    def digest(lines, static=b"\x00\x01"):
        folder = tmp_path / f"p{len(list(tmp_path.iterdir()))}"
        (folder / "static_arrays").mkdir(parents=True)
        (folder / "main.cpp").write_text("\n".join(lines))
        (folder / "makefile").write_text("CXXFLAGS = -O3")
        (folder / "static_arrays" / "_static_array_x").write_bytes(static)
        (folder / "results").mkdir()
        (folder / "results" / "out").write_bytes(os.urandom(8))  # results do not count
        return source_digest(folder)

    reference = digest(main)
    assert digest(main) == reference
    clocks_swapped = main[:1] + main[3:5] + main[1:3] + main[5:]
    assert digest(clocks_swapped) == reference
    statements_swapped = main[:5] + [main[6], main[5]] + main[7:]
    assert digest(statements_swapped) != reference
    assert digest(main, static=b"\x00\x02") != reference


def test_diverse_time_constants_and_membrane_noise_reach_the_compiled_run():
    config = small_config(tau_spread_exc=0.3, tau_spread_inh=0.5, inh_tau_factor=2.0,
                          membrane_noise=0.3)
    weights = active_weights(config)
    spike_input = random_input(config, 3)
    time_constants = config.time_constants(seed=11)
    noise = membrane_noise_drive(config, 3, seed=5, time_constants=time_constants)
    with CompiledNetwork(config, samples_per_run=3, spike_capacity=2000, record_potentials=True,
                         verbose=False) as network:
        result = network.run(weights, spike_input, time_constants=time_constants,
                             membrane_noise=noise)
        other = network.run(weights, spike_input, time_constants=config.time_constants(seed=12),
                            membrane_noise=noise)
        with pytest.raises(ValueError, match="time_constants"):
            network.run(weights, spike_input, membrane_noise=noise)
    free = gradients.forward(config, weights, spike_input, time_constants=time_constants,
                             membrane_noise=noise)
    assert np.array_equal(free.spikes, result.hidden_spikes)
    assert np.abs(free.u - result.potentials).max() < 1e-9
    assert not np.allclose(other.potentials, result.potentials)


def test_membrane_noise_gives_the_stated_variance_on_an_isolated_neuron():
    # no input, threshold out of reach: the potential is the filtered noise alone
    config = small_config(n_hidden=10, n_steps=200, membrane_noise=0.25, v_threshold=1e6)
    weights = {name: np.zeros(shape) for name, shape in
               ((f"w_{p}", config.projection_shape(p)) for p in config.projections)}
    n_samples = 20
    noise = membrane_noise_drive(config, n_samples, seed=0)
    empty = random_input(config, n_samples, density=0.0)
    with CompiledNetwork(config, samples_per_run=n_samples, spike_capacity=10,
                         record_potentials=True, verbose=False) as network:
        result = network.run(weights, empty, membrane_noise=noise)
    stationary = result.potentials[:, 50:, :]  # after 10 membrane time constants
    # 20 samples x 150 steps x 10 neurons, correlated over ~20 steps: the std is known to ~3%
    assert stationary.std() == pytest.approx(0.25, rel=0.08)
    assert abs(stationary.mean()) < 0.03


def test_a_failing_build_shows_the_compiler_output(tmp_path):
    from brian2 import prefs

    from ei_brian.runner import BuildError
    compiler = tmp_path / "broken-make"
    compiler.write_text("#!/bin/sh\necho 'objects.cpp:12: error: a compiler that always fails'\n"
                        "exit 2\n")
    compiler.chmod(0o755)
    previous = prefs.devices.cpp_standalone.make_cmd_unix
    prefs.devices.cpp_standalone.make_cmd_unix = str(compiler)
    try:
        with pytest.raises(BuildError) as caught:
            CompiledNetwork(small_config(n_hidden=12), samples_per_run=2,
                            cache_dir=str(tmp_path / "cache"), verbose=False)
    finally:
        prefs.devices.cpp_standalone.make_cmd_unix = previous
    message = str(caught.value)
    assert "a compiler that always fails" in message and "exited with 2" in message
    logs = list((tmp_path / "cache").glob("build-failed-*.log"))
    assert len(logs) == 1 and "always fails" in logs[0].read_text()
    assert not [p for p in (tmp_path / "cache").iterdir()
                if p.is_dir() and len(p.name) == 64]  # nothing half-built under a digest
    # Brian2 is back on the runtime device: the next network builds and runs
    with CompiledNetwork(small_config(n_hidden=12), samples_per_run=2, verbose=False) as network:
        assert network.digest


def test_the_files_of_runs_go_where_the_user_says_or_into_memory(tmp_path, monkeypatch):
    from ei_brian import runner
    monkeypatch.setenv("EI_BRIAN_SCRATCH", str(tmp_path))
    assert runner.scratch_root() == str(tmp_path)
    monkeypatch.delenv("EI_BRIAN_SCRATCH")
    monkeypatch.setattr(runner, "SHARED_MEMORY", str(tmp_path / "missing"))
    assert runner.scratch_root() is None  # the system's temporary folder
    monkeypatch.setattr(runner, "SHARED_MEMORY", str(tmp_path))
    expected = str(tmp_path) if shutil.disk_usage(tmp_path).free >= 1 << 30 else None
    assert runner.scratch_root() == expected


def test_scratch_folders_of_ended_processes_are_removed_and_others_kept(tmp_path):
    """A killed run cannot close its network; the next network removes what it left in the
    scratch folder (in /dev/shm it would hold memory until the machine restarts)."""
    import socket

    from ei_brian.runner import SCRATCH_PREFIX, remove_orphaned_scratch
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    host = socket.gethostname()
    names = {"ended": f"{SCRATCH_PREFIX}{host}-{ended.pid}-abc_123x",
             "alive": f"{SCRATCH_PREFIX}{host}-{os.getpid()}-abc_123x",
             "other host": f"{SCRATCH_PREFIX}elsewhere-{ended.pid}-abc_123x",
             "older name": f"{SCRATCH_PREFIX}abc_123x",
             "not ours": "something_else"}
    for name in names.values():
        (tmp_path / name).mkdir()
        (tmp_path / name / "weights.bin").write_bytes(b"\0" * 16)
    assert remove_orphaned_scratch(str(tmp_path)) == [names["ended"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        name for key, name in names.items() if key != "ended")
