"""The report's kinetics section: CAR-T expansion and persistence, laboratory trajectories and count recovery.

Built from ``results["kinetics"]``, ``results["labs"]`` and the run's tidy tables (``kinetics_samples``,
``kinetics_parameters``, ``lab_trajectories``), so a de-identified run draws the same figures with coded ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from cart_outcomes.cohort.schema import LABS
from cart_outcomes.report import figures as F
from cart_outcomes.report._format import format_estimate_ci, format_p, is_missing
from cart_outcomes.report.html import Section, TableBlock
from cart_outcomes.report.options import FigureOptions
from cart_outcomes.report.render import AddFigure
from cart_outcomes.results.run import RunResult

UNITS = {"copies_per_ug_dna": "copies/µg gDNA", "cells_per_ul": "cells/µL", "percent_of_cd3": "% of CD3+ cells"}
MATRICES = {"peripheral_blood": "Peripheral blood", "bone_marrow": "Bone marrow", "csf": "CSF"}
ASSAYS = {"qpcr": "qPCR", "ddpcr": "ddPCR", "flow": "flow cytometry"}
PARAMETERS = {"cmax": "Cmax", "auc": "AUC", "tmax_days": "Tmax, day", "clast": "Clast"}
LAB_LABELS = {"anc_per_ul": "ANC, /µL", "platelets_per_ul": "Platelets, /µL", "hemoglobin_g_dl": "Hemoglobin, g/dL",
              "crp_mg_dl": "CRP, mg/dL", "ferritin_ng_ml": "Ferritin, ng/mL", "il6_pg_ml": "IL-6, pg/mL"}
#: A series is longitudinal (drawn as curves and tabulated in the report) when at least this many patients have two
#: or more samples in it; single time points (e.g. marrow at the day-28 assessment) stay in the exports.
MIN_PATIENTS_FOR_CURVES = 2



def _value(v: Any) -> str:
    if is_missing(v):
        return "NA"
    v = float(v)
    return f"{v:,.0f}" if abs(v) >= 100 else (f"{v:.1f}" if abs(v) >= 1 else f"{v:.3g}")


def series_label(matrix: str, assay: str, unit: str) -> str:
    return f"{MATRICES.get(matrix, matrix)}, {ASSAYS.get(assay, assay)} ({UNITS.get(unit, unit)})"


def _parameter_label(parameter: str, unit: str, window: list[float]) -> str:
    u = UNITS.get(unit, unit)
    if parameter == "auc":
        return f"AUC day {window[0]:g}–{window[1]:g}, {u} × day"
    return PARAMETERS.get(parameter, parameter) + ("" if parameter == "tmax_days" else f", {u}")


def _cell(row: Mapping[str, Any]) -> str:
    fmt = (lambda v: f"{float(v):g}") if row["parameter"] == "tmax_days" else _value  # a day: 14, not 14.0
    spread = f"median {fmt(row['median'])} ({fmt(row['minimum'])}–{fmt(row['maximum'])}), n = {row['n']}"
    if is_missing(row.get("geo_mean")):
        return spread
    cv = "" if is_missing(row["geo_cv_pct"]) else f", CV {float(row['geo_cv_pct']):.0f}%"
    return f"GM {_value(row['geo_mean'])}{cv}; {spread}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _in(frame: pd.DataFrame, series: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``frame`` whose (matrix, assay, unit) is one of ``series``, in the order of ``series``."""
    keys = ["matrix", "assay", "unit"]
    if frame.empty:
        return frame
    rank = {tuple(k): i for i, k in enumerate(series[keys].itertuples(index=False))}
    order = frame[keys].apply(tuple, axis=1).map(rank)
    return frame[order.notna()].assign(_order=order).sort_values("_order", kind="stable").drop(columns="_order")


