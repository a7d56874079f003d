"""The survival section of a plan from a registry extract, counted where the data live (``data.engine``).

A registry or real-world-data extract (Parquet/CSV files, a DuckDB table) holds the derived endpoints as columns,
named as :mod:`cart_outcomes.endpoints` names them (``os_time_days``/``os_event``, ``cir_time_days``/``cir_status``
with 0 = censored, 1 = relapse, 2 = non-relapse death, ...), one row per patient or person-period, possibly 10^8
rows. With ``engine: duckdb`` or ``spark`` (or ``auto`` above :data:`cart_outcomes.engine.AUTO_DUCKDB_BYTES`) every
analysis of the plan is one GROUP BY in the engine (:func:`cart_outcomes.engine.event_counts`) and the same
estimators as the in-memory run, so its numbers are those the rows would give. Rows with a missing time are left
out, as the in-memory run leaves them out. Only the survival section is produced: response, toxicity and kinetics
need the cohort tables, and ``population: responders`` needs responses (refused, with the reason).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from cart_outcomes import stats
from cart_outcomes.errors import InputError
from cart_outcomes.plan.analyses import CIR_CAUSES, ENDPOINT_NAMES, _conf, _km_record, num, records
from cart_outcomes.plan.model import COMPETING, Plan


def survival_from_source(
    plan: Plan, source: Path, engine: str, progress: Callable[[float], None] | None = None
) -> tuple[list[dict], dict[str, pd.DataFrame], dict[str, Any]]:
    """``(survival records, tables, input description)`` of the plan's analyses, counted by ``engine``."""
    import ibis

    from cart_outcomes.engine import event_counts

    out, tables = [], {}
    n_rows = None
    for a in plan.effective_analyses():
        if a.population != "all":
            raise InputError(
                f"analyses ({a.endpoint}): population {a.population!r} needs day-28 responses, which a registry "
                f"extract read with engine {engine!r} does not provide; filter the extract or use engine: memory"
            )
        ep = "cir" if a.endpoint in COMPETING else a.endpoint
        t, e = f"{ep}_time_days", f"{ep}_status" if a.endpoint in COMPETING else f"{ep}_event"
        counts = event_counts(str(source), time=t, event=e, by=a.by, engine=engine,
                              where=ibis._[t].notnull(), progress=progress)
        n_rows = counts.n_rows if n_rows is None else n_rows
        key = "_".join(x for x in (a.endpoint, a.population, a.by or "overall"))
        if a.endpoint in COMPETING:
            rec, tab = _competing(counts, a, plan)
        else:
            km = stats.kaplan_meier(counts, **_conf(plan))
            rec = {"groups": _km_record(km, a.rates_at), "method": "Kaplan-Meier; Greenwood variance",
                   "options": dict(km.options)}
            if a.by is not None:
                lr = stats.logrank_test(counts)
                rec["logrank"] = {"statistic": num(lr.statistic), "df": lr.df, "p": num(lr.p_value),
                                  "method": "log-rank"}
            tab = km.table
        out.append({"id": key, "endpoint": a.endpoint, "name": ENDPOINT_NAMES[a.endpoint],
                    "population": a.population, "by": a.by, "n": counts.n_rows, **rec})
        tables[f"survival_{key}"] = tab
    info = {"source": source.name, "engine": engine, "n_rows": n_rows}
    return out, tables, info


def _competing(counts: Any, a: Any, plan: Plan) -> tuple[dict, pd.DataFrame]:
    codes = {int(c) for c in counts.frame[counts.event]} - {0}
    unknown = sorted(codes - set(CIR_CAUSES))
    if unknown:
        raise InputError(
            f"column {counts.event!r}: status code(s) {unknown} are not one of {CIR_CAUSES} (0 = censored)"
        )
    causes = {k: CIR_CAUSES[k] for k in sorted(codes | {1, 2})}
    cause = 1 if a.endpoint == "cir" else 2
    ci = stats.cumulative_incidence(counts, conf_level=plan.statistics.conf_level, causes=causes)
    rates = ci.at(a.rates_at) if a.rates_at else None
    label = causes[cause]
    rec: dict[str, Any] = {
        "cause": label,
        "competing": [v for v in causes.values() if v != label],
        "groups": [{"group": g, "rates": records(rates[(rates["group"] == g) & (rates["cause"] == label)])
                    if rates is not None else []} for g in ci.groups],
        "method": "Aalen-Johansen cumulative incidence (competing risks, exact ties, no jitter)",
        "options": dict(ci.options),
    }
    if a.by is not None:
        rec["gray_test"] = records(stats.gray_test(counts, cause=cause).table)
    return rec, ci.table[ci.table["cause"] == label]
