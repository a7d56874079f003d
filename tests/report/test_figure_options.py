"""Figure options (``figures:`` in the plan): the risk table against R, editable SVG text, fixed group colours, time
units on every axis, and each look option reaching the drawing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from report_cases import EXAMPLE, build, competing, drawn_table

from cart_outcomes.errors import InputError
from cart_outcomes.plan.model import FigureSection
from cart_outcomes.report import figures as F
from cart_outcomes.report._format import round_half_up
from cart_outcomes.report.options import FigureOptions
from cart_outcomes.stats import cumulative_incidence, simon_makuch
from cart_outcomes.stats.km import kaplan_meier

REFERENCE = Path(__file__).resolve().parents[1] / "reference"
KM_REF = json.loads((REFERENCE / "km_reference.json").read_text())
ALL_ROWS = FigureOptions(risk_table=("at_risk", "events", "censored"))


def _one(value):
    return value[0] if isinstance(value, list) else value


def _r_cases():
    """The km_reference.R cases without entry times or weights (a risk table counts patients)."""
    return [c for c in KM_REF["cases"] if not _one(c["entry"]) and not _one(c["weights"])]


@pytest.mark.parametrize("case", _r_cases(), ids=lambda c: _one(c["name"]))
def test_risk_table_is_r_n_risk_and_cumulative_n_event_and_n_censor(case):
    # R: s <- summary(fit, times = ticks, extend = TRUE); at risk = s$n.risk, events = cumsum(s$n.event),
    # censored = cumsum(s$n.censor), per stratum (km_reference.R)
    name = _one(case["dataset"])
    data = pd.read_csv(REFERENCE / "lung.csv") if name == "lung" else pd.DataFrame(KM_REF["datasets"][name])
    by = _one(case["by"]) if case["by"] is not None else None
    fit = kaplan_meier(data, "time", "status", by=by, conf_type=_one(case["conf_type"]),
                       conf_level=_one(case["conf_level"]))
    at = case["at"]
    ticks = [float(t) for t in at["times"]]
    fig = F.km_figure(fit, times=ticks, options=ALL_ROWS)
    drawn = drawn_table(fig)
    codes = np.asarray(at["group"])
    for code, group in enumerate(fit.groups, start=1):
        rows = codes == code
        label = "At risk" if len(fit.groups) == 1 else F._short(str(group), 32)
        events_label = "Events" if len(fit.groups) == 1 else label
        censor_label = "Censored" if len(fit.groups) == 1 else label
        r_risk = np.asarray(at["n_risk"], float)[rows]
        assert drawn["at_risk"][label] == r_risk.tolist()
        assert drawn["events"][events_label] == np.cumsum(np.asarray(at["n_event"], float)[rows]).tolist()
        assert drawn["censored"][censor_label] == np.cumsum(np.asarray(at["n_censor"], float)[rows]).tolist()


def _legend(svg: str) -> dict[str, str]:
    """{legend text: stroke colour of its line}, parsed from the SVG's legend group (line, then its text)."""
    legend = svg[svg.index('<g id="legend_1">'):]
    pairs = re.findall(r'<g id="line2d_\d+">\s*<path d="[^"]*" style="[^"]*stroke: (#[0-9a-f]{6})[^"]*"/>\s*</g>'
                       r'\s*<g id="text_\d+">\s*<text[^>]*>([^<]*)</text>', legend)
    return {text: colour for colour, text in pairs}


def test_a_group_has_the_same_colour_in_every_figure_of_the_report(demo_run):
    from cart_outcomes.report.build import report_outputs

    figures = report_outputs(demo_run).figures
    checked = 0
    for endpoint in ("os", "pfs"):
        naive = _legend(figures[f"naive_km_responders_by_hsct_{endpoint}"][1].svg)
        states = _legend(figures[f"simon_makuch_responders_by_hsct_{endpoint}"][1].svg)
        naive = {k.split(" (n = ")[0]: v for k, v in naive.items()}
        assert set(naive) == {"HSCT", "no HSCT"}
        assert states == {"no HSCT (yet)": naive["no HSCT"], "after HSCT": naive["HSCT"]}
        assert naive["HSCT"] != naive["no HSCT"]
        checked += 1
    assert checked == 2


