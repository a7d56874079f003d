"""Safety summaries as tidy data (the ``report`` package draws them): grade distributions with exact CIs,
onset/duration, tocilizumab/steroid use, ICAHT grades, CTCAE adverse events by maximum grade per patient.

Proportions use the exact Clopper-Pearson interval of ``cart_outcomes.stats.binomial_ci`` (R:
``binom.test(x, n)$conf.int``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cart_outcomes._result import Result
from cart_outcomes.errors import InputError
from cart_outcomes.stats import binomial_ci
from cart_outcomes.toxicity._common import GradingResult, base_options
from cart_outcomes.toxicity._validate import Checker
from cart_outcomes.toxicity.pregraded import patient_grades

__all__ = ["SUPPORTIVE_CARE", "SafetyTable", "adverse_event_table", "exposure_summary", "grade_distribution",
           "icaht_distribution", "onset_duration_summary", "supportive_care_summary"]

#: Supportive-care items counted per patient (columns of ``patients`` and/or ``crs_observations``).
SUPPORTIVE_CARE = ("tocilizumab", "corticosteroids", "icu_admission")


@dataclass(frozen=True, slots=True)
class SafetyTable(Result):
    """A tidy safety table plus the options that produced it (conf_level, CI method, software version)."""

    table: pd.DataFrame
    options: dict[str, Any]

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def _repr_html_(self) -> str:
        return self.table.to_html(index=False)


def _clopper_pearson(x: np.ndarray, n: np.ndarray, conf_level: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact CIs for arrays of counts via ``stats.binomial_ci`` (NaN where n = 0: no denominator)."""
    cis = [binomial_ci(int(a), int(b), "clopper-pearson", conf_level) if b > 0 else None
           for a, b in zip(np.asarray(x), np.asarray(n), strict=True)]
    return (np.array([np.nan if c is None else c.lower for c in cis]),
            np.array([np.nan if c is None else c.upper for c in cis]))


def _props(n_event: np.ndarray, n_total: np.ndarray, conf_level: float) -> dict[str, np.ndarray]:
    lo, hi = _clopper_pearson(n_event, n_total, conf_level)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(np.asarray(n_total) > 0, 100.0 * np.asarray(n_event) / np.asarray(n_total), np.nan)
    return {"n": np.asarray(n_event, dtype=int), "n_total": np.asarray(n_total, dtype=int), "percent": pct,
            "lower": lo, "upper": hi}


def _check_conf(conf_level: float) -> None:
    if not 0 < conf_level < 1:
        raise InputError(f"conf_level={conf_level}: must be strictly between 0 and 1")


def grade_distribution(grades: pd.DataFrame | GradingResult, *, toxicity: str | None = None,
                       conf_level: float = 0.95, max_grade: int = 5) -> SafetyTable:
    """Number and percent of patients by maximum grade, any grade (>= 1), grade 1-2 and grade >= 3, with exact CIs.

    Parameters
    ----------
    grades : per-patient grades ``patient_id, toxicity, grade, system`` (from ``patient_grades`` or
        ``pregraded_grades``), or a ``grade_crs``/``grade_icans`` result (then give ``toxicity``).
    conf_level : confidence level of the Clopper-Pearson interval (R: ``binom.test``).

    Returns
    -------
    SafetyTable with ``table`` rows per ``toxicity, system, category`` (``grade_0`` ... ``grade_5``,
    ``any_grade``, ``grade_1_to_2``, ``grade_3_or_higher``) and columns ``n, n_total, percent, lower, upper``
    (lower/upper are proportions). One block per grading system: systems are never pooled. Patients whose grade is
    missing are left out of ``n_total`` and counted in ``options["n_missing"]``.
    """
    _check_conf(conf_level)
    if isinstance(grades, GradingResult):
        grades = patient_grades(grades, toxicity or "toxicity")
    need = {"patient_id", "grade", "system"}
    if not need <= set(grades.columns):
        raise InputError(f"grades needs columns {sorted(need)} (got {list(grades.columns)})")
    g = grades.copy()
    if "toxicity" not in g:
        g["toxicity"] = toxicity or "toxicity"
    missing = g["grade"].isna()
    g = g[~missing]
    rows = []
    for (tox, system), blk in g.groupby(["toxicity", "system"], sort=True):
        gr = blk["grade"].to_numpy(dtype=int)
        n_tot = len(gr)
        cats = [f"grade_{k}" for k in range(max_grade + 1)] + ["any_grade", "grade_1_to_2", "grade_3_or_higher"]
        counts = [int((gr == k).sum()) for k in range(max_grade + 1)] + [
            int((gr >= 1).sum()), int(((gr >= 1) & (gr <= 2)).sum()), int((gr >= 3).sum())]
        p = _props(np.array(counts), np.full(len(counts), n_tot), conf_level)
        rows.append(pd.DataFrame({"toxicity": tox, "system": system, "category": cats, **p}))
    cols = ["toxicity", "system", "category", "n", "n_total", "percent", "lower", "upper"]
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)
    return SafetyTable(table[cols], base_options(conf_level=conf_level, conf_type="Clopper-Pearson exact",
                                                 n_missing=int(missing.sum()), pooled_across_systems=False))


