import numpy as np

from cart_outcomes.stats._events import event_table


def test_counts_and_risk_set_by_hand():
    # times 1,2,2,3+,5 ; group 0 = first three rows
    t = np.array([1, 2, 2, 3, 5])
    e = np.array([True, True, False, False, True])
    g = np.array([0, 0, 0, 1, 1])
    tab = event_table(t, e, g, 2)
    np.testing.assert_array_equal(tab.time, [1, 2, 3, 5])
    np.testing.assert_array_equal(tab.n_event, [[1, 0], [1, 0], [0, 0], [0, 1]])
    np.testing.assert_array_equal(tab.n_censor, [[0, 0], [1, 0], [0, 1], [0, 0]])
    np.testing.assert_array_equal(tab.n_risk, [[3, 2], [2, 2], [0, 2], [0, 1]])


def test_dense_and_sparse_paths_agree():
    rng = np.random.default_rng(1)
    t = rng.integers(0, 50, 500).astype(float)
    e = rng.random(500) < 0.6
    dense = event_table(t, e)
    sparse = event_table(t + 0.5, e)  # non-integer: np.unique path
    np.testing.assert_array_equal(dense.time + 0.5, sparse.time)
    np.testing.assert_array_equal(dense.n_risk, sparse.n_risk)
    np.testing.assert_array_equal(dense.n_event, sparse.n_event)


def test_entry_uses_start_stop_open_left():
    # R survival parity (survey D.9): rows (0,1]*, (0,2], (1,2]*, (0,3]; n.risk is 3 at t=1 and 3 at t=2
    tab = event_table(np.array([1.0, 2, 2, 3]), np.array([1, 0, 1, 0], bool), entry=np.array([0.0, 0, 1, 0]))
    np.testing.assert_array_equal(tab.time, [1, 2, 3])
    np.testing.assert_array_equal(tab.n_risk[:, 0], [3, 3, 1])
