"""Multi-arm comparison tables (hazard ratios against a reference, pairwise tests, trend) from an ``arms`` record;
formatting only, every number comes from results.json."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from cart_outcomes.report._format import format_p, is_missing

__all__ = ["ADJUSTMENT_NAMES", "arms_tables", "hr_text"]

ADJUSTMENT_NAMES = {"holm": "Holm", "bonferroni": "Bonferroni", "none": "no adjustment"}
_HR_METHODS = {"cox": "Cox", "mantel_haenszel": "Mantel-Haenszel", "logrank_oe_ratio": "log-rank O/E"}


def hr_text(hr: Any, lower: Any, upper: Any) -> str:
    """``0.69 (0.42–1.16)``; ``NA`` when not estimable."""
    if is_missing(hr):
        return "NA"
    lo = "NA" if is_missing(lower) else f"{float(lower):.2f}"
    hi = "NA" if is_missing(upper) else f"{float(upper):.2f}"
    return f"{float(hr):.2f} ({lo}–{hi})"


def arms_tables(arms: Mapping[str, Any] | None, title: str,
                conf_pct: int) -> list[tuple[str, pd.DataFrame, str, str]]:
    """``(kind, table, caption, note)`` for the hazard ratios against the reference (kind ``hazard_ratios``), the
    pairwise tests (``pairwise``) and the trend test (``trend``) of one analysis; nothing without a record."""
    if not arms:
        return []
    out = []
    by, ref = arms["by"], arms["reference"]
    rows: dict[str, dict[str, Any]] = {}
    for r in arms["hazard_ratios"]:
        row = rows.setdefault(r["group"], {"Group": r["group"], "N": r["n"], "Events": r["events"]})
        if r["method"] in ("cox", "mantel_haenszel"):
            name = _HR_METHODS[r["method"]]
            row[f"HR, {name} ({conf_pct}% CI)"] = hr_text(r["hazard_ratio"], r["lower"], r["upper"])
            row[f"p ({'Wald' if r['method'] == 'cox' else 'log-rank of the pair'})"] = format_p(r["p"])
    if rows:
        table = pd.DataFrame(list(rows.values()))
        note = (f"Reference: {by} = {ref}. Cox: proportional-hazards model with {by} as a factor, Wald CI and p. "
                "Mantel-Haenszel: exp((O−E)/V) from the log-rank test of the group and the reference only (as "
                "GraphPad Prism); not a Cox estimate.")
        if arms["n_missing_group"]:
            note += f" {arms['n_missing_group']} patient(s) without a value of {by} are left out."
        if arms.get("notes"):
            note += " " + " ".join(arms["notes"])
        out.append(("hazard_ratios", table, f"{title}: hazard ratios against {by} = {ref}", note))
    pw = arms.get("pairwise")
    if pw:
        table = pd.DataFrame([{"Comparison": f"{r['group1']} vs {r['group2']}", "N": r["n"],
                               "Chi-square": f"{r['statistic']:.2f}" if not is_missing(r["statistic"]) else "NA",
                               "p": format_p(r["p"]), f"p ({ADJUSTMENT_NAMES[pw['adjust']]})": format_p(
                                   r["p_adjusted"])} for r in pw["rows"]])
        test = "Gray's test" if "Gray" in pw["method"] else "log-rank test"
        out.append(("pairwise", table, f"{title}: pairwise {test}s ({ADJUSTMENT_NAMES[pw['adjust']]})",
                    f"Each pair tested on its own patients; p-values adjusted over the {len(pw['rows'])} pairs "
                    f"({ADJUSTMENT_NAMES[pw['adjust']]}, R p.adjust)."))
    tr = arms.get("trend")
    if tr:
        scores = ", ".join(f"{g} = {s:g}" for g, s in tr["scores"].items())
        table = pd.DataFrame([{"Test": "Log-rank test for trend", "Chi-square (1 df)": f"{tr['statistic']:.2f}",
                               "p": format_p(tr["p"])}])
        out.append(("trend", table, f"{title}: log-rank test for trend", f"Scores: {scores}."))
    return out
