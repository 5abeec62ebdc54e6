"""Stream a plan to disk queue by queue, so a run over thousands of queues never holds
every queue's plan in memory.

``PlanWriter.add`` appends one queue's rows to a hidden temporary ``plan.csv``, draws
its chart into a hidden temporary file and keeps only that queue's daily summary;
``finish`` writes ``daily.csv`` and moves every file into place. Until ``finish``
nothing visible changes in the folder, so a run killed half-way leaves the previous
plan, daily table and charts as they were; ``abort`` (or an exception inside ``with``)
removes the temporaries, and the next run sweeps any a killed run left behind.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pandas as pd

from .atomic import atomic_path
from .config import PlanConfig
from .plan import QueuePlan, daily_summary

__all__ = ["PlanWriter"]


class PlanWriter:
    """Write plan.csv, daily.csv and per-queue charts as queues complete.

    Parameters
    ----------
    out_dir
        Output folder.
    config
        The plan configuration (interval, hours per FTE).
    events
        Events table, for marking charts.
    charts
        Write ``chart_<queue>.png`` per queue.
    """

    def __init__(self, out_dir: str | Path, config: PlanConfig, *, events: pd.DataFrame | None,
                 charts: bool = True):
        from .report import DAILY_COLUMNS, FLOAT_FORMAT

        self.out_dir = Path(out_dir)
        self.config = config
        self.events = events
        self.charts = charts
        self._float_format = FLOAT_FORMAT
        self._daily_columns = DAILY_COLUMNS
        self._daily: list[pd.DataFrame] = []
        self._columns: list[str] | None = None
        self._header_written = False
        self._stack = contextlib.ExitStack()
        self._plan_tmp = self._stack.enter_context(atomic_path(self.out_dir / "plan.csv"))
        self._charts: list[Path] = []
        self.models: dict[str, str] = {}
        self.totals = {"rows": 0, "agent_hours": 0.0, "cost": 0.0}

    def add(self, queue_plan: QueuePlan) -> None:
        """Append one queue's plan (queues must arrive in a stable order)."""
        from .report import ordered_plan_columns, plan_chart, plan_csv_rows, safe_name, save_figure

        plan = queue_plan.plan
        channel = self.config.queue(queue_plan.queue).channel
        columns = ordered_plan_columns(plan.assign(channel=channel))
        if self._columns is None:
            self._columns = columns
        rows = queue_plan.csv_rows  # formatted by the worker that planned the queue, if any
        if (rows is not None and columns == self._columns
                and ordered_plan_columns(plan) == columns[:-1]  # channel: the last column
                and rows.count("\n") == len(plan)):  # one line a row: no quoted line break
            rows = rows.replace("\n", f",{channel}\n")  # a channel is a plain word
        else:
            rows = plan_csv_rows(plan.assign(channel=channel), self._columns)
        with open(self._plan_tmp, "a", encoding="utf-8", newline="") as sink:
            if not self._header_written:
                sink.write(",".join(self._columns) + "\n")
                self._header_written = True
            sink.write(rows)
        daily = queue_plan.daily  # made by the worker that planned the queue, if any
        if daily is None:
            daily = daily_summary(plan, interval_s=self.config.interval_s,
                                  hours_per_fte=self.config.hours_per_fte)
        self._daily.append(daily)
        self.models[queue_plan.queue] = queue_plan.model
        self.totals["rows"] += len(plan)
        self.totals["agent_hours"] += float(plan["agents_scheduled"].sum()
                                            * self.config.interval_s / 3600)
        self.totals["cost"] += float(plan["cost"].sum())
        if self.charts:  # drawn into a temporary now, renamed into place by finish
            target = self.out_dir / f"chart_{safe_name(queue_plan.queue)}.png"
            tmp = self._stack.enter_context(atomic_path(target))
            self._charts.append(target)
            save_figure(plan_chart(queue_plan, self.events, interval_s=self.config.interval_s),
                        tmp)  # closes the figure: nothing of it is kept until finish

    def finish(self) -> list[Path]:
        """Move plan.csv into place and write daily.csv; returns the files written."""
        daily = pd.concat(self._daily, ignore_index=True) if self._daily else pd.DataFrame(
            columns=self._daily_columns)
        daily_path = self.out_dir / "daily.csv"
        daily_tmp = self._stack.enter_context(atomic_path(daily_path))
        daily[self._daily_columns].to_csv(daily_tmp, index=False, lineterminator="\n",
                                          float_format=self._float_format,
                                          date_format="%Y-%m-%d")
        self._stack.close()  # every temporary is renamed into place, one right after another
        return [self.out_dir / "plan.csv", daily_path, *self._charts]

    def abort(self) -> None:
        """Drop the temporary plan.csv and charts; the folder stays as it was."""
        self._stack.__exit__(RuntimeError, RuntimeError("aborted"), None)

    def __enter__(self) -> PlanWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            with contextlib.suppress(RuntimeError):
                self.abort()
