"""Backtest metrics, rolling origins, and the `wfm backtest` / `wfm forecast` commands."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from test_forecasters_contract import history

from forecast.backtest import (
    Fold,
    backtest,
    bias,
    coverage,
    mase,
    peak_wape,
    rolling_origins,
    seasonal_naive_mae,
    summarise,
    wape,
)
from forecast.exceptions import ConfigError
from forecast.forecasters import make_model


# ------------------------------------------------------------------ metrics
def test_wape_bias_mase_coverage_on_hand_worked_numbers():
    actual = np.array([10.0, 20.0, 30.0, 40.0])
    pred = np.array([12.0, 18.0, 33.0, 40.0])
    assert wape(actual, pred) == pytest.approx(7 / 100)
    assert bias(actual, pred) == pytest.approx(3 / 100)
    assert mase(actual, pred, scale=3.5) == pytest.approx((7 / 4) / 3.5)
    assert coverage(actual, actual - 1, actual + [1, -1, 1, 1]) == pytest.approx(0.75)
    assert np.isnan(wape(np.zeros(3), np.ones(3)))


def test_peak_wape_scores_only_the_busiest_intervals():
    actual = np.arange(1.0, 101.0)
    pred = actual.copy()
    pred[-5:] *= 1.1  # error only on the top 5%
    assert wape(actual, pred) < 0.05
    assert peak_wape(actual, pred) == pytest.approx(0.1)


def test_seasonal_naive_scale_skips_filled_rows():
    h = history(weeks=4, seed=1)
    base = seasonal_naive_mae(h)
    spoiled = h.copy()
    spoiled.loc[spoiled.index[-30:], "y"] = 1e5
    spoiled.loc[spoiled.index[-30:], "filled"] = True
    assert seasonal_naive_mae(spoiled) < 1.2 * base


def test_rolling_origins_end_at_the_last_day_and_step_back():
    ds = pd.date_range("2024-01-01", "2024-03-31 23:30", freq="30min")
    folds = rolling_origins(ds, folds=4, horizon_days=7, step_days=7)
    assert [f.origin for f in folds] == list(pd.to_datetime(
        ["2024-03-04", "2024-03-11", "2024-03-18", "2024-03-25"]))
    assert folds[-1].end == pd.Timestamp("2024-04-01")
    assert rolling_origins(ds[:48 * 10], folds=4) == []  # < two weeks to train on


def test_backtest_trains_before_each_origin_and_never_scores_filled_rows():
    h = history(weeks=8, seed=4)
    h.loc[h.index[-25:-5], "filled"] = True
    seen_ends = []

    class Spy(type(make_model("slot_mean"))):
        def _fit(self, hist, events=None):
            seen_ends.append(hist["ds"].max())
            super()._fit(hist, events)

    folds = rolling_origins(h["ds"], folds=2)
    scored = backtest(h, lambda: Spy(calibration_weeks=0), fold_list=folds)
    assert all(end < folds[0].origin or end < folds[1].origin for end in seen_ends)
    assert not scored["ds"].isin(h.loc[h["filled"], "ds"]).any()
    assert set(scored["fold"]) == {1, 2}
    m = summarise(scored)
    assert 0 < m["wape"] < 0.2 and 0 <= m["coverage_80"] <= 1 and m["fit_s"] >= 0


def test_fold_dataclass_is_explicit():
    f = Fold(1, pd.Timestamp("2024-01-08"), pd.Timestamp("2024-01-15"))
    assert f.end - f.origin == pd.Timedelta(days=7)


# ------------------------------------------------------------------ commands
@pytest.fixture(scope="module")
def small_centre(tmp_path_factory):
    """A one-queue centre on synthetic data with an events file."""
    root = tmp_path_factory.mktemp("centre")
    h = history(weeks=10, seed=8)
    mailshot = h["ds"].dt.normalize() == pd.Timestamp("2024-02-13")
    h.loc[mailshot, "y"] = np.round(h.loc[mailshot, "y"] * 1.5)  # the mailshot's real lift
    pd.DataFrame({"queue": "sales", "timestamp": h["ds"].dt.strftime("%Y-%m-%d %H:%M"),
                  "volume": h["y"].astype(int), "aht_s": 300.0}).to_csv(
        root / "volumes.csv", index=False)
    (root / "events.csv").write_text("name,type,start,end,queue,weight\n"
                                     "Mailshot,campaign,2024-02-13,2024-02-14,,1\n")
    (root / "centre.toml").write_text(
        '[centre]\nname = "Test"\ntimezone = "Europe/London"\ninterval_min = 30\n'
        '[data]\nvolumes = "volumes.csv"\nevents = "events.csv"\n'
        '[forecast]\nhorizon_days = 14\nbacktest_folds = 2\n'
        '[defaults]\nhours = { mon = "08:00-18:00", tue = "08:00-18:00", wed = "08:00-18:00", '
        'thu = "08:00-18:00", fri = "08:00-18:00" }\n')
    return root


def _wfm(args):
    from forecast.cli import wfm

    return CliRunner().invoke(wfm, args, catch_exceptions=False)


def test_wfm_backtest_writes_the_leaderboard(small_centre, tmp_path):
    res = _wfm(["backtest", str(small_centre / "centre.toml"), "--out", str(tmp_path),
                "--models", "slot_mean,topdown", "--folds", "2"])
    assert res.exit_code == 0, res.output
    board = pd.read_csv(tmp_path / "leaderboard.csv")
    assert list(board.columns) == ["queue", "model", "wape", "mase", "bias", "coverage_80",
                                   "coverage_95", "peak_wape", "fit_s", "selected"]
    assert set(board["model"]) == {"slot_mean", "topdown"} and board["selected"].sum() == 1
    assert (tmp_path / "leaderboard.png").stat().st_size > 1000
    assert "slot_mean" in res.output


def test_wfm_backtest_rejects_an_unknown_model(small_centre, tmp_path):
    res = _wfm(["backtest", str(small_centre / "centre.toml"), "--out", str(tmp_path),
                "--models", "slot_mean,crystal_ball"])
    assert res.exit_code == 2 and "crystal_ball" in res.output


def test_wfm_forecast_writes_forecast_peaks_and_chart(small_centre, tmp_path):
    res = _wfm(["forecast", str(small_centre / "centre.toml"), "--out", str(tmp_path),
                "--model", "topdown"])
    assert res.exit_code == 0, res.output
    fc = pd.read_csv(tmp_path / "forecast.csv", parse_dates=["ds"])
    assert list(fc.columns) == ["queue", "ds", "mean", "p10", "p50", "p90", "aht_s", "model"]
    assert len(fc) == 10 * 20  # ten open weekdays of 20 half-hours
    assert (fc["model"] == "topdown").all() and (fc["aht_s"] == 300.0).all()
    assert (tmp_path / "peaks.csv").exists() and (tmp_path / "forecast_sales.png").exists()


def test_wfm_forecast_what_if_event_raises_the_forecast(small_centre, tmp_path):
    base = tmp_path / "base"
    what_if = tmp_path / "what_if"
    args = ["forecast", str(small_centre / "centre.toml"), "--model", "topdown", "--no-charts"]
    assert _wfm([*args, "--out", str(base)]).exit_code == 0
    res = _wfm([*args, "--out", str(what_if), "--event",
                "Mailshot again,campaign,2024-03-12,2024-03-12,sales,1"])
    assert res.exit_code == 0, res.output
    a = pd.read_csv(base / "forecast.csv", parse_dates=["ds"]).set_index("ds")["mean"]
    b = pd.read_csv(what_if / "forecast.csv", parse_dates=["ds"]).set_index("ds")["mean"]
    day = a.index.normalize() == pd.Timestamp("2024-03-12")
    assert b[day].sum() / a[day].sum() == pytest.approx(1.5, abs=0.1)  # learned, not assumed
    assert np.allclose(b[a.index.normalize() < pd.Timestamp("2024-03-12")],
                       a[a.index.normalize() < pd.Timestamp("2024-03-12")])
    peaks = pd.read_csv(what_if / "peaks.csv")
    assert "Mailshot again" in set(peaks["event"].dropna())


def test_wfm_forecast_bad_event_spec_is_a_usage_error(small_centre, tmp_path):
    res = _wfm(["forecast", str(small_centre / "centre.toml"), "--out", str(tmp_path),
                "--event", "only,two"])
    assert res.exit_code == 2 and "name,type,start,end" in res.output


def test_wfm_forecast_missing_config_is_a_one_line_error(tmp_path):
    res = _wfm(["forecast", str(tmp_path / "nope.toml"), "--out", str(tmp_path)])
    assert res.exit_code == 1
    assert "config file not found" in res.output


@pytest.mark.parametrize("layout", [{"folds": 0}, {"horizon_days": 0}, {"step_days": -1}])
def test_an_empty_fold_layout_is_an_error_not_an_empty_table(layout):
    key = next(iter(layout))
    with pytest.raises(ConfigError, match=f"backtest {key} must be at least 1"):
        backtest(history(6), lambda: make_model("slot_mean"), **layout)
