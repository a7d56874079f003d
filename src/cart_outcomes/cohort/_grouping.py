"""Validation problems told once per cause: grouped by rule and column, with the plan lines that fix them.

A sheet with ``Male``/``Female`` in 24 rows has one problem, not 24. :func:`group_problems` groups the located
problems of a cohort by rule, table and column, says each group in one line with its fix, and gathers the fixes
into a :class:`Suggestion` (the ``columns``/``values``/``date_format``/``decimal`` lines to paste into the plan's
``data`` section). Problems that only follow from a column not being read (a cause of death "without a death
date" while the death date sits in a column no header mapping reached) are merged into one line that says so.

This module builds data; faces (the command line, the app) decide how to show it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cart_outcomes._text import neutralise
from cart_outcomes.cohort._problems import RULES, Problem, Severity
from cart_outcomes.cohort.mapping import GRADE_COLUMNS, guess_column, guess_column_by_values, guess_value
from cart_outcomes.cohort.schema import TABLES

__all__ = ["ProblemGroup", "ProblemSummary", "Suggestion", "group_problems"]

#: Rules about what a cell holds: every cell of a column with the same rule has the same fix, so they are grouped.
CELL_RULES = frozenset({"VOCABULARY", "BAD_NUMBER", "BAD_BOOLEAN", "BAD_DATE", "AMBIGUOUS_DATE", "EXCEL_ERROR",
                        "MISSING_VALUE", "GRADE_RANGE", "OUT_OF_RANGE", "IMPLAUSIBLE_AGE", "BEFORE_INFUSION",
                        "BLANK_ID", "UNKNOWN_PATIENT", "UNKNOWN_COLUMN", "UNUSED_RECODE"})
#: Rules that follow from a column the cohort does not have: rule -> (the columns, what they hold).
FOLLOW_ON: dict[str, tuple[tuple[str, ...], str]] = {
    "CAUSE_WITHOUT_DEATH": (("death_date", "death_day"), "death date"),
    "HSCT_INTENT_WITHOUT_HSCT": (("hsct_date", "hsct_day"), "HSCT date"),
}
#: Most values quoted in one group line.
SHOWN_VALUES = 6
_DATE_TEXT = re.compile(r"^\d{1,4}[/.\-]\d{1,2}[/.\-]\d{1,4}$")
_FORMAT_HINT = re.compile(r"'(%[dm][/.\-]%[dm][/.\-]%[yY])'")


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Plan lines that would fix the grouped problems (the ``data`` section of ``study.yaml``).

    ``values`` maps a canonical column to ``{cell text: canonical value}``; a value of ``None`` is for the user to
    fill in (``allowed`` says from what). ``notes`` holds a comment per header of ``columns`` or per column of
    ``values`` ("check": a guess from spelling or from the cells).
    """

    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str | None]] = field(default_factory=dict)
    allowed: dict[str, str] = field(default_factory=dict)
    date_format: str | None = None
    decimal: str | None = None
    notes: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.columns or self.values or self.date_format or self.decimal)

    def yaml_lines(self) -> list[str]:
        """The lines to merge into the plan's ``data:`` section (indented two spaces, as under ``data:``).

        Every key and value is quoted (YAML cannot read ``no`` as false); a cell text with no guess is a commented
        line naming what may go there, and a key left with only commented lines is commented too, so the block
        reads back as valid YAML whatever the user fills in.
        """
        from cart_outcomes._yaml import quoted_scalar as _quoted

        out: list[str] = []
        if self.columns:
            out.append("  columns:")
            for header, column in self.columns.items():
                out.append(f"    {_quoted(header)}: {_quoted(column)}" + _note(self.notes.get(header)))
        filled = {c: r for c, r in self.values.items() if any(v is not None for v in r.values())}
        if self.values:
            out.append("  values:" if filled else "  # values:")
            for column, recodes in self.values.items():
                out.append(f"    {column}:" if column in filled else f"    # {column}:")
                for raw, canon in recodes.items():
                    out.append(f"      {_quoted(raw)}: {_quoted(canon)}" if canon is not None else
                               f"      # {_quoted(raw)}: ...    # fill in: {self.allowed.get(column, 'a value')}")
        if self.date_format:
            out.append(f"  date_format: {_quoted(self.date_format)}" + _note(self.notes.get("date_format")))
        if self.decimal:
            out.append(f"  decimal: {_quoted(self.decimal)}")
        return out

    def to_dict(self) -> dict:
        """JSON-ready form (keys columns, values, allowed, date_format, decimal, notes)."""
        return {"columns": dict(self.columns), "values": {k: dict(v) for k, v in self.values.items()},
                "allowed": dict(self.allowed), "date_format": self.date_format, "decimal": self.decimal,
                "notes": dict(self.notes)}


