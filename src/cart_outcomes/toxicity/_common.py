"""Pieces shared by the grading modules: per-patient episode summaries and the result container."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cart_outcomes._result import Result
from cart_outcomes._version import __version__


def patient_key(patient_id: pd.Series) -> np.ndarray:
    """Integer codes that sort patients in their natural order (numbers numerically), falling back to text."""
    try:
        return pd.factorize(patient_id, sort=True)[0]
    except TypeError:
        return pd.factorize(patient_id.astype(str), sort=True)[0]


def episode_summary(patient_id: np.ndarray, day: np.ndarray, grade: np.ndarray) -> pd.DataFrame:
    """Per patient: max grade, onset day, resolution day, duration, number of observations (vectorised).

    onset = first day with grade >= 1; resolution = first observed day with grade 0 after the last day with grade
    >= 1 (missing when the last observation is still graded >= 1: unresolved at last assessment);
    duration_days = resolution_day - onset_day.
    """
    df = pd.DataFrame({"patient_id": patient_id, "day": day, "grade": grade})
    g = df.groupby("patient_id", sort=True)
    out = pd.DataFrame({"max_grade": g["grade"].max().astype(int), "n_observations": g.size()})
    pos = df[df["grade"] >= 1].groupby("patient_id")["day"]
    out["onset_day"] = pos.min()
    last_pos = df["patient_id"].map(pos.max())
    after = df[(df["grade"] == 0) & (df["day"] > last_pos)]
    out["resolution_day"] = after.groupby("patient_id")["day"].min()
    out["duration_days"] = out["resolution_day"] - out["onset_day"]
    resolved = pd.array(out["resolution_day"].notna().to_numpy(), dtype="boolean")
    resolved[out["onset_day"].isna().to_numpy()] = pd.NA
    out["resolved"] = resolved
    return out.reset_index()


@dataclass(frozen=True, slots=True)
class GradingResult(Result):
    """Result of a grading function.

    Attributes
    ----------
    table : per-patient summary (one row per patient).
    observations : the input rows with per-domain grades, the overall ``grade``, the ``rule`` id and ``rule_text``
        that set it; ``row`` is the spreadsheet row of the input (header = row 1).
    system : grading-system tag stored with every grade (e.g. ``"ASTCT2019"``).
    criteria : name, version and citation of the criteria table used.
    options : every counting decision applied, plus the cart-outcomes version.
    problems : data-quality warnings found (errors raise ``ValidationFailed`` instead).
    excluded : rows or patients not graded, with the reason (empty when nothing was excluded).
    """

    table: pd.DataFrame
    observations: pd.DataFrame
    system: str
    criteria: dict[str, Any]
    options: dict[str, Any]
    problems: list = field(default_factory=list)
    excluded: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["patient_id", "reason"]))

    def to_frame(self) -> pd.DataFrame:
        """The per-patient table (a copy)."""
        return self.table.copy()

    def _repr_html_(self) -> str:
        head = f"<p><b>{self.system}</b> ({self.criteria.get('citation', '')})</p>"
        return head + self.table.to_html(index=False)


def criteria_header(crit: dict[str, Any]) -> dict[str, Any]:
    return {k: crit[k] for k in ("name", "system", "version", "citation") if k in crit}


def base_options(**kw: Any) -> dict[str, Any]:
    return {"r_equivalent": None, **kw, "version": __version__}
