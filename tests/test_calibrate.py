"""forecast.calibrate: patience, handle time and effective availability from call records."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from forecast.calibrate import (
    Calibration,
    apply_calibration,
    calibrate,
    calibration_to_toml,
    estimate_handle_time,
    estimate_patience,
    fit_availability,
    history_table,
    interval_table,
    kaplan_meier,
    load_calibration,
    predict_intervals,
)
from forecast.config import config_from_dict, load_config
from forecast.exceptions import ConfigError, DataValidationError, ForecastWarning
from forecast.records import read_call_records

# --------------------------------------------------------------------------- helpers


def simulated_waits(rng, n, patience_mean_s, answer_scale_s):
    """Callers with exponential patience; each would be answered after an exponential
    time unless they hang up first (independent censoring)."""
    patience = rng.exponential(patience_mean_s, n)
    answer_after = rng.exponential(answer_scale_s, n)
    abandoned = patience < answer_after
    return np.minimum(patience, answer_after), abandoned


def records_from(calls: pd.DataFrame, day: str = "2024-03-04") -> pd.DataFrame:
    """Records table from a list of (queue, minute offset, wait, outcome, handle, agent)."""
    origin = pd.Timestamp(day)
    return pd.DataFrame(
        {
            "queue": calls["queue"].astype("string"),
            "arrival": origin + pd.to_timedelta(calls["at_s"], unit="s"),
            "wait_s": calls["wait_s"].astype(float),
            "outcome": calls["outcome"].astype("string"),
            "handle_s": calls["handle_s"].astype(float),
            "agent": calls["agent"].astype("string"),
            "queued": calls["wait_s"] > 0,
        }
    )


# --------------------------------------------------------------------------- Kaplan-Meier


def test_kaplan_meier_matches_a_hand_computed_curve():
    # times 1,2,2,3,4 ; events at 1, one of the 2s, 4 ; censored 2, 3
    curve = kaplan_meier(np.array([1, 2, 2, 3, 4.0]), np.array([1, 1, 0, 0, 1], bool))
    assert curve.time_s.tolist() == [1.0, 2.0, 4.0]
    assert curve.at_risk.tolist() == [5, 4, 1]
    np.testing.assert_allclose(curve.survival, [4 / 5, 4 / 5 * 3 / 4, 0.0])
    assert curve.at(0.5) == 1.0 and curve.at(3.0) == pytest.approx(0.6)
    assert curve.median_s() == 4.0


def test_kaplan_meier_without_censoring_is_the_empirical_survival():
    t = np.array([5.0, 1.0, 3.0, 3.0])
    curve = kaplan_meier(t, np.ones(4, bool))
    np.testing.assert_allclose(curve.at([0, 1, 3, 5]), [1.0, 0.75, 0.25, 0.0])


# --------------------------------------------------------------------------- patience


def test_exponential_patience_is_recovered_from_censored_waits():
    rng = np.random.default_rng(7)
    wait, abandoned = simulated_waits(rng, 20_000, patience_mean_s=180.0, answer_scale_s=60.0)
    est = estimate_patience(wait, abandoned)
    assert est.low_s < 180.0 < est.high_s
    assert est.high_s - est.low_s < 25  # about 5,000 abandonments: a tight interval
    assert est.abandoned == int(abandoned.sum()) and est.calls == 20_000
    # the censored-data curve agrees with the exponential it came from
    assert est.km_survival["60"] == pytest.approx(math.exp(-60 / 180), abs=0.02)
    assert est.max_gap < 0.05


def test_patience_interval_covers_the_truth_at_about_the_stated_rate():
    rng = np.random.default_rng(11)
    covered = 0
    for _ in range(200):
        wait, abandoned = simulated_waits(rng, 400, patience_mean_s=120.0, answer_scale_s=30.0)
        est = estimate_patience(wait, abandoned, confidence=0.9)
        covered += est.low_s < 120.0 < est.high_s
    assert 0.83 <= covered / 200 <= 0.96


def test_ignoring_censoring_would_underestimate_patience():
    rng = np.random.default_rng(3)
    wait, abandoned = simulated_waits(rng, 5_000, patience_mean_s=300.0, answer_scale_s=40.0)
    est = estimate_patience(wait, abandoned)
    assert wait[abandoned].mean() < 0.5 * est.mean_s  # the naive mean of abandoners' waits
    assert est.mean_s == pytest.approx(300.0, rel=0.1)


def test_no_abandonment_means_unbounded_patience():
    est = estimate_patience(np.array([3.0, 0.0, 12.0]), np.zeros(3, bool))
    assert est.mean_s == math.inf and est.abandoned == 0


def test_kaplan_meier_shows_non_exponential_patience():
    rng = np.random.default_rng(5)
    n = 20_000
    patience = rng.uniform(0, 240, n)  # nobody waits longer than 4 minutes
    answer_after = rng.exponential(90.0, n)
    est = estimate_patience(np.minimum(patience, answer_after), patience < answer_after)
    assert est.km_survival["120"] == pytest.approx(0.5, abs=0.03)
    assert est.max_gap > 0.08  # far from any exponential


# --------------------------------------------------------------------------- handle time


def test_lognormal_handle_time_fit_recovers_its_parameters():
    rng = np.random.default_rng(2)
    handle = rng.lognormal(mean=5.0, sigma=0.8, size=50_000)
    est = estimate_handle_time(np.concatenate([handle, [np.nan]]))
    assert est.lognormal_mu == pytest.approx(5.0, abs=0.02)
    assert est.lognormal_sigma == pytest.approx(0.8, abs=0.02)
    true_mean = math.exp(5.0 + 0.8**2 / 2)
    assert est.low_s < true_mean < est.high_s
    assert est.cv == pytest.approx(math.sqrt(math.exp(0.8**2) - 1), rel=0.05)
    assert est.lognormal_mean_s == pytest.approx(true_mean, rel=0.02)
    assert est.calls == 50_000 and est.zero_share == 0


def test_zero_handle_times_are_counted_but_kept_out_of_the_log_fit():
    est = estimate_handle_time(np.array([0.0, 100.0, 100.0, 100.0]))
    assert est.mean_s == 75.0 and est.zero_share == 0.25
    assert est.lognormal_mu == pytest.approx(math.log(100)) and est.lognormal_sigma == 0


# --------------------------------------------------------------------------- interval tables


@pytest.fixture()
def small_records() -> pd.DataFrame:
    calls = pd.DataFrame.from_records(
        [
            # queue, at_s, wait_s, outcome, handle_s, agent
            ("A", 9 * 3600 + 0, 0, "answered", 600, "ann"),
            ("A", 9 * 3600 + 60, 30, "answered", 120, "bob"),
            ("A", 9 * 3600 + 120, 45, "abandoned", np.nan, None),
            ("A", 9 * 3600 + 3000, 10, "answered", 1200, "ann"),  # service runs into 10:00
            ("B", 9 * 3600 + 100, 5, "answered", 60, "ann"),
            ("A", 11 * 3600 + 10, 0, "answered", 60, "cid"),
        ],
        columns=["queue", "at_s", "wait_s", "outcome", "handle_s", "agent"],
    )
    return records_from(calls)


def test_interval_table_counts_offered_served_and_agents(small_records):
    table = interval_table(small_records, interval_s=3600, target_s=20).set_index(["queue", "ds"])
    nine = table.loc[("A", pd.Timestamp("2024-03-04 09:00"))]
    assert (nine["offered"], nine["answered"], nine["abandoned"]) == (4, 3, 1)
    assert nine["answered_in_target"] == 2  # 0 s and 10 s; 30 s is late
    assert nine["service_level"] == 0.5 and nine["abandonment"] == 0.25
    assert nine["aht_s"] == pytest.approx((600 + 120 + 1200) / 3)
    assert nine["wait_total_s"] == 85
    assert nine["agents_seen"] == 2
    # ann: 600 s + (3600 - 3010) s ; bob: 120 s
    assert nine["agent_busy_s"] == pytest.approx(600 + 590 + 120)
    ten = table.loc[("A", pd.Timestamp("2024-03-04 10:00"))]
    assert ten["offered"] == 0 and ten["agents_seen"] == 1
    assert ten["agent_busy_s"] == pytest.approx(1200 - 590)
    assert np.isnan(ten["service_level"])


def test_pooling_counts_an_agent_serving_two_queues_once(small_records):
    per_queue = interval_table(small_records).set_index(["queue", "ds"])
    pooled = interval_table(small_records, pool="all").set_index(["queue", "ds"])
    nine = pd.Timestamp("2024-03-04 09:00")
    assert (
        per_queue.loc[("A", nine), "agents_seen"] + per_queue.loc[("B", nine), "agents_seen"] == 3
    )
    assert pooled.loc[("all", nine), "agents_seen"] == 2
    assert pooled.loc[("all", nine), "offered"] == 5


def test_history_table_has_every_open_interval_for_every_queue(small_records):
    history = history_table(small_records, interval_s=3600)
    assert list(history.columns) == ["queue", "ds", "y", "aht_s", "abandoned"]
    # the centre took calls at 09:00 and 11:00; 10:00 had none and is left out
    assert history["ds"].dt.hour.unique().tolist() == [9, 11]
    b = history[history["queue"] == "B"].set_index("ds")
    assert b["y"].tolist() == [1.0, 0.0] and np.isnan(b["aht_s"].iloc[1])
    a9 = history[(history["queue"] == "A") & (history["ds"].dt.hour == 9)].iloc[0]
    assert (a9["y"], a9["abandoned"]) == (4.0, 1.0)
    assert history["y"].sum() == len(small_records)


def test_agents_on_shift_counts_presence_not_heads(small_records):
    table = interval_table(small_records, shift_gap_s=900).set_index(["queue", "ds"])
    nine, ten = pd.Timestamp("2024-03-04 09:00"), pd.Timestamp("2024-03-04 10:00")
    # ann serves 09:00:00-09:10:00, then 09:50:10-10:10:10: a 40-minute gap splits her
    # presence into two spans (600 s + 590 s in the 9 o'clock hour); bob 09:01:30-09:03:30
    assert table.loc[("A", nine), "agents_on_shift"] == pytest.approx((600 + 590 + 120) / 3600)
    assert table.loc[("A", ten), "agents_on_shift"] == pytest.approx(610 / 3600)
    joined = interval_table(small_records, shift_gap_s=3600).set_index(["queue", "ds"])
    # with a one-hour gap ann is present from 09:00:00 to 10:10:10
    assert joined.loc[("A", nine), "agents_on_shift"] == pytest.approx((3600 + 120) / 3600)


def test_interval_must_divide_a_day(small_records):
    with pytest.raises(ValueError, match="dividing a day"):
        interval_table(small_records, interval_s=7 * 60)


# --------------------------------------------------------------------------- availability


def formula_intervals(rng, factor, patience_s, hours=240, target_s=20.0):
    """Intervals whose outcomes follow Erlang A with factor x agents servers, with the
    binomial noise of the calls actually offered."""
    from forecast.queueing import erlang_a

    # agents seen chosen so that factor x seen is a whole number of servers
    step = {0.6: 5, 1.0: 1}[factor]
    seen = step * rng.integers(max(1, 8 // step), 20 // step + 1, hours)
    aht = rng.uniform(150, 250, hours)
    servers = np.round(factor * seen)
    load = servers * rng.uniform(0.75, 1.0, hours)  # busy but mostly stable hours
    offered = rng.poisson(load / aht * 3600)
    truth = erlang_a(servers, offered / 3600, aht, np.full(hours, patience_s), target_s)
    within = rng.binomial(offered, np.clip(truth.service_level, 0, 1))
    abandoned = rng.binomial(
        offered - within, np.clip(truth.p_abandon / np.maximum(1 - truth.service_level, 1e-9), 0, 1)
    )
    return pd.DataFrame(
        {
            "queue": "q",
            "ds": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(hours), "h"),
            "offered": offered,
            "aht_s": aht,
            "agents_seen": seen,
            "service_level": within / offered,
            "abandonment": abandoned / offered,
        }
    )


def test_availability_factor_is_recovered_from_formula_generated_hours():
    rng = np.random.default_rng(1)
    table = formula_intervals(rng, factor=0.6, patience_s=200.0)
    est = fit_availability(table, patience_s=200.0, agents="agents_seen", bootstrap=100)
    assert est.low <= 0.6 <= est.high
    assert est.factor == pytest.approx(0.6, abs=0.04)
    assert est.sl_mae_after < est.sl_mae_before
    assert est.abandon_mae_after < est.abandon_mae_before
    assert not est.at_bound and est.intervals == 240 and est.days == 10


def test_availability_of_one_is_recovered_when_agents_seen_all_serve():
    rng = np.random.default_rng(4)
    table = formula_intervals(rng, factor=1.0, patience_s=120.0)
    est = fit_availability(table, patience_s=120.0, agents="agents_seen", bootstrap=50)
    assert est.factor == pytest.approx(1.0, abs=0.05)


def test_joint_fit_recovers_factor_and_patience_when_both_are_unknown():
    rng = np.random.default_rng(8)
    table = formula_intervals(rng, factor=0.6, patience_s=200.0, hours=240)
    # start from a patience estimate 40% too low: the joint fit corrects it
    est = fit_availability(
        table, patience_s=120.0, fit_patience=True, agents="agents_seen", bootstrap=30
    )
    assert est.patience_fitted
    assert est.factor == pytest.approx(0.6, abs=0.04)
    assert est.patience_s == pytest.approx(200.0, rel=0.2)
    assert est.patience_low_s <= est.patience_s <= est.patience_high_s


@pytest.mark.parametrize("objective", ["separate", "joint"])
def test_both_objectives_recover_factor_and_patience_of_an_erlang_a_centre(objective):
    # exponential patience: Erlang A is exact, so fitting the factor to service level and
    # the patience to abandonment (separate) and fitting both to their sum (joint) agree
    rng = np.random.default_rng(8)
    table = formula_intervals(rng, factor=0.6, patience_s=200.0, hours=240)
    est = fit_availability(
        table,
        patience_s=120.0,
        fit_patience=True,
        objective=objective,
        agents="agents_seen",
        bootstrap=30,
    )
    assert est.objective == objective
    assert est.factor == pytest.approx(0.6, abs=0.04)
    assert est.patience_s == pytest.approx(200.0, rel=0.2)
    assert est.low <= est.factor <= est.high
    assert est.patience_low_s <= est.patience_s <= est.patience_high_s


def test_separate_fit_takes_the_factor_from_service_level_alone():
    # a mis-specified centre (answered faster than Erlang A says): the separate fit's
    # factor is the service-level fit at its patience, and the abandonment weight of the
    # joint sum plays no part
    rng = np.random.default_rng(3)
    table = formula_intervals(rng, factor=0.6, patience_s=200.0, hours=240)
    table["service_level"] = np.clip(table["service_level"] + 0.08, 0, 1)
    kw = {"fit_patience": True, "agents": "agents_seen", "bootstrap": 0}
    sep = fit_availability(table, patience_s=200.0, **kw)
    assert sep.objective == "separate"
    heavy = fit_availability(table, patience_s=200.0, abandon_weight=4.0, **kw)
    assert (heavy.factor, heavy.patience_s) == (sep.factor, sep.patience_s)
    fixed = fit_availability(
        table, patience_s=sep.patience_s, agents="agents_seen", bootstrap=0
    )
    assert fixed.factor == sep.factor
    joint = fit_availability(table, patience_s=200.0, objective="joint", **kw)
    assert abs(sep.abandon_bias_after) < abs(joint.abandon_bias_after)


def test_unknown_objective_is_refused():
    table = formula_intervals(np.random.default_rng(0), factor=1.0, patience_s=120.0, hours=48)
    with pytest.raises(ValueError, match="objective"):
        fit_availability(table, patience_s=120.0, agents="agents_seen", objective="both")


def test_calibrations_written_before_the_objective_existed_still_load(roster_calibration):
    raw = roster_calibration.to_dict()
    for fit in raw["fit"].values():
        fit["availability"].pop("objective")
    again = Calibration.from_dict(raw)
    assert all(q.availability.objective == "joint" for q in again.queues.values())
    assert roster_calibration.queues["care"].availability.objective == "separate"


def test_fit_needs_intervals_with_enough_calls():
    table = pd.DataFrame(
        {
            "queue": "q",
            "ds": [pd.Timestamp("2024-01-01")],
            "offered": [3],
            "aht_s": [200.0],
            "agents_seen": [2],
            "service_level": [1.0],
            "abandonment": [0.0],
        }
    )
    with pytest.raises(DataValidationError, match="at least 20 calls"):
        fit_availability(table, patience_s=100.0, agents="agents_seen")


def test_predictions_follow_the_models():
    table = pd.DataFrame(
        {"offered": [360, 360, 0], "aht_s": [300.0, 300.0, 300.0], "agents_seen": [40, 40, 5]}
    )  # 30 Erlangs
    c = predict_intervals(table, patience_s=None, target_s=20)
    a = predict_intervals(table, patience_s=120.0, target_s=20)
    half = predict_intervals(table, patience_s=120.0, availability=0.8, target_s=20)
    assert np.isnan(c.loc[2, "service_level_pred"])
    assert c.loc[0, "abandonment_pred"] == 0
    assert 0 < a.loc[0, "abandonment_pred"] < 0.05
    assert half.loc[0, "servers"] == 32
    assert half.loc[0, "service_level_pred"] < a.loc[0, "service_level_pred"]
    assert half.loc[0, "abandonment_pred"] > a.loc[0, "abandonment_pred"]


def test_fractional_servers_lie_between_their_whole_neighbours():
    table = pd.DataFrame({"offered": [300] * 3, "aht_s": [240.0] * 3, "agents_seen": [20, 20, 20]})
    low = predict_intervals(table.iloc[:1], patience_s=100.0, availability=0.95)  # 19
    mid = predict_intervals(table.iloc[:1], patience_s=100.0, availability=0.975)  # 19.5
    high = predict_intervals(table.iloc[:1], patience_s=100.0, availability=1.0)  # 20
    assert (
        low["service_level_pred"][0] < mid["service_level_pred"][0] < high["service_level_pred"][0]
    )


# --------------------------------------------------------------------------- simulated centre


@pytest.fixture(scope="module")
def simulated_centre() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Four weeks of a queue where 12 agents are rostered every hour but only 7 serve
    (the rest are on other work): records as an ACD would log them plus the roster."""
    from forecast.simulate import simulate_queue

    rng = np.random.default_rng(42)
    days, hours_per_day = 20, 10
    n_int = days * hours_per_day
    interval_s = 3600
    rate_per_h = rng.uniform(80, 120, n_int)
    counts = rng.poisson(rate_per_h)
    interval = np.repeat(np.arange(n_int), counts)
    arrival = (interval + rng.uniform(0, 1, interval.size)) * interval_s
    handle = rng.exponential(200.0, interval.size)
    patience = rng.exponential(150.0, interval.size)
    serving = np.full(n_int, 7)
    calls = simulate_queue(arrival, handle, patience, serving, interval_s, 20.0)
    calls = calls[calls["outcome"] != "waiting"]
    # place interval j at day j // 10, hour 8 + j % 10
    day = calls["interval"] // hours_per_day
    offset_s = calls["arrival_s"] - calls["interval"] * interval_s
    at = (
        pd.Timestamp("2024-02-05")
        + pd.to_timedelta(day, "D")
        + pd.to_timedelta(8 + calls["interval"] % hours_per_day, "h")
        + pd.to_timedelta(offset_s, "s")
    )
    answered = calls["outcome"] == "answered"
    records = pd.DataFrame(
        {
            "queue": pd.array(["care"] * len(calls), dtype="string"),
            "arrival": at.to_numpy(),
            "wait_s": calls["wait_s"].to_numpy(),
            "outcome": pd.array(calls["outcome"], dtype="string"),
            "handle_s": np.where(answered, calls["service_s"], np.nan),
            "agent": pd.array(
                np.where(answered, "a" + calls["agent"].astype(str), None), dtype="string"
            ),
            "queued": calls["wait_s"].to_numpy() > 0,
        }
    ).sort_values("arrival", ignore_index=True)
    slots = pd.Series(records["arrival"].dt.floor("h").unique())
    roster = pd.DataFrame({"queue": "care", "ds": slots, "agents": 12})
    return records, roster


