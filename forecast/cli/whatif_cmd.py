"""``wfm whatif``: compare a scenario's plan with the base plan."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import check_queue_option, config_argument, finite, parse_target, resolve_config


def parse_event(text: str):
    """'name,type,start,end[,queue[,weight]]' -> a one-row events table."""
    from ..events import add_event, empty_events

    parts = [p.strip() for p in text.split(",")]
    if len(parts) < 4 or len(parts) > 6:
        raise click.BadParameter(f"'{text}': expected name,type,start,end[,queue[,weight]]",
                                 param_hint="--add-event")
    name, kind, start, end = parts[:4]
    queue = parts[4] or None if len(parts) > 4 else None
    try:
        weight = float(parts[5]) if len(parts) > 5 and parts[5] else 1.0
        return add_event(empty_events(), name, kind, start, end, queue=queue, weight=weight)
    except (ValueError, TypeError) as exc:
        raise click.BadParameter(f"'{text}': {exc}", param_hint="--add-event") from None


@click.command("whatif")
@config_argument
@click.option("--volume", "volume_scale", type=click.FloatRange(0), default=1.0,
              callback=finite, help="Multiply forecast volume (1.2 = +20%; 0 closes the "
              "queue).")
@click.option("--aht", "aht_scale", type=click.FloatRange(0, min_open=True), default=1.0,
              callback=finite, help="Multiply handle time (0.9 = 10% shorter); > 0.")
@click.option("--shrinkage", type=click.FloatRange(0, 1, max_open=True), default=None,
              callback=finite, help="Replace the queues' shrinkage: the share of paid time "
              "not spent on contacts, in [0, 1).")
@click.option("--max-occupancy", type=click.FloatRange(0, 1, min_open=True), default=None,
              callback=finite, help="Replace the queues' occupancy cap, in (0, 1].")
@click.option("--target", default=None, metavar="SHARE/SECONDS", callback=parse_target,
              help="Service target: 0.9/30, 90/30 or 90%/30 (90% answered within 30 s).")
@click.option("--hours", default=None, metavar="HH:MM-HH:MM",
              help="Opening hours for every day, e.g. 08:00-22:00. Hours the queue has no "
              "history for get the volume the model extrapolates (new demand; a warning "
              "says how much).")
@click.option("--same-volume", is_flag=True, default=False,
              help="With --hours: keep each queue's total contacts over the horizon, spread "
              "over the new hours (the same customers over longer hours) instead of adding "
              "the volume the model extrapolates for them.")
@click.option("--add-event", "add_events", multiple=True, metavar="SPEC",
              help="Add an event: 'name,type,start,end[,queue[,weight]]' (repeatable).")
@click.option("--remove-event", "remove_events", multiple=True, metavar="NAME",
              help="Take an event out of the calendar by name (repeatable).")
@click.option("--queue", "queues", multiple=True, metavar="NAME",
              help="Apply the changes to this queue only (repeatable; default all).")
@click.option("--quantile", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=None, help="Staff both plans to this forecast quantile.")
@click.option("--horizon-days", type=click.IntRange(1, 366), default=None,
              help="Days to plan ahead (default: the config's horizon_days).")
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Also write base/ and scenario/ plans and comparison.csv here.")
def whatif_cmd(config, example, volume_scale, aht_scale, shrinkage, max_occupancy, target,
               hours, same_volume, add_events, remove_events, queues, quantile, horizon_days,
               out_dir):
    """See what a change costs: contacts, agent-hours, FTE, cost and service level, base vs
    scenario.

    \b
    Examples:
      wfm whatif --example --volume 1.2 --queue voice
      wfm whatif centre.toml --target 0.9/20 --shrinkage 0.35
      wfm whatif centre.toml --hours 08:00-22:00 --queue voice --same-volume
      wfm whatif centre.toml --add-event "Outage,outage,2026-12-02 09:00,2026-12-02 14:00,voice"
    """
    from ..atomic import write_csv
    from ..config import parse_hours
    from ..events import combine_events
    from ..plan import load_inputs
    from ..whatif import WhatIf, format_comparison, run_whatif

    cfg = resolve_config(config, example, horizon_days=horizon_days)
    service_level, answer_s = target if target is not None else (None, None)
    if same_volume and not hours:
        raise click.UsageError("--same-volume keeps the volume of a change of opening "
                               "hours: give --hours too")
    change = WhatIf(
        volume_scale=volume_scale, aht_scale=aht_scale, shrinkage=shrinkage,
        max_occupancy=max_occupancy, service_level=service_level, answer_s=answer_s,
        hours=parse_hours(hours, key="--hours") if hours else None, same_volume=same_volume,
        add_events=combine_events(*[parse_event(e) for e in add_events]) if add_events
        else None,
        remove_events=tuple(remove_events), queues=tuple(queues) or None,
    )
    inputs = load_inputs(cfg)
    if queues:
        check_queue_option(queues, inputs.queues)
    result = run_whatif(cfg, change, quantile=quantile, inputs=inputs)
    table = result.comparison
    click.echo(f"what-if: {change.describe()}")
    click.echo(format_comparison(table))
    if out_dir is not None:
        from ..manifest import build_manifest, write_manifest

        written = [*result.base.write(out_dir / "base"),
                   *result.scenario.write(out_dir / "scenario"),
                   write_csv(table, out_dir / "comparison.csv", float_format="%.6g")]
        models = {f"{label}/{n}": {"model": q.model, "reason": q.reason,
                                   "warnings": list(q.warnings)}
                  for label, plan in (("base", result.base), ("scenario", result.scenario))
                  for n, q in plan.queues.items()}
        write_manifest(build_manifest(cfg, command="whatif", models=models, failures={},
                                      outputs=written, root=out_dir,
                                      settings={"change": change.describe(),
                                                "quantile": quantile},
                                      warnings=result.warnings), out_dir)
        click.echo(f"wrote base/, scenario/, comparison.csv and manifest.json to {out_dir}")
