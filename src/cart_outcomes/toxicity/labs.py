"""Laboratory trajectories by day and CIBMTR hematologic recovery (neutrophil and platelet) after CAR-T infusion.

Both functions read the canonical ``labs`` table (one row per sample), validated by
:func:`cart_outcomes.toxicity.check_labs` (the same checks and located errors as ICAHT grading), reduce same-day
samples to one value per patient, day and analyte, and work on whole columns: pandas group-bys for the daily values
and summaries, numpy cumulative run lengths for recovery (no per-patient loop; see benchmarks/bench_labs.py).
Units come from the schema (``cart_outcomes.cohort.schema.LABS``). There is no R package for either computation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from cart_outcomes._result import Result
from cart_outcomes.cohort.schema import LABS
from cart_outcomes.errors import InputError, ValidationFailed
from cart_outcomes.toxicity._common import base_options, patient_key
from cart_outcomes.toxicity.icaht import check_labs

__all__ = ["DEFAULT_ANALYTES", "DAILY_RULES", "HematologicRecovery", "LabTrajectories", "hematologic_recovery",
           "lab_trajectories", "recovery_incidence"]

DEFAULT_ANALYTES = ("anc_per_ul", "platelets_per_ul", "hemoglobin_g_dl", "crp_mg_dl", "ferritin_ng_ml", "il6_pg_ml")
#: Same-day reduction by default: the clinically worst value of the day. Counts and fibrinogen (cytopenias,
#: hypofibrinogenemia): lowest, as ICAHT; inflammatory, organ-injury and HLH markers: highest.
DAILY_RULES = MappingProxyType({
    "anc_per_ul": "min", "platelets_per_ul": "min", "hemoglobin_g_dl": "min", "fibrinogen_mg_dl": "min",
    "crp_mg_dl": "max", "ferritin_ng_ml": "max", "il6_pg_ml": "max", "ldh_u_l": "max", "alt_u_l": "max",
    "ast_u_l": "max", "bilirubin_mg_dl": "max", "triglycerides_mg_dl": "max"})
_REDUCERS = ("min", "max", "mean", "first", "last")
_TRANSFUSION = "platelet_transfusion"
_LINEAGES = (("neutrophil", "anc_per_ul"), ("platelet", "platelets_per_ul"))
_SUMMARY_STATS = ("median", "q1", "q3", "min", "max")
_STATUSES = ("recovered", "not_recovered", "never_below", "no_data")
_CIBMTR = ("CIBMTR Forms Instruction Manual, post-infusion data (forms 2100/4100), initial ANC and platelet "
           "recovery: first of three consecutive laboratory values obtained on different days")
_ICAHT = ("Rejeski K, Subklewe M, et al. Immune effector cell-associated hematotoxicity: EHA/EBMT consensus "
          "grading and best practice recommendations. Blood 2023;142(10):865-877")


@dataclass(frozen=True, slots=True)
class _LabResult(Result):
    """A per-row ``table`` (what ``to_frame()`` returns), its ``summary``, the ``options`` and ``notes``."""

    table: pd.DataFrame
    summary: pd.DataFrame
    options: dict[str, Any]
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The per-row table (a copy)."""
        return self.table.copy()

    def _repr_html_(self) -> str:
        return self.summary.to_html(index=False)


@dataclass(frozen=True, slots=True)
class LabTrajectories(_LabResult):
    """Daily laboratory values in long form, and their per-day distribution for median + IQR curves.

    Attributes
    ----------
    table : one row per patient x day x analyte: ``patient_id, day, analyte, value, unit, n_samples`` (samples
        reduced to ``value`` by the analyte's same-day rule, ``options["daily"]``).
    summary : one row per analyte x day: ``analyte, day, unit, n, median, q1, q3, min, max`` over patients
        (quartiles as R ``quantile(type = 7)``).
    options : every choice made (analytes, same-day rules, day window, analytes not available, version).
    notes : plain-language remarks carried to the report (e.g. an analyte that was not available).
    """


