"""Validating a read table: per-column parsing, repairs (repeated headers, totals
rows, exact duplicates), duplicate and interval-grid checks, and the row locator
that names file lines in errors."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import DataRepairWarning, DataValidationError
from ._common import (
    _AMPM_RE,
    _CUT_TIME_RE,
    _DMY_RE,
    _END_S,
    _FIRST_S,
    _HAS_OFFSET_RE,
    _NULL_MARKERS,
    _NUMBER_RE,
    _STRIP_OFFSET_RE,
    _TOTAL_RE,
    DAY_S,
    DS_DTYPE,
    MAX_AHT_S,
    MAX_GAP_DAYS,
    YEARS,
    _Columns,
    _list,
    _queue_name,
)
from .dst import fall_back_hours

# --------------------------------------------------------------------------- validation


class _Where:
    """Maps positions in a (filtered) table back to file line numbers."""

    def __init__(self, path: Path, lines: np.ndarray):
        self.path = path
        self.lines = lines

    def error(self, message: str, position: int | None = None,
              column: str | None = None) -> DataValidationError:
        row = int(self.lines[position]) if position is not None else None
        return DataValidationError(message, file=self.path, row=row, column=column)

    def line(self, position: int) -> int:
        return int(self.lines[position])


def _validate(frame: pd.DataFrame, lines: np.ndarray, path: Path, cols: _Columns, *,
              queue: str | None, default_queue: str | None, timezone: str | None, mode: str,
              max_volume: float | None, timestamp_format: str | None,
              decimal_comma: bool = False) -> pd.DataFrame:
    """Check every row of a text (or Parquet) frame and build the long table."""
    frame, lines = _drop_repeated_headers(frame, lines, path, cols)
    frame, lines = _drop_totals_rows(frame, lines, path, cols)
    where = _Where(path, lines)
    out = pd.DataFrame(index=frame.index)
    if cols.queue in frame.columns:
        out["queue"] = _parse_queue(frame[cols.queue], cols.queue, where)
        if queue is not None:
            keep = (out["queue"] == queue).to_numpy()
            if not keep.any():
                found = sorted(out["queue"].unique())
                raise DataValidationError(
                    f"no rows for queue '{queue}'; queues found: {_list(found)}",
                    file=path, column=cols.queue,
                )
            frame, out, lines = frame[keep], out[keep], lines[keep]
            where = _Where(path, lines)
    else:
        name = _queue_name(path, queue, default_queue)
        out["queue"] = pd.Series(name, index=frame.index, dtype="str")

    ds, instant = _parse_timestamps(frame[cols.timestamp], cols.timestamp, where,
                                    timezone=timezone, mode=mode, fmt=timestamp_format)
    _check_years(ds, where, cols.timestamp)
    out["ds"] = ds
    out["y"] = _parse_numbers(frame[cols.volume], cols.volume, where, what="a volume",
                              allow_missing=False, decimal_comma=decimal_comma,
                              high=max_volume, high_hint="the plausibility bound "
                              "data.max_volume (--max-volume); raise it if this is real")
    if cols.aht in frame.columns:
        out["aht_s"] = _parse_numbers(frame[cols.aht], cols.aht, where,
                                      what="an average handle time in seconds",
                                      allow_missing=True, decimal_comma=decimal_comma,
                                      high=MAX_AHT_S, high_hint="a day; is it in seconds?")
    if cols.abandoned in frame.columns:
        out["abandoned"] = _parse_numbers(frame[cols.abandoned], cols.abandoned, where,
                                          what="a count of abandoned contacts",
                                          allow_missing=True, decimal_comma=decimal_comma)
    for name in list(frame.columns):  # free the parsed text now
        del frame[name]

    out, where = _check_duplicates(out, instant, where, cols.timestamp, timezone)
    _check_grid(out, where, cols.timestamp)
    codes, names = pd.factorize(out["queue"], sort=True)
    order = np.lexsort((out["ds"].to_numpy().astype("datetime64[s]").view(np.int64), codes))
    out = out.take(order).reset_index(drop=True)
    out["ds"] = out["ds"].astype(DS_DTYPE)
    return out


def _repair(message: str) -> None:
    warnings.warn(message, DataRepairWarning, stacklevel=4)


def _drop_repeated_headers(frame: pd.DataFrame, lines: np.ndarray, path: Path,
                           cols: _Columns) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows that repeat the header (exports concatenated with ``cat``) are dropped."""
    if pd.api.types.is_datetime64_any_dtype(frame[cols.timestamp].dtype):
        return frame, lines
    ts, _ = _as_text(frame[cols.timestamp])
    vol, _ = _as_text(frame[cols.volume])
    header = ((ts == cols.timestamp) & (vol == cols.volume)).to_numpy()
    del ts, vol
    if not header.any():
        return frame, lines
    where = ", ".join(str(int(x)) for x in lines[header][:5])
    _repair(f"{path}: dropped {int(header.sum())} repeated header row(s) (line {where}); "
            "the file looks like several exports joined together")
    return frame[~header], lines[~header]


