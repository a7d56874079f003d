"""The event table: the one pass over the rows that every estimator in ``stats`` builds on.

Integer-day data collapse to a few hundred distinct times, so after this pass everything (KM, Nelson-Aalen,
log-rank, at-risk tables) costs O(#distinct times x #groups), not O(#rows). Integer days within a compact range
are counted with ``np.bincount`` (no sort), 65,536 rows at a time when their type is an integer one (the cell
index stays in the CPU cache, so each column is read from memory once); other times go through ``np.unique``.

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
# rows per block of the integer-day counting pass (its intp index block, 512 KiB, stays in the CPU's L2 cache)
_BLOCK = 1 << 16


class Unchecked(Exception):  # noqa: N818 (a signal to the caller, not an error the user sees)
    """The counting pass of unchecked input (``event_table(..., checked=False)``) met a negative day or an event
    that is not 0/1, or cannot count these days by blocks: the caller checks the columns (whose checks word the
    error) and counts again with checked arrays."""


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


def _dense_index(t: np.ndarray, scale: int = 1) -> tuple[np.ndarray | None, int, int]:
    """``(bin, origin, size)`` with ``bin = (t - origin) * scale`` (a new intp array; ``t - origin`` in
    ``0..size-1``) when the times are integers in a compact range, else ``(None, 0, 0)``. ``origin`` is 0 when the
    range starts near 0 (one pass less); integer times are converted and scaled in one pass."""
    tmin, tmax = t.min(), t.max()
    span = float(tmax) - float(tmin)
    if span > _DENSE_RANGE_FACTOR * t.size + 1024:
        return None, 0, 0
    origin = 0 if 0 <= tmin <= span else int(tmin)
    size = int(tmax) - origin + 1
    if t.dtype.kind in "iu":
        if not origin:
            return (np.multiply(t, scale, dtype=np.intp) if scale != 1 else t.astype(np.intp)), origin, size
        idx = np.subtract(t, origin, dtype=np.intp)
        if scale != 1:
            idx *= scale
        return idx, origin, size
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
    if scale != 1:
        idx *= scale
    return idx, origin, size


def continuous(t: np.ndarray) -> bool:
    """Cheap test (two reductions and a look at the first 64 values) that ``t`` are not integer days in a compact
    range: float times with a fractional part among the first 64, or a range too wide to count by bincount."""
    if t.dtype.kind != "f" or t.size <= _SMALL_N:
        return False
    span = float(t.max()) - float(t.min())
    head = t[:64]
    return span > _DENSE_RANGE_FACTOR * t.size + 1024 or not np.array_equal(head, np.floor(head))


def group_rows(
    time: np.ndarray, event: np.ndarray, group: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unweighted ``(n, n_event, n_risk)`` with ``n_event`` and ``n_risk`` as contiguous (k, m) float rows (group,
    distinct time): the transposed :func:`event_table` counts, built for continuous times without its (m, k, 2) cell
    grid (two bincounts over ``group * m + time index``), so memory stays near three (k, m) arrays."""
    k = int(n_groups)
    uniq, inv = np.unique(time, return_inverse=True)
    m = uniq.size
    del uniq
    key = np.multiply(group, m, dtype=np.intp)
    key += inv
    del inv
    leaving = np.bincount(key, minlength=k * m).reshape(k, m)
    key = key[np.asarray(event, dtype=bool)]
    n_event = np.bincount(key, minlength=k * m)
    del key
    d_t = n_event.reshape(k, m).astype(float)
    del n_event
    n = leaving.sum(axis=1).astype(float)
    r_t = leaving.astype(float)
    del leaving
    # at risk: exits at or after each time, summed from the last time backwards (as event_table), in place
    backwards = r_t[:, ::-1]
    np.cumsum(backwards, axis=1, out=backwards)
    return n, d_t, r_t


