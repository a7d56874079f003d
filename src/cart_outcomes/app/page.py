"""The app's one page (Shiny for Python): Upload, Understand, Analyse, Read, Take away.

Each browser tab is its own Shiny session with its own :class:`~cart_outcomes.app.workspace.Workspace` (its own
temporary folder, removed when the tab closes). The page only gathers choices and shows results: reading, mapping,
validating, running and writing are the library's own functions.
"""

from __future__ import annotations

import asyncio
import json
import queue
from pathlib import Path

from htmltools import tags
from shiny import App, reactive, render, ui

from cart_outcomes.app.workspace import ACCEPTED, ENDPOINTS, MAX_UPLOAD_MB, AnalysisChoices, Workspace, group_problems
from cart_outcomes.errors import CartOutcomesError, ValidationFailed

__all__ = ["create_app"]

_DATE_FORMATS = {"": "ISO (2024-01-31) or date cells", "%d/%m/%Y": "day/month/year (31/01/2024)",
                 "%m/%d/%Y": "month/day/year (01/31/2024)", "%d.%m.%Y": "day.month.year (31.01.2024)",
                 "%d-%m-%Y": "day-month-year (31-01-2024)", "%Y/%m/%d": "year/month/day (2024/01/31)"}
_ENDPOINT_LABELS = {"os": "Overall survival", "pfs": "Progression-free survival", "efs": "Event-free survival",
                    "dor": "Duration of response (responders)", "cir": "Cumulative incidence of relapse",
                    "nrm": "Non-relapse mortality"}
_CSS = """
body { max-width: 1100px; margin: auto; }
.step h2 { font-size: 1.3rem; margin-top: 1.5rem; }
.problems td, .mapping td { padding: 2px 8px; vertical-align: top; }
.error-text { color: #a00; white-space: pre-wrap; }
iframe.report { width: 100%; height: 80vh; border: 1px solid #ccc; }
"""


def _example_sheet() -> Path:
    from cart_outcomes.plan.demo import demo_plan_path

    return demo_plan_path().parent / "patients.csv"


def _page():
    return ui.page_fixed(
        ui.tags.style(_CSS),
        ui.h1("cart-outcomes"),
        ui.p("Everything stays on this computer: the sheet is read here and removed when you close the tab."),
        ui.div(ui.h2("1. Upload"),
               ui.input_file("upload", f"Your sheet ({', '.join(ACCEPTED)}; at most {MAX_UPLOAD_MB} MB)",
                             accept=list(ACCEPTED)),
               ui.input_action_button("example", "Use the bundled example (CD7 CAR-T, 12 patients)"),
               ui.output_ui("load_status"), class_="step"),
        ui.div(ui.h2("2. Understand"), ui.output_ui("understand"), ui.output_ui("problems"), class_="step"),
        ui.div(ui.h2("3. Analyse"),
               ui.input_checkbox_group("endpoints", "Analyses", _ENDPOINT_LABELS, selected=list(ENDPOINTS)),
               ui.input_radio_buttons("time_unit", "Time unit", {"days": "days", "months": "months"},
                                      selected="days", inline=True),
               ui.input_text("rates_at", "Landmark times (days after infusion, comma-separated)", "182.625, 365.25"),
               ui.input_checkbox("hsct", "Compare responders by allo-HSCT (naive and immortal-time-corrected)", True),
               ui.input_select("by", "Curves by group", {"": "(no grouping)"}),
               ui.input_select("criteria", "Toxicity grading criteria", {"astct2019": "ASTCT 2019"}),
               ui.input_action_button("run", "Run analysis", class_="btn-primary"),
               ui.output_ui("run_status"), class_="step"),
        ui.div(ui.h2("4. Read"), ui.output_ui("summary"), ui.output_ui("report"), class_="step"),
        ui.div(ui.h2("5. Take away"),
               ui.p("A zip of report.html, report.docx (the whole report for Word), tables.xlsx, the figures, "
                    "results.json and study.yaml: put study.yaml next to your sheet and `cart-outcomes run "
                    "study.yaml` gives the same results."),
               ui.download_button("download", "Download results"),
               ui.download_button("download_deid", "Download de-identified results"),
               class_="step"),
        title="cart-outcomes",
    )


def _problem_table(problems) -> object:
    if not problems:
        return ui.p("No problems found with this mapping.")
    rows = []
    for g in group_problems(problems):
        where = "; ".join(str(p) for p in g["problems"][:5])
        more = f" (and {len(g['problems']) - 5} more)" if len(g["problems"]) > 5 else ""
        rows.append(tags.tr(tags.td(g["severity"]), tags.td(g["rule"]), tags.td(g["column"] or ""),
                            tags.td(str(len(g["problems"]))), tags.td(where + more)))
    n_err = sum(p.severity == "error" for p in problems)
    return ui.div(ui.p(f"{n_err} error(s), {len(problems) - n_err} warning(s), grouped by rule and column:"),
                  tags.table(tags.tr(*[tags.th(h) for h in ("severity", "rule", "column", "n", "where")]), *rows,
                             class_="problems table table-sm", id="problem-table"))


