"""The one label table of the report: plain words for every id the results carry, and the clinical order of
categories.

The vocabularies themselves live in :mod:`cart_outcomes.cohort.schema` (and time units in
:mod:`cart_outcomes.units`); this module only maps their ids to the words a reader sees, so no internal id
(``responders_by_hsct``, ``ASTCT2019``, ``EHA_EBMT_ICAHT2023``, ``grade_3_or_higher``, ``F``) reaches a caption, a
cell or a sentence. Every visible word of the HTML and Word report that comes from an id goes through
:func:`label`; categories are shown in :func:`clinical_order` (schema order, "not evaluable" and "missing" last).
A section added to the report uses the same two functions (and :func:`comparison_label` for a comparison).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from cart_outcomes.cohort.schema import PATIENTS, RESPONSE_RANK

__all__ = ["LABELS", "SYSTEM_CITATIONS", "clinical_order", "comparison_label", "label"]

#: kind -> id -> plain words. Kinds: ``system`` (grading systems), ``toxicity``, ``grade`` (distribution
#: categories), ``endpoint``, ``population``, ``ties``, ``response``, ``boolean``, and a patients column name for
#: its categories (``sex``, ``car_t_source``, ...).
LABELS: dict[str, dict[str, str]] = {
    "system": {
        "ASTCT2019": "ASTCT 2019",
        "Lee2014": "Lee 2014 (NCI)",
        "Penn": "Penn",
        "MSKCC": "MSKCC",
        "CARTOX": "CARTOX",
        "CTCAE": "CTCAE",
        "CTCAE_v5": "CTCAE v5.0",
        "CTCAE_v4": "CTCAE v4.03",
        "EHA_EBMT_ICAHT2023": "EHA/EBMT 2023",
        "grading system not stated": "grading system not stated",
    },
    "toxicity": {
        "crs": "CRS",
        "icans": "ICANS",
        "icaht": "ICAHT",
        "icaht_early": "Early ICAHT (days 0–30)",
        "icaht_late": "Late ICAHT (after day 30)",
    },
    "grade": {
        "any_grade": "Any grade",
        "grade_1_to_2": "Grade 1–2",
        "grade_3_or_higher": "Grade ≥3",
        **{f"grade_{k}": f"Grade {k}" for k in range(6)},
    },
    "endpoint": {
        "os": "OS", "pfs": "PFS", "efs": "EFS", "rfs": "RFS", "dor": "DOR",
        "cir": "cumulative incidence of relapse", "nrm": "non-relapse mortality",
    },
    "population": {"all": "all patients", "responders": "responders"},
    "ties": {"efron": "Efron", "breslow": "Breslow", "exact": "exact"},
    "response": {"NE": "Not evaluable", "missing": "Not recorded"},
    "supportive_care": {"tocilizumab": "Tocilizumab", "corticosteroids": "Corticosteroids",
                        "icu_admission": "ICU admission"},
    "boolean": {"True": "Yes", "False": "No", "true": "Yes", "false": "No", "1": "Yes", "0": "No",
                "1.0": "Yes", "0.0": "No", "yes": "Yes", "no": "No"},
    "sex": {"F": "Female", "M": "Male", "other": "Other"},
    "car_t_source": {"autologous": "Autologous", "allogeneic": "Allogeneic", "donor-derived": "Donor-derived",
                     "universal": "Universal (off-the-shelf)"},
    "hsct_intent": {"consolidative": "Consolidative", "salvage": "Salvage"},
    "relapse_type": {"medullary": "Medullary", "extramedullary": "Extramedullary", "combined": "Combined",
                     "mrd": "Molecular (MRD) only"},
    "diagnosis": {"other": "Other"},
    "prior_hsct": {},
    "column": {"car_t_source": "CAR-T source", "car_t_product": "CAR-T product", "hsct_intent": "HSCT intent",
               "prior_hsct": "prior HSCT", "relapse_type": "relapse type", "day28_response": "day-28 response",
               "best_response": "best response", "crs_max_grade": "maximum CRS grade",
               "icans_max_grade": "maximum ICANS grade", "lines_of_prior_therapy": "lines of prior therapy",
               "extramedullary_disease": "extramedullary disease", "bridging_therapy": "bridging therapy",
               "age_years": "age", "dose_cells_per_kg": "dose", "ldh": "LDH", "ecog": "ECOG performance status"},
}

LABELS["day28_response"] = LABELS["best_response"] = LABELS["response"]
LABELS.pop("prior_hsct")

#: Grading systems with their reference, for the methods paragraph.
SYSTEM_CITATIONS: dict[str, str] = {
    "ASTCT2019": "the ASTCT 2019 consensus criteria (Lee et al., Biol Blood Marrow Transplant 2019)",
    "Lee2014": "the 2014 NCI criteria (Lee et al., Blood 2014)",
    "Penn": "the Penn criteria (Porter et al., J Hematol Oncol 2018)",
    "CTCAE": "CTCAE (version not stated)",
    "CTCAE_v5": "CTCAE version 5.0",
    "CTCAE_v4": "CTCAE version 4.03",
    "MSKCC": "the MSKCC criteria (Park et al., N Engl J Med 2018)",
    "CARTOX": "the CARTOX criteria (Neelapu et al., Nat Rev Clin Oncol 2018)",
    "EHA_EBMT_ICAHT2023": "the EHA/EBMT 2023 consensus grading (Rejeski et al., Blood 2023)",
    "grading system not stated": "criteria the source data do not state (pre-graded; grades reported as recorded)",
}

_COLUMN_KINDS = {c.name for c in PATIENTS.columns if c.vocabulary}
_LAST = ("NE", "not evaluable", "missing", "<missing>", "Missing", "Not recorded", "unknown", "Unknown")
_SNAKE = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)+")
_SNAKE_WORD = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")
_OPERATORS = {">=": "≥", "<=": "≤", "!=": "≠", "==": "="}


def label(kind: str, value: Any) -> str:
    """Plain words for ``value`` (an id of ``kind``, see :data:`LABELS`).

    An id the table does not hold is shown as written, except that a snake_case id becomes words
    (``prior_lines`` -> ``prior lines``), so an unknown id never leaks as an identifier.
    """
    text = str(value)
    table = LABELS.get(kind, {})
    if text in table:
        return table[text]
    if kind == "population":  # a condition population: "age_years >= 18, diagnosis in {B-ALL}" -> "age ≥ 18, ..."
        words = _SNAKE_WORD.sub(lambda m: label("column", m.group(0)), text)
        return re.sub(r">=|<=|!=|==", lambda m: _OPERATORS[m.group(0)], words)
    if kind in LABELS or kind in _COLUMN_KINDS:
        for key, words in table.items():  # vocabularies match without regard to case, as the cohort reader does
            if key.lower() == text.lower():
                return words
    return text.replace("_", " ") if _SNAKE.fullmatch(text) else text


def clinical_order(kind: str, levels: Iterable[Any]) -> list[Any]:
    """``levels`` in clinical order: responses best first (CR, CRh, CRi, PR, SD/NR, PD), grades ascending,
    a patients column's categories in its schema vocabulary order, anything else as given; not evaluable, missing
    and unknown always last."""
    levels = list(levels)
    vocabulary: tuple[str, ...] = ()
    if kind == "response":
        ranked = sorted(RESPONSE_RANK, key=lambda r: (RESPONSE_RANK[r], r))
        vocabulary = tuple(ranked)
    elif kind in _COLUMN_KINDS:
        vocabulary = PATIENTS.column(kind).vocabulary or ()
    position = {v.lower(): i for i, v in enumerate(vocabulary)}

    def key(item: tuple[int, Any]) -> tuple[int, int, int]:
        i, level = item
        text = str(level)
        last = 1 if text in _LAST or text.lower() in {x.lower() for x in _LAST} else 0
        return last, position.get(text.lower(), len(position)), i

    return [level for _, level in sorted(enumerate(levels), key=key)]


def comparison_label(record: Mapping[str, Any]) -> str:
    """A comparison in words, from its record (never the plan's id): ``Responders: HSCT vs no HSCT`` for an
    exposure after infusion, ``All patients by diagnosis`` for a baseline grouping."""
    population = label("population", record.get("population", "all"))
    population = population[0].upper() + population[1:]
    labels = record.get("labels") or {}
    if labels.get("exposed") or labels.get("unexposed"):
        return f"{population}: {labels.get('exposed', 'exposed')} vs {labels.get('unexposed', 'unexposed')}"
    if record.get("by"):
        return f"{population} by {label('column', record['by'])}"
    return f"{population}, {label('column', record.get('comparison', ''))}"
