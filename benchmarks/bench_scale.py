"""Scale: plan 1,000 queues with a year of 30-minute history each, on 1 and 2 workers.

The queues are made from the real bank data (../shared/data/bank_calls_5min.csv):
each queue is 52 weeks drawn at random (with replacement) from the bank's 33 weeks
of 30-minute weekday counts, scaled by a queue size drawn log-uniformly between 0.05x
and 2x, with Poisson noise on top. So every queue has the bank's real intraday and
weekly shapes and real week-to-week variation, at many sizes.

Run (from the project root, after `make test` or `make example` has built .venv):

    .venv/bin/python benchmarks/bench_scale.py --queues 1000 --workers 1 2
    .venv/bin/python benchmarks/bench_scale.py --queues 1000 --prophet-sample 10

It times the full `wfm plan` command (read, validate, regularise, forecast with the
configured model, staff, write) as a subprocess and reads its peak memory
(max RSS of the process tree) from the OS.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
BANK = ROOT.parent / "shared" / "data" / "bank_calls_5min.csv"
WORK = ROOT / "benchmarks" / "_work" / "scale"


def bank_weeks() -> np.ndarray:
    """The bank's complete weeks as an array (weeks, 5 days, 28 half-hours)."""
    raw = pd.read_csv(BANK)
    ds = pd.to_datetime(raw["DateTime"].str.replace("Z", "", regex=False))
    calls = pd.Series(raw["Calls"].to_numpy(float), index=ds)
    half_hours = calls.resample("30min").sum()
    half_hours = half_hours[(half_hours.index.hour >= 7) & (half_hours.index.hour < 21)
                            & (half_hours.index.day_of_week < 5)]
    frame = half_hours.to_frame("y")
    frame["week"] = frame.index.to_period("W-SUN")
    complete = frame.groupby("week").filter(lambda w: len(w) == 5 * 28 and w["y"].gt(0).all()
                                            if len(w) else False)
    return complete["y"].to_numpy().reshape(-1, 5, 28)


def make_queues(n_queues: int, seed: int = 0) -> Path:
    """Write the synthetic multi-queue volumes (Parquet) and a plan config; return the config."""
    WORK.mkdir(parents=True, exist_ok=True)
    volumes_path = WORK / f"volumes_{n_queues}.parquet"
    config_path = WORK / f"scale_{n_queues}.toml"
    if not volumes_path.exists():
        rng = np.random.default_rng(seed)
        weeks = bank_weeks()
        start = pd.Timestamp("2025-11-03")  # a Monday
        days = pd.date_range(start, periods=52 * 7, freq="D")
        weekdays = days[days.day_of_week < 5]
        slots = pd.to_timedelta(np.arange(28) * 30 + 7 * 60, unit="min")
        ds = (weekdays.to_numpy()[:, None] + slots.to_numpy()[None, :]).ravel()
        frames = []
        for q in range(n_queues):
            picks = rng.integers(0, len(weeks), size=52)
            size = np.exp(rng.uniform(np.log(0.05), np.log(2.0)))
            rate = weeks[picks].reshape(-1) * size
            frames.append(pd.DataFrame({
                "queue": f"q{q:04d}", "timestamp": ds,
                "volume": rng.poisson(rate).astype(np.int32),
            }))
        pd.concat(frames, ignore_index=True).to_parquet(volumes_path, index=False)
    config_path.write_text(f"""
[centre]
name = "scale benchmark"
timezone = "America/New_York"
interval_min = 30

[data]
volumes = "{volumes_path.name}"

[forecast]
horizon_days = 7  # model: the default ("auto")

[defaults]
channel = "voice"
aht_s = 300
hours = {{ default = "07:00-21:00", sat = "closed", sun = "closed" }}
""")
    return config_path


def tree_rss_mb(root_pid: int) -> float:
    """Resident memory of a process and all its descendants, from /proc."""
    parents, rss = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            pid = int(stat.parent.name)
            parents[pid] = int(fields[1])
            rss[pid] = int(fields[21]) * resource.getpagesize()
        except (OSError, ValueError, IndexError):
            continue
    tree, frontier = {root_pid}, [root_pid]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        tree.update(children)
        frontier.extend(children)
    return sum(rss.get(pid, 0) for pid in tree) / 2**20


def run_plan(config: Path, workers: int, out: Path) -> dict:
    """Time one `wfm plan` subprocess, sampling the memory of its process tree."""
    log = out.with_name(out.name + ".log")  # a file, not a pipe: one JSON line per queue
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "wfm"), "plan", str(config), "--out", str(out),
             "--no-charts", "--workers", str(workers), "--log-format", "json"],
            stdout=subprocess.DEVNULL, stderr=sink, text=True)
        peak = 0.0
        while proc.poll() is None:
            peak = max(peak, tree_rss_mb(proc.pid))
            time.sleep(0.25)
    wall = time.perf_counter() - started
    stderr = log.read_text()
    if proc.returncode != 0:
        sys.exit(f"wfm plan failed ({proc.returncode}): {stderr[-2000:]}")
    summary = json.loads(stderr.strip().splitlines()[-1])
    return {"workers": workers, "wall_s": wall, "peak_rss_mb": peak, "queues": summary["queues"]}


def prophet_sample(config: Path, n: int) -> float:
    """Seconds per queue for Prophet (defaults) fit + predict, timed on n queues."""
    import logging

    from prophet import Prophet

    logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
    volumes = pd.read_parquet(config.parent / config.read_text().split('volumes = "')[1]
                              .split('"')[0])
    names = sorted(volumes["queue"].unique())[:n]
    started = time.perf_counter()
    for name in names:
        one = volumes[volumes["queue"] == name].rename(columns={"timestamp": "ds",
                                                                "volume": "y"})
        model = Prophet().fit(one[["ds", "y"]])
        future = pd.DataFrame({"ds": pd.date_range(one["ds"].max() + pd.Timedelta("30min"),
                                                   periods=7 * 28, freq="30min")})
        model.predict(future)
    return (time.perf_counter() - started) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queues", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--prophet-sample", type=int, default=0,
                        help="also time Prophet on this many queues and extrapolate")
    args = parser.parse_args()
    if not BANK.is_file():
        sys.exit(f"needs {BANK}")
    config = make_queues(args.queues)
    rows = [run_plan(config, w, WORK / f"out_w{w}") for w in args.workers]
    base = rows[0]["wall_s"]
    print(f"\n{args.queues} queues, one year of 30-minute weekday history each, 7-day horizon")
    print("| workers | wall time (s) | per queue (ms) | speed-up | peak RSS, process tree (MB) |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['workers']} | {r['wall_s']:.1f} | {1000 * r['wall_s'] / args.queues:.0f} | "
              f"{base / r['wall_s']:.2f}x | {r['peak_rss_mb']:.0f} |")
    if len(rows) > 1:
        same = all((WORK / f"out_w{r['workers']}" / "plan.csv").read_bytes()
                   == (WORK / f"out_w{rows[0]['workers']}" / "plan.csv").read_bytes()
                   for r in rows[1:])
        print(f"\nplan.csv byte-identical across worker counts: {same}")
    if args.prophet_sample:
        per = prophet_sample(config, args.prophet_sample)
        print(f"\nProphet defaults: {per:.2f} s per queue (fit + predict, mean of "
              f"{args.prophet_sample}); 1,000 queues = {per * 1000 / 60:.1f} min on 1 core, "
              f"{per * 1000 / 120:.1f} min on 2")


if __name__ == "__main__":
    main()
