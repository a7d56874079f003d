"""R ``survival::finegray()``: the data expansion that turns a Fine-Gray model into a weighted Cox model.

Fitting ``cox_ph(fg, "fgstop", "fgstatus", covariates, start="fgstart", weights="fgwt")`` on the expanded data is
R's ``coxph(Surv(fgstart, fgstop, fgstatus) ~ ..., weights = fgwt, data = finegray(...))``: the same coefficients
as ``cmprsk::crr`` (:func:`cart_outcomes.stats.fine_gray`) when no times are tied, with R's tie convention for the
censoring weights otherwise, and the robust (infinitesimal jackknife) variance that ``coxph`` uses by default for
the non-integer weights (one cluster per expanded row, as R; crr's variance also accounts for estimating the
censoring distribution, so the standard errors of the two differ).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cart_outcomes.errors import InputError
from cart_outcomes.stats import _inputs


def finegray(
    data: Any,
    time: str,
    event: str,
    cause: Any = 1,
    *,
    censor: Any = 0,
    strata: str | list[str] | None = None,
    weights: str | None = None,
    prefix: str = "fg",
) -> pd.DataFrame:
    """Expand competing-risks data for a Fine-Gray model, as R ``survival::finegray``.

    R equivalent::

        finegray(Surv(time, factor(event)) ~ ., data, etype = cause)       # + strata(s), weights = w

    Parameters
    ----------
    data : DataFrame, one row per subject (right-censored data).
    time, event : columns of the follow-up time (> 0 not required) and the event code: ``censor`` for censored,
        ``cause`` for the event of interest, any other non-missing value for a competing event.
    cause, censor : the codes of the event of interest and of censoring (R ``etype`` and the first factor level).
    strata : column(s) with separate censoring distributions (R ``strata()`` in the formula); a stratum without an
        event of interest contributes no rows, as in R.
    weights : case-weight column, multiplied into ``fgwt`` (R ``weights=``).
    prefix : prefix of the added columns (R ``prefix``).

    Returns
    -------
    DataFrame: the rows of ``data`` (all columns, index kept, so repeated rows share their label), stratum by
    stratum, with ``fgstart, fgstop, fgstatus, fgwt``. Subjects censored or with the event of interest keep one row
    (start, time], status 1 for the event of interest. A subject with a competing event stays at risk: its row is
    extended to the next censoring time and followed by one row per later censoring interval that contains an event
    of interest, each weighted by G(end of previous interval) / G(its own time), G the censoring Kaplan-Meier.

    Notes
    -----
    1. ``fgstart`` is 0, or ``2 * min(time) - 1`` when some time is <= 0 (R).
    2. G is the Kaplan-Meier of censoring within the stratum, unweighted, with censorings at a tied time counted
       after the events (R moves event times 0.2 of a rank earlier); its jumps cut the time axis into intervals
       (previous censoring time, censoring time], the last ending at the largest time of the stratum.
    3. Only intervals containing an event of interest are added (R ``keep``); times are compared exactly (R's
       ``timefix`` is not applied). (start, stop] input (R's ``id`` with counting-process data) is not supported.

    References
    ----------
    Fine JP, Gray RJ (1999) A proportional hazards model for the subdistribution of a competing risk. JASA
    94:496-509. Geskus RB (2011) Cause-specific cumulative incidence estimation and the Fine and Gray model under
    both left truncation and right censoring. Biometrics 67:39-49. Therneau T, Crowson C, Atkinson E, "Multi-state
    models and competing risks", survival package vignette (``finegray``).
    """
    frame = _inputs.as_frame(data)
    if not isinstance(frame, pd.DataFrame):
        raise InputError("data: give a DataFrame with one row per subject")
    for col in [time, event] + _inputs.names(strata) + ([weights] if weights is not None else []):
        if col not in frame:
            raise InputError(f"column {col!r} is not in the data (columns: {list(frame.columns)})")
    t = _inputs.times(np.asarray(frame[time]), time, allow_negative=True)
    ev = frame[event].to_numpy(dtype=object)
    bad = pd.isna(frame[event]).to_numpy()
    if bad.any():
        raise InputError(f"column {event!r}: missing event code in {_inputs.rows(bad)}")
    is_cause = np.array([v == cause for v in ev], dtype=bool)
    is_cens = np.array([v == censor for v in ev], dtype=bool)
    if not is_cause.any():
        raise InputError(f"column {event!r}: no event of interest (cause={cause!r}) in the data")
    if weights is not None:
        w = _inputs.weights(np.asarray(frame[weights]), weights, t.size)
        if (w <= 0).any():
            raise InputError(f"column {weights!r}: weights must be > 0; bad value in {_inputs.rows(w <= 0)}")
    else:
        w = np.ones(t.size)
    if strata:
        cols = _inputs.names(strata)
        miss = frame[cols].isna().any(axis=1).to_numpy()
        if miss.any():
            raise InputError(f"strata: missing value in {_inputs.rows(miss)}")
        stratum = pd.MultiIndex.from_frame(frame[cols]).factorize(sort=True)[0] if len(cols) > 1 else (
            pd.factorize(frame[cols[0]], sort=True)[0])  # fmt: skip
    else:
        stratum = np.zeros(t.size, dtype=np.int64)
    zero = 0.0 if t.min() > 0 else 2 * t.min() - 1
    pieces = [_expand_stratum(np.flatnonzero(stratum == s), t, is_cause, is_cens) for s in np.unique(stratum)]
    rows = np.concatenate([p[0] for p in pieces])
    out = frame.iloc[rows].copy()
    out[prefix + "start"] = np.where(np.isnan(np.concatenate([p[1] for p in pieces])), zero,
                                     np.concatenate([p[1] for p in pieces]))  # fmt: skip
    out[prefix + "stop"] = np.concatenate([p[2] for p in pieces])
    out[prefix + "status"] = is_cause[rows].astype(int)
    out[prefix + "wt"] = np.concatenate([p[3] for p in pieces]) * w[rows]
    return out


def _expand_stratum(idx: np.ndarray, t_all: np.ndarray, cause_all: np.ndarray, cens_all: np.ndarray):
    """(row, start (NaN = the common start), stop, weight) of one stratum's expanded rows, R's C ``finegray``."""
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0), np.zeros(0))
    t, is_cause, is_cens = t_all[idx], cause_all[idx], cens_all[idx]
    if not is_cause.any():
        return empty
    # censoring KM, censorings after events at tied times: at risk at c = time > c, or censored at c
    ctime, ncens = np.unique(t[is_cens], return_counts=True)
    ts = np.sort(t)
    nrisk = ts.size - np.searchsorted(ts, ctime, "left")
    nrisk = nrisk - (np.searchsorted(np.sort(t[~is_cens]), ctime, "right")
                     - np.searchsorted(np.sort(t[~is_cens]), ctime, "left"))  # fmt: skip
    cprob = np.cumprod(1 - ncens / nrisk)
    ct2 = np.append(ctime, t.max())
    cp2 = np.concatenate([[1.0], cprob])
    keep = np.zeros(ct2.size, dtype=bool)
    keep[np.unique(np.searchsorted(ct2, np.unique(t[is_cause]), "left"))] = True  # interval (ct2[j-1], ct2[j]]
    rows, start, stop, wt = [], [], [], []
    for i in range(idx.size):
        rows.append(idx[i])
        start.append(np.nan)
        if is_cause[i] or is_cens[i]:
            stop.append(t[i])
            wt.append(1.0)
            continue
        j = int(np.searchsorted(ct2, t[i], "left"))  # first cut at or after the competing event
        stop.append(ct2[j])
        wt.append(1.0)
        later = np.flatnonzero(keep[j + 1 :]) + j + 1
        rows.extend([idx[i]] * later.size)
        start.extend(ct2[later - 1])
        stop.extend(ct2[later])
        wt.extend(cp2[later] / cp2[j])
    return np.array(rows, dtype=np.int64), np.array(start), np.array(stop), np.array(wt)
