"""docs/plan.md is the plan's reference: every YAML block on it is a plan that parses, its option tables name
exactly the options of the plan model (regression and rmst: in docs/regression.md), and every field of the plan's
JSON schema has a description."""

import json
import re
from pathlib import Path

import pytest

from cart_outcomes.plan import model as m
from cart_outcomes.plan.model import parse_plan, plan_json_schema

DOCS = Path(__file__).parents[2] / "docs"
SECTIONS = {
    "plan.md": {"Top level": m.Plan, "data": m.DataSection, "endpoints": m.EndpointOptions,
                "statistics": m.StatisticsOptions, "analyses": m.Analysis, "comparisons": m.Comparison,
                "table1": m.Table1Section, "subgroups": m.SubgroupForest, "sensitivity": m.Sensitivity,
                "toxicity": m.ToxicitySection, "kinetics": m.KineticsSection, "labs": m.LabsSection,
                "figures": m.FigureSection, "report": m.ReportSection},
    "regression.md": {"regression": m.Regression, "rmst": m.RMST},
}


def _yaml_blocks(name: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", (DOCS / name).read_text(encoding="utf-8"), flags=re.S)


def _documented_options(name: str) -> dict[str, set[str]]:
    """Heading (its first code word, else its text) -> the options named in the first column of its table."""
    out: dict[str, set[str]] = {}
    for block in re.split(r"^## ", (DOCS / name).read_text(encoding="utf-8"), flags=re.M)[1:]:
        heading = block.splitlines()[0]
        code = re.match(r"`(\w+)`", heading)
        key = code.group(1) if code else heading.strip()
        rows = [line.split("|")[1] for line in block.splitlines() if line.startswith("| `")]
        out[key] = {opt for cell in rows for opt in re.findall(r"`(\w+)`", cell)}
    return out


@pytest.mark.parametrize("block", _yaml_blocks("plan.md"))
def test_every_documented_plan_parses(block):
    parse_plan(block)


def test_the_first_example_asks_for_what_issue_20_names():
    plan = parse_plan(_yaml_blocks("plan.md")[0])
    os_by = plan.analyses[0]
    assert (os_by.by, os_by.reference, os_by.pairwise, os_by.order) == ("diagnosis", "LBCL", "holm",
                                                                        ["B-ALL", "LBCL", "MCL"])
    assert plan.analyses[1].population == {"diagnosis": ["LBCL"], "age_years": ">= 65"}
    assert [r.effective_model for r in plan.regression] == ["cox", "fine-gray"]
    assert plan.table1.by == "diagnosis" and "ldh" in plan.table1.variables
    assert plan.sensitivity[0].change.hsct == "censor"


@pytest.mark.parametrize(("doc", "section"), [(d, s) for d, sections in SECTIONS.items() for s in sections])
def test_the_option_table_names_every_option_of_the_model(doc, section):
    assert _documented_options(doc)[section] == set(SECTIONS[doc][section].model_fields)


def _fields(schema: dict):
    """(model, field, property) of every field of every model in a pydantic JSON schema."""
    for name, definition in [("Plan", schema), *schema["$defs"].items()]:
        for field, prop in definition.get("properties", {}).items():
            yield name, field, prop


def test_every_schema_field_has_a_description():
    fields = list(_fields(json.loads(plan_json_schema())))
    assert len(fields) > 100
    assert [f"{name}.{field}" for name, field, prop in fields if not prop.get("description")] == []
