"""The HTML report: self-contained, user text escaped everywhere, figures only as checked static SVG; the methods
paragraph and the de-identification helper."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from report_cases import SCRIPT_ID, demo_document, hostile_cohort

import cart_outcomes.report as R
from cart_outcomes.errors import InputError
from cart_outcomes.results import apply_code_map, date_columns, deidentify


@pytest.fixture(scope="module")
def html() -> str:
    return R.render_html(demo_document(hostile_cohort()))


def test_no_user_text_becomes_markup(html):
    assert "<script" not in html.lower()
    assert "<img" not in html.lower() and "onerror=" not in html.replace("onerror=alert", "")  # only as text
    assert "&lt;script&gt;alert(&#39;id&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "O&#39;Brien &#34;Pat&#34; &amp; co" in html
    # attributes (aria-label) carry escaped quotes, so a caption cannot break out of them
    assert ('aria-label="Swimmer plot. &lt;script&gt;alert(&#39;id&#39;)&lt;/script&gt; '
            'O&#39;Brien &#34;Pat&#34; &amp; co"') in html


def test_self_contained_nothing_fetched(html):
    # every src/href is a same-document fragment; the CSP forbids scripts and network even if something slipped in
    refs = re.findall(r"""\b(?:src|href|xlink:href)\s*=\s*["']([^"']*)""", html)
    assert refs and all(r.startswith("#") for r in refs)
    assert "default-src 'none'" in html
    assert "<link" not in html and "@import" not in html
    assert all(u.startswith("#") for u in re.findall(r"url\(\s*([^)]*)\)", html))  # only clip-path="url(#id)"
    assert html.count("<svg") == 5


def test_sections_and_footer(html):
    for section_id in ("cohort", "data-quality", "response", "survival", "hsct", "safety", "methods"):
        assert f'<section id="{section_id}">' in html and f'href="#{section_id}"' in html
    assert "0" * 64 in html and "2026-01-01 00:00 UTC" in html and R.__name__
    assert "immortal" in html


def test_rendering_is_deterministic(html):
    assert R.render_html(demo_document(hostile_cohort())) == html


@pytest.mark.parametrize(
    "svg",
    [
        "<svg><script>alert(1)</script></svg>",
        '<svg onload="alert(1)"></svg>',
        '<svg><image href="http://x/a.png"/></svg>',
        '<svg><use xlink:href="https://x/s.svg#a"/></svg>',
        "<svg><foreignObject><div/></foreignObject></svg>",
        '<svg><a href="javascript:alert(1)">x</a></svg>',
        '<svg><rect style="fill: url(http://x/p)"/></svg>',
        "<div>not svg</div>",
    ],
)
def test_figure_block_refuses_active_or_external_svg(svg):
    with pytest.raises(InputError):
        R.FigureBlock(svg=svg, caption="x")


def test_document_model_checks_ids():
    with pytest.raises(InputError, match="section id"):
        R.Section('x" onclick="', "bad")
    with pytest.raises(InputError, match="unique"):
        R.ReportDocument("t", [R.Section("a", "A"), R.Section("a", "B")])


def test_methods_paragraph_names_each_convention():
    text = R.methods_paragraph({
        "time_zero": "the day of CAR-T infusion (day 0)", "conf_type": "log-log", "conf_level": 0.9,
        "median_rule": "r", "followup": "reverse_km", "tests": ["logrank", "gray"], "hazard_ratio": "cox",
        "ties": "efron", "binomial_ci": "clopper-pearson", "competing_risks": True,
        "time_dependent": ["landmark", "time_dependent_cox", "mantel_byar", "simon_makuch"], "landmark_day": 60,
        "unit": "months", "software": {"cart-outcomes": "0.1.0", "numpy": "2.4"}, "deidentified": True,
        "something_else": 1,
    })
    for phrase in ("day of CAR-T infusion", "90% pointwise", "log(-log S)", "flat", "reverse Kaplan-Meier",
                   "log-rank test", "Gray's test", "Efron", "Clopper-Pearson", "Aalen-Johansen", "at day 60",
                   "time-dependent covariate", "Mantel-Byar", "Simon-Makuch", "30.4375", "cart-outcomes 0.1.0",
                   "study codes"):
        assert phrase in text, phrase
    assert R.methods_paragraph({}) == ""
    with pytest.raises(InputError, match="conf_type"):
        R.methods_paragraph({"conf_type": "arcsine"})
    with pytest.raises(InputError, match="unknown tests"):
        R.methods_paragraph({"tests": ["t-test"]})


def test_methods_describe_icaht_supportive_care_and_the_rounding_policy():
    from cart_outcomes.report._format import ROUNDING_POLICY

    text = R.methods_paragraph({"icaht_criteria": "the EHA/EBMT 2023 consensus grading (Rejeski et al., Blood 2023)",
                                "supportive_care": ["tocilizumab", "icu_admission"], "rounding": ROUNDING_POLICY})
    for phrase in ("(ICAHT) was graded", "Rejeski", "early ICAHT (days 0–30)", "late ICAHT (after day 30)",
                   "tocilizumab and intensive care", "66.7% (34.9–90.1)"):
        assert phrase in text, phrase
    assert text.count("rounded") == 1  # the policy is stated once
    with pytest.raises(InputError, match="supportive_care"):
        R.methods_paragraph({"supportive_care": ["plasma_exchange"]})


def test_prism_hazard_ratio_is_not_called_cox():
    text = R.methods_paragraph({"hazard_ratio": "logrank"})
    assert "not Cox" in text


def test_deidentify_codes_drop_dates_and_ignore_row_order(cohort):
    frame, codes = deidentify(cohort, drop=["note"])
    assert "infusion_date" not in frame.columns and "note" not in frame.columns
    assert "os_days" in frame.columns and "hsct_day" in frame.columns  # days from infusion are kept
    assert sorted(frame["patient_id"]) == [f"PT-{k:02d}" for k in range(1, 13)]
    assert set(codes) == set(cohort["patient_id"]) and len(set(codes.values())) == 12
    # natural sort of the ids: P07 < P08 < ... < P12 comes after the punctuation-led ids
    assert [codes[f"P{k:02d}"] for k in range(7, 13)] == sorted(codes[f"P{k:02d}"] for k in range(7, 13))
    shuffled, codes2 = deidentify(cohort.sample(frac=1, random_state=1), drop=["note"])
    assert codes2 == codes
    assert (frame["patient_id"].tolist() == [codes[p] for p in cohort["patient_id"]])


def test_apply_code_map_never_lets_an_id_through(cohort):
    _, codes = deidentify(cohort)
    daily = pd.DataFrame({"patient_id": [SCRIPT_ID, "P07", "P99"], "day": [1, 2, 3]})
    with pytest.raises(InputError, match="without a study code"):
        apply_code_map(daily, codes)
    mapped = apply_code_map(daily.head(2), codes)
    assert mapped["patient_id"].tolist() == [codes[SCRIPT_ID], codes["P07"]]


def test_deidentified_report_contains_no_original_id(cohort):
    frame, _ = deidentify(cohort, drop=["note"])
    html = R.render_html(R.ReportDocument(
        "De-identified", [R.Section("response", "Response", figures=[R.figure_block(R.swimmer_figure(frame), "s")],
                                    tables=[R.TableBlock(frame[["patient_id", "os_days"]], "ids")])]))
    for pid in ("P07", "P12", "evil.example", "O&#39;Brien", "alert("):
        assert pid not in html
    assert "PT-01" in html


def test_date_columns_are_detected():
    frame = pd.DataFrame({"infusion_date": ["2024-01-01"], "dob": ["x"], "update_count": [1],
                          "when": [pd.Timestamp("2024-01-01")], "days": [3]})
    assert date_columns(frame) == ["infusion_date", "dob", "when"]


def test_raw_frames_render_numbers_and_flags():
    frame = pd.DataFrame({"term": ["a", "b"], "p": [0.000123456, 0.5], "n": [12, 3], "flag": [True, False],
                          "hr": [float("nan"), 1.23456]})
    html = R.render_html(R.ReportDocument("t", [R.Section("x", "X", tables=[R.TableBlock(frame, "raw")])],
                                          R.Footer(date="d")))
    rows = re.findall(r"<tr>(.*?)</tr>", html)
    # p, n and hr columns never wrap (one rule, report.html.nowrap_columns, for HTML and Word)
    assert rows[1] == ('<td>a</td><td class="num nowrap">0.0001235</td><td class="num nowrap">12</td><td>yes</td>'
                       '<td class="nowrap"></td>')
    assert rows[2] == ('<td>b</td><td class="num nowrap">0.5</td><td class="num nowrap">3</td><td>no</td>'
                       '<td class="num nowrap">1.235</td>')
