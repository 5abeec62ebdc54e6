"""The events table: campaigns, outages, holidays, releases that move volume.

One table shape everywhere (learning the uplift is :mod:`forecast.event_effects`):

========  ==================================================================
name      str, what the event is ("Black Friday campaign")
type      one of :data:`EVENT_TYPES`
start     naive local Timestamp, inclusive
end       naive local Timestamp, exclusive (``end > start``)
queue     str, or missing (NA) = every queue
weight    float >= 0, scales the learned effect (default 1.0)
========  ==================================================================

In an events CSV, ``queue``, ``weight`` and ``end`` are optional columns. A date
without a time in ``start`` means 00:00 of that day; a date without a time in ``end``
means the *end* of that day (so ``2026-12-25,2026-12-26`` is two whole days); an empty
``end`` means one day from ``start``.

:data:`EVENT_TYPES` is the tuple of allowed ``type`` values: ``campaign``, ``outage``,
``holiday``, ``release``, ``other``. :data:`EVENT_COLUMNS` is the column order above.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from .config import check_holidays
from .exceptions import DataValidationError

__all__ = [
    "EVENT_TYPES",
    "EVENT_COLUMNS",
    "read_events",
    "empty_events",
    "holiday_events",
    "combine_events",
    "events_for_queue",
    "add_event",
    "events_in",
]

#: the allowed values of the ``type`` column
EVENT_TYPES = ("campaign", "outage", "holiday", "release", "other")
#: the columns of an events table, in order
EVENT_COLUMNS = ("name", "type", "start", "end", "queue", "weight")
TS_DTYPE = "datetime64[ns]"
_DATE_ONLY = r"^\d{4}-\d{1,2}-\d{1,2}$"
_ONE_DAY = pd.Timedelta(days=1)


def empty_events() -> pd.DataFrame:
    """An events table with no rows and the contract's columns and dtypes."""
    return pd.DataFrame({
        "name": pd.Series([], dtype="str"),
        "type": pd.Series([], dtype="str"),
        "start": pd.Series([], dtype=TS_DTYPE),
        "end": pd.Series([], dtype=TS_DTYPE),
        "queue": pd.Series([], dtype="str"),
        "weight": pd.Series([], dtype="float64"),
    })


