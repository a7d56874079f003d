"""ASTCT (Lee 2019) ICANS grading from neurologic assessments, per domain and overall, vectorised.

Score bands, domain grades, the ICE/CAPD age switch and the excluded findings are data in
``toxicity/criteria/<criteria>.json``. There is no R equivalent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cart_outcomes.toxicity._common import (
    GradingResult,
    base_options,
    criteria_header,
    episode_summary,
    patient_key,
)
from cart_outcomes.toxicity._validate import Checker
from cart_outcomes.toxicity.criteria import load_criteria

__all__ = ["ICANS_COLUMNS", "grade_icans"]

ICANS_COLUMNS = ("patient_id", "day", "age_years", "ice_score", "capd_score", "consciousness", "seizure", "motor",
                 "cerebral_edema", "icans_death")


def _band(score: np.ndarray, bands: list[dict[str, Any]]) -> np.ndarray:
    out = np.zeros(score.shape, dtype=int)
    for b in bands:
        out = np.where((score >= b["min"]) & (score <= b["max"]), b["grade"], out)
    return out


def _has_finding(values: pd.Series, findings: list[str]) -> np.ndarray:
    """True where the ';'/','-separated free-text list names one of ``findings`` (parsed once per distinct text)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    wanted = set(findings)
    hit = [bool(wanted & {t.strip().lower().replace(" ", "_") for t in str(u).replace(",", ";").split(";")})
           for u in uniques]
    return np.array(hit + [False], dtype=bool)[codes]


