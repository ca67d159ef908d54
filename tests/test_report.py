"""The verdict rules of the report (issue 20), on fabricated tables (``tests/report_cases.py``):
for each claim one table where it holds, one where it fails, one with silent and saturated runs
added that must not change the verdict, and one that cannot decide; and the statistics by hand."""
import functools
import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import t as student_t

import report_cases as cases
from ei_brian import report

S, N, I = report.SUPPORTED, report.NOT_SUPPORTED, report.INCONCLUSIVE
EXPECTED = {"holds": S, "fails": N, "failures": S, "inconclusive": I}
#: the silent and saturated runs each rule's "failures" table puts in the rule's runs
FAILURES = {"H1": (2, 2), "H2": (1, 2), "H3": (1, 1), "H4": (1, 1), "H5": (2, 2)}


@functools.lru_cache(maxsize=None)
def table(name, case):
    return {"ratio": cases.ratio_runs, "initial_rate": cases.initial_rate_runs,
            "update_noise": cases.update_noise_runs, "vanrossum": cases.vanrossum_case}[name](case)


def verdict(claim, case, **kwargs):
    if claim == "H1":
        return report.verdict_h1(table("ratio", case), full_scale=kwargs.get("full_scale", True))
    if claim == "H2":
        return report.verdict_h2(table("initial_rate", case))
    if claim == "H3":
        return report.verdict_h3(table("initial_rate", case))
    if claim == "H4":
        return report.verdict_h4(table("update_noise", case))
    vanrossum, noise = table("vanrossum", case)
    return report.verdict_h5(vanrossum, noise)


# ---------------------------------------------------------------------------------------------
# the four tables of every rule

@pytest.mark.parametrize("case", cases.CASES)
@pytest.mark.parametrize("claim", ["H1", "H2", "H3", "H4", "H5"])
def test_rule_on_its_four_tables(claim, case):
    result = verdict(claim, case)
    assert result.verdict == EXPECTED[case], result.reason
    assert result.claim == claim and result.rule and result.test and result.reading
    assert result.reason in result.reading or result.reason[1:] in result.reading
    assert isinstance(result.table, pd.DataFrame) and len(result.table)
    assert {"trained", "silent", "saturated", "unfinished"} <= set(result.counts.columns)


@pytest.mark.parametrize("claim", ["H1", "H2", "H3", "H4", "H5"])
def test_silent_and_saturated_runs_are_counted_apart_and_put_back_in(claim):
    clean, added = verdict(claim, "holds"), verdict(claim, "failures")
    assert clean.verdict == added.verdict == S
    silent, saturated = FAILURES[claim]
    assert added.sensitivity.startswith(f"with the {silent} silent and {saturated} saturated "
                                        "runs in: ")
    assert any(v in added.sensitivity.split(":")[1] for v in (S, N, I))
    assert "nothing to put back in" in clean.sensitivity
    assert added.counts["silent"].sum() >= silent and added.counts["saturated"].sum() >= saturated
    assert clean.counts[["silent", "saturated"]].to_numpy().sum() == 0


# ---------------------------------------------------------------------------------------------
# H1

def test_h1_below_full_scale_shows_equivalence_but_cannot_support():
    result = verdict("H1", "holds", full_scale=False)
    assert result.verdict == I and "not testable" in result.reason
    assert "equivalent" in result.reason
    assert verdict("H1", "fails", full_scale=False).verdict == N


def test_h1_difference_reads_ratio_minus_baseline_and_reports_tuned_cells():
    rows = verdict("H1", "fails").table.set_index("network")
    assert rows.loc["50:50", "difference to baseline"] == pytest.approx(-0.05, abs=0.006)
    assert rows.loc["50:50", "difference 90 % low"] < -0.05 < rows.loc["50:50",
                                                                        "difference 90 % high"]
    assert rows.loc["50:50", "p worse by > margin"] < 0.05
    for network in ("80:20", "unbounded"):
        assert rows.loc[network, "cells tried"] == 4
        assert rows.loc[network, "learning rate"] == 5e-3
        assert rows.loc[network, "target rate (Hz)"] == 5.0
    assert (rows["peak test accuracy"] > rows["accuracy"]).all()


def test_h1_tuning_counts_every_outcome():
    runs = table("ratio", "holds")
    extra = [cases.run("80:20", 100 + s, 0.1, outcome="silent") for s in range(6)]
    runs = pd.concat([runs, pd.DataFrame(extra)], ignore_index=True)
    chosen = report.tuned_settings(runs)["80:20"]
    assert (chosen["learning_rate"], chosen["target_rate"]) != (5e-3, 5.0)
    # the worse cell is 5 points below the baseline: not supported
    assert report.verdict_h1(runs, full_scale=True).verdict == N


def test_h1_threshold_decides_at_full_scale_only():
    runs = table("ratio", "holds").copy()
    runs[["val_test_acc", "peak_test_acc", "val_acc"]] -= 0.10  # every network near 75 %
    assert report.verdict_h1(runs, full_scale=True).verdict == N
    assert report.verdict_h1(runs, full_scale=False).verdict == I


def test_h1_needs_three_seeds_a_side():
    runs = table("ratio", "holds")
    runs = runs[(runs["network"] != "unbounded") | (runs["seed"] < 2)]
    result = report.verdict_h1(runs, full_scale=True)
    assert result.verdict == I and "at least 3" in result.reason


def test_accuracy_falls_back_to_peak_without_validation():
    runs = table("ratio", "holds").copy()
    runs["val_test_acc"] = np.nan
    runs["val_acc"] = np.nan
    result = report.verdict_h1(runs, full_scale=True)
    assert "peak_test_acc" in result.test and result.verdict == S
    assert "val_test_acc" in verdict("H1", "holds").test


# ---------------------------------------------------------------------------------------------
# H2, H3

def test_h2_slopes_and_the_best_condition():
    rows = verdict("H2", "holds").table.set_index("network")
    for network in report.H2_RATIOS:
        assert rows.loc[network, "slope (per decade)"] == pytest.approx(-0.03, abs=0.003)
        assert rows.loc[network, "seeds with a slope"] == 5
        assert rows.loc[network, "best condition: target rate (Hz)"] == 0.1
    assert "50:50" in rows.index
    assert verdict("H2", "fails").table.set_index("network").loc["95:5", "slope 95 % low"] > 0


