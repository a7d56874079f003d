"""The report of a run: every section filled from the run's records, tidy tables and fits, nothing computed.

:func:`report_outputs` turns a :class:`~cart_outcomes.results.run.RunResult` and the report's own
:class:`~cart_outcomes.report.options.ReportOptions` into a :class:`~cart_outcomes.report.html.ReportDocument`, the
figures (to be saved as files) and the display tables (for the XLSX/DOCX exports); :func:`build_report` returns the
document only.

The numbers shown are the ones in ``results.json``; every option that changes a number or a word (time unit,
confidence level and type, denominator, response day, grading systems) is read from ``record.conventions`` and the
records themselves. The curves are drawn from ``run.fits``, so the numbers at risk under each figure are the fit's
own ``at(ticks)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from cart_outcomes.cohort.schema import CAUSE_LABELS
from cart_outcomes.cohort.schema import COMPETING_ENDPOINTS as COMPETING
from cart_outcomes.report import figures as F
from cart_outcomes.report import tables as T
from cart_outcomes.report._format import (
    ROUNDING_POLICY,
    format_estimate_ci,
    format_p,
    format_percent,
    format_time,
    round_half_up,
)
from cart_outcomes.report.arms import arms_tables
from cart_outcomes.report.html import FigureBlock, Footer, ReportDocument, Section, TableBlock
from cart_outcomes.report.kinetics import kinetics_methods, kinetics_section
from cart_outcomes.report.labels import SYSTEM_CITATIONS, comparison_label, label
from cart_outcomes.report.methods import IMMORTAL_TIME_EXPLANATION, methods_paragraph
from cart_outcomes.report.options import FigureOptions, ReportOptions
from cart_outcomes.report.regression import regression_methods, regression_section, rmst_section
from cart_outcomes.report.render import render_figures
from cart_outcomes.report.subgroups import subgroups_section
from cart_outcomes.results.run import RunResult
from cart_outcomes.units import days_per_unit, unit_noun

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["ReportOutputs", "build_report", "report_outputs"]

#: Largest cohort drawn as a swimmer plot (one bar per patient: beyond this it is neither readable nor fast).
SWIMMER_MAX_PATIENTS = 100
#: Data-quality warnings and exclusions listed one by one in the report (each is a line of the HTML and a paragraph
#: of the Word file: 20,000 exclusions of a large cohort took 10 s to write); the rest are counted, and every one is
#: in results.json.
MAX_LISTED = 200


@dataclass(frozen=True, slots=True)
class ReportOutputs:
    """The report document, its figures (file stem -> (figure, its SVG block as in the HTML)), the figure files
    rendered with them (file stem -> ``(format, dpi)`` -> bytes) and display tables (name -> frame)."""

    document: ReportDocument
    figures: dict[str, tuple[Figure, FigureBlock]] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    images: dict[str, dict[tuple[str, int], bytes]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Pending:
    """A figure's place in its section until every figure of the report is rendered (:func:`_render_all`)."""

    figure: Figure
    caption: str


# ----------------------------------------------------------------------------------------------------------------
# sections


def _warning_text(w: Mapping[str, Any]) -> str:
    where = []
    if w.get("table") not in (None, "patients"):
        where.append(f"table '{w['table']}'")
    if w.get("patient_id") is not None:
        where.append(f"patient {w['patient_id']}" + (f" (row {w['row']})" if w.get("row") is not None else ""))
    elif w.get("row") is not None:
        where.append(f"row {w['row']}")
    if w.get("column") is not None:
        where.append(f"column '{w['column']}'")
    loc = ", ".join(where)
    return f"[{w.get('rule')}] {loc}: {w.get('message')}" if loc else f"[{w.get('rule')}] {w.get('message')}"


def _conf_pct(run: RunResult) -> int:
    return int(round(100 * run.record.conventions.conf_level))


def _num(v: Any, unit: str = "days") -> str:
    """A time (or a day) by the rounding policy; missing is NR."""
    return format_time(v, unit)


def _add(figs: dict, name: str, fig: Figure, caption: str) -> _Pending:
    """Keep ``fig`` under ``name`` (its file stem); its place in the section is filled when every figure of the
    report is rendered at once (:func:`_render_all`)."""
    figs[name] = fig
    return _Pending(fig, caption)


def _render_all(sections: list[Section], figs: dict[str, Figure], formats: Sequence[tuple[str, int]],
                ) -> tuple[list[Section], dict[str, tuple[Figure, FigureBlock]], dict[str, dict]]:
    """Render every figure once (SVG for the HTML, files in ``formats``), in parallel when that pays
    (:func:`~cart_outcomes.report.render.render_figures`), and put each figure's block in its section's place."""
    pending = [p for s in sections for p in s.figures]
    rendered = render_figures([p.figure for p in pending], formats)
    blocks = {id(p.figure): (FigureBlock(svg=r.svg, caption=p.caption, alt=p.caption, figure=p.figure), r.files)
              for p, r in zip(pending, rendered, strict=True)}
    sections = [dataclasses.replace(s, figures=[blocks[id(p.figure)][0] for p in s.figures]) if s.figures else s
                for s in sections]
    figures = {name: (fig, blocks[id(fig)][0]) for name, fig in figs.items()}
    return sections, figures, {name: blocks[id(fig)][1] for name, fig in figs.items()}


