"""`cart-outcomes grade crs|icans|icaht FILE`: per-patient output, JSON, located errors (exit 1), usage (exit 2)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from cart_outcomes.cli import app

runner = CliRunner()


def crs_rows():
    base = dict(hypotension=False, vasopressors=0, vasopressin=False, oxygen_device="none", oxygen_flow_l_min=None,
                anticytokine_or_antipyretic=False, other_cause=False, crs_death=False)
    return [dict(base, patient_id="P1", day=1, temperature_c=38.0),
            dict(base, patient_id="P2", day=2, temperature_c=39.5, hypotension=True, vasopressors=1)]


@pytest.fixture
def crs_csv(tmp_path):
    p = tmp_path / "crs.csv"
    pd.DataFrame(crs_rows()).to_csv(p, index=False)
    return p


def test_text_output_lists_each_patient(crs_csv):
    res = runner.invoke(app, ["grade", "crs", str(crs_csv)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "P1" in res.output and "P2" in res.output and "crs.g3" in res.output
    assert "Lee DW" in res.output


def test_json_output(crs_csv):
    res = runner.invoke(app, ["grade", "crs", str(crs_csv), "--format", "json"])
    assert res.exit_code == 0
    payload = json.loads(res.output)
    grades = {p["patient_id"]: p["max_grade"] for p in payload["patients"]}
    assert grades == {"P1": 1, "P2": 3} and payload["system"] == "ASTCT2019"


def test_xlsx_sheet(tmp_path):
    p = tmp_path / "cohort.xlsx"
    with pd.ExcelWriter(p) as w:
        pd.DataFrame(crs_rows()).to_excel(w, sheet_name="crs_observations", index=False)
    res = runner.invoke(app, ["grade", "crs", str(p), "--format", "json"])
    assert res.exit_code == 0 and json.loads(res.output)["patients"][1]["max_grade"] == 3
    res = runner.invoke(app, ["grade", "icans", str(p)])
    assert res.exit_code == 1 and "neuro_assessments" in res.output


def test_bad_observations_exit_1_with_located_errors(tmp_path):
    rows = crs_rows()
    rows[0]["temperature_c"] = 380
    rows[1]["oxygen_device"] = "nasal canula"
    p = tmp_path / "bad.csv"
    pd.DataFrame(rows).to_csv(p, index=False)
    res = runner.invoke(app, ["grade", "crs", str(p)])
    assert res.exit_code == 1
    assert "[OUT_OF_RANGE] table 'crs_observations', patient P1 (row 2), column 'temperature_c'" in res.output
    assert "did you mean 'nasal_cannula'" in res.output
    assert "Traceback" not in res.output


def test_icaht_from_csv(tmp_path):
    p = tmp_path / "labs.csv"
    pd.DataFrame([dict(patient_id="P1", day=d, anc_per_ul=300 if 3 <= d <= 8 else 2000) for d in range(31)]).to_csv(
        p, index=False)
    res = runner.invoke(app, ["grade", "icaht", str(p), "--format", "json"])
    assert res.exit_code == 0 and json.loads(res.output)["patients"][0]["early_grade"] == 1


@pytest.mark.parametrize("args", [["grade", "ae", "x.csv"], ["grade", "crs", "does-not-exist.csv"],
                                  ["grade", "crs", "x.csv", "--format", "yaml"]])
def test_usage_problems_exit_2(args, tmp_path):
    if args[2] == "x.csv":
        (tmp_path / "x.csv").write_text("a\n1\n")
        args = [*args[:2], str(tmp_path / "x.csv"), *args[3:]]
    res = runner.invoke(app, args)
    assert res.exit_code == 2 and "Traceback" not in res.output


def test_whole_cohort_workbook_is_read_and_validated(tmp_path):
    # a workbook with a patients sheet goes through the cohort reader (dates -> days, schema validation)
    p = tmp_path / "cohort.xlsx"
    patients = pd.DataFrame({"patient_id": ["P1", "P2"], "infusion_date": ["2024-01-01", "2024-02-01"],
                             "age_years": [30, 40], "last_followup_day": [100, 200]})
    with pd.ExcelWriter(p) as w:
        patients.to_excel(w, sheet_name="patients", index=False)
        pd.DataFrame(crs_rows()).to_excel(w, sheet_name="crs_observations", index=False)
    res = runner.invoke(app, ["grade", "crs", str(p), "--format", "json"])
    assert res.exit_code == 0, res.output
    assert [q["max_grade"] for q in json.loads(res.output)["patients"]] == [1, 3]
    with pd.ExcelWriter(p) as w:
        patients.drop(columns="last_followup_day").to_excel(w, sheet_name="patients", index=False)
        pd.DataFrame(crs_rows()).to_excel(w, sheet_name="crs_observations", index=False)
    res = runner.invoke(app, ["grade", "crs", str(p)])
    assert res.exit_code == 1 and "MISSING_COLUMN" in res.output