def event_table(
    time: np.ndarray,
    event: np.ndarray,
    group: np.ndarray | None = None,
    n_groups: int = 1,
    *,
    entry: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    checked: bool = True,
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
    checked : False when integer-day ``time``, integer or boolean ``event`` and the ``group`` codes have not been
        checked yet: the counting pass checks them on its way (days >= 0, events 0/1, codes below ``n_groups``)
        and raises :class:`Unchecked` when a value is bad or the days cannot be counted by blocks (the caller then
        checks the columns and counts again).
    """
    k = int(n_groups)
    simple = group is None and entry is None and weights is None
    counts = None
    if weights is None and time.size > _SMALL_N and np.can_cast(time.dtype, np.intp):
        counts = _block_counts(time, event, group, k, checked)
    if counts is None and not checked:
        raise Unchecked
    cell = None
    if counts is not None:  # integer days from 0 (np.can_cast: bool and integer types up to intp)
        dense, origin, size = True, 0, counts.shape[0]
    else:
        ev = np.asarray(event, dtype=bool)
        if simple and time.size <= _SMALL_N:
            return _one_group_sorted(time, ev)
        # one bincount for all cells: (time index, group, event) -> (t k + g) 2 + e = 2k t + 2g + e, built in place
        # in the index array (memory: one intp array; integer days are converted and scaled in one pass)
        idx, origin, size = _dense_index(time, 2 * k)
        dense = idx is not None
        if simple and not dense:
            return _one_group_sorted(time, ev)
        if not dense:
            uniq, idx = np.unique(time, return_inverse=True)
            size = uniq.size
            idx *= 2 * k
        cell = idx
        if group is None:
            cell += ev
        else:
            codes = np.asarray(group)
            if not np.can_cast(codes.dtype, np.intp) or np.iinfo(codes.dtype).max < 2 * k - 1:
                codes = codes.astype(np.intp)  # no copy for int32 codes; a type too narrow for 2g + e widened
            low = np.left_shift(codes, 1)  # 2g + e in the codes' own (narrow) type: one pass less over ``cell``
            low += ev
            cell += low
            del low
        counts = np.bincount(cell, weights=weights, minlength=size * k * 2).reshape(size, k, 2)
        if weights is not None and weights.dtype.kind in "iu":  # frequency weights (event counts): integer sums
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


def _block_counts(
    time: np.ndarray, event: np.ndarray, group: np.ndarray | None, k: int, checked: bool
) -> np.ndarray | None:
    """(size, k, 2) counts of integer days ``0..size-1`` by (day, group, event), counted ``_BLOCK`` rows at a time.

    The cell index ``(k t + g) 2 + e`` of a block is built in a buffer that stays in the CPU cache and binned there,
    so each column is read from memory once; an index array over all rows costs several passes through memory
    and, at 1e7 rows, the page faults of a fresh 80 MB array. The index is built in the days' own type when that is
    int32 or int64 (same-type loops, several times faster than mixed-type ones) and cannot overflow, then copied
    to the intp ``bincount`` takes. ``None`` when a day is beyond the range :func:`_dense_index` counts by
    ``bincount`` (the caller takes the general path) or, in unchecked input (``checked=False``), negative (as
    unsigned it is beyond that range); in unchecked input an event that is not 0/1 or a group code not in
    ``0..k-1`` (guessed direct codes, :func:`cart_outcomes.stats._inputs.groups`) raises :class:`Unchecked`.
    """
    n = time.size
    top = _DENSE_RANGE_FACTOR * n + 1024  # _dense_index's range bound, counted from day 0
    width = 2 * k
    t_bits = np.dtype(f"u{time.itemsize}")
    e_bits = None if checked or event.dtype == bool else np.dtype(f"u{event.itemsize}")
    g_bits = None if checked or group is None else np.dtype(f"u{group.itemsize}")
    own = time.dtype in (np.int32, np.int64) and width * (top + 1) <= np.iinfo(time.dtype).max
    work = np.empty(min(n, _BLOCK), dtype=time.dtype if own else np.intp)
    index = work if work.dtype == np.intp else np.empty(work.size, dtype=np.intp)
    acc = np.zeros(0, dtype=np.intp)
    for a in range(0, n, _BLOCK):
        t, e = time[a : a + _BLOCK], event[a : a + _BLOCK]
        if t.view(t_bits).max() > top:  # one reduction: negative days (unchecked input) are beyond it as unsigned
            return None
        if e_bits is not None and e.view(e_bits).max() > 1:  # likewise negative events
            raise Unchecked
        cell = work[: t.size]
        if group is None:
            np.multiply(t, 2, out=cell, casting="unsafe")  # unsafe: days <= top, the product fits (``own``)
        else:
            g = group[a : a + _BLOCK]
            if g_bits is not None and g.view(g_bits).max() >= k:
                raise Unchecked
            np.multiply(t, k, out=cell, casting="unsafe")
            np.add(cell, g, out=cell, casting="unsafe")  # codes 0..k-1 in any integer type
            cell += cell
        np.add(cell, e, out=cell, casting="unsafe")
        if index is not work:
            cell = index[: t.size]
            np.copyto(cell, work[: t.size])
        c = np.bincount(cell, minlength=acc.size)
        if c.size == acc.size:
            acc += c
        else:
            c[: acc.size] += acc
            acc = c
    size = -(-acc.size // width)
    if acc.size < size * width:
        acc = np.concatenate((acc, np.zeros(size * width - acc.size, dtype=acc.dtype)))
    return acc.reshape(size, k, 2)


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


def status_table(time: np.ndarray, status: np.ndarray, n_status: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One group, one status per row (0 = censored, 1..n_status-1 = causes): ``(time, n_risk, counts)`` with
    ``n_risk`` (m,) integer and ``counts`` (n_status, m) float, the number of rows of each status at each distinct
    exit time (one contiguous row per status).

    Integer days are counted with one ``bincount`` over (status, day) cells (small n through :func:`event_table`).
    Other times are value-sorted once as 64-bit keys: the time's bits (non-negative doubles order like their bit
    patterns) less those of the smallest positive time, shifted to make room for the status in the low bits. A
    value sort is several times faster than the indirect sort ``np.unique(return_inverse=True)`` needs; the distinct
    times, risk sets and counts then follow from the ends of the runs of equal times (the other rows of tied runs,
    few with continuous times, are added to their run's counts). Times too many binades apart to leave the status
    its bits (never with follow-up times) go through :func:`event_table`.
    """
    if time.size > _SMALL_N:
        idx, origin, size = _dense_index(time)
        if idx is not None:  # one bincount over (status, day) cells, built in place in the fresh index array
            idx += np.multiply(status, size, dtype=np.intp)
            counts = np.bincount(idx, minlength=n_status * size).reshape(n_status, size)
            leaving = counts.sum(axis=0)
            keep = leaving > 0
            n_risk = np.cumsum(leaving[keep][::-1])[::-1]
            return (np.flatnonzero(keep) + origin).astype(float), n_risk, counts[:, keep].astype(float)
        keyed = _status_keys(time, status, n_status)
        if keyed is not None:
            return keyed
    tab = event_table(time, np.ones(time.size, bool), status, n_status)
    return tab.time, tab.n_risk.sum(axis=1), np.ascontiguousarray(tab.n_event.T)


def _status_keys(time: np.ndarray, status: np.ndarray, n_status: int) -> tuple | None:
    """:func:`status_table` by one value sort of packed (time, status) keys, or ``None`` if they do not fit."""
    width = max(n_status - 1, 1).bit_length()  # low bits of a key that hold the status
    bits = np.asarray(time, dtype=np.float64).view(np.int64)
    lo, hi = int(bits.min()), int(bits.max())
    zero = lo <= 0  # times 0 (-0.0 is the only negative pattern) are keyed 0, below every positive time
    if zero:
        positive = bits[bits > 0]
        lo = int(positive.min()) if positive.size else 1
    base = lo - 1
    if (hi - base) >> (63 - width):
        return None
    key = np.maximum(bits, base) if zero else bits.copy()
    key -= base
    key <<= width
    key |= status
    key.sort()
    mask = (1 << width) - 1
    last = np.empty(key.size, dtype=bool)  # last row of each run of equal times: keys differ beyond the status
    last[-1] = True
    np.greater(np.bitwise_xor(key[1:], key[:-1]), mask, out=last[:-1])
    ends = np.flatnonzero(last)
    tied = np.flatnonzero(~last)
    at_end = np.take(key, ends)
    counts = np.empty((n_status, ends.size))
    st = at_end & mask
    for s in range(n_status):  # the status of each run's last row, then those of its other rows
        np.equal(st, s, out=counts[s])
    np.add.at(counts, (key[tied] & mask, np.searchsorted(ends, tied)), 1.0)
    at_end >>= width
    at_end += base
    grid = at_end.view(np.float64)
    if zero:
        grid[0] = 0.0
    n_risk = np.empty(ends.size, dtype=np.int64)  # integers, as event_table's unweighted counts
    n_risk[0] = key.size
    np.subtract(key.size - 1, ends[:-1], out=n_risk[1:])
    return grid, n_risk, counts
