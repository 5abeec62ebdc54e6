"""Fall-back clock changes in naive local time: the local hour that happens twice.

The package works in the centre's naive local clock, so on a fall-back day the
repeated hour is one set of local intervals. :func:`fall_back_hours` finds those
hours in a window (the history, where their two copies are averaged, or the plan
horizon, where :func:`fall_back_warnings` warns that the plan shows them once).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import check_timezone

#: the step at which UTC offsets are sampled; every modern clock change falls on it
_STEP = pd.Timedelta(minutes=15)


@dataclass(frozen=True)
class RepeatedHour:
    """Local clock times that happen twice on a fall-back day.

    Attributes
    ----------
    start, end
        Naive local times: every time in ``[start, end)`` happens twice
        (2025-11-02 01:00 and 02:00 in America/New_York).
    timezone
        The IANA time zone.
    """

    start: pd.Timestamp
    end: pd.Timestamp
    timezone: str

    @property
    def clock(self) -> str:
        """The repeated clock times, last minute included: ``01:00-01:59``."""
        return f"{self.start:%H:%M}-{self.end - pd.Timedelta(minutes=1):%H:%M}"

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d} {self.clock}"

    @property
    def warning(self) -> str:
        """What a plan covering this hour should say about an open queue."""
        return (f"on {self.start:%Y-%m-%d} the hour {self.clock} happens twice; the plan "
                "shows it once: staff it for both")


def fall_back_hours(start: pd.Timestamp | str, end: pd.Timestamp | str,
                    timezone: str) -> list[RepeatedHour]:
    """The fall-back clock changes of ``timezone`` whose repeated local times overlap
    the naive local window ``[start, end)``.

    Parameters
    ----------
    start, end
        Naive local times bounding the window.
    timezone
        IANA time zone.

    Returns
    -------
    list of RepeatedHour
        In time order; empty when the window holds no fall-back change.

    Raises
    ------
    ConfigError
        When ``timezone`` is not a known IANA time zone.
    ValueError
        When ``start`` or ``end`` has a time zone.

    Examples
    --------
    >>> [str(h) for h in fall_back_hours("2025-10-01", "2025-12-01", "America/New_York")]
    ['2025-11-02 01:00-01:59']
    """
    check_timezone(timezone)
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if start.tzinfo is not None or end.tzinfo is not None:
        raise ValueError("start and end must be naive local timestamps")
    if end <= start:
        return []
    # UTC instants a day either side of the window (offsets stay within +-14 hours)
    utc = pd.date_range(start.normalize() - pd.Timedelta(days=1),
                        end.normalize() + pd.Timedelta(days=2), freq=_STEP)
    local = utc.tz_localize("UTC").tz_convert(timezone).tz_localize(None)
    offset = np.asarray(local - utc, dtype="timedelta64[ns]")
    out = []
    for i in np.flatnonzero(offset[1:] < offset[:-1]) + 1:  # the clock went back
        first = local[i]
        last = first + pd.Timedelta(offset[i - 1] - offset[i])
        if first < end and last > start:
            out.append(RepeatedHour(first, last, timezone))
    return out


def fall_back_warnings(grid: pd.DatetimeIndex, *, interval_s: int,
                       timezone: str | None) -> list[str]:
    """Warnings for a queue whose future intervals include an hour that happens twice.

    The plan's grid is naive local time, so a repeated hour appears once: the queue's
    second pass through it has no volume, agents or cost in the plan.

    Parameters
    ----------
    grid
        The queue's future interval starts (naive local), as
        :func:`~forecast.data.future_grid` gives them.
    interval_s
        Interval length in seconds.
    timezone
        The centre's IANA time zone; ``None``: no warnings.

    Returns
    -------
    list of str
        One :attr:`RepeatedHour.warning` per fall-back hour the grid has an
        interval in: ``on 2025-11-02 the hour 01:00-01:59 happens twice; the plan shows
        it once: staff it for both``.
    """
    if timezone is None or len(grid) == 0:
        return []
    grid = pd.DatetimeIndex(grid)
    step = pd.Timedelta(seconds=interval_s)
    return [h.warning for h in fall_back_hours(grid.min(), grid.max() + step, timezone)
            if ((grid < h.end) & (grid + step > h.start)).any()]
