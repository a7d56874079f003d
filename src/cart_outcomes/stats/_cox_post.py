"""Post-fit tools of the Cox model with R survival 3.5-3 numbers: residuals, predictions, baseline hazard, predicted
survival curves with standard errors, and the ``cox.zph`` residual output.

Private: :class:`cart_outcomes.stats.cox.CoxResult` exposes these as methods. Every function takes the fitted
model's arrays (rows sorted by stratum and exit time, see ``_cox_fit``) and returns arrays in that order; the
result methods put them back in the order of the data.

R sources mirrored (survival 3.5-3): ``residuals.coxph`` (C ``coxmart``/``agmart3``, ``coxscore2``/``agscore2``,
``coxscho``), ``predict.coxph``, ``basehaz``, ``survfit.coxph`` -> ``coxsurv.fit`` -> ``agsurv`` (C ``agsurv5``)
and ``cox.zph`` (C ``zph1``/``zph2``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cart_outcomes.stats import _cox_fit as core


@dataclass(frozen=True, slots=True)
class Curves:
    """``agsurv`` for one stratum on its grid of distinct exit times (R's centring: x minus ``fit$means``)."""

    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    hazard: np.ndarray
    varhaz: np.ndarray
    xbar: np.ndarray  # (T, p) cumulative sums of the hazard-weighted risk-set means


def martingale(rs: core.RiskSets, x: np.ndarray, beta: np.ndarray, efron: bool) -> np.ndarray:
    """Unweighted martingale residuals ``status - exp(lp) * H(t)`` with Efron's tie adjustment (R ``coxmart2``)."""
    hsum, _, _ = core.row_hazards(rs, x, beta, efron)
    return rs.event.astype(float) - np.exp(x @ beta) * hsum


def deviance(mart: np.ndarray, status: np.ndarray) -> np.ndarray:
    """R: ``sign(m) * sqrt(-2 * (m + status * log(status - m)))`` (status 0 contributes 0 to the log term)."""
    with np.errstate(invalid="ignore", divide="ignore"):  # R gives NaN where status - m <= 0 (collapsed rows)
        logterm = np.where(status == 0, 0.0, status * np.log(np.where(status == 0, 1.0, status - mart)))
        return np.sign(mart) * np.sqrt(-2 * (mart + logterm))


def schoenfeld(rs: core.RiskSets, x: np.ndarray, beta: np.ndarray, efron: bool) -> tuple[np.ndarray, np.ndarray]:
    """(row index of each death in sorted order, x - mean of Efron's risk-set means): R ``coxscho``."""
    _, _, mh3 = core.row_hazards(rs, x, beta, efron)
    dead = np.flatnonzero(rs.event)  # rows are sorted by (stratum, stop): R's order(strata, time, -status)
    return dead, x[dead] - mh3[rs.death_group[dead]]


def stratum_curves(
    start: np.ndarray | None,
    stop: np.ndarray,
    event: np.ndarray,
    w: np.ndarray,
    x: np.ndarray,
    beta: np.ndarray,
    efron: bool,
) -> Curves:
    """R ``agsurv(y, x, wt, risk, survtype, vartype)`` for the rows of one stratum, Efron (3) or Breslow (2)."""
    stratum = np.zeros(stop.size, dtype=np.int64)
    rs = core.RiskSets.build(start, stop, event, stratum, w)
    t = core.evaluate(rs, x, core.products(x), beta, efron)
    g, ng = rs.egroup, rs.gkey.size
    grid = np.unique(stop)
    at = np.searchsorted(grid, rs.gtime)
    haz = np.zeros(grid.size)
    varhaz = np.zeros(grid.size)
    xinc = np.zeros((grid.size, x.shape[1]))
    haz[at] = np.bincount(g, t.mw / t.d2, minlength=ng)
    varhaz[at] = np.bincount(g, t.mw / t.d2**2, minlength=ng)
    xinc[at] = core.group_sum(g, (t.mw / t.d2)[:, None] * t.xbar, ng)
    # weighted numbers at risk (start < t <= stop), events and censorings on the whole grid
    order = np.argsort(stop, kind="stable")
    cw = np.concatenate([[0.0], np.cumsum(w[order])])
    n_risk = cw[-1] - cw[np.searchsorted(stop[order], grid, "left")]
    if start is not None:
        so = np.argsort(start, kind="stable")
        cws = np.concatenate([[0.0], np.cumsum(w[so])])
        n_risk -= cws[-1] - cws[np.searchsorted(start[so], grid, "left")]
    idx = np.searchsorted(grid, stop)
    n_event = np.bincount(idx, w * event, minlength=grid.size)
    n_censor = np.bincount(idx, w * ~event, minlength=grid.size)
    return Curves(grid, n_risk, n_event, n_censor, haz, varhaz, np.cumsum(xinc, axis=0))


def curve_for(c: Curves, x2: np.ndarray, var: np.ndarray, risk2: float) -> tuple[np.ndarray, np.ndarray]:
    """(cumulative hazard, its standard error) of covariate row ``x2`` (centred), as ``coxsurv.fit``'s expand()."""
    cumhaz = np.cumsum(c.hazard)
    dt = cumhaz[:, None] * x2[None, :] - c.xbar
    varh = (np.cumsum(c.varhaz) + np.einsum("ij,jk,ik->i", dt, var, dt)) * risk2**2
    return cumhaz * risk2, np.sqrt(varh)


def hazard_at(c: Curves, t: np.ndarray, xc: np.ndarray, var: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Baseline cumulative hazard at times ``t`` and the variance of H(t) exp(lp) / exp(2 lp) for covariate rows
    ``xc`` (R ``predict.coxph(type="expected")``: grid index by ``approx(..., f=0, yleft=0)``)."""
    j = np.searchsorted(c.time, t, "right")
    ch = np.concatenate([[0.0], np.cumsum(c.hazard)])[j]
    vh = np.concatenate([[0.0], np.cumsum(c.varhaz)])[j]
    dt = ch[:, None] * xc - np.vstack([np.zeros((1, xc.shape[1])), c.xbar])[j]
    return ch, vh + np.einsum("ij,jk,ik->i", dt, var, dt)


def zph_scaled(
    schoen: np.ndarray,
    dstratum: np.ndarray,
    x: np.ndarray,
    stratum: np.ndarray,
    info: np.ndarray,
    beta: np.ndarray,
    term_columns: list,
) -> tuple[np.ndarray, np.ndarray]:
    """``cox.zph``'s scaled Schoenfeld residuals (one column per term) and ``var``.

    As R: the information is divided per (covariate pair) by the number of deaths in the strata where both vary
    (``used``), the residuals are multiplied by its inverse, restricted per stratum to the covariates that vary
    there (NaN for the others), and the coefficient (1 for a multi-column term, whose residuals are first combined
    with its coefficients) is added back.
    """
    nstrat = int(stratum.max()) + 1
    p = x.shape[1]
    used = np.zeros((nstrat, p))
    ndead = np.bincount(dstratum, minlength=nstrat)
    for s in range(nstrat):
        xs = x[stratum == s]
        if xs.shape[0]:
            used[s] = np.where(np.any(xs != xs[0], axis=0), ndead[s], 0)
    for cols in term_columns:
        if len(cols) > 1:
            used[:, cols] = used[:, cols].max(axis=1, keepdims=True)
    wtmat = np.zeros((p, p))
    for s in range(nstrat):
        wtmat += np.minimum.outer(used[s], used[s])
    vmean = info / np.where(wtmat == 0, 1.0, wtmat)
    sresid = schoen
    if any(len(c) > 1 for c in term_columns):
        temp = np.zeros((p, len(term_columns)))
        for i, cols in enumerate(term_columns):
            temp[cols, i] = 1.0 if len(cols) == 1 else beta[cols]
        sresid = schoen @ temp
        vmean = temp.T @ vmean @ temp
        used = used[:, [c[0] for c in term_columns]]
    sresid = sresid.copy()
    for s in range(nstrat):
        k = np.flatnonzero(used[s] > 0)
        rows = dstratum == s
        if k.size and rows.any():
            sresid[np.ix_(rows, k)] = np.linalg.solve(vmean[np.ix_(k, k)], sresid[np.ix_(rows, k)].T).T
            sresid[np.ix_(rows, np.setdiff1d(np.arange(sresid.shape[1]), k))] = np.nan
    for i, cols in enumerate(term_columns):
        sresid[:, i] += beta[cols[0]] if len(cols) == 1 else 1.0
    return sresid, np.linalg.inv(vmean)
