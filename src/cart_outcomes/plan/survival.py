"""The follow-up and survival sections of a run: reverse-KM follow-up, Kaplan-Meier analyses with the log-rank
test, and cumulative incidence of relapse and non-relapse mortality with Gray's test.

Computation is in days; every time in the records (medians, limits, rate times) is in the plan's
``statistics.time_unit``, and ``rates_at`` is read in that unit too.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from cart_outcomes import stats
from cart_outcomes.cohort.schema import CIR_CAUSES, ENDPOINT_NAMES
from cart_outcomes.cohort.schema import COMPETING_ENDPOINTS as COMPETING
from cart_outcomes.plan import arms, populations
from cart_outcomes.plan._common import (
    Part,
    QualityLog,
    conf_type,
    in_unit,
    km_options,
    population,
    response_column,
    skipped,
    time_label,
    to_days,
)
from cart_outcomes.plan.model import Analysis, Plan
from cart_outcomes.results.records import num, records

_FOLLOWUP_TIMES = ("median_followup", "lower", "upper", "median_observed", "min_observed", "max_observed")


def followup_section(frame: pd.DataFrame, plan: Plan) -> Part:
    """Median follow-up by reverse Kaplan-Meier and the plain summary of observation times."""
    fu = stats.reverse_km_followup(frame, "os_time_days", "os_event", **km_options(plan))
    row = in_unit(records(fu.table), plan, _FOLLOWUP_TIMES)[0]
    row["definition"] = (
        "median_followup/lower/upper: reverse Kaplan-Meier (Schemper & Smith 1996) of time from infusion, deaths "
        "censored; median_observed/min_observed/max_observed: plain summary of every patient's observation time "
        "(to death or last follow-up)"
    )
    return Part(row, {"followup": fu.table}, {})


def rate_rows(at: pd.DataFrame, plan: Plan) -> list[dict]:
    """Rows of ``fit.at(days)`` as records: times in the plan's unit, each with its label (``6-month``)."""
    rows = records(at)
    for row in rows:
        row["label"] = time_label(plan, float(row["time"]))
    return in_unit(rows, plan)


def km_groups(km: Any, rates_at_days: list[float], plan: Plan) -> list[dict]:
    """One record per group: n, events, median with CI (in the plan's unit) and rates at the given days."""
    at = km.at(rates_at_days) if rates_at_days else None
    out = []
    for rec in in_unit(records(km.medians), plan, ("median", "lower", "upper")):
        g = rec["group"]
        rec["rates"] = rate_rows(at[at["group"] == g].drop(columns="group"), plan) if at is not None else []
        out.append(rec)
    return out


def logrank_record(lr: Any) -> dict:
    return {"statistic": num(lr.statistic), "df": lr.df, "p": num(lr.p_value), "method": "log-rank"}


def _columns(*names: str | None) -> list[str]:
    """The columns an analysis reads (a row selection of the whole cohort would copy every column)."""
    return list(dict.fromkeys(n for n in names if n is not None))


def tte_analysis(sub: pd.DataFrame, a: Analysis, plan: Plan) -> tuple[dict, pd.DataFrame, Any]:
    """Kaplan-Meier of one endpoint in ``sub`` (by ``a.by`` with the log-rank test and the multi-arm comparisons):
    the record, the tidy curve table and the fit."""
    t, e = f"{a.endpoint}_time_days", f"{a.endpoint}_event"
    data = sub.loc[sub[t].notna(), _columns("patient_id", t, e, a.by)]
    km = stats.kaplan_meier(data, t, e, by=a.by, **km_options(plan))
    rec: dict[str, Any] = {
        "groups": km_groups(km, to_days(plan, a.rates_at), plan),
        "method": "Kaplan-Meier; Greenwood variance",
        "options": dict(km.options),
    }
    if a.by is not None:
        rec["logrank"] = logrank_record(stats.logrank_test(data, t, e, by=a.by))
        rec["arms"] = arms.tte_arms(data, t, e, a.by, a, plan, f"analyses ({a.endpoint} by {a.by})")
    return rec, km.table, km


