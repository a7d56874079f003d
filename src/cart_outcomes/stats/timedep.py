"""Time-dependent exposure: counting-process split, Mantel-Byar test, Simon-Makuch curves and landmark analysis.

These are the remedies for immortal-time (guarantee-time) bias, e.g. comparing patients who did and did not
receive a consolidative transplant that happens during follow-up (Giobbie-Hurder, Gelber & Regan, J Clin Oncol
2013;31:2963-2969). Written here because no Python library offers the Mantel-Byar test, Simon-Makuch curves or a
``tmerge`` equivalent with R's conventions; everything runs on R's ``(start, stop]`` risk sets via the shared
event table (``_events.event_table``).

Conventions (R ``survival::tmerge`` with ``tdc(exposure_time)``):

1. No exposure time (missing), or an exposure time at or after the end of follow-up: never exposed, one row
   ``(0, time]`` with ``exposed = 0``. In particular an exposure on the day of the event is *not* counted: the
   event belongs to the unexposed state (clinical-definitions 8.4, DECISION).
2. Exposure time 0: exposed from the start, one row ``(0, time]`` with ``exposed = 1``.
3. Otherwise two rows: ``(0, h]`` unexposed without event, ``(h, time]`` exposed carrying the event status.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import chdtrc

from cart_outcomes._result import Result
from cart_outcomes._version import __version__
from cart_outcomes.errors import InputError, StatisticalWarning
from cart_outcomes.stats import _inputs
from cart_outcomes.stats._events import event_table
from cart_outcomes.stats.cox import CoxResult, cox_ph
from cart_outcomes.stats.km import KaplanMeier, kaplan_meier
from cart_outcomes.stats.logrank import LogrankResult, logrank_test

__all__ = [
    "Landmark",
    "MantelByar",
    "SimonMakuch",
    "landmark",
    "mantel_byar",
    "simon_makuch",
    "split_at_exposure",
]

STATES = ("unexposed", "exposed")


# ----------------------------------------------------------------------------------------------------------------
# inputs and the counting-process split
# ----------------------------------------------------------------------------------------------------------------
def _exposure(frame: pd.DataFrame | None, spec: Any, n: int) -> tuple[np.ndarray, str]:
    """Exposure times as floats; missing = never exposed (NaN); negative or infinite values are errors."""
    v, lab = _inputs.column(frame, spec, "exposure_time")
    s = pd.Series(v)
    if len(s) != n:
        raise InputError(f"column {lab!r}: length {len(s)} differs from the time column ({n})")
    try:
        h = pd.to_numeric(s, errors="raise").to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"column {lab!r}: exposure times must be numeric (missing = never exposed)") from None
    bad = np.isinf(h)
    if bad.any():
        raise InputError(f"column {lab!r}: infinite exposure time in {_inputs.rows(bad)}")
    bad = h < 0
    if bad.any():
        raise InputError(f"column {lab!r}: negative exposure time in {_inputs.rows(bad)}; times must be >= 0")
    return h, lab


def _survival_input(data: Any, time: Any, event: Any) -> tuple[pd.DataFrame | None, np.ndarray, np.ndarray, str]:
    frame = _inputs.as_frame(data)
    tv, tlab = _inputs.column(frame, time, "time")
    t = _inputs.times(tv, tlab)
    ev, elab = _inputs.column(frame, event, "event")
    e = _inputs.events(ev, elab, t.size, name_missing=True)
    return frame, t, e, tlab


@dataclass(frozen=True, slots=True)
class _Split:
    row: np.ndarray
    start: np.ndarray
    stop: np.ndarray
    event: np.ndarray
    exposed: np.ndarray


def _split(t: np.ndarray, e: np.ndarray, h: np.ndarray, tlab: str) -> _Split:
    zero = t <= 0
    if zero.any():
        raise InputError(
            f"column {tlab!r}: follow-up time 0 in {_inputs.rows(zero)}; a counting-process row (0, 0] is empty "
            "(R: 'Stop time must be > start time')"
        )
    n = t.size
    valid = ~np.isnan(h)
    from_start = valid & (h == 0)
    cut = valid & (h > 0) & (h < t)
    rows = np.arange(n)
    # row 1 of everyone: (0, h] for split subjects, else (0, t]
    stop1 = np.where(cut, h, t)
    ev1 = np.where(cut, False, e)
    exp1 = from_start.astype(np.int8)
    ci = np.flatnonzero(cut)
    row = np.concatenate((rows, ci))
    start = np.concatenate((np.zeros(n), h[ci]))
    stop = np.concatenate((stop1, t[ci]))
    event = np.concatenate((ev1, e[ci]))
    exposed = np.concatenate((exp1, np.ones(ci.size, np.int8)))
    order = np.lexsort((start, row))
    return _Split(row[order], start[order], stop[order], event[order], exposed[order])


def split_at_exposure(
    data: Any,
    time: Any,
    event: Any,
    exposure_time: Any,
    id: Any = None,
) -> pd.DataFrame:
    """Split each subject's follow-up at the exposure time into ``(start, stop]`` rows (``survival::tmerge``).

    R equivalent::

        d2 <- tmerge(d, d, id = id, event = event(time, status))
        d2 <- tmerge(d2, d, id = id, exposed = tdc(exposure_time))

    Parameters
    ----------
    data : DataFrame (or mapping of columns), or None when the other arguments are arrays.
    time : follow-up time (> 0; a row (0, 0] would be empty).
    event : event indicator (0/1 or boolean).
    exposure_time : time of exposure (e.g. days from infusion to HSCT); missing = never exposed; must be >= 0.
    id : optional subject identifier column; copied to the output.

    Returns
    -------
    DataFrame
        One or two rows per subject, ordered by subject then start: ``row`` (the subject's position in ``data``),
        ``id`` (if given), ``start, stop, event, exposed`` (0/1) and every other column of ``data`` repeated.
        Conventions (as tmerge): exposure missing or at/after the end of follow-up -> never exposed (an exposure
        on the day of the event does not count); exposure at 0 -> exposed from the start.
    """
    frame, t, e, tlab = _survival_input(data, time, event)
    h, _ = _exposure(frame, exposure_time, t.size)
    sp = _split(t, e, h, tlab)
    out = {"row": sp.row}
    if id is not None:
        idv, idlab = _inputs.column(frame, id, "id")
        out[idlab] = np.asarray(idv)[sp.row]
    out.update({"start": sp.start, "stop": sp.stop, "event": sp.event.astype(np.int8), "exposed": sp.exposed})
    result = pd.DataFrame(out)
    if frame is not None:
        used = {c for c in (time, event, exposure_time, id) if isinstance(c, str)}
        rest = [c for c in frame.columns if c not in used and c not in result.columns]
        if rest:
            extra = frame[rest].iloc[sp.row].reset_index(drop=True)
            result = pd.concat([result, extra], axis=1)
    return result


# ----------------------------------------------------------------------------------------------------------------
# Mantel-Byar
# ----------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MantelByar(Result):
    """Mantel-Byar test: the log-rank test with patients switching state at their exposure time.

    Attributes
    ----------
    statistic : chi-square statistic (O_1 - E_1)^2 / V on 1 df; ``z`` the signed root (positive = more events in
        the exposed state than expected); ``p_value`` two-sided
        (the same name as in :class:`~cart_outcomes.stats.logrank.LogrankResult`).
    table : one row per state (``unexposed``, ``exposed``): ``state, n_subjects`` (ever in the state),
        ``observed, expected`` (events), ``o_minus_e``.
    variance : sum of the hypergeometric variances.
    times : per distinct event time: ``time, n_risk_unexposed, n_risk_exposed, n_event_unexposed,
        n_event_exposed, expected_exposed, variance``.
    """

    statistic: float
    df: int
    p_value: float
    z: float
    variance: float
    table: pd.DataFrame
    times: pd.DataFrame
    options: dict = field(default_factory=dict)


def mantel_byar(data: Any, time: Any, event: Any, exposure_time: Any) -> MantelByar:
    """Mantel-Byar test of a time-dependent exposure (Mantel & Byar, JASA 1974;69:81-86).

    R equivalent: the log-rank form is not in ``survival``; it equals the score test of
    ``coxph(Surv(start, stop, event) ~ exposed, data = split, ties = "breslow")`` when no two events share a time
    (``split`` from :func:`split_at_exposure` / ``tmerge``). With tied event times the two differ: this test uses
    the hypergeometric variance d (n1/n)(n0/n)(n-d)/(n-1) at each time, the Breslow score test the binomial-type
    d (n1/n)(n0/n), so the Breslow score statistic is smaller (and the Efron score test differs again).

    Parameters
    ----------
    data, time, event, exposure_time : as in :func:`split_at_exposure`.

    Returns
    -------
    MantelByar
        ``statistic, df, p_value, z, variance``, ``table`` (observed and expected events per state) and ``times``.

    Notes
    -----
    1. Split follow-up at the exposure time (tmerge conventions; an exposure on the event day counts as
       unexposed for that event).
    2. At each distinct event time t_j: n_0j, n_1j at risk in each current state ((start, stop] risk sets),
       d_j events, d_1j among the exposed.
    3. E_1j = d_j n_1j / n_j; V_j = d_j (n_1j/n_j)(n_0j/n_j)(n_j - d_j)/(n_j - 1), V_j = 0 when n_j = 1.
    4. Z = sum(d_1j - E_1j) / sqrt(sum V_j); chi-square = Z^2 on 1 df.
    Example (clinical-definitions 13.5): 5 patients, chi-square 0.0588, p 0.81.
    """
    frame, t, e, tlab = _survival_input(data, time, event)
    h, _ = _exposure(frame, exposure_time, t.size)
    sp = _split(t, e, h, tlab)
    tab = event_table(sp.stop, sp.event, sp.exposed, 2, entry=sp.start)
    has = tab.n_event.sum(axis=1) > 0
    nr, de = tab.n_risk[has], tab.n_event[has]
    n = nr.sum(axis=1)
    d = de.sum(axis=1)
    e1 = d * nr[:, 1] / n
    e0 = d * nr[:, 0] / n
    var = np.zeros_like(n)
    multi = n > 1
    nm = n[multi]
    var[multi] = d[multi] * nr[multi, 1] * nr[multi, 0] * (nm - d[multi]) / (nm**2 * (nm - 1))
    o1, ex1, v = float(de[:, 1].sum()), float(e1.sum()), float(var.sum())
    if v > 0:
        z = (o1 - ex1) / np.sqrt(v)
    else:
        z = np.nan
        warnings.warn(
            "mantel_byar: the variance is 0 (no event time with patients at risk in both states); no test",
            StatisticalWarning,
            stacklevel=2,
        )
    stat = z * z
    ever = np.array([np.count_nonzero(np.isnan(h) | (h > 0)), np.count_nonzero(~np.isnan(h) & (h < t))])
    table = pd.DataFrame(
        {
            "state": list(STATES),
            "n_subjects": ever,
            "observed": de.sum(axis=0),
            "expected": [float(e0.sum()), ex1],
        }
    )
    table["o_minus_e"] = table["observed"] - table["expected"]
    times = pd.DataFrame(
        {
            "time": tab.time[has],
            "n_risk_unexposed": nr[:, 0],
            "n_risk_exposed": nr[:, 1],
            "n_event_unexposed": de[:, 0],
            "n_event_exposed": de[:, 1],
            "expected_exposed": e1,
            "variance": var,
        }
    )
    options = {
        "method": "Mantel-Byar (log-rank with time-dependent state, hypergeometric variance)",
        "split": "tmerge conventions: exposure on the event day counts as unexposed; exposure at 0 = exposed",
        "r_equivalent": "coxph(Surv(start, stop, event) ~ exposed, ties='breslow') score test (equal without ties)",
        "version": __version__,
    }
    return MantelByar(float(stat), 1, float(chdtrc(1, stat)), float(z), v, table, times, options)


# ----------------------------------------------------------------------------------------------------------------
# Simon-Makuch
# ----------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SimonMakuch(Result):
    """Simon-Makuch curves: product-limit survival per current exposure state, the exposed state entered late.

    Attributes
    ----------
    table : one row per state x distinct exit time in that state (R ``survfit`` rows on the counting-process
        data): ``state, time, n_risk, n_event, n_censor, survival, std_err, lower, upper, displayed``.
        ``n_censor`` includes leaving the unexposed state at exposure; ``std_err`` is on the scale of S
        (R ``summary(fit)$std.err``); ``displayed`` is False where fewer than ``min_at_risk`` patients are at risk
        in the state (a plot should not draw those steps; the estimate is kept for completeness).
    km : the underlying :class:`~cart_outcomes.stats.km.KaplanMeier` fit (groups = states).
    split : the counting-process rows (:func:`split_at_exposure`).
    """

    table: pd.DataFrame
    km: KaplanMeier
    split: pd.DataFrame
    min_at_risk: int
    options: dict = field(default_factory=dict)

    def at_risk(self, times: float | Sequence[float]) -> pd.DataFrame:
        """Numbers at risk per state at ``times`` (``state, time, n_risk``): patients in that state and under
        observation at ``time``, i.e. (start, stop] rows with ``start < time <= stop`` (rows starting at 0 count
        at time 0).

        R's ``summary(fit, times=)$n.risk`` on the counting-process fit reports instead the risk set at the next
        exit time in the state, which also counts patients who enter the state before that exit (5 patients "at
        risk" in the exposed state at day 0, before anyone is exposed); a plot needs who is in the state at the tick.
        """
        t = np.atleast_1d(np.asarray(times, dtype=float))
        start, stop = self.split["start"].to_numpy(float), self.split["stop"].to_numpy(float)
        exposed = self.split["exposed"].to_numpy().astype(bool)
        inside = ((start[:, None] < t) | (start[:, None] == 0)) & (t <= stop[:, None])
        rows = [
            {"state": state, "time": float(tt), "n_risk": float(inside[mask, j].sum())}
            for state, mask in zip(STATES, (~exposed, exposed), strict=True)
            for j, tt in enumerate(t)
        ]
        return pd.DataFrame(rows, columns=["state", "time", "n_risk"])


def _order_states(frame: pd.DataFrame) -> pd.DataFrame:
    key = frame["state"].map({s: i for i, s in enumerate(STATES)})
    return frame.assign(_k=key).sort_values(["_k", "time"], kind="stable").drop(columns="_k").reset_index(drop=True)


def simon_makuch(
    data: Any,
    time: Any,
    event: Any,
    exposure_time: Any,
    min_at_risk: int = 3,
    *,
    conf_type: str | None = None,
    conf_level: float = 0.95,
    profile: str | None = None,
) -> SimonMakuch:
    """Simon-Makuch survival curves by current exposure state (Simon & Makuch, Stat Med 1984;3:35-44).

    R equivalent::

        split <- tmerge(...)                     # see split_at_exposure()
        survfit(Surv(tstart, tstop, event) ~ exposed, data = split)

    Parameters
    ----------
    data, time, event, exposure_time : as in :func:`split_at_exposure`.
    min_at_risk : steps with fewer patients at risk in a state are flagged ``displayed = False`` (the early
        exposed curve rests on very few patients; clinical-definitions 8.5 suggests >= 3).
    conf_type, conf_level, profile : passed to :func:`~cart_outcomes.stats.km.kaplan_meier` (same defaults;
        ``conf_type="log"`` or ``profile="R"`` for R's default).

    Returns
    -------
    SimonMakuch
        ``.table`` (state, time, n_risk, n_event, n_censor, survival, std_err, lower, upper, displayed),
        ``.at_risk(times)``, ``.km``, ``.split``.

    Notes
    -----
    1. Split follow-up at the exposure time (:func:`split_at_exposure`).
    2. Unexposed curve: every patient from 0, leaving (censored from the state) at exposure.
    3. Exposed curve: patients enter at their exposure time (left truncation, ``(start, stop]`` risk sets: a patient
       exposed at h is at risk for events after h).
    4. Product-limit estimate and Greenwood SE per state. The curves estimate survival for a patient who stays in
       the state; they are not survival curves of groups defined at baseline.
    """
    if not (isinstance(min_at_risk, int | np.integer) and min_at_risk >= 1):
        raise InputError(f"min_at_risk must be a positive integer, got {min_at_risk!r}")
    split = split_at_exposure(data, time, event, exposure_time)
    state = np.where(split["exposed"].to_numpy() == 1, STATES[1], STATES[0])
    km = kaplan_meier(
        None, split["stop"].to_numpy(), split["event"].to_numpy(), by=state, entry=split["start"].to_numpy(),
        conf_type=conf_type, conf_level=conf_level, profile=profile,
    )
    cols = ["group", "time", "n_risk", "n_event", "n_censor", "survival", "std_err", "lower", "upper"]
    table = km.table[cols].rename(columns={"group": "state"})
    table["displayed"] = table["n_risk"] >= min_at_risk
    options = dict(km.options)
    options.update({
        "method": "Simon-Makuch (product-limit by current state, delayed entry into the exposed state)",
        "min_at_risk": min_at_risk,
        "r_equivalent": "survfit(Surv(tstart, tstop, event) ~ exposed, data = tmerge split)",
        "version": __version__,
    })
    return SimonMakuch(_order_states(table), km, split, int(min_at_risk), options)


# ----------------------------------------------------------------------------------------------------------------
# Landmark
# ----------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Landmark(Result):
    """A landmark analysis: patients still under follow-up at the landmark, time re-zeroed there.

    Attributes
    ----------
    at : the landmark time (same unit as ``time``).
    data : the analysed rows: ``row`` (position in the input), ``time`` (time since the landmark), ``event``,
        ``group`` and the other input columns.
    excluded : ``row, reason`` for every input row left out (event or censoring at or before the landmark; with
        ``exposed_after="exclude"``, exposure after the landmark). ``n_excluded`` counts them per reason.
    km : :class:`~cart_outcomes.stats.km.KaplanMeier` from the landmark, by group.
    logrank : :class:`~cart_outcomes.stats.logrank.LogrankResult` comparing the groups from the landmark.
    cox : :class:`~cart_outcomes.stats.cox.CoxResult` of ``Surv(time, event) ~ exposed`` (exposure mode: HR of
        exposed vs unexposed) or ``~ group`` (first level = reference).
    ``logrank`` and ``cox`` are None when only one group remains at the landmark (``options["note"]`` says so).
    """

    at: float
    data: pd.DataFrame
    excluded: pd.DataFrame
    n_excluded: dict
    km: KaplanMeier
    logrank: LogrankResult | None
    cox: CoxResult | None
    options: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return self.data.copy()

    def _repr_html_(self) -> str:
        return self.data._repr_html_()


_EXPOSED_AFTER = ("unexposed", "exclude")


def landmark(
    data: Any,
    time: Any,
    event: Any,
    at: float,
    *,
    group: Any = None,
    exposure_time: Any = None,
    exposed_after: str = "unexposed",
    conf_type: str | None = None,
    conf_level: float = 0.95,
    profile: str | None = None,
    ties: str = "efron",
) -> Landmark:
    """Landmark analysis (Anderson, Cain & Gelber, J Clin Oncol 1983;1:710-719): condition on being under
    follow-up at ``at``, classify by exposure at ``at``, and restart the clock there.

    R equivalent::

        ld <- subset(d, time > L)
        ld$group <- ifelse(!is.na(ld$h) & ld$h <= L, "exposed", "unexposed")
        ld$time <- ld$time - L
        survfit(Surv(time, status) ~ group, ld); survdiff(...); coxph(...)

    Parameters
    ----------
    data, time, event : as in :func:`split_at_exposure`.
    at : the landmark (>= 0), chosen before looking at outcomes (e.g. day 60 or 90 after infusion).
    group : a column fixed at the landmark (e.g. response at the landmark); give this or ``exposure_time``.
    exposure_time : time of exposure; ``group`` is ``"exposed"`` if it is at or before ``at``, else
        ``"unexposed"`` (missing = never exposed).
    exposed_after : patients exposed after the landmark stay ``"unexposed"`` (default, intention-to-treat at the
        landmark) or are excluded (``"exclude"``, a sensitivity analysis).
    conf_type, conf_level, profile : passed to :func:`~cart_outcomes.stats.km.kaplan_meier` (``conf_level`` also
        to the Cox model).

    ties : ties method of the Cox model (default "efron", as R).

    Returns
    -------
    Landmark
        ``.data`` (re-zeroed rows), ``.excluded`` (``row, reason``), ``.n_excluded``, ``.km``, ``.logrank``,
        ``.cox``.

    Notes
    -----
    1. Keep patients with ``time > at`` (alive, event-free and still followed at the landmark, R's convention
       ``subset(time > L)``): an event or a censoring exactly at the landmark is excluded.
    2. Define the group at the landmark; 3. re-zero time (``time - at``); 4. estimate from the landmark.
    The answer depends on the landmark: show several (Kim et al., Transplant Cell Ther 2021;27:125-132).
    The KM, log-rank and Cox results are the package's ``kaplan_meier``/``logrank_test``/``cox_ph`` applied to
    ``.data``.
    """
    frame, t, e, tlab = _survival_input(data, time, event)
    try:
        at = float(at)
    except (TypeError, ValueError):
        raise InputError(f"at: the landmark must be a number, got {at!r}") from None
    if not np.isfinite(at) or at < 0:
        raise InputError(f"at: the landmark must be finite and >= 0, got {at!r}")
    if (group is None) == (exposure_time is None):
        raise InputError("landmark: give exactly one of group= (a column fixed at the landmark) or exposure_time=")
    if exposed_after not in _EXPOSED_AFTER:
        raise InputError(f"exposed_after must be one of {_EXPOSED_AFTER}, got {exposed_after!r}")
    n = t.size
    reason = np.full(n, "", dtype=object)
    reason[(t <= at) & e] = "event at or before the landmark"
    reason[(t <= at) & ~e] = "censored at or before the landmark"
    used = {c for c in (time, event, group, exposure_time) if isinstance(c, str)}
    if exposure_time is not None:
        h, _ = _exposure(frame, exposure_time, n)
        exposed = ~np.isnan(h) & (h <= at)
        labels = np.where(exposed, STATES[1], STATES[0]).astype(object)
        if exposed_after == "exclude":
            late = (reason == "") & ~np.isnan(h) & (h > at) & (h < t)
            reason[late] = "exposed after the landmark"
    else:
        gv, glab = _inputs.column(frame, group, "group", categorical=True)
        codes, levels = _inputs.groups(gv, glab, n)
        labels = np.asarray(levels, dtype=object)[codes]
        if isinstance(gv, pd.Categorical):  # keep the declared level order for KM, log-rank and Cox (R's factor)
            labels = pd.Categorical(labels, categories=levels)
    keep = reason == ""
    if not keep.any():
        raise InputError(f"landmark at {at:g}: no patient is still under follow-up (every {tlab!r} <= {at:g})")
    rows = np.flatnonzero(keep)
    out = pd.DataFrame({"row": rows, "time": t[keep] - at, "event": e[keep].astype(np.int8), "group": labels[keep]})
    if exposure_time is not None:
        out["exposed"] = (out["group"] == STATES[1]).astype(np.int8)
    if frame is not None:
        rest = [c for c in frame.columns if c not in used and c not in out.columns]
        if rest:
            out = pd.concat([out, frame[rest].iloc[rows].reset_index(drop=True)], axis=1)
    excluded = pd.DataFrame({"row": np.flatnonzero(~keep), "reason": reason[~keep].astype(str)})
    counts = excluded["reason"].value_counts()
    n_excluded = {str(k): int(v) for k, v in counts.items()}
    km = kaplan_meier(out, "time", "event", by="group", conf_type=conf_type, conf_level=conf_level, profile=profile)
    lr = cx = None
    note = None
    if out["group"].nunique() >= 2:
        lr = logrank_test(out, "time", "event", by="group")
        cx = cox_ph(out, "time", "event", ["exposed" if exposure_time is not None else "group"], ties=ties,
                    conf_level=conf_level)
    else:
        note = f"only one group ({out['group'].iloc[0]!r}) at the landmark: no log-rank test or Cox model"
    options = dict(km.options)
    options.update({
        "method": "landmark",
        "at": at,
        "group_from": "exposure_time" if exposure_time is not None else "group",
        "exposed_after": exposed_after,
        "keep_rule": "time > at (alive, event-free and under follow-up at the landmark)",
        "ties": ties,
        "note": note,
        "version": __version__,
    })
    return Landmark(at, out, excluded, n_excluded, km, lr, cx, options)