def _cohort_section(run: RunResult, plot: FigureOptions, figs: dict, out_tables: dict,
                    styles: F.GroupStyles) -> Section:
    res, conv, frame = run.results, run.record.conventions, run.patients
    tables = []
    summary = run.tables.get("table1")
    t1 = res.get("table1")
    if summary is not None and len(summary) and t1:
        table1 = T.baseline_table(summary, missing_label="Unknown", continuous=t1["continuous"],
                                  show_missing=t1["missing"] == "show")
        spread = "range" if t1["continuous"] == "range" else "IQR, first–third quartile"
        note = f"Median ({spread}) or n (% of patients with a known value)."
        if t1["by"] is not None:
            note += (" p: Wilcoxon rank-sum (2 groups) or Kruskal-Wallis (3 or more) for continuous variables; "
                     "Pearson's chi-squared without continuity correction when every expected count is at least "
                     "5, else Fisher's exact test, for categorical variables (the default tests of gtsummary); the "
                     "test of each variable is named.")
            if t1["n_missing_group"]:
                note += f" {t1['n_missing_group']} patient(s) without a value of {t1['by']} are in 'All' only."
        caption = "Baseline characteristics" + (f" by {t1['by']}" if t1["by"] else "")
        tables.append(TableBlock(table1, caption, note=note))
        out_tables["table1_baseline"] = table1
    fu = res["followup"]
    unit = conv.time_unit
    paragraphs = [f"{res['input']['n_patients']} patients received CAR-T cells; time zero is {conv.time_zero}."]
    if fu:
        paragraphs.append(
            f"Median follow-up by the reverse Kaplan-Meier method was {_num(fu.get('median_followup'), unit)} {unit} "
            f"({_conf_pct(run)}% CI {_num(fu.get('lower'), unit)}–{_num(fu.get('upper'), unit)}); the median "
            f"observation time was {_num(fu.get('median_observed'), unit)} {unit} (range "
            f"{_num(fu.get('min_observed'), unit)}–{_num(fu.get('max_observed'), unit)}).")
    figures = []
    if plot.swimmer and "last_followup_day" in frame.columns and len(frame) > SWIMMER_MAX_PATIENTS:
        paragraphs.append(f"The swimmer plot is drawn for cohorts of up to {SWIMMER_MAX_PATIENTS} patients "
                          f"(one bar per patient); this cohort has {len(frame)}.")
    elif plot.swimmer and "last_followup_day" in frame.columns:
        colour = next((c for c in ("diagnosis", "car_t_source") if c in frame.columns and frame[c].notna().any()), None)
        fig = F.swimmer_figure(frame, responses=tuple(conv.complete_responses), response_column=conv.response_column,
                               assessment_day=conv.response_day, colour_by=colour, unit=unit, styles=styles)
        caption = ("Swimmer plot: one bar per patient from infusion to death or last follow-up, longest follow-up "
                   "on top; markers show complete response (" + ", ".join(conv.complete_responses) + "), allo-HSCT, "
                   "relapse/progression and death; an arrow marks an ongoing response.")
        figures.append(_add(figs, "swimmer", fig, caption))
    return Section("cohort", "Cohort", paragraphs=paragraphs, tables=tables, figures=figures)


def _not_listed(kind: str, n: int, where: str) -> str:
    return (f"… and {n:,} more {kind}, not listed here (the report lists the first {MAX_LISTED:,}): every one is "
            f"in results.json (data quality, {where}), with its patient and reason.")


def _data_quality_section(run: RunResult) -> Section:
    dq = run.results["data_quality"]
    warnings = [_warning_text(w) for w in dq["warnings"][:MAX_LISTED]]
    if len(dq["warnings"]) > MAX_LISTED:
        warnings.append(_not_listed("warning(s)", len(dq["warnings"]) - MAX_LISTED, "warnings"))
    exclusions = dq.get("exclusions") or []
    paragraphs = [f"{run.results['input']['n_patients']} patients passed validation and were analysed; "
                  f"{dq['n_warnings']} validation warning(s); {len(exclusions)} exclusion(s)."]
    for ex in exclusions[:MAX_LISTED]:
        paragraphs.append(f"Excluded: {_warning_text(ex) if isinstance(ex, Mapping) else ex}")
    if len(exclusions) > MAX_LISTED:
        paragraphs.append(_not_listed("exclusion(s)", len(exclusions) - MAX_LISTED, "exclusions"))
    rows = [(s["name"], label("population", s["population"]), label("column", s["by"]) if s.get("by") else "",
             s["n"], run.results["input"]["n_patients"] - s["n"]) for s in run.results["survival"]]
    tables = []
    if rows:
        counts = pd.DataFrame(rows, columns=["Analysis", "Population", "By", "Analysed", "Not in analysis"])
        tables.append(TableBlock(counts, "Patients in each analysis",
                                 note="'Not in analysis': outside the population (e.g. non-responders for DOR) or "
                                      "without a defined time for the endpoint."))
    notes = dq.get("assumptions") or []
    if notes:
        read = pd.DataFrame([(_assumption_subject(a), a["read_as"], a["evidence"],
                              "plan" if a["stated"] else "found while reading") for a in notes],
                            columns=["What", "Read as", "Evidence", "Source"])
        tables.append(TableBlock(read, "How the sheet was read",
                                 note="Every guess made in reading the sheet, with its evidence: 'plan' when the "
                                      "plan's data section states it (cart-outcomes init writes its guesses there), "
                                      "else found while reading. Check any marked 'check'."))
    if not warnings:
        paragraphs.append("No data-quality warnings.")
    return Section("data-quality", "Data quality", warnings=warnings, paragraphs=paragraphs, tables=tables)


