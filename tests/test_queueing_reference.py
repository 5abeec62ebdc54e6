"""The fast queueing code against 60-digit reference values (fixtures/erlang_reference.csv).

The reference is computed by fixtures/make_erlang_reference.py from independent
formulas (defining sums, mpmath incomplete gamma and quadrature, exact search).
Probabilities must agree to 1e-9 relative, or 1e-13 absolute where they are tiny.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
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

REL, ABS = 1e-9, 1e-13


@pytest.fixture(scope="module")
def ref(fixtures_dir):
    return pd.read_csv(fixtures_dir / "erlang_reference.csv")


def close(actual, expected, rel=REL, abs_=ABS):
    actual, expected = np.asarray(actual, float), np.asarray(expected, float)
    ok = np.isclose(actual, expected, rtol=rel, atol=abs_)
    if not ok.all():
        i = np.flatnonzero(~ok)
        raise AssertionError(
            f"{len(i)} mismatches, e.g. got {actual[i[:3]]} want {expected[i[:3]]}")


def test_reference_covers_the_stated_range(ref):
    assert ref["load"].min() <= 0.01 and ref["load"].max() >= 10000
    assert ref["agents"].max() >= 20000
    assert set(ref["kind"]) == {"erlang_b", "erlang_c", "erlang_a", "required_c", "required_a"}


def test_erlang_b(ref):
    r = ref[ref.kind == "erlang_b"]
    close(erlang_b(r.agents, r.load), r.erlang_b)


def test_erlang_c_metrics(ref):
    r = ref[ref.kind == "erlang_c"]
    close(erlang_c(r.agents, r.load), r.p_wait)
    close(service_level(r.agents, r.load, r.aht_s, r.target_s), r.service_level)
    close(asa(r.agents, r.load, r.aht_s), r.asa_s, abs_=1e-10)
    close(occupancy(r.agents, r.load), r.occupancy)


def test_erlang_a_metrics(ref):
    r = ref[ref.kind == "erlang_a"]
    m = erlang_a(r.agents, r.load / r.aht_s, r.aht_s, r.patience_s, r.target_s)
    close(m.p_wait, r.p_wait)
    close(m.p_abandon, r.p_abandon)
    close(m.service_level, r.service_level)
    close(m.service_level_answered, r.service_level_answered)
    close(m.occupancy, r.occupancy)
    close(m.asa_s, r.asa_s, rel=1e-8, abs_=1e-9)


def test_required_agents_erlang_c_exact(ref):
    r = ref[ref.kind == "required_c"]
    got = required_agents(r.load.to_numpy(), r.aht_s.to_numpy(), r.sl_target.to_numpy(),
                          r.target_s.to_numpy()).agents
    assert got.tolist() == r.agents_required.astype(int).tolist()


def test_required_agents_erlang_a_exact(ref):
    r = ref[ref.kind == "required_a"]
    got = required_agents(r.load.to_numpy(), r.aht_s.to_numpy(), r.sl_target.to_numpy(),
                          r.target_s.to_numpy(), patience_s=r.patience_s.to_numpy()).agents
    assert got.tolist() == r.agents_required.astype(int).tolist()


# Values printed in the standard traffic tables (checkable by hand from the sums).
def test_erlang_b_table_value_10_circuits_one_percent():
    # the Erlang B table gives 4.46 Erlangs for 10 circuits at 1% blocking
    assert erlang_b(10, 4.46) == pytest.approx(0.0100, abs=2e-4)


def test_erlang_c_table_value_10_erlangs_14_agents():
    # 100 calls per 30 minutes at 180 s AHT (10 Erlangs) on 14 agents: the usual
    # Erlang C table gives P(wait) 0.174 and ASA 7.8 s
    assert erlang_c(14, 10.0) == pytest.approx(0.1741, abs=1e-4)
    assert asa(14, 10.0, 180) == pytest.approx(7.8, abs=0.05)
