"""Running sweeps on Dask distributed: :func:`run_sweep` and :func:`run_sweeps` (which skip
finished runs, resume interrupted ones and retry runs whose worker died), the task each worker
runs, and :class:`SweepFailed` for runs that failed for good.
"""
import hashlib
import logging
import os
import sys
import time

import threadpoolctl
from tqdm import tqdm

from ei_brian.config import ConfigError
from ei_brian.data import DatasetError
from ei_brian.io import LOG_FILE, PROBE_SPIKES_FILES, RESULT_FILE, RunFolderError
from ei_brian.options import configs_from_args
from ei_brian.sweep.estimate import _describe_plan, _run_cost, fit_in_hours, sweeps_speed
from ei_brian.sweep.spec import SweepError, SweepSpec, _train_parser, load_spec
from ei_brian.sweep.state import _read_json, run_state
from ei_brian.sweep.tables import collect, is_recorded, recorded, write_tables
from ei_brian.training import RunLog, train

#: retries of a run whose worker died (Dask's allowed failures); the run resumes each time
WORKER_DEATHS_ALLOWED = 3


def _run_one(options_argv, run_dir, threads, data_dir=None, analyze=False):
    """In a worker: train one run (resuming it if its folder holds a start) unless it has
    finished, then, with ``analyze``, write its spike-train analysis unless it is there."""
    parser = _train_parser()
    args = parser.parse_args(options_argv)
    net_config, train_config = configs_from_args(args)
    result = _read_json(os.path.join(run_dir, RESULT_FILE))
    try:
        with threadpoolctl.threadpool_limits(threads):
            if not (result and result.get("finished")):
                resume = os.path.exists(os.path.join(run_dir, "config.json"))
                train(net_config, train_config, out_dir=run_dir, resume=resume,
                      data_dir=data_dir or args.data_dir, progress=False,
                      argv=["train", *options_argv, "--out", run_dir], threads=threads)
            if analyze and not analysis_done(run_dir):
                # the analysis package (quantities and Neo, +50 ms) only when a sweep analyses
                from ei_brian.analysis import analyze_run, save_run_analysis
                save_run_analysis(analyze_run(run_dir))
    except (ConfigError, DatasetError, RunFolderError) as error:
        RunLog(run_dir, echo=False).failure(error)  # train() writes the other failures itself
        raise
    except Exception as error:
        if os.path.exists(os.path.join(run_dir, RESULT_FILE)):  # the analysis failed
            RunLog(run_dir, echo=False).failure(error)
        raise
    return _read_json(os.path.join(run_dir, RESULT_FILE))


def analysis_done(run_dir):
    """Whether the run folder holds an analysis newer than its final spike trains."""
    # the analysis package (quantities and Neo: +50 ms) only when a sweep analyses its runs
    from ei_brian.analysis.tables import ANALYSIS_FILE
    try:
        return (os.path.getmtime(os.path.join(run_dir, ANALYSIS_FILE)) >=
                os.path.getmtime(os.path.join(run_dir, PROBE_SPIKES_FILES["final"])))
    except OSError:
        return False


def _task_key(spec, run, out):
    digest = hashlib.sha256(f"{os.path.abspath(out)}|{run.folder}".encode()).hexdigest()[:12]
    return f"ei-brian-{run.label}-seed-{run.seed}-{digest}"


def _make_client(workers, scheduler):
    import dask  # dask.distributed (0.5 s) only when a cluster is started
    from dask.distributed import Client, LocalCluster
    if scheduler:
        return Client(scheduler), None
    # a run is retried on another worker when its worker dies; tasks wait at the scheduler
    # until a worker is free (so "running" means running)
    dask.config.set({"distributed.scheduler.allowed-failures": WORKER_DEATHS_ALLOWED,
                     "distributed.scheduler.worker-saturation": 1.0})
    n_workers = workers or os.cpu_count() or 1
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                           silence_logs=logging.ERROR)
    return Client(cluster), cluster


