"""Volume intake: fixes from the CLI review (dates, ragged rows, duplicate columns,
queue naming, all-zero queues, opening hours that drop data, daylight saving)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from forecast.cli import wfm
from forecast.config import OpeningHours, load_config
from forecast.data import read_volumes, read_volumes_for, regularise
from forecast.exceptions import DataValidationError


def write(tmp_path: Path, text: str, name: str = "volumes.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def hourly(days: pd.DatetimeIndex, fmt: str) -> str:
    stamps = pd.date_range(days[0], days[-1] + pd.Timedelta(hours=23), freq="h")
    return "timestamp,volume\n" + "".join(f"{t.strftime(fmt)},5\n" for t in stamps)


def check(*args) -> object:
    return CliRunner().invoke(wfm, ["check", *map(str, args)])


class TestDayMonthOrder:
    def test_two_digit_years_settled_by_the_data_read_day_first(self, tmp_path):
        days = pd.date_range("2026-02-01", "2026-02-20")
        v = read_volumes(write(tmp_path, hourly(days, "%d/%m/%y %H:%M")))
        assert v["ds"].min() == pd.Timestamp("2026-02-01 00:00")
        assert v["ds"].max() == pd.Timestamp("2026-02-20 23:00")
        assert v["ds"].is_monotonic_increasing and len(v) == 20 * 24

    def test_ambiguous_two_digit_years_are_refused_with_a_format_of_their_shape(self,
                                                                                 tmp_path):
        path = write(tmp_path, hourly(pd.date_range("2026-02-01", "2026-02-12"),
                                      "%d/%m/%y %H:%M"))
        with pytest.raises(DataValidationError, match=r"volumes.csv, row 2, column "
                           r"'timestamp': cannot tell day from month in '01/02/26 00:00'.*"
                           r"'%d/%m/%y %H:%M'"):
            read_volumes(path)
        assert read_volumes(path, timestamp_format="%d/%m/%y %H:%M")["ds"].iloc[0] == \
            pd.Timestamp("2026-02-01")

    def test_ambiguous_am_pm_times_get_an_am_pm_format_that_works(self, tmp_path):
        path = write(tmp_path, hourly(pd.date_range("2026-02-01", "2026-02-12"),
                                      "%d/%m/%y %I:%M %p"))
        with pytest.raises(DataValidationError, match=r"'%d/%m/%y %I:%M %p'") as caught:
            read_volumes(path)
        fmt = str(caught.value).split("timestamp_format = '")[1].split("'")[0]
        v = read_volumes(path, timestamp_format=fmt)
        assert v["ds"].iloc[13] == pd.Timestamp("2026-02-01 13:00")

    @pytest.mark.parametrize("fmt", ["%m/%d/%Y %I:%M %p", "%d/%m/%Y %I:%M %p",
                                     "%d.%m.%y %H:%M"])
    def test_unambiguous_am_pm_and_dotted_dates_are_read(self, tmp_path, fmt):
        days = pd.date_range("2026-02-10", "2026-02-20")
        v = read_volumes(write(tmp_path, hourly(days, fmt)))
        expected = pd.date_range("2026-02-10", "2026-02-20 23:00", freq="h")
        assert (v["ds"].to_numpy() == expected.to_numpy()).all()

    def test_cli_check_of_ambiguous_two_digit_years_is_one_line_exit_1(self, tmp_path):
        path = write(tmp_path, hourly(pd.date_range("2026-02-01", "2026-02-12"),
                                      "%d/%m/%y %H:%M"))
        res = check(path)
        assert res.exit_code == 1 and res.stdout == ""
        assert len(res.stderr.strip().splitlines()) == 1
        assert "Traceback" not in res.output


class TestRowShape:
    HEADER = "queue,timestamp,volume,aht_s\n"

    def test_a_row_with_more_fields_than_the_header_is_refused(self, tmp_path):
        path = write(tmp_path, self.HEADER + "voice,2025-09-25 17:30,12,375.1\n"
                                             "voice,2025-09-25 18:00,1,234,375.1\n")
        with pytest.raises(DataValidationError,
                           match=r"volumes.csv, row 3: 5 fields, expected 4"):
            read_volumes(path)

    def test_long_row_found_after_blank_lines_and_in_gzip(self, tmp_path):
        import gzip

        text = self.HEADER + "v,2025-09-25 17:30,1,3\n\nv,2025-09-25 18:00,1,2,3\n"
        with pytest.raises(DataValidationError, match=r"row 4: 5 fields, expected 4"):
            read_volumes(write(tmp_path, text))
        gz = tmp_path / "v.csv.gz"
        gz.write_bytes(gzip.compress(text.encode()))
        with pytest.raises(DataValidationError, match=r"v.csv.gz, row 4: 5 fields"):
            read_volumes(gz)

    def test_a_duplicate_column_used_by_the_reader_is_refused(self, tmp_path):
        path = write(tmp_path, "queue,timestamp,volume,aht_s,volume\n"
                               "v,2025-09-25 17:30,4,300,5\n")
        with pytest.raises(DataValidationError,
                           match=r"volumes.csv: duplicate column 'volume'"):
            read_volumes(path)

    def test_a_duplicate_ignored_column_is_fine(self, tmp_path):
        path = write(tmp_path, "timestamp,volume,note,note\n2025-09-25 17:30,4,a,b\n")
        assert read_volumes(path)["y"].tolist() == [4.0]


class TestQueueName:
    CONFIG = """
