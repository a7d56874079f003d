"""Harrell's concordance of a risk score with its infinitesimal-jackknife standard error, as R's
``concordancefit(y, lp, strata, weights, reverse=TRUE)`` reports it inside ``coxph`` (survival 3.x).

A pair is comparable when subject ``i`` has an event at ``t`` and ``j`` (same stratum) is still at risk at ``t``
(``start_j < t <= stop_j``) without an event at ``t``; it is concordant when ``lp_i > lp_j``. Tied risk scores count
one half. All pair counts are 2-D dominance counts (position range x score rank), computed without a Python loop
by decomposing each prefix of positions into aligned power-of-two blocks (one sort + one ``searchsorted`` per
level, O(n log^2 n)).
"""

from __future__ import annotations

import numpy as np


def _prefix_less(v: np.ndarray, w: np.ndarray, queries: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
    """For each query set (pos, bound) and each q: sum of ``w[k]`` over k < pos[q] with v[k] < bound[q]."""
    n = v.size
    outs = [np.zeros(pos.size) for pos, _ in queries]
    if n == 0:
        return outs
    m = int(v.max()) + 2
    idx = np.arange(n, dtype=np.int64)
    by_value = np.argsort(v, kind="stable")
    level = 0
    while (1 << level) <= n:
        key = (idx >> level) * m + v
        block = by_value >> level
        if (n >> level) < 1 << 16:  # stable sort of the value order by block: O(n) radix sort on uint16
            order = by_value[np.argsort(block.astype(np.uint16), kind="stable")]
        else:
            order = np.argsort(key, kind="stable")
        ks = key[order]
        cw = np.concatenate([[0.0], np.cumsum(w[order])])
        for (pos, bound), out in zip(queries, outs, strict=True):
            sel = np.flatnonzero((pos >> level) & 1)
            if sel.size:
                block = (pos[sel] >> level) - 1  # every block before the last is full: it starts at block << level
                out[sel] += cw[np.searchsorted(ks, block * m + bound[sel])] - cw[block << level]
        level += 1
    return outs


def _range_counts(v, w, lo, hi, rank):
    """Weighted counts of elements in positions [lo, hi) with value <, ==, > rank."""
    lt_hi, lt_lo, le_hi, le_lo = _prefix_less(v, w, [(hi, rank), (lo, rank), (hi, rank + 1), (lo, rank + 1)])
    less, le = lt_hi - lt_lo, le_hi - le_lo
    cw = np.concatenate([[0.0], np.cumsum(w)])
    total = cw[hi] - cw[lo]
    return less, le - less, total - le


def concordance(start, stop, event, stratum, w, lp, cluster=None) -> dict[str, float]:
    """Concordance (value, se) and the weighted pair counts for risk score ``lp`` (higher = earlier event): R's
    ``concordant, discordant, tied.x`` (``tied_risk``), ``tied.y`` (``tied_time``) and ``tied.xy`` (``tied_both``).

    With ``cluster`` (integer codes) the influence values are summed within clusters before squaring, as R does.
    """
    values = np.unique(stop if start is None else np.concatenate([stop, start]))
    nk = values.size + 1
    rstop = np.searchsorted(values, stop)
    v = np.unique(lp, return_inverse=True)[1].astype(np.int64)
    dead = np.flatnonzero(event)
    # partners of a death at t: exit key (stratum, stop, censored-after-deaths) above the death's own key
    ekey = (stratum * nk + rstop) * 2 + (~event).astype(np.int64)
    eo = np.argsort(ekey, kind="stable")
    eks = ekey[eo]
    dkey = (stratum[dead] * nk + rstop[dead]) * 2
    lo = np.searchsorted(eks, dkey, "right")
    hi = np.searchsorted(eks, (stratum[dead] + 1) * nk * 2, "left")
    less, eq, more = _range_counts(v[eo], w[eo], lo, hi, v[dead])
    if start is not None:
        rstart = np.searchsorted(values, start)
        skey = stratum * nk + rstart
        so = np.argsort(skey, kind="stable")
        sks = skey[so]
        lo2 = np.searchsorted(sks, stratum[dead] * nk + rstop[dead], "left")
        hi2 = np.searchsorted(sks, (stratum[dead] + 1) * nk, "left")
        l2, e2, m2 = _range_counts(v[so], w[so], lo2, hi2, v[dead])
        less, eq, more = less - l2, eq - e2, more - m2
    wd = w[dead]
    conc, disc, tied = float(wd @ less), float(wd @ more), float(wd @ eq)
    # influence of each row: as the death (partners above) and as a partner of later deaths
    infl = np.zeros((stop.size, 3))
    infl[dead] += np.column_stack([less, more, eq])
    dk = stratum[dead] * nk + rstop[dead]
    do = np.argsort(dk, kind="stable")
    dks = dk[do]
    first = stratum * nk + (-1 if start is None else rstart)
    plo = np.searchsorted(dks, first, "right")
    phi = np.where(
        event, np.searchsorted(dks, stratum * nk + rstop, "left"), np.searchsorted(dks, stratum * nk + rstop, "right")
    )
    dl, de, dm = _range_counts(v[dead][do], wd[do], plo, np.maximum(phi, plo), v)
    infl += np.column_stack([dm, dl, de])  # a later death with a higher score is concordant with this row
    npair = conc + disc + tied
    tied_time, tied_both = _tied_deaths(stratum[dead] * nk + rstop[dead], v[dead], wd)
    if npair == 0:
        return {"value": np.nan, "se": np.nan, "concordant": 0.0, "discordant": 0.0, "tied_risk": 0.0,
                "tied_time": tied_time, "tied_both": tied_both}  # fmt: skip
    somer = (conc - disc) / npair
    dfbeta = w * ((infl[:, 0] - infl[:, 1]) / npair - (somer / npair) * infl.sum(axis=1))
    if cluster is not None:
        dfbeta = np.bincount(cluster, dfbeta)
    return {
        "value": (somer + 1) / 2,
        "se": float(np.sqrt(np.sum(dfbeta**2) / 4)),
        "concordant": conc,
        "discordant": disc,
        "tied_risk": tied,
        "tied_time": tied_time,
        "tied_both": tied_both,
    }


def _tied_deaths(key: np.ndarray, score: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """R ``tied.y`` and ``tied.xy``: weighted pairs (w_i w_j, each pair once) of deaths at the same time in the same
    stratum (integer ``key``), with different and with equal scores (integer ranks ``score``); neither kind enters
    the concordance."""

    def pairs(codes: np.ndarray) -> float:
        sw = np.bincount(codes, w)
        sw2 = np.bincount(codes, w * w)
        return float(np.sum(sw * sw - sw2) / 2)

    same_time = np.unique(key, return_inverse=True)[1]
    both = np.unique(same_time * (int(score.max(initial=0)) + 1) + score, return_inverse=True)[1]
    tied_both = pairs(both)
    return pairs(same_time) - tied_both, tied_both
