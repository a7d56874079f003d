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
