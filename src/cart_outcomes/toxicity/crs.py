"""ASTCT (Lee 2019) cytokine release syndrome grading from bedside observations, vectorised.

Every threshold, device class and rule text is read from ``toxicity/criteria/<criteria>.json``; this module holds
the logic only. There is no R equivalent (no open tool grades CRS from raw observations).
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

__all__ = ["CRS_COLUMNS", "grade_crs"]

CRS_COLUMNS = ("patient_id", "day", "temperature_c", "hypotension", "vasopressors", "vasopressin", "oxygen_device",
               "oxygen_flow_l_min", "anticytokine_or_antipyretic", "other_cause", "crs_death")
_OPTIONAL = ("tocilizumab", "corticosteroids")


def _check(observations: Any, crit: dict[str, Any]) -> tuple[Checker, dict[str, np.ndarray]]:
    c = crit["crs"]
    chk = Checker(observations, "crs_observations")
    if not chk.require_columns(CRS_COLUMNS):
        chk.finish()
    f = chk.frame
    chk.add(f["patient_id"].isna().to_numpy(), "MISSING_VALUE", "patient_id", "patient_id is missing")
    v: dict[str, np.ndarray] = {"day": chk.day("day")}
    lo, hi = c["temperature_range_c"]
    v["temp"] = chk.numeric("temperature_c", required=False, lo=lo, hi=hi, rule_range="OUT_OF_RANGE", unit=" C")
    chk.add(f["temperature_c"].isna().to_numpy(), "MISSING_VALUE", "temperature_c",
            "temperature missing: this time point cannot show fever", "warning")
    v["pressors"] = chk.numeric("vasopressors", required=False, lo=0, hi=10, rule_range="OUT_OF_RANGE", integer=True)
    chk.add(f["vasopressors"].isna().to_numpy(), "MISSING_VALUE", "vasopressors", "value is missing (taken as 0)",
            "warning")
    for col in ("hypotension", "vasopressin", "anticytokine_or_antipyretic", "other_cause", "crs_death"):
        v[col] = chk.boolean(col, required=False)
    devices = list(c["oxygen_device_category"])
    v["device"] = chk.category("oxygen_device", devices, rule="VOCABULARY", missing_as="none")
    flo, fhi = c["flow_range_l_min"]
    v["flow"] = chk.numeric("oxygen_flow_l_min", required=False, lo=flo, hi=fhi, rule_range="OUT_OF_RANGE",
                            unit=" L/min")
    has_pressor = np.nan_to_num(v["pressors"]) > 0
    chk.add(has_pressor & ~v["hypotension"], "CONTRADICTION", "hypotension",
            lambda x: f"hypotension is {x} but vasopressors > 0 on the same row")
    chk.add(v["vasopressin"] & ~v["hypotension"], "CONTRADICTION", "hypotension",
            lambda x: f"hypotension is {x} but vasopressin is given on the same row")
    nc = v["device"] == "nasal_cannula"
    chk.add(nc & np.isnan(v["flow"]), "MISSING_VALUE", "oxygen_flow_l_min",
            "nasal cannula without a flow rate: graded as low-flow (grade 2 category)", "warning")
    chk.add((v["device"] == "none") & (np.nan_to_num(v["flow"]) > 0), "CONTRADICTION", "oxygen_flow_l_min",
            lambda x: f"flow {x} L/min recorded with oxygen_device 'none' (graded as no oxygen)", "warning")
    for col in _OPTIONAL:  # an all-empty column (e.g. filled in by the cohort reader) means "not recorded"
        if col in f and f[col].notna().any():
            v[col] = chk.boolean(col, required=False)
    return chk, v


def grade_crs(observations: pd.DataFrame, criteria: str | Path | dict = "astct2019") -> GradingResult:
    """Grade cytokine release syndrome at every observation and summarise each patient (ASTCT 2019).

    Parameters
    ----------
    observations : DataFrame ``crs_observations`` (long: one row per patient and assessment) with columns
        ``patient_id, day`` (days since infusion, >= 0), ``temperature_c``, ``hypotension`` (bool),
        ``vasopressors`` (count of non-vasopressin vasopressors), ``vasopressin`` (bool), ``oxygen_device``
        (none, nasal_cannula, blow_by, high_flow_nasal_cannula, facemask, non_rebreather, venturi, cpap, bipap,
        mechanical_ventilation), ``oxygen_flow_l_min``, ``anticytokine_or_antipyretic`` (given since CRS onset),
        ``other_cause`` (hypotension/hypoxia attributed to another cause), ``crs_death``; optionally
        ``tocilizumab`` and ``corticosteroids`` (bool).
    criteria : name of a criteria file in ``toxicity/criteria`` (default ``"astct2019"``).

    Returns
    -------
    GradingResult
        ``observations``: input rows (sorted by patient, day) plus ``row``, ``fever``, ``fever_masked``,
        ``crs_established``, ``hypotension_grade``, ``hypoxia_grade``, ``grade``, ``rule``, ``rule_text``,
        ``system``. ``table``: per patient ``patient_id, system, max_grade, max_grade_rule, onset_day,
        resolution_day, duration_days, resolved, n_observations, tocilizumab, corticosteroids``.

    Raises
    ------
    ValidationFailed
        With every located problem (temperature outside 30-45 C, negative flow, unknown device with the closest
        valid name, day before infusion, vasopressors or vasopressin with hypotension false, ...).

    Notes
    -----
    Algorithm (Lee DW et al., Biol Blood Marrow Transplant 2019;25(4):625-638, Table/footnotes):

    1. fever = temperature >= 38.0 C.
    2. hypotension category: none 0; hypotension without vasopressor 2; one vasopressor or vasopressin (with or
       without one vasopressor) 3; >= 2 non-vasopressin vasopressors 4 (vasopressin never counts toward grade 4).
    3. hypoxia category from the device: low-flow nasal cannula <= 6 L/min (6 is still low-flow) or blow-by 2;
       nasal cannula > 6 L/min, high-flow nasal cannula, facemask, non-rebreather, Venturi 3; CPAP, BiPAP,
       mechanical ventilation 4. Both categories are 0 where ``other_cause`` is true.
    4. CRS is established from the first febrile observation on (by day, within patient). Fever is no longer
       required once CRS is established and antipyretic/anti-cytokine therapy was given.
    5. grade = max(1, hypotension, hypoxia) with fever; = max(hypotension, hypoxia) when fever is masked (0 if
       neither: CRS resolving, a project decision); 0 without fever and without masking (fever is required at
       onset); 5 if ``crs_death``. Organ toxicities never change the grade.

    There is no R equivalent.
    """
    crit = load_criteria(criteria)
    c = crit["crs"]
    chk, v = _check(observations, crit)
    problems = chk.finish()
    f = chk.frame
    n = len(f)

    fever = np.nan_to_num(v["temp"], nan=-np.inf) >= c["fever_threshold_c"]
    pressors = np.nan_to_num(v["pressors"]).astype(int)
    hypo = np.select(
        [pressors >= c["grade4_min_non_vasopressin_vasopressors"], (pressors >= 1) | v["vasopressin"],
         v["hypotension"]], [4, 3, 2], 0)
    dev_map = c["oxygen_device_category"]
    dev_cat = pd.Series(v["device"]).map({k: (-1 if x == "by_flow" else x) for k, x in dev_map.items()})
    dev_cat = dev_cat.to_numpy(dtype=float)
    flow = v["flow"]
    by_flow = dev_cat == -1
    oxy = np.where(by_flow, np.where(np.nan_to_num(flow) > c["low_flow_max_l_min"], 3, 2), dev_cat).astype(int)
    hypo = np.where(v["other_cause"], 0, hypo)
    oxy = np.where(v["other_cause"], 0, oxy)

    key = patient_key(f["patient_id"])
    order = np.lexsort((np.arange(n), v["day"], key))
    pid = f["patient_id"].to_numpy()[order]
    fever_s = fever[order]
    established = pd.Series(fever_s).groupby(key[order]).cummax().to_numpy(bool)
    masked = (~fever_s & established & v["anticytokine_or_antipyretic"][order]
              & bool(c["fever_not_required_after_antipyretic_or_anticytokine"]))
    hypo_s, oxy_s = hypo[order], oxy[order]
    organ = np.maximum(hypo_s, oxy_s)
    death = v["crs_death"][order]
    masked_grade = np.where(organ > 0, organ, c["masked_fever_without_organ_support_grade"])
    grade = np.select([death, fever_s, masked], [5, np.maximum(1, organ), masked_grade], 0)

    rule = np.select(
        [death,
         (grade == 4) & (hypo_s == 4), (grade == 4) & (oxy_s == 4),
         (grade == 3) & (hypo_s == 3), (grade == 3) & (oxy_s == 3),
         (grade == 2) & (hypo_s == 2), (grade == 2) & (oxy_s == 2),
         grade == 1, masked],
        ["crs.g5.death",
         "crs.g4.hypotension.multiple_vasopressors", "crs.g4.hypoxia.positive_pressure",
         "crs.g3.hypotension.one_vasopressor", "crs.g3.hypoxia.high_flow_or_mask",
         "crs.g2.hypotension.no_vasopressor", "crs.g2.hypoxia.low_flow",
         "crs.g1.fever", "crs.g0.masked_no_organ_support"],
        "crs.g0.no_fever")
    rules_text = c["rules"]

    obs = f.iloc[order].drop(columns=["source_row"], errors="ignore").reset_index(drop=True)
    obs.insert(0, "row", chk.rows[order])
    obs["fever"] = fever_s
    obs["fever_masked"] = masked
    obs["crs_established"] = established
    obs["hypotension_grade"] = hypo_s
    obs["hypoxia_grade"] = oxy_s
    obs["grade"] = grade
    obs["rule"] = rule
    obs["rule_text"] = pd.Series(rule).map(rules_text).to_numpy()
    obs["system"] = crit["system"]

    table = episode_summary(pid, v["day"][order], grade)
    # rule of the (first) maximum-grade observation of each patient
    first_max = obs.assign(_pid=pid).sort_values(["_pid", "grade", "day"], ascending=[True, False, True],
                                                 kind="stable").drop_duplicates("_pid")
    table["max_grade_rule"] = table["patient_id"].map(dict(zip(first_max["_pid"], first_max["rule"], strict=True)))
    for col in _OPTIONAL:
        if col in v:
            table[col] = table["patient_id"].map(pd.Series(v[col][order]).groupby(pid).any())
        else:
            table[col] = pd.NA
    table.insert(1, "system", crit["system"])
    table = table[["patient_id", "system", "max_grade", "max_grade_rule", "onset_day", "resolution_day",
                   "duration_days", "resolved", "n_observations", "tocilizumab", "corticosteroids"]]
    options = base_options(
        criteria=crit["name"], fever_threshold_c=c["fever_threshold_c"], low_flow_max_l_min=c["low_flow_max_l_min"],
        masked_fever_without_organ_support_grade=c["masked_fever_without_organ_support_grade"],
        onset_rule="first observation with grade >= 1 (first qualifying fever)",
        resolution_rule="first observed grade-0 day after the last day with grade >= 1",
        duration_rule="resolution_day - onset_day")
    return GradingResult(table=table, observations=obs, system=crit["system"], criteria=criteria_header(crit),
                         options=options, problems=problems)
