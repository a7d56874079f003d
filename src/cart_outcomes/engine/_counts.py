"""Event counts computed where the data live: one GROUP BY written with Ibis, run by DuckDB or Spark.

Kaplan-Meier, the log-rank family, Aalen-Johansen and Gray's test need only the number of rows in each distinct
(strata, group, entry, time, event) cell (:class:`cart_outcomes.stats.EventCounts`), so the rows never travel: a
10^8-row Parquet extract becomes a few thousand cells inside DuckDB (embedded, no server) or a Spark cluster, and the
estimators run on those in milliseconds with the numbers the rows would give.

Ibis, DuckDB and PySpark are imported on first use (``import cart_outcomes`` never imports them).
"""

from __future__ import annotations

import glob
import os
import threading
import time as _clock
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from cart_outcomes.errors import InputError
from cart_outcomes.stats import _common
from cart_outcomes.stats._counts import ROWS, EventCounts

__all__ = ["AUTO_DUCKDB_BYTES", "ENGINES", "choose_engine", "event_counts", "source_bytes", "source_columns",
           "source_files", "spark_session"]

ENGINES = ("memory", "duckdb", "spark")
#: ``engine="auto"`` reads files whose total size exceeds this with DuckDB instead of into memory (64 MiB of
#: Parquet is about 10^7 rows of a time, event and group column: where loading them costs seconds)
AUTO_DUCKDB_BYTES = 64 * 2**20
_DB_SUFFIXES = (".duckdb", ".ddb", ".db")
_CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".txt")
_PROGRESS_EVERY = 0.25  # seconds between progress reports of a DuckDB scan


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence, for the engine calls only, the deprecation Ibis 12 triggers in DuckDB 2 (``fetch_arrow_table``)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "fetch_arrow_table", DeprecationWarning)
        yield


def _files(source: str | os.PathLike) -> list[str]:
    path = os.fspath(source)
    if os.path.isdir(path):
        found = sorted(glob.glob(os.path.join(path, "**", "*.parquet"), recursive=True))
    else:
        found = sorted(glob.glob(path, recursive=True)) if glob.has_magic(path) else [path] * os.path.exists(path)
    if not found:
        raise InputError(f"data source {path!r}: no file matches it")
    return found


def source_files(source: str | os.PathLike) -> list[str]:
    """The files a path, glob or folder of Parquet files names, sorted (an error when none matches)."""
    return _files(source)


def source_bytes(source: Any) -> int | None:
    """Total size in bytes of the files a path or glob names (``None`` for other sources)."""
    if not isinstance(source, str | os.PathLike):
        return None
    return sum(os.path.getsize(f) for f in _files(source))


def choose_engine(source: Any, engine: str = "auto") -> str:
    """The engine for ``source``: ``engine`` itself unless it is ``"auto"``, which picks ``"duckdb"`` for an Ibis
    table, a DuckDB database or Parquet/CSV files larger than :data:`AUTO_DUCKDB_BYTES` in total, and ``"memory"``
    otherwise (smaller files, spreadsheets, a folder of cohort tables, a missing source)."""
    if engine != "auto":
        if engine not in ENGINES:
            raise InputError(f"engine must be one of {[*ENGINES, 'auto']}, got {engine!r}")
        return engine
    if not isinstance(source, str | os.PathLike):
        return "memory" if _is_frame(source) else "duckdb"
    path = os.fspath(source).lower()
    if path.endswith(_DB_SUFFIXES):
        return "duckdb"
    try:
        files = _files(source)
    except InputError:  # nothing to count here: the cohort readers report the missing source in their words
        return "memory"
    if not all(f.lower().endswith((".parquet", ".pq", *_CSV_SUFFIXES)) for f in files):
        return "memory"  # spreadsheets and statistical files are cohorts, read in memory
    return "duckdb" if sum(os.path.getsize(f) for f in files) > AUTO_DUCKDB_BYTES else "memory"


def _is_frame(obj: Any) -> bool:
    import pandas as pd

    return isinstance(obj, pd.DataFrame)