def test_every_demo_svg_keeps_its_text_as_text_elements(demo_run):
    svgs = sorted((demo_run.out_dir / "figures").glob("*.svg"))
    assert len(svgs) >= 10
    for path in svgs:
        svg = path.read_text(encoding="utf-8")
        texts = re.findall(r"<text\b[^>]*>([^<]+)</text>", svg)
        assert texts, path.name
        assert 'id="DejaVuSans-' not in svg  # no glyph outlines: the words are editable
        assert "sans-serif" in svg and "http" not in svg.replace("http://www.w3.org", "")  # nothing fetched
    km = (demo_run.out_dir / "figures" / "km_os_all_overall.svg").read_text(encoding="utf-8")
    km_texts = re.findall(r"<text\b[^>]*>([^<]+)</text>", km)
    assert {"Days since CAR-T infusion", "Number at risk", "At risk", "Events"} <= set(km_texts)


@pytest.fixture(scope="module")
def months_run(tmp_path_factory):
    from cart_outcomes.plan.run import run_plan

    folder = tmp_path_factory.mktemp("months")
    plan = (EXAMPLE / "study.yaml").read_text(encoding="utf-8")
    plan = plan.replace("  conf_level: 0.95\n", "  conf_level: 0.95\n  time_unit: months\n")
    plan = plan.replace("[182.6]", "[6]").replace("data:\n  source: .", f"data:\n  source: {EXAMPLE.as_posix()}")
    (folder / "study.yaml").write_text(plan, encoding="utf-8")
    return run_plan(folder / "study.yaml", out=folder / "out")


#: Figures of day-resolution data (daily grades, expansion over days 0-28, lab trajectories): drawn in days in any
#: time unit, as CAR-T papers draw them.
DAILY = ("toxicity_", "kinetics_", "lab_")
#: Figures without a time axis (hazard ratios of the regression section).
TIMELESS = ("forest_",)


@pytest.mark.slow
def test_demo_in_months_says_months_on_every_time_axis_and_label(months_run):
    out = months_run.out_dir
    assert months_run.results["conventions"]["time_unit"] == "months"
    for path in sorted((out / "figures").glob("*.svg")):
        texts = re.findall(r"<text\b[^>]*>([^<]+)</text>", path.read_text(encoding="utf-8"))
        words = " ".join(texts)
        if path.name.startswith(DAILY):
            continue
        assert not re.search(r"\bdays?\b", words, re.IGNORECASE), (path.name, words)
        if path.name.startswith(TIMELESS):
            continue
        assert "Months since CAR-T infusion" in texts, path.name
        ticks = [float(t) for t in texts if re.fullmatch(r"\d+(\.\d+)?", t)]
        if path.name.startswith(("km_", "naive_km_", "simon_makuch_", "cif_")):
            assert {0.0, 6.0, 12.0, 24.0} <= set(ticks), path.name  # 30 months of follow-up: 0/6/12/18/24/30
    km = (out / "figures" / "km_os_all_overall.svg").read_text(encoding="utf-8")
    assert re.search(r"Median \d+(\.\d)? months \(95% CI [\d.]+–(NR|[\d.]+)\)", km)
    html = (out / "report.html").read_text(encoding="utf-8")
    visible = re.sub(r"<[^>]+>", " ", re.sub(r"<svg.*?</svg>", " ", html, flags=re.S))
    assert "6-month OS" in visible and "Median (95% CI), months" in visible
    assert not re.search(r"day 182|Rate at day|Days since", visible)


def test_risk_table_rows_follow_the_options(cohort):
    km = kaplan_meier(cohort, "os_days", "os_event", by="diagnosis")
    ticks = [0, 100, 300, 900]
    at = km.at(ticks)
    assert set(drawn_table(F.km_figure(km, times=ticks))) == {"at_risk", "events"}  # ggsurvfit's default
    only = drawn_table(F.km_figure(km, times=ticks, options=FigureOptions(risk_table=("censored",))))
    assert only == {"censored": {g: at.loc[at["group"] == g, "n_censor"].cumsum().tolist() for g in km.groups}}
    bare = F.km_figure(km, times=ticks, options=FigureOptions(risk_table=()))
    assert len(bare.axes) == 1


