"""EHA/EBMT ICAHT grading (Rejeski K et al., Blood 2023;142(10):865-877; thresholds/counting as in Liang's open
implementation). Expected grades: clinical-definitions.md 13.3 and hand-counted day runs shown in each test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tox_builders import anc_series

from cart_outcomes.errors import InputError, ValidationFailed
from cart_outcomes.toxicity import grade_icaht


def low(days, value=300):
    return dict.fromkeys(days, value)


VECTORS_13_3 = [
    ("13.3-1 ANC <= 500 days 3-8 (6 days) -> 1", low(range(3, 9)), 1, 6),
    ("13.3-2 ANC <= 500 days 3-12 (10 days) -> 2", low(range(3, 13)), 2, 10),
    ("13.3-3 ANC <= 500 days 2-17 (16 days), <= 100 on 4 of them -> 3",
     {**low(range(2, 18)), **low(range(2, 6), 50)}, 3, 16),
    ("13.3-4 <= 500 days 2-10, > 500 days 11-12 only (non-stable), <= 500 days 13-20: joined, 19 days -> 3",
     {**low(range(2, 11)), **low(range(13, 21))}, 3, 19),
    ("13.3-5 ANC <= 100 days 4-12 (9 days) -> 3", low(range(4, 13), 50), 3, 9),
    ("13.3-6 ANC <= 100 days 4-19 (16 days) -> 4", low(range(4, 20), 50), 4, 16),
    ("13.3-7 ANC <= 500 every day 0-30 -> 4", low(range(0, 31)), 4, 31),
]


@pytest.mark.parametrize(("pattern", "grade", "days"), [v[1:] for v in VECTORS_13_3],
                         ids=[v[0] for v in VECTORS_13_3])
def test_clinical_definitions_vectors_13_3(pattern, grade, days):
    t = grade_icaht(pd.DataFrame(anc_series("P1", pattern))).table.iloc[0]
    assert t["early_grade"] == grade and t["early_days_anc_le_500"] == days


@pytest.mark.parametrize(("value", "counted"), [(500, True), (501, False), (100, True)])
def test_threshold_500_is_inclusive(value, counted):
    # ICAHT: ANC <= 500/uL
    t = grade_icaht(pd.DataFrame(anc_series("P1", low(range(3, 5), value)))).table.iloc[0]
    assert (t["early_days_anc_le_500"] == 2) == counted


@pytest.mark.parametrize(("n_days", "grade"), [(6, 1), (7, 2), (13, 2), (14, 3), (30, 3)])
def test_severe_duration_bands(n_days, grade):
    # ICAHT early, ANC <= 500: 1-6 d G1, 7-13 d G2, 14-30 d G3 (31 = every day 0-30 is G4)
    t = grade_icaht(pd.DataFrame(anc_series("P1", low(range(1, 1 + n_days))))).table.iloc[0]
    assert t["early_grade"] == grade


@pytest.mark.parametrize(("n_days", "grade"), [(6, 1), (7, 3), (13, 3), (14, 4)])
def test_profound_duration_bands(n_days, grade):
    # ICAHT early, ANC <= 100: 7-13 d G3, >= 14 d G4 (6 days <= 100 is only 6 days <= 500 -> G1)
    t = grade_icaht(pd.DataFrame(anc_series("P1", low(range(1, 1 + n_days), 80)))).table.iloc[0]
    assert t["early_grade"] == grade


def test_stable_recovery_of_3_days_splits_episodes():
    # 5 low days, 3 recovered days (stable: >= 3), 5 low days -> 10 days counted -> G2 (not joined)
    t = grade_icaht(pd.DataFrame(anc_series("P1", {**low(range(2, 7)), **low(range(10, 15))}))).table.iloc[0]
    assert t["early_days_anc_le_500"] == 10 and t["early_grade"] == 2
    t2 = grade_icaht(pd.DataFrame(anc_series("P1", {**low(range(2, 7)), **low(range(10, 15))})),
                     stable_recovery_days=4).table.iloc[0]
    assert t2["early_days_anc_le_500"] == 13  # the 3 recovery days now count as non-stable


def test_lowest_value_per_day_is_used():
    rows = anc_series("P1", low(range(3, 10))) + [dict(patient_id="P1", day=d, anc_per_ul=5000) for d in range(3, 10)]
    assert grade_icaht(pd.DataFrame(rows)).table["early_days_anc_le_500"].iloc[0] == 7
    assert grade_icaht(pd.DataFrame(rows), daily_value="max").table["early_days_anc_le_500"].iloc[0] == 0


def test_gaps_up_to_7_days_are_interpolated():
    # measured on days 0, 2 (300), 9 (300), 30: the 6-day gap 3-8 is interpolated (300) -> days 2-9 = 8 days -> G2
    rows = [dict(patient_id="P1", day=d, anc_per_ul=a) for d, a in [(0, 2000), (2, 300), (9, 300), (30, 3000)]]
    t = grade_icaht(pd.DataFrame(rows))
    assert t.table["early_days_anc_le_500"].iloc[0] == 8
    # interpolated: day 1 and days 3-8 (gaps of 1 and 6 days); the 20-day gap 10-29 stays missing
    assert t.observations["interpolated"].sum() == 7
    assert t.table["early_grade"].iloc[0] == 2


def test_gap_longer_than_limit_is_left_missing():
    rows = [dict(patient_id="P1", day=d, anc_per_ul=a) for d, a in [(1, 300), (10, 300)]]
    t = grade_icaht(pd.DataFrame(rows)).table.iloc[0]
    assert t["early_days_anc_le_500"] == 2  # an 8-day gap (2-9) is not filled; the two lows are not joined
    t = grade_icaht(pd.DataFrame(rows), interpolate_gap_days=8).table.iloc[0]
    assert t["early_days_anc_le_500"] == 10


def test_censoring_stops_counting():
    rows = anc_series("P1", low(range(2, 25)))
    t = grade_icaht(pd.DataFrame(rows), censor={"P1": 10}).table.iloc[0]
    # counted days 2-10 = 9; still neutropenic at censor day 10 since day 2 -> no recovery before censoring -> G4
    assert t["early_days_anc_le_500"] == 9 and t["early_grade"] == 4
    assert t["early_rule"] == "icaht.early.g4.no_recovery_before_censoring"
    t = grade_icaht(pd.DataFrame(rows), censor={"P1": 10}, no_recovery_before_censor_is_grade4=False).table.iloc[0]
    assert t["early_grade"] == 2


def test_censor_as_dataframe_and_bad_censor():
    rows = anc_series("P1", low(range(2, 25)))
    t = grade_icaht(pd.DataFrame(rows), censor=pd.DataFrame({"patient_id": ["P1"], "censor_day": [20]})).table
    assert t["early_days_anc_le_500"].iloc[0] == 19
    with pytest.raises(InputError):
        grade_icaht(pd.DataFrame(rows), censor=[1, 2])


@pytest.mark.parametrize(("late", "grade"), [([1600, 1600], 0), ([1500, 1400], 1), ([900, 1000], 2),
                                             ([400, 500], 3), ([100, 50], 4), ([50, 2000], 0)])
def test_late_icaht_nadir_non_transient(late, grade):
    # ICAHT late (day > 30): <= 1500 G1, <= 1000 G2, <= 500 G3, <= 100 G4; needs >= 2 values at the level
    # (a single low value among two measurements is transient: [50, 2000] -> 0)
    rows = anc_series("P1", {}) + [dict(patient_id="P1", day=40 + i, anc_per_ul=a) for i, a in enumerate(late)]
    t = grade_icaht(pd.DataFrame(rows)).table.iloc[0]
    assert t["late_grade"] == grade and t["late_nadir_anc_per_ul"] == min(late)


def test_late_single_measurement_graded_and_flagged():
    rows = anc_series("P1", {}) + [dict(patient_id="P1", day=60, anc_per_ul=80)]
    t = grade_icaht(pd.DataFrame(rows)).table.iloc[0]
    assert t["late_grade"] == 4 and bool(t["late_single_measurement"])


def test_missing_windows_are_excluded_not_zero():
    rows = [dict(patient_id="P1", day=40, anc_per_ul=300), dict(patient_id="P1", day=41, anc_per_ul=300)]
    res = grade_icaht(pd.DataFrame(rows))
    assert pd.isna(res.table["early_grade"].iloc[0]) and res.table["late_grade"].iloc[0] == 3
    assert res.excluded["reason"].tolist() == ["no ANC measurement in the early window"]


def test_negative_days_allowed_but_bad_values_located():
    rows = anc_series("P1", {}) + [dict(patient_id="P1", day=-5, anc_per_ul=1000)]
    grade_icaht(pd.DataFrame(rows))
    with pytest.raises(ValidationFailed) as exc:
        grade_icaht(pd.DataFrame(rows + [dict(patient_id="P2", day=3, anc_per_ul=-1)]))
    p = exc.value.problems[0]
    assert (p.rule, p.patient_id, p.row, p.column) == ("OUT_OF_RANGE", "P2", 34, "anc_per_ul")


def test_many_patients_match_one_at_a_time():
    rng = np.random.default_rng(7)
    rows = []
    for p in range(20):
        rows += [dict(patient_id=p, day=d, anc_per_ul=float(rng.choice([50, 300, 800, 2500]))) for d in range(0, 60)]
    df = pd.DataFrame(rows)
    together = grade_icaht(df).table.set_index("patient_id")
    for p in (0, 7, 19):
        alone = grade_icaht(df[df["patient_id"] == p]).table.iloc[0]
        assert alone["early_grade"] == together.loc[p, "early_grade"]
        assert alone["late_grade"] == together.loc[p, "late_grade"]
