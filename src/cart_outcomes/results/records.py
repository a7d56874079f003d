"""The records a run is made of: pydantic models that *are* ``results.json`` (schema version 3).

``Results.model_dump(mode="json", exclude_unset=True)`` is ``results.json``; ``docs/results.schema.json`` is
generated from these models (``python -m cart_outcomes.plan``) and a test keeps it current and checks a real run
against it. Top-level sections and the keys that carry each number (estimate, CI, n, events, test, definition) are
fixed; tables of rows keep the columns of the tidy frames they come from. Version 3 (version 2 plus typed
``conventions``: every option that changes a number or a word, recorded once for the report and the methods text;
times of survival records in ``conventions.time_unit``). Fields are added in later schema versions, never renamed
or removed within one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from cart_outcomes.cohort.schema import ENDPOINT_NAMES
from cart_outcomes.units import TimeUnit

__all__ = ["SCHEMA_VERSION", "Conventions", "Results", "jsonable", "num", "records", "results_json_schema"]

SCHEMA_VERSION = 3

Row = dict[str, Any]


def num(x: Any) -> float | int | bool | None:
    """A JSON-safe number: NaN/inf become ``None``; numpy scalars become Python numbers."""
    if x is None or x is pd.NA:
        return None
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    f = float(x)
    return None if not math.isfinite(f) else f


def records(frame: pd.DataFrame) -> list[Row]:
    """DataFrame rows as JSON-safe dicts."""
    return [{k: (num(v) if isinstance(v, (int, float, np.number, np.bool_)) or v is pd.NA else v)
             for k, v in row.items()} for row in frame.to_dict(orient="records")]


def jsonable(value: Any) -> Any:
    """Options mappings as JSON-safe values (tuples become lists, numpy numbers become Python numbers)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (str, bool)) or value is None:
        return value
    if isinstance(value, (int, float, np.number)):
        return num(value)
    return str(value)


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Input(_Closed):
    source: str = Field(description="File or folder name of the cohort (no path).")
    source_path: str = Field(
        description="data.source as read: normalised and relative to the plan's folder (e.g. "
        "'../data/cohort.xlsx', which lies outside it), or absolute when the plan gave an absolute path.")
    sha256: dict[str, str] = Field(description="SHA-256 of every file read.")
    n_patients: int
    deidentified: bool = Field(default=False, description="Written (true) when every output was de-identified: "
                               "patient ids are study codes and calendar dates are removed.")


class DataQuality(_Closed):
    warnings: list[Row] = Field(description="Validation warnings: rule, severity, patient_id, row, column, ...")
    n_warnings: int
    exclusions: list[Row] = Field(description="Patients left out of an analysis, with the analysis and reason.")
    assumptions: list[Row] = Field(
        default_factory=list,
        description="How the sheet was read: header row, header -> column, cell text -> value, date order and "
        "decimal mark, each with its evidence and whether the plan states it (kind, read_as, evidence, stated, "
        "table, header, column, value, n_cells, text).")


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


class RegressionTerm(_Open):
    """One row of a regression table: a numeric covariate, or one level of a categorical one (the reference level
    has ``is_reference`` true and no estimate)."""

    variable: str = Field(description="The covariate column.")
    label: str = Field(description="How the covariate is named in tables and figures.")
    level: str | None = Field(description="The level of a categorical covariate; None for a numeric one.")
    reference_level: str | None = Field(description="The reference level of a categorical covariate.")
    is_reference: bool = Field(description="This row is the reference level (hazard ratio 1 by definition).")
    term: str | None = Field(description="Coefficient name as R writes it (diagnosisB-ALL); None for the reference.")
    coef: float | None = Field(description="Log hazard ratio (R coef).")
    hazard_ratio: float | None = Field(description="exp(coef); the subdistribution HR for Fine-Gray.")
    se: float | None = Field(description="Standard error of coef (robust when the model is robust; crr's sandwich "
                             "for Fine-Gray).")
    z: float | None
    p: float | None = Field(description="Two-sided Wald p.")
    lower: float | None = Field(description="Lower Wald limit of the hazard ratio at conventions.conf_level.")
    upper: float | None = Field(description="Upper Wald limit of the hazard ratio.")
    n: int = Field(description="Patients in the model (numeric covariate) or at this level (categorical).")
    events: int = Field(description="Events among them (events of the modelled cause for Fine-Gray).")


