"""The numpy one-pass "floor" of the survival-software survey (``shared/reference/perf/bench_py.py``): the least a
numpy program can do for the same numbers, used as the yardstick of issue 18 ("within 1.1x of the floor").

Integer days: one ``bincount`` over (time, event) (and group) cells, then cumulative sums over the days; continuous
times: ``np.unique`` (one sort) first. Kaplan-Meier with Greenwood and the log-log CI on the event rows; the
two-group log-rank chi-square.
"""

from __future__ import annotations

import numpy as np

_Z = 1.959964


def km(t: np.ndarray, e: np.ndarray, tmax: int = 2000):
    """Kaplan-Meier, Greenwood and log-log limits at the event days of integer times ``0..tmax``."""
    c = np.bincount(t.astype(np.int64) * 2 + e, minlength=2 * (tmax + 1))
    d = c[1::2].astype(float)
    m = c[0::2] + c[1::2]
    r = np.cumsum(m[::-1])[::-1].astype(float)
    keep = d > 0
    days, d, r = np.nonzero(keep)[0], d[keep], r[keep]
    s = np.cumprod(1.0 - d / r)
    with np.errstate(divide="ignore", invalid="ignore"):
        gw = np.cumsum(d / (r * (r - d)))
        se_loglog = np.sqrt(gw) / np.abs(np.log(s))
        lo = s ** np.exp(_Z * se_loglog)
        hi = s ** np.exp(-_Z * se_loglog)
    return days, s, lo, hi


def logrank(t: np.ndarray, e: np.ndarray, g: np.ndarray, tmax: int = 2000) -> float:
    """Two-group log-rank chi-square of integer times ``0..tmax`` (groups 0/1)."""
    k = tmax + 1
    c = np.bincount((g.astype(np.int64) * k + t) * 2 + e, minlength=4 * k).reshape(2, k, 2)
    d = c[:, :, 1].astype(float)
    m = c.sum(axis=2)
    r = np.cumsum(m[:, ::-1], axis=1)[:, ::-1].astype(float)
    dt, rt = d.sum(0), r.sum(0)
    ok = rt > 1
    safe = np.where(rt > 0, rt, 1)
    e1 = np.where(rt > 0, dt * r[1] / safe, 0)
    share = r[1] / np.where(ok, rt, 1)
    v = np.where(ok, dt * share * (1 - share) * (rt - dt) / np.where(ok, rt - 1, 1), 0)
    o_e = d[1].sum() - e1.sum()
    return float(o_e**2 / v.sum())


def km_by_group_and_logrank_continuous(t: np.ndarray, e: np.ndarray, g: np.ndarray) -> float:
    """The survey's continuous-time floor: per group ``np.unique`` + bincount Kaplan-Meier, then the log-rank on
    the ``np.unique`` codes of all times (returns the chi-square)."""
    for j in (0, 1):
        sel = g == j
        ut, inv = np.unique(t[sel], return_inverse=True)
        c = np.bincount(inv * 2 + e[sel], minlength=2 * len(ut))
        d = c[1::2].astype(float)
        r = np.cumsum((c[0::2] + c[1::2])[::-1])[::-1].astype(float)
        keep = d > 0
        np.cumprod(1.0 - d[keep] / r[keep])
    ut, inv = np.unique(t, return_inverse=True)
    return logrank(inv.astype(np.int64), e, g, tmax=len(ut) - 1)
