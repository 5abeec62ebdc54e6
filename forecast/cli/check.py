"""``wfm check``: validate a volume export (and events, config) without planning."""

from __future__ import annotations

import warnings
from pathlib import Path

import click
import pandas as pd

from ..config import check_queues, check_timezone, load_config
from ..data import (
    DEFAULT_MAX_VOLUME,
    describe_volumes,
    fall_back_warnings,
    future_grid,
    hours_for,
    read_volumes,
    regularise,
)
from ..events import combine_events, events_in, holiday_events, read_events
from ..exceptions import ConfigError, DataRepairWarning


def _timezone(ctx, param, value):
    if value is None:
        return value
    try:
        return check_timezone(value)
    except ConfigError:
        raise click.BadParameter(f"unknown time zone '{value}'; expected an IANA name "
                                 "such as Europe/London") from None


def _encoding(name: str) -> str:
    import codecs

    try:
        codecs.lookup(name)
    except LookupError:
        raise click.BadParameter(f"unknown encoding '{name}'; expected e.g. utf-8, latin-1 "
                                 "or cp1252", param_hint="--encoding") from None
    return name


def _interval(ctx, param, value):
    if value is not None and 1440 % value:
        raise click.BadParameter(f"{value} minutes does not divide a day; expected e.g. "
                                 "15, 30 or 60")
    return value


@click.command("check")
@click.argument("volumes", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--events", "events_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Events CSV (name,type,start,end[,queue,weight]) to validate too.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Plan configuration (TOML): supplies the volumes and events paths, column "
                   "names, time zone, interval and opening hours, and is validated too.")
@click.option("--timestamp-column", help="Column holding the interval start [timestamp].")
@click.option("--volume-column", help="Column holding contacts offered [volume].")
@click.option("--queue-column", help="Column naming the queue [queue]; optional in the file.")
@click.option("--aht-column", help="Column holding average handle time in seconds [aht_s].")
@click.option("--queue", "queue_name", help="Keep only this queue, or name the single queue "
              "of a file without a queue column.")
@click.option("--timezone", callback=_timezone,
              help="The centre's time zone (IANA name, e.g. Europe/London); timestamps with "
                   "a UTC offset are converted to it.")
@click.option("--timestamps", type=click.Choice(["auto", "local"]), default=None,
              help="'local': ignore offsets written in the file (e.g. a 'Z' on local "
                   "clock times). Default 'auto'.")
@click.option("--timestamp-format", help="strftime format of the timestamps, e.g. "
              "'%d/%m/%Y %H:%M', when they are not ISO 8601 and the data cannot settle the "
              "day/month order.")
@click.option("--encoding", help="Text encoding of the volumes file [utf-8]; e.g. latin-1, "
              "cp1252.")
@click.option("--max-volume", type=click.FloatRange(0, min_open=True),
              help="Plausibility bound: reject a row with more contacts than this in one "
                   "interval [1,000,000].")
@click.option("--interval", "interval_min", type=click.IntRange(1, 1440), callback=_interval,
              help="Plan interval in minutes to check the data against (default: from "
                   "--config, else the data's own interval).")
