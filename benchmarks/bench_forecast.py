"""Forecast accuracy on real call-centre data, our models beside the peers, same run.

    .venv/bin/python benchmarks/bench_forecast.py bank      # bank_calls, 30 min
    .venv/bin/python benchmarks/bench_forecast.py technion  # Technion bank 1999, 30 min
    options: --no-peers (skip Prophet and statsforecast), --repeats N (timing repeats),
             --models mstl,sarimax (only those rows: no auto, peers or further sections)

Protocol (bank_calls, as in ../shared/PEERS.md): 28 half-hours a weekday 07:00-20:30
(the lone 21:00 stamp dropped), missing weekdays gap-filled for training and never
scored, the last 4 weeks as 4 one-week folds starting 2003-09-29, 10-06, 10-13, 10-20,
each trained on everything before it. WAPE and coverage pooled over folds, MASE (in-sample
weekly seasonal-naive scale) averaged over folds. Technion: the same over the last 8
weeks of 1999, Israeli holidays (``holidays`` IL plus the 17 May 1999 election) as
events; plus error on holiday days and the days either side, with and without events.

statsforecast needs pandas<3: it runs in .venv-bench-forecast (benchmarks/forecast_env.sh)
as a subprocess; it is skipped with a note when that venv is missing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from forecast import data as data_io  # noqa: E402
from forecast import events as events_io  # noqa: E402
from forecast.backtest import (  # noqa: E402
    BACKTEST_QUANTILES,
    Fold,
    backtest,
    coverage,
    rolling_origins,
    seasonal_naive_mae,
    summarise,
    wape,
)
from forecast.config import load_config  # noqa: E402
from forecast.forecasters import build_model  # noqa: E402
from forecast.forecasters.base import Forecaster, quantile_column  # noqa: E402
from forecast.forecasters.select import choose_fitted, fit_forecast  # noqa: E402

CONFIGS = ROOT / "benchmarks" / "configs"
BENCH_VENV = ROOT / ".venv-bench-forecast" / "bin" / "python"


def load(config_name: str) -> tuple[pd.DataFrame, pd.DataFrame, object]:
    cfg = load_config(CONFIGS / config_name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vol = data_io.read_volumes_for(cfg)
        hist, _ = data_io.regularise(vol, interval_s=cfg.interval_s,
                                     hours=data_io.hours_for(cfg, vol["queue"].unique()),
                                     timezone=cfg.timezone)
    hist = hist.drop(columns="queue").reset_index(drop=True)
    events = events_io.holiday_events(cfg.holidays_country, hist["ds"].min(),
                                      hist["ds"].max() + pd.Timedelta(days=8))
    return hist, events, cfg


def load_technion() -> tuple[pd.DataFrame, pd.DataFrame, object]:
    """:func:`load` of the Technion config, its events with the 17 May 1999 election
    (a holiday the ``holidays`` package does not list)."""
    hist, events, cfg = load("technion_30min.toml")
    election = events_io.add_event(None, "Election day 1999", "holiday", "1999-05-17")
    return hist, events_io.combine_events(events, election), cfg


# --------------------------------------------------------------------------- peers
class ProphetDefault(Forecaster):
    """Prophet with its defaults on the open intervals; quantiles from its own samples."""

    name = "prophet_default"
    cheap = False

    def _fit(self, hist, events=None):
        import logging

        from prophet import Prophet

        logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
        logging.getLogger("prophet").setLevel(logging.WARNING)
        self.m_ = Prophet()
        self.m_.fit(hist[["ds", "y"]])

    def predict(self, horizon, events=None, quantiles=(0.1, 0.5, 0.9)):
        fut = pd.DataFrame({"ds": pd.DatetimeIndex(horizon)})
        fc = self.m_.predict(fut)
        samples = self.m_.predictive_samples(fut)["yhat"]
        out = pd.DataFrame({"ds": fut["ds"], "mean": np.maximum(fc["yhat"].to_numpy(), 0)})
        for q in quantiles:
            out[quantile_column(q)] = np.maximum(np.quantile(samples, q, axis=1), 0)
        return out

    def fit(self, history, events=None):
        from forecast.forecasters.base import prepare_history

        self._fit(prepare_history(history), None)
        return self


SF_SCRIPT = r"""
import json, sys, time
import numpy as np, pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import MSTL, AutoETS
job = json.load(open(sys.argv[1]))
out = []
for fold in job["folds"]:
    y = np.asarray(fold["y"], float)
    df = pd.DataFrame({"unique_id": "q", "ds": np.arange(len(y)), "y": y})
    t0 = time.perf_counter()
    model = MSTL(season_length=job["seasons"], trend_forecaster=AutoETS(model="ZZN"))
    sf = StatsForecast(models=[model], freq=1, n_jobs=1)
    fc = sf.forecast(df=df, h=fold["h"], level=[80, 95])
    out.append({"mean": fc["MSTL"].tolist(), "lo80": fc["MSTL-lo-80"].tolist(),
                "hi80": fc["MSTL-hi-80"].tolist(), "lo95": fc["MSTL-lo-95"].tolist(),
                "hi95": fc["MSTL-hi-95"].tolist(), "fit_s": time.perf_counter() - t0})
