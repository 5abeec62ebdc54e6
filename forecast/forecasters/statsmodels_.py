"""statsmodels models: Holt-Winters and SARIMAX on daily totals, MSTL on open intervals.

* ``holt_winters``: exponential smoothing (statsmodels ``ExponentialSmoothing``,
  additive damped trend, multiplicative weekly season on open-day positions)
  forecasts each future day's total; the pooled weekday profile of
  :class:`~.topdown.TopDown` spreads it over the intervals.
* ``sarimax``: the same top-down layout with a seasonal ARIMA (statsmodels
  ``SARIMAX``) on the log daily totals, events entering as exogenous regressors.
* ``mstl``: statsmodels ``MSTL`` on the open intervals in order, with a daily and a
  weekly season counted in open intervals; the seasonal components of the last week
  are repeated, and the deseasonalised daily level is forecast by exponential
  smoothing.

Fitting a smoother or a SARIMAX on ~250 daily points costs a fraction of a second,
unlike SARIMAX on thousands of intervals (a seasonal period of hundreds of
intervals makes its state space that large); MSTL on intervals is affordable because
it only smooths (LOESS), on the last ``fit_weeks`` weeks.

None of these models can be saved as JSON (their statsmodels results are not
representable); they raise :class:`~forecast.exceptions.ModelError` when saved.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import functools
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ModelError
from .base import Forecaster, register
from .daygrid import NS_PER_DAY, NS_PER_MIN, DayGrid, day_numbers, weekday_of
from .topdown import TopDown, _as_day_numbers

__all__ = ["HoltWintersTopDown", "SarimaxTopDown", "MSTLModel"]


@functools.cache
def _openblas_setters() -> tuple[Any, ...]:
    """``openblas_set_num_threads_local`` of the OpenBLAS builds bundled with scipy and
    numpy (empty when there is none, e.g. another BLAS or an older OpenBLAS)."""
    import numpy
    import scipy

    found = []
    for pkg in (scipy, numpy):
        folder = Path(pkg.__file__).resolve().parent.parent / f"{pkg.__name__}.libs"
        for path in sorted(folder.glob("*openblas*")):
            try:
                fn = ctypes.CDLL(str(path)).openblas_set_num_threads_local
            except (OSError, AttributeError):
                continue
            fn.argtypes, fn.restype = [ctypes.c_int], ctypes.c_int
            found.append(fn)
    return tuple(found)


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Run the block with one OpenBLAS thread in the calling thread (best effort).

    statsmodels' Kalman filter and smoothers call BLAS on matrices of a few rows,
    where threads only cost: on a busy machine (2 cores, another job running) a SARIMAX
    fit that takes 0.1 s single-threaded was measured at 8-10 s with OpenBLAS's
    default threads. The setting is thread-local and restored afterwards.
    """
    setters = _openblas_setters()
    previous = [fn(1) for fn in setters]
    try:
        yield
    finally:
        for fn, n in zip(setters, previous, strict=True):
            fn(n)


