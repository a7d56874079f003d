"""noncompartmental: the section 13.6 example and edge cases, every expected value calculated by hand here."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cart_outcomes.errors import InputError
from cart_outcomes.kinetics import NCAResult, noncompartmental
from cart_outcomes.kinetics.nca import TABLE_COLUMNS

LOG = "linear-up/log-down"


def profile(days, values, pid="P1", **extra) -> pd.DataFrame:
    """One qPCR series; ``None`` in ``values`` is a BLQ sample (blank value, below_loq true)."""
    return pd.DataFrame({"patient_id": pid, "day": days, "assay": "qpcr", "unit": "copies_per_ug_dna",
                         "value": [np.nan if v is None else float(v) for v in values],
                         "below_loq": [v is None for v in values], **extra})


def one(df: pd.DataFrame, **kw) -> pd.Series:
    res = noncompartmental(df, **kw)
    assert len(res.table) == 1
    return res.table.iloc[0]


SEC_13_6 = ([0, 7, 14, 21, 28], [0, 1000, 5000, 2000, 500])


# ---- clinical-definitions 13.6 ---------------------------------------------------------------------------------
def test_section_13_6_linear():
    row = one(profile(*SEC_13_6))
    # 7(0+1000)/2 + 7(1000+5000)/2 + 7(5000+2000)/2 + 7(2000+500)/2 = 3500 + 21000 + 24500 + 8750
    assert row["auc"] == 57750.0
    assert (row["cmax"], row["tmax_days"], row["clast"], row["tlast_days"]) == (5000, 14, 500, 28)
    assert (row["auc_start_day"], row["auc_end_day"], row["auc_end"], row["auc_complete"]) == (0, 28, "observed",
                                                                                                 True)
    assert not row["day0_imputed"]
    assert row["n_samples"] == 5 and row["n_quantifiable"] == 4  # the exact 0 on day 0 is not quantifiable


def test_section_13_6_log_down():
    row = one(profile(*SEC_13_6), auc_method=LOG)
    expected = 3500 + 21000 + 7 * (5000 - 2000) / math.log(2.5) + 7 * (2000 - 500) / math.log(4)
    assert row["auc"] == pytest.approx(expected, rel=1e-14)
    assert round(row["auc"], 1) == 54992.6  # the figure printed in section 13.6
    assert round(7 * 3000 / math.log(2.5), 1) == 22918.5 and round(7 * 1500 / math.log(4), 1) == 7574.1


# ---- sampling edge cases -----------------------------------------------------------------------------------------
def test_single_sample():
    row = one(profile([14], [1000]))
    # day-0 level 0 imputed: (14 - 0)(0 + 1000)/2; nothing after day 14, so the AUC stops there
    assert row["auc"] == 7000
    assert (row["auc_end"], row["auc_end_day"], row["auc_complete"], row["day0_imputed"]) == ("last_sample", 14,
                                                                                                False, True)
    assert (row["cmax"], row["tmax_days"], row["clast"], row["tlast_days"]) == (1000, 14, 1000, 14)
    assert (row["loss_observed"], row["persistence_days"]) == (False, 14)
    row = one(profile([14], [1000]), day0="none")  # a single point: no area, starts after the window start
    assert (row["auc"], row["auc_start_day"], row["auc_end_day"], row["auc_complete"]) == (0, 14, 14, False)


@pytest.mark.parametrize("blq", ["zero-then-stop", "zero", "drop"])
@pytest.mark.parametrize("day0", ["zero", "none"])
def test_all_blq_series_stays_with_zero_exposure(blq, day0):
    df = pd.concat([profile([0, 7, 14], [None, None, None]), profile(*SEC_13_6, pid="P2")])
    t = noncompartmental(df, blq=blq, day0=day0, half_life=True).table
    assert list(t["patient_id"]) == ["P1", "P2"]  # never dropped
    row = t.iloc[0]
    assert row["cmax"] == 0 and row["auc"] == 0
    assert np.isnan(row["tmax_days"]) and np.isnan(row["clast"]) and np.isnan(row["tlast_days"])
    assert not row["expansion_detected"] and not row["loss_observed"]
    assert np.isnan(row["persistence_days"]) and np.isnan(row["loss_day"])
    assert row["half_life_note"].startswith("fewer than 3")
    # P2's day-0 value is an exact 0 (not quantifiable): dropped under blq="drop" with day0="none" (AUC from day 7)
    assert t.iloc[1]["auc"] == (21000 + 24500 + 8750 if (blq, day0) == ("drop", "none") else 57750)


def test_peak_on_day_0():
    row = one(profile([0, 7, 14], [800, 400, 100]), half_life=True)
    assert (row["cmax"], row["tmax_days"]) == (800, 0)
    assert row["auc"] == 7 * (800 + 400) / 2 + 7 * (400 + 100) / 2  # 4200 + 1750
    assert row["auc_end"] == "last_sample" and row["auc_end_day"] == 14
    assert pd.isna(row["half_life_n_points"])  # only days 7 and 14 are after Tmax


def test_tied_peaks_take_the_earliest_day():
    row = one(profile([0, 7, 14, 21], [0, 900, 900, 100]))
    assert (row["cmax"], row["tmax_days"]) == (900, 7)


def test_cmax_looks_beyond_the_window():
    row = one(profile([0, 7, 14, 28, 60], [0, 100, 200, 150, 900]))
    assert (row["cmax"], row["tmax_days"]) == (900, 60)
    assert row["auc"] == 7 * 100 / 2 + 7 * 300 / 2 + 14 * 350 / 2  # 350 + 1050 + 2450


def test_unsorted_input_gives_the_same_table():
    df = profile(*SEC_13_6)
    shuffled = df.iloc[[3, 0, 4, 2, 1]]
    pd.testing.assert_frame_equal(noncompartmental(df, half_life=True).table,
                                  noncompartmental(shuffled, half_life=True).table)


def test_input_is_not_modified():
    df = profile([7, 0, 14, 14], [1000, None, 400, 600])
    before = df.copy(deep=True)
    noncompartmental(df)
    pd.testing.assert_frame_equal(df, before)


# ---- duplicates ------------------------------------------------------------------------------------------------
def test_duplicate_days_mean_of_quantifiable_replicates():
    df = profile([0, 7, 7, 14, 14, 21, 21], [0, 1000, 3000, None, 500, None, None])
    row = one(df)
    # day 7 -> (1000 + 3000)/2 = 2000; day 14 -> 500 (the BLQ replicate is not averaged in); day 21 all BLQ -> BLQ
    assert row["n_replicate_days"] == 3 and row["n_samples"] == 4
    assert (row["cmax"], row["clast"], row["tlast_days"]) == (2000, 500, 14)
    # zero-then-stop: day 21 is the first BLQ after the last quantifiable sample -> 0, level 0 afterwards
    assert row["auc"] == 7 * 2000 / 2 + 7 * 2500 / 2 + 7 * 500 / 2  # 7000 + 8750 + 1750
    assert row["auc_end"] == "zero_after_blq" and row["auc_complete"]


def test_duplicate_days_error_names_the_rows():
    df = profile([0, 7, 7, 14], [0, 1000, 3000, 200])
    with pytest.raises(InputError) as exc:
        noncompartmental(df, duplicates="error")
    msg = str(exc.value)
    assert "DUPLICATE_SAMPLE" in msg and "row 3" in msg and "row 4" in msg and "day 7" in msg
    assert [p.row for p in exc.value.problems] == [3, 4]
    df["source_row"] = [10, 11, 12, 13]
    with pytest.raises(InputError, match=r"\(row 11\)[^\n]*rows 11, 12"):
        noncompartmental(df, duplicates="error")


# ---- BLQ rules: leading, middle and trailing BLQ --------------------------------------------------------------------
# day 0 BLQ, day 3 BLQ (leading), 7 = 500, 14 BLQ (middle), 21 = 300, 25 and 35 BLQ (trailing); window 0-28
BLQ_DAYS = [0, 3, 7, 14, 21, 25, 35]
BLQ_VALUES = [None, None, 500, None, 300, None, None]


def test_blq_zero_then_stop():
    row = one(profile(BLQ_DAYS, BLQ_VALUES))
    # points (0,0) (3,0) (7,500) (21,300) (25,0): 0 + 4*500/2 + 14*(500+300)/2 + 4*300/2; level 0 from day 25
    assert row["auc"] == 1000 + 5600 + 600
    assert (row["auc_end"], row["auc_end_day"], row["auc_complete"]) == ("zero_after_blq", 28, True)


def test_blq_zero():
    row = one(profile(BLQ_DAYS, BLQ_VALUES), blq="zero")
    # every BLQ is 0: + (7,500) (14,0) (21,300) (25,0) (35,0); day 28 interpolated between 25 and 35 (= 0)
    assert row["auc"] == 1000 + 7 * 500 / 2 + 7 * 300 / 2 + 4 * 300 / 2  # 1000 + 1750 + 1050 + 600
    assert (row["auc_end"], row["auc_complete"]) == ("interpolated", True)


def test_blq_drop():
    row = one(profile(BLQ_DAYS, BLQ_VALUES), blq="drop")
    # BLQ left out except the day-0 pre-infusion level: (0,0) (7,500) (21,300); nothing usable after day 21
    assert row["auc"] == 7 * 500 / 2 + 14 * 800 / 2  # 1750 + 5600
    assert (row["auc_end"], row["auc_end_day"], row["auc_complete"]) == ("last_sample", 21, False)


def test_loss_needs_two_trailing_blq_whatever_the_blq_rule():
    for blq in ("zero-then-stop", "zero", "drop"):
        row = one(profile(BLQ_DAYS, BLQ_VALUES), blq=blq)
        assert (row["loss_day"], row["loss_observed"], row["persistence_days"]) == (25, True, 25)
        assert (row["clast"], row["tlast_days"]) == (300, 21)
    row = one(profile([0, 7, 14, 21, 25], [0, 100, 900, 300, None]))  # a single trailing BLQ
    assert not row["loss_observed"] and np.isnan(row["loss_day"])
    assert row["persistence_days"] == 25  # censored at the last sample
    assert row["auc"] == 350 + 3500 + 4200 + 4 * 300 / 2 and row["auc_end"] == "zero_after_blq"


def test_a_single_middle_blq_is_not_loss():
    row = one(profile([0, 7, 14, 21, 28], [0, 100, None, 300, 50]))
    assert not row["loss_observed"] and row["persistence_days"] == 28 and row["tlast_days"] == 28


def test_value_given_with_below_loq_is_ignored():
    df = profile([0, 7, 14], [0, 1000, 20])
    df.loc[2, "below_loq"] = True
    row = one(df, blq="drop")
    assert row["clast"] == 1000 and row["auc"] == 3500


# ---- window end and start ---------------------------------------------------------------------------------------
def test_window_end_interpolated_linear_and_log():
    df = profile([0, 21, 35], [0, 2000, 600])
    row = one(df)
    c28 = 2000 + (600 - 2000) * 7 / 14  # 1300
    assert row["auc"] == 21 * 2000 / 2 + 7 * (2000 + c28) / 2  # 21000 + 11550
    assert (row["auc_end"], row["auc_end_day"], row["auc_complete"]) == ("interpolated", 28, True)
    row = one(df, auc_method=LOG)
    c28 = 2000 * (600 / 2000) ** 0.5
    assert row["auc"] == pytest.approx(21000 + 7 * (2000 - c28) / math.log(2000 / c28), rel=1e-14)


def test_window_end_last_sample_never_extrapolates():
    df = profile([0, 21, 35], [0, 2000, 600])
    row = one(df, window_end="last_sample")
    assert (row["auc"], row["auc_end"], row["auc_end_day"], row["auc_complete"]) == (21000, "last_sample", 21,
                                                                                      False)
    row = one(profile([0, 7, 21], [0, 1000, 2000]))  # nothing after day 21: stop there, even when interpolating
    assert (row["auc"], row["auc_end"], row["auc_end_day"]) == (3500 + 21000, "last_sample", 21)


def test_window_end_observed_on_the_end_day():
    row = one(profile(*SEC_13_6), window_end="last_sample")
    assert (row["auc_end"], row["auc_complete"]) == ("observed", True)


def test_interpolation_to_a_blq_after_the_window_is_linear():
    row = one(profile([0, 21, 35], [0, 2000, None]), auc_method=LOG)
    c28 = 1000  # halfway between 2000 and the 0 of the first BLQ: a segment ending at 0 is never log
    assert row["auc"] == 21000 + 7 * (2000 + c28) / 2 and row["auc_end"] == "interpolated"


def test_window_start_after_day_0_is_interpolated():
    row = one(profile(*SEC_13_6), window=(10, 24))
    c10 = 1000 + 4000 * 3 / 7
    c24 = 2000 - 1500 * 3 / 7
    expected = 4 * (c10 + 5000) / 2 + 7 * (5000 + 2000) / 2 + 3 * (2000 + c24) / 2
    assert row["auc"] == pytest.approx(expected, rel=1e-14)
    assert (row["auc_start_day"], row["auc_end_day"], row["auc_end"], row["auc_complete"]) == (10, 24,
                                                                                                 "interpolated", True)
    row = one(profile(*SEC_13_6), window=(7, 21))
    assert row["auc"] == 21000 + 24500 and row["auc_end"] == "observed"


def test_window_after_the_last_sample_has_no_auc():
    row = one(profile([0, 7, 14], [0, 100, 50]), window=(28, 90))
    assert np.isnan(row["auc"]) and np.isnan(row["auc_start_day"]) and not row["auc_complete"]
    row = one(profile([0, 7, 14, 21], [0, 100, None, None]), window=(28, 90))  # lost before the window: 0
    assert (row["auc"], row["auc_end"], row["auc_complete"]) == (0, "zero_after_blq", True)


def test_day0_imputed_or_not():
    df = profile([7, 14, 21, 28], [1000, 5000, 2000, 500])
    row = one(df)
    assert row["day0_imputed"] and row["auc"] == 57750 and row["auc_complete"]
    row = one(df, day0="none")
    assert not row["day0_imputed"]
    assert (row["auc"], row["auc_start_day"], row["auc_complete"]) == (21000 + 24500 + 8750, 7, False)


def test_blq_on_day_0_is_the_pre_infusion_zero_under_drop():
    row = one(profile([0, 7], [None, 1000]), blq="drop")
    assert not row["day0_imputed"] and row["auc"] == 3500 and row["auc_start_day"] == 0


# ---- series keys -------------------------------------------------------------------------------------------------
def test_matrix_assay_and_unit_are_separate_series():
    pb = profile(*SEC_13_6)
    bm = profile([0, 28], [0, 100], matrix="bone_marrow")
    flow = profile([0, 14, 28], [0, 20, 10])
    flow["assay"], flow["unit"] = "flow", "cells_per_ul"
    t = noncompartmental(pd.concat([bm, flow, pb], ignore_index=True)).table
    assert list(zip(t["matrix"], t["assay"], t["unit"], strict=True)) == [
        ("peripheral_blood", "qpcr", "copies_per_ug_dna"), ("peripheral_blood", "flow", "cells_per_ul"),
        ("bone_marrow", "qpcr", "copies_per_ug_dna")]
    assert list(t["auc"]) == [57750, 14 * 20 / 2 + 14 * 30 / 2, 28 * 100 / 2]
    assert list(t["cmax"]) == [5000, 20, 100]


def test_patients_sorted_naturally_and_blank_matrix_is_blood():
    df = pd.concat([profile([0, 7], [0, 10], pid=10), profile([0, 7], [0, 20], pid=9)], ignore_index=True)
    df["matrix"] = [None, " Peripheral_Blood ", "", np.nan]
    t = noncompartmental(df).table
    assert list(t["patient_id"]) == [9, 10] and set(t["matrix"]) == {"peripheral_blood"}


def test_cohort_dtypes_give_the_same_answer():
    df = pd.concat([profile(BLQ_DAYS, BLQ_VALUES), profile(*SEC_13_6, pid="P2")], ignore_index=True)
    cohort = df.astype({"patient_id": "string", "day": "Int64", "assay": "string", "unit": "string",
                        "below_loq": "boolean"})
    cohort["matrix"] = pd.array([pd.NA] * len(df), dtype="string")
    cohort.loc[cohort["below_loq"].to_numpy(bool) & (cohort["day"] == 35).to_numpy(), "below_loq"] = pd.NA
    cohort.loc[cohort["day"] == 35, "value"] = 0.0  # blank flag + exact 0 = not quantifiable
    a = noncompartmental(df).table
    b = noncompartmental(cohort).table
    pd.testing.assert_frame_equal(a.drop(columns="patient_id"), b.drop(columns="patient_id"))
    assert list(b["patient_id"]) == ["P1", "P2"]


# ---- persistence -------------------------------------------------------------------------------------------------
def test_persistence_at_months():
    late = profile([0, 14, 28, 60, 90, 120, 180], [0, 9000, 800, None, 40, None, None])
    short = profile([0, 14, 28, 60], [0, 5000, 100, None], pid="P2")
    res = noncompartmental(pd.concat([late, short]), persistence_months=(1, 3, 6, 8))
    assert list(res.persistence.columns) == ["patient_id", "matrix", "assay", "unit", "month", "landmark_day",
                                             "status"]
    # landmark days: round(m * 30.4375) half up -> 30, 91 (91.3125), 183 (182.625), 244 (243.5)
    assert list(res.persistence["landmark_day"][:4]) == [30, 91, 183, 244]
    s = res.persistence.set_index(["patient_id", "month"])["status"]
    # P1: quantifiable on day 90 >= 30 - 7 and >= 91 - 7; from day 176 only BLQ (180); nothing from day 237 on
    assert [s["P1", m] for m in (1, 3, 6, 8)] == ["detectable", "detectable", "undetectable", "not_evaluable"]
    # P2: quantifiable day 28 >= 23; day 60 BLQ is before 84: nothing to evaluate at month 3
    assert [s["P2", m] for m in (1, 3, 6)] == ["detectable", "not_evaluable", "not_evaluable"]
    t = res.table.set_index("patient_id")
    assert (t.loc["P1", "loss_day"], t.loc["P1", "loss_observed"]) == (120, True)  # 60 is followed by day 90 > 0
    assert (t.loc["P2", "loss_observed"], t.loc["P2", "persistence_days"]) == (False, 60)


def test_visit_window_days():
    res = noncompartmental(profile([0, 14, 25], [0, 100, 50]), persistence_months=(1,), visit_window_days=3)
    assert res.persistence["status"].tolist() == ["not_evaluable"]  # 25 < 30 - 3


# ---- half-life ---------------------------------------------------------------------------------------------------
def test_half_life_of_an_exact_exponential_uses_every_point():
    days = [0, 7, 14, 21, 28, 42]
    values = [0, 1000, 8000] + [8000 * math.exp(-0.1 * (d - 14)) for d in (21, 28, 42)]
    row = one(profile(days, values), half_life=True)
    # every candidate fits exactly (adjusted R^2 = 1): the one with most points (3) wins; lambda = 0.1/day
    assert row["lambda_z_per_day"] == pytest.approx(0.1, rel=1e-12)
    assert row["half_life_days"] == pytest.approx(math.log(2) / 0.1, rel=1e-12)
    assert row["half_life_n_points"] == 3 and row["half_life_adj_r2"] == pytest.approx(1.0, abs=1e-12)
    assert row["half_life_note"] is None


def test_half_life_rising_tail_is_missing_with_a_reason():
    row = one(profile([0, 7, 14, 21, 28], [0, 5000, 100, 200, 400]), half_life=True)
    assert np.isnan(row["half_life_days"]) and "slope" in row["half_life_note"]


def test_same_columns_whatever_the_flags():
    df = profile(*SEC_13_6)
    for kw in ({}, {"half_life": True}, {"blq": "drop", "window_end": "last_sample", "day0": "none"}):
        res = noncompartmental(df, **kw)
        assert isinstance(res, NCAResult)
        assert list(res.table.columns) == TABLE_COLUMNS
        assert list(res.excluded.columns) == ["patient_id", "matrix", "assay", "unit", "reason"]
        assert res.excluded.empty
    off = noncompartmental(df).table.iloc[0]
    assert np.isnan(off["half_life_days"]) and off["half_life_note"] == "not requested"


def test_options_are_recorded():
    res = noncompartmental(profile(*SEC_13_6), auc_method=LOG, blq="zero", window=(0, 21))
    o = res.options
    assert (o["auc_method"], o["blq"], o["window"], o["window_end"], o["duplicates"], o["day0"]) == (
        LOG, "zero", (0.0, 21.0), "interpolate", "mean", "zero")
    assert o["auc_units"]["copies_per_ug_dna"] == "copies_per_ug_dna x day"
    assert o["days_per_month"] == 30.4375 and o["persistence_months"] == (1.0, 3.0, 6.0) and "version" in o
    with pytest.raises(TypeError):
        o["blq"] = "drop"
    frame = res.to_frame()
    frame.loc[0, "auc"] = -1.0
    assert res.table.loc[0, "auc"] != -1.0
    assert "<table" in res._repr_html_()


@pytest.mark.parametrize("kw, match", [
    ({"window": (28, 0)}, "window"), ({"window": (0, np.inf)}, "window"), ({"window": 28}, "window"),
    ({"auc_method": "log"}, "auc_method"), ({"blq": "keep"}, "blq"), ({"window_end": "extrapolate"}, "window_end"),
    ({"duplicates": "first"}, "duplicates"), ({"day0": 0}, "day0"), ({"persistence_months": (0,)}, "months"),
    ({"visit_window_days": -1}, "visit_window_days"), ({"half_life": "yes"}, "half_life"),
])
def test_bad_options(kw, match):
    with pytest.raises(InputError, match=match):
        noncompartmental(profile(*SEC_13_6), **kw)
