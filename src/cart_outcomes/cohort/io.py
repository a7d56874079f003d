"""Reading a cohort: file -> canonical typed tables -> validated :class:`Cohort`.

Supported sources: ``.xlsx``/``.xlsm``/``.xls`` (one sheet per table, sheet name = table name; a single-sheet
workbook is the ``patients`` table), ``.csv`` (UTF-8, with or without BOM, or Latin-1; comma, semicolon or tab),
``.parquet``, SPSS/Stata/SAS files (``.sav``, ``.zsav``, ``.dta``, ``.sas7bdat``, ``.xpt``: the patients table, read
with its value and variable labels), or a folder of ``<table>.csv``/``<table>.parquet`` files.

Reading never stops at the first problem and never raises on bad data: every unreadable cell is recorded as a
located :class:`~cart_outcomes.cohort.validate.Problem` and the cohort's ``report`` lists them with the results of
:func:`~cart_outcomes.cohort.validate.validate`. Call :meth:`Cohort.require_valid` before analysing.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from cart_outcomes._text import UNSAFE_CHARACTERS, neutralise
from cart_outcomes.cohort._assumptions import Assumption
from cart_outcomes.cohort._cohort import Cohort, empty_table, typed_empty
from cart_outcomes.cohort._convert import ColumnReader, closest, normalise_header
from cart_outcomes.cohort._problems import Problem, ValidationReport
from cart_outcomes.cohort._readers import RawSheet, RawSource, clean_cells, is_blank, read_raw
from cart_outcomes.cohort.mapping import GRADE_COLUMNS, DataMapping, guess_column, guess_value, synonym_column
from cart_outcomes.cohort.schema import PATIENTS, TABLES, Table
from cart_outcomes.cohort.validate import validate
from cart_outcomes.errors import InputError

#: Sheets a workbook may carry besides the tables (the template's own sheets); they are skipped without a warning.
IGNORED_SHEETS = frozenset({"dictionary", "readme", "instructions"})
_DMY = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})[/.\-](\d{2}|\d{4})$")
_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")
#: Event stems of the patients table: each has ``<stem>_date`` and ``<stem>_day``.
EVENT_STEMS: tuple[str, ...] = tuple(c.name[:-5] for c in PATIENTS.columns if c.dtype == "date" and c.alternative)


def _assign_sheets(src: RawSource, mapping: DataMapping, problems: list[Problem],
                   notes: list[Assumption]) -> dict[str, RawSheet]:
    if src.single and len(src.sheets) == 1:
        return {"patients": src.sheets[0]}
    wanted = {normalise_header(mapping.sheets.get(t, t)): t for t in TABLES}
    assigned: dict[str, RawSheet] = {}
    for sheet in src.sheets:
        key = normalise_header(sheet.name)
        if key in wanted and wanted[key] not in assigned:
            assigned[wanted[key]] = sheet
            if key != wanted[key]:
                notes.append(Assumption("table", wanted[key], "named under data.sheets", True, table=wanted[key],
                                        header=sheet.name))
        elif key not in IGNORED_SHEETS:
            guess = closest(key, list(TABLES))
            hint = f"; did you mean {guess!r}?" if guess else ""
            problems.append(Problem("UNKNOWN_SHEET", "warning",
                                    f"sheet {sheet.name!r} is not a cohort table and was ignored{hint} Tables are: "
                                    f"{', '.join(TABLES)} (other sheet names go under data.sheets in study.yaml)",
                                    table=sheet.name))
    return assigned


def _resolve_headers(t: Table, sheet: RawSheet, mapping: DataMapping, problems: list[Problem],
                     notes: list[Assumption]) -> tuple[dict[str, tuple[int, str]], dict[str, int]]:
    user = {k.strip(): v for k, v in mapping.columns.items()}
    user_norm = {normalise_header(k): v for k, v in mapping.columns.items()}
    canon: dict[str, tuple[int, str]] = {}
    extras: dict[str, int] = {}
    how: dict[str, tuple[bool, str]] = {}
    for j, h in enumerate(sheet.headers):
        target = user.get(h) or user_norm.get(normalise_header(h))
        if target is not None and target in t:
            guess, why = guess_column(h, t.name)
            how[target] = (True, why if guess == target or guess == t.column(target).alternative
                           else "named under data.columns")
        else:
            n = normalise_header(h)
            target = n if n in t else None
            how[n] = (False, "same name")
        if target is None:  # a clinical wording ("Last FU"), unless another header already names that column
            syn = synonym_column(h)
            named = {user.get(x) or user_norm.get(normalise_header(x)) or normalise_header(x) for x in sheet.headers}
            target = syn if syn in t and syn not in canon and syn not in named else None
            how[syn] = (False, f"clinical wording of {syn}")
        if target is None:
            guess, _ = guess_column(h, t.name)
            hint = f"; is it '{guess}'? (map it under data.columns)" if guess and guess not in canon else ""
            problems.append(Problem("UNKNOWN_COLUMN", "warning",
                                    f"not a column of table '{t.name}'; kept unchanged but not checked{hint}",
                                    table=t.name, row=sheet.header_row, column=h))
            name = h
            k = 1
            while name in extras or name in t:
                name, k = f"{h}.{k}", k + 1
            extras[name] = j
        elif target in canon:
            problems.append(Problem("DUPLICATE_COLUMN", "error",
                                    f"a second column for '{target}' (the first is {canon[target][1]!r}); keep one",
                                    table=t.name, row=sheet.header_row, column=h))
        else:
            canon[target] = (j, h)
            if h != target:
                stated, why = how[target]
                notes.append(Assumption("column", target, why, stated, table=t.name, header=h, column=target))
    return canon, extras


def _missing_columns(t: Table, canon: dict, sheet: RawSheet, problems: list[Problem]) -> None:
    for c in t.columns:
        if not c.required or c.name in canon or (c.alternative and c.alternative in canon):
            continue
        if c.alternative and c.dtype == "day" and t.name == "patients":
            continue  # reported once, under the date name
        if c.alternative and c.dtype == "date" and t.name != "patients":
            continue  # long tables: reported once, under 'day'
        alt = f" (or '{c.alternative}')" if c.alternative else ""
        problems.append(Problem("MISSING_COLUMN", "error", f"required column '{c.name}'{alt} is missing",
                                table=t.name, row=sheet.header_row, column=c.name))


def _add_days(df: pd.DataFrame, inf: pd.Series, date: str, day: str, canon: dict, t: Table,
              problems: list[Problem]) -> None:
    if date not in canon:
        return
    computed = (df[date] - inf).dt.days.astype("Int64")
    if day in canon:
        given = df[day]
        clash = (given.notna() & computed.notna() & (given != computed)).to_numpy(dtype=bool)
        for i in np.flatnonzero(clash):
            problems.append(Problem(
                "DATE_DAY_MISMATCH", "error",
                f"{day} {given.iat[i]} disagrees with {date} {df[date].iat[i]:%Y-%m-%d} (day {computed.iat[i]})",
                table=t.name, patient_id=_pid(df, i), row=int(df["source_row"].iat[i]), column=canon[day][1],
                value=str(given.iat[i])))
        df[day] = given.fillna(computed)
    else:
        df[day] = computed


def _pid(df: pd.DataFrame, i: int) -> str | None:
    v = df["patient_id"].iat[i]
    return None if pd.isna(v) else str(v)


def _neutral_ids(t: Table, ids: pd.Series, rows: np.ndarray, header: str, problems: list[Problem]) -> pd.Series:
    """Ids with their control, invisible and bidi characters written ``<U+XXXX>`` (the same in every table, so
    rows still link); each such patient gets an UNSAFE_ID warning in the patients table."""
    unsafe = ids.str.contains(UNSAFE_CHARACTERS, na=False).to_numpy(dtype=bool)
    if not unsafe.any():
        return ids
    ids = ids.copy()
    ids[unsafe] = ids[unsafe].map(neutralise)
    if t.name == "patients":
        for i in np.flatnonzero(unsafe):
            shown = str(ids.iat[i])
            problems.append(Problem("UNSAFE_ID", "warning",
                                    f"the id holds control, invisible or direction-changing characters, so it could "
                                    f"display as another id; it is shown as {shown!r} in every output",
                                    table=t.name, patient_id=shown, row=int(rows[i]), column=header, value=shown))
    return ids


def detect_date_format(texts: pd.Series) -> str | None:
    """``'%d/%m/%Y'`` when some text date such as 19/01/2023 can only be day-first and none can only be
    month-first (``'%m/%d/%Y'`` the other way round); ``None`` when the texts prove neither or contradict."""
    parts = texts.dropna().astype(str).str.extract(_DMY)
    a = pd.to_numeric(parts[0], errors="coerce")
    b = pd.to_numeric(parts[2], errors="coerce")
    sep = parts[1].dropna()
    day_first, month_first = bool((a > 12).any()), bool((b > 12).any())
    if day_first == month_first or sep.nunique() != 1:
        return None
    year = "%Y" if bool((parts[3].dropna().str.len() == 4).all()) else "%y"
    d = sep.iat[0]
    return f"%d{d}%m{d}{year}" if day_first else f"%m{d}%d{d}{year}"


def _text_dates(t: Table, canon: dict[str, tuple[int, str]], raw: dict[str, pd.Series]) -> list[tuple[str, pd.Series]]:
    """(header, text cells) of each date column holding text dates."""
    out = []
    for name in canon:
        if t.column(name).dtype == "date":
            texts = raw[name][raw[name].map(type).eq(str).to_numpy()]
            if not texts.empty:
                out.append((canon[name][1], texts))
    return out


def _date_proof(texts: list[tuple[str, pd.Series]], fmt: str, rows: np.ndarray) -> str:
    """The first text date that can only be read as ``fmt`` (day or month above 12), quoted with its place."""
    first = 0 if fmt.startswith("%d") else 2
    for header, cells in texts:
        parts = cells.astype(str).str.extract(_DMY)
        big = pd.to_numeric(parts[first], errors="coerce").gt(12).to_numpy()
        if big.any():
            i = int(np.flatnonzero(big)[0])
            order = "day" if first == 0 else "month"
            return (f"{cells.iat[i]!r} (column {header!r}, row {rows[cells.index[i]]}) can only be read "
                    f"{order}-first")
    return "no text date proves the order (each could be read day-first or month-first): check it"


def _detected_date_format(t: Table, texts: list[tuple[str, pd.Series]], sheet: RawSheet,
                          problems: list[Problem]) -> str | None:
    if not texts:
        return None
    fmt = detect_date_format(pd.concat([cells for _, cells in texts]))
    if fmt is not None:
        problems.append(Problem("DATE_FORMAT_DETECTED", "warning",
                                f"text dates read as {fmt!r}: some can only be read that way (e.g. a day above 12); "
                                "set data.date_format to state it", table=t.name, row=sheet.header_row))
    return fmt


def _decimal_proof(t: Table, canon: dict[str, tuple[int, str]], raw: dict[str, pd.Series],
                   rows: np.ndarray) -> str | None:
    """The first number written with a decimal comma, quoted with its place (None when there is none)."""
    for name, (_, header) in canon.items():
        if t.column(name).dtype == "number":
            hit = raw[name].map(lambda v: isinstance(v, str) and _DECIMAL_COMMA.match(v) is not None)
            if hit.any():
                i = int(np.flatnonzero(hit.to_numpy(dtype=bool))[0])
                return f"{raw[name].iat[i]!r} (column {header!r}, row {rows[i]})"
    return None


def _reading_notes(t: Table, sheet: RawSheet, mapping: DataMapping, canon: dict[str, tuple[int, str]],
                   raw: dict[str, pd.Series], texts: list[tuple[str, pd.Series]], date_format: str | None,
                   notes: list[Assumption]) -> None:
    """Header row, date order and decimal mark of one sheet, each with the cell that supports it."""
    if sheet.header_row > 1:
        above = f"the rows above hold a title ({sheet.title!r})" if sheet.title else "the rows above are blank"
        notes.append(Assumption("header_row", str(sheet.header_row), above, mapping.header_row is not None,
                                table=t.name, header=sheet.name))
    if date_format is not None and texts:
        notes.append(Assumption("date_format", date_format, _date_proof(texts, date_format, sheet.rows),
                                mapping.date_format is not None, table=t.name))
    if mapping.decimal == ",":
        proof = _decimal_proof(t, canon, raw, sheet.rows)
        if proof is not None:
            notes.append(Assumption("decimal", ",", f"numbers such as {proof} are written with a decimal comma",
                                    True, table=t.name))


def _value_notes(t: Table, reader: ColumnReader, mapping: DataMapping, notes: list[Assumption]) -> None:
    """One note per recoded cell text of a column: the plan's ``values`` (with init's evidence when it would
    have guessed the same) or a built-in wording."""
    col = t.column(reader.col.name)
    for raw, new, n, stated in reader.recodes:
        if stated:
            guess, why = guess_value(col.name, raw, col.vocabulary or ())
            why = why if guess is not None and str(guess).lower() == str(new).lower() else "named under data.values"
        else:
            why = "grade wording" if col.name in GRADE_COLUMNS else "English wording"
        notes.append(Assumption("value", new, why, stated, table=t.name, header=reader.header, column=col.name,
                                value=raw, n_cells=n))


def _build_table(t: Table, sheet: RawSheet, mapping: DataMapping, infusion: pd.Series | None,
                 problems: list[Problem], notes: list[Assumption]) -> tuple[pd.DataFrame, tuple[str, ...], dict]:
    canon, extras = _resolve_headers(t, sheet, mapping, problems, notes)
    _missing_columns(t, canon, sheet, problems)
    n = sheet.values.shape[0]
    index = pd.RangeIndex(n)
    raw = {name: pd.Series(sheet.values[:, j], index=index, dtype=object) for name, (j, _) in canon.items()}
    ids = None
    cols: dict[str, pd.Series] = {"source_row": pd.Series(sheet.rows, index=index, dtype="int64")}
    order = sorted(canon, key=lambda c: c != "patient_id")
    texts = _text_dates(t, canon, raw)
    date_format = mapping.date_format or _detected_date_format(t, texts, sheet, problems)
    _reading_notes(t, sheet, mapping, canon, raw, texts, date_format, notes)
    for name in order:
        c = t.column(name)
        reader = ColumnReader(t, c, canon[name][1], raw[name], sheet.rows, ids, mapping.values.get(name),
                              date_format, mapping.decimal)
        cols[name] = reader.parse()
        problems.extend(reader.problems)
        _value_notes(t, reader, mapping, notes)
        if name == "patient_id":
            cols[name] = _neutral_ids(t, cols[name], sheet.rows, canon[name][1], problems)
            ids = cols[name].to_numpy(dtype=object, na_value=None)
    data = {"source_row": cols["source_row"]}
    for c in t.columns:
        data[c.name] = cols[c.name] if c.name in cols else typed_empty(c, n)
    for h, j in extras.items():
        vals = sheet.values[:, j].copy()
        vals[is_blank(vals)] = None
        data[h] = pd.Series(vals, index=index, dtype=object)
    df = pd.DataFrame(data, index=index)
    if t.name == "patients":
        dated = [c for c in canon if t.column(c).dtype == "date" and c != "infusion_date"]
        if dated and "infusion_date" not in canon:
            problems.append(Problem("MISSING_COLUMN", "error",
                                    f"column 'infusion_date' is needed to turn {', '.join(dated)} into days after "
                                    "infusion (or give every event as <event>_day)",
                                    table=t.name, row=sheet.header_row, column="infusion_date"))
        for stem in EVENT_STEMS:
            _add_days(df, df["infusion_date"], f"{stem}_date", f"{stem}_day", canon, t, problems)
    else:
        for c in t.columns:
            if c.dtype == "date" and c.alternative:
                if c.name in canon and infusion is None:
                    problems.append(Problem("MISSING_COLUMN", "error",
                                            f"patients.infusion_date is needed to turn '{canon[c.name][1]}' into "
                                            f"days after infusion (or give '{c.alternative}')",
                                            table="patients", column="infusion_date"))
                # reindex, not Series.map: pandas 3 maps an empty string column to float64 and then fails on dates
                inf = (pd.Series(infusion.reindex(pd.Index(df["patient_id"])).to_numpy(), index=index)
                       if infusion is not None else pd.Series(pd.NaT, index=index, dtype="datetime64[ns]"))
                _add_days(df, inf, c.name, c.alternative, canon, t, problems)
    return df, tuple(c.name for c in t.columns if c.name in canon), {c: h for c, (_, h) in canon.items()}


def _cohort_from_source(src: RawSource, mapping: DataMapping, source: str) -> Cohort:
    problems = list(src.problems)
    notes: list[Assumption] = []
    headers: dict[str, dict[str, str]] = {}
    sheets = _assign_sheets(src, mapping, problems, notes)
    fatal = any(p.rule in ("EMPTY_FILE", "UNREADABLE_FILE") for p in problems)
    tables: dict[str, pd.DataFrame] = {}
    provided: dict[str, tuple[str, ...]] = {}
    pat = sheets.get("patients")
    if pat is None:
        if not fatal:
            names = ", ".join(repr(s.name) for s in src.sheets) or "none"
            problems.append(Problem("MISSING_TABLE", "error", f"no 'patients' sheet (sheets found: {names}); name the "
                                    "sheet 'patients' or set data.sheets.patients in study.yaml", table="patients"))
        tables["patients"], provided["patients"] = empty_table(PATIENTS), ()
    elif not pat.headers:
        problems.append(Problem("EMPTY_FILE", "error", f"sheet {pat.name!r} of {pat.file} has no cells",
                                table="patients"))
        tables["patients"], provided["patients"] = empty_table(PATIENTS), ()
    else:
        tables["patients"], provided["patients"], headers["patients"] = _build_table(PATIENTS, pat, mapping, None,
                                                                                     problems, notes)
        if pat.values.shape[0] == 0:
            problems.append(Problem("NO_DATA_ROWS", "error", f"sheet {pat.name!r} has a header row but no patients",
                                    table="patients", row=pat.header_row + 1))
    pts = tables["patients"]
    has_inf = "infusion_date" in provided["patients"]
    infusion = (pts.dropna(subset=["patient_id"]).drop_duplicates("patient_id").set_index("patient_id")
                ["infusion_date"]) if has_inf else None
    for name, t in TABLES.items():
        if name == "patients" or name not in sheets:
            continue
        sheet = sheets[name]
        if not sheet.headers:
            continue  # an empty sheet (e.g. from the template): the table is absent
        tables[name], provided[name], headers[name] = _build_table(t, sheet, mapping, infusion, problems, notes)
    present = {c for cols in provided.values() for c in cols}
    for column in mapping.values:
        if column not in present and not fatal:
            problems.append(Problem("UNUSED_RECODE", "warning", f"data.values.{column} is given but no sheet has a "
                                    f"'{column}' column (map a header to it under data.columns)", column=column))
    cohort = Cohort(tables=MappingProxyType(tables), source=source, sha256=MappingProxyType(dict(src.sha256)),
                    provided=MappingProxyType(provided), read_problems=tuple(problems),
                    report=ValidationReport(()), mapping=mapping,
                    headers=MappingProxyType({k: MappingProxyType(v) for k, v in headers.items()}),
                    assumptions=tuple(notes))
    return dataclasses.replace(cohort, report=validate(cohort))


def read_cohort(path: str | Path, mapping: DataMapping | None = None) -> Cohort:
    """Read a cohort file or folder into canonical tables and validate it.

    Parameters
    ----------
    path : str or Path
        ``.xlsx``/``.xlsm``/``.xls``, ``.csv``, ``.parquet``, or a folder of ``<table>.csv``/``.parquet`` files.
    mapping : DataMapping, optional
        Header and value mapping, date format and sheet names (the ``data`` section of ``study.yaml``).

    Returns
    -------
    Cohort
        Always returned for readable input, however bad the data; ``cohort.report`` lists every problem and
        ``cohort.require_valid()`` raises :class:`~cart_outcomes.errors.ValidationFailed` if any is an error.

    Raises
    ------
    InputError
        The path does not exist or is not a supported kind of file (usage problems, not data problems).

    Notes
    -----
    Dates: Excel date cells are taken as they are; text must be ISO ``YYYY-MM-DD`` unless ``mapping.date_format``
    is set, or some text date of the table proves the order (``19/01/2023`` is day-first: ``DATE_FORMAT_DETECTED``
    warning). Otherwise text such as ``03/04/2024`` is an ``AMBIGUOUS_DATE`` error naming the cell, never a guess.
    Row numbers are those of the spreadsheet; for parquet, the record number plus one.
    R has no single equivalent; the closest is ``readxl::read_excel`` followed by ``survival::survcheck``-style checks.
    """
    p = Path(path)
    mapping = mapping or DataMapping()
    if mapping.redcap_dictionary:
        from cart_outcomes.cohort.redcap import read_redcap

        return _cohort_from_source(read_redcap(p, p.parent / mapping.redcap_dictionary), mapping, str(p))
    if mapping.adtte:
        from cart_outcomes.cohort.adam import read_adam

        src, given = read_adam(p, p.parent / mapping.adtte, mapping.adtte_params)
        cohort = _cohort_from_source(src, mapping, str(p))
        patients = cohort.patients.copy()
        for column in given.columns[1:]:  # the endpoints as given, checked by read_adam (rules 1-2)
            by_id = dict(zip(given["patient_id"], given[column], strict=True))
            # the given dtype (float64, boolean): pandas 3 maps a str column's values to Arrow types (double[pyarrow])
            patients[column] = patients["patient_id"].map(by_id).astype(given[column].dtype)
        return dataclasses.replace(cohort, tables=MappingProxyType({**cohort.tables, "patients": patients}))
    return _cohort_from_source(read_raw(p, mapping.header_row), mapping, str(p))


def cohort_from_frames(frames: Mapping[str, pd.DataFrame], mapping: DataMapping | None = None, *,
                       source: str = "<frames>") -> Cohort:
    """Build and validate a cohort from in-memory tables (table name -> DataFrame with user or canonical headers).

    Cells go through exactly the same parsing and validation as a file; row numbers are reported as if each frame
    were a sheet with its header in row 1.
    """
    src = RawSource()
    for name, frame in frames.items():
        values = clean_cells(frame.astype(object).to_numpy())
        sheet = RawSheet(name, source, [str(c) for c in frame.columns], values,
                         np.arange(2, len(frame) + 2, dtype=np.int64), 1)
        src.sheets.append(sheet)
    return _cohort_from_source(src, mapping or DataMapping(), source)


def read_sheets(path: str | Path, header_row: int | None = None, *,
                redcap_dictionary: str | Path | None = None) -> tuple[RawSheet, ...]:
    """Every sheet of a file as read, before any mapping: headers, untyped cells, spreadsheet row numbers.

    For ``cart-outcomes init``, which proposes the mapping. Unreadable files raise :class:`InputError`.
    ``redcap_dictionary``: the file is a REDCap export read with this data dictionary (:mod:`.redcap`).
    """
    if redcap_dictionary is not None:
        from cart_outcomes.cohort.redcap import read_redcap

        return tuple(read_redcap(Path(path), Path(redcap_dictionary)).sheets)
    src = read_raw(Path(path), header_row)
    fatal = [p for p in src.problems if p.rule in ("EMPTY_FILE", "UNREADABLE_FILE")]
    if fatal:
        raise InputError("; ".join(p.message for p in fatal))
    return tuple(src.sheets)