def test_h2_flat_is_not_supported_and_scale_arm_is_left_out():
    runs = table("initial_rate", "holds").copy()
    calibrated = runs["init"] == "target-rate"
    runs.loc[calibrated, "val_test_acc"] = 0.8 + np.random.default_rng(0).normal(
        0, 0.002, calibrated.sum())
    result = report.verdict_h2(runs)
    assert result.verdict == N and "flat" in result.reason
    # the scale arm (0 Hz silent starts at 80:20) does not enter H2's slope or its counts
    assert report.verdict_h2(runs[calibrated]).table.equals(result.table)


def test_h2_grounds_are_each_ratios_direction():
    assert report._h2_grounds(verdict("H2", "holds").table) == ("falling",) * 3
    grounds = report._h2_grounds(verdict("H2", "fails").table)
    assert "rising" in grounds or grounds == ("flat",) * 3
    table = verdict("H2", "holds").table.copy()
    table.loc[table["network"] == "100:0", "seeds with a slope"] = 2
    assert report._h2_grounds(table)[2] == "undecided"


def test_h2_too_few_seeds_is_inconclusive():
    runs = table("initial_rate", "holds")
    assert report.verdict_h2(runs[runs["seed"] < 2]).verdict == I


def test_h3_numbers_and_how_low():
    rows = verdict("H3", "holds").table.set_index("network")
    assert rows.loc["80:20", "low-rate runs"] == 20 and rows.loc["80:20", "share trained"] == 1
    assert rows.loc["80:20", "degrees of freedom"] == 16
    assert rows.loc["80:20", "binomial sd"] == pytest.approx(
        math.sqrt(rows.loc["80:20", "accuracy"] * (1 - rows.loc["80:20", "accuracy"]) / 10000))
    assert list(rows.index[:1]) == ["80:20"] and {"95:5", "100:0"} <= set(rows.index)
    low = report.how_low(table("initial_rate", "holds"))
    assert low["target_rate"] == 0.1
    assert low["scale"] == {"half-normal": 0.1, "log-normal": 0.4}
    assert report.how_low(table("initial_rate", "fails"))["target_rate"] == 1.0
    failed = verdict("H3", "fails").table.set_index("network")
    assert failed.loc["80:20", "share trained"] == pytest.approx(0.5)


@pytest.mark.parametrize("claim", ["H1", "H2", "H3", "H4", "H5"])
def test_the_line_one_run_left_out_says_when_no_single_run_decides(claim):
    result = verdict(claim, "holds")
    assert result.influence.startswith("leaving out any one of the ")
    assert result.influence.endswith("runs the rule reads gives the same verdict"
                                     + (" on the same grounds." if claim in ("H2", "H5")
                                        else "."))
    assert "rests on single runs" not in result.reading


def test_one_run_that_decides_h3_is_named_in_its_line_and_its_reading():
    runs = table("initial_rate", "holds").copy()
    low = runs[(runs["network"] == "80:20") & (runs["target_rate"] <= report.H3_LOW_RATE_HZ)
               & (runs["outcome"] == "trained")]
    one = low.index[0]
    runs.loc[one, "val_test_acc"] = 0.40  # one seed that learned badly: its spread decides
    result = report.verdict_h3(runs)
    assert result.verdict == N and "the spread exceeds 5 points" in result.reason
    assert "fewer than 70% train" not in result.reason
    name = f"{runs.loc[one, 'label']}/seed-{int(runs.loc[one, 'seed'])}"
    assert result.influence.startswith("one run decides the verdict (of the ")
    assert f"without {name} (trained, accuracy 40.0 %): {S}" in result.influence
    assert f"rests on single runs: without {name}" in result.reading
    assert result.single_runs == 1 and verdict("H3", "holds").single_runs == 0
    # the same run left out by hand gives what the line says
    assert report.verdict_h3(runs.drop(one)).verdict == S


def test_one_run_left_out_names_runs_that_change_the_grounds_of_a_verdict():
    runs = pd.DataFrame({"label": ["a", "b", "c", "d"], "seed": [0, 1, 2, 3],
                         "acc": [0.8, 0.81, 0.79, 0.2]})

    def decide(kept):  # "supported" while the mean is above 0.5; grounds: is any run below 0.5
        verdict = S if kept["acc"].mean() > 0.5 else N
        return verdict, "", f"mean {kept['acc'].mean():.2f}"

    line, flips = report._one_out(runs, runs.index, decide, S)
    assert flips == [] and line.endswith("the 4 runs the rule reads gives the same verdict.")
    line, flips = report._one_out(runs, runs.index, decide, S,
                                  describe=lambda row: f"accuracy {row['acc']:.2f}",
                                  state=lambda kept: bool((kept["acc"] < 0.5).any()))
    assert [name for name, _, _ in flips] == ["d/seed-3 (accuracy 0.20)"]
    assert line.startswith("one run decides what the verdict rests on (of the 4 runs")
    result = report._with_influence(report.Verdict("H5", S, "r.", "", reading="R."), line, flips)
    assert result.influence == line
    assert result.reading == "R. What the verdict rests on turns on single runs: without " \
        "d/seed-3 (accuracy 0.20), mean 0.80."
    # a verdict that flips is said so
    line, flips = report._one_out(runs.iloc[[0, 3]], [0], decide, S)
    assert line.startswith("one run decides the verdict (of the 1 run the rule") and flips[0][1] == N


def test_h3_names_the_runs_silent_only_at_the_start():
    runs = table("initial_rate", "holds").copy()
    low = runs[(runs["network"] == "80:20") & (runs["target_rate"] <= report.H3_LOW_RATE_HZ)]
    started, never = low.index[0], low.index[1]
    # one calibrated below 0.1 Hz that then learned, one that stayed silent
    runs.loc[started, ["outcome", "rate_exc_initial_hz", "rate_exc_final_hz", "val_test_acc"]] = \
        ["silent", 0.05, 40.0, 0.83]
    runs.loc[never, ["outcome", "rate_exc_initial_hz", "rate_exc_final_hz", "val_test_acc"]] = \
        ["silent", 0.05, 0.0, 0.10]
    reading = report.verdict_h3(runs).reading
    assert "silent only at the start (initial E rate below 0.1 Hz) and later beat chance by " \
           "more than 5 points, with their accuracies: 80:20 1 of 2 (83.0 %)" in reading
    assert "Silent runs that were" not in verdict("H3", "holds").reading