def spark_session(master: str = "local[2]") -> Any:
    """The active Spark session, or a new local one (``master``) with quiet logs and no UI."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    session = (
        SparkSession.builder.master(master)
        .appName("cart-outcomes")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def _open(source: Any, engine: str, table: str | None, session: Any) -> tuple[Any, Any, str, list[str]]:
    """``(ibis table, ibis backend, description, Parquet files read)`` of the source."""
    import ibis

    if isinstance(source, ibis.Table):
        backend = source._find_backend()
        return source, backend, f"Ibis table on {backend.name}", []
    if engine == "spark":
        con = ibis.pyspark.connect(session if session is not None else spark_session())
    elif engine == "duckdb":
        con = ibis.duckdb.connect()
    else:
        raise InputError(f"engine={engine!r} does not build event counts in a database; use 'duckdb' or 'spark'")
    if _is_frame(source):
        if engine != "duckdb":
            raise InputError("a DataFrame source is counted by DuckDB (engine='duckdb')")
        con.con.register("cart_outcomes_source", source)  # zero-copy view of the frame
        return con.table("cart_outcomes_source"), con, "DataFrame", []
    if not isinstance(source, str | os.PathLike):
        raise InputError(
            f"data source must be a path or glob (Parquet, CSV), a DuckDB database, an Ibis table or a DataFrame; "
            f"got {type(source).__name__}"
        )
    path = os.fspath(source)
    low = path.lower()
    if low.endswith(_DB_SUFFIXES):
        if engine != "duckdb":
            raise InputError(f"{path!r} is a DuckDB database: use engine='duckdb'")
        _files(path)
        if not table:
            raise InputError(f"{path!r} is a DuckDB database: name the table with table=...")
        db = ibis.duckdb.connect(path, read_only=True)
        tables = sorted(r[0] for r in db.con.execute("SELECT table_name FROM information_schema.tables").fetchall())
        if table not in tables:
            raise InputError(f"{path!r} has no table {table!r} (tables: {tables})")
        return db.table(table), db, f"{path} table {table}", []
    if engine == "spark" and "://" in path:  # a lake (s3a://, hdfs://, abfss://): Spark finds the files itself
        reader = con.read_csv if low.endswith(_CSV_SUFFIXES) else con.read_parquet
        return reader(path), con, path, []
    files = _files(path)
    is_csv = all(f.lower().endswith(_CSV_SUFFIXES) for f in files)
    target = files if engine == "duckdb" else path  # Spark reads globs and folders itself
    reader = con.read_csv if is_csv else con.read_parquet
    return reader(target), con, path, [] if is_csv else files


def _parquet_levels(files: list[str], column: str, present: set) -> tuple[list, bool] | None:
    """The categories and ordered flag ``pd.read_parquet`` gives a dictionary-encoded Parquet column, or ``None``
    for a plain column. Fast path: the dictionaries of each file's first row group (pandas writes the whole category
    list into every row group), when they are the same in every file and hold every value counted; otherwise the
    dictionaries of every chunk, unified in order as pyarrow does when it converts them to pandas (reads the
    column)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(files[0])
    field = schema.field(column) if column in schema.names else None
    if field is None or not pa.types.is_dictionary(field.type):
        return None
    firsts = []
    for f in files:
        book = pq.ParquetFile(f)
        if book.metadata.num_row_groups:
            chunks = book.read_row_group(0, columns=[column]).column(0).chunks
            firsts.append(tuple(v for c in chunks[:1] for v in c.dictionary.to_pylist()))
    if firsts and len(set(firsts)) == 1 and present <= set(firsts[0]):
        return list(firsts[0]), field.type.ordered
    unified = pq.read_table(files, columns=[column]).unify_dictionaries().column(0)
    return (unified.chunk(0).dictionary.to_pylist() if unified.num_chunks else []), field.type.ordered


def _in_memory_dtypes(frame: Any, source: Any, files: list[str], columns: list[str]) -> Any:
    """``frame`` with its group and stratum columns given the categorical dtype the in-memory path reads them with
    (a DataFrame's own categoricals; Parquet dictionary columns), so the levels keep their order (the engine returns
    their values as strings, which sort otherwise)."""
    import pandas as pd

    for col in columns:
        if col not in frame.columns:  # a pair of dates, differenced: a number
            continue
        if _is_frame(source):
            dtype = source[col].dtype if isinstance(source[col].dtype, pd.CategoricalDtype) else None
        elif files:
            found = _parquet_levels(files, col, set(frame[col].dropna()))
            dtype = None if found is None else pd.CategoricalDtype(*found)
        else:
            dtype = None
        if dtype is not None:
            frame[col] = frame[col].astype(dtype)
    return frame


def source_columns(
    source: Any, *, engine: str = "duckdb", table: str | None = None, session: Any = None
) -> list[str]:
    """The column names of a source, read from its schema (nothing is scanned)."""
    with _quiet():
        return list(_open(source, choose_engine(source, engine), table, session)[0].columns)


