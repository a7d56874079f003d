"""Registry scale: KM by 4 groups (log-log CI) + log-rank from a Parquet file, end to end, with peak memory.

Usage (from the repository root)::

    PYTHONPATH=src python benchmarks/bench_engine.py                      # 1e7 rows, all peers
    PYTHONPATH=src python benchmarks/bench_engine.py --sizes 1e7 1e8      # also 1e8 (DuckDB and our in-memory path)
    PYTHONPATH=src python benchmarks/bench_engine.py --data /work/bench-data --rounds 3 --json out.json

Data: the survey generator (``_data.py``) extended to four arms (hazard ratios 1, 0.8, 0.7, 0.6 against arm A;
exponential event times, Uniform(0, 2300) censoring, administrative censoring at day 2000, integer days), written
once to ``<data>/engine_<n>.parquet`` (columns ``os_days`` int32, ``os_event`` int8, ``arm`` dictionary string; row
groups of 10^6 rows). The 1e8-row file is about 0.4 GB: keep it out of git.

Each cell runs in a fresh Python process (so the peak resident memory is that of the method alone) and times the
whole job, file to numbers: imports, reading, the KM curves with their log-log CI and the log-rank test.

- ``duckdb``: ``cart_outcomes.engine.event_counts(file, ...)`` (Ibis on DuckDB) then ``kaplan_meier(counts)``,
  ``.lower`` and ``logrank_test(counts)``;
- ``memory``: ``pd.read_parquet`` then ``kaplan_meier(frame, ...)``, ``.lower`` and ``logrank_test(frame, ...)``;
- ``lifelines``: ``pd.read_parquet``, ``KaplanMeierFitter().fit`` per arm (log-log CI) and
  ``multivariate_logrank_test`` (1e7 only);
- ``statsmodels``: ``pd.read_parquet``, ``SurvfuncRight`` per arm (Greenwood SE, no CI) and ``survdiff``
  (1e7 only).

Cells run round-robin (``--rounds``); the minimum time is reported (the machine is shared), the peak memory is the
child's ``ru_maxrss``. Every method's S(365) of arm A and log-rank chi-square are printed, so they can be compared.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 20240601
HAZARD_RATIOS = (1.0, 0.8, 0.7, 0.6)
CHUNK = 10_000_000
PEERS_UP_TO = 10**7  # lifelines and statsmodels only up to this size (they need many GB beyond)


def make_parquet(path: Path, n: int, seed: int = SEED) -> Path:
    """Write the n-row benchmark file (once; reused when it exists with n rows)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.exists() and pq.ParquetFile(path).metadata.num_rows == n:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arm_type = pa.dictionary(pa.int8(), pa.string())
    schema = pa.schema([("os_days", pa.int32()), ("os_event", pa.int8()), ("arm", arm_type)])
    labels = pa.array(["A", "B", "C", "D"])
    tmp = path.with_suffix(".tmp")
    with pq.ParquetWriter(tmp, schema) as writer:
        for start in range(0, n, CHUNK):
            m = min(CHUNK, n - start)
            arm = rng.integers(0, 4, m).astype(np.int8)
            t_event = rng.exponential(650.0 / np.asarray(HAZARD_RATIOS)[arm])
            t_cens = rng.uniform(0, 2300, m)
            t_obs = np.minimum(np.minimum(t_event, t_cens), 2000.0)
            event = ((t_event <= t_cens) & (t_event <= 2000.0)).astype(np.int8)
            days = np.clip(np.ceil(t_obs), 1, 2000).astype(np.int32)
            table = pa.table(
                {"os_days": days, "os_event": event, "arm": pa.DictionaryArray.from_arrays(pa.array(arm), labels)},
                schema=schema,
            )
            writer.write_table(table, row_group_size=1_000_000)
    tmp.rename(path)
    return path


# ---------------------------------------------------------------------------------------------------------------------
# the methods, each run in a child process: python bench_engine.py --child METHOD FILE


