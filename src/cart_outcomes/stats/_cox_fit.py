"""Numeric core of the Cox model: risk-set sums, Newton-Raphson as R's ``coxfit6``/``agfit4``, residuals.

Written here rather than borrowed because lifelines and statsmodels loop over event times in Python and neither
reproduces R's iteration (step halving, convergence on the relative change of the log-likelihood, centring and
scaling, LDL' Cholesky with ``toler.chol``), which is what makes coefficients agree with R to 1e-9.

Algorithm (one evaluation at ``beta``):
1. Rows are sorted once by (stratum, stop) and, for counting-process data, by (stratum, start).
2. ``r = w exp(x beta)``; the columns ``r, r x, r x x'`` are reverse-cumulated over the stop order. The risk-set sum
   at event time ``t`` of stratum ``s`` is the reverse cumsum at the first row with stop >= t minus the one at the
   end of the stratum; for (start, stop] rows the same sums over the rows with start >= t are subtracted (R's
   two-pointer trick in ``agfit4``).
3. Tied deaths are expanded into one term per death (Efron: the deaths' share is down-weighted by k/d,
   k = 0..d-1; Breslow: k/d replaced by 0); every term then is vector arithmetic.
4. ``ties="exact"`` (R's discrete conditional likelihood) sums over all subsets of the risk set of the size of the
   tie set with the recursion f(m, d) = f(m-1, d) + r_m f(m-1, d-1) (first and second derivatives likewise);
   slow for big tie sets, as in R.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TOLER_CHOL = np.finfo(float).eps ** 0.75
EPS = 1e-9
ITER_MAX = 20
TOLER_INF = np.sqrt(EPS)


# ---------------------------------------------------------------------------------------------- linear algebra
def cholesky2(a: np.ndarray, toler: float = TOLER_CHOL) -> tuple[np.ndarray, int]:
    """R's ``cholesky2``: LDL' with pivots below ``toler * max(diag)`` set to zero; returns (L with D on diag, rank)."""
    m = np.array(a, dtype=float)  # symmetric: only the lower triangle is used
    n = m.shape[0]
    eps = max(float(np.max(np.diag(m), initial=0.0)), 0.0)
    eps = toler if eps == 0 else eps * toler
    rank = 0
    for i in range(n):
        pivot = m[i, i]
        if not np.isfinite(pivot) or pivot < eps:
            m[i, i] = 0.0
            continue
        rank += 1
        for j in range(i + 1, n):
            temp = m[j, i] / pivot
            m[j, i] = temp
            m[j, j] -= temp * temp * pivot
            m[j + 1 :, j] -= temp * m[j + 1 :, i]
    return m, rank


def chsolve2(chol: np.ndarray, y: np.ndarray) -> np.ndarray:
    """R's ``chsolve2``: solve with the output of :func:`cholesky2` (singular directions get 0)."""
    n = chol.shape[0]
    y = np.array(y, dtype=float)
    for i in range(n):
        y[i] -= y[:i] @ chol[i, :i]
    for i in range(n - 1, -1, -1):
        if chol[i, i] == 0:
            y[i] = 0.0
        else:
            y[i] = y[i] / chol[i, i] - y[i + 1 :] @ chol[i + 1 :, i]
    return y


def chinv2(chol: np.ndarray) -> np.ndarray:
    """Inverse from the :func:`cholesky2` factor; rows/columns of singular pivots are zero, as in R."""
    n = chol.shape[0]
    d = np.diag(chol).copy()
    lower = np.tril(chol, -1) + np.eye(n)
    linv = np.linalg.solve(lower, np.eye(n))
    dinv = np.where(d == 0, 0.0, 1.0 / np.where(d == 0, 1.0, d))
    inv = linv.T @ (dinv[:, None] * linv)
    sing = d == 0
    inv[sing, :] = 0.0
    inv[:, sing] = 0.0
    return inv


def wtest(var: np.ndarray, b: np.ndarray) -> float:
    """R's ``coxph.wtest``: b' var^- b via the tolerant Cholesky."""
    chol, _ = cholesky2(var)
    return float(b @ chsolve2(chol, b))