def _rows_of(sorted_days: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row of each of ``days`` in the sorted ``sorted_days`` (clipped to a valid row) and
    whether it is really there."""
    row = np.minimum(np.searchsorted(sorted_days, days), max(len(sorted_days) - 1, 0))
    found = (row < len(sorted_days)) & (sorted_days[row] == days) if len(sorted_days) else \
        np.zeros(len(days), bool)
    return row, found


def _open_days(first: int, last: int, open_weekdays: Sequence[int]) -> np.ndarray:
    """Day numbers from ``first`` to ``last`` (inclusive) falling on an open weekday."""
    days = np.arange(int(first), int(last) + 1, dtype=np.int64)
    return days[np.isin(weekday_of(days), np.asarray(list(open_weekdays), np.int64))]


def _open_days_ahead(last_day: int, days: np.ndarray, open_weekdays: Sequence[int]) -> np.ndarray:
    """For each day number, how many open days lie in ``(last_day, day]`` (0: not after)."""
    open_set = set(open_weekdays)
    mask = [i in open_set for i in range(7)]
    return np.busday_count(np.datetime64(int(last_day) + 1, "D"),
                           np.asarray(days, np.int64).astype("datetime64[D]") + 1, weekmask=mask)


@register("holt_winters")
class HoltWintersTopDown(TopDown):
    """Daily totals by Holt-Winters (statsmodels), intervals by the pooled profile.

    Parameters
    ----------
    damped_trend
        Damp the trend so long horizons do not run away.
    fit_weeks
        Weeks of daily totals the smoother sees.
    """

    storable = False  # refitted from the data on every run

    param_names = ("damped_trend", "fit_weeks")

    def __init__(self, damped_trend: bool = True, fit_weeks: int = 52, **kwargs: Any) -> None:
        super().__init__(fit_weeks=fit_weeks, **kwargs)
        self.damped_trend = damped_trend

    def _fit_daily(self, days: np.ndarray, total: np.ndarray, complete: np.ndarray,
                   weekday: np.ndarray) -> None:
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        super()._fit_daily(days, total, complete, weekday)  # fallback for unseen weekdays
        use = days > days[-1] - 7 * self.fit_weeks
        # open days in order; gap-filled or partial days keep their place (the season
        # is counted in open days), interpolated from their neighbours
        totals = np.where(complete[use], total[use], np.nan)
        season = len(self.open_weekdays_)
        if np.isfinite(totals).sum() < 2 * season + 2 or season < 2:
            raise ModelError("holt_winters needs at least two weeks of complete days")
        s = pd.Series(totals).interpolate(limit_direction="both").to_numpy()
        with warnings.catch_warnings(), _one_blas_thread():
            warnings.simplefilter("ignore")
            fit = ExponentialSmoothing(s, trend="add", damped_trend=self.damped_trend,
                                       seasonal="mul", seasonal_periods=season).fit()
        self.hw_last_day_ = int(days[-1])
        self.hw_fit_ = fit

    def daily_total(self, days: pd.DatetimeIndex | np.ndarray) -> np.ndarray:
        d = _as_day_numbers(days)
        steps = _open_days_ahead(self.hw_last_day_, d, self.open_weekdays_)
        out = super().daily_total(d)
        ahead = steps >= 1
        if ahead.any():
            path = self.hw_fit_.forecast(int(steps[ahead].max()))
            out[ahead] = np.asarray(path)[steps[ahead] - 1]
        return np.maximum(out, 0.0)


# --------------------------------------------------------------------------- SARIMAX


def _no_events() -> pd.DataFrame:
    from ..event_effects import _clean_events

    return _clean_events(None)


#: name of the regressor for the next open day after a holiday
AFTER_HOLIDAY = "after_holiday"


@register("sarimax")
class SarimaxTopDown(TopDown):
    """Log daily totals by SARIMAX with event regressors, intervals by the pooled profile.

    Why daily: SARIMAX's state space grows with the seasonal period, so on intervals a
    weekly season of 140-336 open intervals (30-minute data) makes each likelihood
    evaluation cost a state vector of hundreds and a fit minutes per queue, where a
    weekly season of 5-7 open days fits in a fraction of a second. Within the day,
    volume follows the pooled weekday profile of :class:`~.topdown.TopDown`, which is
    stable over many weeks.

    Model, on the open days of the last ``fit_weeks`` weeks in order (the season is
    counted in open days; gap-filled, partial and absent days are missing values,
    which the Kalman filter skips)::

        log T(day) = month-position effects + sum_k beta_k * x_k(day) + u(day)
        u ~ SARIMA(order)(seasonal_order, period = open weekdays)

    The month-position regressors are those of :class:`~.topdown.TopDown` (first and
    last open days of the month, two harmonics; ``month_effects``). Events are real
    exogenous regressors: one per event type, ``x_k(day)`` = the sum over the events of
    type ``k`` touching the day of ``weight`` x the share of the day's volume (by the
    profile) falling inside the event, plus an ``after_holiday`` regressor (the weight
    of a holiday on the first open, non-holiday day after it). ``exp(beta_k)`` is the
    lift of a whole-day event of weight 1.

    Forecast: the SARIMA path with the event regressors at zero gives the no-event day
    totals; the future events passed to ``predict`` give the regressor values of their
    days and scale them by ``exp(beta_k * x_k)``, the extra volume going to the
    intervals inside the event (an outage of two hours lifts those two hours, not the
    whole day). As with the ``EventAdjusted`` wrapper the other models get: holidays
    on which the queue was closed in history (no observed contact) are forecast at
    zero; event types seen in history but never on a usable day (closed or gap-filled)
    have no effect; types the history never showed get the prior effects of
    :data:`forecast.event_effects.PRIOR_EFFECTS`.

    A fit costs ~0.1-0.5 s, too much to refit at sixteen calibration origins
    (``cheap = False``): intervals come from the in-sample one-day-ahead errors of the
    Kalman filter (inflated, see :meth:`Forecaster._calibrate`).

    Parameters
    ----------
    order
        Non-seasonal ``(p, d, q)``.
    seasonal_order
        Seasonal ``(P, D, Q)``; the period is the number of open weekdays.
    fit_weeks
        Weeks of daily totals the model sees (also the window of the weekday-effect
        fallback used for days the SARIMA path does not cover).
    month_effects
        Month-position regressors (False: events only).
    maxiter
        Iterations of the likelihood optimiser (L-BFGS).
    """

    storable = False  # refitted from the data on every run

    cheap = False
    handles_events = True
    param_names = ("order", "seasonal_order", "fit_weeks", "month_effects", "maxiter")

    def __init__(self, order: Sequence[int] = (1, 0, 1),
                 seasonal_order: Sequence[int] = (0, 1, 1), fit_weeks: int = 52,
                 month_effects: bool = True, maxiter: int = 50, **kwargs: Any) -> None:
        super().__init__(fit_weeks=fit_weeks, month_effects=month_effects, **kwargs)
        self.order = tuple(int(v) for v in order)
        self.seasonal_order = tuple(int(v) for v in seasonal_order)
        self.maxiter = maxiter

    @classmethod
    def uses_grid(cls) -> bool:
        return False  # events are needed at fit time, which the grid path does not pass

    # ------------------------------------------------------------------ fitting
    def _fit(self, hist: pd.DataFrame, events: pd.DataFrame | None = None) -> None:
        from ..event_effects import _clean_events, _ns

        if len(self.order) != 3 or len(self.seasonal_order) != 3:
            raise ModelError("sarimax order and seasonal_order must be three integers each, "
                             f"got {self.order} and {self.seasonal_order}")
        grid = DayGrid.from_history(hist)
        ev = _clean_events(events)
        ev = ev[ev["weight"] > 0]
        stamps = _ns(hist["ds"])
        # event types the history has seen (as learn_event_effects counts them)
        within = (_ns(ev["end"]) > stamps.min()) & (_ns(ev["start"]) <= stamps.max())
        self._events = ev  # read by _fit_daily; not part of the state
        self._seen_types = sorted(set(ev.loc[within, "type"]))
        try:
            self._fit_grid(grid)
            self.closed_holidays_ = self._closed_holidays(grid, ev)
        finally:
            del self._events, self._seen_types

    def _fit_daily(self, days: np.ndarray, total: np.ndarray, complete: np.ndarray,
                   weekday: np.ndarray) -> None:
        from statsmodels.tsa.statespace.sarimax import SARIMAX

        super()._fit_daily(days, total, complete, weekday)  # fallback for unseen weekdays
        season = len(self.open_weekdays_)
        last = int(days[-1])
        cal = _open_days(max(int(days[0]), last - 7 * int(self.fit_weeks) + 1), last,
                         self.open_weekdays_)
        row, found = _rows_of(days, cal)
        endog = np.full(len(cal), np.nan)
        ok = found.copy()
        ok[found] = complete[row[found]]
        endog[ok] = np.log(total[row[ok]])
        finite = np.isfinite(endog)
        need = 3 * season if season >= 2 else 14
        if finite.sum() < need:
            raise ModelError(f"sarimax needs at least three weeks of complete days ({need}), "
                             f"got {int(finite.sum())}")
        names, x_ev = self._regressors(cal, getattr(self, "_events", _no_events()))
        usable = np.abs(x_ev[finite]).sum(axis=0) > 0
        names = [n for n, u in zip(names, usable, strict=True) if u]
        x_month = self._month_features(cal) if self.month_effects else np.zeros((len(cal), 0))
        # month columns that vary over the modelled days (short histories miss some)
        self.month_cols_ = np.ptp(x_month[finite], axis=0) > 0 if x_month.shape[1] else \
            np.zeros(0, bool)
        exog = np.hstack([x_month[:, self.month_cols_], x_ev[:, usable]])
        seasonal = (*self.seasonal_order, season) if season >= 2 else (0, 0, 0, 0)
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"), _one_blas_thread():
                warnings.simplefilter("ignore")
                model = SARIMAX(endog, exog=exog if exog.shape[1] else None, order=self.order,
                                seasonal_order=seasonal, trend="n")
                res = model.fit(disp=False, maxiter=int(self.maxiter))
        except (ValueError, np.linalg.LinAlgError) as exc:
            raise ModelError(f"sarimax could not be fitted: {exc}") from None
        params = np.asarray(res.params, dtype="float64")
        if not np.isfinite(params).all():
            raise ModelError("sarimax fit did not converge to finite parameters")
        k_month = int(self.month_cols_.sum())
        # event types the history saw but could not measure (e.g. only on closed or
        # gap-filled days) have no effect, as in EventAdjusted; unseen types get priors
        seen = set(getattr(self, "_seen_types", ()))
        self.event_coef_ = {str(t): 0.0 for t in seen}
        if "holiday" in seen:
            self.event_coef_[AFTER_HOLIDAY] = 0.0
        self.event_coef_.update({n: float(b) for n, b in zip(
            names, params[k_month:k_month + len(names)], strict=True)})
        month_names = self._month_names() if self.month_effects else ()
        self.exog_names_ = [*(f"month:{n}" for n, keep in zip(
            month_names, self.month_cols_, strict=True) if keep), *names]
        sigma2 = dict(zip(res.model.param_names, params, strict=True)).get("sigma2", 0.0)
        self.sarimax_log_var_ = float(max(sigma2, 0.0))
        self.sarimax_last_day_ = last
        self.sarimax_fit_ = res
        # one-day-ahead in-sample totals (the intervals' calibration); NaN while the
        # filter initialises over the first seasons
        fitted = np.exp(np.asarray(res.fittedvalues, dtype="float64")
                        + 0.5 * self.sarimax_log_var_)
        fitted[:(self.seasonal_order[1] + 1) * season + 2] = np.nan
        self.in_sample_days_ = cal
        self.in_sample_total_ = fitted

    def _closed_holidays(self, grid: DayGrid, ev: pd.DataFrame) -> list[str]:
        """Holidays within the history on which not one contact was observed."""
        from ..event_effects import _last_day_numbers, _ns

        hol = ev[ev["type"] == "holiday"]
        if len(hol) == 0 or len(grid.days) == 0:
            return []
        seen = (grid.observed & (np.nan_to_num(grid.y) > 0)).any(axis=1)
        first_day = _ns(hol["start"]) // NS_PER_DAY
        last_day = _last_day_numbers(hol)
        out = set()
        for name, a, b in zip(hol["name"], first_day, last_day, strict=True):
            cal = _open_days(max(a, grid.days[0]), min(b, grid.days[-1]), self.open_weekdays_)
            if cal.size == 0:
                continue
            row, present = _rows_of(grid.days, cal)
            if not seen[row[present]].any():
                out.add(str(name))
        return sorted(out)

    # ------------------------------------------------------------------ regressors
    def _day_shares(self, days: np.ndarray) -> np.ndarray:
        """Profile share of each (day, profile minute): days x minutes, 0 where closed."""
        return np.nan_to_num(self.profile_table_[weekday_of(days)])

    def _inside(self, days: np.ndarray, start_ns: int, end_ns: int) -> np.ndarray:
        """days x profile minutes: the interval starts inside ``[start, end)``."""
        t = days[:, None] * NS_PER_DAY + self.profile_minutes_[None, :] * NS_PER_MIN
        return (t >= start_ns) & (t < end_ns)

    def _type_exposure(self, days: np.ndarray, ev: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """For events of one type, two arrays over ``days``: the weighted share of each
        day's volume inside them (the regressor) and the share inside any of them."""
        from ..event_effects import _ns

        x = np.zeros(len(days))
        union = np.zeros((len(days), len(self.profile_minutes_)), bool)
        if len(days) == 0 or len(ev) == 0:
            return x, np.zeros(len(days))
        shares = self._day_shares(days)
        for s, e, w in zip(_ns(ev["start"]), _ns(ev["end"]), ev["weight"].to_numpy(float),
                           strict=True):
            rows = np.flatnonzero((days >= s // NS_PER_DAY) & (days <= (e - 1) // NS_PER_DAY))
            if rows.size == 0 or w <= 0:
                continue
            inside = self._inside(days[rows], int(s), int(e))
            x[rows] += w * (shares[rows] * inside).sum(axis=1)
            union[rows] |= inside
        return x, (shares * union).sum(axis=1)

    def _after_holiday(self, days: np.ndarray, ev: pd.DataFrame) -> np.ndarray:
        """Weight of the strongest holiday whose next open, non-holiday day is each day."""
        from ..event_effects import _post_day_numbers

        x = np.zeros(len(days))
        hol = ev[ev["type"] == "holiday"]
        if len(hol) == 0 or len(days) == 0:
            return x
        post = _post_day_numbers(hol, days)
        for d, w in zip(post, hol["weight"].to_numpy(float), strict=True):
            if d >= 0:
                x[days == d] = np.maximum(x[days == d], w)
        return x

    def _regressors(self, days: np.ndarray, ev: pd.DataFrame) -> tuple[list[str], np.ndarray]:
        """Every candidate regressor (one per event type, plus after_holiday) on ``days``."""
        names: list[str] = []
        cols: list[np.ndarray] = []
        for etype, group in ev.groupby("type", sort=True):
            names.append(str(etype))
            cols.append(self._type_exposure(days, group)[0])
        if (ev["type"] == "holiday").any():
            names.append(AFTER_HOLIDAY)
            cols.append(self._after_holiday(days, ev))
        x = np.column_stack(cols) if cols else np.zeros((len(days), 0))
        return names, x

    # ------------------------------------------------------------------ prediction
    def daily_total(self, days: pd.DatetimeIndex | np.ndarray) -> np.ndarray:
        """Forecast total of each given day without event effects (see the class docs).

        Days of the modelled window get the one-day-ahead in-sample prediction (events
        of the history included); earlier days and the first weeks of the window,
        while the filter initialises, get the weekday-effect fallback of
        :class:`~.topdown.TopDown`.
        """
        d = _as_day_numbers(days)
        out = super().daily_total(d)
        pos, hit = _rows_of(self.in_sample_days_, d)
        hit[hit] = np.isfinite(self.in_sample_total_[pos[hit]])
        out[hit] = self.in_sample_total_[pos[hit]]
        last = self.sarimax_last_day_
        steps = _open_days_ahead(last, d, self.open_weekdays_)
        ahead = steps >= 1
        if ahead.any():
            n = int(steps[ahead].max())
            # the open days of the path; event regressors zero (events enter at predict)
            path_days = _open_days(last + 1, last + 7 * (n // len(self.open_weekdays_) + 2),
                                   self.open_weekdays_)[:n]
            exog = np.zeros((n, len(self.exog_names_)))
            k_month = int(self.month_cols_.sum())
            if k_month:
                exog[:, :k_month] = self._month_features(path_days)[:, self.month_cols_]
            with warnings.catch_warnings(), np.errstate(all="ignore"), _one_blas_thread():
                warnings.simplefilter("ignore")
                path = np.asarray(self.sarimax_fit_.forecast(
                    n, exog=exog if exog.shape[1] else None), dtype="float64")
            value = np.exp(path[steps[ahead] - 1] + 0.5 * self.sarimax_log_var_)
            out[ahead] = np.where(np.isfinite(value), value, out[ahead])
        return np.maximum(out, 0.0)

    def _predict_mean(self, horizon: pd.DatetimeIndex, events: pd.DataFrame | None = None
                      ) -> np.ndarray:
        mean = super()._predict_mean(horizon, None)
        if events is None or len(events) == 0 or len(horizon) == 0:
            return mean
        return mean * self.event_multiplier(horizon, events)

    def event_multiplier(self, horizon: pd.DatetimeIndex, events: pd.DataFrame | None
                         ) -> np.ndarray:
        """Multiplier of each horizon interval from the given events (1: no effect)."""
        from ..event_effects import PRIOR_EFFECTS, EventEffects, _clean_events, _ns

        idx = pd.DatetimeIndex(horizon)
        out = np.ones(len(idx))
        ev = _clean_events(events)
        ev = ev[ev["weight"] > 0]
        if len(ev) == 0 or len(idx) == 0:
            return out
        t = _ns(idx)
        day, _ = day_numbers(idx)
        uniq, inv = np.unique(day, return_inverse=True)
        if AFTER_HOLIDAY in self.event_coef_ and (ev["type"] == "holiday").any():
            # post days (closed holidays included) among the open days from the first
            # horizon day on
            cal = _open_days(uniq[0], uniq[-1] + 7, self.open_weekdays_)
            lift = np.exp(self.event_coef_[AFTER_HOLIDAY] * self._after_holiday(cal, ev))
            pos, found = _rows_of(cal, uniq)
            out *= np.where(found, lift[pos], 1.0)[inv]
        closed = ((ev["type"] == "holiday") & ev["name"].isin(self.closed_holidays_)).to_numpy()
        for s, e in zip(_ns(ev.loc[closed, "start"]), _ns(ev.loc[closed, "end"]), strict=True):
            out[(t >= s) & (t < e)] = 0.0
        ev = ev[~closed]
        learned = ev["type"].isin(list(self.event_coef_)).to_numpy()
        for etype, group in ev[learned].groupby("type", sort=True):
            x, share = self._type_exposure(uniq, group)
            lift = np.exp(self.event_coef_[str(etype)] * x)  # the whole day's factor
            inside = np.zeros(len(idx), bool)
            for s, e in zip(_ns(group["start"]), _ns(group["end"]), strict=True):
                inside |= (t >= s) & (t < e)
            with np.errstate(divide="ignore", invalid="ignore"):
                m = np.where(share > 0, 1.0 + (lift - 1.0) / share, 1.0)
            out[inside] *= np.maximum(m[inv[inside]], 0.0)
        unseen = ev[~learned].reset_index(drop=True)
        if len(unseen):
            # types the history never showed: the prior effects, as EventAdjusted applies
            priors = EventEffects()
            if AFTER_HOLIDAY in self.event_coef_:  # the day after is learned already
                priors.effects["holiday"] = dataclasses.replace(PRIOR_EFFECTS["holiday"],
                                                                post_lift=1.0)
            unseen.attrs["_clean_events"] = True
            out *= priors.multiplier(idx, unseen)
        return out


# --------------------------------------------------------------------------- MSTL


@register("mstl")
class MSTLModel(Forecaster):
    """MSTL on the open intervals: daily and weekly seasons plus a smoothed daily level.

    The last ``fit_weeks`` weeks of history are laid out as one series of *open*
    intervals in order: every open day (a weekday seen in at least 30% of the weeks),
    and on it the times of day usually present on that weekday. Closed hours and days
    are absent, so nights and weekends leave no artefacts; gap-filled intervals keep
    their (filled) value and intervals absent from the history get the mean of their
    slot. statsmodels ``MSTL`` splits the series into a daily season (period: the
    open intervals per open day), a weekly season (the open intervals per week), a
    trend and a remainder. When open days differ in length (a short Saturday), a
    daily period in open intervals would drift against the clock from week to week,
    so only the weekly season is used (it holds the daily shape of every weekday).

    Forecast for an interval = the sum of the two seasonal components at the same
    weekday and time of day in the last week of history + the level of its day, from
    exponential smoothing (additive damped trend, or level only) of the daily means of
    the deseasonalised series (trend + remainder). Slots the last week did not have
    fall back to the mean seasonal value of their time of day, then to the level alone.

    Events are not modelled here: like the other models that do not handle events,
    :func:`~.select.build_model` wraps it in ``EventAdjusted`` (fitted on the history
    with event days replaced by their no-event expectation, learned multipliers
    applied to the forecast).

    MSTL costs ~0.3-0.5 s on 16-26 weeks of 30-minute intervals (~12 s on 16 weeks of
    5-minute intervals: lower ``fit_weeks`` there), too much to refit at sixteen
    calibration origins (``cheap = False``): the intervals are calibrated
    in-sample (inflated, see :meth:`Forecaster._calibrate`) from the in-sample seasonal
    components plus each day's level as the smoother forecast it a week of open days
    earlier, so the errors include a week-ahead level error.

    Parameters
    ----------
    fit_weeks
        Weeks of history decomposed (at least two weeks are needed).
    damped_trend
        Smooth the daily level with an additive damped trend (False: level only).
    iterate
        MSTL's iterations of the seasonal estimation.
    """

    storable = False  # refitted from the data on every run

    cheap = False
    param_names = ("fit_weeks", "damped_trend", "iterate")

    def __init__(self, fit_weeks: int = 16, damped_trend: bool = True, iterate: int = 2,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fit_weeks = fit_weeks
        self.damped_trend = damped_trend
        self.iterate = iterate

    # ------------------------------------------------------------------ fitting
    def _fit_grid(self, grid: DayGrid) -> None:
        from statsmodels.tsa.holtwinters import ExponentialSmoothing
        from statsmodels.tsa.seasonal import MSTL

        if len(grid.days) == 0:
            raise ModelError("mstl needs history")
        last = int(grid.days[-1])
        keep = grid.days > last - 7 * int(self.fit_weeks)
        days, y, present = grid.days[keep], grid.y[keep], grid.present[keep]
        wd = weekday_of(days)
        n_weeks = max(1.0, (days[-1] - days[0] + 1) / 7.0)
        per_wd = np.bincount(wd, minlength=7)
        open_wd = [w for w in range(7) if per_wd[w] and per_wd[w] >= 0.3 * n_weeks]
        # the template: times of day present on at least half of a weekday's days
        template = np.zeros((7, len(grid.minutes)), bool)
        for w in open_wd:
            template[w] = present[wd == w].mean(axis=0) >= 0.5
        open_wd = [w for w in open_wd if template[w].any()]
        if not open_wd:
            raise ModelError("mstl found no open intervals in the history")
        counts = template.sum(axis=1)
        weekly = int(counts[open_wd].sum())
        # a daily season exists on open-interval positions only when every open day
        # has the same number of intervals (a short Saturday would shift its phase
        # each week); the weekly season is always aligned
        daily = int(counts[open_wd[0]]) if len(set(counts[open_wd].tolist())) == 1 else 0
        periods = sorted({p for p in (daily, weekly) if p >= 2})
        cal = _open_days(days[0], last, open_wd)
        # the open intervals in order: (day, column) of each position
        cal_wd = weekday_of(cal)
        n_per_day = counts[cal_wd]
        day_start = np.concatenate([[0], np.cumsum(n_per_day)[:-1]]).astype(np.int64)
        n = int(n_per_day.sum())
        if not periods or n < 2 * max(periods):
            need = 2 * max(periods) if periods else 2
            raise ModelError(f"mstl needs at least two weeks of open intervals ({need}), "
                             f"got {n}")
        pos_day = np.repeat(np.arange(len(cal)), n_per_day)
        pos_col = np.concatenate([np.flatnonzero(template[w]) for w in cal_wd])
        row, found = _rows_of(days, cal)
        series = np.full(n, np.nan)
        have = found[pos_day]
        series[have] = y[row[pos_day[have]], pos_col[have]]
        # intervals absent from the history: the mean of their slot in the window
        slot_mean = np.full((7, len(grid.minutes)), np.nan)
        for w in open_wd:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                slot_mean[w] = np.nanmean(y[wd == w], axis=0)
        gap = np.isnan(series)
        if gap.all():
            raise ModelError("mstl found no observed open intervals in the history")
        series[gap] = slot_mean[cal_wd[pos_day[gap]], pos_col[gap]]
        series = np.where(np.isnan(series), np.nanmean(series), series)
        with warnings.catch_warnings(), np.errstate(all="ignore"), _one_blas_thread():
            warnings.simplefilter("ignore")
            res = MSTL(series, periods=periods, iterate=int(self.iterate)).fit()
            seasonal = np.asarray(res.seasonal, dtype="float64").reshape(n, -1).sum(axis=1)
            deseason = series - seasonal
            level = np.bincount(pos_day, deseason, minlength=len(cal)) / n_per_day
            if len(level) >= 10:
                ets = ExponentialSmoothing(level, trend="add" if self.damped_trend else None,
                                           damped_trend=bool(self.damped_trend),
                                           initialization_method="estimated").fit()
            else:
                ets = None
        if not np.isfinite(seasonal).all():
            raise ModelError("mstl decomposition gave non-finite components")
        self.minutes_ = grid.minutes.copy()
        self.open_weekdays_ = open_wd
        self.periods_ = list(periods)
        self.days_ = cal
        self.day_start_ = day_start
        self.slot_index_ = np.where(template, np.cumsum(template, axis=1) - 1, -1)
        self.seasonal_ = seasonal
        # the seasonal value of each slot in the last week of history
        table = np.full((7, len(grid.minutes)), np.nan)
        last_week = np.arange(max(0, n - weekly), n)
        table[cal_wd[pos_day[last_week]], pos_col[last_week]] = seasonal[last_week]
        self.seasonal_table_ = table
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            self.minute_seasonal_ = np.nan_to_num(np.nanmean(table, axis=0))
        self.level_fit_ = ets
        self.level_in_sample_ = self._week_ahead_level(ets, level, len(open_wd))
        self.level_last_ = float(np.mean(level[-5:]))

    @staticmethod
    def _week_ahead_level(ets: Any, level: np.ndarray, h: int) -> np.ndarray:
        """In-sample level of each day as forecast ``h`` open days (a week) before it.

        Used for the intervals (calibrated in-sample): a week-ahead level error is what
        a forecast of the next week faces, a day-ahead one would understate it. NaN for
        the first ``h`` days; without a smoother, the mean level.
        """
        if ets is None:
            return np.full(len(level), float(np.mean(level)))
        lv = np.asarray(ets.level, dtype="float64")
        tr = np.zeros(len(lv)) if getattr(ets, "trend", None) is None else np.nan_to_num(
            np.asarray(ets.trend, dtype="float64"))
        phi = float(ets.params.get("damping_trend", 1.0) or 1.0)
        if not np.isfinite(phi):
            phi = 1.0
        h = max(int(h), 1)
        gain = float(np.sum(phi ** np.arange(1, h + 1)))
        out = np.full(len(level), np.nan)
        if len(level) > h:
            out[h:] = lv[:-h] + gain * tr[:-h]
        return out

    # ------------------------------------------------------------------ prediction
    def _level_path(self, steps: int) -> np.ndarray:
        if steps <= 0:
            return np.zeros(0)
        if self.level_fit_ is None:
            return np.full(steps, self.level_last_)
        with warnings.catch_warnings(), np.errstate(all="ignore"), _one_blas_thread():
            warnings.simplefilter("ignore")
            path = np.asarray(self.level_fit_.forecast(steps), dtype="float64")
        return np.where(np.isfinite(path), path, self.level_last_)

    def _predict_mean(self, horizon: pd.DatetimeIndex, events: pd.DataFrame | None = None
                      ) -> np.ndarray:
        day, minute = day_numbers(horizon)
        wd = weekday_of(day)
        col = np.minimum(np.searchsorted(self.minutes_, minute), len(self.minutes_) - 1)
        col = np.where(self.minutes_[col] == minute, col, -1)
        out = np.full(len(day), np.nan)
        last = int(self.days_[-1])
        # future days: last week's seasonal value of the slot + the day's level
        ahead = day > last
        if ahead.any():
            steps = _open_days_ahead(last, day[ahead], self.open_weekdays_)
            path = self._level_path(max(int(steps.max()), 1))
            # a closed weekday in the horizon takes the level of the open day before it
            level = np.where(steps >= 1, path[np.maximum(steps, 1) - 1], self.level_last_)
            c = col[ahead]
            season = np.where(c >= 0, self.seasonal_table_[wd[ahead], np.maximum(c, 0)], np.nan)
            fallback = np.where(c >= 0, self.minute_seasonal_[np.maximum(c, 0)], 0.0)
            out[ahead] = level + np.where(np.isfinite(season), season, fallback)
        # days of the decomposed window: in-sample seasonal + week-ahead level
        past = ~ahead
        if past.any():
            rr, there = _rows_of(self.days_, day[past])
            c = col[past]
            k = np.where(c >= 0, self.slot_index_[wd[past], np.maximum(c, 0)], -1)
            ok = there & (k >= 0)
            vals = np.full(int(past.sum()), np.nan)
            vals[ok] = (self.seasonal_[self.day_start_[rr[ok]] + k[ok]]
                        + self.level_in_sample_[rr[ok]])
            out[past] = vals  # before the window: NaN (not forecast; 0 from predict)
        return out
