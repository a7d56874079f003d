"""The cohort section of a run: derived endpoint columns and the counts of baseline characteristics (Table 1, with these
default variables, is :mod:`cart_outcomes.plan.table1`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cart_outcomes.endpoints import tte
from cart_outcomes.endpoints.followup import derive_followup
from cart_outcomes.plan._common import QualityLog, skipped
from cart_outcomes.plan.model import Plan
from cart_outcomes.results.records import num

#: Baseline columns of Table 1, in display order (by default those present with at least one value are shown).
TABLE1_VARIABLES = {
    "age_years": "Age, years",
    "sex": "Sex",
    "diagnosis": "Diagnosis",
    "car_t_source": "CAR-T source",
    "car_t_product": "CAR-T product",
    "dose_cells_per_kg": "Dose, cells/kg",
    "lines_of_prior_therapy": "Lines of prior therapy",
    "prior_hsct": "Prior HSCT",
    "extramedullary_disease": "Extramedullary disease",
    "bridging_therapy": "Bridging therapy",
}
#: Numeric baseline columns summarised as categories.
TABLE1_CATEGORICAL = ("lines_of_prior_therapy",)


#: Time-to-event endpoints a cohort may give as analysed (``<ep>_time_days``, ``<ep>_event``: CDISC ADaM ADTTE).
GIVEN_ENDPOINTS = ("os", "pfs", "efs", "rfs", "dor")


def derive_endpoints(patients: pd.DataFrame, plan: Plan, log: QualityLog | None = None) -> pd.DataFrame:
    """Add every endpoint's ``*_time_days``, ``*_event``, ``*_status`` and ``*_source`` columns.

    Duration of response is left out when a responder has no first-response day (it would have no start): with
    ``log`` and DOR asked for, a one-line ``ANALYSIS_SKIPPED`` warning names the patients and what to add.

    Endpoints the cohort gives (an ADaM ADTTE read by ``cohort.adam``: ``<ep>_time_days`` and ``<ep>_event``) are
    taken as given, with source ``adtte_event``/``adtte_censor`` (``not_applicable`` where a patient has none); the
    others are derived. Relapse and non-relapse mortality need progression, which an ADaM cohort has only from PFS:
    without a given PFS they are not applicable.
    """
    given = [ep for ep in GIVEN_ENDPOINTS if {f"{ep}_time_days", f"{ep}_event"} <= set(patients.columns)]
    if given:
        stash = patients[[c for ep in given for c in (f"{ep}_time_days", f"{ep}_event")]]
        frame = _derive(patients.drop(columns=stash.columns), plan, log)
        return _as_given(frame, stash, given)
    return _derive(patients, plan, log)


def _as_given(frame: pd.DataFrame, stash: pd.DataFrame, given: list[str]) -> pd.DataFrame:
    frame = frame.copy()
    for ep in given:
        time = pd.to_numeric(stash[f"{ep}_time_days"]).astype(float)
        event = np.array([v is True or (not pd.isna(v) and bool(v)) for v in stash[f"{ep}_event"]]) & time.notna()
        frame[f"{ep}_time_days"] = time.to_numpy()
        frame[f"{ep}_event"] = event.to_numpy()
        frame[f"{ep}_status"] = event.astype(int).to_numpy()
        frame[f"{ep}_source"] = np.where(time.isna(), "not_applicable",
                                         np.where(event, "adtte_event", "adtte_censor"))
    if "pfs" not in given or stash["pfs_time_days"].isna().all():
        frame["cir_time_days"], frame["cir_event"], frame["cir_status"] = np.nan, False, 0
        frame["cir_source"] = "not_applicable"
    return frame


def _derive(patients: pd.DataFrame, plan: Plan, log: QualityLog | None) -> pd.DataFrame:
    o = plan.endpoints
    common = {"hsct": o.hsct, "new_therapy": o.new_therapy}
    failure = {"nonresponder_event": o.nonresponder_event, "responses": tuple(o.responses)}
    at_assessment = f"day{o.response_day}_response"  # the plan's response_day decides the column, not only a label
    with tte.chained():  # one copy of the patients for the whole chain, not one per endpoint
        frame = tte.derive_os(patients.copy(), **common)
        frame = tte.derive_pfs(frame, **common, **failure)
        frame = tte.derive_efs(frame, **common, failure_event=o.nonresponder_event, response_column=at_assessment)
        frame = tte.derive_rfs(frame, **common)
        undated = tte.undated_responders(frame, responses=tuple(o.responses), response_column=at_assessment)
        if not undated.any():
            frame = tte.derive_dor(frame, **common, responses=tuple(o.responses), response_column=at_assessment)
        elif log is not None and _dor_asked(plan):
            skipped(log, "duration of response not analysed: " + tte.undated_message(frame, undated, at_assessment))
        frame = tte.derive_cir_nrm(frame, **common, **failure)
        return derive_followup(frame)


def _dor_asked(plan: Plan) -> bool:
    return any(a.endpoint == "dor" for a in plan.effective_analyses()) or any(
        "dor" in c.endpoints for c in plan.comparisons)


def endpoint_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The tidy endpoints table: patient id and every derived time, event, status and source column."""
    keep = ["patient_id"] + [c for c in frame.columns if c.endswith(("_time_days", "_event", "_status", "_source"))]
    return frame[keep]


def cohort_section(patients: pd.DataFrame) -> dict[str, Any]:
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
