"""Report tables: each formatter shows the numbers it is given (Table 1 summary, rate records, grade distribution,
survival records), and formula-injection protection of the CSV/XLSX exports."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from report_cases import (
    FORMULA_ID,
    MEASURES,
    SCRIPT_GROUP,
    SCRIPT_ID,
    km_records,
    response_parts,
    safety_distribution,
)

from cart_outcomes.errors import InputError
from cart_outcomes.report import tables as T
from cart_outcomes.report._format import format_p, round_half_up
from cart_outcomes.stats.contingency import summarise_by_group
from cart_outcomes.stats.km import kaplan_meier

REF = json.loads((Path(__file__).parents[1] / "reference" / "report_table1.json").read_text())
RTOL = 1e-10
VARIABLES = {"age_years": "Age, years", "sex": "Sex", "day28_response": "Response"}


def test_baseline_table_layout(cohort):
    table = T.baseline_table(summarise_by_group(cohort, VARIABLES, by="hsct"))
    assert list(table.columns) == ["Characteristic", "All (N = 12)", f"{SCRIPT_GROUP} (N = 6)", "none (N = 6)", "p",
                                   "Test"]
    rows = table.set_index("Characteristic")
    # age: median of the 12 ages is (29 + 34) / 2 = 31.5, range 8-63
    assert rows.loc["Age, years, median (range)", "All (N = 12)"] == "31.5 (8–63)"
    assert rows.loc["Age, years, median (range)", "p"] == format_p(REF["age_by_hsct_wilcox_p"])
    assert rows.loc["    Female", "All (N = 12)"] == "5 (42%)"  # 5/12 = 41.7%; words, never the code F
    # clinical order: the schema's vocabulary (M, F), responses best first, not evaluable and missing last
    assert list(table["Characteristic"]).index("    Male") < list(table["Characteristic"]).index("    Female")
    assert list(table["Characteristic"])[-6:] == ["Response, n (%)", "    CR", "    CRi", "    PR", "    NR",
                                                  "    Missing"]
    # response: 11 known; CR in 5 of them; one missing row
    assert rows.loc["    CR", "All (N = 12)"] == "5 (45%)"
    assert rows.loc["    Missing", "All (N = 12)"] == "1"
    assert rows.loc["Response, n (%)", "p"] == format_p(REF["response_by_hsct_fisher_p"])
    # row order does not depend on input order
    shuffled = T.baseline_table(summarise_by_group(cohort.sample(frac=1, random_state=3), VARIABLES, by="hsct"))
    pd.testing.assert_frame_equal(table, shuffled)


def test_response_table_shows_the_rates_it_is_given(cohort):
    counts, rates = response_parts(cohort)
    table = T.response_table(counts, rates, conf_pct=95, measures=MEASURES)
    last = table.iloc[-2]  # overall response, then complete response
    lo, hi = REF["orr_8_of_12_cp"]
    assert last["Response"].endswith("% (95% CI)")
    # the rounding policy: one decimal, the interval without repeated % signs (8/12 = 66.7%)
    assert last["All (N = 12)"] == f"8/12, 66.7% ({round_half_up(100 * lo, 1)}–{round_half_up(100 * hi, 1)})"
    # a missing response is listed, never dropped from the category counts
    assert table.set_index("Response").loc["Not recorded", "All (N = 12)"] == "1 (8%)"
    # an evaluable-only rate is shown as given: 8/11, with its own interval
    evaluable = [{**rates[0], "n": 11, "estimate": 8 / 11, "lower": 0.39, "upper": 0.94}]
    again = T.response_table(counts, evaluable, conf_pct=90, measures=MEASURES)
    assert again.iloc[-1]["All (N = 12)"] == "8/11, 72.7% (39.0–94.0)"  # 8/11 = 0.72727


def test_safety_table_formats_the_grade_distribution(cohort):
    table = T.safety_table(safety_distribution(cohort), conf_pct=95)
    grades = table["Grade"].tolist()
    # one block per toxicity and system, headed in words (never ASTCT2019), rows as journals print them
    crs_at, icans_at = grades.index("CRS, ASTCT 2019"), grades.index("ICANS, ASTCT 2019")
    assert grades[crs_at:icans_at] == ["CRS, ASTCT 2019", "    Any grade", "    Grade 1–2", "    Grade ≥3",
                                       "        Grade 3", "        Grade 4", "        Grade 5"]
    crs = table.iloc[crs_at:icans_at].set_index("Grade")
    # CRS grades 1,2,3,1,2,3,1,1,3,2,3,1 -> grade 1: 5, grade 2: 3, grade 3: 4; grade 1-2: 8 of 12
    assert crs.loc["    Any grade", "n (%)"] == "12 (100%)"
    assert crs.loc["    Grade 1–2", "n (%)"] == "8 (67%)" and crs.loc["        Grade 3", "n (%)"] == "4 (33%)"
    lo, hi = REF["crs_grade3_4_of_12_cp"]
    ci = "95% CI, % (Clopper-Pearson)"
    assert crs.loc["    Grade ≥3", ci] == f"{round_half_up(100 * lo, 1)}–{round_half_up(100 * hi, 1)}"
    icans = table.iloc[icans_at:].set_index("Grade")
    assert icans.loc["    Any grade", "n (%)"] == "1 (9%)"  # 1 of 11 graded patients


def test_survival_summary_reads_the_records(cohort):
    km = kaplan_meier(cohort, "os_days", "os_event", by="hsct")
    table = T.survival_summary_table(km_records(km, [6]), endpoint="os", unit="months", conf_pct=95)
    medians = km.medians.set_index("group")
    at = km.at([6 * 30.4375]).set_index("group")
    for _, row in table.iterrows():
        m = medians.loc[row["Group"]]
        assert row["N"] == f"{m['n']:g}" and row["Events"] == f"{m['events']:g}"
        assert row["Median (95% CI), months"].startswith(f"{m['median'] / 30.4375:.1f} (")
        assert row["6-month OS (95% CI)"].startswith(f"{100 * at.loc[row['Group'], 'survival']:.1f}% (")
    assert "NR" in table["Median (95% CI), months"].iloc[0]  # upper limit not reached, R prints NA


def test_hsct_comparison_flags_the_naive_rows():
    analyses = pd.DataFrame({
        "analysis": ["Naive log-rank", "Time-dependent Cox"], "handles_immortal_time": [False, True],
        "estimate": [np.nan, 0.8], "lower": [np.nan, 0.3], "upper": [np.nan, 2.1], "p_value": [0.022, 0.31],
    })
    table = T.hsct_comparison_table(analyses, conf_pct=90)
    assert table["Accounts for immortal time"].tolist() == ["No (biased in favour of HSCT)", "Yes"]
    assert table["HR (90% CI)"].tolist() == ["—", "0.80 (0.30–2.10)"]
    assert table["p"].tolist() == ["0.022", "0.31"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"), ("+cmd", "'+cmd"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
        ("\r=1", "'\r=1"), ("-1.5", "-1.5"), ("+3", "+3"), ("plain", "plain"), (-1.5, -1.5), (-3, -3),
        ("a\x00b", "a\ufffdb"),
    ],
)
def test_neutralise_cell(value, expected):
    assert T.neutralise_cell(value) == expected


def test_csv_export_neutralises_text_and_keeps_numbers(cohort, tmp_path):
    frame = cohort[["patient_id", "age_years", "note"]].assign(delta=-np.arange(12, dtype=float))
    path = T.write_csv(frame, tmp_path / "t.csv")
    back = pd.read_csv(path, keep_default_na=False)
    ids = back["patient_id"].tolist()
    assert ids[1] == "'" + FORMULA_ID and ids[3] == "'@SUM(A1:A2)" and ids[4] == "'+1+1" and ids[5] == "'-2+3"
    assert ids[0] == SCRIPT_ID  # not a formula: left as is (CSV is not HTML)
    assert back["note"][0].startswith("'=cmd")
    assert back["delta"].tolist() == (-np.arange(12, dtype=float)).tolist()  # negative numbers stay numbers
    assert back["age_years"].dtype.kind == "i"


def test_xlsx_export_stores_text_not_formulas(cohort, tmp_path):
    from openpyxl import load_workbook

    frame = cohort[["patient_id", "age_years", "note"]].assign(delta=-np.arange(12, dtype=float))
    path = T.write_xlsx({"Patients": frame, "=bad'name[1]": frame.head(2)}, tmp_path / "t.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == ["Patients", "=bad_name_1_"]
    ws = wb["Patients"]
    cells = {ws.cell(row=1, column=j).value: j for j in range(1, 5)}
    id_cell = ws.cell(row=3, column=cells["patient_id"])
    assert id_cell.data_type == "s" and id_cell.value == "'" + FORMULA_ID
    assert ws.cell(row=2, column=cells["note"]).data_type == "s"
    assert ws.cell(row=2, column=cells["note"]).value.startswith("'=cmd")
    for row in range(2, 14):
        assert ws.cell(row=row, column=cells["delta"]).data_type == "n"
        assert ws.cell(row=row, column=cells["age_years"]).data_type == "n"
    assert ws.cell(row=3, column=cells["delta"]).value == -1.0
    # no cell anywhere is a formula
    assert all(c.data_type != "f" for sheet in wb for r in sheet.iter_rows() for c in r)


def test_workbook_keeps_display_and_data_tables_apart(tmp_path):
    from openpyxl import load_workbook

    long = "simon_makuch_responders_by_consolidative_hsct_os"
    display = {"response": pd.DataFrame({"Response": ["CR"], "All (N = 12)": ["4 (33%)"], "N": ["12"]})}
    data = {"response": pd.DataFrame({"measure": ["orr"], "n": [12]}), long: pd.DataFrame({"time": [1.0]}),
            long + "_pfs": pd.DataFrame({"time": [2.0]})}
    wb = load_workbook(T.write_workbook(display, data, tmp_path / "t.xlsx", captions={"response": "Day-28 response"}))
    index = list(wb["Index"].iter_rows(min_row=2, values_only=True))
    assert index[0][3] == "Day-28 response" and index[1][3] is None
    assert [(r[1].split()[0], r[2]) for r in index] == [("display", "response"), ("data", "response"), ("data", long),
                                                         ("data", long + "_pfs")]
    assert len(set(wb.sheetnames)) == len(wb.sheetnames) == 5  # the same name twice and two long names: 4 sheets
    assert all(len(name) <= 31 for name in wb.sheetnames)
    shown = wb[index[0][0]]
    assert shown["C2"].value == 12 and shown["C2"].data_type == "n"  # a display count is a number
    assert shown["B2"].value == "4 (33%)"
    assert wb[index[3][0]]["A2"].value == 2.0  # each long name kept its own table


def test_write_xlsx_refuses_sheet_names_that_would_collide(tmp_path):
    frame = pd.DataFrame({"a": [1]})
    with pytest.raises(InputError, match="unique"):
        T.write_xlsx({"x" * 40: frame, "x" * 41: frame}, tmp_path / "t.xlsx")


@pytest.mark.parametrize("column", [
    pd.Series([True, False]), pd.Series([True, None], dtype="boolean"), pd.Series([1, None], dtype="Int64"),
    pd.Series([1.5, np.nan, np.inf, -2.0]), pd.Series(["1.5", " 2 ", "x", None, "-3", "=1", "a\x00b"]),
    pd.Series(["a", pd.NA], dtype="string"), pd.Series([1, "a", None, True, np.int64(3)], dtype=object),
    pd.Series(["a\n=b", "c", None]), pd.Series(["x", "y\tz", "@", "\rq"]), pd.Series(["p", "q\x1f"]),
    pd.Series(pd.to_datetime(["2024-01-01", None])), pd.Series(["a", "b"], dtype="category"),
])
def test_whole_column_conversions_equal_the_cell_by_cell_rules(column):
    """The workbook and CSV writers convert whole columns; each cell must come out as the one-cell rules say."""
    cells = T._cells(column)
    expected = [T._cell(v) for v in column.tolist()]
    assert cells == expected and [type(c) for c in cells] == [type(c) for c in expected]
    if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
        assert T._neutralise_column(column).equals(column.map(T.neutralise_cell).astype(object))


def _hostile_frames() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(3)
    n = 200
    gaps = rng.random(n) < 0.3
    return {
        "floats": pd.DataFrame({
            "a": rng.normal(size=n) * 1e3, "b": np.where(gaps, np.nan, rng.integers(-5, 5, n).astype(float)),
            "c": np.array([0.0, -0.0, np.inf, -np.inf, 1e16, 1e15, 999999999999999.0, -1e15, 1e-7, np.nan] * 20)}),
        "integers": pd.DataFrame({"i": rng.integers(-10**18, 10**18, n), "j": rng.integers(0, 3, n).astype(np.uint8),
                                  "u": np.full(n, 2**64 - 1, dtype=np.uint64), "k": np.arange(n, dtype=np.int16)}),
        "nullable": pd.DataFrame({
            "I": pd.array(np.where(gaps, None, rng.integers(-9, 9, n)), dtype="Int64"),
            "F": pd.array(np.where(gaps, None, rng.normal(size=n)), dtype="Float64"),
            "B": pd.array(np.where(gaps, None, rng.random(n) < 0.5), dtype="boolean"),
            "S": pd.array(np.where(gaps, None, "x"), dtype="string"), "bool": rng.random(n) < 0.5}),
        "text": pd.DataFrame({"t": ["a,b", 'say "hi"', "line\nbreak", "cr\rx", "=1+1", "-3", "", None, "p", "\tx"] * 20,
                              "u": ["é", "\u2028", "ok", np.nan, "a\x00b", "日本", " sp ", "@x", "+", "q"] * 20}),
        "mixed objects": pd.DataFrame({"m": [1, "a", None, 2.5, True] * 40, "x": range(n)}),
        "one column": pd.DataFrame({"only": ["", "a", None]}),
        "no rows": pd.DataFrame({"a": [], "b": []}),
        "dates": pd.DataFrame({"d": pd.to_datetime(["2024-01-01", None]), "x": [1, 2]}),
        "odd headers": pd.DataFrame({1: [1.0], "=a": ["b"], "x,y": ["c"]}),
    }


@pytest.mark.parametrize("name", list(_hostile_frames()))
def test_csv_bytes_are_those_of_pandas_to_csv(name, tmp_path):
    """write_csv converts whole columns itself; the file must be byte for byte what pandas writes."""
    frame = _hostile_frames()[name]
    expected = T._neutralise_frame(frame).to_csv(index=False, lineterminator="\n").encode("utf-8")
    assert T.write_csv(frame, tmp_path / "t.csv").read_bytes() == expected
