"""Publication tables (Table 1, response, survival summary, safety, HSCT naive vs corrected) and their CSV/XLSX export.

Every builder returns a display-ready :class:`pandas.DataFrame` of strings (the layout a journal prints), with the
statistical test or interval method named in the table. Exports protect against spreadsheet formula injection: a text
cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return is written with a leading apostrophe so Excel,
LibreOffice and Google Sheets show it as text instead of evaluating it (OWASP "CSV injection"); numbers, negative ones
included, stay numbers.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cart_outcomes.errors import InputError
from cart_outcomes.report._format import format_p, format_percent, is_missing, round_half_up, unit_scale
from cart_outcomes.report._stamp import document_time

__all__ = [
    "baseline_table",
    "hsct_comparison_table",
    "neutralise_cell",
    "response_table",
    "safety_table",
    "survival_summary_table",
    "write_csv",
    "write_xlsx",
]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: Largest number of tables the exact r x c Fisher test enumerates before it falls back to the chi-squared test.
FISHER_MAX_TABLES = 200_000


# ----------------------------------------------------------------------------------------------------------------
# cell safety


def neutralise_cell(value: Any) -> Any:
    """Make one cell safe for a spreadsheet: text that a spreadsheet would evaluate gets a leading apostrophe.

    Numbers (also negative ones, and text that is exactly a plain number such as ``"-1.5"``) are returned unchanged;
    characters that XML cannot hold (ASCII control characters other than tab, newline and carriage return) are
    replaced by U+FFFD so the cell can always be written.
    """
    if not isinstance(value, str):
        return value
    value = _ILLEGAL_XML.sub("\ufffd", value)
    if value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column].dtype):
            out[column] = out[column].map(neutralise_cell).astype(object)
    return out


def write_csv(frame: pd.DataFrame, path: str | Path, *, encoding: str = "utf-8") -> Path:
    """Write ``frame`` as CSV (no index) with formula-injection protection on text cells and headers."""
    path = Path(path)
    _neutralise_frame(frame).to_csv(path, index=False, encoding=encoding, lineterminator="\n")
    return path


def _sheet_name(name: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\']", "_", str(name)).strip() or "Sheet"
    base = base[:31]
    candidate, k = base, 2
    while candidate.lower() in used:
        suffix = f" ({k})"
        candidate, k = base[: 31 - len(suffix)] + suffix, k + 1
    used.add(candidate.lower())
    return candidate


def write_xlsx(tables: pd.DataFrame | Mapping[str, pd.DataFrame], path: str | Path, *,
               timestamp: dt.datetime | None = None) -> Path:
    """Write one table, or several as named sheets, to an .xlsx workbook.

    Text cells are stored as strings (never formulas or links; risky ones with a leading apostrophe), numbers as
    numbers, missing values as empty cells. The header row is bold and frozen. Written with xlsxwriter, which is
    several times faster than openpyxl for writing. The workbook's created time is ``timestamp`` (default:
    :func:`~cart_outcomes.report._stamp.document_time`) and xlsxwriter stamps zip entries with a fixed date, so the
    same tables give the same bytes.
    """
    import xlsxwriter

    if isinstance(tables, pd.DataFrame):
        tables = {"Table": tables}
    path = Path(path)
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False})
    created = (timestamp or document_time()).astimezone(dt.UTC).replace(tzinfo=None)
    wb.set_properties({"created": created, "author": "cart-outcomes"})
    bold = wb.add_format({"bold": True})
    used: set[str] = set()
    for name, frame in tables.items():
        ws = wb.add_worksheet(_sheet_name(name, used))
        safe = _neutralise_frame(frame)
        for j, header in enumerate(safe.columns):
            ws.write_string(0, j, str(header), bold)
        for i, row in enumerate(safe.itertuples(index=False), start=1):
            for j, value in enumerate(row):
                if is_missing(value):
                    continue
                if isinstance(value, (bool, np.bool_)):
                    ws.write_boolean(i, j, bool(value))
                elif isinstance(value, (int, float, np.integer, np.floating)) and np.isfinite(value):
                    ws.write_number(i, j, float(value))
                else:
                    ws.write_string(i, j, str(value))
        ws.freeze_panes(1, 0)
    wb.close()
    return path


# ----------------------------------------------------------------------------------------------------------------
# tests used by Table 1


def _fisher_rxc(table: np.ndarray) -> float | None:
    """Exact two-sided Fisher p for an r x c table as R's ``fisher.test`` (tables no more likely than the observed,
    relative tolerance 1e-7); ``None`` when more than FISHER_MAX_TABLES tables would have to be enumerated."""
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if table.shape[0] < 2 or table.shape[1] < 2:
        return 1.0
    rows, cols = table.sum(axis=1), table.sum(axis=0)
    lg = [math.lgamma(k + 1) for k in range(int(table.sum()) + 1)]

    def cell_term(x: np.ndarray) -> float:
        return -sum(lg[int(v)] for v in x.ravel())

    observed = cell_term(table)
    # one state per partial table: remaining row sums and log prod(1/x!) over the columns filled so far
    states: list[tuple[tuple[int, ...], float]] = [(tuple(int(r) for r in rows), 0.0)]
    for c in cols[:-1]:
        nxt: list[tuple[tuple[int, ...], float]] = []
        for remaining, logp in states:
            for split in _compositions(int(c), remaining):
                nxt.append((tuple(r - s for r, s in zip(remaining, split, strict=True)),
                            logp - sum(lg[s] for s in split)))
                if len(nxt) > FISHER_MAX_TABLES:
                    return None
        states = nxt
    const = sum(lg[int(r)] for r in rows) + sum(lg[int(c)] for c in cols) - lg[int(table.sum())]
    total = 0.0
    threshold = observed + math.log1p(1e-7)
    for remaining, logp in states:
        logp_full = logp - sum(lg[r] for r in remaining)  # the last column takes what is left
        if logp_full <= threshold:
            total += math.exp(logp_full + const)
    return min(1.0, total)


def _compositions(total: int, bounds: tuple[int, ...]) -> list[tuple[int, ...]]:
    """All ways to split ``total`` into len(bounds) non-negative parts with part i <= bounds[i]."""
    if len(bounds) == 1:
        return [(total,)] if total <= bounds[0] else []
    out = []
    rest_capacity = sum(bounds[1:])
    for first in range(max(0, total - rest_capacity), min(total, bounds[0]) + 1):
        out.extend((first, *tail) for tail in _compositions(total - first, bounds[1:]))
    return out


def _categorical_test(values: pd.Series, groups: pd.Series) -> tuple[float, str]:
    from scipy.stats import chi2_contingency, fisher_exact

    table = pd.crosstab(values, groups).to_numpy()
    if table.shape == (2, 2):
        return float(fisher_exact(table).pvalue), "Fisher's exact test"
    p = _fisher_rxc(table)
    if p is not None:
        return p, "Fisher's exact test"
    return float(chi2_contingency(table, correction=False).pvalue), "Pearson's chi-squared test"


def _continuous_test(values: pd.Series, groups: pd.Series) -> tuple[float, str]:
    """R ``wilcox.test`` (two groups; exact or normal approximation by R's rule) or ``kruskal.test`` (3+ groups).

    No test (NaN, "") with fewer than two groups, or when every value is the same (R's p-value is then NaN).
    """
    from cart_outcomes.stats import kruskal_wallis, wilcoxon_rank_sum

    samples = [values[groups == g].to_numpy(dtype=float) for g in dict.fromkeys(groups.tolist())]
    samples = [s for s in samples if s.size]
    if len(samples) < 2 or np.unique(np.concatenate(samples)).size == 1:
        return math.nan, ""
    if len(samples) == 2:
        res = wilcoxon_rank_sum(*samples)
        if res.p_value_method == "exact":
            return res.p_value, "Wilcoxon rank-sum test (exact)"
        return res.p_value, "Wilcoxon rank-sum test (normal approximation, continuity correction)"
    codes = np.repeat(np.arange(len(samples)), [s.size for s in samples])
    return kruskal_wallis(np.concatenate(samples), codes).p_value, "Kruskal-Wallis test"


# ----------------------------------------------------------------------------------------------------------------
# builders


def _fmt(v: float, digits: int) -> str:
    v = float(v)
    return str(int(v)) if v.is_integer() else f"{v:.{digits}f}"


def _group_levels(patients: pd.DataFrame, by: str | None) -> list[Any]:
    if by is None:
        return []
    if by not in patients.columns:
        raise InputError(f"by column {by!r} is not in the table; columns are {list(patients.columns)}")
    column = patients[by]
    if isinstance(column.dtype, pd.CategoricalDtype):
        return [c for c in column.cat.categories if (column == c).any()]
    return sorted(pd.unique(column.dropna()), key=lambda v: (str(type(v)), v))  # independent of row order


def baseline_table(patients: pd.DataFrame, variables: Sequence[str] | Mapping[str, str], *, by: str | None = None,
                   categorical: Sequence[str] = (), digits: int = 1, missing_label: str = "Missing") -> pd.DataFrame:
    """Table 1: baseline characteristics overall and by group, with p-values and the test named on each row.

    Parameters
    ----------
    patients
        One row per patient.
    variables
        Columns to summarise, or a mapping column -> display label (in display order).
    by
        Optional grouping column; adds one column per group (patients with a missing group count only in "All")
        and a p-value comparing the groups.
    categorical
        Numeric columns to treat as categorical (e.g. ECOG). Non-numeric and boolean columns always are.

    Returns
    -------
    DataFrame
        ``Characteristic``, ``All (N = n)``, one column per group ``<group> (N = n)``, and with ``by``: ``p`` and
        ``Test``. Continuous variables: ``median (range)`` on one row; categorical: a header row then one row per
        level with ``n (%)`` (percent of patients with a known value); a ``Missing`` row when values are missing.

    Notes
    -----
    Tests, as R: categorical -> Fisher's exact test (``fisher.test``; exact r x c enumeration, or Pearson's
    chi-squared without continuity correction when more than 200,000 tables would be needed); continuous with two
    groups -> Wilcoxon rank-sum (``wilcox.test``: exact without ties when both groups have < 50 patients, otherwise
    the normal approximation with continuity correction); three or more groups -> Kruskal-Wallis (``kruskal.test``).
    """
    labels = dict(variables) if isinstance(variables, Mapping) else {v: v for v in variables}
    missing_cols = [c for c in labels if c not in patients.columns]
    if missing_cols:
        raise InputError(f"baseline_table: column(s) {missing_cols} not in the table")
    levels = _group_levels(patients, by)
    subsets = [("All", patients)] + [(str(g), patients[patients[by] == g]) for g in levels]
    headers = [f"{name} (N = {len(sub)})" for name, sub in subsets]
    rows: list[list[str]] = []

    def add(label: str, cells: list[str], p: str = "", test: str = "") -> None:
        rows.append([label, *cells, *([p, test] if levels else [])])

    for column, label in labels.items():
        series = patients[column]
        is_cat = (column in categorical or pd.api.types.is_bool_dtype(series)
                  or not pd.api.types.is_numeric_dtype(series))
        p_text = test = ""
        if len(levels) >= 2:
            known = series.notna() & patients[by].notna()
            if known.any():
                p, test = (_categorical_test if is_cat else _continuous_test)(series[known], patients[by][known])
                p_text = format_p(p) if test else ""
        if is_cat:
            add(f"{label}, n (%)", ["" for _ in subsets], p_text, test)
            if isinstance(series.dtype, pd.CategoricalDtype):
                categories = list(series.cat.categories)
            else:  # sorted, so the table does not depend on row order
                categories = sorted(pd.unique(series.dropna()), key=lambda v: (str(type(v)), v))
            for cat in categories:
                add(f"    {cat}", [format_percent(int((sub[column] == cat).sum()), int(sub[column].notna().sum()))
                                   for _, sub in subsets])
        else:
            cells = []
            for _, sub in subsets:
                v = pd.to_numeric(sub[column]).dropna()
                cells.append("NA" if v.empty else
                             f"{_fmt(v.median(), digits)} ({_fmt(v.min(), digits)}–{_fmt(v.max(), digits)})")
            add(f"{label}, median (range)", cells, p_text, test)
        if series.isna().any():
            add(f"    {missing_label}", [str(int(sub[column].isna().sum())) for _, sub in subsets])
    columns = ["Characteristic", *headers, *(["p", "Test"] if levels else [])]
    return pd.DataFrame(rows, columns=columns)


def _binomial_ci(x: int, n: int, conf_level: float, method: str) -> tuple[float, float]:
    from cart_outcomes.stats import binomial_ci

    if method not in ("clopper-pearson", "wilson"):
        raise InputError(f"method must be 'clopper-pearson' or 'wilson', got {method!r}")
    ci = binomial_ci(x, n, method=method, conf_level=conf_level)
    return ci.lower, ci.upper


def _pct(proportion: float, digits: int = 0) -> str:
    return round_half_up(100.0 * proportion, digits)


def _method_name(method: str) -> str:
    return {"clopper-pearson": "Clopper-Pearson exact", "wilson": "Wilson score"}[method]


def response_table(patients: pd.DataFrame, column: str = "day28_response", *,
                   responders: Sequence[str] = ("CR", "CRi", "PR"), categories: Sequence[str] | None = None,
                   by: str | None = None, conf_level: float = 0.95, method: str = "clopper-pearson",
                   overall_label: str = "Overall response") -> pd.DataFrame:
    """Response table: n (%) per response category and the response rate with its confidence interval.

    The denominator is every patient in the column (a missing response counts as "Not evaluable", never dropped).
    The response rate row is ``x/N (pct%)`` with the ``conf_level`` interval by ``method`` (Clopper-Pearson exact as
    R's ``binom.test``, or Wilson score as ``prop.test(correct = FALSE)``).
    """
    if column not in patients.columns:
        raise InputError(f"response column {column!r} is not in the table")
    values = patients[column].astype(object).where(patients[column].notna(), "Not evaluable")
    if categories is None:
        categories = list(dict.fromkeys([*[r for r in responders if (values == r).any()], *pd.unique(values)]))
    levels = _group_levels(patients, by)
    subsets = [("All", values)] + [(str(g), values[patients[by] == g]) for g in levels]
    pct = int(round(conf_level * 100))
    rows = [[str(cat)] + [format_percent(int((v == cat).sum()), len(v)) for _, v in subsets] for cat in categories]
    ci_cells = []
    for _, v in subsets:
        x, n = int(v.isin(list(responders)).sum()), len(v)
        if n == 0:
            ci_cells.append("0/0")
            continue
        lo, hi = _binomial_ci(x, n, conf_level, method)
        ci_cells.append(f"{x}/{n} ({_pct(x / n)}%; {pct}% CI {_pct(lo)}–{_pct(hi)}%)")
    rows.append([f"{overall_label} ({' + '.join(responders)}), {_method_name(method)} {pct}% CI", *ci_cells])
    return pd.DataFrame(rows, columns=["Response", *[f"{name} (N = {len(v)})" for name, v in subsets]])


def survival_summary_table(km_result: Any, *, landmarks: Sequence[float] = (), unit: str = "months",
                           labels: Mapping[Any, str] | None = None, digits: int = 1) -> pd.DataFrame:
    """Survival summary per group: N, events, median with CI, and landmark survival with CI.

    Parameters
    ----------
    km_result
        :func:`cart_outcomes.stats.kaplan_meier` result (uses ``.medians`` and ``.at(times)``).
    landmarks
        Landmark times in ``unit`` (e.g. ``(6, 12)`` months); converted to days with 30.4375 days per month.
    unit
        Unit of the median and of the landmark labels.

    Returns
    -------
    DataFrame
        ``Group, N, Events, Median (95% CI), <unit>`` and one ``Rate at <unit> <t> (95% CI)`` column per landmark; a
        median or limit that is not reached prints ``NR``. The CI type is the result's ``conf_type``.
    """
    scale = unit_scale(unit)
    medians = km_result.medians
    pct = int(round(100 * float(getattr(km_result, "options", {}).get("conf_level", 0.95))))
    at = km_result.at([float(t) * scale for t in landmarks]) if landmarks else None
    rows = []
    for _, m in medians.iterrows():
        group = m["group"] if "group" in medians.columns else None
        name = (labels or {}).get(group, "All patients" if is_missing(group) else str(group))

        def fmt(v: float) -> str:
            return "NR" if is_missing(v) else f"{float(v) / scale:.{digits}f}"

        row = [name, f"{m['n']:g}", f"{m['events']:g}", f"{fmt(m['median'])} ({fmt(m['lower'])}–{fmt(m['upper'])})"]
        for t in landmarks:
            sub = at[np.isclose(at["time"].to_numpy(dtype=float), float(t) * scale)]
            if "group" in at.columns and not is_missing(group):
                sub = sub[sub["group"] == group]
            s, lo, hi = (sub[c].iloc[0] if len(sub) else math.nan for c in ("survival", "lower", "upper"))
            row.append("NA" if is_missing(s) else
                       f"{100 * s:.{digits}f}% ({'NA' if is_missing(lo) else f'{100 * lo:.{digits}f}'}–"
                       f"{'NA' if is_missing(hi) else f'{100 * hi:.{digits}f}'})")
        rows.append(row)
    unit_word = unit
    columns = ["Group", "N", "Events", f"Median ({pct}% CI), {unit_word}"]
    columns += [f"Rate at {unit_word[:-1]} {t:g} ({pct}% CI)" for t in landmarks]
    return pd.DataFrame(rows, columns=columns)


def safety_table(patients: pd.DataFrame, columns: Mapping[str, str], *, max_grade: int = 5, conf_level: float = 0.95,
                 method: str = "clopper-pearson") -> pd.DataFrame:
    """Grade distribution per toxicity: any grade, each grade, and grade >= 3, as n (%) with exact CIs.

    ``columns`` maps per-patient maximum-grade columns to names, e.g. ``{"crs_max_grade": "CRS"}``. The denominator
    is the number of patients with a known grade (0 = no event); patients with a missing grade are counted in a
    ``Not assessed`` row.
    """
    pct = int(round(conf_level * 100))
    rows = []
    for column, name in columns.items():
        if column not in patients.columns:
            raise InputError(f"safety_table: column {column!r} is not in the table")
        grades = pd.to_numeric(patients[column], errors="raise")
        known = grades.dropna().astype(int)
        bad = known[(known < 0) | (known > max_grade)]
        if len(bad):
            raise InputError(f"column {column!r} has grades outside 0..{max_grade} at rows {bad.index[:5].tolist()}")
        n = len(known)

        def line(label: str, x: int, with_ci: bool, name: str = name, n: int = n) -> list[str]:
            ci = ""
            if with_ci and n:
                lo, hi = _binomial_ci(x, n, conf_level, method)
                ci = f"{_pct(lo)}–{_pct(hi)}%"
            return [name, label, format_percent(x, n), ci]

        rows.append(line("Any grade", int((known >= 1).sum()), True))
        rows += [line(f"Grade {g}", int((known == g).sum()), False) for g in range(1, max_grade + 1)]
        rows.append(line("Grade ≥ 3", int((known >= 3).sum()), True))
        if grades.isna().any():
            rows.append([name, "Not assessed", str(int(grades.isna().sum())), ""])
    return pd.DataFrame(rows, columns=["Toxicity", "Grade", "n (%)", f"{pct}% CI ({_method_name(method)})"])


def hsct_comparison_table(analyses: pd.DataFrame) -> pd.DataFrame:
    """Naive vs immortal-time-corrected HSCT analyses side by side.

    ``analyses`` has one row per analysis with columns ``analysis`` (e.g. "Naive log-rank (HSCT vs no HSCT)",
    "Landmark at day 60", "Time-dependent Cox", "Mantel-Byar"), ``handles_immortal_time`` (bool), ``estimate``
    (HR or NaN), ``lower``, ``upper``, ``p_value`` and optionally ``n``, ``events``, ``note``.
    The returned table flags the naive rows as biased in favour of HSCT (guarantee-time bias).
    """
    needed = ["analysis", "handles_immortal_time", "estimate", "lower", "upper", "p_value"]
    missing = [c for c in needed if c not in analyses.columns]
    if missing:
        raise InputError(f"hsct_comparison_table: missing column(s) {missing}")
    rows = []
    for _, a in analyses.iterrows():
        est = "—" if is_missing(a["estimate"]) else (
            f"{float(a['estimate']):.2f} ("
            f"{'NA' if is_missing(a['lower']) else format(float(a['lower']), '.2f')}–"
            f"{'NA' if is_missing(a['upper']) else format(float(a['upper']), '.2f')})")
        handled = bool(a["handles_immortal_time"])
        row = [str(a["analysis"]), "Yes" if handled else "No (biased in favour of HSCT)", est, format_p(a["p_value"])]
        for extra in ("n", "events"):
            if extra in analyses.columns:
                row.append("" if is_missing(a[extra]) else f"{a[extra]:g}")
        row.append("" if "note" not in analyses.columns or is_missing(a["note"]) else str(a["note"]))
        rows.append(row)
    columns = ["Analysis", "Accounts for immortal time", "HR (95% CI)", "p"]
    columns += [c.capitalize() for c in ("n", "events") if c in analyses.columns]
    return pd.DataFrame(rows, columns=[*columns, "Note"])
