"""Replay one queue call by call: given arrivals, handle times, patience and a schedule.

This is the low-level entry point, used to replay real calls (their actual arrival
times and handle times) against the agents who were on duty.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError
from . import engine, kernel

__all__ = ["simulate_queue", "interval_summary", "OUTCOMES"]

#: outcome labels, indexed by the kernel's codes
OUTCOMES = ("answered", "abandoned", "waiting")


def simulate_queue(
    arrival_times_s: Sequence[float] | np.ndarray,
    service_times_s: Sequence[float] | np.ndarray,
    patience_s: float | Sequence[float] | np.ndarray | None,
    agent_schedule: Sequence[int] | np.ndarray,
    interval_s: float,
    target_s: float,
) -> pd.DataFrame:
    """Simulate a first-come-first-served queue for the given calls and agents.

    Interval ``j`` covers ``[j * interval_s, (j + 1) * interval_s)`` seconds and has
    ``agent_schedule[j]`` agents on duty; agents join and leave at boundaries and a
    leaving agent finishes the call in hand. The system starts empty; a caller still
    queued when the last interval ends is reported as ``waiting``.

    Parameters
    ----------
    arrival_times_s
        Arrival of each call, seconds after the start of interval 0; any order.
    service_times_s
        Handle time of each call in seconds (used if it is answered).
    patience_s
        ``None`` (nobody hangs up), one number for every caller, or one per call
        (``inf`` for a caller who would never hang up). A caller abandons when not
        answered within its patience; one answered exactly at it is answered.
    agent_schedule
        Agents on duty per interval (non-negative integers).
    interval_s
        Interval length in seconds.
    target_s
        Answer-time target: ``within_target`` is ``wait_s <= target_s`` for answered calls.

    Returns
    -------
    DataFrame
        One row per call in input order: ``arrival_s, service_s, patience_s, interval,
        outcome`` ("answered", "abandoned" or "waiting"), ``start_s`` (NaN unless
        answered), ``wait_s`` (time in queue: until answered, until hanging up, or until
        the end for callers still waiting), ``agent`` (index, -1 unless answered),
        ``within_target``.
    """
    arrival = _seconds(arrival_times_s, "arrival_times_s")
    service = _seconds(service_times_s, "service_times_s")
    if service.size != arrival.size:
        raise DataValidationError(
            f"got {service.size} handle times for {arrival.size} arrivals; expected one per call",
            column="service_times_s",
        )
    n = arrival.size
    if patience_s is None:
        patience = np.full(n, np.inf)
    elif np.ndim(patience_s) == 0:
        patience = np.full(n, float(patience_s))
    else:
        patience = np.asarray(patience_s, dtype=np.float64).ravel()
        if patience.size != n:
            raise DataValidationError(
                f"got {patience.size} patience values for {n} arrivals; expected one per call",
                column="patience_s",
            )
    if np.isnan(patience).any() or (patience < 0).any():
        raise DataValidationError(
            "patience must be >= 0 seconds (inf allowed)", column="patience_s"
        )
    agents = _schedule(agent_schedule)
    interval_s = float(interval_s)
    if not interval_s > 0:
        raise DataValidationError(f"interval_s must be > 0; got {interval_s}")
    horizon_s = agents.size * interval_s
    outside = (arrival < 0) | (arrival >= horizon_s)
    if outside.any():
        k = int(np.flatnonzero(outside)[0])
        raise DataValidationError(
            f"call {k} arrives at {arrival[k]:g} s, outside the schedule's "
            f"[0, {horizon_s:g}) s; expected arrivals within the scheduled intervals",
            column="arrival_times_s",
        )

    order = np.argsort(arrival, kind="stable")
    arr_sorted = arrival[order]
    interval = np.minimum((arr_sorted // interval_s).astype(np.int64), agents.size - 1)
    block_end = engine.block_ends(agents.size)
    segments = engine.Segments.for_replication(interval, block_end)
    table = kernel.next_on_duty_table(agents, block_end)
    start_s, agent, outcome = engine.run(
        segments, arr_sorted, service[order], patience[order], agents, table, interval_s
    )

    result = np.empty(n, np.int8)
    result[order] = outcome
    start = np.empty(n)
    start[order] = start_s
    who = np.empty(n, np.int64)
    who[order] = agent
    wait = np.where(
        result == kernel.ANSWERED,
        start - arrival,
        np.where(result == kernel.ABANDONED, patience, horizon_s - arrival),
    )
    interval_in_order = np.empty(n, np.int64)
    interval_in_order[order] = interval
    return pd.DataFrame(
        {
            "arrival_s": arrival,
            "service_s": service,
            "patience_s": patience,
            "interval": interval_in_order,
            "outcome": np.asarray(OUTCOMES, dtype=object)[result],
            "start_s": start,
            "wait_s": wait,
            "agent": who,
            "within_target": (result == kernel.ANSWERED) & (wait <= target_s + 1e-9),
        }
    )


def interval_summary(
    calls: pd.DataFrame,
    agent_schedule: Sequence[int] | np.ndarray,
    interval_s: float,
    target_s: float,
) -> pd.DataFrame:
    """Per-interval results of :func:`simulate_queue`'s calls (by the interval of arrival).

    Returns
    -------
    DataFrame
        One row per interval: ``interval, agents, offered, answered, abandoned, waiting``
        (still queued at the end), ``answered_within_target``, ``service_level``
        (answered within target / offered, the convention of Erlang C and of
        :func:`forecast.queueing.erlang_a`'s ``service_level``), ``service_level_answered``
        (answered within target / answered), ``asa_s`` (mean wait of answered calls),
        ``abandonment`` (abandoned / offered) and ``occupancy`` (agent time handling calls
        / agent time on duty, counting time spent finishing a call after leaving).
    """
    agents = _schedule(agent_schedule)
    n_int = agents.size
    code = pd.Categorical(calls["outcome"], categories=OUTCOMES).codes.astype(np.int8)
    interval = calls["interval"].to_numpy(np.int64)
    order = np.argsort(calls["arrival_s"].to_numpy(), kind="stable")
    block_end = engine.block_ends(n_int)
    segments = engine.Segments.for_replication(interval[order], block_end)
    counts = engine.aggregate(
        interval[order],
        n_int,
        arrival_s=calls["arrival_s"].to_numpy(np.float64)[order],
        service_s=calls["service_s"].to_numpy(np.float64)[order],
        start_s=calls["start_s"].to_numpy(np.float64)[order],
        agent=calls["agent"].to_numpy(np.int64)[order],
        outcome=code[order],
        segments=segments,
        agents=agents,
        interval_s=float(interval_s),
        target_s=float(target_s),
    )
    table = pd.DataFrame({"interval": np.arange(n_int), "agents": agents})
    return table.assign(**rates(counts))


def rates(c: engine.IntervalCounts) -> dict[str, np.ndarray]:
    """Counts and ratios per cell; a ratio with a zero denominator is NaN."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "offered": c.offered,
            "answered": c.answered,
            "abandoned": c.abandoned,
            "waiting": c.waiting,
            "answered_within_target": c.answered_within,
            "service_level": _ratio(c.answered_within, c.offered),
            "service_level_answered": _ratio(c.answered_within, c.answered),
            "asa_s": _ratio(c.wait_answered_s, c.answered),
            "abandonment": _ratio(c.abandoned, c.offered),
            "occupancy": _ratio(c.busy_s, c.on_duty_s),
        }


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _seconds(values, name: str) -> np.ndarray:
    out = np.asarray(values, dtype=np.float64).ravel()
    bad = ~np.isfinite(out) | (out < 0)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise DataValidationError(
            f"entry {k} is {out[k]}; expected finite seconds >= 0", column=name
        )
    return out


def _schedule(agent_schedule) -> np.ndarray:
    raw = np.asarray(agent_schedule, dtype=np.float64).ravel()
    if raw.size == 0:
        raise DataValidationError(
            "the agent schedule is empty; expected one count per interval", column="agent_schedule"
        )
    bad = ~np.isfinite(raw) | (raw < 0) | (raw != np.round(raw))
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise DataValidationError(
            f"interval {j} has {raw[j]} agents; expected a whole number >= 0",
            column="agent_schedule",
        )
    return raw.astype(np.int64)
