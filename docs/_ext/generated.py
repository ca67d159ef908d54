"""Pages written from the code at build time, so that they cannot drift from it:

- ``generated/defaults.md``: every field of :class:`ei_brian.config.NetworkConfig` and
  :class:`ei_brian.config.TrainConfig` with its default, and the defaults that differ by data set;
- ``generated/cli.md``: the ``--help`` of every ``ei-brian`` command, from its argparse parser.
"""
import dataclasses
import os


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
    return "\n".join(lines)


def write_pages(app):
    folder = os.path.join(app.srcdir, "generated")
    os.makedirs(folder, exist_ok=True)
    os.environ.setdefault("COLUMNS", "100")  # argparse's line width, the same on every machine
    for name, page in (("defaults.md", defaults_page), ("cli.md", cli_page)):
        text = page()
        path = os.path.join(folder, name)
        if not os.path.exists(path) or open(path).read() != text:
            with open(path, "w") as f:
                f.write(text)


def setup(app):
    app.connect("builder-inited", write_pages)
    return {"parallel_read_safe": True}
