"""Hostile text and names from a study reach every output inert, reruns give the same bytes, and nothing is written
outside ``--out`` (docs/security.md, promises 4-6)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import hostile_cases as H
import pandas as pd
import pytest
from typer.testing import CliRunner

from cart_outcomes.cli import app
from cart_outcomes.errors import InputError
from cart_outcomes.plan.run import run_plan
from cart_outcomes.report._svg import sanitize_svg
from cart_outcomes.report.write import MAX_STEM, safe_stem

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cd7-tall"
#: Ids the old SVG check refused (it matched label text matplotlib copies into SVG comments).
REFUSED_BEFORE = ['P1 <img src=x onerror=alert(1)>', "P2 javascript:alert(1)", "P3 url(http://x/a)",
                  'P4 <a href="http://x">', "P5 --> <script>alert(2)</script> <!--"]


def _study(tmp_path: Path, ids: dict[str, str] | None = None, extra_plan: str = "") -> Path:
    study = tmp_path / "study"
    shutil.copytree(EXAMPLE, study)
    for csv in study.glob("*.csv"):
        table = pd.read_csv(csv, dtype=str, keep_default_na=False)
        if ids:
            table["patient_id"] = table["patient_id"].replace(ids)
        table.to_csv(csv, index=False)
    plan = study / "study.yaml"
    plan.write_text(plan.read_text(encoding="utf-8") + extra_plan, encoding="utf-8")
    return plan


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_ids_that_look_like_markup_are_analysed_and_stay_inert(tmp_path):
    ids = {f"CD7-{k:02d}": text for k, text in enumerate(REFUSED_BEFORE, start=1)}
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(_study(tmp_path, ids)), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output  # exit 2 ("forbidden markup") before
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "default-src 'none'" in page  # the CSP stays the second line of defence
    assert "<!--" not in page and "<metadata" not in page  # no label text copied into SVG comments
    for text in (t for t in REFUSED_BEFORE if "<" in t):
        assert text not in page  # never as markup
    assert not re.search(r"<\s*(script|img)\b|<a href=\"http", page, re.IGNORECASE)
    assert not re.search(r"=\s*\"[^\"]*(javascript:|alert\(|url\(http)", page)  # in no attribute
    shown = set()
    for svg in (out / "figures").glob("*.svg"):
        body = svg.read_text(encoding="utf-8")
        assert "<!--" not in body and sanitize_svg(body) == body.strip()
        tree = ElementTree.fromstring(body)
        for element in tree.iter():
            # user text lives only in the content of <text> elements (editable labels), never in markup
            assert element.tag.rsplit("}", 1)[-1] not in ("script", "a", "img", "foreignObject"), svg.name
            assert not any("alert(" in v or "javascript:" in v for v in element.attrib.values()), svg.name
            if element.tag.endswith("}text"):
                shown.add("".join(element.itertext()))
            else:
                assert "alert(" not in (element.text or ""), svg.name  # e.g. not in the <style> sheet
    assert {"P2 javascript:alert(1)", "P3 url(http://x/a)"} <= shown  # swimmer rows
    assert any(t.startswith("P1 <img src=x") for t in shown)  # a '<' is escaped text, parsed back as text


def test_svg_comments_and_metadata_are_removed_but_active_markup_still_refused():
    svg = ('<svg xmlns="http://www.w3.org/2000/svg"><metadata><x>Matplotlib</x></metadata>'
           '<!-- <img onerror=alert(1)> url(http://x) --><g id="text_1"><path d="M 0 0"/></g></svg>')
    assert sanitize_svg(svg) == '<svg xmlns="http://www.w3.org/2000/svg"><g id="text_1"><path d="M 0 0"/></g></svg>'
    for bad in ('<svg><g onclick="x()"/></svg>', '<svg><set attributeName="href" to="javascript:x"/></svg>',
                '<svg><style>@import "http://x/a.css";</style></svg>', "<svg><g <script>></g></svg>"):
        with pytest.raises(InputError):
            sanitize_svg(bad)


@pytest.mark.slow
def test_reruns_are_byte_identical_for_every_file(tmp_path):
    plan = _study(tmp_path, extra_plan="\nfigures:\n  formats: [svg, png, pdf]\n")
    first, second = tmp_path / "a", tmp_path / "b"
    run_plan(plan, out=first)
    run_plan(plan, out=second)
    a, b = _files(first), _files(second)
    assert {"report.html", "tables.xlsx", "report.docx", "results.json"} <= set(a)
    assert a.keys() == b.keys()
    assert [name for name in a if a[name] != b[name]] == []
    assert "date not recorded" in a["report.html"].decode()


def test_generation_time_is_stated_once_from_the_plan_or_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14 22:13:20 UTC
    out = tmp_path / "env"
    run_plan(_study(tmp_path), out=out)
    assert "<dt>Generated</dt><dd>2023-11-14 22:13 UTC by" in (out / "report.html").read_text(encoding="utf-8")
    for name in ("tables.xlsx", "report.docx"):
        with zipfile.ZipFile(out / name) as z:
            assert "2023-11-14T22:13:20Z" in z.read("docProps/core.xml").decode()
            stamps = {i.date_time for i in z.infolist()}
            assert stamps == ({(2023, 11, 14, 22, 13, 20)} if name.endswith("docx") else {(1980, 1, 31, 0, 0, 0)})
    out = tmp_path / "plan"
    run_plan(_study(tmp_path / "p", extra_plan="\nreport:\n  date: 2026-02-03\n"), out=out)  # the plan wins
    assert "<dt>Generated</dt><dd>2026-02-03 by" in (out / "report.html").read_text(encoding="utf-8")
    with zipfile.ZipFile(out / "report.docx") as z:
        assert {i.date_time for i in z.infolist()} == {(2026, 2, 3, 0, 0, 0)}


def test_a_malformed_source_date_epoch_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    result = CliRunner().invoke(app, ["run", str(_study(tmp_path)), "--out", str(tmp_path / "o"), "--quiet"])
    assert result.exit_code == 2 and "SOURCE_DATE_EPOCH" in result.output


@pytest.mark.parametrize("name", ["../..", "../../escape", "/etc/passwd", "a/b\\c", "x" * 300, ".hidden",
                                  "-rf", "CON", "name\x00null", "név ✓"])
def test_comparison_names_become_safe_file_names_inside_out(tmp_path, name):
    stem = safe_stem(name)
    assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", stem) and len(stem) <= MAX_STEM
    assert not stem.startswith((".", "-")) and "/" not in stem and "\\" not in stem
    assert safe_stem(name + "!") != stem  # distinct names stay distinct


def test_a_run_with_path_like_comparison_names_writes_only_inside_out(tmp_path):
    names = ["../..", "x" * 300]
    comparisons = "".join(f"\n  - name: '{n}'\n    by: sex\n    endpoints: [os]" for n in names)
    plan = _study(tmp_path, extra_plan="").read_text(encoding="utf-8")
    plan = plan.replace("comparisons:\n", "comparisons:" + comparisons + "\n")
    path = tmp_path / "study" / "study.yaml"
    path.write_text(plan, encoding="utf-8")
    before = {p for p in tmp_path.rglob("*")}
    out = tmp_path / "deep" / "out"
    run = run_plan(path, out=out)
    written = {p for p in tmp_path.rglob("*")} - before
    assert written and all(p == out.parent or p.is_relative_to(out) for p in written)
    assert all(p.resolve().is_relative_to(out.resolve()) for p in run.files)
    assert all(len(p.name) <= MAX_STEM + 5 for p in run.files)
    assert {r["comparison"] for r in run.results["comparisons"]} >= set(names)  # the names are kept as given


def test_document_times_are_fixed_without_a_stated_date(tmp_path, monkeypatch):
    from cart_outcomes.report._stamp import FIXED_TIME, document_time, generation_time

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert generation_time() is None and document_time() == FIXED_TIME
    assert generation_time(dt.date(2026, 1, 2)) == dt.datetime(2026, 1, 2, tzinfo=dt.UTC)


def test_a_source_outside_the_plan_folder_is_read_and_named_in_results_and_footer(tmp_path):
    out = tmp_path / "out"
    run = run_plan(H.outside_source_plan(tmp_path), out=out)
    assert run.results["input"]["source_path"] == "../data"  # relative to the plan's folder, never absolute
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "read from data.source &#39;../data&#39; (outside the plan&#39;s folder)" in page


def test_tables_too_long_for_the_workbook_are_listed_not_written(tmp_path, monkeypatch):
    from openpyxl import load_workbook

    from cart_outcomes.report import tables

    monkeypatch.setattr(tables, "MAX_XLSX_CELLS", 3)
    path = tables.write_workbook({"small": pd.DataFrame({"a": [1, 2]})},
                                 {"endpoints": pd.DataFrame({"patient_id": ["P1", "P2", "P3", "P4"]})},
                                 tmp_path / "t.xlsx")
    book = load_workbook(path)
    assert book.sheetnames == ["Index", "T01 small"]
    index = list(book["Index"].iter_rows(values_only=True))
    assert index[2] == (None, "not in this workbook: more than 3 cells; see tables/<name>.csv", "endpoints", None, 4)
