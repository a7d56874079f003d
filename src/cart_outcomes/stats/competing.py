"""Competing risks: Aalen-Johansen cumulative incidence, Gray's test and Fine-Gray regression.

Why written here rather than borrowed: lifelines' ``AalenJohansenFitter`` randomly jitters tied times (estimates
depend on the seed), no Python library has Gray's test or the Fine-Gray model, and the estimators below must agree
with R ``survival::survfit`` (multi-state) and ``cmprsk::cuminc``/``cmprsk::crr`` to closed-form precision. Every
estimator works on the distinct-time grid (tied times are treated exactly, never jittered) with vectorised prefix
and suffix sums, so n = 1e6 rows cost one counting pass plus O(#distinct times) work.

Event coding: ``event`` holds one code per row, ``censor`` (default 0) for censored and any other declared code for
a cause. With numeric codes and no ``causes`` argument, every non-censoring code present is a cause (1..K as in
cmprsk). String labels need an explicit ``censor`` label (e.g. ``censor="censored"``); declaring ``causes`` (a list
of codes, or a mapping code -> label) rejects any other code.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import chdtrc

from cart_outcomes._result import Result
from cart_outcomes._version import __version__
from cart_outcomes.errors import DataQualityWarning, InputError, StatisticalWarning
from cart_outcomes.stats import _common, _inputs
from cart_outcomes.stats._counts import EventCounts
from cart_outcomes.stats._events import event_table, status_table

__all__ = ["CumulativeIncidence", "FineGray", "GrayTest", "cumulative_incidence", "fine_gray", "gray_test"]

_CIF_COLUMNS = ("group", "cause", "time", "n_risk", "n_event", "n_censor", "estimate", "std_err", "std_err_cmprsk",
                "lower", "upper")
_VARIANCES = ("ij", "cmprsk")
# times per block of the Aalen-Johansen core and of cmprsk's variance: their array passes then run in cache
_BLOCK = 16384


# ----------------------------------------------------------------------------------------------------------------
# input helpers
# ----------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Coded:
    time: np.ndarray
    status: np.ndarray  # 0 = censored, 1..K = index into causes (+1); int8 below 127 causes
    codes: list  # the user's cause codes, in order
    labels: list  # display labels of the causes
    time_label: str
    event_label: str


def _code_events(
    data: Any, time: Any, event: Any, causes: Sequence | Mapping | None, censor: Any
) -> _Coded:
    frame = _inputs.as_frame(data)
    tv, tlab = _inputs.column(frame, time, "time")
    t = _inputs.times(tv, tlab)
    ev, elab = _inputs.column(frame, event, "event")
    ev = np.asarray(ev)
    if ev.shape != t.shape:
        raise InputError(f"column {elab!r}: length {ev.size} differs from the time column ({t.size})")
    ser = pd.Series(ev, copy=False)
    fcodes, uniques = pd.factorize(ser)  # hash-based: one pass, no sort; missing -> -1
    missing = fcodes < 0
    if missing.any():
        raise InputError(f"column {elab!r}: missing event code in {_inputs.rows(missing)}")
    present = list(uniques)
    if isinstance(causes, Mapping):
        codes, labels = list(causes.keys()), [str(v) for v in causes.values()]
    elif causes is not None:
        codes = list(causes)
        labels = [str(c) for c in codes]
    else:
        non_censor = [v for v in present if not _same(v, censor)]
        if ser.dtype.kind in "OSU" and not any(_same(v, censor) for v in present) and _same(censor, 0):
            raise InputError(
                f"column {elab!r}: event labels {sorted(map(str, present))} are not numeric; name the censoring "
                "label with censor=... (and optionally the causes with causes=[...])"
            )
        try:
            codes = sorted(non_censor)
        except TypeError:
            codes = sorted(non_censor, key=str)
        labels = [str(c) for c in codes]
    if not codes:
        raise InputError(f"column {elab!r}: no event of any cause (every row is censored with code {censor!r})")
    if any(_same(c, censor) for c in codes):
        raise InputError(f"causes: the censoring code {censor!r} cannot also be a cause")
    # one byte a row while the causes fit (the counting passes read every row once per cause)
    lut = np.full(len(present), -1, dtype=np.int8 if len(codes) < 127 else np.intp)
    for i, v in enumerate(present):
        if _same(v, censor):
            lut[i] = 0
        else:
            for j, c in enumerate(codes):
                if _same(v, c):
                    lut[i] = j + 1
                    break
    status = lut[fcodes]
    if (lut < 0).any():
        bad = status < 0
        shown = sorted(str(v) for v, code in zip(present, lut, strict=True) if code < 0)[:5]
        raise InputError(
            f"column {elab!r}: event code(s) {shown} in {_inputs.rows(bad)} are neither the censoring code "
            f"{censor!r} nor a declared cause {codes}"
        )
    return _Coded(t, status, codes, labels, tlab, elab)


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _cause_index(coded: _Coded, cause: Any) -> int:
    """1-based index of ``cause`` (a code or a label) among the causes."""
    for j, (c, lab) in enumerate(zip(coded.codes, coded.labels, strict=True)):
        if _same(c, cause) or lab == str(cause):
            return j + 1
    raise InputError(f"cause={cause!r} is not one of the causes {coded.codes} found in column {coded.event_label!r}")


# ----------------------------------------------------------------------------------------------------------------
# Aalen-Johansen
# ----------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _AJ:
    time: np.ndarray  # (m,)
    n_risk: np.ndarray  # (m,)
    n_event: np.ndarray  # (K, m)
    n_censor: np.ndarray  # (m,)
    estimate: np.ndarray  # (K, m)
    std_err: np.ndarray  # (K, m) infinitesimal-jackknife SE
    surv: np.ndarray  # (m,) all-cause KM S(u), kept for the cmprsk variance

    def var_cmprsk(self) -> np.ndarray:
        """cmprsk's variance (K, m), computed when asked (:func:`_cmprsk_variance`)."""
        sm = np.concatenate(([1.0], self.surv[:-1]))  # S(u-)
        return _cmprsk_variance(self.n_risk, self.n_event, self.surv, sm, self.estimate)


@dataclass(frozen=True, slots=True)
class _Influence:
    """The pieces of the infinitesimal-jackknife influence on F_k(t) at each distinct time u (arrays (K, m) or (m,)).

    A subject still at risk after u has U(u) = -cum_a(u) + cum_b(u) F(u); one leaving at x has, for every t >= x,
    U(t) = alpha(x) - beta(x) F(t) with (alpha, beta) = (-cum_a, -cum_b) if censored, (alpha_k, beta_e) if failing
    from cause k, (alpha_o, beta_e) if failing from another cause.
    """

    d: np.ndarray  # (m,) events of any cause
    surv: np.ndarray  # (m,) all-cause KM S(u)
    sm: np.ndarray  # (m,) S(u-)
    f: np.ndarray  # (K, m) F_k(u)
    cum_a: np.ndarray  # (K, m)
    cum_b: np.ndarray  # (m,)
    alpha_k: np.ndarray  # (K, m)
    alpha_o: np.ndarray  # (K, m)
    beta_e: np.ndarray  # (m,)


def _carried_cumsum(x: np.ndarray, start: Any) -> np.ndarray:
    """Cumulative sum along the last axis continuing from ``start`` (the previous block's last value),
    in place: ``x[..., 0] = start + x[..., 0]`` then the running sum is, bit for bit, that of the whole array."""
    if start is not None:
        x[..., 0] = start + x[..., 0]
    return np.cumsum(x, axis=-1, out=x)


