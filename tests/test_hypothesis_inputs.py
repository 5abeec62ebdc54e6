"""Property tests: hostile volume, event and config files never crash, hang or slip through.

For any file built from a valid export by random damage (columns dropped, renamed or
added; rows shuffled, repeated or altered; cells replaced by negative, fractional,
absurd, non-numeric or empty values; timestamps with offsets, in the spring-forward
gap, in the repeated fall-back hour, off the grid; BOM, CRLF, Latin-1, ``;`` with
decimal commas, gzip whole or cut short), reading either

* returns a table that satisfies the contract (sorted, one row per queue and
  interval, volumes finite, >= 0 and within the plausibility bound), or
* raises :class:`DataValidationError` with a one-line message naming the file,

and nothing else. Transformations that do not damage the data (shuffling, BOM,
CRLF, gzip, extra columns, a different separator) give exactly the same table.
"""

from __future__ import annotations

import gzip
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from forecast.config import CHANNELS, config_from_dict
from forecast.data import DEFAULT_MAX_VOLUME, read_volumes, regularise
from forecast.events import EVENT_TYPES, read_events
from forecast.exceptions import ConfigError, DataRepairWarning, DataValidationError

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
TZ = "Europe/London"

# --------------------------------------------------------------------------- volumes


def base_rows(n_days: int, queues: tuple[str, ...], start: str) -> list[list[str]]:
    rows = []
    for day in pd.date_range(start, periods=n_days, freq="D"):
        for t in pd.date_range(day + pd.Timedelta(hours=8), periods=6, freq="30min"):
            for q in queues:
                rows.append([q, t.strftime("%Y-%m-%d %H:%M"), str(10 + t.hour), "300.5"])
    return rows


HEADER = ["queue", "timestamp", "volume", "aht_s"]

bad_numbers = st.sampled_from(["-3", "2.5", "1e12", "abc", "", "NaN", "inf", "-0", "1,5",
                               "12 ", " 7", "0x10", "1e400", "NULL"])
bad_stamps = st.sampled_from([
    "2026-03-29 01:30",           # inside the spring-forward gap in London
    "2025-10-26 01:30",           # the fall-back hour happens twice
    "2026-11-09T08:00:00Z", "2026-11-09 08:00+01:00",  # offsets among naive times
    "2026-11-09 08:07",           # off the 30-minute grid
    "1900-01-01 08:00",           # a stray date
    "09/11/2026 08:00", "not a time", "", "2026-11-09 08:3", "2026-13-40 08:00",
    "0001-01-01 08:00", "9999-12-31 23:30", "2262-04-12 08:00",  # beyond pandas' range
])
damage = st.one_of(
    st.tuples(st.just("drop_column"), st.integers(0, 3)),
    st.tuples(st.just("rename_column"), st.integers(0, 3)),
    st.tuples(st.just("extra_column"), st.text(max_size=5)),
    st.tuples(st.just("duplicate_row"), st.integers(0, 10_000)),
    st.tuples(st.just("conflicting_row"), st.integers(0, 10_000)),
    st.tuples(st.just("volume"), st.tuples(st.integers(0, 10_000), bad_numbers)),
    st.tuples(st.just("aht"), st.tuples(st.integers(0, 10_000), bad_numbers)),
    st.tuples(st.just("stamp"), st.tuples(st.integers(0, 10_000), bad_stamps)),
    st.tuples(st.just("queue"), st.tuples(st.integers(0, 10_000),
                                          st.sampled_from(["", " ", "réclamations", "Total"]))),
    st.tuples(st.just("totals_row"), st.just(None)),
    st.tuples(st.just("repeat_header"), st.integers(0, 10_000)),
    st.tuples(st.just("truncate"), st.integers(1, 40)),
    st.tuples(st.just("random_cell"), st.tuples(st.integers(0, 10_000), st.integers(0, 3),
                                                st.text(max_size=12))),
    st.tuples(st.just("header_only"), st.just(None)),
    st.tuples(st.just("empty"), st.just(None)),
)
wrapping = st.sampled_from(["plain", "bom", "crlf", "latin1", "semicolon", "gzip",
                            "gzip_truncated"])


def render(header: list[str], rows: list[list[str]], sep: str = ",", end: str = "\n") -> str:
    return end.join(sep.join(r) for r in [header, *rows]) + end