# ---------------------------------------------------------------------------------------------- risk sets
@dataclass(frozen=True, slots=True)
class RiskSets:
    """Sort orders and event-time groups, computed once per data set."""

    n: int
    w: np.ndarray
    event: np.ndarray
    order_stop: np.ndarray
    order_start: np.ndarray | None
    key_stop: np.ndarray  # per row (original order)
    key_start: np.ndarray | None
    stratum: np.ndarray
    nkey: int  # keys are stratum * nkey + rank(time)
    gkey: np.ndarray  # (G,) event-group keys, ascending
    gtime: np.ndarray  # (G,) event times
    gstratum: np.ndarray
    g_lo: np.ndarray
    g_hi: np.ndarray
    s_lo: np.ndarray | None
    s_hi: np.ndarray | None
    deaths: np.ndarray  # row indices of deaths, grouped by event group
    gfirst: np.ndarray  # (G,) offset of each group in ``deaths``
    nd: np.ndarray  # (G,) deaths per group
    deadwt: np.ndarray  # (G,) summed weights of the deaths
    death_group: np.ndarray  # (n,) event group of a death row, -1 otherwise
    # Efron/Breslow expansion: one entry per death
    egroup: np.ndarray
    efrac: np.ndarray  # k/d (Efron)
    kfirst: np.ndarray  # first position of each distinct stop key in the stop order
    kfirst_start: np.ndarray | None
    identity: bool  # rows already in stop order (cox_ph sorts them once)
    cells: tuple | None  # (first row of each (key, event) cell, first cell of each key, death cell of each group)

    @classmethod
    def build(cls, start, stop, event, stratum, w) -> RiskSets:
        n = stop.size
        values = np.unique(stop if start is None else np.concatenate([stop, start]))
        nkey = values.size + 1
        key_stop = stratum * nkey + np.searchsorted(values, stop)
        order_stop = np.argsort(key_stop, kind="stable")
        ks = key_stop[order_stop]
        dead_rows = np.flatnonzero(event)
        deaths = dead_rows[np.argsort(key_stop[dead_rows], kind="stable")]
        gkey, gfirst, nd = np.unique(key_stop[deaths], return_index=True, return_counts=True)
        gstratum = gkey // nkey
        gtime = values[gkey % nkey]
        end_key = (gstratum + 1) * nkey
        # sums are first collapsed to one row per distinct key, then reverse-cumulated over keys
        ukey, kfirst = np.unique(ks, return_index=True)
        g_lo = np.searchsorted(ukey, gkey, "left")
        g_hi = np.searchsorted(ukey, end_key, "left")
        order_start = key_start = s_lo = s_hi = kfirst_start = None
        if start is not None:
            key_start = stratum * nkey + np.searchsorted(values, start)
            order_start = np.argsort(key_start, kind="stable")
            ukst, kfirst_start = np.unique(key_start[order_start], return_index=True)
            s_lo = np.searchsorted(ukst, gkey, "left")
            s_hi = np.searchsorted(ukst, end_key, "left")
        identity = bool(np.array_equal(order_stop, np.arange(n)))
        cells = None
        ckey = key_stop * 2 + event
        if identity and n > 1 and np.all(np.diff(ckey) >= 0):
            # rows sorted by (key, event): one reduceat over (key, event) cells gives risk and death sums at once
            ucell, cell_first = np.unique(ckey, return_index=True)
            cell_kfirst = np.flatnonzero(np.diff(np.concatenate([[-1], ucell // 2])) != 0)
            cells = (cell_first, cell_kfirst, np.searchsorted(ucell, gkey * 2 + 1))
        deadwt = np.add.reduceat(w[deaths], gfirst) if deaths.size else np.zeros(0)
        death_group = np.full(n, -1, dtype=np.intp)
        egroup = np.repeat(np.arange(gkey.size), nd)
        death_group[deaths] = egroup
        efrac = (np.arange(deaths.size) - np.repeat(gfirst, nd)) / np.repeat(nd, nd)
        return cls(
            n, w, event, order_stop, order_start, key_stop, key_start, stratum, nkey, gkey, gtime, gstratum,
            g_lo, g_hi, s_lo, s_hi, deaths, gfirst, nd, deadwt, death_group, egroup, efrac, kfirst, kfirst_start,
            identity, cells,
        )  # fmt: skip

    def risk_sums(self, z: np.ndarray) -> np.ndarray:
        """Sum of the rows of ``z`` (n, k) over the risk set of every event group -> (G, k)."""
        zs = z if self.identity else z[self.order_stop]
        rc = _rev_cumsum(np.add.reduceat(zs, self.kfirst, axis=0))
        out = rc[self.g_lo] - rc[self.g_hi]
        if self.order_start is not None:
            rc = _rev_cumsum(np.add.reduceat(z[self.order_start], self.kfirst_start, axis=0))
            out -= rc[self.s_lo] - rc[self.s_hi]
        return out

    def sums(self, zt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(risk_sums(z), death_sums(z)) from ``zt = z.T`` (k, n); one pass over the rows when sorted by cell.

        The (k, n) layout makes ``reduceat`` along the rows about five times faster than on (n, k).
        """
        if self.cells is None:
            return self.risk_sums(zt.T), self.death_sums(zt.T)
        cell_first, cell_kfirst, gcell = self.cells
        c = np.add.reduceat(zt, cell_first, axis=1).T
        rc = _rev_cumsum(np.add.reduceat(c, cell_kfirst, axis=0))
        out = rc[self.g_lo] - rc[self.g_hi]
        if self.order_start is not None:
            rc = _rev_cumsum(np.add.reduceat(zt[:, self.order_start], self.kfirst_start, axis=1).T)
            out -= rc[self.s_lo] - rc[self.s_hi]
        return out, c[gcell]

    def death_sums(self, z: np.ndarray) -> np.ndarray:
        if self.deaths.size == 0:
            return np.zeros((0,) + z.shape[1:])
        return np.add.reduceat(z[self.deaths], self.gfirst, axis=0)

    def risk_rows(self, g: int) -> np.ndarray:
        """Row indices of the risk set of event group ``g`` (used by the exact method)."""
        ends = np.append(self.kfirst, self.n)
        rows = self.order_stop[ends[self.g_lo[g]] : ends[self.g_hi[g]]]
        if self.order_start is not None:
            ends = np.append(self.kfirst_start, self.n)
            late = self.order_start[ends[self.s_lo[g]] : ends[self.s_hi[g]]]
            rows = np.setdiff1d(rows, late, assume_unique=True)
        return rows


def _rev_cumsum(z: np.ndarray) -> np.ndarray:
    out = np.zeros((z.shape[0] + 1,) + z.shape[1:])
    np.cumsum(z[::-1], axis=0, out=out[1:])
    return out[::-1]


# ---------------------------------------------------------------------------------------------- one evaluation
@dataclass(frozen=True, slots=True)
class Terms:
    """Per-death (expanded) quantities at one beta; ``efron`` selects the down-weighting."""

    loglik: float
    u: np.ndarray
    imat: np.ndarray
    d2: np.ndarray  # (E,) risk-set denominators
    xbar: np.ndarray  # (E, p)
    mw: np.ndarray  # (E,) mean weight of the tie set


def products(x: np.ndarray) -> np.ndarray:
    """Rows ``1, x, x_i x_j (i >= j)`` as a (k, n) array: times the risk score they give every sum the fit needs."""
    i, j = np.tril_indices(x.shape[1])
    xt = np.ascontiguousarray(x.T)
    return np.concatenate([np.ones((1, x.shape[0])), xt, xt[i] * xt[j]], axis=0)


def unpack(v: np.ndarray, p: int) -> np.ndarray:
    """(..., p(p+1)/2) lower-triangle vectors -> symmetric (..., p, p) matrices."""
    i, j = np.tril_indices(p)
    out = np.zeros(v.shape[:-1] + (p, p))
    out[..., i, j] = v
    out[..., j, i] = v
    return out


def evaluate(
    rs: RiskSets, x: np.ndarray, xz: np.ndarray, beta: np.ndarray, efron: bool, ux: np.ndarray | None = None
) -> Terms:
    """Log partial likelihood, score and information (Efron or Breslow) at ``beta``; ``xz = products(x)``,
    ``ux`` the deaths' weighted covariate sum (constant; computed when not given)."""
    p = x.shape[1]
    if ux is None:
        ux = rs.w[rs.deaths] @ x[rs.deaths]
    r = rs.w * np.exp(x @ beta)
    s, d = rs.sums(xz * r)
    g = rs.egroup
    frac = rs.efrac if efron else np.zeros_like(rs.efrac)
    mw = (rs.deadwt / rs.nd)[g]
    d2 = s[g, 0] - frac * d[g, 0]
    xbar = (s[g, 1 : p + 1] - frac[:, None] * d[g, 1 : p + 1]) / d2[:, None]
    loglik = float(ux @ beta - mw @ np.log(d2))
    u = ux - mw @ xbar
    ngroup = rs.gkey.size
    a = np.bincount(g, mw / d2, minlength=ngroup)
    b = np.bincount(g, mw * frac / d2, minlength=ngroup)
    imat = unpack(a @ s[:, p + 1 :] - b @ d[:, p + 1 :], p) - (xbar * mw[:, None]).T @ xbar
    return Terms(loglik, u, imat, d2, xbar, mw)


def evaluate_exact(rs: RiskSets, x: np.ndarray, xz: np.ndarray, beta: np.ndarray) -> Terms:
    """R's ``ties="exact"``: discrete conditional likelihood; single deaths use the ordinary formula."""
    base = evaluate(rs, x, xz, beta, efron=False)
    eta = x @ beta
    loglik, u, imat = base.loglik, base.u.copy(), base.imat.copy()
    for gi in np.flatnonzero(rs.nd > 1):
        # remove the Breslow contribution of this tie set, add the exact one
        sel = rs.egroup == gi
        k = int(rs.nd[gi])
        mw, d2, xb = base.mw[sel], base.d2[sel], base.xbar[sel]
        loglik += float(mw @ np.log(d2))
        u += mw @ xb
        rows = rs.risk_rows(gi)
        xr = x[rows]
        rr = np.exp(eta[rows] - eta[rows].max())
        s0, s1, s2 = rr.sum(), rr @ xr, np.einsum("i,ij,ik->jk", rr, xr, xr)
        imat -= k * (s2 / s0 - np.outer(s1 / s0, s1 / s0))
        lf, f1, f2 = _subset_sums(rr, xr, k)
        loglik -= lf + k * eta[rows].max()  # the deaths' own x'beta and x are already in ``base``
        u -= f1
        imat += f2 - np.outer(f1, f1)
    return Terms(loglik, u, imat, base.d2, base.xbar, base.mw)


def _subset_sums(r: np.ndarray, x: np.ndarray, k: int) -> tuple[float, np.ndarray, np.ndarray]:
    """log sum over k-subsets S of prod r, and E[sum_S x], E[(sum_S x)(sum_S x)'] under those weights."""
    p = x.shape[1]
    f = np.zeros(k + 1)
    f1 = np.zeros((k + 1, p))
    f2 = np.zeros((k + 1, p, p))
    f[0] = 1.0
    for j in range(r.size):
        rj, xj = r[j], x[j]
        fo, f1o = f[:-1].copy(), f1[:-1].copy()
        f2[1:] += rj * (f2[:-1] + xj[None, :, None] * f1o[:, None, :] + f1o[:, :, None] * xj[None, None, :]
                        + np.outer(xj, xj)[None] * fo[:, None, None])  # fmt: skip
        f1[1:] += rj * (f1o + fo[:, None] * xj[None, :])
        f[1:] += rj * fo
    return float(np.log(f[k])), f1[k] / f[k], f2[k] / f[k]


# ---------------------------------------------------------------------------------------------- Newton-Raphson
@dataclass(frozen=True, slots=True)
class Fit:
    beta: np.ndarray
    var: np.ndarray
    u: np.ndarray
    loglik0: float
    loglik: float
    score: float
    iterations: int
    converged: bool
    rank: int


def newton(rs: RiskSets, x: np.ndarray, method: str, *, iter_max: int = ITER_MAX, eps: float = EPS) -> Fit:
    """R ``coxfit6``: start at 0, Newton steps, step halving when the log-likelihood drops; ``x`` centred/scaled."""
    xz = products(x)
    ux = rs.w[rs.deaths] @ x[rs.deaths]
    if method == "exact":

        def ev(b):
            return evaluate_exact(rs, x, xz, b)
    else:
        efron = method == "efron"

        def ev(b):
            return evaluate(rs, x, xz, b, efron, ux)

    p = x.shape[1]
    beta = np.zeros(p)
    t = ev(beta)
    loglik0 = best = t.loglik
    chol, rank = cholesky2(t.imat)
    step = chsolve2(chol, t.u)
    score = float(t.u @ step)
    if iter_max == 0:
        return Fit(beta, chinv2(chol), t.u, loglik0, loglik0, score, 0, True, rank)
    newbeta = beta + step
    halving = 0
    for it in range(1, iter_max + 1):
        t = ev(newbeta)
        chol, rank = cholesky2(t.imat)
        finite = np.isfinite(t.u).all() and np.isfinite(t.imat).all() and np.isfinite(t.loglik)
        if finite and abs(1 - best / t.loglik) <= eps:
            return Fit(newbeta, chinv2(chol), t.u, loglik0, t.loglik, score, it, True, rank)
        if not finite or t.loglik < best:
            halving += 1
            newbeta = (newbeta + halving * beta) / (halving + 1.0)
        else:
            halving = 0
            best = t.loglik
            beta = newbeta
            newbeta = newbeta + chsolve2(chol, t.u)
    # out of iterations: R returns the last accepted beta and the log-likelihood there. (R 3.5-3 then inverts the
    # information without re-factorising it, which yields 1/diag(I); we return the proper inverse.)
    t = ev(beta)
    chol, rank = cholesky2(t.imat)
    return Fit(beta, chinv2(chol), t.u, loglik0, t.loglik, score, iter_max, False, rank)


# ---------------------------------------------------------------------------------------------- residuals, hazard
def hazard_terms(rs: RiskSets, x: np.ndarray, beta: np.ndarray, efron: bool):
    """Per event group: hazard, Efron-adjusted hazard of the deaths, and the matching x-bar sums (coxscore2)."""
    t = evaluate(rs, x, products(x), beta, efron)
    frac = rs.efrac if efron else np.zeros_like(rs.efrac)
    g, ng = rs.egroup, rs.gkey.size
    h = t.mw / t.d2
    haz = np.bincount(g, h, minlength=ng)
    haz2 = np.bincount(g, (1 - frac) * h, minlength=ng)
    mh1 = group_sum(g, h[:, None] * t.xbar, ng)
    mh2 = group_sum(g, ((1 - frac) * h)[:, None] * t.xbar, ng)
    mh3 = group_sum(g, t.xbar / rs.nd[g][:, None], ng)
    return haz, haz2, mh1, mh2, mh3


def group_sum(g: np.ndarray, v: np.ndarray, ng: int) -> np.ndarray:
    out = np.zeros((ng, v.shape[1]))
    np.add.at(out, g, v)
    return out


def row_hazards(rs: RiskSets, x: np.ndarray, beta: np.ndarray, efron: bool):
    """Per row: cumulative hazard over its time at risk, the matching sum of hazard-weighted x-bar (both with the
    Efron share of a death's own tie set), and per event group the mean of the tie set's x-bars (R ``coxscore2``,
    ``coxmart2``, ``coxscho``)."""
    haz, haz2, mh1, mh2, mh3 = hazard_terms(rs, x, beta, efron)
    ch = np.concatenate([[0.0], np.cumsum(haz)])
    cm = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(mh1, axis=0)])
    hi = np.searchsorted(rs.gkey, rs.key_stop, "right")
    if rs.key_start is None:
        lo = np.searchsorted(rs.gkey, rs.stratum * rs.nkey, "left")
    else:
        lo = np.searchsorted(rs.gkey, rs.key_start, "right")
    hsum = ch[hi] - ch[lo]
    msum = cm[hi] - cm[lo]
    dg = rs.death_group
    dead = dg >= 0
    hsum[dead] -= haz[dg[dead]] - haz2[dg[dead]]
    msum[dead] -= mh1[dg[dead]] - mh2[dg[dead]]
    return hsum, msum, mh3


def score_residuals(rs: RiskSets, x: np.ndarray, beta: np.ndarray, efron: bool) -> np.ndarray:
    """R ``residuals(fit, type="score")`` (unweighted), one row per data row."""
    hsum, msum, mh3 = row_hazards(rs, x, beta, efron)
    risk = np.exp(x @ beta)
    resid = -risk[:, None] * (x * hsum[:, None] - msum)
    dg = rs.death_group
    dead = dg >= 0
    resid[dead] += x[dead] - mh3[dg[dead]]
    return resid


def group_score_info(rs: RiskSets, x: np.ndarray, beta: np.ndarray, efron: bool) -> tuple[np.ndarray, np.ndarray]:
    """Score (G, p) and information (G, p, p) contributed by each event group (for the cox.zph score test)."""
    p, ng = x.shape[1], rs.gkey.size
    xz = products(x)
    t = evaluate(rs, x, xz, beta, efron)
    r = rs.w * np.exp(x @ beta)
    s2, d2sum = rs.sums(xz[1 + p :] * r)
    frac = rs.efrac if efron else np.zeros_like(rs.efrac)
    g = rs.egroup
    a = np.bincount(g, t.mw / t.d2, minlength=ng)
    b = np.bincount(g, t.mw * frac / t.d2, minlength=ng)
    u = rs.death_sums(rs.w[:, None] * x) - group_sum(g, t.mw[:, None] * t.xbar, ng)
    outer = (t.mw[:, None, None] * t.xbar[:, :, None] * t.xbar[:, None, :]).reshape(-1, p * p)
    info = unpack(a[:, None] * s2 - b[:, None] * d2sum, p).reshape(ng, p * p) - group_sum(g, outer, ng)
    return u, info.reshape(ng, p, p)
