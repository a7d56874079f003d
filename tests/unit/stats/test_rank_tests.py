"""Rank tests: hand-worked null distributions and p-values, inputs, missing values, method strings, warnings.

The numbers against R are in tests/reference/test_rank_tests_against_R.py; here the expected values are worked out
by hand (or by brute-force enumeration written in the test).
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from cart_outcomes.errors import InputError, StatisticalWarning
from cart_outcomes.stats import kruskal_wallis, spearman, wilcoxon_rank_sum
from cart_outcomes.stats.rank_tests import _qwilcox, _spearman_counts, _wilcox_counts

# ---------------------------------------------------------------------------------------------------- null laws


@pytest.mark.parametrize(("m", "n"), [(1, 1), (2, 3), (3, 3), (4, 6), (5, 2)])
def test_wilcoxon_counts_equal_brute_force_enumeration(m, n):
    counts = np.zeros(m * n + 1)
    for chosen in itertools.combinations(range(1, m + n + 1), m):
        counts[sum(chosen) - m * (m + 1) // 2] += 1
    np.testing.assert_array_equal(_wilcox_counts(m, n), counts)


@pytest.mark.parametrize("n", range(2, 8))
def test_spearman_counts_equal_brute_force_enumeration(n):
    counts = np.zeros(n * (n * n - 1) // 3 + 1)
    for perm in itertools.permutations(range(n)):
        counts[sum((i - p) ** 2 for i, p in enumerate(perm))] += 1
    np.testing.assert_array_equal(_spearman_counts(n), counts)


def test_spearman_n4_null_distribution_of_sum_of_squared_differences():
    # Kendall & Gibbons, Rank Correlation Methods: frequencies of S = sum d^2 = 0, 2, ..., 20 for n = 4
    np.testing.assert_array_equal(_spearman_counts(4)[::2], [1, 3, 1, 4, 2, 2, 2, 4, 1, 3, 1])
    assert not _spearman_counts(4)[1::2].any()  # S is always even


def test_qwilcox_is_the_smallest_quantile_reaching_the_probability():
    # m = n = 3: counts 1,1,2,3,3,3,3,2,1,1 over C(6, 3) = 20 -> cdf .05, .10, .20, .35, ...
    assert [_qwilcox(p, 3, 3) for p in (0.05, 0.051, 0.1, 0.2, 0.21, 0.95)] == [0, 1, 1, 2, 3, 8]


# ---------------------------------------------------------------------------------------------------- p-values


def test_wilcoxon_exact_by_hand():
    # x below every y: W = 0, P(W <= 0) = 1 / C(5, 2) = 0.1
    res = wilcoxon_rank_sum([1, 2], [3, 4, 5])
    assert res.statistic == 0 and res.p_value == pytest.approx(0.2, rel=1e-14)
    assert wilcoxon_rank_sum([1, 2], [3, 4, 5], alternative="less").p_value == pytest.approx(0.1, rel=1e-14)
    assert wilcoxon_rank_sum([1, 2], [3, 4, 5], alternative="greater").p_value == pytest.approx(1.0)
    assert res.method == "Wilcoxon rank sum exact test" and res.p_value_method == "exact" and not res.ties


def test_wilcoxon_normal_approximation_by_hand():
    # x = (1, 2, 2), y = (2, 3): pooled ranks 1, 3, 3, 3, 5 -> W = 7 - 6 = 1; one tie group of 3
    # sigma^2 = 3*2/12 * (6 - (27 - 3)/(5*4)) = 0.5 * 4.8 = 2.4; z = (1 - 3 + 0.5)/sqrt(2.4)
    res = wilcoxon_rank_sum([1, 2, 2], [2, 3])
    z = -1.5 / math.sqrt(2.4)
    assert res.statistic == 1
    assert res.p_value == pytest.approx(math.erfc(-z / math.sqrt(2)), rel=1e-12)  # 2 * Phi(z)
    assert res.method == "Wilcoxon rank sum test with continuity correction" and res.ties
    plain = wilcoxon_rank_sum([1, 2, 2], [2, 3], correct=False)
    assert plain.method == "Wilcoxon rank sum test"
    assert plain.p_value == pytest.approx(math.erfc(2 / math.sqrt(2.4) / math.sqrt(2)), rel=1e-12)


def test_wilcoxon_switches_to_the_normal_approximation_at_50():
    x, y = np.arange(49) + 0.5, np.arange(30)
    assert wilcoxon_rank_sum(x, y).p_value_method == "exact"
    assert wilcoxon_rank_sum(np.append(x, 100.5), y).p_value_method == "normal-approximation"
    assert wilcoxon_rank_sum(np.append(x, 100.5), y, exact=True).p_value_method == "exact"
    assert wilcoxon_rank_sum(x, y, exact=False).p_value_method == "normal-approximation"


def test_spearman_exact_by_hand():
    # n = 3, perfect agreement: S = 0, P(S <= 0) = 1/3! ; two-sided 2/6
    res = spearman([1, 2, 3], [10, 20, 30])
    assert res.rho == 1 and res.statistic == 0 and res.p_value == pytest.approx(1 / 3, rel=1e-14)
    assert spearman([1, 2, 3], [10, 20, 30], alternative="greater").p_value == pytest.approx(1 / 6, rel=1e-14)
    assert res.method == "Spearman's rank correlation rho" and res.p_value_method == "exact"


def test_spearman_p_value_method_by_n_and_ties():
    assert spearman(np.arange(9), np.arange(9) % 4 + np.arange(9) / 10).p_value_method == "exact"
    assert spearman(np.arange(10), np.arange(10.0)[::-1]).p_value_method == "edgeworth"
    assert spearman(np.arange(1291), np.arange(1291)).p_value_method == "t-approximation"
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]).p_value_method == "t-approximation"
    assert spearman(np.arange(5), np.arange(5), exact=False).p_value_method == "t-approximation"


def test_kruskal_wallis_by_hand():
    # groups a = (1, 2), b = (3, 4), c = (5, 6): rank sums 3, 7, 11; H = 12/42 * (9 + 49 + 121)/2 - 21 = 32/7
    res = kruskal_wallis([1, 2, 3, 4, 5, 6], ["a", "a", "b", "b", "c", "c"])
    assert res.statistic == pytest.approx(32 / 7, rel=1e-14) and res.df == 2
    assert res.p_value == pytest.approx(math.exp(-16 / 7), rel=1e-12)  # chi-squared 2 df: exp(-H/2)
    assert res.method == "Kruskal-Wallis rank sum test"
    assert list(res.table.columns) == ["group", "n", "rank_sum", "mean_rank"]
    assert res.table["mean_rank"].tolist() == [1.5, 3.5, 5.5]


# ---------------------------------------------------------------------------------------------------- missing values


def test_missing_values_are_dropped_and_counted():
    res = wilcoxon_rank_sum(pd.Series([1.0, None, 2.0, np.nan]), pd.array([3, pd.NA, 4, 5], dtype="Int64"))
    assert (res.n_x, res.n_dropped_x, res.n_y, res.n_dropped_y) == (2, 2, 3, 1)
    assert res.p_value == wilcoxon_rank_sum([1, 2], [3, 4, 5]).p_value
    rho = spearman([1, 2, None, 4, 5, 6], [2, 1, 3, np.nan, 5, 7])
    assert (rho.n, rho.n_dropped) == (4, 2) and rho.rho == spearman([1, 2, 5, 6], [2, 1, 5, 7]).rho
    kw = kruskal_wallis([1, 2, np.nan, 4, 5, 6, 7], ["a", "a", "b", None, "b", "c", "c"])
    assert kw.n_dropped == 2 and kw.n.tolist() == [2, 1, 2]


def test_infinite_values_are_ranked_as_R_does():
    res = wilcoxon_rank_sum([1, 2, np.inf], [-np.inf, 0])
    assert res.n_x == 3 and res.n_dropped_x == 0 and res.statistic == 6


def test_unused_categorical_levels_are_not_groups():
    groups = pd.Categorical(["lo", "lo", "hi", "hi"], categories=["lo", "mid", "hi"])
    res = kruskal_wallis([1, 2, 3, 4], groups)
    assert res.groups == ("lo", "hi") and res.df == 1


# ---------------------------------------------------------------------------------------------------- input errors


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: wilcoxon_rank_sum([1, "a", 3], [1, 2]), r"x must be numeric: non-numeric value 'a' in row\(s\) 1"),
        (lambda: wilcoxon_rank_sum([1, 2], [[1, 2]]), "y must be a one-dimensional"),
        (lambda: wilcoxon_rank_sum([1, 2], 3.0), "y must be a one-dimensional"),
        (lambda: wilcoxon_rank_sum([True, False], [1, 2]), "x must be numeric, got booleans"),
        (lambda: wilcoxon_rank_sum([np.nan, None], [1, 2]), "not enough \\(non-missing\\) 'x' observations"),
        (lambda: wilcoxon_rank_sum([1], [], alternative="less"), "'y' observations"),
        (lambda: wilcoxon_rank_sum([1], [2], alternative="two_sided"), "alternative must be"),
        (lambda: wilcoxon_rank_sum([1], [2], exact="yes"), "exact must be None"),
        (lambda: wilcoxon_rank_sum([1], [2], correct=None), "correct must be True or False"),
        (lambda: wilcoxon_rank_sum([1], [2], conf_level=95), "conf_level must be a number strictly between"),
        (lambda: wilcoxon_rank_sum([1, 1], [2, 2, 2], conf_level=0.9), "each sample is constant"),
        (lambda: spearman([1, 2, 3], [1, 2]), "same length, got 3 and 2"),
        (lambda: spearman([1, np.nan], [1, 2]), "not enough complete pairs \\(1 of 2\\)"),
        (lambda: spearman([1, 2], ["b", 1]), r"y must be numeric: non-numeric value 'b' in row\(s\) 0"),
        (lambda: kruskal_wallis([1, 2, 3], ["a", "a"]), "same length, got 3 and 2"),
        (lambda: kruskal_wallis([1, 2, 3], ["a", "a", None]), "at least 2 groups"),
        (lambda: kruskal_wallis([1, 2], np.array([["a", "b"]])), "groups must be a one-dimensional"),
    ],
)
def test_input_errors_name_the_argument_and_position(call, message):
    with pytest.raises(InputError, match=message):
        call()


# ---------------------------------------------------------------------------------------------------- warnings


def test_exact_requested_with_ties_warns_and_falls_back():
    with pytest.warns(StatisticalWarning, match="cannot compute the exact p-value with ties"):
        res = wilcoxon_rank_sum([1, 2, 2], [2, 3], exact=True)
    assert res.p_value_method == "normal-approximation"
    with pytest.warns(StatisticalWarning, match="t approximation used"):
        assert spearman([1, 2, 2, 3], [1, 2, 3, 4], exact=True).p_value_method == "t-approximation"


def test_default_rule_with_ties_is_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert wilcoxon_rank_sum([1, 2, 2], [2, 3]).ties
        assert spearman([1, 2, 2, 3], [1, 2, 3, 4]).ties


def test_undefined_statistics_are_nan_with_a_warning():
    with pytest.warns(StatisticalWarning, match="every observation is tied"):
        assert math.isnan(wilcoxon_rank_sum([2, 2], [2, 2, 2]).p_value)
    with pytest.warns(StatisticalWarning, match="every observation is tied"):
        assert math.isnan(kruskal_wallis([1, 1, 1, 1], ["a", "b", "c", "c"]).p_value)
    with pytest.warns(StatisticalWarning, match="x or y is constant"):
        res = spearman([3, 3, 3], [1, 2, 3])
    assert math.isnan(res.rho) and math.isnan(res.statistic) and math.isnan(res.p_value)


def test_unachievable_conf_level_is_lowered_with_a_warning():
    # m = n = 2: P(W = 0) = 1/6, so no two-sided 95% interval exists; R reports level 1 - 2/6
    with pytest.warns(StatisticalWarning, match="not achievable"):
        res = wilcoxon_rank_sum([1.0, 2.0], [3.5, 4.5], conf_level=0.95)
    assert res.conf_level == pytest.approx(2 / 3) and (res.conf_low, res.conf_high) == (-3.5, -1.5)


# ---------------------------------------------------------------------------------------------------- results


def test_hodges_lehmann_estimate_is_the_median_of_differences_in_the_exact_case():
    x, y = [1.1, 2.3, 4.0, 5.2], [0.2, 0.9, 1.7]
    res = wilcoxon_rank_sum(x, y, conf_level=0.8)
    assert res.estimate == np.median(np.subtract.outer(x, y))
    assert res.conf_low <= res.estimate <= res.conf_high and res.conf_level == 0.8


def test_results_have_the_same_shape_whatever_the_flags():
    plain = wilcoxon_rank_sum([1, 2, 3], [4, 5]).to_frame()
    with_ci = wilcoxon_rank_sum([1, 2, 3], [4, 5.5, 6], conf_level=0.5, alternative="less").to_frame()
    assert list(plain.columns) == list(with_ci.columns) and len(plain) == len(with_ci) == 1
    assert math.isnan(plain.loc[0, "estimate"])
    assert list(spearman([1, 2, 3], [3, 1, 2]).to_frame().columns) == [
        "rho", "statistic", "p_value", "method", "alternative", "p_value_method", "ties", "n", "n_dropped"]


def test_options_record_the_equivalent_R_call():
    res = wilcoxon_rank_sum([1, 2], [3, 4], alternative="two.sided", exact=False, conf_level=0.9)
    assert res.alternative == "two-sided"
    assert res.options["r_equivalent"] == (
        'wilcox.test(x, y, alternative = "two.sided", exact = FALSE, correct = TRUE, conf.int = TRUE, '
        "conf.level = 0.9)")
    assert spearman([1, 2, 3], [1, 3, 2], alternative="less").options["r_equivalent"] == (
        'cor.test(x, y, method = "spearman", alternative = "less", exact = NULL)')
    assert "version" in kruskal_wallis([1, 2], ["a", "b"]).options


def test_average_ranks_by_hand() -> None:
    from cart_outcomes.stats.rank_tests import _ranks

    # R: rank(c(3, 1, 3, 2, Inf, 3)) = 4 1 4 2 6 4 (the three 3s share ranks 3, 4, 5)
    assert _ranks(np.array([3.0, 1, 3, 2, np.inf, 3])).tolist() == [4.0, 1.0, 4.0, 2.0, 6.0, 4.0]
