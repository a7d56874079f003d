"""The engine path of a run: survival analyses of an extract of derived endpoints, counted where the extract lives.

When the plan's ``data.engine`` is ``duckdb`` or ``spark`` (or ``auto`` picks DuckDB: Parquet/CSV files over
:data:`~cart_outcomes.engine.AUTO_DUCKDB_BYTES` in total), ``data.source`` is an **extract**: one row per patient with
the derived endpoint columns a run writes to ``tables/endpoints.csv`` (``os_time_days``/``os_event``, ``pfs_...``,
``efs_...``, ``rfs_...``, ``dor_...``; ``cir_time_days`` with ``cir_status`` 0 censored, 1 relapse/progression,
2 non-relapse death, 3 allo-HSCT, 4 new therapy) and the plan's grouping columns. The rows never come to Python:
each analysis is one GROUP BY in the engine (:func:`cart_outcomes.engine.event_counts`) and the estimators run on the
cells, with the numbers the rows give.

Runs on the counts (docs/scale.md): Kaplan-Meier with the log-rank test (os, pfs, efs, rfs, dor; overall or ``by`` a
column; rates at the plan's times) and Aalen-Johansen cumulative incidence with Gray's test (cir, nrm). A row without
a time for an endpoint is outside its population, as in memory (DOR: the responders; their number is recorded).

Needs one row per patient with more than its endpoint columns, refused before anything is read, each with the reason
(:func:`refusals`): comparisons (landmarks, time-dependent exposures, exact tests, Cox), the ``responders`` population
of endpoints other than DOR, and the cohort mapping keys. Response rates, follow-up by reverse Kaplan-Meier, toxicity,
kinetics, labs and Table 1 are read from cohort tables an extract does not have: those sections are empty, and the
run says so in one ``ANALYSIS_SKIPPED`` line.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cart_outcomes import engine as co_engine
from cart_outcomes import stats
from cart_outcomes.cohort.schema import CIR_CAUSES, ENDPOINT_NAMES
from cart_outcomes.cohort.schema import COMPETING_ENDPOINTS as COMPETING
from cart_outcomes.errors import InputError
from cart_outcomes.plan._common import Part, QualityLog, conf_type, km_options, skipped, to_days
from cart_outcomes.plan.model import Analysis, Plan
from cart_outcomes.plan.survival import analysis_id, km_groups, logrank_record, rate_rows
from cart_outcomes.results.records import records

__all__ = ["ENGINE_STEPS", "MAPPING_KEYS", "engine_for", "engine_software", "is_extract", "refusals", "sha256_of",
           "survival_from_extract"]

#: The steps an engine run announces to ``progress``, in order (a scan adds ``: <endpoint> <percent>%``).
ENGINE_STEPS = ("counting events in the extract", "writing outputs")
#: Keys of the ``data`` section that map cohort files read in memory; an extract is read with its own column names.
MAPPING_KEYS = ("columns", "values", "sheets", "date_format", "header_row", "decimal", "redcap_dictionary", "adtte",
                "adtte_params")
_NOT_FROM_EXTRACT = ("response rates, median follow-up (reverse Kaplan-Meier), toxicity, kinetics, labs and Table 1 "
                     "are not: they are computed from the cohort tables, which an extract of derived endpoints does "
                     "not have")


def columns_of(endpoint: str) -> tuple[str, str]:
    """The extract's (time, event) columns of an endpoint (cir and nrm: the time and the cause code)."""
    if endpoint in COMPETING:
        return "cir_time_days", "cir_status"
    return f"{endpoint}_time_days", f"{endpoint}_event"


def _header(files: list[str]) -> list[str]:
    """Column names of a Parquet file (its schema) or a CSV file (its first line), read without the rows."""
    first = files[0]
    if first.lower().endswith((".parquet", ".pq")):
        import pyarrow.parquet as pq

        return list(pq.read_schema(first).names)
    import csv

    with open(first, newline="", encoding="utf-8", errors="replace") as fh:
        line = fh.readline()
    return [c.strip() for c in next(csv.reader([line], csv.Sniffer().sniff(line, ",;\t|")))] if line else []


def is_extract(source: str) -> bool:
    """Whether ``source`` is an extract of derived endpoints: Parquet or CSV file(s) with at least one
    ``<endpoint>_time_days`` column (a cohort has dates and events, never those)."""
    try:
        files = co_engine.source_files(source)
    except InputError:
        return False
    if not all(f.lower().endswith((".parquet", ".pq", ".csv")) for f in files):
        return False
    try:
        names = set(_header(files))
    except Exception:  # an unreadable file is a cohort reader's problem to report, in its words
        return False
    return any(columns_of(e)[0] in names for e in ENDPOINT_NAMES)


def engine_for(source: str, engine: str) -> str | None:
    """The engine that reads ``source`` as an extract (``memory``, ``duckdb`` or ``spark``), or ``None`` when it is
    a cohort, read by the cohort readers. ``duckdb``/``spark`` always mean an extract; ``auto`` and ``memory``
    look at the columns, and ``auto`` picks DuckDB above :data:`~cart_outcomes.engine.AUTO_DUCKDB_BYTES`."""
    if engine in ("duckdb", "spark"):
        return engine
    if not is_extract(source):
        return None
    return co_engine.choose_engine(source, engine)


