"""Number formatting conventions shared by the figures, tables and HTML."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cart_outcomes.errors import InputError
from cart_outcomes.report._format import format_p, format_percent, is_missing, round_half_up, unit_scale


@pytest.mark.parametrize(("p", "text"), [(0.0004, "< 0.001"), (0.001, "0.001"), (0.022, "0.022"), (0.073, "0.073"),
                                         (0.1, "0.10"), (0.5, "0.50"), (1.0, "1.00"), (float("nan"), "NA")])
def test_format_p(p, text):
    assert format_p(p) == text


def test_percent_rounds_half_up():
    # 1/8 = 12.5% and 5/8 = 62.5%: journals print 13% and 63%, Python's round-half-even would print 12% and 62%
    assert format_percent(1, 8) == "1 (13%)" and format_percent(5, 8) == "5 (63%)"
    assert format_percent(1, 3, digits=1) == "1 (33.3%)" and format_percent(0, 0) == "0/0"
    assert round_half_up(0.125, 2) == "0.13" and round_half_up(-2.5) == "-3"


def test_missing_values_and_units():
    assert all(is_missing(v) for v in (None, np.nan, pd.NA, pd.NaT, float("nan")))
    assert not any(is_missing(v) for v in (0, "", "NA", [np.nan], False))
    assert unit_scale("months") == 30.4375 and unit_scale("days") == 1.0
    assert unit_scale("weeks") == 7.0 and unit_scale("years") == 365.25
    with pytest.raises(InputError, match="unit"):
        unit_scale("fortnights")


def test_one_rounding_policy_for_text_and_tables():
    from cart_outcomes.report._format import format_estimate_ci, format_hr, format_time

    # 8/12 = 0.6667 with the interval of binom.test(8, 12): the same digits in a cell and in a sentence
    assert format_estimate_ci(8 / 12, 0.3488, 0.9008) == "66.7% (34.9–90.1)"
    assert format_estimate_ci(8 / 12, 0.3488, 0.9008, ci_label="95% CI") == "66.7% (95% CI 34.9–90.1)"
    assert format_estimate_ci(0.125, 0.00125, None) == "12.5% (0.1–NA)"  # 0.125 -> 0.1 (half up of 0.125 is 0.1)
    assert format_estimate_ci(134, 41, None, percent=False, digits=0) == "134 (41–NR)"
    assert format_time(134.0) == "134" and format_time(134.5) == "134.5" and format_time(4.05, "months") == "4.1"
    assert format_hr(0.2249, 0.0375, 1.345) == "0.22 (0.04–1.35)" and format_hr(None, None, None) == "—"
