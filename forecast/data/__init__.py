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
``16/11/2026 08:00`` dates (also ``16/11/26``,  day/month order taken from the data (a
``16/11/2026 8:00 AM``)                       first number above 12 = day first);
                                              ambiguous throughout: error asking for
                                              ``timestamp_format`` (never a mixed reading)
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
a queue whose volumes are all 0               left out with a warning (no hours to infer)
opening hours that exclude every contact      error naming the queue (UTC/local mix-up?);
of a queue                                    more than half: warning with the share
a gap of more than a year in a queue          error (a stray date would make the grid
                                              span decades)
an interval that does not divide a day        error
a last line cut short (fewer fields)          error: the export looks truncated
a row with more fields than the header        error naming the line (an unquoted ``1,234``)
a column the reader uses named twice          error
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
  rows stamped inside it are dropped, counted and reported as such;
* on the fall-back day the hour that occurs twice maps to one local interval per
  clock time, holding the *mean* of its two copies (volume, abandoned; AHT weighted
  by volume), so the history shows one ordinary hour, not a spike; a warning counts
  the rows averaged. This applies to offset timestamps, and to naive files that
  repeat the ambiguous times when ``timezone`` is given (without it, two different
  rows for one time are an error);
* the plan's future grid also shows the repeated hour once:
  :func:`fall_back_hours` lists the fall-back hours in a window and
  :func:`fall_back_warnings` the warnings for a queue open in one (staff it for both
  passes).
"""

from __future__ import annotations

from ._common import DEFAULT_MAX_VOLUME, DS_DTYPE, MAX_AHT_S, MAX_GAP_DAYS, YEARS, TimestampMode
from .describe import VolumeSummary, describe_volumes
from .dst import RepeatedHour, fall_back_hours, fall_back_warnings
from .hours import hours_for, infer_hours, infer_interval_s
from .read import read_volumes, read_volumes_for, release_unused_memory
from .regularise import HoursArg, QueueReport, RegulariseReport, future_grid, regularise

__all__ = [
    "read_volumes",
    "read_volumes_for",
    "release_unused_memory",
    "infer_interval_s",
    "infer_hours",
    "regularise",
    "RegulariseReport",
    "QueueReport",
    "future_grid",
    "fall_back_hours",
    "fall_back_warnings",
    "RepeatedHour",
    "describe_volumes",
    "VolumeSummary",
    "hours_for",
    "DEFAULT_MAX_VOLUME",
    "MAX_AHT_S",
    "MAX_GAP_DAYS",
    "YEARS",
    "DS_DTYPE",
    "TimestampMode",
    "HoursArg",
]
