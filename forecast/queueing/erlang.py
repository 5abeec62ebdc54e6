"""Erlang B and Erlang C (M/M/n) metrics, vectorised over intervals.

Every function broadcasts its arguments (scalars or arrays of any shape) and
returns float arrays. ``load`` is the offered load in Erlangs (arrival rate x
average handle time); ``agents`` is the number of servers. The metric functions
raise ``ValueError`` for NaN or infinite agents, loads, handle times or targets.

Stability
---------
Erlang B is evaluated in log space as ``log B(n, A) = log p(n; A) - log P(X <= n)``
with ``X ~ Poisson(A)`` (Palm's form of Erlang's loss formula: B is the Poisson
probability of ``n`` conditioned on at most ``n``). The Poisson cdf is
``scipy.special.gammaincc(n + 1, A)``; where it would underflow (many fewer agents
than Erlangs) the inverse is summed directly,
``1 / B(n, A) = sum_j prod_{i<j} (n - i) / A``, a series that converges fast exactly
in that region. Results are finite for loads from 0 to well beyond 10,000 Erlangs
and agents from 0 to well beyond 20,000.

Defined answers outside stability
---------------------------------
Erlang C with ``load >= agents``: probability of waiting 1, service level 0,
ASA ``inf``, occupancy 1. Zero load: probability of waiting 0, service level 1,
ASA 0, occupancy 0 (also with zero agents).

Fractional agents
-----------------
Metric functions accept fractional agents and interpolate linearly between the
metric at ``floor(agents)`` and ``ceil(agents)``; ASA is interpolated through its
reciprocal (the rate at which the queue is cleared), which is finite and continuous
through the stability boundary. :func:`~forecast.queueing.required_agents` with
``fractional=True`` returns the agents at which the interpolated metric meets the
target exactly, so the two are consistent.

References
----------
Erlang, A. K. (1917). Solution of some problems in the theory of probabilities of
significance in automatic telephone exchanges. Elektroteknikeren 13.
Palm, C. (1943). Intensitätsschwankungen im Fernsprechverkehr. Ericsson Technics 44.
Gross, D., Shortle, J., Thompson, J., Harris, C. (2008). Fundamentals of Queueing
Theory, 4th ed., Wiley, section 2.3 (M/M/c) and 2.5 (M/M/c/c).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

__all__ = [
    "erlang_b",
    "erlang_c",
    "service_level",
    "asa",
    "occupancy",
    "log_erlang_b",
]

FloatArray = NDArray[np.float64]

#: below this Poisson cdf the direct formula is replaced by the inverse series
_CDF_FLOOR = 1e-200


def _floats(*values: ArrayLike) -> list[FloatArray]:
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in values))
    return [np.array(a, dtype=np.float64) for a in arrays]


def _check_nonnegative(name: str, value: FloatArray) -> None:
    """Raise ValueError unless every element of ``value`` is a finite number >= 0."""
    if np.any(np.isnan(value)):
        raise ValueError(f"{name} contains NaN; expected finite numbers >= 0")
    if np.any(np.isinf(value)):
        raise ValueError(f"{name} contains inf; expected finite numbers >= 0")
    if np.any(value < 0):
        raise ValueError(f"{name} must be >= 0; got {float(value[value < 0].flat[0])!r}")


def _check_positive(name: str, value: FloatArray) -> None:
    """Raise ValueError unless every element of ``value`` is a finite number > 0."""
    bad = ~(np.isfinite(value) & (value > 0))
    if np.any(bad):
        raise ValueError(f"{name} must be a finite number > 0; got {float(value[bad].flat[0])!r}")


def _inverse_b_series(n: FloatArray, load: FloatArray) -> FloatArray:
    """``1 / B(n, A) = sum_{j=0}^{n} prod_{i<j} (n - i) / A`` summed to convergence.

    Used where ``n`` is well below ``A``: the ratio of consecutive terms is at most
    ``n / A`` so few terms are needed there.
    """
    total = np.ones_like(load)
    term = np.ones_like(load)
    active = np.arange(load.size)
    j = 0
    while active.size:
        term[active] *= (n[active] - j) / load[active]
        total[active] += term[active]
        j += 1
        keep = (term[active] > 1e-18 * total[active]) & (n[active] - j > 0)
        active = active[keep]
    return total


def log_erlang_b(agents: ArrayLike, load: ArrayLike) -> FloatArray:
    """Natural log of the Erlang B blocking probability for integer ``agents``.

    Parameters
    ----------
    agents
        Whole numbers of servers, >= 0.
    load
        Offered load in Erlangs, >= 0.

    Returns
    -------
    ndarray
        ``log B(n, A)``; ``-inf`` where ``B`` is exactly 0 (zero load, n > 0) and
        ``0`` where it is 1 (no agents).
    """
    n, a = _floats(agents, load)
    out = np.zeros(n.shape)
    zero_load = (a == 0) & (n > 0)
    out[zero_load] = -np.inf
    work = (a > 0) & (n > 0)
    if not np.any(work):
        return out
    nw, aw = n[work], a[work]
    log_pmf = nw * np.log(aw) - aw - special.gammaln(nw + 1.0)
    cdf = special.gammaincc(nw + 1.0, aw)
    result = np.empty_like(aw)
    direct = cdf > _CDF_FLOOR
    result[direct] = log_pmf[direct] - np.log(cdf[direct])
    if not np.all(direct):
        flat_n, flat_a = nw[~direct].ravel(), aw[~direct].ravel()
        result[~direct] = -np.log(_inverse_b_series(flat_n, flat_a))
    out[work] = np.minimum(result, 0.0)
    return out


def _erlang_c_int(n: FloatArray, a: FloatArray) -> FloatArray:
    """Probability of waiting for integer agents (1 where unstable, 0 at zero load)."""
    b = np.exp(log_erlang_b(n, a))
    stable = n > a
    with np.errstate(divide="ignore", invalid="ignore"):
        c = n * b / (n - a + a * b)
    c = np.where(stable, c, 1.0)
    return np.where(a == 0, 0.0, np.clip(c, 0.0, 1.0))


def _interpolated(
    agents: FloatArray, metric: Callable[[FloatArray], FloatArray], *, reciprocal: bool = False
) -> FloatArray:
    """Evaluate ``metric`` at integer agents, interpolating linearly for fractional ones."""
    low = np.floor(agents)
    if np.array_equal(low, agents):
        return metric(agents)
    high = np.ceil(agents)
    m_low, m_high = metric(low), metric(high)
    frac = agents - low
    if reciprocal:
        with np.errstate(divide="ignore"):
            r_low, r_high = 1.0 / m_low, 1.0 / m_high
            r = r_low + frac * (r_high - r_low)
            return np.where(frac == 0, m_low, 1.0 / r)
    return np.where(frac == 0, m_low, m_low + frac * (m_high - m_low))


def erlang_b(agents: ArrayLike, load: ArrayLike) -> FloatArray:
    """Erlang B: probability that an arrival finds all ``agents`` busy in M/M/n/n.

    ``B(n, A) = (A^n / n!) / sum_{k=0}^{n} A^k / k!`` (Erlang 1917).

    Parameters
    ----------
    agents
        Servers, >= 0 (fractional values interpolate between neighbours).
    load
        Offered load in Erlangs, >= 0.

    Returns
    -------
    ndarray
        Blocking probability in [0, 1].
    """
    n, a = _floats(agents, load)
    _check_nonnegative("agents", n)
    _check_nonnegative("load", a)
    return _interpolated(n, lambda k: np.exp(log_erlang_b(k, a)))


def erlang_c(agents: ArrayLike, load: ArrayLike) -> FloatArray:
    """Erlang C: probability that an arrival waits in M/M/n (infinite patience).

    ``C(n, A) = n B / (n - A (1 - B))`` for ``n > A`` with ``B = B(n, A)``
    (Gross et al. 2008, eq. 2.36); 1 for ``n <= A`` (the queue grows without bound).

    Parameters
    ----------
    agents
        Servers, >= 0 (fractional values interpolate between neighbours).
    load
        Offered load in Erlangs, >= 0.

    Returns
    -------
    ndarray
        Probability of waiting in [0, 1]; 0 at zero load.
    """
    n, a = _floats(agents, load)
    _check_nonnegative("agents", n)
    _check_nonnegative("load", a)
    return _interpolated(n, lambda k: _erlang_c_int(k, a))


def _service_level_int(n, a, aht_s, target_s):
    c = _erlang_c_int(n, a)
    with np.errstate(over="ignore", invalid="ignore"):
        decay = np.exp(-(n - a) * target_s / aht_s)
    sl = 1.0 - c * decay
    sl = np.where(n > a, sl, 0.0)
    return np.where(a == 0, 1.0, np.clip(sl, 0.0, 1.0))


def service_level(
    agents: ArrayLike, load: ArrayLike, aht_s: ArrayLike, target_s: ArrayLike
) -> FloatArray:
    """Erlang C service level: probability an arrival waits at most ``target_s`` seconds.

    ``P(W <= t) = 1 - C(n, A) exp(-(n - A) t / AHT)`` (Gross et al. 2008, eq. 2.41).

    Parameters
    ----------
    agents
        Servers, >= 0 (fractional values interpolate between neighbours).
    load
        Offered load in Erlangs, >= 0.
    aht_s
        Average handle time in seconds, > 0.
    target_s
        Answer-time target in seconds, >= 0.

    Returns
    -------
    ndarray
        Service level in [0, 1]: 0 where ``load >= agents``, 1 at zero load.
    """
    n, a, h, t = _floats(agents, load, aht_s, target_s)
    _check_nonnegative("agents", n)
    _check_nonnegative("load", a)
    _check_nonnegative("target_s", t)
    _check_positive("aht_s", h)
    return _interpolated(n, lambda k: _service_level_int(k, a, h, t))


def _asa_int(n, a, aht_s):
    c = _erlang_c_int(n, a)
    with np.errstate(divide="ignore", invalid="ignore"):
        wait = c * aht_s / (n - a)
    wait = np.where(n > a, wait, np.inf)
    return np.where(a == 0, 0.0, wait)


def asa(agents: ArrayLike, load: ArrayLike, aht_s: ArrayLike) -> FloatArray:
    """Erlang C average speed of answer (mean wait over all arrivals), in seconds.

    ``ASA = C(n, A) AHT / (n - A)`` (Gross et al. 2008, eq. 2.38).

    Parameters
    ----------
    agents
        Servers, >= 0 (fractional values interpolate the reciprocal of ASA).
    load
        Offered load in Erlangs, >= 0.
    aht_s
        Average handle time in seconds, > 0.

    Returns
    -------
    ndarray
        Mean wait in seconds; ``inf`` where ``load >= agents``, 0 at zero load.
    """
    n, a, h = _floats(agents, load, aht_s)
    _check_nonnegative("agents", n)
    _check_nonnegative("load", a)
    _check_positive("aht_s", h)
    return _interpolated(n, lambda k: _asa_int(k, a, h), reciprocal=True)


def occupancy(agents: ArrayLike, load: ArrayLike) -> FloatArray:
    """Share of agents' time spent handling contacts: ``min(load / agents, 1)``.

    Parameters
    ----------
    agents
        Servers, >= 0 (may be fractional).
    load
        Offered load in Erlangs, >= 0.

    Returns
    -------
    ndarray
        Occupancy in [0, 1]; 0 at zero load, 1 where ``load >= agents``.
    """
    n, a = _floats(agents, load)
    _check_nonnegative("agents", n)
    _check_nonnegative("load", a)
    with np.errstate(divide="ignore", invalid="ignore"):
        occ = np.where(n > 0, a / np.where(n > 0, n, 1.0), 1.0)
    return np.where(a == 0, 0.0, np.minimum(occ, 1.0))
