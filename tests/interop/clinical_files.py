"""The same eight patients as a clinician's xlsx, an SPSS .sav with value labels, and a REDCap export.

Each file speaks its own dialect: the xlsx has clinical headers and response words, the .sav has coded variables
(``v01`` ...) whose variable labels are the clinical headers and whose value labels say what ``1``, ``2`` mean.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from tests.unit.cohort.cohort_builders import base_patients, write_xlsx

#: canonical column -> the header a clinician writes (the xlsx header and the .sav variable label)
WORDING = {"patient_id": "Patient ID", "infusion_date": "Date of CAR-T", "age_years": "Age", "sex": "Gender",
           "diagnosis": "Disease", "car_t_source": "CAR-T source", "day28_response": "Response D28",
           "best_response": "Best response", "progression_date": "Relapse date", "death_date": "Date of death",
           "death_cause": "Cause of death", "last_followup_date": "Last FU", "hsct_date": "alloHSCT date",
           "hsct_intent": "HSCT intent", "crs_grade": "CRS grade", "icans_grade": "ICANS grade"}
RESPONSE_WORDS = {"CR": "Complete remission", "CRi": "CR with incomplete count recovery", "PR": "Partial remission",
                  "SD": "Stable disease", "NR": "No response", "NE": "Not evaluable"}
SEX_WORDS = {"M": "Male", "F": "Female"}


def clinician_records() -> list[dict]:
    """The base patients as a clinician writes them: words for responses and sex."""
    out = []
    for r in base_patients():
        r = dict(r)
        for c in ("day28_response", "best_response"):
            r[c] = RESPONSE_WORDS[r[c]]
        r["sex"] = SEX_WORDS[r["sex"]]
        out.append(r)
    return out


def write_clinician_xlsx(path: Path) -> Path:
    records = clinician_records()
    return write_xlsx(path, {"Cohort": [[WORDING[c] for c in WORDING],
                                        *[[r.get(c) for c in WORDING] for r in records]]})


def write_spss(path: Path) -> Path:
    """The same patients as SPSS codes: ``v01``..``v16`` labelled with the clinical headers; responses and sex
    coded 1, 2, ... under value labels (as SPSS users keep them)."""
    import pyreadstat

    records = base_patients()
    names = {c: f"v{k + 1:02d}" for k, c in enumerate(WORDING)}
    codes = {"day28_response": {w: float(k + 1) for k, w in enumerate(RESPONSE_WORDS)},
             "best_response": {w: float(k + 1) for k, w in enumerate(RESPONSE_WORDS)},
             "sex": {"M": 1.0, "F": 2.0}}
    words = {"day28_response": RESPONSE_WORDS, "best_response": RESPONSE_WORDS, "sex": SEX_WORDS}
    frame = pd.DataFrame({names[c]: [codes[c][r[c]] if c in codes else r.get(c) for r in records] for c in WORDING})
    for c in ("age_years", "crs_grade", "icans_grade"):
        frame[names[c]] = frame[names[c]].astype(float)
    pyreadstat.write_sav(frame, str(path), column_labels={names[c]: WORDING[c] for c in WORDING},
                         variable_value_labels={names[c]: {k: words[c][v] for v, k in codes[c].items()}
                                                for c in codes})
    return path


#: daily CRS observations of three patients: (patient, day, max temperature, lowest SBP, vasopressors, oxygen)
CRS_DAILY = [("P01", 0, 37.2, 120, (), "RA"), ("P01", 1, 38.9, 110, (), "RA"), ("P01", 2, 38.4, 85, (), "RA"),
             ("P03", 0, 38.2, 118, (), "RA"), ("P03", 1, 39.5, 82, ("Norepinephrine",), "NC 4 L/min"),
             ("P03", 2, 39.1, 78, ("Norepinephrine", "Vasopressin"), "HFNC 40 L/min"),
             ("P03", 3, 37.5, 105, (), "RA"), ("P05", 0, 39.8, 75, ("Norepinephrine", "Vasopressin"), "BiPAP")]
CRS_WORDING = ["Patient ID", "Day", "Max temperature (C)", "SBP", "Vasopressors", "Oxygen"]


def write_clinician_xlsx_with_crs(path: Path) -> Path:
    """The clinician's workbook: the cohort sheet and a sheet of daily CRS observations."""
    records = clinician_records()
    crs = [[p, d, t, s, " + ".join(v) if v else None, o] for p, d, t, s, v, o in CRS_DAILY]
    return write_xlsx(path, {"Cohort": [[WORDING[c] for c in WORDING], *[[r.get(c) for c in WORDING] for r in records]],
                             "CRS daily": [CRS_WORDING, *crs]})


def _dmy(d: object) -> str:
    return d.strftime("%d/%m/%Y") if d is not None else ""


