"""The RMST section of a run: restricted mean survival time of two groups up to a horizon, compared by difference
and ratio with CIs and p-values as R ``survRM2::rmst2`` (Uno et al., J Clin Oncol 2014), the comparison to report
when the hazards are not proportional.

``tau`` is read in the plan's ``statistics.time_unit`` (default: survRM2's, the largest time both curves are defined
at); every time in the record (tau, RMST, RMTL, their limits, the difference) is in that unit. Patients without a
value of the ``by`` column are left out and listed in ``data_quality.exclusions``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from cart_outcomes import stats
from cart_outcomes.cohort.schema import ENDPOINT_NAMES
from cart_outcomes.errors import InputError
from cart_outcomes.plan._common import Part, QualityLog, population, scale, skipped
from cart_outcomes.plan.model import Plan
from cart_outcomes.results.records import num, records

__all__ = ["rmst_ids", "rmst_section"]

_TIMES = ("rmst", "std_err", "lower", "upper", "rmtl", "rmtl_lower", "rmtl_upper")


def rmst_ids(plan: Plan) -> list[str]:
    """``<endpoint>_<by>`` (``_<population>`` unless all patients), with a numeric suffix for repeats."""
    ids: list[str] = []
    for a in plan.rmst:
        base = f"{a.endpoint}_{a.by}" + ("" if a.population == "all" else f"_{a.population}")
        key, k = base, 2
        while key in ids:
            key, k = f"{base}_{k}", k + 1
        ids.append(key)
    return ids


def rmst_section(frame: pd.DataFrame, plan: Plan, log: QualityLog) -> Part:
    """One record per ``rmst`` entry, and its tidy table ``rmst_<id>`` (the contrasts)."""
    out, tables = [], {}
    f = scale(plan)
    for a, rid in zip(plan.rmst, rmst_ids(plan), strict=True):
        t, e = f"{a.endpoint}_time_days", f"{a.endpoint}_event"
        sub = population(frame, plan, a.population)
        data = sub[sub[t].notna()]
        lacking = data[a.by].isna()
        if lacking.any():
            log.exclude(f"rmst {rid}", pd.DataFrame({"patient_id": data.loc[lacking, "patient_id"],
                                                     "reason": f"missing {a.by}"}))
        data = data.loc[~lacking].assign(**{a.by: data.loc[~lacking, a.by].astype(str)})
        if data.empty:
            skipped(log, f"rmst {rid} not computed: no patient with a defined {a.endpoint} time and {a.by}")
            continue
        try:
            res = stats.compare_rmst(data, t, e, by=a.by, tau=None if a.tau is None else a.tau * f,
                                     reference=a.reference, conf_level=plan.statistics.conf_level)
        except InputError as exc:
            raise InputError(f"rmst ({rid}): {exc}") from None
        arms = records(res.arms)
        for row in arms:
            grp = data[a.by] == row["group"]
            row.update({k: row[k] / f for k in _TIMES})
            row["n"], row["events"] = int(grp.sum()), int(data.loc[grp, e].sum())
        contrasts = records(res.table)
        for row in contrasts:
            if row["contrast"] == "rmst_difference":
                row.update({k: num(row[k] / f) if row[k] is not None else None for k in ("estimate", "lower", "upper")})
        rec: dict[str, Any] = {
            "id": rid, "endpoint": a.endpoint, "name": ENDPOINT_NAMES[a.endpoint], "population": a.population,
            "by": a.by, "n": int(len(data)), "tau": res.tau / f, "tau_rule": res.tau_rule,
            "reference": res.reference, "group": res.group, "arms": arms, "contrasts": contrasts,
            "method": "Restricted mean survival time: area under each group's Kaplan-Meier curve up to tau, "
                      "Greenwood-type variance; difference and ratios with normal (Wald) CIs and p, ratios on the "
                      "log scale (R survRM2::rmst2(time, status, arm, tau))",
        }
        out.append(rec)
        tables[f"rmst_{rid}"] = pd.DataFrame([{**row, "unit": plan.statistics.time_unit} for row in contrasts])
    return Part(out, tables, {})