def test_the_leave_one_out_line_puts_changes_of_the_verdict_first_and_counts_in_words():
    runs = pd.DataFrame({"label": ["a", "b", "c"], "seed": [0, 1, float("nan")],
                         "acc": [0.9, 0.2, 0.8]})

    def decide(kept):  # grounds change without run a; the verdict without run b
        return (S if kept["acc"].min() > 0.5 or len(kept) == 3 else N), "", "k"

    line, flips = report._one_out(runs, runs.index, decide, N,
                                  state=lambda kept: kept["acc"].max() > 0.85)
    assert [name for name, _, _ in flips] == ["b/seed-1", "a/seed-0"]
    result = report._with_influence(report.Verdict("H2", N, "r.", "", reading="R."), line, flips)
    assert result.single_runs == 1 and "without b/seed-1 it would be supported" in result.reading
    assert line.startswith("2 runs each decide the verdict or its grounds (of the 3 runs")
    assert report._one_out(runs.iloc[[0]], [0], lambda kept: (N, "", ""), N)[0] == \
        "leaving out the one run the rule reads gives the same verdict."
    assert report._run_name(runs.loc[2]) == "c/seed nan"


def test_h1_reading_names_the_ratios_outside_the_claim_and_the_best_network():
    result = verdict("H1", "holds")
    rows = result.table.set_index("network")
    text = report._h1_beside(rows)
    assert "Beside the claim's range: 100:0 " in text and "95:5 " in text
    dale = rows.drop(index="unbounded")
    best = dale["accuracy"].idxmax()
    assert f"The highest mean among the Dale's-law networks is {best}'s" in text
    if best != "80:20":
        place = list(dale["accuracy"].sort_values(ascending=False).index).index("80:20") + 1
        assert f"80:20 reaches {report._pct(dale.loc['80:20', 'accuracy'])}, {place}" in text
    assert text in result.reading
    assert "each at the best cell of" in result.reading


def test_h5_says_a_fit_without_runs_cannot_be_fitted_yet():
    fits = {("accuracy", "I"): {"n": 40, "coef": 0.02, "low": 0.01, "high": 0.03, "p": 0.001},
            ("retention", "I"): {"n": 0, "coef": math.nan, "low": math.nan, "high": math.nan,
                                 "p": math.nan}}
    verdict_, reason, key = report._h5_decide(fits)
    assert verdict_ == I and "retention cannot be fitted yet" in reason
    assert "(a) accuracy: +2.00 points per sd of I diversity (+1.00 to +3.00)" in key
    assert "(b) retention: no run to fit yet" in key
    assert report._h5_grounds(fits) == (1, 0)


def test_h3_test_set_noise_widens_small():
    runs = table("initial_rate", "inconclusive").copy()
    runs["test_samples"] = 50  # binomial sd of 80 % on 50 samples: 5.7 points
    assert report.verdict_h3(runs).verdict == S
    assert report.verdict_h3(runs[runs["seed"] < 2]).verdict in (I, N)


# ---------------------------------------------------------------------------------------------
# H4

def test_h4_retention_is_chance_corrected():
    runs = pd.DataFrame([
        cases.run("80:20", 0, 0.80, update_noise=0.0),
        cases.run("80:20", 0, 0.55, update_noise=3.0),
        cases.run("80:20", 1, 0.60, update_noise=3.0),  # no noise-free partner
        cases.run("100:0", 0, 0.40, update_noise=0.0, n_classes=20),
        cases.run("100:0", 0, 0.25, update_noise=3.0, n_classes=20)])
    r = report.retention(runs)["retention"].to_numpy()
    assert r[0] == pytest.approx(1.0)
    assert r[1] == pytest.approx((0.55 - 0.1) / (0.80 - 0.1))
    assert np.isnan(r[2])
    assert r[4] == pytest.approx((0.25 - 0.05) / (0.40 - 0.05))


def test_h4_table_eta50_and_beside():
    result = verdict("H4", "holds")
    rows = result.table.set_index(["network", "update noise"])
    assert rows.loc[("80:20", 3.0), "retention"] == pytest.approx(0.9, abs=0.02)
    # 80:20's mean retention falls through 0.5 at eta 30 (0.50 by design): eta50 close to 30
    assert float(rows.loc[("80:20", 30.0), "eta50"]) == pytest.approx(30, rel=0.1)
    assert rows.loc[("100:0", 3.0), "eta50"] == rows.loc[("100:0", 30.0), "eta50"]
    assert rows.loc[("50:50", 10.0), "difference to 100:0"] > 0
    assert "r(50:50) - r(100:0)" in result.test
    assert verdict("H4", "fails").table.set_index(["network", "update noise"]).loc[
        ("80:20", 10.0), "difference 95 % high"] < 0


def test_h4_not_trainable_at_the_lowest_level():
    runs = table("update_noise", "holds").copy()
    noisy = (runs["network"] == "80:20") & (runs["update_noise"] > 0)
    runs.loc[noisy, "val_test_acc"] = 0.1 + 0.3 * (runs.loc[noisy, "val_test_acc"] - 0.1)
    result = report.verdict_h4(runs)
    assert result.verdict == N and "does not stay trainable" in result.reason


# ---------------------------------------------------------------------------------------------
# H5

def test_h5_counts_each_run_once_and_reports_other_data_sets():
    result = verdict("H5", "holds")
    rows = result.table.set_index(["dataset", "response", "predictor"])
    # 3 ratios with I neurons x 4 rates x 5 seeds; the noise study's eta = 0 runs are the 5 Hz
    # ones (the same command) and are not counted twice
    assert rows.loc[("fashion-mnist", "accuracy", "I diversity"), "n"] == 60
    assert rows.loc[("fashion-mnist", "retention", "I diversity"), "n"] == 45
    assert rows.loc[("fashion-mnist", "accuracy", "I diversity"), "coefficient per sd"] == \
        pytest.approx(0.02, abs=0.004)
    assert ("randman", "accuracy", "I diversity") in rows.index
    assert ("fashion-mnist", "accuracy", "E diversity") in rows.index
    assert ("fashion-mnist", "accuracy", "I rate") in rows.index


