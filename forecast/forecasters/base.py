"""The forecaster contract, the model registry and honest prediction intervals.

Every model takes ONE queue's regularised history (columns ``ds``, ``y``, optional
``aht_s`` and ``filled``) and forecasts a given set of future interval starts.
Closed hours are absent from both history and horizon, so models work per *slot*
(weekday and time of day) or on open-interval positions, never on a wall-clock grid
that would fill nights and weekends with zeros.

Prediction intervals come from :class:`ResidualCalibration`: the model forecasts the
last weeks of its own history as if they were the future (refitting on the data
before each of the last ``calibration_weeks`` weekly origins, and forecasting up to
:data:`CALIBRATION_LEAD_WEEKS` weeks from each), and the spread of those honest
errors, scaled to the level of each interval and to its lead week, gives the
quantiles. Models that work on the :class:`~.daygrid.DayGrid` refit on a row slice of
one array, so the sixteen refits cost a few milliseconds each; the same origin
forecasts (:class:`OriginForecasts`) score the candidates of ``model = "auto"``.

:data:`MODELS` is the registry: model name -> :class:`Forecaster` subclass, filled by
:func:`register` as the model modules are imported (``seasonal_naive``,
``slot_mean``, ``topdown``, ``ensemble``, ``holt_winters``, ``sarimax``, ``mstl``,
``prophet``). Build a model by name with :func:`make_model`.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError, ForecastWarning, ModelError, NotFittedError
from .daygrid import NS_PER_DAY, NS_PER_MIN, DayGrid, day_numbers

__all__ = [
    "DEFAULT_QUANTILES",
    "MODELS",
    "Forecaster",
    "ResidualCalibration",
    "OriginForecasts",
    "CALIBRATION_LEAD_WEEKS",
    "inner_origins",
    "quantile_column",
    "register",
    "make_model",
    "model_from_dict",
    "prepare_history",
    "as_horizon",
    "as_quantiles",
    "slot_key",
    "infer_interval_s",
]

DEFAULT_QUANTILES: tuple[float, ...] = (0.1, 0.5, 0.9)
WEEK = pd.Timedelta(days=7)

#: model name -> class. Filled by :func:`register` as the model modules are imported.
MODELS: dict[str, type[Forecaster]] = {}


def quantile_column(q: float) -> str:
    """Name of the forecast column holding quantile ``q``.

    Parameters
    ----------
    q
        A quantile strictly between 0 and 1.

    Returns
    -------
    str
        ``"p"`` and the percentage: 0.1 -> ``"p10"``, 0.975 -> ``"p97.5"``.

    Raises
    ------
    ValueError
        When ``q`` is not strictly between 0 and 1.
    """
    if not 0.0 < float(q) < 1.0:
        raise ValueError(f"quantile {q!r} must lie strictly between 0 and 1")
    return f"p{round(float(q) * 100, 6):g}"


def register(name: str):
    """Class decorator adding a forecaster to :data:`MODELS` under ``name``."""

    def deco(cls: type[Forecaster]) -> type[Forecaster]:
        cls.name = name
        MODELS[name] = cls
        return cls

    return deco


def make_model(name: str, **params: Any) -> Forecaster:
    """Build a registered model by name with the given parameters.

    Parameters
    ----------
    name
        A key of :data:`MODELS` (the built-in models are registered on first call).
    **params
        Passed to the model's constructor.

    Returns
    -------
    Forecaster
        A new, unfitted model.

    Raises
    ------
    ModelError
        When ``name`` is not a registered model.
    """
    _load_builtin_models()
    if name not in MODELS:
        raise ModelError(
            f"unknown model '{name}'; expected one of {', '.join(sorted(MODELS))}"
        )
    return MODELS[name](**params)


def model_from_dict(state: Mapping[str, Any]) -> Forecaster:
    """Rebuild a fitted model from :meth:`Forecaster.to_dict` output."""
    _load_builtin_models()
    name = state.get("model")
    if name == "event_adjusted":
        from ..event_effects import EventAdjusted

        return EventAdjusted.from_dict(state)
    if name not in MODELS:
        raise ModelError(f"unknown model '{name}' in saved state")
    return MODELS[name].from_dict(state)


def _load_builtin_models() -> None:
    # importing the package registers every built-in model
    import importlib

    for module in _BUILTIN_MODULES:
        importlib.import_module(module, __package__)


#: modules whose import registers the built-in models (prophet itself loads lazily)
_BUILTIN_MODULES = (".baselines", ".topdown", ".ensemble", ".statsmodels_", ".prophet_")


# --------------------------------------------------------------------------- inputs


def prepare_history(history: pd.DataFrame) -> pd.DataFrame:
    """Validate one queue's history and return a sorted copy with ``ds, y, filled``.

    ``aht_s`` is kept when present. The input is never modified.

    Raises
    ------
    DataValidationError
        When ``ds`` or ``y`` is missing, ``ds`` is not a datetime, ``y`` has negative
        or non-numeric values, or timestamps repeat.
    """
    if not isinstance(history, pd.DataFrame):
        raise DataValidationError("history must be a DataFrame with columns ds and y")
    for col in ("ds", "y"):
        if col not in history.columns:
            raise DataValidationError(
                f"history has no '{col}' column; expected columns ds (interval start) and y "
                "(contacts offered)", column=col)
    if len(history) == 0:
        raise ModelError("history is empty; a model needs at least one week of intervals")
    ds = pd.to_datetime(history["ds"])
    if getattr(ds.dt, "tz", None) is not None:
        raise DataValidationError("ds must be naive local time, got time-zone aware values",
                                  column="ds")
    try:
        y = pd.to_numeric(history["y"]).astype("float64").to_numpy()
    except (TypeError, ValueError):
        raise DataValidationError("y must be numeric contact counts", column="y") from None
    bad = np.flatnonzero(~np.isfinite(y) | (y < 0))
    if bad.size:
        raise DataValidationError(
            f"y must be finite and >= 0; got {y[bad[0]]!r} at ds {ds.iloc[bad[0]]}", column="y")
    out = pd.DataFrame({"ds": ds.to_numpy(), "y": y})
    out["filled"] = (
        history["filled"].fillna(False).astype(bool).to_numpy()
        if "filled" in history.columns else False
    )
    if "aht_s" in history.columns:
        out["aht_s"] = pd.to_numeric(history["aht_s"], errors="coerce").astype("float64").to_numpy()
    stamps = out["ds"].to_numpy()
    if len(stamps) > 1 and (stamps[1:] > stamps[:-1]).all():
        return out  # already sorted and unique
    out = out.sort_values("ds", kind="stable").reset_index(drop=True)
    dup = out["ds"].duplicated()
    if dup.any():
        several = several_queues(history)
        raise DataValidationError(
            f"ds repeats ({out.loc[dup, 'ds'].iloc[0]}); expected one row per interval for one "
            f"queue{f'; {several}' if several else ''}", column="ds")
    return out


def several_queues(history: pd.DataFrame) -> str | None:
    """The message saying the history holds several queues (naming up to three) when its
    ``queue`` column names more than one; None otherwise."""
    if "queue" not in history.columns:
        return None
    count = history["queue"].nunique()
    if count <= 1:
        return None
    names = ", ".join(str(q) for q in pd.unique(history["queue"])[:3])
    return (f"the history holds several queues ({names}{', ...' if count > 3 else ''}): "
            "pass one queue's rows")


def as_horizon(horizon: Iterable | pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The horizon as a naive DatetimeIndex (order kept).

    Raises
    ------
    DataValidationError
        When the times are time-zone aware or one is missing (NaT).
    """
    idx = pd.DatetimeIndex(horizon)
    if idx.tz is not None:
        raise DataValidationError("horizon must be naive local times, got time-zone aware values")
    if idx.hasnans:
        first = int(np.flatnonzero(idx.isna())[0])
        raise DataValidationError(
            f"horizon has a missing time (NaT) at position {first}; expected interval starts")
    return idx