def _influence(n: np.ndarray, dk: np.ndarray) -> _Influence:
    """:class:`_Influence` from the numbers at risk ``n`` (m,) and events ``dk`` (K, m)."""
    d = dk.sum(axis=0)
    dl = d / n
    surv = np.cumprod(1.0 - dl)
    sm = np.concatenate(([1.0], surv[:-1]))  # S(u-)
    jump = sm * dk / n
    f = np.cumsum(jump, axis=1)
    inv = np.zeros_like(dl)  # 1/(1 - dL); 0 where dL = 1 (the last time, where F no longer changes)
    np.divide(1.0, 1.0 - dl, out=inv, where=dl < 1)
    dl_inv = dl * inv
    cum_a = np.cumsum((jump + dl_inv * f) / n, axis=1)
    cum_b = np.cumsum(dl_inv / n)
    f_inv = f * inv
    alpha_o = f_inv / n - cum_a  # subjects failing from another cause at u
    alpha_k = (sm + f_inv) / n - cum_a  # subjects failing from cause k at u
    beta_e = inv / n - cum_b  # any failure at u
    return _Influence(d, surv, sm, f, cum_a, cum_b, alpha_k, alpha_o, beta_e)


def _rmean(time: np.ndarray, n: np.ndarray, dk: np.ndarray, cens: np.ndarray, tau: float):
    """Restricted mean time in each state up to ``tau`` and its infinitesimal-jackknife SE, as R
    ``summary(survfit(..., influence = TRUE), rmean = tau)$table``: states (s0), 1..K (arrays of K + 1).

    1. Step weights w_j = max(0, min(t_{j+1}, tau) - t_j) (t_{m+1} = infinity: the curves stay flat to tau);
       rmean_k = sum_j w_j F_k(t_j); the event-free state adds [0, min(t_1, tau)) at probability 1.
    2. The influence of subject i on the integral is sum_j w_j U_i(t_j): for a subject leaving at index x it is
       P(x) + alpha(x) W(>= x) - beta(x) WF(>= x), with P the prefix sum of w (-cum_a + cum_b F) before x and W,
       WF suffix sums of w and w F; its square summed over the (exit time, status) classes is the variance.
    3. The event-free state is 1 - F_any (all causes pooled): same influence up to the sign.
    """
    nxt = np.append(time[1:], np.inf)
    w = np.maximum(np.minimum(nxt, tau) - time, 0.0)
    d = dk.sum(axis=0)
    rmean, var = [], []
    for events in (d[None, :], dk):
        p = _influence(n, events)
        prefix = np.zeros_like(p.f)  # sum over j < x of w_j U(t_j) of those still at risk
        np.cumsum((w * (p.cum_b * p.f - p.cum_a))[:, :-1], axis=1, out=prefix[:, 1:])
        w_ge = np.cumsum(w[::-1])[::-1]
        wf_ge = np.cumsum((w * p.f)[:, ::-1], axis=1)[:, ::-1]
        i_cens = prefix - p.cum_a * w_ge + p.cum_b * wf_ge
        i_own = prefix + p.alpha_k * w_ge - p.beta_e * wf_ge
        i_other = prefix + p.alpha_o * w_ge - p.beta_e * wf_ge
        var.append((cens * i_cens**2 + events * i_own**2 + (d - events) * i_other**2).sum(axis=1))
        rmean.append((w * p.f).sum(axis=1))
        surv = p.surv
    s0 = min(time[0], tau) + float((w * surv).sum())
    return np.concatenate(([s0], rmean[1])), np.sqrt(np.concatenate((var[0], var[1])))


def _aalen_johansen(t: np.ndarray, status: np.ndarray, k: int, weights: np.ndarray | None = None) -> _AJ:
    """Aalen-Johansen CIFs of causes 1..k with their variances, on the grid of distinct times of ``t``
    (``weights``: the numbers of rows of event-count cells)."""
    if weights is None:
        time, n, counts = status_table(t, status, k + 1)
    else:
        tab = event_table(t, np.ones(t.size, bool), status, k + 1, weights=weights)
        time, n, counts = tab.time, tab.n_risk.sum(axis=1), tab.n_event.T
    return _aj_from_counts(time, n, counts[1:], counts[0])


def _aj_from_counts(time: np.ndarray, n: np.ndarray, dk: np.ndarray, cens: np.ndarray) -> _AJ:
    """Aalen-Johansen CIFs and their infinitesimal-jackknife SEs from event counts (the core; also used on counts
    computed elsewhere); cmprsk's variance is left to :meth:`_AJ.var_cmprsk` (only the table needs it).

    ``time`` (m,) distinct times, ``n`` (m,) at risk just before, ``dk`` (K, m) events per cause, ``cens`` (m,).

    1. dL = d/n, S = prod(1 - dL) (all-cause KM), F_k(t) = sum_{u<=t} j_k(u), j_k = S(u-) d_k(u)/n(u).
    2. Infinitesimal-jackknife variance (R survfit, multi-state): sum_i U_i(t)^2, U_i the derivative of F_k(t) with
       respect to subject i's case weight. Summed over the subjects it has a closed form over the event times u
       (the one statsmodels' ``CumIncidenceRight`` evaluates), with g = d/(n (n - d)) (0 where n = d):
       var(t) = sum_{u<=t} (F(t) - F(u))^2 g - 2 (F(t) - F(u)) j_k/n + S(u-)^2 d_k (n - d_k)/n^3.
    3. It is accumulated term by term, not as moments of F(t), which cancel (relative error up to 1e-12 at 1e5
       times against 2e-14 term by term): with B = sum g and D = sum j_k (B(u-) - 1/n),
       var(t) = var(t-) + j_k(t)^2 B(t-) + 2 j_k(t) D(t-) + S(t-)^2 d_k (n - d_k)/n^3: five running sums (S, B, and
       F, D, var per cause) and no per-subject term.
    """
    dk = np.ascontiguousarray(dk, dtype=float)  # (K, m): every per-cause pass below runs over contiguous memory
    k, m = dk.shape
    est, se, surv = np.empty((k, m)), np.empty((k, m)), np.empty(m)
    # blocks of _BLOCK times keep the passes below in cache; each running sum or product continues from the last
    # value of the block before (``start``), bit for bit as over the whole grid
    b_end = d_end = v_end = None  # B, 2 D and var at the end of the block before
    for start in range(0, m, _BLOCK):
        sl = slice(start, min(start + _BLOCK, m))
        nb, dkb = n[sl].astype(float), dk[:, sl]  # float: no int-to-float cast in each division
        d = dkb.sum(axis=0)
        dl = d / nb
        s = np.subtract(1.0, dl, out=surv[sl])
        if start:
            s[0] = surv[start - 1] * s[0]
        np.cumprod(s, out=s)
        smb = np.empty_like(s)  # S(u-)
        smb[0] = surv[start - 1] if start else 1.0
        smb[1:] = s[:-1]
        left = np.subtract(nb, d, out=d)
        g = np.zeros_like(dl)  # d/(n (n - d)) = dL/(n - d), 0 where n = d (everyone at risk fails)
        np.divide(dl, left, out=g, where=left > 0)
        b_before = np.empty_like(g)  # B(u-)
        b_before[0] = b_end if start else 0.0
        b = _carried_cumsum(g, b_end)
        b_before[1:] = b[:-1]
        b_end = b[-1]
        jump = np.multiply(dkb, smb)
        jump /= nb
        est[:, sl] = jump
        _carried_cumsum(est[:, sl], None if start == 0 else est[:, start - 1])
        rest = np.subtract(nb, dkb)
        inv_n = np.divide(1.0, nb, out=nb)
        rest *= smb * inv_n * inv_n
        two_d = _carried_cumsum(jump * (2 * (b_before - inv_n)), d_end)
        inc = np.multiply(jump, b_before)  # (j B(u-) + 2 D(u-) + S(u-) (n - d_k)/n^2) j
        if start:
            inc[:, 0] += d_end
        inc[:, 1:] += two_d[:, :-1]
        d_end = two_d[:, -1]
        inc += rest
        inc *= jump
        v = _carried_cumsum(inc, v_end)
        v_end = v[:, -1].copy()
        np.sqrt(np.maximum(v, 0.0, out=v), out=se[:, sl])
    return _AJ(time, n, dk, cens, est, se, surv)