def competing_analysis(sub: pd.DataFrame, a: Analysis, plan: Plan) -> tuple[dict, pd.DataFrame, Any]:
    """Aalen-Johansen cumulative incidence of relapse (cir) or NRM in ``sub`` (by ``a.by`` with Gray's test and
    pairwise Gray's tests): the record, the tidy curve table and the fit."""
    data = sub.loc[sub["cir_time_days"].notna(), _columns("patient_id", "cir_time_days", "cir_status", a.by)]
    present = sorted(set(data["cir_status"].astype(int)) - {0} | {1, 2})
    causes = {k: CIR_CAUSES[k] for k in present}
    label = causes[1 if a.endpoint == "cir" else 2]
    ci = stats.cumulative_incidence(data, "cir_time_days", "cir_status", by=a.by, causes=causes,
                                    conf_level=plan.statistics.conf_level, conf_type=conf_type(plan))
    tab = ci.table[ci.table["cause"] == label]
    rates = ci.at(to_days(plan, a.rates_at)) if a.rates_at else None
    rec: dict[str, Any] = {
        "cause": label,
        "competing": [v for v in causes.values() if v != label],
        "groups": [
            {"group": g, "rates": rate_rows(rates[(rates["group"] == g) & (rates["cause"] == label)], plan)
             if rates is not None else []}
            for g in ci.groups
        ],
        "method": "Aalen-Johansen cumulative incidence (competing risks, exact ties, no jitter)",
        "options": dict(ci.options),
    }
    if a.by is not None:
        gt = stats.gray_test(data, "cir_time_days", "cir_status", by=a.by, cause=1 if a.endpoint == "cir" else 2)
        rec["gray_test"] = records(gt.table)
        rec["arms"] = arms.competing_arms(data, "cir_time_days", "cir_status", a.by, 1 if a.endpoint == "cir" else 2,
                                          a, f"analyses ({a.endpoint} by {a.by})")
    return rec, tab, ci


def analysis_id(a: Analysis) -> str:
    return "_".join((a.endpoint, populations.slug(a.population), a.by or "overall"))


def survival_section(frame: pd.DataFrame, plan: Plan, log: QualityLog | None = None) -> Part:
    """One record per analysis of the plan, its tidy table, and its fitted KM / cumulative incidence by id.

    An analysis with no patient in its population (DOR when nobody responded) is skipped, never a crash: with
    ``log``, a one-line ``ANALYSIS_SKIPPED`` warning says which and why.
    """
    out, tables, fits = [], {}, {}
    column = response_column(plan)
    for a in plan.effective_analyses():
        who = populations.describe(a.population)
        given = frame[f"{a.endpoint}_source"].isin(["adtte_event", "adtte_censor"]).any() if a.endpoint == "efs" else 0
        if column not in frame.columns and ((a.population != "all" and "responders" in a.population)
                                            or (a.endpoint == "efs" and not given)):
            if log is not None:  # responders and induction failure (EFS, unless given by ADTTE) need the responses
                skipped(log, f"{ENDPOINT_NAMES[a.endpoint]} ({who}) not analysed: the sheet has no {column!r} column")
            continue
        time = f"{'cir' if a.endpoint in COMPETING else a.endpoint}_time_days"
        if time not in frame.columns:  # not derived (DOR with an undated responder): logged when derived
            continue
        sub = population(frame, plan, a.population)
        key = analysis_id(a)
        n = int(sub[time].notna().sum())
        if n == 0:
            if log is not None:
                skipped(log, f"{ENDPOINT_NAMES[a.endpoint]} ({who}) not analysed: no patient in its population")
            continue
        analyse = competing_analysis if a.endpoint in COMPETING else tte_analysis
        rec, tab, fit = analyse(sub, a, plan)
        fits[key] = fit
        out.append({
            "id": key,
            "endpoint": a.endpoint,
            "name": ENDPOINT_NAMES[a.endpoint],
            "population": who,
            "by": a.by,
            "n": n,
            **rec,
        })
        tables[f"survival_{key}"] = tab
    return Part(out, tables, fits)
