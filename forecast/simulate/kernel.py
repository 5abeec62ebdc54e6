"""The compiled core of the simulator: a first-come-first-served multi-agent queue.

Time runs on a *virtual timeline*: interval (row) ``j`` of a schedule covers
``[j * interval_s, (j + 1) * interval_s)``. A *segment* is a run of consecutive
intervals simulated from an empty system (one replication of one block of opening
hours); state never carries from one segment to the next.

The algorithm is the Kiefer-Wolfowitz recursion for FCFS multi-server queues
(Kiefer and Wolfowitz 1955, "On the theory of queues with many servers", Trans. AMS
78(1)), extended to a staffing level that changes at interval boundaries and to
impatient callers:

* agent ``i`` (0-based) is on duty in interval ``j`` when ``i < agents[j]``; agents join
  and leave at boundaries, and an agent leaving finishes the call in hand;
* customers are taken in arrival order; each starts at the earliest moment some agent
  is both free and on duty, no earlier than its arrival (first come, first served);
* among agents able to start a call at the same moment, the one idle longest takes it
  (the usual ACD rule), the lowest index on ties (agents joining at one boundary);
* a customer whose start would come later than ``arrival + patience`` abandons at that
  moment and takes no agent; one still queued when the segment ends is *waiting*.

Customer ``k``'s fate depends only on customers before it, so one pass in arrival
order is exact. The functions are compiled with numba when it is installed; without
it the same code runs as plain Python (correct, but slow beyond small examples).
"""

from __future__ import annotations

import math

import numpy as np

from .. import _numbacache

_numbacache.configure()  # before the kernels below are compiled: they cache on disk

try:  # numba compiles the loops below; the code is plain Python without it
    from numba import njit

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only where numba is absent
    HAVE_NUMBA = False

    def njit(*args, **kwargs):
        if args and callable(args[0]):
            return args[0]
        return lambda func: func


__all__ = [
    "HAVE_NUMBA",
    "ANSWERED",
    "ABANDONED",
    "WAITING",
    "HEAP_FROM_AGENTS",
    "next_on_duty_table",
    "run_segments",
    "aggregate_cells",
]

#: outcome codes written by :func:`run_segments`
ANSWERED = 0
ABANDONED = 1
WAITING = 2


@njit(cache=True)
def next_on_duty_table(agents, block_end):
    """For every agent and interval, the first interval at or after it with that agent on duty.

    Parameters
    ----------
    agents : int64 array (J,)
        Agents on duty per interval.
    block_end : int64 array (J,)
        For each interval, the index one past the last interval of its block.

    Returns
    -------
    int64 array (max(agents), J)
        ``table[i, j]`` is the smallest ``j' >= j`` in the same block with
        ``agents[j'] > i``, or ``block_end[j]`` when there is none.
    """
    n_int = agents.shape[0]
    n_agents = 0
    for j in range(n_int):
        if agents[j] > n_agents:
            n_agents = agents[j]
    table = np.empty((n_agents, n_int), np.int64)
    for i in range(n_agents):
        for j in range(n_int - 1, -1, -1):
            if agents[j] > i:
                table[i, j] = j
            elif j + 1 < n_int and block_end[j + 1] == block_end[j]:
                table[i, j] = table[i, j + 1]
            else:
                table[i, j] = block_end[j]
    return table


@njit(cache=True)
def _next_on_duty(table, agent, t, interval_s, seg_end):
    """Earliest moment >= t at which ``agent`` is on duty, or inf (none before seg_end)."""
    j = int(math.floor(t / interval_s))
    if j >= seg_end:
        return math.inf
    jj = table[agent, j]
    if jj == j:
        return t
    if jj >= seg_end:
        return math.inf
    return jj * interval_s


@njit(cache=True)
def _heap_less(keys, ids, x, y):
    """Order of heap slots x, y: earlier free time first, then lower agent index."""
    return keys[x] < keys[y] or (keys[x] == keys[y] and ids[x] < ids[y])


@njit(cache=True)
def _sift_down(keys, ids, pos, size):
    while True:
        left = 2 * pos + 1
        if left >= size:
            return
        child = left
        right = left + 1
        if right < size and _heap_less(keys, ids, right, left):
            child = right
        if not _heap_less(keys, ids, child, pos):
            return
        keys[pos], keys[child] = keys[child], keys[pos]
        ids[pos], ids[child] = ids[child], ids[pos]
        pos = child


#: above this many agents the kernel keeps them in a binary heap; below, a linear scan
#: of their free times is faster (both choose the same agent)
HEAP_FROM_AGENTS = 128


