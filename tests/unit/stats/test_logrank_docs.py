"""The code in docs/stats/logrank.md runs (docs examples are code that CI runs)."""

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[3] / "docs" / "stats" / "logrank.md"


def test_logrank_doc_examples_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert blocks
    for code in blocks:
        exec(compile(code, str(DOC), "exec"), {})
    assert "mantel_haenszel" in capsys.readouterr().out