def test_h5_no_relation_with_enough_runs_is_not_supported():
    vanrossum, noise = table("vanrossum", "inconclusive")
    vanrossum = vanrossum.copy()
    rng = np.random.default_rng(13)  # a draw whose p-values are far from 0.05 (all > 0.2)
    final_i = (vanrossum["snapshot"] == "final") & (vanrossum["population"] == "I")
    vanrossum.loc[final_i, "van_rossum_within_population"] = rng.normal(2, 0.5, final_i.sum())
    result = report.verdict_h5(vanrossum, noise)
    assert result.verdict == N and "neither" in result.reason
    decided = result.table.query("dataset == 'fashion-mnist' and predictor == 'I diversity'")
    assert (decided["n"] >= 30).all() and (decided["p"] > 0.2).all()
    # the same with fewer than 30 runs in each model: too few to call it none
    few = vanrossum[vanrossum["seed"] < 2]
    result = report.verdict_h5(few, noise[noise["seed"] < 2])
    rows = result.table.set_index(["dataset", "response", "predictor"])
    assert rows.loc[("fashion-mnist", "accuracy", "I diversity"), "n"] < 30
    assert result.verdict == I and "fewer than 30" in result.reason


# ---------------------------------------------------------------------------------------------
# all of them

def test_verdicts_in_order_and_missing_tables():
    missing = report.verdicts({"ratio": None}, full_scale=True)
    assert [v.claim for v in missing] == ["H1", "H2", "H3", "H4", "H5"]
    assert all(v.verdict == I and "missing" in v.reason for v in missing)
    vanrossum, noise = table("vanrossum", "holds")
    tables = {"ratio": table("ratio", "holds"), "initial_rate": table("initial_rate", "holds"),
              "update_noise": noise, "spike_timing": None, "vanrossum": vanrossum}
    found = report.verdicts(tables, full_scale=True)
    assert [v.verdict for v in found] == [S, S, S, report.verdict_h4(noise).verdict, S]
    assert report.verdicts(tables, full_scale=False)[0].verdict == I


def test_tables_read_back_from_csv_give_the_same_verdicts(tmp_path):
    vanrossum, noise = table("vanrossum", "failures")
    tables = {"ratio": table("ratio", "failures"), "update_noise": noise,
              "initial_rate": table("initial_rate", "failures"), "vanrossum": vanrossum}
    read = {}
    for name, frame in tables.items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
        read[name] = pd.read_csv(tmp_path / f"{name}.csv")
    for a, b in zip(report.verdicts(tables, True), report.verdicts(read, True)):
        assert (a.verdict, a.reason, a.sensitivity) == (b.verdict, b.reason, b.sensitivity)


def test_unfinished_runs_do_not_count():
    runs = table("ratio", "failures")
    counts = report.verdict_h1(runs, full_scale=True).counts.set_index("network")
    assert counts.loc["80:20", "unfinished"] == 1
    # a partial run with an accuracy so far (and no outcome) is left out of everything
    partial = pd.DataFrame([{**cases.run("50:50", s, 0.2), "status": "partial", "outcome": ""}
                            for s in range(6)])
    both = pd.concat([runs, partial], ignore_index=True)
    result = report.verdict_h1(both, full_scale=True)
    assert result.verdict == S and result.table.equals(report.verdict_h1(runs, True).table)
    assert result.counts.set_index("network").loc["50:50", "unfinished"] == 6


def test_h1_waits_for_a_ratio_still_to_train_and_says_it_is_provisional():
    runs = table("ratio", "holds").copy()
    later = np.asarray(runs["network"] == "80:20")
    runs.loc[later, "status"], runs.loc[later, "outcome"] = "new", ""
    result = report.verdict_h1(runs, full_scale=True)
    # the other ratios are all equivalent, but 80:20 is not yet among them
    assert result.verdict == I, result.reason
    assert "80:20 has no trained run yet" in result.reason
    assert f"provisional: {later.sum()} runs still to train ({later.sum()} at 80:20)." \
        in result.reason
    assert result.counts.set_index("network").loc["80:20", "unfinished"] == later.sum()
    # a ratio whose every run failed or ended silent is not left out either
    for status, outcome, why in (("failed", "", "its failed runs are retried"),
                                 ("finished", "silent", "every run ended silent or saturated")):
        gone = table("ratio", "holds").copy()
        gone.loc[later, "status"], gone.loc[later, "outcome"] = status, outcome
        result = report.verdict_h1(gone, full_scale=True)
        assert result.verdict == I and f"80:20 has no trained run ({why}" in result.reason \
            and "provisional" not in result.reason, result.reason


def test_verdicts_read_from_a_reproduction_in_pieces_are_provisional():
    initial = table("initial_rate", "holds").copy()
    initial.loc[initial.index[:4], ["status", "outcome"]] = ["partial", ""]
    initial.loc[initial.index[4:7], ["status", "outcome"]] = ["new", ""]
    vanrossum, noise = table("vanrossum", "holds")
    tables = {"ratio": table("ratio", "holds"), "initial_rate": initial, "update_noise": noise,
              "vanrossum": vanrossum}
    h1, h2, h3, h4, h5 = report.verdicts(tables, True)
    for result in (h2, h3):
        assert result.reason.endswith("; provisional: 7 runs still to train (7 in the "
                                      "initial-rate study)."), result.reason
        assert result.reason[1:] in result.reading
    assert h5.reason.endswith("(7 in the initial-rate study).")
    assert "provisional" not in h1.reason + h4.reason
    # the paper's-scale study still to run makes the subset study's H1 provisional too
    full = table("ratio", "holds").assign(status="new", outcome="")
    h1 = report.verdicts({**tables, "ratio_full": full}, False)[0]
    assert h1.reason.endswith(f"; provisional: the paper's-scale study (ratio-full), which "
                              f"decides H1, has {len(full)} runs still to train.") \
        and h1.verdict == I and h1.reason[1:] in h1.reading, h1.reason
    # a study that has runs to train but none finished says so, not that it is missing
    waiting = {**tables, "update_noise": noise.assign(status="new", outcome="")}
    h4 = report.verdicts(waiting, True)[3]
    assert h4.verdict == I and h4.reason == (f"the update-noise study has no finished run yet; "
                                             f"provisional: {len(noise)} runs still to train.")


# ---------------------------------------------------------------------------------------------
# statistics by hand

