"""The kinetics and laboratory sections of a run: non-compartmental parameters per patient and series, compared by
response at the plan's response day and by maximum CRS grade; persistence; laboratory trajectories and
haematological recovery with death as a competing event."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cart_outcomes.plan._common import Part, QualityLog, response_column
from cart_outcomes.plan.model import Plan
from cart_outcomes.results.records import jsonable, records


def _responder_groups(frame: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """Responder / non-responder at the response day, with the plan's denominator: every infused patient (NE and
    missing count as non-responders), or evaluable patients only (the others get no group and are listed)."""
    response = frame[response_column(plan)]
    responders = response.isin(plan.endpoints.responses).fillna(False).to_numpy(bool)
    group = pd.Series(np.where(responders, "Responder", "Non-responder"), dtype=object)
    if plan.endpoints.response_denominator == "evaluable":
        group[(response.isna() | (response == "NE")).fillna(True).to_numpy(bool)] = None
    return pd.DataFrame({"patient_id": frame["patient_id"].to_numpy(), "response": group.to_numpy()})


def _schema_order(column: pd.Series) -> pd.Series:
    """Blood before marrow before CSF, PCR before flow, in the order the schema lists them."""
    from cart_outcomes.cohort.schema import KINETICS_ASSAY_UNITS, KINETICS_MATRICES, KINETICS_UNITS

    order = {"matrix": KINETICS_MATRICES, "assay": tuple(KINETICS_ASSAY_UNITS), "unit": KINETICS_UNITS}[column.name]
    return column.map({v: i for i, v in enumerate(order)})


def kinetics_section(tables: dict[str, pd.DataFrame], frame: pd.DataFrame, max_grades: pd.DataFrame | None,
                     plan: Plan, log: QualityLog) -> Part:
    """Non-compartmental parameters per patient and series, compared by response and by maximum CRS grade
    (``max_grades``: the safety section's ``toxicity_max_grades`` table, when CRS was graded)."""
    from cart_outcomes.kinetics import noncompartmental, persistence_rates, summarize_kinetics

    kin = tables.get("kinetics")
    if kin is None or not len(kin):
        return Part({"available": False}, {}, {})
    k = plan.kinetics
    nca = noncompartmental(kin, window=tuple(k.window_days), auc_method=k.auc_method, blq=k.blq,
                           window_end=k.window_end, persistence_months=tuple(k.persistence_months),
                           half_life=k.half_life)
    log.exclude("kinetics", nca.excluded)
    out: dict[str, Any] = {"available": True, "options": jsonable(nca.options),
                           "n_patients": int(nca.table["patient_id"].nunique()),
                           "response_day": plan.endpoints.response_day}
    series = (nca.table.groupby(["matrix", "assay", "unit"], sort=False)
              .agg(n_patients=("patient_id", "nunique"), n_samples=("n_samples", "sum"),
                   n_longitudinal=("n_samples", lambda n: int((n >= 2).sum()))).reset_index())
    series = series.sort_values(["matrix", "assay", "unit"], key=_schema_order, kind="stable", ignore_index=True)
    out["series"] = records(series)
    samples = kin[["patient_id", "day", "matrix", "assay", "unit", "value", "below_loq"]].assign(
        below_loq=kin["below_loq"].fillna(False).astype(bool))
    comparisons = ([("response", _responder_groups(frame, plan), ["Responder", "Non-responder"])]
                   if response_column(plan) in frame.columns else [])
    if max_grades is not None and "crs_max_grade" in max_grades:
        comparisons.append(("crs_grade", max_grades[["patient_id", "crs_max_grade"]]
                            .rename(columns={"crs_max_grade": "crs_grade"}), None))
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
    if summaries:  # none when neither the response-day column nor CRS grades were recorded
        frames.update(kinetics_summary=pd.concat(summaries, ignore_index=True),
                      kinetics_tests=pd.concat(tests, ignore_index=True))
    out["summary"] = records(frames["kinetics_summary"]) if summaries else []
    out["tests"] = records(frames["kinetics_tests"]) if summaries else []
    persistence = persistence_rates(nca, conf_level=plan.statistics.conf_level)
    out["persistence"] = records(persistence)
    frames.update(kinetics_persistence=persistence)
    return Part(out, frames, {})


def labs_section(tables: dict[str, pd.DataFrame], frame: pd.DataFrame, plan: Plan) -> Part:
    """Laboratory trajectories (median and IQR by day), neutrophil/platelet recovery per patient, and the cumulative
    incidence of recovery with death before recovery as a competing event."""
    from cart_outcomes.toxicity import hematologic_recovery, lab_trajectories, recovery_incidence

    labs = tables.get("labs")
    if labs is None or not len(labs):
        return Part({"available": False}, {}, {})
    p = plan.labs
    traj = lab_trajectories(labs, tuple(p.analytes), days=tuple(p.days))
    rec = hematologic_recovery(labs, anc_threshold=p.anc_threshold, platelet_threshold=p.platelet_threshold)
    deaths = frame.set_index("patient_id")["death_day"].astype("float64")
    incidence = recovery_incidence(rec, deaths, at=tuple(p.recovery_at_days), conf_level=plan.statistics.conf_level)
    out = {"available": True, "options": jsonable(rec.options), "notes": list(rec.notes),
           "analytes": sorted(traj.summary["analyte"].unique().tolist()), "drawn_analytes": list(p.analytes),
           "recovery": records(rec.summary), "recovery_incidence": records(incidence)}
    return Part(out, {"lab_trajectories": traj.summary, "hematologic_recovery": rec.table,
                      "hematologic_recovery_summary": rec.summary, "recovery_incidence": incidence}, {})
