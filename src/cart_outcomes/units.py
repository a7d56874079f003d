"""Units of time shown to readers: one definition of the month, used by the plan, the results and the report."""

from __future__ import annotations

from cart_outcomes.errors import InputError

__all__ = ["DAYS_PER_MONTH", "days_per_unit"]

#: Days per month whenever a time is given in months (365.25 / 12), stated in every table, figure and methods text.
DAYS_PER_MONTH = 30.4375

_SCALE = {"days": 1.0, "months": DAYS_PER_MONTH}


def days_per_unit(unit: str) -> float:
    """Days per display unit (``"days"`` -> 1, ``"months"`` -> 30.4375)."""
    try:
        return _SCALE[unit]
    except KeyError:
        raise InputError(f"unit must be 'days' or 'months', got {unit!r}") from None
