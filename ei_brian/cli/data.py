"""``ei-brian data ACTION DATASET``: find, check or download a data set."""
import sys

from ei_brian.cli import add_old_spelling
from ei_brian.data import (
    DATASETS,
    FASHION_MNIST,
    RANDMAN,
    SHD,
    SHD_LIKE,
    DatasetError,
    ensure_fashion_mnist,
    fetch_fashion_mnist,
    find_fashion_mnist,
)
from ei_brian.datasets import shd
from ei_brian.datasets.fashion_mnist import SYSTEM_DATA_DIR
from ei_brian.datasets.folders import DATA_ENVIRONMENT_VARIABLE, REPO_DATA_DIR

__all__ = ["add_data_arguments", "run_data_command"]



def add_data_arguments(parser):
    """Add the arguments of ``ei-brian data`` to an argparse parser.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    """
    parser.description = (
        "fetch: download and verify the files; ensure: find them, else install them with apt-get "
        "(as root, fashion-mnist) or download them; where: print the folder holding them. "
        "randman and shd-like are generated, not downloaded.")
    parser.add_argument("action", choices=["fetch", "ensure", "where"],
                        help="what to do")
    parser.add_argument("dataset", choices=sorted(DATASETS), help="the data set")
    parser.add_argument("--url", default=None, metavar="URL",
                        help="shd: folder URL of the files and their md5sums.txt (default the "
                             "official https://zenkelab.org/datasets)")
    parser.add_argument("--data-dir", metavar="DIR", default=None,
                        help="folder holding the data set (fetch: download target; default: "
                             f"search ${DATA_ENVIRONMENT_VARIABLE}, {REPO_DATA_DIR}/<dataset>/, "
                             f"{SYSTEM_DATA_DIR}/<dataset>/)")
    parser.add_argument("--quiet", dest="progress", action="store_false",
                        help="no progress bars while downloading")
    add_old_spelling(parser, "--no-progress", "--quiet", dest="progress", flag_value=False)


def run_data_command(args):
    """Run ``ei-brian data``; return the exit status (0 success, 2 data set error).

    Parameters
    ----------
    args : argparse.Namespace
        With ``action``, ``dataset``, ``data_dir`` and optionally ``progress``.

    Returns
    -------
    int
    """
    progress = getattr(args, "progress", True)
    try:
        if args.dataset in (RANDMAN, SHD_LIKE):
            module = "randman" if args.dataset == RANDMAN else "shd_like"
            print(f"{args.dataset} is generated from its seed by ei_brian.datasets.{module} when "
                  "a run starts; there is nothing to download"
                  + ("" if args.dataset == RANDMAN else " (ei_brian.datasets.shd_like."
                     "write_shd_files writes it as SHD-format files)"))
            return 0
        if args.dataset == SHD:
            return _run_shd_command(args, progress)
        if args.dataset != FASHION_MNIST:
            raise ValueError(f"unknown data set {args.dataset!r}")
        if args.action == "fetch":
            folder = fetch_fashion_mnist(args.data_dir, progress=progress)
            print(folder)
        elif args.action == "ensure":
            ensure_fashion_mnist(args.data_dir, progress=progress)
        elif args.action == "where":
            print(find_fashion_mnist(args.data_dir))
        else:
            raise ValueError(f"unknown action {args.action!r}")
    except DatasetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _run_shd_command(args, progress):
    url = getattr(args, "url", None) or shd.SHD_BASE_URL
    if args.action == "fetch":
        print(shd.fetch_shd(args.data_dir, base_url=url, progress=progress))
    elif args.action == "ensure":
        shd.ensure_shd(args.data_dir, base_url=url, progress=progress)
    elif args.action == "where":
        print(shd.find_shd(args.data_dir))
    else:
        raise ValueError(f"unknown action {args.action!r}")
    return 0
