"""Supporting laboratory flags for IEC-HS (ASTCT, Hines 2023). Flags only: the diagnosis is a clinician's input.

Thresholds live in ``criteria/iechs2023.json`` and are NOT verified against the paper's tables (see the file's
``note``). No R equivalent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cart_outcomes._result import Result
from cart_outcomes.toxicity._common import base_options
from cart_outcomes.toxicity.criteria import load_criteria
from cart_outcomes.toxicity.icaht import check_labs

__all__ = ["LabFlags", "iechs_lab_flags"]


@dataclass(frozen=True, slots=True)
class LabFlags(Result):
    """IEC-HS supporting flags: ``table`` (one row per patient and day) and the ``options`` (thresholds, citation)."""

    table: pd.DataFrame
    options: dict[str, Any]

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def iechs_lab_flags(labs: pd.DataFrame, criteria: str | Path | dict = "iechs2023", *, baseline_day: float = 0,
                    ferritin_uln_ng_ml: float | None = None, alt_uln_u_l: float | None = None,
                    ast_uln_u_l: float | None = None) -> LabFlags:
    """Per patient-day laboratory flags supporting (never making) an IEC-HS diagnosis.

    Parameters
    ----------
    labs : ``labs`` table; ``ferritin_ng_ml, anc_per_ul, platelets_per_ul, hemoglobin_g_dl`` are used when present,
        and the optional ``fibrinogen_mg_dl``, ``alt_u_l``, ``ast_u_l``.
    baseline_day : ferritin baseline = last ferritin on or before this day (default 0, the infusion day).
    ferritin_uln_ng_ml, alt_uln_u_l, ast_uln_u_l : laboratory upper limits of normal; flags that need them are
        NA without them.

    Returns
    -------
    LabFlags whose ``table`` has one row per patient and day after ``baseline_day`` (lowest count / highest ferritin and
    transaminase of the day): ``ferritin_fold_baseline``, ``ferritin_gt_2x_baseline``, ``ferritin_gt_2x_uln``,
    ``ferritin_rising`` (higher than the previous measured day), ``anc_lt_500``, ``platelets_lt_50000``,
    ``hemoglobin_lt_8``, ``hypofibrinogenemia`` (< 150 mg/dL), ``transaminitis`` (ALT or AST > 5x ULN) and
    ``n_flags``; ``options`` records thresholds and the criteria citation.

    Reference: Hines MR et al., Transplant Cell Ther 2023;29(7):438.e1-438.e16.
    """
    c = load_criteria(criteria)
    clean, _ = check_labs(labs)
    for col in ("fibrinogen_mg_dl", "alt_u_l", "ast_u_l", "ferritin_ng_ml", "anc_per_ul", "platelets_per_ul",
                "hemoglobin_g_dl"):
        clean[col] = pd.to_numeric(clean[col], errors="coerce") if col in clean else np.nan
    day = np.floor(clean["day"].to_numpy(dtype=float))
    clean = clean.assign(day=day)
    agg = {"ferritin_ng_ml": "max", "alt_u_l": "max", "ast_u_l": "max", "anc_per_ul": "min",
           "platelets_per_ul": "min", "hemoglobin_g_dl": "min", "fibrinogen_mg_dl": "min"}
    daily = clean.groupby(["patient_id", "day"], sort=True).agg(agg).reset_index()
    base = (daily[(daily["day"] <= baseline_day)].dropna(subset=["ferritin_ng_ml"])
            .groupby("patient_id")["ferritin_ng_ml"].last())
    fer_rows = daily.dropna(subset=["ferritin_ng_ml"])
    daily["_prev_ferritin"] = fer_rows.groupby("patient_id")["ferritin_ng_ml"].shift(1).reindex(daily.index)
    out = daily[daily["day"] > baseline_day].copy()
    fer = out["ferritin_ng_ml"]
    out["ferritin_fold_baseline"] = fer / out["patient_id"].map(base)
    out["ferritin_gt_2x_baseline"] = _flag(out["ferritin_fold_baseline"] > c["ferritin_fold_baseline"],
                                           out["ferritin_fold_baseline"])
    uln_fer = np.nan if ferritin_uln_ng_ml is None else ferritin_uln_ng_ml
    out["ferritin_gt_2x_uln"] = _flag(fer > c["ferritin_fold_uln"] * uln_fer, fer * uln_fer)
    prev = out.pop("_prev_ferritin")
    out["ferritin_rising"] = _flag(fer > prev, prev * fer)
    out["anc_lt_500"] = _flag(out["anc_per_ul"] < c["anc_cytopenia_per_ul"], out["anc_per_ul"])
    out["platelets_lt_50000"] = _flag(out["platelets_per_ul"] < c["platelet_cytopenia_per_ul"],
                                      out["platelets_per_ul"])
    out["hemoglobin_lt_8"] = _flag(out["hemoglobin_g_dl"] < c["hemoglobin_cytopenia_g_dl"], out["hemoglobin_g_dl"])
    out["hypofibrinogenemia"] = _flag(out["fibrinogen_mg_dl"] < c["fibrinogen_low_mg_dl"], out["fibrinogen_mg_dl"])
    alt_x = out["alt_u_l"] / (np.nan if alt_uln_u_l is None else alt_uln_u_l)
    ast_x = out["ast_u_l"] / (np.nan if ast_uln_u_l is None else ast_uln_u_l)
    fold = np.fmax(alt_x.to_numpy(dtype=float), ast_x.to_numpy(dtype=float))
    out["transaminitis"] = _flag(pd.Series(fold > c["transaminase_fold_uln"], index=out.index),
                                 pd.Series(fold, index=out.index))
    flags = ["ferritin_gt_2x_baseline", "ferritin_gt_2x_uln", "ferritin_rising", "anc_lt_500", "platelets_lt_50000",
             "hemoglobin_lt_8", "hypofibrinogenemia", "transaminitis"]
    out["n_flags"] = out[flags].fillna(False).astype(int).sum(axis=1)
    out = out.reset_index(drop=True)
    return LabFlags(out, base_options(criteria=c["name"], citation=c["citation"], note=c["note"],
                                        baseline_day=baseline_day, ferritin_uln_ng_ml=ferritin_uln_ng_ml,
                                        alt_uln_u_l=alt_uln_u_l, ast_uln_u_l=ast_uln_u_l))


def _flag(condition: pd.Series, basis: pd.Series) -> pd.Series:
    """Nullable boolean: NA where the value(s) the flag needs are missing."""
    arr = pd.array(np.asarray(condition, dtype=bool), dtype="boolean")
    arr[np.isnan(np.asarray(basis, dtype=float))] = pd.NA
    return pd.Series(arr, index=condition.index)