def test_tost_by_hand():
    # a: mean .82, variance 4e-4; b: mean .84, variance 1e-4; n = 3 each
    result = report.tost([0.80, 0.82, 0.84], [0.83, 0.85, 0.84], 0.02)
    se = math.sqrt(0.0005 / 3)
    assert result["diff"] == pytest.approx(-0.02)
    assert result["se"] == pytest.approx(se)
    assert result["df"] == pytest.approx(50 / 17)  # Welch-Satterthwaite, by hand
    assert result["p_lower"] == pytest.approx(0.5)  # the difference sits on the lower margin
    assert result["p_upper"] == pytest.approx(student_t.cdf(-0.04 / se, 50 / 17))
    assert result["p_upper"] == pytest.approx(0.027393, abs=1e-5)  # statsmodels ttost_ind
    assert result["p_equivalent"] == pytest.approx(0.5)
    assert result["p_worse"] == pytest.approx(0.5)
    half = student_t.ppf(0.95, 50 / 17) * se
    assert (result["ci_low"], result["ci_high"]) == pytest.approx((-0.02 - half, -0.02 + half))
    tight = report.tost([0.850, 0.851, 0.852], [0.851, 0.852, 0.853], 0.02)
    assert tight["p_equivalent"] < 0.001 and tight["p_worse"] > 0.99


