"""Pre-graded data with system tags (never pooled; clinical-definitions 3) and safety tables (n, %, exact CI)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tox_builders import crs_row

from cart_outcomes.errors import DataQualityWarning, InputError, ValidationFailed
from cart_outcomes.toxicity import (
    adverse_event_table,
    exposure_summary,
    grade_crs,
    grade_distribution,
    grade_icaht,
    icaht_distribution,
    onset_duration_summary,
    patient_grades,
    pregraded_grades,
)
from cart_outcomes.toxicity.ae_tables import _clopper_pearson

REF = Path(__file__).parents[2] / "reference" / "clopper_pearson.json"


def test_clopper_pearson_against_R():
    ref = json.loads(REF.read_text())
    lo, hi = _clopper_pearson(np.array(ref["x"]), np.array(ref["n"]), ref["conf_level"])
    np.testing.assert_allclose(lo, ref["lower"], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(hi, ref["upper"], rtol=1e-10, atol=1e-14)


def cohort(systems, grades=(1, 2, 3)):
    return pd.DataFrame({"patient_id": range(1, len(grades) + 1), "crs_grade": list(grades),
                         "crs_grading_system": list(systems)})


def test_pregraded_aliases_are_one_system():
    g = pregraded_grades(cohort(["ASTCT", "astct 2019", "ASTCT2019"]))
    assert set(g["system"]) == {"ASTCT2019"} and g["grade"].tolist() == [1, 2, 3]


def test_mixed_systems_are_an_error_by_default():
    with pytest.raises(InputError, match="never pooled"):
        pregraded_grades(cohort(["ASTCT", "Penn", "ASTCT"]))


def test_mixed_systems_separate_gives_one_block_per_system():
    with pytest.warns(DataQualityWarning, match="one block per system"):
        g = pregraded_grades(cohort(["ASTCT", "Penn", "ASTCT"]), on_mixed="separate")
    t = grade_distribution(g).table
    assert set(t["system"]) == {"ASTCT2019", "Penn"}
    any_astct = t[(t["system"] == "ASTCT2019") & (t["category"] == "any_grade")].iloc[0]
    assert any_astct["n"] == 2 and any_astct["n_total"] == 2


def test_grade_without_system_is_refused():
    df = pd.DataFrame({"patient_id": [1, 2], "crs_grade": [1, 2]})
    with pytest.raises(ValidationFailed):
        pregraded_grades(df)
    assert set(pregraded_grades(df, default_system="Penn")["system"]) == {"Penn"}
    df2 = cohort(["Penn", None], grades=(1, 2))
    with pytest.raises(ValidationFailed) as exc:
        pregraded_grades(df2)
    assert exc.value.problems[0].rule == "MISSING_SYSTEM" and exc.value.problems[0].row == 3


def test_grade_out_of_range_located():
    with pytest.raises(ValidationFailed) as exc:
        pregraded_grades(cohort(["Penn"] * 3, grades=(1, 7, 2)))
    assert exc.value.problems[0].rule == "GRADE_RANGE" and exc.value.problems[0].patient_id == "2"


def test_grade_distribution_counts_and_ci():
    # Xiao 2025 shape: 12 patients, CRS grade 1-2 in 8, grade 3 in 4 -> any 12/12, >= 3 4/12
    g = pd.DataFrame({"patient_id": range(12), "grade": [1] * 5 + [2] * 3 + [3] * 4, "system": "ASTCT2019",
                      "toxicity": "crs"})
    t = grade_distribution(g).table.set_index("category")
    assert t.loc["any_grade", "n"] == 12 and t.loc["any_grade", "percent"] == 100
    assert t.loc["grade_3_or_higher", "n"] == 4
    assert t.loc["grade_3_or_higher", "percent"] == pytest.approx(100 * 4 / 12)
    lo, hi = _clopper_pearson(np.array([4]), np.array([12]), 0.95)
    assert t.loc["grade_3_or_higher", "lower"] == lo[0] and t.loc["grade_3_or_higher", "upper"] == hi[0]


def test_tables_from_a_crs_result():
    rows = [crs_row(patient_id="A", day=1, temperature_c=39, tocilizumab=False),
            crs_row(patient_id="A", day=2, temperature_c=39, hypotension=True, vasopressors=1, tocilizumab=True),
            crs_row(patient_id="A", day=4, temperature_c=37, tocilizumab=False),
            crs_row(patient_id="B", day=3, temperature_c=38.2, tocilizumab=False),
            crs_row(patient_id="B", day=5, temperature_c=37, tocilizumab=False),
            crs_row(patient_id="C", day=1, temperature_c=37, tocilizumab=False)]
    res = grade_crs(pd.DataFrame(rows))
    dist = grade_distribution(res, toxicity="crs").table.set_index("category")
    assert dist.loc["any_grade", "n"] == 2 and dist.loc["grade_3_or_higher", "n"] == 1
    od = onset_duration_summary(res, "crs").table.set_index("measure")
    # onsets 1 and 3 -> median 2; durations A: 4-1 = 3, B: 5-3 = 2 -> median 2.5, range 2-3
    assert od.loc["onset_day", "median"] == 2 and od.loc["duration_days", "median"] == 2.5
    assert (od.loc["duration_days", "minimum"], od.loc["duration_days", "maximum"]) == (2, 3)
    ex = exposure_summary(res).table.set_index("exposure")
    assert ex.loc["tocilizumab", "n"] == 1 and ex.loc["tocilizumab", "n_total"] == 3
    pg = patient_grades(res, "crs")
    assert pg["system"].unique().tolist() == ["ASTCT2019"]


def test_icaht_distribution():
    rows = [dict(patient_id=p, day=d, anc_per_ul=300 if 2 <= d < 2 + k else 2000)
            for p, k in [(1, 3), (2, 10)] for d in range(0, 31)]
    t = icaht_distribution(grade_icaht(pd.DataFrame(rows))).table
    early = t[t["toxicity"] == "icaht_early"].set_index("category")
    assert early.loc["grade_1", "n"] == 1 and early.loc["grade_2", "n"] == 1 and "grade_5" not in early.index


def test_adverse_event_table_max_grade_per_patient():
    ae = pd.DataFrame({"patient_id": [1, 1, 2, 3, 3], "term": ["Neutropenia", "Neutropenia", "Neutropenia",
                                                                 "Neutropenia", "Sepsis"],
                       "grade": [2, 4, 3, 1, 5], "onset_day": [1, 5, 2, 8, 10]})
    t = adverse_event_table(ae, n_patients=12).table.set_index("term")
    # Neutropenia: patient maxima 4, 3, 1 -> any 3/12, >= 3 2/12; first onsets 1, 2, 8 -> median 2
    assert t.loc["Neutropenia", "n_any"] == 3 and t.loc["Neutropenia", "n_grade_3_or_higher"] == 2
    assert t.loc["Neutropenia", ["n_grade_1", "n_grade_3", "n_grade_4"]].tolist() == [1, 1, 1]
    assert t.loc["Neutropenia", "median_onset_day"] == 2 and t.loc["Sepsis", "n_grade_5"] == 1
    assert t.index.tolist() == ["Neutropenia", "Sepsis"]
    with pytest.raises(InputError, match="smaller"):
        adverse_event_table(ae, n_patients=2)
    with pytest.raises(ValidationFailed):
        adverse_event_table(ae.assign(grade=[1, 2, 3, 6, 1]), n_patients=12)


def test_grading_accepts_a_validated_cohort():
    from cart_outcomes.cohort import cohort_from_frames

    patients = pd.DataFrame({"patient_id": ["P1", "P2"], "infusion_date": ["2024-01-01", "2024-02-01"],
                             "age_years": [30, 40], "last_followup_day": [100, 200],
                             "crs_grade": [2, 3], "crs_grading_system": ["ASTCT2019", "ASTCT2019"]})
    obs = pd.DataFrame([crs_row(temperature_c=39, hypotension=True),
                        crs_row(patient_id="P2", day=2, temperature_c=38.5, oxygen_device="bipap")])
    cohort = cohort_from_frames({"patients": patients, "crs_observations": obs})
    res = grade_crs(cohort)
    assert res.table["max_grade"].tolist() == [2, 4] and res.observations["row"].tolist() == [2, 3]
    assert pregraded_grades(cohort)["grade"].tolist() == [2, 3]
    bad = cohort_from_frames({"patients": patients.drop(columns="last_followup_day"), "crs_observations": obs})
    with pytest.raises(ValidationFailed):
        grade_crs(bad)


def test_no_adverse_events_gives_an_empty_table():
    empty = pd.DataFrame(columns=["patient_id", "term", "grade", "onset_day"])
    assert len(adverse_event_table(empty, n_patients=12).table) == 0


def test_grade_1_to_2_is_counted_with_its_exact_interval():
    # grades 0, 1, 2, 2, 3 -> grade 1-2 in 3 of 5 (binom.test(3, 5) is the interval of the same counts)
    grades = pd.DataFrame({"patient_id": list("abcde"), "grade": [0, 1, 2, 2, 3], "system": "ASTCT2019"})
    dist = grade_distribution(grades, toxicity="crs").table.set_index("category")
    lo, hi = _clopper_pearson(np.array([3]), np.array([5]), 0.95)
    assert dist.loc["grade_1_to_2", ["n", "n_total"]].tolist() == [3, 5]
    assert (dist.loc["grade_1_to_2", "lower"], dist.loc["grade_1_to_2", "upper"]) == (lo[0], hi[0])
    assert dist.loc["any_grade", "n"] == dist.loc["grade_1_to_2", "n"] + dist.loc["grade_3_or_higher", "n"]


def test_supportive_care_reads_both_tables_and_counts_recorded_patients_only():
    from cart_outcomes.toxicity import supportive_care_summary

    # patients: A toci yes, B toci no, C not recorded, D not recorded; ICU recorded for A (no) and B (yes).
    # daily CRS observations: C got tocilizumab on day 2; D has observations without a tocilizumab value.
    patients = pd.DataFrame({"patient_id": list("ABCD"), "tocilizumab": [True, False, None, None],
                             "icu_admission": [False, True, None, None]})
    obs = pd.DataFrame({"patient_id": ["C", "C", "D"], "day": [1, 2, 1], "tocilizumab": [False, True, None],
                        "corticosteroids": [None, None, None]})
    table = supportive_care_summary(patients, obs).table.set_index("item")
    # tocilizumab: A and C treated, B not, D unknown -> 2 of 3; ICU: 1 of 2; steroids recorded nowhere -> no row
    assert table.loc["tocilizumab", ["n", "n_total"]].tolist() == [2, 3]
    assert table.loc["tocilizumab", "source"] == "patients and crs_observations"
    assert table.loc["icu_admission", ["n", "n_total"]].tolist() == [1, 2]
    assert "corticosteroids" not in table.index
    lo, hi = _clopper_pearson(np.array([2]), np.array([3]), 0.95)
    assert (table.loc["tocilizumab", "lower"], table.loc["tocilizumab", "upper"]) == (lo[0], hi[0])
