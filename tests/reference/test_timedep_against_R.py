"""split_at_exposure / mantel_byar / simon_makuch / landmark against R survival 3.5-3.

Expected values come from timedep_reference.json, written by timedep_reference.R (never edited by hand):
tmerge splits, coxph score tests on the split data, survfit on counting-process data, a landmark subset with
survfit/survdiff, and the Mantel-Byar statistic computed by hand in R.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cart_outcomes.stats import landmark, mantel_byar, simon_makuch, split_at_exposure

REF = json.loads((Path(__file__).parent / "timedep_reference.json").read_text())
CLOSED = 1e-10
CASES = ["jasa", "notie", "toy", "conventions"]


def _data(case: str) -> pd.DataFrame:
    d = REF[case]["data"]
    return pd.DataFrame({"time": d["time"], "status": d["status"], "h": [np.nan if v is None else v for v in d["h"]]})


def _num(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


@pytest.mark.parametrize("case", CASES)
def test_split_matches_tmerge(case):
    ref = REF[case]["split"]
    got = split_at_exposure(_data(case), "time", "status", "h")
    for col in ("row", "start", "stop", "event", "exposed"):
        np.testing.assert_array_equal(got[col], ref[col], err_msg=col)


@pytest.mark.parametrize("case", CASES)
def test_mantel_byar_matches_the_hand_computation_in_R(case):
    ref = REF[case]["mantel_byar"]
    res = mantel_byar(_data(case), "time", "status", "h")
    exposed = res.table.set_index("state").loc["exposed"]
    assert exposed["observed"] == ref["observed_exposed"]
    assert exposed["expected"] == pytest.approx(ref["expected_exposed"], rel=CLOSED)
    assert res.variance == pytest.approx(ref["variance"], rel=CLOSED)
    assert res.statistic == pytest.approx(ref["statistic"], rel=CLOSED)


@pytest.mark.parametrize("case", ["notie", "toy"])
def test_without_ties_mantel_byar_equals_the_breslow_score_test(case):
    res = mantel_byar(_data(case), "time", "status", "h")
    assert res.statistic == pytest.approx(REF[case]["cox"]["breslow"]["score"], rel=CLOSED)
    # with one event per time Efron and Breslow coincide, so the Efron score test is equal too
    assert res.statistic == pytest.approx(REF[case]["cox"]["efron"]["score"], rel=CLOSED)


def test_with_ties_mantel_byar_exceeds_the_breslow_score_test():
    # jasa has tied death days: hypergeometric variance d n1 n0 (n-d) / (n^2 (n-1)) <= Breslow's d n1 n0 / n^2
    res = mantel_byar(_data("jasa"), "time", "status", "h")
    breslow = REF["jasa"]["cox"]["breslow"]["score"]
    assert res.statistic > breslow
    assert res.statistic == pytest.approx(breslow, rel=0.01)


def test_toy_example_of_clinical_definitions_13_5():
    # hand calculation (clinical-definitions 13.5): O-E = 1 - (0.5 + 2/3); V = 0.25 + 2/9; chi2 = (1/6)^2 / (17/36)
    res = mantel_byar(_data("toy"), "time", "status", "h")
    assert res.z == pytest.approx(-(1 / 6) / np.sqrt(17 / 36), rel=CLOSED)
    assert res.statistic == pytest.approx((1 / 36) / (17 / 36), rel=CLOSED)
    assert res.statistic == pytest.approx(0.0588, abs=5e-5)
    assert res.p_value == pytest.approx(0.81, abs=0.005)
    np.testing.assert_array_equal(res.times["n_risk_unexposed"], [5, 2, 1])
    np.testing.assert_array_equal(res.times["n_risk_exposed"], [0, 2, 2])


def test_immortal_time_bias_on_jasa():
    # the naive "ever transplanted" HR (~0.27) and the time-dependent HR (~1.13) point in opposite directions
    assert REF["jasa"]["naive"]["hazard_ratio"] == pytest.approx(0.27, abs=0.01)
    assert np.exp(REF["jasa"]["cox"]["efron"]["coef"]) == pytest.approx(1.13, abs=0.01)
    assert mantel_byar(_data("jasa"), "time", "status", "h").p_value > 0.5


@pytest.mark.parametrize("case", ["jasa", "notie"])
def test_simon_makuch_matches_survfit_on_counting_process_data(case):
    ref = REF[case]["simon_makuch"]
    res = simon_makuch(_data(case), "time", "status", "h", conf_type="log")
    t = res.table
    np.testing.assert_array_equal(t["state"], ref["state"])
    np.testing.assert_array_equal(t["time"], ref["time"])
    for col, rcol in (("n_risk", "n_risk"), ("n_event", "n_event"), ("n_censor", "n_censor")):
        np.testing.assert_array_equal(t[col], ref[rcol])
    np.testing.assert_allclose(t["survival"], ref["surv"], rtol=CLOSED)
    np.testing.assert_allclose(t["std_err"], np.array(ref["surv"]) * _num(ref["std_err_log"]), rtol=CLOSED)
    np.testing.assert_allclose(t["lower"], _num(ref["lower"]), rtol=CLOSED)
    np.testing.assert_allclose(t["upper"], _num(ref["upper"]), rtol=CLOSED)
    np.testing.assert_array_equal(t["displayed"], t["n_risk"] >= 3)
    # R summary(fit, times=)$n.risk: the fit's risk set at the next exit time (SimonMakuch.at_risk counts instead
    # who is in each state at the tick; see its docstring and the hand-worked unit test)
    at = res.km.at(ref["at_risk_times"])
    for state in ("unexposed", "exposed"):
        np.testing.assert_array_equal(at.loc[at["group"] == state, "n_risk"], ref["at_risk"][state])


def test_landmark_matches_the_R_subset_and_survfit():
    ref = REF["jasa"]["landmark"]
    res = landmark(_data("jasa"), "time", "status", at=ref["at"], exposure_time="h")
    np.testing.assert_array_equal(res.data["row"], ref["row"])
    np.testing.assert_allclose(res.data["time"], ref["time"], rtol=CLOSED)
    np.testing.assert_array_equal(res.data["event"], ref["status"])
    np.testing.assert_array_equal(res.data["group"], ref["group"])
    assert res.n_excluded == {
        "event at or before the landmark": ref["n_excluded_event"],
        "censored at or before the landmark": ref["n_excluded_censored"],
    }
    km = res.km.table
    np.testing.assert_array_equal(km["group"], ref["km_strata"])
    np.testing.assert_allclose(km["time"], ref["km_time"], rtol=CLOSED)
    np.testing.assert_allclose(km["survival"], ref["km_surv"], rtol=CLOSED)
    np.testing.assert_array_equal(km["n_risk"], ref["km_n_risk"])
    assert res.logrank.statistic == pytest.approx(ref["logrank_chisq"], rel=CLOSED)
    assert res.cox.coefficients["coef"].iloc[0] == pytest.approx(ref["cox_coef"], rel=1e-6)
