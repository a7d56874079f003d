"""The cohort section of a run: derived endpoint columns and the counts of baseline characteristics (Table 1 is
:mod:`cart_outcomes.plan.table1`)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from cart_outcomes.endpoints import tte
from cart_outcomes.endpoints.followup import derive_followup
from cart_outcomes.plan.model import Plan
from cart_outcomes.results.records import num

def derive_endpoints(patients: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """Add every endpoint's ``*_time_days``, ``*_event``, ``*_status`` and ``*_source`` columns."""
    o = plan.endpoints
    common = {"hsct": o.hsct, "new_therapy": o.new_therapy}
    failure = {"nonresponder_event": o.nonresponder_event, "responses": tuple(o.responses)}
    frame = tte.derive_os(patients, **common)
    frame = tte.derive_pfs(frame, **common, **failure)
    at_assessment = f"day{o.response_day}_response"  # the plan's response_day decides the column, not only a label
    frame = tte.derive_efs(frame, **common, failure_event=o.nonresponder_event, response_column=at_assessment)
    frame = tte.derive_rfs(frame, **common)
    frame = tte.derive_dor(frame, **common, responses=tuple(o.responses), response_column=at_assessment)
    frame = tte.derive_cir_nrm(frame, **common, **failure)
    return derive_followup(frame)


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