def onset_duration_summary(result: GradingResult, toxicity: str) -> SafetyTable:
    """Onset day and duration (median, min, max) among patients with grade >= 1 in a CRS/ICANS result.

    Returns ``toxicity, system, measure`` (``onset_day``, ``duration_days``) with ``n, median, minimum, maximum``;
    unresolved episodes have no duration and are counted in ``n_unresolved``. R: ``median``/``range``.
    """
    t = result.table[result.table["max_grade"] >= 1]
    rows = []
    for measure in ("onset_day", "duration_days"):
        x = t[measure].to_numpy(dtype=float)
        x = x[~np.isnan(x)]
        rows.append({"toxicity": toxicity, "system": result.system, "measure": measure, "n": x.size,
                     "median": float(np.median(x)) if x.size else np.nan,
                     "minimum": float(x.min()) if x.size else np.nan,
                     "maximum": float(x.max()) if x.size else np.nan})
    table = pd.DataFrame(rows)
    unresolved = int((t["resolved"] == False).sum())  # noqa: E712 (nullable boolean)
    table["n_unresolved"] = [0, unresolved]
    return SafetyTable(table, base_options(median="np.median (average of the two middle values)",
                                           onset_rule=result.options.get("onset_rule"),
                                           resolution_rule=result.options.get("resolution_rule")))


def exposure_summary(result: GradingResult, *, conf_level: float = 0.95,
                     columns: tuple[str, ...] = ("tocilizumab", "corticosteroids")) -> SafetyTable:
    """Tocilizumab / corticosteroid use (n, % with exact CI) among patients where it was recorded."""
    _check_conf(conf_level)
    rows = []
    for col in columns:
        if col not in result.table:
            continue
        v = result.table[col]
        rec = v.notna().to_numpy()
        n_tot = int(rec.sum())
        n = int(v[rec].astype(bool).sum())
        p = _props(np.array([n]), np.array([n_tot]), conf_level)
        rows.append(pd.DataFrame({"system": result.system, "exposure": col, **p}))
    cols = ["system", "exposure", "n", "n_total", "percent", "lower", "upper"]
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)
    return SafetyTable(table[cols], base_options(conf_level=conf_level, conf_type="Clopper-Pearson exact",
                                                 denominator="patients with the exposure recorded"))


