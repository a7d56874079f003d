"""ASTCT ICANS grading (Lee DW et al., Biol Blood Marrow Transplant 2019;25(4):625-638: ICE, ICANS adult and CAPD
tables). Expected grades: the guideline's table and worked example, and clinical-definitions.md 13.2."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tox_builders import icans_row

from cart_outcomes.errors import DataQualityWarning, ValidationFailed
from cart_outcomes.toxicity import grade_icans


def grade_one(**kw):
    return grade_icans(pd.DataFrame([icans_row(**kw)])).observations.iloc[0]


VECTORS_13_2 = [
    ("13.2-1 ICE 10, awake: no ICANS", dict(ice_score=10), 0),
    ("13.2-2 ICE 8 (7-9 band), awakens spontaneously -> 1", dict(ice_score=8), 1),
    ("13.2-3 ICE 7, awakens to voice: consciousness drives -> 2", dict(ice_score=7, consciousness="awakens_to_voice"),
     2),
    ("13.2-4 worked example ICE 3 + rapidly resolving generalized seizure -> 3",
     dict(ice_score=3, seizure="rapidly_resolving"), 3),
    ("13.2-5 ICE 0 awake with global aphasia -> 3", dict(ice_score=0), 3),
    ("13.2-6 ICE 0 unarousable -> 4", dict(ice_score=0, consciousness="unarousable"), 4),
    ("13.2-7 ICE 9 + hemiparesis (deep focal motor weakness) -> 4", dict(ice_score=9, motor="deep_focal_weakness"), 4),
    ("13.2-8 ICE 9 + focal edema on MRI -> 3", dict(ice_score=9, cerebral_edema="focal"), 3),
    ("13.2-9 ICE 9 + intracranial haemorrhage with edema: haemorrhage excluded -> 1",
     dict(ice_score=9, cerebral_edema="focal", excluded_findings="intracranial_hemorrhage"), 1),
    ("13.2-10 ICE 10 + tremor: tremor excluded -> 0", dict(ice_score=10, excluded_findings="tremor"), 0),
    ("13.2-11 child 8 y, CAPD 10 (>= 9), awakens spontaneously -> 3",
     dict(age_years=8, ice_score=None, capd_score=10), 3),
    ("13.2-12 child 8 y, CAPD 5, awakens to voice -> 2",
     dict(age_years=8, ice_score=None, capd_score=5, consciousness="awakens_to_voice"), 2),
]


@pytest.mark.parametrize(("kw", "expected"), [v[1:] for v in VECTORS_13_2], ids=[v[0] for v in VECTORS_13_2])
def test_clinical_definitions_vectors_13_2(kw, expected):
    assert grade_one(**kw)["grade"] == expected


@pytest.mark.parametrize(("ice", "grade"), [(10, 0), (9, 1), (7, 1), (6, 2), (3, 2), (2, 3), (1, 3), (0, 3)])
def test_ice_bands_7_3_0(ice, grade):
    # ASTCT ICE: 7-9 grade 1, 3-6 grade 2, 0-2 grade 3
    row = grade_one(ice_score=ice)
    assert row["grade"] == grade and row["encephalopathy_grade"] == grade and row["tool"] == "ICE"


@pytest.mark.parametrize(("capd", "grade"), [(0, 0), (1, 1), (8, 1), (9, 3), (32, 3)])
def test_capd_threshold_9(capd, grade):
    # ASTCT pediatric: CAPD 1-8 grade 1-2 (consciousness decides), >= 9 grade 3
    assert grade_one(age_years=6, ice_score=None, capd_score=capd)["grade"] == grade


@pytest.mark.parametrize(("age", "tool"), [(11.9, "CAPD"), (12, "ICE"), (17, "ICE")])
def test_ice_from_age_12(age, tool):
    # ASTCT: ICE for patients >= 12 years, CAPD below
    assert grade_one(age_years=age, ice_score=8, capd_score=10)["tool"] == tool


def test_developmental_delay_uses_capd():
    row = grade_one(age_years=20, ice_score=None, capd_score=10, developmental_delay=True)
    assert row["tool"] == "CAPD" and row["grade"] == 3


@pytest.mark.parametrize(("loc", "grade"), [("awake", 0), ("awakens_to_voice", 2), ("awakens_to_touch", 3),
                                            ("unarousable", 4)])
def test_consciousness_domain(loc, grade):
    # ASTCT depressed level of consciousness: voice 2, tactile 3, unarousable 4
    assert grade_one(consciousness=loc, ice_score=10)["consciousness_grade"] == grade


def test_sedation_attributed_depressed_consciousness_does_not_count():
    # ASTCT footnote: depressed consciousness attributable to another cause (sedating drugs) is not ICANS
    assert grade_one(consciousness="awakens_to_touch", ice_score=10, loc_other_cause=True)["grade"] == 0


@pytest.mark.parametrize(("seizure", "grade"), [("rapidly_resolving", 3), ("nonconvulsive_on_eeg", 3),
                                                ("prolonged_or_repetitive", 4)])
def test_seizure_domain(seizure, grade):
    # ASTCT seizure: rapidly resolving or EEG-only resolving with intervention 3; prolonged/repetitive 4
    row = grade_one(seizure=seizure)
    assert row["grade"] == grade and row["domain"] == "seizure" and row["rule"] == "icans.seizure"


def test_diffuse_edema_is_grade_4():
    assert grade_one(cerebral_edema="diffuse")["grade"] == 4


@pytest.mark.parametrize("finding", ["tremor", "myoclonus", "headache", "tremor; myoclonus"])
def test_excluded_findings_never_raise_the_grade(finding):
    # ASTCT: tremor and myoclonus are graded with CTCAE and do not affect ICANS
    assert grade_one(ice_score=8, excluded_findings=finding)["grade"] == 1


def test_death_is_grade_5():
    row = grade_one(ice_score=0, consciousness="unarousable", icans_death=True)
    assert row["grade"] == 5 and row["rule"] == "icans.g5.death"


def test_missing_ice_in_awake_adult_warns_and_does_not_raise_grade():
    with pytest.warns(DataQualityWarning, match="ICE score missing"):
        assert grade_one(ice_score=None)["grade"] == 0


def test_patient_summary():
    rows = [icans_row(day=3, ice_score=10), icans_row(day=5, ice_score=6), icans_row(day=6, ice_score=2),
            icans_row(day=8, ice_score=9), icans_row(day=9, ice_score=10), icans_row(patient_id="P2", day=4)]
    t = grade_icans(pd.DataFrame(rows)).table.set_index("patient_id")
    assert t.loc["P1", "max_grade"] == 3 and t.loc["P1", "max_grade_domain"] == "encephalopathy"
    assert t.loc["P1", "onset_day"] == 5 and t.loc["P1", "resolution_day"] == 9 and t.loc["P1", "duration_days"] == 4
    assert t.loc["P2", "max_grade"] == 0 and np.isnan(t.loc["P2", "onset_day"])


def test_located_errors():
    rows = [icans_row(ice_score=11), icans_row(patient_id="P2", consciousness="drowsy"),
            icans_row(patient_id="P3", capd_score=40, age_years=5), icans_row(patient_id="P4", day=-3)]
    with pytest.raises(ValidationFailed) as exc:
        grade_icans(pd.DataFrame(rows))
    probs = {(p.rule, p.column): p for p in exc.value.problems}
    assert probs["OUT_OF_RANGE", "ice_score"].row == 2 and probs["OUT_OF_RANGE", "ice_score"].value == "11"
    assert probs["VOCABULARY", "consciousness"].patient_id == "P2"
    assert probs["OUT_OF_RANGE", "capd_score"].patient_id == "P3"
    assert probs["BEFORE_INFUSION", "day"].patient_id == "P4"
