"""The example of docs/toxicity.md, section "Laboratory trajectories and recovery", runs and gives the values its
comments state (checked by hand: see the comments in the example)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

DOC = Path(__file__).parents[3] / "docs" / "toxicity.md"


def section_code() -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## Laboratory trajectories and recovery"):]
    nxt = re.search(r"\n## ", section[3:])
    section = section[: nxt.start() + 3] if nxt else section
    return re.findall(r"```python\n(.*?)```", section, re.S)[0]


def test_docs_example_runs_and_matches_its_comments():
    ns: dict = {}
    exec(section_code(), ns)  # noqa: S102 (the project's own documentation)
    t = ns["traj"].table.set_index(["patient_id", "analyte", "day"])["value"]
    assert t[("P1", "anc_per_ul", 2)] == 300 and t[("P1", "crp_mg_dl", 2)] == 12.0
    s = ns["traj"].summary.set_index(["analyte", "day"])
    assert s.loc[("anc_per_ul", 2), "median"] == 250
    r = ns["rec"].table.set_index(["lineage", "patient_id"])
    assert (r.loc[("neutrophil", "P1"), "first_below_day"], r.loc[("neutrophil", "P1"), "recovery_day"]) == (2, 4)
    assert r.loc[("neutrophil", "P2"), "status"] == "not_recovered" and r.loc[("neutrophil", "P2"), "time_days"] == 8
    # platelets: P1 transfused on day 2, so days 4, 6, 8 (within 6 days of it) do not count; P2 recovers on day 4
    assert r.loc[("platelet", "P1"), "status"] == "not_recovered"
    assert r.loc[("platelet", "P2"), "recovery_day"] == 4
    assert np.isnan(r.loc[("platelet", "P1"), "recovery_day"])