def _comparison_table(kin: Mapping[str, Any], by: str, series: pd.DataFrame) -> pd.DataFrame | None:
    summary = pd.DataFrame(kin["summary"])
    summary = _in(summary[summary["by"] == by], series)
    if summary.empty:
        return None
    tests = pd.DataFrame(kin["tests"])
    tests = tests[tests["by"] == by].set_index(["matrix", "assay", "unit", "parameter"])
    window = kin["options"].get("window", [0, 28])
    rows = []
    for (matrix, assay, unit, parameter), sub in summary.groupby(["matrix", "assay", "unit", "parameter"],
                                                                  sort=False):
        row = {"Series": series_label(matrix, assay, unit), "Parameter": _parameter_label(parameter, unit, window)}
        for _, g in sub.iterrows():
            label = f"Grade {g['group']:g}" if by == "crs_grade" else str(g["group"])
            row[label] = _cell(g) if g["n"] else "—"
        t = tests.loc[(matrix, assay, unit, parameter)]
        test = "" if not t["method"] else f" ({t['method']})"
        rho = f"rho {float(t['estimate']):.2f}, " if not is_missing(t["estimate"]) else ""
        row["Comparison"] = f"{rho}p = {format_p(t['p_value'])}{test}" if not is_missing(t["p_value"]) else "NA"
        rows.append(row)
    return pd.DataFrame(rows)


def _persistence_table(kin: Mapping[str, Any], pct: int, series: pd.DataFrame) -> pd.DataFrame | None:
    rows = []
    for r in _in(pd.DataFrame(kin["persistence"]), series).to_dict("records"):
        ev = r["n_evaluable"]
        if not ev:
            continue
        detail = f"{r['n_detectable']}/{ev}, " + format_estimate_ci(r["percent"] / 100, r["lower"], r["upper"])
        rows.append({"Series": series_label(r["matrix"], r["assay"], r["unit"]), "Month": f"{r['month']:g}",
                     f"Detectable / evaluable, % ({pct}% CI)": detail, "Not evaluable": r["n_not_evaluable"]})
    return pd.DataFrame(rows) if rows else None


