"""forecast.records: per-call ACD exports read into one records table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast.exceptions import DataValidationError
from forecast.records import RECORD_COLUMNS, read_call_records, validate_call_records

DATA = Path(__file__).parent / "data"


@pytest.fixture()
def technion() -> pd.DataFrame:
    return read_call_records(DATA / "records_technion.tsv", format="technion").set_index("call_id")


def test_technion_file_has_the_records_columns_sorted_by_arrival(technion):
    records = read_call_records(DATA / "records_technion.tsv")
    assert list(records.columns[: len(RECORD_COLUMNS)]) == list(RECORD_COLUMNS)
    assert records["arrival"].is_monotonic_increasing
    assert pd.api.types.is_datetime64_any_dtype(records["arrival"])


def test_answered_call_that_never_queued_arrives_when_it_leaves_the_vru(technion):
    call = technion.loc["1"]
    assert call["outcome"] == "answered"
    assert call["arrival"] == pd.Timestamp("1999-02-01 07:02:56")
    assert call["wait_s"] == 0
    assert call["handle_s"] == 166
    assert call["agent"] == "DORIT"
    assert not call["queued"]
    assert call["queue"] == "PS"


def test_hang_after_queueing_is_an_abandonment_with_its_queue_wait(technion):
    call = technion.loc["2"]
    assert call["outcome"] == "abandoned"
    assert call["wait_s"] == 5
    assert np.isnan(call["handle_s"])
    assert pd.isna(call["agent"])
    assert call["queued"]
    assert call["priority"] == 2


def test_queued_answered_call_keeps_wait_and_handle(technion):
    call = technion.loc["3"]
    assert (call["outcome"], call["wait_s"], call["handle_s"], call["agent"]) == (
        "answered",
        29,
        120,
        "TOVA",
    )
    assert call["arrival"] == pd.Timestamp("1999-02-01 14:18:41")


def test_vru_hangups_and_phantoms_are_dropped_and_counted():
    records = read_call_records(DATA / "records_technion.tsv")
    assert set(records["call_id"]) == {"1", "2", "3", "6", "7"}
    assert records.attrs["dropped"] == {"phantom": 1, "vru_hangup": 1}


def test_vru_hangups_can_be_kept_as_zero_wait_abandonments():
    records = read_call_records(DATA / "records_technion.tsv", keep_vru_hangups=True)
    call = records.set_index("call_id").loc["4"]
    assert (call["outcome"], call["wait_s"], call["queued"]) == ("abandoned", 0.0, False)


def test_answered_without_server_name_has_missing_agent(technion):
    assert technion.loc["6", "outcome"] == "answered"
    assert pd.isna(technion.loc["6", "agent"])


def test_queue_entry_after_midnight_moves_to_the_next_day(technion):
    assert technion.loc["7", "arrival"] == pd.Timestamp("1999-02-02 00:00:05")


def test_bad_clock_time_names_file_line_and_column():
    path = DATA / "records_technion_bad.tsv"
    with pytest.raises(DataValidationError) as err:
        read_call_records(path)
    message = str(err.value)
    assert "\n" not in message
    assert str(path) in message and "row 3" in message and "column 'vru_entry'" in message
    assert "8:9:16x" in message and "H:MM:SS" in message


def test_unknown_outcome_is_reported_with_its_line(tmp_path):
    text = (DATA / "records_technion.tsv").read_text().replace("\tHANG\t", "\tHUNG\t", 1)
    path = tmp_path / "calls.tsv"
    path.write_text(text)
    with pytest.raises(DataValidationError, match=r"row 3, column 'outcome': got 'HUNG'"):
        read_call_records(path)


def test_missing_technion_column_lists_the_expected_layout(tmp_path):
    path = tmp_path / "calls.tsv"
    path.write_text("type\tdate\nPS\t990201\n")
    with pytest.raises(DataValidationError, match="missing column.*q_time"):
        read_call_records(path)


def test_missing_file_and_unknown_format_are_one_line_errors(tmp_path):
    with pytest.raises(DataValidationError, match="not found"):
        read_call_records(tmp_path / "nope.tsv")
    with pytest.raises(DataValidationError, match="unknown records format 'avaya'"):
        read_call_records(DATA / "records_technion.tsv", format="avaya")


def test_generic_csv_with_mapped_arrival_column():
    records = read_call_records(
        DATA / "records_generic.csv", format="generic", columns={"call_start": "arrival"}
    )
    assert len(records) == 4
    assert records["outcome"].tolist() == ["answered", "abandoned", "answered", "answered"]
    assert records["wait_s"].tolist() == [0.0, 35.5, 12.0, 0.0]
    assert np.isnan(records.loc[1, "handle_s"]) and records.loc[2, "handle_s"] == 180.5
    assert records["queue"].tolist() == ["billing", "billing", "sales", "billing"]
    assert records["queued"].tolist() == [False, True, True, False]
    assert records.loc[2, "arrival"] == pd.Timestamp("2024-03-04 09:01:10")


def test_generic_without_mapping_reports_the_missing_column():
    with pytest.raises(DataValidationError, match="missing column.*arrival"):
        read_call_records(DATA / "records_generic.csv", format="generic")


def test_generic_answered_call_needs_a_handle_time(tmp_path):
    path = tmp_path / "calls.csv"
    path.write_text(
        "arrival,wait_s,outcome,handle_s\n2024-01-01 08:00,0,answered,90\n"
        "2024-01-01 08:01,3,answered,\n"
    )
    with pytest.raises(DataValidationError, match=r"row 3, column 'handle_s'.*seconds >= 0"):
        read_call_records(path, format="generic")


def test_generic_negative_wait_is_rejected(tmp_path):
    path = tmp_path / "calls.csv"
    path.write_text("arrival,wait_s,outcome,handle_s\n2024-01-01 08:00,-4,abandoned,\n")
    with pytest.raises(DataValidationError, match=r"row 2, column 'wait_s': got '-4'"):
        read_call_records(path, format="generic")


def test_validate_call_records_rejects_bad_outcome():
    table = pd.DataFrame(
        {
            "queue": ["q"],
            "arrival": pd.to_datetime(["2024-01-01"]),
            "wait_s": [1.0],
            "outcome": ["lost"],
            "handle_s": [np.nan],
        }
    )
    with pytest.raises(DataValidationError, match="outcome.*answered or abandoned"):
        validate_call_records(table)


@pytest.mark.realdata
def test_real_technion_february_1999(shared_data):
    records = read_call_records(shared_data("technion_bank_calls_feb1999.tsv"))
    # 33,344 rows: 278 phantoms and 1,941 VRU hang-ups set aside
    assert len(records) == 33_344 - 278 - 1_941
    assert records.attrs["dropped"] == {"phantom": 278, "vru_hangup": 1_941}
    counts = records["outcome"].value_counts()
    assert counts["answered"] == 27_162 and counts["abandoned"] == 3_963
    assert set(records["queue"].unique()) == {"PS", "PE", "IN", "NE", "NW", "TT"}
    assert records["arrival"].min() >= pd.Timestamp("1999-02-01")
    assert records["arrival"].max() < pd.Timestamp("1999-03-01")
    answered = records[records["outcome"] == "answered"]
    assert 150 < answered["handle_s"].mean() < 200
    assert records["agent"].nunique() == 24
