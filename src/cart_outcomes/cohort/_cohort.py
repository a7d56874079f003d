"""The :class:`Cohort` read into canonical tables, and the typed empty table of a schema table.

Kept apart from reading (``io.py``) and validation (``validate.py``) so that both import it and neither imports
the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cart_outcomes.cohort._assumptions import Assumption
from cart_outcomes.cohort._grouping import group_problems
from cart_outcomes.cohort._problems import Problem, ValidationReport
from cart_outcomes.cohort.mapping import DataMapping
from cart_outcomes.cohort.schema import TABLES, Column, Table
from cart_outcomes.errors import ValidationFailed


@dataclass(frozen=True, slots=True)
class Cohort:
    """A cohort read into canonical tables.

    Attributes
    ----------
    tables : Mapping[str, pandas.DataFrame]
        Canonical tables present in the source (``patients`` always, possibly with no rows). Each frame has
        ``source_row`` (the spreadsheet row number), every canonical column of its table in schema order (absent
        ones all-missing), then any unknown columns unchanged. Dtypes: text/category ``string``, integer/day
        ``Int64``, number ``float64``, date ``datetime64[ns]``, boolean ``boolean``. In ``patients`` every
        ``<event>_day`` column is filled: given directly, or computed as ``<event>_date - infusion_date`` in days.
    source : str
        The file or folder read.
    sha256 : Mapping[str, str]
        SHA-256 of each file read (file name -> hex digest).
    provided : Mapping[str, tuple[str, ...]]
        Per table, the canonical columns that were present in the source (as opposed to filled in as missing).
    read_problems : tuple[Problem, ...]
        Problems found while reading cells (types, vocabularies, dates, Excel errors, headers, sheets).
    report : ValidationReport
        ``read_problems`` plus every problem found by :func:`~cart_outcomes.cohort.validate.validate`.
    mapping : DataMapping
        The mapping used to read the source.
    headers : Mapping[str, Mapping[str, str]]
        Per table, canonical column -> the header it was read from (problems name the column as the user sees it).
    assumptions : tuple[Assumption, ...]
        Every guess reading relied on (header row, column and value mappings, date order, decimal mark), each with
        its evidence (:mod:`cart_outcomes.cohort._assumptions`).
    """

    tables: Mapping[str, pd.DataFrame]
    source: str
    sha256: Mapping[str, str]
    provided: Mapping[str, tuple[str, ...]]
    read_problems: tuple[Problem, ...]
    report: ValidationReport
    mapping: DataMapping
    headers: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    assumptions: tuple[Assumption, ...] = ()

    @property
    def patients(self) -> pd.DataFrame:
        """The ``patients`` table."""
        return self.tables["patients"]

    def table(self, name: str) -> pd.DataFrame:
        """A canonical table; an empty frame with the canonical columns when the source has none."""
        if name not in TABLES:
            raise KeyError(f"unknown table {name!r}; tables are {list(TABLES)}")
        if name in self.tables:
            return self.tables[name]
        return empty_table(TABLES[name])

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v)}" for k, v in self.tables.items())
        return (f"Cohort(source={self.source!r}, {sizes}, errors={len(self.report.errors)}, "
                f"warnings={len(self.report.warnings)})")

    def require_valid(self) -> Cohort:
        """Return the cohort if it has no validation errors; otherwise raise ValidationFailed listing them all."""
        if not self.report.ok:
            raise ValidationFailed(list(self.report.errors), summary=group_problems(self, errors_only=True))
        return self


def typed_empty(c: Column, n: int) -> pd.Series:
    """``n`` missing values of column ``c`` in its canonical dtype (its default, if any, when ``n > 0``)."""
    if c.dtype in ("text", "category"):
        return pd.Series(pd.NA if c.default is None or n == 0 else c.default, index=range(n), dtype="string")
    if c.dtype in ("integer", "day"):
        return pd.Series(pd.NA, index=range(n), dtype="Int64")
    if c.dtype == "number":
        return pd.Series(np.nan, index=range(n), dtype="float64")
    if c.dtype == "date":
        return pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    return pd.Series(pd.NA, index=range(n), dtype="boolean")


def empty_table(t: Table) -> pd.DataFrame:
    """Table ``t`` with no rows: ``source_row`` then every canonical column in its canonical dtype."""
    cols = {"source_row": pd.Series([], dtype="int64")}
    cols.update({c.name: typed_empty(c, 0) for c in t.columns})
    return pd.DataFrame(cols)
