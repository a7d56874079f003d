"""report.docx: the whole report as a Word manuscript supplement. Opened with python-docx: every figure embedded
as a 300-dpi PNG, three-line tables (no "Table Grid", no vertical rules), each caption once with the numbers of the
HTML, wide tables on landscape pages; converted to PDF by LibreOffice when it is installed."""

from __future__ import annotations

import html
import io
import re
import shutil
import subprocess

import pytest
from report_cases import demo_document, hostile_cohort

import cart_outcomes.report as R
from cart_outcomes.report.html import numbering

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
CAPTION = re.compile(r"(Table|Figure) \d+\. ")


@pytest.fixture(scope="module")
def demo_outputs(demo_run):
    """The document the run wrote (same sections, captions and numbers; figures drawn again)."""
    from cart_outcomes.report.build import report_outputs

    return report_outputs(demo_run)


@pytest.fixture(scope="module")
def word(demo_run):
    from docx import Document

    return Document(str(demo_run.out_dir / "report.docx"))


def _captions(document) -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name == "Caption"]


def test_every_figure_is_embedded_as_a_300_dpi_png(word, demo_outputs):
    from PIL import Image

    assert len(word.inline_shapes) == len(demo_outputs.figures) > 0
    for shape in word.inline_shapes:
        blob = word.part.related_parts[shape._inline.graphic.graphicData.pic.blipFill.blip.embed].blob
        image = Image.open(io.BytesIO(blob))
        assert image.format == "PNG"
        assert [round(d) for d in image.info["dpi"]] == [300, 300]


def test_captions_are_written_once_with_the_numbers_of_the_html(word, demo_outputs):
    doc = demo_outputs.document
    numbers = numbering(doc)
    expected = [f"{numbers[id(b)]}. {b.caption}" for s in doc.sections for b in s.figures] + \
               [f"{numbers[id(b)]}. {b.caption}" for s in doc.sections for b in s.tables]
    captions = _captions(word)
    assert sorted(captions) == sorted(expected)
    assert all(CAPTION.match(c) and not CAPTION.match(CAPTION.sub("", c, count=1)) for c in captions)  # never doubled
    assert len(word.tables) == sum(len(s.tables) for s in doc.sections)
    page = R.render_html(doc)
    for caption in expected:  # the same number in the HTML
        number, text = caption.split(". ", 1)
        assert f'<span class="label">{number}.</span> {html.escape(text)}' in page


def test_cells_hold_the_text_of_the_display_tables(word, demo_outputs):
    tables = [t for s in demo_outputs.document.sections for t in s.tables]
    for block, table in zip(tables, word.tables, strict=True):
        read = [[c.text for c in row.cells] for row in table.rows]
        assert read[0] == [str(c) for c in block.frame.columns]
        # indentation (levels under a variable) becomes a paragraph indent, not leading spaces
        assert read[1:] == [[R.html._cell(v)[0].lstrip(" ") for v in row] for row in block.frame.itertuples(False)]


def test_tables_have_three_rules_and_no_grid(word):
    for table in word.tables:
        assert table.style is None or table.style.name != "Table Grid"
        borders = {e.tag.removeprefix(W): e.get(f"{W}val") for e in table._tbl.tblPr.find(f"{W}tblBorders")}
        assert borders == {"top": "single", "bottom": "single", "left": "nil", "right": "nil", "insideH": "nil",
                           "insideV": "nil"}
        header = table.rows[0].cells
        for cell in header:  # the rule under the header, and no other cell border anywhere
            edges = cell._tc.tcPr.find(f"{W}tcBorders")
            assert [(e.tag.removeprefix(W), e.get(f"{W}val")) for e in edges] == [("bottom", "single")]
        assert all(c._tc.tcPr is None or c._tc.tcPr.find(f"{W}tcBorders") is None
                   for row in table.rows[1:] for c in row.cells)


def _orientation_of_each_table(document) -> list[str]:
    """Walk the body: a section ends at a paragraph holding a sectPr (the last section at the body's own)."""
    body = document.element.body
    result, pending = [], 0
    for child in body.iterchildren():
        if child.tag == f"{W}tbl":
            pending += 1
        sect = child.find(f"{W}pPr/{W}sectPr") if child.tag == f"{W}p" else (
            child if child.tag == f"{W}sectPr" else None)
        if sect is not None:
            orient = sect.find(f"{W}pgSz").get(f"{W}orient") or "portrait"
            result += [orient] * pending
            pending = 0
    return result


def test_wide_tables_are_on_landscape_pages(word, demo_outputs):
    tables = [t for s in demo_outputs.document.sections for t in s.tables]
    orientations = _orientation_of_each_table(word)
    assert len(orientations) == len(tables)
    wide = [R.is_wide(t) for t in tables]
    assert any(wide) and not all(wide)  # the seed study has both: the HSCT tables are wide
    assert orientations == ["landscape" if w else "portrait" for w in wide]
    hsct = [o for t, o in zip(tables, orientations, strict=True) if "immortal-time-corrected" in t.caption]
    assert hsct and set(hsct) == {"landscape"}


def test_hostile_text_is_written_as_text(tmp_path):
    from docx import Document

    doc = demo_document(hostile_cohort())
    path = R.write_report_docx(doc, tmp_path / "hostile.docx", dpi=72)
    text = "\n".join(p.text for p in Document(str(path)).paragraphs)
    assert "<script>alert('id')</script>" in text  # shown, escaped by the XML writer, never markup
    again = R.write_report_docx(doc, tmp_path / "again.docx", dpi=72)
    assert path.read_bytes() == again.read_bytes()  # the same report gives the same bytes


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None,
                    reason="LibreOffice is not installed (Debian: apt-get install libreoffice-writer-nogui)")
def test_libreoffice_converts_the_report_to_pdf(demo_run, tmp_path):
    profile = tmp_path / "lo-profile"  # a private profile: parallel conversions do not share one
    result = subprocess.run(
        ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(demo_run.out_dir / "report.docx")],
        capture_output=True, text=True, timeout=240, check=False)
    pdf = tmp_path / "report.pdf"
    assert result.returncode == 0 and pdf.exists(), result.stderr
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page[^s]", data)) >= 10  # every section, figure and table laid out
