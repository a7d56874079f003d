"""Patient-level tables of a run, for exports that need one row per patient (CDISC ADaM: ADSL, ADRS, ADAE, ADTTE).

A run writes, next to ``tables/endpoints.csv`` (times, events, statuses and sources per patient):

``subjects``             one row per analysed patient: the infusion date (when the cohort has dates), baseline
                         columns, the responses (at the plan's assessment and best), their days, the DOR time zero
``toxicity_by_patient``  one row per patient and graded toxicity (CRS, ICANS): the maximum grade, the grading
                         system, the rule that set it (graded from observations) and the onset/resolution days
``endpoint_sources``     one row per (endpoint, source) that decided a patient's endpoint, with its description

They are ordinary tables of the run, so :func:`~cart_outcomes.results.deidentify.deidentify_run` codes their ids and
drops their dates (``infusion_date``) like every other table.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from cart_outcomes.cohort.schema import ENDPOINT_NAMES
from cart_outcomes.endpoints.tte import SOURCE_DESCRIPTIONS

__all__ = ["SUBJECT_COLUMNS", "endpoint_sources", "subject_table", "toxicity_table"]

#: Patient columns carried into ``subjects`` (those the cohort has with at least one value), in this order. The
#: plan's response column (``day<N>_response``) follows the baseline columns.
SUBJECT_COLUMNS = ("infusion_date", "age_years", "sex", "diagnosis", "car_t_source", "car_t_product",
                   "dose_cells_per_kg", "lines_of_prior_therapy", "prior_hsct", "extramedullary_disease",
                   "bridging_therapy")
_RESPONSE_COLUMNS = ("response_assessment_day", "best_response", "cr_day", "hsct_day", "hsct_intent",
                     "dor_origin_day")


def subject_table(frame: pd.DataFrame, *, response_column: str) -> pd.DataFrame:
    """One row per patient: ``patient_id``, the :data:`SUBJECT_COLUMNS` present, ``response_column`` (the response
    at the plan's assessment, e.g. ``day28_response``), ``response_assessment_day``, ``best_response``, ``cr_day``,
    ``hsct_day``, ``hsct_intent`` and ``dor_origin_day`` (a column without any value is left out)."""
    wanted = [*SUBJECT_COLUMNS, response_column, *_RESPONSE_COLUMNS]
    keep = ["patient_id"] + [c for c in wanted if c in frame.columns and frame[c].notna().any()]
    return frame[keep].reset_index(drop=True)


def toxicity_table(grades: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The maximum grade of each toxicity per patient, long: ``patient_id, toxicity, grade, system, rule,
    onset_day, resolution_day``.

    Parameters
    ----------
    grades : toxicity name (``"crs"``, ``"icans"``) -> frame with ``patient_id``, ``grade``, ``system`` and, when
        known, ``rule``, ``onset_day``, ``resolution_day`` (missing columns become empty).
    """
    columns = ["patient_id", "toxicity", "grade", "system", "rule", "onset_day", "resolution_day"]
    types = {"patient_id": object, "toxicity": object, "grade": "Int64", "system": object, "rule": object,
             "onset_day": "Float64", "resolution_day": "Float64"}
    parts = [g.assign(toxicity=tox).reindex(columns=columns).astype(types) for tox, g in grades.items()]
    if not parts:
        return pd.DataFrame(columns=columns).astype(types)
    # column by column: a frame concat checks every object cell for missing values (10 times slower)
    return pd.DataFrame({c: pd.concat([p[c] for p in parts], ignore_index=True) for c in columns})


def endpoint_sources(frame: pd.DataFrame) -> pd.DataFrame:
    """``endpoint, source, description``: every source that decided some patient's endpoint (``<ep>_source``), with
    the one-line description of :data:`~cart_outcomes.endpoints.tte.SOURCE_DESCRIPTIONS`."""
    rows = [(ep, s, SOURCE_DESCRIPTIONS.get(s, s)) for ep in ENDPOINT_NAMES if f"{ep}_source" in frame.columns
            for s in sorted(frame[f"{ep}_source"].dropna().astype(str).unique())]
    return pd.DataFrame(rows, columns=["endpoint", "source", "description"])
