import json
from pathlib import Path

import pytest

from cart_outcomes.errors import InputError
from cart_outcomes.plan.model import PlanError, load_plan, parse_plan, plan_json_schema

MINIMAL = "data:\n  source: cohort.csv\n"


def test_minimal_plan_runs_the_standard_analysis():
    plan = parse_plan(MINIMAL)
    assert plan.analyses is None
    assert [a.endpoint for a in plan.effective_analyses()] == ["os", "pfs", "efs", "dor", "cir", "nrm"]
    assert plan.endpoints.hsct == "ignore"
    assert plan.statistics.conf_type == "log-log"


def test_every_problem_is_reported_with_its_line():
    text = (
        "version: 1\n"               # 1
        "data:\n"                    # 2
        "  source: c.csv\n"          # 3
        "  colums: {a: b}\n"         # 4  unknown key
        "endpoints:\n"               # 5
        "  hsct: maybe\n"            # 6  bad value
        "statistics:\n"              # 7
        "  conf_level: 1.5\n"        # 8  out of range
    )
    with pytest.raises(PlanError) as info:
        parse_plan(text, source="study.yaml")
    problems = info.value.problems
    assert len(problems) == 3
    assert problems[0].startswith("line 4: data.colums: unknown key")
    assert problems[1].startswith("line 6: endpoints.hsct:")
    assert problems[2].startswith("line 8: statistics.conf_level:")
    assert isinstance(info.value, ValueError)


def test_impossible_combinations_are_errors():
    text = MINIMAL + "comparisons:\n  - name: hsct\n    by: sex\n    exposure: hsct_day\n"
    with pytest.raises(PlanError, match="line 4: comparisons.0: .*exactly one of 'by'"):
        parse_plan(text)
    text = MINIMAL + "comparisons:\n  - name: a\n    by: sex\n  - name: a\n    by: diagnosis\n"
    with pytest.raises(PlanError, match="comparison names must be unique"):
        parse_plan(text)


def test_not_yaml_and_not_a_mapping():
    with pytest.raises(PlanError, match="line 2: not valid YAML"):
        parse_plan("data:\n  source: a: b\n")
    with pytest.raises(PlanError, match="must be a mapping"):
        parse_plan("- just a list\n")


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_plan(tmp_path / "nope.yaml")


def test_committed_json_schema_is_current():
    committed = Path(__file__).parents[2] / "docs" / "study.schema.json"
    assert committed.read_text() == plan_json_schema(), "regenerate with: python -m cart_outcomes.plan"
    assert json.loads(committed.read_text())["title"] == "Plan"
