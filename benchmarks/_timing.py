"""Timing and table rendering shared by the benchmark modules (the interface is described in README.md).

Every ``benchmarks/bench_<name>.py`` exposes ``TITLE: str`` and ``run(quick: bool) -> list[dict]``: one dict per
table row, its keys the column headers in order (an optional ``"table"`` key names a sub-table). ``run_all.py``
imports every module, calls ``run`` in one process and writes the rendered tables into README.md; each module's
``__main__`` prints the same tables through :func:`cli`.
"""

from __future__ import annotations

import argparse
import gc
import math
import time
from collections.abc import Callable, Mapping

import numpy as np


def median_seconds(fn: Callable[[], object], runs: int = 5) -> float:
    """Median wall time of ``runs`` calls of ``fn`` after one warm-up call."""
    fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def interleaved(calls: Mapping[str, Callable[[], object]], rounds: int = 5, batch: int = 1) -> dict[str, float]:
    """Seconds per call of each callable, the peers taking turns in one process: one warm-up call each, then
    ``rounds`` rounds in which every callable runs ``batch`` times; the minimum over the rounds (on a shared
    machine the least disturbed round; background load falls on all peers alike)."""
    return {name: t["wall"] for name, t in timings(calls, rounds, batch).items()}


def timings(
    calls: Mapping[str, Callable[[], object]], rounds: int = 5, batch: int = 1
) -> dict[str, dict[str, float]]:
    """As :func:`interleaved`, with each callable's ``wall`` and ``cpu`` minimum and ``wall_median`` (seconds
    per call). CPU time (``time.process_time``) does not count what other processes take from this one, so its
    minimum is the steadier figure on a shared machine; the medians show the spread."""
    for f in calls.values():
        f()
    wall: dict[str, list[float]] = {name: [] for name in calls}
    cpu: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, f in calls.items():
            gc.collect()
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(batch):
                f()
            wall[name].append((time.perf_counter() - t0) / batch)
            cpu[name].append((time.process_time() - c0) / batch)
    return {name: {"wall": min(wall[name]), "cpu": min(cpu[name]), "wall_median": float(np.median(wall[name]))}
            for name in calls}


def fmt(value: object) -> str:
    """A table cell: floats to 3 significant digits (thousands separated from 1,000), ints with separators."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool | str):
        return str(value)
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        v = float(value)
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"
    return str(value)


def render(rows: list[dict]) -> str:
    """Markdown tables of ``rows`` (one per distinct ``"table"`` caption, in order of first appearance)."""
    tables: dict[str, list[dict]] = {}
    for row in rows:
        tables.setdefault(str(row.get("table", "")), []).append(row)
    out = []
    for caption, sub in tables.items():
        cols: list[str] = []
        for row in sub:
            cols += [c for c in row if c != "table" and c not in cols]
        if caption:
            out.append(f"{caption}\n")
        out.append("| " + " | ".join(cols) + " |")
        out.append("|" + "---|" * len(cols))
        out += ["| " + " | ".join(fmt(row.get(c)) for c in cols) + " |" for row in sub]
        out.append("")
    return "\n".join(out)


def cli(run: Callable[[bool], list[dict]], doc: str | None = None) -> None:
    """``python benchmarks/bench_<name>.py [--quick]``: print the module's tables (README is written by run_all)."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0] if doc else None)
    parser.add_argument("--quick", action="store_true", help="small sizes (seconds, not minutes)")
    args = parser.parse_args()
    print(render(run(args.quick)))
