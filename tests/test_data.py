"""forecast.data: reading, validating and regularising volume data."""

from __future__ import annotations

import gzip
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast.config import OpeningHours, load_config
from forecast.data import (
    describe_volumes,
    future_grid,
    hours_for,
    infer_hours,
    infer_interval_s,
    read_volumes,
    read_volumes_for,
    regularise,
)
from forecast.events import holiday_events, read_events
from forecast.exceptions import ConfigError, DataRepairWarning, DataValidationError

DATA = Path(__file__).parent / "data"
TZ = "Europe/London"


def write(tmp_path: Path, text: str, name: str = "volumes.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def csv_rows(rows: list[tuple], header: str = "queue,timestamp,volume") -> str:
    return header + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows)


def half_hours(start: str, n: int, queue: str = "voice", volume=10) -> list[tuple]:
    ts = pd.date_range(start, periods=n, freq="30min")
    return [(queue, t.strftime("%Y-%m-%d %H:%M"), volume) for t in ts]


def table(ds, y, queue="q", **extra) -> pd.DataFrame:
    out = pd.DataFrame({"queue": queue, "ds": pd.to_datetime(ds), "y": np.asarray(y, float)})
    for k, v in extra.items():
        out[k] = np.asarray(v, float)
    return out


def regularise_quiet(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataRepairWarning)
        return regularise(*args, **kwargs)


# --------------------------------------------------------------------------- reading


class TestReadVolumes:
    def test_long_shape_sorted_with_types(self, tmp_path):
        path = write(tmp_path, csv_rows(
            [("chat", "2025-09-01 08:30", 4, 610.5), ("voice", "2025-09-01 08:00", 12, ""),
             ("chat", "2025-09-01 08:00", 3, 590)], header="queue,timestamp,volume,aht_s"))
        v = read_volumes(path)
        assert list(v.columns) == ["queue", "ds", "y", "aht_s"]
        assert v["queue"].tolist() == ["chat", "chat", "voice"]
        assert v["ds"].dtype == "datetime64[ns]"
        assert v["y"].dtype == "float64" and v["aht_s"].dtype == "float64"
        assert v["y"].tolist() == [3.0, 4.0, 12.0]
        assert np.isnan(v["aht_s"].iloc[2])

    def test_single_queue_file_is_named_after_the_file_or_queue(self, tmp_path):
        path = write(tmp_path, "timestamp,volume\n2025-09-01 08:00,1\n", "sales_line.csv.gz")
        path.write_bytes(gzip.compress(b"timestamp,volume\n2025-09-01 08:00,1\n"))
        assert read_volumes(path)["queue"].tolist() == ["sales_line"]
        assert read_volumes(path, queue="sales")["queue"].tolist() == ["sales"]

    def test_queue_argument_selects_one_queue(self, tmp_path):
        path = write(tmp_path, csv_rows(half_hours("2025-09-01 08:00", 2, "voice")
                                        + half_hours("2025-09-01 08:00", 2, "chat")))
        assert set(read_volumes(path, queue="chat")["queue"]) == {"chat"}
        with pytest.raises(DataValidationError, match=r"no rows for queue 'email'.*chat, voice"):
            read_volumes(path, queue="email")

    def test_column_mapping(self, tmp_path):
        path = write(tmp_path, "rownames,DateTime,Calls\n1,2003-03-03 07:00,111\n")
        v = read_volumes(path, timestamp_column="DateTime", volume_column="Calls")
        assert v["y"].tolist() == [111.0] and "rownames" not in v.columns

    def test_bom_and_crlf(self):
        v = read_volumes(DATA / "volumes_bom_crlf.csv")
        assert v["y"].tolist() == [5.0, 7.0]
        assert v["queue"].iloc[0] == "volumes_bom_crlf"

    def test_parquet(self, tmp_path):
        src = pd.DataFrame({"queue": ["a", "a"], "timestamp": ["2025-09-01 08:00",
                                                             "2025-09-01 08:30"],
                            "volume": [1, 2]})
        src.to_parquet(tmp_path / "v.parquet")
        assert read_volumes(tmp_path / "v.parquet")["y"].tolist() == [1.0, 2.0]

    def test_offsets_are_converted_to_the_centre_clock(self, tmp_path):
        path = write(tmp_path, "timestamp,volume\n2025-07-01T07:00:00Z,3\n"
                               "2025-07-01T08:30:00+01:00,4\n")
        v = read_volumes(path, timezone=TZ)
        assert v["ds"].dt.strftime("%H:%M").tolist() == ["08:00", "08:30"]

    def test_local_mode_ignores_a_spurious_z(self, tmp_path):
        path = write(tmp_path, "timestamp,volume\n2003-03-03T07:00:00Z,3\n")
        assert read_volumes(path, timestamps="local")["ds"].iloc[0] == \
            pd.Timestamp("2003-03-03 07:00")

    def test_fall_back_hour_from_offsets_is_averaged_into_one_local_interval(self, tmp_path):
        path = write(tmp_path, "timestamp,volume\n"
                               "2025-10-26T00:30:00+01:00,1\n"
                               "2025-10-26T01:00:00+01:00,2\n"
                               "2025-10-26T01:00:00+00:00,5\n"
                               "2025-10-26T01:30:00+00:00,7\n")
        with pytest.warns(DataRepairWarning, match="2 rows in the repeated hour"):
            v = read_volumes(path, timezone=TZ)
        assert v["ds"].dt.strftime("%H:%M").tolist() == ["00:30", "01:00", "01:30"]
        assert v["y"].tolist() == [1.0, 3.5, 7.0]

    def test_naive_repeat_of_the_fall_back_hour_is_averaged_only_with_a_timezone(self,
                                                                                 tmp_path):
        path = write(tmp_path, "timestamp,volume\n2025-10-26 01:00,2\n2025-10-26 01:00,5\n")
        with pytest.warns(DataRepairWarning, match="averaged into one"):
            assert read_volumes(path, timezone=TZ)["y"].tolist() == [3.5]
        with pytest.raises(DataValidationError, match="row 3.*duplicate"):
            read_volumes(path)


