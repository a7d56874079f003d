"""Bad input is rejected with an InputError naming the column and the first offending rows."""

import numpy as np
import pandas as pd
import pytest

from cart_outcomes.errors import InputError
from cart_outcomes.stats import binomial_ci, fisher_exact, kaplan_meier, reverse_km_followup

DF = pd.DataFrame({"t": [5.0, 3, 8, 2], "e": [1, 0, 1, 1], "arm": ["a", "b", "a", "b"], "start": [0, 0, 1, 0]})


def bad(df=DF, **changes):
    d = df.copy()
    for col, (row, value) in changes.items():
        d[col] = d[col].astype(object) if isinstance(value, str) else d[col]
        d.loc[row, col] = value
    return d


@pytest.mark.parametrize(
    ("frame", "pattern"),
    [
        (bad(t=(2, -1.0)), r"column 't'.*negative.*row\(s\) 2"),
        (bad(t=(1, np.nan)), r"column 't'.*missing or non-finite.*row\(s\) 1"),
        (bad(e=(3, 2)), r"column 'e'.*0/1.*row\(s\) 3"),
        (bad(e=(0, "yes")), r"column 'e'.*0/1"),
        (DF.iloc[:0], r"column 't'.*empty"),
    ],
)
def test_bad_values_name_column_and_rows(frame, pattern):
    with pytest.raises(InputError, match=pattern):
        kaplan_meier(frame, "t", "e")


def test_missing_group_and_unknown_column():
    with pytest.raises(InputError, match=r"column 'arm'.*missing group.*row\(s\) 1"):
        kaplan_meier(bad(arm=(1, None)), "t", "e", by="arm")
    with pytest.raises(InputError, match="'nope' is not in the data"):
        kaplan_meier(DF, "nope", "e")


def test_entry_must_precede_exit():
    frame = DF.assign(start=[0, 3, 1, 2])  # rows 1 and 3: start == stop
    with pytest.raises(InputError, match=r"column 'start'.*entry >= exit in row\(s\) 1, 3"):
        kaplan_meier(frame, "t", "e", entry="start")


def test_bad_options():
    with pytest.raises(InputError, match="conf_type"):
        kaplan_meier(DF, "t", "e", conf_type="logit")
    with pytest.raises(InputError, match="conf_level"):
        kaplan_meier(DF, "t", "e", conf_level=95)
    with pytest.raises(InputError, match="contradicts profile"):
        kaplan_meier(DF, "t", "e", conf_type="plain", profile="R")
    with pytest.raises(InputError, match="weights"):
        kaplan_meier(DF, "t", "e", weights=[1, -1, 1, 1])
    fit = kaplan_meier(DF, "t", "e")
    with pytest.raises(InputError, match="times"):
        fit.at([-1])
    with pytest.raises(InputError, match="tau"):
        fit.rmst(0)
    with pytest.raises(InputError, match="probs"):
        fit.quantile([1.5])
    with pytest.raises(InputError, match="column 'e'"):
        reverse_km_followup(bad(e=(3, 2)), "t", "e")


def test_proportion_inputs():
    with pytest.raises(InputError, match="x <= n"):
        binomial_ci(5, 3)
    with pytest.raises(InputError, match="non-negative integer"):
        binomial_ci(1.5, 3)
    with pytest.raises(InputError, match="method"):
        binomial_ci(1, 3, method="wald")
    with pytest.raises(InputError, match="2x2"):
        fisher_exact([[1, 2, 3], [4, 5, 6]])
    with pytest.raises(InputError, match="integer counts"):
        fisher_exact([[1, -2], [3, 4]])


@pytest.mark.parametrize(
    ("column", "value", "pattern"),
    [
        ("t", -1, r"column 't': negative time in row\(s\) 6, 20001; times must be >= 0"),
        ("e", 2, r"column 'e': event must be 0/1 or boolean; bad value in row\(s\) 6, 20001"),
        ("e", -1, r"column 'e': event must be 0/1 or boolean; bad value in row\(s\) 6, 20001"),
    ],
)
def test_integer_days_checked_in_the_counting_pass_name_the_same_rows(column, value, pattern):
    # above a few thousand rows integer days and events are checked on the way through the counting pass; the
    # error is the one the column checks give, with the same rows
    from cart_outcomes.stats import hazard_ratio_logrank, logrank_test

    n = 20_010
    frame = pd.DataFrame({"t": np.arange(n, dtype=np.int32) % 500, "e": np.ones(n, np.int32), "arm": np.arange(n) % 2})
    frame.loc[[6, 20_001], column] = value
    calls = [lambda: kaplan_meier(frame, "t", "e"), lambda: kaplan_meier(frame, "t", "e", by="arm"),
             lambda: logrank_test(frame, "t", "e", "arm"), lambda: hazard_ratio_logrank(frame, "t", "e", "arm")]
    for call in calls:
        with pytest.raises(InputError, match=pattern):
            call()
    # a later column's error does not come first
    with pytest.raises(InputError, match=pattern):
        kaplan_meier(frame, "t", "e", by="nope")
    if column == "t":
        with pytest.raises(InputError, match=pattern):
            kaplan_meier(frame, "t", "nope")
