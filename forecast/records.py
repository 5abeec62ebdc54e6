"""Per-call (ACD) records: one row per call that asked for an agent.

:func:`read_call_records` reads an export and returns one table shape whatever the
source, so calibration (:mod:`forecast.calibrate`) and replay (:mod:`forecast.simulate`)
never look at a file format:

============  ==========================================================================
column        meaning
============  ==========================================================================
queue         str: the queue (service type) the call asked for
arrival       Timestamp (naive local time): the moment the call joined the agent queue,
              i.e. left the IVR/VRU; for a call answered at once it is the answer time
wait_s        float: seconds from ``arrival`` to answer or to hang-up (0 if never queued)
outcome       "answered" or "abandoned"
handle_s      float: talk + wrap time of an answered call; NaN when abandoned
agent         str or <NA>: the agent who served the call
queued        bool: the call had to wait in queue (False: an agent was free at once)
============  ==========================================================================

The Technion format adds ``call_id``, ``customer_id`` and ``priority``.

Formats
-------
``technion``
    The per-call records of the "Anonymous Bank" call centre published by the Technion
    Service Enterprise Engineering lab (Mandelbaum, Guedj): tab-separated with columns
    ``vru+line, call_id, customer_id, priority, type, date (yymmdd), vru_entry,
    vru_exit, vru_time, q_start, q_exit, q_time, outcome (AGENT|HANG|PHANTOM),
    ser_start, ser_exit, ser_time, server``. The queue is the service ``type``.

    How each kind of row is treated (documented choices):

    * ``AGENT`` -> ``answered``; ``wait_s = q_time``, ``handle_s = ser_time``. Calls
      with ``q_start`` of ``0:00:00`` never queued: ``queued`` is False and their
      arrival is ``vru_exit``. ``server`` of ``NO_SERVER`` on an answered call (about
      1.5% of them, mostly a few seconds long) becomes a missing ``agent``.
    * ``HANG`` after queueing -> ``abandoned`` with ``wait_s = q_time`` (an abandonment
      from the agent queue, even at 0 s).
    * ``HANG`` without queueing: the caller left inside the VRU and never asked for an
      agent. These rows are dropped (``keep_vru_hangups=True`` keeps them as
      abandonments with ``wait_s = 0`` and ``queued`` False).
    * ``PHANTOM``: calls the switch logged without a real caller (the lab describes
      them as virtual/unidentified calls, about 0.8% of the rows). Dropped.

    Times are clock times of ``date``; a clock time more than 12 hours before
    ``vru_entry`` is taken to be after midnight (next day). The durations
    ``q_time``/``ser_time`` are used rather than clock differences, which wrap at
    midnight.

``generic``
    A CSV (comma-separated; ``.tsv`` files tab-separated) with a header naming at
    least ``arrival`` (a date-time), ``wait_s`` (seconds, >= 0), ``outcome``
    (``answered`` or ``abandoned``, case-insensitive) and ``handle_s`` (seconds, >= 0;
    may be empty for abandoned calls), and optionally ``queue`` (default ``"all"``),
    ``agent`` and ``queued`` (true/false; default ``wait_s > 0``). Other names are
    mapped with ``columns={"their name": "our name"}``.

The counts of rows dropped by rule are kept in ``frame.attrs["dropped"]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .exceptions import DataValidationError

__all__ = [
    "RECORD_COLUMNS",
    "RECORD_FORMATS",
    "read_call_records",
    "validate_call_records",
]

#: The columns every records table has, in order.
RECORD_COLUMNS = ("queue", "arrival", "wait_s", "outcome", "handle_s", "agent", "queued")
RECORD_FORMATS = ("technion", "generic")
OUTCOMES = ("answered", "abandoned")

_TECHNION_COLUMNS = (
    "vru+line",
    "call_id",
    "customer_id",
    "priority",
    "type",
    "date",
    "vru_entry",
    "vru_exit",
    "vru_time",
    "q_start",
    "q_exit",
    "q_time",
    "outcome",
    "ser_start",
    "ser_exit",
    "ser_time",
    "server",
)
_TECHNION_OUTCOMES = ("AGENT", "HANG", "PHANTOM")
_CLOCK = r"^\s*(\d{1,2}):([0-5]\d):([0-5]\d)\s*$"
_HALF_DAY_S = 43_200
_FIRST_DATA_LINE = 2  # line 1 is the header


def read_call_records(
    path: str | Path,
    *,
    format: str = "technion",
    columns: Mapping[str, str] | None = None,
    keep_vru_hangups: bool = False,
) -> pd.DataFrame:
    """Read a per-call ACD export into the records table.

    Parameters
    ----------
    path
        The file to read (``.gz``/``.zip``/... compression is inferred from the name).
    format
        ``"technion"`` or ``"generic"``; see the module docstring for both layouts and
        for how abandoned, never-queued and phantom calls are treated.
    columns
        Generic format only: rename the file's columns to ours,
        e.g. ``{"start_time": "arrival", "talk_s": "handle_s"}``.
    keep_vru_hangups
        Technion format only: keep callers who hung up inside the VRU (before asking
        for an agent) as abandonments with zero wait.

    Returns
    -------
    DataFrame
        Columns :data:`RECORD_COLUMNS` (plus format extras), sorted by arrival, with a
        fresh RangeIndex.

    Raises
    ------
    DataValidationError
        When the file is missing, a required column is absent, or a row holds a value
        that cannot be read; the message names the file, line and column.
    """
    path = Path(path)
    if format not in RECORD_FORMATS:
        raise DataValidationError(
            f"unknown records format '{format}'; expected one of {', '.join(RECORD_FORMATS)}",
            file=path,
        )
    if not path.is_file():
        raise DataValidationError("call records file not found", file=path)
    if format == "technion":
        if columns:
            raise DataValidationError(
                "column mapping applies to the generic format only", file=path
            )
        return _read_technion(path, keep_vru_hangups=keep_vru_hangups)
    return _read_generic(path, columns or {})


# --------------------------------------------------------------------------- technion


def _read_raw(path: Path, sep: str) -> pd.DataFrame:
    try:
        raw = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, na_filter=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        reason = " ".join(str(exc).split())
        raise DataValidationError(f"cannot be parsed as a table ({reason})", file=path) from None
    except pd.errors.EmptyDataError:
        raise DataValidationError(
            "the file is empty; expected a header and rows", file=path
        ) from None
    raw.columns = [c.strip().lstrip("\ufeff") for c in raw.columns]
    return raw


def _first_bad(mask: np.ndarray) -> int | None:
    bad = np.flatnonzero(mask)
    return int(bad[0]) if bad.size else None


def _fail(path: Path, index: int, column: str, message: str) -> DataValidationError:
    return DataValidationError(message, file=path, row=index + _FIRST_DATA_LINE, column=column)


def _clock_seconds(raw: pd.DataFrame, column: str, path: Path) -> np.ndarray:
    """Clock time ``H:MM:SS`` -> seconds after midnight, or a one-line error."""
    parts = raw[column].str.extract(_CLOCK)
    hours = pd.to_numeric(parts[0]).to_numpy(dtype=float, na_value=np.nan)
    ok = parts[0].notna().to_numpy() & ~(hours > 23)
    i = _first_bad(~ok)
    if i is not None:
        raise _fail(path, i, column, f"got '{raw[column].iloc[i]}'; expected a clock time H:MM:SS")
    p = parts.astype("int64")
    return (p[0] * 3600 + p[1] * 60 + p[2]).to_numpy(dtype=np.int64)


def _whole_seconds(
    raw: pd.DataFrame, column: str, path: Path, *, signed: bool = False
) -> np.ndarray:
    text = raw[column].str.strip()
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    ok = np.isfinite(values) & (np.floor(values) == values)
    if not signed:
        ok &= values >= 0
    i = _first_bad(~ok)
    if i is not None:
        kind = "a whole number of seconds" + ("" if signed else " >= 0")
        raise _fail(path, i, column, f"got '{raw[column].iloc[i]}'; expected {kind}")
    return values


def _read_technion(path: Path, *, keep_vru_hangups: bool) -> pd.DataFrame:
    raw = _read_raw(path, "\t")
    missing = [c for c in _TECHNION_COLUMNS if c not in raw.columns]
    if missing:
        raise DataValidationError(
            f"missing column(s) {', '.join(missing)}; expected the Technion layout "
            f"({', '.join(_TECHNION_COLUMNS)}), tab-separated",
            file=path,
        )

    outcome_raw = raw["outcome"].str.strip().str.upper()
    i = _first_bad(~outcome_raw.isin(_TECHNION_OUTCOMES).to_numpy())
    if i is not None:
        raise _fail(
            path, i, "outcome", f"got '{raw['outcome'].iloc[i]}'; expected AGENT, HANG or PHANTOM"
        )

    queue = raw["type"].str.strip()
    i = _first_bad((queue == "").to_numpy())
    if i is not None:
        raise _fail(path, i, "type", "empty; expected the service type (e.g. PS, NW)")

    date_text = raw["date"].str.strip()
    day = pd.to_datetime(date_text, format="%y%m%d", errors="coerce")
    i = _first_bad(day.isna().to_numpy())
    if i is not None:
        raise _fail(path, i, "date", f"got '{raw['date'].iloc[i]}'; expected a date yymmdd")

    vru_entry = _clock_seconds(raw, "vru_entry", path)
    vru_exit = _clock_seconds(raw, "vru_exit", path)
    q_start = _clock_seconds(raw, "q_start", path)
    for column in ("q_exit", "ser_start", "ser_exit"):
        _clock_seconds(raw, column, path)  # validated, not used: durations are authoritative
    q_time = _whole_seconds(raw, "q_time", path)
    ser_time = _whole_seconds(raw, "ser_time", path)
    _whole_seconds(raw, "vru_time", path, signed=True)  # the source logs a few negative ones
    priority = _whole_seconds(raw, "priority", path)

    outcome_code = outcome_raw.to_numpy()
    queued = q_start != 0
    # the moment the caller asked for an agent: queue entry, else leaving the VRU
    join_s = np.where(queued, q_start, vru_exit)
    join_s = join_s + np.where(join_s < vru_entry - _HALF_DAY_S, 86_400, 0)
    arrival = pd.DatetimeIndex(day) + pd.to_timedelta(join_s, unit="s")

    answered = outcome_code == "AGENT"
    hang = outcome_code == "HANG"
    keep = answered | (hang & (queued | keep_vru_hangups))
    server = raw["server"].str.strip()
    agent = server.where(~server.isin(["NO_SERVER", ""]) & answered)

    frame = pd.DataFrame(
        {
            "queue": queue.astype("string"),
            "arrival": arrival,
            "wait_s": np.where(queued | answered, q_time, 0.0),
            "outcome": np.where(answered, "answered", "abandoned"),
            "handle_s": np.where(answered, ser_time, np.nan),
            "agent": agent.astype("string"),
            "queued": queued,
            "call_id": raw["call_id"].str.strip().astype("string"),
            "customer_id": raw["customer_id"].str.strip().astype("string"),
            "priority": priority.astype(np.int64),
        }
    )
    frame["outcome"] = frame["outcome"].astype("string")
    dropped = {
        "phantom": int((outcome_code == "PHANTOM").sum()),
        "vru_hangup": int((hang & ~queued).sum()) if not keep_vru_hangups else 0,
    }
    return _finish(frame.loc[keep], dropped)


# --------------------------------------------------------------------------- generic

_REQUIRED_GENERIC = ("arrival", "wait_s", "outcome", "handle_s")
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


def _read_generic(path: Path, columns: Mapping[str, str]) -> pd.DataFrame:
    suffixes = [s.lower() for s in path.suffixes]
    sep = "\t" if ".tsv" in suffixes or ".tab" in suffixes else ","
    raw = _read_raw(path, sep)
    unknown = [c for c in columns if c not in raw.columns]
    if unknown:
        raise DataValidationError(
            f"column '{unknown[0]}' named in the column mapping is not in the file "
            f"(columns: {', '.join(raw.columns)})",
            file=path,
        )
    raw = raw.rename(columns=dict(columns))
    missing = [c for c in _REQUIRED_GENERIC if c not in raw.columns]
    if missing:
        raise DataValidationError(
            f"missing column(s) {', '.join(missing)}; expected at least "
            f"{', '.join(_REQUIRED_GENERIC)} (map other names with columns=)",
            file=path,
        )

    text = raw["arrival"].str.strip()
    arrival = pd.to_datetime(text, errors="coerce", format="mixed")
    i = _first_bad(arrival.isna().to_numpy())
    if i is not None:
        raise _fail(path, i, "arrival", f"got '{raw['arrival'].iloc[i]}'; expected a date-time")
    if getattr(arrival.dt, "tz", None) is not None:
        arrival = arrival.dt.tz_localize(None)

    outcome = raw["outcome"].str.strip().str.lower()
    i = _first_bad(~outcome.isin(OUTCOMES).to_numpy())
    if i is not None:
        raise _fail(
            path, i, "outcome", f"got '{raw['outcome'].iloc[i]}'; expected answered or abandoned"
        )
    answered = (outcome == "answered").to_numpy()

    wait_s = _seconds(raw, "wait_s", path, allow_empty=np.zeros(len(raw), bool))
    handle_s = _seconds(raw, "handle_s", path, allow_empty=~answered)
    handle_s = np.where(answered, handle_s, np.nan)

    queue = (
        raw["queue"].str.strip() if "queue" in raw.columns else pd.Series("all", index=raw.index)
    )
    if "queue" in raw.columns:
        i = _first_bad((queue == "").to_numpy())
        if i is not None:
            raise _fail(path, i, "queue", "empty; expected the queue name")
    if "agent" in raw.columns:
        agent = raw["agent"].str.strip()
        agent = agent.where((agent != "") & pd.Series(answered, index=raw.index))
    else:
        agent = pd.Series(pd.NA, index=raw.index)
    if "queued" in raw.columns:
        flag = raw["queued"].str.strip().str.lower()
        i = _first_bad(~flag.isin(_TRUE | _FALSE).to_numpy())
        if i is not None:
            raise _fail(path, i, "queued", f"got '{raw['queued'].iloc[i]}'; expected true or false")
        queued = flag.isin(_TRUE).to_numpy()
    else:
        queued = wait_s > 0

    frame = pd.DataFrame(
        {
            "queue": queue.astype("string"),
            "arrival": arrival.to_numpy(dtype="datetime64[ns]"),
            "wait_s": wait_s,
            "outcome": pd.array(outcome, dtype="string"),
            "handle_s": handle_s,
            "agent": agent.astype("string"),
            "queued": queued,
        }
    )
    return _finish(frame, {})


def _seconds(raw: pd.DataFrame, column: str, path: Path, *, allow_empty: np.ndarray) -> np.ndarray:
    text = raw[column].str.strip()
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    empty = (text == "").to_numpy()
    ok = (np.isfinite(values) & (values >= 0)) | (empty & allow_empty)
    i = _first_bad(~ok)
    if i is not None:
        raise _fail(path, i, column, f"got '{raw[column].iloc[i]}'; expected seconds >= 0")
    return values


# --------------------------------------------------------------------------- shared


def _finish(frame: pd.DataFrame, dropped: dict[str, int]) -> pd.DataFrame:
    out = frame.sort_values(["arrival", "queue"], kind="stable").reset_index(drop=True)
    out.attrs["dropped"] = dropped
    return out


def validate_call_records(records: pd.DataFrame) -> pd.DataFrame:
    """Check that a table built in code has the records shape; return it unchanged.

    Raises
    ------
    DataValidationError
        Naming the first missing column or the first row (0-based index label) whose
        value is out of range.
    """
    missing = [c for c in ("queue", "arrival", "wait_s", "outcome", "handle_s") if c not in records]
    if missing:
        raise DataValidationError(
            f"call records lack column(s) {', '.join(missing)}; "
            f"expected {', '.join(RECORD_COLUMNS)}"
        )
    if not pd.api.types.is_datetime64_any_dtype(records["arrival"]):
        raise DataValidationError("expected date-times", column="arrival")
    outcome = records["outcome"].astype("string")
    bad = ~outcome.isin(OUTCOMES).to_numpy(dtype=bool, na_value=False)
    wait = records["wait_s"].to_numpy(dtype=float)
    bad_wait = ~(wait >= 0)
    handle = records["handle_s"].to_numpy(dtype=float)
    bad_handle = (outcome == "answered").to_numpy(dtype=bool, na_value=False) & ~(handle >= 0)
    for mask, column, what in (
        (bad, "outcome", "answered or abandoned"),
        (bad_wait, "wait_s", "seconds >= 0"),
        (bad_handle, "handle_s", "seconds >= 0 on answered calls"),
    ):
        i = _first_bad(mask)
        if i is not None:
            raise DataValidationError(
                f"record {records.index[i]!r}: got {records[column].iloc[i]!r}; expected {what}",
                column=column,
            )
    return records
