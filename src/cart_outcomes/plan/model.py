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
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

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

    profile: Literal["R", "SAS", "Prism"] | None = None
    conf_type: Literal["log", "log-log", "plain"] = "log-log"
    conf_level: float = Field(default=0.95, gt=0, lt=1)
    ties: Literal["efron", "breslow", "exact"] = "efron"
    time_unit: TimeUnit = Field(default="days", description="Unit of every time in the results, tables, figure "
                                "axes and labels (a month is 30.4375 days, a year 365.25); rates_at is read in it.")


class Analysis(_Strict):
    """One endpoint, optionally by a baseline group, with rates at chosen times (in ``statistics.time_unit``)."""

    endpoint: Endpoint
    by: str | None = None
    population: Literal["all", "responders"] = "all"
    rates_at: list[float] = Field(default_factory=list, description="Times at which to report rates, in "
                                  "statistics.time_unit: e.g. 182.625 (days) or 6 (months).")


class Comparison(_Strict):
    """A subgroup comparison, e.g. responders by consolidative HSCT.

    When ``exposure`` names a ``*_day`` column (something that happens after time zero), the naive comparison is
    run alongside the landmark analysis, the time-dependent Cox model, the Mantel-Byar test and Simon-Makuch curves.
    """

    name: str
    endpoints: list[Endpoint] = Field(default_factory=lambda: ["os", "pfs"])
    population: Literal["all", "responders"] = "all"
    by: str | None = Field(default=None, description="A baseline grouping column.")
    exposure: str | None = Field(default=None, description="A *_day column giving when exposure starts.")
    exposure_filter: dict[str, str] = Field(
        default_factory=dict, description="Only exposures whose columns have these values, e.g. hsct_intent."
    )
    landmark_days: list[float] = Field(default_factory=list, description="Landmark days after infusion.")
    rates_at: list[float] = Field(default_factory=list, description="Times at which to report rates, in "
                                  "statistics.time_unit.")
    exact_test: bool = True

    @model_validator(mode="after")
    def _one_grouping(self) -> Comparison:
        if (self.by is None) == (self.exposure is None):
            raise ValueError("give exactly one of 'by' (baseline group) or 'exposure' (time-dependent *_day column)")
        if self.exposure is not None and not self.exposure.endswith("_day"):
            raise ValueError(f"exposure {self.exposure!r} must be a *_day column (days after infusion)")
        if self.by is not None and self.landmark_days:
            raise ValueError("landmark_days applies to time-dependent exposures, not to baseline groups")
        return self


class ToxicitySection(_Strict):
    crs: bool = True
    icans: bool = True
    icaht: bool = True
    criteria: Literal["astct2019"] = "astct2019"
    hypotension_sbp_mmhg: float = Field(
        default=90.0, gt=0, le=200,
        description="Daily CRS sheets giving a systolic blood pressure: hypotension is SBP below this (mmHg). ASTCT "
        "2019 states no number; SBP < 90 is the usual adult threshold.",
    )


class KineticsSection(_Strict):
    """Non-compartmental analysis of the ``kinetics`` table (clinical-definitions section 9), run whenever the cohort
    has one; parameters are compared by day-28 response and by maximum CRS grade."""

    window_days: tuple[float, float] = Field(default=(0, 28), description="AUC window, days after infusion.")
    auc_method: Literal["linear", "linear-up/log-down"] = "linear"
    blq: Literal["zero-then-stop", "zero", "drop"] = Field(
        default="zero-then-stop", description="Samples below the limit of quantification (see docs/kinetics.md)."
    )
    window_end: Literal["interpolate", "last_sample"] = "interpolate"
    persistence_months: list[float] = Field(default_factory=lambda: [1, 3, 6])
    half_life: bool = False

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

    km: bool = True
    cif: bool = True
    swimmer: bool = True
    toxicity: bool = True
    simon_makuch: bool = True
    kinetics: bool = True
    labs: bool = True
    forest: bool = Field(default=True, description="Forest plot of each regression's hazard ratios.")
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
    html: bool = True
    docx: bool = True
    xlsx: bool = True
    deidentify: bool = False
    adam: bool = Field(default=False, description="Also write CDISC ADaM datasets (ADSL, ADTTE, ADRS, ADAE as .xpt "
                       "and .parquet, with define.csv) into adam/ of the output folder, as `cart-outcomes export "
                       "adam` does.")
    date: dt.date | None = Field(
        default=None, description="Date stated as the report's generation date (default: SOURCE_DATE_EPOCH if set, "
        "else none); outputs never carry the clock time, so reruns are byte-identical.")


class Plan(_Strict):
    """The whole analysis plan (``study.yaml``)."""

    version: Literal[1] = PLAN_VERSION
    title: str = "CAR-T cohort outcomes"
    data: DataSection
    endpoints: EndpointOptions = EndpointOptions()
    statistics: StatisticsOptions = StatisticsOptions()
    analyses: list[Analysis] | None = None
    comparisons: list[Comparison] = Field(default_factory=list)
    regression: list[Regression] = Field(default_factory=list, description="Cox / Fine-Gray regressions of an "
                                         "endpoint on baseline covariates (univariable and multivariable).")
    rmst: list[RMST] = Field(default_factory=list, description="Restricted mean survival time comparisons of two "
                             "groups at a horizon (survRM2::rmst2).")
    toxicity: ToxicitySection = ToxicitySection()
    kinetics: KineticsSection = KineticsSection()
    labs: LabsSection = LabsSection()
    figures: FigureSection = FigureSection()
    report: ReportSection = ReportSection()

    @model_validator(mode="after")
    def _check_combinations(self) -> Plan:
        names = [c.name for c in self.comparisons]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"comparison names must be unique; repeated: {dup}")
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