def _assumption_subject(a: Mapping[str, Any]) -> str:
    """What a reading assumption is about, as the sheet shows it (results.json ``data_quality.assumptions``)."""
    table = f" ({a['table']})" if a.get("table") not in (None, "patients") else ""
    cells = f" ({a['n_cells']} cell{'s' if a['n_cells'] != 1 else ''})" if a.get("n_cells") is not None else ""
    return {"table": f"sheet '{a.get('header')}'", "header_row": f"header row of sheet '{a.get('header')}'",
            "column": f"header '{a.get('header')}'{table}",
            "value": f"'{a.get('value')}' in column '{a.get('header')}'{cells}",
            "date_format": f"text dates{table}", "decimal": f"numbers{table}"}.get(a["kind"], a["kind"])


_BINOMIAL = {"clopper-pearson": "Clopper-Pearson exact", "wilson": "Wilson score"}
_MEASURES = {"overall_response": "Overall response", "complete_response": "Complete response"}
_DENOMINATOR = {"all_infused": "all infused patients (not evaluable and missing responses count as non-responders)",
                "evaluable": "evaluable patients (not evaluable and missing responses excluded)"}


def _response_label(run: RunResult, column: str) -> str:
    conv = run.record.conventions
    return f"day {conv.response_day}" if column == conv.response_column else "best response"


def _response_section(run: RunResult, out_tables: dict) -> Section:
    conv = run.record.conventions
    pct = _conf_pct(run)
    paragraphs = []
    for r in run.results["response"]:
        paragraphs.append(
            f"{_MEASURES.get(r['measure'], label('column', r['measure']))} ({r['categories'].replace('+', ', ')}) at "
            f"{_response_label(run, r['column'])}: {r['responders']}/{r['n']}, "
            f"{format_estimate_ci(r['estimate'], r['lower'], r['upper'], ci_label=f'{pct}% CI')}, "
            f"{_BINOMIAL.get(r['method'], label('column', r['method']))} interval; denominator: "
            f"{str(r['denominator']).replace('_', ' ')} patients.")
    tables = []
    counts = run.tables.get("response_counts")
    for column, caption, name in ((conv.response_column, f"Day-{conv.response_day} response",
                                   f"response_day{conv.response_day}"),
                                  ("best_response", "Best response", "response_best")):
        rates = [r for r in run.results["response"] if r["column"] == column]
        if not rates or counts is None:
            continue
        table = T.response_table(counts[counts["column"] == column], rates, conf_pct=pct, measures=_MEASURES)
        method = _BINOMIAL.get(rates[0]["method"], label("column", rates[0]["method"]))
        tables.append(TableBlock(table, caption, note=f"Rates: denominator {_DENOMINATOR[conv.response_denominator]}"
                                 f"; {method} {pct}% CI. Category percentages are of all infused patients. CR, "
                                 "complete remission; CRh, CR with partial haematological recovery; CRi, CR with "
                                 "incomplete haematological recovery; PR, partial remission; SD, stable disease; "
                                 "NR, no response; PD, progressive disease."))
        out_tables[name] = table
    return Section("response", "Response", paragraphs=paragraphs, tables=tables)


def _group_label(group: Any) -> str:
    return "All patients" if group in (None, "all") else str(group)