def as_quantiles(quantiles: float | Sequence[float]) -> tuple[float, ...]:
    """Quantiles as a tuple of floats: a single number is one quantile."""
    if isinstance(quantiles, numbers.Real):
        return (float(quantiles),)
    return tuple(float(q) for q in quantiles)


def slot_key(ds: pd.DatetimeIndex | pd.Series | np.ndarray) -> np.ndarray:
    """Slot of each timestamp: ``weekday * 1440 + minute of day`` (Monday 00:00 is 0)."""
    idx = pd.DatetimeIndex(ds)
    return (idx.day_of_week.to_numpy() * 1440 + idx.hour.to_numpy() * 60
            + idx.minute.to_numpy()).astype(np.int64)


def minute_of_day(ds: pd.DatetimeIndex | pd.Series | np.ndarray) -> np.ndarray:
    idx = pd.DatetimeIndex(ds)
    return (idx.hour.to_numpy() * 60 + idx.minute.to_numpy()).astype(np.int64)


def infer_interval_s(ds: pd.Series | pd.DatetimeIndex) -> int:
    """Interval length in seconds: the most common step between consecutive starts."""
    values = pd.DatetimeIndex(ds).sort_values().to_numpy().astype("datetime64[s]")
    if values.size < 2:
        return 1800
    steps = np.diff(values).astype(np.int64)
    steps = steps[steps > 0]
    if steps.size == 0:
        return 1800
    vals, counts = np.unique(steps, return_counts=True)
    return int(vals[np.argmax(counts)])


