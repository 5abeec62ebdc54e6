"""Baseline forecasters: the same slot last week, and the average of the same slot.

A *slot* is a weekday and time of day. Both models look only at the slots present
in history, so closed nights and weekends neither appear nor distort anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ModelError
from .base import Forecaster, lookup_by_slot, register, slot_key

__all__ = ["SeasonalNaive", "SlotMean"]


class _SlotTableModel(Forecaster):
    """A model whose whole state is one value per slot plus fallbacks."""

    def _predict_mean(self, horizon: pd.DatetimeIndex, events=None) -> np.ndarray:
        return lookup_by_slot(slot_key(horizon), self.slot_values_, self.minute_values_,
                              self.fallback_)

    def _store(self, keys: np.ndarray, values: np.ndarray) -> None:
        self.slot_values_ = pd.Series(values, index=keys, dtype="float64").sort_index()
        minutes = self.slot_values_.index.to_numpy() % 1440
        self.minute_values_ = self.slot_values_.groupby(minutes).mean()
        self.fallback_ = float(self.slot_values_.mean()) if len(self.slot_values_) else 0.0

    def _get_state(self) -> dict[str, Any]:
        return {"slots": self.slot_values_.index.tolist(),
                "values": self.slot_values_.to_numpy().tolist()}

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self._store(np.asarray(state["slots"], dtype=np.int64),
                    np.asarray(state["values"], dtype="float64"))


@register("seasonal_naive")
class SeasonalNaive(_SlotTableModel):
    """Same interval last week: each slot's most recent value in history.

    Gap-filled rows are used (they stand for the missing week), so the forecast for a
    slot is always the latest available week's value.
    """

    def _fit(self, hist: pd.DataFrame, events=None) -> None:
        keys = slot_key(hist["ds"])
        last = pd.Series(hist["y"].to_numpy(), index=keys).groupby(level=0).last()
        self._store(last.index.to_numpy(), last.to_numpy())


@register("slot_mean")
class SlotMean(_SlotTableModel):
    """Average of the same weekday and interval over the last ``weeks`` occurrences.

    Parameters
    ----------
    weeks
        Number of most recent observed (not gap-filled) occurrences of each slot.
    statistic
        ``"mean"``, ``"median"`` or ``"ewm"`` (exponentially weighted mean, weights
        halving every ``halflife_weeks``).
    halflife_weeks
        Half-life of the weights for ``statistic="ewm"``.
    """

    param_names = ("weeks", "statistic", "halflife_weeks")

    def __init__(self, weeks: int = 4, statistic: str = "mean", halflife_weeks: float = 4.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.weeks = weeks
        self.statistic = statistic
        self.halflife_weeks = halflife_weeks

    def _fit(self, hist: pd.DataFrame, events=None) -> None:
        if self.statistic not in ("mean", "median", "ewm"):
            raise ModelError(f"slot_mean statistic '{self.statistic}' unknown; expected mean, "
                             "median or ewm")
        if int(self.weeks) < 1:
            raise ModelError(f"slot_mean weeks must be >= 1, got {self.weeks}")
        obs = hist.loc[~hist["filled"], ["ds", "y"]]
        if len(obs) == 0:  # only gap-filled data: better than nothing
            obs = hist[["ds", "y"]]
        frame = pd.DataFrame({"slot": slot_key(obs["ds"]), "y": obs["y"].to_numpy()})
        recent = frame.groupby("slot", sort=True).tail(int(self.weeks))
        if self.statistic == "mean":
            values = recent.groupby("slot")["y"].mean()
        elif self.statistic == "median":
            values = recent.groupby("slot")["y"].median()
        else:
            # age 0 = most recent occurrence of the slot
            age = recent.groupby("slot").cumcount(ascending=False).to_numpy()
            w = 0.5 ** (age / float(self.halflife_weeks))
            tmp = pd.DataFrame({"slot": recent["slot"].to_numpy(), "wy": w * recent["y"].to_numpy(),
                                "w": w})
            sums = tmp.groupby("slot")[["wy", "w"]].sum()
            values = sums["wy"] / sums["w"]
        self._store(values.index.to_numpy(), values.to_numpy())