def _drop_totals_rows(frame: pd.DataFrame, lines: np.ndarray, path: Path,
                      cols: _Columns) -> tuple[pd.DataFrame, np.ndarray]:
    """A last row labelled Total/Sum with no timestamp is a report footer: dropped."""
    if len(frame) < 2 or pd.api.types.is_datetime64_any_dtype(frame[cols.timestamp].dtype):
        return frame, lines
    ts = frame[cols.timestamp].iloc[-1]
    ts = "" if pd.isna(ts) else str(ts).strip()
    labels = [ts]
    if cols.queue in frame.columns:
        q = frame[cols.queue].iloc[-1]
        labels.append("" if pd.isna(q) else str(q).strip())
    is_total = any(re.match(_TOTAL_RE, s, flags=re.IGNORECASE) for s in labels if s)
    if not is_total or (ts and not re.match(_TOTAL_RE, ts, flags=re.IGNORECASE)):
        return frame, lines
    _repair(f"{path}: dropped the totals row at line {int(lines[-1])} "
            f"({', '.join(s for s in labels if s)!s}); it is a report footer, not an interval")
    return frame.iloc[:-1], lines[:-1]


def _as_text(raw: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Stripped text of a column and a mask of empty cells (no copy when nothing needs
    stripping)."""
    text = raw.astype("str")
    arr = _arrow(text)
    if arr is None or arr.null_count or _matches(text, r"^\s|\s$").any():
        text = text.str.strip()
    empty = (raw.isna() | (text == "")).to_numpy()
    return text, empty


def _parse_queue(raw: pd.Series, column: str, where: _Where) -> pd.Series:
    text, empty = _as_text(raw)
    if empty.any():
        pos = int(np.argmax(empty))
        raise where.error("empty queue name; expected the queue the row belongs to", pos, column)
    return text


def _parse_timestamps(
    raw: pd.Series, column: str, where: _Where, *, timezone: str | None, mode: str,
    fmt: str | None = None,
) -> tuple[pd.Series, pd.Series | None]:
    """Naive local timestamps, and (when the file gave offsets) the UTC instants."""
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):  # Parquet timestamp column
        ts = raw
        if ts.isna().any():
            pos = int(np.argmax(ts.isna().to_numpy()))
            raise where.error("empty timestamp; expected the interval start", pos, column)
        if ts.dt.tz is None:
            return ts, None
        if mode == "local":
            return ts.dt.tz_localize(None), None
        tz = _need_timezone(timezone, where, column)
        return ts.dt.tz_convert(tz).dt.tz_localize(None), ts.dt.tz_convert("UTC")

    text, empty = _as_text(raw)
    if empty.any():
        pos = int(np.argmax(empty))
        raise where.error("empty timestamp; expected the interval start", pos, column)
    cut = _matches(text, _CUT_TIME_RE)
    if cut.any():
        pos = int(np.argmax(cut))
        raise where.error(f"timestamp '{text.iloc[pos]}' ends in a one-digit minute; the "
                          "line looks cut short: expected a time such as 08:30", pos, column)
    if fmt is not None:
        ts = pd.to_datetime(text, format=fmt, errors="coerce")
        bad = ts.isna().to_numpy()
        if bad.any():
            pos = int(np.argmax(bad))
            raise where.error(f"timestamp '{text.iloc[pos]}' does not match the format "
                              f"'{fmt}'", pos, column)
        return ts, None
    has_offset = _matches(text, _HAS_OFFSET_RE)
    instant = None
    if has_offset.any() and mode == "local":
        text = _strip_offsets(text)
        ts = _to_datetime(text, where, column)
    elif has_offset.any():
        if not has_offset.all():
            pos = int(np.argmax(~has_offset))
            raise where.error(
                f"timestamp '{text.iloc[pos]}' has no UTC offset while others do; "
                "expected every timestamp with an offset or none", pos, column,
            )
        tz = _need_timezone(timezone, where, column)
        instant = _to_datetime(text, where, column, utc=True)
        ts = instant.dt.tz_convert(tz).dt.tz_localize(None)
    else:
        ts = _to_datetime(text, where, column)
    return ts, instant


def _check_years(ds: pd.Series, where: _Where, column: str) -> None:
    sec = ds.to_numpy().astype("datetime64[s]").view(np.int64)
    outside = (sec < _FIRST_S) | (sec >= _END_S)
    if outside.any():
        pos = int(np.argmax(outside))
        raise where.error(f"timestamp {ds.iloc[pos]} is outside the years {YEARS[0]} to "
                          f"{YEARS[1] - 1}; expected a date in the centre's history", pos,
                          column)


def _arrow(text: pd.Series):
    """The pyarrow array behind a string column, or None when it is not arrow-backed."""
    return getattr(text.array, "_pa_array", None)


def _matches(text: pd.Series, pattern: str) -> np.ndarray:
    """Vectorised regex search (pyarrow's RE2 when available)."""
    arr = _arrow(text)
    if arr is not None:
        import pyarrow.compute as pc

        return np.asarray(pc.match_substring_regex(arr, pattern).to_numpy(
            zero_copy_only=False), dtype=bool)
    return text.str.contains(pattern, regex=True).to_numpy(dtype=bool)


def _strip_offsets(text: pd.Series) -> pd.Series:
    """Remove a trailing UTC offset, keeping the clock time."""
    arr = _arrow(text)
    if arr is not None:
        import pyarrow.compute as pc

        out = pc.replace_substring_regex(arr, _STRIP_OFFSET_RE, r"\1")
        return pd.Series(out.to_numpy(zero_copy_only=False), index=text.index, dtype="str")
    return text.str.replace(_STRIP_OFFSET_RE, r"\1", regex=True)


def _need_timezone(timezone: str | None, where: _Where, column: str) -> str:
    if timezone is None:
        raise where.error(
            "timestamps carry a UTC offset; give the centre's time zone (timezone=, "
            "--timezone) to convert them, or timestamps='local' (--timestamps local) if "
            "they are really local clock times", 0, column,
        )
    return timezone


def _to_datetime(text: pd.Series, where: _Where, column: str, utc: bool = False) -> pd.Series:
    arr = _arrow(text)
    if arr is not None and not utc:  # plain ISO 8601 parses in arrow, without Python objects
        import pyarrow as pa
        import pyarrow.compute as pc

        try:
            sec = pc.cast(arr, pa.timestamp("s")).to_numpy().view(np.int64)
            if sec.size and _FIRST_S <= sec.min() and sec.max() < _END_S:
                return pd.Series((sec * 1_000_000_000).view(DS_DTYPE), index=text.index)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OverflowError):
            pass
    ts = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=utc)
    bad = ts.isna().to_numpy()
    if bad.all() and not utc:
        dmy = _day_month_order(text, where, column)
        if dmy is not None:
            return dmy
    if bad.all():  # not ISO: let pandas infer one format from the first value
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            try:
                ts = pd.to_datetime(text, errors="coerce", utc=utc)
            except (ValueError, TypeError, OverflowError):
                pass
        bad = ts.isna().to_numpy()
    if bad.any():
        pos = int(np.argmax(bad))
        raise where.error(
            f"cannot read timestamp '{text.iloc[pos]}'; expected a date and time such as "
            "2025-09-01 08:30 or 2025-09-01T08:30:00+01:00", pos, column,
        )
    return ts


