"""The report of a real plan run: every section filled from the run, numbers at risk equal to the fits', outputs
written as the plan asks, hostile text inert in HTML/CSV/XLSX, and --deidentify leaving no id or date anywhere."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import html
import re
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml
from report_cases import EXAMPLE, drawn_at_risk, drawn_table

from cart_outcomes._version import __version__
from cart_outcomes.plan.run import run_plan
from cart_outcomes.report._format import round_half_up
from cart_outcomes.report.build import build_report, report_outputs
from cart_outcomes.report.html import SECTION_ORDER, render_html
from cart_outcomes.report.options import ReportOptions
from cart_outcomes.results.deidentify import code_text, deidentify_run

SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://x","y")'
QUOTES = 'O\'Brien "Pat"'
SEED_IDS = [f"CD7-{k:02d}" for k in range(1, 13)]
INFUSION_DATES = pd.date_range("2024-03-01", periods=12, freq="9D")


@pytest.fixture(scope="module")
def demo_outputs(demo_run):
    return report_outputs(demo_run, ReportOptions(date=dt.date(2026, 1, 1)))


def _section_ids(text: str) -> list[str]:
    return re.findall(r'<section[^>]*\bid="([a-z0-9-]+)"', text)


def _visible(text: str) -> str:
    """Text of the page without SVG, tags and entities (what a reader sees)."""
    text = re.sub(r"<svg.*?</svg>", " ", text, flags=re.S)
    text = re.sub(r"<style.*?</style>", " ", text, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)))


def test_demo_run_writes_every_output_the_plan_asks_for(demo_run):
    out = demo_run.out_dir
    for name in ("results.json", "report.html", "tables.xlsx", "report.docx"):
        assert (out / name).is_file()
    svgs = sorted(p.stem for p in (out / "figures").glob("*.svg"))
    assert svgs == sorted(["swimmer", "km_os_all_overall", "km_os_all_diagnosis", "km_os_age_years-ge18_overall",
                           "km_pfs_all_overall", "cif_all_overall",
                           "naive_km_responders_by_hsct_os", "naive_km_responders_by_hsct_pfs",
                           "simon_makuch_responders_by_hsct_os", "simon_makuch_responders_by_hsct_pfs",
                           "toxicity_daily", "toxicity_grades", "kinetics_peripheral_blood_qpcr_copies_per_ug_dna",
                           "kinetics_peripheral_blood_flow_percent_of_cd3", "kinetics_by_response",
                           "lab_trajectories", "forest_os_cox"])
    assert not list((out / "figures").glob("*.png"))  # the seed plan asks for SVG only
    assert set(demo_run.files) == {p for p in out.rglob("*") if p.is_file()}


def test_demo_report_has_every_section_filled_from_the_run(demo_run):
    text = (demo_run.out_dir / "report.html").read_text(encoding="utf-8")
    assert _section_ids(text) == [s for s in SECTION_ORDER if s != "rmst"]  # the demo plan has no rmst section
    seen = _visible(text)
    # cohort: Table 1 rows from patients.csv (11 autologous / 1 allogeneic), swimmer plot
    assert "Table 1. Baseline characteristics" in seen and "Autologous 11 (92%)" in seen
    assert "Swimmer plot" in seen
    # response: ORR 8/12 with the exact CI and the denominator stated
    assert "8/12, 66.7% (95% CI 34.9–90.1), Clopper-Pearson exact interval; denominator: all infused patients" in seen
    assert "8/12, 66.7% (34.9–90.1)" in seen  # the same digits in the response table
    # survival: median OS 134 d and PFS 81 d, the 6-month rates (182.6 d), CIF
    assert "134 (41–NR)" in seen and "81 (27–240)" in seen  # whole days (the rounding policy)
    assert "Cumulative incidence of relapse/progression" in seen
    # HSCT: the warning of results.json, naive p 0.073 / 0.022 beside the corrected analyses
    for c in demo_run.results["comparisons"]:
        assert c["immortal_time"]["warning"] in seen
    assert re.search(r'class="warning', text)
    assert re.search(r"Naive log-rank from day 0 \(HSCT vs no HSCT\) No \(biased in favour of HSCT\) "
                     r"0\.\d\d \(0\.\d\d–\d\.\d\d\) 0\.073", seen)
    assert re.search(r"Naive log-rank from day 0 \(HSCT vs no HSCT\) No \(biased in favour of HSCT\) "
                     r"0\.\d\d \(0\.\d\d–\d\.\d\d\) 0\.022", seen)
    for row in ("Landmark at day 60 (exposed by then vs not) Yes 0.",
                "Landmark at day 90 (exposed by then vs not) Yes 0.",
                "Time-dependent Cox (Efron method for ties) Yes 0.",
                "Mantel-Byar test Yes —"):
        assert seen.count(row) == 2  # OS and PFS, with the HR (95% CI) wherever a Cox model gives one
    # safety: CRS 12/12, grade 3 in 4, ICANS in 1
    assert "Any grade 12 (100%)" in seen and "Grade 3 4 (33%)" in seen and "Grade 1–2 8 (67%)" in seen
    assert "Any grade 1 (8%)" in seen
    assert "Early ICAHT (days 0–30), EHA/EBMT 2023" in seen and "Late ICAHT (after day 30), EHA/EBMT 2023" in seen
    # methods from conventions and software; footer: SHA-256 of the input, the plan, version, date
    assert "log-log transformation" in seen and f"cart-outcomes {__version__}" in seen
    sha = hashlib.sha256((EXAMPLE / "patients.csv").read_bytes()).hexdigest()
    assert f"patients.csv: {sha}" in seen
    assert "responders_by_hsct" in seen and "landmark_days" in seen
    assert "Generated date not recorded (set report.date in the plan or SOURCE_DATE_EPOCH) by" in seen  # no clock
    assert "identifiable (not de-identified)" in seen


def test_footer_plan_is_the_plan_of_results_json(demo_outputs, demo_run):
    assert yaml.safe_load(demo_outputs.document.footer.plan_text) == demo_run.results["plan"]


def test_at_risk_numbers_under_every_km_figure_equal_the_fit(demo_run, demo_outputs):
    fits, naive, curves = demo_run.fits.survival, demo_run.fits.naive, demo_run.fits.simon_makuch
    frame = demo_run.patients
    checked = 0
    for name, (fig, _block) in demo_outputs.figures.items():
        if name.startswith(("swimmer", "toxicity", "kinetics", "lab_", "forest_")):  # no time-to-event curve
            continue
        ticks = list(fig.axes[0].get_xticks())
        if name.startswith("km_"):
            at = fits[name[3:]].at(ticks)
            # R's n.risk at t = patients still under observation at t, and the cumulative events = events on or
            # before t (hand counts on the derived endpoint, in the analysis's population: the demo also has OS by
            # diagnosis and OS of the adults)
            endpoint, population, by = name.split("_")[1], name.split("_")[2], name.rsplit("_", 1)[1]
            rows = frame[frame["age_years"] >= 18] if population == "age" else frame
            times = rows[f"{endpoint}_time_days"].to_numpy()
            if by == "diagnosis":  # one risk-table row per group
                groups = list(at["group"].unique())
                assert drawn_at_risk(fig) == {g: at.loc[at["group"] == g, "n_risk"].tolist() for g in groups}
                for g in groups:
                    mine = times[(rows["diagnosis"] == g).to_numpy()]
                    assert at.loc[at["group"] == g, "n_risk"].tolist() == [float((mine >= t).sum()) for t in ticks]
                checked += 1
                continue
            drawn = drawn_table(fig)
            assert drawn == {"at_risk": {"At risk": at["n_risk"].tolist()},
                             "events": {"Events": at["n_event"].cumsum().tolist()}}
            events = rows[f"{endpoint}_event"].eq(True).to_numpy()
            assert drawn["at_risk"]["At risk"] == [float((times >= t).sum()) for t in ticks]
            assert drawn["events"]["Events"] == [float((events & (times <= t)).sum()) for t in ticks]
        elif name.startswith("cif_"):
            fit = fits["cir_" + name[4:]]
            at = fit.at(ticks)
            expected = at.loc[at["cause"] == at["cause"].iloc[0], "n_risk"].tolist()
            for panel in (2, 3):  # each cause's panel has its own labelled table of event-free patients
                assert list(drawn_at_risk(fig, panel).values()) == [expected]
            times = frame["cir_time_days"].dropna().to_numpy()
            assert expected == [float((times >= t).sum()) for t in ticks]
        elif name.startswith("naive_km_"):
            comparison, endpoint = name[len("naive_km_"):].rsplit("_", 1)
            at = naive[(comparison, endpoint)].at(ticks)
            assert drawn_at_risk(fig) == {g: at.loc[at["group"] == g, "n_risk"].tolist() for g in at["group"].unique()}
        else:
            assert name.startswith("simon_makuch_")
            comparison, endpoint = name[len("simon_makuch_"):].rsplit("_", 1)
            at = curves[(comparison, endpoint)].at_risk(ticks)
            labels = {"unexposed": "no HSCT (yet)", "exposed": "after HSCT"}
            assert drawn_at_risk(fig) == {labels[s]: at.loc[at["state"] == s, "n_risk"].tolist()
                                          for s in at["state"].unique()}
        checked += 1
    assert checked == 9


def test_results_json_is_byte_identical_and_free_of_clock_time(demo_run):
    written = (demo_run.out_dir / "results.json").read_text(encoding="utf-8")
    assert run_plan(EXAMPLE / "study.yaml").to_json() == written
    assert not re.search(r"\d{4}-\d{2}-\d{2}", written)


def _hostile_study(tmp_path: Path, *, dates: bool = False) -> Path:
    """The seed study with hostile ids and free text (and, with ``dates``, calendar dates); otherwise valid."""
    study = tmp_path / "study"
    shutil.copytree(EXAMPLE, study)
    ids = {"CD7-01": SCRIPT, "CD7-02": FORMULA, "CD7-03": QUOTES}
    patients = pd.read_csv(study / "patients.csv", dtype=str, keep_default_na=False)
    patients["patient_id"] = patients["patient_id"].replace(ids)
    patients.loc[0, "death_cause"] = SCRIPT
    patients.loc[1, "death_cause"] = FORMULA
    patients["notes"] = [f"{QUOTES} {SCRIPT}", FORMULA] + [""] * 10
    if dates:
        patients.insert(1, "infusion_date", INFUSION_DATES.strftime("%Y-%m-%d"))
    patients.to_csv(study / "patients.csv", index=False)
    for name in ("crs_observations.csv", "neuro_assessments.csv", "kinetics.csv", "labs.csv"):
        table = pd.read_csv(study / name, dtype=str, keep_default_na=False)
        table["patient_id"] = table["patient_id"].replace(ids)
        table.to_csv(study / name, index=False)
    plan = (study / "study.yaml").read_text()
    (study / "study.yaml").write_text(plan + "\nfigures:\n  formats: [svg, png]\n")
    return study / "study.yaml"


def test_hostile_ids_and_free_text_neither_execute_nor_evaluate(tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "out"
    run = run_plan(_hostile_study(tmp_path), out=out)
    assert SCRIPT in set(run.tables["endpoints"]["patient_id"])  # the hostile ids went all the way through
    page = (out / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"<\s*script", page, re.IGNORECASE)
    assert SCRIPT not in page
    assert "<!--" not in page  # the swimmer plot's id labels are glyph paths only; no SVG comment copies them
    # the UNKNOWN_COLUMN warning for 'notes' reaches the data-quality section as text
    assert "[UNKNOWN_COLUMN]" in _visible(page)
    # CSV: no cell a spreadsheet would evaluate; the ids are there, neutralised
    risky = ("=", "+", "-", "@", "\t", "\r")
    seen_ids = set()
    for path in (out / "tables").glob("*.csv"):
        with path.open(newline="", encoding="utf-8") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    assert not cell.startswith(risky) or re.fullmatch(r"[-+]?\d+(\.\d+)?(e[-+]?\d+)?", cell), \
                        (path.name, cell)
                    seen_ids.add(cell)
    assert "'" + FORMULA in seen_ids and SCRIPT in seen_ids and QUOTES in seen_ids
    # XLSX: no formula cell anywhere, the formula id stored as text with a leading apostrophe
    book = load_workbook(out / "tables.xlsx")
    values = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(risky), (sheet.title, cell.coordinate, cell.value)
                    values.append(cell.value)
    assert "'" + FORMULA in values
    # the figure formats of the plan: SVG and 300-dpi PNG for every figure
    assert {p.stem for p in (out / "figures").glob("*.png")} == {p.stem for p in (out / "figures").glob("*.svg")}
    with (out / "figures" / "swimmer.png").open("rb") as fh:
        head = fh.read(4096)
    assert b"pHYs" in head  # physical resolution recorded (300 dpi = 11811 px/m)
    assert int.from_bytes(head[head.index(b"pHYs") + 4:][:4], "big") == 11811


def _all_text(path: Path) -> str:
    """Every byte of a file as text (members of zip containers such as XLSX and DOCX expanded)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            return "\n".join(z.read(name).decode("utf-8", "replace") for name in z.namelist())
    return path.read_bytes().decode("utf-8", "replace")


