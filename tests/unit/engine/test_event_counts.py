"""The DuckDB engine: event counts from Parquet, CSV, a DuckDB table, an Ibis table or a DataFrame give exactly the
numbers of the rows (every column of the KM table, every log-rank number), with dates differenced and conditions
applied in the engine, and located errors."""

from __future__ import annotations

import subprocess
import sys
from functools import partial

import duckdb
import ibis
import numpy as np
import pandas as pd
import pytest

from cart_outcomes import InputError, engine
from cart_outcomes import stats as co

same = partial(pd.testing.assert_frame_equal, check_exact=True, check_dtype=False)


def _same_km(rows, counts):
    same(rows.table, counts.table)
    same(rows.medians, counts.medians)
    np.testing.assert_array_equal(rows.n, counts.n)


def _same_logrank(rows, counts):
    for name in ("statistic", "df", "p_value", "observed", "expected", "variance", "n", "events"):
        np.testing.assert_array_equal(getattr(rows, name), getattr(counts, name), err_msg=name)


def test_parquet_glob_gives_the_rows_numbers(cohort, parquet_dir):
    counts = engine.event_counts(f"{parquet_dir}/*.parquet", time="os_days", event="os_event", by="arm",
                                 strata="site", engine="duckdb")
    assert counts.n_rows == len(cohort) and counts.options["engine"] == "duckdb"
    same(counts.frame, co.event_counts(cohort, "os_days", "os_event", by="arm", strata="site").frame)
    _same_km(co.kaplan_meier(cohort, "os_days", "os_event", by="arm"), co.kaplan_meier(counts))
    for kw in ({}, {"rho": 1}, {"weights": "tarone-ware"}):
        _same_logrank(co.logrank_test(cohort, "os_days", "os_event", "arm", strata="site", **kw),
                      co.logrank_test(counts, **kw))
    trend_rows = co.logrank_trend_test(cohort, "os_days", "os_event", "arm", strata="site")
    assert trend_rows.statistic == co.logrank_trend_test(counts).statistic


def test_folder_late_entry_and_competing_causes(cohort, parquet_dir):
    late = engine.event_counts(parquet_dir, time="os_days", event="os_event", by="arm", entry="entry_days")
    _same_km(co.kaplan_meier(cohort, "os_days", "os_event", by="arm", entry="entry_days"), co.kaplan_meier(late))
    causes = engine.event_counts(parquet_dir, time="os_days", event="cause", by="arm", strata="site")
    same(co.cumulative_incidence(cohort, "os_days", "cause", by="arm").table, co.cumulative_incidence(causes).table)
    same(co.gray_test(cohort, "os_days", "cause", "arm", strata="site").table, co.gray_test(causes).table)


def test_dates_are_differenced_and_conditions_pushed_down(cohort, parquet_dir):
    counts = engine.event_counts(parquet_dir, time=("infusion_date", "last_date"), event="os_event", by="arm",
                                 where=[{"arm": ["A", "C"]}, ibis._.age >= 40])
    kept = cohort[cohort.arm.isin(["A", "C"]) & (cohort.age >= 40)]
    # the hand-made equivalent: calendar days between the dates (here equal to os_days by construction)
    days = (pd.to_datetime(kept.last_date) - pd.to_datetime(kept.infusion_date)).dt.days
    rows = kept.assign(days=days.to_numpy())
    assert counts.time == "last_date - infusion_date (days)" and counts.n_rows == len(kept)
    _same_km(co.kaplan_meier(rows, "days", "os_event", by="arm"), co.kaplan_meier(counts))


@pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")  # Ibis 12 on DuckDB 2, building the source
def test_csv_duckdb_table_ibis_table_and_dataframe_sources(tmp_path, cohort):
    rows = co.logrank_test(cohort, "os_days", "os_event", "arm")
    csv = tmp_path / "extract.csv"
    cohort.to_csv(csv, index=False)
    db = tmp_path / "registry.duckdb"
    with duckdb.connect(str(db)) as con:
        con.register("frame", cohort[["os_days", "os_event", "arm"]])
        con.execute("CREATE TABLE visits AS SELECT * FROM frame")
    sources = [
        (str(csv), {}),
        (str(db), {"table": "visits"}),
        (ibis.duckdb.connect().read_csv(str(csv)), {}),
        (cohort, {}),
    ]
    for source, extra in sources:
        counts = engine.event_counts(source, time="os_days", event="os_event", by="arm", **extra)
        _same_logrank(rows, co.logrank_test(counts))


def test_problems_are_located_and_reported_together(cohort):
    bad = cohort.astype({"os_days": float}).copy()
    bad.loc[3, "os_days"] = np.nan
    bad.loc[[5, 6], "os_days"] = -2.0
    bad.loc[7, "arm"] = None
    with pytest.raises(InputError) as err:
        engine.event_counts(bad, time="os_days", event="os_event", by="arm")
    msg = str(err.value)
    assert "[MISSING] column 'os_days': 1 row(s) have no time" in msg
    assert "[MISSING] column 'arm': 1 row(s) have no group" in msg
    assert "[BAD_TIME] column 'os_days': 2 row(s) have a negative or infinite time (values: -2.0)" in msg
    late = cohort.assign(entry_days=cohort.entry_days.where(cohort.index != 9, 99))
    with pytest.raises(InputError, match=r"\[ENTRY_ORDER\] column 'entry_days': 1 row\(s\) enter at or after"):
        engine.event_counts(late, time="os_days", event="os_event", entry="entry_days")
    with pytest.raises(InputError, match="time: column 'nope' is not in the data source"):
        engine.event_counts(cohort, time="nope", event="os_event")
    with pytest.raises(InputError, match="no file matches"):
        engine.event_counts("/nonexistent/*.parquet", time="os_days", event="os_event")


