"""Survival statistics with numbers identical to R ``survival``/``cmprsk``.

Nothing here knows about CAR-T: functions take a DataFrame plus column names (or arrays) and return frozen results.
"""

from cart_outcomes.stats.cox import CoxResult, PHTest, cox_ph

__all__: list[str] = ["CoxResult", "PHTest", "cox_ph"]
