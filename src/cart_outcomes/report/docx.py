"""The Word report (``report.docx``): the whole report as a manuscript supplement, written with python-docx.

Headings, warnings, paragraphs (the methods paragraph included), every figure as a 300-dpi PNG rendered from the
same matplotlib figure the HTML inlines as SVG, with its numbered legend below it, and every table as a three-line
table (a rule above and below the header and one below the body; no vertical lines, no "Table Grid") with its
numbered caption above and its note below. Figures and tables carry the numbers of
:func:`~cart_outcomes.report.html.numbering`, so "Table 3" is the same table in the HTML and in Word. A table wider
than a portrait page (estimated from its longest cell per column) goes into a landscape section of its own.

Word does not evaluate cell text, so no formula neutralisation is needed; characters XML cannot hold are replaced
by U+FFFD so any text can be written. Times inside the file are :func:`~cart_outcomes.report._stamp.document_time`,
so the same report gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cart_outcomes.report._format import is_missing
from cart_outcomes.report._stamp import document_time, normalise_zip
from cart_outcomes.report.html import FigureBlock, ReportDocument, TableBlock, _cell, nowrap_columns, numbering

if TYPE_CHECKING:
    from docx.document import Document

__all__ = ["PORTRAIT_TEXT_WIDTH_CM", "is_wide", "write_report_docx"]

_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: A4 with 2 cm margins: the text width of a portrait page; a table estimated wider goes on a landscape page.
PORTRAIT_TEXT_WIDTH_CM = 17.0
_PAGE_CM = (21.0, 29.7)
_MARGIN_CM = 2.0
_LANDSCAPE_TEXT_WIDTH_CM = _PAGE_CM[1] - 2 * _MARGIN_CM
#: Width of one character of 8-pt table text (Calibri averages about 0.17 cm), and the cell padding.
_CHAR_CM, _PAD_CM = 0.17, 0.4
#: A column may wrap down to this many characters (words longer than this do not wrap).
_WRAP_CHARS = 28
_FONT_PT, _TABLE_PT = 10, 8


def _text(value: object) -> str:
    return "" if is_missing(value) else _ILLEGAL_XML.sub("\ufffd", str(value))


def _column_widths_cm(block: TableBlock) -> list[float]:
    """Estimated width each column needs: its longest cell (never wrapped when it must not wrap), headers and
    long text columns wrapped at :data:`_WRAP_CHARS` characters."""
    widths = []
    for column, keep in zip(block.frame.columns, nowrap_columns(block.frame.columns), strict=True):
        cells = [_cell(v)[0] for v in block.frame[column]]
        longest = max((len(c) for c in cells), default=0)
        header = max((len(w) for w in str(column).split()), default=0)
        chars = max(header, longest if keep else min(longest, _WRAP_CHARS))
        widths.append(chars * _CHAR_CM + _PAD_CM)
    return widths


def is_wide(block: TableBlock) -> bool:
    """Whether a table goes on a landscape page: ``block.landscape`` when set, else its estimated width exceeds
    :data:`PORTRAIT_TEXT_WIDTH_CM`."""
    if block.landscape is not None:
        return block.landscape
    return sum(_column_widths_cm(block)) > PORTRAIT_TEXT_WIDTH_CM


def _border(parent: Any, tag: str, edges: dict[str, int]) -> None:
    """Set ``edges`` (name -> width in eighths of a point; 0 = none) on a ``w:tblBorders``/``w:tcBorders``."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    borders = parent.find(qn(tag))
    if borders is None:
        borders = OxmlElement(tag)
        parent.append(borders)
    for edge, size in edges.items():
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "single" if size else "nil")
        if size:
            element.set(qn("w:sz"), str(size))
            element.set(qn("w:space"), "0")
            element.set(qn("w:color"), "000000")
        borders.append(element)


def _three_line(table: Any) -> None:
    """Top rule (1.5 pt) and bottom rule (1.5 pt) on the table and no other line (the 0.75-pt rule under the header
    is in its cells: :func:`_cell_xml`)."""
    from docx.oxml.ns import qn

    tbl_pr = table._tbl.tblPr
    _border(tbl_pr, "w:tblBorders", {"top": 12, "left": 0, "bottom": 12, "right": 0, "insideH": 0, "insideV": 0})
    style = tbl_pr.find(qn("w:tblStyle"))
    if style is not None:  # no named style: the rules above are the only lines
        tbl_pr.remove(style)


def _run(paragraph: Any, text: str, *, bold: bool = False, italic: bool = False, size: float | None = None) -> Any:
    from docx.shared import Pt

    run = paragraph.add_run(_text(text))
    run.bold, run.italic = bold or None, italic or None
    if size:
        run.font.size = Pt(size)
    return run


