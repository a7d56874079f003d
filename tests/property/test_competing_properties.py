"""Invariants of the Aalen-Johansen estimator and the Mantel-Byar test over generated cohorts (integer days, so
ties of events, competing events and censorings are frequent)."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cart_outcomes.stats import cumulative_incidence, mantel_byar
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


def _breslow_score_test(d):
    """Score test of coxph(Surv(start, stop, event) ~ exposed, ties='breslow') at beta = 0, by brute force over the
    split rows (test-local): U = sum_j (d1_j - d_j n1_j/n_j), I = sum_j d_j (n1_j/n_j)(1 - n1_j/n_j)."""
    u = info = 0.0
    t, e, h = d["time"].to_numpy(), d["event"].to_numpy(), d["h"].to_numpy()
    for tj in np.unique(t[e]):
        at_risk = t >= tj
        exposed_now = ~np.isnan(h) & (h < tj)  # exposed strictly before tj ((start, stop] rows)
        n = at_risk.sum()
        n1 = (at_risk & exposed_now).sum()
        dead = (t == tj) & e
        u += (dead & exposed_now).sum() - dead.sum() * n1 / n
        info += dead.sum() * (n1 / n) * (1 - n1 / n)
    return u * u / info if info > 0 else np.nan


@SETTINGS
@given(exposures())
def test_without_ties_mantel_byar_equals_the_breslow_score_test(d):
    res = mantel_byar(d, "time", "event", "h")
    ref = _breslow_score_test(d)
    if np.isnan(ref):
        assert np.isnan(res.statistic)
    else:
        np.testing.assert_allclose(res.statistic, ref, rtol=1e-10)
