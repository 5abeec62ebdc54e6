"""Prophet on the open intervals, with events as holidays (prophet imported lazily).

Prophet is built afresh in every fit (it cannot be refitted), fitted by MAP
(no MCMC), with a modest number of uncertainty samples and its logging quieted.
Events become Prophet holidays: one per event type, each interval inside an event
a holiday row, plus a one-day upper window for the day-after effect of holidays;
an event's ``weight`` is not representable and is ignored (use the ``EventAdjusted``
wrapper with another model for weighted what-ifs). Closed hours are absent from
history and horizon, so Prophet's daily seasonality only sees open hours.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ModelError
from .base import Forecaster, register

__all__ = ["ProphetModel"]


def _quiet() -> None:
    for name in ("cmdstanpy", "prophet", "prophet.plot"):
        logging.getLogger(name).setLevel(logging.WARNING)


def events_to_holidays(events: pd.DataFrame | None, ds: pd.DatetimeIndex) -> pd.DataFrame | None:
    """Prophet's holidays table: a row per (event type, day touched by the event)."""
    if events is None or len(events) == 0:
        return None
    rows = []
    for r in events.itertuples(index=False):
        start, end = pd.Timestamp(r.start), pd.Timestamp(r.end)
        for day in pd.date_range(start.normalize(), (end - pd.Timedelta(1, "us")).normalize()):
            rows.append({"holiday": str(r.type), "ds": day,
                         "lower_window": 0, "upper_window": 1 if r.type == "holiday" else 0})
    return pd.DataFrame(rows).drop_duplicates() if rows else None


@register("prophet")
class ProphetModel(Forecaster):
    """Prophet with multiplicative seasonality and events as holidays.

    Parameters
    ----------
    seasonality_mode
        ``"multiplicative"`` (volume scales the daily shape) or ``"additive"``.
    daily_fourier_order
        Fourier order of the daily seasonality (open hours have sharp edges).
    uncertainty_samples
        Samples Prophet draws for its own intervals (ours come from calibration; kept
        small because they cost time).
    """

    cheap = False
    handles_events = True
    param_names = ("seasonality_mode", "daily_fourier_order", "uncertainty_samples")

    def __init__(self, seasonality_mode: str = "multiplicative", daily_fourier_order: int = 15,
                 uncertainty_samples: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seasonality_mode = seasonality_mode
        self.daily_fourier_order = daily_fourier_order
        self.uncertainty_samples = uncertainty_samples

    def _fit(self, hist: pd.DataFrame, events=None) -> None:
        try:
            from prophet import Prophet
        except ImportError as exc:  # pragma: no cover - prophet is a dependency
            raise ModelError(f"the prophet model needs the prophet package ({exc})") from None
        _quiet()
        obs = hist.loc[~hist["filled"], ["ds", "y"]]
        if len(obs) < 2:
            raise ModelError("prophet needs at least two observed intervals")
        m = Prophet(seasonality_mode=self.seasonality_mode, daily_seasonality=False,
                    weekly_seasonality=True, yearly_seasonality="auto",
                    holidays=events_to_holidays(events, pd.DatetimeIndex(obs["ds"])),
                    uncertainty_samples=self.uncertainty_samples)
        m.add_seasonality("daily", period=1, fourier_order=self.daily_fourier_order)
        m.fit(obs)
        self.prophet_ = m

    def _predict_mean(self, horizon: pd.DatetimeIndex, events=None) -> np.ndarray:
        order = np.argsort(horizon.to_numpy(), kind="stable")  # prophet sorts its input
        fc = self.prophet_.predict(pd.DataFrame({"ds": horizon[order]}))
        out = np.empty(len(horizon))
        out[order] = fc["yhat"].to_numpy()
        return out
