"""Properties of the rank tests that hold for every data set (hypothesis).

* Wilcoxon: swapping x and y turns W into n_x n_y - W and mirrors the alternative (less <-> greater); in the exact
  case the Hodges-Lehmann estimate and interval change sign.
* Spearman: symmetric in x and y; reversing y negates rho and mirrors the alternative.
* All three depend on the data only through ranks: a strictly increasing transform changes nothing.

Values are small integers, so ties occur and both the exact and the approximate regimes are drawn.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cart_outcomes.errors import StatisticalWarning
from cart_outcomes.stats import kruskal_wallis, spearman, wilcoxon_rank_sum

samples = st.lists(st.integers(-30, 30), min_size=1, max_size=12)
pairs = st.integers(3, 14).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(-40, 40), min_size=n, max_size=n), st.lists(st.integers(-40, 40), min_size=n, max_size=n)
    )
)
MIRROR = {"two-sided": "two-sided", "less": "greater", "greater": "less"}


def _increasing(v) -> np.ndarray:
    """A strictly increasing, non-linear transform (exact on small integers)."""
    a = np.asarray(v, dtype=float)
    return a**3 + 5 * a


def _quiet(fn, *args, **kwargs):
    # generated data may be all tied or constant (NaN results with a StatisticalWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        return fn(*args, **kwargs)


@settings(max_examples=60, deadline=None)
@given(samples, samples, st.sampled_from(["two-sided", "less", "greater"]))
def test_wilcoxon_swapping_samples_mirrors_the_alternative(x, y, alternative):
    a = _quiet(wilcoxon_rank_sum, x, y, alternative=alternative)
    b = _quiet(wilcoxon_rank_sum, y, x, alternative=MIRROR[alternative])
    assert b.statistic == len(x) * len(y) - a.statistic
    assert b.method == a.method
    np.testing.assert_allclose(b.p_value, a.p_value, rtol=1e-12, atol=1e-15)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-50, 50), min_size=2, max_size=9, unique=True),
       st.lists(st.floats(-50, 50), min_size=2, max_size=9, unique=True))
def test_wilcoxon_exact_interval_changes_sign_when_samples_are_swapped(x, y):
    if set(x) & set(y):
        return  # a tie across samples leaves the exact regime
    a = _quiet(wilcoxon_rank_sum, x, y, conf_level=0.9)
    b = _quiet(wilcoxon_rank_sum, y, x, conf_level=0.9)
    assert a.p_value_method == b.p_value_method == "exact"
    assert (b.estimate, b.conf_low, b.conf_high) == pytest.approx((-a.estimate, -a.conf_high, -a.conf_low))
    assert a.conf_level == b.conf_level


@settings(max_examples=60, deadline=None)
@given(samples, samples, st.sampled_from(["two-sided", "less", "greater"]))
def test_wilcoxon_is_invariant_to_increasing_transforms(x, y, alternative):
    a = _quiet(wilcoxon_rank_sum, x, y, alternative=alternative)
    b = _quiet(wilcoxon_rank_sum, _increasing(x), _increasing(y), alternative=alternative)
    assert (a.statistic, a.method) == (b.statistic, b.method)
    np.testing.assert_array_equal(a.p_value, b.p_value)


@settings(max_examples=60, deadline=None)
@given(pairs, st.sampled_from(["two-sided", "less", "greater"]))
def test_spearman_is_symmetric_and_rank_based(xy, alternative):
    x, y = xy
    a = _quiet(spearman, x, y, alternative=alternative)
    b = _quiet(spearman, y, x, alternative=alternative)
    c = _quiet(spearman, _increasing(x), _increasing(y), alternative=alternative)
    for other in (b, c):
        np.testing.assert_array_equal([other.rho, other.p_value], [a.rho, a.p_value])
        assert other.p_value_method == a.p_value_method


@settings(max_examples=60, deadline=None)
@given(pairs, st.sampled_from(["two-sided", "less", "greater"]))
def test_spearman_reversing_y_negates_rho_and_mirrors_the_alternative(xy, alternative):
    x, y = xy
    a = _quiet(spearman, x, y, alternative=alternative)
    b = _quiet(spearman, x, -np.asarray(y, dtype=float), alternative=MIRROR[alternative])
    np.testing.assert_allclose(b.rho, -a.rho, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(b.p_value, a.p_value, rtol=1e-9, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(-20, 20), st.sampled_from("abcd")), min_size=3, max_size=30))
def test_kruskal_wallis_is_invariant_to_increasing_transforms_and_row_order(rows):
    values, groups = zip(*rows, strict=True)
    if len(set(groups)) < 2:
        return
    a = _quiet(kruskal_wallis, values, groups)
    b = _quiet(kruskal_wallis, _increasing(values)[::-1], groups[::-1])
    np.testing.assert_allclose([b.statistic, b.p_value], [a.statistic, a.p_value], rtol=1e-12)