json.dump(out, open(sys.argv[2], "w"))
"""


def statsforecast_mstl(hist: pd.DataFrame, folds: list[Fold], seasons: list[int]):
    """MSTL + AutoETS trend on open-interval positions, in the pandas<3 venv."""
    if not BENCH_VENV.exists():
        return None, "not run: .venv-bench-forecast missing (benchmarks/forecast_env.sh)"
    job = {"seasons": seasons, "folds": []}
    tests = []
    for f in folds:
        train = hist[hist["ds"] < f.origin]
        test = hist[(hist["ds"] >= f.origin) & (hist["ds"] < f.end)]
        job["folds"].append({"y": train["y"].tolist(), "h": len(test)})
        tests.append(test)
    with tempfile.TemporaryDirectory() as tmp:
        src, dst, script = (Path(tmp) / n for n in ("job.json", "out.json", "sf.py"))
        src.write_text(json.dumps(job))
        script.write_text(SF_SCRIPT)
        run = subprocess.run([str(BENCH_VENV), str(script), str(src), str(dst)],
                             capture_output=True, text=True, timeout=3600)
        if run.returncode != 0:
            return None, "failed: " + run.stderr.strip().splitlines()[-1]
        res = json.loads(dst.read_text())
    parts = []
    for k, (test, r) in enumerate(zip(tests, res, strict=True)):
        keep = ~test["filled"].to_numpy()
        part = pd.DataFrame({"fold": k + 1, "ds": test["ds"].to_numpy()[keep],
                             "actual": test["y"].to_numpy()[keep],
                             "mean": np.maximum(np.asarray(r["mean"])[keep], 0),
                             "p2.5": np.asarray(r["lo95"])[keep],
                             "p10": np.asarray(r["lo80"])[keep],
                             "p90": np.asarray(r["hi80"])[keep],
                             "p97.5": np.asarray(r["hi95"])[keep], "fit_s": r["fit_s"]})
        from forecast.backtest import seasonal_naive_mae

        part["scale"] = seasonal_naive_mae(hist[hist["ds"] < folds[k].origin])
        parts.append(part)
    return pd.concat(parts, ignore_index=True), ""


# --------------------------------------------------------------------------- ours
def auto_backtest(hist, events, folds, settings):
    """The automatically selected model, exactly as ``wfm plan`` runs it: in each fold,
    every candidate is fitted once on the training data, ranked by its inner
    one-week-ahead errors (default kept unless beaten by 5%), and the pick forecasts."""
    parts, picks = [], []
    for f in folds:
        train = hist[hist["ds"] < f.origin]
        test = hist[(hist["ds"] >= f.origin) & (hist["ds"] < f.end)]
        t0 = time.perf_counter()
        name, model, _ = choose_fitted(train, events, settings)
        pred = model.predict(pd.DatetimeIndex(test["ds"]), events, quantiles=BACKTEST_QUANTILES)
        fit_s = time.perf_counter() - t0
        picks.append(name)
        keep = ~test["filled"].to_numpy()
        part = pred.loc[keep].copy()
        part.insert(0, "fold", f.number)
        part.insert(2, "actual", test["y"].to_numpy()[keep])
        part["scale"] = seasonal_naive_mae(train)
        part["fit_s"] = fit_s
        parts.append(part)
    return pd.concat(parts, ignore_index=True), picks


def lead_coverage(hist, events, origins, weeks: int = 4, model: str = "ensemble") -> str:
    """WAPE and interval coverage by lead week: each origin forecasts ``weeks`` weeks."""
    parts = []
    for i, origin in enumerate(origins):
        fold = Fold(i + 1, origin, origin + pd.Timedelta(weeks=weeks))
        s = backtest(hist[hist["ds"] < fold.end], lambda: build_model(model, events), events,
                     fold_list=[fold])
        s["lead"] = (s["ds"] - origin).dt.days // 7 + 1
        parts.append(s)
    s = pd.concat(parts, ignore_index=True)
    lines = ["| lead week | origins | WAPE | cov80 | cov95 |", "|---|---|---|---|---|"]
    for k, g in s.groupby("lead"):
        lines.append(f"| {k} | {g['fold'].nunique()} | {wape(g['actual'], g['mean']):.4f} | "
                     f"{coverage(g['actual'], g['p10'], g['p90']):.2f} | "
                     f"{coverage(g['actual'], g['p2.5'], g['p97.5']):.2f} |")
    return "\n".join(lines)


def row(label, scored, note=""):
    m = summarise(scored)
    return {"model": label, **{k: m[k] for k in ("wape", "mase", "coverage_80", "coverage_95",
                                                  "fit_s")}, "note": note}


def table(rows) -> str:
    lines = ["| model | WAPE | MASE | cov80 | cov95 | s/fold |", "|---|---|---|---|---|---|"]
    for r in rows:
        if r.get("wape") is None:
            lines.append(f"| {r['model']} | {r['note']} | | | | |")
            continue
        cov = [("-" if not np.isfinite(r[c]) else f"{r[c]:.2f}") for c in
               ("coverage_80", "coverage_95")]
        lines.append(f"| {r['model']} | {r['wape']:.4f} | {r['mase']:.3f} | {cov[0]} | {cov[1]} "
                     f"| {r['fit_s']:.2f} |" + (f" {r['note']}" if r["note"] else ""))
    return "\n".join(lines)


#: (label, registered model, parameters) of the rows of our models
MODEL_SPECS = [("seasonal naive (last week)", "seasonal_naive", {}),
               ("slot mean, last 4 weeks", "slot_mean", {"weeks": 4}),
               ("slot mean, last 8 weeks", "slot_mean", {"weeks": 8}),
               ("topdown", "topdown", {}),
               ("Holt-Winters daily totals x profile", "holt_winters", {}),
               ("mstl", "mstl", {}),
               ("sarimax (daily)", "sarimax", {}),
               ("ensemble (topdown + slot mean)", "ensemble", {})]


def run_models(hist, events, folds, settings, peers: bool, seasons, with_plain: bool,
               only: set[str] | None = None):
    """The table's rows; ``only``: just these registered models (no auto, no peers)."""
    rows = []
    specs = [s for s in MODEL_SPECS if only is None or s[1] in only]
    for label, name, params in specs:
        scored = backtest(hist, lambda n=name, p=params: build_model(n, events, **p), events,
                          fold_list=folds)
        rows.append(row(label + " + events", scored))
        if with_plain:
            scored = backtest(hist, lambda n=name, p=params: build_model(n, None, **p), None,
                              fold_list=folds)
            rows.append(row(label + ", no events", scored))
    if only is not None:
        return rows
    scored, picks = auto_backtest(hist, events, folds, settings)
    rows.append(row("**auto (selected per fold by inner backtest)**", scored,
                    "picked: " + ", ".join(picks)))
    if peers:
        scored = backtest(hist, ProphetDefault, None, fold_list=folds)
        rows.append(row("Prophet default (peer)", scored))
        scored, note = statsforecast_mstl(hist, folds, seasons)
        rows.append(row(f"statsforecast MSTL{tuple(seasons)} + AutoETS (peer)", scored)
                    if scored is not None else {"model": "statsforecast MSTL (peer)",
                                                "wape": None, "note": note})
    return rows


