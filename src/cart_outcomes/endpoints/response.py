"""Response endpoints: day-28 and best response, overall response rate and CR/CRi rate with exact CIs.

Vocabulary (schema): CR, CRi, CRh, PR, SD, NR, PD, NE (NE = not evaluable, e.g. died before the assessment).
Defaults (clinical definitions section 6.3 and the implementation checklist, items 8 and 19): overall response =
CR + CRi + CRh + PR; CR rate = CR + CRi (+ CRh, a CRi with partial count recovery); denominator = all infused
patients, NE and missing assessments counted as non-responders; Clopper-Pearson ("exact") 95% CIs.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from cart_outcomes._result import Result
from cart_outcomes._version import __version__
from cart_outcomes.cohort.schema import CR_RESPONSES, ORR_RESPONSES, RESPONSES
from cart_outcomes.endpoints._frame import (
    check_categories,
    in_categories,
    patient_list,
    require,
    response_values,
)
from cart_outcomes.errors import DataQualityWarning, InputError
from cart_outcomes.stats import binomial_ci

__all__ = ["ResponseRates", "derive_response", "response_rates"]

Denominator = Literal["all_infused", "evaluable"]


def _prefix(column: str, prefix: str | None) -> str:
    if prefix is not None:
        return prefix
    return column.removesuffix("_response") if column.endswith("_response") else column


def derive_response(
    patients: pd.DataFrame,
    *,
    column: str = "day28_response",
    prefix: str | None = None,
    responses: Sequence[str] = ORR_RESPONSES,
    complete_responses: Sequence[str] = CR_RESPONSES,
) -> pd.DataFrame:
    """Responder flags from a response column: ``<prefix>_responder``, ``<prefix>_complete_response``,
    ``<prefix>_evaluable`` (all bool).

    Parameters
    ----------
    patients : DataFrame
        Canonical patients table with the response column.
    column : str
        ``day28_response`` (default) or ``best_response``, or any column using the response vocabulary.
    prefix : str, optional
        Column prefix; default the column name without ``_response`` (``day28``, ``best``).
    responses : sequence of str
        Responses counted as overall response (default CR, CRi, CRh, PR).
    complete_responses : sequence of str
        Responses counted as complete remission (default CR, CRi, CRh).

    Returns
    -------
    DataFrame
        A copy of ``patients`` with the three columns. ``<prefix>_evaluable`` is False for ``NE`` and for a missing
        response; such patients are neither responders nor complete responders.
    """
    require(patients, [column])
    responses = check_categories("responses", responses)
    complete = check_categories("complete_responses", complete_responses)
    values = response_values(patients, column)
    p = _prefix(column, prefix)
    result = patients.copy()
    result[f"{p}_responder"] = in_categories(values, responses)
    result[f"{p}_complete_response"] = in_categories(values, complete)
    result[f"{p}_evaluable"] = np.array([v is not None and v != "NE" for v in values], dtype=bool)
    return result


@dataclass(frozen=True, slots=True)
class ResponseRates(Result):
    """Response rates with exact confidence intervals.

    Attributes
    ----------
    table : DataFrame
        One row per measure: ``measure`` (``"overall_response"``, ``"complete_response"``), ``categories``
        (e.g. ``"CR+CRi+CRh+PR"``), ``responders``, ``n`` (the denominator), ``denominator`` (``"all_infused"`` or
        ``"evaluable"``), ``estimate``, ``lower``, ``upper``, ``method``.
    counts : DataFrame
        ``response, n`` for every category of the vocabulary and ``"missing"``, over all patients.
    excluded : DataFrame
        ``patient_id, reason`` of the patients left out of the denominator (only with ``"evaluable"``).
    options : dict
        column, response sets, denominator, conf_level, ci method and the cart-outcomes version.
    """

    table: pd.DataFrame
    counts: pd.DataFrame
    excluded: pd.DataFrame
    options: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The tidy ``table``."""
        return self.table.copy()


