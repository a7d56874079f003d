"""The regression section of a run: Cox and Fine-Gray models of an endpoint on baseline covariates, univariable
(one model per covariate) and multivariable, as gtsummary's ``tbl_uvregression`` and ``tbl_regression`` tabulate
them from R ``coxph`` and ``cmprsk::crr``.

Each model is fitted on its complete cases: the patients of the population with a defined time for the endpoint and
every covariate (and stratum) of that model known. Patients left out are listed in ``data_quality.exclusions`` and
counted in the record (``n_excluded``, ``excluded_by``), so the table note can say how many and why. Categorical
covariates (text, yes/no, or numeric columns named in ``categorical``) are coded against their reference level
(``reference``, else the first level in sorted order, as R's ``factor``; yes/no columns against "no"). Each model
records the Wald, likelihood-ratio and score tests (Fine-Gray: Wald and crr's pseudo likelihood-ratio test), the joint
Wald test of each categorical covariate with three or more levels, the proportional-hazards test (Cox, R ``cox.zph``)
and warnings when it fails (p < 0.05), when there are fewer than 10 events per estimated coefficient (Peduzzi et al.,
J Clin Epidemiol 1996) or when the fit did not converge.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import chdtrc

from cart_outcomes import stats
from cart_outcomes.cohort.schema import COMPETING_ENDPOINTS as COMPETING
from cart_outcomes.cohort.schema import ENDPOINT_NAMES
from cart_outcomes.errors import InputError
from cart_outcomes.plan._common import Part, QualityLog, map_distinct, population, skipped
from cart_outcomes.plan.cohort import TABLE1_VARIABLES
from cart_outcomes.plan.model import Plan, Regression
from cart_outcomes.results.records import num

__all__ = ["EPV_MIN", "PH_ALPHA", "regression_ids", "regression_section"]

#: Fewer events per estimated coefficient than this gives a warning (Peduzzi et al. 1996).
EPV_MIN = 10
#: A cox.zph p-value below this gives a proportional-hazards warning.
PH_ALPHA = 0.05
#: cir_status code of the cause each competing endpoint models.
CAUSE_CODE = {"cir": 1, "nrm": 2}
_YES_NO = {False: "no", True: "yes"}


@dataclass(frozen=True, slots=True)
class _Covariate:
    column: str
    label: str
    levels: tuple[str, ...] | None  # reference first; None for a numeric covariate


def regression_ids(plan: Plan) -> list[str]:
    """The id of each ``regression`` entry: ``<endpoint>_<model>`` (``_<population>`` unless all patients), with a
    numeric suffix for repeats."""
    ids: list[str] = []
    for r in plan.regression:
        base = f"{r.endpoint}_{r.effective_model.replace('-', '')}"
        base += "" if r.population == "all" else f"_{r.population}"
        key, k = base, 2
        while key in ids:
            key, k = f"{base}_{k}", k + 1
        ids.append(key)
    return ids


def _as_levels(series: pd.Series) -> pd.Series:
    """Category values as text (yes/no for booleans), missing kept missing."""

    def text(v: Any) -> str:
        return _YES_NO[bool(v)] if isinstance(v, bool | np.bool_) else str(v)

    return map_distinct(series, text)


def _numeric(series: pd.Series) -> pd.Series | None:
    """The column as floats when it is numeric (or text that is entirely numbers), else ``None``."""
    if pd.api.types.is_bool_dtype(series):
        return None
    if pd.api.types.is_numeric_dtype(series):
        return series.astype(float)
    values = series.dropna()
    if len(values) and all(isinstance(v, bool | np.bool_) for v in values):
        return None
    converted = pd.to_numeric(series, errors="coerce")
    return converted.astype(float) if converted.notna().sum() == series.notna().sum() else None


def _reference_text(value: Any) -> str:
    if isinstance(value, bool):
        return _YES_NO[value]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _prepare(data: pd.DataFrame, r: Regression, rid: str) -> tuple[pd.DataFrame, list[_Covariate]]:
    """Covariate columns as floats or as text levels, and each covariate's levels with the reference first."""
    data = data.copy()
    covs = []
    for col in r.covariates:
        s = data[col]
        values = None if col in r.categorical else _numeric(s)
        label = TABLE1_VARIABLES.get(col, col)
        if values is not None:
            data[col] = values
            covs.append(_Covariate(col, label, None))
            continue
        text = _as_levels(s)
        data[col] = text
        present = sorted(set(text.dropna()))
        if col in r.reference:
            ref = _reference_text(r.reference[col])
            if ref not in present:
                raise InputError(f"regression ({rid}): reference {col}={r.reference[col]!r} is not a value of "
                                 f"{col!r} among the patients analysed (values: {present})")
        else:
            ref = "no" if set(present) == {"no", "yes"} else (present[0] if present else None)
        covs.append(_Covariate(col, label, tuple([ref, *[v for v in present if v != ref]]) if ref else ()))
    return data, covs


