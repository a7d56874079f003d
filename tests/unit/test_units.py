"""Time units shown to readers: one scale, one way of naming a time point, one axis title, one tick spacing."""

from __future__ import annotations

import pytest

from cart_outcomes.errors import InputError
from cart_outcomes.units import (
    axis_label,
    days_per_unit,
    default_break,
    format_time,
    time_point_label,
    unit_definition,
)


def test_scales_are_the_stated_definitions():
    assert [days_per_unit(u) for u in ("days", "weeks", "months", "years")] == [1.0, 7.0, 365.25 / 12, 365.25]
    with pytest.raises(InputError, match="unit must be one of"):
        days_per_unit("fortnights")


@pytest.mark.parametrize(("value", "unit", "label"), [(6, "months", "6-month"), (26, "weeks", "26-week"),
                                                      (1, "years", "1-year"), (0.5, "years", "0.5-year"),
                                                      (182.6, "days", "day 182.6")])
def test_time_point_labels_read_as_journals_write_them(value, unit, label):
    assert time_point_label(value, unit) == label  # "6-month OS", never "rate at day 182.6" in months


def test_axis_titles_times_and_definitions():
    assert axis_label("months") == "Months since CAR-T infusion"
    assert format_time(4.4038, "months") == "4.4 months" and format_time(1.0, "years") == "1 year"
    assert format_time(None, "months") == "NR"
    assert unit_definition("days") is None
    assert unit_definition("months") == "Times in months are days divided by 30.4375 (365.25 / 12)."


@pytest.mark.parametrize(("unit", "end", "step"), [("months", 12, 3), ("months", 18, 3), ("months", 30.4, 6),
                                                   ("weeks", 20, 4), ("years", 2.5, 0.5), ("days", 925, 200),
                                                   ("months", 500, 120)])
def test_default_breaks(unit, end, step):
    # months: 0/3/6/9/12 up to 18 months (six intervals at most), then 6, 12 ...; past the last usual step, multiples
    assert default_break(unit, end) == step
