"""EHA/EBMT immune effector cell-associated hematotoxicity (ICAHT, Rejeski 2023): early and late neutropenia grades.

Every counting rule (lowest value per day, interpolation of short gaps, joining of non-stable recoveries,
censoring, the no-recovery special case) is an explicit parameter whose default comes from
``toxicity/criteria/icaht2023.json`` and is recorded in ``result.options``. Day matrices are built once
(patients x days) and all rules are whole-array numpy operations.

There is no R package for ICAHT; the thresholds and counting defaults follow the open implementation by E.C. Liang
(github.com/emilyliangmd/automatedicahtgrading), which cites Rejeski 2023.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cart_outcomes.cohort.schema import LABS
from cart_outcomes.errors import InputError
from cart_outcomes.toxicity._common import GradingResult, base_options, criteria_header, patient_key
from cart_outcomes.toxicity._validate import Checker
from cart_outcomes.toxicity.criteria import load_criteria

__all__ = ["LAB_COLUMNS", "grade_icaht", "check_labs"]

LAB_COLUMNS = ("patient_id", "day", "anc_per_ul", "platelets_per_ul", "hemoglobin_g_dl", "crp_mg_dl",
               "ferritin_ng_ml")
#: Plausible ranges of the lab columns ICAHT and CAR-HEMATOTOX read, from the schema (the one source).
_RANGES = {c: (LABS.column(c).minimum, LABS.column(c).maximum) for c in LAB_COLUMNS[2:]}
_DAILY = {"min": "min", "max": "max", "mean": "mean", "last": "last", "first": "first"}


def check_labs(labs: Any, required: tuple[str, ...] = ("patient_id", "day"), *, numbers: tuple[str, ...] = (),
               booleans: tuple[str, ...] = ()) -> tuple[pd.DataFrame, list]:
    """Validate a ``labs`` table (negative days allowed: pre-lymphodepletion labs); return (clean frame, warnings).

    Every lab column present is checked for numbers within a plausible range (ANC 0-200,000/uL, platelets
    0-3,000,000/uL, hemoglobin 0-25 g/dL, CRP 0-100 mg/dL, ferritin 0-500,000 ng/mL). Further columns named in
    ``numbers`` are checked for numbers within the schema's range (>= 0 when the schema does not know the column);
    columns named in ``booleans`` for true/false values, a blank cell being read as false without a warning (an
    event column ticked on the days the event happened). Raises ``ValidationFailed``.
    """
    chk = Checker(labs, "labs")
    if not chk.require_columns(required):
        chk.finish()
    f = chk.frame
    chk.add(f["patient_id"].isna().to_numpy(), "MISSING_VALUE", "patient_id", "patient_id is missing")
    clean = pd.DataFrame({"patient_id": f["patient_id"]})
    if "day" in f:
        clean["day"] = chk.day("day", allow_negative=True)
        chk.add(~np.isnan(clean["day"].to_numpy()) & (clean["day"].to_numpy() < -60), "OUT_OF_RANGE", "day",
                lambda v: f"day {v} is more than 60 days before infusion", "warning")
    for col, (lo, hi) in _RANGES.items():
        if col in f:
            clean[col] = chk.numeric(col, required=False, lo=lo, hi=hi, rule_range="OUT_OF_RANGE")
    for col in numbers:
        if col in f and col not in clean:
            spec = LABS.column(col) if col in LABS else None
            lo = 0 if spec is None or spec.minimum is None else spec.minimum
            clean[col] = chk.numeric(col, required=False, lo=lo, hi=None if spec is None else spec.maximum)
    for col in booleans:
        if col in f and col not in clean:
            clean[col] = chk.boolean(col, required=False)
            chk.problems = [p for p in chk.problems if not (p.column == col and p.rule == "MISSING_VALUE")]
    for col in f.columns:
        if col not in clean:
            clean[col] = f[col].to_numpy()
    return clean, chk.finish()


def _censor_days(censor: Any, patients: pd.Index) -> np.ndarray:
    if censor is None:
        return np.full(len(patients), np.inf)
    if isinstance(censor, pd.DataFrame):
        if not {"patient_id", "censor_day"} <= set(censor.columns):
            raise InputError("censor: a DataFrame needs columns 'patient_id' and 'censor_day'")
        censor = censor.set_index("patient_id")["censor_day"]
    if isinstance(censor, Mapping):
        censor = pd.Series(censor, dtype=float)
    if not isinstance(censor, pd.Series):
        raise InputError("censor must be a mapping patient_id -> day, a Series, or a DataFrame "
                         "(patient_id, censor_day)")
    out = pd.to_numeric(censor, errors="coerce").reindex(patients).to_numpy(dtype=float)
    return np.where(np.isnan(out), np.inf, out)


def _prev_next(valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each cell, the column index of the previous / next True cell in its row (-1 / ncol if none), inclusive."""
    n = valid.shape[1]
    cols = np.arange(n)
    prev = np.maximum.accumulate(np.where(valid, cols, -1), axis=1)
    nxt = np.minimum.accumulate(np.where(valid, cols, n)[:, ::-1], axis=1)[:, ::-1]
    return prev, nxt


