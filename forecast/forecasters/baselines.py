"""Baseline forecasters: the same slot last week, and the average of the same slot.

A *slot* is a weekday and time of day. Both models look only at the slots present
in history, so closed nights and weekends neither appear nor distort anything.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ModelError
from .base import Forecaster, register
from .daygrid import DayGrid

__all__ = ["SeasonalNaive", "SlotMean"]


class _SlotTableModel(Forecaster):
    """A model whose whole state is one value per slot (weekday x time of day).

    The values live in a ``7 x minutes`` table; a horizon slot the history never had
    falls back to the mean over weekdays of its time of day, then to the mean of all
    slots.
    """

    def _predict_mean(self, horizon: pd.DatetimeIndex, events=None) -> np.ndarray:
        grid = DayGrid(np.zeros(0, np.int64), self.table_minutes_, np.zeros((0, 0)),
                       np.zeros((0, 0), bool))
        _, wd, col = grid.cells(horizon)
        ok = col >= 0
        out = np.full(len(col), np.nan)
        out[ok] = self.table_[wd[ok], col[ok]]
        miss = ok & np.isnan(out)
        out[miss] = self.minute_values_[col[miss]]
        return np.where(np.isnan(out), self.fallback_, out)

    def _store_table(self, minutes: np.ndarray, table: np.ndarray) -> None:
        self.table_minutes_ = np.asarray(minutes, dtype=np.int64)
        self.table_ = np.asarray(table, dtype="float64")
        finite = np.isfinite(self.table_)
        counts = finite.sum(axis=0)
        sums = np.where(finite, self.table_, 0.0).sum(axis=0)
        self.minute_values_ = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        self.fallback_ = float(self.table_[finite].mean()) if finite.any() else 0.0

    def _get_state(self) -> dict[str, Any]:
        wd, col = np.nonzero(np.isfinite(self.table_))
        keys = wd * 1440 + self.table_minutes_[col]
        order = np.argsort(keys, kind="stable")
        return {"slots": keys[order].tolist(), "values": self.table_[wd, col][order].tolist()}

    def _set_state(self, state: Mapping[str, Any]) -> None:
        keys = np.asarray(state["slots"], dtype=np.int64)
        minutes, col = np.unique(keys % 1440, return_inverse=True)
        table = np.full((7, len(minutes)), np.nan)
        table[keys // 1440, col] = np.asarray(state["values"], dtype="float64")
        self._store_table(minutes, table)


def _per_weekday(grid: DayGrid):
    """(weekday, rows of the grid on that weekday) for each weekday present."""
    wd = grid.weekday
    for w in range(7):
        rows = np.flatnonzero(wd == w)
        if rows.size:
            yield w, rows


@register("seasonal_naive")
class SeasonalNaive(_SlotTableModel):
    """Same interval last week: each slot's most recent value in history.

    Gap-filled rows are used (they stand for the missing week), so the forecast for a
    slot is always the latest available week's value.
    """

    def _fit_grid(self, grid: DayGrid) -> None:
        table = np.full((7, len(grid.minutes)), np.nan)
        present = grid.present
        for w, rows in _per_weekday(grid):
            p = present[rows]
            last = len(rows) - 1 - np.argmax(p[::-1], axis=0)
            vals = grid.y[rows[last], np.arange(len(grid.minutes))]
            table[w] = np.where(p.any(axis=0), vals, np.nan)
        self._store_table(grid.minutes, table)


@register("slot_mean")
class SlotMean(_SlotTableModel):
    """Average of the same weekday and interval over the last ``weeks`` occurrences.

    Parameters
    ----------
    weeks
        Number of most recent observed (not gap-filled) occurrences of each slot.
    statistic
        ``"mean"``, ``"median"`` or ``"ewm"`` (exponentially weighted mean, weights
        halving every ``halflife_weeks``).
    halflife_weeks
        Half-life of the weights for ``statistic="ewm"``.
    """

    param_names = ("weeks", "statistic", "halflife_weeks")

    def __init__(self, weeks: int = 4, statistic: str = "mean", halflife_weeks: float = 4.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.weeks = weeks
        self.statistic = statistic
        self.halflife_weeks = halflife_weeks

    def _fit_grid(self, grid: DayGrid) -> None:
        if self.statistic not in ("mean", "median", "ewm"):
            raise ModelError(f"slot_mean statistic '{self.statistic}' unknown; expected mean, "
                             "median or ewm")
        if int(self.weeks) < 1:
            raise ModelError(f"slot_mean weeks must be >= 1, got {self.weeks}")
        usable = grid.observed
        if not usable.any():  # only gap-filled data: better than nothing
            usable = grid.present
        table = np.full((7, len(grid.minutes)), np.nan)
        for w, rows in _per_weekday(grid):
            ok = usable[rows]
            y = np.where(ok, grid.y[rows], 0.0)
            # occurrences counted from the most recent one (1 = latest)
            rank = np.cumsum(ok[::-1], axis=0)[::-1]
            keep = ok & (rank <= int(self.weeks))
            n = keep.sum(axis=0)
            if self.statistic == "mean":
                vals = np.where(keep, y, 0.0).sum(axis=0) / np.maximum(n, 1)
            elif self.statistic == "median":
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    vals = np.nanmedian(np.where(keep, y, np.nan), axis=0)
            else:
                wt = np.where(keep, 0.5 ** ((rank - 1) / float(self.halflife_weeks)), 0.0)
                vals = (wt * y).sum(axis=0) / np.maximum(wt.sum(axis=0), 1e-300)
            table[w] = np.where(n > 0, vals, np.nan)
        self._store_table(grid.minutes, table)