@dataclass(frozen=True, slots=True)
class HematologicRecovery(_LabResult):
    """Neutrophil and platelet recovery per patient (CIBMTR definitions).

    Attributes
    ----------
    table : one row per patient x lineage: ``patient_id, lineage, threshold, unit, status, first_below_day,
        nadir_value, nadir_day, recovery_day, last_value_day, time_days, event``; ``time_days``/``event`` feed
        ``stats.kaplan_meier`` or ``stats.cumulative_incidence`` directly.
    summary : one row per lineage: ``lineage, threshold, n_patients`` and the number of patients per status,
        then ``median_recovery_day, min_recovery_day, max_recovery_day`` among recovered patients (descriptive;
        estimate time to recovery from ``time_days``/``event`` with competing risks where death applies).
    options : every choice made (thresholds, run length, transfusion rule, window start, version).
    notes : plain-language remarks (e.g. the transfusion rule could not be applied).
    """


# ---------------------------------------------------------------------------------------------------------------------
# shared reading


def _unit(column: str) -> str | None:
    return LABS.column(column).unit if column in LABS else None


def _read(labs: Any, numbers: Sequence[str], booleans: Sequence[str] = ()) -> pd.DataFrame:
    """Validated copy of ``labs`` (``ValidationFailed`` lists every bad row); days floored to whole days."""
    try:
        clean, _ = check_labs(labs, required=("patient_id", "day"), numbers=tuple(numbers), booleans=tuple(booleans))
    except ValidationFailed as exc:
        raise ValidationFailed(exc.problems, str(exc).replace("prevent grading", "prevent the analysis", 1)) from None
    clean["day"] = np.floor(clean["day"].to_numpy(dtype=float)).astype(np.int64)
    return clean