def _survival_section(run: RunResult, plot: FigureOptions, figs: dict, out_tables: dict,
                      styles: F.GroupStyles) -> Section:
    conv = run.record.conventions
    figures, tables, drawn_cif = [], [], set()
    pct = _conf_pct(run)
    for s in run.results["survival"]:
        fit = run.fits.survival.get(s["id"])
        population = "" if s["population"] == "all" else f", {label('population', s['population'])}"
        by = f" by {label('column', s['by'])}" if s.get("by") else ""
        if s["endpoint"] in COMPETING:
            rows = [(_group_label(g["group"]), r["label"], r.get("n_risk"),
                     format_estimate_ci(r["estimate"], r["lower"], r["upper"]))
                    for g in s["groups"] for r in g["rates"]]
            if rows:
                table = pd.DataFrame(rows, columns=["Group", "Time", "At risk",
                                                    f"Cumulative incidence ({pct}% CI)"])
                tables.append(TableBlock(table, f"{s['name']}{population}{by}",
                                         note=f"Aalen-Johansen; {conv.cif_conf_type} {pct}% CI; competing event: "
                                              f"{', '.join(s['competing'])}."))
                out_tables[f"cif_{s['id']}"] = table
            _arms_blocks(s.get("arms"), f"{s['name']}{population}{by}", f"arms_{s['id']}", pct, tables, out_tables)
            key = (s["population"], s.get("by"))
            if fit is not None and plot.cif and key not in drawn_cif:
                drawn_cif.add(key)
                test = s["gray_test"][0].get("p") if s.get("gray_test") else None
                fig = F.cif_figure(fit, test=test, cause_labels=CAUSE_LABELS, unit=conv.time_unit, options=plot,
                                   styles=styles)
                caption = (f"Cumulative incidence of competing events{population}{by} (Aalen-Johansen), with "
                           f"{_risk_caption(plot, 'event-free patients at risk')} under each panel"
                           f"{'; shaded: pointwise ' + str(pct) + '% confidence bands' if plot.ci_bands else ''}.")
                figures.append(_add(figs, f"cif_{s['population']}_{s.get('by') or 'overall'}", fig, caption))
            continue
        logrank = s["logrank"]["p"] if s.get("logrank") else None
        table = T.survival_summary_table(s["groups"], endpoint=s["endpoint"], unit=conv.time_unit, conf_pct=pct)
        tables.append(TableBlock(table, f"{s['name']}{population}{by}: median and landmark rates",
                                 note=f"Kaplan-Meier; {conv.conf_type} {pct}% CI; NR = not reached."
                                      + (f" Log-rank p = {format_p(logrank)}." if logrank is not None else "")))
        out_tables[f"survival_{s['id']}"] = table
        _arms_blocks(s.get("arms"), f"{s['name']}{population}{by}", f"arms_{s['id']}", pct, tables, out_tables)
        if fit is not None and plot.km:
            fig = F.km_figure(fit, logrank=logrank, ylabel=f"{s['name']} probability", unit=conv.time_unit,
                              options=plot, styles=styles)
            caption = f"{s['name']}{population}{by} (Kaplan-Meier) with {_risk_caption(plot)}."
            figures.append(_add(figs, f"km_{s['id']}", fig, caption))
    return Section("survival", "Survival", figures=figures, tables=tables)


def _arms_blocks(arms: Mapping[str, Any] | None, title: str, name: str, pct: int, tables: list,
                 out_tables: dict) -> None:
    """The multi-arm tables of one analysis (hazard ratios, pairwise tests, trend), appended to ``tables``."""
    for kind, table, caption, note in arms_tables(arms, title, pct):
        tables.append(TableBlock(table, caption, note=note))
        out_tables[f"{name}_{kind}"] = table


def _risk_caption(plot: FigureOptions, at_risk: str = "the number of patients at risk") -> str:
    """What the risk table under a figure shows, in words."""
    parts = {"at_risk": at_risk, "events": "the cumulative number of events", "censored": "the cumulative number "
             "censored"}
    shown = [parts[k] for k in plot.risk_table]
    if not shown:
        return "no risk table"
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _time_text(value: float, unit: str) -> str:
    """``4.1 months``, ``134 days``: a time by the rounding policy, with its unit."""
    text = format_time(value, unit)
    return f"{text} {unit_noun(unit, float(text))}"


def _suppression_note(sm: Any, min_at_risk: int, labels: Mapping[str, str], unit: str) -> str:
    """The caption sentence saying which Simon-Makuch curve stops early because few patients remain at risk."""
    cut = F.suppressed_steps(sm, min_at_risk)
    if not cut:
        return ""
    scale = days_per_unit(unit)
    parts = []
    for state, c in cut.items():
        name = f"{labels.get('unexposed', 'unexposed')} (yet)" if state == "unexposed" else \
            f"after {labels.get('exposed', 'exposure')}"
        where = "is not drawn" if c["time"] != c["time"] else (
            f"stops at {_time_text(c['time'] / scale, unit)} ({round_half_up(100 * c['survival'])}%)")
        parts.append(f"the {name} curve {where}; its last estimate is {round_half_up(100 * c['hidden_survival'])}%")
    return (f" Steps with fewer than {min_at_risk} patients at risk in their state are not drawn: "
            + "; ".join(parts) + ".")


def _cox_note(cox: Mapping[str, Any], note: str) -> str:
    warned = "; ".join(f"Cox warning: {w}" for w in cox.get("warnings", ()))
    return "; ".join(x for x in (note, warned) if x)


