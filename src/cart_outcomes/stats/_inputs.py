"""Turn the user's ``data`` + column names (or plain arrays) into checked numpy arrays.

Every check names the column and the first offending rows (0-based positions in ``data``), as the
contract of ``cart_outcomes.stats`` promises. Nothing here knows about CAR-T.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from cart_outcomes.errors import InputError
from cart_outcomes.stats import _events

_SHOW = 5


def rows(mask: np.ndarray) -> str:
    """``row(s) 3, 7, ...``: the first offending 0-based positions of ``mask``, for error messages."""
    idx = np.flatnonzero(mask)
    shown = ", ".join(str(i) for i in idx[:_SHOW])
    more = f" and {idx.size - _SHOW} more" if idx.size > _SHOW else ""
    return f"row(s) {shown}{more}"


def column(data: Any, spec: Any, name: str, *, categorical: bool = False) -> tuple[Any, str]:
    """Return ``(values, label)`` for ``spec``: a column name of ``data`` or an array-like.

    With ``categorical``, a pandas Categorical (column, Series or array) is returned as a ``pd.Categorical`` so that
    :func:`groups` can keep its declared level order (as R keeps factor levels); anything else is a numpy array.
    """
    if isinstance(spec, str):
        if data is None:
            raise InputError(f"{name}={spec!r} is a column name but no data frame was given")
        if spec not in data:
            raise InputError(f"{name}: column {spec!r} is not in the data (columns: {list(data.columns)})")
        values, label = data[spec], spec
    elif spec is None:
        raise InputError(f"{name} is required")
    else:
        values, label = spec, name
    if categorical and isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        return pd.Categorical(values), label
    return np.asarray(values), label


def as_frame(data: Any) -> pd.DataFrame | None:
    if data is None or isinstance(data, pd.DataFrame):
        return data
    return pd.DataFrame(data)


def times(
    values: np.ndarray,
    label: str,
    *,
    allow_zero: bool = True,
    allow_negative: bool = False,
    keep_int: bool = False,
    n: int | None = None,
) -> np.ndarray:
    """Float times, finite and non-negative (strictly positive when ``allow_zero`` is False; any finite value with
    ``allow_negative``, e.g. the start of a (start, stop] interval, as R ``coxph`` accepts).

    With ``keep_int``, non-negative integer days are returned as they are (nothing can be missing; no float copy
    at 1e7 rows: the counting pass bins them directly). ``n`` is the length of the time column the values belong
    with (entry or start times).
    """
    if keep_int and allow_zero and n is None:
        v = np.asarray(values)
        if v.ndim == 1 and v.size and v.dtype.kind in "iu" and v.min() >= 0:
            return v
    try:
        t = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"column {label!r}: times must be numeric ({exc})") from None
    if t.ndim != 1:
        raise InputError(f"column {label!r}: times must be one-dimensional")
    if t.size == 0:
        raise InputError(f"column {label!r}: no observations (empty input)")
    if n is not None and t.size != n:
        raise InputError(f"column {label!r}: length {t.size} differs from the time column ({n})")
    bad = ~np.isfinite(t)
    if bad.any():
        raise InputError(f"column {label!r}: missing or non-finite time in {rows(bad)}")
    if allow_negative:
        return t
    bad = t < 0 if allow_zero else t <= 0
    if bad.any():
        rule = "negative" if allow_zero else "zero or negative"
        raise InputError(f"column {label!r}: {rule} time in {rows(bad)}; times must be >= 0")
    return t


class TimeEvent(NamedTuple):
    """The time and event columns, as :func:`times` (``keep_int``) and :func:`events` return them, or with
    ``checked`` False, integer days and integer or boolean events as the user gave them: the counting pass
    (``event_table(..., checked=False)``) checks those on its way, and :meth:`check` words the error. (A named
    tuple: built on every call, in a few hundred nanoseconds.)"""

    time: np.ndarray
    event: np.ndarray
    time_label: str
    event_label: str
    checked: bool = True

    def check(self) -> TimeEvent:
        """Checked columns: raises the located error of the first bad column, as :func:`time_event` would have."""
        if self.checked:
            return self
        t = times(self.time, self.time_label, keep_int=True)
        return TimeEvent(t, events(self.event, self.event_label, t.size), self.time_label, self.event_label)


def time_event(frame: Any, time: Any, event: Any, *, defer: bool = False) -> TimeEvent:
    """The time and event columns of ``frame`` (or arrays), checked in this order as :func:`times` and
    :func:`events` do. With ``defer``, integer days with integer or boolean events of the same length (more than
    a few thousand rows) are left unchecked (``checked`` False) for the counting pass to check: each check is a
    pass through memory of its own, the counting pass makes them in the CPU cache."""
    t_raw, t_label = column(frame, time, "time")
    v = np.asarray(t_raw)
    if defer and v.ndim == 1 and v.size > _events._SMALL_N and v.dtype.kind in "iu" and np.can_cast(v.dtype, np.intp):
        try:
            e_raw, e_label = column(frame, event, "event")
        except InputError:
            times(v, t_label, keep_int=True)  # the time column's own error first, as when checked in turn
            raise
        e = np.asarray(e_raw)
        if e.shape == v.shape and e.dtype.kind in "biu":
            return TimeEvent(v, e, t_label, e_label, checked=False)
        t = times(v, t_label, keep_int=True)
        return TimeEvent(t, events(e, e_label, t.size), t_label, e_label)
    t = times(t_raw, t_label, keep_int=True)
    e_raw, e_label = column(frame, event, "event")
    return TimeEvent(t, events(e_raw, e_label, t.size), t_label, e_label)


def events(values: np.ndarray, label: str, n: int, *, name_missing: bool = False) -> np.ndarray:
    """Boolean event indicator from bool or 0/1 values.

    With ``name_missing``, missing values are reported as such (before the length check) rather than as values
    that are not 0/1.
    """
    if name_missing:
        na = pd.isna(pd.Series(values)).to_numpy()
        if na.any():
            raise InputError(f"column {label!r}: missing event status in {rows(na)}")
    e = np.asarray(values)
    if e.shape != (n,):
        raise InputError(f"column {label!r}: length {e.size} differs from the time column ({n})")
    if e.dtype == bool:
        return e
    if e.dtype.kind in "iu":  # fast path (no float copy): one reduction (negatives are > 1 as unsigned), one conversion
        if e.size and e.view(np.dtype(f"u{e.itemsize}")).max() > 1:
            bad = (e != 0) & (e != 1)
            raise InputError(f"column {label!r}: event must be 0/1 or boolean; bad value in {rows(bad)}")
        return e.astype(bool)
    try:
        f = np.asarray(e, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"column {label!r}: event must be 0/1 or boolean") from None
    bad = (f != 0.0) & (f != 1.0)
    if bad.any():
        raise InputError(f"column {label!r}: event must be 0/1 or boolean; bad value in {rows(bad)}")
    return f == 1.0


def groups(
    values: Any, label: str, n: int, *, min_levels: int = 1, direct_codes: int = 0, guess: bool = False
) -> tuple[np.ndarray, list]:
    """Integer codes 0..k-1 and the level labels of a grouping column (missing values rejected).

    Levels are the sorted distinct values, or for a ``pd.Categorical`` its declared categories in their order
    (as R keeps the order of factor levels), unused categories dropped (as ``survfit``/``survdiff`` drop empty
    levels). With ``direct_codes``, integer labels spanning fewer than that many values are used as codes directly
    (``values - min``, no hashing, sorting or counting pass); such levels may be absent from the data and
    ``min_levels`` is not applied to them: the caller drops empty levels and counts the rest. With ``guess`` (for
    ``event_table(..., checked=False)``, which checks every code is below the number of levels), that range is
    read from the first and last block of rows only (two passes less over the column): labels in any order whose
    least and greatest values occur there (shuffled or sorted) give the same codes and levels; otherwise the
    counting pass hands back and the caller codes the column again without guessing.
    """
    if isinstance(values, pd.Categorical):
        return _categorical_codes(values, label, n, min_levels)
    if direct_codes and values.dtype.kind in "iu" and values.shape == (n,) and n:
        ends = (values[: _events._BLOCK], values[-_events._BLOCK :]) if guess else (values,)
        lo, hi = int(min(v.min() for v in ends)), int(max(v.max() for v in ends))
        if hi - lo < direct_codes:
            return (values - lo if lo else values), list(range(lo, hi + 1))
    g = pd.Series(np.asarray(values, dtype=object) if np.asarray(values).dtype.kind == "O" else values)
    if len(g) != n:
        raise InputError(f"column {label!r}: length {len(g)} differs from the time column ({n})")
    bad = g.isna().to_numpy()
    if bad.any():
        raise InputError(f"column {label!r}: missing group in {rows(bad)}")
    cat = pd.Categorical(g)
    levels = list(cat.categories)
    _check_levels(levels, label, n, min_levels)
    return cat.codes.astype(np.intp), levels


def _categorical_codes(cat: pd.Categorical, label: str, n: int, min_levels: int) -> tuple[np.ndarray, list]:
    if len(cat) != n:
        raise InputError(f"column {label!r}: length {len(cat)} differs from the time column ({n})")
    codes = np.asarray(cat.codes)
    bad = codes < 0
    if bad.any():
        raise InputError(f"column {label!r}: missing group in {rows(bad)}")
    used = np.bincount(codes, minlength=len(cat.categories)) > 0
    levels = [lev for lev, u in zip(cat.categories, used, strict=True) if u]
    _check_levels(levels, label, n, min_levels)
    if used.all():
        return codes.astype(np.intp), levels
    return (np.cumsum(used) - 1)[codes].astype(np.intp), levels


def _check_levels(levels: list, label: str, n: int, min_levels: int) -> None:
    if len(levels) < min_levels:
        raise InputError(
            f"column {label!r}: needs at least {min_levels} groups to compare, found {len(levels)} "
            f"({levels}) in all {n} rows"
        )


def weights(values: np.ndarray | None, label: str, n: int) -> np.ndarray | None:
    if values is None:
        return None
    w = np.asarray(values, dtype=float)
    if w.shape != (n,):
        raise InputError(f"column {label!r}: length {w.size} differs from the time column ({n})")
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise InputError(f"column {label!r}: weights must be finite and >= 0; bad value in {rows(bad)}")
    return w


def names(spec: Sequence[str] | str | None) -> list[str]:
    if spec is None:
        return []
    return [spec] if isinstance(spec, str) else list(spec)
