"""Reading every supported format into the same canonical frame; mapping, recoding and day-based columns."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from cohort_builders import PATIENT_HEADERS, D, base_patients, patients_xlsx, rows_of, write_xlsx

from cart_outcomes.cohort import DataMapping, cohort_from_frames, load_mapping_from_plan, read_cohort
from cart_outcomes.cohort.schema import PATIENTS
from cart_outcomes.errors import InputError, ValidationFailed

# Days after infusion computed by hand from base_patients(): P02 infused 2024-02-01, died 2024-09-01 (29 days in
# February 2024 + 31 + 30 + 31 + 30 + 31 + 31 = 213); progression 2024-06-01 = 29 + 31 + 30 + 31 = 121.
P02_DEATH_DAY, P02_PROGRESSION_DAY = 213, 121
# P05 infused 2024-04-02, died 2024-04-16: day 14.
P05_DEATH_DAY = 14


def _csv_text(records: list[dict], sep: str = ",") -> str:
    lines = [sep.join(PATIENT_HEADERS)]
    lines += [sep.join("" if r.get(h) is None else str(r[h]) for h in PATIENT_HEADERS) for r in records]
    return "\n".join(lines) + "\n"


def test_xlsx_patients_frame(tmp_path: Path) -> None:
    path = patients_xlsx(tmp_path / "c.xlsx")
    c = read_cohort(path)
    assert c.report.ok, str(c.report)
    p = c.patients
    assert list(p.columns[: 1 + len(PATIENTS.columns)]) == ["source_row", *PATIENTS.names]
    assert p["source_row"].tolist() == list(range(2, 10))
    assert p.loc[1, "death_day"] == P02_DEATH_DAY and p.loc[1, "progression_day"] == P02_PROGRESSION_DAY
    assert p.loc[4, "death_day"] == P05_DEATH_DAY
    assert p.loc[1, "death_date"] == pd.Timestamp("2024-09-01")
    assert str(p["death_day"].dtype) == "Int64" and str(p["infusion_date"].dtype) == "datetime64[ns]"
    assert str(p["sex"].dtype) == "string" and p["age_years"].dtype == np.float64
    assert p["death_day"].isna().sum() == 5  # P02, P03, P05 died; the other five keep a missing death day
    assert c.sha256 == {"c.xlsx": hashlib.sha256(path.read_bytes()).hexdigest()}
    assert "death_date" in c.provided["patients"] and "death_day" not in c.provided["patients"]
    assert p["crs_grading_system"].isna().all()  # absent: not stated, never assumed to be ASTCT 2019


@pytest.mark.parametrize("encoding,sep", [("utf-8", ","), ("utf-8-sig", ";"), ("latin-1", "\t")])
def test_csv_reads_like_xlsx(tmp_path: Path, encoding: str, sep: str) -> None:
    recs = base_patients()
    recs[2]["death_cause"] = "rechute médullaire"
    (tmp_path / "c.csv").write_bytes(_csv_text(recs, sep).encode(encoding))
    from_csv = read_cohort(tmp_path / "c.csv")
    from_xlsx = read_cohort(patients_xlsx(tmp_path / "c.xlsx", recs))
    assert from_csv.report.ok, str(from_csv.report)
    cols = ["patient_id", "death_day", "last_followup_day", "hsct_day", "crs_grade", "day28_response", "death_cause"]
    pd.testing.assert_frame_equal(from_csv.patients[cols], from_xlsx.patients[cols])


def test_parquet_reads_like_xlsx(tmp_path: Path) -> None:
    df = pd.DataFrame(base_patients())
    for c in df.columns:
        if c.endswith("_date"):
            df[c] = pd.to_datetime(df[c])
    df.to_parquet(tmp_path / "c.parquet")
    c = read_cohort(tmp_path / "c.parquet")
    assert c.report.ok, str(c.report)
    assert c.patients.loc[1, "death_day"] == P02_DEATH_DAY


def test_folder_of_csv_with_long_table_dates(tmp_path: Path) -> None:
    (tmp_path / "patients.csv").write_text(_csv_text(base_patients()), encoding="utf-8")
    (tmp_path / "crs_observations.csv").write_text(
        "patient_id,date,temperature_c,hypotension\nP02,2024-02-03,38.9,no\nP02,2024-02-04,39.5,yes\n",
        encoding="utf-8")
    c = read_cohort(tmp_path)
    assert c.report.ok, str(c.report)
    crs = c.tables["crs_observations"]
    assert crs["day"].tolist() == [2, 3]  # infused 2024-02-01
    assert crs["hypotension"].tolist() == [False, True]
    assert set(c.sha256) == {"patients.csv", "crs_observations.csv"}


def test_mapping_headers_values_and_date_format(tmp_path: Path) -> None:
    rows = [["Patient ID", "Date of CAR-T", "Response D28", "Last contact", "Sexe"],
            ["A1", "25/04/2024", "Complete remission", "01/06/2024", "m"],
            ["A2", "03/04/2024", "no response", "02/05/2024", "F"]]
    path = write_xlsx(tmp_path / "c.xlsx", {"Cohorte": rows})
    mapping = DataMapping(columns={"Date of CAR-T": "infusion_date", "Response D28": "day28_response",
                                   "Last contact": "last_followup_date", "Sexe": "sex"},
                          values={"day28_response": {"Complete remission": "CR", "No response": "NR"}},
                          date_format="%d/%m/%Y")
    c = read_cohort(path, mapping)
    assert c.report.ok, str(c.report)
    p = c.patients
    assert p["day28_response"].tolist() == ["CR", "NR"]
    assert p["sex"].tolist() == ["M", "F"]
    assert p["infusion_date"].tolist() == [pd.Timestamp("2024-04-25"), pd.Timestamp("2024-04-03")]
    assert p["last_followup_day"].tolist() == [37, 29]  # 25 Apr -> 1 Jun = 5 + 31 + 1; 3 Apr -> 2 May = 27 + 2


def test_problems_name_the_users_header(tmp_path: Path) -> None:
    rows = [["Patient ID", "Date of CAR-T", "Last contact"], ["A1", "2024-04-25", "2024-04-01"]]
    mapping = DataMapping(columns={"Date of CAR-T": "infusion_date", "Last contact": "last_followup_date"})
    p = read_cohort(write_xlsx(tmp_path / "c.xlsx", {"x": rows}), mapping).report.errors[0]
    assert (p.rule, p.column, p.row) == ("BEFORE_INFUSION", "Last contact", 2)


def test_day_based_cohort_needs_no_dates(tmp_path: Path) -> None:
    rows = [["patient_id", "death_day", "last_followup_day", "progression_day", "day28_response"],
            ["D1", 120, 120, 60, "CR"], ["D2", None, 400, None, "cri"]]
    c = read_cohort(write_xlsx(tmp_path / "c.xlsx", {"patients": rows}))
    assert c.report.ok, str(c.report)
    p = c.patients
    assert p["death_day"].tolist()[0] == 120 and pd.isna(p["death_day"].tolist()[1])
    assert p["day28_response"].tolist() == ["CR", "CRi"]
    assert p["infusion_date"].isna().all()


def test_values_read_as_the_user_means(tmp_path: Path) -> None:
    recs = base_patients()
    recs[0]["death_cause"] = "NA"
    recs[1]["sex"] = " f "
    recs[2]["diagnosis"] = "t-all"
    recs[3]["infusion_date"] = dt.datetime(2024, 3, 5, 14, 30)  # a date-time cell: the calendar day counts
    recs[4]["infusion_date"] = "2024-04-02 00:00:00"
    rows = rows_of(recs, [*PATIENT_HEADERS, "prior_hsct"])
    for r, v in zip(rows[1:], ["yes", "No", 1, 0, True, "FALSE", "y", None], strict=True):
        r[-1] = v
    c = read_cohort(write_xlsx(tmp_path / "c.xlsx", {"patients": rows}))
    assert c.report.ok, str(c.report)
    p = c.patients
    assert pd.isna(p.loc[0, "death_cause"]) and p.loc[1, "sex"] == "F" and p.loc[2, "diagnosis"] == "T-ALL"
    assert p.loc[3, "infusion_date"] == pd.Timestamp("2024-03-05") and p.loc[4, "death_day"] == P05_DEATH_DAY
    assert p["prior_hsct"].tolist()[:7] == [True, False, True, False, True, False, True]


def test_rows_keep_spreadsheet_numbers_when_blank_rows_and_offset(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "patients"
    ws.cell(row=3, column=2, value="patient_id")
    ws.cell(row=3, column=3, value="last_followup_day")
    ws.cell(row=4, column=2, value="A")
    ws.cell(row=4, column=3, value=10)
    ws.cell(row=6, column=2, value="B")  # row 5 is blank
    ws.cell(row=6, column=3, value=-1)
    wb.save(tmp_path / "c.xlsx")
    c = read_cohort(tmp_path / "c.xlsx")
    assert c.patients["source_row"].tolist() == [4, 6]
    [p] = c.report.errors
    assert (p.rule, p.patient_id, p.row, p.column) == ("BEFORE_INFUSION", "B", 6, "last_followup_day")
    assert p.message == "day -1 is before infusion (day 0)"


def test_negative_lab_days_are_allowed(tmp_path: Path) -> None:
    labs = [["patient_id", "day", "anc_per_ul"], ["P01", -5, 1500], ["P01", 7, 100]]
    c = read_cohort(patients_xlsx(tmp_path / "c.xlsx", extra={"labs": labs}))
    assert c.report.ok, str(c.report)
    assert c.tables["labs"]["day"].tolist() == [-5, 7]


def test_kinetics_long_table_reads_with_warnings_for_replicates_and_lloq_conflicts(tmp_path: Path) -> None:
    kin = [["patient_id", "day", "matrix", "assay", "value", "unit", "below_loq", "lloq"],
           ["P01", 7, "", "qpcr", 5000, "copies_per_ug_dna", "no", 50],         # matrix defaults to blood
           ["P01", 7, "", "qpcr", 5400, "copies_per_ug_dna", "no", 50],         # replicate of row 2
           ["P01", 7, "bone_marrow", "qpcr", 900, "copies_per_ug_dna", "no", 50],  # other matrix: no replicate
           ["P01", 28, "", "qpcr", None, "copies_per_ug_dna", "yes", 50],       # BLQ without a value: fine
           ["P01", 60, "", "qpcr", 20, "copies_per_ug_dna", "no", 50],          # below lloq, not flagged
           ["P01", 9, "", "flow", 12.5, "percent_of_cd3", "", None]]
    c = read_cohort(patients_xlsx(tmp_path / "c.xlsx", extra={"kinetics": kin}))
    assert c.report.ok, str(c.report)
    got = [(p.rule, p.patient_id, p.row, p.column) for p in c.report.warnings if p.table == "kinetics"]
    assert got == [("DUPLICATE_SAMPLE", "P01", 3, "day"), ("LLOQ_CONFLICT", "P01", 6, "below_loq")]
    assert "(row 2)" in c.report.warnings[0].message
    k = c.table("kinetics")
    assert k["matrix"].tolist() == ["peripheral_blood"] * 2 + ["bone_marrow"] + ["peripheral_blood"] * 3
    assert k["below_loq"].tolist()[3] is True and pd.isna(k["value"].iat[3])


def test_absent_table_is_an_empty_canonical_frame(tmp_path: Path) -> None:
    c = read_cohort(patients_xlsx(tmp_path / "c.xlsx"))
    k = c.table("kinetics")
    assert len(k) == 0 and {"patient_id", "day", "matrix", "assay", "value", "unit", "below_loq"} <= set(k.columns)
    with pytest.raises(KeyError):
        c.table("nope")


def test_require_valid(tmp_path: Path) -> None:
    good = read_cohort(patients_xlsx(tmp_path / "good.xlsx"))
    assert good.require_valid() is good
    recs = base_patients()
    recs[0]["crs_grade"] = 8
    bad = read_cohort(patients_xlsx(tmp_path / "bad.xlsx", recs))
    with pytest.raises(ValidationFailed) as exc:
        bad.require_valid()
    assert [p.rule for p in exc.value.problems] == ["GRADE_RANGE"]


def test_cohort_from_frames_matches_file(tmp_path: Path) -> None:
    frame = pd.DataFrame(base_patients())
    c = cohort_from_frames({"patients": frame})
    assert c.report.ok, str(c.report)
    assert c.patients["death_day"].tolist()[:2] == [pd.NA, P02_DEATH_DAY]


def test_warning_for_unknown_column_keeps_it(tmp_path: Path) -> None:
    recs = base_patients()
    for i, r in enumerate(recs):
        r["CD7 MFI"] = 100 + i
    c = read_cohort(patients_xlsx(tmp_path / "c.xlsx", recs, headers=[*PATIENT_HEADERS, "CD7 MFI"]))
    [w] = c.report.warnings
    assert (w.rule, w.column, w.row, w.severity) == ("UNKNOWN_COLUMN", "CD7 MFI", 1, "warning")
    assert c.patients["CD7 MFI"].tolist() == [100 + i for i in range(8)]
    assert c.report.ok


def test_unsupported_and_missing_paths_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        read_cohort(tmp_path / "none.xlsx")
    (tmp_path / "c.txt").write_text("x")
    with pytest.raises(InputError, match="unsupported file type"):
        read_cohort(tmp_path / "c.txt")


def test_mapping_from_plan_reads_only_data_section(tmp_path: Path) -> None:
    (tmp_path / "study.yaml").write_text(
        "data:\n  source: cohort.xlsx\n  date_format: '%d/%m/%Y'\n  columns:\n    Patient ID: patient_id\n"
        "  values:\n    day28_response: {Complete remission: CR}\n  sheets: {patients: Cohort}\n"
        "analyses: whatever the plan model says\n", encoding="utf-8")
    m = load_mapping_from_plan(tmp_path / "study.yaml")
    assert m.source == str(tmp_path / "cohort.xlsx")
    assert m.columns == {"Patient ID": "patient_id"} and m.sheets == {"patients": "Cohort"}
    assert m.values["day28_response"]["Complete remission"] == "CR"


@pytest.mark.parametrize("data,match", [
    ({"columns": {"Patient": "patient_identifier"}}, "not canonical column names"),
    ({"sheets": {"people": "Sheet1"}}, "not canonical table names"),
    ({"date_format": "%Y"}, "day and month"),
    ({"colums": {}}, "unknown key"),
])
def test_bad_mapping_is_an_input_error(tmp_path: Path, data: dict, match: str) -> None:
    import yaml

    (tmp_path / "study.yaml").write_text(yaml.safe_dump({"data": data}), encoding="utf-8")
    with pytest.raises(InputError, match=match):
        load_mapping_from_plan(tmp_path / "study.yaml")


def test_sheet_names_from_mapping(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "c.xlsx", {"Cohort": rows_of(base_patients(), PATIENT_HEADERS),
                                            "CRS daily": [["patient_id", "day", "temperature_c"], ["P01", 2, 39.1]]})
    c = read_cohort(path, DataMapping(sheets={"patients": "Cohort", "crs_observations": "CRS daily"}))
    assert c.report.ok, str(c.report)
    assert c.tables["crs_observations"]["temperature_c"].tolist() == [39.1]


def test_date_format_rejects_non_matching_text(tmp_path: Path) -> None:
    recs = base_patients()
    recs[2]["death_date"] = "2024/06/01"
    c = read_cohort(patients_xlsx(tmp_path / "c.xlsx", recs), DataMapping(date_format="%d.%m.%Y"))
    p = next(p for p in c.report.errors if p.rule == "BAD_DATE")
    assert (p.patient_id, p.row, p.column) == ("P03", 4, "death_date") and "%d.%m.%Y" in p.message


def test_text_dates_proven_day_first_are_read_and_the_format_stated(tmp_path: Path) -> None:
    """25/12/2024 can only be day-first, so 05/01/2025 in the same sheet is 5 January (warning, never silent)."""
    recs = base_patients()
    recs[0]["last_followup_date"] = "25/12/2024"
    recs[3]["last_followup_date"] = "05/01/2025"
    c = read_cohort(patients_xlsx(tmp_path / "c.xlsx", recs))
    assert not c.report.errors, str(c.report)
    [w] = [p for p in c.report.warnings if p.rule == "DATE_FORMAT_DETECTED"]
    assert "'%d/%m/%Y'" in w.message
    assert c.patients["last_followup_date"].iloc[[0, 3]].dt.strftime("%Y-%m-%d").tolist() == ["2024-12-25",
                                                                                              "2025-01-05"]


def test_text_dates_that_contradict_stay_errors(tmp_path: Path) -> None:
    recs = base_patients()
    recs[0]["last_followup_date"] = "25/12/2024"
    recs[1]["last_followup_date"] = "12/25/2024"
    rules = [p.rule for p in read_cohort(patients_xlsx(tmp_path / "c.xlsx", recs)).report.errors]
    assert rules.count("BAD_DATE") == 2


def test_same_patient_date_and_day_agree(tmp_path: Path) -> None:
    recs = base_patients()
    for r in recs:
        r["death_day"] = (r["death_date"] - r["infusion_date"]).days if r.get("death_date") else None
    c = read_cohort(patients_xlsx(tmp_path / "c.xlsx", recs, headers=[*PATIENT_HEADERS, "death_day"]))
    assert c.report.ok, str(c.report)
    assert c.patients.loc[1, "death_day"] == P02_DEATH_DAY


def test_response_window_allows_death_after_day_21(tmp_path: Path) -> None:
    recs = base_patients()
    recs[4].update(death_date=D(2024, 4, 25), last_followup_date=D(2024, 4, 25), day28_response="CR",
                   best_response="CR")  # died day 23, inside a day-28 +/- 7 window
    assert read_cohort(patients_xlsx(tmp_path / "c.xlsx", recs)).report.ok


def test_numeric_ids_from_excel_match_long_tables(tmp_path: Path) -> None:
    rows = [["patient_id", "last_followup_day", "notes", "notes"], [101, 30, "a", "b"], [102.0, 40, None, None]]
    crs = [["patient_id", "day", "temperature_c"], [101, 1, 38.4], ["102", 2, 39.0]]
    c = read_cohort(write_xlsx(tmp_path / "c.xlsx", {"patients": rows, "crs_observations": crs}))
    assert c.patients["patient_id"].tolist() == ["101", "102"]
    assert c.tables["crs_observations"]["patient_id"].tolist() == ["101", "102"]
    assert c.patients["notes"].tolist() == ["a", None] and c.patients["notes.1"].tolist() == ["b", None]
    assert [p.rule for p in c.report.problems] == ["UNKNOWN_COLUMN", "UNKNOWN_COLUMN"]


def test_parquet_nullable_and_numpy_types(tmp_path: Path) -> None:
    df = pd.DataFrame({"patient_id": pd.array([1, 2], dtype="int32"),
                       "last_followup_day": pd.array([10, None], dtype="Int64"),
                       "age_years": np.array([30.5, 40], dtype="float32"), "prior_hsct": [True, None]})
    df.to_parquet(tmp_path / "c.parquet")
    c = read_cohort(tmp_path / "c.parquet")
    [p] = c.report.errors
    assert (p.rule, p.patient_id, p.row, p.column) == ("MISSING_VALUE", "2", 3, "last_followup_day")
    assert c.patients["age_years"].tolist() == [30.5, 40.0]


def test_blank_last_followup_of_a_deceased_patient_is_not_an_error() -> None:
    """Follow-up of a patient who died ends at death (endpoints.derivation rule 1 fills it and records it)."""
    from cart_outcomes.cohort import cohort_from_frames

    frame = pd.DataFrame({"patient_id": ["A", "B"], "infusion_date": ["2024-01-01", "2024-01-01"],
                          "death_date": ["2024-03-01", None], "last_followup_date": [None, None]})
    c = cohort_from_frames({"patients": frame})
    assert [(p.rule, p.patient_id) for p in c.report.errors] == [("MISSING_VALUE", "B")]
