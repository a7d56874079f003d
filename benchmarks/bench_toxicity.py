"""Benchmark: grading 1,000 patients x 30 days of observations (target: CRS < 1 s).

Run from the repository root:  PYTHONPATH=src python benchmarks/bench_toxicity.py [--quick]  (quick: 200 patients)
Only the grading call is timed (data generation is not); each figure is the minimum of 5 interleaved rounds after
one warm-up. There is no other open tool that
grades CRS/ICANS/ICAHT from raw observations, so no peer is timed in the same run.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from _timing import cli, interleaved

from cart_outcomes.toxicity import grade_crs, grade_icaht, grade_icans

TITLE = "Toxicity grading"
DEVICES = np.array(["none", "nasal_cannula", "blow_by", "high_flow_nasal_cannula", "facemask", "non_rebreather",
                    "venturi", "cpap", "bipap", "mechanical_ventilation"])


def crs_data(n_patients: int, n_days: int, rng: np.random.Generator) -> pd.DataFrame:
    n = n_patients * n_days
    pressors = rng.choice([0, 0, 0, 0, 1, 2], size=n)
    vasopressin = rng.random(n) < 0.05
    device = rng.choice(DEVICES, size=n, p=[0.6, 0.15, 0.02, 0.05, 0.05, 0.03, 0.02, 0.03, 0.03, 0.02])
    return pd.DataFrame({
        "patient_id": np.repeat(np.arange(n_patients), n_days), "day": np.tile(np.arange(n_days), n_patients),
        "temperature_c": rng.normal(37.6, 0.8, n).round(1), "hypotension": (pressors > 0) | vasopressin
        | (rng.random(n) < 0.1), "vasopressors": pressors, "vasopressin": vasopressin, "oxygen_device": device,
        "oxygen_flow_l_min": np.where(device == "none", np.nan, rng.uniform(1, 12, n).round(1)),
        "anticytokine_or_antipyretic": rng.random(n) < 0.3, "other_cause": rng.random(n) < 0.03,
        "crs_death": np.zeros(n, bool), "tocilizumab": rng.random(n) < 0.1, "corticosteroids": rng.random(n) < 0.05})


def icans_data(n_patients: int, n_days: int, rng: np.random.Generator) -> pd.DataFrame:
    n = n_patients * n_days
    age = np.repeat(rng.uniform(3, 75, n_patients).round(1), n_days)
    return pd.DataFrame({
        "patient_id": np.repeat(np.arange(n_patients), n_days), "day": np.tile(np.arange(n_days), n_patients),
        "age_years": age, "ice_score": np.where(age >= 12, rng.integers(0, 11, n), np.nan),
        "capd_score": np.where(age < 12, rng.integers(0, 20, n), np.nan),
        "consciousness": rng.choice(["awake", "awake", "awake", "awakens_to_voice", "awakens_to_touch",
                                     "unarousable"], n),
        "seizure": rng.choice(["none"] * 20 + ["rapidly_resolving", "prolonged_or_repetitive"], n),
        "motor": rng.choice(["none"] * 30 + ["deep_focal_weakness"], n),
        "cerebral_edema": rng.choice(["none"] * 30 + ["focal", "diffuse"], n), "icans_death": np.zeros(n, bool)})


def labs_data(n_patients: int, n_days: int, rng: np.random.Generator) -> pd.DataFrame:
    n = n_patients * n_days
    return pd.DataFrame({"patient_id": np.repeat(np.arange(n_patients), n_days),
                         "day": np.tile(np.arange(n_days), n_patients),
                         "anc_per_ul": rng.lognormal(6.5, 1.2, n).round()})


def run(quick: bool) -> list[dict]:
    rng = np.random.default_rng(20261125)
    patients = 200 if quick else 1000
    crs, icans, labs = crs_data(patients, 30, rng), icans_data(patients, 30, rng), labs_data(patients, 100, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sec = interleaved({"grade_crs": lambda: grade_crs(crs), "grade_icans": lambda: grade_icans(icans),
                           "grade_icaht": lambda: grade_icaht(labs)}, rounds=5)
    data = {"grade_crs": crs, "grade_icans": icans, "grade_icaht": labs}
    return [{"function": f"`{name}`", "data": f"{patients:,} patients ({len(data[name]):,} rows)", "seconds": s,
             "target": "< 1 s" if name == "grade_crs" and not quick else ""} for name, s in sec.items()]


if __name__ == "__main__":
    cli(run, __doc__)
