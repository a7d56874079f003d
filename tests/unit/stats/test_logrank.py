from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from cart_outcomes import InputError, StatisticalWarning
from cart_outcomes.stats import (
    exact_logrank_test,
    hazard_ratio_logrank,
    logrank_test,
    logrank_trend_test,
)

# Hand-worked 6-patient example. Group A: 1, 3+, 4; group B: 2, 3, 5+ (+ = censored).
#  t  n_A n_B  n  d  event in  E_A = d n_A / n   V = d (n_A/n)(1 - n_A/n)(n - d)/(n - 1)
#  1   3   3   6  1     A      3/6 = 0.5         0.5 * 0.5 * 5/5 = 0.25
#  2   2   3   5  1     B      2/5 = 0.4         0.4 * 0.6 * 4/4 = 0.24
#  3   2   2   4  1     B      2/4 = 0.5         0.5 * 0.5 * 3/3 = 0.25   (A's censoring at 3 is still at risk at 3)
#  4   1   1   2  1     A      1/2 = 0.5         0.5 * 0.5 * 1/1 = 0.25
#  O_A = 2, E_A = 1.9, V = 0.99, chi2 = 0.1^2 / 0.99; O_B = 2, E_B = 2.1.
SIX = pd.DataFrame({"time": [1, 3, 4, 2, 3, 5], "event": [1, 0, 1, 1, 1, 0], "arm": ["A", "A", "A", "B", "B", "B"]})


def test_hand_worked_six_patients():
    res = logrank_test(SIX, "time", "event", "arm")
    assert res.groups == ("A", "B")
    np.testing.assert_allclose(res.observed, [2, 2])
    np.testing.assert_allclose(res.expected, [1.9, 2.1], rtol=1e-14)
    np.testing.assert_allclose(res.variance, [[0.99, -0.99], [-0.99, 0.99]], rtol=1e-14)
    assert res.statistic == pytest.approx(0.01 / 0.99, rel=1e-14)
    assert res.df == 1
    assert res.p_value == pytest.approx(math.erfc(math.sqrt(0.01 / 0.99 / 2)), rel=1e-14)
    tab = res.table
    assert tab["n"].tolist() == [3, 3]
    assert tab["events"].tolist() == [2, 2]
    assert tab["oe2_over_v"].tolist() == pytest.approx([0.01 / 0.99] * 2, rel=1e-14)


def test_hand_worked_gehan_breslow():
    # weights n(t) = 6, 5, 4, 2: U_A = 6*(1-.5) + 5*(0-.4) + 4*(0-.5) + 2*(1-.5) = 0;  V = 36*.25+25*.24+16*.25+4*.25
    res = logrank_test(SIX, "time", "event", "arm", weights="gehan-breslow")
    np.testing.assert_allclose(res.observed[0] - res.expected[0], 0.0, atol=1e-14)
    assert res.variance[0, 0] == pytest.approx(36 * 0.25 + 25 * 0.24 + 16 * 0.25 + 4 * 0.25, rel=1e-14)


def test_arrays_and_frame_give_the_same_result():
    a = logrank_test(SIX, "time", "event", "arm")
    b = logrank_test(None, SIX["time"].to_numpy(), SIX["event"].astype(bool).to_numpy(), SIX["arm"].to_numpy())
    assert a.statistic == b.statistic
    assert b.options["columns"] == {"time": "time", "event": "event", "by": "by"}


def test_integer_labels_with_a_gap_match_string_labels():
    df = SIX.assign(code=SIX["arm"].map({"A": 0, "B": 7}))
    a = logrank_test(df, "time", "event", "arm")
    b = logrank_test(df, "time", "event", "code")
    assert b.groups == (0, 7)
    assert a.statistic == b.statistic


def test_result_is_immutable_and_records_options():
    res = logrank_test(SIX, "time", "event", "arm", rho=1)
    with pytest.raises(AttributeError):
        res.statistic = 0.0  # type: ignore[misc]
    with pytest.raises(ValueError):
        res.observed[0] = 0.0
    with pytest.raises(TypeError):
        res.options["rho"] = 2  # type: ignore[index]
    assert res.options["method"] == "Peto-Peto (G-rho, rho=1)"
    assert res.options["variance"] == "hypergeometric"
    assert "version" in res.options
    assert res.to_frame().equals(res.table)
    assert "<table" in res._repr_html_()


