"""Pick a model per queue by rolling-origin backtest, and the pipeline's entry point.

``fit_forecast`` is what the planning pipeline calls for each queue: it picks the
model (``settings.model == "auto"``: the lowest backtest WAPE among the candidates),
fits it on the whole history and forecasts the horizon, with the AHT forecast.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..config import ForecastSettings
from ..exceptions import ForecastError, ModelError, ModelFallbackWarning
from .aht import forecast_aht
from .base import MODELS, Forecaster, as_horizon, make_model, prepare_history

__all__ = ["AUTO_CANDIDATES", "DEFAULT_MODEL", "ModelChoice", "build_model", "select_model",
           "fit_forecast", "LEADERBOARD_COLUMNS"]

#: fast candidates tried by ``model = "auto"`` unless ``forecast.candidates`` says otherwise
AUTO_CANDIDATES: tuple[str, ...] = ("seasonal_naive", "slot_mean", "topdown", "ensemble")
#: used when a backtest is impossible (too little history) or every candidate failed
DEFAULT_MODEL = "ensemble"
LEADERBOARD_COLUMNS = ("model", "wape", "mase", "bias", "coverage_80", "coverage_95",
                       "peak_wape", "fit_s", "selected")


@dataclass
class ModelChoice:
    """Which model forecast a queue, and why.

    Attributes
    ----------
    name
        Registered model name.
    model
        The model fitted on the whole history.
    leaderboard
        Backtest scores of the candidates (None when the model was fixed or no
        backtest was possible).
    reason
        One line explaining the choice.
    """

    name: str
    model: Forecaster
    leaderboard: pd.DataFrame | None = None
    reason: str = ""
    params: dict[str, Any] = field(default_factory=dict)


def _has_events(events: pd.DataFrame | None) -> bool:
    return events is not None and len(events) > 0


def build_model(name: str, events: pd.DataFrame | None = None, **params: Any) -> Forecaster:
    """A fresh model; wrapped with learned event effects when events are given and the
    model does not handle events itself."""
    model = make_model(name, **params)
    if _has_events(events) and not model.handles_events:
        from ..event_effects import EventAdjusted

        model = EventAdjusted(model)
    return model


def select_model(
    history: pd.DataFrame,
    events: pd.DataFrame | None,
    settings: ForecastSettings,
    candidates: Sequence[str] | None = None,
) -> tuple[str, pd.DataFrame]:
    """Backtest the candidates on one queue and return the best name and the leaderboard.

    Candidates default to ``settings.candidates`` or :data:`AUTO_CANDIDATES`. The
    winner has the lowest pooled WAPE; a candidate that fails scores NaN (with a
    :class:`ModelFallbackWarning`). With too little history for a single fold the
    leaderboard is empty and :data:`DEFAULT_MODEL` is returned.
    """
    from ..backtest import backtest, summarise

    names = list(candidates or settings.candidates or AUTO_CANDIDATES)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        make_model(unknown[0])  # raises ModelError naming the allowed models
    rows = []
    for name in names:
        try:
            scored = backtest(history, lambda n=name: build_model(n, events), events,
                              folds=settings.backtest_folds,
                              horizon_days=settings.backtest_horizon_days,
                              step_days=settings.backtest_step_days)
            metrics = summarise(scored)
        except (ForecastError, ValueError, np.linalg.LinAlgError) as exc:
            warnings.warn(f"model '{name}' failed in backtest: {exc}", ModelFallbackWarning,
                          stacklevel=2)
            metrics = summarise(pd.DataFrame())
        rows.append({"model": name, **metrics})
    board = pd.DataFrame(rows)
    scorable = board["wape"].notna()
    if not scorable.any():
        board["selected"] = board["model"] == DEFAULT_MODEL
        return DEFAULT_MODEL, board.reindex(columns=list(LEADERBOARD_COLUMNS))
    best = board.loc[board.loc[scorable, "wape"].idxmin(), "model"]
    board["selected"] = board["model"] == best
    board = board.sort_values("wape", kind="stable", na_position="last").reset_index(drop=True)
    return str(best), board.reindex(columns=list(LEADERBOARD_COLUMNS))


def fit_forecast(
    history: pd.DataFrame,
    horizon: pd.DatetimeIndex,
    events: pd.DataFrame | None = None,
    settings: ForecastSettings | None = None,
    *,
    default_aht_s: float | None = None,
    model: str | None = None,
) -> tuple[pd.DataFrame, ModelChoice]:
    """Choose, fit and run the forecast for one queue.

    Parameters
    ----------
    history
        One queue's regularised history (``ds, y``, optional ``aht_s, filled``).
    horizon
        Future interval starts to forecast.
    events
        Events table for this queue (past ones teach, future ones are applied).
    settings
        Forecast settings from the plan config (model, candidates, quantiles, backtest).
    default_aht_s
        The queue's configured AHT, used where history has none (None: NaN).
    model
        Overrides ``settings.model``.

    Returns
    -------
    (DataFrame, ModelChoice)
        The forecast (``ds, mean``, quantile columns, ``aht_s``, ``model``) and how the
        model was chosen.
    """
    settings = settings or ForecastSettings()
    name = model or settings.model
    hist = prepare_history(history)
    board = None
    if name == "auto":
        name, board = select_model(hist, events, settings)
        if board is not None and board["wape"].notna().any():
            reason = (f"lowest backtest WAPE ({board.loc[board['selected'], 'wape'].iloc[0]:.3f}) "
                      f"of {len(board)} candidates")
        else:
            reason = f"too little history to backtest; using {name}"
    else:
        reason = "fixed by configuration"
    try:
        fitted = build_model(name, events).fit(hist, events)
    except (ModelError, ValueError, np.linalg.LinAlgError) as exc:
        if name == "slot_mean":
            raise
        warnings.warn(f"model '{name}' failed ({exc}); using slot_mean instead",
                      ModelFallbackWarning, stacklevel=2)
        name, reason = "slot_mean", f"fallback after {name} failed"
        fitted = build_model(name, events).fit(hist, events)
    idx = as_horizon(horizon)
    out = fitted.predict(idx, events, quantiles=settings.quantiles)
    out["aht_s"] = forecast_aht(hist, idx, np.nan if default_aht_s is None else default_aht_s)
    out["model"] = name
    return out, ModelChoice(name=name, model=fitted, leaderboard=board, reason=reason)
