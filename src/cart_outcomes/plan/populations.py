"""Analysis populations: ``all``, ``responders``, or conditions on any column of the cohort.

A condition set is a mapping ``{column: condition}``, every condition must hold (AND):

- a level or a list of levels: ``{diagnosis: [B-ALL, LBCL]}``, ``{sex: F}``;
- a comparison of a numeric column with a number: ``{age_years: ">= 65"}`` (``>=``, ``>``, ``<=``, ``<``, ``==``,
  ``!=``);
- ``responders: true`` (or ``false``): responders at the plan's ``response_day`` (or the others).

Patients with no value in a column named by a condition are outside the population. Every output states the
population in words (:func:`describe`), e.g. ``diagnosis in {B-ALL}, age_years >= 65``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from cart_outcomes.errors import InputError

__all__ = ["RESPONDERS_KEY", "check_population", "describe", "meets", "parse_condition", "select", "slug"]

#: The key of a condition set that selects responders (not a column).
RESPONDERS_KEY = "responders"

_OPS: dict[str, Callable[[Any, Any], Any]] = {">=": operator.ge, "<=": operator.le, "!=": operator.ne,
                                              "==": operator.eq, ">": operator.gt, "<": operator.lt}
_COMPARISON = re.compile(r"^\s*(>=|<=|!=|==|>|<)\s*([-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?)\s*$")


def parse_condition(value: Any) -> tuple[str, float] | None:
    """``(operator, number)`` of a comparison such as ``">= 65"``; ``None`` when ``value`` is not one."""
    if not isinstance(value, str):
        return None
    m = _COMPARISON.match(value)
    return (m.group(1), float(m.group(2))) if m else None


def _levels(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _number(v: Any) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _matches(series: pd.Series, levels: list) -> pd.Series:
    """Rows whose value is one of ``levels``: compared as numbers on a numeric column, as text otherwise."""
    numbers = [_number(v) for v in levels]
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series) and None not in numbers:
        return series.isin(numbers).fillna(False).astype(bool)
    return series.astype("string").isin([str(v) for v in levels]).fillna(False).astype(bool)


def meets(series: pd.Series, condition: str) -> pd.Series:
    """Rows of a numeric column meeting a comparison such as ``">= 65"`` (missing values never do)."""
    op, value = parse_condition(condition) or (None, None)
    if op is None:
        raise InputError(f"{condition!r} is not a comparison such as '>= 65'")
    numeric = pd.to_numeric(series, errors="coerce")
    return _OPS[op](numeric, value).fillna(False).astype(bool) & numeric.notna()


def describe(spec: str | Mapping[str, Any]) -> str:
    """The population in words: ``all``, ``responders``, or ``diagnosis in {B-ALL}, age_years >= 65``."""
    if isinstance(spec, str):
        return spec
    parts = []
    for col, value in spec.items():
        if col == RESPONDERS_KEY:
            parts.append("responders" if value else "non-responders")
        elif (cond := parse_condition(value)) is not None:
            parts.append(f"{col} {cond[0]} {cond[1]:g}")
        else:
            parts.append(f"{col} in {{{', '.join(str(v) for v in _levels(value))}}}")
    return ", ".join(parts)


def slug(spec: str | Mapping[str, Any]) -> str:
    """A file-name-safe name of the population (analysis ids and table names): ``diagnosis-B-ALL_age_years-ge65``."""
    if isinstance(spec, str):
        return spec
    names = {">=": "ge", ">": "gt", "<=": "le", "<": "lt", "==": "eq", "!=": "ne"}
    parts = []
    for col, value in spec.items():
        cond = parse_condition(value)
        text = (f"{names[cond[0]]}{cond[1]:g}" if cond is not None
                else "-".join(str(v) for v in _levels(value)) if col != RESPONDERS_KEY else str(bool(value)).lower())
        parts.append(f"{col}-{text}")
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", "_".join(parts))


def check_population(spec: str | Mapping[str, Any], frame: pd.DataFrame, where: str) -> list[str]:
    """Problems of a condition set against the cohort: unknown columns, levels not in the data, comparisons on a
    non-numeric column (each message names ``where``, the column and what the cohort has)."""
    if isinstance(spec, str):
        return []
    problems = []
    for col, value in spec.items():
        if col == RESPONDERS_KEY:
            if not isinstance(value, bool):
                problems.append(f"{where}: population {col}: must be true or false, got {value!r}")
            continue
        if col not in frame.columns:
            problems.append(f"{where}: population column {col!r} is not in the cohort")
            continue
        series = frame[col]
        cond = parse_condition(value)
        if cond is not None:
            numeric = pd.to_numeric(series, errors="coerce")
            if numeric.notna().sum() < series.notna().sum() or not numeric.notna().any():
                problems.append(f"{where}: population {col}: {value!r} compares with a number, but column {col!r} "
                                "is not numeric")
            continue
        present = {str(v) for v in series.dropna().unique()}
        unknown = [v for v in _levels(value) if not _matches(series, [v]).any()]
        if unknown:
            problems.append(f"{where}: population {col}: {', '.join(repr(str(v)) for v in unknown)} not found in "
                            f"column {col!r} (values: {', '.join(sorted(present)) or 'none'})")
    return problems


def select(frame: pd.DataFrame, spec: str | Mapping[str, Any], responders: Callable[[pd.DataFrame], pd.Series]
           ) -> pd.DataFrame:
    """The rows of ``frame`` in the population; ``responders(frame)`` is the boolean responder mask."""
    if spec == "all":
        return frame
    if spec == RESPONDERS_KEY:
        return frame[responders(frame)]
    if isinstance(spec, str):
        raise InputError(f"population must be 'all', 'responders' or a mapping of conditions, got {spec!r}")
    keep = pd.Series(True, index=frame.index)
    for col, value in spec.items():
        if col == RESPONDERS_KEY:
            mask = responders(frame).astype(bool)
            keep &= mask if value else ~mask
            continue
        if col not in frame.columns:
            raise InputError(f"population column {col!r} is not in the cohort")
        series = frame[col]
        if parse_condition(value) is not None:
            keep &= meets(series, value)
        else:
            keep &= _matches(series, _levels(value))
    return frame[keep.to_numpy(bool)]
