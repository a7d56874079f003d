"""Group comparisons of a descriptive table ("Table 1"): exact r x c Fisher test, the test R users pick by variable
type, and the tidy summary by group those tests belong to.

Why written here: scipy's ``fisher_exact`` handles 2 x 2 tables only; R's ``fisher.test`` enumerates r x c tables
exactly, which :func:`fisher_exact_rxc` reproduces (network-free enumeration, R's relative tolerance 1e-7).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from cart_outcomes.errors import InputError

__all__ = ["FISHER_MAX_TABLES", "compare_categorical", "compare_categorical_gtsummary", "compare_continuous",
           "fisher_exact_rxc", "summarise_by_group"]

#: Largest number of tables the exact r x c Fisher test enumerates before it gives up (``None``).
FISHER_MAX_TABLES = 200_000


def _compositions(total: int, bounds: tuple[int, ...]) -> list[tuple[int, ...]]:
    """All ways to split ``total`` into len(bounds) non-negative parts with part i <= bounds[i]."""
    if len(bounds) == 1:
        return [(total,)] if total <= bounds[0] else []
    out = []
    rest_capacity = sum(bounds[1:])
    for first in range(max(0, total - rest_capacity), min(total, bounds[0]) + 1):
        out.extend((first, *tail) for tail in _compositions(total - first, bounds[1:]))
    return out


def fisher_exact_rxc(table: np.ndarray, *, max_tables: int | None = None) -> float | None:
    """Exact two-sided Fisher p of an r x c contingency table, as R ``fisher.test(table)``.

    Sums the probabilities of every table with the observed margins that is no more likely than the observed one
    (relative tolerance 1e-7, as R). Empty rows and columns are dropped; a table with fewer than two rows or columns
    gives 1. Returns ``None`` when more than ``max_tables`` (default :data:`FISHER_MAX_TABLES`) partial tables would
    have to be enumerated.
    """
    limit = FISHER_MAX_TABLES if max_tables is None else max_tables
    table = np.asarray(table)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if table.shape[0] < 2 or table.shape[1] < 2:
        return 1.0
    rows, cols = table.sum(axis=1), table.sum(axis=0)
    lg = [math.lgamma(k + 1) for k in range(int(table.sum()) + 1)]
    observed = -sum(lg[int(v)] for v in table.ravel())
    # one state per partial table: remaining row sums and log prod(1/x!) over the columns filled so far
    states: list[tuple[tuple[int, ...], float]] = [(tuple(int(r) for r in rows), 0.0)]
    for c in cols[:-1]:
        nxt: list[tuple[tuple[int, ...], float]] = []
        for remaining, logp in states:
            for split in _compositions(int(c), remaining):
                nxt.append((tuple(r - s for r, s in zip(remaining, split, strict=True)),
                            logp - sum(lg[s] for s in split)))
                if len(nxt) > limit:
                    return None
        states = nxt
    const = sum(lg[int(r)] for r in rows) + sum(lg[int(c)] for c in cols) - lg[int(table.sum())]
    total = 0.0
    threshold = observed + math.log1p(1e-7)
    for remaining, logp in states:
        logp_full = logp - sum(lg[r] for r in remaining)  # the last column takes what is left
        if logp_full <= threshold:
            total += math.exp(logp_full + const)
    return min(1.0, total)


def compare_categorical(values: pd.Series, groups: pd.Series, *, max_tables: int | None = None) -> tuple[float, str]:
    """p and test name comparing a categorical variable across groups: Fisher's exact test (R ``fisher.test``,
    exact r x c), or Pearson's chi-squared without continuity correction (R ``chisq.test(correct = FALSE)``) when the
    exact enumeration would exceed ``max_tables``."""
    from scipy.stats import chi2_contingency, fisher_exact

    table = pd.crosstab(values, groups).to_numpy()
    if table.shape == (2, 2):
        return float(fisher_exact(table).pvalue), "Fisher's exact test"
    p = fisher_exact_rxc(table, max_tables=max_tables)
    if p is not None:
        return p, "Fisher's exact test"
    return float(chi2_contingency(table, correction=False).pvalue), "Pearson's chi-squared test"


def compare_categorical_gtsummary(values: pd.Series, groups: pd.Series, *,
                                  max_tables: int | None = None) -> tuple[float, str]:
    """p and test name comparing a categorical variable across groups as gtsummary's ``add_p()`` chooses by
    default: Pearson's chi-squared without continuity correction (R ``chisq.test(correct = FALSE)``) when every
    expected count is at least 5, else Fisher's exact test (R ``fisher.test``).

    When the exact r x c enumeration would exceed ``max_tables`` tables, the chi-squared p is returned and the test
    name says so (R ``fisher.test`` would need a larger ``workspace``).
    """
    from scipy.stats import chi2_contingency, fisher_exact

    table = pd.crosstab(values, groups).to_numpy()
    if table.shape[0] < 2 or table.shape[1] < 2:
        return math.nan, ""
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    chisq = "Pearson's chi-squared test"
    if (expected >= 5).all():
        return float(chi2_contingency(table, correction=False).pvalue), chisq
    if table.shape == (2, 2):
        return float(fisher_exact(table).pvalue), "Fisher's exact test"
    p = fisher_exact_rxc(table, max_tables=max_tables)
    if p is not None:
        return p, "Fisher's exact test"
    return (float(chi2_contingency(table, correction=False).pvalue),
            f"{chisq} (an expected count is < 5, but the exact test would enumerate too many tables)")


def compare_continuous(values: pd.Series, groups: pd.Series) -> tuple[float, str]:
    """p and test name comparing a continuous variable across groups: R ``wilcox.test`` (two groups; exact or
    normal approximation by R's rule) or ``kruskal.test`` (three or more).

    No test (NaN, "") with fewer than two groups, or when every value is the same (R's p-value is then NaN).
    """
    from cart_outcomes.stats.rank_tests import kruskal_wallis, wilcoxon_rank_sum

    samples = [values[groups == g].to_numpy(dtype=float) for g in dict.fromkeys(groups.tolist())]
    samples = [s for s in samples if s.size]
    if len(samples) < 2 or np.unique(np.concatenate(samples)).size == 1:
        return math.nan, ""
    if len(samples) == 2:
        res = wilcoxon_rank_sum(*samples)
        if res.p_value_method == "exact":
            return res.p_value, "Wilcoxon rank-sum test (exact)"
        return res.p_value, "Wilcoxon rank-sum test (normal approximation, continuity correction)"
    codes = np.repeat(np.arange(len(samples)), [s.size for s in samples])
    return kruskal_wallis(np.concatenate(samples), codes).p_value, "Kruskal-Wallis test"


def _levels(frame: pd.DataFrame, by: str | None) -> list[Any]:
    if by is None:
        return []
    if by not in frame.columns:
        raise InputError(f"by column {by!r} is not in the table; columns are {list(frame.columns)}")
    column = frame[by]
    if isinstance(column.dtype, pd.CategoricalDtype):
        return [c for c in column.cat.categories if (column == c).any()]
    return sorted(pd.unique(column.dropna()), key=lambda v: (str(type(v)), v))  # independent of row order


def summarise_by_group(frame: pd.DataFrame, variables: Sequence[str] | Mapping[str, str], *, by: str | None = None,
                       categorical: Sequence[str] = (), tests: str = "exact") -> pd.DataFrame:
    """Tidy descriptive summary of ``variables`` overall and by ``by``, with the test comparing the groups.

    Parameters
    ----------
    frame : one row per subject.
    variables : columns to summarise, or a mapping column -> label (in display order).
    by : optional grouping column; rows with a missing group count only in ``All``.
    categorical : numeric columns to treat as categorical. Non-numeric and boolean columns always are.
    tests : ``"exact"`` (Fisher's exact test for every categorical variable: :func:`compare_categorical`),
        ``"gtsummary"`` (gtsummary ``add_p()``'s default choice: :func:`compare_categorical_gtsummary`), or
        ``"none"``. Continuous variables: :func:`compare_continuous` (Wilcoxon or Kruskal-Wallis) unless ``"none"``.

    Returns
    -------
    DataFrame with one row per variable x level x group: ``variable, label, kind`` (``continuous`` or
    ``categorical``), ``level`` (the category; ``None`` for a continuous variable; ``"<missing>"`` for the count of
    missing values), ``group`` (``"All"`` or the group value as text), ``group_n``, ``n`` (subjects at this level,
    or with a value), ``n_known`` (with a known value), ``median, q1, q3, minimum, maximum`` (continuous; quartiles
    as R ``quantile()``, type 7), ``p, test``
    (same on every row of a variable; NaN and "" without groups). Categories are sorted (pandas Categorical order
    kept), so the table does not depend on row order.

    Notes
    -----
    Tests as R: categorical -> :func:`compare_categorical`; continuous -> :func:`compare_continuous`.
    """
    compare = {"exact": compare_categorical, "gtsummary": compare_categorical_gtsummary, "none": None}
    if tests not in compare:
        raise InputError(f"tests must be one of {sorted(compare)}, got {tests!r}")
    labels = dict(variables) if isinstance(variables, Mapping) else {v: v for v in variables}
    missing_cols = [c for c in labels if c not in frame.columns]
    if missing_cols:
        raise InputError(f"summarise_by_group: column(s) {missing_cols} not in the table")
    levels = _levels(frame, by)
    subsets = [("All", frame)] + [(str(g), frame[frame[by] == g]) for g in levels]
    rows = []
    for column, label in labels.items():
        series = frame[column]
        is_cat = (column in categorical or pd.api.types.is_bool_dtype(series)
                  or not pd.api.types.is_numeric_dtype(series))
        p, test = math.nan, ""
        if len(levels) >= 2 and tests != "none":
            known = series.notna() & frame[by].notna()
            if known.any():
                p, test = (compare[tests] if is_cat else compare_continuous)(series[known], frame[by][known])
        base = {"variable": column, "label": label, "kind": "categorical" if is_cat else "continuous", "p": p,
                "test": test}
        if is_cat:
            if isinstance(series.dtype, pd.CategoricalDtype):
                categories = list(series.cat.categories)
            else:
                categories = sorted(pd.unique(series.dropna()), key=lambda v: (str(type(v)), v))
            # one hash count per group (not one comparison over the column per category and group)
            counts = [(name, len(sub), sub[column].value_counts(dropna=True), int(sub[column].notna().sum()))
                      for name, sub in subsets]
            for cat in categories:
                for name, size, by_level, n_known in counts:
                    rows.append({**base, "level": cat, "group": name, "group_n": size,
                                 "n": int(by_level.get(cat, 0)), "n_known": n_known})
        else:
            for name, sub in subsets:
                v = pd.to_numeric(sub[column]).dropna()
                q1, q3 = np.quantile(v.to_numpy(float), [0.25, 0.75]) if v.size else (math.nan, math.nan)
                rows.append({**base, "level": None, "group": name, "group_n": len(sub), "n": int(v.size),
                             "n_known": int(v.size), "median": v.median() if v.size else math.nan,
                             "q1": q1, "q3": q3,
                             "minimum": v.min() if v.size else math.nan, "maximum": v.max() if v.size else math.nan})
        if series.isna().any():
            for name, sub in subsets:
                rows.append({**base, "level": "<missing>", "group": name, "group_n": len(sub),
                             "n": int(sub[column].isna().sum()), "n_known": int(sub[column].notna().sum())})
    columns = ["variable", "label", "kind", "level", "group", "group_n", "n", "n_known", "median", "q1", "q3",
               "minimum", "maximum", "p", "test"]
    return pd.DataFrame(rows, columns=columns)