def _kinetics_parts(run: RunResult, plot: FigureOptions, figs: dict, add: AddFigure, out_tables: dict, pct: int,
                    styles: F.GroupStyles | None = None):
    kin = run.results["kinetics"]
    opts = kin["options"]
    window = opts.get("window", [0, 28])
    day = run.record.conventions.response_day
    series = pd.DataFrame(kin["series"])
    listing = "; ".join(f"{series_label(s.matrix, s.assay, s.unit)}: {_plural(s.n_patients, 'patient')}, "
                        f"{_plural(s.n_samples, 'sample')}" for s in series.itertuples())
    longitudinal = series[series["n_longitudinal"] >= MIN_PATIENTS_FOR_CURVES]
    params = pd.DataFrame(run.tables["kinetics_parameters"])
    incomplete = int((~params["auc_complete"].astype(bool)).sum())
    paragraphs = [
        f"CAR-T levels were measured in {kin['n_patients']} patients ({listing}). Cmax and Tmax are the highest "
        "observed level after infusion and its day (earliest day on ties); AUC from day "
        f"{window[0]:g} to {window[1]:g} uses the {opts.get('auc_method', 'linear')} trapezoidal rule, the "
        "pre-infusion level counts as 0 on day 0, samples below the limit of quantification follow the "
        f"'{opts.get('blq')}' rule, and no level is extrapolated beyond the last sample. "
        f"{incomplete} of {len(params)} profiles (one per patient and series) end before day {window[1]:g} "
        "(AUC to the last sample, flagged in kinetics_parameters.csv). Levels in different matrices, assays or units "
        "are never pooled. Exposure is summarised by the geometric mean (GM) with its geometric CV and by the median "
        "(range); series measured at a single time point are in the exported tables only."
    ]
    figures, tables = [], []
    samples = run.tables["kinetics_samples"]
    if plot.kinetics:
        for s in longitudinal.itertuples():
            sub = samples[(samples["matrix"] == s.matrix) & (samples["assay"] == s.assay) & (samples["unit"] == s.unit)]
            drawn = sub.assign(value=np.where(sub["below_loq"], 0.0, sub["value"].astype(float)))
            fig = F.kinetics_figure(drawn, ylabel=UNITS.get(s.unit, s.unit), log=s.unit != "percent_of_cd3")
            name = f"kinetics_{s.matrix}_{s.assay}_{s.unit}"
            caption = (f"{series_label(s.matrix, s.assay, s.unit)}: one grey line per patient, the median by day in "
                       "black; samples below the limit of quantification count in the median and are not drawn.")
            figures.append(add(figs, name, fig, caption))
    for by, caption in (("response", f"Kinetic parameters by day-{day} response"),
                        ("crs_grade", "Kinetic parameters by maximum CRS grade")):
        table = _comparison_table(kin, by, longitudinal)
        if table is not None:
            tables.append(TableBlock(table, caption, note="GM: geometric mean over patients with quantifiable "
                                     "expansion; CV: geometric coefficient of variation."))
            out_tables[f"kinetics_by_{by}"] = table
    primary = longitudinal.iloc[0] if len(longitudinal) else None
    if primary is not None and plot.kinetics:
        p = params[(params["matrix"] == primary["matrix"]) & (params["assay"] == primary["assay"])
                   & (params["unit"] == primary["unit"])]
        if "response" in p.columns:
            labels = {c: _parameter_label(c, primary["unit"], window) for c in ("cmax", "auc")}
            fig = F.kinetics_parameter_figure(p, labels, by="response", order=["Responder", "Non-responder"],
                                              styles=styles)
            caption = (f"{series_label(primary['matrix'], primary['assay'], primary['unit'])}: Cmax and AUC per "
                       f"patient by day-{day} response; bars are medians, open circles patients without "
                       "quantifiable expansion.")
            figures.append(add(figs, "kinetics_by_response", fig, caption))
    persistence = _persistence_table(kin, pct, longitudinal)
    if persistence is not None:
        tables.append(TableBlock(persistence, "Persistence: detectable CAR at landmark months",
                                 note=f"Detectable: a quantifiable sample on or after the landmark day minus "
                                      f"{opts.get('visit_window_days', 7):g} days; not evaluable: no sample from "
                                      "then on. Exact Clopper-Pearson intervals."))
        out_tables["kinetics_persistence"] = persistence
    return paragraphs, figures, tables


def _labs_parts(run: RunResult, plot: FigureOptions, figs: dict, add: AddFigure, out_tables: dict, pct: int):
    labs = run.results["labs"]
    paragraphs, figures, tables = [], [], []
    summary = run.tables.get("lab_trajectories")
    if plot.labs and summary is not None and len(summary):
        labels = {a: LAB_LABELS.get(a, a) for a in labs["drawn_analytes"]}
        labels = {a: (lbl if a in LAB_LABELS else f"{a} ({LABS.column(a).unit})") for a, lbl in labels.items()}
        thresholds = {"anc_per_ul": labs["options"]["anc_threshold"],
                      "platelets_per_ul": labs["options"]["platelet_threshold"]}
        fig = F.lab_trajectory_figure(summary, labels, thresholds=thresholds)
        caption = ("Laboratory values by day after infusion: median over patients (line) and interquartile range "
                   "(band); per patient and day the lowest blood count and the highest inflammation marker. Dashed: "
                   "the neutrophil and platelet recovery thresholds.")
        figures.append(add(figs, "lab_trajectories", fig, caption))
    rows = []
    incidence = pd.DataFrame(labs.get("recovery_incidence") or [],
                             columns=["lineage", "day", "estimate", "lower", "upper"])
    for r in labs["recovery"]:
        name = "Neutrophils" if r["lineage"] == "neutrophil" else "Platelets"
        rec = r["recovered"]
        row = {"Lineage": f"{name} ≥ {r['threshold']:,.0f}/µL",
               "Recovered": f"{rec}/{r['n_patients']}",
               "Day of recovery, median (range)": "—" if not rec else
               f"{r['median_recovery_day']:g} ({r['min_recovery_day']:g}–{r['max_recovery_day']:g})"}
        for i in incidence[incidence["lineage"] == r["lineage"]].itertuples():
            row[f"Cumulative incidence by day {i.day:g} ({pct}% CI)"] = format_estimate_ci(i.estimate, i.lower,
                                                                                            i.upper)
        row.update({"Not recovered": r["not_recovered"], "Never below threshold": r["never_below"],
                    "No data": r["no_data"]})
        rows.append(row)
    if rows:
        note = ("CIBMTR: recovery is the first of three consecutive values on different days at or above the "
                "threshold, after the count fell below it; platelets also need no transfusion in the previous 7 "
                "days. Cumulative incidence: Aalen-Johansen, death before recovery as a competing event, patients "
                "alive without recovery censored at their last value. " + " ".join(labs.get("notes", [])))
        table = pd.DataFrame(rows)
        tables.append(TableBlock(table, "Haematological recovery", note=note.strip()))
        out_tables["hematologic_recovery"] = table
    return paragraphs, figures, tables


