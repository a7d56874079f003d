"""Time ``run_plan`` end to end (read + validate, endpoints, statistics, results.json, CSVs, report.html, figures,
XLSX, DOCX) on the seed study and on a 1,000-patient synthetic cohort with the seed study's plan.

Targets (issue 7): seed study < 10 s, 1,000 patients < 30 s, on 2 cores. Two timings per cohort:

- *cold*: a new Python process running ``run_plan(study.yaml, out=...)``, imports included (what ``cart-outcomes
  demo`` costs a user);
- *warm*: the same call again in an already warm process (imports and the matplotlib font cache loaded).

Each is the minimum of 3 runs (the machine is shared, the minimum is the least disturbed); ``--quick``:
the seed study only, one run.
The synthetic cohort (seeded) is written as CSV in canonical form (day columns, pre-graded CRS/ICANS) and must pass
validation, so it runs exactly the seed study's plan: KM for OS and PFS, cumulative incidence of relapse and NRM,
responders by consolidative HSCT with landmarks at days 60 and 90, time-dependent Cox, Mantel-Byar, Simon-Makuch.

    PYTHONPATH=src python benchmarks/bench_report.py [--quick]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _timing import cli

TITLE = "The whole run with its report"
ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "cd7-tall"


def synthetic_study(folder: Path, n: int = 1000, seed: int = 20240601) -> Path:
    """Write a valid ``n``-patient cohort (patients.csv) and the seed study's plan into ``folder``."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    response = rng.choice(["CR", "CRi", "PR", "NR", "PD"], n, p=[0.45, 0.15, 0.1, 0.2, 0.1])
    responder = np.isin(response, ["CR", "CRi", "PR"])
    complete = np.isin(response, ["CR", "CRi"])
    follow = rng.integers(35, 1200, n)
    progression = np.where(rng.random(n) < np.where(responder, 0.35, 0.7),
                           np.floor(follow * rng.uniform(0.2, 0.9, n)), np.nan)
    progression = np.where(progression > 28, progression, np.nan)
    dead = rng.random(n) < np.where(np.isnan(progression), 0.2, 0.8)
    hsct = np.where(responder & (rng.random(n) < 0.5), rng.integers(40, 90, n).astype(float), np.nan)
    hsct = np.where((hsct < follow) & (np.isnan(progression) | (hsct < progression)), hsct, np.nan)
    crs = rng.choice([0, 1, 2, 3, 4], n, p=[0.1, 0.4, 0.3, 0.15, 0.05])
    icans = rng.choice([0, 1, 2, 3], n, p=[0.8, 0.1, 0.07, 0.03])
    frame = pd.DataFrame({
        "patient_id": [f"S{k:04d}" for k in range(1, n + 1)],
        "age_years": rng.integers(3, 75, n),
        "sex": rng.choice(["F", "M"], n),
        "diagnosis": rng.choice(["T-ALL", "T-LBL"], n, p=[0.7, 0.3]),
        "car_t_source": rng.choice(["autologous", "allogeneic"], n, p=[0.9, 0.1]),
        "day28_response": response,
        "best_response": response,
        "response_assessment_day": 28,
        "cr_day": np.where(complete, 28.0, np.nan),
        "progression_day": progression,
        "death_day": np.where(dead, follow, np.nan).astype(float),
        "death_cause": np.where(dead, np.where(np.isnan(progression), "infection", "disease progression"), ""),
        "last_followup_day": follow,
        "hsct_day": hsct,
        "hsct_intent": np.where(np.isnan(hsct), "", "consolidative"),
        "crs_grade": crs,
        "crs_grading_system": "ASTCT2019",
        "crs_onset_day": np.where(crs > 0, rng.integers(0, 8, n), np.nan),
        "icans_grade": icans,
        "icans_grading_system": "ASTCT2019",
    })
    frame.to_csv(folder / "patients.csv", index=False, float_format="%g")
    shutil.copy(SEED / "study.yaml", folder / "study.yaml")
    return folder / "study.yaml"


def cold(study: Path, out: Path) -> float:
    code = ("import sys, time; t = time.perf_counter(); from cart_outcomes.plan.run import run_plan; "
            "run_plan(sys.argv[1], out=sys.argv[2]); print(time.perf_counter() - t)")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(study), str(out)], check=True, env=env, capture_output=True)
    return time.perf_counter() - start


def warm(study: Path, out: Path) -> float:
    from cart_outcomes.plan.run import run_plan

    start = time.perf_counter()
    run_plan(study, out=out)
    return time.perf_counter() - start


def run(quick: bool) -> list[dict]:
    repeat = 1 if quick else 3
    sys.path.insert(0, str(ROOT / "src"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cohorts = [("seed study (12 patients)", SEED / "study.yaml", 10.0)]
        if not quick:
            cohorts.append(("synthetic, 1,000 patients", synthetic_study(tmp / "synthetic"), 30.0))
        warm(SEED / "study.yaml", tmp / "warmup")
        rows = []
        for name, study, target in cohorts:
            c = min(cold(study, tmp / f"cold{k}") for k in range(repeat))
            w = min(warm(study, tmp / f"warm{k}") for k in range(repeat))
            rows.append({"cohort": name, "cold run_plan, new process (s)": c, "warm run_plan (s)": w,
                         "target (s)": f"< {target:g}"})
    return rows


if __name__ == "__main__":
    cli(run, __doc__)
