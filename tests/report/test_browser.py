"""The HTML report in a real browser: headless Chromium loads it from disk with no console errors, no exceptions,
no dialogs (nothing executed) and no network request besides the file itself; a screenshot is produced.

Needs Debian's ``chromium`` (``apt-get install -y chromium``); skipped with that reason when it is not installed.
The documentation screenshot is regenerated with::

    CART_OUTCOMES_SCREENSHOT=docs/img/report.png PYTHONPATH=src python -m pytest tests/report/test_browser.py -m browser
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _chromium import file_url, find_chromium, open_page
from report_cases import SCRIPT_ID, clean_cohort, demo_document, hostile_cohort

import cart_outcomes.report as R

CHROMIUM = find_chromium()

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt-get install -y chromium)"),
]
EXPRESSIONS = {
    "scripts": "document.scripts.length",
    "images": "document.images.length",
    "svgs": "document.querySelectorAll('svg').length",
    "sections": "Array.from(document.querySelectorAll('section')).map(s => s.id)",
    "text": "document.body.innerText",
    "title": "document.title",
}


def _load(tmp_path: Path, doc: R.ReportDocument):
    path = tmp_path / "report.html"
    path.write_text(R.render_html(doc), encoding="utf-8")
    return path, open_page(CHROMIUM, file_url(path), expressions=EXPRESSIONS)


def _assert_clean(path: Path, page) -> None:
    assert page.requests == [file_url(path)]  # the document itself, nothing else
    assert [c for c in page.console if c.get("type") in ("error", "assert", "warning")] == []
    assert page.exceptions == []
    assert [e for e in page.log_entries if e.get("level") in ("error", "warning")] == []
    assert page.dialogs == []
    assert page.evaluations["scripts"] == 0 and page.evaluations["images"] == 0
    assert page.screenshot.startswith(b"\x89PNG")


def test_hostile_report_renders_inert_and_offline(tmp_path):
    path, page = _load(tmp_path, demo_document(hostile_cohort()))
    _assert_clean(path, page)
    assert page.evaluations["svgs"] == 5
    assert page.evaluations["sections"] == ["cohort", "data-quality", "response", "survival", "hsct", "safety",
                                            "methods"]
    # the script tags arrive as visible text, never as elements
    assert SCRIPT_ID in page.evaluations["text"] and SCRIPT_ID in page.evaluations["title"]


def test_clean_report_renders_offline(tmp_path):
    path, page = _load(tmp_path, demo_document(clean_cohort(), hostile=False))
    _assert_clean(path, page)


def test_demo_run_report_renders_offline_without_errors(demo_run):
    """The report.html that run_plan wrote for the seed study, opened from disk as a user would."""
    path = demo_run.out_dir / "report.html"
    page = open_page(CHROMIUM, file_url(path), expressions=EXPRESSIONS)
    _assert_clean(path, page)
    assert page.evaluations["sections"] == ["cohort", "data-quality", "response", "survival", "hsct", "regression",
                                            "subgroups", "safety", "kinetics", "methods"]
    assert page.evaluations["svgs"] == len(list((demo_run.out_dir / "figures").glob("*.svg")))
    assert "Mantel-Byar" in page.evaluations["text"] and "Haematological recovery" in page.evaluations["text"]
    target = os.environ.get("CART_OUTCOMES_SCREENSHOT")  # the documentation screenshot: the seed study's report
    if target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_bytes(page.screenshot)
