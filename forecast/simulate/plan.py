"""Simulate a staffing plan: the service level, ASA and abandonment it really delivers.

For each queue of a plan table the arrivals of every interval are drawn (or replayed),
served first come first served by the plan's agents, and the results per interval are
averaged over replications with confidence intervals. The formula's promise (the
plan's ``service_level`` column) sits beside the simulated figure.
"""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..config import QueueConfig
from ..exceptions import DataValidationError, ForecastError, ForecastWarning
from . import engine, kernel, sampling
from .planfile import QueuePlan, split_plan
from .queue import rates

__all__ = ["simulate_plan", "simulable_queues", "SimulationResult", "METRICS"]

#: per-interval ratios reported with a confidence interval
METRICS = ("service_level", "service_level_answered", "asa_s", "abandonment", "occupancy")
#: the valid range of each metric, to which confidence intervals are clipped
METRIC_RANGES = {"service_level": (0.0, 1.0), "service_level_answered": (0.0, 1.0),
                 "asa_s": (0.0, np.inf), "abandonment": (0.0, 1.0), "occupancy": (0.0, 1.0),
                 "intervals_meeting_goal": (0.0, 1.0)}
#: per-interval counts reported as means over replications
COUNTS = ("offered", "answered", "abandoned", "waiting", "answered_within_target")
#: answer-time target when neither the call nor a queue's settings give one
DEFAULT_TARGET_S = 20.0
#: customers simulated per kernel call (bounds memory: ~60 bytes per customer)
_BATCH_CUSTOMERS = 2_000_000


@dataclass
class SimulationResult:
    """What :func:`simulate_plan` found.

    Attributes
    ----------
    intervals
        One row per queue x interval: ``queue, ds, agents, volume,
        promised_service_level`` (the plan's, NaN if absent), the mean counts per
        replication (``offered, answered, abandoned, waiting, answered_within_target``)
        and, for each of ``service_level`` (answered within target / offered, as Erlang C
        and Erlang A count it), ``service_level_answered`` (within target / answered),
        ``asa_s``, ``abandonment`` (abandoned / offered) and ``occupancy``: the mean over
        replications of the interval's figure and ``<name>_lo``, ``<name>_hi``, the
        confidence interval of that mean (Student t). A figure is averaged over the
        replications where it is defined (e.g. ASA where some call was answered).
    replications
        Per queue and replication, the whole-horizon figures (pooled over intervals).
    targets_s
        The answer-time target used for each queue, seconds.
    goals
        The service-level goal of each queue (NaN where none was given).
    replications_count, confidence, seed
        The settings used.
    notes
        What was left out and why (calls outside the plan, queues not simulated).
    """

    intervals: pd.DataFrame
    replications: pd.DataFrame
    replications_count: int
    targets_s: dict[str, float]
    goals: dict[str, float]
    confidence: float
    seed: int
    notes: list[str] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """Per queue: the plan's promise beside the simulated service level, ASA,
        abandonment and occupancy over the whole horizon, and the share of intervals
        (with calls) whose service level met the goal (means and confidence intervals
        over replications)."""
        rows = []
        for queue, reps in self.replications.groupby("queue", sort=False):
            iv = self.intervals[self.intervals["queue"] == queue]
            row: dict[str, object] = {
                "queue": queue,
                "intervals": len(iv),
                "target_s": self.targets_s[queue],
                "offered": reps["offered"].mean(),
                "promised_service_level": _weighted(iv["promised_service_level"], iv["volume"]),
            }
            for name in ("service_level", "asa_s", "abandonment", "occupancy"):
                mean, lo, hi = mean_ci(reps[name].to_numpy()[None, :], self.confidence,
                                       metric=name)
                row.update({name: mean[0], f"{name}_lo": lo[0], f"{name}_hi": hi[0]})
            row["service_level_goal"] = self.goals[queue]
            mean, lo, hi = mean_ci(
                reps["intervals_meeting_goal"].to_numpy()[None, :], self.confidence,
                metric="intervals_meeting_goal",
            )
            row.update(
                {
                    "intervals_meeting_goal": mean[0],
                    "intervals_meeting_goal_lo": lo[0],
                    "intervals_meeting_goal_hi": hi[0],
                }
            )
            row["waiting_at_end"] = reps["waiting"].mean()
            rows.append(row)
        return pd.DataFrame(rows)


