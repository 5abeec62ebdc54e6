"""Big input: read, validate and regularise a 10-million-row volumes file.

The file: 1,000 queues x 365 days x 28 half-hours (08:00-22:00) = 10,220,000 rows,
columns ``queue, timestamp, volume, aht_s`` in timestamp-major order (all queues of
an interval together, as telephony exports write them), Poisson volumes with an
intraday and weekly shape, AHT with one decimal and 2% empty cells. Written once
under benchmarks/_work/big/ (gitignored) as CSV, CSV.gz and Parquet.

Each measurement runs ``read_volumes`` + ``regularise`` in a fresh subprocess and
reads its peak resident memory (``ru_maxrss`` of the child) and wall time; the
figure quoted is the minimum over ``--repeats`` runs (the machine is shared).

Run (from the project root):

    .venv/bin/python benchmarks/bench_big_input.py                 # all three formats
    .venv/bin/python benchmarks/bench_big_input.py --formats csv.gz --repeats 3
    .venv/bin/python benchmarks/bench_big_input.py --queues 100    # a quick 1M-row run
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

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "_work" / "big"
SLOTS = 28  # half-hours from 08:00 to 22:00
DAYS = 365
START = "2025-01-01"

CHILD = r"""
import json, resource, sys, time, warnings
t0 = time.perf_counter()
from forecast.config import OpeningHours
from forecast.data import read_volumes, regularise
from forecast.exceptions import DataRepairWarning
path, hours = sys.argv[1], sys.argv[2]
t1 = time.perf_counter()
try:
    table = read_volumes(path)