def _caption(document: Document, number: str, caption: str) -> None:
    """``Table k. caption`` / ``Figure k. caption`` in Word's Caption style, the number in bold, written once."""
    paragraph = document.add_paragraph(style="Caption")
    _run(paragraph, f"{number}.", bold=True)
    _run(paragraph, f" {caption}")


def _set_orientation(document: Document, landscape: bool) -> None:
    """Start a new section (new page) in the given orientation, unless the current one already is."""
    from docx.enum.section import WD_ORIENT, WD_SECTION
    from docx.shared import Cm

    current = document.sections[-1]
    if (current.orientation == WD_ORIENT.LANDSCAPE) == landscape:
        return
    section = document.add_section(WD_SECTION.NEW_PAGE)
    width, height = (Cm(_PAGE_CM[1]), Cm(_PAGE_CM[0])) if landscape else (Cm(_PAGE_CM[0]), Cm(_PAGE_CM[1]))
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = width, height


_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_BREAKS = re.compile(r"(\t|\r\n|\n|\r)")
_HEADER_RULE = '<w:tcBorders><w:bottom w:val="single" w:sz="6" w:space="0" w:color="000000"/></w:tcBorders>'


def _run_xml(text: str, *, bold: bool) -> str:
    """A ``w:r`` of 8-pt table text (bold for the header); tabs and line breaks as Word's own elements, as
    python-docx's ``add_run`` writes them."""
    from xml.sax.saxutils import escape

    parts = []
    for piece in _BREAKS.split(_text(text)):
        if piece == "\t":
            parts.append("<w:tab/>")
        elif piece in ("\n", "\r", "\r\n"):
            parts.append("<w:br/>")
        elif piece:
            parts.append(f'<w:t xml:space="preserve">{escape(piece)}</w:t>')
    return f'<w:r><w:rPr>{"<w:b/>" if bold else ""}<w:sz w:val="{2 * _TABLE_PT}"/></w:rPr>{"".join(parts)}</w:r>'


def _cell_xml(text: str, width: int, *, header: bool = False, numeric: bool = False, keep: bool = False) -> str:
    """One ``w:tc``: width in twips, the rule under a header cell, no wrap for ``keep``; leading spaces (the
    builders indent levels with them) become a paragraph indent of 2.5 pt each, numbers are right-aligned."""
    indent = len(text) - len(text.lstrip(" "))
    ppr = '<w:spacing w:after="0"/>' + (f'<w:ind w:left="{round(50 * indent)}"/>' if indent else "") + (
        '<w:jc w:val="right"/>' if numeric else "")
    tcpr = f'<w:tcW w:w="{width}" w:type="dxa"/>' + (_HEADER_RULE if header else "") + ("<w:noWrap/>" if keep else "")
    run = _run_xml(text.lstrip(" "), bold=header)
    return f"<w:tc><w:tcPr>{tcpr}</w:tcPr><w:p><w:pPr>{ppr}</w:pPr>{run}</w:p></w:tc>"


