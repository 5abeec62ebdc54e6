"""Replay a deferred (email, social) plan: contacts queue in one backlog, worked in open hours.

The staffing rule for deferred queues (:mod:`forecast.staffing`) counts the response
target in *open* seconds and plans capacity at ``agents x interval x max_occupancy``.
This replay follows the same conventions, call by call, with the first-come-first-served
simulator (:func:`forecast.simulate.simulate_queue`) on an *open-time axis*:

* only the table's open intervals (``queue.hours``; ``None`` = always open) exist on the
  axis, one after another; the backlog carries over closed hours and nights;
* a contact arriving in an open interval arrives at its (uniform random) instant there;
  one arriving while closed arrives at the start of the next open interval, as its
  response clock starts then;
* the plan's agents work each open interval; a contact's work is a draw with mean the
  interval's AHT divided by ``max_occupancy`` (the share of their time agents spend on
  contacts, as the plan assumes);
* a contact meets the target when answered within ``answer_s`` open seconds; contacts
  whose deadline falls after the last open interval and who are not answered by then
  cannot be judged and are left out (the staffing rule reports NaN for them too).

Nobody abandons. Pure numpy plus the compiled kernel; no I/O.
"""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..config import QueueConfig
from ..exceptions import ForecastError
from . import sampling
from .plan import COUNTS, METRICS, SimulationResult, mean_ci
from .queue import simulate_queue

__all__ = ["replay_deferred"]


