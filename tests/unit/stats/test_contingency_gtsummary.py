"""gtsummary's default test choice for categorical variables, on hand-made tables (R values for a real cohort are in
tests/reference/test_arms_against_R.py)."""

import pandas as pd
import pytest
from scipy.stats import chi2_contingency, fisher_exact

from cart_outcomes.stats.contingency import compare_categorical_gtsummary, summarise_by_group


def _series(table):
    values, groups = [], []
    for i, row in enumerate(table):
        for j, n in enumerate(row):
            values += [f"v{i}"] * n
            groups += [f"g{j}"] * n
    return pd.Series(values), pd.Series(groups)


def test_every_expected_count_at_least_5_gives_pearson_without_correction():
    table = [[10, 12], [11, 9]]  # expected counts 10.5, 10.5, 10.5, 10.5
    p, test = compare_categorical_gtsummary(*_series(table))
    assert test == "Pearson's chi-squared test"
    assert p == pytest.approx(chi2_contingency(table, correction=False).pvalue, rel=1e-12)


def test_an_expected_count_below_5_gives_fisher():
    table = [[8, 2], [1, 5]]  # expected 5.06, 4.94, 3.94, 2.06
    p, test = compare_categorical_gtsummary(*_series(table))
    assert test == "Fisher's exact test"
    assert p == pytest.approx(fisher_exact(table).pvalue, rel=1e-12)


def test_quartiles_are_R_type_7_and_tests_can_be_switched_off():
    frame = pd.DataFrame({"x": [1.0, 2, 3, 4, 10], "g": ["a", "a", "b", "b", "b"]})
    out = summarise_by_group(frame, ["x"], by="g", tests="none")
    overall = out[out["group"] == "All"].iloc[0]
    # R: quantile(c(1, 2, 3, 4, 10), c(.25, .75)) = 2, 4
    assert (overall["q1"], overall["median"], overall["q3"]) == (2.0, 3.0, 4.0)
    assert out["test"].eq("").all()
