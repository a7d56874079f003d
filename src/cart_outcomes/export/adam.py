"""CDISC ADaM datasets (ADSL, ADTTE, ADRS, ADAE) from a ``run`` output folder, as SAS transport and Parquet.

``cart-outcomes export adam RESULTS_DIR --out adam/`` (or the plan's ``report: {adam: true}``) reads only the run's
own files, never the cohort, and computes nothing: every value is a number or word the run wrote, renamed and
reshaped (as admiral's one derived dataset per analysis):

- ``results.json``: the study title (``STUDYID`` by default), the response day and the responses counted,
  whether the run was de-identified;
- ``tables/subjects.csv``: one row per patient (baseline, responses, infusion date when the cohort had dates);
- ``tables/endpoints.csv`` and ``tables/endpoint_sources.csv``: each endpoint's time, event and deciding source;
- ``tables/toxicity_by_patient.csv``: the maximum CRS/ICANS grade with its grading system (when graded).

Datasets:

1. ``ADSL``: one row per patient.
2. ``ADTTE``: one row per patient and ``PARAMCD`` (``OS``, ``PFS``, ``EFS``, ``DOR``) with a derived time;
   ``AVAL`` in days from the endpoint's time zero (the infusion; the first response for DOR), ``CNSR`` 0 for the
   event and 1 otherwise (censoring or a competing event), ``EVNTDESC`` the deciding source of every row (as
   admiral's ``event_source``/``censor_source`` set it) and ``CNSDTDSC`` that of censored rows, so that R's
   ``survfit(Surv(AVAL, 1 - CNSR) ~ 1)`` is the run's Kaplan-Meier analysis.
3. ``ADRS``: the response at the plan's assessment (``PARAMCD`` ``RSPD28`` for day 28) and the best overall
   response (``BOR``), one row per recorded response.
4. ``ADAE``: one row per patient with CRS or ICANS of grade 1 or more: ``AETOXGR`` and the grading system
   (``AETOXSYS``); a patient graded 0 has no row.

Calendar dates (``TRTSDT``, ``STARTDT``, ``ADT``, ``ASTDT``) are written only when the run holds infusion dates: a
cohort given in days from infusion, and every de-identified run (whose outputs hold study codes and no dates), gives
days (``ADY``, ``ASTDY``) only; ``define.csv`` states which. ``USUBJID`` is the run's patient id (a study code when
de-identified).

Each dataset is written as ``<name>.xpt`` (SAS transport version 5, through pyreadstat: names of at most 8
characters, labels of at most 40, text of at most 200 bytes) and ``<name>.parquet`` (pyarrow), with ``define.csv``
and ``define.html``: one row per variable (dataset, name, label, type, length, format, derivation).
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cart_outcomes.cohort.schema import ENDPOINT_NAMES
from cart_outcomes.errors import InputError

__all__ = ["ADTTE_PARAMS", "FORMATS", "Dataset", "Variable", "adam_datasets", "require_writers", "write_adam"]

#: The time-to-event parameters of ADTTE (endpoint of the run -> PARAMCD).
ADTTE_PARAMS = {"os": "OS", "pfs": "PFS", "efs": "EFS", "dor": "DOR"}
#: File formats :func:`write_adam` writes.
FORMATS = ("xpt", "parquet")
#: MedDRA preferred term and system organ class of each graded toxicity.
_AE_TERMS = {"crs": ("Cytokine release syndrome", "Immune system disorders"),
             "icans": ("Immune effector cell-associated neurotoxicity syndrome", "Nervous system disorders")}
_SEX = {"M": "M", "F": "F"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: format -> (the module that writes it, the extra that installs it)
_WRITERS = {"xpt": ("pyreadstat", "readstat"), "parquet": ("pyarrow.parquet", "parquet")}


@dataclass(frozen=True, slots=True)
class Variable:
    """One ADaM variable: name (at most 8 characters), label (at most 40), ``Char``/``Num``/``Date`` and how it
    was derived from the run's files."""

    name: str
    label: str
    type: str
    derivation: str


@dataclass(frozen=True, slots=True)
class Dataset:
    """One ADaM dataset: its name, label, rows and variable metadata (in column order)."""

    name: str
    label: str
    frame: pd.DataFrame
    variables: tuple[Variable, ...]


