"""``wfm calibrate``: learn patience, handle time and effective availability from call records."""

from __future__ import annotations

import math
from pathlib import Path

import click
import pandas as pd

from ..atomic import atomic_path, write_csv, write_text
from ..calibrate import (
    calibrate,
    calibration_check,
    calibration_to_toml,
    check_scores,
    history_table,
    plot_calibration,
)
from ..exceptions import DataValidationError
from ..records import RECORD_FORMATS, read_call_records

__all__ = ["calibrate_cmd"]


def _mapping(ctx, param, values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in values:
        theirs, sep, ours = item.partition("=")
        if not sep or not theirs or not ours:
            raise click.BadParameter(f"'{item}': expected THEIRS=OURS, e.g. start_time=arrival")
        out[theirs] = ours
    return out


@click.command("calibrate")
@click.argument("calls", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(RECORD_FORMATS),
    default="technion",
    show_default=True,
    help="Layout of the records file.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for params.toml, history.csv, calibration.png.",
)
@click.option(
    "--interval-min",
    type=click.IntRange(1, 1440),
    default=60,
    show_default=True,
    help="Interval length in minutes (must divide a day).",
)
@click.option(
    "--target-s",
    type=click.FloatRange(0, min_open=False),
    default=20.0,
    show_default=True,
    help="Answer-time target of the service level.",
)
@click.option(
    "--train-until",
    "train_until",
    default=None,
    metavar="DATE",
    help="Learn on calls arriving before DATE (exclusive); later calls are held "
    "out and shown apart in the chart.",
)
@click.option(
    "--pool",
    default=None,
    metavar="NAME",
    help="Treat all queues as one pool of shared agents named NAME.",
)
@click.option(
    "--column",
    "columns",
    multiple=True,
    callback=_mapping,
    metavar="THEIRS=OURS",
    help="Generic format: map a column name to ours (repeatable).",
)
@click.option(
    "--min-calls",
    type=click.IntRange(1),
    default=20,
    show_default=True,
    help="Intervals with fewer calls stay out of the availability fit.",
)
@click.option(
    "--seed",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Seed of the bootstrap (results are reproducible).",
)
@click.option("--no-chart", is_flag=True, help="Skip calibration.png.")
def calibrate_cmd(
    calls,
    fmt,
    out_dir,
    interval_min,
    target_s,
    train_until,
    pool,
    columns,
    min_calls,
    seed,
    no_chart,
):
    """Calibrate the queueing model to the centre from per-call records.

    \b
    Writes into --out:
      params.toml      per queue: aht_s, patience_s, availability (paste the
                       [queues.*] tables into a plan config), with uncertainty
                       and the learning period under [fit.*]
      history.csv      calls offered, mean handle time and abandonments per
                       interval (queue, timestamp, volume, aht_s, abandoned:
                       the volumes-file layout, usable as [data] volumes)
      calibration.png  predicted vs observed service level and abandonment
                       per interval, before and after calibration

    \b
    Example (Technion bank, learn on three weeks, check on the fourth):
      wfm calibrate technion_bank_calls_feb1999.tsv --out cal/ \\
          --pool all --train-until 1999-02-22
    """
    interval_s = interval_min * 60
    if 86_400 % interval_s:
        raise click.BadParameter("must divide a day (e.g. 15, 30, 60)", param_hint="--interval-min")
    if columns and fmt != "generic":
        raise click.BadParameter("applies to --format generic only", param_hint="--column")
    records = read_call_records(calls, format=fmt, columns=columns or None)
    if records.empty:
        raise DataValidationError("no calls left after reading", file=calls)
    train = None
    if train_until is not None:
        try:
            train = (None, pd.Timestamp(train_until))
        except ValueError:
            raise click.BadParameter(
                f"'{train_until}' is not a date", param_hint="--train-until"
            ) from None
    calibration = calibrate(
        records,
        interval_s=interval_s,
        target_s=target_s,
        train=train,
        pool=pool,
        min_calls=min_calls,
        seed=seed,
    )

    history = history_table(records, interval_s=interval_s, pool=pool)
    # written in the volumes-file layout, so a plan config can name it as [data] volumes
    history = history.rename(columns={"ds": "timestamp", "y": "volume"})
    written = [
        write_text(calibration_to_toml(calibration), out_dir / "params.toml"),
        write_csv(
            history, out_dir / "history.csv", float_format="%.6g", date_format="%Y-%m-%d %H:%M"
        ),
    ]
    scores = None
    if any(q.availability is not None for q in calibration.queues.values()):
        check = calibration_check(records, calibration)
        scores = check_scores(check)
        if not no_chart:
            fig = plot_calibration(check, title=f"Calibration of {calls.name}")
            with atomic_path(out_dir / "calibration.png") as tmp:
                fig.savefig(tmp, format="png", dpi=110)
            written.append(out_dir / "calibration.png")

    click.echo(
        f"learned on {calibration.records:,} calls, "
        f"{calibration.train_start[:10]} to {calibration.train_end[:10]} (end exclusive)"
    )
    for name, q in calibration.queues.items():
        p, h, a = q.patience, q.handle_time, q.availability
        patience = (
            f"{p.mean_s:.0f} s [{p.low_s:.0f}, {p.high_s:.0f}]"
            if math.isfinite(p.mean_s)
            else "no abandonment"
        )
        line = (
            f"  {name}: {q.calls:,} calls, AHT {h.mean_s:.0f} s (CV {h.cv:.2f}), "
            f"measured mean patience {patience}"
        )
        if a is not None:
            line += (
                f", availability {a.factor:.3f} [{a.low:.3f}, {a.high:.3f}] of "
                f"{a.basis} with Erlang A patience {a.patience_s:.0f} s over "
                f"{a.intervals} intervals"
                + (" (at the edge of the search range: not identified)" if a.at_bound else "")
            )
        click.echo(line)
        click.echo(f"    the plan uses: {q.describe().split(': ', 1)[1]}")
    if scores is not None:
        for row in scores[scores["model"] != "Erlang C"].itertuples():
            click.echo(
                f"  {row.queue} {row.split:9s} {row.model:20s} SL MAE {row.sl_mae:.3f}"
                f"  abandonment MAE {row.ab_mae:.3f}  ({row.intervals} intervals)"
            )
    for path in written:
        click.echo(f"wrote {path}")
