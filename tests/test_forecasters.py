"""Behaviour of the individual models, the AHT forecast and model selection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_forecasters_contract import business_grid, expected_volume, history, next_week

from forecast.config import ForecastSettings
from forecast.forecasters import fit_forecast, forecast_aht, make_model, select_model
from forecast.forecasters.base import ResidualCalibration, slot_key
from forecast.forecasters.topdown import MONTH_POSITIONS, month_position_features


@pytest.fixture(scope="module")
def hist() -> pd.DataFrame:
    return history(weeks=12, seed=3)


# ----------------------------------------------------------------- baselines
def test_seasonal_naive_repeats_last_week_exactly(hist):
    horizon = next_week(hist)
    out = make_model("seasonal_naive").fit(hist).predict(horizon)
    last_week = hist.set_index("ds")["y"].reindex(horizon - pd.Timedelta(days=7))
    np.testing.assert_array_equal(out["mean"].to_numpy(), last_week.to_numpy())


def test_slot_mean_averages_the_last_n_weeks_of_the_same_slot(hist):
    horizon = next_week(hist)[:5]
    out = make_model("slot_mean", weeks=3).fit(hist).predict(horizon)
    series = hist.set_index("ds")["y"]
    expected = np.mean([series.reindex(horizon - pd.Timedelta(days=7 * k)).to_numpy()
                        for k in (1, 2, 3)], axis=0)
    np.testing.assert_allclose(out["mean"].to_numpy(), expected)


def test_slot_mean_skips_gap_filled_rows(hist):
    h = hist.copy()
    last_week = h["ds"] >= h["ds"].max().normalize() - pd.Timedelta(days=6)
    h.loc[last_week, "y"] = 10_000.0
    h.loc[last_week, "filled"] = True
    out = make_model("slot_mean", weeks=4).fit(h).predict(next_week(h))
    assert out["mean"].max() < 1_000


def test_slot_mean_median_resists_an_outlier_week(hist):
    h = hist.copy()
    last_week = h["ds"] >= h["ds"].max().normalize() - pd.Timedelta(days=6)
    h.loc[last_week, "y"] *= 5
    mean = make_model("slot_mean", weeks=5).fit(h).predict(next_week(h))["mean"].sum()
    median = make_model("slot_mean", weeks=5, statistic="median").fit(h).predict(
        next_week(h))["mean"].sum()
    truth = expected_volume(next_week(h)).sum()
    assert abs(median / truth - 1) < 0.05 < abs(mean / truth - 1)


def test_slot_mean_rejects_unknown_statistic(hist):
    from forecast.exceptions import ModelError

    with pytest.raises(ModelError, match="statistic"):
        make_model("slot_mean", statistic="mode").fit(hist)


# ----------------------------------------------------------------- topdown
def test_topdown_recovers_weekday_totals_and_profile():
    h = history(weeks=20, seed=5)
    horizon = next_week(h)
    model = make_model("topdown").fit(h)
    mean = model.predict(horizon)["mean"].to_numpy()
    truth = expected_volume(horizon)
    # per-day totals within 4%, intraday shape within 6% WAPE
    day = horizon.normalize()
    got = pd.Series(mean).groupby(day).sum()
    want = pd.Series(truth).groupby(day).sum()
    assert (np.abs(got / want - 1) < 0.04).all()
    assert np.abs(mean - truth).sum() / truth.sum() < 0.06


def test_topdown_follows_a_level_shift():
    h = history(weeks=16, seed=7)
    late = h["ds"] >= h["ds"].max() - pd.Timedelta(weeks=4)
    h.loc[late, "y"] = np.random.default_rng(1).poisson(
        1.3 * expected_volume(pd.DatetimeIndex(h.loc[late, "ds"]))).astype(float)
    horizon = next_week(h)
    mean = make_model("topdown").fit(h).predict(horizon)["mean"].sum()
    assert mean / expected_volume(horizon).sum() > 1.15


def test_topdown_learns_month_start_effect():
    ds = business_grid("2023-01-02", 7 * 40)
    lam = expected_volume(ds)
    feats = month_position_features(ds.normalize(), {0, 1, 2, 3, 4})
    lam = lam * np.where(feats[:, 0] == 1, 1.3, 1.0)  # first open day of the month +30%
    y = np.random.default_rng(2).poisson(lam).astype(float)
    h = pd.DataFrame({"ds": ds, "y": y})
    model = make_model("topdown").fit(h)
    assert np.exp(model.month_effect_["first_1"]) == pytest.approx(1.3, abs=0.08)


def test_month_positions_count_open_days_only():
    days = pd.DatetimeIndex(["2024-06-03", "2024-06-04", "2024-06-28", "2024-06-27",
                             "2024-06-12"])  # Jun 2024 starts on a Saturday
    f = month_position_features(days, {0, 1, 2, 3, 4})
    got = {str(d.date()): [MONTH_POSITIONS[j] for j in range(5) if f[i, j]]
           for i, d in enumerate(days)}
    assert got == {"2024-06-03": ["first_1"], "2024-06-04": ["first_2"],
                   "2024-06-28": ["last_1"], "2024-06-27": ["last_2"], "2024-06-12": []}


def test_topdown_handles_a_short_friday():
    """Weekdays with different opening hours keep their own profile."""
    ds = business_grid("2024-01-07", 7 * 12, weekdays=(6, 0, 1, 2, 3, 4))
    fri_late = (ds.day_of_week == 4) & (ds.hour >= 13)
    ds = ds[~fri_late]
    y = np.random.default_rng(4).poisson(expected_volume(ds)).astype(float)
    h = pd.DataFrame({"ds": ds, "y": y})
    horizon = pd.DatetimeIndex([t for t in next_week(h, weekdays=(6, 0, 1, 2, 3, 4))
                                if not (t.day_of_week == 4 and t.hour >= 13)])
    mean = make_model("topdown").fit(h).predict(horizon)["mean"].to_numpy()
    truth = expected_volume(horizon)
    assert np.abs(mean - truth).sum() / truth.sum() < 0.08


# ----------------------------------------------------------------- intervals
def test_calibration_covers_poisson_noise_at_the_nominal_rate():
    rng = np.random.default_rng(0)
    mu = rng.uniform(20, 400, 3000)
    y = rng.poisson(mu)
    cal = ResidualCalibration().fit(mu[:1500], y[:1500])
    q = cal.quantiles(mu[1500:], (0.1, 0.9, 0.025, 0.975))
    inside80 = np.mean((y[1500:] >= q[:, 0]) & (y[1500:] <= q[:, 1]))
    assert 0.76 <= inside80 <= 0.84
    assert cal.a_ == pytest.approx(1.0, abs=0.25)


def test_intervals_widen_with_level():
    cal = ResidualCalibration()
    cal.a_, cal.b_ = 1.0, 0.01
    q = cal.quantiles(np.array([10.0, 1000.0]), (0.1, 0.9))
    width = q[:, 1] - q[:, 0]
    assert width[1] > 10 * width[0]


def test_slot_key_is_weekday_and_minute():
    ds = pd.DatetimeIndex(["2024-01-01 00:00", "2024-01-02 08:30", "2024-01-07 23:30"])
    assert slot_key(ds).tolist() == [0, 1440 + 510, 6 * 1440 + 1410]


# ----------------------------------------------------------------- AHT
def test_aht_is_volume_weighted_per_slot_with_fallbacks():
    ds = pd.DatetimeIndex(["2024-01-01 09:00", "2024-01-08 09:00", "2024-01-08 09:30"])
    h = pd.DataFrame({"ds": ds, "y": [10.0, 30.0, 5.0], "aht_s": [200.0, 400.0, np.nan]})
    horizon = pd.DatetimeIndex(["2024-01-15 09:00", "2024-01-15 09:30"])
    got = forecast_aht(h, horizon, default_aht_s=300.0)
    assert got[0] == pytest.approx((10 * 200 + 30 * 400) / 40)
    assert got[1] == pytest.approx((10 * 200 + 30 * 400) / 40)  # queue mean fallback
    no_aht = forecast_aht(h.drop(columns="aht_s"), horizon, default_aht_s=300.0)
    assert no_aht.tolist() == [300.0, 300.0]


# ----------------------------------------------------------------- selection
def test_select_model_scores_every_candidate_and_picks_the_lowest_wape(hist):
    settings = ForecastSettings(backtest_folds=2)
    name, board = select_model(hist, None, settings,
                               candidates=["seasonal_naive", "slot_mean", "topdown"])
    assert list(board.columns) == ["model", "wape", "mase", "bias", "coverage_80",
                                   "coverage_95", "peak_wape", "fit_s", "selected"]
    assert set(board["model"]) == {"seasonal_naive", "slot_mean", "topdown"}
    assert board.loc[board["selected"], "model"].item() == name
    assert board.loc[board["selected"], "wape"].item() == board["wape"].min()
    # seasonal naive carries a full week of Poisson noise: it must lose on clean data
    assert name != "seasonal_naive"


def test_fit_forecast_returns_forecast_with_aht_and_model(hist):
    horizon = next_week(hist, days=14)
    out, choice = fit_forecast(hist, horizon, None, ForecastSettings(backtest_folds=2),
                               default_aht_s=300.0)
    assert list(out.columns) == ["ds", "mean", "p10", "p50", "p90", "aht_s", "model"]
    assert len(out) == len(horizon)
    assert (out["model"] == choice.name).all()
    assert choice.leaderboard is not None and "inner backtest WAPE" in choice.reason
    assert set(np.round(out["aht_s"].unique())) <= {280.0, 300.0}


def test_fit_forecast_with_a_fixed_model_skips_the_backtest(hist):
    out, choice = fit_forecast(hist, next_week(hist), None, ForecastSettings(model="slot_mean"))
    assert choice.name == "slot_mean" and choice.leaderboard is None
    # the history's own AHT (280 s mornings, 300 s afternoons) carries over
    assert set(np.round(out["aht_s"].unique())) == {280.0, 300.0}


# ----------------------------------------------------------------- ensemble
def test_ensemble_is_the_weighted_mean_of_its_members(hist):
    horizon = next_week(hist)
    members = [make_model(n).fit(hist).predict(horizon)["mean"].to_numpy()
               for n in ("topdown", "slot_mean")]
    ens = make_model("ensemble", weights=(3, 1)).fit(hist).predict(horizon)["mean"].to_numpy()
    np.testing.assert_allclose(ens, 0.75 * members[0] + 0.25 * members[1], rtol=1e-9)


def test_ensemble_rejects_itself_as_a_member(hist):
    from forecast.exceptions import ModelError

    with pytest.raises(ModelError, match="members"):
        make_model("ensemble", members=("ensemble",)).fit(hist)


def test_auto_candidates_include_the_ensemble_default():
    from forecast.forecasters.select import AUTO_CANDIDATES, DEFAULT_MODEL

    assert DEFAULT_MODEL in AUTO_CANDIDATES
    assert "prophet" not in AUTO_CANDIDATES  # slow models are opt-in


# ----------------------------------------------------------------- day grid
def test_day_grid_lays_history_out_as_days_by_time_of_day():
    from forecast.forecasters.base import prepare_history
    from forecast.forecasters.daygrid import DayGrid, day_numbers

    h = history(weeks=2, seed=0)
    h.loc[3, "filled"] = True
    grid = DayGrid.from_history(prepare_history(h))
    assert grid.y.shape == (10, 20)  # 10 weekdays x 08:00-17:30 half-hours
    assert grid.minutes[0] == 8 * 60 and grid.minutes[-1] == 17 * 60 + 30
    assert np.nansum(grid.y) == h["y"].sum()
    assert grid.filled.sum() == 1 and grid.filled[0, 3]
    assert (grid.weekday[:5] == np.arange(5)).all()
    # a slice is "everything before that day"
    first_tuesday = day_numbers(pd.DatetimeIndex(["2024-01-02"]))[0][0]
    assert grid.before(first_tuesday).y.shape == (1, 20)
    # horizon cells: a minute the history never had maps to -1
    _, wd, col = grid.cells(pd.DatetimeIndex(["2024-02-05 09:00", "2024-02-05 22:00"]))
    assert wd.tolist() == [0, 0] and col[0] == 2 and col[1] == -1


# ----------------------------------------------------------------- intervals by lead week
def test_calibration_widens_with_lead_week_and_never_narrows():
    rng = np.random.default_rng(1)
    mu = rng.uniform(50, 300, 6000)
    lead = np.repeat([1, 2, 3], 2000)
    level_sd = np.array([0.02, 0.10, 0.06])[lead - 1]  # lead 3 measured *narrower* than 2
    y = rng.poisson(mu * np.exp(rng.normal(0, level_sd)))
    cal = ResidualCalibration().fit(mu, y, lead)
    q = cal.quantiles(np.full(4, 200.0), (0.1, 0.9), lead=np.array([1, 2, 3, 9]))
    width = q[:, 1] - q[:, 0]
    assert width[1] > 1.4 * width[0]
    assert width[2] >= width[1] and width[3] == width[2]  # monotone, held beyond the data
    # and each lead's own coverage is near nominal (lead 3 conservatively wider)
    q = cal.quantiles(mu, (0.1, 0.9), lead=lead)
    inside = (y >= q[:, 0]) & (y <= q[:, 1])
    assert 0.75 <= inside[lead == 1].mean() <= 0.85
    assert 0.75 <= inside[lead == 2].mean() <= 0.85


def test_forecast_intervals_widen_further_ahead(hist):
    model = make_model("slot_mean").fit(hist)
    horizon = next_week(hist, days=28)
    out = model.predict(horizon).set_index("ds")
    lead = model.lead_weeks(horizon)
    assert lead.min() == 1 and lead.max() == 4
    # same slot, same mean, weeks 1 and 4: the later interval is at least as wide
    week1 = horizon[lead == 1]
    week4 = week1 + pd.Timedelta(days=21)
    w1 = (out.loc[week1, "p90"] - out.loc[week1, "p10"]).to_numpy()
    w4 = (out.loc[week4, "p90"] - out.loc[week4, "p10"]).to_numpy()
    np.testing.assert_allclose(out.loc[week1, "mean"].to_numpy(), out.loc[week4, "mean"].to_numpy())
    assert (w4 >= w1 - 1e-9).all()


def test_origin_forecasts_use_only_data_before_each_origin(hist):
    from forecast.forecasters.base import inner_origins, prepare_history
    from forecast.forecasters.daygrid import day_numbers

    h = prepare_history(hist)
    last_day = int(day_numbers(pd.DatetimeIndex([h["ds"].iloc[-1]]))[0][0])
    origins = inner_origins(last_day, 3)
    model = make_model("topdown")
    before = model.origin_forecasts(h, origins, lead_weeks=2)
    # wreck everything from the last origin on: forecasts made at earlier origins for
    # days before it cannot change
    day = day_numbers(h["ds"])[0]
    wrecked = h.copy()
    wrecked.loc[day >= origins[-1], "y"] *= 10
    after = model.origin_forecasts(wrecked, origins, lead_weeks=2)
    early = before.origin < origins[-1]
    np.testing.assert_allclose(before.mean[early], after.mean[early])
    assert (day[before.row] >= before.origin).all()
    assert set(before.lead.tolist()) == {1, 2}


# ----------------------------------------------------------------- topdown level
def test_level_half_life_is_short_for_a_wandering_level_and_long_for_noise():
    from forecast.forecasters.topdown import choose_level_halflife

    rng = np.random.default_rng(0)
    walk = np.cumsum(rng.normal(0, 0.03, 200))
    assert choose_level_halflife(walk + rng.normal(0, 0.005, 200)) <= 3
    assert choose_level_halflife(rng.normal(0, 0.03, 200)) >= 13


def test_topdown_records_its_level_half_life(hist):
    model = make_model("topdown").fit(hist)
    assert model.level_halflife_ > 0
    fixed = make_model("topdown", level_halflife_days=7.0).fit(hist)
    assert fixed.level_halflife_ == 7.0


# ----------------------------------------------------------------- ensemble weights
def test_combination_weights_favour_the_accurate_member_but_shrink_to_equal():
    from forecast.forecasters.ensemble import combination_weights

    rng = np.random.default_rng(0)
    truth = rng.uniform(50, 150, 500)
    good = truth + rng.normal(0, 2, 500)
    bad = truth + rng.normal(0, 30, 500)
    w = combination_weights(np.column_stack([good, bad]), truth, shrink=0.25)
    assert w.sum() == pytest.approx(1.0)
    assert w[0] == pytest.approx(0.75 * 1.0 + 0.25 * 0.5, abs=0.06)
    same = combination_weights(np.column_stack([good, good]), truth)
    assert same.sum() == pytest.approx(1.0) and (same >= 0.125 - 1e-12).all()
    three = combination_weights(np.column_stack([bad, good, bad]), truth)
    assert three.argmax() == 1 and (three > 0).all()


def test_learned_ensemble_weights_lean_on_the_better_member():
    h = history(weeks=20, seed=11)
    ens = make_model("ensemble", members=("topdown", "seasonal_naive")).fit(h)
    assert ens.weights_[0] > ens.weights_[1]
    assert sum(ens.weights_) == pytest.approx(1.0)
    equal = make_model("ensemble", weights="equal").fit(h)
    assert equal.weights_ == [0.5, 0.5]


def test_member_parameters_are_passed_and_saved(hist):
    import json

    from forecast.forecasters import model_from_dict

    ens = make_model("ensemble", members=("topdown", ("slot_mean", {"weeks": 2}))).fit(hist)
    assert ens.models_[1].weeks == 2
    again = model_from_dict(json.loads(json.dumps(ens.to_dict())))
    horizon = next_week(hist, days=14)
    pd.testing.assert_frame_equal(ens.predict(horizon), again.predict(horizon))


def test_an_ensemble_of_fitted_members_equals_a_fitted_ensemble(hist):
    from forecast.forecasters.base import prepare_history
    from forecast.forecasters.ensemble import Ensemble

    h = prepare_history(hist)
    members = [make_model(n).fit(h) for n in ("topdown", "slot_mean")]
    shared = Ensemble.from_fitted(members, h)
    direct = make_model("ensemble").fit(h)
    horizon = next_week(hist, days=14)
    assert shared.weights_ == direct.weights_
    pd.testing.assert_frame_equal(shared.predict(horizon), direct.predict(horizon))


def test_unknown_ensemble_weights_are_rejected(hist):
    from forecast.exceptions import ModelError

    with pytest.raises(ModelError, match="weights 'best'"):
        make_model("ensemble", weights="best").fit(hist)


# ----------------------------------------------------------------- automatic choice
def test_the_default_is_kept_unless_clearly_beaten():
    from forecast.forecasters.select import DEFAULT_MODEL, SELECT_MARGIN, pick_with_margin

    close = pd.DataFrame({"model": [DEFAULT_MODEL, "topdown", "slot_mean"],
                          "wape": [0.050, 0.050 * (1 - SELECT_MARGIN / 2), np.nan]})
    assert pick_with_margin(close) == DEFAULT_MODEL
    clear = close.assign(wape=[0.050, 0.050 * (1 - 2 * SELECT_MARGIN), np.nan])
    assert pick_with_margin(clear) == "topdown"
    no_default = pd.DataFrame({"model": ["topdown", "slot_mean"], "wape": [0.06, 0.05]})
    assert pick_with_margin(no_default) == "slot_mean"


def test_auto_scores_candidates_on_shared_inner_origins_and_reuses_the_fit(hist):
    from forecast.forecasters.select import choose_fitted

    name, model, board = choose_fitted(hist, None, ForecastSettings())
    assert list(board.columns) == ["model", "wape", "mase", "bias", "coverage_80",
                                   "coverage_95", "peak_wape", "fit_s", "selected"]
    assert board["wape"].notna().all() and board["coverage_80"].between(0.5, 1).all()
    assert board.loc[board["selected"], "model"].item() == name == model.name
    # the pipeline forecasts with that very fit: same numbers as predicting it directly
    horizon = next_week(hist)
    out, choice = fit_forecast(hist, horizon, None, ForecastSettings())
    assert choice.name == name
    pd.testing.assert_series_equal(out["mean"], model.predict(horizon)["mean"])


def test_a_clearly_better_candidate_is_selected():
    from forecast.forecasters.select import choose_fitted

    # a step change five weeks ago: seasonal naive copies the new level at once
    h = history(weeks=12, seed=2)
    late = h["ds"] >= h["ds"].max() - pd.Timedelta(weeks=5)
    h.loc[late, "y"] = h.loc[late, "y"] * 3
    name, _, board = choose_fitted(h, None, ForecastSettings(),
                                   candidates=["ensemble", "seasonal_naive", "slot_mean"])
    scores = board.set_index("model")["wape"]
    assert scores["seasonal_naive"] < 0.8 * scores["ensemble"]
    assert name == "seasonal_naive"


def test_the_automatically_chosen_model_round_trips_through_json_exactly():
    import json

    from forecast.event_effects import EventAdjusted
    from forecast.forecasters import model_from_dict
    from forecast.forecasters.select import choose_fitted

    h = history(weeks=12, seed=4)
    ev = pd.DataFrame({"name": ["promo"], "type": ["campaign"],
                       "start": [pd.Timestamp("2024-02-13")], "end": [pd.Timestamp("2024-02-15")]})
    _, model, _ = choose_fitted(h, ev, ForecastSettings())
    assert isinstance(model, EventAdjusted)
    again = model_from_dict(json.loads(json.dumps(model.to_dict())))
    horizon = next_week(h, days=21)
    a, b = model.predict(horizon, ev), again.predict(horizon, ev)
    pd.testing.assert_frame_equal(a, b, check_exact=True)


@pytest.mark.slow
def test_slow_candidates_are_scored_on_the_last_origins_too(hist):
    from forecast.forecasters.select import choose_fitted

    _, _, board = choose_fitted(hist, None, ForecastSettings(backtest_folds=2),
                                candidates=["ensemble", "holt_winters"])
    assert board["wape"].notna().all()  # holt_winters calibrates in-sample, yet is scored


# ----------------------------------------------------------------- statsmodels: MSTL, SARIMAX
def _mon_to_sat(start: str, days: int) -> pd.DatetimeIndex:
    """Monday-Friday 08:00-18:00 and Saturday 09:00-13:00 (closed nights and Sundays)."""
    ds = business_grid(start, days, weekdays=(0, 1, 2, 3, 4, 5))
    sat = ds.day_of_week == 5
    return ds[~sat | ((ds.hour >= 9) & (ds.hour < 13))]


@pytest.mark.parametrize("short_saturday", [False, True])
def test_mstl_recovers_a_daily_and_weekly_pattern_counted_in_open_intervals(short_saturday):
    """Seasons counted in open intervals (closed nights, closed Sunday): Monday-Friday
    08-18 has a daily season of 20 half-hours and a weekly one of 100; with a short
    Saturday (09-13) days differ in length and the weekly season of 108 carries the
    shape alone. Either way the forecast matches the true weekday totals and shape."""
    if short_saturday:
        ds = _mon_to_sat("2024-01-01", 7 * 14)
    else:
        ds = business_grid("2024-01-01", 7 * 14)
    # intraday hump x weekday factor (Monday 1.25, Wednesday 1.0, Saturday 0.6)
    y = np.random.default_rng(11).poisson(expected_volume(ds, level=200.0)).astype(float)
    h = pd.DataFrame({"ds": ds, "y": y})
    start = str((ds.max().normalize() + pd.Timedelta(days=1)).date())
    horizon = _mon_to_sat(start, 7) if short_saturday else business_grid(start, 7)
    model = make_model("mstl", fit_weeks=12).fit(h)
    assert model.periods_ == ([108] if short_saturday else [20, 100])
    mean = model.predict(horizon)["mean"].to_numpy()
    truth = expected_volume(horizon, level=200.0)
    day = horizon.normalize()
    got = pd.Series(mean).groupby(day).sum()
    want = pd.Series(truth).groupby(day).sum()
    assert (np.abs(got / want - 1) < 0.04).all(), (got / want).round(3).to_dict()
    assert np.abs(mean - truth).sum() / truth.sum() < 0.05
    # the Monday peak is Monday's, not smeared over the week
    mon, wed = horizon.day_of_week == 0, horizon.day_of_week == 2
    assert mean[mon].sum() / mean[wed].sum() == pytest.approx(1.25, abs=0.05)


def test_mstl_and_sarimax_need_enough_history():
    from forecast.exceptions import ModelError

    short = history(weeks=1, seed=1)
    with pytest.raises(ModelError, match="mstl needs at least two weeks"):
        make_model("mstl").fit(short)
    with pytest.raises(ModelError, match="sarimax needs at least three weeks"):
        make_model("sarimax").fit(short)


def test_mstl_gets_event_effects_from_the_wrapper_and_sarimax_handles_events_itself():
    from forecast.event_effects import EventAdjusted
    from forecast.forecasters import build_model

    ev = pd.DataFrame({"name": ["promo"], "type": ["campaign"],
                       "start": [pd.Timestamp("2024-02-13")], "end": [pd.Timestamp("2024-02-14")]})
    assert isinstance(build_model("mstl", ev), EventAdjusted)
    assert isinstance(build_model("holt_winters", ev), EventAdjusted)
    assert type(build_model("sarimax", ev)).__name__ == "SarimaxTopDown"


def _campaign_history(weeks: int, campaign_days: list[str], lift: float = 1.3,
                      seed: int = 21) -> tuple[pd.DataFrame, pd.DataFrame]:
    ds = business_grid("2024-01-01", 7 * weeks)
    lam = expected_volume(ds)
    on = np.isin(ds.normalize(), pd.DatetimeIndex(campaign_days))
    y = np.random.default_rng(seed).poisson(lam * np.where(on, lift, 1.0)).astype(float)
    ev = pd.DataFrame({"name": [f"campaign {d}" for d in campaign_days], "type": "campaign",
                       "start": pd.DatetimeIndex(campaign_days),
                       "end": pd.DatetimeIndex(campaign_days) + pd.Timedelta(days=1),
                       "weight": 1.0})
    return pd.DataFrame({"ds": ds, "y": y, "filled": False}), ev


def test_sarimax_learns_a_campaign_lift_and_applies_it_to_a_future_campaign_day():
    past = ["2024-01-17", "2024-02-02", "2024-02-20", "2024-03-05", "2024-03-21",
            "2024-04-08"]
    h, ev = _campaign_history(16, past)
    assert h["ds"].max() < pd.Timestamp("2024-04-22")
    future = pd.DataFrame({"name": ["spring offer"], "type": ["campaign"],
                           "start": [pd.Timestamp("2024-04-24")],  # a Wednesday
                           "end": [pd.Timestamp("2024-04-25")], "weight": [1.0]})
    events = pd.concat([ev, future], ignore_index=True)
    model = make_model("sarimax").fit(h, events)
    assert np.exp(model.event_coef_["campaign"]) == pytest.approx(1.3, abs=0.06)
    horizon = next_week(h, days=14)
    out = model.predict(horizon, events)
    day = pd.Series(out["mean"].to_numpy()).groupby(horizon.normalize()).sum()
    campaign_wed = day[pd.Timestamp("2024-04-24")]
    plain_wed = day[pd.Timestamp("2024-05-01")]  # same weekday a week later, no campaign
    assert campaign_wed / plain_wed == pytest.approx(1.3, abs=0.08)
    # without the event the Wednesday is an ordinary one
    no_event = model.predict(horizon)["mean"].to_numpy()
    wed = horizon.normalize() == pd.Timestamp("2024-04-24")
    assert out["mean"].to_numpy()[wed].sum() / no_event[wed].sum() == pytest.approx(
        np.exp(model.event_coef_["campaign"]), rel=1e-6)
    np.testing.assert_allclose(out["mean"].to_numpy()[~wed], no_event[~wed])


def test_sarimax_puts_a_part_day_event_inside_its_hours():
    past = ["2024-01-17", "2024-02-02", "2024-02-20", "2024-03-05", "2024-03-21"]
    h, ev = _campaign_history(16, past)
    model = make_model("sarimax").fit(h, ev)
    afternoon = pd.DataFrame({"name": ["flash sale"], "type": ["campaign"],
                              "start": [pd.Timestamp("2024-04-24 14:00")],
                              "end": [pd.Timestamp("2024-04-24 16:00")], "weight": [1.0]})
    horizon = next_week(h)
    with_ev = model.predict(horizon, afternoon)["mean"].to_numpy()
    plain = model.predict(horizon)["mean"].to_numpy()
    inside = (horizon >= pd.Timestamp("2024-04-24 14:00")) & (
        horizon < pd.Timestamp("2024-04-24 16:00"))
    np.testing.assert_allclose(with_ev[~inside], plain[~inside])
    ratio = with_ev[inside] / plain[inside]
    assert ratio == pytest.approx(np.full(inside.sum(), ratio[0]))  # one multiplier
    assert 1.2 < ratio[0] < 1.45  # the campaign lift, concentrated in the two hours


def test_sarimax_forecasts_a_holiday_the_queue_closed_on_at_zero():
    h = history(weeks=12, seed=8)
    closed = h["ds"].dt.normalize() == pd.Timestamp("2024-02-19")
    h.loc[closed, "filled"] = True  # no contact observed that day
    hol = pd.DataFrame({"name": ["Founders Day", "Founders Day"], "type": "holiday",
                        "start": pd.DatetimeIndex(["2024-02-19", "2024-03-27"]),
                        "end": pd.DatetimeIndex(["2024-02-20", "2024-03-28"])})
    model = make_model("sarimax").fit(h, hol)
    assert model.closed_holidays_ == ["Founders Day"]
    horizon = next_week(h)
    out = model.predict(horizon, hol)
    on = horizon.normalize() == pd.Timestamp("2024-03-27")
    assert on.any() and (out.loc[on, "mean"] == 0).all()
    assert (out.loc[~on, "mean"] > 0).all()


def test_prophet_uses_the_events_given_to_predict_and_logs_nothing(capfd):
    hist = history(8)
    days = hist["ds"].dt.normalize().drop_duplicates()
    horizon = next_week(hist)

    def promo(day: pd.Timestamp) -> dict:
        return {"name": "promo", "type": "campaign", "start": day,
                "end": day + pd.Timedelta(days=1), "queue": None, "weight": 1.0}

    past = pd.DataFrame([promo(d) for d in days.iloc[[10, 20, 30]]])
    model = make_model("prophet").fit(hist, past)
    future = pd.concat([past, pd.DataFrame([promo(horizon[0].normalize())])])
    plain = model.predict(horizon, past)["mean"].to_numpy()
    with_promo = model.predict(horizon, future)["mean"].to_numpy()
    first_day = horizon.normalize() == horizon[0].normalize()
    assert not np.allclose(plain[first_day], with_promo[first_day])
    np.testing.assert_allclose(plain[~first_day], with_promo[~first_day])
    np.testing.assert_allclose(model.predict(horizon)["mean"], plain)  # no events: none
    out, err = capfd.readouterr()
    assert "plotly" not in out + err and "cmdstanpy" not in out + err
