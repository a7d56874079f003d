"""The code example in docs/toxicity.md runs and gives the values its comments state."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).parents[3] / "docs" / "toxicity.md"


def test_docs_example_runs_and_matches_its_comments():
    code = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)[0]
    ns: dict = {}
    exec(code, ns)  # noqa: S102 (the project's own documentation)
    res = ns["res"]
    assert res.observations["grade"].tolist() == [1, 3, 0]
    assert res.observations["rule"].iloc[1] == "crs.g3.hypotension.one_vasopressor"
    t = res.table.iloc[0]
    assert (t["max_grade"], t["onset_day"], t["resolution_day"], t["duration_days"]) == (3, 1, 3, 2)
