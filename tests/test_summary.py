"""Specification of forecast.summary: period totals, shared-agent requirement, comparisons."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast import summary
from forecast.config import DataSource, PlanConfig, QueueConfig
from forecast.exceptions import ConfigError, ForecastWarning
from forecast.plan import PlanResult, QueuePlan, daily_summary

INTERVAL_S = 1800
HOURS_PER_FTE = 37.5


def queue_rows(queue: str, days: pd.DatetimeIndex, slots: list[str], *, volume: float,
               agents_raw: float, agents_scheduled: int, service_level: float,
               cost_per_hour: float) -> pd.DataFrame:
    ds = pd.DatetimeIndex([d + pd.Timedelta(s + ":00") for d in days for s in slots])
    return pd.DataFrame({
        "queue": queue, "ds": ds, "volume": volume, "volume_mean": volume,
        "agents_raw": agents_raw, "agents_required": int(np.ceil(agents_raw)),
        "agents_scheduled": agents_scheduled, "service_level": service_level,
        "cost": agents_scheduled * INTERVAL_S / 3600 * cost_per_hour,
    })


@pytest.fixture
def plan() -> pd.DataFrame:
    """Queue a: 4 half-hours a day, 10 heads; queue b: 2 half-hours (08:00, 08:30), 4 heads.
    Ten days from Monday 2 March 2026: one whole week and three days of the next."""
    days = pd.date_range("2026-03-02", periods=10, freq="D")
    a = queue_rows("a", days, ["08:00", "08:30", "09:00", "09:30"], volume=20.0,
                   agents_raw=6.2, agents_scheduled=10, service_level=0.8, cost_per_hour=20.0)
    b = queue_rows("b", days, ["08:00", "08:30"], volume=10.0, agents_raw=2.3,
                   agents_scheduled=4, service_level=0.5, cost_per_hour=30.0)
    return pd.concat([a, b], ignore_index=True)


def kwargs():
    return {"interval_s": INTERVAL_S, "hours_per_fte": HOURS_PER_FTE}


# ------------------------------------------------------------------ daily and weekly


def test_weekly_fte_is_weekly_agent_hours_over_contracted_hours(plan):
    weekly = summary.weekly_table(plan, **kwargs()).set_index(["queue", "start"])
    first_week = pd.Timestamp("2026-03-02")
    a = weekly.loc[("a", first_week)]
    assert a["days"] == 7
    assert a["agent_hours"] == pytest.approx(7 * 4 * 10 * 0.5)        # 140 h
    assert a["fte"] == pytest.approx(140 / 37.5)
    assert a["cost"] == pytest.approx(140 * 20.0)
    b = weekly.loc[("b", first_week)]
    assert b["agent_hours"] == pytest.approx(7 * 2 * 4 * 0.5)         # 28 h
    assert b["fte"] == pytest.approx(28 / 37.5)


def test_a_partial_week_says_how_many_days_it_covers_and_pro_rates_its_fte(plan):
    weekly = summary.weekly_table(plan, **kwargs()).set_index(["queue", "start"])
    full = weekly.loc[("a", pd.Timestamp("2026-03-02"))]
    second = weekly.loc[("a", pd.Timestamp("2026-03-09"))]
    assert second["days"] == 3
    assert second["agent_hours"] == pytest.approx(3 * 20.0)
    # 3 of 7 days: a full-time agent works 37.5 x 3 / 7 hours in them
    assert second["fte"] == pytest.approx(60 / (37.5 * 3 / 7))
    # the same staffing every day is the same FTE in a full and a partial week
    assert second["fte"] == pytest.approx(full["fte"])


def test_all_queue_rows_add_up_the_queues(plan):
    weekly = summary.weekly_table(plan, **kwargs())
    per_queue = weekly[weekly["queue"] != "all"].groupby("start")[
        ["volume", "agent_hours", "fte", "cost"]].sum()
    totals = weekly[weekly["queue"] == "all"].set_index("start")[per_queue.columns]
    pd.testing.assert_frame_equal(per_queue, totals, check_names=False)


def test_service_level_across_queues_is_volume_weighted(plan):
    daily = summary.daily_table(plan, **kwargs())
    day = daily[(daily["queue"] == "all") & (daily["start"] == pd.Timestamp("2026-03-02"))]
    # a: 4 x 20 contacts at 0.8; b: 2 x 10 contacts at 0.5 -> (64 + 10) / 100
    assert day["service_level"].item() == pytest.approx(0.74)


def test_peak_across_queues_is_the_busiest_interval_of_the_summed_agents(plan):
    daily = summary.daily_table(plan, **kwargs())
    day = daily[(daily["queue"] == "all") & (daily["start"] == pd.Timestamp("2026-03-03"))]
    # 08:00 and 08:30 both have 10 + 4 heads; the earliest is reported
    assert day["peak_agents"].item() == 14
    assert day["peak_ds"].item() == pd.Timestamp("2026-03-03 08:00")


def test_daily_table_agrees_with_the_pipelines_daily_summary(plan):
    mine = summary.daily_table(plan, **kwargs(), totals=False)
    theirs = daily_summary(plan, **kwargs())
    for column in ("volume", "agent_hours", "fte", "peak_agents", "cost", "service_level"):
        np.testing.assert_allclose(mine[column].to_numpy(dtype=float),
                                   theirs[column].to_numpy(dtype=float), err_msg=column)


def test_horizon_fte_counts_calendar_days_even_for_a_queue_closed_some_days(plan):
    closed_sundays = plan[~((plan["queue"] == "a") & (plan["ds"].dt.day_of_week == 6))]
    totals = summary.horizon_totals(closed_sundays, **kwargs()).set_index("queue")
    # queue a works 9 of the 10 days, but an FTE is still contracted for all 10
    assert totals.loc["a", "days"] == 10
    assert totals.loc["a", "fte"] == pytest.approx(9 * 20.0 / (37.5 * 10 / 7))


def test_unknown_period_and_missing_columns_are_reported(plan):
    with pytest.raises(ValueError, match="period must be one of"):
        summary.period_summary(plan, **kwargs(), period="month")
    with pytest.raises(ValueError, match="no column 'cost'"):
        summary.daily_table(plan.drop(columns="cost"), **kwargs())


# ------------------------------------------------------------------ shared agents


def test_combined_requirement_rounds_the_sum_instead_of_each_queue(plan):
    result = summary.combined_requirement(plan, {"team": ["a", "b"]}, interval_s=INTERVAL_S)
    first = result.intervals.iloc[0]
    # 6.2 + 2.3 = 8.5 -> 9 agents pooled; 7 + 3 = 10 apart
    assert first["agents_raw"] == pytest.approx(8.5)
    assert (first["agents_combined"], first["agents_separate"], first["saving"]) == (9, 10, 1)
    # queue b is closed 09:00-10:00: only a's 7 agents, no saving there
    later = result.intervals[result.intervals["ds"].dt.hour == 9]
    assert (later["agents_combined"] == 7).all() and (later["saving"] == 0).all()
    row = result.summary.iloc[0]
    assert row["agent_hours_separate"] - row["agent_hours_combined"] == pytest.approx(
        row["saving_hours"])
    assert row["saving_hours"] == pytest.approx(10 * 2 * 1 * 0.5)  # 1 agent x 2 slots x 10 days
    # a fraction of the separate agent-hours, like every other share (not a percentage)
    assert row["saving_share"] == pytest.approx(row["saving_hours"] / row["agent_hours_separate"])
    assert 0 < row["saving_share"] < 1 and "saving_pct" not in result.summary.columns


def test_combined_requirement_compares_scheduled_heads_with_each_queues_shrinkage(plan):
    cfg = PlanConfig(data=DataSource(volumes=Path("volumes.csv")), queues={
        "a": QueueConfig(name="a", shrinkage=0.375), "b": QueueConfig(name="b", shrinkage=0.3)})
    result = summary.combined_requirement(plan, {"team": ["a", "b"]}, interval_s=INTERVAL_S,
                                          config=cfg)
    first = result.intervals.iloc[0]
    # 6.2 / 0.625 + 2.3 / 0.7 = 9.92 + 3.29 = 13.21 -> 14 heads against 10 + 4 scheduled
    assert first["scheduled_combined"] == 14
    assert first["scheduled_separate"] == 14


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.floats(0, 50, allow_nan=False), min_size=3, max_size=3),
                min_size=1, max_size=12))
def test_combined_requirement_never_exceeds_the_sum_of_rounded(raws):
    ds = pd.date_range("2026-03-02 08:00", periods=len(raws), freq="30min")
    rows = [pd.DataFrame({"queue": q, "ds": ds, "agents_raw": [r[i] for r in raws]})
            for i, q in enumerate("xyz")]
    table = pd.concat(rows, ignore_index=True)
    table["agents_required"] = np.ceil(table["agents_raw"] - 1e-9).astype(int)
    result = summary.combined_requirement(table, {"g": ["x", "y", "z"]}, interval_s=INTERVAL_S)
    got = result.intervals
    assert (got["agents_combined"] <= got["agents_separate"]).all()
    assert (got["agents_combined"] >= got["agents_raw"] - 1e-9).all()
    assert (got["saving"] <= 2).all()  # at most one agent per queue beyond the first


def test_combined_requirement_rejects_unknown_queues_and_empty_groups(plan):
    with pytest.raises(ConfigError, match="queue 'c' is not in the plan"):
        summary.combined_requirement(plan, {"team": ["a", "c"]}, interval_s=INTERVAL_S)
    with pytest.raises(ConfigError, match="lists no queues"):
        summary.combined_requirement(plan, {"team": []}, interval_s=INTERVAL_S)


# ------------------------------------------------------------------ comparisons


def _result(table: pd.DataFrame) -> PlanResult:
    cfg = PlanConfig(data=DataSource(volumes=Path("volumes.csv")), interval_min=30,
                     hours_per_fte=HOURS_PER_FTE)
    queues = {q: QueuePlan(queue=q, model="m", forecast=pd.DataFrame(), plan=g,
                           history=pd.DataFrame()) for q, g in table.groupby("queue")}
    return PlanResult(config=cfg, queues=queues, events=pd.DataFrame(), volume_column="mean")


def test_compare_plans_puts_both_plans_side_by_side_with_the_difference(plan):
    more = plan.assign(agents_scheduled=plan["agents_scheduled"] + 1,
                       cost=plan["cost"] * 1.1)
    table = summary.compare_plans(_result(plan), _result(more), "p50", "p80")
    row = table[(table["queue"] == "a") & (table["start"] == pd.Timestamp("2026-03-02"))].iloc[0]
    assert row["agent_hours_p50"] == pytest.approx(20.0)
    assert row["agent_hours_p80"] == pytest.approx(22.0)
    assert row["agent_hours_diff"] == pytest.approx(2.0)
    assert row["fte_diff"] == pytest.approx(2.0 / 7.5)
    assert row["cost_diff"] == pytest.approx(0.1 * row["cost_p50"])
    assert row["service_level_diff"] == pytest.approx(0.0)
    assert table["queue"].iloc[-1] == "all"


def test_compare_plans_accepts_tables_and_totals_over_the_horizon(plan):
    more = plan.assign(agents_scheduled=plan["agents_scheduled"] + 1)
    table = summary.compare_plans(plan, more, "base", "more", by="total", **kwargs())
    assert list(table["queue"]) == ["a", "b", "all"]
    total = table.set_index("queue").loc["all"]
    assert total["agent_hours_diff"] == pytest.approx(10 * (4 + 2) * 0.5)


def test_compare_plans_over_different_queues_totals_the_common_ones_and_warns(plan):
    other = plan[plan["queue"] == "a"]
    with pytest.warns(ForecastWarning, match=r"different queues \(b only in both\): the 'all' "
                                             "rows total the queues in both plans only"):
        table = summary.compare_plans(plan, other, "both", "only_a", by="total", **kwargs())
    assert list(table["queue"]) == ["a", "b", "all"]
    b = table.set_index("queue").loc["b"]
    assert b["agent_hours_both"] == pytest.approx(10 * 2 * 4 * 0.5)
    assert np.isnan(b["agent_hours_only_a"]) and np.isnan(b["agent_hours_diff"])
    total = table.set_index("queue").loc["all"]
    assert total["agent_hours_both"] == total["agent_hours_only_a"] == pytest.approx(
        10 * 4 * 10 * 0.5)
    assert total["agent_hours_diff"] == 0 and total["volume_diff"] == 0


def test_compare_plans_needs_settings_for_tables_and_distinct_labels(plan):
    with pytest.raises(ValueError, match="give interval_s and hours_per_fte"):
        summary.compare_plans(plan, plan)
    with pytest.raises(ValueError, match="must differ"):
        summary.compare_plans(plan, plan, "x", "x", **kwargs())
    with pytest.raises(ValueError, match="disagrees"):
        summary.compare_plans(_result(plan), plan, interval_s=900)


def test_summaries_do_not_mutate_the_plan(plan):
    before = plan.copy()
    summary.weekly_table(plan, **kwargs())
    summary.combined_requirement(plan, {"g": ["a", "b"]}, interval_s=INTERVAL_S)
    summary.compare_plans(plan, dataclasses.replace(_result(plan)).plan, **kwargs())
    pd.testing.assert_frame_equal(plan, before)


def test_horizon_days_count_a_closed_last_day_into_the_horizon(plan):
    # the plan runs Monday 2 to Wednesday 11 March; a 14-day horizon ends Sunday 15th
    weekly = summary.weekly_table(plan, **kwargs(), horizon_days=14).set_index(
        ["queue", "start"])
    assert weekly.loc[("a", pd.Timestamp("2026-03-09")), "days"] == 7
    total = summary.horizon_totals(plan, **kwargs(), horizon_days=14).set_index("queue")
    assert total.loc["a", "fte"] == pytest.approx(10 * 20.0 / 37.5 / 2)


# ------------------------------------------------------------------ service target curve


def _staffed_result() -> PlanResult:
    """One voice queue, one day of forecast staffed by the real rule."""
    from forecast.plan import staff_forecast

    voice = QueueConfig(name="voice", channel="voice", aht_s=300, service_level=0.8,
                        answer_s=20, shrinkage=0.3, max_occupancy=0.95)
    cfg = PlanConfig(data=DataSource(volumes=Path("volumes.csv")), queues={"voice": voice},
                     hours_per_fte=HOURS_PER_FTE)
    ds = pd.date_range("2026-03-02 08:00", periods=20, freq="30min")
    mean = 40 + 30 * np.sin(np.linspace(0, np.pi, 20))
    fc = pd.DataFrame({"ds": ds, "mean": mean, "p10": mean * 0.8, "p90": mean * 1.2,
                       "aht_s": 300.0})
    queue_plan = QueuePlan(queue="voice", model="m", forecast=fc,
                           plan=staff_forecast(fc, voice, cfg), history=pd.DataFrame())
    return PlanResult(config=cfg, queues={"voice": queue_plan}, events=pd.DataFrame(),
                      volume_column="mean")


def test_a_higher_service_target_never_costs_less():
    result = _staffed_result()
    curve = summary.service_target_curve(result, "voice", [0.6, 0.7, 0.8, 0.9, 0.95])
    assert list(curve["target"]) == [0.6, 0.7, 0.8, 0.9, 0.95]
    assert curve["cost"].is_monotonic_increasing
    assert curve["agent_hours"].is_monotonic_increasing
    assert curve["cost"].iloc[-1] > curve["cost"].iloc[0]
    # the expected service level meets each target where the target sets the staffing
    bound = curve[curve["share_bound_by_target"] == 1.0]
    assert len(bound) and (bound["service_level"] >= bound["target"]).all()


def test_the_curve_at_the_configured_target_reproduces_the_plan():
    result = _staffed_result()
    curve = summary.service_target_curve(result, "voice", [0.8]).iloc[0]
    assert curve["cost"] == pytest.approx(result.plan["cost"].sum())
    assert np.isnan(curve["abandonment"])  # no patience configured


def test_the_curve_rejects_unknown_queues_and_impossible_targets():
    result = _staffed_result()
    with pytest.raises(ConfigError, match="queue 'chat' is not in the plan"):
        summary.service_target_curve(result, "chat", [0.8])
    with pytest.raises(ConfigError, match=r"must lie in \(0, 1\)"):
        summary.service_target_curve(result, "voice", [1.0])
    with pytest.raises(ConfigError, match="service_levels.*empty list"):
        summary.service_target_curve(result, "voice", [])
    with pytest.raises(ConfigError, match="answer_s.*empty list"):
        summary.service_target_curve(result, "voice", 0.8, answer_s=[])
    with pytest.raises(ConfigError, match="give the service levels or the answer times"):
        summary.service_target_curve(result, "voice")


def test_the_curve_takes_one_target_or_several_answer_times():
    result = _staffed_result()
    one = summary.service_target_curve(result, "voice", 0.8)
    pd.testing.assert_frame_equal(one, summary.service_target_curve(result, "voice", [0.8]))
    grid = summary.service_target_curve(result, "voice", [0.7, 0.9], answer_s=[10, 60])
    assert list(zip(grid["target"], grid["answer_s"], strict=True)) == [
        (0.7, 10.0), (0.7, 60.0), (0.9, 10.0), (0.9, 60.0)]
    # a longer answer time at the same level never costs more
    assert grid["cost"].iloc[1] <= grid["cost"].iloc[0]


def test_combined_requirement_takes_a_single_queue_name_per_group(plan):
    alone = summary.combined_requirement(plan, {"g": "a"}, interval_s=INTERVAL_S)
    listed = summary.combined_requirement(plan, {"g": ["a"]}, interval_s=INTERVAL_S)
    pd.testing.assert_frame_equal(alone.summary, listed.summary)
    assert alone.summary["queues"].iloc[0] == "a"


def test_the_curve_on_an_email_queue_keeps_the_backlog_carried_into_the_plan():
    from forecast.config import load_config
    from forecast.plan import build_plan

    example = Path(__file__).resolve().parents[1] / "fixtures" / "example" / "centre.toml"
    cfg = dataclasses.replace(load_config(example),
                              forecast=dataclasses.replace(load_config(example).forecast,
                                                           model="slot_mean", horizon_days=7))
    result = build_plan(cfg, queues=["email"])
    assert result.queues["email"].initial_backlog > 0
    own = cfg.queue("email").answer_s
    curve = summary.service_target_curve(result, "email", answer_s=own).iloc[0]
    assert curve["cost"] == pytest.approx(result.plan["cost"].sum())
    # the deferred rule answers every contact within answer_s: vary that, not the level
    with pytest.raises(ConfigError, match="email is staffed to answer every contact within "
                                          "its answer_s, whatever its service_level; vary "
                                          "answer_s instead"):
        summary.service_target_curve(result, "email", [0.5, 0.8])
    curve = summary.service_target_curve(result, "email", answer_s=[own / 2, own, own * 2])
    assert (curve["target"] == cfg.queue("email").service_level).all()
    assert curve["agent_hours"].is_monotonic_decreasing
    assert curve["agent_hours"].iloc[0] > curve["agent_hours"].iloc[-1]