def _expression(t: Any, spec: Any, role: str) -> tuple[Any, str]:
    """The Ibis expression and the label of a column argument: a name, or (start date, end date) in days."""
    cols = list(t.columns)
    if isinstance(spec, str):
        if spec not in cols:
            raise InputError(f"{role}: column {spec!r} is not in the data source (columns: {cols})")
        return t[spec], spec
    if isinstance(spec, Sequence) and len(spec) == 2 and all(isinstance(s, str) for s in spec):
        start, end = spec
        for s in spec:
            if s not in cols:
                raise InputError(f"{role}: column {s!r} is not in the data source (columns: {cols})")
        days = t[end].cast("date").delta(t[start].cast("date"), unit="day")
        return days, f"{end} - {start} (days)"
    raise InputError(f"{role} must be a column name or a pair (start date column, end date column), got {spec!r}")


def _filtered(t: Any, where: Any) -> Any:
    """``t`` with the population conditions applied in the engine: a mapping ``{column: value or list of values}``,
    Ibis boolean expressions or deferreds (``ibis._.age >= 18``), or a list of them."""
    if where is None:
        return t
    conditions = where if isinstance(where, list | tuple) else [where]
    for cond in conditions:
        if isinstance(cond, Mapping):
            for col, value in cond.items():
                if col not in t.columns:
                    raise InputError(f"where: column {col!r} is not in the data source (columns: {list(t.columns)})")
                many = isinstance(value, list | tuple | set)
                t = t.filter(t[col].isin(list(value)) if many else t[col] == value)
        else:
            t = t.filter(cond)
    return t


def _execute(expr: Any, backend: Any, progress: Callable[[float], None] | None) -> Any:
    """Run ``expr`` to a DataFrame (through Arrow: Ibis's own pandas conversion reads an option pandas 3 deprecates);
    with ``progress``, report DuckDB's scan progress (0-100) while it runs."""
    if progress is None or backend.name != "duckdb":
        return expr.to_pyarrow().to_pandas()
    done = threading.Event()
    raw = backend.con

    def poll() -> None:
        while not done.wait(_PROGRESS_EVERY):
            pct = raw.query_progress()
            if pct >= 0:
                progress(float(pct))

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    try:
        out = expr.to_pyarrow().to_pandas()
    finally:
        done.set()
        watcher.join()
    progress(100.0)
    return out


def _check(frame: Any, labels: dict[str, str]) -> None:
    """Located problems of the counted rows, all at once: missing values, negative or non-finite times, entry not
    before exit. Each names the column, the rule, the number of source rows and a few offending values."""
    import numpy as np

    problems = []
    n = frame[ROWS].to_numpy()

    def report(rule: str, col: str, mask: np.ndarray, what: str) -> None:
        if mask.any():
            values = sorted({str(v) for v in frame.loc[mask, col].head(5)})
            problems.append(
                f"[{rule}] column {col!r}: {int(n[mask].sum())} row(s) {what} (values: {', '.join(values)})"
            )

    for role, col in labels.items():
        report("MISSING", col, frame[col].isna().to_numpy(), f"have no {role}")
    for role in ("time", "entry"):
        if role in labels:
            col = labels[role]
            v = frame[col]
            if v.dtype.kind not in "iufb":
                problems.append(f"[NOT_NUMERIC] column {col!r}: {role} must be numeric (days), got {v.dtype}")
                continue
            x = v.to_numpy(dtype=float)
            report("BAD_TIME", col, ~np.isnan(x) & (~np.isfinite(x) | (x < 0)), f"have a negative or infinite {role}")
    if "entry" in labels and not problems:
        e, t = frame[labels["entry"]].to_numpy(dtype=float), frame[labels["time"]].to_numpy(dtype=float)
        report("ENTRY_ORDER", labels["entry"], e >= t, f"enter at or after their exit time {labels['time']!r}")
    if problems:
        raise InputError("event counts: the data source has problems; nothing was counted:\n  " + "\n  ".join(problems))


