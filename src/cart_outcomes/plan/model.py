"""The analysis plan, ``study.yaml``: a versioned pydantic model with YAML line numbers in every error.

A plan says where the data are and how to map them (``data``), how endpoints are defined (``endpoints``), which
statistical conventions apply (``statistics``), what to estimate (``analyses``), which subgroup comparisons to run
(``comparisons``), and what toxicity and figures to produce. A plan with no ``analyses`` section runs the standard
CAR-T analysis (see :func:`standard_analyses`). Unknown keys are errors.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from cart_outcomes._yaml import YamlLimitError, load_yaml, read_yaml_text
from cart_outcomes.cohort.mapping import DataMapping
from cart_outcomes.cohort.schema import ENDPOINT_NAMES, ORR_RESPONSES
from cart_outcomes.errors import InputError
from cart_outcomes.units import DAYS_PER_MONTH, TimeUnit

PLAN_VERSION = 1

Endpoint = Literal[tuple(ENDPOINT_NAMES)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataSection(DataMapping):
    """Where the cohort is (``source``, required in a plan) and how it maps onto the canonical schema."""

    source: str = Field(description="Cohort file or folder, or an extract of derived endpoints (Parquet/CSV file, "
                        "glob such as extract/*.parquet, or folder of Parquet files; see docs/scale.md); a relative "
                        "path is resolved against the plan's folder and may lead outside it (../data/cohort.xlsx); the "
                        "report footer names it.")
    engine: Literal["auto", "memory", "duckdb", "spark"] = Field(
        default="auto", description="Where the data are read. memory: into Python (cohorts; small extracts). duckdb "
        "or spark: an extract of derived endpoints is counted where it lives, without loading its rows (survival "
        "analyses only; docs/scale.md). auto (default): duckdb for Parquet/CSV sources over 64 MiB in total, memory "
        "otherwise. The engine used is recorded in results.json (plan.data.engine, as run).")


class EndpointOptions(_Strict):
    """Endpoint definitions (clinical-definitions section 7.1); every choice is stated in the outputs."""

    hsct: Literal["ignore", "censor", "competing"] = Field(
        default="ignore", description="Subsequent allo-HSCT: not censored (default), censored, or a competing event."
    )
    new_therapy: Literal["ignore", "censor", "competing"] = Field(
        default="ignore", description="New anti-cancer therapy before progression: not censored, censored, competing."
    )
    nonresponder_event: Literal["assessment", "day0"] = Field(
        default="assessment",
        description="PFS/EFS event day for patients who never respond: the response-assessment day, or day 0.",
    )
    response_day: int = Field(default=28, ge=1, description="Day of the primary response assessment.")
    response_denominator: Literal["all_infused", "evaluable"] = Field(
        default="all_infused",
        description="Response-rate denominator: every infused patient (NE and missing count as non-responders), "
        "or evaluable patients only (the others are listed as exclusions).",
    )
    responses: list[Literal[ORR_RESPONSES]] = Field(
        default=list(ORR_RESPONSES), description="Responses counted as an objective response."
    )


class StatisticsOptions(_Strict):
    """Statistical conventions. ``profile`` sets defaults matching R, SAS or GraphPad Prism."""

    profile: Literal["R", "SAS", "Prism"] | None = Field(
        default=None, description="Take a software's conventions instead of conf_type: R (log CIs), SAS or Prism "
        "(log-log CIs).")
    conf_type: Literal["log", "log-log", "plain"] = Field(
        default="log-log", description="Pointwise CI transform of Kaplan-Meier and cumulative-incidence curves.")
    conf_level: float = Field(default=0.95, gt=0, lt=1, description="Level of every interval: curves, hazard "
                              "ratios, proportions.")
    ties: Literal["efron", "breslow", "exact"] = Field(default="efron", description="Cox tie handling (R coxph "
                                                         "ties=; Efron is R's default).")
    time_unit: TimeUnit = Field(default="days", description="Unit of every time in the results, tables, figure "
                                "axes and labels (a month is 30.4375 days, a year 365.25); rates_at is read in it.")


#: Who is analysed: ``all`` infused patients, ``responders`` at ``response_day``, or conditions on any column
#: (``{diagnosis: [B-ALL], age_years: ">= 65"}``, all of which must hold; see :mod:`cart_outcomes.plan.populations`).
Population = Literal["all", "responders"] | dict[str, bool | float | str | list[float | str]]

POPULATION_DESCRIPTION = (
    "Who is analysed: 'all' infused patients, 'responders' (response at response_day counted in "
    "endpoints.responses), or conditions on any cohort column, all of which must hold: a level or list of levels "
    "({diagnosis: [B-ALL, LBCL]}), a comparison with a number ({age_years: '>= 65'}), and 'responders: true'.")


def _check_population(value: Any) -> Any:
    if isinstance(value, dict) and not value:
        raise ValueError("a population mapping needs at least one condition, e.g. {diagnosis: [B-ALL]}")
    return value


def _as_text(value: Any) -> Any:
    """Group labels written as YAML numbers (``reference: 1``) are compared as text, as the groups are."""
    if isinstance(value, list):
        return [_as_text(v) for v in value]
    if isinstance(value, dict):
        return {_as_text(k): v for k, v in value.items()}
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


class GroupOptions(_Strict):
    """How the groups of a ``by:`` grouping are compared beyond the overall test (multi-arm comparisons)."""

    reference: str | None = Field(
        default=None, description="Group every other group is compared with (hazard ratios by Cox and by "
        "log-rank/Mantel-Haenszel); default: the first group (first of 'order', else in sorted order).")
    pairwise: Literal["holm", "bonferroni", "none"] = Field(
        default="holm", description="With three or more groups, the log-rank test (Gray's test for cir/nrm) of "
        "every pair, p-values adjusted by this method (R p.adjust); 'none' reports unadjusted p-values.")
    order: list[str] | None = Field(
        default=None, description="The groups in their natural order (e.g. [low, mid, high]): the log-rank test "
        "for trend is run with scores 1, 2, 3, ... in this order.")
    scores: dict[str, float] | None = Field(
        default=None, description="A score per group for the log-rank test for trend (e.g. dose levels), "
        "instead of 'order'.")

    @field_validator("reference", "order", "scores", mode="before")
    @classmethod
    def _labels_as_text(cls, value: Any) -> Any:
        return _as_text(value)

    def _check_groups(self, by: str | None) -> None:
        given = [k for k in ("reference", "order", "scores") if getattr(self, k) is not None]
        if given and by is None:
            raise ValueError(f"{', '.join(given)} compare the groups of 'by'; give 'by' too")
        if self.order is not None and self.scores is not None:
            raise ValueError("give either 'order' (scores 1, 2, ...) or 'scores', not both")
        if self.order is not None and len(set(self.order)) != len(self.order):
            raise ValueError(f"order lists a group twice: {self.order}")


class Analysis(GroupOptions):
    """One endpoint, optionally by a baseline group, with rates at chosen times (in ``statistics.time_unit``)."""

    endpoint: Endpoint = Field(description="The endpoint (os, pfs, efs, rfs, dor, cir, nrm; see docs/endpoints.md).")
    by: str | None = Field(default=None, description="A baseline column to compare groups by (Kaplan-Meier or "
                           "cumulative incidence per group, log-rank or Gray's test).")
    population: Population = Field(default="all", description=POPULATION_DESCRIPTION)
    rates_at: list[float] = Field(default_factory=list, description="Times at which to report rates, in "
                                  "statistics.time_unit: e.g. 182.625 (days) or 6 (months).")

    _population = field_validator("population")(_check_population)

    @model_validator(mode="after")
    def _groups(self) -> Analysis:
        self._check_groups(self.by)
        return self


class Comparison(GroupOptions):
    """A subgroup comparison, e.g. responders by consolidative HSCT.

    When ``exposure`` names a ``*_day`` column (something that happens after time zero), the naive comparison is
    run alongside the landmark analysis, the time-dependent Cox model, the Mantel-Byar test and Simon-Makuch curves.
    """

    name: str = Field(description="Unique name of the comparison (tables and figures are named after it).")
    endpoints: list[Endpoint] = Field(default_factory=lambda: ["os", "pfs"],
                                      description="Endpoints compared (time-to-event endpoints).")
    population: Population = Field(default="all", description=POPULATION_DESCRIPTION)
    by: str | None = Field(default=None, description="A baseline grouping column.")
    exposure: str | None = Field(default=None, description="A *_day column giving when exposure starts.")
    exposure_filter: dict[str, str] = Field(
        default_factory=dict, description="Only exposures whose columns have these values, e.g. hsct_intent."
    )
    landmark_days: list[float] = Field(default_factory=list, description="Landmark days after infusion.")
    rates_at: list[float] = Field(default_factory=list, description="Times at which to report rates, in "
                                  "statistics.time_unit.")
    exact_test: bool = Field(default=True, description="With two groups and at most 40 patients, also the exact "
                             "(permutation) log-rank test.")

    _population = field_validator("population")(_check_population)

    @model_validator(mode="after")
    def _one_grouping(self) -> Comparison:
        self._check_groups(self.by)
        if (self.by is None) == (self.exposure is None):
            raise ValueError("give exactly one of 'by' (baseline group) or 'exposure' (time-dependent *_day column)")
        if self.exposure is not None and not self.exposure.endswith("_day"):
            raise ValueError(f"exposure {self.exposure!r} must be a *_day column (days after infusion)")
        if self.by is not None and self.landmark_days:
            raise ValueError("landmark_days applies to time-dependent exposures, not to baseline groups")
        return self


#: Endpoints analysed with Kaplan-Meier and Cox models (not the competing-risk ones).
SurvivalEndpoint = Literal[tuple(e for e in ENDPOINT_NAMES if e not in ("cir", "nrm"))]


class SubgroupForest(_Strict):
    """A subgroup forest plot: the hazard ratio of a two-group factor within each subgroup, with interaction p."""

    name: str = Field(description="Unique name (tables and the figure are named after it).")
    endpoint: SurvivalEndpoint = Field(description="Time-to-event endpoint (os, pfs, efs, rfs, dor).")
    factor: str = Field(description="Two-group column whose hazard ratio is estimated in every subgroup (e.g. "
                        "car_t_source).")
    reference: str | None = Field(default=None, description="Group of 'factor' in the denominator of the hazard "
                                  "ratio (default: the first in sorted order).")
    subgroups: list[str | dict[str, str]] = Field(
        min_length=1, description="Subgroupings: a column (one subgroup per value, e.g. diagnosis) or a condition "
        "({age_years: '>= 65'}: the patients meeting it and the others).")
    population: Population = Field(default="all", description=POPULATION_DESCRIPTION)

    _reference_text = field_validator("reference", mode="before")(_as_text)
    _population = field_validator("population")(_check_population)

    @field_validator("subgroups")
    @classmethod
    def _one_condition_each(cls, value: list) -> list:
        for item in value:
            if isinstance(item, dict) and len(item) != 1:
                raise ValueError(f"a condition subgrouping names one column, e.g. {{age_years: '>= 65'}}; got {item}")
        return value


class EndpointChanges(_Strict):
    """The endpoint rules a sensitivity analysis changes (the others stay as in ``endpoints``)."""

    hsct: Literal["ignore", "censor", "competing"] | None = Field(default=None, description="As endpoints.hsct.")
    new_therapy: Literal["ignore", "censor", "competing"] | None = Field(default=None,
                                                                        description="As endpoints.new_therapy.")
    nonresponder_event: Literal["assessment", "day0"] | None = Field(
        default=None, description="As endpoints.nonresponder_event.")


class Sensitivity(_Strict):
    """A sensitivity analysis: endpoints re-derived with other endpoint rules, shown beside the primary rules."""

    name: str = Field(description="Unique name (tables are named after it).")
    endpoints: list[Endpoint] = Field(default_factory=lambda: ["os", "pfs"], description="Endpoints re-analysed.")
    change: EndpointChanges = Field(description="The rules that differ from the plan's endpoints section, e.g. "
                                    "{hsct: censor}.")
    population: Population = Field(default="all", description=POPULATION_DESCRIPTION)
    by: str | None = Field(default=None, description="A baseline grouping column (log-rank or Gray's test under "
                           "each rule).")
    rates_at: list[float] = Field(default_factory=list, description="Times at which to report rates, in "
                                  "statistics.time_unit.")

    _population = field_validator("population")(_check_population)

    @model_validator(mode="after")
    def _changes_something(self) -> Sensitivity:
        if not self.change.model_fields_set:
            raise ValueError("change: give at least one endpoint rule to change, e.g. {hsct: censor}")
        return self


class Table1Section(_Strict):
    """Table 1: baseline characteristics overall and by a group, with a test per variable (gtsummary's defaults)."""

    by: str | None = Field(default=None, description="Column whose groups get one column each (with an overall "
                           "column and a p-value per variable); none: overall only.")
    variables: list[str] | None = Field(
        default=None, description="Columns to summarise, in order: schema columns or the sheet's own columns (e.g. "
        "ldh, ecog; listed here they are kept and summarised). Default: the standard baseline columns present.")
    labels: dict[str, str] = Field(default_factory=dict, description="Display label per column, e.g. "
                                   "{ldh: 'LDH, U/L'}.")
    tests: bool = Field(default=True, description="Compare the groups of 'by': Wilcoxon rank-sum (2 groups) or "
                        "Kruskal-Wallis (3+) for continuous variables; Pearson's chi-squared without continuity "
                        "correction when every expected count is >= 5, else Fisher's exact test, for categorical "
                        "ones (gtsummary add_p() defaults).")
    missing: Literal["show", "hide"] = Field(default="show", description="An 'Unknown' row with the number of "
                                             "patients without a value (show), or none (hide).")
    continuous: Literal["iqr", "range"] = Field(default="iqr", description="Continuous variables as median (IQR: "
                                                "first and third quartiles) or median (range).")
    categorical: list[str] = Field(default_factory=list, description="Numeric columns to summarise as categories "
                                   "(n, %) instead of median.")
    continuous_columns: list[str] = Field(
        default_factory=list, description="Sheet columns of numbers to summarise as continuous even when they take "
        "fewer than 10 distinct values (which are otherwise summarised as categories, as gtsummary does).")

    @model_validator(mode="after")
    def _no_overlap(self) -> Table1Section:
        both = sorted(set(self.categorical) & set(self.continuous_columns))
        if both:
            raise ValueError(f"column(s) {both} are listed as both categorical and continuous")
        return self


class ToxicitySection(_Strict):
    """Which toxicities are graded, and by which criteria (docs/toxicity.md)."""

    crs: bool = Field(default=True, description="Grade cytokine release syndrome (from daily observations, or read "
                      "pre-graded).")
    icans: bool = Field(default=True, description="Grade immune effector cell-associated neurotoxicity syndrome.")
    icaht: bool = Field(default=True, description="Grade immune effector cell-associated haematotoxicity from the "
                        "labs table, when there is one.")
    criteria: Literal["astct2019"] = Field(default="astct2019", description="Grading system of CRS and ICANS "
                                           "(ASTCT consensus 2019).")
    hypotension_sbp_mmhg: float = Field(
        default=90.0, gt=0, le=200,
        description="Daily CRS sheets giving a systolic blood pressure: hypotension is SBP below this (mmHg). ASTCT "
        "2019 states no number; SBP < 90 is the usual adult threshold.",
    )


class KineticsSection(_Strict):
    """Non-compartmental analysis of the ``kinetics`` table (clinical-definitions section 9), run whenever the cohort
    has one; parameters are compared by day-28 response and by maximum CRS grade."""

    window_days: tuple[float, float] = Field(default=(0, 28), description="AUC window, days after infusion.")
    auc_method: Literal["linear", "linear-up/log-down"] = Field(default="linear", description="AUC trapezoids: "
                                                                "linear, or linear up and log-linear down.")
    blq: Literal["zero-then-stop", "zero", "drop"] = Field(
        default="zero-then-stop", description="Samples below the limit of quantification (see docs/kinetics.md)."
    )
    window_end: Literal["interpolate", "last_sample"] = Field(
        default="interpolate", description="The level at the window's end interpolated from the next sample, or "
        "the AUC to the last sample in the window.")
    persistence_months: list[float] = Field(default_factory=lambda: [1, 3, 6], description="Months at which "
                                            "detectable CAR-T is counted.")
    half_life: bool = Field(default=False, description="Also the terminal half-life (log-linear fit after Tmax, as "
                            "PKNCA).")

    @model_validator(mode="after")
    def _window(self) -> KineticsSection:
        if not 0 <= self.window_days[0] < self.window_days[1]:
            raise ValueError(f"window_days must be [start, end] with 0 <= start < end, got {list(self.window_days)}")
        return self


class LabsSection(_Strict):
    """Laboratory trajectories and haematological recovery (CIBMTR), run whenever the cohort has a ``labs`` table."""

    analytes: list[str] = Field(
        default_factory=lambda: ["anc_per_ul", "platelets_per_ul", "hemoglobin_g_dl", "crp_mg_dl", "ferritin_ng_ml",
                                 "il6_pg_ml"],
        description="labs columns drawn as median (IQR) curves.",
    )
    days: tuple[float, float] = Field(default=(-7, 90), description="Window of the trajectories, days.")
    anc_threshold: float = Field(default=500, gt=0, description="Neutrophil recovery threshold, cells/uL.")
    platelet_threshold: float = Field(default=20_000, gt=0, description="Platelet recovery threshold, /uL.")
    recovery_at_days: list[float] = Field(
        default_factory=lambda: [28, 60],
        description="Days at which the cumulative incidence of recovery (death before recovery competing) is given.",
    )

    @model_validator(mode="after")
    def _known(self) -> LabsSection:
        from cart_outcomes.cohort.schema import LABS

        numeric = [c.name for c in LABS.columns if c.dtype == "number"]
        unknown = [a for a in self.analytes if a not in numeric]
        if unknown:
            raise ValueError(f"unknown lab analyte(s) {unknown}; choose from {numeric}")
        if self.days[0] >= self.days[1]:
            raise ValueError(f"days must be [start, end] with start < end, got {list(self.days)}")
        return self


class Regression(_Strict):
    """A regression of one endpoint on baseline covariates: one univariable model per covariate and/or one
    multivariable model (gtsummary ``tbl_uvregression``/``tbl_regression``). Cox proportional hazards for survival
    endpoints (cause-specific Cox when asked for ``cir``/``nrm``), Fine-Gray subdistribution hazards (``cmprsk::crr``)
    for relapse (``cir``) and non-relapse mortality (``nrm``). See docs/plan.md, section ``regression``."""

    endpoint: Endpoint = Field(description="The endpoint modelled: os, pfs, efs, rfs, dor (Cox) or cir, nrm "
                               "(Fine-Gray by default).")
    covariates: list[str] = Field(min_length=1, description="Baseline columns of the patients sheet, canonical or the "
                                  "sheet's own: numbers enter per unit, text/yes-no columns as categories.")
    categorical: list[str] = Field(default_factory=list, description="Numeric covariates to treat as categories "
                                   "(R factor()), e.g. lines_of_prior_therapy.")
    reference: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Reference level of categorical covariates, e.g. {diagnosis: LBCL}; "
        "default the first level in sorted order (R's default); yes/no columns default to 'no'.")
    univariable: bool = Field(default=True, description="Fit one model per covariate (each on the patients with "
                              "that covariate known).")
    multivariable: bool = Field(default=True, description="Fit one model with every covariate (patients with all "
                                "covariates known); with a single covariate it is the univariable model.")
    model: Literal["cox", "fine-gray"] | None = Field(
        default=None, description="cox (default for os, pfs, efs, rfs, dor; cause-specific hazards for cir/nrm) or "
        "fine-gray (default for cir, nrm; competing: the other causes of cir_status).")
    population: Literal["all", "responders"] = Field(default="all", description="All infused patients, or "
                                                     "responders at response_day.")
    ties: Literal["efron", "breslow", "exact"] | None = Field(
        default=None, description="Cox tie handling (R coxph ties=); default statistics.ties. Fine-Gray uses "
        "Breslow's, as crr.")
    strata: list[str] = Field(default_factory=list, description="Cox only: columns with separate baseline hazards "
                              "(R strata()); not covariates, no hazard ratio is estimated for them.")
    robust: bool = Field(default=False, description="Cox only: robust (sandwich) variance, R coxph(robust = TRUE).")

    @model_validator(mode="after")
    def _consistent(self) -> Regression:
        from cart_outcomes.cohort.schema import COMPETING_ENDPOINTS

        if not (self.univariable or self.multivariable):
            raise ValueError("set univariable and/or multivariable to true")
        if len(set(self.covariates)) != len(self.covariates):
            raise ValueError(f"a covariate is listed twice in {self.covariates}")
        for what, cols in (("categorical", self.categorical), ("reference", list(self.reference))):
            stray = [c for c in cols if c not in self.covariates]
            if stray:
                raise ValueError(f"{what} names column(s) {stray} that are not in covariates {self.covariates}")
        both = [c for c in self.strata if c in self.covariates]
        if both:
            raise ValueError(f"column(s) {both} are both covariates and strata")
        if self.effective_model == "fine-gray":
            if self.endpoint not in COMPETING_ENDPOINTS:
                raise ValueError(f"model fine-gray needs a competing-risks endpoint (cir or nrm), not {self.endpoint}")
            given = [k for k in ("ties", "strata", "robust") if k in self.model_fields_set]
            if given:
                raise ValueError(f"{given} apply to Cox models only (Fine-Gray as cmprsk::crr: Breslow ties, "
                                 "sandwich variance, no strata)")
        return self

    @property
    def effective_model(self) -> str:
        """The model fitted: the one given, else Fine-Gray for cir/nrm and Cox otherwise."""
        from cart_outcomes.cohort.schema import COMPETING_ENDPOINTS

        if self.model is not None:
            return self.model
        return "fine-gray" if self.endpoint in COMPETING_ENDPOINTS else "cox"


