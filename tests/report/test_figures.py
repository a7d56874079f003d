"""Figures: numbers at risk read back from the drawn table equal the statistics, output is deterministic, and
user text cannot become markup in the SVG."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from report_cases import SCRIPT_GROUP, SCRIPT_ID, build, competing, daily_grades, drawn_at_risk, drawn_rows

from cart_outcomes.errors import InputError
from cart_outcomes.report import figures as F
from cart_outcomes.report._svg import sanitize_svg
from cart_outcomes.stats import cumulative_incidence, simon_makuch
from cart_outcomes.stats.km import kaplan_meier


def test_km_numbers_at_risk_equal_km_at_and_hand_count_on_event_days(cohort):
    # ticks on days with deaths (14, 30, 134: two deaths) and censorings (100, 400, 925), where off-by-one errors live
    ticks = [0, 14, 30, 100, 134, 400, 925]
    km = kaplan_meier(cohort, "os_days", "os_event", by="hsct")
    fig = F.km_figure(km, times=ticks)
    drawn = drawn_at_risk(fig)
    at = km.at(ticks)
    for group in km.groups:
        expected = at.loc[at["group"] == group, "n_risk"].tolist()
        assert drawn[str(group)] == expected
        # R's n.risk at t counts patients still under observation at t: time >= t
        times = cohort.loc[cohort["hsct"] == group, "os_days"].to_numpy()
        assert expected == [float((times >= t).sum()) for t in ticks]
    # the counts sit exactly under the x ticks of the curves
    assert list(fig.axes[0].get_xticks()) == ticks
    xs = sorted({round(t.get_position()[0], 9) for t in fig.axes[1].texts})
    assert xs == ticks


def test_km_numbers_at_risk_in_months_use_30_4375_days(cohort):
    km = kaplan_meier(cohort, "os_days", "os_event")
    fig = F.km_figure(km, times=[0, 3, 6, 12, 24], unit="months")
    assert drawn_at_risk(fig)["At risk"] == km.at([0, 3 * 30.4375, 6 * 30.4375, 12 * 30.4375,
                                                   24 * 30.4375])["n_risk"].tolist()
    assert fig.axes[0].get_xlabel() == "Months since CAR-T infusion"


def test_km_default_ticks_stay_within_follow_up_and_match_counts(cohort):
    km = kaplan_meier(cohort, "os_days", "os_event")
    fig = F.km_figure(km)
    ticks = list(fig.axes[0].get_xticks())
    assert ticks[0] == 0 and ticks[-1] <= cohort["os_days"].max()
    assert drawn_at_risk(fig)["At risk"] == km.at(ticks)["n_risk"].tolist()


def test_km_legend_names_the_test_and_hr(cohort):
    fig = build("km_by_group")
    legend = fig.axes[0].get_legend()
    title = legend.get_title().get_text()
    assert title.startswith("Log-rank p = ") and "HR (log-rank O/E)" in title
    assert [t.get_text() for t in legend.get_texts()] == ["T-ALL (n = 8, events = 6)", "T-LBL (n = 4, events = 1)"]


def test_simon_makuch_numbers_at_risk_per_state(cohort):
    result = simon_makuch(cohort, "os_days", "os_event", "hsct_day")
    ticks = [0, 60, 100, 200, 400]
    drawn = drawn_at_risk(F.simon_makuch_figure(result, times=ticks))
    at = result.at_risk(ticks)
    assert drawn[F.SIMON_MAKUCH_LABELS["unexposed"]] == at.loc[at["state"] == "unexposed", "n_risk"].tolist()
    assert drawn[F.SIMON_MAKUCH_LABELS["exposed"]] == at.loc[at["state"] == "exposed", "n_risk"].tolist()


def test_cif_numbers_at_risk_equal_cif_at(cohort):
    cif = cumulative_incidence(competing(cohort), "cr_time", "cr_status", by="diagnosis",
                               causes={1: "Relapse", 2: "NRM"})
    ticks = [0, 20, 60, 120, 250, 600]
    fig = F.cif_figure(cif, times=ticks)
    at = cif.at(ticks)
    at = at[at["cause"] == "Relapse"]
    drawn = drawn_at_risk(fig, 2)  # the table under the first panel
    for group in ("T-ALL", "T-LBL"):
        assert drawn[group] == at.loc[at["group"] == group, "n_risk"].tolist()
    at_risk = [{k: v for k, v in drawn_rows(fig.axes[i]).items() if k[0] == "at_risk"} for i in (2, 3)]
    assert at_risk[0] == at_risk[1]  # event-free patients: the same numbers at risk under each cause
    # event-free and under observation at t: first event/censoring time >= t, hand count for T-LBL at day 250
    tlbl = competing(cohort).query("diagnosis == 'T-LBL'")
    assert drawn_at_risk(fig, 2)["T-LBL"][ticks.index(250)] == float((tlbl["cr_time"] >= 250).sum())


def test_cif_panels_and_stacking_top_is_any_event(cohort):
    data = competing(cohort)
    cif = cumulative_incidence(data, "cr_time", "cr_status", causes={1: "Relapse", 2: "NRM"})
    fig = F.cif_figure(cif, layout="side")
    assert [ax.get_title(loc="left") for ax in fig.axes[:2]] == ["Relapse", "NRM"]
    stacked = F.cif_figure(cif, layout="stacked")
    top = stacked.axes[0].collections[-1].get_paths()[0].vertices[:, 1].max()
    any_event = 1 - kaplan_meier(data.assign(any=data["cr_status"] > 0), "cr_time", "any").table["survival"].min()
    assert top == pytest.approx(any_event, rel=1e-12)  # sum of the CIFs = 1 - KM(any event)


@pytest.mark.parametrize("name", ["swimmer", "km_by_group", "toxicity_heatmap", "forest"])
def test_svg_carries_user_text_escaped_and_is_accepted_for_inlining(cohort, name):
    km = kaplan_meier(cohort, "os_days", "os_event", by="hsct")
    fig = F.km_figure(km) if name == "km_by_group" else build(name)
    svg = F.figure_to_svg(fig)
    assert "<script" not in svg.lower()
    assert re.search(r"\son\w+\s*=", svg) is None
    assert sanitize_svg(svg) == svg  # already what the HTML report inlines
    if name == "swimmer":  # the id is an escaped <text> node; no comment carries it
        assert "&lt;script&gt;alert(&#x27;id&#x27;)&lt;/script&gt;" in svg or "&lt;script&gt;alert(" in svg
        assert "<!--" not in svg
    assert SCRIPT_ID not in svg and SCRIPT_GROUP not in svg


def test_output_is_deterministic_and_free_of_dates():
    first, second = build("km_by_group"), build.__wrapped__("km_by_group")
    svg = F.figure_to_svg(first)
    assert F.figure_to_png(first, dpi=40) == F.figure_to_png(second, dpi=40)
    pdf = F.figure_to_pdf(first)
    assert svg == F.figure_to_svg(second)  # also after other formats were rendered from the same figure
    assert pdf == F.figure_to_pdf(second)
    assert "<dc:date>" not in svg and not svg.startswith("<?xml")
    assert pdf.startswith(b"%PDF") and b"CreationDate" not in pdf


def test_png_is_300_dpi_by_default():
    import io

    from PIL import Image

    fig = build("forest")
    image = Image.open(io.BytesIO(F.figure_to_png(fig)))
    width, height = fig.get_size_inches()
    assert image.size == (round(width * 300), round(height * 300))


def test_save_figure_by_suffix(tmp_path):
    fig = build("toxicity_bars")
    for suffix, magic in ((".svg", b"<svg"), (".png", b"\x89PNG"), (".pdf", b"%PDF"), (".tiff", b"II*\x00")):
        assert F.save_figure(fig, tmp_path / f"f{suffix}").read_bytes().startswith(magic)
    with pytest.raises(InputError, match="svg, .png, .pdf or .tiff"):
        F.save_figure(fig, tmp_path / "f.jpg")


def test_figures_leave_matplotlib_global_state_alone(cohort):
    import matplotlib as mpl

    before = dict(mpl.rcParams)
    build.__wrapped__("swimmer")
    F.figure_to_svg(build.__wrapped__("km_overall"))
    assert dict(mpl.rcParams) == before
    assert "matplotlib.pyplot" not in __import__("sys").modules or mpl.pyplot.get_fignums() == []


def test_bad_inputs_are_located(cohort):
    km = kaplan_meier(cohort, "os_days", "os_event")
    with pytest.raises(InputError, match="unit"):
        F.km_figure(km, unit="fortnights")
    with pytest.raises(InputError, match="layout"):
        F.cif_figure(cumulative_incidence(competing(cohort), "cr_time", "cr_status"), layout="pie")
    with pytest.raises(InputError, match="unique"):
        F.swimmer_figure(cohort.assign(patient_id="same"))
    with pytest.raises(InputError, match="positive"):
        F.forest_figure(cohort.head(1).assign(term="x", hr=-1.0, lower=0.5, upper=2.0))
    with pytest.raises(InputError, match="grades outside"):
        F.toxicity_bars(cohort.assign(crs_max_grade=9), {"crs_max_grade": "CRS"})
    with pytest.raises(InputError, match="lacks column"):
        F.swimmer_figure(cohort.drop(columns="last_followup_day"))


def test_swimmer_sorts_by_follow_up_and_marks_ongoing_response(cohort):
    fig = F.swimmer_figure(cohort)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    end = cohort["death_day"].fillna(cohort["last_followup_day"])
    expected = cohort["patient_id"][end.sort_values(kind="stable").index]  # bottom to top: longest on top
    assert labels == [F._short(p) for p in expected]
    lines = {line.get_gid(): line for line in ax.lines}
    # ongoing: responders alive without relapse -> P08, P10, P12 (P11 has no response recorded)
    ongoing_rows = lines["swimmer-ongoing"].get_ydata()
    assert sorted(labels[int(r)] for r in ongoing_rows) == ["P08", "P10", "P12"]
    # HSCT markers: 5 patients with an hsct_day, each on its own row at its day
    hsct = lines["swimmer-hsct"]
    assert sorted(zip(hsct.get_xdata(), (labels[int(r)] for r in hsct.get_ydata()), strict=True)) == sorted(
        (float(d), F._short(p)) for p, d in zip(cohort["patient_id"], cohort["hsct_day"], strict=True) if d == d)
    assert np.isfinite([bar.get_width() for bar in ax.patches]).all()


def test_large_cohorts_stay_page_sized_and_inline(cohort):
    big = pd.concat([cohort.assign(patient_id=cohort["patient_id"] + f"-{k}") for k in range(10)], ignore_index=True)
    fig = F.swimmer_figure(big)
    assert fig.get_size_inches()[1] <= 12 and fig.axes[0].get_yticklabels() == []
    daily = daily_grades(big)
    heat = F.toxicity_heatmap(pd.concat([daily.assign(day=daily["day"] + 15 * k) for k in range(3)]))  # 120 x 45
    svg = F.figure_to_svg(heat)
    assert "data:image/png;base64," in svg  # large maps are an inline raster
    assert sanitize_svg(svg) == svg


def test_kinetics_lines_of_many_patients_are_one_artist_with_the_same_points(monkeypatch):
    """Above MAX_LINE_ARTISTS patients the grey lines are one line broken between patients: each patient's run of
    points (log axis: values > 0 only, in day order) is exactly the one it gets as its own line."""
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"patient_id": np.repeat(["A", "B", "C", "D"], 4), "day": np.tile([14, 0, 28, 7], 4),
                          "value": np.where(rng.random(16) < 0.2, 0.0, np.exp(rng.normal(5, 2, 16)))})

    def runs(fig) -> tuple[list[np.ndarray], int]:
        lines = [ln for ln in fig.axes[0].lines if ln.get_color() == "#9E9E9E"]
        out = []
        for ln in lines:
            points = np.column_stack([ln.get_xdata(), ln.get_ydata()]).astype(float)
            pieces = np.split(points, np.flatnonzero(np.isnan(points[:, 0])))
            out += [piece[~np.isnan(piece[:, 0])] for piece in pieces if (~np.isnan(piece[:, 0])).any()]
        return out, len(lines)

    each, n_each = runs(F.kinetics_figure(frame, ylabel="copies"))
    monkeypatch.setattr(F, "MAX_LINE_ARTISTS", 2)
    joined, n_joined = runs(F.kinetics_figure(frame, ylabel="copies"))
    assert (n_each, n_joined) == (4, 1)
    assert len(each) == len(joined) == 4 and all(np.array_equal(a, b) for a, b in zip(each, joined, strict=True))
