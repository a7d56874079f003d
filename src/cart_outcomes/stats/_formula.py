"""Covariate specifications for regression models: a list of columns or an R-style right-hand side.

Supported right-hand side: ``a + b + factor(c) + strata(d, e) + cluster(f)``. Columns of dtype object, string,
category or bool (and anything wrapped in ``factor()``) are dummy-coded against their first level, as R codes a
factor with ``contr.treatment``; level order is the pandas Categorical order when the column is one, else the
sorted unique values. Coefficient names follow R: ``<column><level>`` for dummies, the column name otherwise.
Interactions (``a:b``, ``a*b``) are not supported: build the product column yourself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cart_outcomes.errors import InputError

_CALL = re.compile(r"^(strata|cluster|factor)\((.*)\)$")
_NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")


def _label(level) -> str:
    if isinstance(level, bool | np.bool_):
        return "TRUE" if level else "FALSE"  # R's names for logical levels
    return str(level)


@dataclass(frozen=True, slots=True)
class Term:
    """One model term: a numeric column (``levels is None``) or a factor with its full level list."""

    column: str
    levels: tuple | None = None

    @property
    def names(self) -> list[str]:
        if self.levels is None:
            return [self.column]
        return [f"{self.column}{_label(lev)}" for lev in self.levels[1:]]


@dataclass(frozen=True, slots=True)
class ModelSpec:
    terms: tuple[str, ...]
    factors: frozenset[str]
    strata: tuple[str, ...]
    cluster: str | None


def parse(covariates) -> ModelSpec:
    """Split a covariate list or formula string into terms, forced factors, strata and cluster columns."""
    if isinstance(covariates, str):
        rhs = covariates.split("~", 1)[1] if "~" in covariates else covariates
        parts = [p.strip() for p in rhs.split("+")]
    else:
        parts = [str(p).strip() for p in covariates]
    terms: list[str] = []
    factors: set[str] = set()
    strata: list[str] = []
    cluster: str | None = None
    for part in parts:
        if not part:
            raise InputError(f"covariates: empty term in {covariates!r}")
        m = _CALL.match(part)
        if m:
            fun, args = m.group(1), [a.strip() for a in m.group(2).split(",")]
            for a in args:
                if not _NAME.match(a):
                    raise InputError(f"covariates: {fun}() takes column names, got {a!r} in {part!r}")
            if fun == "strata":
                strata.extend(args)
            elif fun == "cluster":
                if len(args) != 1 or cluster is not None:
                    raise InputError(f"covariates: only one cluster() column is allowed ({covariates!r})")
                cluster = args[0]
            else:
                if len(args) != 1:
                    raise InputError(f"covariates: factor() takes one column, got {part!r}")
                factors.add(args[0])
                terms.append(args[0])
            continue
        if any(ch in part for ch in ":*^()"):
            raise InputError(
                f"covariates: term {part!r} is not supported; use column names, factor(), strata(), cluster() "
                "joined by '+' (build interaction columns yourself)"
            )
        terms.append(part)
    if len(set(terms)) != len(terms):
        raise InputError(f"covariates: a column appears twice in {covariates!r}")
    return ModelSpec(tuple(terms), frozenset(factors), tuple(strata), cluster)


def is_factor(series: pd.Series, forced: bool) -> bool:
    return forced or not (pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series))


def make_terms(frame: pd.DataFrame, spec: ModelSpec, keep: np.ndarray) -> list[Term]:
    """Terms with their levels, taken from the rows kept for the fit (unused levels dropped)."""
    out = []
    for col in spec.terms:
        s = frame[col]
        if not is_factor(s, col in spec.factors):
            out.append(Term(col))
            continue
        kept = s[keep]
        if isinstance(s.dtype, pd.CategoricalDtype):
            present = set(kept.dropna().unique())
            levels = tuple(c for c in s.cat.categories if c in present)
        else:
            levels = tuple(sorted(kept.dropna().unique()))
        if len(levels) < 2:
            raise InputError(
                f"covariate {col!r} has a single value ({levels[0] if levels else 'none'!r}) in the "
                f"{int(keep.sum())} rows used; its coefficient cannot be estimated (R reports NA). Remove it."
            )
        out.append(Term(col, levels))
    return out


def design(frame: pd.DataFrame, terms: list[Term], *, where: str = "data") -> np.ndarray:
    """The model matrix (no intercept) for ``frame``; unknown factor levels raise InputError."""
    cols = []
    for term in terms:
        s = frame[term.column]
        if term.levels is None:
            try:
                cols.append(np.asarray(s, dtype=float)[:, None])
            except (TypeError, ValueError):
                raise InputError(f"{where}: covariate {term.column!r} must be numeric") from None
            continue
        values = np.asarray(s, dtype=object)
        known = pd.Series(values).isin(term.levels).to_numpy()
        if not known.all():
            bad = np.flatnonzero(~known)[:5].tolist()
            raise InputError(
                f"{where}: covariate {term.column!r} has a level not seen in the fit in row(s) {bad} "
                f"(levels: {list(term.levels)})"
            )
        cols.append(np.column_stack([values == lev for lev in term.levels[1:]]).astype(float))
    return np.hstack(cols) if cols else np.empty((len(frame), 0))
