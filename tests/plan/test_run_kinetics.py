"""Kinetics and labs in a plan run: the numbers in results.json are the kinetics functions' own, the plan's options
reach them, and a cohort without the tables says so instead of failing."""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cart_outcomes.cohort import read_cohort
from cart_outcomes.kinetics import noncompartmental, summarize_kinetics
from cart_outcomes.plan.model import PlanError, parse_plan
from cart_outcomes.plan.run import STEPS, run_plan
from cart_outcomes.toxicity import hematologic_recovery

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cd7-tall"


def test_kinetics_results_are_the_functions_numbers(demo_run):
    run, res = demo_run
    kin = res["kinetics"]
    assert kin["available"] and kin["n_patients"] == 12
    cohort = read_cohort(EXAMPLE)
    nca = noncompartmental(cohort)
    # the first series listed is the peripheral-blood PCR one, then flow, then marrow and CSF (schema order)
    assert [(s["matrix"], s["assay"]) for s in kin["series"]] == [
        ("peripheral_blood", "qpcr"), ("peripheral_blood", "flow"), ("bone_marrow", "qpcr"), ("csf", "qpcr")]
    responders = run.patients["day28_response"].isin(["CR", "CRi", "CRh", "PR"])
    groups = pd.DataFrame({"patient_id": run.patients["patient_id"],
                           "response": np.where(responders, "Responder", "Non-responder")})
    direct = summarize_kinetics(nca, groups, by="response", order=["Responder", "Non-responder"])
    got = pd.DataFrame(kin["summary"]).query("by == 'response'").reset_index(drop=True)
    for col in ("n", "geo_mean", "median", "minimum", "maximum"):
        np.testing.assert_allclose(got[col].astype(float), direct.table[col].astype(float), rtol=1e-12)
    pb = [t for t in kin["tests"] if t["by"] == "response" and t["matrix"] == "peripheral_blood"
          and t["assay"] == "qpcr" and t["parameter"] == "cmax"][0]
    assert pb["method"] == "Wilcoxon rank sum exact test" and pb["p_value"] < 0.05  # 8 responders vs 4, no ties
    crs = {t["test"] for t in kin["tests"] if t["by"] == "crs_grade"}
    assert crs == {"spearman"}  # the maximum CRS grade graded from crs_observations is ordinal
    params = run.tables["kinetics_parameters"]
    assert {"response", "crs_grade"} <= set(params.columns) and len(params) == len(nca.table)


def test_labs_results_are_the_functions_numbers(demo_run):
    run, res = demo_run
    labs = res["labs"]
    direct = hematologic_recovery(read_cohort(EXAMPLE)).summary
    assert [r["recovered"] for r in labs["recovery"]] == direct["recovered"].tolist()
    assert labs["recovery"][0]["lineage"] == "neutrophil" and labs["recovery"][0]["threshold"] == 500
    assert set(labs["analytes"]) == {"anc_per_ul", "platelets_per_ul", "hemoglobin_g_dl", "crp_mg_dl",
                                     "ferritin_ng_ml", "il6_pg_ml"}
    summary = run.tables["lab_trajectories"]
    assert summary["day"].between(-7, 90).all()  # the plan's default window
    # neutrophils: CD7-01 (died day 14) and CD7-07 (died day 57) never recovered: competing deaths, not censored
    inc = [r for r in labs["recovery_incidence"] if r["lineage"] == "neutrophil"]
    assert [r["day"] for r in inc] == [28, 60] and inc[0]["n_died_first"] == 2 and inc[0]["n_censored"] == 0
    assert inc[0]["estimate"] == pytest.approx(10 / 12)  # every recovery is by day 24; no censoring before


def test_plan_options_reach_the_analysis(tmp_path):
    plan = tmp_path / "study.yaml"
    plan.write_text(f"data:\n  source: {EXAMPLE}\nanalyses: []\nkinetics:\n  window_days: [0, 21]\n"
                    "  auc_method: linear-up/log-down\n  half_life: true\nlabs:\n  anc_threshold: 1000\n"
                    "  days: [0, 28]\n")
    res = run_plan(plan).results
    o = res["kinetics"]["options"]
    assert (o["window"], o["auc_method"], o["half_life"]) == ([0, 21], "linear-up/log-down", True)
    assert res["labs"]["recovery"][0]["threshold"] == 1000


def test_a_cohort_without_kinetics_or_labs_says_so(tmp_path):
    folder = tmp_path / "cohort"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("*.py", "*.md", "*.yaml", "kinetics.csv",
                                                                   "labs.csv"))
    plan = tmp_path / "study.yaml"
    plan.write_text("data:\n  source: cohort\nanalyses: []\n")
    run = run_plan(plan, out=tmp_path / "out")
    assert run.results["kinetics"] == {"available": False} and run.results["labs"] == {"available": False}
    assert 'id="kinetics"' not in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")


def test_the_runner_announces_the_kinetics_step(tmp_path):
    seen = []
    plan = tmp_path / "study.yaml"
    plan.write_text(f"data:\n  source: {EXAMPLE}\nanalyses: []\n")
    run_plan(plan, progress=seen.append)
    assert seen == [s for s in STEPS if s != "writing outputs"] and "kinetics and labs" in seen


@pytest.mark.parametrize("text, message", [
    ("kinetics:\n  window_days: [28, 0]\n", "window_days must be"),
    ("kinetics:\n  blq: lloq/2\n", "blq"),
    ("labs:\n  analytes: [anc]\n", "unknown lab analyte"),
])
def test_bad_kinetics_and_labs_options_are_located(text, message):
    with pytest.raises(PlanError, match=message) as info:
        parse_plan("data: {source: x}\n" + text)
    assert "line 2" in str(info.value) or "line 3" in str(info.value)


def test_evaluable_denominator_leaves_not_evaluable_patients_out_of_the_response_comparison(tmp_path):
    plan = tmp_path / "study.yaml"
    plan.write_text(f"data:\n  source: {EXAMPLE}\nanalyses: []\nendpoints:\n  response_denominator: evaluable\n")
    run = run_plan(plan)
    # CD7-01 died on day 14 before the assessment (NE): no response group, listed, not counted as a non-responder
    params = run.tables["kinetics_parameters"]
    assert params.loc[params["patient_id"] == "CD7-01", "response"].isna().all()
    excluded = [e for e in run.results["data_quality"]["exclusions"] if e["analysis"] == "kinetics by response"]
    assert [e["patient_id"] for e in excluded] == ["CD7-01"]
    pb = [r for r in run.results["kinetics"]["summary"] if r["by"] == "response" and r["group"] == "Non-responder"
          and r["matrix"] == "peripheral_blood" and r["assay"] == "qpcr" and r["parameter"] == "cmax"][0]
    assert pb["n"] == 3  # CD7-04, -07, -10