def event_counts(
    source: Any,
    time: str | Sequence[str],
    event: str,
    by: str | None = None,
    *,
    strata: str | Sequence[str] | None = None,
    entry: str | Sequence[str] | None = None,
    where: Any = None,
    engine: str = "duckdb",
    table: str | None = None,
    session: Any = None,
    progress: Callable[[float], None] | None = None,
    missing_time: str = "error",
) -> EventCounts:
    """Count the rows of a large source per (strata, group, entry, time, event) cell, inside DuckDB or Spark.

    Parameters
    ----------
    source : a Parquet or CSV path, glob (``"extract/*.parquet"``) or folder of Parquet files; a DuckDB database
        file (with ``table=``); an Ibis table expression (run by its own backend); or a DataFrame (run by DuckDB).
    time : exit time column (days), or a pair ``(start_date, end_date)`` of date columns, differenced in the engine
        (calendar days, as ``(end - start).days`` of dates).
    event : event column: 0/1 (or boolean) for survival, or cause codes (0 = censored) for competing risks.
    by : optional grouping column (one curve / one group per level).
    strata : optional stratum column name or names (log-rank and Gray's tests compare groups within strata).
    entry : optional entry-time column, or a ``(start_date, entry_date)`` pair (left truncation; KM only).
    where : population conditions run in the engine before counting: ``{column: value or [values]}``, Ibis boolean
        expressions or deferreds (``ibis._.age >= 18``), or a list of them.
    engine : ``"duckdb"`` (embedded, default) or ``"spark"`` (``session`` or the active one, else a local one).
    table : the table of a DuckDB database source.
    session : a ``pyspark.sql.SparkSession`` (e.g. connected to a cluster) for ``engine="spark"``.
    progress : optional callable given the percentage of a DuckDB scan done, a few times a second.
    missing_time : ``"error"`` (default: rows without a time are a problem, reported with the others) or
        ``"exclude"``: they are outside the analysis (an endpoint that does not apply to them, as DOR for
        non-responders), left out and counted in ``options["rows_without_time"]``.

    Returns
    -------
    EventCounts
        Pass it to :func:`~cart_outcomes.stats.kaplan_meier`, :func:`~cart_outcomes.stats.logrank_test`,
        :func:`~cart_outcomes.stats.logrank_trend_test`, :func:`~cart_outcomes.stats.cumulative_incidence` or
        :func:`~cart_outcomes.stats.gray_test` in place of the rows: the numbers are those of the rows.

    Notes
    -----
    1. The source is opened lazily (nothing is read yet); the conditions become a WHERE clause.
    2. One ``SELECT strata, by, entry, time, event, COUNT(*) GROUP BY ...`` runs in the engine; only the cells come
       back (a few thousand for integer days).
    3. The cells are checked (missing values, negative times, entry at or after exit: every problem at once, with
       the number of rows) and sorted.

    Equivalent SQL::

        SELECT strata, by, entry, time, event, COUNT(*) AS n_rows FROM read_parquet('extract/*.parquet')
        WHERE ... GROUP BY ALL
    """
    engine = choose_engine(source, engine)
    if missing_time not in ("error", "exclude"):
        raise InputError(f"missing_time must be 'error' or 'exclude', got {missing_time!r}")
    started = _clock.perf_counter()
    with _quiet():
        t, backend, described, files = _open(source, engine, table, session)
    t = _filtered(t, where)
    strata_specs = [strata] if isinstance(strata, str) else list(strata or [])
    keys: dict[str, Any] = {}
    labels: dict[str, str] = {}
    for i, spec in enumerate(strata_specs):
        expr, lab = _expression(t, spec, "strata")
        keys[lab] = expr
        labels[f"stratum {i + 1}" if len(strata_specs) > 1 else "stratum"] = lab
    for role, spec in (("group", by), ("entry", entry), ("time", time), ("event", event)):
        if spec is None:
            continue
        expr, lab = _expression(t, spec, role)
        if lab in keys:
            raise InputError(f"{role}: column {lab!r} is already used as another argument")
        keys[lab] = expr
        labels[role] = lab
    if ROWS in keys:
        raise InputError(f"{ROWS!r} is reserved for the row numbers; rename that column")
    counted = t.group_by([e.name(lab) for lab, e in keys.items()]).aggregate(**{ROWS: t.count()})
    with _quiet():
        frame = _execute(counted, backend, progress)
    without_time = frame[labels["time"]].isna()
    n_without_time = int(frame.loc[without_time, ROWS].sum())
    if missing_time == "exclude" and n_without_time:
        frame = frame.loc[~without_time.to_numpy()].reset_index(drop=True)
    _check(frame, labels)
    levels = [labels[k] for k in labels if k.startswith("stratum") or k == "group"]
    frame = _in_memory_dtypes(frame, source, files, levels)
    frame = frame.sort_values(list(keys), kind="stable", ignore_index=True)
    options = _common.options(
        engine=engine if backend.name != "pyspark" else "spark",
        source=described,
        where=None if where is None else repr(where),
        rows_without_time=n_without_time if missing_time == "exclude" else 0,
        seconds=round(_clock.perf_counter() - started, 3),
    )
    strata_labels = tuple(labels[k] for k in labels if k.startswith("stratum"))
    return EventCounts(
        frame, labels["time"], labels["event"], labels.get("group"), strata_labels, labels.get("entry"), options
    )
