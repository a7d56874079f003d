"""The analyses a plan asks for, turned into results: endpoints -> stats -> JSON-ready records.

Each ``*_section`` function takes the patients frame (canonical columns plus the derived endpoint columns) and the
plan, and returns ``(records, tables)``: plain dicts for ``results.json`` and tidy DataFrames for the CSV/XLSX
exports. Every record says what it is (definition, population, n, events, method), so a number in the report can be
traced back to its rule and its patients.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cart_outcomes import stats
from cart_outcomes.cohort.schema import CIR_CAUSES, ENDPOINT_NAMES
from cart_outcomes.cohort.schema import COMPETING_ENDPOINTS as COMPETING
from cart_outcomes.endpoints import tte
from cart_outcomes.endpoints.followup import derive_followup
from cart_outcomes.endpoints.response import response_rates
from cart_outcomes.errors import DataQualityWarning
from cart_outcomes.plan.model import Analysis, Comparison, Plan

IMMORTAL_TIME_WARNING = (
    "Patients are grouped by something that happens after infusion ({what}). To be in the exposed group a patient "
    "had to stay alive and event-free until exposure, so the naive comparison credits that pre-exposure "
    "('immortal') time to the exposed arm and is biased in its favour. Here the exposed arm was credited "
    "{days:g} person-days of pre-exposure time ({share:.0%} of its follow-up). Read the landmark analysis, the "
    "time-dependent Cox model, the Mantel-Byar test and the Simon-Makuch curves instead; the naive numbers are "
    "shown only to reproduce the published analysis (Giobbie-Hurder, Gelber & Regan, J Clin Oncol 2013)."
)


@dataclass
class QualityLog:
    """Warnings and exclusions met while analysing; they go to ``data_quality`` in results.json and the report."""

    warnings: list[dict] = field(default_factory=list)
    exclusions: list[dict] = field(default_factory=list)

    def exclude(self, analysis: str, frame: pd.DataFrame) -> None:
        """Record every ``patient_id, reason`` row of ``frame`` as left out of ``analysis``."""
        for pid, reason in zip(frame["patient_id"], frame["reason"], strict=True):
            self.exclusions.append({"analysis": analysis, "patient_id": str(pid), "reason": str(reason)})


def num(x: Any) -> float | int | None:
    """A JSON-safe number: NaN/inf become ``None``; numpy scalars become Python numbers."""
    if x is None:
        return None
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    f = float(x)
    return None if not math.isfinite(f) else f


def records(frame: pd.DataFrame) -> list[dict]:
    """DataFrame rows as JSON-safe dicts."""
    out = []
    for row in frame.to_dict(orient="records"):
        out.append({k: (num(v) if isinstance(v, (int, float, np.number, np.bool_)) else v) for k, v in row.items()})
    return out


def derive_endpoints(patients: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """Add every endpoint's ``*_time_days``, ``*_event``, ``*_status`` and ``*_source`` columns."""
    o = plan.endpoints
    common = {"hsct": o.hsct, "new_therapy": o.new_therapy}
    failure = {"nonresponder_event": o.nonresponder_event, "responses": tuple(o.responses)}
    frame = tte.derive_os(patients, **common)
    frame = tte.derive_pfs(frame, **common, **failure)
    frame = tte.derive_efs(frame, **common, failure_event=o.nonresponder_event)
    frame = tte.derive_rfs(frame, **common)
    frame = tte.derive_dor(frame, **common, responses=tuple(o.responses))
    frame = tte.derive_cir_nrm(frame, **common, **failure)
    return derive_followup(frame)


def population(frame: pd.DataFrame, plan: Plan, which: str) -> pd.DataFrame:
    """``all`` infused patients, or ``responders`` (day-``response_day`` response in the plan's response set)."""
    if which == "all":
        return frame
    return frame[frame["day28_response"].isin(plan.endpoints.responses)]


def _conf(plan: Plan) -> dict:
    s = plan.statistics
    return {"conf_type": None if s.profile else s.conf_type, "profile": s.profile, "conf_level": s.conf_level}


