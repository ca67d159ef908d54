"""Where data set files are looked for: ``$EI_BRIAN_DATA``, the repository's ``data/`` folder and
a system folder, each searched for a data set's files, plain or gzipped (Fashion-MNIST and SHD
share this)."""
import os
import pathlib

from ei_brian.datasets.errors import DatasetError

#: Environment variable naming a folder that holds data sets.
DATA_ENVIRONMENT_VARIABLE = "EI_BRIAN_DATA"

#: Parent folder of the repository's data sets (``<repository>/data``).
REPO_DATA_DIR = pathlib.Path(__file__).resolve().parent.parent.parent / "data"


def _file_in(folder, name):
    """Path of ``name`` (plain preferred) or ``name.gz`` in ``folder``, or None."""
    for candidate in (folder / name, folder / (name + ".gz")):
        if candidate.is_file():
            return candidate
    return None



def files_in_folder(folder, files, what, how):
    """``{key: path}`` of each file ``name`` of ``files`` (``{key: name}``) in ``folder``, plain
    or gzipped (plain preferred); a :class:`DatasetError` naming the missing ones and ``how`` to
    get them otherwise (Fashion-MNIST and SHD share this)."""
    folder = pathlib.Path(folder)
    paths, missing = {}, []
    for key, name in files.items():
        path = _file_in(folder, name)
        if path is None:
            missing.append(name + "[.gz]")
        else:
            paths[key] = path
    if missing:
        raise DatasetError(f"{what} is incomplete in {folder}: missing {', '.join(missing)}. "
                           + how)
    return paths



def candidate_folders(subfolder, system=None):
    """(description, folder) pairs searched when no folder is given: ``$EI_BRIAN_DATA`` and its
    ``subfolder``, ``<repository>/data/<subfolder>``, then ``system`` ((description, folder))."""
    candidates = []
    environment_dir = os.environ.get(DATA_ENVIRONMENT_VARIABLE)
    if environment_dir:
        environment_dir = pathlib.Path(environment_dir).expanduser()
        candidates.append((f"${DATA_ENVIRONMENT_VARIABLE}", environment_dir))
        candidates.append((f"${DATA_ENVIRONMENT_VARIABLE}/{subfolder}",
                           environment_dir / subfolder))
    candidates.append(("repository data folder", REPO_DATA_DIR / subfolder))
    if system is not None:
        candidates.append(system)
    return candidates



def _describe_folder(folder, names):
    """None if ``folder`` holds every file of ``names``, else why it does not."""
    if not folder.is_dir():
        return "no such folder"
    missing = [name for name in names if _file_in(folder, name) is None]
    if not missing:
        return None
    if len(missing) == len(names):
        return "folder exists but holds none of the files"
    return f"incomplete: missing {', '.join(name + '[.gz]' for name in missing)}"



def find_folder(data_dir, candidates, names, not_found):
    """The first folder of ``candidates`` (only ``data_dir`` if given) holding every file of
    ``names``; else a :class:`DatasetError` starting with ``not_found``, listing every place
    searched and why it was not used."""
    if data_dir is not None:
        candidates = [("--data-dir", pathlib.Path(data_dir).expanduser())]
    searched = []
    for description, folder in candidates:
        reason = _describe_folder(folder, list(names))
        if reason is None:
            return folder
        searched.append(f"  {folder} ({description}): {reason}")
    raise DatasetError(not_found[0] + " Searched:\n" + "\n".join(searched) + "\n" + not_found[1])
