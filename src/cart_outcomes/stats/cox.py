"""Cox proportional-hazards regression with R ``survival::coxph`` numbers.

The numeric core lives in ``_cox_fit`` (risk-set sums, Newton-Raphson as R's ``coxfit6``), covariate parsing in
``_formula`` and the concordance in ``_concordance``; this module checks input, assembles the result and offers the
post-fit tools (``ph_test`` = ``cox.zph``, ``predict_survival`` = ``survfit.coxph``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import chdtrc, ndtr

from cart_outcomes._result import Result
from cart_outcomes._version import __version__
from cart_outcomes.errors import DataQualityWarning, InputError, StatisticalWarning
from cart_outcomes.stats import _common, _formula, _inputs
from cart_outcomes.stats import _cox_fit as core
from cart_outcomes.stats import _cox_post as post
from cart_outcomes.stats._concordance import concordance as _concordance
from cart_outcomes.stats._events import event_table

_TIES = ("efron", "breslow", "exact")
_RESIDUALS = ("martingale", "deviance", "score", "schoenfeld", "dfbeta", "dfbetas", "scaledsch", "partial")
_PREDICT = ("lp", "risk", "expected", "survival", "terms")
_TRANSFORMS = ("km", "rank", "identity", "log")
CONF_LEVEL = 0.95


@dataclass(frozen=True, slots=True)
class _Model:
    """What the post-fit methods need (arrays in the row order of the rows used)."""

    rs: core.RiskSets
    x: np.ndarray  # centred (not scaled) design matrix
    means: np.ndarray
    beta: np.ndarray
    naive_var: np.ndarray
    terms: list
    term_columns: list  # per term: indices of its coefficients
    start: np.ndarray | None
    stop: np.ndarray
    event: np.ndarray
    strata_columns: tuple
    strata_levels: list
    method: str
    lp: np.ndarray
    cluster: np.ndarray | None
    w: np.ndarray
    rows: np.ndarray  # 0-based position in the data of each (sorted) row
    n_data: int  # rows of the data given (used and excluded)
    r_means: np.ndarray  # R fit$means
    var: np.ndarray  # R fit$var (robust when robust)
    names: list
    labels: tuple  # (time, start or None) column names, for newdata of predict(type="expected")


@dataclass(frozen=True, slots=True)
class PHTest(Result):
    """Test of proportional hazards (R ``cox.zph``, survival 3.x score test), one row per term and ``GLOBAL``.

    ``table`` columns: ``term, statistic, df, p``. ``residuals`` is the data of R's ``plot(cox.zph(fit))``, long:
    one row per term and event with ``term``, ``time`` (R ``$time``), ``g_time`` = g(time) (R ``$x``), ``stratum``
    when stratified, and ``residual``, the scaled Schoenfeld residual (R ``$y``: an estimate of beta(t); a
    multi-level factor gets one combined series; NaN for a covariate that is constant within the event's stratum).
    ``var`` is R ``$var``.
    """

    table: pd.DataFrame
    transform: str
    residuals: pd.DataFrame = field(repr=False)
    var: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def _repr_html_(self) -> str:
        return f"<p>cox.zph score test, transform={self.transform}</p>" + self.table.to_html(index=False)

    @property
    def options(self) -> Mapping[str, Any]:
        """The transform and the R call (read-only)."""
        return _common.options(transform=self.transform, r_equivalent=f'cox.zph(fit, transform = "{self.transform}")')


@dataclass(frozen=True, slots=True)
class CoxResult(Result):
    """Result of :func:`cox_ph`.

    Attributes
    ----------
    coefficients : DataFrame with ``term, coef, hazard_ratio, se, robust_se, z, p, lower, upper`` (``lower``/``upper``
        bound the hazard ratio; z, p and the interval use the robust SE when ``robust``; ``robust_se`` is NaN
        otherwise), as ``summary(coxph)``.
    loglik : ``{"null": ..., "fitted": ...}`` (R ``fit$loglik``).
    tests : DataFrame ``test, statistic, df, p`` with tests ``likelihood_ratio``, ``wald`` (robust variance when
        robust), ``score`` (log-rank) and, when robust, ``robust_score``.
    concordance : ``{"value", "se", "concordant", "discordant", "tied_risk", "tied_time", "tied_both"}`` (Harrell's
        C with its infinitesimal jackknife SE and R's pair counts ``tied.x``, ``tied.y``, ``tied.xy``, as in
        ``coxph``; a property computed on first access).
    means : R ``fit$means`` (property). Methods: ``residuals``, ``predict``, ``basehaz``, ``survfit``,
        ``predict_survival``, ``ph_test`` (R ``residuals``, ``predict``, ``basehaz``, ``survfit``, ``cox.zph``).
    n, events : rows used and number of events among them.
    excluded : DataFrame ``row, reason``: 0-based positions of rows left out (missing covariate, strata or cluster).
    vcov : variance matrix of the coefficients (robust when ``robust``); ``naive_vcov`` the model-based one.
    iterations, converged : Newton-Raphson bookkeeping (R ``fit$iter``).
    options : method and settings (ties, robust, cluster, strata, conf_level, version).
    """

    coefficients: pd.DataFrame
    loglik: dict
    tests: pd.DataFrame
    n: int
    events: int
    excluded: pd.DataFrame
    vcov: pd.DataFrame
    naive_vcov: pd.DataFrame
    iterations: int
    converged: bool
    options: dict
    _model: _Model = field(repr=False, compare=False)
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def table(self) -> pd.DataFrame:
        return self.coefficients

    @property
    def concordance(self) -> dict:
        """Harrell's C of the linear predictor, R ``fit$concordance`` (computed on first access, then cached)."""
        if "concordance" not in self._cache:
            m = self._model
            self._cache["concordance"] = _concordance(m.start, m.stop, m.event, m.rs.stratum, m.rs.w, m.lp, m.cluster)
        return dict(self._cache["concordance"])

    def to_frame(self) -> pd.DataFrame:
        return self.coefficients.copy()

    def _repr_html_(self) -> str:
        head = f"<p>Cox model (ties={self.options['ties']}): n={self.n}, events={self.events}"
        if len(self.excluded):
            head += f", {len(self.excluded)} row(s) excluded for missing values"
        return head + "</p>" + self.coefficients.to_html(index=False) + self.tests.to_html(index=False)

    def ph_test(self, transform: str = "km") -> PHTest:
        """Proportional-hazards test, R ``cox.zph(fit, transform=)`` (survival >= 3.0).

        The score test for adding ``x * g(t)`` to the model, with ``g`` the centred transform of time (``"km"``:
        1 - KM(t-) of the pooled data, ``"rank"``: rank of the exit times, ``"identity"``, ``"log"``: log time),
        using the full information matrix of the extended model (not the older Grambsch-Therneau approximation that
        lifelines reproduces). One row per term (multi-level factors jointly) and ``GLOBAL``; the residuals for the
        PH plot are in ``.residuals`` (see :class:`PHTest`).
        """
        if transform not in _TRANSFORMS:
            raise InputError(f"transform must be one of {_TRANSFORMS}, got {transform!r}")
        m = self._model
        rs = m.rs
        if transform == "identity":
            ttimes = m.stop
        elif transform == "log":
            if np.any(m.stop <= 0):
                raise InputError("transform='log' needs exit times > 0")
            ttimes = np.log(m.stop)
        elif transform == "rank":
            ttimes = pd.Series(m.stop).rank().to_numpy()  # R rank(): average ties
        else:
            tab = event_table(m.stop, m.event, entry=m.start)
            surv = np.cumprod(1 - tab.n_event[:, 0] / np.where(tab.n_risk[:, 0] > 0, tab.n_risk[:, 0], 1))
            idx = np.searchsorted(tab.time, m.stop, "left")  # number of grid times strictly before
            ttimes = 1 - np.concatenate([[1.0], surv])[idx]
        gtime = ttimes - ttimes[m.event].mean()
        gval = gtime[rs.deaths[rs.gfirst]]
        u, info = core.group_score_info(rs, m.x, m.beta, m.method == "efron")
        p = m.x.shape[1]
        u2 = gval @ u
        full = np.zeros((2 * p, 2 * p))
        full[:p, :p] = info.sum(axis=0)
        full[:p, p:] = full[p:, :p] = np.tensordot(gval, info, axes=1)
        full[p:, p:] = np.tensordot(gval**2, info, axes=1)
        rows = []
        for term, cols in zip(m.terms, m.term_columns, strict=True):
            kk = np.concatenate([np.arange(p), p + np.asarray(cols)])
            uu = np.concatenate([np.zeros(p), u2[cols]])
            stat = float(uu @ np.linalg.solve(full[np.ix_(kk, kk)], uu))
            rows.append((term.column, stat, len(cols)))
        uu = np.concatenate([np.zeros(p), u2])
        rows.append(("GLOBAL", float(uu @ np.linalg.solve(full, uu)), p))
        table = pd.DataFrame(rows, columns=["term", "statistic", "df"])
        table["p"] = chdtrc(table["df"], table["statistic"])
        dead, schoen = post.schoenfeld(rs, m.x, m.beta, m.method == "efron")
        if m.start is not None:  # R (zph2): tied events of (start, stop] rows come in reverse data order
            flip = np.lexsort((-np.arange(dead.size), m.stop[dead], rs.stratum[dead]))
            dead, schoen = dead[flip], schoen[flip]
        termnames = [t.column for t in m.terms]
        scaled, zvar = post.zph_scaled(schoen, rs.stratum[dead], m.x, rs.stratum, full[:p, :p], m.beta, m.term_columns)
        k = dead.size
        resid = pd.DataFrame({
            "term": np.repeat(termnames, k), "time": np.tile(m.stop[dead], len(termnames)),
            "g_time": np.tile(ttimes[dead], len(termnames)),
        })  # fmt: skip
        if m.strata_columns:
            resid["stratum"] = np.tile(self._stratum_labels()[rs.stratum[dead]], len(termnames))
        resid["residual"] = scaled.T.ravel()
        return PHTest(table, transform, resid, pd.DataFrame(zvar, index=termnames, columns=termnames))

    @property
    def means(self) -> pd.Series:
        """R ``fit$means``: the covariate means the linear predictor is centred on (0 for columns of -1/0/1; the
        weighted mean for right-censored data, the unweighted mean for (start, stop] rows, as R's ``coxph.fit``
        and ``agreg.fit``)."""
        m = self._model
        return pd.Series(m.r_means, index=m.names, name="mean")

    def residuals(
        self, type: str = "martingale", *, weighted: bool | None = None, collapse: Any = None
    ) -> pd.Series | pd.DataFrame:
        """Residuals, R ``residuals(fit, type=, weighted=, collapse=)``.

        Parameters
        ----------
        type : ``"martingale"`` (default), ``"deviance"``, ``"score"``, ``"schoenfeld"``, ``"dfbeta"``,
            ``"dfbetas"``, ``"scaledsch"`` or ``"partial"`` (martingale plus ``predict(type="terms")``, one column
            per term); score and Schoenfeld types are not available for ``ties="exact"``, as in R.
        weighted : multiply by the case weights; ``None`` is R's default (True for dfbeta/dfbetas, else False).
        collapse : sum the rows within groups (R ``collapse=``): an array aligned with the data given to
            :func:`cox_ph` (or with the rows used), or ``True`` for the fit's ``cluster``. Not for Schoenfeld types.

        Returns
        -------
        Series (martingale, deviance) or DataFrame with one column per coefficient, indexed by the 0-based row of
        the data (or by the collapse key). Schoenfeld types have one row per event, in R's order (stratum, time),
        with a (row, time) index. ``dfbeta`` = score residuals times the model-based variance, ``dfbetas`` scaled
        by its SDs, ``scaledsch`` = Schoenfeld times the variance times the number of events plus the
        coefficients (R's definitions; ``cox.zph`` scales per stratum instead, see :meth:`ph_test`).
        """
        if type not in _RESIDUALS:
            raise InputError(f"type must be one of {_RESIDUALS}, got {type!r}")
        m = self._model
        efron = m.method == "efron"
        if m.method == "exact" and type not in ("martingale", "deviance", "partial"):
            raise InputError(f"{type} residuals are not available for ties='exact' (as in R)")
        if weighted is None:
            weighted = type in ("dfbeta", "dfbetas")
        if type in ("schoenfeld", "scaledsch"):
            if collapse is not None:
                raise InputError("collapse applies to per-row residuals, not to Schoenfeld residuals")
            dead, r = post.schoenfeld(m.rs, m.x, m.beta, efron)
            if weighted:
                r = r * m.w[dead, None]
            if type == "scaledsch":
                r = (r @ m.naive_var) * dead.size + m.beta
            index = pd.MultiIndex.from_arrays([m.rows[dead], m.stop[dead]], names=["row", "time"])
            return pd.DataFrame(r, index=index, columns=m.names)
        status = m.event.astype(float)
        if type in ("martingale", "deviance", "partial"):
            r = post.martingale(m.rs, m.x, m.beta, efron)[:, None]
        else:
            r = core.score_residuals(m.rs, m.x, m.beta, efron)
            if type == "dfbeta":
                r = r @ m.naive_var
            elif type == "dfbetas":
                r = (r @ m.naive_var) / np.sqrt(np.diag(m.naive_var))
        if weighted:
            r = r * m.w[:, None]
        order = np.argsort(m.rows)
        r, status, index = r[order], status[order], pd.Index(m.rows[order], name="row")
        columns = m.names
        if type == "partial":
            terms = self.predict(type="terms")
            r, columns = r + terms.to_numpy(), list(terms.columns)
        if collapse is not None:
            keys = self._collapse_keys(collapse)[order]
            codes, uniq = pd.factorize(pd.Series(keys), sort=True)
            r = _collapse(r, codes, uniq.size)
            status = np.bincount(codes, status, minlength=uniq.size)
            index = pd.Index(uniq, name="collapse")
        if type == "deviance":
            r = post.deviance(r[:, 0], status)[:, None]
        if type in ("martingale", "deviance"):
            return pd.Series(r[:, 0], index=index, name=type)
        return pd.DataFrame(r, index=index, columns=columns)

    def _collapse_keys(self, collapse: Any) -> np.ndarray:
        """Collapse keys in the sorted row order of the model."""
        m = self._model
        if collapse is True:
            if m.cluster is None:
                raise InputError("collapse=True needs a cluster in the fit")
            return m.cluster
        keys = np.asarray(collapse, dtype=object)
        if keys.ndim != 1 or keys.size not in (m.n_data, m.rows.size):
            raise InputError(
                f"collapse: give one value per row of the data ({m.n_data}) or of the rows used ({m.rows.size}), "
                f"got {keys.size}"
            )
        keys = keys[m.rows] if keys.size == m.n_data else keys[np.argsort(np.argsort(m.rows))]
        missing = pd.isna(keys)
        if missing.any():
            bad = np.isin(np.arange(m.n_data), m.rows[missing])
            raise InputError(f"collapse: missing value for data {_inputs.rows(bad)}")
        return keys

    def _stratum_labels(self) -> np.ndarray:
        """R's strata labels (``sex=1``, ``sex=1, inst=3``) indexed by stratum code."""
        m = self._model
        return np.array(
            [", ".join(f"{c}={v}" for c, v in zip(m.strata_columns, lev, strict=True)) for lev in m.strata_levels],
            dtype=object,
        )

    def _newdata(self, newdata: Any, need_strata: bool) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        """(frame, raw design matrix, stratum code per row) of ``newdata``; located errors for what is missing."""
        m = self._model
        nd = _inputs.as_frame(newdata)
        if nd is None or len(nd) == 0:
            raise InputError("newdata: give a data frame with at least one row of covariate values")
        need = [t.column for t in m.terms] + (list(m.strata_columns) if need_strata else [])
        miss = [c for c in need if c not in nd]
        if miss:
            raise InputError(f"newdata: column(s) {miss} missing (needed: {need})")
        bad = nd[need].isna().any(axis=1).to_numpy()
        if bad.any():
            raise InputError(f"newdata: missing value in {_inputs.rows(bad)}")
        xnew = _formula.design(nd, m.terms, where="newdata")
        srow = np.zeros(len(nd), dtype=int)
        if m.strata_columns and need_strata:
            keys = list(nd[list(m.strata_columns)].itertuples(index=False, name=None))
            lookup = {lev: i for i, lev in enumerate(m.strata_levels)}
            unknown = [i for i, k in enumerate(keys) if k not in lookup]
            if unknown:
                raise InputError(f"newdata: strata value not in the fit in row(s) {unknown[:5]}")
            srow = np.array([lookup[k] for k in keys])
        return nd, xnew, srow

    def _curves(self) -> list[post.Curves]:
        """``agsurv`` per stratum (cached), with R's centring."""
        if "curves" not in self._cache:
            m = self._model
            xr = m.x + m.means - m.r_means
            efron = m.method == "efron"
            out = []
            for s in range(len(m.strata_levels)):
                i = m.rs.stratum == s
                st = m.start[i] if m.start is not None else None
                out.append(post.stratum_curves(st, m.stop[i], m.event[i], m.w[i], xr[i], m.beta, efron))
            self._cache["curves"] = out
        return self._cache["curves"]

    def predict(
        self, newdata: Any = None, type: str = "lp", *, se_fit: bool = False, reference: str | None = None
    ) -> pd.DataFrame:
        """Predictions, R ``predict(fit, newdata, type=, se.fit=, reference=)`` (survival 3.5-3).

        Parameters
        ----------
        newdata : covariate values (and strata columns for a stratified fit with ``reference="strata"``; for
            ``type="expected"`` also the time column, and the start column of (start, stop] fits). ``None``: the
            rows used in the fit, indexed by their row in the data.
        type : ``"lp"`` (linear predictor), ``"risk"`` (exp(lp)), ``"expected"`` (expected number of events given
            the covariates and follow-up, R's cumulative hazard times risk), ``"survival"`` (exp(-expected), the
            probability of being event-free over the follow-up) or ``"terms"`` (one column per term).
        se_fit : add ``se_fit`` (standard errors from ``vcov``, robust when the fit is; for ``risk`` R's
            ``se * sqrt(risk)``; for ``expected`` on new (start, stop] rows not available, as R's is wrong there).
        reference : centring of lp/risk/terms: ``"strata"`` (R default except for terms: covariate means within
            each stratum of a stratified fit, else ``fit$means``), ``"sample"`` (``fit$means``, R default for terms)
            or ``"zero"`` (no centring).

        Returns
        -------
        DataFrame with ``fit`` (and ``se_fit``), or for ``terms`` one column per term (and ``se_<term>``).
        """
        if type not in _PREDICT:
            raise InputError(f"type must be one of {_PREDICT}, got {type!r}")
        if reference is None:
            reference = "sample" if type == "terms" else "strata"
        if reference not in ("strata", "sample", "zero"):
            raise InputError(f"reference must be 'strata', 'sample' or 'zero', got {reference!r}")
        m = self._model
        order = np.argsort(m.rows)
        xraw = (m.x + m.means)[order]
        ostrat = m.rs.stratum[order]
        stratified = bool(m.strata_columns)
        if newdata is None:
            index = pd.Index(m.rows[order], name="row")
            xnew, srow = xraw, ostrat
        else:
            by_stratum = reference == "strata" or type in ("expected", "survival")
            nd, xnew, srow = self._newdata(newdata, stratified and by_stratum)
            index = nd.index
        if type in ("expected", "survival"):
            fit, se = self._expected(newdata, xnew, srow, order, se_fit)
            if type == "survival":  # R: exp(-expected), se * exp(-expected)
                fit = np.exp(-fit)
                se = se * fit if se_fit else se
            return self._frame(index, fit, se if se_fit else None)
        if stratified and reference == "strata":
            w = m.w[order]
            sums = np.zeros((len(m.strata_levels), xraw.shape[1]))
            np.add.at(sums, ostrat, xraw * w[:, None])
            xc = xnew - (sums / np.bincount(ostrat, w)[:, None])[srow]
        elif reference == "zero":
            xc = xnew
        else:
            xc = xnew - m.r_means
        if type == "terms":
            out = {}
            for term, cols in zip(m.terms, m.term_columns, strict=True):
                out[term.column] = xc[:, cols] @ m.beta[cols]
            if se_fit:
                for term, cols in zip(m.terms, m.term_columns, strict=True):
                    xt = xc[:, cols]
                    out[f"se_{term.column}"] = np.sqrt(np.einsum("ij,jk,ik->i", xt, m.var[np.ix_(cols, cols)], xt))
            return pd.DataFrame(out, index=index)
        fit = xc @ m.beta
        se = np.sqrt(np.einsum("ij,jk,ik->i", xc, m.var, xc)) if se_fit else None
        if type == "risk":
            fit = np.exp(fit)
            se = se * np.sqrt(fit) if se_fit else None  # R's predict.coxph: se * sqrt(risk)
        return self._frame(index, fit, se)

    @staticmethod
    def _frame(index: pd.Index, fit: np.ndarray, se: np.ndarray | None) -> pd.DataFrame:
        out = pd.DataFrame({"fit": fit}, index=index)
        if se is not None:
            out["se_fit"] = se
        return out

    def _expected(self, newdata, xnew, srow, order, se_fit) -> tuple[np.ndarray, np.ndarray]:
        """R ``predict(type="expected")``: cumulative hazard over the follow-up times risk, and its SE."""
        m = self._model
        curves = self._curves()
        if newdata is None:
            fit = m.event[order] - post.martingale(m.rs, m.x, m.beta, m.method == "efron")[order]
            if not se_fit:
                return fit, np.zeros(0)
            t_stop = m.stop[order]
            t_start = m.start[order] if m.start is not None else None
            risk = np.exp(m.lp - m.r_means @ m.beta)[order]
        else:
            nd = _inputs.as_frame(newdata)
            tlabel, slabel = m.labels
            need = [c for c in (tlabel, slabel) if c is not None]
            miss = [c for c in need if c not in nd]
            if miss:
                raise InputError(f"newdata: type='expected' needs the follow-up column(s) {miss}")
            t_stop = _inputs.times(np.asarray(nd[tlabel]), f"newdata {tlabel!r}")
            t_start = None if slabel is None else np.asarray(nd[slabel], dtype=float)
            if se_fit and t_start is not None:
                raise InputError("se_fit for type='expected' on new (start, stop] rows is not available (R's is wrong)")
            risk = np.exp((xnew - m.r_means) @ m.beta)
            fit = np.zeros(len(nd))
        se = np.zeros(fit.size)
        xc = xnew - m.r_means
        for s, c in enumerate(curves):
            i = np.flatnonzero(srow == s)
            h2, v2 = post.hazard_at(c, t_stop[i], xc[i], m.var)
            h1, v1 = (0.0, 0.0) if t_start is None else post.hazard_at(c, t_start[i], xc[i], m.var)
            if newdata is not None:
                fit[i] = (h2 - h1) * risk[i]
            with np.errstate(invalid="ignore"):
                se[i] = np.sqrt(v2 - v1) * risk[i]
        return fit, se

    def basehaz(self, centered: bool = True) -> pd.DataFrame:
        """Baseline cumulative hazard, R ``basehaz(fit, centered=)``: ``time, hazard`` (and ``stratum``) on every
        distinct exit time, at the covariate means (``centered=True``, R's default) or at zero.

        The hazard is Efron's for ``ties="efron"`` and Breslow's otherwise, as ``survfit.coxph``.
        """
        m = self._model
        shift = 1.0 if centered else float(np.exp(-(m.r_means @ m.beta)))
        parts = []
        for s, c in enumerate(self._curves()):
            part = pd.DataFrame({"time": c.time, "hazard": np.cumsum(c.hazard) * shift})
            if m.strata_columns:
                part["stratum"] = self._stratum_labels()[s]
            parts.append(part)
        return pd.concat(parts, ignore_index=True)

    def survfit(
        self, newdata: Any = None, *, conf_type: str = "log", conf_level: float | None = None
    ) -> pd.DataFrame:
        """Predicted survival curves with standard errors and pointwise CIs, R ``survfit(fit, newdata, conf.type=)``.

        One curve per row of ``newdata`` (a stratified fit uses the row's stratum), or without ``newdata`` the
        curve at the covariate means (``fit$means``; one per stratum). Efron's cumulative hazard and variance for
        ``ties="efron"``, Breslow's otherwise (R's ``ctype`` default); ``S = exp(-H)``.

        Returns a long DataFrame ``row, time, n_risk, n_event, n_censor, cumhaz, survival, std_err, std_chaz,
        lower, upper`` (and ``stratum``): every distinct exit time of the stratum (R ``censor=TRUE``); ``n_*``
        weighted; ``std_chaz`` is R's ``$std.err`` (SE of the cumulative hazard, Tsiatis' formula with the term for
        estimating beta, using ``vcov``), ``std_err = survival * std_chaz`` as ``summary.survfit`` prints it;
        ``conf_type`` ``"log"`` (R default), ``"log-log"`` or ``"plain"`` at ``conf_level`` (default: the fit's
        ``conf_level``, 0.95 unless set, R ``conf.int``).
        """
        if conf_type not in _common.CONF_TYPES:
            raise InputError(f"conf_type must be one of {_common.CONF_TYPES}, got {conf_type!r}")
        level = self.options["conf_level"] if conf_level is None else conf_level
        z = _common.z_value(_common.check_level(level))
        m = self._model
        curves = self._curves()
        if newdata is None:
            items = [(0, s, np.zeros(len(m.beta))) for s in range(len(curves))]
        else:
            _, xnew, srow = self._newdata(newdata, bool(m.strata_columns))
            xc = xnew - m.r_means
            items = [(i, srow[i], xc[i]) for i in range(xc.shape[0])]
        parts = []
        for i, s, x2 in items:
            c = curves[s]
            h, se = post.curve_for(c, x2, m.var, float(np.exp(x2 @ m.beta)))
            surv = np.exp(-h)
            lower, upper = _common.confint(surv, se, surv * se, conf_type, z)
            part = pd.DataFrame({
                "row": i, "time": c.time, "n_risk": c.n_risk, "n_event": c.n_event, "n_censor": c.n_censor,
                "cumhaz": h, "survival": surv, "std_err": surv * se, "std_chaz": se, "lower": lower, "upper": upper,
            })  # fmt: skip
            if m.strata_columns:
                part.insert(1, "stratum", self._stratum_labels()[s])
            parts.append(part)
        return pd.concat(parts, ignore_index=True)

    def predict_survival(self, newdata: Any, times: Any = None) -> pd.DataFrame:
        """Predicted survival curves for the rows of ``newdata``, R ``survfit(fit, newdata=)`` (default, no variance).

        The baseline cumulative hazard is Efron's for ``ties="efron"`` and Breslow's otherwise (R's ``ctype``
        default), ``S = exp(-H)``. Stratified models need the strata columns in ``newdata`` and use that stratum's
        baseline.

        Returns a long DataFrame ``row, time, cumhaz, survival`` (``row`` = 0-based position in ``newdata``). With
        ``times=None`` the times are the distinct exit times of the row's stratum (R's ``fit$time``); given times are
        evaluated as a step function (1 before the first event; NaN after the last exit time of the stratum, where
        R's ``summary(..., times=)`` reports nothing).
        """
        m = self._model
        nd, xnew, srow = self._newdata(newdata, need_strata=True)
        lp = (xnew - m.means) @ m.beta
        rs = m.rs
        haz = core.hazard_terms(rs, m.x, m.beta, m.method == "efron")[0]
        out = []
        for i in range(len(nd)):
            s = srow[i]
            ing = rs.gstratum == s
            gt, ch = rs.gtime[ing], np.cumsum(haz[ing])
            last = m.stop[rs.stratum == s].max()
            grid = np.unique(m.stop[rs.stratum == s]) if times is None else np.asarray(times, dtype=float)
            h0 = np.concatenate([[0.0], ch])[np.searchsorted(gt, grid, "right")]
            h = h0 * np.exp(lp[i])
            h = np.where(grid > last, np.nan, h)
            out.append(pd.DataFrame({"row": i, "time": grid, "cumhaz": h, "survival": np.exp(-h)}))
        return pd.concat(out, ignore_index=True)


def cox_ph(
    data: Any,
    time: str | Any,
    event: str | Any,
    covariates: list[str] | str,
    start: str | Any | None = None,
    strata: str | list[str] | None = None,
    ties: str = "efron",
    robust: bool | None = None,
    cluster: str | Any | None = None,
    weights: str | Any | None = None,
    *,
    iter_max: int = core.ITER_MAX,
    conf_level: float = CONF_LEVEL,
) -> CoxResult:
    """Fit a Cox proportional-hazards model, as R ``survival::coxph``.

    R equivalent::

        coxph(Surv(time, event) ~ x1 + x2 + strata(s) + cluster(id), data, ties = "efron", robust = FALSE,
              weights = w)
        coxph(Surv(start, stop, event) ~ ...)      # start= given: counting-process (start, stop] rows

    Parameters
    ----------
    data : DataFrame (or mapping of columns).
    time, event : exit time (the ``stop`` of counting-process rows) and event indicator (0/1 or bool) columns.
    covariates : list of column names, or an R right-hand side ``"age + sex + factor(ecog) + strata(inst)"`` with
        ``+``, ``factor()``, ``strata()`` and ``cluster()``. Non-numeric or bool columns (and ``factor()``) are
        dummy-coded against their first level (pandas Categorical order, else sorted unique values), named
        ``<column><level>`` as R does. A covariate with a single value or a linear combination of others raises
        InputError (R would report an NA coefficient).
    start : entry-time column for (start, stop] rows; ``start < time`` is required on every row.
    strata : column(s) whose levels get separate baseline hazards (R ``strata()``).
    ties : ``"efron"`` (R default), ``"breslow"`` or ``"exact"`` (R's exact = discrete conditional logistic
        likelihood, SAS ``TIES=DISCRETE``; no case weights, no robust variance).
    robust : sandwich (infinitesimal jackknife) variance from the dfbeta residuals (R ``robust=TRUE``). ``None``
        (default) is R's rule: robust when there is a ``cluster`` or any non-integer case weight among the rows used
        (R ``coxph``: "If there are any non-integer weights, the code also defaults robust=TRUE"), model-based
        otherwise. ``robust=False`` with a ``cluster`` ignores the cluster with a StatisticalWarning, as R does.
    cluster : column identifying correlated rows (R ``cluster()``); dfbetas are summed within clusters.
    weights : case weights (> 0), R ``weights=``. Non-integer weights (inverse-probability weights, ``finegray``
        weights) make the robust variance the default.
    iter_max : maximum Newton-Raphson iterations (R ``coxph.control(iter.max = 20)``).
    conf_level : level of the Wald intervals of the hazard ratios (R ``summary(fit, conf.int = 0.95)``).

    Returns
    -------
    CoxResult
        See :class:`CoxResult` for the fields.

    Notes
    -----
    1. Rows with a missing covariate, stratum or cluster value are excluded and listed in ``excluded`` (with a
       DataQualityWarning); missing times or events are an error.
    2. Covariates are centred (0/1 columns are not) and scaled as R does, then Newton-Raphson runs from 0 with step
       halving, at most 20 iterations, stopping when ``|1 - loglik_old / loglik_new| <= 1e-9`` (R
       ``coxph.control``).
    3. A coefficient whose score is not small relative to its size when the log-likelihood has converged is
       reported as possibly infinite (monotone likelihood, R's "Loglik converged before variable"): a
       StatisticalWarning names the term and the finite value R returns is kept. Running out of iterations also
       warns.
    4. Times are compared exactly (R's ``timefix`` rounding of nearly equal floats is not applied).

    References
    ----------
    Cox DR (1972) Regression models and life-tables. JRSS B 34:187-220. Efron B (1977) The efficiency of Cox's
    likelihood function for censored data. JASA 72:557-565. Therneau TM, Grambsch PM (2000) Modeling Survival Data:
    Extending the Cox Model. Springer. Therneau TM, survival package 3.x (``coxph``, ``cox.zph``, ``concordance``
    vignettes).
    """
    if ties not in _TIES:
        raise InputError(f"ties must be one of {_TIES}, got {ties!r}")
    _common.check_level(conf_level)
    if isinstance(iter_max, bool) or not isinstance(iter_max, int | np.integer) or iter_max < 1:
        raise InputError(f"iter_max must be a positive integer, got {iter_max!r}")
    frame = _inputs.as_frame(data)
    if frame is None:
        raise InputError("data: give a DataFrame holding the covariate columns")
    spec = _formula.parse(covariates)
    stop_raw, tlabel = _inputs.column(frame, time, "time")
    stop = _inputs.times(stop_raw, tlabel)
    n_all = stop.size
    ev_raw, elabel = _inputs.column(frame, event, "event")
    ev = _inputs.events(ev_raw, elabel, n_all)
    strata_cols = tuple(_inputs.names(strata)) + spec.strata
    if cluster is not None and spec.cluster is not None and cluster != spec.cluster:
        raise InputError("cluster given both as an argument and in the formula")
    cluster_col = cluster if cluster is not None else spec.cluster
    for col in list(spec.terms) + list(strata_cols) + ([cluster_col] if isinstance(cluster_col, str) else []):
        if col not in frame:
            raise InputError(f"column {col!r} is not in the data (columns: {list(frame.columns)})")
    st = None
    if start is not None:
        st_raw, slabel = _inputs.column(frame, start, "start")
        st = _inputs.times(st_raw, slabel, allow_negative=True, n=n_all)
        bad = st >= stop
        if bad.any():
            raise InputError(
                f"column {slabel!r}: start must be < stop ({tlabel!r}); start >= stop in {_inputs.rows(bad)}"
            )
    if weights is not None:
        w_raw, wlabel = _inputs.column(frame, weights, "weights")
        w_all = _inputs.weights(w_raw, wlabel, n_all)
        if (w_all <= 0).any():
            raise InputError(f"column {wlabel!r}: weights must be > 0 (as R); bad value in {_inputs.rows(w_all <= 0)}")
        if ties == "exact":
            raise InputError("ties='exact' does not support case weights (use efron or breslow)")
    else:
        w_all = np.ones(n_all)
    if robust is not None and not isinstance(robust, bool | np.bool_):
        raise InputError(f"robust must be True, False or None (R's default rule), got {robust!r}")

    # 1. exclusion of incomplete rows, recorded
    checked = list(spec.terms) + list(strata_cols) + ([cluster_col] if isinstance(cluster_col, str) else [])
    miss = frame[checked].isna().to_numpy() if checked else np.zeros((n_all, 0), bool)
    if cluster_col is not None and not isinstance(cluster_col, str):
        if len(cluster_col) != n_all:
            raise InputError(f"cluster: length {len(cluster_col)} differs from the time column ({n_all})")
        cl_arr = pd.Series(np.asarray(cluster_col)).isna().to_numpy()[:, None]
        miss = np.hstack([miss, cl_arr])
        checked = checked + ["cluster"]
    drop = miss.any(axis=1)
    keep = ~drop
    excluded = pd.DataFrame(
        {
            "row": np.flatnonzero(drop),
            "reason": [
                "missing " + ", ".join(c for c, b in zip(checked, miss[i], strict=True) if b)
                for i in np.flatnonzero(drop)
            ],
        }
    )
    if drop.any():
        warnings.warn(
            f"cox_ph: {int(drop.sum())} row(s) excluded for missing covariate/strata/cluster values "
            f"(see result.excluded): {_inputs.rows(drop)}",
            DataQualityWarning,
            stacklevel=2,
        )
    sub = frame.loc[keep] if drop.any() else frame
    terms = _formula.make_terms(frame, spec, keep)
    x = _formula.design(sub.reset_index(drop=True), terms)
    names = [nm for t in terms for nm in t.names]
    term_columns, k = [], 0
    for t in terms:
        term_columns.append(list(range(k, k + len(t.names))))
        k += len(t.names)
    stop, ev, w = stop[keep], ev[keep], w_all[keep]
    # R coxph: robust defaults to TRUE with a cluster or any non-integer weight among the rows used
    robust, cluster_col = _robust_default(robust, cluster_col, bool(np.any(w != np.floor(w))))
    if robust and ties == "exact":
        raise InputError("ties='exact' does not support robust=True / cluster (use efron or breslow)")
    st = st[keep] if st is not None else None
    if not ev.any():
        raise InputError(f"column {elabel!r}: no events among the {int(keep.sum())} rows used; nothing to fit")
    if strata_cols:
        skeys = list(sub[list(strata_cols)].itertuples(index=False, name=None))
        levels = sorted(set(skeys), key=lambda t: tuple((str(type(v)), v) for v in t))
        lookup = {lev: i for i, lev in enumerate(levels)}
        stratum = np.array([lookup[s] for s in skeys], dtype=np.int64)
    else:
        levels, stratum = [()], np.zeros(stop.size, dtype=np.int64)
    _check_rank(x, w, names)
    # rows in (stratum, stop) order once, so every Newton step works on contiguous risk sets
    perm = np.lexsort((ev, stop, stratum))
    x, stop, ev, w, stratum = x[perm], stop[perm], ev[perm], w[perm], stratum[perm]
    st = st[perm] if st is not None else None

    # 2. centre and scale as R coxph (columns of -1/0/1 are left alone), fit
    zero_one = np.all(np.isin(x, (-1.0, 0.0, 1.0)), axis=0)
    means = np.where(zero_one, 0.0, (w @ x) / w.sum())
    xc = x - means
    mad = (w @ np.abs(xc)) / w.sum()
    scale = np.where(zero_one | (mad == 0), 1.0, 1.0 / np.where(mad == 0, 1.0, mad))
    rs = core.RiskSets.build(st, stop, ev, stratum, w)
    fit = core.newton(rs, xc * scale, ties, iter_max=int(iter_max))
    beta = fit.beta * scale
    var = fit.var * np.outer(scale, scale)
    u = fit.u / scale
    _convergence_warnings(fit, beta, var, u, xc, names, int(iter_max))

    # 3. robust variance and tests
    se = np.sqrt(np.diag(var))
    rvar = var
    tests = [
        ("likelihood_ratio", 2 * (fit.loglik - fit.loglik0), len(beta)),
        ("score", fit.score, len(beta)),
    ]
    if cluster_col is None:
        ccodes = np.arange(stop.size)
    else:
        craw = np.asarray(frame[cluster_col] if isinstance(cluster_col, str) else cluster_col, dtype=object)
        ccodes = pd.factorize(pd.Series(craw[keep][perm]))[0]
    if robust:
        efron = ties == "efron"
        nclus = int(ccodes.max()) + 1
        resid = core.score_residuals(rs, xc, beta, efron)
        dfb = _collapse((resid @ var) * w[:, None], ccodes, nclus)
        rvar = dfb.T @ dfb
        r0 = _collapse(core.score_residuals(rs, xc, np.zeros_like(beta), efron) * w[:, None], ccodes, nclus)
        tests.append(("robust_score", core.wtest(r0.T @ r0, r0.sum(axis=0)), len(beta)))
    tests.insert(1, ("wald", core.wtest(rvar, beta), len(beta)))
    use_se = np.sqrt(np.diag(rvar))
    z = beta / use_se
    q = _common.z_value(conf_level)
    # a diverging coefficient (monotone likelihood, already reported as a StatisticalWarning) overflows exp() to inf,
    # which is R's answer (Inf); silence only that numpy warning, here (no global state)
    with np.errstate(over="ignore"):
        hazard_ratio, lower, upper = np.exp(beta), np.exp(beta - q * use_se), np.exp(beta + q * use_se)
    coefficients = pd.DataFrame(
        {
            "term": names,
            "coef": beta,
            "hazard_ratio": hazard_ratio,
            "se": se,
            "robust_se": use_se if robust else np.nan,
            "z": z,
            "p": 2 * ndtr(-np.abs(z)),
            "lower": lower,
            "upper": upper,
        }
    )
    tests_df = pd.DataFrame(tests, columns=["test", "statistic", "df"])
    tests_df["p"] = chdtrc(tests_df["df"], tests_df["statistic"])
    # R fit$means: 0 for -1/0/1 columns, else the weighted mean (coxph.fit) or the unweighted one (agreg.fit)
    r_means = np.where(zero_one, 0.0, x.mean(axis=0) if st is not None else (w @ x) / w.sum())
    model = _Model(
        rs, xc, means, beta, var, terms, term_columns, st, stop, ev, strata_cols, levels, ties, x @ beta,
        ccodes if cluster_col is not None else None, w, np.flatnonzero(keep)[perm], n_all, r_means, rvar, names,
        (tlabel, slabel if st is not None else None),
    )  # fmt: skip
    options = {
        "ties": ties,
        "robust": robust,
        "cluster": cluster_col if isinstance(cluster_col, str) else (None if cluster_col is None else "array"),
        "strata": list(strata_cols),
        "counting_process": st is not None,
        "weights": weights if isinstance(weights, str) else (None if weights is None else "array"),
        "conf_level": conf_level,
        "conf_type": "wald (hazard-ratio scale: exp(coef -/+ z se))",
        "iter_max": int(iter_max),
        "eps": core.EPS,
        "r_equivalent": "survival::coxph",
        "version": __version__,
    }
    return CoxResult(
        coefficients=coefficients,
        loglik={"null": fit.loglik0, "fitted": fit.loglik},
        tests=tests_df,
        n=int(stop.size),
        events=int(ev.sum()),
        excluded=excluded,
        vcov=pd.DataFrame(rvar, index=names, columns=names),
        naive_vcov=pd.DataFrame(var, index=names, columns=names),
        iterations=fit.iterations,
        converged=fit.converged,
        options=options,
        _model=model,
    )


def _robust_default(robust: bool | None, cluster_col: Any, fractional_weights: bool) -> tuple[bool, Any]:
    """R ``coxph``'s choice of variance: (robust, cluster actually used)."""
    if robust is None:
        return cluster_col is not None or fractional_weights, cluster_col
    if not robust and cluster_col is not None:
        warnings.warn(
            "cox_ph: cluster given with robust=False; the cluster is ignored and the model-based variance reported "
            "(R: 'cluster specified with robust=FALSE, cluster ignored')",
            StatisticalWarning,
            stacklevel=3,
        )
        return False, None
    return bool(robust), cluster_col


def _collapse(v: np.ndarray, codes: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros((n, v.shape[1]))
    np.add.at(out, codes, v)
    return out


def _check_rank(x: np.ndarray, w: np.ndarray, names: list[str]) -> None:
    """Constant columns, and zero pivots of the tolerant Cholesky of the weighted correlation matrix (a column that
    is a linear combination of earlier ones), are inestimable coefficients: R reports NA, we refuse."""
    xc = x - (w @ x) / w.sum()
    cross = (xc * w[:, None]).T @ xc
    d = np.diag(cross)
    for j in np.flatnonzero(d <= 1e-12 * np.maximum(1.0, np.abs(x).max(axis=0) ** 2) * w.sum())[:1]:
        raise InputError(
            f"covariate {names[j]!r} has a single value in the rows used; its coefficient cannot be estimated "
            "(R reports NA). Remove it."
        )
    chol, rank = core.cholesky2(cross / np.sqrt(np.outer(d, d)), 1e-10)
    for j in np.flatnonzero(np.diag(chol) == 0)[:1]:
        raise InputError(
            f"covariate {names[j]!r} is a linear combination of the covariates before it (R reports an NA "
            "coefficient). Remove it."
        )


def _convergence_warnings(fit, beta, var, u, xc, names, iter_max) -> None:
    infs = np.abs(u @ var)
    if not fit.converged:
        msg = f"cox_ph: ran out of iterations ({iter_max}) and did not converge"
        if np.max(xc @ beta) > 500 or not np.isfinite(infs).all():
            msg += "; one or more coefficients may be infinite (monotone likelihood)"
        warnings.warn(msg, StatisticalWarning, stacklevel=3)
        return
    flag = ~np.isfinite(u) | ((infs > core.EPS) & (infs > core.TOLER_INF * np.abs(beta)))
    if flag.any():
        bad = [names[i] for i in np.flatnonzero(flag)]
        warnings.warn(
            f"cox_ph: monotone likelihood: the log-likelihood converged before coefficient(s) {bad}, which may be "
            "infinite; the finite value reported is where R's iteration stops (R: 'Loglik converged before variable')",
            StatisticalWarning,
            stacklevel=3,
        )
