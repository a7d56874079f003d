"""REDCap: a "CSV (raw data)" export read with its data dictionary into one sheet per cohort table.

Export both files from the REDCap project (no API, no network): *Data Exports, Reports, and Stats* -> *All data*
-> *Export Data* -> **CSV / Microsoft Excel (raw data)**, and *Project Setup* -> *Data Dictionary* -> **Download
the current Data Dictionary**. Then ``cart-outcomes init export.csv --redcap-dictionary dictionary.csv``.

Rules:

1. Rows without ``redcap_repeat_instrument`` are the record's own fields: merged per record (across the events of a
   longitudinal project, ``redcap_event_name``; two events giving one field different values is a
   ``REDCAP_CONFLICT`` error) into the sheet ``records``, one row per record.
2. Rows of a repeating instrument are a long table: the sheet named after the instrument (``crs_daily``), holding
   the record id and that instrument's fields, one row per instance.
3. Radio, dropdown, yes/no and true/false codes become their choice labels (``1, Complete remission`` -> the cell
   reads ``Complete remission``, which the value mapping recodes to CR). A code outside the choices stays as is (it
   is then reported as any unknown value).
4. A checkbox field (exported as ``field___code`` columns of 0/1) becomes one column holding the labels of the
   checked choices joined by ``" + "`` (``Norepinephrine + Vasopressin``); blank when none is checked.
5. Text fields validated as ``date_dmy``/``date_mdy``/``date_ymd`` (or ``datetime_*``) become dates: the raw export
   writes ``YYYY-MM-DD``, a "labels" export the field's own order; both are read. A date that is neither stays text
   (and is reported as an unreadable date where it is used).
6. A field is headed by its field name when that names a canonical column or one of its clinical wordings, else by
   its field label when that does (``q3`` labelled ``Date of CAR-T``), else by its name.

Rows keep the export's line numbers, so every problem points at the line of ``export.csv``. R users read the same
pair with ``REDCapR``/``redcapAPI`` and ``REDCapTidieR``.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cart_outcomes.cohort._problems import Problem
from cart_outcomes.cohort._readers import RawSource, _digest, _sheet_from_grid
from cart_outcomes.cohort._readstat import choose_header
from cart_outcomes.errors import InputError

__all__ = ["RedcapField", "read_dictionary", "read_redcap"]

RECORDS_SHEET = "records"
_REDCAP_COLUMNS = ("redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance",
                   "redcap_data_access_group", "redcap_survey_identifier")
_DATE_ORDER = {"dmy": "%d-%m-%Y", "mdy": "%m-%d-%Y", "ymd": "%Y-%m-%d"}
_CHOICE_TYPES = ("radio", "dropdown", "checkbox")
_FIXED_CHOICES = {"yesno": {"1": "Yes", "0": "No"}, "truefalse": {"1": "True", "0": "False"}}


@dataclass(frozen=True, slots=True)
class RedcapField:
    """One row of the data dictionary: what a field is and how its cells are read."""

    name: str
    form: str
    type: str
    label: str
    choices: dict[str, str]
    validation: str

    @property
    def date_format(self) -> str | None:
        """strptime format of the field's dates in its own order (``date_dmy`` -> ``%d-%m-%Y``), or None."""
        m = re.fullmatch(r"date(?:time(?:_seconds)?)?_(dmy|mdy|ymd)", self.validation)
        return _DATE_ORDER[m.group(1)] if m else None


