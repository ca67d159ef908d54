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
    assert not os.path.exists(os.path.join(smoke, "ratio_full"))  # standard and full scales only
    for study in (name for name in STUDIES if name != "ratio_full"):
        runs = pd.read_csv(os.path.join(smoke, study, "runs.csv"))
        assert len(runs) >= 2 and set(runs["status"]) == {"finished"}, study
        assert runs["peak_test_acc"].between(0, 1).all()
        assert set(runs["outcome"]) <= {"trained", "silent", "saturated"}
        assert runs["val_test_acc"].between(0, 1).all() and (runs["validation_samples"] == 50).all()
        assert runs["command"].str.startswith("ei-brian train ").all()
        epochs = pd.read_csv(os.path.join(smoke, study, "epochs.csv"))
        assert set(epochs["epoch"]) == {0, 1, 2} and epochs["val_acc"].notna().any()
    # equal starts: every network of the ratio study calibrated to its target
    ratio = pd.read_csv(os.path.join(smoke, "ratio", "runs.csv"))
    assert set(ratio["init"]) == {"target-rate"} and set(ratio["target_rate"]) == {2.0, 5.0}
    assert {"80:20", "100:0", "unbounded"} == set(ratio["network"])
    timing = pd.read_csv(os.path.join(smoke, "spike_timing", "runs.csv"))
    assert set(timing["dataset"]) == {"shd-like"}  # no SHD files on this machine
    vanrossum = pd.read_csv(os.path.join(smoke, "tables", "vanrossum.csv"))
    assert {"E", "I"} == set(vanrossum["population"])
    assert {"initial", "final"} == set(vanrossum["snapshot"])
    assert set(vanrossum["study"]) == set(STUDIES) - {"ratio_full"}
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
    assert verdicts["one run left out"].str.contains("runs? the rule reads|nothing to leave out",
                                                     regex=True).all()
    assert set(verdicts["verdict"]) <= {"supported", "not supported",
                                        "inconclusive at this scale"}
    for word in ("smoke", "ei-brian reproduce --smoke", "report written at commit",
                 "runs trained at commit", "rules (ei_brian/report.py", "cores", "wall time",
                 "SHD-like", "A preview, not a test of the claims", "Sensitivity:",
                 "One run left out:",
                 "The training recipe", "Runs by outcome"):
        assert word in text, word
    for number, name in enumerate(FIGURES, start=1):
        assert f"figures/{name}.png" in text
        assert f"**Figure {number}.**" in text  # each figure with its caption


def test_the_summary_says_when_one_run_would_change_a_verdict_and_slopes_read_in_points():
    from ei_brian.report import Verdict
    from ei_brian.reproduce import _single_runs_note, _slopes_in_points
    assert _single_runs_note(Verdict("H3", "not supported", "r.", "")) == ""
    assert _single_runs_note(Verdict("H3", "not supported", "r.", "", single_runs=1)) == \
        " Left out alone, one run would change this verdict (see its line *one run left out*)."
    assert "each of 3 runs would" in _single_runs_note(Verdict("H3", "x", "r.", "",
                                                               single_runs=3))
    table = pd.DataFrame({"network": ["80:20"], "slope (per decade)": [-0.0123],
                          "slope 95 % low": [-0.02], "slope 95 % high": [-0.004],
                          "best condition: accuracy": [0.8]})
    shown = _slopes_in_points(table)
    assert list(shown.columns) == ["network", "slope (points per decade)",
                                   "slope 95 % low (points)", "slope 95 % high (points)",
                                   "best condition: accuracy"]
    assert shown.iloc[0, 1:4].tolist() == [-1.23, -2.0, -0.4] and shown.iloc[0, 4] == 0.8
    assert _slopes_in_points(table.drop(columns=["slope (per decade)", "slope 95 % low",
                                                 "slope 95 % high"])).equals(
        table.drop(columns=["slope (per decade)", "slope 95 % low", "slope 95 % high"]))


