"""CAR-T cellular kinetics and laboratory trajectories (see docs/kinetics.md)."""

from cart_outcomes.kinetics.labs import HematologicRecovery, LabTrajectories, hematologic_recovery, lab_trajectories

__all__ = ["HematologicRecovery", "LabTrajectories", "hematologic_recovery", "lab_trajectories"]