@dataclass(frozen=True, slots=True)
class ProblemGroup:
    """The problems of one rule in one column of one table, said once: ``message`` is the one line (what is wrong
    and how to fix it); ``problems`` keeps every located problem."""

    rule: str
    severity: Severity
    table: str | None
    column: str | None
    message: str
    problems: tuple[Problem, ...]

    @property
    def rows(self) -> list[int]:
        return sorted({p.row for p in self.problems if p.row is not None})

    @property
    def patients(self) -> list[str]:
        return list(dict.fromkeys(p.patient_id for p in self.problems if p.patient_id is not None))

    def where(self, most: int = 12) -> str:
        """``rows 4-9, 12; patients 101, 102, ... (8)``: the rows as ranges, the patients (at most ``most``)."""
        parts = []
        if self.rows:
            parts.append(("row " if len(self.rows) == 1 else "rows ") + _ranges(self.rows))
        pts = self.patients
        if pts:
            shown = ", ".join(pts[:most]) + (f" and {len(pts) - most} more" if len(pts) > most else "")
            parts.append(("patient " if len(pts) == 1 else "patients ") + shown)
        return "; ".join(parts)

    def __str__(self) -> str:
        """One line: rule, table, column, rows and patients (as ranges, at most 12 named), then the message."""
        if len(self.problems) == 1 and self.message == self.problems[0].message:
            return str(self.problems[0])
        where = [f"table '{self.table}'"] if self.table not in (None, "patients") else []
        where += [f"column '{self.column}'"] if self.column is not None else []
        rows = self.where(most=5) if self.rule != "UNKNOWN_COLUMN" else ""
        head = ", ".join(where) + (f" ({rows})" if rows and where else rows)
        return f"[{self.rule}] {head}: {self.message}" if head else f"[{self.rule}] {self.message}"

    def to_dict(self) -> dict:
        """JSON-ready form: rule, severity, table, column, message, rows, patients and the problems."""
        return {"rule": self.rule, "severity": self.severity, "table": self.table, "column": self.column,
                "message": self.message, "rows": self.rows, "patients": self.patients,
                "problems": [p.to_dict() for p in self.problems]}


@dataclass(frozen=True, slots=True)
class ProblemSummary:
    """The groups (errors first, in the order of their first problem) and the plan lines that fix them."""

    groups: tuple[ProblemGroup, ...]
    suggestion: Suggestion

    def to_dict(self) -> dict:
        return {"groups": [g.to_dict() for g in self.groups], "suggestion": self.suggestion.to_dict()}


def _ranges(rows: list[int]) -> str:
    out, start, prev = [], rows[0], rows[0]
    for r in [*rows[1:], None]:
        if r is not None and r == prev + 1:
            prev = r
            continue
        out.append(str(start) if start == prev else f"{start}-{prev}")
        if r is not None:
            start = prev = r
    return ", ".join(out)


def _note(note: str | None) -> str:
    return f"    # {note}" if note else ""


def _said(text: str) -> str:
    """A cell text quoted for a message, every control or invisible character shown as ``<U+XXXX>``."""
    return f"'{neutralise(text)}'"


