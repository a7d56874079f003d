"""The ADTTE exported for the CD7 seed cohort gives, in R ``survfit(Surv(AVAL, 1 - CNSR) ~ 1)``, the report's
medians and confidence limits for OS, PFS, EFS and DOR (tests/reference/adam_adtte.R on adam_adtte.xpt).

The demo plan is run with the standard analyses (OS, PFS, EFS, DOR); the committed ``adam_adtte.xpt`` must hold the
same rows as today's export, so R's numbers speak for what the export writes. Regenerate both with
``python -m tests.reference.test_adam_against_R`` then ``Rscript tests/reference/adam_adtte.R``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cart_outcomes.export import write_adam
from cart_outcomes.plan.demo import demo_plan_path
from cart_outcomes.plan.model import load_plan
from cart_outcomes.plan.run import run_plan

HERE = Path(__file__).parent
ITERATIVE = 1e-6  # the R median is a quantile of a step function; CIs are closed forms: equal to rounding
CLOSED_FORM = 1e-10


def export_demo(out: Path) -> tuple[dict, Path]:
    """Run the demo plan with the standard analyses (no documents) into ``out``; returns results.json and the
    exported ADTTE."""
    plan = load_plan(demo_plan_path())
    plan = plan.model_copy(update={
        "analyses": None, "comparisons": [],
        "report": plan.report.model_copy(update={"html": False, "docx": False, "xlsx": False}),
        "figures": plan.figures.model_copy(update={"formats": []})})
    run_plan(plan, out, base_dir=demo_plan_path().parent)
    write_adam(out, out / "adam", formats=["xpt"])
    return json.loads((out / "results.json").read_text()), out / "adam" / "adtte.xpt"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    pytest.importorskip("pyreadstat")
    return export_demo(tmp_path_factory.mktemp("adam-r"))


def test_committed_adtte_is_todays_export(exported) -> None:
    import pyreadstat

    _, path = exported
    today = pyreadstat.read_xport(str(path))[0]
    committed = json.loads((HERE / "adam_adtte.json").read_text())["adtte"]
    assert sorted(committed) == sorted(today["PARAMCD"].unique())
    for code, r in committed.items():
        rows = today[today["PARAMCD"] == code]
        assert list(rows["USUBJID"]) == r["usubjid"]
        np.testing.assert_array_equal(rows["AVAL"], r["aval"])
        np.testing.assert_array_equal(rows["CNSR"], r["cnsr"])


@pytest.mark.parametrize("code", ["OS", "PFS", "EFS", "DOR"])
def test_r_medians_of_the_adtte_are_the_reports(exported, code: str) -> None:
    results, _ = exported
    r = json.loads((HERE / "adam_adtte.json").read_text())["adtte"][code]
    (analysis,) = [a for a in results["survival"] if a["endpoint"] == code.lower()]
    (group,) = analysis["groups"]
    assert (group["n"], group["events"]) == (r["n"], r["events"])
    for key in ("median", "lower", "upper"):
        if r[key] is None:
            assert group[key] is None, key
        else:
            assert group[key] == pytest.approx(r[key], rel=CLOSED_FORM), key


if __name__ == "__main__":  # write adam_adtte.xpt for the R script
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(export_demo(Path(tmp))[1], HERE / "adam_adtte.xpt")
