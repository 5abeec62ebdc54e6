"""The planning pipeline: configuration + data -> forecast -> staffing plan.

This is what ``wfm plan`` runs and what a notebook calls::

    import forecast
    result = forecast.build_plan(forecast.load_config("centre.toml"))
    result.plan       # one row per queue x interval
    result.daily      # one row per queue x day
    result.write("out/")

Each queue is planned independently by :func:`plan_queue`, the unit of work that
can run in a process pool or on a cluster.
"""

from __future__ import annotations

import dataclasses
import numbers
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import data as data_io
from . import events as events_io
from .config import PlanConfig, QueueConfig, check_queues, load_config
from .exceptions import ConfigError, DataValidationError, ForecastWarning
from .forecasters import quantile_column
from .staffing import staff_queue

__all__ = [
    "QueuePlan",
    "PlanResult",
    "PlanInputs",
    "load_inputs",
    "Scenario",
    "plan_horizon",
    "forecast_queue",
    "staff_forecast",
    "plan_queue",
    "carried_backlog",
    "build_plan",
    "daily_summary",
    "EXAMPLE_CONFIG",
]

EXAMPLE_CONFIG = Path(__file__).resolve().parents[1] / "fixtures" / "example" / "centre.toml"

Progress = Callable[[str, int, int, float], None]

#: weeks of history a QueuePlan keeps (for charts); the full history stays in PlanInputs
HISTORY_KEPT_WEEKS = 8

#: days of history staffed to estimate an email/social backlog at the plan start
BACKLOG_HISTORY_DAYS = 7


@dataclass
class PlanInputs:
    """Validated inputs of a run: the regularised history and the events table.

    Attributes
    ----------
    config
        The plan configuration the inputs were read for.
    history
        Every queue's regularised history (``queue, ds, y[, aht_s, abandoned], filled``),
        as :func:`forecast.data.regularise` returns it.
    events
        The combined events table: the events file, the public holidays of
        ``holidays_country`` and any extra events.
    report
        The :class:`~forecast.data.RegulariseReport` of the history (rows dropped,
        gaps filled).
    """

    config: PlanConfig
    history: pd.DataFrame
    events: pd.DataFrame
    report: object = None

    @property
    def queues(self) -> list[str]:
        """The queue names in the history, sorted."""
        return sorted(self.history["queue"].unique())


@dataclass
class QueuePlan:
    """Everything planned for one queue.

    Attributes
    ----------
    queue
        The queue name.
    model
        Name of the model that made the forecast.
    forecast
        The forecast over the plan horizon: ``ds, mean``, one column per quantile
        (``p80``...), ``aht_s``, ``model``, ``queue``.
    plan
        The staffing plan, one row per interval (the queue's rows of plan.csv):
        ``queue, ds``, the ``volume`` staffed for (the mean or the chosen quantile,
        negatives clipped to 0, what-if scaling applied), ``aht_s``, the staffing
        columns (:data:`forecast.staffing.STAFFING_COLUMNS`), ``volume_mean`` and the
        quantile columns.
    history
        The last :data:`HISTORY_KEPT_WEEKS` weeks of the queue's regularised history,
        for charts; the full history stays in :class:`PlanInputs`.
    leaderboard
        Backtest scores of the candidate models; None when the model was fixed by
        the configuration or loaded from the store.
    warnings
        The ``ForecastWarning`` messages raised while forecasting the queue, each once;
        :func:`build_plan` puts its notes about the queue first (no section of its own
        in the config, calibrated values applied).
    reason
        One line explaining the choice of model.
    daily
        The queue's rows of daily.csv (:func:`daily_summary`), made where the queue
        was planned; None when not made (a what-if restaff, a run with ``keep=False``).
    csv_rows
        Its plan.csv rows, formatted where it was planned (runs that stream to disk);
        None otherwise.
    initial_backlog
        Email/social: contacts estimated to be waiting at the plan start, carried into
        the staffing (see :func:`carried_backlog`); 0 for voice and chat. Re-staff the
        forecast with it (``staff_forecast(..., initial_backlog=...)``).
    """

    queue: str
    model: str
    forecast: pd.DataFrame
    plan: pd.DataFrame
    history: pd.DataFrame
    leaderboard: pd.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)
    reason: str = ""
    daily: pd.DataFrame | None = None
    csv_rows: str | None = None
    initial_backlog: float = 0.0


