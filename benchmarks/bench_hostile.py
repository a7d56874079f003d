"""Hostile and huge inputs (docs/security.md): exit code, wall time and peak memory of each case of issue 17.

Each case is generated (tests/hostile/hostile_cases.py) and run as ``cart-outcomes ...`` in a child process under a
time limit and an 8 GiB address-space limit; peak memory is the child's maximum resident set size (``wait4``).
Cases: a workbook with a stray cell at XFD1048576, a 1 MB workbook that unpacks to 260 MB, a YAML alias bomb plan,
Parquet list and timezone-aware columns, terminal markup in cells, a 1,000,000-row labs table, and 140,000 located
problems printed as text and as JSON.

    PYTHONPATH=src python benchmarks/bench_hostile.py [--quick]   (quick: 100,000 labs rows, 20,000 problems)
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _timing import cli

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "hostile"))
import hostile_cases as H  # noqa: E402

TITLE = "Hostile and huge inputs"
SRC = Path(__file__).resolve().parents[1] / "src"
MEMORY_LIMIT = 8 << 30


def run_case(args: list[str], timeout: float) -> tuple[str, float, float]:
    """(exit code or 'timeout', seconds, peak MB) of ``cart-outcomes ARGS`` in a limited child process."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "160"}
    with tempfile.TemporaryFile() as sink:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "cart_outcomes", *args], stdout=sink, stderr=sink, env=env,
                                preexec_fn=limit)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        timed_out = not timer.is_alive()
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
    code = "timeout" if timed_out else str(proc.returncode)
    return code, seconds, usage.ru_maxrss / 1024


def run(quick: bool) -> list[dict]:
    n_labs, n_problems = (100_000, 20_000) if quick else (1_000_000, 140_000)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)

        def folder(name: str) -> Path:
            path = base / name
            path.mkdir()
            return path

        cases = [
            ("cell at XFD1048576 (xlsx, 2 KB)", ["validate", str(H.far_cell_workbook(folder("far")))], 60),
            ("zip bomb (xlsx, 1 MB -> 260 MB)", ["validate", str(H.zip_bomb_workbook(folder("bomb")))], 120),
            ("YAML alias bomb plan (run)", ["run", str(H.alias_bomb_plan(folder("alias"))), "--out",
                                            str(base / "alias-out"), "--quiet"], 60),
            ("parquet list/struct columns", ["validate", str(H.parquet_list_column(folder("list")))], 60),
            ("parquet tz-aware datetimes", ["validate", str(H.parquet_tz_datetime(folder("tz")))], 60),
            ("terminal markup and escapes", ["validate", str(H.terminal_hostile_csv(folder("term")))], 60),
            (f"labs table, {n_labs:,} rows", ["validate", str(H.long_labs(base / "labs", n_labs))], 600),
        ]
        errors = H.many_errors(base / "errors", n_problems)
        cases += [(f"{n_problems:,} problems, text", ["validate", str(errors)], 900),
                  (f"{n_problems:,} problems, JSON", ["validate", str(errors), "--format", "json"], 900)]
        for name, args, timeout in cases:
            code, seconds, peak = run_case(args, timeout)
            rows.append({"case": name, "exit code": code, "seconds": seconds, "peak MB": peak,
                         "time limit, s": timeout})
    return rows


if __name__ == "__main__":
    cli(run, __doc__)
