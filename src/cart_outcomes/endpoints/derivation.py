"""Derivation rules that complete a patients table before any endpoint is derived, each one recorded.

A clinician's sheet rarely holds every column the endpoint definitions read. Left alone, a missing best response or
a blank relapse date for a patient who died of leukaemia turns a disease failure into a non-relapse death and the
report contradicts itself (EFS counts the failure, PFS/CIR do not). :func:`apply_derivation_rules` fills these gaps
with stated rules, applied in this order, and returns every rule it applied with the patients it touched, so the
report's data-quality section can list them (clinical-definitions section 7.1; Kanate, Nagler & Savani, Clin Hematol
Int 2020; Li et al., Clin Cancer Res 2022):

1. ``FOLLOWUP_AT_DEATH``: a blank ``last_followup_day`` of a patient who died becomes the death day (follow-up of
   a deceased patient ends at death; section 7.1, OS row).
2. ``BEST_RESPONSE_FROM_DAY28``: a blank (or absent) ``best_response`` becomes the ``day28_response``: the day-28
   assessment is the first formal response assessment (section 6.3), so the best response is at least it and, with
   nothing later recorded, equal to it.
3. ``ASSESSMENT_AT_NOMINAL_DAY``: a day-28 response other than NE without ``response_assessment_day`` is dated at
   the nominal assessment day (``response_day``, default 28), or at the end of observation if that comes first. A
   non-responder's PFS, EFS and CIR failure is dated there (section 7.1, PFS/EFS rows: "event at date PD/NR
   documented") and a responder's duration of response starts there.
4. ``DISEASE_DEATH_AS_PROGRESSION``: a death whose cause names progression, relapse, refractory disease or the
   disease itself, without a ``progression_day``, is dated as progression on the death day, so it is never counted
   as non-relapse mortality (NRM is "death without prior relapse/progression", section 7.1). Causes naming GVHD,
   veno-occlusive or infectious disease are not disease deaths.

Rules only fill blanks; a value the user gave is never replaced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cart_outcomes.endpoints._frame import day_values, require, response_values

__all__ = ["DISEASE_DEATH", "DerivationRule", "Derived", "apply_derivation_rules", "is_disease_death"]

#: Phrases removed before looking for a disease word ("graft-versus-host disease" is not the patient's disease).
_NOT_DISEASE = re.compile(
    r"graft[\s-]*(versus|vs\.?|v)[\s-]*host[\s-]*disease|gvhd|veno[\s-]*occlusive[\s-]*disease|"
    r"infectious[\s-]*disease|sinusoidal[\s-]*obstruction", re.IGNORECASE)
#: Words that make a cause of death a death from the treated disease.
DISEASE_DEATH = re.compile(
    r"progress|relaps|refractor|\bPD\b|disease|leuka?emi|lymphoma|\bALL\b|\bLBL\b|blast|tumou?r|malignan",
    re.IGNORECASE)


def is_disease_death(cause: object) -> bool:
    """True when a cause-of-death text names the treated disease (progression, relapse, leukaemia ...).

    >>> [is_disease_death(c) for c in ("Progression", "relapse", "GVHD", "graft-versus-host disease", "sepsis")]
    [True, True, False, False, False]
    """
    if cause is None or (isinstance(cause, float) and np.isnan(cause)) or cause is pd.NA:
        return False
    return bool(DISEASE_DEATH.search(_NOT_DISEASE.sub(" ", str(cause))))


@dataclass(frozen=True, slots=True)
class DerivationRule:
    """One derivation rule applied to some patients: a stable ``code``, what it did, its reference."""

    code: str
    message: str
    reference: str
    patient_ids: tuple[str, ...]
    column: str

    def to_dict(self) -> dict:
        """JSON-ready form, shaped as a data-quality warning (rule, severity, column, message)."""
        return {"rule": self.code, "severity": "warning", "patient_id": None, "row": None, "column": self.column,
                "value": None, "table": "patients",
                "message": f"{self.message} (patients {', '.join(self.patient_ids)}; {self.reference})",
                "patients": list(self.patient_ids)}


@dataclass(frozen=True, slots=True)
class Derived:
    """The completed patients table and the rules that completed it (in the order applied)."""

    patients: pd.DataFrame
    rules: tuple[DerivationRule, ...]


_DEFINITIONS = "clinical-definitions section 7.1 (Kanate 2020; Li 2022)"


def apply_derivation_rules(patients: pd.DataFrame, *, response_day: int = 28) -> Derived:
    """Fill the blanks the endpoint definitions need, by the numbered rules of the module docstring.

    Parameters
    ----------
    patients : DataFrame
        Canonical patients table (``patient_id``, ``last_followup_day``; the rules use ``death_day``,
        ``death_cause``, ``day28_response``, ``best_response``, ``response_assessment_day`` and
        ``progression_day`` when present).
    response_day : int
        Nominal day of the "day-28" assessment (rule 3).

    Returns
    -------
    Derived
        ``patients``: a completed copy (the input is not mutated); ``rules``: one :class:`DerivationRule` per rule
        that changed at least one patient.

    Notes
    -----
    There is no single R call; the equivalent R is a ``dplyr::mutate`` per rule, e.g. rule 4:
    ``progression_day = ifelse(is.na(progression_day) & grepl("progress|relaps", death_cause), death_day,
    progression_day)``.
    """
    require(patients, ["patient_id"])
    frame = patients.copy()
    ids = frame["patient_id"].astype(str).to_numpy()
    n = len(frame)
    applied: list[DerivationRule] = []

    def days(column: str) -> np.ndarray:
        return day_values(frame, column) if column in frame.columns else np.full(n, np.nan)

    def record(code: str, mask: np.ndarray, column: str, message: str, reference: str) -> None:
        if mask.any():
            applied.append(DerivationRule(code, message, reference, tuple(ids[mask]), column))

    death = days("death_day")
    last = days("last_followup_day")
    fill = np.isnan(last) & ~np.isnan(death)
    if fill.any() or "last_followup_day" not in frame.columns:
        frame["last_followup_day"] = np.where(fill, death, last)
    record("FOLLOWUP_AT_DEATH", fill, "last_followup_day",
           "last follow-up was blank for a patient who died: follow-up ends at death", _DEFINITIONS)

    if "day28_response" in frame.columns:
        day28 = response_values(frame, "day28_response")
        best = response_values(frame, "best_response") if "best_response" in frame.columns else np.full(n, None)
        fill = np.array([b is None and d is not None for b, d in zip(best, day28, strict=True)], dtype=bool)
        if fill.any() or "best_response" not in frame.columns:
            frame["best_response"] = pd.Series(np.where(fill, day28, best), index=frame.index, dtype=object)
        record("BEST_RESPONSE_FROM_DAY28", fill, "best_response",
               "no best response recorded: the day-28 response is used as the best response",
               "clinical-definitions section 6.3: the day-28 assessment is the first formal response assessment")

        assess = days("response_assessment_day")
        end = np.where(np.isnan(death), days("last_followup_day"), death)
        evaluated = np.array([d is not None and d != "NE" for d in day28], dtype=bool)
        fill = evaluated & np.isnan(assess) & ~np.isnan(end)
        if fill.any():
            frame["response_assessment_day"] = np.where(fill, np.minimum(float(response_day), end), assess)
        record("ASSESSMENT_AT_NOMINAL_DAY", fill, "response_assessment_day",
               f"no response assessment date: the day-{response_day} response is dated at day {response_day} "
               "(or at death / last follow-up if earlier); non-responders fail there in PFS, EFS and CIR",
               _DEFINITIONS + ": non-responder event at the date NR is documented")

    if "death_cause" in frame.columns:
        progression = days("progression_day")
        codes, causes = pd.factorize(frame["death_cause"], use_na_sentinel=True)  # each distinct text once
        disease = np.array([*[is_disease_death(c) for c in causes.tolist()], False], dtype=bool)[codes]
        fill = disease & ~np.isnan(death) & np.isnan(progression)
        if fill.any():
            frame["progression_day"] = np.where(fill, death, progression)
        record("DISEASE_DEATH_AS_PROGRESSION", fill, "progression_day",
               "the cause of death names the disease but no relapse/progression date is given: progression is "
               "dated at death, so the death counts as relapse/progression, never as non-relapse mortality",
               _DEFINITIONS + ": NRM is death without prior relapse/progression")
    return Derived(frame, tuple(applied))
