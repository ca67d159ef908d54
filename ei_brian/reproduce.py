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
(``ei-brian data where shd``) and on the generated SHD-like stand-in
(:mod:`ei_brian.datasets.shd_like`) where they are not.
"""
import collections
import contextlib
import datetime
import json
import os
import platform
import signal
import subprocess
import sys
import threading
import time
import tomllib

import numpy as np

from ei_brian import report
from ei_brian._version import __version__
from ei_brian.io import PROBE_SPIKES_FILES, atomic_write_json, atomic_write_text, load_probe_spikes
from ei_brian.report import H1_MARGIN, compare_to_baseline, mean_sd, tuned_settings

__all__ = ["STUDIES", "SCALES", "FIGURES", "reproduce", "load_studies", "write_tables",
           "write_report", "repository_root"]

#: the studies, in the order of the report
STUDIES = ("recipe", "ratio", "ratio_full", "initial_rate", "update_noise", "spike_timing")
#: smoke: the tests; quick: a preview (an hour on 2 cores); standard: the scale that decides the
#: claims on one 2-core machine (about 30 core-hours, in pieces with --hours); full: the paper's
SCALES = ("smoke", "quick", "standard", "full")
#: figure scripts (in figures/), in the order of the report
FIGURES = ("fig1_ratio", "fig2_initial_rate", "fig3_update_noise", "fig4_van_rossum",
           "fig5_spike_timing", "fig6_activity")
#: the probe sample whose spikes are kept for rasters, and the seed of the runs shown
RASTER_SAMPLE = 0
RASTER_SEED = 0


def repository_root():
    """The repository that holds ``studies/`` and ``figures/`` (the package's parent folder)."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def default_out(scale):
    return os.path.join("data", scale)


def load_studies(scale, studies_dir=None, data_dir=None):
    """The studies' sweeps at ``scale``: ``[(name, SweepSpec)]``.

    The spike-timing study takes SHD where its files are found, else the random-manifold task.
    """
    # Brian2 through the sweep package (0.9 s) only when runs are collected or trained
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
        if scale not in raw.get("scale", {}):
            continue  # a study of some scales only (ratio_full: the paper's size)
        spec = load_spec(raw, scale=scale)
        spec.source = path
        out.append((name, spec))
    return out


def spike_timing_dataset(data_dir=None):
    """``"shd"`` where the SHD files are found, else ``"shd-like"`` (the generated stand-in)."""
    # the data sets' stack (urllib, ssl, encoding: +65 ms) only to look for the SHD files
    from ei_brian.datasets.shd import shd_available
    return "shd" if shd_available(data_dir) else "shd-like"


# ---------------------------------------------------------------------------------------------
# tables

def _read_csv(path):
    import pandas as pd  # pandas (0.3 s) only when a table is read or built
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
    # pandas (0.3 s), Brian2 through the sweep package (0.9 s) and the analysis package
    # (quantities and Neo, +100 ms) only when the tables are written
    import pandas as pd

    from ei_brian.analysis.tables import ANALYSIS_FILE, NEURONS_FILE
    from ei_brian.sweep import collect
    folder = os.path.join(out, "tables")
    os.makedirs(folder, exist_ok=True)
    van_rossum, rates, spikes = [], [], []
    # rows of runs finished elsewhere (no run folder here): kept from the tables as they are
    before = {name: _read_csv(os.path.join(folder, f"{name}.csv"))
              for name in ("vanrossum", "activity_rates", "activity_spikes")}
    for name, spec in studies:
        sweep_dir = os.path.join(out, name)
        rows, _ = collect(spec, sweep_dir)
        # the activity figure shows the ratio study's networks at its most common setting
        cells = [(row["learning_rate"], row["target_rate"]) for row in rows]
        common = max(set(cells), key=cells.count, default=None)
        for run, row in zip(spec.runs, rows):
            if row["status"] != "finished":
                continue
            run_dir = os.path.join(sweep_dir, run.folder)
            activity = name == "ratio" and (row["learning_rate"], row["target_rate"]) == common
            if not os.path.exists(os.path.join(run_dir, "config.json")):
                for table_name, records in (("vanrossum", van_rossum),
                                            ("activity_rates", rates),
                                            ("activity_spikes", spikes)):
                    old = before[table_name]
                    if old is None or (table_name != "vanrossum" and not activity):
                        continue
                    keep = (old["seed"] == run.seed) & (old["network"] == row["network"])
                    if table_name == "vanrossum":
                        keep &= (old["study"] == name) & (old["label"] == run.label)
                    records += old[keep].to_dict("records")
                continue
            keys = {"study": name, "label": run.label, "network": row["network"], "seed": run.seed,
                    "dataset": run.train_config.dataset,
                    "neuron_model": row.get("neuron_model", "lif"),
                    "update_noise": run.train_config.update_noise, "init": run.train_config.init,
                    "target_rate": row["target_rate"], "learning_rate": row["learning_rate"],
                    "outcome": row["outcome"], "peak_test_acc": row["peak_test_acc"],
                    "val_test_acc": row["val_test_acc"],
                    "rate_exc_initial_hz": row["rate_exc_initial_hz"], "command": row["command"]}
            analysis = _read_csv(os.path.join(run_dir, ANALYSIS_FILE))
            if analysis is not None:
                wide = analysis.pivot_table(index=["snapshot", "population"], columns="measure",
                                            values="value").reset_index()
                for record in wide.to_dict("records"):
                    van_rossum.append({**keys, **record})
            if not activity:
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

def _rules_changes(context):
    """``"; the files changed in 3 commits since the first invocation began (2026-11-30) ...:
    `a`, `b`, `c`"``: the rule files' commits after the runs started; ``""`` without a record
    of invocations."""
    started, changed = context.get("rules_changed_since") or (None, None)
    if changed is None:
        return ""
    if not changed:
        return f"; unchanged since the first invocation began ({started[:10]})"
    return (f"; the files changed in {len(changed)} commit{'s' if len(changed) != 1 else ''} "
            f"since the first invocation began ({started[:10]}), in wording, sections or rules "
            "(`git show` each), newest first: " + ", ".join(f"`{commit}`" for commit in changed))


def _git(*args):
    try:
        return subprocess.run(["git", *args], cwd=repository_root(), capture_output=True,
                              text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


#: the files that hold the report's rules (the verdicts, and what counts as silent or saturated)
RULE_FILES = ("ei_brian/report.py", "ei_brian/outcome.py")


def provenance(scale, command, out=None):
    commit = _git("rev-parse", "HEAD") or "unknown (not a git checkout)"
    rules = _git("log", "-1", "--format=%h", "--", *RULE_FILES)
    # the rules should be fixed before the runs: the changes since the first invocation began
    started = None
    try:
        with open(os.path.join(out, "reproduce.json")) as f:
            started = json.load(f)["invocations"][0]["started"]
    except (OSError, ValueError, TypeError, KeyError, IndexError):
        pass
    changed = None  # no record of invocations, or not a git checkout
    if started and rules:
        try:  # the invocation's time is local (naive); each commit's has its offset
            began = datetime.datetime.fromisoformat(started).astimezone()
            changed = [commit for commit, _, when in (
                line.partition("|") for line in
                _git("log", "--format=%h|%cI", "--", *RULE_FILES).splitlines())
                if datetime.datetime.fromisoformat(when) > began]
        except ValueError:
            changed = None
    # the reproduction's own folder does not count: it is being written
    exclude = ([f":(exclude){os.path.relpath(os.path.abspath(out), repository_root())}"]
               if out else [])
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no", "--", ".", *exclude))
    return {"scale": scale, "command": command, "ei_brian_version": __version__,
            "git_commit": commit, "uncommitted_changes": dirty, "cores": os.cpu_count(),
            "rules_commit": rules or "unknown", "rules_changed_since": (started, changed),
            "machine": f"{platform.machine()}, {platform.system()} {platform.release()}",
            "python": platform.python_version()}


def _markdown_table(frame, percent=(), digits=3):
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


def study_tables(out, studies):
    """The tables the verdicts read: each study's ``runs.csv`` and ``epochs.csv`` and the Van
    Rossum table (None where missing)."""
    tables = {}
    for name, _ in studies:
        tables[name] = _read_csv(os.path.join(out, name, "runs.csv"))
        tables[f"{name}/epochs"] = _read_csv(os.path.join(out, name, "epochs.csv"))
    tables["vanrossum"] = _read_csv(os.path.join(out, "tables", "vanrossum.csv"))
    return tables


def full_scale(studies):
    """Whether the ratio study trains on all training data for 30 epochs (H1's 80 % threshold
    is tested only then; ``ratio_full`` always does)."""
    spec = dict(studies).get("ratio")
    return bool(spec) and all(run.train_config.train_samples is None
                              and run.train_config.epochs >= 30 for run in spec.runs)


def compute_verdicts(out, studies):
    """Every claim's :class:`ei_brian.report.Verdict` from the tables under ``out``."""
    tables = study_tables(out, studies)
    return report.verdicts({key: tables.get(key) for key in
                            ("ratio", "ratio_full", "initial_rate", "update_noise",
                             "spike_timing", "vanrossum")}, full_scale=full_scale(studies))


FIGURE_OF_CLAIM = {"H1": "fig1_ratio", "H2": "fig2_initial_rate", "H3": "fig2_initial_rate",
                   "H4": "fig3_update_noise", "H5": "fig4_van_rossum"}
#: what a study adds to the report besides the claims
STUDY_TITLES = {"recipe": "the training recipe", "ratio": "H1", "ratio_full": "H1",
                "initial_rate": "H2 and H3",
                "update_noise": "H4", "spike_timing": "spike timing"}
PERCENT_COLUMNS = ("accuracy", "sd", "difference", "retention", "share", "gap", "swing", "gain",
                   "low", "high", "ci")


def _caption(out, name):
    try:
        with open(os.path.join(out, "figures", f"{name}.caption.md")) as f:
            return f.read().strip()
    except OSError:
        return ""


def _figure_lines(out, name, figures, number):
    if figures.get(name, ("",))[0] != "written":
        return []
    caption = _caption(out, name)
    if not caption.startswith("**Figure"):
        caption = f"**Figure {number}.** {caption}".rstrip()
    return [f"![{name}](figures/{name}.png)", "", caption, ""]


def _single_runs_note(verdict):
    """The verdicts' summary: a sentence when single runs, each left out alone, change the
    verdict (the section's line *one run left out* names them)."""
    single = getattr(verdict, "single_runs", 0)
    if not single:
        return ""
    return (f" Left out alone, {'one run' if single == 1 else f'each of {single} runs'} would "
            "change this verdict (see its line *one run left out*).")


def _slopes_in_points(frame):
    """A verdict's table as shown: slopes of accuracy per decade (fractions in the rules) in
    points per decade, as the text gives them."""
    columns = [c for c in getattr(frame, "columns", []) if str(c).startswith("slope")]
    if not columns:
        return frame
    shown = frame.copy()
    for column in columns:
        shown[column] = (100 * shown[column].astype(float)).round(2)
    return shown.rename(columns={"slope (per decade)": "slope (points per decade)",
                                 "slope 95 % low": "slope 95 % low (points)",
                                 "slope 95 % high": "slope 95 % high (points)"})


def _percent_columns(frame):
    return {column for column in getattr(frame, "columns", [])
            if any(word in str(column).lower() for word in PERCENT_COLUMNS)
            and "rate" not in str(column).lower() and "hz" not in str(column).lower()
            and "eta" not in str(column).lower() and "slope" not in str(column).lower()}


def training_length(runs, epochs):
    """Whether the runs of a study levelled off: of the trained runs with validation, the share
    whose validation-chosen epoch lies before the last, and the mean gain of validation accuracy
    over the last quarter of the epochs (points). ``None`` without validation data."""
    if runs is None or epochs is None or "val_epoch" not in runs or "val_acc" not in epochs:
        return None
    trained = runs[(runs["status"] == "finished") & (runs["outcome"] == "trained")
                   & runs["val_epoch"].notna()]
    if trained.empty:
        return None
    before = int((trained["val_epoch"] < trained["epochs_done"]).sum())
    gains = []
    for row in trained.itertuples():
        curve = epochs[(epochs["label"] == row.label) & (epochs["seed"] == row.seed)
                       & (epochs["epoch"] >= 1)].sort_values("epoch")["val_acc"].to_numpy(float)
        if len(curve) >= 4:
            quarter = max(1, len(curve) // 4)
            gains.append(curve[-1] - curve[-1 - quarter])
    return {"n": len(trained), "before_last": before,
            "gain": float(np.mean(gains)) if gains else float("nan")}


#: training has levelled off when the mean validation accuracy changes by at most this over the
#: last quarter of the epochs (or 80 % of trained runs choose an epoch before the last)
LEVEL_FLAT = 0.005


def _training_length_line(name, runs, epochs):
    levelled = training_length(runs, epochs)
    if levelled is None:
        return []
    share = levelled["before_last"] / levelled["n"]
    flat = levelled["gain"] == levelled["gain"] and abs(levelled["gain"]) <= LEVEL_FLAT
    verdict = ("levelled off" if share >= 0.8 or flat else "still rising at the last epoch: the "
               "budget is short of where training levels off")
    change = (f"validation accuracy changed by {100 * levelled['gain']:+.2f} points over the last "
              "quarter of the epochs" if levelled["gain"] == levelled["gain"] else
              "too few epochs to measure the last quarter's change")
    return [f"- {name}: {levelled['before_last']} of {levelled['n']} trained runs chose an epoch "
            f"before the last ({100 * share:.0f} %); {change}: {verdict}."]


def recipe_choice(runs, epochs):
    """The recipe by the rule of ``studies/recipe.toml``: the (learning rate, schedule) cell with
    the highest mean best validation accuracy; among the cells within one pooled seed sd of it,
    the one whose validation accuracy swings least over the last quarter of the epochs.

    Returns
    -------
    table : pandas.DataFrame
        One row a cell: its runs' outcomes, mean best validation accuracy (sd), validation-chosen
        and peak test accuracy, and the swings (max - min over the last quarter of the epochs)
        of the validation and the test accuracy.
    chosen : dict or None
        ``learning_rate`` and ``lr_schedule`` of the recipe.
    """
    import pandas as pd  # pandas (0.3 s) only when a table is read or built

    finished = runs[runs["status"] == "finished"]
    rows, squares, dof = [], 0.0, 0
    for (rate, schedule), part in finished.groupby(["learning_rate", "lr_schedule"], sort=True):
        swings = {"val_acc": [], "test_acc": []}
        for row in part.itertuples():
            curve = epochs[(epochs["label"] == row.label) & (epochs["seed"] == row.seed)
                           & (epochs["epoch"] >= 1)].sort_values("epoch")
            quarter = max(2, len(curve) // 4)
            for column in swings:
                late = curve[column].to_numpy(float)[-quarter:]
                if len(late):
                    swings[column].append(float(np.nanmax(late) - np.nanmin(late)))
        values = part["val_acc"].to_numpy(float)
        mean, sd, n = mean_sd(values)
        if n > 1:
            squares += float(((values - values.mean()) ** 2).sum())
            dof += n - 1
        rows.append({"learning rate": rate, "schedule": schedule, "runs": len(part),
                     "trained": int((part["outcome"] == "trained").sum()),
                     "best validation accuracy": mean, "sd": sd,
                     "validation-chosen test accuracy": part["val_test_acc"].mean(),
                     "peak test accuracy": part["peak_test_acc"].mean(),
                     "late validation swing": float(np.mean(swings["val_acc"]))
                     if swings["val_acc"] else float("nan"),
                     "late test swing": float(np.mean(swings["test_acc"]))
                     if swings["test_acc"] else float("nan")})
    table = pd.DataFrame(rows)
    if table.empty:
        return table, None
    pooled = (squares / dof) ** 0.5 if dof else 0.0
    best = table["best validation accuracy"].max()
    near = table[table["best validation accuracy"] >= best - pooled]
    pick = near.sort_values(["late validation swing", "best validation accuracy"],
                            ascending=[True, False]).iloc[0]
    return table, {"learning_rate": float(pick["learning rate"]),
                   "lr_schedule": str(pick["schedule"]), "pooled_sd": pooled}


def _recipe_section(out, tables, studies):
    runs, epochs = tables.get("recipe"), tables.get("recipe/epochs")
    lines = ["## The training recipe", ""]
    if runs is None or not (runs["status"] == "finished").any():
        return lines + ["No finished runs yet.", ""]
    table, chosen = recipe_choice(runs, epochs)
    settings = [(run.train_config.learning_rate, run.train_config.lr_schedule)
                for name, spec in studies if name != "recipe" for run in spec.runs]
    recipe = max(set(settings), key=settings.count) if settings else None
    lines += ["80:20 at 5 Hz, three learning rates, constant or cosine (`studies/recipe.toml`). "
              "Rule: the highest mean best validation accuracy; among the cells within one "
              "pooled seed sd of it, the least late swing of validation accuracy. Swings are "
              "max - min over the last quarter of the epochs, mean over seeds.", ""]
    lines += [_markdown_table(table, percent=_percent_columns(table))]
    if chosen:
        lines += [f"By the rule, at this scale: learning rate {chosen['learning_rate']:g}, "
                  f"{chosen['lr_schedule']} schedule (pooled seed sd "
                  f"{100 * chosen['pooled_sd']:.1f} points)."
                  + (f" The other studies train with the recipe that the rule chose at the "
                     f"standard scale, before their runs: learning rate {recipe[0]:g}, "
                     f"{recipe[1]} schedule (the tuning grids of the ratio study aside)."
                     if recipe else ""), ""]
    return lines


#: the record of ``benchmarks/same_results.py --record`` in a reproduction's folder
SAME_RESULTS_FILE = "same_results.csv"


#: the name in :func:`training_code_check`'s results for runs that did not record their commit
UNRECORDED = "not recorded"


def training_code_check(invocations, records, run_commits=(), commit_time=None, code_tree=None):
    """Whether the commits that trained a reproduction's runs give the same results.

    ``invocations``: ``reproduce.json``'s list (commit and runs finished of each invocation);
    ``records``: rows of ``same_results.csv`` (``checked_at``, ``baseline``, ``arm``,
    ``result``: ``same``, ``different``, ``n/a`` or ``error``); ``run_commits``: the
    ``trained_at`` of each finished run (the commits of its sessions, separated by spaces; ``""``
    where the run did not record them); ``commit_time``: commit -> time or None, to order the
    commits (used when every training commit's time is known; else the invocations' order);
    ``code_tree``: commit -> the id of its ``ei_brian/`` tree or None (unknown, or code with
    uncommitted changes): two commits with the same training code give the same results without
    a check (a commit that changed only data, docs or tests).

    Runs count for each commit that trained them. Runs that did not record their commit are
    counted apart (:data:`UNRECORDED`, never shown to give the same results), unless no run
    recorded one: then the invocations' counts stand in (reports of older reproductions). Two
    commits give the same results when a record compares them with at least one arm ``same`` and
    none ``different`` or ``error`` (``n/a``: an option one of them did not have); the relation
    is followed through other commits (A = B and B = C cover A = C). Returns None without runs,
    else a dict: ``trained`` (commit -> runs, oldest first), ``newest`` (the newest commit that
    trained runs), ``latest`` (the latest commit shown to give its results, which may be a later
    one that checked them), ``covered`` (commit -> True when it is shown to give the newest
    commit's results), ``rows`` (one dict a training commit, for the table) and ``different``
    (pairs of commits that a record found different), ``differs`` (training commits found
    different from the newest commit's group).
    """
    by_invocation = {}
    for item in invocations:
        try:
            runs = int(item.get("runs_finished") or 0)
        except (TypeError, ValueError):
            runs = 0
        if runs:
            commit = str(item.get("git_commit", ""))
            by_invocation[commit] = by_invocation.get(commit, 0) + runs
    run_commits = [c if isinstance(c, str) else "" for c in run_commits]
    by_run, unrecorded = {}, 0
    for commits in run_commits:
        if not commits.split():
            unrecorded += 1
        for commit in dict.fromkeys(commits.split()):
            by_run[commit] = by_run.get(commit, 0) + 1
    if by_run:
        trained = dict(by_run)
    else:  # no run names its commit: the invocations' counts stand in
        trained, unrecorded = dict(by_invocation), 0
    if not trained:
        return None
    order = [c for c in by_invocation if c in trained] + [c for c in trained
                                                           if c not in by_invocation]
    times = {}
    if commit_time is not None:
        times = {commit: commit_time(commit) for commit in trained}
        if all(times.get(commit) is not None for commit in trained):
            order.sort(key=lambda commit: times[commit])
    trained = {commit: trained[commit] for commit in order}
    newest = order[-1]
    results = {}
    for record in records:
        pair = (str(record.get("checked_at", "")), str(record.get("baseline", "")))
        if all(pair) and pair[0] != pair[1]:
            results.setdefault(frozenset(pair), []).append(
                (str(record.get("arm", "")), str(record.get("result", ""))))
    parent = {}

    def find(node):
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    different = []
    for pair, found in results.items():
        outcomes = {result for _, result in found}
        if "different" in outcomes:
            different.append(tuple(sorted(pair)))
        if "same" in outcomes and not outcomes & {"different", "error"}:
            a, b = tuple(pair)
            parent[find(a)] = find(b)
    twins = {}  # commit -> the other commits with its ei_brian/ tree
    if code_tree is not None:
        by_tree = {}
        for commit in dict.fromkeys([*trained, *(node for pair in results for node in pair)]):
            tree = code_tree(commit)  # one git call a commit
            if tree:
                by_tree.setdefault(tree, []).append(commit)
        for same in by_tree.values():
            for other in same[1:]:
                # a recorded difference wins over the inference (the environment, or code
                # outside ei_brian/, changed what a run gives)
                found = {result for _, result in results.get(frozenset((other, same[0])), [])}
                if not found & {"different", "error"}:
                    parent[find(other)] = find(same[0])
            for commit in same:
                twins[commit] = [other for other in same if other != commit]
    group = find(newest)
    covered = {commit: find(commit) == group for commit in trained}
    latest = newest
    if commit_time is not None and times.get(newest) is not None:
        later = []
        for node in parent:
            if node != newest and find(node) == group:
                when = times[node] if node in times else commit_time(node)
                if when is not None and when > times[newest]:
                    later.append((when, node))
        if later:
            latest = max(later)[1]
    rank = ("different", "error", "same", "n/a")
    rows, differs = [], set()
    for commit, runs in trained.items():
        mine = [(other, found) for pair, found in results.items() if commit in pair
                for other in pair if other != commit]
        arms = {}
        for _, found in mine:
            for arm, result in found:  # an arm counts once, at its worst comparison
                result = result if result in rank else "n/a"
                if arm not in arms or rank.index(result) < rank.index(arms[arm]):
                    arms[arm] = result
        against = sorted(other for pair in different if commit in pair for other in pair
                         if other != commit and find(other) == group)
        if commit == newest:
            status = "the newest"
        elif covered[commit] and not mine and twins.get(commit):
            status = ("same results: the same `ei_brian/` as "
                      + ", ".join(_short(other) for other in twins[commit]))
        elif covered[commit]:
            status = "same results"
        elif against:
            status = "different from " + ", ".join(_short(other) for other in against)
            differs.add(commit)
        else:
            status = "not checked"
        rows.append({"commit": _short(commit), "runs trained": runs,
                     "compared with": ", ".join(sorted(_short(other) for other, _ in mine))
                     or "-",
                     "arms the same": ", ".join(a for a, r in arms.items() if r == "same") or "-",
                     "arms different": ", ".join(a for a, r in arms.items()
                                                 if r in ("different", "error")) or "-",
                     "gives the newest commit's results": status})
    if unrecorded:
        trained[UNRECORDED] = unrecorded
        covered[UNRECORDED] = False
        rows.append({"commit": UNRECORDED, "runs trained": unrecorded, "compared with": "-",
                     "arms the same": "-", "arms different": "-",
                     "gives the newest commit's results": "unknown: these runs did not record "
                                                          "the commit that trained them"})
    return {"trained": trained, "newest": newest, "covered": covered, "rows": rows,
            "different": different, "latest": latest, "differs": differs}


def _short(commit):
    return commit[:7] + ("+uncommitted" if commit.endswith("+uncommitted") else "")


def _code_tree(commit):
    """The id of ``ei_brian/``'s tree at ``commit``, or None (unknown, or uncommitted changes)."""
    if commit.endswith("+uncommitted") or commit == UNRECORDED:
        return None
    found = _git("rev-parse", "--verify", "--quiet", f"{commit}:ei_brian")
    return found if len(found) == 40 else None


def _commit_time(commit):
    found = _git("log", "-1", "--format=%ct", commit.split("+")[0])
    return int(found) if found.isdigit() else None


def _run_commits(tables):
    """The ``trained_at`` of every finished run in the studies' tables (``""`` where missing)."""
    commits = []
    for name, table in tables.items():
        if "/" in name or table is None or "status" not in table:
            continue
        finished = table[table["status"] == "finished"]
        column = finished["trained_at"] if "trained_at" in finished else [""] * len(finished)
        commits += [c if isinstance(c, str) else "" for c in column]
    return commits


def _run_machines(tables):
    """``"<machine> (n runs); ..."``: the machines that trained the finished runs (the
    ``trained_on`` column, :func:`ei_brian.io.machine_description`), most runs first; a run
    resumed on another machine counts under each."""
    counts = collections.Counter()
    for name, table in tables.items():
        if "/" in name or table is None or "status" not in table:
            continue
        finished = table[table["status"] == "finished"]
        column = finished["trained_on"] if "trained_on" in finished else [""] * len(finished)
        for value in column:
            machines = [m for m in value.split("; ") if m] if isinstance(value, str) else []
            for machine in machines or ["not recorded (trained before runs recorded it)"]:
                counts[machine] += 1
    if not counts:
        return "no finished run yet"
    return "; ".join(f"{machine} ({n} run{'s' if n != 1 else ''})"
                     for machine, n in counts.most_common())


def _read_records(out):
    import csv
    try:
        with open(os.path.join(out, SAME_RESULTS_FILE), newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))
    except (OSError, csv.Error, UnicodeDecodeError):
        return []


def _training_code_summary(check):
    """One sentence for the report's header and its section."""
    if check is None:
        return "no finished run yet"
    trained, newest = check["trained"], check["newest"]
    commits = [commit for commit in trained if commit != UNRECORDED]
    missing = [commit for commit, ok in check["covered"].items() if not ok]
    latest = check.get("latest", newest)
    also = (f", and what `{_short(latest)}`, a later commit checked against them, trains"
            if latest != newest else "")
    if len(commits) == 1 and not missing:
        return f"all runs were trained at one commit, `{_short(newest)}`{also}"
    if not missing:
        return (f"the {len(commits)} commits that trained runs give the same results bit for bit "
                "on every study arm that both sides of a check could run "
                "(`benchmarks/same_results.py`; a commit with the same `ei_brian/` as a checked "
                f"one counts as checked): the runs are what `{_short(newest)}`, the newest "
                f"of them, trains{also}")
    runs = sum(trained[commit] for commit in missing)
    named = [commit for commit in missing if commit != UNRECORDED]
    where = ", ".join(f"`{_short(c)}`" for c in named)
    if UNRECORDED in missing:
        where = (where + " and " if where else "") + "commits they did not record"
    text = (f"{runs} run{'s' if runs != 1 else ''}, trained at {where}, "
            f"{'are' if runs != 1 else 'is'} not shown to be what `{_short(newest)}`, the newest "
            "commit that trained runs, gives")
    differs = sorted(check.get("differs", ()))
    if differs:
        text += (f"; {', '.join(f'`{_short(c)}`' for c in differs)} gave different results in "
                 "a check: those runs must be trained again, or the difference explained")
    return text


def _training_code_lines(out, check):
    if check is None:
        return []
    commits = [commit for commit in check["trained"] if commit != UNRECORDED]
    if len(commits) < 2 and UNRECORDED not in check["trained"]:
        return []
    import pandas as pd
    return ["## The code that trained the runs", "",
            f"The runs were trained in pieces, at {len(commits)} commits. "
            "`benchmarks/same_results.py` trains each study arm's settings (the default "
            "network, the target-rate start, the noise, the unbounded baseline, time-constant "
            "spread, a sparse network, the SHD-like data, the adaptive neurons) for two short "
            "epochs at two commits and compares every metric, weight and probe spike bit for "
            f"bit; `{out}/{SAME_RESULTS_FILE}` records each comparison (an arm is n/a where a "
            "commit did not have its option yet). A commit whose `ei_brian/` is the same as "
            "another's counts as giving that commit's results (a run is what `ei_brian/` "
            "computes from the command in its row, in the same environment), unless a check "
            "recorded a difference between them. A run "
            "resumed from its checkpoint at a later commit counts under each commit that "
            "trained it.", "",
            _markdown_table(pd.DataFrame(check["rows"])), ""]


def write_report(out, studies, context, figures=None, failures=()):
    """Write ``OUT/REPORT.md`` (and ``OUT/tables/claims.csv``); return its path."""
    import pandas as pd  # pandas (0.3 s) only when a table is read or built
    tables = study_tables(out, studies)
    verdicts = compute_verdicts(out, studies)
    figures = figures or {}
    scale = context["scale"]
    lines = [f"# Reproduction report ({scale} scale)", ""]
    lines += ["Kilgore, Kopsick, Ascoli & Adam, *Biologically-informed excitatory and inhibitory "
              "ratio for robust spiking neural network training*, Scientific Reports 15:24798 "
              "(2025), reproduced with ei_brian: Dale's-law E/I networks as Brian2 equations, "
              "compiled to C++, trained with surrogate gradients (the model and its defaults: "
              "`docs/model.md`; the study's design: `studies/*.toml`).", ""]
    if scale in ("smoke", "quick"):
        lines += [f"**A preview, not a test of the claims.** The {scale} scale runs the decisive "
                  "design with fewer seeds, samples and epochs; its intervals are too wide and "
                  "its test sets too small to decide the claims. `ei-brian reproduce --standard` "
                  "is the scale that decides them.", ""]
    wall = context.get("wall_seconds_total")
    code_check = training_code_check(context.get("invocation_list", []), _read_records(out),
                                     _run_commits(tables), _commit_time, _code_tree)
    trained_by = [_short(commit) for commit in code_check["trained"]] if code_check else []
    lines += ["| | |", "|---|---|",
              f"| scale | {scale} |",
              f"| command | `{context['command']}` |",
              f"| ei_brian version | {context['ei_brian_version']} |",
              f"| report written at commit | `{context['git_commit']}`"
              + (" (with uncommitted changes)" if context.get("uncommitted_changes") else "")
              + " |",
              "| runs trained at commit(s) | "
              + (", ".join(f"`{commit}`" for commit in trained_by) or "none recorded") + " |",
              f"| the code that trained the runs | {_training_code_summary(code_check)} |",
              f"| runs trained on | {_run_machines(tables)} (the last bits of a run can "
              "depend on the processor and its BLAS kernel) |",
              f"| rules ({', '.join(RULE_FILES)}) last changed at | "
              f"`{context.get('rules_commit', 'unknown')}`{_rules_changes(context)} |",
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
               "runs trained: not recorded") + (" (interrupted)" if item.get("interrupted") else "")
            for k, item in enumerate(invocations)) + " |")
    finished = context.get("n_runs_finished", 0)
    counted = sum(int(item.get("runs_finished") or 0) for item in invocations)
    unlisted = (f"; the recorded invocations count {counted} of them: the others were trained by "
                "invocations this record does not list (pieces stopped before they could record "
                "themselves, or runs kept from an earlier reproduction's tables), whose time the "
                "wall-time row leaves out" if invocations and counted < finished else "")
    lines += [f"| runs | {finished} finished of "
              f"{context.get('n_runs', 0)}; training time summed over runs "
              f"{_duration(context.get('run_seconds_total'))} "
              f"({(context.get('run_seconds_total') or 0) / 3600:.1f} core-hours){unlisted} |",
              f"| date | {context.get('date', '')} |", ""]
    lines += ["## Verdicts", "", "| claim | verdict | in short |", "|---|---|---|"]
    for verdict in verdicts:
        lines.append(f"| {verdict.claim}: {verdict.statement} | **{verdict.verdict}** | "
                     f"{_sentence(verdict.reason)}{_single_runs_note(verdict)} |")
    lines.append("")
    lines += ["How runs are counted (`ei_brian/outcome.py`; the header lists its changes since "
              "the runs began): a run is "
              "*saturated* if its E rate is above half of one spike per time step (500 Hz at the "
              "images' 1 ms, 250 Hz at the spike data's 2 ms) at two evaluations in a row (it is "
              "stopped there), *silent* if its initial or final E rate is below 0.1 Hz or its "
              "test accuracy never beats chance by 5 points, *trained* otherwise. Means, slopes "
              "and correlations use trained runs; each verdict's sensitivity line says what it "
              "would be with the others in, and its line *one run left out* whether any single "
              "run the rule reads decides it. Accuracy is the test accuracy at the epoch chosen "
              "on validation data held out of the training set; the paper's measure, the peak "
              "test accuracy over epochs, is shown beside.", ""]
    length = []
    for name, _ in studies:
        length += _training_length_line(name, tables.get(name), tables.get(f"{name}/epochs"))
    if length:
        lines += ["Did training level off (at least 80 % of trained runs choose an epoch before "
                  f"the last, or the mean validation accuracy changes by at most "
                  f"{100 * LEVEL_FLAT:.1f} points over the last quarter of the epochs)?", ""]
        lines += length + [""]
    if failures:
        lines += ["Runs that failed (their claims rest on the runs that finished):", ""]
        lines += [f"- `{folder}`: {error} (log: `{log}`)" for folder, error, log in failures]
        lines.append("")
    lines += _recipe_section(out, tables, studies)
    number = 0
    shown = set()
    for verdict in verdicts:
        lines += [f"## {verdict.claim}: {verdict.statement}", "",
                  f"**Verdict: {verdict.verdict}.** {_sentence(verdict.reason)}", ""]
        if getattr(verdict, "sensitivity", ""):
            lines += [f"Sensitivity: {verdict.sensitivity}", ""]
        if getattr(verdict, "influence", ""):
            lines += [f"One run left out: {verdict.influence}", ""]
        if getattr(verdict, "reading", ""):
            lines += [verdict.reading, ""]
        figure = FIGURE_OF_CLAIM.get(verdict.claim)
        if figure and figure not in shown and figures.get(figure, ("",))[0] == "written":
            number += 1
            shown.add(figure)
            lines += _figure_lines(out, figure, figures, number)
        if verdict.rule:
            lines += [f"Rule: {verdict.rule}", ""]
        if verdict.test:
            lines += [f"Test: {verdict.test.rstrip('.')}.", ""]
        if verdict.table is not None:
            table = _slopes_in_points(verdict.table)
            lines += [_markdown_table(table, percent=_percent_columns(table))]
        counts = getattr(verdict, "counts", None)
        if counts is not None and len(counts):
            lines += ["Runs by outcome:", "", _markdown_table(counts)]
        if verdict.claim == "H1":
            lines += _h1_subset_lines(tables)
    spike_lines, number = _spike_timing_section(out, studies, figures, number)
    lines += spike_lines
    for name in FIGURES:
        if name not in shown and name != "fig5_spike_timing" and \
                figures.get(name, ("",))[0] == "written":
            number += 1
            lines += ["## " + {"fig6_activity": "Activity of the trained networks"}.get(
                name, name), ""]
            lines += _figure_lines(out, name, figures, number)
    lines += _training_code_lines(out, code_check)
    lines += ["## Figures", ""]
    for name in FIGURES:
        status, message = figures.get(name, ("not made", ""))
        lines.append(f"- `{name}`: {status}" + (f" ({message})" if status != "written" and message
                                                else ""))
    lines += ["", "## How to regenerate", "",
              f"- Everything: `{context['command']}` (finished runs are skipped; with `--hours H` "
              "it starts no run expected to end after H hours, and a later call trains the "
              "rest, also from a fresh clone that holds only these tables).",
              "- One run: the `command` column of its row in `runs.csv`, with `--out DIR`.",
              f"- The figures only, from the tables: `python figures/<figure>.py --data {out}`.",
              f"- The tables: `{out}/<study>/runs.csv` and `epochs.csv` (one row a run, one a "
              f"run's epoch), `{out}/tables/*.csv`; run folders (weights, spike trains, logs) "
              f"are under `{out}/<study>/<label>/seed-<n>/` where the runs were trained (not "
              "committed).", ""]
    path = os.path.join(out, "REPORT.md")
    atomic_write_text(path, "\n".join(lines))
    claims = pd.DataFrame([{"claim": v.claim, "statement": v.statement, "verdict": v.verdict,
                            "reason": v.reason, "sensitivity": getattr(v, "sensitivity", ""),
                            "one run left out": getattr(v, "influence", ""),
                            "test": v.test} for v in verdicts])
    os.makedirs(os.path.join(out, "tables"), exist_ok=True)
    atomic_write_text(os.path.join(out, "tables", "claims.csv"), claims.to_csv(index=False))
    return path


def _h1_subset_lines(tables):
    """Beside a verdict from the paper's scale: the ratio study's comparison at 10,000 samples
    (every ratio, the tuning grids) and whether 80:20 and the baseline ran at the paper's scale at
    the cells their tuning chose."""
    ratio, full = tables.get("ratio"), tables.get("ratio_full")
    if full is None or not len(full) or ratio is None or not len(ratio):
        return []
    if "status" in full and not (full["status"] == "finished").any():
        return []  # the paper's scale has no finished run: the verdict rests on the ratio study
    lines = ["At 10,000 training samples (the ratio study: every ratio, the tuning grids; the "
             "verdict above rests on the paper's scale):", ""]
    table = compare_to_baseline(ratio)
    lines += [_markdown_table(table, percent=_percent_columns(table))]
    for network, chosen in tuned_settings(ratio).items():
        if chosen["cells"] <= 1:
            continue
        used = full[full["network"] == network][["learning_rate", "target_rate"]] \
            .drop_duplicates()
        if len(used) != 1:
            continue
        same = _same_cell(float(used["learning_rate"].iloc[0]),
                          float(used["target_rate"].iloc[0]), chosen)
        name = "baseline" if network == "unbounded" else network
        lines += [(f"The full-scale {name} ran at the cell its tuning chose" if same else
                   f"**The full-scale {name} did not run at the cell its tuning chose**")
                  + f" (tuned: learning rate {chosen['learning_rate']:g}, "
                  f"{chosen['target_rate']:g} Hz; run: learning rate "
                  f"{float(used['learning_rate'].iloc[0]):g}, "
                  f"{float(used['target_rate'].iloc[0]):g} Hz).", ""]
    return lines


def _sentence(text):
    return text[:1].upper() + text[1:] if text else text


def _accuracy_column(runs):
    if "val_test_acc" in runs and runs["val_test_acc"].notna().any():
        return "val_test_acc", "validation-chosen test accuracy"
    return "peak_test_acc", "peak test accuracy"


def _spike_timing_section(out, studies, figures, number):
    runs = _read_csv(os.path.join(out, "spike_timing", "runs.csv"))
    spec = dict(studies).get("spike_timing")
    lines = ["## Spike timing: the ratio comparison on spike-timing data", ""]
    if runs is None or spec is None or not (runs["status"] == "finished").any():
        return lines + ["No finished runs yet.", ""], number
    dataset = spec.runs[0].train_config.dataset
    what = ("the Spiking Heidelberg Digits (SHD files found)" if dataset == "shd" else
            "the SHD-like stand-in (`--dataset shd-like`: SHD's shape, 700 channels, 20 words, "
            "0.5-1 s samples, generated; the SHD files were not found, see `ei-brian data where "
            "shd`)")
    lines += [f"Data: {what}. Not one of the paper's five claims: the ratio comparison of H1, "
              "every network started at the same initial rate, on data where spike timing "
              "carries the class (20 classes, chance 5 %).", ""]
    if figures.get("fig5_spike_timing", ("",))[0] == "written":
        number += 1
        lines += _figure_lines(out, "fig5_spike_timing", figures, number)
    column, words = _accuracy_column(runs)
    models = report.neuron_models_column(runs)
    names = ["lif"] + sorted(set(models) - {"lif"})
    lines += [f"| network | {words} (mean +/- sd, n trained) | peak test accuracy | silent | "
              "saturated | initial E rate (Hz) | final E rate (Hz) | final I rate (Hz) |",
              "|---|---|---|---|---|---|---|---|"]
    for name in names:
        finished = runs[(runs["status"] == "finished") & (models == name)]
        for network, part in finished.groupby("network", sort=False):
            trained = part[part["outcome"] == "trained"] if "outcome" in part else part
            mean, sd, n = mean_sd(trained[column])
            peak, _, _ = mean_sd(trained["peak_test_acc"])
            def count(kind):
                # called in this iteration only, so the late-bound loop variable is right
                return int((part["outcome"] == kind).sum()) if "outcome" in part else 0  # noqa: B023
            label = network if name == "lif" else f"{network} ({name})"
            lines.append(f"| {label} | " + (f"{100 * mean:.1f}" if n else "-")
                         + (f" +/- {100 * sd:.1f}" if n > 1 else "") + (" %" if n else "")
                         + f" (n = {n}) | "
                         + (f"{100 * peak:.1f} %" if n else "-") + f" | {count('silent')} | "
                         f"{count('saturated')} | {part['rate_exc_initial_hz'].mean():.3g} | "
                         f"{part['rate_exc_final_hz'].mean():.3g} | "
                         f"{part['rate_inh_final_hz'].mean():.3g} |")
    lines.append("")
    for name in names:
        own = runs[models == name]
        finished = own[own["status"] == "finished"]
        if not ((finished["network"] == "unbounded").any() and "outcome" in finished):
            continue
        table = compare_to_baseline(own)
        keep = [column for column in ("network", "n", "accuracy", "difference to baseline",
                                      "difference 90 % low", "difference 90 % high", "TOST p",
                                      "p worse by > margin") if column in table]
        lead = "" if name == "lif" else f"With {name} neurons, each network against the {name} " \
            "baseline: "
        lines += [f"{lead}{'by' if lead else 'By'} H1's rule (two one-sided Welch tests, margin +/- "
                  f"{100 * H1_MARGIN:g} points; difference = network - unbounded baseline, "
                  "trained runs, 90 % interval):", "", _markdown_table(table[keep], percent={
                      "accuracy", "difference to baseline", "difference 90 % low",
                      "difference 90 % high"})]
    lines += ["Why the gap can be large: a Dale's-law network's readout listens to its E neurons "
              "only (128 of 160 at 80:20), the unbounded network's to all 160, with weights of "
              "either sign; and on this task the E neurons of the Dale's-law networks may end "
              "training at rates far from the baseline's (the final rates above).", ""]
    for name in names[1:]:
        lines += _model_arm_lines(runs, name)
    return lines, number


def _model_arm_lines(runs, name):
    """The paragraph on the arm of another neuron model (e.g. alif) beside the LIF runs."""
    table = report.compare_models(runs, name)
    lines = [f"### Adaptive neurons ({name}) beside LIF" if name == "alif" else
             f"### {name} neurons beside LIF", ""]
    if table.empty:
        return lines + ["No network has finished runs of both models yet.", ""]
    lines += [f"The same networks, recipe, seeds and calibrated start with `--neuron-model {name}`"
              + (" (each spike raises the threshold by 0.2; the raise decays with 200 ms)"
                 if name == "alif" else "")
              + f"; difference = {name} - lif over trained runs, Welch 95 % interval:", ""]
    columns = ["network", "lif n", f"{name} n", "lif accuracy", f"{name} accuracy",
               "difference", "95 % low", "95 % high", "Welch p", "lif silent", f"{name} silent",
               "lif saturated", f"{name} saturated", "lif final E rate (Hz)",
               f"{name} final E rate (Hz)"]
    lines += [_markdown_table(table[columns], percent={
        "lif accuracy", f"{name} accuracy", "difference", "95 % low", "95 % high"}), ""]
    readings = []
    for row in table.itertuples(index=False):
        values = dict(zip(table.columns, row))
        network = values["network"]
        if min(values["lif n"], values[f"{name} n"]) < 2:
            readings.append(f"{network}: too few trained runs to compare ({values['lif n']} lif, "
                            f"{values[f'{name} n']} {name})")
        elif values["95 % low"] > 0:
            readings.append(f"{network}: {name} better by {100 * values['difference']:.1f} points "
                            f"(95 % interval {100 * values['95 % low']:.1f} to "
                            f"{100 * values['95 % high']:.1f})")
        elif values["95 % high"] < 0:
            readings.append(f"{network}: {name} worse by {-100 * values['difference']:.1f} points "
                            f"(95 % interval {100 * values['95 % low']:.1f} to "
                            f"{100 * values['95 % high']:.1f})")
        else:
            readings.append(f"{network}: no difference shown ({100 * values['difference']:+.1f} "
                            f"points, 95 % interval {100 * values['95 % low']:.1f} to "
                            f"{100 * values['95 % high']:.1f})")
        for kind in ("silent", "saturated"):
            counts = (values[f"lif {kind}"], values[f"{name} {kind}"])
            if counts[0] != counts[1]:
                readings[-1] += f"; {kind} runs: {counts[0]} lif, {counts[1]} {name}"
    lines += ["Reading: " + "; ".join(readings) + ". Silent and saturated runs are counted "
              "apart and left out of the means; the seeds are the same for both models.", ""]
    return lines


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
              progress=True, studies_dir=None, data_dir=None, command=None, hours=None):
    """Run the whole reproduction at ``scale`` (see the module docstring).

    With ``hours``, no run is started that is expected to finish after that many hours (from
    the throughput measured on the runs so far); the tables, figures and report are written
    from what has finished, and a later call trains the rest.

    Returns
    -------
    str or None
        The report's path (None for a dry run).
    """
    # Brian2 through the sweep package (0.9 s) only when runs are collected or trained
    from ei_brian.sweep import SweepFailed, run_sweeps
    if scale not in SCALES:
        raise ValueError(f"scale {scale!r} is unknown; use one of {', '.join(SCALES)}")
    if hours is not None and not hours > 0:
        raise ValueError(f"--hours must be above 0, not {hours:g}")
    out = out or default_out(scale)
    command = command or f"ei-brian reproduce --{scale}" + (f" --out {out}" if out !=
                                                            default_out(scale) else "")
    # the command that regenerates everything: without --hours, which only splits the work
    command = " ".join(word for k, word in enumerate(command.split())
                       if word != "--hours" and not (k and command.split()[k - 1] == "--hours"))
    studies = load_studies(scale, studies_dir, data_dir)
    sweeps = [(spec, os.path.join(out, name)) for name, spec in studies]
    if dry_run:
        run_sweeps(sweeps, dry_run=True)
        return None
    started = time.time()
    commit = _git("rev-parse", "HEAD")  # the code that trains this invocation's runs
    os.makedirs(out, exist_ok=True)
    print(f"reproducing at the {scale} scale into {out}: {sum(len(s.runs) for s, _ in sweeps)} "
          f"runs in {len(sweeps)} studies")
    failures = []
    finished_before = _count_finished(sweeps)
    waiting = full_scale_waits(sweeps)
    if waiting:
        print(waiting)
        sweeps_now = [(spec, sweep_dir) for spec, sweep_dir in sweeps if spec.name != "ratio_full"]
        # its table (every run still to train) is written all the same: the report says that H1
        # waits for it
        from ei_brian.sweep import write_tables as write_sweep_tables
        for spec, sweep_dir in sweeps:
            if spec.name == "ratio_full":
                os.makedirs(sweep_dir, exist_ok=True)
                write_sweep_tables(spec, sweep_dir)
    else:
        sweeps_now = sweeps
    try:
        with _terminate_as_interrupt():
            run_sweeps(sweeps_now, workers=workers, scheduler=scheduler, client=client,
                       progress=progress, data_dir=data_dir, analyze=True, hours=hours)
    except SweepFailed as error:
        failures = error.failures
        print(f"{len(failures)} run(s) failed; the report rests on the others:\n{error}",
              file=sys.stderr)
    except KeyboardInterrupt:
        # a piece stopped by hand (Ctrl-C) or killed (SIGTERM): each finished run is already
        # recorded in its folder and its study's tables; the invocation's time is recorded too,
        # and a second Ctrl-C or SIGTERM while it is written does not lose it
        ended = time.time()
        with _signals_held():
            _record_invocation(out, scale, command, started, ended,
                               runs_finished=_count_finished(sweeps) - finished_before,
                               commit=commit, interrupted=True)
        print(f"interrupted: its finished runs and its time are recorded in {out}; run the same "
              "command again to train the rest and write the report", file=sys.stderr)
        raise
    print("writing the tables")
    write_tables(out, studies)
    print("drawing the figures")
    figures = run_figures(out)
    for name, (status, message) in figures.items():
        print(f"  {name}: {status}" + (f" ({message})" if status != "written" else ""))
    # Brian2 through the sweep package (0.9 s) only when runs are collected or trained
    from ei_brian.sweep import collect
    rows = [row for spec, sweep_dir in sweeps for row in collect(spec, sweep_dir)[0]]
    finished = sum(row["status"] == "finished" for row in rows)
    history = _record_invocation(out, scale, command, started, time.time(),
                                 runs_finished=finished - finished_before, commit=commit)
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


