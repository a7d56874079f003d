"""Multi-arm comparisons of a ``by:`` grouping: hazard ratios of every group against a reference (Cox, and the
log-rank Mantel-Haenszel and O/E ratios GraphPad Prism reports), pairwise log-rank tests with Holm or Bonferroni
adjustment, the log-rank test for trend when the groups are ordered, and pairwise Gray's tests for cumulative
incidence.

Group labels are compared as text (``reference: 1`` names the group whose value is 1 or 1.0). Patients with no
value in the grouping column are left out of these comparisons and counted (``n_missing_group``).
"""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd

from cart_outcomes import stats
from cart_outcomes.errors import InputError
from cart_outcomes.plan._common import map_distinct
from cart_outcomes.plan.model import GroupOptions, Plan
from cart_outcomes.results.records import num, records

__all__ = ["competing_arms", "group_labels", "tte_arms"]


def _label(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def group_labels(series: pd.Series) -> pd.Series:
    """The grouping column as text labels (missing stays missing): ``1.0`` becomes ``"1"``."""
    return map_distinct(series, _label)


def _levels(labels: pd.Series, opts: GroupOptions, by: str, where: str) -> tuple[list[str], str]:
    """Display order of the groups and the reference group; InputError naming the analysis when the plan's
    ``order``/``scores``/``reference`` do not match the groups present."""
    present = sorted(set(labels.dropna()))
    named = opts.order if opts.order is not None else list(opts.scores) if opts.scores is not None else None
    if named is not None and set(named) != set(present):
        which = "order" if opts.order is not None else "scores"
        raise InputError(f"{where}: {which} must list every group of {by!r} once; the groups are {present}, "
                         f"{which} gives {list(named)}")
    levels = list(opts.order) if opts.order is not None else present
    reference = opts.reference if opts.reference is not None else levels[0]
    if reference not in levels:
        raise InputError(f"{where}: reference {reference!r} is not a group of {by!r} (groups: {levels})")
    return levels, reference


def _frame(data: pd.DataFrame, by: str, levels: list[str], columns: list[str]) -> pd.DataFrame:
    frame = data[columns].copy()
    frame[by] = pd.Categorical(group_labels(data[by]), categories=levels)
    return frame[frame[by].notna()]


def _pairwise(table: pd.DataFrame, method: str, adjust: str, r_call: str) -> dict:
    return {"method": method, "adjust": adjust, "r_equivalent": r_call, "rows": records(table)}


def tte_arms(data: pd.DataFrame, t: str, e: str, by: str, opts: GroupOptions, plan: Plan, where: str) -> dict | None:
    """Hazard ratios against the reference, pairwise log-rank tests and the trend test of one time-to-event
    endpoint by ``by``; ``None`` with fewer than two groups.

    R equivalents: ``coxph(Surv(t, e) ~ relevel(factor(by), ref))`` (Wald CI and p; ``ties`` and ``conf_level``
    of the plan); ``survdiff`` on each (group, reference) pair for the Mantel-Haenszel ``exp((O-E)/V)`` and O/E
    ratios; ``survminer::pairwise_survdiff(..., p.adjust.method)``; the trend statistic from ``survdiff``'s O, E, V.
    """
    labels = group_labels(data[by])
    if labels.nunique() < 2:
        return None
    levels, ref = _levels(labels, opts, by, where)
    s = plan.statistics
    ordered = [ref, *[lv for lv in levels if lv != ref]]
    frame = _frame(data, by, ordered, [t, e])
    rec: dict[str, Any] = {"by": by, "reference": ref, "levels": levels,
                           "n_missing_group": int(labels.isna().sum()), "hazard_ratios": [], "notes": []}
    if not frame[e].any():
        rec["notes"].append("no events: the groups cannot be compared")
        return rec
    events = frame.groupby(by, observed=False)[e].agg(["size", "sum"])
    with warnings.catch_warnings(record=True) as caught:  # kept as notes (e.g. a group without events)
        warnings.simplefilter("always")
        cox = stats.cox_ph(frame, t, e, [by], ties=s.ties, conf_level=s.conf_level)
        coef = {row["term"]: row for row in records(cox.coefficients)}
        rec["cox_tests"] = records(cox.tests)
        for lv in ordered[1:]:
            counts = {"group": lv, "reference": ref, "n": int(events.loc[lv, "size"]),
                      "events": int(events.loc[lv, "sum"])}
            c = coef[f"{by}{lv}"]
            rec["hazard_ratios"].append({**counts, "method": "cox", "hazard_ratio": c["hazard_ratio"],
                                         "lower": c["lower"], "upper": c["upper"], "p": c["p"],
                                         "test": "Wald test of the Cox coefficient"})
            pair = frame[frame[by].isin([lv, ref])].copy()
            pair[by] = pd.Categorical(pair[by].astype(str), categories=[ref, lv])
            lr = stats.logrank_test(pair, t, e, by=by)
            hr = stats.hazard_ratio_logrank(pair, t, e, by=by, reference=ref, conf_level=s.conf_level)
            for row in records(hr.table):
                rec["hazard_ratios"].append({**counts, "method": row["method"], "hazard_ratio": row["hazard_ratio"],
                                             "lower": row["lower"], "upper": row["upper"], "p": num(lr.p_value),
                                             "test": "log-rank test of the pair"})
        if len(levels) >= 3:
            pw = stats.pairwise_logrank_test(_frame(data, by, levels, [t, e]), t, e, by, adjust=opts.pairwise)
            rec["pairwise"] = _pairwise(pw.table, "log-rank test of each pair (survdiff on the pair's patients)",
                                        opts.pairwise, str(pw.options["r_equivalent"]))
        if opts.order is not None or opts.scores is not None:
            scores = opts.scores if opts.scores is not None else {lv: float(i + 1) for i, lv in enumerate(levels)}
            tr = stats.logrank_trend_test(_frame(data, by, levels, [t, e]), t, e, by=by, scores=scores)
            rec["trend"] = {"statistic": num(tr.statistic), "df": tr.df, "p": num(tr.p_value), "z": num(tr.z),
                            "scores": {lv: float(scores[lv]) for lv in levels},
                            "method": "log-rank test for trend, (s'(O-E))^2 / s'Vs on 1 df"}
    rec["notes"] += list(dict.fromkeys(str(w.message) for w in caught))
    return rec


def competing_arms(data: pd.DataFrame, t: str, status: str, by: str, cause: int, opts: GroupOptions,
                   where: str) -> dict | None:
    """Pairwise Gray's tests (three or more groups) of the cumulative incidence of ``cause`` by ``by``."""
    labels = group_labels(data[by])
    if labels.nunique() < 3:
        return None
    levels, ref = _levels(labels, opts, by, where)
    with warnings.catch_warnings(record=True) as caught:  # kept as notes (e.g. a pair without events)
        warnings.simplefilter("always")
        pw = stats.pairwise_gray_test(_frame(data, by, levels, [t, status]), t, status, by, cause=cause,
                                      adjust=opts.pairwise)
    return {"by": by, "reference": ref, "levels": levels, "n_missing_group": int(labels.isna().sum()),
            "hazard_ratios": [], "notes": list(dict.fromkeys(str(w.message) for w in caught)),
            "pairwise": _pairwise(pw.table, "Gray's test of each pair (cuminc on the pair's patients)",
                                  opts.pairwise, str(pw.options["r_equivalent"]))}
