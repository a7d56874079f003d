"""Kaplan-Meier estimator with R ``survival`` parity, numbers at risk and reverse-KM follow-up.

Written here rather than taken from lifelines/statsmodels because none of them reproduces R's conventions
together (CI type, median on a flat S = 0.5 stretch, ``summary(times=)`` counts on tick days, RMST variance,
``(start, stop]`` risk sets, case weights; see the survival-software survey, section D) and because the
event-table core makes the whole fit O(#distinct times) after one counting pass over the rows.

R equivalents (survival 3.5-3):

- rows of ``.table``: ``survfit(Surv(time, status) ~ by, weights=, conf.type=)`` (``Surv(entry, time, status)``
  with ``entry``); ``std.err`` of R is on the log scale, ``std_err`` here is ``summary(fit)$std.err`` (scale of S);
- ``.medians``: ``print(fit)``; ``.quantile``: ``quantile(fit, probs)``; ``.at``: ``summary(fit, times=,
  extend=TRUE)``; ``.rmst``: ``print(fit, rmean=tau)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cart_outcomes._result import Result
from cart_outcomes.errors import InputError
from cart_outcomes.stats import _common, _inputs
from cart_outcomes.stats._counts import EventCounts
from cart_outcomes.stats._events import Unchecked, _one_group_sorted, continuous, event_table

__all__ = [
    "KaplanMeier",
    "RMSTComparison",
    "ReverseKMFollowup",
    "at_risk_table",
    "compare_rmst",
    "kaplan_meier",
    "reverse_km_followup",
]

CONF_TYPES = _common.CONF_TYPES
#: named profiles for the pointwise CI transform where tools disagree (survey D.1)
PROFILES: Mapping[str, str] = {"R": "log", "SAS": "log-log", "lifelines": "log-log", "Prism": "log-log"}
_DEFAULT_CONF_TYPE = "log-log"
# R: sqrt(.Machine$double.eps), used by print.survfit and quantile.survfit to compare S with 0.5
_TOL = float(np.sqrt(np.finfo(float).eps))
_ALL = "all"
# integer group labels spanning fewer values than this are used as group codes directly
_DIRECT_CODES = 64


def _resolve_conf(conf_type: str | None, profile: str | None, conf_level: float) -> str:
    if profile is not None and profile not in PROFILES:
        raise InputError(f"profile must be one of {sorted(PROFILES)}, got {profile!r}")
    if conf_type is None:
        conf_type = PROFILES[profile] if profile is not None else _DEFAULT_CONF_TYPE
    elif profile is not None and conf_type != PROFILES[profile]:
        raise InputError(f"conf_type={conf_type!r} contradicts profile={profile!r} (which uses {PROFILES[profile]!r})")
    if conf_type not in CONF_TYPES:
        raise InputError(f"conf_type must be one of {list(CONF_TYPES)}, got {conf_type!r}")
    _common.check_level(conf_level)
    return conf_type


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b, 0 where b == 0 (groups with nobody at risk, zero weights)."""
    if b.min() > 0:
        return a / b
    return np.divide(a, b, out=np.zeros(a.shape), where=b > 0)


def _minmin(y: np.ndarray, x: np.ndarray) -> float:
    """First time ``y`` is <= 0.5 (with tolerance), midpoint of a flat 0.5 stretch: R ``survmean``'s ``minmin``."""
    keep = ~np.isnan(y) & (y < 0.5 + _TOL)
    if not keep.any():
        return np.nan
    x, y = x[keep], y[keep]
    if abs(y[0] - 0.5) < _TOL:
        below = np.flatnonzero(y < y[0])
        if below.size:
            return (x[0] + x[below[0]]) / 2.0
    return float(x[0])


def _median_of_curve(s: np.ndarray, x: np.ndarray) -> float:
    """``_minmin`` for a non-increasing curve without NaN (S itself): the rows kept are a suffix."""
    below = s < 0.5 + _TOL
    i = int(below.argmax())
    if not below[i]:
        return np.nan
    if abs(s[i] - 0.5) < _TOL:
        lower = s[i:] < s[i]
        j = int(lower.argmax())
        if lower[j]:
            return (x[i] + x[i + j]) / 2.0
    return float(x[i])


