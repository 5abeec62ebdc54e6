"""Tables, exports and charts of a plan (matplotlib, Agg backend).

Every file is written atomically (see :mod:`forecast.atomic`), so a scheduled job
never picks up a half-written export.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .atomic import atomic_path, write_csv  # noqa: E402

if TYPE_CHECKING:
    from .plan import PlanResult, QueuePlan

__all__ = ["PLAN_COLUMNS", "DAILY_COLUMNS", "write_plan_outputs", "plan_chart", "save_figure"]

#: plan.csv columns in order; quantile columns (p10, p50, p90, ...) follow ``volume_mean``.
PLAN_COLUMNS = [
    "queue", "ds", "volume", "volume_mean", "aht_s", "workload_erlangs", "agents_raw",
    "agents_required", "binding", "agents_scheduled", "service_level", "asa_s", "occupancy",
    "abandonment", "backlog", "cost",
]
DAILY_COLUMNS = ["queue", "date", "volume", "agent_hours", "fte", "peak_agents", "cost",
                 "service_level"]
FLOAT_FORMAT = "%.6g"
HISTORY_WEEKS_SHOWN = 4


def ordered_plan_columns(plan: pd.DataFrame) -> list[str]:
    """plan.csv's documented column order: fixed columns, quantiles after volume_mean."""
    quantiles = sorted((c for c in plan.columns if c.startswith("p") and c[1:2].isdigit()),
                       key=lambda c: float(c[1:]))
    head = PLAN_COLUMNS[:4] + quantiles
    rest = [c for c in PLAN_COLUMNS[4:] if c in plan.columns]
    extra = [c for c in plan.columns if c not in head and c not in rest]
    return head + rest + extra


def write_plan_outputs(result: PlanResult, out_dir: Path, *, charts: bool = True) -> list[Path]:
    """Write ``plan.csv``, ``daily.csv`` and ``chart_<queue>.png`` files into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    plan = result.plan
    written = [
        write_csv(plan[ordered_plan_columns(plan)], out_dir / "plan.csv",
                  float_format=FLOAT_FORMAT, date_format="%Y-%m-%d %H:%M"),
        write_csv(result.daily[DAILY_COLUMNS], out_dir / "daily.csv",
                  float_format=FLOAT_FORMAT, date_format="%Y-%m-%d"),
    ]
    if charts:
        for name, queue_plan in result.queues.items():
            fig = plan_chart(queue_plan, result.events, interval_s=result.config.interval_s)
            written.append(save_figure(fig, out_dir / f"chart_{safe_name(name)}.png"))
    return written


def safe_name(name: str) -> str:
    """A queue name made safe for a file name."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(name))


def save_figure(fig: plt.Figure, target: Path, dpi: int = 110) -> Path:
    """Save a figure as PNG atomically, without metadata that would change between runs."""
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, metadata={"Software": None})
    plt.close(fig)
    return target


def plan_chart(queue_plan: QueuePlan, events: pd.DataFrame | None, *, interval_s: int
               ) -> plt.Figure:
    """History, forecast with its interval band, and required vs scheduled agents."""
    plan = queue_plan.plan
    history = queue_plan.history
    start_shown = plan["ds"].min() - pd.Timedelta(weeks=HISTORY_WEEKS_SHOWN)
    recent = history[history["ds"] >= start_shown]

    fig, (ax_vol, ax_agents) = plt.subplots(
        2, 1, figsize=(12, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    _gapped_line(ax_vol, recent["ds"], recent["y"], interval_s, color="0.35", lw=0.8,
                 label="history")
    quantiles = sorted((c for c in plan.columns if c.startswith("p") and c[1:2].isdigit()),
                       key=lambda c: float(c[1:]))
    if len(quantiles) >= 2:
        lo, hi = quantiles[0], quantiles[-1]
        ax_vol.fill_between(plan["ds"], plan[lo], plan[hi], step="post", color="tab:blue",
                            alpha=0.2, lw=0, label=f"{lo}-{hi}")
    _gapped_line(ax_vol, plan["ds"], plan["volume_mean"], interval_s, color="tab:blue", lw=1.0,
                 label=f"forecast ({queue_plan.model})")
    if events is not None and len(events):
        _shade_events(ax_vol, events, start_shown, plan["ds"].max())
    ax_vol.set_ylabel("contacts per interval")
    ax_vol.set_title(f"{queue_plan.queue}: forecast and staffing")
    ax_vol.legend(loc="upper left", fontsize=8, ncol=3)

    ax_agents.step(plan["ds"], plan["agents_required"], where="post", color="tab:orange",
                   lw=0.9, label="agents required (on queue)")
    ax_agents.step(plan["ds"], plan["agents_scheduled"], where="post", color="tab:green",
                   lw=0.9, label="agents scheduled (after shrinkage)")
    ax_agents.set_ylabel("agents")
    ax_agents.legend(loc="upper left", fontsize=8)
    ax_agents.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    for ax in (ax_vol, ax_agents):
        ax.grid(alpha=0.3)
        ax.axvline(plan["ds"].min(), color="k", lw=0.8, ls="--")
    fig.tight_layout()
    return fig


def _gapped_line(ax, ds: pd.Series, values: pd.Series, interval_s: int, **kwargs) -> None:
    """Plot a line that breaks over closed hours instead of bridging them."""
    ds = pd.Series(pd.to_datetime(ds)).reset_index(drop=True)
    values = pd.Series(values).reset_index(drop=True).astype(float)
    breaks = ds.diff() > pd.Timedelta(seconds=interval_s)
    ds_plot = pd.concat([ds, ds[breaks] - pd.Timedelta(seconds=1)]).sort_index(kind="stable")
    values_plot = pd.concat([values, pd.Series(np.nan, index=ds.index[breaks])]).sort_index(
        kind="stable")
    order = np.argsort(ds_plot.to_numpy(), kind="stable")
    ax.plot(ds_plot.to_numpy()[order], values_plot.to_numpy()[order], **kwargs)


def _shade_events(ax, events: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> None:
    colours = {"campaign": "tab:purple", "outage": "tab:red", "holiday": "tab:gray",
               "release": "tab:cyan"}
    shown = events[(events["end"] > start) & (events["start"] < end)]
    for row in shown.itertuples(index=False):
        ax.axvspan(max(row.start, start), min(row.end, end), color=colours.get(row.type, "y"),
                   alpha=0.12, lw=0)
        ax.annotate(str(row.name)[:24], (max(row.start, start), 1.0),
                    xycoords=("data", "axes fraction"), fontsize=7, va="top", rotation=90,
                    color=colours.get(row.type, "k"))