class RMST(_Strict):
    """Restricted mean survival time of two groups up to a horizon ``tau``: the difference and ratio with CIs and
    p-values (R ``survRM2::rmst2``), for comparisons where the hazards are not proportional."""

    endpoint: Endpoint = Field(description="A Kaplan-Meier endpoint: os, pfs, efs, rfs or dor.")
    by: str = Field(description="Baseline column with exactly two groups (after leaving out patients without a "
                    "value).")
    tau: float | None = Field(default=None, gt=0, description="Horizon, in statistics.time_unit (e.g. 12 months); "
                              "default survRM2's: the largest time both groups' curves are defined at.")
    reference: str | None = Field(default=None, description="Group subtracted / in the denominator (survRM2 arm 0); "
                                  "default the first level in sorted order.")
    population: Literal["all", "responders"] = Field(default="all", description="All infused patients, or "
                                                     "responders at response_day.")

    @model_validator(mode="after")
    def _km_endpoint(self) -> RMST:
        from cart_outcomes.cohort.schema import COMPETING_ENDPOINTS

        if self.endpoint in COMPETING_ENDPOINTS:
            raise ValueError(f"RMST is the area under a Kaplan-Meier curve; {self.endpoint} is a competing risk")
        return self


class FigureSection(_Strict):
    """Figures to draw, how every survival figure (Kaplan-Meier, cumulative incidence, Simon-Makuch) looks, and the
    files to save. A group keeps its colour in every figure of the report."""

    km: bool = Field(default=True, description="Kaplan-Meier curves with the risk table.")
    cif: bool = Field(default=True, description="Cumulative incidence curves of relapse and non-relapse mortality.")
    swimmer: bool = Field(default=True, description="The swimmer plot (up to 100 patients).")
    toxicity: bool = Field(default=True, description="CRS and ICANS grade bars.")
    simon_makuch: bool = Field(default=True, description="Simon-Makuch curves of exposures that start after "
                               "infusion.")
    kinetics: bool = Field(default=True, description="Kinetics plots, when the cohort has a kinetics table.")
    labs: bool = Field(default=True, description="Laboratory trajectories, when the cohort has a labs table.")
    forest: bool = Field(default=True, description="Forest plots of each regression's hazard ratios and of each "
                         "subgroup forest.")
    ci_bands: bool = Field(default=False, description="Pointwise confidence bands on Kaplan-Meier and "
                           "cumulative-incidence curves.")
    formats: list[Literal["svg", "png", "pdf", "tiff"]] = Field(
        default_factory=lambda: ["svg"], description="Figure files to write: SVG (text editable as <text>), PNG and "
        "TIFF at `dpi`, PDF (fonts embedded).")
    dpi: int = Field(default=300, ge=72, le=1200, description="Resolution of PNG and TIFF files.")
    width: float = Field(default=6.5, gt=0, le=20, description="Width of a survival figure, inches.")
    height: float = Field(default=4.0, gt=0, le=20, description="Height of the curve panel, inches (the risk "
                          "table is added below).")
    font_family: str = Field(default="DejaVu Sans", description="An installed font (DejaVu Sans ships with the "
                             "software; 'Liberation Sans' is metric-compatible with Arial where installed).")
    font_size: float = Field(default=9.0, ge=4, le=24, description="Base font size, points.")
    palette: Literal["okabe-ito", "greyscale"] | list[Annotated[str, StringConstraints(
        pattern=r"^#[0-9A-Fa-f]{6}$")]] = Field(
        default="okabe-ito", description="Okabe-Ito (colour-blind safe), greyscale with line types (print), or a "
        "list of '#RRGGBB' colours given to the groups in order.")
    group_labels: dict[str, str] = Field(default_factory=dict, description="Display names of group values, e.g. "
                                         "{no HSCT: No transplant}.")
    group_order: list[str] = Field(default_factory=list, description="Group values (or labels) in the order the "
                                   "legend and risk table list them; others follow in data order.")
    risk_table: list[Literal["at_risk", "events", "censored"]] = Field(
        default_factory=lambda: ["at_risk", "events"], description="Rows under the curves at each x tick: number "
        "at risk, cumulative events, cumulative censored (ggsurvfit's default: at risk and events); [] for none.")
    median: bool = Field(default=True, description="'Median X months (95% CI a-b)' on single-arm Kaplan-Meier "
                         "figures.")
    p_value: Literal["legend", "plot", "none"] = Field(default="legend", description="Where the test's p-value "
                                                       "goes: legend title, inside the plot, or not shown.")
    time_breaks: float | None = Field(default=None, gt=0, description="Tick spacing in statistics.time_unit "
                                      "(default: the unit's usual spacing, e.g. 3 months).")
    time_max: float | None = Field(default=None, gt=0, description="Right end of the time axis, in "
                                   "statistics.time_unit (default: the last follow-up).")
    min_at_risk: int = Field(default=3, ge=1, description="Simon-Makuch steps with fewer patients at risk in "
                             "their state are not drawn (the caption says so); 1 draws every step.")


