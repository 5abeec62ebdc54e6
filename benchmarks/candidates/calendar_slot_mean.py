"""Candidate: the slot-mean member made calendar-aware.

Status: Rejected on 2026-11-30: under 2 SE on the bank, 0.0023 worse on technion_confirm.
Reproduce (see README.md here): ``forecast_decide.py --candidate calendar_slot_mean.py:make``
(benchmarks/RESULTS.md, "Changes judged by the decision rule").

The default ensemble averages ``topdown`` (which knows month-position effects: pay
days, statements at the start and end of the month) and ``slot_mean`` (the mean of
the same weekday and slot over the last 4 weeks, which does not). On a month-start
day the slot mean averages four ordinary days, and on an ordinary day it averages
in whatever month-start day fell in its window, so its day totals miss the calendar
and the combination pulls the forecast away from the top-down total.

``slot_mean_cal`` removes the month-position effect from each history day before
averaging (divide the day by ``exp(c(day))``, ``c`` the month-position part of the
top-down log day-total regression fitted on the same history) and puts it back for
the forecast day (multiply by ``exp(c(day))``). Everything else is ``slot_mean``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.forecasters import build_model
from forecast.forecasters.base import register
from forecast.forecasters.baselines import SlotMean
from forecast.forecasters.daygrid import DayGrid
from forecast.forecasters.topdown import TopDown, _as_day_numbers


@register("slot_mean_cal")
class CalendarSlotMean(SlotMean):
    """``slot_mean`` on calendar-adjusted history, the calendar re-applied."""

    def _fit_grid(self, grid: DayGrid) -> None:
        td = TopDown(calibration_weeks=-1, level_halflife_days=20.0)  # level not used
        td._fit_grid(grid)
        self.calendar_ = td
        adj = np.exp(self._calendar(grid.days))
        super()._fit_grid(DayGrid(grid.days, grid.minutes, grid.y / adj[:, None], grid.filled))

    def _calendar(self, days: np.ndarray) -> np.ndarray:
        td = self.calendar_
        if not td.month_effect_:
            return np.zeros(len(days))
        coef = np.array([td.month_effect_[k] for k in td._month_names()])
        return td._month_features(days) @ coef

    def _predict_mean(self, horizon: pd.DatetimeIndex, events=None) -> np.ndarray:
        base = super()._predict_mean(horizon, events)
        day = _as_day_numbers(horizon.normalize()) if len(horizon) else np.zeros(0, np.int64)
        return base * np.exp(self._calendar(day))



def make(events):
    """The candidate as judged: the calendar-aware slot mean, and the top-down profile
    pooled over 26 weeks."""
    return build_model("ensemble", events,
                       members=(("topdown", {"profile_weeks": 26}), "slot_mean_cal"))
