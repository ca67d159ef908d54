"""``ei-brian reproduce``: every study, the analysis, every figure and the report, in one command.

The pipeline, each step skipped where its output exists, so the command can be stopped and
started again:

1. **studies** (``studies/*.toml``): every run of every study at the chosen scale, through the
   sweep engine (:mod:`ei_brian.sweep`) on one Dask cluster, into ``OUT/<study>/``; each run's
   spike-train analysis (:mod:`ei_brian.analysis`, as ``ei-brian analyze`` writes it) is made in
   the same worker right after the run;
2. **tables** (``OUT/tables/``): the Van Rossum table of every analysed run
   (``vanrossum.csv``), the firing rates of every neuron of the ratio study (``activity_rates.csv``)
   and the probe spikes of one sample per ratio for rasters (``activity_spikes.csv``);
3. **figures** (``figures/fig*.py``): each script reads only the tables and writes a PNG and a
   PDF into ``OUT/figures/``; one whose data is missing says so and is skipped;
4. **report**: ``OUT/REPORT.md`` tests the paper's claims on the tables (:mod:`ei_brian.report`)
   and says how the numbers were made (scale, command, version, commit, cores, wall time).

The spike-timing study runs on the Spiking Heidelberg Digits where their files are found
(``ei-brian data where shd``) and on the generated random-manifold stand-in where they are not.
"""
import datetime
import json
import os
import platform
import subprocess
import sys
import time

import ei_brian
from ei_brian.io import atomic_write_json, atomic_write_text

__all__ = ["STUDIES", "SCALES", "FIGURES", "reproduce", "load_studies", "write_tables",
           "write_report", "repository_root"]

#: the studies, in the order of the report
STUDIES = ("ratio", "initial_rate", "update_noise", "spike_timing")
SCALES = ("smoke", "quick", "full")
#: figure scripts (in figures/), in the order of the report
FIGURES = ("fig1_ratio", "fig2_initial_rate", "fig3_update_noise", "fig4_van_rossum",
           "fig5_spike_timing", "fig6_activity")
#: the probe sample whose spikes are kept for rasters, and the seed of the runs shown
RASTER_SAMPLE = 0
RASTER_SEED = 0


def repository_root():
    """The repository that holds ``studies/`` and ``figures/`` (the package's parent folder)."""
    return os.path.dirname(os.path.dirname(os.path.abspath(ei_brian.__file__)))


def default_out(scale):
    return os.path.join("data", scale)


def load_studies(scale, studies_dir=None, data_dir=None):
    """The studies' sweeps at ``scale``: ``[(name, SweepSpec)]``.

    The spike-timing study takes SHD where its files are found, else the random-manifold task.
    """
    import tomllib

    from ei_brian.sweep import SweepError, load_spec
    studies_dir = studies_dir or os.path.join(repository_root(), "studies")
    out = []
    for name in STUDIES:
        path = os.path.join(studies_dir, f"{name}.toml")
        if not os.path.exists(path):
            raise SweepError(f"the study {path} is missing: run ei-brian reproduce from a clone of "
                             "the repository, or give --studies DIR")
        with open(path, "rb") as f:
            raw = tomllib.load(f)
        if name == "spike_timing":
            raw.setdefault("base", {})["dataset"] = spike_timing_dataset(data_dir)
        spec = load_spec(raw, scale=scale)
        spec.source = path
        out.append((name, spec))
    return out


def spike_timing_dataset(data_dir=None):
    """``"shd"`` where the SHD files are found, else ``"randman"``."""
    try:
        from ei_brian.shd import shd_available
    except ImportError:  # pragma: no cover - the SHD module is part of the package
        return "randman"
    return "shd" if shd_available(data_dir) else "randman"


# ---------------------------------------------------------------------------------------------
# tables

def _read_csv(path):
    import pandas as pd
    try:
        return pd.read_csv(path)
    except (OSError, ValueError):
        return None


