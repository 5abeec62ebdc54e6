"""Learned multi-day lifts after an event (candidate for ``forecast/event_effects.py``).

Status: Rejected on 2026-11-30: passes on both bank sets, 0.0021 worse on technion_confirm.
Reproduce (see README.md here): ``forecast_decide.py --candidate post_holiday_days.py:make``
(benchmarks/RESULTS.md, "Changes judged by the decision rule").

Today's model lifts only the *first* open non-holiday day after an event
(``TypeEffect.post_lift``). Here the first ``K`` open non-holiday days after an event
are lifted, the ``k``-th (``k = 1..K``) by

    post(k) = 1 + (post_lift - 1) * post_decay ** (k - 1)

``post_lift`` is learned exactly as today (day 1, shrunk towards 1), and the geometric
decay ``post_decay`` (0 = only day 1, as today; 1 = flat over the K days) is fitted on
days 2..K of past events by the same Poisson-weighted least squares used for the
in-event lift, on a grid over [0, 1]. All K days are masked when the no-event
expectation is computed, and cleaned (replaced by that expectation) in the history the
base model is fitted on -- except for an event type whose decay fits 0: its later days
are not lifted, so they are treated as ordinary days and the type's effects are exactly
today's (see :func:`learn_multiday_effects`).

Optionally (``lead_in=True``) the post days of an event that ended just before the
horizon are found too: the open days between the event and the horizon are filled in
from the weekdays the queue was open on in the last weeks of the history, so a
Friday holiday still lifts the Monday that starts next week's horizon.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from forecast.event_effects import (
    FLAT_TYPES,
    PRIOR_EFFECTS,
    EventAdjusted,
    EventEffects,
    TypeEffect,
    _clean_events,
    _fit_decay,
    _last_day_numbers,
    _ns,
    local_expected,
)
from forecast.forecasters.base import (
    DEFAULT_QUANTILES,
    as_horizon,
    prepare_history,
    quantile_column,
)
from forecast.forecasters.daygrid import NS_PER_DAY, weekday_of

#: decay ratios tried for ``post_decay``
POST_DECAY_GRID = tuple(np.round(np.linspace(0.0, 1.0, 21), 2))
#: days before the horizon start searched for an event's post days (``lead_in``)
LEAD_IN_DAYS = 14


@dataclass(frozen=True)
class MultiDayEffect(TypeEffect):
    """:class:`TypeEffect` plus the day-to-day decay of the after-event lift."""

    post_decay: float = 0.0

    def post(self, k: int) -> float:
        """Multiplier on the ``k``-th open non-holiday day after the event (k >= 1)."""
        return 1.0 + (self.post_lift - 1.0) * self.post_decay ** (k - 1)


def _as_multiday(eff: TypeEffect) -> MultiDayEffect:
    if isinstance(eff, MultiDayEffect):
        return eff
    return MultiDayEffect(eff.type, eff.lift, eff.decay_s, eff.post_lift, eff.n_events,
                          eff.n_post, eff.source)


# --------------------------------------------------------------------------- post days


#: post days per event: a number for all events, or a function of the event type
PostDays = int | Callable[[str], int]


def _days_per_event(ev: pd.DataFrame, n_days: PostDays) -> np.ndarray:
    if callable(n_days):
        return np.array([int(n_days(t)) for t in ev["type"]], dtype=np.int64)
    return np.full(len(ev), int(n_days), dtype=np.int64)


def post_day_numbers(ev: pd.DataFrame, days_with_rows: np.ndarray, n_days: PostDays
                     ) -> np.ndarray:
    """For each event, its first ``n_days`` days with rows after its last day that are
    not holidays (day numbers, shape ``(len(ev), max n_days)``; -1 where there is none).

    As today for day 1: the first such day must be within four days of the event, and
    the day after the event not before the first of ``days_with_rows``. Day ``k`` must
    be within ``4 + (k - 1)`` days of the event (a run of consecutive open days, a
    weekend or holiday in between allowed)."""
    days = np.unique(np.asarray(days_with_rows, dtype=np.int64))
    per_event = _days_per_event(ev, n_days)
    out = np.full((len(ev), int(per_event.max(initial=1))), -1, dtype=np.int64)
    if len(days) == 0 or len(ev) == 0:
        return out
    hol = (ev["type"] == "holiday").to_numpy()
    start_day = _ns(ev["start"]) // NS_PER_DAY
    last_day = _last_day_numbers(ev)
    holiday_days = np.unique(np.concatenate(
        [np.arange(s, e + 1) for s, e in zip(start_day[hol], last_day[hol], strict=True)]
        or [np.zeros(0, np.int64)]))
    pos = np.searchsorted(days, last_day, side="right")
    for i in np.flatnonzero(last_day + 1 >= days[0]):
        after = days[pos[i]:pos[i] + per_event[i] + 8]
        after = after[~np.isin(after, holiday_days)][:per_event[i]]
        # day k counts while within 4 + (k - 1) days of the event
        within = after <= last_day[i] + 4 + np.arange(len(after))
        n = len(after) if within.all() else int(np.argmin(within))
        out[i, :n] = after[:n]
    return out


def post_day_k(ev: pd.DataFrame, day: np.ndarray, n_days: PostDays
               ) -> dict[tuple[int, str], tuple[int, float]]:
    """``(day, type) -> (k, weight)``: each post day once per event type, at its
    smallest ``k`` (the strongest weight among events giving that ``k``)."""
    nums = post_day_numbers(ev, day, n_days)
    out: dict[tuple[int, str], tuple[int, float]] = {}
    for row_days, row in zip(nums, ev.itertuples(index=False), strict=True):
        if row.weight <= 0:
            continue
        for k, d in enumerate(row_days.tolist(), start=1):
            if d < 0:
                break
            key = (d, row.type)
            old = out.get(key)
            if old is None or k < old[0] or (k == old[0] and row.weight > old[1]):
                out[key] = (k, row.weight)
    return out


def event_masks(ds: pd.DatetimeIndex, events: pd.DataFrame | None, n_days: PostDays
                ) -> tuple[np.ndarray, np.ndarray]:
    """Rows inside any event, and rows on any of an event's first ``n_days`` post days."""
    values = _ns(ds)
    ev = _clean_events(events)
    during = np.zeros(len(values), bool)
    post = np.zeros(len(values), bool)
    if len(ev) == 0:
        return during, post
    for s, e in zip(_ns(ev["start"]), _ns(ev["end"]), strict=True):
        during |= (values >= s) & (values < e)
    day = values // NS_PER_DAY
    nums = post_day_numbers(ev, day, n_days)
    post = np.isin(day, nums[nums >= 0])
    return during, post


