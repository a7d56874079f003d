"""binomial_ci and fisher_exact against R binom.test / prop.test(correct=FALSE) / qbeta / fisher.test."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cart_outcomes.stats import binomial_ci, fisher_exact

REF = json.loads((Path(__file__).parent / "km_reference.json").read_text())
RTOL = 1e-10


def one(v):
    return v[0] if isinstance(v, list) else v


@pytest.mark.parametrize("ref", REF["binom"], ids=lambda r: f"{one(r['x'])}of{one(r['n'])}")
@pytest.mark.parametrize("method", ["clopper-pearson", "wilson", "jeffreys"])
def test_binomial_ci_against_R(ref, method):
    x, n = int(one(ref["x"])), int(one(ref["n"]))
    for key in ("cl95", "cl90"):
        r = ref[key]
        res = binomial_ci(x, n, method=method, conf_level=one(r["conf_level"]))
        expected = r[method.replace("-", "_")]
        np.testing.assert_allclose([res.lower, res.upper], expected, rtol=RTOL, atol=1e-15, err_msg=f"{method} {key}")
        assert res.estimate == x / n
        assert res.method == method


@pytest.mark.parametrize("ref", REF["fisher"], ids=lambda r: "-".join(str(int(v)) for v in r["table"]))
def test_fisher_exact_against_R(ref):
    table = np.array(ref["table"], dtype=int).reshape(2, 2)
    res = fisher_exact(table)
    got = [res.p_value, res.odds_ratio, res.lower, res.upper]
    exp = [one(ref[k]) for k in ("p_value", "odds_ratio", "lower", "upper")]
    exp = [np.inf if v == "Inf" else v for v in exp]
    np.testing.assert_allclose(got, exp, rtol=RTOL, atol=1e-15)
    res90 = fisher_exact(table, conf_level=0.9)
    exp90 = [np.inf if one(ref[k]) == "Inf" else one(ref[k]) for k in ("lower90", "upper90")]
    np.testing.assert_allclose([res90.lower, res90.upper], exp90, rtol=RTOL, atol=1e-15)
