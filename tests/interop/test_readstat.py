"""SPSS/Stata/SAS files read with their value labels, variable labels and date formats, through init + run."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from tests.interop.clinical_files import WORDING, write_clinician_xlsx, write_spss

from cart_outcomes.cohort import read_cohort
from cart_outcomes.cohort._readers import read_raw
from cart_outcomes.errors import InputError
from cart_outcomes.plan.init import init_plan
from cart_outcomes.plan.run import run_plan

pyreadstat = pytest.importorskip("pyreadstat")


def test_value_labels_are_the_values_and_variable_labels_the_headers(tmp_path: Path) -> None:
    sheet = read_raw(write_spss(tmp_path / "cohort.sav")).sheets[0]
    assert sheet.headers == list(WORDING.values())  # v01 ... named nothing; their labels name every column
    col = dict(zip(sheet.headers, sheet.values.T, strict=True))
    assert col["Response D28"][0] == "Complete remission"  # P01 coded 1 under the label 1 = Complete remission
    assert col["Date of CAR-T"][0] == dt.date(2024, 1, 10)  # an SPSS DATE11 variable, not seconds since 1582


@pytest.mark.parametrize("suffix", [".dta", ".xpt"])
def test_stata_and_sas_dates_and_labels(tmp_path: Path, suffix: str) -> None:
    frame = pd.DataFrame({"pid": ["P1", "P2"], "dinf": [dt.date(2024, 1, 10), dt.date(2024, 2, 1)],
                          "age": [34.0, 51.0]})
    path = tmp_path / f"c{suffix}"
    writer = pyreadstat.write_dta if suffix == ".dta" else pyreadstat.write_xport
    writer(frame, str(path), column_labels=["Patient ID", "Date of CAR-T", "Age"])
    sheet = read_raw(path).sheets[0]
    assert sheet.headers == ["Patient ID", "Date of CAR-T", "age"]  # 'age' is already a wording of age_years
    assert list(sheet.values[:, 1]) == [dt.date(2024, 1, 10), dt.date(2024, 2, 1)]


def test_unreadable_file_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.sav"
    path.write_bytes(b"not an SPSS file")
    with pytest.raises(InputError, match=r"broken.sav could not be read as a \.sav file"):
        read_raw(path)


def test_missing_pyreadstat_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_spss(tmp_path / "cohort.sav")
    monkeypatch.setitem(sys.modules, "pyreadstat", None)  # as if not installed
    with pytest.raises(InputError, match=r"pip install 'cart-outcomes\[readstat\]'"):
        read_raw(path)


def _results(plan: Path, out: Path) -> dict:
    run_plan(plan, out)
    record = json.loads((out / "results.json").read_text())
    for key in ("plan", "input"):  # the source's name, kind and checksum differ by design; every number must not
        record.pop(key)
    return record


@pytest.mark.filterwarnings("ignore:cox_ph:cart_outcomes.errors.StatisticalWarning")  # 8 patients: HSCT comparison
def test_spss_gives_the_same_results_as_the_xlsx(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "s").mkdir()
    xplan = init_plan(write_clinician_xlsx(tmp_path / "x" / "cohort.xlsx")).path
    splan = init_plan(write_spss(tmp_path / "s" / "cohort.sav")).path
    svalues = yaml.safe_load(splan.read_text())["data"]["values"]
    assert svalues["day28_response"]["Complete remission"] == "CR"
    assert read_cohort(tmp_path / "s" / "cohort.sav", None).patients["infusion_date"].notna().all()
    assert _results(splan, tmp_path / "s" / "out") == _results(xplan, tmp_path / "x" / "out")