def write_tables(out, studies):
    """The tables the figures and the report read, from the run folders (atomically).

    Returns
    -------
    dict
        ``{name: path}`` of the tables written.
    """
    import pandas as pd

    from ei_brian.analysis import ANALYSIS_FILE, NEURONS_FILE
    from ei_brian.io import PROBE_SPIKES_FILES, load_probe_spikes
    from ei_brian.sweep import collect
    folder = os.path.join(out, "tables")
    os.makedirs(folder, exist_ok=True)
    van_rossum, rates, spikes = [], [], []
    for name, spec in studies:
        sweep_dir = os.path.join(out, name)
        rows, _ = collect(spec, sweep_dir)
        for run, row in zip(spec.runs, rows):
            if row["status"] != "finished":
                continue
            run_dir = os.path.join(sweep_dir, run.folder)
            keys = {"study": name, "label": run.label, "network": row["network"], "seed": run.seed,
                    "dataset": run.train_config.dataset,
                    "update_noise": run.train_config.update_noise, "init": run.train_config.init,
                    "peak_test_acc": row["peak_test_acc"],
                    "rate_exc_initial_hz": row["rate_exc_initial_hz"]}
            analysis = _read_csv(os.path.join(run_dir, ANALYSIS_FILE))
            if analysis is not None:
                wide = analysis.pivot_table(index=["snapshot", "population"], columns="measure",
                                            values="value").reset_index()
                for record in wide.to_dict("records"):
                    van_rossum.append({**keys, **record})
            if name != "ratio":
                continue
            neurons = _read_csv(os.path.join(run_dir, NEURONS_FILE))
            if neurons is not None:
                for record in neurons[["snapshot", "population", "neuron", "rate_hz"]].to_dict(
                        "records"):
                    rates.append({"network": row["network"], "seed": run.seed, **record})
            if run.seed == RASTER_SEED:
                for snapshot, file_name in PROBE_SPIKES_FILES.items():
                    try:
                        probe = load_probe_spikes(os.path.join(run_dir, file_name))
                    except Exception:  # noqa: BLE001 - a missing or bad file: no raster
                        continue
                    keep = probe["samples"] == RASTER_SAMPLE
                    for time_s, neuron in zip(probe["times"][keep], probe["neurons"][keep]):
                        spikes.append({"network": row["network"], "seed": run.seed,
                                       "snapshot": snapshot, "neuron": int(neuron),
                                       "population": "E" if neuron < probe["n_exc"] else "I",
                                       "time_ms": round(1000 * float(time_s), 6),
                                       "n_exc": int(probe["n_exc"]),
                                       "n_inh": int(probe["n_inh"])})
    written = {}
    for table_name, records in (("vanrossum", van_rossum), ("activity_rates", rates),
                                ("activity_spikes", spikes)):
        path = os.path.join(folder, f"{table_name}.csv")
        atomic_write_text(path, pd.DataFrame(records).to_csv(index=False, float_format="%.6g"))
        written[table_name] = path
    return written


# ---------------------------------------------------------------------------------------------
# figures

def run_figures(out, figures_dir=None):
    """Run every figure script on ``out``'s tables; returns ``{figure: (status, message)}``."""
    figures_dir = figures_dir or os.path.join(repository_root(), "figures")
    results = {}
    for name in FIGURES:
        script = os.path.join(figures_dir, f"{name}.py")
        if not os.path.exists(script):
            results[name] = ("missing", f"{script} does not exist")
            continue
        process = subprocess.run([sys.executable, script, "--data", out], capture_output=True,
                                 text=True)
        message = (process.stdout + process.stderr).strip()
        if process.returncode != 0:
            status = "failed"
        elif "skipped" in process.stdout:
            status = "skipped"
        else:
            status = "written"
        results[name] = (status, message.splitlines()[-1] if message else "")
    return results


# ---------------------------------------------------------------------------------------------
# the report

