"""Checked access to the canonical patients table (day columns, response columns, patient ids in messages)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from cart_outcomes.cohort.schema import RESPONSES
from cart_outcomes.errors import InputError

_SHOW = 5


def require(patients: object, columns: Iterable[str]) -> pd.DataFrame:
    """The patients frame, after checking it is a DataFrame holding ``columns``."""
    if not isinstance(patients, pd.DataFrame):
        raise InputError(f"patients must be a pandas DataFrame, got {type(patients).__name__}")
    missing = [c for c in columns if c not in patients.columns]
    if missing:
        raise InputError(f"the patients table has no column(s) {missing} (columns: {list(patients.columns)})")
    return patients


def patient_list(patients: pd.DataFrame) -> Callable[[np.ndarray], str]:
    """A formatter naming the patients selected by a boolean mask (patient_id if present, else row position)."""
    if "patient_id" in patients.columns:
        labels = patients["patient_id"].astype(str).to_numpy()
    else:
        labels = np.array([f"row {i}" for i in range(len(patients))], dtype=object)

    def fmt(mask: np.ndarray) -> str:
        hit = labels[np.asarray(mask, dtype=bool)]
        shown = ", ".join(hit[:_SHOW])
        return shown + (f" and {hit.size - _SHOW} more" if hit.size > _SHOW else "")

    return fmt


def day_values(patients: pd.DataFrame, column: str) -> np.ndarray:
    """Float array of a day column (NaN when empty), checking the values are whole numbers of days >= 0."""
    require(patients, [column])
    raw = patients[column]
    try:
        days = pd.to_numeric(raw, errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        bad = pd.to_numeric(raw, errors="coerce").isna() & raw.notna()
        raise InputError(
            f"column {column!r}: not a number of days for patient(s) {patient_list(patients)(bad.to_numpy())}"
        ) from None
    bad = ~np.isnan(days) & ((days < 0) | ~np.isfinite(days) | (days != np.round(days)))
    if bad.any():
        raise InputError(
            f"column {column!r}: days after infusion must be whole numbers >= 0; bad value for patient(s) "
            f"{patient_list(patients)(bad)}"
        )
    return days


def response_values(patients: pd.DataFrame, column: str) -> np.ndarray:
    """Object array of a response column (None when empty), checking the vocabulary."""
    require(patients, [column])
    values = patients[column].astype(object).where(patients[column].notna(), None).to_numpy()
    bad = patients[column].notna().to_numpy() & ~pd.Series(values, dtype=object).isin(RESPONSES).to_numpy()
    if bad.any():
        shown = sorted({str(v) for v in values[bad]})
        raise InputError(
            f"column {column!r}: unknown response {shown} for patient(s) {patient_list(patients)(bad)}; "
            f"allowed: {', '.join(RESPONSES)}"
        )
    return values


def check_categories(option: str, categories: Iterable[str]) -> tuple[str, ...]:
    """A tuple of response categories, each from the schema vocabulary."""
    cats = tuple(categories)
    unknown = [c for c in cats if c not in RESPONSES]
    if unknown or not cats:
        raise InputError(f"{option}: {unknown or 'nothing'} given; choose from {', '.join(RESPONSES)}")
    return cats


def in_categories(values: np.ndarray, categories: tuple[str, ...]) -> np.ndarray:
    return pd.Series(values, dtype=object).isin(categories).to_numpy()
