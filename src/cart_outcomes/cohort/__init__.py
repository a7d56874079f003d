"""Cohort data: the schema (one source of truth), reading files, validation and the data-entry template."""

from cart_outcomes.cohort.io import Cohort, cohort_from_frames, read_cohort
from cart_outcomes.cohort.mapping import DataMapping, load_mapping_from_plan
from cart_outcomes.cohort.schema import TABLES, Column, Table, render_data_dictionary
from cart_outcomes.cohort.validate import Problem, ValidationReport, validate

__all__ = [
    "TABLES",
    "Cohort",
    "Column",
    "DataMapping",
    "Problem",
    "Table",
    "ValidationReport",
    "cohort_from_frames",
    "load_mapping_from_plan",
    "read_cohort",
    "render_data_dictionary",
    "validate",
]
