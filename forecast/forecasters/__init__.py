"""Forecasting models: one contract (see :mod:`.base`), a registry, and selection.

Importing this package registers every built-in model in :data:`MODELS`.
"""

from __future__ import annotations

from . import baselines, ensemble, prophet_, statsmodels_, topdown  # noqa: F401  (registration)
from .aht import forecast_aht
from .base import (
    CALIBRATION_LEAD_WEEKS,
    DEFAULT_QUANTILES,
    MODELS,
    Forecaster,
    OriginForecasts,
    ResidualCalibration,
    make_model,
    model_from_dict,
    quantile_column,
)
from .baselines import SeasonalNaive, SlotMean
from .daygrid import DayGrid
from .ensemble import Ensemble, combination_weights
from .select import (
    AUTO_CANDIDATES,
    DEFAULT_MODEL,
    SELECT_MARGIN,
    ModelChoice,
    build_model,
    choose_fitted,
    fit_forecast,
    select_model,
)
from .topdown import TopDown

__all__ = [
    "AUTO_CANDIDATES",
    "CALIBRATION_LEAD_WEEKS",
    "DEFAULT_MODEL",
    "DEFAULT_QUANTILES",
    "MODELS",
    "SELECT_MARGIN",
    "DayGrid",
    "Ensemble",
    "Forecaster",
    "ModelChoice",
    "OriginForecasts",
    "ResidualCalibration",
    "SeasonalNaive",
    "SlotMean",
    "TopDown",
    "build_model",
    "choose_fitted",
    "combination_weights",
    "fit_forecast",
    "forecast_aht",
    "make_model",
    "model_from_dict",
    "quantile_column",
    "select_model",
]
