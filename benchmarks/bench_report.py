"""Time to build the report (figures, tables, HTML, XLSX, DOCX) for a 12-patient and a 1,000-patient cohort.

Run: ``PYTHONPATH=src python benchmarks/bench_report.py`` (prints a Markdown table for benchmarks/README.md).
The 1,000-patient cohort is synthetic (seeded), with the columns of the report's test cohort.
"""

from __future__ import annotations

import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "report"))

from report_cases import clean_cohort, demo_document  # noqa: E402

import cart_outcomes.report as R  # noqa: E402


def synthetic(n: int, seed: int = 20240601) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    os_days = np.ceil(rng.exponential(400, n)).astype(int) + 1
    follow = np.minimum(os_days, rng.integers(30, 1200, n))
    dead = follow == os_days
    progression = np.where(rng.random(n) < 0.4, np.floor(follow * rng.uniform(0.2, 0.9, n)), np.nan)
    hsct = np.where(rng.random(n) < 0.3, rng.integers(40, 90, n).astype(float), np.nan)
    hsct = np.where(hsct < follow, hsct, np.nan)
    return pd.DataFrame({
        "patient_id": [f"S{k:04d}" for k in range(n)],
        "age_years": rng.integers(3, 75, n),
        "sex": rng.choice(["F", "M"], n),
        "diagnosis": rng.choice(["T-ALL", "T-LBL"], n, p=[0.7, 0.3]),
        "hsct": np.where(np.isnan(hsct), "No HSCT", "HSCT"),
        "day28_response": rng.choice(["CR", "CRi", "PR", "NR"], n, p=[0.5, 0.2, 0.1, 0.2]),
        "os_days": follow, "os_event": dead.astype(int), "last_followup_day": follow,
        "death_day": np.where(dead, follow, np.nan), "progression_day": progression, "hsct_day": hsct,
        "crs_max_grade": rng.choice([0, 1, 2, 3, 4], n, p=[0.1, 0.4, 0.3, 0.15, 0.05]),
        "icans_max_grade": rng.choice([0, 1, 2, 3], n, p=[0.8, 0.1, 0.07, 0.03]),
    })


def run(cohort: pd.DataFrame) -> float:
    start = time.perf_counter()
    doc = demo_document(cohort, hostile=False)
    html = R.render_html(doc)
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "report.html").write_text(html, encoding="utf-8")
        tables = {t.caption[:28]: t.frame for s in doc.sections for t in s.tables}
        R.write_xlsx(tables, Path(tmp, "tables.xlsx"))
        R.write_docx(tables, Path(tmp, "tables.docx"))
    return time.perf_counter() - start


if __name__ == "__main__":
    run(clean_cohort())  # warm-up: imports and font cache
    rows = [("12 patients (test cohort)", run(clean_cohort())), ("1,000 patients (synthetic)", run(synthetic(1000)))]
    print(f"Machine: {platform.machine()}, Python {platform.python_version()}")
    print("| cohort | report build (s) |\n|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.2f} |")
