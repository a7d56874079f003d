"""Number formatting shared by figures, tables and the HTML report (one convention everywhere)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from cart_outcomes.units import DAYS_PER_MONTH

_UNIT_SCALE = {"days": 1.0, "months": DAYS_PER_MONTH}


def unit_scale(unit: str) -> float:
    """Days per display unit (``"days"`` -> 1, ``"months"`` -> 30.4375)."""
    from cart_outcomes.errors import InputError

    try:
        return _UNIT_SCALE[unit]
    except KeyError:
        raise InputError(f"unit must be 'days' or 'months', got {unit!r}") from None


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