@dataclass
class PlanResult:
    """A whole plan: per-queue results and the combined tables.

    Attributes
    ----------
    config
        The plan configuration the plan was made with.
    queues
        Queue name -> :class:`QueuePlan`, in planning order, for the queues planned
        successfully. A run with ``keep=False`` keeps only each queue's model, reason
        and warnings (empty tables).
    events
        The events table of the run (past events taught the models, future ones
        were applied).
    volume_column
        The forecast column staffed for: ``"mean"``, or the quantile's column
        (``"p80"`` for 0.8).
    failures
        Queue name -> one-line reason, for the queues that could not be planned.
    warnings
        Warnings about the run as a whole (also raised as ``ForecastWarning``); those
        about one queue are in its :attr:`QueuePlan.warnings`.
    """

    config: PlanConfig
    queues: dict[str, QueuePlan]
    events: pd.DataFrame
    volume_column: str
    failures: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def quantile(self) -> float | None:
        """The forecast quantile staffed for (0.8 for ``"p80"``); None for the mean."""
        return None if self.volume_column == "mean" else float(self.volume_column[1:]) / 100

    @property
    def plan(self) -> pd.DataFrame:
        """One row per queue x interval (the plan.csv table): the queues' plan tables
        with each queue's ``channel`` (last)."""
        return with_channel(pd.concat([q.plan for q in self.queues.values()],
                                      ignore_index=True), self.config)

    @property
    def daily(self) -> pd.DataFrame:
        """One row per queue x day (the daily.csv table)."""
        dailies = [q.daily for q in self.queues.values()]
        if dailies and all(d is not None for d in dailies):  # made when each queue was planned
            return pd.concat(dailies, ignore_index=True).sort_values(
                ["queue", "date"], kind="stable", ignore_index=True)
        return daily_summary(self.plan, interval_s=self.config.interval_s,
                             hours_per_fte=self.config.hours_per_fte)

    def write(self, out_dir: str | Path, *, charts: bool = True,
              formats: str | Iterable[str] = ("csv",)) -> list[Path]:
        """Write plan.csv, daily.csv (and the other ``formats``) and charts to ``out_dir``.

        Parameters
        ----------
        out_dir
            Target folder (created if missing).
        charts
            ``True``: a ``chart_<queue>.png`` per queue; ``"all"``: also the staffing
            heatmap and peaks charts; ``False``: no PNG files.
        formats
            Any of ``"csv"``, ``"parquet"``, ``"xlsx"``, ``"html"``, or one string of
            them separated by commas (``"xlsx,html"``, as ``wfm plan --format``);
            plan.csv and daily.csv are always written.

        Returns
        -------
        list of Path
            The files written, in writing order.

        Raises
        ------
        ValueError
            For an unknown format or ``charts`` value.

        See Also
        --------
        forecast.report.write_plan_outputs
        """
        from .report import write_plan_outputs

        if isinstance(formats, str):  # one format, or the CLI's comma-separated list
            formats = [f.strip().lower() for f in formats.split(",") if f.strip()]
        if tuple(formats) == ("csv",):
            return write_plan_outputs(self, Path(out_dir), charts=charts)
        return write_plan_outputs(self, Path(out_dir), charts=charts, formats=tuple(formats))


def with_channel(plan: pd.DataFrame, config: PlanConfig) -> pd.DataFrame:
    """``plan`` with a ``channel`` column: each queue's channel in ``config``, as plan.csv
    holds it, so that a plan file alone says how each queue is staffed (``wfm simulate``
    reads it). :mod:`forecast.report` re-exports it."""
    channels = {q: config.queue(str(q)).channel for q in plan["queue"].unique()}
    return plan.assign(channel=plan["queue"].map(channels).astype(object))


