"""``wfm replan``: re-plan the rest of today from the actuals so far."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from ._common import config_argument, resolve_config


def _parse_now(ctx, param, value: str | None) -> pd.Timestamp | None:
    """``--now``: a date-time such as ``2026-11-16 11:30`` (usage error otherwise)."""
    if value is None:
        return None
    try:
        now = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise click.BadParameter(f"'{value}' is not a date-time ({exc}); expected e.g. "
                                 "'2026-11-16 11:30'", ctx=ctx, param=param) from None
    if pd.isna(now):
        raise click.BadParameter(f"'{value}' is not a date-time; expected e.g. "
                                 "'2026-11-16 11:30'", ctx=ctx, param=param)
    return now


@click.command("replan")
@config_argument
@click.option("--actuals", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Today's contacts so far, in the volumes format (queue, timestamp, volume).")
@click.option("--plan", "plan_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="The plan.csv that covers today (default: plan today afresh).")
@click.option("--now", default=None, metavar="'YYYY-MM-DD HH:MM'", callback=_parse_now,
              help="Time of the re-plan (default: the end of the last interval with actuals).")
@click.option("--half-life-hours", type=click.FloatRange(0, min_open=True), default=1.0,
              show_default=True, help="How fast older intervals lose weight in the ratio.")
@click.option("--decay-hours", type=click.FloatRange(0, min_open=True), default=None,
              help="Let the surge fade with this half-life (default: hold it all day).")
@click.option("--out", "out_file", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Write the re-plan table as CSV.")
def replan_cmd(config, example, actuals, plan_path, now, half_life_hours, decay_hours,
               out_file):
    """How many agents to pull in or release for the rest of today.

    Scales the rest of today's forecast by how far the actuals so far ran from the
    plan's mean forecast (recent intervals weigh more; a --quantile plan keeps its
    margin), staffs it again, and prints per interval the planned and the new
    scheduled agents and the change. Email and social start the day with the plan's
    backlog. Handle times are not re-planned: the plan's AHT is kept (an AHT column
    in the actuals is not used).

    \b
    Example (an outage morning):
      wfm replan centre.toml --actuals today.csv --plan out/plan.csv
    """
    from ..atomic import write_csv
    from ..data import read_volumes
    from ..replan import ReplanSettings, replan_day

    cfg = resolve_config(config, example)
    todays = read_volumes(actuals, timezone=cfg.timezone,
                          timestamps=cfg.data.timestamps)
    day = todays["ds"].min().normalize()
    if "aht_s" in todays.columns:
        click.echo("note: handle times are not re-planned; the plan's AHT is kept (the "
                   "actuals' AHT column is not used)")
    if plan_path is not None:
        from ..simulate.planfile import read_plan

        plan = read_plan(plan_path)
        plan["ds"] = pd.to_datetime(plan["ds"])
    else:
        from ..plan import build_plan

        plan = build_plan(cfg, queues=sorted(todays["queue"].unique())).plan
    settings = ReplanSettings(half_life_hours=half_life_hours, decay_hours=decay_hours)
    table = replan_day(plan, todays, cfg, now=now,
                       settings=settings)
    for queue, rows in table.groupby("queue", sort=True):
        ahead = rows[rows["status"] == "ahead"]
        if not len(ahead):
            click.echo(f"{queue}: the day is over")
        elif ahead["volume"].sum() <= 0:
            click.echo(f"{queue}: no forecast left today to scale; the rest of the day stays "
                       "as planned")
        else:
            click.echo(f"{queue}: actuals ran at {ahead['ratio'].iloc[0]:.2f}x the forecast")
        click.echo(f"  {'interval':<6} {'forecast':>9} {'new':>7} {'planned':>8} "
                   f"{'needed':>7} {'change':>7}")
        for row in ahead.itertuples(index=False):
            click.echo(f"  {row.ds:%H:%M}  {row.forecast:>9.1f} {row.volume:>7.1f} "
                       f"{row.agents_scheduled_plan:>8.0f} {row.agents_scheduled:>7.0f} "
                       f"{row.change:>+7.0f}")
        for verb, more in (("pull in", ahead["change"]), ("release", -ahead["change"])):
            if (more > 0).any():
                first = ahead.loc[more.gt(0).idxmax(), "ds"]
                click.echo(f"  {verb} up to {int(more.max())} agent(s) from {first:%H:%M}")
    if out_file is not None:
        write_csv(table, out_file, float_format="%.6g", date_format="%Y-%m-%d %H:%M")
    click.echo(f"re-planned {day:%Y-%m-%d}")
