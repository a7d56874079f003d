"""Issue 16 (KM, log-rank, proportions) against R 4.2.2 / survival 3.5-3: factor level order, survdiff with fewer
than two groups with expected events, rmean before the first time, binom.test, one-sided fisher.test and survRM2's
rmst2 (values written by km_logrank_gaps.R; R is not needed here)."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cart_outcomes.errors import InputError, StatisticalWarning
from cart_outcomes.stats import (
    binomial_test,
    compare_rmst,
    fisher_exact,
    kaplan_meier,
    logrank_test,
    logrank_trend_test,
)

HERE = Path(__file__).parent
REF = json.loads((HERE / "km_logrank_gaps.json").read_text())
COLON = pd.read_csv(HERE / "colon_death.csv")
LUNG = pd.read_csv(HERE / "lung.csv")
RTOL = 1e-10  # closed forms vs R (style guide)


def arr(values) -> np.ndarray:
    """R's numbers (null = NA) as a flat float array."""
    return np.atleast_1d(np.array(values, dtype=float)).ravel()


def close(actual, expected, what: str, rtol: float = RTOL) -> None:
    np.testing.assert_allclose(np.asarray(actual, dtype=float), arr(expected), rtol=rtol, atol=1e-14, err_msg=what)


def colon_with(levels: list[str]) -> pd.DataFrame:
    return COLON.assign(rx=pd.Categorical(COLON["rx"], categories=levels))


def check_survdiff(res, ref, what: str) -> None:
    assert [str(g) for g in res.groups] == ref["groups"], what
    close(res.n, ref["n"], f"{what} n")
    close(res.observed, ref["obs"], f"{what} observed")
    close(res.expected, ref["exp"], f"{what} expected")
    close(res.variance.ravel(), ref["var"], f"{what} variance")
    close(res.statistic, ref["chisq"], f"{what} chisq")
    assert res.df == ref["df"], what
    close(res.p_value, ref["p"], f"{what} p")


@pytest.mark.parametrize("order", ["declared", "reversed"])
def test_logrank_honours_categorical_level_order_against_R(order):
    ref = REF["level_order"][order]
    d = colon_with(ref["levels"])
    check_survdiff(logrank_test(d, "time", "status", "rx"), ref["logrank"], "log-rank")
    check_survdiff(logrank_test(d, "time", "status", "rx", rho=1), ref["peto"], "rho=1")
    check_survdiff(logrank_test(d, "time", "status", "rx", strata="sex"), ref["stratified"], "strata(sex)")


@pytest.mark.parametrize("order", ["declared", "reversed"])
def test_trend_default_scores_follow_level_order_against_R(order):
    ref = REF["level_order"][order]
    d = colon_with(ref["levels"])
    res = logrank_trend_test(d, "time", "status", "rx")
    assert list(res.groups) == ref["levels"]
    close(res.scores, ref["trend"]["scores"], "scores")
    close(res.statistic, ref["trend"]["chisq"], "trend chisq")
    strat = logrank_trend_test(d, "time", "status", "rx", strata="sex")
    close(strat.statistic, ref["trend_stratified"]["chisq"], "stratified trend chisq")


def test_trend_issue_example_gives_R_chisq():
    # issue 16: rx as Categorical(["Obs", "Lev", "Lev+5FU"]) must give R's 9.578, not the sorted-label 0.0735
    d = COLON.assign(rx=pd.Categorical(COLON["rx"], categories=["Obs", "Lev", "Lev+5FU"]))
    res = logrank_trend_test(d, "time", "status", "rx")
    assert round(res.statistic, 3) == 9.578


@pytest.mark.parametrize("order", ["declared", "reversed"])
def test_km_honours_categorical_level_order_against_R(order):
    ref = REF["level_order"][order]["km"]
    fit = kaplan_meier(colon_with(REF["level_order"][order]["levels"]), "time", "status", by="rx", profile="R")
    assert list(fit.groups) == ref["strata"]
    close(np.diff(fit.offsets), ref["strata_n"], "rows per stratum")
    close(fit.time, ref["time"], "time")
    close(fit.survival, ref["surv"], "surv")
    med, lo, up = fit.median_ci()
    close(med, ref["median"], "median")
    close(lo, ref["lcl"], "lcl")
    close(up, ref["ucl"], "ucl")


def test_unused_level_is_dropped_as_R():
    ref = REF["unused_level"]
    data = pd.DataFrame(ref["data"])
    data["g"] = pd.Categorical(data["g"], categories=ref["levels"])
    fit = kaplan_meier(data, "time", "status", by="g", profile="R")
    assert list(fit.groups) == ref["km"]["strata"]
    close(fit.survival, ref["km"]["surv"], "surv")
    close(fit.median_ci()[0], ref["km"]["median"], "median")
    check_survdiff(logrank_test(data, "time", "status", "g"), ref["logrank"], "unused level")
    # integer labels coded directly: a label between two used ones with no rows is dropped as well
    ints = data.assign(g=data["g"].map({"b": 1, "a": 3}).astype(int))
    assert kaplan_meier(ints, "time", "status", by="g").groups == (1, 3)


