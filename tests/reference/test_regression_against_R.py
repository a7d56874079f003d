"""The plan's regression and rmst sections against R (coxph, cox.zph, cmprsk::crr, survRM2::rmst2's formulas) on
the 150-patient example cohort. Values in regression_reference.json, written by regression_reference.R.

The plan runs in months (``statistics.time_unit``): hazard ratios do not depend on the time unit, RMST records are
R's days divided by 30.4375. Every hazard ratio, CI limit, p-value and test statistic is compared at 1e-6 relative
(iterative fits); n and events exactly (they also check that R and cart-outcomes derive the endpoints alike).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cart_outcomes.plan.model import parse_plan
from cart_outcomes.plan.run import run_plan
from cart_outcomes.units import DAYS_PER_MONTH

HERE = Path(__file__).parent
REF = json.loads((HERE / "regression_reference.json").read_text())
SHEET = HERE / "arms_cohort" / "patients.csv"
RTOL = 1e-6
PLAN = f"""
version: 1
data: {{source: {SHEET.as_posix()}}}
statistics: {{time_unit: months}}
analyses: [{{endpoint: os}}]
regression:
  - {{endpoint: os, covariates: [age_years, sex, diagnosis, ldh], reference: {{diagnosis: LBCL}}}}
  - {{endpoint: cir, covariates: [age_years, diagnosis], reference: {{diagnosis: LBCL}}}}
  - {{endpoint: nrm, covariates: [age_years, diagnosis], reference: {{diagnosis: LBCL}}, univariable: false}}
  - {{endpoint: cir, model: cox, covariates: [age_years, diagnosis], reference: {{diagnosis: LBCL}},
     univariable: false}}
  - {{endpoint: pfs, covariates: [ecog, car_t_source], categorical: [ecog], strata: [sex], ties: breslow,
     robust: true}}
rmst:
  - {{endpoint: os, by: car_t_source, tau: 12, reference: allogeneic}}
  - {{endpoint: pfs, by: sex}}
"""


@pytest.fixture(scope="module")
def results():
    return run_plan(parse_plan(PLAN)).results


def fitted_models(results):
    """Every fitted model as ``<id>/<kind>[/<covariate>]`` -> its record."""
    out = {}
    for rec in results["regression"]:
        for fit in rec.get("univariable") or []:
            out[f"{rec['id']}/univariable/{fit['covariates'][0]}"] = fit
        if rec.get("multivariable"):
            out[f"{rec['id']}/multivariable"] = rec["multivariable"]
    return out


def test_every_reference_model_is_fitted(results):
    assert set(fitted_models(results)) == set(REF["models"])


@pytest.mark.parametrize("key", sorted(REF["models"]))
def test_model_against_R(results, key):
    assert_model_matches_R(fitted_models(results)[key], REF["models"][key], key)


def assert_model_matches_R(fit: dict, ref: dict, key: str) -> None:
    """n, events, every term's estimate, HR, SE, p and CI, the model tests, the joint test of a 3-level factor and
    cox.zph of one fitted model (a results.json record) against its R values."""
    assert (fit["n"], fit["events"]) == (ref["n"], ref["events"])
    terms = [t for t in fit["terms"] if not t["is_reference"]]
    assert [t["term"] for t in terms] == ref["term"]
    for col in ("coef", "hazard_ratio", "se", "p", "lower", "upper"):
        np.testing.assert_allclose([t[col] for t in terms], ref[col], rtol=RTOL, err_msg=f"{key} {col}")
    tests = {t["test"]: t for t in fit["tests"]}
    assert set(tests) == set(ref["tests"])
    for name, want in ref["tests"].items():
        assert tests[name]["df"] == want["df"]
        np.testing.assert_allclose([tests[name]["statistic"], tests[name]["p"]], [want["statistic"], want["p"]],
                                   rtol=RTOL, err_msg=f"{key} {name}")
    if "term_test" in ref:
        (joint,) = fit["term_tests"]
        want = ref["term_test"]
        assert (joint["variable"], joint["df"]) == (want["variable"], want["df"])
        np.testing.assert_allclose([joint["statistic"], joint["p"]], [want["statistic"], want["p"]], rtol=RTOL)
    else:
        assert fit["term_tests"] == []
    if ref["model"] == "cox":
        zph = fit["ph_test"]
        assert [z["term"] for z in zph] == ref["zph"]["term"]
        assert [z["df"] for z in zph] == ref["zph"]["df"]
        for col in ("statistic", "p"):
            np.testing.assert_allclose([z[col] for z in zph], ref["zph"][col], rtol=RTOL, err_msg=f"{key} zph {col}")
    else:
        assert "ph_test" not in fit


@pytest.mark.parametrize("key", sorted(REF["rmst"]))
def test_rmst_against_R(results, key):
    (rec,) = [r for r in results["rmst"] if r["id"] == key]
    ref = REF["rmst"][key]
    np.testing.assert_allclose(rec["tau"], ref["tau"] / DAYS_PER_MONTH, rtol=1e-12)
    arms = {0: rec["arms"][0], 1: rec["arms"][1]}  # reference (arm 0) first
    for arm in (0, 1):
        want = np.asarray(ref[f"arm{arm}"]) / DAYS_PER_MONTH
        got = [arms[arm][k] for k in ("rmst", "std_err", "lower", "upper", "rmtl", "std_err", "rmtl_lower",
                                      "rmtl_upper")]
        np.testing.assert_allclose(got, want, rtol=1e-10)
    contrasts = np.asarray(ref["contrasts"], dtype=float)
    contrasts[0, :3] /= DAYS_PER_MONTH  # the difference is a time; ratios and p are unit-free
    got = [[c["estimate"], c["lower"], c["upper"], c["p_value"]] for c in rec["contrasts"]]
    np.testing.assert_allclose(got, contrasts, rtol=1e-10)
    if "n" in ref:
        assert rec["n"] == ref["n"]