@pytest.fixture(scope="module")
def roster_calibration(simulated_centre) -> Calibration:
    records, roster = simulated_centre
    return calibrate(records, staffing=roster, bootstrap=100)


def test_calibrate_recovers_patience_handle_time_and_roster_availability(roster_calibration):
    cal = roster_calibration
    q = cal.queues["care"]
    # within three standard errors (mean / sqrt(abandonments)) of the true 150 s
    assert abs(q.patience.mean_s - 150) < 3 * q.patience.mean_s / math.sqrt(q.abandoned)
    assert q.handle_time.low_s < 200 < q.handle_time.high_s
    assert q.handle_time.cv == pytest.approx(1.0, abs=0.05)  # exponential service
    assert q.availability.basis == "agents"
    # within 0.03 of the truth (the day bootstrap interval is conditional on the
    # estimated patience and hourly handle times, so it is narrower than the full error)
    assert q.availability.factor == pytest.approx(7 / 12, abs=0.03)
    assert q.availability.low < q.availability.factor < q.availability.high
    assert q.availability.sl_mae_after < 0.06


def test_calibrate_on_a_learning_period_uses_only_those_calls(simulated_centre):
    records, _ = simulated_centre
    cal = calibrate(records, train=(None, "2024-02-12"), bootstrap=0)
    assert cal.train_end == "2024-02-12T00:00:00"
    assert cal.train_start == "2024-02-05T00:00:00"
    assert cal.records == int((records["arrival"] < "2024-02-12").sum())
    # the agents present in the records are the 7 who serve all hour: nothing to correct
    q = cal.queues["care"]
    assert cal.basis == "agents_on_shift"
    assert q.availability.factor == pytest.approx(1.0, abs=0.08)
    # patience is exponential here: the jointly fitted value agrees with the measured one
    assert q.availability.patience_s == pytest.approx(q.patience.mean_s, rel=0.25)


