"""``ei-brian reproduce --smoke`` end to end: every study, the tables, every figure, the report."""
import os

import pandas as pd
import pytest

from ei_brian.cli import main
from ei_brian.reproduce import FIGURES, STUDIES

pytestmark = [pytest.mark.compiled, pytest.mark.slow]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("reproduction") / "smoke")
    assert main(["reproduce", "--smoke", "--out", out, "--quiet", "--workers", "2"]) == 0
    return out


def test_every_study_ran_and_is_tabulated(smoke):
    for study in STUDIES:
        runs = pd.read_csv(os.path.join(smoke, study, "runs.csv"))
        assert len(runs) >= 3 and set(runs["status"]) == {"finished"}, study
        assert runs["peak_test_acc"].between(0, 1).all()
        epochs = pd.read_csv(os.path.join(smoke, study, "epochs.csv"))
        assert set(epochs["epoch"]) == {0, 1}
    timing = pd.read_csv(os.path.join(smoke, "spike_timing", "runs.csv"))
    assert set(timing["dataset"]) == {"randman"}  # no SHD files on this machine
    vanrossum = pd.read_csv(os.path.join(smoke, "tables", "vanrossum.csv"))
    assert {"E", "I"} == set(vanrossum["population"])
    assert {"initial", "final"} == set(vanrossum["snapshot"])
    assert set(vanrossum["study"]) == set(STUDIES)
    assert vanrossum["van_rossum_within_population"].notna().any()
    rates = pd.read_csv(os.path.join(smoke, "tables", "activity_rates.csv"))
    assert {"80:20", "100:0", "unbounded"} == set(rates["network"])
    spikes = pd.read_csv(os.path.join(smoke, "tables", "activity_spikes.csv"))
    assert set(spikes["network"]) <= {"80:20", "100:0", "unbounded"} and len(spikes)


def test_every_figure_is_written(smoke):
    for name in FIGURES:
        for kind in ("png", "pdf"):
            assert os.path.getsize(os.path.join(smoke, "figures", f"{name}.{kind}")) > 5000


def test_the_report_states_all_five_claims_with_a_verdict(smoke):
    text = open(os.path.join(smoke, "REPORT.md")).read()
    for claim in ("H1", "H2", "H3", "H4", "H5"):
        assert f"## {claim}:" in text
    verdicts = pd.read_csv(os.path.join(smoke, "tables", "claims.csv"))
    assert list(verdicts["claim"]) == ["H1", "H2", "H3", "H4", "H5"]
    assert set(verdicts["verdict"]) <= {"supported", "not supported",
                                        "inconclusive at this scale"}
    for word in ("smoke", "ei-brian reproduce --smoke", "git commit", "cores", "wall time",
                 "random-manifold"):
        assert word in text
    for name in FIGURES:
        if name != "fig6_activity":
            assert f"figures/{name}.png" in text


def test_a_second_call_trains_nothing_and_rewrites_the_report(smoke, capsys):
    before = os.path.getmtime(os.path.join(smoke, "ratio", "ratio-80-20", "seed-0",
                                           "metrics.csv"))
    assert main(["reproduce", "--smoke", "--out", smoke, "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "Dask dashboard" not in printed  # no cluster was needed
    assert before == os.path.getmtime(os.path.join(smoke, "ratio", "ratio-80-20", "seed-0",
                                                   "metrics.csv"))
    assert "over 2 invocations" in open(os.path.join(smoke, "REPORT.md")).read()


def test_the_full_scale_dry_run_prints_its_runs_and_core_hours(tmp_path, capsys):
    assert main(["reproduce", "--full", "--dry-run", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "45 runs" in printed and "320 runs" in printed and "core-hours" in printed
    assert not any(tmp_path.iterdir())
