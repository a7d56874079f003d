"""CumulativeIncidence.states() and .rmean() against R survival 3.5-3 (multi-state survfit, influence = TRUE).

Expected values are read from aalen_johansen_states.json, written by aalen_johansen_states.R (never edited by
hand). Tolerance: 1e-10 relative (closed forms).
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cart_outcomes.errors import InputError
from cart_outcomes.stats import cumulative_incidence

REF = json.loads((Path(__file__).parent / "aalen_johansen_states.json").read_text())
CLOSED = 1e-10
CASES = [("mgus2", "mgus2", None), ("mgus2_by_sex", "mgus2", "sex"), ("tied_by_group", "tied", "group"),
         ("tiny", "tiny", None), ("small", "small", None)]


def _fit(data: str, by: str | None, **kw):
    return cumulative_incidence(pd.DataFrame(REF["data"][data]), "time", "event", by=by, **kw)


def _num(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def test_reference_records_versions():
    assert REF["versions"] == {"R": "4.2.2", "survival": "3.5.3", "cmprsk": "2.2.11"}


@pytest.mark.parametrize(("case", "data", "by"), CASES)
def test_every_state_matches_survfit(case, data, by):
    states = _fit(data, by).states()
    states_ll = _fit(data, by, conf_type="log-log").states()
    assert len(states) == sum(len(c["time"]) for c in REF["states"][case])
    for curve in REF["states"][case]:
        sel = (states["state"] == curve["state"]) & (states["group"] == (curve["group"] if by else "all"))
        got, got_ll = states[sel], states_ll[sel]
        np.testing.assert_array_equal(got["time"], curve["time"])
        np.testing.assert_array_equal(got["n_risk"], curve["n_risk"])
        np.testing.assert_array_equal(got["n_event"], curve["n_event"])
        for col in ("estimate", "std_err", "lower", "upper"):
            np.testing.assert_allclose(got[col], _num(curve[col]), rtol=CLOSED, atol=1e-15, err_msg=col)
        np.testing.assert_allclose(got_ll["lower"], _num(curve["lower_loglog"]), rtol=CLOSED, atol=1e-15)
        np.testing.assert_allclose(got_ll["upper"], _num(curve["upper_loglog"]), rtol=CLOSED, atol=1e-15)


def test_states_cause_rows_equal_the_table():
    fit = _fit("tied", "group")
    states = fit.states()
    causes = states[states["state"] != "(s0)"].reset_index(drop=True)
    for col in ("time", "estimate", "std_err", "lower", "upper"):
        np.testing.assert_array_equal(causes[col], fit.table[col])


@pytest.mark.parametrize(("case", "data", "by"), CASES)
def test_rmean_matches_summary_survfit(case, data, by):
    fit = _fit(data, by)
    for ref in REF["rmean"][case]:
        got = fit.rmean(ref["tau"]).set_index(["group", "state"])
        want = pd.DataFrame({k: ref[k] for k in ("group", "state", "n", "n_event", "rmean", "se")})
        if by is None:
            want["group"] = "all"
        want = want.set_index(["group", "state"]).loc[got.index]
        np.testing.assert_array_equal(got["n"], want["n"])
        np.testing.assert_array_equal(got["n_event"], want["n_event"])
        np.testing.assert_allclose(got["rmean"], want["rmean"], rtol=CLOSED, atol=1e-13, err_msg=str(ref["tau"]))
        np.testing.assert_allclose(got["std_err"], want["se"], rtol=CLOSED, atol=1e-13, err_msg=str(ref["tau"]))


def test_rmean_before_the_first_time_is_an_error_as_in_R():
    fit = _fit("tiny", None)
    with pytest.raises(InputError, match="before the first time"):
        fit.rmean(0.5)
    with pytest.raises(InputError, match="finite number"):
        fit.rmean(float("nan"))


def test_rmean_of_states_adds_up_to_tau():
    """Hand-worked: the state probabilities sum to 1 at every time, so the restricted means sum to tau."""
    res = _fit("tied", "group").rmean(7.5)
    np.testing.assert_allclose(res.groupby("group")["rmean"].sum(), 7.5, rtol=1e-14)


def test_state_probabilities_add_up_to_one():
    """Hand-worked identity: event-free + every cause = 1 at each time (S = 1 - sum of the CIFs)."""
    states = _fit("mgus2", "sex").states()
    total = states.groupby(["group", "time"])["estimate"].sum()
    np.testing.assert_allclose(total, 1.0, rtol=1e-13)
