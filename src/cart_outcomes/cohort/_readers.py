"""Raw reading of cohort files into untyped sheets that keep every cell as the user typed it.

Workbooks are read with ``python-calamine`` (an order of magnitude faster than openpyxl, which matters for the
10,000-patient target). Calamine reports Excel error cells (``#N/A``, ``#DIV/0!`` ...) as blanks, so their
positions are recovered by scanning the worksheet XML for cells of type ``e``; those cells then carry the error
text and are reported as ``EXCEL_ERROR`` instead of passing for missing values.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

import numpy as np
import pandas as pd

from cart_outcomes.cohort import _readstat
from cart_outcomes.cohort._problems import Problem
from cart_outcomes.errors import InputError

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
SUFFIXES = (*EXCEL_SUFFIXES, ".csv", ".parquet", *_readstat.SUFFIXES)

#: Reading limits (docs/security.md): past any of them a file is a TOO_LARGE error and nothing is read from it.
#: Most cells of one table (rows x columns of the area its cells span): a registry extract of 1 million patients x
#: 50 columns, or 5 million labs rows of 10 columns (a 1,000,000-patient run of the seed plan peaks at 4.8 GB).
MAX_TABLE_CELLS = 50_000_000
#: Most cells a workbook sheet may span (calamine reads the whole area from A1 to its last cell into memory).
MAX_SHEET_CELLS = 5_000_000
#: Largest CSV file read, bytes.
MAX_TEXT_BYTES = 1 << 30
#: Most bytes the sheets of a workbook may unpack to, and the largest unpacked/packed ratio once a part has
#: unpacked past RATIO_GRACE_BYTES (a zip bomb packs 1 GB of repeated XML into 1 MB; Apache POI refuses ratios
#: above 100 the same way).
MAX_UNPACKED_BYTES = 1 << 30
MAX_INFLATE_RATIO = 100
RATIO_GRACE_BYTES = 10 << 20


@dataclass(slots=True)
class RawSheet:
    """One sheet (or CSV/parquet file) as read: headers, untyped cell values and spreadsheet row numbers."""

    name: str
    file: str
    headers: list[str]
    values: np.ndarray  # (n_rows, n_columns) object array
    rows: np.ndarray  # spreadsheet row number of each data row (header = row 1 when it is the first row)
    header_row: int = 1
    title: str = ""  # the text of the filled cells above the header row (a title), if any


@dataclass(slots=True)
class RawSource:
    sheets: list[RawSheet] = field(default_factory=list)
    sha256: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    single: bool = False  # one sheet/file only: it is the patients table whatever its name


def _digest(path: Path) -> str:
    with path.open("rb") as fh:  # streamed: a large file is never held twice
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _clean_column(col: np.ndarray) -> np.ndarray:
    uniq = pd.unique(col)
    changed = {u: u.strip() for u in uniq if type(u) is str and u != u.strip()}
    if changed:
        mask = pd.Series(col, dtype=object).isin(list(changed)).to_numpy()
        col = col.copy()
        col[mask] = [changed[v] for v in col[mask]]
    return col


def clean_cells(arr: np.ndarray) -> np.ndarray:
    """Strip surrounding blanks from every text cell (so whitespace-only cells become empty).

    Works on the distinct values of each column, so a column of repeated vocabulary values costs one hash pass.
    """
    if not arr.size:
        return arr
    return np.column_stack([_clean_column(arr[:, j]) for j in range(arr.shape[1])]).astype(object, copy=False)


def is_blank(arr: np.ndarray) -> np.ndarray:
    if arr.size == 0:
        return np.zeros(arr.shape, dtype=bool)
    blank = pd.isna(arr)
    blank[~blank] = arr[~blank] == ""
    return blank


#: Rows searched for the header under title rows.
HEADER_SEARCH_ROWS = 10


def find_header_row(blank: np.ndarray) -> int:
    """Index of the header row: among the first filled rows, the first filled in at least half as many columns as
    the fullest of them (a title row above the table fills one or two cells)."""
    filled = np.flatnonzero(~blank.all(axis=1))[:HEADER_SEARCH_ROWS]
    counts = (~blank[filled]).sum(axis=1)
    need = max(2, int(np.ceil(counts.max() / 2)))
    wide = filled[counts >= need]
    return int(wide[0]) if wide.size else int(filled[0])


def _sheet_from_grid(name: str, file: str, grid: np.ndarray, first_row: int, problems: list[Problem],
                     header_row: int | None = None) -> RawSheet:
    """Split a rectangular object grid into header and data; drop wholly blank rows and columns.

    ``header_row`` is the spreadsheet row of the headers; by default :func:`find_header_row` skips title rows.
    """
    grid = clean_cells(grid)
    blank = is_blank(grid)
    filled_rows = np.flatnonzero(~blank.all(axis=1)) if grid.size else np.array([], dtype=int)
    if filled_rows.size == 0:
        return RawSheet(name, file, [], np.empty((0, 0), dtype=object), np.empty(0, dtype=int), first_row)
    if header_row is None:
        h = find_header_row(blank)
    elif header_row - first_row < grid.shape[0]:
        h = header_row - first_row
    else:
        problems.append(Problem("EMPTY_FILE", "error", f"data.header_row is {header_row} but sheet {name!r} has "
                                f"only {grid.shape[0] + first_row - 1} rows", table=name))
        return RawSheet(name, file, [], np.empty((0, 0), dtype=object), np.empty(0, dtype=int), first_row)
    header_cells = grid[h]
    body, body_blank = grid[h + 1:], blank[h + 1:]
    keep_rows = ~body_blank.all(axis=1)
    headers, cols = [], []
    for j, cell in enumerate(header_cells):
        text = "" if blank[h, j] else _header_text(cell)
        col_has_data = bool((~body_blank[:, j]).any()) if body.size else False
        if not text:
            if col_has_data:
                problems.append(Problem("UNNAMED_COLUMN", "warning",
                                        f"column {_col_letter(j)} has values but no header; it was ignored",
                                        table=name, row=int(h + first_row), column=_col_letter(j)))
            continue
        headers.append(text)
        cols.append(j)
    values = body[keep_rows][:, cols] if cols else np.empty((int(keep_rows.sum()), 0), dtype=object)
    rows = np.flatnonzero(keep_rows) + h + 1 + first_row
    above = [_header_text(c) for c in grid[:h][~blank[:h]]]
    return RawSheet(name, file, headers, values, rows.astype(np.int64), int(h + first_row), " ".join(above)[:80])


def _header_text(cell: object) -> str:
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _col_letter(j: int) -> str:
    s = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        s = chr(65 + r) + s
    return s


_CELL_RE = re.compile(rb'<c\b([^>]*\bt="e"[^>/]*)>(.*?)</c>', re.S)
_REF_RE = re.compile(rb'\br="([A-Z]+)(\d+)"')
_VAL_RE = re.compile(rb"<v>([^<]*)</v>")
_WIDE_REF_RE = re.compile(rb'\sr="([A-Z]{2,3})([0-9]{1,7})"')  # cells beyond column Z (rows carry digits only)
_ROW_REF_RE = re.compile(rb'<row\b[^>]*?\sr="([0-9]{1,7})"')
_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
       "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
       "rel": "http://schemas.openxmlformats.org/package/2006/relationships"}
_CHUNK = 4 << 20


class _TooLarge(Exception):
    """A workbook over a reading limit; the message says which, where, and what to do."""


def _column_number(letters: bytes) -> int:
    col = 0
    for ch in letters:
        col = col * 26 + ch - 64
    return col


@dataclass(slots=True)
class _SheetScan:
    """What one streaming pass over a sheet's XML found: error cells and the area its cells span."""

    errors: list[tuple[int, int, str]] = field(default_factory=list)
    cells: int = 0
    rows: int = 0
    max_row: int = 0
    max_col: int = 0
    far: str = ""  # the cell reference furthest out (for the message)

    def read(self, piece: bytes) -> None:
        self.cells += piece.count(b"<c ") + piece.count(b"<c>") + piece.count(b"<c/")
        self.rows += piece.count(b"<row ") + piece.count(b"<row>")
        for m in _ROW_REF_RE.finditer(piece):
            self.max_row = max(self.max_row, int(m.group(1)))
        for m in _WIDE_REF_RE.finditer(piece):
            col = _column_number(m.group(1))
            if col > self.max_col:
                self.max_col, self.far = col, (m.group(1) + m.group(2)).decode()
            self.max_row = max(self.max_row, int(m.group(2)))
        if b't="e"' in piece:
            for m in _CELL_RE.finditer(piece):
                ref, val = _REF_RE.search(m.group(1)), _VAL_RE.search(m.group(2))
                if ref is not None:
                    self.errors.append((int(ref.group(2)) - 1, _column_number(ref.group(1)) - 1,
                                        val.group(1).decode("utf-8", "replace") if val else "#ERROR"))

    def area(self) -> tuple[int, int]:
        """(rows, columns) the sheet's cells span: rows from the row numbers and the row count, columns from the
        references beyond Z, else at most 26 or the mean number of cells per row, whichever is larger."""
        rows = max(self.max_row, self.rows, 1)
        return rows, max(self.max_col, min(26, self.cells), -(-self.cells // rows))


def _scan_part(z: zipfile.ZipFile, part: str, unpacked: list[int]) -> _SheetScan:
    """Stream one sheet's XML (never all of it in memory), enforcing the unpacked-size and ratio limits."""
    info = z.getinfo(part)
    scan, carry, seen = _SheetScan(), b"", 0
    with z.open(info) as fh:
        while chunk := fh.read(_CHUNK):
            seen += len(chunk)
            unpacked[0] += len(chunk)
            if unpacked[0] > MAX_UNPACKED_BYTES:
                raise _TooLarge(f"its sheets unpack to more than {MAX_UNPACKED_BYTES >> 20:,} MB")
            if seen > RATIO_GRACE_BYTES and seen > MAX_INFLATE_RATIO * max(info.compress_size, 1):
                raise _TooLarge(f"part {part} unpacks more than {MAX_INFLATE_RATIO} times its packed size "
                                f"({info.compress_size:,} bytes); a workbook this repetitive is a zip bomb")
            buf = carry + chunk
            cut = max(buf.rfind(b"</c>") + 4, buf.rfind(b"</row>") + 6, buf.rfind(b"/>") + 2)
            if cut <= 2:
                if len(buf) > 4 * _CHUNK:
                    raise _TooLarge(f"part {part} has an element longer than {4 * _CHUNK >> 20} MB")
                carry = buf
                continue
            scan.read(buf[:cut])
            carry = buf[cut:]
        scan.read(carry)
    return scan


def _excel_error_cells(path: Path) -> dict[str, list[tuple[int, int, str]]]:
    """Sheet name -> [(row0, col0, error text)] for every cell of type ``e`` in an .xlsx/.xlsm workbook.

    One streaming pass per sheet, before calamine reads anything: it also measures the area each sheet's cells span
    (a cell at XFD1048576 makes calamine allocate every cell up to it) and stops at the unpacked-size and ratio
    limits, raising :class:`_TooLarge`.
    """
    out: dict[str, list[tuple[int, int, str]]] = {}
    if path.suffix.lower() == ".xls" or not zipfile.is_zipfile(path):
        return out
    unpacked = [0]
    with zipfile.ZipFile(path) as z:
        wb = ElementTree.fromstring(z.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        target = {r.get("Id"): r.get("Target") for r in rels.findall("rel:Relationship", _NS)}
        for sheet in wb.findall("m:sheets/m:sheet", _NS):
            rid = sheet.get(f"{{{_NS['r']}}}id")
            tgt = target.get(rid)
            if not tgt:
                continue
            part = tgt.lstrip("/") if tgt.startswith("/") else str(PurePosixPath("xl") / tgt)
            try:
                scan = _scan_part(z, part, unpacked)
            except KeyError:
                continue
            rows, cols = scan.area()
            if rows * cols > MAX_SHEET_CELLS:
                far = f" (a cell at {scan.far})" if scan.far else ""
                raise _TooLarge(f"sheet {sheet.get('name')!r} spans {rows:,} rows x {cols:,} columns{far}, "
                                f"{rows * cols:,} cells; the limit is {MAX_SHEET_CELLS:,}. Delete stray cells far "
                                "from the table, or save large tables as CSV or Parquet")
            out[sheet.get("name")] = scan.errors
    return out


def _read_excel(path: Path, src: RawSource, header_row: int | None) -> None:
    from python_calamine import CalamineWorkbook

    try:
        errors = _excel_error_cells(path)  # first: it refuses what calamine could not hold in memory
        wb = CalamineWorkbook.from_path(str(path))
        names = list(wb.sheet_names)
        grids = {n: wb.get_sheet_by_name(n).to_python(skip_empty_area=False) for n in names}
    except _TooLarge as exc:
        src.problems.append(Problem("TOO_LARGE", "error", f"{path.name} was not read: {exc}"))
        return
    except Exception as exc:  # calamine raises its own error types for corrupt or non-Excel files
        src.problems.append(Problem("UNREADABLE_FILE", "error",
                                    f"{path.name} could not be read as a workbook ({type(exc).__name__}: {exc})"))
        return
    src.single = len(names) == 1
    for name in names:
        rows = grids[name]
        width = max((len(r) for r in rows), default=0)
        grid = np.empty((len(rows), width), dtype=object)
        grid[:] = ""
        for i, r in enumerate(rows):
            grid[i, :len(r)] = r
        for r0, c0, text in errors.get(name, ()):
            if r0 < grid.shape[0] and c0 < grid.shape[1]:
                grid[r0, c0] = text
        src.sheets.append(_sheet_from_grid(name, path.name, grid, 1, src.problems, header_row))


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


_QUOTED = re.compile(r'"[^"]*"')


def _read_csv(path: Path, src: RawSource, name: str, header_row: int | None = None) -> None:
    text = _decode(path.read_bytes())
    head = text.split("\n", HEADER_SEARCH_ROWS)[:HEADER_SEARCH_ROWS]  # title rows may hold no delimiter
    head = [_QUOTED.sub('""', line) for line in head]  # a delimiter inside quotes ("a;;b") is text
    sep = max((",", ";", "\t", "|"), key=lambda d: max(line.count(d) for line in head))
    try:
        width = max(line.count(sep) for line in head) + 1  # title rows above the header have fewer fields
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, header=None,
                            skip_blank_lines=False, quotechar='"', names=range(width))
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        src.problems.append(Problem("UNREADABLE_FILE", "error", f"{path.name} is not a readable CSV file ({detail})",
                                    table=name))
        return
    src.sheets.append(_sheet_from_grid(name, path.name, frame.to_numpy(dtype=object), 1, src.problems, header_row))


def _nested_text(value: object) -> object:
    """A nested parquet cell (list, struct, map, bytes) as JSON text; scalars unchanged."""
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, np.ndarray | list | tuple | dict | set):
        def plain(v: object) -> object:
            if isinstance(v, np.ndarray | list | tuple | set):
                return [plain(x) for x in v]
            if isinstance(v, dict):
                return {str(k): plain(x) for k, x in v.items()}
            return v.item() if isinstance(v, np.generic) else v

        return json.dumps(plain(value), default=str, ensure_ascii=False)
    return value


def _parquet_column(frame: pd.DataFrame, c: object, name: str, file: str, problems: list[Problem]) -> np.ndarray:
    """One parquet column as scalar cells, by a stated rule for the types a spreadsheet cannot hold."""
    col = frame[c]
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        problems.append(Problem("TIMEZONE_DATETIME", "warning",
                                f"{file}: column holds timezone-aware times ({col.dtype.tz}); each is read as its "
                                "calendar date in that time zone", table=name, column=str(c)))
        col = col.dt.tz_localize(None)
    values = col.astype(object).to_numpy(copy=True)
    nested = np.fromiter((isinstance(v, np.ndarray | list | tuple | dict | set | bytes | bytearray) for v in values),
                         dtype=bool, count=len(values)) if col.dtype == object else np.zeros(len(values), dtype=bool)
    if nested.any():
        first = int(np.flatnonzero(nested)[0])
        problems.append(Problem("NESTED_VALUE", "warning",
                                f"{file}: column holds lists, structs, maps or bytes (record {first + 1} and "
                                f"{int(nested.sum()) - 1:,} more); each cell is read as its JSON text",
                                table=name, row=first + 2, column=str(c)))
        values[nested] = [_nested_text(v) for v in values[nested]]
    values[pd.isna(values)] = None
    return values


def _read_parquet(path: Path, src: RawSource, name: str) -> None:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(f"{path.name}: reading Parquet files needs pyarrow; install it with "
                         "pip install 'cart-outcomes[parquet]'") from None
    try:
        meta = pq.ParquetFile(path).metadata
        if meta.num_rows * max(meta.num_columns, 1) > MAX_TABLE_CELLS:
            src.problems.append(Problem("TOO_LARGE", "error", f"{path.name} was not read: {meta.num_rows:,} rows x "
                                        f"{meta.num_columns} columns is over the limit of {MAX_TABLE_CELLS:,} cells",
                                        table=name))
            return
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many error types for corrupt files
        src.problems.append(Problem("UNREADABLE_FILE", "error",
                                    f"{path.name} could not be read as parquet ({type(exc).__name__})", table=name))
        return
    grid = np.empty((len(frame) + 1, frame.shape[1]), dtype=object)
    grid[0] = [str(c) for c in frame.columns]
    for j, c in enumerate(frame.columns):
        grid[1:, j] = _parquet_column(frame, c, name, path.name, src.problems)
    src.sheets.append(_sheet_from_grid(name, path.name, grid, 1, src.problems))


def _csv_too_large(path: Path, src: RawSource, name: str) -> bool:
    """Record TOO_LARGE (and return True) for a CSV over MAX_TEXT_BYTES or spanning more than MAX_TABLE_CELLS
    (lines x fields of the widest of its first lines), counted in one streaming pass before anything is parsed."""
    size = path.stat().st_size
    why = f"{size:,} bytes is over the limit of {MAX_TEXT_BYTES:,}" if size > MAX_TEXT_BYTES else ""
    if not why:
        with path.open("rb") as fh:
            head = last = fh.read(1 << 16)
            lines = head.count(b"\n")
            while chunk := fh.read(_CHUNK):
                lines, last = lines + chunk.count(b"\n"), chunk
        lines += not last.endswith(b"\n")  # a last line without its line feed
        fields = 1 + max((max(line.count(d) for d in (b",", b";", b"\t", b"|")) for line in head.split(b"\n")[:10]),
                         default=0)
        if lines * fields > MAX_TABLE_CELLS:
            why = f"{lines:,} lines x {fields} fields is over the limit of {MAX_TABLE_CELLS:,} cells"
    if why:
        src.problems.append(Problem("TOO_LARGE", "error", f"{path.name} was not read: {why}", table=name))
    return bool(why)


def read_raw(path: Path, header_row: int | None = None) -> RawSource:
    """Read a workbook, CSV, parquet file or folder of ``<table>.csv``/``<table>.parquet`` files.

    ``header_row``: spreadsheet row of the headers of every sheet (default: found under any title rows).
    """
    src = RawSource()
    if not path.exists():
        raise InputError(f"cohort file not found: {path}")
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".csv", ".parquet") and p.is_file())
        if not files:
            src.problems.append(Problem("EMPTY_FILE", "error", f"folder {path} holds no .csv or .parquet files"))
            return src
        for f in files:
            src.sha256[f.name] = _digest(f)
            if f.stat().st_size == 0:
                src.problems.append(Problem("EMPTY_FILE", "error", f"{f.name} is empty", table=f.stem))
            elif f.suffix.lower() == ".csv":
                if not _csv_too_large(f, src, f.stem):
                    _read_csv(f, src, f.stem, header_row)
            else:
                _read_parquet(f, src, f.stem)
        return src
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"{path.name}: unsupported file type {suffix or '(none)'}; expected one of "
                         f"{', '.join(SUFFIXES)} or a folder of <table>.csv files")
    src.sha256[path.name] = _digest(path)
    src.single = True
    if path.stat().st_size == 0:
        src.problems.append(Problem("EMPTY_FILE", "error", f"{path.name} is empty (0 bytes)"))
    elif suffix in EXCEL_SUFFIXES:
        _read_excel(path, src, header_row)
    elif suffix == ".csv":
        if not _csv_too_large(path, src, path.stem):
            _read_csv(path, src, path.stem, header_row)
    elif suffix in _readstat.SUFFIXES:
        src.sheets.append(_sheet_from_grid(path.stem, path.name, _readstat.read_labelled(path), 1, src.problems, 1))
    else:
        _read_parquet(path, src, path.stem)
    return src
