"""Multi-arm comparisons, subgroup populations, the subgroup forest, Table 1 by group and the regressions of one
plan on the example cohort, against R (tests/reference/arms_reference.R wrote arms_reference.json, regenerate with
``Rscript tests/reference/arms_reference.R``; the regressions: regression_reference.R, the same models). Cox fits
are iterative (1e-6); log-rank, Gray and the rank and contingency tests are closed forms (1e-10)."""

import json
from pathlib import Path

import numpy as np
import pytest
from tests.example_cohort import PATH, example_cohort
from tests.reference.test_regression_against_R import REF as REGRESSION_R
from tests.reference.test_regression_against_R import assert_model_matches_R, fitted_models

from cart_outcomes.plan.run import run_plan

HERE = Path(__file__).parent
R = json.loads((HERE / "arms_reference.json").read_text())
ITERATIVE, CLOSED_FORM = 1e-6, 1e-10


@pytest.fixture(scope="module")
def run():
    return run_plan(HERE / "arms_cohort" / "study.yaml")


def _survival(run, sid):
    return next(s for s in run.results["survival"] if s["id"] == sid)


def test_the_committed_sheet_is_the_builders_output():
    assert example_cohort().to_csv(index=False, lineterminator="\n") == PATH.read_text()


def test_endpoints_are_those_R_derived(run):
    p = run.patients.set_index("patient_id").loc[R["derived"]["patient_id"]]
    for ep in ("os", "pfs"):
        np.testing.assert_array_equal(p[f"{ep}_time_days"].to_numpy(float), R["derived"][f"{ep}_time"])
        np.testing.assert_array_equal(p[f"{ep}_event"].to_numpy(int), R["derived"][f"{ep}_event"])
    np.testing.assert_array_equal(p["cir_status"].to_numpy(int), R["derived"]["cir_status"])


@pytest.mark.parametrize(("sid", "key"), [("os_all_diagnosis", "os_by_diagnosis"),
                                          ("pfs_all_diagnosis", "pfs_by_diagnosis")])
def test_hazard_ratios_against_the_reference_equal_R(run, sid, key):
    arms, ref = _survival(run, sid)["arms"], R[key]
    cox = {r["group"]: r for r in arms["hazard_ratios"] if r["method"] == "cox"}
    for r in ref["cox"]:
        for k in ("hazard_ratio", "lower", "upper", "p"):
            assert cox[r["group"]][k] == pytest.approx(r[k], rel=ITERATIVE)
    for r in ref["pairs"]:
        for method in ("mantel_haenszel", "logrank_oe_ratio"):
            row = next(x for x in arms["hazard_ratios"] if x["group"] == r["group"] and x["method"] == method)
            assert [row["hazard_ratio"], row["lower"], row["upper"]] == pytest.approx(r[method], rel=CLOSED_FORM)
            assert row["p"] == pytest.approx(r["p"], rel=CLOSED_FORM)
    tests = {t["test"]: t for t in arms["cox_tests"]}
    for name, (stat, p) in ref["cox_tests"].items():
        assert tests[name]["statistic"] == pytest.approx(stat, rel=ITERATIVE)
        assert tests[name]["p"] == pytest.approx(p, rel=ITERATIVE)


@pytest.mark.parametrize(("sid", "key", "adjust"), [("os_all_diagnosis", "os_by_diagnosis", "holm"),
                                                    ("pfs_all_diagnosis", "pfs_by_diagnosis", "bonferroni")])
def test_pairwise_logrank_equals_R_pairwise_survdiff(run, sid, key, adjust):
    pw = _survival(run, sid)["arms"]["pairwise"]
    assert pw["adjust"] == adjust
    assert [(r["group1"], r["group2"]) for r in pw["rows"]] == [(r["group1"], r["group2"]) for r in R[key]["pairwise"]]
    for mine, ref in zip(pw["rows"], R[key]["pairwise"], strict=True):
        for k in ("statistic", "p", "p_adjusted"):
            assert mine[k] == pytest.approx(ref[k], rel=CLOSED_FORM)


def test_trend_test_equals_R(run):
    tr = _survival(run, "os_all_diagnosis")["arms"]["trend"]
    assert tr["scores"] == {"B-ALL": 1.0, "LBCL": 2.0, "MCL": 3.0}
    assert tr["statistic"] == pytest.approx(R["os_by_diagnosis"]["trend"]["statistic"], rel=CLOSED_FORM)
    assert tr["p"] == pytest.approx(R["os_by_diagnosis"]["trend"]["p"], rel=CLOSED_FORM)


@pytest.mark.parametrize(("sid", "key"), [("cir_all_diagnosis", "cir_by_diagnosis"),
                                          ("nrm_all_diagnosis", "nrm_by_diagnosis")])
def test_pairwise_gray_equals_R(run, sid, key):
    s = _survival(run, sid)
    if key == "cir_by_diagnosis":
        assert [s["gray_test"][0]["statistic"], s["gray_test"][0]["p"]] == pytest.approx(R[key]["gray"],
                                                                                           rel=CLOSED_FORM)
    for mine, ref in zip(s["arms"]["pairwise"]["rows"], R[key]["pairwise"], strict=True):
        assert (mine["group1"], mine["group2"]) == (ref["group1"], ref["group2"])
        for k in ("statistic", "p", "p_adjusted"):
            assert mine[k] == pytest.approx(ref[k], rel=CLOSED_FORM)


