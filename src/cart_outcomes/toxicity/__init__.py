"""Toxicity grading (ASTCT CRS/ICANS, ICAHT, CAR-HEMATOTOX, IEC-HS flags), safety tables, and the haematological
course: laboratory trajectories and neutrophil/platelet recovery.

Every grade carries its grading system and the rule that set it; the criteria are versioned data files in
``cart_outcomes/toxicity/criteria`` (see docs/toxicity.md).
"""

from cart_outcomes.toxicity._common import GradingResult
from cart_outcomes.toxicity.ae_tables import (
    SUPPORTIVE_CARE,
    SafetyTable,
    adverse_event_table,
    exposure_summary,
    grade_distribution,
    icaht_distribution,
    onset_duration_summary,
    supportive_care_summary,
)
from cart_outcomes.toxicity.bedside import BEDSIDE_COLUMNS, crs_inputs_from_bedside
from cart_outcomes.toxicity.criteria import available_criteria, load_criteria
from cart_outcomes.toxicity.crs import CRS_COLUMNS, grade_crs
from cart_outcomes.toxicity.hematotox import car_hematotox, hematotox_points
from cart_outcomes.toxicity.icaht import LAB_COLUMNS, check_labs, grade_icaht
from cart_outcomes.toxicity.icans import ICANS_COLUMNS, grade_icans
from cart_outcomes.toxicity.iechs import LabFlags, iechs_lab_flags
from cart_outcomes.toxicity.labs import (
    HematologicRecovery,
    LabTrajectories,
    hematologic_recovery,
    lab_trajectories,
    recovery_incidence,
)
from cart_outcomes.toxicity.pregraded import NOT_STATED, normalise_system, patient_grades, pregraded_grades

__all__ = [
    "BEDSIDE_COLUMNS",
    "CRS_COLUMNS",
    "GradingResult",
    "HematologicRecovery",
    "ICANS_COLUMNS",
    "LAB_COLUMNS",
    "LabFlags",
    "LabTrajectories",
    "NOT_STATED",
    "SUPPORTIVE_CARE",
    "SafetyTable",
    "adverse_event_table",
    "available_criteria",
    "car_hematotox",
    "check_labs",
    "crs_inputs_from_bedside",
    "exposure_summary",
    "grade_crs",
    "grade_distribution",
    "grade_icaht",
    "grade_icans",
    "hematologic_recovery",
    "hematotox_points",
    "icaht_distribution",
    "iechs_lab_flags",
    "lab_trajectories",
    "load_criteria",
    "normalise_system",
    "onset_duration_summary",
    "patient_grades",
    "pregraded_grades",
    "recovery_incidence",
    "supportive_care_summary",
]
