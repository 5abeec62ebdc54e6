"""Learn how events move volume, and apply that to future events.

For each event type (per queue: a wrapper is fitted per queue) three things are
learned from the history:

* the *in-event* multiplier ``1 + (lift - 1) * exp(-t / decay_s)``, with ``t`` the time
  since the event started: a campaign lifts for days and fades, an outage spikes and
  fades within hours, a holiday is flat (``decay_s = None``, a constant multiplier;
  holidays are always fitted flat, see :data:`FLAT_TYPES`);
* the *next-day* multiplier ``post_lift`` on the next open day after the event that
  is not itself a holiday (the day after a holiday runs high);
* holidays on which the queue was closed (every interval of the day missing from the
  data, so gap-filled): the same holiday in the future is forecast at zero.

"Expected" volume, against which lifts are measured, is what the same slot did in
the surrounding weeks without events (:func:`local_expected`): a baseline that knows
nothing of the event. The fit minimises the Poisson-weighted squared error
``sum((y - e * m)^2 / e)``, exact in ``lift`` for each ``decay_s`` on a grid.

An event's ``weight`` scales its effect: multiplier ``1 + weight * (m - 1)``.
Types never seen in a queue's history use :data:`PRIOR_EFFECTS`, starting
assumptions a planner can overrule with weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .forecasters.base import (
    DEFAULT_QUANTILES,
    Forecaster,
    as_horizon,
    as_quantiles,
    model_from_dict,
    prepare_history,
    quantile_column,
)
from .forecasters.daygrid import NS_PER_DAY, day_numbers

__all__ = [
    "TypeEffect",
    "EventEffects",
    "PRIOR_EFFECTS",
    "local_expected",
    "event_masks",
    "learn_event_effects",
    "EventAdjusted",
    "remove_event_effects",
]

DAY = pd.Timedelta(days=1)
#: event types whose effect is flat over the event (a whole-day state, not a shock:
#: the time since a holiday's midnight start says nothing about its volume)
FLAT_TYPES = frozenset({"holiday"})
#: decay times tried (seconds): 30 minutes to 30 days; ``None`` (flat) is tried too
DECAY_GRID_S = tuple(float(x) for x in np.geomspace(1800, 30 * 86400, 28))


@dataclass(frozen=True)
class TypeEffect:
    """The learned effect of one event type on one queue.

    Attributes
    ----------
    lift
        Multiplier at the start of the event (1 = no effect, 0.4 = 60% fewer contacts).
    decay_s
        e-folding time of the in-event effect in seconds; ``None`` = flat.
    post_lift
        Multiplier on the next open, non-holiday day after the event.
    n_events, n_post
        Past events that informed ``lift`` and ``post_lift``.
    source
        ``"learned"`` or ``"prior"``.
    """

    type: str
    lift: float = 1.0
    decay_s: float | None = None
    post_lift: float = 1.0
    n_events: int = 0
    n_post: int = 0
    source: str = "learned"

    def in_event(self, elapsed_s: np.ndarray) -> np.ndarray:
        if self.decay_s is None:
            return np.full(np.shape(elapsed_s), self.lift)
        return 1.0 + (self.lift - 1.0) * np.exp(-np.asarray(elapsed_s, float) / self.decay_s)


#: used only for event types a queue's history has never shown
PRIOR_EFFECTS: dict[str, TypeEffect] = {
    "campaign": TypeEffect("campaign", lift=1.2, decay_s=4 * 86400.0, source="prior"),
    "outage": TypeEffect("outage", lift=1.5, decay_s=2 * 3600.0, source="prior"),
    "holiday": TypeEffect("holiday", lift=0.5, post_lift=1.1, source="prior"),
    "release": TypeEffect("release", lift=1.1, decay_s=2 * 86400.0, source="prior"),
    "other": TypeEffect("other", source="prior"),
}


# --------------------------------------------------------------------------- masks


def _clean_events(events: pd.DataFrame | None) -> pd.DataFrame:
    if events is None or len(events) == 0:
        return pd.DataFrame(columns=["name", "type", "start", "end", "weight"])
    if events.attrs.get("_clean_events"):
        return events
    ev = events.copy()
    if "weight" not in ev.columns:
        ev["weight"] = 1.0
    ev["weight"] = pd.to_numeric(ev["weight"], errors="coerce").fillna(1.0).astype(float)
    ev["start"] = pd.to_datetime(ev["start"])
    ev["end"] = pd.to_datetime(ev["end"])
    ev["type"] = ev["type"].astype(str)
    ev["name"] = ev["name"].astype(str)
    ev = ev.sort_values("start", kind="stable").reset_index(drop=True)
    ev.attrs["_clean_events"] = True
    return ev


def _ns(values) -> np.ndarray:
    """Nanoseconds since the epoch of timestamps (int64)."""
    return np.asarray(pd.DatetimeIndex(values).as_unit("ns").asi8, dtype=np.int64)


def _last_day_numbers(ev: pd.DataFrame) -> np.ndarray:
    """Day number of each event's last day (the day of ``end`` minus one microsecond)."""
    return (_ns(ev["end"]) - 1000) // NS_PER_DAY


