"""Specification of the channel rules in forecast.staffing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.config import QueueConfig, parse_hours
from forecast.exceptions import DataValidationError
from forecast.queueing import required_agents, service_level
from forecast.staffing import STAFFING_COLUMNS, scheduled_heads, staff_queue


def day(volumes, start="2026-03-02 08:00", freq="30min", **extra):
    ds = pd.date_range(start, periods=len(volumes), freq=freq)
    return pd.DataFrame({"ds": ds, "volume": np.asarray(volumes, dtype=float), **extra})


class TestVoice:
    def test_output_has_every_contract_column_and_keeps_input(self):
        f = day([0, 50, 120])
        before = f.copy()
        out = staff_queue(f, QueueConfig("v"), interval_s=1800)
        assert list(out.columns) == ["ds", "volume", *STAFFING_COLUMNS]
        pd.testing.assert_frame_equal(f, before)
        assert out["agents_required"].dtype == np.int64

    def test_voice_is_erlang_c_on_offered_load(self):
        q = QueueConfig("v", aht_s=240, service_level=0.8, answer_s=20, max_occupancy=1.0)
        out = staff_queue(day([120.0]), q, interval_s=1800)
        load = 120 * 240 / 1800
        assert out["workload_erlangs"].iloc[0] == pytest.approx(load)
        assert out["agents_required"].iloc[0] == required_agents(load, 240, 0.8, 20).agents
        n = out["agents_required"].iloc[0]
        assert out["service_level"].iloc[0] == pytest.approx(service_level(n, load, 240, 20))

    def test_aht_column_overrides_default_and_nan_falls_back(self):
        q = QueueConfig("v", aht_s=300, max_occupancy=1.0)
        out = staff_queue(day([100, 100], aht_s=[150.0, np.nan]), q, interval_s=1800)
        assert out["workload_erlangs"].tolist() == pytest.approx([100 * 150 / 1800,
                                                                  100 * 300 / 1800])

    def test_patience_switches_to_erlang_a_and_needs_fewer_agents(self):
        f = day([600.0])
        c = staff_queue(f, QueueConfig("v", max_occupancy=1.0), interval_s=1800)
        a = staff_queue(f, QueueConfig("v", patience_s=120, max_occupancy=1.0), interval_s=1800)
        assert a["agents_required"].iloc[0] < c["agents_required"].iloc[0]
        assert 0 < a["abandonment"].iloc[0] < 0.1
        assert np.isnan(c["abandonment"].iloc[0])

    def test_shrinkage_availability_and_cost(self):
        q = QueueConfig("v", shrinkage=0.3, availability=0.9, cost_per_hour=20.0)
        out = staff_queue(day([0, 100, 300]), q, interval_s=1800)
        req = out["agents_required"].to_numpy()
        expected = np.ceil(req / (0.7 * 0.9) - 1e-9)
        assert out["agents_scheduled"].tolist() == expected.tolist()
        assert out["cost"].tolist() == pytest.approx((expected * 0.5 * 20.0).tolist())

    def test_exact_quotients_do_not_round_up(self):
        assert scheduled_heads(np.array([7, 14]), 0.3).tolist() == [10, 20]

    def test_bad_volume_names_the_column(self):
        with pytest.raises(DataValidationError, match="volume"):
            staff_queue(day([10, -1]), QueueConfig("v"), interval_s=1800)
        with pytest.raises(DataValidationError, match="aht_s"):
            staff_queue(day([10], aht_s=[0.0]), QueueConfig("v"), interval_s=1800)


class TestChat:
    def test_concurrency_divides_slots_and_stretches_handle_time(self):
        q = QueueConfig("c", channel="chat", concurrency=3, concurrency_aht_factor=0.2,
                        aht_s=600, max_occupancy=1.0)
        out = staff_queue(day([200.0]), q, interval_s=1800)
        session_aht = 600 * (1 + 0.2 * 2)
        slots = required_agents(200 * session_aht / 1800, session_aht, 0.8, 20).agents
        assert out["agents_required"].iloc[0] == -(-slots // 3)
        assert out["agents_raw"].iloc[0] <= out["agents_required"].iloc[0]
        assert out["service_level"].iloc[0] >= 0.8

    def test_concurrency_one_equals_voice(self):
        f = day([10, 80, 200])
        chat = staff_queue(f, QueueConfig("c", channel="chat"), interval_s=1800)
        voice = staff_queue(f, QueueConfig("v"), interval_s=1800)
        assert chat["agents_required"].tolist() == voice["agents_required"].tolist()


class TestDeferred:
    def email_queue(self, **kw):
        base = dict(channel="email", aht_s=600, answer_s=4 * 3600, max_occupancy=1.0,
                    service_level=0.9, hours=parse_hours("08:00-20:00"))
        base.update(kw)
        return QueueConfig("e", **base)

    def two_days(self, day_volume=20.0, night_volume=5.0):
        f = day(np.zeros(96), start="2026-03-02 00:00")
        hour = f["ds"].dt.hour
        f["volume"] = np.where((hour >= 8) & (hour < 20), day_volume, night_volume)
        return f

    def test_closed_hours_get_no_agents_and_build_backlog(self):
        out = staff_queue(self.two_days(), self.email_queue(), interval_s=1800)
        closed = (out["ds"].dt.hour < 8) | (out["ds"].dt.hour >= 20)
        assert (out.loc[closed, "agents_required"] == 0).all()
        assert (out.loc[closed, "binding"] == "closed").all()
        night = out[(out["ds"] >= "2026-03-02 20:00") & (out["ds"] < "2026-03-03 08:00")]
        assert np.all(np.diff(night["backlog"].to_numpy()) > 0)

    def test_every_contact_answered_within_target_where_judgeable(self):
        out = staff_queue(self.two_days(), self.email_queue(), interval_s=1800)
        judged = out["service_level"].dropna()
        assert len(judged) > 40
        assert judged.min() >= 0.9

    def test_steady_flow_always_open_needs_the_workload(self):
        f = day(np.full(48, 30.0), start="2026-03-02 00:00")
        q = self.email_queue(hours=None, answer_s=3600)
        out = staff_queue(f, q, interval_s=1800)
        # 30 contacts x 600 s per 1800 s = 10 Erlangs once the window is full
        assert (out["agents_required"].iloc[4:-4] == 10).all()
        assert (out["service_level"].iloc[:-4] == 1.0).all()

    def test_work_is_spread_not_left_to_the_deadline(self):
        f = day(np.r_[60.0, np.zeros(15)], start="2026-03-02 08:00")
        q = self.email_queue(answer_s=4 * 3600)
        out = staff_queue(f, q, interval_s=1800)
        busy = out["agents_required"].to_numpy()
        # arrivals spread over the first half hour, each with a 4-hour window: the work
        # lands in intervals 0..8 and nothing is left for later
        assert (busy[:9] > 0).all()
        assert busy[9:].sum() == 0
        assert busy.max() <= 2 * busy[1:8].min()


class TestInitialBacklog:
    """Contacts already waiting when the table starts (``initial_backlog``)."""

    def email_queue(self, **kw):
        return TestDeferred().email_queue(**kw)

    def two_days(self):
        return TestDeferred().two_days()

    def test_zero_keeps_todays_results_exactly(self):
        f = self.two_days()
        for queue in (self.email_queue(), QueueConfig("v"), QueueConfig("c", channel="chat")):
            pd.testing.assert_frame_equal(
                staff_queue(f, queue, interval_s=1800, initial_backlog=0.0),
                staff_queue(f, queue, interval_s=1800))

    def test_a_backlog_is_staffed_like_contacts_that_came_while_closed(self):
        # the table opens at 00:00, closed until 08:00: 100 contacts waiting at 00:00 are
        # the same work as 100 more arrivals in the 00:00 interval
        f = self.two_days()
        carried = staff_queue(f, self.email_queue(), interval_s=1800, initial_backlog=100)
        arrived = staff_queue(f.assign(volume=f["volume"] + np.r_[100.0, np.zeros(95)]),
                              self.email_queue(), interval_s=1800)
        assert carried["agents_required"].tolist() == arrived["agents_required"].tolist()
        np.testing.assert_allclose(carried["backlog"], arrived["backlog"], atol=1e-9)
        plain = staff_queue(f, self.email_queue(), interval_s=1800)
        assert carried["agents_required"].sum() > plain["agents_required"].sum()
        assert carried["backlog"].iloc[0] == pytest.approx(plain["backlog"].iloc[0] + 100)

    def test_a_backlog_is_answered_first_fifo(self):
        # always open: the 40 contacts waiting at 08:00 go before the first interval's 10
        f = day(np.full(16, 10.0), start="2026-03-02 08:00")
        q = self.email_queue(hours=None, answer_s=2 * 3600)
        plain = staff_queue(f, q, interval_s=1800)
        carried = staff_queue(f, q, interval_s=1800, initial_backlog=40)
        # the first interval answers fewer than the 40 carried in, so none of its own
        # arrivals is answered in it: they wait behind the backlog (FIFO), far longer
        # than without one
        answered = 40 + 10 - carried["backlog"].iloc[0]
        assert 0 < answered < 40
        assert carried["asa_s"].iloc[0] > plain["asa_s"].iloc[0] + 1800
        # and the extra agents still answer everyone within the target
        assert carried["service_level"].dropna().min() >= q.service_level
        assert carried["agents_required"].sum() > plain["agents_required"].sum()

    def test_a_negative_backlog_or_one_for_voice_is_refused(self):
        with pytest.raises(ValueError, match="initial_backlog must be a number of contacts"):
            staff_queue(self.two_days(), self.email_queue(), interval_s=1800,
                        initial_backlog=-1)
        with pytest.raises(ValueError, match="only email and social queues carry a backlog"):
            staff_queue(day([10.0]), QueueConfig("v"), interval_s=1800, initial_backlog=5)
