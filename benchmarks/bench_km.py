"""Kaplan-Meier (with pointwise CI) : cart-outcomes vs lifelines vs statsmodels, in the same run on the same arrays.

Usage (from the repository root)::

    PYTHONPATH=src python benchmarks/bench_km.py [--quick]  # n = 1e5, 1e6; continuous 1e6; per call n = 200; 1e7 memory

Data: the generator of the survival-software survey (``shared/reference/perf/gen_data.py``, in ``_data.py``),
seeded: two arms (HR 0.8), exponential event times, Uniform(0, 2300) censoring, administrative censoring at day
2000, ceiling to integer days 1..2000 (~30% censored). Only the library call is timed. The libraries are run
round-robin (one repetition of each in turn, 5 rounds) and each cell is the **minimum** over the rounds: on a shared
machine the minimum is the estimate least disturbed by other processes (per call: 7 round-robin batches).
``--quick``: n = 1e5 only, no 1e7 memory. Issue 18's targets are measured in the same run: KM by 2 groups against
pooled KM and integer-day KM against the numpy one-pass floor (``_floor.py``), 11 interleaved turns (the ratios of
the wall and CPU minima and of the wall medians), KM with its median and CI per call at
n = 200 against statsmodels ``SurvfuncRight`` plus its median and CI, and the peak memory (tracemalloc, each call in
a fresh process) of KM by group and of the log-rank on continuous times. Calls:

- cart-outcomes: ``kaplan_meier(None, T, E)`` and reading ``.lower`` (so the log-log CI is computed);
- lifelines: ``KaplanMeierFitter().fit(T, E)`` (its fit always computes the log-log CI);
- statsmodels: ``SurvfuncRight(T, E)`` (Greenwood SE, no pointwise CI).
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import tracemalloc

import _floor
import numpy as np
from _data import make
from _timing import cli, interleaved, timings

TITLE = "Kaplan-Meier"


def ours(T, E):
    from cart_outcomes.stats import kaplan_meier

    fit = kaplan_meier(None, T, E)
    fit.lower  # noqa: B018 (forces the CI)
    return fit


def lifelines_km(T, E):
    from lifelines import KaplanMeierFitter

    return KaplanMeierFitter().fit(T, E)


def statsmodels_km(T, E):
    from statsmodels.duration.survfunc import SurvfuncRight

    return SurvfuncRight(T, E)


PEERS = {"cart-outcomes": ours, "lifelines": lifelines_km, "statsmodels": statsmodels_km}


def check_value(T, E) -> tuple[float, float, float]:
    """S(365) from each library (they must agree)."""
    fit = ours(T, E)
    s_ours = float(fit.at([365])["survival"].iloc[0])
    s_ll = float(lifelines_km(T, E).predict(365))
    s_sm = float(statsmodels_km(T, E).surv_prob[np.searchsorted(statsmodels_km(T, E).surv_times, 365, "right") - 1])
    return s_ours, s_ll, s_sm


def peak_memory(T, E) -> int:
    gc.collect()
    tracemalloc.start()
    ours(T, E)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def run(quick: bool) -> list[dict]:
    sizes = [100_000] if quick else [100_000, 1_000_000]
    cases = [("integer days", n, make(n)) for n in sizes]
    cases.append(("continuous", sizes[-1], make(sizes[-1], continuous=True)))
    rows = []
    for label, n, (T, E, _) in cases:
        secs = interleaved({name: (lambda f=f, T=T, E=E: f(T, E)) for name, f in PEERS.items()})
        best_peer = min(secs["lifelines"], secs["statsmodels"])
        rows.append({"table": "Kaplan-Meier with pointwise CI", "data": label, "n": n}
                    | {f"{name} (s)": sec for name, sec in secs.items()}
                    | {"speed-up vs fastest peer": f"{best_peer / secs['cart-outcomes']:.1f}x"})
        if label == "integer days" and n == 100_000:
            s_ours, s_ll, s_sm = check_value(T, E)
            if not (abs(s_ll / s_ours - 1) < 1e-12 and abs(s_sm / s_ours - 1) < 1e-12):
                raise AssertionError(f"S(365) differs: {s_ours}, {s_ll}, {s_sm}")
    T, E, _ = make(200)
    from cart_outcomes.stats import kaplan_meier

    calls = {
        "cart-outcomes kaplan_meier (S, Greenwood SE)": lambda: kaplan_meier(None, T, E),
        "cart-outcomes kaplan_meier + log-log CI": lambda: ours(T, E),
        "cart-outcomes kaplan_meier(...).median()": lambda: kaplan_meier(None, T, E).median(),
        "cart-outcomes kaplan_meier(...).median_ci() (median + CI)": lambda: kaplan_meier(None, T, E).median_ci(),
        "statsmodels SurvfuncRight (S, Greenwood SE)": lambda: statsmodels_km(T, E),
        "statsmodels SurvfuncRight + quantile(0.5) + quantile_ci(0.5)": lambda: statsmodels_median_ci(T, E),
    }
    per_call = interleaved(calls, rounds=7, batch=50 if quick else 200)
    per_call["lifelines KaplanMeierFitter().fit"] = interleaved({"ll": lambda: lifelines_km(T, E)}, 3, 10)["ll"]
    rows += [{"table": "Per call, n = 200", "call": name, "µs": sec * 1e6} for name, sec in per_call.items()]
    per = {k: v * 1e6 for k, v in per_call.items()}
    ratio = per["cart-outcomes kaplan_meier(...).median_ci() (median + CI)"] / per[
        "statsmodels SurvfuncRight + quantile(0.5) + quantile_ci(0.5)"]
    rows.append({"table": TARGETS, "target": "KM + median + CI per call at n = 200 vs statsmodels (<= 1x)",
                 "n": 200, "measured": f"{ratio:.2f}x"})
    if not quick:
        T, E, _ = make(10_000_000)
        peak = peak_memory(T, E)
        size = T.nbytes + E.nbytes
        rows.append({"table": "Peak memory at n = 1e7 (tracemalloc, kaplan_meier + CI)", "MiB": peak / 2**20,
                     "x input arrays (int32 time + int32 event)": peak / size})
    rows += targets(quick)
    return rows


TARGETS = "Issue 18 targets (same run)"


def statsmodels_median_ci(T, E):
    sf = statsmodels_km(T, E)
    return sf.quantile(0.5), sf.quantile_ci(0.5)


def targets(quick: bool) -> list[dict]:
    """KM by 2 groups vs pooled, integer-day KM vs the numpy floor, continuous-time peak memory."""
    from cart_outcomes.stats import kaplan_meier

    rows = []
    for n in [100_000] if quick else [1_000_000, 10_000_000]:
        T, E, G = make(n)
        secs = timings({
            "pooled": lambda T=T, E=E: kaplan_meier(None, T, E),
            "by 2 groups": lambda T=T, E=E, G=G: kaplan_meier(None, T, E, by=G),
            "ours + CI": lambda T=T, E=E: ours(T, E),
            "floor": lambda T=T, E=E: _floor.km(T, E),
        }, rounds=11)
        pairs = (("KM by 2 groups vs pooled KM, integer days (<= 1.5x)", "by 2 groups", "pooled"),
                 ("KM + log-log CI vs the numpy one-pass floor, integer days (<= 1.1x)", "ours + CI", "floor"))
        for label, a, b in pairs:
            rows.append({"table": TARGETS, "target": label, "n": n,
                         "measured": f"{secs[a]['wall'] / secs[b]['wall']:.2f}x",
                         "CPU": f"{secs[a]['cpu'] / secs[b]['cpu']:.2f}x",
                         "medians": f"{secs[a]['wall_median'] / secs[b]['wall_median']:.2f}x",
                         "detail": f"{secs[a]['wall']:.4f} s vs {secs[b]['wall']:.4f} s"})
    n = 1_000_000 if quick else 10_000_000
    labels = {"km": "KM by 2 groups", "logrank": "log-rank", "floor": "numpy floor (KM by group + log-rank)"}
    for what, label in labels.items():
        peak, inp = peak_in_subprocess(what, n)
        rows.append({"table": TARGETS, "target": f"peak memory, continuous times: {label} (<= 4x the input)", "n": n,
                     "measured": f"{peak / inp:.2f}x",
                     "detail": f"{peak / 2**20:.0f} MiB; input {inp / 2**20:.0f} MiB"})
    return rows


def peak_in_subprocess(what: str, n: int) -> tuple[int, int]:
    """(peak traced bytes of one call in a fresh process, input bytes): continuous times, two groups."""
    cmd = [sys.executable, __file__, "_peak", what, str(n)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=os.environ.copy())
    res = json.loads(out.stdout.strip().splitlines()[-1])
    return res["peak"], res["input"]


def _peak_main(what: str, n: int) -> None:
    from cart_outcomes.stats import kaplan_meier, logrank_test

    T, E, G = make(n, continuous=True)
    calls = {"km": lambda: kaplan_meier(None, T, E, by=G), "logrank": lambda: logrank_test(None, T, E, G),
             "floor": lambda: _floor.km_by_group_and_logrank_continuous(T, E, G)}
    small = make(5000, continuous=True)  # warm-up: first-call imports and caches are not the call's memory
    kaplan_meier(None, *small[:2], by=small[2])
    logrank_test(None, *small)
    gc.collect()
    tracemalloc.start()
    calls[what]()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(json.dumps({"peak": peak, "input": T.nbytes + E.nbytes + G.nbytes}))


if __name__ == "__main__":
    if sys.argv[1:2] == ["_peak"]:
        _peak_main(sys.argv[2], int(sys.argv[3]))
    else:
        cli(run, __doc__)
