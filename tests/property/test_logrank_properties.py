"""Properties of the log-rank family that hold for every data set (hypothesis).

True properties only: the statistic does not depend on row order or on the names of the groups; duplicating every
row doubles O and E exactly, but the statistic does not simply double (the hypergeometric factor
(n - d)/(n - 1) becomes (2n - 2d)/(2n - 1), so V grows by less than 2x and the statistic by at least 2x).
"""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cart_outcomes import StatisticalWarning
from cart_outcomes.stats import logrank_test

WEIGHTS = [{}, {"rho": 1}, {"weights": "gehan-breslow"}, {"weights": "tarone-ware"}]


@st.composite
def cohorts(draw, max_groups: int = 3):
    n = draw(st.integers(4, 40))
    k = draw(st.integers(2, max_groups))
    time = np.array(draw(st.lists(st.integers(0, 12), min_size=n, max_size=n)), dtype=float)
    event = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    group = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    group[:k] = np.arange(k)  # every level present
    event[0] = True
    strata = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    return time, event, group, strata


def _stat(t, e, g, s=None, **kw):
    # generated data may leave fewer than two comparable groups (then p is NaN with a StatisticalWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        return logrank_test(None, t, e, g, strata=s, **kw)


def _finite(res) -> bool:
    return res.df >= 1 and np.isfinite(res.statistic)


@settings(max_examples=60, deadline=None)
@given(cohorts(), st.sampled_from(WEIGHTS), st.randoms(use_true_random=False))
def test_invariant_to_row_order(data, kw, rnd):
    t, e, g, s = data
    perm = np.array(rnd.sample(range(t.size), t.size))
    a = _stat(t, e, g, s, **kw)
    if not _finite(a):
        return
    b = _stat(t[perm], e[perm], g[perm], s[perm], **kw)
    np.testing.assert_allclose(b.statistic, a.statistic, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b.observed, a.observed, rtol=1e-12, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(cohorts(), st.sampled_from(WEIGHTS), st.permutations(["x", "y", "z"]))
def test_invariant_to_group_relabelling(data, kw, names):
    t, e, g, _ = data
    a = _stat(t, e, g, **kw)
    if not _finite(a):
        return
    relabelled = np.array(names, dtype=object)[g]
    b = _stat(t, e, relabelled, **kw)
    np.testing.assert_allclose(b.statistic, a.statistic, rtol=1e-9, atol=1e-12)
    assert b.df == a.df
    # the same groups get the same O and E, whatever they are called
    pos = [b.groups.index(names[j]) for j in range(len(a.groups))]
    np.testing.assert_allclose(b.observed[pos], a.observed, rtol=1e-12, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(cohorts())
def test_duplicating_rows_doubles_o_and_e_and_at_least_doubles_the_statistic(data):
    t, e, g, _ = data
    a = _stat(t, e, g)
    if not _finite(a):
        return
    b = _stat(np.tile(t, 2), np.tile(e, 2), np.tile(g, 2))
    np.testing.assert_allclose(b.observed, 2 * a.observed, rtol=1e-12)
    np.testing.assert_allclose(b.expected, 2 * a.expected, rtol=1e-12)
    assert b.statistic >= 2 * a.statistic * (1 - 1e-9)


@settings(max_examples=60, deadline=None)
@given(cohorts(), st.sampled_from(WEIGHTS))
def test_o_minus_e_sums_to_zero_and_variance_rows_sum_to_zero(data, kw):
    t, e, g, s = data
    res = _stat(t, e, g, s, **kw)
    scale = max(1.0, float(np.abs(res.variance).max()))
    np.testing.assert_allclose((res.observed - res.expected).sum(), 0.0, atol=1e-9 * scale)
    np.testing.assert_allclose(res.variance.sum(axis=1), 0.0, atol=1e-9 * scale)
