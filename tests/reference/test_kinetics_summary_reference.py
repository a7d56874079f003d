"""summarize_kinetics against R (tests/reference/kinetics_summary.R): geometric mean and CV% over positive values,
median and range by group, and the rank tests named in the summary (wilcox.test, cor.test spearman, kruskal.test)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cart_outcomes.kinetics import summarize_kinetics

HERE = Path(__file__).parent
REF = json.loads((HERE / "kinetics_summary.json").read_text())
DATA = pd.read_csv(HERE / "kinetics_summary.csv")
RTOL = 1e-10


def _nca() -> pd.DataFrame:
    return DATA[["patient_id", "cmax", "auc", "tmax_days"]].assign(
        matrix="peripheral_blood", assay="qpcr", unit="copies_per_ug_dna")


@pytest.mark.parametrize("by", ["response", "crs_grade"])
def test_group_statistics_match_r(by: str) -> None:
    s = summarize_kinetics(_nca(), DATA[["patient_id", by]], by=by, test="none")
    got = s.table.set_index(["parameter", "group"])
    for ref in (r for r in REF["summaries"] if r["by"] == by):
        row = got.loc[(ref["parameter"], ref["group"])]
        for key in ("n", "median", "minimum", "maximum", "n_positive", "geo_mean", "geo_cv_pct"):
            if key in ref:
                expected = np.nan if ref[key] is None else ref[key]
                np.testing.assert_allclose(float(row[key]), expected, rtol=RTOL, err_msg=f"{by} {ref} {key}")
            elif key.startswith("geo"):
                assert np.isnan(row[key])  # Tmax is a day: no geometric statistics


def test_tests_match_r() -> None:
    by_response = summarize_kinetics(_nca(), DATA[["patient_id", "response"]], by="response").tests
    by_grade = summarize_kinetics(_nca(), DATA[["patient_id", "crs_grade"]], by="crs_grade").tests
    kruskal = summarize_kinetics(_nca(), DATA[["patient_id", "crs_grade"]], by="crs_grade", test="kruskal").tests
    for ref in REF["tests"]:
        w = by_response.set_index("parameter").loc[ref["parameter"]]
        assert w["test"] == "wilcoxon" and w["method"] == ref["wilcox_method"] and w["n"] == ref["n"]
        np.testing.assert_allclose([w["statistic"], w["p_value"]], [ref["wilcox_w"], ref["wilcox_p"]], rtol=RTOL)
        s = by_grade.set_index("parameter").loc[ref["parameter"]]
        assert s["test"] == "spearman"  # numeric grade with more than two levels: ordinal
        np.testing.assert_allclose([s["estimate"], s["statistic"], s["p_value"]],
                                   [ref["spearman_rho"], ref["spearman_s"], ref["spearman_p"]], rtol=RTOL)
        k = kruskal.set_index("parameter").loc[ref["parameter"]]
        np.testing.assert_allclose([k["statistic"], k["p_value"]], [ref["kruskal_stat"], ref["kruskal_p"]],
                                   rtol=RTOL)
