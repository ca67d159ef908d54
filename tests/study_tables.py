"""Fabricated study tables (the layout ``ei-brian reproduce`` writes), where each claim clearly
holds (``holds=True``) or clearly does not (``holds=False``); for the figure and report tests."""
import math
import os

import numpy as np
import pandas as pd

RATIOS = ["100:0", "95:5", "90:10", "80:20", "70:30", "50:50", "20:80", "10:90"]
FOUR = ["80:20", "95:5", "100:0", "50:50"]
SEEDS = [0, 1, 2]
LEVELS = [0.0, 3.0, 10.0, 30.0]


def _run(network, seed, label, peak, rate=5.0, dataset="fashion-mnist", epochs=4, **keys):
    return {**keys, "seed": seed, "network": network, "dataset": dataset, "label": label,
            "run_dir": f"{label}/seed-{seed}", "status": "finished", "epochs_done": epochs,
            "epochs": epochs, "peak_test_acc": peak, "peak_epoch": epochs, "final_test_acc": peak,
            "rate_exc_initial_hz": rate, "rate_inh_initial_hz": rate,
            "rate_exc_final_hz": 30.0, "rate_inh_final_hz": 20.0, "wall_seconds": 60.0,
            "error": ""}


def _epochs(runs):
    rows = []
    for run in runs.to_dict("records"):
        for epoch in range(run["epochs"] + 1):
            rows.append({"network": run["network"], "seed": run["seed"], "label": run["label"],
                         "epoch": epoch, "train_loss": 2.0 / (epoch + 1),
                         "train_acc": run["peak_test_acc"] * epoch / run["epochs"],
                         "test_acc": 0.1 + (run["peak_test_acc"] - 0.1) * epoch / run["epochs"],
                         "rate_exc_hz": run["rate_exc_initial_hz"] + 5 * epoch,
                         "rate_inh_hz": 10.0, "silent_frac": 0.0, "seconds": 10.0})
    return pd.DataFrame(rows)


