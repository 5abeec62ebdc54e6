"""Rolling-origin backtests and forecast accuracy metrics.

The metric functions are pure (arrays in, float out). :func:`backtest` refits a model
at each origin on everything before it and scores the following days, never scoring
gap-filled rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .exceptions import ConfigError
from .forecasters.base import Forecaster, prepare_history, quantile_column

__all__ = [
    "wape",
    "mase",
    "bias",
    "coverage",
    "peak_wape",
    "seasonal_naive_mae",
    "Fold",
    "rolling_origins",
    "backtest",
    "summarise",
    "METRIC_COLUMNS",
]

METRIC_COLUMNS = ("wape", "mase", "bias", "coverage_80", "coverage_95", "peak_wape", "fit_s")
BACKTEST_QUANTILES = (0.025, 0.1, 0.5, 0.9, 0.975)


def wape(actual: np.ndarray, pred: np.ndarray) -> float:
    """Weighted absolute percentage error: sum|actual - pred| / sum(actual)."""
    actual, pred = np.asarray(actual, float), np.asarray(pred, float)
    denom = np.sum(np.abs(actual))
    return float(np.sum(np.abs(actual - pred)) / denom) if denom > 0 else float("nan")


def bias(actual: np.ndarray, pred: np.ndarray) -> float:
    """Relative bias: sum(pred - actual) / sum(actual); positive = over-forecast."""
    actual, pred = np.asarray(actual, float), np.asarray(pred, float)
    denom = np.sum(np.abs(actual))
    return float(np.sum(pred - actual) / denom) if denom > 0 else float("nan")


def mase(actual: np.ndarray, pred: np.ndarray, scale: float) -> float:
    """Mean absolute error divided by ``scale`` (the in-sample seasonal-naive MAE)."""
    actual, pred = np.asarray(actual, float), np.asarray(pred, float)
    if not np.isfinite(scale) or scale <= 0 or actual.size == 0:
        return float("nan")
    return float(np.mean(np.abs(actual - pred)) / scale)


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of actual values inside [lower, upper]."""
    actual = np.asarray(actual, float)
    if actual.size == 0:
        return float("nan")
    inside = (actual >= np.asarray(lower, float)) & (actual <= np.asarray(upper, float))
    return float(np.mean(inside))


def peak_wape(actual: np.ndarray, pred: np.ndarray, top: float = 0.05) -> float:
    """WAPE on the intervals whose actual volume is in the top ``top`` share."""
    actual, pred = np.asarray(actual, float), np.asarray(pred, float)
    if actual.size == 0:
        return float("nan")
    k = max(1, int(np.ceil(top * actual.size)))
    sel = np.argsort(actual, kind="stable")[-k:]
    return wape(actual[sel], pred[sel])


WEEK = pd.Timedelta(days=7)


def seasonal_naive_mae(history: pd.DataFrame, season: pd.Timedelta = WEEK) -> float:
    """In-sample MAE of the weekly seasonal-naive forecast (the MASE scale).

    Pairs each observed interval with the same interval ``season`` earlier; pairs
    where either side is gap-filled or missing are skipped.
    """
    h = prepare_history(history)
    obs = h.loc[~h["filled"]].set_index("ds")["y"]
    prev = obs.reindex(obs.index - season).to_numpy()
    ok = np.isfinite(prev)
    if not ok.any():
        return float("nan")
    return float(np.mean(np.abs(obs.to_numpy()[ok] - prev[ok])))


@dataclass(frozen=True)
class Fold:
    """One backtest fold: train on ``ds < origin``, score ``origin <= ds < end``."""

    number: int
    origin: pd.Timestamp
    end: pd.Timestamp