def _day_month_order(text: pd.Series, where: _Where, column: str) -> pd.Series | None:
    """Parse ``16/11/2026 08:00`` (or ``11/16/2026``, ``16.11.26``, ``16/11/2026 8:00 AM``)
    dates.

    The order is settled by the data: a first number above 12 anywhere means day
    first, a second number above 12 means month first; when neither settles it, the
    file is refused (never read partly one way, partly the other). A two-digit year
    is 2000-2068 or 1969-1999, as ``%y`` reads it. ``None`` when the column is not in
    this shape.
    """
    parts = text.str.extract(_DMY_RE)
    ok = parts[0].notna().to_numpy()
    if not ok.any():
        return None
    if not ok.all():
        pos = int(np.argmax(~ok))
        raise where.error(f"cannot read timestamp '{text.iloc[pos]}'; expected the same "
                          f"date form as row {where.line(int(np.argmax(ok)))}", pos, column)
    a = parts[0].astype("int64").to_numpy()
    b = parts[2].astype("int64").to_numpy()
    day_first = (a > 12).any()
    month_first = (b > 12).any()
    if day_first and month_first:
        pos = int(np.argmax(b > 12))
        raise where.error(f"cannot read timestamp '{text.iloc[pos]}': other rows put the day "
                          "first; expected one date order in the whole file", pos, column)
    if not day_first and not month_first:
        raise where.error(
            f"cannot tell day from month in '{text.iloc[0]}' (no number above 12 in either "
            "place); set the format, e.g. data.timestamp_format = "
            f"'{_format_like(text.iloc[0], parts.iloc[0])}' for day first "
            "(--timestamp-format)", 0, column)
    day, month = (a, b) if day_first else (b, a)
    year = parts[3].astype("int64").to_numpy()
    year = np.where(parts[3].str.len().to_numpy() == 2, np.where(year < 69, 2000, 1900) + year,
                    year)
    clock = _clock_24h(parts[4].fillna(""))
    iso = (pd.Series(year, index=text.index).astype("str") + "-"
           + pd.Series(month, index=text.index).astype("str").str.zfill(2)
           + "-" + pd.Series(day, index=text.index).astype("str").str.zfill(2)
           + clock.str.replace(r"^\s+(\d):", r" 0\1:", regex=True))
    ts = pd.to_datetime(iso, format="ISO8601", errors="coerce")
    bad = ts.isna().to_numpy()
    if bad.any():
        pos = int(np.argmax(bad))
        raise where.error(f"cannot read timestamp '{text.iloc[pos]}'; expected a date and "
                          "time such as 16/11/2026 08:30 or 16/11/2026 08:30 AM", pos, column)
    return ts


