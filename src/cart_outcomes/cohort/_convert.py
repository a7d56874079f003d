"""From untyped cells to typed canonical columns, recording every cell that cannot be read.

All parsing is vectorised over a column; Python-level work happens only for the (few) cells that are reported.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from cart_outcomes.cohort._problems import Problem
from cart_outcomes.cohort.mapping import builtin_value, guess_value, has_builtin_values
from cart_outcomes.cohort.schema import FALSE_TOKENS, TRUE_TOKENS, Column, Table

#: Cell texts read as missing values (compared without case and surrounding blanks).
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "."})
_MISSING_ANY_CASE = frozenset({f(t) for t in MISSING_TOKENS for f in (str.lower, str.upper, str.title)} | {"NaN"})
EXCEL_ERRORS = frozenset({"#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#GETTING_DATA",
                          "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#UNKNOWN!", "#ERROR"})

_MISSING_OR_ERROR = _MISSING_ANY_CASE | EXCEL_ERRORS

_KIND = {str: "s", float: "n", int: "n", np.float64: "n", np.int64: "n", bool: "b", np.bool_: "b",
         dt.datetime: "d", dt.date: "d", pd.Timestamp: "d", dt.time: "t", type(None): "x"}
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[ T]00:00(?::00(?:\.0+)?)?)?$")
_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$")
_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")


def _kind_of(v: object) -> str:
    if isinstance(v, np.bool_ | bool):
        return "b"
    if isinstance(v, np.integer | np.floating | int | float):
        return "n"
    if isinstance(v, np.datetime64 | dt.date):
        return "d"
    return "o"


def normalise_header(h: str) -> str:
    """Lower case, blanks/hyphens/dots to underscores: ``'Patient ID'`` -> ``'patient_id'``."""
    return re.sub(r"[^0-9a-z]+", "_", h.strip().lower()).strip("_")


def show(v: object) -> str:
    """A cell value as the user sees it."""
    if isinstance(v, bool | np.bool_):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float | np.floating):
        return str(int(v)) if np.isfinite(v) and float(v).is_integer() else f"{v:g}"
    if isinstance(v, pd.Timestamp | dt.datetime):
        return v.strftime("%Y-%m-%d") if (v.hour, v.minute, v.second) == (0, 0, 0) else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v).strip()


class ColumnReader:
    """Parses one raw column; ``problems`` collects what could not be read."""

    def __init__(self, table: Table, column: Column, header: str, raw: pd.Series, rows: np.ndarray,
                 ids: np.ndarray | None, recode: dict[str, str] | None, date_format: str | None,
                 decimal: str = ".") -> None:
        self.table, self.col, self.header, self.rows, self.ids = table, column, header, rows, ids
        self.recode, self.date_format, self.decimal = recode or {}, date_format, decimal
        self.problems: list[Problem] = []
        #: (cell text, canonical value, cells, stated in data.values) of every recoded text
        self.recodes: list[tuple[str, str, int, bool]] = []
        na = pd.isna(raw).to_numpy()  # recoding fills no missing cell and empties none
        text_only = pd.api.types.infer_dtype(raw, skipna=True) in ("string", "empty")  # every CSV cell: one C pass
        self.raw = raw = self._recoded(raw, na, text_only)
        if text_only:  # recodes are text: still only text
            self.kind = np.where(na, "x", "s").astype(object)
        else:
            self.kind = raw.map(type).map(_KIND).fillna("o").to_numpy(dtype=object)
        odd = self.kind == "o"
        if odd.any():  # other numpy scalar types (int32, float32 ... from parquet)
            self.kind[odd] = raw[odd].map(_kind_of).to_numpy(dtype=object)
        self.kind[na] = "x"
        is_s = self.kind == "s"
        text = np.full(len(raw), None, dtype=object)
        text[is_s] = raw.to_numpy(dtype=object)[is_s]  # cells arrive stripped of blanks (_readers.clean_cells)
        self.text = pd.Series(text, index=raw.index)
        flagged = np.flatnonzero(is_s & self.text.isin(_MISSING_OR_ERROR).to_numpy())  # one hash pass for both
        if flagged.size:
            self.kind[flagged[[v in _MISSING_ANY_CASE for v in text[flagged]]]] = "x"
            err = np.zeros(len(raw), dtype=bool)
            err[flagged[[v in EXCEL_ERRORS for v in text[flagged]]]] = True
            if err.any():
                self.report(err, "EXCEL_ERROR", lambda v: f"Excel error value {v}; expected a {self._expected()}")
                self.kind[err] = "x"

    def _recoded(self, raw: pd.Series, na: np.ndarray, text_only: bool) -> pd.Series:
        """Cells recoded by ``data.values`` (exact, then without case; a number, date or yes/no cell by the text
        it shows, ``"2"`` or ``"2024-01-31"``), then text cells by the built-in English wordings
        (:data:`~cart_outcomes.cohort.mapping.VALUE_SYNONYMS`, grades), whatever the column type. A ``values`` key
        that matches no cell is an ``UNUSED_RECODE`` warning."""
        exact = dict(self.recode)
        lower = {k.strip().lower(): k for k in self.recode}
        used: set[str] = set()
        table: dict[object, str] = {}
        stated: set[object] = set()
        filled = raw[~na]
        is_text = np.ones(len(filled), dtype=bool) if text_only else filled.map(type).eq(str).to_numpy()
        if exact and not filled.empty:
            others = filled[~is_text]
            for v in pd.unique(others.to_numpy(dtype=object)):
                key = show(v)
                key = key if key in exact else lower.get(key.lower())
                if key is not None:
                    table[v] = exact[key]
                    used.add(key)
                    stated.add(v)
        texts = pd.unique(filled[is_text].to_numpy(dtype=object))
        if not has_builtin_values(self.col.name):  # only data.values can recode (ids, free text: no loop over them)
            keys = pd.Series(texts, dtype=object)
            texts = texts[(keys.isin(list(exact)) | keys.str.lower().isin(list(lower))).to_numpy(dtype=bool)
                          ] if exact else texts[:0]
        for v in texts:
            key = v if v in exact else lower.get(v.lower())
            if key is not None:
                used.add(key)
                stated.add(v)
            new = exact[key] if key is not None else builtin_value(self.col.name, v)
            if new is not None and new != v:
                table[v] = new
        for key in self.recode:
            if key not in used:
                self.problems.append(Problem(
                    "UNUSED_RECODE", "warning", f"data.values.{self.col.name} recodes {key!r} but no cell of this "
                    "column says it (check the spelling, or remove it)", table=self.table.name, column=self.header,
                    value=key))
        if not table:
            return raw
        out = raw.copy()
        hit = filled.isin(list(table))
        counts = filled[hit].value_counts(sort=False)
        self.recodes = [(show(v), table[v], int(counts.get(v, 0)), v in stated) for v in table]
        out[hit[hit].index] = filled[hit].map(lambda v: table[v])
        return out

    @property
    def missing(self) -> np.ndarray:
        return self.kind == "x"

    def _expected(self) -> str:
        c = self.col
        if c.dtype == "category":
            return "value from: " + ", ".join(c.vocabulary or ())
        return {"date": "date", "day": "whole number of days after infusion", "integer": "whole number",
                "number": "number", "boolean": "yes/no value", "text": "text"}[c.dtype]

    def report(self, mask: np.ndarray, rule: str, message: Callable[[object], str], severity: str = "error") -> None:
        for i in np.flatnonzero(mask):
            v = self.raw.iat[i]
            pid = None if self.ids is None else self.ids[i]
            self.problems.append(Problem(rule, severity, message(v), table=self.table.name,
                                         patient_id=None if pid is None or pd.isna(pid) else str(pid),
                                         row=int(self.rows[i]), column=self.header, value=show(v)))

    # -- parsers ------------------------------------------------------------------------------------------------
    def parse(self) -> pd.Series:
        return getattr(self, f"_{self.col.dtype}")()

    def _text(self) -> pd.Series:
        vals = np.full(len(self.raw), None, dtype=object)
        ok = ~self.missing
        if ok.any():
            sub = self.raw[ok]
            vals[ok] = [show(v) for v in sub] if (self.kind[ok] != "s").any() else sub.to_numpy(dtype=object)
        return pd.Series(vals, index=self.raw.index, dtype="string")

    def _numeric(self, whole: bool) -> pd.Series:
        vals = np.full(len(self.raw), np.nan)
        n = self.kind == "n"
        vals[n] = self.raw[n].astype(float).to_numpy()
        s = self.kind == "s"
        if s.any():
            text = self.text[s].str.replace(",", ".", regex=False) if self.decimal == "," else self.text[s]
            vals[s] = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
        bad = ~self.missing & ~np.isfinite(vals)
        what = self._expected()
        comma = " (for decimal commas set data.decimal: \",\" in study.yaml)" if self.decimal == "." else ""
        self.report(bad, "BAD_NUMBER", lambda v: f"{show(v)!r} is not a number; expected a {what}"
                    + (comma if _DECIMAL_COMMA.match(show(v)) else ""))
        if whole:
            huge = np.isfinite(vals) & (np.abs(vals) > 1e15)
            self.report(huge, "BAD_NUMBER", lambda v: f"{show(v)} is far too large; expected a {what}")
            vals[huge] = np.nan
            frac = np.isfinite(vals) & (vals != np.round(vals))
            self.report(frac, "BAD_NUMBER", lambda v: f"{show(v)} is not whole; expected a {what}")
            vals[frac] = np.nan
        vals[bad] = np.nan
        return pd.Series(vals, index=self.raw.index)

    def _number(self) -> pd.Series:
        return self._numeric(False)

    def _integer(self) -> pd.Series:
        return self._numeric(True).round().astype("Int64")

    _day = _integer

    def _boolean(self) -> pd.Series:
        out = pd.Series(pd.NA, index=self.raw.index, dtype="boolean")
        b = self.kind == "b"
        out[b] = self.raw[b].astype(bool).to_numpy()
        msg = "is not yes/no; expected yes/no, true/false or 1/0"
        n = self.kind == "n"
        if n.any():
            idx = np.flatnonzero(n)
            num = self.raw[n].astype(float).to_numpy()
            good = (num == 0) | (num == 1)
            out.iloc[idx[good]] = num[good] == 1
            bad = np.zeros(len(b), dtype=bool)
            bad[idx[~good]] = True
            self.report(bad, "BAD_BOOLEAN", lambda v: f"{show(v)} {msg}")
        s = self.kind == "s"
        if s.any():
            low = self.text[s].str.lower()
            t, f = low.isin(TRUE_TOKENS).to_numpy(), low.isin(FALSE_TOKENS).to_numpy()
            idx = np.flatnonzero(s)
            out[idx[t]] = True
            out[idx[f]] = False
            bad = np.zeros(len(b), dtype=bool)
            bad[idx[~(t | f)]] = True
            self.report(bad, "BAD_BOOLEAN", lambda v: f"{show(v)!r} {msg}")
        other = np.isin(self.kind, ["d", "t", "o"])
        self.report(other, "BAD_BOOLEAN", lambda v: f"{show(v)!r} {msg}")
        return out

    def _category(self) -> pd.Series:
        vocab = self.col.vocabulary or ()
        lookup = {v.lower(): v for v in vocab}
        out = pd.Series(pd.NA, index=self.raw.index, dtype="string")
        ok = ~self.missing
        if ok.any():
            rec = pd.Series([show(v) for v in self.raw[ok]] if (self.kind[ok] != "s").any() else self.text[ok],
                            index=self.raw.index[ok], dtype=object)
            canon = rec.map({v: v for v in vocab})
            miss = canon.isna().to_numpy()
            if miss.any():
                canon[miss] = rec[miss].str.lower().map(lookup)
            out[ok] = canon.astype("string").to_numpy()
            bad = np.zeros(len(ok), dtype=bool)
            bad[np.flatnonzero(ok)[canon.isna().to_numpy()]] = True
            allowed = ", ".join(vocab)
            name = self.col.name

            def msg(v: object) -> str:
                guess, _ = guess_value(name, show(v), vocab)
                close = difflib.get_close_matches(show(v).lower(), list(lookup), n=1, cutoff=0.75)
                guess = guess or (lookup[close[0]] if close else None)
                hint = f"did you mean {guess!r}? " if guess else ""
                return (f"{show(v)!r} is not an allowed value; {hint}expected one of: {allowed} (recode other "
                        f"spellings under data.values.{name} in study.yaml)")

            self.report(bad, "VOCABULARY", msg)
        if self.col.default is not None:
            out[self.missing] = self.col.default
        return out

    def _date(self) -> pd.Series:
        out = pd.Series(pd.NaT, index=self.raw.index, dtype="datetime64[ns]")
        d = self.kind == "d"
        if d.any():
            parsed = pd.to_datetime(self.raw[d].astype(object), errors="coerce").dt.normalize()
            out[d] = parsed.to_numpy()
            bad = np.zeros(len(d), dtype=bool)
            bad[np.flatnonzero(d)[parsed.isna().to_numpy()]] = True
            self.report(bad, "BAD_DATE", lambda v: f"{show(v)!r} is outside the supported years 1678-2261")
        s = self.kind == "s"
        if s.any():
            idx = np.flatnonzero(s)
            txt = self.text[s]
            iso = txt.str.match(_ISO).to_numpy()
            if iso.any():
                parsed = pd.to_datetime(txt[iso].str[:10], format="%Y-%m-%d", errors="coerce")
                out[idx[iso]] = parsed.to_numpy()
                bad = np.zeros(len(s), dtype=bool)
                bad[idx[iso][parsed.isna().to_numpy()]] = True
                self.report(bad, "BAD_DATE", lambda v: f"{show(v)!r} is not a calendar date; expected YYYY-MM-DD")
            rest = idx[~iso]
            if rest.size:
                self._other_text_dates(out, rest)
        other = np.isin(self.kind, ["n", "b", "t", "o"])
        if other.any():
            self.report(other, "BAD_DATE", lambda v: f"{show(v)!r} is not a date; expected a date cell or text "
                        "YYYY-MM-DD" + (" (a number: format the cell as a date)" if isinstance(v, float) else ""))
        return out

    def _other_text_dates(self, out: pd.Series, idx: np.ndarray) -> None:
        txt = self.text.iloc[idx]
        one = np.zeros(len(out), dtype=bool)
        if self.date_format:
            parsed = pd.to_datetime(txt, format=self.date_format, errors="coerce")
            out.iloc[idx] = parsed.to_numpy()
            one[idx[parsed.isna().to_numpy()]] = True
            fmt = self.date_format
            self.report(one, "BAD_DATE", lambda v: f"{show(v)!r} does not match date_format {fmt!r} or YYYY-MM-DD")
            return
        parts = txt.str.extract(_DMY)
        a = pd.to_numeric(parts[0], errors="coerce").to_numpy()
        b = pd.to_numeric(parts[1], errors="coerce").to_numpy()
        dmy = np.isfinite(a) & np.isfinite(b)
        ambiguous = dmy & (a <= 12) & (b <= 12) & (a != b)
        amb = np.zeros(len(out), dtype=bool)
        amb[idx[ambiguous]] = True
        self.report(amb, "AMBIGUOUS_DATE", lambda v: (
            f"{show(v)!r} could be day/month or month/day; write YYYY-MM-DD or set data.date_format "
            "(e.g. '%d/%m/%Y') in study.yaml"))
        hint = "'%d/%m/%Y'" if (dmy & (a > 12)).any() else ("'%m/%d/%Y'" if (dmy & (b > 12)).any() else None)
        one[idx[~ambiguous]] = True
        eg = f" (e.g. {hint})" if hint else ""
        suggestion = f"set data.date_format{eg} in study.yaml"
        self.report(one, "BAD_DATE", lambda v: f"{show(v)!r} is not an ISO date; expected YYYY-MM-DD, or {suggestion}")


def closest(name: str, candidates: list[str] | tuple[str, ...]) -> str | None:
    """The closest candidate by difflib similarity (cutoff 0.6), or None."""
    m = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return m[0] if m else None
