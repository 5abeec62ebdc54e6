"""Erlang C / A required agents: speed and exactness, side by side with pyworkforce.

Workload: 35,040 fifteen-minute intervals (a year), volumes 0-600 contacts per
interval, AHT 180-400 s, target 80% within 20 s (seed 0). Erlang A adds a mean
patience of 120 s.

* ours: forecast.queueing.required_agents, all intervals in one call (min of repeats).
* pyworkforce 0.5.1 ErlangC.required_positions, one interval at a time, run in the
  benchmark environment ``.venv-bench-erlang`` (build it with benchmarks/erlang_env.sh).
* exactness: where the two disagree, the exact answer by a 60-digit mpmath search
  (fixtures/make_erlang_reference.py); plus a random sample of intervals where they agree,
  and a sample of our Erlang A answers checked the same way.

Run: ``.venv/bin/python benchmarks/bench_erlang.py [--repeats 7] [--sample 150]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "fixtures"))

from make_erlang_reference import required_a, required_c  # noqa: E402

from forecast.queueing import required_agents  # noqa: E402

INTERVAL_S = 900
TARGET_S, SHARE, PATIENCE_S = 20.0, 0.8, 120.0
LONG_TARGET_S = 180.0
PEER_PY = ROOT / ".venv-bench-erlang" / "bin" / "python"

PEER_SCRIPT = r"""
import json, sys, time
import numpy as np
from pyworkforce.queuing import ErlangC
data = np.load(sys.argv[1])
target_s, interval_s, share = float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
volume, aht = data["volume"], data["aht"]
best, answers, raised = float("inf"), None, 0
for _ in range(int(sys.argv[2])):
    start = time.perf_counter()
    out, raised = [], 0
    for v, h in zip(volume.tolist(), aht.tolist()):
        try:
            # pyworkforce wants aht, asa and interval in one unit: seconds here
            out.append(ErlangC(transactions=v, aht=h, asa=target_s, interval=interval_s)
                       .required_positions(service_level=share)["raw_positions"])
        except ValueError:
            out.append(-1)
            raised += 1
    best = min(best, time.perf_counter() - start)
    answers = out
