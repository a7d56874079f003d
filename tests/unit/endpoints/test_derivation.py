"""Derivation rules that complete a sheet before endpoints (clinical-definitions section 7.1, Kanate 2020).

Hand-worked 5-patient sheet without best response, assessment dates or a relapse date (days after infusion):

| id | day28 | death | cause            | lfu | expected                                                         |
|----|-------|-------|------------------|-----|------------------------------------------------------------------|
| R1 | NR    | 60    | Progression      |     | lfu 60 (death); best NR; fails day 28 in PFS/EFS/CIR; never NRM  |
| R2 | CR    | 200   | sepsis           | 200 | best CR; NRM at 200                                              |
| R3 | CR    |       |                  | 300 | censored at 300 everywhere                                       |
| R4 | PD    | 20    | leukaemia        | 20  | assessment dated at death (20 < 28); relapse at 20               |
| R5 | CR    | 150   | GVHD             | 150 | GVHD is not the disease: NRM at 150                              |
"""

import numpy as np
import pandas as pd
import pytest

from cart_outcomes.endpoints import derive_cir_nrm, derive_efs, derive_pfs
from cart_outcomes.endpoints.derivation import apply_derivation_rules, is_disease_death

NA = pd.NA


@pytest.fixture
def sheet() -> pd.DataFrame:
    return pd.DataFrame({
        "patient_id": ["R1", "R2", "R3", "R4", "R5"],
        "day28_response": ["NR", "CR", "CR", "PD", "CR"],
        "death_day": pd.array([60, 200, NA, 20, 150], dtype="Int64"),
        "death_cause": ["Progression", "sepsis", None, "leukaemia", "GVHD"],
        "last_followup_day": pd.array([NA, 200, 300, 20, 150], dtype="Int64"),
    })


def test_rules_fill_blanks_and_name_the_patients(sheet):
    before = sheet.copy()
    derived = apply_derivation_rules(sheet)
    pd.testing.assert_frame_equal(sheet, before)  # input never mutated
    p = derived.patients
    assert p["last_followup_day"].tolist() == [60, 200, 300, 20, 150]
    assert p["best_response"].tolist() == ["NR", "CR", "CR", "PD", "CR"]
    assert p["response_assessment_day"].tolist() == [28, 28, 28, 20, 28]
    assert np.isnan(p["progression_day"].to_numpy(dtype=float)[[1, 2, 4]]).all()
    assert p["progression_day"].to_numpy(dtype=float)[[0, 3]].tolist() == [60, 20]
    rules = {r.code: r.patient_ids for r in derived.rules}
    assert rules == {
        "FOLLOWUP_AT_DEATH": ("R1",),
        "BEST_RESPONSE_FROM_DAY28": ("R1", "R2", "R3", "R4", "R5"),
        "ASSESSMENT_AT_NOMINAL_DAY": ("R1", "R2", "R3", "R4", "R5"),
        "DISEASE_DEATH_AS_PROGRESSION": ("R1", "R4"),
    }
    warning = derived.rules[-1].to_dict()
    assert warning["rule"] == "DISEASE_DEATH_AS_PROGRESSION" and "R1, R4" in warning["message"]


def test_refractory_death_is_never_non_relapse_mortality_and_endpoints_agree(sheet):
    p = apply_derivation_rules(sheet).patients
    pfs, efs, cir = derive_pfs(p), derive_efs(p), derive_cir_nrm(p)
    # R1, R4 fail at the assessment in all three; R2 and R5 are the only non-relapse deaths.
    assert cir["cir_status"].tolist() == [1, 2, 0, 1, 2]
    assert cir["cir_time_days"].tolist() == [28, 200, 300, 20, 150]
    assert pfs["pfs_time_days"].tolist() == cir["cir_time_days"].tolist()
    assert pfs["pfs_source"].tolist()[:1] == ["no_response"]
    assert efs["efs_time_days"].tolist() == [28, 200, 300, 20, 150]
    assert efs["efs_source"].tolist()[0] == "induction_failure"


def test_given_values_are_never_replaced(sheet):
    sheet = sheet.assign(best_response=["CR", None, None, None, None],
                         progression_day=pd.array([40, NA, NA, NA, NA], dtype="Int64"))
    p = apply_derivation_rules(sheet).patients
    assert p["best_response"].iat[0] == "CR" and p["progression_day"].iat[0] == 40


def test_nothing_to_derive_records_no_rule():
    full = pd.DataFrame({"patient_id": ["A"], "day28_response": ["CR"], "best_response": ["CR"],
                         "response_assessment_day": [28], "last_followup_day": [90]})
    assert apply_derivation_rules(full).rules == ()


@pytest.mark.parametrize(("cause", "disease"), [
    ("Progression", True), ("PD", True), ("relapsed T-ALL", True), ("Disease", True), ("refractory disease", True),
    ("Lymphoma", True), ("sepsis", False), ("GVHD", False), ("graft-versus-host disease", False),
    ("veno-occlusive disease", False), ("CRS", False), (None, False), (float("nan"), False),
])
def test_disease_death_words(cause, disease):
    assert is_disease_death(cause) is disease