def _patients(pid: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(row -> patient code, patient ids), codes ordered as in ``grade_icaht``; code k is patient ``ids[k]``."""
    codes = patient_key(pid)
    ids = np.empty(codes.max(initial=-1) + 1, dtype=object)
    ids[codes] = pid.to_numpy(dtype=object)  # every row of a code holds the same id
    return codes.astype(np.int64), ids


def _starts(sorted_key: np.ndarray) -> np.ndarray:
    """Index of the first element of each run of equal values in a sorted array."""
    if sorted_key.size == 0:
        return np.zeros(0, dtype=np.intp)
    return np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])


def _quantile7(xs: np.ndarray, st: np.ndarray, n: np.ndarray, prob: float) -> np.ndarray:
    """R ``quantile(x, prob, type = 7)`` of each sorted segment ``xs[st:st + n]``, with R's own arithmetic."""
    h = (n - 1) * prob
    lo = np.floor(h).astype(np.intp)
    frac = h - lo
    x_lo, x_hi = xs[st + lo], xs[st + np.ceil(h).astype(np.intp)]
    return np.where((frac > 0) & (x_hi != x_lo), (1 - frac) * x_lo + frac * x_hi, x_lo)


def _names(analytes: Any) -> tuple[str, ...]:
    names = (analytes,) if isinstance(analytes, str) else tuple(analytes)
    if not names or not all(isinstance(a, str) for a in names):
        raise InputError(f"analytes={analytes!r}: expected one or more column names of the labs table")
    return tuple(dict.fromkeys(names))


def _daily_rules(analytes: tuple[str, ...], daily: Mapping[str, str] | None) -> dict[str, str]:
    daily = dict(daily or {})
    bad = {k: v for k, v in daily.items() if v not in _REDUCERS}
    if bad:
        raise InputError(f"daily={bad}: each same-day rule must be one of {list(_REDUCERS)}")
    extra = sorted(set(daily) - set(analytes))
    if extra:
        raise InputError(f"daily names {extra}, which are not among analytes {list(analytes)}")
    unknown = [a for a in analytes if a not in daily and a not in DAILY_RULES]
    if unknown:
        raise InputError(f"analytes {unknown} have no default same-day rule (known: {list(DAILY_RULES)}); "
                         f"give one, e.g. daily={{{unknown[0]!r}: 'max'}}")
    return {a: daily[a] if a in daily else DAILY_RULES[a] for a in analytes}


def _window(days: Any) -> tuple[int, int] | None:
    if days is None:
        return None
    try:
        lo, hi = days
        lo_i, hi_i = int(lo), int(hi)
    except (TypeError, ValueError):
        raise InputError(f"days={days!r}: expected (first_day, last_day), two whole numbers") from None
    if lo_i != lo or hi_i != hi or lo_i > hi_i:
        raise InputError(f"days={days!r}: expected whole numbers with first_day <= last_day")
    return lo_i, hi_i


# ---------------------------------------------------------------------------------------------------------------------
# trajectories


def _daily(rule: str, v: np.ndarray, row_key: np.ndarray, span: int) -> dict[str, np.ndarray]:
    """One analyte's daily values from samples sorted by ``row_key`` (= patient * span + day - first day)."""
    st = _starts(row_key)
    n_samples = np.diff(np.r_[st, row_key.size])
    if rule == "min":
        value = np.minimum.reduceat(v, st)
    elif rule == "max":
        value = np.maximum.reduceat(v, st)
    elif rule == "mean":
        value = np.add.reduceat(v, st) / n_samples
    else:
        value = v[st if rule == "first" else st + n_samples - 1]
    return {"p": row_key[st] // span, "day": row_key[st] % span, "value": value, "n_samples": n_samples}


def _by_day(day: np.ndarray, value: np.ndarray) -> dict[str, np.ndarray]:
    """Per day: n, median (as R ``median``), quartiles (R type 7), min, max of the patients' daily values."""
    o = np.argsort(value)
    o = o[np.argsort(day[o].astype(np.uint16) if day.max(initial=0) < 1 << 16 else day[o], kind="stable")]
    xs, dd = value[o], day[o]
    st = _starts(dd)
    n = np.diff(np.r_[st, dd.size])
    return {"day": dd[st], "n": n, "median": (xs[st + (n - 1) // 2] + xs[st + n // 2]) / 2,
            "q1": _quantile7(xs, st, n, 0.25), "q3": _quantile7(xs, st, n, 0.75), "min": xs[st],
            "max": xs[st + n - 1]}


def _stack(parts: list[dict[str, np.ndarray]], names: list[str], columns: dict[str, Any]) -> dict[str, np.ndarray]:
    """Concatenate per-analyte column arrays, adding ``analyte`` and ``unit`` repeated per part."""
    sizes = [len(next(iter(part.values()))) for part in parts]
    out = {c: np.concatenate([part[c] for part in parts]) if parts else np.zeros(0, dtype=dt)
           for c, dt in columns.items()}
    out["analyte"] = np.repeat(np.asarray(names, dtype=object), sizes)
    out["unit"] = np.repeat(np.asarray([_unit(a) for a in names], dtype=object), sizes)
    return out


def lab_trajectories(labs: Any, analytes: Sequence[str] | str = DEFAULT_ANALYTES, *,
                     days: tuple[int, int] | None = None,
                     daily: Mapping[str, str] | None = None) -> LabTrajectories:
    """Daily laboratory values per patient as tidy data, with per-day median, IQR and range over patients.

    Parameters
    ----------
    labs : DataFrame or Cohort
        The ``labs`` table: ``patient_id, day`` and one numeric column per analyte (``source_row`` optional).
    analytes : column names to follow (default ANC, platelets, hemoglobin, CRP, ferritin, IL-6). Analytes absent
        from the frame, or with no value in the window, are skipped and listed in ``options["not_available"]``.
    days : ``(first_day, last_day)``, inclusive window on the infusion clock (default: every day).
    daily : same-day rule per analyte, ``"min"``, ``"max"``, ``"mean"``, ``"first"`` or ``"last"`` (first/last in
        the frame's row order), overriding :data:`DAILY_RULES`: lowest of the day for ANC, platelets, hemoglobin
        (as ICAHT) and fibrinogen; highest for CRP, ferritin, IL-6, LDH, ALT, AST, bilirubin, triglycerides.
        Another column needs an explicit rule.

    Returns
    -------
    LabTrajectories
        ``table``: ``patient_id, day, analyte, value, unit, n_samples``; ``summary``: ``analyte, day, unit, n,
        median, q1, q3, min, max``.

    Notes
    -----
    1. Validate the table (numbers, >= 0, plausible ranges; every bad row in one ``ValidationFailed``); floor
       fractional days to the day they fall in.
    2. Keep the rows inside ``days``; stack the analyte columns, dropping blank cells.
    3. Reduce each patient x day x analyte to one value by the analyte's rule.
    4. Per analyte x day, summarise the patients' values: n, median as R ``median(x)``, quartiles as R
       ``quantile(x, c(.25, .75))`` (type 7, R's default; computed with R's arithmetic), min and max; in R,
       ``aggregate(value ~ analyte + day, data = table, FUN = quantile)``.

    Safety figures of CAR-T papers (ANC, platelet, hemoglobin recovery; CRP, ferritin, IL-6 over days 0-28) draw
    ``summary`` as median and IQR by day, or ``table`` as one line per patient.
    """
    names = _names(analytes)
    rules = _daily_rules(names, daily)
    window = _window(days)
    clean = _read(labs, numbers=names)
    codes, patients = _patients(clean["patient_id"])
    day = clean["day"].to_numpy()
    keep = np.ones(len(clean), bool) if window is None else (day >= window[0]) & (day <= window[1])
    present = [a for a in names if a in clean and (~np.isnan(clean[a].to_numpy(dtype=float)[keep])).any()]
    not_available = [a for a in names if a not in present]

    # rows sorted once by (patient, day), the frame's row order kept within a day (for first/last)
    d_all, c_all = day[keep], codes[keep]
    dmin = int(d_all.min(initial=0))
    span = int(d_all.max(initial=0)) - dmin + 1
    row_key = c_all * span + (d_all - dmin)
    order = np.argsort(row_key, kind="stable")
    row_key = row_key[order]
    tables, summaries = [], []
    for name in present:
        v = clean[name].to_numpy(dtype=float)[keep][order]
        ok = ~np.isnan(v)
        tables.append(_daily(rules[name], v[ok], row_key[ok], span))
        summaries.append(_by_day(tables[-1]["day"], tables[-1]["value"]))
    t = _stack(tables, present, {"p": np.int64, "day": np.int64, "value": float, "n_samples": np.int64})
    table = pd.DataFrame({"patient_id": patients[t["p"]], "day": t["day"] + dmin, "analyte": t["analyte"],
                          "value": t["value"], "unit": t["unit"], "n_samples": t["n_samples"]},
                         copy=False)  # fresh arrays: no consolidating copy of 3 object columns
    sm = _stack(summaries, present, {"day": np.int64, "n": np.int64, **dict.fromkeys(_SUMMARY_STATS, float)})
    summary = pd.DataFrame({"analyte": sm["analyte"], "day": sm["day"] + dmin, "unit": sm["unit"], "n": sm["n"],
                            **{c: sm[c] for c in _SUMMARY_STATS}}, copy=False)

    absent = [a for a in not_available if a not in clean]
    blank = [a for a in not_available if a in clean]
    where = " in the days window" if window is not None else ""
    notes = tuple(text for names_, text in (
        (absent, f"not in the labs table, skipped: {', '.join(absent)}"),
        (blank, f"no value{where}, skipped: {', '.join(blank)}")) if names_)
    options = base_options(analytes=list(present), daily={a: rules[a] for a in present},
                           days=None if window is None else list(window), not_available=not_available,
                           quantiles="R quantile(type = 7): linear interpolation",
                           day_rounding="fractional days floored to the day they fall in")
    return LabTrajectories(table=table, summary=summary, options=options, notes=notes)


# ---------------------------------------------------------------------------------------------------------------------
# recovery


def _first_per_patient(p: np.ndarray, values: np.ndarray, n_pat: int, fill: float = np.nan) -> np.ndarray:
    """Per patient, the value of its first row (``p`` sorted ascending); ``fill`` for patients without rows."""
    out = np.full(n_pat, fill)
    st = _starts(p)
    out[p[st]] = values[st]
    return out


def _recent_transfusion(p: np.ndarray, day: np.ndarray, tp: np.ndarray, tday: np.ndarray, free_days: int) -> np.ndarray:
    """True where the patient had a transfusion on days ``day - free_days + 1 .. day`` (searchsorted on one key)."""
    if free_days <= 0 or tp.size == 0:
        return np.zeros(p.size, bool)
    dmin = min(day.min(initial=0), tday.min())
    span = int(max(day.max(initial=0), tday.max()) - dmin) + free_days + 1
    key = p.astype(np.int64) * span + (day - dmin + free_days)
    tkey = np.unique(tp.astype(np.int64) * span + (tday - dmin + free_days))
    hi = np.searchsorted(tkey, key, side="right")
    lo = np.searchsorted(tkey, key - (free_days - 1), side="left")
    return hi > lo


def _recovery(p: np.ndarray, day: np.ndarray, v: np.ndarray, n_pat: int, threshold: float, consecutive: int,
              calendar_days: bool, blocked: np.ndarray, support_start: np.ndarray) -> dict[str, np.ndarray]:
    """Recovery per patient from daily values sorted by (patient, day); see :func:`hematologic_recovery`."""
    idx = np.arange(p.size)
    below = v < threshold
    first_below = np.minimum(_first_per_patient(p[below], day[below].astype(float), n_pat, np.inf), support_start)
    q = (v >= threshold) & ~blocked & (day > first_below[p])
    link = np.zeros(p.size, bool)
    link[1:] = (p[1:] == p[:-1]) & q[:-1]
    if calendar_days:
        link[1:] &= np.diff(day) == 1
    cont = q & link
    start = np.maximum.accumulate(np.where(q & ~cont, idx, 0))
    hit = np.flatnonzero(q & (idx - start == consecutive - 1))
    recovery = _first_per_patient(p[hit], day[hit - (consecutive - 1)].astype(float), n_pat)
    nadir_value = np.full(n_pat, np.nan)
    st = _starts(p)
    nadir_value[p[st]] = np.minimum.reduceat(v, st) if st.size else []
    at_nadir = v == nadir_value[p]
    nadir_day = _first_per_patient(p[at_nadir], day[at_nadir].astype(float), n_pat)
    last = np.ones(p.size, bool)
    last[:-1] = p[1:] != p[:-1]
    last_day = np.full(n_pat, np.nan)
    last_day[p[last]] = day[last]
    has = np.bincount(p, minlength=n_pat) > 0
    status = np.select([~has, np.isinf(first_below), ~np.isnan(recovery)], ["no_data", "never_below", "recovered"],
                       "not_recovered")
    time = np.where(status == "recovered", recovery, np.where(status == "not_recovered", last_day, np.nan))
    return {"status": status, "first_below_day": np.where(np.isinf(first_below), np.nan, first_below),
            "nadir_value": nadir_value, "nadir_day": nadir_day, "recovery_day": recovery,
            "last_value_day": last_day, "time_days": time, "event": status == "recovered"}


def hematologic_recovery(labs: Any, *, anc_threshold: float = 500, platelet_threshold: float = 20_000,
                         consecutive: int = 3, transfusion_free_days: int = 7, from_day: int = 0,
                         calendar_days: bool = False) -> HematologicRecovery:
    """Time to neutrophil and platelet recovery per patient (CIBMTR definitions, as used by EHA/EBMT ICAHT).

    Parameters
    ----------
    labs : DataFrame or Cohort
        The ``labs`` table: ``patient_id, day``, ``anc_per_ul`` and/or ``platelets_per_ul``, optional
        ``platelet_transfusion`` (bool: a platelet transfusion was given that day; a blank cell reads as no
        transfusion) and ``source_row``.
    anc_threshold : ANC recovery threshold, cells/uL (default 500 = 0.5 x 10^9/L).
    platelet_threshold : platelet recovery threshold, cells/uL (default 20,000 = 20 x 10^9/L; 50,000 for the
        CIBMTR >= 50 x 10^9/L question).
    consecutive : number of consecutive qualifying values obtained on different days (default 3).
    transfusion_free_days : a platelet value qualifies only when no platelet transfusion was given on its day or
        the ``transfusion_free_days - 1`` days before (default 7: a transfusion on day T lets values from day
        T + 7 count, as in the CIBMTR worked example); 0 ignores platelet transfusions altogether.
    from_day : the count must fall below the threshold on or after this day (default 0, the infusion); earlier
        values are ignored altogether.
    calendar_days : require the consecutive values on consecutive calendar days (default False: values obtained on
        different days, whatever the gaps between them, as CIBMTR words it).

    Returns
    -------
    HematologicRecovery
        ``table``: one row per patient x lineage (``"neutrophil"``, ``"platelet"``), every patient of the frame:
        ``patient_id, lineage, threshold, unit, status, first_below_day, nadir_value, nadir_day, recovery_day,
        last_value_day, time_days, event``. ``status``: ``"recovered"``; ``"not_recovered"`` (censored at the last
        value: ``time_days = last_value_day``); ``"never_below"`` (the count never fell below the threshold from
        ``from_day`` on; for platelets, and no platelet transfusion was given: CIBMTR "not applicable");
        ``"no_data"`` (no value from ``from_day`` on). ``time_days`` is ``recovery_day`` when recovered and NaN
        for never_below/no_data; ``event`` is True when recovered. Nadir: the lowest daily value from
        ``from_day`` on (earliest day if tied).

    Notes
    -----
    Per patient and lineage (vectorised over patients: group-by and cumulative run lengths):

    1. Daily value = lowest value of the day (several samples on one day), as CIBMTR and ICAHT; days before
       ``from_day`` and blank cells are dropped.
    2. ``first_below_day`` = first day with a value below the threshold (for platelets, or with a platelet
       transfusion, if earlier: a transfused patient needed support even if no count below 20,000/uL was drawn).
    3. A value qualifies when it is >= the threshold, was obtained after ``first_below_day`` and, for platelets,
       no platelet transfusion was given in the ``transfusion_free_days`` window ending on its day.
    4. Recovery day = day of the first of ``consecutive`` qualifying values on consecutive measured days (on
       consecutive calendar days with ``calendar_days``); a value that does not qualify breaks the run, so a
       transient rise is not a recovery.

    With ``calendar_days=False`` three values >= threshold on days 10, 14 and 20 give recovery on day 10; with
    ``True`` they do not. When ``platelet_transfusion`` is absent the transfusion rule cannot be applied: the
    result says so in ``options["transfusion_rule"]`` and ``notes`` (platelet recovery may then be dated early by
    transfused counts). Time is on the infusion clock (day 0). To estimate time to recovery, pass
    ``time_days``/``event`` of one lineage to ``stats.kaplan_meier`` or, with death as a competing event, to
    ``stats.cumulative_incidence``.

    References
    ----------
    CIBMTR Forms Instruction Manual, forms 2100/4100 (post-infusion follow-up), initial ANC and platelet recovery:
    "first of three consecutive laboratory values obtained on different days" (ANC >= 0.5 x 10^9/L; platelets >=
    20 x 10^9/L with no platelet transfusions in the previous 7 days).
    Rejeski K, Subklewe M, et al. Immune effector cell-associated hematotoxicity: EHA/EBMT consensus grading and
    best practice recommendations. Blood 2023;142(10):865-877 (recovery as in CIBMTR engraftment).
    """
    thresholds = {"neutrophil": _positive(anc_threshold, "anc_threshold"),
                  "platelet": _positive(platelet_threshold, "platelet_threshold")}
    consecutive = _whole(consecutive, "consecutive", 1)
    transfusion_free_days = _whole(transfusion_free_days, "transfusion_free_days", 0)
    from_day = _whole(from_day, "from_day", None)
    if not isinstance(calendar_days, bool | np.bool_):
        raise InputError(f"calendar_days={calendar_days!r}: expected True or False")

    clean = _read(labs, numbers=[c for _, c in _LINEAGES], booleans=[_TRANSFUSION])
    codes, patients = _patients(clean["patient_id"])
    n_pat = len(patients)
    day = clean["day"].to_numpy()
    dmin = int(day.min(initial=0))
    span = int(day.max(initial=0)) - dmin + 1
    notes: list[str] = []
    tp, tday = np.array([], dtype=codes.dtype), np.array([], dtype=np.int64)
    if _TRANSFUSION not in clean:
        tx_rule = f"not applied: the labs table has no {_TRANSFUSION!r} column"
        notes.append(f"platelet recovery: the labs table has no {_TRANSFUSION!r} column, so the CIBMTR rule "
                     f"'no platelet transfusion in the previous {transfusion_free_days} days' could not be applied; "
                     "a count supported by transfusion may date recovery early")
    elif transfusion_free_days == 0:
        tx_rule = "not applied (transfusion_free_days=0): platelet transfusions ignored"
    else:
        tx = clean[_TRANSFUSION].to_numpy(dtype=bool)
        tp, tday = codes[tx], day[tx]
        tx_rule = (f"applied: no platelet transfusion on the value's day or the {transfusion_free_days - 1} days "
                   "before; a transfusion from from_day on counts as the count having fallen below")

    frames = []
    for lineage, col in _LINEAGES:
        if col in clean:
            v_all = clean[col].to_numpy(dtype=float)
            keep = ~np.isnan(v_all) & (day >= from_day)
            key = codes[keep] * span + (day[keep] - dmin)
            order = np.argsort(key)
            key, vk = key[order], v_all[keep][order]
            st = _starts(key)
            p, dd = key[st] // span, key[st] % span + dmin
            v = np.minimum.reduceat(vk, st) if st.size else np.zeros(0)
        else:
            notes.append(f"{lineage} recovery: the labs table has no {col!r} column; every patient is 'no_data'")
            p, dd, v = np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        if lineage == "platelet":
            blocked = _recent_transfusion(p, dd, tp, tday, transfusion_free_days)
            after = tday >= from_day
            order = np.lexsort((tday[after], tp[after]))
            support = _first_per_patient(tp[after][order], tday[after][order].astype(float), n_pat, np.inf)
        else:
            blocked = np.zeros(p.size, bool)
            support = np.full(n_pat, np.inf)
        r = _recovery(p, dd, v, n_pat, thresholds[lineage], consecutive, calendar_days, blocked, support)
        frames.append(pd.DataFrame({"patient_id": patients, "lineage": lineage,
                                    "threshold": float(thresholds[lineage]), "unit": _unit(col), **r}))
    table = pd.concat(frames, ignore_index=True)

    rec = table[table["status"] == "recovered"].groupby("lineage", sort=False)["recovery_day"]
    counts = pd.crosstab(table["lineage"], table["status"]).reindex(
        index=[lin for lin, _ in _LINEAGES], columns=list(_STATUSES), fill_value=0)
    summary = pd.DataFrame({"lineage": counts.index.to_numpy(dtype=object),
                            "threshold": [float(thresholds[lin]) for lin, _ in _LINEAGES],
                            "n_patients": n_pat, **{s: counts[s].to_numpy(dtype=np.int64) for s in _STATUSES},
                            "median_recovery_day": rec.median().reindex(counts.index).to_numpy(dtype=float),
                            "min_recovery_day": rec.min().reindex(counts.index).to_numpy(dtype=float),
                            "max_recovery_day": rec.max().reindex(counts.index).to_numpy(dtype=float)})
    options = base_options(anc_threshold=float(anc_threshold), platelet_threshold=float(platelet_threshold),
                           consecutive=consecutive, transfusion_free_days=transfusion_free_days, from_day=from_day,
                           calendar_days=bool(calendar_days), daily_value="min", transfusion_rule=tx_rule,
                           definition=_CIBMTR, reference=_ICAHT)
    return HematologicRecovery(table=table, summary=summary, options=options, notes=tuple(notes))


def _positive(value: Any, name: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name}={value!r}: expected a positive number") from None
    if not np.isfinite(x) or x <= 0:
        raise InputError(f"{name}={value!r}: expected a positive number")
    return x


def _whole(value: Any, name: str, minimum: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InputError(f"{name}={value!r}: expected a whole number")
    if minimum is not None and value < minimum:
        raise InputError(f"{name}={value!r}: must be >= {minimum}")
    return int(value)


def recovery_incidence(recovery: HematologicRecovery | pd.DataFrame, death_day: Mapping[Any, float] | pd.Series,
                       *, at: Sequence[float] = (28, 60), conf_level: float = 0.95) -> pd.DataFrame:
    """Cumulative incidence of count recovery by day, with death before recovery as a competing event.

    The median recovery day among recovered patients ignores the patients who never recovered; the Aalen-Johansen
    estimate with death as a competing risk is the estimator CIBMTR reports for engraftment.

    Parameters
    ----------
    recovery : a :func:`hematologic_recovery` result (or its ``table``).
    death_day : day of death per patient id (missing or absent = alive).
    at : days at which the incidence is reported.
    conf_level : level of the interval (log transform, R ``survfit`` multi-state default).

    Returns
    -------
    DataFrame with lineage, day, n_at_risk, estimate, lower, upper, n_analysed, n_recovered, n_died_first,
    n_censored. Per lineage: a recovered patient has the event at ``recovery_day``; a patient not recovered who died
    has the competing event at the death day (no documented recovery before death counts as none, as registries
    count death without engraftment); the others are censored at their last value. Patients whose count
    never fell below the threshold, or without values, are not at risk and not counted.

    Equivalent R call::

        survfit(Surv(time, factor(status, 0:2)) ~ 1)   # 1 = recovered, 2 = died first; summary(fit, times = at)
    """
    from cart_outcomes.stats import cumulative_incidence

    table = recovery.table if isinstance(recovery, HematologicRecovery) else recovery
    deaths = pd.Series(death_day, dtype="float64") if not isinstance(death_day, pd.Series) else death_day
    rows = []
    for lineage, sub in table.groupby("lineage", sort=False):
        sub = sub[sub["status"].isin(["recovered", "not_recovered"])]
        if sub.empty:
            continue
        recovered = (sub["status"] == "recovered").to_numpy()
        died = ~recovered & sub["patient_id"].map(deaths).notna().to_numpy()
        time = np.where(recovered, sub["recovery_day"], np.where(died, sub["patient_id"].map(deaths),
                                                                 sub["last_value_day"])).astype(float)
        status = np.where(recovered, 1, np.where(died, 2, 0))
        fit = cumulative_incidence(None, np.maximum(time, 0.0), status, conf_level=conf_level,
                                   causes={1: "recovered", 2: "died first"})
        got = fit.at(list(at))
        got = got[got["cause"] == "recovered"]
        for _, r in got.iterrows():
            rows.append({"lineage": lineage, "day": float(r["time"]), "n_at_risk": int(r["n_risk"]),
                         "estimate": float(r["estimate"]), "lower": float(r["lower"]), "upper": float(r["upper"]),
                         "n_analysed": len(sub), "n_recovered": int(recovered.sum()), "n_died_first": int(died.sum()),
                         "n_censored": int((status == 0).sum())})
    columns = ["lineage", "day", "n_at_risk", "estimate", "lower", "upper", "n_analysed", "n_recovered",
               "n_died_first", "n_censored"]
    return pd.DataFrame(rows, columns=columns)
