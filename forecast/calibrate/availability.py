"""Erlang A predictions per interval and the fit of the effective-availability factor.

:func:`predict_intervals` (service level and abandonment from each interval's staffing)
and :func:`fit_availability` (the factor, and optionally Erlang A's patience, that make
the model reproduce the observed intervals, with a bootstrap over days).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError

__all__ = [
    "AvailabilityEstimate",
    "predict_intervals",
    "usable_intervals",
    "fit_availability",
]

#: Availability factors searched by :func:`fit_availability` (step 0.0025).
AVAILABILITY_GRID = np.round(np.arange(0.05, 1.5 + 1e-9, 0.0025), 4)
#: Patience multipliers searched first when patience is fitted jointly (0.5x to 4x in
#: steps of 2^0.25, 1 included); the search is then refined around the best of them.
PATIENCE_MULTIPLIERS = 2.0 ** np.linspace(-1.0, 2.0, 13)
PATIENCE_REFINE_POINTS = 9


# --------------------------------------------------------------------------- model predictions


def _metric_table(
    rate_per_s: np.ndarray,
    aht_s: np.ndarray,
    patience_s: np.ndarray | None,
    target_s: float,
    max_servers: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Service level and abandonment of each interval for 0..max_servers servers.

    Returns two arrays of shape ``(intervals, max_servers + 1)``. With 0 servers
    nobody is answered (service level 0, every caller abandons under Erlang A).
    """
    from ..queueing import erlang_a, service_level  # noqa: PLC0415

    h = rate_per_s.size
    k = np.arange(1, max_servers + 1, dtype=float)
    kk = np.broadcast_to(k, (h, k.size)).ravel()
    lam = np.repeat(rate_per_s, k.size)
    aht = np.repeat(aht_s, k.size)
    if patience_s is None:
        load = lam * aht
        sl = np.where(kk > load, np.asarray(service_level(kk, load, aht, target_s), float), 0.0)
        ab = np.zeros_like(sl)
    else:
        theta = np.repeat(np.broadcast_to(np.asarray(patience_s, float), rate_per_s.shape), k.size)
        result = erlang_a(kk, lam, aht, theta, target_s)
        sl = np.asarray(result.service_level, float)
        ab = np.asarray(result.p_abandon, float)
    sl = np.clip(sl.reshape(h, k.size), 0.0, 1.0)
    ab = np.clip(ab.reshape(h, k.size), 0.0, 1.0)
    zero_sl = np.zeros((h, 1))
    zero_ab = np.full((h, 1), 0.0 if patience_s is None else 1.0)
    return np.hstack([zero_sl, sl]), np.hstack([zero_ab, ab])