def lookup_by_slot(keys: np.ndarray, slot_values: pd.Series, fallback_minute: pd.Series,
                   fallback: float) -> np.ndarray:
    """Map slot keys to values, falling back to the time-of-day value, then to a constant."""
    out = np.array(slot_values.reindex(keys).to_numpy(dtype="float64", na_value=np.nan))
    miss = np.isnan(out)
    if miss.any():
        out[miss] = np.array(fallback_minute.reindex(keys[miss] % 1440).to_numpy(
            dtype="float64", na_value=np.nan))
        out[np.isnan(out)] = fallback
    return out


# --------------------------------------------------------------------------- intervals


class ResidualCalibration:
    """Quantiles of ``y`` around a forecast mean from honest (out-of-sample) errors.

    The error variance at lead week ``k`` (1 = the first week after the forecast
    origin) is modelled as ``a[k] * mean + b[k] * mean**2``: Poisson-like noise plus a
    share that grows with the level (a day's or a week's level being off), fitted by
    non-negative least squares to the squared errors of each lead week. Further leads
    never get narrower than nearer ones (``a`` and ``b`` are made non-decreasing in
    ``k``); leads beyond the last measured one keep its variance. The *shape* comes
    from the empirical quantiles of the errors standardised by their own lead's
    variance, so skew and heavy tails carry over. With fewer than ``min_points``
    errors a normal shape is used instead.

    Parameters
    ----------
    min_points
        Errors needed before the empirical shape (and a lead week's own variance) is
        trusted.
    """

    GRID = np.round(np.concatenate([[0.001, 0.0025, 0.005], np.arange(0.01, 1.0, 0.01),
                                    [0.995, 0.9975, 0.999]]), 6)

    def __init__(self, min_points: int = 100) -> None:
        self.min_points = min_points
        self.a_ = np.array([1.0])
        self.b_ = np.array([0.0025])
        self.z_grid_: np.ndarray | None = None
        self.n_: int = 0

    @staticmethod
    def _fit_variance(mean: np.ndarray, err2: np.ndarray) -> tuple[float, float]:
        from scipy import optimize  # imported here: scipy is slow to load

        design = np.column_stack([mean, mean**2])
        # weights stabilise the fit: squared errors scale with the variance itself
        w = 1.0 / np.maximum(mean + 0.01 * mean**2, 1.0)
        coef, _ = optimize.nnls(design * w[:, None], err2 * w)
        a, b = float(coef[0]), float(coef[1])
        if a + b * float(np.median(mean)) <= 1e-12:
            a = 1.0
        return a, b

    def fit(self, mean: np.ndarray, actual: np.ndarray,
            lead: np.ndarray | None = None) -> ResidualCalibration:
        """Fit from forecasts ``mean``, outcomes ``actual`` and their lead weeks (1, 2, ...;
        None: all one week ahead)."""
        mean = np.asarray(mean, dtype="float64")
        actual = np.asarray(actual, dtype="float64")
        lead = np.ones(mean.shape, np.int64) if lead is None else np.asarray(lead, np.int64)
        ok = np.isfinite(mean) & np.isfinite(actual) & (mean >= 0) & (lead >= 1)
        mean, actual, lead = np.maximum(mean[ok], 1e-9), actual[ok], lead[ok]
        self.n_ = int(mean.size)
        if self.n_ < 10:
            return self
        err2 = (actual - mean) ** 2
        a: list[float] = []
        b: list[float] = []
        for k in range(1, int(lead.max()) + 1):
            sel = lead == k
            if not a and sel.sum() < 10:  # too few one-week errors: pool every lead
                sel = np.ones_like(sel)
            if not a or sel.sum() >= self.min_points:
                ak, bk = self._fit_variance(mean[sel], err2[sel])
            else:
                ak, bk = a[-1], b[-1]
            if a:  # never narrower than a nearer lead
                ak, bk = max(ak, a[-1]), max(bk, b[-1])
            a.append(ak)
            b.append(bk)
        self.a_, self.b_ = np.array(a), np.array(b)
        z = (actual - mean) / np.sqrt(self._var(mean, lead))
        if self.n_ >= self.min_points:
            self.z_grid_ = np.quantile(z, self.GRID)
        else:
            from scipy.special import ndtri  # the standard normal quantile function

            sd = float(np.sqrt(np.mean(z**2)))
            self.z_grid_ = ndtri(self.GRID) * max(sd, 1e-6)
        return self

    def _var(self, mean: np.ndarray, lead: np.ndarray | None = None) -> np.ndarray:
        a, b = np.atleast_1d(self.a_), np.atleast_1d(self.b_)
        k = np.zeros(np.shape(mean), np.int64) if lead is None else (
            np.clip(np.asarray(lead, np.int64), 1, len(a)) - 1)
        return np.maximum(a[k] * mean + b[k] * mean**2, 1e-9)

    def quantiles(self, mean: np.ndarray, qs: Sequence[float],
                  lead: np.ndarray | None = None) -> np.ndarray:
        """Array of shape (len(mean), len(qs)), non-negative and non-decreasing in q.

        Columns follow the order of ``qs`` (which need not be sorted). ``lead`` gives
        each row's lead week (1 = first week after the origin; None: 1).
        """
        from scipy.special import ndtri  # the standard normal quantile function

        mean = np.maximum(np.asarray(mean, dtype="float64"), 0.0)
        qs = np.atleast_1d(np.asarray(qs, dtype="float64"))
        order = np.argsort(qs, kind="stable")
        if (order != np.arange(len(qs))).any():  # work in increasing q, answer in given order
            out = np.empty((len(mean), len(qs)))
            out[:, order] = self.quantiles(mean, qs[order], lead)
            return out
        if self.z_grid_ is None:
            z = ndtri(qs)
        else:
            # interpolate on the normal-score scale so tails beyond the grid extend sensibly
            grid_n = ndtri(self.GRID)
            zq = ndtri(qs)
            z = np.interp(zq, grid_n, self.z_grid_)
            lo, hi = zq < grid_n[0], zq > grid_n[-1]
            slope_lo = (self.z_grid_[1] - self.z_grid_[0]) / (grid_n[1] - grid_n[0])
            slope_hi = (self.z_grid_[-1] - self.z_grid_[-2]) / (grid_n[-1] - grid_n[-2])
            z = np.where(lo, self.z_grid_[0] + (zq - grid_n[0]) * slope_lo, z)
            z = np.where(hi, self.z_grid_[-1] + (zq - grid_n[-1]) * slope_hi, z)
        z = np.maximum.accumulate(z)  # monotone in q
        out = mean[:, None] + np.sqrt(self._var(mean, lead))[:, None] * z[None, :]
        out = np.maximum(out, 0.0)
        return np.maximum.accumulate(out, axis=1)

    def to_dict(self) -> dict[str, Any]:
        return {"a": [float(v) for v in np.atleast_1d(self.a_)],
                "b": [float(v) for v in np.atleast_1d(self.b_)],
                "n": self.n_, "min_points": self.min_points,
                "z_grid": None if self.z_grid_ is None else [float(v) for v in self.z_grid_]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ResidualCalibration:
        out = cls(int(d.get("min_points", 100)))
        out.a_ = np.atleast_1d(np.asarray(d["a"], dtype="float64"))
        out.b_ = np.atleast_1d(np.asarray(d["b"], dtype="float64"))
        out.n_ = int(d["n"])
        out.z_grid_ = None if d.get("z_grid") is None else np.asarray(d["z_grid"], dtype="float64")
        return out


@dataclass
class OriginForecasts:
    """Honest forecasts of a model's own history from past origins (an inner backtest).

    For each origin (a midnight), the model is refitted on the history before it and
    forecasts the observed intervals of the following ``lead_weeks`` weeks.

    Attributes
    ----------
    origin
        Day number (days since 1970-01-01) of each row's origin.
    row
        Row of the prepared history that was forecast.
    lead
        Lead week of the row (1 = the week right after the origin).
    mean, actual
        Forecast and outcome.
    """

    origin: np.ndarray
    row: np.ndarray
    lead: np.ndarray
    mean: np.ndarray
    actual: np.ndarray

    def lead1(self) -> OriginForecasts:
        sel = self.lead == 1
        return OriginForecasts(self.origin[sel], self.row[sel], self.lead[sel], self.mean[sel],
                               self.actual[sel])

    def scores(self) -> dict[str, Any]:
        """One-week-ahead absolute error and volume per origin (JSON-able)."""
        one = self.lead1()
        origins = np.unique(one.origin)
        pos = np.searchsorted(origins, one.origin)
        abs_err = np.bincount(pos, np.abs(one.actual - one.mean), minlength=len(origins))
        vol = np.bincount(pos, one.actual, minlength=len(origins))
        return {"origins": [str(np.datetime64(int(o), "D")) for o in origins],
                "abs_error": abs_err.tolist(), "actual": vol.tolist()}


def inner_origins(last_day: int, weeks: int) -> np.ndarray:
    """Day numbers of the last ``weeks`` weekly origins: the day after ``last_day``
    minus 1..``weeks`` weeks (oldest first)."""
    return last_day + 1 - 7 * np.arange(weeks, 0, -1, dtype=np.int64)


# --------------------------------------------------------------------------- contract


#: lead weeks measured by the calibration (a plan horizon is typically 6 weeks)
CALIBRATION_LEAD_WEEKS = 6


class Forecaster:
    """Base class of every model.

    Subclasses implement ``_fit(history, events)`` (history already validated by
    :func:`prepare_history`) or, for models working on the day x minute layout,
    ``_fit_grid(grid)``, and ``_predict_mean(horizon, events) -> np.ndarray``; the base
    class handles validation, calibration of the quantiles and the output table. Set
    ``cheap = False`` on slow models: their intervals are calibrated from in-sample
    errors (inflated) rather than by refitting at past origins.

    Closed hours: a horizon time whose slot (weekday and time of day) never appears in
    the training history is forecast 0 (mean and quantiles) with one
    :class:`~forecast.exceptions.ForecastWarning` saying how many, unless ``predict`` is
    told ``unseen="extrapolate"`` (the plan does so: its horizon holds the configured
    opening hours, which may include hours the history never had). A horizon time off
    the history's interval grid (e.g. 12:10 in a half-hourly history) is an error.

    Events: models with ``handles_events = True`` (``sarimax``, ``prophet``) use the
    events given to ``fit`` and ``predict``. The others ignore them and say so with one
    ``ForecastWarning`` when given a non-empty events table;
    :func:`~forecast.forecasters.build_model` ``(name, events)`` wraps them in
    :class:`~forecast.event_effects.EventAdjusted`, which learns the events' effects.

    Parameters common to all models
    -------------------------------
    calibration_weeks
        How many past one-week origins are used to measure honest errors for the
        prediction intervals (0: in-sample errors only; -1: no calibration, a plain
        Poisson-like default, for models used only inside another model). From each
        origin the model forecasts up to :data:`CALIBRATION_LEAD_WEEKS` weeks, so the
        intervals widen with lead time as the errors do.
    """

    name: ClassVar[str] = "base"
    cheap: ClassVar[bool] = True
    handles_events: ClassVar[bool] = False
    #: whether :meth:`to_dict` can save the fitted model (see :func:`storable_models`)
    storable: ClassVar[bool] = True
    #: parameter names saved by :meth:`to_dict` (besides calibration_weeks)
    param_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, calibration_weeks: int = 16) -> None:
        self.calibration_weeks = calibration_weeks

    # -- public API ---------------------------------------------------------------
    def fit(self, history: pd.DataFrame, events: pd.DataFrame | None = None) -> Forecaster:
        """Learn from one queue's regularised history; returns ``self``.

        ``events`` are used only by models that handle events (see the class notes).
        """
        self._warn_ignored_events(events)
        return self._fit_prepared(prepare_history(history), events)

    def _warn_ignored_events(self, events: pd.DataFrame | None) -> None:
        """One ForecastWarning per model when events are given to a model ignoring them."""
        if (self.handles_events or events is None or len(events) == 0
                or getattr(self, "_warned_events", False)):
            return
        self._warned_events = True
        warnings.warn(f"model '{self.name}' ignores events; use build_model('{self.name}', "
                      "events) to learn their effect", ForecastWarning, stacklevel=3)

    def _fit_prepared(self, hist: pd.DataFrame, events: pd.DataFrame | None,
                      grid: DayGrid | None = None) -> Forecaster:
        """:meth:`fit` on an already prepared history (and its day grid, if built)."""
        self.interval_s_ = infer_interval_s(hist["ds"])
        self.last_ds_ = pd.Timestamp(hist["ds"].iloc[-1])
        self.open_slots_ = np.unique(slot_key(hist["ds"]))
        if self.uses_grid():
            grid = grid if grid is not None else DayGrid.from_history(hist)
            self._fit_grid(grid)
        else:
            self._fit(hist, events)
        self.calibration_ = self._calibrate(hist, events, grid)
        return self

    @classmethod
    def uses_grid(cls) -> bool:
        """True when the model fits on the day grid (fast refits at past origins)."""
        return cls._fit_grid is not Forecaster._fit_grid

    def predict(
        self,
        horizon: Iterable | pd.DatetimeIndex,
        events: pd.DataFrame | None = None,
        quantiles: float | Sequence[float] = DEFAULT_QUANTILES,
        *,
        unseen: str = "closed",
    ) -> pd.DataFrame:
        """Forecast the given future interval starts.

        Parameters
        ----------
        horizon
            Interval starts on the history's interval grid (naive local times).
        events
            Events table; used only by models that handle events (see the class notes).
        quantiles
            Quantiles to forecast besides the mean, in any order (a single number: one).
        unseen
            Horizon times whose slot (weekday and time of day) the history never had:
            ``"closed"`` forecasts them 0 and warns; ``"extrapolate"`` lets the model
            extrapolate from the slots it has seen.

        Returns
        -------
        DataFrame
            Columns ``ds``, ``mean`` and one column per quantile (see
            :func:`quantile_column`) in the requested order, one row per horizon
            interval in the given order. Intervals widen with the lead week of each row
            after the end of history.

        Raises
        ------
        NotFittedError
            When the model has not been fitted.
        DataValidationError
            When a horizon time is missing (NaT) or off the history's interval grid.
        """
        if not hasattr(self, "calibration_"):
            raise NotFittedError(f"model '{self.name}' must be fitted before predict")
        if unseen not in ("closed", "extrapolate"):
            raise ValueError(f"unseen must be 'closed' or 'extrapolate', got {unseen!r}")
        self._warn_ignored_events(events)
        idx = as_horizon(horizon)
        quantiles = as_quantiles(quantiles)
        cols = [quantile_column(q) for q in quantiles]  # validates the quantiles
        if len(idx) == 0:
            return pd.DataFrame({"ds": idx, "mean": np.zeros(0),
                                 **{c: np.zeros(0) for c in cols}})
        closed = self._closed_times(idx, unseen == "closed")
        mean = np.asarray(self._predict_mean(idx, events), dtype="float64")
        mean = np.where(np.isfinite(mean) & ~closed, np.maximum(mean, 0.0), 0.0)
        out = pd.DataFrame({"ds": idx, "mean": mean})
        if len(cols):
            qv = self.calibration_.quantiles(mean, quantiles, self.lead_weeks(idx))
            qv[closed] = 0.0
            for j, c in enumerate(cols):
                out[c] = qv[:, j]
        return out

    def _closed_times(self, idx: pd.DatetimeIndex, close_unseen: bool) -> np.ndarray:
        """Mask of horizon times in slots the history never had (all False when
        ``close_unseen`` is False); a time off the history's interval grid is an error.

        Models saved before the open slots were recorded skip both checks.
        """
        slots = getattr(self, "open_slots_", None)
        if slots is None or len(slots) == 0:
            return np.zeros(len(idx), dtype=bool)
        step_ns = int(self.interval_s_) * 1_000_000_000
        ns_of_day = np.asarray(idx.as_unit("ns").asi8, dtype=np.int64) % NS_PER_DAY
        phases = np.unique((slots % 1440) * NS_PER_MIN % step_ns)
        off = ~np.isin(ns_of_day % step_ns, phases)
        if off.any():
            raise DataValidationError(
                f"horizon time {idx[int(np.flatnonzero(off)[0])]} is off the history's "
                f"{int(self.interval_s_) // 60}-minute interval grid; expected interval starts "
                "like those of the history")
        if not close_unseen:
            return np.zeros(len(idx), dtype=bool)
        closed = ~np.isin(slot_key(idx), slots)
        if closed.any():
            warnings.warn(
                f"model '{self.name}': {int(closed.sum())} horizon time(s) fall in slots "
                f"(weekday and time of day) the history never had open, first "
                f"{idx[int(np.flatnonzero(closed)[0])]:%a %H:%M}; forecast 0 (closed hours stay "
                "closed; predict(..., unseen='extrapolate') forecasts them)",
                ForecastWarning, stacklevel=3)
        return closed

    def lead_weeks(self, horizon: pd.DatetimeIndex) -> np.ndarray:
        """Lead week of each horizon interval: 1 for the 7 days after the last history day."""
        day, _ = day_numbers(horizon)
        last_day = int(day_numbers(pd.DatetimeIndex([self.last_ds_]))[0][0])
        return np.maximum((day - last_day - 1) // 7 + 1, 1)

    def get_params(self) -> dict[str, Any]:
        params = {k: getattr(self, k) for k in self.param_names}
        params["calibration_weeks"] = self.calibration_weeks
        return params

    def to_dict(self) -> dict[str, Any]:
        """JSON-able state of a fitted model (parameters + learned values)."""
        if not hasattr(self, "calibration_"):
            raise NotFittedError(f"model '{self.name}' must be fitted before it can be saved")
        if not self.storable:
            self._get_state_refused()
        return {
            "model": self.name,
            "params": _jsonable(self.get_params()),
            "interval_s": self.interval_s_,
            "last_ds": self.last_ds_.isoformat(),
            "calibration": self.calibration_.to_dict(),
            "open_slots": _jsonable(getattr(self, "open_slots_", None)),
            "inner_scores": _jsonable(getattr(self, "inner_scores_", None)),
            "state": _jsonable(self._get_state()),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Forecaster:
        model = cls(**d.get("params", {}))
        model.interval_s_ = int(d["interval_s"])
        model.last_ds_ = pd.Timestamp(d["last_ds"])
        model._set_state(d["state"])
        model.calibration_ = ResidualCalibration.from_dict(d["calibration"])
        if d.get("open_slots") is not None:
            model.open_slots_ = np.asarray(d["open_slots"], dtype=np.int64)
        if d.get("inner_scores") is not None:
            model.inner_scores_ = d["inner_scores"]
        return model

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # -- for subclasses -----------------------------------------------------------
    def _fit(self, hist: pd.DataFrame, events: pd.DataFrame | None) -> None:
        if self.uses_grid():
            self._fit_grid(DayGrid.from_history(hist))
            return
        raise NotImplementedError

    def _fit_grid(self, grid: DayGrid) -> None:
        raise NotImplementedError

    def _predict_mean(self, horizon: pd.DatetimeIndex, events: pd.DataFrame | None) -> np.ndarray:
        raise NotImplementedError

    def _get_state(self) -> dict[str, Any]:
        self._get_state_refused()

    def _get_state_refused(self) -> Any:
        raise ModelError(f"model '{self.name}' cannot be saved as JSON (refit it from the "
                         f"data); models that can be stored: {', '.join(storable_models())}")

    def _set_state(self, state: Mapping[str, Any]) -> None:
        raise ModelError(f"model '{self.name}' cannot be loaded from JSON")

    def _clone_unfitted(self) -> Forecaster:
        params = self.get_params()
        params["calibration_weeks"] = -1
        return type(self)(**params)

    # -- honest errors ------------------------------------------------------------
    def origin_forecasts(self, hist: pd.DataFrame, origins: np.ndarray,
                         grid: DayGrid | None = None, lead_weeks: int = 1,
                         events: pd.DataFrame | None = None) -> OriginForecasts:
        """Refit at each origin on the history before it and forecast what followed.

        Parameters
        ----------
        hist
            Prepared history (see :func:`prepare_history`).
        origins
            Day numbers of the origins (midnights).
        grid
            The history's day grid, when already built.
        lead_weeks
            Weeks forecast from each origin (observed, not gap-filled rows only).

        Origins leaving less than two weeks of training data are skipped, as are
        origins where the model cannot be fitted.
        """
        stamps = hist["ds"].to_numpy()
        day, _ = day_numbers(stamps)
        observed = ~hist["filled"].to_numpy()
        y = hist["y"].to_numpy()
        if self.uses_grid() and grid is None:
            grid = DayGrid.from_history(hist)
        parts = []
        for origin in np.asarray(origins, np.int64):
            n_train = int(np.searchsorted(day, origin, side="left"))
            if n_train == 0 or day[n_train - 1] - day[0] < 14:
                continue
            rows = np.flatnonzero((day >= origin) & (day < origin + 7 * lead_weeks) & observed)
            if rows.size == 0:
                continue
            try:
                mean = self._origin_mean(hist, grid, int(origin), n_train,
                                         pd.DatetimeIndex(stamps[rows]), events)
            except (ModelError, ValueError, np.linalg.LinAlgError):
                continue
            parts.append((np.full(rows.size, origin), rows, (day[rows] - origin) // 7 + 1, mean))
        if not parts:
            empty = np.zeros(0)
            return OriginForecasts(empty.astype(np.int64), empty.astype(np.int64),
                                   empty.astype(np.int64), empty, empty)
        o, r, k, m = (np.concatenate(x) for x in zip(*parts, strict=True))
        return OriginForecasts(o, r, k, m, y[r])

    def _origin_mean(self, hist: pd.DataFrame, grid: DayGrid | None, origin: int, n_train: int,
                     horizon: pd.DatetimeIndex, events: pd.DataFrame | None) -> np.ndarray:
        """Forecast of ``horizon`` by a clone fitted on the first ``n_train`` rows."""
        m = self._clone_unfitted()
        m.interval_s_ = getattr(self, "interval_s_", 1800)
        m.last_ds_ = pd.Timestamp(hist["ds"].to_numpy()[n_train - 1])
        if self.uses_grid():
            m._fit_grid(grid.before(origin))
        else:
            m._fit(hist.iloc[:n_train].reset_index(drop=True), events)
        return np.asarray(m._predict_mean(horizon, events), dtype="float64")

    def _calibrate(self, hist: pd.DataFrame, events: pd.DataFrame | None,
                   grid: DayGrid | None = None) -> ResidualCalibration:
        """Measure honest errors from the last ``calibration_weeks`` weekly origins,
        each forecasting up to :data:`CALIBRATION_LEAD_WEEKS` weeks ahead."""
        cal = ResidualCalibration()
        if self.calibration_weeks < 0:  # intervals not wanted (e.g. an ensemble member)
            return cal
        weeks = self.calibration_weeks if self.cheap else 0
        if weeks > 0:
            last_day = int(day_numbers(pd.DatetimeIndex([self.last_ds_]))[0][0])
            fc = self.origin_forecasts(hist, inner_origins(last_day, weeks), grid,
                                       CALIBRATION_LEAD_WEEKS, events)
            self._inner = fc  # kept for model selection, not saved
            if (fc.lead == 1).sum() >= cal.min_points:
                self.inner_scores_ = fc.scores()
                return cal.fit(fc.mean, fc.actual, fc.lead)
        # in-sample errors understate the spread; inflate them
        fitted = self._in_sample_mean(hist)
        if fitted is not None:
            ok = ~hist["filled"].to_numpy()
            cal.fit(fitted[ok], hist["y"].to_numpy()[ok])
            cal.a_ = cal.a_ * 1.5
            cal.b_ = cal.b_ * 2.0
        return cal

    def _in_sample_mean(self, hist: pd.DataFrame) -> np.ndarray | None:
        """Fitted values on the history (used when refitting is too costly)."""
        try:
            return np.asarray(self._predict_mean(pd.DatetimeIndex(hist["ds"]), None))
        except (ModelError, ValueError):
            return None


def storable_models() -> list[str]:
    """Names of the registered models that :meth:`Forecaster.to_dict` can save."""
    _load_builtin_models()
    return sorted(name for name, cls in MODELS.items()
                  if cls.storable and cls._get_state is not Forecaster._get_state)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating | float):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, pd.Timestamp):
        return obj.isoformat()
    return obj
