"""CAR-T cellular kinetics (expansion, exposure, persistence) and laboratory trajectories (see docs/kinetics.md)."""

from cart_outcomes.kinetics.labs import (
    HematologicRecovery,
    LabTrajectories,
    hematologic_recovery,
    lab_trajectories,
    recovery_incidence,
)
from cart_outcomes.kinetics.nca import NCAResult, noncompartmental
from cart_outcomes.kinetics.summary import KineticsSummary, persistence_rates, summarize_kinetics

__all__ = [
    "HematologicRecovery",
    "KineticsSummary",
    "LabTrajectories",
    "NCAResult",
    "hematologic_recovery",
    "lab_trajectories",
    "noncompartmental",
    "persistence_rates",
    "recovery_incidence",
    "summarize_kinetics",
]
