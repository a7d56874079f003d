"""Number formatting shared by figures, tables and the HTML report (one convention everywhere)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from cart_outcomes.units import DAYS_PER_MONTH
from cart_outcomes.units import days_per_unit as unit_scale

__all__ = ["DAYS_PER_MONTH", "ROUNDING_POLICY", "format_estimate_ci", "format_hr", "format_p", "format_percent",
           "format_time", "is_missing", "round_half_up", "unit_scale"]

#: The report's one rounding policy, stated once in the methods paragraph and applied by the helpers below to
#: every sentence and every table cell (HTML, Word and the workbook's display sheets alike).
ROUNDING_POLICY = (
    "Numbers are rounded half away from zero: percentages of patients to whole numbers (n (%)); estimates with "
    "confidence intervals (response rates, survival, cumulative incidence) to one decimal, written as 66.7% "
    "(34.9–90.1); times to whole days, or to one decimal in weeks, months or years; restricted mean times to one "
    "decimal; hazard ratios to two decimals (more when two decimals cannot tell the confidence limits apart); "
    "p-values to two decimals, three below 0.1, and as < 0.001 below 0.001."
)


def is_missing(value: object) -> bool:
    """True for a missing scalar: None, NaN, ``pd.NA``, ``pd.NaT``."""
    missing = pd.isna(value)
    return isinstance(missing, (bool, np.bool_)) and bool(missing)


def format_p(p: float) -> str:
    """P-value as journals print it: ``< 0.001``, three decimals below 0.1, two above."""
    if is_missing(p):
        return "NA"
    p = float(p)
    if p < 0.001:
        return "< 0.001"
    if p < 0.1:
        return f"{p:.3f}"
    return f"{p:.2f}"


def round_half_up(value: float, digits: int = 0) -> str:
    """``value`` rounded half away from zero as journals do (12.5 -> 13), not to even as ``format`` does."""
    quantum = Decimal(1).scaleb(-digits)
    return str(Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP))


def _number(value: object, digits: int) -> str:
    return "NA" if is_missing(value) else round_half_up(float(value), digits)


def format_estimate_ci(estimate: object, lower: object, upper: object, *, digits: int = 1,
                       percent: bool = True, ci_label: str = "") -> str:
    """``66.7% (34.9–90.1)`` from proportions (``percent=True``: times 100), or ``12.0 (8.5–NR)`` from times
    (``percent=False``; a missing limit or estimate is NR, not reached). In a sentence, ``ci_label="95% CI"``
    names the interval: ``66.7% (95% CI 34.9–90.1)``, the same digits as in the tables."""
    if percent:
        scale = [None if is_missing(v) else 100.0 * float(v) for v in (estimate, lower, upper)]
        est, lo, hi = (_number(v, digits) for v in scale)
        est = est if est == "NA" else f"{est}%"
    else:
        est, lo, hi = ("NR" if is_missing(v) else round_half_up(float(v), digits) for v in (estimate, lower, upper))
    return f"{est} ({ci_label + ' ' if ci_label else ''}{lo}–{hi})"


def format_time(value: object, unit: str = "days") -> str:
    """A time in ``unit`` by the rounding policy: whole days (a midpoint such as 134.5 keeps its decimal), one
    decimal in other units; missing is NR (not reached)."""
    if is_missing(value):
        return "NR"
    v = float(value)
    if unit == "days":
        return str(int(v)) if v.is_integer() else round_half_up(v, 1)
    return round_half_up(v, 1)


def format_hr(estimate: object, lower: object, upper: object) -> str:
    """``0.22 (0.04–1.34)``: a hazard ratio and its interval to two decimals; missing is an em dash."""
    if is_missing(estimate):
        return "—"
    return f"{_number(estimate, 2)} ({_number(lower, 2)}–{_number(upper, 2)})"


def format_percent(numerator: int, denominator: int, digits: int = 0) -> str:
    """``n (pct%)`` with the percent rounded half up; a zero denominator prints ``n/0``."""
    if denominator == 0:
        return f"{numerator}/0"
    return f"{numerator} ({round_half_up(100.0 * numerator / denominator, digits)}%)"
