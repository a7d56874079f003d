"""status_table: the per-status counting behind Aalen-Johansen; its packed-key sort (continuous times, n > 4096),
its bincount (integer days) and its fallback (times hundreds of binades apart) must count exactly as a plain
np.unique + bincount does."""

import numpy as np
import pytest

from cart_outcomes.stats._events import status_table


def _by_unique(t, status, k):
    grid, inv = np.unique(t, return_inverse=True)
    counts = np.zeros((grid.size, k))
    np.add.at(counts, (inv, status), 1.0)
    n_risk = np.cumsum(counts.sum(axis=1)[::-1])[::-1]
    return grid, n_risk, counts


@pytest.mark.parametrize("times", ["distinct", "tied", "days", "binades"])
@pytest.mark.parametrize("k", [2, 3, 4])
def test_sorted_path_counts_as_unique(times, k):
    rng = np.random.default_rng(k)
    t = rng.exponential(100.0, 20_000)
    if times == "tied":
        t = np.round(t, 1) + 0.05  # non-integer, heavily tied, not a dense integer range
    elif times == "days":
        t = np.ceil(t)  # integer days: the bincount path
    elif times == "binades":
        t = 10.0 ** rng.uniform(-300, 300, t.size)  # too far apart to pack with the status: event_table's path
    status = rng.integers(0, k, t.size)
    grid, n_risk, counts = status_table(t, status, k)
    g2, r2, c2 = _by_unique(t, status, k)
    np.testing.assert_array_equal(grid, g2)
    np.testing.assert_array_equal(n_risk, r2)
    np.testing.assert_array_equal(counts, c2.T)


def test_negative_zero_sorts_with_zero():
    t = np.concatenate((np.array([-0.0, 0.0, 0.0]), np.linspace(0.5, 9.5, 6000)))
    status = np.ones(t.size, dtype=np.intp)
    grid, n_risk, counts = status_table(t, status, 2)
    assert grid[0] == 0.0 and n_risk[0] == t.size and counts[1, 0] == 3
