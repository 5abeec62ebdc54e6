"""``wfm backtest``: rolling-origin backtest of the candidate models on every queue."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import click
import pandas as pd

from ..atomic import atomic_path, write_csv
from ..config import load_config

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
@click.argument("config_path", metavar="CONFIG", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for leaderboard.csv and leaderboard.png.")
@click.option("--folds", type=click.IntRange(1, 52), help="Number of origins [config: 4].")
@click.option("--horizon-days", type=click.IntRange(1, 92), help="Days scored per fold [7].")
@click.option("--step-days", type=click.IntRange(1, 92), help="Days between origins [7].")
@click.option("--models", help="Comma-separated model names [config candidates, else the fast "
              "set: seasonal_naive, slot_mean, topdown].")
@click.option("--queue", "queues", multiple=True, help="Only these queues; repeatable.")
def backtest_cmd(config_path, out_dir, folds, horizon_days, step_days, models, queues):
    """Backtest forecasting models on every queue in CONFIG and pick the best per queue.

    Each fold trains on everything before its origin and scores the next days;
    gap-filled intervals are never scored. Writes leaderboard.csv (queue, model,
    wape, mase, bias, coverage_80, coverage_95, peak_wape, fit_s, selected) and a chart.
    """
    from ..events import events_for_queue
    from ..forecasters import MODELS, select_model
    from ..forecasters.base import _load_builtin_models
    from .forecast_cmd import load_history

    config = load_config(config_path)
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
    history, events = load_history(config)
    names = sorted(history["queue"].unique())
    if queues:
        unknown = sorted(set(queues) - set(names))
        if unknown:
            raise click.BadParameter(f"unknown queue '{unknown[0]}'; the data has "
                                     f"{', '.join(names)}", param_hint="--queue")
        names = [n for n in names if n in set(queues)]
    boards = []
    for name in names:
        hist = history[history["queue"] == name].drop(columns="queue").reset_index(drop=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            _, board = select_model(hist, events_for_queue(events, name), settings, candidates)
        boards.append(board.assign(queue=name))
    board = pd.concat(boards, ignore_index=True)
    board = board[["queue", *[c for c in board.columns if c != "queue"]]]
    with pd.option_context("display.width", 120, "display.max_rows", 200):
        click.echo(board.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    out_dir = Path(out_dir)
    write_csv(board, out_dir / "leaderboard.csv", float_format="%.5f")
    plot_leaderboard(board, out_dir / "leaderboard.png")
    click.echo(f"wrote {out_dir / 'leaderboard.csv'} and leaderboard.png")