# --------------------------------------------------------------------------- effects


class MultiDayEffects(EventEffects):
    """:class:`EventEffects` whose after-event lift spans ``n_days`` open days."""

    def __init__(self, effects=None, closed_holidays=None, n_days: int = 3) -> None:
        super().__init__(dict(effects or {}), set(closed_holidays or ()))
        self.n_days = n_days

    def effect(self, etype: str) -> MultiDayEffect:
        return _as_multiday(super().effect(etype))

    def post_days(self, etype: str) -> int:
        """Open days after an event of this type that it affects: ``n_days`` when its
        lift carries past the first day (``post_decay > 0``), else 1 (as today)."""
        return self.n_days if self.effect(etype).post_decay > 0 else 1

    def multiplier(self, horizon: pd.DatetimeIndex, events: pd.DataFrame | None,
                   lead_days: np.ndarray | None = None) -> np.ndarray:
        """Multiplier for each horizon interval. ``lead_days``: day numbers with rows
        just before the horizon, so events that ended there still lift it."""
        idx = as_horizon(horizon)
        out = np.ones(len(idx))
        ev = _clean_events(events)
        if len(ev) == 0 or len(idx) == 0:
            return out
        values = _ns(idx)
        start_ns, end_ns = _ns(ev["start"]), _ns(ev["end"])
        for i, row in enumerate(ev.itertuples(index=False)):
            inside = (values >= start_ns[i]) & (values < end_ns[i])
            if not inside.any():
                continue
            eff = self.effect(row.type)
            if row.type == "holiday" and row.name in self.closed_holidays:
                m = np.zeros(int(inside.sum()))
            else:
                m = eff.in_event((values[inside] - start_ns[i]) / 1e9)
            out[inside] *= np.maximum(1.0 + row.weight * (m - 1.0), 0.0)
        day = values // NS_PER_DAY
        search = day if lead_days is None else np.concatenate([lead_days, day])
        for (d, etype), (k, w) in post_day_k(ev, search, self.post_days).items():
            lift = self.effect(etype).post(k)
            out[day == d] *= max(1.0 + w * (lift - 1.0), 0.0)
        return out

    def table(self) -> pd.DataFrame:
        t = super().table()
        t["post_decay"] = [getattr(e, "post_decay", 0.0) for e in self.effects.values()]
        return t


