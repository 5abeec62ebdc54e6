"""Peaks: forecast intervals and days above the slot's normal range, with their driver."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
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


# ------------------------------------------------------------------ material peaks only


def _flat_history(weeks: int = 8, start: str = "2026-01-05") -> pd.DataFrame:
    """Every day: 01:00 never a contact, 10:00 always 20, 11:00 always 1."""
    days = pd.date_range(start, periods=7 * weeks, freq="D")
    slots = {"01:00": 0.0, "10:00": 20.0, "11:00": 1.0}
    return pd.DataFrame([{"ds": day + pd.Timedelta(t + ":00"), "y": y, "filled": False}
                         for day in days for t, y in slots.items()])


def _forecast(h: pd.DataFrame, values: dict[tuple[int, str], float]) -> pd.DataFrame:
    """Next week at the history's values, with ``values[(day, 'HH:MM')]`` replaced."""
    first = h["ds"].max().normalize() + pd.Timedelta(days=1)
    fc = h.tail(21).assign(ds=lambda t: t["ds"] + (first - t["ds"].min().normalize()))
    fc = fc.rename(columns={"y": "mean"})[["ds", "mean"]].reset_index(drop=True)
    for (day, time), value in values.items():
        at = first + pd.Timedelta(days=day) + pd.Timedelta(time + ":00")
        fc.loc[fc["ds"] == at, "mean"] = value
    return fc


def test_a_peak_needs_a_material_excess_relative_and_in_contacts():
    h = _flat_history()
    fc = _forecast(h, {(0, "01:00"): 0.08,     # a fraction of a contact over a normal of 0
                       (0, "10:00"): 20.006,   # 0.03% over normal
                       (1, "10:00"): 23.0,     # +3 contacts, +15%: a peak
                       (2, "11:00"): 5.0,      # +4 contacts over a normal of 1: a peak
                       (3, "11:00"): 3.0})     # +2 contacts only
    intervals = find_peaks(h, fc).query("level == 'interval'").set_index("ds")
    first = fc["ds"].min().normalize()
    assert list(intervals.index) == [first + pd.Timedelta("1 days 10:00:00"),
                                     first + pd.Timedelta("2 days 11:00:00")]
    assert intervals["excess"].iloc[0] == pytest.approx(0.15)
    # no ratio against a normal below min_contacts (was 4.0 here, 8e7 against 0)
    assert np.isnan(intervals["excess"].iloc[1])
    assert np.isfinite(find_peaks(h, fc)["excess"].dropna()).all()


def test_the_thresholds_are_parameters():
    h = _flat_history()
    fc = _forecast(h, {(1, "10:00"): 23.0, (3, "11:00"): 3.0})
    loose = find_peaks(h, fc, min_excess=0.0, min_contacts=2.0).query("level == 'interval'")
    assert len(loose) == 2
    strict = find_peaks(h, fc, min_excess=0.2).query("level == 'interval'")
    assert len(strict) == 0
    with pytest.raises(ValueError, match="min_excess and min_contacts"):
        find_peaks(h, fc, min_contacts=-1)


def test_the_day_after_two_holidays_names_the_nearest():
    h = _flat_history(start="2026-10-26")  # 8 weeks to Sunday 20 December
    fc = _forecast(h, {(6, "10:00"): 40.0})  # Sunday 27 December
    fc = fc[~fc["ds"].dt.day.isin([25, 26])]  # closed on both holidays
    events = pd.DataFrame({"name": ["Christmas Day", "Boxing Day"],
                           "type": ["holiday", "holiday"],
                           "start": pd.to_datetime(["2026-12-25", "2026-12-26"]),
                           "end": pd.to_datetime(["2026-12-26", "2026-12-27"]),
                           "weight": [1.0, 1.0]})
    peaks = find_peaks(h, fc, events)
    after = peaks[peaks["ds"].dt.normalize() == pd.Timestamp("2026-12-27")]
    assert len(after) == 2  # the interval and the day
    assert set(after["driver"]) == {"day after holiday"}
    assert set(after["event"]) == {"Boxing Day"}
