"""Compiled runs: build the C++ standalone project once, rerun it with new weights and inputs.

One :class:`CompiledNetwork` owns Brian2's standalone device while it lives.

**Build.** The network's code is generated into a private staging folder; the project is keyed
by the SHA-256 of what decides the program (every generated source file, the makefile and the
static arrays, verbatim except for one block of statements that Brian2 emits in a varying order,
see :func:`source_digest`). The compiled project lives in ``<cache>/<digest>``: the first process
to need it compiles the staging folder and renames it into place under a file lock; any other
process, in parallel or later, waits for the lock and reuses the binary. A project in the cache
is never written again, so any number of processes may run it at once.

**Runs.** Each :meth:`CompiledNetwork.run` passes the weights and one minibatch of input spikes
as run arguments of the binary (Brian2's ``run_args``: ``<group>.<variable>=<file>``) that name
files in a folder of this ``CompiledNetwork``'s own (a temporary folder, in memory where the
system allows, see :func:`scratch_root`; removed by :meth:`CompiledNetwork.close`), and the binary writes the run's results into that folder too:
nothing is written into the shared project, so concurrent runs cannot disturb each other. The
samples of a minibatch are independent (the state is reset between them), so the minibatch is cut
into ``processes`` parts, each simulated by its own process of the binary at the same time (the
program is compiled for one part's samples); the recordings are the same bit for bit as those of
one process carrying the whole minibatch. The binary's output is kept; a failed run, or one whose
inputs the binary could not read, raises :class:`CompiledRunError` with that output.

**What is changed in Brian2's generated code** (after generation, before the digest; each change
leaves every number the network computes as it was, and a file in an unexpected form is left as
Brian2 wrote it):

- the program writes only the monitors' arrays and ends at once (:meth:`CompiledNetwork._results_code`);
- the simulation loop reads the CPU clock once at its end, not at every time step
  (:func:`_drop_per_step_clock`);
- a pathway without delays adds its spikes' effects straight from the source's spikes, in runs
  of consecutive synapses, not through Brian2's spike queue, in the same order
  (:func:`_direct_synaptic_events`);
- with ``$EI_BRIAN_SERVE`` set, a process goes on to serve further runs, each given on its
  standard input (:func:`_add_server_loop`). A CompiledNetwork keeps one such process per part
  of the minibatch and ends them in :meth:`~CompiledNetwork.close`; with ``serve=False`` every
  run starts a process of its own. The tests check that both record the same, bit for bit.
"""
import contextlib
import gc
import hashlib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import warnings

import brian2
import numpy as np
from brian2 import device, prefs, second, set_device
from filelock import FileLock

from ei_brian._version import __version__
from ei_brian.brian2_warnings import quiet_brian2_warnings
from ei_brian.cache import DEFAULT_CACHE, cache_root  # noqa: F401 (importable from here as before)
from ei_brian.network import build_network, check_weights, synapse_weights

#: Brian2 initialises the clocks of a network one after another in the order of a Python set,
#: which varies between processes; these statements are independent of each other
_CLOCK_INIT = re.compile(rb"^\s*_array_\w+_(timestep|t)\[0\] = [-+0-9.eE]+;\s*$")
#: what the compiled binary writes when a file cannot be used (it then goes on running)
_INPUT_ERRORS = ("Error reading", "Could not read", "Cannot set unknown variable",
                 "Error opening static array", "Error writing output file")


class BuildError(RuntimeError):
    """The generated C++ project did not compile; the message holds the compiler's output."""


class CompiledRunError(RuntimeError):
    """A run of the compiled network failed; the message holds the binary's output."""


def _canonical(lines):
    """The lines of a generated file with each block of consecutive clock initialisations sorted
    (their order is arbitrary); every other line keeps its place."""
    out, block = [], []
    for line in lines:
        if _CLOCK_INIT.match(line):
            block.append(line)
            continue
        out.extend(sorted(block))
        block = []
        out.append(line)
    out.extend(sorted(block))
    return out


def source_digest(directory):
    """SHA-256 of what decides the compiled program: equal digests mean the same program.

    Covers every ``.cpp`` and ``.h`` file, the makefile (compiler flags, include paths) and the
    static arrays (initial values compiled into the run: connectivity, spike-generator arrays),
    byte for byte. The one exception is each block of consecutive clock initialisations in the
    sources, which Brian2 emits in the order of a Python set (it varies between processes with
    the hash seed) and which is sorted first: reordering any other statement changes the digest.
    """
    digest = hashlib.sha256()
    for folder, subfolders, names in sorted(os.walk(directory)):
        subfolders[:] = [name for name in sorted(subfolders) if name != "results"]
        for name in sorted(names):
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, directory)
            in_static = relative.split(os.sep)[0] == "static_arrays"
            if not (name.endswith((".cpp", ".h")) or name == "makefile" or in_static):
                continue
            with open(path, "rb") as f:
                content = f.read()
            if not in_static:
                content = b"\n".join(_canonical(content.splitlines()))
            digest.update(relative.encode() + b"\0" + str(len(content)).encode() + b"\0")
            digest.update(content)
    return digest.hexdigest()


#: what Brian2 2.9's network.cpp does after every time step: it reads the process's CPU time
#: (``std::clock()``, a system call) for a report and a time limit, neither of which these runs use
_PER_STEP_CLOCK = ("        current = std::clock();\n"
                   "        elapsed_realtime = (double)(current - start)/(1 * CLOCKS_PER_SEC);\n")
_LOOP_END = "    Network::_globally_running = false;\n"