class ReportSection(_Strict):
    """Which documents are written (docs/report.md)."""

    html: bool = Field(default=True, description="The self-contained HTML report.")
    docx: bool = Field(default=True, description="The report for Word.")
    xlsx: bool = Field(default=True, description="The tables workbook.")
    deidentify: bool = Field(default=False, description="Code patient ids and drop calendar dates and free text in "
                             "every output.")
    adam: bool = Field(default=False, description="Also write CDISC ADaM datasets (ADSL, ADTTE, ADRS, ADAE as .xpt "
                       "and .parquet, with define.csv) into adam/ of the output folder, as `cart-outcomes export "
                       "adam` does.")
    date: dt.date | None = Field(
        default=None, description="Date stated as the report's generation date (default: SOURCE_DATE_EPOCH if set, "
        "else none); outputs never carry the clock time, so reruns are byte-identical.")


class Plan(_Strict):
    """The whole analysis plan (``study.yaml``)."""

    version: Literal[1] = Field(default=PLAN_VERSION, description="Version of the plan format (1).")
    title: str = Field(default="CAR-T cohort outcomes", description="Title of the report and of results.json.")
    data: DataSection = Field(description="Where the cohort is and how it maps onto the canonical schema.")
    endpoints: EndpointOptions = Field(default=EndpointOptions(), description="Endpoint rules (allo-HSCT, new "
                                       "therapy, non-responders, response day and definition).")
    statistics: StatisticsOptions = Field(default=StatisticsOptions(), description="Statistical conventions.")
    analyses: list[Analysis] | None = Field(
        default=None, description="Kaplan-Meier and cumulative-incidence analyses, overall or by group; absent: "
        "the standard CAR-T analysis (OS, PFS, EFS, DOR, relapse and NRM with 6- and 12-month rates).")
    comparisons: list[Comparison] = Field(default_factory=list, description="Subgroup comparisons, including "
                                          "exposures that start after infusion (allo-HSCT).")
    table1: Table1Section = Field(default=Table1Section(), description="Table 1 of baseline characteristics.")
    subgroups: list[SubgroupForest] = Field(default_factory=list, description="Subgroup forest plots.")
    sensitivity: list[Sensitivity] = Field(default_factory=list, description="Analyses repeated under other "
                                           "endpoint rules, shown beside the primary ones.")
    regression: list[Regression] = Field(default_factory=list, description="Cox / Fine-Gray regressions of an "
                                         "endpoint on baseline covariates (univariable and multivariable).")
    rmst: list[RMST] = Field(default_factory=list, description="Restricted mean survival time comparisons of two "
                             "groups at a horizon (survRM2::rmst2).")
    toxicity: ToxicitySection = Field(default=ToxicitySection(), description="CRS, ICANS and ICAHT grading.")
    kinetics: KineticsSection = Field(default=KineticsSection(), description="Non-compartmental analysis of the "
                                      "kinetics table, when the cohort has one.")
    labs: LabsSection = Field(default=LabsSection(), description="Laboratory trajectories and blood-count "
                              "recovery, when the cohort has a labs table.")
    figures: FigureSection = Field(default=FigureSection(), description="Figures to draw, and their file formats.")
    report: ReportSection = Field(default=ReportSection(), description="Documents to write, de-identification, "
                                  "ADaM export, the stated date.")

    @model_validator(mode="after")
    def _check_combinations(self) -> Plan:
        for what, items in (("comparison", self.comparisons), ("subgroup forest", self.subgroups),
                            ("sensitivity analysis", self.sensitivity)):
            names = [c.name for c in items]
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise ValueError(f"{what} names must be unique; repeated: {dup}")
        return self

    def effective_analyses(self) -> list[Analysis]:
        """The plan's analyses, or the standard CAR-T analysis when the section is absent."""
        if self.analyses is not None:
            return list(self.analyses)
        return standard_analyses(self.statistics.time_unit)


