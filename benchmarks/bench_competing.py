"""Aalen-Johansen cumulative incidence at n = 1e5 and 1e6: cart-outcomes vs statsmodels CumIncidenceRight (and
scikit-survival's cumulative_incidence_competing_risks when it is installed), on the same arrays, same run.

Data: the survey's generator (reference/perf/gen_data.py: integer days 1..2000, ~30% censored), with each event
assigned to cause 1 or 2 by a seeded coin (p = 0.6 / 0.4). Only the library call is timed; median of 3 runs.
Also times Gray's test (2 groups) and Fine-Gray (1 covariate) at the same sizes (no Python peer exists).

    PYTHONPATH=src /work/venv/bin/python benchmarks/bench_competing.py [1e5 1e6]
"""

from __future__ import annotations

import statistics
import sys
import time
import warnings

import numpy as np
from _data import make_competing as make

from cart_outcomes.stats import cumulative_incidence, fine_gray, gray_test


def timed(fn, repeat: int = 3) -> float:
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


AJ = "Aalen-Johansen (2 causes, SE, CI)"


def bench_size(n: int, sksurv_cif) -> list[tuple[str, str, float]]:
    from statsmodels.duration.survfunc import CumIncidenceRight

    t, c, g = make(n)
    tf = t.astype(float)
    ours = cumulative_incidence(None, tf, c)
    sm = CumIncidenceRight(tf, c)
    # same estimates and SEs (statsmodels reports the CIF at its event times; its SE equals R survfit's)
    for j in (0, 1):
        mine = ours.table[ours.table["cause"] == str(j + 1)].set_index("time").loc[sm.times]
        assert np.allclose(mine["estimate"].to_numpy(), sm.cinc[j], rtol=1e-10, atol=0)
        assert np.allclose(mine["std_err"].to_numpy(), sm.cinc_se[j], rtol=1e-10, atol=0)
    rows = [
        (AJ, "cart-outcomes", timed(lambda: cumulative_incidence(None, tf, c))),
        (AJ, "statsmodels CumIncidenceRight", timed(lambda: CumIncidenceRight(tf, c))),
    ]
    if sksurv_cif is not None:
        rows.append((AJ, "scikit-survival", timed(lambda: sksurv_cif(c, tf, conf_type="log-log"))))
    rows.append(("Gray's test (2 groups, both causes)", "cart-outcomes", timed(lambda: gray_test(None, tf, c, g))))
    data = {"t": tf, "c": c, "g": g}
    rows.append(("Fine-Gray (1 covariate, cause 1)", "cart-outcomes",
                 timed(lambda: fine_gray(data, "t", "c", "g"), repeat=1)))
    return rows


def main(sizes: list[int]) -> None:
    try:
        from sksurv.nonparametric import cumulative_incidence_competing_risks as sksurv_cif
    except ImportError:
        sksurv_cif = None
    print("| n | operation | library | median seconds (3 runs) |")
    print("|---|---|---|---|")
    for n in sizes:
        for op, lib, sec in bench_size(n, sksurv_cif):
            print(f"| {n:.0e} | {op} | {lib} | {sec:.3f} |")
    if sksurv_cif is None:
        print("\nscikit-survival is not installed in this environment: not timed.")


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    args = sys.argv[1:] or ["1e5", "1e6"]
    main([int(float(a)) for a in args])
