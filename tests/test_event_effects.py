"""Events teach: learned lifts, their shapes, next-day effects and closed holidays."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from test_forecasters_contract import expected_volume, history, next_week

from forecast.event_effects import (
    PRIOR_EFFECTS,
    EventAdjusted,
    EventEffects,
    TypeEffect,
    event_masks,
    learn_event_effects,
    local_expected,
)
from forecast.forecasters import build_model, make_model, model_from_dict


def _events(*rows) -> pd.DataFrame:
    return pd.DataFrame(
        [dict(zip(["name", "type", "start", "end", "weight"], r, strict=True)) for r in rows]
    ).assign(start=lambda d: pd.to_datetime(d["start"]), end=lambda d: pd.to_datetime(d["end"]))


def _with_effect(h: pd.DataFrame, start, end, lift: float, decay_s: float | None,
                 seed: int = 0) -> pd.DataFrame:
    """Regenerate the rows inside [start, end) with the multiplier applied."""
    h = h.copy()
    ds = pd.DatetimeIndex(h["ds"])
    inside = (ds >= pd.Timestamp(start)) & (ds < pd.Timestamp(end))
    t = (ds[inside] - pd.Timestamp(start)).total_seconds().to_numpy()
    m = np.full(t.size, lift) if decay_s is None else 1 + (lift - 1) * np.exp(-t / decay_s)
    lam = expected_volume(ds[inside]) * m
    h.loc[inside, "y"] = np.random.default_rng(seed).poisson(lam).astype(float)
    return h


# ------------------------------------------------------------------ synthetic truth
@pytest.fixture(scope="module")
def outage_history():
    h = history(weeks=16, seed=11)
    starts = ["2024-02-06 10:00", "2024-03-13 13:00", "2024-04-02 09:30"]
    for i, s in enumerate(starts):
        h = _with_effect(h, s, pd.Timestamp(s) + pd.Timedelta(hours=5), 3.0, 3600.0, seed=i)
    ev = _events(*[("outage", "outage", s, pd.Timestamp(s) + pd.Timedelta(hours=5), 1.0)
                   for s in starts])
    return h, ev


def test_outage_spike_and_fade_are_learned(outage_history):
    h, ev = outage_history
    eff = learn_event_effects(h, ev).effect("outage")
    assert eff.source == "learned" and eff.n_events == 3
    assert eff.lift == pytest.approx(3.0, abs=0.35)
    assert eff.decay_s == pytest.approx(3600.0, rel=0.5)


def test_flat_effects_are_not_given_a_spurious_decay():
    h = history(weeks=16, seed=12)
    spans = [("2024-02-07", "2024-02-10"), ("2024-03-12", "2024-03-15")]
    for i, (s, e) in enumerate(spans):
        h = _with_effect(h, s, e, 1.4, None, seed=20 + i)
    eff = learn_event_effects(h, _events(*[("promo", "campaign", s, e, 1.0)
                                           for s, e in spans])).effect("campaign")
    assert eff.decay_s is None
    assert eff.lift == pytest.approx(1.4, abs=0.05)


def test_future_outage_is_applied_to_the_forecast_and_scaled_by_weight(outage_history):
    h, ev = outage_history
    model = EventAdjusted(make_model("slot_mean")).fit(h, ev)
    horizon = next_week(h)
    start = horizon[4]
    future = _events(("what-if outage", "outage", start, start + pd.Timedelta(hours=3), 1.0))
    plain = model.predict(horizon, None)
    hit = model.predict(horizon, pd.concat([ev, future], ignore_index=True))
    ratio = hit["mean"].to_numpy() / plain["mean"].to_numpy()
    assert ratio[4] == pytest.approx(model.effects_.effect("outage").lift, rel=1e-9)
    assert ratio[5] < ratio[4]  # fading
    assert np.allclose(ratio[:4], 1) and np.allclose(ratio[10:20], 1)  # rest of that day
    half = model.predict(horizon, future.assign(weight=0.5))["mean"].to_numpy()
    assert half[4] / plain["mean"].iloc[4] == pytest.approx(1 + 0.5 * (ratio[4] - 1))


def test_base_model_is_not_distorted_by_past_events(outage_history):
    h, ev = outage_history
    plain = make_model("seasonal_naive").fit(h).predict(next_week(h))
    adjusted = EventAdjusted(make_model("seasonal_naive")).fit(h, ev).predict(next_week(h))
    assert plain["mean"].sum() == pytest.approx(adjusted["mean"].sum())  # no event last week
    # an outage in the last week would otherwise be copied into next week's forecast
    last = h["ds"].max().normalize() - pd.Timedelta(days=1) + pd.Timedelta(hours=10)
    h2 = _with_effect(h, last, last + pd.Timedelta(hours=4), 3.0, 3600.0, seed=9)
    ev2 = pd.concat([ev, _events(("late", "outage", last, last + pd.Timedelta(hours=4), 1.0))])
    naive = make_model("seasonal_naive").fit(h2).predict(next_week(h2))["mean"].sum()
    cleaned = EventAdjusted(make_model("seasonal_naive")).fit(h2, ev2).predict(
        next_week(h2))["mean"].sum()
    truth = expected_volume(next_week(h2)).sum()
    assert abs(cleaned / truth - 1) < abs(naive / truth - 1)


def test_day_after_a_holiday_and_closed_holidays():
    h = history(weeks=20, seed=13)
    hol = ["2024-01-15", "2024-02-19", "2024-04-01", "2024-05-06"]  # Mondays
    ds = pd.DatetimeIndex(h["ds"])
    for i, d in enumerate(hol):
        day = pd.Timestamp(d)
        h.loc[ds.normalize() == day, "y"] = 0.0  # closed all day
        h = _with_effect(h, day + pd.Timedelta(days=1), day + pd.Timedelta(days=2), 1.3, None,
                         seed=40 + i)
    ev = _events(*[("Bank Holiday", "holiday", d, pd.Timestamp(d) + pd.Timedelta(days=1), 1.0)
                   for d in hol])
    eff = learn_event_effects(h, ev)
    assert eff.closed_holidays == {"Bank Holiday"}
    assert eff.effect("holiday").post_lift == pytest.approx(1.3, abs=0.06)
    model = EventAdjusted(make_model("topdown")).fit(h, ev)
    horizon = next_week(h)
    monday = horizon[0].normalize()
    fut = _events(("Bank Holiday", "holiday", monday, monday + pd.Timedelta(days=1), 1.0))
    out = model.predict(horizon, fut).set_index("ds")
    base = model.predict(horizon).set_index("ds")
    day = pd.DatetimeIndex(out.index).normalize()
    assert (out.loc[day == monday, ["mean", "p10", "p90"]].to_numpy() == 0).all()
    tue = monday + pd.Timedelta(days=1)
    assert out.loc[day == tue, "mean"].sum() / base.loc[day == tue, "mean"].sum() == \
        pytest.approx(eff.effect("holiday").post_lift)


def test_unseen_event_types_use_the_documented_priors():
    h = history(weeks=10, seed=3)
    model = EventAdjusted(make_model("slot_mean")).fit(h, None)
    horizon = next_week(h)
    fut = _events(("launch", "campaign", horizon[0].normalize(), horizon[0].normalize()
                   + pd.Timedelta(days=2), 1.0))
    ratio = (model.predict(horizon, fut)["mean"] / model.predict(horizon)["mean"]).to_numpy()
    prior = PRIOR_EFFECTS["campaign"]
    eight_hours_in = 1 + (prior.lift - 1) * np.exp(-8 * 3600 / prior.decay_s)
    assert ratio[0] == pytest.approx(eight_hours_in)
    assert model.effects_.effect("campaign").source == "prior"


def test_event_masks_cover_the_event_and_the_next_open_day():
    ds = pd.date_range("2024-01-05", "2024-01-09 23:30", freq="30min")  # Fri..Tue
    ds = ds[(ds.day_of_week < 5) & (ds.hour >= 8) & (ds.hour < 18)]
    ev = _events(("x", "outage", "2024-01-05 10:00", "2024-01-05 11:00", 1.0))
    during, post = event_masks(ds, ev)
    assert during.sum() == 2
    assert (pd.DatetimeIndex(ds[post]).normalize() == pd.Timestamp("2024-01-08")).all()


def test_local_expected_ignores_excluded_rows():
    h = history(weeks=9, seed=5)
    exclude = np.zeros(len(h), bool)
    exclude[100] = True
    h.loc[100, "y"] = 1e6
    e = local_expected(h, exclude)
    assert np.nanmax(e) < 1e3


def test_effects_round_trip_through_json():
    eff = EventEffects({"outage": TypeEffect("outage", 2.0, 3600.0, 1.0, 2, 2)}, {"Xmas"})
    again = EventEffects.from_dict(json.loads(json.dumps(eff.to_dict())))
    assert again == eff


def test_wrapped_model_round_trips_through_json(outage_history):
    h, ev = outage_history
    model = build_model("topdown", ev).fit(h, ev)
    again = model_from_dict(json.loads(json.dumps(model.to_dict())))
    horizon = next_week(h)
    pd.testing.assert_frame_equal(model.predict(horizon, ev), again.predict(horizon, ev))


# ------------------------------------------------------------------ the example centre
@pytest.fixture(scope="module")
def example(fixtures_dir):
    from forecast import data as data_io
    from forecast import events as events_io
    from forecast.config import load_config

    path = fixtures_dir / "example" / "centre.toml"
    if not path.is_file():
        pytest.skip("example centre not present")
    cfg = load_config(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vol = data_io.read_volumes_for(cfg)
        hist, _ = data_io.regularise(vol, interval_s=cfg.interval_s,
                                     hours=data_io.hours_for(cfg, vol["queue"].unique()),
                                     timezone=cfg.timezone)
    events = events_io.read_events(cfg.data.events)
    truth = json.loads((fixtures_dir / "example" / "truth.json").read_text())["effects"]
    return hist, events, truth


# stated tolerances: lifts of the big queues within 0.06 (holiday) / 0.1 (campaign),
# next-day lifts within 0.06; outages (two events, a few half-hours each) within 25%
@pytest.mark.parametrize("queue", ["voice", "chat", "email", "social"])
def test_example_centre_lifts_match_the_generator(example, queue):
    from forecast.events import events_for_queue

    hist, events, truth = example
    eff = learn_event_effects(hist[hist["queue"] == queue], events_for_queue(events, queue))
    t = {k: v[queue] for k, v in truth.items()}
    assert eff.closed_holidays == set(t["holiday"]["closed_on"])
    assert eff.effect("holiday").lift == pytest.approx(t["holiday"]["lift"], abs=0.06)
    assert eff.effect("holiday").post_lift == pytest.approx(t["holiday"]["next_day_lift"],
                                                            abs=0.06)
    assert eff.effect("campaign").lift == pytest.approx(t["campaign"]["lift"], abs=0.1)
    assert eff.effect("campaign").decay_s == pytest.approx(t["campaign"]["decay_s"], rel=0.5)
    if t["outage"]["lift"] > 1:
        assert eff.effect("outage").lift == pytest.approx(t["outage"]["lift"], rel=0.25)
        assert eff.effect("outage").decay_s == pytest.approx(t["outage"]["decay_s"], rel=0.6)
    if t["release"]["lift"] > 1:
        assert eff.effect("release").lift == pytest.approx(t["release"]["lift"], abs=0.1)


def test_removing_event_effects_replaces_and_flags_only_affected_rows(outage_history):
    from forecast.event_effects import remove_event_effects
    from forecast.forecasters.base import prepare_history

    h, ev = outage_history
    prepared = prepare_history(h)
    effects, clean = remove_event_effects(prepared, ev)
    during, post = event_masks(pd.DatetimeIndex(prepared["ds"]), ev)
    changed = clean["filled"].to_numpy() & ~prepared["filled"].to_numpy()
    assert changed.any() and not (changed & ~(during | post)).any()
    untouched = ~(during | post)
    np.testing.assert_array_equal(clean["y"].to_numpy()[untouched],
                                  prepared["y"].to_numpy()[untouched])
    assert effects.to_dict() == learn_event_effects(prepared, ev).to_dict()
    assert prepared.equals(prepare_history(h))  # input left alone


def test_wrapping_a_model_fitted_on_clean_history_equals_fitting_the_wrapper(outage_history):
    from forecast.event_effects import remove_event_effects
    from forecast.forecasters.base import prepare_history

    h, ev = outage_history
    effects, clean = remove_event_effects(prepare_history(h), ev)
    shared = EventAdjusted.from_fitted(make_model("topdown").fit(clean), effects)
    direct = build_model("topdown", ev).fit(h, ev)
    horizon = next_week(h)
    pd.testing.assert_frame_equal(shared.predict(horizon, ev), direct.predict(horizon, ev))


def test_holidays_are_fitted_flat_even_when_their_first_hours_stand_out():
    h = history(weeks=12, seed=5)
    days = ["2024-02-07", "2024-02-21", "2024-03-06"]
    for i, d in enumerate(days):  # open holidays: a morning rush then 0.8 of normal
        h = _with_effect(h, d, pd.Timestamp(d) + pd.Timedelta(days=1), 0.8, None, seed=i)
        morning = (h["ds"] >= pd.Timestamp(d) + pd.Timedelta(hours=8)) & (
            h["ds"] < pd.Timestamp(d) + pd.Timedelta(hours=9))
        h.loc[morning, "y"] *= 3
    ev = _events(*[(f"holiday {i}", "holiday", d, pd.Timestamp(d) + pd.Timedelta(days=1), 1.0)
                   for i, d in enumerate(days)])
    eff = learn_event_effects(h, ev).effect("holiday")
    assert eff.decay_s is None
    assert 0.8 < eff.lift < 1.2  # the day's average, rush included (2 of 20 intervals x3)