def _listed(texts: list[str]) -> str:
    more = len(texts) - SHOWN_VALUES
    return ", ".join(map(_said, texts[:SHOWN_VALUES])) + (f" and {more} other(s)" if more > 0 else "")


def _counted(values: list[str]) -> str:
    counts = Counter(values)
    shown = [_said(v) + (f" x{n}" if n > 1 else "") for v, n in counts.most_common(SHOWN_VALUES)]
    more = len(counts) - SHOWN_VALUES
    return ", ".join(shown) + (f" and {more} other value(s)" if more > 0 else "")


def _inline(recodes: dict[str, str | None]) -> str:
    inner = ", ".join(f"{_plain(k)}: {_plain(v)}" for k, v in recodes.items() if v is not None)
    return "{" + inner + "}"


def _plain(text: str) -> str:
    """A YAML scalar as short as it can safely be: bare when YAML reads it back as the same text."""
    import yaml

    try:
        if re.fullmatch(r"[A-Za-z][\w .+-]*", text) and yaml.safe_load(text) == text:
            return text
    except yaml.YAMLError:
        pass
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _Grouper:
    def __init__(self, cohort: Any) -> None:  # a Cohort (which imports this module)
        self.cohort = cohort
        self.canonical = {(t, h): c for t, heads in cohort.headers.items() for c, h in heads.items()}
        self.unknown = {t: [p.column for p in cohort.report.problems if p.rule == "UNKNOWN_COLUMN" and p.table == t
                            and p.column is not None] for t in TABLES}
        self.columns: dict[str, str] = {}
        self.values: dict[str, dict[str, str | None]] = {}
        self.allowed: dict[str, str] = {}
        self.notes: dict[str, str] = {}
        self.date_format: str | None = None
        self.decimal: str | None = None

    def suggestion(self) -> Suggestion:
        return Suggestion(self.columns, self.values, self.allowed, self.date_format, self.decimal, self.notes)

    # -- one line per group -------------------------------------------------------------------------------------
    def message(self, rule: str, table: str | None, column: str | None, problems: list[Problem]) -> str:
        n = len(problems)
        canon = self.canonical.get((table, column)) if column is not None else None
        values = [p.value for p in problems if p.value is not None]
        if rule in FOLLOW_ON and table == "patients":
            merged = self.follow_on(rule, n)
            if merged is not None:
                return merged
        if rule == "UNKNOWN_COLUMN":
            return self.unknown_columns(table, problems)
        if rule == "MISSING_COLUMN":
            return problems[0].message + self.unmapped_hint(table, column)
        if rule == "MISSING_VALUE" and table == "patients" and canon == "last_followup_date":
            said = problems[0].message if n == 1 else f"{n} patients have no last follow-up"
            return said + self.death_hint()
        if rule in ("VOCABULARY", "BAD_NUMBER", "BAD_BOOLEAN") and canon is not None:
            fixed = self.recode(rule, canon, values, problems)
            if fixed is not None:
                return fixed
        if rule in ("BAD_DATE", "AMBIGUOUS_DATE"):
            return self.dates(rule, values, problems)
        if n == 1:
            return problems[0].message
        if rule in CELL_RULES and values:
            return f"{n} cells: {_counted(values)}; {problems[0].message}"
        return f"{RULES[rule][1]} ({n} rows)" if rule in RULES else problems[0].message

    def recode(self, rule: str, canon: str, values: list[str], problems: list[Problem]) -> str | None:
        col = next((TABLES[t].column(canon) for t in TABLES if canon in TABLES[t]), None)
        if col is None:
            return None
        grade = canon in GRADE_COLUMNS
        if rule == "BAD_NUMBER" and not grade:
            if any(re.fullmatch(r"-?\d+,\d+", v) for v in values):
                self.decimal = ","
                return (f"{len(values)} numbers are written with a decimal comma ({_counted(values)}); add "
                        f"`decimal: \",\"`")
            return None
        vocab = col.vocabulary or ()
        recodes: dict[str, str | None] = {}
        for v in dict.fromkeys(values):
            guess, _ = guess_value(canon, v, vocab)
            recodes[v] = guess
        self.values.setdefault(canon, {}).update(recodes)
        if grade:
            self.allowed[canon] = "a grade 0-5"
        elif col.dtype == "boolean":
            self.allowed[canon] = "yes or no"
        else:
            self.allowed[canon] = ", ".join(vocab)
        n = len(values)
        said = f"{n} cell{'s' if n != 1 else ''} say {_counted(values)}"
        known = {k: v for k, v in recodes.items() if v is not None}
        unknown = [k for k, v in recodes.items() if v is None]
        fix = []
        if known:
            fix.append(f"add `values: {{{canon}: {_inline(known)}}}`")
        if unknown:
            fix.append(f"give {_listed(unknown)} a value under values.{canon} ({self.allowed[canon]})")
        return f"{said}; " + " and ".join(fix)

    def dates(self, rule: str, values: list[str], problems: list[Problem]) -> str:
        n = len(values)
        hint = next((m.group(1) for p in problems if (m := _FORMAT_HINT.search(p.message))), None)
        if hint is not None:
            self.date_format = hint
            self.notes.pop("date_format", None)
            return f"{n} text date(s) are not ISO ({_counted(values)}); add `date_format: \"{hint}\"`"
        if rule == "AMBIGUOUS_DATE" or (values and all(_DATE_TEXT.match(v) for v in values)):
            if self.date_format is None:
                self.date_format = "%d/%m/%Y"
                self.notes["date_format"] = "or \"%m/%d/%Y\" if the month comes first: check one cell"
            what = "could be day/month or month/day" if rule == "AMBIGUOUS_DATE" else "are not ISO (YYYY-MM-DD)"
            return (f"{n} text date(s) {what} ({_counted(values)}); state the order: `date_format: \"%d/%m/%Y\"` "
                    "(or \"%m/%d/%Y\")")
        return f"{n} cell(s) are not dates ({_counted(values)}); {problems[0].message}"

    def unmapped_hint(self, table: str | None, column: str | None) -> str:
        """``; is it 'Last visit dt'? ...`` when an unmapped header of ``table`` is spelled like ``column``."""
        if table not in TABLES or column is None:
            return ""
        alt = TABLES[table].column(column).alternative if column in TABLES[table] else None
        for h in self.unknown.get(table, []):
            guess, why = guess_column(h, table)
            if guess in (column, alt):
                self.columns[h] = guess
                self.notes[h] = why
                return f"; is it {_said(h)}? add `columns: {{{_plain(h)}: {guess}}}`"
        return ""

    def unknown_columns(self, table: str | None, problems: list[Problem]) -> str:
        heads = [p.column for p in problems if p.column is not None]
        for h in heads:
            guess, why = guess_column(h, table) if table in TABLES else (None, "")
            if guess is None and table in TABLES:
                guess, why = self.by_values(h, table)
            if guess is not None and guess not in self.cohort.provided.get(table, ()):
                self.columns[h] = guess
                self.notes[h] = why
        n = len(heads)
        if n == 1:
            return problems[0].message
        return (f"{n} headers are not columns of table '{table}' (kept unchanged, not checked, not analysed): "
                f"{', '.join(map(_said, heads))}")

    def dated_unmapped(self, needed: tuple[str, ...]) -> list[str]:
        """Unmapped headers of the patients table whose cells are dates and whose name names no other column."""
        return [h for h in self.unknown["patients"] if _looks_like_dates(self.cohort.patients.get(h))
                and guess_column(h, "patients")[0] in (None, *needed)]

    def death_hint(self) -> str:
        """``; a patient who died needs none once the death date is read: ...`` when no column was read as the
        death date and an unmapped column of dates may hold it (blank last contact then ends at death)."""
        needed = ("death_date", "death_day")
        if any(c in self.cohort.provided.get("patients", ()) for c in needed):
            return ""
        dated = self.dated_unmapped(needed)
        for h in dated:
            self.columns.setdefault(h, "death_date")
            self.notes.setdefault(h, "if this column holds the death date: check")
        if not dated:
            return ""
        return (f"; a patient who died needs none once the death date is read, and no column was read as "
                f"death_date: if {' or '.join(map(_said, dated))} holds it, add "
                f"`columns: {{{_plain(dated[0])}: death_date}}`")

    def by_values(self, header: str, table: str) -> tuple[str | None, str]:
        """The coded column an unmapped column's cells are values of (see
        :func:`~cart_outcomes.cohort.mapping.guess_column_by_values`), or ``(None, reason)``."""
        frame = self.cohort.tables.get(table)
        if frame is None or header not in frame.columns:
            return None, ""
        texts = [str(v) for v in frame[header].dropna().tolist()]
        return guess_column_by_values(texts, table, tuple(self.cohort.provided.get(table, ())))

    def follow_on(self, rule: str, n: int) -> str | None:
        needed, what = FOLLOW_ON[rule]
        if any(c in self.cohort.provided.get("patients", ()) for c in needed):
            return None
        dated = self.dated_unmapped(needed)
        if not dated:
            return (f"{n} patient(s) have a value here but the sheet has no {what} column read as {needed[0]}; "
                    f"map its header under columns:")
        for h in dated:
            self.columns.setdefault(h, needed[0])
            self.notes.setdefault(h, f"if this column holds the {what}: check")
        cand = " or ".join(map(_said, dated))
        return (f"{n} patient(s) have a value here but no column was read as the {what} ({needed[0]}); if {cand} "
                f"holds it, add `columns: {{{_plain(dated[0])}: {needed[0]}}}` (these problems then go away)")


