"""forecast: contact-centre volume forecasting and agent staffing.

The public API is re-exported here; see ``__all__``.
"""

from __future__ import annotations

from .config import OpeningHours, PlanConfig, QueueConfig, load_config
from .exceptions import (
    ConfigError,
    DataRepairWarning,
    DataValidationError,
    ForecastError,
    ForecastWarning,
    ModelError,
    ModelFallbackWarning,
    NotFittedError,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DataRepairWarning",
    "DataValidationError",
    "ForecastError",
    "ForecastWarning",
    "ModelError",
    "ModelFallbackWarning",
    "NotFittedError",
    "OpeningHours",
    "PlanConfig",
    "QueueConfig",
    "load_config",
]