def test_empty_learning_period_is_an_error(simulated_centre):
    records, _ = simulated_centre
    with pytest.raises(DataValidationError, match="no call records in the learning period"):
        calibrate(records, train=("2030-01-01", "2030-02-01"))


# --------------------------------------------------------------------------- persistence


def test_params_toml_round_trips_and_pastes_into_a_plan_config(roster_calibration, tmp_path):
    cal = roster_calibration
    text = calibration_to_toml(cal)
    path = tmp_path / "params.toml"
    path.write_text(text)
    back = load_calibration(path)
    assert back.to_json() == cal.to_json()  # (NaN fields make == unusable)
    # the [queues.*] section is valid plan-config input as it stands
    import tomllib

    raw = tomllib.loads(text)
    config = config_from_dict({"data": {"volumes": "v.csv"}, "queues": raw["queues"]})
    assert config.queues["care"].patience_s == cal.queues["care"].config_values()["patience_s"]
    assert config.queues["care"].availability == pytest.approx(
        cal.queues["care"].availability.factor, abs=1e-4
    )


def test_json_round_trip(roster_calibration, tmp_path):
    cal = roster_calibration
    path = tmp_path / "cal.json"
    path.write_text(cal.to_json())
    assert load_calibration(path).to_json() == cal.to_json()