def _post_day_numbers(ev: pd.DataFrame, days_with_rows: np.ndarray) -> np.ndarray:
    """For each event, the first day with rows after its last day that is not a holiday
    (day number; -1 when there is none).

    Only days within four days of the event count, and only when the day after the
    event is not before the first of ``days_with_rows`` (an event that ended before
    the horizon began had its next day before the horizon too)."""
    days = np.unique(np.asarray(days_with_rows, dtype=np.int64))
    out = np.full(len(ev), -1, dtype=np.int64)
    if len(days) == 0 or len(ev) == 0:
        return out
    hol = (ev["type"] == "holiday").to_numpy()
    start_day = _ns(ev["start"]) // NS_PER_DAY
    last_day = _last_day_numbers(ev)
    holiday_days = np.unique(np.concatenate(
        [np.arange(s, e + 1) for s, e in zip(start_day[hol], last_day[hol], strict=True)]
        or [np.zeros(0, np.int64)]))
    pos = np.searchsorted(days, last_day, side="right")
    cand_pos = pos[:, None] + np.arange(4)[None, :]
    ok = cand_pos < len(days)
    cand = days[np.minimum(cand_pos, len(days) - 1)]
    ok &= (cand <= last_day[:, None] + 4) & ~np.isin(cand, holiday_days)
    first = np.argmax(ok, axis=1)
    found = ok.any(axis=1) & (last_day + 1 >= days[0])
    out[found] = cand[found, first[found]]
    return out


def _post_days(ev: pd.DataFrame, days_with_rows: pd.DatetimeIndex) -> list[pd.Timestamp | None]:
    """:func:`_post_day_numbers` as Timestamps (None where there is none)."""
    day, _ = day_numbers(pd.DatetimeIndex(days_with_rows))
    nums = _post_day_numbers(ev, day)
    return [None if d < 0 else pd.Timestamp(np.datetime64(int(d), "D")) for d in nums]


