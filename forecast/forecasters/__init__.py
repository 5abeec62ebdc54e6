"""Forecasting models: one contract (see :mod:`.base`), a registry, and selection.

Importing this package registers every built-in model in :data:`MODELS`.
"""

from __future__ import annotations

from . import baselines, ensemble, prophet_, statsmodels_, topdown  # noqa: F401  (registration)
from .aht import forecast_aht
from .base import (
    DEFAULT_QUANTILES,
    MODELS,
    Forecaster,
    ResidualCalibration,
    make_model,
    model_from_dict,
    quantile_column,
)
from .baselines import SeasonalNaive, SlotMean
from .select import AUTO_CANDIDATES, ModelChoice, build_model, fit_forecast, select_model
from .topdown import TopDown

__all__ = [
    "AUTO_CANDIDATES",
    "DEFAULT_QUANTILES",
    "MODELS",
    "Forecaster",
    "ModelChoice",
    "ResidualCalibration",
    "SeasonalNaive",
    "SlotMean",
    "TopDown",
    "build_model",
    "fit_forecast",
    "forecast_aht",
    "make_model",
    "model_from_dict",
    "quantile_column",
    "select_model",
]