def _read_table(results_dir: Path, name: str, *, required: bool = True) -> pd.DataFrame | None:
    path = results_dir / "tables" / f"{name}.csv"
    if not path.is_file():
        if required:
            raise InputError(f"{results_dir} is not a run output folder of this version: tables/{name}.csv is "
                             "missing (re-run `cart-outcomes run` to write it)")
        return None
    frame = pd.read_csv(path, dtype={"patient_id": str}, keep_default_na=False, na_values=[""])
    for column in frame.columns:  # undo the spreadsheet-formula guard of the CSV writer ('=x -> =x)
        if pd.api.types.is_string_dtype(frame[column].dtype):  # object on pandas 2, str on pandas 3
            frame[column] = frame[column].map(
                lambda v: v[1:] if isinstance(v, str) and v[:1] == "'" and v[1:2] in _FORMULA_START and v[1:2]
                else v)
    return frame


def _text(value: Any) -> str:
    return "" if value is None or pd.isna(value) else str(value)


def _flag(mask: pd.Series) -> pd.Series:
    return mask.map(lambda v: "Y" if bool(v) else "N")


def _dates(infusion: pd.Series | None, days: pd.Series) -> pd.Series | None:
    """Calendar dates ``infusion + days`` (``None`` when the run holds no infusion dates)."""
    if infusion is None:
        return None
    out = infusion + pd.to_timedelta(pd.to_numeric(days, errors="coerce"), unit="D")
    return out.map(lambda t: None if pd.isna(t) else t.date())


def _finish(name: str, label: str, columns: dict[str, tuple[pd.Series | Any, Variable]]) -> Dataset:
    frame = pd.DataFrame({k: v for k, (v, _) in columns.items()})
    return Dataset(name, label, frame.reset_index(drop=True), tuple(var for _, var in columns.values()))


def adam_datasets(results_dir: str | Path, *, studyid: str | None = None) -> dict[str, Dataset]:
    """The ADaM datasets of a run output folder (nothing written).

    Parameters
    ----------
    results_dir : a folder written by ``cart-outcomes run`` (``results.json`` and ``tables/``).
    studyid : ``STUDYID`` of every row (default: the run's title).

    Returns
    -------
    dict ``{"ADSL", "ADTTE", "ADRS", "ADAE"}`` -> :class:`Dataset`.

    Raises
    ------
    InputError : the folder is not a run output folder (or was written before the patient-level tables existed).
    """
    return _build(Path(results_dir), studyid)[0]


def _build(results_dir: Path, studyid: str | None) -> tuple[dict[str, Dataset], str]:
    """The datasets and the sentence saying which dates and ids they hold."""
    path = results_dir / "results.json"
    if not path.is_file():
        raise InputError(f"{results_dir} has no results.json: give the folder `cart-outcomes run` wrote")
    record = json.loads(path.read_text(encoding="utf-8"))
    subjects = _read_table(results_dir, "subjects")
    endpoints = _read_table(results_dir, "endpoints")
    sources = _read_table(results_dir, "endpoint_sources")
    toxicity = _read_table(results_dir, "toxicity_by_patient", required=False)
    study = str(studyid if studyid is not None else record.get("title", "")) or "STUDY"
    deidentified = bool(record.get("input", {}).get("deidentified", False))
    infusion = (pd.to_datetime(subjects["infusion_date"]) if "infusion_date" in subjects.columns
                and subjects["infusion_date"].notna().any() else None)
    dated = infusion is not None
    by_id = {"infusion": dict(zip(subjects["patient_id"], infusion, strict=True)) if dated else None}
    conventions = record.get("conventions", {})
    common = {"study": study, "dated": dated, "by_id": by_id}
    return ({"ADSL": _adsl(subjects, endpoints, infusion, study),
             "ADTTE": _adtte(endpoints, subjects, sources, **common),
             "ADRS": _adrs(subjects, conventions, **common),
             "ADAE": _adae(toxicity, **common)}, _note(dated, deidentified))


def _note(dated: bool, deidentified: bool) -> str:
    if deidentified:
        return ("De-identified run: USUBJID holds study codes and no calendar date is written (days from infusion "
                "only).")
    if not dated:
        return "The run holds no infusion dates (days from infusion only): calendar date variables are omitted."
    return "Calendar dates are the infusion date plus the days from infusion the run derived."


