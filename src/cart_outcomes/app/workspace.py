"""One browser session's work, without any web framework: the uploaded sheet, ``init``'s guesses, the user's
corrections, the plan written from them, the run and the downloadable zip.

Everything lives in a private temporary folder that :meth:`Workspace.close` removes (the app calls it when the
session ends). The plan is an ordinary ``study.yaml`` next to the sheet, run with
:func:`~cart_outcomes.plan.run.run_plan`, so ``cart-outcomes run study.yaml`` on the downloaded plan gives the same
``results.json`` bytes.
"""

from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from cart_outcomes.cohort._problems import Problem
from cart_outcomes.cohort.schema import TABLES
from cart_outcomes.errors import CartOutcomesError, InputError

__all__ = ["ACCEPTED", "ENDPOINTS", "MAX_UPLOAD_MB", "AnalysisChoices", "Workspace", "group_problems"]

#: Largest sheet the app accepts, in megabytes (the command line has no such limit).
MAX_UPLOAD_MB = 50
#: File types the upload accepts.
ACCEPTED = (".xlsx", ".csv", ".parquet")
#: The standard analyses, pre-selected, with the population each is estimated in.
ENDPOINTS = {"os": "all", "pfs": "all", "efs": "all", "dor": "responders", "cir": "all", "nrm": "all"}
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class AnalysisChoices:
    """What the Analyse step offers a clinician; :meth:`Workspace.plan_dict` turns them into plan sections."""

    endpoints: tuple[str, ...] = tuple(ENDPOINTS)
    time_unit: str = "days"
    rates_at: tuple[float, ...] = (182.625, 365.25)
    hsct_comparison: bool = True
    by: str | None = None
    criteria: str = "astct2019"


def group_problems(problems: tuple[Problem, ...] | list[Problem]) -> list[dict]:
    """Problems grouped by (severity, rule, table, column), errors first: count, rule text and every location."""
    groups: dict[tuple, dict] = {}
    for p in problems:
        key = (p.severity, p.rule, p.table, p.column)
        g = groups.setdefault(key, {"severity": p.severity, "rule": p.rule, "table": p.table, "column": p.column,
                                    "problems": []})
        g["problems"].append(p)
    return sorted(groups.values(), key=lambda g: (g["severity"] != "error", g["rule"], str(g["column"])))


