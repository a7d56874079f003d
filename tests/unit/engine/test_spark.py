"""The Spark path: the same Ibis query run by a local Spark session gives the cells DuckDB gives, hence the same
numbers as the rows. Few tests (a JVM starts once per session, which takes seconds); skipped only without Java."""

from __future__ import annotations

import shutil
from functools import partial

import numpy as np
import pandas as pd
import pytest

from cart_outcomes import engine
from cart_outcomes import stats as co

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java (Debian: openjdk-17-jre-headless)"),
    # PySpark 4 and its py4j emit deprecation and resource warnings of their own while the JVM starts and stops
    pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::ResourceWarning"),
]
same = partial(pd.testing.assert_frame_equal, check_exact=True, check_dtype=False)


@pytest.fixture(scope="session")
def spark():
    pyspark = pytest.importorskip("pyspark.sql")
    session = (
        pyspark.SparkSession.builder.master("local[1]")
        .appName("cart-outcomes-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "512m")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def test_spark_equals_duckdb_and_the_rows(spark, cohort, parquet_dir):
    args = {"time": "os_days", "event": "os_event", "by": "arm", "strata": "site"}
    on_spark = engine.event_counts(parquet_dir, **args, engine="spark", session=spark)
    on_duckdb = engine.event_counts(parquet_dir, **args, engine="duckdb")
    assert on_spark.options["engine"] == "spark"
    same(on_spark.frame, on_duckdb.frame)
    same(co.kaplan_meier(on_spark).table, co.kaplan_meier(cohort, "os_days", "os_event", by="arm").table)
    rows = co.logrank_test(cohort, "os_days", "os_event", "arm", strata="site")
    counted = co.logrank_test(on_spark)
    for name in ("statistic", "p_value", "observed", "expected", "variance"):
        np.testing.assert_array_equal(getattr(rows, name), getattr(counted, name), err_msg=name)


def test_spark_differences_dates_and_filters_like_duckdb(spark, parquet_dir):
    args = {"time": ("infusion_date", "last_date"), "event": "cause", "by": "arm", "entry": "entry_days",
            "where": {"site": 1}}
    on_spark = engine.event_counts(parquet_dir, **args, engine="spark", session=spark)
    on_duckdb = engine.event_counts(parquet_dir, **args, engine="duckdb")
    same(on_spark.frame, on_duckdb.frame)


def test_spark_reads_a_lake_address_itself(spark, parquet_dir):
    """A URL (``s3a://``, ``hdfs://``; here ``file://``) goes to Spark unchecked: no local file needs to exist."""
    args = {"time": "os_days", "event": "os_event", "by": "arm"}
    on_spark = engine.event_counts(f"file://{parquet_dir}", **args, engine="spark", session=spark)
    same(on_spark.frame, engine.event_counts(parquet_dir, **args, engine="duckdb").frame)
