"""CDISC ADaM export of a run folder: ADTTE equals the run's derived endpoints, dates follow the infusion date, and a
de-identified run leaks neither ids nor dates into the datasets."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from tests.unit.cohort.cohort_builders import PATIENT_HEADERS, base_patients, rows_of, write_xlsx

from cart_outcomes.errors import InputError
from cart_outcomes.export import adam_datasets, write_adam
from cart_outcomes.export.adam import ADTTE_PARAMS
from cart_outcomes.plan.demo import demo_plan_path
from cart_outcomes.plan.model import load_plan
from cart_outcomes.plan.run import run_plan

pyreadstat = pytest.importorskip("pyreadstat")
NO_DOCUMENTS = {"html": False, "docx": False, "xlsx": False}


def _quick(plan_path: Path, **report) -> object:
    plan = load_plan(plan_path)
    return plan.model_copy(update={"report": plan.report.model_copy(update={**NO_DOCUMENTS, **report}),
                                   "figures": plan.figures.model_copy(update={"formats": []})})


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("adam-demo")
    run = run_plan(_quick(demo_plan_path(), adam=True), out, base_dir=demo_plan_path().parent)
    return run, out


def test_adtte_rereads_with_the_derived_endpoint_of_every_patient(demo) -> None:
    run, out = demo
    adtte, meta = pyreadstat.read_xport(str(out / "adam" / "adtte.xpt"))
    assert meta.table_name == "ADTTE" and meta.column_names_to_labels["CNSR"] == "Censor"
    for ep, code in ADTTE_PARAMS.items():
        derived = run.patients[run.patients[f"{ep}_time_days"].notna()].set_index("patient_id")
        rows = adtte[adtte["PARAMCD"] == code].set_index("USUBJID")
        assert sorted(rows.index) == sorted(derived.index), code  # one row per patient the endpoint applies to
        assert (rows["AVAL"].to_numpy() == derived.loc[rows.index, f"{ep}_time_days"].to_numpy()).all(), code
        assert (rows["CNSR"].to_numpy() == 1 - derived.loc[rows.index, f"{ep}_event"].astype(int).to_numpy()).all()
        events, censored = rows[rows["CNSR"] == 0], rows[rows["CNSR"] == 1]
        assert (events["CNSDTDSC"] == "").all() and (rows["EVNTDESC"] != "").all()  # ADaM IG: event or censoring
        assert (censored["CNSDTDSC"] == censored["EVNTDESC"]).all()
        if code == "OS":
            assert set(events["EVNTDESC"]) == {"death from any cause"}
            assert set(censored["EVNTDESC"]) <= {"last day known alive"}
    assert not (out / "adam" / "adtte.xpt").read_bytes().count(b"STARTDT")  # the demo cohort holds days only


def test_every_dataset_is_written_twice_with_a_define_listing(demo) -> None:
    _, out = demo
    folder = out / "adam"
    for name in ("adsl", "adtte", "adrs", "adae"):
        xpt, _ = pyreadstat.read_xport(str(folder / f"{name}.xpt"))
        pd.testing.assert_frame_equal(xpt, pd.read_parquet(folder / f"{name}.parquet").fillna(
            {c: "" for c in xpt.columns if xpt[c].dtype == object}), check_dtype=False)
    define = pd.read_csv(folder / "define.csv")
    assert define["variable"].str.len().max() <= 8 and define["label"].str.len().max() <= 40
    assert set(define["dataset"]) == {"ADSL", "ADTTE", "ADRS", "ADAE"}
    assert "no infusion dates" in (folder / "define.html").read_text()


def test_adsl_adrs_adae_hold_the_run_patients_responses_and_grades(demo) -> None:
    run, out = demo
    data = adam_datasets(out)
    adsl = data["ADSL"].frame
    assert list(adsl["USUBJID"]) == list(run.patients["patient_id"])  # one row per patient
    adrs = data["ADRS"].frame.set_index(["USUBJID", "PARAMCD"])["AVALC"]
    for pid, bor in zip(run.patients["patient_id"], run.patients["best_response"], strict=True):
        assert adrs[(pid, "BOR")] == bor
    grades = run.tables["toxicity_max_grades"].set_index("patient_id")["crs_max_grade"]
    crs = data["ADAE"].frame.query("AEDECOD == 'Cytokine release syndrome'").set_index("USUBJID")
    assert {p: int(g) for p, g in crs["AETOXGR"].items()} == {p: int(g) for p, g in grades.items() if g >= 1}
    assert set(crs["AETOXSYS"]) == {"ASTCT2019"}


def test_the_csv_formula_guard_is_undone_on_text_columns(demo, tmp_path: Path) -> None:
    # a patient id that starts like a formula is written '=... in tables/*.csv; ADaM holds the id itself
    run, out = demo
    pid = run.patients["patient_id"].iloc[0]
    copy = tmp_path / "run"
    (copy / "tables").mkdir(parents=True)
    (copy / "results.json").write_bytes((out / "results.json").read_bytes())
    for table in (out / "tables").glob("*.csv"):
        text = re.sub(rf"(?m)^{re.escape(pid)},", f"'={pid},", table.read_text(encoding="utf-8"))
        (copy / "tables" / table.name).write_text(text, encoding="utf-8")
    data = adam_datasets(copy)
    assert data["ADSL"].frame["USUBJID"].iloc[0] == f"={pid}"
    assert (data["ADTTE"].frame["USUBJID"] == f"={pid}").any()


@pytest.fixture(scope="module")
def dated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("adam-dated")
    write_xlsx(folder / "cohort.xlsx", {"patients": rows_of(base_patients(), PATIENT_HEADERS)})
    (folder / "study.yaml").write_text(yaml.safe_dump({"data": {"source": "cohort.xlsx"}, "analyses": [
        {"endpoint": "os"}, {"endpoint": "pfs"}], "toxicity": {"crs": True, "icans": True}}))
    return folder


def test_dates_are_the_infusion_date_plus_the_days(dated: Path) -> None:
    out = dated / "out"
    run_plan(_quick(dated / "study.yaml"), out, base_dir=dated)
    data = adam_datasets(out)
    os_rows = data["ADTTE"].frame.query("PARAMCD == 'OS'").set_index("USUBJID")
    by_id = {r["patient_id"]: r for r in base_patients()}
    for pid, row in os_rows.iterrows():
        p = by_id[pid]
        assert row["STARTDT"] == p["infusion_date"] and row["ADT"] == p["infusion_date"] + dt.timedelta(row["AVAL"])
        assert row["ADT"] == (p.get("death_date") or p["last_followup_date"])  # the date the source read
    assert data["ADSL"].frame.set_index("USUBJID")["TRTSDT"]["P03"] == dt.date(2024, 2, 20)


def test_a_deidentified_run_leaks_no_id_and_no_date(dated: Path) -> None:
    out = dated / "deid"
    run_plan(_quick(dated / "study.yaml"), out, base_dir=dated, deidentify=True)
    folder = out / "adam-export"
    files = write_adam(out, folder)
    ids = [r["patient_id"] for r in base_patients()]
    for f in files:
        text = (pd.read_parquet(f).to_csv() if f.suffix == ".parquet" else f.read_bytes().decode("latin-1"))
        assert not any(re.search(rf"\b{p}\b", text) for p in ids), f.name
        assert not re.search(r"\b20\d\d-\d\d-\d\d\b", text), f.name
    data = adam_datasets(out)
    assert set(data["ADSL"].frame["USUBJID"]) == {f"PT-0{k}" for k in range(1, 9)}
    assert not {"TRTSDT", "STARTDT", "ADT", "ASTDT"} & {v.name for d in data.values() for v in d.variables}
    assert "De-identified run" in (folder / "define.html").read_text()


def test_a_folder_that_is_not_a_run_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no results.json"):
        adam_datasets(tmp_path)
    (tmp_path / "results.json").write_text("{}")
    with pytest.raises(InputError, match=r"tables/subjects.csv is missing"):
        adam_datasets(tmp_path)


def test_cli_export_adam(demo, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cart_outcomes.cli import app

    _, out = demo
    result = CliRunner().invoke(app, ["export", "adam", str(out), "--out", str(tmp_path / "a"), "--format", "xpt",
                                      "--studyid", "CD7-SEED"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        "adae.xpt", "adrs.xpt", "adsl.xpt", "adtte.xpt", "define.csv", "define.html"]
    assert set(pyreadstat.read_xport(str(tmp_path / "a" / "adsl.xpt"))[0]["STUDYID"]) == {"CD7-SEED"}
    usage = CliRunner().invoke(app, ["export", "adam", str(tmp_path / "nothing")])
    assert usage.exit_code == 2 and "not a run output folder" in usage.output


@pytest.fixture(scope="module")
def documented(tmp_path_factory):
    """A dated cohort with every ADSL source column, run with the standard analyses and report.adam."""
    folder = tmp_path_factory.mktemp("adam-doc")
    records = [dict(r, dose_cells_per_kg=1e6 * (k + 1), lines_of_prior_therapy=k % 3 + 1)
               for k, r in enumerate(base_patients())]
    headers = [*PATIENT_HEADERS, "dose_cells_per_kg", "lines_of_prior_therapy"]
    write_xlsx(folder / "cohort.xlsx", {"patients": rows_of(records, headers)})
    (folder / "study.yaml").write_text(yaml.safe_dump({"data": {"source": "cohort.xlsx"},
                                                       "toxicity": {"crs": True, "icans": True}}))
    out = folder / "out"
    run_plan(_quick(folder / "study.yaml", adam=True), out, base_dir=folder)
    return out


DOC = Path(__file__).resolve().parents[2] / "docs" / "interop.md"


def test_the_documented_variables_are_the_define_listing(documented: Path) -> None:
    rows = re.findall(r"^\| (AD[A-Z]+) \| [^|]+ \| ([A-Z0-9, ]+) \|$", DOC.read_text(encoding="utf-8"), flags=re.M)
    assert [name for name, _ in rows] == ["ADSL", "ADTTE", "ADRS", "ADAE"]
    define = pd.read_csv(documented / "adam" / "define.csv")
    for name, variables in rows:
        assert variables.split(", ") == list(define.loc[define["dataset"] == name, "variable"]), name


def test_the_documented_reading_back_runs(documented: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    [code] = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    monkeypatch.chdir(documented)
    scope: dict = {}
    exec(compile(code, str(DOC), "exec"), scope)
    assert len(scope["os_rows"]) == len(base_patients())
    pd.testing.assert_frame_equal(scope["same"].query("PARAMCD == 'OS'")[["USUBJID", "AVAL", "CNSR"]]
                                  .reset_index(drop=True), scope["os_rows"][["USUBJID", "AVAL", "CNSR"]]
                                  .reset_index(drop=True), check_dtype=False)
