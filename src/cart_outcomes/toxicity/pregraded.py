"""Per-patient grades as one shape (``patient_id, toxicity, grade, system``), from grading results or pre-graded data.

Decision (documented in docs/toxicity.md): grades from different grading systems are never pooled. By default a
pre-graded column mixing systems is an error (``on_mixed="error"``); with ``on_mixed="separate"`` a
``DataQualityWarning`` is emitted and every grade keeps its system, so the safety tables give one block per system.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pandas as pd

from cart_outcomes.cohort.validate import Problem
from cart_outcomes.errors import DataQualityWarning, InputError
from cart_outcomes.toxicity._common import GradingResult
from cart_outcomes.toxicity._validate import Checker

__all__ = ["NOT_STATED", "SYSTEM_ALIASES", "normalise_system", "patient_grades", "pregraded_grades"]

#: The system of a pre-graded grade whose sheet does not say which system graded it (never assumed to be ASTCT).
NOT_STATED = "grading system not stated"

#: spelling variants -> canonical grading-system tag (case, spaces, dots, dashes and underscores ignored)
SYSTEM_ALIASES = {
    "astct": "ASTCT2019", "astct2019": "ASTCT2019", "asbmt": "ASTCT2019", "lee2019": "ASTCT2019",
    "astcticans": "ASTCT2019", "icans": "ASTCT2019",
    "penn": "Penn", "upenn": "Penn", "upennchop": "Penn", "porter2018": "Penn",
    "lee2014": "Lee2014", "nci": "Lee2014", "nciconsensus": "Lee2014",
    "ctcae5": "CTCAE_v5", "ctcaev5": "CTCAE_v5", "ctcaev50": "CTCAE_v5",
    "ctcae4": "CTCAE_v4", "ctcaev4": "CTCAE_v4", "ctcaev403": "CTCAE_v4",
    "mskcc": "MSKCC", "cartox": "CARTOX", "cartoxcres": "CARTOX", "cres": "CARTOX", "mdacc": "CARTOX",
}


def normalise_system(value: Any) -> str | None:
    """Canonical tag for a grading-system label (unknown labels are kept as written, stripped)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    key = re.sub(r"[\s._\-/]", "", str(value)).lower()
    return SYSTEM_ALIASES.get(key, str(value).strip())


def pregraded_grades(cohort: pd.DataFrame, toxicity: str = "crs", *, grade_column: str | None = None,
                     system_column: str | None = None, default_system: str | None = None,
                     on_mixed: str = "error") -> pd.DataFrame:
    """Per-patient grades read from a cohort that only has ``crs_grade``/``icans_grade`` columns.

    Parameters
    ----------
    cohort : a :class:`~cart_outcomes.cohort.io.Cohort` (its ``patients`` table is used) or a frame with one row per
        patient with ``patient_id``, ``<toxicity>_grade`` (0-5; missing = not assessed) and
        ``<toxicity>_grading_system`` (e.g. ASTCT2019, Penn, Lee2014, CTCAE_v5, MSKCC, CARTOX).
    toxicity : ``"crs"`` or ``"icans"`` (sets the default column names).
    default_system : system for rows whose system cell is empty (for a column with no system at all, this must be
        given: a grade without its system is refused).
    on_mixed : ``"error"`` (default) or ``"separate"`` (warn and keep one system per row; never pooled).

    Returns
    -------
    DataFrame ``patient_id, toxicity, grade, system`` (grade is nullable Int64).
    """
    if on_mixed not in ("error", "separate"):
        raise InputError(f"on_mixed={on_mixed!r}: expected 'error' or 'separate'")
    gcol = grade_column or f"{toxicity}_grade"
    scol = system_column or f"{toxicity}_grading_system"
    chk = Checker(cohort, "patients")
    chk.require_columns(["patient_id", gcol])
    if scol not in chk.frame and default_system is None:
        chk.problems.append(Problem(rule="MISSING_SYSTEM", severity="error", table="patients", column=scol,
                                    message=f"{gcol} has no grading system: add a column {scol!r} or pass "
                                            "default_system="))
    if any(p.severity == "error" for p in chk.problems):
        chk.finish()
    grade = chk.numeric(gcol, required=False, lo=0, hi=5, rule_range="GRADE_RANGE", integer=True)
    # object dtype throughout: pandas 3 infers an Arrow null type when every label of an Arrow-backed column maps to
    # None, which then refuses the default system
    if scol in chk.frame:
        codes, labels = pd.factorize(chk.frame[scol])  # each distinct label normalised once, not once per row
        tags = np.array([*(normalise_system(v) for v in labels), None], dtype=object)
        system = pd.Series(tags[codes], index=chk.frame.index, dtype=object)
    else:
        system = pd.Series([None] * len(chk.frame), index=chk.frame.index, dtype=object)
    if default_system is not None:
        system = system.fillna(normalise_system(default_system))
    chk.add((~np.isnan(grade)) & system.isna().to_numpy(), "MISSING_SYSTEM", scol,
            "a grade without its grading system cannot be used")
    chk.finish()
    out = pd.DataFrame({"patient_id": chk.frame["patient_id"].to_numpy(), "toxicity": toxicity,
                        "grade": pd.array(np.where(np.isnan(grade), 0, grade).astype(int), dtype="Int64"),
                        "system": system.to_numpy()})
    out.loc[np.isnan(grade), "grade"] = pd.NA
    used = sorted(out.loc[out["grade"].notna(), "system"].unique())
    if len(used) > 1:
        counts = out.loc[out["grade"].notna(), "system"].value_counts().to_dict()
        msg = f"{gcol} mixes grading systems {counts}; grades from different systems are never pooled"
        if on_mixed == "error":
            raise InputError(msg + " (pass on_mixed='separate' to keep one block per system)")
        warnings.warn(msg + ": the safety tables report one block per system", DataQualityWarning, stacklevel=2)
    return out


def patient_grades(result: GradingResult, toxicity: str, *, column: str = "max_grade") -> pd.DataFrame:
    """Per-patient grades ``patient_id, toxicity, grade, system`` from a ``grade_crs``/``grade_icans`` result
    (``column="max_grade"``) or from ``grade_icaht`` (``column="early_grade"`` or ``"late_grade"``)."""
    if column not in result.table:
        raise InputError(f"column={column!r} is not in the result table (columns: {list(result.table.columns)})")
    return pd.DataFrame({"patient_id": result.table["patient_id"].to_numpy(), "toxicity": toxicity,
                         "grade": pd.array(result.table[column], dtype="Int64"), "system": result.system})
