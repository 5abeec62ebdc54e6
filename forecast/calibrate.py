"""Calibration to the centre: call records -> handle time, patience, effective staffing.

Pure estimation on the records table of :mod:`forecast.records` (no file I/O except
the explicit TOML/JSON helpers at the end). The queueing formulas come from
:mod:`forecast.queueing`.

What is estimated, per queue (or per pool of queues sharing agents):

* **Arrivals and handle time per interval** (:func:`history_table`), in the volumes
  long shape (``queue, ds, y, aht_s, abandoned``) ready for forecasting.
* **Handle time** (:func:`estimate_handle_time`): mean with a confidence interval,
  coefficient of variation and a lognormal fit (maximum likelihood on the positive
  handle times).
* **Patience** (:func:`estimate_patience`): the exponential maximum-likelihood
  estimate *total time all callers spent waiting / number of abandonments* (waits of
  answered callers are right-censored patience times), with an exact-for-type-II
  chi-square confidence interval; beside it the Kaplan-Meier estimate of the patience
  distribution (abandonment = event, answer = censoring) to show whether the
  exponential assumption of Erlang A holds.
* **Effective availability** (:func:`fit_availability`): records show which agents
  served in an interval, not how many were logged in and free to take this queue's
  calls (agents on other queues, outbound work, breaks inside the hour, idle in
  after-call states). The factor ``a`` maps the agents seen serving (or the agents
  scheduled, when given) to the number that effectively serve: Erlang A with
  ``a x agents`` servers is fitted by weighted least squares over the learning
  intervals: by default the factor to the observed service level and Erlang A's
  patience to the observed abandonment (``objective="joint"``: both to their sum).
  Its uncertainty comes from a bootstrap over days.

Conventions: the observed service level of an interval is *calls answered within
``target_s`` divided by calls offered* (abandoned calls count as offered, including
those abandoning before the target), the same convention as
:class:`forecast.queueing.ErlangAResult.service_level`. Abandonment is abandoned /
offered. Calls are assigned to the interval in which they joined the queue.
"""

from __future__ import annotations

import json
import math
import tomllib
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .config import PlanConfig
from .exceptions import ConfigError, DataValidationError, ForecastWarning
from .records import validate_call_records

__all__ = [
    "SurvivalCurve",
    "PatienceEstimate",
    "HandleTimeEstimate",
    "AvailabilityEstimate",
    "QueueCalibration",
    "Calibration",
    "kaplan_meier",
    "estimate_patience",
    "estimate_handle_time",
    "interval_table",
    "history_table",
    "predict_intervals",
    "fit_availability",
    "calibrate",
    "calibration_check",
    "check_scores",
    "plot_calibration",
    "usable_intervals",
    "apply_calibration",
    "calibration_to_toml",
    "load_calibration",
]

#: Availability factors searched by :func:`fit_availability` (step 0.0025).
AVAILABILITY_GRID = np.round(np.arange(0.05, 1.5 + 1e-9, 0.0025), 4)
SURVIVAL_POINTS_S = (10, 30, 60, 120, 300)
#: Idle time after which an agent is taken to have left (see :func:`interval_table`).
DEFAULT_SHIFT_GAP_S = 900.0
#: Patience multipliers searched first when patience is fitted jointly (0.5x to 4x in
#: steps of 2^0.25, 1 included); the search is then refined around the best of them.
PATIENCE_MULTIPLIERS = 2.0 ** np.linspace(-1.0, 2.0, 13)
PATIENCE_REFINE_POINTS = 9


# --------------------------------------------------------------------------- patience


@dataclass(frozen=True)
class SurvivalCurve:
    """A right-censored survival function estimated by Kaplan-Meier.

    Attributes
    ----------
    time_s
        Distinct event times (seconds), increasing.
    survival
        ``S(t)`` just after each event time.
    at_risk, events
        Number still waiting at each time and number abandoning at it.
    std_err
        Greenwood standard error of ``survival``.
    """

    time_s: np.ndarray
    survival: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    std_err: np.ndarray

    def at(self, t_s: float | np.ndarray) -> np.ndarray:
        """``S(t)``: the step function evaluated at ``t_s`` (1 before the first event)."""
        idx = np.searchsorted(self.time_s, np.asarray(t_s, dtype=float), side="right") - 1
        padded = np.concatenate([[1.0], self.survival])
        return padded[idx + 1]

    def median_s(self) -> float:
        """First time at which ``S(t) <= 0.5``; NaN when the curve never gets there."""
        below = np.flatnonzero(self.survival <= 0.5)
        return float(self.time_s[below[0]]) if below.size else math.nan


def kaplan_meier(duration_s: np.ndarray, observed: np.ndarray) -> SurvivalCurve:
    """Kaplan-Meier estimate of a survival function from right-censored durations.

    Parameters
    ----------
    duration_s
        Observed durations (here: time waited in queue).
    observed
        True where the duration ends in the event (here: abandonment), False where
        it is censored (answered before the caller's patience ran out).

    Notes
    -----
    Kaplan, E. L. and Meier, P. (1958), "Nonparametric estimation from incomplete
    observations", JASA 53(282). Variance by Greenwood's formula. Ties: events at a
    time happen before censorings at the same time (the usual convention).
    """
    t = np.asarray(duration_s, dtype=float)
    e = np.asarray(observed, dtype=bool)
    if t.shape != e.shape:
        raise ValueError("duration_s and observed must have the same shape")
    if t.size and (not np.all(np.isfinite(t)) or t.min() < 0):
        raise ValueError("durations must be finite and >= 0")
    times, inverse = np.unique(t, return_inverse=True)
    total = np.bincount(inverse, minlength=times.size)
    events = np.bincount(inverse, weights=e, minlength=times.size).astype(np.int64)
    at_risk = t.size - np.concatenate([[0], np.cumsum(total)[:-1]])
    keep = events > 0
    times, events, at_risk = times[keep], events[keep], at_risk[keep]
    factor = 1.0 - events / at_risk
    survival = np.cumprod(factor)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = events / (at_risk * (at_risk - events))
        greenwood = np.cumsum(np.where(at_risk > events, terms, np.inf))
        std_err = survival * np.sqrt(greenwood)
    std_err = np.where(np.isfinite(std_err), std_err, 0.0)
    return SurvivalCurve(times, survival, at_risk.astype(np.int64), events, std_err)