def _comparison_rows(c: Mapping[str, Any]) -> pd.DataFrame:
    labels = c.get("labels", {})
    arm = f"{labels.get('exposed', 'exposed')} vs {labels.get('unexposed', 'unexposed')}"
    naive = c["naive"]
    events = sum(g["events"] for g in naive["groups"])
    cox = naive.get("cox") or {}
    rows = [{"analysis": f"Naive log-rank from day 0 ({arm})", "handles_immortal_time": False,
             "estimate": cox.get("hazard_ratio"), "lower": cox.get("lower"), "upper": cox.get("upper"),
             "p_value": naive["logrank"]["p"], "n": c["n"], "events": events,
             "note": _cox_note(cox, "groups fixed by later exposure; HR from a Cox model with the same groups")}]
    if naive.get("exact_logrank") and naive["exact_logrank"]["p"] is not None:
        rows.append({"analysis": "Naive exact log-rank (permutation)", "handles_immortal_time": False,
                     "estimate": None, "lower": None, "upper": None, "p_value": naive["exact_logrank"]["p"],
                     "n": c["n"], "events": events, "note": ""})
    for lm in c.get("landmarks", []):
        excluded = "; ".join(f"{k}: {v}" for k, v in lm["excluded"].items())
        lr = lm.get("logrank")
        lm_cox = lm.get("cox") or {}
        rows.append({"analysis": f"Landmark at day {lm['at']:g} (exposed by then vs not)",
                     "handles_immortal_time": True, "estimate": lm_cox.get("hazard_ratio"),
                     "lower": lm_cox.get("lower"), "upper": lm_cox.get("upper"),
                     "p_value": lr["p"] if lr else None, "n": lm["n"],
                     "events": sum(g["events"] for g in lm["groups"]),
                     "note": "; ".join(x for x in (f"excluded {excluded}" if excluded else "", lm.get("note", ""),
                                                   _cox_note(lm_cox, "")) if x)})
    cox = c.get("time_dependent_cox")
    if cox:
        coef = cox["coefficients"][0]
        rows.append({"analysis": f"Time-dependent Cox ({label('ties', cox['ties'])} method for ties)",
                     "handles_immortal_time": True, "estimate": coef["hazard_ratio"], "lower": coef["lower"],
                     "upper": coef["upper"], "p_value": coef["p"], "n": c["n"], "events": events,
                     "note": f"HR after vs before exposure; Wald p; {cox['n_rows']} (start, stop] rows"})
    mb = c.get("mantel_byar")
    if mb:
        rows.append({"analysis": "Mantel-Byar test", "handles_immortal_time": True, "estimate": None, "lower": None,
                     "upper": None, "p_value": mb["p"], "n": c["n"], "events": events, "note": ""})
    return pd.DataFrame(rows)


def _hsct_section(run: RunResult, plot: FigureOptions, figs: dict, out_tables: dict,
                  styles: F.GroupStyles) -> Section | None:
    comparisons = run.results["comparisons"]
    if not comparisons:
        return None
    unit = run.record.conventions.time_unit
    warnings, figures, tables = [], [], []
    paragraphs = [IMMORTAL_TIME_EXPLANATION] if any("immortal_time" in c for c in comparisons) else []
    for c in comparisons:
        key = (c["comparison"], c["endpoint"])
        title = f"{c['name']}, {comparison_label(c)}"
        if "immortal_time" in c:
            warnings.append(f"{c['name']} ({comparison_label(c)}): {c['immortal_time']['warning']}")
        fit = run.fits.naive.get(key)
        if fit is not None and plot.km:
            fig = F.km_figure(fit, logrank=c["naive"]["logrank"]["p"], ylabel=f"{c['name']} probability",
                              unit=unit, options=plot, styles=styles)
            caption = (f"{title}: naive Kaplan-Meier curves from day 0 with the log-rank p (groups fixed by an "
                       "exposure that happens later; biased by immortal time).") if "immortal_time" in c else \
                f"{title}: Kaplan-Meier curves with the log-rank p."
            figures.append(_add(figs, f"naive_km_{c['comparison']}_{c['endpoint']}", fig, caption))
        sm = run.fits.simon_makuch.get(key)
        if sm is not None and plot.simon_makuch:
            labels = c.get("labels", {})
            named = {k: plot.group_labels.get(v, v) for k, v in labels.items()}
            fig = F.simon_makuch_figure(sm, test=c["mantel_byar"]["p"], ylabel=f"{c['name']} probability", labels={
                "unexposed": f"{named.get('unexposed', 'unexposed')} (yet)",
                "exposed": f"after {named.get('exposed', 'exposure')}"}, unit=unit, options=plot, styles=styles,
                style_keys=labels)
            caption = (f"{title}: Simon-Makuch curves (patients move from the unexposed to the exposed curve on the "
                       "day of exposure; the exposed curve starts on the first exposure day) with the Mantel-Byar p "
                       f"and {_risk_caption(plot, 'the number at risk')} in each state."
                       + _suppression_note(sm, plot.min_at_risk, named, unit))
            figures.append(_add(figs, f"simon_makuch_{c['comparison']}_{c['endpoint']}", fig, caption))
        if "immortal_time" in c:
            table = T.hsct_comparison_table(_comparison_rows(c), conf_pct=_conf_pct(run))
            tables.append(TableBlock(table, f"{title}: naive and immortal-time-corrected analyses side by side",
                                     note="Read the rows that account for immortal time; the naive rows only "
                                          "reproduce the published analysis."))
            out_tables[f"hsct_{c['comparison']}_{c['endpoint']}"] = table
        else:
            rows = [(_group_label(g["group"]), g["n"], g["events"], _num(g["median"], unit))
                    for g in c["naive"]["groups"]]
            table = pd.DataFrame(rows, columns=["Group", "N", "Events", f"Median, {unit}"])
            tables.append(TableBlock(table, f"{title} (log-rank p = {format_p(c['naive']['logrank']['p'])})"))
            out_tables[f"comparison_{c['comparison']}_{c['endpoint']}"] = table
            _arms_blocks(c["naive"].get("arms"), title, f"arms_{c['comparison']}_{c['endpoint']}", _conf_pct(run),
                         tables, out_tables)
    return Section("hsct", "HSCT and time-dependent analyses", warnings=warnings, paragraphs=paragraphs,
                   figures=figures, tables=tables)