def _clock_24h(clock: pd.Series) -> pd.Series:
    """Times written with AM/PM (`` 12:30 AM``) as 24-hour text (`` 00:30``); other
    text unchanged (an hour outside 1-12 is left for the date parser to refuse)."""
    parts = clock.str.extract(_AMPM_RE)
    ampm = parts[0].notna().to_numpy()
    if not ampm.any():
        return clock
    hour = pd.to_numeric(parts[0], errors="coerce").to_numpy()
    pm = parts[2].str.lower().eq("p").to_numpy()
    h24 = np.where((hour >= 1) & (hour <= 12), hour % 12 + 12 * pm, 99)
    converted = (" " + pd.Series(np.nan_to_num(h24), index=clock.index).astype("int64")
                 .astype("str").str.zfill(2) + parts[1].fillna(""))
    return clock.where(~ampm, converted)


def _format_like(example: str, parts: pd.Series) -> str:
    """A day-first ``strftime`` format in the shape of ``example`` (for a hint)."""
    sep = parts[1]
    year = "%Y" if len(parts[3]) == 4 else "%y"
    clock = str(parts[4]) if pd.notna(parts[4]) else ""
    fmt = f"%d{sep}%m{sep}{year}"
    if clock.strip():
        ampm = re.match(_AMPM_RE, clock)
        seconds = ":%S" if clock.count(":") >= 2 else ""
        fmt += f" %I:%M{seconds} %p" if ampm else f" %H:%M{seconds}"
    return fmt