def _drop_per_step_clock(directory):
    """Read the CPU clock once after the simulation loop of the generated ``network.cpp`` instead
    of after every time step (it then holds the same ``elapsed_realtime``).

    The call is a system call: at 25,600 steps a run it took about a quarter of the compiled
    run's time (``benchmarks/bench_core.py``). Nothing the network computes depends on it (it
    feeds a progress report and a time limit these runs do not set). A ``network.cpp`` in another
    form (another Brian2 version, OpenMP) is left as it is: correct, only slower."""
    path = os.path.join(directory, "network.cpp")
    with open(path) as f:
        source = f.read()
    if source.count(_PER_STEP_CLOCK) != 1 or source.count(_LOOP_END) != 1:
        return False
    source = source.replace(_PER_STEP_CLOCK, "").replace(_LOOP_END,
                                                         _LOOP_END + _PER_STEP_CLOCK.replace("        ", "    "))
    with open(path, "w") as f:
        f.write(source)
    return True


#: how Brian2 2.9's synapses template starts the loop over a pathway's spiking synapses
_PEEK = re.compile(r"^(?P<indent>[ \t]*)std::vector<int> \*_spiking_synapses = "
                   r"(?P<path>\w+)\.peek\(\);\n"
                   r"[ \t]*const int _num_spiking_synapses = _spiking_synapses->size\(\);\n",
                   re.MULTILINE)
_LOOP_HEAD = re.compile(r"\s*\{\s*for\(int _spiking_synapse_idx=0;\s*"
                        r"_spiking_synapse_idx<_num_spiking_synapses;\s*"
                        r"_spiking_synapse_idx\+\+\)\s*\{\s*"
                        r"const size_t _idx = \(\*_spiking_synapses\)\[_spiking_synapse_idx\];\s*"
                        r"const size_t _vectorisation_idx = _idx;\n")
_PUSH = re.compile(r"^(?P<indent>[ \t]*)(?P<path>\w+)\.push\("
                   r"_ptr_array_(?P<space>\w+__spikespace), "
                   r"_ptr_array_(?P=space)\[_num_spikespace-1\]\);\n", re.MULTILINE)
#: a pathway whose every delay is 0 (one slot in its queue, Brian2's "scalar delay")
_DIRECT = "({path}.queue[0]->scalar_delay && {path}.queue[0]->queue.size() == 1)"


def _matching_brace(text, opening):
    """The index of the ``}`` that closes the ``{`` at ``opening``."""
    depth = 0
    for k in range(opening, len(text)):
        if text[k] == "{":
            depth += 1
        elif text[k] == "}":
            depth -= 1
            if depth == 0:
                return k
    raise ValueError("unbalanced braces")


