"""Event counts computed where big data live: Ibis on DuckDB (embedded) or Spark.

``event_counts(source, time=..., event=..., by=...)`` returns the :class:`cart_outcomes.stats.EventCounts` that
every estimator of :mod:`cart_outcomes.stats` accepts in place of the rows. Ibis, DuckDB and PySpark are imported on
first use only. See docs/scale.md.
"""

from cart_outcomes.engine._counts import (
    AUTO_DUCKDB_BYTES,
    ENGINES,
    choose_engine,
    event_counts,
    source_bytes,
    source_columns,
    source_files,
    spark_session,
)

__all__ = ["AUTO_DUCKDB_BYTES", "ENGINES", "choose_engine", "event_counts", "source_bytes", "source_columns",
           "source_files", "spark_session"]
