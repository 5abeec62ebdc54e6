"""``wfm plan``: forecast every queue and turn it into a staffing plan."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import click

from ..exceptions import DataRepairWarning, ForecastError, ForecastWarning
from . import EXIT_DATA, EXIT_PARTIAL
from ._common import (
    RunLog,
    check_queue_option,
    config_argument,
    log_format_option,
    resolve_config,
    scheduler_option,
)

FORMATS = ("csv", "parquet", "xlsx", "html")


def _formats(ctx, param, value: str) -> tuple[str, ...]:
    chosen = tuple(v.strip().lower() for v in value.split(",") if v.strip())
    bad = [v for v in chosen if v not in FORMATS]
    if bad:
        raise click.BadParameter(f"unknown format '{bad[0]}'; expected a comma-separated "
                                 f"list of {', '.join(FORMATS)}")
    return tuple(dict.fromkeys(("csv",) + chosen))


@click.command("plan")
@config_argument
@click.option("--out", "out_dir", default="out", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder for plan.csv, daily.csv, charts and manifest.json.")
@click.option("--quantile", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=None, help="Staff to this forecast quantile (0.8 = P80) instead of the "
              "mean forecast.")
@click.option("--horizon-days", type=click.IntRange(1, 366), default=None,
              help="Days to plan ahead (default: the config's horizon_days).")
@click.option("--queue", "queues", multiple=True, metavar="NAME",
              help="Plan only this queue (repeatable).")
@click.option("--format", "formats", default="csv", show_default=True, callback=_formats,
              help="Extra outputs, comma-separated: parquet, xlsx (one sheet per queue and a "
              "summary), html (a self-contained report). CSV is always written.")
@click.option("--no-charts", is_flag=True, help="Skip the PNG charts (faster).")
@click.option("--calibration", "calibration_path", default=None,
              type=click.Path(dir_okay=False, path_type=Path),
              help="params.toml from 'wfm calibrate': learned AHT, patience (Erlang A) and "
              "availability override the config's.")
@click.option("--models", "models_dir", default=None,
              type=click.Path(file_okay=False, path_type=Path),
              help="Reuse the models saved by 'wfm fit' in this folder instead of refitting.")
@click.option("--workers", type=click.IntRange(1, 512), default=1, show_default=True,
              help="Plan queues in this many local processes.")
@scheduler_option
@click.option("--fail-fast", is_flag=True,
              help="Stop at the first queue that fails and write nothing: the previous "
              "run's files stay as they were, exit 1 (default: plan the others, exit 3).")
@click.option("--wait", "wait_s", type=click.FloatRange(0), default=0, show_default=True,
              help="Seconds to wait for another run using the same --out folder.")
@log_format_option
def plan(config: Path | None, example: bool, out_dir: Path, quantile: float | None,
         horizon_days: int | None, queues: tuple[str, ...], formats: tuple[str, ...],
         no_charts: bool, calibration_path: Path | None, models_dir: Path | None,
         workers: int, scheduler: str | None, fail_fast: bool, wait_s: float,
         log_format: str) -> None:
    """Forecast each queue and compute the agents needed per interval.

    CONFIG is the plan configuration (TOML) naming the volumes file, the events
    file and each queue's channel, service target, handle time, shrinkage,
    occupancy cap, opening hours and cost. Use --example to run on the bundled
    example centre instead.

    \b
    Writes into --out (each file atomically; nothing on a data or config error):
      plan.csv       one row per queue and interval: forecast volume and quantiles,
                     AHT, workload, agents required and scheduled, expected service
                     level, occupancy, abandonment, backlog, cost
      daily.csv      one row per queue and day: volume, agent-hours, FTE, cost
      chart_<queue>.png   history, forecast and staffing per queue
      manifest.json  input hashes, config, versions, seed, models chosen

    \b
    Files an earlier run wrote into --out (listed in its manifest.json) that this
    run does not write are removed; nothing else in the folder is touched.

    \b
    Exit codes: 0 ok, 1 bad data or config (or a queue failed with --fail-fast),
    2 bad usage, 3 some queues failed (the others are written), 4 output folder
    busy (another run holds it), 130 interrupted (Ctrl-C), 143 stopped by SIGTERM;
    an interrupted run leaves the previous files as they were.

    \b
    Examples:
      wfm plan --example
      wfm plan centre.toml --out plans/week47 --quantile 0.8 --format xlsx,html
      wfm fit centre.toml --models models/ && wfm plan centre.toml --models models/
    """
    from ..atomic import output_lock, remove_stale_outputs
    from ..manifest import build_manifest, previous_outputs, write_manifest
    from ..plan import build_plan, calibrated_values, load_inputs
    from ..planwriter import PlanWriter
    from ..store import load_models

    log = RunLog(log_format)
    cfg = resolve_config(config, example, horizon_days=horizon_days)
    if calibration_path is not None:
        from ..calibrate import apply_calibration, load_calibration

        cfg = apply_calibration(cfg, load_calibration(calibration_path))
    started = time.monotonic()
    # bad data stops here, before the output folder is touched
    inputs, run_warnings = _shown_and_kept(load_inputs, cfg)
    if queues:
        check_queue_option(queues, inputs.queues)
    with output_lock(out_dir, wait_s=wait_s):
        earlier = previous_outputs(out_dir)
        models = None
        if models_dir is not None:
            names = list(queues) or inputs.queues
            by_queue = {q: h for q, h in inputs.history.groupby("queue")}
            models, stale = _shown_and_kept(load_models, models_dir, names,
                                            histories=by_queue, config=cfg)
            run_warnings += stale
        run = dict(quantile=quantile, queues=queues or None, inputs=inputs,
                   progress=log, workers=workers, scheduler=scheduler,
                   fail_fast=fail_fast, models=models)
        if formats == ("csv",):  # stream queue by queue: memory stays flat
            with PlanWriter(out_dir, cfg, events=inputs.events, charts=not no_charts) as writer:
                result = build_plan(cfg, on_queue=writer.add, keep=False, **run)
                if not result.queues or (fail_fast and result.failures):
                    writer.abort()
                    _fail(result, fail_fast)
                written = writer.finish()
            totals = writer.totals
        else:  # the workbook and the HTML report need every queue at once
            result = build_plan(cfg, **run)
            if not result.queues or (fail_fast and result.failures):
                _fail(result, fail_fast)
            written = result.write(out_dir, charts=not no_charts, formats=formats)
            table = result.plan
            totals = {"rows": len(table), "cost": float(table["cost"].sum()),
                      "agent_hours": float(table["agents_scheduled"].sum()
                                           * cfg.interval_s / 3600)}
        caveats = {n: _caveats(q) for n, q in result.queues.items()}
        for name, texts in caveats.items():
            for text in texts:
                log.warning(name, text)
        manifest = build_manifest(
            cfg, command="plan",
            models={n: {"model": q.model, "reason": q.reason, "warnings": caveats[n]}
                    for n, q in result.queues.items()},
            failures=result.failures, outputs=written,
            settings={"quantile": quantile, "volume": result.volume_column,
                      "models_dir": None if models_dir is None else str(models_dir),
                      "calibration": None if calibration_path is None
                      else {"file": calibration_path.name,
                            "applied": {q: calibrated_values(cfg, q)
                                        for q in result.queues
                                        if calibrated_values(cfg, q)}},
                      "formats": list(formats)},
            warnings=run_warnings + list(result.warnings))
        write_manifest(manifest, out_dir)
        remove_stale_outputs(out_dir, earlier, written)

    status = "ok" if not result.failures else f"{len(result.failures)} queue(s) failed"
    if not log.json and len(result.queues) <= 20:
        for name, q in result.queues.items():
            click.echo(f"  {name:<12} model {q.model}")
    log.summary(
        f"wfm plan: {status}: {len(result.queues)} queue(s), {totals['rows']} intervals, "
        f"{totals['agent_hours']:,.0f} agent-hours, cost {totals['cost']:,.0f} "
        f"(staffed to {result.volume_column}) in {time.monotonic() - started:.1f}s; "
        f"{len(written) + 1} files in {out_dir}",
        queues=len(result.queues), failed=len(result.failures),
        agent_hours=round(totals["agent_hours"], 3), out=str(out_dir))
    if result.failures:
        raise click.exceptions.Exit(EXIT_PARTIAL)


def _shown_and_kept(call, *args, **kwargs):
    """Run ``call``, showing the warnings it raises as usual; return its value and the
    texts of the tool's own warnings (data repairs, forecast warnings) for the manifest."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = call(*args, **kwargs)
    for w in caught:
        warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return value, [str(w.message) for w in caught
                   if issubclass(w.category, DataRepairWarning | ForecastWarning)]


def _caveats(queue) -> list[str]:
    """A queue's warnings, plus a caveat when its history was too short to backtest
    (its forecast range is then a guess), each once."""
    texts = list(queue.warnings)
    if str(queue.reason).startswith("too little history"):
        texts.append(f"{queue.reason}; the forecast quantiles (p10-p90) are not "
                     "estimated from its errors, so treat the plan with care")
    return list(dict.fromkeys(texts))


def _fail(result, fail_fast: bool) -> None:
    """Every queue failed (each was reported as it failed), or one did with --fail-fast:
    exit 1 without writing anything, so the previous run's files stay as they were."""
    if fail_fast:
        name, reason = next(iter(result.failures.items()))
        raise ForecastError(f"queue '{name}' failed: {reason}; stopped (--fail-fast), "
                            "nothing written")
    raise click.exceptions.Exit(EXIT_DATA)
