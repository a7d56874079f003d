"""Publication tables (Table 1, response, survival summary, safety, HSCT naive vs corrected) and their CSV/XLSX export.

Every builder formats numbers that were computed below the report (tidy summaries, result records) into a
display-ready :class:`pandas.DataFrame` of strings (the layout a journal prints), with the statistical test or
interval method named in the table; nothing here computes a statistic. Exports protect against spreadsheet formula
injection: a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return is written with a leading
apostrophe so Excel, LibreOffice and Google Sheets show it as text instead of evaluating it (OWASP "CSV injection");
numbers, negative ones included, stay numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cart_outcomes.errors import InputError
from cart_outcomes.report._format import (
    format_estimate_ci,
    format_hr,
    format_p,
    format_percent,
    format_time,
    is_missing,
    round_half_up,
)
from cart_outcomes.report._stamp import document_time
from cart_outcomes.report.labels import LABELS, clinical_order, label

__all__ = [
    "baseline_table",
    "hsct_comparison_table",
    "neutralise_cell",
    "response_table",
    "safety_table",
    "supportive_care_table",
    "survival_summary_table",
    "write_csv",
    "write_workbook",
    "write_xlsx",
]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


# ----------------------------------------------------------------------------------------------------------------
# cell safety


def neutralise_cell(value: Any) -> Any:
    """Make one cell safe for a spreadsheet: text that a spreadsheet would evaluate gets a leading apostrophe.

    Numbers (also negative ones, and text that is exactly a plain number such as ``"-1.5"``) are returned unchanged;
    characters that XML cannot hold (ASCII control characters other than tab, newline and carriage return) are
    replaced by U+FFFD so the cell can always be written.
    """
    if not isinstance(value, str):
        return value
    value = _ILLEGAL_XML.sub("\ufffd", value)
    if value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _neutralise_column(column: pd.Series) -> pd.Series:
    """:func:`neutralise_cell` over a column of text without a Python call per cell.

    The text cells are joined by newlines once; when that one string has no control character and no line starting
    with a formula character (C-speed substring searches), no cell can need a change and the column is returned as
    it is. Otherwise (or for a column mixing text with other objects, rare in display tables) each cell goes through
    :func:`neutralise_cell`; a newline inside a cell can only send a column to that exact path, never skip it.
    Missing values stay as they are.
    """
    if pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty"):
        values = column.to_numpy(dtype=object, copy=True)
        joined = "\n" + "\n".join([v for v in values.tolist() if isinstance(v, str)])
        if not _ILLEGAL_XML.search(joined) and not any("\n" + c in joined for c in _FORMULA_START):
            return pd.Series(values, index=column.index, dtype=object)
    return column.map(neutralise_cell).astype(object)


def _neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy(deep=False)
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    for j, column in enumerate(out.columns):
        values = out.iloc[:, j]
        if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            out[column] = _neutralise_column(values)
    return out


def write_csv(frame: pd.DataFrame, path: str | Path, *, encoding: str = "utf-8") -> Path:
    """Write ``frame`` as CSV (no index) with formula-injection protection on text cells and headers.

    The bytes are those of pandas' ``to_csv(index=False, lineterminator="\\n")`` of the neutralised frame. Columns
    of numbers, booleans and text (what the run's tables hold) are turned into their CSV text a whole column at a
    time (:func:`_csv_text`: the same conversions ``to_csv`` makes, whole numbers through a lookup table) and joined
    row by row; a frame with another kind of column, or a single column, is left to ``to_csv`` itself. A
    100,000-patient endpoints table (3 million cells) takes about a quarter of ``to_csv``'s time.
    """
    path = Path(path)
    safe = _neutralise_frame(frame)
    columns = [_csv_text(safe.iloc[:, j]) for j in range(safe.shape[1])] if safe.shape[1] > 1 else [None]
    if any(c is None for c in columns):
        safe.to_csv(path, index=False, encoding=encoding, lineterminator="\n")
        return path
    with open(path, "w", encoding=encoding, newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerow(list(safe.columns))
        if len(safe):
            handle.write("\n".join(map(",".join, zip(*[c.tolist() for c in columns], strict=True))))
            handle.write("\n")
    return path


#: A cell holding one of these characters is quoted in a CSV file (by Python's csv module: QUOTE_MINIMAL).
_CSV_SPECIAL = re.compile(r'[,"\n\r]')
#: Whole numbers are written through a table of their texts when their range is at most this long.
_LOOKUP_RANGE = 1 << 16


def _whole_texts(values: np.ndarray, suffix: str) -> np.ndarray:
    """Texts of whole numbers (int64) with ``suffix`` (``".0"`` for floats), through a lookup table of the range."""
    if not len(values):
        return np.array([], dtype=object)
    low, high = int(values.min()), int(values.max())
    if high - low > max(_LOOKUP_RANGE, len(values)):
        return np.char.add(values.astype(str), suffix).astype(object) if suffix else values.astype(str).astype(object)
    table = np.array([f"{k}{suffix}" for k in range(low, high + 1)], dtype=object)
    return table[values - low]


def _float_texts(values: np.ndarray) -> np.ndarray:
    """``values.astype(str)`` (what ``to_csv`` writes for a float, the shortest repr: ``28.0``, ``0.1``, ``1e+16``)
    with missing values empty; whole numbers below 10**15 (days, counts) go through :func:`_whole_texts`."""
    whole = np.isfinite(values) & (np.abs(values) < 1e15) & (values == np.trunc(values))
    whole &= ~((values == 0) & np.signbit(values))  # -0.0 is written "-0.0"
    out = np.empty(len(values), dtype=object)
    out[whole] = _whole_texts(values[whole].astype(np.int64), ".0")
    rest = ~whole
    if rest.any():
        out[rest] = values[rest].astype(str).astype(object)
        out[np.isnan(values)] = ""
    return out


def _csv_text(column: pd.Series) -> np.ndarray | None:
    """The texts ``to_csv`` writes for the cells of ``column`` (missing: empty; text quoted as the csv module
    quotes it), or ``None`` for a kind of column other than numbers, booleans and text."""
    dtype, array = column.dtype, column.array
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        return _float_texts(column.to_numpy())
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        values = column.to_numpy()
        if dtype.kind == "u" and len(values) and values.max() >= 2**63:
            return values.astype(str).astype(object)
        return _whole_texts(values.astype(np.int64), "")
    if isinstance(dtype, np.dtype) and dtype.kind == "b":
        return np.where(column.to_numpy(), "True", "False").astype(object)
    if isinstance(array, pd.arrays.IntegerArray | pd.arrays.FloatingArray | pd.arrays.BooleanArray):
        missing = column.isna().to_numpy()
        if isinstance(array, pd.arrays.BooleanArray):
            out = np.where(column.to_numpy(dtype=bool, na_value=False), "True", "False").astype(object)
        elif isinstance(array, pd.arrays.FloatingArray):
            out = _float_texts(column.to_numpy(dtype="float64", na_value=0.0))
        elif array.dtype.numpy_dtype.kind == "u" and len(column) and column.max() >= 2**63:
            return None
        else:
            out = _whole_texts(column.to_numpy(dtype="int64", na_value=0), "")
        out[missing] = ""
        return out
    if pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype):
        if pd.api.types.infer_dtype(column, skipna=True) not in ("string", "empty"):
            return None
        out = column.to_numpy(dtype=object, na_value=None, copy=True)
        out[pd.isna(out)] = ""
        if _CSV_SPECIAL.search("\x00".join(out.tolist())):
            quote = np.array([bool(_CSV_SPECIAL.search(v)) for v in out.tolist()], dtype=bool)
            out[quote] = [_csv_field(v) for v in out[quote].tolist()]
        return out
    return None


def _csv_field(text: str) -> str:
    """One text cell as the csv module writes it in a row of several cells (quoted, quotes doubled)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([text, ""])
    return buffer.getvalue()[:-2]


def _cells(column: pd.Series) -> list[Any]:
    """One column as the values xlsxwriter writes: numbers (also text that is exactly a plain number, so display
    counts are numbers) as floats, booleans as booleans, missing as ``None`` (an empty cell), other text as text.
    Numeric, boolean and text columns are converted as whole arrays; a column mixing kinds goes cell by cell."""
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        out = column.astype(object).to_numpy(dtype=object, copy=True)
        missing = column.isna().to_numpy()
        out[missing] = None
        out[~missing] = out[~missing].astype(bool).tolist()
        return out.tolist()
    if pd.api.types.is_numeric_dtype(dtype):
        values = column.to_numpy(dtype=float, na_value=np.nan)
        out = values.astype(object)
        out[~np.isfinite(values)] = None
        return out.tolist()
    kind = pd.api.types.infer_dtype(column, skipna=True)
    if kind in ("string", "empty"):
        out = column.to_numpy(dtype=object, copy=True)
        missing = column.isna().to_numpy()
        out[missing] = None
        text = column.astype(object).str.strip()
        number = text.str.fullmatch(_PLAIN_NUMBER, na=False).to_numpy(dtype=bool)
        if number.any():
            out[number] = text[number].to_numpy(dtype=object).astype(float).astype(object)
        return out.tolist()
    return [_cell(value) for value in column.tolist()]


def _cell(value: Any) -> Any:
    if is_missing(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, str) and _PLAIN_NUMBER.fullmatch(value.strip()):
        return float(value)
    return str(value)


def _sheet(wb: Any, name: str, frame: pd.DataFrame, bold: Any) -> None:
    ws = wb.add_worksheet(name)
    safe = _neutralise_frame(frame)
    ws.write_row(0, 0, [str(c) for c in safe.columns], bold)
    for j, column in enumerate(safe.columns):
        ws.write_column(1, j, _cells(safe[column]))
    ws.freeze_panes(1, 0)


def _clean_sheet_name(name: str) -> str:
    return re.sub(r"[\[\]:*?/\\']", "_", str(name)).strip() or "Sheet"


def _open_workbook(path: Path, timestamp: dt.datetime | None) -> tuple[Any, Any]:
    """An xlsxwriter workbook that stores text as text, created at ``timestamp`` (default: the fixed document time;
    xlsxwriter stamps zip entries with a fixed date, so the same tables give the same bytes), and a bold format."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False})
    created = (timestamp or document_time()).astimezone(dt.UTC).replace(tzinfo=None)
    wb.set_properties({"created": created, "author": "cart-outcomes"})
    return wb, wb.add_format({"bold": True})


def write_xlsx(tables: pd.DataFrame | Mapping[str, pd.DataFrame], path: str | Path, *,
               timestamp: dt.datetime | None = None) -> Path:
    """Write one table, or several as named sheets, to an .xlsx workbook.

    Text cells are stored as strings (never formulas or links; risky ones with a leading apostrophe), numbers as
    numbers, missing values as empty cells. The header row is bold and frozen. Sheet names are cleaned of the
    characters Excel refuses; two names that are the same after cleaning or longer than 31 characters are an error
    (use :func:`write_workbook` for generated names). Written column by column with xlsxwriter; the workbook's
    created time is ``timestamp`` (default :func:`~cart_outcomes.report._stamp.document_time`).
    """
    if isinstance(tables, pd.DataFrame):
        tables = {"Table": tables}
    names = [_clean_sheet_name(n) for n in tables]
    long = [n for n in names if len(n) > 31]
    if long or len({n.lower() for n in names}) < len(names):
        raise InputError(f"sheet names must be unique and at most 31 characters: {names}")
    path = Path(path)
    wb, bold = _open_workbook(path, timestamp)
    for name, frame in zip(names, tables.values(), strict=True):
        _sheet(wb, name, frame, bold)
    wb.close()
    return path


#: Largest table (rows x columns) written as a workbook sheet. xlsxwriter spends a Python call per cell (about
#: 100,000 cells a second on a loaded 2-core machine), so a per-patient table of a large cohort would dominate the
#: whole run (a 100,000-patient endpoints table: 3 million cells, half a minute); longer tables are listed on the
#: Index sheet and left to tables/<name>.csv, which holds every row.
MAX_XLSX_CELLS = 100_000


def write_workbook(display: Mapping[str, pd.DataFrame], data: Mapping[str, pd.DataFrame], path: str | Path, *,
                   captions: Mapping[str, str] | None = None, timestamp: dt.datetime | None = None) -> Path:
    """The run's workbook: an ``Index`` sheet, then every display table (``T01`` ...) and every tidy data table
    (``D01`` ...), each in its own namespace so a display table never overwrites a data table of the same name.

    Sheet names are the prefix and the table name cut to Excel's 31 characters; the prefix keeps them unique and the
    index gives every sheet's full table name, its kind and (display tables) its caption in the report. A table of
    more than :data:`MAX_XLSX_CELLS` cells (rows x columns) gets no sheet; the index says so and
    points to its CSV. ``timestamp`` as in :func:`write_xlsx`.
    """
    path = Path(path)
    wb, bold = _open_workbook(path, timestamp)
    sheets = []
    for prefix, kind, tables in (("T", "display table (as in the report)", display),
                                 ("D", "data table (tables/<name>.csv)", data)):
        for k, (name, frame) in enumerate(tables.items(), start=1):
            sheet, what = _clean_sheet_name(f"{prefix}{k:02d} {name}")[:31], kind
            if frame.size > MAX_XLSX_CELLS:  # in tables/<name>.csv only: the sheet would cost more than the run
                sheet, what = "", f"not in this workbook: more than {MAX_XLSX_CELLS:,} cells; see tables/<name>.csv"
            sheets.append((sheet, what, name, frame))
    captions = captions or {}
    index = pd.DataFrame({"Sheet": [s[0] for s in sheets], "Kind": [s[1] for s in sheets],
                          "Table": [s[2] for s in sheets],
                          "Caption": [captions.get(s[2]) if s[1].startswith("display") else None for s in sheets],
                          "Rows": [len(s[3]) for s in sheets]})
    _sheet(wb, "Index", index, bold)
    for sheet, _kind, _name, frame in sheets:
        if sheet:
            _sheet(wb, sheet, frame, bold)
    wb.close()
    return path


# ----------------------------------------------------------------------------------------------------------------
# builders


def _fmt(v: float, digits: int) -> str:
    v = float(v)
    return str(int(v)) if v.is_integer() else f"{v:.{digits}f}"


def baseline_table(summary: pd.DataFrame, *, digits: int = 1, missing_label: str = "Missing",
                   continuous: str = "range", show_missing: bool = True) -> pd.DataFrame:
    """Table 1 from the tidy summary of :func:`cart_outcomes.stats.contingency.summarise_by_group`.

    Returns
    -------
    DataFrame
        ``Characteristic``, ``All (N = n)``, one column per group ``<group> (N = n)``, and with groups: ``p`` and
        ``Test``. Continuous variables: ``median (range)`` (``continuous="range"``) or ``median (IQR)`` (first and
        third quartiles, ``"iqr"``) on one row; categorical: a header row then one row per level with ``n (%)``
        (percent of patients with a known value), levels in words (:func:`~cart_outcomes.report.labels.label`:
        Female, not F) and in clinical order (schema order, not evaluable and missing last); a yes/no variable is one
        row, the number with "yes" (as gtsummary shows a dichotomous variable); a ``missing_label`` row when values
        are missing and ``show_missing``.
    """
    spread = ("minimum", "maximum") if continuous == "range" else ("q1", "q3")
    groups = list(dict.fromkeys(summary["group"]))
    sizes = summary.drop_duplicates("group").set_index("group")["group_n"]
    with_test = len(groups) > 1
    rows: list[list[str]] = []

    def add(text: str, cells: list[str], p: str = "", test: str = "") -> None:
        rows.append([text, *cells, *([p, test] if with_test else [])])

    def percent(by: pd.DataFrame, g: Any) -> str:
        return format_percent(int(by.loc[g, "n"]), int(by.loc[g, "n_known"]))

    for variable, block in summary.groupby("variable", sort=False):
        first = block.iloc[0]
        p_text = format_p(first["p"]) if first["test"] else ""
        values = block[block["level"] != "<missing>"]
        levels = list(dict.fromkeys(values["level"]))
        if first["kind"] == "categorical" and levels and all(str(v) in LABELS["boolean"] for v in levels):
            yes = [v for v in levels if label("boolean", v) == "Yes"]
            known = block.drop_duplicates("group").set_index("group")["n_known"]
            by = values[values["level"].isin(yes)].groupby("group")["n"].sum()
            add(f"{first['label']}, n (%)", [format_percent(int(by.get(g, 0)), int(known[g])) for g in groups],
                p_text, first["test"])
        elif first["kind"] == "categorical":
            add(f"{first['label']}, n (%)", ["" for _ in groups], p_text, first["test"])
            for level in clinical_order(str(variable), levels):
                by = values[values["level"] == level].set_index("group")
                add(f"    {label(str(variable), level)}", [percent(by, g) for g in groups])
        else:
            by = values.set_index("group")
            add(f"{first['label']}, median ({'range' if continuous == 'range' else 'IQR'})",
                ["NA" if not by.loc[g, "n"] else f"{_fmt(by.loc[g, 'median'], digits)} "
                 f"({_fmt(by.loc[g, spread[0]], digits)}–{_fmt(by.loc[g, spread[1]], digits)})" for g in groups],
                p_text, first["test"])
        missing = block[block["level"] == "<missing>"]
        if len(missing) and show_missing:
            by = missing.set_index("group")
            add(f"    {missing_label}", [str(int(by.loc[g, "n"])) for g in groups])
    columns = ["Characteristic", *[f"{g} (N = {int(sizes[g])})" for g in groups], *(["p", "Test"] if with_test else [])]
    return pd.DataFrame(rows, columns=columns)


def response_table(counts: pd.DataFrame, rates: Sequence[Mapping[str, Any]], *, conf_pct: int,
                   measures: Mapping[str, str]) -> pd.DataFrame:
    """Response table: n (%) per response category and the response rates with their confidence intervals.

    Parameters
    ----------
    counts : ``response, n`` per category (``missing`` for no recorded response), as
        :func:`cart_outcomes.endpoints.response.response_rates` returns them; shown in clinical order (CR first,
        not evaluable and not recorded last).
    rates : the rate records (``measure, categories, responders, n, estimate, lower, upper``) of the same run, so
        the table shows the rates (and denominator) of ``results.json``: ``8/12, 66.7% (34.9–90.1)``.
    conf_pct, measures : interval level and display names of the measures (the table's note names the interval
        method).
    """
    counts = counts[counts["n"] > 0]
    total = int(counts["n"].sum())
    by = {str(r["response"]): int(r["n"]) for _, r in counts.iterrows()}
    rows = [[label("response", r), format_percent(by[r], total)] for r in clinical_order("response", by)]
    for r in rates:
        x, n = int(r["responders"]), int(r["n"])
        cell = "0/0" if n == 0 else f"{x}/{n}, {format_estimate_ci(r['estimate'], r['lower'], r['upper'])}"
        name = measures.get(r["measure"], label("column", r["measure"]))
        rows.append([f"{name} ({' + '.join(str(r['categories']).split('+'))}), % ({conf_pct}% CI)", cell])
    return pd.DataFrame(rows, columns=["Response", f"All (N = {total})"])


def survival_summary_table(groups: Sequence[Mapping[str, Any]], *, endpoint: str, unit: str, conf_pct: int,
                           digits: int = 1) -> pd.DataFrame:
    """Survival summary per group from the survival records: N, events, median with CI, and the rate at each
    requested time with CI.

    ``groups`` are the records of one analysis (``group, n, events, median, lower, upper`` in ``unit``, and
    ``rates`` with ``label, survival, lower, upper``). Columns: ``Group, N, Events, Median (95% CI), <unit>`` and one
    ``<label> <ENDPOINT> (95% CI)`` per rate (e.g. ``6-month OS (95% CI)``); a median or limit not reached is
    ``NR``. Rounding: :data:`~cart_outcomes.report._format.ROUNDING_POLICY` (``digits`` for rates).
    """
    labels = list(dict.fromkeys(r["label"] for g in groups for r in g.get("rates", [])))
    rows = []
    for g in groups:
        row = ["All patients" if g["group"] in (None, "all") else str(g["group"]), f"{g['n']:g}", f"{g['events']:g}",
               f"{format_time(g['median'], unit)} ({format_time(g['lower'], unit)}–{format_time(g['upper'], unit)})"]
        by_label = {r["label"]: r for r in g.get("rates", [])}
        for name in labels:
            r = by_label.get(name)
            row.append("NA" if r is None or is_missing(r["survival"]) else
                       format_estimate_ci(r["survival"], r["lower"], r["upper"], digits=digits))
        rows.append(row)
    columns = ["Group", "N", "Events", f"Median ({conf_pct}% CI), {unit}"]
    columns += [f"{name[0].upper()}{name[1:]} {label('endpoint', endpoint)} ({conf_pct}% CI)" for name in labels]
    return pd.DataFrame(rows, columns=columns)


#: Rows of a safety table, in the order journals print them (any grade, grade 1–2, grade ≥3, then each grade ≥3).
SAFETY_ROWS = ("any_grade", "grade_1_to_2", "grade_3_or_higher", "grade_3", "grade_4", "grade_5")


def safety_table(distribution: pd.DataFrame, *, conf_pct: int, names: Mapping[str, str] | None = None
                 ) -> pd.DataFrame:
    """Grade distribution per toxicity and grading system from
    :func:`cart_outcomes.toxicity.grade_distribution` rows (``toxicity, system, category, n, n_total, percent,
    lower, upper``), in the rows journals use.

    Each (toxicity, system) block starts with a header row naming both in words (``names`` or
    :func:`~cart_outcomes.report.labels.label`: "Early ICAHT (days 0–30), EHA/EBMT 2023"), followed by any grade,
    grade 1–2, grade ≥3 and then grade 3, 4 and 5 each (indented). Columns ``Grade, n (%)`` and the exact interval
    (percent, one decimal).
    """
    rows = []
    for (tox, system), block in distribution.groupby(["toxicity", "system"], sort=False):
        by = block.set_index("category")
        rows.append([f"{(names or {}).get(str(tox), label('toxicity', tox))}, {label('system', system)}", "", ""])
        for category in SAFETY_ROWS:
            if category not in by.index:
                continue
            d = by.loc[category]
            indent = "        " if category in ("grade_3", "grade_4", "grade_5") else "    "
            rows.append([f"{indent}{label('grade', category)}", format_percent(int(d["n"]), int(d["n_total"])),
                         f"{round_half_up(100 * float(d['lower']), 1)}–{round_half_up(100 * float(d['upper']), 1)}"])
    return pd.DataFrame(rows, columns=["Grade", "n (%)", f"{conf_pct}% CI, % (Clopper-Pearson)"])


def supportive_care_table(rows: Sequence[Mapping[str, Any]], *, conf_pct: int) -> pd.DataFrame:
    """Tocilizumab, corticosteroid and ICU use from the ``toxicity.supportive_care`` records (``item, n, n_total,
    lower, upper``): ``Treatment, n/N (%)`` (N = patients with the item recorded) and the exact interval."""
    out = []
    for r in rows:
        n, total = int(r["n"]), int(r["n_total"])
        share = f"{n}/{total} ({round_half_up(100 * n / total)}%)" if total else "0/0"
        ci = "NA" if is_missing(r["lower"]) else (f"{round_half_up(100 * float(r['lower']), 1)}–"
                                                  f"{round_half_up(100 * float(r['upper']), 1)}")
        out.append([label("supportive_care", r["item"]), share, ci])
    return pd.DataFrame(out, columns=["Treatment", "n/N (%)", f"{conf_pct}% CI, % (Clopper-Pearson)"])


def hsct_comparison_table(analyses: pd.DataFrame, *, conf_pct: int = 95) -> pd.DataFrame:
    """Naive vs immortal-time-corrected HSCT analyses side by side.

    ``analyses`` has one row per analysis with columns ``analysis`` (e.g. "Naive log-rank (HSCT vs no HSCT)",
    "Landmark at day 60", "Time-dependent Cox", "Mantel-Byar"), ``handles_immortal_time`` (bool), ``estimate``
    (HR or NaN), ``lower``, ``upper``, ``p_value`` and optionally ``n``, ``events``, ``note``.
    The returned table flags the naive rows as biased in favour of HSCT (guarantee-time bias); ``conf_pct`` is the
    level of the intervals given (the results' ``conf_level``).
    """
    needed = ["analysis", "handles_immortal_time", "estimate", "lower", "upper", "p_value"]
    missing = [c for c in needed if c not in analyses.columns]
    if missing:
        raise InputError(f"hsct_comparison_table: missing column(s) {missing}")
    rows = []
    for _, a in analyses.iterrows():
        est = format_hr(a["estimate"], a["lower"], a["upper"])
        handled = bool(a["handles_immortal_time"])
        row = [str(a["analysis"]), "Yes" if handled else "No (biased in favour of HSCT)", est, format_p(a["p_value"])]
        for extra in ("n", "events"):
            if extra in analyses.columns:
                row.append("" if is_missing(a[extra]) else f"{a[extra]:g}")
        row.append("" if "note" not in analyses.columns or is_missing(a["note"]) else str(a["note"]))
        rows.append(row)
    columns = ["Analysis", "Accounts for immortal time", f"HR ({conf_pct}% CI)", "p"]
    columns += [c.capitalize() for c in ("n", "events") if c in analyses.columns]
    return pd.DataFrame(rows, columns=[*columns, "Note"])