def _id_vars(frame: pd.DataFrame, study: str) -> dict[str, tuple[Any, Variable]]:
    return {"STUDYID": (study, Variable("STUDYID", "Study Identifier", "Char", "the run's title, or --studyid")),
            "USUBJID": (frame["patient_id"].astype(str),
                        Variable("USUBJID", "Unique Subject Identifier", "Char", "patient_id of the run"))}


def _adsl(subjects: pd.DataFrame, endpoints: pd.DataFrame, infusion: pd.Series | None, study: str) -> Dataset:
    s = subjects
    cols = _id_vars(s, study)
    cols["SUBJID"] = (s["patient_id"].astype(str), Variable("SUBJID", "Subject Identifier for the Study", "Char",
                                                            "patient_id of the run"))
    if "age_years" in s:
        cols["AGE"] = (pd.to_numeric(s["age_years"]), Variable("AGE", "Age", "Num", "subjects.age_years"))
        cols["AGEU"] = ("YEARS", Variable("AGEU", "Age Units", "Char", "YEARS"))
    if "sex" in s:
        cols["SEX"] = (s["sex"].map(lambda v: _SEX.get(_text(v), "U" if _text(v) else "")),
                       Variable("SEX", "Sex", "Char", "subjects.sex: M, F; other as U"))
    product = s["car_t_product"].map(_text) if "car_t_product" in s else pd.Series("CAR-T", index=s.index)
    product = product.where(product != "", "CAR-T")
    cols["TRT01P"] = (product, Variable("TRT01P", "Planned Treatment for Period 01", "Char",
                                        "subjects.car_t_product, else CAR-T"))
    cols["TRT01A"] = (product, Variable("TRT01A", "Actual Treatment for Period 01", "Char", "as TRT01P"))
    if infusion is not None:
        cols["TRTSDT"] = (infusion.map(lambda t: None if pd.isna(t) else t.date()),
                          Variable("TRTSDT", "Date of First Exposure to Treatment", "Date", "subjects.infusion_date"))
    cols["SAFFL"] = ("Y", Variable("SAFFL", "Safety Population Flag", "Char", "Y: every analysed patient was infused"))
    for name, column, label in (("DISEASE", "diagnosis", "Disease"), ("CARTSRC", "car_t_source", "CAR-T Cell Source"),
                                ("CARTDOSE", "dose_cells_per_kg", "CAR-T Cell Dose (cells/kg)"),
                                ("PRLINES", "lines_of_prior_therapy", "Number of Prior Lines of Therapy"),
                                ("HSCTINT", "hsct_intent", "Intent of Allo-HSCT After CAR-T")):
        if column in s:
            numeric = column in ("dose_cells_per_kg", "lines_of_prior_therapy")
            values = pd.to_numeric(s[column]) if numeric else s[column].map(_text)
            cols[name] = (values, Variable(name, label, "Num" if numeric else "Char", f"subjects.{column}"))
    if "hsct_day" in s:
        cols["HSCTFL"] = (_flag(s["hsct_day"].notna()), Variable("HSCTFL", "Allo-HSCT After CAR-T Flag", "Char",
                                                                 "Y when subjects.hsct_day is given"))
        cols["HSCTDY"] = (pd.to_numeric(s["hsct_day"]), Variable("HSCTDY", "Day of Allo-HSCT (Day 0 = Infusion)", "Num",
                                                                 "subjects.hsct_day"))
    death = s["patient_id"].map(dict(zip(endpoints["patient_id"], endpoints["os_source"], strict=True)))
    cols["DTHFL"] = (_flag(death == "death"), Variable("DTHFL", "Subject Death Flag", "Char",
                                                       "Y when endpoints.os_source is death"))
    return _finish("ADSL", "Subject-Level Analysis Dataset", cols)