def test_cif_panels_each_have_their_own_labelled_risk_table_with_their_cause_events(cohort):
    data = competing(cohort)
    cif = cumulative_incidence(data, "cr_time", "cr_status", by="diagnosis", causes={1: "Relapse", 2: "NRM"})
    ticks = [0, 60, 250, 600]
    fig = F.cif_figure(cif, times=ticks, ci=True)
    for axis, code in ((2, 1), (3, 2)):
        table = drawn_table(fig, axis)
        assert [t.get_text() for t in fig.axes[axis].get_yticklabels()] == [
            "At risk", "T-ALL", "T-LBL", "Events", "T-ALL", "T-LBL"]  # labelled under each panel
        for group in ("T-ALL", "T-LBL"):
            sub = data[data["diagnosis"] == group]
            assert table["events"][group] == [float(((sub["cr_status"] == code) & (sub["cr_time"] <= t)).sum())
                                              for t in ticks]
            assert table["at_risk"][group] == [float((sub["cr_time"] >= t).sum()) for t in ticks]
    assert len(fig.axes[0].collections) == 2  # one CI band per group


def test_simon_makuch_exposed_curve_starts_on_the_first_exposure_day(cohort):
    result = simon_makuch(cohort, "os_days", "os_event", "hsct_day")
    fig = F.simon_makuch_figure(result)
    curves = {line.get_label(): line for line in fig.axes[0].lines if not line.get_label().startswith("_")}
    assert curves["After allo-HSCT"].get_xdata()[0] == cohort["hsct_day"].min() == 55
    assert curves["No HSCT (yet)"].get_xdata()[0] == 0


def test_simon_makuch_suppression_is_an_option_and_reported(cohort):
    result = simon_makuch(cohort, "os_days", "os_event", "hsct_day")
    cut = F.suppressed_steps(result, 3)
    # fewer than 3 at risk: unexposed from day 300 (2 left), exposed from day 400 (2 left); see the table
    assert cut["unexposed"]["time"] == 134 and cut["exposed"]["time"] == 200
    assert cut["unexposed"]["hidden_survival"] == result.table.query("state == 'unexposed'")["survival"].iloc[-1]
    assert F.suppressed_steps(result, 1) == {}
    drawn = F.simon_makuch_figure(result, options=FigureOptions(min_at_risk=1))
    unexposed = next(line for line in drawn.axes[0].lines if line.get_label() == "No HSCT (yet)")
    assert np.isfinite(unexposed.get_ydata()).all()
    hidden = F.simon_makuch_figure(result)
    unexposed = next(line for line in hidden.axes[0].lines if line.get_label() == "No HSCT (yet)")
    assert np.isnan(unexposed.get_ydata()).sum() == 2


def test_look_options_reach_the_figure(cohort):
    km = kaplan_meier(cohort, "os_days", "os_event", by="diagnosis")
    options = FigureOptions(width=5.0, height=3.0, font_family="DejaVu Serif", font_size=11, palette="greyscale",
                            group_labels={"T-ALL": "T-ALL (n = 8)"}, group_order=("T-LBL",), p_value="plot",
                            time_breaks=60, time_max=360, risk_table=("at_risk",))
    fig = F.km_figure(km, logrank=0.04, unit="days", options=options)
    ax = fig.axes[0]
    assert fig.get_size_inches()[0] == 5.0
    assert ax.xaxis.label.get_fontname() == "DejaVu Serif" and ax.xaxis.label.get_fontsize() == 11
    assert list(ax.get_xticks()) == [0, 60, 120, 180, 240, 300, 360] and ax.get_xlim() == (0, 360)
    lines = [line for line in ax.lines if not line.get_label().startswith("_")]
    assert [line.get_label().split(" (n = ")[0] for line in lines] == ["T-LBL", "T-ALL"]  # order, then label
    assert [line.get_color() for line in lines] == list(F.GREYSCALE[:2])
    assert lines[0].get_linestyle() != lines[1].get_linestyle()  # told apart in print without colour
    assert ax.get_legend().get_title().get_text() == ""
    assert [t.get_text() for t in ax.texts if t.get_gid() == "p-value"] == ["Log-rank p = 0.040"]
    custom = F.km_figure(km, options=FigureOptions(palette=("#112233", "#445566")))
    assert [line.get_color() for line in custom.axes[0].lines if not line.get_label().startswith("_")] == [
        "#112233", "#445566"]