def engine_software(engine: str) -> dict[str, str]:
    """Versions of the engine's libraries, for ``results.json``'s ``software``."""
    from importlib.metadata import version

    names = {"duckdb": ("duckdb", "ibis-framework"), "spark": ("pyspark", "ibis-framework")}.get(engine, ())
    return {name: version(name) for name in names}


def refusals(plan: Plan) -> list[str]:
    """What the plan asks that needs per-patient rows, one line each (empty: the engine path runs the plan)."""
    out = []
    if plan.comparisons:
        names = ", ".join(c.name for c in plan.comparisons)
        out.append(f"comparisons ({names}): landmark, time-dependent exposure, exact-test and Cox analyses need "
                   "one row per patient with its exposure; run them with data.engine: memory on the cohort")
    if plan.regression:
        out.append("regression: Cox and Fine-Gray models on covariates need one row per patient with its covariates; "
                   "run them with data.engine: memory (data.engine: duckdb counts a Cox model of one categorical "
                   "group in Python: cart_outcomes.stats.cox_counts)")
    if plan.rmst:
        out.append("rmst: restricted mean survival times are computed from the rows; run them with data.engine: memory")
    if plan.report.adam:
        out.append("report.adam: the ADaM datasets (ADSL, ADTTE, ...) hold one record per patient; export them from a "
                   "run with data.engine: memory")
    for a in plan.analyses or []:
        if a.population == "responders" and a.endpoint != "dor":
            out.append(f"analyses ({a.endpoint}, population: responders): the response is a per-patient column the "
                       "extract does not carry; write one extract per population (or use population: all)")
    mapping = [k for k in MAPPING_KEYS if k in plan.data.model_fields_set]
    if mapping:
        out.append(f"data ({', '.join(mapping)}): the mapping applies to cohort files read in memory; an extract is "
                   "read with its own column names (os_time_days, os_event, ...: those of tables/endpoints.csv)")
    return out


def _analyses(plan: Plan, present: list[str], log: QualityLog, engine: str) -> list[Analysis]:
    """The plan's analyses; without an ``analyses`` section, the standard ones whose columns the extract has (the
    others skipped with a line each). An explicit analysis whose columns are missing is an error, before any scan."""
    missing = []
    chosen = []
    for a in plan.effective_analyses():
        needed = [*columns_of(a.endpoint), *([a.by] if a.by else [])]
        absent = [c for c in needed if c not in present]
        if not absent:
            chosen.append(a)
        elif plan.analyses is None:
            skipped(log, f"{ENDPOINT_NAMES[a.endpoint]} not analysed: the extract has no column "
                         f"{', '.join(map(repr, absent))}")
        else:
            missing.append(f"analyses ({a.endpoint}): column(s) {absent}")
    if not chosen and not missing:
        missing.append("no endpoint: an extract has <endpoint>_time_days and <endpoint>_event columns (cir_time_days "
                       "and cir_status for cir/nrm), as tables/endpoints.csv of a run")
    if missing:
        raise InputError(f"data.engine: {engine} reads data.source as an extract of derived endpoints, and the plan "
                         "refers to columns it does not have:\n  " + "\n  ".join(missing)
                         + f"\n(columns present: {', '.join(present)}; a cohort to derive the endpoints from is read "
                         "with data.engine: memory)")
    return chosen


def _recorded(options: Any, counts: Any, source_path: str, without_time: int) -> dict:
    """A fit's options as results.json records them, with how its counts were made: engine, the source as the plan
    names it (no absolute path), rows counted, cells, rows without a time (no clock time: reruns stay identical)."""
    opts = {k: v for k, v in dict(options).items() if k != "event_counts"}
    opts["event_counts"] = {"engine": counts.options["engine"], "source": source_path, "n_rows": counts.n_rows,
                            "n_cells": counts.n_cells, "rows_without_time": without_time}
    return opts


Counter = Callable[[str, str, "str | None", Callable[[float], None]], tuple[Any, int]]


def _engine_counter(source: str, engine: str) -> tuple[list[str], Counter]:
    """The extract's columns (from its schema: nothing scanned) and a function counting it in DuckDB or Spark."""
    columns = co_engine.source_columns(source, engine=engine)

    def count(time: str, event: str, by: str | None, progress: Callable[[float], None]) -> tuple[Any, int]:
        counts = co_engine.event_counts(source, time=time, event=event, by=by, engine=engine,
                                        missing_time="exclude", progress=progress)
        return counts, int(counts.options["rows_without_time"])

    return columns, count


