"""Multiple comparisons: p-value adjustment (R ``p.adjust``) and pairwise two-group tests of survival and of
cumulative incidence (R ``survminer::pairwise_survdiff``, and the same scheme with ``cmprsk::cuminc``).

Each pair is tested on the subjects of its two groups only (not with the pooled variance of all groups), as
``pairwise_survdiff`` does; the p-values of all pairs are then adjusted together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from cart_outcomes._result import Result
from cart_outcomes.errors import InputError
from cart_outcomes.stats import _common, _inputs

__all__ = ["ADJUSTMENTS", "PairwiseTests", "p_adjust", "pairwise_gray_test", "pairwise_logrank_test"]

#: Adjustment methods of :func:`p_adjust` (R ``p.adjust`` names).
ADJUSTMENTS = ("holm", "bonferroni", "none")


def p_adjust(p: Sequence[float], method: str = "holm") -> np.ndarray:
    """Adjusted p-values, as R ``p.adjust(p, method)`` for ``"holm"``, ``"bonferroni"`` and ``"none"``.

    NaN p-values are kept as NaN and not counted in ``n`` (R: ``n = length(p[!is.na(p)])``).

    1. Bonferroni: ``min(1, n p)``.
    2. Holm: sort ascending; ``p_(i) (n - i + 1)`` for i = 1..n, running maximum, capped at 1; back to input order.
    """
    if method not in ADJUSTMENTS:
        raise InputError(f"p-value adjustment must be one of {ADJUSTMENTS}, got {method!r}")
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    n = q.size
    if method == "none" or n == 0:
        out[ok] = q
    elif method == "bonferroni":
        out[ok] = np.minimum(1.0, n * q)
    else:
        order = np.argsort(q, kind="stable")
        adj = np.minimum(1.0, np.maximum.accumulate((n - np.arange(n)) * q[order]))
        res = np.empty(n)
        res[order] = adj
        out[ok] = res
    return out


@dataclass(frozen=True, slots=True)
class PairwiseTests(Result):
    """Pairwise two-group tests with adjusted p-values.

    ``table``: ``group1, group2, n, statistic, df, p, p_adjusted`` (one row per pair, ``group2`` before ``group1``
    in level order: R's lower triangle read by rows); ``options``: the test, the adjustment and the R call.
    """

    table: pd.DataFrame
    groups: tuple
    options: Any

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def _levels(data: Any, by: Any) -> tuple[pd.DataFrame, str, list]:
    frame = _inputs.as_frame(data)
    if frame is None or not isinstance(by, str):
        raise InputError("pairwise tests take a DataFrame and the name of its group column")
    values, label = _inputs.column(frame, by, "by", categorical=True)
    _codes, levels = _inputs.groups(values, label, len(frame), min_levels=2)
    return frame, label, list(levels)


def _pairs(frame: pd.DataFrame, by: str, levels: list, test) -> pd.DataFrame:
    rows = []
    for i, j in combinations(range(len(levels)), 2):
        a, b = levels[i], levels[j]
        sub = frame[frame[by].isin([a, b])].copy()
        sub[by] = pd.Categorical(sub[by], categories=[a, b])
        stat, df, p = test(sub)
        rows.append({"group1": b, "group2": a, "n": int(len(sub)), "statistic": stat, "df": df, "p": p})
    return pd.DataFrame(rows, columns=["group1", "group2", "n", "statistic", "df", "p"])


def pairwise_logrank_test(data: Any, time: str, event: str, by: str, adjust: str = "holm") -> PairwiseTests:
    """Log-rank test of every pair of groups, p-values adjusted for the number of pairs.

    R equivalent: ``survminer::pairwise_survdiff(Surv(time, event) ~ by, data, p.adjust.method = adjust)``, i.e.
    ``survdiff`` on the rows of each pair, then ``p.adjust`` over all pairs.
    """
    from cart_outcomes.stats.logrank import logrank_test

    if adjust not in ADJUSTMENTS:
        raise InputError(f"adjust must be one of {ADJUSTMENTS}, got {adjust!r}")
    frame, label, levels = _levels(data, by)

    def test(sub: pd.DataFrame) -> tuple[float, int, float]:
        lr = logrank_test(sub, time, event, by=label)
        return lr.statistic, lr.df, lr.p_value

    table = _pairs(frame, label, levels, test)
    table["p_adjusted"] = p_adjust(table["p"].to_numpy(float), adjust)
    return PairwiseTests(table, tuple(levels), _common.options(
        method="log-rank (survdiff) on each pair", adjust=adjust, by=label,
        r_equivalent=f'survminer::pairwise_survdiff(Surv({time}, {event}) ~ {label}, p.adjust.method = "{adjust}")'))


def pairwise_gray_test(data: Any, time: str, event: str, by: str, cause: Any, adjust: str = "holm",
                       **kwargs: Any) -> PairwiseTests:
    """Gray's test of every pair of groups for one cause, p-values adjusted for the number of pairs.

    R equivalent: for each pair, ``cmprsk::cuminc(time, status, group)$Tests[cause, ]`` on the rows of the pair,
    then ``p.adjust(p, method = adjust)``. ``kwargs`` go to :func:`~cart_outcomes.stats.gray_test` (``causes``,
    ``censor``, ``rho``).
    """
    from cart_outcomes.stats.competing import gray_test

    if adjust not in ADJUSTMENTS:
        raise InputError(f"adjust must be one of {ADJUSTMENTS}, got {adjust!r}")
    frame, label, levels = _levels(data, by)

    def test(sub: pd.DataFrame) -> tuple[float, int, float]:
        row = gray_test(sub, time, event, by=label, cause=cause, **kwargs).table.iloc[0]
        return float(row["statistic"]), int(row["df"]), float(row["p"])

    table = _pairs(frame, label, levels, test)
    table["p_adjusted"] = p_adjust(table["p"].to_numpy(float), adjust)
    return PairwiseTests(table, tuple(levels), _common.options(
        method="Gray's test on each pair", cause=cause, adjust=adjust, by=label,
        r_equivalent=f'p.adjust(cmprsk::cuminc({time}, {event}, {label})$Tests[cause, "pv"] per pair, "{adjust}")'))