def apply(damages, rows: list[list[str]]) -> tuple[list[str], list[list[str]], int]:
    header = list(HEADER)
    rows = [list(r) for r in rows]
    cut = 0
    for kind, arg in damages:
        n = len(rows)
        if kind == "drop_column" and arg < len(header):
            header.pop(arg)
            for r in rows:
                if arg < len(r):
                    r.pop(arg)
        elif kind == "rename_column" and arg < len(header):
            header[arg] = header[arg].upper() + "_x"
        elif kind == "extra_column":
            header.append("extra" + "".join(c for c in arg if c.isalnum()))
            for r in rows:
                r.append("x")
        elif kind == "duplicate_row" and n:
            rows.insert(arg % n, list(rows[arg % n]))
        elif kind == "conflicting_row" and n and len(header) > 2:
            twin = list(rows[arg % n])
            twin[2] = "99999"
            rows.append(twin)
        elif kind in ("volume", "aht", "stamp", "queue") and n:
            i, value = arg
            col = {"queue": 0, "stamp": 1, "volume": 2, "aht": 3}[kind]
            if col < len(rows[i % n]):
                rows[i % n][col] = value
        elif kind == "totals_row":
            rows.append(["Total", "", "12345", ""][: len(header)])
        elif kind == "repeat_header" and n:
            rows.insert(arg % n, list(header))
        elif kind == "truncate":
            cut = arg
        elif kind == "random_cell" and n:
            i, col, value = arg
            if col < len(rows[i % n]):
                rows[i % n][col] = value.replace(",", " ").replace("\n", " ").replace("\r", " ")
        elif kind == "header_only":
            rows = []
        elif kind == "empty":
            header, rows = [], []
    return header, rows, cut


