"""Input edges of the queueing formulas: infinite inputs, infinite patience, load for Erlang A."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from forecast.queueing import asa, erlang_a, erlang_b, erlang_c, occupancy, service_level

AGENTS = np.array([0.0, 5.0, 10.0, 12.0, 12.5, 30.0])  # unstable, at load, stable, fractional
LOAD = 10.0
AHT_S = 180.0


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: erlang_c(12, np.inf), "load"),
        (lambda: erlang_b(12, np.inf), "load"),
        (lambda: erlang_c(np.inf, 10.0), "agents"),
        (lambda: service_level(12, np.inf, AHT_S, 20), "load"),
        (lambda: service_level(12, 10.0, AHT_S, np.inf), "target_s"),
        (lambda: asa(12, [10.0, np.inf], AHT_S), "load"),
        (lambda: occupancy(12, np.inf), "load"),
        (lambda: erlang_a(12, np.inf, AHT_S, 120, 20), "arrival_rate_per_s"),
    ],
)
def test_infinite_inputs_are_rejected_like_nan_without_numpy_warnings(call, field):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=f"^{field} contains inf; expected finite numbers"):
            call()


@pytest.mark.parametrize("aht_s", [np.nan, np.inf, 0.0, -5.0])
@pytest.mark.parametrize(
    "call",
    [
        lambda h: service_level(12, 10.0, h, 20),
        lambda h: asa(12, 10.0, h),
        lambda h: erlang_a(12, load=10.0, aht_s=h, patience_s=120, target_s=20),
    ],
)
def test_a_bad_handle_time_is_named_as_needing_a_finite_number_above_zero(call, aht_s):
    with pytest.raises(ValueError, match=r"^aht_s must be a finite number > 0; got "):
        call(aht_s)


class TestErlangAWithInfinitePatience:
    def test_is_erlang_c_at_whole_and_fractional_agents(self):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            m = erlang_a(AGENTS, LOAD / AHT_S, AHT_S, np.inf, 20)
        sl = service_level(AGENTS, LOAD, AHT_S, 20)
        np.testing.assert_allclose(m.p_wait, erlang_c(AGENTS, LOAD), rtol=1e-12)
        np.testing.assert_allclose(m.service_level, sl, rtol=1e-12)
        np.testing.assert_allclose(m.service_level_answered, sl, rtol=1e-12)
        np.testing.assert_allclose(m.service_level_short_abandons_excluded, sl, rtol=1e-12)
        np.testing.assert_allclose(m.asa_s, asa(AGENTS, LOAD, AHT_S), rtol=1e-12)
        np.testing.assert_allclose(m.mean_wait_s, asa(AGENTS, LOAD, AHT_S), rtol=1e-12)
        np.testing.assert_allclose(m.occupancy, occupancy(AGENTS, LOAD), rtol=1e-12)
        assert np.all(m.p_abandon == 0.0) and np.all(m.p_abandon_within_target == 0.0)

    def test_is_the_limit_of_long_patience(self):
        stable = AGENTS[AGENTS > LOAD]
        endless = erlang_a(stable, LOAD / AHT_S, AHT_S, np.inf, 20)
        patient = erlang_a(stable, LOAD / AHT_S, AHT_S, 1e9, 20)
        np.testing.assert_allclose(endless.service_level, patient.service_level, rtol=1e-5)
        np.testing.assert_allclose(endless.asa_s, patient.asa_s, rtol=1e-5)

    def test_mixes_with_finite_patience_element_by_element(self):
        patience = np.array([np.inf, 120.0, np.inf, 120.0, np.inf, 120.0])
        mixed = erlang_a(AGENTS, LOAD / AHT_S, AHT_S, patience, 20)
        finite = erlang_a(AGENTS, LOAD / AHT_S, AHT_S, 120.0, 20)
        endless = erlang_a(AGENTS, LOAD / AHT_S, AHT_S, np.inf, 20)
        for name in ("service_level", "p_abandon", "asa_s", "mean_wait_s", "occupancy"):
            expected = np.where(np.isinf(patience), getattr(endless, name), getattr(finite, name))
            np.testing.assert_array_equal(getattr(mixed, name), expected, err_msg=name)

    def test_zero_load_still_answers_everyone_at_once(self):
        m = erlang_a([0, 3], 0.0, AHT_S, np.inf, 20)
        assert list(m.service_level) == [1.0, 1.0] and list(m.asa_s) == [0.0, 0.0]

    @pytest.mark.parametrize("patience_s", [np.nan, 0.0, -np.inf])
    def test_other_patience_that_is_not_above_zero_is_rejected(self, patience_s):
        with pytest.raises(ValueError, match=r"^patience_s must be a number > 0 \(inf: no "):
            erlang_a(12, LOAD / AHT_S, AHT_S, patience_s, 20)


class TestErlangALoadKeyword:
    def test_load_gives_the_same_metrics_as_the_arrival_rate(self):
        by_rate = erlang_a(AGENTS, LOAD / AHT_S, AHT_S, 120, 20)
        by_load = erlang_a(AGENTS, load=LOAD, aht_s=AHT_S, patience_s=120, target_s=20)
        for name in by_rate.__dataclass_fields__:
            np.testing.assert_allclose(getattr(by_load, name), getattr(by_rate, name),
                                       rtol=1e-12, err_msg=name)

    def test_positional_callers_are_unchanged(self):
        assert float(erlang_a(12, LOAD / AHT_S, AHT_S, 120, 20).service_level) == pytest.approx(
            0.825582644, abs=1e-8)

    def test_both_or_neither_is_an_error(self):
        with pytest.raises(TypeError, match="exactly one of arrival_rate_per_s and load; got both"):
            erlang_a(12, LOAD / AHT_S, AHT_S, 120, 20, load=LOAD)
        with pytest.raises(TypeError, match="exactly one of arrival_rate_per_s and load; got "
                                            "neither"):
            erlang_a(12, aht_s=AHT_S, patience_s=120, target_s=20)

    def test_a_missing_required_argument_is_named(self):
        with pytest.raises(TypeError, match="missing required argument.*patience_s, target_s"):
            erlang_a(12, load=LOAD, aht_s=AHT_S)

    def test_a_bad_load_is_named_load(self):
        with pytest.raises(ValueError, match="^load must be >= 0; got -1.0"):
            erlang_a(12, load=-1.0, aht_s=AHT_S, patience_s=120, target_s=20)
