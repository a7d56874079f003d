"""The report's regression and RMST sections, formatted from ``results["regression"]`` and ``results["rmst"]``.

A regression entry becomes one table in the layout of gtsummary's merged ``tbl_uvregression``/``tbl_regression``
(characteristic, N, events, univariable and multivariable hazard ratio with CI and p; categorical covariates as a
header row with their levels below, the reference level marked), a note with the model, the patients left out and
the whole-model tests, its warnings (proportional hazards, events per coefficient, convergence), and a forest plot of
the multivariable model (the univariable models when there is none). Nothing is computed here.

Every word a reader sees goes through :mod:`cart_outcomes.report.labels` (covariate, group and tie-method ids become
plain words, in the warnings too) and every number through :mod:`cart_outcomes.report._format`'s rounding policy.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from cart_outcomes.cohort.schema import COMPETING_ENDPOINTS
from cart_outcomes.report import figures as F
from cart_outcomes.report._format import format_p, is_missing, round_half_up
from cart_outcomes.report.html import Section, TableBlock
from cart_outcomes.report.labels import clinical_order, label
from cart_outcomes.report.options import FigureOptions
from cart_outcomes.report.render import AddFigure
from cart_outcomes.results.run import RunResult

__all__ = ["regression_methods", "regression_section", "rmst_section"]

_TESTS = {"likelihood_ratio": "likelihood-ratio", "wald": "Wald", "score": "score (log-rank)",
          "robust_score": "robust score", "pseudo_likelihood_ratio": "pseudo likelihood-ratio"}
_KIND = {"univariable": "Univariable", "multivariable": "Multivariable"}


def _ratio(term: Mapping[str, Any]) -> str:
    if term["is_reference"]:
        return "1 (reference)"
    if is_missing(term["hazard_ratio"]):
        return "NA"
    digits = 2
    if not (is_missing(term["lower"]) or is_missing(term["upper"])):
        while digits < 6 and round_half_up(term["lower"], digits) == round_half_up(term["upper"], digits):
            digits += 1  # a per-unit ratio of a wide-ranging covariate (LDH): 1.000 (0.998–1.001), not 1.00 (1.00–1.00)
    lo, hi = ("NA" if is_missing(v) else round_half_up(v, digits) for v in (term["lower"], term["upper"]))
    return f"{round_half_up(term['hazard_ratio'], digits)} ({lo}–{hi})"


def _covariate(term: Mapping[str, Any]) -> str:
    """The covariate's words: its plan label, or its column id in words (``prior_lines`` -> ``prior lines``)."""
    return label("column", term["label"])


def _level(term: Mapping[str, Any], key: str = "level") -> str:
    return label(term["variable"], term[key])


def _names(rec: Mapping[str, Any]) -> dict[str, str]:
    """Column id -> the covariate's words, for every covariate and stratum of the entry."""
    names = {c: label("column", c) for c in [*rec["covariates"], *(rec.get("options") or {}).get("strata", [])]}
    names.update({t["variable"]: _covariate(t) for fit in _fits(rec) for t in fit["terms"]})
    return names


def _worded(text: str, names: Mapping[str, str]) -> str:
    """``text`` (a recorded warning) with each covariate's column id replaced by its words."""
    if not names:
        return text
    pattern = re.compile(r"\b(" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")\b")
    return pattern.sub(lambda m: names[m.group(1)], text)


def _term_label(term: Mapping[str, Any]) -> str:
    if term["level"] is None:
        return _covariate(term)
    return f"{_covariate(term)}: {_level(term)} vs {_level(term, 'reference_level')}"


