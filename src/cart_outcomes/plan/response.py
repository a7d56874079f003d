"""The response section of a run: response rates at the plan's response day and best response, with the plan's
denominator and confidence level, and the counts per response category the report tabulates."""

from __future__ import annotations

import warnings

import pandas as pd

from cart_outcomes.endpoints.response import response_rates
from cart_outcomes.errors import DataQualityWarning
from cart_outcomes.plan._common import Part, QualityLog, response_column, skipped
from cart_outcomes.plan.model import Plan
from cart_outcomes.results.records import records


def response_section(frame: pd.DataFrame, plan: Plan, log: QualityLog) -> Part:
    """Rates (overall and complete response) for the response-day column and, when recorded, best response.

    Every row carries its ``column``; the ``response_counts`` table has one row per column and category.
    """
    e = plan.endpoints
    column = response_column(plan)
    rows, counts, tables = [], [], {}
    if column not in frame.columns:
        skipped(log, f"Day-{e.response_day} response rates not analysed: the sheet has no {column!r} column")
    for col in (column, "best_response"):
        if col not in frame.columns or (col != column and frame[col].isna().all()):
            continue
        with warnings.catch_warnings():  # a missing response is reported through the log, not as a Python warning
            warnings.simplefilter("ignore", DataQualityWarning)
            rates = response_rates(frame, column=col, responses=tuple(e.responses),
                                   denominator=e.response_denominator, conf_level=plan.statistics.conf_level)
        table = rates.table.assign(column=col)
        rows += records(table)
        counts.append(rates.counts.assign(column=col))
        if col == column:
            log.exclude("response rates", rates.excluded)
            tables["response"] = table
        else:
            tables["best_response"] = table
    missing = frame[frame[column].isna()] if column in frame.columns else frame.iloc[:0]
    counted = "counted as a non-responder" if e.response_denominator == "all_infused" else "excluded"
    log.warnings += [{"rule": "MISSING_RESPONSE", "severity": "warning", "patient_id": str(pid),
                      "row": None if pd.isna(row) else int(row), "column": column, "value": None,
                      "message": f"no day-{e.response_day} response recorded: {counted}", "table": "patients"}
                     for pid, row in zip(missing["patient_id"], missing.get("source_row", pd.NA), strict=False)]
    if counts:
        tables["response_counts"] = pd.concat(counts, ignore_index=True)
    return Part(rows, tables, {})