def _exact_ci(k: int, n: int, conf_level: float) -> tuple[float, float, float]:
    """Estimate and Clopper-Pearson interval (R ``binom.test(k, n)$conf.int``); NaN when ``n == 0``."""
    if n == 0:
        return np.nan, np.nan, np.nan
    ci = binomial_ci(k, n, method="clopper-pearson", conf_level=conf_level)
    return ci.estimate, ci.lower, ci.upper


def response_rates(
    patients: pd.DataFrame,
    *,
    column: str = "day28_response",
    responses: Sequence[str] = ORR_RESPONSES,
    complete_responses: Sequence[str] = CR_RESPONSES,
    denominator: Denominator = "all_infused",
    conf_level: float = 0.95,
) -> ResponseRates:
    """Overall response rate and CR rate with exact (Clopper-Pearson) confidence intervals.

    Parameters
    ----------
    patients : DataFrame
        Canonical patients table with the response column (one row per infused patient).
    column : str
        Response column (default ``day28_response``; ``best_response`` for best overall response).
    responses, complete_responses : sequence of str
        Categories counted as response (default CR+CRi+CRh+PR) and as complete remission (default CR+CRi+CRh).
    denominator : {"all_infused", "evaluable"}
        ``"all_infused"`` (default): every row, NE and missing counted as non-responders. ``"evaluable"``: NE and
        missing left out of the denominator and listed in ``excluded``.
    conf_level : float
        Confidence level of the interval (default 0.95).

    Returns
    -------
    ResponseRates

    Warns
    -----
    DataQualityWarning
        When some patients have no response recorded (they are treated like NE).

    Notes
    -----
    R: ``binom.test(sum(resp), n)`` gives the same estimate and interval. Example: 8/12 = 66.7% (95% CI
    34.9-90.1%).
    """
    require(patients, [column])
    responses = check_categories("responses", responses)
    complete = check_categories("complete_responses", complete_responses)
    if denominator not in ("all_infused", "evaluable"):
        raise InputError(f"denominator={denominator!r} is not one of ('all_infused', 'evaluable')")
    if not 0 < conf_level < 1:
        raise InputError(f"conf_level must be between 0 and 1, got {conf_level!r}")
    values = response_values(patients, column)
    ids = patient_list(patients)
    missing = pd.isna(values)
    if missing.any():
        warnings.warn(
            f"column {column!r}: no response recorded for patient(s) {ids(missing)}; treated as not evaluable (NE)",
            DataQualityWarning,
            stacklevel=2,
        )
    not_evaluable = missing | (values == "NE")
    keep = ~not_evaluable if denominator == "evaluable" else np.ones(len(values), dtype=bool)
    n = int(keep.sum())

    rows = []
    for measure, cats in (("overall_response", responses), ("complete_response", complete)):
        k = int((in_categories(values, cats) & keep).sum())
        est, low, high = _exact_ci(k, n, conf_level)
        rows.append(
            {
                "measure": measure,
                "categories": "+".join(cats),
                "responders": k,
                "n": n,
                "denominator": denominator,
                "estimate": est,
                "lower": low,
                "upper": high,
                "method": "clopper-pearson",
            }
        )
    labels = patients["patient_id"].astype(str).to_numpy() if "patient_id" in patients else np.arange(len(values))
    dropped = ~keep
    excluded = pd.DataFrame(
        {
            "patient_id": labels[dropped],
            "reason": np.where(missing[dropped], f"{column} missing", f"{column} = NE (not evaluable)"),
        }
    )
    counts = pd.DataFrame(
        {
            "response": [*RESPONSES, "missing"],
            "n": [int(n) for n in pd.Series(values, dtype=object).value_counts().reindex(RESPONSES, fill_value=0)]
            + [int(missing.sum())],
        }
    )
    options = {
        "column": column,
        "responses": list(responses),
        "complete_responses": list(complete),
        "denominator": denominator,
        "conf_level": conf_level,
        "ci_method": "clopper-pearson (exact)",
        "r_equivalent": "binom.test(x, n)$conf.int per response category",
        "version": __version__,
    }
    return ResponseRates(table=pd.DataFrame(rows), counts=counts, excluded=excluded, options=options)