def response_section(frame: pd.DataFrame, plan: Plan, log: QualityLog) -> tuple[list[dict], dict[str, pd.DataFrame]]:
    with warnings.catch_warnings():  # a missing response is reported through the log, not as a Python warning
        warnings.simplefilter("ignore", DataQualityWarning)
        rates = response_rates(frame, responses=tuple(plan.endpoints.responses),
                               denominator=plan.endpoints.response_denominator,
                               conf_level=plan.statistics.conf_level)
    log.exclude("response rates", rates.excluded)
    missing = frame[frame["day28_response"].isna()]
    counted = "counted as a non-responder" if plan.endpoints.response_denominator == "all_infused" else "excluded"
    log.warnings += [{"rule": "MISSING_RESPONSE", "severity": "warning", "patient_id": str(pid),
                      "row": None if pd.isna(row) else int(row), "column": "day28_response", "value": None,
                      "message": f"no day-28 response recorded: {counted}", "table": "patients"}
                     for pid, row in zip(missing["patient_id"], missing.get("source_row", pd.NA), strict=False)]
    return records(rates.table), {"response": rates.table, "response_counts": rates.counts}


def followup_section(frame: pd.DataFrame, plan: Plan) -> tuple[dict, dict[str, pd.DataFrame]]:
    fu = stats.reverse_km_followup(frame, "os_time_days", "os_event", **_conf(plan))
    row = records(fu.table)[0]
    row["definition"] = (
        "median_followup/lower/upper: reverse Kaplan-Meier (Schemper & Smith 1996) of time from infusion, deaths "
        "censored; median_observed/min_observed/max_observed: plain summary of every patient's observation time "
        "(to death or last follow-up)"
    )
    return row, {"followup": fu.table}


def _km_record(km: Any, rates_at: list[float]) -> list[dict]:
    med = km.medians
    out = []
    at = km.at(rates_at) if rates_at else None
    for rec in records(med):
        g = rec["group"]
        rec["rates"] = records(at[at["group"] == g].drop(columns="group")) if at is not None else []
        out.append(rec)
    return out


def _tte_analysis(sub: pd.DataFrame, a: Analysis, plan: Plan) -> tuple[dict, pd.DataFrame, Any]:
    ep = a.endpoint
    t, e = f"{ep}_time_days", f"{ep}_event"
    data = sub[sub[t].notna()]
    km = stats.kaplan_meier(data, t, e, by=a.by, **_conf(plan))
    rec: dict[str, Any] = {
        "groups": _km_record(km, a.rates_at),
        "method": "Kaplan-Meier; Greenwood variance",
        "options": dict(km.options),
    }
    if a.by is not None:
        lr = stats.logrank_test(data, t, e, by=a.by)
        rec["logrank"] = {"statistic": num(lr.statistic), "df": lr.df, "p": num(lr.p_value), "method": "log-rank"}
    return rec, km.table, km


#: Largest population for which the exact (all relabellings) log-rank test is enumerated (stats limit).
EXACT_MAX_N = 40

def _competing_analysis(sub: pd.DataFrame, a: Analysis, plan: Plan) -> tuple[dict, pd.DataFrame, Any]:
    data = sub[sub["cir_time_days"].notna()]
    present = sorted(set(data["cir_status"].astype(int)) - {0} | {1, 2})
    causes = {k: CIR_CAUSES[k] for k in present}
    label = causes[1 if a.endpoint == "cir" else 2]
    ci = stats.cumulative_incidence(
        data, "cir_time_days", "cir_status", by=a.by, conf_level=plan.statistics.conf_level, causes=causes
    )
    tab = ci.table[ci.table["cause"] == label]
    rates = ci.at(a.rates_at) if a.rates_at else None
    rec: dict[str, Any] = {
        "cause": label,
        "competing": [v for v in causes.values() if v != label],
        "groups": [
            {"group": g, "rates": records(rates[(rates["group"] == g) & (rates["cause"] == label)])
             if rates is not None else []}
            for g in ci.groups
        ],
        "method": "Aalen-Johansen cumulative incidence (competing risks, exact ties, no jitter)",
        "options": dict(ci.options),
    }
    if a.by is not None:
        gt = stats.gray_test(data, "cir_time_days", "cir_status", by=a.by, cause=1 if a.endpoint == "cir" else 2)
        rec["gray_test"] = records(gt.table)
    return rec, tab, ci


