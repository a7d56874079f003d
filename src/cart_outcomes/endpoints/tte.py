"""Time-to-event endpoints of a CAR-T cohort: OS, PFS, EFS, RFS, DOR and relapse / non-relapse mortality.

Every ``derive_*`` function takes the canonical patients table (one row per infused patient, integer ``*_day``
columns with day 0 = infusion) and returns a copy with four new columns, never touching the input:

``<ep>_time_days``  float, days from the endpoint's time zero (NaN for patients outside its population)
``<ep>_event``      bool, True when the endpoint's event ended follow-up
``<ep>_status``     int, 0 censored, 1 event, 2 death without the event (competing), 3 allo-HSCT (competing),
                    4 new therapy (competing); see :data:`~cart_outcomes.endpoints.sources.STATUS_LABELS`
``<ep>_source``     str, the name of the source that decided (``"death"``, ``"progression"``, ``"no_response"``,
                    ``"last_followup"``, ``"hsct_censor"``, ``"hsct_competing"``, ``"not_applicable"`` ...)

The endpoints are declared from the named sources of :mod:`cart_outcomes.endpoints.sources` and resolved with its
numbered precedence rules (earliest day wins; on a tie event > competing event > censoring). The defaults follow
the toolkit's clinical definitions (section 7.1, from Kanate 2020, Li 2022 and the ELIANA update, Laetsch 2023):
time zero is the infusion; subsequent allo-HSCT and new therapy do not censor (``"ignore"``), with ``"censor"`` and
``"competing"`` as documented alternatives; a non-responder's PFS/EFS event is dated at the response assessment
(``"assessment"``), with ``"day0"`` as the alternative (ELN induction-failure convention).

Equivalent R for OS: ``Surv(ifelse(is.na(death_day), last_followup_day, death_day), !is.na(death_day))``.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from cart_outcomes.cohort.schema import CR_RESPONSES, NON_RESPONSES, ORR_RESPONSES
from cart_outcomes.endpoints._frame import (
    check_categories,
    day_values,
    in_categories,
    patient_list,
    require,
    response_values,
)
from cart_outcomes.endpoints.sources import (
    DEATH,
    HSCT,
    LAST_FOLLOWUP,
    NEW_THERAPY,
    PROGRESSION,
    STATUS_COMPETING_DEATH,
    CensorSource,
    EventSource,
    Handling,
    intercurrent,
    resolve,
)
from cart_outcomes.errors import InputError

__all__ = [
    "CR_RESPONSES",
    "ORR_RESPONSES",
    "SOURCE_DESCRIPTIONS",
    "chained",
    "derive_cir_nrm",
    "derive_dor",
    "derive_efs",
    "derive_os",
    "derive_pfs",
    "derive_rfs",
    "derive_time_to_event",
    "undated_message",
    "undated_responders",
]

FailureDay = Literal["assessment", "day0"]

#: One line for every source name a ``derive_*`` endpoint writes to ``<ep>_source`` (CDISC ADaM's EVNTDESC and
#: CNSDTDSC are written from it).
SOURCE_DESCRIPTIONS = {
    "death": DEATH.description,
    "progression": PROGRESSION.description,
    "relapse": "relapse or progression",
    "no_response": "no response at the response assessment",
    "induction_failure": "no complete remission at the response assessment (induction failure)",
    "death_censor": "death without progression (censored)",
    "last_followup": LAST_FOLLOWUP.description,
    **{f"{s.name}_{how}": f"{s.description} ({how}ed)" if how == "censor" else f"{s.description} (competing)"
       for s in (HSCT, NEW_THERAPY) for how in ("censor", "competing")},
    "not_applicable": "not in the endpoint's population",
    "adtte_event": "event as given in the ADaM ADTTE (CNSR = 0)",
    "adtte_censor": "censored as given in the ADaM ADTTE (CNSR > 0)",
}


#: True inside :func:`chained`: each ``derive_*`` builds its new frame over the columns of its input.
_CHAINED = contextvars.ContextVar("cart_outcomes_endpoint_chain", default=False)


@contextlib.contextmanager
def chained() -> Iterator[None]:
    """Derive several endpoints in a row on a frame the caller owns (and changes nowhere else): inside this
    context each ``derive_*`` returns a new frame that shares its input's columns and adds its own, instead of a
    deep copy of the whole table per endpoint (at 100,000 patients and 70 columns a copy costs about 40 ms, and a
    run derives 7 endpoints twice). Outside it every ``derive_*`` returns a deep copy, as documented."""
    token = _CHAINED.set(True)
    try:
        yield
    finally:
        _CHAINED.reset(token)


def _new_frame(patients: pd.DataFrame) -> pd.DataFrame:
    return patients.copy(deep=not _CHAINED.get())


def derive_time_to_event(
    patients: pd.DataFrame,
    *,
    prefix: str,
    events: Sequence[EventSource],
    competing: Sequence[EventSource] = (),
    censors: Sequence[CensorSource] = (),
    origin: str | None = None,
    population: np.ndarray | None = None,
) -> pd.DataFrame:
    """Any time-to-event endpoint from named sources; the building block of the ``derive_*`` endpoints.

    Parameters
    ----------
    patients : DataFrame
        Canonical patients table (``last_followup_day`` required).
    prefix : str
        Endpoint name used for the new columns (``"os"`` gives ``os_time_days``, ``os_event``, ...).
    events, competing, censors : sequences of sources
        Each in order of precedence.
    origin : str, optional
        Day column used as time zero (default: the infusion, day 0).
    population : bool array, optional
        Patients the endpoint applies to (others get ``<prefix>_source == "not_applicable"``).

    Returns
    -------
    DataFrame
        A copy of ``patients`` with ``<prefix>_time_days``, ``<prefix>_event``, ``<prefix>_status`` and
        ``<prefix>_source``.

    Notes
    -----
    Precedence (see :mod:`cart_outcomes.endpoints.sources`): 1. each source proposes a day; 2. the earliest day
    wins; 3. ties: event > competing > censoring, then the order given; 4. otherwise censored at last follow-up.
    """
    if not isinstance(prefix, str) or not prefix.isidentifier() or prefix != prefix.lower():
        raise InputError(f"prefix must be a lower-case identifier such as 'pfs', got {prefix!r}")
    require(patients, ["last_followup_day"])
    base = None if origin is None else day_values(patients, origin)
    out = resolve(patients, events=events, competing=competing, censors=censors, origin=base, population=population)
    result = _new_frame(patients)
    result[f"{prefix}_time_days"] = out.time
    result[f"{prefix}_event"] = out.event
    result[f"{prefix}_status"] = out.status
    result[f"{prefix}_source"] = out.source
    return result


def _intercurrent(hsct: Handling, new_therapy: Handling) -> tuple[list[EventSource], list[CensorSource]]:
    comp_h, cens_h = intercurrent(HSCT, hsct, "hsct")
    comp_n, cens_n = intercurrent(NEW_THERAPY, new_therapy, "new_therapy")
    return comp_h + comp_n, cens_h + cens_n


def _failure_source(
    patients: pd.DataFrame,
    *,
    name: str,
    response_column: str,
    failing: tuple[str, ...],
    day: str,
    option: str,
) -> EventSource:
    """Event for evaluated patients whose response is in ``failing``, dated at the assessment or at day 0."""
    if day not in ("assessment", "day0"):
        raise InputError(f"{option}={day!r} is not one of ('assessment', 'day0')")

    def where(frame: pd.DataFrame) -> np.ndarray:
        return in_categories(response_values(frame, response_column), failing)

    fails = where(patients)

    if day == "day0":
        return EventSource(name, None, f"{response_column} in {failing}, dated at day 0", where=where, fixed_day=0)
    assess = day_values(patients, "response_assessment_day")
    dated_otherwise = np.zeros(len(patients), dtype=bool)
    if "progression_day" in patients.columns:
        dated_otherwise = ~np.isnan(day_values(patients, "progression_day"))
    undated = fails & np.isnan(assess) & ~dated_otherwise
    if undated.any():
        raise InputError(
            f"{option}='assessment' dates the failure at 'response_assessment_day', which is missing for "
            f"patient(s) {patient_list(patients)(undated)} ({response_column} in {failing}); fill it in or use "
            f"{option}='day0'"
        )
    return EventSource(
        name, "response_assessment_day", f"{response_column} in {failing}, dated at the assessment", where=where
    )


def derive_os(patients: pd.DataFrame, *, hsct: Handling = "ignore", new_therapy: Handling = "ignore") -> pd.DataFrame:
    """Overall survival from infusion: columns ``os_time_days``, ``os_event``, ``os_status``, ``os_source``.

    Parameters
    ----------
    patients : DataFrame
        Canonical patients table: ``death_day``, ``last_followup_day`` (plus ``hsct_day`` / ``new_therapy_day``
        when those options are not ``"ignore"``).
    hsct, new_therapy : {"ignore", "censor", "competing"}
        Subsequent allo-HSCT / new anti-cancer therapy: not censored (default), censored on that day
        (source ``"hsct_censor"``), or a competing event (status 3 / 4).

    Notes
    -----
    1. Event ``death`` on ``death_day`` (any cause).
    2. If requested, HSCT / new therapy strictly before death censors or competes on its day.
    3. Otherwise censored on ``last_followup_day`` (``last_followup``).

    R: ``Surv(ifelse(is.na(death_day), last_followup_day, death_day), !is.na(death_day))``.
    """
    competing, censors = _intercurrent(hsct, new_therapy)
    return derive_time_to_event(patients, prefix="os", events=[DEATH], competing=competing, censors=censors)


def derive_pfs(
    patients: pd.DataFrame,
    *,
    hsct: Handling = "ignore",
    new_therapy: Handling = "ignore",
    nonresponder_event: FailureDay = "assessment",
    response_column: str = "best_response",
    responses: Sequence[str] = ORR_RESPONSES,
) -> pd.DataFrame:
    """Progression-free survival from infusion: ``pfs_time_days``, ``pfs_event``, ``pfs_status``, ``pfs_source``.

    Parameters
    ----------
    patients : DataFrame
        Canonical patients table: ``progression_day``, ``death_day``, ``last_followup_day``,
        ``response_assessment_day`` and the response column.
    hsct, new_therapy : {"ignore", "censor", "competing"}
        As in :func:`derive_os`; default ``"ignore"`` (PFS "without censoring for HSCT").
    nonresponder_event : {"assessment", "day0"}
        Day of the PFS event of a patient who never responded (response ``SD``, ``NR`` or ``PD`` and not in
        ``responses``): the response assessment day (default) or day 0.
    response_column : str
        Column deciding non-response (default ``best_response``: a patient who ever responded is a responder).
    responses : sequence of str
        Responses that are not failures (default CR, CRi, CRh, PR).

    Notes
    -----
    1. Event ``progression`` on ``progression_day`` (relapse or progression).
    2. Event ``death`` on ``death_day``.
    3. Event ``no_response`` for evaluated non-responders, on ``response_assessment_day`` or day 0.
    4. Optional HSCT / new therapy censoring or competing event, strictly before any event.
    5. Otherwise censored on ``last_followup_day``.
    Patients whose response is ``NE`` or missing have no ``no_response`` event.
    """
    responses = check_categories("responses", responses)
    failing = tuple(c for c in NON_RESPONSES if c not in responses)
    no_response = _failure_source(
        patients,
        name="no_response",
        response_column=response_column,
        failing=failing,
        day=nonresponder_event,
        option="nonresponder_event",
    )
    competing, censors = _intercurrent(hsct, new_therapy)
    return derive_time_to_event(
        patients, prefix="pfs", events=[PROGRESSION, DEATH, no_response], competing=competing, censors=censors
    )


def derive_efs(
    patients: pd.DataFrame,
    *,
    hsct: Handling = "ignore",
    new_therapy: Handling = "ignore",
    failure_event: FailureDay = "assessment",
    response_column: str = "day28_response",
    complete_responses: Sequence[str] = CR_RESPONSES,
) -> pd.DataFrame:
    """Event-free survival, ALL style: ``efs_time_days``, ``efs_event``, ``efs_status``, ``efs_source``.

    Parameters
    ----------
    patients : DataFrame
        Canonical patients table: ``progression_day``, ``death_day``, ``last_followup_day``,
        ``response_assessment_day`` and the response column.
    hsct, new_therapy : {"ignore", "censor", "competing"}
        As in :func:`derive_os`.
    failure_event : {"assessment", "day0"}
        Day of the event for a patient without CR/CRi at the response assessment: the assessment day (default)
        or day 0 (ELN convention for induction failure).
    response_column : str
        Response at the prespecified assessment (default ``day28_response``).
    complete_responses : sequence of str
        Responses that count as remission (default CR, CRi, CRh); any other evaluated response (PR, SD, NR, PD) is
        an induction failure.

    Notes
    -----
    1. Event ``induction_failure``: evaluated without CR/CRi at the assessment, dated per ``failure_event``.
    2. Event ``relapse`` on ``progression_day``.
    3. Event ``death`` on ``death_day``.
    4. Optional HSCT / new therapy censoring or competing event, strictly before any event.
    5. Otherwise censored on ``last_followup_day``.
    A response of ``NE`` or a missing response is not an induction failure.
    """
    complete = check_categories("complete_responses", complete_responses)
    failing = tuple(c for c in (*ORR_RESPONSES, *NON_RESPONSES) if c not in complete)
    failure = _failure_source(
        patients,
        name="induction_failure",
        response_column=response_column,
        failing=failing,
        day=failure_event,
        option="failure_event",
    )
    relapse = EventSource("relapse", "progression_day", "relapse or progression")
    competing, censors = _intercurrent(hsct, new_therapy)
    return derive_time_to_event(
        patients, prefix="efs", events=[failure, relapse, DEATH], competing=competing, censors=censors
    )


def derive_rfs(
    patients: pd.DataFrame,
    *,
    hsct: Handling = "ignore",
    new_therapy: Handling = "ignore",
    origin_column: str = "cr_day",
) -> pd.DataFrame:
    """Relapse-free survival from CR/CRi: ``rfs_time_days``, ``rfs_event``, ``rfs_status``, ``rfs_source``.

    Parameters
    ----------
    patients : DataFrame
        Canonical patients table: ``cr_day``, ``progression_day``, ``death_day``, ``last_followup_day``.
    hsct, new_therapy : {"ignore", "censor", "competing"}
        As in :func:`derive_os`. Censoring at HSCT gives "RFS censored for subsequent therapy" (ELIANA).
    origin_column : str
        Day of the first CR/CRi (default ``cr_day``), time zero of the endpoint.

    Notes
    -----
    Population: patients with ``cr_day``; the others get source ``"not_applicable"`` and a NaN time.
    1. Event ``relapse`` on ``progression_day``.
    2. Event ``death`` on ``death_day``.
    3. Optional HSCT / new therapy censoring or competing event, strictly before any event.
    4. Otherwise censored on ``last_followup_day``.
    A relapse dated before the CR is a data error (raised, naming the patients).
    """
    origin = day_values(patients, origin_column)
    relapse = EventSource("relapse", "progression_day", "relapse after CR/CRi")
    competing, censors = _intercurrent(hsct, new_therapy)
    return derive_time_to_event(
        patients,
        prefix="rfs",
        events=[relapse, DEATH],
        competing=competing,
        censors=censors,
        origin=origin_column,
        population=~np.isnan(origin),
    )


def _first_response_day(patients: pd.DataFrame, responses: tuple[str, ...],
                        response_column: str = "day28_response") -> tuple[np.ndarray, np.ndarray]:
    """(first response day, responder mask) following the numbered rules of :func:`derive_dor`; NaN for a
    responder with none of its sources."""
    best = response_values(patients, "best_response")
    responder = in_categories(best, responses)
    first = np.full(len(patients), np.nan)
    if "first_response_day" in patients.columns:
        first = day_values(patients, "first_response_day")
    if response_column in patients.columns and "response_assessment_day" in patients.columns:
        at_assessment = in_categories(response_values(patients, response_column), responses)
        assess = day_values(patients, "response_assessment_day")
        first = np.where(np.isnan(first) & at_assessment, assess, first)
    if "cr_day" in patients.columns:
        first = np.where(np.isnan(first), day_values(patients, "cr_day"), first)
    return np.where(responder, first, np.nan), responder


def undated_responders(patients: pd.DataFrame, *, responses: Sequence[str] = ORR_RESPONSES,
                       response_column: str = "day28_response") -> np.ndarray:
    """Mask of the responders :func:`derive_dor` cannot start: a responding best response without a
    first-response day (rules 1-3 of its Notes). A caller that does not analyse DOR checks this instead of
    deriving it. No R equivalent (a data check)."""
    first, responder = _first_response_day(patients, check_categories("responses", responses), response_column)
    return responder & np.isnan(first)


def undated_message(patients: pd.DataFrame, undated: np.ndarray, response_column: str = "day28_response") -> str:
    """What is missing for the responders of :func:`undated_responders`, naming them."""
    return (f"no first-response day for responder(s) {patient_list(patients)(undated)}; give "
            f"'first_response_day', or 'response_assessment_day' with a responding {response_column!r}, or 'cr_day'")


def derive_dor(
    patients: pd.DataFrame,
    *,
    hsct: Handling = "ignore",
    new_therapy: Handling = "ignore",
    death: Literal["event", "censor"] = "event",
    responses: Sequence[str] = ORR_RESPONSES,
    response_column: str = "day28_response",
) -> pd.DataFrame:
    """Duration of response: ``dor_time_days``, ``dor_event``, ``dor_status``, ``dor_source`` and
    ``dor_origin_day`` (the first response day, time zero of the endpoint; NaN outside its population).

    Parameters
    ----------
    patients : DataFrame
        Canonical patients table: ``best_response``, ``progression_day``, ``death_day``, ``last_followup_day`` and
        a first-response day (see Notes).
    hsct, new_therapy : {"ignore", "censor", "competing"}
        As in :func:`derive_os`.
    death : {"event", "censor"}
        Death without progression ends the response (default) or censors it (source ``"death_censor"``; "death
        from disease only" definitions).
    responses : sequence of str
        Best responses defining the population (default CR, CRi, CRh, PR).
    response_column : str
        Response at the prespecified assessment (default ``day28_response``; the plan passes
        ``day<response_day>_response``).

    Notes
    -----
    Population: patients whose ``best_response`` is in ``responses``. Time zero, the first response day:
    1. ``first_response_day`` when the table has it and it is filled;
    2. else ``response_assessment_day`` when ``response_column`` is a response;
    3. else ``cr_day``; a responder with none of these is an error.
    Then: event ``progression``, event ``death`` (or censoring when ``death="censor"``), optional HSCT / new
    therapy censoring or competing event, otherwise censored on ``last_followup_day``.
    """
    responses = check_categories("responses", responses)
    if death not in ("event", "censor"):
        raise InputError(f"death={death!r} is not one of ('event', 'censor')")
    first, responder = _first_response_day(patients, responses, response_column)
    undated = responder & np.isnan(first)
    if undated.any():
        raise InputError("derive_dor: " + undated_message(patients, undated, response_column))
    frame = _new_frame(patients)
    frame["_dor_origin_day"] = first
    competing, censors = _intercurrent(hsct, new_therapy)
    events = [PROGRESSION]
    if death == "event":
        events.append(DEATH)
    else:
        censors = [CensorSource("death_censor", "death_day", "death without progression (censored)"), *censors]
    out = derive_time_to_event(
        frame,
        prefix="dor",
        events=events,
        competing=competing,
        censors=censors,
        origin="_dor_origin_day",
        population=responder,
    )
    return out.rename(columns={"_dor_origin_day": "dor_origin_day"})


def derive_cir_nrm(
    patients: pd.DataFrame,
    *,
    hsct: Handling = "ignore",
    new_therapy: Handling = "ignore",
    nonresponder_event: Literal["assessment", "day0", "none"] = "assessment",
    response_column: str = "best_response",
    responses: Sequence[str] = ORR_RESPONSES,
) -> pd.DataFrame:
    """Relapse/progression with non-relapse mortality as competing risk: ``cir_time_days``, ``cir_event``,
    ``cir_status`` (0 censored, 1 relapse/progression, 2 non-relapse death, 3 HSCT, 4 new therapy), ``cir_source``.

    The cumulative incidence of relapse (CIR) is cause 1 of ``cir_status``, non-relapse mortality (NRM) cause 2;
    estimate both with the Aalen-Johansen estimator, never 1 - KM. ``cir_event`` is True for relapse only.

    Parameters
    ----------
    patients : DataFrame
        Canonical patients table as for :func:`derive_pfs`.
    hsct, new_therapy : {"ignore", "censor", "competing"}
        As in :func:`derive_os`; with ``"ignore"`` (default) NRM includes deaths after consolidative HSCT without
        relapse, as in CAR-T registries.
    nonresponder_event : {"assessment", "day0", "none"}
        Whether never-responders count as progression (on the assessment day, default, or day 0, matching
        :func:`derive_pfs` so that CIR + NRM = 1 - PFS) or only a documented ``progression_day`` counts
        (``"none"``).
    response_column, responses
        As in :func:`derive_pfs`.

    Notes
    -----
    1. Event ``progression`` on ``progression_day`` (status 1).
    2. Event ``no_response`` as in :func:`derive_pfs` unless ``nonresponder_event="none"`` (status 1).
    3. Competing event ``non_relapse_death`` on ``death_day`` (status 2).
    4. Optional HSCT / new therapy censoring or competing event (status 3 / 4).
    5. Otherwise censored on ``last_followup_day``.
    R: ``cmprsk::cuminc(cir_time_days, cir_status, cencode = 0)``.
    """
    responses = check_categories("responses", responses)
    if nonresponder_event not in ("assessment", "day0", "none"):
        raise InputError(f"nonresponder_event={nonresponder_event!r} is not one of ('assessment', 'day0', 'none')")
    events = [PROGRESSION]
    if nonresponder_event != "none":
        failing = tuple(c for c in NON_RESPONSES if c not in responses)
        events.append(
            _failure_source(
                patients,
                name="no_response",
                response_column=response_column,
                failing=failing,
                day=nonresponder_event,
                option="nonresponder_event",
            )
        )
    nrm = DEATH.as_competing(STATUS_COMPETING_DEATH, name="non_relapse_death")
    competing, censors = _intercurrent(hsct, new_therapy)
    return derive_time_to_event(patients, prefix="cir", events=events, competing=[nrm, *competing], censors=censors)
