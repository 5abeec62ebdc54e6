"""``wfm backtest``: rolling-origin backtest of the candidate models on every queue."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import click
import pandas as pd

from ..atomic import atomic_path, write_csv
from ..exceptions import ForecastWarning
from ._common import check_queue_option, config_argument, resolve_config

__all__ = ["backtest_cmd"]


def plot_leaderboard(board: pd.DataFrame, path: Path) -> None:
    """WAPE per model for each queue, the selected model highlighted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    queues = list(dict.fromkeys(board["queue"]))
    models = list(dict.fromkeys(board["model"]))
    fig, axes = plt.subplots(1, len(queues), figsize=(3.2 * len(queues) + 1, 3.6), squeeze=False)
    for ax, q in zip(axes[0], queues, strict=True):
        sub = board[board["queue"] == q].set_index("model").reindex(models)
        colors = ["tab:green" if s else "tab:gray" for s in sub["selected"].fillna(False)]
        ax.bar(range(len(models)), sub["wape"], color=colors)
        ax.set_xticks(range(len(models)), models, rotation=45, ha="right", fontsize=8)
        ax.set_title(q)
        ax.set_ylabel("WAPE")
    fig.suptitle("Rolling-origin backtest (green: selected)")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


@click.command("backtest")
@config_argument
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for leaderboard.csv and leaderboard.png (with --plans: "
              "plan_backtest*.csv and plan_backtest.png).")
@click.option("--folds", type=click.IntRange(1, 52),
              help="Number of origins [default: the config's backtest_folds].")
@click.option("--horizon-days", type=click.IntRange(1, 92),
              help="Days scored per fold [default: the config's backtest_horizon_days].")
@click.option("--step-days", type=click.IntRange(1, 92),
              help="Days between origins [default: the config's backtest_step_days].")
@click.option("--models", help="Comma-separated model names [config candidates, else the fast "
              "set: seasonal_naive, slot_mean, topdown].")
@click.option("--queue", "queues", multiple=True, help="Only these queues; repeatable.")
@click.option("--plans", is_flag=True, help="Backtest the whole plan instead: per fold, forecast "
              "and staff the queue, then replay the fold's actual arrivals against the plan and "
              "against a plan made with perfect knowledge of the actual volumes.")
@click.option("--replications", default=20, show_default=True, type=click.IntRange(1, 10_000),
              help="With --plans: replays per fold (random arrival instants and handle times).")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="With --plans: seed of the replay [config forecast.seed].")
@click.option("--quantile", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=None, help="With --plans: staff to this forecast quantile (e.g. 0.8) "
              "instead of the mean.")
@click.option("--service", type=click.Choice(["exponential", "lognormal"]), default="exponential",
              show_default=True, help="With --plans: handle-time distribution in the replay "
              "(mean = the interval's actual AHT, else the configured AHT).")
@click.option("--service-cv", type=click.FloatRange(min=0, min_open=True), default=None,
              help="With --service lognormal: coefficient of variation of handle times.")
