"""Cox proportional-hazards regression with R ``survival::coxph`` numbers.

The numeric core lives in ``_cox_fit`` (risk-set sums, Newton-Raphson as R's ``coxfit6``), covariate parsing in
``_formula`` and the concordance in ``_concordance``; this module checks input, assembles the result and offers the
post-fit tools (``ph_test`` = ``cox.zph``, ``predict_survival`` = ``survfit.coxph``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import chdtrc, ndtr

from cart_outcomes._version import __version__
from cart_outcomes.errors import DataQualityWarning, InputError, StatisticalWarning
from cart_outcomes.stats import _common, _formula, _inputs
from cart_outcomes.stats import _cox_fit as core
from cart_outcomes.stats._concordance import concordance as _concordance
from cart_outcomes.stats._events import event_table

_TIES = ("efron", "breslow", "exact")
_TRANSFORMS = ("km", "rank", "identity")
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


@dataclass(frozen=True, slots=True)
class PHTest:
    """Test of proportional hazards (R ``cox.zph``, survival 3.x score test), one row per term and ``GLOBAL``.

    ``table`` columns: ``term, statistic, df, p``.
    """

    table: pd.DataFrame
    transform: str

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def _repr_html_(self) -> str:
        return f"<p>cox.zph score test, transform={self.transform}</p>" + self.table.to_html(index=False)


@dataclass(frozen=True, slots=True)
class CoxResult:
    """Result of :func:`cox_ph`.

    Attributes
    ----------
    coefficients : DataFrame with ``term, coef, hazard_ratio, se, robust_se, z, p, lower, upper`` (``lower``/``upper``
        bound the hazard ratio; z, p and the interval use the robust SE when ``robust``; ``robust_se`` is NaN
        otherwise), as ``summary(coxph)``.
    loglik : ``{"null": ..., "fitted": ...}`` (R ``fit$loglik``).
    tests : DataFrame ``test, statistic, df, p`` with tests ``likelihood_ratio``, ``wald`` (robust variance when
        robust), ``score`` (log-rank) and, when robust, ``robust_score``.
    concordance : ``{"value", "se", "concordant", "discordant", "tied_risk"}`` (Harrell's C with its infinitesimal
        jackknife SE as in ``coxph``; a property computed on first access).
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
        1 - KM(t-) of the pooled data, ``"rank"``: rank of the exit times, ``"identity"``), using the full
        information matrix of the extended model (not the older Grambsch-Therneau approximation that lifelines
        reproduces). One row per term (multi-level factors jointly) and ``GLOBAL``.
        """
        if transform not in _TRANSFORMS:
            raise InputError(f"transform must be one of {_TRANSFORMS}, got {transform!r}")
        m = self._model
        rs = m.rs
        if transform == "identity":
            ttimes = m.stop
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
        return PHTest(table, transform)

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
        nd = _inputs.as_frame(newdata)
        if nd is None or len(nd) == 0:
            raise InputError("newdata: give a data frame with at least one row of covariate values")
        need = [t.column for t in m.terms] + list(m.strata_columns)
        miss = [c for c in need if c not in nd]
        if miss:
            raise InputError(f"newdata: column(s) {miss} missing (needed: {need})")
        bad = nd[need].isna().any(axis=1).to_numpy()
        if bad.any():
            raise InputError(f"newdata: missing value in {_inputs.rows(bad)}")
        xnew = _formula.design(nd, m.terms, where="newdata") - m.means
        lp = xnew @ m.beta
        if m.strata_columns:
            keys = list(nd[list(m.strata_columns)].itertuples(index=False, name=None))
            lookup = {lev: i for i, lev in enumerate(m.strata_levels)}
            unknown = [i for i, k in enumerate(keys) if k not in lookup]
            if unknown:
                raise InputError(f"newdata: strata value not in the fit in row(s) {unknown[:5]}")
            srow = np.array([lookup[k] for k in keys])
        else:
            srow = np.zeros(len(nd), dtype=int)
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
    robust: bool = False,
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
    robust : sandwich variance from the dfbeta residuals (R ``robust=TRUE``); implied by ``cluster``.
    cluster : column identifying correlated rows (R ``cluster()``); dfbetas are summed within clusters.
    weights : case weights (> 0), R ``weights=``.
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
    robust = bool(robust) or cluster_col is not None
    if robust and ties == "exact":
        raise InputError("ties='exact' does not support robust=True / cluster (use efron or breslow)")

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
    model = _Model(
        rs, xc, means, beta, var, terms, term_columns, st, stop, ev, strata_cols, levels, ties, x @ beta,
        ccodes if cluster_col is not None else None,
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
