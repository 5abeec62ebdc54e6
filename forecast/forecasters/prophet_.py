"""Prophet on the open intervals, with events as holidays (prophet imported lazily).

Prophet is built afresh in every fit (it cannot be refitted), fitted by MAP
(no MCMC), with a modest number of uncertainty samples and its logging quieted.
Events become Prophet holidays: one per event type, each interval inside an event
a holiday row, plus a one-day upper window for the day-after effect of holidays;
an event's ``weight`` is not representable and is ignored (use the ``EventAdjusted``
wrapper with another model for weighted what-ifs). ``predict`` uses the events it is
given (a what-if's added or removed events count), but only the event types seen at
fit time have a learned effect: a type new at predict time is ignored by Prophet.
Closed hours are absent from history and horizon, so Prophet's daily seasonality only
sees open hours.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ModelError
from .base import Forecaster, register

__all__ = ["ProphetModel"]


#: date of the placeholder holiday rows that keep every learned type in Prophet's table
_FAR_AWAY = pd.Timestamp("1970-01-01")


def _import_prophet() -> Any:
    """The Prophet class, its loggers quieted first.

    ``prophet.plot`` logs "Importing plotly failed" as an error while prophet is
    imported; cmdstanpy installs its own INFO handler (and level) on first use unless its
    logger already has a handler, so each gets a ``NullHandler`` and a level before the
    import. Warnings and errors of the fit itself still reach the root logger.
    """
    levels = {"cmdstanpy": logging.WARNING, "prophet": logging.WARNING,
              "prophet.plot": logging.CRITICAL}
    for name, level in levels.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        if not logger.handlers:
            logger.addHandler(logging.NullHandler())
    try:
        from prophet import Prophet
    except ImportError as exc:  # pragma: no cover - prophet is a dependency
        raise ModelError(f"the prophet model needs the prophet package ({exc})") from None
    return Prophet


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
    storable = False  # refitted from the data on every run
    param_names = ("seasonality_mode", "daily_fourier_order", "uncertainty_samples")

    def __init__(self, seasonality_mode: str = "multiplicative", daily_fourier_order: int = 15,
                 uncertainty_samples: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seasonality_mode = seasonality_mode
        self.daily_fourier_order = daily_fourier_order
        self.uncertainty_samples = uncertainty_samples

    def _fit(self, hist: pd.DataFrame, events=None) -> None:
        Prophet = _import_prophet()  # noqa: N806  (a class)
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
        self.fit_events_ = events

    def _in_sample_mean(self, hist: pd.DataFrame) -> np.ndarray | None:
        """Fitted values with the fit-time events (the base class passes none)."""
        return np.asarray(self._predict_mean(pd.DatetimeIndex(hist["ds"]), self.fit_events_))

    def _predict_mean(self, horizon: pd.DatetimeIndex, events=None) -> np.ndarray:
        order = np.argsort(horizon.to_numpy(), kind="stable")  # prophet sorts its input
        m = self.prophet_
        fit_holidays = m.holidays
        if m.train_holiday_names is not None:  # events were learned: use the given ones
            # one far-away row per learned type keeps Prophet's feature layout complete
            keep = fit_holidays.drop_duplicates("holiday").assign(ds=_FAR_AWAY)
            m.holidays = pd.concat([keep, events_to_holidays(events, horizon)],
                                   ignore_index=True)
        try:
            fc = m.predict(pd.DataFrame({"ds": horizon[order]}))
        finally:
            m.holidays = fit_holidays
        out = np.empty(len(horizon))
        out[order] = fc["yhat"].to_numpy()
        return out