[centre]
timezone = "Europe/London"
interval_min = 60
[data]
volumes = "calls_export.csv"
{queue}
[queues.voice]
hours = "24h"
{more}
"""

    def config(self, tmp_path, queue="", more=""):
        write(tmp_path, "timestamp,volume\n2026-02-02 08:00,5\n2026-02-02 09:00,6\n",
              "calls_export.csv")
        return load_config(write(tmp_path, self.CONFIG.format(queue=queue, more=more),
                                 "centre.toml"))

    def test_the_only_configured_queue_names_a_file_without_queue_column(self, tmp_path):
        assert read_volumes_for(self.config(tmp_path))["queue"].unique().tolist() == \
            ["voice"]

    def test_data_queue_setting_wins(self, tmp_path):
        cfg = self.config(tmp_path, queue='queue = "sales"')
        assert read_volumes_for(cfg)["queue"].unique().tolist() == ["sales"]

    def test_with_several_queues_the_file_name_is_kept(self, tmp_path):
        cfg = self.config(tmp_path, more='[queues.chat]\nchannel = "chat"\nhours = "24h"')
        assert read_volumes_for(cfg)["queue"].unique().tolist() == ["calls_export"]


def test_nothing_is_warned_reading_a_clean_file(tmp_path):
    path = write(tmp_path, hourly(pd.date_range("2026-02-10", "2026-02-11"),
                                  "%Y-%m-%d %H:%M"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.allclose(read_volumes(path)["y"], 5.0)


def frame(ds, y, queue: str = "q") -> pd.DataFrame:
    return pd.DataFrame({"queue": queue, "ds": pd.to_datetime(ds), "y": np.asarray(y, float)})


def daytime(queue: str, volume: float = 3.0) -> pd.DataFrame:
    ds = pd.date_range("2026-02-02 08:00", "2026-02-15 18:00", freq="h")
    ds = ds[(ds.hour >= 8) & (ds.hour < 18)]
    return frame(ds, [volume] * len(ds), queue)


def regularise_caught(volumes, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out, report = regularise(volumes, **kwargs)
    return out, report, [str(w.message) for w in caught]


class TestRegulariseReports:
    def test_an_all_zero_queue_is_left_out_by_name_not_as_dropped_contacts(self):
        volumes = pd.concat([daytime("sales"), daytime("zero", 0.0)], ignore_index=True)
        out, report, said = regularise_caught(volumes, interval_s=3600)
        assert set(out["queue"]) == {"sales"}
        assert report.queues["zero"].left_out
        assert said == ["queue 'zero' left out: no contacts in its 140 rows (every volume "
                        "is 0), so no opening hours can be inferred; give it hours to plan it"]
        assert "queue zero: no contacts in its 140 rows" in str(report)  # no NaT to format

    def test_an_all_zero_queue_with_given_hours_is_kept(self):
        out, report, said = regularise_caught(daytime("zero", 0.0), interval_s=3600,
                                              hours=OpeningHours.always())
        assert not report.queues["zero"].left_out
        assert not any("left out" in m or "outside" in m for m in said)
        assert (out["y"] == 0).all() and len(out) > 0

    def test_hours_excluding_every_contact_are_an_error_naming_queue_and_time_zone(self):
        volumes = daytime("voice")
        volumes.attrs["source"] = "calls.csv"
        night = OpeningHours(((120, 240),) * 7)
        with pytest.raises(DataValidationError, match=r"^calls.csv: queue 'voice': all 420 "
                           r"contacts fall outside its opening hours.*time zone.*"
                           r"centre.timezone, data.timestamps"):
            regularise(volumes, interval_s=3600, hours={"voice": night})

    def test_dropping_most_of_a_queue_warns_with_its_name_and_share(self):
        volumes = pd.concat([daytime("voice"), daytime("chat")], ignore_index=True)
        morning = OpeningHours(((480, 600),) * 7)
        _, report, said = regularise_caught(volumes, interval_s=3600,
                                            hours={"voice": morning,
                                                   "chat": OpeningHours(((480, 1020),) * 7)})
        assert "dropped 378 contacts outside opening hours in chat (42), voice (336)" in said
        assert ("queue 'voice': 80% of its contacts are outside its opening hours; check its "
                "hours, and that the timestamps are the centre's local time "
                "(centre.timezone, data.timestamps)") in said
        assert not any(m.startswith("queue 'chat'") for m in said)  # 10%: no alarm
        assert "80% of the queue's: check its hours and time zone" in str(report)

    def test_rows_at_a_non_existent_dst_time_are_named_as_such(self):
        ds = pd.date_range("2026-03-28 00:00", "2026-03-29 23:30", freq="30min")
        volumes = frame(ds, [1.0] * len(ds))
        _, report, said = regularise_caught(volumes, interval_s=1800,
                                            hours=OpeningHours.always(),
                                            timezone="Europe/London")
        q = report.queues["q"]
        assert (q.nonexistent_rows, q.nonexistent_volume, q.outside_rows) == (2, 2.0, 0)
        assert said == ["dropped 2 contacts stamped at local times that do not exist in "
                        "Europe/London (the clock jumped forward) in q (2)"]
        text = str(report)
        assert "outside opening hours" not in text
        assert ("at local times that do not exist (the clock jumped forward): 2 rows "
                "dropped (2 contacts)") in text

    def test_check_of_an_all_zero_queue_says_so_and_exits_0(self, tmp_path):
        volumes = pd.concat([daytime("sales"), daytime("zero", 0.0)], ignore_index=True)
        path = tmp_path / "v.csv"
        volumes.rename(columns={"ds": "timestamp", "y": "volume"}).to_csv(path, index=False)
        res = check(path)
        assert res.exit_code == 0, res.output
        assert "queue zero: no contacts in its 140 rows" in res.stdout
