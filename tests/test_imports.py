"""The import graph of ``ei_brian``: no circles between its modules, and the command line on top.

Every module of ``ei_brian/`` is parsed (not imported) and every ``import`` and ``from ... import``
in it counts, at module level or inside a function alike: an import inside a function is still an
edge of the graph, only a later one. A module that imports another one that imports it back
(directly or around a longer circle) is a circle; the circles that exist today are listed in
:data:`KNOWN_CYCLES`, and the list may only shrink: a new circle fails the test, and so does an
entry that no longer exists (remove it). The same holds for :data:`KNOWN_CLI_IMPORTERS`, the
modules outside ``ei_brian/cli/`` that import the command line.

How an import names a module: ``import ei_brian.x.y`` and ``from ei_brian.x.y import name`` are
the module ``ei_brian.x.y`` (the longest prefix that is a module); ``from ei_brian.x import name``
is the module ``ei_brian.x.name`` where that is a module, else ``ei_brian.x`` (a package is its
``__init__.py``); relative imports are resolved against the importing module.
"""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "ei_brian"

#: The circles that remain, each as its modules in import order from the first in sorted order.
#: Remove an entry when its circle is gone; never add one. None is left: keep it so (the version
#: lives in ei_brian/_version.py, so no module needs to import the package root for it).
KNOWN_CYCLES = set()

#: Modules outside ``ei_brian/cli/`` that import ``ei_brian.cli`` (the command line should be the
#: top floor, importing the library and imported by none of it). Only shrinks, as KNOWN_CYCLES.
KNOWN_CLI_IMPORTERS = set()

#: The only modules of the package outside ``ei_brian/datasets/`` that a module of the data sets
#: may import: light ones that import nothing of ``ei_brian`` themselves (the subsets' random
#: streams, and the spike samples the spike data sets come as).
DATASETS_MAY_IMPORT = {"ei_brian.streams", "ei_brian.encoding"}