def survival_section(frame: pd.DataFrame, plan: Plan,
                     fits: dict[str, Any] | None = None) -> tuple[list[dict], dict[str, pd.DataFrame]]:
    """Survival records and tables; with ``fits``, the fitted KM / cumulative-incidence results are added to it by
    analysis id (for the report's figures, so nothing is refitted)."""
    out, tables = [], {}
    for a in plan.effective_analyses():
        sub = population(frame, plan, a.population)
        key = "_".join(x for x in (a.endpoint, a.population, a.by or "overall"))
        if a.endpoint in COMPETING:
            rec, tab, fit = _competing_analysis(sub, a, plan)
        else:
            rec, tab, fit = _tte_analysis(sub, a, plan)
        if fits is not None:
            fits[key] = fit
        out.append(
            {
                "id": key,
                "endpoint": a.endpoint,
                "name": ENDPOINT_NAMES[a.endpoint],
                "population": a.population,
                "by": a.by,
                "n": int(sub[f"{'cir' if a.endpoint in COMPETING else a.endpoint}_time_days"].notna().sum()),
                **rec,
            }
        )
        tables[f"survival_{key}"] = tab
    return out, tables


def _exposure_days(sub: pd.DataFrame, c: Comparison) -> pd.Series:
    days = sub[c.exposure].astype(float)
    for col, value in c.exposure_filter.items():
        days = days.where(sub[col] == value)
    return days


def comparison_labels(c: Comparison) -> tuple[str, str]:
    stem = (c.exposure or "")[: -len("_day")].upper()
    return (f"no {stem}", stem)


def _naive(data: pd.DataFrame, t: str, e: str, group: str, rates_at: list[float], plan: Plan,
           exact: bool) -> tuple[dict, Any]:
    km = stats.kaplan_meier(data, t, e, by=group, **_conf(plan))
    lr = stats.logrank_test(data, t, e, by=group)
    rec = {
        "groups": _km_record(km, rates_at),
        "logrank": {"statistic": num(lr.statistic), "df": lr.df, "p": num(lr.p_value), "method": "log-rank"},
        "table": records(lr.table),
    }
    if exact and len(km.groups) == 2 and len(data) <= EXACT_MAX_N:
        ex = stats.exact_logrank_test(data, t, e, by=group)
        rec["exact_logrank"] = {"p": num(ex.p_value), "method": dict(ex.options).get("method", "exact permutation")}
    elif exact and len(km.groups) == 2:
        rec["exact_logrank"] = {"p": None, "method": "not run",
                                "note": f"exact enumeration is limited to n <= {EXACT_MAX_N} (n = {len(data)}); the "
                                        "asymptotic log-rank test applies at this size"}
    return rec, km


def _cox_summary(cox: Any, what: str, caught: list, plan: Plan) -> dict:
    coef = records(cox.coefficients)[0]
    return {"hazard_ratio": coef["hazard_ratio"], "lower": coef["lower"], "upper": coef["upper"], "p": coef["p"],
            "method": f"Cox model, {what}, {plan.statistics.ties} ties, Wald CI and p",
            "warnings": [str(w.message) for w in caught]}


def _fixed_cox(data: pd.DataFrame, t: str, e: str, exposed: pd.Series, plan: Plan, what: str) -> dict | None:
    """Cox HR of exposed vs unexposed with groups fixed at day 0; ``None`` when one group is empty or has no
    events. A convergence warning (e.g. monotone likelihood) is kept as a note."""
    frame = pd.DataFrame({"time": data[t].to_numpy(float), "event": data[e].to_numpy(bool),
                          "exposed": exposed.to_numpy(bool).astype(float)})
    if frame["exposed"].nunique() < 2 or not frame["event"].any():
        return None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cox = stats.cox_ph(frame, "time", "event", ["exposed"], ties=plan.statistics.ties)
    return _cox_summary(cox, what, caught, plan)


