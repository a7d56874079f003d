"""ASTCT CRS grading (Lee DW et al., Biol Blood Marrow Transplant 2019;25(4):625-638, Table 1 and footnotes).

Expected grades are the guideline's own rules / worked example and the vectors of clinical-definitions.md 13.1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tox_builders import crs_row

from cart_outcomes.errors import DataQualityWarning, ValidationFailed
from cart_outcomes.toxicity import grade_crs


def grade_one(**kw):
    return int(grade_crs(pd.DataFrame([crs_row(**kw)])).observations["grade"].iloc[0])


# ---- clinical-definitions.md 13.1, one test per vector, each naming the ASTCT rule it exercises ----------------
VECTORS_13_1 = [
    # (id, rows, expected grade of the LAST row, rule)
    ("13.1-1 fever >= 38.0 C is grade 1", [crs_row(temperature_c=38.0)], 1),
    ("13.1-2 fever required at onset: 37.9 C + hypotension on fluids is no CRS",
     [crs_row(temperature_c=37.9, hypotension=True)], 0),
    ("13.1-3 worked example: 39.5 C + one vasopressor + low-flow NC 2 L/min -> more severe = 3",
     [crs_row(temperature_c=39.5, hypotension=True, vasopressors=1, oxygen_device="nasal_cannula",
              oxygen_flow_l_min=2)], 3),
    ("13.1-4 NC 6 L/min is low-flow (<= 6) -> 2",
     [crs_row(temperature_c=38.5, oxygen_device="nasal_cannula", oxygen_flow_l_min=6)], 2),
    ("13.1-5 NC 6.5 L/min is high-flow (> 6) -> 3",
     [crs_row(temperature_c=38.5, oxygen_device="nasal_cannula", oxygen_flow_l_min=6.5)], 3),
    ("13.1-6 norepinephrine + vasopressin: vasopressin not counted -> 3",
     [crs_row(temperature_c=38.5, hypotension=True, vasopressors=1, vasopressin=True)], 3),
    ("13.1-7 norepinephrine + epinephrine: >= 2 non-vasopressin pressors -> 4",
     [crs_row(temperature_c=38.5, hypotension=True, vasopressors=2)], 4),
    ("13.1-8 after tocilizumab 36.8 C + BiPAP: fever not required after anti-cytokine therapy -> 4",
     [crs_row(day=1, temperature_c=39.0), crs_row(day=2, temperature_c=36.8, oxygen_device="bipap",
                                                  anticytokine_or_antipyretic=True)], 4),
    ("13.1-9 after tocilizumab 36.8 C, nothing else: 0 at that time point",
     [crs_row(day=1, temperature_c=39.0), crs_row(day=2, temperature_c=36.8, anticytokine_or_antipyretic=True)], 0),
    ("13.1-10 organ toxicity (grade 3 creatinine) does not change the ASTCT grade -> 1",
     [crs_row(temperature_c=38.5, creatinine_ctcae_grade=3)], 1),
    ("13.1-11 facemask is a grade-3 device regardless of flow (5 L/min) -> 3",
     [crs_row(temperature_c=38.5, oxygen_device="facemask", oxygen_flow_l_min=5)], 3),
]


@pytest.mark.parametrize(("rows", "expected"), [v[1:] for v in VECTORS_13_1], ids=[v[0] for v in VECTORS_13_1])
def test_clinical_definitions_vectors_13_1(rows, expected):
    obs = grade_crs(pd.DataFrame(rows)).observations
    assert obs["grade"].iloc[-1] == expected


def test_vector_9_patient_maximum_unchanged():
    # 13.1-9: the grade-0 time point after tocilizumab leaves the patient maximum (1) unchanged; CRS resolves there
    rows = [crs_row(day=1, temperature_c=39.0), crs_row(day=2, temperature_c=36.8, anticytokine_or_antipyretic=True)]
    res = grade_crs(pd.DataFrame(rows))
    t = res.table.iloc[0]
    assert t["max_grade"] == 1 and t["onset_day"] == 1 and t["resolution_day"] == 2 and t["duration_days"] == 1
    assert res.observations["rule"].tolist() == ["crs.g1.fever", "crs.g0.masked_no_organ_support"]


# ---- boundaries of each rule -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("temp", "grade"), [(38.0, 1), (37.99, 0), (37.9, 0), (41.0, 1)])
def test_fever_threshold_is_38_0_inclusive(temp, grade):
    # ASTCT footnote: fever = temperature >= 38 C
    assert grade_one(temperature_c=temp) == grade


@pytest.mark.parametrize(("flow", "grade"), [(0.5, 2), (6.0, 2), (6.01, 3), (7.0, 3), (15.0, 3)])
def test_nasal_cannula_low_flow_limit_6_l_min(flow, grade):
    # ASTCT: low-flow nasal cannula <= 6 L/min (grade 2); high-flow > 6 L/min (grade 3)
    assert grade_one(temperature_c=38.5, oxygen_device="nasal_cannula", oxygen_flow_l_min=flow) == grade


@pytest.mark.parametrize(("device", "grade"), [("blow_by", 2), ("high_flow_nasal_cannula", 3), ("facemask", 3),
                                               ("non_rebreather", 3), ("venturi", 3), ("cpap", 4), ("bipap", 4),
                                               ("mechanical_ventilation", 4), ("none", 1)])
def test_device_classes(device, grade):
    # ASTCT table: blow-by = low-flow (grade 2); masks / HFNC grade 3; positive pressure grade 4
    flow = None if device == "none" else 10
    assert grade_one(temperature_c=38.5, oxygen_device=device, oxygen_flow_l_min=flow) == grade


def test_high_flow_nasal_cannula_is_grade_3_even_at_low_flow():
    # ASTCT: HFNC is a grade-3 device; the flow only classifies a plain nasal cannula
    assert grade_one(temperature_c=38.5, oxygen_device="high_flow_nasal_cannula", oxygen_flow_l_min=5) == 3


@pytest.mark.parametrize(("pressors", "vasopressin", "grade"),
                         [(0, True, 3), (1, False, 3), (1, True, 3), (2, False, 4), (2, True, 4), (3, False, 4)])
def test_vasopressin_never_counts_toward_grade_4(pressors, vasopressin, grade):
    # ASTCT: grade 3 = one vasopressor with or without vasopressin; grade 4 = multiple vasopressors excl. vasopressin
    assert grade_one(temperature_c=38.5, hypotension=True, vasopressors=pressors, vasopressin=vasopressin) == grade


def test_hypotension_without_vasopressor_is_grade_2():
    # ASTCT: hypotension not requiring vasopressors -> grade 2
    assert grade_one(temperature_c=38.5, hypotension=True) == 2


def test_other_cause_hypotension_hypoxia_do_not_count():
    # ASTCT: hypotension/hypoxia must not be attributable to any other cause; the fever still makes grade 1
    assert grade_one(temperature_c=38.5, hypotension=True, vasopressors=2, oxygen_device="bipap",
                     other_cause=True) == 1


def test_death_due_to_crs_is_grade_5():
    # ASTCT grade 5: death due to CRS
    assert grade_one(temperature_c=39.0, crs_death=True) == 5


def test_masking_needs_established_crs():
    # ASTCT footnote: fever is dropped only once the patient HAS CRS; antipyretic before any fever -> no CRS
    assert grade_one(temperature_c=37.0, hypotension=True, anticytokine_or_antipyretic=True) == 0


def test_afebrile_without_antipyretic_after_onset_is_not_graded():
    # fever is required unless masked by antipyretic/anti-cytokine therapy (project decision, docs/toxicity.md)
    rows = [crs_row(day=1, temperature_c=39.0), crs_row(day=2, temperature_c=37.0, hypotension=True)]
    assert grade_crs(pd.DataFrame(rows)).observations["grade"].tolist() == [1, 0]


def test_masked_grade_uses_hypotension_after_fever_gone():
    # ASTCT: after antipyretic/anti-cytokine therapy grading is driven by hypotension and/or hypoxia
    rows = [crs_row(day=1, temperature_c=39.0),
            crs_row(day=2, temperature_c=36.5, hypotension=True, vasopressors=1, anticytokine_or_antipyretic=True)]
    obs = grade_crs(pd.DataFrame(rows)).observations
    assert obs["grade"].tolist() == [1, 3]
    assert obs["fever_masked"].tolist() == [False, True]
    assert obs["rule"].iloc[1] == "crs.g3.hypotension.one_vasopressor"


def test_rule_and_text_name_the_domain():
    res = grade_crs(pd.DataFrame([crs_row(temperature_c=39.5, hypotension=True, vasopressors=1,
                                          oxygen_device="nasal_cannula", oxygen_flow_l_min=2)]))
    row = res.observations.iloc[0]
    assert row["rule"] == "crs.g3.hypotension.one_vasopressor"
    assert "one vasopressor" in row["rule_text"]
    assert row["hypotension_grade"] == 3 and row["hypoxia_grade"] == 2
    assert row["system"] == "ASTCT2019" and res.criteria["version"] == "2019"


# ---- per-patient summary ---------------------------------------------------------------------------------------
def test_patient_summary_onset_resolution_duration_exposure():
    rows = [crs_row(day=0, temperature_c=37.0, tocilizumab=False, corticosteroids=False),
            crs_row(day=2, temperature_c=38.6, tocilizumab=False, corticosteroids=False),
            crs_row(day=3, temperature_c=39.0, hypotension=True, vasopressors=1, tocilizumab=True,
                    corticosteroids=False),
            crs_row(day=4, temperature_c=37.2, anticytokine_or_antipyretic=True, tocilizumab=False,
                    corticosteroids=False),
            crs_row(day=6, temperature_c=36.9, anticytokine_or_antipyretic=True, tocilizumab=False,
                    corticosteroids=False),
            crs_row(patient_id="P2", day=1, temperature_c=36.5, tocilizumab=False, corticosteroids=False)]
    t = grade_crs(pd.DataFrame(rows)).table.set_index("patient_id")
    # P1: onset day 2 (first fever), last grade >= 1 on day 3, first grade-0 day after = 4 -> duration 2 days
    assert t.loc["P1", "max_grade"] == 3 and t.loc["P1", "onset_day"] == 2
    assert t.loc["P1", "resolution_day"] == 4 and t.loc["P1", "duration_days"] == 2
    assert bool(t.loc["P1", "tocilizumab"]) and not bool(t.loc["P1", "corticosteroids"])
    assert t.loc["P2", "max_grade"] == 0 and np.isnan(t.loc["P2", "onset_day"])
    assert t.loc["P1", "max_grade_rule"] == "crs.g3.hypotension.one_vasopressor"


def test_unresolved_at_last_observation():
    t = grade_crs(pd.DataFrame([crs_row(day=1, temperature_c=39.0), crs_row(day=2, temperature_c=38.9)])).table
    assert not bool(t["resolved"].iloc[0]) and np.isnan(t["resolution_day"].iloc[0])


def test_row_order_is_irrelevant():
    rows = [crs_row(day=d, temperature_c=t, anticytokine_or_antipyretic=a, oxygen_device=o)
            for d, t, a, o in [(1, 38.5, False, "none"), (2, 36.9, True, "bipap"), (3, 36.8, True, "none")]]
    a = grade_crs(pd.DataFrame(rows)).observations["grade"].tolist()
    b = grade_crs(pd.DataFrame(rows[::-1])).observations["grade"].tolist()
    assert a == b == [1, 4, 0]


def test_patients_are_independent():
    # established CRS of one patient must never unmask another patient's observations
    rows = [crs_row(patient_id="A", day=1, temperature_c=39.0),
            crs_row(patient_id="B", day=2, temperature_c=36.5, hypotension=True, anticytokine_or_antipyretic=True)]
    assert grade_crs(pd.DataFrame(rows)).observations["grade"].tolist() == [1, 0]


# ---- located validation ----------------------------------------------------------------------------------------
def _problems(rows):
    with pytest.raises(ValidationFailed) as exc:
        grade_crs(pd.DataFrame(rows))
    return exc.value.problems


def test_bad_observations_give_located_errors():
    rows = [crs_row(temperature_c=380), crs_row(patient_id="P2", oxygen_device="nasal_cannula",
                                                oxygen_flow_l_min=-2),
            crs_row(patient_id="P3", oxygen_device="nasal canula"), crs_row(patient_id="P4", day=-1)]
    probs = {(p.rule, p.column): p for p in _problems(rows)}
    temp = probs["OUT_OF_RANGE", "temperature_c"]
    assert (temp.patient_id, temp.row, temp.value, temp.table) == ("P1", 2, "380", "crs_observations")
    assert "outside the plausible range [30.0, 45.0]" in temp.message
    flow = probs["OUT_OF_RANGE", "oxygen_flow_l_min"]
    assert (flow.patient_id, flow.row, flow.value) == ("P2", 3, "-2")
    device = probs["VOCABULARY", "oxygen_device"]
    assert device.row == 4 and "did you mean 'nasal_cannula'" in device.message
    day = probs["BEFORE_INFUSION", "day"]
    assert (day.patient_id, day.row) == ("P4", 5)


@pytest.mark.parametrize("extra", [dict(vasopressors=1), dict(vasopressin=True)])
def test_vasopressor_without_hypotension_is_contradictory(extra):
    probs = _problems([crs_row(temperature_c=38.5, hypotension=False, **extra)])
    assert [p.rule for p in probs] == ["CONTRADICTION"] and probs[0].column == "hypotension"


def test_missing_column_is_reported():
    df = pd.DataFrame([crs_row()]).drop(columns=["vasopressin"])
    with pytest.raises(ValidationFailed) as exc:
        grade_crs(df)
    assert exc.value.problems[0].rule == "MISSING_COLUMN" and exc.value.problems[0].column == "vasopressin"


def test_missing_temperature_warns_and_cannot_show_fever():
    with pytest.warns(DataQualityWarning):
        res = grade_crs(pd.DataFrame([crs_row(temperature_c=None, hypotension=True)]))
    assert res.observations["grade"].iloc[0] == 0
    assert res.problems[0].rule == "MISSING_VALUE" and res.problems[0].column == "temperature_c"


def test_nasal_cannula_without_flow_warns_and_is_low_flow():
    with pytest.warns(DataQualityWarning):
        res = grade_crs(pd.DataFrame([crs_row(temperature_c=38.5, oxygen_device="nasal_cannula")]))
    assert res.observations["grade"].iloc[0] == 2


def test_flow_with_device_none_warns_and_counts_no_oxygen():
    with pytest.warns(DataQualityWarning, match="device 'none'"):
        assert grade_one(temperature_c=38.5, oxygen_flow_l_min=4) == 1


def test_non_integer_vasopressor_count_is_an_error():
    assert _problems([crs_row(temperature_c=38.5, hypotension=True, vasopressors=1.5)])[0].rule == "BAD_NUMBER"


def test_booleans_accept_yes_no_text():
    df = pd.DataFrame([crs_row(temperature_c=38.5, hypotension="yes", vasopressors=2)])
    assert grade_crs(df).observations["grade"].iloc[0] == 4


def test_unknown_criteria_name():
    from cart_outcomes.errors import InputError

    with pytest.raises(InputError, match="available"):
        grade_crs(pd.DataFrame([crs_row()]), criteria="astct2099")


def test_a_revision_is_a_data_file_not_code(tmp_path):
    # criteria are versioned data: a hypothetical revision with a 5 L/min low-flow limit needs only a new JSON file
    import json

    from cart_outcomes.toxicity import load_criteria

    crit = load_criteria("astct2019")
    crit.update(name="astct_test", version="test")
    crit["crs"]["low_flow_max_l_min"] = 5.0
    path = tmp_path / "astct_test.json"
    path.write_text(json.dumps(crit))
    df = pd.DataFrame([crs_row(temperature_c=38.5, oxygen_device="nasal_cannula", oxygen_flow_l_min=6)])
    assert grade_crs(df).observations["grade"].iloc[0] == 2
    res = grade_crs(df, criteria=path)
    assert res.observations["grade"].iloc[0] == 3
    assert res.criteria["version"] == "test" and res.options["criteria"] == "astct_test"
    assert load_criteria("astct2019")["crs"]["low_flow_max_l_min"] == 6.0  # shipped data untouched


def test_empty_table_is_an_error_not_an_empty_result():
    from cart_outcomes.toxicity.crs import CRS_COLUMNS

    with pytest.raises(ValidationFailed) as exc:
        grade_crs(pd.DataFrame(columns=list(CRS_COLUMNS)))
    assert exc.value.problems[0].rule == "NO_DATA_ROWS"


def test_input_is_never_mutated():
    from tox_builders import icans_row

    from cart_outcomes.toxicity import grade_icans

    df = pd.DataFrame([crs_row(day=2, temperature_c=39), crs_row(day=1)])
    before = df.copy()
    grade_crs(df)
    pd.testing.assert_frame_equal(df, before)
    di = pd.DataFrame([icans_row(ice_score=5)])
    before = di.copy()
    grade_icans(di)
    pd.testing.assert_frame_equal(di, before)
