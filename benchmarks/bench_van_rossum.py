"""Benchmark: ei_brian.analysis.van_rossum_distance against Elephant's van_rossum_distance.

Both get the same random spike trains (seeded). Elephant loops over pairs of trains in Python, so its
time grows as n_trains**2; unless --full is given it runs on the first --elephant-trains trains and its
time for all trains is extrapolated by (n_trains / elephant_trains)**2 (the output says so). The fast
version runs on all trains; its result for the trains Elephant saw is checked against Elephant's.

    .venv/bin/python benchmarks/bench_van_rossum.py                 # 1000 trains of 20 spikes
    .venv/bin/python benchmarks/bench_van_rossum.py --full          # Elephant on all 1000 (slow)

Exits with status 1 if the results disagree (relative 1e-9) or the speed-up is below --min-ratio.
"""
import argparse
import sys
import time
import warnings

import numpy as np
import quantities as pq


def random_spiketrains(n_trains, n_spikes, t_stop_s, seed):
    """``n_trains`` Neo spike trains of ``n_spikes`` uniform random spikes in [0, t_stop_s) seconds."""
    import neo

    rng = np.random.default_rng(seed)
    return [neo.SpikeTrain(np.sort(rng.uniform(0.0, t_stop_s, n_spikes)), units="s",
                           t_stop=t_stop_s) for _ in range(n_trains)]


def best_time(function, repeats):
    """Smallest wall time of ``repeats`` calls, and the last result."""
    best, result = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-trains", type=int, default=1000)
    parser.add_argument("--n-spikes", type=int, default=20, help="spikes per train")
    parser.add_argument("--t-stop-s", type=float, default=1.0, help="duration of the trains (s)")
    parser.add_argument("--time-constant-ms", type=float, default=10.0)
    parser.add_argument("--elephant-trains", type=int, default=200,
                        help="trains given to Elephant unless --full (its time is scaled by n**2)")
    parser.add_argument("--full", action="store_true", help="run Elephant on all trains")
    parser.add_argument("--repeats", type=int, default=5, help="repeats of the fast version (best kept)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-ratio", type=float, default=100.0)
    args = parser.parse_args(argv)

    from elephant.spike_train_dissimilarity import van_rossum_distance as elephant_van_rossum

    from ei_brian.analysis import van_rossum_distance

    trains = random_spiketrains(args.n_trains, args.n_spikes, args.t_stop_s, args.seed)
    time_constant = args.time_constant_ms * pq.ms
    n_elephant = args.n_trains if args.full else min(args.elephant_trains, args.n_trains)

    fast_time, fast = best_time(lambda: van_rossum_distance(trains, time_constant), args.repeats)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # Elephant's note on clipped rounding
        elephant_time, reference = best_time(
            lambda: elephant_van_rossum(trains[:n_elephant], time_constant), 1)
    scale = (args.n_trains / n_elephant) ** 2
    elephant_full = elephant_time * scale
    ratio = elephant_full / fast_time

    subset = fast[:n_elephant, :n_elephant]
    off_diagonal = ~np.eye(n_elephant, dtype=bool)
    relative = np.abs(subset - reference)[off_diagonal] / reference[off_diagonal]
    max_relative = float(relative.max()) if relative.size else 0.0
    agree = max_relative <= 1e-9 and np.array_equal(np.diag(subset), np.diag(reference))

    print(f"input: {args.n_trains} trains x {args.n_spikes} spikes over {args.t_stop_s:g} s, "
          f"tau = {args.time_constant_ms:g} ms, seed {args.seed}")
    print(f"ei_brian.analysis.van_rossum_distance, {args.n_trains} trains: {fast_time:.4f} s "
          f"(best of {args.repeats})")
    if n_elephant == args.n_trains:
        print(f"elephant van_rossum_distance, {n_elephant} trains: {elephant_time:.3f} s (measured)")
    else:
        print(f"elephant van_rossum_distance, {n_elephant} trains: {elephant_time:.3f} s (measured); "
              f"{args.n_trains} trains: {elephant_full:.2f} s (extrapolated x{scale:g} by n_trains**2)")
    print(f"speed ratio elephant / ei_brian: {ratio:.0f}x"
          + ("" if n_elephant == args.n_trains else " (Elephant time extrapolated)"))
    print(f"agreement on the {n_elephant} x {n_elephant} common block: max relative difference "
          f"{max_relative:.2e} -> {'OK' if agree else 'MISMATCH'}")
    if not agree:
        return 1
    if ratio < args.min_ratio:
        print(f"speed ratio below {args.min_ratio:g}x", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
