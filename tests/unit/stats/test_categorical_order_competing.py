"""Cumulative incidence, Gray's test and landmark analysis keep a Categorical's declared level order, as R keeps
factor levels (``survfit(Surv(t, factor(s)) ~ g)`` lists strata in ``levels(g)`` order; ``cuminc`` likewise).

The numbers of each group do not depend on the order, so the declared-order result must equal the sorted-order one
group by group, with only the order of the groups changed; Gray's k-group statistic is invariant to relabelling.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cart_outcomes import stats

LEVELS = ["c", "a", "b"]  # deliberately not sorted


@pytest.fixture(scope="module")
def frames():
    rng = np.random.default_rng(7)
    n = 90
    plain = pd.DataFrame({"t": rng.integers(1, 60, n), "s": rng.integers(0, 3, n), "g": rng.choice(["a", "b", "c"], n)})
    return plain, plain.assign(g=pd.Categorical(plain["g"], categories=LEVELS))


def test_cumulative_incidence_groups_in_declared_order(frames):
    plain, declared = frames
    sorted_ = stats.cumulative_incidence(plain, "t", "s", by="g").table
    ordered = stats.cumulative_incidence(declared, "t", "s", by="g").table
    assert list(pd.unique(sorted_["group"])) == ["a", "b", "c"]
    assert list(pd.unique(ordered["group"])) == LEVELS
    for level in LEVELS:
        a = sorted_[sorted_["group"] == level].reset_index(drop=True)
        b = ordered[ordered["group"] == level].reset_index(drop=True)
        pd.testing.assert_frame_equal(a.drop(columns="group"), b.drop(columns="group"))


def test_gray_statistic_invariant_to_level_order(frames):
    plain, declared = frames
    a = stats.gray_test(plain, "t", "s", by="g").table
    b = stats.gray_test(declared, "t", "s", by="g").table
    np.testing.assert_allclose(b["statistic"], a["statistic"], rtol=1e-12)
    np.testing.assert_allclose(b["p"], a["p"], rtol=1e-12)


def test_landmark_groups_in_declared_order(frames):
    _, declared = frames
    data = declared.assign(e=(declared["s"] > 0).astype(int))
    lm = stats.landmark(data, "t", "e", at=5, group="g")
    assert list(pd.unique(lm.km.table["group"])) == LEVELS
    # the Cox model's reference level is the first declared level ("c"), as R's treatment contrasts of a factor;
    # the sorted-order fit has "a" as reference, so its groupc coefficient is minus the declared fit's groupa
    assert list(lm.cox.table["term"]) == ["groupa", "groupb"]
    plain = stats.landmark(data.assign(g=data["g"].astype(str)), "t", "e", at=5, group="g").cox.table
    assert list(plain["term"]) == ["groupb", "groupc"]
    np.testing.assert_allclose(lm.cox.table["coef"].iloc[0], -plain["coef"].iloc[1], rtol=1e-8)
