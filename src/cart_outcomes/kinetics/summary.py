"""Group summaries of kinetic parameters and persistence rates, as papers report them.

Exposure parameters (Cmax, AUC, Clast) are log-normally distributed, so they are summarised by the geometric mean
with its geometric coefficient of variation, next to the median and range; Tmax (a day) by median and range only
(clinical-definitions section 9; Mueller et al., Clin Cancer Res 2018). Groups are compared with rank tests from
:mod:`cart_outcomes.stats`: the Wilcoxon rank-sum (Mann-Whitney) test for two groups, Kruskal-Wallis for more, and
Spearman's rank correlation for an ordered grouping such as the maximum CRS grade.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cart_outcomes._result import Result
from cart_outcomes._version import __version__
from cart_outcomes.errors import InputError, StatisticalWarning
from cart_outcomes.stats import binomial_ci, kruskal_wallis, spearman, wilcoxon_rank_sum

__all__ = ["KineticsSummary", "persistence_rates", "summarize_kinetics"]

SERIES = ["matrix", "assay", "unit"]
#: Parameters summarised on the log scale (geometric mean and CV%); the others by median and range only.
GEOMETRIC = ("cmax", "auc", "clast")
TESTS = ("auto", "wilcoxon", "kruskal", "spearman", "none")


@dataclass(frozen=True, slots=True)
class KineticsSummary(Result):
    """``table``: one row per series x parameter x group; ``tests``: one row per series x parameter;
    ``excluded``: patients left out (no group value) and why; ``options``: test rule, formulas, version."""

    table: pd.DataFrame
    tests: pd.DataFrame
    excluded: pd.DataFrame
    options: dict[str, Any]

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def _geometric(values: np.ndarray) -> tuple[int, float, float]:
    """(number of positive values, geometric mean, geometric CV% = 100 sqrt(exp(sd(log x)^2) - 1))."""
    pos = values[values > 0]
    if not pos.size:
        return 0, np.nan, np.nan
    logs = np.log(pos)
    cv = 100.0 * np.sqrt(np.expm1(np.var(logs, ddof=1))) if pos.size > 1 else np.nan
    return int(pos.size), float(np.exp(logs.mean())), float(cv)


def _choose_test(test: str, levels: pd.Series) -> str:
    if test != "auto":
        return test
    numeric = pd.api.types.is_numeric_dtype(levels) and not pd.api.types.is_bool_dtype(levels)
    n_levels = levels.nunique()
    if numeric and n_levels > 2:
        return "spearman"
    return "wilcoxon" if n_levels == 2 else ("kruskal" if n_levels > 2 else "none")


def _test_row(kind: str, data: pd.DataFrame, parameter: str, by: str) -> dict[str, Any]:
    """One test row; a StatisticalWarning (e.g. every value tied: p undefined, NaN as in R) goes into ``note``."""
    d = data[[parameter, by]].dropna()
    row: dict[str, Any] = {"test": kind, "method": "", "statistic": np.nan, "estimate": np.nan, "p_value": np.nan,
                           "n": len(d), "note": ""}
    if kind == "none" or d[by].nunique() < 2:
        return row
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StatisticalWarning)
        _run_test(kind, d, parameter, by, row)
    row["note"] = "; ".join(str(w.message) for w in caught if issubclass(w.category, StatisticalWarning))
    return row


def _run_test(kind: str, d: pd.DataFrame, parameter: str, by: str, row: dict[str, Any]) -> None:
    values, levels = d[parameter].to_numpy(float), d[by]
    if kind == "spearman":
        res = spearman(values, levels.to_numpy(float))
        row.update(method=res.method, statistic=res.statistic, estimate=res.rho, p_value=res.p_value)
    elif kind == "wilcoxon":
        first, second = sorted(levels.unique(), key=str)[:2] if levels.nunique() == 2 else (None, None)
        if first is None:
            raise InputError(f"test='wilcoxon' needs exactly 2 groups in {by!r}, found {levels.nunique()}")
        res = wilcoxon_rank_sum(values[(levels == first).to_numpy()], values[(levels == second).to_numpy()])
        row.update(method=res.method, statistic=res.statistic, p_value=res.p_value)
    else:
        res = kruskal_wallis(values, levels.to_numpy())
        row.update(method=res.method, statistic=res.statistic, p_value=res.p_value)


def summarize_kinetics(nca: Any, groups: pd.DataFrame, *, by: str,
                       parameters: Sequence[str] = ("cmax", "auc", "tmax_days"), test: str = "auto",
                       order: Sequence[Any] | None = None) -> KineticsSummary:
    """Kinetic parameters by group: n, geometric mean (CV%), median (range), and the comparison test.

    Parameters
    ----------
    nca : a :class:`~cart_outcomes.kinetics.nca.NCAResult` or its ``table`` (one row per patient and series).
    groups : one row per patient: ``patient_id`` and the grouping column ``by`` (e.g. responder, CRS grade).
    by : the grouping column.
    parameters : columns of the NCA table to summarise. Cmax, AUC and Clast get geometric statistics over the
        patients with a positive value (``n_positive``; a patient without quantifiable expansion has 0); every
        parameter gets median and range over its non-missing values.
    test : {"auto", "wilcoxon", "kruskal", "spearman", "none"}
        "auto": Spearman's rank correlation when ``by`` is numeric with more than two levels (an ordinal grade),
        the Wilcoxon rank-sum test for two groups, Kruskal-Wallis for more.
    order : display order of the groups (default: sorted).

    Returns
    -------
    KineticsSummary
        ``table`` columns: matrix, assay, unit, parameter, group, n, n_positive, geo_mean, geo_cv_pct, median,
        minimum, maximum. ``tests``: matrix, assay, unit, parameter, by, test, method, statistic, estimate (rho for
        Spearman), p_value, n, note (why a p-value is
        missing, e.g. every value tied). Patients without a value of ``by`` are left out and listed in ``excluded``.

    Equivalent R calls::

        exp(mean(log(x))); 100 * sqrt(exp(sd(log(x))^2) - 1)
        wilcox.test(x ~ g); kruskal.test(x ~ g); cor.test(x, grade, method = "spearman")
    """
    table = nca.table if hasattr(nca, "table") else nca
    if test not in TESTS:
        raise InputError(f"test must be one of {list(TESTS)}, got {test!r}")
    for name, frame, need in (("nca", table, ["patient_id", *SERIES, *parameters]), ("groups", groups,
                                                                                     ["patient_id", by])):
        missing = [c for c in need if c not in frame.columns]
        if missing:
            raise InputError(f"{name} has no column(s) {missing}")
    if groups["patient_id"].duplicated().any():
        dup = groups.loc[groups["patient_id"].duplicated(), "patient_id"].tolist()
        raise InputError(f"groups must have one row per patient; repeated patient_id: {dup[:5]}")
    level = table["patient_id"].map(groups.set_index("patient_id")[by])
    data = table.assign(**{by: level})
    lost = data[level.isna()]
    excluded = pd.DataFrame({"patient_id": lost["patient_id"].drop_duplicates().tolist()}, columns=["patient_id"])
    excluded["reason"] = f"no value of {by!r}"
    data = data[level.notna()]
    kind = _choose_test(test, groups[by].dropna())
    levels = list(order) if order is not None else sorted(data[by].unique(), key=lambda v: (str(type(v)), v))

    rows, tests = [], []
    for key, series in data.groupby(SERIES, sort=True):
        for parameter in parameters:
            for group in levels:
                values = series.loc[series[by] == group, parameter].to_numpy(float)
                values = values[np.isfinite(values)]
                n_pos, gm, cv = _geometric(values) if parameter in GEOMETRIC else (np.nan, np.nan, np.nan)
                rows.append({**dict(zip(SERIES, key, strict=True)), "parameter": parameter, "group": group,
                             "n": values.size, "n_positive": n_pos, "geo_mean": gm, "geo_cv_pct": cv,
                             "median": float(np.median(values)) if values.size else np.nan,
                             "minimum": values.min() if values.size else np.nan,
                             "maximum": values.max() if values.size else np.nan})
            tests.append({**dict(zip(SERIES, key, strict=True)), "parameter": parameter, "by": by,
                          **_test_row(kind, series, parameter, by)})
    options = {"by": by, "test": kind, "geometric": "exp(mean(log x)) over positive values; CV% = "
               "100 * sqrt(exp(sd(log x)^2) - 1)",
               "r_equivalent": "wilcox.test / kruskal.test / cor.test(method = 'spearman') by parameter",
               "version": __version__}
    return KineticsSummary(pd.DataFrame(rows), pd.DataFrame(tests), excluded.reset_index(drop=True), options)


def persistence_rates(nca: Any, *, conf_level: float = 0.95) -> pd.DataFrame:
    """Percent of evaluable patients with detectable CAR at each landmark month, with exact CIs.

    Parameters
    ----------
    nca : a :class:`~cart_outcomes.kinetics.nca.NCAResult` (its ``persistence`` frame: one row per series and
        month with status "detectable", "undetectable" or "not_evaluable").
    conf_level : level of the Clopper-Pearson interval (R ``binom.test``).

    Returns
    -------
    DataFrame with matrix, assay, unit, month, landmark_day, n_detectable, n_evaluable, n_not_evaluable, percent,
    lower, upper (proportions; NaN when no patient is evaluable).
    """
    p = nca.persistence
    status = p["status"]
    counts = (p.assign(det=status.eq("detectable"), ev=status.isin(["detectable", "undetectable"]),
                       ne=status.eq("not_evaluable"))
              .groupby([*SERIES, "month", "landmark_day"], sort=True)[["det", "ev", "ne"]].sum().reset_index())
    lo, hi = [], []
    for x, n in zip(counts["det"], counts["ev"], strict=True):
        ci = binomial_ci(int(x), int(n), conf_level=conf_level) if n else None
        lo.append(np.nan if ci is None else ci.lower)
        hi.append(np.nan if ci is None else ci.upper)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(counts["ev"] > 0, 100.0 * counts["det"] / counts["ev"].where(counts["ev"] > 0), np.nan)
    return counts.rename(columns={"det": "n_detectable", "ev": "n_evaluable", "ne": "n_not_evaluable"}).assign(
        percent=pct, lower=lo, upper=hi)
