"""Per-interval tables from call records: arrivals, waits, handle time, agents present.

:func:`interval_table` (what was offered and delivered, and who served, per queue and
interval) and :func:`history_table` (the volumes long shape for forecasting).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError
from ..records import validate_call_records

__all__ = ["interval_table", "history_table"]

#: Idle time after which an agent is taken to have left (see :func:`interval_table`).
DEFAULT_SHIFT_GAP_S = 900.0


# --------------------------------------------------------------------------- interval tables


def _seconds_since(values: pd.Series, origin: pd.Timestamp) -> np.ndarray:
    return (values - origin).dt.total_seconds().to_numpy(dtype=float)


def _pooled(records: pd.DataFrame, pool: str | None) -> pd.DataFrame:
    if pool is None:
        return records
    return records.assign(queue=pool)


def interval_table(
    records: pd.DataFrame,
    *,
    interval_s: int = 3600,
    target_s: float = 20.0,
    pool: str | None = None,
    shift_gap_s: float = DEFAULT_SHIFT_GAP_S,
) -> pd.DataFrame:
    """Per queue and interval: what was offered, what the centre delivered, who served.

    Parameters
    ----------
    records
        The records table (:func:`forecast.records.read_call_records`).
    interval_s
        Interval length; must divide a day. Intervals start at midnight.
    target_s
        Answer-time target of the service level.
    pool
        When given, every queue is merged into one queue of this name (agents shared
        between queues are then counted once).
    shift_gap_s
        An agent idle for longer than this between two services is taken to have been
        away (break, end of shift, other work); see ``agents_on_shift``.

    Returns
    -------
    DataFrame
        ``queue, ds, offered, answered, abandoned, answered_in_target, aht_s,
        wait_total_s, agents_seen, agents_on_shift, agent_busy_s, service_level,
        abandonment, utilisation_seen``.

        ``agents_seen`` counts the distinct agents whose service of one of this
        queue's calls overlapped the interval. ``agents_on_shift`` estimates the
        agents present in agent-equivalents: each agent's services of the queue are
        joined into presence spans wherever the idle gap between them is at most
        ``shift_gap_s``, and the spans' overlap with the interval is summed and divided
        by ``interval_s`` (an agent who served only the first ten minutes of an hour
        counts 1/6, not 1). ``agent_busy_s`` is the agents' time serving this queue
        inside the interval and ``utilisation_seen`` that over
        ``agents_seen x interval_s``. Intervals where calls were offered or served
        appear; ``service_level``/``abandonment`` are NaN with no offered call.
    """
    _check_interval(interval_s)
    validate_call_records(records)
    r = _pooled(records, pool)
    if r.empty:
        raise DataValidationError("no call records to summarise")
    origin = r["arrival"].min().floor("D")
    arrive_s = _seconds_since(r["arrival"], origin)
    slot = np.floor(arrive_s / interval_s).astype(np.int64)
    answered = (r["outcome"] == "answered").to_numpy(dtype=bool)
    wait = r["wait_s"].to_numpy(dtype=float)
    handle = r["handle_s"].to_numpy(dtype=float)
    queue = r["queue"].astype(str).to_numpy()

    calls = pd.DataFrame(
        {
            "queue": queue,
            "slot": slot,
            "offered": 1,
            "answered": answered.astype(np.int64),
            "abandoned": (~answered).astype(np.int64),
            "answered_in_target": (answered & (wait <= target_s)).astype(np.int64),
            "handle_sum_s": np.where(answered, handle, 0.0),
            "wait_total_s": wait,
        }
    )
    per = calls.groupby(["queue", "slot"], sort=True).sum()

    busy = _agent_busy(r, arrive_s, wait, handle, answered, queue, interval_s, shift_gap_s)
    out = per.join(busy, how="outer").fillna(0.0).reset_index()
    for column in ("offered", "answered", "abandoned", "answered_in_target", "agents_seen"):
        out[column] = out[column].astype(np.int64)
    offered = out["offered"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["aht_s"] = np.where(out["answered"] > 0, out["handle_sum_s"] / out["answered"], np.nan)
        out["service_level"] = np.where(offered > 0, out["answered_in_target"] / offered, np.nan)
        out["abandonment"] = np.where(offered > 0, out["abandoned"] / offered, np.nan)
        seen_s = out["agents_seen"].to_numpy(dtype=float) * interval_s
        out["utilisation_seen"] = np.where(seen_s > 0, out["agent_busy_s"] / seen_s, np.nan)
    out["ds"] = origin + pd.to_timedelta(out["slot"] * interval_s, unit="s")
    columns = [
        "queue",
        "ds",
        "offered",
        "answered",
        "abandoned",
        "answered_in_target",
        "aht_s",
        "wait_total_s",
        "agents_seen",
        "agents_on_shift",
        "agent_busy_s",
        "service_level",
        "abandonment",
        "utilisation_seen",
    ]
    return out[columns]


def _split_by_interval(start: np.ndarray, end: np.ndarray, interval_s: int):
    """Cut spans ``[start, end)`` at interval boundaries: (span index, slot, seconds)."""
    first = np.floor(start / interval_s).astype(np.int64)
    last = np.maximum(first, np.ceil(end / interval_s).astype(np.int64) - 1)
    spans = last - first + 1
    rep = np.repeat(np.arange(start.size), spans)
    offset = np.arange(rep.size) - np.repeat(np.cumsum(spans) - spans, spans)
    slot = first[rep] + offset
    overlap = np.minimum(end[rep], (slot + 1) * interval_s) - np.maximum(
        start[rep], slot * interval_s
    )
    return rep, slot, np.maximum(overlap, 0.0)


def _agent_busy(r, arrive_s, wait, handle, answered, queue, interval_s, shift_gap_s):
    """Distinct agents, agents on shift and busy seconds per (queue, slot)."""
    agent = r["agent"].astype("string") if "agent" in r else pd.Series(pd.NA, index=r.index)
    has_agent = answered & agent.notna().to_numpy(dtype=bool)
    start = (arrive_s + wait)[has_agent]
    end = start + handle[has_agent]
    who = agent.to_numpy()[has_agent]
    where = queue[has_agent]
    rep, slot, overlap = _split_by_interval(start, end, interval_s)
    spells = pd.DataFrame(
        {"queue": where[rep], "slot": slot, "agent": who[rep], "agent_busy_s": overlap}
    )
    grouped = spells.groupby(["queue", "slot"], sort=True)
    out = pd.DataFrame(
        {"agents_seen": grouped["agent"].nunique(), "agent_busy_s": grouped["agent_busy_s"].sum()}
    )

    # presence spans: consecutive services of an agent (on this queue) joined across
    # idle gaps of at most shift_gap_s
    order = np.lexsort((start, who, where))
    q_s, a_s, st, en = where[order], who[order], start[order], end[order]
    same = np.r_[False, (q_s[1:] == q_s[:-1]) & (a_s[1:] == a_s[:-1])]
    reach = pd.Series(en).groupby([q_s, a_s]).cummax().to_numpy()
    new_span = ~same | (st - np.r_[-np.inf, reach[:-1]] > shift_gap_s)
    span_start = st[new_span]
    span_end = np.maximum.reduceat(en, np.flatnonzero(new_span)) if st.size else en
    span_queue = q_s[new_span]
    rep, slot, overlap = _split_by_interval(span_start, span_end, interval_s)
    present = pd.Series(overlap / interval_s).groupby([span_queue[rep], slot]).sum()
    present.index.names = ["queue", "slot"]
    return out.join(present.rename("agents_on_shift"), how="outer").fillna(0.0)


def history_table(
    records: pd.DataFrame, *, interval_s: int = 3600, pool: str | None = None
) -> pd.DataFrame:
    """Arrivals, handle time and abandonments per interval, in the volumes long shape.

    Returns ``queue, ds, y, aht_s, abandoned`` (``y`` = calls offered: answered +
    abandoned). Records cannot tell a closed interval from a quiet one, so an interval
    appears for every queue when the centre took at least one call in it (any queue),
    with ``y = 0`` for the queues that had none; intervals without any call are left
    out, as closed hours are in the volumes contract. ``aht_s`` is NaN where no call
    was answered.
    """
    _check_interval(interval_s)
    validate_call_records(records)
    r = _pooled(records, pool)
    if r.empty:
        raise DataValidationError("no call records to summarise")
    ds = r["arrival"].dt.floor(f"{interval_s}s")
    answered = (r["outcome"] == "answered").to_numpy(dtype=bool)
    calls = pd.DataFrame(
        {
            "queue": r["queue"].astype(str).to_numpy(),
            "ds": ds.to_numpy(),
            "y": 1.0,
            "handle": np.where(answered, r["handle_s"].to_numpy(dtype=float), 0.0),
            "answered": answered.astype(float),
            "abandoned": (~answered).astype(float),
        }
    )
    per = calls.groupby(["queue", "ds"]).sum()
    open_slots = np.sort(calls["ds"].unique())
    queues = sorted(calls["queue"].unique())
    grid = pd.MultiIndex.from_product([queues, open_slots], names=["queue", "ds"])
    out = per.reindex(grid, fill_value=0.0).reset_index()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["aht_s"] = np.where(out["answered"] > 0, out["handle"] / out["answered"], np.nan)
    out["queue"] = out["queue"].astype("string")
    out["ds"] = pd.to_datetime(out["ds"]).astype("datetime64[ns]")
    return out[["queue", "ds", "y", "aht_s", "abandoned"]]


def _check_interval(interval_s: int) -> None:
    if not (
        isinstance(interval_s, int | np.integer)
        and 0 < interval_s <= 86_400
        and 86_400 % interval_s == 0
    ):
        raise ValueError(
            f"interval_s must be a whole number of seconds dividing a day, got {interval_s!r}"
        )
