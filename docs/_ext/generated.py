"""Pages written from the code at build time, so that they cannot drift from it:

- ``generated/defaults.md``: every field of :class:`ei_brian.config.NetworkConfig` and
  :class:`ei_brian.config.TrainConfig` with its default, and the defaults that differ by data set;
- ``generated/cli.md``: the ``--help`` of every ``ei-brian`` command, from its argparse parser;
- ``generated/run_folder_files.md`` and ``generated/run_folder_formats.md``, two pieces that
  ``run_folder.md`` includes: the files of a run folder, named by the constants of
  :mod:`ei_brian.io` (and :mod:`ei_brian.analysis.tables`), the columns of ``metrics.csv``
  (``METRICS_COLUMNS``) and the format of the probe spike files (the module's docstring);
- ``generated/examples/*.ipynb``: copies of the notebooks of ``examples/``, which myst-nb renders
  with the outputs they are stored with (conf.py: ``nb_execution_mode = "off"``). To refresh
  those outputs, execute a notebook in place, from a scratch folder so that its run folder is not
  left in examples/, e.g. with nbclient: ``NotebookClient(nb, kernel_name="python3",
  resources={"metadata": {"path": scratch}}).execute()``, then ``nbformat.write`` it back.

Each file name and each ``metrics.csv`` column needs a description below; a constant without one,
or a description of a file the code no longer writes, stops the build with an error, so the run
folder's page cannot drift from the code.
"""
import dataclasses
import inspect
import os
import re

from sphinx.errors import ExtensionError


def _value(value):
    text = str(value)
    return text.replace("|", "\\|") if text else '""'


def defaults_page():
    from ei_brian.config import DATASET_DEFAULTS, NetworkConfig, TrainConfig
    lines = ["# Every default", "",
             "Generated from `ei_brian.config` when the documentation is built.", ""]
    for cls in (NetworkConfig, TrainConfig):
        instance = cls()
        lines += [f"## {cls.__name__}", "", "| field | default |", "|---|---|"]
        for field in dataclasses.fields(cls):
            lines.append(f"| `{field.name}` | `{_value(getattr(instance, field.name))}` |")
        lines.append("")
    names = sorted({name for values in DATASET_DEFAULTS.values() for name in values})
    lines += ["## Defaults by data set", "",
              "`TrainConfig` takes these where they are left at None (the command line's defaults "
              "follow them).", "", "| data set | " + " | ".join(names) + " |",
              "|---|" + "---|" * len(names)]
    for dataset, values in DATASET_DEFAULTS.items():
        lines.append(f"| {dataset} | " + " | ".join(f"`{values[name]}`" for name in names) + " |")
    return "\n".join(lines) + "\n"


def cli_page():
    from ei_brian.cli import COMMANDS, build_parser
    lines = ["# The command line", "",
             "Generated from the `ei-brian` argparse parsers when the documentation is built.", "",
             "```text", build_parser().format_help().rstrip(), "```", ""]
    for name in COMMANDS:
        parser = build_parser(name)
        sub = next(action for action in parser._actions
                   if action.__class__.__name__ == "_SubParsersAction").choices[name]
        lines += [f"## ei-brian {name}", "", "```text", sub.format_help().rstrip(), "```", ""]
        if name == "train":
            lines += option_fields_table()
    return "\n".join(lines)


def option_fields_table():
    """The options of ``ei-brian train`` and the configuration fields they set: every option of
    a configuration is named after its field (``--batch-size``: ``TrainConfig.batch_size``)
    except those of ``ei_brian.cli.train.OPTION_FIELDS``."""
    from ei_brian.cli.train import OPTION_FIELDS, RUN_OPTIONS
    lines = ["### Options and configuration fields", "",
             "Every option of `ei-brian train` that belongs to the run's configuration is named "
             "after the field it sets, dashes for underscores (`--batch-size` sets "
             "`TrainConfig.batch_size`, `--ratio` `NetworkConfig.ratio`; a sweep spec's keys are "
             "the option names with underscores), except these:", "",
             "| option | sets |", "|---|---|"]
    lines += [f"| `{option}` | `{field}` |" for option, field in OPTION_FIELDS.items()]
    lines += ["", "Options of the run, not recorded in its configuration: "
              + ", ".join(f"`{option}`" for option in RUN_OPTIONS) + ".", ""]
    return lines