def event_masks(ds: pd.DatetimeIndex, events: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
    """Rows inside any event, and rows on any event's next open day.

    Returns
    -------
    (during, post)
        Boolean arrays over ``ds``.
    """
    values = _ns(ds)
    ev = _clean_events(events)
    during = np.zeros(len(values), bool)
    post = np.zeros(len(values), bool)
    if len(ev) == 0:
        return during, post
    for s, e in zip(_ns(ev["start"]), _ns(ev["end"]), strict=True):
        during |= (values >= s) & (values < e)
    day = values // NS_PER_DAY
    post_days = _post_day_numbers(ev, day)
    post = np.isin(day, post_days[post_days >= 0])
    return during, post


def local_expected(history: pd.DataFrame, exclude: np.ndarray | None = None,
                   weeks: int = 4) -> np.ndarray:
    """What each interval would have been without events: the mean of the same
    interval in the ``weeks`` weeks before and after, skipping excluded and
    gap-filled rows (NaN where none is available)."""
    h = prepare_history(history)
    keep = ~h["filled"].to_numpy()
    if exclude is not None:
        keep &= ~np.asarray(exclude, bool)
    day, minute = day_numbers(h["ds"])
    if len(day) == 0:
        return np.zeros(0)
    # same clock time on every day of the span, as a days x times-of-day table
    minutes, col = np.unique(minute, return_inverse=True)
    day0 = int(day.min())
    span = int(day.max()) - day0 + 1
    table = np.full((span, len(minutes)), np.nan)
    table[day - day0, col] = np.where(keep, h["y"].to_numpy(dtype="float64"), np.nan)
    total = np.zeros(len(day))
    n = np.zeros(len(day))
    for k in range(-weeks, weeks + 1):
        if k == 0:
            continue
        d = day - day0 + 7 * k
        ok = (d >= 0) & (d < span)
        vals = np.full(len(day), np.nan)
        vals[ok] = table[d[ok], col[ok]]
        fin = np.isfinite(vals)
        total[fin] += vals[fin]
        n[fin] += 1
    return np.where(n > 0, total / np.maximum(n, 1), np.nan)


# --------------------------------------------------------------------------- learning


@dataclass
class EventEffects:
    """Learned effects per event type, and the holidays the queue closes on."""

    effects: dict[str, TypeEffect] = field(default_factory=dict)
    closed_holidays: set[str] = field(default_factory=set)

    def effect(self, etype: str) -> TypeEffect:
        return self.effects.get(etype) or PRIOR_EFFECTS.get(etype) or TypeEffect(etype)

    def multiplier(self, horizon: pd.DatetimeIndex, events: pd.DataFrame | None) -> np.ndarray:
        """Multiplier for each horizon interval from the events active or just ended."""
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
        # the next open day after an event: once per day and type, strongest weight wins
        day = values // NS_PER_DAY
        post_weight: dict[tuple[int, str], float] = {}
        for d, row in zip(_post_day_numbers(ev, day).tolist(), ev.itertuples(index=False),
                          strict=True):
            if d >= 0:
                key = (d, row.type)
                post_weight[key] = max(post_weight.get(key, 0.0), row.weight)
        for (d, etype), w in post_weight.items():
            lift = self.effect(etype).post_lift
            out[day == d] *= max(1.0 + w * (lift - 1.0), 0.0)
        return out

    def table(self) -> pd.DataFrame:
        """One row per event type: lift, decay_s, post_lift, n_events, n_post, source."""
        rows = [asdict(e) for e in self.effects.values()]
        return pd.DataFrame(rows, columns=["type", "lift", "decay_s", "post_lift", "n_events",
                                           "n_post", "source"])

    def to_dict(self) -> dict[str, Any]:
        return {"effects": {k: asdict(v) for k, v in self.effects.items()},
                "closed_holidays": sorted(self.closed_holidays)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> EventEffects:
        return cls({k: TypeEffect(**v) for k, v in d["effects"].items()},
                   set(d.get("closed_holidays", [])))


def learn_event_effects(history: pd.DataFrame, events: pd.DataFrame | None, *,
                        weeks: int = 4, shrink_post: float = 0.25) -> EventEffects:
    """Learn per-type event effects from one queue's history.

    Parameters
    ----------
    history
        One queue's regularised history (``ds, y, filled``).
    events
        Events table for this queue.
    weeks
        Weeks each side used for the no-event expectation.
    shrink_post
        Pseudo-count pulling next-day estimates (each from a single noisy day)
        towards "no effect": an estimate from ``n`` days keeps ``n / (n + shrink_post)``
        of its deviation from 1.

    Returns
    -------
    EventEffects
        A :class:`TypeEffect` (``source="learned"``) for each event type that has, in
        the history's time span, an event with weight > 0 over usable intervals (not
        gap-filled, with a no-event expectation), a next open day after such an event,
        or a closed holiday; types without one are left out, so
        :meth:`EventEffects.effect` falls back to :data:`PRIOR_EFFECTS`. The
        ``closed_holidays`` are the holidays of which no interval was observed (all
        gap-filled), or whose observed intervals had no contacts where at least 5 were
        expected. Empty when no event overlaps the history.
    """
    h = prepare_history(history)
    ev = _clean_events(events)
    out = EventEffects()
    if len(ev) == 0:
        return out
    values = _ns(h["ds"])
    first, last = values.min(), values.max()
    ev = ev[(_ns(ev["end"]) > first) & (_ns(ev["start"]) <= last)].reset_index(drop=True)
    if len(ev) == 0:
        return out
    ev.attrs["_clean_events"] = True
    during, post = event_masks(h["ds"], ev)
    expected = local_expected(h, during | post, weeks=weeks)
    y = h["y"].to_numpy()
    filled = h["filled"].to_numpy()
    day = values // NS_PER_DAY
    post_days = _post_day_numbers(ev, day)
    start_ns, end_ns = _ns(ev["start"]), _ns(ev["end"])

    # closed holidays: every row of the holiday is gap-filled or zero where contacts
    # were expected
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
            ok = inside & ~filled & ~closed_rows & np.isfinite(expected) & (expected > 0)
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
        # next-day effect, once per post day
        seen: set[int] = set()
        ys = es = 0.0
        for d, row in zip(post_days.tolist(), ev.itertuples(index=False), strict=True):
            if row.type != etype or d < 0 or d in seen or row.weight <= 0:
                continue
            sel = (day == d) & ~filled & np.isfinite(expected) & ~during
            if not sel.any():
                continue
            seen.add(d)
            ys += float(y[sel].sum())
            es += float(expected[sel].sum())
        n_post = len(seen)
        post_lift = 1.0
        if n_post and es > 0:
            post_lift = 1.0 + (ys / es - 1.0) * n_post / (n_post + shrink_post)
        n_total = n_events + n_post + sum(1 for r in group.itertuples() if r.name in
                                          out.closed_holidays)
        if n_total == 0:
            continue
        out.effects[str(etype)] = TypeEffect(str(etype), lift=float(lift), decay_s=decay,
                                             post_lift=float(post_lift), n_events=n_events,
                                             n_post=n_post)
    return out


def _fit_decay(elapsed: np.ndarray, weight: np.ndarray, y: np.ndarray, e: np.ndarray,
               flat_only: bool = False) -> tuple[float, float | None]:
    """Least squares ``y ~ e * (1 + w * beta * g(t))`` over a grid of decay times
    (only the flat shape when ``flat_only``)."""
    fits = []
    for decay in (None, *(() if flat_only else DECAY_GRID_S)):
        g = weight * (np.ones_like(elapsed) if decay is None else np.exp(-elapsed / decay))
        denom = float(np.sum(g * g * e))
        if denom <= 0:
            continue
        beta = float(np.sum(g * (y - e)) / denom)
        beta = max(beta, -1.0)  # a multiplier never goes below zero
        loss = float(np.sum((y - e * (1 + beta * g)) ** 2 / e))
        fits.append((loss, 1.0 + beta, decay))
    if not fits:
        return 1.0, None
    flat = fits[0]
    best = min(fits, key=lambda f: f[0])
    # a decaying shape must earn its extra parameter (BIC with estimated dispersion)
    n = y.size
    dispersion = max(flat[0] / max(n - 1, 1), 1e-9)
    if best[2] is not None and (flat[0] - best[0]) / dispersion < np.log(max(n, 2)):
        best = flat
    return best[1], best[2]


# --------------------------------------------------------------------------- wrapper


def remove_event_effects(hist: pd.DataFrame, events: pd.DataFrame | None, weeks: int = 4
                         ) -> tuple[EventEffects, pd.DataFrame]:
    """Learn the event effects of a prepared history and return it without them.

    Event-affected intervals (inside an event, or on the day after one) get their
    no-event expectation (:func:`local_expected`) and are flagged as gap-filled, so a
    model fitted on the result learns the normal pattern.
    """
    effects = learn_event_effects(hist, events, weeks=weeks)
    during, post = event_masks(hist["ds"], events)
    affected = (during | post) & ~hist["filled"].to_numpy()
    if not affected.any():
        return effects, hist
    expected = local_expected(hist, during | post, weeks=weeks)
    replace = affected & np.isfinite(expected)
    clean = hist.copy()
    clean.loc[replace, "y"] = expected[replace]
    clean.loc[replace, "filled"] = True
    return effects, clean


class EventAdjusted(Forecaster):
    """Any model plus learned event effects.

    The base model is fitted on the history with event-affected intervals (inside an
    event, or on the day after one) replaced by their no-event expectation and
    flagged as gap-filled, so it learns the normal pattern; the learned multipliers
    are then applied to its forecast (mean and quantiles) for future events.

    Parameters
    ----------
    base
        An unfitted forecaster.
    weeks
        Weeks each side used for the no-event expectation.
    """

    handles_events = True

    def __init__(self, base: Forecaster, weeks: int = 4) -> None:
        super().__init__(calibration_weeks=0)
        self.base = base
        self.weeks = weeks
        self.name = base.name
        self.cheap = base.cheap

    def get_params(self) -> dict[str, Any]:
        return {"base": self.base.name, "weeks": self.weeks}

    def fit(self, history: pd.DataFrame, events: pd.DataFrame | None = None) -> EventAdjusted:
        effects, clean = remove_event_effects(prepare_history(history), events, self.weeks)
        return self._attach(self.base.fit(clean, None), effects)

    @classmethod
    def from_fitted(cls, base: Forecaster, effects: EventEffects, weeks: int = 4
                    ) -> EventAdjusted:
        """Wrap a base model already fitted on :func:`remove_event_effects` output."""
        return cls(base, weeks=weeks)._attach(base, effects)

    def _attach(self, base: Forecaster, effects: EventEffects) -> EventAdjusted:
        self.effects_ = effects
        self.base_ = base
        self.interval_s_ = base.interval_s_
        self.last_ds_ = base.last_ds_
        self.calibration_ = base.calibration_
        if hasattr(base, "open_slots_"):
            self.open_slots_ = base.open_slots_
        return self

    def predict(self, horizon, events: pd.DataFrame | None = None,
                quantiles=DEFAULT_QUANTILES, *, unseen: str = "closed") -> pd.DataFrame:
        """Forecast the given future interval starts with the events' effects applied.

        Parameters
        ----------
        horizon
            Future interval starts.
        events
            Events table; intervals inside an event, or on the next open day after
            one, have the base model's forecast scaled (:meth:`EventEffects.multiplier`).
        quantiles
            Quantiles to forecast besides the mean, in any order (a single number: one).
        unseen
            Horizon times in slots the history never had: ``"closed"`` (0, with a
            warning) or ``"extrapolate"`` (see :meth:`Forecaster.predict`).

        Returns
        -------
        DataFrame
            ``ds``, ``mean`` and one column per quantile, the mean and quantiles
            multiplied by the events' multipliers.

        Raises
        ------
        NotFittedError
            When the model has not been fitted.
        """
        if not hasattr(self, "base_"):
            from .exceptions import NotFittedError

            raise NotFittedError(f"model '{self.name}' must be fitted before predict")
        idx = as_horizon(horizon)
        quantiles = as_quantiles(quantiles)
        out = self.base_.predict(idx, None, quantiles, unseen=unseen)
        m = self.effects_.multiplier(idx, events)
        for col in ["mean", *[quantile_column(q) for q in quantiles]]:
            out[col] = out[col].to_numpy() * m
        return out

    def _predict_mean(self, horizon, events=None) -> np.ndarray:
        return self.predict(horizon, events, quantiles=())["mean"].to_numpy()

    def to_dict(self) -> dict[str, Any]:
        return {"model": "event_adjusted", "base": self.base_.to_dict(),
                "weeks": self.weeks, "effects": self.effects_.to_dict()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> EventAdjusted:
        base = model_from_dict(d["base"])
        model = cls(base, weeks=int(d.get("weeks", 4)))
        model.base_ = base
        model.effects_ = EventEffects.from_dict(d["effects"])
        model.interval_s_, model.last_ds_ = base.interval_s_, base.last_ds_
        model.calibration_ = base.calibration_
        return model
