"""Located data problems and the report that collects them (public through ``cohort.validate``)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning"]

#: Every rule code with its severity and what it checks. Codes are stable: outputs and user scripts rely on them.
RULES: dict[str, tuple[Severity, str]] = {
    # the file
    "EMPTY_FILE": ("error", "The file (or folder, or the patients sheet) holds nothing."),
    "UNREADABLE_FILE": ("error", "The file is not a readable workbook, CSV or parquet file."),
    "TOO_LARGE": ("error", "The file is over a reading limit (cells, rows, unpacked size or compression ratio; see "
                           "docs/security.md): nothing is read from it."),
    "NESTED_VALUE": ("warning", "A parquet column of lists, structs, maps or bytes: its cells are read as their "
                                "JSON text (and a typed column then flags each one)."),
    "TIMEZONE_DATETIME": ("warning", "A parquet column of timezone-aware times: read as the calendar date in its own "
                                     "time zone."),
    "MISSING_TABLE": ("error", "No `patients` sheet in a multi-sheet workbook or folder."),
    "NO_DATA_ROWS": ("error", "The patients sheet has a header row but no patients."),
    "UNKNOWN_SHEET": ("warning", "A sheet that is not a cohort table (ignored; the closest table name is "
                                 "suggested). Sheets named dictionary/readme/instructions are skipped silently."),
    # headers
    "MISSING_COLUMN": ("error", "A required column (or both members of a required date/day pair) is absent; "
                                "`infusion_date` is required whenever an event is given as a date."),
    "DUPLICATE_COLUMN": ("error", "Two headers map to the same canonical column."),
    "UNKNOWN_COLUMN": ("warning", "A header that is not a canonical column: kept unchanged, not checked."),
    "UNNAMED_COLUMN": ("warning", "Values under a blank header (ignored)."),
    # cells
    "EXCEL_ERROR": ("error", "An Excel error value (#N/A, #DIV/0!, #VALUE! ...) where data were expected."),
    "BAD_DATE": ("error", "Not a date: impossible date, text that is not ISO YYYY-MM-DD and does not match "
                          "`date_format`, or a number in a date column."),
    "DATE_FORMAT_DETECTED": ("warning", "Text dates read day-first (or month-first) because some can only be read "
                                        "that way (19/01/2023); state it with `data.date_format`."),
    "AMBIGUOUS_DATE": ("error", "Text such as 03/04/2024 without `date_format`: day/month order is never guessed."),
    "BAD_NUMBER": ("error", "Not a number, or not a whole number where one is required (grades, days, counts)."),
    "BAD_BOOLEAN": ("error", "Not yes/no, true/false or 1/0."),
    "VOCABULARY": ("error", "A value outside the column's vocabulary (the closest allowed value is suggested; "
                            "recode other spellings with `data.values`)."),
    "UNUSED_RECODE": ("warning", "A `data.values` entry that no cell of its column says (or a column of "
                                 "`data.values` that the cohort does not have): nothing was recoded by it."),
    "DATE_DAY_MISMATCH": ("error", "Both `<event>_date` and `<event>_day` are given and disagree."),
    # values
    "BLANK_ID": ("error", "A row without patient_id."),
    "UNSAFE_ID": ("warning", "A patient_id with control, invisible or direction-changing characters (one id could "
                             "display as another): each is written <U+XXXX> in every table and output."),
    "DUPLICATE_ID": ("error", "A patient_id repeated in the patients table."),
    "MISSING_VALUE": ("error", "A required cell is blank (e.g. last follow-up, or infusion_date when the patient's "
                               "events are dates)."),
    "UNKNOWN_PATIENT": ("error", "A long-table row whose patient_id is not in the patients table."),
    "BEFORE_INFUSION": ("error", "An event or observation before infusion (day < 0); labs may have negative days."),
    "GRADE_RANGE": ("error", "CRS/ICANS grade outside 0-5, adverse-event grade outside 1-5."),
    "IMPLAUSIBLE_AGE": ("error", "Age outside 0-100 years."),
    "OUT_OF_RANGE": ("error", "A value outside the column's plausible range (see the data dictionary)."),
    # time line of the patients table
    "PROGRESSION_AFTER_DEATH": ("error", "Progression dated after death."),
    "DEATH_AFTER_LAST_FOLLOWUP": ("error", "Death after the last follow-up date (last follow-up is the death date "
                                           "for patients who died)."),
    "LAST_FOLLOWUP_AFTER_DEATH": ("error", "Last follow-up after death: a patient cannot be seen alive after death."),
    "FOLLOWUP_BEFORE_EVENT": ("error", "Last follow-up before a recorded progression, CR, response assessment, "
                                       "HSCT, new therapy or toxicity onset."),
    "HSCT_AFTER_DEATH": ("error", "HSCT dated after death."),
    "EVENT_AFTER_DEATH": ("error", "New therapy or toxicity onset dated after death."),
    "CONSOLIDATIVE_HSCT_AFTER_PROGRESSION": ("error", "An HSCT after progression recorded as consolidative "
                                                      "(it is salvage)."),
    "CAUSE_WITHOUT_DEATH": ("error", "A death cause without a death date."),
    "BEST_WORSE_THAN_DAY28": ("error", "Best response worse than the day-28 response (CR > CRh > CRi > PR > SD = NR "
                                       "> PD; NE not ranked)."),
    "RESPONSE_AFTER_DEATH": ("error", "A response assessment or CR dated after death, or (without an assessment "
                                      "date) a day-28 CR/CRi/CRh/PR/SD for a patient who died before day 21."),
    "OBSERVATION_AFTER_DEATH": ("error", "A long-table observation after the patient's death."),
    # kinetics
    "UNIT_MISMATCH": ("error", "A kinetics unit the assay does not produce (qPCR/ddPCR: copies_per_ug_dna; flow: "
                               "cells_per_ul or percent_of_cd3), or a percentage above 100."),
    "LLOQ_CONFLICT": ("warning", "A kinetics value on the wrong side of its lloq: below_loq yes with a value above "
                                 "lloq, or a value below lloq without below_loq (below_loq is what counts)."),
    "DUPLICATE_SAMPLE": ("warning", "Two or more kinetics samples of one patient on one day in the same matrix, "
                                    "assay and unit (replicates are averaged)."),
    "HSCT_INTENT_WITHOUT_HSCT": ("warning", "hsct_intent given without an HSCT date."),
    "HSCT_WITHOUT_INTENT": ("warning", "An HSCT without hsct_intent (consolidative/salvage)."),
    "CR_DATE_WITHOUT_CR": ("warning", "A CR date while the best response is not CR/CRh/CRi."),
    "PROGRESSION_BEFORE_CR": ("warning", "First CR dated after progression."),
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in one place of the cohort.

    ``row`` is the row number the user sees in the spreadsheet (header = row 1, so the first data row is 2);
    ``message`` says what was found and what was expected.
    """

    rule: str
    severity: Severity
    message: str
    table: str | None = None
    patient_id: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = []
        if self.table not in (None, "patients"):
            where.append(f"table '{self.table}'")
        if self.patient_id is not None:
            where.append(f"patient {self.patient_id}" + (f" (row {self.row})" if self.row is not None else ""))
        elif self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        loc = ", ".join(where)
        return f"[{self.rule}] {loc}: {self.message}" if loc else f"[{self.rule}] {self.message}"

    def to_dict(self) -> dict:
        """Plain dict with keys rule, severity, patient_id, row, column, value, message, table."""
        d = asdict(self)
        return {k: d[k] for k in ("rule", "severity", "patient_id", "row", "column", "value", "message", "table")}


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """Every problem found in a cohort, errors first, in file order within each table."""

    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings allowed)."""
        return not self.errors

    def rules(self) -> set[str]:
        """The distinct rule codes present."""
        return {p.rule for p in self.problems}

    def to_frame(self):
        """The problems as a pandas DataFrame (one row per problem)."""
        import pandas as pd

        cols = ["rule", "severity", "patient_id", "row", "column", "value", "message", "table"]
        return pd.DataFrame([p.to_dict() for p in self.problems], columns=cols)

    def to_json(self) -> str:
        """JSON list of objects with keys rule, severity, patient_id, row, column, value, message, table."""
        return json.dumps([p.to_dict() for p in self.problems], indent=2, ensure_ascii=False)

    def __str__(self) -> str:
        head = f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"
        return "\n".join([head, *(str(p) for p in self.problems)])


_SEVERITY_ORDER = {"error": 0, "warning": 1}


def sort_problems(problems: list[Problem], table_order: list[str]) -> tuple[Problem, ...]:
    """Errors first; then by table (schema order), spreadsheet row and column."""
    order = {name: i for i, name in enumerate(table_order)}

    def key(p: Problem) -> tuple:
        return (_SEVERITY_ORDER[p.severity], order.get(p.table, -1 if p.table is None else len(order)),
                p.row if p.row is not None else -1)

    return tuple(sorted(problems, key=key))
