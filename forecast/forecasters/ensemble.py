"""Forecast combination: the weighted mean of several models' forecasts.

Averaging forecasts whose errors are only partly correlated reliably beats each of
them (Bates & Granger 1969; the M-competitions). The default pairs the top-down
model (pooled profile, smooth daily level) with the same-slot mean (local,
responsive), whose errors differ in kind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ModelError
from .base import Forecaster, make_model, model_from_dict, register

__all__ = ["Ensemble"]


@register("ensemble")
class Ensemble(Forecaster):
    """Weighted mean of member models.

    Parameters
    ----------
    members
        Registered model names.
    weights
        One weight per member (normalised to sum to 1); default equal.
    """

    param_names = ("members", "weights")

    def __init__(self, members: Sequence[str] = ("topdown", "slot_mean"),
                 weights: Sequence[float] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.members = tuple(members)
        self.weights = None if weights is None else tuple(float(w) for w in weights)

    def _weights(self) -> np.ndarray:
        w = np.ones(len(self.members)) if self.weights is None else np.asarray(self.weights)
        if len(w) != len(self.members) or (w < 0).any() or w.sum() <= 0:
            raise ModelError("ensemble weights must be one non-negative number per member")
        return w / w.sum()

    def _fit(self, hist: pd.DataFrame, events=None) -> None:
        if not self.members or "ensemble" in self.members:
            raise ModelError("ensemble members must be other registered models")
        self._weights()
        self.models_ = []
        for name in self.members:
            model = make_model(name, calibration_weeks=-1)  # members need no intervals
            model.fit(hist, None)
            self.models_.append(model)

    def _predict_mean(self, horizon: pd.DatetimeIndex, events=None) -> np.ndarray:
        w = self._weights()
        preds = [m.predict(horizon, None, quantiles=())["mean"].to_numpy() for m in self.models_]
        return np.sum([wi * p for wi, p in zip(w, preds, strict=True)], axis=0)

    def _get_state(self) -> dict[str, Any]:
        return {"models": [m.to_dict() for m in self.models_]}

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.models_ = [model_from_dict(d) for d in state["models"]]
