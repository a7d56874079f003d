"""Seeded mutation fuzzing of the example cohort and plan (docs/security.md, promise 7): a few hundred mutants of
the CD7 seed study's files, each read, validated and printed as a user would, must end without a traceback and
without losing a patient silently (a cohort that validates has every non-blank patients row, under its own id)."""

from __future__ import annotations

import csv
import io
import json
import random
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cart_outcomes._text import neutralise
from cart_outcomes.cli import app
from cart_outcomes.cohort import read_cohort
from cart_outcomes.errors import InputError
from cart_outcomes.plan.model import PlanError, parse_plan

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cd7-tall"
SEED = 17
N_COHORTS = 120
N_PLANS = 300
N_CLI = 30

#: What a careless user or an attacker puts in a cell.
HOSTILE = ["", " ", "NA", "#N/A", "[/x]", "[bold]x[/]", "\x1b[2J", "\x1b]8;;http://x\x07y\x1b]8;;\x07", "\u202eP1",
           "\u200b", "=HYPERLINK(\"http://x\")", "<script>alert(1)</script>", "-1", "1e308", "NaN", "inf", "99999999",
           "2024-02-30", "03/04/2024", "0", "1.5", "CR", "yes", "é" * 300, "x" * 5000, "P01", "\t", '"', "'", ";", ",",
           "\\", "\ufeff", "𝟘", "null", "2261-12-31", "1677-01-01"]


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _mutate(rows: list[list[str]], rng: random.Random) -> list[list[str]]:
    rows = [list(r) for r in rows]
    for _ in range(rng.randint(1, 6)):
        kind = rng.random()
        i, j = rng.randrange(1, max(len(rows), 2)), rng.randrange(max(len(rows[0]), 1))
        if kind < 0.6:
            if j < len(rows[i]):
                rows[i][j] = rng.choice(HOSTILE)
        elif kind < 0.7:
            rows.insert(i, list(rows[i]))  # a duplicated row
        elif kind < 0.75:
            rows.insert(i, [""] * len(rows[0]))  # a blank row
        elif kind < 0.8:
            for r in rows:
                del r[j:j + 1]  # a dropped column
        elif kind < 0.85:
            if j < len(rows[0]):
                rows[0][j] = rng.choice(HOSTILE[:12] + [rows[0][j].upper(), rows[0][j] + " "])  # a mangled header
        elif kind < 0.9:
            rows.append([rng.choice(HOSTILE) for _ in rows[0]])  # a junk row
        elif kind < 0.95:
            rows[i] = rows[i][: rng.randrange(len(rows[i]) + 1)]  # a short row
        else:
            rows.insert(0, ["Cohort export " + rng.choice(HOSTILE)])  # a title row
    return rows


def _mild(rows: list[list[str]], rng: random.Random) -> list[list[str]]:
    """Mutations a valid cohort survives: hostile but unique ids, blank rows (the ids are not in other tables)."""
    rows = [list(r) for r in rows]
    k = rows[0].index("patient_id")
    for i in range(1, len(rows)):
        if rng.random() < 0.5:
            rows[i][k] = f"{rng.choice(HOSTILE[4:20])}{i}"
    for _ in range(rng.randint(0, 3)):
        rows.insert(rng.randrange(1, len(rows) + 1), [""] * len(rows[0]))
    return rows


def _write(rows: list[list[str]], path: Path, rng: random.Random) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=rng.choice(["\n", "\r\n"]), quoting=csv.QUOTE_MINIMAL).writerows(rows)
    text = ("\ufeff" if rng.random() < 0.1 else "") + buf.getvalue()
    path.write_text(text, encoding="utf-8")


def _expected_ids(rows: list[list[str]]) -> list[str]:
    """Non-blank data rows of an unmutated-header patients sheet, as their (neutralised) ids."""
    header = rows[0]
    if "patient_id" not in header:
        return []
    k = header.index("patient_id")
    return [neutralise(r[k].strip()) for r in rows[1:] if any(c.strip() for c in r) and len(r) > k]


