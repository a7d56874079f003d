import numpy as np
import pandas as pd
import pytest

from cart_outcomes.errors import InputError, StatisticalWarning
from cart_outcomes.stats import landmark, mantel_byar, simon_makuch, split_at_exposure

D = pd.DataFrame(
    {"pt": list("ABCDEF"), "t": [100, 30, 200, 70, 150, 60], "ev": [1, 1, 0, 1, 0, 1],
     "h": [40, np.nan, 50, np.nan, 0, 60], "age": [50, 60, 70, 40, 30, 20]}
)


def test_split_conventions_and_carried_columns():
    s = split_at_exposure(D, "t", "ev", "h", id="pt")
    assert list(s.columns) == ["row", "pt", "start", "stop", "event", "exposed", "age"]
    a = s[s["pt"] == "A"]
    np.testing.assert_array_equal(a[["start", "stop", "event", "exposed"]], [[0, 40, 0, 0], [40, 100, 1, 1]])
    assert s.loc[s["pt"] == "E", "exposed"].tolist() == [1]  # exposed at 0: from the start
    assert s.loc[s["pt"] == "F", ["stop", "event", "exposed"]].values.tolist() == [[60, 1, 0]]  # on the event day
    assert s.loc[s["pt"] == "B", "exposed"].tolist() == [0]  # missing: never exposed
    assert len(s) == 8


def test_negative_exposure_time_is_an_error_naming_rows():
    with pytest.raises(InputError, match=r"column 'h'.*negative.*row\(s\) 1"):
        mantel_byar(D.assign(h=[40, -3, 50, np.nan, 0, 60]), "t", "ev", "h")


def test_zero_follow_up_is_an_error():
    with pytest.raises(InputError, match=r"column 't'.*time 0.*row\(s\) 1"):
        split_at_exposure(D.assign(t=[100, 0, 200, 70, 150, 60]), "t", "ev", "h")


def test_missing_event_status_names_rows():
    with pytest.raises(InputError, match=r"column 'ev'.*row\(s\) 2"):
        simon_makuch(D.assign(ev=[1, 1, None, 1, 0, 1]), "t", "ev", "h")


def test_mantel_byar_reports_o_and_e_per_state():
    res = mantel_byar(D, "t", "ev", "h")
    assert res.table["observed"].sum() == D["ev"].sum()
    assert res.table["expected"].sum() == pytest.approx(D["ev"].sum())
    assert res.table["o_minus_e"].sum() == pytest.approx(0, abs=1e-12)
    assert res.df == 1


def test_simon_makuch_min_at_risk():
    res = simon_makuch(D, "t", "ev", "h", min_at_risk=2)
    np.testing.assert_array_equal(res.table["displayed"], res.table["n_risk"] >= 2)
    with pytest.raises(InputError, match="min_at_risk"):
        simon_makuch(D, "t", "ev", "h", min_at_risk=0)


L = pd.DataFrame(
    {
        "t": [100, 30, 200, 70, 150, 60, 120, 90, 180, 45, 130, 110],
        "ev": [1, 1, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1],
        "h": [40, np.nan, 50, np.nan, 0, 60, np.nan, np.nan, 20, np.nan, 80, np.nan],
        "resp": ["CR", "PR"] * 6,
    }
)


def test_landmark_exclusions_and_groups():
    res = landmark(L, "t", "ev", at=60, exposure_time="h")
    # excluded: B (death 30), F (death 60, on the landmark), J (censored 45); K (exposed at 80) stays unexposed
    assert res.n_excluded == {"event at or before the landmark": 2, "censored at or before the landmark": 1}
    assert res.data["row"].tolist() == [0, 2, 3, 4, 6, 7, 8, 10, 11]
    assert res.data["group"].tolist() == ["exposed", "exposed", "unexposed", "exposed", "unexposed", "unexposed",
                                          "exposed", "unexposed", "unexposed"]
    np.testing.assert_array_equal(res.data["time"], [40, 140, 10, 90, 60, 30, 120, 70, 50])
    assert res.data["exposed"].sum() == 4 and "resp" in res.data.columns
    assert res.logrank.statistic >= 0 and res.cox.coefficients["term"].tolist() == ["exposed"]


def test_landmark_exposed_after_can_be_excluded():
    res = landmark(L, "t", "ev", at=45, exposure_time="h", exposed_after="exclude")
    # C (exposed 50) and K (exposed 80) leave; F (exposed on its death day 60) was never exposed during follow-up
    assert res.n_excluded == {
        "exposed after the landmark": 2, "event at or before the landmark": 1, "censored at or before the landmark": 1
    }
    assert 2 not in res.data["row"].tolist() and 10 not in res.data["row"].tolist()
    assert res.data.loc[res.data["row"] == 5, "group"].item() == "unexposed"


def test_landmark_with_a_fixed_group_and_bad_arguments():
    res = landmark(L, "t", "ev", at=20, group="resp")
    assert len(res.data) == 12 and res.logrank is not None
    assert res.cox.coefficients["term"].tolist() == ["groupPR"]
    one = landmark(L, "t", "ev", at=60, exposure_time=[np.nan] * 12)
    assert one.logrank is None and one.cox is None and "only one group" in one.options["note"]
    with pytest.raises(InputError, match="exactly one"):
        landmark(L, "t", "ev", at=20)
    with pytest.raises(InputError, match="no patient"):
        landmark(L, "t", "ev", at=500, exposure_time="h")
    with pytest.raises(InputError, match=">= 0"):
        landmark(L, "t", "ev", at=-1, exposure_time="h")


def test_mantel_byar_without_anyone_exposed_warns():
    with pytest.warns(StatisticalWarning, match="variance is 0"):
        res = mantel_byar(D.assign(h=np.nan), "t", "ev", "h")
    assert np.isnan(res.statistic)


def test_simon_makuch_numbers_at_risk_count_who_is_in_each_state_at_the_tick():
    # exposure days 10 and 30; follow-up 20 (event), 50, 40 (event), 60; patient 3 never exposed
    data = pd.DataFrame({"t": [20, 50, 40, 60], "e": [1, 0, 1, 0], "h": [10, 30, np.nan, np.nan]})
    res = simon_makuch(data, "t", "e", "h", min_at_risk=1)
    at = res.at_risk([0, 10, 15, 30, 45]).pivot(index="time", columns="state", values="n_risk")
    # by hand: at day 0 nobody is exposed; exposure starts just after its day ((start, stop] rows)
    assert at["exposed"].tolist() == [0, 0, 1, 0, 1]  # day 30: patient 2 is exposed only after day 30
    assert at["unexposed"].tolist() == [4, 4, 3, 3, 1]