def test_weight_names():
    f = logrank_test(SIX, "time", "event", "arm", weights=("fleming-harrington", 1, 0))
    g = logrank_test(SIX, "time", "event", "arm", rho=1)
    assert f.statistic == pytest.approx(g.statistic, rel=1e-14)
    assert logrank_test(SIX, "time", "event", "arm", weights="tarone_ware").options["method"] == "Tarone-Ware"


def test_one_comparable_group_gives_p_one_as_R():
    # group B leaves (censored) before the first event: expected 0, so only one group is left to compare;
    # R survdiff: chisq 0 on 0 df, p = pchisq(0, 0, lower.tail = FALSE) = 1 (see km_logrank_gaps.json)
    df = pd.DataFrame({"t": [2, 3, 4, 1, 1], "e": [1, 1, 0, 0, 0], "g": ["a", "a", "a", "b", "b"]})
    res = logrank_test(df, "t", "e", "g")
    assert (res.statistic, res.df, res.p_value) == (0.0, 0, 1.0)


def test_singular_variance_uses_generalized_inverse():
    # everyone dies at the only event time: V = 0 (R's solve() stops with "singular")
    df = pd.DataFrame({"t": [1, 1, 1], "e": [1, 1, 1], "g": ["a", "b", "c"]})
    with pytest.warns(StatisticalWarning):
        res = logrank_test(df, "t", "e", "g")
    assert res.options["inverse"] == "generalized inverse (singular V)"
    assert res.statistic == 0.0
    assert res.df == 0


def test_trend_default_scores_and_mapping():
    df = pd.DataFrame(
        {
            "t": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
            "e": [1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0],
            "dose": ["lo", "lo", "lo", "lo", "mid", "mid", "mid", "mid", "hi", "hi", "hi", "hi"],
        }
    )
    # sorted levels are hi, lo, mid: say the order explicitly
    by_map = logrank_trend_test(df, "t", "e", "dose", scores={"lo": 1, "mid": 2, "hi": 3})
    by_seq = logrank_trend_test(df, "t", "e", "dose", scores=[3, 1, 2])
    assert by_map.statistic == by_seq.statistic
    base = logrank_test(df, "t", "e", "dose")
    s = np.array([3.0, 1.0, 2.0])
    u = s @ (base.observed - base.expected)
    assert by_map.statistic == pytest.approx(u**2 / (s @ base.variance @ s), rel=1e-14)
    assert by_map.z == pytest.approx(u / math.sqrt(s @ base.variance @ s), rel=1e-14)
    assert by_map.z < 0  # higher dose, fewer events than expected (later times)
    assert list(by_map.table.columns) == ["group", "score", "n", "observed", "expected"]
    # default scores 1..k in level order
    default = logrank_trend_test(df, "t", "e", "dose")
    np.testing.assert_array_equal(default.scores, [1, 2, 3])


def test_hazard_ratio_reference_and_inverse():
    a = hazard_ratio_logrank(SIX, "time", "event", "arm").table.set_index("method")
    b = hazard_ratio_logrank(SIX, "time", "event", "arm", reference="B").table.set_index("method")
    # O/E method by hand: (O_B/E_B)/(O_A/E_A) = (2/2.1)/(2/1.9); MH: exp((O_B-E_B)/V) = exp(-0.1/0.99)
    assert a.loc["logrank_oe_ratio", "hazard_ratio"] == pytest.approx((2 / 2.1) / (2 / 1.9), rel=1e-14)
    assert a.loc["mantel_haenszel", "hazard_ratio"] == pytest.approx(math.exp(-0.1 / 0.99), rel=1e-14)
    np.testing.assert_allclose(
        a["hazard_ratio"].to_numpy(float) * b["hazard_ratio"].to_numpy(float), [1.0, 1.0], rtol=1e-14
    )
    assert (a["group"] == "B").all() and (a["reference"] == "A").all()


