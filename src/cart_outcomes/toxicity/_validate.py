"""Located checks of toxicity observation tables (vectorised; every problem names patient, row, column, value).

Problems are collected by the cohort's :class:`~cart_outcomes.cohort.validate.ProblemCollector` (rule, severity,
message, table, patient_id, row, column, value) and the rule codes are the cohort's where they mean the same thing
(BEFORE_INFUSION, OUT_OF_RANGE, VOCABULARY, BAD_NUMBER, BAD_BOOLEAN, MISSING_VALUE, MISSING_COLUMN, IMPLAUSIBLE_AGE,
GRADE_RANGE); toxicity adds CONTRADICTION, WRONG_TOOL and MISSING_SYSTEM. ``row`` is the row number the user sees
in the spreadsheet (header = row 1, first data row = row 2); ``value`` is the cell as text.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from cart_outcomes.cohort.validate import Problem, ProblemCollector, boolean_cells, input_frame
from cart_outcomes.errors import DataQualityWarning, ValidationFailed

_SHOW = 20




class Checker(ProblemCollector):
    """Collects problems over a toxicity table (lazy, like pandera's lazy mode) and raises once at the end."""

    def __init__(self, data: Any, table: str, id_column: str = "patient_id") -> None:
        super().__init__(input_frame(data, table), table, id_column=id_column)

    def require_columns(self, columns: Sequence[str], *, allow_empty: bool = False) -> bool:
        if len(self.frame) == 0 and not allow_empty:
            self.problems.append(Problem(rule="NO_DATA_ROWS", severity="error", table=self.table,
                                         message=f"{self.table} has no data rows: nothing to grade"))
        missing = [c for c in columns if c not in self.frame.columns]
        for c in missing:
            self.problems.append(Problem(rule="MISSING_COLUMN", severity="error", table=self.table, column=c,
                                         message=f"required column {c!r} is missing from {self.table} "
                                                 f"(columns present: {list(self.frame.columns)})"))
        return not missing and (allow_empty or len(self.frame) > 0)

    # -- typed column checks, each returning the cleaned column ---------------------------------------------------
    def numeric(self, column: str, *, required: bool = True, lo: float | None = None, hi: float | None = None,
                rule_range: str = "OUT_OF_RANGE", unit: str = "", integer: bool = False) -> np.ndarray:
        raw = self.frame[column]
        num = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
        not_num = np.isnan(num) & raw.notna().to_numpy()
        self.add(not_num, "BAD_NUMBER", column, lambda v: f"{v!r} is not a number")
        missing = raw.isna().to_numpy()
        if required:
            self.add(missing, "MISSING_VALUE", column, "value is missing")
        ok = ~np.isnan(num)
        if lo is not None or hi is not None:
            lo_ = -np.inf if lo is None else lo
            hi_ = np.inf if hi is None else hi
            bad = ok & ((num < lo_) | (num > hi_))
            self.add(bad, rule_range, column, lambda v: f"{v}{unit} is outside the plausible range [{lo}, {hi}]{unit}")
        if integer:
            self.add(ok & (num != np.round(num)), "BAD_NUMBER", column, lambda v: f"{v} is not a whole number")
        return num

    def boolean(self, column: str, *, required: bool = True) -> np.ndarray:
        """Booleans from bool/0/1/yes/no/true/false; missing -> False with a warning (or error if ``required``)."""
        truthy, bad, missing = boolean_cells(self.frame[column])
        self.add(bad, "BAD_BOOLEAN", column, lambda v: f"{v!r} is not true/false")
        self.add(missing, "MISSING_VALUE", column, "value is missing (counted as false)",
                 severity="error" if required else "warning")
        return truthy

    def category(self, column: str, allowed: Iterable[str], *, rule: str = "VOCABULARY",
                 missing_as: str | None = None) -> np.ndarray:
        allowed = list(allowed)
        raw = self.frame[column]
        arr = _normalised_text(raw)
        missing = raw.isna().to_numpy()
        if missing_as is not None:
            arr = np.where(missing, missing_as, arr)
            self.add(missing, "MISSING_VALUE", column, f"value is missing (taken as {missing_as!r})", "warning")
        else:
            self.add(missing, "MISSING_VALUE", column, "value is missing")
        bad = ~np.isin(arr, allowed) & ~missing

        def msg(v: Any) -> str:
            close = difflib.get_close_matches(str(v).strip().lower(), allowed, n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            return f"{v!r} is not one of {allowed}{hint}"

        self.add(bad, rule, column, msg)
        return arr

    def day(self, column: str = "day", *, allow_negative: bool = False) -> np.ndarray:
        d = self.numeric(column, integer=False)
        if not allow_negative:
            self.add(~np.isnan(d) & (d < 0), "BEFORE_INFUSION", column,
                     lambda v: f"day {v} is before the infusion (day 0); {self.table} starts at day 0")
        return d

    # -- end --------------------------------------------------------------------------------------------------------
    def finish(self) -> list[Problem]:
        """Raise ``ValidationFailed`` if any error was found; else warn once about warnings and return them."""
        self.problems.sort(key=lambda p: (p.row is not None, p.row or 0))
        errors = [p for p in self.problems if p.severity == "error"]
        if errors:
            shown = "\n".join(str(p) for p in errors[:_SHOW])
            more = f"\n... and {len(errors) - _SHOW} more" if len(errors) > _SHOW else ""
            raise ValidationFailed(self.problems, f"{self.table}: {len(errors)} problem(s) prevent grading:\n"
                                                  f"{shown}{more}")
        warns = [p for p in self.problems if p.severity == "warning"]
        if warns:
            shown = "; ".join(str(p) for p in warns[:3])
            warnings.warn(f"{self.table}: {len(warns)} data-quality warning(s), e.g. {shown} (see result.problems)",
                          DataQualityWarning, stacklevel=3)
        return warns


def _normalised_text(raw: pd.Series) -> np.ndarray:
    """Stripped lower-case text of each cell (None where missing), normalising each distinct value once."""
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    norm = np.array([str(u).strip().lower() for u in uniques] + [None], dtype=object)
    return norm[codes]
