"""Invariants of the Aalen-Johansen estimator and the Mantel-Byar test over generated cohorts (integer days, so
ties of events, competing events and censorings are frequent)."""

import warnings

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cart_outcomes.errors import StatisticalWarning
from cart_outcomes.stats import cox_ph, cumulative_incidence, mantel_byar, split_at_exposure
from cart_outcomes.stats.km import kaplan_meier

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def cohorts(draw, max_cause=2, n_max=40):
    n = draw(st.integers(2, n_max))
    time = draw(st.lists(st.integers(1, 15), min_size=n, max_size=n))
    event = draw(st.lists(st.integers(0, max_cause), min_size=n, max_size=n))
    if not any(event):
        event[0] = 1
    return pd.DataFrame({"time": time, "event": event})


def _estimates(res, cause):
    t = res.table[res.table["cause"] == str(cause)]
    return t["time"].to_numpy(), t["estimate"].to_numpy()


@SETTINGS
@given(cohorts(max_cause=1))
def test_without_competing_events_cif_is_one_minus_km(d):
    ci = cumulative_incidence(d, "time", "event")
    km = kaplan_meier(d, "time", "event").table
    t, f = _estimates(ci, 1)
    np.testing.assert_array_equal(t, km["time"])
    np.testing.assert_allclose(f, 1 - km["survival"], atol=1e-12)


@SETTINGS
@given(cohorts())
def test_cifs_sum_to_one_minus_km_of_any_event(d):
    ci = cumulative_incidence(d, "time", "event")
    km = kaplan_meier(d, "time", d["event"] > 0).table
    total = sum(_estimates(ci, c)[1] for c in ci.causes)
    np.testing.assert_allclose(total, 1 - km["survival"], atol=1e-12)


@SETTINGS
@given(cohorts(), st.randoms(use_true_random=False))
def test_row_order_and_duplication_leave_estimates_unchanged(d, rnd):
    base = cumulative_incidence(d, "time", "event").table
    perm = d.iloc[rnd.sample(range(len(d)), len(d))]
    shuffled = cumulative_incidence(perm, "time", "event").table
    np.testing.assert_allclose(shuffled["estimate"], base["estimate"], atol=1e-12)
    np.testing.assert_allclose(shuffled["std_err"], base["std_err"], atol=1e-12)
    doubled = cumulative_incidence(pd.concat([d, d]), "time", "event").table
    np.testing.assert_allclose(doubled["estimate"], base["estimate"], atol=1e-12)
    # the IJ variance of a doubled sample is half the original
    np.testing.assert_allclose(doubled["std_err"] ** 2, base["std_err"] ** 2 / 2, atol=1e-12)


def _weighted_aj(time, event, w, cause):
    """Brute-force weighted Aalen-Johansen (test-local, loop over distinct times)."""
    out = []
    s, f = 1.0, 0.0
    for u in np.unique(time):
        n = w[time >= u].sum()
        d = w[(time == u) & (event > 0)].sum()
        dk = w[(time == u) & (event == cause)].sum()
        f += s * dk / n
        s *= 1 - d / n
        out.append(f)
    return np.array(out)


@settings(max_examples=15, deadline=None)
@given(cohorts(n_max=15))
def test_ij_std_err_is_the_norm_of_numerical_weight_derivatives(d):
    # R's multi-state std.err is sqrt(sum_i (dF/dw_i)^2); check the closed form against central differences
    t, e = d["time"].to_numpy(float), d["event"].to_numpy()
    res = cumulative_incidence(d, "time", "event")
    eps = 1e-6
    for c in res.causes:
        grads = []
        for i in range(len(t)):
            w_hi, w_lo = np.ones(len(t)), np.ones(len(t))
            w_hi[i] += eps
            w_lo[i] -= eps
            grads.append((_weighted_aj(t, e, w_hi, c) - _weighted_aj(t, e, w_lo, c)) / (2 * eps))
        se = np.sqrt((np.array(grads) ** 2).sum(axis=0))
        np.testing.assert_allclose(_estimates(res, c)[1], _weighted_aj(t, e, np.ones(len(t)), c), atol=1e-12)
        np.testing.assert_allclose(res.table.loc[res.table["cause"] == str(c), "std_err"], se, atol=1e-7)


@st.composite
def exposures(draw):
    n = draw(st.integers(3, 30))
    # distinct follow-up times (no ties), so Mantel-Byar equals the Breslow score test
    times = draw(st.lists(st.integers(2, 500), min_size=n, max_size=n, unique=True))
    event = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    h = [draw(st.one_of(st.none(), st.integers(0, 600))) for _ in range(n)]
    return pd.DataFrame({"time": np.array(times, float), "event": event, "h": [np.nan if v is None else v for v in h]})


@SETTINGS
@given(exposures())
def test_without_ties_mantel_byar_equals_the_time_dependent_cox_score_test(d):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)  # variance 0: no test, checked below
        res = mantel_byar(d, "time", "event", "h")
    if res.variance == 0:
        assert np.isnan(res.statistic)
        return
    split = split_at_exposure(d, "time", "event", "h")
    with warnings.catch_warnings():
        # generated cohorts are often separated; only the score test at beta = 0 is used, which needs no convergence
        warnings.simplefilter("ignore")
        fit = cox_ph(split, "stop", "event", ["exposed"], start="start", ties="breslow")
    score = fit.tests.set_index("test").loc["score", "statistic"]
    np.testing.assert_allclose(res.statistic, score, rtol=1e-9)