class TestValidationErrors:
    """Each error is one line naming file, row (header = line 1) and column."""

    def test_text_in_volume_at_row_500(self, tmp_path):
        rows = half_hours("2025-09-01 00:00", 600)
        rows[498] = (rows[498][0], rows[498][1], "n/a")  # data row 499 = line 500
        path = write(tmp_path, csv_rows(rows))
        with pytest.raises(DataValidationError) as err:
            read_volumes(path)
        msg = str(err.value)
        assert "row 500" in msg and "column 'volume'" in msg and "'n/a' is not a number" in msg
        assert str(path) in msg and "\n" not in msg
        assert err.value.row == 500 and err.value.column == "volume"

    @pytest.mark.parametrize("value, reason", [
        ("-3", "negative value -3"), ("inf", "not finite"), ("", "empty cell"),
    ])
    def test_bad_volume_values(self, tmp_path, value, reason):
        path = write(tmp_path, f"timestamp,volume\n2025-09-01 08:00,1\n2025-09-01 08:30,{value}\n")
        with pytest.raises(DataValidationError, match=rf"row 3, column 'volume': .*{reason}"):
            read_volumes(path)

    def test_negative_aht(self, tmp_path):
        path = write(tmp_path, "timestamp,volume,aht_s\n2025-09-01 08:00,1,-5\n")
        with pytest.raises(DataValidationError, match=r"row 2, column 'aht_s': negative"):
            read_volumes(path)

    def test_missing_column_lists_columns_found(self, tmp_path):
        path = write(tmp_path, "when,calls\n2025-09-01 08:00,1\n")
        with pytest.raises(DataValidationError,
                           match=r"missing required column 'timestamp'; columns found: when, "
                                 r"calls"):
            read_volumes(path)

    def test_unparseable_timestamp(self, tmp_path):
        path = write(tmp_path, "timestamp,volume\n2025-09-01 08:00,1\n2025-09-01 08:30,1\n"
                               "2025-13-45 08:00,1\n")
        with pytest.raises(DataValidationError,
                           match=r"row 4, column 'timestamp': cannot read timestamp "
                                 r"'2025-13-45 08:00'"):
            read_volumes(path)

    def test_empty_timestamp(self, tmp_path):
        path = write(tmp_path, "timestamp,volume\n2025-09-01 08:00,1\n,4\n")
        with pytest.raises(DataValidationError, match=r"row 3, column 'timestamp': empty"):
            read_volumes(path)

    def test_non_iso_timestamps_are_read_with_one_inferred_format(self, tmp_path):
        path = write(tmp_path, "timestamp,volume\n2025/09/01 08:00,1\n2025/09/01 08:30,2\n")
        assert read_volumes(path)["ds"].iloc[1] == pd.Timestamp("2025-09-01 08:30")

    def test_duplicate_rows_name_both_lines(self, tmp_path):
        rows = half_hours("2025-09-01 08:00", 4) + [("voice", "2025-09-01 08:30", 3)]
        path = write(tmp_path, csv_rows(rows))
        with pytest.raises(DataValidationError,
                           match=r"row 6, column 'timestamp': duplicate row for queue 'voice' "
                                 r"at 2025-09-01 08:30:00 \(first at row 3\)"):
            read_volumes(path)

    def test_timestamp_off_the_interval_grid(self, tmp_path):
        rows = half_hours("2025-09-01 08:00", 6)
        rows[4] = ("voice", "2025-09-01 10:07", 1)
        path = write(tmp_path, csv_rows(rows))
        with pytest.raises(DataValidationError,
                           match=r"row 6, column 'timestamp': .*off the file's 30-minute grid"):
            read_volumes(path)

    def test_whole_gaps_are_not_irregular(self, tmp_path):
        rows = half_hours("2025-09-01 08:00", 6)
        del rows[2:4]  # a one-hour gap is two whole intervals
        assert len(read_volumes(write(tmp_path, csv_rows(rows)))) == 4

    def test_empty_and_header_only_files(self):
        with pytest.raises(DataValidationError, match="file is empty"):
            read_volumes(DATA / "volumes_empty.csv")
        with pytest.raises(DataValidationError, match="no data rows"):
            read_volumes(DATA / "volumes_header_only.csv")

    def test_unreadable_files(self, tmp_path):
        with pytest.raises(DataValidationError, match="not UTF-8|cannot read as CSV"):
            read_volumes(DATA / "not_a_csv.csv")
        with pytest.raises(DataValidationError, match="not UTF-8"):
            read_volumes(DATA / "volumes_latin1.csv")
        with pytest.raises(DataValidationError, match="file not found"):
            read_volumes(tmp_path / "nope.csv")
        (tmp_path / "bad.parquet").write_text("not parquet")
        with pytest.raises(DataValidationError, match="cannot read as Parquet"):
            read_volumes(tmp_path / "bad.parquet")

    def test_offsets_need_a_timezone(self, tmp_path):
        path = write(tmp_path, "timestamp,volume\n2025-07-01T07:00:00Z,3\n")
        with pytest.raises(DataValidationError, match=r"row 2, .*UTC offset.*--timezone"):
            read_volumes(path)
        with pytest.raises(ConfigError, match="unknown time zone 'Mars/Base'"):
            read_volumes(path, timezone="Mars/Base")

    def test_mixed_offset_and_naive_timestamps(self, tmp_path):
        path = write(tmp_path, "timestamp,volume\n2025-07-01T07:00:00Z,3\n2025-07-01 07:30,1\n")
        with pytest.raises(DataValidationError, match=r"row 3, .*has no UTC offset"):
            read_volumes(path, timezone=TZ)

    def test_empty_queue_name(self, tmp_path):
        path = write(tmp_path, "queue,timestamp,volume\nvoice,2025-09-01 08:00,1\n"
                               ",2025-09-01 08:30,1\n")
        with pytest.raises(DataValidationError, match=r"row 3, column 'queue': empty queue"):
            read_volumes(path)

    def test_blank_lines_do_not_shift_row_numbers(self, tmp_path):
        path = write(tmp_path, "timestamp,volume\n2025-09-01 08:00,1\n\n2025-09-01 09:00,x\n")
        with pytest.raises(DataValidationError, match=r"row 4, column 'volume'"):
            read_volumes(path)