def _git(*args):
    try:
        return subprocess.run(["git", *args], cwd=repository_root(), capture_output=True,
                              text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def provenance(scale, command, out=None):
    commit = _git("rev-parse", "HEAD") or "unknown (not a git checkout)"
    # the reproduction's own folder does not count: it is being written
    exclude = ([f":(exclude){os.path.relpath(os.path.abspath(out), repository_root())}"]
               if out else [])
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no", "--", ".", *exclude))
    return {"scale": scale, "command": command, "ei_brian_version": ei_brian.__version__,
            "git_commit": commit, "uncommitted_changes": dirty, "cores": os.cpu_count(),
            "machine": f"{platform.machine()}, {platform.system()} {platform.release()}",
            "python": platform.python_version()}


def _markdown_table(frame, percent=(), digits=3):
    import numpy as np
    if frame is None or len(frame) == 0:
        return "(no data)\n"
    columns = list(frame.columns)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in frame.itertuples(index=False):
        cells = []
        for column, value in zip(columns, row):
            if isinstance(value, float):
                if not np.isfinite(value):
                    cells.append("")
                elif column in percent:
                    cells.append(f"{100 * value:.1f} %")
                else:
                    cells.append(f"{value:.{digits}g}")
            else:
                cells.append(str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def compute_verdicts(out, studies):
    """Every claim's :class:`ei_brian.report.Verdict` from the tables under ``out``."""
    from ei_brian import report
    tables = {name: _read_csv(os.path.join(out, name, "runs.csv")) for name, _ in studies}
    specs = dict(studies)
    verdicts = []
    ratio = tables.get("ratio")
    if ratio is not None and len(ratio):
        config = specs["ratio"].runs[0].train_config
        full = config.train_samples is None and config.epochs >= 30
        verdicts.append(report.verdict_h1(ratio, full_scale=full))
    initial = tables.get("initial_rate")
    if initial is not None and len(initial):
        verdicts.append(report.verdict_h2(initial))
        verdicts.append(report.verdict_h3(initial))
    noise = tables.get("update_noise")
    if noise is not None and len(noise):
        verdicts.append(report.verdict_h4(noise))
    vanrossum = _read_csv(os.path.join(out, "tables", "vanrossum.csv"))
    if vanrossum is not None and len(vanrossum):
        verdicts.append(report.verdict_h5(vanrossum, noise))
    found = {verdict.claim for verdict in verdicts}
    for claim in report.CLAIMS:
        if claim not in found:
            verdicts.append(report.Verdict(claim, report.INCONCLUSIVE, "its study has no finished "
                                           "runs yet", "", ""))
    return sorted(verdicts, key=lambda verdict: verdict.claim)


FIGURE_OF_CLAIM = {"H1": "fig1_ratio", "H2": "fig2_initial_rate", "H3": "fig2_initial_rate",
                   "H4": "fig3_update_noise", "H5": "fig4_van_rossum"}


def write_report(out, studies, context, figures=None, failures=()):
    """Write ``OUT/REPORT.md`` (and ``OUT/tables/claims.csv``); return its path."""
    import pandas as pd
    verdicts = compute_verdicts(out, studies)
    figures = figures or {}
    lines = [f"# Reproduction report ({context['scale']} scale)", ""]
    lines += ["Kilgore, Kopsick, Ascoli & Adam, *Biologically-informed excitatory and inhibitory "
              "ratio for robust spiking neural network training*, Scientific Reports 15:24798 "
              "(2025), reproduced with ei_brian: Dale's-law E/I networks as Brian2 equations, "
              "compiled to C++, trained with surrogate gradients (the model and its defaults: the "
              "README's section *What it does*).", ""]
    wall = context.get("wall_seconds_total")
    lines += ["| | |", "|---|---|",
              f"| scale | {context['scale']} |",
              f"| command | `{context['command']}` |",
              f"| ei_brian version | {context['ei_brian_version']} |",
              f"| git commit | `{context['git_commit']}`"
              + (" (with uncommitted changes)" if context.get("uncommitted_changes") else "")
              + " |",
              f"| machine | {context['cores']} cores, {context['machine']}, Python "
              f"{context['python']} |",
              f"| wall time | {_duration(wall)}" + (
                  f" over {context['invocations']} invocations" if context.get("invocations", 1)
                  > 1 else "") + " |"]
    invocations = context.get("invocation_list", [])
    if len(invocations) > 1:
        lines.append("| invocations | " + "; ".join(
            f"{k + 1}: commit `{str(item.get('git_commit', ''))[:7]}`, "
            f"{_duration(item.get('wall_seconds'))}, "
            + (f"{item['runs_finished']} runs trained" if "runs_finished" in item else
               "runs trained: not recorded")
            for k, item in enumerate(invocations)) + " |")
    lines += [
              f"| runs | {context.get('n_runs_finished', 0)} finished of "
              f"{context.get('n_runs', 0)}; training time summed over runs "
              f"{_duration(context.get('run_seconds_total'))} |",
              f"| date | {context.get('date', '')} |", ""]
    lines += ["## Verdicts", "", "| claim | verdict | in short |", "|---|---|---|"]
    for verdict in verdicts:
        lines.append(f"| {verdict.claim}: {verdict.statement} | **{verdict.verdict}** | "
                     f"{_sentence(verdict.reason)} |")
    lines.append("")
    if failures:
        lines += ["Runs that failed (their claims rest on the runs that finished):", ""]
        lines += [f"- `{folder}`: {error} (log: `{log}`)" for folder, error, log in failures]
        lines.append("")
    for verdict in verdicts:
        lines += [f"## {verdict.claim}: {verdict.statement}", "",
                  f"**Verdict: {verdict.verdict}.** {_sentence(verdict.reason)}", ""]
        figure = FIGURE_OF_CLAIM.get(verdict.claim)
        if figure and figures.get(figure, ("",))[0] == "written":
            lines += [f"![{figure}](figures/{figure}.png)", ""]
        if verdict.test:
            lines += [f"Test: {verdict.test}.", ""]
        if verdict.rule:
            lines += [f"Rule: {verdict.rule}", ""]
        if verdict.table is not None:
            percent = {column for column in getattr(verdict.table, "columns", [])
                       if column in ("peak accuracy", "sd", "mean peak accuracy",
                                     "pooled sd over seeds", "lowest peak accuracy",
                                     "gap to unbounded", "gap low", "gap high")}
            lines += [_markdown_table(verdict.table, percent=percent)]
    lines += _spike_timing_section(out, studies, figures)
    lines += ["## Figures", ""]
    for name in FIGURES:
        status, message = figures.get(name, ("not made", ""))
        lines.append(f"- `{name}`: {status}" + (f" ({message})" if status != "written" and message
                                                else ""))
    lines += ["", "## How to regenerate", "",
              f"- Everything: `{context['command']}` (finished runs are skipped).",
              f"- The figures only, from the tables: `python figures/<figure>.py --data {out}`.",
              f"- The tables: `{out}/<study>/runs.csv` and `epochs.csv` (one row a run, one a "
              f"run's epoch), `{out}/tables/*.csv`; run folders (weights, spike trains, logs) "
              f"are under `{out}/<study>/<label>/seed-<n>/`.", ""]
    path = os.path.join(out, "REPORT.md")
    atomic_write_text(path, "\n".join(lines))
    claims = pd.DataFrame([{"claim": v.claim, "statement": v.statement, "verdict": v.verdict,
                            "reason": v.reason, "test": v.test} for v in verdicts])
    atomic_write_text(os.path.join(out, "tables", "claims.csv"), claims.to_csv(index=False))
    return path


def _sentence(text):
    return text[:1].upper() + text[1:] if text else text


def _spike_timing_section(out, studies, figures):
    from ei_brian.report import mean_sd
    runs = _read_csv(os.path.join(out, "spike_timing", "runs.csv"))
    spec = dict(studies).get("spike_timing")
    lines = ["## Spike timing: the ratio comparison on spike-timing data", ""]
    if runs is None or spec is None or not (runs["status"] == "finished").any():
        return lines + ["No finished runs yet.", ""]
    dataset = spec.runs[0].train_config.dataset
    what = ("the Spiking Heidelberg Digits (SHD files found)" if dataset == "shd" else
            "the random-manifold stand-in (`--dataset randman`; the SHD files were not found, "
            "see `ei-brian data where shd`)")
    lines += [f"Data: {what}. Not one of the paper's five claims, the same ratio comparison as "
              "H1 on data where spike timing carries the class.", ""]
    if figures.get("fig5_spike_timing", ("",))[0] == "written":
        lines += ["![fig5_spike_timing](figures/fig5_spike_timing.png)", ""]
    inits = sorted({run.train_config.init for run in spec.runs})
    if len(inits) > 1:
        lines += ["The networks do not all start the same way (see `studies/spike_timing.toml`): "
                  + "; ".join(f"{label}: `--init {run.train_config.init}`"
                              for label, run in {run.label: run for run in spec.runs}.items())
                  + ". Their initial E rates are in the table.", ""]
    lines += ["| network | peak test accuracy (mean +/- sd, n) | initial E rate (Hz, mean) |",
              "|---|---|---|"]
    finished = runs[runs["status"] == "finished"]
    for network, part in finished.groupby("network", sort=False):
        mean, sd, n = mean_sd(part["peak_test_acc"])
        rate = part["rate_exc_initial_hz"].mean()
        lines.append(f"| {network} | {100 * mean:.1f}" + (f" +/- {100 * sd:.1f}" if n > 1 else "")
                     + f" % (n = {n}) | {rate:.3g} |")
    return lines + [""]


def _duration(seconds):
    if seconds is None or seconds != seconds:
        return "unknown"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return (f"{hours} h " if hours else "") + f"{minutes} min {seconds} s"


# ---------------------------------------------------------------------------------------------
# the pipeline

def reproduce(scale="quick", out=None, workers=None, scheduler=None, client=None, dry_run=False,
              progress=True, studies_dir=None, data_dir=None, command=None):
    """Run the whole reproduction at ``scale`` (see the module docstring).

    Returns
    -------
    str or None
        The report's path (None for a dry run).
    """
    from ei_brian.sweep import SweepFailed, run_sweeps
    if scale not in SCALES:
        raise ValueError(f"scale {scale!r} is unknown; use one of {', '.join(SCALES)}")
    out = out or default_out(scale)
    command = command or f"ei-brian reproduce --{scale}" + (f" --out {out}" if out !=
                                                            default_out(scale) else "")
    studies = load_studies(scale, studies_dir, data_dir)
    sweeps = [(spec, os.path.join(out, name)) for name, spec in studies]
    if dry_run:
        run_sweeps(sweeps, dry_run=True)
        return None
    started = time.time()
    os.makedirs(out, exist_ok=True)
    print(f"reproducing at the {scale} scale into {out}: {sum(len(s.runs) for s, _ in sweeps)} "
          f"runs in {len(sweeps)} studies")
    failures = []
    finished_before = _count_finished(sweeps)
    try:
        run_sweeps(sweeps, workers=workers, scheduler=scheduler, client=client, progress=progress,
                   data_dir=data_dir, analyze=True)
    except SweepFailed as error:
        failures = error.failures
        print(f"{len(failures)} run(s) failed; the report rests on the others:\n{error}",
              file=sys.stderr)
    print("writing the tables")
    write_tables(out, studies)
    print("drawing the figures")
    figures = run_figures(out)
    for name, (status, message) in figures.items():
        print(f"  {name}: {status}" + (f" ({message})" if status != "written" else ""))
    from ei_brian.sweep import collect
    rows = [row for spec, sweep_dir in sweeps for row in collect(spec, sweep_dir)[0]]
    finished = sum(row["status"] == "finished" for row in rows)
    history = _record_invocation(out, scale, command, started, time.time(),
                                 runs_finished=finished - finished_before)
    context = provenance(scale, command, out)
    context.update(history)
    context["n_runs"] = len(rows)
    context["n_runs_finished"] = finished
    context["run_seconds_total"] = sum(row["wall_seconds"] for row in rows
                                       if row["wall_seconds"] == row["wall_seconds"])
    context["date"] = datetime.date.today().isoformat()
    path = write_report(out, studies, context, figures, failures)
    print(f"report: {path}")
    return path


def _count_finished(sweeps):
    from ei_brian.sweep import collect
    return sum(row["status"] == "finished" for spec, sweep_dir in sweeps
               for row in collect(spec, sweep_dir)[0])


def _record_invocation(out, scale, command, started, ended, runs_finished=0):
    """Append this invocation to ``OUT/reproduce.json``; return the totals over invocations."""
    path = os.path.join(out, "reproduce.json")
    try:
        with open(path) as f:
            record = json.load(f)
    except (OSError, ValueError):
        record = {"invocations": []}
    record["invocations"].append({"scale": scale, "command": command,
                                  "started": datetime.datetime.fromtimestamp(started).isoformat(
                                      timespec="seconds"),
                                  "wall_seconds": round(ended - started, 1),
                                  "runs_finished": int(runs_finished),
                                  "ei_brian_version": ei_brian.__version__,
                                  "git_commit": _git("rev-parse", "HEAD")})
    atomic_write_json(path, record)
    return {"wall_seconds_total": sum(item["wall_seconds"] for item in record["invocations"]),
            "invocations": len(record["invocations"]),
            "invocation_list": record["invocations"]}