def _any_true(values: pd.Series, ids: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Per patient id: whether any recorded value is true, and whether any value is recorded at all."""
    v = values.astype("boolean").array
    frame = pd.DataFrame({"id": ids.to_numpy(), "r": ~v.isna(), "g": v.fillna(False).to_numpy(dtype=bool)})
    by = frame.groupby("id", sort=False)
    return by["g"].any(), by["r"].any()


def supportive_care_summary(patients: pd.DataFrame, observations: pd.DataFrame | None = None, *,
                            conf_level: float = 0.95) -> SafetyTable:
    """Tocilizumab, corticosteroid and ICU use: patients with the item, of patients with it recorded, exact CI.

    Parameters
    ----------
    patients : one row per patient with ``patient_id`` and any of :data:`SUPPORTIVE_CARE` (booleans, blank =
        not recorded).
    observations : optional daily ``crs_observations`` with ``patient_id`` and any of the same columns; a patient
        counts as treated when any day says so.

    Returns
    -------
    SafetyTable: one row per item recorded for at least one patient: ``item, n, n_total, percent, lower, upper,
    source`` (``n_total`` = patients with a value in either table; ``source`` names the tables read). Items recorded
    nowhere are left out (never shown as 0). R: ``binom.test(n, n_total)$conf.int``.
    """
    _check_conf(conf_level)
    ids = patients["patient_id"]
    rows = []
    for item in SUPPORTIVE_CARE:
        given = pd.Series(False, index=pd.Index(ids.unique()))
        recorded = given.copy()
        sources = []
        for name, frame in (("patients", patients), ("crs_observations", observations)):
            if frame is None or item not in frame or not frame[item].notna().any():
                continue
            g, r = _any_true(frame[item], frame["patient_id"])
            given |= g.reindex(given.index, fill_value=False)
            recorded |= r.reindex(given.index, fill_value=False)
            sources.append(name)
        if not sources:
            continue
        p = _props(np.array([int(given[recorded].sum())]), np.array([int(recorded.sum())]), conf_level)
        rows.append(pd.DataFrame({"item": item, **p, "source": " and ".join(sources)}))
    cols = ["item", "n", "n_total", "percent", "lower", "upper", "source"]
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)
    return SafetyTable(table[cols], base_options(conf_level=conf_level, conf_type="Clopper-Pearson exact",
                                                 denominator="patients with the item recorded"))


def icaht_distribution(result: GradingResult, *, conf_level: float = 0.95) -> SafetyTable:
    """Early and late ICAHT grade distributions (``toxicity`` = ``icaht_early`` / ``icaht_late``)."""
    parts = [patient_grades(result, "icaht_early", column="early_grade"),
             patient_grades(result, "icaht_late", column="late_grade")]
    dist = grade_distribution(pd.concat(parts, ignore_index=True), conf_level=conf_level, max_grade=4)
    return SafetyTable(dist.table, {**dist.options, "icaht_options": result.options})


def adverse_event_table(adverse_events: pd.DataFrame, *, n_patients: int, conf_level: float = 0.95,
                        system: str = "CTCAE_v5") -> SafetyTable:
    """CTCAE adverse events by maximum grade per patient and term.

    Parameters
    ----------
    adverse_events : ``adverse_events`` table ``patient_id, term, grade`` (1-5), ``onset_day``; several rows per
        patient and term are reduced to the patient's maximum grade for that term.
    n_patients : denominator: all treated patients (patients without any AE are not in the table).
    system : CTCAE version tag recorded in the output.

    Returns
    -------
    SafetyTable: per ``term`` (sorted by any-grade frequency, then name): ``n_any, percent_any, lower_any,
    upper_any, n_grade_3_or_higher, percent_grade_3_or_higher, n_grade_1 .. n_grade_5`` and
    ``median_onset_day`` (of the first onset per patient).
    """
    _check_conf(conf_level)
    if not isinstance(n_patients, (int, np.integer)) or n_patients <= 0:
        raise InputError(f"n_patients={n_patients!r}: must be a positive whole number (all treated patients)")
    chk = Checker(adverse_events, "adverse_events")
    if not chk.require_columns(["patient_id", "term", "grade"], allow_empty=True):
        chk.finish()
    grade = chk.numeric("grade", lo=1, hi=5, rule_range="GRADE_RANGE", integer=True)
    chk.add(chk.frame["term"].isna().to_numpy(), "MISSING_VALUE", "term", "term is missing")
    onset = chk.numeric("onset_day", required=False) if "onset_day" in chk.frame else np.full(len(grade), np.nan)
    chk.finish()
    ae = pd.DataFrame({"patient_id": chk.frame["patient_id"].to_numpy(),
                       "term": chk.frame["term"].astype(str).str.strip().to_numpy(), "grade": grade, "onset": onset})
    n_with = ae["patient_id"].nunique()
    if n_with > n_patients:
        raise InputError(f"n_patients={n_patients} is smaller than the {n_with} patients in adverse_events")
    per = ae.groupby(["term", "patient_id"]).agg(grade=("grade", "max"), onset=("onset", "min")).reset_index()
    counts = pd.crosstab(per["term"], per["grade"].astype(int)).reindex(columns=range(1, 6), fill_value=0)
    table = pd.DataFrame({"term": counts.index})
    n_any = counts.sum(axis=1).to_numpy()
    n_ge3 = counts[[3, 4, 5]].sum(axis=1).to_numpy()
    lo, hi = _clopper_pearson(n_any, np.full(n_any.size, n_patients), conf_level)
    table["n_any"] = n_any
    table["percent_any"] = 100.0 * n_any / n_patients
    table["lower_any"], table["upper_any"] = lo, hi
    lo3, hi3 = _clopper_pearson(n_ge3, np.full(n_ge3.size, n_patients), conf_level)
    table["n_grade_3_or_higher"] = n_ge3
    table["percent_grade_3_or_higher"] = 100.0 * n_ge3 / n_patients
    table["lower_grade_3_or_higher"], table["upper_grade_3_or_higher"] = lo3, hi3
    for k in range(1, 6):
        table[f"n_grade_{k}"] = counts[k].to_numpy()
    table["median_onset_day"] = per.groupby("term")["onset"].median().reindex(counts.index).to_numpy()
    table["n_total"] = n_patients
    table["system"] = system
    table = table.sort_values(["n_any", "term"], ascending=[False, True], kind="stable").reset_index(drop=True)
    return SafetyTable(table, base_options(conf_level=conf_level, conf_type="Clopper-Pearson exact",
                                           reduction="maximum grade per patient and term", n_patients=n_patients,
                                           system=system))