@dataclass
class Workspace:
    """The session's folder, sheet, guesses and corrections."""

    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="cart-outcomes-app-")))
    sheet: Path | None = None
    guess: object | None = None  # plan.init.InitResult
    columns: dict[str, str | None] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    date_format: str | None = None

    def close(self) -> None:
        """Remove the folder and everything in it (the uploaded sheet, plans, outputs)."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def load(self, source: Path, name: str) -> None:
        """Copy ``source`` into the folder under its own file name and take ``init``'s guesses for it.

        Raises :class:`~cart_outcomes.errors.InputError` for a file type not accepted or an unreadable sheet.
        """
        from cart_outcomes.plan.init import init_plan

        suffix = Path(name).suffix.lower()
        if suffix not in ACCEPTED:
            raise InputError(f"{name}: not a sheet the app reads; give one of {', '.join(ACCEPTED)}")
        if source.stat().st_size > MAX_UPLOAD_MB << 20:
            raise InputError(f"{name} is larger than {MAX_UPLOAD_MB} MB, the app's limit; use the command line "
                             "(cart-outcomes init, then cart-outcomes run)")
        for old in self.folder.iterdir():  # a new sheet replaces everything of the previous one
            shutil.rmtree(old) if old.is_dir() else old.unlink()
        own = Path(name.replace("\\", "/")).name  # the browser's file name, never a path
        self.sheet = self.folder / (own if own not in ("", ".", "..") and own != "study.yaml" else "sheet" + suffix)
        shutil.copyfile(source, self.sheet)
        self.guess = init_plan(self.sheet, self.folder / "study.yaml", force=True)
        self.columns = {g.header: g.column for sg in self.guess.sheets for g in sg.columns}
        self.values = {c: {raw: canon for raw, (canon, _) in v.items()} for sg in self.guess.sheets
                       for c, v in sg.values.items()}
        for sg in self.guess.sheets:
            for c, raws in sg.unmapped_values.items():
                self.values.setdefault(c, {}).update({raw: "" for raw in raws})
        self.date_format = self.guess.date_format

    def choices_for(self, header: str) -> list[str]:
        """Canonical columns a header of the sheet may map to (those of its sheet's table)."""
        for sg in self.guess.sheets:
            if sg.table is not None and any(g.header == header for g in sg.columns):
                return list(TABLES[sg.table].names)
        return []

    def mapped(self) -> set[str]:
        return {c for c in self.columns.values() if c}

    def data_section(self) -> dict:
        """The plan's ``data`` section from ``init``'s guess and the corrections."""
        base = yaml.safe_load(self.guess.text)["data"]
        data = {"source": base["source"]}
        for key in ("header_row", "sheets", "decimal"):
            if key in base:
                data[key] = base[key]
        if self.date_format:
            data["date_format"] = self.date_format
        data["columns"] = {h: c for h, c in self.columns.items() if c}
        mapped = self.mapped()
        values = {c: {raw: canon for raw, canon in v.items() if canon} for c, v in self.values.items() if c in mapped}
        if any(values.values()):
            data["values"] = {c: v for c, v in values.items() if v}
        return data

    def problems(self) -> list[Problem]:
        """Every problem of the sheet read with the current mapping (what ``cart-outcomes validate`` lists)."""
        from cart_outcomes.cohort.io import read_cohort
        from cart_outcomes.cohort.mapping import DataMapping

        return list(read_cohort(self.sheet, DataMapping(**self.data_section())).report.problems)

    def plan_dict(self, choices: AnalysisChoices, *, deidentify: bool = False) -> dict:
        """The whole plan: ``init``'s sections with the data corrections and the Analyse choices."""
        base = yaml.safe_load(self.guess.text)
        plan = {"version": base["version"], "title": base["title"], "data": self.data_section(),
                "endpoints": base["endpoints"], "statistics": {**base["statistics"], "time_unit": choices.time_unit}}
        plan["analyses"] = [{"endpoint": ep, **({"population": "responders"} if ENDPOINTS[ep] == "responders" else {}),
                             **({"by": choices.by} if choices.by else {}), "rates_at": list(choices.rates_at)}
                            for ep in choices.endpoints]
        mapped = self.mapped()
        if choices.hsct_comparison and mapped & {"hsct_date", "hsct_day"}:
            comparison = {"name": "responders_by_hsct", "population": "responders", "exposure": "hsct_day",
                          "endpoints": ["os", "pfs"], "rates_at": [365.25]}
            if "hsct_intent" in mapped:
                comparison["exposure_filter"] = {"hsct_intent": "consolidative"}
            plan["comparisons"] = [comparison]
        plan["toxicity"] = {**base.get("toxicity", {}), "criteria": choices.criteria}
        if deidentify:
            plan["report"] = {"deidentify": True}
        return plan

    def write_plan(self, choices: AnalysisChoices, *, deidentify: bool = False) -> Path:
        """Write ``study.yaml`` (or ``study-deidentified.yaml``) next to the sheet and check it loads."""
        from cart_outcomes.plan.model import load_plan

        path = self.folder / ("study-deidentified.yaml" if deidentify else "study.yaml")
        head = (f"# Analysis plan written by the cart-outcomes app from {self.sheet.name}.\n"
                f"# Re-run it next to the sheet:  cart-outcomes run {path.name}\n")
        body = yaml.safe_dump(self.plan_dict(choices, deidentify=deidentify), sort_keys=False, allow_unicode=True)
        path.write_text(head + body, encoding="utf-8")
        load_plan(path)
        return path

    def run(self, choices: AnalysisChoices, *, deidentify: bool = False,
            progress: Callable[[str], None] | None = None):
        """Write the plan and run it into ``out`` (``out-deidentified``); returns the RunResult."""
        from cart_outcomes.plan.run import run_plan

        plan = self.write_plan(choices, deidentify=deidentify)
        out = self.folder / ("out-deidentified" if deidentify else "out")
        shutil.rmtree(out, ignore_errors=True)
        return run_plan(plan, out, progress=progress)

    def zip_bytes(self, *, deidentify: bool = False) -> bytes:
        """The outputs of the last run and its plan as a zip (fixed entry times: the same run gives the same
        bytes). The sheet itself is not included: the plan names it, the user has it."""
        out = self.folder / ("out-deidentified" if deidentify else "out")
        plan = self.folder / ("study-deidentified.yaml" if deidentify else "study.yaml")
        if not (out / "results.json").is_file():
            raise CartOutcomesError("run the analysis first")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for path in [plan, *sorted(p for p in out.rglob("*") if p.is_file())]:
                info = zipfile.ZipInfo(path.relative_to(out).as_posix() if path.is_relative_to(out) else path.name,
                                       _FIXED_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, path.read_bytes())
        return buf.getvalue()
