"""cart_outcomes.plan.init: the starter plan written from a sheet (guesses with evidence, quoted, never forced)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.unit.cohort.cohort_builders import D, write_xlsx

from cart_outcomes.cohort.mapping import mapping_from_dict
from cart_outcomes.errors import InputError
from cart_outcomes.plan.init import init_plan
from cart_outcomes.plan.model import load_plan


def _sheet(tmp_path: Path, headers: list[str], rows: list[list]) -> Path:
    return write_xlsx(tmp_path / "sheet.xlsx", {"Data": [["My cohort"], headers, *rows]})


def test_plan_reads_back_exactly_and_loads(tmp_path: Path) -> None:
    path = _sheet(tmp_path, ["Pt ID", "Date of CAR-T", "Last FU", "Prior HSCT", "CRS", "Sex"],
                  [["1", D(2023, 1, 2), D(2023, 5, 1), "no", "Grade 2", "Femal"],
                   ["2", D(2023, 2, 2), D(2023, 6, 1), "yes", "moderate", "Male"]])
    result = init_plan(path)
    data = yaml.safe_load(result.text)["data"]
    assert data["header_row"] == 2
    assert data["columns"] == {"Pt ID": "patient_id", "Date of CAR-T": "infusion_date",
                               "Last FU": "last_followup_date", "Prior HSCT": "prior_hsct", "CRS": "crs_grade",
                               "Sex": "sex"}
    assert data["values"] == {"crs_grade": {"Grade 2": "2"}, "sex": {"Femal": "F", "Male": "M"}}
    assert """"Femal": "F"    # spelled like 'female', 1 cell(s): check""" in result.text
    assert '# "moderate": ?    no guess: write one of 0-5' in result.text  # no guess: listed, never forced
    mapping_from_dict({k: v for k, v in data.items() if k != "source"})
    assert load_plan(result.path).data.source == "sheet.xlsx"


def test_headers_that_match_nothing_stay_unmapped(tmp_path: Path) -> None:
    # "Toci" is matched to the patients column tocilizumab (treatment given); "Comments" matches nothing
    path = _sheet(tmp_path, ["Pt ID", "Date of CAR-T", "Last FU", "Cause of death", "Toci", "Comments"],
                  [["1", D(2023, 1, 2), D(2023, 5, 1), None, "yes", "x"]])
    guesses = {g.header: g.column for g in init_plan(path).sheets[0].columns}
    assert guesses == {"Pt ID": "patient_id", "Date of CAR-T": "infusion_date", "Last FU": "last_followup_date",
                       "Cause of death": "death_cause", "Toci": "tocilizumab", "Comments": None}


def test_never_overwrites_without_force(tmp_path: Path) -> None:
    path = _sheet(tmp_path, ["Pt ID", "Last FU"], [["1", 30]])
    init_plan(path)
    with pytest.raises(InputError, match="already exists"):
        init_plan(path)
    assert "last_followup_day" in init_plan(path, force=True).text  # numbers: days, not dates


def test_sheet_without_day28_response_gets_a_plan_that_runs(tmp_path: Path) -> None:
    from cart_outcomes.plan.run import run_plan

    path = _sheet(tmp_path, ["Pt ID", "Date of CAR-T", "Last FU", "Date of death", "alloHSCT date"],
                  [["1", D(2023, 1, 2), D(2023, 5, 1), None, D(2023, 3, 1)],
                   ["2", D(2023, 2, 2), D(2023, 6, 1), D(2023, 6, 1), None]])
    plan = load_plan(init_plan(path).path)
    assert "response_day" not in plan.endpoints.model_fields_set
    assert [a.endpoint for a in plan.analyses] == ["os", "pfs", "efs", "cir", "nrm"] and not plan.comparisons
    res = run_plan(plan, base_dir=tmp_path).results
    assert [s["endpoint"] for s in res["survival"]] == ["os", "pfs", "cir", "nrm"]
