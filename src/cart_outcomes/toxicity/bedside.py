"""Daily CRS observations as written at the bedside, read into the inputs of ASTCT grading.

A centre's daily sheet holds a temperature, a systolic blood pressure, vasopressor names ("norepinephrine +
vasopressin") and oxygen as written on the chart ("RA", "NC 8 L/min", "HFNC 40 L/min", "BiPAP"), and a
tocilizumab yes/no. :func:`crs_inputs_from_bedside` fills the canonical grading columns from them, never replacing
a value that is given (Lee DW et al., ASTCT consensus grading, Biol Blood Marrow Transplant 2019;25:625-638;
clinical-definitions section 1):

1. ``hypotension``: SBP below ``hypotension_sbp_mmhg`` (default 90 mmHg; ASTCT gives no number, secondary tables
   quote SBP < 90 for adults, footnote 5), or any vasopressor.
2. ``vasopressors``: the number of distinct non-vasopressin vasopressors named; ``vasopressin``: vasopressin
   named ("one vasopressor with or without vasopressin" is grade 3, footnote 8). An unknown name leaves the count
   blank (the grader warns) rather than guessing.
3. ``oxygen_device`` and ``oxygen_flow_l_min``: from the written support ("NC 6 L/min" is low-flow, "NC 8 L/min"
   high-flow, footnote 4). Unrecognised text is passed on unchanged, so the grader reports it as a vocabulary
   error at its row.
4. ``anticytokine_or_antipyretic``: tocilizumab or corticosteroids given on an earlier or the same day (fever may
   then be masked, footnote 2).
5. A blank vasopressor cell in a sheet that names vasopressors means none; ``other_cause`` and ``crs_death``, when
   the sheet has no such column at all, are taken as no (stated in the run's data-quality section).

There is no R equivalent.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["BEDSIDE_COLUMNS", "crs_inputs_from_bedside", "parse_oxygen", "parse_vasopressors"]

BEDSIDE_COLUMNS = ("sbp_mmhg", "vasopressor_names", "oxygen")
#: Flags a bedside sheet does not record: a column absent or wholly blank is taken as "no" (rule 5).
NOT_RECORDED_MEANS_NO = ("other_cause", "crs_death")

_PRESSORS = {
    "norepinephrine": ("norepinephrine", "noradrenaline", "norepi", "noradrenalin", "levophed", "ne", "nor"),
    "epinephrine": ("epinephrine", "adrenaline", "epi", "adrenalin"),
    "phenylephrine": ("phenylephrine", "neosynephrine", "phenyl"),
    "dopamine": ("dopamine",),
    "dobutamine": ("dobutamine",),
    "vasopressin": ("vasopressin", "vaso", "avp"),
}
_PRESSOR_INDEX = {w: name for name, words in _PRESSORS.items() for w in words}
_NONE = frozenset({"", "none", "no", "nil", "-", "0", "ra", "room air"})

_DEVICES = (
    (r"^(hf|hfnc|high[\s-]*flow|optiflow|airvo)\b", "high_flow_nasal_cannula"),
    (r"^(nc|nasal|nasal cannula|lfnc|low[\s-]*flow|o2 nc)\b", "nasal_cannula"),
    (r"^(blow[\s-]*by)\b", "blow_by"),
    (r"^(nrb|non[\s-]*rebreather|nrm)\b", "non_rebreather"),
    (r"^(venturi|vm)\b", "venturi"),
    (r"^(fm|face[\s-]*mask|mask|sm|simple mask)\b", "facemask"),
    (r"^(cpap)\b", "cpap"),
    (r"^(bipap|niv|nippv)\b", "bipap"),
    (r"^(mv|intubated|intubation|ventilat\w*|mechanical ventilation|ett|imv)\b", "mechanical_ventilation"),
)
_FLOW = re.compile(r"(\d+(?:[.,]\d+)?)\s*(?:l|lpm|l/min|l/mn|litres?|liters?)\b", re.IGNORECASE)


def parse_oxygen(text: object) -> tuple[str | None, float]:
    """``"NC 8 L/min"`` -> ``("nasal_cannula", 8.0)``; ``"RA"`` -> ``("none", nan)``; unknown text -> (text, nan).

    >>> parse_oxygen("HFNC 40 L/min"), parse_oxygen("RA")
    (('high_flow_nasal_cannula', 40.0), ('none', nan))
    """
    if text is None or (isinstance(text, float) and np.isnan(text)) or text is pd.NA:
        return None, np.nan
    t = str(text).strip()
    if t.lower() in _NONE:
        return "none", np.nan
    m = _FLOW.search(t)
    flow = float(m.group(1).replace(",", ".")) if m else np.nan
    for pattern, device in _DEVICES:
        if re.search(pattern, t.lower()):
            return device, flow
    if m and t[:m.start()].strip() == "":  # "4 L/min" alone: nasal cannula by convention of the chart
        return "nasal_cannula", flow
    return t, flow


def parse_vasopressors(text: object) -> tuple[float, bool | None]:
    """``"norepinephrine + vasopressin"`` -> ``(1, True)``; ``""``/``"none"`` -> ``(0, False)``; an unknown name ->
    ``(nan, None)``."""
    if text is None or (isinstance(text, float) and np.isnan(text)) or text is pd.NA:
        return np.nan, None
    t = str(text).strip().lower()
    if t in _NONE:
        return 0.0, False
    names = set()
    for token in re.split(r"\s*(?:\+|,|/|;|&|\band\b|\bwith\b)\s*", t):
        word = re.sub(r"[^a-z]", "", token.split()[0]) if token.split() else ""
        if not word:
            continue
        if word not in _PRESSOR_INDEX:
            return np.nan, None
        names.add(_PRESSOR_INDEX[word])
    return float(len(names - {"vasopressin"})), "vasopressin" in names


def crs_inputs_from_bedside(observations: pd.DataFrame, *, hypotension_sbp_mmhg: float = 90.0) -> pd.DataFrame:
    """Fill the ASTCT grading columns from bedside wording (numbered rules in the module docstring).

    Parameters
    ----------
    observations : DataFrame
        ``crs_observations`` with any of ``sbp_mmhg``, ``vasopressor_names``, ``oxygen``, ``tocilizumab``,
        ``corticosteroids`` besides the canonical grading columns.
    hypotension_sbp_mmhg : float
        Hypotension is SBP strictly below this value (mmHg).

    Returns
    -------
    DataFrame
        A copy with ``hypotension``, ``vasopressors``, ``vasopressin``, ``oxygen_device``, ``oxygen_flow_l_min``
        and ``anticytokine_or_antipyretic`` filled where they were blank.
    """
    out = observations.copy()
    n = len(out)

    def col(name: str) -> pd.Series:
        return out[name] if name in out else pd.Series([None] * n, index=out.index, dtype=object)

    def fill(name: str, values: pd.Series) -> None:
        current = col(name)
        out[name] = current.astype(object).where(current.notna(), values.astype(object))

    if col("vasopressor_names").notna().any():
        parsed = [parse_vasopressors("" if pd.isna(v) else v) for v in col("vasopressor_names")]
        fill("vasopressors", pd.Series([p[0] for p in parsed], index=out.index))
        fill("vasopressin", pd.Series([p[1] for p in parsed], index=out.index))
    if col("oxygen").notna().any():
        parsed_o2 = [parse_oxygen(v) for v in col("oxygen")]
        fill("oxygen_device", pd.Series([p[0] for p in parsed_o2], index=out.index))
        fill("oxygen_flow_l_min", pd.Series([p[1] for p in parsed_o2], index=out.index))
    sbp = pd.to_numeric(col("sbp_mmhg"), errors="coerce")
    if sbp.notna().any():
        pressor = pd.to_numeric(col("vasopressors"), errors="coerce").fillna(0) > 0
        vasopressin = col("vasopressin").astype("boolean").fillna(False).astype(bool)
        low = (sbp < hypotension_sbp_mmhg).fillna(False)
        fill("hypotension", (low | pressor | vasopressin).where(sbp.notna() | pressor | vasopressin))
    given = [c for c in ("tocilizumab", "corticosteroids") if c in out and out[c].notna().any()]
    if given and "patient_id" in out and "day" in out:
        today = out[given].astype("boolean").fillna(False).astype(bool).any(axis=1)
        order = out.sort_values(["patient_id", "day"], kind="stable").index
        so_far = today.loc[order].groupby(out.loc[order, "patient_id"]).cummax()
        fill("anticytokine_or_antipyretic", so_far.reindex(out.index))
    for name in NOT_RECORDED_MEANS_NO:
        if name not in out or out[name].isna().all():
            out[name] = False
    for name in ("hypotension", "vasopressin", "anticytokine_or_antipyretic", *NOT_RECORDED_MEANS_NO):
        if name in out:
            out[name] = out[name].astype("boolean")
    for name in ("vasopressors", "oxygen_flow_l_min"):
        if name in out:
            out[name] = pd.to_numeric(out[name], errors="coerce")
    return out
