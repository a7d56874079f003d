"""The code examples in docs/stats/time-dependent.md run (docs examples are code that CI runs)."""

import re
from pathlib import Path

DOC = Path(__file__).parents[3] / "docs" / "stats" / "time-dependent.md"


def test_time_dependent_doc_examples_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert blocks
    for code in blocks:
        exec(compile(code, str(DOC), "exec"), {})
    assert "exposed" in capsys.readouterr().out