def replay_deferred(
    ds: pd.DatetimeIndex | Sequence,
    arrivals: np.ndarray,
    aht_s: np.ndarray,
    agents: np.ndarray,
    queue: QueueConfig,
    *,
    interval_s: int,
    replications: int = 20,
    seed: int = 0,
    service: str = "exponential",
    service_cv: float | None = None,
    confidence: float = 0.95,
) -> SimulationResult:
    """Replay exact arrival counts against a deferred queue's agents.

    Parameters
    ----------
    ds
        Interval starts of the queue's arrival intervals (sorted, on the interval grid),
        open and closed.
    arrivals
        Contacts arriving in each interval (rounded to whole contacts).
    aht_s
        Mean handle time per interval, seconds > 0.
    agents
        Productive agents per interval (whole numbers; those in closed intervals are
        ignored).
    queue
        The queue: ``hours`` (worked hours), ``answer_s`` (response target in open
        seconds), ``service_level`` (goal), ``max_occupancy``.
    interval_s
        Interval length, seconds.
    replications, seed
        Independent replays (random instants within intervals and handle times) and the
        seed of their streams (one per replication, from ``seed`` and the queue name).
    service, service_cv
        Handle-time distribution: ``"exponential"`` or ``"lognormal"`` with CV.
    confidence
        Level of the confidence intervals.

    Returns
    -------
    SimulationResult
        ``intervals`` has one row per input interval (by interval of arrival) with the
        columns of :func:`forecast.simulate.simulate_plan` (``offered`` counts only
        contacts that can be judged; ``asa_s`` is the mean response time in open
        seconds; ``abandonment`` is NaN; ``occupancy`` is agent time on contacts over
        agent time on duty); ``replications`` the whole-table totals per replication.
    """
    ds = pd.DatetimeIndex(ds)
    arrivals = np.rint(np.asarray(arrivals, dtype=np.float64)).astype(np.int64)
    aht_s = np.asarray(aht_s, dtype=np.float64)
    agents = np.asarray(agents, dtype=np.int64)
    n = len(ds)
    if not (arrivals.size == aht_s.size == agents.size == n):
        raise ForecastError("ds, arrivals, aht_s and agents must have one entry per interval")
    if replications < 1:
        raise ForecastError(f"replications must be >= 1; got {replications}")
    if (arrivals < 0).any() or not np.all(np.isfinite(aht_s) & (aht_s > 0)):
        raise ForecastError("arrivals must be >= 0 and aht_s > 0 in every interval")
    is_open = queue.hours.is_open(ds) if queue.hours is not None else np.ones(n, bool)
    open_rows = np.flatnonzero(is_open)
    if open_rows.size == 0:
        raise ForecastError(f"queue '{queue.name}': no open interval to work the backlog in")
    length = float(interval_s)
    horizon_s = open_rows.size * length
    # open index of each row (open rows) or of the next opening (closed rows)
    next_open = np.searchsorted(open_rows, np.arange(n), side="left")
    target_s = float(queue.answer_s)
    goal = float(queue.service_level)
    scale = 1.0 / float(queue.max_occupancy)
    key = zlib.crc32(queue.name.encode("utf-8"))

    sums = {
        name: np.zeros((replications, n))
        for name in ("offered", "answered", "waiting", "within", "wait", "busy")
    }
    for r in range(replications):
        rng = np.random.default_rng([int(seed), key, int(r)])
        at_s, row = sampling.uniform_arrivals(rng, arrivals, length)
        offset_s = at_s - row * length
        slot = next_open[row]
        inside = slot < open_rows.size  # closed-hour arrivals after the last opening: dropped
        open_time = np.where(is_open[row], slot * length + offset_s, slot * length)
        work = sampling.draw_service(rng, aht_s[row], service, service_cv) * scale
        calls = simulate_queue(
            open_time[inside], work[inside], None, agents[open_rows], length, target_s
        )
        row_in = row[inside]
        answered = (calls["outcome"] == "answered").to_numpy()
        wait = calls["wait_s"].to_numpy()
        within = answered & (wait <= target_s + 1e-9)
        judged = within | (open_time[inside] + target_s <= horizon_s + 1e-9)
        for name, weights in (
            ("offered", judged),
            ("answered", answered),
            ("waiting", ~answered),
            ("within", within),
            ("wait", np.where(answered, wait, 0.0)),
        ):
            sums[name][r] = np.bincount(row_in, weights=weights.astype(np.float64), minlength=n)
        busy_open = _busy_per_open_interval(calls, length, open_rows.size)
        sums["busy"][r, open_rows] = busy_open

    with np.errstate(invalid="ignore", divide="ignore"):
        service_level = np.where(sums["offered"] > 0, sums["within"] / sums["offered"], np.nan)
        asa = np.where(sums["answered"] > 0, sums["wait"] / sums["answered"], np.nan)
        on_duty = np.where(is_open, agents * length, 0.0)
        occupancy = np.where(on_duty > 0, sums["busy"] / on_duty, np.nan)
    per_cell = {
        "service_level": service_level,
        "service_level_answered": np.where(
            sums["answered"] > 0, sums["within"] / np.maximum(sums["answered"], 1), np.nan
        ),
        "asa_s": asa,
        "abandonment": np.full((replications, n), np.nan),
        "occupancy": occupancy,
    }
    table = pd.DataFrame(
        {
            "queue": queue.name,
            "ds": ds,
            "agents": agents,
            "volume": arrivals.astype(np.float64),
            "promised_service_level": np.nan,
        }
    )
    counts = {
        "offered": sums["offered"],
        "answered": sums["answered"],
        "abandoned": np.zeros((replications, n)),
        "waiting": sums["waiting"],
        "answered_within_target": sums["within"],
    }
    for name in COUNTS:
        table[name] = counts[name].mean(axis=0)
    for name in METRICS:
        mean, lo, hi = mean_ci(per_cell[name].T, confidence, metric=name)
        table[name], table[f"{name}_lo"], table[f"{name}_hi"] = mean, lo, hi
    meets = np.where(np.isnan(service_level), np.nan, (service_level >= goal - 1e-12) * 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # intervals without contacts
        table["p_meets_goal"] = np.nanmean(meets, axis=0)
    offered = sums["offered"].sum(axis=1)
    within = sums["within"].sum(axis=1)
    reps = pd.DataFrame(
        {
            "queue": queue.name,
            "replication": np.arange(replications),
            "offered": offered,
            "answered": sums["answered"].sum(axis=1),
            "abandoned": 0.0,
            "waiting": sums["waiting"].sum(axis=1),
            "answered_within_target": within,
            "service_level": np.where(offered > 0, within / np.maximum(offered, 1), np.nan),
        }
    )
    return SimulationResult(
        table,
        reps,
        replications,
        {queue.name: target_s},
        {queue.name: goal},
        confidence,
        seed,
        notes=[f"queue '{queue.name}': deferred replay on the open-time axis"],
    )


def _busy_per_open_interval(calls: pd.DataFrame, length: float, n_open: int) -> np.ndarray:
    """Agent seconds spent on contacts inside each open interval (work split at boundaries)."""
    answered = (calls["outcome"] == "answered").to_numpy()
    start = calls["start_s"].to_numpy()[answered]
    end = start + calls["service_s"].to_numpy()[answered]
    edges = np.arange(n_open + 1) * length
    # busy time inside [0, t] summed over calls, at every edge: sum(clip(t - start, 0, dur))
    order_s, order_e = np.sort(start), np.sort(end)
    cum_s = np.concatenate([[0.0], np.cumsum(order_s)])
    cum_e = np.concatenate([[0.0], np.cumsum(order_e)])
    ks = np.searchsorted(order_s, edges, side="right")
    ke = np.searchsorted(order_e, edges, side="right")
    busy_upto = (edges * ks - cum_s[ks]) - (edges * ke - cum_e[ke])
    return np.diff(busy_upto)