def test_single_arm_km_states_its_median_in_the_unit(cohort):
    km = kaplan_meier(cohort, "os_days", "os_event")
    fig = F.km_figure(km, unit="months")
    label = fig.axes[0].get_legend().get_texts()[0].get_text()
    m = km.medians.iloc[0]
    # one decimal, half away from zero (the report's rounding policy, as in the survival table)
    assert label.endswith(f"Median {round_half_up(m['median'] / 30.4375, 1)} months (95% CI "
                          f"{round_half_up(m['lower'] / 30.4375, 1)}–"
                          + ("NR)" if pd.isna(m["upper"]) else f"{round_half_up(m['upper'] / 30.4375, 1)})"))
    off = F.km_figure(km, unit="months", options=FigureOptions(median=False))
    assert "Median" not in off.axes[0].get_legend().get_texts()[0].get_text()


@pytest.mark.parametrize(("unit", "ticks"), [("weeks", [0, 26, 52, 78, 104, 130]), ("years", [0, 0.5, 1, 1.5, 2, 2.5]),
                                             ("months", [0, 6, 12, 18, 24, 30])])
def test_default_breaks_per_unit(cohort, unit, ticks):
    km = kaplan_meier(cohort, "os_days", "os_event")  # follow-up to day 925: 132 weeks, 30.4 months, 2.5 years
    ax = F.km_figure(km, unit=unit).axes[0]
    assert list(ax.get_xticks()) == ticks and ax.get_xlabel() == f"{unit.capitalize()} since CAR-T infusion"


def test_plan_figures_section_mirrors_the_report_options():
    plan_fields = set(FigureSection.model_fields)
    assert plan_fields == set(FigureOptions.__dataclass_fields__)
    section = FigureSection(palette=["#000000", "#FFFFFF"], formats=["tiff", "svg"], risk_table=[])
    options = FigureOptions(**section.model_dump())
    assert options.palette == ("#000000", "#FFFFFF") and options.formats == ("tiff", "svg")
    with pytest.raises(ValueError, match="palette"):
        FigureSection(palette=["red"])
    with pytest.raises(InputError, match="risk_table"):
        FigureOptions(risk_table=("deaths",))


def test_missing_font_is_a_located_error(cohort):
    km = kaplan_meier(cohort, "os_days", "os_event")
    with pytest.raises(InputError, match="font_family 'No Such Font' is not installed"):
        F.km_figure(km, options=FigureOptions(font_family="No Such Font"))


def test_tiff_at_the_chosen_dpi(tmp_path):
    from PIL import Image

    fig = build("toxicity_bars")
    path = F.save_figure(fig, tmp_path / "f.tiff", dpi=150)
    with Image.open(path) as image:
        size, kind = image.size, image.format
    width, height = fig.get_size_inches()
    assert kind == "TIFF" and size == (round(width * 150), round(height * 150))