def synthetic_year(slots: int, weekdays: tuple[int, ...], seed: int = 0) -> pd.DataFrame:
    """A year of 30-minute Poisson history: intraday hump x weekday factor x slow drift."""
    rng = np.random.default_rng(seed)
    first = 14 if slots <= 28 else 0  # bank shape opens 07:00; 48 slots = round the clock
    days = pd.date_range("2025-01-06", periods=364, freq="D")
    days = days[np.isin(days.day_of_week, weekdays)]
    ds = (days.to_numpy()[:, None] + (np.arange(slots) + first)[None, :]
          * np.timedelta64(30, "m")).ravel()
    ds = pd.DatetimeIndex(ds)
    hour = ds.hour.to_numpy() + ds.minute.to_numpy() / 60
    shape = 0.3 + np.exp(-0.5 * ((hour - 11) / 2.5) ** 2) + 0.6 * np.exp(
        -0.5 * ((hour - 15) / 2.0) ** 2)
    factor = np.array([1.2, 1.0, 0.95, 0.95, 1.0, 0.7, 0.6])[ds.day_of_week.to_numpy()]
    drift = 1 + 0.1 * np.sin(np.arange(len(ds)) / len(ds) * 2 * np.pi)
    y = rng.poisson(60 * shape * factor * drift).astype(float)
    return pd.DataFrame({"ds": ds, "y": y, "filled": False})