def _wald(beta: np.ndarray, vcov: np.ndarray) -> tuple[float, int, float]:
    stat = float(beta @ np.linalg.solve(vcov, beta))
    return stat, beta.size, float(chdtrc(beta.size, stat))


def _endpoint_columns(r: Regression) -> tuple[str, str]:
    """Time and event (Cox: bool; Fine-Gray: cir_status codes) columns of the endpoint."""
    if r.endpoint in COMPETING:
        return "cir_time_days", "cir_status"
    return f"{r.endpoint}_time_days", f"{r.endpoint}_event"


def _fit(data: pd.DataFrame, covs: list[_Covariate], r: Regression, plan: Plan, rid: str, kind: str,
         log: QualityLog) -> dict[str, Any] | None:
    """One model on its complete cases, as a RegressionFit record (``None`` with a logged reason when it cannot be
    fitted: a covariate with a single value, or no events)."""
    t, e = _endpoint_columns(r)
    columns = [c.column for c in covs]
    checked = columns + list(r.strata)
    missing = data[checked].isna()
    drop = missing.any(axis=1).to_numpy()
    what = f"regression {rid} ({kind}{'' if kind == 'multivariable' else ': ' + columns[0]})"
    if drop.any():
        reasons = ["missing " + ", ".join(c for c in checked if row[c]) for _, row in missing[drop].iterrows()]
        log.exclude(what, pd.DataFrame({"patient_id": data.loc[drop, "patient_id"], "reason": reasons}))
    cc = data.loc[~drop].copy()
    model = r.effective_model
    cause = CAUSE_CODE.get(r.endpoint)
    event = cc[e].to_numpy(int) == cause if r.endpoint in COMPETING else cc[e].to_numpy(bool)
    levels = []
    for c in covs:
        if c.levels is None:
            continue
        present = [lev for lev in c.levels if lev in set(cc[c.column])]
        if len(present) < 2:
            skipped(log, f"{what} not fitted: {c.column!r} has a single value ({present[0] if present else 'none'}) "
                         "among the patients with every covariate known")
            return None
        cc[c.column] = pd.Categorical(cc[c.column], categories=present)
        levels.append((c, present))
    if not event.any():
        skipped(log, f"{what} not fitted: no events among the {len(cc)} patients with every covariate known")
        return None
    level = plan.statistics.conf_level
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if model == "cox":
            cc["_event"] = event
            fit = stats.cox_ph(cc, t, "_event", columns, strata=list(r.strata) or None,
                               ties=r.ties or plan.statistics.ties, robust=r.robust, conf_level=level)
            vcov = fit.vcov.to_numpy()
        else:
            fit = stats.fine_gray(cc, t, e, columns, cause=cause, conf_level=level)
            vcov = np.asarray(fit.vcov)
    notes = [str(w.message) for w in caught]
    coefs = fit.coefficients
    beta = coefs["coef"].to_numpy(float)
    terms, term_tests, j = [], [], 0
    n, n_events = len(cc), int(event.sum())
    for c in covs:
        if c.levels is None:
            terms.append(_term(c, None, None, coefs.iloc[j], n, n_events))
            j += 1
            continue
        present = dict(levels)[c]
        counts = {lev: (int((cc[c.column] == lev).sum()), int(event[(cc[c.column] == lev).to_numpy()].sum()))
                  for lev in present}
        terms.append(_term(c, present[0], present[0], None, *counts[present[0]]))
        for k, lev in enumerate(present[1:]):
            terms.append(_term(c, lev, present[0], coefs.iloc[j + k], *counts[lev]))
        width = len(present) - 1
        if width > 1:
            stat, df, p = _wald(beta[j:j + width], vcov[j:j + width, j:j + width])
            term_tests.append({"variable": c.column, "statistic": stat, "df": df, "p": p, "method": "Wald"})
        j += width
    described = [t["term"] for t in terms if not t["is_reference"]]
    expected = [c.column if c.levels is None else f"{c.column}{lev}" for c, present in
                [(c, dict(levels).get(c)) for c in covs] for lev in ([None] if c.levels is None else present[1:])]
    if j != beta.size or described != expected:  # the stats function's design must be the one described here
        raise RuntimeError(f"{what}: coefficients {described} do not match the design {expected}")
    if model == "cox":
        tests = [{"test": row.test, "statistic": num(row.statistic), "df": int(row.df), "p": num(row.p)}
                 for row in fit.tests.itertuples(index=False)]
    else:
        stat, df, p = _wald(beta, vcov)
        lr = 2.0 * (fit.loglik["fitted"] - fit.loglik["null"])
        tests = [{"test": "pseudo_likelihood_ratio", "statistic": lr, "df": df, "p": float(chdtrc(df, lr))},
                 {"test": "wald", "statistic": stat, "df": df, "p": p}]
    rec: dict[str, Any] = {
        "kind": kind, "covariates": columns, "n": n, "events": n_events, "n_excluded": int(drop.sum()),
        "excluded_by": {c: int(missing[c].sum()) for c in checked if missing[c].any()},
        "parameters": int(beta.size), "events_per_parameter": n_events / beta.size,
        "terms": terms, "tests": tests, "term_tests": term_tests,
    }
    if model == "cox":
        ph = _ph_test(fit, notes)
        rec["ph_test"] = ph
        failing = [row for row in ph or [] if row["p"] is not None and row["p"] < PH_ALPHA]
        if failing:
            notes.append("proportional hazards in doubt (cox.zph, KM transform): " + ", ".join(
                f"{row['term']} p = {row['p']:.3g}" for row in failing) + "; read the hazard ratio as an average "
                "over follow-up, or compare restricted mean survival times")
    if n_events / beta.size < EPV_MIN:
        notes.append(f"{n_events} events for {beta.size} coefficient(s) ({n_events / beta.size:.1f} per "
                     f"coefficient, fewer than {EPV_MIN}): the estimates may be unstable and biased")
    rec["warnings"] = notes
    return rec


