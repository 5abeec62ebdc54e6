"""Plan backtest: the service level the whole chain (forecast -> staffing) really buys.

For each rolling-origin fold (the folds of the model backtest, :func:`forecast.backtest.
rolling_origins`), the queue is forecast from everything before the fold's origin with
the configured (or backtest-selected) model, staffed by the queue's channel rule
(:func:`forecast.plan.staff_forecast`), and the plan is then *replayed* against what
really happened in the fold:

* arrivals: the actual count of each interval, spread uniformly at random within it
  (:func:`forecast.simulate.simulate_plan` with ``arrivals="counts"``); gap-filled
  intervals (days missing from the data) are not replayed;
* handle times: exponential (or lognormal) with mean the interval's actual AHT where
  the history has ``aht_s``, else the queue's configured ``aht_s``;
* patience: the queue's ``patience_s`` (exponential) when configured, else nobody
  hangs up;
* agents: the plan's ``agents_required`` (productive agents on the queue; shrinkage is
  the planned loss between heads scheduled and agents on the phones).

The same replay is run on the *perfect-knowledge plan*: :func:`forecast.staffing.
staff_queue` on the actual counts and actual AHT, the best any forecast could do with
the same channel rule. Both plans see the same random draws (common random numbers:
the streams depend on the seed, the fold and the replication only), so their
difference is the forecast's doing, not noise.

Service level is answered within ``answer_s`` over offered (abandoned calls count as
missed), the convention of :mod:`forecast.queueing`.

Email and social queues are replayed by :func:`forecast.simulate.replay_deferred`: the
fold's contacts (closed hours included) join one backlog worked first come first served
in the queue's open hours, with the response target counted in open seconds, as the
deferred staffing rule plans it. Their service level is the share of contacts answered
within ``answer_s`` open seconds (contacts whose deadline falls after the fold and who
are still waiting at its end cannot be judged and are left out); each fold starts with an
empty backlog, as its plan does.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .backtest import Fold, bias, rolling_origins, wape
from .config import PlanConfig, QueueConfig
from .exceptions import DataValidationError, ForecastError, ForecastWarning
from .forecasters.base import several_queues
from .plan import Scenario, staff_forecast
from .simulate import mean_ci, replay_deferred, simulate_plan
from .staffing import staff_queue

__all__ = [
    "PlanBacktestResult",
    "backtest_plans",
    "combine_results",
    "ALL_FOLDS",
    "INTERVAL_COLUMNS",
    "DAILY_COLUMNS",
    "SUMMARY_COLUMNS",
    "write_plan_backtest",
    "plot_plan_backtest",
]

#: columns of the per-interval table (``plan_backtest.csv``)
INTERVAL_COLUMNS = (
    "queue", "fold", "origin", "ds", "volume_actual", "volume_forecast", "volume_planned",
    "aht_s_actual", "aht_s_forecast", "agents_plan", "agents_perfect", "heads_plan",
    "heads_perfect", "sl_promised", "sl_promised_perfect", "sl_plan", "sl_plan_lo",
    "sl_plan_hi", "sl_perfect",
    "sl_perfect_lo", "sl_perfect_hi", "asa_s_plan", "asa_s_perfect", "abandonment_plan",
    "abandonment_perfect", "meets_plan", "meets_perfect",
)
#: columns of the per-day table (``plan_backtest_daily.csv``)
DAILY_COLUMNS = (
    "queue", "fold", "date", "intervals", "volume_actual", "volume_forecast", "sl_goal",
    "sl_plan", "sl_perfect", "meets_plan", "meets_perfect", "agent_hours_plan",
    "agent_hours_perfect", "agent_hours_ratio",
)
#: ``fold`` label of the summary row pooling every fold
ALL_FOLDS = "all"
#: columns of the per-fold summary (``plan_backtest_summary.csv``); fold "all" = all folds
SUMMARY_COLUMNS = (
    "queue", "fold", "origin", "end", "model", "days", "intervals", "volume_actual",
    "volume_forecast", "wape", "bias", "target_s", "sl_goal", "sl_promised",
    "sl_promised_perfect", "sl_plan",
    "sl_plan_lo", "sl_plan_hi", "sl_perfect", "sl_perfect_lo", "sl_perfect_hi",
    "intervals_meeting_plan", "intervals_meeting_perfect", "days_meeting_plan",
    "days_meeting_perfect", "asa_s_plan", "asa_s_perfect", "abandonment_plan",
    "abandonment_perfect", "agent_hours_plan", "agent_hours_perfect", "agent_hours_ratio",
)


@dataclass
class PlanBacktestResult:
    """What :func:`backtest_plans` found for one queue.

    Attributes
    ----------
    queue
        Queue name.
    intervals
        One row per replayed interval (:data:`INTERVAL_COLUMNS`). ``*_plan`` columns
        belong to the plan built from the forecast, ``*_perfect`` to the plan built
        from the actual volumes. ``agents_*`` are productive agents (what the replay
        puts on the queue), ``heads_*`` scheduled heads after shrinkage and
        availability. ``sl_*`` is the replayed service level (mean over replications,
        with a Student-t confidence interval), ``sl_promised`` and
        ``sl_promised_perfect`` the staffing formula's promise for each plan (at the
        volume it was staffed for), ``meets_*`` the share of replications in which the
        interval reached the queue's service-level goal. Confidence bounds of service
        levels are clipped to [0, 1].
    daily
        One row per fold and day (:data:`DAILY_COLUMNS`): service level pooled over the
        day's calls, share of the day's intervals meeting the goal, agent-hours
        (scheduled heads x interval hours) of both plans and their ratio.
    summary
        One row per fold and a row with ``fold = "all"`` (:data:`ALL_FOLDS`) for all
        folds together (:data:`SUMMARY_COLUMNS`): forecast WAPE and bias on the replayed intervals,
        replayed service level of both plans (pooled over calls, with confidence
        intervals over replications), shares of intervals and days meeting the goal,
        ASA, abandonment, agent-hours and their ratio (plan / perfect).
    folds
        The folds replayed.
    models
        The model that forecast each fold (fold number -> name).
    target_s, goal
        Answer-time target and service-level goal of the queue.
    replications, seed
        Settings used.
    notes
        What was left out and why.
    """

    queue: str
    intervals: pd.DataFrame
    daily: pd.DataFrame
    summary: pd.DataFrame
    folds: list[Fold]
    models: dict[int, str]
    target_s: float
    goal: float
    replications: int
    seed: int
    notes: list[str] = field(default_factory=list)


def backtest_plans(
    history: pd.DataFrame,
    events: pd.DataFrame | None,
    queue: QueueConfig | str,
    config: PlanConfig,
    *,
    folds: int | None = None,
    horizon_days: int | None = None,
    step_days: int | None = None,
    replications: int = 20,
    seed: int = 0,
    quantile: float | None = None,
    scenario: Scenario | None = None,
    service: str = "exponential",
    service_cv: float | None = None,
    confidence: float = 0.95,
) -> PlanBacktestResult:
    """Replay the actual arrivals of each backtest fold against the plan made before it.

    Parameters
    ----------
    history
        One queue's regularised history (``ds, y``, optional ``aht_s``, ``filled``; a
        ``queue`` column is ignored). Not mutated.
    events
        The queue's events (past ones teach the forecast, those in the fold apply).
    queue
        The queue's settings (channel, target, AHT, patience, shrinkage), or its name,
        looked up with :meth:`PlanConfig.queue`.
    config
        The plan configuration: interval, forecast settings (model, candidates,
        quantiles, backtest layout).
    folds, horizon_days, step_days
        Rolling-origin layout; ``None`` takes ``config.forecast.backtest_*`` (the same
        folds as the model backtest).
    replications
        Replays per fold (random arrival instants within intervals, handle times and
        patience); results are means over them.
    seed
        Seed of the replay; the same seed gives the same result.
    quantile
        Staff the forecast plan to this forecast quantile (e.g. 0.8) instead of the mean.
    scenario
        Adjustments of the forecast before staffing (e.g. ``Scenario(volume_scale=0.8)``:
        a forecast 20% low). The perfect plan is never adjusted.
    service, service_cv
        Handle-time distribution: ``"exponential"`` or ``"lognormal"`` with coefficient
        of variation ``service_cv``.
    confidence
        Level of the confidence intervals.

    Returns
    -------
    PlanBacktestResult

    Raises
    ------
    ForecastError
        For a bad setting, or no fold to replay.
    DataValidationError
        When the history lacks ``ds`` or ``y``.
    """
    from .forecasters import fit_forecast

    if replications < 1:
        raise ForecastError(f"replications must be >= 1; got {replications}")
    if quantile is not None and not 0 < quantile < 1:
        raise ForecastError(f"quantile must lie strictly between 0 and 1; got {quantile}")
    if isinstance(queue, str):
        queue = config.queue(queue)
    hist = _history(history)
    settings = config.forecast
    settings = dataclasses.replace(
        settings,
        quantiles=tuple(sorted(set(settings.quantiles) | ({quantile} if quantile else set()))),
    )
    fold_list = rolling_origins(
        hist["ds"],
        settings.backtest_folds if folds is None else folds,
        settings.backtest_horizon_days if horizon_days is None else horizon_days,
        settings.backtest_step_days if step_days is None else step_days,
    )
    if not fold_list:
        raise ForecastError(
            f"queue '{queue.name}': too little history for a plan backtest (each fold needs "
            "two weeks to train on); use fewer or shorter folds"
        )
    interval_s = config.interval_s
    goal = float(queue.service_level)
    notes: list[str] = []
    models: dict[int, str] = {}
    interval_parts, rep_parts, replayed = [], [], []
    for fold in fold_list:
        train = hist[hist["ds"] < fold.origin].reset_index(drop=True)
        test = hist[(hist["ds"] >= fold.origin) & (hist["ds"] < fold.end)].reset_index(drop=True)
        actual = test[~test["filled"].to_numpy()].reset_index(drop=True)
        if actual.empty:
            notes.append(f"queue '{queue.name}' fold {fold.number}: no actual intervals to replay")
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fc, choice = fit_forecast(train, pd.DatetimeIndex(test["ds"]), events, settings,
                                      default_aht_s=queue.aht_s)
        models[fold.number] = choice.name
        keep = ~test["filled"].to_numpy()
        # arrivals replayed: the actual counts; none in gap-filled intervals (unknown)
        arrivals = np.where(keep, test["y"].to_numpy(np.float64), 0.0)
        aht_all = _actual_aht(test, queue)
        plan_all = staff_forecast(fc, queue, config, quantile=quantile, scenario=scenario)
        perfect_all = staff_queue(
            pd.DataFrame({"ds": test["ds"], "volume": arrivals, "aht_s": aht_all}),
            queue, interval_s=interval_s,
        )
        fold_seed = _fold_seed(seed, fold.number)
        runs = {}
        for name, staffed in (("plan", plan_all), ("perfect", perfect_all)):
            runs[name] = _replay(
                test, arrivals, aht_all, staffed, keep, queue, interval_s=interval_s,
                replications=replications, seed=fold_seed, service=service,
                service_cv=service_cv, confidence=confidence,
                promised=plan_all["service_level"].to_numpy(np.float64))
        plan = plan_all[keep].reset_index(drop=True)
        perfect = perfect_all[keep].reset_index(drop=True)
        aht_actual = aht_all[keep]
        interval_parts.append(_interval_rows(fold, queue, actual, aht_actual, plan, perfect,
                                             runs))
        rep_parts.append(pd.DataFrame({
            "fold": fold.number,
            "replication": np.arange(replications),
            **{f"{k}_{name}": runs[name].replications[k].to_numpy()
               for name in runs for k in ("offered", "answered_within_target")},
        }))
        replayed.append(fold)
    if not interval_parts:
        raise ForecastError(f"queue '{queue.name}': no fold has actual intervals to replay")
    intervals = pd.concat(interval_parts, ignore_index=True)
    daily = _daily(intervals, interval_s=interval_s, goal=goal)
    reps = pd.concat(rep_parts, ignore_index=True)
    summary = _summary(intervals, daily, reps, models, replayed, queue=queue,
                       interval_s=interval_s, goal=goal, confidence=confidence)
    return PlanBacktestResult(
        queue=queue.name, intervals=intervals, daily=daily, summary=summary,
        folds=replayed, models=models, target_s=float(queue.answer_s), goal=goal,
        replications=replications, seed=seed, notes=notes,
    )


# ----------------------------------------------------------------------------- internals


def _history(history: pd.DataFrame) -> pd.DataFrame:
    for column in ("ds", "y"):
        if column not in history.columns:
            raise DataValidationError(
                f"the history has no '{column}' column; expected a regularised table with "
                "ds, y[, aht_s, filled]", column=column)
    several = several_queues(history)
    if several:
        raise DataValidationError(several, column="queue")
    out = history.drop(columns=[c for c in ("queue",) if c in history.columns])
    out = out.sort_values("ds", kind="stable").reset_index(drop=True)
    if "filled" not in out.columns:
        out = out.assign(filled=False)
    out = out.assign(filled=out["filled"].fillna(False).astype(bool))
    y = pd.to_numeric(out["y"], errors="coerce").to_numpy(np.float64)
    bad = ~out["filled"].to_numpy() & ~(np.isfinite(y) & (y >= 0))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise DataValidationError(f"interval {out['ds'].iloc[k]} has volume {y[k]}; expected "
                                  "a count >= 0", column="y")
    return out


def _actual_aht(actual: pd.DataFrame, queue: QueueConfig) -> np.ndarray:
    """Actual AHT per interval where the history has it (> 0), else the configured AHT."""
    if "aht_s" not in actual.columns:
        return np.full(len(actual), float(queue.aht_s))
    aht = pd.to_numeric(actual["aht_s"], errors="coerce").to_numpy(np.float64)
    return np.where(np.isfinite(aht) & (aht > 0), aht, float(queue.aht_s))


def _fold_seed(seed: int, fold_number: int) -> int:
    return int(np.random.SeedSequence([int(seed), int(fold_number)]).generate_state(1)[0])


def _replay(test, arrivals, aht_s, staffed, keep, queue, *, interval_s, replications, seed,
            service, service_cv, confidence, promised):
    """Replay the actual arrivals against one plan's agents; per kept interval and totals.

    Voice and chat: :func:`forecast.simulate.simulate_plan` on the kept intervals (each
    day's run of intervals from an empty queue). Email and social:
    :func:`forecast.simulate.replay_deferred` on every interval of the fold (the backlog
    carries over closed hours), results kept for the replayed intervals.
    """
    agents = staffed["agents_required"].to_numpy(np.int64)
    if queue.is_deferred:
        result = replay_deferred(
            pd.DatetimeIndex(test["ds"]), arrivals, aht_s, agents, queue,
            interval_s=interval_s, replications=replications, seed=seed, service=service,
            service_cv=service_cv, confidence=confidence)
        result.intervals = result.intervals[keep].reset_index(drop=True)
        return result
    table = pd.DataFrame({
        "queue": queue.name,
        "ds": test["ds"].to_numpy()[keep],
        "volume": np.rint(arrivals[keep]),
        "aht_s": aht_s[keep],
        "agents_required": agents[keep],
        "service_level": promised[keep],
    })
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastWarning)
        return simulate_plan(
            table, interval_s=interval_s, target_s=float(queue.answer_s),
            replications=replications, arrivals="counts", service=service,
            service_cv=service_cv, seed=seed, queues={queue.name: queue},
            service_level_goal=float(queue.service_level), confidence=confidence,
        )


def _interval_rows(fold: Fold, queue: QueueConfig, actual: pd.DataFrame, aht_actual, plan,
                   perfect, runs) -> pd.DataFrame:
    p, q = runs["plan"].intervals, runs["perfect"].intervals
    return pd.DataFrame({
        "queue": queue.name,
        "fold": fold.number,
        "origin": fold.origin,
        "ds": actual["ds"].to_numpy(),
        "volume_actual": actual["y"].to_numpy(np.float64),
        "volume_forecast": plan["volume_mean"].to_numpy(np.float64),
        "volume_planned": plan["volume"].to_numpy(np.float64),
        "aht_s_actual": aht_actual,
        "aht_s_forecast": plan["aht_s"].to_numpy(np.float64),
        "agents_plan": plan["agents_required"].to_numpy(np.int64),
        "agents_perfect": perfect["agents_required"].to_numpy(np.int64),
        "heads_plan": plan["agents_scheduled"].to_numpy(np.int64),
        "heads_perfect": perfect["agents_scheduled"].to_numpy(np.int64),
        "sl_promised": plan["service_level"].to_numpy(np.float64),
        "sl_promised_perfect": perfect["service_level"].to_numpy(np.float64),
        "sl_plan": p["service_level"].to_numpy(),
        "sl_plan_lo": _share(p["service_level_lo"]),
        "sl_plan_hi": _share(p["service_level_hi"]),
        "sl_perfect": q["service_level"].to_numpy(),
        "sl_perfect_lo": _share(q["service_level_lo"]),
        "sl_perfect_hi": _share(q["service_level_hi"]),
        "asa_s_plan": p["asa_s"].to_numpy(),
        "asa_s_perfect": q["asa_s"].to_numpy(),
        "abandonment_plan": p["abandonment"].to_numpy(),
        "abandonment_perfect": q["abandonment"].to_numpy(),
        "meets_plan": p["p_meets_goal"].to_numpy(),
        "meets_perfect": q["p_meets_goal"].to_numpy(),
        # pooled sums for the daily and summary tables (dropped from the output)
        "_within_plan": p["answered_within_target"].to_numpy(),
        "_within_perfect": q["answered_within_target"].to_numpy(),
        "_answered_plan": p["answered"].to_numpy(),
        "_answered_perfect": q["answered"].to_numpy(),
        "_abandoned_plan": p["abandoned"].to_numpy(),
        "_abandoned_perfect": q["abandoned"].to_numpy(),
        "_offered": p["offered"].to_numpy(),
    })


def _pooled(frame: pd.DataFrame, keys: list[str], interval_s: int, goal: float) -> pd.DataFrame:
    """Service level pooled over calls, goal shares and agent-hours per group of rows."""
    hours = interval_s / 3600.0
    work = frame.assign(
        _hours_plan=frame["heads_plan"] * hours,
        _hours_perfect=frame["heads_perfect"] * hours,
        _intervals=1,
    )
    g = work.groupby(keys, sort=True)
    out = g.agg(
        intervals=("_intervals", "sum"),
        volume_actual=("volume_actual", "sum"),
        volume_forecast=("volume_forecast", "sum"),
        _offered=("_offered", "sum"),
        _within_plan=("_within_plan", "sum"),
        _within_perfect=("_within_perfect", "sum"),
        meets_plan=("meets_plan", "mean"),
        meets_perfect=("meets_perfect", "mean"),
        agent_hours_plan=("_hours_plan", "sum"),
        agent_hours_perfect=("_hours_perfect", "sum"),
    ).reset_index()
    offered = out["_offered"].to_numpy(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        for name in ("plan", "perfect"):
            out[f"sl_{name}"] = np.where(offered > 0, out[f"_within_{name}"] / offered, np.nan)
        perfect = out["agent_hours_perfect"].to_numpy(np.float64)
        out["agent_hours_ratio"] = np.where(perfect > 0, out["agent_hours_plan"] / perfect,
                                            np.nan)
    out["sl_goal"] = goal
    return out


def _daily(intervals: pd.DataFrame, *, interval_s: int, goal: float) -> pd.DataFrame:
    frame = intervals.assign(date=intervals["ds"].dt.normalize())
    daily = _pooled(frame, ["queue", "fold", "date"], interval_s, goal)
    return daily[list(DAILY_COLUMNS)]


def _summary(intervals, daily, reps, models, folds, *, queue: QueueConfig, interval_s: int,
             goal: float, confidence: float) -> pd.DataFrame:
    by_fold = _pooled(intervals, ["fold"], interval_s, goal)
    whole = _pooled(intervals.assign(fold=0), ["fold"], interval_s, goal)
    table = pd.concat([by_fold, whole], ignore_index=True)
    rows = []
    for _, row in table.iterrows():
        number = int(row["fold"])
        sel = intervals if number == 0 else intervals[intervals["fold"] == number]
        days = daily if number == 0 else daily[daily["fold"] == number]
        rep = reps if number == 0 else reps[reps["fold"] == number]
        rep = rep.groupby("replication", sort=True).sum(numeric_only=True)
        out = {
            "queue": queue.name,
            "fold": ALL_FOLDS if number == 0 else number,
            "origin": min(f.origin for f in folds) if number == 0 else _fold(folds,
                                                                             number).origin,
            "end": max(f.end for f in folds) if number == 0 else _fold(folds, number).end,
            "model": ",".join(dict.fromkeys(models.values())) if number == 0 else models[number],
            "days": len(days),
            "intervals": int(row["intervals"]),
            "volume_actual": row["volume_actual"],
            "volume_forecast": row["volume_forecast"],
            "wape": wape(sel["volume_actual"], sel["volume_forecast"]),
            "bias": bias(sel["volume_actual"], sel["volume_forecast"]),
            "target_s": float(queue.answer_s),
            "sl_goal": goal,
            "sl_promised": _weighted(sel["sl_promised"], sel["volume_actual"]),
            "sl_promised_perfect": _weighted(sel["sl_promised_perfect"], sel["volume_actual"]),
        }
        for name in ("plan", "perfect"):
            offered = rep[f"offered_{name}"].to_numpy(np.float64)
            within = rep[f"answered_within_target_{name}"].to_numpy(np.float64)
            with np.errstate(invalid="ignore", divide="ignore"):
                per_rep = np.where(offered > 0, within / offered, np.nan)
            mean, lo, hi = mean_ci(per_rep[None, :], confidence)
            out[f"sl_{name}"] = mean[0]
            out[f"sl_{name}_lo"], out[f"sl_{name}_hi"] = _share(lo[:1])[0], _share(hi[:1])[0]
        out["intervals_meeting_plan"] = row["meets_plan"]
        out["intervals_meeting_perfect"] = row["meets_perfect"]
        for name in ("plan", "perfect"):
            sl = days[f"sl_{name}"].to_numpy(np.float64)
            ok = np.isfinite(sl)
            out[f"days_meeting_{name}"] = (float(np.mean(sl[ok] >= goal - 1e-12))
                                           if ok.any() else np.nan)
        offered = sel["_offered"].sum()
        for name in ("plan", "perfect"):
            answered = sel[f"_answered_{name}"].to_numpy(np.float64)
            asa = sel[f"asa_s_{name}"].to_numpy(np.float64)
            ok = np.isfinite(asa) & (answered > 0)
            out[f"asa_s_{name}"] = (float(np.sum(asa[ok] * answered[ok]) / answered[ok].sum())
                                    if ok.any() else np.nan)
            out[f"abandonment_{name}"] = (
                float(sel[f"_abandoned_{name}"].sum() / offered)
                if queue.patience_s is not None and offered > 0 else np.nan)
        out["agent_hours_plan"] = row["agent_hours_plan"]
        out["agent_hours_perfect"] = row["agent_hours_perfect"]
        out["agent_hours_ratio"] = row["agent_hours_ratio"]
        rows.append(out)
    return pd.DataFrame(rows)[list(SUMMARY_COLUMNS)]


def _share(values) -> np.ndarray:
    """A confidence bound of a share (service level) clipped to [0, 1]; NaN stays NaN."""
    return np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0)


def _fold(folds: Sequence[Fold], number: int) -> Fold:
    return next(f for f in folds if f.number == number)


def _weighted(values: pd.Series, weights: pd.Series) -> float:
    v = values.to_numpy(np.float64)
    w = weights.to_numpy(np.float64)
    ok = np.isfinite(v) & np.isfinite(w)
    if not ok.any() or w[ok].sum() <= 0:
        return float("nan")
    return float(np.sum(v[ok] * w[ok]) / w[ok].sum())


# ----------------------------------------------------------------------------- output


def combine_results(results: Sequence[PlanBacktestResult]
                    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The per-interval, per-day and summary tables of several queues, one below another
    (the working columns of the interval table dropped)."""
    if not results:
        raise ForecastError("no queue was replayed")
    intervals = pd.concat([r.intervals for r in results], ignore_index=True)
    intervals = intervals[list(INTERVAL_COLUMNS)]
    daily = pd.concat([r.daily for r in results], ignore_index=True)
    summary = pd.concat([r.summary for r in results], ignore_index=True)
    return intervals, daily, summary


def plot_plan_backtest(daily: pd.DataFrame, path: str | Path) -> Path:
    """Chart per queue: replayed service level per day of the forecast plan and of the
    perfect-knowledge plan against the goal, and both plans' agent-hours per day."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .atomic import atomic_path

    queues = list(dict.fromkeys(daily["queue"]))
    fig, axes = plt.subplots(2, len(queues), figsize=(6.5 * len(queues), 6.4), squeeze=False,
                             sharex="col")
    for col, name in enumerate(queues):
        d = daily[daily["queue"] == name].sort_values("date")
        x = np.arange(len(d))
        labels = d["date"].dt.strftime("%m-%d").tolist()
        ax = axes[0, col]
        ax.plot(x, d["sl_plan"], "o-", color="tab:blue", label="forecast plan")
        ax.plot(x, d["sl_perfect"], "s--", color="tab:green", label="perfect-knowledge plan")
        ax.axhline(float(d["sl_goal"].iloc[0]), color="tab:red", lw=1, label="goal")
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("replayed service level (day)")
        ax.set_title(f"{name}: actual arrivals replayed against the plan")
        ax.legend(loc="lower left", fontsize=8)
        ax = axes[1, col]
        ax.bar(x - 0.2, d["agent_hours_plan"], width=0.4, color="tab:blue", label="forecast plan")
        ax.bar(x + 0.2, d["agent_hours_perfect"], width=0.4, color="tab:green",
               label="perfect-knowledge plan")
        ax.set_ylabel("scheduled agent-hours")
        ax.set_xticks(x, labels, rotation=90, fontsize=7)
        ax.legend(loc="lower left", fontsize=8)
        for b in np.flatnonzero(np.diff(d["fold"].to_numpy()) != 0):
            for a in axes[:, col]:
                a.axvline(b + 0.5, color="gray", lw=0.6, ls=":")
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)
    return path


def write_plan_backtest(results: Sequence[PlanBacktestResult], out_dir: str | Path,
                        *, chart: bool = True) -> list[Path]:
    """Write ``plan_backtest.csv``, ``plan_backtest_daily.csv``,
    ``plan_backtest_summary.csv`` and ``plan_backtest.png`` atomically into ``out_dir``."""
    from .atomic import write_csv

    out_dir = Path(out_dir)
    intervals, daily, summary = combine_results(results)
    written = [
        write_csv(intervals, out_dir / "plan_backtest.csv", float_format="%.6g"),
        write_csv(daily, out_dir / "plan_backtest_daily.csv", float_format="%.6g"),
        write_csv(summary, out_dir / "plan_backtest_summary.csv", float_format="%.6g"),
    ]
    if chart:
        written.append(plot_plan_backtest(daily, out_dir / "plan_backtest.png"))
    return written
