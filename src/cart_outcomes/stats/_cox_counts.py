"""Cox regression on a categorical covariate from event counts: aggregation over covariate patterns.

With one categorical covariate (the counts' ``by``, dummy-coded against its first level as R's ``factor``) every
subject of a pattern shares its risk score, so the partial likelihood, its score and information need only, at
each event time and per pattern, the number at risk and the number of events, which the counts give (stratified by
the counts' strata; entry times shrink the risk sets as ``Surv(entry, time, event)``). Breslow and Efron ties both
aggregate exactly: Efron's j-th term at a time with D events subtracts ``j/D`` of the events' summed risk, a sum
over patterns. Refused, with the reason: ``ties="exact"`` (a sum over subsets of subjects), robust or cluster
variances (per-subject residuals) and continuous covariates (not in the counts).

R equivalent: ``coxph(Surv(time, event) ~ factor(by) + strata(s), ties = "efron")``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cart_outcomes._result import Result
from cart_outcomes.errors import InputError, StatisticalWarning
from cart_outcomes.stats import _common, _inputs
from cart_outcomes.stats._counts import EventCounts
from cart_outcomes.stats._events import event_table

__all__ = ["CoxCountsResult", "cox_counts"]

_EPS = 1e-9  # R coxph.control(eps)
_ITER_MAX = 20


@dataclass(frozen=True, slots=True)
class CoxCountsResult(Result):
    """Result of :func:`cox_counts`: ``table`` (term, coef, hazard_ratio, se, z, p, lower, upper), ``loglik``
    (null, fitted), ``vcov``, ``iterations``, ``options``."""

    table: pd.DataFrame
    loglik: dict
    vcov: np.ndarray
    iterations: int
    options: dict = field(default_factory=dict)


def _stratum_tables(counts: EventCounts, codes: np.ndarray, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per stratum, ``(n_risk, n_event)`` (m, k) at the times with at least one event."""
    frame = counts.frame
    t = _inputs.times(frame[counts.time].to_numpy(), counts.time)
    ev = _inputs.events(frame[counts.event].to_numpy(), counts.event, t.size)
    w = frame["n_rows"].to_numpy(dtype=np.int64)
    entry = None if counts.entry is None else frame[counts.entry].to_numpy(dtype=float)
    if counts.strata:
        keys = frame[list(counts.strata)].astype(str).agg("\x1f".join, axis=1)
        s_codes, _ = pd.factorize(keys, sort=True)
    else:
        s_codes = np.zeros(t.size, dtype=np.intp)
    out = []
    for s in range(int(s_codes.max()) + 1):
        sel = s_codes == s
        tab = event_table(t[sel], ev[sel], codes[sel], k, entry=None if entry is None else entry[sel],
                          weights=w[sel])
        keep = tab.n_event.sum(axis=1) > 0
        out.append((np.asarray(tab.n_risk[keep], dtype=float), np.asarray(tab.n_event[keep], dtype=float)))
    return out


def _sums(tables, x: np.ndarray, beta: np.ndarray, efron: bool) -> tuple[float, np.ndarray, np.ndarray]:
    """Log partial likelihood, score and information at ``beta``."""
    r = np.exp(x @ beta)
    p = x.shape[1]
    ll, u, info = 0.0, np.zeros(p), np.zeros((p, p))
    xx = np.einsum("ki,kj->kij", x, x)
    for n, d in tables:
        dd = d.sum(axis=1)
        u += (d @ x).sum(axis=0)
        ll += float((d @ (x @ beta)).sum())
        s0, s1, s2 = n @ r, (n * r) @ x, np.einsum("mk,kij->mij", n * r, xx)
        if not efron:
            ll -= float(dd @ np.log(s0))
            u -= dd @ (s1 / s0[:, None])
            info += np.einsum("m,mij->ij", dd / s0, s2) - np.einsum("m,mi,mj->ij", dd / s0**2, s1, s1)
            continue
        a0, a1, a2 = d @ r, (d * r) @ x, np.einsum("mk,kij->mij", d * r, xx)
        rows = np.repeat(np.arange(dd.size), dd.astype(np.int64))  # one entry per event: j = 0..D-1 at its time
        di = dd.astype(np.int64)
        j = np.arange(rows.size) - np.repeat(np.cumsum(di) - di, di)
        f = j / dd[rows]
        den = s0[rows] - f * a0[rows]
        num1 = s1[rows] - f[:, None] * a1[rows]
        ll -= float(np.log(den).sum())
        u -= (num1 / den[:, None]).sum(axis=0)
        num2 = s2[rows] - f[:, None, None] * a2[rows]
        info += (num2 / den[:, None, None]).sum(axis=0) - np.einsum("e,ei,ej->ij", 1 / den**2, num1, num1)
    return ll, u, info


