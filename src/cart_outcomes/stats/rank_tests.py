"""Rank tests with R's numbers: Wilcoxon rank sum (Mann-Whitney), Kruskal-Wallis, Spearman's rank correlation.

Each function follows one R call (R 4.2 code, read and re-expressed step by step), including when R switches from
an exact to an approximate p-value:

- :func:`wilcoxon_rank_sum` = ``wilcox.test(x, y, alternative, exact, correct, conf.int, conf.level)``;
- :func:`kruskal_wallis` = ``kruskal.test(values, groups)``;
- :func:`spearman` = ``cor.test(x, y, method = "spearman", alternative, exact)``.

Why not scipy alone: scipy's ``mannwhitneyu`` p-values agree with R but it exposes neither the Wilcoxon quantile
function (needed for R's exact Hodges-Lehmann interval) nor R's asymptotic interval, which R finds with ``uniroot``
at tolerance 1e-4 (so it is only that precise, and only R's root finder gives R's digits); scipy's ``spearmanr``
uses the t approximation only, not R's AS 89 exact/Edgeworth p-value. The exact Wilcoxon distribution is therefore
counted here (a subset-sum recursion), the Spearman null distribution is enumerated for n <= 9 (a dynamic programme
over the set of used ranks) and approximated by the AS 89 Edgeworth series for larger n, as R's C function
``prho`` does. scipy supplies the normal, t and chi-squared tail probabilities and the average ranks.

Missing values (NaN, None, pd.NA) are dropped as R drops NA: per sample for ``wilcox.test``; complete pairs for
``cor.test``; complete (value, group) rows for ``kruskal.test``. The results count what was dropped. Infinite values
are kept (R ranks them).

Warnings: R warns "cannot compute exact p-value with ties" whenever it falls back from the exact p-value. Here the
fallback is recorded in the result (``p_value_method``, and for Wilcoxon in R's ``method`` string) and a
:class:`~cart_outcomes.errors.StatisticalWarning` is raised only when the caller *asked* for ``exact=True`` and did
not get it, when R lowers an unachievable confidence level, and when the statistic is undefined (every observation
tied, or a constant Spearman variable: NaN results, as R's NA).
"""

from __future__ import annotations

import functools
import math
import numbers
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, fields
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from cart_outcomes._result import Result
from cart_outcomes.errors import InputError, StatisticalWarning
from cart_outcomes.stats import _common, _inputs
from cart_outcomes.stats.proportions import _zeroin

__all__ = ["KruskalWallis", "RankSumTest", "SpearmanTest", "kruskal_wallis", "spearman", "wilcoxon_rank_sum"]

_ALTERNATIVES = {"two-sided": "two-sided", "two.sided": "two-sided", "less": "less", "greater": "greater"}
_R_ALTERNATIVE = {"two-sided": "two.sided", "less": "less", "greater": "greater"}
#: R wilcox.test: exact p-value when both samples have fewer than this many observations (and no ties)
WILCOX_EXACT_MAX = 50
#: R cor.test: Spearman p-value by AS 89 (prho) up to this n, by the t approximation above
SPEARMAN_AS89_MAX = 1290
#: R prho: exact enumeration of the n! permutations up to this n, Edgeworth series above
SPEARMAN_ENUMERATE_MAX = 9
#: R wilcox.test(tol.root =): tolerance of uniroot for the asymptotic interval and estimate
_TOL_ROOT = 1e-4
_DBL_EPS = float(np.finfo(float).eps)


# ---------------------------------------------------------------------------------------------------------------------
# inputs


