"""A clinician's own sheet read as it is: title rows, clinical headers, English wordings, ';' Latin-1 CSV."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.unit.cohort.cohort_builders import D, write_xlsx

from cart_outcomes.cohort import read_cohort
from cart_outcomes.cohort.mapping import DataMapping, grade_from_text, mapping_from_dict, synonym_column
from cart_outcomes.errors import InputError

HEADERS = ["Pt ID", "Date of CAR-T", "Sex", "dx", "D28 response", "Date of death", "Cause of death", "Last FU",
           "CRS grade"]
ROWS = [
    ["A1", D(2023, 1, 19), "Male", "T-ALL", "complete remission", None, None, D(2023, 9, 1), "Grade 2"],
    ["A2", D(2023, 2, 3), "Female", "T-LBL", "CR MRD-", None, None, D(2023, 8, 1), "G1"],
    ["A3", D(2023, 3, 7), "Female", "T-ALL", "not done", D(2023, 3, 20), "Progression", None, "none"],
]


def test_title_rows_clinical_headers_and_english_wordings(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "c.xlsx", {"Sheet1": [["CAR-T cohort, centre X"], [], HEADERS, *ROWS]})
    c = read_cohort(path)
    assert c.report.ok, str(c.report)
    p = c.patients
    assert p["source_row"].tolist() == [4, 5, 6]  # header found on row 3, under the title
    assert p["sex"].tolist() == ["M", "F", "F"]
    assert p["day28_response"].tolist() == ["CR", "CR", "NE"]
    assert p["crs_grade"].tolist() == [2, 1, 0]
    assert p["death_day"].iat[2] == 13 and p["last_followup_day"].iloc[:2].tolist() == [225, 179]


def test_header_row_option(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "c.xlsx", {"Sheet1": [["Cohort"], ["note", "x", "y"], HEADERS, *ROWS]})
    assert read_cohort(path, DataMapping(header_row=3)).report.ok
    assert not read_cohort(path, DataMapping(header_row=2)).report.ok


def test_semicolon_latin1_crlf_csv_with_decimal_commas(tmp_path: Path) -> None:
    text = ("Cohorte CAR-T\r\n"
            "Pt ID;Date of CAR-T;Age;Sex;D28 response;Last FU\r\n"
            "B1;19/01/2023;34,5;Female;rémission complète;01/09/2023\r\n"
            "B2;03/02/2023;61,0;Male;partial remission;01/08/2023\r\n")
    path = tmp_path / "c.csv"
    path.write_bytes(text.encode("latin-1"))
    c = read_cohort(path, DataMapping(decimal=",", values={"day28_response": {"rémission complète": "CR"}}))
    assert c.report.ok, str(c.report)
    assert c.patients["age_years"].tolist() == [34.5, 61.0]
    assert c.patients["day28_response"].tolist() == ["CR", "PR"]
    assert c.patients["last_followup_day"].tolist() == [225, 179]  # 19/01 proves day-first
    bad = read_cohort(path, DataMapping(values={"day28_response": {"rémission complète": "CR"}}))
    [p] = [p for p in bad.report.errors if p.rule == "BAD_NUMBER"][:1]
    assert "data.decimal" in p.message


def test_values_recode_grades_too(tmp_path: Path) -> None:
    rows = [[*r[:8], "moderate"] for r in ROWS]
    path = write_xlsx(tmp_path / "c.xlsx", {"Sheet1": [HEADERS, *rows]})
    assert not read_cohort(path).report.ok
    c = read_cohort(path, mapping_from_dict({"values": {"crs_grade": {"moderate": 2}}}))
    assert c.report.ok, str(c.report)
    assert c.patients["crs_grade"].tolist() == [2, 2, 2]


def test_yaml_no_is_explained() -> None:
    with pytest.raises(InputError, match=r"'prior_hsct: nein': an unquoted no, false, off was read by YAML as the "
                                         r"boolean false, not as text: quote it \(\"no\"\)"):
        mapping_from_dict({"values": {"prior_hsct": {"nein": False}}})
    with pytest.raises(InputError, match=r"the key in 'day28_response: no': an unquoted no"):
        mapping_from_dict({"values": {"day28_response": {False: "NR"}}})


@pytest.mark.parametrize(("column", "recode", "why"), [
    ("sex", {"Man": "Q"}, "'Q' is not a value of sex (allowed: M, F, other)"),
    ("crs_grade", {"moderate": "two"}, "crs_grade holds whole numbers, so the new value must be one"),
    ("prior_hsct", {"oui": "maybe"}, "prior_hsct holds yes/no, so the new value must be yes or no"),
])
def test_a_recode_the_column_can_never_hold_is_refused(column, recode, why) -> None:
    with pytest.raises(InputError, match=re.escape(why)):
        mapping_from_dict({"values": {column: recode}})


def test_recode_matches_number_cells_and_unused_keys_are_said(tmp_path: Path) -> None:
    rows = [[*r[:8], g] for r, g in zip(ROWS, [5, 1, "none"], strict=True)]  # 5 typed as a number cell
    path = write_xlsx(tmp_path / "c.xlsx", {"Sheet1": [HEADERS, *rows]})
    c = read_cohort(path, mapping_from_dict({"values": {"crs_grade": {"5": 4, "Grade 9": 3},
                                                        "icans_grade": {"G1": 1}}}))
    assert c.patients["crs_grade"].tolist() == [4, 1, 0]
    unused = [(p.column, p.value) for p in c.report.warnings if p.rule == "UNUSED_RECODE"]
    assert sorted(unused, key=str) == [("CRS grade", "Grade 9"), ("icans_grade", None)]


@pytest.mark.parametrize(("text", "grade"), [("Grade 2", 2), ("G1", 1), ("gr. 3", 3), ("III", 3), ("none", 0),
                                             ("no", 0), ("4", 4), ("moderate", None), ("Grade 7", None)])
def test_grade_words(text, grade):
    assert grade_from_text(text) == grade


@pytest.mark.parametrize(("header", "column"), [
    ("Date of CAR-T", "infusion_date"), ("Infusion date", "infusion_date"), ("D28 response", "day28_response"),
    ("alloHSCT date", "hsct_date"), ("Last FU", "last_followup_date"), ("Date last contact", "last_followup_date"),
    ("Pt ID", "patient_id"), ("dx", "diagnosis"), ("Date of death", "death_date"), ("Cause of death", "death_cause"),
    ("Comments", None), ("LDH", None),
])
def test_header_synonyms(header, column):
    assert synonym_column(header) == column


def test_reading_without_a_plan_records_every_guess(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "c.xlsx", {"Sheet1": [["CAR-T cohort, centre X"], [], HEADERS, *ROWS]})
    notes = read_cohort(path).assumptions
    assert not any(n.stated for n in notes)  # no plan: every guess was made while reading
    by_kind = {}
    for n in notes:
        by_kind.setdefault(n.kind, []).append(n)
    [header] = by_kind["header_row"]
    assert (header.read_as, header.evidence) == ("3", "the rows above hold a title ('CAR-T cohort, centre X')")
    assert {(n.header, n.read_as, n.evidence) for n in by_kind["column"]} >= {
        ("Pt ID", "patient_id", "clinical wording of patient_id"), ("Sex", "sex", "same name")}
    assert {(n.value, n.read_as, n.n_cells) for n in by_kind["value"] if n.column == "sex"} == {("Male", "M", 1),
                                                                                                ("Female", "F", 2)}
    assert str(next(n for n in by_kind["value"] if n.value == "Grade 2")) == (
        "column 'CRS grade': 'Grade 2' read as 2 (1 cell): grade wording (found while reading)")
    assert "date_format" not in by_kind  # date cells: no order to guess


def test_a_stated_date_format_names_the_cell_that_proves_it_or_says_none_does(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("patient_id,infusion_date,last_followup_date\nA,03/04/2023,05/06/2023\nB,02/01/2023,19/01/2023\n")
    [note] = [n for n in read_cohort(path, DataMapping(date_format="%d/%m/%Y")).assumptions
              if n.kind == "date_format"]
    assert note.evidence == "'19/01/2023' (column 'last_followup_date', row 3) can only be read day-first"
    path.write_text("patient_id,infusion_date,last_followup_date\nA,03/04/2023,05/06/2023\n")
    [note] = [n for n in read_cohort(path, DataMapping(date_format="%d/%m/%Y")).assumptions
              if n.kind == "date_format"]
    assert note.evidence.startswith("no text date proves the order")
