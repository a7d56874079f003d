"""The run and demo commands: outputs written, summary printed, exit codes 0/1/2 and no traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from cart_outcomes.cli import app
from cart_outcomes.plan.demo import new_output_dir

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cd7-tall"
runner = CliRunner()


def test_demo_writes_results_and_prints_the_headline_numbers(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["demo", "--quiet"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "cart-outcomes-demo"
    assert json.loads((out / "results.json").read_text())["input"]["n_patients"] == 12
    assert "overall_response: 8/12 = 66.7%" in result.output
    # p-values as the report prints them (format_p: three decimals below 0.1, two above, "< 0.001")
    assert "naive log-rank p = 0.022" in result.output and "Mantel-Byar p = 0.14" in result.output
    assert result.output.strip().splitlines()[-1] == f"open the report: {out / 'report.html'}"
    assert new_output_dir(tmp_path).name == "cart-outcomes-demo-2"


def test_run_with_progress_starts_no_thread_so_figures_can_be_drawn_in_worker_processes(tmp_path, monkeypatch):
    import threading

    from cart_outcomes.report import render

    seen, draw = [], render.render_figures

    def spy(*args, **kwargs):
        seen.append(threading.active_count())
        return draw(*args, **kwargs)

    monkeypatch.setattr(render, "render_figures", spy)
    monkeypatch.setattr("cart_outcomes.report.build.render_figures", spy)
    before = threading.active_count()  # the test runner's own threads, if any
    result = runner.invoke(app, ["run", str(EXAMPLE / "study.yaml"), "--out", str(tmp_path / "out")])  # progress on
    assert result.exit_code == 0, result.output
    assert seen == [before]  # rich's refresh thread would keep render_figures from forking


def test_run_exit_1_lists_every_problem_without_traceback(tmp_path):
    folder = tmp_path / "cohort"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("*.py", "*.md", "*.yaml"))
    patients = pd.read_csv(folder / "patients.csv")
    patients.loc[0, "sex"] = "male-ish"
    patients.loc[3, "death_day"] = -4
    patients.to_csv(folder / "patients.csv", index=False)
    plan = tmp_path / "study.yaml"
    plan.write_text("data:\n  source: cohort\n")
    result = runner.invoke(app, ["run", str(plan), "--out", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 1
    assert "VOCABULARY" in result.output and "CD7-01" in result.output
    assert "CD7-04" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_run_exit_2_for_usage_problems(tmp_path):
    result = runner.invoke(app, ["run", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "not found" in result.output
    plan = tmp_path / "study.yaml"
    plan.write_text("data:\n  source: cohort\n  colums: {}\n")
    result = runner.invoke(app, ["run", str(plan), "--out", str(tmp_path / "o"), "--quiet"])
    assert result.exit_code == 2 and "line 3: data.colums: unknown key" in result.output
    assert "Traceback" not in result.output


def test_summary_p_values_are_never_printed_as_zero():
    from cart_outcomes.cli import _p

    assert [_p(2e-9), _p(0.0004), _p(0.0734), _p(0.142), _p(None)] == [
        "p < 0.001", "p < 0.001", "p = 0.073", "p = 0.14", "p = NA"]