def read_events(path: str | Path) -> pd.DataFrame:
    """Read and validate an events CSV.

    Parameters
    ----------
    path
        CSV with columns ``name, type, start`` and optionally ``end, queue, weight``
        (UTF-8 with or without BOM, any compression pandas infers).

    Returns
    -------
    DataFrame
        Columns ``name, type, start, end, queue, weight``, sorted by start then name.

    Raises
    ------
    DataValidationError
        One line naming file, row (header = line 1) and column: missing column, empty
        name, unknown type (lists the allowed ones), unreadable date, end not after
        start, weight not a number >= 0.
    """
    path = Path(path)
    if not path.is_file():
        raise DataValidationError("file not found", file=path)
    try:  # header=None: the header fixes the field count, a longer row is an error
        raw = pd.read_csv(path, dtype="str", header=None, keep_default_na=False,
                          encoding="utf-8-sig", compression="infer", skip_blank_lines=False)
    except pd.errors.EmptyDataError:
        raise DataValidationError("file is empty; expected a header: name,type,start,end"
                                  "[,queue,weight]", file=path) from None
    except UnicodeDecodeError as exc:
        raise DataValidationError(f"not UTF-8 text (byte {exc.start})", file=path) from None
    except Exception as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        long_row = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
        if long_row:
            expected, line, found = long_row.groups()
            raise DataValidationError(f"{found} fields, expected {expected} like the header "
                                      "(a trailing comma, or a comma inside a name?)",
                                      file=path, row=int(line)) from None
        raise DataValidationError(f"cannot read as CSV ({text[:200]})", file=path) from None
    header = [str(c).strip().lower() for c in raw.iloc[0].fillna("")]
    raw = raw.iloc[1:].fillna("")
    raw.columns = header
    raw.index = np.arange(len(raw))
    unnamed = [i for i, c in enumerate(header) if c == ""]
    for i in unnamed:
        if (raw.iloc[:, i].str.strip() != "").any():
            raise DataValidationError(
                f"column {i + 1} has an empty name but holds values; expected a header: "
                "name,type,start,end[,queue,weight]", file=path)
    if unnamed:  # empty trailing columns (a trailing comma on every line): absent
        raw = raw.iloc[:, [i for i in range(len(header)) if i not in unnamed]]
    twice = raw.columns[raw.columns.duplicated()]
    if len(twice):
        raise DataValidationError(f"duplicate column '{twice[0]}'; expected each column once",
                                  file=path)
    for col in ("name", "type", "start"):
        if col not in raw.columns:
            raise DataValidationError(
                f"missing required column '{col}'; columns found: {', '.join(raw.columns)}; "
                "expected name,type,start[,end,queue,weight]", file=path)
    unknown = [c for c in raw.columns if c not in EVENT_COLUMNS]
    if unknown:
        raise DataValidationError(
            f"unknown column '{unknown[0]}'; expected {', '.join(EVENT_COLUMNS)}", file=path)
    raw = raw.apply(lambda s: s.str.strip())
    blank = (raw == "").all(axis=1).to_numpy()
    raw = raw[~blank]
    lines = raw.index.to_numpy() + 2
    if raw.empty:
        return empty_events()

    def fail(message: str, pos: int, column: str) -> DataValidationError:
        return DataValidationError(message, file=path, row=int(lines[pos]), column=column)

    name = raw["name"]
    empty = (name == "").to_numpy()
    if empty.any():
        raise fail("empty name; expected a short description of the event",
                   int(np.argmax(empty)), "name")
    etype = raw["type"].str.lower()
    bad = ~etype.isin(EVENT_TYPES).to_numpy()
    if bad.any():
        pos = int(np.argmax(bad))
        raise fail(f"unknown type '{raw['type'].iloc[pos]}'; expected one of "
                   f"{', '.join(EVENT_TYPES)}", pos, "type")
    start = _parse_dates(raw["start"], "start", fail, allow_empty=False)
    start_ts = start
    if "end" in raw.columns:
        end_text = raw["end"]
        end = _parse_dates(end_text, "end", fail, allow_empty=True)
        date_only = end_text.str.match(_DATE_ONLY).to_numpy()
        end = end.where(~date_only, end + _ONE_DAY)
        end = end.where(end.notna(), start_ts + _ONE_DAY)
    else:
        end = start_ts + _ONE_DAY
    not_after = (end <= start_ts).to_numpy()
    if not_after.any():
        pos = int(np.argmax(not_after))
        raise fail(_end_not_after(raw["end"].iloc[pos], raw["start"].iloc[pos]), pos, "end")
    if "queue" in raw.columns:
        queue = raw["queue"].where(raw["queue"] != "", None).astype("str")
    else:
        queue = pd.Series(None, index=raw.index, dtype="str")
    if "weight" in raw.columns:
        wt = raw["weight"]
        weight = pd.to_numeric(wt.where(wt != "", "1"), errors="coerce").to_numpy("float64")
        bad = ~np.isfinite(weight) | (weight < 0)
        if bad.any():
            pos = int(np.argmax(bad))
            raise fail(f"weight '{wt.iloc[pos]}' is not valid; expected a number >= 0 "
                       "(1 = the learned effect, 0 = ignore)", pos, "weight")
    else:
        weight = np.ones(len(raw))
    out = pd.DataFrame({
        "name": name.astype("str").to_numpy(),
        "type": etype.astype("str").to_numpy(),
        "start": start_ts.to_numpy().astype(TS_DTYPE),
        "end": end.to_numpy().astype(TS_DTYPE),
        "queue": queue.to_numpy(),
        "weight": weight.astype("float64"),
    })
    return _normalise(out)


def _end_not_after(end: str, start: str) -> str:
    """The message for an event whose end (as written) is not after its start."""
    if re.match(_DATE_ONLY, end.strip()):
        return (f"end {end} is before start {start}; expected an end on or after the start "
                "day (a date-only end includes that whole day)")
    return f"end {end} is not after start {start}; expected end after start"


