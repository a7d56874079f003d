"""Non-compartmental analysis (NCA) of CAR-T cellular kinetics: expansion, exposure and persistence.

One *series* is one patient's levels in one matrix by one assay in one unit (``patient_id, matrix, assay, unit``):
levels in different matrices, assays or units are never pooled. Every convention that CAR-T papers usually leave
unstated (trapezoid rule, below-quantification samples, a missing day-28 sample, replicates, the day-0 level) is a
parameter, recorded in ``result.options``; defaults follow clinical-definitions section 9 and checklist rows 17-18.

Written with numpy over the whole sorted table (segment reductions, cumulative sums, "next row in the same series"
masks) rather than per-patient loops: 10,000 patients x 20 samples take a fraction of a second (see
``benchmarks/bench_kinetics.py``). No R package covers the CAR-T conventions; the arithmetic is checked against an
independent base-R implementation (``tests/reference/kinetics_reference.R``) and the half-life point selection is
that of PKNCA ``pk.calc.half.life``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cart_outcomes._result import Result
from cart_outcomes._version import __version__
from cart_outcomes.errors import InputError
from cart_outcomes.kinetics._input import UNITS, duplicate_error, read_rows
from cart_outcomes.units import DAYS_PER_MONTH

if TYPE_CHECKING:
    from cart_outcomes.cohort.io import Cohort

__all__ = ["NCAResult", "noncompartmental"]

AUC_METHODS = ("linear", "linear-up/log-down")
BLQ_RULES = ("zero-then-stop", "zero", "drop")
WINDOW_ENDS = ("interpolate", "last_sample")
DUPLICATES = ("mean", "error")
DAY0 = ("zero", "none")
AUC_ENDS = ("observed", "interpolated", "last_sample", "zero_after_blq")
HALF_LIFE_MIN_POINTS = 3
HALF_LIFE_ADJ_R2_FACTOR = 1e-4
_OBS, _INTERP, _LAST, _ZERO = range(4)
KEYS = ["patient_id", "matrix", "assay", "unit"]
TABLE_COLUMNS = [
    *KEYS, "n_samples", "n_quantifiable", "cmax", "tmax_days", "clast", "tlast_days", "auc", "auc_start_day",
    "auc_end_day", "auc_end", "auc_complete", "day0_imputed", "n_replicate_days", "expansion_detected", "loss_day",
    "loss_observed", "persistence_days", "half_life_days", "lambda_z_per_day", "half_life_n_points",
    "half_life_adj_r2", "half_life_note",
]


@dataclass(frozen=True, slots=True)
class NCAResult(Result):
    """Result of :func:`noncompartmental`.

    Attributes
    ----------
    table : one row per series (``patient_id, matrix, assay, unit``) with the columns listed in
        :func:`noncompartmental`; same columns whatever the options.
    persistence : one row per series and landmark month: ``patient_id, matrix, assay, unit, month, landmark_day,
        status`` (``"detectable"``, ``"undetectable"``, ``"not_evaluable"``).
    options : every choice applied, the AUC unit of each level unit, and the cart-outcomes ``version``.
    excluded : series left out, with the reason (``patient_id, matrix, assay, unit, reason``): empty, since every
        series is reported (an all-BLQ series has cmax = 0 and auc = 0).
    """

    table: pd.DataFrame
    persistence: pd.DataFrame
    options: Mapping[str, Any]
    excluded: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=[*KEYS, "reason"]))

    def to_frame(self) -> pd.DataFrame:
        """The per-series table (a copy)."""
        return self.table.copy()

    def _repr_html_(self) -> str:
        o = self.options
        head = (f"<p><b>NCA</b>: AUC {o['auc_method']} over days {o['window'][0]:g}-{o['window'][1]:g}, "
                f"BLQ {o['blq']}, window end {o['window_end']}</p>")
        return head + self.table.to_html(index=False)


def _choice(value: Any, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise InputError(f"{name} must be one of {list(allowed)}, got {value!r}")
    return value


def _check_window(window: Any) -> tuple[float, float]:
    try:
        a, b = (float(w) for w in window)
    except (TypeError, ValueError):
        raise InputError(f"window must be two numbers (start_day, end_day), got {window!r}") from None
    if not (math.isfinite(a) and math.isfinite(b) and 0 <= a < b):
        raise InputError(f"window must satisfy 0 <= start < end (finite days), got {window!r}")
    return a, b


def _check_months(months: Any, visit_window_days: Any) -> tuple[tuple[float, ...], float]:
    try:
        m = tuple(float(x) for x in months)
    except (TypeError, ValueError):
        raise InputError(f"persistence_months must be a sequence of numbers, got {months!r}") from None
    if not all(math.isfinite(x) and x > 0 for x in m):
        raise InputError(f"persistence_months must be positive numbers of months, got {months!r}")
    try:
        w = float(visit_window_days)
    except (TypeError, ValueError):
        raise InputError(f"visit_window_days must be a number of days >= 0, got {visit_window_days!r}") from None
    if not (math.isfinite(w) and w >= 0):
        raise InputError(f"visit_window_days must be a number of days >= 0, got {visit_window_days!r}")
    return m, w


def _first(mask: np.ndarray, starts: np.ndarray, size: int) -> np.ndarray:
    """Index of the first True row of each segment (``size`` when none)."""
    return np.minimum.reduceat(np.where(mask, np.arange(size), size), starts)


def _last(mask: np.ndarray, starts: np.ndarray, size: int) -> np.ndarray:
    """Index of the last True row of each segment (-1 when none)."""
    return np.maximum.reduceat(np.where(mask, np.arange(size), -1), starts)


def _take(values: np.ndarray, idx: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """``values[idx]`` where ``ok``, NaN elsewhere (``idx`` may be out of range where not ok)."""
    safe = np.clip(idx, 0, max(values.size - 1, 0))
    return np.where(ok, values[safe] if values.size else np.nan, np.nan)


def noncompartmental(
    kinetics: pd.DataFrame | Cohort,
    *,
    window: tuple[float, float] = (0, 28),
    auc_method: str = "linear",
    blq: str = "zero-then-stop",
    window_end: str = "interpolate",
    duplicates: str = "mean",
    day0: str = "zero",
    persistence_months: Sequence[float] = (1, 3, 6),
    visit_window_days: float = 7,
    half_life: bool = False,
) -> NCAResult:
    """Cmax, Tmax, AUC over a window, Clast/Tlast, persistence and (optionally) terminal half-life per series.

    Parameters
    ----------
    kinetics : DataFrame or Cohort
        The ``kinetics`` long table (or a validated cohort, whose kinetics table is used), one row per sample:
        ``patient_id``, ``day`` (days after infusion, >= 0; fractions are accepted), ``assay`` (``qpcr``,
        ``ddpcr``, ``flow``), ``value`` (>= 0; may be blank when ``below_loq`` is true), ``unit``
        (``copies_per_ug_dna``, ``cells_per_ul``, ``percent_of_cd3``), and optionally ``matrix``
        (``peripheral_blood``, ``bone_marrow``, ``csf``; blank or absent = peripheral blood), ``below_loq`` (blank
        or absent = false), ``lloq`` (checked, not used), ``source_row`` (the spreadsheet row, used in error
        messages). Other columns are ignored; the frame is not modified. A sample is *quantifiable* when
        ``below_loq`` is not true and ``value > 0``: an exact 0 without the flag counts as below quantification
        (BLQ), and a value given with ``below_loq = true`` is ignored.
    window : (start_day, end_day)
        AUC interval (default days 0-28: AUC0-28d).
    auc_method : {"linear", "linear-up/log-down"}
        Linear trapezoid (default, checklist row 17), or the log trapezoid on segments where the level declines
        and both levels are > 0: ``(t2 - t1)(C1 - C2) / ln(C1 / C2)``.
    blq : {"zero-then-stop", "zero", "drop"}
        Samples below quantification, for the AUC (checklist row 18; the default cleans the data as PKNCA's
        default ``conc.blq``: first "keep", middle "drop", last "keep", with AUCall's triangle down to the first
        BLQ after the last quantifiable sample). Worked example, window 0-28,
        day 0 BLQ, day 7 = 500, day 14 BLQ, day 21 = 300, days 25 and 35 BLQ:

        - ``"zero-then-stop"`` (default): BLQ before the first quantifiable sample -> 0; BLQ between two
          quantifiable samples -> dropped (a single BLQ followed by a quantifiable level is assay noise near the
          limit, as loss needs >= 2 consecutive BLQ); the first BLQ after the last quantifiable sample -> 0 and
          the level stays 0 afterwards (later BLQ add no area), so the window is complete and ``auc_end`` is
          ``"zero_after_blq"``. Example: points (0, 0), (7, 500), (21, 300), (25, 0):
          7 * 500/2 + 14 * (500 + 300)/2 + 4 * 300/2 = 1750 + 5600 + 600 = 7950 over days 0-28.
        - ``"zero"``: every BLQ -> 0. Example: 1750 + 1750 + 1050 + 600 + 0 (day 28 interpolated between days
          25 and 35) = 5150, ``"interpolated"``.
        - ``"drop"``: every BLQ left out (day 0 stays the pre-infusion 0, see ``day0``). Example: points (0, 0),
          (7, 500), (21, 300): 1750 + 5600 = 7350 over days 0-21, ``"last_sample"``, incomplete.
    window_end : {"interpolate", "last_sample"}
        ``"interpolate"`` (default): when a usable point lies after the window end, the level at the end is
        interpolated (linearly, or log-linearly on a log-down segment) (``auc_end = "interpolated"``); a
        sample on the end day gives ``"observed"``; otherwise the AUC stops at the last point before the end
        (``"last_sample"``, ``auc_complete = False``). ``"last_sample"``: always AUC0-tlast (last point <= end).
        The AUC is never extrapolated beyond the last sample. A window starting after day 0 is interpolated at
        its start in the same way.
    duplicates : {"mean", "error"}
        Several samples of one series on one day: ``"mean"`` (default) = arithmetic mean of the quantifiable
        replicates (the day is BLQ when all are BLQ; counted in ``n_replicate_days``); ``"error"`` raises an
        error naming the rows.
    day0 : {"zero", "none"}
        ``"zero"`` (default): a series without a sample on day 0 starts at the pre-infusion level 0 on day 0
        (``day0_imputed``), and a BLQ sample on day 0 is that level 0 under every ``blq`` rule; ``"none"``: the
        AUC starts at the first usable sample (``auc_start_day`` > window start, ``auc_complete = False``).
    persistence_months : months at which CAR detectability is reported (default 1, 3, 6; month = 30.4375 days,
        checklist row 20; landmark day = months x 30.4375 rounded half up: 30, 91, 183).
    visit_window_days : a sample counts for a landmark when taken on or after ``landmark_day - visit_window_days``
        (default 7).
    half_life : estimate the terminal half-life (default False; the columns are then NaN).

    Returns
    -------
    NCAResult
        ``table``, one row per series, sorted by patient (numbers numerically), matrix, assay and unit:

        - ``n_samples`` (sampling days, replicates averaged), ``n_quantifiable``;
        - ``cmax``, ``tmax_days``: largest observed quantifiable level over **all** samples after infusion (not
          only the AUC window, so a late peak is not missed; never an interpolated or imputed value), earliest day
          on ties. A series with no quantifiable sample has ``cmax = 0``, ``tmax_days = NaN``, ``auc = 0``,
          ``clast``/``tlast_days`` NaN and ``expansion_detected = False``; it stays in the table;
        - ``clast``, ``tlast_days``: last quantifiable sample;
        - ``auc`` (unit x day: ``options["auc_units"]``), over ``[auc_start_day, auc_end_day]``; ``auc_end`` is
          ``"observed"``, ``"interpolated"``, ``"last_sample"`` or ``"zero_after_blq"``; ``auc_complete`` is
          True when the AUC covers the whole window. NaN when no usable point lies in the window;
        - ``day0_imputed``, ``n_replicate_days``, ``expansion_detected`` (any quantifiable sample);
        - ``loss_day``: day of the first of >= 2 consecutive BLQ samples after the last quantifiable sample (all
          samples after it are then BLQ); ``loss_observed``; ``persistence_days`` = loss_day when observed, else
          the last sample day (censored; NaN when never quantifiable). Loss uses the samples' BLQ flags whatever
          the ``blq`` rule;
        - ``half_life_days``, ``lambda_z_per_day``, ``half_life_n_points``, ``half_life_adj_r2``,
          ``half_life_note`` (why the half-life is missing, or None).

        ``persistence``: per series and month, ``status`` = ``"detectable"`` (a quantifiable sample on or after
        ``landmark_day - visit_window_days``), ``"undetectable"`` (samples there, all BLQ) or
        ``"not_evaluable"`` (no sample there).

    Notes
    -----
    Algorithm (whole table at once):

    1. Check every row (one ``ValidationFailed``, an ``InputError``, lists all bad rows with their spreadsheet
       row, column, value and rule); sort by series and day.
    2. Average replicates per series and day (``duplicates``).
    3. Cmax/Tmax, Clast/Tlast, loss and landmark status from the sample days.
    4. Usable AUC points: the ``blq`` rule, day-0 level, then the area of each segment between consecutive
       points clipped to the window (level at a clipped end interpolated on that segment), summed per series.
    5. Half-life (``half_life=True``): for every series, log-linear least squares of ln(level) on day over the
       last n quantifiable samples strictly after Tmax, for every n >= 3 at once (suffix sums). As PKNCA
       ``pk.calc.half.life``: among fits with slope < 0 and adjusted R^2 > (best adjusted R^2 of all fits) -
       1e-4, the one with the most points; half-life = ln 2 / lambda_z.

    R: no package implements these CAR-T conventions as a whole. For a profile sampled on both window ends with
    quantifiable levels, PKNCA ``pk.calc.auc(conc, time, interval = c(0, 28), method = "linear" |
    "lin up/log down")`` is the same AUC, and ``pk.calc.half.life(conc, time)`` the same half-life.

    References
    ----------
    Mueller KT et al. Clin Cancer Res 2018;24(24):6175-6184 (tisagenlecleucel cellular kinetics: Cmax, Tmax,
    AUC0-28d). Gabrielsson J, Weiner D. Pharmacokinetic and Pharmacodynamic Data Analysis, 4th ed., 2000
    (log trapezoid; lambda_z point selection). Denney W et al. PKNCA (R package).
    """
    a, b = _check_window(window)
    auc_method = _choice(auc_method, AUC_METHODS, "auc_method")
    blq = _choice(blq, BLQ_RULES, "blq")
    window_end = _choice(window_end, WINDOW_ENDS, "window_end")
    duplicates = _choice(duplicates, DUPLICATES, "duplicates")
    day0 = _choice(day0, DAY0, "day0")
    months, visit_window = _check_months(persistence_months, visit_window_days)
    if not isinstance(half_life, bool | np.bool_):
        raise InputError(f"half_life must be True or False, got {half_life!r}")

    rows = read_rows(kinetics)
    k = len(rows.keys)

    # 2. one sample per series and day
    n = rows.day.size
    new = np.empty(n, bool)
    new[0] = True
    new[1:] = (rows.series[1:] != rows.series[:-1]) | (rows.day[1:] != rows.day[:-1])
    starts = np.flatnonzero(new)
    n_rows = np.diff(np.append(starts, n))
    if duplicates == "error" and (n_rows > 1).any():
        duplicate_error(rows, starts, n_rows)
    q_rows = rows.quantifiable
    q_sum = np.add.reduceat(np.where(q_rows, rows.value, 0.0), starts)
    q_cnt = np.add.reduceat(q_rows.astype(np.int64), starts)
    quant = q_cnt > 0
    level = np.divide(q_sum, q_cnt, out=np.zeros(starts.size), where=quant)  # BLQ days are 0
    ser = rows.series[starts]
    day = rows.day[starts]
    n_s = day.size
    n_replicate_days = np.bincount(ser[n_rows > 1], minlength=k)

    # 3. per-series summaries of the sample days
    sb = np.flatnonzero(np.append(True, ser[1:] != ser[:-1]))
    se = np.append(sb[1:], n_s)
    n_samples = se - sb
    n_quant = np.add.reduceat(quant.astype(np.int64), sb)
    has_q = n_quant > 0
    cmax = np.maximum.reduceat(level, sb)
    i_max = _first(quant & (level == cmax[ser]), sb, n_s)
    tmax = _take(day, i_max, has_q)
    i_lastq = _last(quant, sb, n_s)
    i_firstq = _first(quant, sb, n_s)
    clast = _take(level, i_lastq, has_q)
    tlast = _take(day, i_lastq, has_q)
    n_trailing = np.where(has_q, se - 1 - i_lastq, 0)
    last_day = day[se - 1]
    loss_observed = n_trailing >= 2
    loss_day = _take(day, i_lastq + 1, loss_observed)
    persistence_days = np.where(loss_observed, loss_day, np.where(has_q, last_day, np.nan))

    # 4. AUC
    idx = np.arange(n_s)
    blq_s = ~quant
    if blq == "zero-then-stop":
        after_first_zero = has_q[ser] & (idx > i_lastq[ser] + 1)
        use = quant | (blq_s & ((idx < i_firstq[ser]) | (idx == i_lastq[ser] + 1)))
        use &= ~after_first_zero
        zero_after = n_trailing >= 1
    elif blq == "zero":
        use = np.ones(n_s, bool)
        zero_after = np.zeros(k, bool)
    else:
        use = quant.copy()
        zero_after = np.zeros(k, bool)
    if day0 == "zero":
        use |= blq_s & (day == 0)
        day0_imputed = day[sb] > 0
    else:
        day0_imputed = np.zeros(k, bool)
    p_ser, p_t, p_c = ser[use], day[use], level[use]
    imp = np.flatnonzero(day0_imputed)
    if imp.size:
        at = np.searchsorted(p_ser, imp, side="left")
        p_ser, p_t, p_c = np.insert(p_ser, at, imp), np.insert(p_t, at, 0.0), np.insert(p_c, at, 0.0)
    auc, lo, hi, kind, covered, start_ok = _auc(p_ser, p_t, p_c, k, a, b, zero_after, auc_method, window_end)
    auc = np.where(has_q, auc, 0.0)

    # 5. half-life
    hl = _half_life(ser, day, level, quant, tmax, k) if half_life else None

    keys = rows.keys
    if hl is None:
        hl = (np.full(k, np.nan), np.zeros(k, np.int64), np.full(k, np.nan), np.full(k, "not requested", object))
    lam, npts, adj, note = hl
    with np.errstate(divide="ignore"):
        half = np.log(2.0) / lam
    table = pd.DataFrame({
        **{c: keys[c] for c in KEYS},
        "n_samples": n_samples, "n_quantifiable": n_quant, "cmax": cmax, "tmax_days": tmax, "clast": clast,
        "tlast_days": tlast, "auc": auc, "auc_start_day": np.where(covered, lo, np.nan),
        "auc_end_day": np.where(covered, hi, np.nan), "auc_end": np.array(AUC_ENDS, dtype=object)[kind],
        "auc_complete": covered & start_ok & (kind != _LAST), "day0_imputed": day0_imputed,
        "n_replicate_days": n_replicate_days, "expansion_detected": has_q, "loss_day": loss_day,
        "loss_observed": loss_observed, "persistence_days": persistence_days, "half_life_days": half,
        "lambda_z_per_day": lam, "half_life_n_points": pd.arrays.IntegerArray(npts, np.isnan(lam)),
        "half_life_adj_r2": adj, "half_life_note": note,
    })
    persistence = _persistence(keys, months, visit_window, has_q, tlast, last_day)
    options = MappingProxyType({
        "window": (a, b), "auc_method": auc_method, "blq": blq, "window_end": window_end, "duplicates": duplicates,
        "day0": day0, "persistence_months": months, "visit_window_days": visit_window,
        "days_per_month": DAYS_PER_MONTH, "half_life": bool(half_life),
        "half_life_min_points": HALF_LIFE_MIN_POINTS, "half_life_adj_r2_factor": HALF_LIFE_ADJ_R2_FACTOR,
        "cmax": "largest observed quantifiable level over all samples after infusion; ties -> earliest day",
        "quantifiable": "below_loq not true and value > 0 (an exact 0 counts as below quantification)",
        "loss": "first of >= 2 consecutive BLQ samples after the last quantifiable sample",
        "auc_units": {u: f"{u} x day" for u in UNITS},
        "r_equivalent": "PKNCA::pk.nca (no CAR-T conventions: BLQ, window end and persistence are this package's)",
        "version": __version__,
    })
    return NCAResult(table=table, persistence=persistence, options=options)


def _auc(p_ser: np.ndarray, p_t: np.ndarray, p_c: np.ndarray, k: int, a: float, b: float, zero_after: np.ndarray,
         method: str, window_end: str) -> tuple[np.ndarray, ...]:
    """Area over the window of each series' usable points (sorted by series, day), with how each end was handled.

    Returns ``(auc, lo, hi, kind, covered, start_ok)``: the area, the covered interval, the end kind (index into
    ``AUC_ENDS``), whether any part of the window is covered, and whether the start is the window start.
    """
    series = np.arange(k)
    p_start = np.searchsorted(p_ser, series, side="left")
    p_end = np.searchsorted(p_ser, series, side="right")
    n_pts = p_end - p_start
    has_pts = n_pts > 0
    cum_le_b = np.concatenate(([0], np.cumsum(p_t <= b)))
    n_le_b = cum_le_b[p_end] - cum_le_b[p_start]
    t_first = _take(p_t, p_start, has_pts)
    t_last = _take(p_t, p_end - 1, has_pts)
    t_le_b = _take(p_t, p_start + n_le_b - 1, n_le_b > 0)  # last point <= end

    # the profile is known to be 0 from the first BLQ after the last quantifiable sample (zero-then-stop)
    zero_stop = zero_after & (t_last < b)
    at_b = t_le_b == b
    beyond = (n_pts > n_le_b) & (n_le_b > 0)
    kind = np.full(k, _LAST)
    if window_end == "interpolate":
        kind[beyond] = _INTERP
    kind[at_b] = _OBS
    kind[zero_stop] = _ZERO
    hi = np.where(kind == _LAST, t_le_b, b)
    start_ok = has_pts & (t_first <= a)
    lo = np.where(start_ok, a, t_first)
    covered = has_pts & (lo <= hi)
    hi_area = np.minimum(hi, t_last)

    seg = np.flatnonzero(p_ser[1:] == p_ser[:-1])
    s = p_ser[seg]
    t0, t1, c0, c1 = p_t[seg], p_t[seg + 1], p_c[seg], p_c[seg + 1]
    u = np.maximum(t0, lo[s])
    v = np.minimum(t1, hi_area[s])
    act = covered[s] & (v > u)
    s, t0, t1, c0, c1, u, v = s[act], t0[act], t1[act], c0[act], c1[act], u[act], v[act]
    dt = t1 - t0
    fu, fv = (u - t0) / dt, (v - t0) / dt
    log_seg = (c1 < c0) & (c1 > 0) if method == "linear-up/log-down" else np.zeros(s.size, bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(log_seg, np.log(c1 / c0), 0.0)
        cu = np.where(log_seg, c0 * np.exp(ratio * fu), c0 + (c1 - c0) * fu)
        cv = np.where(log_seg, c0 * np.exp(ratio * fv), c0 + (c1 - c0) * fv)
        cu = np.where(u == t0, c0, cu)  # exact levels at observed points
        cv = np.where(v == t1, c1, cv)
        area = np.where(log_seg, (v - u) * (cu - cv) / np.log(cu / cv), (v - u) * (cu + cv) / 2.0)
    auc = np.where(covered, np.bincount(s, weights=area, minlength=k), np.nan)
    return auc, lo, hi, kind, covered, start_ok


def _half_life(ser: np.ndarray, day: np.ndarray, level: np.ndarray, quant: np.ndarray, tmax: np.ndarray,
               k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """lambda_z, number of points, adjusted R^2 and a note per series (PKNCA's point selection, vectorised).

    Every candidate "last n quantifiable points after Tmax" of every series is fitted at once from suffix sums;
    the suffix sums run within each series (a loop over the position from the end, not over patients), so no
    rounding error crosses series.
    """
    with np.errstate(invalid="ignore"):
        h = np.flatnonzero(quant & (day > tmax[ser]))
    lam = np.full(k, np.nan)
    npts = np.zeros(k, np.int64)
    adj_out = np.full(k, np.nan)
    count = np.bincount(ser[h], minlength=k)
    note = np.where(count < HALF_LIFE_MIN_POINTS,
                    f"fewer than {HALF_LIFE_MIN_POINTS} quantifiable samples after Tmax", None).astype(object)
    if h.size == 0:
        return lam, npts, adj_out, note
    hs, x, y = ser[h], day[h], np.log(level[h])
    x = x - (np.bincount(hs, weights=x, minlength=k) / np.maximum(count, 1))[hs]  # centred per series
    y = y - (np.bincount(hs, weights=y, minlength=k) / np.maximum(count, 1))[hs]
    m = h.size
    hb = np.flatnonzero(np.append(True, hs[1:] != hs[:-1]))
    he = np.append(hb[1:], m)
    seg_end = np.repeat(he, he - hb)
    rank = seg_end - 1 - np.arange(m)  # 0 = last point of its series
    f = np.column_stack((x, y, x * x, x * y, y * y))
    suffix = f.copy()
    order = np.argsort(rank, kind="stable")
    bounds = np.searchsorted(rank[order], np.arange(1, rank.max() + 2))
    for r in range(1, rank.max() + 1):
        i = order[bounds[r - 1]:bounds[r]]
        suffix[i] += suffix[i + 1]
    nn = (rank + 1).astype(float)
    sx, sy, sxx, sxy, syy = suffix.T
    with np.errstate(divide="ignore", invalid="ignore"):
        cxx = sxx - sx * sx / nn
        cxy = sxy - sx * sy / nn
        cyy = syy - sy * sy / nn
        slope = cxy / cxx
        r2 = cxy * cxy / (cxx * cyy)
        adj = 1.0 - (1.0 - r2) * (nn - 1.0) / (nn - 2.0)
    valid = nn >= HALF_LIFE_MIN_POINTS
    adj = np.where(valid, adj, np.nan)
    best = np.fmax.reduceat(adj, hb)
    with np.errstate(invalid="ignore"):
        eligible = valid & (slope < 0) & (adj > np.repeat(best, he - hb) - HALF_LIFE_ADJ_R2_FACTOR)
    pick = _first(eligible, hb, m)  # earliest start = most points
    found = pick < m
    s_found = hs[hb[found]]
    p = pick[found]
    lam[s_found] = -slope[p]
    npts[s_found] = rank[p] + 1
    adj_out[s_found] = adj[p]
    enough = count >= HALF_LIFE_MIN_POINTS
    no_fit = enough & np.isnan(lam)
    note[no_fit] = "no declining terminal phase (no fit with slope < 0 among the best adjusted R^2)"
    return lam, npts, adj_out, note


def _persistence(keys: pd.DataFrame, months: tuple[float, ...], visit_window: float, has_q: np.ndarray,
                 tlast: np.ndarray, last_day: np.ndarray) -> pd.DataFrame:
    k, n_m = len(keys), len(months)
    landmark = np.array([math.floor(m * DAYS_PER_MONTH + 0.5) for m in months], dtype=np.int64)
    lower = landmark[None, :] - visit_window
    with np.errstate(invalid="ignore"):
        detectable = has_q[:, None] & (tlast[:, None] >= lower)
    sampled = last_day[:, None] >= lower
    status = np.where(detectable, "detectable", np.where(sampled, "undetectable", "not_evaluable")).astype(object)
    keys_rep = keys.iloc[np.repeat(np.arange(k), n_m)].reset_index(drop=True)
    return pd.concat([keys_rep, pd.DataFrame({"month": np.tile(np.asarray(months, dtype=float), k),
                                              "landmark_day": np.tile(landmark, k), "status": status.ravel()})],
                     axis=1)
