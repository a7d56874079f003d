"""CAR-T cellular kinetics: expansion, exposure and persistence (clinical-definitions section 9)."""

from cart_outcomes.kinetics.nca import NCAResult, noncompartmental

__all__ = ["NCAResult", "noncompartmental"]
