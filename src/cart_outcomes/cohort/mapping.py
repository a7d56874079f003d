"""How a user's spreadsheet maps onto the canonical schema: the ``data`` section of ``study.yaml``.

Users never edit their source sheet; they describe it::

    data:
      source: cohort.xlsx              # file or folder, relative to study.yaml
      date_format: "%d/%m/%Y"          # strptime format of text dates that are not ISO (YYYY-MM-DD)
      header_row: 3                    # spreadsheet row of the headers (default: found under any title rows)
      decimal: ","                     # decimal mark of numbers written as text (default ".")
      sheets:                          # canonical table -> sheet name (or CSV file stem in a folder)
        patients: Cohort
        crs_observations: CRS daily
      columns:                         # user header -> canonical column (any table)
        Patient ID: patient_id
        Date of CAR-T: infusion_date
        Response D28: day28_response
      values:                          # canonical column -> {user value: canonical value}
        day28_response:
          Complete remission: CR
          No response: NR

Headers are also matched to canonical names without regard to case, blanks or hyphens (``Patient ID`` already
finds ``patient_id``), then to the clinical wordings of :data:`HEADER_SYNONYMS` (``Date of CAR-T``, ``Last FU``,
``dx`` ...); ``columns`` is for other wordings. Values are recoded by ``values`` first, then by the canonical
English wordings of :data:`VALUE_SYNONYMS` (``Male``, ``complete remission``, ``not done``) and, for grades, by
:func:`grade_from_text` (``Grade 2``, ``G1``, ``none``). The same fields, with the same meaning, form
``DataSection`` of the analysis plan (:mod:`cart_outcomes.plan.model`); ``cart-outcomes init`` writes them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cart_outcomes.cohort.schema import TABLES
from cart_outcomes.errors import InputError

_ALL_COLUMNS: dict[str, tuple[str, ...]] = {}
for _t in TABLES.values():
    for _c in _t.columns:
        _ALL_COLUMNS.setdefault(_c.name, ())
        _ALL_COLUMNS[_c.name] += (_t.name,)


#: Clinical wordings of canonical headers (English and common abbreviations), compared after lower-casing and
#: turning every run of other characters into one underscore. One source of truth for reading and for ``init``.
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "patient_id": ("Pt ID", "Patient", "Patient number", "Patient no", "Pt", "ID", "UPN", "Subject ID", "Case",
                   "Record ID"),
    "infusion_date": ("Date of CAR-T", "CAR-T date", "Infusion date", "Date of infusion", "CAR-T infusion",
                      "CAR-T infusion date", "Infusion", "Day 0", "D0"),
    "age_years": ("Age", "Age at infusion", "Age (years)", "Age at CAR-T"),
    "sex": ("Gender", "M/F"),
    "diagnosis": ("dx", "Disease", "Diagnosis type"),
    "car_t_source": ("CAR-T source", "Source", "Auto/allo"),
    "car_t_product": ("Product", "CAR-T product", "Construct"),
    "dose_cells_per_kg": ("Dose", "Cell dose", "Dose (cells/kg)"),
    "lines_of_prior_therapy": ("Prior lines", "Lines of therapy", "No. of prior lines", "Prior therapies"),
    "prior_hsct": ("Prior HSCT", "Prior transplant", "Previous HSCT", "Prior allo-HSCT"),
    "extramedullary_disease": ("EMD", "Extramedullary"),
    "bridging_therapy": ("Bridging",),
    "day28_response": ("D28 response", "Day 28 response", "Response D28", "Response at day 28", "D28",
                       "D28 BM response", "Response day 28", "Day-28 response", "D+28 response"),
    "response_assessment_date": ("D28 assessment date", "Date of response assessment", "Response date",
                                 "Assessment date", "D28 date"),
    "mrd_negative_day28": ("MRD negative D28", "D28 MRD negative"),
    "best_response": ("Best response", "BOR", "Best overall response"),
    "cr_date": ("CR date", "Date of CR", "Date of remission", "Date of first CR"),
    "progression_date": ("Relapse date", "Date of relapse", "Progression date", "Date of progression",
                         "Relapse/progression date", "PD date", "Date of relapse/progression", "Relapse"),
    "death_date": ("Date of death", "Death date", "DOD", "Died on", "Death"),
    "death_cause": ("Cause of death", "COD", "Death reason", "Reason of death"),
    "last_followup_date": ("Last FU", "Last follow-up", "Last follow up", "Date last contact", "Last contact",
                           "Date of last follow-up", "Date of last contact", "Last seen", "Date last seen",
                           "Last visit", "LFU", "Last FU date"),
    "hsct_date": ("alloHSCT date", "Allo-HSCT date", "HSCT date", "Date of HSCT", "SCT date", "Transplant date",
                  "Date of allo-HSCT", "Allo-SCT date", "Date of transplant"),
    "hsct_intent": ("HSCT intent", "Transplant intent"),
    "new_therapy_date": ("New therapy date", "Next therapy date", "Date of next therapy"),
    "crs_grade": ("CRS", "CRS grade", "Max CRS grade", "CRS max grade", "CRS (grade)"),
    "crs_onset_date": ("CRS onset", "CRS onset date", "Date of CRS onset"),
    "icans_grade": ("ICANS", "ICANS grade", "Max ICANS grade", "Neurotoxicity grade"),
    "icans_onset_date": ("ICANS onset", "ICANS onset date"),
    "temperature_c": ("Temperature", "Temp", "Tmax", "T max", "Temp (C)", "Max temp", "Temperature (C)"),
    "sbp_mmhg": ("SBP", "Systolic BP", "Systolic", "SBP (mmHg)", "Systolic blood pressure", "Min SBP"),
    "vasopressor_names": ("Vasopressor", "Vasopressors", "Pressors", "Pressor"),
    "oxygen": ("Oxygen", "O2", "O2 support", "Respiratory support", "Oxygen support"),
    "tocilizumab": ("Toci", "TCZ", "Tocilizumab given"),
    "corticosteroids": ("Steroids", "Dexamethasone"),
}

#: Canonical English wordings of vocabulary values (keys lower case), applied after the user's ``values``.
_RESPONSE_WORDS: dict[str, str] = {
    "complete remission": "CR", "complete response": "CR", "cr mrd-": "CR", "cr mrd neg": "CR",
    "cr mrd negative": "CR", "cr (mrd-)": "CR", "mrd- cr": "CR", "mrd-negative cr": "CR", "cr mrd+": "CR",
    "cr (mrd+)": "CR", "cr mrd positive": "CR", "mcr": "CR",
    "cr with incomplete count recovery": "CRi", "cr with incomplete hematologic recovery": "CRi",
    "cri mrd-": "CRi", "cri mrd+": "CRi", "cr with partial hematologic recovery": "CRh",
    "partial remission": "PR", "partial response": "PR", "stable disease": "SD",
    "no response": "NR", "non-response": "NR", "nonresponse": "NR", "non responder": "NR", "non-responder": "NR",
    "refractory": "NR", "resistant disease": "NR",
    "progressive disease": "PD", "progression": "PD",
    "not done": "NE", "not evaluable": "NE", "not evaluated": "NE", "n/e": "NE", "nd": "NE", "unevaluable": "NE",
    "not assessed": "NE", "inevaluable": "NE",
}
VALUE_SYNONYMS: dict[str, dict[str, str]] = {
    "sex": {"male": "M", "man": "M", "female": "F", "woman": "F"},
    "diagnosis": {"dlbcl": "LBCL", "large b-cell lymphoma": "LBCL", "t-cell all": "T-ALL", "t all": "T-ALL",
                  "t-lymphoblastic lymphoma": "T-LBL", "t lbl": "T-LBL", "t-cell lbl": "T-LBL", "b all": "B-ALL",
                  "multiple myeloma": "MM"},
    "car_t_source": {"auto": "autologous", "allo": "allogeneic", "donor derived": "donor-derived"},
    "hsct_intent": {"consolidation": "consolidative", "consolidative hsct": "consolidative"},
    "day28_response": _RESPONSE_WORDS,
    "best_response": _RESPONSE_WORDS,
    "response": _RESPONSE_WORDS,
}
#: Grade columns that read ``Grade 2``, ``G1``, ``II``, ``none`` and ``no`` (see :func:`grade_from_text`).
GRADE_COLUMNS = ("crs_grade", "icans_grade", "grade")
_GRADE = re.compile(r"^(?:grade|gr\.?|g)?\s*([0-5])$", re.IGNORECASE)
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5}
_NO_GRADE = frozenset({"none", "no", "absent", "nil", "no crs", "no icans"})


def grade_from_text(text: str) -> int | None:
    """A toxicity grade written as text: ``"Grade 2"``, ``"G1"``, ``"gr. 3"``, ``"III"`` -> 3, ``"none"``/``"no"``
    -> 0; ``None`` when the text is not a grade."""
    t = text.strip()
    m = _GRADE.match(t)
    if m:
        return int(m.group(1))
    low = re.sub(r"^(grade|gr\.?|g)\s*", "", t.lower())
    if low in _ROMAN:
        return _ROMAN[low]
    return 0 if t.lower() in _NO_GRADE else None


def has_builtin_values(column: str) -> bool:
    """Whether :func:`builtin_value` can recode any text of ``column`` (grade columns and :data:`VALUE_SYNONYMS`)."""
    return column in GRADE_COLUMNS or column in VALUE_SYNONYMS


def builtin_value(column: str, text: str) -> str | None:
    """The canonical value a built-in English wording stands for in ``column`` (``None`` if none applies)."""
    if column in GRADE_COLUMNS:
        g = grade_from_text(text)
        return None if g is None else str(g)
    return VALUE_SYNONYMS.get(column, {}).get(text.strip().lower())


def _norm(h: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", h.strip().lower()).strip("_")


_SYNONYM_INDEX: dict[str, str] = {_norm(w): c for c, words in HEADER_SYNONYMS.items() for w in words}
#: Smallest difflib similarity for a spelling guess of a header or a value (below it, no guess is made).
FUZZY_CUTOFF = 0.85


def header_candidates(table: str) -> dict[str, str]:
    """Normalised wording -> canonical column, for the canonical names and clinical wordings of ``table``."""
    t = TABLES[table]
    out = {_norm(c): c for c in t.names}
    for column, words in HEADER_SYNONYMS.items():
        if column in t:
            out.update({_norm(w): column for w in words})
    return out


def guess_column(header: str, table: str) -> tuple[str | None, str]:
    """The canonical column of ``table`` a header names, with the evidence: the canonical name itself (any case or
    spacing), a clinical wording of :data:`HEADER_SYNONYMS`, or a close spelling of one of them (similarity >=
    :data:`FUZZY_CUTOFF`, marked "check"); ``(None, reason)`` when nothing matches."""
    import difflib

    n = _norm(header)
    if n in TABLES[table]:
        return n, "same name"
    candidates = header_candidates(table)
    if n in candidates:
        return candidates[n], f"clinical wording of {candidates[n]}"
    close = difflib.get_close_matches(n, list(candidates), n=1, cutoff=FUZZY_CUTOFF)
    if close:
        ratio = difflib.SequenceMatcher(None, n, close[0]).ratio()
        return candidates[close[0]], f"spelled like '{close[0]}' (similarity {ratio:.2f}): check"
    return None, "no canonical column matches this header"


def guess_value(column: str, text: str, vocabulary: tuple[str, ...] = ()) -> tuple[str | None, str]:
    """The canonical value a cell text stands for in ``column``, with the evidence: a grade wording, a built-in
    English wording, or a close spelling of an allowed value or wording (marked "check"); ``(None, reason)``
    otherwise."""
    import difflib

    builtin = builtin_value(column, text)
    if builtin is not None:
        return builtin, "grade wording" if column in GRADE_COLUMNS else "English wording"
    known = {**{v.lower(): v for v in vocabulary}, **VALUE_SYNONYMS.get(column, {})}
    close = difflib.get_close_matches(text.strip().lower(), list(known), n=1, cutoff=FUZZY_CUTOFF)
    if close:
        return known[close[0]], f"spelled like '{close[0]}': check"
    return None, "no allowed value or wording is close"


#: Share of a column's distinct texts that must be values of one coded column to guess the column from its cells.
VALUE_SHARE = 0.8


def guess_column_by_values(texts: list[str], table: str, exclude: tuple[str, ...] = ()) -> tuple[str | None, str]:
    """The one coded column of ``table`` (not in ``exclude``) whose allowed values or wordings (see
    :func:`guess_value`) read at least :data:`VALUE_SHARE` of the distinct ``texts`` (a header "Histology" holding
    DLBCL, T-ALL, MM is diagnosis), with the evidence marked "check"; ``(None, reason)`` when none or several do (no
    guess rather than a misleading one)."""
    distinct = list(dict.fromkeys(t.strip() for t in texts if t and t.strip()))
    if not distinct:
        return None, "no cells to read"
    fits = []
    for col in TABLES[table].columns:
        if not col.vocabulary or col.name in exclude:
            continue
        read = sum(t in col.vocabulary or guess_value(col.name, t, col.vocabulary)[0] is not None for t in distinct)
        if read >= VALUE_SHARE * len(distinct):
            fits.append((col.name, read))
    if len(fits) != 1:
        return None, "no canonical column matches this header" if not fits else \
            f"its cells read as values of {' and of '.join(f for f, _ in fits)}: map it yourself"
    name, read = fits[0]
    return name, f"{read} of its {len(distinct)} distinct values are values of {name}: check"


def synonym_column(header: str) -> str | None:
    """The canonical column a header's clinical wording names (``"Last FU"`` -> ``last_followup_date``), or None."""
    return _SYNONYM_INDEX.get(_norm(header))