def ratio_runs(holds=True, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for network in RATIOS + ["unbounded"]:
        for s in SEEDS:
            base = 0.855 if network == "unbounded" else (0.85 if holds else 0.60)
            label = "unbounded" if network == "unbounded" else f"ratio-{network.replace(':', '-')}"
            rows.append(_run(network, s, label, base + rng.normal(0, 0.004), epochs=30,
                             ratio="80:20" if network == "unbounded" else network,
                             unbounded=network == "unbounded"))
    return pd.DataFrame(rows)


def initial_rate_runs(holds=True, seed=1):
    rng = np.random.default_rng(seed)
    rows = []
    for network in FOUR:
        for target in (1.0, 2.0, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0):
            for s in SEEDS:
                rate = target * math.exp(rng.normal(0, 0.05))
                slope = -0.04 if holds else 0.06
                # fails: 80:20 starting quiet is unreliable (a large spread over seeds)
                spread = 0.08 if not holds and network == "80:20" and target <= 10 else 0.004
                peak = 0.80 + slope * math.log10(rate) + rng.normal(0, spread)
                label = f"ratio-{network.replace(':', '-')}_init-target-rate_target-rate-{target}"
                rows.append(_run(network, s, label, peak, rate=rate, ratio=network,
                                 init="target-rate", target_rate=target,
                                 init_distribution="half-normal", init_scale_exc=0.4))
    return pd.DataFrame(rows)


def update_noise_runs(holds=True, seed=2):
    rng = np.random.default_rng(seed)
    keep = {"80:20": [1.0, 0.98, 0.95, 0.90], "95:5": [1.0, 0.96, 0.9, 0.8],
            "50:50": [1.0, 0.97, 0.93, 0.85], "100:0": [1.0, 0.85, 0.6, 0.3]}
    if not holds:
        keep["80:20"], keep["100:0"] = [1.0, 0.7, 0.4, 0.2], [1.0, 0.98, 0.95, 0.92]
    rows = []
    for network in FOUR:
        for level, share in zip(LEVELS, keep[network]):
            for s in SEEDS:
                label = f"ratio-{network.replace(':', '-')}_update-noise-{level}"
                rows.append(_run(network, s, label, 0.8 * share + rng.normal(0, 0.003),
                                 ratio=network, update_noise=level))
    return pd.DataFrame(rows)


def vanrossum_table(ratio, initial, noise, holds=True, seed=3):
    """I diversity that rises (holds) or falls (not) with accuracy and with retention."""
    from ei_brian.report import noise_retention
    rng = np.random.default_rng(seed)
    rows = []
    retention = noise_retention(noise).set_index(["network", "seed", "update_noise"])["retention"]
    for study, runs in (("ratio", ratio), ("initial_rate", initial), ("update_noise", noise)):
        for run in runs.to_dict("records"):
            level = run.get("update_noise", 0.0)
            level = 0.0 if level != level else level
            driver = (retention.get((run["network"], run["seed"], level), 1.0)
                      if study == "update_noise" else run["peak_test_acc"])
            sign = 1.0 if holds else -1.0
            for snapshot in ("initial", "final"):
                for population in ("E", "I"):
                    if population == "I" and run["network"] in ("100:0", "unbounded"):
                        continue
                    value = (2.0 + sign * 5.0 * driver + rng.normal(0, 0.02)
                             if population == "I" and snapshot == "final"
                             else 1.0 + rng.normal(0, 0.1))
                    rows.append({"study": study, "label": run["label"], "network": run["network"],
                                 "seed": run["seed"], "dataset": "fashion-mnist",
                                 "update_noise": level, "init": run.get("init", "scale"),
                                 "peak_test_acc": run["peak_test_acc"],
                                 "rate_exc_initial_hz": run["rate_exc_initial_hz"],
                                 "snapshot": snapshot, "population": population,
                                 "rate_mean_hz": 10.0 + rng.normal(0, 1),
                                 "van_rossum_within_population": value,
                                 "van_rossum_between_samples": value / 2})
    return pd.DataFrame(rows)


def activity_tables(ratio, seed=4):
    rng = np.random.default_rng(seed)
    spikes, rates = [], []
    for network in ratio["network"].unique():
        n_exc = 160 if network == "unbounded" else round(160 * float(network.split(":")[0]) / 100)
        n_inh = 160 - n_exc
        for snapshot in ("initial", "final"):
            for neuron in range(160):
                population = "E" if neuron < n_exc else "I"
                for s in SEEDS:
                    rates.append({"network": network, "seed": s, "snapshot": snapshot,
                                  "population": population, "neuron": neuron,
                                  "rate_hz": rng.gamma(2.0, 10.0)})
                for time_ms in np.sort(rng.choice(100, size=rng.integers(0, 4), replace=False)):
                    spikes.append({"network": network, "seed": 0, "snapshot": snapshot,
                                   "neuron": neuron, "population": population,
                                   "time_ms": float(time_ms), "n_exc": n_exc, "n_inh": n_inh})
    return pd.DataFrame(spikes), pd.DataFrame(rates)


def write_all(out, holds=True):
    """Every table of a reproduction folder; returns the DataFrames by name."""
    ratio, initial, noise = ratio_runs(holds), initial_rate_runs(holds), update_noise_runs(holds)
    timing = pd.DataFrame([_run(n, s, f"ratio-{n.replace(':', '-')}", 0.6 + 0.01 * s,
                                dataset="randman", ratio=n) for n in ("80:20", "100:0")
                           for s in SEEDS])
    vanrossum = vanrossum_table(ratio, initial, noise, holds)
    spikes, rates = activity_tables(ratio)
    tables = {"ratio/runs.csv": ratio, "ratio/epochs.csv": _epochs(ratio),
              "initial_rate/runs.csv": initial, "initial_rate/epochs.csv": _epochs(initial),
              "update_noise/runs.csv": noise, "update_noise/epochs.csv": _epochs(noise),
              "spike_timing/runs.csv": timing, "spike_timing/epochs.csv": _epochs(timing),
              "tables/vanrossum.csv": vanrossum, "tables/activity_spikes.csv": spikes,
              "tables/activity_rates.csv": rates}
    for relative, frame in tables.items():
        path = os.path.join(out, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        frame.to_csv(path, index=False)
    return tables
