"""REDCap: a raw-data export with its data dictionary, through init + run, gives the xlsx's numbers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from tests.interop.clinical_files import write_clinician_xlsx_with_crs, write_redcap

from cart_outcomes.cohort import read_cohort
from cart_outcomes.cohort.mapping import DataMapping
from cart_outcomes.cohort.redcap import read_dictionary, read_redcap
from cart_outcomes.errors import InputError
from cart_outcomes.plan.init import init_plan
from cart_outcomes.plan.run import run_plan


def test_dictionary_choices_and_date_orders(tmp_path: Path) -> None:
    _, dictionary = write_redcap(tmp_path)
    fields = read_dictionary(dictionary)
    assert fields["gender"].choices == {"1": "Male", "2": "Female"}
    assert fields["dinf"].date_format == "%d-%m-%Y"
    assert fields["pressors"].type == "checkbox" and fields["pressors"].form == "crs_daily"


def test_export_becomes_a_record_sheet_and_a_long_sheet_per_repeating_instrument(tmp_path: Path) -> None:
    src = read_redcap(*write_redcap(tmp_path))
    records, crs = src.sheets
    assert (records.name, crs.name) == ("records", "crs_daily")
    rec = dict(zip(records.headers, records.values[0], strict=True))
    # P01's two events merged into one row: baseline gives the infusion date, follow-up the response
    assert rec["Date of CAR-T"] == dt.date(2024, 1, 10) and rec["Response D28"] == "Complete remission"
    assert rec["gender"] == "Male" and rec["CRS grade"] == "Grade 1"
    assert records.rows[0] == 2 and list(crs.rows[:3]) == [4, 5, 6]  # lines of export.csv
    # the checkbox of P03's day 2 (pressors___1 = pressors___2 = 1)
    assert crs.values[list(crs.rows).index(13), crs.headers.index("pressors")] == "Norepinephrine + Vasopressin"
    assert src.problems == []


def test_conflicting_events_are_a_located_error(tmp_path: Path) -> None:
    export, dictionary = write_redcap(tmp_path)
    lines = export.read_text().splitlines()
    lines[2] = lines[2].replace("followup_arm_1,,,", "followup_arm_1,,,11/01/2024", 1)  # P01 infusion again
    export.write_text("\n".join(lines) + "\n")
    problems = read_redcap(export, dictionary).problems
    assert [(p.rule, p.row, p.column) for p in problems] == [("REDCAP_CONFLICT", 3, "Date of CAR-T")]


def test_export_not_of_the_dictionary_is_refused(tmp_path: Path) -> None:
    export, dictionary = write_redcap(tmp_path)
    export.write_text("subject,x\n1,2\n")
    with pytest.raises(InputError, match="not the record id field 'record_id'"):
        read_redcap(export, dictionary)


def _results(plan: Path, out: Path) -> dict:
    run_plan(plan, out)
    record = json.loads((out / "results.json").read_text())
    for key in ("plan", "input", "title"):  # the source's name and checksum differ by design; no number may
        record.pop(key)
    for w in record["data_quality"]["warnings"]:  # rows are the export's lines here, the sheet's rows there
        w.pop("row")
    record["data_quality"].pop("assumptions")  # how each header and cell was read: different files by design
    return record


@pytest.mark.filterwarnings("ignore:cox_ph:cart_outcomes.errors.StatisticalWarning")  # 8 patients: HSCT comparison
def test_redcap_gives_the_same_results_as_the_xlsx(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "r").mkdir()
    xplan = init_plan(write_clinician_xlsx_with_crs(tmp_path / "x" / "cohort.xlsx")).path
    export, dictionary = write_redcap(tmp_path / "r")
    rplan = init_plan(export, redcap_dictionary=dictionary).path
    data = yaml.safe_load(rplan.read_text())["data"]
    assert (data["source"], data["redcap_dictionary"]) == ("export.csv", "dictionary.csv")
    assert data["sheets"] == {"patients": "records", "crs_observations": "crs_daily"}
    cohort = read_cohort(export, DataMapping.model_validate({k: v for k, v in data.items() if k != "source"}))
    assert len(cohort.tables["crs_observations"]) == 8
    assert _results(rplan, tmp_path / "r" / "out") == _results(xplan, tmp_path / "x" / "out")


@pytest.mark.filterwarnings("ignore:cox_ph:cart_outcomes.errors.StatisticalWarning")  # 8 patients: HSCT comparison
def test_cli_init_then_run(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cart_outcomes.cli import app

    export, dictionary = write_redcap(tmp_path)
    init = CliRunner().invoke(app, ["init", str(export), "--redcap-dictionary", str(dictionary)])
    assert init.exit_code == 0, init.output
    assert "sheet 'crs_daily' -> crs_observations" in init.output
    run = CliRunner().invoke(app, ["run", str(tmp_path / "study.yaml"), "--out", str(tmp_path / "out"), "--quiet"])
    assert run.exit_code == 0, run.output
    assert json.loads((tmp_path / "out" / "results.json").read_text())["cohort"]["n"] == 8
