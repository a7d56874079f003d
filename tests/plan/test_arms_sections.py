"""The example cohort's plan through the report: multi-arm, Table 1 by group, subgroup forest and sensitivity
tables reach the report (numbers are checked against R in tests/reference/test_arms_against_R.py), and plan
mistakes are named before any computation."""

from pathlib import Path

import pytest
import yaml

from cart_outcomes.errors import InputError
from cart_outcomes.plan.run import run_plan
from cart_outcomes.report.build import report_outputs

STUDY = Path(__file__).parents[1] / "reference" / "arms_cohort" / "study.yaml"


@pytest.fixture(scope="module")
def outputs():
    return report_outputs(run_plan(STUDY))


def test_every_new_table_and_the_forest_reach_the_report(outputs):
    names = set(outputs.tables)
    assert {"arms_os_all_diagnosis_hazard_ratios", "arms_os_all_diagnosis_pairwise", "arms_os_all_diagnosis_trend",
            "arms_cir_all_diagnosis_pairwise", "table1_baseline", "subgroups_source_by_subgroup",
            "sensitivity_hsct_censored_os"} <= names
    assert {"regression_os_cox", "regression_cir_finegray"} <= names
    assert {"forest_subgroups_source_by_subgroup", "forest_os_cox", "forest_cir_finegray"} <= set(outputs.figures)
    table1 = outputs.tables["table1_baseline"]
    assert list(table1.columns)[:5] == ["Characteristic", "All (N = 150)", "B-ALL (N = 55)", "LBCL (N = 60)",
                                        "MCL (N = 35)"]
    assert "LDH, U/L, median (IQR)" in set(table1["Characteristic"])  # a sheet column the schema does not know
    assert "ECOG performance status, n (%)" in set(table1["Characteristic"])  # < 10 distinct numbers: categories
    assert "Unknown" in {c.strip() for c in table1["Characteristic"]}


def test_the_population_is_stated_in_the_captions(outputs):
    captions = [t.caption for s in outputs.document.sections for t in s.tables]
    assert any("diagnosis in {LBCL}, age ≥ 50" in c for c in captions)  # in words, not the column id


def _plan(tmp_path, **extra):
    plan = yaml.safe_load(STUDY.read_text())
    plan["data"]["source"] = str(STUDY.parent / "patients.csv")
    plan.update(extra)
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(plan))
    return path


def test_unknown_columns_are_named_before_computing(tmp_path):
    path = _plan(tmp_path, table1={"by": "diagnosis", "variables": ["age_years", "lhd"]},
                 subgroups=[{"name": "f", "endpoint": "os", "factor": "car_t_source", "subgroups": ["sexx"]}])
    with pytest.raises(InputError) as err:
        run_plan(path)
    assert "table1: 'lhd'" in str(err.value) and "subgroups (f): 'sexx'" in str(err.value)


def test_a_forest_factor_needs_two_groups_and_a_known_reference(tmp_path):
    path = _plan(tmp_path, subgroups=[{"name": "f", "endpoint": "os", "factor": "diagnosis", "subgroups": ["sex"]}])
    with pytest.raises(InputError, match=r"factor 'diagnosis' must have exactly two groups"):
        run_plan(path)
    path = _plan(tmp_path, analyses=[{"endpoint": "os", "by": "diagnosis", "reference": "DLBCL"}])
    with pytest.raises(InputError, match=r"reference 'DLBCL' is not a group of 'diagnosis'"):
        run_plan(path)
