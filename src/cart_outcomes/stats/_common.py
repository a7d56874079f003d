"""Small numeric helpers shared by the estimators: normal quantiles, pointwise CI transforms, result options.

Private: nothing here is public API. Nothing here knows about CAR-T.
"""

from __future__ import annotations

from collections.abc import Mapping
from statistics import NormalDist
from types import MappingProxyType
from typing import Any

import numpy as np

from cart_outcomes._version import __version__
from cart_outcomes.errors import InputError

#: pointwise CI transforms of a survival or cumulative-incidence curve, as R ``survfit(conf.type=)``
CONF_TYPES = ("log", "log-log", "plain")


def check_level(conf_level: float) -> float:
    """``conf_level`` as a float, or InputError unless it is a number strictly between 0 and 1."""
    if not (isinstance(conf_level, float | int) and 0.0 < conf_level < 1.0):
        raise InputError(f"conf_level must be a number strictly between 0 and 1, got {conf_level!r}")
    return float(conf_level)


def z_value(conf_level: float) -> float:
    """Two-sided normal quantile of ``conf_level``: R ``qnorm(1 - (1 - conf.level) / 2)``."""
    return NormalDist().inv_cdf(0.5 + conf_level / 2.0)


def options(**kw: Any) -> Mapping[str, Any]:
    """Read-only options mapping of a result, with the package version recorded."""
    kw["version"] = __version__
    return MappingProxyType(kw)


def confint(
    est: np.ndarray, se_log: np.ndarray, std_err: np.ndarray, conf_type: str, z: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise limits of a curve ``est`` in [0, 1] exactly as ``survival:::survfit_confint`` (NaN where R gives NA).

    ``se_log`` is the standard error of log est (infinite once a Greenwood curve reaches 0, any value where
    est = 0), ``std_err`` that of est. Written with as few transcendental calls as possible (they dominate at 1e6
    rows): log ``est exp(-+z se_log)`` (upper capped at 1, NA at est = 0); log-log
    ``exp(-exp(log(-log est) -+ a)) = exp(log est * exp(-+a))`` with ``a = z se_log / log est`` (NA at est = 0 and
    est = 1); plain ``est -+ z std_err`` clipped to [0, 1].
    """
    if conf_type == "plain":  # NaN std_err (S = 0 under Greenwood) propagates to NaN limits, as R
        half = z * std_err
        return np.maximum(est - half, 0.0), np.minimum(est + half, 1.0)
    # a huge SE overflows exp() to inf exactly as in R (limits 0 and 1); silence that locally (no global state)
    with np.errstate(over="ignore"):
        if conf_type == "log":
            ok = None if est.min() > 0 else est > 0  # R: NA at est = 0
            zse = z * se_log if ok is None else np.where(ok, z * se_log, 0.0)
            factor = np.exp(zse)
            lower, upper = est / factor, np.minimum(est * factor, 1.0)
        else:
            ok = None if (est.min() > 0 and est.max() < 1) else (est > 0) & (est < 1)  # R: NA at est = 0, 1
            logs = np.log(est if ok is None else np.where(ok, est, 0.5))
            a = z * (se_log if ok is None else np.where(ok, se_log, 0.0)) / logs
            factor = np.exp(a)
            lower, upper = np.exp(logs / factor), np.exp(logs * factor)
    if ok is not None:
        lower[~ok] = np.nan
        upper[~ok] = np.nan
    return lower, upper


def wald_table(terms: list[str], beta: np.ndarray, se: np.ndarray, z: float):
    """``term, coef, hazard_ratio, se, z, p, lower, upper``: Wald tests and CIs of log hazard ratios (R's
    ``summary(fit)$coefficients`` and ``$conf.int``)."""
    import pandas as pd
    from scipy.special import ndtr

    zs = beta / se
    return pd.DataFrame({"term": terms, "coef": beta, "hazard_ratio": np.exp(beta), "se": se, "z": zs,
                         "p": 2 * ndtr(-np.abs(zs)), "lower": np.exp(beta - z * se), "upper": np.exp(beta + z * se)})
