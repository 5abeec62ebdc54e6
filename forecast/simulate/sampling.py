"""Random inputs of the simulator: arrival counts and times, handle times, patience.

Pure numpy on a :class:`numpy.random.Generator`; nothing here reads files. Every
function returns float64 seconds or int64 counts and never mutates its inputs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..exceptions import ForecastError

__all__ = [
    "ARRIVAL_KINDS",
    "SERVICE_KINDS",
    "draw_counts",
    "uniform_arrivals",
    "draw_service",
    "draw_patience",
    "lognormal_params",
]

ARRIVAL_KINDS = ("poisson", "negbin", "counts")
SERVICE_KINDS = ("exponential", "lognormal")


def draw_counts(
    rng: np.random.Generator,
    volume: np.ndarray,
    kind: str = "poisson",
    dispersion: float | None = None,
) -> np.ndarray:
    """Contacts arriving in each interval, one replication.

    Parameters
    ----------
    volume
        Expected contacts per interval (the forecast mean), >= 0.
    kind
        ``"poisson"``: Poisson counts with mean ``volume``. ``"negbin"``: gamma-Poisson
        (negative binomial): the rate is ``volume`` times a gamma multiplier of mean 1
        and coefficient of variation ``dispersion``, drawn per interval, so
        ``Var = volume + (dispersion * volume) ** 2``. ``"counts"``: ``volume`` rounded
        is the exact count (replaying actual counts).
    dispersion
        Coefficient of variation of the rate (``"negbin"`` only), > 0.
    """
    volume = np.asarray(volume, dtype=np.float64)
    if kind == "poisson":
        return rng.poisson(volume).astype(np.int64)
    if kind == "negbin":
        if dispersion is None or not dispersion > 0:
            raise ForecastError(
                "arrivals='negbin' needs dispersion > 0 (the coefficient of variation of the "
                "arrival rate, e.g. 0.1)"
            )
        shape = 1.0 / dispersion**2
        rate = volume * rng.gamma(shape, 1.0 / shape, size=volume.shape)
        return rng.poisson(rate).astype(np.int64)
    if kind == "counts":
        return np.rint(volume).astype(np.int64)
    raise ForecastError(f"unknown arrivals '{kind}'; expected one of {', '.join(ARRIVAL_KINDS)}")


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