def simulate_plan(
    plan: pd.DataFrame,
    *,
    interval_s: int,
    target_s: float | None = None,
    replications: int = 100,
    arrivals: str | pd.DataFrame = "poisson",
    dispersion: float | None = None,
    error_scope: str = "interval",
    service: str | Sequence[float] | np.ndarray = "exponential",
    service_cv: float | None = None,
    patience: float | Sequence[float] | np.ndarray | None = None,
    seed: int = 0,
    agents_column: str = "agents_required",
    volume_column: str | None = None,
    confidence: float = 0.95,
    queues: Mapping[str, QueueConfig] | None = None,
    service_level_goal: float | None = None,
) -> SimulationResult:
    """Simulate each queue of a plan table and report what its staffing delivers.

    Parameters
    ----------
    plan
        Plan table: ``queue, ds`` (interval starts), a volume column, ``aht_s``, the agents
        column and optionally ``service_level`` (the formula's promise). Rows of one
        queue are its open intervals; each run of consecutive intervals (a day's opening
        hours) is simulated from an empty queue, and callers still queued at its end are
        reported as ``waiting``.
    interval_s
        Interval length in seconds.
    target_s
        Answer-time target of the service level, seconds; ``None``: each queue's
        ``answer_s`` from ``queues`` where given, else 20 s.
    replications
        Independent runs; results are means with confidence intervals over them.
    arrivals
        ``"poisson"`` (Poisson counts with the forecast mean), ``"negbin"`` (gamma-Poisson
        with rate coefficient of variation ``dispersion``: forecast error on top of Poisson
        noise), ``"forecast"`` (gamma-Poisson with, per interval, the rate CV the plan's
        widest pair of quantile columns implies beyond Poisson noise, e.g. ``p10``/``p90``:
        the forecast's own uncertainty), ``"counts"`` (the volume column rounded is the
        exact count: replay of actual counts); arrival times are uniform within the
        interval. Or a table of actual calls
        with columns ``arrival`` (timestamps), optionally ``queue``, ``handle_s``,
        ``patience_s`` (a caller's known patience, e.g. the wait of one who hung up) and
        ``patience_min_s`` (a lower bound where patience is unknown, e.g. the wait of one
        who was answered: the draw from ``patience`` is added to it, exact for
        exponential patience, which is memoryless): replayed at their real times (calls
        outside the plan's intervals are ignored).
    error_scope
        With ``"negbin"`` or ``"forecast"``: ``"interval"`` (each interval's rate errs
        independently) or ``"day"`` (one error per day shared by its intervals, as when a
        whole day runs above forecast: fewer, deeper bad days).
    service
        ``"exponential"``, ``"lognormal"`` (with ``service_cv``), an array of observed
        handle times (resampled, rescaled to each interval's ``aht_s``), or ``"actual"``
        with a table of calls: each call's ``handle_s`` (resampled where missing).
    patience
        ``None`` (nobody hangs up; a queue's ``patience_s`` from ``queues`` if given), a
        mean in seconds (exponential patience, Erlang A's assumption) or observed
        patience times to resample.
    seed
        Seed of the random streams; replication ``r`` of queue ``q`` uses its own stream
        (from ``seed``, the queue name and ``r``), so a queue's results depend neither on
        the other queues nor on the number of replications run after it.
    agents_column
        Plan column with the productive agents on the queue per interval.
    volume_column
        Plan column with the expected contacts; default ``volume``, else ``volume_mean``.
    confidence
        Level of the confidence intervals.
    queues
        Optional queue settings by name: chat queues are simulated with ``concurrency``
        sessions per agent (handle time stretched by ``concurrency_aht_factor``, as
        :mod:`forecast.staffing` assumes); deferred queues (email, social), whose target
        is a response time in open hours, are skipped with a warning and a note. A queue
        missing from ``queues`` is simulated as a voice queue if the plan's ``channel``
        column says it is one, else skipped with a warning and a note; without that
        column it is simulated as voice, with a warning (see :func:`simulable_queues`).
    service_level_goal
        The service level each interval should reach (e.g. 0.8); ``None``: each queue's
        ``service_level`` from ``queues`` where given. The intervals table then gets
        ``p_meets_goal`` (share of replications in which the interval met it) and the
        summary ``intervals_meeting_goal``: how often the plan really hits its target,
        which an average service level hides.

    Returns
    -------
    SimulationResult
    """
    if replications < 1:
        raise ForecastError(f"replications must be >= 1; got {replications}")
    if not 0 < confidence < 1:
        raise ForecastError(f"confidence must lie in (0, 1); got {confidence}")
    if target_s is not None and not target_s >= 0:
        raise ForecastError(f"target_s must be >= 0; got {target_s}")
    calls = arrivals if isinstance(arrivals, pd.DataFrame) else None
    if calls is None and arrivals not in sampling.ARRIVAL_KINDS:
        raise ForecastError(
            f"unknown arrivals '{arrivals}'; expected one of {', '.join(sampling.ARRIVAL_KINDS)}"
            " or a table of calls"
        )
    if error_scope not in sampling.ERROR_SCOPES:
        raise ForecastError(f"unknown error_scope '{error_scope}'; expected interval or day")
    if isinstance(service, str) and service == "actual" and calls is None:
        raise ForecastError("service='actual' needs arrivals given as a table of calls")

    plan, notes = simulable_queues(plan, queues)
    for note in notes:
        warnings.warn(note, ForecastWarning, stacklevel=2)
    targets: dict[str, float] = {}
    goals: dict[str, float] = {}
    interval_frames, rep_frames = [], []
    for qplan in split_plan(
        plan,
        interval_s=interval_s,
        agents_column=agents_column,
        volume_column=volume_column,
        queues=queues,
    ):
        config = queues.get(qplan.queue) if queues else None
        if config is not None and config.is_deferred:
            message = f"queue '{qplan.queue}' is a deferred ({config.channel}) queue: not simulated"
            warnings.warn(message, ForecastWarning, stacklevel=2)
            notes.append(message)
            continue
        qtarget_s = (
            float(target_s)
            if target_s is not None
            else (config.answer_s if config is not None else DEFAULT_TARGET_S)
        )
        targets[qplan.queue] = qtarget_s
        goal = (
            float(service_level_goal)
            if service_level_goal is not None
            else (config.service_level if config is not None else np.nan)
        )
        goals[qplan.queue] = goal
        qpatience = patience
        if qpatience is None and config is not None and config.patience_s is not None:
            qpatience = config.patience_s
        qcalls = _queue_calls(calls, qplan, interval_s, notes) if calls is not None else None
        per_rep, per_rep_totals = _simulate_queue_plan(
            qplan,
            interval_s=float(interval_s),
            target_s=qtarget_s,
            replications=replications,
            arrivals=arrivals if calls is None else "replay",
            calls=qcalls,
            dispersion=dispersion,
            error_scope=error_scope,
            service=service,
            service_cv=service_cv,
            patience=qpatience,
            seed=seed,
            config=config,
        )
        meets = _meets(per_rep["service_level"], goal)  # replications x intervals
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows and columns
            p_meets = np.nanmean(meets, axis=0)
            share = np.nanmean(meets, axis=1)
        interval_frames.append(
            _interval_table(qplan, per_rep, confidence).assign(p_meets_goal=p_meets)
        )
        rep_frames.append(per_rep_totals.assign(queue=qplan.queue, intervals_meeting_goal=share))
    if not interval_frames:
        raise ForecastError("no queue of the plan could be simulated"
                            + (f" ({'; '.join(notes)})" if notes else ""))
    intervals = pd.concat(interval_frames, ignore_index=True)
    reps = pd.concat(rep_frames, ignore_index=True)
    reps = reps[["queue"] + [c for c in reps.columns if c != "queue"]]
    return SimulationResult(intervals, reps, replications, targets, goals, confidence, seed, notes)


