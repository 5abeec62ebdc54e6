"""Volume data intake: the only place volume files are read.

Everything downstream works on one long table per centre:

``queue`` (str), ``ds`` (datetime64, naive *local* time of the centre, interval
start), ``y`` (float64, contacts offered in the interval), and optionally ``aht_s``
(float64, NaN where unknown) and ``abandoned`` (float64).

:func:`read_volumes` reads and validates a CSV (any compression pandas infers) or
Parquet export into that shape; every problem is reported as one
:class:`~forecast.exceptions.DataValidationError` line naming the file, the line
number (header = line 1) and the column. :func:`regularise` then puts each queue on
the regular grid of its *arrival* intervals: finer data is summed into the plan's
interval, intervals outside opening hours are dropped, and missing intervals inside
opening hours are filled by a documented rule and flagged ``filled=True``.

Input policy
------------
A scheduled run must never turn a broken export into a quietly wrong plan, so each
kind of damage is either repaired by a fixed rule, with a
:class:`~forecast.exceptions.DataRepairWarning` saying what was done, or rejected
with one error line:

============================================  =========================================
found in the file                             what happens
============================================  =========================================
rows in any order                             sorted, silently
extra columns                                 ignored
UTF-8 byte-order mark, CRLF line ends         accepted
gzip/bz2/xz/zip/zst compression               accepted; truncated or corrupt: error
``;``, tab or ``|`` separated                 detected from the header line; with a
                                              ``;``/tab/``|`` separator a number with a
                                              comma (``12,5``) uses the decimal comma
                                              and ``.`` as thousands mark (``1.234,5``)
``16/11/2026 08:00`` dates                    day/month order taken from the data (a
                                              first number above 12 = day first);
                                              ambiguous throughout: error asking for
                                              ``timestamp_format``
fractional volumes                            accepted (forecasts and some exports are
                                              fractional)
empty, negative, non-finite volume            error
a volume above ``max_volume`` (default        error (a unit mix-up, totals row or
1,000,000 contacts in one interval)           corrupt export); raise it if real
AHT above a day (86,400 s)                    error
the header repeated mid-file                  row dropped, warning (concatenated
                                              exports)
a trailing ``Total,,12345`` row               row dropped, warning
a row repeated exactly                        copy dropped, warning (overlapping exports)
two different rows for one queue and time     error naming both lines
a gap of more than a year in a queue          error (a stray date would make the grid
                                              span decades)
an interval that does not divide a day        error
a last line cut short (fewer fields)          error: the export looks truncated
text not in the declared encoding             error naming the line; set ``encoding``
============================================  =========================================

Large files are read by a fast path (pyarrow's CSV reader with the column types
declared, validation on arrays); when anything looks wrong there, the file is read
again by the exact path, which applies the repairs above or names the first bad row.

Time zones and daylight saving
------------------------------
Timestamps are the centre's naive local clock times. Timestamps written with a UTC
offset (``Z``, ``+01:00``) are converted to the centre's time zone and the offset is
dropped. Consequences for a queue open around the clock:

* on the spring-forward day the local hour that does not exist (01:00-02:00 in
  Europe/London) is not a gap: it is neither expected nor filled (pass ``timezone``);
* on the fall-back day the hour that occurs twice maps to one local interval, whose
  volume is the sum of both (read from offset timestamps, or from naive files that
  repeat the ambiguous times when ``timezone`` is given).
"""

from __future__ import annotations

import codecs
import csv
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from .config import OpeningHours, PlanConfig, check_timezone
from .exceptions import DataRepairWarning, DataValidationError

__all__ = [
    "read_volumes",
    "read_volumes_for",
    "infer_interval_s",
    "infer_hours",
    "regularise",
    "RegulariseReport",
    "QueueReport",
    "future_grid",
    "describe_volumes",
    "VolumeSummary",
    "hours_for",
    "DEFAULT_MAX_VOLUME",
    "MAX_AHT_S",
    "MAX_GAP_DAYS",
    "YEARS",
]

