"""What run_plan writes besides results.json, as the plan's report/figures switches ask; the exact log-rank limit;
the fixed-group Cox HR of the HSCT comparison."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cart_outcomes.plan import comparisons
from cart_outcomes.plan.model import load_plan
from cart_outcomes.plan.run import report_options, run_plan
from cart_outcomes.report.write import write_outputs

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cd7-tall"


@pytest.fixture(scope="module")
def computed():
    return run_plan(EXAMPLE / "study.yaml")  # compute only, nothing written


def test_compute_only_writes_nothing_and_keeps_the_fits(computed):
    assert computed.out_dir is None and computed.files == []
    assert set(computed.fits.survival) == {s["id"] for s in computed.results["survival"]}
    assert set(computed.fits.naive) == {(c["comparison"], c["endpoint"]) for c in computed.results["comparisons"]}


def test_report_switches_and_figure_formats_are_obeyed(computed, tmp_path):
    plan = load_plan(EXAMPLE / "study.yaml")
    plan = plan.model_copy(update={
        "report": plan.report.model_copy(update={"html": False, "docx": False, "xlsx": False}),
        "figures": plan.figures.model_copy(update={"formats": ["pdf"], "swimmer": False}),
    })
    written = write_outputs(computed, tmp_path, report_options(plan))
    names = {p.relative_to(tmp_path).as_posix() for p in written.files}
    assert "results.json" in names and "tables/endpoints.csv" in names
    assert not {"report.html", "report.docx", "tables.xlsx"} & names
    figures = sorted(n for n in names if n.startswith("figures/"))
    assert figures and all(n.endswith(".pdf") for n in figures) and "figures/swimmer.pdf" not in figures
    assert (tmp_path / figures[0]).read_bytes().startswith(b"%PDF")


def test_exact_logrank_is_not_enumerated_beyond_40_patients_and_says_why():
    plan = load_plan(EXAMPLE / "study.yaml")
    rng = np.random.default_rng(1)
    data = pd.DataFrame({"t": rng.integers(1, 500, 45), "e": rng.random(45) < 0.6,
                         "g": np.repeat(["a", "b"], [20, 25])})
    rec, _km = comparisons.naive(data, "t", "e", "g", [], plan, exact=True)
    assert rec["exact_logrank"]["p"] is None and "n <= 40" in rec["exact_logrank"]["note"]
    small, _km = comparisons.naive(data.iloc[14:26], "t", "e", "g", [], plan, exact=True)
    assert 0 < small["exact_logrank"]["p"] <= 1


def test_fixed_group_cox_needs_two_groups_and_an_event():
    plan = load_plan(EXAMPLE / "study.yaml")
    data = pd.DataFrame({"t": [5, 8, 12, 20], "e": [True, False, True, True]})
    assert comparisons.fixed_cox(data, "t", "e", pd.Series([False] * 4), plan, "x") is None
    assert comparisons.fixed_cox(data.assign(e=False), "t", "e", pd.Series([True, False] * 2), plan, "x") is None