def _direct_synaptic_events(directory):
    """Let each pathway whose delays are all 0 add its spikes' effects straight from the source's
    spikes, in runs of consecutive synapses and targets, instead of through Brian2's spike queue.

    Brian2's code copies the synapse indices of every spiking neuron into the pathway's queue
    (``push``), copies the queue again (``peek``) and then visits the synapses one by one, each
    with its target read from an index array. With no delays the queue holds exactly the synapses
    of this step's spikes, in the order of the spikes and, per spike, of the synapses; here the
    pathway's code visits them in that same order (so every target receives the same additions
    in the same order, bit for bit), from the source's spike space and the queue's own lists of
    each neuron's synapses. The synapses of a neuron that form a run of consecutive indices with
    consecutive targets (in a dense network, all of a neuron's synapses: one run) are visited
    in one loop over the run, which the compiler vectorizes. The run lists are made once per
    process (the synapses do not change). A pathway with delays keeps Brian2's queue: each
    step's code checks. Returns the number of pathways changed (a file in another form is left
    as Brian2 wrote it)."""
    folder = os.path.join(directory, "code_objects")
    changed = 0
    for name in sorted(os.listdir(folder)):
        if not name.endswith("_push_spikes.cpp") or name.startswith("before_run_"):
            continue
        push_path = os.path.join(folder, name)
        pre_path = os.path.join(folder, name[:-len("_push_spikes.cpp")] + "_codeobject.cpp")
        if not os.path.exists(pre_path):
            continue
        with open(push_path) as f:
            push = f.read()
        with open(pre_path) as f:
            pre = f.read()
        pushes = list(_PUSH.finditer(push))
        peeks = list(_PEEK.finditer(pre))
        if len(pushes) != 1 or len(peeks) != 1 or pushes[0]["path"] != peeks[0]["path"]:
            continue
        path, space = pushes[0]["path"], pushes[0]["space"]
        peek = peeks[0]
        head = _LOOP_HEAD.match(pre, peek.end())
        if head is None:
            continue
        # the loop's block: from the { before ``for`` to its } (the loop's body is inside)
        try:
            block_open = pre.index("{", peek.end())
            body_open = pre.index("{", pre.index("_spiking_synapse_idx++)", peek.end()))
            body_close = _matching_brace(pre, body_open)
            block_close = _matching_brace(pre, block_open)
        except ValueError:  # not the form this knows
            continue
        body = pre[head.end():body_close]
        post_line = re.compile(r"^([ \t]*)const int32_t _postsynaptic_idx = "
                               r"_ptr_array_\w+__synaptic_post\[_idx\];$", re.MULTILINE)
        if len(post_line.findall(body)) != 1 or "_spiking_synapse" in body:
            continue
        run_body = post_line.sub(r"\1const int32_t _postsynaptic_idx = _ei_p0 + _ei_k;", body)
        post_array = re.search(r"_ptr_array_(\w+__synaptic_post)\[_idx\]", body).group(1)
        direct = _DIRECT.format(path=path)
        indent = peek["indent"]
        new_loop = f"""if ({direct})
{indent}{{
{indent}    // ei_brian: no delays, so the synapses of this step's spikes in the queue's order,
{indent}    // straight from the source's spikes (see ei_brian/runner.py, _direct_synaptic_events)
{indent}    CSpikeQueue &_ei_queue = *{path}.queue[0];
{indent}    static std::vector<int32_t> _ei_first, _ei_start, _ei_target, _ei_length;
{indent}    static size_t _ei_synapses = (size_t)-1;
{indent}    const int32_t *_ei_post = _array_{post_array};
{indent}    if (_ei_synapses != _num_postsynaptic_idx
{indent}        || _ei_first.size() != _ei_queue.synapses.size() + 1)
{indent}    {{
{indent}        _ei_first.assign(1, 0); _ei_start.clear(); _ei_target.clear(); _ei_length.clear();
{indent}        for (size_t _ei_n = 0; _ei_n < _ei_queue.synapses.size(); _ei_n++)
{indent}        {{
{indent}            const std::vector<int> &_ei_list = _ei_queue.synapses[_ei_n];
{indent}            for (size_t _ei_j = 0; _ei_j < _ei_list.size(); _ei_j++)
{indent}            {{
{indent}                const int32_t _ei_s = _ei_list[_ei_j];
{indent}                const size_t _ei_r = _ei_length.size();
{indent}                if (_ei_r > (size_t)_ei_first.back()  // a run of this neuron's
{indent}                    && _ei_s == _ei_start[_ei_r - 1] + _ei_length[_ei_r - 1]
{indent}                    && _ei_post[_ei_s] == _ei_target[_ei_r - 1] + _ei_length[_ei_r - 1])
{indent}                    _ei_length[_ei_r - 1]++;
{indent}                else
{indent}                {{
{indent}                    _ei_start.push_back(_ei_s);
{indent}                    _ei_target.push_back(_ei_post[_ei_s]);
{indent}                    _ei_length.push_back(1);
{indent}                }}
{indent}            }}
{indent}            _ei_first.push_back((int32_t)_ei_length.size());
{indent}        }}
{indent}        _ei_synapses = _num_postsynaptic_idx;
{indent}    }}
{indent}    const int32_t *_ei_spikes = _array_{space};
{indent}    const int _ei_count = _ei_spikes[_num__array_{space} - 1];
{indent}    for (int _ei_i = 0; _ei_i < _ei_count; _ei_i++)
{indent}    {{
{indent}        const int32_t _ei_n = _ei_spikes[_ei_i] - _ei_queue.source_start;
{indent}        if (_ei_n < 0 || _ei_spikes[_ei_i] >= _ei_queue.source_end) continue;
{indent}        for (int32_t _ei_r = _ei_first[_ei_n]; _ei_r < _ei_first[_ei_n + 1]; _ei_r++)
{indent}        {{
{indent}            const size_t _ei_s0 = _ei_start[_ei_r];
{indent}            const int32_t _ei_p0 = _ei_target[_ei_r];
{indent}            const int32_t _ei_len = _ei_length[_ei_r];
{indent}            #pragma GCC ivdep
{indent}            for (int32_t _ei_k = 0; _ei_k < _ei_len; _ei_k++)
{indent}            {{
{indent}                const size_t _idx = _ei_s0 + _ei_k;
{indent}                const size_t _vectorisation_idx = _idx;
{run_body}
{indent}            }}
{indent}        }}
{indent}    }}
{indent}}}
{indent}else
{indent}{{
{indent}{pre[peek.start() + len(indent):peek.end()]}{pre[peek.end():block_close + 1]}
{indent}}}
"""
        pre = pre[:peek.start()] + indent + new_loop + pre[block_close + 1:]
        push_indent = pushes[0]["indent"]
        push = (push[:pushes[0].start()] + f"{push_indent}if (!{direct})\n"
                + push[pushes[0].start():])
        with open(pre_path, "w") as f:
            f.write(pre)
        with open(push_path, "w") as f:
            f.write(push)
        changed += 1
    return changed


_WRITES_BEGIN = "// ei_brian: write the monitors' arrays only, then end (no _write_arrays())"
_SERVE_MARKER = "// ei_brian: further runs in this process are served here"
#: the line a served process writes when a run's results are in their files
RUN_DONE = "ei_brian: run done"
#: the environment variable under which the binary serves further runs (see _add_server_loop)
SERVE_VARIABLE = "EI_BRIAN_SERVE"


