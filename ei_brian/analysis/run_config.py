"""A run folder's ``config.json`` (:func:`read_run_config`) and the grouping parameters it gives
the analysis tables (:func:`run_parameters`).

Below :mod:`ei_brian.analysis.neo_io` and :mod:`ei_brian.analysis.tables`, which both use it;
every name here stays importable from :mod:`ei_brian.analysis.tables` (and
:mod:`ei_brian.analysis`) as before.
"""
import json
import os

from ei_brian.io import RunFolderError

__all__ = ["GROUPING_KEYS", "read_run_config", "run_parameters"]

#: Leaf names of config.json values copied into the analysis tables as grouping columns, besides any
#: value whose key path mentions ``init`` or ``noise``.
GROUPING_KEYS = ("label", "ratio", "unbounded", "dataset", "seed", "n_hidden", "n_exc", "n_inh",
                 "encoding", "optimizer", "epochs")


def read_run_config(run_dir):
    """Read a run folder's ``config.json``.

    Parameters
    ----------
    run_dir : str or os.PathLike
        The run folder.

    Returns
    -------
    config : dict
        The parsed JSON (empty if the file is missing).
    note : str or None
        A message if the file is missing, else None.

    Raises
    ------
    ei_brian.io.RunFolderError
        If the file exists but is not a JSON object.
    """
    path = os.path.join(os.fspath(run_dir), "config.json")
    if not os.path.exists(path):
        return {}, "no config.json: the tables have no grouping parameters besides n_exc and n_inh"
    try:
        with open(path, encoding="utf-8") as file:
            config = json.load(file)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RunFolderError(f"{path!r} cannot be read as JSON ({error.__class__.__name__}: {error})") \
            from error
    if not isinstance(config, dict):
        raise RunFolderError(f"{path!r} does not hold a JSON object")
    return config, None


def _flatten(config, prefix=()):
    for key, value in config.items():
        path = prefix + (str(key),)
        if isinstance(value, dict):
            yield from _flatten(value, path)
        elif value is None or isinstance(value, (str, bool, int, float)):
            yield path, value
        elif isinstance(value, list) and all(
                item is None or isinstance(item, (str, bool, int, float)) for item in value):
            yield path, json.dumps(value)


def run_parameters(config):
    """Grouping parameters of a run, from its configuration.

    Scalars are looked up at any depth of ``config``; kept are those whose own key is in
    :data:`GROUPING_KEYS` and those whose key path mentions ``init`` or ``noise``. A column is named
    by the key, or by the key path joined with ``_`` where two kept values share a key. Lists of
    scalars are written as JSON text.

    Parameters
    ----------
    config : dict
        The parsed ``config.json``.

    Returns
    -------
    dict
        Column name -> value, in the order of :data:`GROUPING_KEYS`, then alphabetical.
    """
    kept = [(path, value) for path, value in _flatten(config)
            if path[-1] in GROUPING_KEYS
            or any("init" in part.lower() or "noise" in part.lower() for part in path)]
    leaf_counts = {}
    for path, _ in kept:
        leaf_counts[path[-1]] = leaf_counts.get(path[-1], 0) + 1
    named = {(path[-1] if leaf_counts[path[-1]] == 1 else "_".join(path)): value for path, value in kept}
    order = {key: position for position, key in enumerate(GROUPING_KEYS)}
    return dict(sorted(named.items(), key=lambda item: (order.get(item[0], len(order)), item[0])))
