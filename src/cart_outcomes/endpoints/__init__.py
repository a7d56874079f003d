"""Endpoint derivation: OS, PFS, EFS, RFS, DOR, relapse/NRM, response and follow-up from a validated cohort."""
