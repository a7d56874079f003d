"""Builders for small cohort files: a valid 8-patient base that each test breaks in one place."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl

D = dt.date

PATIENT_HEADERS = ["patient_id", "infusion_date", "age_years", "sex", "diagnosis", "car_t_source", "day28_response",
                   "best_response", "progression_date", "death_date", "death_cause", "last_followup_date",
                   "hsct_date", "hsct_intent", "crs_grade", "icans_grade"]


def base_patients() -> list[dict]:
    """Eight consistent patients; P0k is on spreadsheet row k + 1."""
    return [
        dict(patient_id="P01", infusion_date=D(2024, 1, 10), age_years=34, sex="M", diagnosis="T-ALL",
             car_t_source="autologous", day28_response="CR", best_response="CR", last_followup_date=D(2024, 12, 1),
             hsct_date=D(2024, 3, 1), hsct_intent="consolidative", crs_grade=1, icans_grade=0),
        dict(patient_id="P02", infusion_date=D(2024, 2, 1), age_years=51, sex="F", diagnosis="T-LBL",
             car_t_source="autologous", day28_response="PR", best_response="CR", progression_date=D(2024, 6, 1),
             death_date=D(2024, 9, 1), death_cause="relapse", last_followup_date=D(2024, 9, 1), crs_grade=2,
             icans_grade=0),
        dict(patient_id="P03", infusion_date=D(2024, 2, 20), age_years=12, sex="M", diagnosis="T-ALL",
             car_t_source="donor-derived", day28_response="NR", best_response="NR",
             progression_date=D(2024, 3, 19), death_date=D(2024, 6, 1), death_cause="relapse",
             last_followup_date=D(2024, 6, 1), crs_grade=3, icans_grade=1),
        dict(patient_id="P04", infusion_date=D(2024, 3, 5), age_years=45, sex="F", diagnosis="T-ALL",
             car_t_source="allogeneic", day28_response="CRi", best_response="CR", last_followup_date=D(2025, 1, 5),
             crs_grade=1, icans_grade=0),
        dict(patient_id="P05", infusion_date=D(2024, 4, 2), age_years=29, sex="M", diagnosis="T-ALL",
             car_t_source="autologous", day28_response="NE", best_response="NE", death_date=D(2024, 4, 16),
             death_cause="infection", last_followup_date=D(2024, 4, 16), crs_grade=4, icans_grade=0),
        dict(patient_id="P06", infusion_date=D(2024, 5, 1), age_years=60, sex="F", diagnosis="T-LBL",
             car_t_source="autologous", day28_response="CR", best_response="CR", progression_date=D(2024, 10, 1),
             last_followup_date=D(2025, 2, 1), crs_grade=2, icans_grade=2),
        dict(patient_id="P07", infusion_date=D(2024, 2, 10), age_years=8, sex="M", diagnosis="T-ALL",
             car_t_source="autologous", day28_response="CR", best_response="CR", last_followup_date=D(2024, 11, 1),
             hsct_date=D(2024, 4, 1), hsct_intent="consolidative", crs_grade=1, icans_grade=0),
        dict(patient_id="P08", infusion_date=D(2024, 6, 1), age_years=40, sex="F", diagnosis="T-ALL",
             car_t_source="autologous", day28_response="SD", best_response="SD", last_followup_date=D(2024, 12, 1),
             crs_grade=0, icans_grade=0),
    ]


def rows_of(records: list[dict], headers: list[str] | None = None) -> list[list]:
    headers = headers or list(dict.fromkeys(k for r in records for k in r))
    return [list(headers), *[[r.get(h) for h in headers] for r in records]]


def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    """Write sheets with openpyxl (dates become real date cells; '#N/A' etc. become Excel error cells)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


def patients_xlsx(path: Path, records: list[dict] | None = None, headers: list[str] | None = None,
                  extra: dict[str, list[list]] | None = None) -> Path:
    records = base_patients() if records is None else records
    return write_xlsx(path, {"patients": rows_of(records, headers or PATIENT_HEADERS), **(extra or {})})


def crs_rows(records: list[dict]) -> list[list]:
    headers = ["patient_id", "day", "temperature_c", "hypotension", "vasopressors", "oxygen_device",
               "oxygen_flow_l_min"]
    return rows_of(records, headers)


CENTRE_HEADERS = ["Patient", "Gender", "Histology", "Infusion", "D28", "Deceased (date)", "Cause of death", "Last seen",
                  "CRS", "Comments"]
N_CENTRE = 24
DEAD_UNMAPPED = range(0, N_CENTRE, 4)  # P01, P05, ... P21: 6 patients died of progression, with no last contact


def centre_sheet_init_cannot_read(path: Path) -> Path:
    """24 patients whose sheet the built-in wordings cannot read: French sex words, grades 'Grade 2-3'/'mild', and
    the death date under a header no synonym names (so the causes of death look dateless)."""
    rows = []
    for i in range(N_CENTRE):
        inf = dt.date(2023, 1, 2) + dt.timedelta(days=9 * i)
        dead = i in DEAD_UNMAPPED
        rows.append([f"P{i + 1:02d}", ["Masculin", "Féminin"][i % 2], ["DLBCL", "T-ALL", "MM"][i % 3], inf,
                     ["CR", "PR", "NR"][i % 3], inf + dt.timedelta(days=100) if dead else None,
                     "Progression" if dead else None, None if dead else inf + dt.timedelta(days=300),
                     ["Grade 2-3", "mild", "G1"][i % 3], ["to check", "seen in clinic", None][i % 3]])
    return write_xlsx(path, {"Sheet1": [["Centre X, CAR-T 2023"], CENTRE_HEADERS, *rows]})
