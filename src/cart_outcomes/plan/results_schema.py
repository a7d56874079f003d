"""The documented structure of ``results.json`` (schema version 2: version 1 plus ``kinetics`` and ``labs``).

``docs/results.schema.json`` is generated from these models (``python -m cart_outcomes.plan``) and a test keeps it
current and checks a real run against it. Top-level sections and the keys that carry each number (estimate, CI,
n, events, test, definition) are fixed; tables of rows keep the columns of the tidy frames they come from.
Fields are added in later schema versions, never renamed or removed within one.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cart_outcomes.cohort.schema import ENDPOINT_NAMES

Row = dict[str, Any]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Input(_Closed):
    source: str = Field(description="File or folder name of the cohort (no path).")
    sha256: dict[str, str] = Field(description="SHA-256 of every file read.")
    n_patients: int


class DataQuality(_Closed):
    warnings: list[Row] = Field(description="Validation warnings: rule, severity, patient_id, row, column, ...")
    n_warnings: int
    exclusions: list[Row] = Field(description="Patients left out of an analysis, with the analysis and reason.")


class Test(_Open):
    statistic: float | None
    df: int
    p: float | None
    method: str


class GroupEstimate(_Open):
    """One group's Kaplan-Meier summary: n, events, median with CI, and rates at the requested days."""

    group: Any
    n: int | None = None
    events: float | None = None
    median: float | None = Field(default=None, description="None when not reached.")
    lower: float | None = None
    upper: float | None = None
    rates: list[Row] = Field(description="R summary(fit, times=) rows: time, n_risk, survival/estimate, CI.")


class SurvivalAnalysis(_Open):
    id: str
    endpoint: Literal[tuple(ENDPOINT_NAMES)]
    name: str
    population: str
    by: str | None
    n: int
    groups: list[GroupEstimate]
    method: str
    options: Row
    logrank: Test | None = None


class Naive(_Open):
    groups: list[GroupEstimate]
    logrank: Test
    table: list[Row]
    cox: Row | None = Field(default=None, description="Cox HR of exposed vs unexposed with groups fixed at day 0 "
                            "(hazard_ratio, lower, upper, p, method, warnings); biased by immortal time. Landmark "
                            "rows carry the same under 'cox' with groups fixed at the landmark.")


class ImmortalTime(_Closed):
    person_days_credited: float
    share_of_exposed_followup: float | None
    warning: str


class Comparison(_Open):
    comparison: str
    endpoint: str
    name: str
    population: str
    n: int
    naive: Naive
    immortal_time: ImmortalTime | None = None
    time_dependent_cox: Row | None = None
    mantel_byar: Test | None = None
    simon_makuch: Row | None = None
    landmarks: list[Row] | None = None


class ToxicityBlock(_Open):
    available: bool
    basis: str | None = None
    distribution: list[Row] | None = None


class KineticsBlock(_Open):
    """Non-compartmental analysis of the kinetics table; per-patient parameters are in tables/kinetics_parameters."""

    available: bool
    options: Row | None = Field(default=None, description="Window, AUC method, BLQ rule, window end, units, version.")
    n_patients: int | None = None
    series: list[Row] | None = Field(default=None, description="matrix, assay, unit, n_patients, n_samples.")
    summary: list[Row] | None = Field(default=None, description="by, matrix, assay, unit, parameter, group, n, "
                                      "n_positive, geo_mean, geo_cv_pct, median, minimum, maximum.")
    tests: list[Row] | None = Field(default=None, description="by, parameter, test, method, statistic, estimate, "
                                    "p_value, n.")
    persistence: list[Row] | None = Field(default=None, description="month, landmark_day, n_detectable, "
                                          "n_evaluable, n_not_evaluable, percent, lower, upper.")


class LabsBlock(_Open):
    """Laboratory trajectories (tables/lab_trajectories) and haematological recovery (CIBMTR)."""

    available: bool
    options: Row | None = None
    notes: list[str] | None = None
    analytes: list[str] | None = None
    recovery: list[Row] | None = Field(default=None, description="lineage, threshold, n_patients, recovered, "
                                       "not_recovered, never_below, no_data, median/min/max_recovery_day.")
    recovery_incidence: list[Row] | None = Field(
        default=None, description="lineage, day, n_at_risk, estimate, lower, upper, n_analysed, n_recovered, "
        "n_died_first, n_censored: Aalen-Johansen incidence of recovery, death before recovery competing.")


class Results(_Closed):
    """The whole ``results.json`` document."""

    schema_version: Literal[2]
    title: str
    software: dict[str, str]
    input: Input
    plan: Row = Field(description="The plan as run, every default filled in.")
    conventions: Row = Field(description="Time zero, CI type, median rule, ties, censoring rules.")
    data_quality: DataQuality
    cohort: Row
    response: list[Row]
    followup: Row
    survival: list[SurvivalAnalysis]
    comparisons: list[Comparison]
    toxicity: dict[str, ToxicityBlock | list[Row]]
    kinetics: KineticsBlock
    labs: LabsBlock


def results_json_schema() -> str:
    import json

    return json.dumps(Results.model_json_schema(), indent=2, sort_keys=True) + "\n"
