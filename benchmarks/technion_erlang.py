"""Real centre check: Erlang C and Erlang A against what the Technion bank delivered.

Data: per-call records of the "Anonymous Bank" call centre, February 1999, published
by the Technion Service Enterprise Engineering lab (Avi Mandelbaum, Ilan Guedj).

For every hour (or half hour) with enough calls, from the records alone:
arrivals, mean handle time, the hour's patience estimate (total time all callers
waited / abandonments) and the number of distinct agents who served. Erlang C and
Erlang A (forecast.queueing) then predict the service level (answered within 20 s over
offered: abandoned calls count as offered and missed) and abandonment with exactly
those agents, uncalibrated. The table compares them with what the centre delivered.

The agents of this centre serve all service types from one pool, so the whole centre
is treated as one queue (queues pooled). PHANTOM calls and callers who hung up inside
the VRU are left out (see forecast.records).

Run:  .venv/bin/python benchmarks/technion_erlang.py [--interval-min 60] [--min-calls 20]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.calibrate import interval_table, predict_intervals, usable_intervals
from forecast.records import read_call_records

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("FORECAST_SHARED_DATA", ROOT.parent / "shared" / "data"))
CALLS = DATA / "technion_bank_calls_feb1999.tsv"


def hourly_check(
    records: pd.DataFrame, *, interval_s: int, target_s: float, min_calls: int
) -> pd.DataFrame:
    """Per interval: observed SL/abandonment beside uncalibrated Erlang C and A."""
    table = usable_intervals(
        interval_table(records, interval_s=interval_s, target_s=target_s, pool="all"),
        min_calls=min_calls,
    ).reset_index(drop=True)
    # the interval's own patience estimate: total wait / abandonments
    with np.errstate(divide="ignore"):
        patience = table["wait_total_s"] / table["abandoned"]
    # hours without an abandonment: fall back to the whole month's estimate
    month = table["wait_total_s"].sum() / table["abandoned"].sum()
    table["patience_s"] = np.where(table["abandoned"] > 0, patience, month)
    kw = {"target_s": target_s, "interval_s": interval_s}
    c = predict_intervals(table, patience_s=None, **kw)
    a = predict_intervals(table, patience_s=table["patience_s"].to_numpy(), **kw)
    table["sl_erlang_c"] = c["service_level_pred"]
    table["sl_erlang_a"] = a["service_level_pred"]
    table["ab_erlang_a"] = a["abandonment_pred"]
    # the same with the agents present (presence spans from service spells) instead of
    # every agent who served at some moment of the interval
    shift = {**kw, "agents": "agents_on_shift"}
    c2 = predict_intervals(table, patience_s=None, **shift)
    a2 = predict_intervals(table, patience_s=table["patience_s"].to_numpy(), **shift)
    table["sl_erlang_c_shift"] = c2["service_level_pred"]
    table["sl_erlang_a_shift"] = a2["service_level_pred"]
    table["ab_erlang_a_shift"] = a2["abandonment_pred"]
    return table


def score_rows(table: pd.DataFrame) -> list[tuple[str, float, float, float, float]]:
    rows = []
    models = (
        ("Erlang C, agents seen serving", "sl_erlang_c", None),
        ("Erlang A, agents seen serving", "sl_erlang_a", "ab_erlang_a"),
        ("Erlang C, agents on shift", "sl_erlang_c_shift", None),
        ("Erlang A, agents on shift", "sl_erlang_a_shift", "ab_erlang_a_shift"),
    )
    for label, sl, ab in models:
        sl_err = table[sl] - table["service_level"]
        ab_err = (table[ab] if ab else 0.0) - table["abandonment"]
        rows.append(
            (label, sl_err.abs().mean(), sl_err.mean(), np.abs(ab_err).mean(), np.mean(ab_err))
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval-min", type=int, default=60)
    parser.add_argument("--min-calls", type=int, default=20)
    parser.add_argument("--target-s", type=float, default=20.0)
    args = parser.parse_args(argv)
    if not CALLS.is_file():
        print(f"missing {CALLS}; set FORECAST_SHARED_DATA", file=sys.stderr)
        return 1
    records = read_call_records(CALLS)
    for interval_min in sorted({args.interval_min, 30, 60}):
        table = hourly_check(
            records,
            interval_s=interval_min * 60,
            target_s=args.target_s,
            min_calls=args.min_calls if interval_min == 60 else max(10, args.min_calls // 2),
        )
        print(
            f"\n### {interval_min}-minute intervals: {len(table)} intervals, "
            f"{int(table['offered'].sum()):,} calls"
        )
        busy = table["agent_busy_s"].sum() / (table["agents_seen"].sum() * interval_min * 60)
        print(
            f"observed: SL mean {table['service_level'].mean():.3f}, abandonment mean "
            f"{table['abandonment'].mean():.3f}; agents seen mean "
            f"{table['agents_seen'].mean():.1f}, busy {busy:.3f} "
            f"of their time; agents on shift mean {table['agents_on_shift'].mean():.1f}; "
            f"interval patience median {table['patience_s'].median():.0f} s"
        )
        print("| model | SL MAE | SL bias | abandonment MAE | abandonment bias |")
        print("|---|---|---|---|---|")
        for label, mae, bias, ab_mae, ab_bias in score_rows(table):
            print(f"| {label} | {mae:.3f} | {bias:+.3f} | {ab_mae:.3f} | {ab_bias:+.3f} |")
        # Where do the errors come from? By how busy the agents seen were.
        util = table["utilisation_seen"]
        bands = pd.cut(util, [0, 0.35, 0.5, 0.65, 1.0])
        by = (
            table.assign(band=bands)
            .groupby("band", observed=True)
            .agg(
                intervals=("offered", "size"),
                sl_obs=("service_level", "mean"),
                sl_c=("sl_erlang_c", "mean"),
                sl_a=("sl_erlang_a", "mean"),
                ab_obs=("abandonment", "mean"),
                ab_a=("ab_erlang_a", "mean"),
            )
        )
        print("\nby utilisation of the agents seen:")
        print(by.round(3).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
