"""forecast: contact-centre volume forecasting and agent staffing.

The public API, re-exported here (see ``__all__``)::

    import forecast

    config = forecast.load_config("centre.toml")
    result = forecast.build_plan(config, quantile=0.8)     # forecast + staffing plan
    result.daily                                           # per queue and day
    forecast.erlang_c(agents=12, load=10.0)                # the queueing maths
    forecast.run_whatif(config, forecast.WhatIf(volume_scale=1.2, queues=("voice",)))

Names are imported on first use, so ``import forecast`` (and the ``wfm`` command)
start quickly.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # configuration and errors
    "load_config": "config", "config_from_dict": "config", "PlanConfig": "config",
    "QueueConfig": "config", "OpeningHours": "config", "ForecastSettings": "config",
    "ForecastError": "exceptions", "DataValidationError": "exceptions",
    "ConfigError": "exceptions", "NotFittedError": "exceptions", "ModelError": "exceptions",
    "ForecastWarning": "exceptions", "DataRepairWarning": "exceptions",
    "ModelFallbackWarning": "exceptions",
    # data and events
    "read_volumes": "data", "read_volumes_for": "data", "regularise": "data",
    "future_grid": "data", "infer_hours": "data", "infer_interval_s": "data",
    "describe_volumes": "data", "RegulariseReport": "data",
    "EVENT_TYPES": "events", "read_events": "events", "holiday_events": "events",
    "combine_events": "events", "add_event": "events", "events_for_queue": "events",
    "events_in": "events",
    # forecasting
    "fit_forecast": "forecasters", "select_model": "forecasters", "make_model": "forecasters",
    "build_model": "forecasters", "model_from_dict": "forecasters", "Forecaster": "forecasters",
    "MODELS": "forecasters", "quantile_column": "forecasters",
    "EventAdjusted": "event_effects", "learn_event_effects": "event_effects",
    "find_peaks": "peaks", "Ensemble": "forecasters", "choose_fitted": "forecasters",
    # queueing and staffing
    "erlang_b": "queueing", "erlang_c": "queueing", "erlang_a": "queueing",
    "service_level": "queueing", "asa": "queueing", "occupancy": "queueing",
    "required_agents": "queueing", "ErlangAResult": "queueing", "RequiredAgents": "queueing",
    "staff_queue": "staffing",
    # planning
    "build_plan": "plan", "load_inputs": "plan", "plan_queue": "plan", "PlanResult": "plan",
    "QueuePlan": "plan", "Scenario": "plan", "daily_summary": "plan",
    "WhatIf": "whatif", "run_whatif": "whatif", "replan_day": "replan",
    "ReplanSettings": "replan", "fit_models": "store", "load_models": "store",
    "weekly_table": "summary", "daily_table": "summary", "horizon_totals": "summary",
    "compare_plans": "summary", "combined_requirement": "summary",
    "service_target_curve": "summary", "write_plan_outputs": "report",
    # simulation and calibration
    "simulate_plan": "simulate", "simulate_queue": "simulate", "SimulationResult": "simulate",
    "replay_deferred": "simulate", "backtest_plans": "planbacktest",
    "PlanBacktestResult": "planbacktest",
    "read_call_records": "records", "Calibration": "calibrate",
    "apply_calibration": "calibrate", "load_calibration": "calibrate",
}

#: public submodules, besides those of the exports, reachable as ``forecast.<name>``
_SUBMODULES = ("atomic", "backtest", "cli", "manifest", "parallel", "planwriter")

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        if name in set(_EXPORTS.values()) | set(_SUBMODULES):  # forecast.summary.plan_settings
            return importlib.import_module(f".{name}", __name__)
        raise AttributeError(f"module 'forecast' has no attribute '{name}'")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
