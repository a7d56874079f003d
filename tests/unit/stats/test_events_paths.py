"""Every counting path of event_table (sort, value-sort, bincount, np.unique) against a direct count."""

import numpy as np
import pytest

from cart_outcomes.stats._events import _BLOCK, Unchecked, event_table


def direct(t, e, g, k, entry=None, w=None):
    """Risk sets and counts by their definition, one distinct time at a time."""
    w = np.ones(t.size) if w is None else w
    grid = np.unique(t)
    n_risk = np.array([[w[(g == j) & (t >= u) & ((entry < u) if entry is not None else True)].sum()
                        for j in range(k)] for u in grid])  # fmt: skip
    n_event = np.array([[w[(g == j) & (t == u) & e].sum() for j in range(k)] for u in grid])
    n_censor = np.array([[w[(g == j) & (t == u) & ~e].sum() for j in range(k)] for u in grid])
    return grid, n_risk, n_event, n_censor


@pytest.mark.parametrize(
    ("n", "integer", "k", "with_entry", "weighted"),
    [
        (300, True, 1, False, False),  # small: one indirect sort
        (5000, False, 1, False, False),  # large continuous: value sorts, few censorings
        (5000, True, 1, False, False),  # large integer days: bincount
        (5000, True, 3, False, False),  # bincount with groups
        (5000, False, 2, False, False),  # np.unique with groups
        (800, True, 2, True, True),  # entry + weights
        (800, False, 1, True, False),
    ],
)
def test_paths_match_direct_count(n, integer, k, with_entry, weighted):
    rng = np.random.default_rng(n + k)
    t = rng.integers(1, 400, n).astype(float) if integer else np.round(rng.exponential(100, n)) + 0.5
    e = rng.random(n) < (0.3 if n == 5000 and not integer else 0.7)
    g = rng.integers(0, k, n)
    entry = np.maximum(t - rng.integers(1, 50, n), 0) if with_entry else None
    w = rng.integers(1, 4, n).astype(float) if weighted else None
    tab = event_table(t, e, None if k == 1 else g, k, entry=entry, weights=w)
    grid, n_risk, n_event, n_censor = direct(t, e, g, k, entry, w)
    np.testing.assert_array_equal(tab.time, grid)
    np.testing.assert_array_equal(tab.n_risk, n_risk)
    np.testing.assert_array_equal(tab.n_event, n_event)
    np.testing.assert_array_equal(tab.n_censor, n_censor)


def test_integer_dtype_and_offset_origin():
    # int32 days far from 0 (origin shifted) give the same table as floats
    t = np.array([10_000, 10_003, 10_003, 10_007] * 1500, dtype=np.int32)
    e = np.array([1, 0, 1, 1] * 1500, dtype=bool)
    a, b = event_table(t, e), event_table(t.astype(float) + 0.5, e)
    np.testing.assert_array_equal(a.time + 0.5, b.time)
    np.testing.assert_array_equal(a.n_risk, b.n_risk)
    np.testing.assert_array_equal(a.n_event, b.n_event)


@pytest.mark.parametrize(
    ("t_dtype", "e_dtype", "k"), [(np.int32, bool, 1), (np.int64, np.int8, 3), (np.uint16, bool, 2)]
)
def test_block_counts_match_the_float_path(t_dtype, e_dtype, k):
    # integer days are counted block by block (several blocks here); float days by one bincount over all rows
    rng = np.random.default_rng(k)
    n = 3 * _BLOCK + 17
    t = rng.integers(0, 900, n).astype(t_dtype)
    e = (rng.random(n) < 0.6).astype(e_dtype)
    g = rng.integers(0, k, n).astype(np.int8) if k > 1 else None
    a = event_table(t, e, g, k, checked=e_dtype is bool)
    b = event_table(t.astype(float), e.astype(bool), g, k)
    for field in ("time", "n_risk", "n_event", "n_censor", "n"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
        assert getattr(a, field).dtype == getattr(b, field).dtype


@pytest.mark.parametrize("bad", ["negative day", "event 2", "event -1", "day beyond the block range"])
def test_unchecked_counting_pass_hands_back_bad_or_unusual_input(bad):
    n = 2 * _BLOCK + 5
    t = np.arange(n, dtype=np.int32) % 700
    e = np.ones(n, dtype=np.int32)
    row = n - 3  # in the last block
    if bad == "negative day":
        t[row] = -1
    elif bad == "day beyond the block range":
        t[row] = 10**9  # a valid day, but the caller must count it by the general path
    else:
        e[row] = 2 if bad == "event 2" else -1
    with pytest.raises(Unchecked):
        event_table(t, e, checked=False)


@pytest.mark.parametrize("order", ["shuffled", "sorted", "middle only", "outlier in the middle"])
def test_integer_group_labels_coded_from_the_ends_give_the_full_coding(order):
    # above two blocks of rows, integer labels are coded from the range of the first and last blocks and the
    # counting pass verifies every code; labels outside that range make it code the column in full
    from cart_outcomes.stats import kaplan_meier, logrank_test

    rng = np.random.default_rng(5)
    n = 3 * _BLOCK
    t = rng.integers(0, 700, n).astype(np.int32)
    e = (rng.random(n) < 0.6).astype(np.int32)
    g = rng.integers(5, 8, n)
    if order == "sorted":
        g.sort()
    elif order == "middle only":  # the ends hold label 5 only
        g[:] = 5
        g[_BLOCK + 10 : _BLOCK + 500] = 7
    elif order == "outlier in the middle":
        g[n // 2] = 2
    # float days are checked and coded in full before counting (one bincount over all rows)
    a, b = kaplan_meier(None, t, e, by=g), kaplan_meier(None, t.astype(float), e, by=g)
    assert a.groups == b.groups == tuple(np.unique(g))
    for field in ("time", "n_risk", "n_event", "survival", "std_err", "offsets", "n"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    a, b = logrank_test(None, t, e, g), logrank_test(None, t.astype(float), e, g)
    assert (a.groups, a.statistic) == (b.groups, b.statistic)
    np.testing.assert_array_equal(a.variance, b.variance)
