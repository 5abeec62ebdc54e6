"""Random inputs of the simulator: arrival counts and times, handle times, patience.

Pure numpy on a :class:`numpy.random.Generator`; nothing here reads files. Every
function returns float64 seconds or int64 counts and never mutates its inputs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

from ..exceptions import ForecastError

__all__ = [
    "ARRIVAL_KINDS",
    "SERVICE_KINDS",
    "ERROR_SCOPES",
    "draw_counts",
    "rate_multiplier",
    "rate_cv_from_quantiles",
    "uniform_arrivals",
    "draw_service",
    "draw_patience",
    "lognormal_params",
]

ARRIVAL_KINDS = ("poisson", "negbin", "forecast", "counts")
SERVICE_KINDS = ("exponential", "lognormal")
ERROR_SCOPES = ("interval", "day")


def draw_counts(
    rng: np.random.Generator,
    volume: np.ndarray,
    kind: str = "poisson",
    dispersion: float | np.ndarray | None = None,
    day: np.ndarray | None = None,
) -> np.ndarray:
    """Contacts arriving in each interval, one replication.

    Parameters
    ----------
    volume
        Expected contacts per interval (the forecast mean), >= 0.
    kind
        ``"poisson"``: Poisson counts with mean ``volume``. ``"negbin"`` and
        ``"forecast"``: gamma-Poisson (negative binomial): the rate is ``volume`` times a
        gamma multiplier of mean 1 and coefficient of variation ``dispersion``, so
        ``Var = volume + (dispersion * volume) ** 2``; ``"negbin"`` takes one number,
        ``"forecast"`` one per interval (0 = Poisson). ``"counts"``: ``volume`` rounded is
        the exact count (replaying actual counts).
    dispersion
        Coefficient of variation of the rate: a number > 0 (``"negbin"``) or an array of
        numbers >= 0 (``"forecast"``).
    day
        Optional day index per interval: the intervals of one day then share one
        forecast error (the same quantile of their gamma multipliers, a comonotone
        coupling), as when a whole day runs above or below forecast. ``None``: each
        interval errs independently.
    """
    volume = np.asarray(volume, dtype=np.float64)
    if kind == "poisson":
        return rng.poisson(volume).astype(np.int64)
    if kind == "counts":
        return np.rint(volume).astype(np.int64)
    if kind == "negbin":
        if dispersion is None or np.ndim(dispersion) != 0 or not dispersion > 0:
            raise ForecastError(
                "arrivals='negbin' needs dispersion > 0 (the coefficient of variation of the "
                "arrival rate, e.g. 0.1)"
            )
        cv = np.full(volume.shape, float(dispersion))
    elif kind == "forecast":
        cv = np.broadcast_to(np.asarray(dispersion, dtype=np.float64), volume.shape)
        if dispersion is None or not np.all(np.isfinite(cv) & (cv >= 0)):
            raise ForecastError("arrivals='forecast' needs a rate CV >= 0 per interval")
    else:
        raise ForecastError(
            f"unknown arrivals '{kind}'; expected one of {', '.join(ARRIVAL_KINDS)}"
        )
    return rng.poisson(volume * rate_multiplier(rng, cv, day)).astype(np.int64)


def rate_multiplier(
    rng: np.random.Generator, cv: np.ndarray, day: np.ndarray | None = None
) -> np.ndarray:
    """Gamma multipliers of mean 1 and coefficient of variation ``cv`` (1 where cv = 0)."""
    cv = np.asarray(cv, dtype=np.float64)
    out = np.ones(cv.shape)
    noisy = cv > 0
    shape = 1.0 / cv[noisy] ** 2
    if day is None:
        out[noisy] = rng.gamma(shape, 1.0 / shape)
        return out
    day = np.asarray(day, dtype=np.int64)
    _, code = np.unique(day, return_inverse=True)
    u = rng.random(int(code.max()) + 1 if code.size else 0)[code]
    out[noisy] = stats.gamma.ppf(u[noisy], shape, scale=1.0 / shape)
    return out


def rate_cv_from_quantiles(
    volume: np.ndarray, low: np.ndarray, high: np.ndarray, q_low: float
) -> np.ndarray:
    """The rate CV a forecast's prediction interval implies beyond Poisson noise.

    The interval ``[low, high]`` between the ``q_low`` and ``1 - q_low`` quantiles of the
    count is read as normal: ``sd = (high - low) / (2 z)``; what its variance exceeds the
    Poisson variance (the mean) by is put down to the rate:
    ``cv = sqrt(max(sd**2 - mean, 0)) / mean`` (0 where the mean is 0).
    """
    volume = np.asarray(volume, dtype=np.float64)
    z = stats.norm.ppf(1.0 - q_low)
    sd = (np.asarray(high, dtype=np.float64) - np.asarray(low, dtype=np.float64)) / (2.0 * z)
    extra = np.maximum(sd**2 - volume, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cv = np.where(volume > 0, np.sqrt(extra) / np.where(volume > 0, volume, 1.0), 0.0)
    return np.where(np.isfinite(cv), cv, 0.0)


def uniform_arrivals(
    rng: np.random.Generator, counts: np.ndarray, interval_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Arrival times spread uniformly within their intervals, in time order.

    Interval ``j`` covers ``[j * interval_s, (j + 1) * interval_s)`` on the virtual timeline.

    Returns
    -------
    arrival_s, interval
        Sorted arrival times (float64 seconds) and the interval index of each.
    """
    counts = np.asarray(counts, dtype=np.int64)
    interval = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    # sorting (interval + u) orders by interval, then by time inside it
    position = np.sort(interval + rng.random(interval.size))
    arrival_s = position * interval_s
    return arrival_s, interval


