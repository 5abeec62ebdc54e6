"""`wfm check`: validate data without planning."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from forecast.cli import wfm

DATA = Path(__file__).parent / "data"


def run(*args: str):
    return CliRunner().invoke(wfm, ["check", *map(str, args)])


def test_example_centre_via_config(fixtures_dir):
    res = run("--config", fixtures_dir / "example" / "centre.toml")
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "63,248 rows, 4 queue(s): chat, email, social, voice" in out
    assert "span 2025-09-01 00:00 to 2026-11-15 23:30 (441 days), data every 30 min" in out
    assert "hours (given): mon 08:00-20:00" in out  # voice
    assert "gaps filled: none" in out
    assert "4 campaign, 10 holiday, 4 outage, 1 release" in out
    assert "future events in the 42-day horizon (3):" in out
    assert "Black Friday 2026 (all queues)" in out
    assert "Boxing Day (observed)" not in out  # 2026-12-28 is after the horizon
    assert out.rstrip().endswith("ok: the data can be planned")


def test_volumes_file_with_events(fixtures_dir):
    ex = fixtures_dir / "example"
    res = run(ex / "volumes.csv.gz", "--events", ex / "events.csv", "--queue", "social")
    assert res.exit_code == 0, res.output
    assert "1 queue(s): social" in res.stdout
    assert "hours (inferred): mon 00:00-24:00" in res.stdout
    assert "future events (3):" in res.stdout  # from the file; no config, no calendar
    assert "Black Friday 2026" in res.stdout


def test_bad_volume_exits_1_with_one_line(tmp_path):
    path = tmp_path / "v.csv"
    path.write_text("timestamp,volume\n2025-09-01 08:00,1\n2025-09-01 08:30,1\n"
                    "2025-09-01 09:00,1\n2025-09-01 09:30,lots\n")
    res = run(path)
    assert res.exit_code == 1
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert lines == [f"error: {path}, row 5, column 'volume': 'lots' is not a number; "
                     "expected a volume"]


def test_bad_events_exit_1(fixtures_dir):
    res = run(fixtures_dir / "example" / "volumes.csv.gz", "--events",
              DATA / "events_unknown_type.csv")
    assert res.exit_code == 1
    assert "row 3, column 'type': unknown type 'weather'" in res.stderr


def test_bad_config_exit_1(tmp_path):
    path = tmp_path / "centre.toml"
    path.write_text('[data]\nvolumes = "v.csv"\n[queues.v]\nchannel = "fax"\n')
    res = run("--config", path)
    assert res.exit_code == 1
    assert "key 'queues.v.channel': unknown channel 'fax'" in res.stderr


def test_usage_errors_exit_2(fixtures_dir):
    assert run().exit_code == 2
    volumes = fixtures_dir / "example" / "volumes.csv.gz"
    bad_tz = run(volumes, "--timezone", "Mars/Base")
    assert bad_tz.exit_code == 2 and "unknown time zone 'Mars/Base'" in bad_tz.stderr
    assert run(volumes, "--interval", "7").exit_code == 2


def test_column_mapping_and_timestamp_mode(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("rownames,DateTime,Calls\n1,2003-03-03T07:00:00Z,11\n"
                    "2,2003-03-03T07:05:00Z,12\n")
    plain = run(path, "--timestamp-column", "DateTime", "--volume-column", "Calls")
    assert plain.exit_code == 1 and "UTC offset" in plain.stderr
    local = run(path, "--timestamp-column", "DateTime", "--volume-column", "Calls",
                "--timestamps", "local")
    assert local.exit_code == 0, local.output
    assert "span 2003-03-03 07:00 to 2003-03-03 07:05" in local.stdout
    converted = run(path, "--timestamp-column", "DateTime", "--volume-column", "Calls",
                    "--timezone", "America/New_York")
    assert "span 2003-03-03 02:00" in converted.stdout


def test_help_is_a_planners_guide():
    res = CliRunner().invoke(wfm, ["check", "--help"])
    assert res.exit_code == 0
    for text in ("--timestamp-column", "--timestamps", "--interval", "Exit code 0",
                 "wfm check --config centre.toml"):
        assert text in res.output


@pytest.mark.realdata
def test_bank_calls_reports_its_missing_weekdays(shared_data):
    res = run(shared_data("bank_calls_5min.csv"), "--timestamp-column", "DateTime",
              "--volume-column", "Calls", "--timestamps", "local", "--interval", "30")
    assert res.exit_code == 0, res.output
    assert "missing whole days (6, filled): 2003-04-04 Fri, 2003-04-07 Mon, 2003-05-26 Mon, " \
           "2003-07-04 Fri, 2003-09-01 Mon, 2003-10-14 Tue" in res.stdout
    assert "sat closed, sun closed" in res.stdout


@pytest.mark.parametrize("volumes, events, message", [
    ("queue,timestamp,volume,aht_s\nvoice,2025-09-25 17:30,3,375.1\n"
     "voice,2025-09-25 18:00,1,234,375.1\n", None, "row 3: 5 fields, expected 4"),
    ("queue,timestamp,volume,aht_s,volume\nvoice,2025-09-25 17:30,3,375.1,4\n", None,
     "duplicate column 'volume'"),
    ("timestamp,volume\n" + "".join(f"{d:02d}/02/26 {h:02d}:00,5\n" for d in range(1, 13)
                                    for h in range(24)), None, "cannot tell day from month"),
    ("timestamp,volume\n2025-09-25 17:30,3\n2025-09-25 18:00,3\n",
     "name,type,start,end,queue,weight\nP,campaign,2025-11-28,2025-12-04,,1,\n",
     "row 2: 7 fields, expected 6"),
])
def test_review_repros_exit_1_with_one_line_and_no_traceback(tmp_path, volumes, events,
                                                             message):
    path = tmp_path / "v.csv"
    path.write_text(volumes)
    args = [path]
    if events is not None:
        (tmp_path / "e.csv").write_text(events)
        args += ["--events", tmp_path / "e.csv"]
    res = run(*args)
    assert res.exit_code == 1, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
    assert "Traceback" not in res.output and res.stdout == ""
