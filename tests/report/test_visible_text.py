"""No internal identifier reaches a reader: the visible text of report.html and report.docx holds no snake_case
identifier and no criteria code (every id passes through report.labels). Two runs are scanned: the seed study (every
section it has) and the 150-patient arms cohort with the sections the seed study lacks or keeps small (multivariable
Cox with categorical covariates, Fine-Gray, stratified and robust Cox, RMST by a coded column).

Two places quote the user's own names on purpose and are left out of the scan: the data-quality warnings (they
name the spreadsheet column, e.g. 'progression_day', so the cell can be found) and the reproducibility footer (file
names, the plan as written). File names (``kinetics_parameters.csv``) are allowed wherever they appear.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

ARMS = Path(__file__).parents[1] / "reference" / "arms_cohort" / "patients.csv"
ARMS_PLAN = f"""version: 1
data: {{source: {ARMS.as_posix()}}}
analyses: [{{endpoint: os}}]
regression:
  - {{endpoint: os, covariates: [age_years, diagnosis, car_t_source, ldh], reference: {{diagnosis: LBCL}}}}
  - {{endpoint: cir, model: fine-gray, covariates: [age_years, car_t_source]}}
  - {{endpoint: pfs, covariates: [car_t_source], strata: [sex], robust: true, univariable: false}}
rmst: [{{endpoint: os, by: car_t_source, tau: 365}}]
"""

SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b(?!\.(?:csv|json|xlsx|svg|png|pdf|yaml)\b)")
CODES = re.compile(r"ASTCT\d{4}|EHA_EBMT|ICAHT\d{4}|Lee\d{4}|CTCAE_v\d|\befron\b|\bbreslow\b|grade_\d")


class _Visible(HTMLParser):
    """Text a browser shows: not inside head/style/footer, nor the data-quality warning list."""

    HIDDEN = {"head", "style", "title", "footer", "script"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict]] = []
        self.section: str | None = None
        self.texts: list[tuple[str | None, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.section = attrs.get("id")
        if tag not in {"meta", "br", "img", "input", "link", "path", "use", "rect", "line", "polyline"}:
            self.stack.append((tag, attrs))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        tags = [t for t, _ in self.stack]
        if self.HIDDEN & set(tags) or not data.strip():
            return
        if self.section == "data-quality" and any("warnings" in (a.get("class") or "") for _, a in self.stack):
            return
        self.texts.append((self.section, data.strip()))


def _leaks(texts: list[tuple[str | None, str]]) -> list[tuple[str | None, str, list[str]]]:
    return [(where, text[:120], SNAKE.findall(text) + CODES.findall(text)) for where, text in texts
            if SNAKE.search(text) or CODES.search(text)]


def test_scanner_finds_what_it_looks_for():
    assert _leaks([("x", "graded by ASTCT2019 for responders_by_hsct (efron ties)")])[0][2] == [
        "responders_by_hsct", "ASTCT2019", "efron"]
    assert _leaks([("x", "flagged in kinetics_parameters.csv; CAR-T, day-28, Grade ≥3")]) == []


@pytest.fixture(scope="module")
def arms_run(tmp_path_factory):
    from cart_outcomes.plan.model import parse_plan
    from cart_outcomes.plan.run import run_plan

    return run_plan(parse_plan(ARMS_PLAN), out=tmp_path_factory.mktemp("arms"))


@pytest.fixture(scope="module", params=["demo", "arms"])
def run(request):
    return request.getfixturevalue(f"{request.param}_run")


def test_the_arms_run_has_the_sections_it_is_meant_to_scan(arms_run):
    regression = arms_run.results["regression"]
    assert [r["model"] for r in regression] == ["cox", "fine-gray", "cox"]
    assert regression[0]["multivariable"] and regression[2]["options"]["strata"] == ["sex"]
    assert len(arms_run.results["rmst"]) == 1


def test_html_shows_no_identifier(run):
    parser = _Visible()
    parser.feed((run.out_dir / "report.html").read_text(encoding="utf-8"))
    assert len(parser.texts) > 100
    sections = {where for where, _ in parser.texts}
    assert {"regression", "methods"} <= sections
    assert _leaks(parser.texts) == []


@pytest.fixture(scope="module")
def docx_texts(run) -> list[tuple[str | None, str]]:
    from docx import Document

    document = Document(str(run.out_dir / "report.docx"))
    texts: list[tuple[str | None, str]] = []
    heading = None
    body = document.element.body
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for child in body.iterchildren():
        if child.tag.endswith("}p"):
            p = Paragraph(child, document)
            if p.style.name.startswith("Heading"):
                heading = p.text
            # the data-quality warnings quote the sheet's column names; the footer quotes file names and the plan
            if (heading == "Data quality" and p.style.name == "List Bullet") or heading == "Reproducibility":
                continue
            texts.append((heading, p.text))
        elif child.tag.endswith("}tbl"):
            texts += [(heading, c.text) for row in Table(child, document).rows for c in row.cells]
    return texts


def test_docx_shows_no_identifier(docx_texts):
    assert len(docx_texts) > 100
    assert _leaks(docx_texts) == []