def _duckdb(path: str) -> tuple[float, float]:
    import cart_outcomes as co

    counts = co.engine.event_counts(path, time="os_days", event="os_event", by="arm", engine="duckdb")
    km = co.stats.kaplan_meier(counts, conf_type="log-log")
    km.lower  # noqa: B018 (forces the CI)
    lr = co.stats.logrank_test(counts)
    return float(km.at([365]).survival.iloc[0]), lr.statistic


def _memory(path: str) -> tuple[float, float]:
    import pandas as pd

    import cart_outcomes as co

    df = pd.read_parquet(path)
    km = co.stats.kaplan_meier(df, "os_days", "os_event", by="arm", conf_type="log-log")
    km.lower  # noqa: B018
    lr = co.stats.logrank_test(df, "os_days", "os_event", "arm")
    return float(km.at([365]).survival.iloc[0]), lr.statistic


def _lifelines(path: str) -> tuple[float, float]:
    import pandas as pd
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import multivariate_logrank_test

    df = pd.read_parquet(path)
    fits = {}
    for arm, sub in df.groupby("arm", observed=True):
        fits[arm] = KaplanMeierFitter().fit(sub["os_days"], sub["os_event"])  # log-log CI computed in fit
    lr = multivariate_logrank_test(df["os_days"], df["arm"], df["os_event"])
    return float(fits["A"].survival_function_at_times(365).iloc[0]), float(lr.test_statistic)


def _statsmodels(path: str) -> tuple[float, float]:
    import pandas as pd
    from statsmodels.duration.survfunc import SurvfuncRight, survdiff

    df = pd.read_parquet(path)
    fits = {arm: SurvfuncRight(sub["os_days"], sub["os_event"]) for arm, sub in df.groupby("arm", observed=True)}
    chisq, _ = survdiff(df["os_days"].to_numpy(), df["os_event"].to_numpy(), df["arm"].astype(str).to_numpy())
    sa = fits["A"]
    idx = np.searchsorted(sa.surv_times, 365, side="right") - 1
    return float(sa.surv_prob[idx]), float(chisq)


METHODS = {"duckdb": _duckdb, "memory": _memory, "lifelines": _lifelines, "statsmodels": _statsmodels}


def _child(method: str, path: str) -> None:
    import resource

    t0 = time.perf_counter()
    s365, chisq = METHODS[method](path)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "peak_bytes": peak, "s365": s365, "chisq": chisq}))


def run(method: str, path: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(HERE.parent / "src"), PYTHONWARNINGS="ignore")
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", method, str(path)],
        capture_output=True, text=True, env=env, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["1e7"], help="row counts (default 1e7)")
    ap.add_argument("--data", default=os.environ.get("BENCH_DATA", "/work/bench-data"), help="folder of the files")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--methods", nargs="+", default=list(METHODS))
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--child", nargs=2, metavar=("METHOD", "FILE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(*args.child)
        return {}
    results: dict = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count()}, "cells": []}
    for size in args.sizes:
        n = int(float(size))
        path = make_parquet(Path(args.data) / f"engine_{n}.parquet", n)
        methods = [m for m in args.methods if n <= PEERS_UP_TO or m in ("duckdb", "memory")]
        best: dict[str, dict] = {}
        for _ in range(args.rounds):
            for m in methods:
                r = run(m, path)
                if m not in best or r["seconds"] < best[m]["seconds"]:
                    best[m] = {**r, "peak_bytes": max(r["peak_bytes"], best.get(m, r)["peak_bytes"])}
        load = os.getloadavg()
        for m, r in best.items():
            results["cells"].append({"n": n, "method": m, **r, "load": load, "file_bytes": path.stat().st_size})
    head = f"seconds (min of {args.rounds})"
    print(f"| n | method | {head} | peak RSS (MiB) | S(365) arm A | log-rank chi2 | load 1/5/15 |")
    print("|---|---|---|---|---|---|---|")
    for c in results["cells"]:
        load = "/".join(f"{x:.1f}" for x in c["load"])
        print(f"| {c['n']:.0e} | {c['method']} | {c['seconds']:.2f} | {c['peak_bytes'] / 2**20:.0f} | "
              f"{c['s365']:.12f} | {c['chisq']:.6f} | {load} |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