def _parse_dates(text: pd.Series, column: str, fail, *, allow_empty: bool) -> pd.Series:
    empty = (text == "").to_numpy()
    if empty.any() and not allow_empty:
        raise fail("empty date; expected a date like 2026-11-27 or 2026-11-27 08:00",
                   int(np.argmax(empty)), column)
    ts = pd.to_datetime(text.where(~empty, None), format="ISO8601", errors="coerce")
    bad = ts.isna().to_numpy() & ~empty
    if bad.any():
        pos = int(np.argmax(bad))
        raise fail(f"cannot read date '{text.iloc[pos]}'; expected a date like 2026-11-27 or "
                   "2026-11-27 08:00", pos, column)
    if getattr(ts.dt, "tz", None) is not None:
        raise fail("date carries a UTC offset; expected the centre's local time without one",
                   0, column)
    years = ts.dt.year.to_numpy(dtype="float64", na_value=np.nan)
    outside = (years < 1900) | (years >= 2200)
    if outside.any():
        pos = int(np.argmax(outside))
        raise fail(f"date '{text.iloc[pos]}' is outside the years 1900 to 2199; expected a "
                   "date near the history or the plan", pos, column)
    return ts.astype(TS_DTYPE)


def _normalise(events: pd.DataFrame) -> pd.DataFrame:
    out = events[list(EVENT_COLUMNS)].copy()
    out["name"] = out["name"].astype("str")
    out["type"] = out["type"].astype("str")
    out["start"] = out["start"].astype(TS_DTYPE)
    out["end"] = out["end"].astype(TS_DTYPE)
    out["queue"] = out["queue"].astype("str")
    out["weight"] = out["weight"].astype("float64")
    return out.sort_values(["start", "name", "queue"], kind="stable",
                           na_position="first").reset_index(drop=True)


def holiday_events(
    country: str,
    start: pd.Timestamp | str,
    end: pd.Timestamp | str,
    *,
    subdivision: str | None = None,
) -> pd.DataFrame:
    """Public holidays from the ``holidays`` package as whole-day events.

    Parameters
    ----------
    country
        ISO 3166 code such as ``"GB"`` or ``"US"``.
    start, end
        Holidays on days ``start <= day < end`` are returned.
    subdivision
        Region within the country (``"ENG"``, ``"SCT"``, ``"CA"``...).

    Returns
    -------
    DataFrame
        The events table, ``type = "holiday"``, each from 00:00 to the next 00:00, for
        every queue, weight 1.

    Raises
    ------
    ConfigError
        For an unknown country (key ``centre.holidays_country``), or an unknown
        subdivision of a known one (key ``centre.holidays_subdivision``, naming the
        allowed ones); see :func:`forecast.config.check_holidays`.
    """
    import holidays

    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end)
    years = range(start.year, end.year + 1)
    check_holidays(country, subdivision)  # the country first, then its subdivision
    cal = holidays.country_holidays(country, subdiv=subdivision, years=years)
    rows = sorted((pd.Timestamp(day), str(name)) for day, name in cal.items())
    rows = [(d, n) for d, n in rows if start <= d < end]
    if not rows:
        return empty_events()
    days = pd.DatetimeIndex([d for d, _ in rows])
    return _normalise(pd.DataFrame({
        "name": [n for _, n in rows],
        "type": "holiday",
        "start": days,
        "end": days + _ONE_DAY,
        "queue": pd.Series([None] * len(rows), dtype="str"),
        "weight": 1.0,
    }))


def combine_events(*tables: pd.DataFrame | None) -> pd.DataFrame:
    """Stack events tables into one.

    Identical rows are kept once. A holiday that appears more than once for the same
    day and queue (a file's "Christmas" and the calendar's "Christmas Day") is kept
    once, the first table's row winning, so put the user's file first.

    Parameters
    ----------
    *tables
        Events tables; None and empty tables are skipped. A missing ``queue`` column
        means every queue, a missing ``weight`` column 1.0.

    Returns
    -------
    DataFrame
        One events table (:data:`EVENT_COLUMNS`), sorted by start, name and queue.
    """
    parts = [t for t in tables if t is not None and len(t)]
    if not parts:
        return empty_events()
    out = pd.concat([_normalise(t.assign(**_defaults(t))) for t in parts], ignore_index=True)
    out = out.drop_duplicates(ignore_index=True)
    hol = (out["type"] == "holiday").to_numpy()
    key = out[["type", "start", "end", "queue"]].astype("str")
    dup_holiday = key.duplicated(keep="first").to_numpy() & hol
    return _normalise(out[~dup_holiday])


