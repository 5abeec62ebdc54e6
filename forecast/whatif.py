"""What-if analysis: change volume, handle time, staffing rules or events and compare.

>>> from forecast.whatif import WhatIf, run_whatif
>>> result = run_whatif(config, WhatIf(volume_scale=1.2, queues=("voice",)))
>>> result.comparison          # base vs scenario per queue: agent-hours, FTE, cost, SL

Changes that leave the forecast alone (volume or AHT scaling, shrinkage, occupancy,
service target) restaff the base forecast without refitting; changes to events or
opening hours refit the forecasts of the queues concerned.

Opening hours with no history (a day or a time the queue never opened) get the volume
the forecast model extrapolates from the hours it has seen, which is new demand: the
what-if warns how many contacts that adds. ``WhatIf(same_volume=True)`` (``wfm whatif
--same-volume``) instead keeps each changed queue's total contacts over the horizon at
the base plan's, spread over the new hours in the shape the model forecasts: the same
customers over longer hours.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import events as events_io
from .config import WEEKDAYS, OpeningHours, PlanConfig, QueueConfig
from .exceptions import ConfigError, ForecastWarning
from .forecasters.base import slot_key
from .plan import (
    PlanInputs,
    PlanResult,
    QueuePlan,
    Scenario,
    build_plan,
    load_inputs,
    staff_forecast,
)
from .summary import ALL_QUEUES, horizon_totals, plan_settings

__all__ = ["WhatIf", "WhatIfResult", "run_whatif", "compare_totals", "format_comparison"]

#: the settings that make up a service target
_TARGET = ("service_level", "answer_s")


@dataclass(frozen=True)
class WhatIf:
    """One scenario's changes; every field left at its default changes nothing.

    Attributes
    ----------
    volume_scale, aht_scale
        Multiply forecast volume / handle time (1.2 = +20%).
    shrinkage, max_occupancy, service_level, answer_s
        Replace the queue's setting. A service target (``service_level``,
        ``answer_s``) with ``queues=None`` changes the immediate queues (voice, chat)
        only: the deferred ones (email, social) count their targets in open hours.
    hours
        Replace the queue's opening hours.
    same_volume
        With ``hours``: keep each changed queue's total contacts over the horizon at
        the base plan's (times ``volume_scale``). The refitted forecast (mean and
        quantiles) is scaled by base total / scenario total, so the contacts spread
        over the new hours in the shape the model forecasts, hours with no history
        included, instead of adding the model's extrapolation for those hours as new
        demand.
    add_events
        Events table (same columns as the events file) added to the calendar.
    remove_events
        Names of events taken out of the calendar.
    queues
        Queues the changes apply to (``None``: all); a single name is one queue.

    Raises
    ------
    ConfigError
        On construction, when a numeric field is not a number, ``queues`` is empty,
        ``volume_scale`` or ``aht_scale`` is negative or not finite, ``shrinkage`` or
        ``service_level`` is outside [0, 1), ``max_occupancy`` outside [0, 1],
        ``answer_s`` negative, or ``same_volume`` is set without ``hours``; the key
        names the field.
    """

    volume_scale: float = 1.0
    aht_scale: float = 1.0
    shrinkage: float | None = None
    max_occupancy: float | None = None
    service_level: float | None = None
    answer_s: float | None = None
    hours: OpeningHours | None = None
    same_volume: bool = False
    add_events: pd.DataFrame | None = None
    remove_events: tuple[str, ...] = ()
    queues: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        # a single name is one queue / event, not a sequence of its characters
        for name in ("queues", "remove_events"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name,
                                   (value,) if isinstance(value, str) else tuple(value))
        if self.queues == ():
            raise ConfigError("names no queue, so the what-if would change nothing; name at "
                              "least one, or leave it None for every queue", key="queues")
        for name in ("volume_scale", "aht_scale", "shrinkage", "max_occupancy",
                     "service_level", "answer_s"):
            value = getattr(self, name)
            optional = name not in ("volume_scale", "aht_scale")
            if (value is None and optional) or (isinstance(value, numbers.Real)
                                                and not isinstance(value, bool)):
                continue
            raise ConfigError(f"must be a number{' or None' if optional else ''}, got "
                              f"{type(value).__name__} {value!r}", key=name)
        for name in ("volume_scale", "aht_scale"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise ConfigError(f"must be a non-negative number, got {value}", key=name)
        checks = {"shrinkage": (0, 1, False), "max_occupancy": (0, 1, True),
                  "service_level": (0, 1, False)}
        for name, (low, high, closed_high) in checks.items():
            value = getattr(self, name)
            if value is not None and not (low <= value < high or (closed_high and value == high)):
                raise ConfigError(f"must lie in [{low}, {high}{']' if closed_high else ')'}, "
                                  f"got {value}", key=name)
        if self.answer_s is not None and self.answer_s < 0:
            raise ConfigError(f"must be >= 0 seconds, got {self.answer_s}", key="answer_s")
        if self.same_volume and self.hours is None:
            raise ConfigError("keeps the volume of a change of opening hours; give hours "
                              "too", key="same_volume")

    @property
    def refits(self) -> bool:
        """Whether the forecasts must be refitted (events or hours change)."""
        return self.hours is not None or bool(self.remove_events) or (
            self.add_events is not None and len(self.add_events) > 0)

    def applies_to(self, queue: str) -> bool:
        """Whether the changes concern ``queue`` at all."""
        return self.queues is None or queue in self.queues

    def target_applies_to(self, queue: QueueConfig) -> bool:
        """Whether the service target changes for ``queue``: named queues, else the
        immediate ones only (a target in seconds means nothing to an email queue)."""
        return queue.name in self.queues if self.queues is not None else not queue.is_deferred

    def added_events(self) -> list[tuple[str, str | None]]:
        """Name and queue (``None``: every queue) of each added event."""
        if self.add_events is None:
            return []
        table = self.add_events
        queues = table["queue"] if "queue" in table.columns else [None] * len(table)
        return [(str(name), None if pd.isna(queue) or queue == "" else str(queue))
                for name, queue in zip(table["name"], queues, strict=True)]

    def describe(self) -> str:
        """One line naming the changes and the queues they apply to."""
        parts = []
        if self.volume_scale != 1:
            parts.append(f"volume x{self.volume_scale:g}")
        if self.aht_scale != 1:
            parts.append(f"AHT x{self.aht_scale:g}")
        for name in ("shrinkage", "max_occupancy", "service_level", "answer_s"):
            if getattr(self, name) is not None:
                parts.append(f"{name} {getattr(self, name):g}")
        if self.queues is None and any(getattr(self, k) is not None for k in _TARGET):
            parts[-1] += " on immediate queues"
        if self.hours is not None:
            parts.append(f"hours {self.hours.describe()}"
                         + (", same total volume" if self.same_volume else ""))
        events_only = not parts
        added = self.added_events()
        if added:  # without what-if queues, label each with its own
            parts.append("add " + ", ".join(
                name if self.queues is not None else f"{name} ({queue or 'all queues'})"
                for name, queue in added))
        if self.remove_events:
            events_only = False
            parts.append("remove " + ", ".join(self.remove_events))
        if self.queues is not None:
            scope = f" ({', '.join(self.queues)})"
        else:
            scope = "" if events_only and parts else " (all queues)"
        return f"{'; '.join(parts) or 'no change'}{scope}"

    def config_for(self, config: PlanConfig, queue_names) -> PlanConfig:
        """The configuration with the staffing changes applied to the queues concerned.

        Every queue in ``queue_names`` gets an explicit section, so queues that ran on the
        defaults are covered too.
        """
        overrides = {k: getattr(self, k) for k in
                     ("shrinkage", "max_occupancy", "service_level", "answer_s", "hours")
                     if getattr(self, k) is not None}
        if not overrides:
            return config
        queues = {name: config.queue(name) for name in queue_names}
        for name, queue in queues.items():
            if self.applies_to(name):
                changed = {k: v for k, v in overrides.items()
                           if k not in _TARGET or self.target_applies_to(queue)}
                queues[name] = dataclasses.replace(queue, **changed)
        return dataclasses.replace(config, queues=queues)

    def scenario(self) -> Scenario:
        """The volume and handle-time scaling as a :class:`~forecast.plan.Scenario`."""
        return Scenario(volume_scale=self.volume_scale, aht_scale=self.aht_scale)


@dataclass
class WhatIfResult:
    """A base plan, the scenario's plan and their comparison.

    Attributes
    ----------
    change
        The scenario's changes.
    base, scenario
        The two plans.
    warnings
        What :func:`run_whatif` warned about (also raised as ``ForecastWarning``): a
        target kept off deferred queues, a ``service_level`` given to a deferred queue
        (staffed to answer every contact within ``answer_s``), hours opened with no history (and the
        contacts the model put there), a scenario queue expected below its target, a
        queue planned over a different window in the two plans.
    """

    change: WhatIf
    base: PlanResult
    scenario: PlanResult
    warnings: list[str] = field(default_factory=list)

    @property
    def comparison(self) -> pd.DataFrame:
        """:func:`compare_totals` of the base and the scenario."""
        return compare_totals(self.base, self.scenario)


def run_whatif(
    config: PlanConfig,
    change: WhatIf,
    *,
    quantile: float | None = None,
    inputs: PlanInputs | None = None,
    base: PlanResult | None = None,
) -> WhatIfResult:
    """Plan the base case and the scenario and compare them.

    Parameters
    ----------
    config
        The base configuration.
    change
        The scenario.
    quantile
        Staff both plans to this forecast quantile instead of the mean. With ``base``,
        the scenario is staffed to the base's (``base.volume_column``), and a
        ``quantile`` given too must agree with it.
    inputs, base
        Already loaded inputs / an already built base plan, to save work.

    Returns
    -------
    WhatIfResult
        The base plan, the scenario's plan and the warnings; its ``comparison`` is
        the per-queue table of :func:`compare_totals`. Changes to events or hours
        refit the queues the change applies to; other changes restaff their base
        forecast. Queues the change does not apply to keep their base plan.

    Raises
    ------
    ConfigError
        When ``quantile`` disagrees with ``base``'s, ``change.queues`` names a queue
        that is not in the data, an added event
        is for a queue that is not in the data or not among ``change.queues``, or a
        removed event is not in the calendar; and as :func:`forecast.build_plan`.
    DataValidationError
        When the inputs cannot be loaded (see :func:`forecast.load_inputs`).

    Warns
    -----
    ForecastWarning
        For each of ``WhatIfResult.warnings``.
    """
    if base is not None:
        quantile = _base_quantile(base, quantile)
    inputs = inputs or load_inputs(config)
    unknown = sorted(set(change.queues or ()) - set(inputs.queues))
    if unknown:
        raise ConfigError(f"queue '{unknown[0]}' is not in the data; queues found: "
                          f"{', '.join(inputs.queues)}", key="queues")
    _check_added_events(change, inputs.queues)
    base = base or build_plan(config, quantile=quantile, inputs=inputs)
    scenario_config = change.config_for(config, inputs.queues)
    if change.refits:
        scenario = _refit(scenario_config, inputs, change, quantile, base)
    else:
        scenario = _restaff(scenario_config, change, quantile, base)
    result = WhatIfResult(change=change, base=base, scenario=scenario)
    result.warnings = _new_hours_notes(result, inputs.history) + _notes(result, config)
    for text in result.warnings:
        warnings.warn(text, ForecastWarning, stacklevel=2)
    return result


def _base_quantile(base: PlanResult, quantile: float | None) -> float | None:
    """The quantile the base plan is staffed to; a different ``quantile`` is an error (the
    scenario would be staffed to another volume than the base it is compared with)."""
    if quantile is not None and (base.quantile is None
                                 or not math.isclose(quantile, base.quantile)):
        raise ConfigError(f"quantile={quantile} disagrees with the base plan, which is staffed "
                          f"to the {base.volume_column}; leave quantile out to use the "
                          "base's, or build the base with this quantile", key="quantile")
    return base.quantile


def _check_added_events(change: WhatIf, queues: list[str]) -> None:
    """An added event for a queue outside the data or outside the what-if would change
    nothing: say so instead of showing a zero change."""
    for name, queue in change.added_events():
        if queue is None:
            continue
        if queue not in queues:
            raise ConfigError(f"event '{name}' is for queue '{queue}', which is not in the "
                              f"data; queues found: {', '.join(queues)}", key="add_event")
        if not change.applies_to(queue):
            raise ConfigError(f"event '{name}' is for queue '{queue}', but the what-if "
                              f"changes {', '.join(change.queues or ())} only; add "
                              f"'{queue}' to its queues", key="add_event")


def _notes(result: WhatIfResult, config: PlanConfig) -> list[str]:
    """Warnings about a what-if: whom a target skipped, targets the scenario misses,
    plans over different windows."""
    change, notes = result.change, []
    if any(getattr(change, k) is not None for k in _TARGET) and change.queues is None:
        skipped = [n for n in result.base.queues if config.queue(n).is_deferred]
        if skipped:
            notes.append(f"the service target applies to the immediate queues only; "
                         f"deferred queue(s) {', '.join(skipped)} keep their own targets "
                         "(counted in open hours): name them as what-if queues (--queue) "
                         "to change them")
    if change.service_level is not None and change.queues is not None:
        deferred = [n for n in change.queues if config.queue(n).is_deferred]
        if deferred:
            notes.append(f"service_level does not change deferred queue(s) "
                         f"{', '.join(deferred)}: they are staffed to answer every contact "
                         "within answer_s; " + ("change answer_s instead"
                                                if change.answer_s is None else
                                                f"only answer_s {change.answer_s:g} does"))
    table = result.comparison.set_index("queue")
    for name in result.scenario.queues:
        queue = result.scenario.config.queue(name)
        expected = table.loc[name, "service_level_scenario"]
        if expected < queue.service_level - 1e-9:
            notes.append(f"scenario: queue '{name}' expects service level {expected:.3f}, "
                         f"below its target {queue.service_level:g} within "
                         f"{queue.answer_s:g} s")
    base_days, scenario_days = _window_days(result.base), _window_days(result.scenario)
    for name in scenario_days.index.intersection(base_days.index):
        if base_days[name] != scenario_days[name]:
            notes.append(f"queue '{name}' is planned over {scenario_days[name]} days in the "
                         f"scenario but {base_days[name]} in the base: its agent-hours and "
                         "cost compare different windows (FTE are per week)")
    return notes


def _unseen(plan: pd.DataFrame, history: pd.DataFrame) -> np.ndarray:
    """Mask of the plan's intervals whose slot (weekday and time of day) has no observed
    (not gap-filled) interval in the queue's history."""
    seen = history.loc[~history["filled"].fillna(False).astype(bool), "ds"]
    return ~np.isin(slot_key(plan["ds"]), np.unique(slot_key(seen)))