def test_a_population_of_conditions_equals_R_subset(run):
    s = _survival(run, "pfs_diagnosis-LBCL_age_years-ge50_overall")
    assert s["population"] == "diagnosis in {LBCL}, age_years >= 50"
    ref = R["pfs_lbcl_50"]
    g = s["groups"][0]
    assert (s["n"], g["events"]) == (ref["n"], ref["events"])
    assert [g["median"], g["lower"], g["upper"]] == pytest.approx([ref["median"], ref["lower"], ref["upper"]],
                                                                   rel=CLOSED_FORM)


_R_TESTS = {"kruskal.test": "Kruskal-Wallis test", "chisq.test": "Pearson's chi-squared test",
            "fisher.test": "Fisher's exact test", "wilcox.test": "Wilcoxon rank-sum test"}


def _table1_against_R(record, summary, ref):
    tests = {t["variable"]: t for t in record["tests"]}
    for variable, r in ref.items():
        assert tests[variable]["test"].startswith(_R_TESTS[r["test"].split(" ")[0]]), variable
        assert ("fisher.test failed" in r["test"]) == ("too many tables" in tests[variable]["test"])
        assert tests[variable]["p"] == pytest.approx(r["p"], rel=CLOSED_FORM), variable
        for group, quartiles in r.get("quartiles", {}).items():
            row = summary[(summary["variable"] == variable) & (summary["group"] == group) & summary["level"].isna()]
            assert row[["q1", "median", "q3"]].iloc[0].tolist() == pytest.approx(quartiles, rel=CLOSED_FORM)


def test_table1_by_three_groups_chooses_and_computes_the_tests_as_R(run):
    assert run.results["table1"]["by"] == "diagnosis"
    _table1_against_R(run.results["table1"], run.tables["table1"], R["table1_by_diagnosis"])


def test_table1_by_two_groups_chooses_and_computes_the_tests_as_R(run):
    from cart_outcomes.plan.model import load_plan
    from cart_outcomes.plan.table1 import table1_section

    plan = load_plan(HERE / "arms_cohort" / "study.yaml")
    plan = plan.model_copy(update={"table1": plan.table1.model_copy(update={
        "by": "car_t_source", "variables": ["age_years", "ldh", "sex", "diagnosis", "ecog", "day28_response"]})})
    part = table1_section(run.patients, plan)
    _table1_against_R(part.record, part.tables["table1"], R["table1_by_source"])


def _hr(mine, ref, tol):
    assert (mine["n"], mine["events"]) == (ref["n"], ref["events"])
    for k in ("hazard_ratio", "lower", "upper", "p"):
        assert mine[k] == pytest.approx(ref[k], rel=tol), k


def test_subgroup_forest_hazard_ratios_and_interaction_p_equal_R(run):
    forest = run.results["subgroups"][0]
    assert (forest["group"], forest["reference"]) == ("allogeneic", "autologous")
    _hr(forest["overall"], R["forest"]["overall"], ITERATIVE)
    for variable in forest["subgroups"]:
        ref = R["forest"][variable["variable"]]
        rows = {r["subgroup"]: r for r in variable["rows"]}
        assert sorted(rows) == sorted(r["subgroup"] for r in ref["rows"])
        for r in ref["rows"]:
            _hr(rows[r["subgroup"]], r, ITERATIVE)
        inter = variable["interaction"]
        assert inter["df"] == ref["interaction"]["df"]
        assert inter["statistic"] == pytest.approx(ref["interaction"]["statistic"], rel=ITERATIVE)
        assert inter["p"] == pytest.approx(ref["interaction"]["p"], rel=ITERATIVE)


@pytest.mark.parametrize("endpoint", ["os", "pfs", "cir"])
def test_sensitivity_rules_side_by_side_equal_R(run, endpoint):
    rec = next(s for s in run.results["sensitivity"] if s["endpoint"] == endpoint)
    primary, changed = rec["rules"]
    assert (primary["rules"]["hsct"], changed["rules"]["hsct"], changed["changed"]) == ("ignore", "censor", ["hsct"])
    for rule, key in ((primary, "primary"), (changed, "hsct_censored")):
        ref = R["sensitivity"][key]
        if endpoint == "cir":
            assert rule["gray_test"][0]["p"] == pytest.approx(ref["cir_gray_p"], rel=CLOSED_FORM)
            continue
        ref = ref[endpoint]
        assert rule["logrank"]["p"] == pytest.approx(ref["logrank_p"], rel=CLOSED_FORM)
        for i, g in enumerate(rule["groups"]):
            assert g["events"] == ref["events"][i]
            assert [g["median"], g["lower"], g["upper"]] == pytest.approx(
                [ref["median"][i], ref["lower"][i], ref["upper"][i]], rel=CLOSED_FORM)
            rate = g["rates"][0]
            assert [rate["survival"], rate["lower"], rate["upper"]] == pytest.approx(
                [ref["rate"][i], ref["rate_lower"][i], ref["rate_upper"][i]], rel=CLOSED_FORM)


@pytest.mark.parametrize("key", sorted(k for k in REGRESSION_R["models"] if k.startswith(("os_cox/", "cir_finegray/"))))
def test_the_plans_cox_and_fine_gray_models_equal_R(run, key):
    """The multivariable Cox model (age, sex, 3-level diagnosis against LBCL, LDH), its univariable rows and the
    Fine-Gray models of relapse, run by the same plan as the multi-arm, subgroup and Table 1 sections."""
    assert_model_matches_R(fitted_models(run.results)[key], REGRESSION_R["models"][key], key)
