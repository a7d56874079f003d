"""Endpoint derivation: OS, PFS, EFS, RFS, DOR, relapse/NRM, response and follow-up from a validated cohort.

Every ``derive_*`` function returns a new frame with ``<ep>_time_days``, ``<ep>_event``, ``<ep>_status`` and
``<ep>_source`` columns (see :mod:`cart_outcomes.endpoints.tte`); the input is never mutated.
"""

from cart_outcomes.endpoints.followup import derive_followup
from cart_outcomes.endpoints.response import ResponseRates, derive_response, response_rates
from cart_outcomes.endpoints.sources import (
    DEATH,
    HSCT,
    LAST_FOLLOWUP,
    NEW_THERAPY,
    PROGRESSION,
    STATUS_LABELS,
    CensorSource,
    EventSource,
)
from cart_outcomes.endpoints.tte import (
    CR_RESPONSES,
    ORR_RESPONSES,
    derive_cir_nrm,
    derive_dor,
    derive_efs,
    derive_os,
    derive_pfs,
    derive_rfs,
    derive_time_to_event,
)

__all__ = [
    "CR_RESPONSES",
    "DEATH",
    "HSCT",
    "LAST_FOLLOWUP",
    "NEW_THERAPY",
    "ORR_RESPONSES",
    "PROGRESSION",
    "STATUS_LABELS",
    "CensorSource",
    "EventSource",
    "ResponseRates",
    "derive_cir_nrm",
    "derive_dor",
    "derive_efs",
    "derive_followup",
    "derive_os",
    "derive_pfs",
    "derive_response",
    "derive_rfs",
    "derive_time_to_event",
    "response_rates",
]
