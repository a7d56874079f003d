"""Located data problems and the report that collects them (public through ``cohort.validate``)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in one place of the cohort.

    ``row`` is the row number the user sees in the spreadsheet (header = row 1, so the first data row is 2);
    ``message`` says what was found and what was expected.
    """

    rule: str
    severity: Severity
    message: str
    table: str | None = None
    patient_id: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = []
        if self.table not in (None, "patients"):
            where.append(f"table '{self.table}'")
        if self.patient_id is not None:
            where.append(f"patient {self.patient_id}" + (f" (row {self.row})" if self.row is not None else ""))
        elif self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        loc = ", ".join(where)
        return f"[{self.rule}] {loc}: {self.message}" if loc else f"[{self.rule}] {self.message}"

    def to_dict(self) -> dict:
        """Plain dict with keys rule, severity, patient_id, row, column, value, message, table."""
        d = asdict(self)
        return {k: d[k] for k in ("rule", "severity", "patient_id", "row", "column", "value", "message", "table")}


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """Every problem found in a cohort, errors first, in file order within each table."""

    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings allowed)."""
        return not self.errors

    def rules(self) -> set[str]:
        """The distinct rule codes present."""
        return {p.rule for p in self.problems}

    def to_frame(self):
        """The problems as a pandas DataFrame (one row per problem)."""
        import pandas as pd

        cols = ["rule", "severity", "patient_id", "row", "column", "value", "message", "table"]
        return pd.DataFrame([p.to_dict() for p in self.problems], columns=cols)

    def to_json(self) -> str:
        """JSON list of objects with keys rule, severity, patient_id, row, column, value, message, table."""
        return json.dumps([p.to_dict() for p in self.problems], indent=2, ensure_ascii=False)

    def __str__(self) -> str:
        head = f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"
        return "\n".join([head, *(str(p) for p in self.problems)])


_SEVERITY_ORDER = {"error": 0, "warning": 1}


def sort_problems(problems: list[Problem], table_order: list[str]) -> tuple[Problem, ...]:
    """Errors first; then by table (schema order), spreadsheet row and column."""
    order = {name: i for i, name in enumerate(table_order)}

    def key(p: Problem) -> tuple:
        return (_SEVERITY_ORDER[p.severity], order.get(p.table, -1 if p.table is None else len(order)),
                p.row if p.row is not None else -1)

    return tuple(sorted(problems, key=key))
