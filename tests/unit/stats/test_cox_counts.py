"""Cox regression of a factor from event counts equals cox_ph on the rows (Breslow and Efron, strata, entry), and
refuses what does not aggregate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cart_outcomes import InputError
from cart_outcomes import stats as co

ITERATIVE = 1e-6  # house tolerance for iterative fits; observed agreement is ~1e-14


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    n = 3000
    df = pd.DataFrame({"t": rng.integers(1, 50, n), "arm": rng.choice(list("abc"), n), "s": rng.integers(0, 2, n)})
    df["e"] = (rng.random(n) < np.where(df.arm == "c", 0.6, 0.45)).astype(int)
    df["entry"] = np.minimum(rng.integers(0, 10, n), df.t - 1)
    return df


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize(("strata", "entry"), [(None, None), ("s", None), (None, "entry")])
def test_cox_counts_equal_cox_ph_on_rows(rows, ties, strata, entry):
    counts = co.event_counts(rows, "t", "e", by="arm", strata=strata, entry=entry)
    fit = co.cox_counts(counts, ties=ties)
    ref = co.cox_ph(rows, "t", "e", ["arm"], strata=strata, start=entry, ties=ties)
    assert fit.table["term"].tolist() == ref.coefficients["term"].tolist()
    for col in ("coef", "se", "lower", "upper", "p"):
        np.testing.assert_allclose(fit.table[col], ref.coefficients[col], rtol=ITERATIVE, err_msg=col)
    np.testing.assert_allclose([fit.loglik["null"], fit.loglik["fitted"]],
                               [ref.loglik["null"], ref.loglik["fitted"]], rtol=1e-10)


def test_cox_counts_refuses_what_does_not_aggregate(rows):
    counts = co.event_counts(rows, "t", "e", by="arm")
    with pytest.raises(InputError, match="only Breslow and Efron ties aggregate"):
        co.cox_counts(counts, ties="exact")
    with pytest.raises(InputError, match="no covariate"):
        co.cox_counts(co.event_counts(rows, "t", "e"))
    with pytest.raises(InputError, match="cox_counts takes EventCounts"):
        co.cox_counts(rows)
