"""The ``cart-outcomes`` command line: thin wrappers around the Python API.

Heavy modules (pandas, numpy, matplotlib) are imported inside the commands so that ``--help`` stays fast.
Exit codes: 0 success, 1 data problems, 2 usage problems.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from cart_outcomes._version import __version__

app = typer.Typer(
    name="cart-outcomes",
    help="Validated, reproducible outcomes analysis for CAR-T cell therapy cohorts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_OK, EXIT_DATA, EXIT_USAGE = 0, 1, 2


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"cart-outcomes {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True,
                                 help="Show the version and exit."),
) -> None:
    """Validated, reproducible outcomes analysis for CAR-T cell therapy cohorts."""
    import os

    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None and epoch.strip() and not epoch.strip().isdigit():  # numpy itself would fail on it
        _fail_usage(f"SOURCE_DATE_EPOCH must be a whole number of seconds since 1970-01-01, got {epoch!r}")


_GRADE_SHEETS = {"crs": "crs_observations", "icans": "neuro_assessments", "icaht": "labs"}


@app.command()
def grade(
    kind: str = typer.Argument(..., metavar="crs|icans|icaht", help="What to grade."),
    file: str = typer.Argument(..., metavar="FILE",
                               help="CSV of the long table, or an xlsx workbook with a sheet named crs_observations, "
                                    "neuro_assessments or labs."),
    output_format: str = typer.Option("text", "--format", help="text (a table per patient) or json."),
) -> None:
    """Grade CRS (ASTCT 2019), ICANS (ASTCT 2019) or ICAHT (EHA/EBMT 2023) per patient from a file."""
    if kind not in _GRADE_SHEETS:
        typer.echo(f"Error: unknown kind {kind!r}; choose one of crs, icans, icaht", err=True)
        raise typer.Exit(EXIT_USAGE)
    if output_format not in ("text", "json"):
        typer.echo(f"Error: --format {output_format!r}; choose text or json", err=True)
        raise typer.Exit(EXIT_USAGE)
    import json
    import warnings

    import pandas as pd

    from cart_outcomes.errors import CartOutcomesError
    from cart_outcomes.toxicity import grade_crs, grade_icaht, grade_icans

    sheet = _GRADE_SHEETS[kind]
    data = _read_long_table(file, sheet)
    grader = {"crs": grade_crs, "icans": grade_icans, "icaht": grade_icaht}[kind]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = grader(data)
    except CartOutcomesError as exc:
        _exit_with_data_problems(exc, output_format, f"{file} (sheet/table {sheet})", "graded")
    table = result.table
    if output_format == "json":
        payload = {"ok": True, "kind": kind, "system": result.system, "criteria": result.criteria,
                   "options": dict(result.options), "patients": json.loads(table.to_json(orient="records")),
                   "problems": [_problem_dict(p) for p in result.problems],
                   "excluded": json.loads(result.excluded.to_json(orient="records"))}
        typer.echo(json.dumps(payload, indent=2, default=str))
        raise typer.Exit(EXIT_OK)
    from rich.console import Console
    from rich.table import Table

    console = Console()
    rt = Table(title=f"{kind.upper()} grades per patient ({result.system})")
    for col in table.columns:
        rt.add_column(str(col), overflow="fold")
    for row in table.itertuples(index=False):
        rt.add_row(*["" if pd.isna(v) else _markup(v) for v in row])
    console.print(rt)
    console.print(f"criteria: {result.criteria.get('citation', '')}", markup=False)
    for p in result.problems:
        console.print(_shown(f"warning: {p}"), markup=False)
    if len(result.excluded):
        for row in result.excluded.itertuples(index=False):
            console.print(_shown(f"not graded: patient {row.patient_id}: {row.reason}"), markup=False)


#: Columns of the per-patient kinetics table shown in the terminal, with short headers (the JSON and CSV carry every
#: column under its own name), and short forms of the long vocabulary values.
_KINETICS_SHOWN = {"patient_id": "patient", "matrix": "matrix", "assay": "assay", "unit": "unit", "n_samples": "n",
                   "cmax": "Cmax", "tmax_days": "Tmax", "auc": "AUC", "auc_end": "AUC end", "clast": "Clast",
                   "tlast_days": "Tlast", "loss_day": "lost"}
_KINETICS_SHORT = {"peripheral_blood": "blood", "bone_marrow": "marrow", "csf": "CSF", "copies_per_ug_dna": "copies/ug",
                   "cells_per_ul": "cells/uL", "percent_of_cd3": "% CD3", "zero_after_blq": "0 after BLQ",
                   "last_sample": "last sample"}


@app.command()
def kinetics(
    file: str = typer.Argument(..., metavar="FILE",
                               help="CSV of the kinetics long table, an xlsx workbook with a 'kinetics' sheet, or a "
                                    "whole cohort (workbook or folder)."),
    window: tuple[float, float] = typer.Option((0.0, 28.0), "--window", help="AUC window, days: START END."),
    auc_method: str = typer.Option("linear", "--auc-method", help="linear or linear-up/log-down."),
    blq: str = typer.Option("zero-then-stop", "--blq", help="zero-then-stop, zero or drop."),
    half_life: bool = typer.Option(False, "--half-life", help="Also estimate the terminal half-life."),
    output_format: str = typer.Option("text", "--format", help="text (a table), csv or json."),
) -> None:
    """Non-compartmental CAR-T kinetics per patient and series: Cmax, Tmax, AUC, Clast, time to loss."""
    if output_format not in ("text", "csv", "json"):
        _fail_usage(f"--format {output_format!r}; choose text, csv or json")
    import json
    import sys

    import pandas as pd

    from cart_outcomes.errors import CartOutcomesError
    from cart_outcomes.kinetics import noncompartmental
    from cart_outcomes.kinetics.nca import AUC_METHODS, BLQ_RULES

    for name, value, allowed in (("--auc-method", auc_method, AUC_METHODS), ("--blq", blq, BLQ_RULES)):
        if value not in allowed:
            _fail_usage(f"{name} {value!r}; choose one of {', '.join(allowed)}")
    data = _read_long_table(file, "kinetics")
    try:
        result = noncompartmental(data, window=window, auc_method=auc_method, blq=blq, half_life=half_life)
    except CartOutcomesError as exc:
        _exit_with_data_problems(exc, output_format, file, "computed")
    table = result.table
    if output_format == "json":
        payload = {"ok": True, "options": dict(result.options), "series": json.loads(table.to_json(orient="records")),
                   "persistence": json.loads(result.persistence.to_json(orient="records"))}
        typer.echo(json.dumps(payload, indent=2, default=str))
        return
    if output_format == "csv":
        from cart_outcomes.report.tables import neutralise_cell

        table.map(neutralise_cell).to_csv(sys.stdout, index=False, lineterminator="\n")
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    rt = Table(title=f"CAR-T kinetics per patient (AUC day {window[0]:g}-{window[1]:g}, {auc_method}, BLQ: {blq})")
    for col, header in _KINETICS_SHOWN.items():
        rt.add_column(header, overflow="fold", justify="right" if pd.api.types.is_numeric_dtype(table[col]) else "left")
    for row in table[list(_KINETICS_SHOWN)].itertuples(index=False):
        rt.add_row(*["" if pd.isna(v) else f"{v:,.0f}" if isinstance(v, float) and abs(v) >= 100
                     else f"{v:g}" if isinstance(v, float) else _markup(_KINETICS_SHORT.get(str(v), str(v)))
                     for v in row])
    console.print(rt)
    console.print("AUC end: observed or interpolated = the window is covered; last sample = the AUC stops at the last "
                  "sample (never extrapolated); 0 after BLQ = the level is 0 after the first BLQ sample. lost = first "
                  "of >= 2 consecutive BLQ samples. --format csv or json gives every column.", markup=False)


def _read_long_table(file: str, sheet: str):
    """A long table from a CSV, a workbook's sheet of that name, or a whole cohort (a workbook with a patients sheet,
    or a folder of <table>.csv), read and validated like ``validate`` does (dates become days). Exits 2 when the
    file does not exist, 1 when it cannot be read or lacks the sheet."""
    import pandas as pd

    path = Path(file)
    if not path.exists():
        typer.echo(_shown(f"Error: file {file!r} does not exist"), err=True)
        raise typer.Exit(EXIT_USAGE)
    try:
        if path.is_dir():
            from cart_outcomes.cohort.io import read_cohort

            return read_cohort(path)
        if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
            # explicit engine: pandas 3 warns that its default xlsx reader will change (warnings are errors in tests)
            engine = None if path.suffix.lower() == ".xls" else "openpyxl"
            with pd.ExcelFile(path, engine=engine) as book:
                sheets = book.sheet_names
                if sheet not in sheets:
                    typer.echo(_shown(f"Error: {file}: no sheet named {sheet!r} (sheets: {', '.join(sheets)})"),
                               err=True)
                    raise typer.Exit(EXIT_DATA)
                data = None if "patients" in sheets else pd.read_excel(book, sheet_name=sheet)
            if data is None:  # a whole cohort workbook
                from cart_outcomes.cohort.io import read_cohort

                data = read_cohort(path)
            return data
        return pd.read_csv(path)
    except typer.Exit:
        raise
    except Exception as exc:  # any reader failure is a data problem, reported without a traceback
        typer.echo(_shown(f"Error: cannot read {file}: {exc}"), err=True)
        raise typer.Exit(EXIT_DATA) from None


def _exit_with_data_problems(exc: Exception, output_format: str, where: str, verb: str) -> NoReturn:
    """Exit 1 on a data problem: every located problem of a ``ValidationFailed`` (as JSON with ``--format json``),
    or the message of any other cart-outcomes error."""
    import json

    from cart_outcomes.errors import ValidationFailed

    if not isinstance(exc, ValidationFailed):
        typer.echo(_shown(f"Error: {exc}"), err=True)
        raise typer.Exit(EXIT_DATA) from None
    if output_format == "json":
        typer.echo(json.dumps({"ok": False, "problems": [_problem_dict(p) for p in exc.problems]}, indent=2,
                              default=str))
    else:
        errors = [p for p in exc.problems if p.severity == "error"]
        typer.echo(_shown(f"{where}: {len(errors)} problem(s); nothing was {verb}"), err=True)
        if exc.summary is not None:
            _print_problems(exc.summary, stderr=True)
        else:
            typer.echo("\n".join(f"  {_shown(p)}" for p in exc.problems), err=True)
    raise typer.Exit(EXIT_DATA) from None


def _problem_dict(p: object) -> dict:
    return p.to_dict()


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


def _shown(value: object) -> str:
    """User text as the terminal must show it: control, invisible and direction-changing characters written
    ``<U+XXXX>`` (line feeds kept), so no cell can move the cursor, clear the screen or make a hyperlink."""
    from cart_outcomes._text import neutralise

    return neutralise(str(value), keep_newlines=True)


def _markup(value: object) -> str:
    """User text for a place rich reads as markup: :func:`_shown`, then ``[`` escaped (a cell ``[/x]`` is text)."""
    from rich.markup import escape

    return escape(_shown(value))


def _fail_usage(message: str) -> NoReturn:
    typer.echo(f"Error: {_shown(message)}", err=True)
    raise typer.Exit(EXIT_USAGE)


@app.command()
def validate(
    path: Annotated[Path | None, typer.Argument(help="Cohort file (.xlsx, .csv, .parquet) or folder of <table>.csv;"
                                                " defaults to data.source of the plan.")] = None,
    plan: Annotated[Path | None, typer.Option("--plan", help="study.yaml whose 'data' section maps the file.")] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="text (a table) or json.")] = OutputFormat.text,
) -> None:
    """Check a cohort and list every problem. Exit 0 if there are no errors, 1 if there are, 2 on usage problems."""
    from cart_outcomes.cohort.io import read_cohort
    from cart_outcomes.cohort.mapping import DataMapping, load_mapping_from_plan
    from cart_outcomes.errors import CartOutcomesError

    try:
        mapping = load_mapping_from_plan(plan) if plan is not None else DataMapping()
    except (CartOutcomesError, OSError) as exc:
        _fail_usage(str(exc))
    if path is None:
        if mapping.source is None:
            _fail_usage("give the cohort PATH (or a --plan whose data section has a 'source')")
        path = Path(mapping.source)
    try:
        cohort = read_cohort(path, mapping)
    except (CartOutcomesError, OSError) as exc:
        _fail_usage(str(exc))
    except Exception as exc:  # a bug, not the user's fault: still no traceback for a clinician
        _fail_usage(f"cart-outcomes failed while reading {path} ({type(exc).__name__}: {exc}); this is a bug in "
                    "cart-outcomes, please report it (without patient data)")
    report = cohort.report
    if output is OutputFormat.json:
        typer.echo(report.to_json())
    else:
        _print_report(cohort)
    raise typer.Exit(EXIT_OK if report.ok else EXIT_DATA)


#: Most problem groups ``validate`` shows as a table; beyond, one line each (rich lays out every row of a table
#: together: minutes for 100,000 rows).
TABLE_MAX_PROBLEMS = 500
#: Narrowest terminal that gets the problems as a table; narrower (or piped) output is one problem per line.
TABLE_MIN_WIDTH = 100


def _print_report(cohort) -> None:
    from rich.console import Console

    from cart_outcomes.cohort._grouping import group_problems

    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=160)
    report = cohort.report
    tables = ", ".join(f"{k} ({len(v)} rows)" for k, v in cohort.tables.items())
    console.print(f"[bold]{_markup(cohort.source)}[/bold]: {len(cohort.patients)} patient(s); tables: "
                  f"{_markup(tables)}")
    summary = group_problems(cohort) if report.problems else None
    if summary is not None:
        _print_problems(summary, stderr=False)
    verdict = "[green]valid[/green]" if report.ok else "[red]NOT valid: nothing will be analysed[/red]"
    causes = sum(g.severity == "error" for g in summary.groups) if summary is not None else 0
    said = f" ({causes} to fix)" if len(report.errors) > causes else ""
    console.print(f"{len(report.errors)} error(s){said}, {len(report.warnings)} warning(s): {verdict}")


def _print_problems(summary, *, stderr: bool) -> None:
    """Problems grouped by rule and column, one line per group with its fix, then the plan lines to paste.

    A wide terminal gets a table (one row per group, its rows and patients beside it); piped output or a terminal
    narrower than :data:`TABLE_MIN_WIDTH` gets one plain line per group (severity, rule, column, rows, patients,
    message: ``grep``/``cut`` friendly). Every single problem is in ``validate --format json``.
    """
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=stderr, highlight=False)
    groups = summary.groups
    if console.is_terminal and console.width >= TABLE_MIN_WIDTH and len(groups) <= TABLE_MAX_PROBLEMS:
        table = Table(header_style="bold")
        table.add_column("severity", no_wrap=True)
        table.add_column("rule", no_wrap=True)
        table.add_column("column", overflow="fold")
        table.add_column("where", overflow="fold", max_width=32)
        table.add_column("problem and fix", overflow="fold", ratio=1)
        for g in groups:
            style = "red" if g.severity == "error" else "yellow"
            column = g.column if g.table in (None, "patients") else f"{g.table}: {g.column or ''}"
            message = g.problems[0].message if len(g.problems) == 1 and g.rule != "UNKNOWN_COLUMN" else g.message
            table.add_row(f"[{style}]{g.severity}[/{style}]", g.rule, _markup(column or ""), _markup(g.where()),
                          _markup(message))
        console.print(table)
    else:
        typer.echo("\n".join(f"{g.severity}: {_shown(g)}" for g in groups), err=stderr)
    block = summary.suggestion.yaml_lines()
    if block:
        typer.echo("\n".join(["", "To fix these, merge under `data:` in study.yaml (into its `columns:`/`values:` if "
                              "it has them; check each line; fill in and uncomment the commented ones):",
                              *map(_shown, block)]), err=stderr)


@app.command()
def template(
    path: Annotated[Path, typer.Argument(help="Workbook to create (.xlsx).")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write an empty data-entry workbook: one sheet per table, drop-downs, date cells and a dictionary sheet."""
    from cart_outcomes.cohort.template import write_template

    if path.suffix.lower() != ".xlsx":
        _fail_usage(f"{path}: the template is an .xlsx workbook; give a path ending in .xlsx")
    if path.exists() and not force:
        _fail_usage(f"{path} exists; use --force to overwrite it")
    if not path.parent.exists():
        _fail_usage(f"folder {path.parent} does not exist")
    write_template(path)
    typer.echo(f"wrote {path}")


def _run_with_progress(job, quiet: bool):
    """Run ``job(progress)`` showing each step; on bad input print every problem and exit 1 (data) or 2 (usage)."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from cart_outcomes.errors import CartOutcomesError, ValidationFailed
    from cart_outcomes.plan.extract import ENGINE_STEPS
    from cart_outcomes.plan.run import STEPS

    console = Console(stderr=True, highlight=False)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    try:
        # redrawn at each step, not by a refresh thread: with no thread running, the report's figures can be drawn
        # in forked worker processes (report.render)
        with Progress(*columns, console=console, transient=True, disable=quiet, auto_refresh=False) as bar:
            task = bar.add_task("starting", total=len(STEPS))
            steps = [STEPS]  # a run on an extract announces ENGINE_STEPS; its scans add ": <what> <percent>%"

            def step(message: str) -> None:
                head = message.split(":", 1)[0]
                if head not in steps[0] and head in ENGINE_STEPS:
                    steps[0] = ENGINE_STEPS
                if head in steps[0]:
                    bar.update(task, description=message, completed=steps[0].index(head), total=len(steps[0]))
                else:
                    bar.update(task, description=message)
                bar.refresh()

            result = job(step)
    except ValidationFailed as exc:
        console.print(f"[red]{_markup(exc)}[/red]")
        if exc.summary is not None:
            _print_problems(exc.summary, stderr=True)
        else:
            typer.echo("\n".join(f"  {_shown(p)}" for p in exc.problems), err=True)
        raise typer.Exit(EXIT_DATA) from None
    except (CartOutcomesError, OSError) as exc:
        console.print(f"[red]Error:[/red] {_markup(exc)}", markup=True, highlight=False)
        raise typer.Exit(EXIT_USAGE) from None
    _print_summary(result)
    return result


def _p(value: float | None) -> str:
    """``p = 0.073`` or ``p < 0.001``, as the report prints it (never ``p = 0.000``)."""
    from cart_outcomes.report._format import format_p

    shown = format_p(float("nan") if value is None else value)
    return f"p {shown}" if shown.startswith("<") else f"p = {shown}"


def _print_summary(result) -> None:
    from rich.console import Console

    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=160)
    r = result.results
    conv = result.record.conventions
    pct = f"{100 * conv.conf_level:g}% CI"
    console.print(f"[bold]{_markup(r['title'])}[/bold]: {r['input']['n_patients']} patients")
    counted = next((s["options"]["event_counts"] for s in r["survival"] if "event_counts" in s.get("options", {})),
                   None)
    if counted is not None:  # a run on an extract of derived endpoints: say where it was counted
        engine = {"duckdb": "DuckDB", "spark": "Spark", "memory": "pandas (in memory)"}.get(
            r["plan"]["data"]["engine"], r["plan"]["data"]["engine"])
        console.print(_shown(f"  extract {r['input']['source_path']}: {r['input']['n_patients']:,} rows counted by "
                             f"{engine} (data.engine: {r['plan']['data']['engine']}); survival analyses only"),
                      markup=False)
    for rec in r["response"]:
        at = f"day {conv.response_day}" if rec["column"] == conv.response_column else "best response"
        console.print(f"  {rec['measure']}: {rec['responders']}/{rec['n']} = {rec['estimate']:.1%} "
                      f"({pct} {rec['lower']:.1%}-{rec['upper']:.1%}), {at}", markup=False)
    for s in r["survival"]:
        for g in s.get("groups", []):
            if "median" in g:
                med = "not reached" if g["median"] is None else f"{g['median']:g} {conv.time_unit}"
                console.print(_shown(f"  median {s['endpoint'].upper()} ({g['group']}): {med}"), markup=False)
    for c in r["comparisons"]:
        line = (f"  {_markup(c['comparison'])}, {c['endpoint'].upper()}: naive log-rank "
                f"{_p(c['naive']['logrank']['p'])}")
        if "immortal_time" in c:
            cox = c["time_dependent_cox"]["coefficients"][0]["p"]
            line += (f"; time-dependent Cox {_p(cox)}; Mantel-Byar {_p(c['mantel_byar']['p'])} "
                     "[yellow](exposure after infusion: read the corrected analyses)[/yellow]")
        console.print(line)
    for w in r["data_quality"]["warnings"]:
        if w.get("rule") == "ANALYSIS_SKIPPED":
            console.print(f"  [yellow]skipped:[/yellow] {w['message']}")
    n_warn = r["data_quality"]["n_warnings"]
    if n_warn:
        console.print(f"  [yellow]{n_warn} data-quality warning(s): see the report[/yellow]")
    if result.out_dir is not None:
        console.print(f"wrote {len(result.files)} file(s) to {_markup(result.out_dir)}")


@app.command()
def init(
    sheet: Annotated[Path, typer.Argument(help="Your spreadsheet: .xlsx (any sheets), .csv (any delimiter and "
                                               "encoding) or .parquet.")],
    out: Annotated[Path | None, typer.Option("--out", help="Plan to write (default: study.yaml next to the "
                                                           "sheet).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing plan.")] = False,
    redcap_dictionary: Annotated[Path | None, typer.Option(
        "--redcap-dictionary", help="SHEET is a REDCap 'CSV (raw data)' export and this its data dictionary CSV.")
    ] = None,
) -> None:
    """Write a commented study.yaml for your own sheet: every column and value guess with its evidence."""
    from cart_outcomes.errors import CartOutcomesError
    from cart_outcomes.plan.init import init_plan

    try:
        result = init_plan(sheet, out, force=force, redcap_dictionary=redcap_dictionary)
    except CartOutcomesError as exc:
        _fail_usage(str(exc))
    for sg in result.sheets:
        if sg.table is None:
            typer.echo(_shown(f"sheet {sg.sheet!r}: not a cohort table, ignored"))
            continue
        mapped = [g for g in sg.columns if g.column]
        typer.echo(_shown(f"sheet {sg.sheet!r} -> {sg.table}: header on row {sg.header_row}, {sg.n_rows} rows, "
                          f"{len(mapped)} of {len(sg.columns)} columns mapped"))
        for g in sg.columns:
            typer.echo(_shown(f"  {g.header!r} -> {g.column or 'unmapped'}  ({g.evidence})"))
        for column, recodes in sg.values.items():
            typer.echo(_shown(f"  values of {column}: " + ", ".join(f"{k!r} -> {v}" for k, (v, _) in recodes.items())))
        for column, raw in sg.unmapped_values.items():
            typer.echo(_shown(f"  values of {column} with no guess (fill them in): " + ", ".join(map(repr, raw))))
    if result.date_format:
        typer.echo(f"dates read as {result.date_format}")
    typer.echo(_shown(f"wrote {result.path}; check it, then run:  cart-outcomes run {result.path}"))


_DATA_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv", ".parquet", ".sav", ".zsav", ".dta", ".sas7bdat", ".xpt")


@app.command()
def run(
    plan: Annotated[Path, typer.Argument(help="The analysis plan (study.yaml).")],
    out: Annotated[Path | None, typer.Option("--out", help="Folder for results.json, tables and the report "
                                                           "(default: a new folder next to the plan).")] = None,
    deidentify: Annotated[bool | None, typer.Option("--deidentify/--no-deidentify",
                                                    help="Study codes instead of patient ids, no calendar dates "
                                                         "(default: the plan's report.deidentify).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress display.")] = False,
) -> None:
    """Run an analysis plan: validate, derive endpoints, compute, write results.json, tables and the report."""
    from cart_outcomes.plan.run import run_plan

    if plan.suffix.lower() in _DATA_SUFFIXES or plan.is_dir():
        _fail_usage(f"{plan} is a data file, not an analysis plan; run `cart-outcomes init {plan}` first, then "
                    "`cart-outcomes run study.yaml`")
    if not plan.is_file():
        _fail_usage(f"analysis plan not found: {plan}")
    if out is None:
        out, n = plan.parent / f"{plan.stem}-report", 1
        while out.exists():
            n += 1
            out = plan.parent / f"{plan.stem}-report-{n}"
    result = _run_with_progress(lambda step: run_plan(plan, out, deidentify=deidentify, progress=step), quiet)
    _name_the_report(result)


def _name_the_report(result) -> None:
    """The last line of ``run`` and ``demo``: the report to open."""
    report = next((f for f in result.files if f.name == "report.html"), None)
    if report is not None:
        typer.echo(_shown(f"open the report: {report}"))


@app.command()
def demo(
    out: Annotated[Path | None, typer.Option("--out", help="Output folder (default: a new folder here).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress display.")] = False,
) -> None:
    """Run the bundled CD7 CAR-T seed study (12 patients) end to end and write its report."""
    from cart_outcomes.plan.demo import run_demo

    _name_the_report(_run_with_progress(lambda step: run_demo(out, progress=step), quiet))


export_app = typer.Typer(help="Export a run's outputs into other standards (CDISC ADaM).", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command(name="adam")
def export_adam(
    results_dir: Annotated[Path, typer.Argument(help="A folder written by `cart-outcomes run` (results.json, "
                                                     "tables/).")],
    out: Annotated[Path | None, typer.Option("--out", help="Folder for the datasets (default: RESULTS_DIR/adam).")]
    = None,
    formats: Annotated[str, typer.Option("--format", help="xpt, parquet or xpt,parquet.")] = "xpt,parquet",
    studyid: Annotated[str | None, typer.Option("--studyid", help="STUDYID (default: the run's title).")] = None,
) -> None:
    """Write CDISC ADaM ADSL, ADTTE, ADRS and ADAE (SAS transport v5 and Parquet) with a define-style listing."""
    from cart_outcomes.errors import CartOutcomesError
    from cart_outcomes.export import write_adam

    if not (results_dir / "results.json").is_file():
        _fail_usage(f"{results_dir} is not a run output folder (no results.json): give the folder "
                    "`cart-outcomes run` wrote")
    target = out if out is not None else results_dir / "adam"
    try:
        files = write_adam(results_dir, target, formats=[f.strip() for f in formats.split(",") if f.strip()],
                           studyid=studyid)
    except CartOutcomesError as exc:
        _fail_usage(str(exc))
    typer.echo(_shown(f"wrote {len(files)} file(s) to {target}"))


@app.command(name="app")
def app_command(
    port: Annotated[int | None, typer.Option("--port", help="Port on 127.0.0.1 (default: a free one).")] = None,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Print the link only; do not open a browser.")]
    = False,
) -> None:
    """Start the local web app: upload a sheet, check the mapping, run, read and download (127.0.0.1 only)."""
    from cart_outcomes.app import serve

    if port is not None and not 1 <= port <= 65535:
        _fail_usage(f"--port {port}: give a port between 1 and 65535")
    try:
        serve(port, open_browser=not no_browser, announce=lambda url: typer.echo(url))
    except OSError as exc:
        _fail_usage(f"cannot serve on 127.0.0.1:{port}: {exc}")


def main() -> None:
    app()
