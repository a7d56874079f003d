"""Every plan snippet (```yaml block) of the README and of the pages on cohort input and clinical data formats is a
valid plan, so the documented keys are the keys the plan model accepts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cart_outcomes.plan.model import parse_plan

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["README.md", "docs/cohort-input.md", "docs/interop.md"]


def _blocks(page: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", (ROOT / page).read_text(encoding="utf-8"), flags=re.S)


@pytest.mark.parametrize("page", PAGES)
def test_every_plan_snippet_parses(page: str) -> None:
    blocks = _blocks(page)
    assert blocks, page
    for block in blocks:
        parse_plan(block, source=page)


def test_the_input_kinds_are_all_shown_with_their_plan_keys() -> None:
    plans = [parse_plan(b) for page in PAGES for b in _blocks(page)]
    assert any(p.data.adtte for p in plans) and any(p.data.redcap_dictionary for p in plans)
    assert any(p.report.adam for p in plans)
    for page in ("README.md", "docs/cohort-input.md", "docs/interop.md"):
        text = (ROOT / page).read_text(encoding="utf-8")
        for kind in (".xlsx", ".csv", ".parquet", ".sav", ".dta", ".sas7bdat", ".xpt", "REDCap", "ADSL", "ADTTE",
                     "cart-outcomes[readstat]", "cart-outcomes[parquet]"):
            assert kind in text, (page, kind)