def backtest_cmd(config, example, out_dir, folds, horizon_days, step_days, models, queues, plans,
                 replications, seed, quantile, service, service_cv):
    """Backtest forecasting models on every queue in CONFIG and pick the best per queue.

    Each fold trains on everything before its origin and scores the next days;
    gap-filled intervals are never scored. Writes leaderboard.csv (queue, model,
    wape, mase, bias, coverage_80, coverage_95, peak_wape, fit_s, selected) and a chart.

    With --plans, backtests the service level the whole chain buys instead: each fold's
    plan (the configured or selected model, staffed by the queue's channel rule) is
    replayed against the fold's actual arrivals, beside a plan built from the actual
    volumes. Writes plan_backtest.csv (per interval), plan_backtest_daily.csv,
    plan_backtest_summary.csv and plan_backtest.png. Email and social queues are
    replayed as a backlog worked in open hours (response target in open seconds).

    \b
    Examples:
      wfm backtest --example --out bt/
      wfm backtest centre.toml --out bt/ --plans --queue voice
    """
    from ..events import events_for_queue
    from ..forecasters import MODELS, select_model
    from ..forecasters.base import _load_builtin_models
    from .forecast_cmd import load_history

    config = resolve_config(config, example)
    settings = config.forecast
    overrides = {k: v for k, v in (("backtest_folds", folds),
                                   ("backtest_horizon_days", horizon_days),
                                   ("backtest_step_days", step_days)) if v is not None}
    settings = dataclasses.replace(settings, **overrides)
    candidates = None
    if models:
        _load_builtin_models()
        candidates = [m.strip() for m in models.split(",") if m.strip()]
        unknown = [m for m in candidates if m not in MODELS]
        if unknown:
            raise click.BadParameter(f"unknown model '{unknown[0]}'; expected one of "
                                     f"{', '.join(sorted(MODELS))}", param_hint="--models")
    if service_cv is not None and service != "lognormal":
        raise click.BadParameter("only with --service lognormal", param_hint="--service-cv")
    if service == "lognormal" and service_cv is None:
        raise click.BadParameter("--service lognormal needs --service-cv (e.g. 1.0)",
                                 param_hint="--service-cv")
    history, events = load_history(config)
    names = sorted(history["queue"].unique())
    if queues:
        check_queue_option(queues, names)
        names = [n for n in names if n in set(queues)]
    if plans:
        if candidates:
            overrides.update({"candidates": tuple(candidates)} if len(candidates) > 1
                             else {"model": candidates[0]})
        config = dataclasses.replace(config, forecast=dataclasses.replace(config.forecast,
                                                                          **overrides))
        run_plan_backtest(config, history, events, names, Path(out_dir),
                          replications=replications,
                          seed=config.forecast.seed if seed is None else seed,
                          quantile=quantile, service=service, service_cv=service_cv)
        return
    boards = []
    for name in names:
        hist = history[history["queue"] == name].drop(columns="queue").reset_index(drop=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            _, board = select_model(hist, events_for_queue(events, name), settings, candidates)
        if board["wape"].isna().all():  # no fold could be scored: nothing was selected
            warnings.warn(f"queue '{name}': too little history for a backtest (each fold "
                          f"needs {settings.backtest_horizon_days} scored day(s) after its "
                          "training data); its rows are empty", ForecastWarning, stacklevel=1)
            board = board.assign(selected=False)
        boards.append(board.assign(queue=name))
    board = pd.concat(boards, ignore_index=True)
    board = board[["queue", *[c for c in board.columns if c != "queue"]]]
    with pd.option_context("display.width", 120, "display.max_rows", 200):
        click.echo(board.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    out_dir = Path(out_dir)
    write_csv(board, out_dir / "leaderboard.csv", float_format="%.5f")
    plot_leaderboard(board, out_dir / "leaderboard.png")
    click.echo(f"wrote {out_dir / 'leaderboard.csv'} and leaderboard.png")


#: summary columns printed by ``wfm backtest --plans``, with their headings
PLAN_TABLE = (("queue", "queue"), ("fold", "fold"), ("origin", "origin"), ("model", "model"),
              ("days", "days"), ("wape", "wape"), ("bias", "bias"), ("sl_goal", "goal"),
              ("sl_promised", "promised"), ("sl_plan", "sl_plan"), ("sl_perfect", "sl_perfect"),
              ("intervals_meeting_plan", "ivl_ok_plan"),
              ("intervals_meeting_perfect", "ivl_ok_perf"), ("days_meeting_plan", "day_ok_plan"),
              ("agent_hours_plan", "hours_plan"), ("agent_hours_perfect", "hours_perf"),
              ("agent_hours_ratio", "hours_ratio"))


def format_plan_summary(summary: pd.DataFrame) -> str:
    """The plan backtest's summary as a text table (fold "all" = every fold pooled)."""
    table = summary[[c for c, _ in PLAN_TABLE]].rename(columns=dict(PLAN_TABLE))
    table = table.assign(
        fold=[str(f) if f else "all" for f in table["fold"]],
        origin=table["origin"].dt.strftime("%Y-%m-%d"),
        hours_plan=table["hours_plan"].round(0).astype("int64"),
        hours_perf=table["hours_perf"].round(0).astype("int64"),
    )
    with pd.option_context("display.width", 200, "display.max_rows", 500,
                           "display.max_columns", 40):
        return table.to_string(index=False, float_format=lambda v: f"{v:.3f}")


def run_plan_backtest(config, history, events, names, out_dir: Path, *, replications: int,
                      seed: int, quantile, service: str, service_cv) -> None:
    """``wfm backtest --plans``: replay each queue's fold plans, print, write."""
    from ..events import events_for_queue
    from ..planbacktest import backtest_plans, write_plan_backtest

    results = []
    for name in names:
        queue = config.queue(name)
        hist = history[history["queue"] == name].drop(columns="queue").reset_index(drop=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            result = backtest_plans(hist, events_for_queue(events, name), queue, config,
                                    replications=replications, seed=seed, quantile=quantile,
                                    service=service, service_cv=service_cv)
        for note in result.notes:
            click.echo(f"note: {note}")
        results.append(result)
    intervals_s = config.interval_s
    click.echo(f"Plan backtest: actual arrivals replayed against each fold's plan "
               f"({replications} replications, {intervals_s // 60}-minute intervals, "
               f"service level = answered within target / offered)")
    summary = pd.concat([r.summary for r in results], ignore_index=True)
    click.echo(format_plan_summary(summary))
    written = write_plan_backtest(results, out_dir)
    click.echo(f"wrote {', '.join(p.name for p in written)} to {out_dir}")
