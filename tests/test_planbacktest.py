"""Plan backtest: each fold's plan replayed against the fold's actual arrivals.

The synthetic centre has known Poisson rates, so a plan staffed on the actual counts
must buy about the service level it was staffed for, and a forecast that runs low must
buy less.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from forecast.config import DataSource, ForecastSettings, PlanConfig, QueueConfig, parse_hours
from forecast.exceptions import DataValidationError, ForecastError
from forecast.plan import Scenario
from forecast.planbacktest import (
    ALL_FOLDS,
    DAILY_COLUMNS,
    INTERVAL_COLUMNS,
    SUMMARY_COLUMNS,
    PlanBacktestResult,
    backtest_plans,
    combine_results,
    write_plan_backtest,
)

SLOTS_PER_DAY = 20  # 08:00 to 18:00 in half-hours


def poisson_history(weeks: int = 5, *, seed: int = 0, base: float = 60.0,
                    aht_s: float | None = None) -> pd.DataFrame:
    """Weekdays 08:00-18:00, 30-minute Poisson counts around a known daily profile."""
    days = pd.bdate_range("2024-01-01", periods=5 * weeks)
    ds = (days.values[:, None] + (8 * 60 + 30 * np.arange(SLOTS_PER_DAY))[None, :]
          * np.timedelta64(1, "m")).ravel()
    slot = np.tile(np.arange(SLOTS_PER_DAY), len(days))
    rate = base * (0.6 + 0.8 * np.sin(np.pi * (slot + 0.5) / SLOTS_PER_DAY))
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"ds": pd.DatetimeIndex(ds), "y": rng.poisson(rate).astype(float),
                          "filled": False})
    if aht_s is not None:
        frame["aht_s"] = aht_s
    return frame


def plan_config(*, model: str = "slot_mean", folds: int = 2) -> PlanConfig:
    return PlanConfig(
        data=DataSource(volumes=Path("unused.csv")),
        interval_min=30,
        forecast=ForecastSettings(model=model, backtest_folds=folds, backtest_horizon_days=7,
                                  backtest_step_days=7),
    )


VOICE = QueueConfig(name="sales", channel="voice", service_level=0.8, answer_s=20, aht_s=240,
                    shrinkage=0.3, max_occupancy=1.0)


def run(history=None, queue=VOICE, **kwargs) -> PlanBacktestResult:
    kwargs.setdefault("replications", 5)
    kwargs.setdefault("seed", 3)
    return backtest_plans(poisson_history() if history is None else history, None, queue,
                          plan_config(), **kwargs)


@pytest.fixture(scope="module")
def baseline() -> PlanBacktestResult:
    return run()


@pytest.fixture(scope="module")
def low_forecast() -> PlanBacktestResult:
    return run(scenario=Scenario(volume_scale=0.8))


def overall(result: PlanBacktestResult) -> pd.Series:
    return result.summary.set_index("fold").loc[ALL_FOLDS]


# ------------------------------------------------------------------ library
def test_tables_have_the_documented_columns_and_one_row_per_replayed_interval(baseline):
    assert tuple(baseline.intervals.columns[:len(INTERVAL_COLUMNS)]) == INTERVAL_COLUMNS
    assert tuple(baseline.daily.columns) == DAILY_COLUMNS
    assert tuple(baseline.summary.columns) == SUMMARY_COLUMNS
    assert [f.number for f in baseline.folds] == [1, 2]
    assert len(baseline.intervals) == 2 * 5 * SLOTS_PER_DAY  # two weeks of weekdays
    assert len(baseline.daily) == 10
    assert list(baseline.summary["fold"]) == [1, 2, ALL_FOLDS]
    assert baseline.models == {1: "slot_mean", 2: "slot_mean"}


def test_each_fold_replays_exactly_the_actual_counts_of_its_days(baseline):
    h = poisson_history()
    actual = h.set_index("ds")["y"]
    iv = baseline.intervals
    assert np.array_equal(iv["volume_actual"].to_numpy(), actual.loc[iv["ds"]].to_numpy())
    for fold in baseline.folds:
        rows = iv[iv["fold"] == fold.number]
        assert rows["ds"].min() >= fold.origin and rows["ds"].max() < fold.end


def test_the_perfect_plan_buys_about_the_service_level_it_was_staffed_for(baseline):
    row = overall(baseline)
    # integer agents round up, so the perfect plan lands at or a little above its goal
    assert row["sl_goal"] <= row["sl_perfect"] <= 0.95
    assert row["sl_perfect_lo"] <= row["sl_perfect"] <= row["sl_perfect_hi"]
    # and within a few points of Erlang C's promise for its agents: a little above it,
    # because the perfect plan knows each interval's realised count, Poisson noise included
    assert 0 <= row["sl_perfect"] - row["sl_promised_perfect"] <= 0.07
    assert row["intervals_meeting_perfect"] > 0.7


def test_a_forecast_twenty_percent_low_buys_less_service_with_fewer_agent_hours(
        baseline, low_forecast):
    low, perfect = overall(low_forecast), overall(baseline)
    assert low["sl_plan"] < low["sl_perfect"] - 0.15
    assert low["sl_plan_hi"] < low["sl_perfect_lo"]
    assert low["sl_plan"] < low["sl_goal"]
    assert low["intervals_meeting_plan"] < low["intervals_meeting_perfect"]
    assert low["agent_hours_ratio"] < 0.9
    assert low["bias"] == pytest.approx(0.8 * (1 + perfect["bias"]) - 1, abs=1e-9)
    # the perfect plan is never adjusted by the scenario
    assert low["sl_perfect"] == pytest.approx(perfect["sl_perfect"])


def test_an_unbiased_forecast_plan_stays_close_to_the_perfect_plan(baseline):
    row = overall(baseline)
    assert abs(row["bias"]) < 0.05
    assert 0.9 < row["agent_hours_ratio"] < 1.1
    assert row["sl_plan"] > 0.6


def test_agent_hours_are_scheduled_heads_times_interval_hours(baseline):
    iv, daily = baseline.intervals, baseline.daily
    first = daily.iloc[0]
    rows = iv[iv["ds"].dt.normalize() == first["date"]]
    assert first["agent_hours_plan"] == pytest.approx(rows["heads_plan"].sum() * 0.5)
    assert first["agent_hours_perfect"] == pytest.approx(rows["heads_perfect"].sum() * 0.5)
    assert first["agent_hours_ratio"] == pytest.approx(
        first["agent_hours_plan"] / first["agent_hours_perfect"])
    # heads cover the productive agents after 30% shrinkage
    assert (iv["heads_plan"] >= iv["agents_plan"] / 0.7 - 1e-9).all()


def test_daily_service_level_is_pooled_over_the_days_calls(baseline):
    iv, daily = baseline.intervals, baseline.daily
    day = daily.iloc[3]
    rows = iv[iv["ds"].dt.normalize() == day["date"]]
    pooled = (rows["sl_plan"] * rows["volume_actual"]).sum() / rows["volume_actual"].sum()
    assert day["sl_plan"] == pytest.approx(pooled, rel=1e-9)


def test_service_level_confidence_bounds_stay_within_zero_and_one():
    # a plan staffed 60% above the forecast answers nearly everyone: the mean is close
    # to 1 and a Student-t interval around it would reach past 1
    generous = run(scenario=Scenario(volume_scale=1.6))
    assert generous.summary["sl_plan"].max() > 0.998
    for table in (generous.intervals, generous.summary):
        bounds = table[["sl_plan_lo", "sl_plan_hi", "sl_perfect_lo", "sl_perfect_hi"]]
        known = bounds.notna()
        assert ((bounds >= 0) & (bounds <= 1) | ~known).all().all()
    assert (generous.summary["sl_plan_hi"] == 1).any()


def test_same_seed_same_result_and_another_seed_other_draws(baseline):
    again = run()
    pd.testing.assert_frame_equal(again.intervals, baseline.intervals)
    pd.testing.assert_frame_equal(again.summary, baseline.summary)
    other = run(seed=4)
    assert not np.allclose(other.intervals["sl_plan"].fillna(-1),
                           baseline.intervals["sl_plan"].fillna(-1))


def test_identical_plans_see_identical_draws():
    """With a flat history the forecast is exact, the two plans coincide, and common
    random numbers make their replays agree call for call."""
    h = poisson_history()
    h["y"] = 40.0
    result = run(h)
    iv = result.intervals
    assert np.array_equal(iv["agents_plan"], iv["agents_perfect"])
    assert np.allclose(iv["sl_plan"], iv["sl_perfect"], equal_nan=True)
    assert overall(result)["wape"] == 0.0


def test_gap_filled_days_are_planned_but_not_replayed():
    h = poisson_history()
    gap = h["ds"].dt.normalize() == h["ds"].dt.normalize().iloc[-1]
    h.loc[gap, "filled"] = True
    result = run(h)
    assert not result.intervals["ds"].isin(h.loc[gap, "ds"]).any()
    assert len(result.intervals) == 9 * SLOTS_PER_DAY
    assert overall(result)["days"] == 9


def test_actual_handle_times_drive_the_replay_and_the_perfect_plan():
    short = run(poisson_history(aht_s=120.0), replications=2)
    long = run(poisson_history(aht_s=360.0), replications=2)
    assert (short.intervals["aht_s_actual"] == 120.0).all()
    assert (long.intervals["aht_s_actual"] == 360.0).all()
    assert long.summary["agent_hours_perfect"].iloc[-1] > (
        2 * short.summary["agent_hours_perfect"].iloc[-1])


def test_patience_gives_abandonment_and_without_it_none_is_reported(baseline):
    impatient = run(queue=QueueConfig(name="sales", aht_s=240, patience_s=60, max_occupancy=1.0),
                    scenario=Scenario(volume_scale=0.8), replications=3)
    row = overall(impatient)
    assert 0 < row["abandonment_plan"] < 1 and row["abandonment_plan"] > row[
        "abandonment_perfect"]
    assert np.isnan(overall(baseline)["abandonment_plan"])


def test_a_chat_queue_is_replayed_with_its_concurrency():
    chat = QueueConfig(name="sales", channel="chat", aht_s=600, concurrency=2,
                       concurrency_aht_factor=0.25, answer_s=60, max_occupancy=1.0)
    result = run(queue=chat, replications=3)
    iv = result.intervals
    assert (iv["agents_perfect"] > 0).all()
    assert 0.7 <= overall(result)["sl_perfect"] <= 1.0


EMAIL = QueueConfig(name="sales", channel="email", service_level=0.9, answer_s=7200,
                    aht_s=240, max_occupancy=1.0, hours=parse_hours("08:00-18:00"))


@pytest.fixture(scope="module")
def email_result() -> PlanBacktestResult:
    return run(queue=EMAIL, replications=3)


def test_an_email_queue_is_replayed_as_a_backlog_worked_in_open_hours(email_result):
    row = overall(email_result)
    assert row["sl_goal"] == 0.9
    assert row["sl_perfect"] >= 0.9  # the deferred rule plans every contact on time
    assert row["sl_promised_perfect"] >= 0.9
    assert np.isnan(row["abandonment_plan"])
    assert (email_result.intervals["agents_perfect"] > 0).any()


def test_an_email_forecast_half_too_low_misses_the_response_target(email_result):
    low = overall(run(queue=EMAIL, replications=3, scenario=Scenario(volume_scale=0.5)))
    assert low["sl_plan"] < overall(email_result)["sl_plan"] - 0.2
    assert low["agent_hours_ratio"] < 0.7


def test_too_little_history_or_bad_settings_are_one_line_errors():
    with pytest.raises(ForecastError, match="too little history"):
        run(poisson_history(weeks=2))
    with pytest.raises(ForecastError, match="replications"):
        run(replications=0)
    with pytest.raises(DataValidationError, match="'y'"):
        run(poisson_history().drop(columns="y"))
    bad = poisson_history()
    bad.loc[5, "y"] = -3.0
    with pytest.raises(DataValidationError, match="expected a count >= 0"):
        run(bad)


def test_inputs_are_not_mutated():
    h = poisson_history()
    before = h.copy()
    run(h, replications=1)
    pd.testing.assert_frame_equal(h, before)


def test_outputs_are_written_and_byte_identical_twice(baseline, tmp_path):
    first = write_plan_backtest([baseline], tmp_path / "a")
    write_plan_backtest([baseline], tmp_path / "b", chart=False)
    assert [p.name for p in first] == ["plan_backtest.csv", "plan_backtest_daily.csv",
                                       "plan_backtest_summary.csv", "plan_backtest.png"]
    for name in ("plan_backtest.csv", "plan_backtest_daily.csv", "plan_backtest_summary.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / "plan_backtest.png").stat().st_size > 5000
    assert not list((tmp_path / "a").glob(".*.wfm-tmp"))
    intervals, _, _ = combine_results([baseline])
    assert tuple(intervals.columns) == INTERVAL_COLUMNS


# ------------------------------------------------------------------ CLI
@pytest.fixture(scope="module")
def centre(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("plans")
    voice = poisson_history(seed=5).assign(queue="sales")
    email = poisson_history(seed=6, base=10).assign(queue="mail")
    both = pd.concat([voice, email])
    pd.DataFrame({"queue": both["queue"], "timestamp": both["ds"].dt.strftime("%Y-%m-%d %H:%M"),
                  "volume": both["y"].astype(int)}).to_csv(root / "volumes.csv", index=False)
    (root / "centre.toml").write_text(
        '[centre]\nname = "Test"\ntimezone = "Europe/London"\ninterval_min = 30\n'
        '[data]\nvolumes = "volumes.csv"\n'
        '[forecast]\nmodel = "slot_mean"\nhorizon_days = 7\nbacktest_folds = 2\n'
        '[defaults]\naht_s = 240\nmax_occupancy = 1.0\n'
        'hours = { mon = "08:00-18:00", tue = "08:00-18:00", wed = "08:00-18:00", '
        'thu = "08:00-18:00", fri = "08:00-18:00" }\n'
        '[queues.mail]\nchannel = "email"\nanswer_s = 14400\naht_s = 300\n')
    return root


def _wfm(args):
    from forecast.cli import wfm

    return CliRunner().invoke(wfm, args, catch_exceptions=False)


def test_wfm_backtest_plans_prints_the_table_and_writes_the_files(centre, tmp_path):
    res = _wfm(["backtest", str(centre / "centre.toml"), "--plans", "--out", str(tmp_path),
                "--replications", "3", "--seed", "1"])
    assert res.exit_code == 0, res.output
    assert "sl_plan" in res.output and "hours_ratio" in res.output and " all " in res.output
    for name in ("plan_backtest.csv", "plan_backtest_daily.csv", "plan_backtest_summary.csv",
                 "plan_backtest.png"):
        assert (tmp_path / name).stat().st_size > 0
    summary = pd.read_csv(tmp_path / "plan_backtest_summary.csv")
    assert list(summary.columns) == list(SUMMARY_COLUMNS)
    assert list(summary["queue"]) == ["mail"] * 3 + ["sales"] * 3
    assert list(summary["fold"]) == ["1", "2", "all", "1", "2", "all"]  # as in the console
    assert not (tmp_path / "leaderboard.csv").exists()


def test_wfm_backtest_plans_on_too_short_a_history_fails_in_one_line(centre, tmp_path):
    res = _wfm(["backtest", str(centre / "centre.toml"), "--plans", "--out", str(tmp_path),
                "--folds", "1", "--horizon-days", "28"])
    assert res.exit_code == 1
    assert "too little history" in res.output
    assert len(res.output.strip().splitlines()) <= 2
    assert not (tmp_path / "plan_backtest.csv").exists()


def test_wfm_backtest_plans_usage_errors_exit_2(centre, tmp_path):
    res = _wfm(["backtest", str(centre / "centre.toml"), "--plans", "--out", str(tmp_path),
                "--service-cv", "0.5"])
    assert res.exit_code == 2 and "--service-cv" in res.output
    res = _wfm(["backtest", str(centre / "centre.toml"), "--plans", "--out", str(tmp_path),
                "--replications", "0"])
    assert res.exit_code == 2


def test_a_queue_may_be_named_and_is_looked_up_in_the_config(baseline):
    config = dataclasses.replace(plan_config(), queues={"sales": VOICE})
    named = backtest_plans(poisson_history(), None, "sales", config, replications=5, seed=3)
    pd.testing.assert_frame_equal(named.summary, baseline.summary)


def test_a_history_of_several_queues_is_refused_with_a_hint():
    both = pd.concat([poisson_history().assign(queue="voice"),
                      poisson_history().assign(queue="chat")])
    with pytest.raises(DataValidationError, match="several queues \\(voice, chat\\): pass one"):
        run(both)
