"""Channel rules: from an interval forecast to agents, service and cost per interval.

:func:`staff_queue` staffs one queue. The rule depends on ``queue.channel``:

voice
    Erlang C on the offered load ``volume x aht_s / interval_s``; Erlang A (M/M/n+M)
    when ``queue.patience_s`` is set. Targets: ``service_level`` within ``answer_s``,
    plus ``max_asa_s``, ``max_abandon`` (Erlang A) and ``max_occupancy`` when set.
chat
    An agent works ``k = queue.concurrency`` sessions at once, and a session's handle
    time stretches to ``aht_s x (1 + concurrency_aht_factor x (k - 1))``. Each agent is
    ``k`` independent session slots: the requirement is computed in slots (Erlang C,
    or A, on the session load with the stretched handle time; the service level is the
    wait for a free slot) and ``agents = slots / k`` (rounded up for the integer
    answer). Occupancy and ``max_occupancy`` refer to slots.
email, social (deferred)
    Contacts arriving in any interval, open or not, join one FIFO backlog. The
    response target ``answer_s`` is counted in *open* seconds (``queue.hours``; ``None``
    = always open); arrivals while closed start their clock at the next opening.
    Each contact's work (``aht_s``) is spread evenly over its response window, from its
    arrival to its deadline (arrivals uniform within their interval), and each open
    interval is staffed for the work falling in it, divided by ``max_occupancy``. This
    plan finishes every contact by its deadline in the fluid model (first-come first-
    served is earliest-deadline-first here, hence optimal), so the planned target is
    all contacts within ``answer_s``, at least the ``service_level`` asked; smoothing
    over the window avoids the saw-tooth of staffing at the deadline. The integer plan
    is then replayed as a fluid FIFO queue to report, per interval: ``backlog``
    (contacts waiting at the interval's end), ``service_level`` (share of the
    interval's arrivals answered within ``answer_s``), ``asa_s`` (their mean response
    time, open seconds) and ``occupancy``. Arrivals whose deadline falls after the last
    interval of the table are judged against the capacity inside the table only (NaN
    if not answered by then). Closed intervals get 0 agents. An ``initial_backlog``
    (contacts already waiting at the first row's start) is answered first: it joins the
    queue ahead of every arrival in the table, like contacts that came while closed, at
    the first opening from the first row's start, with the table's mean handle time
    (weighted by volume) and a full response window from that opening (how long they
    have already waited is not known).

Then, for every channel: ``agents_scheduled = ceil(agents_required / ((1 - shrinkage)
x availability))`` (round up), and ``cost = agents_scheduled x interval hours x
cost_per_hour``. The output keeps an audit trail per interval: ``workload_erlangs``,
``agents_raw`` (continuous requirement), ``binding`` (the constraint that set the
number), ``agents_required`` and ``agents_scheduled``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .config import QueueConfig
from .exceptions import DataValidationError
from .queueing import asa as erlang_c_asa
from .queueing import erlang_a, required_agents
from .queueing import occupancy as erlang_c_occupancy
from .queueing import service_level as erlang_c_service_level

__all__ = ["staff_queue", "STAFFING_COLUMNS", "scheduled_heads"]

#: columns added by :func:`staff_queue`, in output order
STAFFING_COLUMNS = (
    "workload_erlangs",
    "agents_raw",
    "agents_required",
    "binding",
    "agents_scheduled",
    "service_level",
    "asa_s",
    "occupancy",
    "abandonment",
    "backlog",
    "cost",
)

_SUBPOINTS = 16  # arrival instants per interval when judging deferred response times


def scheduled_heads(agents_required, shrinkage: float, availability: float = 1.0) -> np.ndarray:
    """Heads to schedule so that ``agents_required`` are productive on the queue.

    ``ceil(agents_required / ((1 - shrinkage) x availability))``; a tolerance of 1e-9
    keeps exact quotients (e.g. 7 / 0.7) from rounding up by float noise.
    """
    productive = (1.0 - shrinkage) * availability
    if not 0 < productive <= 1:
        raise ValueError("(1 - shrinkage) x availability must be in (0, 1]")
    heads = np.ceil(np.asarray(agents_required, dtype=np.float64) / productive - 1e-9)
    return np.maximum(heads, 0).astype(np.int64)


def staff_queue(forecast: pd.DataFrame, queue: QueueConfig, *, interval_s: int,
                initial_backlog: float = 0.0) -> pd.DataFrame:
    """Staff one queue interval by interval with its channel rule.

    Parameters
    ----------
    forecast
        One queue's intervals: ``ds`` (interval start), ``volume`` (contacts offered),
        optional ``aht_s`` (NaN -> ``queue.aht_s``). For email/social, include the
        intervals when the team is not working: their arrivals join the backlog.
    queue
        The queue's targets and channel (:class:`~forecast.config.QueueConfig`).
    interval_s
        Interval length in seconds.
    initial_backlog
        Email/social only: contacts already waiting at the start of the first row
        (earliest ``ds``), answered before any arrival in the table (FIFO), with the
        table's handle time averaged over its volume (``queue.aht_s`` when it has
        none). Default 0: the queue starts empty.

    Returns
    -------
    DataFrame
        The input (same row order, not mutated) plus :data:`STAFFING_COLUMNS`.

    Raises
    ------
    DataValidationError
        When a column is missing or holds a negative or non-finite number.
    ValueError
        When ``interval_s`` is not positive, ``initial_backlog`` is negative or not
        finite, or a voice or chat queue is given a backlog (they carry none between
        intervals).
    """
    if interval_s <= 0:
        raise ValueError("interval_s must be > 0")
    initial_backlog = float(initial_backlog)
    if not (np.isfinite(initial_backlog) and initial_backlog >= 0):
        raise ValueError(f"initial_backlog must be a number of contacts >= 0, got "
                         f"{initial_backlog!r}")
    if initial_backlog and not queue.is_deferred:
        raise ValueError(f"queue '{queue.name}' is {queue.channel}: only email and social "
                         "queues carry a backlog (initial_backlog must be 0)")
    volume, aht = _validated(forecast, queue)
    if queue.channel == "voice":
        cols = _staff_immediate(volume, aht, queue, interval_s, concurrency=1, factor=0.0)
    elif queue.channel == "chat":
        cols = _staff_immediate(volume, aht, queue, interval_s, concurrency=queue.concurrency,
                                factor=queue.concurrency_aht_factor)
    elif queue.is_deferred:
        cols = _staff_deferred(pd.DatetimeIndex(forecast["ds"]), volume, aht, queue, interval_s,
                               initial_backlog)
    else:
        raise ValueError(f"unknown channel '{queue.channel}'")
    cols["agents_scheduled"] = scheduled_heads(
        cols["agents_required"], queue.shrinkage, queue.availability
    )
    cols["cost"] = cols["agents_scheduled"] * (interval_s / 3600.0) * queue.cost_per_hour
    out = forecast.copy()
    for name in STAFFING_COLUMNS:
        out[name] = cols[name]
    return out


def _validated(forecast: pd.DataFrame, queue: QueueConfig) -> tuple[np.ndarray, np.ndarray]:
    for col in ("ds", "volume"):
        if col not in forecast.columns:
            raise DataValidationError(
                f"missing column '{col}' for queue '{queue.name}'; expected ds, volume[, aht_s]",
                column=col,
            )
    volume = pd.to_numeric(forecast["volume"], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(volume) | (volume < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataValidationError(
            f"queue '{queue.name}' at {forecast['ds'].iloc[i]}: volume "
            f"{forecast['volume'].iloc[i]!r} is not a number >= 0",
            column="volume",
        )
    if "aht_s" in forecast.columns:
        aht = pd.to_numeric(forecast["aht_s"], errors="coerce").to_numpy(dtype=np.float64)
        aht = np.where(np.isnan(aht), queue.aht_s, aht)
    else:
        aht = np.full(volume.shape, float(queue.aht_s))
    bad = ~np.isfinite(aht) | (aht <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataValidationError(
            f"queue '{queue.name}' at {forecast['ds'].iloc[i]}: aht_s {aht[i]!r} is not a "
            "number > 0",
            column="aht_s",
        )
    return volume, aht


# ----------------------------------------------------------------- voice and chat


def _staff_immediate(volume, aht, queue: QueueConfig, interval_s: int, *, concurrency: int,
                     factor: float) -> dict:
    k = int(concurrency)
    session_aht = aht * (1.0 + factor * (k - 1))
    load = volume * session_aht / interval_s  # Erlangs of session slots
    req = required_agents(
        load,
        session_aht,
        queue.service_level,
        queue.answer_s,
        max_asa_s=queue.max_asa_s,
        max_occupancy=queue.max_occupancy,
        patience_s=queue.patience_s,
        max_abandon=queue.max_abandon if queue.patience_s is not None else None,
    )
    slots = req.agents_integer
    agents = -(-slots // k)  # ceil division
    cols = {
        "workload_erlangs": load / k,
        "agents_raw": req.agents_fractional / k,
        "agents_required": agents.astype(np.int64),
        "binding": req.binding,
        "backlog": np.full(load.shape, np.nan),
    }
    if k == 1:
        cols.update(service_level=req.service_level, asa_s=req.asa_s,
                    occupancy=req.occupancy, abandonment=req.abandonment)
        return cols
    staffed_slots = agents * k  # rounding agents up gives spare slots: report what they give
    if queue.patience_s is None:
        cols.update(
            service_level=erlang_c_service_level(staffed_slots, load, session_aht, queue.answer_s),
            asa_s=erlang_c_asa(staffed_slots, load, session_aht),
            occupancy=erlang_c_occupancy(staffed_slots, load),
            abandonment=np.full(load.shape, np.nan),
        )
    else:
        m = erlang_a(staffed_slots, volume / interval_s, session_aht, queue.patience_s,
                     queue.answer_s)
        cols.update(service_level=m.service_level, asa_s=m.asa_s, occupancy=m.occupancy,
                    abandonment=m.p_abandon)
    return cols


# ----------------------------------------------------------------- deferred work


def _window_kernels(window_s: float, interval_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Share of a cohort's work falling ``d`` open intervals after its own, d = 0, 1, ...

    ``uniform``: arrivals uniform over the interval, each spread over [t, t + W].
    ``point``: all arrivals at the interval start (they came while closed).
    """
    length = interval_s
    w = max(window_s, 1e-6 * length)
    d = np.arange(int(np.ceil(w / length)) + 2, dtype=np.float64)
    c, e = d * length, (d + 1.0) * length

    def ramp2(z):
        return np.maximum(z, 0.0) ** 2

    def psi(t):  # antiderivative in t of overlap([t, t + w], [c, e])
        return 0.5 * (ramp2(t + w - c) - ramp2(t + w - e) - ramp2(t - c) + ramp2(t - e))

    uniform = (psi(length) - psi(0.0)) / (length * w)
    point = np.clip(np.minimum(w, e) - np.maximum(0.0, c), 0.0, None) / w
    return uniform, point


