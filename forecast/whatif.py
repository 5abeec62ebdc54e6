"""What-if analysis: change volume, handle time, staffing rules or events and compare.

>>> from forecast.whatif import WhatIf, run_whatif
>>> result = run_whatif(config, WhatIf(volume_scale=1.2, queues=("voice",)))
>>> result.comparison          # base vs scenario per queue: agent-hours, FTE, cost, SL

Changes that leave the forecast alone (volume or AHT scaling, shrinkage, occupancy,
service target) restaff the base forecast without refitting; changes to events or
opening hours refit the forecasts of the queues concerned.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import events as events_io
from .config import OpeningHours, PlanConfig
from .exceptions import ConfigError
from .plan import (
    PlanInputs,
    PlanResult,
    QueuePlan,
    Scenario,
    build_plan,
    load_inputs,
    staff_forecast,
)

__all__ = ["WhatIf", "WhatIfResult", "run_whatif", "compare_totals"]


@dataclass(frozen=True)
class WhatIf:
    """One scenario's changes; every field left at its default changes nothing.

    Attributes
    ----------
    volume_scale, aht_scale
        Multiply forecast volume / handle time (1.2 = +20%).
    shrinkage, max_occupancy, service_level, answer_s
        Replace the queue's setting.
    hours
        Replace the queue's opening hours.
    add_events
        Events table (same columns as the events file) added to the calendar.
    remove_events
        Names of events taken out of the calendar.
    queues
        Queues the changes apply to (``None``: all).
    """

    volume_scale: float = 1.0
    aht_scale: float = 1.0
    shrinkage: float | None = None
    max_occupancy: float | None = None
    service_level: float | None = None
    answer_s: float | None = None
    hours: OpeningHours | None = None
    add_events: pd.DataFrame | None = None
    remove_events: tuple[str, ...] = ()
    queues: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
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

    @property
    def refits(self) -> bool:
        """Whether the forecasts must be refitted (events or hours change)."""
        return self.hours is not None or bool(self.remove_events) or (
            self.add_events is not None and len(self.add_events) > 0)

    def applies_to(self, queue: str) -> bool:
        return self.queues is None or queue in self.queues

    def describe(self) -> str:
        parts = []
        if self.volume_scale != 1:
            parts.append(f"volume x{self.volume_scale:g}")
        if self.aht_scale != 1:
            parts.append(f"AHT x{self.aht_scale:g}")
        for name in ("shrinkage", "max_occupancy", "service_level", "answer_s"):
            if getattr(self, name) is not None:
                parts.append(f"{name} {getattr(self, name):g}")
        if self.hours is not None:
            parts.append(f"hours {self.hours.describe()}")
        if self.add_events is not None and len(self.add_events):
            parts.append("add " + ", ".join(self.add_events["name"].astype(str)))
        if self.remove_events:
            parts.append("remove " + ", ".join(self.remove_events))
        scope = "all queues" if self.queues is None else ", ".join(self.queues)
        return f"{'; '.join(parts) or 'no change'} ({scope})"

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
                queues[name] = dataclasses.replace(queue, **overrides)
        return dataclasses.replace(config, queues=queues)

    def scenario(self) -> Scenario:
        return Scenario(volume_scale=self.volume_scale, aht_scale=self.aht_scale)


@dataclass
class WhatIfResult:
    """A base plan, the scenario's plan and their comparison."""

    change: WhatIf
    base: PlanResult
    scenario: PlanResult

    @property
    def comparison(self) -> pd.DataFrame:
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
        Staff both plans to this forecast quantile instead of the mean.
    inputs, base
        Already loaded inputs / an already built base plan, to save work.
    """
    inputs = inputs or load_inputs(config)
    unknown = sorted(set(change.queues or ()) - set(inputs.queues))
    if unknown:
        raise ConfigError(f"queue '{unknown[0]}' is not in the data; queues found: "
                          f"{', '.join(inputs.queues)}", key="queues")
    base = base or build_plan(config, quantile=quantile, inputs=inputs)
    scenario_config = change.config_for(config, inputs.queues)
    if change.refits:
        scenario = _refit(scenario_config, inputs, change, quantile, base)
    else:
        scenario = _restaff(scenario_config, change, quantile, base)
    return WhatIfResult(change=change, base=base, scenario=scenario)


def _restaff(config: PlanConfig, change: WhatIf, quantile: float | None,
             base: PlanResult) -> PlanResult:
    queues = {}
    for name, q in base.queues.items():
        if not change.applies_to(name):
            queues[name] = q
            continue
        plan = staff_forecast(q.forecast, config.queue(name), config, quantile=quantile,
                              scenario=change.scenario())
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
    return dataclasses.replace(base, config=config, queues=queues, events=events)


def compare_totals(base: PlanResult, scenario: PlanResult) -> pd.DataFrame:
    """Per queue and in total: volume, agent-hours, FTE, cost and service level, base vs
    scenario, with the differences."""
    rows = []
    for label, result in (("base", base), ("scenario", scenario)):
        daily = result.daily
        weeks = max(daily["date"].nunique() / 7.0, 1 / 7)
        totals = daily.groupby("queue").agg(volume=("volume", "sum"),
                                            agent_hours=("agent_hours", "sum"),
                                            cost=("cost", "sum"))
        weighted = (daily["service_level"].fillna(1.0) * daily["volume"]).groupby(
            daily["queue"]).sum()
        totals.loc["all"] = totals.sum()
        weighted.loc["all"] = weighted.sum()
        totals["fte"] = totals["agent_hours"] / (result.config.hours_per_fte * weeks)
        totals["service_level"] = weighted / totals["volume"].where(totals["volume"] > 0)
        rows.append(totals.add_suffix(f"_{label}"))
    out = pd.concat(rows, axis=1)
    for col in ("volume", "agent_hours", "fte", "cost", "service_level"):
        out[f"{col}_change"] = out[f"{col}_scenario"] - out[f"{col}_base"]
    out.index.name = "queue"
    return out.reset_index()
