"""A plan over a registry extract: ``data.engine: duckdb`` counts each analysis in DuckDB, and the survival records
equal those of the estimators on the rows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cart_outcomes import InputError
from cart_outcomes import stats as co
from cart_outcomes.cli import app
from cart_outcomes.plan.run import run_plan

PLAN = """
title: Registry extract
data: {{source: extract.parquet, engine: {engine}}}
analyses:
  - {{endpoint: os, by: arm, rates_at: [10, 20]}}
  - {{endpoint: cir, by: arm, rates_at: [15]}}
"""


@pytest.fixture
def extract(tmp_path) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 600
    status = rng.choice([0, 1, 2], n, p=[0.5, 0.3, 0.2])
    frame = pd.DataFrame({
        "os_time_days": rng.integers(1, 30, n).astype(float),
        "os_event": rng.integers(0, 2, n),
        "cir_time_days": rng.integers(1, 30, n).astype(float),
        "cir_status": status,
        "arm": rng.choice(["x", "y", "z"], n),
    })
    frame.loc[[4, 9], "os_time_days"] = np.nan  # left out, as the in-memory run leaves them out
    frame.to_parquet(tmp_path / "extract.parquet")
    return frame


def _plan(tmp_path, engine: str):
    path = tmp_path / "study.yaml"
    path.write_text(PLAN.format(engine=engine))
    return path


def test_duckdb_plan_gives_the_rows_numbers(tmp_path, extract):
    result = run_plan(_plan(tmp_path, "duckdb"), out=tmp_path / "out")
    os_rec, cir_rec = result.results["survival"]
    rows = extract[extract.os_time_days.notna()]
    km = co.kaplan_meier(rows, "os_time_days", "os_event", by="arm")
    assert [g["median"] for g in os_rec["groups"]] == km.medians["median"].tolist()
    assert os_rec["groups"][0]["rates"][1]["survival"] == km.at([10, 20])["survival"].iloc[1]
    assert os_rec["logrank"]["statistic"] == co.logrank_test(rows, "os_time_days", "os_event", "arm").statistic
    assert os_rec["n"] == len(rows) and result.results["input"] == {"source": "extract.parquet", "engine": "duckdb",
                                                                     "n_rows": len(rows)}
    gray = co.gray_test(extract, "cir_time_days", "cir_status", "arm", cause=1).table
    assert cir_rec["gray_test"][0]["statistic"] == gray["statistic"].iloc[0]
    written = json.loads((tmp_path / "out" / "results.json").read_text())
    assert written["survival"][0]["id"] == "os_all_arm"
    assert (tmp_path / "out" / "tables" / "survival_os_all_arm.csv").exists()


def test_auto_engine_uses_duckdb_above_the_threshold_and_the_cli_runs_it(tmp_path, extract, monkeypatch):
    monkeypatch.setattr("cart_outcomes.engine._counts.AUTO_DUCKDB_BYTES", 0)
    out = CliRunner().invoke(app, ["run", str(_plan(tmp_path, "auto")), "--out", str(tmp_path / "o"), "--quiet"])
    assert out.exit_code == 0, out.output
    assert "Registry extract: 598 rows counted by duckdb" in out.output


def test_responders_population_is_refused_at_scale(tmp_path, extract):
    path = tmp_path / "study.yaml"
    path.write_text("data: {source: extract.parquet, engine: duckdb}\nanalyses:\n  - {endpoint: dor, "
                    "population: responders}\n")
    with pytest.raises(InputError, match="population 'responders' needs day-28 responses"):
        run_plan(path)
