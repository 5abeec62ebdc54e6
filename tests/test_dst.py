"""Daylight saving in naive local time.

Spring forward: the skipped local hour is neither expected nor filled, in the history or
the plan's future grid. Fall back: the hour that happens twice is one local interval per
clock time; in the history it holds the mean of its two copies (one ordinary hour, not
a spike) and a warning says so; for the plan horizon :func:`fall_back_hours` and
:func:`fall_back_warnings` name the repeated hour so a queue open then is staffed for
both passes. Checked for America/New_York and Europe/London.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from forecast.cli import wfm
from forecast.config import OpeningHours
from forecast.data import (
    RepeatedHour,
    fall_back_hours,
    fall_back_warnings,
    future_grid,
    read_volumes,
    regularise,
)
from forecast.exceptions import ConfigError, DataRepairWarning

NY, LONDON = "America/New_York", "Europe/London"
# zone -> (spring-forward day, fall-back day) in 2025
DAYS = {NY: ("2025-03-09", "2025-11-02"), LONDON: ("2025-03-30", "2025-10-26")}
ZONES = pytest.mark.parametrize("tz", [NY, LONDON])


def day_of_quarters(tz: str, day: str, queue: str = "support") -> pd.DataFrame:
    """Every real 15-minute interval of a local day (92, 96 or 100 of them), volume 4
    each and 8 in the second pass through a repeated hour, as aware timestamps."""
    start = pd.Timestamp(day).tz_localize(tz)
    end = (pd.Timestamp(day) + pd.Timedelta(days=1)).tz_localize(tz)
    stamps = pd.date_range(start, end, freq="15min", inclusive="left")
    offsets = stamps.map(lambda t: t.utcoffset())
    second_pass = np.asarray(offsets < offsets.max()) & np.asarray(
        pd.Index(stamps.tz_localize(None)).duplicated(keep="first"))
    return pd.DataFrame({"queue": queue, "ts": stamps,
                         "volume": np.where(second_pass, 8.0, 4.0), "aht_s": 300.0})


def write_offsets(tmp_path, frame: pd.DataFrame):
    path = tmp_path / "volumes.csv"
    frame.assign(timestamp=[t.isoformat() for t in frame["ts"]])[
        ["queue", "timestamp", "volume", "aht_s"]].to_csv(path, index=False)
    return path


def quiet_regularise(volumes, tz):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataRepairWarning)
        return regularise(volumes, interval_s=900, hours=OpeningHours.always(), timezone=tz)


# --------------------------------------------------------------------------- spring forward


@ZONES
def test_spring_forward_hour_is_neither_expected_nor_filled(tmp_path, tz):
    path = write_offsets(tmp_path, day_of_quarters(tz, DAYS[tz][0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataRepairWarning)  # nothing to repair
        volumes = read_volumes(path, timezone=tz)
    out, report = quiet_regularise(volumes, tz)
    assert len(out) == 92 and report.queues["support"].filled_rows == 0
    assert not out["ds"].dt.strftime("%H").eq("02" if tz == NY else "01").any()


@ZONES
def test_rows_stamped_in_the_skipped_hour_are_dropped_and_named(tz):
    day = DAYS[tz][0]
    naive = pd.date_range(day, periods=96, freq="15min")
    volumes = pd.DataFrame({"queue": "support", "ds": naive, "y": 1.0})
    with pytest.warns(DataRepairWarning, match=f"do not exist in {tz}"):
        out, report = regularise(volumes, interval_s=900, hours=OpeningHours.always(),
                                 timezone=tz)
    assert report.queues["support"].nonexistent_rows == 4 and len(out) == 92


@ZONES
def test_future_grid_skips_the_spring_forward_hour(tz):
    day = pd.Timestamp(DAYS[tz][0])
    g = future_grid(day - pd.Timedelta(minutes=15), days=1, interval_s=900,
                    hours=OpeningHours.always(), timezone=tz)
    assert len(g) == 92 and (g.normalize() == day).all()


def test_a_spring_forward_day_has_no_repeated_hour():
    assert fall_back_hours("2025-03-01", "2025-04-01", NY) == []
    assert fall_back_hours("2025-03-01", "2025-04-01", LONDON) == []


# --------------------------------------------------------------------------- fall back: history


@ZONES
def test_fall_back_hour_from_offsets_is_averaged_and_reported(tmp_path, tz):
    path = write_offsets(tmp_path, day_of_quarters(tz, DAYS[tz][1]))
    with pytest.warns(DataRepairWarning) as said:
        volumes = read_volumes(path, timezone=tz)
    assert [str(w.message) for w in said] == [
        f"{path}: 8 rows in the repeated hour of the clock change ({DAYS[tz][1]} "
        f"01:00-01:59, {tz}) were averaged into one; the hour happened twice (rows by "
        "queue: support 8)"]
    assert len(volumes) == 96  # one row per local clock time
    hour = volumes[volumes["ds"].dt.hour == 1]
    assert hour["y"].tolist() == [6.0] * 4  # the mean of 4 and 8, not their sum 12
    assert hour["aht_s"].tolist() == [300.0] * 4
    out, report = quiet_regularise(volumes, tz)
    assert len(out) == 96 and report.queues["support"].filled_rows == 0


@ZONES
def test_naive_file_repeating_the_hour_is_the_same_case(tmp_path, tz):
    frame = day_of_quarters(tz, DAYS[tz][1])
    path = tmp_path / "naive.csv"
    frame.assign(timestamp=frame["ts"].dt.strftime("%Y-%m-%d %H:%M"))[
        ["queue", "timestamp", "volume"]].to_csv(path, index=False)
    with pytest.warns(DataRepairWarning, match=r"^.*naive.csv: 8 rows in the repeated hour "
                      rf"of the clock change \({DAYS[tz][1]} 01:00-01:59, {tz}\) were "
                      "averaged into one; the hour happened twice"):
        volumes = read_volumes(path, timezone=tz)
    assert volumes.loc[volumes["ds"].dt.hour == 1, "y"].tolist() == [6.0] * 4


@ZONES
@pytest.mark.parametrize("stored", ["aware", "offset text"])
def test_parquet_fall_back_hour_is_averaged_and_reported(tmp_path, tz, stored):
    frame = day_of_quarters(tz, DAYS[tz][1])
    frame["abandoned"] = np.where(frame["volume"] == 8.0, 2.0, 1.0)
    frame["timestamp"] = (frame["ts"] if stored == "aware"
                          else [t.isoformat() for t in frame["ts"]])
    path = tmp_path / "volumes.parquet"
    frame.drop(columns="ts").to_parquet(path)
    with pytest.warns(DataRepairWarning, match="8 rows in the repeated hour"):
        volumes = read_volumes(path, timezone=tz)
    hour = volumes[volumes["ds"].dt.hour == 1]
    assert len(volumes) == 96
    assert hour["y"].tolist() == [6.0] * 4 and hour["abandoned"].tolist() == [1.5] * 4


def test_repeated_hours_of_several_years_and_queues_are_all_named(tmp_path):
    frame = pd.concat([day_of_quarters(NY, "2024-11-03"), day_of_quarters(NY, "2025-11-02"),
                       day_of_quarters(NY, "2025-11-02", queue="billing")])
    path = write_offsets(tmp_path, frame)
    with pytest.warns(DataRepairWarning, match=r"24 rows in the repeated hour of the clock "
                      r"change \(2024-11-03 01:00-01:59, 2025-11-02 01:00-01:59, "
                      r"America/New_York\).*\(rows by queue: billing 8, support 16\)"):
        read_volumes(path, timezone=NY)


def test_without_a_time_zone_a_naive_repeat_is_a_duplicate_error(tmp_path):
    path = tmp_path / "v.csv"
    path.write_text("timestamp,volume\n2025-11-02 01:00,2\n2025-11-02 01:00,5\n")
    from forecast.exceptions import DataValidationError

    with pytest.raises(DataValidationError, match="row 3.*duplicate"):
        read_volumes(path)


# --------------------------------------------------------------------------- fall back: horizon


@ZONES
def test_fall_back_hours_lists_each_repeated_hour_in_a_window(tz):
    hours = fall_back_hours("2025-01-01", "2027-01-01", tz)
    fall_2026 = {NY: "2026-11-01", LONDON: "2026-10-25"}[tz]
    assert [str(h) for h in hours] == [f"{DAYS[tz][1]} 01:00-01:59", f"{fall_2026} 01:00-01:59"]
    first = hours[0]
    assert first == RepeatedHour(pd.Timestamp(f"{DAYS[tz][1]} 01:00"),
                                 pd.Timestamp(f"{DAYS[tz][1]} 02:00"), tz)
    assert first.warning == (f"on {DAYS[tz][1]} the hour 01:00-01:59 happens twice; the plan "
                             "shows it once: staff it for both")


def test_fall_back_hours_keeps_only_hours_overlapping_the_window():
    assert fall_back_hours("2025-11-02 02:00", "2025-11-09", NY) == []  # just after
    assert fall_back_hours("2025-10-26", "2025-11-02 01:00", NY) == []  # just before
    assert len(fall_back_hours("2025-11-02 01:45", "2025-11-02 01:50", NY)) == 1
    assert fall_back_hours("2025-11-02", "2025-11-01", NY) == []
    assert fall_back_hours("2025-06-01", "2025-12-31", "Asia/Tokyo") == []  # no DST


def test_fall_back_hours_refuses_an_unknown_zone_or_aware_bounds():
    with pytest.raises(ConfigError, match="unknown time zone 'Mars/Olympus'"):
        fall_back_hours("2025-01-01", "2025-12-31", "Mars/Olympus")
    with pytest.raises(ValueError, match="naive"):
        fall_back_hours(pd.Timestamp("2025-01-01", tz="UTC"), "2025-12-31", NY)


@ZONES
def test_a_queue_open_in_the_repeated_hour_is_warned(tz):
    after = pd.Timestamp(DAYS[tz][1]) - pd.Timedelta(days=3)
    always = future_grid(after, days=14, interval_s=900, hours=OpeningHours.always(),
                         timezone=tz)
    assert len(always[always.normalize() == pd.Timestamp(DAYS[tz][1])]) == 96  # shown once
    assert fall_back_warnings(always, interval_s=900, timezone=tz) == [
        f"on {DAYS[tz][1]} the hour 01:00-01:59 happens twice; the plan shows it once: "
        "staff it for both"]
    daytime = future_grid(after, days=14, interval_s=900,
                          hours=OpeningHours(((480, 1200),) * 7), timezone=tz)
    assert fall_back_warnings(daytime, interval_s=900, timezone=tz) == []  # closed then
    assert fall_back_warnings(always, interval_s=900, timezone=None) == []


def test_a_coarse_interval_starting_before_a_half_hour_change_is_warned():
    # Lord Howe Island goes back half an hour: 01:30-01:59 happens twice
    grid = future_grid("2025-04-05 00:00", days=1, interval_s=3600,
                       hours=OpeningHours.always(), timezone="Australia/Lord_Howe")
    assert fall_back_warnings(grid, interval_s=3600, timezone="Australia/Lord_Howe") == [
        "on 2025-04-06 the hour 01:30-01:59 happens twice; the plan shows it once: staff it "
        "for both"]


# --------------------------------------------------------------------------- the CLI


CONFIG = """[centre]
name = "NY"
timezone = "America/New_York"
interval_min = 15
hours_per_fte = 40

