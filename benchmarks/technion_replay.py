"""Replay the real calls of the Technion bank (February 1999) through the simulator.

Run:  .venv/bin/python benchmarks/technion_replay.py [--replications 20] [--markdown]

Every call of the month (its real arrival time and, when answered, its real handle
time; abandoned calls get a handle time resampled from the answered ones) is served
first come first served by as many agents as were seen serving in each interval (the
distinct agents with a call in service at some moment of it). The simulated waits,
service level within 20 s and abandonment are set beside what the centre delivered.

Patience, estimated from the same records:
* ``exp``: exponential with mean = total time all callers spent queued / abandonments
  (the maximum-likelihood estimate under censoring: an answered caller's patience is
  known only to exceed its wait);
* ``censored``: per call: a caller who hung up has its observed wait as patience; an
  answered caller gets its wait plus an exponential draw of the same mean (memoryless).

Agents: ``distinct`` (every agent seen serving in the interval counts 1), ``span``
(each agent's first-to-last service inside the interval), ``on shift`` (presence spans
across idle gaps of at most 15 minutes, from :func:`forecast.calibrate.interval_table`;
fractional, rounded up or down at random per replication) and ``factor x on shift``
with the availability factor :func:`forecast.calibrate.calibrate` learns (Erlang A fit)
on 1-21 February; the last week is scored separately as held out.

Simplifications (see RESULTS.md): one pooled FCFS queue for all service types (agents
here serve all of them), priority customers not served first, agents counted per
interval may have been on duty for only part of it or busy with other work.

Data: Technion Service Enterprise Engineering lab (Mandelbaum, Guedj), "Anonymous Bank".
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from forecast.calibrate import calibrate, interval_table  # noqa: E402
from forecast.records import read_call_records  # noqa: E402
from forecast.simulate import simulate_plan, simulate_queue  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "technion_bank_calls_feb1999.tsv"
TARGET_S = 20.0
MIN_CALLS = 10  # intervals with fewer calls are too noisy to score one by one
HOLDOUT_START = "1999-02-22"  # the availability factor is learned on calls before this


def load_calls(path: Path) -> pd.DataFrame:
    calls = read_call_records(path, format="technion")
    calls = calls.assign(queue="all").reset_index(drop=True)
    calls["arrival"] = calls["arrival"].astype("datetime64[ns]")
    calls["start"] = calls["arrival"] + pd.to_timedelta(calls["wait_s"], unit="s")
    return calls


def agents_per_interval(calls: pd.DataFrame, interval_s: int, how: str = "distinct") -> pd.Series:
    """Agents on duty per interval, as far as the records show them.

    ``distinct``: the agents with a call in service at some moment of the interval (an
    upper bound: some were there for only part of it). ``span``: for each agent, the time
    from its first call start to its last call end inside the interval, summed over
    agents and divided by the interval, rounded (a lower bound: time on duty before the
    first or after the last call of the interval is not seen).
    """
    served = calls[(calls["outcome"] == "answered") & calls["agent"].notna()]
    start = served["start"].to_numpy("datetime64[ns]").astype(np.int64) / 1e9
    end = start + served["handle_s"].to_numpy(np.float64)
    first = np.floor(start / interval_s).astype(np.int64)
    last = np.maximum(np.ceil(end / interval_s).astype(np.int64) - 1, first)
    span = last - first + 1
    slot = np.repeat(first, span) + (
        np.arange(span.sum()) - np.repeat(np.cumsum(span) - span, span)
    )
    lo = np.maximum(np.repeat(start, span), slot * float(interval_s))
    hi = np.minimum(np.repeat(end, span), (slot + 1) * float(interval_s))
    frame = pd.DataFrame(
        {"slot": slot, "agent": np.repeat(served["agent"].to_numpy(), span), "lo": lo, "hi": hi}
    )
    if how == "distinct":
        counts = frame.groupby("slot")["agent"].nunique()
    else:
        per_agent = frame.groupby(["slot", "agent"]).agg(lo=("lo", "min"), hi=("hi", "max"))
        on_duty = (per_agent["hi"] - per_agent["lo"]).groupby(level="slot").sum()
        counts = np.rint(on_duty / interval_s).astype(np.int64)
    counts.index = pd.to_datetime(counts.index.to_numpy() * interval_s, unit="s")
    return counts


def build_plan(calls: pd.DataFrame, interval_s: int, how: str) -> pd.DataFrame:
    """One row per interval from each day's first to last interval with calls or agents."""
    agents = agents_per_interval(calls, interval_s, how)
    arrivals = calls["arrival"].dt.floor(f"{interval_s}s")
    slots = pd.DatetimeIndex(arrivals.unique()).union(agents.index)
    grid = []
    for _, day in pd.Series(slots, index=slots).groupby(slots.normalize()):
        grid.append(pd.date_range(day.min(), day.max(), freq=f"{interval_s}s"))
    ds = grid[0].append(grid[1:])
    volume = arrivals.value_counts().reindex(ds, fill_value=0).to_numpy(np.float64)
    answered = calls["outcome"] == "answered"
    return pd.DataFrame(
        {
            "queue": "all",
            "ds": ds,
            "volume": volume,
            "aht_s": float(calls.loc[answered, "handle_s"].mean()),
            "agents_required": agents.reindex(ds, fill_value=0).to_numpy(np.int64),
        }
    )


