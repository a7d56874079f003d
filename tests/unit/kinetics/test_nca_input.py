"""noncompartmental input checks: every bad row in one located error (row, column, value, rule)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cart_outcomes.errors import InputError, ValidationFailed
from cart_outcomes.kinetics import noncompartmental


def good(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame({"patient_id": ["P1"] * n, "day": list(range(0, 7 * n, 7)), "assay": "qpcr",
                         "unit": "copies_per_ug_dna", "value": [100.0] * n})


def bad_frame() -> pd.DataFrame:
    df = pd.DataFrame({
        "patient_id": ["P1", "P1", None, "P2", "P2", "P2", "P2", "P2", "P3"],
        "day": [0, 7, 14, np.nan, -3, 7, 14, 21, 28],
        "matrix": ["peripheral_blood", "blood", None, None, None, None, None, None, None],
        "assay": ["qpcr", "qpcr", "qpcr", "qpcr", "qpcr", "elisa", "flow", "qpcr", "qpcr"],
        "value": [100.0, 50.0, 10.0, 5.0, 1.0, 3.0, 4.0, -2.0, -np.inf],
        "unit": ["copies_per_ug_dna"] * 6 + ["copies_per_ug_dna", "copies_per_ug_dna", "copies_per_ug_dna"],
        "below_loq": [False, False, False, False, False, False, False, False, False],
    })
    df.loc[0, "value"] = np.nan  # missing value while below_loq is false
    return df


def test_every_bad_row_in_one_error_with_positions():
    with pytest.raises(ValidationFailed) as exc:
        noncompartmental(bad_frame())
    err = exc.value
    assert isinstance(err, InputError)
    got = {(p.row, p.column, p.rule) for p in err.problems}
    # header = row 1, so the first data row is row 2
    assert got == {
        (2, "value", "MISSING_VALUE"), (3, "matrix", "VOCABULARY"), (4, "patient_id", "BLANK_ID"),
        (5, "day", "MISSING_VALUE"), (6, "day", "BEFORE_INFUSION"), (7, "assay", "VOCABULARY"),
        (8, "unit", "UNIT_MISMATCH"), (9, "value", "OUT_OF_RANGE"), (10, "value", "BAD_NUMBER"),
    }
    msg = str(err)
    assert "9 problem(s) in 9 row(s)" in msg and "header as row 1" in msg
    assert "patient P1 (row 3), column 'matrix': 'blood' is not one of" in msg
    assert "patient P2 (row 6), column 'day': day -3 is before the infusion" in msg
    assert "column 'value': -2 is negative" in msg
    assert "'copies_per_ug_dna' is not a unit of assay 'flow'" in msg
    values = {p.row: p.value for p in err.problems}
    assert values[3] == "blood" and values[9] == "-2" and values[10] == "-inf"


def test_source_row_numbers_are_used():
    df = bad_frame()
    df["source_row"] = np.arange(len(df)) + 101
    with pytest.raises(ValidationFailed) as exc:
        noncompartmental(df)
    assert sorted({p.row for p in exc.value.problems}) == list(range(101, 110))
    assert "spreadsheet rows of column 'source_row'" in str(exc.value)
    assert "(row 102), column 'matrix'" in str(exc.value)


def test_hand_built_text_columns():
    df = good()
    df["day"] = ["0", "seven", "14"]
    df["value"] = ["100", " ", "n/a"]
    df["below_loq"] = ["no", "yes", "maybe"]
    with pytest.raises(ValidationFailed) as exc:
        noncompartmental(df)
    got = {(p.row, p.column, p.rule) for p in exc.value.problems}
    # row 3: "seven" is not a number; its blank value is allowed (below_loq = yes); row 4: not a boolean, and
    # "n/a" is not a number
    assert got == {(3, "day", "BAD_NUMBER"), (4, "below_loq", "BAD_BOOLEAN"), (4, "value", "BAD_NUMBER")}


def test_below_loq_variants_and_absent_optional_columns():
    df = good(4)
    df["value"] = [0.0, 100.0, np.nan, np.nan]
    df["below_loq"] = [None, 0, "TRUE", True]
    row = noncompartmental(df).table.iloc[0]
    assert row["n_quantifiable"] == 1 and row["clast"] == 100
    assert noncompartmental(good()).table.iloc[0]["matrix"] == "peripheral_blood"  # no matrix/below_loq columns


def test_lloq_is_checked():
    df = good()
    df["lloq"] = [10.0, -1.0, np.nan]
    with pytest.raises(ValidationFailed, match=r"row 3\), column 'lloq'"):
        noncompartmental(df)


def test_missing_columns_and_empty_table():
    with pytest.raises(InputError, match=r"required column\(s\) \['unit'\] missing"):
        noncompartmental(good().drop(columns="unit"))
    with pytest.raises(InputError, match="no rows"):
        noncompartmental(good().iloc[:0])
    with pytest.raises(InputError, match="DataFrame"):
        noncompartmental(42)


def test_long_error_lists_the_first_50_and_keeps_all():
    df = good(120)
    df["value"] = -1.0
    with pytest.raises(ValidationFailed) as exc:
        noncompartmental(df)
    assert len(exc.value.problems) == 120
    assert "... and 70 more" in str(exc.value)