def _cmprsk_variance(n: np.ndarray, dk: np.ndarray, surv: np.ndarray, sm: np.ndarray, est: np.ndarray) -> np.ndarray:
    """cmprsk's Aalen-type variance (Gray's ``cinc``) of each CIF (K, m): closed-form increments at each event
    time, cumulated, carried forward between the event times of the cause. ``n`` (m,) at risk, ``dk`` (K, m)
    events, ``surv``/``sm`` the all-cause KM S(u) and S(u-), ``est`` (K, m) the CIFs (as :func:`_aj_from_counts`
    computed them). In blocks of :data:`_BLOCK` times, as the estimates."""
    k, m = dk.shape
    var_c = np.empty((k, m))
    c_v = np.zeros((3, k))  # running sums of the cmprsk increments v1, v2, v3, over event times
    c_last = np.zeros(k)  # cmprsk variance at the last event of each cause so far
    for start in range(0, m, _BLOCK):
        sl = slice(start, min(start + _BLOCK, m))
        nb, dkb, f = n[sl], dk[:, sl], est[:, sl]
        d = dkb.sum(axis=0) if k > 1 else dkb[0].copy()
        ev = np.flatnonzero(d > 0)  # elsewhere every increment is exactly 0
        n_ev = np.cumsum(d > 0)  # number of event times up to each row of the block
        s_e, sm_e, n_e, d_e = surv[sl][ev], sm[sl][ev], nb[ev], d[ev]
        inv_s = np.zeros(ev.size)
        np.divide(1.0, s_e, out=inv_s, where=s_e > 0)
        nm1 = np.maximum(n_e - 1.0, 1.0)
        sm2, n2, inv_s2 = sm_e**2, n_e**2, inv_s**2
        carried = np.empty(ev.size + 1)
        for j in range(k):
            if ev.size:
                d1 = dkb[j, ev]
                d2 = d_e - d1
                fj = f[j, ev]
                t5_2 = np.where(d2 > 1, 1 - (d2 - 1) / nm1, 1.0)
                t6_2 = np.where((d2 > 0) & (s_e > 0), sm2 * t5_2 * d2 / n2, 0.0)
                t5_1 = np.where(d1 > 1, 1 - (d1 - 1) / nm1, 1.0)
                t6_1 = np.where(d1 > 0, sm2 * t5_1 * d1 / n2, 0.0)
                t4_1 = 1 + inv_s * fj
                v1 = _carried_cumsum((fj * inv_s) ** 2 * t6_2 + t4_1**2 * t6_1, c_v[0, j] if start else None)
                v2 = _carried_cumsum(inv_s * fj * inv_s * t6_2 + inv_s * t4_1 * t6_1, c_v[1, j] if start else None)
                v3 = _carried_cumsum(inv_s2 * t6_2 + inv_s2 * t6_1, c_v[2, j] if start else None)
                c_v[:, j] = v1[-1], v2[-1], v3[-1]
                v = v1 + fj**2 * v3 - 2 * fj * v2
                # cmprsk updates the variance only at times with an event of the cause; carry it forward in between
                # (over the event times, then onto every row through its number of event times so far)
                last = np.maximum.accumulate(np.where(d1 > 0, np.arange(d1.size), -1))
                carried[1:] = np.where(last >= 0, v[np.maximum(last, 0)], c_last[j])
            carried[0] = c_last[j]
            np.take(carried, n_ev, out=var_c[j, sl])
            c_last[j] = carried[-1]
    np.maximum(var_c, 0.0, out=var_c)
    return var_c


def _cif_table(parts: list, levels: list, labels: list) -> pd.DataFrame:
    """The tidy table, cause-major blocks within each group. The (K, m) arrays of one group are the columns as they
    are (``ravel`` is a view), per-time arrays are tiled, several groups concatenated once; the frame wraps the
    columns without copying: no per-time Python, no consolidation, no object-dtype inference (each of which cost
    tens of ms at n = 1e6)."""
    k = len(labels)

    def column(pieces: list[np.ndarray]) -> np.ndarray:
        flat = [np.broadcast_to(p, (k, p.size)).ravel() if p.ndim == 1 else p.ravel() for p in pieces]
        return flat[0] if len(flat) == 1 else np.concatenate(flat)

    sizes = [p[0].time.size * k for p in parts]
    group, cause = np.empty(sum(sizes), dtype=object), np.empty(sum(sizes), dtype=object)
    lab = np.asarray(labels, dtype=object)[:, None]
    off = 0
    for (aj, *_), level, size in zip(parts, levels, sizes, strict=True):
        group[off:off + size] = level
        cause[off:off + size].reshape(k, aj.time.size)[:] = lab
        off += size
    cols = {"group": group, "cause": cause}
    for name in ("time", "n_risk", "n_event", "n_censor", "estimate"):
        cols[name] = column([getattr(p[0], name) for p in parts])
    for name, i in (("std_err", 1), ("std_err_cmprsk", 2), ("lower", 3), ("upper", 4)):
        cols[name] = column([p[i] for p in parts])
    return pd.DataFrame({c: cols[c] for c in _CIF_COLUMNS}, copy=False)  # copy=False: no consolidation copy


