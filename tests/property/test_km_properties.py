"""Invariants of the Kaplan-Meier estimator over generated cohorts (hypothesis)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cart_outcomes.stats import kaplan_meier

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def cohorts(draw, max_n=40):
    n = draw(st.integers(1, max_n))
    # few distinct values so that ties (event with censoring, several events) are common
    integer = draw(st.booleans())
    if integer:
        t = draw(st.lists(st.integers(0, 15), min_size=n, max_size=n))
    else:
        t = draw(st.lists(st.sampled_from([0.0, 0.5, 1.25, 2.0, 3.3, 7.75, 10.0]), min_size=n, max_size=n))
    e = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    g = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n))
    return np.asarray(t, dtype=float), np.asarray(e), np.asarray(g, dtype=object)


@SETTINGS
@given(cohorts(), st.randoms(use_true_random=False))
def test_row_order_is_irrelevant(data, rnd):
    t, e, g = data
    perm = np.array(rnd.sample(range(t.size), t.size))
    a = kaplan_meier(None, t, e, by=g)
    b = kaplan_meier(None, t[perm], e[perm], by=g[perm])
    for col in ("time", "n_risk", "n_event", "survival", "std_err", "lower", "upper", "cumhaz"):
        np.testing.assert_array_equal(getattr(a, col), getattr(b, col), err_msg=col)
    np.testing.assert_array_equal(a.median(), b.median())


@SETTINGS
@given(cohorts())
def test_duplicating_every_row_keeps_point_estimates(data):
    t, e, g = data
    a = kaplan_meier(None, t, e, by=g)
    b = kaplan_meier(None, np.tile(t, 2), np.tile(e, 2), by=np.tile(g, 2))
    np.testing.assert_array_equal(a.time, b.time)
    np.testing.assert_allclose(b.survival, a.survival, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(b.cumhaz, a.cumhaz, rtol=1e-12)
    np.testing.assert_array_equal(b.n_risk, 2 * a.n_risk)
    np.testing.assert_array_equal(b.median(), a.median())


@SETTINGS
@given(cohorts(), st.sampled_from(["log", "log-log", "plain"]))
def test_km_is_a_non_increasing_probability(data, conf_type):
    t, e, g = data
    fit = kaplan_meier(None, t, e, by=g, conf_type=conf_type)
    for j in range(len(fit.groups)):
        s = fit.survival[fit.offsets[j] : fit.offsets[j + 1]]
        assert np.all((s >= 0) & (s <= 1))
        assert np.all(np.diff(s) <= 0)
    lo, up = fit.lower, fit.upper
    ok = ~np.isnan(lo)
    assert np.all((lo[ok] >= 0) & (lo[ok] <= fit.survival[ok] + 1e-12))
    assert np.all((up[ok] <= 1) & (up[ok] >= fit.survival[ok] - 1e-12))


@SETTINGS
@given(cohorts(), st.integers(1, 3))
def test_integer_weights_equal_replicated_rows(data, times):
    t, e, g = data
    a = kaplan_meier(None, t, e, by=g, weights=np.full(t.size, times))
    b = kaplan_meier(None, np.tile(t, times), np.tile(e, times), by=np.tile(g, times))
    np.testing.assert_allclose(a.survival, b.survival, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(a.std_err, b.std_err, rtol=1e-12, atol=1e-15, equal_nan=True)


@SETTINGS
@given(cohorts())
def test_fast_median_equals_R_minmin_rule(data):
    from cart_outcomes.stats.km import _median_of_curve, _minmin

    t, e, g = data
    fit = kaplan_meier(None, t, e, by=g)
    for j in range(len(fit.groups)):
        r = slice(fit.offsets[j], fit.offsets[j + 1])
        np.testing.assert_array_equal(
            _median_of_curve(fit.survival[r], fit.time[r]), _minmin(fit.survival[r], fit.time[r])
        )
