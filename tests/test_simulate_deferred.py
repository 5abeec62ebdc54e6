"""Deferred (email, social) replay: one backlog worked in open hours, target in open seconds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.config import QueueConfig, parse_hours
from forecast.exceptions import ForecastError
from forecast.simulate.deferred import replay_deferred

INTERVAL_S = 1800


def day_grid(days: int = 2) -> pd.DatetimeIndex:
    """Every half-hour of ``days`` days (email arrives around the clock)."""
    return pd.date_range("2024-03-04", periods=48 * days, freq="30min")


EMAIL = QueueConfig(name="mail", channel="email", service_level=0.9, answer_s=3600,
                    aht_s=300, max_occupancy=1.0, hours=parse_hours("08:00-18:00"))


def replay(arrivals, agents, queue=EMAIL, ds=None, **kwargs):
    ds = day_grid() if ds is None else ds
    kwargs.setdefault("replications", 5)
    return replay_deferred(ds, np.asarray(arrivals, float), np.full(len(ds), 300.0),
                           np.asarray(agents), queue, interval_s=INTERVAL_S, **kwargs)


def open_mask(ds):
    return EMAIL.hours.is_open(ds)


def test_ample_agents_answer_every_contact_within_target():
    ds = day_grid()
    arrivals = np.where(open_mask(ds), 10, 0)
    res = replay(arrivals, np.where(open_mask(ds), 10, 0))
    iv = res.intervals
    busy = iv["offered"] > 0
    assert (iv.loc[busy, "service_level"] == 1.0).all()
    assert iv["offered"].sum() == pytest.approx(arrivals.sum())
    assert (iv.loc[busy, "asa_s"] < 60).all()
    assert res.replications["service_level"].eq(1.0).all()


def test_night_arrivals_wait_for_the_opening_and_are_judged_in_open_seconds():
    ds = day_grid()
    arrivals = np.zeros(len(ds))
    arrivals[4] = 6  # 02:00 on the first day, office opens at 08:00
    agents = np.where(open_mask(ds), 3, 0)
    res = replay(arrivals, agents)
    row = res.intervals.iloc[4]
    # six hours of wall-clock wait, but answered within minutes of the opening
    assert row["offered"] == 6 and row["service_level"] == 1.0
    assert row["asa_s"] < 900


def test_too_few_agents_miss_the_target_and_more_agents_do_better():
    ds = day_grid()
    arrivals = np.where(open_mask(ds), 12, 0)  # 2 Erlangs of work while open
    thin = replay(arrivals, np.where(open_mask(ds), 2, 0)).replications["service_level"].mean()
    ample = replay(arrivals, np.where(open_mask(ds), 4, 0)).replications["service_level"].mean()
    assert thin < 0.9 <= ample
    assert thin < ample


def test_backlog_carries_over_the_night():
    """Contacts left at closing are answered next morning, not dropped."""
    ds = day_grid()
    arrivals = np.where(open_mask(ds), 12, 0)
    res = replay(arrivals, np.where(open_mask(ds), 1, 0), replications=2)
    first_day_evening = res.intervals[ds.date == ds[0].date()]
    assert first_day_evening["answered"].sum() > 0
    # the last day's late contacts cannot be judged (deadline after the horizon) -> left out
    assert res.intervals["offered"].sum() < arrivals.sum()


def test_occupancy_stays_in_unit_range_and_closed_intervals_have_none():
    ds = day_grid()
    res = replay(np.where(open_mask(ds), 8, 0), np.where(open_mask(ds), 2, 0))
    occ = res.intervals["occupancy"]
    assert ((occ[open_mask(ds)] >= 0) & (occ[open_mask(ds)] <= 1 + 1e-9)).all()
    assert occ[~open_mask(ds)].isna().all()


def test_max_occupancy_stretches_the_work_as_the_plan_assumes():
    ds = day_grid()
    arrivals = np.where(open_mask(ds), 12, 0)
    agents = np.where(open_mask(ds), 3, 0)
    full = replay(arrivals, agents, seed=2).replications["service_level"].mean()
    capped = replay(arrivals, agents, seed=2,
                    queue=QueueConfig(**{**EMAIL.__dict__, "max_occupancy": 0.6})
                    ).replications["service_level"].mean()
    assert capped < full


def test_same_seed_same_replay():
    ds = day_grid()
    arrivals = np.where(open_mask(ds), 9, 1)
    agents = np.where(open_mask(ds), 2, 0)
    a = replay(arrivals, agents, seed=7)
    b = replay(arrivals, agents, seed=7)
    pd.testing.assert_frame_equal(a.intervals, b.intervals)
    c = replay(arrivals, agents, seed=8)
    assert not a.intervals["asa_s"].equals(c.intervals["asa_s"])


def test_bad_inputs_are_refused_in_one_line():
    ds = day_grid()
    with pytest.raises(ForecastError, match="one entry per interval"):
        replay(np.ones(3), np.ones(len(ds)))
    with pytest.raises(ForecastError, match="replications"):
        replay(np.ones(len(ds)), np.ones(len(ds)), replications=0)
    closed = QueueConfig(**{**EMAIL.__dict__, "hours": parse_hours("08:00-09:00")})
    with pytest.raises(ForecastError, match="no open interval"):
        replay(np.ones(4), np.ones(4), queue=closed, ds=day_grid()[:4])
