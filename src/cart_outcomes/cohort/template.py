"""The empty data-entry workbook, generated from the schema.

One sheet per table with the canonical headers (a comment on each header gives type, unit and description),
drop-down lists for every vocabulary and yes/no column, range checks on numbers, date-formatted date columns, and a
``dictionary`` sheet. Long tables use ``day`` (days after infusion) rather than dates; ``patients`` uses dates.
"""

from __future__ import annotations

from pathlib import Path

from cart_outcomes.cohort.schema import TABLES, Column

#: Rows prepared for data entry (validation and formats) in each sheet.
TEMPLATE_ROWS = 1000


def _template_columns(name: str) -> list[Column]:
    """Canonical columns shown in the template: dates in patients, days in the long tables."""
    out = []
    for c in TABLES[name].columns:
        if c.alternative and ((name == "patients") == (c.dtype == "day")):
            continue
        out.append(c)
    return out


def _comment(c: Column) -> str:
    parts = [c.description, f"Type: {c.dtype}" + (f", unit {c.unit}" if c.unit else "")]
    if c.required:
        parts.append("Required.")
    if c.vocabulary:
        parts.append("Allowed: " + ", ".join(c.vocabulary))
    return "\n".join(parts)


def write_template(path: str | Path) -> Path:
    """Write the empty data-entry workbook to ``path`` (.xlsx) and return the path."""
    import xlsxwriter

    p = Path(path)
    wb = xlsxwriter.Workbook(str(p))
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    req = wb.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1})
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    text = wb.add_format({"num_format": "@"})
    last = TEMPLATE_ROWS
    for name in TABLES:
        ws = wb.add_worksheet(name)
        ws.freeze_panes(1, 0)
        for j, c in enumerate(_template_columns(name)):
            ws.write_string(0, j, c.name, req if c.required else head)
            ws.write_comment(0, j, _comment(c), {"x_scale": 2, "y_scale": 2})
            width = max(12, len(c.name) + 2)
            if c.dtype == "date":
                ws.set_column(j, j, width, date)
                ws.data_validation(1, j, last, j, {"validate": "date", "criteria": ">", "value": 0,
                                                   "error_message": "Enter a date (yyyy-mm-dd)."})
            elif c.dtype in ("text",):
                ws.set_column(j, j, width, text)
            else:
                ws.set_column(j, j, width)
            if c.vocabulary:
                ws.data_validation(1, j, last, j, {"validate": "list", "source": list(c.vocabulary),
                                                   "error_message": "Choose a value from the list."})
            elif c.dtype == "boolean":
                ws.data_validation(1, j, last, j, {"validate": "list", "source": ["yes", "no"]})
            elif c.dtype in ("integer", "day", "number"):
                kind = "decimal" if c.dtype == "number" else "integer"
                lo = c.minimum if c.minimum is not None else -1e9
                hi = c.maximum if c.maximum is not None else 1e12
                ws.data_validation(1, j, last, j, {"validate": kind, "criteria": "between", "minimum": lo,
                                                   "maximum": hi,
                                                   "error_message": f"Enter a {c.dtype} between {lo:g} and {hi:g}."})
    ws = wb.add_worksheet("dictionary")
    cols = ["table", "column", "type", "required", "unit", "allowed values", "minimum", "maximum", "description"]
    for j, h in enumerate(cols):
        ws.write_string(0, j, h, head)
    r = 1
    for t in TABLES.values():
        for c in t.columns:
            alt = f" (or {c.alternative})" if c.alternative else ""
            row = [t.name, c.name, c.dtype, ("yes" + alt) if c.required else "", c.unit or "",
                   ", ".join(c.vocabulary) if c.vocabulary else "",
                   "" if c.minimum is None else c.minimum, "" if c.maximum is None else c.maximum, c.description]
            ws.write_row(r, 0, row)
            r += 1
    ws.set_column(0, 1, 24)
    ws.set_column(5, 5, 40)
    ws.set_column(8, 8, 80)
    ws.freeze_panes(1, 0)
    wb.close()
    return p