# The files of a run folder, in the order a run writes them. A key is a file name or a tuple of
# names sharing one row: the values of the file-name constants (``*_FILE``, ``*_FILES``) of
# ei_brian.io and ei_brian.analysis.tables, or names the code writes as literals (then they must
# appear as quoted strings in ei_brian/io.py or ei_brian/training.py). ``{NAME}`` in a description
# is replaced by the value of ei_brian.io's constant NAME (N_PROBE: TrainConfig's n_probe).
RUN_FOLDER_FILES = {
    "config.json": "everything that made the run (network and training configuration, version), "
                   "written before training starts; its `format` is `{RUN_FORMAT}` and its "
                   "`format_version` `{RUN_FORMAT_VERSION}`: a folder written by another version "
                   "is refused",
    "metrics.csv": "one row per epoch, epoch 0 being the initial network (columns below)",
    "weights.npz": "`w_xe, w_xi, w_ee, w_ei, w_ie, w_ii, w_eo` after the latest epoch, each "
                   "`(n_pre, n_post)`: magnitudes under Dale's law, signed when unbounded; absent "
                   "projections absent",
    "checkpoint.npz": "weights, optimizer state, RNG state and metrics after the latest epoch; "
                      "`--resume` continues from it and ends where an uninterrupted run ends",
    "weights_initial.npz": "the initial weights (the keys of `weights.npz`)",
    "time_constants.npz": "runs with per-neuron time constants (`--tau-spread-exc`, "
                          "`--tau-spread-inh`, or `--inh-tau-factor` other than 1) only: each "
                          "hidden neuron's `tau_mem`, `tau_exc`, `tau_inh` (s)",
    "structure.npz": "sparse networks only: per sparse projection `sources_<projection>`, the "
                     "`(n_post, K)` presynaptic indices of every neuron's synapses ({doc}`sparse`)",
    "initialization.json": "the initialization scheme and what it derived (`fluctuation`: PSP "
                           "integrals, weight scales, variance split; `target-rate`: factors, "
                           "rates, every measurement; {doc}`initialization_noise`)",
    ("spikes_initial.npz", "spikes_final.npz"): "spikes of every hidden neuron for the `n_probe` "
                                                "({N_PROBE} by default) class-balanced probe test "
                                                "samples, before and after training (format below)",
    "log.txt": "the run's messages, its warnings and, if it failed, the error with its traceback",
    "result.json": "written last, when the run has finished: its peak accuracy, rates and wall "
                   "time, its outcome (*trained*, *silent* or *saturated*), its `warnings`, "
                   "whether and why it stopped early (`stopped_early`, `stop_reason`), and with "
                   "`--validation-samples` the epoch they choose and its test accuracy; the "
                   "commits of the code that trained it (`git_commit`) and the machines "
                   "(`trained_on`: processor and BLAS kernel)",
    ("analysis.csv", "analysis_neurons.csv", "analysis_raster.png", "analysis_rates.png",
     "analysis_van_rossum.png"): "added by `ei-brian analyze` ({doc}`analysis`): the measures, "
                                 "the per-neuron measures and, with figures, the plots",
}

# The columns of metrics.csv: those of ei_brian.io.METRICS_COLUMNS, and val_acc, which
# ei_brian.io._metrics_text inserts after train_acc in a run with validation samples.
METRICS_DESCRIPTIONS = {
    "epoch": "the epoch; 0 is the initial network, before any update",
    "train_loss": "mean cross-entropy loss over the epoch's minibatches (epoch 0: of the initial "
                  "network on the training set)",
    "train_acc": "mean accuracy over the epoch's minibatches (epoch 0: of the initial network on "
                 "the training set)",
    "val_acc": "accuracy on the validation samples; only in runs with `--validation-samples`",
    "test_acc": "accuracy on the test set after the epoch",
    "rate_exc_hz": "mean firing rate of the E neurons on the test set (Hz)",
    "rate_inh_hz": "mean firing rate of the I neurons on the test set (Hz; `nan` without I "
                   "neurons)",
    "silent_frac": "fraction of hidden neurons that fire no spike on the whole test set",
    "seconds": "wall time of the epoch, its evaluation included (s)",
}


def _fail(message):
    raise ExtensionError(f"docs/_ext/generated.py: {message}; describe it in RUN_FOLDER_FILES or "
                         "METRICS_DESCRIPTIONS (docs/_ext/generated.py), or remove the description")


def _file_constants(module):
    """{constant name: file name} of a module's ``*_FILE`` and ``*_FILES`` constants."""
    found = {}
    for name, value in vars(module).items():
        if name.endswith("_FILE") and isinstance(value, str):
            found[name] = value
        elif name.endswith("_FILES") and isinstance(value, dict):
            found.update({f"{name}[{key!r}]": item for key, item in value.items()})
    return found


