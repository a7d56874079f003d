"""Turn the user's ``data`` + column names (or plain arrays) into checked numpy arrays.

Every check names the column and the first offending rows (0-based positions in ``data``), as the
contract of ``cart_outcomes.stats`` promises. Nothing here knows about CAR-T.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from cart_outcomes.errors import InputError

_SHOW = 5


def _rows(mask: np.ndarray) -> str:
    idx = np.flatnonzero(mask)
    shown = ", ".join(str(i) for i in idx[:_SHOW])
    more = f" and {idx.size - _SHOW} more" if idx.size > _SHOW else ""
    return f"row(s) {shown}{more}"


def column(data: Any, spec: Any, name: str) -> tuple[np.ndarray, str]:
    """Return ``(values, label)`` for ``spec``: a column name of ``data`` or an array-like."""
    if isinstance(spec, str):
        if data is None:
            raise InputError(f"{name}={spec!r} is a column name but no data frame was given")
        if spec not in data:
            raise InputError(f"{name}: column {spec!r} is not in the data (columns: {list(data.columns)})")
        return np.asarray(data[spec]), spec
    if spec is None:
        raise InputError(f"{name} is required")
    return np.asarray(spec), name


def as_frame(data: Any) -> pd.DataFrame | None:
    if data is None or isinstance(data, pd.DataFrame):
        return data
    return pd.DataFrame(data)


def times(values: np.ndarray, label: str, *, allow_zero: bool = True) -> np.ndarray:
    """Float times, finite and non-negative (strictly positive when ``allow_zero`` is False)."""
    try:
        t = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"column {label!r}: times must be numeric ({exc})") from None
    if t.ndim != 1:
        raise InputError(f"column {label!r}: times must be one-dimensional")
    if t.size == 0:
        raise InputError(f"column {label!r}: no observations (empty input)")
    bad = ~np.isfinite(t)
    if bad.any():
        raise InputError(f"column {label!r}: missing or non-finite time in {_rows(bad)}")
    bad = t < 0 if allow_zero else t <= 0
    if bad.any():
        rule = "negative" if allow_zero else "zero or negative"
        raise InputError(f"column {label!r}: {rule} time in {_rows(bad)}; times must be >= 0")
    return t


def events(values: np.ndarray, label: str, n: int) -> np.ndarray:
    """Boolean event indicator from bool or 0/1 values."""
    e = np.asarray(values)
    if e.shape != (n,):
        raise InputError(f"column {label!r}: length {e.size} differs from the time column ({n})")
    if e.dtype == bool:
        return e
    if e.dtype.kind in "iu":  # fast path (no float copy): two reductions, one conversion
        if e.size and (e.min() < 0 or e.max() > 1):
            bad = (e != 0) & (e != 1)
            raise InputError(f"column {label!r}: event must be 0/1 or boolean; bad value in {_rows(bad)}")
        return e.astype(bool)
    try:
        f = np.asarray(e, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"column {label!r}: event must be 0/1 or boolean") from None
    bad = (f != 0.0) & (f != 1.0)
    if bad.any():
        raise InputError(f"column {label!r}: event must be 0/1 or boolean; bad value in {_rows(bad)}")
    return f == 1.0


def groups(values: np.ndarray, label: str, n: int, *, min_levels: int = 1) -> tuple[np.ndarray, list]:
    """Integer codes 0..k-1 and the sorted level labels of a grouping column (missing values rejected)."""
    g = pd.Series(np.asarray(values, dtype=object) if np.asarray(values).dtype.kind == "O" else values)
    if len(g) != n:
        raise InputError(f"column {label!r}: length {len(g)} differs from the time column ({n})")
    bad = g.isna().to_numpy()
    if bad.any():
        raise InputError(f"column {label!r}: missing group in {_rows(bad)}")
    cat = pd.Categorical(g)
    levels = list(cat.categories)
    if len(levels) < min_levels:
        raise InputError(
            f"column {label!r}: needs at least {min_levels} groups to compare, found {len(levels)} "
            f"({levels}) in all {n} rows"
        )
    return cat.codes.astype(np.intp), levels


def weights(values: np.ndarray | None, label: str, n: int) -> np.ndarray | None:
    if values is None:
        return None
    w = np.asarray(values, dtype=float)
    if w.shape != (n,):
        raise InputError(f"column {label!r}: length {w.size} differs from the time column ({n})")
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise InputError(f"column {label!r}: weights must be finite and >= 0; bad value in {_rows(bad)}")
    return w


def names(spec: Sequence[str] | str | None) -> list[str]:
    if spec is None:
        return []
    return [spec] if isinstance(spec, str) else list(spec)