def _staff_deferred(ds: pd.DatetimeIndex, volume, aht, queue: QueueConfig,
                    interval_s: int, initial_backlog: float = 0.0) -> dict:
    size = len(ds)
    empty = {
        "workload_erlangs": volume * aht / interval_s,
        "agents_raw": np.zeros(size),
        "agents_required": np.zeros(size, dtype=np.int64),
        "binding": np.full(size, "none", dtype=object),
        "service_level": np.ones(size),
        "asa_s": np.zeros(size),
        "occupancy": np.zeros(size),
        "abandonment": np.full(size, np.nan),
        "backlog": np.zeros(size),
    }
    if size == 0:
        return empty
    if ds.hasnans:
        raise DataValidationError(f"queue '{queue.name}': ds has missing timestamps", column="ds")
    step = pd.Timedelta(seconds=interval_s)
    start = ds.min()
    offsets = (ds - start) / step
    if not np.allclose(offsets, np.round(offsets)):
        raise DataValidationError(
            f"queue '{queue.name}': ds values are not on a {interval_s} s grid", column="ds"
        )
    pos = np.round(offsets.to_numpy(dtype=np.float64)).astype(np.int64)
    if len(np.unique(pos)) != size:
        raise DataValidationError(f"queue '{queue.name}': duplicate ds values", column="ds")
    grid = pd.date_range(start, periods=int(pos.max()) + 1, freq=step)
    g_work = np.zeros(len(grid))
    g_volume = np.zeros(len(grid))
    g_work[pos] = volume * aht
    g_volume[pos] = volume
    is_open = queue.hours.is_open(grid) if queue.hours is not None else np.ones(len(grid), bool)

    length = float(interval_s)
    open_idx = np.flatnonzero(is_open)
    n_open = open_idx.size
    # open-interval index each grid interval's arrivals belong to (closed -> next opening)
    next_open = np.searchsorted(open_idx, np.arange(len(grid)), side="left")
    uniform_work = g_work[open_idx]
    point_work = np.bincount(next_open[~is_open], weights=g_work[~is_open],
                             minlength=n_open + 1)[:n_open]
    # the backlog carried in waits at the first opening, ahead of that opening's arrivals,
    # with the table's mean handle time (one interval's may be far off)
    total = volume.sum()
    backlog_work = initial_backlog * (float(volume @ aht) / total if total > 0 else queue.aht_s)
    if next_open[0] < n_open:
        point_work[next_open[0]] += backlog_work

    # required work per open interval: each cohort's work spread over its window
    k_uniform, k_point = _window_kernels(float(queue.answer_s), length)
    needed = (np.convolve(uniform_work, k_uniform)[:n_open]
              + np.convolve(point_work, k_point)[:n_open])
    agents_raw_open = needed / length / queue.max_occupancy
    agents_open = np.ceil(agents_raw_open - 1e-9).astype(np.int64)
    agents_open = np.maximum(agents_open, 0)
    capacity = agents_open * length * queue.max_occupancy  # productive agent-seconds

    # fluid FIFO replay on the open-time axis
    backlog_end = np.empty(n_open)
    backlog_start = np.empty(n_open)
    carried = 0.0
    for m in range(n_open):  # a scan: each interval's start backlog depends on the last
        b0 = carried + point_work[m]
        backlog_start[m] = b0
        carried = max(b0 + uniform_work[m] - capacity[m], 0.0)
        backlog_end[m] = carried
    arrived_before = np.concatenate([[0.0], np.cumsum(point_work + uniform_work)[:-1]])
    a_start = arrived_before + point_work
    d_start = a_start - backlog_start
    # departure curve D(u) as exact breakpoints: interval start, kink (backlog empties), end
    net = uniform_work - capacity
    with np.errstate(divide="ignore", invalid="ignore"):
        kink = np.where(net < 0, backlog_start / -net, 1.0)
    kink = np.clip(np.nan_to_num(kink, nan=1.0), 0.0, 1.0)
    u_pts = (np.arange(n_open)[:, None] + np.stack([np.zeros(n_open), kink, np.ones(n_open)], 1))
    d_pts = np.stack([d_start, d_start + capacity * kink, a_start + uniform_work - backlog_end], 1)
    u_pts, d_pts = (u_pts * length).ravel(), np.maximum.accumulate(d_pts.ravel())
    horizon_u = n_open * length

    def departed(u):
        return np.where(u <= horizon_u, np.interp(u, u_pts, d_pts), np.nan)

    def first_time(p):
        j = np.searchsorted(d_pts, p, side="left")
        inside = j < d_pts.size
        j = np.clip(j, 1, d_pts.size - 1)
        d0, d1, u0, u1 = d_pts[j - 1], d_pts[j], u_pts[j - 1], u_pts[j]
        with np.errstate(divide="ignore", invalid="ignore"):
            u = np.where(d1 > d0, u0 + (p - d0) / (d1 - d0) * (u1 - u0), u0)
        u = np.where(p <= d_pts[0], u_pts[0], u)
        return np.where(inside, u, np.nan)

    window = float(queue.answer_s)
    tol = 1e-9 * max(1.0, float(arrived_before[-1] + point_work[-1] + uniform_work[-1]))
    f = (np.arange(_SUBPOINTS) + 0.5) / _SUBPOINTS
    # open-interval arrivals, uniform in time
    arrive_u = (np.arange(n_open)[:, None] + f[None, :]) * length
    position = a_start[:, None] + uniform_work[:, None] * f[None, :]
    deadline_d = departed(arrive_u + window)
    on_time = np.where(np.isnan(deadline_d), np.nan, deadline_d >= position - tol)
    answered_u = first_time(position)
    uniform_sl = np.where(uniform_work > 0, np.nanmean(np.where(np.isnan(on_time), 0.0, on_time),
                                                       axis=1), 1.0)
    unknown = np.isnan(on_time).any(axis=1) & (uniform_work > 0)
    uniform_sl = np.where(unknown, np.nan, uniform_sl)
    uniform_wait = np.where(uniform_work > 0, np.mean(answered_u - arrive_u, axis=1), 0.0)
    # closed-hour arrivals, a point mass at the opening
    open_u = np.arange(n_open) * length
    point_d = departed(open_u + window)
    with np.errstate(divide="ignore", invalid="ignore"):
        point_sl = np.clip((point_d - arrived_before + tol) / point_work, 0.0, 1.0)
    point_sl = np.where(point_work > 0, point_sl, 1.0)
    point_pos = arrived_before[:, None] + point_work[:, None] * f[None, :]
    point_wait = np.where(point_work > 0, np.mean(first_time(point_pos), axis=1) - open_u, 0.0)

    # per grid interval results
    g_agents = np.zeros(len(grid), dtype=np.int64)
    g_agents[open_idx] = agents_open
    g_raw = np.zeros(len(grid))
    g_raw[open_idx] = agents_raw_open
    g_sl = np.ones(len(grid))
    g_wait = np.zeros(len(grid))
    g_sl[open_idx] = uniform_sl
    g_wait[open_idx] = uniform_wait
    closed = np.flatnonzero(~is_open)
    has_next = next_open[closed] < n_open
    g_sl[closed] = np.where(has_next, point_sl[np.minimum(next_open[closed], n_open - 1)]
                            if n_open else np.nan, np.nan)
    g_wait[closed] = np.where(has_next, point_wait[np.minimum(next_open[closed], n_open - 1)]
                              if n_open else np.nan, np.nan)
    g_sl[g_work == 0] = np.where(is_open[g_work == 0], g_sl[g_work == 0], 1.0)
    g_wait[g_work == 0] = 0.0
    g_occ = np.zeros(len(grid))
    done = np.diff(np.concatenate([[0.0], d_pts[2::3]])) if n_open else np.zeros(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        g_occ[open_idx] = np.where(agents_open > 0, done / (agents_open * length), 0.0)
    # backlog in contacts at each grid interval's end (the carried-in backlog goes first)
    cum_work = backlog_work + np.cumsum(g_work)
    cum_contacts = initial_backlog + np.cumsum(g_volume)
    open_through = np.cumsum(is_open)  # open intervals up to and including this one
    departed_end = np.where(open_through > 0,
                            np.interp(open_through * length, u_pts, d_pts) if n_open else 0.0, 0.0)
    head_x, head_f = ([0.0, backlog_work], [0.0, initial_backlog]) if backlog_work > 0 else \
        ([0.0], [0.0])
    xp, fp = np.concatenate([head_x, cum_work]), np.concatenate([head_f, cum_contacts])
    backlog_contacts = cum_contacts - np.interp(np.minimum(departed_end, cum_work), xp, fp)
    binding = np.where(is_open, np.where(g_agents > 0, "response_time", "none"), "closed")

    return {
        "workload_erlangs": volume * aht / interval_s,
        "agents_raw": g_raw[pos],
        "agents_required": g_agents[pos],
        "binding": binding[pos],
        "service_level": g_sl[pos],
        "asa_s": g_wait[pos],
        "occupancy": np.clip(g_occ[pos], 0.0, 1.0),
        "abandonment": np.full(size, np.nan),
        "backlog": np.maximum(backlog_contacts[pos], 0.0),
    }