@dataclass(frozen=True, slots=True, eq=False)
class CumulativeIncidence(Result):
    """Aalen-Johansen cumulative incidence functions, per group and cause.

    Attributes
    ----------
    table : DataFrame with one row per group x cause x distinct time (event or censoring) in that group:
        ``group, cause, time, n_risk, n_event, n_censor, estimate, std_err, std_err_cmprsk, lower, upper``.
        ``n_risk`` is the number still event-free and under observation just before ``time``; ``n_event`` counts
        events of that cause at ``time``; ``n_censor`` all censorings at ``time``. ``std_err`` is R survfit's
        infinitesimal-jackknife SE, ``std_err_cmprsk`` the SE from ``cmprsk::cuminc``'s variance; ``lower``/
        ``upper`` use the SE named in ``options["variance"]`` and the transform ``options["conf_type"]``.
    causes : cause codes in the order used; ``labels`` their display labels. ``groups`` the group levels.
    options : conf_type, conf_level, variance, method, R equivalents and the package version.
    excluded : rows left out (always empty: missing time or event codes are errors, not exclusions).

    Methods: ``at(times)`` landmark values; ``states()`` every state of the multi-state model with the event-free
    state "(s0)" (R's ``pstate``, ``std.err``, CI, ``n.risk``, ``n.event``); ``rmean(tau)`` restricted mean time in
    each state with its SE.
    """

    causes: list
    labels: list
    groups: list
    options: dict = field(default_factory=dict)
    excluded: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["row", "reason"]))
    _fits: tuple = field(default=(), repr=False)  # per group: the _AJ (estimates and IJ SEs)
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def table(self) -> pd.DataFrame:
        """The tidy table (see the class docstring), built on first use: cmprsk's variance, the limits and the
        2 x m-row frame are computed only then (``states()`` and ``rmean()`` never need them)."""
        if "table" not in self._cache:
            conf_type, variance = self.options["conf_type"], self.options["variance"]
            z = _common.z_value(_common.check_level(self.options["conf_level"]))
            parts = []
            for aj in self._fits:
                se = aj.std_err
                se_c = np.sqrt(aj.var_cmprsk())
                se_ci = se if variance == "ij" else se_c
                se_log = np.divide(se_ci, aj.estimate, out=np.zeros_like(se_ci), where=aj.estimate > 0)
                lo, hi = _common.confint(aj.estimate, se_log, se_ci, conf_type, z)
                parts.append((aj, se, se_c, lo, hi))
            self._cache["table"] = _cif_table(parts, self.groups, self.labels)
        return self._cache["table"]

    def at(self, times: float | Sequence[float]) -> pd.DataFrame:
        """Landmark values (e.g. the 1-year CIR) at ``times``: the step function evaluated as R ``summary(fit,
        times=)`` does. Returns ``group, cause, time, n_risk, estimate, std_err, std_err_cmprsk, lower, upper``;
        ``n_risk`` is the number at risk at the time (exit time >= time); before the first event the estimate is 0."""
        tt = np.atleast_1d(np.asarray(times, dtype=float))
        if not np.all(np.isfinite(tt)) or (tt < 0).any():
            raise InputError(f"times must be finite and >= 0, got {list(tt)}")
        rows = []
        for (g, c), sub in self.table.groupby(["group", "cause"], sort=False):
            ts = sub["time"].to_numpy()
            idx = np.searchsorted(ts, tt, side="right") - 1
            nxt = np.searchsorted(ts, tt, side="left")
            n_risk = np.where(nxt < ts.size, sub["n_risk"].to_numpy()[np.minimum(nxt, ts.size - 1)], 0.0)
            frame = {"group": g, "cause": c, "time": tt, "n_risk": n_risk}
            for col in ("estimate", "std_err", "std_err_cmprsk", "lower", "upper"):
                vals = sub[col].to_numpy()[np.maximum(idx, 0)]
                before = 0.0 if col in ("estimate", "std_err", "std_err_cmprsk") else np.nan
                frame[col] = np.where(idx >= 0, vals, before)
            rows.append(pd.DataFrame(frame))
        return pd.concat(rows, ignore_index=True)

    def _counts(self):
        """Per group: ``(level, time, n_risk, n_event (K, m), n_censor)``, the counts the table shows."""
        for level, aj in zip(self.groups, self._fits, strict=True):
            yield level, aj.time, aj.n_risk, aj.n_event, aj.n_censor

    def states(self) -> pd.DataFrame:
        """Probability of every state of the multi-state model, the event-free state ``"(s0)"`` first, as R's
        ``survfit(Surv(time, factor(event)) ~ by)`` reports them.

        Returns ``group, state, time, n_risk, n_event, estimate, std_err, lower, upper``, one row per group x state
        x distinct time: ``estimate`` is R's ``pstate`` (for "(s0)" the all-cause Kaplan-Meier), ``std_err`` the
        infinitesimal-jackknife SE (``std.err``), ``lower``/``upper`` its CI with ``options["conf_type"]`` and
        ``conf_level`` (always from the IJ SE, as survfit, whatever ``options["variance"]``). ``n_risk`` and
        ``n_event`` are R's ``n.risk`` and ``n.event`` columns: the event-free state holds everyone at risk and
        receives no events; a cause's state is absorbing (``n_risk`` 0) and receives that cause's events.
        """
        z = _common.z_value(self.options["conf_level"])
        conf_type = self.options["conf_type"]
        frames = []
        for level, aj in zip(self.groups, self._fits, strict=True):
            time, n, dk, cens = aj.time, aj.n_risk, aj.n_event, aj.n_censor
            k, m = dk.shape
            s0 = _aj_from_counts(time, n, dk.sum(axis=0)[None, :], cens)
            est = np.vstack((np.cumprod(1.0 - dk.sum(axis=0) / n), aj.estimate))
            se = np.vstack((s0.std_err, aj.std_err))
            se[0, est[0] == 0] = 0.0  # every influence on S(t) carries the factor S(t): exactly 0 (not round-off)
            se_log = np.divide(se, est, out=np.zeros_like(se), where=est > 0)
            lo, hi = _common.confint(est, se_log, se, conf_type, z)
            frames.append(pd.DataFrame({
                "group": level,
                "state": np.repeat(np.asarray(["(s0)", *self.labels], dtype=object), m),
                "time": np.tile(time, k + 1),
                "n_risk": np.concatenate((n, np.zeros(k * m, dtype=n.dtype))),
                "n_event": np.concatenate((np.zeros(m), dk.ravel())),
                "estimate": est.ravel(), "std_err": se.ravel(), "lower": lo.ravel(), "upper": hi.ravel(),
            }))
        return pd.concat(frames, ignore_index=True)

    def rmean(self, tau: float) -> pd.DataFrame:
        """Restricted mean time in each state up to ``tau``, with its infinitesimal-jackknife SE.

        R equivalent: ``summary(survfit(Surv(time, factor(event)) ~ by, influence = TRUE), rmean = tau)$table``
        (columns ``n, nevent, rmean, se(rmean)``; ``print(fit, rmean = tau)`` shows the same). For the event-free
        state "(s0)" it is the restricted mean event-free time (the RMST of the all-cause curve); for a cause, the
        mean time lost to that cause before ``tau``. Curves stay flat after their last time (up to any ``tau``).

        Returns ``group, state, n, n_event, rmean, std_err`` (one row per group x state, states "(s0)" then the
        causes). ``tau`` before the earliest time of all groups is an error, as in R.
        """
        if isinstance(tau, bool) or not isinstance(tau, int | float | np.integer | np.floating) or not np.isfinite(tau):
            raise InputError(f"tau must be a finite number, got {tau!r}")
        first = float(min(aj.time.min() for aj in self._fits))
        if tau < first:
            raise InputError(f"tau={tau} is before the first time ({first:g}); R stops with 'Truncation point for "
                             "the mean is < smallest survival'")
        rows = []
        for level, time, n, dk, cens in self._counts():
            rm, se = _rmean(time, n, dk, cens, float(tau))
            events = np.concatenate(([0.0], dk.sum(axis=1)))
            for state, r, s, e in zip(["(s0)", *self.labels], rm, se, events, strict=True):
                rows.append({"group": level, "state": state, "n": int(n[0]), "n_event": e, "rmean": r,
                             "std_err": s})
        return pd.DataFrame(rows)


