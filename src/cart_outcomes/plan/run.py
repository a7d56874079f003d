"""Run an analysis plan: read and validate the cohort, derive endpoints, compute, and write the outputs.

``run_plan("study.yaml", out="results/")`` writes ``results.json`` (every number with its definition, n, events,
CI, test name, and the warnings/exclusions), one CSV per table, and the report. The same plan on the same data
gives byte-identical ``results.json``: it holds no clock time and no absolute paths.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cart_outcomes._version import __version__
from cart_outcomes.errors import InputError
from cart_outcomes.plan.model import Plan, load_plan

RESULTS_SCHEMA_VERSION = 2

Progress = Callable[[str], None]

#: The steps a run announces to ``progress``, in order.
STEPS = ("reading and validating the cohort", "deriving endpoints", "response", "follow-up", "survival",
         "comparisons", "toxicity", "kinetics and labs", "writing outputs")


@dataclass(frozen=True)
class RunResult:
    """What a run produced: the ``results`` document, its tidy ``tables``, and where they were written."""

    results: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    plan: Plan
    out_dir: Path | None = None
    files: list[Path] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_json(self) -> str:
        return results_json(self.results)


def results_json(results: dict[str, Any]) -> str:
    """Deterministic JSON text: fixed key order as built, NaN never written (``None`` instead)."""
    return json.dumps(results, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _software() -> dict[str, str]:
    from importlib.metadata import version

    libraries = ("numpy", "scipy", "pandas", "matplotlib")
    return {"cart_outcomes": __version__, **{name: version(name) for name in libraries}}


def check_plan_columns(plan: Plan, provided: tuple[str, ...]) -> None:
    """Fail before any computation when the plan names a column the cohort does not have."""
    missing = []
    for a in plan.effective_analyses():
        if a.by and a.by not in provided:
            missing.append(f"analyses ({a.endpoint}): by={a.by!r}")
    for c in plan.comparisons:
        for col, what in [(c.by, "by"), (c.exposure, "exposure"), *[(k, "exposure_filter") for k in c.exposure_filter]]:
            if col and col not in provided:
                missing.append(f"comparisons ({c.name}): {what}={col!r}")
    if missing:
        have = ", ".join(provided)
        raise InputError("the plan refers to columns the cohort does not have:\n  " + "\n  ".join(missing)
                         + f"\n(columns present: {have})")


def run_plan(
    plan: str | Path | Plan,
    out: str | Path | None = None,
    *,
    base_dir: str | Path | None = None,
    deidentify: bool | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Run an analysis plan end to end (the Python form of ``cart-outcomes run``).

    Parameters
    ----------
    plan : path to ``study.yaml`` or a :class:`~cart_outcomes.plan.model.Plan`.
    out : folder for ``results.json``, ``tables/*.csv`` and the report (``None``: compute only).
    base_dir : folder that a relative ``data.source`` is resolved against (default: the plan's folder).
    deidentify : replace patient ids by study codes and drop calendar dates in every output (default: the plan's
        ``report.deidentify``).
    progress : called with a short message as each step starts (the CLI shows them).

    Raises
    ------
    ValidationFailed : the cohort has errors (nothing is analysed); ``.problems`` lists all of them.
    InputError : the plan is malformed or names columns the cohort does not have.
    """
    from cart_outcomes.cohort import read_cohort
    from cart_outcomes.endpoints.derivation import apply_derivation_rules
    from cart_outcomes.plan import analyses

    step = progress or (lambda _msg: None)
    if not isinstance(plan, Plan):
        base_dir = Path(plan).parent if base_dir is None else Path(base_dir)
        plan = load_plan(plan)
    base = Path(base_dir or ".")
    deid = plan.report.deidentify if deidentify is None else deidentify

    step("reading and validating the cohort")
    source = Path(plan.data.source)
    cohort = read_cohort(source if source.is_absolute() else base / source, plan.data).require_valid()
    patients = cohort.patients
    check_plan_columns(plan, cohort.provided["patients"])

    step("deriving endpoints")
    derived = apply_derivation_rules(patients, response_day=plan.endpoints.response_day)
    frame = analyses.derive_endpoints(derived.patients, plan)
    tables: dict[str, pd.DataFrame] = {"endpoints": _endpoint_table(frame)}

    log = analyses.QualityLog(warnings=[p.to_dict() for p in cohort.report.warnings]
                              + [rule.to_dict() for rule in derived.rules])
    step("response")
    response, t = analyses.response_section(frame, plan, log)
    tables.update(t)
    step("follow-up")
    followup, t = analyses.followup_section(frame, plan)
    tables.update(t)
    step("survival")
    fits: dict[str, Any] = {}
    naive_fits: dict[tuple[str, str], Any] = {}
    survival, t = analyses.survival_section(frame, plan, fits)
    tables.update(t)
    step("comparisons")
    comparisons, t, curves = analyses.comparison_section(frame, plan, naive_fits)
    tables.update(t)
    step("toxicity")
    toxicity, tox_frames = analyses.toxicity_section(dict(cohort.tables), patients, plan, log)
    tables.update(tox_frames)
    step("kinetics and labs")
    kinetics, t, nca = analyses.kinetics_section(dict(cohort.tables), frame, tox_frames, plan, log)
    tables.update(t)
    labs, t = analyses.labs_section(dict(cohort.tables), frame, plan)
    tables.update(t)

    results: dict[str, Any] = {
        "schema_version": RESULTS_SCHEMA_VERSION,
        "title": plan.title,
        "software": _software(),
        "input": {"source": Path(cohort.source).name, "sha256": dict(cohort.sha256),
                  "n_patients": int(len(patients))},
        "plan": plan.model_dump(mode="json"),
        "conventions": _conventions(plan),
        "data_quality": {"warnings": log.warnings, "n_warnings": len(log.warnings), "exclusions": log.exclusions},
        "cohort": analyses.cohort_section(patients),
        "response": response,
        "followup": followup,
        "survival": survival,
        "comparisons": comparisons,
        "toxicity": toxicity,
        "kinetics": kinetics,
        "labs": labs,
    }
    result = RunResult(results=results, tables=tables, plan=plan,
                       extras={"frame": frame, "curves": curves, "cohort": cohort, "fits": fits,
                               "naive_fits": naive_fits, "nca": nca})
    if deid:
        from cart_outcomes.report.build import deidentify_run

        result = deidentify_run(result)
    if out is None:
        return result
    step("writing outputs")
    return _write(result, Path(out), deid)


