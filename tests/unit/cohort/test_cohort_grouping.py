"""Validation told once per cause: problems grouped by rule and column, follow-on errors said as the unmapped
column they come from, and a paste-ready plan block that makes the sheet valid once filled in."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.unit.cohort.cohort_builders import DEAD_UNMAPPED as DEAD
from tests.unit.cohort.cohort_builders import N_CENTRE as N
from tests.unit.cohort.cohort_builders import centre_sheet_init_cannot_read
from typer.testing import CliRunner

from cart_outcomes.cli import app
from cart_outcomes.cohort import read_cohort
from cart_outcomes.cohort._grouping import group_problems
from cart_outcomes.cohort.mapping import load_mapping_from_plan, mapping_from_dict


@pytest.fixture
def sheet(tmp_path: Path) -> Path:
    return centre_sheet_init_cannot_read(tmp_path / "centre.xlsx")


def test_one_group_per_rule_and_column_and_nothing_dropped(sheet: Path) -> None:
    cohort = read_cohort(sheet)
    summary = group_problems(cohort)
    grouped = [p for g in summary.groups for p in g.problems]
    assert sorted(map(str, grouped)) == sorted(map(str, cohort.report.problems))  # each problem exactly once
    by = {(g.rule, g.column): g for g in summary.groups}
    sex = by[("VOCABULARY", "Gender")]
    assert len(sex.problems) == N and sex.rows == list(range(3, 3 + N))  # data rows 3..26 under the title
    assert "24 cells say 'Masculin' x12, 'Féminin' x12" in sex.message
    assert "rows 3-26" in str(sex)
    crs = by[("BAD_NUMBER", "CRS")]
    assert len(crs.problems) == 16 and "'Grade 2-3' x8, 'mild' x8" in crs.message  # the 8 'G1' cells are read


def test_errors_from_an_unmapped_death_date_name_that_column(sheet: Path) -> None:
    summary = group_problems(read_cohort(sheet))
    by = {g.rule: g for g in summary.groups}
    dead = [f"P{i + 1:02d}" for i in DEAD]
    cause = by["CAUSE_WITHOUT_DEATH"]
    assert cause.patients == dead and "no column was read as the death date" in cause.message
    assert "'Deceased (date)'" in cause.message
    blank = by["MISSING_VALUE"]  # no last contact: follow-up would end at death if the death date were read
    assert blank.patients == dead and "'Deceased (date)'" in blank.message
    assert summary.suggestion.columns["Deceased (date)"] == "death_date"


def test_headers_are_suggested_only_on_evidence(sheet: Path) -> None:
    s = group_problems(read_cohort(sheet)).suggestion
    assert s.columns["Histology"] == "diagnosis"  # DLBCL, T-ALL, MM are diagnoses
    assert "3 of its 3 distinct values" in s.notes["Histology"]
    assert "Comments" not in s.columns  # free text: no guess rather than a misleading one


def test_the_pasted_block_once_filled_in_makes_the_sheet_valid(sheet: Path) -> None:
    lines = group_problems(read_cohort(sheet)).suggestion.yaml_lines()
    assert yaml.safe_load("data:\n" + "\n".join(lines)) is not None  # valid YAML as printed, before any edit
    answers = {"Masculin": "M", "Féminin": "F", "Grade 2-3": "3", "mild": "1"}  # what the clinician fills in
    filled = []
    for line in lines:
        text = line.replace("# ", "", 1) if line.lstrip().startswith("#") else line
        for raw, canon in answers.items():
            text = text.replace(f'"{raw}": ...', f'"{raw}": "{canon}"')
        filled.append(text)
    data = yaml.safe_load("data:\n" + "\n".join(filled))["data"]
    fixed = read_cohort(sheet, mapping_from_dict(data))
    assert fixed.report.ok, str(fixed.report)
    p = fixed.patients
    assert p["sex"].tolist()[:2] == ["M", "F"] and p["crs_grade"].tolist()[:3] == [3, 1, 1]
    assert p["death_day"].notna().sum() == len(DEAD) and p["diagnosis"].tolist()[:3] == ["LBCL", "T-ALL", "MM"]


def test_piped_validate_prints_one_line_per_cause(sheet: Path) -> None:
    result = CliRunner().invoke(app, ["validate", str(sheet)])
    assert result.exit_code == 1  # exit codes unchanged: 1 = the data have errors
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 4  # sex, CRS, last follow-up, cause of death: not 52 lines
    assert "52 error(s) (4 to fix)" in result.output
    assert '"Deceased (date)": "death_date"' in result.output and '# "Masculin": ...' in result.output


def test_run_says_the_grouped_problems_too(sheet: Path, tmp_path: Path) -> None:
    plan = tmp_path / "study.yaml"
    plan.write_text(f'version: 1\ndata:\n  source: "{sheet.name}"\n')
    result = CliRunner().invoke(app, ["run", str(plan), "--quiet"])
    assert result.exit_code == 1
    assert "52 validation error(s)" in result.output
    assert sum(line.startswith("error: ") for line in result.output.splitlines()) == 4


def test_a_key_given_twice_is_refused_not_silently_dropped(tmp_path: Path) -> None:
    plan = tmp_path / "study.yaml"
    plan.write_text('version: 1\ndata:\n  values:\n    sex: {"Masculin": "M"}\n  columns: {}\n'
                    '  values:\n    crs_grade: {"mild": "1"}\n')
    with pytest.raises(ValueError, match="line 6: the key 'values' is given twice"):
        load_mapping_from_plan(plan)
