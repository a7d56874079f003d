"""Builders of one-row observation tables for the toxicity tests (defaults = a normal, afebrile time point)."""

from __future__ import annotations


def crs_row(patient_id="P1", day=1, temperature_c=37.0, hypotension=False, vasopressors=0, vasopressin=False,
            oxygen_device="none", oxygen_flow_l_min=None, anticytokine_or_antipyretic=False, other_cause=False,
            crs_death=False, **extra):
    return dict(patient_id=patient_id, day=day, temperature_c=temperature_c, hypotension=hypotension,
                vasopressors=vasopressors, vasopressin=vasopressin, oxygen_device=oxygen_device,
                oxygen_flow_l_min=oxygen_flow_l_min, anticytokine_or_antipyretic=anticytokine_or_antipyretic,
                other_cause=other_cause, crs_death=crs_death, **extra)


def icans_row(patient_id="P1", day=1, age_years=40, ice_score=10, capd_score=None, consciousness="awake",
              seizure="none", motor="none", cerebral_edema="none", icans_death=False, **extra):
    return dict(patient_id=patient_id, day=day, age_years=age_years, ice_score=ice_score, capd_score=capd_score,
                consciousness=consciousness, seizure=seizure, motor=motor, cerebral_edema=cerebral_edema,
                icans_death=icans_death, **extra)


def anc_series(patient_id, values_by_day, default=2000, days=range(0, 31)):
    """Daily ANC rows: ``values_by_day`` maps day -> ANC, every other day gets ``default``."""
    return [dict(patient_id=patient_id, day=d, anc_per_ul=values_by_day.get(d, default)) for d in days]