def _findq(x: np.ndarray, y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Port of ``survival:::findq`` (quantile.survfit): ``x`` = c(0, time), ``y`` = c(0, 1 - curve)."""
    if np.all(np.isnan(y)) or np.nanmax(y) < p.min():
        return np.full(p.shape, np.nan)
    xmax = x[-1]
    _, first = np.unique(y, return_index=True)  # duplicated(y): keep first occurrences (NaN counts once)
    first.sort()
    x, y = x[first], y[first]
    valid = np.flatnonzero(~np.isnan(y))

    def constant_right(knots: np.ndarray) -> np.ndarray:
        # approx(knots, 1:n, p, method="constant", f=1): the knot equal to p or the next one up; NA outside
        order = np.argsort(knots[valid], kind="stable")
        kx, kv = knots[valid][order], valid[order]
        j = np.searchsorted(kx, p, side="left")
        out = np.full(p.shape, -1)
        inside = (p >= kx[0]) & (p <= kx[-1])
        out[inside] = kv[j[inside]]
        return out

    i1, i2 = constant_right(y + _TOL), constant_right(y - _TOL)
    x1 = np.where(i1 >= 0, x[i1], np.nan)
    x2 = np.where(i2 >= 0, x[i2], np.nan)
    quant = (x1 + x2) / 2.0
    quant[p == 0] = x[0]
    if not np.isnan(y[-1]):
        last = np.abs(p - y[-1]) < _TOL
        quant[last] = (x1[last] + xmax) / 2.0
    return quant


@dataclass(frozen=True, slots=True, eq=False)
class KaplanMeier(Result):
    """Result of :func:`kaplan_meier`: one curve per group, stored as numpy arrays (rows ordered group, time).

    Attributes
    ----------
    groups : tuple of group labels (``("all",)`` without ``by``).
    options : conf_type, conf_level, variance, cumhaz, median_rule, profile, entry, weights, version.
    n : number of records (rows) per group; ``n_weighted`` the sum of weights.
    offsets : row ``offsets[j]:offsets[j+1]`` of the arrays belong to group ``j``.
    time, n_risk, n_event, n_censor, survival, std_err : row arrays (see ``table``);
    ``lower``, ``upper``, ``cumhaz``, ``cumhaz_se`` : the same, as properties computed on first access.
    """

    groups: tuple
    options: Mapping[str, Any]
    n: np.ndarray
    n_weighted: np.ndarray
    offsets: np.ndarray
    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    survival: np.ndarray
    std_err: np.ndarray
    _se_log: np.ndarray = field(repr=False)
    _cache: dict = field(default_factory=dict, repr=False)

    # Nelson-Aalen and the pointwise limits are computed on first use (a bootstrap of the median never needs them)
    @property
    def cumhaz(self) -> np.ndarray:
        """Nelson-Aalen cumulative hazard ``sum d/n`` at each row (R ``ctype=1``)."""
        return self._hazard()[0]

    @property
    def cumhaz_se(self) -> np.ndarray:
        """Standard error of ``cumhaz``: ``sqrt(sum d/n^2)`` (R ``std.chaz``; IJ with fractional weights)."""
        return self._hazard()[1]

    def _hazard(self) -> tuple[np.ndarray, np.ndarray]:
        if "hazard" not in self._cache:
            q = _div(self.n_event, self.n_risk)
            var = self._cache.get("cumhaz_var")
            if var is None:
                var = self._group_cumsum(_div(q, self.n_risk))
            self._cache["hazard"] = (self._group_cumsum(q), np.sqrt(var))
        return self._cache["hazard"]

    def _group_cumsum(self, x: np.ndarray) -> np.ndarray:
        if len(self.groups) == 1:
            return np.cumsum(x)
        return np.concatenate([np.cumsum(x[self._rows(j)]) for j in range(len(self.groups))])

    @property
    def lower(self) -> np.ndarray:
        """Lower pointwise confidence limit of S at each row (``options["conf_type"]``; NaN where R gives NA)."""
        return self._limits()[0]

    @property
    def upper(self) -> np.ndarray:
        """Upper pointwise confidence limit of S at each row."""
        return self._limits()[1]

    def _limits(self) -> tuple[np.ndarray, np.ndarray]:
        if "limits" not in self._cache:
            opts = self.options
            self._cache["limits"] = _common.confint(
                self.survival, self._se_log, self.std_err, opts["conf_type"], _common.z_value(opts["conf_level"])
            )
        return self._cache["limits"]

    def _rows(self, j: int) -> slice:
        return slice(int(self.offsets[j]), int(self.offsets[j + 1]))

    def _group_column(self, counts: Sequence[int] | np.ndarray) -> np.ndarray:
        return np.repeat(np.array(self.groups, dtype=object), counts)

    @property
    def table(self) -> pd.DataFrame:
        """One row per distinct time per group (as the rows of R's survfit): ``group, time, n_risk, n_event,
        n_censor, survival, std_err, lower, upper, cumhaz, cumhaz_se``."""
        if "table" not in self._cache:
            self._cache["table"] = pd.DataFrame(
                {
                    "group": self._group_column(np.diff(self.offsets)),
                    "time": self.time,
                    "n_risk": self.n_risk,
                    "n_event": self.n_event,
                    "n_censor": self.n_censor,
                    "survival": self.survival,
                    "std_err": self.std_err,
                    "lower": self.lower,
                    "upper": self.upper,
                    "cumhaz": self.cumhaz,
                    "cumhaz_se": self.cumhaz_se,
                }
            )
        return self._cache["table"].copy()

    def to_frame(self) -> pd.DataFrame:
        """The tidy ``table``."""
        return self.table

    @property
    def medians(self) -> pd.DataFrame:
        """``group, n, events, median, lower, upper`` as R's ``print(survfit)``: the first time S <= 0.5, the
        midpoint of a stretch where S = 0.5 (tolerance sqrt(eps)); CI from the lower/upper curves the same way.
        NaN when not reached. ``n`` counts records, ``events`` sums (weighted) events."""
        if "medians" not in self._cache:
            med, lo, up = self.median_ci()
            ev = np.array([self.n_event[self._rows(j)].sum() for j in range(len(self.groups))], dtype=float)
            self._cache["medians"] = pd.DataFrame(
                {"group": list(self.groups), "n": self.n, "events": ev, "median": med, "lower": lo, "upper": up}
            )
        return self._cache["medians"].copy()

    def median_ci(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(median, lower, upper)``: the numbers of :attr:`medians` as arrays in ``groups`` order, without
        building a DataFrame (R ``print(fit)``'s median and 0.95LCL/UCL columns)."""
        if "median_ci" not in self._cache:
            lower, upper = self.lower, self.upper
            out = np.empty((3, len(self.groups)))
            for j in range(len(self.groups)):
                r = self._rows(j)
                t = self.time[r]
                out[:, j] = (_median_of_curve(self.survival[r], t), _minmin(lower[r], t), _minmin(upper[r], t))
            out.flags.writeable = False
            self._cache["median_ci"] = out
        med, lo, up = self._cache["median_ci"]
        return med, lo, up

    def median(self) -> np.ndarray:
        """Median survival per group (array in ``groups`` order), without building a DataFrame (for bootstraps)."""
        rows = [self._rows(j) for j in range(len(self.groups))]
        return np.array([_median_of_curve(self.survival[r], self.time[r]) for r in rows])

    def quantile(self, probs: float | Iterable[float] = (0.25, 0.5, 0.75)) -> pd.DataFrame:
        """``group, prob, time, lower, upper`` as R's ``quantile(fit, probs)``: the time at which the curve falls to
        ``1 - prob`` (midpoint of a flat stretch, tolerance sqrt(eps)); limits from the lower/upper curves."""
        p = np.atleast_1d(np.asarray(probs, dtype=float))
        if p.size == 0 or np.isnan(p).any() or (p < 0).any() or (p > 1).any():
            raise InputError(f"probs must be probabilities in [0, 1], got {probs!r}")
        parts = []
        for j in range(len(self.groups)):
            r = self._rows(j)
            x = np.concatenate(([0.0], self.time[r]))
            cols = [_findq(x, np.concatenate(([0.0], 1.0 - c[r])), p) for c in (self.survival, self.lower, self.upper)]
            parts.append(cols)
        k = len(self.groups)
        return pd.DataFrame(
            {
                "group": self._group_column(np.full(k, p.size)),
                "prob": np.tile(p, k),
                "time": np.concatenate([c[0] for c in parts]),
                "lower": np.concatenate([c[1] for c in parts]),
                "upper": np.concatenate([c[2] for c in parts]),
            }
        )

    def at(self, times: float | Iterable[float]) -> pd.DataFrame:
        """Curves at chosen times, as R's ``summary(fit, times=, extend=TRUE)``.

        Returns ``group, time, n_risk, n_event, n_censor, survival, std_err, lower, upper, cumhaz, cumhaz_se``
        and ``cum_event, cum_censor`` (running totals from time 0 up to and including each time).
        Times are sorted (as R does). ``survival`` and the limits are those of the last row at or before the time
        (1 before the first row); ``n_risk`` is the number at risk at the first row at or after the time (the
        subjects still under observation at that time; 0 beyond the last follow-up); ``n_event``/``n_censor``
        count what happened since the previous requested time (the first interval starts at 0).
        """
        t = self._times_arg(times)
        cols: dict[str, list] = {k: [] for k in _AT_COLUMNS}
        for j in range(len(self.groups)):
            for key, values in self._at_group(j, t).items():
                cols[key].append(values)
        out = {"group": self._group_column(np.full(len(self.groups), t.size))}
        out.update({k: np.concatenate(v) for k, v in cols.items()})
        return pd.DataFrame(out)

    @staticmethod
    def _times_arg(times: float | Iterable[float]) -> np.ndarray:
        t = np.atleast_1d(np.asarray(times, dtype=float))
        if t.size == 0 or not np.isfinite(t).all() or (t < 0).any():
            raise InputError(f"times must be finite and >= 0, got {times!r}")
        return np.sort(t)

    def _at_group(self, j: int, t: np.ndarray) -> dict[str, np.ndarray]:
        r = self._rows(j)
        tm = self.time[r]
        # R summary works on survfit0(fit): a row at time 0 with S = 1 is added unless the curve starts at 0
        add = tm[0] != 0.0
        pre = (lambda a, v: np.concatenate(([v], a))) if add else (lambda a, v: a)
        tm = pre(tm, 0.0)
        i1 = np.searchsorted(tm, t, side="right") - 1  # last row <= t (tm[0] = 0 <= t)
        i2 = np.searchsorted(tm, t, side="left")  # first row >= t
        n_risk = np.concatenate((pre(self.n_risk[r], self.n_risk[r][0]), [0.0]))[i2]
        cum_ev = np.cumsum(pre(self.n_event[r], 0.0))[i1]
        cum_ce = np.cumsum(pre(self.n_censor[r], 0.0))[i1]
        return {
            "time": t,
            "n_risk": n_risk,
            "n_event": np.diff(cum_ev, prepend=0.0),
            "n_censor": np.diff(cum_ce, prepend=0.0),
            "survival": pre(self.survival[r], 1.0)[i1],
            "std_err": pre(self.std_err[r], 0.0)[i1],
            "lower": pre(self.lower[r], 1.0)[i1],
            "upper": pre(self.upper[r], 1.0)[i1],
            "cumhaz": pre(self.cumhaz[r], 0.0)[i1],
            "cumhaz_se": pre(self.cumhaz_se[r], 0.0)[i1],
            "cum_event": cum_ev,
            "cum_censor": cum_ce,
        }

    def rmst(self, tau: float | Iterable[float]) -> pd.DataFrame:
        """Restricted mean survival time up to ``tau``: ``group, tau, rmst, std_err, lower, upper``.

        ``rmst`` and ``std_err`` are R's ``print(fit, rmean=tau)`` (``*rmean``, ``*se(rmean)``): the area under the
        curve from 0 to ``tau`` (the last value carried forward beyond the last row) and the Greenwood-type
        variance ``sum_j A_j^2 d_j / (n_j (n_j - d_j))`` with ``A_j`` the area from ``t_j`` to ``tau``. R prints no
        interval; ``lower``/``upper`` here are the normal (Wald) limits ``rmst -/+ z * std_err`` at ``conf_level``.
        A ``tau`` before the first time of the fit (all groups) is an error, as in R.
        """
        taus = np.atleast_1d(np.asarray(tau, dtype=float))
        if taus.size == 0 or not np.isfinite(taus).all():
            raise InputError(f"tau must be finite, got {tau!r}")
        first = float(self.time.min())
        if (taus < first).any():
            raise InputError(
                f"tau={taus[taus < first][0]:g} is before the first time of the curves ({first:g}): R stops here "
                "too ('Truncation point for the mean is < smallest survival')"
            )
        z = _common.z_value(self.options["conf_level"])
        rows = []
        for j in range(len(self.groups)):
            for tv in taus:
                area, var = self._rmst_one(j, tv)
                rows.append((self.groups[j], tv, area, np.sqrt(var)))
        df = pd.DataFrame(rows, columns=["group", "tau", "rmst", "std_err"])
        df["lower"] = df["rmst"] - z * df["std_err"]
        df["upper"] = df["rmst"] + z * df["std_err"]
        return df

    def _rmst_one(self, j: int, tau: float) -> tuple[float, float]:
        """Area under group ``j``'s curve from 0 to ``tau`` and its variance (R ``survival:::survmean``)."""
        r = self._rows(j)
        tm, s, nr, ne = self.time[r], self.survival[r], self.n_risk[r], self.n_event[r]
        keep = tm <= tau
        nr, ne = nr[keep], ne[keep]
        nd = nr - ne
        hh = np.divide(ne, nr * nd, out=np.zeros(nr.shape), where=nd != 0)
        grid = np.concatenate(([0.0], tm[keep], [tau]))
        height = np.concatenate(([1.0], s[keep]))
        rect = np.diff(grid) * height  # rectangle i spans grid[i]..grid[i+1]
        area_after = np.cumsum(rect[::-1])[::-1]  # area from grid[i] to tau
        return float(rect.sum()), float(np.sum(area_after[1:] ** 2 * hh))

    def _repr_html_(self) -> str:
        return self.medians.to_html(index=False)


_AT_COLUMNS = (
    "time",
    "n_risk",
    "n_event",
    "n_censor",
    "survival",
    "std_err",
    "lower",
    "upper",
    "cumhaz",
    "cumhaz_se",
    "cum_event",
    "cum_censor",
)


def kaplan_meier(
    data: Any,
    time: Any = None,
    event: Any = None,
    by: Any = None,
    conf_type: str | None = None,
    conf_level: float = 0.95,
    entry: Any = None,
    weights: Any = None,
    *,
    profile: str | None = None,
) -> KaplanMeier:
    """Kaplan-Meier survival curves with Greenwood standard errors, pointwise CIs and Nelson-Aalen hazard.

    Parameters
    ----------
    data : DataFrame, EventCounts or None
        Source of the columns named by ``time``, ``event``, ``by``, ``entry``, ``weights``; ``None`` when arrays are
        passed directly. With :class:`EventCounts` (from :func:`cart_outcomes.engine.event_counts`) the columns are
        those the counts were made with (curves by their ``by``, pooled over their strata) and the result is the
        one the rows give.
    time : str or array-like
        Follow-up (exit) time, finite and >= 0.
    event : str or array-like
        1/True = event, 0/False = censored.
    by : str or array-like, optional
        Grouping column: one curve per level, as R's ``survfit(... ~ by)``: in the declared order of a pandas
        Categorical (as R's factor levels; unused levels dropped), else the sorted labels.
    conf_type : {"log-log", "log", "plain"}, optional
        Transform of the pointwise CI. Default "log-log" (SAS PROC LIFETEST, lifelines); R's default is "log"
        (``profile="R"``). "plain" is clipped to [0, 1] as R does.
    conf_level : float
        Confidence level, default 0.95.
    entry : str or array-like, optional
        Entry (start) time for left truncation / counting-process data, R ``Surv(entry, time, event)`` with
        ``(entry, time]`` risk sets: a subject entering at t is not at risk at t. ``entry < time`` is required.
    weights : str or array-like, optional
        Case weights (finite, >= 0), as ``survfit(weights=)``. With integer weights the Greenwood variance uses the
        weighted counts (R's behaviour); with any non-integer weight R switches to the infinitesimal-jackknife
        (robust) variance, and so does this function (``options["variance"]`` says which).
    profile : {"R", "SAS", "lifelines", "Prism"}, optional
        Named default for ``conf_type`` ("R" -> "log", the others -> "log-log").

    Returns
    -------
    KaplanMeier
        ``.table`` (group, time, n_risk, n_event, n_censor, survival, std_err, lower, upper, cumhaz, cumhaz_se),
        ``.medians``, ``.quantile(probs)``, ``.at(times)``, ``.rmst(tau)``, ``.groups``, ``.options``.

    Notes
    -----
    Algorithm:

    1. One counting pass (:func:`cart_outcomes.stats._events.event_table`): events ``d``, censorings and the risk set
       ``n`` (weighted) at each distinct exit time, per group.
    2. ``S(t) = prod (1 - d/n)``; Greenwood ``var(log S) = sum d / (n (n - d))`` (infinite once S reaches 0, where
       ``std_err`` is NaN as R's ``summary``); ``std_err = S * sqrt(var(log S))``.
    3. Nelson-Aalen ``H(t) = sum d/n`` with ``var = sum d/n^2`` (R ``ctype=1``, ``std.chaz``).
    4. Limits as ``survival:::survfit_confint``: log ``S exp(+-z se)`` (upper capped at 1, NA at S = 0); log-log
       ``S^exp(+-z se / log S)`` (NA at S = 0 and S = 1); plain ``S +- z std_err`` clipped to [0, 1].

    Equivalent R call::

        survfit(Surv(time, event) ~ by, data, weights = w, conf.type = "log-log", conf.int = 0.95)
    """
    if isinstance(data, EventCounts):
        cols = data.arguments("kaplan_meier", time=time, event=event, by=by, entry=entry, weights=weights)
        fit = kaplan_meier(data.frame, **cols, conf_type=conf_type, conf_level=conf_level, profile=profile)
        return data.relabel(fit, n=data.rows_per_group(fit.groups))
    conf_type = _resolve_conf(conf_type, profile, conf_level)
    frame = _inputs.as_frame(data)
    # integer days without entry or weights: the counting pass checks the time and event columns on its way
    te = _inputs.time_event(frame, time, event, defer=entry is None and weights is None)
    t, ev, t_label = te.time, te.event, te.time_label
    if by is None:
        codes, levels = None, [_ALL]
    else:
        try:
            g_raw, g_label = _inputs.column(frame, by, "by", categorical=True)
            # small-range integer labels are their own codes (no hashing pass); _fit drops the empty levels
            codes, levels = _inputs.groups(g_raw, g_label, t.size, direct_codes=_DIRECT_CODES, guess=not te.checked)
        except InputError:
            te.check()  # the time and event columns' own errors come first, as they are checked first
            raise
    if not te.checked:
        try:
            return _fit(t, ev, codes, levels, None, None, conf_type, float(conf_level), profile, checked=False)
        except Unchecked:  # a bad value or a guessed group range: check and code the columns in full
            te = te.check()
            t, ev = te.time, te.event
            if by is not None:
                codes, levels = _inputs.groups(g_raw, g_label, t.size, direct_codes=_DIRECT_CODES)
    start = None
    if entry is not None:
        s_raw, s_label = _inputs.column(frame, entry, "entry")
        start = _inputs.times(s_raw, s_label, n=t.size)
        bad = start >= t
        if bad.any():
            raise InputError(
                f"column {s_label!r}: entry must be < {t_label!r} ((start, stop] intervals, as R Surv); "
                f"entry >= exit in {_inputs.rows(bad)}"
            )
    w = None
    if weights is not None:
        w_raw, w_label = _inputs.column(frame, weights, "weights")
        w = _inputs.weights(w_raw, w_label, t.size)
    return _fit(t, ev, codes, levels, start, w, conf_type, float(conf_level), profile)


def _fit(
    t: np.ndarray,
    ev: np.ndarray,
    codes: np.ndarray | None,
    levels: list,
    start: np.ndarray | None,
    w: np.ndarray | None,
    conf_type: str,
    conf_level: float,
    profile: str | None,
    checked: bool = True,
) -> KaplanMeier:
    k = len(levels)
    if k > 1 and start is None and w is None and continuous(t):
        return _fit_sorted_groups(t, ev, codes, levels, conf_type, conf_level, profile)
    tab = event_table(t, ev, codes, k, entry=start, weights=w, checked=checked)
    n_weighted = tab.n
    if k == 1:
        n, d, c = tab.n_risk[:, 0], tab.n_event[:, 0], tab.n_censor[:, 0]
    else:
        n, d, c = tab.n_risk, tab.n_event, tab.n_censor
    q = d / n if k == 1 and w is None else _div(d, n)  # one group: every grid time is an exit, so n > 0
    surv = np.cumprod(1.0 - q, axis=0)
    robust = w is not None and bool(np.any(w != np.floor(w)))
    if robust:
        std_err, ij_cumhaz_var = _ij_variance(tab, t, ev, codes, start, w, surv.reshape(d.shape[0], k))
        std_err = std_err.reshape(surv.shape)
        ij_cumhaz_var = ij_cumhaz_var.reshape(surv.shape)
        se_log = np.divide(std_err, surv, out=np.full(surv.shape, np.inf), where=surv > 0)
        se_log[std_err == 0] = 0.0  # R: ifelse(se == 0, 0, se / p)
    else:
        se_log, std_err = _greenwood(surv, n, d)
    if k == 1:
        offsets = np.array([0, d.shape[0]])
        time = tab.time
        records = np.array([t.size])
    else:
        present = _present(tab, t, codes, k) if w is not None else (d + c) > 0
        records = np.bincount(codes, minlength=k) if w is not None else tab.n.astype(np.intp)
        used = records > 0  # levels without rows (direct integer codes) are dropped, as R drops empty levels
        if not used.all():
            levels = [lev for lev, u in zip(levels, used, strict=True) if u]
            records, n_weighted = records[used], tab.n[used]
        mask = present.T[used] if not used.all() else present.T
        offsets = np.concatenate(([0], np.cumsum(mask.sum(axis=1))))
        time = np.broadcast_to(tab.time, mask.shape)[mask]
        n, d, c, surv, se_log, std_err = (_rows_of(a, used, mask) for a in (n, d, c, surv, se_log, std_err))
        if robust:
            ij_cumhaz_var = _rows_of(ij_cumhaz_var, used, mask)
    options = _options(conf_type, conf_level, profile, robust, start is not None, w is not None)
    return KaplanMeier(
        groups=tuple(levels),
        options=options,
        n=records,
        n_weighted=n_weighted,
        offsets=offsets,
        time=time,
        n_risk=n,
        n_event=d,
        n_censor=c,
        survival=surv,
        std_err=std_err,
        _se_log=se_log,
        _cache={"cumhaz_var": ij_cumhaz_var} if robust else {},
    )


def _greenwood(surv: np.ndarray, n: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Greenwood ``(se of log S, se of S)`` along axis 0: infinite / NaN once S reaches 0, as R."""
    nd = n - d
    den = n * nd
    if den.min() > 0:
        se_log = np.sqrt(np.cumsum(d / den, axis=0))
        return se_log, surv * se_log
    gw = np.divide(d, den, out=np.zeros(d.shape), where=den > 0)
    gw[(nd <= 0) & (d > 0)] = np.inf  # S reaches 0: Greenwood is infinite from there on (R)
    se_log = np.sqrt(np.cumsum(gw, axis=0))
    return se_log, np.multiply(surv, se_log, out=np.full(d.shape, np.nan), where=np.isfinite(se_log))


def _options(
    conf_type: str, conf_level: float, profile: str | None, robust: bool, entry: bool, weights: bool
) -> Mapping[str, Any]:
    return _common.options(
        conf_type=conf_type,
        conf_level=conf_level,
        profile=profile,
        variance="infinitesimal-jackknife" if robust else "greenwood",
        cumhaz="nelson-aalen (R ctype=1)",
        median_rule="first time S <= 0.5; midpoint of a flat S = 0.5 stretch (tolerance sqrt(eps)), as R",
        entry=entry,
        weights=weights,
        r_equivalent=f'survfit(Surv(time, event) ~ by, conf.type = "{conf_type}", conf.int = {conf_level:g})',
    )


def _fit_sorted_groups(
    t: np.ndarray,
    ev: np.ndarray,
    codes: np.ndarray,
    levels: list,
    conf_type: str,
    conf_level: float,
    profile: str | None,
) -> KaplanMeier:
    """Unweighted curves by group on continuous times: each group's times sorted on their own (value sorts, no
    (times x groups) grid), then S and Greenwood written straight into the result's columns, so the peak memory is
    the result plus one group's work arrays. Same arithmetic, so the same numbers, as the grid path."""
    parts: dict[str, list] = {key: [] for key in ("time", "n_risk", "n_event", "n_censor")}
    kept, records = [], []
    for j, level in enumerate(levels):
        sel = codes == j
        size = int(np.count_nonzero(sel))
        if size == 0:  # direct integer codes: a level without rows is dropped, as R drops empty levels
            continue
        tab = _one_group_sorted(t[sel], ev[sel])
        del sel
        # n_risk kept as the grid path keeps unweighted counts (int64): both paths give identical results
        parts["time"].append(tab.time)
        parts["n_risk"].append(tab.n_risk[:, 0].astype(np.int64))
        parts["n_event"].append(tab.n_event[:, 0])
        parts["n_censor"].append(tab.n_censor[:, 0])
        del tab  # nothing else may hold a group's arrays: the parts are freed column by column below
        kept.append(level)
        records.append(size)
    offsets = np.concatenate(([0], np.cumsum([a.size for a in parts["time"]])))
    cols = {}
    for key, chunks in parts.items():  # one column at a time, its parts freed as it is built
        cols[key] = np.concatenate(chunks) if len(chunks) > 1 else chunks[0]
        chunks.clear()
    n, d = cols["n_risk"], cols["n_event"]
    surv, se_log, std_err = np.empty(n.size), np.empty(n.size), np.empty(n.size)
    for a, b in zip(offsets[:-1], offsets[1:], strict=True):
        r = slice(int(a), int(b))
        s = surv[r]
        np.divide(d[r], n[r], out=s)  # S = cumprod(1 - d/n), in place
        np.subtract(1.0, s, out=s)
        np.cumprod(s, out=s)
        g = se_log[r]  # n (n - d), then d / (n (n - d)), cumulated: in place, as _greenwood computes it
        np.subtract(n[r], d[r], out=g)
        np.multiply(n[r], g, out=g)
        if g.min() > 0:
            np.divide(d[r], g, out=g)
            np.cumsum(g, out=g)
            np.sqrt(g, out=g)
            np.multiply(s, g, out=std_err[r])
        else:
            se_log[r], std_err[r] = _greenwood(s, n[r].astype(float), d[r])
    n_records = np.array(records, dtype=np.intp)
    return KaplanMeier(
        groups=tuple(kept),
        options=_options(conf_type, conf_level, profile, False, False, False),
        n=n_records,
        n_weighted=n_records.astype(float),
        offsets=offsets,
        time=cols["time"],
        n_risk=n,
        n_event=d,
        n_censor=cols["n_censor"],
        survival=surv,
        std_err=std_err,
        _se_log=se_log,
    )


def _rows_of(a: np.ndarray, used: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The (group, time) rows of an (m, k) array: groups ``used``, times ``mask`` (k_used, m)."""
    return (a.T if used.all() else a.T[used])[mask]


def _present(tab: Any, t: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    """(m, k) rows present per group counting zero-weight rows too (R lists their times)."""
    idx = np.searchsorted(tab.time, t)
    return np.bincount(idx * k + codes, minlength=tab.time.size * k).reshape(-1, k) > 0


def _ij_variance(
    tab: Any,
    t: np.ndarray,
    ev: np.ndarray,
    codes: np.ndarray | None,
    start: np.ndarray | None,
    w: np.ndarray,
    surv: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Infinitesimal-jackknife SE of S and variance of H, as R survfit with non-integer case weights.

    The influence of subject i on S(t) is ``-S(t) C_i(t)`` with ``C_i(t) = sum_{s<=t} (dN_i(s) - Y_i(s) d/n) /
    (n - d)``, on H(t) it is ``sum_{s<=t} (dN_i(s) - Y_i(s) d/n) / n``; the variance is ``sum_i w_i^2 U_i^2``.
    For subject i with interval ``(e_i, t_i]`` and ``H_h`` the running sum of ``h``, ``C_i(t) = -(H_h(t) -
    H_h(e_i))`` while ``t < t_i`` and ``delta_i g(t_i) - (H_h(t_i) - H_h(e_i))`` afterwards, so the sum over
    subjects is a few cumulative sums over the grid: O(n + m k).
    """
    n, d = tab.n_risk, tab.n_event
    m, k = d.shape
    g = np.zeros(t.size, dtype=np.intp) if codes is None else codes
    exit_idx = np.searchsorted(tab.time, t)
    # index of the last grid time <= entry (-1: before the grid)
    entry_idx = np.full(t.size, -1) if start is None else np.searchsorted(tab.time, start, side="right") - 1
    w2 = w * w
    alive = n > d
    pos = n > 0
    out = []
    # KM: g = 1/(n - d), h = d/(n (n - d)); Nelson-Aalen: g = 1/n, h = d/n^2
    for g_step in (
        np.divide(1.0, n - d, out=np.zeros(d.shape), where=alive),
        np.divide(1.0, n, out=np.zeros(d.shape), where=pos),
    ):
        hcum = np.cumsum(d * g_step / np.where(pos, n, 1.0), axis=0)
        hcum0 = np.vstack((np.zeros((1, k)), hcum))  # hcum0[i + 1] = H_h at grid index i; hcum0[0] = 0
        he = hcum0[entry_idx + 1, g]
        ci = ev * g_step[exit_idx, g] - (hcum[exit_idx, g] - he)
        # subjects already out (t_i <= t): constant C_i^2
        var = np.cumsum(_cell_sum(exit_idx, g, w2 * ci * ci, m, k), axis=0)
        # subjects in the risk set after t (e_i < t < t_i): (H(t) - H(e_i))^2, via sums of w2, w2 He, w2 He^2
        for power, coef in ((0, hcum * hcum), (1, -2.0 * hcum), (2, 1.0)):
            v = w2 * he**power
            entered = np.cumsum(_cell_sum(entry_idx + 1, g, v, m + 1, k), axis=0)[:m]
            left = np.cumsum(_cell_sum(exit_idx, g, v, m, k), axis=0)
            var = var + coef * (entered - left)
        out.append(np.maximum(var, 0.0))
    # rows without events leave the variance unchanged: carry it forward exactly, as R's recursion does
    rows = np.where(d > 0, np.arange(m)[:, None], -1)
    last = np.maximum.accumulate(rows, axis=0)
    cols = np.broadcast_to(np.arange(k), (m, k))
    out = [np.where(last >= 0, v[np.maximum(last, 0), cols], 0.0) for v in out]
    std_err = np.where(surv > 0, surv * np.sqrt(out[0]), 0.0)
    return std_err, out[1]


def _cell_sum(idx: np.ndarray, g: np.ndarray, v: np.ndarray, m: int, k: int) -> np.ndarray:
    return np.bincount(idx * k + g, weights=v, minlength=m * k).reshape(m, k)


@dataclass(frozen=True, slots=True)
class RMSTComparison(Result):
    """Result of :func:`compare_rmst` (survRM2 ``rmst2`` without covariates).

    Attributes
    ----------
    tau : the truncation time used; ``tau_rule`` says whether it was given or the survRM2 default.
    group, reference : the compared level ("arm 1") and the reference level ("arm 0").
    arms : one row per arm (reference first): ``group, rmst, std_err, lower, upper, rmtl, rmtl_lower, rmtl_upper``
        (survRM2 ``RMST.arm0/arm1$result``; the RMTL has the same standard error).
    """

    tau: float
    tau_rule: str
    group: Any
    reference: Any
    conf_level: float
    arms: pd.DataFrame
    _contrasts: np.ndarray
    options: Mapping[str, Any]

    @property
    def table(self) -> pd.DataFrame:
        """Three rows, ``contrast`` in ``rmst_difference`` (group - reference), ``rmst_ratio``, ``rmtl_ratio``
        (group / reference): ``contrast, estimate, lower, upper, p_value`` (survRM2 ``unadjusted.result``)."""
        return pd.DataFrame(
            {
                "contrast": ["rmst_difference", "rmst_ratio", "rmtl_ratio"],
                "estimate": self._contrasts[:, 0],
                "lower": self._contrasts[:, 1],
                "upper": self._contrasts[:, 2],
                "p_value": self._contrasts[:, 3],
            }
        )


def _rmst2_tau(t: np.ndarray, ev: np.ndarray, arm: np.ndarray, tau: float | None) -> tuple[float, str]:
    """survRM2's rule: tau may reach the larger of the two arms' last times when the arm with the shorter last time
    ends on an event, else only the smaller one (the default is that limit)."""
    last = []
    for j in (0, 1):
        tj, ej = t[arm == j], ev[arm == j]
        tmax = float(tj.max())
        last.append((tmax, bool(ej[tj == tmax].all())))  # survRM2: min(status at the max time) == 1
    (t0, e0), (t1, e1) = last
    # survRM2's cases 1 and 2 (the arm whose follow-up ends first ends on an event) allow the larger time
    larger = (e0 and e1) or (not e0 and e1 and t0 >= t1) or (e0 and not e1 and t1 > t0)
    limit = max(t0, t1) if larger else min(t0, t1)
    if tau is None:
        return limit, "default (survRM2: largest time both arms reach with a defined curve)"
    tau = float(tau)
    if not math.isfinite(tau) or tau <= 0:
        raise InputError(f"tau must be finite and > 0, got {tau!r}")
    if tau > limit:
        raise InputError(
            f"tau={tau:g} is beyond {limit:g}, the largest truncation time survRM2 allows for these data (the curve "
            "of one arm is not defined beyond its last follow-up)"
        )
    return tau, "given"


def compare_rmst(
    data: Any,
    time: Any,
    event: Any,
    by: Any,
    tau: float | None = None,
    reference: Any = None,
    conf_level: float = 0.95,
) -> RMSTComparison:
    """Two-group comparison of restricted mean survival time: difference, ratio and ratio of mean time lost.

    Parameters
    ----------
    data, time, event : as :func:`kaplan_meier`.
    by : grouping column with exactly two levels (level order as :func:`kaplan_meier`).
    tau : truncation time; default survRM2's (the larger last time of the two arms when the arm whose follow-up
        ends first ends on an event, else the smaller one); a larger ``tau`` is an error, as in survRM2.
    reference : the level in the denominator / subtracted ("arm 0"; default the first level).
    conf_level : level of the normal (Wald) intervals (survRM2 ``alpha = 1 - conf_level``).

    Returns
    -------
    RMSTComparison
        ``table`` (contrasts with CI and p-value), ``arms`` (RMST and RMTL per arm), ``tau``, ``options``.

    Notes
    -----
    survRM2's formulas (Uno et al., J Clin Oncol 2014), per arm from the Kaplan-Meier curve: ``RMST`` = area
    under S from 0 to tau, ``var`` = ``sum A_j^2 d_j / (n_j (n_j - d_j))`` (as R ``print(fit, rmean = tau)``),
    ``RMTL = tau - RMST`` with the same variance. Difference ``RMST_1 - RMST_0`` with ``se = sqrt(v_1 + v_0)``;
    ratios on the log scale with ``se = sqrt(v_1 / RMST_1^2 + v_0 / RMST_0^2)`` (RMTL alike); intervals
    ``est -/+ z se`` (exponentiated for ratios); two-sided p ``2 Phi(-|est| / se)`` (log scale for ratios).

    Equivalent R call::

        survRM2::rmst2(time, status, arm, tau = NULL, alpha = 0.05)$unadjusted.result
    """
    level = _common.check_level(conf_level)
    frame = _inputs.as_frame(data)
    t_raw, t_label = _inputs.column(frame, time, "time")
    t = _inputs.times(t_raw, t_label)
    e_raw, e_label = _inputs.column(frame, event, "event")
    ev = _inputs.events(e_raw, e_label, t.size)
    g_raw, g_label = _inputs.column(frame, by, "by", categorical=True)
    codes, levels = _inputs.groups(g_raw, g_label, t.size, min_levels=2)
    if len(levels) != 2:
        raise InputError(f"compare_rmst compares exactly two groups; column {g_label!r} has {len(levels)}: {levels}")
    if reference is None:
        ref = 0
    elif reference in levels:
        ref = levels.index(reference)
    else:
        raise InputError(f"reference={reference!r} is not a level of column {g_label!r} ({levels})")
    arm = codes if ref == 0 else 1 - codes  # 1 = the compared group, as survRM2's arm
    tau_used, rule = _rmst2_tau(t, ev, arm, tau)
    fit = _fit(t, ev, codes, levels, None, None, "log", level, None)
    z = _common.z_value(level)
    rm, var = np.empty(2), np.empty(2)
    for a, j in ((0, ref), (1, 1 - ref)):
        rm[a], var[a] = fit._rmst_one(j, tau_used)
    se = np.sqrt(var)
    rmtl = tau_used - rm
    arms = pd.DataFrame(
        {
            "group": [levels[ref], levels[1 - ref]],
            "rmst": rm,
            "std_err": se,
            "lower": rm - z * se,
            "upper": rm + z * se,
            "rmtl": rmtl,
            "rmtl_lower": tau_used - (rm + z * se),
            "rmtl_upper": tau_used - (rm - z * se),
        }
    )
    contrasts = np.array(
        [
            _wald(rm[1] - rm[0], math.sqrt(var[1] + var[0]), z, log=False),
            _wald(math.log(rm[1]) - math.log(rm[0]), math.sqrt(var[1] / rm[1] ** 2 + var[0] / rm[0] ** 2), z, True),
            _wald(
                _log(rmtl[1]) - _log(rmtl[0]),
                math.sqrt(var[1] / rmtl[1] ** 2 + var[0] / rmtl[0] ** 2) if (rmtl > 0).all() else math.nan,
                z,
                log=True,
            ),
        ]
    )
    contrasts.flags.writeable = False
    return RMSTComparison(
        tau=tau_used,
        tau_rule=rule,
        group=levels[1 - ref],
        reference=levels[ref],
        conf_level=level,
        arms=arms,
        _contrasts=contrasts,
        options=_common.options(
            conf_level=level,
            tau=tau_used,
            tau_rule=rule,
            variance="Greenwood plug-in (survRM2)",
            columns={"time": t_label, "event": e_label, "by": g_label},
            r_equivalent="survRM2::rmst2(time, status, arm, tau)$unadjusted.result",
        ),
    )


def _log(x: float) -> float:
    return math.log(x) if x > 0 else -math.inf if x == 0 else math.nan


def _wald(est: float, se: float, z: float, log: bool) -> tuple[float, float, float, float]:
    """(estimate, lower, upper, two-sided p) of a normal estimate; ``log``: on the log scale, exponentiated."""
    p = math.erfc(abs(est / se) / math.sqrt(2.0)) if se > 0 else math.nan
    lo, up = est - z * se, est + z * se
    if log:
        return math.exp(est), math.exp(lo), math.exp(up), p
    return est, lo, up, p


@dataclass(frozen=True, slots=True, eq=False)
class ReverseKMFollowup(Result):
    """Result of :func:`reverse_km_followup`.

    ``table`` columns: ``group, n, median_followup, lower, upper`` (reverse Kaplan-Meier median and its CI),
    ``median_observed, q1_observed, q3_observed, min_observed, max_observed`` (plain summaries of everyone's
    observation time, events included) and ``median_censored`` (plain median among censored patients only).
    ``reverse_km`` is the reverse Kaplan-Meier fit itself.
    """

    _table: pd.DataFrame = field(repr=False)
    reverse_km: KaplanMeier
    options: Mapping[str, Any]

    @property
    def table(self) -> pd.DataFrame:
        """One row per group (a copy: the result itself never changes)."""
        return self._table.copy()

    def to_frame(self) -> pd.DataFrame:
        """The ``table``."""
        return self.table


def reverse_km_followup(
    data: Any,
    time: Any,
    event: Any,
    by: Any = None,
    *,
    conf_type: str | None = None,
    conf_level: float = 0.95,
    profile: str | None = None,
) -> ReverseKMFollowup:
    """Median follow-up by the reverse Kaplan-Meier method, with plain summaries of observation time.

    The reverse KM treats censoring as the event and events as censoring (Schemper & Smith, Control Clin Trials
    1996); its median (R ``print`` rule) and CI are the "median follow-up". The plain median, quartiles (numpy
    default = R ``quantile`` type 7) and range of everyone's observation time, and the median among censored
    patients, are reported beside it, each labelled as what it is.

    Parameters
    ----------
    data, time, event, by : as :func:`kaplan_meier`.
    conf_type, conf_level, profile : as :func:`kaplan_meier` (default "log-log"; R's default is "log").

    Returns
    -------
    ReverseKMFollowup
        ``.table`` (one row per group), ``.reverse_km`` (the fit), ``.options``.

    Equivalent R call::

        survfit(Surv(time, 1 - event) ~ by, data, conf.type = "log-log")   # print() gives the median and CI
    """
    conf = _resolve_conf(conf_type, profile, conf_level)
    frame = _inputs.as_frame(data)
    t_raw, t_label = _inputs.column(frame, time, "time")
    t = _inputs.times(t_raw, t_label)
    e_raw, e_label = _inputs.column(frame, event, "event")
    ev = _inputs.events(e_raw, e_label, t.size)
    if by is None:
        codes, levels = np.zeros(t.size, dtype=np.intp), [_ALL]
    else:
        g_raw, g_label = _inputs.column(frame, by, "by", categorical=True)
        codes, levels = _inputs.groups(g_raw, g_label, t.size)
    fit = _fit(t, ~ev, None if by is None else codes, levels, None, None, conf, float(conf_level), profile)
    med = fit.medians
    rows = []
    for j in range(len(fit.groups)):
        tj = t[codes == j]
        cens = tj[~ev[codes == j]]
        q1, q2, q3 = np.quantile(tj, [0.25, 0.5, 0.75])
        rows.append((q2, q1, q3, tj.min(), tj.max(), np.median(cens) if cens.size else np.nan))
    extra = pd.DataFrame(
        rows,
        columns=["median_observed", "q1_observed", "q3_observed", "min_observed", "max_observed", "median_censored"],
    )
    table = pd.concat(
        [
            med[["group", "n"]],
            med[["median", "lower", "upper"]].set_axis(["median_followup", "lower", "upper"], axis=1),
            extra,
        ],
        axis=1,
    )
    options = _common.options(**{
        **fit.options,
        "method": "reverse Kaplan-Meier (censoring as the event), median by the R print.survfit rule",
        "observed": "plain median, quartiles (numpy/R type 7) and range of all observation times",
        "r_equivalent": "survfit(Surv(time, 1 - event) ~ by) (reverse Kaplan-Meier); summary(time)",
    })
    return ReverseKMFollowup(_table=table, reverse_km=fit, options=options)


def at_risk_table(km_result: KaplanMeier, times: float | Iterable[float], *, cumulative: bool = True) -> pd.DataFrame:
    """Numbers at risk at plot ticks, as data: R ``summary(fit, times=)$n.risk``.

    ``n_risk`` at a tick t counts the subjects still under observation at t (time >= t; with ``entry``, R's
    next-row risk set), so a patient who dies or is censored exactly on a tick day is still counted at that tick
    (survey D.8). Beyond the last follow-up it is 0.

    Parameters
    ----------
    km_result : KaplanMeier
    times : tick times (>= 0); sorted in the output.
    cumulative : also return ``cum_event`` and ``cum_censor``, the (weighted) numbers of events and censorings
        at or before each tick.

    Returns
    -------
    DataFrame with ``group, time, n_risk`` (+ ``cum_event, cum_censor``).

    Equivalent R call::

        s <- summary(fit, times = ticks, extend = TRUE); s$n.risk; cumsum(s$n.event)  # per stratum
    """
    cols = ["group", "time", "n_risk"] + (["cum_event", "cum_censor"] if cumulative else [])
    return km_result.at(times)[cols]
