"""``wfm forecast``: forecast every queue of a plan configuration, with peaks and charts."""

from __future__ import annotations

import warnings
from pathlib import Path

import click
import pandas as pd

from ..atomic import atomic_path, write_csv
from ..config import PlanConfig
from ._common import check_queue_option, config_argument, resolve_config

__all__ = ["forecast_cmd", "load_history", "parse_event_option", "queue_horizon",
           "horizon_event_lifts"]


def load_history(config: PlanConfig, extra_events: pd.DataFrame | None = None
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The regularised history of every queue and the combined events table
    (user's file, public holidays of ``holidays_country``, then what-if events)."""
    from ..plan import load_inputs

    inputs = load_inputs(config, extra_events=extra_events)
    return inputs.history, inputs.events


def queue_horizon(history: pd.DataFrame, config: PlanConfig, queue: str,
                  days: int | None = None) -> pd.DatetimeIndex:
    """Future arrival intervals of one queue after its history ends."""
    from .. import data as data_io

    qc = config.queue(queue)
    hours = getattr(qc, "arrival_hours", None)
    if hours is None:
        hours = qc.hours if (qc.hours is not None and not qc.is_deferred) else \
            data_io.infer_hours(history, config.interval_s)
    return data_io.future_grid(history["ds"].max(), days=days or config.forecast.horizon_days,
                               interval_s=config.interval_s, hours=hours,
                               timezone=config.timezone)


def parse_event_option(text: str) -> dict:
    """``"name,type,start,end[,queue,weight]"`` -> keyword arguments of ``add_event``."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) < 4 or len(parts) > 6:
        raise click.BadParameter(f"'{text}': expected name,type,start,end[,queue,weight]")
    out = {"name": parts[0], "type": parts[1], "start": parts[2], "end": parts[3] or None}
    if len(parts) >= 5 and parts[4]:
        out["queue"] = parts[4]
    if len(parts) == 6 and parts[5]:
        try:
            out["weight"] = float(parts[5])
        except ValueError:
            raise click.BadParameter(f"'{text}': weight '{parts[5]}' is not a number") from None
    return out


def plot_forecast(history: pd.DataFrame, forecast: pd.DataFrame, peaks: pd.DataFrame,
                  title: str, path: Path) -> None:
    """Last four weeks of history, the forecast mean and its 80% band, peaks marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    recent = history[history["ds"] > history["ds"].max() - pd.Timedelta(weeks=4)]
    fig, ax = plt.subplots(figsize=(12, 4))
    ax.plot(recent["ds"], recent["y"], lw=0.7, color="0.4", label="history")
    ax.plot(forecast["ds"], forecast["mean"], lw=0.8, color="tab:blue", label="forecast")
    if {"p10", "p90"} <= set(forecast.columns):
        ax.fill_between(forecast["ds"], forecast["p10"], forecast["p90"], color="tab:blue",
                        alpha=0.25, lw=0, label="80% interval")
    pk = peaks[peaks["level"] == "interval"] if len(peaks) else peaks
    if len(pk):
        ax.scatter(pk["ds"], pk["forecast"], s=8, color="tab:red", zorder=3, label="peak")
    ax.set_title(title)
    ax.set_ylabel("contacts per interval")
    ax.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


@click.command("forecast")
@config_argument
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for forecast.csv, peaks.csv and the charts.")
@click.option("--model", help="Model name (e.g. topdown, slot_mean) or 'auto' "
              "[default: the config's forecast.model].")
@click.option("--event", "event_specs", multiple=True, metavar="SPEC",
              help='What-if event "name,type,start,end[,queue,weight]"; repeatable.')
@click.option("--queue", "queues", multiple=True, help="Only these queues; repeatable.")
@click.option("--no-charts", is_flag=True, help="Skip the PNG charts.")
def forecast_cmd(config, example, out_dir, model, event_specs, queues, no_charts):
    """Forecast contact volumes per interval for every queue in CONFIG.

    \b
    Writes into --out:
      forecast.csv    queue, ds, mean, quantiles, aht_s, model
      peaks.csv       intervals and days above the slot's normal range, with driver
      forecast_<queue>.png  (<queue> with a short hash if not a plain file name)
    Examples:
      wfm forecast --example --out out/
      wfm forecast centre.toml --out out/ --event "Price rise,campaign,2026-12-01,2026-12-05"
    """
    from .. import events as events_io
    from ..event_effects import EventAdjusted
    from ..events import events_for_queue
    from ..forecasters import fit_forecast
    from ..peaks import find_peaks
    from ..report import safe_name

    config = resolve_config(config, example)
    extra = None
    for spec in event_specs:
        extra = events_io.add_event(extra, **parse_event_option(spec))
    history, events = load_history(config, extra)
    names = sorted(history["queue"].unique())
    if queues:
        check_queue_option(queues, names)
        names = [n for n in names if n in set(queues)]
    forecasts, all_peaks = [], []
    for name in names:
        hist = history[history["queue"] == name].drop(columns="queue").reset_index(drop=True)
        ev = events_for_queue(events, name)
        horizon = queue_horizon(hist, config, name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fc, choice = fit_forecast(hist, horizon, ev, config.forecast, model=model,
                                      default_aht_s=config.queue(name).aht_s)
        peaks = find_peaks(hist, fc, ev)
        forecasts.append(fc.assign(queue=name))
        all_peaks.append(peaks.assign(queue=name))
        lifts = ""
        if isinstance(choice.model, EventAdjusted):
            used = horizon_event_lifts(choice.model, horizon, ev, config.interval_s)
            lifts = f"; event lifts {', '.join(used)}" if used else ""
        click.echo(f"{name}: {choice.name} ({choice.reason}); {len(horizon)} intervals, "
                   f"{fc['mean'].sum():,.0f} contacts; "
                   f"{int((peaks['level'] == 'day').sum())} peak day(s){lifts}")
        if not no_charts:
            plot_forecast(hist, fc, peaks, f"{config.name}: {name} ({choice.name})",
                          Path(out_dir) / f"forecast_{safe_name(name)}.png")
    table = pd.concat(forecasts, ignore_index=True)
    cols = ["queue", "ds", "mean", *[c for c in table.columns if c.startswith("p")], "aht_s",
            "model"]
    write_csv(table[cols], Path(out_dir) / "forecast.csv", float_format="%.4f")
    peaks_table = pd.concat(all_peaks, ignore_index=True)
    write_csv(peaks_table[["queue", *[c for c in peaks_table.columns if c != "queue"]]],
              Path(out_dir) / "peaks.csv", float_format="%.4f")
    click.echo(f"wrote {Path(out_dir) / 'forecast.csv'} ({len(table):,} rows) and peaks.csv")


def horizon_event_lifts(model, horizon: pd.DatetimeIndex, events: pd.DataFrame,
                        interval_s: int) -> list[str]:
    """The lift of every event type that falls in or moves the horizon's forecast.

    Parameters
    ----------
    model
        A fitted :class:`~forecast.event_effects.EventAdjusted`.
    horizon
        The forecast's interval starts.
    events
        The queue's events table.
    interval_s
        Interval length, seconds (the horizon ends one interval after its last start).

    Returns
    -------
    list of str
        ``"<type> x<lift>"`` per type, sorted, those not learned from the history marked
        ``"(assumed: none in the history)"``: the prior effect is applied.
    """
    from ..events import events_in

    if len(events) == 0 or len(horizon) == 0:
        return []
    effects = model.effects_
    types = events["type"].astype(str)
    end = horizon.max() + pd.Timedelta(seconds=interval_s)
    out = []
    for etype in sorted(types.unique()):
        of_type = events[(types == etype).to_numpy()]
        if events_in(of_type, horizon.min(), end).empty and (
                effects.multiplier(horizon, of_type) == 1.0).all():
            continue
        text = f"{etype} x{effects.effect(etype).lift:.2f}"
        out.append(text if etype in effects.effects else f"{text} (assumed: none in the history)")
    return out
