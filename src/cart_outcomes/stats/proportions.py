"""Confidence intervals for a proportion and Fisher's exact test, with the R call each one matches.

scipy provides the pieces (beta quantiles, the 2x2 Fisher p-value, the conditional-MLE odds ratio and its exact
interval); this module fixes the conventions so that the numbers are those of R:

- ``clopper-pearson``: ``binom.test(x, n, conf.level=)$conf.int``;
- ``wilson``: ``prop.test(x, n, correct=FALSE, conf.level=)$conf.int`` (score interval, no continuity correction);
- ``jeffreys``: ``qbeta(c(a/2, 1 - a/2), x + 0.5, n - x + 0.5)`` with lower = 0 at x = 0 and upper = 1 at x = n
  (Brown, Cai & DasGupta 2001; the convention of R ``binom``/``DescTools``);
- ``binomial_test``: ``binom.test(x, n, p, alternative)`` (exact p-value, Clopper-Pearson limits, one-sided too);
- ``fisher_exact``: ``fisher.test(table, alternative)`` for a 2x2 table (p-value, conditional MLE odds ratio, exact
  CI). Larger tables are not supported: scipy's r x c p-value is not R's exact network-algorithm value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from cart_outcomes._result import Result
from cart_outcomes.errors import InputError
from cart_outcomes.stats import _common

__all__ = ["BinomialCI", "BinomialTest", "FisherExact", "binomial_ci", "binomial_test", "fisher_exact"]

ALTERNATIVES = ("two-sided", "less", "greater")

METHODS = {
    "clopper-pearson": "binom.test(x, n)$conf.int",
    "wilson": "prop.test(x, n, correct = FALSE)$conf.int",
    "jeffreys": "qbeta(c(a/2, 1-a/2), x + 0.5, n - x + 0.5); lower 0 at x = 0, upper 1 at x = n",
}


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer | float | np.floating):
        raise InputError(f"{name} must be a non-negative integer, got {value!r}")
    if not math.isfinite(value) or value < 0 or value != int(value):
        raise InputError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


@dataclass(frozen=True, slots=True)
class BinomialCI(Result):
    """A proportion ``x / n`` with its confidence interval (``method`` names the interval, ``options`` the R call)."""

    x: int
    n: int
    estimate: float
    lower: float
    upper: float
    method: str
    conf_level: float
    options: Mapping[str, Any]

    def to_frame(self) -> pd.DataFrame:
        """One row: ``x, n, estimate, lower, upper, method, conf_level``."""
        return pd.DataFrame(
            [(self.x, self.n, self.estimate, self.lower, self.upper, self.method, self.conf_level)],
            columns=["x", "n", "estimate", "lower", "upper", "method", "conf_level"],
        )


def binomial_ci(x: int, n: int, method: str = "clopper-pearson", conf_level: float = 0.95) -> BinomialCI:
    """Two-sided confidence interval for a binomial proportion (e.g. a response rate).

    Parameters
    ----------
    x : number of successes (0 <= x <= n).
    n : number of trials (>= 1).
    method : {"clopper-pearson", "wilson", "jeffreys"}
        "clopper-pearson" (exact; R ``binom.test``), "wilson" (score; R ``prop.test(correct=FALSE)``),
        "jeffreys" (equal-tailed Beta(x + 1/2, n - x + 1/2) quantiles, 0/1 at the boundaries).
    conf_level : confidence level, default 0.95.

    Returns
    -------
    BinomialCI with ``estimate = x / n``, ``lower``, ``upper``, ``method``, ``conf_level``, ``options``.

    Equivalent R call::

        binom.test(x, n, conf.level = 0.95)$conf.int
    """
    x, n = _count(x, "x"), _count(n, "n")
    if n == 0 or x > n:
        raise InputError(f"need 0 <= x <= n and n >= 1, got x={x}, n={n}")
    if method not in METHODS:
        raise InputError(f"method must be one of {list(METHODS)}, got {method!r}")
    level = _common.check_level(conf_level)
    alpha = 1.0 - level
    if method == "clopper-pearson":
        lower = 0.0 if x == 0 else float(special.betaincinv(x, n - x + 1, alpha / 2))
        upper = 1.0 if x == n else float(special.betaincinv(x + 1, n - x, 1 - alpha / 2))
    elif method == "jeffreys":
        lower = 0.0 if x == 0 else float(special.betaincinv(x + 0.5, n - x + 0.5, alpha / 2))
        upper = 1.0 if x == n else float(special.betaincinv(x + 0.5, n - x + 0.5, 1 - alpha / 2))
    else:  # prop.test(correct = FALSE), line by line
        p = x / n
        z = _common.z_value(level)
        z22n = z * z / (2 * n)
        root = z * math.sqrt(p * (1 - p) / n + z22n / (2 * n))
        upper = 1.0 if p >= 1 else (p + z22n + root) / (1 + 2 * z22n)
        lower = 0.0 if p <= 0 else (p + z22n - root) / (1 + 2 * z22n)
        lower, upper = max(lower, 0.0), min(upper, 1.0)
    return BinomialCI(
        x=x,
        n=n,
        estimate=x / n,
        lower=lower,
        upper=upper,
        method=method,
        conf_level=level,
        options=_common.options(method=method, conf_level=level, r_equivalent=METHODS[method]),
    )


def _check_alternative(alternative: str) -> str:
    if alternative not in ALTERNATIVES:
        raise InputError(f"alternative must be one of {list(ALTERNATIVES)}, got {alternative!r}")
    return alternative


@dataclass(frozen=True, slots=True)
class BinomialTest(Result):
    """Exact binomial test of ``x`` successes in ``n`` trials against the proportion ``p``, with the
    Clopper-Pearson interval of the same ``alternative`` (``options`` names the R call)."""

    x: int
    n: int
    p: float
    alternative: str
    estimate: float
    p_value: float
    lower: float
    upper: float
    conf_level: float
    options: Mapping[str, Any]

    def to_frame(self) -> pd.DataFrame:
        """One row: ``x, n, p, alternative, estimate, lower, upper, p_value, conf_level``."""
        cols = ["x", "n", "p", "alternative", "estimate", "lower", "upper", "p_value", "conf_level"]
        return pd.DataFrame([tuple(getattr(self, c) for c in cols)], columns=cols)


def binomial_test(
    x: int, n: int, p: float = 0.5, alternative: str = "two-sided", conf_level: float = 0.95
) -> BinomialTest:
    """Exact binomial test and Clopper-Pearson interval, as R ``binom.test``.

    Parameters
    ----------
    x : number of successes (0 <= x <= n).
    n : number of trials (>= 1).
    p : hypothesized probability of success, in [0, 1].
    alternative : {"two-sided", "less", "greater"}
        "less": H1 is that the true proportion is below ``p`` (p-value ``P(X <= x)``, interval ``[0, upper]``);
        "greater": above (``P(X >= x)``, ``[lower, 1]``); "two-sided": R's rule below, the two-sided interval.
    conf_level : confidence level of the interval.

    Returns
    -------
    BinomialTest with ``estimate = x / n``, ``p_value``, ``lower``, ``upper``, ``conf_level``, ``options``.

    Notes
    -----
    Two-sided p-value (R ``binom.test``): 1 when ``x = np``; otherwise ``P(X <= x)`` plus the probability of the
    outcomes on the other side of ``np`` no more likely than ``x`` (``dbinom(i) <= dbinom(x) * (1 + 1e-7)``), or
    the mirror image when ``x > np``; capped at 1. One-sided limits: lower ``qbeta(1 - conf_level, x, n - x + 1)``
    (0 at x = 0), upper ``qbeta(conf_level, x + 1, n - x)`` (1 at x = n).

    Equivalent R call::

        binom.test(x, n, p = 0.5, alternative = "two.sided", conf.level = 0.95)
    """
    x, n = _count(x, "x"), _count(n, "n")
    if n == 0 or x > n:
        raise InputError(f"need 0 <= x <= n and n >= 1, got x={x}, n={n}")
    if isinstance(p, bool) or not isinstance(p, int | float | np.integer | np.floating) or not 0 <= p <= 1:
        raise InputError(f"p must be a probability in [0, 1], got {p!r}")
    p = float(p)
    alternative = _check_alternative(alternative)
    level = _common.check_level(conf_level)
    from scipy.stats import binom  # imported here: scipy.stats costs ~1 s at start-up

    if alternative == "less":
        p_value = float(binom.cdf(x, n, p))
        lower, upper = 0.0, _cp_upper(x, n, 1.0 - level)
    elif alternative == "greater":
        p_value = float(binom.sf(x - 1, n, p))
        lower, upper = _cp_lower(x, n, 1.0 - level), 1.0
    else:
        p_value = _binom_two_sided(x, n, p, binom)
        alpha = (1.0 - level) / 2.0
        lower, upper = _cp_lower(x, n, alpha), _cp_upper(x, n, alpha)
    return BinomialTest(
        x=x,
        n=n,
        p=p,
        alternative=alternative,
        estimate=x / n,
        p_value=min(1.0, p_value),
        lower=lower,
        upper=upper,
        conf_level=level,
        options=_common.options(
            test="exact binomial",
            alternative=alternative,
            conf_level=level,
            interval="clopper-pearson",
            r_equivalent=f'binom.test(x, n, p = {p:g}, alternative = "{alternative.replace("-", ".")}")',
        ),
    )


def _cp_lower(x: int, n: int, alpha: float) -> float:
    return 0.0 if x == 0 else float(special.betaincinv(x, n - x + 1, alpha))


def _cp_upper(x: int, n: int, alpha: float) -> float:
    return 1.0 if x == n else float(special.betaincinv(x + 1, n - x, 1.0 - alpha))


def _binom_two_sided(x: int, n: int, p: float, binom: Any) -> float:
    """R ``binom.test``'s two-sided p-value (relative tolerance 1 + 1e-7 on "no more likely")."""
    if p == 0:
        return float(x == 0)
    if p == 1:
        return float(x == n)
    rel_err = 1 + 1e-7
    d = binom.pmf(x, n, p)
    m = n * p
    if x == m:
        return 1.0
    if x < m:
        i = np.arange(math.ceil(m), n + 1)
        y = int(np.count_nonzero(binom.pmf(i, n, p) <= d * rel_err))
        return float(binom.cdf(x, n, p) + binom.sf(n - y, n, p))
    i = np.arange(0, math.floor(m) + 1)
    y = int(np.count_nonzero(binom.pmf(i, n, p) <= d * rel_err))
    return float(binom.cdf(y - 1, n, p) + binom.sf(x - 1, n, p))