_YAML_WORDS = {True: "yes/true/on", False: "no/false/off"}


def _shown_key(k: object) -> str:
    """A key as the user typed it, as near as YAML lets us know (``no`` for the boolean false)."""
    return _YAML_WORDS[k].split("/")[0] if isinstance(k, bool) else str(k)


def _yaml_trap(where: str, value: object) -> str | None:
    if isinstance(value, bool):
        words = _YAML_WORDS[value]
        return (f"{where}: an unquoted {words.replace('/', ', ')} was read by YAML as the boolean "
                f"{str(value).lower()}, not as text: quote it (\"{words.split('/')[0]}\")")
    if value is None:
        return f"{where}: an empty value (or `null`/`~`) was read by YAML as nothing: quote it"
    return None


_NUMBER = re.compile(r"^-?\d+(?:[.,]\d+)?$")


def _refused_target(column: str, raw: str, canon: str) -> str | None:
    """Why ``values.<column>: {raw: canon}`` cannot be applied (a value the column can never hold), or None."""
    from cart_outcomes.cohort.schema import FALSE_TOKENS, TRUE_TOKENS

    for t in _ALL_COLUMNS[column]:
        col = TABLES[t].column(column)
        where = f"values.{column}: {raw!r} -> {canon!r}"
        if col.dtype == "category" and canon.strip().lower() not in {x.lower() for x in col.vocabulary or ()}:
            return f"{where}: {canon!r} is not a value of {column} (allowed: {', '.join(col.vocabulary or ())})"
        if col.dtype in ("integer", "day") and not re.fullmatch(r"-?\d+", canon.strip()):
            return f"{where}: {column} holds whole numbers, so the new value must be one (e.g. \"2\")"
        if col.dtype == "number" and not _NUMBER.match(canon.strip()):
            return f"{where}: {column} holds numbers, so the new value must be one"
        if col.dtype == "boolean" and canon.strip().lower() not in TRUE_TOKENS | FALSE_TOKENS:
            return f"{where}: {column} holds yes/no, so the new value must be yes or no"
    return None