@dataclass(frozen=True)
class PatienceEstimate:
    """Callers' patience (time they are willing to wait before hanging up).

    Attributes
    ----------
    mean_s, low_s, high_s
        Exponential MLE of the mean patience and its confidence interval
        (``inf``/NaN when nobody abandoned).
    confidence
        Level of the interval.
    abandoned, calls
        Abandonments and calls used.
    total_wait_s
        Total time all these callers waited.
    km_median_s
        Kaplan-Meier median patience (NaN when fewer than half would ever abandon
        within the waits observed).
    km_survival
        Kaplan-Meier ``P(patience > t)`` at ``t`` in :data:`SURVIVAL_POINTS_S`
        (keys are seconds as strings, for JSON/TOML).
    exponential_survival
        The same probabilities under the exponential fit, for comparison.
    max_gap
        Largest absolute difference between the two curves over the event times with
        at least 30 callers at risk: a check of Erlang A's exponential assumption.
    """

    mean_s: float
    low_s: float
    high_s: float
    confidence: float
    abandoned: int
    calls: int
    total_wait_s: float
    km_median_s: float
    km_survival: dict[str, float]
    exponential_survival: dict[str, float]
    max_gap: float


def estimate_patience(
    wait_s: np.ndarray, abandoned: np.ndarray, *, confidence: float = 0.95
) -> PatienceEstimate:
    """Estimate mean patience from waits, treating answered waits as censored.

    Parameters
    ----------
    wait_s
        Time each caller waited in queue (to answer or to hang-up), seconds.
    abandoned
        True for callers who hung up.
    confidence
        Level of the interval on the mean.

    Notes
    -----
    With exponential patience of mean ``theta``, the likelihood of waits ``w_i`` with
    ``k`` abandonments is ``theta^-k exp(-sum w_i / theta)``, maximised at
    ``theta = sum w_i / k`` (the standard call-centre estimator; Brown et al. (2005),
    "Statistical analysis of a telephone call center", JASA 100(469)). The interval
    uses ``2 sum w_i / theta ~ chi2(2k)``, exact under type-II censoring and a close
    approximation here.
    """
    w = np.asarray(wait_s, dtype=float)
    a = np.asarray(abandoned, dtype=bool)
    if w.shape != a.shape:
        raise ValueError("wait_s and abandoned must have the same shape")
    k = int(a.sum())
    total = float(w.sum())
    if k == 0:
        mean = low = high = math.inf
        if w.size == 0:
            mean = low = high = math.nan
    else:
        mean = total / k
        alpha = 1.0 - confidence
        low = 2.0 * total / stats.chi2.ppf(1.0 - alpha / 2.0, 2 * k)
        high = 2.0 * total / stats.chi2.ppf(alpha / 2.0, 2 * k)
    curve = kaplan_meier(w, a)
    points = np.array(SURVIVAL_POINTS_S, dtype=float)
    km = curve.at(points)
    usable = math.isfinite(mean) and mean > 0
    expo = np.exp(-points / mean) if usable else np.full_like(points, 0.0 if mean == 0 else 1.0)
    informative = curve.at_risk >= 30
    if usable and informative.any():
        gap = float(
            np.max(np.abs(curve.survival[informative] - np.exp(-curve.time_s[informative] / mean)))
        )
    else:
        gap = math.nan
    return PatienceEstimate(
        mean_s=float(mean),
        low_s=float(low),
        high_s=float(high),
        confidence=confidence,
        abandoned=k,
        calls=int(w.size),
        total_wait_s=total,
        km_median_s=curve.median_s(),
        km_survival={f"{p:g}": float(s) for p, s in zip(points, km, strict=True)},
        exponential_survival={f"{p:g}": float(s) for p, s in zip(points, expo, strict=True)},
        max_gap=gap,
    )


# --------------------------------------------------------------------------- handle time


@dataclass(frozen=True)
class HandleTimeEstimate:
    """Distribution of handle time (talk + wrap) of answered calls.

    Attributes
    ----------
    mean_s, low_s, high_s
        Sample mean and its normal-approximation confidence interval.
    cv
        Coefficient of variation (standard deviation / mean); 1 for exponential.
    median_s
        Sample median.
    lognormal_mu, lognormal_sigma
        Maximum-likelihood lognormal fit to the positive handle times
        (``log(handle_s) ~ Normal(mu, sigma)``).
    calls
        Answered calls used; ``zero_share`` of them had a handle time of 0 s (left
        out of the lognormal fit, kept in the mean).
    """

    mean_s: float
    low_s: float
    high_s: float
    cv: float
    median_s: float
    lognormal_mu: float
    lognormal_sigma: float
    calls: int
    zero_share: float

    @property
    def lognormal_mean_s(self) -> float:
        return float(math.exp(self.lognormal_mu + self.lognormal_sigma**2 / 2))


def estimate_handle_time(handle_s: np.ndarray, *, confidence: float = 0.95) -> HandleTimeEstimate:
    """Mean, spread and lognormal fit of handle times (NaNs ignored)."""
    h = np.asarray(handle_s, dtype=float)
    h = h[np.isfinite(h)]
    if h.size == 0:
        nan = math.nan
        return HandleTimeEstimate(nan, nan, nan, nan, nan, nan, nan, 0, nan)
    if h.min() < 0:
        raise ValueError("handle times must be >= 0")
    mean = float(h.mean())
    sd = float(h.std(ddof=1)) if h.size > 1 else 0.0
    half = float(stats.norm.ppf(0.5 + confidence / 2.0)) * sd / math.sqrt(h.size)
    positive = h[h > 0]
    logs = np.log(positive)
    return HandleTimeEstimate(
        mean_s=mean,
        low_s=mean - half,
        high_s=mean + half,
        cv=sd / mean if mean > 0 else math.nan,
        median_s=float(np.median(h)),
        lognormal_mu=float(logs.mean()) if logs.size else math.nan,
        lognormal_sigma=float(logs.std(ddof=0)) if logs.size else math.nan,
        calls=int(h.size),
        zero_share=float(1.0 - positive.size / h.size),
    )


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


# --------------------------------------------------------------------------- model predictions


