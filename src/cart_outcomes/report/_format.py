"""Number formatting shared by figures, tables and the HTML report (one convention everywhere)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from cart_outcomes.units import DAYS_PER_MONTH
from cart_outcomes.units import days_per_unit as unit_scale

__all__ = ["DAYS_PER_MONTH", "format_p", "format_percent", "is_missing", "round_half_up", "unit_scale"]


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


def format_percent(numerator: int, denominator: int, digits: int = 0) -> str:
    """``n (pct%)`` with the percent rounded half up; a zero denominator prints ``n/0``."""
    if denominator == 0:
        return f"{numerator}/0"
    return f"{numerator} ({round_half_up(100.0 * numerator / denominator, digits)}%)"
