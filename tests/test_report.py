"""The verdict logic of the report, on fabricated tables where each claim clearly holds and where
it clearly does not."""
import numpy as np
import pytest

import study_tables
from ei_brian import report


@pytest.fixture(scope="module", params=[True, False], ids=["holds", "fails"])
def tables(request, tmp_path_factory):
    out = tmp_path_factory.mktemp("tables")
    return request.param, study_tables.write_all(str(out), holds=request.param)


def test_h1_at_full_scale(tables):
    holds, t = tables
    verdict = report.verdict_h1(t["ratio/runs.csv"], full_scale=True)
    assert verdict.verdict == (report.SUPPORTED if holds else report.NOT_SUPPORTED)
    row = verdict.table.set_index("network").loc["80:20"]
    assert row["n"] == 3 and row["peak accuracy"] == pytest.approx(0.85 if holds else 0.60,
                                                                   abs=0.01)


def test_h1_below_the_full_scale_cannot_test_the_threshold(tables):
    holds, t = tables
    verdict = report.verdict_h1(t["ratio/runs.csv"], full_scale=False)
    assert verdict.verdict == (report.INCONCLUSIVE if holds else report.NOT_SUPPORTED)
    assert "full scale" in verdict.reason


def test_h2(tables):
    holds, t = tables
    verdict = report.verdict_h2(t["initial_rate/runs.csv"])
    assert verdict.verdict == (report.SUPPORTED if holds else report.NOT_SUPPORTED)
    rho = verdict.table.set_index("network")["rho"]
    if holds:
        assert all(rho[n] < -0.5 for n in ("80:20", "95:5", "100:0"))
    else:
        assert all(rho[n] > 0.3 for n in ("95:5", "100:0"))


def test_h3(tables):
    holds, t = tables
    verdict = report.verdict_h3(t["initial_rate/runs.csv"])
    assert verdict.verdict == (report.SUPPORTED if holds else report.NOT_SUPPORTED)


def test_h4(tables):
    holds, t = tables
    verdict = report.verdict_h4(t["update_noise/runs.csv"])
    assert verdict.verdict == (report.SUPPORTED if holds else report.NOT_SUPPORTED)


def test_h5(tables):
    holds, t = tables
    verdict = report.verdict_h5(t["tables/vanrossum.csv"], t["update_noise/runs.csv"])
    assert verdict.verdict == (report.SUPPORTED if holds else report.NOT_SUPPORTED)


def test_too_few_runs_are_inconclusive_not_a_crash():
    t = study_tables.initial_rate_runs()
    few = t[(t["seed"] == 0) & (t["label"].str.contains("target-rate-1.0|target-rate-80.0"))]
    assert report.verdict_h2(few).verdict == report.INCONCLUSIVE
    assert report.verdict_h3(few).verdict == report.INCONCLUSIVE


def test_statistics_by_hand():
    assert report.mean_sd([1.0, 2.0, 3.0, float("nan")]) == (2.0, 1.0, 3)
    result = report.spearman([1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1])
    assert result["rho"] == pytest.approx(-1.0) and result["p"] < 0.01
    low, high = report.bootstrap_interval(np.mean, np.arange(100.0))
    assert 40 < low < 49.5 < high < 59
    assert np.isnan(report.spearman([1, 1, 1], [1, 2, 3])["rho"])
