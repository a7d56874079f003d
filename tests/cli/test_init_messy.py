"""From a clinician's own sheet to a correct report in two commands, with no edit of sheet or plan.

The sheets in tests/fixtures/messy/ (made by make_messy_sheets.py from the same 24 patients) go through
``cart-outcomes init`` then ``cart-outcomes run``; every number is compared with R survival/cmprsk on the canonical
truth of those patients (tests/reference/messy_sheets.R -> messy_sheets.json).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from tests.unit.cohort.cohort_builders import centre_sheet_init_cannot_read
from typer.testing import CliRunner

from cart_outcomes.cli import app

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "messy"
R = json.loads((ROOT / "tests" / "reference" / "messy_sheets.json").read_text())
CLOSED = 1e-10
SHEETS = ["centre_title_row.xlsx", "centre_semicolon_latin1.csv", "centre_two_sheets.xlsx"]


def _init_and_run(tmp_path: Path, name: str) -> tuple[str, str, dict]:
    shutil.copy(FIXTURES / name, tmp_path / name)
    runner = CliRunner()
    init = runner.invoke(app, ["init", str(tmp_path / name)])
    assert init.exit_code == 0, init.output
    run = runner.invoke(app, ["run", str(tmp_path / "study.yaml"), "--quiet"])
    assert run.exit_code == 0, run.output
    assert run.output.strip().splitlines()[-1] == f"open the report: {tmp_path / 'study-report' / 'report.html'}"
    return name, init.output, json.loads((tmp_path / "study-report" / "results.json").read_text())


def _rate(groups: list[dict], t: float) -> dict:
    [g] = groups
    return next(r for r in g["rates"] if r["time"] == t)


@pytest.fixture(scope="module", params=SHEETS)
def ran(request, tmp_path_factory):
    return _init_and_run(tmp_path_factory.mktemp("messy"), request.param)


def test_numbers_equal_R_with_no_edit(ran):
    _, _, res = ran
    assert res["input"]["n_patients"] == R["n"]
    orr = next(r for r in res["response"] if r["measure"] == "overall_response")
    assert (orr["responders"], orr["n"]) == (R["orr"]["responders"], R["orr"]["n"])
    for k in ("estimate", "lower", "upper"):
        assert orr[k] == pytest.approx(R["orr"][k], rel=CLOSED)
    surv = {s["endpoint"]: s for s in res["survival"]}
    for ep in ("os", "pfs"):
        [g] = surv[ep]["groups"]
        assert (g["n"], g["events"], g["median"], g["lower"], g["upper"]) == (
            R[ep]["n"], R[ep]["events"], R[ep]["median"], R[ep]["median_lower"], R[ep]["median_upper"])
        year = _rate(surv[ep]["groups"], 365.25)
        for mine, theirs in (("survival", "at_12m"), ("lower", "at_12m_lower"), ("upper", "at_12m_upper")):
            assert year[mine] == pytest.approx(R[ep][theirs], rel=CLOSED)
    for ep in ("cir", "nrm"):
        year = _rate(surv[ep]["groups"], 365.25)
        assert year["estimate"] == pytest.approx(R[f"{ep}_12m"], rel=CLOSED)
        assert year["std_err_cmprsk"] ** 2 == pytest.approx(R[f"{ep}_12m_var"], rel=CLOSED)
    naive = {c["endpoint"]: c["naive"]["logrank"] for c in res["comparisons"]}
    for ep in ("os", "pfs"):
        assert naive[ep]["p"] == pytest.approx(R["hsct_responders"][ep]["p"], rel=CLOSED)
    crs = {d["category"]: d for d in res["toxicity"]["crs"]["distribution"]}
    for mine, theirs in (("any_grade", "crs_any"), ("grade_3_or_higher", "crs_grade3")):
        assert crs[mine]["n"] == R[theirs]["n"]
        assert (crs[mine]["lower"], crs[mine]["upper"]) == pytest.approx((R[theirs]["lower"], R[theirs]["upper"]),
                                                                          rel=CLOSED)


def test_every_assumption_is_in_data_quality(ran):
    _, _, res = ran
    rules = {w["rule"] for w in res["data_quality"]["warnings"]}
    assert {"FOLLOWUP_AT_DEATH", "BEST_RESPONSE_FROM_DAY28", "ASSESSMENT_AT_NOMINAL_DAY",
            "DISEASE_DEATH_AS_PROGRESSION"} <= rules
    disease = next(w for w in res["data_quality"]["warnings"] if w["rule"] == "DISEASE_DEATH_AS_PROGRESSION")
    assert disease["patients"] == ["117", "118", "119", "120", "121", "122"]  # the primary-refractory deaths


def test_every_guess_of_init_reaches_the_report(ran):
    name, _, res = ran
    notes = res["data_quality"]["assumptions"]
    assert all(n["stated"] for n in notes)  # init wrote each one into the plan: the run read them from there
    columns = {n["header"]: (n["read_as"], n["evidence"]) for n in notes if n["kind"] == "column"}
    assert columns["Cause of death"] == ("death_cause", "clinical wording of death_cause")
    values = {(n["column"], n["value"]): (n["read_as"], n["n_cells"]) for n in notes if n["kind"] == "value"}
    assert values[("sex", "Male")][0] == "M"
    assert sum(n for (col, _), (_, n) in values.items() if col == "sex") == R["n"]  # every Male/Female cell
    kinds = {n["kind"] for n in notes}
    if name == "centre_two_sheets.xlsx":  # date cells need no date order; the daily sheet is named in the plan
        assert "date_format" not in kinds
        [sheet] = [n for n in notes if n["kind"] == "table"]
        assert (sheet["header"], sheet["read_as"]) == ("CRS daily", "crs_observations")
    else:
        [date] = [n for n in notes if n["kind"] == "date_format"]
        assert date["read_as"] == "%d/%m/%Y" and "can only be read day-first" in date["evidence"]
        day = int(date["evidence"].split("'")[1].split("/")[0])
        assert day > 12  # the quoted cell proves the order
    if name == "centre_title_row.xlsx":
        [header] = [n for n in notes if n["kind"] == "header_row"]
        assert header["read_as"] == "3" and "title" in header["evidence"]
    if name == "centre_semicolon_latin1.csv":
        assert "decimal" in kinds


def test_init_says_what_it_guessed(ran):
    name, out, res = ran
    assert "'Cause of death' -> death_cause" in out
    if name == "centre_two_sheets.xlsx":  # date cells; the daily sheet is recognised and graded
        assert "sheet 'CRS daily' -> crs_observations" in out
        assert "'Vasopressors' -> vasopressor_names" in out and "'O2' -> oxygen" in out
        assert res["toxicity"]["crs"]["basis"] == "graded from crs_observations (ASTCT2019)"
        assert "CRS_FROM_BEDSIDE" in {w["rule"] for w in res["data_quality"]["warnings"]}
    else:  # DD/MM/YYYY text, extra columns kept; pre-graded CRS without a stated system
        assert "dates read as %d/%m/%Y" in out and "'LDH' -> unmapped" in out
        assert res["toxicity"]["crs"]["systems"] == ["grading system not stated"]
        unstated = next(w for w in res["data_quality"]["warnings"] if w["rule"] == "GRADING_SYSTEM_NOT_STATED")
        assert len(unstated["patients"]) == 24


def test_run_given_a_spreadsheet_says_run_init_first():
    result = CliRunner().invoke(app, ["run", str(FIXTURES / "centre_title_row.xlsx")])
    assert result.exit_code == 2
    assert "is a data file" in result.output and "cart-outcomes init" in result.output
    assert "Traceback" not in result.output


def test_a_sheet_init_cannot_fully_read_takes_one_edit_of_the_plan(tmp_path: Path) -> None:
    """French sex words, grades 'Grade 2-3'/'mild' and a death-date header no synonym names: init, run (one
    line per cause, the lines to paste), one edit of study.yaml with those lines, run: 3 commands, 0 sheet edits."""
    sheet = centre_sheet_init_cannot_read(tmp_path / "centre.xlsx")
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(sheet)]).exit_code == 0
    plan = tmp_path / "study.yaml"
    assert '"Histology": "diagnosis"' in plan.read_text()  # its cells are diagnoses, so init maps it ('check')
    first = runner.invoke(app, ["run", str(plan), "--quiet"])
    assert first.exit_code == 1  # data problems, not a plan error: init's unfilled lines are commented, not null
    assert sum(line.startswith("error: ") for line in first.output.splitlines()) == 4
    assert '"Deceased (date)": "death_date"' in first.output
    answers = {"Masculin": "M", "Féminin": "F", "Grade 2-3": "3", "mild": "1"}  # the clinician's answers
    text = plan.read_text().replace("    # sex:", "    sex:")
    for raw, canon in answers.items():
        text = re.sub(rf'# "{raw}": \?.*', f'"{raw}": "{canon}"', text)
    text = text.replace('    # "Deceased (date)": unmapped', '    "Deceased (date)": "death_date"  # unmapped')
    plan.write_text(text)
    second = runner.invoke(app, ["run", str(plan), "--quiet"])
    assert second.exit_code == 0, second.output
    res = json.loads((tmp_path / "study-report" / "results.json").read_text())
    disease = next(w for w in res["data_quality"]["warnings"] if w["rule"] == "DISEASE_DEATH_AS_PROGRESSION")
    assert disease["patients"] == ["P01", "P05", "P09", "P13", "P17", "P21"]  # died of progression: never NRM
