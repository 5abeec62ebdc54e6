"""Pick a model per queue, and the pipeline's entry point.

``fit_forecast`` is what the planning pipeline calls for each queue. With
``settings.model == "auto"`` it fits every candidate once on the whole history;
each fit already forecasts the weeks after its last ``calibration_weeks`` weekly
origins (refitted on the data before each, to calibrate its intervals), so those
honest one-week-ahead errors rank the candidates at no extra cost
(:func:`choose_fitted`). A candidate replaces :data:`DEFAULT_MODEL` only when its
error is lower by more than :data:`SELECT_MARGIN` (relative): with a handful of
inner weeks, small differences are noise, and picking on noise loses on average.

:func:`select_model` is the explicit rolling-origin backtest behind ``wfm backtest``
(configurable folds), with the same margin rule.
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
from .base import MODELS, Forecaster, as_horizon, inner_origins, make_model, prepare_history

__all__ = ["AUTO_CANDIDATES", "DEFAULT_MODEL", "SELECT_MARGIN", "ModelChoice", "build_model",
           "select_model", "choose_fitted", "pick_with_margin", "fit_forecast",
           "LEADERBOARD_COLUMNS"]

#: fast candidates tried by ``model = "auto"`` unless ``forecast.candidates`` says otherwise
AUTO_CANDIDATES: tuple[str, ...] = ("seasonal_naive", "slot_mean", "topdown", "ensemble")
#: used when a backtest is impossible (too little history) or every candidate failed,
#: and kept unless a candidate beats it clearly
DEFAULT_MODEL = "ensemble"
#: relative WAPE improvement over the default a candidate needs to be selected
SELECT_MARGIN = 0.05
#: blocks of inner origins for the leave-one-block-out coverage of the leaderboard
COVERAGE_BLOCKS = 4
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

    Each candidate gets a rolling-origin backtest (refit per fold); the pick follows
    :func:`pick_with_margin` on the pooled WAPE. Slower than :func:`choose_fitted`,
    which scores the candidates' own calibration forecasts instead.

    Parameters
    ----------
    history
        One queue's regularised history (``ds, y``, optional ``aht_s, filled``).
    events
        Events table, or None. Models that do not handle events are wrapped with
        learned event effects when it has rows.
    settings
        Supplies ``candidates`` and the fold layout (``backtest_folds``,
        ``backtest_horizon_days``, ``backtest_step_days``).
    candidates
        Model names to try; default ``settings.candidates``, else
        :data:`AUTO_CANDIDATES`.

    Returns
    -------
    (name, leaderboard)
        The chosen model name and one row per candidate
        (:data:`LEADERBOARD_COLUMNS`), sorted by WAPE. A candidate that fails, or a
        history too short for a single fold, scores NaN (failures with a
        :class:`ModelFallbackWarning`); when none scores, :data:`DEFAULT_MODEL` is
        chosen.

    Raises
    ------
    ModelError
        When a candidate is not a registered model.
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
    best = pick_with_margin(board)
    board["selected"] = board["model"] == best
    board = board.sort_values("wape", kind="stable", na_position="last").reset_index(drop=True)
    return str(best), board.reindex(columns=list(LEADERBOARD_COLUMNS))


def pick_with_margin(board: pd.DataFrame, default: str = DEFAULT_MODEL,
                     margin: float = SELECT_MARGIN) -> str:
    """The lowest-WAPE model of a leaderboard, unless the default is within ``margin``.

    Parameters
    ----------
    board
        Columns ``model`` and ``wape`` (NaN for candidates that failed).
    default
        Kept when it scored and the best WAPE is not below ``(1 - margin)`` times its own.
    """
    scorable = board["wape"].notna()
    best_row = board.loc[board.loc[scorable, "wape"].idxmin()]
    is_default = (board["model"] == default) & scorable
    if is_default.any():
        default_wape = float(board.loc[is_default, "wape"].iloc[0])
        if not float(best_row["wape"]) < (1.0 - margin) * default_wape:
            return default
    return str(best_row["model"])


def _inner_board_row(name: str, model: Forecaster, keep: np.ndarray | None,
                     scale: float, fit_s: float) -> dict[str, Any]:
    """Leaderboard metrics of a fitted model from its inner (calibration) origins.

    Coverage is honest: the origins are split into :data:`COVERAGE_BLOCKS`
    consecutive blocks, and each block's rows get quantiles from a calibration
    fitted on the other blocks' errors only.
    """
    from ..backtest import bias, coverage, peak_wape, wape
    from .base import ResidualCalibration

    inner = _inner_of(model)
    one = None if inner is None else inner.lead1()
    if one is not None and keep is not None:
        one = _subset(one, np.isin(one.origin, keep))
    if one is None or len(one.row) == 0:
        return {"model": name, **{k: np.nan for k in ("wape", "mase", "bias", "coverage_80",
                                                      "coverage_95", "peak_wape")},
                "fit_s": fit_s}
    lo80, hi80, lo95, hi95 = (np.full(len(one.row), np.nan) for _ in range(4))
    origins = np.unique(one.origin)
    block = np.searchsorted(origins, one.origin) * COVERAGE_BLOCKS // max(len(origins), 1)
    for b in np.unique(block):
        sel = block == b
        if (~sel).sum() < 10:
            continue
        cal = ResidualCalibration().fit(one.mean[~sel], one.actual[~sel])
        q = cal.quantiles(one.mean[sel], (0.025, 0.1, 0.9, 0.975))
        lo95[sel], lo80[sel], hi80[sel], hi95[sel] = q.T
    ok = np.isfinite(lo80)
    return {
        "model": name,
        "wape": wape(one.actual, one.mean),
        "mase": float(np.mean(np.abs(one.actual - one.mean)) / scale) if scale > 0 else np.nan,
        "bias": bias(one.actual, one.mean),
        "coverage_80": coverage(one.actual[ok], lo80[ok], hi80[ok]) if ok.any() else np.nan,
        "coverage_95": coverage(one.actual[ok], lo95[ok], hi95[ok]) if ok.any() else np.nan,
        "peak_wape": peak_wape(one.actual, one.mean),
        "fit_s": fit_s,
    }


def _inner_of(model: Forecaster):
    base = getattr(model, "base_", model)
    return getattr(base, "_inner", None)


def _subset(fc, sel):
    from .base import OriginForecasts

    return OriginForecasts(fc.origin[sel], fc.row[sel], fc.lead[sel], fc.mean[sel],
                           fc.actual[sel])


def _last_day(hist: pd.DataFrame) -> int:
    from .daygrid import day_numbers

    return int(day_numbers(pd.DatetimeIndex([hist["ds"].iloc[-1]]))[0][0])


def _fit_candidates(hist: pd.DataFrame, events: pd.DataFrame | None, names: Sequence[str],
                    slow_origins: int = 4) -> tuple[dict[str, Forecaster], dict[str, float]]:
    """Fit each candidate on the whole history, sharing the work they have in common.

    Event effects are learned and removed once for all models that do not handle
    events themselves; the day grid is built once; an ensemble whose members are
    also candidates reuses their fits and their inner origin forecasts. Seconds are
    per candidate (an ensemble built from fitted members costs only its combination).
    Slow models (``cheap = False``, e.g. Prophet), which calibrate in-sample, are refitted
    at the last ``slow_origins`` weekly origins to be scored; every candidate is then
    compared on those origins only.
    """
    import time

    from ..event_effects import EventAdjusted, remove_event_effects
    from .daygrid import DayGrid
    from .ensemble import Ensemble

    wrap = _has_events(events)
    t0 = time.perf_counter()
    effects, clean = (remove_event_effects(hist, events) if wrap and any(
        not MODELS[n].handles_events for n in names) else (None, hist))
    grid = DayGrid.from_history(clean)
    shared_s = time.perf_counter() - t0
    default_members = Ensemble().members
    order = sorted(names, key=lambda n: n == "ensemble")  # members first
    bases: dict[str, Forecaster] = {}
    fitted: dict[str, Forecaster] = {}
    seconds: dict[str, float] = {}
    for name in order:
        t0 = time.perf_counter()
        try:
            if MODELS[name].handles_events:
                base = fitted[name] = make_model(name).fit(hist, events)
                data, data_events = hist, events
            else:
                if name == "ensemble" and all(m in bases for m in default_members):
                    base = Ensemble.from_fitted([bases[m] for m in default_members], clean,
                                                None, grid)
                else:
                    base = make_model(name)._fit_prepared(clean, None, grid)
                bases[name] = base
                fitted[name] = EventAdjusted.from_fitted(base, effects) if wrap else base
                data, data_events = clean, None
            if getattr(base, "_inner", None) is None:
                # slow models calibrate in-sample: refit them at the last few origins only
                base._inner = base.origin_forecasts(
                    data, inner_origins(_last_day(data), max(int(slow_origins), 1)),
                    lead_weeks=1, events=data_events)
        except (ForecastError, ValueError, np.linalg.LinAlgError) as exc:
            warnings.warn(f"model '{name}' failed: {exc}", ModelFallbackWarning, stacklevel=3)
        seconds[name] = time.perf_counter() - t0 + shared_s / len(names)
    return fitted, seconds


def choose_fitted(
    history: pd.DataFrame,
    events: pd.DataFrame | None,
    settings: ForecastSettings,
    candidates: Sequence[str] | None = None,
) -> tuple[str, Forecaster | None, pd.DataFrame]:
    """Fit every candidate once and pick one from their inner one-week-ahead errors.

    Every candidate's fit forecasts the weeks after the same weekly origins (its
    calibration); candidates are scored on the origins all of them could forecast.
    The pick follows :func:`pick_with_margin`. Candidates that fail score NaN with a
    :class:`ModelFallbackWarning`.

    Parameters
    ----------
    history
        One queue's regularised history (``ds, y``, optional ``aht_s, filled``).
    events
        Events table, or None. Models that do not handle events are wrapped with
        learned event effects when it has rows.
    settings
        Supplies ``candidates`` and ``backtest_folds`` (how many weekly origins a slow
        model such as Prophet is refitted at to be scored).
    candidates
        Model names to try; default ``settings.candidates``, else
        :data:`AUTO_CANDIDATES`.

    Returns
    -------
    (name, model, leaderboard)
        The chosen name, its model fitted on the whole history (None when every
        candidate failed) and the leaderboard (:data:`LEADERBOARD_COLUMNS`, sorted by
        WAPE). When no candidate scores, the pick is :data:`DEFAULT_MODEL` if it fitted,
        else the first candidate that did.

    Raises
    ------
    ModelError
        When a candidate is not a registered model.
    """
    from ..backtest import seasonal_naive_mae

    hist = prepare_history(history)
    names = list(candidates or settings.candidates or AUTO_CANDIDATES)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        make_model(unknown[0])  # raises ModelError naming the allowed models
    fitted, seconds = _fit_candidates(hist, events, names, settings.backtest_folds)
    origin_sets = [set(np.unique(_inner_of(m).lead1().origin).tolist())
                   for m in fitted.values() if _inner_of(m) is not None]
    keep = np.array(sorted(set.intersection(*origin_sets))) if origin_sets else None
    scale = seasonal_naive_mae(hist)
    rows = []
    for name in names:
        if name in fitted:
            rows.append(_inner_board_row(name, fitted[name], keep, scale, seconds[name]))
        else:
            rows.append({"model": name, "fit_s": seconds[name]})
    board = pd.DataFrame(rows).reindex(columns=[c for c in LEADERBOARD_COLUMNS
                                                if c != "selected"])
    if not board["wape"].notna().any():
        best = DEFAULT_MODEL if DEFAULT_MODEL in fitted else next(iter(fitted), DEFAULT_MODEL)
    else:
        best = pick_with_margin(board)
    board["selected"] = board["model"] == best
    board = board.sort_values("wape", kind="stable", na_position="last").reset_index(drop=True)
    return best, fitted.get(best), board.reindex(columns=list(LEADERBOARD_COLUMNS))


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

    Raises
    ------
    ModelError
        When the model name is not a registered model. A registered model whose fit
        fails falls back to ``slot_mean`` with a :class:`ModelFallbackWarning`.
    """
    settings = settings or ForecastSettings()
    name = model or settings.model
    hist = prepare_history(history)
    board = None
    fitted = None
    if name == "auto":
        name, fitted, board = choose_fitted(hist, events, settings)
        if board["wape"].notna().any():
            sel = board.loc[board["selected"]]
            reason = (f"lowest inner backtest WAPE ({sel['wape'].iloc[0]:.3f}) of "
                      f"{len(board)} candidates" if name != DEFAULT_MODEL or
                      sel["wape"].iloc[0] <= board["wape"].min() else
                      f"default kept: no candidate beat its inner backtest WAPE "
                      f"({sel['wape'].iloc[0]:.3f}) by {SELECT_MARGIN:.0%}")
        else:
            reason = f"too little history to backtest; using {name}"
    else:
        reason = "fixed by configuration"
        if name not in MODELS:
            make_model(name)  # an unknown name is an error, not a fit to fall back from
    if fitted is None:
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
    # the horizon holds the configured opening hours: hours the history never had are
    # extrapolated (and reported by the what-if), not closed
    out = fitted.predict(idx, events, quantiles=settings.quantiles, unseen="extrapolate")
    out["aht_s"] = forecast_aht(hist, idx, np.nan if default_aht_s is None else default_aht_s)
    out["model"] = name
    return out, ModelChoice(name=name, model=fitted, leaderboard=board, reason=reason)
