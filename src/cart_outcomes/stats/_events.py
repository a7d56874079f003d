"""The event table: the one pass over the rows that every estimator in ``stats`` builds on.

Integer-day data collapse to a few hundred distinct times, so after this pass everything (KM, Nelson-Aalen,
log-rank, at-risk tables) costs O(#distinct times x #groups), not O(#rows). Integer-valued times within a
compact range are counted with ``np.bincount`` (no sort); other times go through ``np.unique``.

R equivalent: the counting done inside ``survfit``/``survdiff`` (``survival:::survfitKM``, ``survdiff.fit``).
Risk sets follow R's ``(start, stop]`` convention: a subject entering at ``t`` is not at risk at ``t``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# bincount over the time range is used while the range is at most this many times the number of rows
_DENSE_RANGE_FACTOR = 4


@dataclass(frozen=True, slots=True)
class EventTable:
    """Counts at each distinct exit time, one column per group.

    Attributes
    ----------
    time : (m,) sorted distinct times at which at least one subject has an event or is censored.
    n_risk, n_event, n_censor : (m, k) weighted counts per group. ``n_risk`` counts subjects with
        ``entry < time <= stop`` (all subjects with ``stop >= time`` when there is no entry).
    n : (k,) number (sum of weights) of subjects per group.
    """

    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    n: np.ndarray

    @property
    def n_groups(self) -> int:
        return self.n_event.shape[1]


def _is_dense_int(t: np.ndarray) -> tuple[bool, float, int]:
    tmin, tmax = float(t.min()), float(t.max())
    span = tmax - tmin
    if span > _DENSE_RANGE_FACTOR * t.size + 1024:
        return False, tmin, 0
    if t.dtype.kind in "iu" or np.array_equal(t, np.floor(t)):
        return True, tmin, int(span) + 1
    return False, tmin, 0


def event_table(
    time: np.ndarray,
    event: np.ndarray,
    group: np.ndarray | None = None,
    n_groups: int = 1,
    *,
    entry: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> EventTable:
    """Count events, censorings and the risk set at every distinct exit time.

    Parameters
    ----------
    time : exit (stop) times, checked finite and >= 0 by the caller.
    event : boolean event indicator.
    group : integer group codes in ``0..n_groups-1`` (``None`` = one group).
    entry : optional entry (start) times, ``entry < time`` (checked by the caller).
    weights : optional case weights (``None`` = 1 each).
    """
    k = int(n_groups)
    g = np.zeros(time.size, dtype=np.intp) if group is None else np.asarray(group)
    if not np.can_cast(g.dtype, np.intp):
        g = g.astype(np.intp)
    ev = np.asarray(event, dtype=bool)
    dense, tmin, span = _is_dense_int(time)
    if dense and time.dtype.kind in "iu":
        idx = time.astype(np.intp)  # a copy: the in-place steps below never touch the caller's array
        idx -= int(tmin)
        size = span
    elif dense:
        idx = (time - tmin).astype(np.intp)
        size = span
    else:
        uniq, idx = np.unique(time, return_inverse=True)
        size = uniq.size
    # one bincount for all cells: (time index, group, event); built in place, so at 1e7 rows there is one
    # (n,) integer temporary instead of four
    cell = idx
    cell *= k
    cell += g
    cell *= 2
    cell += ev
    counts = np.bincount(cell, weights=weights, minlength=size * k * 2).reshape(size, k, 2)
    n_censor, n_event = counts[:, :, 0], counts[:, :, 1]
    # a time is on the grid when some row ends there, even with weight 0 (R survfit lists it)
    if not dense:
        keep = np.ones(size, dtype=bool)
    elif weights is None:
        keep = (n_censor + n_event).sum(axis=1) > 0
    else:
        keep = np.bincount(idx, minlength=size) > 0
    grid = (np.flatnonzero(keep) + tmin) if dense else uniq[keep]
    n_censor, n_event = n_censor[keep], n_event[keep]
    n_total = counts.sum(axis=(0, 2)).astype(float)  # per group, from the cells (no second pass over rows)
    leaving = n_event + n_censor
    if entry is None:
        # exits at or after each grid time, summed from the last time backwards as R does (exact 0 at the end
        # with fractional weights, where n_total - cumsum would leave round-off)
        n_risk = np.cumsum(leaving[::-1], axis=0)[::-1]
    else:
        left_before = np.cumsum(leaving, axis=0) - leaving  # exits strictly before each grid time
        n_risk = _entered_before(grid, np.asarray(entry, dtype=float), g, k, weights) - left_before
    return EventTable(
        time=np.asarray(grid, dtype=float),
        n_risk=n_risk,
        n_event=n_event.astype(float),
        n_censor=n_censor.astype(float),
        n=n_total,
    )


def _entered_before(grid: np.ndarray, entry: np.ndarray, g: np.ndarray, k: int, w: np.ndarray | None) -> np.ndarray:
    """(m, k) weighted number of subjects with entry < grid time, per group."""
    out = np.empty((grid.size, k))
    for j in range(k):
        sel = g == j
        e = entry[sel]
        order = np.argsort(e, kind="stable")
        e = e[order]
        cw = np.concatenate(([0.0], np.cumsum(np.ones(e.size) if w is None else w[sel][order])))
        out[:, j] = cw[np.searchsorted(e, grid, side="left")]
    return out
