"""Cohort validation: every problem is collected, located and explained before anything is analysed.

Each :class:`Problem` has a stable rule code, a severity, the patient, the spreadsheet row the user sees, the column
(as headed in the user's file), the value, and a message saying what was expected. A cohort with any error is never
analysed; warnings are shown and carried into every output.

The rule codes, their severities and what each checks are listed in :data:`RULES` (and in
``docs/data-dictionary.md``, generated from it). Decisions worth knowing:

- Unknown columns and sheets are warnings: they are kept (columns) or ignored (sheets) and never checked.
- The last follow-up date is the death date for patients who died; a death after it and a follow-up after death are
  both errors (``DEATH_AFTER_LAST_FOLLOWUP``, ``LAST_FOLLOWUP_AFTER_DEATH``), so OS time is never ambiguous.
- A day-28 response for a patient who died before day 21 (the day-28 +/- 7 window) is an error unless a
  response_assessment_date shows when it was assessed; record NE for early deaths.
- Consistency warnings (HSCT intent, CR date vs best response, CR after progression) do not stop the analysis and
  are carried into every output.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from cart_outcomes.cohort._cohort import Cohort
from cart_outcomes.cohort._problems import RULES, Problem, Severity, ValidationReport, sort_problems
from cart_outcomes.cohort.schema import (
    CR_RESPONSES,
    FALSE_TOKENS,
    KINETICS_ASSAY_UNITS,
    ORR_RESPONSES,
    RESPONSE_RANK,
    TABLES,
    TRUE_TOKENS,
    Column,
    Table,
)
from cart_outcomes.errors import InputError

__all__ = ["RULES", "Problem", "ProblemCollector", "ValidationReport", "boolean_cells", "cell_text", "input_frame",
           "validate"]

#: Earliest day a "day-28" assessment may fall on (day 28 minus a 7-day window).
DAY28_WINDOW_START = 21
_RESPONSE_LIKE = (*ORR_RESPONSES, "SD")


def cell_text(v: object) -> str | None:
    """A cell as it is quoted in a problem: None when missing, dates as YYYY-MM-DD, whole floats without ``.0``."""
    if isinstance(v, np.generic):
        v = v.item()
    if _na(v):
        return None
    if isinstance(v, pd.Timestamp):
        return f"{v:%Y-%m-%d}"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def boolean_cells(raw: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(true, not a boolean, missing) per cell of a boolean column given by hand or read from a file.

    Booleans are taken as they are, the numbers 1 and 0 and the texts of ``TRUE_TOKENS``/``FALSE_TOKENS`` (without
    case and surrounding blanks) as true and false; blank text is missing. Each distinct value is read once.
    """
    if raw.dtype == bool:
        n = len(raw)
        return raw.to_numpy(), np.zeros(n, bool), np.zeros(n, bool)
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    flag = np.full(len(uniques) + 1, 3, np.int8)  # 0 false, 1 true, 2 not a boolean, 3 missing (last: NA)
    for j, u in enumerate(uniques):
        u = u.item() if isinstance(u, np.generic) else u
        if isinstance(u, bool):
            flag[j] = int(u)
        elif isinstance(u, int | float):
            flag[j] = int(u) if u in (0, 1) else 2
        else:
            t = str(u).strip().lower()
            flag[j] = 1 if t in TRUE_TOKENS else 0 if t in FALSE_TOKENS else 3 if not t else 2
    f = flag[codes]
    return f == 1, f == 2, f == 3


def input_frame(data: Any, table: str) -> pd.DataFrame:
    """The frame an analysis checks: a :class:`Cohort`'s canonical ``table`` or any frame-like ``data``.

    From a cohort, columns absent from the source are dropped (so a missing required column is reported as such)
    and a cohort with validation errors is never analysed: ``ValidationFailed`` lists its errors. Anything else is
    turned into a DataFrame, or an ``InputError`` names the table.
    """
    if isinstance(data, Cohort):
        data.require_valid()
        frame = data.table(table)
        provided = set(data.provided.get(table, ()))
        keep = [c for c in frame.columns if c in provided or c == "source_row" or frame[c].notna().any()]
        return frame[keep]
    if isinstance(data, pd.DataFrame):
        return data
    try:
        return pd.DataFrame(data)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{table}: expected a pandas DataFrame ({exc})") from None