def _describe_slots(ds: pd.Series, interval_s: int) -> str:
    """Weekdays and times of ``ds``, e.g. 'mon-fri 20:00-22:00; sat 08:00-09:00,
    17:00-22:00; sun 08:00-22:00' (each run of consecutive intervals as start-end)."""
    step = interval_s // 60
    idx = pd.DatetimeIndex(ds)
    minutes = pd.Series(idx.hour * 60 + idx.minute).groupby(idx.day_of_week.to_numpy())
    by_times: dict[str, list[int]] = {}
    for day, values in minutes:
        starts = np.unique(values.to_numpy())
        breaks = np.flatnonzero(np.diff(starts) != step) + 1
        times = ", ".join(f"{_hhmm(run[0])}-{_hhmm(run[-1] + step)}"
                          for run in np.split(starts, breaks))
        by_times.setdefault(times, []).append(int(day))
    parts = []
    for times, days in by_times.items():
        runs = np.split(np.array(days), np.flatnonzero(np.diff(days) != 1) + 1)
        names = ", ".join(WEEKDAYS[r[0]] if len(r) == 1 else f"{WEEKDAYS[r[0]]}-{WEEKDAYS[r[-1]]}"
                          for r in runs)
        parts.append(f"{names} {times}")
    return "; ".join(parts)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}" if minutes < 1440 else "24:00"


