"""Response flags and rates on the hand-worked cohort (conftest.py): day-28 CR A,B,G; CRi C; PR F; NR D; NE E."""

import pandas as pd
import pytest
from scipy.stats import beta

from cart_outcomes.endpoints import derive_response, response_rates
from cart_outcomes.errors import DataQualityWarning, InputError


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """The exact interval from its beta-quantile definition (Clopper and Pearson 1934)."""
    a = (1 - level) / 2
    low = 0.0 if k == 0 else beta.ppf(a, k, n - k + 1)
    high = 1.0 if k == n else beta.ppf(1 - a, k + 1, n - k)
    return low, high


def test_derive_response_flags(cohort):
    out = derive_response(cohort)
    assert out["day28_responder"].tolist() == [True, True, True, False, False, True, True]
    assert out["day28_complete_response"].tolist() == [True, True, True, False, False, False, True]
    assert out["day28_evaluable"].tolist() == [True, True, True, True, False, True, True]
    assert "day28_responder" not in cohort.columns


def test_derive_best_response_prefix(cohort):
    out = derive_response(cohort, column="best_response", responses=("CR", "CRi"))
    assert out["best_responder"].tolist() == [True, True, True, False, False, False, True]


def test_rates_all_infused(cohort):
    res = response_rates(cohort)
    orr = res.table.set_index("measure").loc["overall_response"]
    assert (orr.responders, orr.n, orr.denominator) == (5, 7, "all_infused")
    assert orr.estimate == pytest.approx(5 / 7, rel=1e-12)
    assert (orr.lower, orr.upper) == pytest.approx(clopper_pearson(5, 7), rel=1e-10)
    cr = res.table.set_index("measure").loc["complete_response"]
    assert (cr.responders, cr.n, cr.categories) == (4, 7, "CR+CRi+CRh")
    assert res.excluded.empty
    assert dict(zip(res.counts.response, res.counts.n, strict=True)) == {
        "CR": 3,
        "CRi": 1,
        "CRh": 0,
        "PR": 1,
        "SD": 0,
        "NR": 1,
        "PD": 0,
        "NE": 1,
        "missing": 0,
    }
    assert res.options["denominator"] == "all_infused"
    assert res.options["ci_method"].startswith("clopper-pearson")


def test_rates_evaluable_excludes_ne(cohort):
    res = response_rates(cohort, denominator="evaluable")
    orr = res.table.set_index("measure").loc["overall_response"]
    assert (orr.responders, orr.n) == (5, 6)
    assert (orr.lower, orr.upper) == pytest.approx(clopper_pearson(5, 6), rel=1e-10)
    assert res.excluded.to_dict("records") == [{"patient_id": "E", "reason": "day28_response = NE (not evaluable)"}]


def test_rates_custom_sets_and_level(cohort):
    res = response_rates(cohort, responses=("CR", "CRi"), conf_level=0.90)
    orr = res.table.set_index("measure").loc["overall_response"]
    assert orr.responders == 4
    assert (orr.lower, orr.upper) == pytest.approx(clopper_pearson(4, 7, 0.90), rel=1e-10)


def test_rates_edge_counts():
    frame = pd.DataFrame({"patient_id": ["a", "b"], "day28_response": ["CR", "CR"]})
    orr = response_rates(frame).table.iloc[0]
    assert (orr.estimate, orr.upper) == (1.0, 1.0)
    assert orr.lower == pytest.approx(clopper_pearson(2, 2)[0], rel=1e-10)


def test_missing_response_warns_and_counts_as_not_evaluable(cohort):
    frame = cohort.copy()
    frame.loc[frame.patient_id == "D", "day28_response"] = None
    with pytest.warns(DataQualityWarning, match="D"):
        res = response_rates(frame, denominator="evaluable")
    assert res.table.iloc[0].n == 5
    assert set(res.excluded.patient_id) == {"D", "E"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"denominator": "itt"}, "denominator"),
        ({"conf_level": 95}, "conf_level"),
        ({"column": "response_d30"}, "response_d30"),
        ({"responses": ()}, "responses"),
    ],
)
def test_bad_arguments(cohort, kwargs, message):
    with pytest.raises(InputError, match=message):
        response_rates(cohort, **kwargs)


def test_evaluable_denominator_of_zero_gives_nan_not_an_error():
    frame = pd.DataFrame({"patient_id": ["a", "b"], "day28_response": ["NE", "NE"]})
    row = response_rates(frame, denominator="evaluable").table.iloc[0]
    assert (row.responders, row.n) == (0, 0)
    assert pd.isna(row.estimate) and pd.isna(row.lower) and pd.isna(row.upper)
