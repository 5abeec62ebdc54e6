"""Glue between numpy arrays and the compiled kernel: segments in, per-interval counts out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import kernel

__all__ = ["Segments", "block_ends", "run", "IntervalCounts", "aggregate"]


def block_ends(n_intervals: int, breaks_before: np.ndarray | None = None) -> np.ndarray:
    """For each interval, one past the last interval of its block of consecutive intervals.

    ``breaks_before`` holds the indices of intervals that start a new block (the first
    open interval after a closed period); interval 0 always starts one.
    """
    starts = np.zeros(n_intervals, dtype=bool)
    if n_intervals:
        starts[0] = True
    if breaks_before is not None and len(breaks_before):
        starts[np.asarray(breaks_before, dtype=np.int64)] = True
    start_idx = np.flatnonzero(starts)
    ends = np.append(start_idx[1:], n_intervals).astype(np.int64)
    return np.repeat(ends, np.diff(np.append(start_idx, n_intervals)))


@dataclass(frozen=True)
class Segments:
    """Customers and intervals of each independently simulated segment (all int64 (S,))."""

    call_lo: np.ndarray
    call_hi: np.ndarray
    int_lo: np.ndarray
    int_hi: np.ndarray

    @classmethod
    def for_replication(
        cls, interval: np.ndarray, block_end: np.ndarray, call_offset: int = 0
    ) -> Segments:
        """Segments of one replication whose customers (sorted) sit in ``interval``."""
        n_int = block_end.size
        int_lo = (
            np.flatnonzero(np.r_[True, block_end[1:] != block_end[:-1]])
            if n_int
            else (np.zeros(0, np.int64))
        )
        int_hi = block_end[int_lo] if n_int else np.zeros(0, np.int64)
        call_lo = np.searchsorted(interval, int_lo, side="left") + call_offset
        call_hi = np.searchsorted(interval, int_hi, side="left") + call_offset
        return cls(
            call_lo.astype(np.int64),
            call_hi.astype(np.int64),
            int_lo.astype(np.int64),
            int_hi.astype(np.int64),
        )

    @classmethod
    def concat(cls, parts: list[Segments]) -> Segments:
        return cls(
            *(
                np.concatenate([getattr(p, f) for p in parts])
                for f in ("call_lo", "call_hi", "int_lo", "int_hi")
            )
        )


def run(
    segments: Segments,
    arrival_s: np.ndarray,
    service_s: np.ndarray,
    patience_s: np.ndarray,
    agents: np.ndarray,
    table: np.ndarray,
    interval_s: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run the FCFS kernel; return ``(start_s, agent, outcome)`` per customer."""
    n = arrival_s.size
    start_s = np.empty(n, np.float64)
    agent = np.empty(n, np.int64)
    outcome = np.empty(n, np.int8)
    kernel.run_segments(
        segments.call_lo,
        segments.call_hi,
        segments.int_lo,
        segments.int_hi,
        np.ascontiguousarray(arrival_s, dtype=np.float64),
        np.ascontiguousarray(service_s, dtype=np.float64),
        np.ascontiguousarray(patience_s, dtype=np.float64),
        np.ascontiguousarray(agents, dtype=np.int64),
        table,
        float(interval_s),
        start_s,
        agent,
        outcome,
        table.shape[0] >= kernel.HEAP_FROM_AGENTS,
    )
    return start_s, agent, outcome


@dataclass(frozen=True)
class IntervalCounts:
    """Sums per output cell (a cell is one interval of one replication); float64 arrays."""

    offered: np.ndarray
    answered: np.ndarray
    abandoned: np.ndarray
    waiting: np.ndarray
    answered_within: np.ndarray
    wait_answered_s: np.ndarray
    busy_s: np.ndarray
    on_duty_s: np.ndarray


def aggregate(
    cell: np.ndarray,
    n_cells: int,
    *,
    arrival_s: np.ndarray,
    service_s: np.ndarray,
    start_s: np.ndarray,
    agent: np.ndarray,
    outcome: np.ndarray,
    segments: Segments,
    agents: np.ndarray,
    interval_s: float,
    target_s: float,
) -> IntervalCounts:
    """Per-cell counts, waits and agent time; each call is counted in its arrival's cell.

    ``cell`` is ``replication * J + interval`` per customer; ``segments`` cover the
    customers in order (as given to :func:`run`). ``on_duty_s`` is scheduled agent time
    plus the time agents spend finishing a call after leaving, so occupancy
    ``busy / on_duty`` <= 1.
    """
    seg_int_hi = np.repeat(segments.int_hi, segments.call_hi - segments.call_lo)
    sums = kernel.aggregate_cells(
        np.ascontiguousarray(cell, dtype=np.int64),
        seg_int_hi.astype(np.int64),
        np.ascontiguousarray(arrival_s, dtype=np.float64),
        np.ascontiguousarray(service_s, dtype=np.float64),
        np.ascontiguousarray(start_s, dtype=np.float64),
        np.ascontiguousarray(agent, dtype=np.int64),
        np.ascontiguousarray(outcome, dtype=np.int8),
        np.ascontiguousarray(agents, dtype=np.int64),
        float(interval_s),
        float(target_s),
        int(n_cells),
    )
    return IntervalCounts(*sums)