def _metric_table(
    rate_per_s: np.ndarray,
    aht_s: np.ndarray,
    patience_s: np.ndarray | None,
    target_s: float,
    max_servers: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Service level and abandonment of each interval for 0..max_servers servers.

    Returns two arrays of shape ``(intervals, max_servers + 1)``. With 0 servers
    nobody is answered (service level 0, every caller abandons under Erlang A).
    """
    from .queueing import erlang_a, service_level  # noqa: PLC0415

    h = rate_per_s.size
    k = np.arange(1, max_servers + 1, dtype=float)
    kk = np.broadcast_to(k, (h, k.size)).ravel()
    lam = np.repeat(rate_per_s, k.size)
    aht = np.repeat(aht_s, k.size)
    if patience_s is None:
        load = lam * aht
        sl = np.where(kk > load, np.asarray(service_level(kk, load, aht, target_s), float), 0.0)
        ab = np.zeros_like(sl)
    else:
        theta = np.repeat(np.broadcast_to(np.asarray(patience_s, float), rate_per_s.shape), k.size)
        result = erlang_a(kk, lam, aht, theta, target_s)
        sl = np.asarray(result.service_level, float)
        ab = np.asarray(result.p_abandon, float)
    sl = np.clip(sl.reshape(h, k.size), 0.0, 1.0)
    ab = np.clip(ab.reshape(h, k.size), 0.0, 1.0)
    zero_sl = np.zeros((h, 1))
    zero_ab = np.full((h, 1), 0.0 if patience_s is None else 1.0)
    return np.hstack([zero_sl, sl]), np.hstack([zero_ab, ab])


def _interpolate(table: np.ndarray, servers: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``table[h, k]`` at fractional ``servers`` (..., h)."""
    servers = np.clip(servers, 0.0, table.shape[1] - 1.0)
    low = np.minimum(np.floor(servers).astype(np.int64), table.shape[1] - 2)
    frac = servers - low
    rows = np.arange(table.shape[0])
    return table[rows, low] + frac * (table[rows, low + 1] - table[rows, low])


def predict_intervals(
    intervals: pd.DataFrame,
    *,
    patience_s: float | np.ndarray | None,
    availability: float = 1.0,
    target_s: float = 20.0,
    interval_s: int = 3600,
    agents: str | np.ndarray = "agents_seen",
) -> pd.DataFrame:
    """Predicted service level and abandonment of each interval from its staffing.

    Parameters
    ----------
    intervals
        A table with ``offered`` (calls in the interval), ``aht_s`` and the agents
        column, such as :func:`interval_table` returns.
    patience_s
        Mean patience (scalar or one per interval): Erlang A. ``None``: Erlang C
        (callers never abandon).
    availability
        Effective servers = ``availability x agents``. Fractional servers are handled
        by linear interpolation between the neighbouring whole numbers.
    target_s, interval_s
        Answer-time target; interval length (arrival rate = offered / interval_s).
    agents
        Column name (or array) holding the agents per interval.

    Returns
    -------
    DataFrame
        ``servers, service_level_pred, abandonment_pred`` on the index of
        ``intervals``; NaN where the interval has no call, no handle time or no agent.
        ``service_level_pred`` is answered within target over offered (the observed
        convention; for Erlang C, P(wait <= target)).
    """
    servers = availability * np.asarray(
        intervals[agents] if isinstance(agents, str) else agents, dtype=float
    )
    rate = intervals["offered"].to_numpy(dtype=float) / interval_s
    aht = intervals["aht_s"].to_numpy(dtype=float)
    ok = np.isfinite(servers) & (servers >= 0) & np.isfinite(aht) & (aht > 0) & (rate > 0)
    sl = np.full(len(intervals), np.nan)
    ab = np.full(len(intervals), np.nan)
    if ok.any():
        theta = None
        if patience_s is not None:
            theta = np.broadcast_to(np.asarray(patience_s, float), servers.shape)[ok]
        max_servers = int(np.ceil(servers[ok].max())) + 1
        sl_table, ab_table = _metric_table(rate[ok], aht[ok], theta, target_s, max_servers)
        sl[ok] = _interpolate(sl_table, servers[ok])
        ab[ok] = _interpolate(ab_table, servers[ok])
    return pd.DataFrame(
        {"servers": servers, "service_level_pred": sl, "abandonment_pred": ab},
        index=intervals.index,
    )


# --------------------------------------------------------------------------- availability


@dataclass(frozen=True)
class AvailabilityEstimate:
    """Effective availability: servers in the model = ``factor x agents``.

    Attributes
    ----------
    factor, low, high, confidence
        Least-squares estimate and its bootstrap interval (days resampled).
    patience_s, patience_low_s, patience_high_s
        The Erlang A patience used with the factor and its bootstrap interval. When
        ``patience_fitted`` it is fitted jointly with the factor (callers' patience is
        not exponential, so the Erlang A parameter that reproduces the centre differs
        from the measured mean); otherwise it is the measured patience, fixed.
    basis
        What ``agents`` counted: ``agents_on_shift``, ``agents_seen`` or a supplied
        staffing column (``agents``).
    intervals, calls, days
        Learning data used (intervals with at least ``min_calls`` offered calls).
    at_bound
        True when the estimate sits on the edge of the searched range.
    utilisation_seen
        Busy time of the agents over their counted time in the learning intervals
        (pooled): how much of the counted capacity served calls.
    sl_mae_before, sl_mae_after, abandon_mae_before, abandon_mae_after
        Mean absolute error over the learning intervals of Erlang A with the agents as
        counted and the measured patience (before), and with the fitted factor and
        patience (after).
    sl_bias_after, abandon_bias_after
        Mean (predicted - observed) after calibration.
    objective
        ``"separate"``: the factor minimises the service-level loss and the patience the
        abandonment loss; ``"joint"``: both minimise their sum (calibrations written
        before the choice existed were joint).
    """

    factor: float
    low: float
    high: float
    confidence: float
    patience_s: float
    patience_low_s: float
    patience_high_s: float
    patience_fitted: bool
    basis: str
    intervals: int
    calls: int
    days: int
    at_bound: bool
    utilisation_seen: float
    sl_mae_before: float
    sl_mae_after: float
    abandon_mae_before: float
    abandon_mae_after: float
    sl_bias_after: float
    abandon_bias_after: float
    objective: str = "joint"


def usable_intervals(
    intervals: pd.DataFrame, *, min_calls: int = 20, agents: str = "agents_on_shift"
) -> pd.DataFrame:
    """The intervals a fit or check can use: enough calls, a handle time, agents."""
    keep = (
        (intervals["offered"] >= min_calls)
        & (intervals[agents] > 0)
        & intervals["aht_s"].gt(0)
        & intervals["service_level"].notna()
    )
    return intervals.loc[keep.to_numpy(dtype=bool)]


def fit_availability(
    intervals: pd.DataFrame,
    *,
    patience_s: float,
    fit_patience: bool = False,
    target_s: float = 20.0,
    interval_s: int = 3600,
    agents: str = "agents_on_shift",
    min_calls: int = 20,
    abandon_weight: float = 1.0,
    objective: str = "separate",
    bootstrap: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
    grid: np.ndarray = AVAILABILITY_GRID,
    patience_multipliers: np.ndarray = PATIENCE_MULTIPLIERS,
) -> AvailabilityEstimate:
    """Fit the factor (and optionally the patience) that make Erlang A reproduce the
    observed intervals.

    Minimises, over ``factor`` on ``grid`` (and, when ``fit_patience``, patience
    ``m x patience_s`` for ``m`` in ``patience_multipliers`` and then on a finer geometric
    grid between the neighbours of the best ``m``),
    ``sum_h n_h [(SL_h - SL_obs_h)^2 + abandon_weight (Ab_h - Ab_obs_h)^2]``
    where ``n_h`` is the number of calls offered in interval ``h`` (the observed
    proportions have variance about ``p(1-p)/n_h``), ``SL_h`` and ``Ab_h`` are Erlang
    A's service level and abandonment with ``factor x agents_h`` servers, the
    interval's arrival rate and mean handle time, and the patience. That is
    ``objective="joint"``. The default, ``objective="separate"``, gives each parameter
    the metric it governs: for each patience the factor minimises the service-level
    term alone, and the patience is the one whose (patience, factor) pair minimises the
    abandonment term alone (``abandon_weight`` then plays no part). Callers' patience is
    not exponential, so no (factor, patience) pair of Erlang A reproduces both metrics
    exactly; the joint sum trades abandonment for service level (on the Technion bank's
    learning weeks it over-predicted abandonment), while the separate fit keeps the
    factor that reproduces the speed of answer and the patience that reproduces the
    hang-ups. With ``fit_patience=False`` only the factor is fitted (to service level
    when separate).

    The intervals come from a bootstrap that resamples whole days (hours of one day
    share staffing and callers, so they are not independent) and refits.

    Raises
    ------
    DataValidationError
        When no interval has ``min_calls`` calls and agents.
    """
    use = usable_intervals(intervals, min_calls=min_calls, agents=agents)
    if use.empty:
        raise DataValidationError(
            f"no interval with at least {min_calls} calls and an agent seen serving: "
            "too little data to fit the availability factor"
        )
    if not (math.isfinite(patience_s) and patience_s > 0):
        raise ValueError(f"patience_s must be finite and > 0, got {patience_s!r}")
    if objective not in ("separate", "joint"):
        raise ValueError(f"objective must be 'separate' or 'joint', got {objective!r}")
    separate = objective == "separate"
    n = use["offered"].to_numpy(dtype=float)
    staff = use[agents].to_numpy(dtype=float)
    rate = n / interval_s
    aht = use["aht_s"].to_numpy(dtype=float)
    sl_obs = use["service_level"].to_numpy(dtype=float)
    ab_obs = use["abandonment"].to_numpy(dtype=float)
    grid = np.asarray(grid, dtype=float)
    multipliers = np.asarray(patience_multipliers, float) if fit_patience else np.array([1.0])

    days, day_index = np.unique(use["ds"].dt.normalize().to_numpy(), return_inverse=True)
    one_hot = np.zeros((n.size, days.size))
    one_hot[np.arange(n.size), day_index] = 1.0
    max_servers = int(np.ceil(grid.max() * staff.max())) + 1
    # where each (factor, interval) falls in the servers table: shared by every patience
    servers = np.clip(grid[:, None] * staff[None, :], 0.0, max_servers)  # (grid, intervals)
    low = np.minimum(np.floor(servers).astype(np.int64), max_servers - 1)
    frac = servers - low
    at_low = low + np.arange(n.size) * (max_servers + 1)

    def evaluate(theta: float):
        sl_table, ab_table = _metric_table(rate, aht, np.full(n.size, theta), target_s, max_servers)
        sl_flat, ab_flat = sl_table.ravel(), ab_table.ravel()
        sl_lo, ab_lo = sl_flat[at_low], ab_flat[at_low]
        sl_pred = sl_lo + frac * (sl_flat[at_low + 1] - sl_lo)
        ab_pred = ab_lo + frac * (ab_flat[at_low + 1] - ab_lo)
        sl_loss = (n * (sl_pred - sl_obs) ** 2) @ one_hot  # (grid, days)
        ab_loss = (n * (ab_pred - ab_obs) ** 2) @ one_hot
        return (sl_loss, ab_loss), (sl_table, ab_table)

    def choose(sl_loss: np.ndarray, ab_loss: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Best (patience, factor) indices from summed losses shaped (..., patience, grid)."""
        if separate:
            g = np.argmin(sl_loss, axis=-1)  # best factor for each patience
            ab_at = np.take_along_axis(ab_loss, g[..., None], axis=-1)[..., 0]
            p = np.argmin(ab_at, axis=-1)
            return p, np.take_along_axis(g, np.asarray(p)[..., None], axis=-1)[..., 0]
        total = (sl_loss + abandon_weight * ab_loss).reshape(*sl_loss.shape[:-2], -1)
        return np.divmod(np.argmin(total, axis=-1), grid.size)

    results = {float(m): evaluate(patience_s * m) for m in multipliers}
    if fit_patience and len(multipliers) > 1:
        # refine around the best coarse multiplier (one coarse step either side)
        coarse = np.sort(multipliers)
        b = int(
            choose(
                np.stack([results[float(m)][0][0].sum(axis=1) for m in coarse]),
                np.stack([results[float(m)][0][1].sum(axis=1) for m in coarse]),
            )[0]
        )
        lo, hi = coarse[max(b - 1, 0)], coarse[min(b + 1, coarse.size - 1)]
        for m in np.geomspace(lo, hi, PATIENCE_REFINE_POINTS):
            if not np.isclose(m, list(results), rtol=1e-9).any():
                results[float(m)] = evaluate(patience_s * m)
    keys = sorted(results)
    patiences = patience_s * np.array(keys)
    sl_day = np.stack([results[k][0][0] for k in keys])  # (patience, grid, days)
    ab_day = np.stack([results[k][0][1] for k in keys])
    tables = [results[k][1] for k in keys]
    best_p, best_g = (int(i) for i in choose(sl_day.sum(axis=2), ab_day.sum(axis=2)))

    boot_p = np.array([best_p])
    boot_g = np.array([best_g])
    if bootstrap:
        rng = np.random.default_rng(seed)
        draws = rng.integers(0, days.size, size=(bootstrap, days.size))
        counts = np.zeros((bootstrap, days.size))
        np.add.at(counts, (np.repeat(np.arange(bootstrap), days.size), draws.ravel()), 1.0)
        shape = (bootstrap, len(keys), grid.size)
        boot_p, boot_g = choose(
            (counts @ sl_day.reshape(-1, days.size).T).reshape(shape),
            (counts @ ab_day.reshape(-1, days.size).T).reshape(shape),
        )
    alpha = 1.0 - confidence

    def interval_of(values: np.ndarray) -> tuple[float, float]:
        return (float(np.quantile(values, alpha / 2)), float(np.quantile(values, 1 - alpha / 2)))

    busy = use["agent_busy_s"].to_numpy(dtype=float).sum() if "agent_busy_s" in use else np.nan
    util = busy / (staff.sum() * interval_s)
    base = tables[int(np.argmin(np.abs(patiences - patience_s)))]
    fitted = tables[best_p]
    sl_after = _interpolate(fitted[0], grid[best_g] * staff)
    ab_after = _interpolate(fitted[1], grid[best_g] * staff)
    low, high = interval_of(grid[boot_g])
    p_low, p_high = interval_of(patiences[boot_p])
    return AvailabilityEstimate(
        factor=float(grid[best_g]),
        low=low,
        high=high,
        confidence=confidence,
        patience_s=float(patiences[best_p]),
        patience_low_s=p_low,
        patience_high_s=p_high,
        patience_fitted=bool(fit_patience),
        basis=agents,
        intervals=int(len(use)),
        calls=int(n.sum()),
        days=int(days.size),
        at_bound=best_g in (0, grid.size - 1)
        or (fit_patience and best_p in (0, patiences.size - 1)),
        utilisation_seen=float(util),
        sl_mae_before=float(np.mean(np.abs(_interpolate(base[0], staff) - sl_obs))),
        sl_mae_after=float(np.mean(np.abs(sl_after - sl_obs))),
        abandon_mae_before=float(np.mean(np.abs(_interpolate(base[1], staff) - ab_obs))),
        abandon_mae_after=float(np.mean(np.abs(ab_after - ab_obs))),
        sl_bias_after=float(np.mean(sl_after - sl_obs)),
        abandon_bias_after=float(np.mean(ab_after - ab_obs)),
        objective=objective,
    )


# --------------------------------------------------------------------------- calibration


@dataclass(frozen=True)
class QueueCalibration:
    """Everything learned for one queue (or pool of queues)."""

    queue: str
    calls: int
    answered: int
    abandoned: int
    handle_time: HandleTimeEstimate
    patience: PatienceEstimate
    availability: AvailabilityEstimate | None

    def config_values(self) -> dict[str, float]:
        """The values to set in the plan config's queue section.

        ``patience_s`` is the patience Erlang A needs (fitted with the factor when it
        was, else the measured mean) and is left out when nobody abandoned (Erlang C
        is then the right model); ``availability`` is capped at 1 (the config's range).
        """
        values: dict[str, float] = {}
        if math.isfinite(self.handle_time.mean_s) and self.handle_time.mean_s > 0:
            values["aht_s"] = round(self.handle_time.mean_s, 1)
        if self.availability is not None:
            values["patience_s"] = round(self.availability.patience_s, 1)
        elif math.isfinite(self.patience.mean_s) and self.patience.mean_s > 0:
            values["patience_s"] = round(self.patience.mean_s, 1)
        if self.availability is not None:
            values["availability"] = round(min(self.availability.factor, 1.0), 4)
        return values


@dataclass(frozen=True)
class Calibration:
    """Parameters learned from call records, their uncertainty and the period.

    Attributes
    ----------
    queues
        Queue name -> :class:`QueueCalibration`.
    interval_s, target_s, min_calls
        Interval length, answer-time target and the minimum calls for an interval to
        enter the availability fit.
    train_start, train_end
        The learning period, ``[train_start, train_end)`` as ISO date-times.
    pool
        Name of the pool when queues were merged, else None.
    records, dropped
        Calls used and the rows the reader set aside by rule.
    basis, shift_gap_s, fit_patience
        Which agent count the availability factor maps (``agents_on_shift``,
        ``agents_seen`` or supplied ``agents``), the presence gap, and whether Erlang
        A's patience was fitted with the factor.
    """

    queues: dict[str, QueueCalibration]
    interval_s: int
    target_s: float
    min_calls: int
    train_start: str
    train_end: str
    pool: str | None = None
    records: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    basis: str = "agents_on_shift"
    shift_gap_s: float = DEFAULT_SHIFT_GAP_S
    fit_patience: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Nested plain dictionaries (JSON/TOML-ready)."""
        head = {k: v for k, v in asdict(self).items() if k != "queues"}
        if head["pool"] is None:
            head.pop("pool")
        return {
            "calibration": head,
            "queues": {name: q.config_values() for name, q in self.queues.items()},
            "fit": {name: _fit_dict(q) for name, q in self.queues.items()},
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Calibration:
        """Rebuild from :meth:`to_dict` output (or a params.toml read back)."""
        try:
            head = dict(raw["calibration"])
            queues = {}
            for name, fit in raw.get("fit", {}).items():
                avail = fit.get("availability")
                queues[name] = QueueCalibration(
                    queue=name,
                    calls=int(fit["calls"]),
                    answered=int(fit["answered"]),
                    abandoned=int(fit["abandoned"]),
                    handle_time=HandleTimeEstimate(**fit["handle_time"]),
                    patience=PatienceEstimate(**fit["patience"]),
                    availability=AvailabilityEstimate(**avail) if avail else None,
                )
            return cls(
                queues=queues,
                interval_s=int(head["interval_s"]),
                target_s=float(head["target_s"]),
                min_calls=int(head["min_calls"]),
                train_start=str(head["train_start"]),
                train_end=str(head["train_end"]),
                pool=head.get("pool"),
                records=int(head.get("records", 0)),
                dropped=dict(head.get("dropped", {})),
                basis=str(head.get("basis", "agents_on_shift")),
                shift_gap_s=float(head.get("shift_gap_s", DEFAULT_SHIFT_GAP_S)),
                fit_patience=bool(head.get("fit_patience", True)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"not a calibration written by forecast ({exc!r})") from None

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False, allow_nan=True) + "\n"


def _fit_dict(q: QueueCalibration) -> dict[str, Any]:
    out: dict[str, Any] = {
        "calls": q.calls,
        "answered": q.answered,
        "abandoned": q.abandoned,
        "handle_time": asdict(q.handle_time),
        "patience": asdict(q.patience),
    }
    if q.availability is not None:
        out["availability"] = asdict(q.availability)
    return out


def _train_bounds(records: pd.DataFrame, train: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
    first = records["arrival"].min().floor("D")
    last = records["arrival"].max().floor("D") + pd.Timedelta(days=1)
    if train is None:
        return first, last
    if isinstance(train, slice):
        start, end = train.start, train.stop
    else:
        start, end = train
    start = first if start is None else pd.Timestamp(start)
    end = last if end is None else pd.Timestamp(end)
    if not start < end:
        raise DataValidationError(f"empty learning period [{start}, {end})")
    return start, end


def calibrate(
    records: pd.DataFrame,
    *,
    interval_s: int = 3600,
    target_s: float = 20.0,
    train: slice | tuple[Any, Any] | None = None,
    pool: str | None = None,
    staffing: pd.DataFrame | None = None,
    basis: str = "on_shift",
    shift_gap_s: float = DEFAULT_SHIFT_GAP_S,
    fit_patience: bool = True,
    objective: str = "separate",
    min_calls: int = 20,
    min_intervals: int = 24,
    bootstrap: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
) -> Calibration:
    """Learn handle time, patience and effective availability per queue.

    Parameters
    ----------
    records
        The records table (:func:`forecast.records.read_call_records`).
    interval_s, target_s
        Interval for arrival rates and staffing; answer-time target of the service
        level.
    train
        Learning period: ``slice(start, end)`` or ``(start, end)`` on arrival times,
        start inclusive, end exclusive (``None`` ends are open). Default: all records.
    pool
        Merge all queues into one of this name (for centres whose agents serve every
        queue from one pool).
    staffing
        Optional agents per interval (``queue, ds, agents``): scheduled or logged-in
        heads. When given, the factor maps these instead of agents read from records.
    basis
        Without ``staffing``, which agents the factor maps: ``"on_shift"`` (presence
        estimated from service spells, see :func:`interval_table`) or ``"seen"``
        (distinct agents who served in the interval).
    shift_gap_s
        Idle gap that ends an agent's presence span (``basis="on_shift"``).
    fit_patience
        Fit Erlang A's patience jointly with the factor (the measured exponential
        estimate is kept beside it); False keeps the measured patience in the model.
    objective
        ``"separate"`` (factor fitted to service level, patience to abandonment) or
        ``"joint"`` (both to their sum); see :func:`fit_availability`.
    min_calls
        Intervals with fewer offered calls do not enter the availability fit.
    min_intervals
        A queue needs at least this many such intervals for an availability fit
        (fewer cannot tell the factor from the patience); otherwise its
        ``availability`` is None and only handle time and patience are learned.
    bootstrap, confidence, seed
        Bootstrap replicates (over days) and level of the intervals; the seed makes
        the result reproducible.

    Returns
    -------
    Calibration
    """
    validate_call_records(records)
    if records.empty:
        raise DataValidationError("no call records to calibrate on")
    start, end = _train_bounds(records, train)
    in_train = ((records["arrival"] >= start) & (records["arrival"] < end)).to_numpy(dtype=bool)
    learn = _pooled(records.loc[in_train], pool)
    if learn.empty:
        raise DataValidationError(f"no call records in the learning period [{start}, {end})")
    intervals = interval_table(
        learn, interval_s=interval_s, target_s=target_s, shift_gap_s=shift_gap_s
    )
    agents = _basis_column(basis, staffing)
    if staffing is not None:
        intervals = _join_staffing(intervals, staffing)

    queues: dict[str, QueueCalibration] = {}
    for name, calls in learn.groupby(learn["queue"].astype(str), sort=True):
        answered = (calls["outcome"] == "answered").to_numpy(dtype=bool)
        patience = estimate_patience(
            calls["wait_s"].to_numpy(float), ~answered, confidence=confidence
        )
        handle = estimate_handle_time(
            calls["handle_s"].to_numpy(float)[answered], confidence=confidence
        )
        own = intervals[intervals["queue"] == name]
        availability = None
        if (
            0 < patience.mean_s < math.inf
            and len(usable_intervals(own, min_calls=min_calls, agents=agents)) >= min_intervals
        ):
            availability = fit_availability(
                own,
                patience_s=patience.mean_s,
                fit_patience=fit_patience,
                objective=objective,
                target_s=target_s,
                interval_s=interval_s,
                agents=agents,
                min_calls=min_calls,
                bootstrap=bootstrap,
                confidence=confidence,
                seed=seed,
            )
        queues[str(name)] = QueueCalibration(
            queue=str(name),
            calls=int(len(calls)),
            answered=int(answered.sum()),
            abandoned=int((~answered).sum()),
            handle_time=handle,
            patience=patience,
            availability=availability,
        )
    return Calibration(
        queues=queues,
        interval_s=int(interval_s),
        target_s=float(target_s),
        min_calls=int(min_calls),
        train_start=start.isoformat(),
        train_end=end.isoformat(),
        pool=pool,
        records=int(len(learn)),
        dropped=dict(records.attrs.get("dropped", {})),
        basis=agents,
        shift_gap_s=float(shift_gap_s),
        fit_patience=bool(fit_patience),
    )


_RECORD_BASES = ("agents_on_shift", "agents_seen")


def _basis_column(basis: str, staffing: pd.DataFrame | None) -> str:
    if staffing is not None:
        return "agents"
    columns = {
        "on_shift": "agents_on_shift",
        "seen": "agents_seen",
        "agents_on_shift": "agents_on_shift",
        "agents_seen": "agents_seen",
    }
    if basis not in columns:
        raise ValueError(f"basis must be 'on_shift' or 'seen', got {basis!r}")
    return columns[basis]


def _join_staffing(intervals: pd.DataFrame, staffing: pd.DataFrame) -> pd.DataFrame:
    missing = {"queue", "ds", "agents"} - set(staffing.columns)
    if missing:
        raise DataValidationError(
            f"staffing table lacks column(s) {', '.join(sorted(missing))}; "
            "expected queue, ds, agents"
        )
    table = staffing[["queue", "ds", "agents"]].astype({"queue": str})
    table["ds"] = pd.to_datetime(table["ds"]).astype(intervals["ds"].dtype)
    return intervals.merge(table, on=["queue", "ds"], how="left").fillna({"agents": 0.0})


# --------------------------------------------------------------------------- checking


def calibration_check(
    records: pd.DataFrame,
    calibration: Calibration,
    *,
    staffing: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Predicted beside observed service level and abandonment, per interval.

    Every interval of ``records`` with at least ``calibration.min_calls`` calls and an
    agent is predicted from its own arrivals, mean handle time and agents (seen
    serving, or ``staffing``), with the calibrated patience:

    * ``sl_erlang_c``: Erlang C with the agents as a planner would count them
      (no abandonment): the distinct agents seen serving in the interval, or the
      staffing table when the calibration used one;
    * ``sl_before`` / ``ab_before``: Erlang A with those agents and the measured
      (exponential MLE) patience;
    * ``sl_after`` / ``ab_after``: Erlang A with ``availability x agents`` on the
      calibration's basis (agents on shift by default) and the calibrated patience.

    ``learning`` is True for intervals inside the calibration's learning period, so
    the rest are held out.
    """
    pool = calibration.pool
    intervals = interval_table(
        records,
        interval_s=calibration.interval_s,
        target_s=calibration.target_s,
        pool=pool,
        shift_gap_s=calibration.shift_gap_s,
    )
    agents = calibration.basis
    if staffing is not None:
        intervals = _join_staffing(intervals, staffing)
    elif agents not in intervals:
        raise DataValidationError(
            f"the calibration maps a staffing table ('{agents}'); pass staffing= to check it"
        )
    parts = []
    for name, q in calibration.queues.items():
        own = usable_intervals(
            intervals[intervals["queue"] == name], min_calls=calibration.min_calls, agents=agents
        )
        if own.empty:
            continue
        measured = q.patience.mean_s if math.isfinite(q.patience.mean_s) else None
        factor, fitted = 1.0, measured
        if q.availability is not None:
            factor, fitted = q.availability.factor, q.availability.patience_s
        kw = {
            "target_s": calibration.target_s,
            "interval_s": calibration.interval_s,
            "agents": agents,
        }
        naive = {**kw, "agents": "agents_seen" if agents in _RECORD_BASES else agents}
        c = predict_intervals(own, patience_s=None, **naive)
        before = predict_intervals(own, patience_s=measured, **naive)
        after = predict_intervals(own, patience_s=fitted, availability=factor, **kw)
        parts.append(
            pd.DataFrame(
                {
                    "queue": name,
                    "ds": own["ds"].to_numpy(),
                    "offered": own["offered"].to_numpy(),
                    "agents_seen": own["agents_seen"].to_numpy(),
                    "agents": own[agents].to_numpy(),
                    "servers": after["servers"].to_numpy(),
                    "sl_observed": own["service_level"].to_numpy(),
                    "ab_observed": own["abandonment"].to_numpy(),
                    "sl_erlang_c": c["service_level_pred"].to_numpy(),
                    "sl_before": before["service_level_pred"].to_numpy(),
                    "ab_before": before["abandonment_pred"].to_numpy(),
                    "sl_after": after["service_level_pred"].to_numpy(),
                    "ab_after": after["abandonment_pred"].to_numpy(),
                }
            )
        )
    if not parts:
        raise DataValidationError(
            f"no interval with at least {calibration.min_calls} calls of a calibrated queue"
        )
    out = pd.concat(parts, ignore_index=True)
    start = pd.Timestamp(calibration.train_start)
    end = pd.Timestamp(calibration.train_end)
    out["learning"] = ((out["ds"] >= start) & (out["ds"] < end)).to_numpy(dtype=bool)
    return out


def check_scores(check: pd.DataFrame) -> pd.DataFrame:
    """Mean absolute error and bias (predicted - observed) of each model, per queue and
    split (``learning`` / ``held_out``), from :func:`calibration_check`."""
    models = [
        ("Erlang C", "sl_erlang_c", None),
        ("Erlang A", "sl_before", "ab_before"),
        ("Erlang A calibrated", "sl_after", "ab_after"),
    ]
    rows = []
    split = np.where(check["learning"], "learning", "held_out")
    for (queue, part), g in check.groupby([check["queue"], split], sort=True):
        for label, sl, ab in models:
            sl_err = g[sl] - g["sl_observed"]
            ab_err = (g[ab] if ab else 0.0) - g["ab_observed"]
            rows.append(
                {
                    "queue": queue,
                    "split": part,
                    "model": label,
                    "intervals": len(g),
                    "sl_mae": float(sl_err.abs().mean()),
                    "sl_bias": float(sl_err.mean()),
                    "ab_mae": float(np.abs(ab_err).mean()),
                    "ab_bias": float(np.mean(ab_err)),
                }
            )
    return pd.DataFrame(rows)


def plot_calibration(check: pd.DataFrame, *, title: str = "Calibration"):
    """One-page figure: predicted against observed service level and abandonment per
    interval, before (Erlang C and Erlang A on the agents as counted) and after
    calibration; held-out intervals drawn apart. Returns a matplotlib Figure."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    from matplotlib.figure import Figure  # noqa: PLC0415

    fig = Figure(figsize=(11, 5.5), layout="constrained")
    ax_sl, ax_ab = fig.subplots(1, 2)
    held = ~check["learning"].to_numpy(dtype=bool)
    series = [
        (ax_sl, "sl_erlang_c", "Erlang C, agents seen", "tab:gray", "x"),
        (ax_sl, "sl_before", "Erlang A, agents seen", "tab:orange", "^"),
        (ax_sl, "sl_after", "Erlang A, calibrated", "tab:blue", "o"),
        (ax_ab, "ab_before", "Erlang A, agents seen", "tab:orange", "^"),
        (ax_ab, "ab_after", "Erlang A, calibrated", "tab:blue", "o"),
    ]
    observed = {ax_sl: "sl_observed", ax_ab: "ab_observed"}
    for ax, column, label, colour, marker in series:
        x, y = check[observed[ax]].to_numpy(), check[column].to_numpy()
        err = np.nanmean(np.abs(y - x))
        ax.scatter(
            x[~held],
            y[~held],
            s=10,
            alpha=0.45,
            color=colour,
            marker=marker,
            label=f"{label} (MAE {err:.3f}, all intervals)",
        )
        if held.any():
            hollow = (
                {"color": colour} if marker == "x" else {"facecolors": "none", "edgecolors": colour}
            )
            ax.scatter(x[held], y[held], s=16, alpha=0.8, marker=marker, **hollow)
    for ax, what in ((ax_sl, "service level"), (ax_ab, "abandonment")):
        ax.plot([0, 1], [0, 1], color="black", lw=0.8)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel(f"observed {what} per interval")
        ax.set_ylabel(f"predicted {what}")
        ax.legend(loc="upper left", fontsize=8)
        ax.grid(alpha=0.3)
    note = " (hollow markers: held-out intervals)" if held.any() else ""
    fig.suptitle(f"{title}{note}")
    return fig


# --------------------------------------------------------------------------- config merge


def apply_calibration(
    config: PlanConfig,
    calibration: Calibration,
    *,
    queues: Mapping[str, str] | None = None,
    keys: tuple[str, ...] = ("aht_s", "patience_s", "availability"),
) -> PlanConfig:
    """Return ``config`` with calibrated ``aht_s``, ``patience_s`` and ``availability``.

    Parameters
    ----------
    config
        The plan configuration; it is not modified.
    calibration
        From :func:`calibrate` or :func:`load_calibration`.
    queues
        Calibrated queue -> config queue name. Default: same names, or, for a pooled
        calibration, ``{pool: "*"}``. The target ``"*"`` applies the values to the
        defaults and to every queue of the config.
    keys
        Which values to take from the calibration.

    Notes
    -----
    Calibrated queues with no section in the config get one, built from the
    defaults. A fitted availability above 1 is capped at 1 with a warning.
    """
    if queues is not None:
        mapping = dict(queues)
    elif calibration.pool is not None:
        mapping = {q: "*" for q in calibration.queues}
    else:
        mapping = {q: q for q in calibration.queues}
    unknown = [q for q in mapping if q not in calibration.queues]
    if unknown:
        raise ConfigError(
            f"queue '{unknown[0]}' is not in the calibration "
            f"(calibrated: {', '.join(calibration.queues)})"
        )
    defaults = config.defaults
    sections = dict(config.queues)
    for source, target in mapping.items():
        q = calibration.queues[source]
        values = {k: v for k, v in q.config_values().items() if k in keys}
        if q.availability is not None and q.availability.factor > 1.0 and "availability" in keys:
            warnings.warn(
                f"calibrated availability of queue '{source}' is {q.availability.factor:.3f}; "
                "capped at 1",
                ForecastWarning,
                stacklevel=2,
            )
        if target == "*":
            defaults = replace(defaults, **values)
            sections = {n: replace(s, **values) for n, s in sections.items()}
        else:
            base = sections.get(target, replace(defaults, name=target))
            sections[target] = replace(base, **values)
    return replace(config, defaults=defaults, queues=sections)


# --------------------------------------------------------------------------- TOML / JSON


def calibration_to_toml(calibration: Calibration) -> str:
    """params.toml text: ``[queues.<name>]`` holds only plan-config keys (paste them
    into a plan config as they are); ``[fit.<name>...]`` holds the uncertainty and
    diagnostics; ``[calibration]`` the period and settings."""
    data = calibration.to_dict()
    lines = [
        "# Calibration learned from call records by forecast (wfm calibrate).",
        f"# Learning period: {calibration.train_start} to {calibration.train_end} (end exclusive).",
        "# [queues.*] keys match the plan config's queue keys; [fit.*] holds uncertainty.",
        "",
    ]
    _toml_table(lines, ["calibration"], data["calibration"])
    for name, values in data["queues"].items():
        _toml_table(lines, ["queues", name], values)
    for name, values in data["fit"].items():
        _toml_table(lines, ["fit", name], values)
    return "\n".join(lines).rstrip() + "\n"


def _toml_key(key: str) -> str:
    if key and all(c.isalnum() or c in "_-" for c in key):
        return key
    return json.dumps(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(value, str):
        return json.dumps(value)
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _toml_table(lines: list[str], path: list[str], values: Mapping[str, Any]) -> None:
    scalars = {k: v for k, v in values.items() if not isinstance(v, Mapping)}
    tables = {k: v for k, v in values.items() if isinstance(v, Mapping)}
    lines.append("[" + ".".join(_toml_key(p) for p in path) + "]")
    lines.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in scalars.items())
    lines.append("")
    for k, v in tables.items():
        _toml_table(lines, [*path, k], v)


def load_calibration(path: str | Path) -> Calibration:
    """Read a calibration written as params.toml or JSON."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError("calibration file not found", file=path)
    text = path.read_text(encoding="utf-8")
    try:
        raw = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot be read ({exc})", file=path) from None
    try:
        return Calibration.from_dict(raw)
    except ConfigError as exc:
        raise ConfigError(str(exc), file=path) from None