def _is_missing(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def _numeric(values: Any, name: str) -> np.ndarray:
    """One-dimensional float array (NaN where missing); InputError naming ``name`` and the non-numeric positions."""
    if np.ndim(values) != 1:
        raise InputError(f"{name} must be a one-dimensional array-like of numbers, got {np.ndim(values)} dimensions")
    s = values if isinstance(values, pd.Series) else pd.Series(values, dtype=None if len(values) else float)
    if pd.api.types.is_bool_dtype(s):
        raise InputError(f"{name} must be numeric, got booleans (as R, which refuses logical vectors)")
    if pd.api.types.is_numeric_dtype(s):
        return s.to_numpy(dtype=float, na_value=np.nan)
    ok = s.map(lambda v: _is_missing(v) or (isinstance(v, numbers.Real) and not isinstance(v, bool))).to_numpy(bool)
    if not ok.all():
        first = s.iloc[int(np.flatnonzero(~ok)[0])]
        raise InputError(f"{name} must be numeric: non-numeric value {first!r} in {_inputs.rows(~ok)}")
    return s.to_numpy(dtype=float, na_value=np.nan)


def _alternative(alternative: str) -> str:
    if alternative not in _ALTERNATIVES:
        raise InputError(f"alternative must be 'two-sided', 'less' or 'greater', got {alternative!r}")
    return _ALTERNATIVES[alternative]


def _exact_flag(exact: Any) -> bool | None:
    if exact is not None and not isinstance(exact, bool | np.bool_):
        raise InputError(f"exact must be None (R's rule), True or False, got {exact!r}")
    return None if exact is None else bool(exact)


def _ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks, R ``rank(ties.method = "average")`` (numpy only: importing scipy.stats costs ~1 s).

    Sort once; each run of equal values at 0-based positions start..end-1 gets the mean rank (start + 1 + end) / 2.
    """
    values = np.asarray(values)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    edges = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1], True])
    ranks = np.empty(values.size, dtype=float)
    ranks[order] = np.repeat((edges[:-1] + 1 + edges[1:]) / 2.0, np.diff(edges))
    return ranks


def _tie_term(values: np.ndarray) -> float:
    """``sum(t^3 - t)`` over the sizes ``t`` of the groups of tied values."""
    t = np.unique(values, return_counts=True)[1].astype(float)
    return float(np.sum(t**3 - t))


def _pnorm(z: float, lower_tail: bool) -> float:
    return float(special.ndtr(z if lower_tail else -z))


def _qnorm(p: float) -> float:
    """R ``qnorm(p)`` (both are Wichura's AS 241)."""
    return NormalDist().inv_cdf(p)


def _undefined(what: str) -> None:
    warnings.warn(what, StatisticalWarning, stacklevel=3)


# ---------------------------------------------------------------------------------------------------------------------
# Wilcoxon rank sum


class _OneRow(Result):
    """``to_frame()`` for a test result: one row with every attribute except ``options``."""

    __slots__ = ()

    def to_frame(self) -> pd.DataFrame:
        cols = [f.name for f in fields(self) if f.name != "options"]
        return pd.DataFrame([[getattr(self, c) for c in cols]], columns=cols)


@dataclass(frozen=True, slots=True)
class RankSumTest(_OneRow):
    """Result of :func:`wilcoxon_rank_sum`.

    Attributes
    ----------
    statistic : R's ``W`` = sum of the ranks of ``x`` - n_x (n_x + 1) / 2 (the Mann-Whitney U of ``x``).
    p_value : p-value for ``alternative`` (NaN when every observation is tied).
    method : R's method string: "Wilcoxon rank sum exact test", "Wilcoxon rank sum test with continuity
        correction" or "Wilcoxon rank sum test".
    alternative : "two-sided", "less" (x shifted below y) or "greater".
    p_value_method : "exact" or "normal-approximation".
    ties : whether the pooled sample has tied values.
    n_x, n_y : observations used; n_dropped_x, n_dropped_y : missing values dropped.
    estimate, conf_low, conf_high : Hodges-Lehmann location shift x - y and its interval (NaN unless ``conf_level``
        was given; an infinite limit for one-sided alternatives, as R).
    conf_level : level of the interval as R reports it (lowered when the requested one is not achievable; NaN
        without an interval).
    options : the arguments, the equivalent R call, package version.
    """

    statistic: float
    p_value: float
    method: str
    alternative: str
    p_value_method: str
    ties: bool
    n_x: int
    n_y: int
    n_dropped_x: int
    n_dropped_y: int
    estimate: float
    conf_low: float
    conf_high: float
    conf_level: float
    options: Mapping[str, Any]


@functools.lru_cache(maxsize=64)
def _wilcox_counts(m: int, n: int) -> np.ndarray:
    """Number of arrangements giving each value 0..m*n of the rank-sum statistic W (R's ``cwilcox``).

    Counts the subsets of size m = min(m, n) of the ranks 1..m+n by their sum (adding one rank at a time: only
    sums of non-negative counts, so the tail counts are as accurate as R's). W = rank sum - m (m + 1) / 2.
    """
    m, n = min(m, n), max(m, n)
    total = m * (m + n)
    dp = np.zeros((m + 1, total + 1))
    dp[0, 0] = 1.0
    for rank in range(1, m + n + 1):
        dp[1:, rank:] = dp[1:, rank:] + dp[:-1, :-rank]
    counts = dp[m, m * (m + 1) // 2 : m * (m + 1) // 2 + m * n + 1].copy()
    counts.flags.writeable = False
    return counts


def _pwilcox(q: float, m: int, n: int, lower_tail: bool = True) -> float:
    """R ``pwilcox(q, m, n, lower.tail)``: P(W <= q) or P(W > q)."""
    q = math.floor(q + 1e-7)
    if q < 0:
        return 0.0 if lower_tail else 1.0
    if q >= m * n:
        return 1.0 if lower_tail else 0.0
    p = _wilcox_counts(m, n) / float(math.comb(m + n, n))
    if q <= m * n / 2:
        s = float(np.sum(p[: q + 1]))
        return s if lower_tail else 1.0 - s
    s = float(np.sum(p[: m * n - q]))  # P(W > q) = P(W < mn - q) by symmetry
    return 1.0 - s if lower_tail else s


def _qwilcox(prob: float, m: int, n: int) -> int:
    """R ``qwilcox(prob, m, n)``: smallest q with P(W <= q) >= prob (R's running sum and 10 eps fuzz)."""
    if prob <= 0.0:
        return 0
    if prob >= 1.0:
        return m * n
    cum = np.cumsum(_wilcox_counts(m, n) / float(math.comb(m + n, n)))
    if prob <= 0.5:
        return int(np.argmax(cum >= prob - 10 * _DBL_EPS))
    return m * n - int(np.argmax(cum > 1 - prob + 10 * _DBL_EPS))


def _exact_interval(x: np.ndarray, y: np.ndarray, alternative: str, level: float) -> tuple[float, float, float, float]:
    """R's exact interval: order statistics of the m*n differences x_i - y_j at Wilcoxon quantiles."""
    m, n = x.size, y.size
    diffs = np.sort(np.subtract.outer(x, y).ravel())
    alpha = 1.0 - level
    qu = _qwilcox(alpha / 2 if alternative == "two-sided" else alpha, m, n) or 1
    achieved = _pwilcox(qu - 1, m, n) * (2 if alternative == "two-sided" else 1)
    lower = diffs[qu - 1] if alternative != "less" else -math.inf
    upper = diffs[m * n - qu] if alternative != "greater" else math.inf
    if achieved - alpha > alpha / 2:
        warnings.warn(
            f"requested conf_level {level} is not achievable with {m} and {n} observations; the interval has "
            f"level {1 - achieved:.4g} (as R)",
            StatisticalWarning,
            stacklevel=3,
        )
        level = 1.0 - achieved
    return float(np.median(diffs)), float(lower), float(upper), level


def _asymptotic_interval(
    x: np.ndarray, y: np.ndarray, alternative: str, level: float, correct: bool
) -> tuple[float, float, float, float]:
    """R's asymptotic interval and estimate: roots in d of the standardised W of (x - d, y), by R's ``uniroot``."""
    m, n = x.size, y.size
    if np.ptp(x) == 0 and np.ptp(y) == 0:
        raise InputError("wilcoxon_rank_sum: cannot compute a confidence interval when each sample is constant")
    mumin, mumax = float(x.min() - y.max()), float(x.max() - y.min())

    def w(d: float, corrected: bool) -> float:
        pooled = np.concatenate([x - d, y])
        dz = float(np.sum(_ranks(pooled)[:m])) - m * (m + 1) / 2 - m * n / 2
        correction = 0.0
        if corrected:
            correction = {"two-sided": float(np.sign(dz)) * 0.5, "greater": 0.5, "less": -0.5}[alternative]
        sigma = math.sqrt((m * n / 12) * ((m + n + 1) - _tie_term(pooled) / ((m + n) * (m + n - 1))))
        return (dz - correction) / sigma

    w_min, w_max = w(mumin, correct), w(mumax, correct)

    def root(zq: float) -> float:
        if w_min - zq <= 0:
            return mumin
        if w_max - zq >= 0:
            return mumax
        return _zeroin(lambda d: w(d, correct) - zq, mumin, mumax, tol=_TOL_ROOT)

    alpha = 1.0 - level
    lower, upper = -math.inf, math.inf
    if alternative == "two-sided":
        lower, upper = root(_qnorm(1 - alpha / 2)), root(_qnorm(alpha / 2))
    elif alternative == "greater":
        lower = root(_qnorm(1 - alpha))
    else:
        upper = root(_qnorm(alpha))
    if w(mumin, False) * w(mumax, False) > 0:  # R's uniroot stops here (a floating-point edge case)
        raise InputError("wilcoxon_rank_sum: no sign change while solving for the location estimate (as R)")
    estimate = _zeroin(lambda d: w(d, False), mumin, mumax, tol=_TOL_ROOT)
    return estimate, lower, upper, level


def wilcoxon_rank_sum(
    x: Any,
    y: Any,
    *,
    alternative: str = "two-sided",
    exact: bool | None = None,
    correct: bool = True,
    conf_level: float | None = None,
) -> RankSumTest:
    """Wilcoxon rank sum (Mann-Whitney) test of a location shift between two independent samples, as R.

    Parameters
    ----------
    x, y : array-likes of numbers; missing values are dropped from each sample (counted in the result).
    alternative : {"two-sided", "less", "greater"}
        "less": x tends to be smaller than y; "greater": larger. R's spelling "two.sided" is accepted.
    exact : None (R's rule: exact when both samples have < 50 observations and there are no ties), True or False.
        With ties there is no exact p-value: ``exact=True`` then falls back to the normal approximation with a
        StatisticalWarning (as R). The exact law costs O(min(m, n) (m + n)^2): about 1 s at 100 + 100.
    correct : continuity correction of the normal approximation (R default TRUE).
    conf_level : when given, the Hodges-Lehmann estimate of the shift x - y and its interval, as R's
        ``conf.int = TRUE``: exact (order statistics of the differences) when the p-value is exact, else the
        asymptotic interval found with R's root finder at R's tolerance 1e-4 (so only that precise, but R's digits).

    Returns
    -------
    RankSumTest: ``statistic`` (W), ``p_value``, ``method``, ``alternative``, ``p_value_method``, ``ties``, the n's,
    ``estimate``/``conf_low``/``conf_high``/``conf_level`` (NaN without ``conf_level``), ``options``.

    Notes
    -----
    1. Pool the samples and rank them (average ranks); W = sum of the ranks of x - n_x (n_x + 1) / 2.
    2. Exact: the null distribution of W counts the C(n_x + n_y, n_x) equally likely arrangements. Two-sided
       p = min(1, 2 P(W <= w)) when w <= n_x n_y / 2, else min(1, 2 P(W >= w)).
    3. Otherwise z = (W - n_x n_y / 2 - c) / sigma with sigma^2 = n_x n_y / 12 ((N + 1) - sum(t^3 - t) / (N (N - 1)))
       (t: sizes of tie groups, N = n_x + n_y) and c = 0.5 sign(W - n_x n_y / 2) (two-sided), 0.5 (greater),
       -0.5 (less), 0 without ``correct``.

    Equivalent R call::

        wilcox.test(x, y, alternative = "two.sided", exact = NULL, correct = TRUE, conf.int = FALSE)

    References
    ----------
    Hollander M, Wolfe DA, Chicken E. Nonparametric Statistical Methods, 3rd ed. Wiley 2014, sections 4.1-4.3.
    """
    alt = _alternative(alternative)
    exact_req = _exact_flag(exact)
    if not isinstance(correct, bool | np.bool_):
        raise InputError(f"correct must be True or False, got {correct!r}")
    level = None if conf_level is None else _common.check_level(conf_level)
    xs, ys = _numeric(x, "x"), _numeric(y, "y")
    x_ok, y_ok = xs[~np.isnan(xs)], ys[~np.isnan(ys)]
    for name, full, kept in (("x", xs, x_ok), ("y", ys, y_ok)):
        if kept.size == 0:
            raise InputError(f"not enough (non-missing) {name!r} observations: {full.size} values, none usable")
    m, n = x_ok.size, y_ok.size
    pooled = np.concatenate([x_ok, y_ok])
    ranks = _ranks(pooled)
    w = float(np.sum(ranks[:m])) - m * (m + 1) / 2
    ties = bool(np.unique(pooled).size < pooled.size)
    use_exact = (m < WILCOX_EXACT_MAX and n < WILCOX_EXACT_MAX) if exact_req is None else exact_req
    if use_exact and not ties:
        method, p_method = "Wilcoxon rank sum exact test", "exact"
        if alt == "two-sided":
            half = _pwilcox(w - 1, m, n, False) if w > m * n / 2 else _pwilcox(w, m, n)
            p = min(2 * half, 1.0)
        else:
            p = _pwilcox(w - 1, m, n, False) if alt == "greater" else _pwilcox(w, m, n)
    else:
        method, p_method = "Wilcoxon rank sum test", "normal-approximation"
        z = w - m * n / 2
        sigma = math.sqrt((m * n / 12) * ((m + n + 1) - _tie_term(pooled) / ((m + n) * (m + n - 1))))
        correction = 0.0
        if correct:
            correction = {"two-sided": float(np.sign(z)) * 0.5, "greater": 0.5, "less": -0.5}[alt]
            method += " with continuity correction"
        if sigma == 0:
            _undefined("wilcoxon_rank_sum: every observation is tied; the p-value is undefined (NaN, as R)")
            p = math.nan
        else:
            z = (z - correction) / sigma
            lower, upper = _pnorm(z, True), _pnorm(z, False)
            p = {"less": lower, "greater": upper, "two-sided": 2 * min(lower, upper)}[alt]
        if exact_req and ties:
            warnings.warn(
                "wilcoxon_rank_sum: cannot compute the exact p-value with ties; normal approximation used (as R)",
                StatisticalWarning,
                stacklevel=2,
            )
    estimate = low = high = reported_level = math.nan
    if level is not None and p_method == "exact":
        estimate, low, high, reported_level = _exact_interval(x_ok, y_ok, alt, level)
    elif level is not None:
        estimate, low, high, reported_level = _asymptotic_interval(x_ok, y_ok, alt, level, bool(correct))
    r_call = (
        f'wilcox.test(x, y, alternative = "{_R_ALTERNATIVE[alt]}", exact = {_r_flag(exact_req)}, '
        f"correct = {_r_flag(correct)}"
        + (f", conf.int = TRUE, conf.level = {level})" if level is not None else ")")
    )
    return RankSumTest(
        statistic=w,
        p_value=float(p),
        method=method,
        alternative=alt,
        p_value_method=p_method,
        ties=ties,
        n_x=m,
        n_y=n,
        n_dropped_x=int(xs.size - m),
        n_dropped_y=int(ys.size - n),
        estimate=estimate,
        conf_low=low,
        conf_high=high,
        conf_level=reported_level,
        options=_common.options(
            test="Wilcoxon rank sum",
            alternative=alt,
            exact=exact_req,
            correct=bool(correct),
            conf_level=level,
            r_equivalent=r_call,
        ),
    )


def _r_flag(v: bool | None) -> str:
    return "NULL" if v is None else ("TRUE" if v else "FALSE")


# ---------------------------------------------------------------------------------------------------------------------
# Kruskal-Wallis


@dataclass(frozen=True, slots=True)
class KruskalWallis(Result):
    """Result of :func:`kruskal_wallis`.

    Attributes
    ----------
    statistic : Kruskal-Wallis chi-squared, tie-corrected (NaN when every observation is tied).
    df : number of groups - 1.
    p_value : upper-tail chi-squared probability.
    method : "Kruskal-Wallis rank sum test" (R's string).
    groups : group labels in sorted order (R ``factor`` levels of the groups present).
    n, rank_sum : observations and sum of pooled ranks per group.
    n_dropped : rows dropped for a missing value or a missing group.
    options : the equivalent R call, package version.
    """

    statistic: float
    df: int
    p_value: float
    method: str
    groups: tuple
    n: np.ndarray
    rank_sum: np.ndarray
    n_dropped: int
    options: Mapping[str, Any]

    @property
    def table(self) -> pd.DataFrame:
        """One row per group: ``group, n, rank_sum, mean_rank``."""
        return pd.DataFrame(
            {"group": list(self.groups), "n": self.n, "rank_sum": self.rank_sum, "mean_rank": self.rank_sum / self.n}
        )


def kruskal_wallis(values: Any, groups: Any) -> KruskalWallis:
    """Kruskal-Wallis rank sum test that the groups come from the same distribution, as R ``kruskal.test``.

    Parameters
    ----------
    values : array-like of numbers.
    groups : array-like of group labels, same length. Rows with a missing value or group are dropped (counted).

    Returns
    -------
    KruskalWallis: ``statistic``, ``df``, ``p_value``, ``method``, per-group ``table`` (n, rank sums, mean ranks).

    Notes
    -----
    1. Rank the N pooled values (average ranks); R_j = rank sum and n_j = size of group j.
    2. H = (12 / (N (N + 1)) sum R_j^2 / n_j - 3 (N + 1)) / (1 - sum(t^3 - t) / (N^3 - N)), t: tie-group sizes.
    3. p = P(chi-squared with k - 1 df >= H). Always asymptotic (R has no exact option).

    Equivalent R call::

        kruskal.test(values, factor(groups))

    References
    ----------
    Kruskal WH, Wallis WA. Use of ranks in one-criterion variance analysis. J Am Stat Assoc 1952;47:583-621.
    """
    v = _numeric(values, "values")
    g = pd.Series(groups) if np.ndim(groups) == 1 else None
    if g is None:
        raise InputError(f"groups must be a one-dimensional array-like of labels, got {np.ndim(groups)} dimensions")
    if len(g) != v.size:
        raise InputError(f"values and groups must have the same length, got {v.size} and {len(g)}")
    keep = ~np.isnan(v) & g.notna().to_numpy()
    v = v[keep]
    cat = pd.Categorical(g[keep].reset_index(drop=True)).remove_unused_categories()  # R factor(): levels present
    levels = list(cat.categories)
    if len(levels) < 2:
        raise InputError(
            f"kruskal_wallis: needs at least 2 groups with data; the {v.size} usable observations (of {keep.size}) "
            f"fall in {len(levels)} group(s) {levels}"
        )
    codes = cat.codes
    big_n = v.size
    ranks = _ranks(v)
    n_j = np.bincount(codes, minlength=len(levels)).astype(float)
    r_j = np.bincount(codes, weights=ranks, minlength=len(levels))
    h = float(np.sum(r_j**2 / n_j))
    denominator = 1 - _tie_term(v) / (big_n**3 - big_n)
    if denominator == 0:
        _undefined("kruskal_wallis: every observation is tied; the statistic is undefined (NaN, as R)")
        h = p = math.nan
    else:
        h = (12 * h / (big_n * (big_n + 1)) - 3 * (big_n + 1)) / denominator
        p = float(special.chdtrc(len(levels) - 1, h))
    return KruskalWallis(
        statistic=h,
        df=len(levels) - 1,
        p_value=p,
        method="Kruskal-Wallis rank sum test",
        groups=tuple(levels),
        n=n_j.astype(int),
        rank_sum=r_j,
        n_dropped=int(keep.size - big_n),
        options=_common.options(test="Kruskal-Wallis", r_equivalent="kruskal.test(values, factor(groups))"),
    )


# ---------------------------------------------------------------------------------------------------------------------
# Spearman


@dataclass(frozen=True, slots=True)
class SpearmanTest(_OneRow):
    """Result of :func:`spearman`.

    Attributes
    ----------
    rho : Spearman's rank correlation (Pearson correlation of the average ranks); NaN when x or y is constant.
    statistic : R's ``S`` = (n^3 - n) (1 - rho) / 6 (the sum of squared rank differences when there are no ties).
    p_value : p-value for ``alternative``.
    method : "Spearman's rank correlation rho" (R's string, whatever the p-value method).
    alternative : "two-sided", "less" (negative association) or "greater" (positive).
    p_value_method : "exact" (enumeration, n <= 9), "edgeworth" (AS 89 series, 10 <= n <= 1290) or
        "t-approximation".
    ties : whether x or y has tied values.
    n : complete pairs used; n_dropped : pairs dropped for a missing x or y.
    options : the arguments, the equivalent R call, package version.
    """

    rho: float
    statistic: float
    p_value: float
    method: str
    alternative: str
    p_value_method: str
    ties: bool
    n: int
    n_dropped: int
    options: Mapping[str, Any]


@functools.lru_cache(maxsize=SPEARMAN_ENUMERATE_MAX)
def _spearman_counts(n: int) -> np.ndarray:
    """How many of the n! permutations p give each S = sum (i - p(i))^2, S = 0..(n^3 - n)/3.

    Dynamic programme over the set of values already placed (positions are filled in order, so the set's size is
    the next position): 2^n states, no enumeration of n! permutations.
    """
    s_max = n * (n * n - 1) // 3
    dp = np.zeros((1 << n, s_max + 1))
    dp[0, 0] = 1.0
    for mask in range(1 << n):
        pos = mask.bit_count()
        if pos == n or not dp[mask].any():
            continue
        for value in range(n):
            if not mask >> value & 1:
                step = (pos - value) ** 2
                dp[mask | 1 << value, step:] += dp[mask, : s_max + 1 - step]
    counts = dp[-1].copy()
    counts.flags.writeable = False
    return counts


def _prho(n: int, s: float, lower_tail: bool) -> float:
    """AS 89 as R's ``prho``: P(S >= s), or P(S < s) with ``lower_tail``.

    Exact by enumeration for n <= 9; otherwise the Edgeworth series of Best & Roberts (1975) around the normal
    approximation of rho sqrt(n - 1), with the continuity correction s - 1, clipped to [0, 1].
    """
    if s <= 0:
        return 0.0 if lower_tail else 1.0
    s_max = n * (n * n - 1) / 3
    if s > s_max:
        return 1.0 if lower_tail else 0.0
    if n <= SPEARMAN_ENUMERATE_MAX:
        counts = _spearman_counts(n)
        at_least = float(np.sum(counts[math.ceil(s) :]))
        nfac = float(math.factorial(n))
        return (nfac - at_least if lower_tail else at_least) / nfac
    b = 1.0 / n
    x = (6.0 * (s - 1) * b / (n * n - 1.0) - 1.0) * math.sqrt(n - 1.0)
    y = x * x
    c1, c2, c3, c4, c5, c6 = 0.2274, 0.2531, 0.1745, 0.0758, 0.1033, 0.3932
    c7, c8, c9, c10, c11, c12 = 0.0879, 0.0151, 0.0072, 0.0831, 0.0131, 4.6e-4
    inner = c9 - c10 * b + y * b * (c11 - c12 * y)
    u = x * b * (c1 + b * (c2 + c3 * b) + y * (-c4 + b * (c5 + c6 * b) - y * b * (c7 + c8 * b - y * inner)))
    correction = u / math.exp(y / 2.0)
    p = (-correction if lower_tail else correction) + _pnorm(x, lower_tail)
    return min(max(p, 0.0), 1.0)


def _pspearman(q: float, n: int, lower_tail: bool, as89: bool) -> float:
    """R's ``pspearman`` inside ``cor.test``: P(S <= q) with ``lower_tail``, else P(S >= q)."""
    if as89:
        return _prho(n, round(q) + 2 * lower_tail, lower_tail)
    r = 1 - q / (n * (n * n - 1) / 6)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.float64(r) / np.sqrt((1 - r * r) / (n - 2))
        return float(special.stdtr(n - 2, -t if lower_tail else t))


def spearman(x: Any, y: Any, *, alternative: str = "two-sided", exact: bool | None = None) -> SpearmanTest:
    """Spearman's rank correlation and its test of no association, as R ``cor.test(method = "spearman")``.

    Parameters
    ----------
    x, y : array-likes of numbers of the same length; pairs with a missing value are dropped (counted).
    alternative : {"two-sided", "less", "greater"}: "greater" is a positive association. "two.sided" accepted.
    exact : None or True (R's default: AS 89 when there are no ties and n <= 1290) or False (t approximation).
        With ties AS 89 does not apply: ``exact=True`` then falls back to the t approximation with a
        StatisticalWarning (R warns for ``exact = NULL`` too; here the fallback is in ``p_value_method``).

    Returns
    -------
    SpearmanTest: ``rho``, ``statistic`` (S), ``p_value``, ``method``, ``alternative``, ``p_value_method``,
    ``ties``, ``n``, ``n_dropped``, ``options``.

    Notes
    -----
    1. rho = Pearson correlation of the average ranks of x and y; S = (n^3 - n) (1 - rho) / 6.
    2. AS 89 (no ties, n <= 1290, ``exact`` not False), with q = round(S): P(S <= q) = 1 - P(S >= q + 2) and
       P(S >= q), each exact over the n! permutations for n <= 9, else the Edgeworth series (Best & Roberts 1975).
    3. Otherwise t = rho / sqrt((1 - rho^2) / (n - 2)) on n - 2 df.
    4. Two-sided: min(1, 2 P(S >= q)) when S > (n^3 - n) / 6, else min(1, 2 P(S <= q)). "greater" = P(S <= q).

    Equivalent R call::

        cor.test(x, y, method = "spearman", alternative = "two.sided", exact = NULL)

    References
    ----------
    Best DJ, Roberts DE. Algorithm AS 89: the upper tail probabilities of Spearman's rho. Appl Stat 1975;24:377-379.
    """
    alt = _alternative(alternative)
    exact_req = _exact_flag(exact)
    xs, ys = _numeric(x, "x"), _numeric(y, "y")
    if xs.size != ys.size:
        raise InputError(f"x and y must have the same length, got {xs.size} and {ys.size}")
    keep = ~np.isnan(xs) & ~np.isnan(ys)
    xs, ys = xs[keep], ys[keep]
    n = int(xs.size)
    if n < 2:
        raise InputError(f"spearman: not enough complete pairs ({n} of {keep.size}); need at least 2")
    ties = bool(min(np.unique(xs).size, np.unique(ys).size) < n)
    as89 = exact_req is not False and not ties and n <= SPEARMAN_AS89_MAX
    p_method = "t-approximation" if not as89 else ("exact" if n <= SPEARMAN_ENUMERATE_MAX else "edgeworth")
    if exact_req and ties:
        warnings.warn(
            "spearman: cannot compute the exact p-value with ties; t approximation used (as R)",
            StatisticalWarning,
            stacklevel=2,
        )
    rx, ry = _ranks(xs), _ranks(ys)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    sxx, syy = float(np.dot(rx, rx)), float(np.dot(ry, ry))
    if sxx == 0 or syy == 0:
        _undefined("spearman: x or y is constant; rho is undefined (NaN, as R)")
        rho = q = p = math.nan
    else:
        rho = min(max(float(np.dot(rx, ry)) / math.sqrt(sxx * syy), -1.0), 1.0)
        q = (n**3 - n) * (1 - rho) / 6
        if alt == "two-sided":
            p = min(2 * _pspearman(q, n, lower_tail=q <= (n**3 - n) / 6, as89=as89), 1.0)
        else:
            p = _pspearman(q, n, lower_tail=alt == "greater", as89=as89)
    return SpearmanTest(
        rho=rho,
        statistic=q,
        p_value=p,
        method="Spearman's rank correlation rho",
        alternative=alt,
        p_value_method=p_method,
        ties=ties,
        n=n,
        n_dropped=int(keep.size - n),
        options=_common.options(
            test="Spearman rank correlation",
            alternative=alt,
            exact=exact_req,
            r_equivalent=f'cor.test(x, y, method = "spearman", alternative = "{_R_ALTERNATIVE[alt]}", '
            f"exact = {_r_flag(exact_req)})",
        ),
    )
