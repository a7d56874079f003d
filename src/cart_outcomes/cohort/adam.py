"""CDISC ADaM as a cohort: a trial's ADSL and ADTTE go straight into the survival analyses.

```yaml
data:
  source: adsl.xpt          # ADSL, one row per subject (.xpt, .sas7bdat, .parquet or .csv)
  adtte: adtte.xpt          # ADTTE, one row per subject and parameter, relative to the source's folder
  adtte_params: {OS: os, PFS: pfs}   # PARAMCD -> endpoint (default: OS, PFS, EFS, RFS, DOR by their own names)
analyses:
  - {endpoint: os, by: TRT01P}
```

Rules (numbered as admiral numbers its derivations):

1. ``USUBJID`` is the patient id. An ADTTE subject that is not in ADSL (``ADAM_UNKNOWN_SUBJECT``) or a second row of one
   subject and parameter (``ADAM_DUPLICATE``) is an error naming the ADTTE row (record number + 1).
2. ``AVAL`` becomes ``<endpoint>_time_days`` (``AVALU`` ``DAYS``, or ``WEEKS``/``MONTHS``/``YEARS`` converted with 7,
   30.4375 and 365.25 days); ``CNSR`` 0 is the event and any positive ``CNSR`` a censoring (``<endpoint>_event``).
   These times and events are the endpoint as analysed: nothing is re-derived from them.
3. ADTTE must hold OS: the patients table gets ``last_followup_day`` (the OS time) and ``death_day`` (the OS time when
   OS is an event); with PFS it also gets ``progression_day``, the PFS event day when that event is not the death
   (``EVNTDESC`` not naming death, or without ``EVNTDESC`` no OS death on the same day), so relapse and non-relapse
   mortality (competing risks) can be derived; without PFS they are not analysed.
4. ``AGE`` is ``age_years`` and ``SEX`` is ``sex`` (``U``/``UNDIFFERENTIATED`` -> blank); every other ADSL variable
   (``TRT01P``, ``ARM``, ``AGEGR1`` ...) is kept under its own name, to be used as a group (``by: TRT01P``).

The equivalent R: ``haven::read_xpt``, then
``survfit(Surv(AVAL, 1 - CNSR) ~ TRT01P, data = subset(adtte, PARAMCD == "OS"))`` (TRT01P merged from ADSL).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cart_outcomes.cohort._problems import Problem
from cart_outcomes.cohort._readers import RawSource, _digest, _sheet_from_grid
from cart_outcomes.errors import InputError

__all__ = ["ADTTE_ENDPOINTS", "AVAL_UNITS", "read_adam"]

#: Default PARAMCD -> endpoint of the analyses.
ADTTE_ENDPOINTS = {"OS": "os", "PFS": "pfs", "EFS": "efs", "RFS": "rfs", "DOR": "dor"}
#: Days per AVALU unit.
AVAL_UNITS = {"DAYS": 1.0, "DAY": 1.0, "WEEKS": 7.0, "MONTHS": 30.4375, "YEARS": 365.25}
_SEX = {"M": "M", "F": "F", "MALE": "M", "FEMALE": "F", "U": None, "UNKNOWN": None, "UNDIFFERENTIATED": "other"}
_ADSL_OWN = ("STUDYID", "USUBJID", "SUBJID", "AGE", "AGEU", "SEX")


def _dataset(path: Path) -> pd.DataFrame:
    """An ADaM dataset as a frame: SAS transport/SAS7BDAT through pyreadstat, Parquet, or CSV."""
    if not path.is_file():
        raise InputError(f"ADaM dataset not found: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix in (".xpt", ".sas7bdat"):
            try:
                import pyreadstat
            except ImportError:
                raise InputError(f"{path.name}: reading {suffix} files needs pyreadstat; install it with "
                                 "pip install 'cart-outcomes[readstat]'") from None
            reader = pyreadstat.read_xport if suffix == ".xpt" else pyreadstat.read_sas7bdat
            return reader(str(path))[0]
        if suffix == ".parquet":
            try:
                import pyarrow.parquet  # noqa: F401
            except ImportError:
                raise InputError(f"{path.name}: reading Parquet files needs pyarrow; install it with "
                                 "pip install 'cart-outcomes[parquet]'") from None
            return pd.read_parquet(path)
        if suffix == ".csv":
            return pd.read_csv(path, keep_default_na=False, na_values=[""])
    except InputError:
        raise
    except Exception as exc:  # pyreadstat and pyarrow raise many error types for corrupt files
        raise InputError(f"{path.name} could not be read as an ADaM dataset ({type(exc).__name__}: {exc})") from None
    raise InputError(f"{path.name}: an ADaM dataset must be .xpt, .sas7bdat, .parquet or .csv")


def _require(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        have = ", ".join(map(str, frame.columns))
        raise InputError(f"{name} has no variable {', '.join(missing)} (variables: {have})")


def _cell(v: object) -> object:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    return v.item() if isinstance(v, np.generic) else v


def _id(v: object) -> str | None:
    v = _cell(v)
    return None if v is None else str(int(v) if isinstance(v, float) and v.is_integer() else v).strip()


def read_adam(adsl_path: Path, adtte_path: Path,
              params: dict[str, str] | None = None) -> tuple[RawSource, pd.DataFrame]:
    """Read ADSL and ADTTE into a one-sheet source (the patients table, rules 3-4) and the given endpoints.

    Returns
    -------
    (RawSource, DataFrame)
        The source for the cohort reader (its problems hold the rule-1 errors) and one row per ADSL subject:
        ``patient_id`` and ``<endpoint>_time_days``, ``<endpoint>_event`` for every endpoint of ``params`` (NaN and
        missing where the subject has no row of that parameter).
    """
    params = dict(ADTTE_ENDPOINTS if params is None else params)
    adsl, adtte = _dataset(adsl_path), _dataset(adtte_path)
    _require(adsl, ("USUBJID",), f"ADSL {adsl_path.name}")
    _require(adtte, ("USUBJID", "PARAMCD", "AVAL", "CNSR"), f"ADTTE {adtte_path.name}")
    src = RawSource(single=True)
    src.sha256 = {adsl_path.name: _digest(adsl_path), adtte_path.name: _digest(adtte_path)}
    ids = adsl["USUBJID"].map(_id).astype(object)
    tte = adtte.assign(source_row=np.arange(2, len(adtte) + 2), USUBJID=adtte["USUBJID"].map(_id).astype(object),
                       PARAMCD=adtte["PARAMCD"].map(lambda v: str(_cell(v) or "").strip().upper()))
    tte = tte[tte["PARAMCD"].isin(list(params))]
    for row in tte[~tte["USUBJID"].isin(set(ids))].itertuples():
        src.problems.append(Problem("ADAM_UNKNOWN_SUBJECT", "error", f"ADTTE subject {row.USUBJID!r} is not in ADSL",
                                    patient_id=str(row.USUBJID), row=int(row.source_row), column="USUBJID",
                                    table="patients"))
    for row in tte[tte.duplicated(["USUBJID", "PARAMCD"])].itertuples():
        src.problems.append(Problem("ADAM_DUPLICATE", "error", f"a second ADTTE row of {row.PARAMCD} for this subject",
                                    patient_id=str(row.USUBJID), row=int(row.source_row), column="PARAMCD",
                                    table="patients"))
    tte = tte.drop_duplicates(["USUBJID", "PARAMCD"])
    unit = (tte["AVALU"].map(lambda v: str(_cell(v) or "DAYS").strip().upper()) if "AVALU" in tte
            else pd.Series("DAYS", index=tte.index))
    bad = sorted(set(unit) - set(AVAL_UNITS))
    if bad:
        raise InputError(f"ADTTE {adtte_path.name}: AVALU {bad} is not one of {', '.join(AVAL_UNITS)}")
    tte = tte.assign(_days=pd.to_numeric(tte["AVAL"], errors="coerce") * unit.map(AVAL_UNITS),
                     _event=pd.to_numeric(tte["CNSR"], errors="coerce") == 0)
    for row in tte[tte["_days"].isna() | (tte["_days"] < 0) | pd.to_numeric(tte["CNSR"], errors="coerce").isna()
                   ].itertuples():
        src.problems.append(Problem("ADAM_VALUE", "error", f"{row.PARAMCD}: AVAL must be a number >= 0 and CNSR a "
                                    "whole number (0 = event)", patient_id=str(row.USUBJID), row=int(row.source_row),
                                    column="AVAL", table="patients"))
    if "os" not in params.values() or not (tte["PARAMCD"].map(params) == "os").any():
        raise InputError(f"ADTTE {adtte_path.name} has no OS parameter: the last follow-up and deaths come from OS "
                         "(data.adtte_params names the PARAMCD of each endpoint)")
    given = pd.DataFrame({"patient_id": ids})
    for code, ep in params.items():
        rows = tte[tte["PARAMCD"] == code].set_index("USUBJID")
        given[f"{ep}_time_days"] = ids.map(rows["_days"]).astype(float)
        given[f"{ep}_event"] = pd.array(ids.map(rows["_event"]), dtype="boolean")
    os_time = given["os_time_days"]
    death = os_time.where(given["os_event"].fillna(False).to_numpy(bool))
    progression = pd.Series(np.nan, index=ids.index)
    pfs_code = next((c for c, ep in params.items() if ep == "pfs"), None)
    if pfs_code is not None:
        rows = tte[(tte["PARAMCD"] == pfs_code) & tte["_event"]].set_index("USUBJID")
        day = ids.map(rows["_days"]).astype(float)
        is_death = (day == death).to_numpy(bool)
        if "EVNTDESC" in rows:
            text = ids.map(rows["EVNTDESC"].map(lambda v: str(_cell(v) or "")))
            described = text.map(lambda t: isinstance(t, str) and t != "").to_numpy(bool)
            says_death = text.map(lambda t: isinstance(t, str) and "death" in t.lower()).to_numpy(bool)
            is_death = np.where(described, says_death, is_death)
        progression = day.where(~is_death)
    sex = (adsl["SEX"].map(lambda v: _SEX.get(str(_cell(v) or "").strip().upper(), _cell(v))) if "SEX" in adsl
           else None)
    columns = {"patient_id": ids, "last_followup_day": os_time, "death_day": death, "progression_day": progression}
    if "AGE" in adsl:
        columns["age_years"] = adsl["AGE"]
    if sex is not None:
        columns["sex"] = sex
    columns |= {str(c): adsl[c] for c in adsl.columns if c not in _ADSL_OWN}
    grid = np.empty((len(adsl) + 1, len(columns)), dtype=object)
    grid[0] = list(columns)
    for j, values in enumerate(columns.values()):
        grid[1:, j] = [_cell(v) for v in values]
    src.sheets.append(_sheet_from_grid("patients", adsl_path.name, grid, 1, src.problems, 1))
    return src, given
