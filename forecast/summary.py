"""Planner-facing summaries of a plan table: daily and weekly totals, combined
requirements of queues that share agents, and side-by-side plan comparisons.

Pure pandas, no I/O. Every function takes the plan table (one row per queue x
interval, see :attr:`forecast.plan.PlanResult.plan`) or a :class:`PlanResult`.

Definitions used throughout
---------------------------
agent-hours
    ``agents_scheduled x interval_s / 3600`` summed over the period (heads on shift,
    after shrinkage and availability).
FTE
    For a day, agent-hours / (``hours_per_fte`` / 5), as in
    :func:`forecast.plan.daily_summary`; for a week or a whole horizon, agent-hours /
    (``hours_per_fte`` x d / 7), ``d`` the calendar days of the period in the horizon:
    a full week is agent-hours / ``hours_per_fte``, and a partial week (``days < 7``)
    is pro-rated to its days, so it compares with the full weeks next to it.
service level
    Volume-weighted mean of the interval service levels (intervals without a
    service level are left out of both sums).
peak
    The interval with the most scheduled agents (across queues: the most agents
    summed over the queues in that interval); the earliest such interval on ties.
"""

from __future__ import annotations

import dataclasses
import numbers
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .exceptions import ConfigError, ForecastWarning

if TYPE_CHECKING:
    from .config import PlanConfig, QueueConfig
    from .plan import PlanResult

__all__ = [
    "ALL_QUEUES",
    "SUMMARY_COLUMNS",
    "COMPARED_METRICS",
    "period_summary",
    "daily_table",
    "weekly_table",
    "horizon_totals",
    "CombinedRequirement",
    "combined_requirement",
    "compare_plans",
    "service_target_curve",
    "plan_settings",
]

#: The ``queue`` label of rows that total across queues.
ALL_QUEUES = "all"

#: Columns of :func:`period_summary` (and the daily/weekly tables) in order.
SUMMARY_COLUMNS = ["queue", "period", "start", "days", "volume", "agent_hours", "fte", "cost",
                   "service_level", "peak_ds", "peak_agents"]

#: Metrics shown side by side by :func:`compare_plans`.
COMPARED_METRICS = ("volume", "agent_hours", "fte", "cost", "service_level")

_PERIODS = {"day": "D", "week": "W", "total": None}
_REQUIRED = ("queue", "ds", "volume", "agents_scheduled", "service_level", "cost")


def _check_plan(plan: pd.DataFrame, required: Sequence[str] = _REQUIRED) -> None:
    missing = [c for c in required if c not in plan.columns]
    if missing:
        raise ValueError(f"plan table has no column '{missing[0]}'; expected the plan.csv "
                         f"columns ({', '.join(required)}, ...)")


def _period_start(ds: pd.Series, period: str) -> pd.Series:
    day = ds.dt.normalize()
    if period == "day":
        return day
    if period == "week":  # weeks run Monday to Sunday, labelled by their Monday
        return day - pd.to_timedelta(day.dt.day_of_week, unit="D")
    return pd.Series(day.min(), index=ds.index)


def _fte_hours(period: str, days: pd.Series, hours_per_fte: float) -> pd.Series | float:
    """Hours one full-time agent works in the period (the FTE divisor): a day is a
    fifth of the contracted week; a week or the horizon is pro-rated to its calendar
    days (a full week: ``hours_per_fte``)."""
    if period == "day":
        return hours_per_fte / 5.0
    return hours_per_fte * days / 7.0