_MEASURE = {"onset_day": "Onset, day after infusion", "duration_days": "Duration, days"}
_TOXICITIES = {"crs": "CRS", "icans": "ICANS", "icaht": "ICAHT"}
_SOURCES = {"crs": "the daily bedside observations",
            "icans": "the neurological assessments (ICE/CAPD score, consciousness, seizures, motor findings, "
                     "cerebral oedema)",
            "icaht": "the daily absolute neutrophil counts"}


def _systems_text(systems: list[str]) -> str:
    return ", ".join(label("system", s) for s in systems) or "no grades"


def _basis_note(key: str, rec: Mapping[str, Any]) -> str:
    """Where the grades came from, in words (from the record's flags, never its text)."""
    systems = _systems_text(rec.get("systems") or [])
    if rec.get("pregraded"):
        return f"Grades as recorded in the cohort (pre-graded; {systems}); systems are never pooled."
    return f"Graded from {_SOURCES[key]} by {systems}."


def _adverse_event_table(rows: list[Mapping[str, Any]]) -> pd.DataFrame:
    """CTCAE adverse events by maximum grade per patient: any grade, grade 1–2 and grade ≥3, n (%) of all treated."""
    out = []
    for r in rows:
        n_total, n_any, n_high = int(r["n_total"]), int(r["n_any"]), int(r["n_grade_3_or_higher"])
        out.append([str(r["term"]), format_percent(n_any, n_total), format_percent(n_any - n_high, n_total),
                    format_percent(n_high, n_total)])
    return pd.DataFrame(out, columns=["Adverse event", "Any grade, n (%)", "Grade 1–2, n (%)", "Grade ≥3, n (%)"])


def _safety_section(run: RunResult, plot: FigureOptions, figs: dict, out_tables: dict) -> Section | None:
    tox = run.results["toxicity"]
    pct = _conf_pct(run)
    tables, systems = [], {}
    for key, name in _TOXICITIES.items():
        rec = tox.get(key)
        if not rec or not rec.get("available"):
            continue
        systems[name] = rec.get("systems") or []
        table = T.safety_table(pd.DataFrame(rec["distribution"]), conf_pct=pct)
        caption = (f"{name}: maximum grade per patient ({_systems_text(systems[name])})" if key != "icaht" else
                   f"ICAHT: maximum early (days 0–30) and late (after day 30) grade per patient "
                   f"({_systems_text(systems[name])})")
        tables.append(TableBlock(table, caption, note=_basis_note(key, rec) + " Percentages are of graded "
                                 f"patients, with exact Clopper-Pearson {pct}% intervals."))
        out_tables[f"{key}_grades"] = table
        if rec.get("onset_duration"):
            od = pd.DataFrame([(_MEASURE.get(r["measure"], label("column", r["measure"])), r["n"], _num(r["median"]),
                                f"{_num(r['minimum'])}–{_num(r['maximum'])}", r["n_unresolved"])
                               for r in rec["onset_duration"]],
                              columns=["Measure", "n", "Median", "Range", "Unresolved"])
            tables.append(TableBlock(od, f"{name}: onset and duration", note="Days; among patients with grade ≥1."))
            out_tables[f"{key}_onset_duration"] = od
    if tox.get("supportive_care"):
        care = T.supportive_care_table(tox["supportive_care"], conf_pct=pct)
        sources = sorted({str(r["source"]).replace("crs_observations", "daily CRS observations")
                          .replace("patients", "the patients table") for r in tox["supportive_care"]})
        tables.append(TableBlock(care, "Tocilizumab, corticosteroid and intensive care use",
                                 note=f"N: patients with the item recorded (read from {'; '.join(sources)}); "
                                      f"exact Clopper-Pearson {pct}% intervals."))
        out_tables["supportive_care"] = care
    if tox.get("adverse_events"):
        ae = _adverse_event_table(tox["adverse_events"])
        tables.append(TableBlock(ae, "Adverse events other than CRS and ICANS (CTCAE), maximum grade per patient",
                                 note="Percentages of all treated patients."))
        out_tables["adverse_events"] = ae
    if not tables:
        return None
    figures = []
    per_patient = run.tables.get("toxicity_max_grades")
    if per_patient is not None and plot.toxicity:
        names = {f"{k}_max_grade": n for k, n in _TOXICITIES.items() if f"{k}_max_grade" in per_patient.columns}
        fig = F.toxicity_bars(per_patient, names)
        caption = "Maximum grade per patient (n and % of graded patients)."
        figures.append(_add(figs, "toxicity_grades", fig, caption))
    daily = [run.tables[f"{k}_daily"].assign(toxicity=n) for k, n in (("crs", "CRS"), ("icans", "ICANS"))
             if f"{k}_daily" in run.tables]
    if daily and plot.toxicity:
        fig = F.toxicity_heatmap(pd.concat(daily, ignore_index=True), toxicity="toxicity")
        caption = "Daily grade per patient, as graded from the bedside observations (white: not assessed)."
        figures.append(_add(figs, "toxicity_daily", fig, caption))
    graded = "; ".join(f"{name}: {_systems_text(s)}" for name, s in systems.items())
    paragraphs = [f"Grading systems: {graded}. Percentages are of all graded patients, with exact Clopper-Pearson "
                  f"{pct}% intervals; grades from different systems are never pooled."]
    return Section("safety", "Safety", paragraphs=paragraphs, figures=figures, tables=tables)


