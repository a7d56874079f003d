"""One result protocol for every public result class (as scikit-learn's ``parametrize_with_checks`` runs one
contract over every estimator): ``table``, read-only ``options`` with the R equivalent, ``excluded``,
``to_frame()``, JSON-ready ``to_record()`` and ``_repr_html_()``.

The classes are discovered from the ``__all__`` of stats, endpoints, toxicity and kinetics, so a new public class
either gets a builder here (a small real input) or is named in ``NOT_RESULTS`` with the reason.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
import pytest

from cart_outcomes import _result
from cart_outcomes._result import Result
from cart_outcomes.endpoints import response_rates
from cart_outcomes.kinetics import noncompartmental, summarize_kinetics
from cart_outcomes.stats import (
    binomial_ci,
    binomial_test,
    compare_rmst,
    cox_counts,
    cox_ph,
    cumulative_incidence,
    event_counts,
    exact_logrank_test,
    fine_gray,
    fisher_exact,
    gray_test,
    hazard_ratio_logrank,
    kaplan_meier,
    kruskal_wallis,
    landmark,
    logrank_test,
    logrank_trend_test,
    mantel_byar,
    pairwise_logrank_test,
    reverse_km_followup,
    simon_makuch,
    spearman,
    wilcoxon_rank_sum,
)
from cart_outcomes.toxicity import (
    adverse_event_table,
    grade_crs,
    hematologic_recovery,
    iechs_lab_flags,
    lab_trajectories,
)

PACKAGES = ("stats", "endpoints", "toxicity", "kinetics")
#: Public classes that are not results, and why.
NOT_RESULTS = {
    "EventSource": "an endpoint definition (what counts as an event), an input of derive_time_to_event",
    "CensorSource": "an endpoint definition (what censors), an input of derive_time_to_event",
}

# -- small real inputs ------------------------------------------------------------------------------------------
#: 12 patients in two arms, with ties, a competing cause and an exposure (HSCT) time for the time-dependent tools.
SURV = pd.DataFrame({
    "time": [2.0, 3, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17],
    "event": [1, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0],
    "cause": [1, 2, 0, 1, 0, 2, 1, 0, 1, 0, 2, 0],
    "arm": ["a", "b"] * 6,
    "score": [0, 1, 2] * 4,
    "age": [61.0, 45, 52, 70, 38, 66, 59, 48, 73, 55, 42, 64],
    "hsct": [np.nan, 4, np.nan, np.nan, 2, np.nan, 5, 7, np.nan, 6, np.nan, 9],
})
LABS = pd.DataFrame({
    "patient_id": ["P1"] * 6 + ["P2"] * 6,
    "day": [0, 2, 2, 4, 6, 8] * 2,
    "anc_per_ul": [900, 300, 700, 600, 800, 1500, 2000, 400, 200, 350, 450, 300],
    "platelets_per_ul": [60_000, 15_000, 15_000, 30_000, 45_000, 60_000, 80_000, 25_000, 18_000, 22_000, 24_000,
                         26_000],
    "crp_mg_dl": [1.2, 8.5, 12.0, 4.0, 1.5, 0.8, 0.9, 3.0, 2.2, 1.0, 0.7, 0.5],
})
KINETICS = pd.DataFrame({
    "patient_id": ["a"] * 4 + ["b"] * 4 + ["c"] * 4,
    "day": [0, 7, 14, 28] * 3,
    "assay": "qpcr", "unit": "copies_per_ug_dna",
    "value": [0.0, 1_000, 400, 50, 0.0, 90_000, 20_000, 800, 0.0, 8_000, 3_000, 100],
})
PATIENTS = pd.DataFrame({"patient_id": [f"P{i}" for i in range(6)],
                         "day28_response": ["CR", "CRi", "PR", "NR", "PD", "NE"]})


def _crs():
    obs = pd.DataFrame({"patient_id": ["P1", "P1", "P2"], "day": [1, 2, 1], "temperature_c": [38.5, 37.0, 36.8],
                        "hypotension": False, "vasopressors": 0, "vasopressin": False, "oxygen_device": "none",
                        "oxygen_flow_l_min": np.nan, "anticytokine_or_antipyretic": False, "other_cause": False,
                        "crs_death": False})
    return grade_crs(obs)


BUILDERS: dict[str, Callable[[], Result]] = {
    "BinomialCI": lambda: binomial_ci(8, 12),
    "BinomialTest": lambda: binomial_test(8, 12),
    "CoxCountsResult": lambda: cox_counts(event_counts(SURV, "time", "event", by="arm")),
    "CoxResult": lambda: cox_ph(SURV, "time", "event", ["age"]),
    "CumulativeIncidence": lambda: cumulative_incidence(SURV, "time", "cause", by="arm"),
    "EventCounts": lambda: event_counts(SURV, "time", "event", by="arm"),
    "ExactLogrankResult": lambda: exact_logrank_test(SURV, "time", "event", "arm"),
    "FineGray": lambda: fine_gray(SURV, "time", "cause", ["age"]),
    "FisherExact": lambda: fisher_exact([[3, 1], [1, 3]]),
    "GrayTest": lambda: gray_test(SURV, "time", "cause", "arm"),
    "KaplanMeier": lambda: kaplan_meier(SURV, "time", "event", by="arm"),
    "KruskalWallis": lambda: kruskal_wallis(SURV["age"], SURV["score"]),
    "Landmark": lambda: landmark(SURV, "time", "event", 3, group="arm"),
    "LogrankHazardRatio": lambda: hazard_ratio_logrank(SURV, "time", "event", "arm"),
    "LogrankResult": lambda: logrank_test(SURV, "time", "event", "arm"),
    "MantelByar": lambda: mantel_byar(SURV, "time", "event", "hsct"),
    "PairwiseTests": lambda: pairwise_logrank_test(SURV.assign(g=["a", "b", "c"] * 4), "time", "event", "g"),
    "PHTest": lambda: cox_ph(SURV, "time", "event", ["age"]).ph_test(),
    "RankSumTest": lambda: wilcoxon_rank_sum(SURV["age"][:6], SURV["age"][6:]),
    "RMSTComparison": lambda: compare_rmst(SURV, "time", "event", "arm", tau=10),
    "ReverseKMFollowup": lambda: reverse_km_followup(SURV, "time", "event"),
    "SimonMakuch": lambda: simon_makuch(SURV, "time", "event", "hsct", min_at_risk=1),
    "SpearmanTest": lambda: spearman(SURV["age"], SURV["time"]),
    "TrendTestResult": lambda: logrank_trend_test(SURV, "time", "event", "score"),
    "ResponseRates": lambda: response_rates(PATIENTS),
    "GradingResult": _crs,
    "HematologicRecovery": lambda: hematologic_recovery(LABS),
    "LabFlags": lambda: iechs_lab_flags(LABS.assign(ferritin_ng_ml=[500.0] * 12)),
    "LabTrajectories": lambda: lab_trajectories(LABS, ["anc_per_ul", "crp_mg_dl"]),
    "SafetyTable": lambda: adverse_event_table(pd.DataFrame({"patient_id": [1, 2], "term": ["Sepsis"] * 2,
                                                             "grade": [3, 2], "onset_day": [4, 9]}), n_patients=6),
    "NCAResult": lambda: noncompartmental(KINETICS),
    "KineticsSummary": lambda: summarize_kinetics(
        noncompartmental(KINETICS), pd.DataFrame({"patient_id": ["a", "b", "c"], "response": ["R", "R", "NR"]}),
        by="response"),
}


def public_classes() -> dict[str, type]:
    found = {}
    for pkg in PACKAGES:
        module = importlib.import_module(f"cart_outcomes.{pkg}")
        found.update({n: getattr(module, n) for n in module.__all__ if inspect.isclass(getattr(module, n))})
    return found


def test_every_public_class_is_a_result_with_a_builder_or_says_why_not():
    classes = public_classes()
    results = {n for n, c in classes.items() if issubclass(c, Result)}
    assert set(classes) - results == set(NOT_RESULTS)
    assert results == set(BUILDERS)


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def built(request) -> tuple[str, Result]:
    return request.param, BUILDERS[request.param]()


def test_it_is_a_frozen_dataclass_of_its_class(built):
    name, result = built
    assert type(result).__name__ == name and isinstance(result, Result)
    assert dataclasses.is_dataclass(result)
    field = dataclasses.fields(result)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(result, field, None)


def test_table_and_to_frame(built):
    _, result = built
    table = result.table
    assert isinstance(table, pd.DataFrame) and len(table.columns) > 0
    frame = result.to_frame()
    assert isinstance(frame, pd.DataFrame)
    frame["__changed__"] = 1  # a copy: the result is not changed
    assert "__changed__" not in result.to_frame().columns and "__changed__" not in result.table.columns


def test_options_are_read_only_and_name_the_R_call(built):
    _, result = built
    options = result.options
    assert isinstance(options, Mapping)
    with pytest.raises(TypeError):
        options["conf_level"] = 0.5  # type: ignore[index]
    assert "version" in options
    assert "r_equivalent" in options and (options["r_equivalent"] is None or isinstance(options["r_equivalent"], str))


def test_excluded_says_why(built):
    _, result = built
    assert isinstance(result.excluded, pd.DataFrame) and "reason" in result.excluded.columns


def test_to_record_is_strict_json(built):
    name, result = built
    record = result.to_record()
    text = json.dumps(record, allow_nan=False)  # no NaN, no infinity, no numpy scalar
    assert json.loads(text) == record
    assert record["type"] == name and set(record) == {"type", "values", "table", "options", "excluded"}
    assert len(record["table"]) == len(result.table)


def test_notebook_display(built):
    _, result = built
    shown = result._repr_html_()
    assert isinstance(shown, str) and "<table" in shown


def test_plain_turns_every_non_json_value_into_json():
    frame = pd.DataFrame({"x": [1.5, np.nan], "t": pd.to_datetime(["2024-01-02", None])})
    value = {"a": np.float64(np.inf), "b": (np.int64(3), pd.NA), "c": frame, "d": frozenset({"y", "x"})}
    assert _result.plain(value) == {"a": None, "b": [3, None], "c": [{"x": 1.5, "t": "2024-01-02T00:00:00"},
                                                                    {"x": None, "t": None}], "d": ["x", "y"]}