def _add_server_loop(directory, reset_code):
    """Let one process of the generated program run the network again and again.

    Brian2's ``main.cpp`` prepares the run (clocks to 0, the spike generator rewound, the
    synaptic queues prepared, the schedule), sets the run arguments and runs; then come the
    writes of :meth:`CompiledNetwork._results_code`. After them, with ``$EI_BRIAN_SERVE`` set,
    the program now reads lines from standard input, each a results folder and run arguments
    separated by tabs, and for each empties the monitors (``reset_code``), repeats Brian2's own
    preparation statements (copied from ``main.cpp``) with the new arguments, runs, writes the
    results, and prints :data:`RUN_DONE`. Every state variable of the network is set to 0 at the
    start of every sample by the network itself, so a served run computes what a new process
    computes, bit for bit (the tests compare the two); it saves the process start, the loading
    of the static arrays and the building of the synapses at every run. Without the variable
    the program ends after its one run, as before.

    Returns whether the loop was added (False: ``main.cpp`` is in a form this does not know,
    and every run starts a process of its own)."""
    path = os.path.join(directory, "main.cpp")
    with open(path) as f:
        lines = f.read().split("\n")
    stripped = [line.strip() for line in lines]
    try:
        (writes_begin,) = [k for k, line in enumerate(stripped) if line == _WRITES_BEGIN]
        (marker,) = [k for k, line in enumerate(stripped) if line == _SERVE_MARKER]
        (command_line,) = [k for k, line in enumerate(stripped)
                           if line == "set_from_command_line(args);"]
    except ValueError:
        return False
    # Brian2's preparation of the run: from the first clock initialisation after the synapses
    # are made, to the end of the block that runs the network (before the results are written)
    made = [k for k in range(command_line) if stripped[k].endswith(
        "_synapses_create_array_codeobject();")]
    first = next((k for k in range(made[-1] + 1 if made else 0, command_line)
                  if _CLOCK_INIT.match(lines[k].encode())), None)
    ends = [k for k in range(command_line, writes_begin) if stripped[k] == "}"]
    if first is None or not ends or not (marker > writes_begin):
        return False
    block = [line.replace("set_from_command_line(args);", "set_from_command_line(_ei_args);")
             for line in lines[first:ends[-1]]]
    # a network starts its run at its own time, which the previous run left at its end; a new
    # Network object starts at 0
    networks = [match.group(1) for match in (re.match(r"^\s*(\w+)\.clear\(\);$", line)
                                             for line in block) if match]
    if not networks:
        return False
    block[:0] = [f"        {network}.t = 0.0;" for network in networks]
    writes = lines[writes_begin + 1:marker]
    loop = [
        'std::cout << "' + RUN_DONE + '" << std::endl;',
        'if (std::getenv("' + SERVE_VARIABLE + '") != NULL) {',
        "    using namespace brian;",
        "    std::string _ei_line;",
        "    while (std::getline(std::cin, _ei_line)) {",
        "        std::vector<std::string> _ei_args;",
        "        size_t _ei_from = 0, _ei_tab;",
        "        while ((_ei_tab = _ei_line.find('\\t', _ei_from)) != std::string::npos) {",
        "            _ei_args.push_back(_ei_line.substr(_ei_from, _ei_tab - _ei_from));",
        "            _ei_from = _ei_tab + 1;",
        "        }",
        "        _ei_args.push_back(_ei_line.substr(_ei_from));",
        "        brian::results_dir = _ei_args[0];",
        "        _ei_args.erase(_ei_args.begin());",
        *("        " + line for line in reset_code),
        *block,
        *writes,
        '        std::cout << "' + RUN_DONE + '" << std::endl;',
        "    }",
        "}",
    ]
    lines[marker:marker + 1] = loop
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return True


#: where a CompiledNetwork puts the files of its runs, unless $EI_BRIAN_SCRATCH names a folder
SHARED_MEMORY = "/dev/shm"


def scratch_root():
    """The folder for the files each run writes and reads (weights, inputs, recordings: a few
    MB a run, removed by :meth:`CompiledNetwork.close`): ``$EI_BRIAN_SCRATCH``; else the
    shared-memory file system ``/dev/shm`` where it has 1 GB free (files there never reach a
    disk: measured, a served run of the default network took about a fifth less time than with
    its files on an ext4 disk); else None, the system's temporary folder."""
    chosen = os.environ.get("EI_BRIAN_SCRATCH")
    if chosen:
        return chosen
    try:
        if os.path.isdir(SHARED_MEMORY) and os.access(SHARED_MEMORY, os.W_OK) \
                and shutil.disk_usage(SHARED_MEMORY).free >= 1 << 30:
            return SHARED_MEMORY
    except OSError:
        pass
    return None


#: the scratch folders' names: prefix, host, process id, tempfile's random part
SCRATCH_PREFIX = "ei_brian_run_"


def scratch_folder():
    """A new scratch folder in :func:`scratch_root`, named after this host and process, after
    removing the folders that processes of this host left there when they were killed (a
    killed run cannot close its network; in ``/dev/shm`` its files would hold memory until the
    machine restarts)."""
    root = scratch_root()
    remove_orphaned_scratch(root)
    return tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{socket.gethostname()}-{os.getpid()}-",
                            dir=root)


def remove_orphaned_scratch(root=None):
    """Remove the scratch folders in ``root`` (default: the system's temporary folder) whose
    process, on this host, has ended; returns their names. Folders of other hosts (a shared
    ``$EI_BRIAN_SCRATCH``), of running processes and of other names are left alone."""
    root = root or tempfile.gettempdir()
    pattern = re.compile(rf"^{SCRATCH_PREFIX}(.*)-(\d+)-[A-Za-z0-9_]+$")
    host = socket.gethostname()
    removed = []
    try:
        names = os.listdir(root)
    except OSError:
        return removed
    for name in names:
        match = pattern.match(name)
        if match is None or match.group(1) != host or _alive(int(match.group(2))):
            continue
        shutil.rmtree(os.path.join(root, name), ignore_errors=True)
        removed.append(name)
    return removed


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process (or not a pid we can ask about): keep its folder
    return True


class RunResult:
    """What one compiled run recorded, per sample of the minibatch.

    Attributes
    ----------
    hidden_spikes : ndarray of bool, shape (n_samples, n_steps, n_hidden), or None
        Spikes of hidden neurons (E first, then I); None for a run with ``counts_only``.
    readout : ndarray, shape (n_samples, n_steps, n_outputs)
        Readout potentials after each step's state update.
    potentials : ndarray or None, shape (n_samples, n_steps, n_hidden)
        Hidden membrane potentials after the state update, before threshold and reset (only with
        ``record_potentials``).
    seconds : float
        Wall time of the compiled run, including writing inputs and reading results.
    spike_counts : ndarray of int, shape (n_hidden,)
        Spikes of each hidden neuron over the minibatch's samples.
    """

    def __init__(self, hidden_spikes, readout, potentials, seconds, spike_counts=None):
        self.hidden_spikes = hidden_spikes
        self.readout = readout
        self.potentials = potentials
        self.seconds = seconds
        self._spike_counts = spike_counts

    @property
    def spike_counts(self):
        if self._spike_counts is None:
            self._spike_counts = self.hidden_spikes.sum(axis=(0, 1))
        return self._spike_counts