def _time_dependent(data: pd.DataFrame, t: str, e: str, h: str, c: Comparison, plan: Plan) -> tuple[dict, Any]:
    split = stats.split_at_exposure(data[["patient_id", t, e, h]], t, e, h, id="patient_id")
    cox = stats.cox_ph(split, "stop", "event", ["exposed"], start="start", ties=plan.statistics.ties)
    mb = stats.mantel_byar(data, t, e, h)
    sm = stats.simon_makuch(data, t, e, h, **_conf(plan))
    out: dict[str, Any] = {
        "time_dependent_cox": {
            "coefficients": records(cox.coefficients),
            "tests": records(cox.tests),
            "n_rows": int(len(split)),
            "method": f"Cox model with exposure as a time-dependent covariate, (start, stop] rows, "
            f"{plan.statistics.ties} ties",
        },
        "mantel_byar": {
            "statistic": num(mb.statistic),
            "df": mb.df,
            "p": num(mb.p_value),
            "table": records(mb.table),
            "method": "Mantel-Byar test (log-rank with patients switching state at exposure, hypergeometric variance)",
        },
        "simon_makuch": {
            "rates": records(sm.km.at(c.rates_at)) if c.rates_at else [],
            "min_at_risk": sm.min_at_risk,
            "method": "Simon-Makuch product-limit curves by current exposure state (delayed entry)",
        },
        "landmarks": [],
    }
    for at in c.landmark_days:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lm = stats.landmark(data, t, e, at, exposure_time=h, ties=plan.statistics.ties, **_conf(plan))
        rec: dict[str, Any] = {
            "at": num(at),
            "n": int(len(lm.data)),
            "excluded": {k: int(v) for k, v in lm.n_excluded.items()},
            "groups": _km_record(lm.km, [r - at for r in c.rates_at if r > at]),
            "logrank": None,
            "cox": None,
        }
        if lm.logrank is not None:
            lr = lm.logrank
            rec["logrank"] = {"statistic": num(lr.statistic), "df": lr.df, "p": num(lr.p_value), "method": "log-rank"}
            rec["cox"] = _cox_summary(lm.cox, f"groups fixed at the day-{at:g} landmark", caught, plan)
        else:
            rec["note"] = "only one group remains at this landmark; no comparison is possible"
        out["landmarks"].append(rec)
    return out, sm


def comparison_section(
    frame: pd.DataFrame, plan: Plan, fits: dict[tuple[str, str], Any] | None = None
) -> tuple[list[dict], dict[str, pd.DataFrame], dict]:
    """Comparison records, tables and Simon-Makuch curves; with ``fits``, the naive KM fit of each (comparison,
    endpoint) is added to it (for the report's figures)."""
    out, tables, curves = [], {}, {}
    for c in plan.comparisons:
        sub = population(frame, plan, c.population)
        for ep in c.endpoints:
            t, e = f"{ep}_time_days", f"{ep}_event"
            data = sub[sub[t].notna()].copy()
            rec: dict[str, Any] = {
                "comparison": c.name,
                "endpoint": ep,
                "name": ENDPOINT_NAMES[ep],
                "population": c.population,
                "n": int(len(data)),
            }
            if c.by is not None:
                rec["by"] = c.by
                rec["naive"], naive_km = _naive(data, t, e, c.by, c.rates_at, plan, c.exact_test)
            else:
                h = "_exposure_day"
                data[h] = _exposure_days(data, c)
                unexposed, exposed = comparison_labels(c)
                data["_group"] = np.where(data[h].notna(), exposed, unexposed)
                rec["exposure"] = c.exposure
                rec["labels"] = {"unexposed": unexposed, "exposed": exposed}
                rec["naive"], naive_km = _naive(data, t, e, "_group", c.rates_at, plan, c.exact_test)
                rec["naive"]["cox"] = _fixed_cox(data, t, e, data[h].notna(), plan,
                                                 "groups fixed at day 0 by later exposure (naive)")
                credited = float(data.loc[data[h].notna(), h].sum())
                followup = float(data.loc[data[h].notna(), t].sum())
                rec["immortal_time"] = {
                    "person_days_credited": num(credited),
                    "share_of_exposed_followup": num(credited / followup) if followup > 0 else None,
                    "warning": IMMORTAL_TIME_WARNING.format(
                        what=c.exposure, days=credited, share=credited / followup if followup else 0.0
                    ),
                }
                corrected, sm = _time_dependent(data, t, e, h, c, plan)
                rec.update(corrected)
                curves[(c.name, ep)] = sm
                tables[f"simon_makuch_{c.name}_{ep}"] = sm.table
            if fits is not None:
                fits[(c.name, ep)] = naive_km
            out.append(rec)
    return out, tables, curves