def simulable_queues(
    plan: pd.DataFrame,
    queues: Mapping[str, QueueConfig] | None = None,
    *,
    plan_name: str = "the plan",
    settings: str = "queues=",
) -> tuple[pd.DataFrame, list[str]]:
    """The rows of ``plan`` that can be simulated, and a note for each queue left out.

    A queue with its settings in ``queues`` is kept (its channel comes from them). Of
    the others, the plan's ``channel`` column (written by ``wfm plan``; empty cells
    count as voice) decides: voice queues are kept, chat queues (concurrent sessions)
    and deferred queues (email, social backlogs) are left out with a note, as their
    settings are needed to simulate them. Where the plan has no ``channel`` column,
    every queue without settings is simulated as a voice queue, with a
    :class:`~forecast.exceptions.ForecastWarning`.

    Parameters
    ----------
    plan
        Plan table with a ``queue`` column and optionally ``channel``.
    queues
        Queue settings by name, as :func:`simulate_plan` takes them.
    plan_name, settings
        How the plan and the settings are named in the notes and the warning (the CLI
        says ``PLAN`` and ``--config``).

    Returns
    -------
    tuple of DataFrame and list of str
        The kept rows (index and ``attrs`` kept, so errors still name the file's lines)
        and one note per queue left out, sorted by queue.
    """
    if "queue" not in plan.columns:
        return plan, []  # split_plan reports the missing column
    names = plan["queue"].astype(str)
    configured = names.isin(list(queues or ())).to_numpy()
    if "channel" not in plan.columns:
        if not configured.all():
            unset = "no" if queues is None else "incomplete"
            warnings.warn(
                f"{plan_name} has no channel column and {unset} {settings} was given: every "
                f"queue{'' if queues is None else ' without settings'} is simulated as a voice "
                f"queue (one contact per agent at a time); give {settings} for chat, email and "
                "social queues", ForecastWarning, stacklevel=3)
        return plan, []
    channel = plan["channel"].fillna("voice").astype(str)
    left_out = ~configured & channel.ne("voice").to_numpy()
    notes = [f"queue '{q}' ({c}) is not simulated without {settings}, which holds its "
             + ("chat concurrency" if c == "chat" else "backlog settings")
             for q, c in sorted(set(zip(names[left_out], channel[left_out], strict=True)))]
    return (plan[~left_out] if left_out.any() else plan), notes