def test_exact_five_vs_three_and_monte_carlo():
    df = pd.DataFrame(
        {
            "time": [45, 120, 200, 310, 400, 30, 60, 90],
            "event": [1, 0, 1, 0, 0, 1, 1, 0],
            "arm": ["A"] * 5 + ["B"] * 3,
        }
    )
    exact = exact_logrank_test(df, "time", "event", "arm")
    assert exact.n_permutations == 56  # C(8, 3)
    assert exact.p_value == pytest.approx(13 / 56, rel=1e-14)  # R brute force: 0.2321429 (reference JSON)
    mc1 = exact_logrank_test(df, "time", "event", "arm", method="monte-carlo", n_resamples=20_000, seed=7)
    mc2 = exact_logrank_test(df, "time", "event", "arm", method="monte-carlo", n_resamples=20_000, seed=7)
    assert mc1.p_value == mc2.p_value
    assert mc1.options["seed"] == 7
    se = math.sqrt(exact.p_value * (1 - exact.p_value) / 20_000)
    assert abs(mc1.p_value - exact.p_value) < 5 * se


def test_exact_count_matches_brute_force_over_logrank_test():
    # every C(12, 5) relabelling through the public logrank_test: share with |O - E| >= observed
    rng = np.random.default_rng(5)
    t = rng.integers(1, 8, 12)
    e = rng.random(12) < 0.7
    g = np.array([0] * 7 + [1] * 5)
    obs = exact_logrank_test(None, t, e, g)
    oe = []
    for idx in itertools.combinations(range(12), 5):
        lab = np.zeros(12, dtype=int)
        lab[list(idx)] = 1
        r = logrank_test(None, t, e, lab)
        oe.append(r.observed[1] - r.expected[1])
    oe = np.abs(np.array(oe))
    assert obs.p_value == np.mean(oe >= abs(obs.statistic) * (1 - 1e-7))


def test_exact_enumeration_at_30_patients_agrees_with_monte_carlo():
    rng = np.random.default_rng(3)
    n = 30
    t = rng.integers(1, 12, n)
    e = rng.random(n) < 0.7
    g = np.array([0] * 12 + [1] * 18)
    res = exact_logrank_test(None, t, e, g)
    assert res.n_permutations == math.comb(30, 12)
    # Monte-Carlo with many draws must be close; the exact count is checked against R on smaller data
    mc = exact_logrank_test(None, t, e, g, method="monte-carlo", n_resamples=200_000, seed=11)
    assert abs(mc.p_value - res.p_value) < 5 * math.sqrt(res.p_value * (1 - res.p_value) / 200_000) + 1e-5


# ------------------------------------------------------------------------------------------------- bad input


def test_single_level_group_names_the_column():
    df = SIX.assign(arm="A")
    with pytest.raises(InputError, match="'arm'.*at least 2 groups"):
        logrank_test(df, "time", "event", "arm")
    with pytest.raises(InputError, match="'code'.*at least 2 groups"):
        logrank_test(SIX.assign(code=3), "time", "event", "code")


@pytest.mark.parametrize(
    ("column", "value", "match"),
    [
        ("time", np.nan, r"column 'time': missing or non-finite time in row\(s\) 2"),
        ("time", -1.0, r"column 'time': negative time in row\(s\) 2"),
        ("event", 2, r"column 'event': event must be 0/1 or boolean; bad value in row\(s\) 2"),
        ("arm", None, r"column 'arm': missing group in row\(s\) 2"),
    ],
)
def test_bad_values_name_column_and_row(column, value, match):
    df = SIX.copy()
    df[column] = df[column].astype(object if column == "arm" else float)
    df.loc[2, column] = value
    with pytest.raises(InputError, match=match):
        logrank_test(df, "time", "event", "arm")


def test_empty_and_missing_columns():
    with pytest.raises(InputError, match="empty"):
        logrank_test(SIX.iloc[:0], "time", "event", "arm")
    with pytest.raises(InputError, match="'days' is not in the data"):
        logrank_test(SIX, "days", "event", "arm")