@pytest.mark.parametrize("case", ["one_group_with_events", "three_groups_one_empty"])
def test_logrank_fewer_than_two_groups_with_events_against_R(case):
    ref = REF["few_groups"][case]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = logrank_test(pd.DataFrame(ref["data"]), "time", "status", "g")
    check_survdiff(res, ref, case)


def test_logrank_without_events_is_nan_with_warning_as_R():
    ref = REF["few_groups"]["no_events"]
    assert ref["p"] is None  # R: chisq 0 on -1 df, p NA
    with pytest.warns(StatisticalWarning, match="nothing to test"):
        res = logrank_test(pd.DataFrame(ref["data"]), "time", "status", "g")
    assert (res.statistic, res.df) == (ref["chisq"], ref["df"])
    assert math.isnan(res.p_value)


def test_rmst_before_first_time_stops_as_R():
    ref = REF["rmean"]
    fit = kaplan_meier(pd.DataFrame(ref["data"]), "time", "status")
    assert ref["error"].startswith("Truncation point")
    with pytest.raises(InputError, match="Truncation point for the mean is < smallest survival"):
        fit.rmst(ref["error_tau"])
    row = fit.rmst(ref["first_tau"]).iloc[0]
    close([row["rmst"], row["std_err"]], [ref["first_rmean"], ref["first_se"]], "rmean at the first time")


@pytest.mark.parametrize("ref", REF["binom"], ids=lambda r: f"{r['x']}of{r['n']}-p{r['p']:.3g}-{r['alternative']}")
def test_binomial_test_against_R(ref):
    alt = ref["alternative"].replace(".", "-")
    res = binomial_test(ref["x"], ref["n"], p=ref["p"], alternative=alt, conf_level=ref["conf_level"])
    close(
        [res.p_value, res.lower, res.upper, res.estimate],
        [ref[k] for k in ("p_value", "lower", "upper", "estimate")],
        f"binom.test {ref}",
    )


@pytest.mark.parametrize(
    "ref",
    REF["fisher"],
    ids=lambda r: "-".join(str(int(v)) for v in r["table"]) + f"-{r['alternative']}-{r['conf_level']}",
)
def test_fisher_exact_alternatives_against_R(ref):
    table = np.array(ref["table"], dtype=int).reshape(2, 2)
    res = fisher_exact(table, conf_level=ref["conf_level"], alternative=ref["alternative"].replace(".", "-"))
    got = [res.p_value, res.odds_ratio, res.lower, res.upper]
    exp = [
        math.inf if v == "Inf" or v is None and k == "upper" else v
        for k, v in ((k, ref[k]) for k in ("p_value", "odds_ratio", "lower", "upper"))
    ]
    for g, e, k in zip(got, exp, ("p_value", "odds_ratio", "lower", "upper"), strict=True):
        if e is None or math.isinf(e):
            assert math.isinf(g), (k, g, ref)
        else:
            # odds ratio and limits come from R's uniroot (tolerance eps^0.25), ported step by step
            assert g == pytest.approx(e, rel=RTOL, abs=1e-14), (k, g, e, ref)


def rmst_data(ref) -> tuple[pd.DataFrame, str, object]:
    if ref["data"] == "lung":
        return LUNG, "sex", 1
    if ref["data"] == "colon":
        return COLON[COLON["rx"] != "Lev"], "rx", "Obs"
    return pd.DataFrame(ref["small"]), "arm", 0


@pytest.mark.parametrize("ref", REF["rmst2"], ids=lambda r: r["name"])
def test_compare_rmst_against_survRM2_formulas(ref):
    data, by, reference = rmst_data(ref)
    tau = None if ref["tau_given"] is None else ref["tau_given"]
    if ref["error"]:
        with pytest.raises(InputError, match=f"largest truncation time survRM2 allows.*|beyond {ref['limit']:g}"):
            compare_rmst(data, "time", "status", by, tau=tau, reference=reference, conf_level=ref["conf_level"])
        return
    res = compare_rmst(data, "time", "status", by, tau=tau, reference=reference, conf_level=ref["conf_level"])
    close(res.tau, ref["tau"], "tau")
    t = res.table
    close(t[["estimate", "lower", "upper", "p_value"]].to_numpy().ravel(), ref["result"], "contrasts")
    arms = res.arms
    for i, key in enumerate(("arm0", "arm1")):
        a = arms.iloc[i]
        got = [
            a["rmst"],
            a["std_err"],
            a["lower"],
            a["upper"],
            a["rmtl"],
            a["std_err"],
            a["rmtl_lower"],
            a["rmtl_upper"],
        ]
        close(got, ref[key], key)
    assert res.reference == reference
