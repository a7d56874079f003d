"""Benchmark: NCA of 10,000 patients x 20 samples (target, issue 8: under 1 s).

Run from the repository root:  PYTHONPATH=src python benchmarks/bench_kinetics.py [--quick]  (quick: 1,000 patients)

Times ``noncompartmental`` (defaults; with ``half_life=True``; on the cohort reader's dtypes) against the baseline a
user would write: a pandas ``groupby(...).apply`` per series with ``np.trapezoid`` over the samples up to day 28
(BLQ as 0), Cmax/Tmax/Clast/Tlast, same data, same run, the calls taking turns; minimum of 3 rounds after a warm-up.
The baseline applies no conventions (no window interpolation, no BLQ rule, no persistence); on this schedule (day 0
and day 28 always sampled) its AUC equals ``noncompartmental(blq="zero")`` and the script checks it."""

from __future__ import annotations

import numpy as np
import pandas as pd
from _timing import cli, interleaved

from cart_outcomes.kinetics import noncompartmental

TITLE = "Kinetics (NCA)"
SEED = 20261125
DAYS = np.array([0, 1, 4, 7, 9, 11, 14, 17, 21, 28, 35, 42, 56, 90, 120, 180, 270, 365, 540, 730])
LLOQ = 50.0


def make(n_patients: int, rng: np.random.Generator) -> pd.DataFrame:
    """Expansion to a peak on day 7-17 then log-linear decline, log-normal noise (CV ~20%), BLQ below 50."""
    n_d = DAYS.size
    day = np.tile(DAYS, n_patients)
    peak = np.repeat(rng.lognormal(10, 1, n_patients), n_d)
    tpk = np.repeat(rng.choice([7, 9, 11, 14, 17], n_patients), n_d)
    up = np.repeat(rng.uniform(0.3, 0.8, n_patients), n_d)
    down = np.repeat(rng.uniform(0.01, 0.1, n_patients), n_d)
    level = np.where(day <= tpk, peak * np.exp(-up * (tpk - day)), peak * np.exp(-down * (day - tpk)))
    level = level * rng.lognormal(0, 0.2, day.size)
    blq = level < LLOQ
    return pd.DataFrame({"patient_id": np.repeat([f"P{i:05d}" for i in range(n_patients)], n_d), "day": day,
                         "assay": "qpcr", "unit": "copies_per_ug_dna", "value": np.where(blq, np.nan, level),
                         "below_loq": blq, "lloq": LLOQ})


def baseline(df: pd.DataFrame) -> pd.DataFrame:
    """What a user would write: groupby-apply, np.trapezoid over days <= 28 with BLQ as 0."""

    def one(g: pd.DataFrame) -> pd.Series:
        g = g.sort_values("day")
        c = g["value"].fillna(0.0).to_numpy()
        t = g["day"].to_numpy(dtype=float)
        w = t <= 28
        q = c > 0
        i = int(np.argmax(c))
        last = np.flatnonzero(q)
        return pd.Series({"cmax": c[i], "tmax_days": t[i] if q.any() else np.nan,
                          "clast": c[last[-1]] if last.size else np.nan,
                          "tlast_days": t[last[-1]] if last.size else np.nan,
                          "auc": np.trapezoid(c[w], t[w])})

    return df.groupby(["patient_id", "matrix", "assay", "unit"]).apply(one, include_groups=False).reset_index()




def run(quick: bool) -> list[dict]:
    patients = 1_000 if quick else 10_000
    df = make(patients, np.random.default_rng(SEED))
    cohort = df.astype({"patient_id": "string", "day": "Int64", "assay": "string", "unit": "string",
                        "below_loq": "boolean"})
    base_df = df.assign(matrix="peripheral_blood")
    ours = noncompartmental(df, blq="zero").table
    theirs = baseline(base_df)
    for col in ("cmax", "tmax_days", "clast", "tlast_days", "auc"):
        np.testing.assert_allclose(ours[col].to_numpy(), theirs[col].to_numpy(), rtol=1e-12, err_msg=col)
    calls = {
        "`noncompartmental(kinetics)` (defaults)": lambda: noncompartmental(df),
        "`noncompartmental(kinetics, half_life=True)`": lambda: noncompartmental(df, half_life=True),
        "same, cohort dtypes (string/Int64/boolean)": lambda: noncompartmental(cohort, half_life=True),
        "baseline: `groupby().apply` + `np.trapezoid`": lambda: baseline(base_df),
    }
    sec = interleaved(calls, rounds=3)
    base = sec["baseline: `groupby().apply` + `np.trapezoid`"]
    data = f"{patients:,} patients x {DAYS.size} samples ({len(df):,} rows, ~{df['below_loq'].mean():.0%} BLQ)"
    return [{"data": data, "call": name, "seconds": s, "vs baseline": f"{base / s:.0f}x faster" if s != base else "1x"}
            for name, s in sec.items()]


if __name__ == "__main__":
    cli(run, __doc__)
