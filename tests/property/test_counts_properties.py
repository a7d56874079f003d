"""Event counts give exactly the numbers of the rows they were made from (hypothesis).

The estimators read the rows only through the number of rows in each distinct (strata, group, entry, time, status)
cell, so collapsing the rows must leave every number unchanged, bit for bit: every column of the Kaplan-Meier table
and its medians, every log-rank number for every weight (stratified or not), the trend test, the Aalen-Johansen
table and Gray's test. Generated data have many ties (times 0..12), late entry and two competing causes.
"""

from __future__ import annotations

import warnings
from functools import partial

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cart_outcomes import InputError, StatisticalWarning
from cart_outcomes import stats as co

same = partial(pd.testing.assert_frame_equal, check_exact=True, check_dtype=False)
WEIGHTS = [{}, {"rho": 1}, {"weights": "gehan-breslow"}, {"weights": "tarone-ware"},
           {"weights": ("fleming-harrington", 1, 0.5)}]


@st.composite
def cohorts(draw):
    n = draw(st.integers(4, 60))
    k = draw(st.integers(2, 4))
    ints = partial(st.lists, min_size=n, max_size=n)
    time = np.array(draw(ints(st.integers(1, 12))))
    cause = np.array(draw(ints(st.integers(0, 2))))
    group = np.array(draw(ints(st.sampled_from("abcd"[:k]))), dtype=object)
    group[:k] = list("abcd"[:k])  # every level present
    cause[0] = 1
    entry = np.minimum(np.array(draw(ints(st.integers(0, 6)))), time - 1)
    stratum = np.array(draw(ints(st.integers(0, 1))))
    return pd.DataFrame(
        {"time": time, "event": (cause > 0).astype(int), "cause": cause, "arm": group, "entry": entry, "site": stratum}
    )


def _quiet(f, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        return f(*args, **kw)


def _same_test(a, b, fields=("statistic", "df", "p_value")) -> None:
    for name in fields:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    same(a.table, b.table)


@settings(max_examples=40, deadline=None)
@given(cohorts())
def test_kaplan_meier_from_counts_equals_rows(df):
    for entry in (None, "entry"):
        counts = co.event_counts(df, "time", "event", by="arm", strata="site", entry=entry)
        rows = co.kaplan_meier(df, "time", "event", by="arm", entry=entry)
        cells = co.kaplan_meier(counts)
        same(rows.table, cells.table)
        same(rows.medians, cells.medians)
        same(rows.at([3, 6.5, 20]), cells.at([3, 6.5, 20]))
        np.testing.assert_array_equal(rows.n, cells.n)
        assert cells.options["weights"] is False and cells.options["entry"] == (entry is not None)


@settings(max_examples=40, deadline=None)
@given(cohorts())
def test_logrank_family_from_counts_equals_rows(df):
    for strata in (None, "site"):
        counts = co.event_counts(df, "time", "event", by="arm", strata=strata)
        for kw in WEIGHTS:
            rows = _quiet(co.logrank_test, df, "time", "event", "arm", strata=strata, **kw)
            _same_test(rows, _quiet(co.logrank_test, counts, **kw), ("statistic", "df", "p_value", "variance"))
        trend = _quiet(co.logrank_trend_test, df, "time", "event", "arm", strata=strata)
        _same_test(trend, _quiet(co.logrank_trend_test, counts), ("statistic", "z", "p_value", "variance"))


@settings(max_examples=40, deadline=None)
@given(cohorts())
def test_competing_risks_from_counts_equal_rows(df):
    counts = co.event_counts(df, "time", "cause", by="arm", strata="site")
    same(co.cumulative_incidence(df, "time", "cause", by="arm").table, co.cumulative_incidence(counts).table)
    rows = _quiet(co.gray_test, df, "time", "cause", "arm", strata="site")
    same(rows.table, _quiet(co.gray_test, counts).table)


def test_counts_refuse_what_they_cannot_give():
    df = pd.DataFrame({"t": [1, 2, 3, 4], "e": [1, 0, 1, 1], "g": list("abab"), "entry": [0, 1, 0, 2]})
    late = co.event_counts(df, "t", "e", by="g", entry="entry")
    with pytest.raises(InputError, match="entry times .'entry'., which it does not take"):
        co.logrank_test(late)
    counts = co.event_counts(df, "t", "e", by="g")
    with pytest.raises(InputError, match="by='other' cannot be combined with event counts made for by='g'"):
        co.kaplan_meier(counts, by="other")
    with pytest.raises(InputError, match="exact_logrank_test cannot be computed from event counts"):
        co.exact_logrank_test(counts, "t", "e", "g")


@pytest.mark.parametrize("continuous", [False, True])
def test_larger_data_bitwise(continuous):
    """Long vectors (thousands of distinct times) go through BLAS and einsum paths: still the rows' bits."""
    rng = np.random.default_rng(11)
    n = 20_000
    time = rng.exponential(300, n) if continuous else rng.integers(1, 2000, n)
    cause = rng.choice([0, 1, 2], n, p=[0.3, 0.5, 0.2])
    df = pd.DataFrame({"time": time, "event": (cause > 0).astype(int), "cause": cause,
                       "arm": rng.choice(list("abcd"), n), "site": rng.integers(0, 3, n)})
    counts = co.event_counts(df, "time", "event", by="arm", strata="site")
    for kw in WEIGHTS:
        rows = co.logrank_test(df, "time", "event", "arm", strata="site", **kw)
        _same_test(rows, co.logrank_test(counts, **kw), ("statistic", "p_value", "variance"))
    same(co.kaplan_meier(df, "time", "event", by="arm").table, co.kaplan_meier(counts).table)
    causes = co.event_counts(df, "time", "cause", by="arm", strata="site")
    same(co.cumulative_incidence(df, "time", "cause", by="arm").table, co.cumulative_incidence(causes).table)
    same(co.gray_test(df, "time", "cause", "arm", strata="site").table, co.gray_test(causes).table)