DS_DTYPE = "datetime64[ns]"
DAY_S = 86_400
WEEK_S = 7 * DAY_S
#: contacts in one interval row above which a volume is rejected as implausible
DEFAULT_MAX_VOLUME = 1_000_000.0
#: an average handle time above a day is a unit mix-up (milliseconds?) or corruption
MAX_AHT_S = 86_400.0
#: a longer gap between two readings of a queue is taken for a stray date
MAX_GAP_DAYS = 366
#: timestamps outside these years are rejected (a typo, or an epoch default like 0001-01-01)
YEARS = (1900, 2200)
_FIRST_S = int(pd.Timestamp(f"{YEARS[0]}-01-01").value // 10**9)
_END_S = int(pd.Timestamp(f"{YEARS[1]}-01-01").value // 10**9)

TimestampMode = Literal["auto", "local"]
_NULL_MARKERS = ["", "NA", "N/A", "n/a", "NaN", "nan", "NULL", "null", "None", "-"]
_DELIMITERS = (",", ";", "\t", "|")
_TOTAL_RE = r"^(?:grand\s+)?(?:totals?|sum|summe|gesamt|totaal)\b"

# a clock time followed by a UTC offset at the end of the text: 'Z', '+01:00', '-0500', '+01'
# (RE2-compatible, so pyarrow evaluates them in C++ on the whole column)
_HAS_OFFSET_RE = r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$"
_STRIP_OFFSET_RE = r"(\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$"
# day/month/year or month/day/year with '/', '.' or '-' and a four-digit year
_DMY_RE = r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(.*)$"
# a plain decimal number (what pandas.to_numeric reads, without hex, NaN or thousands marks)
_NUMBER_RE = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^(?i:[+-]?inf(?:inity)?)$"
# a clock time whose minutes were cut to one digit ('09:3'): a truncated line
_CUT_TIME_RE = r"\d:\d$"


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class _Columns:
    """The column names a file is read with."""

    timestamp: str
    volume: str
    queue: str
    aht: str
    abandoned: str

    @property
    def wanted(self) -> list[str]:
        return [self.timestamp, self.volume, self.queue, self.aht, self.abandoned]

    @property
    def required(self) -> list[str]:
        return [self.timestamp, self.volume]


def read_volumes(
    path: str | Path,
    *,
    timestamp_column: str = "timestamp",
    volume_column: str = "volume",
    queue_column: str = "queue",
    aht_column: str = "aht_s",
    abandoned_column: str = "abandoned",
    queue: str | None = None,
    timezone: str | None = None,
    timestamps: TimestampMode = "auto",
    max_volume: float | None = DEFAULT_MAX_VOLUME,
    encoding: str = "utf-8",
    timestamp_format: str | None = None,
) -> pd.DataFrame:
    """Read and validate a volume export into the long table ``queue, ds, y[, aht_s, abandoned]``.

    Parameters
    ----------
    path
        CSV file (plain or compressed: ``.gz``, ``.zip``, ``.bz2``, ``.xz``, ``.zst``)
        or Parquet file (``.parquet``/``.pq``). With or without BOM; LF or CRLF;
        separated by ``,`` ``;`` tab or ``|`` (detected from the header line).
    timestamp_column, volume_column
        Required columns: interval start, contacts offered in the interval.
    queue_column
        Queue name column. Optional: a single-queue file without it is named ``queue``,
        or else after the file (``bank_calls_5min.csv`` -> ``bank_calls_5min``).
    aht_column, abandoned_column
        Optional columns: average handle time in seconds (empty cells allowed),
        abandoned contacts.
    queue
        With a queue column: keep only this queue. Without one: the queue's name.
    timezone
        The centre's IANA time zone. Timestamps with a UTC offset are converted to it
        and made naive; on the fall-back day, rows of the repeated hour are summed into
        one local interval. Required when the file's timestamps carry offsets, unless
        ``timestamps="local"``.
    timestamps
        ``"auto"``: naive timestamps are local times, offset timestamps are converted.
        ``"local"``: any offset written in the file is ignored and the clock time is
        taken as local (for exports that stamp local times with a spurious ``Z``).
    max_volume
        Plausibility bound: a row with more contacts than this in one interval is
        rejected (``None``: no bound). Fractional volumes are accepted.
    encoding
        Text encoding of a CSV (``"utf-8"``, BOM or not; ``"latin-1"``, ``"cp1252"``...).
    timestamp_format
        ``strftime`` format of the timestamps (``"%d/%m/%Y %H:%M"``) when they are
        neither ISO 8601 nor dates whose day/month order the data settles.

    Returns
    -------
    DataFrame
        Sorted by ``queue``, ``ds``; ``ds`` is ``datetime64[ns]`` naive local time,
        ``y``/``aht_s``/``abandoned`` float64. ``attrs["timezone"]`` holds ``timezone``
        and ``attrs["source"]`` the path.

    Raises
    ------
    DataValidationError
        One line naming file, row (line number, header = 1) and column: file missing,
        empty, truncated or unreadable; required column missing (lists the columns
        found); unparseable or empty timestamp; non-numeric, empty, negative,
        non-finite or implausibly large volume; bad AHT or abandoned values; two
        different rows for one (queue, timestamp); a timestamp off the file's interval
        grid; a gap of more than a year. See the module's input policy.

    Warns
    -----
    DataRepairWarning
        When a repeated header, a trailing totals row or an exact duplicate row was
        dropped.
    """
    path = Path(path)
    if timestamps not in ("auto", "local"):
        raise ValueError(f"timestamps must be 'auto' or 'local', got {timestamps!r}")
    if timezone is not None:
        check_timezone(timezone)
    if max_volume is not None and not max_volume > 0:
        raise ValueError(f"max_volume must be > 0 or None, got {max_volume!r}")
    encoding = _check_encoding(encoding)
    cols = _Columns(timestamp_column, volume_column, queue_column, aht_column,
                    abandoned_column)
    opts = dict(queue=queue, timezone=timezone, mode=timestamps, max_volume=max_volume,
                timestamp_format=timestamp_format)
    _check_file(path)
    if _is_parquet(path):
        out = _read_parquet_fast(path, cols, **opts)
        if out is None:
            frame = _read_parquet(path, cols)
            out = _validate(frame, np.arange(len(frame)) + 1, path, cols, **opts)
    else:
        sniff = _sniff_csv(path, encoding, cols)
        out = None
        if _fast_path_ok(path, encoding, timestamps, timestamp_format, sniff):
            out = _read_csv_fast(path, sniff, cols, **opts)
        if out is None:  # the exact path: repairs, or the first bad row named
            _release_arrow_memory()
            out = _validate(*_read_csv_exact(path, sniff, cols, encoding), path, cols,
                            decimal_comma=sniff.delimiter != ",", **opts)
    out.attrs["timezone"] = timezone
    out.attrs["source"] = str(path)
    return out


def read_volumes_for(config: PlanConfig) -> pd.DataFrame:
    """Read the volumes file a plan configuration names, with its column mapping.

    Uses ``config.data`` (path, column names, queue name, timestamp mode and format,
    encoding, plausibility bound) and ``config.timezone``.
    """
    src = config.data
    return read_volumes(
        src.volumes,
        timestamp_column=src.timestamp_column,
        volume_column=src.volume_column,
        queue_column=src.queue_column,
        aht_column=src.aht_column,
        abandoned_column=src.abandoned_column,
        queue=src.queue,
        timezone=config.timezone,
        timestamps=src.timestamps,
        max_volume=getattr(src, "max_volume", DEFAULT_MAX_VOLUME),
        encoding=getattr(src, "encoding", "utf-8"),
        timestamp_format=getattr(src, "timestamp_format", None),
    )


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


def _release_arrow_memory() -> None:
    """Hand memory pyarrow's pool keeps after a large read back to the system."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def _check_encoding(encoding: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except (LookupError, TypeError):
        raise ValueError(f"unknown text encoding {encoding!r}; expected e.g. 'utf-8' or "
                         "'latin-1'") from None
    return "utf-8-sig" if name in ("utf-8", "utf-8-sig") else name


def _check_file(path: Path) -> None:
    if not path.exists():
        raise DataValidationError("file not found", file=path)
    if not path.is_file():
        raise DataValidationError("not a file", file=path)


def _is_parquet(path: Path) -> bool:
    suffixes = [s.lower() for s in path.suffixes]
    return bool(suffixes) and suffixes[-1] in (".parquet", ".pq")


def _compression(path: Path) -> str | None:
    return {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zip": "zip", ".zst": "zstd"}.get(
        path.suffix.lower())


def _open_binary(path: Path):
    """Open a (possibly compressed) file for reading bytes."""
    kind = _compression(path)
    if kind == "gzip":
        import gzip
        return gzip.open(path, "rb")
    if kind == "bz2":
        import bz2
        return bz2.open(path, "rb")
    if kind == "xz":
        import lzma
        return lzma.open(path, "rb")
    if kind == "zip":
        import zipfile
        archive = zipfile.ZipFile(path)
        names = [n for n in archive.namelist() if not n.endswith("/")]
        if len(names) != 1:
            raise DataValidationError(f"zip archive holds {len(names)} files; expected "
                                      "exactly one CSV", file=path)
        return archive.open(names[0])
    if kind == "zstd":
        try:
            import zstandard
        except ImportError:
            raise DataValidationError("cannot read .zst files here (zstandard is not "
                                      "installed); expected gzip or plain CSV",
                                      file=path) from None
        return zstandard.open(path, "rb")
    return open(path, "rb")


def _corrupt(path: Path, exc: BaseException) -> DataValidationError:
    return DataValidationError(
        f"compressed file is truncated or corrupt ({_first_line(exc)}); expected a "
        "complete export: copy or export it again", file=path)


@dataclass(frozen=True)
class _Sniff:
    """What the header line says about a CSV."""

    delimiter: str
    names: dict[str, str]  # stripped name -> name as written
    fields: int


def _sniff_csv(path: Path, encoding: str, cols: _Columns) -> _Sniff:
    """Read the header line: separator, column names; fail early on missing columns."""
    try:
        with _open_binary(path) as handle:
            head = handle.read(1 << 16)
    except DataValidationError:
        raise
    except (EOFError, OSError, ValueError) as exc:
        raise _corrupt(path, exc) if _compression(path) else _unreadable(path, exc) from None
    except Exception as exc:  # zipfile.BadZipFile, zstd errors
        raise _corrupt(path, exc) from None
    if not head.strip():
        raise DataValidationError("file is empty; expected a CSV header and data rows",
                                  file=path)
    first = head.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        header = first.decode(encoding)
    except UnicodeDecodeError as exc:
        raise _not_text(path, encoding, 1, exc) from None
    if "\x00" in header:
        raise DataValidationError("binary data, not CSV text; expected a CSV (optionally "
                                  "compressed) or a Parquet file", file=path)
    delimiter = max(_DELIMITERS, key=lambda d: (header.count(d), d == ","))
    written = next(csv.reader([header], delimiter=delimiter))
    names = {c.strip(): c for c in written}
    _require_columns(list(names), cols.required, path)
    return _Sniff(delimiter=delimiter, names=names, fields=len(written))


def _not_text(path: Path, encoding: str, line: int | None,
              exc: UnicodeDecodeError) -> DataValidationError:
    bad = exc.object[exc.start:exc.start + 1].hex() if exc.object else "?"
    shown = "UTF-8" if encoding == "utf-8-sig" else encoding
    return DataValidationError(
        f"not {shown} text (byte 0x{bad}); save the export as UTF-8, or set its encoding "
        "(data.encoding, --encoding), e.g. 'latin-1' or 'cp1252'", file=path, row=line)


def _fast_path_ok(path: Path, encoding: str, mode: str, timestamp_format: str | None,
                  sniff: _Sniff) -> bool:
    return (encoding == "utf-8-sig" and timestamp_format is None
            and _compression(path) in (None, "gzip", "bz2")
            and sniff.delimiter in (",", ";", "\t", "|"))


def _read_csv_fast(path: Path, sniff: _Sniff, cols: _Columns, **opts) -> pd.DataFrame | None:
    """Typed read with pyarrow and array checks; ``None`` when the exact path must decide.

    Handles the common clean case (naive ISO timestamps, plain numbers, no duplicates)
    in a fraction of the memory and time of a text read; anything else falls back.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    present = [c for c in cols.wanted if c in sniff.names]
    numeric = {cols.volume, cols.aht, cols.abandoned}
    types = {sniff.names[c]: (pa.float64() if c in numeric else pa.string()) for c in present}
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=sniff.delimiter),
            convert_options=pacsv.ConvertOptions(
                include_columns=[sniff.names[c] for c in present], column_types=types,
                null_values=_NULL_MARKERS, strings_can_be_null=False,
                quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError, EOFError):
        return None
    columns = {c: table.column(sniff.names[c]) for c in present}
    del table
    return _fast_table(columns, path, cols, **opts)


def _read_parquet_fast(path: Path, cols: _Columns, **opts) -> pd.DataFrame | None:
    """Parquet counterpart of :func:`_read_csv_fast`."""
    import pyarrow.parquet as pq

    try:
        names = {str(c).strip(): c for c in pq.read_schema(path).names}
        present = [c for c in cols.wanted if c in names]
        if not all(c in names for c in cols.required):
            return None
        table = pq.read_table(path, columns=[names[c] for c in present])
    except Exception:  # the exact path reports what is wrong
        return None
    columns = {c: table.column(names[c]) for c in present}
    del table
    return _fast_table(columns, path, cols, **opts)


def _fast_table(columns: dict, path: Path, cols: _Columns, *, queue, timezone, mode,
                max_volume, timestamp_format) -> pd.DataFrame | None:
    """Validate arrow columns as arrays and build the long table, or ``None`` to let the
    exact path decide (and name the first bad row)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(columns[cols.timestamp])
    if n == 0 or timestamp_format is not None:
        return None
    # queue: codes into the sorted, stripped names
    if cols.queue in columns:
        qcol = columns.pop(cols.queue)
        if pa.types.is_dictionary(qcol.type):
            qcol = qcol.cast(pa.string())
        if not (pa.types.is_string(qcol.type) or pa.types.is_large_string(qcol.type)):
            return None
        enc = qcol.combine_chunks().dictionary_encode()
        del qcol
        if enc.null_count:
            return None
        stripped = np.asarray([str(x).strip() for x in enc.dictionary.to_pylist()], dtype=object)
        if (stripped == "").any():
            return None
        names, remap = np.unique(stripped.astype(str), return_inverse=True)
        names = names.astype(object)
        codes = remap.astype(np.int32)[enc.indices.to_numpy(zero_copy_only=False)]
        del enc
        keep = None
        if queue is not None:
            if queue not in set(names):
                return None
            keep = codes == int(np.flatnonzero(names == queue)[0])
            codes = np.zeros(int(keep.sum()), dtype=np.int32)
            names = np.asarray([queue], dtype=object)
    else:
        name = queue if queue is not None else path.name.split(".")[0]
        codes = np.zeros(n, dtype=np.int32)
        names = np.asarray([name], dtype=object)
        keep = None

    # timestamps: naive ones only (offsets, other forms: exact path)
    ts = columns.pop(cols.timestamp)
    try:
        if pa.types.is_string(ts.type) or pa.types.is_large_string(ts.type):
            ts = pc.cast(ts, pa.timestamp("s"))  # strict ISO 8601, no offset
        elif not pa.types.is_timestamp(ts.type) or ts.type.tz is not None:
            return None
        if ts.null_count:
            return None
        sec = ts.cast(pa.timestamp("s")).to_numpy().view(np.int64)  # exact seconds or raise
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    del ts
    if keep is not None:
        sec = sec[keep]
    if len(sec) and (sec.min() < _FIRST_S or sec.max() >= _END_S):
        return None
    if len(sec) and ((np.diff(codes) < 0) | ((np.diff(codes) == 0) & (np.diff(sec) < 0))).any():
        order = np.argsort((codes.astype(np.int64) << 40) | (sec - sec.min()), kind="stable")
        codes, sec = codes[order], sec[order]
    else:
        order = None
    values = {}
    for c, what in ((cols.volume, "y"), (cols.aht, "aht_s"), (cols.abandoned, "abandoned")):
        if c not in columns:
            continue
        arr = columns.pop(c)
        if not (pa.types.is_floating(arr.type) or pa.types.is_integer(arr.type)):
            return None
        v = np.asarray(arr.to_numpy(), dtype=np.float64)
        del arr
        if keep is not None:
            v = v[keep]
        if order is not None:
            v = v[order]
        bad = np.isinf(v) | (v < 0)
        if what == "y":
            bad |= np.isnan(v)
            if max_volume is not None:
                bad |= v > max_volume
        elif what == "aht_s":
            bad |= v > MAX_AHT_S
        if bad.any():
            return None
        values[what] = v
    del order
    same_q = codes[1:] == codes[:-1]
    if (same_q & (sec[1:] == sec[:-1])).any():  # duplicates, fall-back hours: exact path
        return None
    if _grid_problem(sec, codes) is not None:
        return None
    out = pd.DataFrame({
        "queue": _str_column(codes, names),
        "ds": (sec * 1_000_000_000).view(DS_DTYPE),
    })
    for k in ("y", "aht_s", "abandoned"):
        if k in values:
            out[k] = values[k]
    return out


def _str_column(codes: np.ndarray, names: np.ndarray) -> pd.Series:
    """A ``str`` column of ``names[codes]`` built in arrow (no Python string per row)."""
    import pyarrow as pa

    arr = pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()),
                                         pa.array(list(names), pa.string()))
    return pd.Series(pd.array(arr.cast(pa.large_string()), dtype="str"))


def _read_parquet(path: Path, cols: _Columns) -> pd.DataFrame:
    try:
        import pyarrow.parquet as pq

        schema_names = pq.read_schema(path).names
        names = {str(c).strip(): c for c in schema_names}
        _require_columns(list(names), cols.required, path)
        use = [names[c] for c in cols.wanted if c in names]
        frame = pd.read_parquet(path, columns=use)
    except DataValidationError:
        raise
    except Exception as exc:  # pyarrow raises many types for a bad file
        raise DataValidationError(
            f"cannot read as Parquet ({_first_line(exc)})", file=path
        ) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.reset_index(drop=True)
    if frame.empty:
        raise DataValidationError("no data rows", file=path)
    ts = frame[cols.timestamp]
    if pd.api.types.is_numeric_dtype(ts.dtype) or pd.api.types.is_bool_dtype(ts.dtype):
        raise DataValidationError(
            f"holds {ts.dtype} numbers; expected timestamps (a Parquet timestamp column or "
            "ISO 8601 text such as 2025-09-01 08:30)", file=path, column=cols.timestamp)
    for c in (cols.volume, cols.aht, cols.abandoned):
        if c in frame.columns and (pd.api.types.is_datetime64_any_dtype(frame[c].dtype)
                                   or pd.api.types.is_bool_dtype(frame[c].dtype)):
            raise DataValidationError(f"holds {frame[c].dtype} values; expected numbers",
                                      file=path, column=c)
    return frame


def _read_csv_exact(path: Path, sniff: _Sniff, cols: _Columns, encoding: str
                    ) -> tuple[pd.DataFrame, np.ndarray]:
    """Read every wanted column as text; returns the frame and each row's line number.

    Text is read by pyarrow (compact arrow strings) when line numbers are certain to
    follow row positions (no empty lines, every row complete); else by pandas.
    """
    use = {sniff.names[c]: c for c in cols.wanted if c in sniff.names}
    frame = _read_text_arrow(path, sniff, use, encoding)
    if frame is not None:
        lines = frame.index.to_numpy() + 2
        blank = (frame == "").all(axis=1).to_numpy()
        if blank.any():
            frame, lines = frame[~blank], lines[~blank]
        if frame.empty:
            raise DataValidationError("no data rows after the header", file=path)
        _check_last_line(path, sniff, encoding, int(lines[-1]))
        return frame.reset_index(drop=True), lines
    try:
        frame = pd.read_csv(
            path,
            sep=sniff.delimiter,
            usecols=list(use),
            keep_default_na=False,
            na_values=[""],
            dtype="str",
            encoding=encoding,
            compression="infer",
            skip_blank_lines=False,
            engine="c",
        )
    except UnicodeDecodeError as exc:
        raise _not_text(path, encoding, _line_of_byte(path, encoding), exc) from None
    except pd.errors.EmptyDataError:
        raise DataValidationError("file is empty; expected a CSV header and data rows",
                                  file=path) from None
    except (EOFError, OSError) as exc:
        raise _corrupt(path, exc) if _compression(path) else _unreadable(path, exc) from None
    except Exception as exc:
        raise _unreadable(path, exc) from None
    frame = frame.rename(columns=use)
    lines = frame.index.to_numpy() + 2
    blank = frame.isna().all(axis=1).to_numpy()
    if blank.any():
        frame, lines = frame[~blank], lines[~blank]
    if frame.empty:
        raise DataValidationError("no data rows after the header", file=path)
    _check_last_line(path, sniff, encoding, int(lines[-1]))
    return frame.reset_index(drop=True), lines


def _read_text_arrow(path: Path, sniff: _Sniff, use: dict[str, str], encoding: str
                     ) -> pd.DataFrame | None:
    """All wanted columns as arrow-backed text, or ``None`` when pandas must read it."""
    if encoding != "utf-8-sig" or _compression(path) not in (None, "gzip", "bz2"):
        return None
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        if _has_empty_line(path):  # pyarrow skips them: row positions would not be lines
            return None
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=sniff.delimiter),
            convert_options=pacsv.ConvertOptions(
                include_columns=list(use), column_types={c: pa.large_string() for c in use},
                strings_can_be_null=False, quoted_strings_can_be_null=False, null_values=[]),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError, EOFError):
        return None  # short or long rows, bad UTF-8, damage: pandas names the line
    frame = pd.DataFrame({use[c]: pd.array(table.column(c), dtype="str") for c in use})
    del table
    return frame


def _has_empty_line(path: Path) -> bool:
    """Does the file hold an empty line before its end? (streamed, any compression)"""
    tail = b""
    with _open_binary(path) as handle:
        while block := handle.read(1 << 24):
            data = tail + block
            body, tail = data[:-4], data[-4:]
            if b"\n\n" in body or b"\n\r\n" in body:
                return True
    end = tail.rstrip(b"\r\n")
    return b"\n\n" in end or b"\n\r\n" in end


def _line_of_byte(path: Path, encoding: str) -> int | None:
    """The line number of the first undecodable byte (plain files up to 256 MB)."""
    if _compression(path) or path.stat().st_size > 1 << 28:
        return None
    data = path.read_bytes()
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        return data.count(b"\n", 0, exc.start) + 1
    return None


def _check_last_line(path: Path, sniff: _Sniff, encoding: str, line: int) -> None:
    """A plain file whose last line has no line end and too few fields was cut short."""
    if _compression(path) or sniff.fields < 2:
        return
    with open(path, "rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - 4096))
        tail = handle.read()
    if not tail or tail.endswith(b"\n"):
        return
    last = tail.rsplit(b"\n", 1)[-1].rstrip(b"\r").decode(encoding, errors="replace")
    found = last.count(sniff.delimiter) + 1
    if found < sniff.fields:
        raise DataValidationError(
            f"last line has {found} of {sniff.fields} fields and no line end; the export "
            "looks truncated: export it again", file=path, row=line)


def _require_columns(found, required: list[str], path: Path) -> None:
    found = list(found)
    for col in required:
        if col not in found:
            raise DataValidationError(
                f"missing required column '{col}'; columns found: {_list(found)}"
                " (map yours with the column options)",
                file=path,
            )


def _unreadable(path: Path, exc: Exception) -> DataValidationError:
    if isinstance(exc, UnicodeDecodeError):
        return DataValidationError(
            f"not UTF-8 text (byte {exc.start}); expected a UTF-8 CSV or a Parquet file",
            file=path,
        )
    text = _first_line(exc)
    m = re.search(r"line (\d+)", text)
    row = int(m.group(1)) if m else None
    return DataValidationError(f"cannot read as CSV ({text})", file=path, row=row)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def _list(items, limit: int = 12) -> str:
    items = [str(i) for i in items]
    shown = ", ".join(items[:limit])
    return shown + (f", ... ({len(items)} in all)" if len(items) > limit else "")


# --------------------------------------------------------------------------- validation


def _validate(frame: pd.DataFrame, lines: np.ndarray, path: Path, cols: _Columns, *,
              queue: str | None, timezone: str | None, mode: str, max_volume: float | None,
              timestamp_format: str | None, decimal_comma: bool = False) -> pd.DataFrame:
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
        name = queue if queue is not None else path.name.split(".")[0]
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
    """Parse ``16/11/2026 08:00`` (or ``11/16/2026``, ``16.11.2026``) dates.

    The order is settled by the data: a first number above 12 anywhere means day
    first, a second number above 12 means month first. ``None`` when the column is
    not in this shape.
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
    b = parts[1].astype("int64").to_numpy()
    day_first = (a > 12).any()
    month_first = (b > 12).any()
    if day_first and month_first:
        pos = int(np.argmax(b > 12))
        raise where.error(f"cannot read timestamp '{text.iloc[pos]}': other rows put the day "
                          "first; expected one date order in the whole file", pos, column)
    if not day_first and not month_first:
        raise where.error(
            f"cannot tell day from month in '{text.iloc[0]}' (no number above 12 in either "
            "place); set the format, e.g. data.timestamp_format = '%d/%m/%Y %H:%M' "
            "(--timestamp-format)", 0, column)
    day, month = (a, b) if day_first else (b, a)
    iso = (parts[2] + "-" + pd.Series(month, index=text.index).astype("str").str.zfill(2)
           + "-" + pd.Series(day, index=text.index).astype("str").str.zfill(2)
           + parts[3].fillna("").str.replace(r"^\s+(\d):", r" 0\1:", regex=True))
    ts = pd.to_datetime(iso, format="ISO8601", errors="coerce")
    bad = ts.isna().to_numpy()
    if bad.any():
        pos = int(np.argmax(bad))
        raise where.error(f"cannot read timestamp '{text.iloc[pos]}'; expected a date and "
                          "time such as 16/11/2026 08:30", pos, column)
    return ts


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
    sum the two rows of a fall-back hour.

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
    if members.size:  # fall-back hour: two instants, one local interval -> sum
        local_dup = np.zeros(len(out), dtype=bool)
        local_dup[members] = True
        agg = {"y": "sum"}
        if "abandoned" in out.columns:
            agg["abandoned"] = lambda s: s.sum(min_count=1)
        merged = _aggregate(out[local_dup], agg)
        first_line = pd.DataFrame({"queue": out["queue"].to_numpy()[local_dup],
                                   "ds": out["ds"].to_numpy()[local_dup],
                                   "line": where.lines[local_dup]}).groupby(
            ["queue", "ds"], sort=True)["line"].min().to_numpy()  # same order as merged
        out = pd.concat([out[~local_dup], merged], ignore_index=True)
        where = _Where(where.path, np.concatenate([where.lines[~local_dup], first_line]))
    return out, where


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
    """Sum rows per (queue, ds); AHT is the volume-weighted mean of known values."""
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


# --------------------------------------------------------------------------- inference


def infer_interval_s(volumes: pd.DataFrame) -> int:
    """The data's interval: the most common positive gap between consecutive
    timestamps of a queue within one day, in seconds.

    Returns 86400 when no day holds two timestamps (daily data).
    """
    if volumes.empty:
        raise DataValidationError("no rows to infer the interval from")
    frame = volumes.sort_values(["queue", "ds"]) if "queue" in volumes.columns else \
        volumes.sort_values("ds")
    ns = frame["ds"].to_numpy().astype("datetime64[s]").astype(np.int64)
    gaps = np.diff(ns)
    same_day = np.diff(ns // DAY_S) == 0
    if "queue" in frame.columns:
        q = frame["queue"].to_numpy()
        same_day &= q[1:] == q[:-1]
    gaps = gaps[same_day & (gaps > 0)]
    if gaps.size == 0:
        return DAY_S
    values, counts = np.unique(gaps, return_counts=True)
    return int(values[np.argmax(counts)])


def infer_hours(
    one_queue_table: pd.DataFrame,
    interval_s: int,
    *,
    min_day_share: float = 0.5,
    min_slot_share: float = 0.5,
    min_contact_share: float = 0.1,
    min_volume_share: float = 0.02,
    max_gap_s: int = 7200,
) -> OpeningHours:
    """Infer a queue's arrival hours per weekday from its history.

    The rule, per weekday (Monday ... Sunday):

    * a day is *active* when it has contacts (total volume > 0);
    * the weekday is closed when fewer than ``min_day_share`` (half) of its calendar
      days between the first and last day of the data are active;
    * an interval slot (time of day, on the ``interval_s`` grid) is *open* on the
      weekday when the data has a row for it on at least ``min_slot_share`` (half) of
      the weekday's active days, and, over the whole history (all weekdays pooled), at
      least ``min_contact_share`` (a tenth) of the rows for that slot have contacts;
      so a quiet night slot of a 24/7 queue stays open while the all-zero rows some
      systems write while the centre is closed do not count;
    * and its mean volume on the weekday's active days is at least
      ``min_volume_share`` (2%) of the weekday's busiest slot, so a trickle of calls
      to a closed line (IVR, self-service) does not open it;
    * closed stretches of up to ``max_gap_s`` (2 hours) between open slots are
      bridged, and the day's hours are the longest run of open slots (one span a
      day: a tail of calls after midnight belongs to the evening before and is left
      out).
    """
    if one_queue_table.empty:
        raise DataValidationError("no rows to infer opening hours from")
    if "queue" in one_queue_table.columns and one_queue_table["queue"].nunique() > 1:
        raise ValueError("infer_hours expects one queue's table")
    sec = one_queue_table["ds"].to_numpy().astype("datetime64[s]").view(np.int64)
    y = one_queue_table["y"].to_numpy(dtype="float64", na_value=np.nan)
    return _infer_hours_arrays(sec, y, interval_s, min_day_share=min_day_share,
                               min_slot_share=min_slot_share,
                               min_contact_share=min_contact_share,
                               min_volume_share=min_volume_share, max_gap_s=max_gap_s)


def _infer_hours_arrays(
    sec: np.ndarray, y: np.ndarray, interval_s: int, *, min_day_share: float = 0.5,
    min_slot_share: float = 0.5, min_contact_share: float = 0.1,
    min_volume_share: float = 0.02, max_gap_s: int = 7200,
) -> OpeningHours:
    """:func:`infer_hours` on arrays of local times (seconds) and volumes."""
    n_slots = DAY_S // interval_s
    key = sec // interval_s  # absolute slot number: day * n_slots + slot of the day
    if (np.diff(key) > 0).all():
        k, v = key, np.nan_to_num(y)
    else:
        k, inverse = np.unique(key, return_inverse=True)
        v = np.bincount(inverse, weights=np.nan_to_num(y), minlength=k.size)
    d = k // n_slots
    s = k % n_slots
    day = d
    weekday_of = (d + 3) % 7  # 1970-01-01 was a Thursday (weekday 3)

    d0 = int(day.min())
    day_total = np.bincount(d - d0, weights=v)
    active_days = np.flatnonzero(day_total > 0) + d0
    active = day_total[d - d0] > 0
    calendar = np.arange(d0, day.max() + 1)
    cal_count = np.bincount((calendar + 3) % 7, minlength=7)
    act_count = np.bincount((active_days + 3) % 7, minlength=7)

    cell = weekday_of[active] * n_slots + s[active]
    size = 7 * n_slots
    present = np.bincount(cell, minlength=size).reshape(7, n_slots).astype(float)
    positive = np.bincount(cell, weights=(v[active] > 0).astype(float),
                           minlength=size).reshape(7, n_slots)
    volume = np.bincount(cell, weights=v[active], minlength=size).reshape(7, n_slots)

    # contacts are judged over the whole history (all weekdays pooled), so a quiet
    # slot is not closed by chance in a short history
    rows_in_slot = present.sum(axis=0)
    seen = positive.sum(axis=0) >= min_contact_share * np.maximum(rows_in_slot, 1)
    seen &= rows_in_slot > 0
    spans: list[tuple[int, int] | None] = []
    for wd in range(7):
        n_act = act_count[wd]
        if n_act == 0 or n_act < min_day_share * cal_count[wd]:
            spans.append(None)
            continue
        mean_volume = volume[wd] / n_act
        is_open = ((present[wd] >= min_slot_share * n_act) & seen
                   & (mean_volume >= min_volume_share * mean_volume.max()))
        run = _longest_run(is_open, max_gap=max_gap_s // interval_s)
        if run is None:
            spans.append(None)
            continue
        first, last = run
        spans.append((first * interval_s // 60, min((last + 1) * interval_s // 60, 1440)))
    return OpeningHours(tuple(spans))


def _longest_run(is_open: np.ndarray, max_gap: int) -> tuple[int, int] | None:
    """First and last slot of the longest run of open slots, after bridging closed
    stretches of at most ``max_gap`` slots between open ones (earliest on a tie)."""
    idx = np.flatnonzero(is_open)
    if idx.size == 0:
        return None
    breaks = np.flatnonzero(np.diff(idx) > max_gap + 1)
    starts = np.concatenate([[idx[0]], idx[breaks + 1]])
    ends = np.concatenate([idx[breaks], [idx[-1]]])
    best = int(np.argmax(ends - starts))
    return int(starts[best]), int(ends[best])


# --------------------------------------------------------------------------- regularise


@dataclass(frozen=True)
class QueueReport:
    """What :func:`regularise` did to one queue."""

    queue: str
    rows: int
    first: pd.Timestamp
    last: pd.Timestamp
    data_interval_s: int
    hours: OpeningHours
    hours_inferred: bool
    observed_rows: int
    filled_rows: int
    filled_volume: float
    missing_days: tuple[pd.Timestamp, ...]
    dropped_rows: int
    dropped_volume: float
    total_volume: float

    def __str__(self) -> str:
        lines = [
            f"queue {self.queue}: {self.rows:,} intervals from {self.first:%Y-%m-%d %H:%M} "
            f"to {self.last:%Y-%m-%d %H:%M} (data every {self.data_interval_s // 60} min)",
            f"  hours ({'inferred' if self.hours_inferred else 'given'}): "
            f"{self.hours.describe()}",
            f"  volume {self.total_volume:,.0f} contacts observed",
        ]
        if self.filled_rows:
            lines.append(
                f"  gaps filled: {self.filled_rows:,} intervals "
                f"(~{self.filled_volume:,.0f} contacts, same slot of the nearest week)"
            )
        else:
            lines.append("  gaps filled: none")
        if self.missing_days:
            days = ", ".join(f"{d:%Y-%m-%d %a}" for d in self.missing_days)
            lines.append(f"  missing whole days ({len(self.missing_days)}, filled): {days}")
        if self.dropped_rows:
            lines.append(
                f"  outside opening hours: {self.dropped_rows:,} rows dropped "
                f"({self.dropped_volume:,.0f} contacts)"
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class RegulariseReport:
    """Per-queue :class:`QueueReport` entries; ``str()`` gives a readable summary."""

    interval_s: int
    queues: dict[str, QueueReport] = field(default_factory=dict)

    @property
    def filled_rows(self) -> int:
        return sum(r.filled_rows for r in self.queues.values())

    @property
    def dropped_volume(self) -> float:
        return sum(r.dropped_volume for r in self.queues.values())

    def __str__(self) -> str:
        head = f"regularised to {self.interval_s // 60}-minute intervals, " \
               f"{len(self.queues)} queue(s)"
        return "\n".join([head, *(str(r) for r in self.queues.values())])


HoursArg = OpeningHours | Mapping[str, OpeningHours | None] | None


def regularise(
    volumes: pd.DataFrame,
    *,
    interval_s: int,
    hours: HoursArg = None,
    timezone: str | None = None,
) -> tuple[pd.DataFrame, RegulariseReport]:
    """Put each queue on the regular grid of its arrival intervals.

    Steps, per queue:

    1. finer data is aggregated to ``interval_s`` (interval start = floor of the
       timestamp): ``y`` and ``abandoned`` are summed, ``aht_s`` is the volume-weighted
       mean of the known values;
    2. opening (arrival) hours come from ``hours`` (one :class:`OpeningHours` for all
       queues, or a dict queue -> hours where a missing or ``None`` entry means
       inferred), else :func:`infer_hours`;
    3. rows outside the hours, or (with ``timezone``) stamped at a local time that does
       not exist, are dropped (the report counts them and their volume);
    4. the grid is every open interval of every calendar day from the queue's first
       to its last day; with ``timezone``, local times that do not exist (the
       spring-forward hour) are not part of the grid;
    5. grid intervals without data are filled, ``filled=True``, with the value of the
       same interval in the most recent earlier week that has data (one week earlier
       when present), else in the nearest later week, else 0. ``aht_s`` and
       ``abandoned`` stay NaN on filled rows. Whole missing days (public holidays
       absent from an export, outages of the data feed) are filled and flagged the
       same way so models see a regular grid; the report lists them.

    The work is done on numpy arrays queue by queue (no per-queue DataFrames), so ten
    million rows over a thousand queues regularise in seconds.

    Parameters
    ----------
    volumes
        Long table from :func:`read_volumes` (several queues allowed).
    interval_s
        Target interval in seconds; a whole multiple of the data's interval.
    hours
        See step 2.
    timezone
        IANA zone of the centre; defaults to ``volumes.attrs["timezone"]``.

    Returns
    -------
    (DataFrame, RegulariseReport)
        Columns ``queue, ds, y[, aht_s, abandoned], filled`` sorted by queue, ds.
    """
    if interval_s <= 0 or DAY_S % interval_s:
        raise ValueError(f"interval_s must divide a day, got {interval_s}")
    missing = {"queue", "ds", "y"} - set(volumes.columns)
    if missing:
        raise DataValidationError(
            f"volume table lacks column(s) {_list(sorted(missing))}; expected queue, ds, y"
        )
    if volumes.empty:
        raise DataValidationError("no rows to regularise")
    if timezone is None:
        timezone = volumes.attrs.get("timezone")
    optional = [c for c in ("aht_s", "abandoned") if c in volumes.columns]

    codes, names = pd.factorize(volumes["queue"], sort=True)
    names = np.asarray([str(n) for n in names], dtype=object)
    sec = volumes["ds"].to_numpy().astype("datetime64[s]").view(np.int64)
    arrays = {c: volumes[c].to_numpy(dtype="float64", na_value=np.nan)
              for c in ("y", *optional)}
    unsorted = ((np.diff(codes) < 0) | ((np.diff(codes) == 0) & (np.diff(sec) < 0))).any()
    if unsorted:
        order = np.lexsort((sec, codes))
        codes, sec = codes[order], sec[order]
        arrays = {c: a[order] for c, a in arrays.items()}
    cuts = np.flatnonzero(np.diff(codes)) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [len(codes)]])
    nonexistent = _nonexistent_starts(sec.min(), sec.max(), interval_s, timezone)

    report = RegulariseReport(interval_s=interval_s)
    parts: list[dict[str, np.ndarray]] = []
    for code, (lo, hi) in enumerate(zip(starts, ends, strict=True)):
        name = str(names[code])
        part, qrep = _regularise_one(
            name, sec[lo:hi], {c: a[lo:hi] for c, a in arrays.items()}, interval_s,
            _hours_of(hours, name), nonexistent)
        part["code"] = np.full(len(part["sec"]), code, dtype=np.int32)
        parts.append(part)
        report.queues[name] = qrep

    def cat(key: str) -> np.ndarray:
        return np.concatenate([p[key] for p in parts])

    out = pd.DataFrame({
        "queue": _str_column(cat("code"), names),
        "ds": (cat("sec") * 1_000_000_000).view(DS_DTYPE),
        "y": cat("y"),
    })
    for c in optional:
        out[c] = cat(c)
    out["filled"] = cat("filled")
    parts.clear()
    out.attrs["timezone"] = timezone
    filled = report.filled_rows
    dropped = [r for r in report.queues.values() if r.dropped_rows]
    if filled or dropped:
        bits = []
        if filled:
            n_q = sum(1 for r in report.queues.values() if r.filled_rows)
            bits.append(f"filled {filled:,} missing interval(s) in {n_q} queue(s) with the "
                        "same slot of the nearest week")
        if dropped:
            bits.append(f"dropped {sum(r.dropped_volume for r in dropped):,.0f} contacts "
                        f"outside opening hours in {len(dropped)} queue(s)")
        warnings.warn("; ".join(bits), DataRepairWarning, stacklevel=2)
    return out, report


def _hours_of(hours: HoursArg, queue) -> OpeningHours | None:
    if hours is None or isinstance(hours, OpeningHours):
        return hours
    return hours.get(queue)


def _exists(starts, timezone: str) -> np.ndarray:
    """False for local times skipped by a spring-forward change in ``timezone``."""
    idx = pd.DatetimeIndex(starts)
    return ~np.asarray(idx.tz_localize(timezone, ambiguous=True, nonexistent="NaT").isna())


def _nonexistent_starts(first_s: int, last_s: int, interval_s: int,
                        timezone: str | None) -> np.ndarray:
    """Sorted local interval starts (seconds) between two times that do not exist in
    ``timezone`` (the spring-forward hours); empty without a time zone."""
    if timezone is None:
        return np.empty(0, dtype=np.int64)
    day0, day1 = first_s // DAY_S, last_s // DAY_S + 1
    grid = np.arange(day0 * DAY_S, day1 * DAY_S, interval_s, dtype=np.int64)
    gone = ~_exists(grid.view("datetime64[s]"), timezone)
    return grid[gone]


def _slot_table(hours: OpeningHours, interval_s: int) -> np.ndarray:
    """(7, slots a day) bool: is the interval starting at each slot open, Monday first."""
    minute = np.arange(DAY_S // interval_s) * interval_s // 60
    table = np.zeros((7, minute.size), dtype=bool)
    for wd, span in enumerate(hours.by_weekday):
        if span:
            table[wd] = (minute >= span[0]) & (minute < span[1])
    return table


def _week_slot(sec: np.ndarray, interval_s: int) -> tuple[np.ndarray, np.ndarray]:
    """Weekday (Monday 0) and slot of the day of local times in seconds."""
    return (sec // DAY_S + 3) % 7, (sec % DAY_S) // interval_s


def _interval_of(sec: np.ndarray) -> int:
    """The most common positive gap within a day of sorted times; a day when none."""
    gaps = np.diff(sec)
    same_day = (np.diff(sec // DAY_S) == 0) & (gaps > 0)
    if not same_day.any():
        return DAY_S
    return int(np.argmax(np.bincount(gaps[same_day])))


def _sum_by(keys_sorted: np.ndarray, starts: np.ndarray, values: np.ndarray,
            min_count: int = 0) -> np.ndarray:
    """Sum of ``values`` over runs of equal sorted keys; NaN when fewer than
    ``min_count`` known values."""
    known = ~np.isnan(values)
    total = np.add.reduceat(np.where(known, values, 0.0), starts)
    if min_count:
        total[np.add.reduceat(known.astype(np.int64), starts) < min_count] = np.nan
    return total


def _aggregate_arrays(fsec: np.ndarray, arrays: dict[str, np.ndarray]
                      ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Sum readings per interval start (sorted ``fsec``); AHT volume-weighted."""
    starts = np.flatnonzero(np.concatenate([[True], np.diff(fsec) != 0]))
    y = arrays["y"]
    out = {"y": _sum_by(fsec, starts, y)}
    if "abandoned" in arrays:
        out["abandoned"] = _sum_by(fsec, starts, arrays["abandoned"], min_count=1)
    if "aht_s" in arrays:
        a = arrays["aht_s"]
        known = ~np.isnan(a)
        w = np.where(known, y, 0.0)
        aw = np.add.reduceat(np.where(known, a, 0.0) * w, starts)
        ws = np.add.reduceat(w, starts)
        n_known = np.add.reduceat(known.astype(np.int64), starts)
        mean = np.add.reduceat(np.where(known, a, 0.0), starts) / np.maximum(n_known, 1)
        mean[n_known == 0] = np.nan
        out["aht_s"] = np.where(ws > 0, aw / np.maximum(ws, 1e-300), mean)
    return fsec[starts], out


def _fill_from_weeks(sec: np.ndarray, y: np.ndarray, interval_s: int) -> np.ndarray:
    """Fill NaN in ``y`` (on sorted grid times ``sec``) from the same weekday slot: the
    latest earlier week with a value, else the earliest later one, else 0."""
    weekday, slot = _week_slot(sec, interval_s)
    group = weekday * (DAY_S // interval_s) + slot
    order = np.lexsort((sec, group))
    g, v = group[order], y[order]
    idx = np.arange(v.size)
    valid = ~np.isnan(v)
    last = np.maximum.accumulate(np.where(valid, idx, -1))
    ok = (last >= 0) & (g[np.maximum(last, 0)] == g)
    filled = np.where(ok, v[np.maximum(last, 0)], np.nan)
    nxt = np.minimum.accumulate(np.where(valid, idx, v.size)[::-1])[::-1]
    ok2 = (nxt < v.size) & (g[np.minimum(nxt, v.size - 1)] == g)
    later = np.where(ok2, v[np.minimum(nxt, v.size - 1)], np.nan)
    filled = np.where(np.isnan(filled), later, filled)
    filled = np.where(np.isnan(filled), 0.0, filled)
    out = np.empty_like(y)
    out[order] = filled
    return out


def _regularise_one(
    name: str, sec: np.ndarray, arrays: dict[str, np.ndarray], interval_s: int,
    hours: OpeningHours | None, nonexistent: np.ndarray,
) -> tuple[dict[str, np.ndarray], QueueReport]:
    """One queue's grid from its sorted times (seconds) and value arrays."""
    data_interval = _interval_of(sec)
    if len(sec) > 1 and data_interval < DAY_S:
        if data_interval > interval_s:
            raise DataValidationError(
                f"queue '{name}' has data every {data_interval // 60} min, coarser than the "
                f"{interval_s // 60}-minute plan interval; expected data at the plan interval "
                "or finer"
            )
        if interval_s % data_interval:
            raise DataValidationError(
                f"queue '{name}' has data every {data_interval / 60:g} min, which does not "
                f"add up to the {interval_s // 60}-minute plan interval; expected a whole "
                "number of data intervals per plan interval"
            )
    fsec = sec - sec % interval_s
    if (np.diff(fsec) == 0).any():  # several readings per interval
        obs_sec, obs = _aggregate_arrays(fsec, arrays)
    else:
        obs_sec, obs = fsec, dict(arrays)

    hours_inferred = hours is None
    if hours is None:
        hours = _infer_hours_arrays(obs_sec, obs["y"], interval_s)
    table = _slot_table(hours, interval_s)
    weekday, slot = _week_slot(obs_sec, interval_s)
    inside = table[weekday, slot]
    if nonexistent.size:  # a reading stamped inside the spring-forward gap
        inside &= ~np.isin(obs_sec, nonexistent)
    dropped_rows = int((~inside).sum())
    dropped_volume = float(np.nansum(obs["y"][~inside]))
    obs_sec = obs_sec[inside]
    obs = {c: a[inside] for c, a in obs.items()}

    days = np.arange(sec.min() // DAY_S, sec.max() // DAY_S + 1, dtype=np.int64)
    n_slots = DAY_S // interval_s
    open_mask = table[(days + 3) % 7]
    grid = (days[:, None] * DAY_S + np.arange(n_slots, dtype=np.int64) * interval_s)[open_mask]
    if nonexistent.size:
        grid = grid[~np.isin(grid, nonexistent)]
    pos = np.searchsorted(grid, obs_sec)
    out: dict[str, np.ndarray] = {"sec": grid}
    for c, a in obs.items():
        col = np.full(grid.size, np.nan)
        col[pos] = a
        out[c] = col
    filled = np.isnan(out["y"])
    if filled.any():
        out["y"] = _fill_from_weeks(grid, out["y"], interval_s)
    out["filled"] = filled

    day_index = grid // DAY_S - days[0]
    per_day = np.bincount(day_index, minlength=days.size)
    filled_per_day = np.bincount(day_index, weights=filled, minlength=days.size)
    gone = (per_day > 0) & (filled_per_day == per_day)
    missing_days = tuple(pd.Timestamp(int(d) * DAY_S, unit="s") for d in days[gone])
    report = QueueReport(
        queue=name,
        rows=int(grid.size),
        first=pd.Timestamp(int(grid[0]), unit="s") if grid.size else pd.NaT,
        last=pd.Timestamp(int(grid[-1]), unit="s") if grid.size else pd.NaT,
        data_interval_s=int(min(data_interval, interval_s)),
        hours=hours,
        hours_inferred=hours_inferred,
        observed_rows=int((~filled).sum()),
        filled_rows=int(filled.sum()),
        filled_volume=float(out["y"][filled].sum()),
        missing_days=missing_days,
        dropped_rows=dropped_rows,
        dropped_volume=dropped_volume,
        total_volume=float(np.nansum(obs["y"])),
    )
    return out, report


def hours_for(config: PlanConfig, queues) -> dict[str, OpeningHours | None]:
    """Arrival hours per queue for :func:`regularise`, from a plan configuration.

    A queue's ``arrival_hours`` when set; otherwise its ``hours`` for voice and chat
    (contacts arrive while the queue is open) and ``None`` (inferred from the data)
    for email and social, whose contacts arrive around the clock while the team works
    set hours.
    """
    out: dict[str, OpeningHours | None] = {}
    for q in queues:
        qc = config.queue(str(q))
        if qc.arrival_hours is not None:
            out[str(q)] = qc.arrival_hours
        elif qc.is_deferred:
            out[str(q)] = None
        else:
            out[str(q)] = qc.hours
    return out


# --------------------------------------------------------------------------- future


def future_grid(
    after: pd.Timestamp | str,
    *,
    days: int,
    interval_s: int,
    hours: OpeningHours | None,
    timezone: str | None,
) -> pd.DatetimeIndex:
    """Future open interval starts (naive local) following ``after``.

    Covers the rest of ``after``'s day (starts strictly later than ``after``) and the
    ``days`` whole days that follow, keeping starts inside ``hours`` (``None`` = always
    open) and skipping local times that do not exist in ``timezone`` (the
    spring-forward hour). With history ending on 2026-11-15, ``days=42`` gives
    2026-11-16 00:00 up to 2026-12-27 23:59.
    """
    if days < 0:
        raise ValueError(f"days must be >= 0, got {days}")
    if interval_s <= 0 or DAY_S % interval_s:
        raise ValueError(f"interval_s must divide a day, got {interval_s}")
    after = pd.Timestamp(after)
    if after.tzinfo is not None:
        raise ValueError("after must be a naive local timestamp")
    start = after.normalize()
    end = start + pd.Timedelta(days=days + 1)
    idx = pd.date_range(start, end, freq=f"{interval_s}s", inclusive="left")
    keep = np.asarray(idx > after)
    if hours is not None:
        keep &= hours.is_open(idx)
    if timezone is not None:
        keep &= _exists(idx, timezone)
    return pd.DatetimeIndex(idx[keep].to_numpy().astype(DS_DTYPE), name="ds")


# --------------------------------------------------------------------------- describe


@dataclass(frozen=True)
class VolumeSummary:
    """A planner-readable account of a volume table (what ``wfm check`` prints)."""

    rows: int
    queues: tuple[str, ...]
    first: pd.Timestamp
    last: pd.Timestamp
    interval_s: int
    per_queue: pd.DataFrame
    report: RegulariseReport | None = None

    def __str__(self) -> str:
        lines = [
            f"{self.rows:,} rows, {len(self.queues)} queue(s): {_list(self.queues)}",
            f"span {self.first:%Y-%m-%d %H:%M} to {self.last:%Y-%m-%d %H:%M} "
            f"({(self.last.normalize() - self.first.normalize()).days + 1} days), "
            f"data every {self.interval_s // 60} min",
        ]
        for q, r in self.per_queue.iterrows():
            aht = f", mean AHT {r['aht_s']:.0f} s" if "aht_s" in r and pd.notna(r["aht_s"]) \
                else ""
            lines.append(f"  {q}: {int(r['rows']):,} rows, {r['first']:%Y-%m-%d} to "
                         f"{r['last']:%Y-%m-%d}, {r['volume']:,.0f} contacts{aht}")
        if self.report is not None:
            lines.append(str(self.report))
        return "\n".join(lines)


def describe_volumes(volumes: pd.DataFrame, report: RegulariseReport | None = None
                     ) -> VolumeSummary:
    """Summarise a volume table: queues, rows, span, interval, and per queue the
    volume and mean AHT; with a :class:`RegulariseReport`, its hours, gaps and
    dropped volume too. ``str()`` of the result is what ``wfm check`` prints."""
    g = volumes.groupby("queue", sort=True)
    per = pd.DataFrame({
        "rows": g.size(),
        "first": g["ds"].min(),
        "last": g["ds"].max(),
        "volume": g["y"].sum(),
    })
    if "aht_s" in volumes.columns:
        a = volumes["aht_s"].to_numpy()
        known = ~np.isnan(a)
        w = pd.DataFrame({"queue": volumes["queue"].to_numpy(),
                          "aw": np.where(known, a, 0) * volumes["y"].to_numpy() * known,
                          "w": volumes["y"].to_numpy() * known})
        s = w.groupby("queue", sort=True).sum()
        per["aht_s"] = (s["aw"] / s["w"].where(s["w"] > 0)).reindex(per.index)
    return VolumeSummary(
        rows=len(volumes),
        queues=tuple(str(q) for q in per.index),
        first=volumes["ds"].min(),
        last=volumes["ds"].max(),
        interval_s=infer_interval_s(volumes),
        per_queue=per,
        report=report,
    )

