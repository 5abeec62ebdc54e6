"""Reading volume files: :func:`read_volumes`, CSV sniffing, the fast pyarrow path,
the exact path that names the first bad row, and Parquet."""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import PlanConfig, check_timezone
from ..exceptions import DataValidationError
from ._common import (
    _DELIMITERS,
    _END_S,
    _FIRST_S,
    _NULL_MARKERS,
    DEFAULT_MAX_VOLUME,
    DS_DTYPE,
    MAX_AHT_S,
    TimestampMode,
    _Columns,
    _list,
    _queue_name,
    _str_column,
)
from .validate import _grid_problem, _validate

# --------------------------------------------------------------------------- reading


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
    default_queue: str | None = None,
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
        else ``default_queue``, else after the file (``bank_calls_5min.csv`` ->
        ``bank_calls_5min``).
    aht_column, abandoned_column
        Optional columns: average handle time in seconds (empty cells allowed),
        abandoned contacts.
    queue
        With a queue column: keep only this queue. Without one: the queue's name.
    timezone
        The centre's IANA time zone. Timestamps with a UTC offset are converted to it
        and made naive; on the fall-back day, the two rows of each time in the repeated
        hour are averaged into one local interval (with a ``DataRepairWarning``).
        Required when the file's timestamps carry offsets, unless ``timestamps="local"``.
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
    default_queue
        The queue name of a file without a queue column when ``queue`` is not given
        (:func:`read_volumes_for` passes the configuration's only queue).

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
        dropped, or the rows of a fall-back hour were averaged.
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
    opts = dict(queue=queue, default_queue=default_queue, timezone=timezone, mode=timestamps,
                max_volume=max_volume, timestamp_format=timestamp_format)
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
    encoding, plausibility bound) and ``config.timezone``. A file without a queue
    column, when ``data.queue`` is not set and the configuration has exactly one
    ``[queues.X]`` section, is read as queue ``X``.

    Parameters
    ----------
    config
        The plan configuration.

    Returns
    -------
    DataFrame
        The long volume table, as :func:`read_volumes` returns it.

    Raises
    ------
    DataValidationError
        As :func:`read_volumes`: one line naming the file, row and column.
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
        default_queue=next(iter(config.queues)) if len(config.queues) == 1 else None,
    )


def _release_arrow_memory() -> None:
    """Hand memory pyarrow's pool keeps after a large read back to the system."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def release_unused_memory() -> None:
    """Return the memory freed by reading and validating a large file to the system.

    Both pyarrow's pool and the C allocator keep freed blocks for reuse; a long run
    that holds only the validated table afterwards would carry them to its end
    (about 300 MB after a 7-million-row file). Best effort: a no-op where the C
    library has no ``malloc_trim``.
    """
    import ctypes
    import ctypes.util

    _release_arrow_memory()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


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
    _check_unique([c.strip() for c in written], cols, path)
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
        schema_names = pq.read_schema(path).names
        names = {str(c).strip(): c for c in schema_names}
        present = [c for c in cols.wanted if c in names]
        if not all(c in names for c in cols.required) or len(names) < len(schema_names):
            return None
        table = pq.read_table(path, columns=[names[c] for c in present])
    except Exception:  # the exact path reports what is wrong
        return None
    columns = {c: table.column(names[c]) for c in present}
    del table
    return _fast_table(columns, path, cols, **opts)


def _fast_table(columns: dict, path: Path, cols: _Columns, *, queue, default_queue,
                timezone, mode, max_volume, timestamp_format) -> pd.DataFrame | None:
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
        name = _queue_name(path, queue, default_queue)
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


def _read_parquet(path: Path, cols: _Columns) -> pd.DataFrame:
    try:
        import pyarrow.parquet as pq

        schema_names = pq.read_schema(path).names
        names = {str(c).strip(): c for c in schema_names}
        _require_columns(list(names), cols.required, path)
        _check_unique([str(c).strip() for c in schema_names], cols, path)
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
        return _data_rows(frame, (frame == "").all(axis=1).to_numpy(), path, sniff, encoding)
    _check_long_rows(path, sniff, encoding)  # pandas would cut them short silently
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
    return _data_rows(frame, frame.isna().all(axis=1).to_numpy(), path, sniff, encoding)


def _data_rows(frame: pd.DataFrame, blank: np.ndarray, path: Path, sniff: _Sniff,
               encoding: str) -> tuple[pd.DataFrame, np.ndarray]:
    """The non-blank rows of a text frame read from row 0 (file line 2) on, with each
    row's line number; refuses a file with no data rows or a cut last line."""
    lines = frame.index.to_numpy() + 2
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


def _check_long_rows(path: Path, sniff: _Sniff, encoding: str) -> None:
    """Refuse a row with more fields than the header (an unquoted ``1,234``: the values
    after it would shift), naming its line. Streamed by pyarrow; a file pyarrow cannot
    read is left to pandas, which names what is wrong."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    long_rows = []

    def handler(row) -> str:
        if row.actual_columns > row.expected_columns and not long_rows:
            long_rows.append(row)
        return "skip"

    first = next(iter(sniff.names.values()))
    try:
        with _open_binary(path) as handle:
            reader = pacsv.open_csv(
                handle,
                read_options=pacsv.ReadOptions(block_size=1 << 24, encoding=encoding),
                parse_options=pacsv.ParseOptions(delimiter=sniff.delimiter,
                                                 invalid_row_handler=handler),
                convert_options=pacsv.ConvertOptions(include_columns=[first],
                                                     column_types={first: pa.string()}))
            for _ in reader:
                if long_rows:
                    break
    except Exception:  # unreadable text or damage: pandas reports it
        return
    if long_rows:
        row = long_rows[0]
        raise DataValidationError(
            f"{row.actual_columns} fields, expected {row.expected_columns} like the header "
            "(an unquoted comma in a value, e.g. 1,234?)", file=path,
            row=_line_of_text(path, encoding, row.text))


def _line_of_text(path: Path, encoding: str, text: str) -> int | None:
    """The number of the first line reading ``text`` (for an error message)."""
    with _open_binary(path) as handle:
        for number, raw in enumerate(handle, start=1):
            if raw.decode(encoding, errors="replace").rstrip("\r\n") == text:
                return number
    return None


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


def _check_unique(found: list[str], cols: _Columns, path: Path) -> None:
    """A column the reader uses must appear once: with two, which one is meant?"""
    for col in cols.wanted:
        if found.count(col) > 1:
            raise DataValidationError(
                f"duplicate column '{col}' in the header; expected each column once "
                "(rename or remove the extra one)", file=path)


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
