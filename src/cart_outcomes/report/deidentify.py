"""De-identification of every output: study codes instead of patient ids, no calendar dates.

Applied by the runner to each table before anything is drawn or written when ``--deidentify`` is given. Days from
infusion are kept (they carry the analysis); calendar dates, and columns the caller names as identifying, are
dropped. The code map (id -> code) is returned to the caller and is never written into the report.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence

import pandas as pd

from cart_outcomes.errors import InputError

__all__ = ["apply_code_map", "date_columns", "deidentify"]

_DATE_NAME = re.compile(r"(^|_)(date|datetime|dob|birth(day|date)?)($|_)", re.IGNORECASE)


def _natural_key(value: object) -> tuple:
    parts = re.split(r"(\d+)", str(value))
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def date_columns(frame: pd.DataFrame) -> list[str]:
    """Columns holding calendar dates: datetime dtypes, object columns of dates, and names such as ``*_date``."""
    found = []
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_datetime64_any_dtype(series) or _DATE_NAME.search(str(column)):
            found.append(column)
        elif series.dtype == object:
            sample = series.dropna()
            if len(sample) and sample.map(lambda v: isinstance(v, (pd.Timestamp, dt.date))).all():
                found.append(column)
    return found


def deidentify(patients: pd.DataFrame, *, id_column: str = "patient_id", prefix: str = "PT-",
               drop: Sequence[str] = ()) -> tuple[pd.DataFrame, dict[str, str]]:
    """Replace patient ids by study codes and drop calendar dates.

    Parameters
    ----------
    patients
        One row per patient (or any table with ``id_column``); not modified.
    id_column
        Column with the patient identifier.
    prefix
        Code prefix; codes are ``PT-01``, ``PT-02``, ... zero-padded to the width the cohort needs.
    drop
        Further identifying columns to remove (names, initials, record numbers, free-text notes).

    Returns
    -------
    (DataFrame, dict)
        The de-identified copy (same row order, ``id_column`` holding the codes, date and ``drop`` columns removed)
        and the map original id (as text) -> code. Codes follow the natural sort order of the ids, so they do not
        depend on the row order of the input and the same cohort always gets the same codes.
    """
    if id_column not in patients.columns:
        raise InputError(f"deidentify: id column {id_column!r} is not in the table")
    ids = patients[id_column]
    if ids.isna().any():
        raise InputError(f"deidentify: column {id_column!r} is missing at rows {ids.index[ids.isna()][:5].tolist()}")
    unknown = [c for c in drop if c not in patients.columns]
    if unknown:
        raise InputError(f"deidentify: columns to drop {unknown} are not in the table")
    distinct = sorted({str(v) for v in ids}, key=_natural_key)
    width = max(2, len(str(len(distinct))))
    code_map = {pid: f"{prefix}{k:0{width}d}" for k, pid in enumerate(distinct, start=1)}
    removed = set(date_columns(patients)) | set(drop)
    out = patients.drop(columns=[c for c in patients.columns if c in removed and c != id_column])
    return apply_code_map(out, code_map, id_column=id_column), code_map


def apply_code_map(frame: pd.DataFrame, code_map: Mapping[str, str], *, id_column: str = "patient_id") -> pd.DataFrame:
    """Replace ids in ``frame[id_column]`` by their codes (for the other tables of the same cohort).

    Raises :class:`~cart_outcomes.errors.InputError` when an id has no code, so an id can never pass through.
    """
    if id_column not in frame.columns:
        raise InputError(f"apply_code_map: id column {id_column!r} is not in the table")
    text = frame[id_column].map(lambda v: None if pd.isna(v) else str(v))
    unmapped = text.notna() & ~text.isin(list(code_map))
    if unmapped.any():
        raise InputError(f"apply_code_map: {int(unmapped.sum())} row(s) have ids without a study code, "
                         f"first rows {frame.index[unmapped][:5].tolist()}")
    out = frame.copy()
    out[id_column] = text.map(lambda v: None if v is None else code_map[v])
    return out