def test_deidentify_leaves_no_patient_id_or_date_in_any_output(tmp_path):
    out = tmp_path / "out"
    run = run_plan(_hostile_study(tmp_path, dates=True), out=out, deidentify=True)
    originals = [SCRIPT, FORMULA, QUOTES, "Brien", "HYPERLINK", "alert", *SEED_IDS[3:]]
    dates = [*INFUSION_DATES.strftime("%Y-%m-%d"), *INFUSION_DATES.strftime("%d/%m/%Y"), "2024-03"]
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"results.json", "report.html", "tables.xlsx", "report.docx", "swimmer.svg",
                                        "endpoints.csv", "crs_by_patient.csv"}
    for path in files:
        text = _all_text(path)
        for value in originals + dates:
            assert value not in text, (path.name, value)
        assert "CD7-" not in text, path.name
    codes = pd.read_csv(out / "tables" / "endpoints.csv")["patient_id"].tolist()
    assert sorted(codes) == [f"PT-{k:02d}" for k in range(1, 13)]
    assert run.deidentified and "infusion_date" not in run.patients.columns
    page = _visible((out / "report.html").read_text(encoding="utf-8"))
    assert "de-identified: patient ids replaced by study codes, calendar dates removed" in page
    assert "Patient identifiers were replaced by study codes" in page  # the methods say so too
    # the numbers do not change
    plain = run_plan(_hostile_study(tmp_path / "plain", dates=True))
    assert run.results["survival"] == plain.results["survival"]


