"""The report of a plan run: every section filled from the run's results, fits and tables, nothing refitted.

:func:`build_report` turns a :class:`~cart_outcomes.plan.run.RunResult` into a
:class:`~cart_outcomes.report.html.ReportDocument`; :func:`report_outputs` also returns the figures (to be saved as
files) and the display tables (for the XLSX/DOCX exports). :func:`deidentify_run` replaces patient ids by study codes
and drops calendar dates in every part of a run before anything is drawn or written.

The numbers shown are the ones in ``results.json``; the curves are drawn from the fitted results the runner kept in
``run.extras`` (``fits``: survival analyses by id, ``naive_fits``: the naive KM of each (comparison, endpoint),
``curves``: the Simon-Makuch results), so the numbers at risk under each figure are the fit's own ``at(ticks)``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from cart_outcomes.cohort.schema import CAUSE_LABELS
from cart_outcomes.cohort.schema import COMPETING_ENDPOINTS as COMPETING
from cart_outcomes.report import figures as F
from cart_outcomes.report import tables as T
from cart_outcomes.report._format import format_p, is_missing
from cart_outcomes.report.deidentify import apply_code_map, date_columns, deidentify
from cart_outcomes.report.html import FigureBlock, Footer, ReportDocument, Section, TableBlock, figure_block
from cart_outcomes.report.kinetics import kinetics_methods, kinetics_section
from cart_outcomes.report.methods import IMMORTAL_TIME_EXPLANATION, methods_paragraph

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from cart_outcomes.plan.run import RunResult

__all__ = ["ReportOutputs", "build_report", "deidentify_run", "report_outputs"]

#: Baseline columns of Table 1, in display order (those present with at least one value are shown).
TABLE1_VARIABLES = {
    "age_years": "Age, years",
    "sex": "Sex",
    "diagnosis": "Diagnosis",
    "car_t_source": "CAR-T source",
    "car_t_product": "CAR-T product",
    "dose_cells_per_kg": "Dose, cells/kg",
    "lines_of_prior_therapy": "Lines of prior therapy",
    "prior_hsct": "Prior HSCT",
    "extramedullary_disease": "Extramedullary disease",
    "bridging_therapy": "Bridging therapy",
}
#: Largest cohort drawn as a swimmer plot (one bar per patient: beyond this it is neither readable nor fast).
SWIMMER_MAX_PATIENTS = 100
#: Free-text columns removed by de-identification (they may name people or places).
FREE_TEXT_COLUMNS = ("notes", "note", "comments", "comment")
_DATE_TEXT = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\b"  # ISO date [time]
                        r"|\b\d{1,2}[/.]\d{1,2}[/.]\d{4}\b")  # day/month/year either way
DATE_REMOVED = "[date removed]"


@dataclass(frozen=True, slots=True)
class ReportOutputs:
    """The report document, its figures (file stem -> (figure, its SVG block as in the HTML)) and display tables
    (name -> frame)."""

    document: ReportDocument
    figures: dict[str, tuple[Figure, FigureBlock]] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


# ----------------------------------------------------------------------------------------------------------------
# de-identification


def _code_text(text: str, code_map: Mapping[str, str]) -> str:
    """Replace every original id (longest first, as whole tokens) and every calendar date in free text."""
    for pid in sorted(code_map, key=len, reverse=True):
        text = re.sub(rf"(?<![\w-]){re.escape(pid)}(?![\w-])", code_map[pid], text)
    return _DATE_TEXT.sub(DATE_REMOVED, text)


def _code_records(value: Any, code_map: Mapping[str, str]) -> Any:
    """A copy of a JSON-like value with ids coded and dates removed in every string."""
    if isinstance(value, dict):
        return {k: (code_map.get(str(v), v) if k == "patient_id" and v is not None else _code_records(v, code_map))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_code_records(v, code_map) for v in value]
    if isinstance(value, str):
        return _code_text(value, code_map)
    return value


def _code_table(frame: pd.DataFrame, code_map: Mapping[str, str]) -> pd.DataFrame:
    out = frame.drop(columns=[c for c in date_columns(frame) if c != "patient_id"]
                     + [c for c in FREE_TEXT_COLUMNS if c in frame.columns])
    if "patient_id" in out.columns:
        out = apply_code_map(out, code_map)
    for column in out.columns:
        if column != "patient_id" and out[column].dtype == object:
            out[column] = out[column].map(lambda v: _code_text(v, code_map) if isinstance(v, str) else v)
    return out


def deidentify_run(run: RunResult) -> RunResult:
    """The run with patient ids replaced by study codes (``PT-01`` ...) and calendar dates removed everywhere.

    The patients frame loses its date and free-text columns and gets coded ids; every table with a ``patient_id``
    column is coded; in ``results`` every ``patient_id`` value is coded and ids and dates inside text (validation
    messages, values) are replaced. Day counts from infusion are kept. The code map is not kept anywhere.
    ``run.extras["deidentified"]`` is set, so applying it twice changes nothing.
    """
    if run.extras.get("deidentified"):
        return run
    frame = run.extras["frame"]
    drop = [c for c in FREE_TEXT_COLUMNS if c in frame.columns]
    coded_frame, code_map = deidentify(frame, drop=drop)
    tables = {name: _code_table(t, code_map) for name, t in run.tables.items()}
    results = _code_records(run.results, code_map)
    extras = {k: v for k, v in run.extras.items() if k != "cohort"}
    extras.update(frame=coded_frame, deidentified=True)
    return dataclasses.replace(run, results=results, tables=tables, extras=extras)


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


def _pct_range(lo: Any, hi: Any, digits: int = 1) -> str:
    def f(v: Any) -> str:
        return "NA" if is_missing(v) else f"{100 * float(v):.{digits}f}%"

    return f"{f(lo)}–{f(hi)}"


def _ci_text(est: Any, lo: Any, hi: Any, digits: int = 1) -> str:
    """``66.7% (34.9%–90.1%)`` from proportions."""
    return f"{'NA' if is_missing(est) else f'{100 * float(est):.{digits}f}%'} ({_pct_range(lo, hi, digits)})"


def _conf_pct(results: Mapping[str, Any]) -> int:
    return int(round(100 * float(results["conventions"]["conf_level"])))


def _cohort_section(run: RunResult, frame: pd.DataFrame, figs: dict, out_tables: dict) -> Section:
    res = run.results
    variables = {c: label for c, label in TABLE1_VARIABLES.items() if c in frame.columns and frame[c].notna().any()}
    tables = []
    if variables:
        table1 = T.baseline_table(frame, variables,
                                  categorical=[c for c in ("lines_of_prior_therapy",) if c in variables])
        tables.append(TableBlock(table1, "Table 1. Baseline characteristics",
                                 note="Median (range) or n (% of patients with a known value)."))
        out_tables["table1_baseline"] = table1
    fu = res["followup"]
    paragraphs = [f"{res['input']['n_patients']} patients received CAR-T cells; time zero is "
                  f"{res['conventions']['time_zero']}."]
    if fu:
        paragraphs.append(
            f"Median follow-up by the reverse Kaplan-Meier method was {_num(fu.get('median_followup'))} days "
            f"({_conf_pct(res)}% CI {_num(fu.get('lower'))}–{_num(fu.get('upper'))}); the median observation time was "
            f"{_num(fu.get('median_observed'))} days (range {_num(fu.get('min_observed'))}–"
            f"{_num(fu.get('max_observed'))}).")
    figures = []
    if run.plan.figures.swimmer and "last_followup_day" in frame.columns and len(frame) > SWIMMER_MAX_PATIENTS:
        paragraphs.append(f"The swimmer plot is drawn for cohorts of up to {SWIMMER_MAX_PATIENTS} patients "
                          f"(one bar per patient); this cohort has {len(frame)}.")
    elif run.plan.figures.swimmer and "last_followup_day" in frame.columns:
        # the response marker is for complete responses (the figure's legend says CR/CRi)
        responses = tuple(r for r in run.results["conventions"]["responses_counted"] if r != "PR")
        colour = next((c for c in ("diagnosis", "car_t_source") if c in frame.columns and frame[c].notna().any()), None)
        fig = F.swimmer_figure(frame, responses=responses, colour_by=colour)
        caption = ("Swimmer plot: one bar per patient from infusion to death or last follow-up, longest follow-up "
                   "on top; markers show response, allo-HSCT, relapse/progression and death; an arrow marks an "
                   "ongoing response.")
        figures.append(_add(figs, "swimmer", fig, caption))
    return Section("cohort", "Cohort", paragraphs=paragraphs, tables=tables, figures=figures)


def _add(figs: dict, name: str, fig: Figure, caption: str) -> FigureBlock:
    """Serialise ``fig`` once for the HTML and keep it under ``name`` for the figure files."""
    block = figure_block(fig, caption)
    figs[name] = (fig, block)
    return block


def _num(v: Any) -> str:
    return "NR" if is_missing(v) else f"{float(v):g}"


def _data_quality_section(run: RunResult) -> Section:
    dq = run.results["data_quality"]
    warnings = [_warning_text(w) for w in dq["warnings"]]
    exclusions = dq.get("exclusions") or []
    paragraphs = [f"{run.results['input']['n_patients']} patients passed validation and were analysed; "
                  f"{dq['n_warnings']} validation warning(s); {len(exclusions)} exclusion(s)."]
    for ex in exclusions:
        paragraphs.append(f"Excluded: {_warning_text(ex) if isinstance(ex, Mapping) else ex}")
    rows = [(s["name"], s["population"], s.get("by") or "", s["n"], run.results["input"]["n_patients"] - s["n"])
            for s in run.results["survival"]]
    tables = []
    if rows:
        counts = pd.DataFrame(rows, columns=["Analysis", "Population", "By", "Analysed", "Not in analysis"])
        tables.append(TableBlock(counts, "Patients in each analysis",
                                 note="'Not in analysis': outside the population (e.g. non-responders for DOR) or "
                                      "without a defined time for the endpoint."))
    if not warnings:
        paragraphs.append("No data-quality warnings.")
    return Section("data-quality", "Data quality", warnings=warnings, paragraphs=paragraphs, tables=tables)


_BINOMIAL = {"clopper-pearson": "Clopper-Pearson exact", "wilson": "Wilson score"}


def _response_section(run: RunResult, frame: pd.DataFrame, out_tables: dict) -> Section:
    res = run.results
    conv = res["conventions"]
    responders = tuple(conv["responses_counted"])
    pct = _conf_pct(res)
    paragraphs = []
    for r in res["response"]:
        label = {"overall_response": "Overall response", "complete_response": "Complete response"}.get(
            r["measure"], str(r["measure"]).replace("_", " ").capitalize())
        paragraphs.append(
            f"{label} ({r['categories']}) at day {conv['response_day']}: {r['responders']}/{r['n']} "
            f"({100 * float(r['estimate']):.1f}%; {pct}% CI {_pct_range(r['lower'], r['upper'])}), "
            f"denominator: {str(r['denominator']).replace('_', ' ')} patients "
            f"({_BINOMIAL.get(r['method'], r['method'])} interval).")
    tables = []
    if "day28_response" in frame.columns:
        table = T.response_table(frame, "day28_response", responders=responders, conf_level=conv["conf_level"])
        tables.append(TableBlock(table, f"Day-{conv['response_day']} response",
                                 note="Denominator: all infused patients; a missing response counts as not "
                                      "evaluable."))
        out_tables["response_day28"] = table
    if "best_response" in frame.columns and frame["best_response"].notna().any():
        table = T.response_table(frame, "best_response", responders=responders, conf_level=conv["conf_level"],
                                 overall_label="Best overall response")
        tables.append(TableBlock(table, "Best response", note="Denominator: all infused patients."))
        out_tables["response_best"] = table
    return Section("response", "Response", paragraphs=paragraphs, tables=tables)


def _group_label(group: Any) -> str:
    return "All patients" if group in (None, "all") else str(group)


def _survival_section(run: RunResult, figs: dict, out_tables: dict) -> Section:
    res = run.results
    fits = run.extras.get("fits", {})
    plot = run.plan.figures
    figures, tables, drawn_cif = [], [], set()
    pct = _conf_pct(res)
    for s in res["survival"]:
        fit = fits.get(s["id"])
        population = "" if s["population"] == "all" else f", {s['population']}"
        by = f" by {s['by']}" if s.get("by") else ""
        if s["endpoint"] in COMPETING:
            rows = [(_group_label(g["group"]), r["time"], r.get("n_risk"),
                     _ci_text(r["estimate"], r["lower"], r["upper"])) for g in s["groups"] for r in g["rates"]]
            if rows:
                table = pd.DataFrame(rows, columns=["Group", "Day", "At risk", f"Cumulative incidence ({pct}% CI)"])
                tables.append(TableBlock(table, f"{s['name']}{population}{by}",
                                         note=f"Aalen-Johansen; competing: {', '.join(s['competing'])}."))
                out_tables[f"cif_{s['id']}"] = table
            key = (s["population"], s.get("by"))
            if fit is not None and plot.cif and key not in drawn_cif:
                drawn_cif.add(key)
                test = None
                if s.get("gray_test"):
                    test = s["gray_test"][0].get("p")
                fig = F.cif_figure(fit, test=test, cause_labels=CAUSE_LABELS)
                caption = (f"Cumulative incidence of competing events{population}{by} (Aalen-Johansen), with the "
                           "number of patients at risk (event-free) under each panel.")
                name = f"cif_{s['population']}_{s.get('by') or 'overall'}"
                figures.append(_add(figs, name, fig, caption))
            continue
        if fit is None:
            continue
        logrank = s.get("logrank", {}).get("p") if s.get("logrank") else None
        days = [float(t) for t in {r["time"] for g in s["groups"] for r in g["rates"]}]
        table = T.survival_summary_table(fit, landmarks=sorted(days), unit="days", digits=1,
                                         labels={"all": "All patients"})
        tables.append(TableBlock(table, f"{s['name']}{population}{by}: median and landmark rates",
                                 note=f"Kaplan-Meier; {res['conventions']['conf_type']} {pct}% CI; NR = not reached."
                                      + (f" Log-rank p = {format_p(logrank)}." if logrank is not None else "")))
        out_tables[f"survival_{s['id']}"] = table
        if plot.km:
            fig = F.km_figure(fit, logrank=logrank, ci=plot.ci_bands, ylabel=f"{s['name']} probability")
            caption = f"{s['name']}{population}{by} (Kaplan-Meier) with the number of patients at risk."
            figures.append(_add(figs, f"km_{s['id']}", fig, caption))
    return Section("survival", "Survival", figures=figures, tables=tables)


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
        rows.append({"analysis": f"Time-dependent Cox ({cox['method'].split(', ')[-1]})",
                     "handles_immortal_time": True, "estimate": coef["hazard_ratio"], "lower": coef["lower"],
                     "upper": coef["upper"], "p_value": coef["p"], "n": c["n"], "events": events,
                     "note": f"HR after vs before exposure; Wald p; {cox['n_rows']} (start, stop] rows"})
    mb = c.get("mantel_byar")
    if mb:
        rows.append({"analysis": "Mantel-Byar test", "handles_immortal_time": True, "estimate": None, "lower": None,
                     "upper": None, "p_value": mb["p"], "n": c["n"], "events": events, "note": ""})
    return pd.DataFrame(rows)


def _hsct_section(run: RunResult, figs: dict, out_tables: dict) -> Section | None:
    comparisons = run.results["comparisons"]
    if not comparisons:
        return None
    naive_fits = run.extras.get("naive_fits", {})
    curves = run.extras.get("curves", {})
    plot = run.plan.figures
    warnings, figures, tables = [], [], []
    paragraphs = [IMMORTAL_TIME_EXPLANATION] if any("immortal_time" in c for c in comparisons) else []
    for c in comparisons:
        key = (c["comparison"], c["endpoint"])
        title = f"{c['name']}, {c['population']}, {c['comparison']}"
        if "immortal_time" in c:
            warnings.append(f"{c['name']} ({c['comparison']}): {c['immortal_time']['warning']}")
        fit = naive_fits.get(key)
        if fit is not None and plot.km:
            fig = F.km_figure(fit, logrank=c["naive"]["logrank"]["p"], ci=plot.ci_bands,
                              ylabel=f"{c['name']} probability")
            caption = (f"{title}: naive Kaplan-Meier curves from day 0 with the log-rank p (groups fixed by an "
                       "exposure that happens later; biased by immortal time).") if "immortal_time" in c else \
                f"{title}: Kaplan-Meier curves with the log-rank p."
            figures.append(_add(figs, f"naive_km_{c['comparison']}_{c['endpoint']}", fig, caption))
        sm = curves.get(key)
        if sm is not None and plot.simon_makuch:
            labels = c.get("labels", {})
            fig = F.simon_makuch_figure(sm, test=c["mantel_byar"]["p"], ylabel=f"{c['name']} probability", labels={
                "unexposed": f"{labels.get('unexposed', 'unexposed')} (yet)",
                "exposed": f"after {labels.get('exposed', 'exposure')}"})
            caption = (f"{title}: Simon-Makuch curves (patients move from the unexposed to the exposed curve on the "
                       "day of exposure) with the Mantel-Byar p and the numbers at risk in each state.")
            figures.append(_add(figs, f"simon_makuch_{c['comparison']}_{c['endpoint']}", fig, caption))
        if "immortal_time" in c:
            table = T.hsct_comparison_table(_comparison_rows(c))
            tables.append(TableBlock(table, f"{title}: naive and immortal-time-corrected analyses side by side",
                                     note="Read the rows that account for immortal time; the naive rows only "
                                          "reproduce the published analysis."))
            out_tables[f"hsct_{c['comparison']}_{c['endpoint']}"] = table
        else:
            rows = [(_group_label(g["group"]), g["n"], g["events"], _num(g["median"])) for g in c["naive"]["groups"]]
            table = pd.DataFrame(rows, columns=["Group", "N", "Events", "Median, days"])
            tables.append(TableBlock(table, f"{title} (log-rank p = {format_p(c['naive']['logrank']['p'])})"))
            out_tables[f"comparison_{c['comparison']}_{c['endpoint']}"] = table
    return Section("hsct", "HSCT and time-dependent analyses", warnings=warnings, paragraphs=paragraphs,
                   figures=figures, tables=tables)


_CATEGORY = {"any_grade": "Any grade", "grade_3_or_higher": "Grade ≥ 3"}
_MEASURE = {"onset_day": "Onset, day after infusion", "duration_days": "Duration, days"}


def _safety_section(run: RunResult, frame: pd.DataFrame, figs: dict, out_tables: dict) -> Section | None:
    tox = run.results["toxicity"]
    pct = _conf_pct(run.results)
    tables, per_patient, names = [], pd.DataFrame({"patient_id": frame["patient_id"]}), {}
    for key, name in (("crs", "CRS"), ("icans", "ICANS"), ("icaht", "ICAHT")):
        rec = tox.get(key)
        if not rec or not rec.get("available"):
            continue
        rows = [(_CATEGORY.get(d["category"], str(d["category"]).replace("grade_", "Grade ")),
                 f"{d['n']}/{d['n_total']} ({d['percent']:.1f}%)", _pct_range(d["lower"], d["upper"]))
                for d in rec["distribution"]]
        table = pd.DataFrame(rows, columns=["Grade", "n/N (%)", f"{pct}% CI (Clopper-Pearson)"])
        system = next((d.get("system") for d in rec["distribution"] if d.get("system")), "")
        tables.append(TableBlock(table, f"{name}: maximum grade per patient ({system})",
                                 note=str(rec.get("basis", ""))))
        out_tables[f"{key}_grades"] = table
        if rec.get("onset_duration"):
            od = pd.DataFrame([(_MEASURE.get(r["measure"], r["measure"]), r["n"], _num(r["median"]),
                                f"{_num(r['minimum'])}–{_num(r['maximum'])}", r["n_unresolved"])
                               for r in rec["onset_duration"]],
                              columns=["Measure", "n", "Median", "Range", "Unresolved"])
            tables.append(TableBlock(od, f"{name}: onset and duration"))
            out_tables[f"{key}_onset_duration"] = od
        by_patient = run.tables.get(f"{key}_by_patient")
        if by_patient is not None and "max_grade" in by_patient.columns:
            grades = by_patient.set_index("patient_id")["max_grade"]
            per_patient[f"{key}_max_grade"] = per_patient["patient_id"].map(grades).fillna(0)
            names[f"{key}_max_grade"] = name
        elif f"{key}_grade" in frame.columns:
            per_patient[f"{key}_max_grade"] = frame[f"{key}_grade"]
            names[f"{key}_max_grade"] = name
    if tox.get("adverse_events"):
        ae = pd.DataFrame(tox["adverse_events"])
        tables.append(TableBlock(ae, "Adverse events"))
        out_tables["adverse_events"] = ae
    if not tables:
        return None
    figures = []
    if names and run.plan.figures.toxicity:
        fig = F.toxicity_bars(per_patient, names)
        caption = "Maximum grade per patient (n and % of graded patients)."
        figures.append(_add(figs, "toxicity_grades", fig, caption))
    daily = [run.tables[f"{k}_daily"].assign(toxicity=n) for k, n in (("crs", "CRS"), ("icans", "ICANS"))
             if f"{k}_daily" in run.tables]
    if daily and run.plan.figures.toxicity:
        fig = F.toxicity_heatmap(pd.concat(daily, ignore_index=True), toxicity="toxicity")
        caption = "Daily grade per patient, as graded from the bedside observations (white: not assessed)."
        figures.append(_add(figs, "toxicity_daily", fig, caption))
    paragraphs = [f"Graded with the {run.plan.toxicity.criteria.upper()} consensus criteria; percentages of all "
                  "graded patients with exact Clopper-Pearson intervals."]
    return Section("safety", "Safety", paragraphs=paragraphs, figures=figures, tables=tables)


_HANDLING = {
    "ignore": "follow-up continued through {what}",
    "censor": "patients were censored at {what}",
    "competing": "{what} was treated as a competing event",
}


def _methods_section(run: RunResult, deidentified: bool) -> Section:
    res = run.results
    conv = res["conventions"]
    conf_type = str(conv["conf_type"])
    endpoints = {s["name"]: s["endpoint"].upper() for s in res["survival"]}
    options: dict[str, Any] = {
        "time_zero": "the day of CAR-T infusion (day 0)",
        "censoring": "patients without an event were censored at their last follow-up; "
                     f"{_HANDLING[conv['hsct']].format(what='allogeneic transplantation')}; "
                     f"{_HANDLING[conv['new_therapy']].format(what='a new anti-cancer therapy')}; patients who never "
                     "responded had a progression-free and event-free survival event "
                     + ("on the day of the response assessment" if conv["nonresponder_event"] == "assessment"
                        else "on day 0"),
        "conf_level": conv["conf_level"],
        "median_rule": "r",
        "followup": "reverse_km",
        "binomial_ci": "clopper-pearson",
        "toxicity_criteria": "the ASTCT 2019 consensus criteria (Lee et al., Biol Blood Marrow Transplant 2019)",
        "software": dict(res["software"]),
        "deidentified": deidentified,
    }
    if not conf_type.startswith("profile"):
        options["conf_type"] = conf_type
    tests = []
    if any(s.get("logrank") for s in res["survival"]) or res["comparisons"]:
        tests.append("logrank")
    if any((c["naive"].get("exact_logrank") or {}).get("p") is not None for c in res["comparisons"]):
        tests.append("exact_logrank")
    if any(s.get("gray_test") for s in res["survival"]):
        tests.append("gray")
    if tests:
        options["tests"] = tests
    if any(s["endpoint"] in COMPETING for s in res["survival"]):
        options["competing_risks"] = True
    timedep = [c for c in res["comparisons"] if "immortal_time" in c]
    if timedep:
        options["time_dependent"] = (["landmark"] if any(c["landmarks"] for c in timedep) else []) + [
            "time_dependent_cox", "mantel_byar", "simon_makuch"]
        days = sorted({lm["at"] for c in timedep for lm in c["landmarks"]})
        if days:
            options["landmark_day"] = " and day ".join(f"{d:g}" for d in days)
        options["hazard_ratio"] = "cox"
        options["ties"] = conv["cox_ties"]
    paragraphs = [methods_paragraph(options)]
    if endpoints:
        paragraphs.append("Endpoints analysed: " + "; ".join(f"{name} ({code})" for name, code in endpoints.items())
                          + ". Definitions, populations and every number are recorded in results.json.")
    if conf_type.startswith("profile"):
        paragraphs.append(f"Confidence intervals follow the {conf_type[len('profile '):]} profile.")
    paragraphs += kinetics_methods(res)
    return Section("methods", "Methods", paragraphs=paragraphs)


def _footer(run: RunResult, deidentified: bool, date: str | None) -> Footer:
    import yaml

    res = run.results
    sha = "; ".join(f"{name}: {digest}" for name, digest in sorted(res["input"]["sha256"].items()))
    extra = [("Input", str(res["input"]["source"])), ("Patients", str(res["input"]["n_patients"])),
             ("Software", ", ".join(f"{k} {v}" for k, v in res["software"].items()))]
    extra.append(("Outputs", "de-identified: patient ids replaced by study codes, calendar dates removed"
                  if deidentified else "identifiable (not de-identified)"))
    kwargs: dict[str, Any] = {} if date is None else {"date": date}
    return Footer(input_sha256=sha, plan_text=yaml.safe_dump(res["plan"], sort_keys=False, allow_unicode=True),
                  package_version=str(res["software"]["cart_outcomes"]), extra=extra, **kwargs)


def report_outputs(run: RunResult, *, deidentify: bool = False, date: str | None = None) -> ReportOutputs:
    """Build the report document, its figures and its display tables from a plan run.

    Parameters
    ----------
    run
        The result of :func:`cart_outcomes.plan.run.run_plan`.
    deidentify
        De-identify the run first (:func:`deidentify_run`); a run that already is de-identified stays so.
    date
        Generation date shown in the footer (default: ``SOURCE_DATE_EPOCH`` if set, else none; never the clock).
    """
    if deidentify:
        run = deidentify_run(run)
    deidentified = bool(run.extras.get("deidentified"))
    frame = run.extras["frame"]
    figs: dict[str, tuple[Any, FigureBlock]] = {}
    out_tables: dict[str, pd.DataFrame] = {}
    sections = [
        _cohort_section(run, frame, figs, out_tables),
        _data_quality_section(run),
        _response_section(run, frame, out_tables),
        _survival_section(run, figs, out_tables),
        _hsct_section(run, figs, out_tables),
        _safety_section(run, frame, figs, out_tables),
        kinetics_section(run, figs, _add, out_tables, _conf_pct(run.results)),
        _methods_section(run, deidentified),
    ]
    subtitle = "De-identified report" if deidentified else None
    doc = ReportDocument(title=str(run.results["title"]), sections=[s for s in sections if s is not None],
                         footer=_footer(run, deidentified, date), subtitle=subtitle)
    return ReportOutputs(document=doc, figures=figs, tables=out_tables)


def build_report(run: RunResult, *, deidentify: bool = False) -> ReportDocument:
    """The HTML report document of a plan run (render it with :func:`~cart_outcomes.report.html.render_html`).

    Sections: cohort (Table 1, follow-up, swimmer plot), data quality (validation warnings, exclusions, patients per
    analysis), response (day-28 and best response with exact CIs, denominator stated), survival (Kaplan-Meier figure
    with numbers at risk, medians and landmark rates per analysis; cumulative incidence of relapse and NRM),
    HSCT/time-dependent analyses (naive KM with log-rank p, Simon-Makuch with Mantel-Byar p, naive vs landmark vs
    time-dependent Cox vs Mantel-Byar table, the immortal-time warning), safety (CRS/ICANS grade tables and bars,
    onset and duration), methods, and the reproducibility footer (input SHA-256, plan, version, date).

    With ``deidentify`` patient ids become study codes and calendar dates are removed (see :func:`deidentify_run`),
    and the footer and methods say so.
    """
    return report_outputs(run, deidentify=deidentify).document