def write_redcap(folder: Path) -> tuple[Path, Path]:
    """The same patients as a longitudinal REDCap project: a data dictionary and its "CSV (raw data)" export.

    Forms: ``baseline`` (event ``baseline_arm_1``: demographics, infusion date, coded choices), ``outcome`` (event
    ``followup_arm_1``: responses, dates, grades) and the repeating instrument ``crs_daily`` (a checkbox of
    vasopressors). Dates are validated ``date_dmy`` and written day-first; choices are codes.
    """
    resp = " | ".join(f"{k + 1}, {w}" for k, w in enumerate(RESPONSE_WORDS.values()))
    grade = "0, None | 1, Grade 1 | 2, Grade 2 | 3, Grade 3 | 4, Grade 4 | 5, Grade 5"
    fields = [  # name, form, type, label, choices, validation, canonical column
        ("record_id", "baseline", "text", "Record ID", "", "", "patient_id"),
        ("dinf", "baseline", "text", "Date of CAR-T", "", "date_dmy", "infusion_date"),
        ("age", "baseline", "text", "Age", "", "integer", "age_years"),
        ("gender", "baseline", "radio", "Gender", "1, Male | 2, Female", "", "sex"),
        ("dx", "baseline", "dropdown", "Disease", "1, T-ALL | 2, T-LBL", "", "diagnosis"),
        ("src", "baseline", "radio", "CAR-T source",
         "1, autologous | 2, donor-derived | 3, allogeneic", "", "car_t_source"),
        ("resp28", "outcome", "dropdown", "Response D28", resp, "", "day28_response"),
        ("bor", "outcome", "dropdown", "Best response", resp, "", "best_response"),
        ("relapse_dt", "outcome", "text", "Relapse date", "", "date_dmy", "progression_date"),
        ("death_dt", "outcome", "text", "Date of death", "", "date_dmy", "death_date"),
        ("cod", "outcome", "text", "Cause of death", "", "", "death_cause"),
        ("lfu", "outcome", "text", "Last FU", "", "date_dmy", "last_followup_date"),
        ("hsct_dt", "outcome", "text", "alloHSCT date", "", "date_dmy", "hsct_date"),
        ("hsct_int", "outcome", "radio", "HSCT intent", "1, consolidative | 2, salvage", "", "hsct_intent"),
        ("crs_gr", "outcome", "dropdown", "CRS grade", grade, "", "crs_grade"),
        ("icans_gr", "outcome", "dropdown", "ICANS grade", grade, "", "icans_grade"),
        ("crs_day", "crs_daily", "text", "Day", "", "integer", None),
        ("tmax", "crs_daily", "text", "Max temperature (C)", "", "number", None),
        ("sbp", "crs_daily", "text", "SBP", "", "number", None),
        ("pressors", "crs_daily", "checkbox", "Vasopressors", "1, Norepinephrine | 2, Vasopressin | 3, Dopamine", "",
         None),
        ("o2", "crs_daily", "text", "Oxygen", "", "", None),
    ]
    dictionary = pd.DataFrame(
        [{"Variable / Field Name": n, "Form Name": f, "Section Header": "", "Field Type": t, "Field Label": lab,
          "Choices, Calculations, OR Slider Labels": ch, "Field Note": "",
          "Text Validation Type OR Show Slider Number": v} for n, f, t, lab, ch, v, _ in fields])
    code = {n: {w: c for c, w in (p.split(", ", 1) for p in ch.split(" | "))} for n, _, t, _, ch, _, _ in fields
            if t in ("radio", "dropdown")}
    words = {"sex": SEX_WORDS, "day28_response": RESPONSE_WORDS, "best_response": RESPONSE_WORDS}
    rows = []
    for r in base_patients():
        base = {"record_id": r["patient_id"], "redcap_event_name": "baseline_arm_1", "baseline_complete": "2"}
        follow = {"record_id": r["patient_id"], "redcap_event_name": "followup_arm_1", "outcome_complete": "2"}
        for n, form, _t, _, _, v, canon in fields:
            if canon is None or canon == "patient_id":
                continue
            value = r.get(canon)
            if n in code and value is not None:
                label = words.get(canon, {}).get(value, value)
                label = {k: f"Grade {k}" if k else "None" for k in range(6)}.get(label, label)
                value = code[n][str(label)]
            elif v == "date_dmy":
                value = _dmy(value)
            (base if form == "baseline" else follow)[n] = "" if value is None else str(value)
        rows += [base, follow]
        for k, (p, d, t, s, pressors, o) in enumerate((c for c in CRS_DAILY if c[0] == r["patient_id"]), start=1):
            row = {"record_id": p, "redcap_event_name": "baseline_arm_1", "redcap_repeat_instrument": "crs_daily",
                   "redcap_repeat_instance": str(k), "crs_day": str(d), "tmax": str(t), "sbp": str(s), "o2": o,
                   "crs_daily_complete": "2"}
            for c, w in enumerate(("Norepinephrine", "Vasopressin", "Dopamine"), start=1):
                row[f"pressors___{c}"] = "1" if w in pressors else "0"
            rows.append(row)
    columns = ["record_id", "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance",
               *[n for n, f, *_ in fields[1:] if f == "baseline"], "baseline_complete",
               *[n for n, f, *_ in fields if f == "outcome"], "outcome_complete",
               "crs_day", "tmax", "sbp", "pressors___1", "pressors___2", "pressors___3", "o2", "crs_daily_complete"]
    export = pd.DataFrame(rows, columns=columns).fillna("")
    dpath, epath = folder / "dictionary.csv", folder / "export.csv"
    dictionary.to_csv(dpath, index=False)
    export.to_csv(epath, index=False)
    return epath, dpath
