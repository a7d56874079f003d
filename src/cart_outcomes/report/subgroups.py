"""The 'Subgroups and sensitivity analyses' section: subgroup forest plots with interaction p-values, and analyses
repeated under other endpoint rules side by side. Formatting only: every number comes from results.json."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from cart_outcomes.report import figures as F
from cart_outcomes.report._format import format_p, is_missing
from cart_outcomes.report.arms import hr_text
from cart_outcomes.report.html import Section, TableBlock
from cart_outcomes.report.labels import label
from cart_outcomes.report.options import FigureOptions
from cart_outcomes.results.run import RunResult

__all__ = ["subgroups_section"]

_RULES = {"hsct": "allo-HSCT", "new_therapy": "new therapy", "nonresponder_event": "non-responder event"}


def _forest_rows(forest: Mapping[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The display table and the figure frame (``term, hr, lower, upper, n, events``; header rows without HR)."""
    table, plot = [], []

    def add(label: str, r: Mapping[str, Any] | None, interaction: str = "") -> None:
        if r is None:
            table.append({"Subgroup": label, "N": "", "Events": "", "HR (CI)": "", "p": "",
                          "Interaction p": interaction})
            plot.append({"term": f"{label}: p-int {interaction}",
                         "hr": math.nan, "lower": math.nan, "upper": math.nan, "n": math.nan, "events": math.nan})
            return
        hr = hr_text(r["hazard_ratio"], r["lower"], r["upper"]) if not is_missing(r["hazard_ratio"]) else r["note"]
        table.append({"Subgroup": label, "N": r["n"], "Events": r["events"], "HR (CI)": hr,
                      "p": format_p(r["p"]) if not is_missing(r["p"]) else "", "Interaction p": interaction})
        plot.append({"term": label, "hr": math.nan if is_missing(r["hazard_ratio"]) else r["hazard_ratio"],
                     "lower": math.nan if is_missing(r["lower"]) else r["lower"],
                     "upper": math.nan if is_missing(r["upper"]) else r["upper"], "n": r["n"], "events": r["events"]})

    add("All patients", forest["overall"])
    for v in forest["subgroups"]:
        inter = v["interaction"]
        add(v["variable"], None, format_p(inter["p"]) if inter.get("p") is not None else "not tested")
        for r in v["rows"]:
            add(f"    {r['subgroup']}", r)
    return pd.DataFrame(table), pd.DataFrame(plot)


def _rule_text(rules: Mapping[str, Any], changed: list[str]) -> str:
    return ", ".join(f"{_RULES[k]}: {rules[k]}" for k in changed)


def _sensitivity_table(rec: Mapping[str, Any], unit: str, pct: int) -> tuple[pd.DataFrame, str]:
    changed = next((r.get("changed") for r in rec["rules"] if r.get("changed")), [])
    rows = []
    for rule in rec["rules"]:
        label = f"{rule['label']} ({_rule_text(rule['rules'], changed)})"
        test = rule.get("logrank") or ((rule.get("gray_test") or [None])[0])
        for g in rule["groups"]:
            row: dict[str, Any] = {"Rules": label, "Group": "All patients" if g["group"] in (None, "all")
                                   else str(g["group"])}
            if "events" in g:
                row["N"], row["Events"] = g.get("n"), None if is_missing(g.get("events")) else int(g["events"])
                median = "NR" if is_missing(g.get("median")) else f"{float(g['median']):g}"
                lo = "NA" if is_missing(g.get("lower")) else f"{float(g['lower']):g}"
                hi = "NA" if is_missing(g.get("upper")) else f"{float(g['upper']):g}"
                row[f"Median, {unit} ({pct}% CI)"] = f"{median} ({lo}–{hi})"
            for r in g.get("rates", []):
                est = r.get("survival", r.get("estimate"))
                row[f"{r['label']} ({pct}% CI)"] = (
                    "NA" if is_missing(est) else f"{100 * est:.1f}% ({100 * (r['lower'] or 0):.1f}%–"
                    f"{100 * (r['upper'] or 0):.1f}%)" if not is_missing(r.get("lower")) else f"{100 * est:.1f}%")
            if test is not None:
                row["p"] = format_p(test["p"])
            rows.append(row)
    what = "log-rank" if rec["endpoint"] not in ("cir", "nrm") else "Gray's test"
    note = (f"The same patients with endpoints derived under the plan's rules (primary) and under the changed "
            f"rule(s) ({', '.join(_RULES[k] for k in changed)}); p: {what} across groups under each rule.")
    return pd.DataFrame(rows), note


def subgroups_section(run: RunResult, plot: FigureOptions, figs: dict, add: Callable, out_tables: dict,
                      pct: int) -> Section | None:
    """The section, or ``None`` when the plan has neither subgroup forests nor sensitivity analyses."""
    res = run.results
    forests, sens = res.get("subgroups") or [], res.get("sensitivity") or []
    if not forests and not sens:
        return None
    tables, figures, paragraphs = [], [], []
    unit = run.record.conventions.time_unit
    for f in forests:
        table, frame = _forest_rows(f)
        factor = label("column", f["factor"])
        population = "" if f["population"] == "all" else f", {label('population', f['population'])}"
        title = (f"{f['endpoint_name']}{population}: hazard ratio of {factor} {f['group']} vs {f['reference']} "
                 "by subgroup")
        ties = label("ties", f["ties"])
        note = (f"Cox model within each subgroup ({ties} ties), Wald {pct}% CI and p. Interaction p: "
                f"likelihood-ratio test of {factor} x subgroup in a Cox model with both terms.")
        if f["n_missing_factor"]:
            note += f" {f['n_missing_factor']} patient(s) without a value of {factor} are left out."
        tables.append(TableBlock(table, title, note=note))
        out_tables[f"subgroups_{f['name']}"] = table
        if plot.forest:
            fig = F.forest_figure(frame, xlabel=f"Hazard ratio, {f['group']} vs {f['reference']} ({pct}% CI, log "
                                  "scale)", header=f"HR ({pct}% CI)", options=plot)
            figures.append(add(figs, f"forest_subgroups_{f['name']}", fig, f"{title} (forest plot)."))
    for s in sens:
        table, note = _sensitivity_table(s, unit, pct)
        population = "" if s["population"] == "all" else f", {label('population', s['population'])}"
        by = f" by {label('column', s['by'])}" if s.get("by") else ""
        tables.append(TableBlock(table, f"Sensitivity analysis {s['sensitivity']}: {s['name']}{population}{by}",
                                 note=note))
        out_tables[f"sensitivity_{s['sensitivity']}_{s['endpoint']}"] = table
    if forests:
        paragraphs.append("Subgroup analyses are exploratory: read the interaction p-value, not whether a "
                          "subgroup's own p-value is below 0.05.")
    return Section("subgroups", "Subgroups and sensitivity analyses", paragraphs=paragraphs, figures=figures,
                   tables=tables)
