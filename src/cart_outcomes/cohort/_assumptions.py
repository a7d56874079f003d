"""What reading a sheet took for granted: each an :class:`Assumption` the report's data-quality section lists.

A clinician's sheet is read through guesses (``cart-outcomes init`` writes them into the plan; reading without a
plan makes them again): which row holds the headers, which header is which canonical column, which cell text is
which canonical value, the order of day and month in text dates, the decimal mark. Reading records every one of
them, with the evidence that supports it, so that the report can say how each number was read from the sheet.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Kind = Literal["table", "header_row", "column", "value", "date_format", "decimal"]


@dataclass(frozen=True, slots=True)
class Assumption:
    """One reading decision: what was read as what, why, and whether the plan states it.

    ``stated`` is True when the plan's ``data`` section says it (``cart-outcomes init`` wrote it there, or the user
    did); False when reading found it alone (a canonical header, a built-in wording, a detected header row or date
    order). ``evidence`` says why it holds, naming a cell where one proves it.
    """

    kind: Kind
    read_as: str
    evidence: str
    stated: bool
    table: str | None = None
    header: str | None = None
    column: str | None = None
    value: str | None = None
    n_cells: int | None = None

    def __str__(self) -> str:
        where = f"table {self.table}: " if self.table not in (None, "patients") else ""
        cells = f" ({self.n_cells} cell{'s' if self.n_cells != 1 else ''})" if self.n_cells is not None else ""
        origin = "stated in the plan" if self.stated else "found while reading"
        subject = {
            "table": f"sheet {self.header!r} read as the {self.read_as} table",
            "header_row": f"headers read from row {self.read_as}",
            "column": f"{self.header!r} read as {self.read_as}",
            "value": f"column {self.header or self.column!r}: {self.value!r} read as {self.read_as}{cells}",
            "date_format": f"text dates read as {self.read_as}",
            "decimal": f"numbers read with the decimal mark {self.read_as!r}",
        }[self.kind]
        return f"{where}{subject}: {self.evidence} ({origin})"

    def to_dict(self) -> dict:
        """JSON-ready form with keys kind, read_as, evidence, stated, table, header, column, value, n_cells and
        text (the one-line form)."""
        return {**asdict(self), "text": str(self)}
