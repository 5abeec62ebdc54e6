"""Reading and checking the plan table the simulator consumes.

Errors name the file, the line (header = line 1) and the column, and say what was
expected. Only :func:`read_plan` touches the file system.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import QueueConfig
from ..exceptions import DataValidationError
from .engine import block_ends
from .sampling import rate_cv_from_quantiles

__all__ = ["QueuePlan", "read_plan", "split_plan"]


@dataclass(frozen=True)
class QueuePlan:
    """One queue's rows of a plan, sorted by time, as arrays."""

    queue: str
    ds: pd.DatetimeIndex
    volume: np.ndarray  # float64, expected contacts per interval
    aht_s: np.ndarray  # float64 > 0
    agents: np.ndarray  # int64 >= 0
    promised_service_level: np.ndarray  # float64, NaN where the plan has none
    block_end: np.ndarray  # int64: one past the last interval of each interval's block
    rate_cv: np.ndarray | None = None  # rate CV implied by the forecast's quantiles
    quantile_pair: tuple[str, str] | None = None  # the quantile columns it came from

    @property
    def day(self) -> np.ndarray:
        """Day number of each interval (days since 1970-01-01)."""
        return self.ds.to_numpy("datetime64[D]").astype(np.int64)


def read_plan(path: str | Path) -> pd.DataFrame:
    """Read a plan table from CSV (or Parquet by extension), checking its header.

    Raises
    ------
    DataValidationError
        When the file is missing, unreadable, or lacks ``queue`` or ``ds``.
    """
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(
            "plan file not found; expected the plan.csv a plan run wrote", file=path
        )
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, dtype={"queue": str}, keep_default_na=True)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataValidationError(f"cannot read the plan table ({first})", file=path) from None
    for column in ("queue", "ds"):
        if column not in frame.columns:
            raise DataValidationError(
                f"missing column; expected a plan table with columns queue, ds, volume, aht_s, "
                f"agents_required (found {', '.join(map(str, frame.columns)) or 'none'})",
                file=path,
                row=1,
                column=column,
            )
    frame.attrs["source"] = str(path)
    return frame.reset_index(drop=True)


