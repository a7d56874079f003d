"""The code example of the "Non-compartmental analysis" section of docs/kinetics.md runs and gives its comments."""

from __future__ import annotations

import math
import re
from pathlib import Path

DOC = Path(__file__).parents[3] / "docs" / "kinetics.md"


def test_docs_example_runs_and_matches_its_comments():
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## Non-compartmental analysis"):]
    code = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    ns: dict = {}
    exec(code, ns)  # noqa: S102 (the project's own documentation)
    row = ns["res"].table.iloc[0]
    assert (row["cmax"], row["tmax_days"], row["auc"], row["auc_end"]) == (5000, 14, 57750.0, "observed")
    log_auc = ns["log"].table["auc"].iloc[0]
    assert round(log_auc, 2) == 54992.64
    assert math.isclose(log_auc, 3500 + 21000 + 7 * 3000 / math.log(2.5) + 7 * 1500 / math.log(4), rel_tol=1e-14)
    assert ns["res"].persistence["status"].tolist() == ["detectable", "not_evaluable", "not_evaluable"]
    assert ns["res"].options["auc_units"]["copies_per_ug_dna"] == "copies_per_ug_dna x day"
