import shutil
from pathlib import Path

import pandas as pd
import pytest

from cart_outcomes.errors import InputError, ValidationFailed
from cart_outcomes.plan.run import run_plan

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cd7-tall"



def _copy_example(tmp_path):
    folder = tmp_path / "cohort"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("*.py", "*.md", "*.yaml"))
    return folder


def test_same_plan_same_data_gives_byte_identical_results(demo_run, tmp_path):
    first, _ = demo_run
    again = run_plan(EXAMPLE / "study.yaml", out=tmp_path)
    assert (tmp_path / "results.json").read_bytes() == (first.out_dir / "results.json").read_bytes()
    assert again.to_json() == first.to_json()


def test_other_column_names_and_values_mapped_by_the_plan(demo_run, tmp_path):
    folder = _copy_example(tmp_path)
    patients = pd.read_csv(folder / "patients.csv")
    patients = patients.rename(columns={"patient_id": "Study number", "day28_response": "Response D28"})
    patients["Response D28"] = patients["Response D28"].replace({"CR": "Complete remission"})
    patients.to_csv(folder / "patients.csv", index=False)
    demo_plan = (EXAMPLE / "study.yaml").read_text()
    analysis = demo_plan[demo_plan.index("\nendpoints:"):]  # everything after the data section
    plan = tmp_path / "study.yaml"
    plan.write_text(
        "data:\n  source: cohort\n  columns:\n    Study number: patient_id\n    Response D28: day28_response\n"
        "  values:\n    day28_response:\n      Complete remission: CR\n" + analysis
    )
    result = run_plan(plan)
    _, reference = demo_run
    assert result.results["response"] == reference["response"]
    assert result.results["comparisons"] == reference["comparisons"]


def test_plan_naming_a_missing_column_fails_before_computing(tmp_path):
    plan = tmp_path / "study.yaml"
    plan.write_text(f"data:\n  source: {EXAMPLE}\ncomparisons:\n  - name: by_dose\n    by: dose_level\n")
    with pytest.raises(InputError, match=r"comparisons \(by_dose\): by='dose_level'"):
        run_plan(plan, out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_cohort_with_errors_is_never_analysed(tmp_path):
    folder = _copy_example(tmp_path)
    patients = pd.read_csv(folder / "patients.csv")
    patients.loc[0, "death_day"] = 5000  # after last follow-up
    patients.to_csv(folder / "patients.csv", index=False)
    plan = tmp_path / "study.yaml"
    plan.write_text("data:\n  source: cohort\n")
    with pytest.raises(ValidationFailed) as info:
        run_plan(plan, out=tmp_path / "out")
    assert any(p.patient_id == "CD7-01" and p.column.startswith("death") for p in info.value.problems)
    assert not (tmp_path / "out").exists()


def test_a_plan_without_analyses_runs_the_standard_analysis(tmp_path):
    plan = tmp_path / "study.yaml"
    plan.write_text(f"data:\n  source: {EXAMPLE}\n")
    result = run_plan(plan)
    assert [s["endpoint"] for s in result.results["survival"]] == ["os", "pfs", "efs", "dor", "cir", "nrm"]


def test_results_follow_the_documented_schema(demo_run):
    from cart_outcomes.results.records import Results, results_json_schema

    _, res = demo_run
    Results.model_validate(res)
    committed = Path(__file__).resolve().parents[2] / "docs" / "results.schema.json"
    assert committed.read_text() == results_json_schema(), "regenerate with: python -m cart_outcomes.plan"


def test_missing_responses_and_evaluable_denominator_are_recorded(tmp_path):
    folder = _copy_example(tmp_path)
    patients = pd.read_csv(folder / "patients.csv")
    patients.loc[patients["patient_id"] == "CD7-01", "day28_response"] = None  # was NE
    patients.to_csv(folder / "patients.csv", index=False)
    plan = tmp_path / "study.yaml"
    plan.write_text("data:\n  source: cohort\nendpoints:\n  response_denominator: evaluable\n")
    res = run_plan(plan).results
    orr = next(r for r in res["response"] if r["measure"] == "overall_response")
    assert (orr["responders"], orr["n"], orr["denominator"]) == (8, 11, "evaluable")
    dq = res["data_quality"]
    # CD7-04 and CD7-10 (day-28 NR) died of "disease progression" without a progression date: never NRM
    assert [(w["rule"], w["patient_id"], w["row"]) for w in dq["warnings"]] == [
        ("DISEASE_DEATH_AS_PROGRESSION", None, None), ("MISSING_RESPONSE", "CD7-01", 2)]
    assert dq["warnings"][0]["patients"] == ["CD7-04", "CD7-10"]
    # left out of the response rates and, by the same denominator, of the kinetics comparison by response
    assert [(x["analysis"], x["patient_id"]) for x in dq["exclusions"]] == [("response rates", "CD7-01"),
                                                                             ("kinetics by response", "CD7-01")]
