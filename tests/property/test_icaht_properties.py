"""Properties of ICAHT grading over generated ANC series (hypothesis; modest max_examples)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cart_outcomes.toxicity import grade_icaht

ANC = st.sampled_from([0.0, 50.0, 100.0, 101.0, 300.0, 500.0, 501.0, 900.0, 1500.0, 3000.0])


@st.composite
def series(draw):
    days = sorted(draw(st.sets(st.integers(0, 60), min_size=1, max_size=40)))
    return pd.DataFrame({"patient_id": "P", "day": days, "anc_per_ul": [draw(ANC) for _ in days]})


@settings(max_examples=20, deadline=None)
@given(series(), st.floats(0.0, 1.0))
def test_lower_counts_never_lower_the_grade(df, factor):
    # ICAHT grades depth x duration: scaling every ANC down can only add neutropenic days / deepen the nadir
    a = grade_icaht(df).table.iloc[0]
    b = grade_icaht(df.assign(anc_per_ul=df["anc_per_ul"] * factor)).table.iloc[0]
    for col in ("early_grade", "late_grade"):
        if not pd.isna(a[col]):
            assert b[col] >= a[col]
    assert b["early_days_anc_le_500"] >= a["early_days_anc_le_500"]


@settings(max_examples=20, deadline=None)
@given(series())
def test_grades_bounded_and_counts_within_window(df):
    t = grade_icaht(df).table.iloc[0]
    assert 0 <= t["early_days_anc_le_100"] <= t["early_days_anc_le_500"] <= 31
    if not pd.isna(t["early_grade"]):
        assert 0 <= t["early_grade"] <= 4
    assert np.isnan(t["late_nadir_anc_per_ul"]) or t["late_nadir_anc_per_ul"] >= 0
