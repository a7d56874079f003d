"""Cox regression (Efron ties, 5 covariates) at n = 1e4 and 1e5: cart-outcomes vs lifelines vs statsmodels.

Seeded synthetic data: 5 covariates (2 binary, 3 continuous), exponential event times with a log-hazard linear in
the covariates, uniform censoring, times rounded up to integer days (many ties). Each library fits the same data in
the same run, the libraries taking turns; the minimum of 3 rounds is reported (data preparation not timed).
Coefficients are compared too. ``--quick``: n = 1e4 only.

    PYTHONPATH=src python benchmarks/bench_cox.py [--quick]
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from _timing import cli, interleaved

from cart_outcomes.stats import cox_ph

TITLE = "Cox regression"
COVS = ["x1", "x2", "x3", "x4", "x5"]


def make(n: int, seed: int = 20261125) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.random(n) < 0.5, rng.random(n) < 0.3, rng.normal(size=n), rng.normal(size=n),
                         rng.uniform(40, 80, n)]).astype(float)  # fmt: skip
    lp = x @ np.array([0.5, -0.3, 0.2, 0.0, 0.02])
    t_event = rng.exponential(600 * np.exp(-lp + lp.mean()))
    t_cens = rng.uniform(0, 2500, n)
    t = np.clip(np.ceil(np.minimum(np.minimum(t_event, t_cens), 2000)), 1, 2000)
    ev = ((t_event <= t_cens) & (t_event <= 2000)).astype(int)
    return pd.DataFrame(dict(zip(COVS, x.T, strict=True)) | {"time": t, "event": ev})


def run(quick: bool) -> list[dict]:
    from lifelines import CoxPHFitter
    from statsmodels.duration.hazard_regression import PHReg

    rows = []
    for n in (10_000,) if quick else (10_000, 100_000):
        df = make(n)
        xs, ts, es = df[COVS].to_numpy(), df["time"].to_numpy(), df["event"].to_numpy()
        calls = {
            "ours": lambda df=df: cox_ph(df, "time", "event", COVS),
            "lifelines": lambda df=df: CoxPHFitter().fit(df, "time", "event"),
            "statsmodels": lambda xs=xs, ts=ts, es=es: PHReg(ts, xs, status=es, ties="efron").fit(),
        }
        sec = interleaved(calls, rounds=3)
        fits = {name: f() for name, f in calls.items()}
        t0 = time.perf_counter()
        fits["ours"].concordance  # noqa: B018 -- computed lazily on first access (as lifelines' concordance_index_)
        t_conc = time.perf_counter() - t0
        ours = fits["ours"].coefficients["coef"].to_numpy()
        d_ll = np.max(np.abs(ours - fits["lifelines"].params_[COVS].to_numpy()))
        d_sm = np.max(np.abs(ours - fits["statsmodels"].params))
        rows.append({"n": n, "cart-outcomes cox_ph (s)": sec["ours"], "+ first .concordance (s)": t_conc,
                     "lifelines CoxPHFitter (s)": sec["lifelines"], "statsmodels PHReg efron (s)": sec["statsmodels"],
                     "faster than lifelines / statsmodels": f"{sec['lifelines'] / sec['ours']:.1f}x / "
                                                           f"{sec['statsmodels'] / sec['ours']:.1f}x",
                     "max abs coef diff vs lifelines / statsmodels": f"{d_ll:.1e} / {d_sm:.1e}"})
    return rows


if __name__ == "__main__":
    cli(run, __doc__)
