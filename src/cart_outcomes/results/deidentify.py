"""De-identification of every output: study codes instead of patient ids, no calendar dates.

:func:`deidentify_run` is the one function that de-identifies a run; the runner applies it once, before anything is
drawn or written, when ``--deidentify`` is given. Days from infusion are kept (they carry the analysis); calendar
dates, free-text columns and columns the caller names as identifying are dropped. The code map (id -> code) is never
kept or written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from cart_outcomes.errors import InputError

if TYPE_CHECKING:
    from cart_outcomes.results.run import RunResult

__all__ = ["DATE_REMOVED", "FREE_TEXT_COLUMNS", "apply_code_map", "date_columns", "deidentify", "deidentify_run"]

#: Free-text columns removed by de-identification (they may name people or places).
FREE_TEXT_COLUMNS = ("notes", "note", "comments", "comment")
_DATE_TEXT = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\b"  # ISO date [time]
                        r"|\b\d{1,2}[/.]\d{1,2}[/.]\d{4}\b")  # day/month/year either way
DATE_REMOVED = "[date removed]"

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


def code_text(text: str, code_map: Mapping[str, str]) -> str:
    """Replace every original id (longest first, as whole tokens) and every calendar date in free text."""
    for pid in sorted(code_map, key=len, reverse=True):
        text = re.sub(rf"(?<![\w-]){re.escape(pid)}(?![\w-])", code_map[pid], text)
    return _DATE_TEXT.sub(DATE_REMOVED, text)


def _code_records(value: Any, code_map: Mapping[str, str]) -> Any:
    """A copy of a JSON-like value with ids coded and dates removed in every string."""
    if isinstance(value, dict):
        return {k: (code_map.get(str(v), v) if k == "patient_id" and v is not None else _code_records(v, code_map))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_code_records(v, code_map) for v in value]
    if isinstance(value, str):
        return code_text(value, code_map)
    return value


def _code_table(frame: pd.DataFrame, code_map: Mapping[str, str]) -> pd.DataFrame:
    out = frame.drop(columns=[c for c in date_columns(frame) if c != "patient_id"]
                     + [c for c in FREE_TEXT_COLUMNS if c in frame.columns])
    if "patient_id" in out.columns:
        out = apply_code_map(out, code_map)
    for column in out.columns:
        if column != "patient_id" and pd.api.types.is_string_dtype(out[column].dtype):  # object, str and string
            out[column] = out[column].map(lambda v: code_text(v, code_map) if isinstance(v, str) else v)
    return out


def deidentify_run(run: RunResult) -> RunResult:
    """The run with patient ids replaced by study codes (``PT-01`` ...) and calendar dates removed everywhere.

    The patients frame loses its date and free-text columns and gets coded ids; every table with a ``patient_id``
    column is coded; in the record every ``patient_id`` value is coded and ids and dates inside text (validation
    messages, values) are replaced, and ``input.deidentified`` says so. Day counts from infusion are kept. The code
    map is not kept anywhere; applying it twice changes nothing.
    """
    from cart_outcomes.results.records import Results

    if run.deidentified:
        return run
    drop = [c for c in FREE_TEXT_COLUMNS if c in run.patients.columns]
    patients, code_map = deidentify(run.patients, drop=drop)
    tables = {name: _code_table(t, code_map) for name, t in run.tables.items()}
    coded = _code_records(run.results, code_map)
    coded["input"]["deidentified"] = True
    record = Results.model_validate(coded)
    return dataclasses.replace(run, record=record, tables=tables, patients=patients, deidentified=True)