def check(volumes, events_path, config_path, timestamp_column, volume_column, queue_column,
          aht_column, queue_name, timezone, timestamps, timestamp_format, encoding, max_volume,
          interval_min):
    """Check a volume export before planning: read it, validate every row, and show what
    was found.

    \b
    Prints the queues, time span, data interval, opening hours (given or inferred),
    gaps that planning would fill, the events by type with those still to come and,
    with --config, any hour of the plan horizon that happens twice (the clock goes
    back): the plan shows it once.
    Exit code 0 when the data is usable, 1 with a one-line error naming the file,
    row and column when it is not.

    \b
    Examples:
      wfm check volumes.csv
      wfm check export.csv --timestamp-column DateTime --volume-column Calls \\
                --timestamps local --interval 30
      wfm check --config centre.toml
    """
    cfg = load_config(config_path) if config_path else None
    if volumes is None:
        if cfg is None:
            raise click.UsageError("give a VOLUMES file, or --config naming one")
        volumes = cfg.data.volumes
    src = cfg.data if cfg else None

    def pick(option, attr, default):
        if option is not None:
            return option
        return getattr(src, attr) if src is not None else default

    tz = timezone if timezone is not None else (cfg.timezone if cfg else None)
    table = read_volumes(
        volumes,
        timestamp_column=pick(timestamp_column, "timestamp_column", "timestamp"),
        volume_column=pick(volume_column, "volume_column", "volume"),
        queue_column=pick(queue_column, "queue_column", "queue"),
        aht_column=pick(aht_column, "aht_column", "aht_s"),
        abandoned_column=src.abandoned_column if src else "abandoned",
        queue=pick(queue_name, "queue", None),
        default_queue=next(iter(cfg.queues)) if cfg is not None and len(cfg.queues) == 1
        else None,
        timezone=tz,
        timestamps=pick(timestamps, "timestamps", "auto"),
        timestamp_format=pick(timestamp_format, "timestamp_format", None),
        encoding=_encoding(pick(encoding, "encoding", "utf-8")),
        max_volume=pick(max_volume, "max_volume", DEFAULT_MAX_VOLUME),
    )
    summary = describe_volumes(table)
    if interval_min is not None:
        interval_s = interval_min * 60
    elif cfg is not None:
        interval_s = cfg.interval_s
    else:
        interval_s = summary.interval_s
    hours = hours_for(cfg, table["queue"].unique()) if cfg else None
    with warnings.catch_warnings():  # the report below says what would be repaired
        warnings.simplefilter("ignore", DataRepairWarning)
        _, report = regularise(table, interval_s=interval_s, hours=hours, timezone=tz)
    summary = describe_volumes(table, report)
    ev_path = events_path if events_path is not None else (src.events if src else None)
    events = read_events(ev_path) if ev_path is not None else None  # fail before printing
    section_warnings = check_queues(cfg, table["queue"].unique()) if cfg is not None else {}
    click.echo(f"volumes: {volumes}")
    click.echo(str(summary))
    for name in sorted(table["queue"].unique()) if cfg is not None else ():
        queue = cfg.queue(str(name))
        if queue.is_deferred and queue.hours is not None:
            click.echo(f"queue {name}: the team works {queue.hours.describe()} (config); the "
                       "hours above are when its contacts arrive")
    for name, text in section_warnings.items():
        click.echo(f"warning: queue '{name}': {text}")

    last = summary.last
    if events is not None:
        click.echo(f"events: {ev_path}: {_events_line(events)}")
    if cfg is not None and cfg.holidays_country:
        try:
            hol = holiday_events(cfg.holidays_country, summary.first,
                                 last + pd.Timedelta(days=cfg.forecast.horizon_days + 1),
                                 subdivision=cfg.holidays_subdivision)
        except ConfigError as exc:
            raise ConfigError(str(exc), file=cfg.source) from None
        click.echo(f"public holidays ({cfg.holidays_country}): {len(hol)} in the history "
                   "and horizon")
        events = combine_events(events, hol)
    if events is not None and len(events):
        known = set(table["queue"].unique())
        named = set(events["queue"].dropna().unique())
        unknown = sorted(named - known)
        if unknown:
            click.echo(f"warning: events name queue(s) not in the volumes: {', '.join(unknown)}")
        horizon_end = (last.normalize() + pd.Timedelta(days=cfg.forecast.horizon_days + 1)
                       if cfg is not None else pd.Timestamp.max)
        future = events_in(events, last + pd.Timedelta(seconds=1), horizon_end)
        if len(future):
            span = f" in the {cfg.forecast.horizon_days}-day horizon" if cfg else ""
            click.echo(f"future events{span} ({len(future)}):")
            for _, ev in future.iterrows():
                where = ev["queue"] if pd.notna(ev["queue"]) else "all queues"
                click.echo(f"  {ev['start']:%Y-%m-%d %H:%M} to {ev['end']:%Y-%m-%d %H:%M}  "
                           f"{ev['type']:<8}  {ev['name']} ({where})")
        else:
            click.echo("future events: none after the end of the history")
    if cfg is not None and tz is not None:
        _echo_fall_back(report, last, cfg.forecast.horizon_days, interval_s, tz)
    click.echo("ok: the data can be planned")


def _echo_fall_back(report, last: pd.Timestamp, days: int, interval_s: int,
                    tz: str) -> None:
    """Warn about each hour of the plan horizon that happens twice (the clock goes
    back), naming the queues open then: the plan shows that hour once."""
    open_in: dict[str, list[str]] = {}
    for name, q in sorted(report.queues.items()):
        if q.left_out:
            continue
        grid = future_grid(last, days=days, interval_s=interval_s, hours=q.hours, timezone=tz)
        for text in fall_back_warnings(grid, interval_s=interval_s, timezone=tz):
            open_in.setdefault(text, []).append(str(name))
    for text, names in open_in.items():
        click.echo(f"warning: {text} (queues open then: {', '.join(names)})")


def _events_line(events: pd.DataFrame) -> str:
    if events.empty:
        return "no events"
    counts = events["type"].value_counts().sort_index()
    by_type = ", ".join(f"{n} {t}" for t, n in counts.items())
    return (f"{len(events)} events ({by_type}) starting {events['start'].min():%Y-%m-%d} "
            f"to {events['start'].max():%Y-%m-%d}")