def split_plan(
    plan: pd.DataFrame,
    *,
    interval_s: int,
    agents_column: str = "agents_required",
    volume_column: str | None = None,
    queues: Mapping[str, QueueConfig] | None = None,
) -> Iterator[QueuePlan]:
    """Check a plan table and yield each queue's rows (queues in order of first appearance).

    A row is reported as line ``label + 2`` of the file named in
    ``plan.attrs['source']`` (set by :func:`read_plan`, whose index labels are the rows'
    positions in the file), as an editor numbers it, so rows left out before (e.g. by
    :func:`~forecast.simulate.simulable_queues`) do not shift the line numbers.
    """
    source = plan.attrs.get("source")
    if not interval_s > 0:
        raise DataValidationError(f"interval_s must be > 0; got {interval_s}")
    if volume_column is None:
        volume_column = "volume" if "volume" in plan.columns else "volume_mean"
    for column in ("queue", "ds", volume_column, "aht_s", agents_column):
        if column not in plan.columns:
            raise DataValidationError(
                f"missing column '{column}'; expected queue, ds, {volume_column}, aht_s and "
                f"{agents_column}",
                file=source,
                row=1 if source else None,
                column=column,
            )

    file_rows = pd.api.types.is_integer_dtype(plan.index.dtype)

    def fail(message: str, position: int, column: str):
        if source:
            line = int(plan.index[position] if file_rows else position) + 2
            return DataValidationError(message, file=source, row=line, column=column)
        return DataValidationError(f"{message} (plan row {position})", column=column)

    queue_names = plan["queue"]
    missing_queue = queue_names.isna().to_numpy()
    if missing_queue.any():
        raise fail("empty queue name; expected the queue's name", _first(missing_queue), "queue")
    ds = pd.to_datetime(plan["ds"], errors="coerce")
    if getattr(ds.dt, "tz", None) is not None:
        ds = ds.dt.tz_localize(None)
    bad = ds.isna().to_numpy()
    if bad.any():
        k = _first(bad)
        raise fail(
            f"'{plan['ds'].iloc[k]}' is not a timestamp; expected e.g. 2024-03-04 09:30", k, "ds"
        )
    volume = _numbers(plan, volume_column, fail)
    if (volume < 0).any():
        raise fail(
            f"volume {volume[_first(volume < 0)]:g} is negative; expected >= 0",
            _first(volume < 0),
            volume_column,
        )
    agents = _numbers(plan, agents_column, fail)
    wrong = (agents < 0) | (agents != np.round(agents))
    if wrong.any():
        k = _first(wrong)
        raise fail(f"{agents[k]:g} agents; expected a whole number >= 0", k, agents_column)
    aht = pd.to_numeric(plan["aht_s"], errors="coerce").to_numpy(np.float64)
    text_aht = np.isnan(aht) & plan["aht_s"].notna().to_numpy()
    if text_aht.any():
        k = _first(text_aht)
        raise fail(f"'{plan['aht_s'].iloc[k]}' is not a number; expected seconds", k, "aht_s")
    pair = quantile_pair(plan.columns)
    if pair is not None:
        q_low = float(pair[0][1:]) / 100.0
        low = pd.to_numeric(plan[pair[0]], errors="coerce").to_numpy(np.float64)
        high = pd.to_numeric(plan[pair[1]], errors="coerce").to_numpy(np.float64)
        rate_cv = rate_cv_from_quantiles(volume, low, high, q_low)
    promised = (
        pd.to_numeric(plan["service_level"], errors="coerce").to_numpy(np.float64)
        if "service_level" in plan.columns
        else np.full(len(plan), np.nan)
    )

    names = queue_names.astype(str).to_numpy()
    for queue in pd.unique(names):
        pos = np.flatnonzero(names == queue)
        pos = pos[np.argsort(ds.to_numpy()[pos], kind="stable")]
        qds = pd.DatetimeIndex(ds.to_numpy("datetime64[ns]")[pos])
        qaht = aht[pos].copy()
        unknown = ~np.isfinite(qaht)
        if unknown.any() and queues is not None and queue in queues:
            qaht[unknown] = queues[queue].aht_s
            unknown = ~np.isfinite(qaht)
        if unknown.any() or (qaht <= 0).any():
            k = pos[_first(unknown | (qaht <= 0))]
            raise fail("handle time missing or <= 0; expected aht_s in seconds > 0", k, "aht_s")
        step_s = np.diff(qds.to_numpy("datetime64[ns]")) / np.timedelta64(1, "s")
        dup = np.flatnonzero(step_s == 0)
        if dup.size:
            k = pos[dup[0] + 1]
            raise fail(
                f"queue '{queue}' has interval {qds[dup[0]]} twice; expected one row "
                "per queue and interval",
                k,
                "ds",
            )
        off_grid = np.flatnonzero(np.mod(step_s, interval_s) != 0)
        if off_grid.size:
            k = pos[off_grid[0] + 1]
            raise fail(
                f"{qds[off_grid[0] + 1]} is {step_s[off_grid[0]]:g} s after the previous "
                f"interval of queue '{queue}'; expected a multiple of interval_s={interval_s}",
                k,
                "ds",
            )
        breaks = np.flatnonzero(step_s > interval_s) + 1
        yield QueuePlan(
            queue=str(queue),
            ds=qds,
            volume=volume[pos],
            aht_s=qaht,
            agents=agents[pos].astype(np.int64),
            promised_service_level=promised[pos],
            block_end=block_ends(len(pos), breaks),
            rate_cv=rate_cv[pos] if pair is not None else None,
            quantile_pair=pair,
        )


def quantile_pair(columns) -> tuple[str, str] | None:
    """The widest pair of forecast quantile columns ``p{q}``, ``p{100 - q}`` (q < 50)."""
    found: dict[float, str] = {}
    for name in map(str, columns):
        m = re.fullmatch(r"p(\d+(?:\.\d+)?)", name)
        if m:
            found[float(m.group(1))] = name
    pairs = [q for q in found if q < 50 and (100 - q) in found]
    if not pairs:
        return None
    q = min(pairs)
    return found[q], found[100 - q]


def _numbers(plan: pd.DataFrame, column: str, fail) -> np.ndarray:
    values = pd.to_numeric(plan[column], errors="coerce").to_numpy(np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        k = _first(bad)
        raise fail(f"'{plan[column].iloc[k]}' is not a finite number; expected a number", k, column)
    return values


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])