def test_a_deidentified_run_reports_no_id(demo_run):
    doc = build_report(deidentify_run(demo_run))
    text = render_html(doc)
    assert not any(pid in text for pid in SEED_IDS)
    assert "de-identified" in _visible(text)
    assert deidentify_run(deidentify_run(demo_run)).tables["endpoints"]["patient_id"].tolist() == \
        deidentify_run(demo_run).tables["endpoints"]["patient_id"].tolist()


def test_text_columns_of_every_string_dtype_are_coded(demo_run):
    # pandas 3 reads and builds text as the str dtype, not object; "string" is the same case on pandas 2
    pid = SEED_IDS[0]
    notes = {dtype: pd.DataFrame({"message": [f"{pid} excluded on 2024-01-02"]}, dtype=dtype)
             for dtype in (object, "string")}
    run = dataclasses.replace(demo_run, tables={**demo_run.tables, **{str(k): v for k, v in notes.items()}})
    coded = deidentify_run(run).tables
    for dtype in notes:
        (message,) = coded[str(dtype)]["message"].tolist()
        assert pid not in message and message.endswith("excluded on [date removed]")


def test_free_text_coding_replaces_whole_ids_and_dates():
    code_map = {"P1": "PT-01", "P10": "PT-02", "<b>": "PT-03"}
    text = "patient P10 (row 3) and P1; P100 is not an id; <b> on 2024-01-03, 3/1/2024 and 2024-01-03T10:00"
    assert code_text(text, code_map) == (
        "patient PT-02 (row 3) and PT-01; P100 is not an id; PT-03 on [date removed], [date removed] and "
        "[date removed]")


