"""Specification of forecast.simulate: the discrete-event simulator of a staffing plan.

Steady-state reference values come from forecast.queueing (Erlang C and Erlang A).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast import queueing
from forecast.exceptions import DataValidationError, ForecastError, ForecastWarning
from forecast.simulate import (
    OUTCOMES,
    interval_summary,
    kernel,
    mean_ci,
    read_plan,
    sampling,
    simulable_queues,
    simulate_plan,
    simulate_queue,
)

# ------------------------------------------------------------------ helpers


def flat_plan(
    volume: float,
    aht_s: float,
    agents: int,
    *,
    intervals: int,
    interval_s: int = 3600,
    queue: str = "q",
    start="2024-01-01",
    channel: str = "voice",
) -> pd.DataFrame:
    ds = pd.date_range(start, periods=intervals, freq=f"{interval_s}s")
    return pd.DataFrame(
        {
            "queue": queue,
            "channel": channel,
            "ds": ds,
            "volume": float(volume),
            "aht_s": float(aht_s),
            "agents_required": agents,
            "service_level": 0.8,
        }
    )


def pooled(result, name: str, confidence: float = 0.999):
    """Whole-horizon figure over replications: mean and CI."""
    mean, lo, hi = mean_ci(result.replications[name].to_numpy()[None, :], confidence)
    return mean[0], lo[0], hi[0]


# ------------------------------------------------------------------ steady state


def test_matches_erlang_c_in_steady_state():
    # 10 Erlangs on 12 agents, AHT 100 s: 360 calls an hour for 100 hours, 32 replications
    plan = flat_plan(360, 100, 12, intervals=100)
    p_wait = float(queueing.erlang_c(12, 10.0))
    sl20 = float(queueing.service_level(12, 10.0, 100.0, 20.0))
    asa = float(queueing.asa(12, 10.0, 100.0))
    res20 = simulate_plan(
        plan, interval_s=3600, target_s=20, replications=32, seed=1, confidence=0.999
    )
    res0 = simulate_plan(
        plan, interval_s=3600, target_s=0, replications=32, seed=1, confidence=0.999
    )
    mean, lo, hi = pooled(res20, "service_level")
    assert lo <= sl20 <= hi and hi - lo < 0.04
    mean, lo, hi = pooled(res0, "service_level")  # answered at once = 1 - P(wait)
    assert lo <= 1 - p_wait <= hi
    mean, lo, hi = pooled(res20, "asa_s")
    assert lo <= asa <= hi
    mean, lo, hi = pooled(res20, "occupancy")
    assert lo <= 10 / 12 <= hi


def test_matches_erlang_a_with_exponential_patience():
    # 20 Erlangs on 20 agents (overloaded without abandonment), patience 60 s
    rate, aht, patience, n = 0.2, 100.0, 60.0, 20
    formula = queueing.erlang_a(n, rate, aht, patience, 20.0)
    plan = flat_plan(rate * 3600, aht, n, intervals=30)
    res = simulate_plan(
        plan,
        interval_s=3600,
        target_s=20,
        replications=24,
        patience=patience,
        seed=2,
        confidence=0.999,
    )
    mean, lo, hi = pooled(res, "abandonment")
    assert lo <= formula.p_abandon <= hi and hi - lo < 0.02
    for name in ("service_level", "service_level_answered", "asa_s", "occupancy"):
        mean, lo, hi = pooled(res, name)
        assert lo <= getattr(formula, name) <= hi, name
    res0 = simulate_plan(
        plan,
        interval_s=3600,
        target_s=0,
        replications=24,
        patience=patience,
        seed=2,
        confidence=0.999,
    )
    mean, lo, hi = pooled(res0, "service_level")
    assert lo <= 1 - formula.p_wait <= hi


def test_lognormal_handle_times_keep_the_mean_load():
    # occupancy = load / agents whatever the handle-time shape, when nobody abandons
    plan = flat_plan(360, 100, 12, intervals=30)
    res = simulate_plan(
        plan,
        interval_s=3600,
        replications=16,
        service="lognormal",
        service_cv=1.5,
        seed=3,
        confidence=0.999,
    )
    mean, lo, hi = pooled(res, "occupancy")
    assert lo <= 10 / 12 <= hi


# ------------------------------------------------------------------ bookkeeping


def test_every_offered_call_is_answered_abandoned_or_still_waiting():
    ds = pd.date_range("2024-01-01 08:00", periods=8, freq="30min")
    plan = pd.DataFrame(
        {
            "queue": "q",
            "channel": "voice",
            "ds": ds,
            "volume": [50, 80, 120, 150, 90, 60, 40, 30.0],
            "aht_s": 240.0,
            "agents_required": [8, 10, 3, 0, 12, 9, 4, 1],
        }
    )
    res = simulate_plan(plan, interval_s=1800, replications=10, patience=90, seed=4)
    iv = res.intervals
    np.testing.assert_allclose(iv["offered"], iv["answered"] + iv["abandoned"] + iv["waiting"])
    reps = res.replications
    np.testing.assert_array_equal(
        reps["offered"], reps["answered"] + reps["abandoned"] + reps["waiting"]
    )
    assert iv["answered_within_target"].le(iv["answered"]).all()
    for name in ("service_level", "abandonment", "occupancy"):
        values = iv[name].dropna()
        assert values.between(0, 1).all()


def test_per_call_outcomes_add_up_to_the_interval_summary():
    rng = np.random.default_rng(5)
    arrival = np.sort(rng.uniform(0, 3 * 600, 400))
    calls = simulate_queue(
        arrival,
        rng.exponential(60, 400),
        rng.exponential(40, 400),
        [6, 2, 8],
        interval_s=600,
        target_s=15,
    )
    assert set(calls["outcome"]) <= set(OUTCOMES)
    table = interval_summary(calls, [6, 2, 8], interval_s=600, target_s=15)
    by_interval = calls.groupby("interval")["outcome"].value_counts().unstack(fill_value=0)
    np.testing.assert_array_equal(table["answered"], by_interval.get("answered", 0))
    np.testing.assert_array_equal(table["abandoned"], by_interval.get("abandoned", 0))
    assert table["offered"].sum() == 400
    answered = calls[calls["outcome"] == "answered"]
    assert (answered["wait_s"] >= 0).all()
    assert (answered["wait_s"] <= answered["patience_s"]).all()
    gone = calls[calls["outcome"] == "abandoned"]
    np.testing.assert_array_equal(gone["wait_s"], gone["patience_s"])


# ------------------------------------------------------------------ determinism


def test_same_seed_same_numbers_other_seed_other_numbers():
    plan = flat_plan(100, 200, 8, intervals=6)
    a = simulate_plan(plan, interval_s=3600, replications=5, patience=120, seed=11)
    b = simulate_plan(plan, interval_s=3600, replications=5, patience=120, seed=11)
    c = simulate_plan(plan, interval_s=3600, replications=5, patience=120, seed=12)
    pd.testing.assert_frame_equal(a.intervals, b.intervals)
    pd.testing.assert_frame_equal(a.replications, b.replications)
    assert not a.replications["offered"].equals(c.replications["offered"])


def test_a_queue_does_not_depend_on_other_queues_or_later_replications():
    alone = flat_plan(100, 200, 8, intervals=6, queue="sales")
    other = flat_plan(300, 100, 10, intervals=6, queue="care")
    both = pd.concat([other, alone], ignore_index=True)
    a = simulate_plan(alone, interval_s=3600, replications=6, seed=3)
    b = simulate_plan(both, interval_s=3600, replications=6, seed=3)
    short = simulate_plan(alone, interval_s=3600, replications=3, seed=3)
    reps_b = b.replications[b.replications["queue"] == "sales"].reset_index(drop=True)
    pd.testing.assert_frame_equal(a.replications, reps_b)
    pd.testing.assert_frame_equal(short.replications, a.replications.iloc[:3])


def run_kernel(fn, agents, arrival, service, patience, interval_s, use_heap):
    block_end = np.full(agents.size, agents.size, np.int64)
    table = kernel.next_on_duty_table(agents, block_end)
    n = arrival.size
    seg = [
        np.array([0], np.int64),
        np.array([n], np.int64),
        np.array([0], np.int64),
        np.array([agents.size], np.int64),
    ]
    start, who, outcome = np.empty(n), np.empty(n, np.int64), np.empty(n, np.int8)
    fn(*seg, arrival, service, patience, agents, table, interval_s, start, who, outcome, use_heap)
    return start, who, outcome


def random_case(seed: int):
    rng = np.random.default_rng(seed)
    n_int = int(rng.integers(1, 8))
    agents = rng.integers(0, 7, n_int).astype(np.int64)
    n = int(rng.integers(1, 300))
    arrival = np.sort(rng.uniform(0, n_int * 100.0, n))
    service = rng.exponential(rng.uniform(5, 60), n)
    patience = np.where(rng.random(n) < 0.5, np.inf, rng.exponential(30, n))
    return agents, arrival, service, patience


@pytest.mark.parametrize("seed", range(40))
def test_heap_and_linear_scan_choose_the_same_agents(seed):
    agents, arrival, service, patience = random_case(seed)
    scan = run_kernel(kernel.run_segments, agents, arrival, service, patience, 100.0, False)
    heap = run_kernel(kernel.run_segments, agents, arrival, service, patience, 100.0, True)
    for x, y in zip(scan, heap, strict=True):
        np.testing.assert_array_equal(x, y)


def test_compiled_kernel_equals_its_plain_python_source():
    if not hasattr(kernel.run_segments, "py_func"):
        pytest.skip("not compiled (numba absent or disabled): the plain Python code runs")
    agents, arrival, service, patience = random_case(8)
    block_end = np.full(agents.size, agents.size, np.int64)
    np.testing.assert_array_equal(
        kernel.next_on_duty_table(agents, block_end),
        kernel.next_on_duty_table.py_func(agents, block_end),
    )
    for use_heap in (False, True):
        compiled = run_kernel(
            kernel.run_segments, agents, arrival, service, patience, 100.0, use_heap
        )
        plain = run_kernel(
            kernel.run_segments.py_func, agents, arrival, service, patience, 100.0, use_heap
        )
        for x, y in zip(compiled, plain, strict=True):
            np.testing.assert_array_equal(x, y)


# ------------------------------------------------------------------ agents at boundaries


def test_hand_computed_waits_on_a_tiny_replay():
    # two agents, four calls of 10 s a second apart: calls 3 and 4 wait for the first two
    calls = simulate_queue([0, 1, 2, 3], [10, 10, 10, 10], None, [2, 2], interval_s=20, target_s=5)
    np.testing.assert_array_equal(calls["start_s"], [0, 1, 10, 11])
    np.testing.assert_array_equal(calls["wait_s"], [0, 0, 8, 8])
    np.testing.assert_array_equal(calls["within_target"], [True, True, False, False])
    # the third caller gives up after 5 s, so the fourth takes its place at t = 10
    calls = simulate_queue(
        [0, 1, 2, 3],
        [10, 10, 10, 10],
        [np.inf, np.inf, 5, np.inf],
        [2, 2],
        interval_s=20,
        target_s=5,
    )
    np.testing.assert_array_equal(
        calls["outcome"], ["answered", "answered", "abandoned", "answered"]
    )
    np.testing.assert_array_equal(calls["wait_s"], [0, 0, 5, 7])
    # arrivals given out of order come back in input order
    calls = simulate_queue([3, 0, 2, 1], [10, 10, 10, 10], None, [2, 2], interval_s=20, target_s=5)
    np.testing.assert_array_equal(calls["start_s"], [11, 0, 10, 1])


def test_nobody_is_answered_in_an_interval_without_agents():
    # agents [1, 0, 1] on 10 s intervals; calls at 12 and 15 wait for the agent back at 20
    calls = simulate_queue([12, 15], [3, 3], None, [1, 0, 1], interval_s=10, target_s=0)
    np.testing.assert_array_equal(calls["start_s"], [20, 23])
    plan = flat_plan(200, 60, 5, intervals=3)
    plan["agents_required"] = [5, 0, 5]
    res = simulate_plan(plan, interval_s=3600, replications=4, seed=0)
    assert res.intervals.loc[1, "offered"] > 0
    assert res.intervals.loc[1, "answered_within_target"] == 0
    # the interval's callers are answered only after the agents return: waits > 1 h on average
    assert res.intervals.loc[1, "asa_s"] > 1000


def test_a_leaving_agent_finishes_the_call_in_hand():
    # one agent in [0, 10) and none after: the call at 5 s takes 20 s and is finished,
    # the call at 6 s is never answered and is still waiting at the end
    calls = simulate_queue([5, 6], [20, 1], None, [1, 0], interval_s=10, target_s=20)
    np.testing.assert_array_equal(calls["outcome"], ["answered", "waiting"])
    np.testing.assert_array_equal(calls["wait_s"], [0, 14])  # censored at the end (20 s)
    table = interval_summary(calls, [1, 0], interval_s=10, target_s=20)
    # the work done after leaving counts as time on duty: occupancy stays within [0, 1]
    np.testing.assert_allclose(table["occupancy"], [0.5, 1.0])
    np.testing.assert_array_equal(table["waiting"], [1, 0])


def test_a_joining_agent_takes_the_longest_waiting_caller():
    # one agent busy with a 100 s call; a second joins at 10 s and answers the caller of 1 s
    calls = simulate_queue([0, 1, 2], [100, 5, 5], None, [1, 2], interval_s=10, target_s=0)
    np.testing.assert_array_equal(calls["start_s"], [0, 10, 15])
    np.testing.assert_array_equal(calls["agent"], [0, 1, 1])


def test_the_longest_idle_agent_answers():
    # agent 0 frees at 3 s, agent 1 at 5 s; the call at 10 s goes to agent 0
    calls = simulate_queue([0, 0, 10], [3, 5, 1], None, [2], interval_s=20, target_s=0)
    np.testing.assert_array_equal(calls["agent"], [0, 1, 0])


def test_each_day_starts_empty_and_callers_left_at_close_are_reported():
    ds = pd.date_range("2024-01-01 08:00", periods=4, freq="1h").append(
        pd.date_range("2024-01-02 08:00", periods=4, freq="1h")
    )
    plan = pd.DataFrame(
        {
            "queue": "q",
            "channel": "voice",
            "ds": ds,
            "volume": 100.0,
            "aht_s": 300.0,
            "agents_required": [10, 10, 10, 2, 10, 10, 10, 10],
        }
    )
    res = simulate_plan(plan, interval_s=3600, replications=5, seed=0)
    iv = res.intervals
    assert iv.loc[3, "waiting"] > 10  # day 1 closes overloaded
    assert iv.loc[4, "asa_s"] < iv.loc[3, "asa_s"]  # day 2 does not inherit the queue
    assert res.summary().loc[0, "waiting_at_end"] == pytest.approx(iv["waiting"].sum())


def test_more_agents_never_lower_the_service_level():
    plan = flat_plan(300, 120, 10, intervals=4)
    levels = []
    for agents in (10, 11, 12, 14):
        res = simulate_plan(
            plan.assign(agents_required=agents), interval_s=3600, replications=5, seed=9
        )
        levels.append(res.replications["service_level"].to_numpy())
    # same seed = same calls: each replication improves as agents are added
    assert all(np.all(b >= a) for a, b in zip(levels, levels[1:], strict=False))


# ------------------------------------------------------------------ arrivals and replay


def test_counts_arrivals_replay_exact_counts():
    plan = flat_plan(0, 180, 4, intervals=3).assign(volume=[7.0, 0.0, 12.0])
    res = simulate_plan(plan, interval_s=3600, replications=3, arrivals="counts", seed=0)
    np.testing.assert_array_equal(res.intervals["offered"], [7, 0, 12])


def test_negative_binomial_counts_are_over_dispersed():
    rng = np.random.default_rng(0)
    volume = np.full(20000, 200.0)
    counts = sampling.draw_counts(rng, volume, "negbin", dispersion=0.2)
    assert counts.mean() == pytest.approx(200, rel=0.01)
    assert counts.var() == pytest.approx(200 + (0.2 * 200) ** 2, rel=0.05)
    poisson = sampling.draw_counts(rng, volume, "poisson")
    assert poisson.var() == pytest.approx(200, rel=0.05)
    with pytest.raises(ForecastError, match="dispersion"):
        sampling.draw_counts(rng, volume, "negbin")


def test_service_and_patience_draws_have_the_requested_moments():
    rng = np.random.default_rng(1)
    aht = np.full(200000, 300.0)
    logn = sampling.draw_service(rng, aht, "lognormal", cv=0.8)
    assert logn.mean() == pytest.approx(300, rel=0.01)
    assert logn.std() / logn.mean() == pytest.approx(0.8, rel=0.03)
    observed = np.array([10.0, 20.0, 90.0])
    resampled = sampling.draw_service(rng, aht[:30000], observed)
    # shape from the samples, level from the plan: mean 40 s rescaled to 300 s
    assert set(np.round(np.unique(resampled), 6)) == {75.0, 150.0, 675.0}
    assert np.isinf(sampling.draw_patience(rng, 5, None)).all()
    assert sampling.draw_patience(rng, 100000, 90.0).mean() == pytest.approx(90, rel=0.02)
    assert set(sampling.draw_patience(rng, 100, [5.0, np.inf])) == {5.0, np.inf}


def test_replaying_call_timestamps_places_each_call_in_its_interval():
    plan = flat_plan(0, 100, 2, intervals=3, interval_s=1800, start="2024-01-01 09:00")
    calls = pd.DataFrame(
        {
            "queue": "q",
            "arrival": pd.to_datetime(
                [
                    "2024-01-01 09:00:05",
                    "2024-01-01 09:10:00",
                    "2024-01-01 09:45:00",
                    "2024-01-01 10:29:59",
                    "2024-01-01 12:00:00",
                ]
            ),  # the last falls after the plan
            "handle_s": [60.0, 30.0, np.nan, 10.0, 5.0],
        }
    )
    res = simulate_plan(
        plan, interval_s=1800, replications=2, arrivals=calls, service="actual", seed=0
    )
    np.testing.assert_array_equal(res.intervals["offered"], [2, 1, 1])
    np.testing.assert_array_equal(res.intervals["service_level"], [1, 1, 1])
    assert any("1 of 5 calls" in note for note in res.notes)
    # the actual handle times are used: 60 s + 30 s of work in the first half hour
    np.testing.assert_allclose(res.intervals.loc[0, "occupancy"], 90 / (2 * 1800))


# ------------------------------------------------------------------ plan checking


def write(tmp_path, frame: pd.DataFrame, name="plan.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("change", "column", "line", "words"),
    [
        (lambda p: p.drop(columns="aht_s"), "aht_s", 1, "missing column"),
        (
            lambda p: p.assign(ds=p["ds"].astype(str).where(p.index != 2, "soon")),
            "ds",
            4,
            "not a timestamp",
        ),
        (
            lambda p: p.assign(agents_required=p["agents_required"].where(p.index != 1, -2)),
            "agents_required",
            3,
            "whole number",
        ),
        (
            lambda p: p.assign(
                agents_required=p["agents_required"].astype(float).where(p.index != 3, 2.5)
            ),
            "agents_required",
            5,
            "whole number",
        ),
        (
            lambda p: p.assign(volume=p["volume"].astype(object).where(p.index != 4, "lots")),
            "volume",
            6,
            "not a finite number",
        ),
        (lambda p: p.assign(aht_s=p["aht_s"].where(p.index != 0, 0.0)), "aht_s", 2, "aht_s"),
        (lambda p: pd.concat([p, p.iloc[[2]]], ignore_index=True), "ds", 8, "twice"),
        (
            lambda p: p.assign(
                ds=p["ds"].where(p.index != 5, p["ds"].iloc[5] + pd.Timedelta("10min"))
            ),
            "ds",
            7,
            "multiple",
        ),
    ],
)
def test_a_bad_plan_file_gets_a_one_line_error_naming_row_and_column(
    tmp_path, change, column, line, words
):
    path = write(tmp_path, change(flat_plan(100, 200, 8, intervals=6)))
    with pytest.raises(DataValidationError) as err:
        simulate_plan(read_plan(path), interval_s=3600, replications=1)
    message = str(err.value)
    assert "\n" not in message
    assert str(path) in message and f"row {line}" in message and f"'{column}'" in message
    assert words in message


def test_plan_without_file_reports_the_row_position():
    plan = flat_plan(100, 200, 8, intervals=3)
    plan.loc[1, "agents_required"] = -1
    with pytest.raises(DataValidationError, match=r"plan row 1"):
        simulate_plan(plan, interval_s=3600, replications=1)


def test_volume_mean_is_used_when_there_is_no_volume_column():
    plan = flat_plan(0, 100, 3, intervals=2).drop(columns="volume").assign(volume_mean=[5.0, 9.0])
    res = simulate_plan(plan, interval_s=3600, replications=2, arrivals="counts")
    np.testing.assert_array_equal(res.intervals["offered"], [5, 9])


def test_rejects_bad_settings():
    plan = flat_plan(10, 100, 3, intervals=2)
    with pytest.raises(ForecastError, match="replications"):
        simulate_plan(plan, interval_s=3600, replications=0)
    with pytest.raises(ForecastError, match="unknown arrivals"):
        simulate_plan(plan, interval_s=3600, arrivals="uniform")
    with pytest.raises(ForecastError, match="service='actual'"):
        simulate_plan(plan, interval_s=3600, service="actual")
    with pytest.raises(DataValidationError, match="outside the schedule"):
        simulate_queue([5, 50], [1, 1], None, [1], interval_s=10, target_s=0)


def test_summary_sets_the_promise_beside_the_simulated_figures():
    res = simulate_plan(
        flat_plan(360, 100, 12, intervals=4), interval_s=3600, replications=8, seed=0
    )
    summary = res.summary()
    assert list(summary["queue"]) == ["q"]
    row = summary.iloc[0]
    assert row["promised_service_level"] == pytest.approx(0.8)
    assert row["service_level_lo"] <= row["service_level"] <= row["service_level_hi"]
    assert row["offered"] == pytest.approx(360 * 4, rel=0.05)
    assert row["abandonment"] == 0


def test_replayed_calls_can_carry_their_own_patience():
    # one agent busy 0-100 s with the first call; the second caller (arrives at 10 s)
    # is known to hang up after 30 s; the third is known to wait at least 95 s and,
    # with no further patience drawn (None = never hangs up), is answered at 100 s
    plan = flat_plan(0, 100, 1, intervals=1, interval_s=1800, start="2024-01-01 09:00")
    calls = pd.DataFrame(
        {
            "arrival": pd.to_datetime(
                ["2024-01-01 09:00:00", "2024-01-01 09:00:10", "2024-01-01 09:00:05"]
            ),
            "handle_s": [100.0, 10.0, 10.0],
            "patience_s": [np.nan, 30.0, np.nan],
            "patience_min_s": [np.nan, np.nan, 95.0],
        }
    )
    res = simulate_plan(
        plan, interval_s=1800, replications=1, arrivals=calls, service="actual", target_s=200
    )
    row = res.intervals.iloc[0]
    assert (row["answered"], row["abandoned"]) == (2, 1)
    assert row["asa_s"] == pytest.approx((0 + 95) / 2)
    # exponential patience of 1 s on top of the 95 s floor: the third caller still waits
    # the 95 s it is known to have waited, in every replication
    res = simulate_plan(
        plan,
        interval_s=1800,
        replications=30,
        arrivals=calls,
        service="actual",
        patience=1.0,
        target_s=200,
    )
    assert res.replications["abandoned"].eq(1).all()
    # without the floor, the same 1 s patience loses the third caller too
    res = simulate_plan(
        plan,
        interval_s=1800,
        replications=30,
        arrivals=calls.drop(columns="patience_min_s"),
        service="actual",
        patience=1.0,
        target_s=200,
    )
    assert res.replications["abandoned"].eq(2).all()


def test_chat_agents_hold_several_sessions_and_deferred_queues_are_skipped():
    from forecast.config import QueueConfig

    plan = pd.concat(
        [
            flat_plan(60, 600, 12, intervals=24, queue="chat"),
            flat_plan(50, 300, 2, intervals=24, queue="mail"),
        ],
        ignore_index=True,
    )
    queues = {
        "chat": QueueConfig(
            name="chat", channel="chat", answer_s=60, concurrency=3, concurrency_aht_factor=0.5
        ),
        "mail": QueueConfig(name="mail", channel="email"),
    }
    with pytest.warns(UserWarning, match="deferred"):
        res = simulate_plan(plan, interval_s=3600, replications=8, queues=queues, seed=0)
    assert set(res.intervals["queue"]) == {"chat"}
    assert res.targets_s == {"chat": 60.0}
    # 12 agents x 3 sessions = 36 servers; a session lasts 600 s x (1 + 0.5 x 2) = 1200 s:
    # 20 Erlangs of sessions on 36 servers (a day, so the empty start hardly shows)
    assert res.summary().loc[0, "occupancy"] == pytest.approx(20 / 36, abs=0.03)
    # without the settings: 10 Erlangs on 12 single-session agents
    alone = simulate_plan(plan[plan["queue"] == "chat"], interval_s=3600, replications=8, seed=0)
    assert alone.summary().loc[0, "occupancy"] == pytest.approx(10 / 12, abs=0.03)



def mixed_channel_plan() -> pd.DataFrame:
    """A voice, a chat and an email queue, as ``wfm plan`` writes them (channel column)."""
    return pd.concat(
        [
            flat_plan(60, 600, 12, intervals=6, queue="chat", channel="chat"),
            flat_plan(90, 180, 6, intervals=6, queue="voice"),
            flat_plan(40, 300, 2, intervals=6, queue="mail", channel="email"),
        ],
        ignore_index=True,
    )


def test_without_settings_only_the_plans_voice_queues_are_simulated_and_the_rest_noted():
    with pytest.warns(ForecastWarning) as caught:
        res = simulate_plan(mixed_channel_plan(), interval_s=3600, replications=2)
    assert set(res.intervals["queue"]) == {"voice"} and set(res.targets_s) == {"voice"}
    assert res.notes == [
        "queue 'chat' (chat) is not simulated without queues=, which holds its chat concurrency",
        "queue 'mail' (email) is not simulated without queues=, which holds its backlog "
        "settings",
    ]
    assert [str(w.message) for w in caught] == res.notes


def test_a_queue_with_its_settings_is_simulated_whatever_the_channel_column_says():
    from forecast.config import QueueConfig

    queues = {"chat": QueueConfig(name="chat", channel="chat", answer_s=60, concurrency=3)}
    with pytest.warns(ForecastWarning, match="'mail' \\(email\\) is not simulated"):
        res = simulate_plan(mixed_channel_plan(), interval_s=3600, replications=2, queues=queues)
    assert set(res.intervals["queue"]) == {"chat", "voice"}
    assert res.targets_s == {"chat": 60.0, "voice": 20.0}
    assert len(res.notes) == 1


def test_a_plan_without_channel_column_or_settings_warns_every_queue_is_simulated_as_voice():
    plan = mixed_channel_plan().drop(columns="channel")
    with pytest.warns(ForecastWarning, match="no channel column and no queues= was given: "
                                             "every queue is simulated as a voice queue"):
        res = simulate_plan(plan, interval_s=3600, replications=2)
    assert set(res.intervals["queue"]) == {"chat", "voice", "mail"}


def test_a_plan_of_only_unset_chat_and_email_queues_is_an_error_naming_them():
    plan = mixed_channel_plan()
    plan = plan[plan["queue"] != "voice"]
    with pytest.warns(ForecastWarning), pytest.raises(
        ForecastError, match="no queue of the plan could be simulated .*'chat' .*'mail'"
    ):
        simulate_plan(plan, interval_s=3600, replications=2)


def test_simulable_queues_speaks_the_clis_words_when_asked():
    kept, notes = simulable_queues(mixed_channel_plan(), plan_name="PLAN", settings="--config")
    assert set(kept["queue"]) == {"voice"}
    assert notes[0] == ("queue 'chat' (chat) is not simulated without --config, which holds "
                        "its chat concurrency")
    with pytest.warns(ForecastWarning, match="^PLAN has no channel column and no --config"):
        kept, notes = simulable_queues(mixed_channel_plan().drop(columns="channel"),
                                       plan_name="PLAN", settings="--config")
    assert len(kept) == 18 and notes == []


def test_an_empty_channel_cell_counts_as_voice():
    plan = mixed_channel_plan()
    plan["channel"] = plan["channel"].where(plan["queue"] != "voice", None)
    kept, notes = simulable_queues(plan)
    assert set(kept["queue"]) == {"voice"} and len(notes) == 2


def test_errors_name_the_files_line_after_queues_were_left_out(tmp_path):
    plan = mixed_channel_plan()
    plan.loc[8, "agents_required"] = -1  # voice's third interval: line 10 of the file
    path = write(tmp_path, plan)
    with pytest.warns(ForecastWarning), pytest.raises(DataValidationError, match="row 10"):
        simulate_plan(read_plan(path), interval_s=3600, replications=1)


# ------------------------------------------------------------------ the forecast's own error


def test_rate_cv_is_what_the_prediction_interval_adds_to_poisson_noise():
    # mean 400; p10/p90 400 -+ 1.2816 * 50: sd 50, variance 2500 = 400 Poisson + 2100 rate
    z = 1.2815515655446004
    cv = sampling.rate_cv_from_quantiles(
        np.array([400.0, 400.0, 0.0]),
        np.array([400 - z * 50, 400 - z * 10, 0.0]),
        np.array([400 + z * 50, 400 + z * 10, 0.0]),
        0.1,
    )
    np.testing.assert_allclose(cv, [np.sqrt(2100) / 400, 0.0, 0.0])  # narrower than Poisson: 0


def test_day_scope_makes_the_intervals_of_a_day_err_together():
    rng = np.random.default_rng(2)
    volume = np.full(48, 100.0)
    day = np.repeat([0, 1], 24)
    totals_interval, totals_day, first_day = [], [], []
    for _ in range(800):
        totals_interval.append(sampling.draw_counts(rng, volume, "negbin", 0.2)[:24].sum())
        counts = sampling.draw_counts(rng, volume, "negbin", 0.2, day=day)
        totals_day.append(counts[:24].sum())
        first_day.append((counts[0], counts[1]))
    # a day's total varies far more when its intervals share one error
    assert np.var(totals_day) > 5 * np.var(totals_interval)
    assert np.corrcoef(np.array(first_day).T)[0, 1] > 0.5
    assert np.mean(totals_day) == pytest.approx(2400, rel=0.02)


def test_forecast_arrivals_use_the_plans_quantiles():
    plan = flat_plan(300, 120, 12, intervals=8)
    z = 1.2815515655446004
    sd = np.sqrt(300 + (0.3 * 300) ** 2)  # a 30% rate error on top of Poisson
    plan = plan.assign(p10=300 - z * sd, p50=300.0, p90=300 + z * sd)
    wide = simulate_plan(plan, interval_s=3600, replications=40, arrivals="forecast", seed=0)
    poisson = simulate_plan(plan, interval_s=3600, replications=40, seed=0)
    assert (
        wide.replications["service_level"].std() > 2 * poisson.replications["service_level"].std()
    )
    assert wide.summary().loc[0, "service_level"] < poisson.summary().loc[0, "service_level"]
    with pytest.raises(ForecastError, match="quantile columns"):
        simulate_plan(plan.drop(columns=["p10", "p90"]), interval_s=3600, arrivals="forecast")
    with pytest.raises(ForecastError, match="error_scope"):
        simulate_plan(plan, interval_s=3600, arrivals="forecast", error_scope="week")


def test_counts_how_often_intervals_meet_the_goal():
    # 10 Erlangs: 14 agents comfortably meet 80/20 in nearly every hour, 11 rarely do
    plan = flat_plan(360, 100, 14, intervals=12)
    plan["agents_required"] = [14] * 6 + [11] * 6
    res = simulate_plan(plan, interval_s=3600, replications=20, service_level_goal=0.8, seed=0)
    p = res.intervals["p_meets_goal"].to_numpy()
    assert p[:6].min() > 0.8 and p[6:].max() < 0.3
    row = res.summary().iloc[0]
    assert row["service_level_goal"] == 0.8
    assert row["intervals_meeting_goal"] == pytest.approx(p.mean())
    assert row["intervals_meeting_goal_lo"] <= row["intervals_meeting_goal"]
    # without a goal (and no queue settings) nothing is counted
    res = simulate_plan(plan, interval_s=3600, replications=2, seed=0)
    assert res.intervals["p_meets_goal"].isna().all()
    assert np.isnan(res.summary().loc[0, "intervals_meeting_goal"])


@pytest.mark.parametrize("seed", range(25))
def test_invariants_of_a_first_come_first_served_queue(seed):
    agents, arrival, service, patience = random_case(100 + seed)
    calls = simulate_queue(arrival, service, patience, agents, interval_s=100.0, target_s=10)
    ans = calls[calls["outcome"] == "answered"].sort_values("arrival_s", kind="stable")
    start, end = ans["start_s"].to_numpy(), (ans["start_s"] + ans["service_s"]).to_numpy()
    # nobody is answered before arriving or after hanging up
    assert (ans["wait_s"] >= 0).all() and (ans["wait_s"] <= ans["patience_s"]).all()
    # first come, first served: answered calls start in arrival order
    assert np.all(np.diff(start) >= 0)
    # an agent starts a call only while on duty, and handles one call at a time
    interval = np.floor(start / 100.0).astype(int)
    assert np.all(ans["agent"].to_numpy() < agents[interval])
    for _, own in ans.groupby("agent"):
        own = own.sort_values("start_s")
        assert np.all(
            own["start_s"].to_numpy()[1:]
            >= (own["start_s"] + own["service_s"]).to_numpy()[:-1] - 1e-9
        )
    # no caller waits while an agent on duty sits idle: at each arrival that had to wait,
    # every agent on duty was busy
    waited = calls[calls["wait_s"] > 0]
    for a in waited["arrival_s"]:
        on_duty = agents[int(a // 100.0)]
        busy = {int(g) for g, s0, s1 in zip(ans["agent"], start, end, strict=True) if s0 <= a < s1}
        assert set(range(on_duty)) <= busy
    # callers who gave up did so after exactly their patience, before the end
    gone = calls[calls["outcome"] == "abandoned"]
    assert np.all(gone["arrival_s"] + gone["patience_s"] < agents.size * 100.0)
