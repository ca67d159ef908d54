"""``ei-brian reproduce``: every study, the figures and the report (:mod:`ei_brian.reproduce`)."""
import sys

from ei_brian.reproduce import reproduce

__all__ = ["add_reproduce_arguments", "run_reproduce_command"]


def add_reproduce_arguments(parser):
    scale = parser.add_mutually_exclusive_group()
    for name, text in (("smoke", "a tiny grid, for tests (minutes)"),
                       ("quick", "a preview of the whole design with fewer seeds and samples, "
                        "about an hour on 2 cores; it cannot decide the claims (default)"),
                       ("standard", "the scale that decides the claims on one machine (H1 on all "
                        "of Fashion-MNIST, the others on 10,000-sample subsets; about 44 "
                        "core-hours: run it in pieces with --hours)"),
                       ("full", "the paper's size for every study: for a cluster; see "
                        "--dry-run")):
        scale.add_argument(f"--{name}", dest="scale", action="store_const", const=name, help=text)
    scale.add_argument("--scale", dest="scale", choices=["smoke", "quick", "standard", "full"],
                       help="the same by name, as for ei-brian sweep (--scale standard is "
                       "--standard)")
    parser.set_defaults(scale="quick")
    parser.add_argument("--out", default=None, help="folder of the reproduction (default "
                        "data/<scale>)")
    parser.add_argument("--workers", type=int, default=None,
                        help="workers of the local Dask cluster (default: one per core)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="a running Dask scheduler, e.g. tcp://host:8786")
    parser.add_argument("--data-dir", default=None, help="folder of the data set files")
    parser.add_argument("--studies", default=None, metavar="DIR",
                        help="folder of the study specs (default: the repository's studies/)")
    parser.add_argument("--hours", type=float, default=None, metavar="H",
                        help="start no run expected to finish after H hours (measured "
                        "throughput); a later call trains the rest")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the runs, how many are finished and the work left")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run_reproduce_command(args):
    from ei_brian.sweep import SweepError  # Brian2 via the sweep package (0.9 s), not for --help
    argv = ["ei-brian", "reproduce", f"--{args.scale}"]
    if args.out:
        argv += ["--out", args.out]
    try:
        path = reproduce(args.scale, out=args.out, workers=args.workers, scheduler=args.scheduler,
                         dry_run=args.dry_run, progress=not args.quiet,
                         studies_dir=args.studies, data_dir=args.data_dir,
                         command=" ".join(argv), hours=args.hours)
    except (SweepError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0 if path or args.dry_run else 1
