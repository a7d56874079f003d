"""Every plan option reaches every number and every word that depends on it, and nothing else.

Each case runs the seed study twice, once as the baseline and once with one option changed, writing every output
(results.json, report.html, tables.xlsx, report.docx). It asserts that (1) exactly the numbers of results.json that
depend on the option changed (paths compared leaf by leaf), (2) the words that state the option changed in the HTML
report, in the workbook and in the Word tables alike, and (3) the old wording is gone from all three.
"""

from __future__ import annotations

import fnmatch
import html
import re
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from cart_outcomes.plan.run import run_plan

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cd7-tall"
pytestmark = pytest.mark.slow  # two full runs with every output per option

BASE_PLAN = """\
title: options walk
data:
  source: cohort
endpoints:
  response_day: {day}
  response_denominator: {denominator}
statistics:
  conf_type: {conf_type}
  conf_level: {conf_level}
  time_unit: {time_unit}
{profile}
analyses:
  - endpoint: os
    rates_at: [{rate}]
  - endpoint: pfs
    rates_at: [{rate}]
  - endpoint: cir
    rates_at: [{rate}]
comparisons:
  - name: by_hsct
    population: responders
    exposure: hsct_day
    endpoints: [os]
    rates_at: [{rate}]
    landmark_days: [60]
"""
BASE = {"day": 28, "denominator": "all_infused", "conf_type": "log-log", "conf_level": 0.95, "time_unit": "days",
        "profile": "", "rate": 182.625}


def _cohort(folder: Path, *, day90: bool = False, pregraded: str | None = None) -> None:
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("*.py", "*.md", "*.yaml"))
    patients = pd.read_csv(folder / "patients.csv", dtype=str, keep_default_na=False)
    if day90:  # day-90 responses: two day-28 responders have progressed, one non-responder responded late
        late = patients["day28_response"].replace({"NR": "PR"}).mask(patients["patient_id"].isin(["CD7-02", "CD7-05"]),
                                                                     "PD")
        patients["day90_response"] = late
    if pregraded is not None:  # grades as recorded in the sheet, graded with another system
        (folder / "crs_observations.csv").unlink()
        (folder / "neuro_assessments.csv").unlink()
        patients["crs_grading_system"] = pregraded
        patients["icans_grading_system"] = pregraded
    patients.to_csv(folder / "patients.csv", index=False)


def _visible(text: str) -> str:
    text = re.sub(r"<svg.*?</svg>", " ", text, flags=re.S)
    text = re.sub(r"<style.*?</style>", " ", text, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)))


def _zip_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        xml = "\n".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", xml)))


def _run(tmp_path: Path, name: str, *, day90: bool = False, pregraded: str | None = None, **options) -> dict:
    folder = tmp_path / name
    folder.mkdir()
    _cohort(folder / "cohort", day90=day90, pregraded=pregraded)
    (folder / "study.yaml").write_text(BASE_PLAN.format(**{**BASE, **options}))
    run = run_plan(folder / "study.yaml", out=folder / "out")
    out = folder / "out"
    return {"results": run.results, "html": _visible((out / "report.html").read_text(encoding="utf-8")),
            "xlsx": _zip_text(out / "tables.xlsx"), "docx": _zip_text(out / "report.docx")}


def _leaves(value, path=""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, f"{path}.{k}" if path else k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, f"{path}[{i}]")
    else:
        yield path, value


def _changed(a: dict, b: dict) -> set[str]:
    """Paths of results.json whose value differs (``[i]`` indices written as ``[*]``), the echoed plan left out."""
    left = {p: v for p, v in _leaves(a) if not p.startswith("plan.")}
    right = {p: v for p, v in _leaves(b) if not p.startswith("plan.")}
    return {re.sub(r"\[\d+\]", "[*]", p) for p in left.keys() | right.keys() if left.get(p, "∅") != right.get(p, "∅")}


