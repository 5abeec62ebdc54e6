"""Calibration on held-out hours: the Technion bank, February 1999.

Data: per-call records of the "Anonymous Bank" call centre published by the Technion
Service Enterprise Engineering lab (Avi Mandelbaum, Ilan Guedj).

Protocol
--------
* Learn on the first three weeks (calls arriving 1-21 February 1999): mean patience
  (total wait / abandonments), handle time, and the effective-availability factor
  (forecast.calibrate.calibrate, agents of all service types pooled: the centre's
  agents serve every type).
* Held out: every hour of 22-28 February with at least 20 calls. Each is predicted from
  what a planner would know about it - its arrivals, its mean handle time and the
  agents seen serving in it - with the patience and factor learned on the first three
  weeks. Nothing is fitted on held-out hours.
* Beside it, on the same hours: Erlang C and Erlang A with the agents as counted
  (uncalibrated; Erlang A with the learned patience).
* Service level = answered within 20 s / offered (abandoned calls count as offered);
  abandonment = abandoned / offered.

* ``--inner-cv``: model choices are made inside the learning weeks only - each of them
  held out in turn, learning on the others (the held-out week 22-28 February is not
  read) - for both fit objectives (factor to service level and patience to
  abandonment separately, the default; or both to their joint sum).

Run:  .venv/bin/python benchmarks/technion_calibrate.py [--folds] [--inner-cv]
      [--objective separate|joint] [--interval-min 60] [--train-until 1999-02-22]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.calibrate import (
    calibrate,
    calibration_check,
    check_scores,
    interval_table,
    predict_intervals,
)
from forecast.records import read_call_records

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("FORECAST_SHARED_DATA", ROOT.parent / "shared" / "data"))
CALLS = DATA / "technion_bank_calls_feb1999.tsv"


def _intermediate(records, cal, check, interval_s):
    """Erlang A on the held-out hours with the agents on shift (presence from service
    spells) but no factor and the measured patience: the first step alone."""
    table = interval_table(
        records,
        interval_s=interval_s,
        target_s=cal.target_s,
        pool="all",
        shift_gap_s=cal.shift_gap_s,
    )
    held = check.loc[~check["learning"], "ds"]
    table = table[table["ds"].isin(held)].reset_index(drop=True)
    pred = predict_intervals(
        table,
        patience_s=cal.queues["all"].patience.mean_s,
        target_s=cal.target_s,
        interval_s=interval_s,
        agents="agents_on_shift",
    )
    sl_err = pred["service_level_pred"] - table["service_level"]
    ab_err = pred["abandonment_pred"] - table["abandonment"]
    return (
        "Erlang A, agents on shift, measured patience (no factor)",
        sl_err.abs().mean(),
        sl_err.mean(),
        ab_err.abs().mean(),
        ab_err.mean(),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval-min", type=int, default=60)
    parser.add_argument("--train-until", default="1999-02-22")
    parser.add_argument("--min-calls", type=int, default=20)
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--objective", choices=("separate", "joint"), default="separate")
    parser.add_argument(
        "--inner-cv",
        action="store_true",
        help="only the leave-one-week-out check inside the learning weeks, both objectives",
    )
    parser.add_argument(
        "--folds",
        action="store_true",
        help="also hold out each week in turn (learning on the other three)",
    )
    args = parser.parse_args(argv)
    if not CALLS.is_file():
        print(f"missing {CALLS}; set FORECAST_SHARED_DATA", file=sys.stderr)
        return 1
    records = read_call_records(CALLS)
    interval_s = args.interval_min * 60
    if args.inner_cv:
        learning = records.loc[(records["arrival"] < pd.Timestamp(args.train_until)).to_numpy()]
        for objective in ("joint", "separate"):
            week_folds(learning, interval_s, args.min_calls, objective=objective, weeks=None)
        return 0
    started = time.perf_counter()
    cal = calibrate(
        records,
        interval_s=interval_s,
        target_s=20.0,
        pool="all",
        train=(None, args.train_until),
        min_calls=args.min_calls,
        bootstrap=args.bootstrap,
        seed=0,
        objective=args.objective,
    )
    seconds = time.perf_counter() - started
    q = cal.queues["all"]
    p, h, a = q.patience, q.handle_time, q.availability
    print(
        f"learned on {cal.records:,} calls, {cal.train_start[:10]} to {cal.train_end[:10]} "
        f"(exclusive), {args.interval_min}-minute intervals, in {seconds:.1f} s"
    )
    print(
        f"patience {p.mean_s:.0f} s [{p.low_s:.0f}, {p.high_s:.0f}] ({p.abandoned:,} "
        f"abandonments); Kaplan-Meier median {p.km_median_s:.0f} s; largest gap to the "
        f"exponential {p.max_gap:.3f}"
    )
    print(
        f"handle time mean {h.mean_s:.0f} s [{h.low_s:.0f}, {h.high_s:.0f}], CV {h.cv:.2f}, "
        f"lognormal mu {h.lognormal_mu:.2f} sigma {h.lognormal_sigma:.2f}"
    )
    print(
        f"availability {a.factor:.3f} [{a.low:.3f}, {a.high:.3f}] of {a.basis}, Erlang A "
        f"patience {a.patience_s:.0f} s [{a.patience_low_s:.0f}, {a.patience_high_s:.0f}], over "
        f"{a.intervals} learning intervals ({a.days} days); the agents on shift were busy "
        f"{a.utilisation_seen:.3f} of their time"
    )

    check = calibration_check(records, cal)
    scores = check_scores(check)
    held = scores[scores["split"] == "held_out"]
    n_held = int(held["intervals"].iloc[0])
    calls_held = int(check.loc[~check["learning"], "offered"].sum())
    print(f"\nheld-out: {n_held} intervals, {calls_held:,} calls")
    print("| model (held-out hours) | SL MAE | SL bias | abandonment MAE | abandonment bias |")
    print("|---|---|---|---|---|")
    labels = {
        "Erlang C": "Erlang C, agents seen serving (uncalibrated)",
        "Erlang A": "Erlang A, agents seen serving, measured patience (uncalibrated)",
        "Erlang A calibrated": "Erlang A calibrated (factor x agents on shift, fitted patience)",
    }
    rows = [(labels[r.model], r.sl_mae, r.sl_bias, r.ab_mae, r.ab_bias) for r in held.itertuples()]
    rows.insert(2, _intermediate(records, cal, check, interval_s))
    for label, sl_mae, sl_bias, ab_mae, ab_bias in rows:
        print(f"| {label} | {sl_mae:.3f} | {sl_bias:+.3f} | {ab_mae:.3f} | {ab_bias:+.3f} |")
    learn = scores[scores["split"] == "learning"]
    print("\nlearning hours (in-sample):")
    for row in learn.itertuples():
        print(
            f"  {row.model:20s} SL MAE {row.sl_mae:.3f} bias {row.sl_bias:+.3f}  "
            f"abandonment MAE {row.ab_mae:.3f} bias {row.ab_bias:+.3f}"
        )

    # a floor on the achievable error: binomial noise of the observed proportions alone
    test = check[~check["learning"]]
    p_sl = test["sl_after"].clip(0, 1)
    n = test["offered"]
    noise_sl = np.sqrt(2 / np.pi) * np.sqrt(p_sl * (1 - p_sl) / n)
    p_ab = test["ab_after"].clip(0, 1)
    noise_ab = np.sqrt(2 / np.pi) * np.sqrt(p_ab * (1 - p_ab) / n)
    print(
        f"\nsampling-noise floor on held-out MAE (if the calibrated model were exact): "
        f"SL {noise_sl.mean():.3f}, abandonment {noise_ab.mean():.3f}"
    )
    by_hour = test.groupby(pd.to_datetime(test["ds"]).dt.hour).agg(
        n=("offered", "size"),
        sl_obs=("sl_observed", "mean"),
        sl_after=("sl_after", "mean"),
        ab_obs=("ab_observed", "mean"),
        ab_after=("ab_after", "mean"),
    )
    print("\nheld-out hours by hour of day (means):")
    print(by_hour.round(3).to_string())
    if args.folds:
        week_folds(records, interval_s, args.min_calls, objective=args.objective)
    return 0


def week_folds(
    records: pd.DataFrame,
    interval_s: int,
    min_calls: int,
    *,
    objective: str = "separate",
    weeks: int | None = 4,
) -> None:
    """Robustness: each week held out in turn, learning on the others (the learning
    period is then not a single span: the held-out week's calls are removed before
    calibrating). ``weeks=None``: every whole week from 1 February in ``records``."""
    if weeks is None:
        weeks = int((records["arrival"].max() - pd.Timestamp("1999-02-01")).days // 7 + 1)
    print(f"\nleave-one-week-out, {objective} fit (calibrated Erlang A vs uncalibrated):")
    print(
        "| held-out week | hours | Erlang C SL MAE | Erlang A SL MAE | calibrated SL MAE | "
        "calibrated SL bias | Erlang A ab. MAE | calibrated ab. MAE | calibrated ab. bias | "
        "factor | patience s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    starts = pd.date_range("1999-02-01", periods=weeks, freq="7D")
    means = []
    for start in starts:
        end = start + pd.Timedelta(days=7)
        in_week = (records["arrival"] >= start) & (records["arrival"] < end)
        cal = calibrate(
            records.loc[~in_week.to_numpy()],
            interval_s=interval_s,
            pool="all",
            min_calls=min_calls,
            bootstrap=0,
            objective=objective,
        )
        check = calibration_check(records.loc[in_week.to_numpy()], cal)
        sc = check_scores(check.assign(learning=False)).set_index("model")
        a = cal.queues["all"].availability
        after = sc.loc["Erlang A calibrated"]
        means.append(after[["sl_mae", "sl_bias", "ab_mae", "ab_bias"]].to_numpy(float))
        print(
            f"| {start:%d %b} | {int(sc['intervals'].iloc[0])} | "
            f"{sc.loc['Erlang C', 'sl_mae']:.3f} | {sc.loc['Erlang A', 'sl_mae']:.3f} | "
            f"{after['sl_mae']:.3f} | {after['sl_bias']:+.3f} | "
            f"{sc.loc['Erlang A', 'ab_mae']:.3f} | {after['ab_mae']:.3f} | "
            f"{after['ab_bias']:+.3f} | {a.factor:.3f} | {a.patience_s:.0f} |"
        )
    m = np.mean(means, axis=0)
    print(
        f"mean over folds, calibrated: SL MAE {m[0]:.4f} (bias {m[1]:+.4f}), "
        f"abandonment MAE {m[2]:.4f} (bias {m[3]:+.4f})"
    )


if __name__ == "__main__":
    sys.exit(main())
