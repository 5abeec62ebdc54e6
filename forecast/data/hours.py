"""Inference of the data's interval and opening hours, and the arrival hours a plan
configuration gives each queue."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import OpeningHours, PlanConfig
from ..exceptions import DataValidationError
from ._common import DAY_S

# --------------------------------------------------------------------------- inference


def infer_interval_s(volumes: pd.DataFrame) -> int:
    """The data's interval: the most common positive gap between consecutive
    timestamps of a queue within one day.

    Parameters
    ----------
    volumes
        A volume table with ``ds`` and, optionally, ``queue`` (gaps are taken within
        each queue).

    Returns
    -------
    int
        Seconds; 86400 when no day holds two timestamps (daily data).

    Raises
    ------
    DataValidationError
        When ``volumes`` has no rows.
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

    Parameters
    ----------
    one_queue_table
        One queue's rows (``ds``, ``y``; a ``queue`` column, if any, holds one name).
    interval_s
        Slot length in seconds (the grid the hours are given on).
    min_day_share, min_slot_share, min_contact_share, min_volume_share, max_gap_s
        The thresholds of the rule above.

    Returns
    -------
    OpeningHours
        One span per weekday, or None for a closed weekday.

    Raises
    ------
    DataValidationError
        When the table has no rows.
    ValueError
        When it holds more than one queue.
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
