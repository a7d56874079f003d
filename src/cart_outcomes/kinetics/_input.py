"""Read and check a ``kinetics`` long table (private): every bad row goes into one located error.

Accepts the canonical frame read from a cohort (string/Int64/float64/boolean dtypes with ``pd.NA``) and plain
frames built by hand (object/int/bool dtypes, optional columns absent). The input is never modified. Text is matched
without regard to case and surrounding blanks, each distinct value normalised once (vectorised over the rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cart_outcomes.cohort.schema import KINETICS_ASSAY_UNITS as ASSAY_UNITS
from cart_outcomes.cohort.schema import KINETICS_MATRICES as MATRICES
from cart_outcomes.cohort.schema import KINETICS_UNITS as UNITS
from cart_outcomes.cohort.validate import Problem, ProblemCollector, boolean_cells, cell_text, input_frame
from cart_outcomes.errors import InputError, ValidationFailed

ASSAYS = tuple(ASSAY_UNITS)
REQUIRED = ("patient_id", "day", "assay", "value", "unit")
_SHOW = 50


@dataclass(frozen=True, slots=True)
class Rows:
    """The checked rows, sorted by series (patient, matrix, assay, unit) then day; input order kept within ties.

    ``keys`` has one row per series (``patient_id, matrix, assay, unit``) in output order; ``series`` is the
    0-based series of each sorted row; ``value`` is NaN on rows that are not quantifiable; ``row`` is the
    spreadsheet row of each sorted row, ``order`` its position in the input, and ``row_rule`` says how row numbers
    are counted.
    """

    keys: pd.DataFrame
    series: np.ndarray
    day: np.ndarray
    value: np.ndarray
    quantifiable: np.ndarray
    row: np.ndarray
    order: np.ndarray
    patient_id: pd.Series
    row_rule: str


def _raise(problems: list[Problem], row_rule: str, what: str) -> None:
    """Raise one ``ValidationFailed`` (an ``InputError``) listing every problem, in row order."""
    if not problems:
        return
    problems.sort(key=lambda p: (p.row, p.column or ""))
    n_rows = len({p.row for p in problems})
    shown = "\n".join(str(p) for p in problems[:_SHOW])
    more = f"\n... and {len(problems) - _SHOW} more (see .problems)" if len(problems) > _SHOW else ""
    raise ValidationFailed(problems, f"kinetics: {len(problems)} problem(s) in {n_rows} row(s) {what} "
                                     f"({row_rule}):\n{shown}{more}")


def _vocabulary(col: pd.Series, vocab: tuple[str, ...]) -> np.ndarray:
    """Index into ``vocab`` of each row (-1 missing or blank, -2 not in the vocabulary); case and blanks ignored."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    lookup = {v: i for i, v in enumerate(vocab)}
    lookup[""] = -1
    per_unique = np.array([lookup.get(str(u).strip().lower(), -2) for u in uniques] + [-1], dtype=np.int64)
    return per_unique[codes]