def kinetics_section(run: RunResult, plot: FigureOptions, figs: dict, add: AddFigure, out_tables: dict,
                     pct: int, styles: F.GroupStyles | None = None) -> Section | None:
    """The 'Kinetics and laboratory course' section, or ``None`` when the cohort has neither table; ``styles`` are
    the report's group colours."""
    paragraphs, figures, tables = [], [], []
    if run.results.get("kinetics", {}).get("available"):
        parts = _kinetics_parts(run, plot, figs, add, out_tables, pct, styles)
        paragraphs += parts[0]
        figures += parts[1]
        tables += parts[2]
    if run.results.get("labs", {}).get("available"):
        parts = _labs_parts(run, plot, figs, add, out_tables, pct)
        paragraphs += parts[0]
        figures += parts[1]
        tables += parts[2]
    if not (paragraphs or figures or tables):
        return None
    return Section("kinetics", "Kinetics and laboratory course", paragraphs=paragraphs, figures=figures,
                   tables=tables)


def kinetics_methods(results: Mapping[str, Any], response_day: int) -> list[str]:
    """Methods sentences for the kinetics and laboratory analyses that were run (none when neither was)."""
    out = []
    kin = results.get("kinetics", {})
    if kin.get("available"):
        o = kin["options"]
        window = o.get("window", [0, 28])
        kinds = {(t["by"], t["test"]) for t in kin["tests"] if t.get("method")}
        compared = []
        if ("response", "wilcoxon") in kinds:
            compared.append(f"responders and non-responders at day {response_day} were compared with the Wilcoxon "
                            "rank-sum test (exact without ties)")
        if ("crs_grade", "spearman") in kinds:
            compared.append("the association with the maximum CRS grade was measured by Spearman's rank correlation")
        out.append(
            "Cellular kinetics were summarised by non-compartmental analysis (Mueller et al., Clin Cancer Res 2018): "
            f"Cmax and Tmax as observed, AUC from day {window[0]:g} to {window[1]:g} by the {o.get('auc_method')} "
            "trapezoidal rule without extrapolation beyond the last sample, samples below the limit of "
            f"quantification handled by the '{o.get('blq')}' rule, and persistence as detectable CAR at months "
            f"{', '.join(f'{m:g}' for m in o.get('persistence_months', []))}. Exposure is reported as geometric "
            "mean (geometric CV) and median (range)" + ("; " + "; ".join(compared) if compared else "") + ".")
    labs = results.get("labs", {})
    if labs.get("available"):
        out.append("Neutrophil and platelet recovery follow the CIBMTR definitions: the first of three consecutive "
                   "laboratory values obtained on different days at or above the threshold (neutrophils "
                   f"{labs['options'].get('anc_threshold', 500):,.0f}/µL; platelets "
                   f"{labs['options'].get('platelet_threshold', 20000):,.0f}/µL without a platelet transfusion in "
                   "the previous 7 days); the cumulative incidence of recovery was estimated with the Aalen-Johansen "
                   "estimator, death before recovery being a competing event.")
    return out
