"""Units of time shown to readers: one definition of the week, month and year, and one way of naming times in them,
used by the plan (landmark labels in results.json), the report's tables and text, and the figure axes.

A month is 365.25 / 12 = 30.4375 days and a year 365.25 days (survminer's ``xscale = "d_m"`` and ``"d_y"`` use the
same), a week 7 days. Every time stored in days is divided by :func:`days_per_unit` for display.
"""

from __future__ import annotations

from typing import Literal

from cart_outcomes.errors import InputError

__all__ = ["DAYS_PER_MONTH", "DAYS_PER_YEAR", "TIME_UNITS", "TimeUnit", "axis_label", "days_per_unit", "default_break",
           "format_time", "format_value", "time_point_label", "unit_definition", "unit_noun"]

#: Days per month whenever a time is given in months (365.25 / 12), stated in every table, figure and methods text.
DAYS_PER_MONTH = 30.4375
#: Days per year (365.25) whenever a time is given in years.
DAYS_PER_YEAR = 365.25

TimeUnit = Literal["days", "weeks", "months", "years"]
#: The units a plan may choose (``statistics.time_unit``).
TIME_UNITS: tuple[str, ...] = ("days", "weeks", "months", "years")

_SCALE = {"days": 1.0, "weeks": 7.0, "months": DAYS_PER_MONTH, "years": DAYS_PER_YEAR}
#: Tick spacing candidates per unit, smallest first (months: 0/3/6/9/12 as CAR-T papers draw them).
_BREAKS = {"days": (7, 14, 28, 30, 50, 60, 90, 100, 200, 250, 500, 1000),
           "weeks": (1, 2, 4, 8, 12, 26, 52, 104), "months": (1, 3, 6, 12, 24, 60), "years": (0.5, 1, 2, 5, 10)}


def _check(unit: str) -> str:
    if unit not in _SCALE:
        raise InputError(f"unit must be one of {list(TIME_UNITS)}, got {unit!r}")
    return unit


def days_per_unit(unit: str) -> float:
    """Days per display unit (``"days"`` -> 1, ``"weeks"`` -> 7, ``"months"`` -> 30.4375, ``"years"`` -> 365.25)."""
    return _SCALE[_check(unit)]


def unit_noun(unit: str, count: float | None = None) -> str:
    """``"months"``, or ``"month"`` when ``count`` is 1."""
    _check(unit)
    return unit[:-1] if count is not None and float(count) == 1 else unit


def time_point_label(value: float, unit: str) -> str:
    """How a time point is named in labels, from a value already in ``unit``: ``6-month``, ``26-week``, ``1-year``,
    ``day 182.6`` (a rate at that time reads "6-month OS", never "rate at day 182.6" when the unit is months)."""
    if _check(unit) == "days":
        return f"day {value:g}"
    return f"{value:g}-{unit[:-1]}"


def axis_label(unit: str, origin: str = "CAR-T infusion") -> str:
    """Time-axis title: ``Months since CAR-T infusion``."""
    return f"{_check(unit).capitalize()} since {origin}"


def unit_definition(unit: str) -> str | None:
    """The sentence defining a unit other than days (methods text, captions), e.g. "Times in months are days divided
    by 30.4375 (365.25 / 12)."; ``None`` for days."""
    if _check(unit) == "days":
        return None
    how = {"weeks": "7", "months": f"{DAYS_PER_MONTH} (365.25 / 12)", "years": f"{DAYS_PER_YEAR}"}[unit]
    return f"Times in {unit} are days divided by {how}."


def format_time(value: float | None, unit: str, *, digits: int = 1, missing: str = "NR") -> str:
    """A time in ``unit`` as text with its unit: ``12.3 months``, ``1 month``; ``missing`` (not reached) for None."""
    if value is None or value != value:
        return missing
    text = format_value(value, digits)
    return f"{text} {unit_noun(unit, float(text))}"


def format_value(value: float, digits: int = 1) -> str:
    """A number with at most ``digits`` decimals and no trailing zeros: ``12.3``, ``134``, ``41``."""
    return f"{round(float(value), digits):.{digits}f}".rstrip("0").rstrip(".") if digits else f"{float(value):.0f}"


def default_break(unit: str, max_value: float, n: int = 6) -> float:
    """Tick spacing for an axis from 0 to ``max_value`` (in ``unit``): the smallest usual spacing for the unit giving
    at most ``n`` intervals (months: 3 up to 18 months, then 6, 12 ...), as survminer's ``break.time.by``."""
    steps = _BREAKS[_check(unit)]
    if not max_value > 0:
        return float(steps[0])
    for step in steps:
        if max_value / step <= n:
            return float(step)
    return float(steps[-1]) * float(int(max_value / (steps[-1] * n)) + 1)
