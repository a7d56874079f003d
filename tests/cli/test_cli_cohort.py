"""The validate and template commands: exit codes 0/1/2, JSON shape, and no traceback on bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from cart_outcomes.cli import app
from cart_outcomes.cohort import read_cohort
from cart_outcomes.cohort.schema import TABLES

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "example-cohort.xlsx"
runner = CliRunner()


def test_example_cohort_is_valid() -> None:
    result = runner.invoke(app, ["validate", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.output
    result = runner.invoke(app, ["validate", str(EXAMPLE), "--format", "json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == []


def test_example_cohort_regenerates_identically(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        import make_example_cohort
    finally:
        sys.path.pop(0)
    fresh = read_cohort(make_example_cohort.main(tmp_path / "again.xlsx"))
    committed = read_cohort(EXAMPLE)
    for name in committed.tables:
        pd.testing.assert_frame_equal(fresh.tables[name], committed.tables[name])
    assert len(committed.patients) == 20 and {"crs_observations", "neuro_assessments"} <= set(committed.tables)


def test_template_workbook(tmp_path: Path) -> None:
    path = tmp_path / "entry.xlsx"
    result = runner.invoke(app, ["template", str(path)])
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [*TABLES, "dictionary"]
    ws = wb["patients"]
    headers = [c.value for c in ws[1]]
    assert headers[:2] == ["patient_id", "infusion_date"] and "death_day" not in headers
    lists = [dv.formula1 for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert '"CR,CRi,CRh,PR,SD,NR,PD,NE"' in lists and '"consolidative,salvage"' in lists
    col = headers.index("death_date") + 1
    assert ws.column_dimensions[openpyxl.utils.get_column_letter(col)].number_format == "yyyy-mm-dd"
    assert [c.value for c in wb["crs_observations"][1]][:2] == ["patient_id", "day"]
    assert wb["dictionary"].max_row == 1 + sum(len(t.columns) for t in TABLES.values())
    # Read back: the empty template only lacks patients.
    report = read_cohort(path).report
    assert [p.rule for p in report.problems] == ["NO_DATA_ROWS"]


def test_template_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "x.xlsx").write_bytes(b"keep me")
    for args in (["template", str(tmp_path / "x.xlsx")], ["template", str(tmp_path / "x.csv")],
                 ["template", str(tmp_path / "no" / "x.xlsx")]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and "Traceback" not in result.output
    assert (tmp_path / "x.xlsx").read_bytes() == b"keep me"


def test_validate_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "c.txt").write_text("x")
    cases = [["validate", str(tmp_path / "missing.xlsx")], ["validate", str(tmp_path / "c.txt")],
             ["validate", str(EXAMPLE), "--format", "xml"], ["validate"],
             ["validate", str(EXAMPLE), "--plan", str(tmp_path / "nope.yaml")]]
    for args in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output


def test_validate_with_plan_mapping(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Cohort"
    ws.append(["ID", "CAR-T date", "Last seen", "D28"])
    ws.append(["X1", "10/01/2024", "01/06/2024", "Complete remission"])
    wb.save(tmp_path / "mine.xlsx")
    plan = tmp_path / "study.yaml"
    plan.write_text("data:\n  source: mine.xlsx\n  date_format: '%d/%m/%Y'\n  columns:\n    ID: patient_id\n"
                    "    CAR-T date: infusion_date\n    Last seen: last_followup_date\n    D28: day28_response\n"
                    "  values:\n    day28_response: {Complete remission: CR}\n", encoding="utf-8")
    assert runner.invoke(app, ["validate", "--plan", str(plan)]).exit_code == 0
    assert runner.invoke(app, ["validate", str(tmp_path / "mine.xlsx")]).exit_code == 1
    plan.write_text("data:\n  columns:\n    ID: identifier\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(tmp_path / "mine.xlsx"), "--plan", str(plan)])
    assert result.exit_code == 2 and "identifier" in result.output


def test_help_does_not_import_pandas() -> None:
    code = "import sys, cart_outcomes.cli; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(ROOT / "src")})
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("args", [["--help"], ["validate", "{seed}/patients.csv"], ["init", "{tmp}/patients.csv"]])
def test_help_validate_and_init_never_import_matplotlib(args, tmp_path) -> None:
    """The commands that draw nothing stay fast: matplotlib (about a third of a second to import) is never loaded."""
    shutil.copy(ROOT / "examples" / "cd7-tall" / "patients.csv", tmp_path / "patients.csv")
    argv = [a.format(seed=ROOT / "examples" / "cd7-tall", tmp=tmp_path) for a in args]
    code = ("import sys\nfrom cart_outcomes.cli import app\nsys.argv = ['cart-outcomes', *sys.argv[1:]]\n"
            "try:\n    app()\nexcept SystemExit as exit:\n    assert exit.code in (0, None), exit.code\n"
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(ROOT / "src")}, cwd=tmp_path)
    assert out.stdout.strip().splitlines()[-1] == "False"
