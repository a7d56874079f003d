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