class TestInputPolicy:
    """Repairs announced with a DataRepairWarning, and the bounds that reject a file."""

    def test_exact_repeats_are_dropped_with_a_warning(self, tmp_path):
        rows = half_hours("2025-09-01 08:00", 4)
        path = write(tmp_path, csv_rows(rows + rows[1:3]))
        with pytest.warns(DataRepairWarning, match=r"dropped 2 exact duplicate row\(s\) "
                                                   r"\(line 6, 7\)"):
            v = read_volumes(path)
        assert len(v) == 4 and v["y"].sum() == 40

    def test_repeated_header_and_trailing_totals_row_are_dropped(self, tmp_path):
        rows = half_hours("2025-09-01 08:00", 4)
        text = csv_rows(rows[:2]) + "queue,timestamp,volume\n" + "".join(
            ",".join(map(str, r)) + "\n" for r in rows[2:]) + "Total,,40\n"
        with pytest.warns(DataRepairWarning) as caught:
            v = read_volumes(write(tmp_path, text))
        messages = " ".join(str(w.message) for w in caught)
        assert "repeated header row(s) (line 4)" in messages
        assert "totals row at line 7 (Total)" in messages
        assert v["y"].tolist() == [10.0] * 4

    def test_a_total_labelled_row_inside_the_file_is_an_error(self, tmp_path):
        rows = half_hours("2025-09-01 08:00", 4)
        rows.insert(2, ("Total", "", 20))
        with pytest.raises(DataValidationError, match=r"row 4, column 'timestamp': empty"):
            read_volumes(write(tmp_path, csv_rows(rows)))

    def test_semicolons_with_decimal_commas_and_thousands_dots(self, tmp_path):
        path = write(tmp_path, "queue;timestamp;volume;aht_s\n"
                               "a;2025-09-01 08:00;1.204,5;312,5\na;2025-09-01 08:30;3;\n")
        v = read_volumes(path)
        assert v["y"].tolist() == [1204.5, 3.0]
        assert v["aht_s"].iloc[0] == 312.5 and np.isnan(v["aht_s"].iloc[1])

    @pytest.mark.parametrize("stamps, first", [
        (["16/11/2026 08:00", "16/11/2026 08:30"], "2026-11-16 08:00"),
        (["11/16/2026 8:00", "11/16/2026 8:30"], "2026-11-16 08:00"),
        (["01.12.2026 08:00", "13.12.2026 08:30"], "2026-12-01 08:00"),
    ])
    def test_day_month_order_is_settled_by_the_data(self, tmp_path, stamps, first):
        path = write(tmp_path, "timestamp,volume\n" + "".join(f"{t},1\n" for t in stamps))
        assert read_volumes(path)["ds"].iloc[0] == pd.Timestamp(first)

    def test_ambiguous_dates_need_a_format_which_then_reads_them(self, tmp_path):
        path = write(tmp_path, "timestamp,volume\n01/02/2026 08:00,1\n01/02/2026 08:30,1\n")
        with pytest.raises(DataValidationError, match=r"row 2, column 'timestamp': cannot tell "
                                                      r"day from month.*timestamp_format"):
            read_volumes(path)
        v = read_volumes(path, timestamp_format="%d/%m/%Y %H:%M")
        assert v["ds"].iloc[0] == pd.Timestamp("2026-02-01 08:00")
        with pytest.raises(DataValidationError, match="does not match the format"):
            read_volumes(path, timestamp_format="%Y-%m-%d %H:%M")

    def test_plausibility_bound_and_its_override(self, tmp_path):
        path = write(tmp_path, "timestamp,volume\n2025-09-01 08:00,1\n2025-09-01 08:30,2e6\n")
        with pytest.raises(DataValidationError, match=r"row 3, column 'volume': 2,000,000 is "
                                                      r"implausibly large.*max_volume"):
            read_volumes(path)
        assert read_volumes(path, max_volume=5e6)["y"].iloc[1] == 2e6
        assert read_volumes(path, max_volume=None)["y"].iloc[1] == 2e6

    def test_handle_time_above_a_day_is_rejected(self, tmp_path):
        path = write(tmp_path, "timestamp,volume,aht_s\n2025-09-01 08:00,1,300000\n")
        with pytest.raises(DataValidationError, match=r"row 2, column 'aht_s': .*implausibly"):
            read_volumes(path)

    def test_a_stray_date_is_blamed_not_its_neighbours(self, tmp_path):
        rows = half_hours("2025-09-01 08:00", 6)
        rows[3] = ("voice", "2015-09-01 09:30", 10)
        with pytest.raises(DataValidationError, match=r"row 5, column 'timestamp': timestamp "
                                                      r"2015-09-01 09:30:00 is 3,653 days"):
            read_volumes(write(tmp_path, csv_rows(rows)))

    def test_an_interval_that_does_not_divide_a_day_is_rejected(self, tmp_path):
        rows = [("q", t.strftime("%Y-%m-%d %H:%M"), 1)
                for t in pd.date_range("2025-09-01 08:00", periods=5, freq="7min")]
        with pytest.raises(DataValidationError, match=r"row 3, .*7 minutes after the previous "
                                                      r"reading.*does not divide a day"):
            read_volumes(write(tmp_path, csv_rows(rows)))

    def test_a_cut_short_last_line_is_rejected(self, tmp_path):
        text = csv_rows(half_hours("2025-09-01 08:00", 3)) + "voice,2025-09-01 09:"
        with pytest.raises(DataValidationError, match=r"row 5: last line has 2 of 3 fields.*"
                                                      r"truncated"):
            read_volumes(write(tmp_path, text))

    def test_a_truncated_gzip_is_rejected(self, tmp_path):
        data = gzip.compress(csv_rows(half_hours("2025-09-01 00:00", 4000)).encode())
        (tmp_path / "v.csv.gz").write_bytes(data[: len(data) // 2])
        with pytest.raises(DataValidationError, match="compressed file is truncated or corrupt"):
            read_volumes(tmp_path / "v.csv.gz")

    def test_latin1_needs_saying_and_the_bad_line_is_named(self, tmp_path):
        path = tmp_path / "v.csv"
        path.write_bytes("queue,timestamp,volume\nvoice,2025-09-01 08:00,1\n"
                         "réclamations,2025-09-01 08:00,2\n".encode("latin-1"))
        with pytest.raises(DataValidationError, match=r"row 3: not UTF-8 text \(byte 0xe9\)"):
            read_volumes(path)
        assert read_volumes(path, encoding="latin-1")["queue"].tolist() == ["réclamations",
                                                                            "voice"]

    def test_parquet_with_epoch_numbers_for_timestamps_is_rejected(self, tmp_path):
        pd.DataFrame({"timestamp": [1_700_000_000, 1_700_001_800], "volume": [1, 2]}).to_parquet(
            tmp_path / "v.parquet")
        with pytest.raises(DataValidationError, match=r"column 'timestamp': holds int64 numbers"):
            read_volumes(tmp_path / "v.parquet")


class TestFastPath:
    """Large clean files take a typed pyarrow path; it must agree with the exact path."""

    def test_csv_fast_and_exact_paths_agree(self, tmp_path, monkeypatch):
        import forecast.data.read as data  # where read_volumes looks its helpers up

        rows = [(q, t.strftime("%Y-%m-%d %H:%M"), float(i % 7) + 0.5, 300 + i % 11)
                for i, t in enumerate(pd.date_range("2025-09-01", periods=300, freq="30min"))
                for q in ("b", "a")]
        text = csv_rows(rows[::-1], header="queue,timestamp,volume,aht_s").replace(
            ",305\n", ",\n")
        path = write(tmp_path, text)
        with monkeypatch.context() as m:
            m.setattr(data, "_read_csv_exact", None)  # the fast path alone must read it
            fast = read_volumes(path)
        monkeypatch.setattr(data, "_fast_path_ok", lambda *a: False)
        exact = read_volumes(path)
        pd.testing.assert_frame_equal(fast, exact)
        assert fast["aht_s"].isna().sum() > 0

    def test_parquet_fast_and_exact_paths_agree(self, tmp_path, monkeypatch):
        import forecast.data.read as data  # where read_volumes looks its helpers up

        ds = pd.date_range("2025-09-01", periods=100, freq="15min").repeat(2)
        pd.DataFrame({"queue": pd.Categorical(["y", "x"] * 100), "timestamp": ds,
                      "volume": np.arange(200), "abandoned": np.r_[np.nan, np.ones(199)]}
                     ).to_parquet(tmp_path / "v.parquet")
        with monkeypatch.context() as m:
            m.setattr(data, "_read_parquet", None)  # the fast path alone must read it
            fast = read_volumes(tmp_path / "v.parquet")
        monkeypatch.setattr(data, "_read_parquet_fast", lambda *a, **k: None)
        exact = read_volumes(tmp_path / "v.parquet")
        pd.testing.assert_frame_equal(fast, exact)

    def test_a_bad_row_in_a_clean_looking_file_is_still_named(self, tmp_path):
        rows = half_hours("2025-09-01 00:00", 3000)
        rows[2500] = ("voice", rows[2500][1], "-1")
        with pytest.raises(DataValidationError, match=r"row 2502, column 'volume': negative"):
            read_volumes(write(tmp_path, csv_rows(rows)))


# --------------------------------------------------------------------------- inference


def test_infer_interval_is_the_most_common_gap_within_a_day():
    ds = list(pd.date_range("2025-09-01 08:00", periods=10, freq="5min")) + \
        list(pd.date_range("2025-09-02 08:00", periods=10, freq="5min"))
    assert infer_interval_s(table(ds, np.ones(20))) == 300
    assert infer_interval_s(table(["2025-09-01", "2025-09-02"], [1, 2])) == 86_400


def test_infer_hours_rule():
    days = pd.date_range("2025-09-01", "2025-10-26", freq="D")
    ds, y = [], []
    for d in days:
        if d.weekday() < 5:  # weekdays 08:00-18:00 busy, weekend closed
            for t in pd.date_range(d + pd.Timedelta(hours=8), periods=20, freq="30min"):
                ds.append(t)
                y.append(20.0)
    h = infer_hours(table(ds, y), 1800)
    assert h.by_weekday[:5] == ((480, 1080),) * 5
    assert h.by_weekday[5:] == (None, None)


def test_infer_hours_keeps_quiet_night_slots_but_not_all_zero_rows():
    idx = pd.date_range("2025-09-01", "2025-09-28 23:30", freq="30min")
    rng = np.random.default_rng(1)
    night = np.asarray(idx.hour < 6)
    quiet_24h = np.where(night, rng.poisson(3, len(idx)), 30)  # a 24/7 queue, 10% of peak
    zeros_closed = np.where(night, 0, 30)  # an export writing zero rows while closed
    trickle = np.where(night, rng.poisson(0.2, len(idx)), 30)  # IVR calls to a closed line
    assert infer_hours(table(idx, quiet_24h), 1800) == OpeningHours.always()
    assert infer_hours(table(idx, zeros_closed), 1800).by_weekday == ((360, 1440),) * 7
    assert infer_hours(table(idx, trickle), 1800).by_weekday == ((360, 1440),) * 7


def test_infer_hours_bridges_short_breaks_and_keeps_the_longest_run():
    idx = pd.date_range("2025-09-01", "2025-09-14 23:30", freq="30min")
    minute = np.asarray(idx.hour * 60 + idx.minute)
    lunch = (minute >= 780) & (minute < 840)  # closed 13:00-14:00
    y = np.where((minute >= 480) & (minute < 1200) & ~lunch, 20, 0)
    y = np.where(minute < 60, 5, y)  # a tail of calls after midnight
    h = infer_hours(table(idx, y), 1800)
    assert h.by_weekday == ((480, 1200),) * 7


# --------------------------------------------------------------------------- regularise


class TestRegularise:
    def test_aggregates_five_minutes_to_thirty(self):
        ds = pd.date_range("2025-09-01 08:00", periods=12, freq="5min")
        y = [1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 10, 10]
        aht = [100, 100, 100, 400, 400, 400, np.nan, np.nan, np.nan, np.nan, 200, np.nan]
        out, report = regularise_quiet(table(ds, y, aht_s=aht), interval_s=1800,
                                       hours=OpeningHours.always())
        day = out[out["ds"].dt.date == pd.Timestamp("2025-09-01").date()]
        first = day.set_index("ds").loc["2025-09-01 08:00"]
        second = day.set_index("ds").loc["2025-09-01 08:30"]
        assert first["y"] == 21 and second["y"] == 20
        assert first["aht_s"] == pytest.approx((6 * 100 + 15 * 400) / 21)
        assert second["aht_s"] == pytest.approx(200)  # only known values weigh in
        assert not first["filled"]
        assert report.queues["q"].data_interval_s == 300

    def test_gap_fill_rule_week_earlier_then_later_then_zero(self):
        hours = OpeningHours(((540, 600),) * 7)  # 09:00-10:00: two slots a day
        days = pd.date_range("2025-09-01", periods=22, freq="D")
        ds = [d + pd.Timedelta(minutes=m) for d in days for m in (540, 570)]
        y = np.arange(len(ds), dtype=float) + 1
        t = table(ds, y, aht_s=np.full(len(ds), 300.0))
        # drop day 0 09:00 (no earlier week, week later exists), day 8 09:30 (week earlier)
        drop = {(days[0], 540), (days[8], 570)}
        keep = [(d.normalize(), d.hour * 60 + d.minute) not in drop for d in t["ds"]]
        out, report = regularise_quiet(t[keep], interval_s=1800, hours=hours)
        got = out.set_index("ds")
        assert got.loc[days[0] + pd.Timedelta(minutes=540), "y"] == \
            got.loc[days[7] + pd.Timedelta(minutes=540), "y"]
        assert got.loc[days[8] + pd.Timedelta(minutes=570), "y"] == \
            got.loc[days[1] + pd.Timedelta(minutes=570), "y"]
        assert out["filled"].sum() == 2 and report.queues["q"].filled_rows == 2
        assert out.loc[out["filled"], "aht_s"].isna().all()
        assert out.loc[~out["filled"], "aht_s"].notna().all()

    def test_gap_with_no_week_either_side_is_zero(self):
        hours = OpeningHours(((540, 600),) * 7)
        out, _ = regularise_quiet(table(["2025-09-01 09:00", "2025-09-03 09:30"], [4, 5]),
                                  interval_s=1800, hours=hours)
        assert len(out) == 6  # three days x two slots
        assert out.loc[out["filled"], "y"].eq(0).all()

    def test_whole_missing_day_is_filled_flagged_and_reported(self):
        hours = OpeningHours(((540, 600),) * 5 + (None, None))
        days = [d for d in pd.date_range("2025-09-01", periods=21, freq="D") if d.weekday() < 5]
        missing = pd.Timestamp("2025-09-10")
        ds = [d + pd.Timedelta(minutes=m) for d in days if d != missing for m in (540, 570)]
        out, report = regularise_quiet(table(ds, np.ones(len(ds))), interval_s=1800,
                                       hours=hours)
        assert report.queues["q"].missing_days == (missing,)
        assert out.loc[out["ds"].dt.normalize() == missing, "filled"].all()
        assert "missing whole days (1, filled): 2025-09-10 Wed" in str(report)

    def test_rows_outside_hours_are_dropped_and_counted(self):
        ds = ["2025-09-01 07:30", "2025-09-01 08:00", "2025-09-01 08:30"]
        hours = OpeningHours(((480, 540),) * 7)
        with pytest.warns(DataRepairWarning) as caught:
            out, report = regularise(table(ds, [7, 1, 2]), interval_s=1800, hours=hours)
        said = [str(w.message) for w in caught]
        assert "dropped 7 contacts outside opening hours in q (7)" in said
        assert any(m.startswith("queue 'q': 70% of its contacts are outside its opening "
                                "hours") for m in said)
        assert out["ds"].min() == pd.Timestamp("2025-09-01 08:00")
        assert report.queues["q"].dropped_rows == 1
        assert report.queues["q"].dropped_volume == 7
        assert ("outside opening hours: 1 rows dropped (7 contacts, 70% of the queue's: "
                "check its hours and time zone)") in str(report)

    def test_hours_per_queue_and_inferred(self):
        a = table(pd.date_range("2025-09-01 08:00", periods=4, freq="30min"), [1] * 4, "a")
        b = table(pd.date_range("2025-09-01 00:00", periods=48, freq="30min"), [1] * 48, "b")
        out, report = regularise_quiet(pd.concat([a, b]), interval_s=1800,
                                       hours={"a": OpeningHours(((480, 600),) * 7)})
        assert report.queues["a"].hours_inferred is False
        assert report.queues["b"].hours_inferred is True
        assert (out["queue"] == "a").sum() == 4 and (out["queue"] == "b").sum() == 48

    def test_spring_forward_hour_is_not_a_gap(self):
        # a 24 h queue on 2026-03-29 (Europe/London): 01:00 and 01:30 do not exist
        idx = pd.date_range("2026-03-28", "2026-03-30 23:30", freq="30min")
        exists = ~idx.tz_localize(TZ, nonexistent="NaT", ambiguous=True).isna()
        t = table(idx[exists], np.full(int(exists.sum()), 3.0))
        assert len(t) == 3 * 48 - 2
        out, report = regularise_quiet(t, interval_s=1800, hours=OpeningHours.always(),
                                       timezone=TZ)
        assert report.queues["q"].filled_rows == 0 and len(out) == 3 * 48 - 2
        # without the time zone the hour cannot be known not to exist: it is filled
        out_naive, _ = regularise_quiet(t, interval_s=1800, hours=OpeningHours.always())
        assert out_naive["filled"].sum() == 2

    def test_fall_back_day_keeps_one_interval_per_local_time(self, tmp_path):
        stamps = pd.date_range("2025-10-26 00:00", "2025-10-26 23:30", freq="30min",
                               tz=TZ)
        path = write(tmp_path, "timestamp,volume\n" + "".join(
            f"{t.isoformat()},1\n" for t in stamps))
        assert len(stamps) == 50  # 25 hours
        with pytest.warns(DataRepairWarning, match="4 rows in the repeated hour"):
            volumes = read_volumes(path, timezone=TZ)
        out, report = regularise_quiet(volumes, interval_s=1800, hours=OpeningHours.always())
        assert len(out) == 48 and report.queues["volumes"].filled_rows == 0
        assert out.set_index("ds").loc["2025-10-26 01:00", "y"] == 1  # one hour's volume
        assert out["y"].sum() == 48

    def test_timezone_is_taken_from_read_volumes(self, tmp_path):
        v = read_volumes(write(tmp_path, "timestamp,volume\n2026-03-29 00:30,1\n"
                                         "2026-03-29 02:00,1\n2026-03-29 02:30,1\n"), timezone=TZ)
        out, _ = regularise_quiet(v, interval_s=1800, hours=OpeningHours.always())
        assert not out["ds"].isin(pd.to_datetime(["2026-03-29 01:00",
                                                  "2026-03-29 01:30"])).any()

    def test_coarser_or_misaligned_data_is_rejected(self):
        hourly = table(pd.date_range("2025-09-01", periods=5, freq="60min"), [1] * 5)
        with pytest.raises(DataValidationError, match="every 60 min, coarser than the 30-min"):
            regularise(hourly, interval_s=1800)
        six = table(pd.date_range("2025-09-01", periods=5, freq="6min"), [1] * 5)
        with pytest.raises(DataValidationError, match="does not add up to the 15-minute"):
            regularise(six, interval_s=900)

    def test_input_is_not_mutated(self):
        t = table(pd.date_range("2025-09-01 08:00", periods=12, freq="5min"), np.ones(12),
                  aht_s=np.full(12, 300.0))
        before = t.copy()
        regularise_quiet(t, interval_s=1800)
        pd.testing.assert_frame_equal(t, before)


# --------------------------------------------------------------------------- future grid


def test_future_grid_follows_opening_hours_and_horizon():
    hours = OpeningHours(((480, 1200),) * 5 + ((540, 1020), None))
    g = future_grid(pd.Timestamp("2026-11-14 16:30"), days=42, interval_s=1800,
                    hours=hours, timezone=TZ)
    assert g[0] == pd.Timestamp("2026-11-16 08:00")  # Sunday closed
    assert g[-1] == pd.Timestamp("2026-12-26 16:30")
    assert g.dtype == "datetime64[ns]"
    assert hours.is_open(g).all()
    assert len(g) == 30 * 24 + 6 * 16  # 30 weekdays and 6 Saturdays


def test_future_grid_includes_the_rest_of_the_last_day():
    g = future_grid("2026-11-16 12:00", days=1, interval_s=3600, hours=None, timezone=None)
    assert g[0] == pd.Timestamp("2026-11-16 13:00") and len(g) == 11 + 24


def test_future_grid_skips_non_existent_local_times():
    g = future_grid("2026-03-28 23:30", days=1, interval_s=1800, hours=OpeningHours.always(),
                    timezone=TZ)
    assert len(g) == 46
    assert pd.Timestamp("2026-03-29 01:00") not in g
    fall = future_grid("2026-10-24 23:30", days=1, interval_s=1800,
                       hours=OpeningHours.always(), timezone=TZ)
    assert len(fall) == 48  # the repeated hour is one local interval


# --------------------------------------------------------------------------- example & real


def test_example_centre_reads_through_its_config(fixtures_dir):
    cfg = load_config(fixtures_dir / "example" / "centre.toml")
    v = read_volumes_for(cfg)
    assert sorted(v["queue"].unique()) == ["chat", "email", "social", "voice"]
    out, report = regularise_quiet(v, interval_s=cfg.interval_s,
                                   hours=hours_for(cfg, v["queue"].unique()))
    assert report.filled_rows == 0 and report.dropped_volume == 0
    per_day = out.groupby("queue")["ds"].agg(lambda s: s.dt.normalize().nunique())
    assert per_day["email"] == per_day["social"] == 441  # 2025-09-01 .. 2026-11-15
    assert report.queues["email"].hours == OpeningHours.always()
    assert report.queues["voice"].hours == cfg.queue("voice").hours


@pytest.mark.realdata
def test_bank_calls_loads_with_its_column_names_and_z_as_local(shared_data):
    v = read_volumes(shared_data("bank_calls_5min.csv"), timestamp_column="DateTime",
                     volume_column="Calls", timestamps="local")
    assert len(v) == 27_716 and v["queue"].iloc[0] == "bank_calls_5min"
    assert v["ds"].iloc[0] == pd.Timestamp("2003-03-03 07:00")  # the Z is not converted
    assert infer_interval_s(v) == 300
    out, report = regularise_quiet(v, interval_s=1800)
    q = report.queues["bank_calls_5min"]
    assert [d.strftime("%Y-%m-%d") for d in q.missing_days] == [
        "2003-04-04", "2003-04-07", "2003-05-26", "2003-07-04", "2003-09-01", "2003-10-14"]
    assert q.hours.by_weekday[5:] == (None, None)  # weekends closed, not missing
    assert q.filled_rows == 6 * len(out) // (164 + 6)  # six whole days of slots
    assert out.loc[~out["filled"], "y"].sum() == pytest.approx(v["y"].sum())
    text = str(describe_volumes(v, report))
    assert "missing whole days (6, filled)" in text and "27,716 rows" in text


# --------------------------------------------------------------------------- example generator


@pytest.fixture(scope="module")
def make_example(fixtures_dir):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_example",
                                                  fixtures_dir / "make_example.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_regenerates_byte_identical(make_example, fixtures_dir, tmp_path):
    written = make_example.write_example(tmp_path)
    committed = fixtures_dir / "example"
    for name, path in written.items():
        assert path.read_bytes() == (committed / name).read_bytes(), name
    assert sum(p.stat().st_size for p in written.values()) < 2_000_000


def test_example_bank_holidays_match_the_calendar(make_example):
    hol = holiday_events("GB", "2025-09-01", "2026-12-28", subdivision="ENG")
    assert [(d.strftime("%Y-%m-%d"), n) for d, n in zip(hol["start"], hol["name"],
                                                         strict=True)] == \
        list(make_example.BANK_HOLIDAYS)


def test_example_truth_matches_the_events_file(fixtures_dir):
    truth = json.loads((fixtures_dir / "example" / "truth.json").read_text())
    ev = read_events(fixtures_dir / "example" / "events.csv")
    got = sorted((r["name"], r["start"].isoformat(), r["end"].isoformat(),
                  None if pd.isna(r["queue"]) else r["queue"]) for _, r in ev.iterrows())
    want = sorted((e["name"], e["start"], e["end"], e["queue"]) for e in truth["events"])
    assert got == want
    assert truth["effects"]["outage"]["voice"]["lift"] > 1
    assert truth["effects"]["holiday"]["voice"]["closed_on"] == ["Christmas Day"]


def test_example_data_carries_its_true_effects(fixtures_dir, make_example):
    v = read_volumes(fixtures_dir / "example" / "volumes.csv.gz")
    voice = v[v["queue"] == "voice"].set_index("ds")["y"]
    daily = voice.groupby(voice.index.normalize()).sum()
    assert daily[pd.Timestamp("2025-12-25")] == 0  # closed on Christmas Day
    # first day of the handset launch (a Monday) against the Mondays around it
    mondays = [pd.Timestamp("2026-08-24"), pd.Timestamp("2026-09-07"),
               pd.Timestamp("2026-09-28"), pd.Timestamp("2026-10-05")]
    ratio = daily[pd.Timestamp("2026-09-14")] / np.mean([daily[d] for d in mondays])
    lift = make_example.EVENT_EFFECTS["campaign"]["voice"]["lift"]
    assert 1 + 0.6 * (lift - 1) < ratio < 1 + 1.3 * (lift - 1)
    # totals agree with the generator's expected rate (Poisson noise is tiny in aggregate)
    idx = pd.DatetimeIndex(voice.index)
    expected = make_example.expected_rate("voice", idx).sum()
    assert voice.sum() == pytest.approx(expected, rel=0.005)


def test_reading_stamped_inside_the_spring_forward_gap_is_dropped_and_counted():
    t = table(["2026-03-29 00:30", "2026-03-29 01:00", "2026-03-29 02:00"], [1, 4, 1])
    out, report = regularise_quiet(t, interval_s=1800, hours=OpeningHours.always(),
                                   timezone=TZ)
    assert report.queues["q"].dropped_volume == 4
    assert pd.Timestamp("2026-03-29 01:00") not in set(out["ds"])