@dataclass(frozen=True, slots=True, eq=False)
class FisherExact(Result):
    """Fisher's exact test on a 2x2 table: ``p_value`` (of ``alternative``), conditional MLE ``odds_ratio`` and its
    exact CI (one-sided for a one-sided alternative, as R). ``table`` holds the 2x2 counts tested."""

    table: pd.DataFrame
    alternative: str
    p_value: float
    odds_ratio: float
    lower: float
    upper: float
    conf_level: float
    options: Mapping[str, Any]

    def to_frame(self) -> pd.DataFrame:
        """One row: ``odds_ratio, lower, upper, p_value, conf_level``."""
        return pd.DataFrame(
            [(self.odds_ratio, self.lower, self.upper, self.p_value, self.conf_level)],
            columns=["odds_ratio", "lower", "upper", "p_value", "conf_level"],
        )


def fisher_exact(table: Any, conf_level: float = 0.95, alternative: str = "two-sided") -> FisherExact:
    """Fisher's exact test for a 2x2 table, as R ``fisher.test``.

    Parameters
    ----------
    table : 2x2 array-like of non-negative integer counts, ``[[a, b], [c, d]]`` (rows = groups, columns =
        outcome yes/no), the same orientation as ``matrix(c(a, b, c, d), 2, byrow = TRUE)`` in R.
    conf_level : level of the exact interval for the odds ratio.
    alternative : {"two-sided", "less", "greater"}
        H1 about the odds ratio versus 1. "less": p-value ``P(X <= a)`` under the null hypergeometric
        distribution, interval ``[0, upper]``; "greater": ``P(X >= a)``, ``[lower, Inf]``.

    Returns
    -------
    FisherExact with ``p_value`` (two-sided: sum of the probabilities of tables no more likely than the observed
    one, relative tolerance 1e-7 as R), ``odds_ratio`` (conditional maximum likelihood estimate, not the sample
    ``ad/bc``), ``lower``/``upper`` (exact conditional interval), ``alternative``, ``conf_level``, ``options``.

    Notes
    -----
    R's algorithm is ported line by line (including its root finder, Brent's ``zeroin`` with R's default
    tolerance ``.Machine$double.eps^0.25``), because R's odds ratio and limits are only as precise as that
    tolerance: scipy's ``contingency.odds_ratio`` solves more tightly and so differs from R in the 4th-5th digit.
    Only 2x2 tables: R's r x c p-value (network algorithm) is not available in scipy, whose r x c result is not
    the same number, so it is not offered.

    Equivalent R call::

        fisher.test(matrix(c(a, b, c, d), 2, byrow = TRUE), alternative = "two.sided", conf.level = 0.95)
    """
    t = np.asarray(table)
    if t.shape != (2, 2):
        raise InputError(f"table must be 2x2 (r x c tables are not supported), got shape {t.shape}")
    try:
        tf = t.astype(float)
    except (TypeError, ValueError):
        raise InputError(f"table must hold non-negative integer counts, got {table!r}") from None
    if not np.isfinite(tf).all() or (tf < 0).any() or (tf != np.floor(tf)).any():
        raise InputError(f"table must hold non-negative integer counts, got {table!r}")
    level = _common.check_level(conf_level)
    alternative = _check_alternative(alternative)
    ti = tf.astype(np.int64)
    p, estimate, lower, upper = _fisher_2x2(ti, level, alternative)
    return FisherExact(
        table=pd.DataFrame(ti, index=["row_1", "row_2"], columns=["col_1", "col_2"]),
        alternative=alternative,
        p_value=p,
        odds_ratio=estimate,
        lower=lower,
        upper=upper,
        conf_level=level,
        options=_common.options(
            test=f"Fisher exact, {alternative}",
            alternative=alternative,
            odds_ratio="conditional maximum likelihood",
            conf_level=level,
            r_equivalent="fisher.test",
        ),
    )


