"""Result shape, options, profiles and immutability of the Kaplan-Meier results."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

import cart_outcomes
from cart_outcomes.stats import at_risk_table, kaplan_meier, reverse_km_followup

DF = pd.DataFrame({"t": [1, 2, 2, 3, 4, 5, 6, 7], "e": [1, 0, 1, 1, 0, 1, 0, 1], "arm": list("abababab")})


def test_options_and_profiles():
    fit = kaplan_meier(DF, "t", "e")
    assert fit.options["conf_type"] == "log-log" and fit.options["conf_level"] == 0.95
    assert fit.options["version"] == cart_outcomes.__version__
    assert fit.options["variance"] == "greenwood"
    assert kaplan_meier(DF, "t", "e", profile="R").options["conf_type"] == "log"
    assert kaplan_meier(DF, "t", "e", profile="SAS").options["conf_type"] == "log-log"


def test_results_are_frozen_and_tables_are_copies():
    fit = kaplan_meier(DF, "t", "e", by="arm")
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.options = {}
    tab = fit.table
    tab.loc[0, "survival"] = -1.0
    assert fit.table.loc[0, "survival"] != -1.0
    assert fit.groups == ("a", "b")
    assert list(fit.table.columns) == [
        "group", "time", "n_risk", "n_event", "n_censor", "survival", "std_err", "lower", "upper", "cumhaz",
        "cumhaz_se",
    ]  # fmt: skip
    # per group only its own times
    assert fit.table.query("group == 'a'")["time"].tolist() == [1, 2, 4, 6]


def test_groups_are_fitted_independently():
    by = kaplan_meier(DF, "t", "e", by="arm").table
    alone = kaplan_meier(DF[DF.arm == "b"], "t", "e").table
    np.testing.assert_allclose(by.query("group == 'b'")["survival"], alone["survival"], rtol=1e-15)
    np.testing.assert_allclose(by.query("group == 'b'")["lower"], alone["lower"], rtol=1e-15)


def test_arrays_and_frame_give_the_same_fit():
    a = kaplan_meier(None, DF.t.to_numpy(), DF.e.astype(bool).to_numpy()).table
    b = kaplan_meier(DF, "t", "e").table
    pd.testing.assert_frame_equal(a, b)


def test_at_risk_counts_subjects_on_the_tick_day():
    # events and censorings exactly on the ticks 2 and 4: still at risk at that tick (R n.risk semantics)
    risk = at_risk_table(kaplan_meier(DF, "t", "e"), [4, 0, 2, 10], cumulative=False)
    assert risk["time"].tolist() == [0, 2, 4, 10]
    assert risk["n_risk"].tolist() == [8, 7, 4, 0]
    assert list(risk.columns) == ["group", "time", "n_risk"]


def test_reverse_km_labels_and_swap():
    res = reverse_km_followup(DF, "t", "e")
    assert {"median_followup", "median_observed", "q1_observed", "q3_observed", "min_observed",
            "max_observed", "median_censored"} <= set(res.table.columns)  # fmt: skip
    rev = kaplan_meier(DF, "t", 1 - DF.e)
    np.testing.assert_array_equal(res.reverse_km.survival, rev.survival)
    assert "reverse Kaplan-Meier" in res.options["method"]


@pytest.mark.parametrize("seed", range(6))
def test_continuous_by_group_sorted_path_equals_grid_path(seed, monkeypatch):
    # continuous times by group take a per-group sorted path (memory, issue 18); it must give the grid path's
    # numbers exactly: ties, an empty integer level (codes 0, 2, 3), a last time where everyone dies
    from cart_outcomes.stats import km

    rng = np.random.default_rng(seed)
    n = 6000 + 500 * seed
    t = np.round(rng.exponential(100, n), seed % 3) + 0.25
    t[:64] += 0.125  # fractional among the first values: the sorted path is taken
    e = rng.random(n) < 0.6
    e[t == t.max()] = True
    g = rng.choice([0, 2, 3], n)
    assert km.continuous(t)
    fast = kaplan_meier(None, t, e, by=g)
    monkeypatch.setattr(km, "continuous", lambda _t: False)
    grid = kaplan_meier(None, t, e, by=g)
    assert fast.groups == grid.groups == (0, 2, 3)
    for name in ("offsets", "n", "n_weighted", "time", "n_risk", "n_event", "n_censor", "survival", "std_err"):
        a, b = getattr(fast, name), getattr(grid, name)
        assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True), name
    pd.testing.assert_frame_equal(fast.table, grid.table)
    pd.testing.assert_frame_equal(fast.medians, grid.medians)