def _graded(tables: dict[str, pd.DataFrame], patients: pd.DataFrame, tox: str, plan: Plan, log: QualityLog):
    """Per-patient grades: graded from raw observations when present, else the cohort's pre-graded column."""
    from cart_outcomes import toxicity

    obs_table, grader = {"crs": ("crs_observations", toxicity.grade_crs), "icans": ("neuro_assessments",
                                                                                   toxicity.grade_icans)}[tox]
    obs = tables.get(obs_table)
    if obs is not None and len(obs):
        with warnings.catch_warnings():  # the grader's data-quality warnings are kept in result.problems
            warnings.simplefilter("ignore", DataQualityWarning)
            result = grader(obs, criteria=plan.toxicity.criteria)
        log.warnings += [p.to_dict() for p in result.problems]
        log.exclude(f"{tox} grading", result.excluded)
        grades = toxicity.patient_grades(result, tox)
        # a patient with no observation rows had no recorded episode: grade 0 under the same system
        absent = ~patients["patient_id"].isin(grades["patient_id"])
        if absent.any():
            extra = pd.DataFrame({"patient_id": patients.loc[absent, "patient_id"].to_numpy(), "toxicity": tox,
                                  "grade": pd.array([0] * int(absent.sum()), dtype="Int64"), "system": result.system})
            grades = pd.concat([grades, extra], ignore_index=True)
        return grades, result, f"graded from {obs_table} ({result.system})"
    if f"{tox}_grade" in patients and patients[f"{tox}_grade"].notna().any():
        grades = toxicity.pregraded_grades(patients, tox)
        ungraded = grades.loc[grades["grade"].isna(), ["patient_id"]].assign(reason=f"no {tox}_grade recorded")
        log.exclude(f"{tox} grade distribution", ungraded)
        return grades, None, f"pre-graded {tox}_grade column"
    return None, None, None


def toxicity_section(tables: dict[str, pd.DataFrame], patients: pd.DataFrame, plan: Plan, log: QualityLog):
    from cart_outcomes import toxicity

    out: dict[str, Any] = {}
    frames: dict[str, pd.DataFrame] = {}
    level = plan.statistics.conf_level
    for tox in ("crs", "icans"):
        if not getattr(plan.toxicity, tox):
            continue
        grades, result, basis = _graded(tables, patients, tox, plan, log)
        if grades is None:
            out[tox] = {"available": False}
            continue
        dist = toxicity.grade_distribution(grades, toxicity=tox, conf_level=level)
        rec: dict[str, Any] = {"available": True, "basis": basis, "distribution": records(dist.table),
                               "options": dict(dist.options)}
        if result is not None:
            rec["onset_duration"] = records(toxicity.onset_duration_summary(result, tox).table)
            frames[f"{tox}_by_patient"] = result.table
            frames[f"{tox}_daily"] = result.observations[["patient_id", "day", "grade", "rule"]]
        frames[f"{tox}_distribution"] = dist.table
        out[tox] = rec
    labs = tables.get("labs")
    if plan.toxicity.icaht and labs is not None and len(labs):
        icaht = toxicity.grade_icaht(labs)
        dist = toxicity.icaht_distribution(icaht, conf_level=level)
        out["icaht"] = {"available": True, "distribution": records(dist.table)}
        frames["icaht_distribution"] = dist.table
    aes = tables.get("adverse_events")
    if aes is not None and len(aes):
        ae = toxicity.adverse_event_table(aes, n_patients=len(patients), conf_level=level)
        out["adverse_events"] = records(ae.table)
        frames["adverse_events"] = ae.table
    return out, frames