def learn_multiday_effects(history: pd.DataFrame, events: pd.DataFrame | None, *,
                           n_days: int = 3, weeks: int = 4, shrink_post: float = 0.25
                           ) -> MultiDayEffects:
    """:func:`forecast.event_effects.learn_event_effects` with ``n_days`` post days:
    the same in-event fit, closed holidays and day-1 ``post_lift``, plus ``post_decay``
    fitted on post days 2..``n_days``.

    Two passes: the first masks all ``n_days`` post days of every event from the
    expectation and fits ``post_decay`` per type; a type whose decay fits 0 (no lift
    past day 1) keeps one post day, and if there is such a type everything is
    learned again with those masks (``post_decay`` kept from the first pass). With
    every decay 0 the result is exactly today's :func:`learn_event_effects`."""
    first = _learn_pass(history, events, n_days, n_days, weeks, shrink_post)
    if n_days <= 1 or all(first.post_days(t) == n_days for t in first.effects):
        return first
    again = _learn_pass(history, events, first.post_days, n_days, weeks, shrink_post)
    for t, eff in again.effects.items():
        again.effects[t] = replace(eff, post_decay=first.effect(t).post_decay)
    return again


def _learn_pass(history: pd.DataFrame, events: pd.DataFrame | None, post_days: PostDays,
                n_days: int, weeks: int, shrink_post: float) -> MultiDayEffects:
    h = prepare_history(history)
    ev = _clean_events(events)
    out = MultiDayEffects(n_days=n_days)
    if len(ev) == 0:
        return out
    values = _ns(h["ds"])
    first, last = values.min(), values.max()
    ev = ev[(_ns(ev["end"]) > first) & (_ns(ev["start"]) <= last)].reset_index(drop=True)
    if len(ev) == 0:
        return out
    ev.attrs["_clean_events"] = True
    during, post = event_masks(h["ds"], ev, post_days)
    expected = local_expected(h, during | post, weeks=weeks)
    y = h["y"].to_numpy()
    filled = h["filled"].to_numpy()
    day = values // NS_PER_DAY
    post_k = post_day_k(ev, day, post_days)
    start_ns, end_ns = _ns(ev["start"]), _ns(ev["end"])
    usable = ~filled & np.isfinite(expected) & (expected > 0)

    closed_rows = np.zeros(len(h), bool)
    for i, row in enumerate(ev.itertuples(index=False)):
        if row.type != "holiday":
            continue
        inside = (values >= start_ns[i]) & (values < end_ns[i])
        if not inside.any():
            continue
        seen = inside & ~filled
        if not seen.any() or (y[seen].sum() == 0 and np.nansum(expected[seen]) >= 5):
            out.closed_holidays.add(row.name)
            closed_rows |= inside

    for etype, group in ev.groupby("type", sort=True):
        elapsed, weight, yy, ee = [], [], [], []
        n_events = 0
        for i, row in zip(group.index, group.itertuples(index=False), strict=True):
            inside = (values >= start_ns[i]) & (values < end_ns[i])
            ok = inside & usable & ~closed_rows
            if not ok.any() or row.weight <= 0:
                continue
            n_events += 1
            elapsed.append((values[ok] - start_ns[i]) / 1e9)
            weight.append(np.full(int(ok.sum()), row.weight))
            yy.append(y[ok])
            ee.append(expected[ok])
        lift, decay = 1.0, None
        if n_events:
            lift, decay = _fit_decay(np.concatenate(elapsed), np.concatenate(weight),
                                     np.concatenate(yy), np.concatenate(ee),
                                     flat_only=etype in FLAT_TYPES)
        # post days of this type: day 1 as today (weights ignored, as today), later
        # days collected for the decay fit
        ys = es = 0.0
        n_post = 0
        later: list[tuple[np.ndarray, np.ndarray, int, float]] = []
        for (d, t), (k, w) in sorted(post_k.items()):
            if t != etype:
                continue
            sel = (day == d) & usable & ~during
            if not sel.any():
                continue
            if k == 1:
                n_post += 1
                ys += float(y[sel].sum())
                es += float(expected[sel].sum())
            else:
                later.append((y[sel], expected[sel], k, w))
        post_lift = 1.0
        if n_post and es > 0:
            post_lift = 1.0 + (ys / es - 1.0) * n_post / (n_post + shrink_post)
        post_decay = _fit_post_decay(post_lift - 1.0, later)
        n_total = n_events + n_post + sum(1 for r in group.itertuples() if r.name in
                                          out.closed_holidays)
        if n_total == 0:
            continue
        out.effects[str(etype)] = MultiDayEffect(
            str(etype), lift=float(lift), decay_s=decay, post_lift=float(post_lift),
            n_events=n_events, n_post=n_post, post_decay=post_decay)
    return out


