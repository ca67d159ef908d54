"""``ei-brian sweep SPEC.toml``: many training runs on Dask (:mod:`ei_brian.sweep`)."""
import sys

from ei_brian.sweep import SweepError, SweepFailed, run_sweep

__all__ = ["add_sweep_arguments", "run_sweep_command"]


def add_sweep_arguments(parser):
    parser.add_argument("spec", help="the sweep's TOML file")
    scale = parser.add_mutually_exclusive_group()
    scale.add_argument("--scale", default=None, help="a scale of the spec ([scale.NAME])")
    for name in ("smoke", "quick", "standard", "full"):
        scale.add_argument(f"--{name}", dest="scale", action="store_const", const=name,
                           help=f"the same as --scale {name}, as for ei-brian reproduce")
    parser.add_argument("--out", default=None, help="folder of the sweep (default data/<name>, "
                        "data/<scale>/<name> with --scale)")
    parser.add_argument("--workers", type=int, default=None,
                        help="workers of the local Dask cluster (default: one per core)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="a running Dask scheduler, e.g. tcp://host:8786, instead of a local "
                        "cluster")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads of each training (default: cores per worker)")
    parser.add_argument("--data-dir", default=None, help="folder of the data set files")
    parser.add_argument("--hours", type=float, default=None, metavar="H",
                        help="start no run expected to finish after H hours; a later call "
                        "trains the rest")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the runs, how many are finished and the work left; run nothing")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run_sweep_command(args):
    try:
        run_sweep(args.spec, out=args.out, scale=args.scale, workers=args.workers,
                  scheduler=args.scheduler, dry_run=args.dry_run, progress=not args.quiet,
                  threads=args.threads, data_dir=args.data_dir, hours=args.hours)
    except SweepError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except SweepFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
