"""Event counts: the rows of a survival data set collapsed to distinct (strata, group, entry, time, status) cells.

Kaplan-Meier, Nelson-Aalen, the log-rank family, Aalen-Johansen and Gray's test depend on the rows only through
the number of rows in each such cell, so a data set of 10^8 rows (visits, person-periods, claims) is analysed from
a table of a few thousand cells that a database builds with one GROUP BY (:mod:`cart_outcomes.engine`), or that
:func:`event_counts` builds from a DataFrame. The estimators take the cells with their row numbers as frequency
weights, which the counting pass (:func:`cart_outcomes.stats._events.event_table`) sums exactly (integers below
2^53), so every number equals the one computed from the rows themselves.

R equivalent: ``survfit``/``survdiff`` on the aggregated data with ``weights = n`` (identical counts at every
time; R's Greenwood variance uses the weighted counts, so the standard errors agree as well).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cart_outcomes._result import Result
from cart_outcomes.errors import InputError
from cart_outcomes.stats import _common

__all__ = ["EventCounts", "event_counts"]

#: name of the row-count column of :attr:`EventCounts.frame`
ROWS = "n_rows"


@dataclass(frozen=True, slots=True, eq=False)
class EventCounts(Result):
    """Rows collapsed to distinct cells, with the number of rows in each: the input of the estimators at scale.

    Attributes
    ----------
    frame : one row per distinct (strata..., by, entry, time, event) combination, in the user's column names, plus
        ``n_rows`` (the number of source rows in the cell).
    time, event : the time and event (0/1, or cause code) column names.
    by : the grouping column (``None``: one group). strata : tuple of stratum column names (may be empty).
    entry : the entry-time column (``None``: no left truncation).
    options : how the counts were made: engine, source, filters, seconds, package version.
    """

    frame: pd.DataFrame = field(repr=False)
    time: str
    event: str
    by: str | None = None
    strata: tuple = ()
    entry: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        cols = [self.time, self.event, *([self.by] if self.by else []), *self.strata,
                *([self.entry] if self.entry else []), ROWS]
        missing = [c for c in cols if c not in self.frame.columns]
        if missing:
            raise InputError(f"event counts: column(s) {missing} missing from the counts frame")
        if len(set(cols)) != len(cols):
            raise InputError(f"event counts: the columns must be distinct, got {cols}")

    @property
    def n_rows(self) -> int:
        """Number of source rows counted."""
        return int(self.frame[ROWS].sum())

    @property
    def n_cells(self) -> int:
        """Number of distinct cells."""
        return len(self.frame)

    def to_frame(self) -> pd.DataFrame:
        """The cells with their row numbers (a copy)."""
        return self.frame.copy()

    def _repr_html_(self) -> str:
        return self.frame.head(20)._repr_html_()

    def arguments(self, function: str, **given: Any) -> dict[str, Any]:
        """The column arguments an estimator is called with on :attr:`frame` (``weights`` = the row numbers).

        ``given`` holds the column arguments the caller passed beside the counts: each must be ``None`` or name the
        column the counts were made with (the counts fix the columns; ask the engine for other ones).
        """
        fixed = {
            "time": self.time,
            "event": self.event,
            "by": self.by,
            "strata": (self.strata[0] if len(self.strata) == 1 else list(self.strata)) if self.strata else None,
            "entry": self.entry,
            "weights": None,
        }
        if self.entry is not None and "entry" not in given:
            raise self.refuse(function, f"the counts carry entry times ({self.entry!r}), which it does not take")
        if len(self.strata) > 1 and "strata" in given and function == "gray_test":
            raise self.refuse(function, f"it takes one stratum column, the counts have {list(self.strata)}")
        for name, value in given.items():
            if value is None or _same_columns(value, fixed[name]):
                continue
            raise InputError(
                f"{function}: {name}={value!r} cannot be combined with event counts made for {name}="
                f"{fixed[name]!r}; count again with the columns you need (cart_outcomes.engine.event_counts)"
            )
        out = {name: fixed[name] for name in given}
        out["weights"] = self.frame[ROWS].to_numpy(dtype=np.int64)
        return out

    def refuse(self, function: str, why: str) -> InputError:
        """The error for an analysis that event counts cannot give exactly."""
        return InputError(f"{function} cannot be computed from event counts: {why}; pass the rows instead")

    def rows_per_group(self, groups: Sequence) -> np.ndarray:
        """Number of source rows per group, in the order of ``groups`` (the levels of a fit)."""
        if self.by is None:
            return np.array([self.n_rows])
        sums = self.frame.groupby(self.by, sort=False, dropna=False, observed=True)[ROWS].sum()
        return np.array([int(sums.get(g, 0)) for g in groups])

    def relabel(self, result: Any, **fields: Any) -> Any:
        """``result`` (a frozen dataclass fitted on :attr:`frame` with frequency weights) with the fields that
        describe the rows set from the counts, and ``weights`` in its options reset (there were none)."""
        opts = dict(result.options)
        if "weights" in opts and opts["weights"] is True:
            opts["weights"] = False
        opts.pop("version", None)
        opts["event_counts"] = dict(self.options, n_rows=self.n_rows, n_cells=self.n_cells)
        return dataclasses.replace(result, options=_common.options(**opts), **fields)


def _same_columns(a: Any, b: Any) -> bool:
    if isinstance(a, str) or isinstance(b, str) or a is None or b is None:
        return a == b
    return isinstance(a, Sequence) and isinstance(b, Sequence) and list(a) == list(b)


def event_counts(
    data: pd.DataFrame,
    time: str,
    event: str,
    by: str | None = None,
    *,
    strata: str | Sequence[str] | None = None,
    entry: str | None = None,
) -> EventCounts:
    """Collapse the rows of ``data`` to event counts (the in-memory engine).

    Parameters
    ----------
    data : DataFrame with the columns below.
    time, event : exit time and event (0/1 or cause code) column names.
    by : optional grouping column; strata : optional stratum column name or names; entry : optional entry time.

    Returns
    -------
    EventCounts
        One row per distinct combination of the columns, with ``n_rows``. Missing values stay cells of their own,
        so the estimators report them as they would for the rows.

    Equivalent R call::

        aggregate(n ~ strata + by + entry + time + event, transform(data, n = 1), sum)
    """
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"event_counts: data must be a DataFrame, got {type(data).__name__}")
    strata_cols = tuple([strata] if isinstance(strata, str) else list(strata or ()))
    keys = [*strata_cols, *([by] if by else []), *([entry] if entry else []), time, event]
    missing = [c for c in keys if c not in data.columns]
    if missing:
        raise InputError(f"event_counts: column(s) {missing} are not in the data (columns: {list(data.columns)})")
    if ROWS in keys:
        raise InputError(f"event_counts: {ROWS!r} is reserved for the row numbers; rename that column")
    frame = data.groupby(keys, sort=True, dropna=False, observed=True).size().rename(ROWS).reset_index()
    return EventCounts(frame, time, event, by, strata_cols, entry, _common.options(
        engine="memory", r_equivalent="aggregate(cbind(n.risk, n.event) ~ time + by, data) (survfit's counts)"))
