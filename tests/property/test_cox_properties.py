"""Invariants of cox_ph over generated data sets (integer times, so ties are common)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from cart_outcomes.errors import StatisticalWarning
from cart_outcomes.stats import cox_ph


def _fit(df, *args, **kwargs):
    """cox_ph, with separated (monotone-likelihood) samples rejected: their finite coefficient is where the
    iteration stopped, not an estimate, so invariants of estimates do not apply to them."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", StatisticalWarning)
        try:
            return cox_ph(df, *args, **kwargs)
        except StatisticalWarning:
            reject()


@st.composite
def cohorts(draw):
    n = draw(st.integers(12, 40))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "time": rng.integers(1, 12, n).astype(float),
            "event": (rng.random(n) < 0.7).astype(int),
            "x": rng.normal(size=n),
            "g": (rng.random(n) < 0.5).astype(float),
        }
    )
    df.loc[0, "event"] = 1
    df.loc[[0, 1], "g"] = [0.0, 1.0]
    return df, draw(st.sampled_from(["efron", "breslow"]))


@settings(max_examples=25, deadline=None)
@given(cohorts(), st.randoms(use_true_random=False))
def test_row_order_is_irrelevant(case, rnd):
    df, ties = case
    perm = list(range(len(df)))
    rnd.shuffle(perm)
    a = _fit(df, "time", "event", ["x", "g"], ties=ties)
    b = _fit(df.iloc[perm].reset_index(drop=True), "time", "event", ["x", "g"], ties=ties)
    np.testing.assert_allclose(a.coefficients["coef"], b.coefficients["coef"], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(a.loglik["fitted"], b.loglik["fitted"], rtol=1e-12)
    assert abs(a.concordance["value"] - b.concordance["value"]) < 1e-12


@settings(max_examples=25, deadline=None)
@given(cohorts())
def test_weight_two_equals_duplicated_rows_breslow(case):
    # Breslow only: Efron's down-weighting counts tied rows (d), not their weights, so duplicating rows changes d
    # while weight 2 does not -- R's coxph behaves the same way.
    df, _ = case
    ties = "breslow"
    w = _fit(df.assign(w=2.0), "time", "event", ["x", "g"], ties=ties, weights="w")
    d = _fit(pd.concat([df, df], ignore_index=True), "time", "event", ["x", "g"], ties=ties)
    for col in ("coef", "se"):
        np.testing.assert_allclose(w.coefficients[col], d.coefficients[col], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(w.loglik["fitted"], d.loglik["fitted"], rtol=1e-10)
