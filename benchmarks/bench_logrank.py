"""Two-group log-rank: cart_outcomes vs lifelines and statsmodels, in the same run.

Usage (from the repository root):
    PYTHONPATH=src python benchmarks/bench_logrank.py [--quick]  # n = 1e5, 1e6; continuous 1e6; per call at n = 200

Data: the generator of shared/reference/perf/gen_data.py (seeded): exponential event times with HR 0.8 between
two 50/50 groups, Uniform(0, 2300) censoring, administrative censoring at day 2000, ceil to integer days 1..2000
(~30.5% censored). The continuous case keeps the float times (all distinct).

What is timed: the library call only (lifelines gets its two pre-split arrays, built outside the timer, as in the
survey). Each cell is the median of 5 calls (3 at n = 1e7), the libraries taking turns; the per-call cost at
n = 200 is the median over 7 batches of 200 calls (lifelines: 7 batches of 10). Every library must return the
same chi-square (checked to 1e-9 relative). Peak memory of our call (tracemalloc, which sees numpy allocations)
is reported at the largest integer-day n. Against the numpy one-pass floor (``_floor.logrank``) at 1e6 and 1e7
integer-day rows: 11 interleaved turns, the ratios of the wall and CPU minima and of the wall medians.
``--quick``: n = 1e5 only.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc

import _floor
from _data import make
from _timing import cli, timings

from cart_outcomes.stats import logrank_test

TITLE = "Log-rank family"


def calls(t, e, g):
    from lifelines.statistics import logrank_test as ll_logrank
    from statsmodels.duration.survfunc import survdiff

    m0, m1 = g == 0, g == 1
    t0, t1, e0, e1 = t[m0], t[m1], e[m0], e[m1]
    return {
        "cart_outcomes logrank_test": lambda: logrank_test(None, t, e, g).statistic,
        "lifelines logrank_test (pre-split)": lambda: ll_logrank(t0, t1, e0, e1).test_statistic,
        "statsmodels survdiff": lambda: survdiff(t, e, g)[0],
    }


def timed(fs: dict, reps: int) -> dict:
    """Median wall and CPU seconds and the statistic of each call; the calls take turns, so background load hits
    all alike (CPU time, summed over threads, is the steadier figure on a shared machine)."""
    ts: dict = {name: [] for name in fs}
    cpu: dict = {name: [] for name in fs}
    out: dict = {}
    for _ in range(reps):
        for name, f in fs.items():
            t0, c0 = time.perf_counter(), time.process_time()
            out[name] = float(f())
            ts[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    return {name: (statistics.median(ts[name]), statistics.median(cpu[name]), out[name]) for name in fs}


def per_call_us(f, batches: int = 7, size: int = 200) -> tuple[float, float]:
    """Median wall and CPU microseconds per call."""
    f()
    b, c = [], []
    for _ in range(batches):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(size):
            f()
        b.append((time.perf_counter() - t0) / size * 1e6)
        c.append((time.process_time() - c0) / size * 1e6)
    return statistics.median(b), statistics.median(c)


def peak_mb(f) -> float:
    tracemalloc.start()
    tracemalloc.reset_peak()
    f()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def run(quick: bool) -> list[dict]:
    sizes = [100_000] if quick else [100_000, 1_000_000]
    cases = [(f"integer days, n={n:.0e}", *make(n)) for n in sizes]
    cases.append((f"continuous, n={sizes[-1]:.0e}", *make(sizes[-1], continuous=True)))
    rows = []
    for label, t, e, g in cases:
        res = timed(calls(t, e, g), reps=3 if quick else 5)
        ours, ours_cpu, chi = res["cart_outcomes logrank_test"]
        for name, (sec, sec_cpu, stat) in res.items():
            if abs(stat / chi - 1) >= 1e-9:
                raise AssertionError(f"{name}: chi-square {stat} differs from ours {chi}")
            ratio = "" if name.startswith("cart") else f"{sec / ours:.1f}x / {sec_cpu / ours_cpu:.1f}x"
            rows.append({"table": "Two-group log-rank (medians, peers taking turns)", "data": label, "call": name,
                         "wall s": sec, "CPU s": sec_cpu, "chi-square": f"{stat:.5f}",
                         "ours faster by (wall / CPU)": ratio})
    label, t, e, g = cases[-2]
    in_mb = (t.nbytes + e.nbytes + g.nbytes) / 2**20
    mem = peak_mb(lambda: logrank_test(None, t, e, g))
    rows.append({"table": "Peak memory of our call (tracemalloc)", "data": label, "MiB": mem, "input MiB": in_mb,
                 "ratio": mem / in_mb})
    for n in [] if quick else [1_000_000, 10_000_000]:
        t, e, g = make(n)
        secs = timings({"ours": lambda t=t, e=e, g=g: logrank_test(None, t, e, g),
                        "floor": lambda t=t, e=e, g=g: _floor.logrank(t, e, g)}, rounds=11)
        chi, chi_floor = logrank_test(None, t, e, g).statistic, _floor.logrank(t, e, g)
        if abs(chi_floor / chi - 1) >= 1e-9:
            raise AssertionError(f"numpy floor chi-square {chi_floor} differs from ours {chi}")
        ours, floor = secs["ours"], secs["floor"]
        rows.append({"table": "Against the numpy one-pass floor (_floor.py; issue 18: <= 1.1x), minima of 11 turns",
                     "data": f"integer days, n={n:.0e}", "ours s": ours["wall"], "floor s": floor["wall"],
                     "ratio": f"{ours['wall'] / floor['wall']:.2f}x", "CPU ratio": f"{ours['cpu'] / floor['cpu']:.2f}x",
                     "ratio of medians": f"{ours['wall_median'] / floor['wall_median']:.2f}x"})
    t, e, g = make(200)
    for name, f in calls(t, e, g).items():
        us, us_cpu = per_call_us(f, size=10) if name.startswith("lifelines") else per_call_us(f)
        rows.append({"table": "Per call, n = 200 (median of 7 batches)", "call": name, "wall µs": us, "CPU µs": us_cpu})
    return rows


if __name__ == "__main__":
    cli(run, __doc__)