def _meets(service_level: np.ndarray, goal: float) -> np.ndarray:
    """1.0 where the service level reached the goal, 0.0 where not, NaN where undefined."""
    if not np.isfinite(goal):
        return np.full(service_level.shape, np.nan)
    return np.where(np.isnan(service_level), np.nan, (service_level >= goal - 1e-12) * 1.0)


# ----------------------------------------------------------------------------- internals


def _stream(seed: int, queue: str, replication: int) -> np.random.Generator:
    key = zlib.crc32(queue.encode("utf-8"))
    return np.random.default_rng([int(seed), key, int(replication)])


def _simulate_queue_plan(
    qplan: QueuePlan,
    *,
    interval_s: float,
    target_s: float,
    replications: int,
    arrivals: str,
    calls: pd.DataFrame | None,
    dispersion: float | None,
    error_scope: str,
    service,
    service_cv: float | None,
    patience,
    seed: int,
    config: QueueConfig | None,
) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    n_int = len(qplan.ds)
    agents = qplan.agents.copy()
    aht_s = qplan.aht_s.copy()
    if config is not None and config.channel == "chat" and config.concurrency > 1:
        agents = agents * config.concurrency
        aht_s = aht_s * (1.0 + config.concurrency_aht_factor * (config.concurrency - 1))
    table = kernel.next_on_duty_table(agents, qplan.block_end)
    if arrivals == "forecast":
        if qplan.rate_cv is None:
            raise ForecastError(
                f"arrivals='forecast' needs forecast quantile columns (e.g. p10 and p90) in "
                f"the plan; queue '{qplan.queue}' has none"
            )
        dispersion = qplan.rate_cv
    day = qplan.day if error_scope == "day" else None

    sums: dict[str, list[np.ndarray]] = {k: [] for k in engine.IntervalCounts.__dataclass_fields__}
    batch: list[tuple] = []
    batch_size = 0

    def flush() -> None:
        nonlocal batch, batch_size
        if not batch:
            return
        arr = np.concatenate([b[0] for b in batch])
        srv = np.concatenate([b[1] for b in batch])
        pat = np.concatenate([b[2] for b in batch])
        cell = np.concatenate([b[3] + i * n_int for i, b in enumerate(batch)])
        segs = engine.Segments.concat([b[4] for b in batch])
        start_s, agent, outcome = engine.run(segs, arr, srv, pat, agents, table, interval_s)
        counts = engine.aggregate(
            cell,
            len(batch) * n_int,
            arrival_s=arr,
            service_s=srv,
            start_s=start_s,
            agent=agent,
            outcome=outcome,
            segments=segs,
            agents=agents,
            interval_s=interval_s,
            target_s=target_s,
        )
        for name in sums:
            sums[name].append(getattr(counts, name).reshape(len(batch), n_int))
        batch, batch_size = [], 0

    for r in range(replications):
        rng = _stream(seed, qplan.queue, r)
        if calls is None:
            counts = sampling.draw_counts(rng, qplan.volume, arrivals, dispersion, day)
            arr, interval = sampling.uniform_arrivals(rng, counts, interval_s)
            srv = sampling.draw_service(rng, aht_s[interval], service, service_cv)
        else:
            arr = calls["virtual_s"].to_numpy()
            interval = calls["row"].to_numpy()
            if isinstance(service, str) and service == "actual":
                srv = _actual_service(rng, calls["handle_s"].to_numpy(np.float64))
            else:
                srv = sampling.draw_service(rng, aht_s[interval], service, service_cv)
        pat = sampling.draw_patience(rng, arr.size, patience)
        if calls is not None:
            pat = _replay_patience(calls, pat)
        segs = engine.Segments.for_replication(interval, qplan.block_end, call_offset=batch_size)
        batch.append((arr, srv, pat, interval, segs))
        batch_size += arr.size
        if batch_size >= _BATCH_CUSTOMERS:
            flush()
    flush()

    per_rep = {name: np.concatenate(parts) for name, parts in sums.items()}
    counts = engine.IntervalCounts(**per_rep)
    per_cell = rates(counts)
    totals = engine.IntervalCounts(**{k: v.sum(axis=1) for k, v in per_rep.items()})
    rep_totals = pd.DataFrame(rates(totals)).assign(
        replication=np.arange(replications), busy_s=totals.busy_s, on_duty_s=totals.on_duty_s
    )
    return per_cell, rep_totals[
        ["replication"] + [c for c in rep_totals.columns if c != "replication"]
    ]


