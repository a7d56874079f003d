"""Regenerate ``examples/example-cohort.xlsx``: a small, invented, CD7 CAR-T cohort in canonical form.

20 patients with relapsed/refractory T-ALL or T-LBL (no real patient data), with daily CRS observations and neuro
assessments for days 0-14 whose ASTCT grades agree with the pre-graded ``crs_grade``/``icans_grade``, weekly labs,
and consistent dates (every event after infusion, last follow-up = death date for those who died, consolidative
HSCT before any progression). Seeded, so the file is reproducible:

    python examples/make_example_cohort.py
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import xlsxwriter

from cart_outcomes.cohort.schema import TABLES

OUT = Path(__file__).with_name("example-cohort.xlsx")
CUTOFF = dt.date(2025, 3, 31)

# (diagnosis, source, day-28 response, best response, fate) per patient; fate drives the later events.
DESIGN = [
    ("T-ALL", "autologous", "CR", "CR", "hsct_alive"),
    ("T-ALL", "autologous", "CR", "CR", "hsct_relapse_death"),
    ("T-ALL", "donor-derived", "CR", "CR", "hsct_alive"),
    ("T-LBL", "autologous", "PR", "CR", "relapse_death"),
    ("T-ALL", "autologous", "CRi", "CR", "hsct_alive"),
    ("T-ALL", "autologous", "NR", "NR", "early_progression_death"),
    ("T-LBL", "autologous", "PR", "PR", "relapse_salvage_hsct_death"),
    ("T-ALL", "autologous", "CR", "CR", "relapse_death"),
    ("T-ALL", "allogeneic", "CR", "CR", "alive_no_hsct"),
    ("T-ALL", "autologous", "NE", "NE", "early_death"),
    ("T-LBL", "autologous", "NR", "NR", "early_progression_death"),
    ("T-ALL", "autologous", "CRi", "CRi", "hsct_alive"),
    ("T-ALL", "donor-derived", "CR", "CR", "relapse_alive"),
    ("T-LBL", "autologous", "CR", "CR", "hsct_alive"),
    ("T-ALL", "autologous", "CR", "CR", "nrm_death"),
    ("T-ALL", "autologous", "PR", "PR", "relapse_death"),
    ("T-LBL", "autologous", "NR", "NR", "early_progression_death"),
    ("T-ALL", "autologous", "CR", "CR", "hsct_relapse_death"),
    ("T-ALL", "autologous", "CRi", "CR", "alive_no_hsct"),
    ("T-LBL", "autologous", "CR", "CR", "hsct_alive"),
]
CRS_GRADES = [1, 2, 1, 3, 2, 1, 2, 1, 1, 4, 2, 1, 3, 1, 2, 1, 2, 1, 1, 2]
ICANS_GRADES = [0] * 20
ICANS_GRADES[3] = 2


def _patient(i: int, rng: np.random.Generator) -> dict:
    diagnosis, source, d28, best, fate = DESIGN[i]
    inf = dt.date(2022, 3, 1) + dt.timedelta(days=int(i * 36 + rng.integers(0, 20)))
    age = int(rng.integers(13, 66)) if i != 11 else 9
    p = {"patient_id": f"CD7-{i + 1:03d}", "infusion_date": inf, "age_years": age,
         "sex": "M" if rng.random() < 0.65 else "F", "diagnosis": diagnosis, "car_t_source": source,
         "car_t_product": "CD7 CAR-T", "dose_cells_per_kg": float(rng.choice([5e5, 1e6, 2e6])),
         "lines_of_prior_therapy": int(rng.integers(2, 6)), "prior_hsct": bool(rng.random() < 0.25),
         "extramedullary_disease": diagnosis == "T-LBL" or bool(rng.random() < 0.15),
         "bridging_therapy": bool(rng.random() < 0.4), "day28_response": d28, "best_response": best,
         "crs_grade": CRS_GRADES[i], "crs_grading_system": "ASTCT2019", "icans_grade": ICANS_GRADES[i],
         "icans_grading_system": "ASTCT2019"}
    day = {"crs_onset": int(rng.integers(1, 5))}
    if ICANS_GRADES[i]:
        day["icans_onset"] = 6
    if fate == "early_death":
        day["death"] = 14
        p["death_cause"] = "infection"
    else:
        day["response_assessment"] = 28 + int(rng.integers(-2, 3))
        p["mrd_negative_day28"] = d28 in ("CR", "CRi")
    if best in ("CR", "CRi"):
        day["cr"] = day["response_assessment"] if d28 in ("CR", "CRi") else day["response_assessment"] + 30
    if fate.startswith("hsct"):
        day["hsct"] = int(rng.integers(45, 85))
        p["hsct_intent"] = "consolidative"
    if fate in ("relapse_death", "relapse_alive", "hsct_relapse_death", "relapse_salvage_hsct_death"):
        start = day.get("hsct", day.get("cr", 30)) + 20
        day["progression"] = start + int(rng.integers(10, 200))
        p["relapse_type"] = str(rng.choice(["medullary", "extramedullary", "combined"]))
        p["target_antigen_loss"] = bool(rng.random() < 0.5)
        if fate == "relapse_salvage_hsct_death":
            day["hsct"] = day["progression"] + 40
            p["hsct_intent"] = "salvage"
        elif "hsct" not in day:
            day["new_therapy"] = day["progression"] + 10
        if fate != "relapse_alive":
            day["death"] = max(day.get("hsct", 0), day["progression"]) + int(rng.integers(60, 200))
            p["death_cause"] = "disease progression"
    if fate == "early_progression_death":
        day["progression"] = day["response_assessment"]
        day["new_therapy"] = day["progression"] + 7
        day["death"] = day["progression"] + int(rng.integers(30, 120))
        p["death_cause"] = "disease progression"
    if fate == "nrm_death":
        day["death"] = 150 + int(rng.integers(0, 60))
        p["death_cause"] = "infection"
    cutoff_day = (CUTOFF - inf).days
    if "death" in day and day["death"] > cutoff_day:
        del day["death"], p["death_cause"]
    day["last_followup"] = day.get("death", cutoff_day - int(rng.integers(0, 60)))
    for stem, d in day.items():
        p[f"{stem}_date"] = inf + dt.timedelta(days=d)
    return p


def _crs_rows(p: dict, grade: int, rng: np.random.Generator) -> list[dict]:
    onset = (p["crs_onset_date"] - p["infusion_date"]).days
    peak = onset + 2
    rows = []
    for d in range(15):
        r = {"patient_id": p["patient_id"], "day": d, "temperature_c": round(float(rng.normal(36.9, 0.3)), 1),
             "hypotension": False, "vasopressors": 0, "vasopressin": False, "oxygen_device": "none",
             "oxygen_flow_l_min": 0.0, "anticytokine_or_antipyretic": False, "other_cause": False,
             "crs_death": False, "tocilizumab": False, "corticosteroids": False}
        if onset <= d <= peak + 3:
            r["temperature_c"] = round(float(rng.uniform(38.2, 40.0)), 1)
            r["anticytokine_or_antipyretic"] = grade >= 2 and d > onset
            r["tocilizumab"] = grade >= 2 and d == onset + 1
            r["corticosteroids"] = grade >= 3 and d == peak
        if d == peak and grade >= 2:
            r["hypotension"] = True
            if grade == 2:
                r["oxygen_device"], r["oxygen_flow_l_min"] = "nasal_cannula", 2.0
            elif grade == 3:
                r["vasopressors"] = 1
                r["oxygen_device"], r["oxygen_flow_l_min"] = "high_flow_nasal_cannula", 30.0
            else:
                r["vasopressors"] = 2
                r["oxygen_device"], r["oxygen_flow_l_min"] = "mechanical_ventilation", 10.0
        rows.append(r)
    return rows


def _neuro_rows(p: dict, grade: int) -> list[dict]:
    rows = []
    for d in range(15):
        r = {"patient_id": p["patient_id"], "day": d, "age_years": p["age_years"], "consciousness": "awake",
             "seizure": "none", "motor": "none", "cerebral_edema": "none", "icans_death": False}
        if p["age_years"] >= 12:
            r["ice_score"] = 10 if not (grade == 2 and d in (6, 7)) else 5
        else:
            r["capd_score"] = 2
        rows.append(r)
    return rows


def _lab_rows(p: dict, rng: np.random.Generator) -> list[dict]:
    rows = []
    for d in (-5, 0, 3, 7, 10, 14, 21, 28):
        nadir = d in (3, 7, 10)
        rows.append({"patient_id": p["patient_id"], "day": d,
                     "anc_per_ul": float(round(rng.uniform(50, 400) if nadir else rng.uniform(600, 3000), -1)),
                     "platelets_per_ul": float(round(rng.uniform(1e4, 6e4) if nadir else rng.uniform(6e4, 2e5), -3)),
                     "hemoglobin_g_dl": round(float(rng.uniform(7.5, 12.5)), 1),
                     "crp_mg_dl": round(float(rng.uniform(5, 20) if 0 < d <= 7 else rng.uniform(0.1, 2)), 1),
                     "ferritin_ng_ml": float(round(rng.uniform(800, 6000) if 0 < d <= 10 else rng.uniform(200, 900))),
                     })
    return rows


def _write_sheet(wb: xlsxwriter.Workbook, name: str, rows: list[dict], date_fmt) -> None:
    ws = wb.add_worksheet(name)
    keys = set(k for r in rows for k in r)
    headers = [c.name for c in TABLES[name].columns if c.name in keys]
    ws.write_row(0, 0, headers)
    for i, r in enumerate(rows, start=1):
        for j, h in enumerate(headers):
            v = r.get(h)
            if v is None:
                continue
            if isinstance(v, dt.date):
                ws.write_datetime(i, j, dt.datetime.combine(v, dt.time()), date_fmt)
            elif isinstance(v, bool):
                ws.write_string(i, j, "yes" if v else "no")
            else:
                ws.write(i, j, v)
    ws.freeze_panes(1, 0)


def main() -> None:
    rng = np.random.default_rng(20250414)
    patients = [_patient(i, rng) for i in range(len(DESIGN))]
    crs = [r for i, p in enumerate(patients) for r in _crs_rows(p, CRS_GRADES[i], rng)]
    neuro = [r for i, p in enumerate(patients) for r in _neuro_rows(p, ICANS_GRADES[i])]
    labs = [r for p in patients for r in _lab_rows(p, rng)]
    dead_by = {p["patient_id"]: (p["death_date"] - p["infusion_date"]).days for p in patients if "death_date" in p}
    crs = [r for r in crs if r["day"] <= dead_by.get(r["patient_id"], 10**6)]
    neuro = [r for r in neuro if r["day"] <= dead_by.get(r["patient_id"], 10**6)]
    labs = [r for r in labs if r["day"] <= dead_by.get(r["patient_id"], 10**6)]
    wb = xlsxwriter.Workbook(str(OUT))
    wb.set_properties({"title": "cart-outcomes example cohort (invented data)", "created": dt.datetime(2025, 4, 14)})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    _write_sheet(wb, "patients", patients, date_fmt)
    _write_sheet(wb, "crs_observations", crs, date_fmt)
    _write_sheet(wb, "neuro_assessments", neuro, date_fmt)
    _write_sheet(wb, "labs", labs, date_fmt)
    wb.close()


if __name__ == "__main__":
    main()
