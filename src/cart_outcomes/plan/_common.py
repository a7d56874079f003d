"""What every section module of the plan shares: the quality log, populations, the plan's statistical options
resolved once, and time conversion between days (every computation) and the plan's time unit (every record)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from cart_outcomes.plan import populations
from cart_outcomes.plan.model import Plan
from cart_outcomes.units import days_per_unit, time_point_label


class Part(NamedTuple):
    """What a section returns: its record(s) for results.json, its tidy tables, and its fitted results by key."""

    record: Any
    tables: dict[str, pd.DataFrame]
    fits: dict[Any, Any]


@dataclass
class QualityLog:
    """Warnings and exclusions met while analysing; they go to ``data_quality`` in results.json and the report."""

    warnings: list[dict] = field(default_factory=list)
    exclusions: list[dict] = field(default_factory=list)

    def exclude(self, analysis: str, frame: pd.DataFrame) -> None:
        """Record every ``patient_id, reason`` row of ``frame`` as left out of ``analysis``."""
        for pid, reason in zip(frame["patient_id"], frame["reason"], strict=True):
            self.exclusions.append({"analysis": analysis, "patient_id": str(pid), "reason": str(reason)})


#: Kinds of column (pandas ``infer_dtype``) whose distinct values are distinct as Python values: a function of the
#: value can be computed once per value. Floats are left out (0.0 and -0.0 are one value to a hash table).
_DISTINCT_KINDS = frozenset({"string", "boolean", "integer", "empty", "categorical"})


def map_distinct(series: pd.Series, f: Callable[[Any], Any]) -> pd.Series:
    """``f`` of every cell (``None`` for a missing one) as an object Series, computed once per distinct value when
    the column's values allow it (text, booleans, whole numbers), else cell by cell."""
    if pd.api.types.infer_dtype(series, skipna=True) not in _DISTINCT_KINDS:
        return pd.Series([None if pd.isna(v) else f(v) for v in series.tolist()], index=series.index, dtype=object)
    codes, distinct = pd.factorize(series, use_na_sentinel=True)
    values = np.array([*[f(v) for v in distinct.tolist()], None], dtype=object)  # code -1 (missing): None
    return pd.Series(values[codes], index=series.index, dtype=object)


def response_column(plan: Plan) -> str:
    """The patients column holding the response at the plan's ``response_day`` (``day28_response`` for day 28)."""
    return f"day{plan.endpoints.response_day}_response"


def response_asked(plan: Plan) -> bool:
    """Whether the plan asks for the response-day response itself (``response_day`` set, or an analysis or
    comparison of responders); otherwise a sheet without the column has its response analyses skipped."""
    populations = [a.population for a in plan.analyses or []] + [c.population for c in plan.comparisons]
    return "response_day" in plan.endpoints.model_fields_set or any(
        p == "responders" or (isinstance(p, dict) and "responders" in p) for p in populations)


def skipped(log: QualityLog, message: str) -> None:
    """Log a one-line ``ANALYSIS_SKIPPED`` warning: which analysis was not run, and why."""
    log.warnings.append({"rule": "ANALYSIS_SKIPPED", "severity": "warning", "patient_id": None, "row": None,
                         "column": None, "value": None, "table": None, "message": message})


def population(frame: pd.DataFrame, plan: Plan, which: str | Mapping[str, Any]) -> pd.DataFrame:
    """``all`` infused patients, ``responders`` (response at ``response_day`` in the plan's response set), or the
    patients meeting every condition of a mapping (:func:`cart_outcomes.plan.populations.select`)."""
    if which == "all":
        return frame
    return populations.select(frame, which, lambda f: f[response_column(plan)].isin(plan.endpoints.responses))


def conf_type(plan: Plan) -> str:
    """The pointwise CI transform of every curve (KM and cumulative incidence): the profile's, else conf_type."""
    from cart_outcomes.stats.km import PROFILES

    s = plan.statistics
    return PROFILES[s.profile] if s.profile is not None else s.conf_type


def km_options(plan: Plan) -> dict[str, Any]:
    """Keyword arguments of every Kaplan-Meier fit."""
    s = plan.statistics
    return {"conf_type": None if s.profile else s.conf_type, "profile": s.profile, "conf_level": s.conf_level}


def scale(plan: Plan) -> float:
    """Days per unit of the plan's ``statistics.time_unit``."""
    return days_per_unit(plan.statistics.time_unit)


def to_days(plan: Plan, times: Iterable[float]) -> list[float]:
    """Times given in the plan's time unit (``rates_at``, ``landmark_days``) as days."""
    return [float(t) * scale(plan) for t in times]


def in_unit(rows: list[dict], plan: Plan, keys: Iterable[str] = ("time",)) -> list[dict]:
    """Copies of record rows with the time-valued ``keys`` divided by days per unit (unchanged for days)."""
    f = scale(plan)
    keys = tuple(keys)
    return [{k: (v / f if k in keys and isinstance(v, (int, float)) and not isinstance(v, bool) else v)
             for k, v in row.items()} for row in rows]


def time_label(plan: Plan, t_days: float) -> str:
    """How a time is named in labels: ``day 182.6``, ``26-week``, ``6-month`` or ``1-year``
    (:func:`~cart_outcomes.units.time_point_label`, which the report uses too)."""
    return time_point_label(t_days / scale(plan), plan.statistics.time_unit)
