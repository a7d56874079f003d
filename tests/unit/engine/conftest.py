"""Shared data for the engine tests: a cohort written as Parquet (two files), CSV and a DuckDB table."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest


def make_cohort(n: int = 400, seed: int = 7) -> pd.DataFrame:
    """Integer days with many ties, four arms, two sites, late entry, two competing causes, calendar dates."""
    rng = np.random.default_rng(seed)
    days = rng.integers(1, 40, n).astype(np.int32)
    cause = rng.choice([0, 1, 2], n, p=[0.4, 0.4, 0.2]).astype(np.int8)
    start = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 500, n), unit="D")
    return pd.DataFrame(
        {
            "os_days": days,
            "os_event": (cause > 0).astype(np.int8),
            "cause": cause,
            "arm": rng.choice(["A", "B", "C", "D"], n),
            "site": rng.integers(1, 3, n).astype(np.int32),
            "entry_days": np.minimum(rng.integers(0, 15, n), days - 1).astype(np.int32),
            "age": rng.integers(18, 90, n).astype(np.int32),
            "infusion_date": [d.date() for d in start],
            "last_date": [(d + dt.timedelta(days=int(x))).date() for d, x in zip(start, days, strict=True)],
        }
    )


@pytest.fixture(scope="session")
def cohort() -> pd.DataFrame:
    return make_cohort()


@pytest.fixture(scope="session")
def parquet_dir(tmp_path_factory, cohort) -> str:
    """The cohort split over two Parquet files in one folder."""
    folder = tmp_path_factory.mktemp("extract")
    half = len(cohort) // 2
    cohort.iloc[:half].to_parquet(folder / "part-0.parquet")
    cohort.iloc[half:].to_parquet(folder / "part-1.parquet")
    return str(folder)
