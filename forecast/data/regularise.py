"""Putting each queue on the regular interval grid (:func:`regularise`: opening
hours, gap filling, daylight saving) and the future grid of open intervals."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..config import OpeningHours
from ..exceptions import DataRepairWarning, DataValidationError
from ._common import DAY_S, DS_DTYPE, _list, _str_column
from .hours import _infer_hours_arrays

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
    #: of the dropped rows, those stamped at a local time that does not exist (the
    #: spring-forward hour of ``timezone``) and their volume
    nonexistent_rows: int = 0
    nonexistent_volume: float = 0.0

    @property
    def left_out(self) -> bool:
        """No opening hours could be inferred from the queue's data (it holds no
        contacts, or too few days with contacts): it has no intervals."""
        return self.rows == 0

    @property
    def why_left_out(self) -> str:
        if self.volume_read == 0:
            return f"no contacts in its {self.dropped_rows:,} rows (every volume is 0)"
        return (f"too few days with contacts ({self.volume_read:,.0f} contacts in "
                f"{self.dropped_rows:,} rows)")

    @property
    def outside_rows(self) -> int:
        """Rows dropped for falling outside the opening hours."""
        return self.dropped_rows - self.nonexistent_rows

    @property
    def outside_volume(self) -> float:
        """Contacts dropped for falling outside the opening hours."""
        return self.dropped_volume - self.nonexistent_volume

    def __str__(self) -> str:
        if self.left_out:
            return (f"queue {self.queue}: {self.why_left_out}: no opening hours can be "
                    "inferred; left out (give it hours to plan it)")
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
        if self.outside_rows:
            share = (f", {self.outside_volume / self.volume_read:.0%} of the queue's: check "
                     "its hours and time zone" if self.mostly_outside else "")
            lines.append(
                f"  outside opening hours: {self.outside_rows:,} rows dropped "
                f"({self.outside_volume:,.0f} contacts{share})"
            )
        if self.nonexistent_rows:
            lines.append(
                f"  at local times that do not exist (the clock jumped forward): "
                f"{self.nonexistent_rows:,} rows dropped ({self.nonexistent_volume:,.0f} "
                "contacts)"
            )
        return "\n".join(lines)

    @property
    def mostly_outside(self) -> bool:
        """More than half of the queue's contacts fell outside its opening hours."""
        return self.outside_volume > 0.5 * self.volume_read

    @property
    def volume_read(self) -> float:
        """Contacts in the queue's data before anything was dropped."""
        return self.total_volume + self.dropped_volume


@dataclass(frozen=True)
class RegulariseReport:
    """What :func:`regularise` did, per queue; ``str()`` gives a readable summary.

    Attributes
    ----------
    interval_s
        The interval the queues were regularised to, in seconds.
    queues
        Queue name -> :class:`QueueReport` (rows, hours used, gaps filled, rows and
        volume dropped).
    """

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
        try:
            part, qrep = _regularise_one(
                name, sec[lo:hi], {c: a[lo:hi] for c, a in arrays.items()}, interval_s,
                _hours_of(hours, name), nonexistent)
        except DataValidationError as exc:  # name the file the table was read from
            if exc.file is not None or volumes.attrs.get("source") is None:
                raise
            raise DataValidationError(exc.reason, file=volumes.attrs["source"]) from None
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
    _warn(report, timezone)
    return out, report


def _warn(report: RegulariseReport, timezone: str | None) -> None:
    """One :class:`DataRepairWarning` line per kind of repair, naming the queues."""
    queues = report.queues.values()
    texts = []
    if report.filled_rows:
        texts.append(f"filled {report.filled_rows:,} missing interval(s) with the same slot "
                     "of the nearest week in " + _list(f"{r.queue} ({r.filled_rows:,})"
                                                       for r in queues if r.filled_rows))
    outside = [r for r in queues if r.outside_volume > 0 and not r.left_out]
    if outside:
        texts.append(
            f"dropped {sum(r.outside_volume for r in outside):,.0f} contacts outside "
            "opening hours in " + _list(f"{r.queue} ({r.outside_volume:,.0f})"
                                        for r in outside))
    for r in outside:
        if r.mostly_outside:
            texts.append(
                f"queue '{r.queue}': {r.outside_volume / r.volume_read:.0%} of its contacts "
                "are outside its opening hours; check its hours, and that the timestamps "
                "are the centre's local time (centre.timezone, data.timestamps)")
    gap = [r for r in queues if r.nonexistent_volume > 0]
    if gap:
        texts.append(
            f"dropped {sum(r.nonexistent_volume for r in gap):,.0f} contacts stamped at local "
            f"times that do not exist in {timezone} (the clock jumped forward) in "
            + _list(f"{r.queue} ({r.nonexistent_volume:,.0f})" for r in gap))
    for r in queues:
        if r.left_out:
            texts.append(f"queue '{r.queue}' left out: {r.why_left_out}, so no opening "
                         "hours can be inferred; give it hours to plan it")
    for text in texts:
        warnings.warn(text, DataRepairWarning, stacklevel=3)


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
    gap = np.isin(obs_sec, nonexistent) if nonexistent.size else np.zeros(len(obs_sec), bool)
    inside &= ~gap  # a reading stamped inside the spring-forward gap
    dropped_rows = int((~inside).sum())
    dropped_volume = float(np.nansum(obs["y"][~inside]))
    volume_read = float(np.nansum(obs["y"]))
    gap_rows, gap_volume = int(gap.sum()), float(np.nansum(obs["y"][gap]))
    outside_volume = dropped_volume - gap_volume
    if not hours_inferred and volume_read > 0 and outside_volume >= volume_read:
        raise DataValidationError(
            f"queue '{name}': all {volume_read:,.0f} contacts fall outside its opening hours "
            f"({hours.describe()}); are the timestamps in UTC or another time zone than the "
            "centre's? check centre.timezone, data.timestamps and the queue's hours")
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
        nonexistent_rows=gap_rows,
        nonexistent_volume=gap_volume,
    )
    return out, report


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

    Parameters
    ----------
    after
        The last interval start of the history (naive local time).
    days
        Whole days after ``after``'s day to cover (>= 0).
    interval_s
        Interval length in seconds; must divide a day.
    hours
        Opening hours to keep; None: every interval.
    timezone
        IANA zone whose nonexistent local times are skipped; None: none skipped.

    Returns
    -------
    DatetimeIndex
        Naive local interval starts, named ``ds``.

    Raises
    ------
    ValueError
        When ``days`` < 0, ``interval_s`` does not divide a day, or ``after`` has a
        time zone.
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