def encode(header, rows, wrap: str, cut: int) -> tuple[bytes, str]:
    if not header:
        return b"", "volumes.csv"
    if wrap == "semicolon":
        rows = [[c.replace(".", ",") if i == 3 else c for i, c in enumerate(r)] for r in rows]
        text = render(header, rows, sep=";")
    else:
        text = render(header, rows, end="\r\n" if wrap == "crlf" else "\n")
    data = text.encode("latin-1", errors="replace") if wrap == "latin1" else text.encode()
    if wrap == "bom":
        data = b"\xef\xbb\xbf" + data
    if cut:
        data = data[:-cut]
    if wrap.startswith("gzip"):
        data = gzip.compress(data)
        if wrap == "gzip_truncated":
            data = data[: len(data) // 2]
        return data, "volumes.csv.gz"
    return data, "volumes.csv"


def assert_contract(table: pd.DataFrame) -> None:
    assert list(table.columns[:3]) == ["queue", "ds", "y"]
    assert str(table["ds"].dtype) == "datetime64[ns]"
    y = table["y"].to_numpy()
    assert y.dtype == np.float64
    assert np.isfinite(y).all() and (y >= 0).all() and (y <= DEFAULT_MAX_VOLUME).all()
    assert not table.duplicated(["queue", "ds"]).any()
    key = list(zip(table["queue"], table["ds"], strict=True))
    assert key == sorted(key)
    assert (table["queue"].str.strip() != "").all()
    if "aht_s" in table.columns:
        a = table["aht_s"].to_numpy()
        assert ((a >= 0) | np.isnan(a)).all()


def read_outcome(path: Path, timezone: str | None):
    """('ok', table) or ('error', message); any other exception fails the test."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataRepairWarning)
            return "ok", read_volumes(path, timezone=timezone)
    except DataValidationError as exc:
        return "error", str(exc)


@SETTINGS
@given(days=st.integers(1, 9), n_queues=st.integers(1, 3),
       start=st.sampled_from(["2026-11-09", "2026-03-27", "2025-10-24"]),
       damages=st.lists(damage, max_size=4), wrap=wrapping,
       timezone=st.sampled_from([None, TZ]))
def test_damaged_volume_files_are_read_correctly_or_rejected_in_one_line(
        days, n_queues, start, damages, wrap, timezone):
    queues = ("voice", "chat", "email")[:n_queues]
    header, rows, cut = apply(damages, base_rows(days, queues, start))
    data, name = encode(header, rows, wrap, cut)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        outcome, value = read_outcome(path, timezone)
        event(outcome if outcome == "ok" else value.split(": ", 1)[-1][:30])
        if outcome == "error":
            assert "\n" not in value and value.startswith(str(path))
            return
        assert_contract(value)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DataRepairWarning)
                grid, _ = regularise(value, interval_s=1800)
        except DataValidationError as exc:
            assert "\n" not in str(exc)
            return
        assert not grid.duplicated(["queue", "ds"]).any()
        assert np.isfinite(grid["y"]).all()


@SETTINGS
@given(days=st.integers(1, 9), n_queues=st.integers(1, 3), seed=st.integers(0, 2**16),
       wrap=st.sampled_from(["plain", "bom", "crlf", "semicolon", "gzip"]),
       extra=st.booleans(), fractional=st.booleans())
def test_harmless_transformations_give_the_same_table(days, n_queues, seed, wrap, extra,
                                                      fractional):
    queues = ("voice", "chat", "email")[:n_queues]
    rows = base_rows(days, queues, "2026-11-09")
    if fractional:
        rows = [[q, t, f"{float(v) + 0.25}", a] for q, t, v, a in rows]
    with tempfile.TemporaryDirectory() as folder:
        clean = Path(folder) / "clean.csv"
        clean.write_text(render(HEADER, rows))
        expected = read_volumes(clean)
        shuffled = [rows[i] for i in np.random.default_rng(seed).permutation(len(rows))]
        header = list(HEADER)
        if extra:
            header = ["site", *HEADER, "note"]
            shuffled = [["north", *r, "ok"] for r in shuffled]
        data, name = encode(header, shuffled, wrap, 0)
        path = Path(folder) / name
        path.write_bytes(data)
        got = read_volumes(path)
    pd.testing.assert_frame_equal(got, expected)


@settings(max_examples=40, deadline=None)
@given(volume=st.floats(min_value=0, max_value=1e15, allow_nan=False),
       bound=st.sampled_from([None, 10.0, 1e6, 1e13]))
def test_the_plausibility_bound_rejects_exactly_the_rows_above_it(volume, bound):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "v.csv"
        path.write_text(f"timestamp,volume\n2026-11-09 08:00,1\n2026-11-09 08:30,{volume!r}\n")
        if bound is not None and volume > bound:
            with pytest.raises(DataValidationError, match=r"row 3, column 'volume': .*"
                                                         r"implausibly large"):
                read_volumes(path, max_volume=bound)
        else:
            assert read_volumes(path, max_volume=bound)["y"].iloc[1] == volume


# --------------------------------------------------------------------------- events

cells = st.one_of(st.text(max_size=12), st.sampled_from([
    "2026-11-20", "2026-11-20 08:00", "2026-11-19", "", "2026-02-30", "20/11/2026",
    "2026-11-20T08:00:00Z", "-1", "1", "0.5", "inf", "nan", *EVENT_TYPES, "Campaign",
    "9999-12-31", "0001-01-01 08:00"]))


@SETTINGS
@given(rows=st.lists(st.lists(cells, min_size=6, max_size=6), max_size=5),
       drop=st.sampled_from([None, "end", "queue", "weight", "type"]))
def test_damaged_events_files_are_read_correctly_or_rejected_in_one_line(rows, drop):
    header = ["name", "type", "start", "end", "queue", "weight"]
    keep = [i for i, h in enumerate(header) if h != drop]
    text = ",".join(header[i] for i in keep) + "\n" + "".join(
        ",".join(r[i].replace(",", " ").replace("\n", " ").replace("\r", " ")
                 .replace('"', " ") for i in keep) + "\n" for r in rows)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "events.csv"
        path.write_text(text)
        try:
            events = read_events(path)
        except DataValidationError as exc:
            assert "\n" not in str(exc) and str(exc).startswith(str(path))
            return
    assert list(events.columns) == ["name", "type", "start", "end", "queue", "weight"]
    assert (events["end"] > events["start"]).all()
    assert events["type"].isin(EVENT_TYPES).all()
    w = events["weight"].to_numpy()
    assert np.isfinite(w).all() and (w >= 0).all()


# --------------------------------------------------------------------------- configs

VALID = {
    "centre": {"name": "c", "timezone": "Europe/London", "interval_min": 30},
    "data": {"volumes": "v.csv"},
    "forecast": {"model": "slot_mean", "horizon_days": 7, "quantiles": [0.1, 0.9]},
    "defaults": {"service_level": 0.8, "answer_s": 20, "shrinkage": 0.3},
    "queues": {"voice": {"channel": "voice", "aht_s": 300, "hours": "08:00-20:00"}},
}
values = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                   st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=10),
                   st.sampled_from([*CHANNELS, "fax", "24h", "closed", "25:00-26:00",
                                    "08:00-07:00", 1.5, 0, 1, -0.1, 80]),
                   st.lists(st.floats(allow_nan=True), max_size=3),
                   st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))
paths = st.sampled_from([
    ("centre", "timezone"), ("centre", "interval_min"), ("centre", "hours_per_fte"),
    ("centre", "colour"), ("data", "volumes"), ("data", "max_volume"), ("data", "encoding"),
    ("data", "timestamp_format"), ("data", "timestamps"), ("forecast", "horizon_days"),
    ("forecast", "quantiles"), ("forecast", "model"), ("defaults", "service_level"),
    ("defaults", "shrinkage"), ("defaults", "max_occupancy"), ("defaults", "hours"),
    ("queues", "voice"), ("queues", "fax"), ("defaults", "patience_s"),
    ("defaults", "concurrency"), ("defaults", "servce_level"), ("top", "level"),
])


@settings(max_examples=120, deadline=None)
@given(changes=st.lists(st.tuples(paths, values), min_size=1, max_size=3))
def test_damaged_configs_load_or_fail_with_a_config_error(changes):
    import copy

    raw = copy.deepcopy(VALID)
    for (section, key), value in changes:
        if section == "top":
            raw[key] = value
        elif section == "queues" and key == "voice":
            raw["queues"]["voice"]["service_level"] = value
        else:
            raw.setdefault(section, {})[key] = value
    try:
        cfg = config_from_dict(raw)
    except ConfigError as exc:
        assert "\n" not in str(exc) and "key '" in str(exc)
        return
    for q in [cfg.defaults, *cfg.queues.values()]:
        assert 0 < q.service_level < 1
        assert 0 <= q.shrinkage < 1
        assert q.channel in CHANNELS
    assert cfg.data.max_volume > 0
    assert cfg.interval_s in (300, 600, 900, 1800, 3600)