def load_inputs(config: PlanConfig | str | Path, *,
                extra_events: pd.DataFrame | None = None) -> PlanInputs:
    """Read and validate the volumes and events named by a plan configuration.

    The volumes are read with the configured column mapping and put on the regular
    grid of each queue's arrival intervals (:func:`forecast.data.regularise`). The
    events table combines the events file (when configured), the public holidays of
    ``holidays_country`` from the start of the data to ``horizon_days + 7`` days after
    its end (when configured) and ``extra_events``.

    Parameters
    ----------
    config
        A :class:`~forecast.config.PlanConfig`, or the path of its TOML file.
    extra_events
        An events table added to the configured events (what-if events).

    Returns
    -------
    PlanInputs
        The configuration, the regularised history of every queue, the combined
        events table and the regularisation report.

    Raises
    ------
    DataValidationError
        When the volumes or events file is invalid (one line naming the file, row and
        column), or no interval of the data lies inside the opening hours.
    ConfigError
        When the TOML file cannot be loaded, or the holiday country or subdivision is
        unknown.
    TypeError
        When ``config`` is neither a ``PlanConfig`` nor a path.
    """
    config = _as_config(config)
    volumes = data_io.read_volumes_for(config)
    history, report = data_io.regularise(
        volumes,
        interval_s=config.interval_s,
        hours=data_io.hours_for(config, volumes["queue"].unique()),
        timezone=config.timezone,
    )
    if history.empty:
        raise DataValidationError("no intervals left inside opening hours; check the hours "
                                  "in the config against the data", file=config.data.volumes)
    tables = []
    if config.data.events is not None:
        tables.append(events_io.read_events(config.data.events))
    if config.holidays_country:
        start, end = history["ds"].min(), history["ds"].max() + pd.Timedelta(
            days=config.forecast.horizon_days + 7)
        tables.append(events_io.holiday_events(config.holidays_country, start, end,
                                               subdivision=config.holidays_subdivision))
    if extra_events is not None:
        tables.append(extra_events)
    events = events_io.combine_events(*tables)
    data_io.release_unused_memory()  # a long run holds only the validated history
    return PlanInputs(config=config, history=history, events=events, report=report)


def arrival_hours(history: pd.DataFrame, queue: QueueConfig, interval_s: int):
    """The hours in which contacts arrive: ``arrival_hours`` when configured, else the
    configured hours for voice and chat (contacts cannot arrive when the line is
    closed), else the data's own (email and social arrive around the clock and wait
    for the team)."""
    if queue.arrival_hours is not None:
        return queue.arrival_hours
    if queue.hours is not None and not queue.is_deferred:
        return queue.hours
    return data_io.infer_hours(history, interval_s)


@dataclass(frozen=True)
class Scenario:
    """Adjustments applied to a queue's forecast before staffing (what-if).

    Attributes
    ----------
    volume_scale
        Multiply the forecast volume (mean and quantiles) by this.
    aht_scale
        Multiply the forecast handle time by this.
    """

    volume_scale: float = 1.0
    aht_scale: float = 1.0


def plan_horizon(history: pd.DataFrame, queue: QueueConfig, config: PlanConfig,
                 start: pd.Timestamp | None = None) -> pd.DatetimeIndex:
    """The queue's future arrival intervals over the configured horizon."""
    after = history["ds"].max() if start is None else pd.Timestamp(start) - pd.Timedelta(
        seconds=1)
    horizon = data_io.future_grid(
        after,
        days=config.forecast.horizon_days,
        interval_s=config.interval_s,
        hours=arrival_hours(history, queue, config.interval_s),
        timezone=config.timezone,
    )
    if len(horizon) == 0:
        raise ConfigError(f"queue '{queue.name}' has no open intervals in the "
                          f"{config.forecast.horizon_days}-day horizon; check its hours",
                          key=f"queues.{queue.name}.hours")
    return horizon