def _new_hours_notes(result: WhatIfResult, history: pd.DataFrame) -> list[str]:
    """Per queue whose scenario hours open slots the history never saw: where, and how
    many contacts the model put there (new demand unless ``same_volume``)."""
    change, notes = result.change, []
    if change.hours is None:
        return notes
    interval_s = result.scenario.config.interval_s
    for name, q in result.scenario.queues.items():
        if not change.applies_to(name):
            continue
        unseen = _unseen(q.plan, history[history["queue"] == name])
        if not unseen.any():
            continue
        added = float(q.plan.loc[unseen, "volume"].sum())
        base_total = float(result.base.queues[name].plan["volume"].sum())
        share = (f" ({added / base_total:+.1%} on the base's {base_total:,.0f})"
                 if base_total > 0 else "")
        where = _describe_slots(q.plan.loc[unseen, "ds"], interval_s)
        if change.same_volume:
            how = (f"the model's extrapolation from the hours it has seen puts {added:,.0f} "
                   f"contacts there{share}, taken from the other hours: the queue's total is "
                   "kept at the base's")
        else:
            how = (f"the model extrapolated their volume from the hours it has seen, adding "
                   f"{added:,.0f} contacts{share}: new demand, an assumption, not history "
                   "(--same-volume keeps the base's total instead)")
        notes.append(f"scenario: queue '{name}' opens hours with no history ({where}); {how}")
    return notes


