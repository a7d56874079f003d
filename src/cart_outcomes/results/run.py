"""``RunResult``: what a plan run produced, handed to the report and to Python users.

It holds the typed ``record`` (:class:`~cart_outcomes.results.records.Results`, the document ``results.json`` is the
``model_dump`` of), the tidy tables (one CSV each), the analysed patients (one row per patient with the derived
endpoint columns) and the fitted results the figures are drawn from (so the numbers at risk under a curve are the
fit's own). No plan and no untyped extras: every option the report needs is in ``record.conventions``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from cart_outcomes.results.records import Results

__all__ = ["Fits", "RunResult", "results_json"]


def results_json(results: Mapping[str, Any]) -> str:
    """Deterministic JSON text: key order as the records define it, NaN never written (``None`` instead)."""
    return json.dumps(results, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


@dataclass(frozen=True)
class Fits:
    """Fitted results kept for the figures: survival analyses by id (Kaplan-Meier or cumulative incidence), the
    naive Kaplan-Meier of each (comparison, endpoint), and the Simon-Makuch curves of each (comparison, endpoint)."""

    survival: Mapping[str, Any] = field(default_factory=dict)
    naive: Mapping[tuple[str, str], Any] = field(default_factory=dict)
    simon_makuch: Mapping[tuple[str, str], Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunResult:
    """What a run produced.

    Attributes
    ----------
    record : the typed ``results.json`` document.
    tables : tidy tables by name (written as ``tables/<name>.csv`` and as data sheets of ``tables.xlsx``).
    patients : the analysed patients, one row each, with the derived ``*_time_days``/``*_event`` columns.
    fits : fitted results for the figures.
    deidentified : patient ids are study codes and calendar dates are removed everywhere.
    out_dir, files : where the outputs were written (``None`` and empty when computed only).
    """

    record: Results
    tables: Mapping[str, pd.DataFrame]
    patients: pd.DataFrame
    fits: Fits = field(default_factory=Fits)
    deidentified: bool = False
    out_dir: Path | None = None
    files: list[Path] = field(default_factory=list)

    @cached_property
    def results(self) -> dict[str, Any]:
        """``results.json`` as a JSON-ready dict: the ``model_dump`` of :attr:`record`, holding the fields each
        analysis set (a section that did not run is ``{"available": false}``, not a row of nulls)."""
        return self.record.model_dump(mode="json", exclude_unset=True)

    def to_json(self) -> str:
        """The text of ``results.json``: the same run on the same data gives the same bytes."""
        return results_json(self.results)
