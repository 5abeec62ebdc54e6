"""Properties the queueing maths must have for any input (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast.queueing import (
    asa,
    erlang_a,
    erlang_b,
    erlang_c,
    required_agents,
    service_level,
)

loads = st.floats(min_value=0.0, max_value=3000.0, allow_nan=False)
small_loads = st.floats(min_value=0.01, max_value=400.0, allow_nan=False)
agents = st.integers(min_value=0, max_value=4000)
aht = st.floats(min_value=10.0, max_value=1200.0)
target = st.floats(min_value=0.0, max_value=300.0)
patience = st.floats(min_value=5.0, max_value=3000.0)
share = st.floats(min_value=0.05, max_value=0.98)

FAST = settings(max_examples=60, deadline=None)


@FAST
@given(agents, loads, aht, target)
def test_probabilities_stay_in_unit_interval(n, a, h, t):
    for value in (erlang_b(n, a), erlang_c(n, a), service_level(n, a, h, t)):
        assert 0.0 <= float(value) <= 1.0
    assert float(asa(n, a, h)) >= 0.0


@FAST
@given(st.integers(min_value=0, max_value=600), small_loads, aht, target, patience)
def test_erlang_a_probabilities_stay_in_unit_interval(n, a, h, t, p):
    m = erlang_a(n, a / h, h, p, t)
    for name in ("p_wait", "p_abandon", "service_level", "service_level_answered",
                 "service_level_short_abandons_excluded", "occupancy",
                 "p_abandon_within_target"):
        value = float(getattr(m, name))
        assert 0.0 <= value <= 1.0, name
    assert float(m.asa_s) >= 0.0


@FAST
@given(small_loads, aht, target)
def test_more_agents_never_lower_service_nor_raise_wait_erlang_c(a, h, t):
    n = np.arange(int(a) + 60)
    sl = service_level(n, a, h, t)
    wait = asa(n, a, h)
    assert np.all(np.diff(sl) >= -1e-12)
    assert np.all(wait[1:] <= wait[:-1] * (1 + 1e-9) + 1e-12)  # inf <= inf holds


@FAST
@given(small_loads, aht, target, patience)
def test_more_agents_never_lower_service_nor_raise_abandonment_erlang_a(a, h, t, p):
    n = np.arange(max(int(a) + 40, 2))
    m = erlang_a(n, a / h, h, p, t)
    assert np.all(np.diff(m.service_level) >= -1e-12)
    assert np.all(np.diff(m.p_abandon) <= 1e-12)
    assert np.all(m.asa_s[1:] <= m.asa_s[:-1] * (1 + 1e-9) + 1e-12)
    assert np.all(np.diff(m.occupancy[1:]) <= 1e-12)


@FAST
@given(st.lists(loads, min_size=2, max_size=30), aht, target, share)
def test_required_agents_monotone_in_load(values, h, t, s):
    a = np.sort(np.array(values))
    r = required_agents(a, h, s, t)
    assert np.all(np.diff(r.agents_integer) >= 0)
    assert np.all(np.diff(r.agents_fractional) >= -1e-9)


@FAST
@given(st.lists(small_loads, min_size=2, max_size=12), aht, target, share, patience)
def test_required_agents_erlang_a_monotone_in_load(values, h, t, s, p):
    a = np.sort(np.array(values))
    r = required_agents(a, h, s, t, patience_s=p)
    assert np.all(np.diff(r.agents_integer) >= 0)


@FAST
@given(small_loads, aht, target, share)
def test_fractional_answer_between_neighbours_and_continuous(a, h, t, s):
    eps = 1e-7 * max(a, 1.0)
    r = required_agents(np.array([a, a + eps]), h, s, t, fractional=True,
                        max_occupancy=0.9)
    n = r.agents_integer
    assert np.all(r.agents > n - 1) and np.all(r.agents <= n)
    assert abs(r.agents[1] - r.agents[0]) < 1e-3


@FAST
@given(small_loads, aht, target, share, patience)
def test_fractional_answer_erlang_a_between_neighbours_and_continuous(a, h, t, s, p):
    eps = 1e-7 * max(a, 1.0)
    r = required_agents(np.array([a, a + eps]), h, s, t, patience_s=p, fractional=True)
    n = r.agents_integer
    assert np.all(r.agents > n - 1) and np.all(r.agents <= n)
    assert abs(r.agents[1] - r.agents[0]) < 1e-3


@FAST
@given(small_loads, aht, target, share)
def test_required_answer_is_the_minimum(a, h, t, s):
    n = int(required_agents(a, h, s, t).agents)
    assert service_level(n, a, h, t) >= s
    assert n == 0 or service_level(n - 1, a, h, t) < s
