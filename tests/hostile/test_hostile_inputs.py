"""Every hostile input of issue 17 ends in a clean exit (0, 1 or 2) with a located message, within the time and
memory bounds of docs/security.md. The files are generated here (tests/hostile/hostile_cases.py); the commands run
in a child process under an address-space limit, as a user would run them."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import hostile_cases as H
import pytest

from cart_outcomes._text import neutralise
from cart_outcomes.cohort import _readers as readers
from cart_outcomes.cohort import read_cohort
from cart_outcomes.plan.model import PlanError, load_plan, parse_plan

SRC = Path(__file__).resolve().parents[2] / "src"
#: Address-space limit of the child process (the interpreter with numpy, pandas and pyarrow maps about 1 GB).
MEMORY_LIMIT = 3 << 30


def cli(*args: str, timeout: float = 60) -> tuple[int, str, float]:
    """Run ``cart-outcomes ARGS`` in a child process limited to MEMORY_LIMIT bytes and ``timeout`` seconds."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "160"}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "cart_outcomes", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, preexec_fn=limit)
    return proc.returncode, proc.stdout + proc.stderr, time.perf_counter() - start


def _problems(path: Path) -> list[dict]:
    code, out, _ = cli("validate", str(path), "--format", "json")
    assert code in (0, 1), out
    return json.loads(out)


def test_a_cell_at_xfd1048576_is_a_located_error_not_a_512_gib_allocation(tmp_path):
    path = H.far_cell_workbook(tmp_path)
    code, out, seconds = cli("validate", str(path))
    assert code == 1 and seconds < 30  # before: SIGABRT (exit -6) allocating 512 GiB
    assert "TOO_LARGE" in out and "XFD1048576" in out and "1,048,576 rows x 16,384 columns" in out


def test_the_declared_dimension_is_ignored(tmp_path):
    cohort = read_cohort(H.declared_range_workbook(tmp_path))
    assert list(cohort.patients["patient_id"]) == ["P1"] and cohort.report.ok


def test_a_zip_bomb_workbook_is_refused_by_its_ratio(tmp_path):
    path = H.zip_bomb_workbook(tmp_path, megabytes_unpacked=60)
    assert path.stat().st_size < 400_000
    code, out, seconds = cli("validate", str(path), "--format", "json")
    problems = json.loads(out)
    assert code == 1 and seconds < 30  # before: 2.3 GB and no end in 4 minutes (for 260 MB unpacked)
    assert problems[0]["rule"] == "TOO_LARGE" and "zip bomb" in problems[0]["message"]


