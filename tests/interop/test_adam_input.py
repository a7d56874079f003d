"""CDISC ADaM as input: a trial's ADSL + ADTTE go straight into the survival analyses (cohort.adam), with AVAL/CNSR as
the endpoints and ADSL variables (TRT01P) as groups. The ADaM of the seed study, exported by cart-outcomes itself,
gives back the seed study's survival numbers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cart_outcomes.cohort import read_cohort
from cart_outcomes.cohort.mapping import DataMapping
from cart_outcomes.errors import InputError
from cart_outcomes.export import write_adam
from cart_outcomes.plan.demo import demo_plan_path
from cart_outcomes.plan.model import load_plan
from cart_outcomes.plan.run import run_plan
from cart_outcomes.stats import kaplan_meier, logrank_test
from cart_outcomes.units import DAYS_PER_MONTH

pyreadstat = pytest.importorskip("pyreadstat")
ENDPOINTS = ["os", "pfs", "efs", "dor"]
COMPETING = ["cir", "nrm"]  # relapse / non-relapse mortality, derived from the progression day of rule 3


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    """The seed study (standard analyses, no documents) and its ADaM export, with two arms in ADSL's TRT01P."""
    out = tmp_path_factory.mktemp("adam-in")
    plan = load_plan(demo_plan_path())
    plan = plan.model_copy(update={
        "analyses": None, "comparisons": [],
        "report": plan.report.model_copy(update={"html": False, "docx": False, "xlsx": False}),
        "figures": plan.figures.model_copy(update={"formats": []})})
    run = run_plan(plan, out / "run", base_dir=demo_plan_path().parent)
    write_adam(out / "run", out / "adam", formats=["xpt"])
    adsl, meta = pyreadstat.read_xport(str(out / "adam" / "adsl.xpt"))
    adsl["TRT01P"] = ["Arm A" if k % 2 else "Arm B" for k in range(len(adsl))]  # a two-arm trial
    pyreadstat.write_xport(adsl, str(out / "adam" / "adsl.xpt"), file_format_version=5, table_name="ADSL",
                           column_labels=meta.column_names_to_labels)
    return run, json.loads((out / "run" / "results.json").read_text()), out / "adam"


def _plan(folder: Path, analyses: list[dict]) -> Path:
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump({"data": {"source": "adsl.xpt", "adtte": "adtte.xpt"}, "analyses": analyses,
                                    "toxicity": {"crs": False, "icans": False},
                                    "report": {"html": False, "docx": False, "xlsx": False},
                                    "figures": {"formats": []}}))
    return path


def test_adtte_times_and_events_are_the_endpoints(seed) -> None:
    run, _, adam = seed
    patients = read_cohort(adam / "adsl.xpt", DataMapping(adtte="adtte.xpt")).require_valid().patients
    assert list(patients["patient_id"]) == list(run.patients["patient_id"])
    for ep in ENDPOINTS:
        pd.testing.assert_series_equal(patients[f"{ep}_time_days"], run.patients[f"{ep}_time_days"],
                                       check_names=False, check_index=False)
    # rule 3: a PFS event that is not the death (progression, or no response at the assessment) is the progression
    progressed = run.patients["pfs_event"] & (run.patients["pfs_source"] != "death")
    assert (patients.loc[progressed, "progression_day"] == run.patients.loc[progressed, "pfs_time_days"]).all()
    assert patients.loc[~progressed, "progression_day"].isna().all()


@pytest.mark.filterwarnings("ignore::cart_outcomes.errors.StatisticalWarning")  # 12 patients split in two arms
def test_the_adam_run_gives_the_seed_studys_numbers_and_trt01p_groups(seed, tmp_path: Path) -> None:
    run, results, adam = seed
    for f in adam.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    out = tmp_path / "out"
    rates = [6 * DAYS_PER_MONTH, 12 * DAYS_PER_MONTH]  # as the standard analyses of the seed run
    analyses = [{"endpoint": ep, "rates_at": rates} for ep in ENDPOINTS + COMPETING] + [{"endpoint": "os",
                                                                                       "by": "TRT01P"}]
    run_plan(_plan(tmp_path, analyses), out)
    got = json.loads((out / "results.json").read_text())
    for ep in ENDPOINTS + COMPETING:
        (want,) = [a["groups"] for a in results["survival"] if a["endpoint"] == ep]
        (have,) = [a["groups"] for a in got["survival"] if a["endpoint"] == ep and a["by"] is None]
        if ep == "dor":  # the seed plan's DOR is among day-28 responders, the ADaM's among those with a DOR row
            want = [{k: g[k] for k in ("n", "events", "median", "lower", "upper")} for g in want]
            have = [{k: g[k] for k in ("n", "events", "median", "lower", "upper")} for g in have]
        assert have == want, ep
    (by_arm,) = [a for a in got["survival"] if a["by"] == "TRT01P"]
    frame = run.patients.assign(arm=["Arm A" if k % 2 else "Arm B" for k in range(len(run.patients))])
    km = kaplan_meier(frame, "os_time_days", "os_event", by="arm", conf_type="log-log")
    assert [g["median"] for g in by_arm["groups"]] == [km.medians.set_index("group").loc[g["group"], "median"]
                                                        for g in by_arm["groups"]]
    assert by_arm["logrank"]["p"] == pytest.approx(logrank_test(frame, "os_time_days", "os_event", by="arm").p_value,
                                                   rel=1e-12)