def _endpoint_table(frame: pd.DataFrame) -> pd.DataFrame:
    keep = ["patient_id"] + [c for c in frame.columns if c.endswith(("_time_days", "_event", "_status", "_source"))]
    return frame[keep]


def _conventions(plan: Plan) -> dict[str, Any]:
    s, e = plan.statistics, plan.endpoints
    return {
        "time_zero": "CAR-T infusion (day 0)",
        "time_unit": "days",
        "months_per_day": "1 month = 30.4375 days",
        "conf_type": s.conf_type if s.profile is None else f"profile {s.profile}",
        "conf_level": s.conf_level,
        "median_rule": "R quantile.survfit: midpoint of a flat stretch at S = 0.5, tolerance sqrt(machine eps)",
        "cox_ties": s.ties,
        "hsct": e.hsct,
        "new_therapy": e.new_therapy,
        "nonresponder_event": e.nonresponder_event,
        "responses_counted": list(e.responses),
        "response_day": e.response_day,
    }


#: Longest file stem written for a table or figure (names come from the plan: comparison names, ``by`` columns).
MAX_STEM = 80
_UNSAFE_STEM = re.compile(r"[^A-Za-z0-9_.-]+")


def safe_stem(name: str) -> str:
    """A file stem from a name the plan chose, safe on every file system and never a path.

    Characters other than ASCII letters, digits, ``_``, ``.`` and ``-`` become ``_``; leading dots and dashes are
    dropped (no ``..``, no hidden files, no option-like names); a name that had to change, or is longer than
    :data:`MAX_STEM`, gets the first 8 hex digits of its SHA-256 appended so distinct names stay distinct.
    """
    stem = _UNSAFE_STEM.sub("_", name).lstrip(".-") or "_"
    if stem == name and len(stem) <= MAX_STEM:
        return stem
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{stem[:MAX_STEM - 9]}-{digest}"


def _inside(out: Path, folder: str, stem: str, suffix: str) -> Path:
    """``out/folder/<safe stem>.<suffix>``, checked to resolve inside ``out``."""
    path = out / folder / f"{safe_stem(stem)}.{suffix}"
    if not path.resolve().is_relative_to(out.resolve()):
        raise InputError(f"refusing to write {path}: outside the output folder {out}")
    return path


def _write(result: RunResult, out: Path, deidentify: bool) -> RunResult:
    """Write results.json, tables/*.csv and, as the plan asks, report.html, figures/, tables.xlsx and tables.docx.

    ``deidentify`` de-identifies the run first (a no-op when run_plan already did), so no output carries an original
    patient id or a calendar date.
    """
    from cart_outcomes.report._stamp import generation_time
    from cart_outcomes.report.build import deidentify_run, report_outputs
    from cart_outcomes.report.html import format_generation_time
    from cart_outcomes.report.tables import write_csv

    if deidentify:
        result = deidentify_run(result)
    out.mkdir(parents=True, exist_ok=True)
    (out / "tables").mkdir(exist_ok=True)
    files = []
    path = out / "results.json"
    path.write_text(result.to_json(), encoding="utf-8")
    files.append(path)
    for name, table in result.tables.items():
        p = _inside(out, "tables", name, "csv")
        write_csv(table, p)
        files.append(p)
    when = generation_time(result.plan.report.date)  # stated once: the plan, else SOURCE_DATE_EPOCH, else none
    files += _write_report(result, out, report_outputs(result, date=format_generation_time(when)))
    return RunResult(results=result.results, tables=result.tables, plan=result.plan, out_dir=out, files=files,
                     extras=result.extras)


def _write_report(result: RunResult, out: Path, outputs: Any) -> list[Path]:
    from cart_outcomes.report._stamp import document_time
    from cart_outcomes.report.docx import write_docx
    from cart_outcomes.report.figures import save_figure
    from cart_outcomes.report.html import render_html
    from cart_outcomes.report.tables import write_xlsx

    plan, files = result.plan, []
    stamp = document_time(plan.report.date)
    if plan.report.html:
        path = out / "report.html"
        path.write_text(render_html(outputs.document), encoding="utf-8")
        files.append(path)
    if outputs.figures:
        (out / "figures").mkdir(exist_ok=True)
    for name, (fig, block) in outputs.figures.items():
        for fmt in plan.figures.formats:
            path = _inside(out, "figures", name, fmt)
            if fmt == "svg":  # the SVG already inlined in the HTML
                path.write_text(block.svg + "\n", encoding="utf-8")
                files.append(path)
            else:
                files.append(save_figure(fig, path))
    blocks = {t.caption: t for s in outputs.document.sections for t in s.tables}
    if plan.report.xlsx:
        files.append(write_xlsx({**outputs.tables, **result.tables}, out / "tables.xlsx", timestamp=stamp))
    if plan.report.docx and blocks:
        files.append(write_docx({c: b.frame for c, b in blocks.items()}, out / "tables.docx", title=plan.title,
                                notes={c: b.note for c, b in blocks.items() if b.note}, timestamp=stamp))
    return files
