"""CAR-HEMATOTOX (Rejeski K et al., Blood 2021;138(24):2499-2513) and IEC-HS lab flags (Hines MR et al., Transplant
Cell Ther 2023;29(7):438.e1). Expected scores: clinical-definitions.md 13.4, hand-summed points in each test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cart_outcomes.toxicity import car_hematotox, hematotox_points, iechs_lab_flags

COLS = ["platelets_per_ul", "anc_per_ul", "hemoglobin_g_dl", "crp_mg_dl", "ferritin_ng_ml"]

VECTORS_13_4 = [
    ("13.4-1 all normal -> 0, low", (250_000, 3000, 12.0, 0.5, 300), 0, "low"),
    ("13.4-2 platelets 150,000 (1 pt) -> 1, low", (150_000, 3000, 12.0, 0.5, 300), 1, "low"),
    ("13.4-3 platelets 60,000 (2 pts) -> 2, high", (60_000, 3000, 12.0, 0.5, 300), 2, "high"),
    ("13.4-4 1+1+1+1+2 = 6, high", (150_000, 900, 8.5, 4.0, 2500), 6, "high"),
]


@pytest.mark.parametrize(("values", "score", "risk"), [v[1:] for v in VECTORS_13_4],
                         ids=[v[0] for v in VECTORS_13_4])
def test_clinical_definitions_vectors_13_4(values, score, risk):
    labs = pd.DataFrame([dict(zip(COLS, values, strict=True), patient_id="P1", day=-5)])
    t = car_hematotox(labs).table.iloc[0]
    assert t["score"] == score and t["risk"] == risk


@pytest.mark.parametrize(("var", "value", "points"), [
    ("platelets_per_ul", 175_000, 0), ("platelets_per_ul", 174_999, 1), ("platelets_per_ul", 75_000, 1),
    ("platelets_per_ul", 74_999, 2), ("anc_per_ul", 1200, 0), ("anc_per_ul", 1199, 1),
    ("hemoglobin_g_dl", 9.0, 0), ("hemoglobin_g_dl", 8.9, 1), ("crp_mg_dl", 3.0, 0), ("crp_mg_dl", 3.01, 1),
    ("ferritin_ng_ml", 650, 0), ("ferritin_ng_ml", 651, 1), ("ferritin_ng_ml", 2000, 1), ("ferritin_ng_ml", 2001, 2),
])
def test_boundaries_documented_decision(var, value, points):
    # decision (clinical-definitions 4.2, docs/toxicity.md): at a cut-off the lower-risk category, except
    # platelets 75,000 -> 1 point and ferritin 2000 -> 1 point
    base = dict(zip(COLS, (250_000, 3000, 12.0, 0.5, 300), strict=True))
    base[var] = value
    assert hematotox_points(pd.DataFrame([base]))[f"points_{var}"].iloc[0] == points


def test_cutoffs_are_marked_unverified():
    labs = pd.DataFrame([dict(zip(COLS, (250_000, 3000, 12.0, 0.5, 300), strict=True), patient_id=1, day=-5)])
    res = car_hematotox(labs)
    assert res.options["cutoffs_verified"] is False
    assert any("risk groups" in s for s in res.options["verification"]["verified"])


def test_baseline_is_last_value_before_lymphodepletion_within_lookback():
    rows = [dict(patient_id=1, day=-30, platelets_per_ul=10_000),  # too old (lookback 14 from day -5)
            dict(patient_id=1, day=-8, platelets_per_ul=150_000, anc_per_ul=3000, hemoglobin_g_dl=12,
                 crp_mg_dl=0.5, ferritin_ng_ml=300),
            dict(patient_id=1, day=-6, platelets_per_ul=60_000),
            dict(patient_id=1, day=-2, platelets_per_ul=20_000)]  # after lymphodepletion start (-5): not baseline
    t = car_hematotox(pd.DataFrame(rows)).table.iloc[0]
    assert t["platelets_per_ul"] == 60_000 and t["day_platelets_per_ul"] == -6 and t["score"] == 2
    t = car_hematotox(pd.DataFrame(rows), ld_start_day={1: -7}).table.iloc[0]
    assert t["platelets_per_ul"] == 150_000 and t["score"] == 1


def test_missing_variable_gives_no_score_and_is_excluded():
    res = car_hematotox(pd.DataFrame([dict(patient_id=1, day=-5, platelets_per_ul=60_000)]))
    assert pd.isna(res.table["score"].iloc[0]) and res.table["risk"].iloc[0] is None
    assert "ferritin_ng_ml" in res.excluded["reason"].iloc[0]


def test_wide_baseline_table_without_day():
    wide = pd.DataFrame([dict(zip(COLS, (150_000, 900, 8.5, 4.0, 2500), strict=True), patient_id="A")])
    assert car_hematotox(wide).table["score"].iloc[0] == 6


def test_iechs_flags():
    labs = pd.DataFrame(dict(patient_id=[1, 1, 1, 1], day=[-5, 0, 7, 10], anc_per_ul=[2000, 1500, 400, 900],
                             platelets_per_ul=[2e5, 1.5e5, 4e4, 9e4], hemoglobin_g_dl=[10, 10, 9, 7.5],
                             ferritin_ng_ml=[500, 600, 1500, 1000], fibrinogen_mg_dl=[300, 300, 120, np.nan]))
    res = iechs_lab_flags(labs, ferritin_uln_ng_ml=400)
    assert res.options["ferritin_uln_ng_ml"] == 400 and "Hines" in res.options["citation"]
    f = res.table.set_index("day")
    # baseline ferritin = day 0 value 600: day 7 1500 = 2.5x (> 2x), day 10 1000 = 1.67x
    assert f.loc[7, "ferritin_fold_baseline"] == pytest.approx(2.5)
    assert bool(f.loc[7, "ferritin_gt_2x_baseline"]) and not bool(f.loc[10, "ferritin_gt_2x_baseline"])
    assert bool(f.loc[7, "ferritin_rising"]) and not bool(f.loc[10, "ferritin_rising"])
    assert bool(f.loc[7, "ferritin_gt_2x_uln"]) and bool(f.loc[10, "ferritin_gt_2x_uln"])
    assert bool(f.loc[7, "anc_lt_500"]) and bool(f.loc[7, "platelets_lt_50000"]) and bool(f.loc[10, "hemoglobin_lt_8"])
    assert bool(f.loc[7, "hypofibrinogenemia"]) and pd.isna(f.loc[10, "hypofibrinogenemia"])
    assert pd.isna(f.loc[7, "transaminitis"])  # no ALT/AST: flag unknown, never False
    assert list(f.index) == [7, 10]  # flags only after the baseline day


def test_wide_baseline_needs_one_row_per_patient():
    from cart_outcomes.errors import InputError

    wide = pd.DataFrame([dict(zip(COLS, (150_000, 900, 8.5, 4.0, 2500), strict=True), patient_id="A")] * 2)
    with pytest.raises(InputError, match="one baseline row per patient"):
        car_hematotox(wide)
