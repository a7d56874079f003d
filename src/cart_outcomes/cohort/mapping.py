"""How a user's spreadsheet maps onto the canonical schema: the ``data`` section of ``study.yaml``.

Users never edit their source sheet; they describe it::

    data:
      source: cohort.xlsx              # file or folder, relative to study.yaml
      date_format: "%d/%m/%Y"          # strptime format of text dates that are not ISO (YYYY-MM-DD)
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
finds ``patient_id``); ``columns`` is for headers that differ in wording. The same fields, with the same meaning,
form ``DataSection`` of the analysis plan (:mod:`cart_outcomes.plan.model`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cart_outcomes.cohort.schema import TABLES
from cart_outcomes.errors import InputError

_ALL_COLUMNS: dict[str, tuple[str, ...]] = {}
for _t in TABLES.values():
    for _c in _t.columns:
        _ALL_COLUMNS.setdefault(_c.name, ())
        _ALL_COLUMNS[_c.name] += (_t.name,)


class DataMapping(BaseModel):
    """User headers, values, date format and sheet names -> canonical cohort (the plan's ``data`` section)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str | None = Field(default=None, description="Cohort file or folder, relative to the plan file.")
    columns: dict[str, str] = Field(default_factory=dict, description="User header -> canonical column name.")
    values: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="Per canonical column: user value -> canonical value."
    )
    date_format: str | None = Field(default=None, description="strptime format for text dates, e.g. '%d/%m/%Y'.")
    sheets: dict[str, str] = Field(default_factory=dict, description="Canonical table name -> sheet name.")

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
    try:
        return DataMapping.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(p) for p in ("data", *err["loc"]))
            msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
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