def _docstring_section(doc, title):
    """The body of the numpydoc-style section ``title`` (underlined with dashes) of ``doc``."""
    match = re.search(rf"^{re.escape(title)}\n-+\n(.*?)(?=^\S[^\n]*\n-+\n|\Z)", doc,
                      re.M | re.S)
    if match is None:
        _fail(f"ei_brian.io's docstring has no section {title!r}")
    return match.group(1).strip()


def run_folder_pages():
    """The two pieces of run_folder.md: the table of files; the formats of metrics and spikes."""
    from ei_brian import io, training
    from ei_brian.analysis import tables
    from ei_brian.config import TrainConfig

    constants = {**_file_constants(io), **_file_constants(tables)}
    described = {name for key in RUN_FOLDER_FILES
                 for name in (key if isinstance(key, tuple) else (key,))}
    for constant, name in constants.items():
        if name not in described:
            _fail(f"the run-folder file {name!r} ({constant}) has no description")
    sources = inspect.getsource(io) + inspect.getsource(training)
    for name in sorted(described - set(constants.values())):
        if f'"{name}"' not in sources:
            _fail(f"the run-folder file {name!r} is described but named neither by a constant of "
                  "ei_brian.io or ei_brian.analysis.tables nor in ei_brian/io.py or training.py")
    columns = list(io.METRICS_COLUMNS)
    if '"val_acc"' in inspect.getsource(io._metrics_text):
        columns.insert(columns.index("train_acc") + 1, "val_acc")
    for column in columns:
        if column not in METRICS_DESCRIPTIONS:
            _fail(f"the metrics.csv column {column!r} has no description")
    for column in METRICS_DESCRIPTIONS:
        if column not in columns:
            _fail(f"{column!r} is described but is not a column of metrics.csv")
    values = {name: getattr(io, name) for name in dir(io) if name.isupper()}
    values["N_PROBE"] = TrainConfig().n_probe

    files = ["<!-- generated from ei_brian.io by docs/_ext/generated.py; do not edit -->", "",
             "| file | contents |", "|---|---|"]
    for key, text in RUN_FOLDER_FILES.items():
        names = ", ".join(f"`{name}`" for name in (key if isinstance(key, tuple) else (key,)))
        text = re.sub(r"\{([A-Z_]+)\}", lambda match: str(values[match.group(1)]), text)
        files.append(f"| {names} | {_value(text)} |")

    probe = _docstring_section(io.__doc__, "Probe spike-train files")
    formats = ["<!-- generated from ei_brian.io by docs/_ext/generated.py; do not edit -->", "",
               "## The columns of metrics.csv", "",
               "In this order (`ei_brian.io.METRICS_COLUMNS`); floats are written with six "
               "significant digits; a measure that is not a number is written `nan`.", "",
               "| column | meaning |", "|---|---|"]
    formats += [f"| `{column}` | {_value(METRICS_DESCRIPTIONS[column])} |" for column in columns]
    formats += ["", "## The probe spike files", "",
                "From the documentation of {py:mod}`ei_brian.io`:", "",
                "```{eval-rst}", ".. currentmodule:: ei_brian.io", "", probe, "```", ""]
    return "\n".join(files) + "\n", "\n".join(formats)


def _write_if_changed(path, text):
    """Write ``text`` to ``path`` unless it holds it already (so Sphinx does not reread it)."""
    if not os.path.exists(path) or open(path, encoding="utf-8").read() != text:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


def write_pages(app):
    folder = os.path.join(app.srcdir, "generated")
    os.makedirs(folder, exist_ok=True)
    examples = os.path.join(app.srcdir, os.pardir, "examples")
    os.makedirs(os.path.join(folder, "examples"), exist_ok=True)
    for name in sorted(os.listdir(examples)):
        if name.endswith(".ipynb"):
            with open(os.path.join(examples, name), encoding="utf-8") as f:
                _write_if_changed(os.path.join(folder, "examples", name), f.read())
    os.environ.setdefault("COLUMNS", "100")  # argparse's line width, the same on every machine
    files, formats = run_folder_pages()
    for name, text in (("defaults.md", defaults_page()), ("cli.md", cli_page()),
                       ("run_folder_files.md", files), ("run_folder_formats.md", formats)):
        _write_if_changed(os.path.join(folder, name), text)


def setup(app):
    app.connect("builder-inited", write_pages)
    return {"parallel_read_safe": True}
