"""A plan on an extract of derived endpoints (docs/scale.md, "From a plan"): the survival section counted by DuckDB
or in memory equals, number for number, the one the same plan computes from the cohort; the engine is chosen by size
and stated in the outputs; what needs one row per patient is refused before any scan, each with its reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from cart_outcomes.cli import app
from cart_outcomes.cohort.mapping import mapping_from_dict
from cart_outcomes.errors import InputError
from cart_outcomes.plan.model import Plan
from cart_outcomes.plan.run import run_plan

COHORT = Path(__file__).resolve().parents[1] / "reference" / "arms_cohort"
ANALYSES = [
    {"endpoint": "os", "by": "car_t_product", "rates_at": [180, 365]},
    {"endpoint": "pfs", "rates_at": [365]},
    {"endpoint": "efs", "by": "diagnosis"},
    {"endpoint": "dor", "population": "responders", "rates_at": [180]},
    {"endpoint": "cir", "by": "car_t_product", "rates_at": [365]},
    {"endpoint": "nrm", "rates_at": [365]},
]


def _plan(source, engine: str = "auto", **extra) -> Plan:
    return Plan.model_validate({"data": {"source": str(source), "engine": engine}, "analyses": ANALYSES, **extra})


@pytest.fixture(scope="module")
def from_cohort():
    """The plan run on the 150-patient cohort in memory (endpoints derived there)."""
    return run_plan(Plan.model_validate({"data": {"source": str(COHORT)}, "analyses": ANALYSES}))


@pytest.fixture(scope="module")
def extract(from_cohort, tmp_path_factory) -> Path:
    """The cohort run's derived endpoint columns and grouping columns, as an extract (one Parquet file)."""
    frame = from_cohort.patients
    keep = [c for c in frame.columns if c.endswith(("_time_days", "_event", "_status"))]
    path = tmp_path_factory.mktemp("extract") / "endpoints.parquet"
    frame[["patient_id", *keep, "car_t_product", "diagnosis"]].to_parquet(path)
    return path


def _numbers(result) -> list[dict]:
    return [{k: v for k, v in s.items() if k != "options"} for s in result.results["survival"]]


@pytest.mark.parametrize("engine", ["duckdb", "memory"])
def test_the_extract_gives_the_cohort_runs_survival_numbers(from_cohort, extract, engine):
    result = run_plan(_plan(extract, engine))
    assert _numbers(result) == _numbers(from_cohort)  # every n, event count, median, CI, rate, log-rank, Gray test
    assert result.results["plan"]["data"]["engine"] == engine
    assert result.results["input"]["n_patients"] == 150
    dor = next(s for s in result.results["survival"] if s["endpoint"] == "dor")["options"]["event_counts"]
    n_responders = int(from_cohort.patients["dor_time_days"].notna().sum())
    assert dor == {"engine": engine, "source": extract.as_posix(), "n_rows": n_responders, "n_cells": dor["n_cells"],
                   "rows_without_time": 150 - n_responders}
    (skipped,) = result.results["data_quality"]["warnings"]  # one line says what an extract cannot give
    assert skipped["rule"] == "ANALYSIS_SKIPPED"
    assert skipped["message"].startswith(f"survival analysed from the extract's event counts (data.engine: {engine}); "
                                         "response rates, median follow-up")


def test_auto_counts_with_duckdb_above_the_threshold_and_says_so(extract, tmp_path, monkeypatch):
    below = run_plan(_plan(extract), out=tmp_path / "below")
    assert below.results["plan"]["data"]["engine"] == "memory" and "duckdb" not in below.results["software"]
    monkeypatch.setattr("cart_outcomes.engine._counts.AUTO_DUCKDB_BYTES", extract.stat().st_size - 1)
    above = run_plan(_plan(extract), out=tmp_path / "above")
    assert above.results["plan"]["data"]["engine"] == "duckdb" and "duckdb" in above.results["software"]
    assert _numbers(above) == _numbers(below)
    again = run_plan(_plan(extract), out=tmp_path / "again")
    assert (tmp_path / "again" / "results.json").read_bytes() == (tmp_path / "above" / "results.json").read_bytes()
    assert again.results["input"]["sha256"]["endpoints.parquet"]
    assert (tmp_path / "above" / "report.html").is_file()


def test_what_needs_one_row_per_patient_is_refused_before_any_scan(extract):
    plan = Plan.model_validate({
        "data": {"source": str(extract), "engine": "duckdb", "columns": {"Study id": "patient_id"}},
        "analyses": [{"endpoint": "os", "population": "responders"}],
        "comparisons": [{"name": "by_product", "by": "car_t_product"}],
        "regression": [{"endpoint": "os", "covariates": ["diagnosis"]}],
        "rmst": [{"endpoint": "os", "by": "diagnosis"}],
        "report": {"adam": True},
    })
    with pytest.raises(InputError) as err:
        run_plan(plan)
    msg = str(err.value)
    assert "comparisons (by_product): landmark, time-dependent exposure" in msg
    assert "analyses (os, population: responders): the response is a per-patient column" in msg
    assert "data (columns): the mapping applies to cohort files read in memory" in msg
    assert "regression: Cox and Fine-Gray models on covariates need one row per patient" in msg
    assert "rmst: restricted mean survival times are computed from the rows" in msg
    assert "report.adam: the ADaM datasets (ADSL, ADTTE, ...) hold one record per patient" in msg


def test_missing_columns_are_named_and_absent_standard_endpoints_skipped(extract, tmp_path):
    with pytest.raises(InputError, match=r"analyses \(os\): column\(s\) \['arm'\]"):
        run_plan(Plan.model_validate({"data": {"source": str(extract), "engine": "duckdb"},
                                      "analyses": [{"endpoint": "os", "by": "arm"}]}))
    import pandas as pd

    only_os = tmp_path / "os.parquet"
    pd.read_parquet(extract, columns=["os_time_days", "os_event"]).to_parquet(only_os)
    result = run_plan(Plan.model_validate({"data": {"source": str(only_os), "engine": "duckdb"}}))
    assert [s["endpoint"] for s in result.results["survival"]] == ["os"]
    skipped = [w["message"] for w in result.results["data_quality"]["warnings"]]
    assert "Progression-free survival not analysed: the extract has no column 'pfs_time_days', 'pfs_event'" in skipped


def test_a_cohort_stays_in_memory_and_the_mapping_ignores_the_engine_key():
    assert mapping_from_dict({"source": "cohort.xlsx", "engine": "duckdb"}).source == "cohort.xlsx"
    from cart_outcomes.plan.extract import engine_for

    assert engine_for(str(COHORT), "auto") is None and engine_for(str(COHORT / "patients.csv"), "memory") is None


def test_cli_run_on_an_extract_names_the_engine(extract, tmp_path):
    plan = tmp_path / "study.yaml"
    plan.write_text(yaml.safe_dump({"data": {"source": str(extract), "engine": "duckdb"}, "analyses": ANALYSES[:2]}))
    out = CliRunner().invoke(app, ["run", str(plan), "--out", str(tmp_path / "out")])
    assert out.exit_code == 0, out.output
    assert "rows counted by DuckDB (data.engine: duckdb); survival analyses only" in out.output
    assert json.loads((tmp_path / "out" / "results.json").read_text())["plan"]["data"]["engine"] == "duckdb"