def _term(c: _Covariate, level: str | None, reference: str | None, coef: Any, n: int, events: int) -> dict:
    row: dict[str, Any] = {"variable": c.column, "label": c.label, "level": level, "reference_level": reference,
                           "is_reference": coef is None and level is not None}
    keys = ("term", "coef", "hazard_ratio", "se", "z", "p", "lower", "upper")
    if coef is None:
        row.update(dict.fromkeys(keys))
    else:
        row["term"] = str(coef["term"])
        row.update({k: num(coef[k]) for k in keys[1:]})
        robust = coef.get("robust_se")
        if robust is not None and np.isfinite(robust):  # z, p and the CI use it (R summary(coxph(robust = TRUE)))
            row["se"] = num(robust)
    row.update({"n": n, "events": events})
    return row


def _ph_test(fit: Any, notes: list[str]) -> list[dict] | None:
    try:
        table = fit.ph_test("km").table
    except InputError as exc:
        notes.append(f"cox.zph not computed: {exc}")
        return None
    return [{"term": row.term, "statistic": num(row.statistic), "df": int(row.df), "p": num(row.p)}
            for row in table.itertuples(index=False)]


def _options(r: Regression, plan: Plan) -> dict[str, Any]:
    level = plan.statistics.conf_level
    if r.effective_model == "cox":
        return {"ties": r.ties or plan.statistics.ties, "strata": list(r.strata), "robust": r.robust,
                "conf_level": level, "ph_test": "cox.zph, transform km"}
    from cart_outcomes.cohort.schema import CIR_CAUSES

    cause = CAUSE_CODE[r.endpoint]
    return {"cause": CIR_CAUSES[cause], "competing": [v for k, v in CIR_CAUSES.items() if k != cause],
            "ties": "breslow", "conf_level": level, "censoring_weights": "Kaplan-Meier of the censoring distribution"}