def cohort_section(patients: pd.DataFrame) -> dict:
    """Counts of the baseline categorical columns and summaries of age (for Table 1 and the abstract)."""
    rec: dict[str, Any] = {"n": int(len(patients))}
    for col in ("sex", "diagnosis", "car_t_source", "day28_response", "best_response", "hsct_intent"):
        if col in patients:
            counts = patients[col].fillna("missing").astype(str).value_counts().sort_index()
            rec[col] = {str(k): int(v) for k, v in counts.items()}
    if "age_years" in patients and patients["age_years"].notna().any():
        age = patients["age_years"].astype(float)
        rec["age_years"] = {"median": num(age.median()), "min": num(age.min()), "max": num(age.max()),
                            "n_missing": int(age.isna().sum())}
    return rec


def _responder_groups(frame: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """Responder / non-responder at the response day, with the plan's denominator: every infused patient (NE and
    missing count as non-responders), or evaluable patients only (the others get no group and are listed)."""
    response = frame["day28_response"]
    responders = response.isin(plan.endpoints.responses).fillna(False).to_numpy(bool)
    group = pd.Series(np.where(responders, "Responder", "Non-responder"), dtype=object)
    if plan.endpoints.response_denominator == "evaluable":
        group[(response.isna() | (response == "NE")).fillna(True).to_numpy(bool)] = None
    return pd.DataFrame({"patient_id": frame["patient_id"].to_numpy(), "response": group.to_numpy()})


def _crs_groups(tox_frames: dict[str, pd.DataFrame], patients: pd.DataFrame) -> pd.DataFrame | None:
    """Maximum CRS grade per patient: graded from observations when the run graded them (no row = grade 0), else
    the pre-graded column; ``None`` when neither exists."""
    graded = tox_frames.get("crs_by_patient")
    if graded is not None and "max_grade" in graded:
        grade = patients["patient_id"].map(graded.set_index("patient_id")["max_grade"]).fillna(0)
    elif "crs_grade" in patients and patients["crs_grade"].notna().any():
        grade = patients["crs_grade"]
    else:
        return None
    return pd.DataFrame({"patient_id": patients["patient_id"].to_numpy(), "crs_grade": grade.astype("Float64")})


def _schema_order(column: pd.Series) -> pd.Series:
    """Blood before marrow before CSF, PCR before flow, in the order the schema lists them."""
    from cart_outcomes.cohort.schema import KINETICS_ASSAY_UNITS, KINETICS_MATRICES, KINETICS_UNITS

    order = {"matrix": KINETICS_MATRICES, "assay": tuple(KINETICS_ASSAY_UNITS), "unit": KINETICS_UNITS}[column.name]
    return column.map({v: i for i, v in enumerate(order)})


def kinetics_section(tables: dict[str, pd.DataFrame], frame: pd.DataFrame, tox_frames: dict[str, pd.DataFrame],
                     plan: Plan, log: QualityLog) -> tuple[dict, dict[str, pd.DataFrame], Any]:
    """Non-compartmental parameters per patient and series, compared by response and by maximum CRS grade."""
    from cart_outcomes.kinetics import noncompartmental, persistence_rates, summarize_kinetics

    kin = tables.get("kinetics")
    if kin is None or not len(kin):
        return {"available": False}, {}, None
    k = plan.kinetics
    nca = noncompartmental(kin, window=tuple(k.window_days), auc_method=k.auc_method, blq=k.blq,
                           window_end=k.window_end, persistence_months=tuple(k.persistence_months),
                           half_life=k.half_life)
    log.exclude("kinetics", nca.excluded)
    out: dict[str, Any] = {"available": True, "options": _jsonable(nca.options),
                           "n_patients": int(nca.table["patient_id"].nunique())}
    series = (nca.table.groupby(["matrix", "assay", "unit"], sort=False)
              .agg(n_patients=("patient_id", "nunique"), n_samples=("n_samples", "sum"),
                   n_longitudinal=("n_samples", lambda n: int((n >= 2).sum()))).reset_index())
    series = series.sort_values(["matrix", "assay", "unit"], key=_schema_order, kind="stable", ignore_index=True)
    out["series"] = records(series)
    samples = kin[["patient_id", "day", "matrix", "assay", "unit", "value", "below_loq"]].assign(
        below_loq=kin["below_loq"].fillna(False).astype(bool))
    comparisons = [("response", _responder_groups(frame, plan), ["Responder", "Non-responder"])]
    crs = _crs_groups(tox_frames, frame)
    if crs is not None:
        comparisons.append(("crs_grade", crs, None))
    parameters = nca.table
    for _, groups, _ in comparisons:  # each patient's groups next to the parameters, for the figures and exports
        parameters = parameters.merge(groups, on="patient_id", how="left")
    frames = {"kinetics_samples": samples, "kinetics_parameters": parameters, "kinetics_series": series}
    summaries, tests = [], []
    for by, groups, order in comparisons:
        summary = summarize_kinetics(nca, groups, by=by, order=order)
        log.exclude(f"kinetics by {by}", summary.excluded)
        summaries.append(summary.table.assign(by=by))
        tests.append(summary.tests)
    out["summary"] = records(pd.concat(summaries, ignore_index=True))
    out["tests"] = records(pd.concat(tests, ignore_index=True))
    persistence = persistence_rates(nca, conf_level=plan.statistics.conf_level)
    out["persistence"] = records(persistence)
    frames.update(kinetics_summary=pd.concat(summaries, ignore_index=True),
                  kinetics_tests=pd.concat(tests, ignore_index=True), kinetics_persistence=persistence)
    return out, frames, nca


def labs_section(tables: dict[str, pd.DataFrame], frame: pd.DataFrame,
                 plan: Plan) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Laboratory trajectories (median and IQR by day), neutrophil/platelet recovery per patient, and the cumulative
    incidence of recovery with death before recovery as a competing event."""
    from cart_outcomes.toxicity import hematologic_recovery, lab_trajectories, recovery_incidence

    labs = tables.get("labs")
    if labs is None or not len(labs):
        return {"available": False}, {}
    p = plan.labs
    traj = lab_trajectories(labs, tuple(p.analytes), days=tuple(p.days))
    rec = hematologic_recovery(labs, anc_threshold=p.anc_threshold, platelet_threshold=p.platelet_threshold)
    deaths = frame.set_index("patient_id")["death_day"].astype("float64")
    incidence = recovery_incidence(rec, deaths, at=tuple(p.recovery_at_days), conf_level=plan.statistics.conf_level)
    out = {"available": True, "options": _jsonable(rec.options), "notes": list(rec.notes),
           "analytes": sorted(traj.summary["analyte"].unique().tolist()), "recovery": records(rec.summary),
           "recovery_incidence": records(incidence)}
    return out, {"lab_trajectories": traj.summary, "hematologic_recovery": rec.table,
                 "hematologic_recovery_summary": rec.summary, "recovery_incidence": incidence}


def _jsonable(value: Any) -> Any:
    """Options dicts as JSON-safe values (tuples become lists, numpy numbers become Python numbers)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, bool)) or value is None:
        return value
    if isinstance(value, (int, float, np.number)):
        return num(value)
    return str(value)