def _replay_patience(calls: pd.DataFrame, drawn: np.ndarray) -> np.ndarray:
    """Known patience where the calls table has it; else a lower bound plus a draw."""
    known = calls["patience_s"].to_numpy(np.float64)
    floor = calls["patience_min_s"].to_numpy(np.float64)
    return np.where(
        np.isfinite(known) | np.isposinf(known),
        known,
        np.where(np.isfinite(floor), floor, 0.0) + drawn,
    )


def _actual_service(rng: np.random.Generator, handle_s: np.ndarray) -> np.ndarray:
    known = np.isfinite(handle_s) & (handle_s >= 0)
    out = handle_s.copy()
    if (~known).any():
        if not known.any():
            raise ForecastError("service='actual' but no call has a handle time (handle_s)")
        pool = handle_s[known]
        out[~known] = pool[rng.integers(0, pool.size, int((~known).sum()))]
    return out


def _queue_calls(
    calls: pd.DataFrame, qplan: QueuePlan, interval_s: int, notes: list[str]
) -> pd.DataFrame:
    """The calls of one queue placed on the plan's virtual timeline (row * interval_s + offset)."""
    if "arrival" not in calls.columns:
        raise DataValidationError(
            "the calls table has no 'arrival' column; expected timestamps", column="arrival"
        )
    mine = calls if "queue" not in calls.columns else calls[calls["queue"] == qplan.queue]
    arrival = pd.to_datetime(mine["arrival"]).to_numpy("datetime64[ns]")
    ds = qplan.ds.to_numpy("datetime64[ns]")
    row = np.searchsorted(ds, arrival, side="right") - 1
    offset_s = np.full(arrival.size, np.nan)
    ok = row >= 0
    offset_s[ok] = (arrival[ok] - ds[row[ok]]) / np.timedelta64(1, "s")
    inside = ok & (offset_s < interval_s)
    if (~inside).any():
        notes.append(
            f"queue '{qplan.queue}': {int((~inside).sum())} of {arrival.size} calls fall outside "
            "the plan's intervals and were not replayed"
        )

    def column(name: str) -> np.ndarray:
        if name not in mine.columns:
            return np.full(int(inside.sum()), np.nan)
        values = pd.to_numeric(mine[name], errors="coerce").to_numpy(np.float64)[inside]
        if (values < 0).any():
            raise DataValidationError("negative seconds; expected >= 0", column=name)
        return values

    out = pd.DataFrame(
        {
            "row": row[inside].astype(np.int64),
            "virtual_s": row[inside] * float(interval_s) + offset_s[inside],
            "handle_s": column("handle_s"),
            "patience_s": column("patience_s"),
            "patience_min_s": column("patience_min_s"),
        }
    )
    return out.sort_values("virtual_s", kind="stable").reset_index(drop=True)


