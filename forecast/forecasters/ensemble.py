"""Forecast combination: the weighted mean of several models' forecasts.

Averaging forecasts whose errors are only partly correlated reliably beats each of
them (Bates & Granger 1969; the M-competitions). The default pairs the top-down
model (pooled profile, smooth daily level) with the same-slot mean (local,
responsive), whose errors differ in kind.

Weights are fixed, equal, or learned from the model's own inner backtest: every
member forecasts the week after each of the last ``calibration_weeks`` weekly
origins (refitted on the history before it), and the weights are those of the
convex combination with the lowest absolute error over those weeks, shrunk towards
equal weights. The same origin forecasts, combined, calibrate the ensemble's
intervals, so learning the weights costs nothing extra.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ModelError
from .base import (
    CALIBRATION_LEAD_WEEKS,
    Forecaster,
    OriginForecasts,
    inner_origins,
    make_model,
    model_from_dict,
    register,
)
from .daygrid import DayGrid, day_numbers

__all__ = ["Ensemble", "combination_weights"]

#: weights learned from fewer one-week-ahead errors than this fall back to equal weights
MIN_WEIGHT_POINTS = 100


def combination_weights(preds: np.ndarray, actual: np.ndarray, *, step: float = 0.05,
                        shrink: float = 0.25) -> np.ndarray:
    """Convex weights minimising the absolute error of ``preds @ w`` against ``actual``.

    Parameters
    ----------
    preds
        Member forecasts, shape ``(n_points, n_members)``.
    actual
        Outcomes, shape ``(n_points,)``.
    step
        Resolution of the search over the simplex (exhaustive for up to 3 members;
        more members get inverse-error weights).
    shrink
        Share of equal weights mixed into the optimum (forecast combination puzzle:
        estimated weights overfit, equal weights are hard to beat).
    """
    preds = np.asarray(preds, float)
    actual = np.asarray(actual, float)
    k = preds.shape[1]
    equal = np.full(k, 1.0 / k)
    if k == 1:
        return equal
    if k <= 3:
        n = int(round(1.0 / step))
        grid = [(i, j, n - i - j) for i in range(n + 1) for j in range(n + 1 - i)] if k == 3 \
            else [(i, n - i) for i in range(n + 1)]
        cand = np.asarray(grid, float) / n
        err = np.abs(preds @ cand.T - actual[:, None]).sum(axis=0)
        best = cand[int(np.argmin(err))]
    else:
        mae = np.abs(preds - actual[:, None]).mean(axis=0)
        inv = 1.0 / np.maximum(mae, 1e-12)
        best = inv / inv.sum()
    w = (1.0 - shrink) * best + shrink * equal
    return w / w.sum()


@register("ensemble")
class Ensemble(Forecaster):
    """Weighted mean of member models.

    Parameters
    ----------
    members
        Registered model names, or ``(name, {parameter: value})`` pairs for members
        with their own parameters (e.g. ``("topdown", {"level_halflife_days": 20})``).
    weights
        One weight per member (normalised to sum to 1); ``"equal"``; or ``"learned"``
        (default: from the inner backtest, see the module docstring; equal weights
        when there is too little history).
    shrink
        Share of equal weights mixed into learned weights (0: the inner optimum,
        1: equal weights).
    """

    param_names = ("members", "weights", "shrink")

    def __init__(self, members: Sequence[str] = ("topdown", "slot_mean"),
                 weights: Sequence[float] | str | None = "learned", shrink: float = 0.25,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shrink = shrink
        self.members = tuple(m if isinstance(m, str) else (str(m[0]), dict(m[1]))
                             for m in members)
        self.weights = weights if weights is None or isinstance(weights, str) else tuple(
            float(w) for w in weights)

    def _fixed_weights(self) -> np.ndarray | None:
        if self.weights in (None, "equal"):
            return np.full(len(self.members), 1.0 / len(self.members))
        if self.weights == "learned":
            return None
        if isinstance(self.weights, str):
            raise ModelError(f"ensemble weights '{self.weights}' unknown; expected 'learned', "
                             "'equal' or one number per member")
        w = np.asarray(self.weights, float)
        if len(w) != len(self.members) or (w < 0).any() or w.sum() <= 0:
            raise ModelError("ensemble weights must be one non-negative number per member")
        return w / w.sum()

    def uses_grid(self) -> bool:  # type: ignore[override]
        return False  # members decide for themselves

    def _fit_prepared(self, hist: pd.DataFrame, events: pd.DataFrame | None,
                      grid: DayGrid | None = None) -> Ensemble:
        if not self.members or "ensemble" in self._member_names():
            raise ModelError("ensemble members must be other registered models")
        self._fixed_weights()  # validates
        models = [make_model(name, **{**params, "calibration_weeks": -1})
                  for name, params in self._member_specs()]
        if grid is None and any(m.uses_grid() for m in models):
            grid = DayGrid.from_history(hist)
        self.models_ = [m._fit_prepared(hist, None, grid) for m in models]
        self._origin_cache = None
        return self._combine(hist, events, grid)

    @classmethod
    def from_fitted(cls, models: Sequence[Forecaster], hist: pd.DataFrame,
                    events: pd.DataFrame | None = None, grid: DayGrid | None = None,
                    **params: Any) -> Ensemble:
        """An ensemble of members already fitted on ``hist`` (no refit).

        Members fitted with the same ``calibration_weeks`` lend their inner origin
        forecasts, so weights and intervals cost no refit either. Used by model
        selection, which fits the members as candidates anyway.
        """
        ens = cls(members=tuple(m.name for m in models), **params)
        if not ens.members or "ensemble" in ens._member_names():
            raise ModelError("ensemble members must be other registered models")
        ens._fixed_weights()
        ens.models_ = list(models)
        ens._origin_cache = None
        inner = [getattr(m, "_inner", None) for m in models]
        if all(f is not None for f in inner) and all(
                m.calibration_weeks == ens._inner_weeks() for m in models):
            last_day = int(day_numbers(pd.DatetimeIndex([hist["ds"].iloc[-1]]))[0][0])
            origins = inner_origins(last_day, ens._inner_weeks())
            ens._origin_cache = ((tuple(int(o) for o in origins), CALIBRATION_LEAD_WEEKS), inner)
        return ens._combine(hist, events, grid)

    def _member_specs(self) -> list[tuple[str, dict[str, Any]]]:
        return [(m, {}) if isinstance(m, str) else (m[0], dict(m[1])) for m in self.members]

    def _member_names(self) -> list[str]:
        return [name for name, _ in self._member_specs()]

    def _inner_weeks(self) -> int:
        return max(self.calibration_weeks, 4)

    def _combine(self, hist: pd.DataFrame, events: pd.DataFrame | None,
                 grid: DayGrid | None) -> Ensemble:
        fixed = self._fixed_weights()
        if fixed is None:
            fixed = self._learn_weights(hist, grid)
        self.weights_ = [float(w) for w in fixed]
        return super()._fit_prepared(hist, events, grid)

    def _fit(self, hist: pd.DataFrame, events=None) -> None:
        pass  # members are fitted in _fit_prepared

    def _member_origin_forecasts(self, hist, origins, grid, lead_weeks, events):
        key = (tuple(int(o) for o in origins), int(lead_weeks))
        if self._origin_cache is not None and self._origin_cache[0] == key:
            return self._origin_cache[1]
        per_member = [m.origin_forecasts(hist, origins, grid, lead_weeks, None)
                      for m in self.models_]
        self._origin_cache = (key, per_member)
        return per_member

    def _learn_weights(self, hist: pd.DataFrame, grid: DayGrid | None) -> np.ndarray:
        equal = np.full(len(self.members), 1.0 / len(self.members))
        weeks = self._inner_weeks()
        last_day = int(day_numbers(pd.DatetimeIndex([hist["ds"].iloc[-1]]))[0][0])
        per_member = self._member_origin_forecasts(hist, inner_origins(last_day, weeks), grid,
                                                    CALIBRATION_LEAD_WEEKS, None)
        common = _common_rows(per_member, lead=1)
        if common is None or len(common[1]) < MIN_WEIGHT_POINTS:
            return equal
        preds, actual = common
        return combination_weights(preds, actual, shrink=float(self.shrink))

    def origin_forecasts(self, hist, origins, grid=None, lead_weeks=1, events=None):
        per_member = self._member_origin_forecasts(hist, origins, grid, lead_weeks, events)
        w = np.asarray(self.weights_)
        base = per_member[0]
        keys = [(f.origin, f.row) for f in per_member]
        if any(len(k[0]) != len(base.origin) or (k[0] != base.origin).any()
               or (k[1] != base.row).any() for k in keys):
            # a member skipped some origin: keep the rows every member forecast
            common = _aligned(per_member)
            base = common[0]
            per_member = common
        mean = np.sum([wi * f.mean for wi, f in zip(w, per_member, strict=True)], axis=0)
        return OriginForecasts(base.origin, base.row, base.lead, np.asarray(mean, float),
                               base.actual)

    def _predict_mean(self, horizon: pd.DatetimeIndex, events=None) -> np.ndarray:
        w = np.asarray(self.weights_)
        preds = [m._predict_mean(horizon, None) for m in self.models_]
        return np.sum([wi * np.asarray(p, float) for wi, p in zip(w, preds, strict=True)], axis=0)

    def _get_state(self) -> dict[str, Any]:
        return {"weights": self.weights_, "models": [m.to_dict() for m in self.models_]}

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.models_ = [model_from_dict(d) for d in state["models"]]
        fixed = self._fixed_weights()
        self.weights_ = [float(w) for w in state.get("weights", fixed if fixed is not None
                                                      else [1.0 / len(self.models_)]
                                                      * len(self.models_))]
        self._origin_cache = None


def _aligned(per_member: list[OriginForecasts]) -> list[OriginForecasts]:
    """Restrict every member's origin forecasts to the (origin, row) pairs all share."""
    keys = [f.origin * (1 << 32) + f.row for f in per_member]
    common = keys[0]
    for k in keys[1:]:
        common = np.intersect1d(common, k)
    out = []
    for f, k in zip(per_member, keys, strict=True):
        idx = np.searchsorted(k, common) if (np.diff(k) >= 0).all() else np.nonzero(
            np.isin(k, common))[0]
        out.append(OriginForecasts(f.origin[idx], f.row[idx], f.lead[idx], f.mean[idx],
                                   f.actual[idx]))
    return out


def _common_rows(per_member: list[OriginForecasts], lead: int
                 ) -> tuple[np.ndarray, np.ndarray] | None:
    aligned = _aligned(per_member)
    if len(aligned[0].row) == 0:
        return None
    sel = aligned[0].lead == lead
    preds = np.column_stack([f.mean[sel] for f in aligned])
    return preds, aligned[0].actual[sel]