def test_kinetics_section_shows_the_numbers_of_results_json(demo_run):
    text = _visible((demo_run.out_dir / "report.html").read_text(encoding="utf-8"))
    kin, labs = demo_run.results["kinetics"], demo_run.results["labs"]
    cmax = next(r for r in kin["summary"] if r["by"] == "response" and r["group"] == "Responder"
                and r["matrix"] == "peripheral_blood" and r["assay"] == "qpcr" and r["parameter"] == "cmax")
    assert f"GM {cmax['geo_mean']:,.0f}, CV {cmax['geo_cv_pct']:.0f}%" in text
    month3 = next(r for r in kin["persistence"] if r["matrix"] == "peripheral_blood" and r["assay"] == "qpcr"
                  and r["month"] == 3)
    # the rounding policy: one decimal, as every estimate with an interval in the report
    assert f"{month3['n_detectable']}/{month3['n_evaluable']}, {round_half_up(month3['percent'], 1)}% (" in text
    anc = next(r for r in labs["recovery_incidence"] if r["lineage"] == "neutrophil" and r["day"] == 28)
    assert f"{round_half_up(100 * anc['estimate'], 1)}% ({round_half_up(100 * anc['lower'], 1)}–" in text
    # single-time-point series (marrow at day 28, one CSF sample) stay out of the report's tables
    assert "Bone marrow, qPCR (copies/µg gDNA) Cmax" not in text


