"""The results spine: typed records (``results.json``), ``RunResult`` (records, tidy tables, fitted objects), and
de-identification. Below the report and the plan, above the clinical derivations and ``stats``."""

from cart_outcomes.results.deidentify import apply_code_map, date_columns, deidentify, deidentify_run
from cart_outcomes.results.records import SCHEMA_VERSION, Conventions, Results, results_json_schema
from cart_outcomes.results.run import Fits, RunResult, results_json

__all__ = [
    "SCHEMA_VERSION",
    "Conventions",
    "Fits",
    "Results",
    "RunResult",
    "apply_code_map",
    "date_columns",
    "deidentify",
    "deidentify_run",
    "results_json",
    "results_json_schema",
]