def test_bad_options():
    with pytest.raises(InputError, match="either rho"):
        logrank_test(SIX, "time", "event", "arm", rho=1, weights="tarone-ware")
    with pytest.raises(InputError, match="weights must be"):
        logrank_test(SIX, "time", "event", "arm", weights="peto")
    with pytest.raises(InputError, match="rho must be"):
        logrank_test(SIX, "time", "event", "arm", rho=-1)
    with pytest.raises(InputError, match="one score per group"):
        logrank_trend_test(SIX, "time", "event", "arm", scores=[1, 2, 3])
    with pytest.raises(InputError, match="not all equal"):
        logrank_trend_test(SIX, "time", "event", "arm", scores=[1, 1])
    with pytest.raises(InputError, match="reference='C'"):
        hazard_ratio_logrank(SIX, "time", "event", "arm", reference="C")
    three = SIX.assign(arm=["A", "A", "B", "B", "C", "C"])
    with pytest.raises(InputError, match="exactly two groups"):
        hazard_ratio_logrank(three, "time", "event", "arm")
    with pytest.raises(InputError, match="monte-carlo"):
        exact_logrank_test(None, np.arange(41), np.ones(41), np.arange(41) % 2)
    with pytest.raises(InputError, match="method must be"):
        exact_logrank_test(SIX, "time", "event", "arm", method="asymptotic")
    with pytest.raises(InputError, match="conf_level"):
        hazard_ratio_logrank(SIX, "time", "event", "arm", conf_level=95)


def test_zero_variance_two_groups():
    df = pd.DataFrame({"t": [1, 1], "e": [1, 1], "g": ["a", "b"]})
    with pytest.warns(StatisticalWarning):
        res = logrank_test(df, "t", "e", "g")
    assert (res.statistic, res.df) == (0.0, 0)
    assert math.isnan(res.p_value)


def test_exact_reference_swap_and_monte_carlo_beyond_exact_limit():
    rng = np.random.default_rng(9)
    t, e, g = rng.integers(1, 30, 60), rng.random(60) < 0.6, np.repeat(["x", "y"], 30)
    a = exact_logrank_test(None, t[:20], e[:20], g[20:40])
    b = exact_logrank_test(None, t[:20], e[:20], g[20:40], reference="y")
    assert a.p_value == b.p_value
    assert a.statistic == pytest.approx(-b.statistic, rel=1e-12)
    mc = exact_logrank_test(None, t, e, g, method="monte-carlo", n_resamples=2000, seed=1)
    assert mc.n_permutations == 2000
    assert mc.p_value >= 1 / 2001 and mc.p_value <= 1  # (1 + b) / (1 + B) with B = 2000
    assert mc.chisq == pytest.approx(logrank_test(None, t, e, g).statistic, rel=1e-12)


def test_two_strata_columns_equal_their_combination():
    rng = np.random.default_rng(4)
    df = pd.DataFrame(
        {
            "t": rng.integers(1, 20, 80),
            "e": rng.integers(0, 2, 80),
            "g": rng.choice(["a", "b"], 80),
            "s1": rng.choice(["u", "v"], 80),
            "s2": rng.integers(0, 2, 80),
        }
    )
    two = logrank_test(df, "t", "e", "g", strata=["s1", "s2"])
    one = logrank_test(df.assign(s=df["s1"] + df["s2"].astype(str)), "t", "e", "g", strata="s")
    assert two.statistic == pytest.approx(one.statistic, rel=1e-12)
    assert two.options["n_strata"] == 4
    assert two.options["strata"] == ["s1", "s2"]


@pytest.mark.parametrize("kw", [{}, {"rho": 1}, {"weights": "tarone-ware"}, {"strata": "s"}])
def test_continuous_rows_path_equals_grid_path(kw, monkeypatch):
    # continuous times skip event_table's (m, k, 2) grid (memory, issue 18); the numbers must be the grid path's
    from cart_outcomes.stats import logrank

    rng = np.random.default_rng(3)
    n = 12_000
    df = pd.DataFrame(
        {
            "t": np.round(rng.exponential(50, n), 2) + 0.005,
            "e": rng.random(n) < 0.7,
            "g": rng.integers(0, 3, n),
            "s": rng.integers(0, 2, n),
        }
    )
    assert logrank.continuous(df["t"].to_numpy())
    fast = logrank_test(df, "t", "e", "g", **kw)
    monkeypatch.setattr(logrank, "continuous", lambda _t: False)
    grid = logrank_test(df, "t", "e", "g", **kw)
    assert fast.statistic == grid.statistic and fast.df == grid.df
    for name in ("n", "events", "observed", "expected", "variance"):
        assert np.array_equal(getattr(fast, name), getattr(grid, name)), name