def test_located_errors(seed, tmp_path: Path) -> None:
    _, _, adam = seed
    adtte = pyreadstat.read_xport(str(adam / "adtte.xpt"))[0]
    bad = pd.concat([adtte, adtte.iloc[[0]].assign(USUBJID="CD7-99")], ignore_index=True)
    bad = pd.concat([bad, bad.iloc[[1]]], ignore_index=True)
    bad.to_csv(tmp_path / "adtte.csv", index=False)
    problems = read_cohort(adam / "adsl.xpt", DataMapping(adtte=str(tmp_path / "adtte.csv"))).report.errors
    assert [(p.rule, p.patient_id, p.row) for p in problems] == [
        ("ADAM_UNKNOWN_SUBJECT", "CD7-99", len(adtte) + 2), ("ADAM_DUPLICATE", "CD7-02", len(adtte) + 3)]
    adtte[adtte["PARAMCD"] != "OS"].to_csv(tmp_path / "no-os.csv", index=False)
    with pytest.raises(InputError, match="no OS parameter"):
        read_cohort(adam / "adsl.xpt", DataMapping(adtte=str(tmp_path / "no-os.csv")))


@pytest.mark.parametrize("module", ["pyarrow", "pyarrow.parquet"])
def test_a_parquet_file_without_pyarrow_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       module: str) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "cohort.parquet"
    pd.DataFrame({"patient_id": ["P1"], "last_followup_day": [10]}).to_parquet(path)
    monkeypatch.setitem(sys.modules, module, None)  # as if the [parquet] extra were not installed
    with pytest.raises(InputError, match=r"pip install 'cart-outcomes\[parquet\]'"):
        read_cohort(path)
    with pytest.raises(InputError, match=r"pip install 'cart-outcomes\[parquet\]'"):
        read_cohort(path, DataMapping(adtte="cohort.parquet"))


def test_export_without_pyarrow_names_the_extra_before_writing(seed, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # only pyarrow.parquet is hidden: pandas 3, imported where pyarrow is installed, keeps its text columns in
    # pyarrow and needs it to read any CSV (without pyarrow installed it uses Python strings and needs none)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(InputError, match=r"\.parquet files need pyarrow\. .*pip install 'cart-outcomes\[parquet\]'"):
        write_adam(seed[2].parent / "run", tmp_path / "adam")
    assert not (tmp_path / "adam").exists()
    write_adam(seed[2].parent / "run", tmp_path / "adam", formats=["xpt"])  # the other format needs no pyarrow


def test_without_either_extra_one_message_names_both(seed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("pyarrow", "pyarrow.parquet", "pyreadstat"):
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(InputError, match=r"\.xpt files need pyreadstat; \.parquet files need pyarrow\. .*"
                       r"pip install 'cart-outcomes\[readstat,parquet\]'"):
        write_adam(seed[2].parent / "run", tmp_path / "adam")
    with pytest.raises(InputError, match=r"adsl\.xpt: reading \.xpt files needs pyreadstat.*cart-outcomes\[readstat\]"):
        read_cohort(seed[2] / "adsl.xpt", DataMapping(adtte="adtte.xpt"))
    assert not (tmp_path / "adam").exists()


def test_a_plan_asking_for_adam_without_the_extra_fails_before_writing(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyreadstat", None)
    plan = load_plan(demo_plan_path())
    plan = plan.model_copy(update={"report": plan.report.model_copy(update={"adam": True})})
    with pytest.raises(InputError, match=r"\.xpt files need pyreadstat.*cart-outcomes\[readstat\]"):
        run_plan(plan, tmp_path / "out", base_dir=demo_plan_path().parent)
    assert not (tmp_path / "out").exists()  # no half-written run folder
