"""summarize_kinetics and persistence_rates on small hand-worked tables (R parity: tests/reference)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cart_outcomes.errors import InputError
from cart_outcomes.kinetics import noncompartmental, persistence_rates, summarize_kinetics

SERIES = {"matrix": "peripheral_blood", "assay": "qpcr", "unit": "copies_per_ug_dna"}


def _table(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns).assign(**SERIES)


def test_geometric_mean_and_cv_by_hand() -> None:
    # responders 1,000 and 100,000: GM = sqrt(1e3 * 1e5) = 1e4; sd(log) = ln(100)/sqrt(2); CV = sqrt(exp(sd^2) - 1)
    nca = _table(patient_id=["a", "b", "c"], cmax=[1_000.0, 100_000.0, 0.0], tmax_days=[7.0, 14.0, np.nan],
                 auc=[1.0, 2.0, 0.0])
    groups = pd.DataFrame({"patient_id": ["a", "b", "c"], "response": ["R", "R", "NR"]})
    s = summarize_kinetics(nca, groups, by="response", test="none")
    r = s.table.set_index(["parameter", "group"])
    assert r.loc[("cmax", "R"), "geo_mean"] == pytest.approx(1e4)
    sd = math.log(100) / math.sqrt(2)
    assert r.loc[("cmax", "R"), "geo_cv_pct"] == pytest.approx(100 * math.sqrt(math.exp(sd**2) - 1))
    # a patient without quantifiable expansion (Cmax 0) counts in n and the median, not in the geometric mean
    nr = r.loc[("cmax", "NR")]
    assert (nr["n"], nr["n_positive"], nr["median"]) == (1, 0, 0.0) and np.isnan(nr["geo_mean"])
    # Tmax: median and range only; the all-BLQ patient has no Tmax and is not counted
    t = r.loc[("tmax_days", "R")]
    assert (t["n"], t["median"], t["minimum"], t["maximum"]) == (2, 10.5, 7.0, 14.0) and np.isnan(t["geo_mean"])
    assert r.loc[("tmax_days", "NR"), "n"] == 0


def test_test_choice_follows_the_grouping() -> None:
    nca = _table(patient_id=list("abcdef"), cmax=[1.0, 2, 3, 4, 5, 6], auc=[1.0] * 6, tmax_days=[1.0] * 6)
    two = pd.DataFrame({"patient_id": list("abcdef"), "g": ["x", "x", "x", "y", "y", "y"]})
    grade = pd.DataFrame({"patient_id": list("abcdef"), "g": [0, 1, 1, 2, 3, 3]})
    three = pd.DataFrame({"patient_id": list("abcdef"), "g": ["x", "x", "y", "y", "z", "z"]})
    assert set(summarize_kinetics(nca, two, by="g").tests["test"]) == {"wilcoxon"}
    assert set(summarize_kinetics(nca, grade, by="g").tests["test"]) == {"spearman"}
    assert set(summarize_kinetics(nca, three, by="g").tests["test"]) == {"kruskal"}
    # x = 1,2,3 vs y = 4,5,6: W = 0, exact two-sided p = 2 / C(6,3) = 0.1
    w = summarize_kinetics(nca, two, by="g").tests.set_index("parameter").loc["cmax"]
    assert (w["statistic"], w["p_value"]) == (0.0, pytest.approx(0.1)) and w["note"] == ""
    # every AUC tied: no p-value (NaN, as R), and the reason is kept instead of a warning escaping the summary
    a = summarize_kinetics(nca, two, by="g").tests.set_index("parameter").loc["auc"]
    assert np.isnan(a["p_value"]) and "tied" in a["note"]


def test_patients_without_a_group_are_listed_not_lost() -> None:
    nca = _table(patient_id=["a", "b", "c"], cmax=[1.0, 2.0, 3.0], auc=[1.0] * 3, tmax_days=[1.0] * 3)
    groups = pd.DataFrame({"patient_id": ["a", "b", "c"], "g": ["x", None, "y"]})
    s = summarize_kinetics(nca, groups, by="g")
    assert s.excluded.to_dict("records") == [{"patient_id": "b", "reason": "no value of 'g'"}]
    assert s.table.groupby("parameter")["n"].sum().tolist() == [2, 2, 2]


def test_bad_arguments_are_named() -> None:
    nca = _table(patient_id=["a"], cmax=[1.0], auc=[1.0], tmax_days=[1.0])
    with pytest.raises(InputError, match="test must be one of"):
        summarize_kinetics(nca, pd.DataFrame({"patient_id": ["a"], "g": [1]}), by="g", test="t-test")
    with pytest.raises(InputError, match="no column"):
        summarize_kinetics(nca, pd.DataFrame({"patient_id": ["a"]}), by="g")
    with pytest.raises(InputError, match="one row per patient"):
        summarize_kinetics(nca, pd.DataFrame({"patient_id": ["a", "a"], "g": [1, 2]}), by="g")


def test_persistence_rates_count_evaluable_patients_only() -> None:
    # month 1 = day 30, window 7: samples from day 23 count
    rows = [("a", 28, 500.0, False), ("a", 90, 80.0, False),   # detectable at months 1 and 3
            ("b", 28, None, True), ("b", 35, None, True),        # undetectable at month 1
            ("c", 14, 900.0, False)]                             # no sample from day 23: not evaluable
    kin = pd.DataFrame(rows, columns=["patient_id", "day", "value", "below_loq"]).assign(
        assay="qpcr", unit="copies_per_ug_dna")
    rates = persistence_rates(noncompartmental(kin, persistence_months=(1, 3)), conf_level=0.95)
    m1, m3 = rates.iloc[0], rates.iloc[1]
    assert (m1["landmark_day"], m1["n_detectable"], m1["n_evaluable"], m1["n_not_evaluable"]) == (30, 1, 2, 1)
    assert m1["percent"] == 50.0 and m1["lower"] == pytest.approx(0.01257911709, rel=1e-9)  # binom.test(1, 2)
    assert (m3["n_detectable"], m3["n_evaluable"], m3["n_not_evaluable"]) == (1, 1, 2)  # b: no sample from day 84


def test_noncompartmental_reads_a_cohort_like_the_frame_it_holds() -> None:
    from pathlib import Path

    from cart_outcomes.cohort import read_cohort

    cohort = read_cohort(Path(__file__).parents[3] / "examples" / "cd7-tall")
    from_cohort = noncompartmental(cohort).table
    from_frame = noncompartmental(cohort.table("kinetics")).table
    pd.testing.assert_frame_equal(from_cohort, from_frame)
    assert from_cohort["patient_id"].nunique() == len(cohort.patients)
