"""Calibration of a centre from call records: the per-queue fit, its check, the config merge.

:func:`calibrate` learns handle time, patience and effective availability per queue
(:class:`Calibration`); :func:`calibration_check`, :func:`check_scores` and
:func:`plot_calibration` compare its predictions with what was observed;
:func:`apply_calibration` writes the values into a plan config.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..config import PlanConfig
from ..exceptions import ConfigError, DataValidationError, ForecastWarning
from ..records import validate_call_records
from .availability import (
    AvailabilityEstimate,
    fit_availability,
    predict_intervals,
    usable_intervals,
)
from .estimators import (
    HandleTimeEstimate,
    PatienceEstimate,
    estimate_handle_time,
    estimate_patience,
)
from .intervals import DEFAULT_SHIFT_GAP_S, _pooled, interval_table

__all__ = [
    "QueueCalibration",
    "Calibration",
    "calibrate",
    "calibration_check",
    "check_scores",
    "plot_calibration",
    "apply_calibration",
]

# --------------------------------------------------------------------------- calibration

#: Answered calls below which a queue's mean handle time is flagged as unreliable (a
#: warning; the mean is still used): about where the mean of skewed handle times
#: starts to behave like a normal variable, as its confidence interval assumes.
MIN_CALLS_FOR_AHT = 30
#: Abandonments below which the measured patience is not planned with (the queue stays
#: Erlang C, with a warning): with k abandonments the 95% interval on the exponential
#: mean patience is [2k / chi2(0.975; 2k), 2k / chi2(0.025; 2k)] x the estimate, about
#: [0.59, 2.09] x at k = 10 but [0.27, 39.5] x at k = 1.
MIN_ABANDONED_FOR_PATIENCE = 10


@dataclass(frozen=True)
class QueueCalibration:
    """Everything learned for one queue (or pool of queues)."""

    queue: str
    calls: int
    answered: int
    abandoned: int
    handle_time: HandleTimeEstimate
    patience: PatienceEstimate
    availability: AvailabilityEstimate | None
    #: the plan-config values as read from params.toml's ``[queues.<name>]`` (hand edits
    #: included); None: derived from the estimates
    values: Mapping[str, float] | None = None

    def config_values(self) -> dict[str, float]:
        """The values to set in the plan config's queue section.

        ``values`` when set (read from a params.toml); otherwise derived: ``aht_s`` is the
        mean handle time; ``patience_s`` is the patience Erlang A needs (fitted with the
        factor when it was, else the measured mean) and is left out when fewer than
        :data:`MIN_ABANDONED_FOR_PATIENCE` callers abandoned (Erlang C is then the
        model); ``availability`` is capped at 1 (the config's range).
        """
        if self.values is not None:
            return dict(self.values)
        values: dict[str, float] = {}
        if math.isfinite(self.handle_time.mean_s) and self.handle_time.mean_s > 0:
            values["aht_s"] = round(self.handle_time.mean_s, 1)
        if self.availability is not None:
            values["patience_s"] = round(self.availability.patience_s, 1)
        elif self.patience_usable:
            values["patience_s"] = round(self.patience.mean_s, 1)
        if self.availability is not None:
            values["availability"] = round(min(self.availability.factor, 1.0), 4)
        return values

    @property
    def patience_usable(self) -> bool:
        """Enough abandonments (:data:`MIN_ABANDONED_FOR_PATIENCE`) to plan with the
        measured patience."""
        p = self.patience
        return (p.abandoned >= MIN_ABANDONED_FOR_PATIENCE and math.isfinite(p.mean_s)
                and p.mean_s > 0)

    def sample_warnings(self) -> list[str]:
        """Figures learned from too few calls to trust, one sentence each."""
        out = []
        n, k = self.handle_time.calls, self.patience.abandoned
        if 0 < n < MIN_CALLS_FOR_AHT:
            out.append(f"queue '{self.queue}': mean handle time from only {n} answered "
                       f"call(s) (fewer than {MIN_CALLS_FOR_AHT}): unreliable")
        if 0 < k < MIN_ABANDONED_FOR_PATIENCE:
            out.append(f"queue '{self.queue}': patience from only {k} abandonment(s) (fewer "
                       f"than {MIN_ABANDONED_FOR_PATIENCE}) is too uncertain to plan with; "
                       "no patience_s written (Erlang C)")
        return out

    def value_notes(self) -> dict[str, str]:
        """Where each of :meth:`config_values` comes from, one phrase per key."""
        h, p, a = self.handle_time, self.patience, self.availability
        measured = f"measured mean patience {p.mean_s:.1f} s [{p.low_s:.1f}, {p.high_s:.1f}]"
        aht = f"mean handle time [{h.low_s:.1f}, {h.high_s:.1f}] s"
        if h.low_s == 0.0 < h.mean_s:
            aht += ", lower bound clipped at 0"
        if h.calls < MIN_CALLS_FOR_AHT:
            aht += f", only {h.calls} answered call(s): unreliable"
        notes = {"aht_s": aht, "patience_s": measured}
        if a is not None:
            if a.patience_fitted:
                notes["patience_s"] = (f"Erlang A patience fitted with the availability "
                                       f"[{a.patience_low_s:.1f}, {a.patience_high_s:.1f}] s, "
                                       f"not the {measured}")
            notes["availability"] = (f"share of {a.basis} who effectively serve "
                                     f"[{a.low:.4f}, {a.high:.4f}]")
        if self.values is not None:
            derived = replace(self, values=None).config_values()
            for key, value in self.values.items():
                if derived.get(key) != value:
                    notes[key] = "edited in params.toml"
        return {k: notes[k] for k in self.config_values()}

    def describe(self) -> str:
        """One line naming each figure: what the plan uses (``aht_s``, ``patience_s``,
        ``availability``) and what was measured beside it."""
        p = self.patience
        used = self.config_values()
        parts = [f"{self.calls:,} calls"]
        parts += [f"{key} {value:g} ({note})" for (key, value), note
                  in zip(used.items(), self.value_notes().values(), strict=True)]
        if "patience_s" not in used:
            if not math.isfinite(p.mean_s):
                parts.append("no abandonment: Erlang C")
            elif p.abandoned < MIN_ABANDONED_FOR_PATIENCE:
                parts.append(f"measured mean patience {p.mean_s:.1f} s from only "
                             f"{p.abandoned} abandonment(s), not used (fewer than "
                             f"{MIN_ABANDONED_FOR_PATIENCE}): Erlang C")
            else:
                parts.append(f"measured mean patience {p.mean_s:.1f} s")
        return f"{self.queue}: " + ", ".join(parts)


@dataclass(frozen=True)
class Calibration:
    """Parameters learned from call records, their uncertainty and the period.

    Attributes
    ----------
    queues
        Queue name -> :class:`QueueCalibration`.
    interval_s, target_s, min_calls
        Interval length, answer-time target and the minimum calls for an interval to
        enter the availability fit.
    train_start, train_end
        The learning period, ``[train_start, train_end)`` as ISO date-times.
    pool
        Name of the pool when queues were merged, else None.
    records, dropped
        Calls used and the rows the reader set aside by rule.
    basis, shift_gap_s, fit_patience
        Which agent count the availability factor maps (``agents_on_shift``,
        ``agents_seen`` or supplied ``agents``), the presence gap, and whether Erlang
        A's patience was fitted with the factor.
    """

    queues: dict[str, QueueCalibration]
    interval_s: int
    target_s: float
    min_calls: int
    train_start: str
    train_end: str
    pool: str | None = None
    records: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    basis: str = "agents_on_shift"
    shift_gap_s: float = DEFAULT_SHIFT_GAP_S
    fit_patience: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Nested plain dictionaries (JSON/TOML-ready)."""
        head = {k: v for k, v in asdict(self).items() if k != "queues"}
        if head["pool"] is None:
            head.pop("pool")
        return {
            "calibration": head,
            "queues": {name: q.config_values() for name, q in self.queues.items()},
            "fit": {name: _fit_dict(q) for name, q in self.queues.items()},
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Calibration:
        """Rebuild from :meth:`to_dict` output (or a params.toml read back).

        The values a plan uses are those of ``[queues.<name>]`` (so hand edits there
        take effect); ``[fit.<name>]`` holds the estimates behind them.
        """
        edited = _plan_values(raw.get("queues", {}), raw.get("fit", {}))
        try:
            head = dict(raw["calibration"])
            queues = {}
            for name, fit in raw.get("fit", {}).items():
                avail = fit.get("availability")
                queues[name] = QueueCalibration(
                    queue=name,
                    calls=int(fit["calls"]),
                    answered=int(fit["answered"]),
                    abandoned=int(fit["abandoned"]),
                    handle_time=HandleTimeEstimate(**fit["handle_time"]),
                    patience=PatienceEstimate(**fit["patience"]),
                    availability=AvailabilityEstimate(**avail) if avail else None,
                    values=edited.get(name),
                )
            return cls(
                queues=queues,
                interval_s=int(head["interval_s"]),
                target_s=float(head["target_s"]),
                min_calls=int(head["min_calls"]),
                train_start=str(head["train_start"]),
                train_end=str(head["train_end"]),
                pool=head.get("pool"),
                records=int(head.get("records", 0)),
                dropped=dict(head.get("dropped", {})),
                basis=str(head.get("basis", "agents_on_shift")),
                shift_gap_s=float(head.get("shift_gap_s", DEFAULT_SHIFT_GAP_S)),
                fit_patience=bool(head.get("fit_patience", True)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"not a calibration written by forecast ({exc!r})") from None

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False, allow_nan=True) + "\n"


#: the plan-config keys a calibration sets
CALIBRATED_KEYS = ("aht_s", "patience_s", "availability")


def _plan_values(queues: Any, fits: Any) -> dict[str, dict[str, float]]:
    """The ``[queues.<name>]`` tables of a params.toml, validated like a plan config's
    queue sections; each must belong to a calibrated queue (a ``[fit.<name>]``)."""
    from ..config import QueueConfig, _Parser, _queue_from

    p = _Parser(None)
    if not isinstance(queues, Mapping):
        raise p.fail("queues", "a table of queues", queues)
    out = {}
    for name, values in queues.items():
        where = f"queues.{name}"
        if not isinstance(values, Mapping):
            raise p.fail(where, "a table", values)
        if not isinstance(fits, Mapping) or name not in fits:
            raise ConfigError(f"no [fit.{name}] for this queue; expected one of "
                              f"{', '.join(fits) if isinstance(fits, Mapping) else 'none'}",
                              key=where)
        p.only_keys(values, where, set(CALIBRATED_KEYS))
        checked = _queue_from(p, values, where, QueueConfig(name=str(name)))
        out[str(name)] = {k: getattr(checked, k) for k in CALIBRATED_KEYS if k in values}
    return out


def _fit_dict(q: QueueCalibration) -> dict[str, Any]:
    out: dict[str, Any] = {
        "calls": q.calls,
        "answered": q.answered,
        "abandoned": q.abandoned,
        "handle_time": asdict(q.handle_time),
        "patience": asdict(q.patience),
    }
    if q.availability is not None:
        out["availability"] = asdict(q.availability)
    return out


def _train_bounds(records: pd.DataFrame, train: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
    first = records["arrival"].min().floor("D")
    last = records["arrival"].max().floor("D") + pd.Timedelta(days=1)
    if train is None:
        return first, last
    if isinstance(train, slice):
        start, end = train.start, train.stop
    else:
        start, end = train
    start = first if start is None else pd.Timestamp(start)
    end = last if end is None else pd.Timestamp(end)
    if not start < end:
        raise DataValidationError(f"empty learning period [{start}, {end})")
    return start, end


def calibrate(
    records: pd.DataFrame,
    *,
    interval_s: int = 3600,
    target_s: float = 20.0,
    train: slice | tuple[Any, Any] | None = None,
    pool: str | None = None,
    staffing: pd.DataFrame | None = None,
    basis: str = "on_shift",
    shift_gap_s: float = DEFAULT_SHIFT_GAP_S,
    fit_patience: bool = True,
    objective: str = "separate",
    min_calls: int = 20,
    min_intervals: int = 24,
    bootstrap: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
) -> Calibration:
    """Learn handle time, patience and effective availability per queue.

    Parameters
    ----------
    records
        The records table (:func:`forecast.records.read_call_records`).
    interval_s, target_s
        Interval for arrival rates and staffing; answer-time target of the service
        level.
    train
        Learning period: ``slice(start, end)`` or ``(start, end)`` on arrival times,
        start inclusive, end exclusive (``None`` ends are open). Default: all records.
    pool
        Merge all queues into one of this name (for centres whose agents serve every
        queue from one pool).
    staffing
        Optional agents per interval (``queue, ds, agents``): scheduled or logged-in
        heads. When given, the factor maps these instead of agents read from records.
    basis
        Without ``staffing``, which agents the factor maps: ``"on_shift"`` (presence
        estimated from service spells, see :func:`interval_table`) or ``"seen"``
        (distinct agents who served in the interval).
    shift_gap_s
        Idle gap that ends an agent's presence span (``basis="on_shift"``).
    fit_patience
        Fit Erlang A's patience jointly with the factor (the measured exponential
        estimate is kept beside it); False keeps the measured patience in the model.
    objective
        ``"separate"`` (factor fitted to service level, patience to abandonment) or
        ``"joint"`` (both to their sum); see :func:`fit_availability`.
    min_calls
        Intervals with fewer offered calls do not enter the availability fit.
    min_intervals
        A queue needs at least this many such intervals for an availability fit
        (fewer cannot tell the factor from the patience), and at least
        :data:`MIN_ABANDONED_FOR_PATIENCE` abandonments; otherwise its
        ``availability`` is None and only handle time and patience are learned.
    bootstrap, confidence, seed
        Bootstrap replicates (over days) and level of the intervals; the seed makes
        the result reproducible.

    Returns
    -------
    Calibration

    Warns
    -----
    ForecastWarning
        For a queue with fewer than :data:`MIN_CALLS_FOR_AHT` answered calls (its mean
        handle time is unreliable) or fewer than :data:`MIN_ABANDONED_FOR_PATIENCE`
        abandonments (its patience is not planned with).
    """
    validate_call_records(records)
    if records.empty:
        raise DataValidationError("no call records to calibrate on")
    start, end = _train_bounds(records, train)
    in_train = ((records["arrival"] >= start) & (records["arrival"] < end)).to_numpy(dtype=bool)
    learn = _pooled(records.loc[in_train], pool)
    if learn.empty:
        raise DataValidationError(f"no call records in the learning period [{start}, {end})")
    intervals = interval_table(
        learn, interval_s=interval_s, target_s=target_s, shift_gap_s=shift_gap_s
    )
    agents = _basis_column(basis, staffing)
    if staffing is not None:
        intervals = _join_staffing(intervals, staffing)

    queues: dict[str, QueueCalibration] = {}
    for name, calls in learn.groupby(learn["queue"].astype(str), sort=True):
        answered = (calls["outcome"] == "answered").to_numpy(dtype=bool)
        patience = estimate_patience(
            calls["wait_s"].to_numpy(float), ~answered, confidence=confidence
        )
        handle = estimate_handle_time(
            calls["handle_s"].to_numpy(float)[answered], confidence=confidence
        )
        own = intervals[intervals["queue"] == name]
        availability = None
        if (
            patience.abandoned >= MIN_ABANDONED_FOR_PATIENCE
            and 0 < patience.mean_s < math.inf
            and len(usable_intervals(own, min_calls=min_calls, agents=agents)) >= min_intervals
        ):
            availability = fit_availability(
                own,
                patience_s=patience.mean_s,
                fit_patience=fit_patience,
                objective=objective,
                target_s=target_s,
                interval_s=interval_s,
                agents=agents,
                min_calls=min_calls,
                bootstrap=bootstrap,
                confidence=confidence,
                seed=seed,
            )
        queues[str(name)] = QueueCalibration(
            queue=str(name),
            calls=int(len(calls)),
            answered=int(answered.sum()),
            abandoned=int((~answered).sum()),
            handle_time=handle,
            patience=patience,
            availability=availability,
        )
        for text in queues[str(name)].sample_warnings():
            warnings.warn(text, ForecastWarning, stacklevel=2)
    return Calibration(
        queues=queues,
        interval_s=int(interval_s),
        target_s=float(target_s),
        min_calls=int(min_calls),
        train_start=start.isoformat(),
        train_end=end.isoformat(),
        pool=pool,
        records=int(len(learn)),
        dropped=dict(records.attrs.get("dropped", {})),
        basis=agents,
        shift_gap_s=float(shift_gap_s),
        fit_patience=bool(fit_patience),
    )


_RECORD_BASES = ("agents_on_shift", "agents_seen")


def _basis_column(basis: str, staffing: pd.DataFrame | None) -> str:
    if staffing is not None:
        return "agents"
    columns = {
        "on_shift": "agents_on_shift",
        "seen": "agents_seen",
        "agents_on_shift": "agents_on_shift",
        "agents_seen": "agents_seen",
    }
    if basis not in columns:
        raise ValueError(f"basis must be 'on_shift' or 'seen', got {basis!r}")
    return columns[basis]


def _join_staffing(intervals: pd.DataFrame, staffing: pd.DataFrame) -> pd.DataFrame:
    missing = {"queue", "ds", "agents"} - set(staffing.columns)
    if missing:
        raise DataValidationError(
            f"staffing table lacks column(s) {', '.join(sorted(missing))}; "
            "expected queue, ds, agents"
        )
    table = staffing[["queue", "ds", "agents"]].astype({"queue": str})
    table["ds"] = pd.to_datetime(table["ds"]).astype(intervals["ds"].dtype)
    return intervals.merge(table, on=["queue", "ds"], how="left").fillna({"agents": 0.0})


# --------------------------------------------------------------------------- checking


def calibration_check(
    records: pd.DataFrame,
    calibration: Calibration,
    *,
    staffing: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Predicted beside observed service level and abandonment, per interval.

    Every interval of ``records`` with at least ``calibration.min_calls`` calls and an
    agent is predicted from its own arrivals, mean handle time and agents (seen
    serving, or ``staffing``), with the calibrated patience:

    * ``sl_erlang_c``: Erlang C with the agents as a planner would count them
      (no abandonment): the distinct agents seen serving in the interval, or the
      staffing table when the calibration used one;
    * ``sl_before`` / ``ab_before``: Erlang A with those agents and the measured
      (exponential MLE) patience;
    * ``sl_after`` / ``ab_after``: Erlang A with ``availability x agents`` on the
      calibration's basis (agents on shift by default) and the calibrated patience.

    ``learning`` is True for intervals inside the calibration's learning period, so
    the rest are held out.
    """
    pool = calibration.pool
    intervals = interval_table(
        records,
        interval_s=calibration.interval_s,
        target_s=calibration.target_s,
        pool=pool,
        shift_gap_s=calibration.shift_gap_s,
    )
    agents = calibration.basis
    if staffing is not None:
        intervals = _join_staffing(intervals, staffing)
    elif agents not in intervals:
        raise DataValidationError(
            f"the calibration maps a staffing table ('{agents}'); pass staffing= to check it"
        )
    parts = []
    for name, q in calibration.queues.items():
        own = usable_intervals(
            intervals[intervals["queue"] == name], min_calls=calibration.min_calls, agents=agents
        )
        if own.empty:
            continue
        measured = q.patience.mean_s if math.isfinite(q.patience.mean_s) else None
        factor, fitted = 1.0, measured
        if q.availability is not None:
            factor, fitted = q.availability.factor, q.availability.patience_s
        kw = {
            "target_s": calibration.target_s,
            "interval_s": calibration.interval_s,
            "agents": agents,
        }
        naive = {**kw, "agents": "agents_seen" if agents in _RECORD_BASES else agents}
        c = predict_intervals(own, patience_s=None, **naive)
        before = predict_intervals(own, patience_s=measured, **naive)
        after = predict_intervals(own, patience_s=fitted, availability=factor, **kw)
        parts.append(
            pd.DataFrame(
                {
                    "queue": name,
                    "ds": own["ds"].to_numpy(),
                    "offered": own["offered"].to_numpy(),
                    "agents_seen": own["agents_seen"].to_numpy(),
                    "agents": own[agents].to_numpy(),
                    "servers": after["servers"].to_numpy(),
                    "sl_observed": own["service_level"].to_numpy(),
                    "ab_observed": own["abandonment"].to_numpy(),
                    "sl_erlang_c": c["service_level_pred"].to_numpy(),
                    "sl_before": before["service_level_pred"].to_numpy(),
                    "ab_before": before["abandonment_pred"].to_numpy(),
                    "sl_after": after["service_level_pred"].to_numpy(),
                    "ab_after": after["abandonment_pred"].to_numpy(),
                }
            )
        )
    if not parts:
        raise DataValidationError(
            f"no interval with at least {calibration.min_calls} calls of a calibrated queue"
        )
    out = pd.concat(parts, ignore_index=True)
    start = pd.Timestamp(calibration.train_start)
    end = pd.Timestamp(calibration.train_end)
    out["learning"] = ((out["ds"] >= start) & (out["ds"] < end)).to_numpy(dtype=bool)
    return out


def check_scores(check: pd.DataFrame) -> pd.DataFrame:
    """Mean absolute error and bias (predicted - observed) of each model, per queue and
    split (``learning`` / ``held_out``), from :func:`calibration_check`."""
    models = [
        ("Erlang C", "sl_erlang_c", None),
        ("Erlang A", "sl_before", "ab_before"),
        ("Erlang A calibrated", "sl_after", "ab_after"),
    ]
    rows = []
    split = np.where(check["learning"], "learning", "held_out")
    for (queue, part), g in check.groupby([check["queue"], split], sort=True):
        for label, sl, ab in models:
            sl_err = g[sl] - g["sl_observed"]
            ab_err = (g[ab] if ab else 0.0) - g["ab_observed"]
            rows.append(
                {
                    "queue": queue,
                    "split": part,
                    "model": label,
                    "intervals": len(g),
                    "sl_mae": float(sl_err.abs().mean()),
                    "sl_bias": float(sl_err.mean()),
                    "ab_mae": float(np.abs(ab_err).mean()),
                    "ab_bias": float(np.mean(ab_err)),
                }
            )
    return pd.DataFrame(rows)


def plot_calibration(check: pd.DataFrame, *, title: str = "Calibration"):
    """One-page figure: predicted against observed service level and abandonment per
    interval, before (Erlang C and Erlang A on the agents as counted) and after
    calibration; held-out intervals drawn apart. Returns a matplotlib Figure."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    from matplotlib.figure import Figure  # noqa: PLC0415

    fig = Figure(figsize=(11, 5.5), layout="constrained")
    ax_sl, ax_ab = fig.subplots(1, 2)
    held = ~check["learning"].to_numpy(dtype=bool)
    series = [
        (ax_sl, "sl_erlang_c", "Erlang C, agents seen", "tab:gray", "x"),
        (ax_sl, "sl_before", "Erlang A, agents seen", "tab:orange", "^"),
        (ax_sl, "sl_after", "Erlang A, calibrated", "tab:blue", "o"),
        (ax_ab, "ab_before", "Erlang A, agents seen", "tab:orange", "^"),
        (ax_ab, "ab_after", "Erlang A, calibrated", "tab:blue", "o"),
    ]
    observed = {ax_sl: "sl_observed", ax_ab: "ab_observed"}
    for ax, column, label, colour, marker in series:
        x, y = check[observed[ax]].to_numpy(), check[column].to_numpy()
        err = np.nanmean(np.abs(y - x))
        ax.scatter(
            x[~held],
            y[~held],
            s=10,
            alpha=0.45,
            color=colour,
            marker=marker,
            label=f"{label} (MAE {err:.3f}, all intervals)",
        )
        if held.any():
            hollow = (
                {"color": colour} if marker == "x" else {"facecolors": "none", "edgecolors": colour}
            )
            ax.scatter(x[held], y[held], s=16, alpha=0.8, marker=marker, **hollow)
    for ax, what in ((ax_sl, "service level"), (ax_ab, "abandonment")):
        ax.plot([0, 1], [0, 1], color="black", lw=0.8)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel(f"observed {what} per interval")
        ax.set_ylabel(f"predicted {what}")
        ax.legend(loc="upper left", fontsize=8)
        ax.grid(alpha=0.3)
    note = " (hollow markers: held-out intervals)" if held.any() else ""
    fig.suptitle(f"{title}{note}")
    return fig


# --------------------------------------------------------------------------- config merge


def apply_calibration(
    config: PlanConfig,
    calibration: Calibration,
    *,
    queues: Mapping[str, str] | None = None,
    keys: tuple[str, ...] = CALIBRATED_KEYS,
) -> PlanConfig:
    """Return ``config`` with calibrated ``aht_s``, ``patience_s`` and ``availability``.

    Parameters
    ----------
    config
        The plan configuration; it is not modified.
    calibration
        From :func:`calibrate` or :func:`load_calibration`.
    queues
        Calibrated queue -> config queue name. Default: same names, or, for a pooled
        calibration, ``{pool: "*"}``. The target ``"*"`` applies the values to the
        defaults and to every voice queue of the config (call records calibrate Erlang
        C/A; chat, email and social queues are left alone, with a warning).
    keys
        Which values to take from the calibration.

    Returns
    -------
    PlanConfig
        A copy with the values applied to the mapped queues' sections (for ``"*"``:
        to the voice sections, and to the defaults when their channel is voice) and
        recorded in :attr:`PlanConfig.calibrated`.

    Raises
    ------
    ConfigError
        When ``queues`` names a queue that is not in the calibration.

    Notes
    -----
    What was set is recorded in :attr:`PlanConfig.calibrated` (queue or ``"*"`` ->
    values): :func:`forecast.plan.build_plan` says which planned queue received which
    values, and warns about calibrated queues that are not in the run. A queue without
    a section of its own gets its values through :meth:`PlanConfig.queue`. A fitted
    availability above 1 is capped at 1 with a warning.
    """
    if queues is not None:
        mapping = dict(queues)
    elif calibration.pool is not None:
        mapping = {q: "*" for q in calibration.queues}
    else:
        mapping = {q: q for q in calibration.queues}
    unknown = [q for q in mapping if q not in calibration.queues]
    if unknown:
        raise ConfigError(
            f"queue '{unknown[0]}' is not in the calibration "
            f"(calibrated: {', '.join(calibration.queues)})"
        )
    defaults = config.defaults
    sections = dict(config.queues)
    calibrated = dict(config.calibrated)
    for source, target in mapping.items():
        q = calibration.queues[source]
        values = {k: v for k, v in q.config_values().items() if k in keys}
        if q.availability is not None and q.availability.factor > 1.0 and "availability" in keys:
            warnings.warn(
                f"calibrated availability of queue '{source}' is {q.availability.factor:.3f}; "
                "capped at 1",
                ForecastWarning,
                stacklevel=2,
            )
        if target == "*":
            if defaults.channel == "voice":
                defaults = replace(defaults, **values)
            skipped = [n for n, s in sections.items() if s.channel != "voice"]
            sections = {n: s if n in skipped else replace(s, **values)
                        for n, s in sections.items()}
            if skipped:
                warnings.warn(
                    f"calibration '{source}' applies to voice queues only (Erlang C/A); "
                    f"not applied to {', '.join(skipped)}",
                    ForecastWarning,
                    stacklevel=2,
                )
        elif target in sections:
            sections[target] = replace(sections[target], **values)
        calibrated[target] = values
    return replace(config, defaults=defaults, queues=sections, calibrated=calibrated)