def _warn_data_gap(history: pd.DataFrame, queue: QueueConfig, config: PlanConfig,
                   first: pd.Timestamp) -> None:
    """Warn when the plan starts open days after the queue's data ends (its data stops
    earlier than the other queues'): the forecast then reaches further ahead."""
    last = history["ds"].max()
    gap_days = (first.normalize() - last.normalize()).days
    if gap_days < 2:
        return
    missed = data_io.future_grid(last, days=gap_days, interval_s=config.interval_s,
                                 hours=arrival_hours(history, queue, config.interval_s),
                                 timezone=config.timezone)
    if ((missed < first) & (missed.normalize() > last.normalize())).any():
        warnings.warn(f"its data ends {last:%Y-%m-%d %H:%M}, {gap_days - 1} day(s) before the "
                      f"plan window ({first:%Y-%m-%d} on, after the latest data of any queue): "
                      f"forecasting {gap_days - 1} day(s) further ahead of its data",
                      ForecastWarning, stacklevel=3)


def forecast_queue(
    history: pd.DataFrame,
    events: pd.DataFrame,
    queue: QueueConfig,
    config: PlanConfig,
    *,
    quantile: float | None = None,
    start: pd.Timestamp | None = None,
    model=None,
):
    """Forecast one queue's volume and AHT over the plan horizon.

    Parameters
    ----------
    model
        A fitted model to reuse (from the model store) instead of choosing and fitting.

    Returns
    -------
    (DataFrame, ModelChoice)
        ``ds, mean``, quantile columns, ``aht_s``, ``model``; and how the model was chosen.
    """
    from .forecasters import forecast_aht
    from .forecasters.select import ModelChoice, fit_forecast

    _check_quantile(quantile)
    settings = dataclasses.replace(
        config.forecast,
        quantiles=tuple(sorted(set(config.forecast.quantiles) | ({quantile} if quantile
                                                                  else set()))))
    horizon = plan_horizon(history, queue, config, start)
    if start is not None:
        _warn_data_gap(history, queue, config, horizon[0])
    for text in data_io.fall_back_warnings(horizon, interval_s=config.interval_s,
                                           timezone=config.timezone):
        warnings.warn(text, ForecastWarning, stacklevel=2)
    if model is not None:
        fc = model.predict(horizon, events, quantiles=settings.quantiles, unseen="extrapolate")
        fc["aht_s"] = forecast_aht(history, horizon, queue.aht_s)
        fc["model"] = model.name
        return fc, ModelChoice(name=model.name, model=model, reason="loaded from the store")
    return fit_forecast(history, horizon, events, settings, default_aht_s=queue.aht_s)


def staff_forecast(
    fc: pd.DataFrame,
    queue: QueueConfig,
    config: PlanConfig,
    *,
    quantile: float | None = None,
    scenario: Scenario | None = None,
    initial_backlog: float = 0.0,
) -> pd.DataFrame:
    """Turn one queue's forecast into its plan table (staffing to the mean or a quantile).

    Parameters
    ----------
    fc
        The queue's forecast (``ds, mean``, quantile columns, ``aht_s``).
    queue, config
        The queue's settings and the plan configuration.
    quantile
        Staff to this quantile instead of the mean.
    scenario
        What-if scaling of volume and handle time (not applied to ``initial_backlog``,
        which is past work).
    initial_backlog
        Email/social: contacts waiting at the first interval's start
        (:attr:`QueuePlan.initial_backlog`); see :func:`forecast.staffing.staff_queue`.

    Returns
    -------
    DataFrame
        The plan table (:attr:`QueuePlan.plan`).
    """
    _check_quantile(quantile)
    scenario = scenario or Scenario()
    volume_column = quantile_column(quantile) if quantile else "mean"
    staffing_input = pd.DataFrame({
        "ds": fc["ds"].to_numpy(),
        "volume": np.clip(fc[volume_column].to_numpy(dtype=float), 0, None)
        * scenario.volume_scale,
        "aht_s": fc["aht_s"].to_numpy(dtype=float) * scenario.aht_scale,
    })
    plan = staff_queue(staffing_input, queue, interval_s=config.interval_s,
                       initial_backlog=initial_backlog)
    plan = plan.assign(volume_mean=fc["mean"].to_numpy() * scenario.volume_scale)
    for col in [c for c in fc.columns if c.startswith("p") and c[1:2].isdigit()]:
        plan[col] = fc[col].to_numpy() * scenario.volume_scale
    plan.insert(0, "queue", queue.name)
    return plan


