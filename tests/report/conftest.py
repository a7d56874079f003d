"""Fixtures of the report tests (the data live in report_cases.py, importable by name)."""

from __future__ import annotations

import pandas as pd
import pytest
from report_cases import hostile_cohort


@pytest.fixture
def cohort() -> pd.DataFrame:
    return hostile_cohort()
