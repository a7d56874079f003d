"""Time a whole run end to end (read + validate, endpoints, statistics, results.json, CSVs, report.html, figures,
XLSX, DOCX) on the seed study and on synthetic cohorts of 1,000 to 100,000 patients with the seed study's plan.

Two timings per cohort, medians of repeated runs:

- *cold*: ``python -m cart_outcomes run study.yaml --out DIR --quiet`` in a new process, imports included (what a
  user waits for; the package's bytecode cached, as from a user's second run on);
- *warm*: ``run_plan(study.yaml, out=DIR)`` again in an already warm process (imports and the font cache loaded).

Targets (issue 18), from the same run: the seed study's cold run at most 1.5x the time a new process takes to
import numpy, pandas, scipy.stats and matplotlib.pyplot (measured taking turns with it); the 100,000-patient cold
run at most 3x the seed study's; and cost linear in n from 10,000 to 100,000 patients (the log-log slope of the warm
run time). ``--quick``: 1,000 and 10,000 patients, two repeats.
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


def cold(study: Path, out: Path, *, workers: str = "") -> float:
    """Wall seconds of ``python -m cart_outcomes run study.yaml --out out --quiet`` in a new process
    (``workers``: ``CART_OUTCOMES_WORKERS``, unset when empty)."""
    return _process([sys.executable, "-m", "cart_outcomes", "run", str(study), "--out", str(out), "--quiet"],
                    workers=workers)


def imports() -> float:
    """Wall seconds of a new process importing numpy, pandas, scipy.stats and matplotlib.pyplot (the yardstick of
    issue 18's cold-run target)."""
    return _process([sys.executable, "-c", "import numpy, pandas, scipy.stats, matplotlib.pyplot"])


def _process(args: list[str], *, workers: str = "") -> float:
    # as a user's second run: the package's bytecode is cached (run() compiles it once; a shell that sets
    # PYTHONDONTWRITEBYTECODE would otherwise make every cold run compile ~100 modules again)
    drop = ("PYTHONDONTWRITEBYTECODE", "CART_OUTCOMES_WORKERS")
    env = {k: v for k, v in os.environ.items() if k not in drop} | {"PYTHONPATH": str(ROOT / "src")}
    if workers:
        env["CART_OUTCOMES_WORKERS"] = workers
    start = time.perf_counter()
    subprocess.run(args, check=True, env=env, capture_output=True)
    return time.perf_counter() - start


def warm(study: Path, out: Path) -> float:
    from cart_outcomes.plan.run import run_plan

    start = time.perf_counter()
    run_plan(study, out=out)
    return time.perf_counter() - start


def statistics_only(folder: Path) -> Path:
    """The seed study's plan without its report: results.json and the CSV tables only (no HTML, Word, workbook or
    figure), written into ``folder``."""
    import yaml

    plan = yaml.safe_load((SEED / "study.yaml").read_text(encoding="utf-8"))
    plan["data"]["source"] = str(SEED)
    plan["report"] = {"html": False, "docx": False, "xlsx": False}
    plan["figures"] = dict.fromkeys(("km", "cif", "swimmer", "toxicity", "simon_makuch", "kinetics", "labs",
                                     "forest"), False)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    return path


def _seed_variants(tmp: Path, repeat: int, yardstick: float) -> list[dict]:
    """The seed study's cold run with its figures drawn in forked workers (the default), in the main process only
    (``CART_OUTCOMES_WORKERS=1``), and without its report, taking turns."""
    bare = statistics_only(tmp / "statistics-only")
    runs: dict[str, list[float]] = {"": [], "1": [], "bare": []}
    for k in range(repeat):
        for kind, times in runs.items():
            study, workers = (bare, "") if kind == "bare" else (SEED / "study.yaml", kind)
            times.append(cold(study, tmp / f"variant-{kind}-{k}", workers=workers))
    table = "Seed study, cold runs (medians, taking turns)"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    rows = [("the whole run, figures drawn in forked worker processes (the default: one per core, "
             f"{cores} here)", ""), ("the whole run, figures drawn in the main process (CART_OUTCOMES_WORKERS=1)", "1"),
            ("statistics, results.json and CSVs only (report: html, docx, xlsx false; no figures)", "bare")]
    return [{"table": table, "run": name, "cold `cart-outcomes run` (s)": float(np.median(runs[kind])),
             "x the yardstick": f"{np.median(runs[kind]) / yardstick:.2f}x"} for name, kind in rows]


def run(quick: bool) -> list[dict]:
    """Cold and warm runs per cohort size, then issue 18's targets from the same measurements."""
    sys.path.insert(0, str(ROOT / "src"))
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src")], check=True)
    repeat = 2 if quick else 5
    sizes = [1_000, 10_000] if quick else [1_000, 10_000, 30_000, 100_000]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cohorts = [("seed study", 12, SEED / "study.yaml")]
        cohorts += [(f"synthetic, {n:,} patients", n, synthetic_study(tmp / f"synthetic{n}", n=n)) for n in sizes]
        warm(SEED / "study.yaml", tmp / "warmup")
        # the yardstick and the seed study's cold run take turns (medians: the load falls on both alike)
        yard, seed_cold = [], []
        for k in range(repeat):
            yard.append(imports())
            seed_cold.append(cold(SEED / "study.yaml", tmp / f"seed-cold{k}"))
        rows, cold_s, warm_s = [], {12: float(np.median(seed_cold))}, {}
        for name, n, study in cohorts:
            reps = repeat if n <= 10_000 else 2
            if n != 12:
                cold_s[n] = float(np.median([cold(study, tmp / f"cold{n}-{k}") for k in range(reps)]))
            warm_s[n] = float(np.median([warm(study, tmp / f"warm{n}-{k}") for k in range(reps)]))
            rows.append({"table": "Cold and warm runs (medians)", "cohort": name, "patients": n,
                         "cold `cart-outcomes run`, new process (s)": cold_s[n], "warm run_plan (s)": warm_s[n]})
        yardstick = float(np.median(yard))
        rows += _seed_variants(tmp, repeat, yardstick)
    big, mid = sizes[-1], sizes[-2] if quick else 10_000
    slope = np.log(warm_s[big] / warm_s[mid]) / np.log(big / mid)
    target = "Issue 18 targets (same run)"
    rows += [
        {"table": target, "target": "cold `cart-outcomes run` of the seed study <= 1.5x importing numpy, pandas, "
         "scipy.stats, matplotlib.pyplot", "measured": f"{cold_s[12] / yardstick:.2f}x",
         "detail": f"{cold_s[12]:.2f} s vs {yardstick:.2f} s (medians of {repeat}, taking turns)"},
        {"table": target, "target": f"{big:,}-patient run <= 3x the seed-study run (both cold)",
         "measured": f"{cold_s[big] / cold_s[12]:.2f}x", "detail": f"{cold_s[big]:.2f} s vs {cold_s[12]:.2f} s"},
        {"table": target, "target": f"cost linear in n from {mid:,} to {big:,} patients (log-log slope of the warm "
         "run <= 1)", "measured": f"{slope:.2f}", "detail": f"{warm_s[mid]:.2f} s -> {warm_s[big]:.2f} s"},
    ]
    return rows


if __name__ == "__main__":
    cli(run, __doc__)