def rolling_origins(ds: pd.Series | pd.DatetimeIndex, folds: int = 4, horizon_days: int = 7,
                    step_days: int = 7) -> list[Fold]:
    """The last ``folds`` origins, ``step_days`` apart; the last fold ends after the last day.

    Origins are at midnight. Folds whose origin leaves less than two weeks of
    training data are dropped.

    Raises
    ------
    ConfigError
        When ``folds``, ``horizon_days`` or ``step_days`` is below 1.
    """
    for key, value in (("folds", folds), ("horizon_days", horizon_days),
                       ("step_days", step_days)):
        if int(value) < 1:
            raise ConfigError(f"backtest {key} must be at least 1, got {value}", key=key)
    idx = pd.DatetimeIndex(ds)
    if len(idx) == 0:
        return []
    end_last = idx.max().normalize() + pd.Timedelta(days=1)
    first = idx.min()
    out = []
    for k in range(folds):
        end = end_last - pd.Timedelta(days=step_days * (folds - 1 - k))
        origin = end - pd.Timedelta(days=horizon_days)
        if origin - first >= pd.Timedelta(days=14):
            out.append(Fold(len(out) + 1, origin, end))
    return out


def backtest(
    history: pd.DataFrame,
    make: Callable[[], Forecaster],
    events: pd.DataFrame | None = None,
    *,
    folds: int = 4,
    horizon_days: int = 7,
    step_days: int = 7,
    fold_list: Sequence[Fold] | None = None,
) -> pd.DataFrame:
    """Rolling-origin backtest of one model on one queue.

    Parameters
    ----------
    history
        One queue's regularised history (``ds, y`` and optional ``filled``).
    make
        Builds a fresh, unfitted model (called once per fold).
    events
        Events table; the model sees all of it (future events are known in advance).
    folds, horizon_days, step_days
        Rolling-origin layout (see :func:`rolling_origins`), unless ``fold_list`` is given.

    Returns
    -------
    DataFrame
        One row per scored interval: ``fold, ds, actual, mean`` and the quantile
        columns ``p2.5, p10, p50, p90, p97.5``, plus per-fold ``scale`` (the MASE
        denominator) and ``fit_s`` (fit and predict seconds).
    """
    h = prepare_history(history)
    fold_list = list(fold_list) if fold_list is not None else rolling_origins(
        h["ds"], folds, horizon_days, step_days)
    parts = []
    for fold in fold_list:
        train = h[h["ds"] < fold.origin]
        test = h[(h["ds"] >= fold.origin) & (h["ds"] < fold.end)]
        if len(train) == 0 or len(test) == 0:
            continue
        t0 = time.perf_counter()
        model = make().fit(train, events)
        pred = model.predict(pd.DatetimeIndex(test["ds"]), events, quantiles=BACKTEST_QUANTILES,
                             unseen="extrapolate")  # the test rows are open by definition
        fit_s = time.perf_counter() - t0
        scored = ~test["filled"].to_numpy()
        part = pred.loc[scored].copy()
        part.insert(0, "fold", fold.number)
        part.insert(2, "actual", test["y"].to_numpy()[scored])
        part["scale"] = seasonal_naive_mae(train)
        part["fit_s"] = fit_s
        parts.append(part)
    if not parts:
        cols = ["fold", "ds", "actual", "mean", *map(quantile_column, BACKTEST_QUANTILES),
                "scale", "fit_s"]
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)


def summarise(scored: pd.DataFrame) -> dict[str, float]:
    """Metrics of one model's backtest rows (see :func:`backtest`).

    WAPE, bias, coverage and peak WAPE are pooled over folds; MASE is the mean of the
    per-fold MASE; ``fit_s`` is the mean seconds per fold.
    """
    if len(scored) == 0:
        return {k: float("nan") for k in METRIC_COLUMNS}
    a, m = scored["actual"].to_numpy(), scored["mean"].to_numpy()
    per_fold = scored.groupby("fold")
    mases = [mase(g["actual"].to_numpy(), g["mean"].to_numpy(), float(g["scale"].iloc[0]))
             for _, g in per_fold]
    return {
        "wape": wape(a, m),
        "mase": float(np.nanmean(mases)) if np.isfinite(mases).any() else float("nan"),
        "bias": bias(a, m),
        "coverage_80": coverage(a, scored["p10"], scored["p90"]),
        "coverage_95": coverage(a, scored["p2.5"], scored["p97.5"]),
        "peak_wape": peak_wape(a, m),
        "fit_s": float(per_fold["fit_s"].first().mean()),
    }
