"""Constants and small helpers shared by the modules of :mod:`forecast.data`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

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
# day/month/year or month/day/year with '/', '.' or '-' and a four- or two-digit year,
# then optionally a time
_DMY_RE = r"^(\d{1,2})([/.\-])(\d{1,2})[/.\-](\d{4}|\d{2})((?:[\sT].*)?)$"
# a clock time with AM/PM: '12:00 AM', '1:30:00 pm'
_AMPM_RE = r"^[\sT]*(\d{1,2})(:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*([AaPp])\.?[Mm]\.?$"
# a plain decimal number (what pandas.to_numeric reads, without hex, NaN or thousands marks)
_NUMBER_RE = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^(?i:[+-]?inf(?:inity)?)$"
# a clock time whose minutes were cut to one digit ('09:3'): a truncated line
_CUT_TIME_RE = r"\d:\d$"


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


def _str_column(codes: np.ndarray, names: np.ndarray) -> pd.Series:
    """A ``str`` column of ``names[codes]`` built in arrow (no Python string per row)."""
    import pyarrow as pa

    arr = pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()),
                                         pa.array(list(names), pa.string()))
    return pd.Series(pd.array(arr.cast(pa.large_string()), dtype="str"))


def _queue_name(path, queue: str | None, default_queue: str | None) -> str:
    """The queue of a file without a queue column: ``queue``, else ``default_queue``,
    else the file's name without its extensions."""
    if queue is not None:
        return queue
    return default_queue if default_queue is not None else path.name.split(".")[0]


def _list(items, limit: int = 12) -> str:
    items = [str(i) for i in items]
    shown = ", ".join(items[:limit])
    return shown + (f", ... ({len(items)} in all)" if len(items) > limit else "")