def _restaff(config: PlanConfig, change: WhatIf, quantile: float | None,
             base: PlanResult) -> PlanResult:
    queues = {}
    for name, q in base.queues.items():
        if not change.applies_to(name):
            queues[name] = q
            continue
        plan = staff_forecast(q.forecast, config.queue(name), config, quantile=quantile,
                              scenario=change.scenario(), initial_backlog=q.initial_backlog)
        queues[name] = dataclasses.replace(q, plan=plan, daily=None)  # daily made anew
    return dataclasses.replace(base, config=config, queues=queues)


def _refit(config: PlanConfig, inputs: PlanInputs, change: WhatIf, quantile: float | None,
           base: PlanResult) -> PlanResult:
    events = inputs.events
    if change.remove_events:
        missing = sorted(set(change.remove_events) - set(events["name"].astype(str)))
        if missing:
            raise ConfigError(f"no event named '{missing[0]}' in the calendar", key="remove_event")
        events = events[~events["name"].isin(change.remove_events)]
    if change.add_events is not None:
        events = events_io.combine_events(events, change.add_events)
    scenario_inputs = dataclasses.replace(inputs, config=config, events=events)
    names = [n for n in base.queues if change.applies_to(n)]
    refitted = build_plan(config, quantile=quantile, inputs=scenario_inputs, queues=names,
                          scenarios={n: change.scenario() for n in names})
    queues: dict[str, QueuePlan] = dict(base.queues)
    queues.update(refitted.queues)
    if change.same_volume:
        for name in refitted.queues:
            queues[name] = _keep_volume(queues[name], base.queues[name], config, change,
                                        quantile)
    return dataclasses.replace(base, config=config, queues=queues, events=events)


