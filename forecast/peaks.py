"""Flag forecast peaks: intervals and days above what history shows as normal.

"Normal" for an interval is the ``pct`` quantile of the same slot (weekday and
time of day) over the last ``weeks`` weeks of observed history; for a day, the same
quantile of that weekday's daily totals. A peak is material: the forecast is at least
``min_excess`` (10%) above normal AND at least ``min_contacts`` (3) contacts above it,
so a quiet slot forecast a fraction of a contact over its normal of 0 is not a peak.
The ratio ``excess`` is left out (NaN) where normal is below ``min_contacts``: a share
of almost nothing means nothing. Each peak names its driver: the event active then (or
just ended: the day after a holiday, naming the nearest such event before it), else
"season/trend".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .event_effects import _clean_events, _post_days
from .forecasters.base import prepare_history, slot_key

__all__ = ["find_peaks", "PEAK_COLUMNS"]

PEAK_COLUMNS = ("level", "ds", "forecast", "normal", "excess", "driver", "event")


def find_peaks(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    events: pd.DataFrame | None = None,
    *,
    column: str = "mean",
    pct: float = 0.95,
    weeks: int = 8,
    min_excess: float = 0.10,
    min_contacts: float = 3.0,
) -> pd.DataFrame:
    """List forecast intervals and days above the normal range for their slot.

    Parameters
    ----------
    history
        One queue's regularised history (``ds, y``, optional ``filled``).
    forecast
        The queue's forecast (``ds`` and ``column``).
    events
        The queue's events, to name the drivers.
    column
        Forecast column compared with history (``"mean"``, or an upper quantile such
        as ``"p90"`` to flag risk).
    pct
        Quantile of recent history that counts as the top of normal.
    weeks
        Weeks of history defining normal.
    min_excess
        Least excess over normal, as a share of normal (0.1: 10% above), for a peak.
    min_contacts
        Least excess over normal in contacts (per interval, or per day at day level)
        for a peak; also the least normal the ratio ``excess`` is computed against.

    Returns
    -------
    DataFrame
        Columns ``level`` ("interval" or "day"), ``ds`` (interval start or day),
        ``forecast``, ``normal`` (the threshold), ``excess`` (forecast / normal - 1;
        NaN where normal < ``min_contacts``), ``driver`` (event type, "day after
        <type>", or "season/trend") and ``event`` (event name or empty), sorted by
        level and time. Only rows with forecast >= normal x (1 + ``min_excess``) and
        forecast - normal >= ``min_contacts``.
    """
    if not (min_excess >= 0 and min_contacts >= 0):
        raise ValueError(f"min_excess and min_contacts must be >= 0, got {min_excess} and "
                         f"{min_contacts}")
    h = prepare_history(history)
    h = h[~h["filled"] & (h["ds"] > h["ds"].max() - pd.Timedelta(weeks=weeks))]
    fc = forecast[["ds", column]].rename(columns={column: "value"}).copy()
    fc["ds"] = pd.to_datetime(fc["ds"])
    if len(h) == 0 or len(fc) == 0:
        return pd.DataFrame(columns=list(PEAK_COLUMNS))

    slot_normal = h.groupby(slot_key(h["ds"]))["y"].quantile(pct)
    fc["normal"] = slot_normal.reindex(slot_key(fc["ds"])).to_numpy()
    day_hist = h.groupby(h["ds"].dt.normalize())["y"].sum()
    day_normal = day_hist.groupby(day_hist.index.day_of_week).quantile(pct)
    day_fc = fc.groupby(fc["ds"].dt.normalize())["value"].sum()
    days = pd.DataFrame({"ds": day_fc.index, "value": day_fc.to_numpy(),
                         "normal": day_normal.reindex(day_fc.index.day_of_week).to_numpy()})

    drivers = _drivers(pd.DatetimeIndex(fc["ds"]), events)
    day_drivers = _drivers(pd.DatetimeIndex(days["ds"]), events, whole_days=True)
    parts = []
    for level, frame, (driver, name) in (("interval", fc, drivers), ("day", days, day_drivers)):
        value, normal = frame["value"].to_numpy(dtype=float), frame["normal"].to_numpy(
            dtype=float)
        with np.errstate(invalid="ignore"):
            hit = ((value - normal >= min_contacts) & (value >= normal * (1.0 + min_excess))
                   & np.isfinite(normal))
        part = pd.DataFrame({
            "level": level,
            "ds": frame["ds"].to_numpy()[hit],
            "forecast": frame["value"].to_numpy()[hit],
            "normal": frame["normal"].to_numpy()[hit],
            "driver": driver[hit],
            "event": name[hit],
        })
        usable = part["normal"].where(part["normal"] >= min_contacts)
        part["excess"] = part["forecast"] / usable - 1.0
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    return out.reindex(columns=list(PEAK_COLUMNS)).reset_index(drop=True)


def _drivers(ds: pd.DatetimeIndex, events: pd.DataFrame | None, *, whole_days: bool = False
             ) -> tuple[np.ndarray, np.ndarray]:
    driver = np.full(len(ds), "season/trend", dtype=object)
    name = np.full(len(ds), "", dtype=object)
    ev = _clean_events(events)
    if len(ev) == 0 or len(ds) == 0:
        return driver, name
    values = ds.to_numpy()
    ends = values + np.timedelta64(1, "D") if whole_days else values
    day = ds.normalize()
    # the day after several events names the nearest: later-ending events overwrite
    posts = list(zip(_post_days(ev, day), ev.itertuples(index=False), strict=True))
    for post_day, row in sorted(posts, key=lambda pair: pair[1].end):
        if post_day is not None:
            sel = day == post_day
            driver[sel] = f"day after {row.type}"
            name[sel] = row.name
    for row in ev.itertuples(index=False):  # active events win over next-day effects
        if whole_days:
            sel = (values < row.end.to_datetime64()) & (ends > row.start.to_datetime64())
        else:
            sel = (values >= row.start.to_datetime64()) & (values < row.end.to_datetime64())
        driver[sel] = row.type
        name[sel] = row.name
    return driver, name