def full_scale_waits(sweeps):
    """Why ``ratio_full`` cannot run yet, or ``""``. The networks that have a tuning grid in the
    ratio study (80:20 and the unbounded baseline) train at the paper's scale at the cell their
    tuning chooses, so ``ratio_full`` waits until every run of the ratio study has finished, and
    a cell in ``studies/ratio_full.toml`` other than the chosen one is refused."""
    specs = {spec.name: (spec, sweep_dir) for spec, sweep_dir in sweeps}
    if "ratio_full" not in specs or "ratio" not in specs:
        return ""
    # pandas (0.3 s) and Brian2 (0.9 s, also through the sweep package) only here
    import pandas as pd
    from brian2 import Hz

    from ei_brian.sweep import SweepError, collect
    ratio = pd.DataFrame(collect(*specs["ratio"])[0])
    if not (ratio["status"] == "finished").all():
        return ("the paper's-scale study (ratio_full) waits for the ratio study, whose tuning "
                "chooses the cells of 80:20 and of the baseline: it runs once every ratio run "
                "has finished")
    chosen = {network: setting for network, setting in tuned_settings(ratio).items()
              if setting["cells"] > 1}
    full, _ = specs["ratio_full"]
    wrong = {}
    for run in full.runs:
        network = "unbounded" if run.net_config.unbounded else run.net_config.ratio
        if network not in chosen:
            continue
        config = run.train_config
        used = (config.learning_rate, float(config.target_rate_exc / Hz))
        want = chosen[network]
        if not _same_cell(*used, want):
            wrong[network] = (f"{network} at learning rate {used[0]:g} and {used[1]:g} Hz, but "
                              f"the ratio study's tuning chose learning rate "
                              f"{want['learning_rate']:g} and {want['target_rate']:g} Hz")
    if wrong:
        raise SweepError(f"{full.source or 'ratio_full'} trains " + "; and ".join(wrong.values())
                         + ": set them there (lr and target_rate of the network's block) "
                         "before it runs")
    return ""


