"""Decide whether a forecasting change replaces the default, without the scored weeks.

    .venv/bin/python benchmarks/forecast_decide.py                       # the default alone
    .venv/bin/python benchmarks/forecast_decide.py --candidate MOD:FUNC  # a change, judged

``MOD:FUNC`` names a function ``FUNC(events) -> Forecaster`` (unfitted) in an importable
module (a file path works too); the default is ``build_model("ensemble", events)``,
exactly what ``wfm plan`` fits. Both run on four sets of one-week folds, none of them
a scored week of ``bench_forecast.py``:

================  ==========================  =====  ================================
set               weeks                       folds  status
================  ==========================  =====  ================================
bank_inner        2003-07-07 ... 09-22          12   used for earlier design choices
technion_inner    1999-07-17 ... 10-30          16   used for earlier design choices
bank_confirm      2003-04-28 ... 06-30          10   held back until now
technion_confirm  1999-03-27 ... 07-10          16   held back until now
================  ==========================  =====  ================================

The rule, fixed before any candidate was run here. A candidate replaces the default
only if all of these hold:

1. bank_inner: WAPE at least 2% lower (relative) and the gain more than 2 standard
   errors;
2. bank_confirm: WAPE lower, the gain more than 1 standard error;
3. technion_inner and technion_confirm: WAPE no more than 0.001 higher on each;
4. bank_inner 80% coverage within 0.78-0.82, or no further from 0.80 than the default's;
5. (checked separately, ``bench_forecast.py bank --speed``) the default model still fits
   and forecasts a queue-year in under 0.3 s.

Standard error of a WAPE gain: the gain is a sum over scored days of the change in
absolute error divided by the total actual volume, so its standard error is
``sd(daily change) * sqrt(days) / total volume`` (days treated as independent).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_forecast import load, load_technion  # noqa: E402

from forecast.backtest import Fold, backtest, coverage, wape  # noqa: E402
from forecast.forecasters import build_model  # noqa: E402
from forecast.forecasters.base import Forecaster  # noqa: E402

Factory = Callable[[pd.DataFrame | None], Forecaster]


@dataclass(frozen=True)
class FoldSet:
    name: str
    dataset: str  # "bank" or "technion"
    first_origin: str
    n_folds: int

    def folds(self) -> list[Fold]:
        start = pd.Timestamp(self.first_origin)
        return [Fold(i + 1, start + pd.Timedelta(weeks=i), start + pd.Timedelta(weeks=i + 1))
                for i in range(self.n_folds)]


SETS = (
    FoldSet("bank_inner", "bank", "2003-07-07", 12),
    FoldSet("technion_inner", "technion", "1999-07-17", 16),
    FoldSet("bank_confirm", "bank", "2003-04-28", 10),
    FoldSet("technion_confirm", "technion", "1999-03-27", 16),
)


def default_model(events: pd.DataFrame | None) -> Forecaster:
    """The model ``wfm plan`` fits by default."""
    return build_model("ensemble", events)


def load_factory(spec: str) -> Factory:
    """``module:function`` or ``path/to/file.py:function``."""
    target, _, func = spec.rpartition(":")
    if not target or not func:
        raise SystemExit(f"--candidate: expected MODULE:FUNCTION, got '{spec}'")
    if target.endswith(".py"):
        module_spec = importlib.util.spec_from_file_location("candidate_module", target)
        if module_spec is None or module_spec.loader is None:
            raise SystemExit(f"--candidate: cannot import '{target}'")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_spec.name] = module  # dataclasses look their module up
        module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(target)
    return getattr(module, func)


def datasets() -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    bank, bank_events, _ = load("bank_calls_30min.toml")
    tech, tech_events, _ = load_technion()
    return {"bank": (bank, bank_events), "technion": (tech, tech_events)}


def run(factory: Factory, hist: pd.DataFrame, events: pd.DataFrame, folds: list[Fold]
        ) -> pd.DataFrame:
    return backtest(hist, lambda: factory(events), events, fold_list=folds)


def compare(base: pd.DataFrame, cand: pd.DataFrame) -> dict[str, float]:
    """WAPEs, coverage, and the gain (base - candidate WAPE) with its standard error."""
    key = ["fold", "ds"]
    both = base[key + ["actual", "mean", "p10", "p90"]].merge(
        cand[key + ["mean", "p10", "p90"]], on=key, suffixes=("_b", "_c"), validate="1:1")
    total = float(both["actual"].sum())
    change = (np.abs(both["actual"] - both["mean_b"]) - np.abs(both["actual"] - both["mean_c"]))
    daily = change.groupby([both["fold"], both["ds"].dt.normalize()]).sum().to_numpy()
    gain = float(daily.sum()) / total
    se = float(np.std(daily, ddof=1) * np.sqrt(len(daily))) / total if len(daily) > 1 else np.nan
    return {"wape_b": wape(both["actual"], both["mean_b"]),
            "wape_c": wape(both["actual"], both["mean_c"]),
            "cov80_b": coverage(both["actual"], both["p10_b"], both["p90_b"]),
            "cov80_c": coverage(both["actual"], both["p10_c"], both["p90_c"]),
            "gain": gain, "se": se}


def verdict(res: dict[str, dict[str, float]]) -> list[tuple[str, bool]]:
    """The rule of the module docstring, clause by clause."""
    bi, bc = res["bank_inner"], res["bank_confirm"]
    checks = [
        ("bank_inner: >= 2% lower and > 2 SE",
         bi["gain"] >= 0.02 * bi["wape_b"] and bi["gain"] > 2 * bi["se"]),
        ("bank_confirm: lower and > 1 SE", bc["gain"] > 0 and bc["gain"] > bc["se"]),
    ]
    for name in ("technion_inner", "technion_confirm"):
        checks.append((f"{name}: no more than 0.001 worse", res[name]["gain"] >= -0.001))
    cov_ok = (0.78 <= bi["cov80_c"] <= 0.82
              or abs(bi["cov80_c"] - 0.80) <= abs(bi["cov80_b"] - 0.80))
    checks.append(("bank_inner: 80% coverage in 0.78-0.82 or no worse", cov_ok))
    return checks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--candidate", help="MODULE:FUNCTION returning an unfitted forecaster")
    ap.add_argument("--sets", default=",".join(s.name for s in SETS),
                    help="comma-separated fold sets (default: all four)")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    chosen = [s for s in SETS if s.name in args.sets.split(",")]
    cand = load_factory(args.candidate) if args.candidate else None
    data = datasets()
    res: dict[str, dict[str, float]] = {}
    print("| set | folds | default WAPE | candidate WAPE | gain | SE | gain/SE "
          "| default cov80 | candidate cov80 | s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for s in chosen:
        hist, events = data[s.dataset]
        t0 = time.perf_counter()
        base = run(default_model, hist, events, s.folds())
        other = run(cand, hist, events, s.folds()) if cand else base
        r = compare(base, other)
        res[s.name] = r
        t = r["gain"] / r["se"] if r["se"] > 0 else float("nan")
        print(f"| {s.name} | {s.n_folds} | {r['wape_b']:.4f} | {r['wape_c']:.4f} | "
              f"{r['gain']:+.4f} | {r['se']:.4f} | {t:+.2f} | {r['cov80_b']:.3f} | "
              f"{r['cov80_c']:.3f} | {time.perf_counter() - t0:.0f} |", flush=True)
    if cand and len(res) == len(SETS):
        checks = verdict(res)
        print()
        for text, ok in checks:
            print(f"- [{'x' if ok else ' '}] {text}")
        print(f"\nverdict: {'ADOPT' if all(ok for _, ok in checks) else 'REJECT'}")


if __name__ == "__main__":
    main()