def _interpolate(table: np.ndarray, servers: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``table[h, k]`` at fractional ``servers`` (..., h)."""
    servers = np.clip(servers, 0.0, table.shape[1] - 1.0)
    low = np.minimum(np.floor(servers).astype(np.int64), table.shape[1] - 2)
    frac = servers - low
    rows = np.arange(table.shape[0])
    return table[rows, low] + frac * (table[rows, low + 1] - table[rows, low])


def predict_intervals(
    intervals: pd.DataFrame,
    *,
    patience_s: float | np.ndarray | None,
    availability: float = 1.0,
    target_s: float = 20.0,
    interval_s: int = 3600,
    agents: str | np.ndarray = "agents_seen",
) -> pd.DataFrame:
    """Predicted service level and abandonment of each interval from its staffing.

    Parameters
    ----------
    intervals
        A table with ``offered`` (calls in the interval), ``aht_s`` and the agents
        column, such as :func:`interval_table` returns.
    patience_s
        Mean patience (scalar or one per interval): Erlang A. ``None``: Erlang C
        (callers never abandon).
    availability
        Effective servers = ``availability x agents``. Fractional servers are handled
        by linear interpolation between the neighbouring whole numbers.
    target_s, interval_s
        Answer-time target; interval length (arrival rate = offered / interval_s).
    agents
        Column name (or array) holding the agents per interval.

    Returns
    -------
    DataFrame
        ``servers, service_level_pred, abandonment_pred`` on the index of
        ``intervals``; NaN where the interval has no call, no handle time or no agent.
        ``service_level_pred`` is answered within target over offered (the observed
        convention; for Erlang C, P(wait <= target)).
    """
    servers = availability * np.asarray(
        intervals[agents] if isinstance(agents, str) else agents, dtype=float
    )
    rate = intervals["offered"].to_numpy(dtype=float) / interval_s
    aht = intervals["aht_s"].to_numpy(dtype=float)
    ok = np.isfinite(servers) & (servers >= 0) & np.isfinite(aht) & (aht > 0) & (rate > 0)
    sl = np.full(len(intervals), np.nan)
    ab = np.full(len(intervals), np.nan)
    if ok.any():
        theta = None
        if patience_s is not None:
            theta = np.broadcast_to(np.asarray(patience_s, float), servers.shape)[ok]
        max_servers = int(np.ceil(servers[ok].max())) + 1
        sl_table, ab_table = _metric_table(rate[ok], aht[ok], theta, target_s, max_servers)
        sl[ok] = _interpolate(sl_table, servers[ok])
        ab[ok] = _interpolate(ab_table, servers[ok])
    return pd.DataFrame(
        {"servers": servers, "service_level_pred": sl, "abandonment_pred": ab},
        index=intervals.index,
    )


# --------------------------------------------------------------------------- availability


@dataclass(frozen=True)
class AvailabilityEstimate:
    """Effective availability: servers in the model = ``factor x agents``.

    Attributes
    ----------
    factor, low, high, confidence
        Least-squares estimate and its bootstrap interval (days resampled).
    patience_s, patience_low_s, patience_high_s
        The Erlang A patience used with the factor and its bootstrap interval. When
        ``patience_fitted`` it is fitted jointly with the factor (callers' patience is
        not exponential, so the Erlang A parameter that reproduces the centre differs
        from the measured mean); otherwise it is the measured patience, fixed.
    basis
        What ``agents`` counted: ``agents_on_shift``, ``agents_seen`` or a supplied
        staffing column (``agents``).
    intervals, calls, days
        Learning data used (intervals with at least ``min_calls`` offered calls).
    at_bound
        True when the estimate sits on the edge of the searched range.
    utilisation_seen
        Busy time of the agents over their counted time in the learning intervals
        (pooled): how much of the counted capacity served calls.
    sl_mae_before, sl_mae_after, abandon_mae_before, abandon_mae_after
        Mean absolute error over the learning intervals of Erlang A with the agents as
        counted and the measured patience (before), and with the fitted factor and
        patience (after).
    sl_bias_after, abandon_bias_after
        Mean (predicted - observed) after calibration.
    objective
        ``"separate"``: the factor minimises the service-level loss and the patience the
        abandonment loss; ``"joint"``: both minimise their sum (calibrations written
        before the choice existed were joint).
    """

    factor: float
    low: float
    high: float
    confidence: float
    patience_s: float
    patience_low_s: float
    patience_high_s: float
    patience_fitted: bool
    basis: str
    intervals: int
    calls: int
    days: int
    at_bound: bool
    utilisation_seen: float
    sl_mae_before: float
    sl_mae_after: float
    abandon_mae_before: float
    abandon_mae_after: float
    sl_bias_after: float
    abandon_bias_after: float
    objective: str = "joint"


def usable_intervals(
    intervals: pd.DataFrame, *, min_calls: int = 20, agents: str = "agents_on_shift"
) -> pd.DataFrame:
    """The intervals a fit or check can use: enough calls, a handle time, agents."""
    keep = (
        (intervals["offered"] >= min_calls)
        & (intervals[agents] > 0)
        & intervals["aht_s"].gt(0)
        & intervals["service_level"].notna()
    )
    return intervals.loc[keep.to_numpy(dtype=bool)]


def fit_availability(
    intervals: pd.DataFrame,
    *,
    patience_s: float,
    fit_patience: bool = False,
    target_s: float = 20.0,
    interval_s: int = 3600,
    agents: str = "agents_on_shift",
    min_calls: int = 20,
    abandon_weight: float = 1.0,
    objective: str = "separate",
    bootstrap: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
    grid: np.ndarray = AVAILABILITY_GRID,
    patience_multipliers: np.ndarray = PATIENCE_MULTIPLIERS,
) -> AvailabilityEstimate:
    """Fit the factor (and optionally the patience) that make Erlang A reproduce the
    observed intervals.

    Minimises, over ``factor`` on ``grid`` (and, when ``fit_patience``, patience
    ``m x patience_s`` for ``m`` in ``patience_multipliers`` and then on a finer geometric
    grid between the neighbours of the best ``m``),
    ``sum_h n_h [(SL_h - SL_obs_h)^2 + abandon_weight (Ab_h - Ab_obs_h)^2]``
    where ``n_h`` is the number of calls offered in interval ``h`` (the observed
    proportions have variance about ``p(1-p)/n_h``), ``SL_h`` and ``Ab_h`` are Erlang
    A's service level and abandonment with ``factor x agents_h`` servers, the
    interval's arrival rate and mean handle time, and the patience. That is
    ``objective="joint"``. The default, ``objective="separate"``, gives each parameter
    the metric it governs: for each patience the factor minimises the service-level
    term alone, and the patience is the one whose (patience, factor) pair minimises the
    abandonment term alone (``abandon_weight`` then plays no part). Callers' patience is
    not exponential, so no (factor, patience) pair of Erlang A reproduces both metrics
    exactly; the joint sum trades abandonment for service level (on the Technion bank's
    learning weeks it over-predicted abandonment), while the separate fit keeps the
    factor that reproduces the speed of answer and the patience that reproduces the
    hang-ups. With ``fit_patience=False`` only the factor is fitted (to service level
    when separate).

    The intervals come from a bootstrap that resamples whole days (hours of one day
    share staffing and callers, so they are not independent) and refits.

    Raises
    ------
    DataValidationError
        When no interval has ``min_calls`` calls and agents.
    """
    use = usable_intervals(intervals, min_calls=min_calls, agents=agents)
    if use.empty:
        raise DataValidationError(
            f"no interval with at least {min_calls} calls and an agent seen serving: "
            "too little data to fit the availability factor"
        )
    if not (math.isfinite(patience_s) and patience_s > 0):
        raise ValueError(f"patience_s must be finite and > 0, got {patience_s!r}")
    if objective not in ("separate", "joint"):
        raise ValueError(f"objective must be 'separate' or 'joint', got {objective!r}")
    separate = objective == "separate"
    n = use["offered"].to_numpy(dtype=float)
    staff = use[agents].to_numpy(dtype=float)
    rate = n / interval_s
    aht = use["aht_s"].to_numpy(dtype=float)
    sl_obs = use["service_level"].to_numpy(dtype=float)
    ab_obs = use["abandonment"].to_numpy(dtype=float)
    grid = np.asarray(grid, dtype=float)
    multipliers = np.asarray(patience_multipliers, float) if fit_patience else np.array([1.0])

    days, day_index = np.unique(use["ds"].dt.normalize().to_numpy(), return_inverse=True)
    one_hot = np.zeros((n.size, days.size))
    one_hot[np.arange(n.size), day_index] = 1.0
    max_servers = int(np.ceil(grid.max() * staff.max())) + 1
    # where each (factor, interval) falls in the servers table: shared by every patience
    servers = np.clip(grid[:, None] * staff[None, :], 0.0, max_servers)  # (grid, intervals)
    low = np.minimum(np.floor(servers).astype(np.int64), max_servers - 1)
    frac = servers - low
    at_low = low + np.arange(n.size) * (max_servers + 1)

    def evaluate(theta: float):
        sl_table, ab_table = _metric_table(rate, aht, np.full(n.size, theta), target_s, max_servers)
        sl_flat, ab_flat = sl_table.ravel(), ab_table.ravel()
        sl_lo, ab_lo = sl_flat[at_low], ab_flat[at_low]
        sl_pred = sl_lo + frac * (sl_flat[at_low + 1] - sl_lo)
        ab_pred = ab_lo + frac * (ab_flat[at_low + 1] - ab_lo)
        sl_loss = (n * (sl_pred - sl_obs) ** 2) @ one_hot  # (grid, days)
        ab_loss = (n * (ab_pred - ab_obs) ** 2) @ one_hot
        return (sl_loss, ab_loss), (sl_table, ab_table)

    def choose(sl_loss: np.ndarray, ab_loss: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Best (patience, factor) indices from summed losses shaped (..., patience, grid)."""
        if separate:
            g = np.argmin(sl_loss, axis=-1)  # best factor for each patience
            ab_at = np.take_along_axis(ab_loss, g[..., None], axis=-1)[..., 0]
            p = np.argmin(ab_at, axis=-1)
            return p, np.take_along_axis(g, np.asarray(p)[..., None], axis=-1)[..., 0]
        total = (sl_loss + abandon_weight * ab_loss).reshape(*sl_loss.shape[:-2], -1)
        return np.divmod(np.argmin(total, axis=-1), grid.size)

    results = {float(m): evaluate(patience_s * m) for m in multipliers}
    if fit_patience and len(multipliers) > 1:
        # refine around the best coarse multiplier (one coarse step either side)
        coarse = np.sort(multipliers)
        b = int(
            choose(
                np.stack([results[float(m)][0][0].sum(axis=1) for m in coarse]),
                np.stack([results[float(m)][0][1].sum(axis=1) for m in coarse]),
            )[0]
        )
        lo, hi = coarse[max(b - 1, 0)], coarse[min(b + 1, coarse.size - 1)]
        for m in np.geomspace(lo, hi, PATIENCE_REFINE_POINTS):
            if not np.isclose(m, list(results), rtol=1e-9).any():
                results[float(m)] = evaluate(patience_s * m)
    keys = sorted(results)
    patiences = patience_s * np.array(keys)
    sl_day = np.stack([results[k][0][0] for k in keys])  # (patience, grid, days)
    ab_day = np.stack([results[k][0][1] for k in keys])
    tables = [results[k][1] for k in keys]
    best_p, best_g = (int(i) for i in choose(sl_day.sum(axis=2), ab_day.sum(axis=2)))

    boot_p = np.array([best_p])
    boot_g = np.array([best_g])
    if bootstrap:
        rng = np.random.default_rng(seed)
        draws = rng.integers(0, days.size, size=(bootstrap, days.size))
        counts = np.zeros((bootstrap, days.size))
        np.add.at(counts, (np.repeat(np.arange(bootstrap), days.size), draws.ravel()), 1.0)
        shape = (bootstrap, len(keys), grid.size)
        boot_p, boot_g = choose(
            (counts @ sl_day.reshape(-1, days.size).T).reshape(shape),
            (counts @ ab_day.reshape(-1, days.size).T).reshape(shape),
        )
    alpha = 1.0 - confidence

    def interval_of(values: np.ndarray) -> tuple[float, float]:
        return (float(np.quantile(values, alpha / 2)), float(np.quantile(values, 1 - alpha / 2)))

    busy = use["agent_busy_s"].to_numpy(dtype=float).sum() if "agent_busy_s" in use else np.nan
    util = busy / (staff.sum() * interval_s)
    base = tables[int(np.argmin(np.abs(patiences - patience_s)))]
    fitted = tables[best_p]
    sl_after = _interpolate(fitted[0], grid[best_g] * staff)
    ab_after = _interpolate(fitted[1], grid[best_g] * staff)
    low, high = interval_of(grid[boot_g])
    p_low, p_high = interval_of(patiences[boot_p])
    return AvailabilityEstimate(
        factor=float(grid[best_g]),
        low=low,
        high=high,
        confidence=confidence,
        patience_s=float(patiences[best_p]),
        patience_low_s=p_low,
        patience_high_s=p_high,
        patience_fitted=bool(fit_patience),
        basis=agents,
        intervals=int(len(use)),
        calls=int(n.sum()),
        days=int(days.size),
        at_bound=best_g in (0, grid.size - 1)
        or (fit_patience and best_p in (0, patiences.size - 1)),
        utilisation_seen=float(util),
        sl_mae_before=float(np.mean(np.abs(_interpolate(base[0], staff) - sl_obs))),
        sl_mae_after=float(np.mean(np.abs(sl_after - sl_obs))),
        abandon_mae_before=float(np.mean(np.abs(_interpolate(base[1], staff) - ab_obs))),
        abandon_mae_after=float(np.mean(np.abs(ab_after - ab_obs))),
        sl_bias_after=float(np.mean(sl_after - sl_obs)),
        abandon_bias_after=float(np.mean(ab_after - ab_obs)),
        objective=objective,
    )
