"""The code examples in docs/stats/*.md of stats-competing run (docs examples are code that CI runs)."""

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).parents[3] / "docs" / "stats"


@pytest.mark.parametrize(("name", "expected"), [("time-dependent.md", "exposed"), ("competing-risks.md", "relapse")])
def test_doc_examples_run(name, expected, capsys):
    doc = DOCS / name
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(), flags=re.S)
    assert blocks
    for code in blocks:
        exec(compile(code, str(doc), "exec"), {})
    assert expected in capsys.readouterr().out