def _fit_post_decay(beta: float, later: list[tuple[np.ndarray, np.ndarray, int, float]]
                    ) -> float:
    """The ratio ``r`` on :data:`POST_DECAY_GRID` minimising
    ``sum((y - e * (1 + w * beta * r**(k-1)))**2 / e)`` over post days 2..K (0 with no
    such day or no day-1 effect)."""
    if not later or beta == 0:
        return 0.0
    y = np.concatenate([p[0] for p in later])
    e = np.concatenate([p[1] for p in later])
    k = np.concatenate([np.full(len(p[0]), p[2]) for p in later])
    w = np.concatenate([np.full(len(p[0]), p[3]) for p in later])
    losses = [float(np.sum((y - e * (1.0 + w * beta * r ** (k - 1))) ** 2 / e))
              for r in POST_DECAY_GRID]
    return float(POST_DECAY_GRID[int(np.argmin(losses))])


def remove_multiday_effects(hist: pd.DataFrame, events: pd.DataFrame | None, *,
                            n_days: int = 3, weeks: int = 4
                            ) -> tuple[MultiDayEffects, pd.DataFrame]:
    """:func:`forecast.event_effects.remove_event_effects` with ``n_days`` post days."""
    effects = learn_multiday_effects(hist, events, n_days=n_days, weeks=weeks)
    during, post = event_masks(hist["ds"], events, effects.post_days)
    affected = (during | post) & ~hist["filled"].to_numpy()
    if not affected.any():
        return effects, hist
    expected = local_expected(hist, during | post, weeks=weeks)
    swap = affected & np.isfinite(expected)
    clean = hist.copy()
    clean.loc[swap, "y"] = expected[swap]
    clean.loc[swap, "filled"] = True
    return effects, clean


class MultiDayAdjusted(EventAdjusted):
    """:class:`EventAdjusted` with multi-day after-event lifts.

    Parameters
    ----------
    n_days
        Open non-holiday days after an event that get a lift (1 = today's model).
    lead_in
        Also lift horizon days that follow an event ending before the horizon.
    """

    def __init__(self, base, weeks: int = 4, n_days: int = 3, lead_in: bool = False) -> None:
        super().__init__(base, weeks=weeks)
        self.n_days = n_days
        self.lead_in = lead_in

    def get_params(self) -> dict[str, Any]:
        return {**super().get_params(), "n_days": self.n_days, "lead_in": self.lead_in}

    def fit(self, history: pd.DataFrame, events: pd.DataFrame | None = None
            ) -> MultiDayAdjusted:
        h = prepare_history(history)
        effects, clean = remove_multiday_effects(h, events, n_days=self.n_days,
                                                 weeks=self.weeks)
        # weekdays the queue had rows on in its last four weeks
        day = _ns(h["ds"]) // NS_PER_DAY
        recent = np.unique(day[day > day.max() - 28]) if len(day) else day
        self.open_weekdays_ = tuple(sorted(set(weekday_of(recent).tolist())))
        return self._attach(self.base.fit(clean, None), effects)

    def _lead_days(self, idx: pd.DatetimeIndex) -> np.ndarray | None:
        if not self.lead_in or len(idx) == 0:
            return None
        first = int(_ns(idx[:1])[0] // NS_PER_DAY)
        lead = np.arange(first - LEAD_IN_DAYS, first, dtype=np.int64)
        return lead[np.isin(weekday_of(lead), self.open_weekdays_)]

    def predict(self, horizon, events: pd.DataFrame | None = None,
                quantiles=DEFAULT_QUANTILES) -> pd.DataFrame:
        idx = as_horizon(horizon)
        out = self.base_.predict(idx, None, quantiles)
        m = self.effects_.multiplier(idx, events, self._lead_days(idx))
        for col in ["mean", *[quantile_column(q) for q in quantiles]]:
            out[col] = out[col].to_numpy() * m
        return out


__all__ = ["MultiDayEffect", "MultiDayEffects", "MultiDayAdjusted", "PRIOR_EFFECTS",
           "learn_multiday_effects", "remove_multiday_effects", "post_day_numbers"]


def make(events):
    """The candidate as judged: the default ensemble, the first 3 open days after an
    event lifted (geometric decay learned per type)."""
    from forecast.forecasters import build_model, make_model

    if events is None or len(events) == 0:
        return build_model("ensemble", events)
    return MultiDayAdjusted(make_model("ensemble"), n_days=3)
