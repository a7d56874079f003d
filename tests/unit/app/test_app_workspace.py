"""The app's session work without a browser: loading, refusing, mapping, problems, plan and zip."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest
import yaml

from cart_outcomes.app import workspace
from cart_outcomes.app.workspace import AnalysisChoices, Workspace, group_problems
from cart_outcomes.errors import InputError


@pytest.fixture
def ws():
    w = Workspace()
    yield w
    w.close()
    assert not w.folder.exists()


def _sheet(path):
    pd.DataFrame({"Pt ID": ["P1", "P2", "P3"], "Date of CAR-T": ["13/01/2024", "02/02/2024", "20/03/2024"],
                  "Gender": ["Male", "Female", "Male"], "Last news": ["13/06/2024", "01/05/2024", "20/09/2024"],
                  "Date of death": [None, "01/05/2024", None]}).to_csv(path, index=False)


def test_load_takes_inits_guesses_and_an_unmapped_header_is_a_located_problem(ws, tmp_path):
    _sheet(tmp_path / "ward.csv")
    ws.load(tmp_path / "ward.csv", "ward.csv")
    assert ws.sheet == ws.folder / "ward.csv"
    assert ws.columns["Pt ID"] == "patient_id" and ws.columns["Last news"] is None
    assert ws.values["sex"] == {"Male": "M", "Female": "F"}
    assert ws.date_format == "%d/%m/%Y"  # 13/01/2024 can only be day-first
    groups = group_problems(ws.problems())
    missing = next(g for g in groups if g["rule"] == "MISSING_COLUMN")
    assert missing["severity"] == "error" and missing["column"] == "last_followup_date"
    ws.columns["Last news"] = "last_followup_date"
    assert not [p for p in ws.problems() if p.severity == "error"]


def test_the_plan_holds_the_corrections_and_choices(ws, tmp_path):
    _sheet(tmp_path / "ward.csv")
    ws.load(tmp_path / "ward.csv", "ward.csv")
    ws.columns["Last news"] = "last_followup_date"
    ws.values["sex"]["Female"] = ""  # emptied: checked as written
    plan = ws.plan_dict(AnalysisChoices(endpoints=("os",), time_unit="months", rates_at=(365.25,)),
                        deidentify=True)
    assert plan["data"]["columns"]["Last news"] == "last_followup_date"
    assert plan["data"]["values"] == {"sex": {"Male": "M"}}
    assert plan["analyses"] == [{"endpoint": "os", "rates_at": [365.25]}]
    assert plan["statistics"]["time_unit"] == "months" and plan["report"] == {"deidentify": True}
    assert "comparisons" not in plan  # no HSCT date in the sheet
    written = ws.write_plan(AnalysisChoices())
    assert yaml.safe_load(written.read_text())["data"]["source"] == "ward.csv"


def test_refuses_other_types_large_files_and_unreadable_sheets(ws, tmp_path, monkeypatch):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(InputError, match="xlsx"):
        ws.load(tmp_path / "notes.txt", "notes.txt")
    big = tmp_path / "big.csv"
    big.write_bytes(b"a\n" * 700_000)
    monkeypatch.setattr(workspace, "MAX_UPLOAD_MB", 1)
    with pytest.raises(InputError, match="larger than 1 MB"):
        ws.load(big, "big.csv")
    (tmp_path / "broken.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(InputError):
        ws.load(tmp_path / "broken.xlsx", "broken.xlsx")


def test_a_browser_file_name_is_never_a_path(ws, tmp_path):
    _sheet(tmp_path / "ward.csv")
    ws.load(tmp_path / "ward.csv", "..\\..\\ward.csv")
    assert ws.sheet == ws.folder / "ward.csv"


@pytest.mark.slow
def test_deidentified_zip_has_no_patient_ids(ws, tmp_path):
    from cart_outcomes.plan.demo import demo_plan_path

    sheet = demo_plan_path().parent / "patients.csv"
    ws.load(sheet, sheet.name)
    ws.run(AnalysisChoices(), deidentify=True)
    archive = zipfile.ZipFile(io.BytesIO(ws.zip_bytes(deidentify=True)))
    assert "study-deidentified.yaml" in archive.namelist()
    assert "CD7-01" not in archive.read("results.json").decode()
    assert "CD7-01" not in archive.read("report.html").decode()