def test_apply_calibration_sets_queue_values_and_leaves_the_input_alone(roster_calibration):
    cal = roster_calibration
    config = config_from_dict(
        {"data": {"volumes": "v.csv"}, "queues": {"care": {"channel": "voice", "aht_s": 100}}}
    )
    merged = apply_calibration(config, cal)
    values = cal.queues["care"].config_values()
    assert merged.queues["care"].aht_s == values["aht_s"]
    assert merged.queues["care"].patience_s == values["patience_s"]
    assert merged.queues["care"].availability == values["availability"]
    assert config.queues["care"].aht_s == 100  # unchanged
    everywhere = apply_calibration(config, cal, queues={"care": "*"}, keys=("patience_s",))
    assert everywhere.defaults.patience_s == values["patience_s"]
    assert everywhere.queue("other").patience_s == values["patience_s"]
    assert everywhere.queues["care"].aht_s == 100


def test_pooled_calibration_applies_to_every_queue():
    rng = np.random.default_rng(9)
    waits, abandoned = simulated_waits(rng, 500, 100.0, 30.0)
    records = pd.DataFrame(
        {
            "queue": pd.array(rng.choice(["a", "b"], 500), dtype="string"),
            "arrival": pd.Timestamp("2024-01-01 09:00") + pd.to_timedelta(np.arange(500) * 7, "s"),
            "wait_s": waits,
            "outcome": pd.array(np.where(abandoned, "abandoned", "answered"), dtype="string"),
            "handle_s": np.where(abandoned, np.nan, 200.0),
            "agent": pd.array(np.where(abandoned, None, "x"), dtype="string"),
        }
    )
    cal = calibrate(records, pool="centre", bootstrap=0)
    assert list(cal.queues) == ["centre"]
    config = config_from_dict(
        {"data": {"volumes": "v.csv"}, "queues": {"a": {"aht_s": 90}, "b": {"aht_s": 120}}}
    )
    merged = apply_calibration(config, cal, keys=("aht_s", "patience_s"))
    assert merged.queues["a"].aht_s == merged.queues["b"].aht_s == 200.0
    assert merged.defaults.patience_s == cal.queues["centre"].config_values()["patience_s"]