def _summary(results: dict) -> object:
    """The headline numbers of ``results.json``, each in an element with a stable id (the browser test reads
    them)."""
    items = [tags.li("Patients: ", tags.span(str(results["input"]["n_patients"]), id="n-patients"))]
    for rec in results["response"]:
        items.append(tags.li(f"{rec['measure']} ({rec['column']}): ",
                             tags.span(f"{rec['responders']}/{rec['n']}", id=f"resp-{rec['measure']}-{rec['column']}"),
                             f" = {rec['estimate']:.1%}"))
    for s in results["survival"]:
        for g in s.get("groups", []):
            if "median" in g:
                med = "not reached" if g["median"] is None else f"{g['median']:g}"
                items.append(tags.li(f"median {s['endpoint'].upper()} ({g['group']}): ",
                                     tags.span(med, id=f"median-{s['endpoint']}-{g['group']}")))
    return tags.ul(*items, id="summary")


def _server(input, output, session):
    ws = Workspace()
    session.on_ended(ws.close)
    version = reactive.value(0)  # bumped when a new sheet is loaded
    load_message = reactive.value("")
    run_message = reactive.value("")
    report_html = reactive.value("")
    results = reactive.value(None)

    def _load(path: Path, name: str) -> None:
        results.set(None)
        report_html.set("")
        run_message.set("")
        try:
            ws.load(path, name)
        except CartOutcomesError as exc:
            ws.guess = None
            load_message.set(f"{name}: {exc}")
        else:
            load_message.set(f"{name}: read.")
        version.set(version() + 1)

    @reactive.effect
    @reactive.event(input.upload)
    def _upload():
        info = input.upload()[0]
        path = Path(info["datapath"])
        try:
            if info["size"] > MAX_UPLOAD_MB << 20:
                load_message.set(f"{info['name']} is larger than {MAX_UPLOAD_MB} MB, the app's limit; use the "
                                 "command line (cart-outcomes init, then cart-outcomes run).")
                ws.guess = None
                version.set(version() + 1)
                return
            _load(path, info["name"])
        finally:
            path.unlink(missing_ok=True)  # Shiny's own copy of the upload

    @reactive.effect
    @reactive.event(input.example)
    def _example():
        sheet = _example_sheet()
        _load(sheet, sheet.name)

    @render.ui
    def load_status():
        return ui.p(load_message(), class_="error-text" if load_message() and ws.guess is None else None)

    @render.ui
    def understand():
        version()
        if ws.guess is None:
            return ui.p("Upload a sheet first.")
        blocks, shown = [], set()
        for sg in ws.guess.sheets:
            if sg.table is None:
                blocks.append(ui.p(f"Sheet '{sg.sheet}': not a cohort table, ignored."))
                continue
            rows = []
            for g in sg.columns:
                if g.header in shown:  # the plan maps a header once for every sheet: one drop-down
                    rows.append(tags.tr(tags.td(g.header), tags.td(ws.columns[g.header] or "(not analysed)"),
                                        tags.td("as in the sheet above")))
                    continue
                shown.add(g.header)
                choices = {"": "(not analysed)", **{c: c for c in ws.choices_for(g.header)}}
                rows.append(tags.tr(tags.td(g.header),
                                    tags.td(ui.input_select(_map_id(ws, g.header), None, choices,
                                                            selected=g.column or "")),
                                    tags.td(g.evidence)))
            blocks.append(ui.div(
                ui.p(f"Sheet '{sg.sheet}' → table {sg.table}: header on row {sg.header_row}, {sg.n_rows} rows."),
                tags.table(tags.tr(tags.th("Your column"), tags.th("Read as"), tags.th("Why")), *rows,
                           class_="mapping", id=f"mapping-{sg.table}")))
        recodes = []
        for column, raws in ws.values.items():
            for raw, canon in raws.items():
                recodes.append(tags.tr(tags.td(column), tags.td(raw),
                                       tags.td(ui.input_text(_value_id(ws, column, raw), None, canon))))
        if recodes:
            blocks.append(ui.div(ui.p("Values read as (empty: not recoded, checked as written):"),
                                 tags.table(tags.tr(tags.th("column"), tags.th("your value"), tags.th("read as")),
                                            *recodes, class_="mapping")))
        formats = dict(_DATE_FORMATS)
        if ws.date_format and ws.date_format not in formats:
            formats[ws.date_format] = ws.date_format
        blocks.append(ui.input_select("date_format", "Text dates are written", formats,
                                      selected=ws.date_format or ""))
        return ui.div(*blocks)

    @reactive.calc
    def mapping_state():
        """The corrections read from the drop-downs; every change re-validates."""
        version()
        if ws.guess is None:
            return None
        for header in list(ws.columns):
            key = _map_id(ws, header)
            if key in input:
                ws.columns[header] = input[key]() or None
        for column, raws in ws.values.items():
            for raw in raws:
                key = _value_id(ws, column, raw)
                if key in input:
                    raws[raw] = input[key]().strip()
        if "date_format" in input:
            ws.date_format = input.date_format() or None
        return json.dumps([ws.columns, ws.values, ws.date_format], sort_keys=True)

    @reactive.effect
    def _groups():
        version()
        if ws.guess is None:
            return
        by = {"": "(no grouping)"}
        patients = [sg for sg in ws.guess.sheets if sg.table == "patients"]
        from cart_outcomes.cohort.schema import TABLES

        for c in sorted(ws.mapped()):
            col = TABLES["patients"].column(c) if c in TABLES["patients"] else None
            if patients and col is not None and col.dtype == "category" and c != "patient_id":
                by[c] = c
        ui.update_select("by", choices=by, selected="")


    @render.ui
    def problems():
        mapping_state()
        if ws.guess is None:
            return None
        try:
            found = ws.problems()
        except CartOutcomesError as exc:
            return ui.p(str(exc), class_="error-text")
        return _problem_table(found)

    def choices() -> AnalysisChoices:
        try:
            rates = tuple(float(x) for x in input.rates_at().replace(";", ",").split(",") if x.strip())
        except ValueError:
            raise CartOutcomesError(f"landmark times: {input.rates_at()!r} is not a list of numbers") from None
        return AnalysisChoices(endpoints=tuple(input.endpoints()), time_unit=input.time_unit(), rates_at=rates,
                               hsct_comparison=input.hsct(), by=input.by() or None, criteria=input.criteria())

    async def _run(deidentify: bool = False):
        from cart_outcomes.plan.run import STEPS

        messages: queue.Queue[str] = queue.Queue()
        opts = choices()
        with ui.Progress(min=0, max=len(STEPS)) as bar:
            bar.set(0, message="starting")
            task = asyncio.get_running_loop().run_in_executor(
                None, lambda: ws.run(opts, deidentify=deidentify, progress=messages.put))
            while not task.done():
                await asyncio.sleep(0.1)
                while not messages.empty():
                    m = messages.get()
                    bar.set(STEPS.index(m) + 1, message=m)
            return await task

    @reactive.effect
    @reactive.event(input.run)
    async def _run_clicked():
        mapping_state()
        if ws.guess is None:
            run_message.set("Upload a sheet first.")
            return
        run_message.set("")
        try:
            result = await _run()
        except ValidationFailed as exc:
            run_message.set(f"{exc}\n" + "\n".join(f"  {p}" for p in exc.problems))
            return
        except CartOutcomesError as exc:
            run_message.set(f"Error: {exc}")
            return
        except Exception as exc:  # a bug: said plainly, never a traceback on the page
            run_message.set(f"cart-outcomes failed ({type(exc).__name__}: {exc}); this is a bug in cart-outcomes, "
                            "please report it (without patient data)")
            return
        report = next((f for f in result.files if f.name == "report.html"), None)
        report_html.set(report.read_text(encoding="utf-8") if report else "")
        results.set(result.results)
        run_message.set("Done.")

    @render.ui
    def run_status():
        text = run_message()
        return ui.p(text, id="run-message", class_="error-text" if text not in ("", "Done.") else None)

    @render.ui
    def summary():
        return None if results() is None else _summary(results())

    @render.ui
    def report():
        if not report_html():
            return ui.p("Run the analysis to read the report here.")
        return tags.iframe(srcdoc=report_html(), sandbox="", class_="report", id="report-frame",
                           title="report")

    @render.download_button(filename="cart-outcomes-results.zip", media_type="application/zip")
    def download():
        yield ws.zip_bytes()

    @render.download_button(filename="cart-outcomes-results-deidentified.zip", media_type="application/zip")
    async def download_deid():
        await _run(deidentify=True)
        yield ws.zip_bytes(deidentify=True)


def _map_id(ws: Workspace, header: str) -> str:
    return f"map_{list(ws.columns).index(header)}"


def _value_id(ws: Workspace, column: str, raw: str) -> str:
    keys = [(c, r) for c, raws in ws.values.items() for r in raws]
    return f"val_{keys.index((column, raw))}"


def create_app() -> App:
    """The Shiny app (without the access-token guard: :func:`cart_outcomes.app.server.guarded` adds it)."""
    return App(_page(), _server)


