"""Exceptions and warnings shared by every part of cart-outcomes.

Input errors subclass both :class:`CartOutcomesError` and :class:`ValueError`, so callers may catch either.
"""

from __future__ import annotations


class CartOutcomesError(Exception):
    """Base class of every error raised on purpose by cart-outcomes."""


class InputError(CartOutcomesError, ValueError):
    """Bad input: the message names the parameter or column, what was expected, and the first offending rows."""


class ValidationFailed(InputError):
    """A cohort has validation errors; ``problems`` lists every one of them."""

    def __init__(self, problems: list, message: str | None = None, *, summary: object | None = None) -> None:
        self.problems = list(problems)
        #: The problems grouped by rule and column with their fixes (a ``cohort._grouping.ProblemSummary``), when
        #: the cohort they come from is known.
        self.summary = summary
        n_err = sum(1 for p in self.problems if getattr(p, "severity", "error") == "error")
        super().__init__(message or f"the cohort has {n_err} validation error(s); nothing was analysed")


class DataQualityWarning(UserWarning):
    """The data are usable but something in them deserves a look (carried into every output)."""


class StatisticalWarning(UserWarning):
    """A statistical method met a situation it handles with a caveat (non-convergence, monotone likelihood, ...)."""
