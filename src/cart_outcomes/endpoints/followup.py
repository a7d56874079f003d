"""Follow-up (observation) time of every infused patient.

The observation time is the death day for patients who died and the last follow-up day for the others, from the
infusion (day 0). Summaries are in :mod:`cart_outcomes.stats`: ``reverse_km_followup`` gives the reverse
Kaplan-Meier median follow-up (Schemper and Smith 1996; the toolkit's recommended figure) *and* the plain median,
IQR and range of observation times, each labelled. Papers often quote the plain median and range, which include
the deaths (Xiao 2025: "median follow-up 134 (14-925) days"), so say which one is reported.
"""

from __future__ import annotations

import pandas as pd

from cart_outcomes.endpoints.sources import DEATH
from cart_outcomes.endpoints.tte import derive_time_to_event

__all__ = ["derive_followup"]


def derive_followup(patients: pd.DataFrame) -> pd.DataFrame:
    """Observation time from infusion: ``followup_time_days``, ``followup_event``, ``followup_status``,
    ``followup_source``.

    Parameters
    ----------
    patients : DataFrame
        Canonical patients table: ``death_day`` and ``last_followup_day``.

    Returns
    -------
    DataFrame
        A copy of ``patients`` with the four columns. ``followup_event`` is True when the observation ended by
        death (source ``"death"``), False when the patient was last seen alive (``"last_followup"``). For the
        reverse Kaplan-Meier estimate the roles swap: being seen alive is the "event"; pass
        ``followup_time_days`` and ``~followup_event`` (``reverse_km_followup`` does the swap itself).

    Notes
    -----
    1. The death day for patients who died.
    2. Otherwise the last follow-up day.
    New therapy and HSCT never shorten follow-up.

    R: ``obs <- ifelse(is.na(death_day), last_followup_day, death_day); median(obs); range(obs)`` and, reverse
    Kaplan-Meier, ``survfit(Surv(obs, is.na(death_day)) ~ 1)``.
    """
    return derive_time_to_event(patients, prefix="followup", events=[DEATH])