def test_t_interval_welch_and_binomial_by_hand():
    mean, low, high, n = report.t_interval([1.0, 2.0, 3.0, np.nan])
    assert (mean, n) == (2.0, 3)
    assert (low, high) == pytest.approx((2 - 4.302653 / math.sqrt(3), 2 + 4.302653 / math.sqrt(3)))
    assert np.isnan(report.t_interval([1.0])[1])
    result = report.welch([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert result["diff"] == 0 and result["p"] == pytest.approx(1.0) and result["df"] == 4
    assert report.binomial_sd(0.8, 10000) == pytest.approx(0.004)
    assert report.mean_sd([1.0, 2.0, 3.0, float("nan")]) == (2.0, 1.0, 3)


def test_ols_by_hand():
    frame = pd.DataFrame({"y": [1.0, 3.0, 2.0, 5.0], "x": [0.0, 1.0, 2.0, 3.0]})
    result = report.ols(frame, "y", ["x"])
    # slope = Sxy / Sxx = 5.5 / 5; residual sum of squares 2.7 on 2 df
    assert result["coef"]["x"]["coef"] == pytest.approx(1.1)
    assert result["coef"]["Intercept"]["coef"] == pytest.approx(1.1)
    assert result["coef"]["x"]["se"] == pytest.approx(math.sqrt(1.35 / 5))
    assert result["df_resid"] == 2
    grouped = pd.DataFrame({"y": [1.0, 2.0, 3.0, 5.0, 6.0, 7.0], "g": list("aaabbb"),
                            "x": [0.0, 1.0, 2.0, 0.0, 1.0, 2.0]})
    fit = report.ols(grouped, "y", ["x"], ["g"])["coef"]
    assert fit["x"]["coef"] == pytest.approx(1.0) and fit["C(g)[T.b]"]["coef"] == pytest.approx(4)


def test_eta50_by_hand():
    # between 10 (r 0.7) and 100 (r 0.3): halfway in log10 -> 10 ** 1.5
    assert report.eta50([0, 1, 10, 100], [1, 0.9, 0.7, 0.3]) == pytest.approx(10 ** 1.5)
    assert report.eta50([0, 1, 10], [1.0, 0.8, 0.6]) == math.inf
    assert report.eta50([0, 1, 10], [1.0, 0.4, 0.2]) == 0.0
    # a quarter of the way from 3 to 30
    assert report.eta50([3, 30], [0.6, 0.2]) == pytest.approx(10 ** (math.log10(3) + 0.25))


def test_spearman_interval_is_fisher_z():
    x = np.arange(12.0)
    y = np.array([0, 2, 1, 3, 5, 4, 6, 8, 7, 9, 11, 10.0])
    result = report.spearman(x, y)
    half = 1.959964 * math.sqrt(1.06 / 9)
    assert result["low"] == pytest.approx(math.tanh(math.atanh(result["rho"]) - half), rel=1e-5)
    assert result["high"] == pytest.approx(math.tanh(math.atanh(result["rho"]) + half), rel=1e-5)
    assert np.isnan(report.spearman([1, 1, 1], [1, 2, 3])["rho"])


def test_e_share():
    assert report.e_share("80:20") == pytest.approx(0.8)
    assert np.isnan(report.e_share("unbounded"))


def test_h1_rests_on_the_papers_scale_where_the_full_study_has_runs():
    subset = table("ratio", "holds")
    full = table("ratio", "holds").copy()
    full[["val_test_acc", "peak_test_acc", "val_acc"]] -= 0.10  # 75 % at the paper's scale
    both = report.verdicts({"ratio": subset, "ratio_full": full})[0]
    assert both.claim == "H1" and both.verdict == N  # the full study decides: below 80 %
    # its reading names the networks whose cells the subset's tuning chose
    grids = [n for n, s in report.tuned_settings(subset).items() if s["cells"] > 1]
    assert grids and f"with {' and '.join(grids)} at the cell" in both.reading
    assert "tuning grid in the ratio study chose" in both.reading or \
        "tuning grids in the ratio study chose" in both.reading
    alone = report.verdicts({"ratio": subset, "ratio_full": None})[0]
    assert alone.verdict == I  # the subset alone cannot test the threshold
    unfinished = full.assign(status="new")
    assert report.verdicts({"ratio": subset, "ratio_full": unfinished})[0].verdict == I


def test_h4_counts_runs_that_fail_under_noise_as_less_robust():
    """100:0 saturates at every noisy level (no retention to compare): 80:20, which trains at
    every level, is more robust by the share of runs that train (Fisher's exact test)."""
    rows = []
    for s in range(5):
        for level in (0.0, 3.0, 10.0):
            rows.append(cases.run("80:20", s, 0.80 - 0.01 * level, study="update_noise",
                                  update_noise=level))
            fails = level > 0
            rows.append(cases.run("100:0", s, 0.3 if fails else 0.78, study="update_noise",
                                  update_noise=level, outcome="saturated" if fails else "trained"))
    runs = pd.DataFrame(rows)
    result = report.verdict_h4(runs)
    assert result.verdict == S, result.reason
    row = result.table.set_index(["network", "update noise"]).loc[("80:20", 3.0)]
    assert row["share trained"] == 1.0
    assert row["trains more often than 100:0 (Fisher p)"] == pytest.approx(1 / 252)
    # the reverse: 80:20 fails where 100:0 trains
    swapped = runs.assign(network=runs["network"].map({"80:20": "100:0", "100:0": "80:20"}))
    assert report.verdict_h4(swapped).verdict == N
    # three seeds a side cannot show it (Fisher p = 0.05)
    assert report.verdict_h4(runs[runs["seed"] < 3]).verdict == I


def test_h4_says_which_side_trains_and_where_a_side_has_no_runs_instead_of_printing_nan():
    """The H4 lines once read "eta 30: +nan (+nan to +nan)" and "80:20 0.00 (trains more
    often than 100:0: Fisher p = nan)" where 100:0 had no run yet and 80:20 trained less."""
    rows = []
    for s in range(5):
        for level in (0.0, 3.0, 10.0, 30.0):
            rows.append(cases.run("80:20", s, 0.80 - 0.01 * level if level < 30 else 0.1,
                                  study="update_noise", update_noise=level,
                                  outcome="trained" if level < 30 else "saturated"))
            if level < 30:  # 100:0 not yet run at eta 30
                fails = level == 3.0
                rows.append(cases.run("100:0", s, 0.3 if fails else 0.7, study="update_noise",
                                      update_noise=level,
                                      outcome="saturated" if fails else "trained"))
        # 50:50 trains less often than 100:0 at eta 10
        for level in (0.0, 10.0):
            rows.append(cases.run("50:50", s, 0.75 if level == 0 or s == 0 else 0.1,
                                  study="update_noise", update_noise=level,
                                  outcome="trained" if level == 0 or s == 0 else "saturated"))
    result = report.verdict_h4(pd.DataFrame(rows))
    text = " ".join([result.reason, result.test, result.sensitivity, result.reading])
    assert "nan" not in text.lower(), text
    assert "eta 3: not compared: only 0 trained 100:0 runs with a retention" in result.test
    assert "eta 3: 80:20 5/5, 100:0 0/5 (80:20 more often: one-sided Fisher p = 0.00397)" \
        in result.test
    assert "eta 10: 80:20 5/5, 100:0 5/5 (the same share)" in result.test
    assert "eta 30: 80:20 0/5, no 100:0 run yet" in result.test
    assert "eta 30: no 100:0 run yet" in result.test
    assert "eta 10: 50:50 1/5, 100:0 5/5 (50:50 less often: one-sided Fisher p = 0.0238)" \
        in result.test
    assert "not compared: only 1 trained 50:50 runs with a retention" in result.test
    # eta 10 compares retention with 5 seeds a side: a number, not "not compared"
    assert "eta 10: +" in result.test or "eta 10: -" in result.test
    # eta50 counts the saturated runs at eta 30 (retention 0), as figure 3 (b) does: between
    # 10 (r = 0.6 / 0.7) and 30, not "> 30" from the trained runs alone
    halfway = 10 ** (1 + (1 - 0.5 / (0.6 / 0.7)) * math.log10(3))
    assert f"80:20 {halfway:.3g}" in result.test.split("eta50")[-1], result.test
    table = result.table.set_index(["network", "update noise"])
    assert table.loc[("80:20", 3.0), "eta50"] == f"{halfway:.3g}"


def test_a_study_with_no_finished_run_is_a_missing_table_not_a_crash():
    tables = {name: table(name, "holds").assign(status="new")
              for name in ("ratio", "initial_rate", "update_noise")}
    result = report.verdicts(tables)
    assert [v.claim for v in result] == ["H1", "H2", "H3", "H4", "H5"]
    assert all(v.verdict == I for v in result)


def test_the_counts_list_networks_by_falling_e_share_with_the_baseline_last():
    runs = pd.DataFrame({"network": ["unbounded", "10:90", "100:0", "80:20", "80:20", "10:90"],
                         "dataset": ["a", "a", "b", "a", "b", "b"], "status": "finished",
                         "outcome": "trained", "target_rate": [1.0, 2.0, 1.0, 5.0, 1.0, 1.0]})
    # "100:0" < "10:90" < "80:20" as text: the table read 100:0, 10:90, 20:80, ... before
    assert list(report.outcome_counts(runs, "network")["network"]) == [
        "100:0", "80:20", "10:90", "unbounded"]
    by_data = report.outcome_counts(runs, ["dataset", "network"])
    assert list(zip(by_data["dataset"], by_data["network"])) == [
        ("a", "80:20"), ("a", "10:90"), ("a", "unbounded"),
        ("b", "100:0"), ("b", "80:20"), ("b", "10:90")]
    by_rate = report.outcome_counts(runs, ["network", "target_rate"])
    assert list(zip(by_rate["network"], by_rate["target_rate"])) == [
        ("100:0", 1.0), ("80:20", 1.0), ("80:20", 5.0), ("10:90", 1.0), ("10:90", 2.0),
        ("unbounded", 1.0)]


def test_the_counts_give_the_runs_with_each_warning_and_the_verdicts_ignore_them():
    runs = table("ratio", "holds")
    marked = runs.copy()
    # the warnings column as pandas reads it from runs.csv: kinds joined by ";", NaN for none
    cells = pd.Series(math.nan, index=runs.index, dtype=object)
    at_8020 = runs.index[runs["network"] == "80:20"]
    cells[at_8020[0]] = "rising-loss;runaway"
    cells[at_8020[1]] = "runaway"
    cells[at_8020[2]] = "silent-start;runaway;odd-kind"
    marked["warnings"] = cells
    counts = report.outcome_counts(marked, "network").set_index("network")
    assert counts.loc["80:20", "warnings"] == "1 silent-start, 3 runaway, 1 rising-loss, 1 odd-kind"
    assert counts.loc["50:50", "warnings"] == "none"
    assert counts[["trained", "silent", "saturated", "unfinished"]].equals(
        report.outcome_counts(runs, "network").set_index("network"))
    assert "warnings" not in report.outcome_counts(runs, "network")  # a table from before
    before, after = report.verdict_h1(runs, True), report.verdict_h1(marked, True)
    assert (after.verdict, after.reason, after.sensitivity) == (before.verdict, before.reason,
                                                                 before.sensitivity)
    assert after.table.equals(before.table) and "warnings" in after.counts


# ---------------------------------------------------------------------------------------------
# the spike-timing study's arm of another neuron model (alif beside lif)

def _model_runs(differences, seeds=5, saturated_alif=0):
    """Spike-timing rows of lif and alif per network; alif's accuracy is lif's plus the
    network's difference (NaN: no alif run finished), with seed noise of about 1 point that
    averages to 0 over the five seeds."""
    rng = np.random.default_rng(4)
    offsets = [0.01, -0.01, 0.005, -0.005, 0.0]
    rows = []
    for network, difference in differences.items():
        for seed in range(seeds):
            base = 0.6 + rng.normal(0, 0.01)
            rows.append({**cases.run(network, seed, base, study="spike_timing",
                                     dataset="shd-like", n_classes=20),
                         "neuron_model": "lif"})
            outcome = "saturated" if seed < saturated_alif else "trained"
            if not math.isnan(difference):
                rows.append({**cases.run(network, seed, base + difference + offsets[seed % 5],
                                         study="spike_timing", dataset="shd-like", n_classes=20,
                                         outcome=outcome, tag="_alif"),
                             "neuron_model": "alif"})
    return pd.DataFrame(rows)


def test_the_model_arm_reads_better_worse_no_difference_and_too_few():
    from ei_brian.reproduce import _model_arm_lines
    runs = _model_runs({"80:20": 0.08, "95:5": -0.08, "50:50": 0.0, "100:0": 0.0},
                       saturated_alif=0)
    runs.loc[(runs["network"] == "100:0") & (runs["neuron_model"] == "alif") & (runs["seed"] > 0),
             "outcome"] = "saturated"
    table = report.compare_models(runs, "alif")
    assert list(table["network"]) == ["100:0", "95:5", "80:20", "50:50"]
    row = table.set_index("network")
    assert row.loc["80:20", "95 % low"] > 0 and row.loc["95:5", "95 % high"] < 0
    assert row.loc["50:50", "95 % low"] < 0 < row.loc["50:50", "95 % high"]
    assert row.loc["100:0", "alif n"] == 1 and row.loc["100:0", "alif saturated"] == 4
    text = "\n".join(_model_arm_lines(runs, "alif"))
    assert "80:20: alif better by 8." in text and "95:5: alif worse by 8." in text
    assert "50:50: no difference shown" in text
    assert "100:0: too few trained runs to compare (5 lif, 1 alif); saturated runs: 0 lif, 4 alif" \
        in text
    assert "| lif silent | alif silent |" in text


def test_a_table_without_the_neuron_model_column_is_all_lif():
    runs = _model_runs({"80:20": 0.05}).drop(columns="neuron_model")
    assert set(report.neuron_models_column(runs)) == {"lif"}
    assert report.compare_models(runs, "alif").empty


# ---------------------------------------------------------------------------------------------
# the code that trained a reproduction's runs (reproduce.json and same_results.csv)

def _invocations(*pairs):
    return [{"git_commit": commit, "runs_finished": runs} for commit, runs in pairs]


def _record(checked_at, baseline, arm, result):
    return {"checked_at": checked_at, "baseline": baseline, "arm": arm, "result": result}


A, B, C, X = ("a" * 40, "b" * 40, "c" * 40, "e" * 40)


def test_runs_of_one_commit_need_no_check():
    from ei_brian.reproduce import _training_code_summary, training_code_check
    check = training_code_check(_invocations((A, 3), (A, 0), (A, 2)), [])
    assert check["trained"] == {A: 5} and check["covered"] == {A: True}
    assert _training_code_summary(check) == "all runs were trained at one commit, `aaaaaaa`"
    assert training_code_check(_invocations((A, 0)), []) is None


def test_checks_through_another_commit_cover_every_training_commit():
    from ei_brian.reproduce import _training_code_summary, training_code_check
    records = [_record(X, commit, arm, "same") for commit in (A, B, C)
               for arm in ("default", "noise")]
    records.append(_record(X, A, "alif", "n/a"))  # A had no such option: no evidence either way
    check = training_code_check(_invocations((A, 30), (B, 6), (A, 4), (C, 11)), records)
    assert check["newest"] == C and all(check["covered"].values())
    assert "give the same results bit for bit" in _training_code_summary(check)
    rows = {row["commit"]: row for row in check["rows"]}
    assert rows["aaaaaaa"]["runs trained"] == 34 and rows["aaaaaaa"]["compared with"] == "eeeeeee"
    assert rows["aaaaaaa"]["arms the same"] == "default, noise"
    assert rows["bbbbbbb"]["gives the newest commit's results"] == "same results"
    assert rows["ccccccc"]["gives the newest commit's results"] == "the newest"


def test_an_unchecked_or_different_commit_is_named_with_its_runs():
    from ei_brian.reproduce import _training_code_summary, training_code_check
    invocations = _invocations((A, 30), (B, 6), (C, 11))
    # B is not compared with anything; only n/a between A and C is no evidence
    check = training_code_check(invocations, [_record(A, C, "alif", "n/a")])
    assert check["covered"] == {A: False, B: False, C: True}
    assert _training_code_summary(check).startswith("36 runs, trained at `aaaaaaa`, `bbbbbbb`")
    # A and C the same, B different on one arm (same on another): B's runs must be retrained
    records = [_record(A, C, "default", "same"), _record(B, C, "default", "same"),
               _record(B, C, "noise", "different")]
    check = training_code_check(invocations, records)
    assert check["covered"] == {A: True, B: False, C: True}
    summary = _training_code_summary(check)
    assert summary.startswith("6 runs, trained at `bbbbbbb`") and "must be trained again" in summary
    rows = {row["commit"]: row for row in check["rows"]}
    assert rows["bbbbbbb"]["gives the newest commit's results"] == "different from ccccccc"
    assert rows["bbbbbbb"]["arms different"] == "noise"


def test_a_commit_with_the_same_training_code_needs_no_check():
    from ei_brian.reproduce import _training_code_summary, training_code_check
    # C changed only data or docs after B, which a check found to give A's results; X's
    # training code is another
    trees = {A: "t1", B: "t2", C: "t2", X: "t3"}
    records = [_record(B, A, "default", "same")]
    check = training_code_check(_invocations((A, 5), (C, 4)), records, commit_time={A: 1, C: 2}.get,
                                code_tree=trees.get)
    assert check["covered"] == {A: True, C: True}
    assert "give the same results bit for bit" in _training_code_summary(check)
    rows = {row["commit"]: row for row in check["rows"]}
    assert rows["aaaaaaa"]["gives the newest commit's results"] == "same results"
    # without the trees, or with other code, C is not shown to give A's results
    assert not training_code_check(_invocations((A, 5), (C, 4)), records,
                                   commit_time={A: 1, C: 2}.get)["covered"][A]
    check = training_code_check(_invocations((A, 5), (X, 4), (C, 1)), [],
                                commit_time={A: 1, X: 2, C: 3}.get, code_tree=trees.get)
    assert check["covered"] == {A: False, X: False, C: True}
    # a recorded difference wins over the same tree (the environment changed what a run gives)
    check = training_code_check(_invocations((B, 5), (C, 4)),
                                [_record(C, B, "default", "different")],
                                commit_time={B: 1, C: 2}.get, code_tree=trees.get)
    assert check["covered"] == {B: False, C: True} and check["differs"] == {B}
    # a commit that trained runs and shares its code with the newest one says so
    check = training_code_check(_invocations((B, 5), (C, 4)), [], commit_time={B: 1, C: 2}.get,
                                code_tree=trees.get)
    rows = {row["commit"]: row for row in check["rows"]}
    assert rows["bbbbbbb"]["gives the newest commit's results"] == \
        "same results: the same `ei_brian/` as ccccccc"


def test_the_training_code_of_a_commit_is_its_ei_brian_tree():
    from ei_brian.reproduce import UNRECORDED, _code_tree, _git
    head = _git("rev-parse", "HEAD")
    if len(head) != 40:
        pytest.skip("not a git checkout")
    assert _code_tree(head) == _git("rev-parse", "HEAD:ei_brian") and len(_code_tree(head)) == 40
    assert _code_tree(head + "+uncommitted") is None and _code_tree(UNRECORDED) is None
    assert _code_tree("0" * 40) is None


def test_the_runs_own_commits_count_and_the_commit_times_order():
    from ei_brian.reproduce import UNRECORDED, _training_code_summary, training_code_check
    times = {A: 3, B: 1, C: 2}
    # every run names its commit: an invocation that miscounted (A, 9) does not count; B trained
    # in an invocation that was killed (not recorded) and is found through its runs; a run
    # resumed at another commit counts for both
    check = training_code_check(_invocations((A, 9), (C, 1)), [], [C, A, B, B, f"{B} {A}"],
                                commit_time=times.get)
    assert list(check["trained"].items()) == [(B, 3), (C, 1), (A, 2)]
    assert check["newest"] == A
    # a commit time unknown (a shallow clone): the invocations' order, not a guess
    check = training_code_check(_invocations((A, 9), (C, 1)), [], [C, A],
                                commit_time={A: 3}.get)
    assert list(check["trained"]) == [A, C] and check["newest"] == C
    # runs without a record are counted apart and never covered; without any record at all the
    # invocations' counts stand in
    check = training_code_check(_invocations((A, 9), (C, 1)), [_record(A, C, "default", "same")],
                                [C, ""])
    assert check["trained"] == {C: 1, UNRECORDED: 1} and check["covered"][UNRECORDED] is False
    assert "commits they did not record" in _training_code_summary(check)
    assert training_code_check(_invocations((A, 9), (C, 1)), [], ["", ""])["trained"] == \
        {A: 9, C: 1}
    # code with uncommitted changes is named so; same_results.py refuses to record a check of
    # it, so it stays not checked
    dirty = B + "+uncommitted"
    check = training_code_check([], [_record(X, A, "default", "same")], [dirty, A],
                                commit_time={A: 1, dirty: 2}.get)
    assert _training_code_summary(check).startswith("1 run, trained at `aaaaaaa`, is not")
    check = training_code_check([], [_record(X, A, "default", "same")], [dirty, A])
    assert _training_code_summary(check).startswith("1 run, trained at `bbbbbbb+uncommitted`")


def test_an_error_blocks_and_a_difference_elsewhere_is_not_blamed():
    from ei_brian.reproduce import _training_code_summary, training_code_check
    Z = "f" * 40
    # an arm that failed at a baseline (not an option it lacked) is no evidence of sameness
    records = [_record(X, A, "default", "same"), _record(X, A, "alif", "error"),
               _record(X, C, "default", "same")]
    check = training_code_check([], records, [A, C], commit_time={A: 1, C: 2, X: 3}.get)
    assert check["covered"][A] is False
    assert {row["commit"]: row["arms different"] for row in check["rows"]}["aaaaaaa"] == "alif"
    # A = X = C, and Z (which trained nothing) differs from A: A is still covered, not blamed
    records = [_record(X, A, "default", "same"), _record(X, C, "default", "same"),
               _record(Z, A, "default", "different")]
    check = training_code_check([], records, [A, C], commit_time={A: 1, C: 2, X: 3, Z: 4}.get)
    assert all(check["covered"].values())
    assert "give the same results bit for bit" in _training_code_summary(check)
    assert {row["gives the newest commit's results"] for row in check["rows"]} == {
        "same results", "the newest"}


def test_a_later_commit_that_checked_the_runs_is_named():
    from ei_brian.reproduce import _training_code_summary, training_code_check
    times = {A: 1, B: 2, X: 5}
    records = [_record(X, A, "default", "same"), _record(X, B, "default", "same")]
    check = training_code_check([], records, [A, B], commit_time=times.get)
    assert check["newest"] == B and check["latest"] == X
    assert _training_code_summary(check).endswith(
        "the runs are what `bbbbbbb`, the newest of them, trains, and what `eeeeeee`, a later "
        "commit checked against them, trains")


def test_the_papers_scale_says_whether_each_tuned_network_ran_at_its_cell():
    from ei_brian.reproduce import _h1_subset_lines
    ratio = table("ratio", "holds")  # 80:20 and the baseline best at learning rate 5e-3, 5 Hz
    full = pd.DataFrame([cases.run("80:20", s, 0.85) for s in range(3)]
                        + [cases.run("unbounded", s, 0.85, learning_rate=1e-3, target_rate=2.0)
                           for s in range(3)])
    text = "\n".join(_h1_subset_lines({"ratio": ratio, "ratio_full": full}))
    assert "The full-scale 80:20 ran at the cell its tuning chose (tuned: learning rate " \
        "0.005, 5 Hz; run: learning rate 0.005, 5 Hz)." in text
    assert "**The full-scale baseline did not run at the cell its tuning chose** (tuned: " \
        "learning rate 0.005, 5 Hz; run: learning rate 0.001, 2 Hz)." in text
    # while the paper's scale has no finished run, the verdict rests on the ratio study itself
    waiting = full.assign(status="new", outcome="")
    assert _h1_subset_lines({"ratio": ratio, "ratio_full": waiting}) == []