def _keep_volume(scenario: QueuePlan, base: QueuePlan, config: PlanConfig, change: WhatIf,
                 quantile: float | None) -> QueuePlan:
    """``scenario`` restaffed with its forecast (mean and quantiles) scaled to the base
    forecast's total."""
    total = float(scenario.forecast["mean"].sum())
    if total <= 0:
        return scenario
    factor = float(base.forecast["mean"].sum()) / total
    columns = ["mean"] + [c for c in scenario.forecast.columns
                          if c.startswith("p") and c[1:2].isdigit()]
    forecast = scenario.forecast.copy()
    forecast[columns] = forecast[columns] * factor
    plan = staff_forecast(forecast, config.queue(scenario.queue), config, quantile=quantile,
                          scenario=change.scenario(), initial_backlog=scenario.initial_backlog)
    return dataclasses.replace(scenario, forecast=forecast, plan=plan, daily=None)


def _window_days(result: PlanResult) -> pd.Series:
    """Calendar days each queue is planned over: its first to its last planned day, at
    least the configured horizon (a queue closed on the horizon's last day)."""
    dates = result.daily.groupby("queue")["date"]
    span = (dates.max() - dates.min()).dt.days + 1
    return span.clip(lower=result.config.forecast.horizon_days).astype("int64")