def _adtte(endpoints: pd.DataFrame, subjects: pd.DataFrame, sources: pd.DataFrame, *, study: str, dated: bool,
           by_id: dict) -> Dataset:
    described = {(r.endpoint, r.source): r.description for r in sources.itertuples()}
    origin = dict(zip(subjects["patient_id"], subjects.get("dor_origin_day", pd.Series(index=subjects.index)),
                      strict=True))
    parts = []
    for ep, code in ADTTE_PARAMS.items():
        if f"{ep}_time_days" not in endpoints:
            continue
        e = endpoints[endpoints[f"{ep}_time_days"].notna()]
        event = e[f"{ep}_event"].astype(str).str.lower() == "true"
        start = (e["patient_id"].map(origin).astype(float) if ep == "dor"
                 else pd.Series(0.0, index=e.index))
        text = [described.get((ep, s), s) for s in e[f"{ep}_source"]]
        parts.append(pd.DataFrame({
            "patient_id": e["patient_id"].astype(str), "PARAMCD": code, "PARAM": f"{ENDPOINT_NAMES[ep]} (days)",
            "AVAL": e[f"{ep}_time_days"].astype(float), "CNSR": (~event).astype(float),
            "STARTDY": start, "ADY": start + e[f"{ep}_time_days"].astype(float),
            "EVNTDESC": text,
            "CNSDTDSC": ["" if ev else t for t, ev in zip(text, event, strict=True)],
            "EVNTSRC": e[f"{ep}_source"].astype(str)}))
    t = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["patient_id"])
    cols = _id_vars(t, study)
    cols |= {
        "PARAMCD": (t.get("PARAMCD"), Variable("PARAMCD", "Parameter Code", "Char", "OS, PFS, EFS, DOR")),
        "PARAM": (t.get("PARAM"), Variable("PARAM", "Parameter", "Char", "the endpoint's name")),
        "AVAL": (t.get("AVAL"), Variable("AVAL", "Analysis Value", "Num", "endpoints.<ep>_time_days")),
        "AVALU": ("DAYS", Variable("AVALU", "Analysis Value Unit", "Char", "DAYS")),
        "CNSR": (t.get("CNSR"), Variable("CNSR", "Censor", "Num", "0 when endpoints.<ep>_event is true, else 1 "
                                         "(censored, or a competing event)")),
        "STARTDY": (t.get("STARTDY"), Variable("STARTDY", "Day of Time Origin (Day 0 = Infusion)", "Num",
                                               "0; for DOR subjects.dor_origin_day (first response)")),
        "ADY": (t.get("ADY"), Variable("ADY", "Analysis Day (Day 0 = Infusion)", "Num", "STARTDY + AVAL")),
    }
    if dated:
        infusion = t["patient_id"].map(by_id["infusion"])
        cols["STARTDT"] = (_dates(infusion, t["STARTDY"]), Variable("STARTDT", "Time to Event Origin Date", "Date",
                                                                    "infusion_date + STARTDY days"))
        cols["ADT"] = (_dates(infusion, t["ADY"]), Variable("ADT", "Analysis Date", "Date",
                                                            "infusion_date + ADY days"))
    cols["EVNTDESC"] = (t.get("EVNTDESC"), Variable("EVNTDESC", "Event or Censoring Description", "Char",
                                                    "description of endpoints.<ep>_source (every row)"))
    cols["CNSDTDSC"] = (t.get("CNSDTDSC"), Variable("CNSDTDSC", "Censor Date Description", "Char",
                                                    "description of endpoints.<ep>_source, censorings"))
    cols["EVNTSRC"] = (t.get("EVNTSRC"), Variable("EVNTSRC", "Deciding Source (endpoints.<ep>_source)", "Char",
                                                "endpoints.<ep>_source"))
    return _finish("ADTTE", "Time-to-Event Analysis Dataset", cols)