def _number(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(float values with NaN where missing or not a number, mask of cells that are present but not numbers)."""
    if col.dtype.kind in "iuf":  # numpy and nullable (Int64, Float64) numbers
        return col.to_numpy(dtype=float, na_value=np.nan), np.zeros(len(col), bool)
    missing = col.isna().to_numpy()
    num = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = np.isnan(num) & ~missing
    if bad.any():  # blank text is missing, not a bad number
        cells = col.to_numpy(dtype=object)
        idx = np.flatnonzero(bad)
        bad[idx] = [not (isinstance(v, str) and not v.strip()) for v in cells[idx]]
    return num, bad


def _patient_codes(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes that sort the patients in their natural order, numbers numerically, else as text; missing mask)."""
    try:
        codes, uniques = pd.factorize(col, sort=True, use_na_sentinel=True)
    except TypeError:  # mixed numbers and text
        text = pd.Series([None if pd.isna(v) else str(v) for v in col.to_numpy(dtype=object)], dtype=object)
        codes, uniques = pd.factorize(text, sort=True, use_na_sentinel=True)
    blank = np.flatnonzero([isinstance(u, str) and not u.strip() for u in uniques])
    return codes, (codes == -1) | np.isin(codes, blank)


def read_rows(kinetics: Any) -> Rows:
    """Check ``kinetics`` (a frame, or a Cohort: its kinetics table) and return its rows sorted by series and day;
    raise one located error for all bad rows."""
    frame = input_frame(kinetics, "kinetics")
    missing_cols = [c for c in REQUIRED if c not in frame.columns]
    if missing_cols:
        raise InputError(f"kinetics: required column(s) {missing_cols} missing (columns present: "
                         f"{list(frame.columns)}; required: {list(REQUIRED)})")
    if len(frame) == 0:
        raise InputError("kinetics: the table has no rows: nothing to analyse")
    n = len(frame)
    chk = ProblemCollector(frame, "kinetics")

    pcode, no_id = _patient_codes(frame["patient_id"])
    chk.add(no_id, "BLANK_ID", "patient_id", "patient_id is missing")

    day, not_num = _number(frame["day"])
    chk.add(not_num, "BAD_NUMBER", "day", lambda v: f"{v!r} is not a number of days")
    chk.add(np.isnan(day) & ~not_num, "MISSING_VALUE", "day", "day is missing")
    chk.add(np.isinf(day), "BAD_NUMBER", "day", lambda v: f"{v} is not a finite number of days")
    chk.add(np.isfinite(day) & (day < 0), "BEFORE_INFUSION", "day",
            lambda v: f"day {v} is before the infusion (day 0)")

    if "matrix" in frame:
        matrix = _vocabulary(frame["matrix"], MATRICES)
        chk.add(matrix == -2, "VOCABULARY", "matrix", lambda v: f"{v!r} is not one of {list(MATRICES)}")
        matrix = np.where(matrix == -1, 0, matrix)  # blank = peripheral blood
    else:
        matrix = np.zeros(n, np.int64)
    assay = _vocabulary(frame["assay"], ASSAYS)
    chk.add(assay == -1, "MISSING_VALUE", "assay", "assay is missing")
    chk.add(assay == -2, "VOCABULARY", "assay", lambda v: f"{v!r} is not one of {list(ASSAYS)}")
    unit = _vocabulary(frame["unit"], UNITS)
    chk.add(unit == -1, "MISSING_VALUE", "unit", "unit is missing")
    chk.add(unit == -2, "VOCABULARY", "unit", lambda v: f"{v!r} is not one of {list(UNITS)}")
    allowed = np.array([[u in ASSAY_UNITS[a] for u in UNITS] + [True, True] for a in ASSAYS] + [[True] * 5] * 2)
    mismatch = ~allowed[assay, unit]  # codes -1/-2 (missing, unknown) index the all-True padding
    if mismatch.any():
        for i, a in enumerate(ASSAYS):
            chk.add(mismatch & (assay == i), "UNIT_MISMATCH", "unit",
                    lambda v, a=a: f"{v!r} is not a unit of assay {a!r} (expected one of {list(ASSAY_UNITS[a])})")

    if "below_loq" in frame:
        blq, bad_bool, _ = boolean_cells(frame["below_loq"])  # blank = False
        chk.add(bad_bool, "BAD_BOOLEAN", "below_loq", lambda v: f"{v!r} is not true/false, yes/no or 1/0")
    else:
        blq = np.zeros(n, bool)

    value, not_num = _number(frame["value"])
    chk.add(not_num, "BAD_NUMBER", "value", lambda v: f"{v!r} is not a number")
    chk.add(np.isnan(value) & ~not_num & ~blq, "MISSING_VALUE", "value",
            "value is missing and below_loq is not true (a blank value needs below_loq = true)")
    chk.add(np.isinf(value), "BAD_NUMBER", "value", lambda v: f"{v} is not a finite number")
    chk.add(np.isfinite(value) & (value < 0), "OUT_OF_RANGE", "value",
            lambda v: f"{v} is negative; CAR levels are >= 0")
    if "lloq" in frame:
        lloq, not_num = _number(frame["lloq"])
        chk.add(not_num, "BAD_NUMBER", "lloq", lambda v: f"{v!r} is not a number")
        chk.add(np.isinf(lloq) | (lloq < 0), "OUT_OF_RANGE", "lloq", lambda v: f"{v} is not a finite number >= 0")
    _raise(chk.problems, chk.row_rule, "prevent the analysis")

    quant = ~blq & (value > 0)  # an exact 0 without the flag is not quantifiable either
    key = ((pcode.astype(np.int64) * 3 + matrix) * 3 + assay) * 3 + unit
    order = np.lexsort((day, key))
    skey = key[order]
    new = np.empty(n, bool)
    new[0] = True
    np.not_equal(skey[1:], skey[:-1], out=new[1:])
    first = order[new]
    keys = pd.DataFrame({
        "patient_id": frame["patient_id"].iloc[first].reset_index(drop=True),
        "matrix": np.array(MATRICES, dtype=object)[matrix[first]],
        "assay": np.array(ASSAYS, dtype=object)[assay[first]],
        "unit": np.array(UNITS, dtype=object)[unit[first]],
    })
    value = np.where(quant, value, np.nan)
    return Rows(keys=keys, series=np.cumsum(new) - 1, day=day[order], value=value[order],
                quantifiable=quant[order], row=chk.rows[order], order=order, patient_id=frame["patient_id"],
                row_rule=chk.row_rule)


def duplicate_error(rows: Rows, starts: np.ndarray, n_rows: np.ndarray) -> None:
    """Raise the located error of ``duplicates='error'``: one problem per row of a day sampled more than once."""
    problems: list[Problem] = []
    keys = rows.keys
    for s in np.flatnonzero(n_rows > 1):
        r = np.arange(starts[s], starts[s] + n_rows[s])
        k = keys.iloc[int(rows.series[r[0]])]
        day = cell_text(rows.day[r[0]])
        listed = ", ".join(str(int(x)) for x in rows.row[r])
        for i in r:
            problems.append(Problem(
                rule="DUPLICATE_SAMPLE", severity="error", table="kinetics",
                patient_id=cell_text(rows.patient_id.iloc[rows.order[i]]),
                row=int(rows.row[i]), column="day", value=day,
                message=f"{n_rows[s]} samples on day {day} for {k['matrix']}/{k['assay']}/{k['unit']} (rows "
                        f"{listed}); duplicates='error' (use duplicates='mean' to average the replicates)"))
    _raise(problems, rows.row_rule, "are duplicate samples")
