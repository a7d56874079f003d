"""cumulative_incidence / gray_test / fine_gray against R survival 3.5-3 and cmprsk 2.2-11.

Expected values are read from competing_reference.json, written by competing_reference.R (never edited by hand).
Tolerances: 1e-10 relative for closed-form quantities, 1e-6 for iterative fits (crr).
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cart_outcomes.errors import DataQualityWarning
from cart_outcomes.stats import cumulative_incidence, fine_gray, gray_test

REF = json.loads((Path(__file__).parent / "competing_reference.json").read_text())
CLOSED = 1e-10
ITER = 1e-6


def _frame(name: str) -> pd.DataFrame:
    return pd.DataFrame(REF["data"][name])


def _num(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def test_reference_records_versions():
    assert REF["versions"]["survival"] == "3.5.3"
    assert REF["versions"]["cmprsk"] == "2.2.11"


@pytest.mark.parametrize(
    ("case", "data", "by"),
    [("mgus2", "mgus2", None), ("mgus2_by_sex", "mgus2", "sex"), ("tied_by_group", "tied", "group"),
     ("tiny", "tiny", None)],
)
def test_aalen_johansen_matches_survfit_multistate(case, data, by):
    d = _frame(data)
    res = cumulative_incidence(d, "time", "event", by=by)
    res_ll = cumulative_incidence(d, "time", "event", by=by, conf_type="log-log")
    for curve in REF["survfit"][case]:
        sel = res.table["cause"] == curve["cause"]
        if by is not None:
            sel &= res.table["group"] == curve["group"]
        got = res.table[sel]
        np.testing.assert_array_equal(got["time"], curve["time"])
        np.testing.assert_array_equal(got["n_risk"], curve["n_risk"])
        np.testing.assert_array_equal(got["n_event"], curve["n_event"])
        for col in ("estimate", "std_err", "lower", "upper"):
            np.testing.assert_allclose(got[col], _num(curve[col]), rtol=CLOSED, atol=1e-15, err_msg=col)
        got_ll = res_ll.table[sel]
        np.testing.assert_allclose(got_ll["lower"], _num(curve["lower_loglog"]), rtol=CLOSED, atol=1e-15)
        np.testing.assert_allclose(got_ll["upper"], _num(curve["upper_loglog"]), rtol=CLOSED, atol=1e-15)


def test_mgus2_cause1_at_120_months_as_quoted_in_the_survey():
    res = cumulative_incidence(_frame("mgus2"), "time", "event").at(120)
    row = res[res["cause"] == "1"].iloc[0]
    assert row["estimate"] == pytest.approx(0.063722, abs=5e-7)
    assert row["std_err"] == pytest.approx(0.006797, abs=5e-7)
    assert row["std_err_cmprsk"] == pytest.approx(0.006799, abs=5e-7)


@pytest.mark.parametrize(("case", "data", "by"), [("mgus2", "mgus2", None), ("tied_by_group", "tied", "group"),
                                                  ("tiny", "tiny", None)])
def test_cmprsk_cuminc_estimate_and_variance(case, data, by):
    ref = REF["cuminc"][case]
    res = cumulative_incidence(_frame(data), "time", "event", by=by).at(ref["times"])
    for i, curve in enumerate(ref["curves"]):
        group, cause = curve.split(" ")
        sel = res["cause"] == cause
        if by is not None:
            sel &= res["group"] == group
        got = res[sel]
        np.testing.assert_allclose(got["estimate"], _num(ref["est"][i]), rtol=CLOSED, atol=1e-15)
        np.testing.assert_allclose(got["std_err_cmprsk"] ** 2, _num(ref["var"][i]), rtol=CLOSED, atol=1e-15)


def test_ci_can_use_the_cmprsk_variance():
    d = _frame("mgus2")
    res = cumulative_incidence(d, "time", "event", variance="cmprsk", conf_type="plain", conf_level=0.9)
    row = res.at(120).iloc[0]
    z = 1.6448536269514722
    assert row["lower"] == pytest.approx(row["estimate"] - z * row["std_err_cmprsk"], rel=CLOSED)
    assert res.options["variance"] == "cmprsk" and res.options["conf_level"] == 0.9


@pytest.mark.parametrize("case", ["mgus2_sex", "tied", "tied_rho1", "tied_strata"])
def test_gray_test_matches_cuminc(case):
    ref = REF["gray"][case]
    d = _frame("mgus2" if case == "mgus2_sex" else "tied")
    by = "sex" if case == "mgus2_sex" else "group"
    res = gray_test(d, "time", "event", by=by, rho=ref["rho"], strata="strata" if ref["strata"] else None)
    np.testing.assert_array_equal(res.table["cause"], ref["cause"])
    np.testing.assert_allclose(res.table["statistic"], ref["statistic"], rtol=CLOSED)
    np.testing.assert_allclose(res.table["p"], ref["p"], rtol=CLOSED)
    np.testing.assert_array_equal(res.table["df"], ref["df"])


def test_gray_test_single_cause():
    ref = REF["gray"]["tied"]
    res = gray_test(_frame("tied"), "time", "event", by="group", cause=2)
    assert list(res.table["cause"]) == ["2"]
    assert res.table["statistic"].iloc[0] == pytest.approx(ref["statistic"][1], rel=CLOSED)


@pytest.mark.parametrize(
    ("case", "data", "covariates"),
    [("mgus2_cause1", "mgus2", ["sex", "age", "hgb"]), ("mgus2_cause2", "mgus2", ["sex", "age", "hgb"]),
     ("tied_cause1", "tied", ["group", "x"])],
)
def test_fine_gray_matches_crr(case, data, covariates):
    ref = REF["crr"][case]
    d = _frame(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # mgus2 has missing hgb; checked below
        res = fine_gray(d, "time", "event", covariates, cause=ref["failcode"])
    assert res.n == ref["n"]
    assert list(res.coefficients["term"]) == ref["terms"]
    np.testing.assert_allclose(res.coefficients["coef"], ref["coef"], rtol=ITER)
    np.testing.assert_allclose(res.coefficients["se"], ref["se"], rtol=ITER)
    np.testing.assert_allclose(res.vcov, np.array(ref["var"]), rtol=ITER)
    assert res.loglik["fitted"] == pytest.approx(ref["loglik"], rel=ITER)
    assert res.loglik["null"] == pytest.approx(ref["loglik_null"], rel=ITER)
    assert res.converged == ref["converged"]
    # survival::finegray + weighted coxph estimates the same model with slightly different censoring weights
    # (its own tie convention), so it agrees only to about 1e-2: a sanity check, not the parity target.
    np.testing.assert_allclose(res.coefficients["coef"], ref["finegray_coxph_coef"], rtol=3e-2, atol=2e-3)


def test_fine_gray_counts_missing_covariates():
    d = _frame("mgus2")
    with pytest.warns(DataQualityWarning, match="13 row"):
        res = fine_gray(d, "time", "event", ["sex", "age", "hgb"])
    assert len(res.excluded) == 13
    assert set(res.excluded["reason"]) == {"missing covariate"}
    assert res.n == len(d) - 13
