"""A planner-readable summary of a volume table (what ``wfm check`` prints)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._common import _list
from .hours import infer_interval_s
from .regularise import RegulariseReport

# --------------------------------------------------------------------------- describe


@dataclass(frozen=True)
class VolumeSummary:
    """A planner-readable account of a volume table (what ``wfm check`` prints).

    Attributes
    ----------
    rows
        Rows in the table.
    queues
        Queue names, sorted.
    first, last
        Earliest and latest interval start.
    interval_s
        The data's interval (:func:`~forecast.data.infer_interval_s`).
    per_queue
        Indexed by queue: ``rows``, ``first``, ``last``, ``volume`` and, when the
        table has ``aht_s``, the volume-weighted mean AHT (NaN where none is known).
    report
        The :class:`RegulariseReport` passed to :func:`describe_volumes`, if any.
    """

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
    dropped volume too.

    Parameters
    ----------
    volumes
        A long volume table (``queue, ds, y``, optional ``aht_s``) with at least one
        row.
    report
        What :func:`~forecast.data.regularise` did to it, printed after the summary.

    Returns
    -------
    VolumeSummary
        ``str()`` of it is what ``wfm check`` prints.

    Raises
    ------
    DataValidationError
        When ``volumes`` has no rows (no interval to infer).
    """
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