def _interval_table(qplan: QueuePlan, per_cell: dict[str, np.ndarray], confidence: float):
    out = pd.DataFrame(
        {
            "queue": qplan.queue,
            "ds": qplan.ds,
            "agents": qplan.agents,
            "volume": qplan.volume,
            "promised_service_level": qplan.promised_service_level,
        }
    )
    for name in COUNTS:
        out[name] = per_cell[name].mean(axis=0)
    for name in METRICS:
        mean, lo, hi = mean_ci(per_cell[name].T, confidence, metric=name)
        out[name] = mean
        out[f"{name}_lo"] = lo
        out[f"{name}_hi"] = hi
    return out


def mean_ci(values: np.ndarray, confidence: float, *, metric: str | None = None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row-wise mean of ``values`` (rows x replications), ignoring NaN, with a Student-t
    confidence interval; NaN bounds where fewer than two values are defined. With a
    ``metric`` of :data:`METRIC_RANGES` the interval is clipped to its valid range (a
    share never exceeds 1, an answer time is never negative)."""
    values = np.asarray(values, dtype=np.float64)
    n = np.sum(~np.isnan(values), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(values, axis=1)
        sd = np.nanstd(values, axis=1, ddof=1)
        t = stats.t.ppf(0.5 + confidence / 2.0, np.maximum(n - 1, 1))
        half = np.where(n >= 2, t * sd / np.sqrt(np.maximum(n, 1)), np.nan)
    low, high = METRIC_RANGES.get(metric, (-np.inf, np.inf))
    return mean, np.clip(mean - half, low, high), np.clip(mean + half, low, high)


def _weighted(values: pd.Series, weights: pd.Series) -> float:
    v = values.to_numpy(np.float64)
    w = weights.to_numpy(np.float64)
    ok = np.isfinite(v) & np.isfinite(w)
    if not ok.any() or w[ok].sum() <= 0:
        return float("nan")
    return float(np.sum(v[ok] * w[ok]) / w[ok].sum())
