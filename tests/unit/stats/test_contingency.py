"""Table 1 group comparisons against R (tests/reference/report_table1.R: wilcox.test, kruskal.test, fisher.test)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cart_outcomes.stats.contingency import compare_categorical, compare_continuous, fisher_exact_rxc

REF = json.loads((Path(__file__).parents[2] / "reference" / "report_table1.json").read_text())
RTOL = 1e-10


@pytest.fixture
def cohort() -> pd.DataFrame:
    """The 12 patients of tests/reference/report_table1.R (the report tests' cohort)."""
    return pd.DataFrame({
        "age_years": [12, 25, 34, 41, 19, 56, 63, 8, 29, 47, 38, 22],
        "sex": ["F", "M", "M", "F", "M", "M", "F", "M", "F", "M", "M", "F"],
        "diagnosis": ["T-ALL"] * 8 + ["T-LBL"] * 4,
        "hsct": ["yes", "none"] * 6,
        "day28_response": ["CR", "CRi", "NR", "CR", "PR", "NR", "CR", "CRi", "NR", "CR", None, "CR"],
        "crs_max_grade": [1, 2, 3, 1, 2, 3, 1, 1, 3, 2, 3, 1],
    })


def test_table1_p_values_equal_r(cohort):
    known = cohort["day28_response"].notna()
    cases = [
        (compare_continuous(cohort["age_years"], cohort["hsct"]), "age_by_hsct_wilcox_p", "exact"),
        (compare_continuous(cohort["age_years"], cohort["diagnosis"]), "age_by_diagnosis_wilcox_p", "exact"),
        (compare_categorical(cohort["sex"], cohort["hsct"]), "sex_by_hsct_fisher_p", "Fisher"),
        (compare_categorical(cohort["day28_response"][known], cohort["hsct"][known]), "response_by_hsct_fisher_p",
         "Fisher"),
        (compare_categorical(cohort["crs_max_grade"], cohort["diagnosis"]), "crs_by_diagnosis_fisher_p", "Fisher"),
    ]
    for (p, test), key, word in cases:
        assert p == pytest.approx(REF[key], rel=RTOL), key
        assert word in test


def test_wilcoxon_with_ties_uses_rs_normal_approximation():
    values = pd.Series([1, 2, 2, 3, 5, 8, 2, 3, 3, 4, 9, 9, 10], dtype=float)
    groups = pd.Series(["x"] * 6 + ["y"] * 7)
    p, test = compare_continuous(values, groups)
    assert p == pytest.approx(REF["tied_wilcox_p"], rel=RTOL)
    assert "continuity correction" in test


def test_kruskal_and_rxc_fisher_equal_r():
    values = pd.Series([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8], dtype=float)
    groups = pd.Series(["a", "b", "c"] * 4)
    p, test = compare_continuous(values, groups)
    assert p == pytest.approx(REF["kruskal_p"], rel=RTOL) and test == "Kruskal-Wallis test"
    rxc = np.array([[3, 2, 0], [1, 4, 2], [0, 1, 5]])  # R's matrix(c(3,1,0,2,4,1,0,2,5), 3) filled by column
    assert fisher_exact_rxc(rxc) == pytest.approx(REF["rxc_fisher_p"], rel=RTOL)


def test_rxc_fisher_gives_up_beyond_the_enumeration_limit():
    values = pd.Series(list("aabbccaabbcc"))
    groups = pd.Series(list("xyzxyzzyxxyz"))
    assert fisher_exact_rxc(pd.crosstab(values, groups).to_numpy(), max_tables=5) is None
    p, test = compare_categorical(values, groups, max_tables=5)
    assert test == "Pearson's chi-squared test" and 0 <= p <= 1
