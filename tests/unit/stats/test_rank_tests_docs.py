"""The code in docs/stats/rank-tests.md runs and prints the R values written in its comments."""

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[3] / "docs" / "stats" / "rank-tests.md"


def test_rank_tests_doc_example_prints_R_values(capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert blocks
    for code in blocks:
        exec(compile(code, str(DOC), "exec"), {})
    out = capsys.readouterr().out
    for line in ("27.0 0.0303 Wilcoxon rank sum exact test", "49460.0 5000.0 127700.0", "0.97 7.86e-07 t-approximation",
                 "8.7273 0.01273"):
        assert line in out