def standard_analyses(time_unit: TimeUnit = "days") -> list[Analysis]:
    """OS, PFS, EFS and DOR overall with 6- and 12-month rates (given in ``time_unit``; 26 and 52 in weeks);
    relapse and NRM as competing risks."""
    rates = {"days": [6 * DAYS_PER_MONTH, 12 * DAYS_PER_MONTH], "weeks": [26.0, 52.0], "months": [6.0, 12.0],
             "years": [0.5, 1.0]}[time_unit]
    return [
        Analysis(endpoint="os", rates_at=rates),
        Analysis(endpoint="pfs", rates_at=rates),
        Analysis(endpoint="efs", rates_at=rates),
        Analysis(endpoint="dor", population="responders", rates_at=rates),
        Analysis(endpoint="cir", rates_at=rates),
        Analysis(endpoint="nrm", rates_at=rates),
    ]


class PlanError(InputError):
    """The plan file is malformed; ``problems`` holds one message per problem, each with its YAML line."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{path}: {len(problems)} problem(s) in the analysis plan:\n  " + "\n  ".join(problems))


def _line_index(node: yaml.Node, path: tuple = (), out: dict | None = None) -> dict[tuple, int]:
    """Map every key path in a composed YAML document to its 1-based line number (aliases are followed:
    :func:`~cart_outcomes._yaml.load_yaml` has bounded the expanded size)."""
    out = {} if out is None else out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = (*path, key.value)
            out[sub] = key.start_mark.line + 1
            _line_index(value, sub, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_index(item, (*path, i), out)
    return out


def _locate(loc: tuple, lines: dict[tuple, int]) -> int | None:
    path = tuple(loc)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())


def parse_plan(text: str, *, source: str = "<plan>") -> Plan:
    """Parse plan text; every problem is reported at once with its line number."""
    try:
        node, raw = load_yaml(text)
    except YamlLimitError as exc:
        raise PlanError(source, [str(exc)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        position = getattr(exc, "position", None)  # a ReaderError (a character YAML forbids) has no mark
        line = mark.line + 1 if mark is not None else text.count("\n", 0, position) + 1 if position is not None else 1
        char = getattr(exc, "character", None)
        code = f"U+{char if isinstance(char, int) else ord(char):04X}" if char not in (None, "") else "a character"
        problem = getattr(exc, "problem", None) or f"{code} is not allowed in YAML text"
        raise PlanError(source, [f"line {line}: not valid YAML ({problem})"]) from None
    if node is None or not isinstance(raw, dict):
        raise PlanError(source, ["line 1: the plan must be a mapping with at least a 'data' section"])
    lines = _line_index(node)
    try:
        return Plan.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            line = _locate(loc, lines)
            key = ".".join(str(p) for p in loc) or "(plan)"
            msg = ("unknown key (not part of the plan format)" if err["type"] == "extra_forbidden"
                   else err["msg"].removeprefix("Value error, "))
            problems.append(f"line {line}: {key}: {msg}")
        raise PlanError(source, problems) from None


def load_plan(path: str | Path) -> Plan:
    """Read and check ``study.yaml``. R has no equivalent; this is the pre-specified analysis plan."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"analysis plan not found: {p}")
    try:
        text = read_yaml_text(p)
    except YamlLimitError as exc:
        raise PlanError(str(p), [str(exc)]) from None
    return parse_plan(text, source=str(p))


def plan_json_schema() -> str:
    """The JSON schema of the plan format (committed as docs/study.schema.json)."""
    return json.dumps(Plan.model_json_schema(), indent=2, sort_keys=True) + "\n"