class CompiledNetwork:
    """A network compiled to C++ once, run many times with new weights and inputs.

    Parameters
    ----------
    config : NetworkConfig
    samples_per_run : int
        Samples carried by one run (one after another, state reset between them); minibatches
        with fewer samples are padded with silent samples.
    spike_capacity : int, optional
        Input spike slots per run; default ``samples_per_run * n_inputs`` (enough for the latency
        code, which emits at most one spike per channel and sample). Each process gets the given
        capacity whole (any part of a minibatch fits it); the default is shared out by samples.
    record_potentials : bool
        Also record hidden membrane potentials (costs time and memory; for checks).
    cache_dir : str, optional
        Root of the compiled-project cache; default ``$EI_BRIAN_CACHE`` or ``.cache/brian2``.
    verbose : bool
        Print what is compiled and where.
    structure : ei_brian.structure.Structure, optional
        The synapses of a sparse network (required when ``config.sparse``). They are compiled
        into the program (static arrays), so each structure is a project of its own.
    processes : int, optional
        Processes of the binary that simulate parts of a minibatch at the same time (default: 2,
        or 1 on a one-core machine). The results do not depend on it.
    serve : bool
        Keep each process of the binary alive between runs and hand it the next run's inputs
        (default; see :func:`_add_server_loop`), or start a new process for every run. The
        results are the same bit for bit; serving saves the start of a process, the loading of
        the static arrays and the building of the synapses at every run.

    Attributes
    ----------
    compile_seconds : float
        Wall time of the build step (code generation, and compilation unless cached).
    compiled : bool
        Whether this build compiled (False: the cached binary was reused).
    """

    _active = None

    def __init__(self, config, samples_per_run, spike_capacity=None, record_potentials=False,
                 cache_dir=None, verbose=True, structure=None, processes=None, serve=True):
        self.config = config
        self.serve = bool(serve)
        self._servers = {}  # part -> the process of the binary that serves its runs
        self.structure = structure
        self.samples_per_run = int(samples_per_run)
        self.processes = max(1, min(self.samples_per_run,
                                    int(processes or min(2, os.cpu_count() or 1))))
        # one process carries at most this many samples; the program is compiled for them
        self.samples_per_process = -(-self.samples_per_run // self.processes)
        self.spike_capacity = int(spike_capacity or self.samples_per_run * config.n_inputs)
        self.process_capacity = int(spike_capacity or self.samples_per_process * config.n_inputs)
        self.record_potentials = bool(record_potentials)
        self.n_exc, self.n_inh = config.population_sizes()
        self.n_hidden = self.n_exc + self.n_inh
        self.cache_dir = cache_dir or cache_root()
        self.compile_seconds = self._build(verbose)

    # ------------------------------------------------------------------------------------------
    def _build(self, verbose):
        """Generate the code, then reuse the compiled project of the same digest or compile it.

        Returns the wall time of the build step (code generation and compilation if any)."""
        if CompiledNetwork._active is not None:
            CompiledNetwork._active.close()
        gc.collect()  # objects of an earlier network would take the names this one needs
        start = time.perf_counter()
        os.makedirs(self.cache_dir, exist_ok=True)
        staging = tempfile.mkdtemp(prefix=f".staging-{socket.gethostname()}-{os.getpid()}-",
                                   dir=self.cache_dir)
        try:
            device.reinit()
            device.activate()
            set_device("cpp_standalone", build_on_run=False, directory=staging)
            prefs.devices.cpp_standalone.extra_make_args_unix = ["-j2", "-s"]
            prefs.logging.std_redirection = False
            brian2.seed(0)  # the compiled code draws no random numbers; fixed for reproducibility
            self.parts = build_network(self.config, n_samples=self.samples_per_process,
                                       spike_capacity=self.process_capacity,
                                       record_potentials=self.record_potentials,
                                       structure=self.structure)
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                quiet_brian2_warnings()  # code generation parses with pyparsing too
                self.parts["network"].run(self.samples_per_process * self.config.sample_duration)
                device.insert_code("before_end", self._results_code())
                device.build(directory=staging, compile=False, run=False)
            _drop_per_step_clock(staging)
            _direct_synaptic_events(staging)
            self.serves = _add_server_loop(staging, self._reset_code)
            self.digest = source_digest(staging)
            self.directory = os.path.join(self.cache_dir, self.digest)
            stamp = os.path.join(self.directory, "ei_brian_build.json")
            # one process compiles a project; the others wait here, then reuse it
            with FileLock(self.directory + ".lock"):
                self.compiled = not os.path.exists(stamp)
                if verbose:
                    print(("compiling the network (once per architecture) into " if self.compiled
                           else "reusing the compiled network in ") + self.directory, flush=True)
                if self.compiled:
                    self._compile(staging)
                    with open(os.path.join(staging, "ei_brian_build.json"), "w") as f:
                        json.dump({"digest": self.digest, "network": self.config.to_dict(),
                                   "samples_per_run": self.samples_per_process,
                                   "spike_capacity": self.process_capacity,
                                   "record_potentials": self.record_potentials,
                                   "brian2": brian2.__version__, "ei_brian": __version__},
                                  f, indent=1)
                    # a half-built folder left by a killed process holds no stamp: replace it
                    shutil.rmtree(self.directory, ignore_errors=True)
                    os.rename(staging, self.directory)
        except BaseException:
            self.parts = None
            self._release_device()  # a failed build leaves Brian2 as it found it
            raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        inputs = self.parts["input"]
        self._timebins = inputs.variables["_timebins"].get_addressable_value_with_unit(
            "_timebins", inputs)
        self._neuron_index = inputs.neuron_index
        self.scratch = scratch_folder()
        CompiledNetwork._active = self
        self._closed = False
        return time.perf_counter() - start

    def _results_code(self):
        """C++ that ends the program after writing only what :meth:`run` reads: the arrays of
        the monitors, in the files Brian2 would write them to. (At its end Brian2 writes every
        array, the synapses' weights, indices and delays included: about 90 MB per run at 2,560
        neurons, all of which went unread.)"""
        standalone = brian2.get_device()
        monitors = {self.parts[name].name for name in ("spikes", "readout_monitor",
                                                       "potential_monitor")
                    if self.parts.get(name) is not None}

        def monitored(var):
            try:
                return var.owner.name in monitors
            except ReferenceError:  # a variable whose owner is gone
                return False

        # how each kind of array is written (as Brian2's _write_arrays() does)
        writes = {
            "array": ("out.write(reinterpret_cast<char*>(brian::{name}), "
                      "{size} * sizeof(brian::{name}[0]));"),
            "dynamic": ("if (!brian::{name}.empty()) out.write(reinterpret_cast<char*>("
                        "&brian::{name}[0]), brian::{name}.size() * sizeof(brian::{name}[0]));"),
            "dynamic_2d": ("for (int n = 0; n < brian::{name}.n; n++) "
                           "if (!brian::{name}(n).empty()) "
                           "out.write(reinterpret_cast<char*>(&brian::{name}(n, 0)), "
                           "brian::{name}.m * sizeof(brian::{name}(0, 0)));"),
        }
        dynamic = {**standalone.dynamic_arrays, **standalone.dynamic_arrays_2d}
        arrays = {"array": {var: name for var, name in standalone.arrays.items()
                            if var not in dynamic},
                  "dynamic": standalone.dynamic_arrays,
                  "dynamic_2d": standalone.dynamic_arrays_2d}
        # how a further run in the same process empties a monitor (see _add_server_loop): its
        # recordings and counters; its indices stay
        resets = {
            "array": "for (size_t k = 0; k < {size}; k++) brian::{name}[k] = 0;",
            "dynamic": "brian::{name}.resize(0);",
            "dynamic_2d": "brian::{name}.resize(0, brian::{name}.m);",
        }
        lines = [_WRITES_BEGIN]
        self._result_files = {}
        self._reset_code = []
        for kind, named in arrays.items():
            for var, name in sorted(named.items(), key=lambda item: item[1]):
                if monitored(var):
                    filename = standalone.get_array_filename(var)
                    self._result_files[(var.owner.name, var.name)] = (filename, var.dtype)
                    lines.append(f'{{ std::ofstream out(brian::results_dir + '
                                 f'"{filename}", std::ios::binary); '
                                 + writes[kind].format(name=name, size=var.size) + " }")
                    if kind != "array" or var.name in ("N", "count"):
                        self._reset_code.append(resets[kind].format(name=name, size=var.size))
        lines.append(_SERVE_MARKER)
        # every file is closed; end without running the destructors of every array (freeing
        # the synapses and the monitors' rows one by one took milliseconds a run)
        lines.append("std::cout.flush();")
        lines.append("std::fflush(nullptr);")
        lines.append("_Exit(0);  // <stdlib.h>: ends at once (std::exit would run the destructors)")
        return "\n".join(lines)

    def _compile(self, staging):
        make = [prefs.devices.cpp_standalone.make_cmd_unix,
                *prefs.devices.cpp_standalone.extra_make_args_unix]
        result = subprocess.run(make, cwd=staging, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        if result.returncode != 0 or not os.path.exists(os.path.join(staging, "main")):
            log = os.path.join(self.cache_dir, f"build-failed-{self.digest[:16]}.log")
            with open(log, "w") as f:
                f.write(result.stdout)
            tail = "\n".join(result.stdout.splitlines()[-30:])
            raise BuildError(f"compiling the network failed ({' '.join(make)} exited with "
                             f"{result.returncode}); the compiler said:\n{tail}\n(whole output in "
                             f"{log}; is a C++ compiler installed, and is there disk space?)")

    def close(self):
        """Release the standalone device (a later CompiledNetwork may then be built)."""
        if getattr(self, "_closed", True):
            return
        self._closed = True
        for process in self._servers.values():
            self._stop(process)
        self._servers.clear()
        if CompiledNetwork._active is self:
            CompiledNetwork._active = None
        # free the Brian2 objects, and with them their names (a later build of the same
        # architecture must generate the same names, hence the same code)
        self.parts = self._timebins = self._neuron_index = None
        shutil.rmtree(self.scratch, ignore_errors=True)
        self._release_device()

    @staticmethod
    def _release_device():
        device.reinit()  # the device holds the code objects: let go of them first
        device.activate()
        set_device("runtime")
        gc.collect()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------------------------------
    def run(self, weights, spike_input, time_constants=None, membrane_noise=None,
            counts_only=False):
        """Run one minibatch.

        Parameters
        ----------
        weights : dict
            ``w_<projection>`` arrays (n_pre, n_post).
        spike_input : ei_brian.encoding.SpikeInput
            Input spikes of at most ``samples_per_run`` samples.
        time_constants : dict, optional
            Per-neuron ``tau_mem``, ``tau_exc``, ``tau_inh`` (seconds); required when the network
            has time-constant diversity (``config.heterogeneous``).
        membrane_noise : ndarray (n_samples, n_steps, n_hidden), optional
            Membrane-noise drive; required when ``config.membrane_noise > 0``.
        counts_only : bool
            Hand back the spike count of each hidden neuron over the minibatch
            (``RunResult.spike_counts``) instead of every spike (``hidden_spikes`` is then None):
            all that an evaluation needs besides the readout, without building the
            (samples, steps, neurons) array.

        Returns
        -------
        RunResult
            Recordings for the ``spike_input.n_samples`` samples.
        """
        if self._closed:
            raise RuntimeError("this CompiledNetwork was closed (another one was built after it); "
                               "build it again")
        config = self.config
        n_samples = spike_input.n_samples
        if n_samples > self.samples_per_run:
            raise ValueError(f"{n_samples} samples do not fit a run of {self.samples_per_run}")
        if spike_input.n_channels != config.n_inputs or spike_input.n_steps != config.n_steps:
            raise ValueError(f"input has {spike_input.n_channels} channels x {spike_input.n_steps} "
                             f"steps; the network needs {config.n_inputs} x {config.n_steps}")
        n_spikes = spike_input.n_spikes
        if n_spikes > self.spike_capacity:
            raise ValueError(f"{n_spikes} input spikes exceed the compiled capacity of "
                             f"{self.spike_capacity}; build with a larger spike_capacity")
        check_weights(config, weights)
        start = time.perf_counter()
        shared = {}  # the same for every part: weights, time constants
        for name, flat in synapse_weights(config, weights, self.structure).items():
            shared[self.parts["synapses"][name].w] = flat
        if config.heterogeneous:
            if time_constants is None:
                raise ValueError("this network has time-constant diversity: pass time_constants "
                                 "(NetworkConfig.time_constants(seed))")
            hidden = self.parts["hidden"]
            for variable in ("tau_mem", "tau_exc", "tau_inh"):
                values = np.asarray(time_constants[variable], dtype=np.float64)
                if values.shape != (self.n_hidden,) or not np.all(values > 0):
                    raise ValueError(f"{variable} needs {self.n_hidden} positive values (seconds)")
                shared[getattr(hidden, variable)] = values * second
        if config.membrane_noise > 0 and (
                membrane_noise is None
                or np.shape(membrane_noise) != (n_samples, config.n_steps, self.n_hidden)):
            raise ValueError("this network has membrane noise: pass its drive, shape "
                             f"({n_samples}, {config.n_steps}, {self.n_hidden})")
        steps_per_process = self.samples_per_process * config.n_steps
        bounds = np.linspace(0, n_samples, max(1, min(self.processes, n_samples)) + 1).astype(int)
        parts = []
        for first, stop in zip(bounds[:-1], bounds[1:]):
            part = spike_input.subset(first, stop)
            if part.n_spikes > self.process_capacity:
                raise ValueError(f"{part.n_spikes} input spikes of samples {first}..{stop - 1} "
                                 f"exceed the compiled capacity of {self.process_capacity} per "
                                 "process; build with a larger spike_capacity")
            # spikes sorted by (sample, step, channel) are sorted by global time bin, as Brian2
            # needs; unused slots point past the end of the run
            timebins = np.full(self.process_capacity, steps_per_process + 1, np.int32)
            channels = np.zeros(self.process_capacity, np.int32)
            timebins[:part.n_spikes] = part.sample * config.n_steps + part.step
            channels[:part.n_spikes] = part.channel
            run_args = {self._timebins: timebins, self._neuron_index: channels}
            if config.membrane_noise > 0:
                values = np.zeros((steps_per_process, self.n_hidden))
                values[:(stop - first) * config.n_steps] = np.asarray(
                    membrane_noise[first:stop]).reshape(-1, self.n_hidden)
                run_args[self.parts["noise"]] = values
            parts.append(run_args)
        results = self._run_binaries(shared, parts)
        # time-major storage (step, sample, neuron), handed out as (sample, step, neuron) views
        spikes = counts = None
        if counts_only:
            counts = np.zeros(self.n_hidden, dtype=np.int64)
        else:
            spikes = np.zeros((config.n_steps, n_samples, self.n_hidden), dtype=bool)
        readout = np.empty((n_samples, config.n_steps, config.n_outputs))
        potentials = (np.empty((n_samples, config.n_steps, self.n_hidden))
                      if self.record_potentials else None)
        for first, stop, folder in zip(bounds[:-1], bounds[1:], results):
            self._read_results(folder, first, stop, spikes, readout, potentials, counts)
        seconds = time.perf_counter() - start
        return RunResult(None if spikes is None else np.moveaxis(spikes, 0, 1), readout,
                         potentials, seconds, counts)

    def _result(self, folder, monitor, variable):
        """One array a part's run wrote (see :meth:`_results_code`), read straight from its file."""
        filename, dtype = self._result_files[(self.parts[monitor].name, variable)]
        return np.fromfile(os.path.join(folder, filename), dtype=dtype)

    def _read_results(self, folder, first, stop, spikes, readout, potentials, counts=None):
        """Copy the recordings of the part run in ``folder`` (samples ``first .. stop - 1``);
        with ``counts`` (and ``spikes`` None) add up the spikes per neuron only."""
        config = self.config
        n_steps, used = config.n_steps, (stop - first) * config.n_steps
        steps = np.rint(self._result(folder, "spikes", "t") / float(config.dt)).astype(np.int64)
        neurons = self._result(folder, "spikes", "i")
        if len(steps) != len(neurons):
            raise CompiledRunError(f"the compiled run in {folder} recorded {len(steps)} spike "
                                   f"times but {len(neurons)} neuron indices")
        keep = steps < used
        steps, neurons = steps[keep], neurons[keep]
        if spikes is not None:
            spikes[steps % n_steps, first + steps // n_steps, neurons] = True
        if counts is not None:
            counts += np.bincount(neurons, minlength=self.n_hidden)
        total = self.samples_per_process * n_steps
        values = self._result(folder, "readout_monitor", "v")  # (total_steps, n_outputs)
        if values.size != total * config.n_outputs:
            raise CompiledRunError(f"the compiled run recorded {values.size // config.n_outputs} "
                                   f"steps, not {total}")
        readout[first:stop] = values.reshape(self.samples_per_process, n_steps,
                                             config.n_outputs)[:stop - first]
        if potentials is not None:
            values = self._result(folder, "potential_monitor", "v")
            potentials[first:stop] = values.reshape(self.samples_per_process, n_steps,
                                                    self.n_hidden)[:stop - first]

    def _run_binary(self, run_args):
        """Run the compiled project once with ``run_args``; returns its results folder."""
        return self._run_binaries({}, [run_args])[0]

    def _run_binaries(self, shared, parts):
        """Run the compiled project once per entry of ``parts``, all at once.

        ``shared`` and each part are ``{Brian2 variable or TimedArray: values}``; ``shared`` goes
        to every process. Inputs are written into this object's scratch folder, and each part's
        run writes its results into a folder of its own there, ``part<k>/results``, whose paths
        are returned in the order of ``parts``. Part ``k`` runs in a process of the program kept
        for it (started at the first run, served further runs through its standard input: see
        :func:`_add_server_loop`), or, with ``serve=False``, in a new process each time."""
        common = self._write_arguments(shared, self.scratch)
        folders, argument_lists = [], []
        for k, run_args in enumerate(parts):
            folder = os.path.join(self.scratch, f"part{k}")
            results = os.path.join(folder, "results")
            os.makedirs(results, exist_ok=True)
            argument_lists.append(common + self._write_arguments(run_args, folder))
            folders.append(os.path.join(results, ""))
        serve = self.serve and self.serves
        started, finished = [], False
        try:
            for k, (results, arguments) in enumerate(zip(folders, argument_lists)):
                process = self._servers.get(k) if serve else None
                if process is not None and process.poll() is None:
                    process.stdin.write("\t".join([results, *arguments]) + "\n")
                    process.stdin.flush()
                else:
                    process = subprocess.Popen(
                        [os.path.join(self.directory, "main"), "--results_dir", results,
                         *arguments], cwd=self.directory,
                        stdin=subprocess.PIPE if serve else subprocess.DEVNULL,
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                        env=self._environment(serve))
                    if serve:
                        self._servers[k] = process
                started.append(process)
            outputs = [self._await_run(process, serve) for process in started]
            finished = True
        finally:
            if not finished:  # interrupted: leave no process running, keep none for later
                for process in started:
                    self._stop(process, kill=True)
                self._servers.clear()
        for k, (code, output) in enumerate(outputs):
            failed = code is not None and code != 0
            unreadable = any(marker in output for marker in _INPUT_ERRORS)
            if failed or unreadable:
                self._stop(self._servers.pop(k, None), kill=True)  # its state is not to be trusted
            if failed:
                raise CompiledRunError(f"the compiled network failed in {self.directory} (exit "
                                       f"status {code}); its output:\n{output[-4000:]}")
            if unreadable:
                raise CompiledRunError(f"the compiled network in {self.directory} could not read "
                                       f"its inputs from {self.scratch}:\n{output[-4000:]}")
        return folders

    @staticmethod
    def _environment(serve):
        environment = dict(os.environ, **prefs["devices.cpp_standalone.run_environment_variables"])
        # each process builds its synapses and spike queues: glibc's malloc then backs them with
        # transparent huge pages where the system allows it (far fewer page faults; ignored by
        # other C libraries and older glibc)
        environment.setdefault("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1")
        environment.pop(SERVE_VARIABLE, None)
        if serve:
            environment[SERVE_VARIABLE] = "1"
        return environment

    @staticmethod
    def _await_run(process, serve):
        """The output of the run ``process`` is doing, once its results are written, and its
        exit status (None: it lives on to serve the next run)."""
        lines = []
        for line in process.stdout:
            if line.rstrip("\n") == RUN_DONE:
                if serve:
                    return None, "".join(lines)
                break
            lines.append(line)
        code = process.wait()  # ended (a plain run, or a served one that failed)
        process.stdout.close()
        if serve and code == 0:
            code = -1  # a server that ends without finishing its run has failed
        return code, "".join(lines) or "(no output was written)"

    @staticmethod
    def _stop(process, kill=False):
        """End a process of the program: a served one at the end of its input, or at once."""
        if process is None:
            return
        if process.poll() is None:
            if not kill and process.stdin is not None:
                try:
                    process.stdin.close()  # the served loop ends at the end of its input
                    process.wait(timeout=10)
                except (OSError, subprocess.TimeoutExpired):
                    pass
            if process.poll() is None:
                process.kill()
                process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass

    @staticmethod
    def _write_arguments(run_args, folder):
        """Write ``{Brian2 variable or TimedArray: values}`` into files in ``folder``; returns the
        binary's arguments ``<name>=<file>`` for them."""
        arguments = []
        for key, value in run_args.items():
            if isinstance(key, brian2.TimedArray):
                name, dtype = f"{key.name}.values", key.values.dtype
            else:
                name, dtype = f"{key.group_name}.{key.name}", key.dtype
            path = os.path.join(folder, name + ".dat")
            np.ascontiguousarray(np.asarray(value), dtype=dtype).tofile(path)
            arguments.append(f"{name}={path}")
        return arguments
