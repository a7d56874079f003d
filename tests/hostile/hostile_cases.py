"""Generators of the hostile and huge inputs of docs/security.md (issue 17), shared by the tests and
``benchmarks/bench_hostile.py``. Every generator writes into a folder it is given and returns the path to pass to
the command line; sizes are parameters so the tests stay small and the benchmark can go large."""

from __future__ import annotations

import csv
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cd7-tall"

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="patients" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>')
_SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
               '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _workbook(path: Path, sheet_parts: list[str] | None = None, *, rows_repeat: tuple[str, int] | None = None,
              dimension: str | None = None) -> Path:
    """A minimal one-sheet xlsx written by hand (so the cells and the declared dimension can be anything)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _ROOT_RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(_SHEET_HEAD.encode())
            if dimension:
                fh.write(f'<dimension ref="{dimension}"/>'.encode())
            fh.write(b"<sheetData>")
            for part in sheet_parts or ():
                fh.write(part.encode())
            if rows_repeat:
                chunk, times = rows_repeat
                block = (chunk * 1000).encode()
                for _ in range(times // 1000):
                    fh.write(block)
            fh.write(b"</sheetData></worksheet>")
    return path


def far_cell_workbook(folder: Path) -> Path:
    """A small valid patients sheet plus one stray cell at XFD1048576 (the last cell a workbook can have)."""
    rows = ['<row r="1">' + _inline("A1", "patient_id") + _inline("B1", "last_followup_day") + "</row>",
            '<row r="2">' + _inline("A2", "P1") + '<c r="B2"><v>100</v></c></row>',
            '<row r="1048576">' + _inline("XFD1048576", "stray") + "</row>"]
    return _workbook(folder / "far_cell.xlsx", rows, dimension="A1:XFD1048576")


def declared_range_workbook(folder: Path) -> Path:
    """A small valid sheet whose <dimension> claims the whole grid, though only A1:B2 hold cells."""
    rows = ['<row r="1">' + _inline("A1", "patient_id") + _inline("B1", "last_followup_day") + "</row>",
            '<row r="2">' + _inline("A2", "P1") + '<c r="B2"><v>100</v></c></row>']
    return _workbook(folder / "declared_range.xlsx", rows, dimension="A1:XFD1048576")


def zip_bomb_workbook(folder: Path, megabytes_unpacked: int = 260) -> Path:
    """A workbook whose sheet XML is ``megabytes_unpacked`` MB of identical rows (about 1 MB packed for 260)."""
    row = "<row>" + "<c><v>1</v></c>" * 10 + "</row>"
    times = megabytes_unpacked * 1_000_000 // len(row)
    head = ['<row r="1">' + _inline("A1", "patient_id") + "</row>"]
    return _workbook(folder / "zip_bomb.xlsx", head, rows_repeat=(row, times))


def parquet_list_column(folder: Path) -> Path:
    """A patients parquet file whose ``sex`` column holds lists and one extra column holds structs."""
    frame = pd.DataFrame({"patient_id": ["P1", "P2"], "last_followup_day": [100, 200], "sex": [["M"], ["F", "M"]],
                          "extra": [{"a": 1}, {"a": 2}]})
    path = folder / "patients.parquet"
    frame.to_parquet(path)
    return path


def parquet_tz_datetime(folder: Path) -> Path:
    """A patients parquet file with timezone-aware datetime columns (UTC and Europe/Berlin)."""
    frame = pd.DataFrame({"patient_id": ["P1", "P2"],
                          "infusion_date": pd.to_datetime(["2024-01-01 23:30", "2024-02-01 00:00"]).tz_localize(
                              "Europe/Berlin"),
                          "last_followup_date": pd.to_datetime(["2024-06-01", "2024-07-01"]).tz_localize("UTC")})
    path = folder / "patients.parquet"
    frame.to_parquet(path)
    return path


#: Cell texts that are markup or control sequences to a terminal.
TERMINAL_HOSTILE = ["[/x]", "[bold red]loud[/]", "\x1b[2J\x1b[31mcleared", "\x1b]8;;http://evil.example\x07click"
                    "\x1b]8;;\x07", "[link=http://evil.example]click[/link]", "bell\x07", "back\x08space",
                    "cr\roverwrite"]
#: Ids that display as something else: a right-to-left override and an invisible character.
BIDI_IDS = ["P\u202e10-TP", "P\u200b1", "P\u2066x\u2069"]


def terminal_hostile_csv(folder: Path) -> Path:
    """A patients CSV whose ids and vocabulary cells are terminal markup, control characters and bidi overrides."""
    ids = [f"T{k}" for k in range(len(TERMINAL_HOSTILE))] + BIDI_IDS
    sex = TERMINAL_HOSTILE + ["M"] * len(BIDI_IDS)
    frame = pd.DataFrame({"patient_id": ids, "sex": sex, "last_followup_day": 100})
    frame.loc[0, "patient_id"] = "[/x]"
    path = folder / "patients.csv"
    frame.to_csv(path, index=False, quoting=csv.QUOTE_NONNUMERIC)  # quoted: the carriage return stays in its cell
    return path


def alias_bomb_plan(folder: Path, levels: int = 9) -> Path:
    """A 'billion laughs' plan: each level is a list of ten aliases to the one before."""
    lines = ["version: 1", "data:", "  source: .", 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol"]']
    for k in range(1, levels + 1):
        refs = ", ".join([f"*a{k - 1}"] * 10)
        lines.append(f"a{k}: &a{k} [{refs}]")
    path = folder / "study.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def long_labs(folder: Path, n_rows: int, n_patients: int = 1000, seed: int = 7) -> Path:
    """A cohort folder: ``n_patients`` valid patients and a long labs table of ``n_rows`` rows."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ids = np.array([f"P{k:06d}" for k in range(n_patients)])
    pd.DataFrame({"patient_id": ids, "last_followup_day": 365}).to_csv(folder / "patients.csv", index=False)
    pid = ids[rng.integers(0, n_patients, n_rows)]
    day = rng.integers(-7, 365, n_rows)
    pd.DataFrame({"patient_id": pid, "day": day, "anc_per_ul": rng.integers(0, 5000, n_rows),
                  "platelets_per_ul": rng.integers(1000, 300_000, n_rows)}).to_csv(folder / "labs.csv", index=False)
    return folder


def many_errors(folder: Path, n_rows: int) -> Path:
    """A patients CSV of ``n_rows`` patients each with one bad number (one located problem per row)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "patients.csv"
    pd.DataFrame({"patient_id": [f"P{k:06d}" for k in range(n_rows)], "age_years": "old",
                  "last_followup_day": 100}).to_csv(path, index=False)
    return path


def outside_source_plan(folder: Path) -> Path:
    """A plan in ``folder/plan`` whose data.source is ``../data`` (outside the plan's folder)."""
    data = folder / "data"
    shutil.copytree(EXAMPLE, data, ignore=shutil.ignore_patterns("*.py", "*.md", "*.yaml"))
    plan_dir = folder / "plan"
    plan_dir.mkdir()
    text = (EXAMPLE / "study.yaml").read_text(encoding="utf-8").replace("source: .", "source: ../data")
    (plan_dir / "study.yaml").write_text(text, encoding="utf-8")
    return plan_dir / "study.yaml"
