"""Bedside CRS wording read into ASTCT 2019 inputs (Lee 2019; clinical-definitions sections 1.2 and 13.1)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cart_outcomes.toxicity import crs_inputs_from_bedside, grade_crs
from cart_outcomes.toxicity.bedside import parse_oxygen, parse_vasopressors


@pytest.mark.parametrize(("text", "device", "flow"), [
    ("RA", "none", np.nan), ("NC 2 L/min", "nasal_cannula", 2.0), ("NC 6 L/min", "nasal_cannula", 6.0),
    ("NC 8 L/min", "nasal_cannula", 8.0), ("HFNC 40 L/min", "high_flow_nasal_cannula", 40.0),
    ("face mask 5 L/min", "facemask", 5.0), ("BiPAP", "bipap", np.nan), ("intubated", "mechanical_ventilation", np.nan),
    ("3 l/min", "nasal_cannula", 3.0), ("tent", "tent", np.nan),
])
def test_oxygen_text(text, device, flow):
    d, f = parse_oxygen(text)
    assert d == device and (f == flow or (np.isnan(f) and np.isnan(flow)))


@pytest.mark.parametrize(("text", "count", "vasopressin"), [
    ("", 0, False), ("none", 0, False), ("norepinephrine", 1, False), ("Noradrenaline + vasopressin", 1, True),
    ("norepinephrine, epinephrine", 2, False), ("vasopressin", 0, True),
])
def test_vasopressor_names(text, count, vasopressin):
    assert parse_vasopressors(text) == (count, vasopressin)


def test_unknown_vasopressor_is_not_guessed():
    n, v = parse_vasopressors("norepinephrine + fluids")
    assert np.isnan(n) and v is None


def _obs(rows):
    frame = pd.DataFrame(rows, columns=["patient_id", "day", "temperature_c", "sbp_mmhg", "vasopressor_names",
                                        "oxygen", "tocilizumab"])
    for c in ("hypotension", "vasopressors", "vasopressin", "oxygen_device", "oxygen_flow_l_min",
              "anticytokine_or_antipyretic", "other_cause", "crs_death"):
        frame[c] = None
    return frame


def _grades(frame, **kw):
    table = grade_crs(crs_inputs_from_bedside(frame, **kw)).table
    return dict(zip(table["patient_id"], table["max_grade"], strict=True))


def test_astct_vectors_from_bedside_wording():
    """Section 13.1: #1 fever only G1; #3 fever + 1 pressor + low-flow G3; #4 NC 6 L/min G2; #5 NC 6.5 L/min G3;
    #6 norepinephrine + vasopressin G3; #7 two pressors G4; #8 after tocilizumab afebrile on BiPAP G4."""
    rows = [
        ["v1", 1, 38.0, 120, "", "RA", False],
        ["v3", 1, 39.5, 80, "norepinephrine", "NC 2 L/min", False],
        ["v4", 1, 38.5, 120, "", "NC 6 L/min", False],
        ["v5", 1, 38.5, 120, "", "NC 6.5 L/min", False],
        ["v6", 1, 38.5, 80, "norepinephrine + vasopressin", "RA", False],
        ["v7", 1, 38.5, 70, "norepinephrine + epinephrine", "RA", False],
        ["v8", 1, 38.6, 120, "", "RA", True], ["v8", 2, 36.8, 120, "", "BiPAP", False],
    ]
    assert _grades(_obs(rows)) == {"v1": 1, "v3": 3, "v4": 2, "v5": 3, "v6": 3, "v7": 4, "v8": 4}


def test_hypotension_threshold_is_an_option():
    rows = [["p", 1, 38.9, 92, "", "RA", False]]
    assert _grades(_obs(rows)) == {"p": 1}  # SBP 92 is not below the default 90
    assert _grades(_obs(rows), hypotension_sbp_mmhg=95) == {"p": 2}


def test_given_values_are_kept():
    frame = _obs([["p", 1, 38.9, 120, "", "RA", False]]).assign(hypotension=True)
    assert bool(crs_inputs_from_bedside(frame)["hypotension"].iat[0]) is True
