"""Specification of the queueing core: known values, edge cases, conventions."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.queueing import (
    asa,
    erlang_a,
    erlang_b,
    erlang_c,
    occupancy,
    required_agents,
    service_level,
)


def erlang_b_by_sum(n: int, a: float) -> float:
    terms = [1.0]
    for k in range(1, n + 1):
        terms.append(terms[-1] * a / k)
    return terms[-1] / sum(terms)


class TestErlangB:
    @pytest.mark.parametrize("n,a", [(1, 0.5), (5, 3.0), (10, 5.0), (30, 25.0), (50, 70.0)])
    def test_matches_the_defining_sum(self, n, a):
        assert erlang_b(n, a) == pytest.approx(erlang_b_by_sum(n, a), rel=1e-12)

    def test_one_server_is_a_over_one_plus_a(self):
        assert erlang_b(1, 2.0) == pytest.approx(2.0 / 3.0, rel=1e-14)

    def test_no_agents_blocks_everything_and_no_load_blocks_nothing(self):
        assert erlang_b(0, 3.0) == 1.0
        assert erlang_b(4, 0.0) == 0.0

    def test_deep_overload_and_huge_groups_stay_finite(self):
        b = erlang_b([1, 100, 5000, 20000, 20000], [10000, 10000, 10000, 10000, 0.01])
        assert np.all(np.isfinite(b))
        # far more Erlangs than agents: B tends to 1 - n/A
        assert b[0] == pytest.approx(1 - 1 / 10000, rel=1e-3)
        assert b[2] == pytest.approx(0.5, rel=2e-3)
        assert b[4] == 0.0


class TestErlangC:
    def test_textbook_value(self):
        # 10 agents, 8 Erlangs: P(wait) = 0.4092 (Gross et al. 2008 style M/M/c; also
        # the classic call-centre table value for A = 8, N = 10)
        assert erlang_c(10, 8.0) == pytest.approx(0.40918, abs=5e-5)

    def test_unstable_means_everyone_waits_forever(self):
        assert erlang_c(10, 10.0) == 1.0
        assert erlang_c(10, 12.5) == 1.0
        assert service_level(10, 12.5, 180, 20) == 0.0
        assert asa(10, 12.5, 180) == np.inf
        assert occupancy(10, 12.5) == 1.0

    def test_zero_volume_is_perfect_service(self):
        assert service_level(0, 0.0, 180, 20) == 1.0
        assert asa(0, 0.0, 180) == 0.0
        assert occupancy(0, 0.0) == 0.0

    def test_service_level_formula(self):
        n, a, h, t = 12, 10.0, 240.0, 30.0
        c = erlang_c(n, a)
        assert service_level(n, a, h, t) == pytest.approx(1 - c * np.exp(-(n - a) * t / h))
        assert asa(n, a, h) == pytest.approx(c * h / (n - a))

    def test_broadcasts_over_intervals(self):
        sl = service_level(np.array([[10], [12]]), np.array([8.0, 9.0, 9.5]), 180, 20)
        assert sl.shape == (2, 3)
        assert np.all(np.diff(sl, axis=1) < 0)  # more load, lower SL
        assert np.all(sl[1] > sl[0])  # more agents, higher SL

    def test_fractional_agents_interpolate_between_neighbours(self):
        lo, hi = service_level(11, 10.0, 180, 20), service_level(12, 10.0, 180, 20)
        assert service_level(11.25, 10.0, 180, 20) == pytest.approx(lo + 0.25 * (hi - lo))
        a_lo, a_hi = asa(11, 10.0, 180), asa(12, 10.0, 180)
        assert asa(11.5, 10.0, 180) == pytest.approx(1 / (0.5 / a_lo + 0.5 / a_hi))

    def test_negative_load_is_rejected(self):
        with pytest.raises(ValueError, match="load"):
            erlang_c(3, -1.0)


class TestErlangA:
    def test_peer_scenario_100_erlangs(self):
        # 100 Erlangs, AHT 300 s, patience 120 s, 98 agents: ~0.81 within 20 s, ~6% abandon
        r = erlang_a(98, 100 / 300, 300, 120, 20)
        assert r.service_level == pytest.approx(0.8138, abs=1e-3)
        assert r.p_abandon == pytest.approx(0.0599, abs=1e-3)

    def test_conventions_order(self):
        r = erlang_a(95, 100 / 300, 300, 120, 20)
        assert r.service_level < r.service_level_short_abandons_excluded
        assert r.service_level_short_abandons_excluded < r.service_level_answered
        assert r.p_abandon_within_target < r.p_abandon
        assert r.mean_wait_s == pytest.approx(r.p_abandon * 120)

    def test_long_patience_tends_to_erlang_c(self):
        r = erlang_a(12, 10 / 240, 240, 1e7, 30)
        assert r.p_wait == pytest.approx(erlang_c(12, 10.0), rel=1e-4)
        assert r.service_level == pytest.approx(service_level(12, 10.0, 240, 30), rel=1e-4)
        assert r.asa_s == pytest.approx(asa(12, 10.0, 240), rel=1e-3)

    def test_overload_is_finite(self):
        r = erlang_a([1, 10, 20000], [10000 / 300] * 3, 300, 120, 20)
        for field in ("p_wait", "p_abandon", "service_level", "asa_s", "occupancy"):
            assert np.all(np.isfinite(getattr(r, field))), field
        assert r.p_abandon[0] > 0.99
        assert r.occupancy[0] == pytest.approx(1.0, abs=1e-3)

    def test_no_arrivals_and_no_agents(self):
        r = erlang_a([0, 5], [0.1, 0.0], 300, 120, 20)
        assert r.p_abandon[0] == 1.0 and r.service_level[0] == 0.0 and r.asa_s[0] == np.inf
        assert r.p_abandon[1] == 0.0 and r.service_level[1] == 1.0 and r.asa_s[1] == 0.0


class TestRequiredAgents:
    def test_peer_scenario_erlang_c_108_erlang_a_98(self):
        assert required_agents(100, 300, 0.8, 20).agents == 108
        assert required_agents(100, 300, 0.8, 20, patience_s=120).agents == 98

    def test_answer_is_minimal(self):
        loads = np.linspace(0.1, 300, 97)
        r = required_agents(loads, 240, 0.8, 20)
        n = r.agents_integer
        assert np.all(service_level(n, loads, 240, 20) >= 0.8)
        assert np.all(service_level(n - 1, loads, 240, 20) < 0.8)

    def test_zero_volume_needs_no_agents(self):
        r = required_agents([0.0, 0.0], 300, 0.8, 20, fractional=True)
        assert list(r.agents) == [0, 0] and list(r.binding) == ["none", "none"]
        assert list(r.service_level) == [1.0, 1.0]

    def test_occupancy_cap_binds_for_large_loads(self):
        r = required_agents(500, 300, 0.8, 20, max_occupancy=0.85)
        assert r.binding == "occupancy"
        assert r.agents == int(np.ceil(500 / 0.85))
        assert r.agents_fractional == pytest.approx(500 / 0.85)

    def test_asa_cap_binds_when_tight(self):
        r = required_agents(50, 300, 0.5, 20, max_asa_s=5)
        assert r.binding == "asa"
        assert asa(r.agents_integer, 50, 300) <= 5 < asa(r.agents_integer - 1, 50, 300)

    def test_abandonment_cap_binds_under_erlang_a(self):
        r = required_agents(100, 300, 0.5, 20, patience_s=120, max_abandon=0.02)
        assert r.binding == "abandonment"
        n = r.agents_integer
        assert erlang_a(n, 100 / 300, 300, 120, 20).p_abandon <= 0.02
        assert erlang_a(n - 1, 100 / 300, 300, 120, 20).p_abandon > 0.02

    def test_fractional_answer_meets_target_exactly_with_interpolated_metric(self):
        r = required_agents([3.3, 47.0, 222.2], 200, 0.8, 20, fractional=True)
        assert np.all(r.agents > r.agents_integer - 1) and np.all(r.agents <= r.agents_integer)
        sl = service_level(r.agents, [3.3, 47.0, 222.2], 200, 20)
        assert sl == pytest.approx([0.8, 0.8, 0.8], abs=1e-12)

    def test_erlang_a_reports_the_metrics_of_its_answer_whatever_binds(self):
        # occupancy, abandonment and service level each bind in one of these intervals,
        # including where the Erlang C answer is already the Erlang A answer
        loads = np.array([50.9999, 6.95043, 6.20162, 0.4])
        aht = np.array([432.049, 390.292, 412.833, 300.0])
        r = required_agents(loads, aht, 0.8, 20, patience_s=180, max_abandon=0.05,
                            max_occupancy=0.85)
        m = erlang_a(r.agents_integer, loads / aht, aht, 180, 20)
        assert np.all(np.isfinite(r.service_level)) and np.all(np.isfinite(r.abandonment))
        assert r.service_level == pytest.approx(m.service_level, rel=1e-12)
        assert r.abandonment == pytest.approx(m.p_abandon, rel=1e-12)
        assert r.occupancy == pytest.approx(m.occupancy, rel=1e-12)
        assert np.all(r.agents_fractional > r.agents_integer - 1)
        assert np.all(r.agents_fractional <= r.agents_integer)

    def test_subnormal_loads_need_one_agent_and_return(self):
        r = required_agents([5e-324, 1e-300, 0.0], 10, 0.95, 278)
        assert list(r.agents_integer) == [1, 1, 0]
        m = erlang_a(1, np.array([5e-324, 1e-300]) / 10, 10, 180, 20)
        assert np.all(m.service_level == 1.0)

    def test_max_abandon_without_patience_is_an_error(self):
        with pytest.raises(ValueError, match="patience"):
            required_agents(10, 300, 0.8, 20, max_abandon=0.05)

    def test_service_level_of_one_is_rejected(self):
        with pytest.raises(ValueError, match="service_level"):
            required_agents(10, 300, 1.0, 20)


def _mp_erlang_a_service_level(n, lam, aht, pat, t):
    """Erlang A service level from the Mandelbaum-Zeltyn formulas in 40-digit mpmath."""
    import mpmath as mp

    mp.mp.dps = 40
    lam, aht, pat, t = (mp.mpf(v) for v in (lam, aht, pat, t))
    a, x, y = lam * aht, n * pat / aht, lam * pat
    terms = [mp.mpf(1)]
    for k in range(1, n + 1):
        terms.append(terms[-1] * a / k)
    b = terms[-1] / mp.fsum(terms)
    p_xy = mp.gammainc(x, 0, y, regularized=True)
    tail = mp.gamma(x + 1) * mp.exp(y) * y ** (-x) * p_xy
    p_wait = tail * b / (1 + (tail - 1) * b)
    yp = y * mp.exp(-t / pat)
    answered = (x / y) * (mp.gammainc(x + 1, 0, y, regularized=True)
                          - mp.gammainc(x + 1, 0, yp, regularized=True)) / p_xy
    return float(1 - p_wait + p_wait * answered)


class TestCompiledKernels:
    """The compiled Erlang A kernel and the searches built on it."""

    @pytest.mark.parametrize("n,load,aht,pat,t", [
        (155, 199.5, 197.7, 1676.0, 203.0),  # many more callers than agents: SL ~ 5e-7
        (959, 1035.0, 13.6, 75.0, 6.0),  # y - x ~ 420: the continued-fraction branch
        (7, 13.2, 27.3, 231.6, 19.6),  # y p > x + 1 at small x
        (98, 100.0, 300.0, 120.0, 20.0),  # ordinary staffing: the summed branch
    ])
    def test_service_level_keeps_its_digits_in_overload(self, n, load, aht, pat, t):
        got = erlang_a(n, load / aht, aht, pat, t).service_level
        assert got == pytest.approx(_mp_erlang_a_service_level(n, load / aht, aht, pat, t),
                                    rel=1e-9, abs=1e-15)

    def test_erlang_a_answer_is_minimal_for_every_target(self):
        rng = np.random.default_rng(3)
        size = 400
        load = np.exp(rng.uniform(np.log(0.05), np.log(800.0), size))
        aht = rng.uniform(60.0, 600.0, size)
        pat = np.exp(rng.uniform(np.log(10.0), np.log(1500.0), size))
        t = rng.uniform(0.0, 60.0, size)
        share = rng.uniform(0.3, 0.95, size)
        max_asa = rng.uniform(5.0, 60.0, size)
        max_ab = rng.uniform(0.02, 0.3, size)
        max_occ = rng.uniform(0.7, 1.0, size)
        r = required_agents(load, aht, share, t, max_asa_s=max_asa, max_occupancy=max_occ,
                            patience_s=pat, max_abandon=max_ab)
        n = r.agents_integer
        lam = load / aht

        def met(m):
            return ((m.service_level >= share) & (m.p_abandon <= max_ab)
                    & (m.occupancy <= max_occ) & (m.asa_s <= max_asa))

        at, below = erlang_a(n, lam, aht, pat, t), erlang_a(n - 1, lam, aht, pat, t)
        assert np.all(met(at)) and not np.any(met(below))
        assert r.service_level == pytest.approx(at.service_level, rel=1e-12)
        assert r.abandonment == pytest.approx(at.p_abandon, rel=1e-12)
        assert r.occupancy == pytest.approx(at.occupancy, rel=1e-12)
        assert r.asa_s == pytest.approx(at.asa_s, rel=1e-12)

    def test_erlang_c_answer_is_minimal_with_asa_and_occupancy_caps(self):
        rng = np.random.default_rng(4)
        load = np.exp(rng.uniform(np.log(0.05), np.log(2000.0), 300))
        aht = rng.uniform(60.0, 600.0, 300)
        max_asa = rng.uniform(2.0, 60.0, 300)
        max_occ = rng.uniform(0.7, 1.0, 300)
        r = required_agents(load, aht, 0.8, 20, max_asa_s=max_asa, max_occupancy=max_occ)
        n = r.agents_integer

        def met(k):
            return ((service_level(k, load, aht, 20) >= 0.8) & (asa(k, load, aht) <= max_asa)
                    & (occupancy(k, load) <= max_occ) & (k > load))

        assert np.all(met(n)) and not np.any(met(n - 1))
        assert r.service_level == pytest.approx(service_level(n, load, aht, 20), rel=1e-12)

    def test_erlang_a_search_settles_most_intervals_with_two_points(self):
        from forecast.queueing.erlang_a import _erlang_a_search

        rng = np.random.default_rng(0)
        size = 5000
        load = rng.integers(0, 601, size) * rng.uniform(180, 400, size) / 900
        aht = rng.uniform(180, 400, size)
        out = np.zeros((10, size))
        ones = np.ones(size)
        _erlang_a_search(load, aht, np.full(size, 120.0), np.full(size, 20.0),
                         np.full(size, 0.8), ones, ones, np.full(size, np.inf), False,
                         np.argsort(load), out)
        points = out[9, load > 0]
        assert points.mean() < 2.5 and points.max() <= 6

    def test_an_infinite_asa_cap_is_no_cap(self):
        loads = np.array([10.0, 20.0])
        capped = required_agents(loads, 300, 0.8, 20, patience_s=120,
                                 max_asa_s=np.array([np.inf, 10.0]))
        free = required_agents(loads, 300, 0.8, 20, patience_s=120)
        assert capped.agents_integer[0] == free.agents_integer[0]
        assert capped.agents_integer[1] >= free.agents_integer[1]

    def test_no_targets_need_one_agent(self):
        r = required_agents([5.0, 50.0, 5000.0], 300, None, 20, patience_s=120)
        assert list(r.agents_integer) == [1, 1, 1]
        assert list(r.binding) == ["none", "none", "none"]
