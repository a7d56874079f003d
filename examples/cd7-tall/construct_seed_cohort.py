"""Construct the 12-patient CD7 CAR-T seed cohort consistent with every number in Xiao et al. 2025.

The patient-level data of the study are not public; this script builds a *reconstruction*: a clinically plausible
cohort whose analysis reproduces every number of the abstract under R survival's definitions. It is deterministic
(no randomness) and re-running it rewrites ``patients.csv``, ``crs_observations.csv`` and ``neuro_assessments.csv``
byte for byte.

Run from the repository root::

    PYTHONPATH=src python examples/cd7-tall/construct_seed_cohort.py

Steps
-----
1. Enumerate every strict ordering (no ties) of the 8 day-28 responders, 5 with and 3 without consolidative
   allo-HSCT, with each patient an event or a censoring (C(8,3) x 2^8 = 14,336 orderings per endpoint). Keep the
   orderings whose two-group log-rank p-value (R ``survdiff``, hypergeometric variance) rounds to 0.073 (OS) or
   0.022 (PFS) and that admit a 6-month cut giving the published Kaplan-Meier rates (OS 60% vs 33.3%, PFS 60% vs
   0%). The search shows that the orderings differ only after the last no-HSCT patient has left the risk set (which
   cannot change the log-rank statistic), so the order of events between the arms is forced:
   OS  = no-HSCT death, no-HSCT death, HSCT death, HSCT death | 6 months | no-HSCT death, then the HSCT arm;
   PFS = no-HSCT, no-HSCT, HSCT, no-HSCT, HSCT events | 6 months | then the HSCT arm.
2. Write the storylines that realise those orders (HSCT on days 41-74 in first remission, relapse before death,
   non-responders dying within three months, the longest survivor alive at day 925, the day-14 patient dying of
   rapidly progressive disease before the day-28 assessment).
3. Choose the free days so the whole-cohort statistics hold. Because the seven shortest observation times are all
   deaths, R's median OS (midpoint of the flat stretch at S = 0.5) and the plain median of observation times are
   both the mean of the 6th and 7th death days: 124 and 144 give 134. Likewise the 6th and 7th PFS events (70, 92)
   give the median PFS of 81.
4. Check every abstract number with the numpy implementations below and refuse to write if one fails. The
   independent check is ``tests/reference/seed_study.R`` (R survival), whose output the test suite compares.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import chi2

HERE = Path(__file__).resolve().parent
SIX_MONTHS = 182.6
RESPONSES = ("CR", "CRi", "CRh", "PR")

# --------------------------------------------------------------------------------------------- step 1: orderings


def logrank_p(arms: np.ndarray, events: np.ndarray) -> float:
    """Two-group log-rank p-value (R ``survdiff``, rho = 0) for an ordering without ties (arm 1 = HSCT)."""
    n1 = int(arms.sum())
    n0 = arms.size - n1
    observed = expected = variance = 0.0
    for arm, event in zip(arms, events, strict=True):
        n = n0 + n1
        if event:
            observed += arm
            expected += n1 / n
            variance += n1 * n0 / n**2
        if arm:
            n1 -= 1
        else:
            n0 -= 1
    if variance == 0:
        return math.nan
    return float(chi2.sf((observed - expected) ** 2 / variance, 1))


def km_after(arms: np.ndarray, events: np.ndarray, arm: int, k: int) -> float:
    """Kaplan-Meier survival of ``arm`` after the first ``k`` positions of an ordering without ties."""
    at_risk = int((arms == arm).sum())
    surv = 1.0
    for a, e in zip(arms[:k], events[:k], strict=True):
        if a == arm:
            if e:
                surv *= (at_risk - 1) / at_risk
            at_risk -= 1
    return surv


def admissible_orderings(p_target: float, km_hsct: float, km_no: float) -> list[tuple[str, list[int]]]:
    """Orderings of 5 HSCT + 3 no-HSCT responders with the published p-value and 6-month rates.

    Each ordering is written as tokens ``Hx`` / ``Hc`` / ``Nx`` / ``Nc`` (arm H = HSCT, N = none; x = event,
    c = censored) in time order, with the list of admissible 6-month cut positions.
    """
    found = []
    for hsct_positions in itertools.combinations(range(8), 5):
        arms = np.array([1 if i in hsct_positions else 0 for i in range(8)])
        for ev in itertools.product((0, 1), repeat=8):
            events = np.array(ev)
            p = logrank_p(arms, events)
            if math.isnan(p) or round(p, 3) != p_target:
                continue
            cuts = [
                k
                for k in range(9)
                if math.isclose(km_after(arms, events, 1, k), km_hsct, abs_tol=1e-9)
                and math.isclose(km_after(arms, events, 0, k), km_no, abs_tol=1e-9)
            ]
            if cuts:
                tokens = "".join(("H" if a else "N") + ("x" if e else "c") for a, e in zip(arms, events, strict=True))
                found.append((tokens, cuts))
    return found


def forced_prefix(orderings: list[tuple[str, list[int]]]) -> str:
    """The tokens every admissible ordering shares from the start (the order the p-value and rates force).

    Raises if the orderings disagree before the last no-HSCT patient, i.e. if the log-rank statistic could be
    reached by more than one order of events between the arms.
    """
    orders = [tokens for tokens, _ in orderings]
    shared = 0
    while shared < 16 and len({o[shared : shared + 2] for o in orders}) == 1:
        shared += 2
    if any(o.rfind("N") >= shared for o in orders):
        raise RuntimeError(f"the order of events between the arms is not unique: {sorted(orders)}")
    return orders[0][:shared]


# -------------------------------------------------------------------------------------------- step 2: storylines


@dataclass(frozen=True)
class Patient:
    patient_id: str
    age_years: int
    sex: str
    diagnosis: str
    car_t_source: str
    day28_response: str
    best_response: str
    response_assessment_day: int | None
    cr_day: int | None
    progression_day: int | None
    death_day: int | None
    death_cause: str | None
    last_followup_day: int
    hsct_day: int | None
    new_therapy_day: int | None
    crs_grade: int
    crs_onset_day: int
    icans_grade: int
    story: str


# fmt: off
PATIENTS = [
    # non-responders: all die within three months
    Patient("CD7-01", 34, "M", "T-ALL", "autologous", "NE", "PD", None, None, 10, 14, "disease progression", 14,
            None, None, 3, 1, 0, "rapid progression on day 10, died day 14 before the day-28 assessment"),
    Patient("CD7-04", 19, "M", "T-LBL", "autologous", "NR", "NR", 27, None, None, 41, "disease progression", 41,
            None, 30, 1, 3, 0, "no response at day 27 (refractory mediastinal mass), salvage chemotherapy day 30"),
    Patient("CD7-07", 45, "F", "T-ALL", "autologous", "PD", "PD", 28, None, 28, 57, "disease progression", 57,
            None, 31, 2, 2, 0, "progressive marrow disease at the day-28 assessment"),
    Patient("CD7-10", 27, "M", "T-ALL", "autologous", "NR", "NR", 29, None, None, 76, "disease progression", 76,
            None, 33, 1, 4, 0, "no response at day 29, CD7-negative escape suspected"),
    # responders without HSCT: all relapse within 6 months, two die within 6 months
    Patient("CD7-02", 16, "F", "T-ALL", "autologous", "CR", "CR", 28, 28, 45, 66, "disease progression", 66,
            None, 48, 2, 2, 0, "MRD-negative CR day 28, early marrow relapse day 45 before a donor was found"),
    Patient("CD7-05", 38, "M", "T-ALL", "autologous", "CRi", "CRi", 28, 28, 70, 124, "disease progression", 124,
            None, 72, 1, 5, 0, "CRi day 28, relapse day 70 while in donor search"),
    Patient("CD7-11", 52, "M", "T-LBL", "autologous", "PR", "PR", 30, None, 110, 236, "disease progression", 236,
            None, 114, 3, 1, 0, "marrow CR with residual PET-avid mass (PR) day 30, transplant-ineligible, "
            "progression day 110"),
    # responders consolidated with allo-HSCT (days 41-74): two events within 6 months, three long-term survivors
    Patient("CD7-03", 23, "M", "T-ALL", "autologous", "CR", "CR", 28, 28, 92, 144, "disease progression", 144,
            48, 96, 2, 3, 0, "CR day 28, allo-HSCT day 48, relapse day 92 after transplant"),
    Patient("CD7-06", 41, "F", "T-ALL", "autologous", "CR", "CR", 27, 27, None, 160, "GVHD", 160,
            74, None, 3, 2, 2, "CR day 27, ICANS grade 2, allo-HSCT day 74, died of acute GVHD day 160 in remission"),
    Patient("CD7-08", 29, "M", "T-LBL", "autologous", "PR", "CR", 28, 42, 240, None, None, 310,
            58, 247, 1, 4, 0, "PR day 28, PET-negative CR day 42, allo-HSCT day 58, late relapse day 240, alive"),
    Patient("CD7-09", 14, "M", "T-ALL", "allogeneic", "CRi", "CR", 29, 29, None, None, None, 488,
            71, None, 2, 3, 0, "allogeneic CAR-T (no autologous product), CRi day 29, allo-HSCT day 71, in remission"),
    Patient("CD7-12", 31, "F", "T-ALL", "autologous", "CR", "CR", 28, 28, None, None, None, 925,
            41, None, 3, 1, 0, "CR day 28, allo-HSCT day 41, alive in remission at day 925"),
]
# fmt: on


def patients_frame() -> pd.DataFrame:
    """The canonical ``patients`` table (the stories stay here and in the README, not in the data)."""
    rows = []
    for p in sorted(PATIENTS, key=lambda p: p.patient_id):
        rows.append(
            {
                "patient_id": p.patient_id,
                "age_years": p.age_years,
                "sex": p.sex,
                "diagnosis": p.diagnosis,
                "car_t_source": p.car_t_source,
                "day28_response": p.day28_response,
                "best_response": p.best_response,
                "response_assessment_day": p.response_assessment_day,
                "cr_day": p.cr_day,
                "progression_day": p.progression_day,
                "death_day": p.death_day,
                "death_cause": p.death_cause,
                "last_followup_day": p.last_followup_day,
                "hsct_day": p.hsct_day,
                "hsct_intent": "consolidative" if p.hsct_day is not None else None,
                "new_therapy_day": p.new_therapy_day,
                "crs_grade": p.crs_grade,
                "crs_grading_system": "ASTCT2019",
                "crs_onset_day": p.crs_onset_day,
                "icans_grade": p.icans_grade,
                "icans_grading_system": "ASTCT2019",
            }
        )
    frame = pd.DataFrame(rows)
    day_cols = [c for c in frame.columns if c.endswith("_day")]
    frame[day_cols] = frame[day_cols].astype("Int64")
    return frame


# ------------------------------------------------------------------------------- daily CRS and neuro observations

CRS_COLUMNS = [
    "patient_id",
    "day",
    "temperature_c",
    "hypotension",
    "vasopressors",
    "vasopressin",
    "oxygen_device",
    "oxygen_flow_l_min",
    "anticytokine_or_antipyretic",
    "other_cause",
    "crs_death",
]
# The worst day of each ASTCT 2019 grade: (hypotension, vasopressors, oxygen device, flow L/min).
PEAK = {
    1: (False, 0, "none", None),
    2: (True, 0, "nasal_cannula", 3.0),  # fluid-responsive hypotension and low-flow oxygen
    3: (True, 1, "high_flow_nasal_cannula", 30.0),  # one vasopressor and high-flow oxygen
}


def crs_observations(patients: pd.DataFrame) -> pd.DataFrame:
    """Daily observations from day 0 to day 10 (or death) that grade to each patient's ``crs_grade``.

    Course: afebrile until onset, fever on the onset day and the next (grade 1), the peak on the second febrile day
    for grades 2-3 with tocilizumab given from then on, two recovery days of low-grade fever without organ support,
    then afebrile.
    """
    rows = []
    for p in patients.itertuples(index=False):
        onset, grade = int(p.crs_onset_day), int(p.crs_grade)
        last_day = min(10, int(p.last_followup_day) - 1)
        for day in range(0, last_day + 1):
            k = day - onset
            temperature, hypo, pressors, device, flow, treated = 36.8, False, 0, "none", None, grade >= 2 and k >= 1
            if k in (0, 1):
                temperature = 38.6 if k == 0 else 39.2
            if k == 1 and grade >= 2:
                hypo, pressors, device, flow = PEAK[grade]
            if k == 2:
                temperature = 38.1 if grade == 1 else 37.4
            rows.append(
                {
                    "patient_id": p.patient_id,
                    "day": day,
                    "temperature_c": temperature,
                    "hypotension": hypo,
                    "vasopressors": pressors,
                    "vasopressin": False,
                    "oxygen_device": device,
                    "oxygen_flow_l_min": flow,
                    "anticytokine_or_antipyretic": treated,
                    "other_cause": False,
                    "crs_death": False,
                }
            )
    return pd.DataFrame(rows, columns=CRS_COLUMNS)


def neuro_assessments(patients: pd.DataFrame) -> pd.DataFrame:
    """Daily ICE assessments, days 1-10 (or until death); one patient has grade-2 ICANS (ICE 5-6, awake)."""
    rows = []
    for p in patients.itertuples(index=False):
        last_day = min(10, int(p.last_followup_day) - 1)
        for day in range(1, last_day + 1):
            ice = 10
            if int(p.icans_grade) == 2:
                ice = {4: 8, 5: 6, 6: 5, 7: 8}.get(day, 10)
            rows.append(
                {
                    "patient_id": p.patient_id,
                    "day": day,
                    "age_years": p.age_years,
                    "ice_score": ice,
                    "capd_score": None,
                    "consciousness": "awake",
                    "seizure": "none",
                    "motor": "none",
                    "cerebral_edema": "none",
                    "icans_death": False,
                }
            )
    frame = pd.DataFrame(rows)
    frame["capd_score"] = frame["capd_score"].astype("Int64")
    return frame


# ------------------------------------------------------------------------------------------------ step 4: checks


def km_median(time: np.ndarray, event: np.ndarray) -> float:
    """Median of the Kaplan-Meier curve as R ``quantile.survfit``: midpoint of a flat stretch at exactly 0.5."""
    grid = np.unique(time[event])
    surv, s = [], 1.0
    for t in grid:
        s *= 1 - event[time == t].sum() / (time >= t).sum()
        surv.append(s)
    surv = np.array(surv)
    eps = math.sqrt(np.finfo(float).eps)
    below = np.flatnonzero(surv < 0.5 - eps)
    flat = np.flatnonzero(np.abs(surv - 0.5) < eps)
    if flat.size:
        nxt = flat[0] + 1
        return float((grid[flat[0]] + grid[nxt]) / 2) if nxt < grid.size else float(grid[flat[0]])
    return float(grid[below[0]]) if below.size else math.nan


def km_at(time: np.ndarray, event: np.ndarray, when: float) -> float:
    s = 1.0
    for t in np.unique(time[event & (time <= when)]):
        s *= 1 - event[time == t].sum() / (time >= t).sum()
    return s


def outcomes(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """OS and PFS as the abstract defines them (non-responder PFS event at the response assessment)."""
    death = frame["death_day"].to_numpy(dtype=float, na_value=np.nan)
    prog = frame["progression_day"].to_numpy(dtype=float, na_value=np.nan)
    lfu = frame["last_followup_day"].to_numpy(dtype=float)
    assess = frame["response_assessment_day"].to_numpy(dtype=float, na_value=np.nan)
    nonresp = ~frame["best_response"].isin(RESPONSES).to_numpy()
    fail = np.fmin(np.fmin(prog, death), np.where(nonresp, assess, np.nan))
    return {
        "os_time": np.where(np.isnan(death), lfu, death),
        "os_event": ~np.isnan(death),
        "pfs_time": np.where(np.isnan(fail), lfu, fail),
        "pfs_event": ~np.isnan(fail),
    }


def check(frame: pd.DataFrame) -> dict[str, object]:
    out = outcomes(frame)
    responders = frame["day28_response"].isin(RESPONSES).to_numpy()
    hsct = frame["hsct_day"].notna().to_numpy()
    obs = out["os_time"]
    got: dict[str, object] = {
        "n": len(frame),
        "autologous": int((frame["car_t_source"] == "autologous").sum()),
        "allogeneic": int((frame["car_t_source"] == "allogeneic").sum()),
        "orr_day28": int(responders.sum()),
        "followup_median": float(np.median(obs)),
        "followup_range": (float(obs.min()), float(obs.max())),
        "os_median": km_median(out["os_time"], out["os_event"]),
        "pfs_median": km_median(out["pfs_time"], out["pfs_event"]),
        "responders_hsct": int((responders & hsct).sum()),
        "crs_any": int((frame["crs_grade"] >= 1).sum()),
        "crs_grade_1_2": int(frame["crs_grade"].between(1, 2).sum()),
        "crs_grade_3": int((frame["crs_grade"] == 3).sum()),
        "icans_any": int((frame["icans_grade"] >= 1).sum()),
    }
    for ep in ("os", "pfs"):
        t, e = out[f"{ep}_time"][responders], out[f"{ep}_event"][responders]
        arm = hsct[responders].astype(int)
        order = np.argsort(t, kind="stable")
        if np.unique(t).size != t.size:
            raise RuntimeError(f"{ep}: tied times among responders")
        got[f"{ep}_6mo_hsct"] = round(km_at(t[arm == 1], e[arm == 1], SIX_MONTHS), 3)
        got[f"{ep}_6mo_no_hsct"] = round(km_at(t[arm == 0], e[arm == 0], SIX_MONTHS), 3)
        got[f"{ep}_logrank_p"] = round(logrank_p(arm[order], e[order]), 3)
    return got


ABSTRACT = {
    "n": 12,
    "autologous": 11,
    "allogeneic": 1,
    "orr_day28": 8,
    "followup_median": 134.0,
    "followup_range": (14.0, 925.0),
    "os_median": 134.0,
    "pfs_median": 81.0,
    "responders_hsct": 5,
    "crs_any": 12,
    "crs_grade_1_2": 8,
    "crs_grade_3": 4,
    "icans_any": 1,
    "os_6mo_hsct": 0.6,
    "os_6mo_no_hsct": 0.333,
    "os_logrank_p": 0.073,
    "pfs_6mo_hsct": 0.6,
    "pfs_6mo_no_hsct": 0.0,
    "pfs_logrank_p": 0.022,
}


def main() -> None:
    os_orders = admissible_orderings(0.073, 0.6, 1 / 3)
    pfs_orders = admissible_orderings(0.022, 0.6, 0.0)
    print(f"OS : {len(os_orders)} admissible orderings, forced order {forced_prefix(os_orders)}")
    print(f"PFS: {len(pfs_orders)} admissible orderings, forced order {forced_prefix(pfs_orders)}")

    frame = patients_frame()
    got = check(frame)
    bad = {k: (got[k], v) for k, v in ABSTRACT.items() if got[k] != v}
    if bad:
        raise SystemExit(f"the cohort does not reproduce the abstract: {bad}")
    frame.to_csv(HERE / "patients.csv", index=False, lineterminator="\n")
    crs_observations(frame).to_csv(HERE / "crs_observations.csv", index=False, lineterminator="\n")
    neuro_assessments(frame).to_csv(HERE / "neuro_assessments.csv", index=False, lineterminator="\n")
    for key, value in got.items():
        print(f"{key:>16}: {value}")


if __name__ == "__main__":
    main()