def _text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _frame(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(f"REDCap file not found: {path}")
    try:
        return pd.read_csv(io.StringIO(_text(path)), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path.name} is not a readable CSV file ({type(exc).__name__})") from None


def _choices(text: str) -> dict[str, str]:
    """``"1, CR | 2, PR"`` -> {"1": "CR", "2": "PR"} (REDCap's choice syntax; the label may hold commas)."""
    out = {}
    for part in text.split("|"):
        code, sep, label = part.partition(",")
        if sep:
            out[code.strip()] = label.strip()
    return out


def read_dictionary(path: str | Path) -> dict[str, RedcapField]:
    """Read a REDCap data dictionary (metadata CSV) into field name -> :class:`RedcapField`, in export order.

    Raises
    ------
    InputError
        The file lacks the columns every REDCap dictionary has (Variable / Field Name, Form Name, Field Type).
    """
    path = Path(path)
    frame = _frame(path)
    norm = {re.sub(r"[^a-z]+", " ", str(c).lower()).strip(): c for c in frame.columns}

    def col(*keys: str) -> str | None:
        return next((norm[k] for k in keys if k in norm), None)

    name, form, ftype = col("variable field name", "field name"), col("form name"), col("field type")
    if name is None or form is None or ftype is None:
        raise InputError(f"{path.name} is not a REDCap data dictionary: it needs the columns 'Variable / Field "
                         "Name', 'Form Name' and 'Field Type'")
    label = col("field label")
    choices = col("choices calculations or slider labels", "choices or calculations")
    valid = col("text validation type or show slider number", "text validation type")
    out = {}
    for _, r in frame.iterrows():
        field_type = r[ftype].strip().lower()
        options = _FIXED_CHOICES.get(field_type) or (
            _choices(r[choices]) if choices and field_type in _CHOICE_TYPES else {})
        out[r[name].strip()] = RedcapField(r[name].strip(), r[form].strip(), field_type,
                                           r[label].strip() if label else "", options,
                                           r[valid].strip().lower() if valid else "")
    return out


def _date(text: str, fmt: str | None) -> object:
    day = text.strip().split(" ")[0]  # datetime fields: the date part
    for f in ("%Y-%m-%d", *((fmt, fmt.replace("-", "/")) if fmt else ())):
        try:
            return dt.datetime.strptime(day, f).date()
        except ValueError:
            continue
    return text


def _cells(f: RedcapField, raw: pd.Series) -> list[object]:
    if f.choices:
        return [f.choices.get(v, v) if v != "" else None for v in raw]
    if f.date_format is not None or f.validation.startswith("date"):
        return [_date(v, f.date_format) if v != "" else None for v in raw]
    return [v if v != "" else None for v in raw]


def _checkbox(f: RedcapField, export: pd.DataFrame) -> list[object]:
    cols = [(c, label) for code, label in f.choices.items() if (c := f"{f.name}___{code.lower()}") in export
            or (c := f"{f.name}___{code}") in export]
    out = []
    for i in range(len(export)):
        checked = [label for c, label in cols if export[c].iat[i] == "1"]
        out.append(" + ".join(checked) if checked else None)
    return out


def _sheet_grid(fields: list[RedcapField], export: pd.DataFrame, id_field: RedcapField) -> np.ndarray:
    grid = np.empty((len(export) + 1, len(fields) + 1), dtype=object)
    grid[0] = [choose_header(f.name, f.label) for f in (id_field, *fields)]
    grid[1:, 0] = [v or None for v in export[id_field.name]]
    for j, f in enumerate(fields, start=1):
        grid[1:, j] = _checkbox(f, export) if f.type == "checkbox" else _cells(f, export.get(f.name, pd.Series(
            [""] * len(export), index=export.index)))
    return grid


def _merge_records(grid: np.ndarray, lines: np.ndarray, problems: list[Problem]) -> tuple[np.ndarray, np.ndarray]:
    """Rule 1: one row per record, each field's value from whichever event gave it."""
    ids = grid[1:, 0]
    order = list(dict.fromkeys(ids))
    out = np.empty((len(order) + 1, grid.shape[1]), dtype=object)
    out[0] = grid[0]
    first_line = np.zeros(len(order), dtype=np.int64)
    for k, rid in enumerate(order):
        rows = np.flatnonzero(ids == rid)
        first_line[k] = lines[rows[0]]
        out[k + 1, 0] = rid
        for j in range(1, grid.shape[1]):
            given = [(lines[i], grid[i + 1, j]) for i in rows if grid[i + 1, j] is not None]
            values = list(dict.fromkeys(v for _, v in given))
            if len(values) > 1:
                problems.append(Problem("REDCAP_CONFLICT", "error",
                                        f"record {rid!r}: events give {grid[0, j]!r} the values "
                                        f"{', '.join(map(str, values))} (lines {', '.join(str(n) for n, _ in given)})",
                                        table=RECORDS_SHEET, row=int(given[1][0]), column=str(grid[0, j])))
            out[k + 1, j] = values[0] if values else None
    return out, first_line


def read_redcap(export: str | Path, dictionary: str | Path) -> RawSource:
    """Read a REDCap raw-data export with its data dictionary (rules in the module docstring).

    Returns
    -------
    RawSource
        The sheet ``records`` first, then one sheet per repeating instrument, with the export's line numbers as row
        numbers; problems ``REDCAP_CONFLICT`` and ``REDCAP_UNKNOWN_FIELD``; the checksums of both files.

    Raises
    ------
    InputError
        Either file is unreadable, or the export's first column is not the dictionary's first field (record id).
    """
    export, dictionary = Path(export), Path(dictionary)
    fields = read_dictionary(dictionary)
    frame = _frame(export)
    if not fields or frame.columns[0] != next(iter(fields)):
        raise InputError(f"{export.name}: its first column {frame.columns[0]!r} is not the record id field "
                         f"{next(iter(fields), '(none)')!r} of {dictionary.name}; export both from the same project")
    problems: list[Problem] = []
    known = set(fields) | set(_REDCAP_COLUMNS)
    bases = {re.sub(r"___[^_]+$", "", c) for c in frame.columns}
    for c in sorted(b for b in bases if b not in known and not b.endswith("_complete")):
        problems.append(Problem("REDCAP_UNKNOWN_FIELD", "warning", f"{export.name}: column {c!r} is not in "
                                f"{dictionary.name}; it was ignored", table=RECORDS_SHEET, row=1, column=c))
    id_field, *rest = fields.values()
    lines = np.arange(len(frame), dtype=np.int64) + 2  # the header is line 1
    instrument = frame.get("redcap_repeat_instrument", pd.Series([""] * len(frame), index=frame.index))
    repeating = [f for f in dict.fromkeys(instrument) if f]
    base_rows = (instrument == "").to_numpy()
    own = [f for f in rest if f.form not in repeating and f.type not in ("descriptive",)
           and (f.name in frame or f.type == "checkbox")]
    grid, first = _merge_records(_sheet_grid(own, frame[base_rows], id_field), lines[base_rows], problems)
    grids = [(RECORDS_SHEET, grid, first)]
    for form in repeating:
        rows = (instrument == form).to_numpy()
        its = [f for f in rest if f.form == form and f.type != "descriptive"]
        grids.append((form, _sheet_grid(its, frame[rows], id_field), lines[rows]))
    src = RawSource(problems=problems, sha256={p.name: _digest(p) for p in (export, dictionary)},
                    single=len(grids) == 1)
    for name, g, line in grids:
        sheet = _sheet_from_grid(name, export.name, g, 1, src.problems, 1)
        sheet.rows = line[sheet.rows - 2]  # grid row k (header = row 1) is data row k - 2: its export line
        src.sheets.append(sheet)
    return src
