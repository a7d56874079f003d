"""A corpus of deliberately broken cohorts: each gives the right rule, patient, row and column, and exit code 1.

Every case starts from the valid 8-patient base in conftest (patient P0k on spreadsheet row k + 1) and breaks it in
one place. The expected location is therefore known by construction.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import xlsxwriter
from cohort_builders import PATIENT_HEADERS, D, base_patients, crs_rows, patients_xlsx, rows_of, write_xlsx
from typer.testing import CliRunner

from cart_outcomes.cli import app
from cart_outcomes.cohort import read_cohort
from cart_outcomes.cohort.validate import RULES


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[Path], Path]
    rule: str
    patient: str | None
    row: int | None
    column: str | None
    table: str | None = "patients"


def _edit(pid: str, **changes) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        recs = base_patients()
        for r in recs:
            if r["patient_id"] == pid:
                r.update(changes)
        extra = [k for k in changes if k not in PATIENT_HEADERS]
        return patients_xlsx(tmp / "c.xlsx", recs, headers=[*PATIENT_HEADERS, *extra])
    return build


def _drop_column(col: str) -> Callable[[Path], Path]:
    return lambda tmp: patients_xlsx(tmp / "c.xlsx", headers=[h for h in PATIENT_HEADERS if h != col])


def _empty_xlsx(tmp: Path) -> Path:
    p = tmp / "c.xlsx"
    p.write_bytes(b"")
    return p


def _empty_csv(tmp: Path) -> Path:
    p = tmp / "c.csv"
    p.write_bytes(b"")
    return p


def _wrong_sheets(tmp: Path) -> Path:
    return write_xlsx(tmp / "c.xlsx", {"Patient list": rows_of(base_patients(), PATIENT_HEADERS),
                                       "crs": [["patient_id", "day"], ["P01", 1]]})


def _header_only(tmp: Path) -> Path:
    return write_xlsx(tmp / "c.xlsx", {"patients": [PATIENT_HEADERS]})


def _csv(encoding: str) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        recs = base_patients()
        recs[1]["death_cause"] = "rechute médullaire"
        recs[2]["day28_response"] = "Rémission"
        lines = [",".join(PATIENT_HEADERS)]
        for r in recs:
            lines.append(",".join("" if r.get(h) is None else str(r[h]) for h in PATIENT_HEADERS))
        p = tmp / "c.csv"
        p.write_bytes(("\n".join(lines) + "\n").encode(encoding))
        return p
    return build


def _mixed_dates(tmp: Path) -> Path:
    recs = base_patients()
    recs[0]["last_followup_date"] = "2024-12-01"   # ISO text next to real date cells: fine
    recs[3]["last_followup_date"] = "05/01/2025"   # ambiguous text date
    return patients_xlsx(tmp / "c.xlsx", recs)


def _big(tmp: Path) -> Path:
    """10,000 patients written with xlsxwriter; patient B05000 (row 5001) dies before infusion."""
    p = tmp / "big.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    ws = wb.add_worksheet("patients")
    fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, ["patient_id", "infusion_date", "age_years", "day28_response", "death_date",
                        "last_followup_date"])
    inf = dt.datetime(2023, 1, 1)
    for i in range(1, 10_001):
        ws.write_string(i, 0, f"B{i:05d}")
        ws.write_datetime(i, 1, inf, fmt)
        ws.write_number(i, 2, 20 + i % 50)
        ws.write_string(i, 3, "CR")
        death = inf - dt.timedelta(days=3) if i == 5000 else inf + dt.timedelta(days=100 + i % 300)
        ws.write_datetime(i, 4, death, fmt)
        ws.write_datetime(i, 5, death, fmt)
    wb.close()
    return p


def _with_crs(rows: list[dict]) -> Callable[[Path], Path]:
    return lambda tmp: patients_xlsx(tmp / "c.xlsx", extra={"crs_observations": crs_rows(rows)})


def _obs(**kw) -> dict:
    return {"patient_id": "P01", "day": 1, "temperature_c": 38.5, "hypotension": "no", "vasopressors": 0,
            "oxygen_device": "none", "oxygen_flow_l_min": 0, **kw}


_KIN = ["patient_id", "day", "assay", "value", "unit"]


def _with_sheet(name: str, rows: list[list]) -> Callable[[Path], Path]:
    return lambda tmp: patients_xlsx(tmp / "c.xlsx", extra={name: rows})


def _day_columns(tmp: Path) -> Path:
    recs = []
    for r in base_patients():
        inf = r["infusion_date"]
        recs.append({"patient_id": r["patient_id"],
                     "death_day": (r["death_date"] - inf).days if r.get("death_date") else None,
                     "last_followup_day": (r["last_followup_date"] - inf).days})
    recs[3]["death_day"], recs[3]["last_followup_day"] = -2, -2
    return patients_xlsx(tmp / "c.xlsx", recs, headers=["patient_id", "death_day", "last_followup_day"])


def _date_and_day(tmp: Path) -> Path:
    recs = base_patients()
    for r in recs:
        r["last_followup_day"] = (r["last_followup_date"] - r["infusion_date"]).days
    recs[5]["last_followup_day"] += 1
    return patients_xlsx(tmp / "c.xlsx", recs, headers=[*PATIENT_HEADERS, "last_followup_day"])


def _duplicate_header(tmp: Path) -> Path:
    return patients_xlsx(tmp / "c.xlsx", headers=[*PATIENT_HEADERS, "Age years"])


def _fake_xlsx(tmp: Path) -> Path:
    p = tmp / "c.xlsx"
    p.write_text("this is not a workbook", encoding="utf-8")
    return p


def _ragged_csv(tmp: Path) -> Path:
    p = tmp / "c.csv"
    p.write_text('patient_id,last_followup_day\nA,1\n"B,2\n', encoding="utf-8")
    return p


CASES = [
    Case("missing_required_column", _drop_column("last_followup_date"), "MISSING_COLUMN", None, 1,
         "last_followup_date"),
    Case("missing_infusion_date", _drop_column("infusion_date"), "MISSING_COLUMN", None, 1, "infusion_date"),
    Case("duplicate_id", _edit("P03", patient_id="P02"), "DUPLICATE_ID", "P02", 4, "patient_id"),
    Case("blank_id", _edit("P03", patient_id=None), "BLANK_ID", None, 4, "patient_id"),
    Case("whitespace_id", _edit("P04", patient_id="   "), "BLANK_ID", None, 5, "patient_id"),
    Case("impossible_date", _edit("P02", death_date="2024-02-30"), "BAD_DATE", "P02", 3, "death_date"),
    Case("ambiguous_date", _edit("P02", progression_date="03/04/2024"), "AMBIGUOUS_DATE", "P02", 3,
         "progression_date"),
    Case("excel_serial_number_as_date", _edit("P06", progression_date=45500), "BAD_DATE", "P06", 7,
         "progression_date"),
    Case("bad_number", _edit("P04", age_years="forty"), "BAD_NUMBER", "P04", 5, "age_years"),
    Case("fractional_grade", _edit("P04", crs_grade=1.5), "BAD_NUMBER", "P04", 5, "crs_grade"),
    Case("vocabulary_long_form", _edit("P01", day28_response="Remission of sorts"), "VOCABULARY", "P01", 2,
         "day28_response"),
    Case("vocabulary_typo", _edit("P08", sex="Femal"), "VOCABULARY", "P08", 9, "sex"),
    Case("death_before_infusion", _edit("P07", death_date=D(2024, 1, 3), last_followup_date=D(2024, 1, 3)),
         "BEFORE_INFUSION", "P07", 8, "death_date"),
    Case("progression_after_death", _edit("P02", progression_date=D(2024, 10, 1)), "PROGRESSION_AFTER_DEATH",
         "P02", 3, "progression_date"),
    Case("death_after_last_followup", _edit("P03", death_date=D(2024, 7, 1)), "DEATH_AFTER_LAST_FOLLOWUP", "P03",
         4, "death_date"),
    Case("followup_after_death", _edit("P02", last_followup_date=D(2024, 12, 1)), "LAST_FOLLOWUP_AFTER_DEATH",
         "P02", 3, "last_followup_date"),
    Case("followup_before_event", _edit("P06", last_followup_date=D(2024, 8, 1)), "FOLLOWUP_BEFORE_EVENT", "P06",
         7, "last_followup_date"),
    Case("hsct_after_death", _edit("P02", hsct_date=D(2024, 10, 1), hsct_intent="salvage"), "HSCT_AFTER_DEATH",
         "P02", 3, "hsct_date"),
    Case("consolidative_after_progression",
         _edit("P06", hsct_date=D(2024, 11, 1), hsct_intent="consolidative"),
         "CONSOLIDATIVE_HSCT_AFTER_PROGRESSION", "P06", 7, "hsct_intent"),
    Case("new_therapy_after_death", _edit("P03", new_therapy_date=D(2024, 7, 1)), "EVENT_AFTER_DEATH", "P03", 4,
         "new_therapy_date"),
    Case("blank_last_followup", _edit("P08", last_followup_date=None), "MISSING_VALUE", "P08", 9,
         "last_followup_date"),
    Case("not_a_workbook", _fake_xlsx, "UNREADABLE_FILE", None, None, None, None),
    Case("unterminated_quote_csv", _ragged_csv, "UNREADABLE_FILE", None, None, None, "c"),
    Case("crs_grade_6", _edit("P03", crs_grade=6), "GRADE_RANGE", "P03", 4, "crs_grade"),
    Case("icans_grade_negative", _edit("P01", icans_grade=-1), "GRADE_RANGE", "P01", 2, "icans_grade"),
    Case("cause_without_death", _edit("P04", death_cause="sepsis"), "CAUSE_WITHOUT_DEATH", "P04", 5, "death_cause"),
    Case("implausible_age", _edit("P08", age_years=140), "IMPLAUSIBLE_AGE", "P08", 9, "age_years"),
    Case("best_worse_than_day28", _edit("P01", best_response="PR"), "BEST_WORSE_THAN_DAY28", "P01", 2,
         "best_response"),
    Case("day28_cr_after_death_day14", _edit("P05", day28_response="CR", best_response="CR"),
         "RESPONSE_AFTER_DEATH", "P05", 6, "day28_response"),
    Case("excel_na_cell", _edit("P04", death_date="#N/A"), "EXCEL_ERROR", "P04", 5, "death_date"),
    Case("excel_div0_cell", _edit("P06", age_years="#DIV/0!"), "EXCEL_ERROR", "P06", 7, "age_years"),
    Case("excel_value_cell", _edit("P07", crs_grade="#VALUE!"), "EXCEL_ERROR", "P07", 8, "crs_grade"),
    Case("empty_xlsx", _empty_xlsx, "EMPTY_FILE", None, None, None, None),
    Case("empty_csv", _empty_csv, "EMPTY_FILE", None, None, None, None),
    Case("wrong_sheet_name", _wrong_sheets, "MISSING_TABLE", None, None, None),
    Case("header_only", _header_only, "NO_DATA_ROWS", None, 2, None),
    Case("utf8_csv_accents", _csv("utf-8"), "VOCABULARY", "P03", 4, "day28_response"),
    Case("latin1_csv_accents", _csv("latin-1"), "VOCABULARY", "P03", 4, "day28_response"),
    Case("mixed_date_kinds", _mixed_dates, "AMBIGUOUS_DATE", "P04", 5, "last_followup_date"),
    Case("ten_thousand_patients", _big, "BEFORE_INFUSION", "B05000", 5001, "death_date"),
    Case("day_columns_negative", _day_columns, "BEFORE_INFUSION", "P04", 5, "death_day"),
    Case("date_day_disagree", _date_and_day, "DATE_DAY_MISMATCH", "P06", 7, "last_followup_day"),
    Case("duplicate_header", _duplicate_header, "DUPLICATE_COLUMN", None, 1, "Age years"),
    Case("crs_unknown_patient", _with_crs([_obs(), _obs(patient_id="P99")]), "UNKNOWN_PATIENT", "P99", 3,
         "patient_id", "crs_observations"),
    Case("crs_temperature_implausible", _with_crs([_obs(), _obs(day=2, temperature_c=55)]), "OUT_OF_RANGE",
         "P01", 3, "temperature_c", "crs_observations"),
    Case("crs_before_infusion", _with_crs([_obs(day=-1)]), "BEFORE_INFUSION", "P01", 2, "day",
         "crs_observations"),
    Case("crs_bad_boolean", _with_crs([_obs(hypotension="maybe")]), "BAD_BOOLEAN", "P01", 2, "hypotension",
         "crs_observations"),
    Case("crs_bad_device", _with_crs([_obs(oxygen_device="nasal canula")]), "VOCABULARY", "P01", 2,
         "oxygen_device", "crs_observations"),
    Case("crs_after_death", _with_crs([_obs(patient_id="P05", day=20)]), "OBSERVATION_AFTER_DEATH", "P05", 2,
         "day", "crs_observations"),
    Case("neuro_ice_over_10", _with_sheet("neuro_assessments", [["patient_id", "day", "ice_score"], ["P01", 3, 12]]),
         "OUT_OF_RANGE", "P01", 2, "ice_score", "neuro_assessments"),
    Case("adverse_event_grade_0",
         _with_sheet("adverse_events", [["patient_id", "term", "grade", "onset_day"], ["P02", "sepsis", 0, 9]]),
         "GRADE_RANGE", "P02", 2, "grade", "adverse_events"),
    Case("kinetics_flow_in_copies", _with_sheet("kinetics", [_KIN, ["P01", 7, "flow", 120.0, "copies_per_ug_dna"]]),
         "UNIT_MISMATCH", "P01", 2, "unit", "kinetics"),
    Case("kinetics_percent_over_100", _with_sheet("kinetics", [_KIN, ["P01", 7, "qpcr", 900.0, "copies_per_ug_dna"],
                                                                ["P02", 9, "flow", 140.0, "percent_of_cd3"]]),
         "UNIT_MISMATCH", "P02", 3, "value", "kinetics"),
    Case("kinetics_blank_value_not_blq",
         _with_sheet("kinetics", [_KIN, ["P04", 14, "ddpcr", None, "copies_per_ug_dna"]]),
         "MISSING_VALUE", "P04", 2, "value", "kinetics"),
    Case("kinetics_negative_value", _with_sheet("kinetics", [_KIN, ["P04", 14, "qpcr", -3.0, "copies_per_ug_dna"]]),
         "OUT_OF_RANGE", "P04", 2, "value", "kinetics"),
    Case("kinetics_unknown_assay", _with_sheet("kinetics", [_KIN, ["P06", 14, "elisa", 3.0, "copies_per_ug_dna"]]),
         "VOCABULARY", "P06", 2, "assay", "kinetics"),
    Case("response_assessment_after_death",
         _with_sheet("response_assessments", [["patient_id", "day", "response"], ["P05", 28, "CR"]]),
         "RESPONSE_AFTER_DEATH", "P05", 2, "day", "response_assessments"),
]


def _find(problems: list[dict], case: Case) -> dict:
    hits = [p for p in problems if p["rule"] == case.rule]
    assert hits, f"{case.id}: no {case.rule} among {[p['rule'] for p in problems]}"
    return hits[0]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_broken_cohort_is_located_and_exits_1(case: Case, tmp_path: Path) -> None:
    path = case.build(tmp_path)
    result = CliRunner().invoke(app, ["validate", str(path), "--format", "json"])
    assert "Traceback" not in result.output
    assert result.exit_code == 1, result.output
    problems = json.loads(result.stdout)
    p = _find(problems, case)
    assert p["severity"] == "error"
    assert (p["patient_id"], p["row"], p["column"], p["table"]) == (case.patient, case.row, case.column, case.table)
    assert set(p) >= {"rule", "severity", "patient_id", "row", "column", "value", "message"}
    assert all(q["severity"] == RULES[q["rule"]][0] for q in problems)


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 25


def test_text_output_of_a_broken_cohort_has_no_traceback(tmp_path: Path) -> None:
    path = _edit("P07", death_date=D(2024, 1, 3), last_followup_date=D(2024, 1, 3))(tmp_path)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "BEFORE_INFUSION" in result.output and "Traceback" not in result.output


def test_all_problems_are_collected_not_just_the_first(tmp_path: Path) -> None:
    recs = base_patients()
    recs[0]["crs_grade"] = 9
    recs[3]["sex"] = "Mal "
    recs[5]["death_date"] = D(2023, 1, 1)
    recs[6]["age_years"] = "#N/A"
    report = read_cohort(patients_xlsx(tmp_path / "c.xlsx", recs)).report
    found = {(p.rule, p.patient_id) for p in report.errors}
    assert {("GRADE_RANGE", "P01"), ("VOCABULARY", "P04"), ("BEFORE_INFUSION", "P06"),
            ("EXCEL_ERROR", "P07")} <= found


def test_message_names_the_dates_as_in_the_style_guide(tmp_path: Path) -> None:
    path = _edit("P07", death_date=D(2024, 1, 3), last_followup_date=D(2024, 1, 3))(tmp_path)
    p = next(p for p in read_cohort(path).report.errors if p.column == "death_date")
    assert str(p) == ("[BEFORE_INFUSION] patient P07 (row 8), column 'death_date': 2024-01-03 is before "
                      "infusion_date 2024-02-10")


def test_vocabulary_suggests_the_closest_value(tmp_path: Path) -> None:
    q = next(iter(read_cohort(_edit("P01", day28_response="CRR")(tmp_path)).report.errors))
    assert "did you mean 'CR'" in q.message and q.value == "CRR"


def test_wrong_sheet_name_suggests_table(tmp_path: Path) -> None:
    report = read_cohort(_wrong_sheets(tmp_path)).report
    unknown = [p for p in report.warnings if p.rule == "UNKNOWN_SHEET"]
    assert {p.table for p in unknown} == {"Patient list", "crs"}
    assert "did you mean 'patients'" in next(p for p in unknown if p.table == "Patient list").message


def test_latin1_value_is_reported_with_its_accent(tmp_path: Path) -> None:
    for enc in ("utf-8", "latin-1"):
        c = read_cohort(_csv(enc)(tmp_path))
        assert next(p for p in c.report.errors if p.rule == "VOCABULARY").value == "Rémission"
        assert c.patients.loc[1, "death_cause"] == "rechute médullaire"


def test_warnings_alone_exit_0(tmp_path: Path) -> None:
    path = patients_xlsx(tmp_path / "c.xlsx", headers=[*PATIENT_HEADERS, "cd7_expression"])
    result = CliRunner().invoke(app, ["validate", str(path), "--format", "json"])
    assert result.exit_code == 0
    assert [p["rule"] for p in json.loads(result.stdout)] == ["UNKNOWN_COLUMN"]


@pytest.mark.parametrize("changes,rule,column", [
    ({"hsct_intent": "salvage"}, "HSCT_INTENT_WITHOUT_HSCT", "hsct_intent"),
    ({"hsct_date": D(2024, 6, 1)}, "HSCT_WITHOUT_INTENT", "hsct_date"),
    ({"cr_date": D(2024, 4, 1), "best_response": "PR", "day28_response": "PR"}, "CR_DATE_WITHOUT_CR", "cr_date"),
    ({"cr_date": D(2024, 6, 1), "progression_date": D(2024, 5, 1)}, "PROGRESSION_BEFORE_CR", "cr_date"),
])
def test_consistency_warnings_do_not_block(tmp_path: Path, changes: dict, rule: str, column: str) -> None:
    report = read_cohort(_edit("P04", **changes)(tmp_path)).report
    assert report.ok, str(report)
    [w] = report.warnings
    assert (w.rule, w.severity, w.patient_id, w.row, w.column) == (rule, "warning", "P04", 5, column)


def test_unnamed_column_with_values_is_a_warning(tmp_path: Path) -> None:
    rows = rows_of(base_patients(), PATIENT_HEADERS)
    rows[0].append(None)
    rows[1].append("stray note")
    [w] = read_cohort(write_xlsx(tmp_path / "c.xlsx", {"patients": rows})).report.problems
    assert (w.rule, w.severity, w.row, w.column) == ("UNNAMED_COLUMN", "warning", 1, "Q")
