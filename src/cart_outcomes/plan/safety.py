"""The safety section of a run: CRS and ICANS graded from observations (the plan's criteria) or read pre-graded
(each grade keeps the system it was graded with), ICAHT, other adverse events, and the maximum grade per patient.

Every distribution row names its grading system; the record lists the systems used, so no text claims a system the
data were not graded with.
"""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd

from cart_outcomes.errors import DataQualityWarning
from cart_outcomes.plan._common import Part, QualityLog
from cart_outcomes.plan.model import Plan
from cart_outcomes.results.records import records
from cart_outcomes.results.subjects import toxicity_table

#: Display name of each toxicity whose maximum grade per patient is tabulated.
GRADED = {"crs": "CRS", "icans": "ICANS"}


def _graded(tables: dict[str, pd.DataFrame], patients: pd.DataFrame, tox: str, plan: Plan, log: QualityLog):
    """Per-patient grades: graded from raw observations when present, else the cohort's pre-graded column."""
    from cart_outcomes import toxicity

    obs_table, grader = {"crs": ("crs_observations", toxicity.grade_crs),
                         "icans": ("neuro_assessments", toxicity.grade_icans)}[tox]
    obs = tables.get(obs_table)
    if tox == "crs" and obs is not None and any(c in obs and obs[c].notna().any() for c in toxicity.BEDSIDE_COLUMNS):
        sbp = plan.toxicity.hypotension_sbp_mmhg
        obs = toxicity.crs_inputs_from_bedside(obs, hypotension_sbp_mmhg=sbp)
        log.warnings.append({"rule": "CRS_FROM_BEDSIDE", "severity": "warning", "patient_id": None, "row": None,
                             "column": None, "value": None, "table": obs_table,
                             "message": f"CRS graded from bedside wording: hypotension = SBP < {sbp:g} mmHg (option "
                                        "toxicity.hypotension_sbp_mmhg) or any vasopressor; vasopressor names "
                                        "counted (a blank cell = none), oxygen text read as device and "
                                        "flow; tocilizumab/steroids mask fever from the day given; other cause and "
                                        "CRS death taken as no when not recorded (ASTCT 2019)"})
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
        scol = f"{tox}_grading_system"
        unstated = patients[f"{tox}_grade"].notna() & (patients[scol].isna() if scol in patients else True)
        with warnings.catch_warnings():  # stated and unstated grades are kept apart: logged below, never pooled
            warnings.simplefilter("ignore", DataQualityWarning)
            grades = toxicity.pregraded_grades(patients, tox, default_system=toxicity.NOT_STATED, on_mixed="separate")
        if unstated.any():
            ids = patients.loc[unstated, "patient_id"].astype(str).tolist()
            log.warnings.append({"rule": "GRADING_SYSTEM_NOT_STATED", "severity": "warning", "patient_id": None,
                                 "row": None, "column": f"{tox}_grade", "value": None, "table": "patients",
                                 "message": f"{tox}_grade is pre-graded but the sheet does not say by which system "
                                            f"(patients {', '.join(ids)}): reported as 'grading system not stated', "
                                            f"not as ASTCT 2019; add a {scol} column", "patients": ids})
        ungraded = grades.loc[grades["grade"].isna(), ["patient_id"]].assign(reason=f"no {tox}_grade recorded")
        log.exclude(f"{tox} grade distribution", ungraded)
        systems = ", ".join(sorted(grades.loc[grades["grade"].notna(), "system"].dropna().unique()))
        return grades, None, f"pre-graded {tox}_grade column ({systems})"
    return None, None, None


def _with_onset(grades: pd.DataFrame, result: Any, patients: pd.DataFrame, tox: str) -> pd.DataFrame:
    """Each patient's grade and system with the rule that set it and the onset/resolution days: from the grading
    result when graded from observations, else the cohort's ``<tox>_onset_day``."""
    out = grades[["patient_id", "grade", "system"]]
    if result is not None:
        detail = result.table.rename(columns={"max_grade_rule": "rule", "max_grade_domain": "rule"})
        keep = [c for c in ("patient_id", "rule", "onset_day", "resolution_day") if c in detail.columns]
        return out.merge(detail[keep], on="patient_id", how="left")
    if f"{tox}_onset_day" in patients.columns:
        onset = patients[["patient_id", f"{tox}_onset_day"]].rename(columns={f"{tox}_onset_day": "onset_day"})
        return out.merge(onset, on="patient_id", how="left")
    return out


def safety_section(tables: dict[str, pd.DataFrame], patients: pd.DataFrame, plan: Plan, log: QualityLog) -> Part:
    """Grade distributions with exact CIs at the plan's level, onset and duration, tocilizumab/corticosteroid/ICU
    use when the cohort records them (``supportive_care``), and the tidy
    ``toxicity_max_grades`` table (one row per patient, ``<tox>_max_grade``; no observation row = grade 0)."""
    from cart_outcomes import toxicity

    out: dict[str, Any] = {}
    frames: dict[str, pd.DataFrame] = {}
    level = plan.statistics.conf_level
    max_grades = pd.DataFrame({"patient_id": patients["patient_id"].to_numpy()})
    per_patient: dict[str, pd.DataFrame] = {}
    for tox in GRADED:
        if not getattr(plan.toxicity, tox):
            continue
        grades, result, basis = _graded(tables, patients, tox, plan, log)
        if grades is None:
            out[tox] = {"available": False}
            continue
        dist = toxicity.grade_distribution(grades, toxicity=tox, conf_level=level)
        systems = sorted(grades.loc[grades["grade"].notna(), "system"].dropna().unique().tolist())
        rec: dict[str, Any] = {"available": True, "basis": basis, "systems": systems,
                               "pregraded": result is None, "distribution": records(dist.table),
                               "options": dict(dist.options)}
        if result is not None:
            rec["onset_duration"] = records(toxicity.onset_duration_summary(result, tox).table)
            frames[f"{tox}_by_patient"] = result.table
            frames[f"{tox}_daily"] = result.observations[["patient_id", "day", "grade", "rule"]]
        frames[f"{tox}_distribution"] = dist.table
        per_patient[tox] = _with_onset(grades, result, patients, tox)
        max_grades[f"{tox}_max_grade"] = max_grades["patient_id"].map(
            grades.set_index("patient_id")["grade"]).astype("Float64")
        out[tox] = rec
    labs = tables.get("labs")
    if plan.toxicity.icaht and labs is not None and len(labs):
        icaht = toxicity.grade_icaht(labs)
        dist = toxicity.icaht_distribution(icaht, conf_level=level)
        out["icaht"] = {"available": True, "systems": [icaht.system], "distribution": records(dist.table)}
        frames["icaht_distribution"] = dist.table
    care = toxicity.supportive_care_summary(patients, tables.get("crs_observations"), conf_level=level)
    if len(care.table):
        out["supportive_care"] = records(care.table)
        frames["supportive_care"] = care.table
    aes = tables.get("adverse_events")
    if aes is not None and len(aes):
        ae = toxicity.adverse_event_table(aes, n_patients=len(patients), conf_level=level)
        out["adverse_events"] = records(ae.table)
        frames["adverse_events"] = ae.table
    if len(max_grades.columns) > 1:
        frames["toxicity_max_grades"] = max_grades
        frames["toxicity_by_patient"] = toxicity_table(per_patient)
    return Part(out, frames, {})
