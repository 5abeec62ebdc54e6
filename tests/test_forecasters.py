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
