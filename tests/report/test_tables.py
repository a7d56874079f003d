"""Report tables: Table 1 tests against R, response/safety intervals against R, survival summary against the KM
result, and formula-injection protection of the CSV/XLSX exports."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from report_cases import FORMULA_ID, SCRIPT_GROUP, SCRIPT_ID

from cart_outcomes.errors import InputError
from cart_outcomes.report import tables as T
from cart_outcomes.report._format import format_p
from cart_outcomes.stats.km import kaplan_meier

REF = json.loads((Path(__file__).parents[1] / "reference" / "report_table1.json").read_text())
RTOL = 1e-10


def test_table1_p_values_equal_r(cohort):
    known = cohort["day28_response"].notna()
    cases = [
        (T._continuous_test(cohort["age_years"], cohort["hsct"]), "age_by_hsct_wilcox_p", "exact"),
        (T._continuous_test(cohort["age_years"], cohort["diagnosis"]), "age_by_diagnosis_wilcox_p", "exact"),
        (T._categorical_test(cohort["sex"], cohort["hsct"]), "sex_by_hsct_fisher_p", "Fisher"),
        (T._categorical_test(cohort["day28_response"][known], cohort["hsct"][known]), "response_by_hsct_fisher_p",
         "Fisher"),
        (T._categorical_test(cohort["crs_max_grade"], cohort["diagnosis"]), "crs_by_diagnosis_fisher_p", "Fisher"),
    ]
    for (p, test), key, word in cases:
        assert p == pytest.approx(REF[key], rel=RTOL), key
        assert word in test


def test_wilcoxon_with_ties_uses_rs_normal_approximation():
    values = pd.Series([1, 2, 2, 3, 5, 8, 2, 3, 3, 4, 9, 9, 10], dtype=float)
    groups = pd.Series(["x"] * 6 + ["y"] * 7)
    p, test = T._continuous_test(values, groups)
    assert p == pytest.approx(REF["tied_wilcox_p"], rel=RTOL)
    assert "continuity correction" in test


def test_kruskal_and_rxc_fisher_equal_r():
    values = pd.Series([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8], dtype=float)
    groups = pd.Series(["a", "b", "c"] * 4)
    p, test = T._continuous_test(values, groups)
    assert p == pytest.approx(REF["kruskal_p"], rel=RTOL) and test == "Kruskal-Wallis test"
    rxc = np.array([[3, 2, 0], [1, 4, 2], [0, 1, 5]])  # R's matrix(c(3,1,0,2,4,1,0,2,5), 3) filled by column
    assert T._fisher_rxc(rxc) == pytest.approx(REF["rxc_fisher_p"], rel=RTOL)


def test_rxc_fisher_gives_up_beyond_the_enumeration_limit(monkeypatch):
    monkeypatch.setattr(T, "FISHER_MAX_TABLES", 5)
    values = pd.Series(list("aabbccaabbcc"))
    groups = pd.Series(list("xyzxyzzyxxyz"))
    p, test = T._categorical_test(values, groups)
    assert test == "Pearson's chi-squared test" and 0 <= p <= 1


def test_baseline_table_layout(cohort):
    table = T.baseline_table(cohort, {"age_years": "Age, years", "sex": "Sex", "day28_response": "Response"},
                             by="hsct")
    assert list(table.columns) == ["Characteristic", "All (N = 12)", f"{SCRIPT_GROUP} (N = 6)", "none (N = 6)", "p",
                                   "Test"]
    rows = table.set_index("Characteristic")
    # age: median of the 12 ages is (29 + 34) / 2 = 31.5, range 8-63
    assert rows.loc["Age, years, median (range)", "All (N = 12)"] == "31.5 (8–63)"
    assert rows.loc["Age, years, median (range)", "p"] == format_p(REF["age_by_hsct_wilcox_p"])
    assert rows.loc["    F", "All (N = 12)"] == "5 (42%)"  # 5/12 = 41.7%
    # response: 11 known; CR in 5 of them; one missing row
    assert rows.loc["    CR", "All (N = 12)"] == "5 (45%)"
    assert rows.loc["    Missing", "All (N = 12)"] == "1"
    assert rows.loc["Response, n (%)", "p"] == format_p(REF["response_by_hsct_fisher_p"])
    # row order does not depend on input order
    shuffled = T.baseline_table(cohort.sample(frac=1, random_state=3),
                                {"age_years": "Age, years", "sex": "Sex", "day28_response": "Response"}, by="hsct")
    pd.testing.assert_frame_equal(table, shuffled)


def test_response_table_interval_equals_r_binom_test(cohort):
    table = T.response_table(cohort)
    last = table.iloc[-1]
    lo, hi = REF["orr_8_of_12_cp"]
    assert "Clopper-Pearson" in last["Response"]
    assert last["All (N = 12)"] == f"8/12 (67%; 95% CI {round(100 * lo)}–{round(100 * hi)}%)"
    assert T._binomial_ci(8, 12, 0.95, "clopper-pearson") == pytest.approx(REF["orr_8_of_12_cp"], rel=1e-9)
    assert T._binomial_ci(8, 12, 0.95, "wilson") == pytest.approx(REF["orr_8_of_12_wilson"], rel=1e-9)
    # a missing response is "Not evaluable" in the denominator, never dropped
    assert table.set_index("Response").loc["Not evaluable", "All (N = 12)"] == "1 (8%)"


def test_safety_table_counts_and_interval(cohort):
    table = T.safety_table(cohort, {"crs_max_grade": "CRS", "icans_max_grade": "ICANS"})
    crs = table[table["Toxicity"] == "CRS"].set_index("Grade")
    # CRS grades 1,2,3,1,2,3,1,1,3,2,3,1 -> grade 1: 5, grade 2: 3, grade 3: 4
    assert crs.loc["Any grade", "n (%)"] == "12 (100%)"
    assert crs.loc["Grade 1", "n (%)"] == "5 (42%)" and crs.loc["Grade 3", "n (%)"] == "4 (33%)"
    lo, hi = REF["crs_grade3_4_of_12_cp"]
    assert crs.loc["Grade ≥ 3"].iloc[-1] == f"{round(100 * lo)}–{round(100 * hi)}%"
    icans = table[table["Toxicity"] == "ICANS"].set_index("Grade")
    assert icans.loc["Any grade", "n (%)"] == "1 (9%)"  # 11 graded patients
    assert icans.loc["Not assessed", "n (%)"] == "1"
    with pytest.raises(InputError, match="outside"):
        T.safety_table(cohort.assign(crs_max_grade=7), {"crs_max_grade": "CRS"})


def test_survival_summary_reads_the_km_result(cohort):
    km = kaplan_meier(cohort, "os_days", "os_event", by="hsct")
    table = T.survival_summary_table(km, landmarks=[6], unit="months")
    medians = km.medians.set_index("group")
    at = km.at([6 * 30.4375]).set_index("group")
    for _, row in table.iterrows():
        m = medians.loc[row["Group"]]
        assert row["N"] == f"{m['n']:g}" and row["Events"] == f"{m['events']:g}"
        assert row["Median (95% CI), months"].startswith(f"{m['median'] / 30.4375:.1f} (")
        assert row["Rate at month 6 (95% CI)"].startswith(f"{100 * at.loc[row['Group'], 'survival']:.1f}% (")
    assert "NR" in table["Median (95% CI), months"].iloc[0]  # upper limit not reached, R prints NA


def test_hsct_comparison_flags_the_naive_rows():
    analyses = pd.DataFrame({
        "analysis": ["Naive log-rank", "Time-dependent Cox"], "handles_immortal_time": [False, True],
        "estimate": [np.nan, 0.8], "lower": [np.nan, 0.3], "upper": [np.nan, 2.1], "p_value": [0.022, 0.31],
    })
    table = T.hsct_comparison_table(analyses)
    assert table["Accounts for immortal time"].tolist() == ["No (biased in favour of HSCT)", "Yes"]
    assert table["HR (95% CI)"].tolist() == ["—", "0.80 (0.30–2.10)"]
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


def test_docx_round_trip(cohort, tmp_path):
    from docx import Document

    from cart_outcomes.report.docx import write_docx

    table1 = T.baseline_table(cohort, {"age_years": "Age", "sex": "Sex"}, by="hsct")
    path = write_docx({"Baseline <characteristics>": table1, "Response": T.response_table(cohort)},
                      tmp_path / "t.docx", title="Tables", notes={"Response": "Exact CI."})
    doc = Document(str(path))
    assert len(doc.tables) == 2
    read = [[c.text for c in row.cells] for row in doc.tables[0].rows]
    assert read[0] == list(table1.columns)
    assert read[1:] == table1.astype(str).to_numpy().tolist()
    texts = [p.text for p in doc.paragraphs]
    assert "Table 1. Baseline <characteristics>" in texts and "Exact CI." in texts
