"""The cohort data model: tables, columns, types, vocabularies, units and plausible ranges.

This module is the one source of truth for canonical names. Reading (:mod:`cart_outcomes.cohort.io`), validation
(:mod:`cart_outcomes.cohort.validate`), the data-entry template and ``docs/data-dictionary.md`` are all generated
from it; nothing else spells out a column.

Time is counted in days from CAR-T infusion (infusion = day 0). In the ``patients`` table every ``<event>_date``
column has a ``<event>_day`` alternative (whole days after infusion) for cohorts that are already de-identified; a
cohort may use dates for some columns and days for others. The long tables (one row per patient and day) use ``day``
with ``date`` as the alternative.

Run ``python -m cart_outcomes.cohort`` to print the data dictionary (``--write`` updates
``docs/data-dictionary.md``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

DType = Literal["text", "integer", "number", "date", "day", "boolean", "category"]

#: Responses counted as an objective response unless told otherwise (overall response = CR + CRi + CRh + PR).
ORR_RESPONSES: tuple[str, ...] = ("CR", "CRi", "CRh", "PR")
#: Responses counted as complete remission (CR/CRi; CRh is a CRi with partial count recovery, so it counts too).
CR_RESPONSES: tuple[str, ...] = ("CR", "CRi", "CRh")
#: Evaluated but not responding.
NON_RESPONSES: tuple[str, ...] = ("SD", "NR", "PD")
#: Every response, best first; NE = not evaluable.
RESPONSES: tuple[str, ...] = (*ORR_RESPONSES, *NON_RESPONSES, "NE")
#: Rank of each response, best first; NE (not evaluable) has no rank. SD and NR are the same depth of response.
RESPONSE_RANK: dict[str, int] = {"CR": 0, "CRh": 1, "CRi": 2, "PR": 3, "SD": 4, "NR": 4, "PD": 5}
#: Cell texts read as true / false in boolean columns (compared without case and surrounding blanks).
TRUE_TOKENS = frozenset({"yes", "y", "true", "t", "1"})
FALSE_TOKENS = frozenset({"no", "n", "false", "f", "0"})
#: Endpoint codes and their names: the time-to-event endpoints, then relapse/progression and non-relapse mortality
#: (the two causes of one competing-risk analysis).
ENDPOINT_NAMES: dict[str, str] = {
    "os": "Overall survival",
    "pfs": "Progression-free survival",
    "efs": "Event-free survival",
    "rfs": "Relapse-free survival",
    "dor": "Duration of response",
    "cir": "Cumulative incidence of relapse/progression",
    "nrm": "Non-relapse mortality",
}
COMPETING_ENDPOINTS: tuple[str, ...] = ("cir", "nrm")
#: Causes of the relapse / non-relapse mortality analysis by status code (``cir_status``) and how they are shown.
CIR_CAUSES: dict[int, str] = {1: "relapse/progression", 2: "non-relapse death", 3: "allo-HSCT", 4: "new therapy"}
CAUSE_LABELS: dict[str, str] = {"relapse/progression": "Relapse/progression",
                                "non-relapse death": "Non-relapse mortality", "allo-HSCT": "Allo-HSCT (competing)",
                                "new therapy": "New therapy (competing)"}
GRADING_SYSTEMS: tuple[str, ...] = ("ASTCT2019", "Lee2014", "Penn", "MSKCC", "CARTOX", "CTCAE")
KINETICS_MATRICES: tuple[str, ...] = ("peripheral_blood", "bone_marrow", "csf")
KINETICS_UNITS: tuple[str, ...] = ("copies_per_ug_dna", "cells_per_ul", "percent_of_cd3")
#: The units each kinetics assay produces (a row with another unit is a UNIT_MISMATCH error).
KINETICS_ASSAY_UNITS: dict[str, tuple[str, ...]] = {
    "qpcr": ("copies_per_ug_dna",), "ddpcr": ("copies_per_ug_dna",), "flow": ("cells_per_ul", "percent_of_cd3"),
}
OXYGEN_DEVICES: tuple[str, ...] = (
    "none", "nasal_cannula", "blow_by", "high_flow_nasal_cannula", "facemask", "non_rebreather", "venturi", "cpap",
    "bipap", "mechanical_ventilation",
)


@dataclass(frozen=True, slots=True)
class Column:
    """One canonical column.

    Parameters
    ----------
    name : str
        Canonical snake_case name, units in the name where there are units.
    dtype : {"text", "integer", "number", "date", "day", "boolean", "category"}
        ``day`` is a whole number of days after infusion (infusion = day 0). ``category`` takes a value from
        ``vocabulary`` (matched without regard to case and surrounding blanks).
    required : bool
        The column must be present and filled in on every row (for a date/day pair: one of the two).
    unique : bool
        No two rows may share a value.
    minimum, maximum : float, optional
        Plausible range (inclusive); values outside it are reported under ``range_rule``.
    range_rule : str
        Stable rule code used for values outside the range (``OUT_OF_RANGE`` unless a more specific code exists).
    alternative : str, optional
        The other member of a date/day pair (``death_date`` <-> ``death_day``, ``date`` <-> ``day``).
    default : str, optional
        Value filled into blank cells (only for ``category`` columns, e.g. the grading system).
    """

    name: str
    dtype: DType
    description: str
    required: bool = False
    unique: bool = False
    vocabulary: tuple[str, ...] | None = None
    unit: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    range_rule: str = "OUT_OF_RANGE"
    alternative: str | None = None
    default: str | None = None


@dataclass(frozen=True, slots=True)
class Table:
    """A canonical table: its columns and what one row means."""

    name: str
    description: str
    row: str
    columns: tuple[Column, ...]
    _index: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {c.name: c for c in self.columns})

    @property
    def names(self) -> tuple[str, ...]:
        """Every canonical column name, alternatives included, in schema order."""
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        """The column called ``name`` (KeyError if the table has none)."""
        return self._index[name]

    def __contains__(self, name: object) -> bool:
        return name in self._index


def _text(name: str, description: str, **kw) -> Column:
    return Column(name, "text", description, **kw)


def _cat(name: str, vocabulary: tuple[str, ...], description: str, **kw) -> Column:
    return Column(name, "category", description, vocabulary=vocabulary, **kw)


def _bool(name: str, description: str) -> Column:
    return Column(name, "boolean", description)


def _event(stem: str, description: str, *, required: bool = False) -> tuple[Column, Column]:
    """A ``<stem>_date`` column and its ``<stem>_day`` alternative (days after infusion)."""
    date, day = f"{stem}_date", f"{stem}_day"
    return (
        Column(date, "date", description, required=required, alternative=day),
        Column(day, "day", f"{description} As whole days after infusion (infusion = day 0); alternative to "
               f"`{date}`.", required=required, minimum=0, range_rule="BEFORE_INFUSION", alternative=date),
    )


def _day(*, minimum: float | None = 0) -> tuple[Column, Column]:
    rule = "BEFORE_INFUSION" if minimum == 0 else "OUT_OF_RANGE"
    return (
        Column("day", "day", "Days after infusion (infusion = day 0).", required=True, minimum=minimum,
               range_rule=rule, alternative="date"),
        Column("date", "date", "Calendar date; alternative to `day`, converted with the patient's infusion_date.",
               required=True, alternative="day"),
    )


_PID_LONG = _text("patient_id", "Patient identifier; must exist in the patients table.", required=True)
_GRADE = {"minimum": 0, "maximum": 5, "range_rule": "GRADE_RANGE"}

PATIENTS = Table(
    "patients",
    "One row per infused patient: baseline, response, events and pre-graded toxicity.",
    "one infused patient",
    (
        _text("patient_id", "Patient identifier (pseudonymised).", required=True, unique=True),
        Column("infusion_date", "date", "Date of CAR-T infusion: time zero (day 0). Required whenever any other "
               "event is given as a date."),
        Column("age_years", "number", "Age at infusion.", unit="years", minimum=0, maximum=100,
               range_rule="IMPLAUSIBLE_AGE"),
        _cat("sex", ("M", "F", "other"), "Sex."),
        _cat("diagnosis", ("T-ALL", "T-LBL", "B-ALL", "LBCL", "MCL", "FL", "MM", "CLL", "other"), "Disease."),
        _cat("car_t_source", ("autologous", "allogeneic", "donor-derived", "universal"),
             "Origin of the CAR-T cells."),
        _text("car_t_product", "Product or construct name (e.g. a CD7 CAR)."),
        Column("dose_cells_per_kg", "number", "Infused CAR-T cell dose.", unit="cells/kg", minimum=0),
        Column("lines_of_prior_therapy", "integer", "Number of prior lines of therapy.", minimum=0, maximum=30),
        _bool("prior_hsct", "Allogeneic or autologous HSCT before CAR-T."),
        _bool("extramedullary_disease", "Extramedullary disease at infusion."),
        _bool("bridging_therapy", "Bridging therapy between apheresis and infusion."),
        _cat("day28_response", RESPONSES, "Response at the day-28 assessment (NE = not evaluable)."),
        *_event("response_assessment", "Date of the day-28 response assessment."),
        _bool("mrd_negative_day28", "Measurable residual disease negative at the day-28 assessment."),
        _cat("best_response", RESPONSES, "Best response after infusion (NE = not evaluable)."),
        *_event("cr", "Date of first CR/CRi/CRh (start of DOR and RFS)."),
        *_event("progression", "Date of relapse or progression."),
        _cat("relapse_type", ("medullary", "extramedullary", "combined", "mrd"),
             "Site of relapse/progression ('mrd' = molecular relapse only)."),
        _bool("target_antigen_loss", "Relapse negative for the CAR target antigen (e.g. CD7-negative escape)."),
        *_event("death", "Date of death, any cause."),
        _text("death_cause", "Cause of death (free text or a local code)."),
        *_event("last_followup", "Last date known alive, or the death date for patients who died.",
                required=True),
        *_event("hsct", "Date of allogeneic HSCT after CAR-T."),
        _cat("hsct_intent", ("consolidative", "salvage"),
             "Consolidative (in response, before progression) or salvage (after progression)."),
        *_event("new_therapy", "Start of the next anti-cancer therapy (other than HSCT)."),
        Column("crs_grade", "integer", "Maximum CRS grade (pre-graded).", **_GRADE),
        _cat("crs_grading_system", GRADING_SYSTEMS, "System used for crs_grade; blank = not stated (reported as "
             "'grading system not stated', never assumed)."),
        *_event("crs_onset", "Date of CRS onset."),
        Column("icans_grade", "integer", "Maximum ICANS grade (pre-graded).", **_GRADE),
        _cat("icans_grading_system", GRADING_SYSTEMS, "System used for icans_grade; blank = not stated."),
        *_event("icans_onset", "Date of ICANS onset."),
        _bool("tocilizumab", "Tocilizumab given for CRS or ICANS after infusion (blank = not recorded)."),
        _bool("corticosteroids", "Corticosteroids given for CRS or ICANS after infusion (blank = not recorded)."),
        _bool("icu_admission", "Admitted to intensive care after infusion (blank = not recorded)."),
    ),
)

CRS_OBSERVATIONS = Table(
    "crs_observations",
    "Daily CRS observations (one or more rows per patient and day), graded by the toxicity module.",
    "one observation of one patient",
    (
        _PID_LONG,
        *_day(),
        Column("temperature_c", "number", "Maximum body temperature.", unit="degC", minimum=30, maximum=45),
        Column("sbp_mmhg", "number", "Lowest systolic blood pressure (bedside wording: hypotension is SBP below the "
               "plan's toxicity.hypotension_sbp_mmhg, default 90).", unit="mmHg", minimum=20, maximum=300),
        _text("vasopressor_names", "Vasopressors given, as written at the bedside (e.g. 'norepinephrine + "
              "vasopressin'); counted into vasopressors/vasopressin when those are blank."),
        _text("oxygen", "Oxygen support as written at the bedside ('RA', 'NC 4 L/min', 'HFNC 40 L/min', 'BiPAP'); "
              "read into oxygen_device/oxygen_flow_l_min when those are blank."),
        _bool("hypotension", "Hypotension attributable to CRS."),
        Column("vasopressors", "integer", "Number of vasopressors other than vasopressin.", minimum=0, maximum=10),
        _bool("vasopressin", "Vasopressin given."),
        _cat("oxygen_device", OXYGEN_DEVICES, "Oxygen support device."),
        Column("oxygen_flow_l_min", "number", "Oxygen flow.", unit="L/min", minimum=0, maximum=100),
        _bool("anticytokine_or_antipyretic", "Antipyretic or anti-cytokine therapy given (fever may be masked)."),
        _bool("other_cause", "Findings attributable to another cause (not CRS)."),
        _bool("crs_death", "Death due to CRS."),
        _bool("tocilizumab", "Tocilizumab given."),
        _bool("corticosteroids", "Corticosteroids given."),
        _bool("icu_admission", "In intensive care that day."),
    ),
)

NEURO_ASSESSMENTS = Table(
    "neuro_assessments",
    "Neurological assessments for ICANS grading (ICE score for ages >= 12, CAPD below).",
    "one assessment of one patient",
    (
        _PID_LONG,
        *_day(),
        Column("age_years", "number", "Age at assessment.", unit="years", minimum=0, maximum=100,
               range_rule="IMPLAUSIBLE_AGE"),
        Column("ice_score", "integer", "Immune effector cell encephalopathy score (10 = normal).", minimum=0,
               maximum=10),
        Column("capd_score", "integer", "Cornell Assessment of Pediatric Delirium (0 = normal).", minimum=0,
               maximum=32),
        _cat("consciousness", ("awake", "awakens_to_voice", "awakens_to_touch", "unarousable"),
             "Depressed level of consciousness."),
        _cat("seizure", ("none", "rapidly_resolving", "nonconvulsive_on_eeg", "prolonged_or_repetitive"), "Seizure."),
        _cat("motor", ("none", "deep_focal_weakness"), "Motor findings."),
        _cat("cerebral_edema", ("none", "focal", "diffuse"), "Cerebral edema on imaging."),
        _bool("icans_death", "Death due to ICANS."),
    ),
)

LABS = Table(
    "labs",
    "Laboratory values by day (negative days = before infusion, e.g. before lymphodepletion).",
    "one sample of one patient",
    (
        _PID_LONG,
        *_day(minimum=None),
        Column("anc_per_ul", "number", "Absolute neutrophil count.", unit="cells/uL", minimum=0, maximum=200_000),
        Column("platelets_per_ul", "number", "Platelet count.", unit="cells/uL", minimum=0, maximum=3_000_000),
        Column("hemoglobin_g_dl", "number", "Hemoglobin.", unit="g/dL", minimum=0, maximum=25),
        Column("crp_mg_dl", "number", "C-reactive protein (mg/dL; a value above 100 is likely mg/L).", unit="mg/dL",
               minimum=0, maximum=100),
        Column("ferritin_ng_ml", "number", "Ferritin.", unit="ng/mL", minimum=0, maximum=500_000),
        Column("ldh_u_l", "number", "Lactate dehydrogenase.", unit="U/L", minimum=0),
        Column("fibrinogen_mg_dl", "number", "Fibrinogen.", unit="mg/dL", minimum=0),
        Column("alt_u_l", "number", "Alanine aminotransferase.", unit="U/L", minimum=0),
        Column("ast_u_l", "number", "Aspartate aminotransferase.", unit="U/L", minimum=0),
        Column("bilirubin_mg_dl", "number", "Total bilirubin.", unit="mg/dL", minimum=0),
        Column("triglycerides_mg_dl", "number", "Triglycerides.", unit="mg/dL", minimum=0),
        Column("il6_pg_ml", "number", "Interleukin-6.", unit="pg/mL", minimum=0),
        _bool("platelet_transfusion", "Platelet transfusion given that day (platelet recovery needs 7 days "
              "without one)."),
    ),
)

ADVERSE_EVENTS = Table(
    "adverse_events",
    "Adverse events other than CRS/ICANS (CTCAE terms and grades).",
    "one adverse event of one patient",
    (
        _PID_LONG,
        _text("term", "Adverse event term (CTCAE).", required=True),
        Column("grade", "integer", "CTCAE grade.", required=True, minimum=1, maximum=5, range_rule="GRADE_RANGE"),
        Column("onset_day", "day", "Onset, days after infusion.", required=True, minimum=0,
               range_rule="BEFORE_INFUSION", alternative="onset_date"),
        Column("onset_date", "date", "Onset date; alternative to `onset_day`.", required=True, alternative="onset_day"),
    ),
)

RESPONSE_ASSESSMENTS = Table(
    "response_assessments",
    "Every response assessment after infusion.",
    "one assessment of one patient",
    (
        _PID_LONG,
        *_day(),
        _cat("response", RESPONSES, "Response at this assessment.", required=True),
        _bool("mrd_negative", "Measurable residual disease negative."),
        _text("method", "Assessment method (e.g. marrow flow MRD, PET-CT)."),
    ),
)

KINETICS = Table(
    "kinetics",
    "CAR-T expansion and persistence: one measured level per row, in peripheral blood, bone marrow or CSF "
    "(clinical-definitions section 9). Levels in different matrices, assays or units are never pooled.",
    "one sample of one patient in one matrix by one assay",
    (
        _PID_LONG,
        *_day(),
        _cat("matrix", KINETICS_MATRICES, "Sample material.", default="peripheral_blood"),
        _cat("assay", tuple(KINETICS_ASSAY_UNITS), "Measurement method.", required=True),
        Column("value", "number", "CAR level in `unit`; may be blank when `below_loq` is yes.", minimum=0),
        _cat("unit", KINETICS_UNITS, "Unit of `value`: transgene copies per ug genomic DNA (qPCR/ddPCR), CAR+ "
             "cells per uL or percent CAR+ of CD3+ cells (flow).", required=True),
        _bool("below_loq", "Below the assay's lower limit of quantification (BLQ); blank = no."),
        Column("lloq", "number", "Lower limit of quantification of the assay, in `unit`.", minimum=0),
        _text("detection_reagent", "Flow detection reagent (anti-Fab, target-protein-Fc, tag ...)."),
    ),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (PATIENTS, CRS_OBSERVATIONS, NEURO_ASSESSMENTS, LABS, ADVERSE_EVENTS, RESPONSE_ASSESSMENTS, KINETICS)
}

DATA_DICTIONARY_PATH = Path("docs") / "data-dictionary.md"


def _range(c: Column) -> str:
    if c.minimum is None and c.maximum is None:
        return ""
    lo = "" if c.minimum is None else f"{c.minimum:g}"
    hi = "" if c.maximum is None else f"{c.maximum:g}"
    return f"{lo} to {hi}" if lo and hi else (f">= {lo}" if lo else f"<= {hi}")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_data_dictionary() -> str:
    """The data dictionary as Markdown, generated from :data:`TABLES` (committed as ``docs/data-dictionary.md``)."""
    out = [
        "# Data dictionary",
        "",
        "<!-- Generated by `python -m cart_outcomes.cohort --write`; do not edit by hand. -->",
        "",
        "Canonical tables and columns of a cart-outcomes cohort. Time zero is the CAR-T infusion (day 0). Every",
        "`<event>_date` column of `patients` may be given instead as `<event>_day` (whole days after infusion); the",
        "long tables use `day` or `date`. Vocabulary values are matched without regard to case; other spellings",
        "are recoded with the `data.values` section of `study.yaml`. A required date/day pair needs one of the two.",
        "Blank cells, `NA`, `N/A`, `NaN`, `null` and `.` are missing values.",
        "",
    ]
    for t in TABLES.values():
        out += [f"## `{t.name}`", "", f"{t.description} One row = {t.row}.", "",
                "| column | type | required | unit | allowed values / range | description |",
                "|---|---|---|---|---|---|"]
        for c in t.columns:
            allowed = ", ".join(f"`{v}`" for v in c.vocabulary) if c.vocabulary else _range(c)
            if c.default:
                allowed += f" (default `{c.default}`)"
            req = "yes" + (" (or `" + c.alternative + "`)" if c.alternative else "") if c.required else ""
            req += " unique" if c.unique else ""
            out.append(f"| `{c.name}` | {c.dtype} | {req.strip()} | {c.unit or ''} | {_cell(allowed)} | "
                       f"{_cell(c.description)} |")
        out.append("")
    from cart_outcomes.cohort._problems import RULES

    out += ["## Validation rules", "",
            "Every problem carries one of these stable codes. A cohort with any error is never analysed; warnings are",
            "shown and carried into every output.", "",
            "| rule | severity | what it checks |", "|---|---|---|"]
    out += [f"| `{code}` | {sev} | {_cell(text)} |" for code, (sev, text) in RULES.items()]
    out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Print the data dictionary, or write it to ``docs/data-dictionary.md`` with ``--write``."""
    args = sys.argv[1:] if argv is None else argv
    text = render_data_dictionary()
    if "--write" in args:
        DATA_DICTIONARY_PATH.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