class ProblemCollector:
    """Collects located problems over one table without stopping at the first (pandera's lazy mode).

    The one collector of cohort validation, toxicity input checks and kinetics input checks. Each problem names the
    rule, the patient, the spreadsheet row (``source_row`` when the frame has it, else header = row 1 so the first
    data row is row 2), the column (as ``header`` names it) and the cell as text.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table checked (never modified).
    table : str
        Its name, recorded in every problem.
    header : callable, optional
        Canonical column name -> the name the user sees (the cohort mapping may have renamed it).
    id_column : str
        The patient identifier column.
    """

    def __init__(self, frame: pd.DataFrame, table: str, *, header: Callable[[str], str] | None = None,
                 id_column: str = "patient_id") -> None:
        self.frame = frame
        self.table = table
        self.header = header or str
        self.id_column = id_column
        self.problems: list[Problem] = []
        pos = np.arange(len(frame), dtype=np.int64) + 2
        if "source_row" in frame:
            src = pd.to_numeric(frame["source_row"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            self.rows = np.where(np.isnan(src), pos, src).astype(np.int64)
            self.row_rule = "row numbers are the spreadsheet rows of column 'source_row'"
        else:
            self.rows = pos
            self.row_rule = "row numbers count the header as row 1 (first data row = row 2)"

    def add(self, mask: np.ndarray | pd.Series, rule: str, column: str | None,
            message: str | Callable[[str | None], str], severity: Severity = "error", *,
            value: Callable[[int], object] | None = None) -> None:
        """One problem per True row of ``mask``; ``message`` is text or built from the cell's text."""
        self._add(mask, rule, column, message if callable(message) else (lambda v: message), severity, value,
                  by_row=False)

    def add_rows(self, mask: np.ndarray | pd.Series, rule: str, column: str | None, message: Callable[[int], str],
                 severity: Severity = "error", *, value: Callable[[int], object] | None = None) -> None:
        """As :meth:`add`, with ``message`` built from the row's position (to quote other cells of the row);
        ``value(i)`` replaces the cell of ``column`` as the value reported."""
        self._add(mask, rule, column, message, severity, value, by_row=True)

    def _add(self, mask: np.ndarray | pd.Series, rule: str, column: str | None, message: Callable, severity: Severity,
             value: Callable[[int], object] | None, *, by_row: bool) -> None:
        m = mask.fillna(False).to_numpy(bool) if isinstance(mask, pd.Series) else np.asarray(mask, dtype=bool)
        idx = np.flatnonzero(m)
        if idx.size == 0:
            return
        ids = self.frame[self.id_column].to_numpy(dtype=object) if self.id_column in self.frame else None
        cells = (self.frame[column].to_numpy(dtype=object) if column is not None and column in self.frame
                 else None)
        shown = None if column is None else self.header(column)
        for i in idx:
            text = cell_text(value(i)) if value is not None else (None if cells is None else cell_text(cells[i]))
            pid = None if ids is None else cell_text(ids[i])
            self.problems.append(Problem(rule, severity, message(i) if by_row else message(text), table=self.table,
                                         patient_id=pid or None, row=int(self.rows[i]), column=shown, value=text))


def _header_of(headers: Mapping[str, str]) -> Callable[[str], str]:
    return lambda c: headers.get(c, c)


class _Checker:
    def __init__(self, cohort: Cohort) -> None:
        self.cohort = cohort
        self.collectors = {name: ProblemCollector(df, name, header=_header_of(cohort.headers.get(name, {})))
                           for name, df in cohort.tables.items()}
        self.unreadable = {(p.table, p.row, p.column) for p in cohort.read_problems}

    @property
    def problems(self) -> list[Problem]:
        return [p for c in self.collectors.values() for p in c.problems]

    # -- helpers --------------------------------------------------------------------------------------------------
    def header(self, table: str, column: str) -> str:
        """The user's header for a canonical column (the mapping may have renamed it)."""
        return self.collectors[table].header(column)

    def emit(self, table: str, mask: np.ndarray | pd.Series, rule: str, column: str,
             message: Callable[[int], str], value: Callable[[int], object] | None = None,
             severity: Severity = "error") -> None:
        self.collectors[table].add_rows(mask, rule, column, message, severity, value=value)

    def readable(self, df: pd.DataFrame, table: str, columns: list[str]) -> np.ndarray:
        """False on rows where one of ``columns`` already has a reading problem (it is not blank, it is bad)."""
        ok = np.ones(len(df), dtype=bool)
        if not self.unreadable:
            return ok
        heads = {self.header(table, c) for c in columns}
        bad_rows = {r for (t, r, c) in self.unreadable if t == table and c in heads}
        if bad_rows:
            ok = ok & ~df["source_row"].isin(bad_rows).to_numpy()
        return ok

    # -- generic ----------------------------------------------------------------------------------------------------
    def ids(self, t: Table, df: pd.DataFrame) -> None:
        if "patient_id" not in self.cohort.provided.get(t.name, ()):
            return
        pid = df["patient_id"]
        blank = pid.isna().to_numpy()
        self.emit(t.name, blank, "BLANK_ID", "patient_id", lambda i: "patient_id is blank; every row needs one")
        if t.name == "patients":
            dup = pid.duplicated(keep="first").to_numpy() & ~blank
            first = df.loc[~blank].drop_duplicates("patient_id").set_index("patient_id")["source_row"]
            self.emit(t.name, dup, "DUPLICATE_ID", "patient_id",
                      lambda i: f"duplicate patient_id (first at row {first[pid.iat[i]]}); patient_id must be unique")
        else:
            known = set(self.cohort.patients["patient_id"].dropna())
            unknown = ~blank & ~pid.isin(known).to_numpy()
            self.emit(t.name, unknown, "UNKNOWN_PATIENT", "patient_id",
                      lambda i: "patient_id is not in the patients table")

    def required(self, t: Table, df: pd.DataFrame) -> None:
        given = self.cohort.provided.get(t.name, ())
        for c in t.columns:
            if not c.required or c.name == "patient_id" or c.name not in given:
                continue
            if c.alternative and c.alternative in given and c.dtype == "day":
                continue  # reported under the date name
            cols = [c.name] + ([c.alternative] if c.alternative and c.alternative in given else [])
            blank = df[cols].isna().all(axis=1).to_numpy() & self.readable(df, t.name, cols)
            if c.name.startswith("last_followup") and "death_day" in df.columns:
                blank &= df["death_day"].isna().to_numpy()  # follow-up ends at death (endpoints.derivation rule 1)
            self.emit(t.name, blank, "MISSING_VALUE", c.name,
                      lambda i, c=c: f"'{c.name}' is required and blank")
        if t.name == "patients" and "infusion_date" in given:
            dated = [c for c in given if t.column(c).dtype == "date" and c != "infusion_date"]
            if dated:
                blank = (df["infusion_date"].isna() & df[dated].notna().any(axis=1)).to_numpy()
                blank = blank & self.readable(df, t.name, ["infusion_date"])
                self.emit(t.name, blank, "MISSING_VALUE", "infusion_date",
                          lambda i: "infusion_date is blank, so this patient's dates cannot be turned into days")

    def ranges(self, t: Table, df: pd.DataFrame) -> None:
        given = self.cohort.provided.get(t.name, ())
        for c in t.columns:
            if c.minimum is None and c.maximum is None:
                continue
            if c.dtype == "day" and c.alternative:
                self._day_range(t, df, c, given)
                continue
            if c.name not in given:
                continue
            v = df[c.name].astype("float64")
            lo = v < c.minimum if c.minimum is not None else False
            hi = v > c.maximum if c.maximum is not None else False
            self.emit(t.name, (lo | hi), c.range_rule, c.name,
                      lambda i, c=c: f"{cell_text(df[c.name].iat[i])} is out of range; expected {_range(c)}")

    def _day_range(self, t: Table, df: pd.DataFrame, c: Column, given: tuple[str, ...]) -> None:
        if c.alternative not in given and c.name not in given:
            return
        d = df[c.name].astype("float64")
        bad = d < c.minimum if c.minimum is not None else np.zeros(len(df), bool)
        if t.name == "patients":
            self.emit(t.name, bad, c.range_rule, self._col(c.name, df, given),
                      lambda i: f"{self.when(df, c.name[:-4], i)} is before "
                                f"{self._infusion(df, i)}",
                      value=lambda i: self.value(df, c.name, i, given))
        else:
            self.emit(t.name, bad, c.range_rule, self._col(c.name, df, given),
                      lambda i: f"day {d.iat[i]:g} is before infusion (day 0)",
                      value=lambda i: self.value(df, c.name, i, given))

    # -- dates/days as the user wrote them ---------------------------------------------------------------------------
    @staticmethod
    def _date_name(day: str) -> str:
        return "date" if day == "day" else (day[:-4] + "_date" if day.endswith("_day") else day)

    def _col(self, day: str, df: pd.DataFrame, given: tuple[str, ...]) -> str:
        """Report the date column when the user gave dates, else the day column."""
        date = self._date_name(day)
        return date if date in given and date in df else day

    def value(self, df: pd.DataFrame, day: str, i: int, given: tuple[str, ...]) -> object:
        date = self._date_name(day)
        if date in given and not pd.isna(df[date].iat[i]):
            return df[date].iat[i]
        return df[day].iat[i]

    def when(self, df: pd.DataFrame, stem: str, i: int) -> str:
        """'2024-01-03' when the date is known, else 'day 14'."""
        date, day = (f"{stem}_date", f"{stem}_day") if stem != "day" else ("date", "day")
        if date in df and not pd.isna(df[date].iat[i]):
            return f"{df[date].iat[i]:%Y-%m-%d}"
        return f"day {df[day].iat[i]}"

    # -- patients ---------------------------------------------------------------------------------------------------
    def order(self, df: pd.DataFrame, given: tuple[str, ...], rule: str, later: str, earlier: str,
              what: str, report_on: str | None = None, severity: Severity = "error") -> None:
        """Flag rows where ``<later>_day`` > ``<earlier>_day`` (both known)."""
        a, b = df[f"{later}_day"].astype("float64"), df[f"{earlier}_day"].astype("float64")
        mask = (a > b).to_numpy()
        on = report_on or later
        col = self._col(f"{on}_day", df, given)
        self.emit("patients", mask, rule, col,
                  lambda i: f"{later}_{self._unit(df, later, i)} {self.when(df, later, i)} is after "
                            f"{earlier}_{self._unit(df, earlier, i)} {self.when(df, earlier, i)}; {what}",
                  value=lambda i: self.value(df, f"{on}_day", i, given), severity=severity)

    @staticmethod
    def _infusion(df: pd.DataFrame, i: int) -> str:
        v = df["infusion_date"].iat[i]
        return "infusion (day 0)" if pd.isna(v) else f"infusion_date {v:%Y-%m-%d}"

    @staticmethod
    def _unit(df: pd.DataFrame, stem: str, i: int) -> str:
        return "date" if not pd.isna(df[f"{stem}_date"].iat[i]) else "day"

    def patients(self, df: pd.DataFrame) -> None:
        given = self.cohort.provided.get("patients", ())
        self.order(df, given, "PROGRESSION_AFTER_DEATH", "progression", "death",
                   "progression must be on or before the death date")
        self.order(df, given, "DEATH_AFTER_LAST_FOLLOWUP", "death", "last_followup",
                   "last_followup_date must be the death date for patients who died")
        self.order(df, given, "LAST_FOLLOWUP_AFTER_DEATH", "last_followup", "death",
                   "a patient cannot be seen alive after death; last_followup_date must be the death date")
        for stem in ("progression", "cr", "response_assessment", "hsct", "new_therapy", "crs_onset", "icans_onset"):
            self.order(df, given, "FOLLOWUP_BEFORE_EVENT", stem, "last_followup",
                       "last follow-up must be on or after every recorded event", report_on="last_followup")
        self.order(df, given, "HSCT_AFTER_DEATH", "hsct", "death", "HSCT must be before death")
        for stem in ("new_therapy", "crs_onset", "icans_onset"):
            self.order(df, given, "EVENT_AFTER_DEATH", stem, "death", "events must be on or before the death date")
        for stem in ("response_assessment", "cr"):
            self.order(df, given, "RESPONSE_AFTER_DEATH", stem, "death", "no response can be assessed after death")

        intent = df["hsct_intent"]
        consol = (intent == "consolidative").fillna(False).to_numpy(bool)
        after = (df["hsct_day"].astype("float64") > df["progression_day"].astype("float64")).to_numpy()
        self.emit("patients", consol & after, "CONSOLIDATIVE_HSCT_AFTER_PROGRESSION", "hsct_intent",
                  lambda i: f"HSCT on {self.when(df, 'hsct', i)} follows progression on "
                            f"{self.when(df, 'progression', i)}, so it is salvage, not consolidative")
        no_hsct = df["hsct_day"].isna().to_numpy()
        self.emit("patients", intent.notna().to_numpy() & no_hsct, "HSCT_INTENT_WITHOUT_HSCT", "hsct_intent",
                  lambda i: "hsct_intent is given but there is no hsct_date", severity="warning")
        if "hsct_intent" in given:
            self.emit("patients", intent.isna().to_numpy() & ~no_hsct, "HSCT_WITHOUT_INTENT",
                      self._col("hsct_day", df, given), lambda i: "an HSCT without hsct_intent (consolidative/salvage)",
                      value=lambda i: self.value(df, "hsct_day", i, given), severity="warning")

        cause = df["death_cause"].notna().to_numpy() & df["death_day"].isna().to_numpy()
        self.emit("patients", cause, "CAUSE_WITHOUT_DEATH", "death_cause",
                  lambda i: "a death cause is given but there is no death_date")

        rank28 = df["day28_response"].map(RESPONSE_RANK, na_action="ignore").astype("float64")
        rankb = df["best_response"].map(RESPONSE_RANK, na_action="ignore").astype("float64")
        self.emit("patients", (rankb > rank28).to_numpy(), "BEST_WORSE_THAN_DAY28", "best_response",
                  lambda i: f"best response {df['best_response'].iat[i]} is worse than the day-28 response "
                            f"{df['day28_response'].iat[i]}; the best response is at least the day-28 one")

        death = df["death_day"].astype("float64")
        early = (df["day28_response"].isin(_RESPONSE_LIKE).fillna(False).to_numpy(bool)
                 & (death < DAY28_WINDOW_START).to_numpy() & df["response_assessment_day"].isna().to_numpy())
        self.emit("patients", early, "RESPONSE_AFTER_DEATH", "day28_response",
                  lambda i: f"a day-28 response {df['day28_response'].iat[i]} for a patient who died on "
                            f"{self.when(df, 'death', i)} (day {df['death_day'].iat[i]}); record NE (not evaluable) "
                            "or give response_assessment_date")

        best = df["best_response"]
        nocr = best.notna().to_numpy() & ~best.isin(CR_RESPONSES).fillna(False).to_numpy(bool)
        self.emit("patients", nocr & df["cr_day"].notna().to_numpy(), "CR_DATE_WITHOUT_CR",
                  self._col("cr_day", df, given),
                  lambda i: f"a CR date is given but best_response is {best.iat[i]}", severity="warning",
                  value=lambda i: self.value(df, "cr_day", i, given))
        self.order(df, given, "PROGRESSION_BEFORE_CR", "cr", "progression",
                   "a first CR after progression is unusual; check both dates", severity="warning")

    # -- kinetics ---------------------------------------------------------------------------------------------------
    def kinetics(self, df: pd.DataFrame) -> None:
        value, blq, lloq = df["value"].astype("float64"), df["below_loq"].fillna(False).astype(bool), df["lloq"]
        lloq = lloq.astype("float64")
        self.emit("kinetics", (value.isna() & ~blq & self.readable(df, "kinetics", ["value"])).to_numpy(),
                  "MISSING_VALUE", "value", lambda i: "value is blank and below_loq is not yes; give the level, or "
                  "mark the sample below the limit of quantification")
        assay, unit = df["assay"], df["unit"]
        wrong = [a in KINETICS_ASSAY_UNITS and u not in KINETICS_ASSAY_UNITS[a]
                 for a, u in zip(assay.fillna(""), unit.fillna(""), strict=True)]
        wrong = np.asarray(wrong, dtype=bool) & unit.notna().to_numpy()
        self.emit("kinetics", wrong, "UNIT_MISMATCH", "unit",
                  lambda i: f"assay {assay.iat[i]} does not report {unit.iat[i]}; expected "
                            f"{' or '.join(KINETICS_ASSAY_UNITS[assay.iat[i]])}")
        over = ((unit == "percent_of_cd3").fillna(False) & (value > 100)).to_numpy()
        self.emit("kinetics", over, "UNIT_MISMATCH", "value",
                  lambda i: f"{cell_text(value.iat[i])} percent_of_cd3 is above 100")
        conflict = ((blq & (value > lloq)) | (~blq & (value < lloq))).to_numpy()
        self.emit("kinetics", conflict, "LLOQ_CONFLICT", "below_loq",
                  lambda i: f"value {cell_text(value.iat[i])} with lloq {cell_text(lloq.iat[i])} but below_loq is "
                            f"{'yes' if blq.iat[i] else 'no'}; below_loq decides how the sample is counted",
                  severity="warning")
        keys = ["patient_id", "day", "matrix", "assay", "unit"]
        dup = df.duplicated(keys, keep="first").to_numpy() & df[keys].notna().all(axis=1).to_numpy()
        first = df.drop_duplicates(keys).set_index(keys)["source_row"]
        self.emit("kinetics", dup, "DUPLICATE_SAMPLE", self._col("day", df, self.cohort.provided["kinetics"]),
                  lambda i: f"another {df['assay'].iat[i]} sample of this patient on day {df['day'].iat[i]} "
                            f"(row {first[tuple(df[keys].iloc[i])]}); replicates are averaged", severity="warning",
                  value=lambda i: self.value(df, "day", i, self.cohort.provided["kinetics"]))

    # -- long tables ------------------------------------------------------------------------------------------------
    def after_death(self, t: Table, df: pd.DataFrame) -> None:
        if "day" not in df or not len(df):
            return
        death = self.cohort.patients.dropna(subset=["patient_id"]).drop_duplicates("patient_id")
        death = death.set_index("patient_id")["death_day"].astype("float64")
        dd = df["patient_id"].map(death).astype("float64")
        mask = (df["day"].astype("float64") > dd).to_numpy()
        given = self.cohort.provided.get(t.name, ())
        rule = "RESPONSE_AFTER_DEATH" if t.name == "response_assessments" else "OBSERVATION_AFTER_DEATH"
        self.emit(t.name, mask, rule, self._col("day", df, given),
                  lambda i: f"{self.when(df, 'day', i)} (day {df['day'].iat[i]}) is after the patient's death "
                            f"(day {dd.iat[i]:g})",
                  value=lambda i: self.value(df, "day", i, given))


def _na(v: object) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _range(c: Column) -> str:
    if c.minimum is not None and c.maximum is not None:
        return f"a value from {c.minimum:g} to {c.maximum:g}" + (f" {c.unit}" if c.unit else "")
    if c.minimum is not None:
        return f"a value >= {c.minimum:g}" + (f" {c.unit}" if c.unit else "")
    return f"a value <= {c.maximum:g}" + (f" {c.unit}" if c.unit else "")


def validate(cohort: Cohort) -> ValidationReport:
    """Check a cohort against every rule and return all problems (the reading problems included).

    Parameters
    ----------
    cohort : Cohort
        As returned by :func:`~cart_outcomes.cohort.io.read_cohort`.

    Returns
    -------
    ValidationReport
        ``problems`` sorted errors first, then by table and row; ``ok`` is True when there is no error.

    Notes
    -----
    Rules and severities are listed in the module docstring. Comparable to R ``survival::survcheck`` for the
    time-line checks, and to pandera's lazy validation for collecting everything before failing.
    """
    ch = _Checker(cohort)
    for name, df in cohort.tables.items():
        t = TABLES[name]
        if not len(df):
            continue
        ch.ids(t, df)
        ch.required(t, df)
        ch.ranges(t, df)
        if name == "patients":
            ch.patients(df)
        else:
            ch.after_death(t, df)
        if name == "kinetics":
            ch.kinetics(df)
    return ValidationReport(sort_problems([*cohort.read_problems, *ch.problems], list(TABLES)))