def plan_queue(
    history: pd.DataFrame,
    events: pd.DataFrame,
    queue: QueueConfig,
    config: PlanConfig,
    *,
    quantile: float | None = None,
    start: pd.Timestamp | None = None,
    scenario: Scenario | None = None,
    model=None,
) -> QueuePlan:
    """Forecast and staff one queue.

    Parameters
    ----------
    history
        The queue's regularised history (``ds, y[, aht_s], filled``).
    events
        Events for this queue (past ones teach, future ones apply).
    queue
        The queue's settings.
    config
        The whole plan configuration (interval, horizon, forecast settings, time zone).
    quantile
        Staff to this quantile of the forecast (e.g. 0.8 for P80) instead of the mean.
    start
        First day of the plan; default the day after the history ends.
    scenario
        What-if adjustments of volume and handle time.
    model
        A fitted model to reuse instead of choosing and fitting one.

    Returns
    -------
    QueuePlan
        The forecast, the staffing plan and its daily summary, the last
        :data:`HISTORY_KEPT_WEEKS` weeks of history, how the model was chosen, and the
        ``ForecastWarning`` messages raised while forecasting (recorded, not re-raised).

    Raises
    ------
    ConfigError
        When ``quantile`` is not strictly between 0 and 1, or the queue has no open
        interval in the horizon.
    TypeError
        When ``quantile`` is not a number.
    ModelError
        When the configured model is not a registered model, or the fallback
        ``slot_mean`` cannot be fitted either.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ForecastWarning)
        fc, choice = forecast_queue(history, events, queue, config, quantile=quantile,
                                    start=start, model=model)
    raised = [str(w.message) for w in caught if issubclass(w.category, ForecastWarning)]
    kept_from = history["ds"].max() - pd.Timedelta(weeks=HISTORY_KEPT_WEEKS)
    recent = history[history["ds"] >= kept_from]
    backlog = 0.0
    if queue.is_deferred:
        backlog, note = carried_backlog(history, queue, config, pd.Timestamp(fc["ds"].iloc[0]))
        raised.append(note)
    plan = staff_forecast(fc, queue, config, quantile=quantile, scenario=scenario,
                          initial_backlog=backlog)
    return QueuePlan(
        queue=queue.name,
        model=choice.name,
        forecast=fc.assign(queue=queue.name),
        plan=plan,
        daily=daily_summary(plan, interval_s=config.interval_s,
                            hours_per_fte=config.hours_per_fte),
        history=recent.reset_index(drop=True),
        leaderboard=getattr(choice, "leaderboard", None),
        warnings=list(dict.fromkeys(raised)),
        reason=choice.reason,
        initial_backlog=backlog,
    )


def carried_backlog(history: pd.DataFrame, queue: QueueConfig, config: PlanConfig,
                    start: pd.Timestamp) -> tuple[float, str]:
    """Estimate the email/social contacts still waiting when the plan starts.

    The last :data:`BACKLOG_HISTORY_DAYS` days of the queue's history before ``start``
    (actual volumes and AHT) are staffed by the plan's own rule
    (:func:`forecast.staffing.staff_queue`) from an empty backlog, and the backlog left
    at the end of the last interval is the estimate. This assumes the team was staffed
    by the same rule over those days. When the plan starts after the history ends, the
    estimate is carried across the gap unchanged (arrivals and work in the gap are not
    known).

    Parameters
    ----------
    history
        The queue's regularised history (``ds, y[, aht_s]``).
    queue, config
        The queue's settings and the plan configuration.
    start
        The first interval of the plan.

    Returns
    -------
    (float, str)
        The contacts waiting, and a note saying so (recorded in the queue's warnings).
    """
    end = min(pd.Timestamp(start),
              history["ds"].max() + pd.Timedelta(seconds=config.interval_s))
    recent = history[(history["ds"] >= end - pd.Timedelta(days=BACKLOG_HISTORY_DAYS))
                     & (history["ds"] < end)].sort_values("ds")
    if recent.empty:
        return 0.0, (f"no history in the {BACKLOG_HISTORY_DAYS} days before the plan start "
                     f"({start:%Y-%m-%d %H:%M}): the plan starts with no contacts waiting")
    staffed = staff_queue(
        pd.DataFrame({"ds": recent["ds"].to_numpy(), "volume": recent["y"].to_numpy(),
                      "aht_s": (recent["aht_s"].to_numpy(dtype=float)
                                if "aht_s" in recent.columns else np.nan)}),
        queue, interval_s=config.interval_s)
    backlog = float(staffed["backlog"].iloc[-1])
    note = (f"{backlog:.0f} contacts waiting at the plan start ({start:%Y-%m-%d %H:%M}), "
            f"estimated by staffing the last {BACKLOG_HISTORY_DAYS} days of history by the "
            "same rule, are answered first")
    gap = start - (recent["ds"].iloc[-1] + pd.Timedelta(seconds=config.interval_s))
    if gap >= pd.Timedelta(days=1):
        note += (f"; the history ends {gap / pd.Timedelta(days=1):.1f} days before the plan "
                 "starts: they are assumed to be still waiting")
    return backlog, note


def build_plan(
    config: PlanConfig | str | Path,
    *,
    quantile: float | None = None,
    queues: Iterable[str] | str | None = None,
    extra_events: pd.DataFrame | None = None,
    inputs: PlanInputs | None = None,
    progress: Progress | None = None,
    workers: int | None = 1,
    scheduler: str | None = None,
    fail_fast: bool = False,
    scenarios: Mapping[str, Scenario] | None = None,
    models: Mapping[str, object] | None = None,
    on_queue: Callable[[QueuePlan], None] | None = None,
    keep: bool = True,
    start: pd.Timestamp | str | None = None,
) -> PlanResult:
    """Run the whole pipeline for every queue in the data (or those named).

    Every queue is planned over the same window: from the end of the latest data of
    any queue (the rest of that day, then ``horizon_days`` days), whichever queues the
    run is restricted to. A queue whose data ends open days earlier is forecast that
    much further ahead, with a warning.

    Parameters
    ----------
    config
        The plan configuration, or the path of its TOML file.
    quantile
        Staff to this forecast quantile instead of the mean (``None``).
    queues
        Restrict to these queue names (or this one name).
    extra_events
        What-if events added to the configured events table (with ``inputs``: to the
        inputs' events; ``inputs`` itself is left unchanged).
    inputs
        Already loaded inputs (skips reading the files again).
    progress
        Called as ``progress(queue, done, total, seconds_elapsed)`` after each queue.
    workers, scheduler
        Where per-queue work runs (see :func:`forecast.parallel.make_runner`): 1 worker
        runs serially, more use a local process pool, ``scheduler`` a Dask cluster.
        Results are identical whichever is used.
    fail_fast
        Stop at the first queue that fails instead of planning the others.
    scenarios
        What-if volume/AHT adjustments per queue.
    models
        Fitted models per queue to reuse (see :mod:`forecast.store`); queues without
        one are fitted as usual.
    on_queue
        Called with each queue's plan as soon as it and every queue before it are done
        (in queue order): stream it to disk (see :class:`forecast.planwriter.PlanWriter`).
    keep
        Keep every queue's plan in the result. ``False`` with ``on_queue`` keeps memory
        flat however many queues there are; the result then lists only the models.
    start
        First interval of the plan instead of the one after the latest data.

    Returns
    -------
    PlanResult
        Failed queues are listed in ``failures`` (queue -> one-line reason).

    Raises
    ------
    ConfigError
        When ``quantile`` is not strictly between 0 and 1, ``queues`` is empty or
        names a queue that is not in the data, a ``[queues.X]`` section names a queue that is not
        in the data (see :func:`forecast.config.check_queues`), or the TOML file
        cannot be loaded.
    DataValidationError
        When the volumes or events file is invalid (see :func:`load_inputs`).
    TypeError
        When ``config`` is neither a ``PlanConfig`` nor a path, or ``quantile`` is
        not a number.

    Warns
    -----
    ForecastWarning
        For each warning about the run as a whole (also in ``PlanResult.warnings``).
    """
    from .parallel import make_runner, run_per_queue

    config = _as_config(config)
    _check_quantile(quantile)
    if isinstance(queues, str):
        queues = [queues]
    if inputs is None:
        inputs = load_inputs(config, extra_events=extra_events)
    elif extra_events is not None:
        inputs = dataclasses.replace(
            inputs, events=events_io.combine_events(inputs.events, extra_events))
    names = inputs.queues if queues is None else list(queues)
    if not names:
        raise ConfigError(f"no queues selected; name at least one (queues found: "
                          f"{', '.join(inputs.queues)}) or leave queues=None for all",
                          key="queues")
    unknown = sorted(set(names) - set(inputs.queues))
    if unknown:
        raise ConfigError(f"queue '{unknown[0]}' is not in the data; queues found: "
                          f"{', '.join(inputs.queues)}", key="queues")
    notes = check_queues(config, inputs.queues, selected=None if queues is None else names)
    run_warnings = _calibration_notes(config, names, notes)
    for text in run_warnings:
        warnings.warn(text, ForecastWarning, stacklevel=2)
    start = (inputs.history["ds"].max() + pd.Timedelta(seconds=config.interval_s)
             if start is None else pd.Timestamp(start))
    rows_of = inputs.history.groupby("queue", sort=True).indices
    tasks = (
        (name, (inputs.history.iloc[rows_of[name]].reset_index(drop=True),
                events_io.events_for_queue(inputs.events, name),
                config.queue(name), config, quantile, start,
                (scenarios or {}).get(name), (models or {}).get(name), on_queue is not None))
        for name in names
    )
    results: dict[str, QueuePlan] = {}
    failures: dict[str, str] = {}
    with make_runner(workers, scheduler) as runner:
        for outcome in run_per_queue(_plan_queue_task, tasks, runner, progress=progress,
                                     fail_fast=fail_fast):
            if outcome.ok:
                if outcome.queue in notes:
                    outcome.value.warnings.insert(0, notes[outcome.queue])
                if on_queue is not None:
                    on_queue(outcome.value)
                results[outcome.queue] = outcome.value if keep else _summary_only(outcome.value)
            else:
                failures[outcome.queue] = outcome.error
    return PlanResult(
        config=config,
        queues=results,
        events=inputs.events,
        volume_column=quantile_column(quantile) if quantile else "mean",
        failures=failures,
        warnings=run_warnings,
    )


def _as_config(config: PlanConfig | str | Path) -> PlanConfig:
    """The configuration itself, or the one loaded from a TOML path."""
    if isinstance(config, PlanConfig):
        return config
    if isinstance(config, str | Path):
        return load_config(config)
    raise TypeError(f"config must be a PlanConfig (see forecast.load_config) or the path of "
                    f"a TOML config file, got {type(config).__name__}")


def _check_quantile(quantile: float | None) -> None:
    """A quantile to staff to is None or a number strictly between 0 and 1."""
    if quantile is None:
        return
    if isinstance(quantile, bool) or not isinstance(quantile, numbers.Real):
        raise TypeError(f"quantile must be a number strictly between 0 and 1 (0.8 staffs to "
                        f"P80) or None, got {type(quantile).__name__} {quantile!r}")
    if not 0 < quantile < 1:
        raise ConfigError(f"quantile must lie strictly between 0 and 1, got {quantile}",
                          key="quantile")


def calibrated_values(config: PlanConfig, name: str) -> dict[str, float]:
    """The calibrated values recorded for a queue, as the manifest and warnings show them.

    Parameters
    ----------
    config
        The plan configuration (see :attr:`PlanConfig.calibrated`).
    name
        The queue name.

    Returns
    -------
    dict
        Setting -> the value the queue is planned with, for each setting
        (``aht_s``, ``patience_s``, ``availability``) calibrated for the queue itself
        or, for a queue whose channel is voice, by a pooled calibration (``"*"``);
        empty when none.
    """
    queue = config.queue(name)
    keys = list(config.calibrated.get(name, {}))
    if queue.channel == "voice":
        keys += list(config.calibrated.get("*", {}))
    # the values the queue is planned with: its own and a pooled calibration may both
    # have set some, and an edit after calibrating wins
    return {key: float(getattr(queue, key)) for key in dict.fromkeys(keys)}


def _calibration_notes(config: PlanConfig, names: list[str],
                       notes: dict[str, str]) -> list[str]:
    """Add to ``notes`` (queue -> warning) which calibrated values each planned queue
    received; return the warning about calibrated queues that are not in the run."""
    if not config.calibrated:
        return []
    for name in names:
        values = calibrated_values(config, name)
        if values:
            text = "calibration applied: " + ", ".join(f"{k} {v:g}" for k, v in values.items())
            notes[name] = f"{notes[name]}; {text}" if name in notes else text
    absent = [n for n in config.calibrated if n != "*" and n not in names]
    if not absent:
        return []
    return [f"no queue named {', '.join(absent)} in this run; calibration not applied to "
            f"{'it' if len(absent) == 1 else 'them'} (queues planned: {', '.join(names)})"]


def _summary_only(queue_plan: QueuePlan) -> QueuePlan:
    """The queue's model choice without its tables (for runs that stream to disk)."""
    empty = pd.DataFrame()
    return QueuePlan(queue=queue_plan.queue, model=queue_plan.model, forecast=empty,
                     plan=empty, history=empty, warnings=queue_plan.warnings,
                     reason=queue_plan.reason)


def _plan_queue_task(history, events, queue, config, quantile, start, scenario, model,
                     format_rows) -> QueuePlan:
    """One queue's work as a worker runs it; with ``format_rows`` the plan.csv rows are
    formatted here too, so the parent process only writes them."""
    queue_plan = plan_queue(history, events, queue, config, quantile=quantile, start=start,
                            scenario=scenario, model=model)
    if format_rows:
        from .report import plan_csv_rows

        queue_plan.csv_rows = plan_csv_rows(queue_plan.plan)
    return queue_plan


def daily_summary(plan: pd.DataFrame, *, interval_s: int, hours_per_fte: float) -> pd.DataFrame:
    """Per queue and day: volume, agent-hours, FTE, cost, expected service level, peak.

    FTE for a day is the day's scheduled agent-hours divided by one full-time agent's
    daily hours (``hours_per_fte / 5``).

    Parameters
    ----------
    plan
        A plan table (:attr:`QueuePlan.plan`): ``queue, ds, volume, agents_scheduled,
        cost, service_level``, one row per interval.
    interval_s
        Length of an interval in seconds.
    hours_per_fte
        Contracted hours a week of one full-time agent.

    Returns
    -------
    DataFrame
        One row per queue and day (the daily.csv table), sorted by queue and date:
        ``queue``, ``date`` (midnight of the day of ``ds``), ``volume`` (sum),
        ``agent_hours`` (scheduled agents x interval hours, summed), ``fte``,
        ``peak_agents`` (most agents scheduled in an interval), ``cost`` (sum) and
        ``service_level`` (mean of the intervals' service levels weighted by volume, an
        interval without one counting as fully served; NaN on a day without volume).
    """
    interval_h = interval_s / 3600.0
    frame = plan.assign(
        date=plan["ds"].dt.normalize(),
        agent_hours=plan["agents_scheduled"] * interval_h,
        answered_weight=plan["volume"] * plan["service_level"].fillna(1.0),
    )
    grouped = frame.groupby(["queue", "date"], sort=True)
    daily = grouped.agg(
        volume=("volume", "sum"),
        agent_hours=("agent_hours", "sum"),
        peak_agents=("agents_scheduled", "max"),
        cost=("cost", "sum"),
        answered_weight=("answered_weight", "sum"),
    ).reset_index()
    daily["fte"] = daily["agent_hours"] / (hours_per_fte / 5.0)
    daily["service_level"] = np.where(
        daily["volume"] > 0, daily["answered_weight"] / daily["volume"].where(
            daily["volume"] > 0, 1.0), np.nan)
    daily = daily.drop(columns="answered_weight")
    return daily[["queue", "date", "volume", "agent_hours", "fte", "peak_agents", "cost",
                  "service_level"]]
