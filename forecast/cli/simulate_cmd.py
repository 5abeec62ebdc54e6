"""``wfm simulate``: the service level a plan really delivers, beside the formula's promise."""

from __future__ import annotations

import warnings
from pathlib import Path

import click
import numpy as np
import pandas as pd

from ..atomic import write_csv
from ..exceptions import DataValidationError, ForecastWarning

__all__ = ["simulate_cmd"]


@click.command("simulate")
@click.argument("plan_file", metavar="PLAN.csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--replications",
    "-n",
    default=100,
    show_default=True,
    type=click.IntRange(1, 1_000_000),
    help="Independent runs to average over.",
)
@click.option(
    "--target-s",
    default=None,
    type=click.FloatRange(min=0),
    help="Answer-time target of the service level, seconds. Default: each "
    "queue's answer_s from --config, else 20.",
)
@click.option(
    "--patience",
    "patience_s",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Mean caller patience in seconds (exponential). Default: callers never hang up.",
)
@click.option(
    "--goal",
    "service_level_goal",
    type=click.FloatRange(0, 1, min_open=True),
    default=None,
    help="Service level each interval should reach (e.g. 0.8), "
    "to count how often it does. Default: each queue's service_level from --config.",
)
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0),
              help="Random seed: the same plan, options and seed give the same results.")
@click.option(
    "--arrivals",
    type=click.Choice(["poisson", "negbin", "forecast", "counts"]),
    default="poisson",
    show_default=True,
    help="poisson: Poisson counts around the forecast mean; forecast: adds the "
    "forecast's own error, read from the plan's quantile columns (p10/p90); negbin: "
    "adds a rate error of CV --dispersion; counts: the volume column as exact counts.",
)
@click.option(
    "--error-scope",
    type=click.Choice(["interval", "day"]),
    default="interval",
    show_default=True,
    help="With forecast/negbin: errors per interval, or one shared by the intervals of a day.",
)
@click.option(
    "--dispersion",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="With --arrivals negbin: coefficient of variation of the arrival rate.",
)
@click.option(
    "--service",
    type=click.Choice(["exponential", "lognormal"]),
    default="exponential",
    show_default=True,
    help="Handle-time distribution (mean = the plan's aht_s).",
)
@click.option(
    "--service-cv",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="With --service lognormal: coefficient of variation of handle times.",
)
@click.option(
    "--agents-column",
    default="agents_required",
    show_default=True,
    help="Plan column with the productive agents per interval.",
)
@click.option(
    "--interval-min",
    type=click.IntRange(1, 1440),
    default=None,
    help="Interval length; default: inferred from the plan's ds spacing.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The plan's centre.toml: per-queue targets, patience, chat "
    "concurrency and interval; deferred queues (email, social) are skipped. Without it "
    "only the plan's voice queues (its channel column) are simulated.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the per-interval results to this CSV (atomically).",
)
def simulate_cmd(
    plan_file: Path,
    replications: int,
    target_s: float,
    patience_s: float | None,
    service_level_goal: float | None,
    seed: int,
    arrivals: str,
    error_scope: str,
    dispersion: float | None,
    service: str,
    service_cv: float | None,
    agents_column: str,
    interval_min: int | None,
    config_file: Path | None,
    out: Path | None,
) -> None:
    """Simulate PLAN.csv call by call and compare the service level with the plan's promise.

    Each queue's arrivals are drawn around the forecast volume, served first come first
    served by the plan's agents (joining and leaving at interval boundaries), and the
    results averaged over replications. Service level = answered within --target-s /
    offered, as the Erlang formulas count it.

    \b
    Example:
      wfm simulate out/plan.csv --replications 200 --patience 120 --out out/simulated.csv
    """
    from ..config import load_config
    from ..simulate import read_plan, simulable_queues, simulate_plan

    if arrivals == "negbin" and dispersion is None:
        raise click.BadParameter(
            "--arrivals negbin needs --dispersion (e.g. 0.1)", param_hint="--dispersion"
        )
    if service == "lognormal" and service_cv is None:
        raise click.BadParameter(
            "--service lognormal needs --service-cv (e.g. 1.0)", param_hint="--service-cv"
        )
    if dispersion is not None and arrivals != "negbin":
        raise click.BadParameter("only with --arrivals negbin", param_hint="--dispersion")
    if error_scope == "day" and arrivals not in ("negbin", "forecast"):
        raise click.BadParameter(f"only with --arrivals forecast or negbin (--arrivals "
                                 f"{arrivals} draws no forecast error to share within a day)",
                                 param_hint="--error-scope")
    if service_cv is not None and service != "lognormal":
        raise click.BadParameter("only with --service lognormal", param_hint="--service-cv")
    plan = read_plan(plan_file)
    if plan.empty:
        raise DataValidationError("no rows in PLAN; expected the plan.csv of a plan run",
                                  file=plan_file)
    queues = None
    interval_s = interval_min * 60 if interval_min else None
    skipped: list[str] = []
    if config_file is not None:
        config = load_config(config_file)
        queues = {str(q): config.queue(str(q)) for q in plan["queue"].dropna().unique()}
        interval_s = interval_s or config.interval_s
    else:
        plan, skipped = simulable_queues(plan, plan_name="PLAN", settings="--config")
        if plan.empty:
            raise click.UsageError("PLAN holds no voice queue; give --config to simulate its "
                                   "chat, email and social queues")
    interval_s = interval_s or _infer_interval_s(plan)
    with warnings.catch_warnings():  # what is skipped is printed below as notes
        warnings.simplefilter("ignore", ForecastWarning)
        result = simulate_plan(
            plan,
            interval_s=interval_s,
            target_s=target_s,
            replications=replications,
            arrivals=arrivals,
            dispersion=dispersion,
            error_scope=error_scope,
            service=service,
            service_cv=service_cv,
            patience=patience_s,
            seed=seed,
            agents_column=agents_column,
            queues=queues,
            service_level_goal=service_level_goal,
        )
    used = sorted(set(result.targets_s.values()))
    target = (f"target {used[0]:g} s" if len(used) == 1
              else "target per queue: " + ", ".join(f"{q} {t:g} s"
                                                    for q, t in result.targets_s.items()))
    if patience_s is not None:
        patience = f"patience {patience_s:g} s (exponential)"
    else:
        patience = "patience from config" if queues else "patience none"
    click.echo(
        f"{replications} replications, {target}, {patience}, "
        f"arrivals {arrivals}"
        + (f" ({error_scope} errors)" if arrivals in ("negbin", "forecast") else "")
        + f", service {service}, seed {seed}"
    )
    click.echo(format_summary(result.summary()))
    for note in skipped + list(result.notes):
        click.echo(f"note: {note}")
    if out is not None:
        write_csv(result.intervals, out, float_format="%.6g")
        click.echo(f"wrote {out} ({len(result.intervals)} rows)")


