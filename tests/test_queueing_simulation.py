"""The Erlang C and Erlang A formulas against a discrete-event simulation.

The simulator below is exact for FIFO M/M/n+M: customer i arriving at t_i is offered
a server at ``max(t_i, earliest free server)`` (earlier abandoners hold no server);
if that wait exceeds their patience they abandon, otherwise they take the server.
Estimates carry batch-means confidence intervals (20 batches, 99.9%).
"""

from __future__ import annotations

import heapq

import numpy as np
import pytest
from scipy import stats

from forecast.queueing import asa, erlang_a, erlang_c, required_agents, service_level


def simulate(agents, arrival_rate_per_s, aht_s, patience_s, target_s, customers, seed):
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1 / arrival_rate_per_s, customers))
    services = rng.exponential(aht_s, customers)
    patience = (rng.exponential(patience_s, customers) if patience_s is not None
                else np.full(customers, np.inf))
    free = [0.0] * agents
    waited = np.empty(customers)
    abandoned = np.zeros(customers, dtype=bool)
    for i in range(customers):
        t = arrivals[i]
        start = max(t, free[0])
        if start - t > patience[i]:
            abandoned[i] = True
            waited[i] = patience[i]
            continue
        heapq.heapreplace(free, start + services[i])
        waited[i] = start - t
    warm = customers // 20
    waited, abandoned = waited[warm:], abandoned[warm:]
    answered_in_time = (~abandoned) & (waited <= target_s)
    return {
        "service_level": answered_in_time,
        "p_abandon": abandoned.astype(float),
        "p_wait": (abandoned | (waited > 0)).astype(float),
        "asa_served": (waited, ~abandoned),
    }


def batch_ci(values, batches=20, level=0.999):
    means = np.array([b.mean() for b in np.array_split(np.asarray(values, float), batches)])
    half = stats.t.ppf(0.5 + level / 2, batches - 1) * means.std(ddof=1) / np.sqrt(batches)
    return means.mean(), half


def ratio_ci(num, den, batches=20, level=0.999):
    parts = zip(np.array_split(num, batches), np.array_split(den, batches), strict=True)
    means = np.array([n.sum() / d.sum() for n, d in parts])
    half = stats.t.ppf(0.5 + level / 2, batches - 1) * means.std(ddof=1) / np.sqrt(batches)
    return means.mean(), half


def assert_within(estimate, half_width, value, name):
    assert abs(estimate - value) <= half_width + 1e-3, (
        f"{name}: formula {value:.4f}, simulation {estimate:.4f} +/- {half_width:.4f}")


@pytest.mark.parametrize("agents,load,aht_s,target_s", [(12, 10.0, 180.0, 20.0),
                                                        (3, 2.0, 120.0, 30.0)])
def test_erlang_c_matches_simulation(agents, load, aht_s, target_s):
    sim = simulate(agents, load / aht_s, aht_s, None, target_s, 120_000, seed=7)
    est, half = batch_ci(sim["service_level"])
    assert_within(est, half, float(service_level(agents, load, aht_s, target_s)), "SL")
    est, half = batch_ci(sim["p_wait"])
    assert_within(est, half, float(erlang_c(agents, load)), "P(wait)")
    waited, _ = sim["asa_served"]  # no abandonment: everyone is served
    est, half = batch_ci(waited)
    assert_within(est, half, float(asa(agents, load, aht_s)), "ASA (s)")


def test_peer_check_100_erlangs_erlang_a():
    # Erlang C asks 108 agents, Erlang A 98; 98 agents give ~0.81 within 20 s, ~6% abandon
    assert required_agents(100, 300, 0.8, 20).agents == 108
    assert required_agents(100, 300, 0.8, 20, patience_s=120).agents == 98
    formula = erlang_a(98, 100 / 300, 300, 120, 20)
    sim = simulate(98, 100 / 300, 300, 120, 20, 150_000, seed=11)
    est, half = batch_ci(sim["service_level"])
    assert_within(est, half, float(formula.service_level), "SL within 20 s")
    assert 0.79 < est < 0.83
    est, half = batch_ci(sim["p_abandon"])
    assert_within(est, half, float(formula.p_abandon), "abandonment")
    assert 0.05 < est < 0.07


@pytest.mark.parametrize("agents,load,aht_s,patience_s,target_s", [
    (3, 2.5, 120.0, 60.0, 20.0),  # small, overloaded without abandonment
    (20, 18.0, 240.0, 600.0, 30.0),  # patience longer than AHT
])
def test_erlang_a_matches_simulation(agents, load, aht_s, patience_s, target_s):
    lam = load / aht_s
    formula = erlang_a(agents, lam, aht_s, patience_s, target_s)
    sim = simulate(agents, lam, aht_s, patience_s, target_s, 120_000, seed=5)
    for name in ("service_level", "p_abandon", "p_wait"):
        est, half = batch_ci(sim[name])
        assert_within(est, half, float(getattr(formula, name)), name)
    waited, served = sim["asa_served"]
    est, half = ratio_ci(np.where(served, waited, 0.0), served.astype(float))
    assert abs(est - float(formula.asa_s)) <= half + 0.02 * est, (est, half, formula.asa_s)
