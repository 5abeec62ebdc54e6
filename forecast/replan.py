"""Intraday re-plan: update the rest of today's forecast from what has arrived so far.

The rule planners use: scale the remaining intervals' forecast by how far today's
actuals ran above or below the forecast. Recent intervals count more (an outage
shows in the last hour before it shows in the day's total): the ratio is

    r = (sum_i w_i a_i + k) / (sum_i w_i f_i + k),   w_i = 0.5 ** (age_i / half_life)

over the elapsed intervals i of the day, with actuals a_i, forecasts f_i and a small
pseudo-count k that keeps a quiet early morning from swinging the plan. The forecast
f is the plan's mean (``volume_mean``) when it has one, so a plan staffed to a quantile
(``wfm plan --quantile 0.8``) is compared on its mean, not on its P80. The remaining
intervals' staffed volume (the mean or the quantile the plan was made for) is scaled
by ``r`` (optionally fading back with ``decay_hours``), keeping the plan's margin over
the mean, and staffed again; the change in agents per interval says whom to pull in or
release.

Email and social restart from the plan's own backlog at the end of the previous day
(plan.csv's ``backlog`` column), not from an empty queue at midnight. Their plan also
holds work spread from earlier days' response windows, which a restart from the
backlog does not see: the day is staffed twice from that backlog, with the plan's
volumes and with the new ones, and the difference is added to the plan's agents.

Handle times are not re-planned: the plan's ``aht_s`` is kept for every interval (an
AHT column in the actuals is not used).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .config import PlanConfig
from .exceptions import DataValidationError, ForecastError, ForecastWarning
from .staffing import scheduled_heads, staff_queue

__all__ = ["ReplanSettings", "replan_day", "REPLAN_COLUMNS"]

REPLAN_COLUMNS = [
    "queue", "ds", "status", "forecast", "actual", "volume", "ratio", "agents_required_plan",
    "agents_required", "agents_scheduled_plan", "agents_scheduled", "change", "service_level",
]


@dataclass(frozen=True)
class ReplanSettings:
    """How the ratio of actual to forecast is estimated and carried forward.

    Attributes
    ----------
    half_life_hours
        Weight halves for every this many hours an interval lies in the past.
    pseudo_count
        Contacts added to both sides of the ratio (shrinks small samples towards 1).
    decay_hours
        ``None``: hold the ratio for the rest of the day; else the excess over 1 halves
        every ``decay_hours`` after now.
    """

    half_life_hours: float = 1.0
    pseudo_count: float = 10.0
    decay_hours: float | None = None


def replan_day(
    plan: pd.DataFrame,
    actuals: pd.DataFrame,
    config: PlanConfig,
    *,
    now: pd.Timestamp | str | None = None,
    settings: ReplanSettings | None = None,
) -> pd.DataFrame:
    """Re-plan the rest of one day for every queue that has actuals.

    Parameters
    ----------
    plan
        A plan table covering the day (``queue, ds, volume, aht_s, agents_required,
        agents_scheduled``, and ``volume_mean`` and ``backlog`` when it has them), as
        written by ``wfm plan``. For email and social, the row before the day gives the
        backlog the day starts with.
    actuals
        Contacts so far today in the long shape (``queue, ds, y``); any other column
        (such as ``aht_s``) is not used.
    config
        The plan configuration (queue settings, interval).
    now
        The time of the re-plan (a timestamp or text such as ``"2026-11-16 11:00"``), on
        the actuals' day; intervals ending by it are elapsed. Default: the end of the
        last interval with actuals.
    settings
        Ratio estimation settings.

    Returns
    -------
    DataFrame
        One row per queue and interval of the day (columns :data:`REPLAN_COLUMNS`):
        ``forecast`` is the plan's mean the actuals are compared with, ``volume`` the
        volume staffed (actual when elapsed, else the plan's staffed volume x
        ``ratio``), ``change`` = new minus planned scheduled agents (positive: pull in,
        negative: can be released); for email and social, ``service_level`` is that of
        the day re-staffed from the plan's backlog.

    Raises
    ------
    DataValidationError
        No actuals, actuals over more than one day, or a queue the plan lacks that day.
    ForecastError
        ``now`` is not a time or not on the actuals' day.

    Warns
    -----
    ForecastWarning
        Actual rows the re-plan ignores (outside the plan's intervals, e.g. closed
        hours, or after ``now``), a queue whose plan forecasts no contacts that day
        although some arrived (nothing to scale: its rest of the day stays as planned),
        and an email/social queue whose plan has no backlog before the day (it starts
        with no contacts waiting).
    """
    settings = settings or ReplanSettings()
    if actuals.empty:
        raise DataValidationError("no actuals to re-plan from", column="volume")
    interval = pd.Timedelta(seconds=config.interval_s)
    day = actuals["ds"].min().normalize()
    if (actuals["ds"] >= day + pd.Timedelta(days=1)).any():
        raise DataValidationError("actuals span more than one day; give today's only",
                                  column="timestamp")
    now = actuals["ds"].max() + interval if now is None else _parse_now(now)
    if not day <= now <= day + pd.Timedelta(days=1):
        raise ForecastError(f"the re-plan time {now:%Y-%m-%d %H:%M} is not on the day of the "
                            f"actuals ({day:%Y-%m-%d}); give a time on that day")
    todays_plan = plan[(plan["ds"] >= day) & (plan["ds"] < day + pd.Timedelta(days=1))]
    queues = sorted(set(actuals["queue"]))
    missing = sorted(set(queues) - set(todays_plan["queue"]))
    if missing:
        raise DataValidationError(f"the plan has no rows for queue '{missing[0]}' on "
                                  f"{day:%Y-%m-%d}; plan that day first", column="queue")
    _warn_ignored(actuals, todays_plan, now, interval)
    frames = [
        _replan_queue(todays_plan[todays_plan["queue"] == q].sort_values("ds"),
                      actuals[actuals["queue"] == q], config, q, now, settings,
                      _backlog_before(plan, config, q, day))
        for q in queues
    ]
    return pd.concat(frames, ignore_index=True)[REPLAN_COLUMNS]


def _parse_now(now: pd.Timestamp | str) -> pd.Timestamp:
    try:
        return pd.Timestamp(now)
    except (ValueError, TypeError):
        raise ForecastError(f"re-plan time '{now}' is not a time; expected "
                            "'YYYY-MM-DD HH:MM'") from None


def _warn_ignored(actuals: pd.DataFrame, plan: pd.DataFrame, now: pd.Timestamp,
                  interval: pd.Timedelta) -> None:
    """Warn about actual rows that cannot count: outside the plan's intervals (closed
    hours, another interval grid) or not over by ``now``."""
    keys = pd.MultiIndex.from_arrays([actuals["queue"], actuals["ds"]])
    outside = ~keys.isin(pd.MultiIndex.from_arrays([plan["queue"], plan["ds"]]))
    if outside.any():
        first = actuals["ds"][outside].min()
        warnings.warn(f"{int(outside.sum())} actual row(s) fall outside the plan's intervals "
                      f"(the first at {first:%H:%M}; closed hours?) and are ignored",
                      ForecastWarning, stacklevel=3)
    late = ~outside & (actuals["ds"] + interval > now).to_numpy()
    if late.any():
        warnings.warn(f"{int(late.sum())} actual row(s) end after the re-plan time "
                      f"{now:%H:%M} and are ignored", ForecastWarning, stacklevel=3)


def _backlog_before(plan: pd.DataFrame, config: PlanConfig, queue: str,
                    day: pd.Timestamp) -> float:
    """Email/social: the plan's backlog at the end of its last interval before ``day``
    (0 for voice and chat, and, with a warning, when the plan has none)."""
    if not config.queue(queue).is_deferred:
        return 0.0
    before = plan[(plan["queue"] == queue) & (plan["ds"] < day)]
    backlog = (pd.to_numeric(before.sort_values("ds")["backlog"], errors="coerce").iloc[-1]
               if len(before) and "backlog" in plan.columns else np.nan)
    if not np.isfinite(backlog):
        warnings.warn(f"queue '{queue}': the plan has no backlog before {day:%Y-%m-%d} (its "
                      "first day?): the re-plan starts the day with no contacts waiting, so "
                      "it may release agents the plan kept for the night's and earlier work",
                      ForecastWarning, stacklevel=3)
        return 0.0
    return float(max(backlog, 0.0))


def _replan_queue(plan: pd.DataFrame, actuals: pd.DataFrame, config: PlanConfig, queue: str,
                  now: pd.Timestamp, settings: ReplanSettings,
                  initial_backlog: float) -> pd.DataFrame:
    ds = plan["ds"].reset_index(drop=True)
    staffed_plan = plan["volume"].to_numpy(dtype=float)
    # compare with the mean: a plan staffed to a quantile keeps its margin over it
    forecast = (np.clip(plan["volume_mean"].to_numpy(dtype=float), 0, None)
                if "volume_mean" in plan.columns else staffed_plan)
    actual = (actuals.set_index("ds")["y"].groupby(level=0).sum()
              .reindex(ds).to_numpy(dtype=float))
    elapsed = (ds + pd.Timedelta(seconds=config.interval_s) <= now).to_numpy()
    seen = elapsed & ~np.isnan(actual)
    age_h = ((now - ds).dt.total_seconds().to_numpy() / 3600.0)
    weights = np.where(seen, 0.5 ** (age_h / settings.half_life_hours), 0.0)
    ratio = ((np.nansum(weights * np.nan_to_num(actual)) + settings.pseudo_count)
             / (np.sum(weights * forecast) + settings.pseudo_count))
    arrived = np.nansum(np.where(seen, actual, 0.0))
    if staffed_plan.sum() == 0 and arrived > 0:
        warnings.warn(f"queue '{queue}': the plan forecasts no contacts on {ds.iloc[0]:%Y-%m-%d} "
                      f"but {arrived:g} arrived: there is no "
                      "forecast to scale, so the rest of the day stays as planned (no "
                      "contacts, no agents); plan the day afresh or staff it by hand",
                      ForecastWarning, stacklevel=3)
    ahead_h = np.clip(-age_h, 0, None)
    if settings.decay_hours is None:
        ratios = np.full(len(ds), ratio)
    else:
        ratios = 1 + (ratio - 1) * 0.5 ** (ahead_h / settings.decay_hours)
    volume = np.where(seen, np.nan_to_num(actual), staffed_plan * ratios)
    settings_q = config.queue(queue)

    def staff(volumes):
        return staff_queue(pd.DataFrame({"ds": ds, "volume": volumes,
                                         "aht_s": plan["aht_s"].to_numpy(dtype=float)}),
                           settings_q, interval_s=config.interval_s,
                           initial_backlog=initial_backlog)

    staffed = staff(volume)
    required = staffed["agents_required"].to_numpy()
    if settings_q.is_deferred:
        # the plan staffed today with the spill of earlier days' windows; restarting from
        # its backlog does not see it, so add only the difference the new volumes make
        required = np.maximum(plan["agents_required"].to_numpy()
                              + required - staff(staffed_plan)["agents_required"].to_numpy(), 0)
    future = ~elapsed
    new_required = np.where(future, required, plan["agents_required"])
    new_scheduled = np.where(future, scheduled_heads(required, settings_q.shrinkage,
                                                     settings_q.availability),
                             plan["agents_scheduled"])
    return pd.DataFrame({
        "queue": queue,
        "ds": ds,
        "status": np.where(elapsed, "elapsed", "ahead"),
        "forecast": forecast,
        "actual": actual,
        "volume": volume,
        "ratio": np.where(future, ratios, np.nan),
        "agents_required_plan": plan["agents_required"].to_numpy(),
        "agents_required": new_required,
        "agents_scheduled_plan": plan["agents_scheduled"].to_numpy(),
        "agents_scheduled": new_scheduled,
        "change": new_scheduled - plan["agents_scheduled"].to_numpy(),
        "service_level": np.where(future, staffed["service_level"], np.nan),
    })