def period_summary(
    plan: pd.DataFrame,
    *,
    interval_s: int,
    hours_per_fte: float,
    period: str = "day",
    totals: bool = True,
    horizon_days: int | None = None,
) -> pd.DataFrame:
    """Per queue (and across queues) and period: volume, agent-hours, FTE, cost, SL, peak.

    Parameters
    ----------
    plan
        The plan table (``queue, ds, volume, agents_scheduled, service_level, cost``).
    interval_s
        Interval length in seconds.
    hours_per_fte
        Contracted hours a week of one full-time agent.
    period
        ``"day"``, ``"week"`` (Monday to Sunday) or ``"total"`` (the whole horizon).
    totals
        Add rows with queue ``"all"`` summing across queues.
    horizon_days
        Calendar days of the horizon, counted from the first planned day. Default:
        first to last planned day, which is a day short when the last day is closed
        (a voice queue shut on Sundays planned Monday to Sunday).

    Returns
    -------
    DataFrame
        :data:`SUMMARY_COLUMNS`: ``period`` names the period kind, ``start`` its first
        day (for weeks, the Monday, even when the plan starts later in the week),
        ``days`` how many calendar days of the period lie in the horizon: a week with
        ``days < 7`` is partial, and its FTE is pro-rated to those days: agent-hours
        / (``hours_per_fte`` x days / 7).

    Raises
    ------
    ValueError
        For an unknown ``period``, ``interval_s`` or ``hours_per_fte`` not > 0, or a
        plan without a required column.
    """
    if period not in _PERIODS:
        raise ValueError(f"period must be one of {', '.join(_PERIODS)}, got '{period}'")
    if interval_s <= 0 or hours_per_fte <= 0:
        raise ValueError("interval_s and hours_per_fte must be > 0")
    _check_plan(plan)
    sl = plan["service_level"].to_numpy(dtype=float)
    volume = plan["volume"].to_numpy(dtype=float)
    known = np.isfinite(sl)
    frame = pd.DataFrame({
        "queue": plan["queue"].astype(str).to_numpy(),
        "ds": pd.to_datetime(plan["ds"]).to_numpy(),
        "volume": volume,
        "agents": plan["agents_scheduled"].to_numpy(dtype=float),
        "cost": plan["cost"].to_numpy(dtype=float),
        "sl_num": np.where(known, sl * volume, 0.0),  # volume-weighted SL, NaNs left out
        "sl_den": np.where(known, volume, 0.0),
    })
    frame["start"] = _period_start(frame["ds"], period).to_numpy()
    frame["date"] = frame["ds"].dt.normalize()
    parts = [_summarise(frame, interval_s, hours_per_fte, period)]
    if totals and len(frame):
        parts.append(_summarise(_across_queues(frame), interval_s, hours_per_fte, period))
    out = pd.concat(parts, ignore_index=True)
    out["days"] = _calendar_days(frame, period, horizon_days).reindex(out["start"]).to_numpy(
        dtype="int64")
    out["fte"] = out["agent_hours"] / _fte_hours(period, out["days"], hours_per_fte)
    return out[SUMMARY_COLUMNS]


def _calendar_days(frame: pd.DataFrame, period: str, horizon_days: int | None) -> pd.Series:
    """Calendar days of the horizon per period start: a queue closed on Sundays still
    plans whole weeks."""
    if not len(frame):
        return pd.Series(dtype="int64")
    first, last = frame["date"].min(), frame["date"].max()
    if horizon_days is not None:
        last = max(last, first + pd.Timedelta(days=int(horizon_days) - 1))
    dates = pd.Series(pd.date_range(first, last, freq="D"))
    return _period_start(dates, period).value_counts().sort_index()