def run_sweep(spec, out=None, scale=None, workers=None, scheduler=None, client=None,
              dry_run=False, progress=True, threads=None, data_dir=None, hours=None):
    """Run every unfinished run of a sweep on Dask; return the runs table as a DataFrame.

    Parameters
    ----------
    spec : str, os.PathLike, dict or SweepSpec
        The sweep (see the module docstring).
    out : str, optional
        Folder of the sweep (default ``data/<name>``, ``data/<scale>/<name>`` with a scale).
    scale : str, optional
        A scale of the spec.
    workers : int, optional
        Workers of the local cluster (default: one per core).
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``) instead of a local cluster.
    client : dask.distributed.Client, optional
        A client to use as it is (e.g. on a ``dask_jobqueue`` cluster, see :func:`slurm_cluster`).
    dry_run : bool
        Print the runs, how many are finished and the work left; run nothing.
    progress : bool
        Show a progress bar over runs (what the sweep does is printed either way).
    threads : int, optional
        Threads of each training (default: cores per local worker, 1 on other clusters).
    data_dir : str, optional
        Folder of the data set files on the workers.
    hours : float, optional
        Start no run expected to finish after this many hours; a later call trains the rest.

    Returns
    -------
    pandas.DataFrame
        ``runs.csv``: one row a run.

    Raises
    ------
    SweepError
        A bad spec, or run folders holding other configurations (before anything runs).
    SweepFailed
        Some runs failed for good (the others ran); ``.failures`` lists them.
    """
    import pandas as pd  # pandas (0.3 s) only when a sweep runs
    if not isinstance(spec, SweepSpec):
        spec = load_spec(spec, scale=scale)
    out = out or spec.default_out()
    tables = run_sweeps([(spec, out)], workers=workers, scheduler=scheduler, client=client,
                        dry_run=dry_run, progress=progress, threads=threads, data_dir=data_dir,
                        hours=hours)
    return pd.DataFrame(tables[out])


def run_sweeps(sweeps, workers=None, scheduler=None, client=None, dry_run=False, progress=True,
               threads=None, data_dir=None, analyze=False, hours=None):
    """Run several sweeps on one Dask cluster at once (their runs share the workers).

    Parameters
    ----------
    sweeps : list of (SweepSpec, str)
        Each sweep with its folder.
    analyze : bool
        Also write each run's spike-train analysis (``ei-brian analyze``) in its worker.
    hours : float, optional
        Start no run expected to finish after this many hours (:func:`fit_in_hours`); the
        runs left out are trained by a later call. Every finished run is recorded at once.
    workers, scheduler, client, dry_run, progress, threads, data_dir
        As in :func:`run_sweep`.

    Returns
    -------
    dict
        ``{folder: list of dict}``: each sweep's ``runs.csv`` rows.

    Raises
    ------
    SweepError, SweepFailed
        As :func:`run_sweep`; ``SweepFailed`` after every run that could run has run.
    """
    if hours is not None and not hours > 0:
        raise SweepError(f"--hours must be above 0, not {hours:g}")
    states = {}
    for spec, out in sweeps:
        recorded_runs = recorded(out)[0]
        for run in spec.runs:
            states[(out, run.folder)] = (
                ("finished", run.train_config.epochs) if is_recorded(run, out, recorded_runs)
                else run_state(run, os.path.join(out, run.folder)))
        conflicts = [folder for (where, folder), (status, _) in states.items()
                     if where == out and status == "conflict"]
        if conflicts:
            raise SweepError(f"{len(conflicts)} run folder(s) under {out} hold runs of another "
                             f"configuration (was the spec or its scale changed?), e.g. "
                             f"{os.path.join(out, conflicts[0])}; use another --out or remove "
                             "them")
    speed, how = sweeps_speed(sweeps)
    if dry_run:
        for spec, out in sweeps:
            _describe_plan(spec, out, {run.folder: states[(out, run.folder)] for run in spec.runs},
                           speed, how)
        total = sum(_run_cost(run, states[(out, run.folder)][1]) for spec, out in sweeps
                    for run in spec.runs if states[(out, run.folder)][0] != "finished")
        if len(sweeps) > 1:
            print(f"in all: {total / speed / 3600:.1f} core-hours left at {speed:.0f} samples/s "
                  f"per core ({how})")
        return {out: collect(spec, out)[0] for spec, out in sweeps}
    todo = []
    for spec, out in sweeps:
        os.makedirs(out, exist_ok=True)
        write_tables(spec, out)
        runs = [run for run in spec.runs if states[(out, run.folder)][0] != "finished" or
                (analyze and states[(out, run.folder)][1] >= 0
                 and os.path.exists(os.path.join(out, run.folder, "config.json"))
                 and not analysis_done(os.path.join(out, run.folder)))]
        print(f"sweep {spec.name}{f' ({spec.scale})' if spec.scale else ''}: {len(spec.runs)} "
              f"runs, {len(spec.runs) - len(runs)} finished already; results in {out}")
        todo += [(spec, out, run) for run in runs]
    if hours is not None and todo:
        todo, left = fit_in_hours(todo, states, hours, workers or os.cpu_count() or 1, speed)
        if left:
            print(f"--hours {hours:g}: {len(todo)} run(s) expected to finish in time (at "
                  f"{speed:.0f} samples/s per core, {how}); {len(left)} left for a later "
                  "invocation")
    failures = []
    if todo:
        failures = _run_on_dask(todo, workers, scheduler, client, progress, threads, data_dir,
                                analyze, states)
    tables = {out: write_tables(spec, out) for spec, out in sweeps}
    if failures:
        raise SweepFailed(failures)
    return tables


