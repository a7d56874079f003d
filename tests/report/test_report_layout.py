"""The seed study's report as a reader sees it: Playwright driving Debian's Chromium at a fixed width screenshots
every section and measures the page (element bounding boxes): no table wider than the text column, no cell whose
content is clipped, no wrapped cell in an estimate/interval/p column (the HR column never wraps), no block that
overlaps the next, no figure caption under its figure, no SVG text outside its figure; Chromium's PDF renders.

With ``CART_OUTCOMES_SCREENSHOT=docs/img/report.png`` (the variable of tests/report/test_browser.py, which writes
that file), the survival and regression sections are written beside it as ``report-survival.png`` and
``report-regression.png`` for the documentation.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed (apt-get install chromium)"),
]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
#: The fixed viewport: a laptop browser window. The report's text column is at most 60rem (960 px) wide.
WIDTH, HEIGHT = 1100, 1400

MEASURE = """() => {
  const box = e => e.getBoundingClientRect();
  const main = box(document.querySelector('main'));
  const out = {wide: [], clipped: [], wrapped: [], overlaps: [], captions: [], svg_text: [], nowrap: 0};
  for (const table of document.querySelectorAll('table')) {
    const r = box(table);
    if (r.right > main.right + 1 || r.left < main.left - 1) out.wide.push([table.id, r.left, r.right, main.right]);
  }
  for (const cell of document.querySelectorAll('td, th')) {
    if (cell.scrollWidth > cell.clientWidth + 1) out.clipped.push(cell.textContent.slice(0, 60));
    if (cell.classList.contains('nowrap') && cell.textContent.trim()) {
      out.nowrap += 1;
      const range = document.createRange();
      range.selectNodeContents(cell);
      const lines = new Set(Array.from(range.getClientRects()).map(q => Math.round(q.top)));
      if (lines.size > 1) out.wrapped.push(cell.textContent);
    }
  }
  for (const section of document.querySelectorAll('section')) {
    const blocks = Array.from(section.children).filter(e => box(e).height > 0);
    for (let i = 1; i < blocks.length; i++) {
      if (box(blocks[i]).top < box(blocks[i - 1]).bottom - 0.5)
        out.overlaps.push([section.id, blocks[i - 1].tagName, blocks[i].tagName]);
    }
  }
  for (const figure of document.querySelectorAll('figure')) {
    const svg = figure.querySelector('svg'), caption = figure.querySelector('figcaption');
    if (box(caption).top < box(svg).bottom - 0.5) out.captions.push(figure.id);
    const frame = box(svg);
    for (const text of svg.querySelectorAll('text')) {
      const t = box(text);
      if (t.width && (t.left < frame.left - 1 || t.right > frame.right + 1 || t.top < frame.top - 1 ||
                      t.bottom > frame.bottom + 1)) out.svg_text.push([figure.id, text.textContent]);
    }
  }
  return out;
}"""


@pytest.fixture(scope="module")
def page(demo_run):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
            page.goto((demo_run.out_dir / "report.html").as_uri())
            yield page
        finally:
            browser.close()


def test_every_section_screenshots_and_nothing_overlaps_or_is_clipped(page):
    sections = page.eval_on_selector_all("section", "els => els.map(e => e.id)")
    assert len(sections) >= 8
    target = os.environ.get("CART_OUTCOMES_SCREENSHOT")
    for section in sections:
        shot = page.locator(f"section#{section}").screenshot()
        assert shot.startswith(b"\x89PNG") and len(shot) > 1000
        if target and section in {"survival", "regression"}:
            Path(target).with_name(f"report-{section}.png").write_bytes(shot)
    found = page.evaluate(MEASURE)
    assert found["nowrap"] > 50  # HR, CI, p and count cells are measured, not skipped
    for problem in ("wide", "clipped", "wrapped", "overlaps", "captions", "svg_text"):
        assert found[problem] == [], problem


def test_hr_cells_stay_on_one_line_at_a_narrow_width(page):
    page.set_viewport_size({"width": 760, "height": HEIGHT})
    try:
        hr = page.evaluate("""() => Array.from(document.querySelectorAll('table')).flatMap(t => {
            const i = Array.from(t.querySelectorAll('thead th')).findIndex(th => th.textContent.startsWith('HR'));
            return i < 0 ? [] : Array.from(t.querySelectorAll('tbody tr')).map(r => r.children[i]);
        }).map(td => {
            const r = document.createRange();
            r.selectNodeContents(td);
            return [td.textContent, new Set(Array.from(r.getClientRects()).map(q => Math.round(q.top))).size];
        })""")
    finally:
        page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    assert hr and all(lines <= 1 for _, lines in hr), hr


def test_chromium_prints_the_report_to_pdf(page):
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 10