def compare_totals(base: PlanResult, scenario: PlanResult) -> pd.DataFrame:
    """Per queue and in total: volume, agent-hours, FTE, cost and service level, base vs
    scenario, with the differences.

    Volume, agent-hours, cost and service level are each plan's
    :func:`forecast.summary.horizon_totals`, the figures the report and
    :func:`forecast.summary.compare_plans` show (service level volume-weighted over the
    intervals that have one; NaN for a queue without contacts). FTE is a queue's
    agent-hours over its own planned window (``hours_per_fte`` per 7 days), and the
    ``all`` row sums the queues' FTE, so a queue the scenario leaves alone shows no
    FTE change even when another queue is planned over a longer window.

    Returns
    -------
    DataFrame
        ``queue`` (the queues, then ``all``), ``<metric>_base``,
        ``<metric>_scenario`` and ``<metric>_change`` (scenario - base) for volume,
        agent_hours, fte, cost and service_level.
    """
    metrics = ["volume", "agent_hours", "cost", "fte", "service_level"]
    rows = []
    for label, result in (("base", base), ("scenario", scenario)):
        totals = horizon_totals(result.plan, **plan_settings(result)).set_index("queue")
        queues = totals.index != ALL_QUEUES
        totals.loc[queues, "fte"] = totals.loc[queues, "agent_hours"] / (
            result.config.hours_per_fte * _window_days(result).reindex(
                totals.index[queues]) / 7.0)
        totals.loc[~queues, "fte"] = totals.loc[queues, "fte"].sum()
        rows.append(totals[metrics].add_suffix(f"_{label}"))
    out = pd.concat(rows, axis=1)
    for col in ("volume", "agent_hours", "fte", "cost", "service_level"):
        out[f"{col}_change"] = out[f"{col}_scenario"] - out[f"{col}_base"]
    out.index.name = "queue"
    return out.reset_index()


def format_comparison(table: pd.DataFrame) -> str:
    """:func:`compare_totals` as the text table ``wfm whatif`` prints: contacts and
    agent-hours base, scenario and change, FTE and cost change, service level base and
    scenario ("-" for a queue without contacts).
    """
    def level(value: float) -> str:
        return f"{value:>8.3f}" if np.isfinite(value) else f"{'-':>8}"

    lines = [f"{'queue':<10} {'contacts base':>13} {'scenario':>10} {'change':>9} "
             f"{'agent-h base':>13} {'scenario':>10} {'change':>9} "
             f"{'FTE change':>10} {'cost change':>12} {'SL base':>8} {'SL scen.':>8}"]
    for row in table.itertuples(index=False):
        lines.append(f"{row.queue:<10} {row.volume_base:>13,.0f} {row.volume_scenario:>10,.0f} "
                     f"{row.volume_change:>+9,.0f} {row.agent_hours_base:>13,.0f} "
                     f"{row.agent_hours_scenario:>10,.0f} {row.agent_hours_change:>+9,.0f} "
                     f"{row.fte_change:>+10.1f} {row.cost_change:>+12,.0f} "
                     f"{level(row.service_level_base)} {level(row.service_level_scenario)}")
    if not np.isfinite(table["service_level_scenario"].to_numpy(dtype=float)).all():
        lines.append('SL "-": no contacts to serve')
    return "\n".join(lines)
