"""``python -m cart_outcomes.plan`` rewrites docs/study.schema.json from the plan model."""

from pathlib import Path

from cart_outcomes.plan.model import plan_json_schema

target = Path(__file__).resolve().parents[3] / "docs" / "study.schema.json"
target.write_text(plan_json_schema())
