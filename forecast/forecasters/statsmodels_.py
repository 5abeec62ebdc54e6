"""Holt-Winters on daily totals, distributed with the top-down intraday profile.

Exponential smoothing (statsmodels ``ExponentialSmoothing``, additive damped trend,
multiplicative weekly season on open-day positions) forecasts each future day's
total; the pooled weekday profile of :class:`~.topdown.TopDown` spreads it over the
intervals. Fitting the smoother on ~250 daily points is cheap, unlike SARIMAX or
MSTL on thousands of intervals.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ModelError
from .base import register
from .topdown import TopDown, _as_day_numbers

__all__ = ["HoltWintersTopDown"]


@register("holt_winters")
class HoltWintersTopDown(TopDown):
    """Daily totals by Holt-Winters (statsmodels), intervals by the pooled profile.

    Parameters
    ----------
    damped_trend
        Damp the trend so long horizons do not run away.
    fit_weeks
        Weeks of daily totals the smoother sees.
    """

    param_names = ("damped_trend", "fit_weeks")

    def __init__(self, damped_trend: bool = True, fit_weeks: int = 52, **kwargs: Any) -> None:
        super().__init__(fit_weeks=fit_weeks, **kwargs)
        self.damped_trend = damped_trend

    def _fit_daily(self, days: np.ndarray, total: np.ndarray, complete: np.ndarray,
                   weekday: np.ndarray) -> None:
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        super()._fit_daily(days, total, complete, weekday)  # fallback for unseen weekdays
        use = days > days[-1] - 7 * self.fit_weeks
        # open days in order; gap-filled or partial days keep their place (the season
        # is counted in open days), interpolated from their neighbours
        totals = np.where(complete[use], total[use], np.nan)
        season = len(self.open_weekdays_)
        if np.isfinite(totals).sum() < 2 * season + 2 or season < 2:
            raise ModelError("holt_winters needs at least two weeks of complete days")
        s = pd.Series(totals).interpolate(limit_direction="both").to_numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = ExponentialSmoothing(s, trend="add", damped_trend=self.damped_trend,
                                       seasonal="mul", seasonal_periods=season).fit()
        self.hw_last_day_ = int(days[-1])
        self.hw_fit_ = fit

    def daily_total(self, days: pd.DatetimeIndex | np.ndarray) -> np.ndarray:
        d = _as_day_numbers(days)
        mask = [i in self.open_weekdays_ for i in range(7)]
        steps = np.busday_count(np.datetime64(self.hw_last_day_ + 1, "D"),
                                d.astype("datetime64[D]") + 1, weekmask=mask)
        out = super().daily_total(d)
        ahead = steps >= 1
        if ahead.any():
            path = self.hw_fit_.forecast(int(steps[ahead].max()))
            out[ahead] = np.asarray(path)[steps[ahead] - 1]
        return np.maximum(out, 0.0)

    def _get_state(self) -> dict[str, Any]:
        raise ModelError("holt_winters cannot be saved as JSON; refit it from the data")
