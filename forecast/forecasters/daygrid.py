"""One queue's history as a matrix: one row per calendar day, one column per time of day.

Every fast model in this package works on this layout. A history of a year of
30-minute intervals becomes a ~365 x 48 array, so per-slot and per-day statistics
are plain numpy reductions, and refitting on "everything before day k" (the
calibration and backtest origins) is a row slice instead of a new table.

Cells with no interval in the history (closed hours, absent days) are NaN in ``y``
and False in ``present``; gap-filled rows are present, flagged in ``filled``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["DayGrid", "NS_PER_DAY", "NS_PER_MIN", "day_numbers", "weekday_of"]

NS_PER_MIN = 60 * 1_000_000_000
NS_PER_DAY = 1440 * NS_PER_MIN


def day_numbers(ds: pd.DatetimeIndex | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Days since 1970-01-01 and minute of day of each timestamp (int64 arrays)."""
    ns = np.asarray(pd.DatetimeIndex(ds).as_unit("ns").asi8, dtype=np.int64)
    day = ns // NS_PER_DAY
    minute = (ns - day * NS_PER_DAY) // NS_PER_MIN
    return day, minute


def weekday_of(day: np.ndarray) -> np.ndarray:
    """Weekday (Monday = 0) of day numbers since 1970-01-01 (a Thursday)."""
    return (np.asarray(day, dtype=np.int64) + 3) % 7


@dataclass(frozen=True)
class DayGrid:
    """History laid out as days x minutes of day.

    Attributes
    ----------
    days
        Day numbers (days since 1970-01-01), ascending, one per day with any row.
    minutes
        Minutes of day present anywhere in the history, ascending.
    y
        Contacts, shape ``(len(days), len(minutes))``; NaN where no interval.
    filled
        True where the row was gap-filled (not observed).
    """

    days: np.ndarray
    minutes: np.ndarray
    y: np.ndarray
    filled: np.ndarray

    @classmethod
    def from_history(cls, hist: pd.DataFrame) -> DayGrid:
        """Build from a prepared history (``ds, y, filled``; see ``prepare_history``)."""
        day, minute = day_numbers(hist["ds"])
        days, row = np.unique(day, return_inverse=True)
        minutes, col = np.unique(minute, return_inverse=True)
        y = np.full((len(days), len(minutes)), np.nan)
        filled = np.zeros((len(days), len(minutes)), dtype=bool)
        y[row, col] = hist["y"].to_numpy(dtype="float64")
        filled[row, col] = hist["filled"].to_numpy(dtype=bool)
        return cls(days, minutes, y, filled)

    # ---------------------------------------------------------------- views
    @property
    def present(self) -> np.ndarray:
        return ~np.isnan(self.y)

    @property
    def observed(self) -> np.ndarray:
        """Present and not gap-filled."""
        return ~np.isnan(self.y) & ~self.filled

    @property
    def weekday(self) -> np.ndarray:
        return weekday_of(self.days)

    def before(self, day: int) -> DayGrid:
        """The grid of the days strictly before day number ``day`` (a view, no copy)."""
        k = int(np.searchsorted(self.days, day, side="left"))
        return DayGrid(self.days[:k], self.minutes, self.y[:k], self.filled[:k])

    def cells(self, ds: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Day number, weekday and grid column of each timestamp (column -1: minute unseen)."""
        day, minute = day_numbers(ds)
        if len(self.minutes) == 0:
            return day, weekday_of(day), np.full(len(day), -1, dtype=np.int64)
        col = np.minimum(np.searchsorted(self.minutes, minute), len(self.minutes) - 1)
        return day, weekday_of(day), np.where(self.minutes[col] == minute, col, -1)
