"""`cart-outcomes kinetics FILE`: the NCA of a kinetics table or a cohort as text, CSV or JSON; located errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from cart_outcomes.cli import app

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cd7-tall"
SECTION_13_6 = pd.DataFrame({"patient_id": "P1", "day": [0, 7, 14, 21, 28], "assay": "qpcr",
                             "unit": "copies_per_ug_dna", "value": [0, 1000, 5000, 2000, 500]})


def test_csv_of_the_guideline_example(tmp_path):
    path = tmp_path / "kinetics.csv"
    SECTION_13_6.to_csv(path, index=False)
    res = runner.invoke(app, ["kinetics", str(path), "--format", "csv"])
    assert res.exit_code == 0, res.output
    row = pd.read_csv(io.StringIO(res.stdout)).iloc[0]
    assert (row["cmax"], row["tmax_days"], row["auc"]) == (5000, 14, 57750)  # clinical-definitions 13.6
    res = runner.invoke(app, ["kinetics", str(path), "--format", "csv", "--auc-method", "linear-up/log-down"])
    assert round(pd.read_csv(io.StringIO(res.stdout))["auc"].iat[0], 1) == 54992.6


def test_text_and_json_of_the_seed_cohort_folder():
    res = runner.invoke(app, ["kinetics", str(EXAMPLE)], env={"COLUMNS": "150"})
    assert res.exit_code == 0, res.output
    assert "CD7-12" in res.output and "last sample" in res.output and "AUC day 0-28" in res.output
    res = runner.invoke(app, ["kinetics", str(EXAMPLE), "--format", "json", "--window", "0", "21"])
    payload = json.loads(res.stdout)
    assert payload["ok"] and payload["options"]["window"] == [0.0, 21.0]
    assert {s["patient_id"] for s in payload["series"]} == {f"CD7-{i:02d}" for i in range(1, 13)}


def test_bad_rows_are_located_and_exit_1(tmp_path):
    path = tmp_path / "kinetics.csv"
    bad = SECTION_13_6.copy()
    bad.loc[2, "value"] = -5
    bad.loc[3, "unit"] = "cells_per_ul"  # qPCR does not report cells/uL
    bad.to_csv(path, index=False)
    res = runner.invoke(app, ["kinetics", str(path)])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "row 4" in res.output and "row 5" in res.output and "UNIT_MISMATCH" in res.output
    res = runner.invoke(app, ["kinetics", str(path), "--format", "json"])
    problems = json.loads(res.stdout)["problems"]
    assert {(p["rule"], p["row"]) for p in problems} >= {("UNIT_MISMATCH", 5)}


def test_usage_problems_exit_2(tmp_path):
    assert runner.invoke(app, ["kinetics", str(tmp_path / "nope.csv")]).exit_code == 2
    path = tmp_path / "kinetics.csv"
    SECTION_13_6.to_csv(path, index=False)
    assert runner.invoke(app, ["kinetics", str(path), "--format", "xml"]).exit_code == 2
    res = runner.invoke(app, ["kinetics", str(path), "--blq", "half"])
    assert res.exit_code == 2 and "--blq 'half'" in res.output  # a bad option value is named