def _memory_counter(source: str) -> tuple[list[str], Counter]:
    """The extract read into memory (a small one: pandas is faster than starting an engine) and a function counting
    it with :func:`cart_outcomes.stats.event_counts`."""
    import pandas as pd

    files = co_engine.source_files(source)
    if files[0].lower().endswith(".csv"):
        frame = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    else:
        import pyarrow.parquet as pq

        frame = pq.read_table(files if len(files) > 1 else files[0]).to_pandas()

    def count(time: str, event: str, by: str | None, progress: Callable[[float], None]) -> tuple[Any, int]:
        timed = frame[time].notna()
        without_time = int((~timed).sum())
        return stats.event_counts(frame.loc[timed], time, event, by=by), without_time

    return list(frame.columns), count


def survival_from_extract(
    plan: Plan, source: str, engine: str, log: QualityLog, progress: Callable[[str], None] | None = None
) -> tuple[Part, int]:
    """The survival section of a run from the extract's event counts, and the number of rows of the extract.

    Parameters
    ----------
    plan : the plan (:func:`refusals` empty).
    source : the extract as the engine reads it (path or glob, resolved against the plan's folder).
    engine : ``"memory"``, ``"duckdb"`` or ``"spark"`` (:func:`engine_for`).
    log : collects the ``ANALYSIS_SKIPPED`` lines.
    progress : called with ``"counting events in the extract: <endpoint> <percent>%"`` during each DuckDB scan.
    """
    step = progress or (lambda _msg: None)
    source_path = Path(os.path.normpath(plan.data.source)).as_posix()  # as the plan names it: no absolute path
    present, counter = _memory_counter(source) if engine == "memory" else _engine_counter(source, engine)
    analyses = _analyses(plan, present, log, engine)
    skipped(log, f"survival analysed from the extract's event counts (data.engine: {engine}); {_NOT_FROM_EXTRACT}")
    counted: dict[tuple, tuple[Any, int]] = {}
    out, tables, fits = [], {}, {}
    n_total = 0
    for a in analyses:
        time, event = columns_of(a.endpoint)
        key = (time, event, a.by)
        if key not in counted:
            label = f"{ENGINE_STEPS[0]}: {a.endpoint}{f' by {a.by}' if a.by else ''}"
            step(label)
            counted[key] = counter(time, event, a.by, lambda pct, label=label: step(f"{label} {pct:.0f}%"))
        counts, without_time = counted[key]
        n_total = max(n_total, counts.n_rows + without_time)
        if counts.n_rows == 0:
            skipped(log, f"{ENDPOINT_NAMES[a.endpoint]} ({a.population}) not analysed: no row of the extract has a "
                         f"{time!r}")
            continue
        analyse = _competing if a.endpoint in COMPETING else _tte
        rec, tab, fit = analyse(counts, a, plan)
        rec["options"] = _recorded(fit.options, counts, source_path, without_time)
        key_id = analysis_id(a)
        fits[key_id] = fit
        out.append({"id": key_id, "endpoint": a.endpoint, "name": ENDPOINT_NAMES[a.endpoint],
                    "population": a.population, "by": a.by, "n": counts.n_rows, **rec})
        tables[f"survival_{key_id}"] = tab
    return Part(out, tables, fits), n_total


def _tte(counts: Any, a: Analysis, plan: Plan) -> tuple[dict, Any, Any]:
    km = stats.kaplan_meier(counts, **km_options(plan))
    rec: dict[str, Any] = {"groups": km_groups(km, to_days(plan, a.rates_at), plan),
                           "method": "Kaplan-Meier; Greenwood variance"}
    if a.by is not None:
        rec["logrank"] = logrank_record(stats.logrank_test(counts))
    return rec, km.table, km


def _competing(counts: Any, a: Analysis, plan: Plan) -> tuple[dict, Any, Any]:
    codes = {int(c) for c in counts.frame[counts.event].dropna().unique()}
    present = sorted(codes - {0} | {1, 2})
    causes = {k: CIR_CAUSES[k] for k in present}
    cause = 1 if a.endpoint == "cir" else 2
    label = causes[cause]
    ci = stats.cumulative_incidence(counts, causes=causes, conf_level=plan.statistics.conf_level,
                                    conf_type=conf_type(plan))
    rates = ci.at(to_days(plan, a.rates_at)) if a.rates_at else None
    rec: dict[str, Any] = {
        "cause": label,
        "competing": [v for v in causes.values() if v != label],
        "groups": [{"group": g, "rates": rate_rows(rates[(rates["group"] == g) & (rates["cause"] == label)], plan)
                    if rates is not None else []} for g in ci.groups],
        "method": "Aalen-Johansen cumulative incidence (competing risks, exact ties, no jitter)",
    }
    if a.by is not None:
        rec["gray_test"] = records(stats.gray_test(counts, cause=cause).table)
    return rec, ci.table[ci.table["cause"] == label], ci


def sha256_of(source: str) -> dict[str, str]:
    """SHA-256 of every local file of the extract, by name (a lake address: none, Spark reads it)."""
    if "://" in source:
        return {}
    digests = {}
    for f in co_engine.source_files(source):
        h = hashlib.sha256()
        with open(f, "rb") as fh:
            for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                h.update(block)
        digests[Path(f).name] = h.hexdigest()
    return digests
