"""Average handle time forecast per interval."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .base import as_horizon, slot_key

__all__ = ["forecast_aht"]


def forecast_aht(history: pd.DataFrame, horizon: pd.DatetimeIndex, default_aht_s: float, *,
                 weeks: int = 8) -> np.ndarray:
    """Forecast AHT (seconds) for each horizon interval.

    The volume-weighted mean AHT of the same slot (weekday and time of day) over the
    last ``weeks`` weeks of history; where a slot has no AHT, the queue's
    volume-weighted mean over those weeks; where the queue has none at all,
    ``default_aht_s``.

    Parameters
    ----------
    history
        One queue's history with ``ds``, ``y`` and optionally ``aht_s`` (NaN where
        unknown). Gap-filled rows (``filled``) are ignored.
    horizon
        Interval starts to forecast.
    default_aht_s
        The queue's configured AHT.

    Returns
    -------
    numpy.ndarray
        One positive AHT in seconds per horizon interval.
    """
    idx = as_horizon(horizon)
    out = np.full(len(idx), float(default_aht_s))
    if "aht_s" not in history.columns or len(history) == 0 or len(idx) == 0:
        return out
    ds = pd.to_datetime(history["ds"])
    aht = pd.to_numeric(history["aht_s"], errors="coerce").to_numpy(dtype="float64")
    y = pd.to_numeric(history["y"], errors="coerce").to_numpy(dtype="float64")
    ok = np.isfinite(aht) & (aht > 0) & np.isfinite(y) & (y > 0)
    if "filled" in history.columns:
        ok &= ~history["filled"].fillna(False).astype(bool).to_numpy()
    ok &= (ds > ds.max() - pd.Timedelta(weeks=weeks)).to_numpy()
    if not ok.any():
        return out
    frame = pd.DataFrame({"slot": slot_key(ds[ok]), "wa": aht[ok] * y[ok], "w": y[ok]})
    sums = frame.groupby("slot")[["wa", "w"]].sum()
    by_slot = sums["wa"] / sums["w"]
    overall = float(frame["wa"].sum() / frame["w"].sum())
    got = by_slot.reindex(slot_key(idx)).to_numpy(dtype="float64", na_value=np.nan)
    return np.where(np.isfinite(got), got, overall)