def _interpolate(m: np.ndarray, max_gap: int) -> np.ndarray:
    """Linear interpolation along rows across interior gaps of at most ``max_gap`` missing days."""
    valid = ~np.isnan(m)
    prev, nxt = _prev_next(valid)
    n = m.shape[1]
    gap = nxt - prev - 1
    fill = ~valid & (prev >= 0) & (nxt < n) & (gap <= max_gap)
    p = np.clip(prev, 0, n - 1)
    q = np.clip(nxt, 0, n - 1)
    vp = np.take_along_axis(m, p, axis=1)
    vq = np.take_along_axis(m, q, axis=1)
    cols = np.arange(n)[None, :]
    frac = np.divide(cols - prev, nxt - prev, out=np.zeros(m.shape), where=fill)
    return np.where(fill, vp + (vq - vp) * frac, m)


def _join_unstable(below: np.ndarray, stable_days: int) -> np.ndarray:
    """Count days of non-stable recovery (< ``stable_days`` between two days below threshold) as below."""
    prev, nxt = _prev_next(below)
    n = below.shape[1]
    gap = nxt - prev - 1
    return below | ((prev >= 0) & (nxt < n) & (gap < stable_days))


def _grade_by_days(days: np.ndarray, table: list[dict[str, int]]) -> np.ndarray:
    g = np.zeros(days.shape, dtype=int)
    for row in sorted(table, key=lambda r: r["min_days"]):
        g = np.where(days >= row["min_days"], row["grade"], g)
    return g


