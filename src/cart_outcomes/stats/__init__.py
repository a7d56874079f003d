"""Survival statistics with numbers identical to R ``survival``/``cmprsk``.

Nothing here knows about CAR-T: functions take a DataFrame plus column names (or arrays) and return frozen results.
"""

from cart_outcomes.stats.km import KaplanMeier, ReverseKMFollowup, at_risk_table, kaplan_meier, reverse_km_followup

__all__: list[str] = [
    "KaplanMeier",
    "ReverseKMFollowup",
    "at_risk_table",
    "kaplan_meier",
    "reverse_km_followup",
]
