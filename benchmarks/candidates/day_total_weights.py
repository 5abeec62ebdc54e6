"""Ensemble whose day totals get their own combination weights.

Status: Rejected on 2026-11-30: under 2 SE on the bank, 0.0085 worse on technion_confirm.
Reproduce (see README.md here): ``forecast_decide.py --candidate day_total_weights.py:make``
(benchmarks/RESULTS.md, "Changes judged by the decision rule").

The default ensemble learns one set of weights on interval forecasts, so a member's
weight serves two purposes at once: its intraday shape and its view of the day's
total. Here the interval combination keeps its learned weights (the shape), and each
forecast day is then rescaled so that its total equals a second convex combination
of the members' day totals, learned the same way (minimum absolute error over the
one-week-ahead forecasts of the inner backtest, shrunk by ``day_shrink`` towards
equal weights) but on day totals.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from forecast.forecasters import build_model
from forecast.forecasters.base import (
    CALIBRATION_LEAD_WEEKS,
    OriginForecasts,
    inner_origins,
    register,
)
from forecast.forecasters.daygrid import day_numbers
from forecast.forecasters.ensemble import Ensemble, _aligned, combination_weights

#: fewer inner day totals than this: day weights = interval weights
MIN_WEIGHT_DAYS = 20


def _by_group(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum ``values`` (n x k) within groups of ``keys``; returns group index and sums."""
    uniq, inv = np.unique(keys, return_inverse=True)
    out = np.zeros((len(uniq), values.shape[1]))
    np.add.at(out, inv, values)
    return inv, out


@register("ensemble_daytotal")
class DayTotalEnsemble(Ensemble):
    param_names = Ensemble.param_names + ("day_shrink", "day_weights")

    def __init__(self, *args: Any, day_shrink: float = 0.0, day_weights=None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.day_shrink = day_shrink
        self.day_weights = None if day_weights is None else tuple(float(w) for w in day_weights)

    def _combine(self, hist, events, grid):
        fixed = self._fixed_weights()
        if fixed is not None and self.day_weights is None:
            self.day_weights_ = [float(w) for w in fixed]
        return super()._combine(hist, events, grid)

    def _fit_prepared(self, hist, events, grid=None):
        if self.day_weights is not None:
            w = np.asarray(self.day_weights, float)
            self.day_weights_ = [float(x) for x in w / w.sum()]
        return super()._fit_prepared(hist, events, grid)

    def _learn_weights(self, hist, grid):
        w = super()._learn_weights(hist, grid)
        if self.day_weights is not None:
            return w
        self.day_weights_ = [float(x) for x in w]
        last_day = int(day_numbers(pd.DatetimeIndex([hist["ds"].iloc[-1]]))[0][0])
        per_member = self._member_origin_forecasts(
            hist, inner_origins(last_day, self._inner_weeks()), grid, CALIBRATION_LEAD_WEEKS, None)
        aligned = _aligned(per_member)
        sel = aligned[0].lead == 1
        if not sel.any():
            return w
        day = day_numbers(hist["ds"].to_numpy()[aligned[0].row[sel]])[0]
        cols = np.column_stack([f.mean[sel] for f in aligned] + [aligned[0].actual[sel]])
        _, sums = _by_group(day, cols)
        if len(sums) >= MIN_WEIGHT_DAYS:
            v = combination_weights(sums[:, :-1], sums[:, -1], shrink=float(self.day_shrink))
            self.day_weights_ = [float(x) for x in v]
        return w

    def _rescale(self, keys: np.ndarray, preds: list[np.ndarray]) -> np.ndarray:
        """Interval combination, each day (group of ``keys``) rescaled to the day-total
        combination."""
        P = np.column_stack(preds)
        mean = P @ np.asarray(self.weights_)
        inv, sums = _by_group(keys, P)
        day_total = sums @ np.asarray(self.day_weights_)
        _, msum = _by_group(keys, mean[:, None])
        scale = np.where(msum[:, 0] > 0, day_total / np.where(msum[:, 0] > 0, msum[:, 0], 1), 1.0)
        return mean * scale[inv]

    def _predict_mean(self, horizon, events=None):
        preds = [np.asarray(m._predict_mean(horizon, None), float) for m in self.models_]
        if len(horizon) == 0:
            return np.zeros(0)
        return self._rescale(day_numbers(horizon)[0], preds)

    def origin_forecasts(self, hist, origins, grid=None, lead_weeks=1, events=None):
        per_member = _aligned(self._member_origin_forecasts(hist, origins, grid, lead_weeks,
                                                            events))
        base = per_member[0]
        if len(base.row) == 0:
            return base
        day = day_numbers(hist["ds"].to_numpy()[base.row])[0]
        keys = base.origin * 100000 + day
        mean = self._rescale(keys, [f.mean for f in per_member])
        return OriginForecasts(base.origin, base.row, base.lead, mean, base.actual)

    def _get_state(self):
        return {**super()._get_state(), "day_weights": self.day_weights_}

    def _set_state(self, state):
        super()._set_state(state)
        self.day_weights_ = [float(w) for w in state.get("day_weights", self.weights_)]



def make(events):
    """The candidate as judged: day totals from the top-down member alone (weekday
    effects with an 8-week half-life); the learned interval combination only shapes
    each day."""
    return build_model("ensemble_daytotal", events, day_weights=(1.0, 0.0),
                       members=(("topdown", {"halflife_weeks": 8}), "slot_mean"))
