"""Survival statistics with numbers identical to R ``survival``/``cmprsk``.

Nothing here knows about CAR-T: functions take a DataFrame plus column names (or arrays) and return frozen results.
"""

from cart_outcomes.stats.cox import CoxResult, PHTest, cox_ph
from cart_outcomes.stats.km import KaplanMeier, ReverseKMFollowup, at_risk_table, kaplan_meier, reverse_km_followup
from cart_outcomes.stats.logrank import (
    ExactLogrankResult,
    LogrankHazardRatio,
    LogrankResult,
    TrendTestResult,
    exact_logrank_test,
    hazard_ratio_logrank,
    logrank_test,
    logrank_trend_test,
)
from cart_outcomes.stats.proportions import BinomialCI, FisherExact, binomial_ci, fisher_exact

__all__: list[str] = [
    "BinomialCI",
    "CoxResult",
    "ExactLogrankResult",
    "FisherExact",
    "KaplanMeier",
    "LogrankHazardRatio",
    "LogrankResult",
    "PHTest",
    "ReverseKMFollowup",
    "TrendTestResult",
    "at_risk_table",
    "binomial_ci",
    "cox_ph",
    "exact_logrank_test",
    "fisher_exact",
    "hazard_ratio_logrank",
    "kaplan_meier",
    "logrank_test",
    "logrank_trend_test",
    "reverse_km_followup",
]
