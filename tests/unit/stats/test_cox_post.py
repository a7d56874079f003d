"""cox_ph: R's robust-variance rule and the post-fit tools' behaviour (numbers against R are in
tests/reference/test_cox_extras_against_R.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cart_outcomes.errors import InputError, StatisticalWarning
from cart_outcomes.stats import cox_ph

D = pd.DataFrame({
    "time": [1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
    "event": [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0],
    "x": [0.5, -1.0, 0.2, 1.5, -0.3, 0.8, -1.2, 0.1, 0.9, -0.6, 1.1, 0.0],
    "site": ["a", "a", "b", "b", "c", "c", "a", "b", "c", "a", "b", "c"],
    "w_int": [1, 2, 1, 3, 1, 1, 2, 1, 1, 2, 1, 1],
    "w_frac": [1, 1.5, 1, 0.5, 1, 1, 2, 1, 1, 2, 1, 1],
})  # fmt: skip


def test_non_integer_weights_default_to_the_robust_variance_as_R():
    assert not cox_ph(D, "time", "event", ["x"], weights="w_int").options["robust"]
    fit = cox_ph(D, "time", "event", ["x"], weights="w_frac")
    assert fit.options["robust"] and np.isfinite(fit.coefficients["robust_se"]).all()
    naive = cox_ph(D, "time", "event", ["x"], weights="w_frac", robust=False)
    assert not naive.options["robust"] and naive.coefficients["robust_se"].isna().all()
    # same fit, only the variance differs: z uses the robust SE by default
    assert fit.coefficients["coef"].iloc[0] == naive.coefficients["coef"].iloc[0]
    c = fit.coefficients.iloc[0]
    assert c["z"] == pytest.approx(c["coef"] / c["robust_se"], rel=1e-12)


def test_robust_false_with_a_cluster_ignores_it_with_a_warning_as_R():
    with pytest.warns(StatisticalWarning, match="cluster is ignored"):
        fit = cox_ph(D, "time", "event", ["x"], cluster="site", robust=False)
    assert not fit.options["robust"] and fit.options["cluster"] is None
    with pytest.raises(InputError, match="robust must be True, False or None"):
        cox_ph(D, "time", "event", ["x"], robust="yes")


def test_residual_sums_at_the_maximum():
    """At the MLE the score residuals sum to the score (0) and the martingale residuals to 0."""
    for ties in ("efron", "breslow"):
        fit = cox_ph(D, "time", "event", ["x"], ties=ties, weights="w_int")
        assert abs(fit.residuals("score", weighted=True).to_numpy().sum()) < 1e-8
        assert abs(fit.residuals("martingale", weighted=True).sum()) < 1e-12


def test_collapse_by_the_fit_cluster_and_located_errors():
    fit = cox_ph(D, "time", "event", "x + cluster(site)")
    by_cluster = fit.residuals("dfbeta", collapse=True)
    by_column = fit.residuals("dfbeta", collapse=D["site"])
    assert by_column.index.tolist() == ["a", "b", "c"]
    np.testing.assert_allclose(by_cluster.to_numpy(), by_column.to_numpy(), rtol=1e-14)
    # the robust variance is the crossproduct of the dfbetas collapsed by cluster
    np.testing.assert_allclose(by_column.T @ by_column, fit.vcov, rtol=1e-12)
    with pytest.raises(InputError, match="one value per row"):
        fit.residuals("score", collapse=[1, 2])
    with pytest.raises(InputError, match=r"collapse: missing value for data row\(s\) 3"):
        fit.residuals("score", collapse=D["site"].where(D.index != 3))
    with pytest.raises(InputError, match="type must be one of"):
        fit.residuals("pearson")
    with pytest.raises(InputError, match="not available for ties='exact'"):
        cox_ph(D, "time", "event", ["x"], ties="exact").residuals("schoenfeld")
    with pytest.raises(InputError, match=r"column\(s\) \['x'\] missing"):
        fit.predict(pd.DataFrame({"z": [1]}))
    with pytest.raises(InputError, match="follow-up column"):
        fit.predict(pd.DataFrame({"x": [1]}), type="expected")


def test_survfit_limits_follow_the_fit_conf_level_unless_given():
    fit90 = cox_ph(D, "time", "event", ["x"], conf_level=0.9)
    new = pd.DataFrame({"x": [0.3]})
    default = fit90.survfit(new)
    assert default[["lower", "upper"]].equals(fit90.survfit(new, conf_level=0.9)[["lower", "upper"]])
    wider = fit90.survfit(new, conf_level=0.95)
    inner = default["std_chaz"] > 0
    assert (wider.loc[inner, "lower"] < default.loc[inner, "lower"]).all()
