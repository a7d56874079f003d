"""Survival statistics with numbers identical to R ``survival``/``cmprsk``.

Nothing here knows about CAR-T: functions take a DataFrame plus column names (or arrays) and return frozen results.
"""

from cart_outcomes.stats.competing import (
    CumulativeIncidence,
    FineGray,
    GrayTest,
    cumulative_incidence,
    fine_gray,
    gray_test,
)
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
from cart_outcomes.stats.timedep import (
    Landmark,
    MantelByar,
    SimonMakuch,
    landmark,
    mantel_byar,
    simon_makuch,
    split_at_exposure,
)

__all__: list[str] = [
    "CumulativeIncidence",
    "FineGray",
    "GrayTest",
    "cumulative_incidence",
    "fine_gray",
    "gray_test",
    "ExactLogrankResult",
    "LogrankHazardRatio",
    "LogrankResult",
    "TrendTestResult",
    "exact_logrank_test",
    "hazard_ratio_logrank",
    "logrank_test",
    "logrank_trend_test",
    "Landmark",
    "MantelByar",
    "SimonMakuch",
    "landmark",
    "mantel_byar",
    "simon_makuch",
    "split_at_exposure",
]
