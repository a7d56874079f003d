"""The example of docs/kinetics.md, section "Summaries by group and persistence rates", gives its comments."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).parents[3] / "docs" / "kinetics.md"


def test_docs_example_runs_and_matches_its_comments():
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## Summaries by group"):]
    code = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    ns: dict = {}
    exec(code, ns)  # noqa: S102 (the project's own documentation)
    t = ns["s"].table.set_index(["parameter", "group"])
    assert t.loc[("cmax", "R"), "geo_mean"] == pytest.approx(10_000)
    nr = t.loc[("cmax", "NR")]
    assert (nr["n"], nr["n_positive"], nr["median"]) == (2, 1, 4_000)
    w = ns["s"].tests.set_index("parameter").loc["cmax"]
    assert (w["test"], w["method"], w["statistic"]) == ("wilcoxon", "Wilcoxon rank sum exact test", 1.0)
    assert w["p_value"] == pytest.approx(2 * 2 / 6)