def _looks_like_dates(cells: pd.Series | None) -> bool:
    """Most filled cells of an unmapped column are date cells or text shaped like a date."""
    if cells is None:
        return False
    filled = [v for v in cells.tolist() if v is not None and not (isinstance(v, float) and np.isnan(v))]
    if not filled:
        return False
    dates = sum(isinstance(v, pd.Timestamp | np.datetime64) or hasattr(v, "isoformat")
                or (isinstance(v, str) and _DATE_TEXT.match(v.strip()) is not None) for v in filled)
    return dates >= 0.8 * len(filled)


def group_problems(cohort: Any, *, errors_only: bool = False) -> ProblemSummary:
    """The problems of ``cohort.report`` grouped by rule, table and column, one line each, with their fixes.

    Parameters
    ----------
    cohort : Cohort
        A cohort as read (its report, headers, provided columns and unmapped columns are used).
    errors_only : bool
        Group only the errors (what stops a run); warnings still inform the fixes (unmapped columns).

    Returns
    -------
    ProblemSummary
        Groups (errors first, then in the order of their first problem) and the :class:`Suggestion` gathering the
        plan lines that fix them. Every problem is in exactly one group; nothing is dropped.
    """
    g = _Grouper(cohort)
    chosen = [p for p in cohort.report.problems if not errors_only or p.severity == "error"]
    buckets: dict[tuple, list[Problem]] = {}
    for i, p in enumerate(chosen):
        groupable = p.rule in CELL_RULES or p.rule in FOLLOW_ON
        key = (p.severity, p.rule, p.table, None if p.rule == "UNKNOWN_COLUMN" else p.column,
               None if groupable else i)
        buckets.setdefault(key, []).append(p)
    groups = [ProblemGroup(rule, severity, table, column, g.message(rule, table, column, problems), tuple(problems))
              for (severity, rule, table, column, _), problems in buckets.items()]
    return ProblemSummary(tuple(groups), g.suggestion())