@njit(cache=True)
def run_segments(
    seg_call_lo,
    seg_call_hi,
    seg_int_lo,
    seg_int_hi,
    arrival_s,
    service_s,
    patience_s,
    agents,
    table,
    interval_s,
    start_s,
    agent_out,
    outcome,
    use_heap,
):
    """Simulate every segment; write each customer's start, agent and outcome in place.

    Each agent carries ``free_at``: the earliest moment it could start a call, being both
    free and on duty. When arrivals enter a new interval, idle agents who are off duty
    in it have ``free_at`` moved to the start of their next interval on duty; so a
    customer arriving at ``a`` starts at ``max(a, smallest free_at)``, with that agent
    (the one idle longest; the lowest index on ties, e.g. agents joining together).
    The smallest ``free_at`` is found by a linear scan, or, with ``use_heap`` (worth it
    from about ``HEAP_FROM_AGENTS`` agents), from a binary heap on ``(free_at, index)``:
    O(agents) work per interval and O(log agents) per customer. Both give the same
    result.

    Parameters
    ----------
    seg_call_lo, seg_call_hi : int64 arrays (S,)
        Customers ``[lo, hi)`` of each segment, sorted by arrival within it.
    seg_int_lo, seg_int_hi : int64 arrays (S,)
        Intervals ``[lo, hi)`` of each segment on the virtual timeline.
    arrival_s, service_s, patience_s : float64 arrays (n,)
        Per customer; patience ``inf`` for callers who never hang up.
    agents, table
        Agents on duty per interval and :func:`next_on_duty_table` of them.
    interval_s : float
    start_s, agent_out, outcome : arrays (n,), written
        Start of service (NaN unless answered), agent index (-1 unless answered),
        outcome code (ANSWERED, ABANDONED, WAITING).
    use_heap : bool
    """
    n_agents = table.shape[0]
    keys = np.empty(n_agents, np.float64)  # free_at, in heap order when use_heap
    ids = np.empty(n_agents, np.int64)  # the agent in each slot
    for s in range(seg_call_lo.shape[0]):
        int_lo = seg_int_lo[s]
        int_hi = seg_int_hi[s]
        seg_stop = int_hi * interval_s
        for x in range(n_agents):
            ids[x] = x
            keys[x] = _next_on_duty(table, x, int_lo * interval_s, interval_s, int_hi)
        current = int_lo
        for k in range(seg_call_lo[s], seg_call_hi[s]):
            a = arrival_s[k]
            j_a = int(math.floor(a / interval_s))
            if j_a >= int_hi:  # rounding at the very end of the segment
                j_a = int_hi - 1
            if j_a != current:
                boundary = j_a * interval_s
                for x in range(n_agents):
                    if keys[x] < boundary and ids[x] >= agents[j_a]:
                        keys[x] = _next_on_duty(table, ids[x], boundary, interval_s, int_hi)
                if use_heap:
                    for x in range(n_agents // 2 - 1, -1, -1):
                        _sift_down(keys, ids, x, n_agents)
                current = j_a
            slot = 0
            if not use_heap:  # slots hold agents in index order: first minimum wins ties
                for x in range(1, n_agents):
                    if keys[x] < keys[slot]:
                        slot = x
            best = keys[slot] if n_agents > 0 else math.inf
            if best < a:
                best = a
            if best <= a + patience_s[k] and best < seg_stop:
                who = ids[slot]
                start_s[k] = best
                agent_out[k] = who
                outcome[k] = ANSWERED
                keys[slot] = _next_on_duty(table, who, best + service_s[k], interval_s, int_hi)
                if use_heap:
                    _sift_down(keys, ids, 0, n_agents)
            else:
                start_s[k] = math.nan
                agent_out[k] = -1
                outcome[k] = ABANDONED if a + patience_s[k] < seg_stop else WAITING


@njit(cache=True)
def aggregate_cells(
    cell,
    seg_int_hi,
    arrival_s,
    service_s,
    start_s,
    agent,
    outcome,
    agents,
    interval_s,
    target_s,
    n_cells,
):
    """Sum each customer's fate into its cell (replication x interval of arrival).

    Parameters
    ----------
    cell : int64 array (n,)
        ``replication * J + interval`` of each customer's arrival.
    seg_int_hi : int64 array (n,)
        End (exclusive) of each customer's segment; work after it is not counted.
    arrival_s, service_s, start_s, agent, outcome
        Per customer, as written by :func:`run_segments`.
    agents : int64 array (J,)
    interval_s, target_s : float
    n_cells : int

    Returns
    -------
    float64 array (8, n_cells)
        Rows: offered, answered, abandoned, waiting, answered within target, total wait of
        answered calls, agent-seconds handling calls, agent-seconds on duty (the schedule
        plus time spent finishing a call after leaving). Handling time is counted in the
        interval where it happens, which may differ from the call's arrival interval.
    """
    n_int = agents.shape[0]
    out = np.zeros((8, n_cells), np.float64)
    for c in range(n_cells):
        out[7, c] = agents[c % n_int] * interval_s
    for k in range(cell.shape[0]):
        c = cell[k]
        out[0, c] += 1.0
        o = outcome[k]
        if o == ABANDONED:
            out[2, c] += 1.0
            continue
        if o == WAITING:
            out[3, c] += 1.0
            continue
        out[1, c] += 1.0
        s = start_s[k]
        wait = s - arrival_s[k]
        out[5, c] += wait
        if wait <= target_s + 1e-9:  # a call answered exactly at the target is within it
            out[4, c] += 1.0
        e = s + service_s[k]
        base = c - c % n_int
        j = int(math.floor(s / interval_s))
        while j < seg_int_hi[k]:
            lo = j * interval_s
            if lo >= e:
                break
            part = min(e, lo + interval_s) - max(s, lo)
            out[6, base + j] += part
            if agent[k] >= agents[j]:  # finishing a call after leaving
                out[7, base + j] += part
            j += 1
    return out
