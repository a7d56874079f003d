"""lab_trajectories against R (tests/reference/lab_trajectories.R): lowest ANC / highest CRP per patient-day, then
per day n, median(), quantile(type = 7) quartiles, min and max over patients (400 samples, 37 patients, blanks)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cart_outcomes.toxicity import lab_trajectories

REF = json.loads((Path(__file__).parent / "lab_trajectories.json").read_text())
RTOL = 1e-10  # closed form vs R


@pytest.mark.parametrize("analyte", ["anc_per_ul", "crp_mg_dl"])
def test_daily_summary_matches_R(analyte):
    labs = pd.DataFrame(REF["labs"]).astype({"anc_per_ul": float, "crp_mg_dl": float})
    s = lab_trajectories(labs, ["anc_per_ul", "crp_mg_dl"]).summary
    s = s[s["analyte"] == analyte]
    r = REF[analyte]
    assert s["day"].tolist() == r["day"] and s["n"].tolist() == [int(x) for x in r["n"]]
    for col in ("median", "q1", "q3", "min", "max"):
        np.testing.assert_allclose(s[col].to_numpy(), np.asarray(r[col], dtype=float), rtol=RTOL, err_msg=col)
