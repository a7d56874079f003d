"""The one writer of a run's outputs: ``results.json``, ``tables/*.csv``, the HTML report, the figure files,
``tables.xlsx`` and ``tables.docx``."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from cart_outcomes.report.build import ReportOutputs, report_outputs
from cart_outcomes.report.options import ReportOptions
from cart_outcomes.results.run import RunResult

__all__ = ["write_outputs"]


def write_outputs(run: RunResult, out: str | Path, options: ReportOptions | None = None) -> RunResult:
    """Write every output of ``run`` into ``out`` and return the run with ``out_dir`` and ``files`` set.

    ``results.json`` is the record's ``model_dump``; each tidy table is a CSV (formula-safe); the report documents
    and figure files follow ``options`` (default: all documents, SVG figures).
    """
    from cart_outcomes.report.tables import write_csv

    options = options or ReportOptions()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "tables").mkdir(exist_ok=True)
    path = out / "results.json"
    path.write_text(run.to_json(), encoding="utf-8")
    files = [path]
    for name, table in run.tables.items():
        files.append(write_csv(table, out / "tables" / f"{name}.csv"))
    files += _write_report(run, out, report_outputs(run, options), options)
    return dataclasses.replace(run, out_dir=out, files=files)


def _write_report(run: RunResult, out: Path, outputs: ReportOutputs, options: ReportOptions) -> list[Path]:
    from cart_outcomes.report.docx import write_docx
    from cart_outcomes.report.figures import save_figure
    from cart_outcomes.report.html import render_html
    from cart_outcomes.report.tables import write_workbook

    files = []
    if options.html:
        path = out / "report.html"
        path.write_text(render_html(outputs.document), encoding="utf-8")
        files.append(path)
    if outputs.figures:
        (out / "figures").mkdir(exist_ok=True)
    for name, (fig, block) in outputs.figures.items():
        for fmt in options.figures.formats:
            path = out / "figures" / f"{name}.{fmt}"
            if fmt == "svg":  # the SVG already inlined in the HTML
                path.write_text(block.svg + "\n", encoding="utf-8")
                files.append(path)
            else:
                files.append(save_figure(fig, path))
    blocks = {t.caption: t for s in outputs.document.sections for t in s.tables}
    if options.xlsx:
        files.append(write_workbook(outputs.tables, run.tables, out / "tables.xlsx"))
    if options.docx and blocks:
        files.append(write_docx({c: b.frame for c, b in blocks.items()}, out / "tables.docx",
                                title=str(run.record.title), notes={c: b.note for c, b in blocks.items() if b.note}))
    return files