def _only(changed: set[str], allowed: list[str]) -> list[str]:
    """The changed paths no ``allowed`` pattern covers (``*`` any text; ``[*]`` is a literal list index)."""
    def plain(text: str) -> str:
        return text.replace("[*]", "#")

    return sorted(p for p in changed if not any(fnmatch.fnmatchcase(plain(p), plain(a)) for a in allowed))


def _everywhere(outputs: dict, words: list[str]) -> None:
    for kind in ("html", "xlsx", "docx"):
        for w in words:
            assert w in outputs[kind], (kind, w)


def _nowhere(outputs: dict, words: list[str], kinds=("html", "xlsx", "docx")) -> None:
    for kind in kinds:
        for w in words:
            assert w not in outputs[kind], (kind, w)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> dict:
    return _run(tmp_path_factory.mktemp("base"), "base")


INTERVALS = ["*lower", "*upper", "*.options.r_equivalent"]  # the R call states conf.type and conf.int too


def test_time_unit_months(base, tmp_path):
    months = _run(tmp_path, "months", time_unit="months", rate=6)
    a, b = base["results"], months["results"]
    assert b["conventions"]["time_unit"] == "months"
    km = a["survival"][0]["groups"][0], b["survival"][0]["groups"][0]
    for key in ("median", "lower", "upper"):  # medians and their limits in months (days / 30.4375); NR stays NR
        assert km[1][key] == (None if km[0][key] is None else pytest.approx(km[0][key] / 30.4375, rel=1e-12))
    rate = a["survival"][0]["groups"][0]["rates"][0], b["survival"][0]["groups"][0]["rates"][0]
    assert (rate[0]["survival"], rate[1]["time"]) == (rate[1]["survival"], 6) and rate[1]["label"] == "6-month"
    assert b["followup"]["median_followup"] == pytest.approx(a["followup"]["median_followup"] / 30.4375, rel=1e-12)
    assert _only(_changed(a, b), ["conventions.time_unit", "followup.*", "*groups[*].median", "*groups[*].lower",
                                  "*groups[*].upper", "*.rates[*].time", "*.rates[*].label"]) == []
    _everywhere(months, ["6-month OS", "Median (95% CI), months"])
    assert "months (95% CI" in months["html"] and "Days divided by" not in months["html"]
    assert "Times in months are days divided by 30.4375" in months["html"]
    _nowhere(months, ["Day 182.6 OS", "Median (95% CI), days"])


def test_conf_level(base, tmp_path):
    ninety = _run(tmp_path, "ninety", conf_level=0.9)
    a, b = base["results"], ninety["results"]
    changed = _changed(a, b)
    for must in ("response[*].lower", "survival[*].groups[*].rates[*].lower", "comparisons[*].naive.cox.upper",
                 "comparisons[*].time_dependent_cox.coefficients[*].lower", "comparisons[*].landmarks[*].cox.lower",
                 "toxicity.crs.distribution[*].upper", "kinetics.persistence[*].lower",
                 "labs.recovery_incidence[*].upper"):
        assert must in changed, must
    assert _only(changed, [*INTERVALS, "*conf_level"]) == []
    _everywhere(ninety, ["90% CI"])
    assert "HR (90% CI)" in ninety["html"] and "at the 90% level" in ninety["html"]
    _nowhere(ninety, ["95%"])


def test_conf_type(base, tmp_path):
    plain = _run(tmp_path, "plain", conf_type="plain")
    a, b = base["results"], plain["results"]
    changed = _changed(a, b)
    assert {"survival[*].groups[*].rates[*].lower", "survival[*].groups[*].rates[*].upper"} <= changed
    cif = next(i for i, s in enumerate(a["survival"]) if s["endpoint"] == "cir")
    assert a["survival"][cif]["groups"][0]["rates"][0]["lower"] != b["survival"][cif]["groups"][0]["rates"][0]["lower"]
    assert b["conventions"]["conf_type"] == b["conventions"]["cif_conf_type"] == "plain"
    assert _only(changed, [*INTERVALS, "conventions.conf_type", "conventions.cif_conf_type", "*.options.conf_type",
                           "*.median"]) == []
    assert "Kaplan-Meier; plain 95% CI" in plain["html"] and "Aalen-Johansen; plain 95% CI" in plain["html"]
    assert "untransformed (plain) Greenwood interval" in plain["html"]
    _nowhere(plain, ["log-log"], kinds=("html", "docx", "xlsx"))