def _method(r: Regression, plan: Plan) -> str:
    if r.effective_model == "fine-gray":
        return ("Fine-Gray proportional subdistribution hazards model; Wald CI and p from crr's sandwich variance "
                "(R cmprsk::crr(ftime, fstatus, cov1, failcode, cencode = 0))")
    o = _options(r, plan)
    cause = " (cause-specific: the competing events censor)" if r.endpoint in COMPETING else ""
    strata = f" + strata({', '.join(r.strata)})" if r.strata else ""
    return (f"Cox proportional-hazards model{cause}, {o['ties']} ties, Wald CI and p"
            + (", robust variance" if r.robust else "")
            + f" (R survival::coxph(Surv(time, event) ~ covariates{strata}, ties = \"{o['ties']}\""
            + (", robust = TRUE" if r.robust else "") + "))")


def regression_section(frame: pd.DataFrame, plan: Plan, log: QualityLog) -> Part:
    """One record per ``regression`` entry (univariable models in covariate order, then the multivariable one), and
    one tidy table per entry (``regression_<id>``: every term of every model)."""
    out, tables = [], {}
    for r, rid in zip(plan.regression, regression_ids(plan), strict=True):
        t, e = _endpoint_columns(r)
        sub = population(frame, plan, r.population)
        data = sub.loc[sub[t].notna(), list(dict.fromkeys(["patient_id", t, e, *r.covariates, *r.strata]))]
        if data.empty:
            skipped(log, f"regression {rid} not fitted: no patient with a defined {r.endpoint} time in its "
                         "population")
            continue
        data, covs = _prepare(data, r, rid)
        rec: dict[str, Any] = {
            "id": rid, "endpoint": r.endpoint, "name": ENDPOINT_NAMES[r.endpoint], "model": r.effective_model,
            "method": _method(r, plan), "population": r.population, "covariates": list(r.covariates),
            "options": _options(r, plan), "n_population": int(len(data)),
        }
        if r.univariable:
            fits = [_fit(data, [c], r, plan, rid, "univariable", log) for c in covs]
            rec["univariable"] = [f for f in fits if f is not None]
        if r.multivariable and len(covs) > 1:
            rec["multivariable"] = _fit(data, covs, r, plan, rid, "multivariable", log)
        elif r.multivariable and not r.univariable:
            rec["univariable"] = [f for f in [_fit(data, covs, r, plan, rid, "univariable", log)] if f is not None]
        rows = [{"model": fit["kind"], **{k: v for k, v in term.items()}}
                for fit in [*(rec.get("univariable") or []), *([rec["multivariable"]] if rec.get("multivariable")
                                                               else [])]
                for term in fit["terms"]]
        tables[f"regression_{rid}"] = pd.DataFrame(rows)
        out.append(rec)
    return Part(out, tables, {})
