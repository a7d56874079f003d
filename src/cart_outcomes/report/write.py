"""The one writer of a run's outputs: ``results.json``, ``tables/*.csv``, the HTML report, the figure files,
``tables.xlsx`` and ``report.docx``. File names that come from the plan (comparison names, ``by`` columns) pass
through :func:`safe_stem`, and every path is checked to stay inside the output folder."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path

from cart_outcomes.errors import InputError
from cart_outcomes.report.build import ReportOutputs, report_outputs
from cart_outcomes.report.options import ReportOptions
from cart_outcomes.results.run import RunResult

__all__ = ["MAX_STEM", "safe_stem", "write_outputs"]

#: Longest file stem written for a table or figure (names come from the plan: comparison names, ``by`` columns).
MAX_STEM = 80
#: Resolution of the figures embedded in report.docx (print).
DOCX_DPI = 300
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


def write_outputs(run: RunResult, out: str | Path, options: ReportOptions | None = None) -> RunResult:
    """Write every output of ``run`` into ``out`` and return the run with ``out_dir`` and ``files`` set.

    ``results.json`` is the record's ``model_dump``; each tidy table is a CSV (formula-safe); the report documents
    and figure files follow ``options`` (default: all documents, SVG figures).
    """
    from cart_outcomes.report.render import configured_workers
    from cart_outcomes.report.tables import write_csv

    configured_workers()  # a bad CART_OUTCOMES_WORKERS stops the run before any file is written
    options = options or ReportOptions()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "tables").mkdir(exist_ok=True)
    path = out / "results.json"
    path.write_text(run.to_json(), encoding="utf-8")
    files = [path]
    for name, table in run.tables.items():
        files.append(write_csv(table, _inside(out, "tables", name, "csv")))
    formats = [(fmt, options.figures.dpi) for fmt in options.figures.formats if fmt != "svg"]
    if options.docx and ("png", DOCX_DPI) not in formats:
        formats.append(("png", DOCX_DPI))
    files += _write_report(run, out, report_outputs(run, options, formats=formats), options)
    return dataclasses.replace(run, out_dir=out, files=files)


def _write_report(run: RunResult, out: Path, outputs: ReportOutputs, options: ReportOptions) -> list[Path]:
    from cart_outcomes.report._stamp import document_time
    from cart_outcomes.report.docx import write_report_docx
    from cart_outcomes.report.html import numbering, render_html
    from cart_outcomes.report.tables import write_workbook

    files = []
    stamp = document_time(options.date)
    if options.html:
        path = out / "report.html"
        path.write_text(render_html(outputs.document), encoding="utf-8")
        files.append(path)
    if outputs.figures:
        (out / "figures").mkdir(exist_ok=True)
    for name, (_fig, block) in outputs.figures.items():  # every figure was rendered once, with the report
        for fmt in options.figures.formats:
            path = _inside(out, "figures", name, fmt)
            if fmt == "svg":  # the SVG inlined in the HTML
                path.write_text(block.svg + "\n", encoding="utf-8")
            else:
                path.write_bytes(outputs.images[name][(fmt, options.figures.dpi)])
            files.append(path)
    if options.xlsx:  # the Index sheet gives each display table its number and caption in the report
        numbers = numbering(outputs.document)
        blocks = [t for s in outputs.document.sections for t in s.tables]
        captions = {name: f"{numbers[id(b)]}. {b.caption}" for name, frame in outputs.tables.items() for b in blocks
                    if b.frame is frame}
        files.append(write_workbook(outputs.tables, run.tables, out / "tables.xlsx", captions=captions,
                                    timestamp=stamp))
    if options.docx:
        pngs = {id(fig): outputs.images[name][("png", DOCX_DPI)] for name, (fig, _block) in outputs.figures.items()}
        files.append(write_report_docx(outputs.document, out / "report.docx", timestamp=stamp, dpi=DOCX_DPI,
                                       pngs=pngs))
    return files
