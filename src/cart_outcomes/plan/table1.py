"""The Table 1 section of a run: baseline characteristics overall and by a group, with the test per variable.

Variables are the plan's ``table1.variables`` (schema columns or the sheet's own columns, e.g. ``ldh``, ``ecog``),
or by default the standard baseline columns present. A sheet column the schema does not know arrives as text; it is
read as numbers when every value is a number, else as categories, and numbers with fewer than 10 distinct values
are summarised as categories (gtsummary's default rule; ``table1.continuous_columns`` overrides it). Tests follow
gtsummary's ``add_p()`` defaults (:func:`cart_outcomes.stats.contingency.summarise_by_group`, ``tests="gtsummary"``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from cart_outcomes.cohort.schema import PATIENTS
from cart_outcomes.errors import InputError
from cart_outcomes.plan._common import Part
from cart_outcomes.plan.cohort import TABLE1_CATEGORICAL, TABLE1_VARIABLES
from cart_outcomes.plan.model import Plan
from cart_outcomes.results.records import num
from cart_outcomes.stats.contingency import summarise_by_group

__all__ = ["TABLE1_CATEGORICAL", "TABLE1_VARIABLES", "table1_columns", "table1_section"]

#: A sheet column the schema does not know, with numbers taking fewer distinct values than this, is summarised as
#: categories (gtsummary's default rule for numeric variables), unless the plan lists it in ``continuous_columns``.
GUESS_CATEGORIES = 10


def table1_columns(plan: Plan) -> list[str]:
    """The columns the plan's Table 1 names (its ``by`` and ``variables``), to be checked against the cohort."""
    t = plan.table1
    return [c for c in [t.by, *(t.variables or [])] if c is not None]


def _as_read(series: pd.Series) -> pd.Series:
    """A sheet column kept as text: numbers when every value is one, else text categories."""
    if series.dtype != object:
        return series
    numbers = pd.to_numeric(series, errors="coerce")
    if numbers.notna().sum() == series.notna().sum():
        whole = bool((numbers.dropna() % 1 == 0).all())
        return numbers.astype("Int64") if whole else numbers.astype(float)
    return series.map(lambda v: None if pd.isna(v) else str(v)).astype(object)


def table1_section(patients: pd.DataFrame, plan: Plan) -> Part:
    """The Table 1 record (options and the test of each variable) and its tidy summary (``tables["table1"]``)."""
    t = plan.table1
    if t.variables is not None:
        variables = {c: t.labels.get(c, TABLE1_VARIABLES.get(c, c)) for c in t.variables}
    else:
        variables = {c: t.labels.get(c, label) for c, label in TABLE1_VARIABLES.items()
                     if c in patients.columns and patients[c].notna().any()}
    if t.by is not None:
        variables.pop(t.by, None)
    columns = [c for c in [*variables, t.by] if c is not None]
    absent = [c for c in columns if c not in patients.columns]
    if absent:
        raise InputError(f"table1: column(s) {absent} are not in the cohort")
    frame = pd.DataFrame({c: _as_read(patients[c]) for c in columns}, index=patients.index)
    known = set(PATIENTS.names)
    categorical = [c for c in variables if c in TABLE1_CATEGORICAL or c in t.categorical
                   or (c not in known and c not in t.continuous_columns and frame[c].nunique() < GUESS_CATEGORIES)]
    summary = summarise_by_group(frame, variables, by=t.by, categorical=categorical,
                                 tests="gtsummary" if t.tests else "none")
    tests = []
    for column, block in summary.groupby("variable", sort=False):
        first = block.iloc[0]
        tests.append({"variable": column, "label": str(first["label"]), "kind": str(first["kind"]),
                      "test": str(first["test"]) or None, "p": num(first["p"])})
    groups = [{"group": str(g), "n": int(n)} for g, n in
              summary.drop_duplicates("group")[["group", "group_n"]].itertuples(index=False)]
    record: dict[str, Any] = {
        "by": t.by, "variables": list(variables), "groups": groups,
        "n_missing_group": int(frame[t.by].isna().sum()) if t.by is not None else 0,
        "continuous": t.continuous, "missing": t.missing, "tests": tests,
        "method": ("continuous: median with quartiles (R quantile(), type 7) or range; categorical: n (% of "
                   "patients with a known value); tests as gtsummary add_p() by default: Wilcoxon rank-sum (2 "
                   "groups) or Kruskal-Wallis (3 or more) for continuous variables; Pearson's chi-squared without "
                   "continuity correction when every expected count is >= 5, else Fisher's exact test, for "
                   "categorical variables"),
    }
    return Part(record, {"table1": summary}, {})