def _fits(rec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [*(rec.get("univariable") or []), *([rec["multivariable"]] if rec.get("multivariable") else [])]


def regression_table(rec: Mapping[str, Any], *, conf_pct: int) -> pd.DataFrame:
    """One row per numeric covariate and per level of a categorical one (under a header row), with N and events
    (of the univariable model, else the multivariable one) and each model's ratio with CI and p."""
    ratio = "SHR" if rec["model"] == "fine-gray" else "HR"
    kinds = [k for k in ("univariable", "multivariable")
             if (rec.get(k) if k == "multivariable" else any(f["kind"] == k for f in rec.get("univariable") or []))]
    # the multivariable-only entry with one covariate is recorded as univariable
    by_model: dict[str, dict[tuple, Mapping]] = {k: {} for k in kinds}
    joint: dict[str, dict[str, float]] = {k: {} for k in kinds}
    for fit in _fits(rec):
        for term in fit["terms"]:
            by_model[fit["kind"]][(term["variable"], term["level"])] = term
        for test in fit["term_tests"]:
            joint[fit["kind"]][test["variable"]] = test["p"]
    rows = []
    for variable in rec["covariates"]:
        keys = [key for k in kinds for key in by_model[k] if key[0] == variable]
        keys = list(dict.fromkeys(keys))
        if not keys:
            continue
        if keys[0][1] is not None:  # the reference level first, the others in clinical order (not evaluable last)
            levels = clinical_order(variable, [level for _, level in keys[1:]])
            keys = [keys[0], *((variable, level) for level in levels)]
        first = next(by_model[k][keys[0]] for k in kinds if keys[0] in by_model[k])
        if first["level"] is not None:
            header: dict[str, Any] = {"Characteristic": _covariate(first), "N": "", "Events": ""}
            for k in kinds:
                header[f"{_KIND[k]} {ratio} ({conf_pct}% CI)"] = ""
                header[f"{_KIND[k]} p"] = (f"{format_p(joint[k][variable])} (overall)" if variable in joint[k]
                                           else "")
            rows.append(header)
        for key in keys:
            source = next(by_model[k][key] for k in kinds if key in by_model[k])
            level = source["level"]
            row = {"Characteristic": _covariate(source) if level is None else f"    {_level(source)}"
                   + (" (reference)" if source["is_reference"] else ""),
                   "N": str(source["n"]), "Events": str(source["events"])}
            for k in kinds:
                term = by_model[k].get(key)
                row[f"{_KIND[k]} {ratio} ({conf_pct}% CI)"] = (
                    "—" if term is None or term["is_reference"] else _ratio(term))
                row[f"{_KIND[k]} p"] = "" if term is None or term["is_reference"] else format_p(term["p"])
            rows.append(row)
    return pd.DataFrame(rows)


def _test_text(fit: Mapping[str, Any]) -> str:
    return "; ".join(f"{_TESTS.get(t['test'], t['test'])} χ² = {float(t['statistic']):.2f} on {t['df']} df, "
                     f"p = {format_p(t['p'])}" for t in fit["tests"] if not is_missing(t["statistic"]))


def _excluded_text(fit: Mapping[str, Any], names: Mapping[str, str]) -> str:
    if not fit["n_excluded"]:
        return "no patient left out"
    by = ", ".join(f"{names.get(col, label('column', col))}: {k}" for col, k in fit["excluded_by"].items())
    return f"{fit['n_excluded']} patient(s) with a missing covariate left out ({by})"


def _model_text(rec: Mapping[str, Any]) -> str:
    """The model in words (the record's ``method`` names R's call and option ids; results.json keeps it)."""
    if rec["model"] == "fine-gray":
        return ("Fine-Gray proportional subdistribution hazards model; Wald CIs and p-values from the sandwich "
                "variance (as cmprsk::crr).")
    o = rec.get("options") or {}
    cause = " (cause-specific: the competing events censor)" if rec["endpoint"] in COMPETING_ENDPOINTS else ""
    strata = o.get("strata") or []
    return (f"Cox proportional-hazards model{cause}, {label('ties', o.get('ties', 'efron'))} method for tied "
            "times" + (f", stratified by {', '.join(label('column', c) for c in strata)}" if strata else "")
            + ", Wald CIs and p-values" + (", robust variance" if o.get("robust") else "") + " (as survival::coxph).")


def _note(rec: Mapping[str, Any]) -> str:
    names = _names(rec)
    parts = [_model_text(rec)]
    uni = rec.get("univariable") or []
    if uni:
        left = [f"{names.get(f['covariates'][0], f['covariates'][0])}: {f['n_excluded']}" for f in uni
                if f["n_excluded"]]
        parts.append("Univariable: one model per covariate on the patients with it known"
                     + (f" (left out for a missing value: {', '.join(left)})" if left else "") + ".")
    multi = rec.get("multivariable")
    if multi:
        parts.append(f"Multivariable: n = {multi['n']}, {multi['events']} events; {_excluded_text(multi, names)}; "
                     f"{_test_text(multi)}.")
        ph = [t for t in multi.get("ph_test") or [] if t["term"] == "GLOBAL"]
        if ph:
            parts.append(f"Proportional hazards (cox.zph) global p = {format_p(ph[0]['p'])}.")
    elif len(uni) == 1:
        parts.append(f"n = {uni[0]['n']}, {uni[0]['events']} events; {_excluded_text(uni[0], names)}; "
                     f"{_test_text(uni[0])}.")
    parts.append("N and events: patients (and events) in the univariable model, or at each level.")
    return " ".join(parts)


def _forest_frame(fit: Mapping[str, Any]) -> pd.DataFrame:
    """The estimated terms with a finite CI (a term whose limit is infinite, e.g. under monotone likelihood, is
    left to the table)."""
    terms = [t for t in fit["terms"] if not t["is_reference"] and not is_missing(t["lower"])
             and not is_missing(t["upper"])]
    return pd.DataFrame({"term": [_term_label(t) for t in terms],
                         "hr": [float("nan") if is_missing(t["hazard_ratio"]) else t["hazard_ratio"] for t in terms],
                         "lower": [float("nan") if is_missing(t["lower"]) else t["lower"] for t in terms],
                         "upper": [float("nan") if is_missing(t["upper"]) else t["upper"] for t in terms],
                         "n": [t["n"] for t in terms], "events": [t["events"] for t in terms],
                         "text": [_ratio(t) for t in terms]})  # the cell the table shows


def regression_section(run: RunResult, plot: FigureOptions, figs: dict, add: AddFigure, out_tables: dict,
                       pct: int) -> Section | None:
    """The 'Regression' section (``None`` when the plan has no regression)."""
    records = run.results.get("regression") or []
    if not records:
        return None
    tables, figures, warnings = [], [], []
    for rec in records:
        population = "" if rec["population"] == "all" else f", {label('population', rec['population'])}"
        what = "Fine-Gray regression" if rec["model"] == "fine-gray" else "Cox regression"
        table = regression_table(rec, conf_pct=pct)
        tables.append(TableBlock(table, f"{rec['name']}{population}: {what}", note=_note(rec)))
        out_tables[f"regression_{rec['id']}"] = table
        names = _names(rec)
        for fit in _fits(rec):
            scope = "multivariable model" if fit["kind"] == "multivariable" else \
                f"univariable model of {names.get(fit['covariates'][0], fit['covariates'][0])}"
            warnings += [f"{rec['name']} ({what}, {scope}): {_worded(w, names)}" for w in fit["warnings"]]
        drawn = rec.get("multivariable") or None
        frame = _forest_frame(drawn) if drawn else pd.concat([_forest_frame(f) for f in rec.get("univariable") or []],
                                                             ignore_index=True) if rec.get("univariable") else None
        if plot.forest and frame is not None and len(frame):
            ratio = "Subdistribution hazard ratio" if rec["model"] == "fine-gray" else "Hazard ratio"
            fig = F.forest_figure(frame, xlabel=f"{ratio} ({pct}% CI, log scale)",
                                  header=f"{'SHR' if rec['model'] == 'fine-gray' else 'HR'} ({pct}% CI)", options=plot)
            kind = "multivariable" if drawn else "univariable"
            hazard = "subdistribution hazard ratios" if rec["model"] == "fine-gray" else "hazard ratios"
            caption = (f"{rec['name']}{population}: {kind} {what} {hazard} with {pct}% CIs (log scale); N and "
                       "events of each model (numeric covariates) or level (categorical, against the reference); a "
                       "term without a finite CI is shown in the table only.")
            figures.append(add(figs, f"forest_{rec['id']}", fig, caption))
    return Section("regression", "Regression", warnings=warnings, figures=figures, tables=tables)


def rmst_table(rec: Mapping[str, Any], *, unit: str, conf_pct: int) -> pd.DataFrame:
    """RMST of each group, then the difference, the RMST ratio and the RMTL ratio, each with CI and p."""

    def ci(est: Any, lo: Any, hi: Any, digits: int) -> str:
        def f(v: Any) -> str:
            return "NA" if is_missing(v) else round_half_up(v, digits).replace("-", "−")

        if is_missing(est):
            return "NA"
        limits = [f(lo), f(hi)]  # a negative limit takes "to", not a dash: −55.9 to 36.0
        return f"{f(est)} ({' to '.join(limits) if any(x.startswith('−') for x in limits) else '–'.join(limits)})"

    by = rec["by"]
    group, reference = label(by, rec["group"]), label(by, rec["reference"])
    rows = [(f"RMST, {label(by, a['group'])} (n = {a['n']}, {a['events']} events), {unit}",
             ci(a["rmst"], a["lower"], a["upper"], 1), "") for a in rec["arms"]]
    names = {"rmst_difference": f"Difference ({group} − {reference}), {unit}",
             "rmst_ratio": f"RMST ratio ({group} / {reference})",
             "rmtl_ratio": f"Restricted mean time lost ratio ({group} / {reference})"}
    for c in rec["contrasts"]:
        digits = 1 if c["contrast"] == "rmst_difference" else 2
        rows.append((names.get(c["contrast"], label("column", c["contrast"])),
                     ci(c["estimate"], c["lower"], c["upper"], digits),
                     format_p(c["p_value"])))
    return pd.DataFrame(rows, columns=["Measure", f"Estimate ({conf_pct}% CI)", "p"])


def rmst_section(run: RunResult, out_tables: dict, pct: int) -> Section | None:
    """The 'Restricted mean survival time' section (``None`` when the plan has no rmst entry)."""
    records = run.results.get("rmst") or []
    if not records:
        return None
    unit = run.record.conventions.time_unit
    tables = []
    for rec in records:
        population = "" if rec["population"] == "all" else f", {label('population', rec['population'])}"
        table = rmst_table(rec, unit=unit, conf_pct=pct)
        tau = f"{float(rec['tau']):g} {unit}" + ("" if rec["tau_rule"] == "given" else " (survRM2's default)")
        tables.append(TableBlock(table, f"{rec['name']}{population} by {label('column', rec['by'])}: restricted "
                                 f"mean survival time up to {tau}", note=_RMST_NOTE))
        out_tables[f"rmst_{rec['id']}"] = table
    return Section("rmst", "Restricted mean survival time", tables=tables)


_RMST_NOTE = ("Restricted mean survival time: area under each group's Kaplan-Meier curve up to the horizon, "
              "Greenwood-type variance; difference and ratios with normal (Wald) CIs and p-values, ratios on the log "
              "scale (as survRM2::rmst2).")


def regression_methods(results: Mapping[str, Any]) -> list[str]:
    """Methods sentences for the regression and RMST analyses that were run (none when neither was)."""
    out = []
    records = results.get("regression") or []
    if any(r["model"] == "cox" for r in records):
        ties = sorted({label("ties", r["options"]["ties"]) for r in records if r["model"] == "cox"})
        out.append("Associations of baseline characteristics with time-to-event endpoints were estimated with Cox "
                   f"proportional-hazards models ({' and '.join(ties)} method for tied times), univariable and "
                   "multivariable as tabulated, on the patients with every covariate of the model known; hazard "
                   "ratios have Wald confidence intervals and p-values. Proportional hazards were checked with "
                   "scaled Schoenfeld residuals (cox.zph); fewer than 10 events per estimated coefficient is "
                   "flagged.")
    if any(r["model"] == "fine-gray" for r in records):
        out.append("For relapse and non-relapse mortality, Fine-Gray proportional subdistribution hazards models "
                   "(Fine and Gray, J Am Stat Assoc 1999) were fitted as cmprsk::crr does, with the other causes as "
                   "competing events.")
    if results.get("rmst"):
        out.append("Restricted mean survival times up to the stated horizon were compared by their difference and "
                   "ratio (Uno et al., J Clin Oncol 2014), as survRM2::rmst2.")
    return out
