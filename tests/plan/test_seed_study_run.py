"""Every number of the seed study's abstract (Xiao et al., Hematol Oncol 2025), read back from results.json.

The expected values are the abstract's (shared/reference/seed-study.md), not outputs of this code.
"""

import pytest
from tests.reference.test_regression_against_R import REF, assert_model_matches_R, fitted_models

REGRESSION_REF = REF["demo"]


def _survival(res, endpoint):
    return next(s for s in res["survival"] if s["endpoint"] == endpoint and s["by"] is None)


def _comparison(res, endpoint):
    return next(c for c in res["comparisons"] if c["comparison"] == "responders_by_hsct" and c["endpoint"] == endpoint)


def _rate(group_record, time=182.6):
    return next(r for r in group_record["rates"] if r["time"] == time)


def test_population_and_product(demo_run):
    _, res = demo_run
    assert res["input"]["n_patients"] == 12
    assert res["cohort"]["car_t_source"] == {"allogeneic": 1, "autologous": 11}


def test_day28_overall_response_8_of_12(demo_run):
    _, res = demo_run
    orr = next(r for r in res["response"] if r["measure"] == "overall_response")
    assert (orr["responders"], orr["n"]) == (8, 12)
    assert round(100 * orr["estimate"], 1) == 66.7
    assert orr["method"] == "clopper-pearson" and orr["lower"] < orr["estimate"] < orr["upper"]


def test_medians_and_followup(demo_run):
    _, res = demo_run
    assert _survival(res, "os")["groups"][0]["median"] == 134
    assert _survival(res, "pfs")["groups"][0]["median"] == 81
    fu = res["followup"]
    assert (fu["median_observed"], fu["min_observed"], fu["max_observed"]) == (134, 14, 925)
    assert "reverse Kaplan-Meier" in fu["definition"]


@pytest.mark.parametrize(
    ("endpoint", "hsct", "no_hsct", "p"),
    [("os", 60.0, 33.3, 0.073), ("pfs", 60.0, 0.0, 0.022)],
)
def test_responders_by_hsct_naive_analysis(demo_run, endpoint, hsct, no_hsct, p):
    _, res = demo_run
    comp = _comparison(res, endpoint)
    groups = {g["group"]: g for g in comp["naive"]["groups"]}
    assert {g: groups[g]["n"] for g in groups} == {"HSCT": 5, "no HSCT": 3}
    assert round(100 * _rate(groups["HSCT"])["survival"], 1) == hsct
    assert round(100 * _rate(groups["no HSCT"])["survival"], 1) == no_hsct
    assert round(comp["naive"]["logrank"]["p"], 3) == p


@pytest.mark.parametrize("endpoint", ["os", "pfs"])
def test_corrected_analyses_accompany_the_naive_one(demo_run, endpoint):
    _, res = demo_run
    comp = _comparison(res, endpoint)
    assert "immortal" in comp["immortal_time"]["warning"]
    assert comp["immortal_time"]["person_days_credited"] == 41 + 48 + 58 + 71 + 74  # HSCT days of the 5 patients
    naive_p = comp["naive"]["logrank"]["p"]
    corrected = [comp["mantel_byar"]["p"], comp["time_dependent_cox"]["coefficients"][0]["p"]]
    corrected += [lm["logrank"]["p"] for lm in comp["landmarks"] if lm["logrank"]]
    assert len(corrected) == 4 and all(p > naive_p for p in corrected)


def test_crs_and_icans(demo_run):
    _, res = demo_run
    crs = {r["category"]: r["n"] for r in res["toxicity"]["crs"]["distribution"]}
    assert crs["any_grade"] == 12
    assert crs["grade_1"] + crs["grade_2"] == 8
    assert crs["grade_3"] == 4 and crs["grade_4"] == crs["grade_5"] == 0
    icans = {r["category"]: r["n"] for r in res["toxicity"]["icans"]["distribution"]}
    assert icans["any_grade"] == 1


@pytest.mark.parametrize("key", sorted(REGRESSION_REF))
def test_univariable_cox_models_equal_R(demo_run, key):
    """The demo plan's univariable Cox models of OS (12 patients, 9 deaths) against R coxph and cox.zph
    (tests/reference/regression_reference.R); each warns of fewer than 10 events per coefficient."""
    _, res = demo_run
    fit = fitted_models(res)[key]
    assert_model_matches_R(fit, REGRESSION_REF[key], key)
    assert any("9 events for 1 coefficient(s)" in w for w in fit["warnings"])
