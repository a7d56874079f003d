"""Populations of conditions: selection, wording and the messages for conditions the cohort cannot meet."""

import pandas as pd

from cart_outcomes.plan.populations import check_population, describe, select, slug

FRAME = pd.DataFrame({"diagnosis": ["B-ALL", "LBCL", "MCL", None], "age_years": [70.0, 40, 66, None],
                      "lines": [1.0, 2, 3, 2], "resp": [True, False, True, True]})


def _responders(f):
    return f["resp"]


def test_conditions_combine_and_missing_values_are_outside():
    got = select(FRAME, {"diagnosis": ["B-ALL", "MCL"], "age_years": ">= 65"}, _responders)
    assert list(got.index) == [0, 2]
    assert list(select(FRAME, {"lines": 2}, _responders).index) == [1, 3]  # a number matches 2.0
    assert list(select(FRAME, {"responders": False}, _responders).index) == [1]


def test_the_population_is_stated_in_words_and_as_a_file_name():
    spec = {"diagnosis": ["B-ALL"], "age_years": ">= 65"}
    assert describe(spec) == "diagnosis in {B-ALL}, age_years >= 65"
    assert slug(spec) == "diagnosis-B-ALL_age_years-ge65"
    assert describe("responders") == "responders"


def test_unknown_columns_levels_and_non_numeric_comparisons_are_named():
    problems = check_population({"diagnosis": ["B-AL"], "agex": 1, "diagnosis2": "x", "age_years": "> 1"},
                                FRAME.assign(diagnosis2=FRAME["diagnosis"]), "analyses (os)")
    assert problems[0] == ("analyses (os): population diagnosis: 'B-AL' not found in column 'diagnosis' "
                           "(values: B-ALL, LBCL, MCL)")
    assert "column 'agex' is not in the cohort" in problems[1]
    assert "'x' not found" in problems[2]
    assert len(problems) == 3
    assert check_population({"diagnosis": "> 3"}, FRAME, "w") == [
        "w: population diagnosis: '> 3' compares with a number, but column 'diagnosis' is not numeric"]