class DataMapping(BaseModel):
    """User headers, values, date format and sheet names -> canonical cohort (the plan's ``data`` section)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str | None = Field(default=None, description="Cohort file or folder; a relative path is resolved "
                                  "against the plan's folder and may lead outside it (../data/cohort.xlsx).")
    columns: dict[str, str] = Field(default_factory=dict, description="User header -> canonical column name.")
    values: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="Per canonical column: user value -> canonical value."
    )
    date_format: str | None = Field(default=None, description="strptime format for text dates, e.g. '%d/%m/%Y'.")
    sheets: dict[str, str] = Field(default_factory=dict, description="Canonical table name -> sheet name.")
    header_row: int | None = Field(default=None, ge=1, description="Spreadsheet row holding the headers (default: "
                                   "the first row under any title rows).")
    decimal: Literal[".", ","] = Field(default=".", description="Decimal mark of numbers written as text.")
    redcap_dictionary: str | None = Field(default=None, description="REDCap data dictionary CSV, relative to the "
                                          "source's folder: the source is then a REDCap raw-data export.")
    adtte: str | None = Field(default=None, description="CDISC ADaM ADTTE (.xpt, .sas7bdat, .parquet, .csv), "
                              "relative to the source's folder: the source is then the ADSL, and AVAL/CNSR are the "
                              "endpoints' times and events.")
    adtte_params: dict[str, Literal["os", "pfs", "efs", "rfs", "dor"]] | None = Field(
        default=None, description="ADTTE PARAMCD -> endpoint (default: OS, PFS, EFS, RFS, DOR to os, pfs, efs, rfs, "
        "dor).")

    @field_validator("columns", "values", mode="before")
    @classmethod
    def _no_yaml_traps(cls, v: Any) -> Any:
        """Explain YAML's typing of unquoted ``no``/``yes``/blank instead of "Input should be a valid string"."""
        if not isinstance(v, dict):
            return v
        traps = []
        for key, inner in v.items():
            items = inner.items() if isinstance(inner, dict) else [(None, inner)]
            for k, val in items:
                where = f"{key}" if k is None else f"{key}: {_shown_key(k)}"
                traps += [t for t in (_yaml_trap(f"the key in '{where}'", k) if k is not None else None,
                                      _yaml_trap(f"the value of '{where}'", val)) if t]
            traps += [t for t in [_yaml_trap("a key", key)] if t]
        if traps:
            raise ValueError("; ".join(traps))
        return {str(k): ({str(a): str(b) for a, b in inner.items()} if isinstance(inner, dict) else inner)
                for k, inner in v.items()}

    @field_validator("columns")
    @classmethod
    def _known_targets(cls, v: dict[str, str]) -> dict[str, str]:
        bad = sorted({c for c in v.values() if c not in _ALL_COLUMNS})
        if bad:
            raise ValueError(f"not canonical column names: {bad} (see docs/data-dictionary.md)")
        return v

    @field_validator("values")
    @classmethod
    def _known_value_columns(cls, v: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        bad = sorted(c for c in v if c not in _ALL_COLUMNS)
        if bad:
            raise ValueError(f"not canonical column names: {bad} (see docs/data-dictionary.md)")
        refused = [_refused_target(c, raw, canon) for c, recodes in v.items() for raw, canon in recodes.items()]
        if any(refused):
            raise ValueError("; ".join(r for r in refused if r))
        return v

    @field_validator("sheets")
    @classmethod
    def _known_tables(cls, v: dict[str, str]) -> dict[str, str]:
        bad = sorted(t for t in v if t not in TABLES)
        if bad:
            raise ValueError(f"not canonical table names: {bad}; tables are {list(TABLES)}")
        return v

    @field_validator("date_format")
    @classmethod
    def _has_directives(cls, v: str | None) -> str | None:
        if v is not None and not all(d in v for d in ("%d", "%m")) and "%b" not in v and "%j" not in v:
            raise ValueError(f"date_format {v!r} must contain day and month directives such as '%d/%m/%Y'")
        return v


def mapping_from_dict(data: Any, *, source: str = "<mapping>") -> DataMapping:
    """Build a :class:`DataMapping` from a parsed ``data`` section; raise InputError listing every problem."""
    if data is None:
        return DataMapping()
    if isinstance(data, dict):  # where the plan reads the data (plan.model.DataSection), not how it maps them
        data = {k: v for k, v in data.items() if k != "engine"}
    try:
        return DataMapping.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(p) for p in ("data", *err["loc"]))
            msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"].removeprefix("Value error, ")
            lines.append(f"{key}: {msg}")
        raise InputError(f"{source}: invalid data section:\n  " + "\n  ".join(lines)) from None


def load_mapping_from_plan(path: str | Path) -> DataMapping:
    """Read only the ``data`` section of ``study.yaml`` (the rest of the plan is checked by ``plan.model``).

    A relative ``data.source`` is resolved against the plan's folder.
    """
    import yaml

    from cart_outcomes._yaml import YamlLimitError, load_yaml, read_yaml_text

    p = Path(path)
    if not p.is_file():
        raise InputError(f"analysis plan not found: {p}")
    try:
        _, raw = load_yaml(read_yaml_text(p))
    except YamlLimitError as exc:
        raise InputError(f"{p}: {exc}") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{p}: not a readable YAML file ({exc})") from None
    if raw is not None and not isinstance(raw, dict):
        raise InputError(f"{p}: the plan must be a YAML mapping with a 'data' section")
    mapping = mapping_from_dict((raw or {}).get("data"), source=str(p))
    if mapping.source is not None and not Path(mapping.source).is_absolute():
        mapping = mapping.model_copy(update={"source": str(p.parent / mapping.source)})
    return mapping