def lognormal_params(mean: np.ndarray, cv: float) -> tuple[np.ndarray, float]:
    """``(mu, sigma)`` of the lognormal with the given mean and coefficient of variation."""
    sigma2 = np.log1p(cv**2)
    return np.log(mean) - sigma2 / 2.0, float(np.sqrt(sigma2))


def draw_service(
    rng: np.random.Generator,
    aht_s: np.ndarray,
    kind: str | Sequence[float] | np.ndarray = "exponential",
    cv: float | None = None,
) -> np.ndarray:
    """Handle times, one per customer.

    Parameters
    ----------
    aht_s
        Mean handle time of each customer (its interval's AHT), > 0.
    kind
        ``"exponential"``; ``"lognormal"`` with coefficient of variation ``cv``; or an
        array of observed handle times, resampled with replacement and rescaled so that
        their mean equals each customer's ``aht_s`` (the shape comes from the data, the
        level from the plan).
    """
    aht_s = np.asarray(aht_s, dtype=np.float64)
    if isinstance(kind, str):
        if kind == "exponential":
            return rng.exponential(1.0, aht_s.size) * aht_s
        if kind == "lognormal":
            if cv is None or not cv > 0:
                raise ForecastError("service='lognormal' needs service_cv > 0, e.g. 1.0")
            mu, sigma = lognormal_params(aht_s, cv)
            return np.exp(mu + sigma * rng.standard_normal(aht_s.size))
        raise ForecastError(
            f"unknown service '{kind}'; expected one of {', '.join(SERVICE_KINDS)} "
            "or an array of handle times"
        )
    samples = _positive_samples(kind, "service")
    unit = samples / samples.mean()
    return unit[rng.integers(0, unit.size, aht_s.size)] * aht_s


def draw_patience(
    rng: np.random.Generator,
    n: int,
    patience: float | Sequence[float] | np.ndarray | None,
) -> np.ndarray:
    """Caller patience in seconds, one per customer.

    ``None``: callers never hang up (``inf``). A number: exponential with that mean
    (Erlang A's assumption). An array: observed patience times resampled with
    replacement (``inf`` entries allowed, for callers who would never hang up).
    """
    if patience is None:
        return np.full(n, np.inf)
    if np.ndim(patience) == 0:
        mean = float(patience)
        if not mean > 0:
            raise ForecastError(f"patience must be a mean in seconds > 0; got {patience}")
        if np.isinf(mean):
            return np.full(n, np.inf)
        return rng.exponential(mean, n)
    samples = np.asarray(patience, dtype=np.float64)
    if samples.size == 0 or np.isnan(samples).any() or (samples < 0).any():
        raise ForecastError("patience samples must be a non-empty array of seconds >= 0")
    return samples[rng.integers(0, samples.size, n)]


def _positive_samples(values, what: str) -> np.ndarray:
    samples = np.asarray(values, dtype=np.float64).ravel()
    if samples.size == 0 or not np.isfinite(samples).all() or (samples < 0).any():
        raise ForecastError(f"{what} samples must be a non-empty array of finite seconds >= 0")
    if not samples.mean() > 0:
        raise ForecastError(f"{what} samples must have a positive mean")
    return samples