def test_profile(base, tmp_path):
    r = _run(tmp_path, "profile", conf_type="log", profile="  profile: R")
    a, b = base["results"], r["results"]
    assert (b["conventions"]["profile"], b["conventions"]["conf_type"], b["conventions"]["cif_conf_type"]) == \
        ("R", "log", "log")
    assert _only(_changed(a, b), [*INTERVALS, "conventions.*", "*.options.conf_type", "*.options.profile",
                                  "*.median"]) == []
    assert "Confidence intervals follow the R profile." in r["html"]
    assert "Kaplan-Meier; log 95% CI" in r["html"] and "the log transformation" in r["html"]
    _nowhere(r, ["log-log"])


def test_response_denominator(base, tmp_path):
    evaluable = _run(tmp_path, "evaluable", denominator="evaluable")
    a, b = base["results"], evaluable["results"]
    orr = next(r for r in b["response"] if r["measure"] == "overall_response")
    assert (orr["responders"], orr["n"]) == (8, 11)
    assert _only(_changed(a, b), ["response[*].*", "conventions.response_denominator", "data_quality.*",
                                  "kinetics.summary[*].*", "kinetics.tests[*].*"]) == []
    _everywhere(evaluable, ["8/11, 72.7% ("])  # the day-28 table says what the paragraph and results.json say
    assert "(CR, CRi, CRh, PR) at day 28: 8/11, 72.7% (" in evaluable["html"]
    assert "denominator: evaluable patients" in evaluable["html"]
    assert "denominator evaluable patients only" in evaluable["html"]
    _nowhere(evaluable, ["at day 28: 8/12", "all infused patients (not evaluable"])


def test_response_day(base, tmp_path):
    day90 = _run(tmp_path, "day90", day=90, day90=True)
    a, b = base["results"], day90["results"]
    assert b["conventions"]["response_column"] == "day90_response"
    orr = next(r for r in b["response"] if r["measure"] == "overall_response" and r["column"] == "day90_response")
    assert (orr["responders"], orr["n"]) == (8, 12)  # CD7-02 and CD7-05 lost, two NR became PR
    changed = _changed(a, b)
    assert "response[*].column" in changed
    assert any(p.startswith("comparisons") for p in changed)  # the responders compared are day-90 responders
    assert _only(changed, ["response[*].*", "conventions.response_*", "comparisons[*].*", "kinetics.*",
                           "data_quality.*", "input.sha256.patients.csv"]) == []
    _everywhere(day90, ["Day-90 response"])
    assert "at day 90:" in day90["html"] and "Response was assessed at day 90" in day90["html"]
    _nowhere(day90, ["Day-28 response", "at day 28", "assessed at day 28"])


def test_grading_system_of_pregraded_data(tmp_path):
    astct = _run(tmp_path, "astct", pregraded="ASTCT2019")
    lee = _run(tmp_path, "lee", pregraded="Lee2014")
    a, b = astct["results"], lee["results"]
    assert b["toxicity"]["crs"]["systems"] == ["Lee2014"] and b["toxicity"]["crs"]["pregraded"]
    assert _only(_changed(a, b), ["toxicity.*.system*", "toxicity.*.basis", "input.sha256.patients.csv"]) == []
    _everywhere(lee, ["Lee 2014 (NCI)"])  # the system in words (report.labels), never its id
    assert "2014 NCI criteria (Lee et al., Blood 2014)" in lee["html"]
    _nowhere(lee, ["ASTCT"])