def _table(document: Document, block: TableBlock, number: str, text_width_cm: float) -> None:
    """Caption, then the three-line table: its rows are written as one piece of WordprocessingML and parsed once
    (python-docx's cell-by-cell API costs about 1 ms per cell), then its note."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.oxml import parse_xml
    from docx.oxml.ns import qn
    from docx.shared import Cm

    _caption(document, number, block.caption)
    frame = block.frame
    nowrap = nowrap_columns(frame.columns)
    widths_cm = _column_widths_cm(block)
    scale = min(1.0, text_width_cm / sum(widths_cm))
    widths = [Cm(w * scale).twips for w in widths_cm]
    rows = ['<w:tr><w:trPr><w:tblHeader w:val="true"/></w:trPr>' + "".join(
        _cell_xml(str(name), width, header=True, keep=keep)
        for name, width, keep in zip(frame.columns, widths, nowrap, strict=True)) + "</w:tr>"]
    for values in frame.itertuples(index=False):
        cells = []
        for value, width, keep in zip(values, widths, nowrap, strict=True):
            text, numeric = _cell(value)
            cells.append(_cell_xml(text, width, numeric=numeric, keep=keep))
        rows.append(f"<w:tr>{''.join(cells)}</w:tr>")
    table = document.add_table(rows=0, cols=len(frame.columns))
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    table.autofit = False
    for column, width in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths, strict=True):
        column.set(qn("w:w"), str(width))
    table._tbl.extend(parse_xml(f'<w:tbl xmlns:w="{_W_NS}">{"".join(rows)}</w:tbl>').findall(qn("w:tr")))
    _three_line(table)
    if block.note:
        _run(document.add_paragraph(), block.note, italic=True, size=_TABLE_PT)


def _figure(document: Document, block: FigureBlock, number: str, dpi: int, pngs: Mapping[int, bytes]) -> None:
    from docx.shared import Cm

    from cart_outcomes.report.figures import figure_to_png

    if block.figure is None:  # a figure given as SVG only (no matplotlib object): named, never silently dropped
        paragraph = document.add_paragraph()
        _run(paragraph, "Figure available in the HTML report only (no image to embed).", italic=True)
    else:
        width_cm = min(PORTRAIT_TEXT_WIDTH_CM, block.figure.get_figwidth() * 2.54)
        png = pngs.get(id(block.figure)) or figure_to_png(block.figure, dpi=dpi)
        document.add_picture(io.BytesIO(png), width=Cm(width_cm))
    _caption(document, number, block.caption)


def _footer(document: Document, doc: ReportDocument) -> None:
    footer = doc.footer
    document.add_heading("Reproducibility", level=1)
    rows = [("Generated", f"{footer.date or 'date not recorded'} by cart-outcomes {footer.package_version}")]
    if footer.input_sha256:
        rows.append(("Input SHA-256", footer.input_sha256))
    rows += [(str(k), str(v)) for k, v in footer.extra]
    for key, value in rows:
        paragraph = document.add_paragraph()
        _run(paragraph, f"{key}: ", bold=True, size=_TABLE_PT)
        _run(paragraph, value, size=_TABLE_PT)
    _run(document.add_paragraph(), "The analysis plan is printed at the end of the HTML report and recorded in "
         "results.json.", italic=True, size=_TABLE_PT)


def write_report_docx(doc: ReportDocument, path: str | Path, *, timestamp: dt.datetime | None = None,
                      dpi: int = 300, pngs: Mapping[int, bytes] | None = None) -> Path:
    """Write the whole report ``doc`` to a Word document at ``path``.

    Parameters
    ----------
    doc
        The report (as :func:`~cart_outcomes.report.build.build_report` returns it, or any
        :class:`~cart_outcomes.report.html.ReportDocument`); figures made with
        :func:`~cart_outcomes.report.html.figure_block` carry the matplotlib figure their PNG is rendered from.
    timestamp
        Created/modified time of the document and its zip entries (default
        :func:`~cart_outcomes.report._stamp.document_time`), so the same report gives the same bytes.
    dpi
        Resolution of the embedded PNGs (300 for print).
    pngs
        PNGs already rendered at ``dpi``, by ``id()`` of their matplotlib figure (the run's PNG figure files), so no
        figure is drawn twice.

    Returns
    -------
    Path
        ``path``. A4 pages with 2 cm margins; the title, each section as a level-1 heading, its warnings, paragraphs,
        figures (picture, then "Figure k." legend) and tables ("Table k." caption, three-line table, note); wide
        tables (:func:`is_wide`) in landscape sections; a closing "Reproducibility" section from the footer.
    """
    from docx import Document
    from docx.shared import Cm, Pt

    document = Document()
    normal = document.styles["Normal"]
    normal.font.size = Pt(_FONT_PT)
    normal.font.name = "Calibri"
    caption = document.styles["Caption"]
    caption.font.size, caption.font.italic, caption.font.color.rgb = Pt(_FONT_PT - 1), False, None
    first = document.sections[0]
    first.page_width, first.page_height = Cm(_PAGE_CM[0]), Cm(_PAGE_CM[1])
    first.left_margin = first.right_margin = first.top_margin = first.bottom_margin = Cm(_MARGIN_CM)
    numbers = numbering(doc)
    document.add_heading(_text(doc.title), level=0)
    if doc.subtitle:
        _run(document.add_paragraph(), doc.subtitle, italic=True)
    for s in doc.sections:
        _set_orientation(document, False)
        document.add_heading(_text(s.title), level=1)
        for warning in s.warnings:
            paragraph = document.add_paragraph(style="List Bullet")
            _run(paragraph, "Warning: ", bold=True)
            _run(paragraph, warning)
        for text in s.paragraphs:
            _run(document.add_paragraph(), text)
        for figure in s.figures:
            _figure(document, figure, numbers[id(figure)], dpi, pngs or {})
        for table in s.tables:
            wide = is_wide(table)
            _set_orientation(document, wide)
            _table(document, table, numbers[id(table)], _LANDSCAPE_TEXT_WIDTH_CM if wide else PORTRAIT_TEXT_WIDTH_CM)
    _set_orientation(document, False)
    _footer(document, doc)
    when = timestamp or document_time()
    props = document.core_properties
    props.created = props.modified = when.astimezone(dt.UTC).replace(tzinfo=None)
    props.author, props.comments, props.revision, props.title = "cart-outcomes", "", 1, _text(doc.title)
    path = Path(path)
    document.save(path)
    return normalise_zip(path, when)