def speed(repeats: int, country: str = "US") -> str:
    """Seconds to fit on a year of history and forecast 6 weeks: default model and auto."""
    from forecast.config import ForecastSettings

    lines = ["| history | intervals | default model (ensemble + events) | auto (4 candidates) |",
             "|---|---|---|---|"]
    for label, slots, weekdays in (("28 slots x 5 weekdays (bank shape)", 28, (0, 1, 2, 3, 4)),
                                   ("48 slots x 7 days", 48, tuple(range(7)))):
        year = synthetic_year(slots, weekdays)
        events = events_io.holiday_events(country, year["ds"].min(),
                                          year["ds"].max() + pd.Timedelta(days=50))
        last = year["ds"].max()
        horizon = pd.DatetimeIndex(year["ds"][year["ds"] > last - pd.Timedelta(days=42)]
                                   + pd.Timedelta(days=42))
        best = {"default": np.inf, "auto": np.inf}
        for _ in range(repeats):
            for key in best:
                t0 = time.perf_counter()
                fit_forecast(year, horizon, events, ForecastSettings(model=(
                    "ensemble" if key == "default" else "auto")))
                best[key] = min(best[key], time.perf_counter() - t0)
        lines.append(f"| {label} | {len(year)} | {best['default']:.3f} s | {best['auto']:.3f} s |")
    return "\n".join(lines)


def speed_real(hist, events, repeats: int) -> float:
    """Seconds to fit the default model on the last year of ``hist`` and forecast a week."""
    last = hist["ds"].max()
    year = hist[hist["ds"] > last - pd.Timedelta(days=365)]
    horizon = pd.DatetimeIndex(year["ds"].iloc[-7 * 48:] + pd.Timedelta(days=7))
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        build_model("ensemble", events).fit(year, events).predict(horizon, events)
        best = min(best, time.perf_counter() - t0)
    return best


def holiday_errors(hist, events, holidays: pd.DataFrame) -> str:
    """WAPE on each holiday and the days either side, forecast from two days before."""
    lines = ["| holiday | date | scored days | WAPE with events | WAPE without events |",
             "|---|---|---|---|---|"]
    tot = {"with": [0.0, 0.0], "without": [0.0, 0.0]}
    for r in holidays.itertuples(index=False):
        day = r.start.normalize()
        if day - hist["ds"].min() < pd.Timedelta(weeks=10):
            continue
        origin = day - pd.Timedelta(days=2)
        fold = Fold(1, origin, origin + pd.Timedelta(days=7))
        window = (hist["ds"].dt.normalize() >= day - pd.Timedelta(days=1)) & (
            hist["ds"].dt.normalize() <= day + pd.Timedelta(days=1))
        res = {}
        for key, ev in (("with", events), ("without", None)):
            s = backtest(hist[hist["ds"] < fold.end], lambda e=ev: build_model("ensemble", e),
                         ev, fold_list=[fold])
            s = s[s["ds"].isin(hist.loc[window, "ds"])]
            res[key] = wape(s["actual"], s["mean"])
            tot[key][0] += float(np.abs(s["actual"] - s["mean"]).sum())
            tot[key][1] += float(s["actual"].sum())
        n_days = hist.loc[window, "ds"].dt.normalize().nunique()
        lines.append(f"| {r.name} | {day.date()} | {n_days} | {res['with']:.3f} | "
                     f"{res['without']:.3f} |")
    lines.append(f"| **pooled** | | | **{tot['with'][0] / tot['with'][1]:.3f}** | "
                 f"**{tot['without'][0] / tot['without'][1]:.3f}** |")
    return "\n".join(lines)


#: design decisions, scored on inner folds only (weeks before the scored ones)
INNER_VARIANTS = [
    ("topdown, level half-life 20 days (before)", "topdown", {"level_halflife_days": 20.0}),
    ("topdown, level half-life chosen per queue (now)", "topdown", {}),
    ("ensemble, equal weights", "ensemble", {"weights": "equal"}),
    ("ensemble, learned weights (now)", "ensemble", {}),
    ("ensemble, learned, 8 calibration origins", "ensemble", {"calibration_weeks": 8}),
    ("ensemble + seasonal naive, learned", "ensemble",
     {"members": ("topdown", "slot_mean", "seasonal_naive")}),
    ("topdown, 5 first / 3 last month days", "topdown",
     {"month_first_days": 5, "month_last_days": 3}),
]