def cox_counts(counts: EventCounts, ties: str = "efron", *, conf_level: float = 0.95) -> CoxCountsResult:
    """Cox proportional-hazards model of the counts' ``by`` (a factor) from event counts.

    Parameters
    ----------
    counts : EventCounts with a ``by`` column (the covariate; its first level is the reference) and 0/1 events.
    ties : ``"efron"`` (R's default) or ``"breslow"``; ``"exact"`` is refused (it does not aggregate).
    conf_level : level of the hazard-ratio intervals.

    Returns
    -------
    CoxCountsResult
        ``table`` with ``term`` (R's ``byLEVEL`` names), ``coef, hazard_ratio, se, z, p, lower, upper``.

    Notes
    -----
    Newton-Raphson from 0 with step halving, converged when the log partial likelihood changes by less than 1e-9
    relatively (R ``coxph.control``); the variance is the inverse information at the estimate.

    Equivalent R call::

        coxph(Surv(time, event) ~ factor(by) + strata(s), data, weights = n_rows, ties = "efron")  # Breslow: equal
    """
    if not isinstance(counts, EventCounts):
        raise InputError(f"cox_counts takes EventCounts, got {type(counts).__name__}; use cox_ph for rows")
    if ties not in ("efron", "breslow"):
        raise counts.refuse(f"cox_counts(ties={ties!r})", "only Breslow and Efron ties aggregate over patterns")
    if counts.by is None:
        raise counts.refuse("cox_counts", "the counts have no covariate (count them with by=...)")
    z = _common.z_value(_common.check_level(conf_level))
    codes, levels = _inputs.groups(counts.frame[counts.by].to_numpy(), counts.by, counts.n_cells, min_levels=2)
    k = len(levels)
    x = np.vstack((np.zeros((1, k - 1)), np.eye(k - 1)))
    tables = _stratum_tables(counts, codes, k)
    beta = np.zeros(k - 1)
    efron = ties == "efron"
    ll0, u, info = _sums(tables, x, beta, efron)
    ll, iterations = ll0, 0
    for iterations in range(1, _ITER_MAX + 1):  # noqa: B007 (the count is reported)
        step = np.linalg.solve(info, u)
        new = beta + step
        ll_new, u_new, info_new = _sums(tables, x, new, efron)
        halvings = 0
        while not ll_new >= ll and halvings < 30:  # step halving, as R's coxfit6
            step /= 2
            new = beta + step
            ll_new, u_new, info_new = _sums(tables, x, new, efron)
            halvings += 1
        done = abs(ll_new - ll) <= _EPS * abs(ll_new)
        beta, ll, u, info = new, ll_new, u_new, info_new
        if done:
            break
    else:
        import warnings

        warnings.warn(f"cox_counts: no convergence in {_ITER_MAX} iterations", StatisticalWarning, stacklevel=2)
    vcov = np.linalg.inv(info)
    se = np.sqrt(np.diag(vcov))
    table = _common.wald_table([f"{counts.by}{lev}" for lev in levels[1:]], beta, se, z)
    options = dict(_common.options(ties=ties, conf_level=conf_level, reference=levels[0],
                                   strata=list(counts.strata), entry=counts.entry is not None,
                                   method="aggregated over covariate patterns",
                                   r_equivalent="coxph(Surv(time, event) ~ factor(by) + strata(s))"))
    return CoxCountsResult(table, {"null": ll0, "fitted": ll}, vcov, iterations, options)
