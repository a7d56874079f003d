"""Aalen-Johansen cumulative incidence: cart-outcomes vs statsmodels CumIncidenceRight (and scikit-survival's
cumulative_incidence_competing_risks when it is installed), same arrays, same run, peers interleaved.

Data: the survey's generator (``_data.make_competing``: integer days 1..2000, ~30% censored, each event assigned to
cause 1 or 2 by a seeded coin, p = 0.6 / 0.4); "continuous" keeps the float times (distinct, except the rows
censored at the 2000-day cap: 991,467 distinct times at n = 1e6). Only the library call is timed (minimum of
interleaved rounds). Before timing, both CIFs and their SEs are checked equal to statsmodels' (1e-10 relative) at
its times (every distinct time).
"cart-outcomes" is the call alone: it computes the estimates and their infinitesimal-jackknife SEs at every distinct
time (what statsmodels returns); "+ .table" also builds the tidy table, with cmprsk's variance and the limits,
which the result computes on first use. Gray's test (2 groups) and Fine-Gray (1 covariate) are timed at the same
sizes (no Python peer exists).

    PYTHONPATH=src python benchmarks/bench_competing.py [--quick]
"""

from __future__ import annotations

import numpy as np
from _data import make_competing
from _timing import cli, interleaved

from cart_outcomes.stats import cumulative_incidence, fine_gray, gray_test

TITLE = "Competing risks"


def _check(ours, sm) -> None:
    """Our CIFs and IJ SEs equal statsmodels' (whose SE is R survfit's) at its event times."""
    for j in (0, 1):
        mine = ours.table[ours.table["cause"] == str(j + 1)].set_index("time").loc[sm.times]
        if not (np.allclose(mine["estimate"].to_numpy(), sm.cinc[j], rtol=1e-10, atol=0)
                and np.allclose(mine["std_err"].to_numpy(), sm.cinc_se[j], rtol=1e-10, atol=0)):
            raise AssertionError(f"cause {j + 1}: cart-outcomes and statsmodels differ")


def run(quick: bool) -> list[dict]:
    from statsmodels.duration.survfunc import CumIncidenceRight

    try:
        from sksurv.nonparametric import cumulative_incidence_competing_risks as sksurv_cif
    except ImportError:
        sksurv_cif = None
    sizes = [100_000] if quick else [100_000, 1_000_000]
    cases = [("integer days", n, False) for n in sizes] + [("continuous", sizes[-1], True)]
    rows = []
    for label, n, continuous in cases:
        t, c, g = make_competing(n, continuous=continuous)
        tf = t.astype(float)
        _check(cumulative_incidence(None, tf, c), CumIncidenceRight(tf, c))
        calls = {"cart-outcomes": lambda tf=tf, c=c: cumulative_incidence(None, tf, c),
                 "cart-outcomes + .table": lambda tf=tf, c=c: cumulative_incidence(None, tf, c).table,
                 "statsmodels": lambda tf=tf, c=c: CumIncidenceRight(tf, c)}
        if sksurv_cif is not None:
            calls["scikit-survival"] = lambda tf=tf, c=c: sksurv_cif(c, tf, conf_type="log-log")
        sec = interleaved(calls, rounds=3 if quick else 5)
        row = {"table": "Aalen-Johansen, 2 causes, with SEs (IJ + cmprsk) and CIs", "data": label, "n": n}
        row |= {f"{lib} (s)": s for lib, s in sec.items()}
        sm = sec["statsmodels"]
        row["cart-outcomes faster than statsmodels by (call / call + table)"] = (
            f"{sm / sec['cart-outcomes']:.2f}x / {sm / sec['cart-outcomes + .table']:.2f}x")
        rows.append(row)
    for n in sizes:
        t, c, g = make_competing(n)
        tf = t.astype(float)
        data = {"t": tf, "c": c, "g": g}
        sec = interleaved({"gray": lambda tf=tf, c=c, g=g: gray_test(None, tf, c, g),
                           "fg": lambda data=data: fine_gray(data, "t", "c", "g")}, rounds=1 if n > 100_000 else 3)
        rows.append({"table": "No Python peer (integer days)", "n": n,
                     "Gray's test, 2 groups, both causes (s)": sec["gray"],
                     "Fine-Gray (crr), 1 covariate, sandwich variance (s)": sec["fg"]})
    return rows


if __name__ == "__main__":
    cli(run, __doc__)