def _numbers_in_arrow(text: pd.Series, empty: np.ndarray) -> np.ndarray | None:
    """Parse decimal text to float64 in arrow (NaN where empty or not a number), or
    ``None`` when the column is not arrow-backed."""
    arr = _arrow(text)
    if arr is None:
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    ok = pc.match_substring_regex(arr, _NUMBER_RE)
    try:
        parsed = pc.cast(pc.if_else(ok, arr, pa.scalar(None, arr.type)), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    values = np.array(parsed.to_numpy(zero_copy_only=False), dtype=np.float64)
    values[empty] = np.nan
    return values


def _parse_numbers(
    raw: pd.Series, column: str, where: _Where, *, what: str, allow_missing: bool,
    decimal_comma: bool = False, high: float | None = None, high_hint: str = "",
) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        values = raw.to_numpy(dtype="float64", na_value=np.nan)
        empty = np.isnan(values)
    else:
        text, empty = _as_text(raw)
        null = text.isin(_NULL_MARKERS).to_numpy() if allow_missing else empty
        empty = empty | null
        if decimal_comma and text.str.contains(",", regex=False).any():
            text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        values = _numbers_in_arrow(text, empty)
        if values is None:  # not arrow-backed: pandas parses (Python objects, more memory)
            values = pd.to_numeric(text.where(~empty, None), errors="coerce").to_numpy(
                dtype="float64", na_value=np.nan
            )
        bad_text = np.isnan(values) & ~empty
        if bad_text.any():
            pos = int(np.argmax(bad_text))
            raise where.error(f"'{raw.iloc[pos]}' is not a number; expected {what}",
                              pos, column)
    if not allow_missing and empty.any():
        pos = int(np.argmax(empty))
        raise where.error(f"empty cell; expected {what}", pos, column)
    nonfinite = np.isinf(values)
    if nonfinite.any():
        pos = int(np.argmax(nonfinite))
        raise where.error(f"'{values[pos]}' is not finite; expected {what}", pos, column)
    negative = values < 0
    if negative.any():
        pos = int(np.argmax(negative))
        raise where.error(f"negative value {values[pos]:g}; expected {what} >= 0", pos, column)
    if high is not None:
        above = values > high
        if above.any():
            pos = int(np.argmax(above))
            raise where.error(f"{values[pos]:,.10g} is implausibly large; expected {what} "
                              f"up to {high:,.10g} ({high_hint})", pos, column)
    return values


def _check_duplicates(
    out: pd.DataFrame, instant: pd.Series | None, where: _Where, column: str,
    timezone: str | None,
) -> tuple[pd.DataFrame, _Where]:
    """Drop exact repeats of a row; reject two different rows for one queue and time;
    average the two rows of a fall-back hour (the local hour that happened twice) into
    one, with a warning.

    Works on integer codes and seconds (no hashing of text); only the rows that share
    a (queue, time) with another are looked at more closely.
    """
    codes = pd.factorize(out["queue"])[0]
    rows, firsts, sizes = _repeated(codes, _seconds(instant if instant is not None
                                                     else out["ds"]))
    later = rows != firsts  # repeats of an earlier row
    if later.any() and instant is None and timezone is not None:
        # naive file repeating the ambiguous local hour of a fall-back day: allowed once
        ambiguous = _ambiguous(out["ds"].iloc[rows], timezone)
        later &= ~(ambiguous & (sizes == 2))
    if later.any():
        same = np.ones(rows.size, dtype=bool)
        for c in [c for c in out.columns if c not in ("queue", "ds")]:
            v = out[c].to_numpy(dtype="float64", na_value=np.nan)
            a, b = v[rows], v[firsts]
            same &= (a == b) | (np.isnan(a) & np.isnan(b))
        exact = rows[later & same]
        if exact.size:
            shown = ", ".join(str(where.line(int(p))) for p in np.sort(exact)[:5])
            _repair(f"{where.path}: dropped {exact.size} exact duplicate row(s) (line "
                    f"{shown}); overlapping exports?")
            keep = np.ones(len(out), dtype=bool)
            keep[exact] = False
            new_index = np.cumsum(keep) - 1
            stay = keep[rows]
            rows, firsts, later = new_index[rows[stay]], new_index[firsts[stay]], \
                (later & ~same)[stay]
            out, codes = out[keep], codes[keep]
            where = _Where(where.path, where.lines[keep])
            instant = instant[keep] if instant is not None else None
        if later.any():
            i = int(np.argmin(np.where(later, rows, np.iinfo(np.int64).max)))
            pos, first = int(rows[i]), int(firsts[i])
            raise where.error(
                f"duplicate row for queue '{out['queue'].iloc[pos]}' at {out['ds'].iloc[pos]} "
                f"(first at row {where.line(first)}) with different values; expected each "
                "queue and interval once", pos, column,
            )
    if instant is None and timezone is None:
        return out, where
    members, _, _ = _repeated(codes, _seconds(out["ds"]))
    if members.size:  # fall-back hour: two instants, one local interval -> their mean
        local_dup = np.zeros(len(out), dtype=bool)
        local_dup[members] = True
        _warn_repeated_hour(out[local_dup], where.path, timezone)
        agg = {"y": "mean"}
        if "abandoned" in out.columns:
            agg["abandoned"] = "mean"  # NaN only when both copies are unknown
        merged = _aggregate(out[local_dup], agg)
        first_line = pd.DataFrame({"queue": out["queue"].to_numpy()[local_dup],
                                   "ds": out["ds"].to_numpy()[local_dup],
                                   "line": where.lines[local_dup]}).groupby(
            ["queue", "ds"], sort=True)["line"].min().to_numpy()  # same order as merged
        out = pd.concat([out[~local_dup], merged], ignore_index=True)
        where = _Where(where.path, np.concatenate([where.lines[~local_dup], first_line]))
    return out, where


def _warn_repeated_hour(rows: pd.DataFrame, path: Path, timezone: str) -> None:
    """Say that the rows of a fall-back hour (both copies, stamped at the same local
    times) are averaged into one local interval each."""
    ds = pd.DatetimeIndex(rows["ds"])
    hours = [h for h in fall_back_hours(ds.min(), ds.max() + pd.Timedelta(seconds=1),
                                        timezone)
             if ((ds >= h.start) & (ds < h.end)).any()]
    when = _list(hours) if hours else _list(sorted(set(ds.strftime("%Y-%m-%d %H:%M"))))
    per_queue = rows["queue"].value_counts().sort_index()
    _repair(f"{path}: {len(rows)} rows in the repeated hour of the clock change ({when}, "
            f"{timezone}) were averaged into one; the hour happened twice (rows by queue: "
            + _list(f"{q} {n}" for q, n in per_queue.items()) + ")")


def _seconds(ds: pd.Series) -> np.ndarray:
    """Whole seconds since the epoch of naive or aware (as UTC) timestamps."""
    if getattr(ds.dt, "tz", None) is not None:
        ds = ds.dt.tz_convert("UTC").dt.tz_localize(None)
    return ds.to_numpy().astype("datetime64[s]").view(np.int64)


def _repeated(codes: np.ndarray, sec: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows sharing their (code, sec) with another row, in file order: their positions,
    the position of their group's first row, and the group's size (small arrays; the
    full-length work is one sort of a combined integer key)."""
    n = len(codes)
    if n == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    key = (np.asarray(codes, dtype=np.int64) << 40) | (sec - sec.min())
    order = np.argsort(key, kind="stable")  # stable: file order within a key
    key = key[order]
    same = key[1:] == key[:-1]
    del key
    if not same.any():
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    in_group = np.zeros(n, dtype=bool)
    in_group[1:] |= same
    in_group[:-1] |= same
    sorted_pos = np.flatnonzero(in_group)  # positions in sorted order, grouped
    starts = np.ones(sorted_pos.size, dtype=bool)
    starts[1:] = ~same[sorted_pos[1:] - 1] | (sorted_pos[1:] != sorted_pos[:-1] + 1)
    group = np.cumsum(starts) - 1
    head = np.flatnonzero(starts)
    counts = np.diff(np.append(head, sorted_pos.size))
    rows = order[sorted_pos]
    firsts = order[sorted_pos[head[group]]]
    sizes = counts[group]
    back = np.argsort(rows, kind="stable")
    return rows[back], firsts[back], sizes[back]


def _ambiguous(ds: pd.Series, timezone: str) -> np.ndarray:
    idx = pd.DatetimeIndex(ds)
    early = idx.tz_localize(timezone, ambiguous=True, nonexistent="NaT")
    late = idx.tz_localize(timezone, ambiguous=False, nonexistent="NaT")
    return np.asarray(early != late) & ~np.asarray(early.isna())


def _aggregate(frame: pd.DataFrame, agg: dict) -> pd.DataFrame:
    """Aggregate rows per (queue, ds) by ``agg``; AHT is the volume-weighted mean of
    known values."""
    g = frame.groupby(["queue", "ds"], sort=True)
    out = g.agg(agg)
    if "aht_s" in frame.columns:
        a = frame["aht_s"].to_numpy()
        w = np.where(np.isnan(a), 0.0, frame["y"].to_numpy())
        helper = pd.DataFrame({
            "queue": frame["queue"].to_numpy(), "ds": frame["ds"].to_numpy(),
            "aw": np.where(np.isnan(a), 0.0, a) * w, "w": w,
            "a": a,
        })
        h = helper.groupby(["queue", "ds"], sort=True).agg(
            aw=("aw", "sum"), w=("w", "sum"), a=("a", "mean"))
        weighted = np.where(h["w"].to_numpy() > 0,
                            h["aw"].to_numpy() / np.maximum(h["w"].to_numpy(), 1e-300),
                            h["a"].to_numpy())
        out["aht_s"] = weighted
    out = out.reset_index()
    return out


def _grid_problem(sec: np.ndarray, codes: np.ndarray) -> tuple[str, np.ndarray] | None:
    """Check timestamps (seconds, sorted by queue code then time) for the grid rules.

    Returns ``(message, mask of offending rows)`` for the first rule broken, or ``None``:
    a gap above :data:`MAX_GAP_DAYS` within a queue, an interval that does not divide
    a day, a timestamp off the interval grid.
    """
    if len(sec) < 2:
        return None
    same_q = codes[1:] == codes[:-1]
    gaps = np.diff(sec)
    far = same_q & (gaps > MAX_GAP_DAYS * DAY_S)
    if far.any():
        i = int(np.argmax(far))  # between sorted rows i and i + 1
        first = int(np.searchsorted(codes, codes[i], side="left"))
        last = int(np.searchsorted(codes, codes[i], side="right")) - 1
        blame = i if i - first + 1 <= last - i else i + 1  # the smaller side is the stray
        mask = np.zeros(len(sec), dtype=bool)
        mask[blame] = True
        return (f"{gaps[i] / DAY_S:,.0f} days from the queue's other readings; expected no "
                f"gap above {MAX_GAP_DAYS} days (a stray date?)", mask)
    day = sec // DAY_S
    within = same_q & (day[1:] == day[:-1]) & (gaps > 0)
    if not within.any():
        return None
    step = int(np.argmax(np.bincount(gaps[within])))  # the most common gap within a day
    if DAY_S % step:
        return (f"{step / 60:g} minutes after the previous reading, an interval that "
                "does not divide a day; expected e.g. 5, 10, 15, 30 or 60 minutes",
                np.concatenate([[False], within & (gaps == step)]))
    phase = (sec % DAY_S) % step
    usual = int(np.argmax(np.bincount(phase)))
    off = phase != usual
    if off.any():
        return (f"off the file's {_fmt_interval(step)} grid; expected readings a whole "
                "number of intervals apart", off)
    return None


def _check_grid(out: pd.DataFrame, where: _Where, column: str) -> None:
    """Every timestamp must sit on the file's interval grid (whole intervals apart), the
    interval must divide a day, and no queue may jump more than a year."""
    if len(out) < 2:
        return
    codes = pd.factorize(out["queue"], sort=True)[0]
    sec = out["ds"].to_numpy().astype("datetime64[s]").astype(np.int64)
    order = np.lexsort((sec, codes))
    problem = _grid_problem(sec[order], codes[order])
    if problem is None:
        return
    message, mask = problem
    pos = int(order[mask].min())  # the first offending row in file order
    raise where.error(f"timestamp {out['ds'].iloc[pos]} is {message}", pos, column)


def _fmt_interval(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600}-hour"
    if seconds % 60 == 0:
        return f"{seconds // 60}-minute"
    return f"{seconds}-second"
