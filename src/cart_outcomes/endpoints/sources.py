"""Event and censoring sources: the named building blocks every time-to-event endpoint is declared from.

As in pharmaverse ``admiral`` (``event_source()`` / ``censor_source()``), an endpoint is not hand-written logic but a
list of named sources, each reading one day column of the patients table (day 0 = CAR-T infusion), optionally only
for the patients a condition selects. :func:`resolve` picks, for every patient, the source that decides the endpoint:

1. Every source gives each patient a candidate day (missing when the column is empty or the condition is false).
2. The earliest candidate day wins.
3. On a tie, events beat competing events, which beat censorings; within a kind, the source listed first wins.
   So a death on the last follow-up day is an event, and a relapse on the day of HSCT counts as a relapse.
4. Patients with no event, competing event or earlier censoring are censored at their last follow-up day.

The winning source's name is written to ``<endpoint>_source`` so every number traces back to one cell.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from cart_outcomes.endpoints._frame import day_values, patient_list
from cart_outcomes.errors import InputError

__all__ = [
    "DEATH",
    "HSCT",
    "LAST_FOLLOWUP",
    "NEW_THERAPY",
    "PROGRESSION",
    "STATUS_CENSORED",
    "STATUS_COMPETING_DEATH",
    "STATUS_EVENT",
    "STATUS_HSCT",
    "STATUS_LABELS",
    "STATUS_NEW_THERAPY",
    "CensorSource",
    "EventSource",
    "Resolved",
    "resolve",
]

#: ``<endpoint>_status`` codes (stable; the same for every endpoint, ready for competing-risk estimators).
STATUS_CENSORED = 0
STATUS_EVENT = 1
STATUS_COMPETING_DEATH = 2
STATUS_HSCT = 3
STATUS_NEW_THERAPY = 4
STATUS_LABELS = {
    STATUS_CENSORED: "censored",
    STATUS_EVENT: "event",
    STATUS_COMPETING_DEATH: "death without the event (competing)",
    STATUS_HSCT: "allo-HSCT (competing)",
    STATUS_NEW_THERAPY: "new anti-cancer therapy (competing)",
}

Condition = Callable[[pd.DataFrame], np.ndarray]


@dataclass(frozen=True, slots=True)
class EventSource:
    """A day on which the endpoint's event (or a competing event) happens.

    Parameters
    ----------
    name : str
        Written to ``<endpoint>_source`` when this source decides the endpoint (e.g. ``"death"``).
    column : str or None
        Day column of the patients table (days after infusion). ``None`` together with ``fixed_day``.
    description : str
        One line for the methods text.
    where : callable, optional
        ``where(patients) -> bool array``: the source applies only to these patients.
    fixed_day : int, optional
        A constant day instead of a column (e.g. 0 for induction failure dated at time zero).
    status : int
        Status code written to ``<endpoint>_status`` when this source decides (1 for the endpoint's event).
    """

    name: str
    column: str | None
    description: str = ""
    where: Condition | None = None
    fixed_day: int | None = None
    status: int = STATUS_EVENT

    def days(self, patients: pd.DataFrame) -> np.ndarray:
        """Candidate day per patient (float, NaN where the source does not apply)."""
        return _source_days(self, patients)

    def restricted(self, where: Condition, *, name: str | None = None) -> EventSource:
        """The same source applying only where both conditions hold."""
        return EventSource(
            name or self.name, self.column, self.description, _both(self.where, where), self.fixed_day, self.status
        )

    def as_competing(self, status: int, *, name: str | None = None) -> EventSource:
        """The same source recorded as a competing event with status code ``status``."""
        return EventSource(name or self.name, self.column, self.description, self.where, self.fixed_day, status)


@dataclass(frozen=True, slots=True)
class CensorSource:
    """A day on which follow-up for the endpoint stops without an event (e.g. allo-HSCT when it censors)."""

    name: str
    column: str
    description: str = ""
    where: Condition | None = None

    def days(self, patients: pd.DataFrame) -> np.ndarray:
        """Candidate day per patient (float, NaN where the source does not apply)."""
        return _source_days(self, patients)


def _both(a: Condition | None, b: Condition) -> Condition:
    if a is None:
        return b
    return lambda frame: np.asarray(a(frame), dtype=bool) & np.asarray(b(frame), dtype=bool)


def _source_days(source: EventSource | CensorSource, patients: pd.DataFrame) -> np.ndarray:
    fixed = getattr(source, "fixed_day", None)
    if source.column is None:
        if fixed is None:
            raise InputError(f"source {source.name!r} needs a column or a fixed_day")
        days = np.full(len(patients), float(fixed))
    else:
        days = day_values(patients, source.column)
    if source.where is not None:
        keep = np.asarray(source.where(patients), dtype=bool)
        days = np.where(keep, days, np.nan)
    return days


DEATH = EventSource("death", "death_day", "death from any cause")
PROGRESSION = EventSource("progression", "progression_day", "relapse or progression")
HSCT = EventSource("hsct", "hsct_day", "allogeneic HSCT after CAR-T", status=STATUS_HSCT)
NEW_THERAPY = EventSource("new_therapy", "new_therapy_day", "next anti-cancer therapy", status=STATUS_NEW_THERAPY)
LAST_FOLLOWUP = CensorSource("last_followup", "last_followup_day", "last day known alive")

Handling = Literal["ignore", "censor", "competing"]
HANDLINGS = ("ignore", "censor", "competing")


def intercurrent(source: EventSource, handling: str, option: str) -> tuple[list[EventSource], list[CensorSource]]:
    """Competing and censoring sources for an intercurrent event (HSCT, new therapy) under ``handling``."""
    if handling not in HANDLINGS:
        raise InputError(f"{option}={handling!r} is not one of {HANDLINGS}")
    if handling == "censor":
        return [], [CensorSource(f"{source.name}_censor", source.column or "", source.description, source.where)]
    if handling == "competing":
        return [source.as_competing(source.status, name=f"{source.name}_competing")], []
    return [], []


@dataclass(frozen=True, slots=True)
class Resolved:
    """Per-patient outcome of :func:`resolve` (arrays aligned with the patients table)."""

    time: np.ndarray
    event: np.ndarray
    status: np.ndarray
    source: np.ndarray


def resolve(
    patients: pd.DataFrame,
    *,
    events: Sequence[EventSource],
    competing: Sequence[EventSource] = (),
    censors: Sequence[CensorSource] = (),
    origin: np.ndarray | None = None,
    population: np.ndarray | None = None,
    end: CensorSource = LAST_FOLLOWUP,
) -> Resolved:
    """Decide every patient's time, event, status code and source (numbered rules in the module docstring).

    Parameters
    ----------
    patients : DataFrame
        Canonical patients table with integer ``*_day`` columns.
    events, competing, censors : sequences of sources
        In order of precedence within each kind.
    origin : array of float, optional
        Time zero per patient (days after infusion); default 0 (infusion).
    population : bool array, optional
        Patients the endpoint is defined for; others get time NaN, event False, status 0, source
        ``"not_applicable"``.
    end : CensorSource
        End of observation (default: ``last_followup_day``), required for every patient in the population.

    Raises
    ------
    InputError
        When the end of observation is missing, or a source day falls before the origin or after the end of
        observation (naming the patients and the column).
    """
    n = len(patients)
    ids = patient_list(patients)
    base = np.zeros(n) if origin is None else np.asarray(origin, dtype=float)
    inside = np.ones(n, dtype=bool) if population is None else np.asarray(population, dtype=bool)

    end_days = end.days(patients)
    missing = inside & np.isnan(end_days)
    if missing.any():
        raise InputError(f"column {end.column!r}: missing for patient(s) {ids(missing)}; it is required")
    origin_missing = inside & np.isnan(base)
    if origin_missing.any():
        raise InputError(f"time zero is missing for patient(s) {ids(origin_missing)}")

    ordered: list[tuple[EventSource | CensorSource, int]] = [(s, s.status) for s in events]
    ordered += [(s, s.status) for s in competing]
    ordered += [(s, STATUS_CENSORED) for s in censors]
    ordered.append((end, STATUS_CENSORED))

    matrix = np.full((n, len(ordered)), np.inf)
    for j, (source, _) in enumerate(ordered):
        days = source.days(patients)
        present = inside & ~np.isnan(days)
        early = present & (days < base)
        if early.any():
            raise InputError(
                f"column {source.column!r} ({source.name}): day before time zero for patient(s) {ids(early)}"
            )
        late = present & (days > end_days)
        if late.any():
            raise InputError(
                f"column {source.column!r} ({source.name}): day after {end.column!r} for patient(s) {ids(late)}; "
                f"{end.column!r} must be the last day the patient was seen (or the death day)"
            )
        matrix[present, j] = days[present]

    winner = np.argmin(matrix, axis=1)  # first column among equal minima = highest precedence
    rows = np.arange(n)
    names = np.array([s.name for s, _ in ordered], dtype=object)
    codes = np.array([code for _, code in ordered], dtype=np.int64)
    day = matrix[rows, winner]

    time = np.where(inside, day - base, np.nan)
    status = np.where(inside, codes[winner], STATUS_CENSORED)
    source = np.where(inside, names[winner], "not_applicable")
    return Resolved(time=time, event=status == STATUS_EVENT, status=status, source=source)
