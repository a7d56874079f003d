"""The comparisons section of a run: baseline-group comparisons, and exposures that happen after infusion analysed
naively (to reproduce published work) beside the landmark analysis, the time-dependent Cox model, the Mantel-Byar
test and Simon-Makuch curves.

``rates_at`` is read in the plan's ``statistics.time_unit`` and times in the records are in that unit, except the
landmarks, which are days as their name says (``landmark_days``, recorded as ``at``); every Cox interval is at the
plan's ``conf_level``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from cart_outcomes import stats
from cart_outcomes.cohort.schema import ENDPOINT_NAMES
from cart_outcomes.plan import arms, populations
from cart_outcomes.plan._common import Part, km_options, population, to_days
from cart_outcomes.plan.model import Comparison, Plan
from cart_outcomes.plan.survival import km_groups, logrank_record, rate_rows
from cart_outcomes.results.records import num, records

#: Largest population for which the exact (all relabellings) log-rank test is enumerated (stats limit).
EXACT_MAX_N = 40

IMMORTAL_TIME_WARNING = (
    "Patients are grouped by something that happens after infusion ({what}). To be in the exposed group a patient "
    "had to stay alive and event-free until exposure, so the naive comparison credits that pre-exposure "
    "('immortal') time to the exposed arm and is biased in its favour. Here the exposed arm was credited "
    "{days:g} person-days of pre-exposure time ({share:.0%} of its follow-up). Read the landmark analysis, the "
    "time-dependent Cox model, the Mantel-Byar test and the Simon-Makuch curves instead; the naive numbers are "
    "shown only to reproduce the published analysis (Giobbie-Hurder, Gelber & Regan, J Clin Oncol 2013)."
)


def _exposure_days(sub: pd.DataFrame, c: Comparison) -> pd.Series:
    days = sub[c.exposure].astype(float)
    for col, value in c.exposure_filter.items():
        days = days.where(sub[col] == value)
    return days


def comparison_labels(c: Comparison) -> tuple[str, str]:
    """Group labels of an exposure comparison: ``("no HSCT", "HSCT")`` for ``hsct_day``."""
    stem = (c.exposure or "")[: -len("_day")].upper()
    return (f"no {stem}", stem)


def naive(data: pd.DataFrame, t: str, e: str, group: str, rates_at_days: list[float], plan: Plan,
          exact: bool) -> tuple[dict, Any]:
    """Kaplan-Meier by a group fixed at day 0, the log-rank test and (small samples) the exact log-rank test."""
    km = stats.kaplan_meier(data, t, e, by=group, **km_options(plan))
    lr = stats.logrank_test(data, t, e, by=group)
    rec = {"groups": km_groups(km, rates_at_days, plan), "logrank": logrank_record(lr), "table": records(lr.table)}
    if exact and len(km.groups) == 2 and len(data) <= EXACT_MAX_N:
        ex = stats.exact_logrank_test(data, t, e, by=group)
        rec["exact_logrank"] = {"p": num(ex.p_value), "method": dict(ex.options).get("method", "exact permutation")}
    elif exact and len(km.groups) == 2:
        rec["exact_logrank"] = {"p": None, "method": "not run",
                                "note": f"exact enumeration is limited to n <= {EXACT_MAX_N} (n = {len(data)}); the "
                                        "asymptotic log-rank test applies at this size"}
    return rec, km


def _cox_summary(cox: Any, what: str, caught: list, plan: Plan) -> dict:
    coef = records(cox.coefficients)[0]
    return {"hazard_ratio": coef["hazard_ratio"], "lower": coef["lower"], "upper": coef["upper"], "p": coef["p"],
            "conf_level": plan.statistics.conf_level, "ties": plan.statistics.ties,
            "method": f"Cox model, {what}, Wald CI and p", "warnings": [str(w.message) for w in caught]}


def fixed_cox(data: pd.DataFrame, t: str, e: str, exposed: pd.Series, plan: Plan, what: str) -> dict | None:
    """Cox HR of exposed vs unexposed with groups fixed at day 0; ``None`` when one group is empty or has no
    events. A convergence warning (e.g. monotone likelihood) is kept as a note."""
    frame = pd.DataFrame({"time": data[t].to_numpy(float), "event": data[e].to_numpy(bool),
                          "exposed": exposed.to_numpy(bool).astype(float)})
    if frame["exposed"].nunique() < 2 or not frame["event"].any():
        return None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cox = stats.cox_ph(frame, "time", "event", ["exposed"], ties=plan.statistics.ties,
                           conf_level=plan.statistics.conf_level)
    return _cox_summary(cox, what, caught, plan)


def _time_dependent(data: pd.DataFrame, t: str, e: str, h: str, c: Comparison, plan: Plan) -> tuple[dict, Any]:
    s = plan.statistics
    split = stats.split_at_exposure(data[["patient_id", t, e, h]], t, e, h, id="patient_id")
    cox = stats.cox_ph(split, "stop", "event", ["exposed"], start="start", ties=s.ties, conf_level=s.conf_level)
    timed = data[[t, e, h]]  # the analyses' own columns: their results would repeat every other column per row
    mb = stats.mantel_byar(timed, t, e, h)
    sm = stats.simon_makuch(timed, t, e, h, **km_options(plan))
    rates_at = to_days(plan, c.rates_at)
    out: dict[str, Any] = {
        "time_dependent_cox": {
            "coefficients": records(cox.coefficients),
            "tests": records(cox.tests),
            "n_rows": int(len(split)),
            "conf_level": s.conf_level,
            "ties": s.ties,
            "method": "Cox model with exposure as a time-dependent covariate, (start, stop] rows",
        },
        "mantel_byar": {
            "statistic": num(mb.statistic),
            "df": mb.df,
            "p": num(mb.p_value),
            "table": records(mb.table),
            "method": "Mantel-Byar test (log-rank with patients switching state at exposure, hypergeometric variance)",
        },
        "simon_makuch": {
            "rates": rate_rows(sm.km.at(rates_at), plan) if rates_at else [],
            "min_at_risk": sm.min_at_risk,
            "method": "Simon-Makuch product-limit curves by current exposure state (delayed entry)",
        },
        "landmarks": [],
    }
    for at in c.landmark_days:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lm = stats.landmark(timed, t, e, at, exposure_time=h, ties=s.ties, **km_options(plan))
        rec: dict[str, Any] = {
            "at": num(at),
            "n": int(len(lm.data)),
            "excluded": {k: int(v) for k, v in lm.n_excluded.items()},
            "groups": km_groups(lm.km, [r - at for r in rates_at if r > at], plan),
            "logrank": None,
            "cox": None,
        }
        if lm.logrank is not None:
            rec["logrank"] = logrank_record(lm.logrank)
            rec["cox"] = _cox_summary(lm.cox, "groups fixed at the landmark", caught, plan)
        else:
            rec["note"] = "only one group remains at this landmark; no comparison is possible"
        out["landmarks"].append(rec)
    return out, sm


def comparison_section(frame: pd.DataFrame, plan: Plan) -> Part:
    """One record per (comparison, endpoint); fits are ``{"naive": {...}, "simon_makuch": {...}}`` keyed by
    ``(comparison, endpoint)``."""
    out, tables, naive_fits, curves = [], {}, {}, {}
    for c in plan.comparisons:
        sub = population(frame, plan, c.population)
        for ep in c.endpoints:
            t, e = f"{ep}_time_days", f"{ep}_event"
            if t not in frame.columns:  # not derived (DOR with an undated responder): logged when derived
                continue
            used = ["patient_id", t, e, *[col for col in (c.by, c.exposure) if col], *c.exposure_filter]
            data = sub.loc[sub[t].notna(), list(dict.fromkeys(used))]  # its own columns: a copy of those only
            rec: dict[str, Any] = {"comparison": c.name, "endpoint": ep, "name": ENDPOINT_NAMES[ep],
                                   "population": populations.describe(c.population), "n": int(len(data))}
            if c.by is not None:
                rec["by"] = c.by
                rec["naive"], naive_km = naive(data, t, e, c.by, to_days(plan, c.rates_at), plan, c.exact_test)
                rec["naive"]["arms"] = arms.tte_arms(data, t, e, c.by, c, plan, f"comparisons ({c.name}, {ep})")
            else:
                h = "_exposure_day"
                data[h] = _exposure_days(data, c)
                unexposed, exposed = comparison_labels(c)
                data["_group"] = np.where(data[h].notna(), exposed, unexposed)
                rec["exposure"] = c.exposure
                rec["labels"] = {"unexposed": unexposed, "exposed": exposed}
                rec["naive"], naive_km = naive(data, t, e, "_group", to_days(plan, c.rates_at), plan, c.exact_test)
                rec["naive"]["cox"] = fixed_cox(data, t, e, data[h].notna(), plan,
                                                "groups fixed at day 0 by later exposure (naive)")
                credited = float(data.loc[data[h].notna(), h].sum())
                followup = float(data.loc[data[h].notna(), t].sum())
                rec["immortal_time"] = {
                    "person_days_credited": num(credited),
                    "share_of_exposed_followup": num(credited / followup) if followup > 0 else None,
                    "warning": IMMORTAL_TIME_WARNING.format(
                        what=comparison_labels(c)[1], days=credited, share=credited / followup if followup else 0.0
                    ),
                }
                corrected, sm = _time_dependent(data, t, e, h, c, plan)
                rec.update(corrected)
                curves[(c.name, ep)] = sm
                tables[f"simon_makuch_{c.name}_{ep}"] = sm.table
            naive_fits[(c.name, ep)] = naive_km
            out.append(rec)
    return Part(out, tables, {"naive": naive_fits, "simon_makuch": curves})