_HANDLING = {
    "ignore": "follow-up continued through {what}",
    "censor": "patients were censored at {what}",
    "competing": "{what} was treated as a competing event",
}
def _methods_section(run: RunResult) -> Section:
    res, conv = run.results, run.record.conventions
    endpoints = {s["name"]: s["endpoint"].upper() for s in res["survival"]}
    options: dict[str, Any] = {
        "time_zero": "the day of CAR-T infusion (day 0)",
        "censoring": "patients without an event were censored at their last follow-up; "
                     f"{_HANDLING[conv.hsct].format(what='allogeneic transplantation')}; "
                     f"{_HANDLING[conv.new_therapy].format(what='a new anti-cancer therapy')}; patients who never "
                     "responded had a progression-free and event-free survival event "
                     + ("on the day of the response assessment" if conv.nonresponder_event == "assessment"
                        else "on day 0"),
        "conf_level": conv.conf_level,
        "conf_type": conv.conf_type,
        "median_rule": conv.median_rule,
        "followup": conv.followup_method,
        "binomial_ci": conv.binomial_ci,
        "unit": conv.time_unit,
        "software": dict(res["software"]),
        "deidentified": run.deidentified,
    }
    response = [r for r in res["response"] if r["column"] == conv.response_column]
    if response:
        options["response"] = {"day": conv.response_day, "denominator": conv.response_denominator,
                               "categories": response[0]["categories"]}
    systems = sorted({s for k in ("crs", "icans") for s in (res["toxicity"].get(k) or {}).get("systems", [])})
    if systems:
        options["toxicity_criteria"] = _list_names([SYSTEM_CITATIONS.get(s, label("system", s)) for s in systems])
    icaht = (res["toxicity"].get("icaht") or {}).get("systems", [])
    if icaht:
        options["icaht_criteria"] = _list_names([SYSTEM_CITATIONS.get(s, label("system", s)) for s in icaht])
    if res["toxicity"].get("supportive_care"):
        options["supportive_care"] = [r["item"] for r in res["toxicity"]["supportive_care"]]
    options["rounding"] = ROUNDING_POLICY
    tests = []
    if any(s.get("logrank") for s in res["survival"]) or res["comparisons"]:
        tests.append("logrank")
    if any((c["naive"].get("exact_logrank") or {}).get("p") is not None for c in res["comparisons"]):
        tests.append("exact_logrank")
    if any(s.get("gray_test") for s in res["survival"]):
        tests.append("gray")
    arms = [a for a in [s.get("arms") for s in res["survival"]] + [c["naive"].get("arms") for c in res["comparisons"]]
            if a]
    if any(a.get("trend") for a in arms):
        tests.append("logrank_trend")
    if arms:
        options["multi_arm"] = {
            "hazard_ratios": any(a["hazard_ratios"] for a in arms),
            "adjust": sorted({a["pairwise"]["adjust"] for a in arms if a.get("pairwise")}),
            "pairwise_gray": any("Gray" in a["pairwise"]["method"] for a in arms if a.get("pairwise")),
        }
    if tests:
        options["tests"] = tests
    if any(s["endpoint"] in COMPETING for s in res["survival"]):
        options["competing_risks"] = conv.cif_conf_type
    timedep = [c for c in res["comparisons"] if "immortal_time" in c]
    if timedep:
        options["time_dependent"] = (["landmark"] if any(c["landmarks"] for c in timedep) else []) + [
            "time_dependent_cox", "mantel_byar", "simon_makuch"]
        days = sorted({lm["at"] for c in timedep for lm in c["landmarks"]})
        if days:
            options["landmark_day"] = " and day ".join(f"{d:g}" for d in days)
    if timedep or any((c["naive"].get("cox")) for c in res["comparisons"]):
        options["hazard_ratio"] = "cox"
        options["ties"] = conv.cox_ties
    paragraphs = [methods_paragraph(options)]
    if endpoints:
        paragraphs.append("Endpoints analysed: " + "; ".join(f"{name} ({code})" for name, code in endpoints.items())
                          + ". Definitions, populations and every number are recorded in results.json.")
    t1 = res.get("table1")
    if t1 and t1["by"] is not None and any(t["test"] for t in t1["tests"]):
        named = sorted({t["test"] for t in t1["tests"] if t["test"]})
        paragraphs.append(f"Baseline characteristics were compared between groups of {t1['by']} with "
                          f"{_list_names(named)}, chosen per variable as gtsummary does by default.")
    if conv.profile is not None:
        paragraphs.append(f"Confidence intervals follow the {conv.profile} profile.")
    paragraphs += regression_methods(res)
    paragraphs += kinetics_methods(res, conv.response_day)
    return Section("methods", "Methods", paragraphs=paragraphs)