def grade_icans(assessments: pd.DataFrame, criteria: str | Path | dict = "astct2019") -> GradingResult:
    """Grade ICANS at every assessment (per domain and overall) and summarise each patient (ASTCT 2019).

    Parameters
    ----------
    assessments : DataFrame ``neuro_assessments`` with ``patient_id, day, age_years, ice_score`` (0-10),
        ``capd_score`` (0-32), ``consciousness`` (awake, awakens_to_voice, awakens_to_touch, unarousable),
        ``seizure`` (none, rapidly_resolving, nonconvulsive_on_eeg, prolonged_or_repetitive), ``motor`` (none,
        deep_focal_weakness), ``cerebral_edema`` (none, focal, diffuse), ``icans_death``. Optional:
        ``excluded_findings`` (free text list separated by ``;``: tremor, myoclonus, intracranial_hemorrhage,
        headache ...; recorded, never graded), ``developmental_delay`` (bool: use CAPD whatever the age),
        ``loc_other_cause`` (bool: depressed consciousness attributable to another cause such as sedation).
    criteria : criteria file name (default ``"astct2019"``).

    Returns
    -------
    GradingResult
        ``observations`` adds ``row, tool`` ("ICE" or "CAPD"), ``encephalopathy_grade, consciousness_grade,
        seizure_grade, motor_grade, cerebral_edema_grade, grade, domain, rule, rule_text, system``.
        ``table``: ``patient_id, system, max_grade, max_grade_domain, onset_day, resolution_day, duration_days,
        resolved, n_observations``.

    Notes
    -----
    1. Tool: ICE for age >= 12 years, CAPD below 12 (or with developmental delay).
    2. ICE 10 -> 0, 7-9 -> 1, 3-6 -> 2, 0-2 -> 3. CAPD 0 -> 0, 1-8 -> 1, >= 9 -> 3. A missing score does not
       raise the grade (an unarousable patient is graded by consciousness).
    3. Consciousness: awakens to voice 2, to touch 3, unarousable 4 (ignored with ``loc_other_cause``).
       Seizure: rapidly resolving or non-convulsive on EEG 3, prolonged/repetitive 4. Motor: deep focal weakness 4.
       Edema: focal 3, diffuse 4; the edema domain is void when intracranial haemorrhage is recorded (haemorrhage
       with or without edema is graded with CTCAE, not ICANS). Tremor, myoclonus, headache never count.
    4. Overall grade = most severe domain; grade 5 = death due to ICANS.

    Reference: Lee DW et al., Biol Blood Marrow Transplant 2019;25(4):625-638 (ICE, ICANS and CAPD tables).
    """
    crit = load_criteria(criteria)
    c = crit["icans"]
    chk = Checker(assessments, "neuro_assessments")
    if not chk.require_columns(ICANS_COLUMNS):
        chk.finish()
    f = chk.frame
    chk.add(f["patient_id"].isna().to_numpy(), "MISSING_VALUE", "patient_id", "patient_id is missing")
    day = chk.day("day")
    age = chk.numeric("age_years", lo=0, hi=100, rule_range="IMPLAUSIBLE_AGE")
    ice = chk.numeric("ice_score", required=False, lo=c["ice_range"][0], hi=c["ice_range"][1],
                      rule_range="OUT_OF_RANGE", integer=True)
    capd = chk.numeric("capd_score", required=False, lo=c["capd_range"][0], hi=c["capd_range"][1],
                       rule_range="OUT_OF_RANGE", integer=True)
    loc = chk.category("consciousness", list(c["consciousness_grade"]), missing_as="awake")
    seiz = chk.category("seizure", list(c["seizure_grade"]), missing_as="none")
    motor = chk.category("motor", list(c["motor_grade"]), missing_as="none")
    edema = chk.category("cerebral_edema", list(c["cerebral_edema_grade"]), missing_as="none")
    death = chk.boolean("icans_death", required=False)
    delay = chk.boolean("developmental_delay", required=False) if "developmental_delay" in f else np.zeros(len(f), bool)
    loc_other = chk.boolean("loc_other_cause", required=False) if "loc_other_cause" in f else np.zeros(len(f), bool)
    use_capd = (np.nan_to_num(age, nan=np.inf) < c["capd_below_age_years"]) | delay
    score = np.where(use_capd, capd, ice)
    awake = loc == "awake"
    chk.add(np.isnan(score) & awake & ~use_capd, "MISSING_VALUE", "ice_score",
            "ICE score missing for an awake patient aged >= 12: encephalopathy domain not graded", "warning")
    chk.add(np.isnan(score) & awake & use_capd, "MISSING_VALUE", "capd_score",
            "CAPD score missing for an awake patient aged < 12: encephalopathy domain not graded", "warning")
    chk.add(~use_capd & ~np.isnan(capd) & np.isnan(ice), "WRONG_TOOL", "capd_score",
            "CAPD recorded for a patient aged >= 12 (ICE is the ASTCT tool): CAPD ignored", "warning")
    problems = chk.finish()

    enc = np.where(use_capd, _band(capd, c["capd_bands"]), _band(ice, c["ice_bands"]))
    enc = np.where(np.isnan(score), 0, enc)
    loc_g = pd.Series(loc).map(c["consciousness_grade"]).to_numpy(dtype=int)
    loc_g = np.where(loc_other, 0, loc_g)
    seiz_g = pd.Series(seiz).map(c["seizure_grade"]).to_numpy(dtype=int)
    motor_g = pd.Series(motor).map(c["motor_grade"]).to_numpy(dtype=int)
    edema_g = pd.Series(edema).map(c["cerebral_edema_grade"]).to_numpy(dtype=int)
    void_edema = (_has_finding(f["excluded_findings"], c["excluded_findings_void_edema"])
                  if "excluded_findings" in f else np.zeros(len(f), dtype=bool))
    edema_g = np.where(void_edema, 0, edema_g)

    domains = {"death": np.where(death, 5, 0), "cerebral_edema": edema_g, "motor": motor_g, "seizure": seiz_g,
               "consciousness": loc_g, "encephalopathy": enc}
    stack = np.column_stack([domains[d] for d in c["domain_priority"]])
    grade = stack.max(axis=1)
    which = np.array(c["domain_priority"], dtype=object)[stack.argmax(axis=1)]
    domain = np.where(grade == 0, "none", which)
    tool = np.where(use_capd, "CAPD", "ICE")
    rule = np.select([domain == "death", domain == "encephalopathy", domain == "none"],
                     ["icans.g5.death", np.where(use_capd, "icans.capd", "icans.ice"), "icans.g0.none"],
                     np.char.add("icans.", domain.astype(str)))

    n = len(f)
    obs = f.drop(columns=["source_row"], errors="ignore")
    obs.insert(0, "row", chk.rows)
    obs["tool"] = tool
    obs["encephalopathy_grade"] = enc
    obs["consciousness_grade"] = loc_g
    obs["seizure_grade"] = seiz_g
    obs["motor_grade"] = motor_g
    obs["cerebral_edema_grade"] = edema_g
    obs["grade"] = grade
    obs["domain"] = domain
    obs["rule"] = rule
    obs["rule_text"] = pd.Series(rule).map(c["rules"]).to_numpy()
    obs["system"] = crit["system"]
    order = np.lexsort((np.arange(n), day, patient_key(f["patient_id"])))
    obs = obs.iloc[order].reset_index(drop=True)

    pid = obs["patient_id"].to_numpy()
    table = episode_summary(pid, day[order], grade[order])
    top = obs.assign(_pid=pid).sort_values(["_pid", "grade", "day"], ascending=[True, False, True],
                                           kind="stable").drop_duplicates("_pid")
    table["max_grade_domain"] = table["patient_id"].map(dict(zip(top["_pid"], top["domain"], strict=True)))
    table.insert(1, "system", crit["system"])
    table = table[["patient_id", "system", "max_grade", "max_grade_domain", "onset_day", "resolution_day",
                   "duration_days", "resolved", "n_observations"]]
    options = base_options(criteria=crit["name"], capd_below_age_years=c["capd_below_age_years"],
                           excluded_findings=c["excluded_findings"],
                           missing_score="not graded (does not raise the grade)",
                           onset_rule="first assessment with grade >= 1",
                           resolution_rule="first observed grade-0 day after the last day with grade >= 1")
    return GradingResult(table=table, observations=obs, system=crit["system"], criteria=criteria_header(crit),
                         options=options, problems=problems)
