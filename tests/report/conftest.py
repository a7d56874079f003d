"""Fixtures of the report tests (the data live in report_cases.py, importable by name)."""

from __future__ import annotations

import pandas as pd
import pytest
from report_cases import EXAMPLE, hostile_cohort


@pytest.fixture
def cohort() -> pd.DataFrame:
    return hostile_cohort()


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """The seed study plan run once per test session, outputs written (report included)."""
    from cart_outcomes.plan.run import run_plan

    return run_plan(EXAMPLE / "study.yaml", out=tmp_path_factory.mktemp("demo"))
