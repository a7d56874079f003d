"""cart_outcomes.stats.km against R survival 3.5-3 (values written by km_reference.R; R is not needed here)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cart_outcomes.stats import at_risk_table, kaplan_meier, reverse_km_followup

HERE = Path(__file__).parent
REF = json.loads((HERE / "km_reference.json").read_text())
LUNG = pd.read_csv(HERE / "lung.csv")
RTOL = 1e-10  # closed-form estimates vs R (style guide)
ATOL = 1e-13  # values R rounds to exactly 0


def arr(values) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def one(values):
    return values[0] if isinstance(values, list) else values


def close(actual, expected, what: str) -> None:
    a = np.asarray(actual, dtype=float)
    e = arr(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} vs R {e.shape}"
    np.testing.assert_array_equal(np.isnan(a), np.isnan(e), err_msg=f"{what}: NA pattern differs from R")
    np.testing.assert_allclose(a, e, rtol=RTOL, atol=ATOL, equal_nan=True, err_msg=what)


def data_of(name: str) -> pd.DataFrame:
    if name == "lung":
        return LUNG
    return pd.DataFrame({k: v for k, v in REF["datasets"][name].items()})


def fit_case(case):
    d = data_of(one(case["dataset"]))
    by = one(case["by"]) if case["by"] is not None else None
    return kaplan_meier(
        d,
        "time",
        "status",
        by=by,
        conf_type=one(case["conf_type"]),
        conf_level=one(case["conf_level"]),
        entry="entry" if one(case["entry"]) else None,
        weights="w" if one(case["weights"]) else None,
    )


CASES = {one(c["name"]): c for c in REF["cases"]}


def group_codes(fit, n_rows_per_group) -> np.ndarray:
    return np.repeat(np.arange(1, len(fit.groups) + 1), n_rows_per_group)


# the columns R's survfit rows and summary(times=) have in common with .table / .at()
ROW_COLUMNS = ("time", "n_risk", "n_event", "n_censor", "survival", "std_err", "lower", "upper", "cumhaz", "cumhaz_se")


@pytest.mark.parametrize("name", sorted(CASES))
def test_survfit_rows_against_R(name):
    case = CASES[name]
    fit = fit_case(case)
    tab = fit.table
    ref = case["table"]
    close(group_codes(fit, np.diff(fit.offsets)), ref["group"], "group")
    for col in ROW_COLUMNS:
        close(tab[col], ref[col], f"{name}: {col}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_medians_against_R_print(name):
    case = CASES[name]
    med = fit_case(case).medians
    ref = case["medians"]
    close(med["n"], ref["records"], "records")
    for col, rcol in (("events", "events"), ("median", "median"), ("lower", "lower"), ("upper", "upper")):
        close(med[col], ref[rcol], f"{name}: {col}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_quantile_against_R(name):
    case = CASES[name]
    ref = case["quantile"]
    q = fit_case(case).quantile(arr(ref["probs"]))
    for col in ("time", "lower", "upper"):
        close(q[col], ref[col], f"{name}: quantile {col}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_summary_times_against_R(name):
    case = CASES[name]
    ref = case["at"]
    fit = fit_case(case)
    at = fit.at(arr(ref["times"]))
    close(group_codes(fit, [len(ref["times"])] * len(fit.groups)), ref["group"], "group")
    for col in ROW_COLUMNS:
        close(at[col], ref[col], f"{name}: at {col}")
    risk = at_risk_table(fit, arr(ref["times"]))
    close(risk["n_risk"], ref["n_risk"], "at_risk_table n_risk")
    # cumulative events/censorings at each tick = running sums of R's interval counts, per group
    r_group = arr(ref["group"])
    for col, rcol in (("cum_event", "n_event"), ("cum_censor", "n_censor")):
        expected = np.concatenate([np.cumsum(arr(ref[rcol])[r_group == j]) for j in np.unique(r_group)])
        np.testing.assert_allclose(risk[col], expected, rtol=RTOL, err_msg=col)


@pytest.mark.parametrize("name", sorted(CASES))
def test_rmean_against_R(name):
    case = CASES[name]
    fit = fit_case(case)
    for ref in case["rmst"]:
        res = fit.rmst(one(ref["tau"]))
        close(res["rmst"], ref["rmst"], f"{name}: rmean")
        close(res["std_err"], ref["std_err"], f"{name}: se(rmean)")


def test_options_record_the_conventions():
    fit = fit_case(CASES["wfrac_log"])
    assert fit.options["conf_type"] == "log"
    assert fit.options["variance"] == "infinitesimal-jackknife"
    assert fit_case(CASES["wint_log"]).options["variance"] == "greenwood"


@pytest.mark.parametrize("ref", REF["reverse"], ids=lambda r: one(r["conf_type"]))
def test_reverse_km_followup_against_R(ref):
    res = reverse_km_followup(LUNG, "time", "status", conf_type=one(ref["conf_type"]))
    row = res.table.iloc[0]
    close(
        [row["median_followup"], row["lower"], row["upper"]],
        [one(ref[k]) for k in ("median", "lower", "upper")],
        "reverse KM median",
    )
    close([row["q1_observed"], row["median_observed"], row["q3_observed"]], ref["observed_quartiles"], "quartiles")
    close([row["min_observed"], row["max_observed"]], ref["observed_range"], "range")
    close([row["median_censored"]], ref["censored_median"], "median among censored")
    by_sex = reverse_km_followup(LUNG, "time", "status", by="sex", conf_type=one(ref["conf_type"])).table
    close(by_sex["median_followup"], ref["median_by_sex"], "reverse KM median by sex")
    close(by_sex["lower"], ref["lower_by_sex"], "reverse KM lower by sex")
    close(by_sex["upper"], ref["upper_by_sex"], "reverse KM upper by sex")


def test_survey_D8_at_risk_on_tick_days():
    # survey section D.8: R summary(fit, times = c(0, 30, 60, 90, 180, 365))$n.risk = 200, 191, 179, 167, 138, 96
    # (lifelines' default gives 190 at day 30; its start-of-period option 182, 168, 139, 97 later)
    d = pd.DataFrame(REF["datasets"]["small200"])
    risk = at_risk_table(kaplan_meier(d, "time", "status"), [0, 30, 60, 90, 180, 365])
    assert risk["n_risk"].tolist() == [200, 191, 179, 167, 138, 96]
