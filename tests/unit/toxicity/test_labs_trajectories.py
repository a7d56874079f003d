"""Laboratory trajectories (``lab_trajectories``): same-day rules, per-day summaries (R quantile type 7, computed by
hand in the tests), skipped analytes, the day window and located errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cart_outcomes.cohort.schema import LABS
from cart_outcomes.errors import InputError, ValidationFailed
from cart_outcomes.toxicity import LabTrajectories, lab_trajectories


def one_day(**columns):
    n = len(next(iter(columns.values())))
    return pd.DataFrame({"patient_id": ["P1"] * n, "day": [1] * n, **columns})


def value(res, analyte, pid="P1", day=1):
    t = res.table
    return t.loc[(t["analyte"] == analyte) & (t["patient_id"] == pid) & (t["day"] == day), "value"].item()


def test_default_same_day_rules_lowest_count_highest_marker():
    # two samples on day 1: counts keep the lowest (as ICAHT), inflammatory markers the highest
    labs = one_day(anc_per_ul=[800.0, 500.0], platelets_per_ul=[40_000, 25_000], hemoglobin_g_dl=[9.1, 8.4],
                   crp_mg_dl=[2.0, 5.0], ferritin_ng_ml=[900, 1500], il6_pg_ml=[40.0, 15.0])
    res = lab_trajectories(labs)
    assert [value(res, a) for a in ("anc_per_ul", "platelets_per_ul", "hemoglobin_g_dl", "crp_mg_dl",
                                    "ferritin_ng_ml", "il6_pg_ml")] == [500, 25_000, 8.4, 5.0, 1500, 40.0]
    assert res.table["n_samples"].eq(2).all()
    assert res.options["daily"] == {"anc_per_ul": "min", "platelets_per_ul": "min", "hemoglobin_g_dl": "min",
                                    "crp_mg_dl": "max", "ferritin_ng_ml": "max", "il6_pg_ml": "max"}


@pytest.mark.parametrize(("rule", "expected"), [("min", 1.0), ("max", 6.0), ("mean", 4.0), ("first", 5.0),
                                                ("last", 6.0)])
def test_daily_rule_override(rule, expected):
    # CRP samples in row order 5, 1, blank, 6: mean (5 + 1 + 6) / 3 = 4; first 5; last non-blank 6
    labs = one_day(crp_mg_dl=[5.0, 1.0, np.nan, 6.0])
    res = lab_trajectories(labs, ["crp_mg_dl"], daily={"crp_mg_dl": rule})
    assert value(res, "crp_mg_dl") == pytest.approx(expected) and res.table["n_samples"].item() == 3


def test_summary_quantiles_by_hand():
    # day 7 ANC of four patients 100, 200, 400, 1000 (sorted). R quantile type 7: h = (n - 1) p + 1
    #   p = .25: h = 1.75 -> 100 + 0.75 * (200 - 100) = 175
    #   p = .50: h = 2.5  -> 200 + 0.5 * (400 - 200) = 300
    #   p = .75: h = 3.25 -> 400 + 0.25 * (1000 - 400) = 550
    # day 8 ANC of five patients 100, 200, 400, 700, 1000: q1 = 200, median = 400, q3 = 700 (h = 2, 3, 4)
    labs = pd.DataFrame({"patient_id": ["A", "B", "C", "D", "A", "B", "C", "D", "E"],
                         "day": [7, 7, 7, 7, 8, 8, 8, 8, 8],
                         "anc_per_ul": [1000, 100, 400, 200, 700, 100, 1000, 400, 200]})
    s = lab_trajectories(labs, "anc_per_ul").summary.set_index("day")
    assert s.loc[7, ["n", "q1", "median", "q3", "min", "max"]].tolist() == [4, 175, 300, 550, 100, 1000]
    assert s.loc[8, ["n", "q1", "median", "q3", "min", "max"]].tolist() == [5, 200, 400, 700, 100, 1000]
    day7 = [100, 200, 400, 1000]
    assert np.percentile(day7, [25, 50, 75], method="linear").tolist() == [175, 300, 550]  # numpy's name for type 7
    assert (s["unit"] == LABS.column("anc_per_ul").unit).all()


def test_summary_counts_each_patient_once_per_day():
    # P1 has three samples on day 2 (reduced to its lowest, 300); P2 one: n = 2, median (300 + 900) / 2 = 600
    labs = pd.DataFrame({"patient_id": ["P1", "P1", "P1", "P2"], "day": [2, 2, 2, 2],
                         "anc_per_ul": [800, 300, 500, 900]})
    s = lab_trajectories(labs, ["anc_per_ul"]).summary.iloc[0]
    assert (s["n"], s["median"], s["min"]) == (2, 600, 300)


def test_table_layout_order_and_units():
    labs = pd.DataFrame({"patient_id": ["P2", "P10", "P10", "P2"], "day": [3, 5, 1, -2],
                         "anc_per_ul": [900, 100, 200, 300], "crp_mg_dl": [1.0, np.nan, 3.0, 2.0]})
    res = lab_trajectories(labs, ["crp_mg_dl", "anc_per_ul"])
    t = res.table
    assert list(t.columns) == ["patient_id", "day", "analyte", "value", "unit", "n_samples"]
    assert list(res.summary.columns) == ["analyte", "day", "unit", "n", "median", "q1", "q3", "min", "max"]
    # analytes in the requested order, patients sorted as in grade_icaht (text ids as text: P10 before P2), day
    assert list(zip(t["analyte"], t["patient_id"], t["day"], strict=True)) == [
        ("crp_mg_dl", "P10", 1), ("crp_mg_dl", "P2", -2), ("crp_mg_dl", "P2", 3),
        ("anc_per_ul", "P10", 1), ("anc_per_ul", "P10", 5), ("anc_per_ul", "P2", -2), ("anc_per_ul", "P2", 3)]
    for a in ("crp_mg_dl", "anc_per_ul"):
        assert (t.loc[t["analyte"] == a, "unit"] == LABS.column(a).unit).all()
    assert isinstance(res, LabTrajectories) and res.to_frame().equals(t) and res.to_frame() is not t


def test_missing_and_blank_analytes_are_skipped_and_listed():
    labs = pd.DataFrame({"patient_id": ["P1", "P1"], "day": [0, 1], "anc_per_ul": [100, 200],
                         "ferritin_ng_ml": [np.nan, np.nan]})
    res = lab_trajectories(labs)
    assert res.options["not_available"] == ["platelets_per_ul", "hemoglobin_g_dl", "crp_mg_dl", "ferritin_ng_ml",
                                            "il6_pg_ml"]
    assert res.options["analytes"] == ["anc_per_ul"] and set(res.table["analyte"]) == {"anc_per_ul"}
    assert any("ferritin_ng_ml" in n and "no value" in n for n in res.notes)
    assert any("il6_pg_ml" in n and "not in the labs table" in n for n in res.notes)


def test_days_window():
    labs = pd.DataFrame({"patient_id": ["P1"] * 5, "day": [-5, 0, 14, 28, 29],
                         "anc_per_ul": [3000, 2000, 100, 900, 1000], "crp_mg_dl": [1.0, np.nan, np.nan, np.nan, 9.0]})
    res = lab_trajectories(labs, ["anc_per_ul", "crp_mg_dl"], days=(0, 28))
    assert res.table["day"].tolist() == [0, 14, 28] and res.summary["day"].tolist() == [0, 14, 28]
    assert res.options["days"] == [0, 28] and res.options["not_available"] == ["crp_mg_dl"]
    assert any("in the days window" in n for n in res.notes)


def test_il6_and_other_columns():
    labs = one_day(il6_pg_ml=[12.5, 80.0], fibrinogen_mg_dl=[180.0, 120.0], il10_pg_ml=[3.0, 9.0])
    res = lab_trajectories(labs, ["il6_pg_ml", "fibrinogen_mg_dl", "il10_pg_ml"], daily={"il10_pg_ml": "mean"})
    assert [value(res, a) for a in ("il6_pg_ml", "fibrinogen_mg_dl", "il10_pg_ml")] == [80.0, 120.0, 6.0]
    units = res.table.set_index("analyte")["unit"]
    assert units["fibrinogen_mg_dl"] == LABS.column("fibrinogen_mg_dl").unit
    if "il6_pg_ml" in LABS:
        assert units["il6_pg_ml"] == LABS.column("il6_pg_ml").unit
    else:
        assert pd.isna(units["il6_pg_ml"])
    assert pd.isna(units["il10_pg_ml"])  # not a schema column: no unit is invented


def test_fractional_days_are_floored():
    labs = pd.DataFrame({"patient_id": ["P1", "P1"], "day": [2.25, 2.75], "anc_per_ul": [700, 400]})
    t = lab_trajectories(labs, "anc_per_ul").table
    assert t["day"].tolist() == [2] and t["value"].tolist() == [400]


def test_cohort_dtypes_and_no_mutation():
    labs = pd.DataFrame({"patient_id": pd.array(["P1", "P1", "P2"], dtype="string"),
                         "day": pd.array([0, 0, pd.NA], dtype="Int64").fillna(3),
                         "anc_per_ul": pd.array([500.0, pd.NA, 700.0], dtype="Float64").astype("float64"),
                         "crp_mg_dl": [1.5, 3.5, np.nan], "source_row": [2, 3, 4]})
    before = labs.copy()
    res = lab_trajectories(labs, ["anc_per_ul", "crp_mg_dl"])
    pd.testing.assert_frame_equal(labs, before)
    assert value(res, "anc_per_ul", day=0) == 500 and value(res, "crp_mg_dl", day=0) == 3.5
    assert value(res, "anc_per_ul", pid="P2", day=3) == 700


def test_bad_values_are_reported_together_with_rows():
    labs = pd.DataFrame({"patient_id": ["P1", "P1", "P2", "P2"], "day": [0, 1, "x", 2],
                         "crp_mg_dl": ["high", 2.0, 1.0, 1.0], "il6_pg_ml": [1.0, -4.0, 2.0, 3.0],
                         "source_row": [5, 6, 7, 8]})
    with pytest.raises(ValidationFailed) as exc:
        lab_trajectories(labs)
    assert isinstance(exc.value, InputError)
    found = {(p.row, p.column, p.rule) for p in exc.value.problems if p.severity == "error"}
    assert found == {(5, "crp_mg_dl", "BAD_NUMBER"), (6, "il6_pg_ml", "OUT_OF_RANGE"), (7, "day", "BAD_NUMBER")}
    assert "patient P1 (row 6), column 'il6_pg_ml'" in str(exc.value)


@pytest.mark.parametrize(("kw", "match"), [
    (dict(daily={"crp_mg_dl": "median"}), "same-day rule"),
    (dict(daily={"ldh_u_l": "max"}), "not among analytes"),
    (dict(analytes=["il10_pg_ml"]), "no default same-day rule"),
    (dict(analytes=[]), "column names"),
    (dict(days=(5, 1)), "first_day <= last_day"),
    (dict(days=(0.5, 3)), "whole numbers"),
    (dict(days=7), "first_day, last_day"),
])
def test_bad_parameters(kw, match):
    with pytest.raises(InputError, match=match):
        lab_trajectories(one_day(crp_mg_dl=[1.0]), **kw)


def test_nothing_available_gives_empty_frames_of_the_same_shape():
    res = lab_trajectories(one_day(anc_per_ul=[np.nan]))
    full = lab_trajectories(one_day(anc_per_ul=[100.0]))
    assert res.table.empty and res.summary.empty
    assert list(res.table.columns) == list(full.table.columns)
    assert list(res.summary.columns) == list(full.summary.columns)
    assert res.options.keys() == full.options.keys()
