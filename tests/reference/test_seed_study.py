"""The CD7 CAR-T seed cohort (examples/cd7-tall) against R survival (seed_study.json) and the published abstract.

R values come from tests/reference/seed_study.R (regenerate: ``Rscript tests/reference/seed_study.R``); the abstract's
numbers (Xiao et al., Hematol Oncol 2025, doi:10.1002/hon.70081) are typed in from the publication.
"""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cart_outcomes.endpoints import derive_followup, derive_os, derive_pfs, response_rates

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "cd7-tall"
R = json.loads((Path(__file__).parent / "seed_study.json").read_text())
CLOSED_FORM = 1e-10


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return pd.read_csv(EXAMPLE / "patients.csv")


def test_cohort_is_the_output_of_the_construction_script(cohort):
    spec = importlib.util.spec_from_file_location("construct_seed_cohort", EXAMPLE / "construct_seed_cohort.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file executes
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    rebuilt = module.patients_frame()
    for column in cohort.columns:
        np.testing.assert_array_equal(
            rebuilt[column].astype(object).where(rebuilt[column].notna(), None).to_numpy(),
            cohort[column].astype(object).where(cohort[column].notna(), None).to_numpy(),
            err_msg=column,
        )


@pytest.mark.parametrize(("ep", "derive"), [("os", derive_os), ("pfs", derive_pfs)])
def test_endpoint_derivation_matches_r(cohort, ep, derive):
    """Default OS/PFS derivation gives the same times and events as the independent R derivation."""
    out = derive(cohort)
    r = R[f"{ep}_derived"]
    assert out["patient_id"].tolist() == r["patient_id"]
    np.testing.assert_array_equal(out[f"{ep}_time_days"], np.asarray(r["time"], dtype=float))
    np.testing.assert_array_equal(out[f"{ep}_event"], np.asarray(r["event"]) == 1)


def test_abstract_counts(cohort):
    assert len(cohort) == R["n"] == 12
    assert R["car_t_source"] == {"autologous": 11, "allogeneic": 1}
    assert (cohort["car_t_source"] == "autologous").sum() == 11
    assert set(cohort["diagnosis"]) == {"T-ALL", "T-LBL"}
    assert R["crs"] == {"any": 12, "grade_1_2": 8, "grade_3": 4}
    assert R["icans_any"] == 1
    assert (cohort["crs_grading_system"] == "ASTCT2019").all()


def test_orr_day28(cohort):
    res = response_rates(cohort)
    orr = res.table.set_index("measure").loc["overall_response"]
    assert (orr.responders, orr.n) == (R["orr_day28"]["responders"], R["orr_day28"]["n"]) == (8, 12)
    assert round(100 * orr.estimate) == 67
    np.testing.assert_allclose([orr.lower, orr.upper], R["orr_day28"]["exact_ci"], rtol=CLOSED_FORM)


def test_followup_plain_median_and_range(cohort):
    fu = derive_followup(cohort)["followup_time_days"]
    assert (fu.median(), fu.min(), fu.max()) == (134, 14, 925)
    assert (R["followup"]["plain_median"], R["followup"]["min"], R["followup"]["max"]) == (134, 14, 925)
    # the 925-day patient is alive, the 14-day patient died
    out = derive_followup(cohort).set_index("followup_time_days")
    assert out.loc[925, "followup_source"] == "last_followup"
    assert out.loc[14, "followup_source"] == "death"


def test_medians(cohort):
    assert R["os"]["median"] == 134
    assert R["pfs"]["median"] == 81


def test_responders_by_hsct(cohort):
    responders = cohort[cohort["day28_response"].isin(["CR", "CRi", "CRh", "PR"])]
    assert responders["hsct_day"].notna().sum() == R["responders_hsct"] == 5
    assert responders["hsct_day"].dropna().between(40, 80).all()
    for ep, expected_rates, expected_p in (("os", [1 / 3, 0.6], 0.073), ("pfs", [0.0, 0.6], 0.022)):
        naive = R[f"naive_{ep}_by_hsct"]
        assert naive["groups"] == ["0", "1"]
        assert naive["n"] == [3, 5]
        np.testing.assert_allclose(naive["survival"], expected_rates, atol=1e-12)
        assert round(naive["logrank_p"], 3) == expected_p
    assert round(100 * R["naive_os_by_hsct"]["survival"][0], 1) == 33.3


def test_nothing_happens_near_six_months(cohort):
    """6 months = 182.6 days; no event or censoring on days 182-183, so 30.4375-day months give the same rates."""
    days = cohort[["progression_day", "death_day", "last_followup_day"]].to_numpy(dtype=float).ravel()
    assert not np.isin(days, [182, 183]).any()


def test_crs_observations_grade_to_the_cohort_grades(cohort):
    """Worst ASTCT 2019 category per patient, applied by hand to the observation file (clinical-definitions §1.2):
    fever and one vasopressor or high-flow oxygen = 3; fluid-responsive hypotension or low-flow oxygen = 2; fever
    alone = 1."""
    obs = pd.read_csv(EXAMPLE / "crs_observations.csv")
    grade3 = (obs["vasopressors"] == 1) | obs["oxygen_device"].isin(["high_flow_nasal_cannula", "facemask"])
    grade2 = obs["hypotension"] | obs["oxygen_device"].isin(["nasal_cannula", "blow_by"])
    fever = obs["temperature_c"] >= 38.0
    day_grade = np.select([grade3, grade2, fever], [3, 2, 1], default=0)
    worst = pd.Series(day_grade).groupby(obs["patient_id"]).max()
    expected = cohort.set_index("patient_id")["crs_grade"]
    pd.testing.assert_series_equal(worst.sort_index(), expected.sort_index(), check_names=False)
    onset = obs[fever].groupby("patient_id")["day"].min()
    pd.testing.assert_series_equal(
        onset.sort_index(), cohort.set_index("patient_id")["crs_onset_day"].sort_index(), check_names=False
    )
    assert (obs.loc[obs["vasopressors"] > 0, "hypotension"]).all()


def test_neuro_assessments_give_one_icans_case(cohort):
    """ICE 3-6 with normal consciousness is ASTCT grade 2, 7-9 grade 1, 10 no ICANS (clinical-definitions §2.2)."""
    neuro = pd.read_csv(EXAMPLE / "neuro_assessments.csv")
    worst_ice = neuro.groupby("patient_id")["ice_score"].min()
    grade = worst_ice.map(lambda s: 0 if s == 10 else 1 if s >= 7 else 2 if s >= 3 else 3)
    expected = cohort.set_index("patient_id")["icans_grade"]
    pd.testing.assert_series_equal(grade.sort_index(), expected.sort_index(), check_names=False)
    assert (neuro["consciousness"] == "awake").all()
    assert (neuro["age_years"] >= 12).all()  # ICE, not CAPD, applies


def test_corrected_analyses_are_recorded(cohort):
    """What the bias-corrected analyses give on this reconstruction (values documented in the example README)."""
    assert R["timedep_pfs"]["breslow"]["score_p"] == pytest.approx(R["timedep_pfs"]["efron"]["score_p"])
    assert R["timedep_pfs"]["efron"]["score_p"] > 0.05 > R["naive_pfs_by_hsct"]["logrank_p"]
    assert R["landmark"]["pfs_90"]["logrank_p"] > 0.2
    responders = cohort[cohort["day28_response"].isin(["CR", "CRi", "CRh", "PR"])]
    assert R["immortal_days_credited"] == responders["hsct_day"].sum()


def mantel_byar_chisq(time, event, exposure_day):
    """Mantel-Byar statistic as written in clinical-definitions §8.4 (patients move to state 1 after exposure)."""
    time, event = np.asarray(time, dtype=float), np.asarray(event, dtype=bool)
    exposed_after = np.where(np.isnan(exposure_day), np.inf, exposure_day)
    o_minus_e = var = 0.0
    for t in np.unique(time[event]):
        at_risk = time >= t
        n1 = (at_risk & (exposed_after < t)).sum()
        n = at_risk.sum()
        d = (event & (time == t)).sum()
        d1 = (event & (time == t) & (exposed_after < t)).sum()
        o_minus_e += d1 - d * n1 / n
        var += d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1) if n > 1 else 0.0
    return o_minus_e**2 / var