def test_a_second_call_trains_nothing_and_rewrites_the_report(smoke, capsys):
    before = os.path.getmtime(os.path.join(smoke, "ratio", "ratio-80-20_lr-0.005", "seed-0",
                                           "metrics.csv"))
    assert main(["reproduce", "--smoke", "--out", smoke, "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "Dask dashboard" not in printed  # no cluster was needed
    assert before == os.path.getmtime(os.path.join(smoke, "ratio", "ratio-80-20_lr-0.005", "seed-0",
                                                   "metrics.csv"))
    assert "over 2 invocations" in open(os.path.join(smoke, "REPORT.md")).read()


def test_the_dry_runs_print_their_runs_and_core_hours(tmp_path, capsys):
    assert main(["reproduce", "--full", "--dry-run", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "90 runs" in printed and "129 runs" in printed and "core-hours" in printed
    assert "in all:" in printed
    assert not any(tmp_path.iterdir())
    assert main(["reproduce", "--standard", "--dry-run", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "75 runs in" in printed and "in all:" in printed


@pytest.mark.parametrize("argv, message", [
    (["--hours", "0"], "--hours must be above 0"),
    (["--hours", "-1"], "--hours must be above 0"),
])
def test_bad_input_is_one_line(argv, message, tmp_path, capsys):
    assert main(["reproduce", "--quick", "--out", str(tmp_path), *argv]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: ") and message in error and "\n" not in error


def test_a_study_whose_target_rate_is_out_of_reach_is_refused(tmp_path, capsys):
    import shutil

    from ei_brian.reproduce import repository_root
    studies = tmp_path / "studies"
    shutil.copytree(os.path.join(repository_root(), "studies"), studies)
    path = studies / "update_noise.toml"
    path.write_text(path.read_text().replace("target_rate = 5.0", "target_rate = 5000.0"))
    assert main(["reproduce", "--smoke", "--studies", str(studies), "--out",
                 str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err.strip()
    assert "out of reach" in error and "5000 Hz" in error and "\n" not in error
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("stop, code", [("SIGTERM", 143), ("Ctrl-C", 130)])
def test_a_piece_stopped_early_records_its_invocation(stop, code, tmp_path, monkeypatch, capsys):
    """A piece stopped before its report (SIGTERM as from ``kill`` or a batch system, or Ctrl-C)
    still records its invocation, so the report's wall time over invocations stays whole."""
    import json
    import signal
    import time

    import ei_brian.sweep

    def stopped(*args, **kwargs):
        if stop == "Ctrl-C":
            raise KeyboardInterrupt
        # without the piece's handler SIGTERM would end pytest itself: fail instead
        assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler interrupts the sleep
        raise AssertionError("SIGTERM did not interrupt the piece")

    monkeypatch.setattr(ei_brian.sweep, "run_sweeps", stopped)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    out = tmp_path / "smoke"
    assert main(["reproduce", "--smoke", "--out", str(out), "--hours", "1", "--quiet"]) == code
    assert "interrupted: its finished runs and its time are recorded" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    (item,) = json.loads((out / "reproduce.json").read_text())["invocations"]
    assert item["interrupted"] is True and item["runs_finished"] == 0
    assert item["command"] == f"ei-brian reproduce --smoke --out {out}"
    assert 0 <= item["wall_seconds"] < 60 and not (out / "REPORT.md").exists()


@pytest.mark.parametrize("stop", ["SIGTERM", "Ctrl-C"])
def test_a_second_stop_does_not_lose_the_record(stop, tmp_path, monkeypatch, capsys):
    """A second SIGTERM while the stopped piece closes its workers, and a second stop (SIGTERM
    or Ctrl-C) while it counts its finished runs, leave its invocation recorded."""
    import json
    import signal
    import time

    import ei_brian.reproduce
    import ei_brian.sweep

    def stopped(*args, **kwargs):
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler interrupts the sleep
            raise AssertionError("SIGTERM did not interrupt the piece")
        finally:  # as the workers close: one more SIGTERM is ignored
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.1)

    count = ei_brian.reproduce._count_finished
    calls = []

    def counted(sweeps):
        calls.append(1)
        if len(calls) == 2:  # the count for the record: a second stop arrives now
            os.kill(os.getpid(), signal.SIGINT if stop == "Ctrl-C" else signal.SIGTERM)
            time.sleep(0.1)
        return count(sweeps)

    monkeypatch.setattr(ei_brian.sweep, "run_sweeps", stopped)
    monkeypatch.setattr(ei_brian.reproduce, "_count_finished", counted)
    out = tmp_path / "smoke"
    assert main(["reproduce", "--smoke", "--out", str(out), "--hours", "1", "--quiet"]) == 143
    assert len(calls) == 2
    assert "interrupted: its finished runs and its time are recorded" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    assert signal.getsignal(signal.SIGINT) is not signal.SIG_IGN  # restored (Brian2 has its own)
    (item,) = json.loads((out / "reproduce.json").read_text())["invocations"]
    assert item["interrupted"] is True and item["runs_finished"] == 0


def test_the_papers_scale_study_is_tabulated_while_it_waits(tmp_path, monkeypatch, capsys):
    """While ratio_full waits for the ratio study, its table lists its runs still to train, so
    that the report can say H1 waits for it."""
    import ei_brian.sweep

    def stopped(sweeps, **kwargs):
        assert "ratio_full" not in [spec.name for spec, _ in sweeps]
        raise KeyboardInterrupt

    monkeypatch.setattr(ei_brian.sweep, "run_sweeps", stopped)
    out = tmp_path / "standard"
    assert main(["reproduce", "--standard", "--out", str(out), "--hours", "1", "--quiet"]) == 130
    assert "waits for the ratio study" in capsys.readouterr().out
    runs = pd.read_csv(out / "ratio_full" / "runs.csv")
    assert len(runs) == 21 and set(runs["status"]) == {"new"}


def test_the_report_names_the_rules_changes_since_the_runs_began(tmp_path):
    """The rules should be fixed before the runs: the header names the commits that changed
    the rule files after the first invocation began."""
    import json
    import subprocess

    from ei_brian.reproduce import RULE_FILES, _rules_changes, provenance, repository_root
    if subprocess.run(["git", "-C", repository_root(), "rev-parse"]).returncode:
        pytest.skip("not a git checkout")
    latest = subprocess.run(["git", "-C", repository_root(), "log", "-1", "--format=%h|%cI",
                             "--", *RULE_FILES], capture_output=True, text=True).stdout.strip()
    commit, when = latest.split("|")
    for started, expect in (("2000-01-01T00:00:00", f"since the first invocation began "
                                                    f"(2000-01-01), in wording, sections or "
                                                    f"rules (`git show` each), newest first: "
                                                    f"`{commit}`"),
                            ("2999-01-01T00:00:00", "; unchanged since the first invocation "
                                                    "began (2999-01-01)")):
        (tmp_path / "reproduce.json").write_text(json.dumps(
            {"invocations": [{"started": started}]}))
        context = provenance("quick", "ei-brian reproduce --quick", str(tmp_path))
        assert context["rules_commit"] == commit
        assert expect in _rules_changes(context)
    (tmp_path / "reproduce.json").unlink()  # no record of invocations: nothing said
    assert _rules_changes(provenance("quick", "ei-brian reproduce --quick", str(tmp_path))) == ""


def test_the_papers_scale_waits_for_the_ratio_studys_tuning(tmp_path):
    """ratio_full runs only when the ratio study has finished, with 80:20 and the baseline at
    the cells their tuning chose; another cell is refused with one line naming each."""
    import pandas as pd

    from ei_brian.reproduce import full_scale_waits, load_studies
    from ei_brian.sweep import SweepError, _csv_text, config_columns, train_command
    studies = dict(load_studies("standard"))
    out = tmp_path / "standard"
    sweeps = [(studies[name], str(out / name)) for name in ("ratio", "ratio_full")]
    assert "waits for the ratio study" in full_scale_waits(sweeps)
    # the cells that studies/ratio_full.toml trains 80:20 and the baseline at
    committed = {("unbounded" if run.net_config.unbounded else run.net_config.ratio):
                 (config_columns(run)["learning_rate"], config_columns(run)["target_rate"])
                 for run in studies["ratio_full"].runs}
    assert committed["80:20"] != (0.01, 5.0) and committed["unbounded"] != (0.01, 5.0)

    def tables_say(best):  # every ratio run finished; each tuned network best at its cell
        rows = []
        for run in studies["ratio"].runs:
            config = config_columns(run)
            network = "unbounded" if run.net_config.unbounded else run.net_config.ratio
            top = (config["learning_rate"], config["target_rate"]) == best.get(network)
            rows.append({"seed": run.seed, "network": network, "dataset": "fashion-mnist",
                         **config, "label": run.label, "run_dir": run.folder,
                         "status": "finished", "outcome": "trained",
                         "val_acc": 0.85 if top else 0.80, "val_test_acc": 0.8,
                         "peak_test_acc": 0.8, "command": train_command(run)})
        (out / "ratio").mkdir(parents=True, exist_ok=True)
        (out / "ratio" / "runs.csv").write_text(_csv_text(rows, list(rows[0])))

    tables_say({"80:20": (0.01, 5.0), "unbounded": (0.01, 5.0)})
    with pytest.raises(SweepError, match="80:20 at learning rate .* tuning chose learning rate "
                                         "0.01 and 5 Hz; and unbounded at .* 0.01 and 5 Hz"):
        full_scale_waits(sweeps)
    tables_say({"80:20": committed["80:20"], "unbounded": (0.01, 5.0)})
    with pytest.raises(SweepError) as refused:
        full_scale_waits(sweeps)
    assert "unbounded" in str(refused.value) and "80:20" not in str(refused.value)
    tables_say({"80:20": committed["80:20"], "unbounded": committed["unbounded"]})
    assert full_scale_waits(sweeps) == ""
    assert len(pd.read_csv(out / "ratio" / "runs.csv")) == len(studies["ratio"].runs)


def test_machine_description_names_the_processor_and_the_blas_kernel():
    import threadpoolctl

    from ei_brian.io import machine_description
    text = machine_description()
    blas = [lib for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"][0]
    assert str(blas["version"]) in text and str(blas["architecture"]) in text
    assert text.split(",")[0].strip() and text == machine_description()


def test_report_names_the_machines_that_trained_the_runs():
    import math

    import pandas as pd

    from ei_brian.reproduce import _run_machines
    tables = {"ratio": pd.DataFrame({"status": ["finished", "finished", "finished", "new"],
                                     "trained_on": ["A, OpenBLAS X", "A, OpenBLAS X; B, OpenBLAS Y",
                                                    math.nan, ""]}),
              "recipe": pd.DataFrame({"status": ["finished"]}),  # tables from before the column
              "ratio/vanrossum": None}
    unrecorded = "not recorded (trained before runs recorded it)"
    assert _run_machines(tables) == (f"A, OpenBLAS X (2 runs); {unrecorded} (2 runs); "
                                     "B, OpenBLAS Y (1 run)")
    assert _run_machines({}) == "no finished run yet"
