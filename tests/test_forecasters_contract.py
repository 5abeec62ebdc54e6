"""Every registered forecaster honours the same contract."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from forecast.exceptions import DataValidationError, ForecastWarning, ModelError, NotFittedError
from forecast.forecasters import MODELS, make_model, model_from_dict, quantile_column
from forecast.forecasters.base import _load_builtin_models

_load_builtin_models()

WEEKDAY_FACTOR = np.array([1.25, 1.05, 1.0, 0.98, 1.1, 0.6, 0.5])


def business_grid(start: str, days: int, *, open_h: int = 8, close_h: int = 18,
                  weekdays: tuple[int, ...] = (0, 1, 2, 3, 4), freq: str = "30min"
                  ) -> pd.DatetimeIndex:
    """Interval starts during opening hours only (closed hours absent)."""
    full = pd.date_range(start, periods=days * 24 * 2, freq=freq)
    keep = np.isin(full.day_of_week, weekdays) & (full.hour >= open_h) & (full.hour < close_h)
    return full[keep]


def expected_volume(ds: pd.DatetimeIndex, level: float = 100.0) -> np.ndarray:
    """A smooth intraday hump times a weekday factor."""
    hour = ds.hour.to_numpy() + ds.minute.to_numpy() / 60.0
    shape = 0.4 + np.exp(-0.5 * ((hour - 11.0) / 2.0) ** 2) + 0.7 * np.exp(
        -0.5 * ((hour - 15.0) / 1.5) ** 2)
    return level * shape * WEEKDAY_FACTOR[ds.day_of_week.to_numpy()]


def history(weeks: int = 10, *, seed: int = 0, level: float = 100.0, start: str = "2024-01-01",
            **grid) -> pd.DataFrame:
    """Poisson history with ``ds, y, aht_s, filled`` on business hours."""
    rng = np.random.default_rng(seed)
    ds = business_grid(start, weeks * 7, **grid)
    lam = expected_volume(ds, level)
    return pd.DataFrame({
        "ds": ds,
        "y": rng.poisson(lam).astype("float64"),
        "aht_s": 280.0 + 20.0 * (ds.hour.to_numpy() >= 12),
        "filled": False,
    })


def next_week(hist: pd.DataFrame, days: int = 7, **grid) -> pd.DatetimeIndex:
    start = hist["ds"].max().normalize() + pd.Timedelta(days=1)
    return business_grid(str(start.date()), days, **grid)


SLOW = {"prophet", "holt_winters", "mstl", "sarimax"}
NAMES = sorted(MODELS)


def _params(name: str) -> list:
    return [pytest.param(name, marks=pytest.mark.slow) if name in SLOW else name]


ALL = [p for n in NAMES for p in _params(n)]


@pytest.fixture(scope="module")
def hist() -> pd.DataFrame:
    return history(weeks=9, seed=1)


def test_quantile_column_names():
    assert quantile_column(0.1) == "p10"
    assert quantile_column(0.5) == "p50"
    assert quantile_column(0.975) == "p97.5"
    assert quantile_column(0.025) == "p2.5"
    with pytest.raises(ValueError):
        quantile_column(1.0)


def test_registry_has_the_core_models():
    assert {"seasonal_naive", "slot_mean", "topdown"} <= set(MODELS)


def test_unknown_model_names_the_choices():
    with pytest.raises(ModelError, match="unknown model 'nope'.*slot_mean"):
        make_model("nope")


@pytest.mark.parametrize("name", ALL)
def test_fit_returns_self_and_predict_has_the_contract_columns(name, hist):
    model = make_model(name)
    assert model.fit(hist) is model
    horizon = next_week(hist)
    out = model.predict(horizon, quantiles=(0.1, 0.5, 0.9, 0.975))
    assert list(out.columns) == ["ds", "mean", "p10", "p50", "p90", "p97.5"]
    assert len(out) == len(horizon)
    assert (pd.DatetimeIndex(out["ds"]) == horizon).all()
    values = out[["mean", "p10", "p50", "p90", "p97.5"]].to_numpy()
    assert np.isfinite(values).all() and (values >= 0).all()
    q = out[["p10", "p50", "p90", "p97.5"]].to_numpy()
    assert (np.diff(q, axis=1) >= -1e-9).all(), "quantiles must not cross"
    assert (out["p90"] > out["p10"]).mean() > 0.95, "intervals must have width"


@pytest.mark.parametrize("name", ALL)
def test_forecast_tracks_the_truth(name, hist):
    """On clean Poisson data every model gets within 15% WAPE of the true mean."""
    horizon = next_week(hist)
    mean = make_model(name).fit(hist).predict(horizon)["mean"].to_numpy()
    truth = expected_volume(horizon)
    assert np.abs(mean - truth).sum() / truth.sum() < 0.15


@pytest.mark.parametrize("name", ALL)
def test_inputs_are_not_mutated(name, hist):
    before = hist.copy(deep=True)
    horizon = next_week(hist)
    make_model(name).fit(hist).predict(horizon)
    pd.testing.assert_frame_equal(hist, before)


@pytest.mark.parametrize("name", ALL)
def test_learned_attributes_end_in_underscore(name, hist):
    model = make_model(name)
    before = set(vars(model))
    assert not any(k.endswith("_") for k in before), "__init__ only stores parameters"
    model.fit(hist)
    learned = set(vars(model)) - before
    assert learned and all(k.endswith("_") for k in learned if not k.startswith("_"))


@pytest.mark.parametrize("name", ALL)
def test_predict_before_fit_raises(name):
    with pytest.raises(NotFittedError):
        make_model(name).predict(pd.date_range("2024-01-01", periods=3, freq="30min"))


@pytest.mark.parametrize("name", ALL)
def test_deterministic(name, hist):
    horizon = next_week(hist)
    a = make_model(name).fit(hist).predict(horizon)
    b = make_model(name).fit(hist).predict(horizon)
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("name", ALL)
def test_forecasts_only_the_given_intervals_in_their_order(name, hist):
    horizon = next_week(hist)[::-3]  # a sparse, reversed horizon
    out = make_model(name).fit(hist).predict(horizon)
    assert (pd.DatetimeIndex(out["ds"]) == horizon).all()
    full = make_model(name).fit(hist).predict(next_week(hist)).set_index("ds")
    np.testing.assert_allclose(out["mean"].to_numpy(), full.loc[horizon, "mean"].to_numpy(),
                               rtol=1e-9)


@pytest.mark.parametrize("name", ALL)
def test_closed_hours_do_not_drag_the_forecast_down(name, hist):
    """History has no night rows; the forecast for open hours stays at open-hour level."""
    horizon = next_week(hist)
    mean = make_model(name).fit(hist).predict(horizon)["mean"]
    assert mean.mean() > 0.8 * hist["y"].mean()


def test_history_without_y_is_rejected():
    with pytest.raises(DataValidationError, match="'y'"):
        make_model("slot_mean").fit(pd.DataFrame({"ds": pd.date_range("2024", periods=3)}))


def test_negative_counts_are_rejected(hist):
    bad = hist.copy()
    bad.loc[5, "y"] = -1.0
    with pytest.raises(DataValidationError, match=">= 0"):
        make_model("topdown").fit(bad)


def test_repeated_timestamps_are_rejected(hist):
    bad = pd.concat([hist, hist.iloc[[3]]])
    with pytest.raises(DataValidationError, match="repeats"):
        make_model("seasonal_naive").fit(bad)


@pytest.mark.parametrize("name", ["seasonal_naive", "slot_mean", "topdown"])
def test_json_round_trip_gives_identical_forecasts(name, hist):
    model = make_model(name).fit(hist)
    state = json.loads(json.dumps(model.to_dict()))
    again = model_from_dict(state)
    horizon = next_week(hist, days=14)
    pd.testing.assert_frame_equal(model.predict(horizon), again.predict(horizon))


def test_saving_an_unfitted_model_raises():
    with pytest.raises(NotFittedError):
        make_model("topdown").to_dict()


@pytest.mark.parametrize("name", ["holt_winters", "mstl", "sarimax"])
def test_models_holding_statsmodels_results_refuse_to_be_saved(name, hist):
    model = make_model(name).fit(hist)
    stored = "can be stored: ensemble, seasonal_naive, slot_mean, topdown"
    with pytest.raises(ModelError, match=f"model '{name}' cannot be saved as JSON.*{stored}"):
        model.to_dict()


# ----------------------------------------------------------- review fixes (contract)


def test_quantiles_come_back_in_the_requested_order_and_a_single_number_is_one(hist):
    model = make_model("ensemble").fit(hist)
    horizon = next_week(hist)[:3]
    sorted_fc = model.predict(horizon, quantiles=(0.1, 0.5, 0.9))
    shuffled = model.predict(horizon, quantiles=(0.9, 0.1, 0.5))
    assert list(shuffled.columns) == ["ds", "mean", "p90", "p10", "p50"]
    for col in ("p10", "p50", "p90"):
        np.testing.assert_allclose(shuffled[col], sorted_fc[col])
    assert (shuffled["p10"] < shuffled["p90"]).all()
    single = model.predict(horizon, quantiles=0.5)
    np.testing.assert_allclose(single["p50"], sorted_fc["p50"])


@pytest.mark.parametrize("name", ["seasonal_naive", "slot_mean", "topdown", "ensemble"])
def test_slots_never_open_in_history_stay_closed_with_one_warning(name, hist):
    model = make_model(name).fit(hist)
    monday = next_week(hist)[0].normalize()
    horizon = pd.DatetimeIndex([monday + pd.Timedelta(hours=3),      # closed at night
                                monday + pd.Timedelta(days=6, hours=12),  # Sunday: closed
                                monday + pd.Timedelta(hours=12)])    # open
    with pytest.warns(ForecastWarning, match="2 horizon time.*never had open") as caught:
        fc = model.predict(horizon)
    assert len([w for w in caught if issubclass(w.category, ForecastWarning)]) == 1
    assert (fc.loc[:1, ["mean", "p10", "p50", "p90"]].to_numpy() == 0).all()
    assert fc.loc[2, "mean"] > 0
    # the plan asks for configured opening hours and lets the model extrapolate them
    extrapolated = model.predict(horizon, unseen="extrapolate")
    np.testing.assert_allclose(extrapolated.loc[2:, "mean"], fc.loc[2:, "mean"])


def test_closed_slots_survive_saving(hist):
    model = model_from_dict(json.loads(json.dumps(make_model("slot_mean").fit(hist).to_dict())))
    sunday = next_week(hist)[0].normalize() + pd.Timedelta(days=6, hours=12)
    with pytest.warns(ForecastWarning):
        assert model.predict([sunday])["mean"].iloc[0] == 0


@pytest.mark.parametrize("bad, message", [
    (["2024-03-18 12:10"], "2024-03-18 12:10:00 is off the history's 30-minute interval grid"),
    ([None, "2024-03-18 12:00"], "missing time \\(NaT\\) at position 0"),
])
def test_horizon_times_off_the_grid_or_missing_are_one_clear_error(hist, bad, message):
    model = make_model("slot_mean").fit(hist)
    with pytest.raises(DataValidationError, match=message):
        model.predict(pd.DatetimeIndex(bad))


def test_a_model_ignoring_events_says_so_once():
    from forecast.forecasters import build_model

    hist = history(8)
    events = pd.DataFrame({"name": ["promo"], "type": ["campaign"],
                           "start": [hist["ds"].iloc[100].normalize()],
                           "end": [hist["ds"].iloc[100].normalize() + pd.Timedelta(days=1)],
                           "queue": [None], "weight": [1.0]})
    model = make_model("slot_mean")
    with pytest.warns(ForecastWarning, match="'slot_mean' ignores events; use build_model") as w:
        model.fit(hist, events).predict(next_week(hist), events)
    assert len([x for x in w if "ignores events" in str(x.message)]) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        build_model("slot_mean", events).fit(hist, events).predict(next_week(hist), events)
        make_model("slot_mean").fit(hist).predict(next_week(hist))


def test_prediction_with_several_queues_hints_at_the_cause(hist):
    both = pd.concat([hist.assign(queue="voice"), hist.assign(queue="chat")])
    with pytest.raises(DataValidationError, match="several queues \\(voice, chat\\): pass one"):
        make_model("slot_mean").fit(both)
