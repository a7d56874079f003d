"""The subgroups section of a run: the hazard ratio of one two-group factor within each subgroup (a forest plot),
with the p-value of the interaction between the factor and each subgrouping variable.

Each subgrouping is a column (one subgroup per value) or a condition ``{age_years: ">= 65"}`` (two subgroups: the
patients meeting it and the others with a value). Within a subgroup the hazard ratio is the Cox model's (Wald CI and
p, the plan's ties and conf_level); the interaction p is the likelihood-ratio test of
``coxph(Surv ~ factor * subgroup)`` against ``coxph(Surv ~ factor + subgroup)`` on the patients with a subgroup
value (R ``anova(fit0, fit1)``).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import chdtrc

from cart_outcomes import stats
from cart_outcomes.cohort.schema import ENDPOINT_NAMES
from cart_outcomes.errors import InputError
from cart_outcomes.plan import populations
from cart_outcomes.plan._common import Part, population
from cart_outcomes.plan.arms import group_labels
from cart_outcomes.plan.model import Plan, SubgroupForest
from cart_outcomes.results.records import num

__all__ = ["subgroup_columns", "subgroups_section"]


def subgroup_columns(plan: Plan) -> list[tuple[str, str]]:
    """``(where, column)`` of every column the plan's subgroup forests name, to be checked against the cohort."""
    out = []
    for f in plan.subgroups:
        out.append((f"subgroups ({f.name}): factor", f.factor))
        for s in f.subgroups:
            out.append((f"subgroups ({f.name})", s if isinstance(s, str) else next(iter(s))))
    return out


_COMPLEMENT = {">=": "<", "<": ">=", ">": "<=", "<=": ">", "==": "!=", "!=": "=="}


def _subgroup_labels(data: pd.DataFrame, spec: str | dict[str, str], where: str) -> tuple[str, pd.Series, list]:
    """Name, per-patient subgroup label (missing: no value) and subgroup order of one subgrouping."""
    if isinstance(spec, str):
        labels = group_labels(data[spec])
        return spec, labels, sorted(set(labels.dropna()))
    column, condition = next(iter(spec.items()))
    parsed = populations.parse_condition(condition)
    if parsed is None:
        raise InputError(f"{where}: subgroup {column}: {condition!r} is not a comparison such as '>= 65'")
    values = pd.to_numeric(data[column], errors="coerce")
    if values.notna().sum() < data[column].notna().sum():
        raise InputError(f"{where}: subgroup {column}: {condition!r} compares with a number, but column {column!r} "
                         "is not numeric")
    inside = populations.describe({column: condition})
    outside = f"{column} {_COMPLEMENT[parsed[0]]} {parsed[1]:g}"
    labels = pd.Series(np.where(populations.meets(values, condition), inside, outside), index=data.index, dtype=object)
    return column, labels.where(values.notna()), [inside, outside]


def _cox(frame: pd.DataFrame, covariates: list[str], plan: Plan) -> tuple[Any, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = stats.cox_ph(frame, "time", "event", covariates, ties=plan.statistics.ties,
                           conf_level=plan.statistics.conf_level)
    return fit, [str(w.message) for w in caught]


def _hr_row(frame: pd.DataFrame, plan: Plan) -> dict[str, Any]:
    row: dict[str, Any] = {"n": int(len(frame)), "events": int(frame["event"].sum()), "hazard_ratio": None,
                           "lower": None, "upper": None, "p": None, "note": None}
    if frame["x"].nunique() < 2:
        row["note"] = "one group only: no hazard ratio"
    elif not frame["event"].any():
        row["note"] = "no events: no hazard ratio"
    else:
        fit, notes = _cox(frame, ["x"], plan)
        c = fit.coefficients.iloc[0]
        row.update(hazard_ratio=num(c["hazard_ratio"]), lower=num(c["lower"]), upper=num(c["upper"]),
                   p=num(c["p"]), note="; ".join(notes) or None)
    return row


def _interaction(frame: pd.DataFrame, levels: list, plan: Plan) -> dict[str, Any]:
    """LR test of the factor-by-subgroup interaction (df = number of subgroups with patients - 1)."""
    present = [lv for lv in levels if (frame["sub"] == lv).any()]
    if len(present) < 2:
        return {"statistic": None, "df": 0, "p": None, "method": "not tested: one subgroup only"}
    design = frame[["time", "event", "x"]].copy()
    dummies, products = [], []
    for i, lv in enumerate(present[1:]):
        design[f"s{i}"] = (frame["sub"] == lv).astype(float)
        design[f"xs{i}"] = design["x"] * design[f"s{i}"]
        dummies.append(f"s{i}")
        products.append(f"xs{i}")
    try:
        fit0, _ = _cox(design, ["x", *dummies], plan)
        fit1, notes = _cox(design, ["x", *dummies, *products], plan)
    except InputError as exc:  # e.g. an interaction column that is constant: the model cannot be fitted
        return {"statistic": None, "df": len(products), "p": None, "method": f"not tested: {exc}"}
    stat = 2.0 * (fit1.loglik["fitted"] - fit0.loglik["fitted"])
    return {"statistic": num(stat), "df": len(products), "p": num(chdtrc(len(products), stat)),
            "method": "likelihood-ratio test of the factor x subgroup interaction in a Cox model (R anova of "
                      "coxph(~ factor + subgroup) and coxph(~ factor * subgroup))",
            "notes": notes}


def _forest(frame: pd.DataFrame, f: SubgroupForest, plan: Plan) -> dict[str, Any]:
    where = f"subgroups ({f.name})"
    t, e = f"{f.endpoint}_time_days", f"{f.endpoint}_event"
    data = population(frame, plan, f.population)
    data = data[data[t].notna()]
    factor = group_labels(data[f.factor])
    levels = sorted(set(factor.dropna()))
    if len(levels) != 2:
        raise InputError(f"{where}: factor {f.factor!r} must have exactly two groups in the population, it has "
                         f"{levels}")
    ref = f.reference if f.reference is not None else levels[0]
    if ref not in levels:
        raise InputError(f"{where}: reference {ref!r} is not a group of {f.factor!r} (groups: {levels})")
    group = next(lv for lv in levels if lv != ref)
    base = pd.DataFrame({"time": data[t].to_numpy(float), "event": data[e].to_numpy(bool),
                         "x": (factor == group).astype(float).to_numpy()}, index=data.index)
    base = base[factor.notna().to_numpy()]
    rec: dict[str, Any] = {
        "name": f.name, "endpoint": f.endpoint, "endpoint_name": ENDPOINT_NAMES[f.endpoint],
        "population": populations.describe(f.population), "factor": f.factor, "group": group, "reference": ref,
        "n_missing_factor": int(factor.isna().sum()), "overall": _hr_row(base, plan), "subgroups": [],
        "conf_level": plan.statistics.conf_level, "ties": plan.statistics.ties,
    }
    for spec in f.subgroups:
        column, labels, order = _subgroup_labels(data, spec, where)
        sub = base.assign(sub=labels.loc[base.index])
        rows = [{"subgroup": lv, **_hr_row(sub[sub["sub"] == lv], plan)} for lv in order if (sub["sub"] == lv).any()]
        known = sub[sub["sub"].notna()]
        rec["subgroups"].append({"variable": column, "n_missing": int(sub["sub"].isna().sum()), "rows": rows,
                                 "interaction": _interaction(known, order, plan)})
    return rec


def subgroups_section(frame: pd.DataFrame, plan: Plan) -> Part:
    """One record per subgroup forest of the plan (``subgroups:``)."""
    return Part([_forest(frame, f, plan) for f in plan.subgroups], {}, {})
