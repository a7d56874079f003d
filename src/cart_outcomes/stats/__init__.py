"""Survival statistics with numbers identical to R ``survival``/``cmprsk``.

Nothing here knows about CAR-T: functions take a DataFrame plus column names (or arrays) and return frozen results.
"""

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

__all__: list[str] = [
    "ExactLogrankResult",
    "LogrankHazardRatio",
    "LogrankResult",
    "TrendTestResult",
    "exact_logrank_test",
    "hazard_ratio_logrank",
    "logrank_test",
    "logrank_trend_test",
]