except Exception as exc:
    print(json.dumps({"error": str(exc)[-160:], "read_s": time.perf_counter() - t1,
                      "regularise_s": 0.0, "rows": 0, "grid_rows": 0, "import_s": t1 - t0,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    sys.exit(0)
t2 = time.perf_counter()
given = OpeningHours(((480, 1320),) * 7) if hours == "given" else None
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DataRepairWarning)
    grid, report = regularise(table, interval_s=1800, hours=given)
t3 = time.perf_counter()
print(json.dumps({
    "rows": len(table), "queues": int(table["queue"].nunique()), "grid_rows": len(grid),
    "import_s": t1 - t0, "read_s": t2 - t1, "regularise_s": t3 - t2,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def make_file(queues: int, fmt: str) -> Path:
    """Write (once) the synthetic volumes file in ``fmt`` (csv, csv.gz, parquet)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"volumes_{queues}q.{fmt}"
    if path.is_file():
        return path
    rng = np.random.default_rng(0)
    days = np.arange(np.datetime64(START), np.datetime64(START) + DAYS)
    slot_start = np.datetime64(0, "m") + 480 + 30 * np.arange(SLOTS)
    stamps = (days.astype("datetime64[m]")[:, None] + (slot_start - np.datetime64(0, "m"))
              ).ravel()
    intraday = np.sin(np.pi * (np.arange(SLOTS) + 0.5) / SLOTS) ** 1.5
    weekly = np.array([1.2, 1.05, 1.0, 1.0, 0.95, 0.6, 0.4])
    size = np.exp(rng.uniform(np.log(2), np.log(200), queues))
    wd = (days.astype("int64") + 3) % 7
    shape = (weekly[wd][:, None] * intraday[None, :]).ravel()  # per stamp
    n_stamps = stamps.size
    # timestamp-major: row i = stamp i // queues, queue i % queues
    lam = shape[:, None] * size[None, :]
    volume = rng.poisson(lam).ravel().astype(np.int64)
    aht = np.round(rng.normal(300, 40, n_stamps * queues), 1)
    ts_text = pc.replace_substring(
        pa.array(np.datetime_as_string(stamps, unit="m")), "T", " ")
    q_names = pa.array([f"q{i:04d}" for i in range(queues)])
    table = pa.table({
        "queue": pa.DictionaryArray.from_arrays(
            pa.array(np.tile(np.arange(queues, dtype=np.int32), n_stamps)), q_names),
        "timestamp": pc.take(ts_text, pa.array(np.repeat(np.arange(n_stamps), queues))),
        "volume": pa.array(volume),
        "aht_s": pa.array(aht, mask=rng.random(aht.size) < 0.02),
    })
    tmp = path.with_suffix(path.suffix + ".part")
    if fmt == "parquet":
        table = table.set_column(1, "timestamp", pc.strptime(table["timestamp"],
                                                            "%Y-%m-%d %H:%M", "s"))
        pq.write_table(table, tmp)
    else:
        table = table.set_column(0, "queue", table["queue"].cast(pa.string()))
        opts = pacsv.WriteOptions(quoting_style="needed")
        if fmt == "csv.gz":
            with pa.CompressedOutputStream(str(tmp), "gzip") as out:
                pacsv.write_csv(table, out, opts)
        else:
            pacsv.write_csv(table, str(tmp), opts)
    tmp.rename(path)
    return path


def damaged(path: Path, kind: str) -> Path:
    """A copy of the CSV with one damaged row appended at the very end (the worst place:
    the fast path reads everything before it gives way to the exact path)."""
    out = path.with_name(f"{path.stem}_{kind}.csv")
    if out.is_file():
        return out
    with open(path, "rb") as handle:
        handle.seek(-200, 2)
        last = handle.read().rstrip(b"\n").rsplit(b"\n", 1)[-1]
    extra = {"bad_value": last.rsplit(b",", 2)[0] + b",abc,300.0\n",
             "exact_duplicate": last + b"\n"}[kind]
    tmp = out.with_suffix(".part")
    with open(path, "rb") as src, open(tmp, "wb") as dst:
        while block := src.read(1 << 24):
            dst.write(block)
        dst.write(extra)
    tmp.rename(out)
    return out


def measure(path: Path, hours: str, code: Path = ROOT) -> dict:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path), hours], cwd=code,
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"child failed on {path}:\n{proc.stderr}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["wall_s"] = wall
    out["child_maxrss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queues", type=int, default=1000)
    ap.add_argument("--formats", nargs="*", default=["csv", "csv.gz", "parquet"])
    ap.add_argument("--hours", nargs="+", default=["given", "inferred"],
                    choices=["given", "inferred"])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--damaged", nargs="*", default=["bad_value", "exact_duplicate"],
                    choices=["bad_value", "exact_duplicate"],
                    help="also time the CSV with one damaged row appended at the end")
    ap.add_argument("--code", type=Path, default=ROOT,
                    help="folder to import forecast from (e.g. an older checkout made with "
                         "'git archive <commit> forecast | tar -x -C DIR'), for before/after")
    args = ap.parse_args()
    print("| file | opening hours | rows | read s | regularise s | total s | peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for fmt in args.formats:
        path = make_file(args.queues, fmt)
        for hours in args.hours:
            runs = [measure(path, hours, args.code) for _ in range(args.repeats)]
            best = min(runs, key=lambda r: r["read_s"] + r["regularise_s"])
            rss = min(r["peak_rss_mb"] for r in runs)
            print(f"| {path.name} ({path.stat().st_size / 1e6:,.0f} MB) | {hours} | "
                  f"{best['rows']:,} | {best['read_s']:.1f} | {best['regularise_s']:.1f} | "
                  f"{best['read_s'] + best['regularise_s']:.1f} | {rss:,.0f} |", flush=True)
    for kind in args.damaged:
        path = damaged(make_file(args.queues, "csv"), kind)
        runs = [measure(path, "given", args.code) for _ in range(args.repeats)]
        best = min(runs, key=lambda r: r["read_s"] + r["regularise_s"])
        rss = min(r["peak_rss_mb"] for r in runs)
        outcome = f"error: ...{best['error'][-90:]}" if "error" in best else \
            f"{best['rows']:,} rows"
        print(f"| {path.name}: {outcome} | given | | {best['read_s']:.1f} | "
              f"{best['regularise_s']:.1f} | {best['read_s'] + best['regularise_s']:.1f} | "
              f"{rss:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
