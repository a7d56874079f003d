"""Survival statistics with numbers identical to R ``survival``/``cmprsk``.

Nothing here knows about CAR-T: functions take a DataFrame plus column names (or arrays) and return frozen results.
"""

from cart_outcomes.stats.km import KaplanMeier, ReverseKMFollowup, at_risk_table, kaplan_meier, reverse_km_followup
from cart_outcomes.stats.proportions import BinomialCI, FisherExact, binomial_ci, fisher_exact

__all__: list[str] = [
    "BinomialCI",
    "FisherExact",
    "KaplanMeier",
    "ReverseKMFollowup",
    "at_risk_table",
    "binomial_ci",
    "fisher_exact",
    "kaplan_meier",
    "reverse_km_followup",
]