def format_summary(summary: pd.DataFrame) -> str:
    """A fixed-width table: promise beside simulated SL (with its CI), ASA, abandonment,
    and the share of intervals that met the service-level goal."""
    header = (
        "queue",
        "intervals",
        "target s",
        "offered",
        "promised SL",
        "simulated SL [95% CI]",
        "ASA s",
        "abandon",
        "occupancy",
        "goal",
        "intervals >= goal",
    )
    rows = [header]
    for r in summary.itertuples(index=False):
        rows.append(
            (
                str(r.queue),
                f"{r.intervals:d}",
                f"{r.target_s:g}",
                f"{r.offered:,.0f}",
                _pct(r.promised_service_level),
                f"{_pct(r.service_level)} [{_pct(r.service_level_lo)}, {_pct(r.service_level_hi)}]",
                "-" if np.isnan(r.asa_s) else f"{r.asa_s:.1f}",
                _pct(r.abandonment),
                _pct(r.occupancy),
                _pct(r.service_level_goal),
                _pct(r.intervals_meeting_goal),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _pct(x: float) -> str:
    return "-" if x is None or not np.isfinite(x) else f"{100 * x:.1f}%"


def _infer_interval_s(plan: pd.DataFrame) -> int:
    """The smallest positive spacing between consecutive intervals of one queue."""
    ds = pd.to_datetime(plan["ds"], errors="coerce")
    frame = pd.DataFrame({"queue": plan["queue"].astype(str), "ds": ds}).dropna()
    steps = frame.sort_values(["queue", "ds"]).groupby("queue")["ds"].diff().dt.total_seconds()
    steps = steps[steps > 0]
    if steps.empty:
        raise click.UsageError(
            "cannot infer the interval length from the plan (every queue "
            "has one row); give --interval-min"
        )
    return int(steps.min())