def cumulative_incidence(
    data: Any,
    time: Any = None,
    event: Any = None,
    by: Any = None,
    conf_level: float = 0.95,
    causes: Sequence | Mapping | None = None,
    *,
    conf_type: str = "log",
    variance: str = "ij",
    censor: Any = 0,
) -> CumulativeIncidence:
    """Aalen-Johansen cumulative incidence functions of competing causes (no jitter, exact ties).

    R equivalent: ``survfit(Surv(time, factor(event)) ~ by, data)`` (multi-state; estimates, ``std.err``, CI) and
    ``cmprsk::cuminc(time, event, by)`` (estimates and ``var``).

    Parameters
    ----------
    data : DataFrame (or mapping of columns), EventCounts, or None when the other arguments are arrays. With
        :class:`EventCounts` the columns are those the counts were made with; the result equals the rows'.
    time : column name or array of follow-up times (>= 0, no missing values).
    event : column name or array of event codes: ``censor`` for censored, otherwise the cause.
    by : optional grouping column name or array (missing groups are an error).
    conf_level : confidence level of ``lower``/``upper`` (default 0.95).
    conf_type : ``"log"`` (R survfit default: exp(log F +/- z se/F)), ``"log-log"`` (F^exp(+/- z se/(F log F)),
        as tidycmprsk/scikit-survival; keeps limits inside (0, 1)), or ``"plain"`` (F +/- z se, clipped to [0, 1]).
    variance : SE behind the CI: ``"ij"`` (R survfit's infinitesimal jackknife, default) or ``"cmprsk"``
        (``cuminc``'s Aalen-type variance). Both SEs are always in the table.
    causes : optional list of cause codes (or mapping code -> label); other non-censoring codes are rejected.
    censor : the censoring code (default 0); required for string labels, e.g. ``censor="censored"``.

    Returns
    -------
    CumulativeIncidence
        ``.table`` (group, cause, time, n_risk, n_event, n_censor, estimate, std_err, std_err_cmprsk, lower,
        upper), ``.at(times)`` for landmark rates, ``.states()`` (the event-free state too) and ``.rmean(tau)``.

    Notes
    -----
    1. Per group, count at each distinct time u: n(u) at risk, d_k(u) events of cause k, censorings.
    2. All-cause KM S(u) = prod(1 - d/n); F_k(t) = sum_{u <= t} S(u-) d_k(u)/n(u).
    3. ``std_err``: infinitesimal jackknife, sqrt(sum_i U_i(t)^2) with U_i the derivative of F_k(t) with respect
       to subject i's case weight (R survfit for multi-state curves). ``std_err_cmprsk``: Gray's variance as in
       ``cmprsk:::cinc``. At mgus2 (PCM vs death) 120 months: 0.006797 vs 0.006799.
    4. With the log and log-log transforms the limits are undefined (NaN) where the estimate is 0 (log-log: also
       where it is 1), as R reports NA.
    """
    if conf_type not in _common.CONF_TYPES:
        raise InputError(f"conf_type must be one of {_common.CONF_TYPES}, got {conf_type!r}")
    if variance not in _VARIANCES:
        raise InputError(f"variance must be one of {_VARIANCES}, got {variance!r}")
    _common.check_level(conf_level)
    w = None
    if isinstance(data, EventCounts):  # the cells, with their numbers of rows as frequency weights
        data, time, event, by, w = (data.frame, *data.arguments("cumulative_incidence", time=time, event=event,
                                                                   by=by).values())
    coded = _code_events(data, time, event, causes, censor)
    frame = _inputs.as_frame(data)
    if by is None:
        gcode, levels = np.zeros(coded.time.size, np.intp), ["all"]
    else:
        gv, glab = _inputs.column(frame, by, "by", categorical=True)
        gcode, levels = _inputs.groups(gv, glab, coded.time.size)
    k = len(coded.codes)
    fits = []
    for gi in range(len(levels)):
        if len(levels) == 1:  # no subsetting copies
            fits.append(_aalen_johansen(coded.time, coded.status, k, w))
        else:
            sel = gcode == gi
            fits.append(_aalen_johansen(coded.time[sel], coded.status[sel], k, None if w is None else w[sel]))
    options = {
        "method": "Aalen-Johansen",
        "conf_type": conf_type,
        "conf_level": conf_level,
        "variance": variance,
        "std_err": "infinitesimal jackknife (R survfit multi-state)",
        "std_err_cmprsk": "Aalen-type variance of cmprsk::cuminc",
        "ties": "exact (no jitter)",
        "censor": censor,
        "r_equivalent": "survfit(Surv(time, factor(event)) ~ by); cmprsk::cuminc(time, event, by)",
        "version": __version__,
    }
    return CumulativeIncidence(list(coded.codes), list(coded.labels), list(levels), options, _fits=tuple(fits))


# ----------------------------------------------------------------------------------------------------------------
# Gray's test
# ----------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class GrayTest(Result):
    """Gray's K-sample test of equal cumulative incidence, one row per cause.

    Attributes
    ----------
    table : ``cause, statistic, df, p`` (as the ``Tests`` matrix of ``cmprsk::cuminc``).
    score : per cause, the scores of the first k-1 groups; ``variance`` their covariance matrices.
    groups : group levels (sorted, as the factor levels R uses); options: rho, strata, version.
    """

    table: pd.DataFrame
    score: dict
    variance: dict
    groups: list
    options: dict = field(default_factory=dict)


def _gray_stratum(t: np.ndarray, status: np.ndarray, g: np.ndarray, ng: int, cause: int, rho: float, weights=None):
    """Score (ng-1,) and covariance (ng-1, ng-1) of Gray's test in one stratum (Gray 1988, as cmprsk crstm).

    Vectorised over the distinct event times: per group the left-continuous all-cause KM and cause CIF, the
    pooled subdistribution hazard increment, the weighted score, and the variance terms built from the cumulated
    ``c`` matrices (the sums that cmprsk accumulates in its time loop).
    """
    m1 = status == cause
    m2 = (status > 0) & ~m1
    code = g * 3 + np.where(m1, 1, np.where(m2, 2, 0))
    tab = event_table(t, np.ones(t.size, bool), code, ng * 3, weights=weights)
    rs = tab.n_risk.reshape(-1, ng, 3).sum(axis=2)
    cnt = tab.n_event.reshape(-1, ng, 3)
    d1, d2 = cnt[:, :, 1], cnt[:, :, 2]
    keep = (d1 + d2).sum(axis=1) > 0
    if not keep.any():  # no events in this stratum: it adds nothing
        return np.zeros(ng - 1), np.zeros((ng - 1, ng - 1))
    rs, d1, d2 = rs[keep], d1[keep], d2[keep]
    act = rs > 0
    safe_rs = np.where(act, rs, 1.0)
    td = d1 + d2
    factor = np.where(act, (rs - td) / safe_rs, 1.0)
    skm = np.cumprod(factor, axis=0)
    skmm = np.vstack((np.ones((1, ng)), skm[:-1]))
    f1 = np.cumsum(np.where(act, skmm * d1 / safe_rs, 0.0), axis=0)
    f1m = np.vstack((np.zeros((1, ng)), f1[:-1]))
    safe_skmm = np.where(act, skmm, 1.0)
    t1 = np.where(act, rs / safe_skmm, 0.0)
    tr = t1.sum(axis=1)
    tq = np.where(act, rs * (1 - f1m) / safe_skmm, 0.0).sum(axis=1)
    nd1 = d1.sum(axis=1)
    f = np.cumsum(nd1 / tr)
    fm = np.concatenate(([0.0], f[:-1]))
    fb = (1 - fm) ** rho
    eye = np.eye(ng)
    a = fb[:, None, None] * (t1[:, :, None] * eye - t1[:, :, None] * t1[:, None, :] / tr[:, None, None])
    c = np.cumsum(a * (nd1 / (tr * (1 - fm)))[:, None, None], axis=0)
    s = (fb[:, None] * np.where(act, d1 - nd1[:, None] * rs * (1 - f1m) / (safe_skmm * tq[:, None]), 0.0)).sum(0)
    # variance, part 1: times with events of the cause
    skm_pos = skm > 0
    t4 = np.where(skm_pos, 1 - (1 - f[:, None]) / np.where(skm_pos, skm, 1.0), 1.0)
    denom = tr[:, None] * skmm - 1
    t5 = np.where(nd1[:, None] > 1, 1 - (nd1[:, None] - 1) / np.where(denom != 0, denom, 1.0), 1.0)
    t3 = np.where(act & (nd1[:, None] > 0), t5 * skmm * nd1[:, None] / (tr[:, None] * safe_rs), 0.0)
    mm = a - t4[:, None, :] * c
    v3 = (t4**2 * t3).sum(axis=0)
    v2 = np.einsum("tik,tk->ik", mm, t4 * t3)
    v = np.einsum("tik,tjk,tk->ij", mm, mm, t3)
    # part 2: times with events of other causes
    sel2 = skm_pos & (d2 > 0)
    t4b = np.where(sel2, (1 - f[:, None]) / np.where(skm_pos, skm, 1.0), 0.0)
    t5b = np.where(d2 > 1, 1 - (d2 - 1) / np.where(rs > 1, rs - 1, 1.0), 1.0)
    t3b = np.where(sel2, t5b * skmm**2 * d2 / safe_rs**2, 0.0)
    w2 = t4b**2 * t3b
    v3 = v3 + w2.sum(axis=0)
    v2 = v2 - np.einsum("tik,tk->ik", c, w2)
    v = v + np.einsum("tik,tjk,tk->ij", c, c, w2)
    ce = c[-1]
    v = v + (ce * v3) @ ce.T + ce @ v2.T + v2 @ ce.T
    return s[: ng - 1], v[: ng - 1, : ng - 1]


