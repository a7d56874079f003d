"""Cohort data: the schema (one source of truth), reading files, validation and the data-entry template."""
