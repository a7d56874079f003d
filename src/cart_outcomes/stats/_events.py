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
# one group, no weights/entry, up to this many rows: a single sort beats the bincount over the time range
_SMALL_N = 4096


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


def _dense_index(t: np.ndarray) -> tuple[np.ndarray | None, int, int]:
    """``(bin, origin, size)`` with ``bin = t - origin`` (a new intp array) in ``0..size-1`` when the times are
    integers in a compact range, else ``(None, 0, 0)``. ``origin`` is 0 when the range starts near 0 (one pass
    less)."""
    tmin, tmax = t.min(), t.max()
    span = float(tmax) - float(tmin)
    if span > _DENSE_RANGE_FACTOR * t.size + 1024:
        return None, 0, 0
    origin = 0 if 0 <= tmin <= span else int(tmin)
    size = int(tmax) - origin + 1
    if t.dtype.kind in "iu":
        return (np.subtract(t, origin, dtype=np.intp) if origin else t.astype(np.intp)), origin, size
    if not (abs(float(tmin)) < 2.0**52 and abs(float(tmax)) < 2.0**52):
        return None, 0, 0
    head = t[:64]
    if not np.array_equal(head, np.floor(head)):  # cheap early exit for continuous times
        return None, 0, 0
    idx = t.astype(np.intp)
    if not np.equal(idx, t).all():  # non-integer values
        return None, 0, 0
    if origin:
        idx -= origin
    return idx, origin, size


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
    time : exit (stop) times (float or integer dtype), checked finite and >= 0 by the caller.
    event : boolean event indicator.
    group : integer group codes in ``0..n_groups-1`` (``None`` = one group).
    entry : optional entry (start) times, ``entry < time`` (checked by the caller).
    weights : optional case weights (``None`` = 1 each). Integer weights are frequencies (the rows of event
        counts): the counts then have the integer dtype of unweighted rows, so every later sum is the rows' own.
    """
    k = int(n_groups)
    ev = np.asarray(event, dtype=bool)
    simple = group is None and entry is None and weights is None
    if simple and time.size <= _SMALL_N:
        return _one_group_sorted(time, ev)
    idx, origin, size = _dense_index(time)
    dense = idx is not None
    if simple and not dense:
        return _one_group_sorted(time, ev)
    if not dense:
        uniq, idx = np.unique(time, return_inverse=True)
        size = uniq.size
    # one bincount for all cells: (time index, group, event), built in place in ``idx`` (memory: one intp array)
    cell = idx
    if group is not None:
        cell *= k
        codes = np.asarray(group)
        cell += codes if np.can_cast(codes.dtype, np.intp) else codes.astype(np.intp)  # no copy for int32 codes
    cell *= 2
    cell += ev
    counts = np.bincount(cell, weights=weights, minlength=size * k * 2).reshape(size, k, 2)
    if weights is not None and weights.dtype.kind in "iu":  # frequency weights (event counts): integer sums, as rows
        counts = counts.astype(np.int64)
    g = None if group is None or (entry is None and weights is None) else np.asarray(group, dtype=np.intp)
    if group is None:
        n_total = np.array([float(time.size) if weights is None else float(np.sum(weights))])
    elif weights is None:  # per group from the cells: a (size, 2k) column sum, no second pass over the rows
        n_total = counts.reshape(size, 2 * k).sum(axis=0).reshape(k, 2).sum(axis=1).astype(float)
    else:
        n_total = np.bincount(g, weights=weights, minlength=k).astype(float)
    # a time is on the grid when some row ends there, even with weight 0 (R survfit lists it)
    if dense:
        if weights is None:
            keep = counts.reshape(size, 2 * k).any(axis=1)
        else:
            keep = np.bincount(cell, minlength=size * k * 2).reshape(size, k * 2).any(axis=1)
        grid = np.flatnonzero(keep) + origin
        counts = counts[keep]
    else:
        grid = uniq  # np.unique: every distinct time is some row's exit time (no all-true mask copy)
    n_censor, n_event = counts[:, :, 0], counts[:, :, 1]
    leaving = n_event + n_censor
    # exits at or after each grid time, summed from the last time backwards as R does (exact at the end with
    # fractional weights, where n_total - cumsum would leave round-off)
    n_risk = np.cumsum(leaving[::-1], axis=0)[::-1]
    if entry is not None:
        if g is None:
            g = np.zeros(time.size, dtype=np.intp)
        # minus those not yet entered: entry >= t (they also exit after t), likewise summed backwards
        n_risk = n_risk - _entered_at_or_after(grid, np.asarray(entry, dtype=float), g, k, weights)
    return EventTable(
        time=np.asarray(grid, dtype=float),
        n_risk=n_risk,
        n_event=n_event.astype(float),
        n_censor=n_censor.astype(float),
        n=n_total,
    )


def _entered_at_or_after(
    grid: np.ndarray, entry: np.ndarray, g: np.ndarray, k: int, w: np.ndarray | None
) -> np.ndarray:
    """(m, k) weighted number of subjects with entry >= grid time (not yet at risk), per group."""
    out = np.empty((grid.size, k))
    for j in range(k):
        sel = g == j
        e = entry[sel]
        order = np.argsort(e, kind="stable")
        e = e[order]
        we = np.ones(e.size) if w is None else w[sel][order]
        tail = np.concatenate((np.cumsum(we[::-1])[::-1], [0.0]))  # tail[i] = sum of we[i:]
        out[:, j] = tail[np.searchsorted(e, grid, side="left")]
    return out


def _one_group_sorted(time: np.ndarray, ev: np.ndarray) -> EventTable:
    """One unweighted group without entry times, from sorted times. Small n: one indirect sort. Large n: value
    sorts only (much faster than an indirect sort there) of all the times and of the smaller of the event /
    censoring subsets, located on the grid by ``searchsorted``."""
    small = time.size <= _SMALL_N
    if small:  # an indirect sort is cheap here and gives the events in the same pass
        order = np.argsort(time)
        ts = time[order]
    else:
        ts = np.sort(time)
    first = np.empty(ts.size, dtype=bool)  # first row of each run of equal times
    first[0] = True
    np.not_equal(ts[1:], ts[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    grid = ts[starts]
    n_risk = ts.size - starts.astype(float)  # rows exiting at or after each distinct time
    leaving = np.empty_like(n_risk)
    np.subtract(n_risk[:-1], n_risk[1:], out=leaving[:-1])
    leaving[-1] = n_risk[-1]
    if small:
        n_event = np.add.reduceat(ev[order], starts, dtype=float)
    else:  # sort only the smaller of the event / censoring subsets and locate it on the grid
        few_events = 2 * int(np.count_nonzero(ev)) <= ev.size
        sub = np.sort(time[ev] if few_events else time[~ev])
        counted = np.bincount(np.searchsorted(grid, sub), minlength=grid.size).astype(float)
        n_event = counted if few_events else leaving - counted
    return EventTable(
        time=np.asarray(grid, dtype=float),
        n_risk=n_risk[:, None],
        n_event=n_event[:, None],
        n_censor=(leaving - n_event)[:, None],
        n=np.array([float(ts.size)]),
    )