def _same_cell(learning_rate, target_rate, chosen):
    """Whether a run's learning rate and target rate (Hz) are the tuned cell ``chosen``
    (:func:`ei_brian.report.tuned_settings`)."""
    return (abs(learning_rate - chosen["learning_rate"]) < 1e-12
            and abs(target_rate - chosen["target_rate"]) < 1e-9)


def _count_finished(sweeps):
    # Brian2 through the sweep package (0.9 s) only when runs are collected or trained
    from ei_brian.sweep import collect
    return sum(row["status"] == "finished" for spec, sweep_dir in sweeps
               for row in collect(spec, sweep_dir)[0])


@contextlib.contextmanager
def _terminate_as_interrupt():
    """Within the block, SIGTERM (a batch system's or ``kill``'s stop) raises
    :class:`Terminated`, a KeyboardInterrupt, as Ctrl-C does, so that a killed piece records
    itself (main thread only, and only where SIGTERM has its default handling)."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL):  # ignored, or another's
        yield
        return

    def interrupt(signum, frame):
        # the first SIGTERM stops the piece; one more while it closes its workers and records
        # itself is ignored (a batch system's SIGKILL still ends it)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextlib.contextmanager
def _signals_held():
    """Within the block (a second or two: the record of a stopped piece), Ctrl-C and SIGTERM are
    ignored, so that a second stop does not cut the record short; the process exits right after
    (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    for signum in held:
        signal.signal(signum, signal.SIG_IGN)
    try:
        yield
    finally:
        for signum, handler in held.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)


class Terminated(KeyboardInterrupt):
    """SIGTERM within :func:`_terminate_as_interrupt`; the command line exits with 143 (128 +
    SIGTERM), as a process killed by it would."""
    exit_code = 128 + signal.SIGTERM


def _record_invocation(out, scale, command, started, ended, runs_finished=0, commit=None,
                       interrupted=False):
    """Append this invocation to ``OUT/reproduce.json`` (``interrupted``: it was stopped before
    it wrote the report); return the totals over invocations."""
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
                                  "ei_brian_version": __version__,
                                  "git_commit": commit or _git("rev-parse", "HEAD"),
                                  **({"interrupted": True} if interrupted else {})})
    atomic_write_json(path, record)
    return {"wall_seconds_total": sum(item["wall_seconds"] for item in record["invocations"]),
            "invocations": len(record["invocations"]),
            "invocation_list": record["invocations"]}
