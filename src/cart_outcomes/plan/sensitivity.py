"""The sensitivity section of a run: endpoints re-derived under other endpoint rules (e.g. allo-HSCT censored
instead of ignored) and analysed beside the primary rules, so the two can be read side by side.

Each rule set derives every endpoint from the same patients (:func:`cart_outcomes.plan.cohort.derive_endpoints`);
time-to-event endpoints get Kaplan-Meier medians and rates (log-rank test with ``by``), cir/nrm the Aalen-Johansen
cumulative incidence at ``rates_at`` (Gray's test with ``by``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from cart_outcomes.cohort.schema import COMPETING_ENDPOINTS, ENDPOINT_NAMES
from cart_outcomes.plan import populations
from cart_outcomes.plan._common import Part, population, to_days
from cart_outcomes.plan.cohort import derive_endpoints
from cart_outcomes.plan.model import Analysis, Plan, Sensitivity
from cart_outcomes.plan.survival import competing_analysis, tte_analysis

__all__ = ["sensitivity_section"]


def _rules(plan: Plan) -> dict[str, str]:
    e = plan.endpoints
    return {"hsct": e.hsct, "new_therapy": e.new_therapy, "nonresponder_event": e.nonresponder_event}


def _analyse(frame: pd.DataFrame, s: Sensitivity, endpoint: str, plan: Plan) -> dict[str, Any]:
    a = Analysis(endpoint=endpoint, by=s.by, population=s.population, rates_at=s.rates_at)
    sub = population(frame, plan, s.population)
    competing = endpoint in COMPETING_ENDPOINTS
    n = int(sub[f"{'cir' if competing else endpoint}_time_days"].notna().sum())
    if n == 0:
        return {"n": 0, "groups": [], "note": "no patient in the population"}
    rec, _table, _fit = (competing_analysis if competing else tte_analysis)(sub, a, plan)
    rec.pop("arms", None)
    rec.pop("options", None)
    return {"n": n, **rec}


def sensitivity_section(patients: pd.DataFrame, primary: pd.DataFrame, plan: Plan,
                        derive: Callable[[pd.DataFrame, Plan], pd.DataFrame] = derive_endpoints) -> Part:
    """One record per (sensitivity analysis, endpoint): the primary rules' and the changed rules' results.

    ``primary`` is the patients with endpoints under the plan's rules; ``derive(patients, plan)`` derives them
    under a changed plan (the run's own derivation, so both rule sets see the same columns)."""
    out = []
    for s in plan.sensitivity:
        changed = s.change.model_dump(exclude_none=True)
        alt_plan = plan.model_copy(update={"endpoints": plan.endpoints.model_copy(update=changed)})
        alternative = derive(patients, alt_plan)
        for endpoint in s.endpoints:
            out.append({
                "sensitivity": s.name, "endpoint": endpoint, "name": ENDPOINT_NAMES[endpoint],
                "population": populations.describe(s.population), "by": s.by,
                "rates_at_days": to_days(plan, s.rates_at),
                "rules": [
                    {"label": "primary", "rules": _rules(plan), **_analyse(primary, s, endpoint, plan)},
                    {"label": "sensitivity", "rules": _rules(alt_plan), "changed": sorted(changed),
                     **_analyse(alternative, s, endpoint, alt_plan)},
                ],
            })
    return Part(out, {}, {})