def test_workbook_limits_are_stated_in_the_message(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_UNPACKED_BYTES", 100)
    problems = read_cohort(H.declared_range_workbook(tmp_path)).report.problems
    assert problems[0].rule == "TOO_LARGE" and "unpack to more than 0 MB" in problems[0].message


def test_csv_over_the_cell_limit_is_refused_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_TABLE_CELLS", 1000)
    path = H.many_errors(tmp_path, 400)  # 401 lines x 3 fields
    problems = read_cohort(path).report.problems
    assert problems[0].rule == "TOO_LARGE" and "401 lines x 3 fields" in problems[0].message


def test_parquet_lists_and_structs_become_located_problems(tmp_path):
    problems = _problems(H.parquet_list_column(tmp_path))  # before: exit 2, "this is a bug" (TypeError)
    nested = {p["column"] for p in problems if p["rule"] == "NESTED_VALUE"}
    assert nested == {"sex", "extra"}
    vocab = [p for p in problems if p["rule"] == "VOCABULARY"]
    assert [(p["patient_id"], p["row"], p["value"]) for p in vocab] == [("P1", 2, '["M"]'), ("P2", 3, '["F", "M"]')]


def test_timezone_aware_times_are_read_as_their_local_calendar_date(tmp_path):
    cohort = read_cohort(H.parquet_tz_datetime(tmp_path))  # before: AttributeError (.dt accessor)
    assert cohort.report.ok
    assert {p.rule for p in cohort.report.problems} == {"TIMEZONE_DATETIME"}
    # 2024-01-01 23:30 in Berlin is 22:30 UTC: the calendar date stays 2024-01-01 either way; day = 152 - 0
    assert list(cohort.patients["last_followup_day"]) == [152, 151]


def test_terminal_markup_and_escapes_in_cells_reach_the_terminal_inert(tmp_path):
    code, out, _ = cli("validate", str(H.terminal_hostile_csv(tmp_path)))
    assert code == 1, out  # before: rich MarkupError on '[/x]' (a traceback)
    assert "\x1b" not in out and "\x07" not in out and "\x08" not in out and "\r" not in out
    assert "[/x]" in out and "[link=http://evil.example]click[/link]" in out  # shown as text
    assert "<U+001B>[2J<U+001B>[31mc" in out and "bell<U+0007>" in out  # in the grouped line (first 6 values)
    assert '# "cr\\roverwrite": ...' in out  # every value in the paste-ready block, escaped as YAML reads it back


def test_bidi_and_invisible_ids_are_neutralised_everywhere_with_a_warning(tmp_path):
    cohort = read_cohort(H.terminal_hostile_csv(tmp_path))
    shown = [neutralise(i) for i in H.BIDI_IDS]
    assert shown == ["P<U+202E>10-TP", "P<U+200B>1", "P<U+2066>x<U+2069>"]
    assert set(shown) <= set(cohort.patients["patient_id"])
    warned = {p.patient_id for p in cohort.report.problems if p.rule == "UNSAFE_ID"}
    assert warned == set(shown)
    assert len(cohort.patients) == len(H.TERMINAL_HOSTILE) + len(H.BIDI_IDS)  # no patient lost


def test_an_alias_bomb_plan_is_refused_in_seconds(tmp_path):
    plan = H.alias_bomb_plan(tmp_path)
    code, out, seconds = cli("run", str(plan), "--out", str(tmp_path / "out"), "--quiet")
    assert code == 2 and seconds < 30  # before: 4.8 GB and no end
    assert "line 9:" in out and "100,000 values" in out
    code, out, _ = cli("validate", "--plan", str(plan))
    assert code == 2 and "100,000 values" in out


@pytest.mark.parametrize("text, expected", [
    ("a: &a [1, *a]\ndata: {source: .}\n", "alias inside its own anchor"),
    ("x: " + "[" * 60 + "]" * 60 + "\n", "nesting deeper than 50"),
    ("[" * 5000 + "]" * 5000, "nested too deeply"),
    ("x: '" + "y" * 1_000_001 + "'\n", "the limit is 1,000,000"),
])
def test_hostile_plan_shapes_are_located_plan_errors(text, expected):
    with pytest.raises(PlanError, match=expected):
        parse_plan(text)


def test_plans_with_small_aliases_still_work():
    plan = parse_plan("data: &d {source: .}\ncomparisons:\n  - {name: a, by: sex, rates_at: &r [30, 60]}\n"
                      "  - {name: b, by: diagnosis, rates_at: *r}\n")
    assert plan.comparisons[1].rates_at == [30, 60]


def test_a_plan_that_is_not_utf8_is_a_located_error(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_bytes(b"data:\n  source: \xff\xfe.\n")
    with pytest.raises(PlanError, match="not UTF-8"):
        load_plan(path)


@pytest.mark.slow
def test_text_output_of_many_problems_costs_what_json_costs(tmp_path):
    path = H.many_errors(tmp_path, 40_000)
    code_t, out, text_s = cli("validate", str(path), timeout=120)
    code_j, _, json_s = cli("validate", str(path), "--format", "json", timeout=120)
    assert code_t == code_j == 1 and out.count("[BAD_NUMBER]") == 1  # one cause, said once (rows as ranges)
    assert "40000 error(s) (1 to fix)" in out
    assert text_s < 2 * json_s + 5  # before: 262 s against 14 s for 140,000 problems
