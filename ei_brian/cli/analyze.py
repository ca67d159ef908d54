"""The ``ei-brian analyze`` command: analyse run folders and write their tables.

``ei-brian analyze RUN_DIR ...`` (:func:`add_analyze_arguments`, :func:`run_analyze_command`) writes
``analysis.csv`` and ``analysis_neurons.csv`` (:mod:`ei_brian.analysis.tables`) into each run
folder, optionally with figures, prints a summary of each run (its measures, and the warnings of
its training: :func:`ei_brian.analysis.tables.read_run_warnings`) and changes nothing else.
Run-folder arguments may be glob patterns (:func:`expand_run_arguments`).
"""
import argparse
import glob
import math
import os
import sys

import quantities as pq

from ei_brian.analysis.tables import analyze_run, format_summary, save_run_analysis
from ei_brian.cli import add_old_spelling
from ei_brian.io import RunFolderError, atomic_write_text

__all__ = ["expand_run_arguments", "add_analyze_arguments", "run_analyze_command"]


def expand_run_arguments(arguments):
    """Expand run-folder arguments (folders or glob patterns) into folders.

    Parameters
    ----------
    arguments : list of str
        Folders or patterns such as ``runs/*``; patterns keep only the folders they match.

    Returns
    -------
    run_dirs : list of str
        Folders, in order of the arguments (matches of a pattern sorted), without duplicates.
    problems : list of str
        A message for each argument that matched nothing.
    """
    run_dirs, problems, seen = [], [], set()
    for argument in arguments:
        if glob.has_magic(argument):
            matches = [path for path in sorted(glob.glob(argument)) if os.path.isdir(path)]
            if not matches:
                problems.append(f"pattern {argument!r} matches no folder")
        else:
            matches = [argument]
        for path in matches:
            key = os.path.realpath(path)
            if key not in seen:
                seen.add(key)
                run_dirs.append(path)
    return run_dirs, problems


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def add_analyze_arguments(parser):
    """Add the arguments of ``ei-brian analyze`` to an :class:`argparse.ArgumentParser`."""
    parser.add_argument("runs", nargs="+", metavar="RUN",
                        help="run folders written by 'ei-brian train', or glob patterns such as 'runs/*'")
    parser.add_argument("--time-constant-ms", type=_positive_float, default=10.0,
                        help="time constant of the Van Rossum distance in ms (default: %(default)s)")
    parser.add_argument("--plots", action="store_true",
                        help="also write figures into each run folder: raster of probe sample 0, "
                             "rate histograms and Van Rossum distance histograms (PNG)")
    parser.add_argument("--out", dest="output", metavar="CSV",
                        help="also write the tables of all runs into this one CSV file")
    add_old_spelling(parser, "--output", "--out", dest="output")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar and no summaries, only errors and warnings")
    return parser


def run_analyze_command(args):
    """Run ``ei-brian analyze``: analyse each run folder, write its tables, print a summary (with
    the run's training warnings).

    A folder that cannot be analysed is reported (naming the folder and the problem) and skipped.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments of :func:`add_analyze_arguments`.

    Returns
    -------
    int
        0 if every folder was analysed, 1 otherwise.
    """
    import pandas as pd  # pandas (0.3 s) and tqdm only when the analysis runs, not for --help
    from tqdm import tqdm

    run_dirs, problems = expand_run_arguments(args.runs)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    time_constant = args.time_constant_ms * pq.ms
    tables, failed = [], []
    quiet = getattr(args, "quiet", False)
    progress = tqdm(run_dirs, unit="run", desc="analyze", file=sys.stderr,
                    disable=quiet or len(run_dirs) < 2)
    for run_dir in progress:
        try:
            analysis = analyze_run(run_dir, time_constant=time_constant)
            written = save_run_analysis(analysis, plots=args.plots)
        except (RunFolderError, OSError) as error:
            failed.append(run_dir)
            tqdm.write(f"error: cannot analyse run folder {run_dir!r}: {error}", file=sys.stderr)
            continue
        if quiet:  # the warnings of the run's training still reach the terminal
            for warning in analysis.warnings:
                print(f"{run_dir}: warning: {warning['message']}", file=sys.stderr)
        else:
            tqdm.write(format_summary(analysis))
            tqdm.write("wrote " + ", ".join(os.path.basename(path) for path in written)
                       + f" in {run_dir}\n")
        table = analysis.table.copy()
        table.insert(1, "run_dir", os.path.normpath(run_dir))
        tables.append(table)
    if args.output:
        if tables:
            combined = pd.concat(tables, ignore_index=True, sort=False)
            atomic_write_text(args.output, combined.to_csv(index=False))
            if not quiet:
                print(f"wrote {len(tables)} run(s) to {args.output}")
        else:
            print(f"error: no run could be analysed; {args.output} not written", file=sys.stderr)
    n_problems = len(failed) + len(problems)
    if n_problems:
        print(f"error: {n_problems} of {len(run_dirs) + len(problems)} run argument(s) could not be "
              "analysed: " + ", ".join(failed + [p for p in problems]), file=sys.stderr)
        return 1
    return 0