def test_forest_plot_follows_the_figure_options():
    frame = pd.DataFrame({"term": ["Age, years", "Sex: M vs F"], "hr": [1.02, 0.5], "lower": [0.99, 0.2],
                          "upper": [1.05, 1.25], "n": [20, 20], "events": [9, 9]})
    options = FigureOptions(width=5.0, font_family="DejaVu Serif", font_size=11, palette=("#112233", "#445566"))
    fig = F.forest_figure(frame, xlabel="Hazard ratio (90% CI, log scale)", header="HR (90% CI)", options=options)
    ax, text_ax = fig.axes
    assert fig.get_size_inches()[0] == 5.0
    assert ax.xaxis.label.get_fontname() == "DejaVu Serif" and ax.xaxis.label.get_fontsize() == 11
    markers = [line for line in ax.lines if line.get_marker() == "s"]
    assert [m.get_color() for m in markers] == ["#112233", "#112233"]  # the palette's first colour
    svg = F.figure_to_svg(fig)
    texts = re.findall(r"<text\b[^>]*>([^<]+)</text>", svg)
    # the cells are "hr (lower–upper)" to 2 decimals, as the regression table shows them
    assert {"HR (90% CI)", "N", "Events", "Age, years", "1.02 (0.99–1.05)", "0.50 (0.20–1.25)", "20", "9",
            "Hazard ratio (90% CI, log scale)"} <= set(texts)
    assert "DejaVu Serif" in svg and 'id="DejaVuSerif-' not in svg  # editable text, not glyph outlines
    grey = F.forest_figure(frame, options=FigureOptions(palette="greyscale"))
    assert {line.get_color() for line in grey.axes[0].lines if line.get_marker() == "s"} == {F.GREYSCALE[0]}
    assert F.forest_figure(frame).get_size_inches()[0] == FigureOptions().width


def test_a_group_keeps_its_colour_whatever_the_order_or_figure_kind(cohort):
    # the colour follows the group value through one report's GroupStyles, not the position in a legend
    styles = F.GroupStyles()
    km = kaplan_meier(cohort, "os_days", "os_event", by="diagnosis")
    first = F.km_figure(km, options=FigureOptions(group_order=("T-LBL",)), styles=styles)
    colours = {line.get_label().split(" (n = ")[0]: line.get_color() for line in first.axes[0].lines
               if not line.get_label().startswith("_")}
    assert colours == {"T-LBL": F.OKABE_ITO[0], "T-ALL": F.OKABE_ITO[1]}  # first drawn, first colour
    cif = cumulative_incidence(competing(cohort), "cr_time", "cr_status", by="diagnosis")
    again = F.cif_figure(cif, styles=styles)  # data order T-ALL, T-LBL
    assert {line.get_label(): line.get_color() for line in again.axes[0].lines
            if not line.get_label().startswith("_")} == colours
    frame = pd.DataFrame({"diagnosis": ["T-ALL", "T-LBL", "T-ALL"], "cmax": [1.0, 2.0, 3.0]})
    dots = F.kinetics_parameter_figure(frame, {"cmax": "Cmax"}, by="diagnosis", order=["T-ALL", "T-LBL"],
                                       styles=styles)
    assert [line.get_color() for line in dots.axes[0].lines if line.get_marker() == "o"][::2] == [
        colours["T-ALL"], colours["T-LBL"]]
    patients = cohort.assign(last_followup_day=cohort["os_days"])
    bars = F.swimmer_figure(patients, colour_by="diagnosis", styles=styles).axes[0].patches
    drawn = {tuple(bar.get_facecolor()) for bar in bars}
    # #0072B2 with 60% white: (0, 114, 178) -> (153, 199, 224), the bar tint of T-LBL's blue
    assert F._tint(F.OKABE_ITO[0]) == "#99C7E0"
    from matplotlib.colors import to_rgba

    assert drawn == {to_rgba(F._tint(colours[g])) for g in patients["diagnosis"].unique()}


def test_demo_forest_cells_are_the_regression_table_cells(demo_run):
    from cart_outcomes.report.build import report_outputs

    outputs = report_outputs(demo_run)
    table = outputs.tables["regression_os_cox"]
    cells = {c for c in table["Univariable HR (95% CI)"] if c and c[0].isdigit()}
    assert len(cells) == 3  # age, male vs female, T-LBL vs T-ALL
    texts = set(re.findall(r"<text\b[^>]*>([^<]+)</text>", outputs.figures["forest_os_cox"][1].svg))
    assert cells <= texts and "HR (95% CI)" in texts
