"""``python -m cart_outcomes.plan`` rewrites docs/study.schema.json and docs/results.schema.json from the models."""

from pathlib import Path

from cart_outcomes.plan.model import plan_json_schema
from cart_outcomes.results.records import results_json_schema

docs = Path(__file__).resolve().parents[3] / "docs"
(docs / "study.schema.json").write_text(plan_json_schema())
(docs / "results.schema.json").write_text(results_json_schema())
