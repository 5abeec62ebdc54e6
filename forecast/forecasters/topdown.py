"""Top-down forecaster: a forecast of each day's total times a pooled intraday profile.

Day totals are far less noisy than single intervals, and the share of a day's
contacts falling in each interval is stable over many weeks, so estimating the two
separately (the profile pooled over many weeks) beats averaging each slot over a few
weeks (Taylor 2008; Weinberg, Brown & Stroud 2007).

Day total, on the log scale::

    log T(day) = weekday effect + month-position effect + level

* weekday and month-position effects: weighted ridge regression on the complete days
  of the last ``fit_weeks`` weeks (weights halve every ``halflife_weeks``); month
  position is the first ``month_first_days`` and last ``month_last_days`` *open* days
  of the month (pay days, statements, direct debits make them busy in many centres)
  plus two harmonics of the day of the month;
* level: exponentially weighted mean of the recent deseasonalised days (half-life
  ``level_halflife_days`` open days), held flat over the horizon.

Intraday profile: for each weekday, each interval's share of the day, weighted over
the last ``profile_weeks`` weeks and shrunk towards the profile of all weekdays with
the same opening hours (``profile_pool`` pseudo-days).

All of it is computed on the :class:`~.daygrid.DayGrid` (days x minutes) with numpy,
so refitting at many origins (calibration, backtests) is cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ModelError
from .base import Forecaster, register
from .daygrid import DayGrid, weekday_of

__all__ = ["TopDown", "month_position_features", "month_position_names", "MONTH_POSITIONS"]

HARMONICS = ("month_sin1", "month_cos1", "month_sin2", "month_cos2")


def month_position_names(first_days: int = 3, last_days: int = 2) -> tuple[str, ...]:
    """Column names of :func:`month_position_features`."""
    return (*(f"first_{j + 1}" for j in range(first_days)),
            *(f"last_{j + 1}" for j in range(last_days)), *HARMONICS)


MONTH_POSITIONS = month_position_names()


def _as_day_numbers(days: pd.DatetimeIndex | np.ndarray) -> np.ndarray:
    arr = np.asarray(days)
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.int64)
    return pd.DatetimeIndex(days).normalize().to_numpy().astype("datetime64[D]").astype(np.int64)


def month_position_features(days: pd.DatetimeIndex | np.ndarray, open_weekdays: set[int],
                            first_days: int = 3, last_days: int = 2) -> np.ndarray:
    """Indicators of the first and last open days of each day's month, plus harmonics.

    Open days are all dates whose weekday is in ``open_weekdays`` (public holidays
    are left to the event model), counted with ``numpy.busday_count``. Columns, in the
    order of :func:`month_position_names`: ``first_days`` then ``last_days`` 0/1
    indicators, then two harmonics of the position in the month (a smooth
    within-month cycle).

    Parameters
    ----------
    days
        Dates (DatetimeIndex) or day numbers since 1970-01-01.
    """
    d = _as_day_numbers(days).astype("datetime64[D]")
    n_ind = first_days + last_days
    out = np.zeros((len(d), n_ind + len(HARMONICS)))
    if len(d) == 0:
        return out
    month_start = d.astype("datetime64[M]").astype("datetime64[D]")
    next_month = (d.astype("datetime64[M]") + 1).astype("datetime64[D]")
    if open_weekdays:
        mask = [i in open_weekdays for i in range(7)]
        is_open = np.is_busday(d, weekmask=mask)
        first = np.where(is_open, np.busday_count(month_start, d, weekmask=mask), -1)
        last = np.where(is_open, np.busday_count(d + 1, next_month, weekmask=mask), -1)
        for j in range(first_days):
            out[:, j] = first == j
        for j in range(last_days):
            out[:, first_days + j] = last == j
    dom = (d - month_start).astype(np.int64)
    n_month = (next_month - month_start).astype(np.int64)
    angle = 2 * np.pi * dom / n_month
    out[:, n_ind] = np.sin(angle)
    out[:, n_ind + 1] = np.cos(angle)
    out[:, n_ind + 2] = np.sin(2 * angle)
    out[:, n_ind + 3] = np.cos(2 * angle)
    return out


#: half-lives (open days) tried by ``level_halflife_days="auto"``
LEVEL_HALFLIVES = (1.5, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0, 40.0)


def choose_level_halflife(resid: np.ndarray, halflives: tuple[float, ...] = LEVEL_HALFLIVES,
                          lead_days: int = 10, origins: int = 60) -> float:
    """Half-life of the exponentially weighted level that forecast best in the past.

    At each of the last ``origins`` days, the level from each half-life (weighted
    mean of the residuals before that day) forecasts the next ``lead_days`` residuals;
    the half-life with the lowest mean absolute error wins (ties: the longer one).

    Parameters
    ----------
    resid
        Deseasonalised log day totals, oldest first (complete days only).
    """
    r = np.asarray(resid, float)
    n = r.size
    first = max(10, n - origins)
    if n - first < 5:
        return 20.0
    from scipy.signal import lfilter

    decay = 0.5 ** (1.0 / np.asarray(halflives, float))
    # level[i, h]: weighted mean of the residuals before day i (recursions by lfilter)
    level = np.zeros((n, len(decay)))
    for j, a in enumerate(decay):
        s = lfilter([1.0], [1.0, -a], r)
        w = lfilter([1.0], [1.0, -a], np.ones(n))
        level[1:, j] = s[:-1] / w[:-1]
    starts = np.arange(first, n)
    idx = starts[:, None] + np.arange(lead_days)[None, :]
    valid = idx < n
    ahead = r[np.minimum(idx, n - 1)]  # origins x leads
    dev = np.abs(ahead[:, :, None] - level[starts][:, None, :])  # origins x leads x halflives
    per_origin = (dev * valid[:, :, None]).sum(axis=1) / valid.sum(axis=1)[:, None]
    err = per_origin.sum(axis=0)
    best = np.flatnonzero(err <= err.min() * (1 + 1e-9))
    return float(np.asarray(halflives)[best[-1]])


@register("topdown")
class TopDown(Forecaster):
    """Daily total x intraday profile (see the module docstring).

    Parameters
    ----------
    fit_weeks
        Weeks of complete days used for the weekday and month-position effects.
    halflife_weeks
        Half-life of the regression weights, in weeks.
    level_halflife_days
        Half-life, in open days, of the exponentially weighted level; ``"auto"``:
        chosen per queue from :data:`LEVEL_HALFLIVES` by how well each would have
        forecast the last ``level_tune_days``-day stretches (see
        :func:`choose_level_halflife`).
    level_tune_days
        Open days ahead scored when choosing the level half-life.
    profile_weeks
        Weeks pooled for the intraday profile.
    profile_halflife_weeks
        Half-life of the profile weights, in weeks.
    profile_pool
        Strength (in pseudo-days) of the shrinkage of each weekday's profile towards
        the profile of all weekdays with the same opening hours.
    month_effects
        Learn the month-position effects (False: weekday and level only).
    ridge
        Ridge penalty on the month-position coefficients (in weighted days).
    month_first_days, month_last_days
        How many open days at the start and at the end of the month get their own
        effect.
    """

    param_names = ("fit_weeks", "halflife_weeks", "level_halflife_days", "profile_weeks",
                   "profile_halflife_weeks", "profile_pool", "month_effects", "ridge",
                   "month_first_days", "month_last_days", "level_tune_days")

    def __init__(self, fit_weeks: int = 30, halflife_weeks: float = 52.0,
                 level_halflife_days: float | str = "auto", profile_weeks: int = 16,
                 profile_halflife_weeks: float = 8.0, profile_pool: float = 3.0,
                 month_effects: bool = True, ridge: float = 1.0, month_first_days: int = 3,
                 month_last_days: int = 2, level_tune_days: int = 10,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fit_weeks = fit_weeks
        self.halflife_weeks = halflife_weeks
        self.level_halflife_days = level_halflife_days
        self.profile_weeks = profile_weeks
        self.profile_halflife_weeks = profile_halflife_weeks
        self.profile_pool = profile_pool
        self.month_effects = month_effects
        self.ridge = ridge
        self.month_first_days = month_first_days
        self.month_last_days = month_last_days
        self.level_tune_days = level_tune_days

    # ------------------------------------------------------------------ fitting
    def _fit(self, hist: pd.DataFrame, events=None) -> None:
        self._fit_grid(DayGrid.from_history(hist))

    def _fit_grid(self, grid: DayGrid) -> None:
        """Fit on a day grid (the fast path used by calibration and backtests)."""
        present = grid.present
        total = np.nansum(grid.y, axis=1)
        n = present.sum(axis=1)
        weekday = grid.weekday
        filled_day = grid.filled.any(axis=1)
        usual_n = np.zeros(7)
        np.maximum.at(usual_n, weekday, n)
        # a complete day has the usual number of intervals for its weekday, no filled rows
        complete = ~filled_day & (n >= 0.9 * usual_n[weekday]) & (total > 0)
        if not complete.any():
            raise ModelError("topdown needs at least one complete day of history")
        presence = np.bincount(weekday, minlength=7)
        n_weeks = max(1.0, (grid.days[-1] - grid.days[0]) / 7.0)
        self.open_weekdays_ = [w for w in range(7) if presence[w] and presence[w] >= 0.3 * n_weeks]
        self._fit_profile(grid, complete, weekday)
        self._fit_daily(grid.days, total, complete, weekday)

    def _fit_profile(self, grid: DayGrid, complete: np.ndarray, weekday: np.ndarray) -> None:
        last_day = grid.days[-1]
        good = complete & (grid.days > last_day - 7 * self.profile_weeks)
        if not good.any():
            good = complete
        age_w = (last_day - grid.days[good]) / 7.0
        w = 0.5 ** (age_w / float(self.profile_halflife_weeks))
        y = grid.y[good]
        wd = weekday[good]
        onehot = (wd[:, None] == np.arange(7)[None, :]).astype(float)  # days x 7
        num = (onehot * w[:, None]).T @ np.nan_to_num(y)  # 7 x minutes
        has = (onehot.T @ (~np.isnan(y)).astype(float)) > 0
        n_days = onehot.sum(axis=0)
        mat = np.where(has, num, np.nan)
        seen = n_days > 0
        row_sum = np.nansum(mat, axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = mat / row_sum
        # pool weekdays with identical opening hours
        pooled = np.full_like(share, np.nan)
        signatures: dict[bytes, list[int]] = {}
        for i in np.flatnonzero(seen):
            signatures.setdefault(has[i].tobytes(), []).append(int(i))
        for rows in signatures.values():
            tot = np.nansum(mat[rows], axis=0)
            pooled[rows] = np.where(has[rows[0]], tot / np.sum(tot[has[rows[0]]]), np.nan)
        k = float(self.profile_pool)
        mixed = (n_days[:, None] * share + k * pooled) / (n_days[:, None] + k)
        with np.errstate(invalid="ignore", divide="ignore"):
            mixed = mixed / np.nansum(mixed, axis=1, keepdims=True)
        mixed[~seen] = np.nan
        self._set_profile(grid.minutes, mixed)

    def _set_profile(self, minutes: np.ndarray, table: np.ndarray) -> None:
        """Store the (7 x minutes) share table and the per-minute fallback."""
        self.profile_minutes_ = np.asarray(minutes, dtype=np.int64)
        self.profile_table_ = np.asarray(table, dtype="float64")
        with np.errstate(invalid="ignore"):
            counts = np.sum(np.isfinite(table), axis=0)
            self.minute_share_ = np.where(counts > 0, np.nansum(table, axis=0)
                                          / np.maximum(counts, 1), 0.0)

    def _month_names(self) -> tuple[str, ...]:
        return month_position_names(int(self.month_first_days), int(self.month_last_days))

    def _month_features(self, days: np.ndarray) -> np.ndarray:
        return month_position_features(days, set(self.open_weekdays_),
                                       int(self.month_first_days), int(self.month_last_days))

    def _fit_daily(self, days: np.ndarray, total: np.ndarray, complete: np.ndarray,
                   weekday: np.ndarray) -> None:
        last_day = days[-1]
        use = complete & (days > last_day - 7 * self.fit_weeks)
        if use.sum() < 3:
            use = complete
        d, wd = days[use], weekday[use]
        logt = np.log(total[use])
        w = 0.5 ** ((last_day - d) / 7.0 / float(self.halflife_weeks))
        weekdays = np.unique(wd)
        X_wd = (wd[:, None] == weekdays[None, :]).astype(float)
        X_cal = self._month_features(d) if self.month_effects else np.zeros((len(d), 0))
        X = np.hstack([X_wd, X_cal])
        penalty = np.concatenate([np.zeros(len(weekdays)),
                                  np.full(X_cal.shape[1], float(self.ridge))])
        A = X.T @ (w[:, None] * X) + np.diag(penalty)
        coef = np.linalg.solve(A + 1e-9 * np.eye(len(A)), X.T @ (w * logt))
        self.weekday_effect_ = {int(k): float(v) for k, v in zip(weekdays, coef[:len(weekdays)],
                                                                  strict=True)}
        self.month_effect_ = ({k: float(v) for k, v in zip(self._month_names(),
                                                           coef[len(weekdays):], strict=True)}
                              if self.month_effects else {})
        # level: exponentially weighted mean of the deseasonalised recent days
        resid = logt - X @ coef
        halflife = self.level_halflife_days
        if halflife == "auto":
            halflife = choose_level_halflife(resid, LEVEL_HALFLIVES, int(self.level_tune_days))
        self.level_halflife_ = float(halflife)
        pos = np.arange(len(resid))[::-1]  # 0 = most recent day (days are ascending)
        lw = 0.5 ** (pos / self.level_halflife_)
        self.level_ = float(np.sum(lw * resid) / np.sum(lw))
        # log-normal bias: E[T] = exp(mu + s^2/2) with s the spread of day residuals
        spread = resid - self.level_
        self.log_var_ = float(np.sum(lw * spread**2) / np.sum(lw)) if len(resid) > 5 else 0.0

    # ------------------------------------------------------------------ prediction
    def daily_total(self, days: pd.DatetimeIndex | np.ndarray) -> np.ndarray:
        """Forecast total contacts of each given day (whole opening hours).

        ``days`` are dates or day numbers since 1970-01-01.
        """
        d = _as_day_numbers(days)
        wd = weekday_of(d)
        mean_wd = float(np.mean(list(self.weekday_effect_.values())))
        table = np.full(7, mean_wd)
        for k, v in self.weekday_effect_.items():
            table[int(k)] = v
        eff = table[wd]
        if self.month_effect_:
            coef = np.array([self.month_effect_[k] for k in self._month_names()])
            eff = eff + self._month_features(d) @ coef
        return np.exp(eff + self.level_ + 0.5 * self.log_var_)

    def profile_share(self, horizon: pd.DatetimeIndex) -> np.ndarray:
        """Share of its day's total that each horizon interval receives."""
        grid = DayGrid(np.zeros(0, np.int64), self.profile_minutes_, np.zeros((0, 0)),
                       np.zeros((0, 0), bool))
        _, wd, col = grid.cells(horizon)
        ok = col >= 0
        share = np.zeros(len(col))
        share[ok] = self.profile_table_[wd[ok], col[ok]]
        miss = ok & np.isnan(share)
        share[miss] = self.minute_share_[col[miss]]
        return np.nan_to_num(share)

    def _predict_mean(self, horizon: pd.DatetimeIndex, events=None) -> np.ndarray:
        day = _as_day_numbers(horizon.normalize()) if len(horizon) else np.zeros(0, np.int64)
        uniq, inv = np.unique(day, return_inverse=True)
        totals = self.daily_total(uniq)[inv]
        return totals * self.profile_share(horizon)

    # ------------------------------------------------------------------ persistence
    def _get_state(self) -> dict[str, Any]:
        wd, col = np.nonzero(np.isfinite(self.profile_table_))
        return {
            "open_weekdays": self.open_weekdays_,
            "weekday_effect": {str(k): v for k, v in self.weekday_effect_.items()},
            "month_effect": self.month_effect_,
            "level": self.level_,
            "log_var": self.log_var_,
            "level_halflife": self.level_halflife_,
            "profile": {"weekday": wd.tolist(),
                        "minute": self.profile_minutes_[col].tolist(),
                        "share": self.profile_table_[wd, col].tolist()},
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.open_weekdays_ = [int(x) for x in state["open_weekdays"]]
        self.weekday_effect_ = {int(k): float(v) for k, v in state["weekday_effect"].items()}
        self.month_effect_ = {k: float(v) for k, v in state["month_effect"].items()}
        self.level_ = float(state["level"])
        self.log_var_ = float(state["log_var"])
        self.level_halflife_ = float(state.get("level_halflife", self.level_halflife_days))
        p = state["profile"]
        wd = np.asarray(p["weekday"], dtype=np.int64)
        minute = np.asarray(p["minute"], dtype=np.int64)
        minutes, col = np.unique(minute, return_inverse=True)
        table = np.full((7, len(minutes)), np.nan)
        table[wd, col] = np.asarray(p["share"], dtype="float64")
        self._set_profile(minutes, table)