def _defaults(t: pd.DataFrame) -> dict:
    add = {}
    if "queue" not in t.columns:
        add["queue"] = pd.Series(None, index=t.index, dtype="str")
    if "weight" not in t.columns:
        add["weight"] = 1.0
    return add


def events_for_queue(events: pd.DataFrame, queue: str) -> pd.DataFrame:
    """The events that apply to one queue.

    Parameters
    ----------
    events
        An events table.
    queue
        The queue name.

    Returns
    -------
    DataFrame
        The rows whose ``queue`` is ``queue`` or missing (every queue), in their order,
        with a fresh index.
    """
    q = events["queue"]
    return events[(q.isna() | (q == queue)).to_numpy()].reset_index(drop=True)


def events_in(events: pd.DataFrame, start: pd.Timestamp | str,
              end: pd.Timestamp | str) -> pd.DataFrame:
    """The events overlapping a time window.

    Parameters
    ----------
    events
        An events table.
    start, end
        The window ``[start, end)``, naive local times.

    Returns
    -------
    DataFrame
        The rows with ``event.start < end`` and ``event.end > start``, in their order,
        with a fresh index.
    """
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    keep = (events["start"] < end) & (events["end"] > start)
    return events[keep.to_numpy()].reset_index(drop=True)


def add_event(
    events: pd.DataFrame | None,
    name: str,
    type: str,
    start: pd.Timestamp | str,
    end: pd.Timestamp | str | None = None,
    queue: str | None = None,
    weight: float = 1.0,
) -> pd.DataFrame:
    """Return a copy of ``events`` with one more event (for what-if scenarios).

    Parameters
    ----------
    events
        The events table to extend; None or empty: start a new one.
    name
        What the event is; surrounding whitespace is stripped.
    type
        One of :data:`EVENT_TYPES` (any case).
    start
        Start, naive local time, inclusive.
    end
        End, exclusive; default one day after ``start``. A date-only string means the
        end of that day, as in :func:`read_events`.
    queue
        The queue it applies to; None: every queue.
    weight
        Scales the learned effect (1 = as learned, 0 = ignore).

    Returns
    -------
    DataFrame
        ``events`` combined with the new row (:func:`combine_events`: an identical
        row, or a holiday already there for that day and queue, is not added twice).

    Raises
    ------
    DataValidationError
        Unknown type, empty name, end not after start, a date outside the years 1900
        to 2199, weight not a number >= 0.
    """
    if not isinstance(name, str) or not name.strip():
        raise DataValidationError("event name must be a non-empty string")
    etype = str(type).lower()
    if etype not in EVENT_TYPES:
        raise DataValidationError(f"unknown event type '{type}'; expected one of "
                                  f"{', '.join(EVENT_TYPES)}")
    start_ts = pd.Timestamp(start)
    if end is None:
        end_ts = start_ts + _ONE_DAY
    else:
        end_ts = pd.Timestamp(end)
        if isinstance(end, str) and re.match(_DATE_ONLY, end.strip()):
            end_ts += _ONE_DAY
    if end_ts <= start_ts:
        raise DataValidationError(f"event '{name}': " + _end_not_after(
            end.strip() if isinstance(end, str) else str(end_ts),
            start.strip() if isinstance(start, str) else str(start_ts)))
    for ts in (start_ts, end_ts):
        if not 1900 <= ts.year < 2200:
            raise DataValidationError(f"event '{name}': {ts} is outside the years 1900 to "
                                      "2199; expected a date near the history or the plan")
    if isinstance(weight, bool) or not np.isfinite(float(weight)) or float(weight) < 0:
        raise DataValidationError(f"event '{name}': weight {weight!r} must be a number >= 0")
    row = pd.DataFrame({
        "name": [name.strip()], "type": [etype], "start": [start_ts], "end": [end_ts],
        "queue": pd.Series([queue], dtype="str"), "weight": [float(weight)],
    })
    return combine_events(events, row) if events is not None and len(events) else \
        _normalise(row)