def _across_queues(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per interval with the queues summed."""
    pooled = frame.groupby("ds", sort=True).agg(
        volume=("volume", "sum"), agents=("agents", "sum"), cost=("cost", "sum"),
        sl_num=("sl_num", "sum"), sl_den=("sl_den", "sum"), start=("start", "first"),
        date=("date", "first"),
    ).reset_index()
    pooled.insert(0, "queue", ALL_QUEUES)
    return pooled


def _summarise(frame: pd.DataFrame, interval_s: int, hours_per_fte: float,
               period: str) -> pd.DataFrame:
    keys = ["queue", "start"]
    work = frame.assign(agent_hours=frame["agents"] * (interval_s / 3600.0))
    out = work.groupby(keys, sort=True).agg(
        volume=("volume", "sum"), agent_hours=("agent_hours", "sum"),
        cost=("cost", "sum"), sl_num=("sl_num", "sum"), sl_den=("sl_den", "sum"),
    )
    # the peak: the first interval holding the period's maximum of scheduled agents
    ordered = work.sort_values(keys + ["agents", "ds"], ascending=[True, True, False, True],
                               kind="stable")
    peaks = ordered.groupby(keys, sort=True).head(1).set_index(keys)
    out["peak_ds"] = peaks["ds"]
    out["peak_agents"] = peaks["agents"].astype("int64")
    out = out.reset_index()
    out["period"] = period
    out["service_level"] = out["sl_num"] / out["sl_den"].where(out["sl_den"] > 0)
    return out.reindex(columns=SUMMARY_COLUMNS)


def daily_table(plan: pd.DataFrame, *, interval_s: int, hours_per_fte: float,
                totals: bool = True) -> pd.DataFrame:
    """:func:`period_summary` by day: FTE = agent-hours / (``hours_per_fte`` / 5).

    Parameters
    ----------
    plan
        The plan table (``queue, ds, volume, agents_scheduled, service_level, cost``).
    interval_s
        Interval length in seconds.
    hours_per_fte
        Contracted hours a week of one full-time agent.
    totals
        Add rows with queue ``"all"`` summing across queues.

    Returns
    -------
    DataFrame
        :data:`SUMMARY_COLUMNS`, one row per queue and day (``period = "day"``).

    Raises
    ------
    ValueError
        When ``interval_s`` or ``hours_per_fte`` is not > 0, or ``plan`` lacks a column.
    """
    return period_summary(plan, interval_s=interval_s, hours_per_fte=hours_per_fte,
                          period="day", totals=totals)


def weekly_table(plan: pd.DataFrame, *, interval_s: int, hours_per_fte: float,
                 totals: bool = True, horizon_days: int | None = None) -> pd.DataFrame:
    """:func:`period_summary` by Monday-to-Sunday week: FTE = agent-hours /
    (``hours_per_fte`` x days / 7), which is agent-hours / ``hours_per_fte`` for a full
    week and pro-rated for a partial one.

    Parameters
    ----------
    plan
        The plan table (``queue, ds, volume, agents_scheduled, service_level, cost``).
    interval_s
        Interval length in seconds.
    hours_per_fte
        Contracted hours a week of one full-time agent.
    totals
        Add rows with queue ``"all"`` summing across queues.
    horizon_days
        Calendar days of the horizon from the first planned day; default: first to
        last planned day (see :func:`period_summary`).

    Returns
    -------
    DataFrame
        :data:`SUMMARY_COLUMNS`, one row per queue and week (``period = "week"``,
        ``start`` the Monday); ``days < 7`` marks a partial week, whose FTE is
        pro-rated to its days.

    Raises
    ------
    ValueError
        When ``interval_s`` or ``hours_per_fte`` is not > 0, or ``plan`` lacks a column.
    """
    return period_summary(plan, interval_s=interval_s, hours_per_fte=hours_per_fte,
                          period="week", totals=totals, horizon_days=horizon_days)


def horizon_totals(plan: pd.DataFrame, *, interval_s: int, hours_per_fte: float,
                   totals: bool = True, horizon_days: int | None = None) -> pd.DataFrame:
    """:func:`period_summary` over the whole horizon (FTE = average heads on contract).

    Parameters
    ----------
    plan
        The plan table (``queue, ds, volume, agents_scheduled, service_level, cost``).
    interval_s
        Interval length in seconds.
    hours_per_fte
        Contracted hours a week of one full-time agent.
    totals
        Add rows with queue ``"all"`` summing across queues.
    horizon_days
        Calendar days of the horizon from the first planned day; default: first to
        last planned day (see :func:`period_summary`).

    Returns
    -------
    DataFrame
        :data:`SUMMARY_COLUMNS`, one row per queue (``period = "total"``); FTE is
        agent-hours / (``hours_per_fte`` x ``days`` / 7).

    Raises
    ------
    ValueError
        When ``interval_s`` or ``hours_per_fte`` is not > 0, or ``plan`` lacks a column.
    """
    return period_summary(plan, interval_s=interval_s, hours_per_fte=hours_per_fte,
                          period="total", totals=totals, horizon_days=horizon_days)


def plan_settings(result: PlanResult) -> dict:
    """The keyword arguments of the summary functions for a :class:`PlanResult`:
    ``interval_s``, ``hours_per_fte`` and ``horizon_days`` from its configuration."""
    cfg = result.config
    return {"interval_s": cfg.interval_s, "hours_per_fte": cfg.hours_per_fte,
            "horizon_days": cfg.forecast.horizon_days}


# ------------------------------------------------------------------ shared agents


@dataclass
class CombinedRequirement:
    """Requirement of queues served by one pool of agents.

    Attributes
    ----------
    intervals
        Per group and interval: ``group, ds, agents_raw`` (the queues' fractional
        requirements summed), ``agents_combined`` (that sum rounded up),
        ``agents_separate`` (the queues' rounded requirements summed), ``saving``
        (separate - combined, never negative); with a configuration also
        ``scheduled_combined``, ``scheduled_separate`` and ``scheduled_saving`` (heads
        after each queue's shrinkage and availability).
    summary
        Per group: ``group, queues, intervals``, agent-hours combined and separate
        (productive agents), ``saving_hours``, ``saving_share`` (saving_hours /
        separate agent-hours, a fraction like every other share: 0.008 is 0.8%),
        ``peak_combined``, ``peak_separate``; with a configuration also scheduled
        agent-hours and saving.
    """

    intervals: pd.DataFrame
    summary: pd.DataFrame


def combined_requirement(
    plan: pd.DataFrame,
    groups: Mapping[str, Sequence[str]],
    *,
    interval_s: int,
    config: PlanConfig | None = None,
) -> CombinedRequirement:
    """Sum fractional requirements across queues that share agents, then round up.

    Each queue's plan rounds its own fractional requirement (``agents_raw``) up to
    whole agents; when the same agents serve several queues, only the pooled sum
    needs rounding, which saves up to one agent per queue per interval. This counts
    that rounding saving only: it keeps each queue's own requirement, so it does not
    claim the larger economy of scale of merging the queues' traffic.

    Parameters
    ----------
    plan
        The plan table (``queue, ds, agents_raw, agents_required``; with ``config``
        also ``agents_scheduled``).
    groups
        Group name -> the queues its agents serve (a single name is one queue).
    interval_s
        Interval length in seconds (for agent-hours).
    config
        The plan configuration; when given, scheduled heads are compared too, using
        each queue's shrinkage and availability.

    Returns
    -------
    CombinedRequirement
    """
    _check_plan(plan, ("queue", "ds", "agents_raw", "agents_required")
                + (("agents_scheduled",) if config is not None else ()))
    if not groups:
        raise ConfigError("no groups given; name at least one group of queues", key="groups")
    known = set(plan["queue"].astype(str))
    rows, summaries = [], []
    interval_h = interval_s / 3600.0
    for group, queues in groups.items():
        queues = [queues] if isinstance(queues, str) else [str(q) for q in queues]
        if not queues:
            raise ConfigError(f"group '{group}' lists no queues", key=f"groups.{group}")
        missing = [q for q in queues if q not in known]
        if missing:
            raise ConfigError(f"group '{group}': queue '{missing[0]}' is not in the plan; "
                              f"queues found: {', '.join(sorted(known))}",
                              key=f"groups.{group}")
        part = plan[plan["queue"].astype(str).isin(queues)]
        work = pd.DataFrame({
            "ds": pd.to_datetime(part["ds"]).to_numpy(),
            "agents_raw": part["agents_raw"].to_numpy(dtype=float),
            "agents_separate": part["agents_required"].to_numpy(dtype=float),
        })
        if config is not None:
            productive = np.array([(1.0 - config.queue(q).shrinkage)
                                   * config.queue(q).availability
                                   for q in part["queue"].astype(str)], dtype=float)
            work["heads_raw"] = work["agents_raw"].to_numpy() / productive
            work["scheduled_separate"] = part["agents_scheduled"].to_numpy(dtype=float)
        summed = work.groupby("ds", sort=True).sum().reset_index()
        summed["agents_combined"] = _ceil(summed["agents_raw"])
        summed["agents_separate"] = summed["agents_separate"].astype("int64")
        summed["saving"] = summed["agents_separate"] - summed["agents_combined"]
        columns = ["group", "ds", "agents_raw", "agents_combined", "agents_separate", "saving"]
        if config is not None:
            summed["scheduled_combined"] = _ceil(summed.pop("heads_raw"))
            summed["scheduled_separate"] = summed["scheduled_separate"].astype("int64")
            summed["scheduled_saving"] = (summed["scheduled_separate"]
                                          - summed["scheduled_combined"])
            columns += ["scheduled_combined", "scheduled_separate", "scheduled_saving"]
        summed.insert(0, "group", str(group))
        summed = summed[columns]
        rows.append(summed)
        summary = {
            "group": str(group),
            "queues": ", ".join(queues),
            "intervals": len(summed),
            "agent_hours_combined": float(summed["agents_combined"].sum() * interval_h),
            "agent_hours_separate": float(summed["agents_separate"].sum() * interval_h),
            "peak_combined": int(summed["agents_combined"].max()) if len(summed) else 0,
            "peak_separate": int(summed["agents_separate"].max()) if len(summed) else 0,
        }
        summary["saving_hours"] = summary["agent_hours_separate"] - summary["agent_hours_combined"]
        summary["saving_share"] = (summary["saving_hours"] / summary["agent_hours_separate"]
                                   if summary["agent_hours_separate"] > 0 else 0.0)
        if config is not None:
            summary["scheduled_hours_combined"] = float(
                summed["scheduled_combined"].sum() * interval_h)
            summary["scheduled_hours_separate"] = float(
                summed["scheduled_separate"].sum() * interval_h)
            summary["scheduled_saving_hours"] = (summary["scheduled_hours_separate"]
                                                 - summary["scheduled_hours_combined"])
        summaries.append(summary)
    return CombinedRequirement(intervals=pd.concat(rows, ignore_index=True),
                               summary=pd.DataFrame(summaries))


def _ceil(values: pd.Series) -> pd.Series:
    """Round up, ignoring float noise of 1e-9 (a sum of 2.0000000001 needs 2 agents)."""
    return np.maximum(np.ceil(values.to_numpy(dtype=float) - 1e-9), 0).astype("int64")


# ------------------------------------------------------------------ comparisons


def compare_plans(
    base: PlanResult | pd.DataFrame,
    other: PlanResult | pd.DataFrame,
    label_base: str = "base",
    label_other: str = "other",
    *,
    by: str = "day",
    interval_s: int | None = None,
    hours_per_fte: float | None = None,
) -> pd.DataFrame:
    """Two plans side by side per queue and period, with the difference.

    Used for P50 vs P80 plans and for what-if scenarios.

    Parameters
    ----------
    base, other
        Plans as :class:`~forecast.plan.PlanResult` or plan tables.
    label_base, label_other
        Suffixes of the two plans' columns (``fte_base``, ``fte_p80``, ...).
    by
        ``"day"``, ``"week"`` or ``"total"`` (one row per queue over the horizon).
    interval_s, hours_per_fte
        Needed when a plan is given as a table; taken from a PlanResult's config
        otherwise (given values must agree with it).

    Returns
    -------
    DataFrame
        ``queue, start``, then for each of :data:`COMPARED_METRICS` the columns
        ``<metric>_<label_base>``, ``<metric>_<label_other>``, ``<metric>_diff``
        (other - base). Rows with queue ``"all"`` total across the queues of both
        plans, so that they compare like with like. A queue or period present in only
        one plan has NaN for the other plan and the difference.

    Warns
    -----
    ForecastWarning
        When a queue is in one plan only: its rows are kept, and it is left out of
        both plans' ``"all"`` rows.
    """
    if label_base == label_other or "diff" in (label_base, label_other):
        raise ValueError("label_base and label_other must differ and not be 'diff'")
    if by not in _PERIODS:
        raise ValueError(f"by must be one of {', '.join(_PERIODS)}, got '{by}'")
    interval_s, hours_per_fte = _settings(base, other, interval_s, hours_per_fte)
    plans = [source if isinstance(source, pd.DataFrame) else source.plan
             for source in (base, other)]
    common = _common_queues(plans, (label_base, label_other))
    tables = []
    for label, source, table in zip((label_base, label_other), (base, other), plans,
                                    strict=True):
        days = None if isinstance(source, pd.DataFrame) else source.config.forecast.horizon_days
        settings = {"interval_s": interval_s, "hours_per_fte": hours_per_fte, "period": by,
                    "horizon_days": days}
        if common is None:
            summary = period_summary(table, **settings)
        else:  # per-queue rows of every queue, totals over the common ones
            totals = period_summary(table[table["queue"].astype(str).isin(common)], **settings)
            summary = pd.concat([period_summary(table, **settings, totals=False),
                                 totals[totals["queue"] == ALL_QUEUES]], ignore_index=True)
        if by == "total":
            summary["start"] = pd.NaT  # the two horizons may start on different days
        tables.append(summary.set_index(["queue", "start"])[list(COMPARED_METRICS)]
                      .add_suffix(f"_{label}"))
    both = tables[0].join(tables[1], how="outer")
    columns = []
    for metric in COMPARED_METRICS:
        a, b = f"{metric}_{label_base}", f"{metric}_{label_other}"
        both[f"{metric}_diff"] = both[b] - both[a]
        columns += [a, b, f"{metric}_diff"]
    out = both[columns].reset_index()
    order = out["queue"].eq(ALL_QUEUES).to_numpy()  # per-queue rows first, totals last
    out = out.iloc[np.lexsort((out["start"].to_numpy(), out["queue"].to_numpy(), order))]
    if by == "total":
        out = out.drop(columns="start")
    return out.reset_index(drop=True)


def _common_queues(plans: Sequence[pd.DataFrame], labels: Sequence[str]) -> list[str] | None:
    """The queues in both plans when their queues differ (warning which are in one plan
    only); None when both plans hold the same queues."""
    names = [set(plan["queue"].astype(str)) for plan in plans]
    if names[0] == names[1]:
        return None
    only = [f"{', '.join(sorted(a - b))} only in {label}"
            for a, b, label in ((names[0], names[1], labels[0]),
                                (names[1], names[0], labels[1])) if a - b]
    warnings.warn(f"the plans hold different queues ({'; '.join(only)}): the '{ALL_QUEUES}' "
                  "rows total the queues in both plans only", ForecastWarning, stacklevel=3)
    return sorted(names[0] & names[1])


def _settings(base, other, interval_s, hours_per_fte) -> tuple[int, float]:
    for source in (base, other):
        if isinstance(source, pd.DataFrame):
            continue
        cfg = source.config
        if interval_s is not None and interval_s != cfg.interval_s:
            raise ValueError(f"interval_s={interval_s} disagrees with the plan's "
                             f"{cfg.interval_s}")
        if hours_per_fte is not None and hours_per_fte != cfg.hours_per_fte:
            raise ValueError(f"hours_per_fte={hours_per_fte} disagrees with the plan's "
                             f"{cfg.hours_per_fte}")
        interval_s, hours_per_fte = cfg.interval_s, cfg.hours_per_fte
    if interval_s is None or hours_per_fte is None:
        raise ValueError("give interval_s and hours_per_fte when both plans are tables")
    return int(interval_s), float(hours_per_fte)


# ------------------------------------------------------------------ sensitivity


def service_target_curve(
    result: PlanResult,
    queue: str,
    service_levels: float | Iterable[float] | None = None,
    *,
    answer_s: float | Iterable[float] | None = None,
) -> pd.DataFrame:
    """What each service target costs on one queue: restaff its forecast per target.

    The forecast is kept (no refit); only the queue's ``service_level`` and/or
    ``answer_s`` change. Staffs to the same volume column as ``result`` (mean or a
    quantile).

    An email or social queue is staffed to answer every contact within ``answer_s``
    (:mod:`forecast.staffing`), whatever its ``service_level``: its curve runs over
    ``answer_s`` values, and giving it ``service_levels`` is an error.

    Parameters
    ----------
    result
        A plan holding ``queue``.
    queue
        The queue to vary.
    service_levels
        Targets in (0, 1), e.g. ``[0.6, 0.7, 0.8, 0.9]``, or one target; default the
        queue's own.
    answer_s
        Answer-time target(s) in seconds, one or several (default: the queue's own).
        With several, there is one row per service level and answer time.

    Returns
    -------
    DataFrame
        One row per target: ``target, answer_s, agent_hours, fte, cost, service_level``
        (expected, volume-weighted), ``abandonment`` (volume-weighted; NaN without a
        patience), ``peak_agents`` and ``share_bound_by_target`` (share of intervals
        whose requirement was set by the service-level target rather than another
        constraint). ``target`` is the queue's own ``service_level`` for an email or
        social queue.

    Raises
    ------
    ConfigError
        When ``queue`` is not in the plan, a target is outside (0, 1), an answer time
        is negative, a list of them is empty, neither is given, or ``service_levels``
        is given for an email or social queue.
    """
    from .plan import staff_forecast

    if queue not in result.queues:
        raise ConfigError(f"queue '{queue}' is not in the plan; queues: "
                          f"{', '.join(result.queues)}", key="queue")
    cfg = result.config
    base = cfg.queue(queue)
    if base.is_deferred and service_levels is not None:
        raise ConfigError(f"{queue} is staffed to answer every contact within its answer_s, "
                          "whatever its service_level; vary answer_s instead (answer_s="
                          f"[...] seconds; now {base.answer_s:g})", key="service_levels")
    if service_levels is None and answer_s is None:
        raise ConfigError("give the service levels or the answer times (answer_s=) to vary",
                          key="service_levels")
    levels = _targets(service_levels, base.service_level, "service_levels")
    times = _targets(answer_s, base.answer_s, "answer_s")
    for level in levels:
        if not 0 < level < 1:
            raise ConfigError(f"service level targets must lie in (0, 1), got {level}",
                              key="service_level")
    for seconds in times:
        if not seconds >= 0:
            raise ConfigError(f"answer times must be >= 0 seconds, got {seconds}",
                              key="answer_s")
    forecast = result.queues[queue].forecast
    rows = []
    for level in levels:
        for seconds in times:
            settings = dataclasses.replace(base, service_level=level, answer_s=seconds)
            plan = staff_forecast(forecast, settings, cfg, quantile=result.quantile,
                                  initial_backlog=result.queues[queue].initial_backlog)
            rows.append(_curve_row(plan, settings, result))
    return pd.DataFrame(rows)


def _targets(values: float | Iterable[float] | None, default: float, key: str) -> list[float]:
    """``values`` as a list of floats: one number is a list of one, None the default."""
    if values is None:
        return [float(default)]
    if isinstance(values, numbers.Real) and not isinstance(values, bool):
        return [float(values)]
    try:
        out = [float(v) for v in values]
    except (TypeError, ValueError):
        raise ConfigError(f"expected a number or a list of numbers, got {values!r}",
                          key=key) from None
    if not out:
        raise ConfigError("is an empty list; give at least one value", key=key)
    return out


def _curve_row(plan: pd.DataFrame, settings: QueueConfig, result: PlanResult) -> dict:
    """One point of :func:`service_target_curve`: the totals of ``plan``."""
    total = period_summary(plan, **plan_settings(result), period="total",
                           totals=False).iloc[0]
    abandon = plan["abandonment"].to_numpy(dtype=float)
    volume = plan["volume"].to_numpy(dtype=float)
    known = np.isfinite(abandon) & (volume > 0)
    return {
        "target": settings.service_level,
        "answer_s": settings.answer_s,
        "agent_hours": total["agent_hours"],
        "fte": total["fte"],
        "cost": total["cost"],
        "service_level": total["service_level"],
        "abandonment": (float((abandon[known] * volume[known]).sum() / volume[known].sum())
                        if known.any() else np.nan),
        "peak_agents": int(total["peak_agents"]),
        "share_bound_by_target": float(plan["binding"].isin(
            ["service_level", "response_time"]).mean()),
    }