def test_data_quality_lists_a_bounded_number_of_exclusions_and_counts_the_rest(demo_run, monkeypatch):
    """A large cohort can have thousands of exclusions (a covariate missing in a fifth of 100,000 patients): the
    report lists the first MAX_LISTED and says how many more there are and where every one is."""
    import cart_outcomes.report.build as B

    monkeypatch.setattr(B, "MAX_LISTED", 3)
    dq = demo_run.results["data_quality"]
    exclusions = [{"analysis": "regression", "patient_id": f"P{k}", "reason": "missing age"} for k in range(10)]
    warnings = [{**dq["warnings"][0], "patient_id": f"P{k}"} for k in range(5)]
    quality = demo_run.record.data_quality.model_copy(update={"exclusions": exclusions, "warnings": warnings,
                                                               "n_warnings": 5})
    record = demo_run.record.model_copy(update={"data_quality": quality})
    section = next(s for s in build_report(dataclasses.replace(demo_run, record=record)).sections
                   if s.id == "data-quality")
    listed = [p for p in section.paragraphs if p.startswith("Excluded:")]
    assert len(listed) == 3 and "P2" in listed[-1]
    assert section.paragraphs[0].endswith("5 validation warning(s); 10 exclusion(s).")
    assert "… and 7 more exclusion(s)" in section.paragraphs[-1] and "results.json" in section.paragraphs[-1]
    assert len(section.warnings) == 4 and section.warnings[-1].startswith("… and 2 more warning(s)")