def _adrs(subjects: pd.DataFrame, conventions: dict, *, study: str, dated: bool, by_id: dict) -> Dataset:
    day = int(conventions.get("response_day", 28))
    column = conventions.get("response_column", f"day{day}_response")
    parts = []
    if column in subjects:
        s = subjects[subjects[column].notna()]
        assess = (pd.to_numeric(s["response_assessment_day"]) if "response_assessment_day" in s
                  else pd.Series(float("nan"), index=s.index))
        parts.append(pd.DataFrame({"patient_id": s["patient_id"], "PARAMCD": f"RSPD{day}",
                                   "PARAM": f"Response at the Day {day} Assessment", "AVALC": s[column].astype(str),
                                   "ADY": assess.astype(float)}))
    if "best_response" in subjects:
        s = subjects[subjects["best_response"].notna()]
        parts.append(pd.DataFrame({"patient_id": s["patient_id"], "PARAMCD": "BOR", "PARAM": "Best Overall Response",
                                   "AVALC": s["best_response"].astype(str), "ADY": float("nan")}))
    t = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["patient_id", "ADY"])
    counted = set(conventions.get("responses_counted", []))
    cols = _id_vars(t, study)
    cols |= {
        "PARAMCD": (t.get("PARAMCD"), Variable("PARAMCD", "Parameter Code", "Char", f"RSPD{day}, BOR")),
        "PARAM": (t.get("PARAM"), Variable("PARAM", "Parameter", "Char", "the response's name")),
        "AVALC": (t.get("AVALC"), Variable("AVALC", "Analysis Value (C)", "Char",
                                           f"subjects.{column} (RSPD{day}), subjects.best_response (BOR)")),
        "RSPFL": (_flag(t["AVALC"].isin(counted)) if len(t) else t.get("AVALC"),
                  Variable("RSPFL", "Responder Flag", "Char",
                           f"Y when AVALC is a response counted by the run ({', '.join(sorted(counted))})")),
        "ADY": (t["ADY"], Variable("ADY", "Analysis Day (Day 0 = Infusion)", "Num",
                                   "subjects.response_assessment_day (RSPD rows)")),
    }
    if dated:
        cols["ADT"] = (_dates(t["patient_id"].map(by_id["infusion"]), t["ADY"]),
                       Variable("ADT", "Analysis Date", "Date", "infusion_date + ADY days"))
    return _finish("ADRS", "Response Analysis Dataset", cols)


def _adae(toxicity: pd.DataFrame | None, *, study: str, dated: bool, by_id: dict) -> Dataset:
    t = (toxicity if toxicity is not None else pd.DataFrame(columns=["patient_id", "toxicity", "grade", "system",
                                                                     "rule", "onset_day", "resolution_day"]))
    t = t[pd.to_numeric(t["grade"]) >= 1].reset_index(drop=True)
    cols = _id_vars(t, study)
    term = t["toxicity"].map(lambda k: _AE_TERMS[k][0])
    cols |= {
        "AETERM": (term, Variable("AETERM", "Reported Term for the Adverse Event", "Char", "CRS or ICANS")),
        "AEDECOD": (term, Variable("AEDECOD", "Dictionary-Derived Term", "Char", "MedDRA preferred term")),
        "AEBODSYS": (t["toxicity"].map(lambda k: _AE_TERMS[k][1]),
                     Variable("AEBODSYS", "Body System or Organ Class", "Char", "MedDRA system organ class")),
        "AETOXGR": (pd.to_numeric(t["grade"]).map(lambda g: str(int(g))),
                    Variable("AETOXGR", "Standard Toxicity Grade", "Char", "toxicity_by_patient.grade (maximum)")),
        "AETOXSYS": (t["system"].map(_text), Variable("AETOXSYS", "Toxicity Grading System", "Char",
                                                      "toxicity_by_patient.system (e.g. ASTCT2019)")),
        "AEGRRULE": (t["rule"].map(_text), Variable("AEGRRULE", "Rule That Set the Maximum Grade", "Char",
                                                    "toxicity_by_patient.rule (graded from observations)")),
        "ASTDY": (pd.to_numeric(t["onset_day"]), Variable("ASTDY", "Analysis Start Day (Day 0 = Infusion)", "Num",
                                                          "toxicity_by_patient.onset_day")),
        "AENDY": (pd.to_numeric(t["resolution_day"]), Variable("AENDY", "Analysis End Day (Day 0 = Infusion)", "Num",
                                                               "toxicity_by_patient.resolution_day")),
        "TRTEMFL": ("Y", Variable("TRTEMFL", "Treatment Emergent Analysis Flag", "Char", "Y: after infusion")),
    }
    if dated:
        infusion = t["patient_id"].map(by_id["infusion"])
        cols["ASTDT"] = (_dates(infusion, t["onset_day"]), Variable("ASTDT", "Analysis Start Date", "Date",
                                                                    "infusion_date + ASTDY days"))
        cols["AENDT"] = (_dates(infusion, t["resolution_day"]), Variable("AENDT", "Analysis End Date", "Date",
                                                                         "infusion_date + AENDY days"))
    return _finish("ADAE", "Adverse Events Analysis Dataset", cols)


def _check(ds: Dataset) -> None:
    """SAS transport version 5 limits: names of at most 8 characters, labels of at most 40."""
    for v in ds.variables:
        if len(v.name) > 8 or len(v.label) > 40 or not v.name.isupper():
            raise InputError(f"{ds.name}.{v.name}: a version 5 transport name is at most 8 upper-case characters "
                             f"and a label at most 40 ({v.label!r})")


