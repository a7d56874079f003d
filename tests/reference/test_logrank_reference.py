"""The log-rank family against R (values written by logrank_reference.R; this test never needs R).

* ``survdiff_rho_*``: R ``survival::survdiff`` itself.
* ``gehan_breslow``, ``tarone_ware``, ``fleming_harrington_*``: not in survdiff; computed in the R script by hand,
  one event time at a time (function ``wlr``), after checking that ``wlr`` reproduces survdiff for rho = 0 and 1.
* ``trend``: (s'(O-E))^2 / (s'Vs) from survdiff's obs, exp and var.
* ``hazard_ratio``: GraphPad Prism's formulas applied to survdiff's O, E and V.
* ``exact``: brute force, survdiff over every combn() relabelling.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cart_outcomes.stats import exact_logrank_test, hazard_ratio_logrank, logrank_test, logrank_trend_test
from cart_outcomes.stats.logrank import _logrank_scores

REF = json.loads((Path(__file__).parent / "logrank_reference.json").read_text())
RTOL = 1e-10  # closed-form estimates vs R (style guide)

TESTS = {
    "survdiff_rho_0": {},
    "survdiff_rho_0.5": {"rho": 0.5},
    "survdiff_rho_1": {"rho": 1},
    "gehan_breslow": {"weights": "gehan-breslow"},
    "tarone_ware": {"weights": "tarone-ware"},
    "fleming_harrington_1_1": {"weights": ("fleming-harrington", 1, 1)},
    "fleming_harrington_0_1": {"weights": ("fleming-harrington", 0, 1)},
}


def _frame(case: dict) -> tuple[pd.DataFrame, str | None]:
    df = pd.DataFrame(case["data"])
    return df, ("strata" if "strata" in df else None)


def _r_order(case: dict, levels: tuple) -> list[int]:
    """Positions of R's groups (factor-level order, named 'group=<label>') among our sorted levels."""
    r_labels = [g.removeprefix("group=") for g in case["survdiff_rho_0"]["groups"]]
    return [list(levels).index(lab) for lab in r_labels]


def _close(actual, expected, scale: float = 1.0) -> None:
    # relative 1e-10; entries that are 0 in R (structural zeros) may be round-off small relative to the scale
    np.testing.assert_allclose(actual, np.asarray(expected, dtype=float), rtol=RTOL, atol=1e-13 * scale)


CASES = [(name, test) for name in REF["cases"] for test in TESTS]


@pytest.mark.parametrize(("case_name", "test"), CASES)
def test_logrank_against_R(case_name: str, test: str) -> None:
    case = REF["cases"][case_name]
    r = case[test]
    df, strata = _frame(case)
    res = logrank_test(df, "time", "event", "group", strata=strata, **TESTS[test])
    order = _r_order(case, res.groups)
    scale = float(np.max(np.abs(r["var"])))
    _close(res.statistic, r["chisq"])
    assert res.df == r["df"]
    _close(res.p_value, r["p_value"])
    _close(res.observed[order], r["observed"], scale)
    _close(res.expected[order], r["expected"], scale)
    _close(res.variance[np.ix_(order, order)], r["var"], scale)
    if test == "survdiff_rho_0":
        _close(res.n[order], case[test]["n"])
        tab = res.table
        assert list(tab.columns) == ["group", "n", "events", "observed", "expected", "oe2_over_e", "oe2_over_v"]
        oe2 = (np.asarray(r["observed"]) - r["expected"]) ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            _close(tab["oe2_over_e"].to_numpy()[order], oe2 / np.asarray(r["expected"]), scale)


@pytest.mark.parametrize("case_name", [n for n, c in REF["cases"].items() if "trend" in c])
def test_trend_against_R(case_name: str) -> None:
    case = REF["cases"][case_name]
    df, strata = _frame(case)
    base = logrank_test(df, "time", "event", "group", strata=strata)
    order = _r_order(case, base.groups)
    scores = np.empty(len(order))
    scores[order] = case["trend"]["scores"]  # R's scores are in R's level order
    res = logrank_trend_test(df, "time", "event", "group", scores=scores, strata=strata)
    _close(res.statistic, case["trend"]["chisq"])
    _close(res.p_value, case["trend"]["p_value"])
    _close(res.z, case["trend"]["u"] / math.sqrt(case["trend"]["v"]))
    assert res.df == 1


@pytest.mark.parametrize("case_name", [n for n, c in REF["cases"].items() if "hazard_ratio" in c])
def test_prism_hazard_ratios_against_R(case_name: str) -> None:
    case = REF["cases"][case_name]
    df, strata = _frame(case)
    r_labels = [g.removeprefix("group=") for g in case["survdiff_rho_0"]["groups"]]
    res = hazard_ratio_logrank(df, "time", "event", "group", reference=r_labels[0], strata=strata)
    assert res.group == r_labels[1]
    tab = res.table.set_index("method")
    for method, key in (("logrank_oe_ratio", "logrank"), ("mantel_haenszel", "mantel_haenszel")):
        expected = case["hazard_ratio"][key]
        _close(
            tab.loc[method, ["hazard_ratio", "lower", "upper"]].to_numpy(float),
            [expected["hr"], expected["lower"], expected["upper"]],
        )


def test_survey_parity_numbers_lung_sex() -> None:
    """Survival software survey D.5 / D.7 (lung, sex), the numbers users compare against."""
    case = REF["cases"]["lung_sex"]
    df = pd.DataFrame(case["data"])
    assert round(logrank_test(df, "time", "event", "group").statistic, 6) == 10.326742
    assert round(logrank_test(df, "time", "event", "group", rho=1).statistic, 6) == 12.714151
    assert round(logrank_test(df, "time", "event", "group", weights="gehan-breslow").statistic, 6) == 12.472135
    assert round(logrank_test(df, "time", "event", "group", weights="tarone-ware").statistic, 6) == 12.455544
    tab = hazard_ratio_logrank(df, "time", "event", "group", reference="male").table.set_index("method")
    cols = ["hazard_ratio", "lower", "upper"]
    assert tab.loc["logrank_oe_ratio", cols].astype(float).round(4).tolist() == [0.5903, 0.4342, 0.8024]
    assert tab.loc["mantel_haenszel", cols].astype(float).round(4).tolist() == [0.6030, 0.4430, 0.8210]


@pytest.mark.parametrize("case_name", list(REF["exact"]))
def test_exact_permutation_against_R_brute_force(case_name: str) -> None:
    case = REF["exact"][case_name]
    df = pd.DataFrame(case["data"])
    res = exact_logrank_test(df, "time", "event", "group")
    assert res.n_permutations == case["n_relabellings"]
    _close(res.p_value, case["p_value_abs_o_minus_e"])
    _close(res.statistic, case["o_minus_e"], 1.0)
    _close(res.chisq, case["chisq"])
    _close(res.p_value_asymptotic, case["p_value_asymptotic"])


@pytest.mark.parametrize("case_name", list(REF["exact"]))
def test_permutation_distribution_matches_R(case_name: str) -> None:
    """R's survdiff O - E of every relabelling = the sum of the fixed per-subject log-rank scores over the group
    (the identity the exact enumeration relies on)."""
    case = REF["exact"][case_name]
    df = pd.DataFrame(case["data"])
    n2 = int((df["group"] == sorted(df["group"].unique())[1]).sum())
    scores = _logrank_scores(df["time"].to_numpy(float), df["event"].to_numpy(float))
    sums = [scores[list(idx)].sum() for idx in itertools.combinations(range(len(df)), n2)]
    _close(np.sort(sums), case["all_o_minus_e"], 1.0)
