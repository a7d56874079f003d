"""Run an analysis plan: read and validate the cohort, derive endpoints, compute, and write the outputs.

``run_plan("study.yaml", out="results/")`` writes ``results.json`` (every number with its definition, n, events,
CI, test name, and the warnings/exclusions), one CSV per table, and the report. The same plan on the same data
gives byte-identical ``results.json``: it holds no clock time and no absolute paths.

The plan orchestrates: each section module (``cohort``, ``response``, ``survival``, ``comparisons``, ``safety``,
``kinetics``) returns its records, tidy tables and fits; this module assembles them into a
:class:`~cart_outcomes.results.run.RunResult` and hands it, with the report options, to the report's writer.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cart_outcomes._version import __version__
from cart_outcomes.errors import InputError
from cart_outcomes.plan import _common, extract
from cart_outcomes.plan.model import Plan, load_plan
from cart_outcomes.results.records import SCHEMA_VERSION, Conventions, Results
from cart_outcomes.results.run import Fits, RunResult
from cart_outcomes.units import DAYS_PER_MONTH

__all__ = ["STEPS", "RunResult", "check_plan_columns", "conventions", "report_options", "run_plan"]

Progress = Callable[[str], None]

#: The steps a run announces to ``progress``, in order.
STEPS = ("reading and validating the cohort", "deriving endpoints", "response", "follow-up", "survival",
         "comparisons", "regression", "toxicity", "kinetics and labs", "writing outputs")


def _software() -> dict[str, str]:
    from importlib.metadata import version

    libraries = ("numpy", "scipy", "pandas", "matplotlib")
    return {"cart_outcomes": __version__, **{name: version(name) for name in libraries}}


def check_plan_columns(plan: Plan, provided: tuple[str, ...]) -> None:
    """Fail before any computation when the plan names a column the cohort does not have."""
    provided = (*provided, *(c[:-5] + "_day" for c in provided if c.endswith("_date")))  # days computed from dates
    missing = []
    column = _common.response_column(plan)
    if column not in provided and _common.response_asked(plan):
        missing.append(f"endpoints: response_day={plan.endpoints.response_day} needs the column {column!r}")
    for a in plan.effective_analyses():
        if a.by and a.by not in provided:
            missing.append(f"analyses ({a.endpoint}): by={a.by!r}")
    for c in plan.comparisons:
        for col, what in [(c.by, "by"), (c.exposure, "exposure"), *[(k, "exposure_filter") for k in c.exposure_filter]]:
            if col and col not in provided:
                missing.append(f"comparisons ({c.name}): {what}={col!r}")
    for r in plan.regression:
        for col in [*r.covariates, *r.strata]:
            if col not in provided:
                missing.append(f"regression ({r.endpoint}): {col!r}")
    for a in plan.rmst:
        if a.by not in provided:
            missing.append(f"rmst ({a.endpoint}): by={a.by!r}")
    if missing:
        have = ", ".join(provided)
        raise InputError("the plan refers to columns the cohort does not have:\n  " + "\n  ".join(missing)
                         + f"\n(columns present: {have})")


def conventions(plan: Plan) -> Conventions:
    """Every option of the plan that changes a number or a word, as the results record it."""
    s, e = plan.statistics, plan.endpoints
    from cart_outcomes.cohort.schema import CR_RESPONSES

    return Conventions(
        time_zero="CAR-T infusion (day 0)", time_unit=s.time_unit, days_per_month=DAYS_PER_MONTH,
        conf_level=s.conf_level, conf_type=_common.conf_type(plan), cif_conf_type=_common.conf_type(plan),
        profile=s.profile, median_rule="r", followup_method="reverse_km", binomial_ci="clopper-pearson",
        cox_ties=s.ties, cox_ci="wald", hsct=e.hsct, new_therapy=e.new_therapy,
        nonresponder_event=e.nonresponder_event, responses_counted=list(e.responses),
        complete_responses=[r for r in e.responses if r in CR_RESPONSES], response_day=e.response_day,
        response_column=_common.response_column(plan), response_denominator=e.response_denominator,
        toxicity_criteria=plan.toxicity.criteria,
    )


def report_options(plan: Plan) -> Any:
    """The report's own options (documents and figures to write), taken from the plan's ``report``/``figures``."""
    from cart_outcomes.report.options import FigureOptions, ReportOptions

    r = plan.report
    return ReportOptions(html=r.html, docx=r.docx, xlsx=r.xlsx, date=r.date,
                         figures=FigureOptions(**plan.figures.model_dump()))


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
    from cart_outcomes.plan import cohort as cohort_part
    from cart_outcomes.plan import comparisons, kinetics, regression, response, rmst, safety, survival
    from cart_outcomes.results.subjects import endpoint_sources, subject_table

    step = progress or (lambda _msg: None)
    if not isinstance(plan, Plan):
        base_dir = Path(plan).parent if base_dir is None else Path(base_dir)
        plan = load_plan(plan)
    base = Path(base_dir or ".")
    deid = plan.report.deidentify if deidentify is None else deidentify
    where = Path(plan.data.source) if Path(plan.data.source).is_absolute() else base / plan.data.source
    engine = extract.engine_for(str(where), plan.data.engine)
    if engine is not None:  # an extract of derived endpoints: survival from its event counts
        return _finish(_extract_run(plan, str(where), engine, step), out, plan, deid, step)
    if plan.report.adam and out is not None:
        from cart_outcomes.export import require_writers

        require_writers()  # a missing extra (pyreadstat, pyarrow) is said before anything is computed or written

    step("reading and validating the cohort")
    source = Path(plan.data.source)
    cohort = read_cohort(source if source.is_absolute() else base / source, plan.data).require_valid()
    patients = cohort.patients
    from cart_outcomes.cohort.schema import PATIENTS

    # canonical columns with values, and the sheet's own columns (kept unchecked, e.g. a day-90 response)
    extra = tuple(c for c in patients.columns if c not in PATIENTS.names)
    provided = tuple(cohort.provided["patients"]) + extra
    check_plan_columns(plan, provided)
    data = dict(cohort.tables)

    step("deriving endpoints")
    derived = apply_derivation_rules(patients, response_day=plan.endpoints.response_day)
    log = _common.QualityLog(warnings=[p.to_dict() for p in cohort.report.warnings]
                             + [rule.to_dict() for rule in derived.rules])
    frame = cohort_part.derive_endpoints(derived.patients, plan, log)
    if _common.response_column(plan) not in provided:  # not recorded: its analyses are skipped, with a reason
        frame = frame.drop(columns=_common.response_column(plan))
    step("response")
    resp = response.response_section(frame, plan, log)
    step("follow-up")
    followup = survival.followup_section(frame, plan)
    step("survival")
    surv = survival.survival_section(frame, plan, log)
    step("comparisons")
    comp = comparisons.comparison_section(frame, plan)
    step("regression")
    reg = regression.regression_section(frame, plan, log)
    rm = rmst.rmst_section(frame, plan, log)
    step("toxicity")
    tox = safety.safety_section(data, patients, plan, log)
    step("kinetics and labs")
    kin = kinetics.kinetics_section(data, frame, tox.tables.get("toxicity_max_grades"), plan, log)
    labs = kinetics.labs_section(data, frame, plan)

    tables = {"endpoints": cohort_part.endpoint_table(frame), "table1": cohort_part.table1(patients),
              "subjects": subject_table(frame, response_column=_common.response_column(plan)),
              "endpoint_sources": endpoint_sources(frame)}
    for part in (resp, followup, surv, comp, reg, rm, tox, kin, labs):
        tables.update(part.tables)
    optional = {k: part.record for k, part in (("regression", reg), ("rmst", rm)) if part.record}
    record = Results(
        schema_version=SCHEMA_VERSION,
        title=plan.title,
        software=_software(),
        input={"source": Path(cohort.source).name, "source_path": Path(os.path.normpath(source)).as_posix(),
               "sha256": dict(cohort.sha256), "n_patients": int(len(patients))},
        plan=plan.model_dump(mode="json"),
        conventions=conventions(plan),
        data_quality={"warnings": log.warnings, "n_warnings": len(log.warnings), "exclusions": log.exclusions,
                      "assumptions": [a.to_dict() for a in cohort.assumptions]},
        cohort=cohort_part.cohort_section(patients),
        response=resp.record,
        followup=followup.record,
        survival=surv.record,
        comparisons=comp.record,
        **optional,
        toxicity=tox.record,
        kinetics=kin.record,
        labs=labs.record,
    )
    result = RunResult(record=record, tables=tables, patients=frame,
                       fits=Fits(survival=surv.fits, naive=comp.fits["naive"], simon_makuch=comp.fits["simon_makuch"]))
    return _finish(result, out, plan, deid, step)


def _finish(result: RunResult, out: str | Path | None, plan: Plan, deid: bool, step: Progress) -> RunResult:
    """De-identify if asked, then write the outputs to ``out`` (``None``: return the result only)."""
    from cart_outcomes.results.deidentify import deidentify_run

    if deid:
        result = deidentify_run(result)
    if out is None:
        return result
    step("writing outputs")
    from cart_outcomes.report.write import write_outputs

    result = write_outputs(result, Path(out), report_options(plan))
    if plan.report.adam:
        from cart_outcomes.export import write_adam

        result = dataclasses.replace(result, files=[*result.files, *write_adam(Path(out), Path(out) / "adam")])
    return result


def _extract_run(plan: Plan, where: str, engine: str, step: Progress) -> RunResult:
    """A run on an extract of derived endpoints (:mod:`cart_outcomes.plan.extract`): the survival section from its
    event counts; the sections that need cohort tables are empty and say so."""
    problems = extract.refusals(plan)
    if problems:
        raise InputError(f"data.source {plan.data.source!r} is an extract of derived endpoints (data.engine: "
                         f"{engine}); survival analyses run on it, but the plan asks for what needs the cohort, one "
                         "row per patient:\n  " + "\n  ".join(problems))
    log = _common.QualityLog()
    step(extract.ENGINE_STEPS[0])
    surv, n_rows = extract.survival_from_extract(plan, where, engine, log, step)
    source_path = Path(os.path.normpath(plan.data.source)).as_posix()
    as_run = plan.model_copy(update={"data": plan.data.model_copy(update={"engine": engine})})
    record = Results(
        schema_version=SCHEMA_VERSION,
        title=plan.title,
        software={**_software(), **extract.engine_software(engine)},
        input={"source": Path(plan.data.source).name, "source_path": source_path,
               "sha256": extract.sha256_of(where), "n_patients": n_rows},
        plan=as_run.model_dump(mode="json"),
        conventions=conventions(plan),
        data_quality={"warnings": log.warnings, "n_warnings": len(log.warnings), "exclusions": log.exclusions},
        cohort={"n": n_rows},
        response=[],
        followup={},
        survival=surv.record,
        comparisons=[],
        toxicity={},
        kinetics={"available": False},
        labs={"available": False},
    )
    import pandas as pd

    return RunResult(record=record, tables=surv.tables, patients=pd.DataFrame({"patient_id": []}, dtype=str),
                     fits=Fits(survival=surv.fits))