class SweepFailed(RuntimeError):
    """Some runs of a sweep failed for good; the others ran. ``failures``: (run folder, error,
    log path)."""

    def __init__(self, failures):
        self.failures = failures
        lines = [f"{len(failures)} run(s) of the sweep failed:"]
        lines += [f"  {folder}: {error}\n    log: {log}" for folder, error, log in failures]
        super().__init__("\n".join(lines))


def _run_on_dask(todo, workers, scheduler, client, progress, threads, data_dir, analyze, states):
    own_client, cluster = (client, None) if client is not None else _make_client(workers, scheduler)
    try:
        if threads is None:
            n_workers = len(own_client.scheduler_info().get("workers", {})) or 1
            threads = max(1, (os.cpu_count() or 1) // n_workers) if cluster is not None else 1
        print(f"Dask dashboard: {own_client.dashboard_link}")
        futures = {}
        # the longest runs first, so that the sweep does not end waiting for one of them
        ordered = sorted(todo, key=lambda item: -_run_cost(item[2],
                                                           states[(item[1], item[2].folder)][1]))
        for rank, (spec, out, run) in enumerate(ordered):
            run_dir = os.path.abspath(os.path.join(out, run.folder))
            future = own_client.submit(_run_one, run.argv, run_dir, threads, data_dir, analyze,
                                       key=_task_key(spec, run, out), pure=False,
                                       priority=len(ordered) - rank)
            futures[future] = (spec, out, run)
        failures = []
        bar = tqdm(total=len(futures), unit="run", desc="sweep", disable=not progress,
                   file=sys.stderr, mininterval=1.0)
        pending = set(futures)
        while pending:
            finished = [future for future in pending if future.status != "pending"]
            for future in finished:
                pending.discard(future)
                spec, out, run = futures[future]
                if future.status != "finished":
                    error = (future.exception() if future.status == "error"
                             else RuntimeError(f"the run's task was {future.status}"))
                    failures.append((os.path.join(out, run.folder),
                                     f"{type(error).__name__}: {error}".splitlines()[0],
                                     os.path.join(out, run.folder, LOG_FILE)))
                bar.update(1)
            for out, spec in {futures[f][1]: futures[f][0] for f in finished}.items():
                write_tables(spec, out)
            if pending:
                processing = own_client.processing()
                keys = {future.key for future in pending}
                running = sum(min(len([key for key in tasks if key in keys]),
                                  own_client.nthreads().get(worker, 1))
                              for worker, tasks in processing.items())
                bar.set_postfix(done=bar.n - len(failures), running=running, failed=len(failures),
                                refresh=True)
                time.sleep(1.0)
        bar.set_postfix(done=bar.n - len(failures), running=0, failed=len(failures))
        bar.close()
        return failures
    except KeyboardInterrupt:
        print("interrupted: finished runs are kept; run the sweep again to continue the others")
        raise
    finally:
        if client is None:
            own_client.close()
            if cluster is not None:
                cluster.close()