def test_availability_above_one_is_capped_with_a_warning(roster_calibration):
    cal = roster_calibration
    q = cal.queues["care"]
    inflated = Calibration(
        queues={
            "care": type(q)(
                **{
                    **q.__dict__,
                    "availability": type(q.availability)(
                        **{**q.availability.__dict__, "factor": 1.2}
                    ),
                }
            )
        },
        interval_s=cal.interval_s,
        target_s=cal.target_s,
        min_calls=cal.min_calls,
        train_start=cal.train_start,
        train_end=cal.train_end,
    )
    config = config_from_dict({"data": {"volumes": "v.csv"}})
    with pytest.warns(ForecastWarning, match="capped at 1"):
        merged = apply_calibration(config, inflated)
    # 'care' has no section: its values are recorded and reach it through queue()
    assert merged.queue("care").availability == 1.0 and "care" not in merged.queues
    assert merged.calibrated["care"]["availability"] == 1.0


# --------------------------------------------------------------------------- real centre


@pytest.mark.slow
@pytest.mark.realdata
def test_technion_february_calibration(shared_data):
    records = read_call_records(shared_data("technion_bank_calls_feb1999.tsv"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        cal = calibrate(records, pool="all", train=(None, "1999-02-22"), bootstrap=20)
    q = cal.queues["all"]
    # published analyses of these records put mean patience at several minutes
    assert 200 < q.patience.mean_s < 500
    assert 150 < q.handle_time.mean_s < 200 and q.handle_time.cv > 1
    # agents seen serving were busy about half the time: the effective share is well below 1
    assert 0.3 < q.availability.factor < 0.9
    assert q.availability.sl_mae_after < q.availability.sl_mae_before


# --------------------------------------------------------------------------- properties

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402


@settings(max_examples=30, deadline=None)
@given(
    arrays(np.float64, st.integers(1, 60), elements=st.floats(0, 1e4)),
    st.data(),
)
def test_kaplan_meier_is_a_non_increasing_probability(durations, data):
    observed = data.draw(arrays(np.bool_, durations.size))
    curve = kaplan_meier(durations, observed)
    assert np.all((curve.survival >= 0) & (curve.survival <= 1))
    assert np.all(np.diff(curve.survival) <= 1e-12)
    assert curve.events.sum() == observed.sum()


@settings(max_examples=30, deadline=None)
@given(
    arrays(np.float64, st.integers(1, 60), elements=st.floats(0, 1e4)),
    st.data(),
)
def test_patience_interval_brackets_the_estimate(waits, data):
    abandoned = data.draw(arrays(np.bool_, waits.size))
    est = estimate_patience(waits, abandoned)
    if est.abandoned and est.total_wait_s > 0:
        assert est.low_s <= est.mean_s <= est.high_s
        assert est.mean_s == pytest.approx(waits.sum() / abandoned.sum())


# --------------------------------------------------------------------------- applying to a plan


def test_pooled_calibration_applies_to_voice_queues_only_with_a_warning():
    rng = np.random.default_rng(3)
    waits, abandoned = simulated_waits(rng, 400, 100.0, 30.0)
    records = pd.DataFrame(
        {
            "queue": pd.array(["a"] * 400, dtype="string"),
            "arrival": pd.Timestamp("2024-01-01 09:00") + pd.to_timedelta(np.arange(400) * 7, "s"),
            "wait_s": waits,
            "outcome": pd.array(np.where(abandoned, "abandoned", "answered"), dtype="string"),
            "handle_s": np.where(abandoned, np.nan, 200.0),
            "agent": pd.array(np.where(abandoned, None, "x"), dtype="string"),
        }
    )
    cal = calibrate(records, pool="centre", bootstrap=0)
    config = config_from_dict({"data": {"volumes": "v.csv"}, "queues": {
        "phone": {"channel": "voice", "aht_s": 90},
        "web": {"channel": "chat", "aht_s": 500},
        "mail": {"channel": "email", "aht_s": 600}}})
    with pytest.warns(ForecastWarning, match="calibration 'centre' applies to voice queues "
                                             r"only \(Erlang C/A\); not applied to web, mail"):
        merged = apply_calibration(config, cal)
    assert merged.queues["phone"].aht_s == 200.0
    assert merged.queues["web"] == config.queues["web"]
    assert merged.queues["mail"] == config.queues["mail"]
    assert merged.calibrated == {"*": cal.queues["centre"].config_values()}


def test_a_plan_says_which_queue_got_which_values_and_which_calibrated_queues_it_lacks(
        roster_calibration, tmp_path, fast_config):
    from forecast.plan import build_plan

    config = load_config(fast_config(tmp_path))
    values = roster_calibration.queues["care"].config_values()
    # 'care' is not a queue of the example centre: nothing is applied, and the run says so
    unmatched = apply_calibration(config, roster_calibration)
    with pytest.warns(ForecastWarning, match="no queue named care in this run; calibration "
                                             "not applied"):
        result = build_plan(unmatched, queues=["voice"])
    assert result.warnings[0].startswith("no queue named care in this run")
    assert result.queues["voice"].warnings == []
    # mapped onto voice: voice's warnings (printed and in manifest.json) list the values
    mapped = apply_calibration(config, roster_calibration, queues={"care": "voice"})
    result = build_plan(mapped, queues=["voice", "chat"])
    expected = "calibration applied: " + ", ".join(f"{k} {v:g}" for k, v in values.items())
    assert result.queues["voice"].warnings == [expected] and result.warnings == []
    assert result.queues["chat"].warnings == []
    assert result.queues["voice"].plan["abandonment"].notna().all()


def test_hand_edits_to_the_queues_section_of_params_toml_take_effect(roster_calibration,
                                                                      tmp_path):
    text = calibration_to_toml(roster_calibration)
    derived = roster_calibration.queues["care"].config_values()
    start = text.index("[queues.care]")
    end = text.index("[fit.care]")
    edited = text[:start] + "[queues.care]\naht_s = 250.0\npatience_s = 99.5\n\n" + text[end:]
    path = tmp_path / "params.toml"
    path.write_text(edited)
    care = load_calibration(path).queues["care"]
    assert care.config_values() == {"aht_s": 250.0, "patience_s": 99.5}  # availability removed
    assert care.availability.factor == roster_calibration.queues["care"].availability.factor
    assert care.value_notes()["patience_s"] == "edited in params.toml"
    assert derived["patience_s"] != 99.5
    config = config_from_dict({"data": {"volumes": "v.csv"}})
    merged = apply_calibration(config, load_calibration(path))
    assert merged.queue("care").patience_s == 99.5
    assert merged.queue("care").availability == 1.0  # the config's, not the fit's


@pytest.mark.parametrize("section, text", [
    ("[queues.care]\npatience_s = -3\n", "params.toml, key 'queues.care.patience_s': got -3"),
    ("[queues.care]\npatience = 90\n", "key 'queues.care.patience': unknown key; did you mean "
                                       "'patience_s'?"),
    ("[queues.other]\naht_s = 90\n", "key 'queues.other': no [fit.other] for this queue"),
])
def test_a_bad_edit_to_params_toml_names_the_file_and_key(roster_calibration, tmp_path,
                                                          section, text):
    full = calibration_to_toml(roster_calibration)
    start, end = full.index("[queues.care]"), full.index("[fit.care]")
    path = tmp_path / "params.toml"
    path.write_text(full[:start] + section + "\n" + full[end:])
    with pytest.raises(ConfigError, match=re.escape(text)):
        load_calibration(path)


def test_params_toml_labels_each_figure_it_writes(roster_calibration):
    care = roster_calibration.queues["care"]
    values = care.config_values()
    text = calibration_to_toml(roster_calibration)
    assert "[queues.*] holds the values a plan uses" in text
    line = next(x for x in text.splitlines() if x.startswith("patience_s = "))
    assert line.startswith(f"patience_s = {values['patience_s']!r}  # Erlang A patience fitted")
    assert f"measured mean patience {care.patience.mean_s:.1f} s" in line
    described = care.describe()
    for key, value in values.items():
        assert f"{key} {value:g} (" in described


def test_a_calibration_file_that_is_not_utf8_is_a_one_line_config_error(tmp_path):
    from forecast.calibrate import load_calibration
    from forecast.exceptions import ConfigError

    bad = tmp_path / "params.toml"
    bad.write_bytes(b"[queues.voice]\naht_s = 1\xff\n")
    with pytest.raises(ConfigError, match=r"params.toml.*not UTF-8 text"):
        load_calibration(bad)
