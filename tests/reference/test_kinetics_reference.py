"""noncompartmental against an independent base-R implementation (tests/reference/kinetics_reference.R).

The R script integrates each profile segment by segment in plain loops and fits the half-life with
``lm(log(conc) ~ day)`` over every candidate number of last points (``summary()$adj.r.squared``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cart_outcomes.kinetics import noncompartmental

REF = json.loads((Path(__file__).parent / "kinetics_reference.json").read_text())
RTOL = 1e-10
METHODS = {"linear": "linear", "log": "linear-up/log-down"}


def as_list(v):
    return v if isinstance(v, list) else [v]


def frame(p: dict) -> pd.DataFrame:
    value = [np.nan if v is None else float(v) for v in as_list(p["value"])]
    return pd.DataFrame({"patient_id": p["id"], "day": as_list(p["day"]), "assay": "qpcr",
                         "unit": "copies_per_ug_dna", "value": value, "below_loq": [v is None for v in
                                                                                   as_list(p["value"])]})


def close(got: float, expected) -> bool:
    if expected is None:
        return bool(np.isnan(got))
    return bool(np.isclose(got, expected, rtol=RTOL, atol=1e-12))


@pytest.mark.parametrize("p", REF["profiles"], ids=lambda p: p["id"])
@pytest.mark.parametrize("method", ["linear", "log"])
@pytest.mark.parametrize("window_end", ["interpolate", "last_sample"])
def test_auc_against_R(p, method, window_end):
    window = tuple(as_list(p["window"]))
    row = noncompartmental(frame(p), window=window, auc_method=METHODS[method], window_end=window_end,
                           half_life=True).table.iloc[0]
    ref = p[f"auc_{method}_{window_end}"]
    assert close(row["auc"], ref["auc"]), (row["auc"], ref["auc"])
    assert close(row["auc_start_day"], ref["start"])
    assert close(row["auc_end_day"], ref["end"])
    assert row["auc_end"] == ref["kind"]
    for col, key in [("cmax", "cmax"), ("tmax_days", "tmax"), ("clast", "clast"), ("tlast_days", "tlast")]:
        assert close(row[col], p[key]), (col, row[col], p[key])


@pytest.mark.parametrize("p", REF["profiles"], ids=lambda p: p["id"])
def test_half_life_against_R(p):
    row = noncompartmental(frame(p), window=tuple(as_list(p["window"])), half_life=True).table.iloc[0]
    ref = p["half_life"]
    assert close(row["lambda_z_per_day"], ref["lambda_z"])
    assert close(row["half_life_days"], ref["half_life"])
    assert close(row["half_life_adj_r2"], ref["adj_r2"])
    if ref["n_points"] is None:
        assert pd.isna(row["half_life_n_points"])
        assert row["half_life_note"]
    else:
        assert row["half_life_n_points"] == ref["n_points"]
        assert row["half_life_note"] is None


def test_reference_covers_the_edge_cases():
    ids = {p["id"] for p in REF["profiles"]}
    assert {"sec13.6", "single_sample", "all_blq", "peak_day0", "tied_peaks", "no_day0"} <= ids
    kinds = {p[f"auc_{m}_{w}"]["kind"] for p in REF["profiles"] for m in METHODS for w in ("interpolate",)}
    assert kinds == {"observed", "interpolated", "last_sample", "zero_after_blq"}
    assert any(p["half_life"]["n_points"] not in (None, 3) for p in REF["profiles"])
