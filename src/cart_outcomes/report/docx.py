"""Word (.docx) export of report tables with python-docx: one captioned table per frame, header row bold.

Word does not evaluate cell text, so no formula neutralisation is needed; characters XML cannot hold are replaced
by U+FFFD so any text can be written.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from cart_outcomes.report._format import is_missing
from cart_outcomes.report._stamp import document_time, normalise_zip

__all__ = ["write_docx"]

_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _text(value: object) -> str:
    if is_missing(value):
        return ""
    return _ILLEGAL_XML.sub("\ufffd", str(value))


def write_docx(tables: pd.DataFrame | Mapping[str, pd.DataFrame], path: str | Path, *, title: str | None = None,
               notes: Mapping[str, str] | None = None, timestamp: dt.datetime | None = None) -> Path:
    """Write one table, or several (mapping caption -> frame), to a Word document.

    Each table gets its caption as a paragraph above it ("Table k. <caption>"), the ``Table Grid`` style, a bold
    header row repeated on every page, and an optional note below (``notes[caption]``). Cells are written as text
    exactly as in the frame (format numbers first, e.g. with the table builders of :mod:`cart_outcomes.report.tables`).
    The document's created/modified properties and its zip entries carry ``timestamp`` (default:
    :func:`~cart_outcomes.report._stamp.document_time`), so the same tables give the same bytes.
    """
    from docx import Document
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    if isinstance(tables, pd.DataFrame):
        tables = {"": tables}
    document = Document()
    document.styles["Normal"].font.size = Pt(9)
    if title:
        document.add_heading(_text(title), level=1)
    for k, (caption, frame) in enumerate(tables.items(), start=1):
        heading = document.add_paragraph()
        heading.add_run(f"Table {k}." + (f" {_text(caption)}" if caption else "")).bold = True
        table = document.add_table(rows=1, cols=len(frame.columns))
        table.style = "Table Grid"
        header = table.rows[0]
        repeat = OxmlElement("w:tblHeader")
        repeat.set(qn("w:val"), "true")
        header._tr.get_or_add_trPr().append(repeat)
        for cell, name in zip(header.cells, frame.columns, strict=True):
            cell.text = ""
            cell.paragraphs[0].add_run(_text(name)).bold = True
        for values in frame.itertuples(index=False):
            for cell, value in zip(table.add_row().cells, values, strict=True):
                cell.text = _text(value)
        if notes and caption in notes:
            document.add_paragraph(_text(notes[caption])).runs[0].italic = True
    when = timestamp or document_time()
    props = document.core_properties
    props.created = props.modified = when.astimezone(dt.UTC).replace(tzinfo=None)
    props.author, props.comments, props.revision = "cart-outcomes", "", 1
    path = Path(path)
    document.save(path)
    return normalise_zip(path, when)