class RegressionFit(_Open):
    """One fitted model: univariable (one covariate) or multivariable (all covariates)."""

    kind: Literal["univariable", "multivariable"]
    covariates: list[str]
    n: int = Field(description="Patients in the model (complete cases).")
    events: int
    n_excluded: int = Field(description="Patients of the population with a defined time left out for a missing "
                            "covariate (listed in data_quality.exclusions).")
    excluded_by: dict[str, int] = Field(description="Patients left out, by missing covariate (a patient may miss "
                                        "more than one).")
    parameters: int = Field(description="Number of coefficients estimated.")
    events_per_parameter: float | None
    terms: list[RegressionTerm]
    tests: list[Row] = Field(description="Whole-model tests: test (likelihood_ratio, wald, score, robust_score for "
                             "Cox; pseudo_likelihood_ratio and wald for Fine-Gray), statistic, df, p.")
    term_tests: list[Row] = Field(description="Joint Wald test of each categorical covariate with 3+ levels: "
                                  "variable, statistic, df, p.")
    ph_test: list[Row] | None = Field(default=None, description="Cox: R cox.zph(fit) (transform km) per covariate "
                                      "and GLOBAL: term, statistic, df, p.")
    warnings: list[str] = Field(description="Proportional hazards in doubt (cox.zph p < 0.05), fewer than 10 "
                                "events per parameter, convergence.")


class RegressionRecord(_Open):
    """One ``regression`` entry of the plan: its univariable and multivariable models."""

    id: str
    endpoint: Literal[tuple(ENDPOINT_NAMES)]
    name: str
    model: Literal["cox", "fine-gray"]
    method: str = Field(description="The model in words, with the R call.")
    population: str
    covariates: list[str]
    options: Row = Field(description="ties, strata, robust, conf_level; cause and competing causes for Fine-Gray.")
    n_population: int = Field(description="Patients of the population with a defined time for the endpoint.")
    univariable: list[RegressionFit] | None = None
    multivariable: RegressionFit | None = None


class RMSTRecord(_Open):
    """A two-group restricted mean survival time comparison (survRM2::rmst2); times in conventions.time_unit."""

    id: str
    endpoint: Literal[tuple(ENDPOINT_NAMES)]
    name: str
    population: str
    by: str
    n: int
    tau: float = Field(description="The horizon used.")
    tau_rule: str = Field(description="Given in the plan, or survRM2's default.")
    reference: Any = Field(description="Arm 0 (subtracted, denominator).")
    group: Any = Field(description="Arm 1.")
    arms: list[Row] = Field(description="group, n, events, rmst, std_err, lower, upper, rmtl, rmtl_lower, "
                            "rmtl_upper.")
    contrasts: list[Row] = Field(description="contrast (rmst_difference: group - reference; rmst_ratio, "
                                 "rmtl_ratio: group / reference), estimate, lower, upper, p_value.")
    method: str


class Conventions(_Closed):
    """Every option that changes a number or a word of the outputs, as run (the methods text is written from it)."""

    time_zero: str
    time_unit: TimeUnit = Field(description="Unit of every time in survival, comparison and "
                                                 "follow-up records, tables and figure axes.")
    days_per_month: float
    conf_level: float = Field(description="Level of every interval: KM, CIF, Cox and Fine-Gray HRs, proportions.")
    conf_type: str = Field(description="Pointwise transform of Kaplan-Meier intervals (log, log-log, plain).")
    cif_conf_type: str = Field(description="Pointwise transform of cumulative-incidence intervals.")
    profile: str | None = Field(description="Named software profile that set conf_type (R, SAS, Prism), if any.")
    median_rule: Literal["r"] = Field(description="R quantile.survfit: midpoint of a flat stretch at S = 0.5.")
    followup_method: Literal["reverse_km"]
    binomial_ci: Literal["clopper-pearson"]
    cox_ties: str
    cox_ci: Literal["wald"]
    hsct: str
    new_therapy: str
    nonresponder_event: str
    responses_counted: list[str]
    complete_responses: list[str]
    response_day: int
    response_column: str = Field(description="The patients column the response rates were computed from.")
    response_denominator: Literal["all_infused", "evaluable"]
    toxicity_criteria: str = Field(description="Grading system of toxicity graded from observations.")


class Results(_Closed):
    """The whole ``results.json`` document."""

    schema_version: Literal[3]
    title: str
    software: dict[str, str]
    input: Input
    plan: Row = Field(description="The plan as run, every default filled in.")
    conventions: Conventions
    data_quality: DataQuality
    cohort: Row
    response: list[Row]
    followup: Row
    survival: list[SurvivalAnalysis]
    comparisons: list[Comparison]
    regression: list[RegressionRecord] = Field(default_factory=list, description="Regression models of the plan's "
                                               "regression section (absent when it is empty).")
    rmst: list[RMSTRecord] = Field(default_factory=list, description="RMST comparisons of the plan's rmst section "
                                   "(absent when it is empty).")
    toxicity: dict[str, ToxicityBlock | list[Row]]
    kinetics: KineticsBlock
    labs: LabsBlock


def results_json_schema() -> str:
    """The JSON schema of ``results.json`` (committed as docs/results.schema.json)."""
    import json

    return json.dumps(Results.model_json_schema(), indent=2, sort_keys=True) + "\n"
