"""Benchmark: lab trajectories and CIBMTR hematologic recovery for 10,000 patients x 60 lab days (target: < 1 s).

Run from the repository root:  PYTHONPATH=src python benchmarks/bench_labs.py [--quick]  (quick: 1,000 patients)
Only the calls are timed (data generation is not); cart-outcomes figures are the minimum of 3 interleaved rounds.
The baseline is a straightforward per-patient pandas loop applying the same recovery rule (timed once: it is slow),
and its result is checked against ``hematologic_recovery`` (recovery day of every patient and lineage) in the same
run. No open tool computes CIBMTR recovery from a labs table, so no peer is timed."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from _timing import cli, interleaved

from cart_outcomes.toxicity import hematologic_recovery, lab_trajectories

TITLE = "Lab trajectories"
SEED = 20261126


def labs_data(n_patients: int, n_days: int, rng: np.random.Generator) -> pd.DataFrame:
    """Daily labs from day -5: ANC and platelets fall after infusion and recover (or not) with noise; ~5% of days
    have a second sample; platelet transfusion on days with a count below 10,000/uL; CRP, ferritin, IL-6, Hb."""
    pid = np.repeat(np.arange(n_patients), n_days)
    day = np.tile(np.arange(n_days) - 5, n_patients)
    onset = np.repeat(rng.integers(0, 6, n_patients), n_days)
    anc_rec = np.repeat(rng.lognormal(2.5, 0.6, n_patients), n_days)
    plt_rec = np.repeat(rng.lognormal(2.8, 0.6, n_patients), n_days)
    n = pid.size
    low = (day >= onset) & (day < onset + anc_rec)
    anc = np.where(low, rng.lognormal(5.0, 0.8, n), rng.lognormal(7.5, 0.4, n)).round()
    plow = (day >= onset) & (day < onset + plt_rec)
    plt = np.where(plow, rng.lognormal(9.6, 0.5, n), rng.lognormal(11.5, 0.4, n)).round(-3)
    frame = pd.DataFrame({"patient_id": pid, "day": day, "anc_per_ul": anc, "platelets_per_ul": plt,
                          "hemoglobin_g_dl": rng.normal(9.5, 1.2, n).clip(4, 16).round(1),
                          "crp_mg_dl": rng.lognormal(0.5, 1.0, n).clip(0, 60).round(2),
                          "ferritin_ng_ml": rng.lognormal(7.0, 0.8, n).round(),
                          "il6_pg_ml": rng.lognormal(2.5, 1.2, n).round(1), "platelet_transfusion": plt < 10_000})
    extra = frame.sample(frac=0.05, random_state=int(rng.integers(1 << 31)))
    extra = extra.assign(anc_per_ul=(extra["anc_per_ul"] * rng.uniform(0.7, 1.3, len(extra))).round())
    return pd.concat([frame, extra], ignore_index=True).sample(frac=1, random_state=1, ignore_index=True)


def loop_recovery(labs: pd.DataFrame, threshold: float, column: str, free_days: int) -> dict:
    """The baseline: one patient at a time, days in order, the rule read literally."""
    out = {}
    for pid, g in labs.groupby("patient_id"):
        daily = g[g["day"] >= 0].dropna(subset=[column]).groupby("day")[column].min()
        tx = set(g.loc[g["platelet_transfusion"] & (g["day"] >= 0), "day"]) if free_days else set()
        tx_all = set(g.loc[g["platelet_transfusion"], "day"]) if free_days else set()
        below = [d for d, v in daily.items() if v < threshold] + sorted(tx)
        out[pid] = np.nan
        if not below:
            continue
        first, run = min(below), []
        for d, v in daily.items():
            ok = v >= threshold and d > first and not any(d - free_days < t <= d for t in tx_all)
            run = run + [d] if ok else []
            if len(run) == 3:
                out[pid] = run[0]
                break
    return out




def run(quick: bool) -> list[dict]:
    patients = 1_000 if quick else 10_000
    labs = labs_data(patients, 60, np.random.default_rng(SEED))
    sec = interleaved({
        "`hematologic_recovery(labs)` (neutrophil + platelet, transfusion rule)": lambda: hematologic_recovery(labs),
        "`lab_trajectories(labs)` (6 analytes, table + summary)": lambda: lab_trajectories(labs),
        "`lab_trajectories(labs, days=(0, 28))`": lambda: lab_trajectories(labs, days=(0, 28)),
    }, rounds=3)
    t0 = time.perf_counter()
    base = {"neutrophil": loop_recovery(labs, 500, "anc_per_ul", 0),
            "platelet": loop_recovery(labs, 20_000, "platelets_per_ul", 7)}
    t_loop = time.perf_counter() - t0
    res = hematologic_recovery(labs).table
    for lineage, expected in base.items():
        got = res[res["lineage"] == lineage].set_index("patient_id")["recovery_day"]
        exp = pd.Series(expected).reindex(got.index)
        if not np.array_equal(got.to_numpy(), exp.to_numpy(), equal_nan=True):
            raise AssertionError(f"{lineage}: vectorised and loop results differ")
    sec["baseline: per-patient pandas loop, same rule (one run)"] = t_loop
    data = f"{patients:,} patients x 60 lab days + 5% duplicates ({len(labs):,} rows)"
    rec = next(iter(sec.values()))
    return [{"data": data, "call": name, "seconds": s,
             "recovery vs loop": f"{t_loop / rec:.0f}x faster" if i == 0 else ""}
            for i, (name, s) in enumerate(sec.items())]


if __name__ == "__main__":
    cli(run, __doc__)
