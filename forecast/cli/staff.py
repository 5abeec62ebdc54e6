"""``wfm staff``: staff any forecast table with each queue's configuration."""

from __future__ import annotations

import warnings
from pathlib import Path

import click
import numpy as np
import pandas as pd

from ..exceptions import DataValidationError, ForecastWarning

__all__ = ["staff", "read_forecast_table", "staff_table", "check_against_config"]


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


def check_against_config(table: pd.DataFrame, config, path: str | Path) -> list[str]:
    """Check a forecast table read by :func:`read_forecast_table` against ``config``.

    Raises
    ------
    DataValidationError
        No rows, or a timestamp off the config's interval grid (naming the line).

    Returns
    -------
    list of str
        Warnings: queues the config does not name (staffed with its defaults), and
        per queue the intervals outside the hours contacts arrive in.
    """
    if table.empty:
        raise DataValidationError("no rows; expected one row per queue and interval",
                                  file=path)
    seconds = (table["ds"] - table["ds"].dt.normalize()).dt.total_seconds().to_numpy()
    off = np.flatnonzero(seconds % config.interval_s != 0)
    if len(off):
        i = int(off[0])
        raise DataValidationError(
            f"'{table['ds'].iloc[i]:%Y-%m-%d %H:%M}' is not on the {config.interval_s // 60}"
            "-minute interval grid of the config", file=path, row=i + 2, column="ds")
    notes = []
    for name, group in table.groupby("queue", sort=True):
        name = str(name)
        if name not in config.queues:
            notes.append(f"queue '{name}' is not in the config; staffed with the "
                         "[defaults] settings")
        queue = config.queue(name)
        hours = queue.arrival_hours or (None if queue.is_deferred else queue.hours)
        if hours is not None:
            closed = int((~hours.is_open(group["ds"])).sum())
            if closed:
                notes.append(f"queue '{name}': {closed} interval(s) outside its opening "
                             f"hours ({hours.describe()}) are staffed as given")
    return notes


def staff_table(table: pd.DataFrame, config) -> pd.DataFrame:
    """Staff every queue of a validated forecast table with its configuration.

    Parameters
    ----------
    table
        A table read by :func:`read_forecast_table`.
    config
        The plan configuration (:class:`~forecast.config.PlanConfig`).

    Returns
    -------
    pandas.DataFrame
        plan.csv's layout (:func:`forecast.report.ordered_plan_columns`): ``volume`` is
        the volume staffed for, ``volume_mean`` the table's ``mean`` column (else
        ``volume``), then the quantile, staffing and other columns of the table and each
        queue's ``channel`` last, so that ``wfm simulate`` reads the file as a plan.
    """
    from ..report import ordered_plan_columns, with_channel
    from ..staffing import STAFFING_COLUMNS, staff_queue

    table = table.copy()
    if "volume_mean" not in table.columns:
        table["volume_mean"] = table["mean"] if "mean" in table.columns else table["volume"]
    # a re-staffed plan's own staffing and channel columns are replaced, not duplicated
    replaced = ["queue", "ds", "volume", "aht_s", "mean", "channel", *STAFFING_COLUMNS]
    parts = []
    for name, group in table.groupby("queue", sort=True):
        group = group.sort_values("ds", kind="stable")
        staffed = staff_queue(group[["ds", "volume", "aht_s"]].reset_index(drop=True),
                              config.queue(str(name)), interval_s=config.interval_s)
        extra = group.drop(columns=[c for c in replaced if c in group.columns])
        staffed.insert(0, "queue", str(name))
        parts.append(pd.concat([staffed, extra.reset_index(drop=True)], axis=1))
    if not parts:
        plan = pd.DataFrame(columns=["queue", "ds", "volume", "volume_mean", "aht_s",
                                     *STAFFING_COLUMNS])
    else:
        plan = pd.concat(parts, ignore_index=True)
    plan = with_channel(plan, config)
    return plan[ordered_plan_columns(plan)]


@click.command()
@click.argument("forecast_csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--config", "config_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="Plan configuration (TOML) with each queue's targets.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("plan.csv"), show_default=True, help="Where to write the plan.")
@click.option("--volume-column", default=None,
              help="Forecast column to staff for (default: volume, else mean; e.g. p90).")
def staff(forecast_csv, config_path, out_path, volume_column):
    """Staff a forecast table (queue, ds, volume or mean, optional aht_s) per queue.

    The plan is written in plan.csv's layout (the columns, order and formats of
    ``wfm plan``'s plan.csv, with each queue's channel), ready for ``wfm simulate``.

    \b
    Example:
      wfm staff out/forecast.csv --config centre.toml --out plan.csv --volume-column p90
    """
    from ..atomic import write_csv
    from ..config import load_config
    from ..report import FLOAT_FORMAT, PLAN_DATE_FORMAT

    config = load_config(config_path)
    table = read_forecast_table(forecast_csv, volume_column)
    for note in check_against_config(table, config, forecast_csv):
        warnings.warn(note, ForecastWarning, stacklevel=1)
    plan = staff_table(table, config)
    write_csv(plan, out_path, float_format=FLOAT_FORMAT, date_format=PLAN_DATE_FORMAT)
    heads = plan.groupby("queue")["agents_scheduled"].max()
    click.echo(f"wrote {out_path}: {len(plan)} intervals, {plan['queue'].nunique()} queues, "
               f"peak heads {', '.join(f'{q} {int(h)}' for q, h in heads.items())}, "
               f"cost {plan['cost'].sum():,.0f}")
