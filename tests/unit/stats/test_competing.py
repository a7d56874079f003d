import numpy as np
import pandas as pd
import pytest

from cart_outcomes.errors import InputError, StatisticalWarning
from cart_outcomes.stats import cumulative_incidence, fine_gray, gray_test

# 6 patients worked on paper: times 1, 2, 2+, 3, 3, 4 with causes 1, 2, (censored), 1, 2, 1
TINY = pd.DataFrame({"time": [1, 2, 2, 3, 3, 4], "event": [1, 2, 0, 1, 2, 1]})


def test_aalen_johansen_by_hand():
    # t=1: n=6, F1 = 1/6, S = 5/6; t=2: n=5, F2 = (5/6)(1/5) = 1/6, S = 2/3 (one censored);
    # t=3: n=3, F1 += (2/3)(1/3), F2 += (2/3)(1/3), S = 2/9; t=4: n=1, F1 += 2/9
    res = cumulative_incidence(TINY, "time", "event")
    f1 = res.table[res.table["cause"] == "1"]
    f2 = res.table[res.table["cause"] == "2"]
    np.testing.assert_allclose(f1["estimate"], [1 / 6, 1 / 6, 7 / 18, 11 / 18], rtol=1e-14)
    np.testing.assert_allclose(f2["estimate"], [0, 1 / 6, 7 / 18, 7 / 18], rtol=1e-14)
    np.testing.assert_array_equal(f1["n_risk"], [6, 5, 3, 1])
    np.testing.assert_array_equal(f1["n_censor"], [0, 1, 0, 0])
    # cmprsk (Gray) variance at t=1: increment w = S(0-)^2 d/n^2 = 1/36, a = 1/S(1) = 6/5, b = 1 + a F = 6/5;
    # v1 = b^2 w, v2 = a b w, v3 = a^2 w, var = v1 + F^2 v3 - 2 F v2 = (36/25)(1/36)(1 - 1/6)^2 = 1/36
    assert f1["std_err_cmprsk"].iloc[0] ** 2 == pytest.approx(1 / 36, rel=1e-12)


def test_at_before_first_event_and_after_last_time():
    res = cumulative_incidence(TINY, "time", "event")
    at = res.at([0.5, 10])
    c1 = at[at["cause"] == "1"]
    np.testing.assert_allclose(c1["estimate"], [0, 11 / 18])
    np.testing.assert_array_equal(c1["n_risk"], [6, 0])


def test_string_labels_need_a_censor_label():
    d = TINY.assign(event=TINY["event"].map({0: "censored", 1: "relapse", 2: "nrm"}))
    with pytest.raises(InputError, match="censor="):
        cumulative_incidence(d, "time", "event")
    res = cumulative_incidence(d, "time", "event", censor="censored", causes={"relapse": "Relapse", "nrm": "NRM"})
    assert res.labels == ["Relapse", "NRM"]
    num = cumulative_incidence(TINY, "time", "event")
    np.testing.assert_allclose(res.table["estimate"], num.table["estimate"])


def test_undeclared_event_code_names_column_and_rows():
    d = TINY.assign(event=[1, 2, 0, 3, 2, 1])
    with pytest.raises(InputError, match=r"column 'event'.*\['3'\].*row\(s\) 3"):
        cumulative_incidence(d, "time", "event", causes=[1, 2])


def test_missing_values_name_column_and_rows():
    with pytest.raises(InputError, match=r"column 'time'.*row\(s\) 2"):
        cumulative_incidence(TINY.assign(time=[1, 2, np.nan, 3, 3, 4]), "time", "event")
    with pytest.raises(InputError, match=r"column 'event'.*row\(s\) 4"):
        cumulative_incidence(TINY.assign(event=[1, 2, 0, 1, None, 1]), "time", "event")
    with pytest.raises(InputError, match=r"column 'grp'.*row\(s\) 0"):
        cumulative_incidence(TINY.assign(grp=[None, "a", "a", "b", "b", "b"]), "time", "event", by="grp")


def test_bad_options():
    with pytest.raises(InputError, match="conf_type"):
        cumulative_incidence(TINY, "time", "event", conf_type="arcsin")
    with pytest.raises(InputError, match="conf_level"):
        cumulative_incidence(TINY, "time", "event", conf_level=95)
    with pytest.raises(InputError, match="no event"):
        cumulative_incidence(TINY.assign(event=0), "time", "event")


def test_gray_test_needs_two_groups_and_a_known_cause():
    with pytest.raises(InputError, match="at least 2 groups"):
        gray_test(TINY.assign(g="a"), "time", "event", by="g")
    with pytest.raises(InputError, match="cause=5"):
        gray_test(TINY.assign(g=list("aabbab")), "time", "event", by="g", cause=5)


def test_gray_test_singular_variance_warns():
    # group b has no events of any kind: the variance of its score is zero
    d = pd.DataFrame({"time": [1, 2, 3, 0.5, 0.6, 0.7], "event": [1, 2, 1, 0, 0, 0], "g": list("aaabbb")})
    with pytest.warns(StatisticalWarning, match="singular"):
        res = gray_test(d, "time", "event", by="g", cause=1)
    assert np.isnan(res.table["statistic"].iloc[0])


def test_fine_gray_input_errors():
    d = TINY.assign(x=[1.0] * 6, s=["a"] * 6)
    with pytest.raises(InputError, match="column 'x'.*single value"):
        fine_gray(d, "time", "event", ["x"])
    with pytest.raises(InputError, match="column 's'.*single level"):
        fine_gray(d, "time", "event", "s")
    with pytest.raises(InputError, match="at least one covariate"):
        fine_gray(d, "time", "event", [])


def test_fine_gray_row_order_irrelevant():
    rng = np.random.default_rng(3)
    d = pd.DataFrame({"time": rng.integers(1, 20, 80), "event": rng.integers(0, 3, 80), "x": rng.normal(size=80)})
    a = fine_gray(d, "time", "event", ["x"])
    b = fine_gray(d.sample(frac=1, random_state=1), "time", "event", ["x"])
    np.testing.assert_allclose(a.coefficients[["coef", "se"]], b.coefficients[["coef", "se"]], rtol=1e-10)


def test_plain_ci_is_zero_width_at_zero_and_stratum_without_events_adds_nothing():
    res = cumulative_incidence(TINY, "time", "event", conf_type="plain")
    first = res.table[res.table["cause"] == "2"].iloc[0]
    assert (first["estimate"], first["lower"], first["upper"]) == (0.0, 0.0, 0.0)
    d = pd.concat([TINY.assign(g=list("ababab"), s="x"),
                   pd.DataFrame({"time": [5, 6], "event": [0, 0], "g": ["a", "b"], "s": "y"})])
    with_empty = gray_test(d, "time", "event", by="g", strata="s")
    without = gray_test(d[d["s"] == "x"], "time", "event", by="g")
    np.testing.assert_allclose(with_empty.table["statistic"], without.table["statistic"], rtol=1e-12)
