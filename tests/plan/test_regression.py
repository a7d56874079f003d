"""The plan's ``regression`` and ``rmst`` sections: what the plan accepts, what a run records (exclusions, warnings)
and what the report shows. The numbers themselves are checked against R in
tests/reference/test_regression_against_R.py."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from cart_outcomes.errors import InputError
from cart_outcomes.plan.model import PlanError, parse_plan
from cart_outcomes.plan.run import run_plan
from cart_outcomes.report.build import report_outputs

SHEET = Path(__file__).parents[1] / "reference" / "arms_cohort" / "patients.csv"
HEAD = f"version: 1\ndata: {{source: {SHEET.as_posix()}}}\nanalyses: [{{endpoint: os}}]\n"


def _run(body: str):
    return run_plan(parse_plan(HEAD + body))


@pytest.mark.parametrize(("body", "message"), [
    ("regression: [{endpoint: os, model: fine-gray, covariates: [age_years]}]", "competing-risks endpoint"),
    ("regression: [{endpoint: cir, covariates: [age_years], robust: true}]", "apply to Cox models only"),
    ("regression: [{endpoint: os, covariates: [age_years], reference: {sex: F}}]", "not in covariates"),
    ("regression: [{endpoint: os, covariates: [age_years], univariable: false, multivariable: false}]",
     "univariable and/or multivariable"),
    ("regression: [{endpoint: os, covariates: [sex], strata: [sex]}]", "both covariates and strata"),
    ("regression: [{endpoint: os, covariates: []}]", "at least 1 item"),
    ("rmst: [{endpoint: cir, by: sex}]", "competing risk"),
    ("rmst: [{endpoint: os, by: sex, tau: 0}]", "greater than 0"),
])
def test_impossible_plans_are_errors_with_their_line(body, message):
    with pytest.raises(PlanError, match=f"line 4: .*{message}"):
        parse_plan(HEAD + body)


def test_a_covariate_the_sheet_lacks_fails_before_computing():
    with pytest.raises(InputError, match="regression \\(os\\): 'karnofsky'"):
        _run("regression: [{endpoint: os, covariates: [age_years, karnofsky]}]")


def test_a_reference_level_that_does_not_occur_is_named():
    with pytest.raises(InputError, match="reference diagnosis='FL' is not a value of 'diagnosis'.*B-ALL"):
        _run("regression: [{endpoint: os, covariates: [diagnosis], reference: {diagnosis: FL}}]")


def test_missing_covariates_are_excluded_listed_and_counted():
    run = _run("regression: [{endpoint: os, covariates: [age_years, ldh], reference: {}}]")
    sheet = pd.read_csv(SHEET)
    (rec,) = run.results["regression"]
    multi = rec["multivariable"]
    lacking = sheet["age_years"].isna() | sheet["ldh"].isna()
    assert multi["n"] + multi["n_excluded"] == len(sheet) and multi["n_excluded"] == int(lacking.sum())
    assert multi["excluded_by"] == {"age_years": int(sheet["age_years"].isna().sum()),
                                    "ldh": int(sheet["ldh"].isna().sum())}
    listed = [x for x in run.results["data_quality"]["exclusions"] if x["analysis"].endswith("(multivariable)")]
    assert sorted(x["patient_id"] for x in listed) == sorted(sheet.loc[lacking, "patient_id"])
    assert all(x["reason"].startswith("missing ") for x in listed)
    # each univariable model keeps every patient with its own covariate known
    assert [f["n"] for f in rec["univariable"]] == [int(sheet[c].notna().sum()) for c in ("age_years", "ldh")]


def test_few_events_per_coefficient_and_failed_proportional_hazards_are_warned():
    run = _run("regression:\n"
               "  - {endpoint: nrm, covariates: [age_years, diagnosis, car_t_product], univariable: false}\n"
               "  - {endpoint: cir, model: cox, covariates: [car_t_source]}\n")
    nrm, cir = run.results["regression"]
    multi = nrm["multivariable"]
    assert multi["parameters"] == 6 and multi["events"] < 60  # 1 + 2 diagnosis + 3 product coefficients
    assert any(w.startswith(f"{multi['events']} events for 6 coefficient(s)") for w in multi["warnings"])
    uni = cir["univariable"][0]
    assert [z["p"] < 0.05 for z in uni["ph_test"]] == [True, True]  # car_t_source and GLOBAL (one term)
    assert any("proportional hazards in doubt" in w and "car_t_source p = " in w for w in uni["warnings"])
    assert not any("per coefficient" in w for w in uni["warnings"])  # > 100 events for one coefficient
    section = {s.id: s for s in report_outputs(run).document.sections}["regression"]
    assert any("proportional hazards in doubt" in w for w in section.warnings)


def test_numeric_text_column_is_a_number_unless_named_categorical():
    as_number = _run("regression: [{endpoint: os, covariates: [ecog]}]").results["regression"][0]
    as_levels = _run("regression: [{endpoint: os, covariates: [ecog], categorical: [ecog]}]").results["regression"][0]
    assert [t["term"] for t in as_number["univariable"][0]["terms"]] == ["ecog"]
    assert [t["level"] for t in as_levels["univariable"][0]["terms"]] == ["0", "1", "2"]
    assert as_levels["univariable"][0]["terms"][0]["is_reference"]


def test_report_shows_the_table_the_forest_plot_and_the_rmst_comparison():
    run = _run("regression: [{endpoint: os, covariates: [age_years, diagnosis], reference: {diagnosis: LBCL}}]\n"
               "rmst: [{endpoint: os, by: car_t_source, tau: 365}]")
    out = report_outputs(run)
    sections = {s.id: s for s in out.document.sections}
    table = sections["regression"].tables[0].frame
    assert list(table["Characteristic"]) == ["Age, years", "Diagnosis", "    LBCL (reference)", "    B-ALL", "    MCL"]
    assert "Multivariable: n = " in sections["regression"].tables[0].note
    assert "forest_os_cox" in out.figures
    rmst = sections["rmst"].tables[0].frame
    assert rmst["Measure"].str.startswith("Difference (Autologous − Allogeneic)").any()
    assert "regression_os_cox" in run.tables and "rmst_os_car_t_source" in run.tables


def test_the_documented_plan_parses_with_the_documented_defaults():
    doc = (Path(__file__).parents[2] / "docs" / "regression.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"```yaml\n(.*?)```", doc, flags=re.S)
    plan = parse_plan(block)
    os_model, cir_model, pfs_model = plan.regression
    assert [r.effective_model for r in plan.regression] == ["cox", "fine-gray", "cox"]
    assert (cir_model.univariable, cir_model.multivariable, cir_model.ties) == (True, True, None)
    assert pfs_model.robust and plan.rmst[0].tau == 365


def test_report_shows_levels_in_clinical_order_after_the_reference():
    # fitted as R's factor (levels sorted: CR, NE, PD, PR, SD; CR the reference); shown best response first and
    # not evaluable last, as every other table of the report
    run = _run("regression: [{endpoint: os, covariates: [day28_response]}]")
    table = {s.id: s for s in report_outputs(run).document.sections}["regression"].tables[0].frame
    assert list(table["Characteristic"])[1:] == ["    CR (reference)", "    PR", "    SD", "    PD",
                                                 "    Not evaluable"]
