"""Kaplan-Meier (with pointwise CI) : cart-outcomes vs lifelines vs statsmodels, in the same run on the same arrays.

Usage (from the repository root)::

    PYTHONPATH=src python benchmarks/bench_km.py            # n = 1e5, 1e6; continuous 1e6; per-call n = 200
    PYTHONPATH=src python benchmarks/bench_km.py --with-1e7 # also n = 1e7 and the peak memory there

Data: the generator of the survival-software survey (``shared/reference/perf/gen_data.py``, in ``_data.py``),
seeded: two arms (HR 0.8), exponential event times, Uniform(0, 2300) censoring, administrative censoring at day
2000, ceiling to integer days 1..2000 (~30% censored). Only the library call is timed. The libraries are run
round-robin (one repetition of each in turn, 5 rounds) and each cell is the **minimum** over the rounds: on a shared
machine the minimum is the estimate least disturbed by other processes (per call: 7 round-robin batches). Calls:

- cart-outcomes: ``kaplan_meier(None, T, E)`` and reading ``.lower`` (so the log-log CI is computed);
- lifelines: ``KaplanMeierFitter().fit(T, E)`` (its fit always computes the log-log CI);
- statsmodels: ``SurvfuncRight(T, E)`` (Greenwood SE, no pointwise CI).
"""

from __future__ import annotations

import argparse
import gc
import platform
import time
import tracemalloc
import warnings

import numpy as np
from _data import make


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


def round_robin(calls: dict, rounds: int = 5, batch: int = 1) -> dict[str, float]:
    """Seconds per call of each callable: minimum over ``rounds`` interleaved batches of ``batch`` calls."""
    for f in calls.values():
        f()  # warm-up (imports, caches)
    best = dict.fromkeys(calls, float("inf"))
    for _ in range(rounds):
        for name, f in calls.items():
            gc.collect()
            t0 = time.perf_counter()
            for _ in range(batch):
                f()
            best[name] = min(best[name], (time.perf_counter() - t0) / batch)
    return best


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--with-1e7", action="store_true", help="also run n = 1e7 (about a minute, ~3 GB RAM)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    import lifelines
    import pandas
    import statsmodels

    import cart_outcomes

    print(
        f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}, numpy "
        f"{np.__version__}, pandas {pandas.__version__}, lifelines {lifelines.__version__}, statsmodels "
        f"{statsmodels.__version__}, cart-outcomes {cart_outcomes.__version__}"
    )
    sizes = [100_000, 1_000_000] + ([10_000_000] if args.with_1e7 else [])
    print("\n| data | n | cart-outcomes (s) | lifelines (s) | statsmodels (s) | speed-up vs fastest peer |")
    print("|---|---|---|---|---|---|")
    rows = [("integer days", n, make(n)) for n in sizes]
    rows.append(("continuous", 1_000_000, make(1_000_000, continuous=True)))
    for label, n, (T, E, _) in rows:
        secs = round_robin({name: (lambda f=f, T=T, E=E: f(T, E)) for name, f in PEERS.items()})
        best_peer = min(secs["lifelines"], secs["statsmodels"])
        print(
            f"| {label} | {n:.0e} | {secs['cart-outcomes']:.4f} | {secs['lifelines']:.4f} | "
            f"{secs['statsmodels']:.4f} | {best_peer / secs['cart-outcomes']:.1f}x |"
        )
        if label == "integer days" and n == 100_000:
            print(f"|  | check S(365) | {check_value(T, E)} | | | |")
    T, E, _ = make(200)
    print("\n| per call, n = 200 | µs |")
    print("|---|---|")
    from cart_outcomes.stats import kaplan_meier

    calls = {
        "cart-outcomes kaplan_meier (S, Greenwood SE)": lambda: kaplan_meier(None, T, E),
        "cart-outcomes kaplan_meier + log-log CI": lambda: ours(T, E),
        "cart-outcomes kaplan_meier(...).median()": lambda: kaplan_meier(None, T, E).median(),
        "statsmodels SurvfuncRight (S, Greenwood SE)": lambda: statsmodels_km(T, E),
    }
    for name, sec in round_robin(calls, rounds=7, batch=200).items():
        print(f"| {name} | {sec * 1e6:.1f} |")
    sec = round_robin({"lifelines": lambda: lifelines_km(T, E)}, rounds=3, batch=20)["lifelines"]
    print(f"| lifelines KaplanMeierFitter().fit | {sec * 1e6:.1f} |")
    if args.with_1e7:
        T, E, _ = make(10_000_000)
        peak = peak_memory(T, E)
        size = T.nbytes + E.nbytes
        print(
            f"\npeak memory at n = 1e7 (tracemalloc, during kaplan_meier + CI): {peak / 2**20:.0f} MiB = "
            f"{peak / size:.2f} x the input arrays ({size / 2**20:.0f} MiB: int32 time + int32 event)"
        )


if __name__ == "__main__":
    main()