def test_progress_is_reported_and_auto_engine_follows_the_size(tmp_path, cohort, monkeypatch):
    seen = []
    engine.event_counts(cohort, time="os_days", event="os_event", progress=seen.append)
    assert seen[-1] == 100.0
    small = tmp_path / "small.parquet"
    cohort.to_parquet(small)
    assert engine.choose_engine(str(small)) == "memory"
    monkeypatch.setattr("cart_outcomes.engine._counts.AUTO_DUCKDB_BYTES", small.stat().st_size - 1)
    assert engine.choose_engine(str(small)) == "duckdb"
    assert engine.choose_engine(str(small), "spark") == "spark"


def test_importing_the_package_does_not_import_the_engines():
    code = ("import sys, cart_outcomes, cart_outcomes.stats, cart_outcomes.engine; "
            "print(sorted(m for m in ('ibis', 'duckdb', 'pyspark') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_example_of_docs_scale_runs(tmp_path, monkeypatch, cohort):
    """docs/scale.md's first example, run on a small extract written where it looks for one."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[3] / "docs" / "scale.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, flags=re.S).group(1)
    (tmp_path / "extract").mkdir()
    cohort.to_parquet(tmp_path / "extract" / "part-0.parquet")
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(code, scope)  # noqa: S102 (the documentation's own example)
    rows = co.logrank_test(cohort, "os_days", "os_event", "arm")
    assert scope["lr"].statistic == rows.statistic


def _arms(n: int = 300, seed: int = 3) -> pd.DataFrame:
    """Arms whose level order is not alphabetical (placebo, low, high), one level unused, strata as categories."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "days": rng.integers(1, 30, n).astype(np.int32),
        "dead": rng.integers(0, 2, n).astype(np.int8),
        "arm": pd.Categorical(rng.choice(["placebo", "low", "high"], n), categories=["placebo", "low", "high", "none"]),
        "site": pd.Categorical(rng.choice(["north", "east"], n), categories=["north", "east"], ordered=True),
    })


def _same_levels(rows_frame, counts):
    """The counts carry the in-memory dtype (levels in their order) and give the in-memory curves, in that order."""
    expected = co.event_counts(rows_frame, "days", "dead", by="arm", strata="site")
    pd.testing.assert_frame_equal(counts.frame, expected.frame, check_exact=True, check_dtype=True)
    fit, rows = co.kaplan_meier(counts), co.kaplan_meier(rows_frame, "days", "dead", by="arm")
    assert list(fit.medians["group"]) == list(rows.medians["group"]) == ["placebo", "low", "high"]
    same(fit.table, rows.table)


def test_categorical_levels_keep_the_in_memory_order_and_dtype(tmp_path):
    frame = _arms()
    path = tmp_path / "arms.parquet"
    frame.to_parquet(path, row_group_size=100)
    in_memory = pd.read_parquet(path)  # what `pd.read_parquet` + the in-memory path reads
    args = {"time": "days", "event": "dead", "by": "arm", "strata": "site"}
    _same_levels(in_memory, engine.event_counts(str(path), **args))
    _same_levels(frame, engine.event_counts(frame, **args))


def test_categorical_levels_of_differing_dictionaries_are_unified_as_pyarrow_does(tmp_path):
    """Row groups written with their own dictionaries (not by pandas): the levels are pyarrow's unified ones."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = _arms()
    path = tmp_path / "mixed.parquet"
    first = frame.iloc[:150][frame.arm.iloc[:150] != "high"]  # its dictionary lacks a level that is counted
    parts = [first.assign(arm=first.arm.cat.set_categories(["low", "placebo"])),
             frame.iloc[150:].assign(arm=frame.arm.iloc[150:].cat.set_categories(["high", "none", "placebo", "low"]))]
    schema = pa.Schema.from_pandas(frame, preserve_index=False)
    with pq.ParquetWriter(path, schema) as writer:
        for part in parts:
            writer.write_table(pa.Table.from_pandas(part, schema=schema, preserve_index=False))
    in_memory = pd.read_parquet(path)
    counts = engine.event_counts(str(path), time="days", event="dead", by="arm")
    assert list(counts.frame["arm"].cat.categories) == list(in_memory["arm"].cat.categories)
    assert list(in_memory["arm"].cat.categories) == ["low", "placebo", "high", "none"]  # first seen, chunk by chunk
    same(co.kaplan_meier(counts).table, co.kaplan_meier(in_memory, "days", "dead", by="arm").table)


def test_rows_without_a_time_are_excluded_and_counted_when_asked(cohort):
    """missing_time='exclude': rows whose endpoint does not apply (no time) are left out and counted; the rest give
    the numbers of the rows that have a time. The default reports them as a problem."""
    partial_rows = cohort.astype({"os_days": float}).copy()
    partial_rows.loc[partial_rows.index % 7 == 0, "os_days"] = np.nan
    counts = engine.event_counts(partial_rows, time="os_days", event="os_event", by="arm", missing_time="exclude")
    timed = partial_rows[partial_rows.os_days.notna()]
    assert counts.options["rows_without_time"] == len(partial_rows) - len(timed)
    assert counts.n_rows == len(timed)
    _same_km(co.kaplan_meier(timed, "os_days", "os_event", by="arm"), co.kaplan_meier(counts))
    with pytest.raises(InputError, match=r"\[MISSING\] column 'os_days'"):
        engine.event_counts(partial_rows, time="os_days", event="os_event")
    with pytest.raises(InputError, match="missing_time must be"):
        engine.event_counts(partial_rows, time="os_days", event="os_event", missing_time="drop")
