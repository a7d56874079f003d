"""A starter plan from a clinician's own sheet: what ``cart-outcomes init SHEET`` writes.

The sheet is read as it is (title rows skipped, any delimiter and encoding) and every guess is written into a
commented ``study.yaml`` with its evidence, so a person can check it before running:

1. Tables: a single sheet is the patients table; in a workbook, each sheet goes to the table whose columns its
   headers name most often (a sheet of daily temperatures, blood pressures, vasopressors and oxygen is
   ``crs_observations``).
2. Columns: a header is the canonical name (any case or spacing), else a clinical wording of
   :data:`~cart_outcomes.cohort.mapping.HEADER_SYNONYMS` (``Date of CAR-T``, ``Last FU``, ``dx``), else a close
   spelling of one of them (similarity >= 0.85, marked "check"). A date column holding only numbers is the
   ``*_day`` column. A header that matches nothing is listed as unmapped, never forced onto a column.
3. Values: category and grade cells outside the vocabulary get a recode: the built-in English wording
   (``Male`` -> M, ``complete remission`` -> CR, ``Grade 2`` -> 2), else a close spelling (marked "check"); values
   with no guess are listed for the user to fill in. Every key and value is quoted, so YAML never reads ``no`` as
   false.
4. Dates: text dates give the date format when some can only be read one way (19/01/2023 is day-first); numbers
   written with a decimal comma set ``decimal: ","``.
5. Analyses: the standard CAR-T analyses with 6- and 12-month rates and, when the sheet has an allo-HSCT date, the
   comparison of responders by HSCT (naive and immortal-time-corrected).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cart_outcomes._yaml import quoted_scalar as _q
from cart_outcomes.cohort._convert import normalise_header
from cart_outcomes.cohort.io import detect_date_format, read_sheets
from cart_outcomes.cohort.mapping import (
    GRADE_COLUMNS,
    grade_from_text,
    guess_column,
    guess_column_by_values,
    guess_value,
    header_candidates,
)
from cart_outcomes.cohort.schema import TABLES, Table
from cart_outcomes.errors import InputError

__all__ = ["ColumnGuess", "InitResult", "SheetGuess", "init_plan"]

_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")
#: Numeric or coded columns whose bedside wording has its own column (names, not counts; text, not codes).
_TEXT_FORMS = {"vasopressors": "vasopressor_names", "oxygen_device": "oxygen"}


@dataclass(frozen=True, slots=True)
class ColumnGuess:
    """One header of the sheet and the canonical column it was mapped to (``None``: unmapped), with evidence."""

    header: str
    column: str | None
    evidence: str


@dataclass(frozen=True, slots=True)
class SheetGuess:
    """One sheet: the table it holds, its header row, column guesses and value recodes (with evidence)."""

    sheet: str
    table: str | None
    header_row: int
    n_rows: int
    columns: tuple[ColumnGuess, ...]
    values: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    unmapped_values: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InitResult:
    """The plan text, where it was written, and the guesses behind it."""

    text: str
    path: Path | None
    sheets: tuple[SheetGuess, ...]
    date_format: str | None
    decimal: str


def _text_cells(values: np.ndarray) -> list[str]:
    return [v for v in values if isinstance(v, str) and v != ""]


def _is_number(v: object) -> bool:
    if isinstance(v, bool | np.bool_):
        return False
    if isinstance(v, int | float | np.integer | np.floating):
        return True
    return isinstance(v, str) and re.fullmatch(r"-?\d+(?:[.,]\d+)?", v) is not None


def _score(headers: list[str], table: Table) -> int:
    cands = header_candidates(table.name)
    return sum(normalise_header(h) in cands for h in headers)


def _assign_tables(sheets: tuple) -> list[str | None]:
    if len(sheets) == 1:
        return ["patients"]
    named = {normalise_header(t): t for t in TABLES}
    out: list[str | None] = []
    for s in sheets:
        by_name = named.get(normalise_header(s.name))
        scores = {t: _score(s.headers, TABLES[t]) for t in TABLES}
        best = max(scores, key=lambda t: (scores[t], t == "patients"))
        out.append(by_name or (best if scores[best] >= 2 else None))
    if "patients" not in out:  # the sheet naming most patient columns
        i = max(range(len(sheets)), key=lambda k: _score(sheets[k].headers, TABLES["patients"]))
        out[i] = "patients"
    return out


def _map_columns(sheet, table: Table) -> list[ColumnGuess]:
    taken: dict[str, str] = {}
    guesses = []
    for j, h in enumerate(sheet.headers):
        column, evidence = guess_column(h, table.name)
        if column is not None:
            col = table.column(column)
            cells = [v for v in sheet.values[:, j] if v is not None and v != ""]
            if col.dtype == "date" and col.alternative and cells and all(_is_number(v) for v in cells):
                column, evidence = col.alternative, evidence + "; the cells are numbers, so days after infusion"
            elif column in _TEXT_FORMS and any(isinstance(v, str) and not _is_number(v) for v in cells):
                column, evidence = _TEXT_FORMS[column], evidence + "; the cells are words, read at the bedside"
        if column is not None and column in taken:
            column, evidence = None, f"also looks like {column}, already mapped from '{taken[column]}'"
        if column is not None:
            taken[column] = h
        guesses.append(ColumnGuess(h, column, evidence))
    for j, g in enumerate(guesses):  # a header that names nothing, whose cells are values of one coded column
        if g.column is None and not g.evidence.startswith("also looks like"):
            column, evidence = guess_column_by_values(_text_cells(sheet.values[:, j]), table.name, tuple(taken))
            if column is not None:
                taken[column] = g.header
                guesses[j] = ColumnGuess(g.header, column, evidence)
    return guesses


def _map_values(sheet, table: Table, guesses: list[ColumnGuess]
                ) -> tuple[dict[str, dict[str, tuple[str, str]]], dict[str, list[str]]]:
    values: dict[str, dict[str, tuple[str, str]]] = {}
    unmapped: dict[str, list[str]] = {}
    for j, g in enumerate(guesses):
        if g.column is None:
            continue
        col = table.column(g.column)
        grade = g.column in GRADE_COLUMNS
        if col.dtype != "category" and not grade:
            continue
        texts = _text_cells(sheet.values[:, j])
        vocab = {v.lower(): v for v in (col.vocabulary or ())}
        for v in dict.fromkeys(texts):
            count = texts.count(v)
            if grade:
                if re.fullmatch(r"[0-5]", v):
                    continue
                g_ = grade_from_text(v)
                if g_ is not None:
                    values.setdefault(g.column, {})[v] = (str(g_), f"grade wording, {count} cell(s)")
                else:
                    unmapped.setdefault(g.column, []).append(v)
                continue
            if v.lower() in vocab:
                continue
            canon, why = guess_value(g.column, v, col.vocabulary or ())
            if canon is not None:
                check = ": check" if why.endswith(": check") else ""
                values.setdefault(g.column, {})[v] = (canon, f"{why.removesuffix(': check')}, {count} cell(s){check}")
            else:
                unmapped.setdefault(g.column, []).append(v)
    return values, unmapped


def _allowed(column: str) -> str:
    if column in GRADE_COLUMNS:
        return "0-5"
    col = next(TABLES[t].column(column) for t in TABLES if column in TABLES[t])
    return ", ".join(col.vocabulary or ()) or "the canonical values (docs/data-dictionary.md)"


def _date_evidence(texts: list[str], fmt: str) -> str:
    day_first = fmt.startswith("%d")
    for t in texts:
        parts = re.split(r"[/.\-]", t)
        if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit() and int(parts[0 if day_first else 1]) > 12:
            return f"{t!r} can only be {'day' if day_first else 'month'}-first"
    return "from the text dates"


def init_plan(sheet: str | Path, out: str | Path | None = None, *, force: bool = False,
              redcap_dictionary: str | Path | None = None) -> InitResult:
    """Write a commented starter ``study.yaml`` for a clinician's sheet (the Python form of ``cart-outcomes init``).

    Parameters
    ----------
    sheet : path
        ``.xlsx``/``.xlsm``/``.xls`` workbook (any sheets), ``.csv`` (any delimiter and encoding), ``.parquet``, or
        an SPSS/Stata/SAS file (``.sav``, ``.zsav``, ``.dta``, ``.sas7bdat``, ``.xpt``; value labels are read as
        the values, variable labels as headers: :mod:`cart_outcomes.cohort._readstat`).
    out : path, optional
        Plan file to write (default: ``study.yaml`` next to the sheet).
    force : bool
        Overwrite an existing plan file.
    redcap_dictionary : path, optional
        ``sheet`` is a REDCap "CSV (raw data)" export and this is its data dictionary (:mod:`.cohort.redcap`); the
        plan's ``data`` names both files.

    Returns
    -------
    InitResult
        The YAML text, the path written, and every guess with its evidence.

    Notes
    -----
    The numbered rules are in the module docstring. There is no R equivalent: R scripts are written by hand for
    each sheet.
    """
    src = Path(sheet)
    if not src.is_file():
        raise InputError(f"data file not found: {src}")
    target = src.with_name("study.yaml") if out is None else Path(out)
    if target.exists() and not force:
        raise InputError(f"{target} already exists; give another --out or --force to overwrite it")
    sheets = read_sheets(src, redcap_dictionary=redcap_dictionary)
    tables = _assign_tables(sheets)
    guesses: list[SheetGuess] = []
    date_texts: list[str] = []
    decimal = "."
    for s, t in zip(sheets, tables, strict=True):
        if t is None:
            guesses.append(SheetGuess(s.name, None, s.header_row, s.values.shape[0], ()))
            continue
        table = TABLES[t]
        cols = _map_columns(s, table)
        values, unmapped = _map_values(s, table, cols)
        for j, g in enumerate(cols):
            if g.column is None:
                continue
            dtype = table.column(g.column).dtype
            texts = _text_cells(s.values[:, j])
            if dtype == "date":
                date_texts += texts
            if dtype == "number" and any(_DECIMAL_COMMA.match(v) for v in texts):
                decimal = ","
        guesses.append(SheetGuess(s.name, t, s.header_row, s.values.shape[0], tuple(cols), values, unmapped))
    import pandas as pd

    date_format = detect_date_format(pd.Series(date_texts, dtype=object)) if date_texts else None
    text = _render(src, target, guesses, date_format, date_texts, decimal, single=len(sheets) == 1)
    if redcap_dictionary is not None:  # relative to the export's folder, where read_cohort looks for it
        rel = Path(redcap_dictionary).resolve()
        rel = rel.relative_to(src.resolve().parent) if rel.is_relative_to(src.resolve().parent) else rel
        text = text.replace("\ndata:\n", f"\ndata:\n  redcap_dictionary: {_q(str(rel))}    # its data dictionary\n", 1)
    target.write_text(text, encoding="utf-8")
    return InitResult(text, target, tuple(guesses), date_format, decimal)


def _render(src: Path, target: Path, guesses: list[SheetGuess], date_format: str | None, date_texts: list[str],
            decimal: str, *, single: bool) -> str:
    try:
        source = str(src.resolve().relative_to(target.resolve().parent))
    except ValueError:
        source = str(src.resolve())
    pat = next(g for g in guesses if g.table == "patients")
    mapped = {g.column for sg in guesses for g in sg.columns if g.column}
    lines = [
        f"# Starter analysis plan written by `cart-outcomes init` from {src.name}.",
        "# Every guess below says why it was made; check the ones marked 'check', fill in what is listed as",
        "# unmapped, then run:  cart-outcomes run " + target.name,
        "version: 1",
        f"title: {_q(src.stem + ' CAR-T cohort')}",
        "",
        "data:",
        f"  source: {_q(source)}",
    ]
    if single and pat.header_row > 1:
        lines.append(f"  header_row: {pat.header_row}            # rows above it hold a title, not headers")
    elif not single:
        lines.append("  sheets:")
        for sg in guesses:
            if sg.table is not None:
                lines.append(f"    {sg.table}: {_q(sg.sheet)}    # header on row {sg.header_row}, {sg.n_rows} rows")
        for sg in guesses:
            if sg.table is None:
                lines.append(f"    # sheet {_q(sg.sheet)}: not recognised as a cohort table, ignored")
    if date_format:
        lines.append(f"  date_format: {_q(date_format)}    # {_date_evidence(date_texts, date_format)}")
    if decimal == ",":
        lines.append(f"  decimal: {_q(',')}    # numbers are written with a decimal comma")
    lines.append("  columns:")
    for sg in guesses:
        if sg.table is None:
            continue
        lines.append(f"    # sheet {_q(sg.sheet)} -> table {sg.table}")
        for g in sg.columns:
            if g.column is None:
                continue
            lines.append(f"    {_q(g.header)}: {_q(g.column)}    # {g.evidence}")
        for g in sg.columns:
            if g.column is None:
                lines.append(f"    # {_q(g.header)}: unmapped ({g.evidence}); kept as is, not analysed")
    all_values = {c: v for sg in guesses for c, v in sg.values.items()}
    all_unmapped = {c: v for sg in guesses for c, v in sg.unmapped_values.items()}
    if all_values or all_unmapped:  # a key with only commented lines under it is commented too (else YAML null)
        lines.append("  values:" if all_values else "  # values:")
        for column in dict.fromkeys([*all_values, *all_unmapped]):
            lines.append(f"    {column}:" if column in all_values else f"    # {column}:")
            for raw, (canon, evidence) in all_values.get(column, {}).items():
                lines.append(f"      {_q(raw)}: {_q(canon)}    # {evidence}")
            for raw in all_unmapped.get(column, []):
                lines.append(f"      # {_q(raw)}: ?    no guess: write one of {_allowed(column)}, then uncomment")
    lines += [
        "",
        "endpoints:",
        "  hsct: ignore              # allo-HSCT after CAR-T does not censor (clinical definitions 7.1)",
        "  nonresponder_event: assessment",
        *(["  response_day: 28"] if "day28_response" in mapped else []),  # else its analyses are skipped
        "",
        "statistics:",
        "  conf_type: log-log",
        "  conf_level: 0.95",
        "",
        "analyses:                   # the standard CAR-T analyses, rates at 6 and 12 months (days)",
    ]
    for ep, pop in (("os", "all"), ("pfs", "all"), ("efs", "all"), ("dor", "responders"), ("cir", "all"),
                    ("nrm", "all")):
        if pop == "responders" and "day28_response" not in mapped:  # responders are read from day28_response
            continue
        lines.append(f"  - endpoint: {ep}")
        if pop != "all":
            lines.append(f"    population: {pop}")
        lines.append("    rates_at: [182.625, 365.25]")
    if ("hsct_date" in mapped or "hsct_day" in mapped) and "day28_response" in mapped:
        lines += [
            "",
            "comparisons:                # the sheet has an allo-HSCT date",
            "  - name: responders_by_hsct",
            "    population: responders  # day-28 CR/CRi/CRh/PR",
            "    exposure: hsct_day      # after infusion: naive and immortal-time-corrected analyses",
        ]
        if "hsct_intent" in mapped:
            lines += ["    exposure_filter:", "      hsct_intent: consolidative"]
        lines += ["    endpoints: [os, pfs]", "    rates_at: [365.25]"]
    if "sbp_mmhg" in mapped:
        lines += ["", "toxicity:", "  hypotension_sbp_mmhg: 90   # daily CRS sheet: hypotension = SBP < 90 mmHg or "
                  "any vasopressor (ASTCT 2019 states no number)"]
    if "crs_grade" in mapped and "crs_grading_system" not in mapped and not any(
            sg.table == "crs_observations" for sg in guesses):
        lines += ["", "# CRS grades are pre-graded and the sheet does not say by which system: add a column",
                  "# crs_grading_system (ASTCT2019, Lee2014, Penn ...) so the report can state it."]
    return "\n".join(lines) + "\n"
