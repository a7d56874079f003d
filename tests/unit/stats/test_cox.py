"""cox_ph: hand-worked values, input handling and bad input."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from cart_outcomes.errors import DataQualityWarning, InputError, StatisticalWarning
from cart_outcomes.stats import cox_ph


def small() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "time": [1, 2, 3, 4, 5, 6, 7, 8],
            "event": [1, 1, 0, 1, 1, 0, 1, 1],
            "x": [1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0],
            "z": [0.3, 1.2, -0.4, 0.8, -1.0, 0.1, 0.5, -0.2],
            "grp": ["b", "a", "c", "a", "b", "c", "a", "c"],
        }
    )


def medium() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 60
    return pd.DataFrame(
        {
            "time": rng.integers(1, 30, n).astype(float),
            "event": (rng.random(n) < 0.7).astype(int),
            "x": (rng.random(n) < 0.5).astype(float),
            "z": rng.normal(size=n),
            "grp": rng.choice(["a", "b", "c"], n),
        }
    )


def test_null_loglik_by_hand_no_ties():
    # at beta = 0 each event at t contributes -log(n at risk): risk sets 8, 7, 5, 4, 2, 1 (times 1, 2, 4, 5, 7, 8)
    res = cox_ph(small(), "time", "event", ["x"])
    assert res.loglik["null"] == pytest.approx(-math.log(8 * 7 * 5 * 4 * 2 * 1), rel=1e-14)


def test_score_test_by_hand_single_binary_covariate():
    # score test at 0 = (sum over events of x_i - xbar(t))^2 / sum of xbar(t)(1 - xbar(t)); risk sets by hand:
    # t=1: x in risk {1,0,1,1,0,0,1,0} mean 4/8, event x=1; t=2: {0,1,1,0,0,1,0} 3/7, x=0; t=4: {1,0,0,1,0} 2/5,
    # x=1; t=5: {0,0,1,0} 1/4, x=0; t=7: {1,0} 1/2, x=1; t=8: {0} 0, x=0
    means = np.array([4 / 8, 3 / 7, 2 / 5, 1 / 4, 1 / 2, 0])
    xs = np.array([1, 0, 1, 0, 1, 0])
    u = np.sum(xs - means)
    info = np.sum(means * (1 - means))
    res = cox_ph(small(), "time", "event", ["x"])
    assert res.tests.set_index("test").loc["score", "statistic"] == pytest.approx(u**2 / info, rel=1e-12)


def test_ties_methods_coincide_without_ties():
    fits = [
        cox_ph(small(), "time", "event", ["x", "z"], ties=t).coefficients["coef"] for t in ("efron", "breslow", "exact")
    ]
    np.testing.assert_allclose(fits[0], fits[1], rtol=1e-12)
    np.testing.assert_allclose(fits[0], fits[2], rtol=1e-12)


def test_string_column_dummy_coded_against_first_sorted_level():
    res = cox_ph(medium(), "time", "event", ["grp", "z"])
    assert res.coefficients["term"].tolist() == ["grpb", "grpc", "z"]
    df = medium().assign(grpb=lambda d: (d.grp == "b") * 1.0, grpc=lambda d: (d.grp == "c") * 1.0)
    manual = cox_ph(df, "time", "event", ["grpb", "grpc", "z"])
    np.testing.assert_allclose(res.coefficients["coef"], manual.coefficients["coef"], rtol=1e-12)


def test_categorical_order_and_bool_names_follow_R():
    df = medium().assign(grp=lambda d: pd.Categorical(d.grp, categories=["c", "b", "a"]), flag=lambda d: d.x > 0)
    res = cox_ph(df, "time", "event", "grp + flag")
    assert res.coefficients["term"].tolist() == ["grpb", "grpa", "flagTRUE"]


def test_formula_strata_equals_argument():
    df = pd.concat([small(), small().assign(time=lambda d: d.time + 0.5, s=1)]).fillna({"s": 0})
    a = cox_ph(df, "time", "event", "x + z + strata(s)")
    b = cox_ph(df, "time", "event", ["x", "z"], strata="s")
    pd.testing.assert_frame_equal(a.coefficients, b.coefficients)
    assert a.options["strata"] == ["s"]


def test_covariate_with_one_value_is_an_error_naming_it():
    df = small().assign(c=2.0)
    with pytest.raises(InputError, match="'c' has a single value"):
        cox_ph(df, "time", "event", ["x", "c"])
    with pytest.raises(InputError, match="'grp' has a single value"):
        cox_ph(small().assign(grp="a"), "time", "event", ["x", "grp"])


def test_collinear_covariate_is_an_error_naming_it():
    df = small().assign(x2=lambda d: 2 * d.x + d.z)
    with pytest.raises(InputError, match="'x2' is a linear combination"):
        cox_ph(df, "time", "event", ["x", "z", "x2"])


def test_start_not_before_stop_names_rows():
    df = small().assign(start=[0, 0, 3, 0, 0, 7, 0, 0])
    with pytest.raises(InputError, match=r"start >= stop in row\(s\) 2, 5"):
        cox_ph(df, "time", "event", ["x"], start="start")


def test_missing_covariates_excluded_with_count_and_positions():
    df = small()
    df.loc[[1, 5], "z"] = np.nan
    with pytest.warns(DataQualityWarning, match="2 row"):
        res = cox_ph(df, "time", "event", ["x", "z"])
    assert res.n == 6 and res.excluded["row"].tolist() == [1, 5]
    assert set(res.excluded["reason"]) == {"missing z"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ref = cox_ph(df.drop(index=[1, 5]), "time", "event", ["x", "z"])
    np.testing.assert_allclose(res.coefficients["coef"], ref.coefficients["coef"], rtol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ties": "discrete"}, "ties must be one of"),
        ({"weights": "w0"}, "weights must be > 0"),
        ({"ties": "exact", "weights": "w1"}, "does not support case weights"),
        ({"ties": "exact", "robust": True}, "does not support robust"),
        ({"cluster": "nope"}, "'nope' is not in the data"),
        ({"cluster": [1, 2]}, "cluster: length 2 differs"),
        ({"iter_max": 0}, "iter_max must be a positive integer"),
    ],
)
def test_bad_arguments(kwargs, match):
    df = small().assign(w0=[1, 1, 0, 1, 1, 1, 1, 1], w1=2.0)
    with pytest.raises(InputError, match=match):
        cox_ph(df, "time", "event", ["x"], **kwargs)


@pytest.mark.parametrize("formula", ["x*z", "x:z", "log(z)"])
def test_unsupported_formula_terms(formula):
    with pytest.raises(InputError, match="not supported"):
        cox_ph(small(), "time", "event", formula)


def test_no_events_is_an_error():
    with pytest.raises(InputError, match="no events"):
        cox_ph(small().assign(event=0), "time", "event", ["x"])


def test_predict_survival_shape_and_bounds():
    res = cox_ph(small(), "time", "event", ["x", "z"])
    pred = res.predict_survival(pd.DataFrame({"x": [0.0, 1.0], "z": [0.0, 0.5]}), times=[0, 1.5, 4, 8, 9])
    assert pred.shape == (10, 4)
    first = pred[pred.row == 0]
    assert first["survival"].iloc[0] == 1.0  # before the first event
    assert np.isnan(first["survival"].iloc[-1])  # after the last exit time: not estimated (R reports nothing)
    s = first["survival"].iloc[:-1].to_numpy()
    assert np.all(np.diff(s) <= 0) and np.all((s > 0) & (s <= 1))
    with pytest.raises(InputError, match="newdata"):
        res.predict_survival(pd.DataFrame({"x": [1.0]}))


def test_ph_test_rejects_unknown_transform():
    res = cox_ph(small(), "time", "event", ["x"])
    with pytest.raises(InputError, match="transform"):
        res.ph_test("log-log")


def test_result_is_frozen_and_records_options():
    res = cox_ph(small(), "time", "event", ["x"])
    with pytest.raises(AttributeError):
        res.n = 3
    assert res.options["ties"] == "efron" and res.options["r_equivalent"] == "survival::coxph"
    assert res.table is res.coefficients


def _logrank_hypergeometric(df: pd.DataFrame, start=None) -> float:
    """Two-group log-rank (Mantel-Haenszel, hypergeometric variance) by direct counting over event times."""
    o = e = v = 0.0
    for t in np.unique(df.time[df.event == 1]):
        at_risk = (df.time >= t) if start is None else (df[start] < t) & (df.time >= t)
        r = df[at_risk]
        n, n1 = len(r), r.g.sum()
        dead = (r.time == t) & (r.event == 1)
        d, d1 = dead.sum(), (dead & (r.g == 1)).sum()
        o += d1
        e += d * n1 / n
        v += d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1) if n > 1 else 0.0
    return (o - e) ** 2 / v


def test_exact_ties_score_test_is_the_hypergeometric_logrank_even_with_ties():
    # the discrete (exact) partial likelihood's score test is the Mantel-Haenszel log-rank; Breslow's and Efron's
    # score tests differ from it when event times are tied (this is what Mantel-Byar comparisons rely on)
    rng = np.random.default_rng(3)
    n = 80
    df = pd.DataFrame(
        {
            "time": rng.integers(1, 15, n).astype(float),
            "event": (rng.random(n) < 0.7).astype(int),
            "g": (rng.random(n) < 0.5).astype(float),
        }
    )
    want = _logrank_hypergeometric(df)
    score = {t: cox_ph(df, "time", "event", ["g"], ties=t).tests.set_index("test").loc["score", "statistic"]
             for t in ("exact", "breslow", "efron")}  # fmt: skip
    assert score["exact"] == pytest.approx(want, rel=1e-12)
    assert abs(score["breslow"] - want) > 1e-3 and abs(score["efron"] - want) > 1e-3
    # counting-process rows with delayed entry: same identity with (start, stop] risk sets
    df2 = df.assign(start=np.where(rng.random(n) < 0.4, np.floor(df.time / 2), 0.0)).assign(
        start=lambda d: np.where(d.start >= d.time, 0.0, d.start)
    )
    res = cox_ph(df2, "time", "event", ["g"], start="start", ties="exact")
    want2 = _logrank_hypergeometric(df2, start="start")
    assert res.tests.set_index("test").loc["score", "statistic"] == pytest.approx(want2, rel=1e-12)


def test_html_repr_mentions_exclusions():
    df = small()
    df.loc[3, "z"] = np.nan
    with pytest.warns(DataQualityWarning):
        res = cox_ph(df, "time", "event", ["x", "z"])
    html = res._repr_html_()
    assert "1 row(s) excluded" in html and "<table" in html
    assert "transform=km" in res.ph_test()._repr_html_()


@pytest.mark.parametrize("ties", ["efron", "breslow", "exact"])
def test_separated_data_warns_only_statistically_with_an_infinite_upper_limit(ties):
    # every x = 1 patient fails before any x = 0 patient: the partial likelihood increases without bound in beta_x
    # (monotone likelihood). R coxph warns and reports an Inf upper limit; numpy's exp() overflow behind that Inf is
    # an implementation detail that must not reach the user (only the StatisticalWarning does).
    data = pd.DataFrame({"time": [1, 2, 3, 4], "event": [1, 1, 1, 1], "x": [1, 1, 0, 0]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = cox_ph(data, "time", "event", "x", ties=ties)
    assert caught, "the divergence must be reported"
    assert {w.category for w in caught} == {StatisticalWarning}
    row = res.coefficients.iloc[0]
    assert row["coef"] > 5  # diverging towards +inf
    assert row["upper"] == math.inf
