"""Top-down forecaster: a forecast of each day's total times a pooled intraday profile.

Day totals are far less noisy than single intervals, and the share of a day's
contacts falling in each interval is stable over many weeks, so estimating the two
separately (the profile pooled over many weeks) beats averaging each slot over a few
weeks (Taylor 2008; Weinberg, Brown & Stroud 2007).

Day total, on the log scale::

    log T(day) = weekday effect + month-position effect + level

* weekday and month-position effects: weighted ridge regression on the complete days
  of the last ``fit_weeks`` weeks (weights halve every ``halflife_weeks``); month
  position is the first three and last two *open* days of the month (pay days,
  statements, direct debits make them busy in many centres);
* level: exponentially weighted mean of the recent deseasonalised days (half-life
  ``level_halflife_days`` open days), held flat over the horizon.

Intraday profile: for each weekday, each interval's share of the day, weighted over
the last ``profile_weeks`` weeks and shrunk towards the profile of all weekdays with
the same opening hours (``profile_pool`` pseudo-days).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ModelError
from .base import Forecaster, minute_of_day, register

__all__ = ["TopDown", "month_position_features", "MONTH_POSITIONS"]

MONTH_POSITIONS = ("first_1", "first_2", "first_3", "last_1", "last_2", "month_sin1",
                   "month_cos1", "month_sin2", "month_cos2")


def month_position_features(days: pd.DatetimeIndex, open_weekdays: set[int]) -> np.ndarray:
    """Indicators of the first three and last two open days of each day's month.

    Open days are all dates whose weekday is in ``open_weekdays`` (public holidays
    are left to the event model), counted with ``numpy.busday_count``. Columns, in the
    order of :data:`MONTH_POSITIONS`: five 0/1 indicators, then two harmonics of the
    position in the month (a smooth within-month cycle).
    """
    days = pd.DatetimeIndex(days).normalize()
    out = np.zeros((len(days), len(MONTH_POSITIONS)))
    if len(days) == 0:
        return out
    d = days.to_numpy().astype("datetime64[D]")
    if open_weekdays:
        mask = [i in open_weekdays for i in range(7)]
        month_start = d.astype("datetime64[M]").astype("datetime64[D]")
        next_month = (d.astype("datetime64[M]") + 1).astype("datetime64[D]")
        is_open = np.is_busday(d, weekmask=mask)
        first = np.where(is_open, np.busday_count(month_start, d, weekmask=mask), -1)
        last = np.where(is_open, np.busday_count(d + 1, next_month, weekmask=mask), -1)
    else:
        first = last = np.full(len(d), -1)
    for j in range(3):
        out[:, j] = first == j
    for j in range(2):
        out[:, 3 + j] = last == j
    # smooth within-month cycle: position in the month as an angle, two harmonics
    n_month = days.days_in_month.to_numpy()
    angle = 2 * np.pi * (days.day.to_numpy() - 1) / n_month
    out[:, 5] = np.sin(angle)
    out[:, 6] = np.cos(angle)
    out[:, 7] = np.sin(2 * angle)
    out[:, 8] = np.cos(2 * angle)
    return out


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
        Half-life, in open days, of the exponentially weighted level.
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
    """

    param_names = ("fit_weeks", "halflife_weeks", "level_halflife_days", "profile_weeks",
                   "profile_halflife_weeks", "profile_pool", "month_effects", "ridge")

    def __init__(self, fit_weeks: int = 30, halflife_weeks: float = 52.0,
                 level_halflife_days: float = 20.0, profile_weeks: int = 16,
                 profile_halflife_weeks: float = 8.0, profile_pool: float = 3.0,
                 month_effects: bool = True, ridge: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fit_weeks = fit_weeks
        self.halflife_weeks = halflife_weeks
        self.level_halflife_days = level_halflife_days
        self.profile_weeks = profile_weeks
        self.profile_halflife_weeks = profile_halflife_weeks
        self.profile_pool = profile_pool
        self.month_effects = month_effects
        self.ridge = ridge

    # ------------------------------------------------------------------ fitting
    def _fit(self, hist: pd.DataFrame, events=None) -> None:
        day = hist["ds"].dt.normalize()
        minute = minute_of_day(hist["ds"])
        frame = pd.DataFrame({"day": day.to_numpy(), "minute": minute,
                              "y": hist["y"].to_numpy(), "filled": hist["filled"].to_numpy()})
        days = frame.groupby("day").agg(total=("y", "sum"), n=("y", "size"),
                                        filled=("filled", "any"))
        days["weekday"] = days.index.day_of_week
        # a complete day has the usual number of intervals for its weekday and no filled rows
        usual_n = days.groupby("weekday")["n"].transform("max")
        days["complete"] = (~days["filled"]) & (days["n"] >= 0.9 * usual_n) & (days["total"] > 0)
        if not days["complete"].any():
            raise ModelError("topdown needs at least one complete day of history")
        presence = days.groupby("weekday").size()
        n_weeks = max(1.0, (days.index.max() - days.index.min()).days / 7.0)
        self.open_weekdays_ = sorted(int(w) for w in presence.index
                                     if presence[w] >= 0.3 * n_weeks)
        self._fit_profile(frame, days)
        self._fit_daily(days)

    def _fit_profile(self, frame: pd.DataFrame, days: pd.DataFrame) -> None:
        last_day = days.index.max()
        good = days.index[days["complete"] & (days.index > last_day - pd.Timedelta(
            weeks=self.profile_weeks))]
        if len(good) == 0:
            good = days.index[days["complete"]]
        sub = frame[frame["day"].isin(good)]
        day = pd.DatetimeIndex(sub["day"])
        age_w = (last_day - day).days.to_numpy() / 7.0
        wy = sub["y"].to_numpy() * 0.5 ** (age_w / float(self.profile_halflife_weeks))
        weekday = day.day_of_week.to_numpy()
        # weighted contacts per (weekday, minute); a weekday's shares divide by its total
        num = pd.Series(wy).groupby([weekday, sub["minute"].to_numpy()]).sum().unstack()
        n_days = pd.Series(good.day_of_week).value_counts().reindex(num.index).to_numpy(float)
        mat = num.to_numpy()  # weekdays x minutes, NaN where the weekday has no such slot
        share = mat / np.nansum(mat, axis=1, keepdims=True)
        # pool weekdays with identical opening hours
        signature = [tuple(np.isfinite(r)) for r in mat]
        pooled = np.empty_like(share)
        for sig in set(signature):
            rows = [i for i, t in enumerate(signature) if t == sig]
            total = np.nansum(mat[rows], axis=0)
            pooled[rows] = total / np.nansum(total)
        k = float(self.profile_pool)
        mixed = (n_days[:, None] * share + k * pooled) / (n_days[:, None] + k)
        mixed = mixed / np.nansum(mixed, axis=1, keepdims=True)
        prof = pd.DataFrame(mixed, index=num.index, columns=num.columns).stack().dropna()
        prof.index = prof.index.set_names(["weekday", "minute"])
        self.profile_ = prof.astype("float64").sort_index()
        # fallback for weekdays never seen: average share per minute over seen weekdays
        self.minute_share_ = self.profile_.groupby(level=1).mean()

    def _fit_daily(self, days: pd.DataFrame) -> None:
        last_day = days.index.max()
        use = days[days["complete"] & (days.index > last_day - pd.Timedelta(weeks=self.fit_weeks))]
        if len(use) < 3:
            use = days[days["complete"]]
        logt = np.log(use["total"].to_numpy())
        age_w = (last_day - use.index).days.to_numpy() / 7.0
        w = 0.5 ** (age_w / float(self.halflife_weeks))
        weekdays = sorted(int(x) for x in use["weekday"].unique())
        X_wd = (use["weekday"].to_numpy()[:, None] == np.array(weekdays)[None, :]).astype(float)
        if self.month_effects:
            X_cal = month_position_features(use.index, set(self.open_weekdays_))
        else:
            X_cal = np.zeros((len(use), 0))
        X = np.hstack([X_wd, X_cal])
        penalty = np.concatenate([np.zeros(len(weekdays)),
                                  np.full(X_cal.shape[1], float(self.ridge))])
        A = X.T @ (w[:, None] * X) + np.diag(penalty)
        coef = np.linalg.solve(A + 1e-9 * np.eye(len(A)), X.T @ (w * logt))
        self.weekday_effect_ = dict(zip(weekdays, coef[: len(weekdays)].tolist(), strict=True))
        self.month_effect_ = dict(zip(MONTH_POSITIONS, coef[len(weekdays):].tolist(),
                                      strict=False)) if self.month_effects else {}
        # level: exponentially weighted mean of the deseasonalised recent days
        resid = logt - X @ coef
        order = np.argsort(use.index.to_numpy())
        resid = resid[order]
        pos = np.arange(len(resid))[::-1]  # 0 = most recent day
        lw = 0.5 ** (pos / float(self.level_halflife_days))
        self.level_ = float(np.sum(lw * resid) / np.sum(lw))
        # log-normal bias: E[T] = exp(mu + s^2/2) with s the spread of day residuals
        spread = resid - self.level_
        self.log_var_ = float(np.sum(lw * spread**2) / np.sum(lw)) if len(resid) > 5 else 0.0

    # ------------------------------------------------------------------ prediction
    def daily_total(self, days: pd.DatetimeIndex) -> np.ndarray:
        """Forecast total contacts of each given day (whole opening hours)."""
        days = pd.DatetimeIndex(days).normalize()
        wd = days.day_of_week.to_numpy()
        mean_wd = float(np.mean(list(self.weekday_effect_.values())))
        eff = np.array([self.weekday_effect_.get(int(d), mean_wd) for d in wd])
        if self.month_effect_:
            cal = month_position_features(days, set(self.open_weekdays_))
            eff = eff + cal @ np.array([self.month_effect_[k] for k in MONTH_POSITIONS])
        return np.exp(eff + self.level_ + 0.5 * self.log_var_)

    def _predict_mean(self, horizon: pd.DatetimeIndex, events=None) -> np.ndarray:
        days = horizon.normalize()
        uniq = days.unique()
        totals = self.daily_total(uniq)[uniq.get_indexer(days)]
        wd = horizon.day_of_week.to_numpy()
        minute = minute_of_day(horizon)
        idx = pd.MultiIndex.from_arrays([wd, minute])
        share = self.profile_.reindex(idx).to_numpy(dtype="float64", na_value=np.nan)
        miss = np.isnan(share)
        if miss.any():
            share[miss] = self.minute_share_.reindex(minute[miss]).to_numpy(
                dtype="float64", na_value=np.nan)
            share[np.isnan(share)] = 0.0
        return totals * share

    # ------------------------------------------------------------------ persistence
    def _get_state(self) -> dict[str, Any]:
        return {
            "open_weekdays": self.open_weekdays_,
            "weekday_effect": {str(k): v for k, v in self.weekday_effect_.items()},
            "month_effect": self.month_effect_,
            "level": self.level_,
            "log_var": self.log_var_,
            "profile": {"weekday": self.profile_.index.get_level_values(0).tolist(),
                        "minute": self.profile_.index.get_level_values(1).tolist(),
                        "share": self.profile_.to_numpy().tolist()},
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        self.open_weekdays_ = [int(x) for x in state["open_weekdays"]]
        self.weekday_effect_ = {int(k): float(v) for k, v in state["weekday_effect"].items()}
        self.month_effect_ = {k: float(v) for k, v in state["month_effect"].items()}
        self.level_ = float(state["level"])
        self.log_var_ = float(state["log_var"])
        p = state["profile"]
        self.profile_ = pd.Series(np.asarray(p["share"], dtype="float64"),
                                  index=pd.MultiIndex.from_arrays(
                                      [np.asarray(p["weekday"], dtype=np.int64),
                                       np.asarray(p["minute"], dtype=np.int64)],
                                      names=["weekday", "minute"]))
        self.minute_share_ = self.profile_.groupby(level=1).mean()
