"""Batch clusters for sweeps: :func:`slurm_cluster`, a ``dask_jobqueue.SLURMCluster`` set up for
them.
"""

def slurm_cluster(cores=8, memory="16GB", walltime="04:00:00", cache_dir=None, **kwargs):
    """A ``dask_jobqueue.SLURMCluster`` set up for sweeps: one worker process per core, one
    thread each, BLAS pinned to one thread, and (optionally) a shared compiled-network cache.

    Parameters
    ----------
    cores : int
        Cores (and worker processes) per batch job.
    memory : str
        Memory per job (each worker needs about 1 GB at the default network size).
    walltime : str
        Time limit per job; an interrupted run resumes from its checkpoint on another worker.
    cache_dir : str, optional
        ``EI_BRIAN_CACHE`` on the nodes (a folder every node sees compiles each architecture
        once for the whole cluster; a node-local one once per node).
    **kwargs
        Passed on (``queue``, ``account``, ``job_extra_directives``, ``python``, ...).

    Returns
    -------
    dask_jobqueue.SLURMCluster
        Scale it with ``cluster.scale(jobs=N)`` and give ``Client(cluster)`` to
        :func:`run_sweep`.
    """
    from dask_jobqueue import SLURMCluster  # dask_jobqueue (0.4 s) only on SLURM
    prologue = list(kwargs.pop("job_script_prologue", []))
    prologue += ["export OMP_NUM_THREADS=1", "export OPENBLAS_NUM_THREADS=1"]
    if cache_dir:
        prologue.append(f"export EI_BRIAN_CACHE={cache_dir}")
    return SLURMCluster(cores=cores, processes=cores, memory=memory, walltime=walltime,
                        job_script_prologue=prologue, **kwargs)
