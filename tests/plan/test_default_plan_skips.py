"""The default plan never crashes on a sheet missing what an analysis needs: it skips it with a one-line reason."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cart_outcomes.cli import app
from cart_outcomes.plan.run import run_plan


def test_no_responder_skips_dor_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("patient_id,day28_response,death_day,last_followup_day\n"
                                    "A,NR,,100\nB,NR,50,50\nC,PD,,200\nD,NE,120,120\n")
    (tmp_path / "study.yaml").write_text("data:\n  source: p.csv\n")
    res = run_plan(tmp_path / "study.yaml").results
    assert [s["endpoint"] for s in res["survival"]] == ["os", "pfs", "efs", "cir", "nrm"]
    [skip] = [w for w in res["data_quality"]["warnings"] if w["rule"] == "ANALYSIS_SKIPPED"]
    assert skip["message"] == "Duration of response (responders) not analysed: no patient in its population"
    out = CliRunner().invoke(app, ["run", str(tmp_path / "study.yaml"), "--quiet"])
    assert out.exit_code == 0, out.output
    assert "skipped: Duration of response (responders) not analysed" in out.output


def _sheet_without_day28(tmp_path: Path, plan: str) -> Path:
    (tmp_path / "p.csv").write_text("patient_id,best_response,cr_day,response_assessment_day,death_day,"
                                    "last_followup_day\nA,CR,30,30,,100\nB,NR,,28,50,50\nC,SD,,28,,200\n"
                                    "D,NE,,,120,120\n")
    (tmp_path / "study.yaml").write_text("data:\n  source: p.csv\n" + plan)
    return tmp_path / "study.yaml"


def test_default_plan_skips_response_analyses_without_day28_column(tmp_path: Path) -> None:
    res = run_plan(_sheet_without_day28(tmp_path, "")).results
    skips = [w["message"] for w in res["data_quality"]["warnings"] if w["rule"] == "ANALYSIS_SKIPPED"]
    reason = "not analysed: the sheet has no 'day28_response' column"
    assert skips == [f"Day-28 response rates {reason}", f"Event-free survival (all) {reason}",
                     f"Duration of response (responders) {reason}"]
    assert [r["column"] for r in res["response"]] == ["best_response"] * 2  # best response is still analysed
    assert [s["endpoint"] for s in res["survival"]] == ["os", "pfs", "cir", "nrm"]
    assert not [w for w in res["data_quality"]["warnings"] if w["rule"] == "MISSING_RESPONSE"]
    out = CliRunner().invoke(app, ["run", str(tmp_path / "study.yaml"), "--quiet"])
    assert out.exit_code == 0, out.output
    assert f"skipped: Event-free survival (all) {reason}" in out.output


def test_plan_asking_for_day28_response_still_fails_early(tmp_path: Path) -> None:
    out = CliRunner().invoke(app, ["run", str(_sheet_without_day28(tmp_path, "endpoints:\n  response_day: 28\n"))])
    assert out.exit_code != 0
    assert "endpoints: response_day=28 needs the column 'day28_response'" in out.output


def _undated_responder(tmp_path: Path, plan: str) -> Path:
    # B's best response is CR but nothing dates it (day-28 NR, no CR date): DOR has no start for B
    (tmp_path / "p.csv").write_text("patient_id,day28_response,best_response,death_day,last_followup_day\n"
                                    "A,CR,CR,,300\nB,NR,CR,,250\nC,PD,PD,90,90\nD,PR,PR,,200\n")
    (tmp_path / "study.yaml").write_text("data:\n  source: p.csv\n" + plan)
    return tmp_path / "study.yaml"


def test_undated_responder_skips_dor_and_nothing_else(tmp_path: Path) -> None:
    res = run_plan(_undated_responder(tmp_path, "")).results
    assert [s["endpoint"] for s in res["survival"]] == ["os", "pfs", "efs", "cir", "nrm"]
    [skip] = [w for w in res["data_quality"]["warnings"] if w["rule"] == "ANALYSIS_SKIPPED"]
    assert skip["message"].startswith("duration of response not analysed: no first-response day for "
                                      "responder(s) B;")


def test_plan_without_dor_never_mentions_it(tmp_path: Path) -> None:
    res = run_plan(_undated_responder(tmp_path, "analyses:\n  - endpoint: os\n")).results
    assert [s["endpoint"] for s in res["survival"]] == ["os"]
    assert not [w for w in res["data_quality"]["warnings"] if w["rule"] == "ANALYSIS_SKIPPED"]


def test_comparison_of_dor_is_skipped_not_crashed(tmp_path: Path) -> None:
    plan = _undated_responder(tmp_path, "analyses:\n  - endpoint: os\ncomparisons:\n  - name: by_best\n"
                                        "    endpoints: [os, dor]\n    by: best_response\n")
    res = run_plan(plan).results
    assert [(c["comparison"], c["endpoint"]) for c in res["comparisons"]] == [("by_best", "os")]
    [skip] = [w for w in res["data_quality"]["warnings"] if w["rule"] == "ANALYSIS_SKIPPED"]
    assert "responder(s) B" in skip["message"]
