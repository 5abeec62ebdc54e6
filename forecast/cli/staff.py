"""``wfm staff``: staff any forecast table with each queue's configuration."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np
import pandas as pd

from ..exceptions import DataValidationError

__all__ = ["staff", "read_forecast_table", "staff_table"]


def read_forecast_table(path: str | Path, volume_column: str | None = None) -> pd.DataFrame:
    """Read a forecast CSV (``queue, ds, volume|mean|<column>[, aht_s]``) and validate it.

    Returns a table with columns ``queue``, ``ds``, ``volume``, ``aht_s`` (NaN where
    missing) and the file's other columns. Errors name the file, the 1-based line
    (header = line 1) and the column.
    """
    path = Path(path)
    if not path.is_file():
        raise DataValidationError("file not found", file=path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise DataValidationError(f"not a readable CSV table ({exc})".splitlines()[0],
                                  file=path) from None
    for col in ("queue", "ds"):
        if col not in raw.columns:
            raise DataValidationError(
                f"missing column '{col}'; expected queue, ds, volume (or mean), optional aht_s",
                file=path, column=col)
    if volume_column is None:
        volume_column = "volume" if "volume" in raw.columns else "mean"
    if volume_column not in raw.columns:
        raise DataValidationError(
            f"missing column '{volume_column}'; pick the volume with --volume-column "
            f"(columns: {', '.join(raw.columns)})", file=path, column=volume_column)
    out = raw.copy()
    queue = raw["queue"].str.strip()
    empty = queue == ""
    if empty.any():
        i = int(np.flatnonzero(empty.to_numpy())[0])
        raise DataValidationError("empty queue name", file=path, row=i + 2, column="queue")
    out["queue"] = queue
    ds = pd.to_datetime(raw["ds"], errors="coerce", format="mixed")
    if ds.isna().any():
        i = int(np.flatnonzero(ds.isna().to_numpy())[0])
        raise DataValidationError(f"'{raw['ds'].iloc[i]}' is not a date-time; expected e.g. "
                                  "2026-03-02 08:30", file=path, row=i + 2, column="ds")
    if getattr(ds.dt, "tz", None) is not None:
        ds = ds.dt.tz_localize(None)
    out["ds"] = ds
    volume = pd.to_numeric(raw[volume_column], errors="coerce")
    bad = volume.isna() | ~np.isfinite(volume) | (volume < 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataValidationError(f"'{raw[volume_column].iloc[i]}' is not a number >= 0",
                                  file=path, row=i + 2, column=volume_column)
    out["volume"] = volume.astype(np.float64)
    if "aht_s" in raw.columns:
        text = raw["aht_s"].str.strip()
        aht = pd.to_numeric(text.replace({"": "nan", "NA": "nan"}), errors="coerce")
        bad = (aht.isna() & ~text.str.lower().isin(["", "nan", "na"])) | (aht <= 0)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataValidationError(f"'{raw['aht_s'].iloc[i]}' is not a number > 0 "
                                      "(leave empty for the queue's default)",
                                      file=path, row=i + 2, column="aht_s")
        out["aht_s"] = aht.astype(np.float64)
    else:
        out["aht_s"] = np.nan
    dup = out.duplicated(["queue", "ds"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataValidationError(f"duplicate interval for queue '{out['queue'].iloc[i]}'",
                                  file=path, row=i + 2, column="ds")
    for col in out.columns:  # numeric-looking extra columns (p10, p90...) as numbers
        if col not in ("queue", "ds", "volume", "aht_s"):
            num = pd.to_numeric(out[col], errors="coerce")
            if num.notna().sum() == out[col].ne("").sum():
                out[col] = num
    return out


def staff_table(table: pd.DataFrame, config) -> pd.DataFrame:
    """Staff every queue of a validated forecast table with its configuration."""
    from ..staffing import STAFFING_COLUMNS, staff_queue

    parts = []
    for name, group in table.groupby("queue", sort=True):
        group = group.sort_values("ds", kind="stable")
        staffed = staff_queue(group[["ds", "volume", "aht_s"]].reset_index(drop=True),
                              config.queue(str(name)), interval_s=config.interval_s)
        extra = group.drop(columns=["queue", "ds", "volume", "aht_s"]).reset_index(drop=True)
        staffed.insert(0, "queue", str(name))
        parts.append(pd.concat([staffed, extra], axis=1))
    if not parts:
        return pd.DataFrame(columns=["queue", "ds", "volume", "aht_s", *STAFFING_COLUMNS])
    return pd.concat(parts, ignore_index=True)


@click.command()
@click.argument("forecast_csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--config", "config_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="Plan configuration (TOML) with each queue's targets.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("plan.csv"), show_default=True, help="Where to write the plan.")
@click.option("--volume-column", default=None,
              help="Forecast column to staff for (default: volume, else mean; e.g. p80).")
def staff(forecast_csv, config_path, out_path, volume_column):
    """Staff a forecast table (queue, ds, volume or mean, optional aht_s) per queue.

    \b
    Example:
      wfm staff forecast.csv --config centre.toml --out plan.csv --volume-column p80
    """
    from ..atomic import write_csv
    from ..config import load_config

    config = load_config(config_path)
    table = read_forecast_table(forecast_csv, volume_column)
    plan = staff_table(table, config)
    write_csv(plan, out_path)
    heads = plan.groupby("queue")["agents_scheduled"].max()
    click.echo(f"wrote {out_path}: {len(plan)} intervals, {plan['queue'].nunique()} queues, "
               f"peak heads {', '.join(f'{q} {int(h)}' for q, h in heads.items())}, "
               f"cost {plan['cost'].sum():,.0f}")