def observed(calls: pd.DataFrame, plan: pd.DataFrame, interval_s: int) -> pd.DataFrame:
    slot = calls["arrival"].dt.floor(f"{interval_s}s")
    answered = calls["outcome"] == "answered"
    g = (
        pd.DataFrame(
            {
                "ds": slot,
                "offered": 1,
                "answered": answered.astype(int),
                "abandoned": (~answered).astype(int),
                "within": (answered & (calls["wait_s"] <= TARGET_S)).astype(int),
                "wait_answered": calls["wait_s"].where(answered, 0.0),
            }
        )
        .groupby("ds")
        .sum()
    )
    g = g.reindex(plan["ds"]).fillna(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame(
            {
                "ds": plan["ds"].to_numpy(),
                "obs_offered": g["offered"].to_numpy(),
                "obs_service_level": (g["within"] / g["offered"]).to_numpy(),
                "obs_abandonment": (g["abandoned"] / g["offered"]).to_numpy(),
                "obs_asa_s": (g["wait_answered"] / g["answered"]).to_numpy(),
                "obs_within": g["within"].to_numpy(),
                "obs_abandoned": g["abandoned"].to_numpy(),
                "obs_answered": g["answered"].to_numpy(),
                "obs_wait": g["wait_answered"].to_numpy(),
            }
        )


def score(table: pd.DataFrame) -> dict[str, float]:
    """Pooled month figures and per-interval MAE / bias (simulated - observed)."""
    busy = table[table["obs_offered"] >= MIN_CALLS]
    out = {
        "intervals scored": len(busy),
        "obs SL": table["obs_within"].sum() / table["obs_offered"].sum(),
        "sim SL": table["answered_within_target"].sum() / table["offered"].sum(),
        "obs aband": table["obs_abandoned"].sum() / table["obs_offered"].sum(),
        "sim aband": table["abandoned"].sum() / table["offered"].sum(),
        "obs ASA": table["obs_wait"].sum() / table["obs_answered"].sum(),
        "sim ASA": (table["asa_s"] * table["answered"]).sum() / table["answered"].sum(),
        "sim occ": (table["occupancy"] * table["agents"]).sum(min_count=1) / table["agents"].sum(),
    }
    for name, obs in (
        ("service_level", "obs_service_level"),
        ("abandonment", "obs_abandonment"),
        ("asa_s", "obs_asa_s"),
    ):
        diff = (busy[name] - busy[obs]).dropna()
        out[f"{name} MAE"] = diff.abs().mean()
        out[f"{name} bias"] = diff.mean()
        out[f"{name} corr"] = busy[[name, obs]].dropna().corr().iloc[0, 1]
    return out


def run(calls, interval_s: int, how: str, variant: str, replications: int, mean_patience_s: float):
    plan = build_plan(calls, interval_s, how)
    replay = calls[["queue", "arrival", "handle_s"]].copy()
    patience = mean_patience_s
    if variant == "censored":
        abandoned = calls["outcome"] == "abandoned"
        replay["patience_s"] = calls["wait_s"].where(abandoned)
        replay["patience_min_s"] = calls["wait_s"].where(~abandoned)
    elif variant == "none":
        patience = None
    t0 = time.perf_counter()
    res = simulate_plan(
        plan,
        interval_s=interval_s,
        target_s=TARGET_S,
        replications=replications,
        arrivals=replay,
        service="actual",
        patience=patience,
        seed=0,
    )
    seconds = time.perf_counter() - t0
    table = res.intervals.merge(observed(calls, plan, interval_s), on="ds")
    return table, seconds, res.notes


def replay_fractional(
    calls: pd.DataFrame,
    agents: pd.Series,
    mean_patience_s: float,
    replications: int,
    seed: int = 0,
    interval_s: int = 3600,
):
    """Replay against fractional agents per interval (e.g. agents on shift x a factor).

    Each replication rounds every interval's agents up or down at random so that the
    mean is the fractional value (5.3 agents: 6 with probability 0.3, else 5), and uses
    the censored per-call patience. Each day is simulated from an empty queue with the
    low-level :func:`forecast.simulate.simulate_queue`.
    """
    plan = build_plan(calls, interval_s, "distinct")  # the grid; agents replaced below
    x = agents.reindex(plan["ds"]).fillna(0.0).to_numpy(np.float64)
    rng = np.random.default_rng(seed)
    arrival = calls["arrival"].to_numpy("datetime64[ns]")
    wait = calls["wait_s"].to_numpy(np.float64)
    abandoned = (calls["outcome"] == "abandoned").to_numpy()
    handle = calls["handle_s"].to_numpy(np.float64)
    known = np.isfinite(handle)
    ds = plan["ds"].to_numpy("datetime64[ns]")
    day = ds.astype("datetime64[D]")
    sums = np.zeros((5, len(ds)))  # offered, within, abandoned, answered, wait of answered
    for _ in range(replications):
        patience = np.where(abandoned, wait, wait + rng.exponential(mean_patience_s, wait.size))
        service = handle.copy()
        service[~known] = handle[known][rng.integers(0, known.sum(), (~known).sum())]
        n_agents = np.floor(x) + (rng.random(x.size) < x - np.floor(x))
        for d in np.unique(day):
            rows = np.flatnonzero(day == d)
            start = ds[rows[0]]
            end = ds[rows[-1]] + np.timedelta64(interval_s, "s")
            mine = np.flatnonzero((arrival >= start) & (arrival < end))
            if mine.size == 0:
                continue
            t = (arrival[mine] - start) / np.timedelta64(1, "s")
            res = simulate_queue(
                t, service[mine], patience[mine], n_agents[rows], interval_s, TARGET_S
            )
            j = rows[0] + res["interval"].to_numpy()
            answered = (res["outcome"] == "answered").to_numpy()
            np.add.at(sums[0], j, 1)
            np.add.at(sums[1], j, res["within_target"].to_numpy())
            np.add.at(sums[2], j, (res["outcome"] == "abandoned").to_numpy())
            np.add.at(sums[3], j, answered)
            np.add.at(sums[4], j, np.where(answered, res["wait_s"].to_numpy(), 0.0))
    sums /= replications
    with np.errstate(invalid="ignore", divide="ignore"):
        table = pd.DataFrame(
            {
                "ds": plan["ds"],
                "agents": x,
                "offered": sums[0],
                "answered_within_target": sums[1],
                "abandoned": sums[2],
                "answered": sums[3],
                "service_level": sums[1] / sums[0],
                "abandonment": sums[2] / sums[0],
                "asa_s": sums[4] / sums[3],
                "occupancy": np.nan,
            }
        )
    return table.merge(observed(calls, plan, interval_s), on="ds")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument(
        "--profile-out", type=Path, default=None, help="write the hour-of-day profile table (CSV)"
    )
    args = parser.parse_args()
    if not args.data.is_file():
        sys.exit(f"data file not found: {args.data}")
    calls = load_calls(args.data)
    abandoned = calls["outcome"] == "abandoned"
    mean_patience_s = calls["wait_s"].sum() / abandoned.sum()
    print(
        f"{len(calls):,} calls ({abandoned.sum():,} abandoned), "
        f"{calls['agent'].nunique()} agents; patience estimate {mean_patience_s:.0f} s "
        f"(total wait {calls['wait_s'].sum():,.0f} s / {abandoned.sum():,} abandonments)"
    )

    rows, tables = [], {}
    settings = [
        (3600, "distinct", "exp"),
        (3600, "distinct", "censored"),
        (3600, "distinct", "none"),
        (1800, "distinct", "censored"),
        (900, "distinct", "censored"),
        (3600, "span", "censored"),
        (1800, "span", "censored"),
    ]
    for interval_s, how, variant in settings:
        table, seconds, notes = run(
            calls, interval_s, how, variant, args.replications, mean_patience_s
        )
        tables[(interval_s, how, variant)] = table
        rows.append(
            {
                "interval": f"{interval_s // 60} min",
                "agents": how,
                "patience": variant,
                **score(table),
                "seconds": seconds,
            }
        )
        for note in notes:
            print(f"note ({interval_s // 60} min, {how}, {variant}): {note}")
    # fractional staffing: agents on shift (presence spans), and scaled by the availability
    # factor forecast.calibrate learns on 1-21 February (Erlang A fit, not this simulator)
    on_shift = interval_table(calls, interval_s=3600, pool="all").set_index("ds")["agents_on_shift"]
    learned = calibrate(
        calls, interval_s=3600, pool="all", train=(None, HOLDOUT_START), bootstrap=0
    ).queues["all"]
    factor = learned.availability.factor
    print(f"availability factor learned on calls before {HOLDOUT_START}: {factor:.3f}")
    for label, agents in (("on shift", on_shift), (f"{factor:.3f} x on shift", factor * on_shift)):
        t0 = time.perf_counter()
        table = replay_fractional(calls, agents, mean_patience_s, args.replications)
        seconds = time.perf_counter() - t0
        tables[(3600, label, "censored")] = table
        rows.append(
            {
                "interval": "60 min",
                "agents": label,
                "patience": "censored",
                **score(table),
                "seconds": seconds,
            }
        )
        held = table[table["ds"] >= pd.Timestamp(HOLDOUT_START)]
        rows.append(
            {
                "interval": "60 min",
                "agents": f"{label}, 22-28 Feb only",
                "patience": "censored",
                **score(held),
                "seconds": float("nan"),
            }
        )
    result = pd.DataFrame(rows)

    print("\nWhole month (pooled over all calls):")
    print(
        "| interval | agents | patience | SL obs | SL sim | abandon obs | abandon sim | "
        "ASA obs s | ASA sim s | occupancy sim |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['interval']} | {r['agents']} | {r['patience']} | {100 * r['obs SL']:.1f}% | "
            f"{100 * r['sim SL']:.1f}% | {100 * r['obs aband']:.1f}% | "
            f"{100 * r['sim aband']:.1f}% | {r['obs ASA']:.0f} | {r['sim ASA']:.0f} | "
            + ("-" if np.isnan(r["sim occ"]) else f"{100 * r['sim occ']:.0f}%")
            + " |"
        )
    print(f"\nPer interval (intervals with >= {MIN_CALLS} calls), simulated - observed:")
    print(
        "| interval | agents | patience | intervals | SL MAE | SL bias | SL corr | "
        "abandon MAE | abandon bias | ASA MAE s | ASA bias s | run s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for _, r in result.iterrows():
        print(
            f"| {r['interval']} | {r['agents']} | {r['patience']} | {r['intervals scored']} | "
            f"{100 * r['service_level MAE']:.1f} pt | {100 * r['service_level bias']:+.1f} pt | "
            f"{r['service_level corr']:.2f} | {100 * r['abandonment MAE']:.1f} pt | "
            f"{100 * r['abandonment bias']:+.1f} pt | {r['asa_s MAE']:.0f} | "
            f"{r['asa_s bias']:+.0f} | "
            + ("-" if np.isnan(r["seconds"]) else f"{r['seconds']:.1f}")
            + " |"
        )

    table = tables[(3600, "distinct", "censored")]
    calibrated = tables[(3600, f"{factor:.3f} x on shift", "censored")]
    table = table.merge(
        calibrated[["ds", "answered_within_target", "abandoned", "offered", "agents"]],
        on="ds",
        suffixes=("", "_cal"),
    )
    table = table.assign(hour=table["ds"].dt.hour)
    profile = table.groupby("hour").agg(
        calls=("obs_offered", "sum"),
        agents=("agents", "mean"),
        obs_within=("obs_within", "sum"),
        sim_within=("answered_within_target", "sum"),
        obs_ab=("obs_abandoned", "sum"),
        sim_ab=("abandoned", "sum"),
        sim_offered=("offered", "sum"),
        agents_cal=("agents_cal", "mean"),
        cal_within=("answered_within_target_cal", "sum"),
        cal_ab=("abandoned_cal", "sum"),
    )
    profile = profile[profile["calls"] >= 200]
    print(
        f"\nBy hour of day (60 min, censored patience), month totals; simulated with the "
        f"distinct agents seen and with {factor:.3f} x agents on shift (calibrated):"
    )
    print(
        "| hour | calls | agents seen / calibrated | SL obs | SL sim seen | SL sim calibrated | "
        "abandon obs | abandon sim seen | abandon sim calibrated |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for hour, p in profile.iterrows():
        print(
            f"| {hour:02d}:00 | {p.calls:,.0f} | {p.agents:.1f} / {p.agents_cal:.1f} | "
            f"{100 * p.obs_within / p.calls:.0f}% | {100 * p.sim_within / p.sim_offered:.0f}% | "
            f"{100 * p.cal_within / p.sim_offered:.0f}% | "
            f"{100 * p.obs_ab / p.calls:.0f}% | {100 * p.sim_ab / p.sim_offered:.0f}% | "
            f"{100 * p.cal_ab / p.sim_offered:.0f}% |"
        )
    if args.profile_out:
        profile.to_csv(args.profile_out)


if __name__ == "__main__":
    main()