def grade_icaht(labs: pd.DataFrame, criteria: str | Path | dict = "icaht2023", *, censor: Any = None,
                daily_value: str | None = None, interpolate_gap_days: int | None = None,
                stable_recovery_days: int | None = None, late_last_day: int | None = None,
                late_min_measurements: int | None = None,
                no_recovery_before_censor_is_grade4: bool | None = None) -> GradingResult:
    """Early (day 0-30) and late (day 31 on) ICAHT grades per patient from absolute neutrophil counts.

    Parameters
    ----------
    labs : DataFrame ``labs`` with ``patient_id, day, anc_per_ul`` (other lab columns are checked and ignored).
    criteria : criteria file (default ``"icaht2023"``).
    censor : optional per-patient day at which the windows stop (HSCT conditioning, progression, next therapy,
        death, last follow-up): a mapping or Series ``patient_id -> day``, or a DataFrame
        ``(patient_id, censor_day)``. Days after the censor day are not counted (the censor day itself is).
    daily_value : how several ANC values on one day are reduced: ``"min"`` (default: lowest), ``"max"``,
        ``"mean"``, ``"first"``, ``"last"``.
    interpolate_gap_days : interior runs of at most this many days without ANC are filled by linear interpolation
        (default 7); longer gaps stay missing and count as not neutropenic.
    stable_recovery_days : a recovery shorter than this many days between two neutropenic days is non-stable and
        its days are counted as neutropenic (default 3, CIBMTR engraftment logic).
    late_last_day : last day of the late window (default 100).
    late_min_measurements : values at or below a late threshold needed to call it non-transient (default 2). A
        patient with a single late measurement is graded on it and flagged ``late_single_measurement``.
    no_recovery_before_censor_is_grade4 : a patient censored before day 30 who was neutropenic (<= 500/uL) from
        day <= 3 to the censor day without recovery is early grade 4 (Liang's special case; default True).

    Returns
    -------
    GradingResult
        ``table``: ``patient_id, system, early_grade, early_rule, early_days_anc_le_500, early_days_anc_le_100,
        early_window_last_day, late_grade, late_rule, late_nadir_anc_per_ul, late_n_measurements,
        late_single_measurement``. ``observations``: the daily ANC grid used for the early window
        (``patient_id, day, anc_per_ul, interpolated, le_500_counted, le_100_counted``).

    Notes
    -----
    Early ICAHT (Rejeski K et al., Blood 2023;142(10):865-877): ANC <= 500/uL for 1-6 days G1, 7-13 G2, 14-30 G3,
    never above 500 through day 30 G4; ANC <= 100/uL for 7-13 days G3, >= 14 G4; grade = highest met.
    Late ICAHT (after day 30): nadir ANC <= 1500 G1, <= 1000 G2, <= 500 G3, <= 100 G4, non-transient.
    """
    crit = load_criteria(criteria)
    e, late, cnt = crit["early"], crit["late"], crit["counting"]
    daily_value = cnt["daily_value"] if daily_value is None else daily_value
    if daily_value not in _DAILY:
        raise InputError(f"daily_value={daily_value!r}: expected one of {list(_DAILY)}")
    gap_days = int(cnt["interpolate_gap_days"] if interpolate_gap_days is None else interpolate_gap_days)
    stable = int(cnt["stable_recovery_days"] if stable_recovery_days is None else stable_recovery_days)
    late_last = int(late["last_day"] if late_last_day is None else late_last_day)
    late_min = int(late["min_measurements"] if late_min_measurements is None else late_min_measurements)
    norec4 = (cnt["no_recovery_before_censor_is_grade4"] if no_recovery_before_censor_is_grade4 is None
              else bool(no_recovery_before_censor_is_grade4))
    for name, val in (("interpolate_gap_days", gap_days), ("stable_recovery_days", stable),
                      ("late_min_measurements", late_min)):
        if val < 0:
            raise InputError(f"{name}={val}: must be >= 0")

    clean, problems = check_labs(labs, required=("patient_id", "day", "anc_per_ul"))
    anc = clean.dropna(subset=["anc_per_ul", "day"])
    day_int = np.floor(anc["day"].to_numpy()).astype(int)
    daily = (pd.DataFrame({"pid": anc["patient_id"].to_numpy(), "day": day_int, "anc": anc["anc_per_ul"].to_numpy()})
             .groupby(["pid", "day"], sort=False)["anc"].agg(_DAILY[daily_value]).reset_index())
    all_pids = clean["patient_id"].drop_duplicates()
    patients = pd.Index(all_pids.iloc[np.argsort(patient_key(all_pids.reset_index(drop=True)), kind="stable")])
    cens = _censor_days(censor, patients)
    prow = patients.get_indexer(daily["pid"])
    dday = daily["day"].to_numpy()
    in_cens = dday <= cens[prow]

    # ---- early window: dense patients x days grid
    d0, d1 = e["first_day"], e["last_day"]
    ndays = d1 - d0 + 1
    grid = np.full((len(patients), ndays), np.nan)
    sel = (dday >= d0) & (dday <= d1) & in_cens
    grid[prow[sel], dday[sel] - d0] = daily["anc"].to_numpy()[sel]
    filled = _interpolate(grid, gap_days)
    cols = np.arange(d0, d1 + 1)[None, :]
    inside = cols <= cens[:, None]
    filled = np.where(inside, filled, np.nan)
    le500 = _join_unstable(filled <= e["severe_anc_per_ul"], stable) & inside
    le100 = _join_unstable(filled <= e["profound_anc_per_ul"], stable) & inside
    n500 = le500.sum(axis=1)
    n100 = le100.sum(axis=1)
    g500 = _grade_by_days(n500, e["severe_duration_grades"])
    g100 = _grade_by_days(n100, e["profound_duration_grades"])
    never = bool(e["grade4_if_severe_every_day"]) & (n500 == ndays)
    window_end = np.minimum(cens, d1)
    has_early = (~np.isnan(np.where(inside, grid, np.nan))).any(axis=1)
    # no recovery before censoring: below from day <= onset limit through the censor day (censored before day 30)
    first_below = np.where(le500.any(axis=1), le500.argmax(axis=1) + d0, np.inf)
    last_idx = np.clip(window_end - d0, 0, ndays - 1).astype(int)
    below_at_end = le500[np.arange(len(patients)), last_idx]
    run_to_end = n500 == (window_end - first_below + 1)
    norec = (norec4 & (window_end < d1) & (first_below <= cnt["no_recovery_onset_by_day"]) & below_at_end
             & run_to_end)
    early = np.maximum(g500, g100)
    early = np.where(never | norec, 4, early)
    early_rule = np.select(
        [~has_early, never, norec, (g100 >= g500) & (g100 > 0), g500 > 0],
        ["no ANC in the early window", "icaht.early.g4.never_above_500_through_day_30",
         "icaht.early.g4.no_recovery_before_censoring", "icaht.early.anc_le_100_duration",
         "icaht.early.anc_le_500_duration"], "icaht.early.g0.none")

    # ---- late window: nadir, non-transient
    lsel = (dday >= late["first_day"]) & (dday <= late_last) & in_cens
    ld = pd.DataFrame({"p": prow[lsel], "anc": daily["anc"].to_numpy()[lsel]})
    n_late = np.bincount(ld["p"], minlength=len(patients))
    nadir = ld.groupby("p")["anc"].min().reindex(range(len(patients))).to_numpy()
    late_grade = np.zeros(len(patients), dtype=int)
    single = n_late == 1
    for row in sorted(late["anc_thresholds"], key=lambda r: r["grade"]):
        k = np.bincount(ld["p"][ld["anc"] <= row["anc_per_ul"]], minlength=len(patients))
        ok = (k >= late_min) | (single & (k >= 1))
        late_grade = np.where(ok, row["grade"], late_grade)
    late_rule = np.select([n_late == 0, single & (late_grade > 0), late_grade > 0],
                          ["no ANC in the late window", "icaht.late.single_measurement",
                           "icaht.late.nadir_non_transient"],
                          "icaht.late.g0.none")

    table = pd.DataFrame({
        "patient_id": patients, "system": crit["system"],
        "early_grade": pd.array(np.where(has_early, early, 0), dtype="Int64"),
        "early_rule": early_rule, "early_days_anc_le_500": n500, "early_days_anc_le_100": n100,
        "early_window_last_day": window_end,
        "late_grade": pd.array(late_grade, dtype="Int64"), "late_rule": late_rule,
        "late_nadir_anc_per_ul": nadir, "late_n_measurements": n_late, "late_single_measurement": single,
    })
    table.loc[~has_early, "early_grade"] = pd.NA
    table.loc[n_late == 0, "late_grade"] = pd.NA
    excluded = pd.concat([
        pd.DataFrame({"patient_id": patients[~has_early], "reason": "no ANC measurement in the early window"}),
        pd.DataFrame({"patient_id": patients[n_late == 0], "reason": "no ANC measurement in the late window"}),
    ], ignore_index=True)
    pp, dd = np.nonzero(inside)
    obs = pd.DataFrame({"patient_id": patients[pp], "day": dd + d0, "anc_per_ul": filled[pp, dd],
                        "interpolated": np.isnan(grid[pp, dd]) & ~np.isnan(filled[pp, dd]),
                        "le_500_counted": le500[pp, dd], "le_100_counted": le100[pp, dd]})
    options = base_options(criteria=crit["name"], daily_value=daily_value, interpolate_gap_days=gap_days,
                           stable_recovery_days=stable, early_window=(d0, d1),
                           late_window=(late["first_day"], late_last),
                           late_min_measurements=late_min,
                           no_recovery_before_censor_is_grade4=norec4,
                           censoring="days after the per-patient censor day are not counted" if censor is not None
                           else "none", threshold_source=crit["threshold_source"])
    return GradingResult(table=table, observations=obs, system=crit["system"], criteria=criteria_header(crit),
                         options=options, problems=problems, excluded=excluded)
