"""``wfm erlang``: a quick Erlang C / Erlang A calculator, both ways."""

from __future__ import annotations

import json
import math

import click

from ._common import parse_target

__all__ = ["erlang"]


def _positive(ctx, param, value):
    if value is None:
        return value
    if not math.isfinite(value) or value <= 0:
        raise click.BadParameter(f"{value} is not a number > 0")
    return value


def _non_negative(ctx, param, value):
    if value is None:
        return value
    if not math.isfinite(value) or value < 0:
        raise click.BadParameter(f"{value} is not a number >= 0")
    return value


def _share(ctx, param, value):
    if value is None:
        return value
    if not (0 < value <= 1):
        raise click.BadParameter(f"{value} is not a share in (0, 1]")
    return value


@click.command()
@click.option("--volume", type=float, required=True, callback=_non_negative,
              help="Contacts offered in the interval.")
@click.option("--aht", "aht_s", type=float, required=True, callback=_positive,
              help="Average handle time, seconds.")
@click.option("--interval", "interval_min", type=float, default=30.0, show_default=True,
              callback=_positive, help="Interval length, minutes.")
@click.option("--target", type=str, default="0.8/20", show_default=True,
              callback=parse_target, metavar="SHARE/SECONDS",
              help="Service level target: 0.8/20, 80/20 or 80%/20 (80% within 20 s).")
@click.option("--patience", "patience_s", type=float, default=None, callback=_positive,
              help="Mean caller patience, seconds: use Erlang A (abandonment).")
@click.option("--agents", type=int, default=None,
              help="Reverse mode: the service these agents give (>= 1), and whether the "
                   "target and caps are met.")
@click.option("--max-occupancy", type=float, default=None, callback=_share,
              help="Cap on occupancy, e.g. 0.85.")
@click.option("--max-asa", "max_asa_s", type=float, default=None, callback=_positive,
              help="Cap on average speed of answer, seconds.")
@click.option("--max-abandon", type=float, default=None, callback=_share,
              help="Cap on abandonment share (needs --patience).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def erlang(volume, aht_s, interval_min, target, patience_s, agents, max_occupancy, max_asa_s,
           max_abandon, as_json):
    """Agents needed for a service level target, or the service given agents give.

    \b
    Examples:
      wfm erlang --volume 100 --aht 180 --interval 30 --target 0.8/20
      wfm erlang --volume 100 --aht 180 --agents 12 --patience 90 --json
    """
    from ..queueing import asa, erlang_a, occupancy, required_agents, service_level

    share, target_s = target
    load = volume * aht_s / (interval_min * 60.0)
    if max_abandon is not None and patience_s is None:
        raise click.BadParameter("--max-abandon needs --patience", param_hint="--max-abandon")
    if agents is not None and agents < 1:
        raise click.BadParameter(f"{agents} is not a whole number >= 1", param_hint="--agents")
    result: dict = {"load_erlangs": load, "target_service_level": share,
                    "target_answer_s": target_s}
    if agents is None:
        req = required_agents(load, aht_s, share, target_s, max_asa_s=max_asa_s,
                              max_occupancy=max_occupancy, patience_s=patience_s,
                              max_abandon=max_abandon)
        n = int(req.agents_integer)
        result.update(agents=n, agents_fractional=float(req.agents_fractional),
                      binding=str(req.binding))
    else:
        n = agents
        result["agents"] = n
    if patience_s is None:
        result.update(service_level=float(service_level(n, load, aht_s, target_s)),
                      asa_s=float(asa(n, load, aht_s)),
                      occupancy=float(occupancy(n, load)))
    else:
        m = erlang_a(n, volume / (interval_min * 60.0), aht_s, patience_s, target_s)
        result.update(service_level=float(m.service_level), asa_s=float(m.asa_s),
                      occupancy=float(m.occupancy), abandonment=float(m.p_abandon),
                      service_level_answered=float(m.service_level_answered))
    if agents is not None:
        # Erlang C has no steady state at or below the load; abandonment keeps Erlang A stable
        result["overloaded"] = patience_s is None and load > 0 and n <= load
        misses = _misses(result, share, target_s, max_occupancy, max_asa_s, max_abandon)
        result.update(meets_target=not misses, misses=misses)
    if as_json:
        click.echo(json.dumps({k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                               for k, v in result.items()}))
        return
    model = "Erlang A" if patience_s is not None else "Erlang C"
    lines = [f"target      {100 * share:g}% answered within {target_s:g} s",
             f"load        {load:.2f} Erlangs ({model})"]
    if agents is None:
        lines.append(f"agents      {n}  (continuous {result['agents_fractional']:.2f}, "
                     f"set by {result['binding'].replace('_', ' ')})")
    else:
        lines.append(f"agents      {n}")
    if result.get("overloaded"):
        lines.append(f"OVERLOADED  {load:.2f} Erlangs of load on {n} agents: the queue grows "
                     "without limit and every wait is infinite")
        lines.append("meets       no: add agents above the load")
        click.echo("\n".join(lines))
        return
    lines.append(f"service     {result['service_level']:.1%} answered within {target_s:g} s")
    asa_text = "never answered (load >= agents)" if math.isinf(result["asa_s"]) else (
        f"{result['asa_s']:.1f} s")
    lines.append(f"ASA         {asa_text}")
    lines.append(f"occupancy   {result['occupancy']:.1%}")
    if patience_s is not None:
        lines.append(f"abandonment {result['abandonment']:.1%}")
    if agents is not None:
        lines.append("meets       " + ("yes: target and caps met" if result["meets_target"]
                                       else "no: " + "; ".join(result["misses"])))
    click.echo("\n".join(lines))


def _misses(result: dict, share: float, target_s: float, max_occupancy: float | None,
            max_asa_s: float | None, max_abandon: float | None) -> list[str]:
    """Why the given agents fail the service level target or a cap (empty: all met)."""
    if result["overloaded"]:
        return [f"overloaded: {result['load_erlangs']:.2f} Erlangs of load on "
                f"{result['agents']} agents, infinite wait"]
    misses = []
    if result["service_level"] < share:
        misses.append(f"service level {result['service_level']:.1%} < target {100 * share:g}% "
                      f"within {target_s:g} s")
    if max_occupancy is not None and result["occupancy"] > max_occupancy:
        misses.append(f"occupancy {result['occupancy']:.1%} > cap {100 * max_occupancy:g}%")
    if max_asa_s is not None and result["asa_s"] > max_asa_s:
        misses.append(f"ASA {result['asa_s']:.1f} s > cap {max_asa_s:g} s")
    if max_abandon is not None and result["abandonment"] > max_abandon:
        misses.append(f"abandonment {result['abandonment']:.1%} > cap {100 * max_abandon:g}%")
    return misses