[data]
volumes = "volumes.csv"

[forecast]
horizon_days = 14

[queues.support]
channel = "voice"
aht_s = 300
hours = "00:00-24:00"

[queues.chat]
channel = "chat"
aht_s = 300
hours = "08:00-20:00"
"""


def test_check_names_the_repeated_hour_in_the_history_and_the_horizon(tmp_path):
    days = pd.date_range("2025-10-20", "2025-10-31")
    frame = pd.concat([day_of_quarters(NY, f"{d:%Y-%m-%d}", q) for d in days
                       for q in ("support", "chat")])
    frame = frame[(frame["queue"] == "support") | frame["ts"].dt.hour.between(8, 19)]
    write_offsets(tmp_path, frame)
    (tmp_path / "centre.toml").write_text(CONFIG)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        res = CliRunner().invoke(wfm, ["check", "--config", str(tmp_path / "centre.toml")])
    assert res.exit_code == 0, res.output
    assert ("warning: on 2025-11-02 the hour 01:00-01:59 happens twice; the plan shows it "
            "once: staff it for both (queues open then: support)") in res.stdout
    assert not [w for w in said if "repeated hour" in str(w.message)]  # none in the history

    later = pd.concat([frame, day_of_quarters(NY, "2025-11-02"),
                       day_of_quarters(NY, "2025-11-03")])
    path = write_offsets(tmp_path, later)
    with pytest.warns(DataRepairWarning) as said:  # the CLI prints it as 'warning: ...'
        res = CliRunner().invoke(wfm, ["check", "--config", str(tmp_path / "centre.toml")])
    assert res.exit_code == 0, res.output
    assert [str(w.message) for w in said] == [
        f"{path}: 8 rows in the repeated hour of the clock change (2025-11-02 01:00-01:59, "
        "America/New_York) were averaged into one; the hour happened twice (rows by queue: "
        "support 8)"]
    assert "happens twice" not in res.stdout  # the next one is a year away


def test_plan_run_records_the_averaged_hour_in_the_manifest(tmp_path, fast_config):
    config = fast_config(tmp_path)
    volumes = tmp_path / "volumes.csv.gz"
    table = pd.read_csv(volumes)
    repeat = table[table["timestamp"].isin(["2025-10-26 01:00", "2025-10-26 01:30"])
                   & (table["queue"] == "email")]
    pd.concat([table, repeat]).to_csv(volumes, index=False)
    with pytest.warns(DataRepairWarning, match="repeated hour"):
        res = CliRunner().invoke(wfm, ["plan", str(config), "--no-charts", "--out",
                                       str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert [w for w in manifest["warnings"] if "repeated hour" in w] == [
        f"{volumes}: 4 rows in the repeated hour of the clock change (2025-10-26 "
        "01:00-01:59, Europe/London) were averaged into one; the hour happened twice (rows "
        "by queue: email 4)"]


def test_a_plan_over_a_fall_back_day_warns_for_the_queue_open_then(tmp_path):
    from forecast.config import load_config
    from forecast.plan import build_plan

    ds = pd.date_range("2025-08-04", "2025-10-30 23:45", freq="15min")
    pd.DataFrame({"timestamp": ds.strftime("%Y-%m-%d %H:%M"), "volume": 5}).to_csv(
        tmp_path / "support.csv", index=False)
    (tmp_path / "centre.toml").write_text(
        '[centre]\ntimezone = "America/New_York"\ninterval_min = 15\n'
        '[data]\nvolumes = "support.csv"\n[forecast]\nmodel = "slot_mean"\nhorizon_days = 7\n'
        '[queues.support]\nchannel = "voice"\naht_s = 300\nhours = "24h"\n')
    result = build_plan(load_config(tmp_path / "centre.toml"))
    assert ("on 2025-11-02 the hour 01:00-01:59 happens twice; the plan shows it once: staff "
            "it for both") in result.queues["support"].warnings
    day = result.plan[result.plan["ds"].dt.normalize() == pd.Timestamp("2025-11-02")]
    assert len(day) == 96  # one pass of the repeated hour, as the warning says