def _for_xpt(ds: Dataset) -> pd.DataFrame:
    out = ds.frame.copy()
    for v in ds.variables:
        if v.type == "Char":
            out[v.name] = out[v.name].map(_text).astype(object)
        elif v.type == "Num":
            out[v.name] = pd.to_numeric(out[v.name]).astype(float)
    return out


def _length(ds: Dataset, v: Variable) -> int:
    if v.type != "Char":
        return 8
    return max([1, *(len(_text(x).encode("utf-8")) for x in ds.frame[v.name])])


def _define(datasets: Sequence[Dataset]) -> pd.DataFrame:
    rows = [(ds.name, ds.label, v.name, v.label, "Num" if v.type == "Date" else v.type, _length(ds, v),
             "DATE9." if v.type == "Date" else "", v.derivation) for ds in datasets for v in ds.variables]
    return pd.DataFrame(rows, columns=["dataset", "dataset_label", "variable", "label", "type", "length", "format",
                                       "derivation"])


def _define_html(define: pd.DataFrame, note: str) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in define.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
                   for row in define.itertuples(index=False))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>ADaM variables</title></head>"
            f"<body><h1>ADaM variables</h1><p>{html.escape(note)}</p><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></body></html>\n")


def write_adam(results_dir: str | Path, out: str | Path, *, formats: Sequence[str] = FORMATS,
               studyid: str | None = None) -> list[Path]:
    """Write ``adsl``, ``adtte``, ``adrs``, ``adae`` (``.xpt`` and/or ``.parquet``), ``define.csv`` and
    ``define.html`` into ``out``; returns the files written.

    Parameters
    ----------
    results_dir : a ``cart-outcomes run`` output folder.
    out : folder to write into (created).
    formats : any of ``"xpt"`` (needs pyreadstat: ``pip install 'cart-outcomes[readstat]'``) and ``"parquet"``
        (needs pyarrow: ``pip install 'cart-outcomes[parquet]'``).
    studyid : ``STUDYID`` (default: the run's title).

    The R equivalent of reading one back: ``foreign::read.xport("adtte.xpt")`` or ``haven::read_xpt``.
    """
    require_writers(formats)  # fail before reading or writing anything when an extra is missing
    datasets, note = _build(Path(results_dir), studyid)
    for ds in datasets.values():
        _check(ds)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for ds in datasets.values():
        for fmt in formats:
            path = out / f"{ds.name.lower()}.{fmt}"
            if fmt == "xpt":
                import pyreadstat

                labels = {v.name: v.label for v in ds.variables}
                dates = {v.name: "DATE9." for v in ds.variables if v.type == "Date"}
                pyreadstat.write_xport(_for_xpt(ds), str(path), file_label=ds.label, column_labels=labels,
                                       table_name=ds.name, file_format_version=5, variable_format=dates)
            else:
                ds.frame.to_parquet(path, index=False)
            files.append(path)
    define = _define(list(datasets.values()))
    define.to_csv(out / "define.csv", index=False, lineterminator="\n")
    (out / "define.html").write_text(_define_html(define, note), encoding="utf-8")
    return [*files, out / "define.csv", out / "define.html"]


def require_writers(formats: Sequence[str] = FORMATS) -> None:
    """Check that every format can be written, before anything is computed or written.

    Raises
    ------
    InputError : a format is not one of :data:`FORMATS`, or its extra is not installed; the message names every
        missing package and the one ``pip install`` that adds them all (``'cart-outcomes[readstat,parquet]'``).
    """
    import importlib

    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise InputError(f"formats {unknown} are not among {FORMATS}")
    missing = {}
    for fmt in dict.fromkeys(formats):
        module, extra = _WRITERS[fmt]
        try:
            importlib.import_module(module)
        except ImportError:
            missing[fmt] = (module.split(".")[0], extra)
    if missing:
        needs = "; ".join(f".{fmt} files need {package}" for fmt, (package, _) in missing.items())
        extras = ",".join(extra for _, extra in missing.values())
        raise InputError(f"the ADaM export cannot be written: {needs}. Install it with pip install "
                         f"'cart-outcomes[{extras}]', or write the other format only (--format)")