def gray_test(
    data: Any,
    time: Any = None,
    event: Any = None,
    by: Any = None,
    cause: Any = None,
    *,
    strata: Any = None,
    rho: float = 0.0,
    causes: Sequence | Mapping | None = None,
    censor: Any = 0,
) -> GrayTest:
    """Gray's test comparing cumulative incidence functions across groups, per cause.

    R equivalent: ``cmprsk::cuminc(time, event, group = by, strata = strata, rho = rho)$Tests``.

    Parameters
    ----------
    data, time, event, causes, censor : as in :func:`cumulative_incidence`.
    by : grouping column or array (at least two levels; levels are sorted as R factor levels).
    cause : the cause to test (code or label); ``None`` tests every cause, one row each.
    strata : optional stratification column; scores and variances are summed over strata.
    rho : power of the weight (1 - F(t-))^rho (0 = Gray's default, log-rank-like).

    Returns
    -------
    GrayTest
        ``.table`` with ``cause, statistic, df, p``; statistic = s' V^-1 s on k-1 df.

    Notes
    -----
    1. Within each stratum, at each distinct event time, compute per group the left-continuous all-cause KM and
       CIF of the cause, and the pooled estimate F(t) = sum d1/sum_r(R_r/S_r(t-)).
    2. Score for group r: sum over times of (1-F(t-))^rho [d1_r - d1 R_r(1-F_r(t-))/(S_r(t-) sum_q R_q(1-F_q)/S_q)].
    3. Variance: Gray (1988) Ann Stat 16:1141-1154, in the form computed by cmprsk (tied events handled with the
       hypergeometric-type corrections cmprsk uses). A singular variance gives NaN and a StatisticalWarning
       (cmprsk reports -1).
    """
    w = None
    if isinstance(data, EventCounts):  # the cells, with their numbers of rows as frequency weights
        data, time, event, by, strata, w = (data.frame, *data.arguments("gray_test", time=time, event=event, by=by,
                                                                           strata=strata).values())
    coded = _code_events(data, time, event, causes, censor)
    frame = _inputs.as_frame(data)
    gv, glab = _inputs.column(frame, by, "by", categorical=True)
    gcode, levels = _inputs.groups(gv, glab, coded.time.size, min_levels=2)
    if strata is None:
        scode, slevels = np.zeros(coded.time.size, np.intp), [None]
    else:
        sv, slab = _inputs.column(frame, strata, "strata", categorical=True)
        scode, slevels = _inputs.groups(sv, slab, coded.time.size)
    ng = len(levels)
    which = range(1, len(coded.codes) + 1) if cause is None else [_cause_index(coded, cause)]
    rows, scores, variances = [], {}, {}
    for ci in which:
        s = np.zeros(ng - 1)
        v = np.zeros((ng - 1, ng - 1))
        for si in range(len(slevels)):
            sel = scode == si
            ws = None if w is None else w[sel]
            ss, vv = _gray_stratum(coded.time[sel], coded.status[sel], gcode[sel], ng, ci, rho, ws)
            s, v = s + ss, v + vv
        if np.linalg.matrix_rank(v) < ng - 1:
            stat = np.nan
            warnings.warn(
                f"gray_test: singular variance for cause {coded.labels[ci - 1]!r}; no test (cmprsk reports -1)",
                StatisticalWarning,
                stacklevel=2,
            )
        else:
            stat = float(s @ np.linalg.solve(v, s))
        label = coded.labels[ci - 1]
        rows.append({"cause": label, "statistic": stat, "df": ng - 1, "p": float(chdtrc(ng - 1, stat))})
        scores[label], variances[label] = s, v
    options = {
        "rho": rho,
        "strata": None if strata is None else [str(x) for x in slevels],
        "method": "Gray (1988) K-sample test",
        "r_equivalent": "cmprsk::cuminc(time, event, group, strata, rho)$Tests",
        "version": __version__,
    }
    return GrayTest(pd.DataFrame(rows), scores, variances, list(levels), options)


# ----------------------------------------------------------------------------------------------------------------
# Fine-Gray
# ----------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FineGray(Result):
    """Fine-Gray proportional subdistribution hazards model (as ``cmprsk::crr``).

    Attributes
    ----------
    coefficients : ``term, coef, hazard_ratio, se, z, p, lower, upper`` (HR = exp(coef) is the subdistribution HR;
        CI exp(coef -/+ z se), p two-sided normal, as ``summary.crr``).
    vcov : sandwich covariance matrix (crr's ``var``), including the censoring-distribution term.
    loglik : ``{"null": ..., "fitted": ...}`` log pseudo-likelihoods (crr's ``loglik.null``/``loglik``).
    n, events, competing, censored : counts used in the fit; ``converged``, ``iterations``.
    excluded : rows left out because of missing covariates (``row, reason``).
    """

    coefficients: pd.DataFrame
    vcov: np.ndarray
    loglik: dict
    n: int
    events: int
    competing: int
    censored: int
    converged: bool
    iterations: int
    options: dict = field(default_factory=dict)
    excluded: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["row", "reason"]))

    def to_frame(self) -> pd.DataFrame:
        return self.coefficients.copy()

    def _repr_html_(self) -> str:
        return self.coefficients._repr_html_()


