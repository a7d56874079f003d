"""Benchmark: grading 1,000 patients x 30 days of observations (target: CRS < 1 s).

Run from the repository root:  PYTHONPATH=src python benchmarks/bench_toxicity.py [--write]
With --write the figures replace the "toxicity" section of benchmarks/README.md. Only the grading call is timed
(data generation is not); each figure is the median of 5 runs after one warm-up. There is no other open tool that
grades CRS/ICANS/ICAHT from raw observations, so no peer is timed in the same run.
"""

from __future__ import annotations

import argparse
import platform
import re
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from cart_outcomes import __version__
from cart_outcomes.toxicity import grade_crs, grade_icaht, grade_icans

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


def timed(fn, data) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fn(data)
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            fn(data)
            times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true", help="update benchmarks/README.md")
    args = ap.parse_args()
    rng = np.random.default_rng(20261125)
    rows = [("grade_crs", "1,000 patients x 30 days (30,000 rows)", timed(grade_crs, crs_data(1000, 30, rng))),
            ("grade_icans", "1,000 patients x 30 days (30,000 rows)", timed(grade_icans, icans_data(1000, 30, rng))),
            ("grade_icaht", "1,000 patients x 100 days (100,000 rows)", timed(grade_icaht, labs_data(1000, 100, rng)))]
    lines = ["## toxicity", "",
             f"`PYTHONPATH=src python benchmarks/bench_toxicity.py --write` (cart-outcomes {__version__}, Python "
             f"{platform.python_version()}, pandas {pd.__version__}, numpy {np.__version__}; "
             f"{platform.machine()}, median of 5 runs after a warm-up, grading call only). Target: CRS < 1 s.", "",
             "| function | data | seconds |", "|---|---|---|"]
    lines += [f"| `{f}` | {d} | {s:.3f} |" for f, d, s in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        path = Path(__file__).with_name("README.md")
        old = path.read_text() if path.exists() else "# Benchmarks\n"
        if "## toxicity" in old:
            old = re.sub(r"## toxicity\n.*?(?=\n## |\Z)", text.rstrip("\n") + "\n", old, flags=re.S)
            path.write_text(old)
        else:
            path.write_text(old.rstrip("\n") + "\n\n" + text)


if __name__ == "__main__":
    main()