def test_mutated_cohorts_never_raise_and_never_lose_a_patient_silently(tmp_path):
    rng = random.Random(SEED)
    patients = _rows(EXAMPLE / "patients.csv")
    crs = _rows(EXAMPLE / "crs_observations.csv")
    checked = 0
    for case in range(N_COHORTS):
        folder = tmp_path / f"c{case}"
        folder.mkdir()
        if case % 3 == 0:  # mild: the cohort should still validate, and every patient must be there
            mutated = _mild(patients, rng)
        else:
            mutated = _mutate(patients, rng)
            _write(_mutate(crs, rng) if rng.random() < 0.5 else crs, folder / "crs_observations.csv", rng)
        _write(mutated, folder / "patients.csv", rng)
        try:
            cohort = read_cohort(folder)
        except InputError:
            continue  # a usage problem, reported as such (exit 2)
        for p in cohort.report.problems:
            assert p.message and (p.row is None or p.row >= 1), (case, p)
        if cohort.report.ok and mutated[0][:1] == ["patient_id"]:
            ids = _expected_ids(mutated)
            assert len(cohort.patients) == len(ids), (case, ids)  # no row dropped without an error
            assert sorted(cohort.patients["patient_id"].astype(str)) == sorted(ids), case
            checked += 1
    assert checked >= N_COHORTS // 10  # the invariant was exercised, not skipped


def test_mutated_cohorts_print_in_the_terminal_without_a_traceback(tmp_path):
    rng = random.Random(SEED + 1)
    patients = _rows(EXAMPLE / "patients.csv")
    runner = CliRunner()
    for case in range(N_CLI):
        path = tmp_path / f"p{case}.csv"
        _write(_mutate(patients, rng), path, rng)
        for args in (["validate", str(path)], ["validate", str(path), "--format", "json"]):
            result = runner.invoke(app, args)
            assert result.exit_code in (0, 1, 2), (case, args, result.output)
            assert result.exception is None or isinstance(result.exception, SystemExit), (case, result.exception)
            assert "\x1b" not in result.output or "--format" in args  # JSON escapes ESC as \u001b


PLAN_MUTATIONS = ["&a ", "*a", "[", "]", "{", "}", ": ", "- ", "\t", "'", '"', "!!python/object:os.system ",
                  "\x00", "\u202e", "~", "null", "1e400", "-1", "&b [*b]", "<<: *a", "? ", "|", ">", "%YAML 1.1\n"]


def test_mutated_plans_fail_only_with_located_plan_errors():
    rng = random.Random(SEED + 2)
    text = (EXAMPLE / "study.yaml").read_text(encoding="utf-8")
    lines = text.splitlines()
    parsed = 0
    for _case in range(N_PLANS):
        mutated = list(lines)
        for _ in range(rng.randint(1, 4)):
            k = rng.randrange(len(mutated))
            roll = rng.random()
            if roll < 0.5:
                pos = rng.randrange(len(mutated[k]) + 1)
                mutated[k] = mutated[k][:pos] + rng.choice(PLAN_MUTATIONS) + mutated[k][pos:]
            elif roll < 0.7:
                del mutated[k]
            elif roll < 0.85:
                mutated.insert(k, mutated[rng.randrange(len(mutated))])
            else:
                mutated[k] = mutated[k].replace(" ", "", 1)  # indentation broken
        try:
            parse_plan("\n".join(mutated))
            parsed += 1
        except PlanError as exc:
            assert exc.problems and all(p.startswith(("line ", "byte ")) for p in exc.problems), exc.problems
    assert 0 < parsed < N_PLANS


@pytest.mark.parametrize("seed", range(3))
def test_mutated_plans_run_or_fail_cleanly_through_the_cli(tmp_path, seed):
    """A few whole runs: the seed study with a mutated comparison name and title (exit 0, or 2 for a bad plan)."""
    rng = random.Random(SEED + 10 + seed)
    study = tmp_path / "study"
    study.mkdir()
    for f in EXAMPLE.glob("*.csv"):
        (study / f.name).write_bytes(f.read_bytes())
    text = (EXAMPLE / "study.yaml").read_text(encoding="utf-8")
    name = "".join(rng.choice(HOSTILE[4:12] + ["../", "/", "x" * 200]) for _ in range(3))
    title = rng.choice(HOSTILE[4:12])
    text = text.replace("name: responders_by_hsct", f"name: {json.dumps(name)}")  # JSON strings are YAML
    text = re.sub(r"^title: .*$", lambda _: f"title: {json.dumps(title + ' CD7')}", text, flags=re.MULTILINE)
    (study / "study.yaml").write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(study / "study.yaml"), "--out", str(out), "--quiet"])
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "\x1b" not in result.output
    if result.exit_code == 0:
        assert all(p.resolve().is_relative_to(out.resolve()) for p in out.rglob("*"))
