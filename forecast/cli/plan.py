"""``wfm plan``: forecast every queue and turn it into a staffing plan."""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import click

from ..config import load_config
from ..exceptions import ConfigError
from . import EXIT_DATA, EXIT_PARTIAL


@click.command("plan")
@click.argument("config", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--example", is_flag=True,
              help="Plan the bundled example centre (fixtures/example/centre.toml).")
@click.option("--out", "out_dir", default="out", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder for plan.csv, daily.csv and the charts.")
@click.option("--quantile", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=None, help="Staff to this forecast quantile (0.8 = P80) instead of the "
              "mean forecast.")
@click.option("--horizon-days", type=click.IntRange(1, 366), default=None,
              help="Days to plan ahead (default: the config's, 42).")
@click.option("--queue", "queues", multiple=True, metavar="NAME",
              help="Plan only this queue (repeatable).")
@click.option("--no-charts", is_flag=True, help="Skip the PNG charts (faster).")
@click.option("--workers", type=click.IntRange(1, 512), default=1, show_default=True,
              help="Plan queues in this many local processes.")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Run queues on a Dask cluster: 'local' starts one on this machine, or "
              "give a scheduler address such as tcp://host:8786.")
@click.option("--fail-fast", is_flag=True,
              help="Stop at the first queue that fails (default: plan the others, exit 3).")
def plan(config: Path | None, example: bool, out_dir: Path, quantile: float | None,
         horizon_days: int | None, queues: tuple[str, ...], no_charts: bool, workers: int,
         scheduler: str | None, fail_fast: bool) -> None:
    """Forecast each queue and compute the agents needed per interval.

    CONFIG is the plan configuration (TOML) naming the volumes file, the events
    file and each queue's channel, service target, handle time, shrinkage,
    occupancy cap, opening hours and cost. Use --example to run on the bundled
    example centre instead.

    \b
    Writes into --out:
      plan.csv    one row per queue and interval: forecast volume, AHT, workload,
                  agents required and scheduled, expected service level, occupancy
      daily.csv   one row per queue and day: volume, agent-hours, FTE, cost
      chart_<queue>.png   history, forecast and staffing per queue

    \b
    Examples:
      wfm plan --example
      wfm plan centre.toml --out plans/week47 --quantile 0.8
    """
    from ..plan import EXAMPLE_CONFIG, build_plan

    if example and config is not None:
        raise click.UsageError("give either CONFIG or --example, not both")
    if not example and config is None:
        raise click.UsageError("missing CONFIG (or use --example for the bundled centre)")
    path = EXAMPLE_CONFIG if example else config
    if example and not path.is_file():
        raise ConfigError("the example centre is missing; run 'python fixtures/make_example.py'",
                          file=path)
    cfg = load_config(path)
    if horizon_days is not None:
        cfg = dataclasses.replace(
            cfg, forecast=dataclasses.replace(cfg.forecast, horizon_days=horizon_days))

    started = time.monotonic()
    progress = _progress_printer()
    result = build_plan(cfg, quantile=quantile, queues=queues or None, progress=progress,
                        workers=workers, scheduler=scheduler, fail_fast=fail_fast)
    for name, reason in result.failures.items():
        click.echo(f"error: queue '{name}' failed: {reason}", err=True)
    if not result.queues:
        raise click.exceptions.Exit(EXIT_DATA)
    written = result.write(out_dir, charts=not no_charts)
    plan_table = result.plan
    interval_h = cfg.interval_s / 3600
    agent_hours = float((plan_table["agents_scheduled"] * interval_h).sum())
    click.echo(
        f"planned {len(result.queues)} queue(s), {len(plan_table)} intervals, "
        f"{agent_hours:,.0f} agent-hours, cost {plan_table['cost'].sum():,.0f} "
        f"({result.volume_column} volume) in {time.monotonic() - started:.1f}s; "
        f"wrote {len(written)} files to {out_dir}"
    )
    for name, q in result.queues.items():
        click.echo(f"  {name:<12} model {q.model:<18} volume {q.plan['volume'].sum():>10,.0f}  "
                   f"peak agents {int(q.plan['agents_scheduled'].max()):>4}")
    if result.failures:
        click.echo(f"{len(result.failures)} queue(s) failed; their rows are missing", err=True)
        raise click.exceptions.Exit(EXIT_PARTIAL)


def _progress_printer():
    """Per-queue progress on a terminal; silent when output is not a terminal."""
    if not sys.stderr.isatty():
        return None

    def report(queue: str, done: int, total: int, elapsed_s: float) -> None:
        left_s = elapsed_s / done * (total - done)
        click.echo(f"\r  [{done}/{total}] {queue:<24} {elapsed_s:6.0f}s elapsed, "
                   f"~{left_s:.0f}s left ", err=True, nl=done == total)

    return report