@pytest.mark.parametrize("ep", ["os", "pfs"])
def test_mantel_byar_by_hand_equals_r_time_dependent_score_test(cohort, ep):
    derived = (derive_os if ep == "os" else derive_pfs)(cohort)
    responders = derived[derived["day28_response"].isin(["CR", "CRi", "CRh", "PR"])]
    chisq = mantel_byar_chisq(
        responders[f"{ep}_time_days"], responders[f"{ep}_event"], responders["hsct_day"].to_numpy(dtype=float)
    )
    assert chisq == pytest.approx(R[f"timedep_{ep}"]["breslow"]["score_chisq"], rel=CLOSED_FORM)
    naive = R[f"naive_{ep}_by_hsct"]["logrank_chisq"]
    assert chisq < naive  # crediting pre-HSCT time to the HSCT arm inflated the naive statistic


def test_end_to_end_with_the_km_estimators(cohort):
    """Derived endpoints fed to cart_outcomes.stats give R's medians, 6-month rates and follow-up."""
    from cart_outcomes.stats import kaplan_meier, reverse_km_followup

    derived = derive_followup(derive_pfs(derive_os(cohort)))
    for ep in ("os", "pfs"):
        median = kaplan_meier(derived, f"{ep}_time_days", f"{ep}_event", conf_type="log").quantile([0.5])
        assert median["time"].iloc[0] == R[ep]["median"]
        assert median["lower"].iloc[0] == R[ep]["median_lower"]
    followup = reverse_km_followup(derived, "followup_time_days", "followup_event").table.iloc[0]
    assert followup["median_followup"] == R["followup"]["reverse_km_median"]
    assert (followup["median_observed"], followup["min_observed"], followup["max_observed"]) == (134, 14, 925)
    responders = derived[derived["day28_response"].isin(["CR", "CRi", "CRh", "PR"])]
    responders = responders.assign(hsct=responders["hsct_day"].notna().astype(int))
    for ep in ("os", "pfs"):
        at = kaplan_meier(responders, f"{ep}_time_days", f"{ep}_event", by="hsct").at([R["six_months_days"]])
        np.testing.assert_allclose(at["survival"], R[f"naive_{ep}_by_hsct"]["survival"], rtol=CLOSED_FORM)