def module_files():
    """Module name -> file, for every module of the package (a package is its ``__init__.py``)."""
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _longest_module(name, modules):
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imported_modules(module, path, modules):
    """The modules of the package that ``module`` imports anywhere in its file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "ei_brian":
                    found.add(_longest_module(alias.name, modules))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                assert base, f"{path}: relative import above the package"
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            if name.split(".")[0] != "ei_brian":
                continue
            for alias in node.names:
                submodule = f"{name}.{alias.name}"
                found.add(submodule if submodule in modules else _longest_module(name, modules))
    found.discard(None)
    found.discard(module)  # a module importing its own names is no circle
    return found


def import_graph():
    modules = module_files()
    return {module: imported_modules(module, path, modules) for module, path in modules.items()}


def cycles(graph):
    """Every elementary circle of the graph, each once: starting at its smallest module (sorted
    by name) and followed in import order."""
    found = set()
    nodes = sorted(graph)
    for position, start in enumerate(nodes):
        later = set(nodes[position + 1:])
        stack = [(start, (start,))]
        while stack:
            node, path = stack.pop()
            for target in graph[node]:
                if target == start:
                    found.add(path)
                elif target in later and target not in path:
                    stack.append((target, path + (target,)))
    return found


def _describe(found):
    return "\n".join("  " + " -> ".join(cycle + cycle[:1])
                     for cycle in sorted(found, key=lambda cycle: (len(cycle), cycle))) or "  none"


def test_the_graph_sees_imports_at_module_level_in_functions_and_relative():
    graph = import_graph()
    assert "ei_brian.gradient_common" in graph["ei_brian.sparse_gradients"]  # module level
    # ``from ei_brian.datasets import randman, shd, shd_like``
    assert "ei_brian.datasets.shd" in graph["ei_brian.data"]
    assert "ei_brian.streams" in graph["ei_brian.config"]  # in NetworkConfig.time_constants
    assert "ei_brian.trained" in graph["ei_brian"]  # in the package root's __getattr__
    assert "ei_brian.analysis.run_config" in graph["ei_brian.analysis.neo_io"]
    assert "ei_brian" in graph["ei_brian.cli"]  # ``from ei_brian import __version__``: the root
    assert "ei_brian._version" in graph["ei_brian.runner"]
    modules = module_files()
    assert imported_modules("ei_brian.analysis.tables", modules["ei_brian.analysis.tables"],
                            modules) >= {"ei_brian.analysis.measures", "ei_brian.io"}


def test_no_new_import_cycles_and_the_known_ones_still_exist():
    found = cycles(import_graph())
    new, gone = found - KNOWN_CYCLES, KNOWN_CYCLES - found
    assert not new and not gone, (
        f"import cycles among ei_brian's modules:\n{_describe(found)}\n"
        f"new (break them, don't list them):\n{_describe(new)}\n"
        f"listed in KNOWN_CYCLES but gone (remove them from the list):\n{_describe(gone)}")


def test_only_the_known_modules_outside_the_command_line_import_it():
    def is_cli(module):
        return module == "ei_brian.cli" or module.startswith("ei_brian.cli.")

    importers = {module for module, targets in import_graph().items()
                 if not is_cli(module) and any(is_cli(target) for target in targets)}
    new, gone = importers - KNOWN_CLI_IMPORTERS, KNOWN_CLI_IMPORTERS - importers
    assert not new and not gone, (
        f"modules outside ei_brian/cli/ that import ei_brian.cli: {sorted(importers)}; "
        f"new: {sorted(new)}; listed in KNOWN_CLI_IMPORTERS but gone: {sorted(gone)}")


def test_the_ground_floor_imports_nothing_above_it():
    """The registry of the data sets imports nothing of ``ei_brian``; the configuration, of the
    package, only the registry (and the streams, for the time constants); the modules under
    ``ei_brian/datasets/`` (the data sets and their helpers) only each other and
    :data:`DATASETS_MAY_IMPORT`, never :mod:`ei_brian.data` above them; the run folder's readers
    (:mod:`ei_brian.io`) not the sparse structure (a run's ``structure.npz`` is read and checked
    by :func:`ei_brian.structure.load_structure`, which imports them, not the other way round)."""
    graph = import_graph()
    assert graph["ei_brian.datasets.registry"] == set()
    assert graph["ei_brian.config"] <= {"ei_brian.datasets", "ei_brian.datasets.registry",
                                        "ei_brian.streams"}
    datasets = {module for module in graph
                if module == "ei_brian.datasets" or module.startswith("ei_brian.datasets.")}
    assert {"ei_brian.datasets.fashion_mnist", "ei_brian.datasets.shd",
            "ei_brian.datasets.randman", "ei_brian.datasets.shd_like"} <= datasets
    for module in sorted(datasets):
        outside = graph[module] - datasets - DATASETS_MAY_IMPORT
        assert not outside, (f"{module} imports {sorted(outside)}, outside ei_brian/datasets/; "
                             f"it may import only {sorted(DATASETS_MAY_IMPORT)} of the rest")
    for module in DATASETS_MAY_IMPORT:
        assert graph[module] == set(), module
    assert "ei_brian.structure" not in graph["ei_brian.io"]
    # no leftovers at the data sets' old places
    assert not {"ei_brian.shd", "ei_brian.randman", "ei_brian.shd_like"} & set(graph)


def test_the_old_names_are_the_registry_s():
    from ei_brian import config, data
    from ei_brian.datasets import randman, registry, shd, shd_like
    assert config.DATASET_NAMES == tuple(data.DATASETS) == registry.DATASET_NAMES
    assert config.SPIKE_DATASET_NAMES == data.SPIKE_DATASETS == registry.SPIKE_DATASETS
    assert data.DEFAULT_TIME_GRID_MS is registry.DEFAULT_TIME_GRID_MS
    assert data.dataset_size is registry.dataset_size
    assert config.DATASET_DEFAULTS is registry.DATASET_DEFAULTS
    assert randman.DEFAULTS is config.RANDMAN_DEFAULTS is registry.RANDMAN_DEFAULTS
    assert shd_like.DEFAULTS is config.SHD_LIKE_DEFAULTS is registry.SHD_LIKE_DEFAULTS
    assert (shd.SHD, shd.SHD_N_CHANNELS, shd.SHD_N_CLASSES) == (registry.SHD, 700, 20)


def test_the_figures_import_only_the_plotting_module():
    """A figure script reads a reproduction's tables (``data/``) and draws them with
    :mod:`ei_brian.plotting` (and figures/ei_brian.mplstyle): no other module of ``ei_brian``."""
    figures = sorted((PACKAGE.parent / "figures").glob("*.py"))
    assert figures
    for path in figures:
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                imported.update([node.module] if node.module != "ei_brian" else
                                [f"ei_brian.{alias.name}" for alias in node.names])
        from_package = {name for name in imported if name.split(".")[0] == "ei_brian"}
        assert from_package <= {"ei_brian.plotting"}, (path.name, sorted(from_package))
