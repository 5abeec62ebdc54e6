"""Plan backtest on real data: the service level the whole chain (forecast -> staffing) buys.

Run:  .venv/bin/python benchmarks/bench_plan_backtest.py [--replications 20] [--quick]

For each scenario, every rolling-origin fold's plan (forecast from the data before the
fold, staffed by the queue's channel rule) is replayed against the fold's actual
arrivals, beside a plan built from the actual counts (perfect knowledge), exactly as
``wfm backtest CONFIG --plans`` does (the same library call,
:func:`forecast.planbacktest.backtest_plans`). Scenarios:

bank        benchmarks/configs/bank_calls_plans.toml: North American bank (fpp3
            bank_calls), 30-minute weekday intervals, ~250 Erlangs at midday; AHT 300 s
            *assumed* (the data has no handle times), 80/20, no occupancy cap.
            Staffed to the forecast mean and to its 90% quantile; model "auto"
            (backtest-selected in each fold) and the fixed 4-week slot mean.
bank cap    benchmarks/configs/bank_calls_30min.toml: the forecasting config as it is
            (default 85% occupancy cap): how much the cap hides forecast error.
technion    benchmarks/configs/technion_plans.toml: Israeli bank 1999 (Technion SEE lab),
            ~15-40 Erlangs; AHT 177 s and patience 330 s measured on its February 1999
            call records, lognormal handle times (CV 1.23), Erlang A staffing.

Writes benchmarks/_work/plan_backtest/<scenario>/ (the CLI's files) and prints a
Markdown table. ``--diagnostic`` instead replays the bank's perfect plan with the exact
counts and with Poisson counts of the same means (why the perfect plan beats Erlang C's
promise). Timings are wall-clock seconds of one run (forecasting dominates; the
machine is shared, so they are indicative only).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from forecast.cli.forecast_cmd import load_history  # noqa: E402
from forecast.config import load_config  # noqa: E402
from forecast.events import events_for_queue  # noqa: E402
from forecast.planbacktest import backtest_plans, write_plan_backtest  # noqa: E402

CONFIGS = ROOT / "benchmarks" / "configs"
WORK = ROOT / "benchmarks" / "_work" / "plan_backtest"

#: name, config file, model override, staffing quantile, handle-time distribution
SCENARIOS = (
    ("bank, auto, mean", "bank_calls_plans.toml", None, None, ("exponential", None)),
    ("bank, auto, p90", "bank_calls_plans.toml", None, 0.9, ("exponential", None)),
    ("bank, slot_mean, mean", "bank_calls_plans.toml", "slot_mean", None, ("exponential", None)),
    ("bank cap 85%, auto, mean", "bank_calls_30min.toml", None, None, ("exponential", None)),
    ("technion, auto, mean", "technion_plans.toml", None, None, ("lognormal", 1.23)),
    ("technion, auto, p90", "technion_plans.toml", None, 0.9, ("lognormal", 1.23)),
)


def run(name, config_file, model, quantile, service, *, replications, seed, quick):
    config = load_config(CONFIGS / config_file)
    if model is not None:
        config = dataclasses.replace(config, forecast=dataclasses.replace(config.forecast,
                                                                          model=model))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history, events = load_history(config)
    results = []
    t0 = time.perf_counter()
    for queue_name in sorted(history["queue"].unique()):
        hist = history[history["queue"] == queue_name].drop(columns="queue")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            results.append(backtest_plans(
                hist.reset_index(drop=True), events_for_queue(events, queue_name),
                config.queue(queue_name), config, folds=2 if quick else None,
                replications=replications, seed=seed, quantile=quantile,
                service=service[0], service_cv=service[1]))
    seconds = time.perf_counter() - t0
    slug = name.replace(", ", "_").replace(" ", "_").replace("%", "")
    write_plan_backtest(results, WORK / slug)
    return results, seconds


def perfect_plan_diagnostic(replications: int, seed: int) -> str:
    """Why the perfect plan beats Erlang C's promise: the same bank plan (staffed on the
    actual counts of the four fold weeks) replayed with those exact counts and with
    Poisson counts of the same means."""
    import pandas as pd

    from forecast.simulate import simulate_plan
    from forecast.staffing import staff_queue

    config = load_config(CONFIGS / "bank_calls_plans.toml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history, _ = load_history(config)
    queue = config.queue("bank")
    weeks = history[(history["ds"] >= "2003-09-27") & ~history["filled"]].reset_index(drop=True)
    plan = staff_queue(pd.DataFrame({"ds": weeks["ds"], "volume": weeks["y"],
                                     "aht_s": float(queue.aht_s)}), queue,
                       interval_s=config.interval_s).assign(queue="bank")
    lines = []
    for arrivals in ("counts", "poisson"):
        result = simulate_plan(plan, interval_s=config.interval_s, replications=replications,
                               arrivals=arrivals, queues={"bank": queue}, seed=seed)
        row = result.summary().iloc[0]
        lines.append(f"| {arrivals} | {pct(row['promised_service_level'])} | "
                     f"{pct(row['service_level'])} [{pct(row['service_level_lo'])}, "
                     f"{pct(row['service_level_hi'])}] |")
    return ("| arrivals replayed against the bank's perfect plan | Erlang C promise | "
            "replayed SL [95% CI] |\n|---|---|---|\n" + "\n".join(lines))


def pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="two folds per scenario")
    parser.add_argument("--only", help="run only scenarios whose name contains this")
    parser.add_argument("--diagnostic", action="store_true",
                        help="only replay the bank's perfect plan with exact and Poisson counts")
    args = parser.parse_args(argv)
    if args.diagnostic:
        print(perfect_plan_diagnostic(args.replications, args.seed))
        return 0

    rows, folds_rows, record = [], [], []
    for name, config_file, model, quantile, service in SCENARIOS:
        if args.only and args.only not in name:
            continue
        results, seconds = run(name, config_file, model, quantile, service,
                               replications=args.replications, seed=args.seed,
                               quick=args.quick)
        for result in results:
            s = result.summary.set_index("fold")
            whole = s.loc[0]
            rows.append(
                f"| {name} | {int(whole['days'])} | {whole['wape']:.3f} | {whole['bias']:+.3f} | "
                f"{pct(whole['sl_promised'])} | "
                f"{pct(whole['sl_plan'])} [{pct(whole['sl_plan_lo'])}, "
                f"{pct(whole['sl_plan_hi'])}] | "
                f"{pct(whole['sl_perfect'])} [{pct(whole['sl_perfect_lo'])}, "
                f"{pct(whole['sl_perfect_hi'])}] | "
                f"{pct(whole['intervals_meeting_plan'])} / "
                f"{pct(whole['intervals_meeting_perfect'])} | "
                f"{pct(whole['days_meeting_plan'])} / {pct(whole['days_meeting_perfect'])} | "
                f"{whole['agent_hours_ratio']:.3f} | {seconds:.0f} |")
            for number, fold in s.drop(index=0).iterrows():
                folds_rows.append(
                    f"| {name} | {number} | {fold['origin']:%Y-%m-%d} | {fold['model']} | "
                    f"{fold['wape']:.3f} | {fold['bias']:+.3f} | {pct(fold['sl_plan'])} | "
                    f"{pct(fold['sl_perfect'])} | {fold['agent_hours_ratio']:.3f} |")
            record.append({"scenario": name, "seconds": seconds,
                           "summary": json.loads(result.summary.to_json(orient="records",
                                                                        date_format="iso"))})
        print(f"{name}: {seconds:.0f} s", file=sys.stderr, flush=True)

    print(f"\nreplications {args.replications}, seed {args.seed}\n")
    print("| scenario | days | WAPE | bias | SL promised | SL forecast plan [95% CI] | "
          "SL perfect plan [95% CI] | intervals meeting 80%: plan / perfect | "
          "days meeting 80%: plan / perfect | agent-hours plan / perfect | s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print("\n| scenario | fold | origin | model | WAPE | bias | SL plan | SL perfect | "
          "agent-hours ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(folds_rows))
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "results.json").write_text(json.dumps(record, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
