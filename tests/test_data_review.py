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
from forecast.config import load_config
from forecast.data import read_volumes, read_volumes_for
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
