"""CAR-T cellular kinetics: expansion, exposure, persistence (see docs/kinetics.md)."""

from cart_outcomes.kinetics.nca import NCAResult, noncompartmental
from cart_outcomes.kinetics.summary import KineticsSummary, persistence_rates, summarize_kinetics

__all__ = [
    "KineticsSummary",
    "NCAResult",
    "noncompartmental",
    "persistence_rates",
    "summarize_kinetics",
]
