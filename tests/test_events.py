"""forecast.events: the events table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from forecast.events import (
    EVENT_COLUMNS,
    EVENT_TYPES,
    add_event,
    combine_events,
    empty_events,
    events_for_queue,
    events_in,
    holiday_events,
    read_events,
)
from forecast.exceptions import ConfigError, DataValidationError

DATA = Path(__file__).parent / "data"
T = pd.Timestamp


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "events.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_events_file(fixtures_dir):
    ev = read_events(fixtures_dir / "example" / "events.csv")
    assert tuple(ev.columns) == EVENT_COLUMNS
    assert set(ev["type"]) <= set(EVENT_TYPES)
    assert ev["start"].dtype == "datetime64[ns]" and ev["weight"].dtype == "float64"
    bf = ev[ev["name"] == "Black Friday 2026"].iloc[0]
    assert bf["start"] == T("2026-11-27") and bf["end"] == T("2026-12-04")  # end day inclusive
    assert pd.isna(bf["queue"])
    outage = ev[ev["name"] == "Billing system outage"]
    assert sorted(outage["queue"]) == ["social", "voice"]
    assert (outage["end"] == T("2026-06-10 14:00")).all()
    assert ev["start"].is_monotonic_increasing


def test_date_only_and_missing_end(tmp_path):
    ev = read_events(write(tmp_path, "name,type,start,end\n"
                                     "Xmas,holiday,2026-12-25,\n"
                                     "Promo,campaign,2026-11-27 18:00,\n"
                                     "Sale,campaign,2026-11-27,2026-11-28\n"))
    got = {r["name"]: (r["start"], r["end"]) for _, r in ev.iterrows()}
    assert got["Xmas"] == (T("2026-12-25"), T("2026-12-26"))
    assert got["Promo"] == (T("2026-11-27 18:00"), T("2026-11-28 18:00"))
    assert got["Sale"] == (T("2026-11-27"), T("2026-11-29"))


def test_optional_columns_default(tmp_path):
    ev = read_events(write(tmp_path, "name,type,start\nLaunch,release,2026-05-12\n"))
    assert ev["weight"].tolist() == [1.0] and ev["queue"].isna().all()
    assert ev["end"].iloc[0] == T("2026-05-13")


def test_unknown_type_lists_allowed_types():
    with pytest.raises(DataValidationError) as err:
        read_events(DATA / "events_unknown_type.csv")
    msg = str(err.value)
    assert "row 3" in msg and "column 'type'" in msg and "unknown type 'weather'" in msg
    assert "campaign, outage, holiday, release, other" in msg


@pytest.mark.parametrize("line, row_col, reason", [
    ("Sale,campaign,2026-11-27 10:00,2026-11-27 09:00,,1", "column 'end'", "not after start"),
    ("Sale,campaign,2026-11-27,2026-11-28,,-1", "column 'weight'", "weight '-1'"),
    ("Sale,campaign,2026-11-27,2026-11-28,,lots", "column 'weight'", "weight 'lots'"),
    ("Sale,campaign,27th Nov,2026-11-28,,1", "column 'start'", "cannot read date '27th Nov'"),
    (",campaign,2026-11-27,2026-11-28,,1", "column 'name'", "empty name"),
    ("Sale,campaign,,2026-11-28,,1", "column 'start'", "empty date"),
])
def test_bad_rows_name_row_and_column(tmp_path, line, row_col, reason):
    path = write(tmp_path, "name,type,start,end,queue,weight\n"
                           "Ok,other,2026-01-01,2026-01-01,,1\n" + line + "\n")
    with pytest.raises(DataValidationError) as err:
        read_events(path)
    msg = str(err.value)
    assert f"row 3, {row_col}" in msg and reason in msg and "\n" not in msg


def test_missing_and_unknown_columns(tmp_path):
    with pytest.raises(DataValidationError, match="missing required column 'type'"):
        read_events(write(tmp_path, "name,start\nx,2026-01-01\n"))
    with pytest.raises(DataValidationError, match="unknown column 'colour'"):
        read_events(write(tmp_path, "name,type,start,colour\nx,other,2026-01-01,red\n"))


def test_header_only_is_an_empty_table(tmp_path):
    ev = read_events(write(tmp_path, "name,type,start,end,queue,weight\n"))
    assert ev.empty and tuple(ev.columns) == EVENT_COLUMNS


def test_holiday_events_from_the_calendar():
    hol = holiday_events("GB", "2026-01-01", "2027-01-01", subdivision="ENG")
    assert (hol["type"] == "holiday").all()
    xmas = hol[hol["start"] == T("2026-12-25")].iloc[0]
    assert xmas["name"] == "Christmas Day" and xmas["end"] == T("2026-12-26")
    assert T("2026-04-06") in set(hol["start"])  # Easter Monday in England
    scotland = holiday_events("GB", "2026-01-01", "2027-01-01", subdivision="SCT")
    assert T("2026-01-02") in set(scotland["start"]) and T("2026-01-02") not in set(
        hol["start"])
    with pytest.raises(ConfigError, match="unknown country code 'XX'"):
        holiday_events("XX", "2026-01-01", "2027-01-01")


def test_an_unknown_holiday_subdivision_is_named_as_the_subdivision_not_the_country():
    with pytest.raises(ConfigError) as err:
        holiday_events("GB", "2026-01-01", "2027-01-01", subdivision="XYZ")
    assert err.value.key == "centre.holidays_subdivision"
    assert "unknown subdivision 'XYZ' of GB; expected one of ENG, NIR, SCT, WLS" in str(err.value)
    assert "country code" not in str(err.value)
    with pytest.raises(ConfigError) as err:  # a bad country is reported first
        holiday_events("XX", "2026-01-01", "2027-01-01", subdivision="XYZ")
    assert err.value.key == "centre.holidays_country" and "'XX'" in str(err.value)


def test_combine_keeps_a_holiday_once_file_first(fixtures_dir):
    ev = read_events(fixtures_dir / "example" / "events.csv")
    hol = holiday_events("GB", "2025-09-01", "2027-01-01", subdivision="ENG")
    both = combine_events(ev, hol)
    assert len(both[both["start"] == T("2025-12-25")]) == 1
    assert both["name"].str.contains("observed").sum() == 1  # only in the calendar
    assert len(both) == len(ev) + 1
    assert combine_events().empty and combine_events(None, empty_events()).empty


def test_queue_and_window_selection():
    ev = add_event(None, "Outage", "outage", "2026-01-20 14:00", "2026-01-20 19:00",
                   queue="voice")
    ev = add_event(ev, "Sale", "campaign", "2026-11-27", "2026-12-03")
    assert events_for_queue(ev, "voice")["name"].tolist() == ["Outage", "Sale"]
    assert events_for_queue(ev, "chat")["name"].tolist() == ["Sale"]
    assert events_in(ev, "2026-01-20 19:00", "2026-02-01").empty  # end is exclusive
    assert events_in(ev, "2026-01-20 18:59", "2026-02-01")["name"].tolist() == ["Outage"]
    assert events_in(ev, "2026-12-03 23:00", "2026-12-10")["name"].tolist() == ["Sale"]


def test_add_event_returns_a_new_table_and_validates():
    base = add_event(None, "Sale", "campaign", "2026-11-27")
    more = add_event(base, "Xmas", "HOLIDAY", "2026-12-25", "2026-12-26", weight=0.5)
    assert len(base) == 1 and len(more) == 2
    row = more[more["name"] == "Xmas"].iloc[0]
    assert row["type"] == "holiday" and row["end"] == T("2026-12-27") and row["weight"] == 0.5
    assert base["end"].iloc[0] == T("2026-11-28")
    with pytest.raises(DataValidationError, match="unknown event type 'party'"):
        add_event(base, "x", "party", "2026-01-01")
    with pytest.raises(DataValidationError, match="not after start"):
        add_event(base, "x", "other", "2026-01-02 10:00", "2026-01-02 09:00")
    with pytest.raises(DataValidationError, match="weight"):
        add_event(base, "x", "other", "2026-01-02", weight=-1)


def test_dates_outside_pandas_range_are_one_line_errors(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("name,type,start,end\nX,campaign,2026-11-20,9999-12-31\n")
    with pytest.raises(DataValidationError, match=r"row 2, column 'end': date '9999-12-31' is "
                                                  r"outside the years 1900 to 2199"):
        read_events(path)
    with pytest.raises(DataValidationError, match="outside the years"):
        add_event(None, "X", "campaign", "2026-11-20", "9999-12-31")


HEADER = "name,type,start,end,queue,weight\n"


def test_a_row_with_an_extra_field_names_the_row_and_the_field_counts(tmp_path):
    path = write(tmp_path, HEADER + "Sale,campaign,2026-11-20,2026-11-22,,1\n"
                                    "Promo,campaign,2026-11-27,2026-12-04,,1,\n")
    with pytest.raises(DataValidationError,
                       match=r"events.csv, row 3: 7 fields, expected 6 like the header"):
        read_events(path)


def test_a_trailing_comma_on_every_line_is_an_absent_column(tmp_path):
    path = write(tmp_path, HEADER.replace("\n", ",\n")
                 + "Promo,campaign,2026-11-27,2026-12-04,voice,0.5,\n")
    ev = read_events(path)
    assert tuple(ev.columns) == EVENT_COLUMNS
    assert ev.iloc[0][["queue", "weight"]].tolist() == ["voice", 0.5]


def test_an_unnamed_column_with_values_and_a_repeated_column_are_refused(tmp_path):
    with pytest.raises(DataValidationError, match=r"column 7 has an empty name"):
        read_events(write(tmp_path, HEADER.replace("\n", ",\n")
                          + "Promo,campaign,2026-11-27,2026-12-04,,1,x\n"))
    with pytest.raises(DataValidationError, match=r"duplicate column 'type'"):
        read_events(write(tmp_path, "name,type,start,type\nPromo,campaign,2026-11-27,x\n"))


def test_an_end_before_the_start_is_named_as_written_with_the_date_only_rule(tmp_path):
    with pytest.raises(DataValidationError,
                       match=r"^event 'X': end 2026-12-01 is before start 2026-12-05; .*"
                             r"a date-only end includes that whole day"):
        add_event(None, "X", "campaign", "2026-12-05", "2026-12-01")
    with pytest.raises(DataValidationError, match=r"row 2, column 'end': end 2026-11-20 is "
                                                  r"before start 2026-11-22;.*whole day"):
        read_events(write(tmp_path, HEADER + "P,campaign,2026-11-22,2026-11-20,,1\n"))
    with pytest.raises(DataValidationError, match=r"end 2026-12-05 08:00 is not after start "
                                                  r"2026-12-05 09:00"):
        add_event(None, "X", "campaign", "2026-12-05 09:00", "2026-12-05 08:00")
