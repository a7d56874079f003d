"""The Python examples in docs/endpoints.md run as written (from the repository root)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "endpoints.md").read_text(), flags=re.DOTALL)


@pytest.mark.parametrize("code", BLOCKS)
def test_doc_example_runs(code, monkeypatch):
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    exec(compile(code, "docs/endpoints.md", "exec"), namespace)
    assert namespace["out"]["pfs_source"].notna().all()
