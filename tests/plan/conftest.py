import json

import pytest

from cart_outcomes.plan.demo import demo_plan_path
from cart_outcomes.plan.run import run_plan


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """The seed-study plan run once per session, outputs written to a temporary folder."""
    out = tmp_path_factory.mktemp("demo")
    result = run_plan(demo_plan_path(), out=out)
    return result, json.loads((out / "results.json").read_text())
