"""CIBMTR neutrophil and platelet recovery (``hematologic_recovery``). Expected days are counted by hand in each test
from the rule: recovery = first of 3 consecutive values >= threshold obtained on different days (lowest value per
day) after the count fell below the threshold; platelets also need no transfusion in the 7-day window ending on the
value's day. The platelet vectors reproduce the CIBMTR forms manual's worked example."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from cart_outcomes.errors import InputError, ValidationFailed
from cart_outcomes.stats import kaplan_meier
from cart_outcomes.toxicity import HematologicRecovery, hematologic_recovery


def series(pid, values, column="anc_per_ul", start=0, **extra):
    """Rows of one patient: ``values`` on consecutive days from ``start`` (a dict maps day -> value)."""
    items = values.items() if isinstance(values, dict) else enumerate(values, start)
    return [dict(patient_id=pid, day=d, **{column: v}, **extra) for d, v in items]


def neutrophil(rows, **kw):
    t = hematologic_recovery(pd.DataFrame(rows), **kw).table
    return t[t["lineage"] == "neutrophil"].set_index("patient_id")


def platelet(rows, **kw):
    res = hematologic_recovery(pd.DataFrame(rows), **kw)
    return res.table[res.table["lineage"] == "platelet"].set_index("patient_id"), res


def test_simple_dip_and_recovery():
    # day:  0     1    2    3    4   5    6    7    8    9     10
    anc = [2000, 800, 300, 100, 50, 200, 600, 700, 900, 1500, 2000]
    r = neutrophil(series("P1", anc)).loc["P1"]
    # first below 500 on day 2; days 6, 7, 8 are the first three values >= 500 -> recovery day 6
    assert r["status"] == "recovered" and r["first_below_day"] == 2 and r["recovery_day"] == 6
    assert (r["nadir_value"], r["nadir_day"], r["last_value_day"]) == (50, 4, 10)
    assert r["time_days"] == 6 and r["event"]
    assert (r["threshold"], r["unit"]) == (500.0, "cells/uL")


def test_transient_recovery_then_dip_again():
    # days 1-2 >= 500 (2 values only), day 3 falls again, days 4-6 >= 500 -> recovery day 4
    r = neutrophil(series("P1", [300, 600, 700, 400, 600, 800, 900])).loc["P1"]
    assert r["recovery_day"] == 4


@pytest.mark.parametrize(("anc", "day"), [([100, 500, 500, 500], 1), ([100, 499, 500, 500, 500], 2)])
def test_threshold_is_inclusive(anc, day):
    # ANC >= 500: 500 qualifies, 499 does not
    assert neutrophil(series("P1", anc)).loc["P1", "recovery_day"] == day


def test_never_below():
    r = neutrophil(series("P1", [600, 700, 550])).loc["P1"]
    assert r["status"] == "never_below" and not r["event"]
    assert np.isnan(r["time_days"]) and np.isnan(r["first_below_day"]) and np.isnan(r["recovery_day"])
    assert (r["nadir_value"], r["nadir_day"]) == (550, 2)


def test_never_recovered_is_censored_at_last_value():
    # below from day 0; only two values >= 500 (days 2, 3) before the data end on day 3
    r = neutrophil(series("P1", [300, 200, 600, 700])).loc["P1"]
    assert r["status"] == "not_recovered" and not r["event"]
    assert np.isnan(r["recovery_day"]) and r["last_value_day"] == 3 and r["time_days"] == 3


def test_gaps_between_days_calendar_days_false_vs_true():
    rows = series("P1", {0: 100, 10: 600, 14: 700, 20: 800})
    # values on different days: 10, 14, 20 are three consecutive values -> recovery day 10
    assert neutrophil(rows).loc["P1", "recovery_day"] == 10
    # consecutive calendar days required: no three in a row -> censored at day 20
    r = neutrophil(rows, calendar_days=True).loc["P1"]
    assert r["status"] == "not_recovered" and r["time_days"] == 20
    # days 10, 11, 12 are consecutive calendar days
    assert neutrophil(series("P1", {0: 100, 10: 600, 11: 700, 12: 800}), calendar_days=True).loc[
        "P1", "recovery_day"] == 10


def test_calendar_days_run_restarts_after_a_gap():
    # >= 500 on days 3, 4 | gap | 6, 7, 8 -> with calendar days the run restarts on day 6
    rows = series("P1", {0: 100, 3: 600, 4: 600, 6: 600, 7: 600, 8: 600})
    assert neutrophil(rows, calendar_days=True).loc["P1", "recovery_day"] == 6
    assert neutrophil(rows).loc["P1", "recovery_day"] == 3


def test_duplicate_same_day_values_lowest_counts():
    # day 5 has 600 and 400: the lowest (400) is below 500 and breaks the run 4-5-6 -> recovery day 6
    rows = series("P1", {0: 100, 4: 600, 5: 600, 6: 600, 7: 700, 8: 800}) + series("P1", {5: 400})
    r = neutrophil(rows).loc["P1"]
    assert r["recovery_day"] == 6 and r["nadir_value"] == 100


def test_nadir_tie_takes_the_earliest_day():
    assert neutrophil(series("P1", [300, 100, 200, 100, 600, 600, 600])).loc["P1", "nadir_day"] == 1


def test_consecutive_parameter():
    anc = [100, 600, 700, 300, 600, 600]
    assert neutrophil(series("P1", anc), consecutive=1).loc["P1", "recovery_day"] == 1
    assert neutrophil(series("P1", anc), consecutive=2).loc["P1", "recovery_day"] == 1
    assert neutrophil(series("P1", anc), consecutive=3).loc["P1", "status"] == "not_recovered"


# ---- platelets: CIBMTR forms manual, "Reporting platelet recovery (>= 20 and >= 50 x 10^9/L)"
CIBMTR_PLT = [10_000, 30_000, 25_000, 10_000, 15_000, 19_000, 23_000, 25_000, 40_000, 50_000, 56_000, 65_000, 72_000]


def cibmtr_rows(transfusion=True):
    extra = [dict(platelet_transfusion=d == 0) for d in range(13)] if transfusion else [{}] * 13
    return [{**r, **e} for r, e in zip(series("P1", CIBMTR_PLT, "platelets_per_ul"), extra, strict=True)]


def test_cibmtr_platelet_example_20k_and_50k():
    # last platelet transfusion day 0; the manual reports day 7 (>= 20) and day 9 (>= 50): day 6 (23,000) is only
    # 6 days after the transfusion, so 6-7-8 does not count; 1-2 are 2 values only and transfused too
    t, res = platelet(cibmtr_rows())
    assert t.loc["P1", "recovery_day"] == 7 and t.loc["P1", "first_below_day"] == 0
    assert not any("transfusion" in n for n in res.notes) and res.options["transfusion_rule"].startswith("applied")
    t, _ = platelet(cibmtr_rows(), platelet_threshold=50_000)
    assert t.loc["P1", "recovery_day"] == 9


def test_no_transfusion_column_gives_a_note_not_a_warning():
    # without the column, days 6, 7, 8 (23,000 / 25,000 / 40,000) count -> day 6, one day earlier than CIBMTR's
    t, res = platelet(cibmtr_rows(transfusion=False))
    assert t.loc["P1", "recovery_day"] == 6
    assert res.options["transfusion_rule"].startswith("not applied")
    assert [n for n in res.notes if "platelet_transfusion" in n] and "could not be applied" in " ".join(res.notes)


@pytest.mark.parametrize(("tx_day", "recovery"), [(1, 8), (2, 9), (0, 7), (None, 1)])
def test_transfusion_within_7_days_blocks(tx_day, recovery):
    # 10,000 on day 0, then 30,000 every day 1-14. A transfusion on day T blocks values on days T..T+6:
    # T = 1 -> days 1-7 blocked, run 8-9-10 -> 8; T = 2 -> day 1 qualifies but 2-8 blocked -> 9
    plt = [10_000] + [30_000] * 14
    tx = [dict(platelet_transfusion=d == tx_day) for d in range(15)]
    rows = [{**r, **e} for r, e in zip(series("P1", plt, "platelets_per_ul"), tx, strict=True)]
    t, _ = platelet(rows)
    assert t.loc["P1", "recovery_day"] == recovery


def test_transfusion_free_days_parameter():
    plt = [10_000] + [30_000] * 14
    rows = [{**r, "platelet_transfusion": d == 1} for d, r in enumerate(series("P1", plt, "platelets_per_ul"))]
    assert platelet(rows, transfusion_free_days=3)[0].loc["P1", "recovery_day"] == 4  # 1-3 blocked
    t, res = platelet(rows, transfusion_free_days=0)
    assert t.loc["P1", "recovery_day"] == 1 and res.options["transfusion_rule"].startswith("not applied")


def test_transfusion_on_a_day_without_a_count_and_transfusion_counts_as_support():
    # counts never below 20,000, but a transfusion on day 3 (a row with no count): not "never_below" (CIBMTR:
    # "not applicable" only without any transfusion); days 3-9 blocked -> recovery on day 10
    rows = series("P1", {d: 30_000 for d in range(15) if d != 3}, "platelets_per_ul", platelet_transfusion=False)
    rows.append(dict(patient_id="P1", day=3, platelets_per_ul=None, platelet_transfusion=True))
    t, _ = platelet(rows)
    assert (t.loc["P1", "status"], t.loc["P1", "first_below_day"], t.loc["P1", "recovery_day"]) == (
        "recovered", 3, 10)
    # the transfusion window is per patient: P2's transfusion does not block P1
    rows2 = series("P1", [10_000, 30_000, 30_000, 30_000], "platelets_per_ul", platelet_transfusion=False) + \
        series("P2", [10_000, 30_000, 30_000, 30_000], "platelets_per_ul", platelet_transfusion=True)
    t, _ = platelet(rows2)
    assert t.loc["P1", "recovery_day"] == 1 and t.loc["P2", "status"] == "not_recovered"


def test_blank_transfusion_cells_read_as_no_transfusion():
    rows = [{**r, "platelet_transfusion": pd.NA if d else True} for d, r in
            enumerate(series("P1", [10_000] + [30_000] * 10, "platelets_per_ul"))]
    frame = pd.DataFrame(rows).astype({"platelet_transfusion": "boolean"})
    t = hematologic_recovery(frame).table.set_index("lineage")
    assert t.loc["platelet", "recovery_day"] == 7


def test_negative_days_before_from_day_are_ignored():
    # below on day -5 and -2 (before lymphodepletion), >= 500 from day 0: never below from day 0
    rows = series("P1", {-5: 100, -3: 600, -2: 300, -1: 800, 0: 600, 1: 700, 2: 900})
    r = neutrophil(rows).loc["P1"]
    assert r["status"] == "never_below" and (r["nadir_value"], r["nadir_day"]) == (600, 0)
    # from day -5 on: below on day -5, -3 qualifies, -2 breaks, then -1, 0, 1 -> recovery day -1
    r = neutrophil(rows, from_day=-5).loc["P1"]
    assert (r["first_below_day"], r["recovery_day"], r["nadir_day"]) == (-5, -1, -5)


def test_unsorted_input_gives_the_same_result():
    rows = (series("P2", [2000, 300, 100, 600, 700, 800]) + series("P1", [100, 600, 700, 800])
            + series("P3", [600, 700]))
    frame = pd.DataFrame(rows)
    shuffled = frame.sample(frac=1, random_state=3)
    a = hematologic_recovery(frame).table
    b = hematologic_recovery(shuffled).table
    pd.testing.assert_frame_equal(a, b)
    assert a["patient_id"].tolist()[:3] == ["P1", "P2", "P3"]
    n = neutrophil(rows)
    assert n.loc["P1", "recovery_day"] == 1 and n.loc["P2", "recovery_day"] == 3
    assert n.loc["P3", "status"] == "never_below"


def test_every_patient_appears_no_data_when_no_values():
    rows = (series("P1", [100, 600, 700, 800]) + series("P2", [10_000, 30_000], "platelets_per_ul")
            + [dict(patient_id="P3", day=0, anc_per_ul=None, platelets_per_ul=None)]
            + series("P4", {-3: 100}))
    res = hematologic_recovery(pd.DataFrame(rows))
    t = res.table.set_index(["lineage", "patient_id"])["status"]
    assert len(res.table) == 8
    assert t["neutrophil"].to_dict() == {"P1": "recovered", "P2": "no_data", "P3": "no_data", "P4": "no_data"}
    assert t["platelet"].to_dict() == {"P1": "no_data", "P2": "not_recovered", "P3": "no_data", "P4": "no_data"}
    no = res.table[res.table["status"] == "no_data"]
    assert no["time_days"].isna().all() and not no["event"].any() and no["last_value_day"].isna().all()
    s = res.summary.set_index("lineage")
    assert s.loc["neutrophil", ["n_patients", "recovered", "no_data"]].tolist() == [4, 1, 3]
    assert s.loc["neutrophil", "median_recovery_day"] == 1
    assert s.loc["platelet", "not_recovered"] == 1 and np.isnan(s.loc["platelet", "median_recovery_day"])


def test_missing_lineage_column_is_noted():
    res = hematologic_recovery(pd.DataFrame(series("P1", [100, 600, 700, 800])))
    assert (res.table.set_index("lineage").loc["platelet", "status"]) == "no_data"
    assert any("platelets_per_ul" in n for n in res.notes)


def test_time_and_event_feed_kaplan_meier():
    rows = series("A", [100, 600, 600, 600]) + series("B", [100, 200, 300, 300, 300]) + series("C", [600, 700])
    t = neutrophil(rows).reset_index()
    km = kaplan_meier(t.dropna(subset=["time_days"]), "time_days", "event")
    # A recovers on day 1, B is censored on day 4, C never fell below (not at risk of recovering)
    assert km.table["n_risk"].iloc[0] == 2 and km.table["n_event"].sum() == 1


def test_cohort_dtypes_and_no_mutation():
    frame = pd.DataFrame({
        "patient_id": pd.array(["P1"] * 5 + ["P2"], dtype="string"),
        "day": pd.array([0, 1, 2, 3, 4, 0], dtype="Int64"),
        "anc_per_ul": pd.array([100, 600, None, 700, 800, None], dtype="Float64").astype("float64"),
        "platelets_per_ul": [10_000, 30_000, 30_000, 30_000, np.nan, 5_000],
        "platelet_transfusion": pd.array([False, False, pd.NA, False, False, True], dtype="boolean"),
        "source_row": [2, 3, 4, 5, 6, 7]})
    before = frame.copy()
    res = hematologic_recovery(frame)
    pd.testing.assert_frame_equal(frame, before)
    t = res.table.set_index(["lineage", "patient_id"])
    # ANC: below day 0, then 600 (1), 700 (3), 800 (4): three values on different days -> day 1
    assert t.loc[("neutrophil", "P1"), "recovery_day"] == 1 and t.loc[("neutrophil", "P2"), "status"] == "no_data"
    assert t.loc[("platelet", "P1"), "recovery_day"] == 1 and t.loc[("platelet", "P2"), "status"] == "not_recovered"
    assert isinstance(res, HematologicRecovery) and res.to_frame() is not res.table


def test_bad_values_are_reported_together_with_rows():
    frame = pd.DataFrame({"patient_id": ["P1", "P1", "P1", "P2"], "day": [0, 1, 2, 0],
                          "anc_per_ul": ["100", "abc", "600", "-5"], "platelets_per_ul": [1, 2, -3, 4],
                          "platelet_transfusion": [True, "maybe", False, False], "source_row": [10, 11, 12, 13]})
    with pytest.raises(ValidationFailed) as exc:
        hematologic_recovery(frame)
    assert isinstance(exc.value, InputError)
    found = {(p.row, p.column, p.rule) for p in exc.value.problems if p.severity == "error"}
    assert found == {(11, "anc_per_ul", "BAD_NUMBER"), (13, "anc_per_ul", "OUT_OF_RANGE"),
                     (12, "platelets_per_ul", "OUT_OF_RANGE"), (11, "platelet_transfusion", "BAD_BOOLEAN")}
    assert "prevent the analysis" in str(exc.value) and "row 11" in str(exc.value)


@pytest.mark.parametrize("kw", [dict(consecutive=0), dict(consecutive=2.5), dict(anc_threshold=-1),
                                dict(platelet_threshold="x"), dict(transfusion_free_days=-1), dict(from_day=0.5),
                                dict(calendar_days="yes")])
def test_bad_parameters(kw):
    with pytest.raises(InputError):
        hematologic_recovery(pd.DataFrame(series("P1", [100, 600])), **kw)


def test_same_shape_whatever_the_flags():
    rows = series("P1", [100, 600, 700, 800])
    a = hematologic_recovery(pd.DataFrame(rows))
    b = hematologic_recovery(pd.DataFrame(rows), calendar_days=True, consecutive=1, from_day=-3)
    assert list(a.table.columns) == list(b.table.columns) and list(a.summary.columns) == list(b.summary.columns)
    assert a.options.keys() == b.options.keys() and "version" in a.options


# ---- the vectorised run lengths agree with a plain per-day reading of the rule, on generated cohorts


def reference_recovery(days, values, tx_days, threshold, consecutive, calendar, free_days):
    """The rule read literally, one patient at a time (daily values sorted by day, lowest per day)."""
    if not days:
        return "no_data", None
    below_days = [d for d, v in zip(days, values, strict=True) if v < threshold] + list(tx_days)
    if not below_days:
        return "never_below", None
    first = min(below_days)
    run = []
    for d, v in zip(days, values, strict=True):
        ok = v >= threshold and d > first and not any(d - free_days < t <= d for t in tx_days)
        if ok and run and (not calendar or d == run[-1] + 1):
            run.append(d)
        else:
            run = [d] if ok else []
        if len(run) == consecutive:
            return "recovered", run[0]
    return "not_recovered", None


@hyp_settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 12), st.sampled_from([5_000, 15_000, 20_000, 40_000]),
                          st.booleans()), max_size=60),
       st.integers(1, 3), st.booleans(), st.integers(0, 8))
def test_vectorised_matches_literal_rule(samples, consecutive, calendar, free_days):
    rows = [dict(patient_id=f"P{p}", day=d, platelets_per_ul=v, platelet_transfusion=tx and d % 3 == 0)
            for p, d, v, tx in samples] or [dict(patient_id="P0", day=0, platelets_per_ul=None,
                                                 platelet_transfusion=False)]
    frame = pd.DataFrame(rows)
    t, _ = platelet(rows, consecutive=consecutive, calendar_days=calendar, transfusion_free_days=free_days)
    assert sorted(t.index) == sorted(frame["patient_id"].unique())
    for pid, g in frame.groupby("patient_id"):
        daily = g.dropna(subset=["platelets_per_ul"]).groupby("day")["platelets_per_ul"].min()
        # transfusion_free_days=0 ignores transfusions altogether
        tx_days = sorted(set(g.loc[g["platelet_transfusion"].astype(bool), "day"])) if free_days else []
        status, day = reference_recovery(list(daily.index), list(daily.to_numpy()), tx_days, 20_000, consecutive,
                                         calendar, free_days)
        assert t.loc[pid, "status"] == status
        assert np.isnan(t.loc[pid, "recovery_day"]) if day is None else t.loc[pid, "recovery_day"] == day


def test_accepts_a_cohort(tmp_path):
    from cart_outcomes.cohort.io import read_cohort

    examples = Path(__file__).parents[3] / "examples" / "cd7-tall" / "patients.csv"
    (tmp_path / "patients.csv").write_text("\n".join(examples.read_text().splitlines()[:3]) + "\n")
    (tmp_path / "labs.csv").write_text("patient_id,day,anc_per_ul,platelets_per_ul\nCD7-01,0,100,10000\n"
                                       "CD7-01,1,600,30000\nCD7-01,2,700,\nCD7-01,3,800,30000\nCD7-02,0,900,\n")
    res = hematologic_recovery(read_cohort(tmp_path))
    t = res.table.set_index(["lineage", "patient_id"])["status"]
    # CD7-01: ANC below on day 0, then 600, 700, 800 -> recovered; platelets 30,000 on days 1 and 3 only (2 values)
    assert t.to_dict() == {("neutrophil", "CD7-01"): "recovered", ("neutrophil", "CD7-02"): "never_below",
                           ("platelet", "CD7-01"): "not_recovered", ("platelet", "CD7-02"): "no_data"}


def test_recovery_incidence_treats_death_before_recovery_as_competing():
    from cart_outcomes.toxicity import recovery_incidence

    # a: below day 1, recovered day 10; b: recovered day 14; c: never recovered, died day 12; d: never recovered,
    # alive, last value day 20 (censored); e: never below 500 (not at risk, not counted)
    days = [1, 10, 11, 12]
    rows = [("a", d, v) for d, v in zip(days, [100, 600, 700, 800], strict=True)]
    rows += [("b", d, v) for d, v in zip([1, 14, 15, 16], [100, 600, 700, 800], strict=True)]
    rows += [("c", d, 100) for d in (1, 5, 10)]
    rows += [("d", d, 100) for d in (1, 10, 20)]
    rows += [("e", d, 900) for d in (1, 10)]
    labs = pd.DataFrame(rows, columns=["patient_id", "day", "anc_per_ul"])
    rec = hematologic_recovery(labs)
    inc = recovery_incidence(rec, {"c": 12.0}, at=(11, 28))
    # Aalen-Johansen by hand (4 at risk): day 10 a recovers, F = 1/4, S = 3/4; day 12 c dies (competing), S = 1/2;
    # day 14 b recovers, F += 1/2 x 1/2 = 1/4 -> 1/2; day 20 d censored. F(11) = 0.25, F(28) = 0.5.
    got = inc[inc["lineage"] == "neutrophil"].set_index("day")
    assert got.loc[11.0, "estimate"] == pytest.approx(0.25) and got.loc[28.0, "estimate"] == pytest.approx(0.5)
    assert got.loc[11.0, "n_at_risk"] == 3  # b, c, d still at risk after day 10
    first = got.iloc[0]
    assert (first["n_analysed"], first["n_recovered"], first["n_died_first"], first["n_censored"]) == (4, 2, 1, 1)
    assert inc["lineage"].tolist() == ["neutrophil", "neutrophil"]  # no platelet values: nothing at risk
