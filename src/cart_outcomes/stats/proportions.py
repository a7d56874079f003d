"""Confidence intervals for a proportion and Fisher's exact test, with the R call each one matches.

scipy provides the pieces (beta quantiles, the 2x2 Fisher p-value, the conditional-MLE odds ratio and its exact
interval); this module fixes the conventions so that the numbers are those of R:

- ``clopper-pearson``: ``binom.test(x, n, conf.level=)$conf.int``;
- ``wilson``: ``prop.test(x, n, correct=FALSE, conf.level=)$conf.int`` (score interval, no continuity correction);
- ``jeffreys``: ``qbeta(c(a/2, 1 - a/2), x + 0.5, n - x + 0.5)`` with lower = 0 at x = 0 and upper = 1 at x = n
  (Brown, Cai & DasGupta 2001; the convention of R ``binom``/``DescTools``);
- ``fisher_exact``: ``fisher.test(table)`` for a 2x2 table (two-sided p, conditional MLE odds ratio, exact CI).
  Larger tables are not supported: scipy's r x c p-value is not R's exact network-algorithm value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from cart_outcomes.errors import InputError
from cart_outcomes.stats import _common

__all__ = ["BinomialCI", "FisherExact", "binomial_ci", "fisher_exact"]

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
class BinomialCI:
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


@dataclass(frozen=True, slots=True, eq=False)
class FisherExact:
    """Fisher's exact test on a 2x2 table: two-sided ``p_value``, conditional MLE ``odds_ratio`` and its exact CI."""

    table: np.ndarray
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


def fisher_exact(table: Any, conf_level: float = 0.95) -> FisherExact:
    """Fisher's exact test for a 2x2 table, as R ``fisher.test``.

    Parameters
    ----------
    table : 2x2 array-like of non-negative integer counts, ``[[a, b], [c, d]]`` (rows = groups, columns =
        outcome yes/no), the same orientation as ``matrix(c(a, b, c, d), 2, byrow = TRUE)`` in R.
    conf_level : level of the exact interval for the odds ratio.

    Returns
    -------
    FisherExact with ``p_value`` (two-sided: sum of the probabilities of tables no more likely than the observed
    one, relative tolerance 1e-7 as R), ``odds_ratio`` (conditional maximum likelihood estimate, not the sample
    ``ad/bc``), ``lower``/``upper`` (exact conditional interval), ``conf_level``, ``options``.

    Notes
    -----
    R's algorithm is ported line by line (including its root finder, Brent's ``zeroin`` with R's default
    tolerance ``.Machine$double.eps^0.25``), because R's odds ratio and limits are only as precise as that
    tolerance: scipy's ``contingency.odds_ratio`` solves more tightly and so differs from R in the 4th-5th digit.
    Only 2x2 tables: R's r x c p-value (network algorithm) is not available in scipy, whose r x c result is not
    the same number, so it is not offered.

    Equivalent R call::

        fisher.test(matrix(c(a, b, c, d), 2, byrow = TRUE), conf.level = 0.95)
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
    ti = tf.astype(np.int64)
    p, estimate, lower, upper = _fisher_2x2(ti, level)
    return FisherExact(
        table=ti,
        p_value=p,
        odds_ratio=estimate,
        lower=lower,
        upper=upper,
        conf_level=level,
        options=_common.options(
            test="Fisher exact, two-sided",
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


def _fisher_2x2(t: np.ndarray, level: float) -> tuple[float, float, float, float]:
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

    alpha = (1.0 - level) / 2.0

    def ncp_upper() -> float:
        if x == hi:
            return math.inf
        p = pnhyper(x, 1.0)
        if p < alpha:
            return _zeroin(lambda u: pnhyper(x, u) - alpha, 0.0, 1.0)
        if p > alpha:
            return 1.0 / _zeroin(lambda u: pnhyper(x, 1.0 / u) - alpha, _EPS, 1.0)
        return 1.0

    def ncp_lower() -> float:
        if x == lo:
            return 0.0
        p = pnhyper(x, 1.0, upper_tail=True)
        if p > alpha:
            return _zeroin(lambda u: pnhyper(x, u, upper_tail=True) - alpha, 0.0, 1.0)
        if p < alpha:
            return 1.0 / _zeroin(lambda u: pnhyper(x, 1.0 / u, upper_tail=True) - alpha, _EPS, 1.0)
        return 1.0

    return min(p_value, 1.0), estimate, ncp_lower(), ncp_upper()
