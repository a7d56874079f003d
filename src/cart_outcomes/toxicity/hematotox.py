"""CAR-HEMATOTOX score (Rejeski 2021) from pre-lymphodepletion labs.

Verification status (recorded in ``criteria/hematotox2021.json`` and in every result's ``options``):

- verified in public sources: the five variables measured before lymphodepletion, the double weighting of
  platelets and ferritin, and the risk groups low 0-1 / high >= 2 (european-mcl.net CAR-HEMATOTOX page; Rejeski
  2021 abstract; Rejeski 2023 J Hematol Oncol; de Boer 2025 Blood Adv);
- NOT verified: the point cut-offs themselves (platelets 75,000/175,000 per uL, ANC 1200/uL, Hb 9.0 g/dL,
  CRP 3.0 mg/dL, ferritin 650/2000 ng/mL). No stored public source showed the score table; they come from
  the project's clinical-definitions notes and must be checked against Rejeski 2021 (Blood 138:2499, Figure/Table
  of the model) before clinical use. Results carry ``cutoffs_verified=False``.

The score was developed in large B-cell lymphoma; in other diseases (e.g. CD7 CAR-T for T-ALL) it is exploratory.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cart_outcomes.errors import InputError
from cart_outcomes.toxicity._common import GradingResult, base_options, criteria_header
from cart_outcomes.toxicity.criteria import load_criteria
from cart_outcomes.toxicity.icaht import check_labs

__all__ = ["car_hematotox", "hematotox_points"]


def hematotox_points(values: pd.DataFrame, criteria: str | Path | dict = "hematotox2021") -> pd.DataFrame:
    """Points per variable and total for rows of baseline values (vectorised; a missing value gives NA points).

    ``values`` needs the columns ``platelets_per_ul, anc_per_ul, hemoglobin_g_dl, crp_mg_dl, ferritin_ng_ml``.
    Boundaries: "below" variables score when value < threshold, "above" variables when value > threshold; so a
    value exactly at a cut-off takes the lower-risk category, except platelets 75,000/uL (1 point, not 2) and
    ferritin 2000 ng/mL (1 point, not 2) which fall in the middle band.
    """
    crit = load_criteria(criteria)
    out = pd.DataFrame(index=values.index)
    total = np.zeros(len(values))
    complete = np.ones(len(values), dtype=bool)
    for var, spec in crit["variables"].items():
        x = pd.to_numeric(values[var], errors="coerce").to_numpy(dtype=float)
        pts = np.zeros(len(values))
        for band in sorted(spec["bands"], key=lambda b: b["points"]):
            hit = x < band["threshold"] if spec["direction"] == "below" else x > band["threshold"]
            pts = np.where(hit, band["points"], pts)
        miss = np.isnan(x)
        out[f"points_{var}"] = pd.array(np.where(miss, 0, pts).astype(int), dtype="Int64")
        out.loc[miss, f"points_{var}"] = pd.NA
        total += np.where(miss, 0, pts)
        complete = complete & ~miss
    out["score"] = pd.array(total.astype(int), dtype="Int64")
    out.loc[~complete, "score"] = pd.NA
    risk = np.where(total >= crit["high_risk_min_score"], "high", "low").astype(object)
    risk[~complete] = None
    out["risk"] = risk
    return out


def car_hematotox(labs: pd.DataFrame, criteria: str | Path | dict = "hematotox2021", *, ld_start_day: Any = -5,
                  lookback_days: int = 14) -> GradingResult:
    """CAR-HEMATOTOX score per patient from the last lab values before lymphodepletion.

    Parameters
    ----------
    labs : ``labs`` table (``patient_id, day, anc_per_ul, platelets_per_ul, hemoglobin_g_dl, crp_mg_dl,
        ferritin_ng_ml``; days relative to infusion, negative before it). Without a ``day`` column each row is
        taken as one patient's baseline.
    criteria : criteria file (default ``"hematotox2021"``).
    ld_start_day : day lymphodepletion started (default -5), a number or a mapping ``patient_id -> day``. For
        each variable the last value on or before that day and no more than ``lookback_days`` earlier is used.
    lookback_days : oldest acceptable value, in days before ``ld_start_day`` (default 14).

    Returns
    -------
    GradingResult
        ``table``: ``patient_id, system`` plus the five baseline values, their ``day_<variable>``,
        ``points_<variable>``, ``score`` (0-7) and ``risk`` ("low" 0-1, "high" >= 2); NA when a variable is
        missing (listed in ``excluded``). ``options["cutoffs_verified"]`` is False (see module docstring).

    Notes
    -----
    Rejeski K et al., Blood 2021;138(24):2499-2513. CRP in mg/dL (3.0 mg/dL = 30 mg/L). No R equivalent.
    """
    crit = load_criteria(criteria)
    variables = list(crit["variables"])
    clean, problems = check_labs(labs, required=("patient_id",))
    missing_cols = [v for v in variables if v not in clean]
    for v in missing_cols:
        clean[v] = np.nan
    if "day" in clean:
        if isinstance(ld_start_day, Mapping):
            ld = clean["patient_id"].map(pd.Series(ld_start_day, dtype=float)).to_numpy(dtype=float)
        else:
            ld = np.full(len(clean), float(ld_start_day))
        d = clean["day"].to_numpy(dtype=float)
        win = (d <= ld) & (d >= ld - lookback_days)
        base = clean[win].assign(_order=np.arange(int(win.sum())))
        base = base.sort_values(["day", "_order"], kind="stable")
        parts = []
        for v in variables:
            last = base.dropna(subset=[v]).groupby("patient_id", sort=False).tail(1).set_index("patient_id")
            parts.append(last[[v]].join(last[["day"]].rename(columns={"day": f"day_{v}"})))
        patients = pd.Index(clean["patient_id"].drop_duplicates(), name="patient_id")
        wide = pd.concat(parts, axis=1).reindex(patients)
    else:
        dup = clean["patient_id"].duplicated(keep=False).to_numpy()
        if dup.any():
            raise InputError("labs without a 'day' column must have one baseline row per patient; repeated "
                             f"patient_id {sorted(map(str, set(clean.loc[dup, 'patient_id'])))[:5]} (add 'day')")
        wide = clean.set_index("patient_id")[variables]
    wide = wide.reset_index()
    pts = hematotox_points(wide, criteria)
    table = pd.concat([wide, pts], axis=1)
    table.insert(1, "system", crit["system"])
    incomplete = table["score"].isna().to_numpy()
    reasons = [f"missing baseline {', '.join(v for v in variables if pd.isna(r[v]))}"
               for _, r in table[incomplete].iterrows()]
    excluded = pd.DataFrame({"patient_id": table.loc[incomplete, "patient_id"].to_numpy(), "reason": reasons})
    options = base_options(criteria=crit["name"], ld_start_day=ld_start_day if not isinstance(ld_start_day, Mapping)
                           else "per patient", lookback_days=lookback_days, baseline_rule="last value on or before "
                           "ld_start_day within lookback_days", crp_unit="mg/dL",
                           boundary_rule="value at a cut-off takes the lower-risk category, except platelets "
                           "75,000/uL -> 1 point and ferritin 2000 ng/mL -> 1 point",
                           cutoffs_verified=all(s["verified"] for s in crit["variables"].values()),
                           verification=crit["verification"], high_risk_min_score=crit["high_risk_min_score"])
    return GradingResult(table=table, observations=wide, system=crit["system"], criteria=criteria_header(crit),
                         options=options, problems=problems, excluded=excluded)
