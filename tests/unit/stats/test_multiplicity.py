"""p.adjust and pairwise tests, on hand-worked examples (R values in tests/reference/test_arms_against_R.py)."""

import numpy as np
import pandas as pd
import pytest

from cart_outcomes.errors import InputError
from cart_outcomes.stats import logrank_test, p_adjust, pairwise_logrank_test


def test_holm_by_hand():
    # sorted 0.01, 0.03, 0.04 times 3, 2, 1 = 0.03, 0.06, 0.04; running maximum 0.03, 0.06, 0.06
    assert p_adjust([0.01, 0.04, 0.03], "holm") == pytest.approx([0.03, 0.06, 0.06], rel=1e-12)


def test_bonferroni_caps_at_one_and_keeps_nan_out_of_n():
    out = p_adjust([0.2, np.nan, 0.6], "bonferroni")
    assert out[0] == pytest.approx(0.4) and np.isnan(out[1]) and out[2] == 1.0


def test_unknown_adjustment_is_refused():
    with pytest.raises(InputError, match="holm"):
        p_adjust([0.1], "hochberg")


def test_each_pair_is_the_two_group_logrank_of_its_rows():
    data = pd.DataFrame({"t": [1.0, 2, 3, 4, 5, 6, 7, 8, 9], "e": [1, 1, 0, 1, 1, 0, 1, 0, 1],
                         "g": ["a", "b", "c"] * 3})
    pw = pairwise_logrank_test(data, "t", "e", "g", adjust="none")
    row = pw.table.iloc[0]
    assert (row["group1"], row["group2"]) == ("b", "a")
    assert row["p"] == pytest.approx(logrank_test(data[data["g"] != "c"], "t", "e", by="g").p_value, rel=1e-12)
    assert list(pw.table["p_adjusted"]) == list(pw.table["p"])
