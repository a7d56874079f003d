"""The Python examples in docs/cohort-input.md run as written (from the repository root)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_cohort_input_doc_examples_run(monkeypatch) -> None:
    text = (ROOT / "docs" / "cohort-input.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    monkeypatch.chdir(ROOT)
    for code in blocks:
        exec(compile(code, "docs/cohort-input.md", "exec"), {})


def test_cohort_input_doc_mapping_is_valid() -> None:
    import yaml

    from cart_outcomes.cohort.mapping import mapping_from_dict

    text = (ROOT / "docs" / "cohort-input.md").read_text(encoding="utf-8")
    [block] = [b for b in re.findall(r"```yaml\n(.*?)```", text, flags=re.S) if "sheets:" in b and "Cohort" in b]
    m = mapping_from_dict(yaml.safe_load(block)["data"])
    assert m.values["day28_response"]["Complete remission"] == "CR" and m.sheets["patients"] == "Cohort"