def _list_names(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _input_text(record: Mapping[str, Any]) -> str:
    """``patients.csv, read from data.source '../data' (outside the plan's folder)``: what was read, and from where."""
    path = str(record["source_path"])
    where = ("an absolute path" if Path(path).is_absolute()
             else "outside the plan's folder" if path == ".." or path.startswith("../") else "in the plan's folder")
    return f"{record['source']}, read from data.source {path!r} ({where})"


def _footer(run: RunResult, date: str | None) -> Footer:
    """The reproducibility footer; ``date`` is the stated generation date as text, or ``None`` (not recorded)."""
    import yaml

    res = run.results
    sha = "; ".join(f"{name}: {digest}" for name, digest in sorted(res["input"]["sha256"].items()))
    extra = [("Input", _input_text(res["input"])), ("Patients", str(res["input"]["n_patients"])),
             ("Software", ", ".join(f"{k} {v}" for k, v in res["software"].items()))]
    extra.append(("Outputs", "de-identified: patient ids replaced by study codes, calendar dates removed"
                  if run.deidentified else "identifiable (not de-identified)"))
    return Footer(input_sha256=sha, plan_text=yaml.safe_dump(res["plan"], sort_keys=False, allow_unicode=True),
                  package_version=str(res["software"]["cart_outcomes"]), extra=extra, date=date)


def report_outputs(run: RunResult, options: ReportOptions | None = None, *,
                   formats: Sequence[tuple[str, int]] = ()) -> ReportOutputs:
    """Build the report document, its figures and its display tables from a run.

    Parameters
    ----------
    run
        The result of :func:`cart_outcomes.plan.run.run_plan` (de-identified there when asked).
    options
        The report's options (figures to draw, the stated generation date: default ``SOURCE_DATE_EPOCH`` if set,
        else none; never the clock); default :class:`ReportOptions`.
    formats
        Figure files to render besides the SVG the HTML inlines, as ``(format, dpi)`` pairs (the writer asks for the
        figure files and the Word report's PNGs): every figure is drawn once, all together
        (:func:`~cart_outcomes.report.render.render_figures`), into ``ReportOutputs.images``.
    """
    from cart_outcomes.report._stamp import generation_time
    from cart_outcomes.report.html import format_generation_time

    options = options or ReportOptions()
    plot = options.figures
    styles = F.GroupStyles(plot)  # one colour per group across every figure of the report
    figs: dict[str, Figure] = {}
    out_tables: dict[str, pd.DataFrame] = {}
    sections = [
        _cohort_section(run, plot, figs, out_tables, styles),
        _data_quality_section(run),
        _response_section(run, out_tables),
        _survival_section(run, plot, figs, out_tables, styles),
        _hsct_section(run, plot, figs, out_tables, styles),
        regression_section(run, plot, figs, _add, out_tables, _conf_pct(run)),
        subgroups_section(run, plot, figs, _add, out_tables, _conf_pct(run)),
        rmst_section(run, out_tables, _conf_pct(run)),
        _safety_section(run, plot, figs, out_tables),
        kinetics_section(run, plot, figs, _add, out_tables, _conf_pct(run), styles),
        _methods_section(run),
    ]
    sections, figures, images = _render_all([s for s in sections if s is not None], figs, formats)
    subtitle = "De-identified report" if run.deidentified else None
    doc = ReportDocument(title=str(run.record.title), sections=sections,
                         footer=_footer(run, format_generation_time(generation_time(options.date))),
                         subtitle=subtitle)
    return ReportOutputs(document=doc, figures=figures, tables=out_tables, images=images)


def build_report(run: RunResult, options: ReportOptions | None = None) -> ReportDocument:
    """The HTML report document of a run (render it with :func:`~cart_outcomes.report.html.render_html`).

    Sections: cohort (Table 1, follow-up, swimmer plot), data quality (validation warnings, exclusions, patients per
    analysis), response (response-day and best response with exact CIs, denominator stated), survival (Kaplan-Meier
    figure with numbers at risk, medians and landmark rates per analysis; cumulative incidence of relapse and NRM),
    HSCT/time-dependent analyses (naive KM with log-rank p, Simon-Makuch with Mantel-Byar p, naive vs landmark vs
    time-dependent Cox vs Mantel-Byar table, the immortal-time warning), safety (grade tables per grading system and
    bars, onset and duration), methods, and the reproducibility footer (input SHA-256, plan, version, date).
    A de-identified run (:func:`~cart_outcomes.results.deidentify.deidentify_run`) says so in its subtitle, methods
    and footer.
    """
    return report_outputs(run, options).document
