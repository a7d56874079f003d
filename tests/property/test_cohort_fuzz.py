"""Whatever the cells hold, reading reports problems and never raises (the CLI must never show a traceback)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cart_outcomes.cohort import cohort_from_frames
from cart_outcomes.cohort.schema import TABLES
from cart_outcomes.cohort.validate import RULES

CELLS = st.one_of(
    st.none(), st.just(np.nan), st.just(pd.NA), st.just(""), st.just("  "), st.just("#N/A"), st.just("NA"),
    st.text(max_size=6), st.sampled_from(["CR", "cr", "yes", "no", "2024-02-30", "03/04/2024", "2024-01-05", "P1"]),
    st.integers(-5, 400), st.floats(allow_nan=False, allow_infinity=True, width=32), st.booleans(),
    st.dates(dt.date(1990, 1, 1), dt.date(2030, 1, 1)),
    st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2030, 1, 1)),
    st.just(np.int32(7)), st.just(dt.time(1, 2)),
)


@st.composite
def frames(draw):
    out = {}
    for name in draw(st.lists(st.sampled_from(list(TABLES)), min_size=1, max_size=3, unique=True)):
        names = [c.name for c in TABLES[name].columns]
        cols = draw(st.lists(st.sampled_from([*names, "extra", "Extra"]), min_size=1, max_size=8))
        n = draw(st.integers(0, 6))
        data = {f"{c}": [draw(CELLS) for _ in range(n)] for c in dict.fromkeys(cols)}
        out[name] = pd.DataFrame(data, dtype=object) if data else pd.DataFrame()
    return out


@settings(max_examples=30, deadline=None)
@given(frames())
def test_reading_never_raises(tables):
    cohort = cohort_from_frames(tables)
    for p in cohort.report.problems:
        assert RULES[p.rule][0] == p.severity and p.message
        assert p.row is None or p.row >= 1
    assert "patients" in cohort.tables