def inner_report() -> str:
    """The design decisions on inner folds: bank 2003-07-07 ... 09-22 (12 weeks) and
    Technion the 16 weeks before 1999-11-06; the scored weeks are never used."""
    bank, bank_events, _ = load("bank_calls_30min.toml")
    tech, tech_events, _ = load_technion()
    sets = [("bank", bank, bank_events, pd.Timestamp("2003-07-07"), 12),
            ("technion", tech, tech_events, pd.Timestamp("1999-11-06") - pd.Timedelta(weeks=16),
             16)]
    lines = ["| variant | bank WAPE | bank cov80 | Technion WAPE | Technion cov80 |",
             "|---|---|---|---|---|"]
    for label, name, params in INNER_VARIANTS:
        cells = []
        for _, hist, events, start, n_weeks in sets:
            folds = [Fold(i + 1, start + pd.Timedelta(weeks=i), start + pd.Timedelta(weeks=i + 1))
                     for i in range(n_weeks)]
            m = summarise(backtest(
                hist, lambda n=name, p=params, e=events: build_model(n, e, **p), events,
                fold_list=folds))
            cells += [f"{m['wape']:.4f}", f"{m['coverage_80']:.2f}"]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset", choices=["bank", "bank5", "technion", "inner"])
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--speed", action="store_true", help="time a year of synthetic history")
    ap.add_argument("--models", help="comma-separated registered model names (e.g. "
                    "mstl,sarimax): only their rows of the table; no auto, no peers, no "
                    "further sections")
    args = ap.parse_args()
    only = None
    if args.models:
        only = {m.strip() for m in args.models.split(",") if m.strip()}
        known = {name for _, name, _ in MODEL_SPECS}
        if not only <= known:
            ap.error(f"--models: no row for {', '.join(sorted(only - known))}; rows exist "
                     f"for {', '.join(sorted(known))}")
    warnings.simplefilter("ignore")
    if args.dataset == "inner":
        print("## Design decisions on inner folds (scored weeks never used)\n")
        print(inner_report())
        return
    if args.dataset in ("bank", "bank5"):
        five = args.dataset == "bank5"
        hist, events, cfg = load("bank_calls_5min.toml" if five else "bank_calls_30min.toml")
        folds = [Fold(i + 1, pd.Timestamp(d), pd.Timestamp(d) + pd.Timedelta(days=7))
                 for i, d in enumerate(["2003-09-29", "2003-10-06", "2003-10-13", "2003-10-20"])]
        rows = run_models(hist, events, folds, cfg.forecast, not args.no_peers,
                          [168, 840] if five else [28, 140], with_plain=False, only=only)
        print(f"## bank_calls, {5 if five else 30} minutes, 4 one-week folds\n")
        print(table(rows), flush=True)
        if five or only is not None:
            return
        origins = [pd.Timestamp("2003-08-04") + pd.Timedelta(weeks=k) for k in range(8)]
        print("\n### By lead week (ensemble + events; origins 2003-08-04 ... 09-22 weekly, "
              "each forecasting 4 weeks)\n")
        print(lead_coverage(hist, events, origins), flush=True)
        if args.speed:
            print("\n### Speed: fit on a year of synthetic 30-minute history, forecast 6 weeks "
                  f"(min of {args.repeats})\n")
            print(speed(args.repeats))
    else:
        hist, events, cfg = load_technion()
        folds = rolling_origins(hist["ds"], folds=8, horizon_days=7, step_days=7)
        per_week = int(len(hist[(hist["ds"] >= folds[0].origin) & (hist["ds"] < folds[0].end)]))
        rows = run_models(hist, events, folds, cfg.forecast, not args.no_peers, [per_week],
                          with_plain=True, only=only)
        print(f"## Technion bank 1999, 30 minutes, {len(folds)} one-week folds from "
              f"{folds[0].origin.date()}\n")
        print(table(rows), flush=True)
        if only is not None:
            return
        origins = [folds[0].origin - pd.Timedelta(weeks=4) + pd.Timedelta(weeks=k)
                   for k in range(8)]
        print(f"\n### By lead week (ensemble + events; origins {origins[0].date()} ... "
              f"{origins[-1].date()} weekly, each forecasting 4 weeks)\n")
        print(lead_coverage(hist, events, origins), flush=True)
        print("\n### Holidays: the holiday and the days either side (ensemble, origin two days "
              "before)\n")
        hol = events[events["type"] == "holiday"].drop_duplicates("start")
        print(holiday_errors(hist, events, hol))
        print(f"\nSpeed: ensemble + events, fit this year of 30-minute history and forecast "
              f"a week: {speed_real(hist, events, args.repeats):.2f} s (min of {args.repeats})")
    print(f"\nFolds: {', '.join(str(f.origin.date()) for f in folds)}; "
          f"quantiles {BACKTEST_QUANTILES}")


if __name__ == "__main__":
    main()
