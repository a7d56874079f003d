"""The infinitesimal-jackknife SE of the Aalen-Johansen CIFs against an independent slow formulation: the derivative
of F_k(t) with respect to each row's case weight, carried forward through the estimator time by time (forward-mode
differentiation over all rows at once), squared and summed over the rows. Seeded cases: ties or none, 2 and 3
causes, censorings at event times, the counting paths for small and large n, and cache blocks of a few times (so the
running sums continue across many blocks)."""

import numpy as np
import pytest

from cart_outcomes.stats import competing, cumulative_incidence


def _ij_by_derivatives(t, status, k):
    """(times, F (k, m), var (k, m)): every row's dF_k(u)/dw_i from d/dw of S(u) = S(u-)(1 - d/n) and
    F_k(u) = F_k(u-) + S(u-) d_k/n, with dn/dw_i = [t_i >= u], d(d_k)/dw_i = [t_i = u, cause k]."""
    times = np.unique(t)
    s, ds = 1.0, np.zeros(t.size)
    f, df = np.zeros(k), np.zeros((k, t.size))
    est, var = np.zeros((k, times.size)), np.zeros((k, times.size))
    for j, u in enumerate(times):
        dn = (t >= u).astype(float)
        here = t == u
        dd_k = np.array([(here & (status == c + 1)).astype(float) for c in range(k)])
        n, d_k = dn.sum(), dd_k.sum(axis=1)
        dd, d = dd_k.sum(axis=0), d_k.sum()
        df += ds * (d_k / n)[:, None] + s * (dd_k * n - d_k[:, None] * dn) / n**2
        f += s * d_k / n
        ds = ds * (1 - d / n) - s * (dd * n - d * dn) / n**2
        s *= 1 - d / n
        est[:, j], var[:, j] = f, (df**2).sum(axis=1)
    return times, est, var


@pytest.mark.parametrize("n", [60, 5000])
@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("times", ["distinct", "tied", "days"])
def test_ij_se_equals_the_derivatives_summed_over_rows(monkeypatch, times, k, n):
    monkeypatch.setattr(competing, "_BLOCK", 7)
    rng = np.random.default_rng(n + k)
    t = rng.exponential(50.0, n)
    if times == "tied":
        t = np.round(t / 5) * 5 + 0.5  # non-integer, heavily tied: events and censorings at the same times
    elif times == "days":
        t = np.ceil(t)
    status = rng.integers(0, k + 1, n)
    res = cumulative_incidence(None, t, status)
    grid, est, var = _ij_by_derivatives(t, status, k)
    for c in range(k):
        got = res.table[res.table["cause"] == str(c + 1)]
        np.testing.assert_array_equal(got["time"], grid)
        np.testing.assert_allclose(got["estimate"], est[c], rtol=1e-13, atol=0)
        np.testing.assert_allclose(got["std_err"], np.sqrt(var[c]), rtol=1e-12, atol=0)
