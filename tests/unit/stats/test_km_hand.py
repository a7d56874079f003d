"""The six-patient example of docs/stats/kaplan-meier.md, computed by hand (values shown as the arithmetic)."""

import math

import numpy as np

from cart_outcomes.stats import at_risk_table, kaplan_meier

TIMES = [3, 5, 6, 6, 8, 10]
EVENTS = [1, 0, 1, 1, 0, 1]
Z = 1.959963984540054  # qnorm(0.975)


def loglog(s: float, var_log: float) -> tuple[float, float]:
    a = Z * math.sqrt(var_log) / math.log(s)
    ll = math.log(-math.log(s))
    return math.exp(-math.exp(ll - a)), math.exp(-math.exp(ll + a))


def test_six_patients_by_hand():
    fit = kaplan_meier(None, TIMES, EVENTS)  # default conf_type = log-log
    tab = fit.table
    np.testing.assert_array_equal(tab["time"], [3, 5, 6, 8, 10])
    np.testing.assert_array_equal(tab["n_risk"], [6, 5, 4, 2, 1])
    np.testing.assert_array_equal(tab["n_event"], [1, 0, 2, 0, 1])
    np.testing.assert_array_equal(tab["n_censor"], [0, 1, 0, 1, 0])
    s3, s6 = 5 / 6, 5 / 6 * 2 / 4
    v3, v6 = 1 / (6 * 5), 1 / (6 * 5) + 2 / (4 * 2)
    np.testing.assert_allclose(tab["survival"], [s3, s3, s6, s6, 0.0], rtol=1e-14)
    se = tab["std_err"].to_numpy()
    np.testing.assert_allclose(se[:4], [s3 * math.sqrt(v3)] * 2 + [s6 * math.sqrt(v6)] * 2, rtol=1e-14)
    assert math.isnan(se[4])  # S = 0: Greenwood undefined, as R
    np.testing.assert_allclose(se[[0, 2]], [0.152145, 0.221788], atol=5e-7)  # the doc's rounded values
    lo3, up3 = loglog(s3, v3)
    lo6, up6 = loglog(s6, v6)
    np.testing.assert_allclose(tab["lower"][:4], [lo3, lo3, lo6, lo6], rtol=1e-13)
    np.testing.assert_allclose(tab["upper"][:4], [up3, up3, up6, up6], rtol=1e-13)
    np.testing.assert_allclose([lo3, up3, lo6, up6], [0.273123, 0.974712, 0.055992, 0.766522], atol=5e-7)
    assert np.isnan(tab["lower"][4]) and np.isnan(tab["upper"][4])
    np.testing.assert_allclose(tab["cumhaz"], [1 / 6, 1 / 6, 2 / 3, 2 / 3, 5 / 3], rtol=1e-14)
    np.testing.assert_allclose(tab["cumhaz_se"][2], math.sqrt(1 / 36 + 2 / 16), rtol=1e-14)
    med = fit.medians.iloc[0]
    assert (med["n"], med["events"], med["median"], med["lower"]) == (6, 4, 6, 3)
    assert math.isnan(med["upper"])  # the upper curve never reaches 0.5
    risk = at_risk_table(fit, [0, 5, 6, 9])
    np.testing.assert_array_equal(risk["n_risk"], [6, 5, 4, 1])
    np.testing.assert_array_equal(risk["cum_event"], [0, 1, 3, 3])
    np.testing.assert_array_equal(risk["cum_censor"], [0, 1, 1, 2])


def test_flat_half_gives_the_midpoint():
    # S = 0.5 exactly between day 10 and day 11 (20 deaths on days 1..20): R and Prism give 10.5
    assert kaplan_meier(None, np.arange(1, 21), np.ones(20)).median()[0] == 10.5
    # (1, 2, 3, 5+, 6, 7): S = 0.5 from day 3 to day 6 -> 4.5
    assert kaplan_meier(None, [1, 2, 3, 5, 6, 7], [1, 1, 1, 0, 1, 1]).median()[0] == 4.5


def test_rmst_by_hand():
    # area under S up to tau = 7: 3 x 1 + 3 x 5/6 + 1 x 5/12
    res = kaplan_meier(None, TIMES, EVENTS).rmst(7).iloc[0]
    assert math.isclose(res["rmst"], 3 + 3 * 5 / 6 + 5 / 12, rel_tol=1e-14)
    # variance: A(3)^2 d/(n(n-d)) at t=3 + A(6)^2 d/(n(n-d)) at t=6, A = area from t_j to tau
    a3, a6 = 3 * 5 / 6 + 5 / 12, 5 / 12
    assert math.isclose(res["std_err"], math.sqrt(a3**2 / 30 + a6**2 * 2 / 8), rel_tol=1e-14)