def _design(frame: pd.DataFrame | None, covariates: Any, n: int) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Numeric design matrix (categoricals dummy-coded against their first level, R-style names ``colLevel``),
    term names, and a mask of rows with a missing covariate."""
    cols = _inputs.names(covariates)
    if not cols:
        raise InputError("covariates: at least one covariate column is required")
    blocks, terms = [], []
    missing = np.zeros(n, bool)
    for c in cols:
        v, lab = _inputs.column(frame, c, "covariates", categorical=True)
        s = pd.Series(v)
        if len(s) != n:
            raise InputError(f"column {lab!r}: length {len(s)} differs from the time column ({n})")
        miss = s.isna().to_numpy()
        missing = missing | miss
        if s.dtype.kind in "biuf":
            x = s.to_numpy(dtype=float)
            if np.unique(x[~miss]).size < 2:
                raise InputError(f"column {lab!r}: covariate has a single value ({x[~miss][:1]}); it cannot be fitted")
            blocks.append(x[:, None])
            terms.append(lab)
        else:
            cat = pd.Categorical(s)  # a pandas Categorical keeps its declared level order (R: factor levels)
            cat = cat.remove_unused_categories()
            levels = list(cat.categories)
            if len(levels) < 2:
                raise InputError(f"column {lab!r}: covariate has a single level ({levels}); it cannot be fitted")
            codes = cat.codes
            for j, lev in enumerate(levels[1:], start=1):
                blocks.append((codes == j).astype(float)[:, None])
                terms.append(f"{lab}{lev}")
    return np.hstack(blocks), terms, missing


def _km_censoring_left(t: np.ndarray, status: np.ndarray) -> np.ndarray:
    """G(t-) per subject: KM of the censoring distribution just before each time, as crr (survfit on the censoring
    indicator, read at t(1 - 100 eps))."""
    tab = event_table(t, status == 0)
    g = np.cumprod(1.0 - tab.n_event[:, 0] / tab.n_risk[:, 0])
    pos = np.searchsorted(tab.time, t * (1 - 100 * np.finfo(float).eps), side="right") - 1
    return np.where(pos >= 0, g[np.maximum(pos, 0)], 1.0)


@dataclass(frozen=True, slots=True)
class _FGData:
    x: np.ndarray  # (n, p) sorted by time
    t: np.ndarray
    st: np.ndarray  # 0 censored, 1 cause, 2 competing
    gl: np.ndarray  # G(t_i-)
    ft: np.ndarray  # distinct failure times of the cause
    df: np.ndarray  # number of failures at each
    first: np.ndarray  # index of first subject with t >= ft
    g_ft: np.ndarray  # G(ft-)


def _fg_sums(dat: _FGData, beta: np.ndarray, order: int):
    """S0, S1, S2 of the Fine-Gray weighted risk sets at each distinct failure time.

    Risk set at failure time u: subjects with t >= u (weight 1) plus competing-event subjects with t < u, weighted
    G(u-)/G(t_j-). Both parts are suffix/prefix cumulative sums, so the cost is O(n p^2)."""
    r = np.exp(dat.x @ beta)
    comp = dat.st == 2
    rc = np.where(comp, r / dat.gl, 0.0)

    def part(v: np.ndarray) -> np.ndarray:
        # v has shape (n, ...); returns suffix sum at first[] plus G(u-) * prefix sum over competing rows before
        suffix = np.cumsum(v[0][::-1], axis=0)[::-1]
        suffix = np.concatenate((suffix, np.zeros((1, *suffix.shape[1:]))), axis=0)
        prefix = np.concatenate((np.zeros((1, *v[1].shape[1:])), np.cumsum(v[1], axis=0)), axis=0)
        g = dat.g_ft.reshape((-1,) + (1,) * (v[0].ndim - 1))
        return suffix[dat.first] + g * prefix[dat.first]

    s0 = part((r, rc))
    s1 = part((r[:, None] * dat.x, rc[:, None] * dat.x))
    if order < 2:
        return s0, s1, None
    xx = dat.x[:, :, None] * dat.x[:, None, :]
    s2 = part((r[:, None, None] * xx, rc[:, None, None] * xx))
    return s0, s1, s2


def _fg_objective(dat: _FGData, beta: np.ndarray, order: int):
    """Negative log pseudo-likelihood (crr's minimisation objective), its gradient and Hessian (Breslow ties)."""
    s0, s1, s2 = _fg_sums(dat, beta, order)
    ev = dat.st == 1
    lik = -float((dat.x[ev] @ beta).sum()) + float((dat.df * np.log(s0)).sum())
    if order == 0:
        return lik, None, None
    xbar = s1 / s0[:, None]
    grad = -dat.x[ev].sum(axis=0) + (dat.df[:, None] * xbar).sum(axis=0)
    if order == 1:
        return lik, grad, None
    hess = np.einsum("t,tij->ij", dat.df, s2 / s0[:, None, None] - xbar[:, :, None] * xbar[:, None, :])
    return lik, grad, hess


def _fg_variance(dat: _FGData, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Information matrix and the crr sandwich middle term sum_i (eta_i + psi_i)(eta_i + psi_i)'.

    eta_i: the subject's score residual for the partial likelihood with estimated weights,
        eta_i = 1{cause}(x_i - xbar(t_i)) - r_i sum_{failure times u} w_i(u) d(u) (x_i - xbar(u)) / S0(u),
        w_i(u) = 1 for u <= t_i, G(u-)/G(t_i-) for competing subjects with t_i < u.
    psi_i: the term for the Kaplan-Meier estimate of the censoring distribution (Fine & Gray 1999, eq. for
        psi), the integral of q(u)/Y(u) against the censoring martingale of subject i, with
        q(u) = sum_{failure times v >= u} d(v) G(v-)/S0(v) sum_{competing j: t_j < u} r_j/G(t_j-) (x_j - xbar(v)).
    """
    s0, s1, s2 = _fg_sums(dat, beta, 2)
    xbar = s1 / s0[:, None]
    info = np.einsum("t,tij->ij", dat.df, s2 / s0[:, None, None] - xbar[:, :, None] * xbar[:, None, :])
    x, t, st = dat.x, dat.t, dat.st
    n, p = x.shape
    r = np.exp(x @ beta)
    dd = dat.df / s0  # d(u)/S0(u)
    ee = dat.df[:, None] * xbar / s0[:, None]
    # failure times u <= t_i: position of t_i among failure times
    k_le = np.searchsorted(dat.ft, t, side="right")  # number of failure times <= t_i
    cd = np.concatenate(([0.0], np.cumsum(dd)))
    ce = np.vstack((np.zeros((1, p)), np.cumsum(ee, axis=0)))
    eta = -r[:, None] * (x * cd[k_le][:, None] - ce[k_le])
    # competing subjects, failure times after t_i, weighted G(u-)/G(t_i-)
    gd = np.concatenate((np.cumsum((dat.g_ft * dd)[::-1])[::-1], [0.0]))
    ge = np.vstack((np.cumsum((dat.g_ft[:, None] * ee)[::-1], axis=0)[::-1], np.zeros((1, p))))
    comp = st == 2
    eta[comp] -= (r[comp] / dat.gl[comp])[:, None] * (x[comp] * gd[k_le[comp]][:, None] - ge[k_le[comp]])
    ev = st == 1
    k_ev = np.searchsorted(dat.ft, t[ev], side="left")
    eta[ev] += x[ev] - xbar[k_ev]
    # psi: censoring-martingale term, evaluated on the distinct times with censorings
    tab = event_table(t, st == 0)
    ctime, ncens, yrisk = tab.time, tab.n_event[:, 0], tab.n_risk[:, 0]
    cidx = ncens > 0
    ctime, ncens, yrisk = ctime[cidx], ncens[cidx], yrisk[cidx]
    # P0(u), P1(u): sums over competing subjects with t_j < u of r_j/G(t_j-) (times x_j)
    rc = np.where(comp, r / dat.gl, 0.0)
    k_lt = np.searchsorted(t, ctime, side="left")  # t is sorted; subjects with t_j < u
    p0 = np.concatenate(([0.0], np.cumsum(rc)))[k_lt]
    p1 = np.vstack((np.zeros((1, p)), np.cumsum(rc[:, None] * x, axis=0)))[k_lt]
    # suffix over failure times v >= u of d G/S0 and d G xbar/S0
    kf = np.searchsorted(dat.ft, ctime, side="left")
    q = p1 * gd[kf][:, None] - p0[:, None] * ge[kf]
    lam = q * (ncens / yrisk**2)[:, None]  # q(u) dLambda_c(u)/Y(u)
    cum_lam = np.vstack((np.zeros((1, p)), np.cumsum(lam, axis=0)))
    k_c = np.searchsorted(ctime, t, side="right")  # censoring times <= t_i
    psi = -cum_lam[k_c]
    cens = st == 0
    kc_i = np.searchsorted(ctime, t[cens], side="left")
    psi[cens] += q[kc_i] / yrisk[kc_i][:, None]
    res = eta + psi
    return info, res.T @ res


def fine_gray(
    data: Any,
    time: Any,
    event: Any,
    covariates: Any,
    cause: Any = 1,
    *,
    conf_level: float = 0.95,
    max_iter: int = 10,
    gtol: float = 1e-6,
    causes: Sequence | Mapping | None = None,
    censor: Any = 0,
) -> FineGray:
    """Fine-Gray regression of the subdistribution hazard of ``cause``, exactly as ``cmprsk::crr``.

    R equivalent: ``cmprsk::crr(time, event, cov1 = model.matrix(~ covariates)[, -1], failcode = cause,
    cencode = censor)``.

    Parameters
    ----------
    data, time, event, causes, censor : as in :func:`cumulative_incidence`.
    covariates : column name or list of names. Numeric and boolean columns enter as numbers (True = 1); other
        columns (strings, categoricals) are dummy-coded against their first level (a pandas Categorical's first
        declared level among those present, else the first in sorted order, as R's factor), named ``columnLevel``
        as R's ``model.matrix`` does. A column with a single value is an error. Rows with a missing covariate are
        excluded, counted in ``excluded`` and announced with a DataQualityWarning (crr's ``na.omit``).
    cause : the cause of interest (code or label, crr's ``failcode``).
    conf_level : level of the hazard-ratio CI.
    max_iter, gtol : crr's ``maxiter`` and ``gtol``: Newton-Raphson from beta = 0 with crr's convergence rule
        max|score| * max(|beta|, 1) < max(|objective|, 1) * gtol and step halving on the objective, so the answer
        is crr's to rounding. Non-convergence gives a StatisticalWarning.

    Returns
    -------
    FineGray
        ``.coefficients`` (term, coef, hazard_ratio, se, z, p, lower, upper), ``.vcov``, ``.loglik``, counts.

    Notes
    -----
    1. Censoring weights: G = Kaplan-Meier of the censoring distribution (all rows), read just before each time.
    2. Risk set at a failure time u of the cause: everyone still under observation (t >= u) with weight 1 and every
       subject who failed from a competing cause before u with weight G(u-)/G(t_j-). Tied failures: Breslow.
    3. Newton-Raphson on the weighted partial likelihood (prefix/suffix sums, vectorised).
    4. Variance: I^-1 (sum_i (eta_i + psi_i)(eta_i + psi_i)') I^-1, Fine & Gray (1999) JASA 94:496-509, where psi
       accounts for estimating G (crr's ``crrvv``).
    5. Only time-fixed covariates and one censoring group (crr's ``cov1`` without ``cov2``/``cengroup``).
    """
    coded = _code_events(data, time, event, causes, censor)
    ci = _cause_index(coded, cause)
    z = _common.z_value(_common.check_level(conf_level))
    frame = _inputs.as_frame(data)
    x_all, terms, missing = _design(frame, covariates, coded.time.size)
    excluded = pd.DataFrame({"row": np.flatnonzero(missing), "reason": "missing covariate"})
    if missing.any():
        warnings.warn(
            f"fine_gray: {int(missing.sum())} row(s) with a missing covariate excluded "
            f"({_inputs.rows(missing)})",
            DataQualityWarning,
            stacklevel=2,
        )
    keep = ~missing
    order = np.argsort(coded.time[keep], kind="stable")
    t = coded.time[keep][order]
    raw = coded.status[keep][order]
    st = np.where(raw == ci, 1, np.where(raw > 0, 2, 0))
    x = x_all[keep][order]
    if (st == 1).sum() == 0:
        raise InputError(f"fine_gray: no events of cause {coded.labels[ci - 1]!r} in the complete-case data")
    x = x - x.mean(axis=0)  # centring: estimates, SEs and likelihoods are unchanged; exp() stays in range
    gl = _km_censoring_left(t, st)
    ft, dfc = np.unique(t[st == 1], return_counts=True)
    first = np.searchsorted(t, ft, side="left")
    dat = _FGData(x, t, st, gl, ft, dfc.astype(float), first, gl[first])
    p = x.shape[1]
    beta = np.zeros(p)
    converged = False
    it = 0
    lik0 = _fg_objective(dat, beta, 0)[0]
    for it in range(max_iter + 1):
        lik, grad, hess = _fg_objective(dat, beta, 2)
        if np.max(np.abs(grad) * np.maximum(np.abs(beta), 1)) < max(abs(lik), 1) * gtol:
            converged = True
            break
        if it == max_iter:
            break
        step = -np.linalg.solve(hess, grad)
        new = beta + step
        fnew = _fg_objective(dat, new, 0)[0]
        halvings = 0
        while not np.isfinite(fnew) or fnew > lik + 1e-4 * float(step @ grad):
            halvings += 1
            step = step * 0.5
            new = beta + step
            fnew = _fg_objective(dat, new, 0)[0]
            if halvings > 20:
                break
        if halvings > 20:
            break
        beta = new
    if not converged:
        warnings.warn(
            f"fine_gray: crr's Newton-Raphson did not converge in {max_iter} iterations (gtol={gtol}); "
            "the estimates are the last iterate, as crr returns them",
            StatisticalWarning,
            stacklevel=2,
        )
    lik = _fg_objective(dat, beta, 0)[0]
    info, middle = _fg_variance(dat, beta)
    hinv = np.linalg.inv(info)
    vcov = hinv @ middle @ hinv.T
    se = np.sqrt(np.diag(vcov))
    coefs = _common.wald_table(terms, beta, se, z)
    options = {
        "method": "Fine-Gray (cmprsk::crr)",
        "cause": coded.labels[ci - 1],
        "ties": "breslow",
        "censoring_weights": "Kaplan-Meier of the censoring distribution, G(t-)",
        "conf_level": conf_level,
        "max_iter": max_iter,
        "gtol": gtol,
        "r_equivalent": "cmprsk::crr(ftime, fstatus, cov1, failcode, cencode)",
        "version": __version__,
    }
    return FineGray(
        coefficients=coefs,
        vcov=vcov,
        loglik={"null": -lik0, "fitted": -lik},
        n=int(t.size),
        events=int((st == 1).sum()),
        competing=int((st == 2).sum()),
        censored=int((st == 0).sum()),
        converged=converged,
        iterations=it,
        options=options,
        excluded=excluded,
    )
