"""Peaks: forecast intervals and days above the slot's normal range, with their driver."""

from __future__ import annotations

import pandas as pd
from test_forecasters_contract import history, next_week

from forecast.forecasters import make_model
from forecast.peaks import PEAK_COLUMNS, find_peaks


def _forecast_with_spike(h, factor=2.0, where=slice(30, 34)):
    horizon = next_week(h)
    fc = make_model("slot_mean").fit(h).predict(horizon)
    fc.loc[fc.index[where], "mean"] *= factor
    return fc


def test_an_ordinary_week_has_no_peaks():
    h = history(weeks=10, seed=2)
    fc = make_model("slot_mean", weeks=8).fit(h).predict(next_week(h))
    peaks = find_peaks(h, fc)
    assert list(peaks.columns) == list(PEAK_COLUMNS)
    assert len(peaks) == 0


def test_spike_is_flagged_with_the_active_event_as_driver():
    h = history(weeks=10, seed=2)
    fc = _forecast_with_spike(h)
    start = fc["ds"].iloc[30]
    events = pd.DataFrame({"name": ["Price rise letters"], "type": ["campaign"],
                           "start": [start], "end": [start + pd.Timedelta(hours=1)],
                           "weight": [1.0]})
    peaks = find_peaks(h, fc, events)
    intervals = peaks[peaks["level"] == "interval"]
    assert set(intervals["ds"]) == set(fc["ds"].iloc[30:34])
    assert (intervals["excess"] > 0).all()
    by_ds = intervals.set_index("ds")
    assert by_ds.loc[start, "driver"] == "campaign"
    assert by_ds.loc[start, "event"] == "Price rise letters"
    later = fc["ds"].iloc[33]
    assert by_ds.loc[later, "driver"] == "season/trend"


def test_a_busy_day_is_flagged_at_day_level():
    h = history(weeks=10, seed=2)
    fc = _forecast_with_spike(h, factor=1.5, where=slice(0, 20))  # the whole Monday
    days = find_peaks(h, fc).query("level == 'day'")
    assert list(days["ds"]) == [fc["ds"].iloc[0].normalize()]
    assert days["excess"].iloc[0] > 0.2


def test_upper_quantile_flags_more_than_the_mean():
    h = history(weeks=10, seed=2)
    fc = make_model("slot_mean").fit(h).predict(next_week(h), quantiles=(0.5, 0.99))
    assert len(find_peaks(h, fc, column="p99")) > len(find_peaks(h, fc, column="mean"))