print(json.dumps({"seconds": best, "agents": answers, "raised": raised}))
"""


def workload(seed: int = 0, size: int = 35_040):
    rng = np.random.default_rng(seed)
    volume = rng.integers(0, 601, size).astype(np.float64)
    aht = rng.uniform(180.0, 400.0, size)
    return volume, aht


def best_of(fn, repeats: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def run_peer(volume, aht, repeats: int, target_s: float = TARGET_S):
    if not PEER_PY.exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "workload.npz"
        np.savez(path, volume=volume, aht=aht)
        argv = [str(path), str(repeats), str(target_s), str(INTERVAL_S), str(SHARE)]
        proc = subprocess.run([str(PEER_PY), "-c", PEER_SCRIPT, *argv],
                              capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--peer-repeats", type=int, default=2)
    parser.add_argument("--sample", type=int, default=150)
    args = parser.parse_args()

    volume, aht = workload()
    load = volume * aht / INTERVAL_S
    t_c, ours_c = best_of(lambda: required_agents(load, aht, SHARE, TARGET_S), args.repeats)
    t_a, ours_a = best_of(
        lambda: required_agents(load, aht, SHARE, TARGET_S, patience_s=PATIENCE_S),
        max(2, args.repeats // 3))
    n_c, n_a = ours_c.agents_integer, ours_a.agents_integer
    print(f"workload: {load.size} intervals, load {load.min():.1f}-{load.max():.1f} Erlangs")
    print(f"ours Erlang C: {t_c * 1e3:.1f} ms (min of {args.repeats})")
    print(f"ours Erlang A: {t_a * 1e3:.1f} ms (min of {max(2, args.repeats // 3)})")

    peer = run_peer(volume, aht, args.peer_repeats)
    rng = np.random.default_rng(1)
    rows = []
    if peer is None:
        print("pyworkforce: not run (build .venv-bench-erlang with benchmarks/erlang_env.sh)")
    else:
        n_p = np.array(peer["agents"])
        print(f"pyworkforce ErlangC: {peer['seconds']:.2f} s (min of {args.peer_repeats}); "
              f"ratio {peer['seconds'] / t_c:,.0f}x; raised on {peer['raised']} "
              "zero-volume intervals")
        valid = n_p >= 0
        differ = np.flatnonzero(valid & (n_p != n_c))
        print(f"disagreements with pyworkforce: {differ.size} of {valid.sum()} intervals")
        ours_right = peer_right = 0
        for i in differ:
            exact = required_c(load[i], aht[i], TARGET_S, SHARE)
            ours_right += exact == n_c[i]
            peer_right += exact == n_p[i]
            rows.append((i, volume[i], aht[i], load[i], n_c[i], n_p[i], exact))
        print(f"  exact (mpmath) agrees with ours on {ours_right}, with pyworkforce on "
              f"{peer_right}")
        for i, v, h, a, oc, op, ex in rows[:8]:
            print(f"  interval {i}: volume {v:.0f}, AHT {h:.1f} s, load {a:.3f} E: "
                  f"ours {oc}, pyworkforce {op}, exact {ex}")
    sample = rng.choice(np.flatnonzero(load > 0), size=min(args.sample, load.size),
                        replace=False)
    exact_c = np.array([required_c(load[i], aht[i], TARGET_S, SHARE) for i in sample])
    print(f"ours Erlang C vs exact on a random sample: {(exact_c == n_c[sample]).sum()} / "
          f"{sample.size}")
    sample_a = sample[: max(10, args.sample // 5)]
    exact_a = np.array([required_a(load[i], aht[i], PATIENCE_S, TARGET_S, SHARE)
                        for i in sample_a])
    print(f"ours Erlang A vs exact on a random sample: {(exact_a == n_a[sample_a]).sum()} / "
          f"{sample_a.size}")
    print(f"mean agents: Erlang C {n_c.mean():.2f}, Erlang A (patience {PATIENCE_S:g} s) "
          f"{n_a.mean():.2f}")
    long_target(args.peer_repeats)


def long_target(repeats: int) -> None:
    """Where pyworkforce is known to slip: answer-time targets long relative to AHT.

    Same volumes, AHT 20-90 s, 80% answered within 180 s: its search starts at
    round(A + 1) agents and never tries fewer, so it is one agent high wherever
    ceil(A) agents already meet the target."""
    volume, _ = workload()
    aht = np.random.default_rng(2).uniform(20.0, 90.0, volume.size)
    load = volume * aht / INTERVAL_S
    ours = required_agents(load, aht, SHARE, LONG_TARGET_S).agents_integer
    peer = run_peer(volume, aht, repeats, target_s=LONG_TARGET_S)
    print(f"\nlong target (AHT 20-90 s, {SHARE:.0%} within {LONG_TARGET_S:g} s):")
    if peer is None:
        print("pyworkforce: not run")
        return
    n_p = np.array(peer["agents"])
    differ = np.flatnonzero((n_p >= 0) & (n_p != ours))
    right_ours = right_peer = 0
    for i in differ:
        exact = required_c(load[i], aht[i], LONG_TARGET_S, SHARE)
        right_ours += exact == ours[i]
        right_peer += exact == n_p[i]
    print(f"disagreements with pyworkforce: {differ.size} of {(n_p >= 0).sum()} intervals; "
          f"exact (mpmath) agrees with ours on {right_ours}, with pyworkforce on {right_peer}")
    for i in differ[:5]:
        exact = required_c(load[i], aht[i], LONG_TARGET_S, SHARE)
        print(f"  interval {i}: volume {volume[i]:.0f}, AHT {aht[i]:.1f} s, load "
              f"{load[i]:.3f} E: ours {ours[i]}, pyworkforce {n_p[i]}, exact {exact}")


if __name__ == "__main__":
    main()