_EPS = float(np.finfo(float).eps)
_R_UNIROOT_TOL = _EPS**0.25


def _zeroin(f, ax: float, bx: float, tol: float = _R_UNIROOT_TOL, maxit: int = 1000) -> float:
    """Brent's root finder exactly as R's ``uniroot`` (``R_zeroin2`` in src/library/stats/src/zeroin.c)."""
    a, b = ax, bx
    fa, fb = f(a), f(b)
    if fa * fb > 0:
        raise InputError("fisher_exact: no sign change while solving for the odds ratio")
    c, fc = a, fa
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    for _ in range(maxit + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * _EPS * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b


def _fisher_2x2(t: np.ndarray, level: float, alternative: str) -> tuple[float, float, float, float]:
    """R ``fisher.test`` for a 2x2 table: p-value, conditional MLE and exact limits (R 4.2 code, ported)."""
    from scipy.stats import hypergeom  # imported here: scipy.stats costs ~1 s at start-up

    m, n, k, x = int(t[:, 0].sum()), int(t[:, 1].sum()), int(t[0, :].sum()), int(t[0, 0])
    lo, hi = max(0, k - n), min(k, m)
    support = np.arange(lo, hi + 1)
    logdc = hypergeom.logpmf(support, m + n, m, k)

    def dnhyper(ncp: float) -> np.ndarray:
        d = logdc + math.log(ncp) * support
        d = np.exp(d - d.max())
        return d / d.sum()

    def mnhyper(ncp: float) -> float:
        if ncp == 0:
            return lo
        if ncp == math.inf:
            return hi
        return float(np.sum(support * dnhyper(ncp)))

    def pnhyper(q: int, ncp: float, upper_tail: bool = False) -> float:
        if ncp == 1:
            if upper_tail:
                return float(hypergeom.sf(x - 1, m + n, m, k))
            return float(hypergeom.cdf(x, m + n, m, k))
        if ncp == 0:
            return float(q <= lo if upper_tail else q >= lo)
        if ncp == math.inf:
            return float(q <= hi if upper_tail else q >= hi)
        d = dnhyper(ncp)
        return float(d[support >= q].sum() if upper_tail else d[support <= q].sum())

    if alternative == "less":
        p_value = pnhyper(x, 1.0)
    elif alternative == "greater":
        p_value = pnhyper(x, 1.0, upper_tail=True)
    else:
        d = dnhyper(1.0)
        p_value = float(d[d <= d[x - lo] * (1 + 1e-7)].sum())

    if x == lo:
        estimate = 0.0
    elif x == hi:
        estimate = math.inf
    else:
        mu = mnhyper(1.0)
        if mu > x:
            estimate = _zeroin(lambda u: mnhyper(u) - x, 0.0, 1.0)
        elif mu < x:
            estimate = 1.0 / _zeroin(lambda u: mnhyper(1.0 / u) - x, _EPS, 1.0)
        else:
            estimate = 1.0

    def ncp_upper(alpha: float) -> float:
        if x == hi:
            return math.inf
        p = pnhyper(x, 1.0)
        if p < alpha:
            return _zeroin(lambda u: pnhyper(x, u) - alpha, 0.0, 1.0)
        if p > alpha:
            return 1.0 / _zeroin(lambda u: pnhyper(x, 1.0 / u) - alpha, _EPS, 1.0)
        return 1.0

    def ncp_lower(alpha: float) -> float:
        if x == lo:
            return 0.0
        p = pnhyper(x, 1.0, upper_tail=True)
        if p > alpha:
            return _zeroin(lambda u: pnhyper(x, u, upper_tail=True) - alpha, 0.0, 1.0)
        if p < alpha:
            return 1.0 / _zeroin(lambda u: pnhyper(x, 1.0 / u, upper_tail=True) - alpha, _EPS, 1.0)
        return 1.0

    if alternative == "less":
        lower, upper = 0.0, ncp_upper(1.0 - level)
    elif alternative == "greater":
        lower, upper = ncp_lower(1.0 - level), math.inf
    else:
        lower, upper = ncp_lower((1.0 - level) / 2.0), ncp_upper((1.0 - level) / 2.0)
    return min(p_value, 1.0), estimate, lower, upper
