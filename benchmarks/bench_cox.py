"""Cox regression (Efron ties, 5 covariates) at n = 1e4 and 1e5: cart-outcomes vs lifelines vs statsmodels.

Seeded synthetic data: 5 covariates (2 binary, 3 continuous), exponential event times with a log-hazard linear in
the covariates, uniform censoring, times rounded up to integer days (many ties). Each library fits the same data in
the same run; the median of 3 timed fits is reported (data preparation not timed). Coefficients are compared too.

    PYTHONPATH=src python benchmarks/bench_cox.py
"""

from __future__ import annotations

import platform
import time
import warnings

import numpy as np
import pandas as pd

from cart_outcomes.stats import cox_ph

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


def timed(fn, reps=3):
    out, ts = None, []
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts)), out


def main() -> None:
    import lifelines
    import statsmodels
    from lifelines import CoxPHFitter
    from statsmodels.duration.hazard_regression import PHReg

    print(f"python {platform.python_version()}, numpy {np.__version__}, lifelines {lifelines.__version__}, "
          f"statsmodels {statsmodels.__version__}, machine {platform.processor() or platform.machine()}")  # fmt: skip
    print(
        "| n | cart-outcomes cox_ph (s) | + first .concordance (s) | lifelines CoxPHFitter (s) "
        "| statsmodels PHReg efron (s) | max abs coef diff vs lifelines / statsmodels |"
    )
    print("|---|---|---|---|---|---|")
    for n in (10_000, 100_000):
        df = make(n)
        t_ours, res = timed(lambda df=df: cox_ph(df, "time", "event", COVS))
        t0 = time.perf_counter()
        res.concordance  # noqa: B018 -- computed lazily on first access (lifelines' concordance_index_ is lazy too)
        t_conc = time.perf_counter() - t0
        t_ll, cph = timed(lambda df=df: CoxPHFitter().fit(df, "time", "event"))
        xs, ts, es = df[COVS].to_numpy(), df["time"].to_numpy(), df["event"].to_numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_sm, smr = timed(lambda xs=xs, ts=ts, es=es: PHReg(ts, xs, status=es, ties="efron").fit())
        ours = res.coefficients["coef"].to_numpy()
        d_ll = np.max(np.abs(ours - cph.params_[COVS].to_numpy()))
        d_sm = np.max(np.abs(ours - smr.params))
        print(f"| {n:.0e} | {t_ours:.3f} | {t_conc:.3f} | {t_ll:.3f} | {t_sm:.3f} | {d_ll:.1e} / {d_sm:.1e} |")


if __name__ == "__main__":
    main()
