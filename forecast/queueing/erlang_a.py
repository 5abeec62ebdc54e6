"""Erlang A (Palm's M/M/n+M queue): callers abandon after exponential patience.

Model
-----
Poisson arrivals at rate ``lambda``, exponential handle times with mean ``AHT``
(rate ``mu = 1/AHT``), ``n`` agents, and each waiting caller abandons after an
exponential patience with mean ``patience_s`` (rate ``theta``). Write ``A = lambda/mu``
(Erlangs), ``x = n mu / theta`` and ``y = lambda / theta``. With Erlang B ``B = B(n, A)``
and the tail factor

    T(x, y) = sum_{j>=0} prod_{i=1}^{j} y / (x + i) = Gamma(x+1) e^y y^-x P(x, y)

(``P`` the regularised lower incomplete gamma function), the formulas of
Mandelbaum & Zeltyn (2007) are

* ``P(W > 0) = T B / (1 + (T - 1) B)``
* ``P(Ab | W > 0) = 1 - (1 - 1/T) / rho`` with ``rho = A / n``
* offered wait ``V``: ``P(V > t) = P(W > 0) P(x, y e^{-theta t}) / P(x, y)``

and, integrating the offered-wait density against the chance of still being
there, the chance of being answered within ``t`` after waiting is

    P(answered by t | W > 0) = (x / y) [P(x+1, y) - P(x+1, y e^{-theta t})] / P(x, y).

The mean wait of answered callers is summed over the state seen on arrival: a
caller finding ``j`` others waiting is answered with probability ``x / (x + j + 1)``
and, if answered, waited on average ``(psi(x+j+2) - psi(x+1)) / theta``.

Numerics
--------
Each point is computed by a compiled scalar kernel (numba). With ``P(x, z) = e(z)
T(x, z)``, ``e(z) = z^x e^-z / Gamma(x+1)``, every ratio above is a ratio of tail sums:
``P(x+1, z) = e(z) (T(x, z) - 1)`` and ``e(y p) / e(y) = p^x e^{y (1 - p)}``
(``p = e^{-theta t}``), and the yp series is ``p^j`` times the y series, so where
``y - x`` (the most likely queue) is at most 64 and ``y p <= x + 1`` (every sane
staffing level, light load included) one pass over ``j`` sums both tails and the
answered-wait sum, without special functions. Otherwise (many more callers than the
agents clear) ``P`` is near 1 and is taken as ``1 - Q`` with ``Q`` from Legendre's
continued fraction, and the answered wait is summed outwards from the peak of the
weights. Erlang B comes from its inverse series up to ``n = A + 1`` and Palm's Poisson
form above. Results are finite from 0.01 to 10,000 Erlangs and 1 to 20,000 agents. The
Erlang A search of :func:`~forecast.queueing.required_agents` is compiled here too,
with the kernel it calls.

Service level conventions
-------------------------
``service_level``
    Answered within ``target_s`` among *all* arrivals; callers who abandon (before
    or after the target) count as not answered in time. The strictest convention.
``service_level_answered``
    Answered within ``target_s`` among *answered* calls (abandons excluded).
``service_level_short_abandons_excluded``
    Answered within ``target_s`` among arrivals minus those who abandoned within
    ``target_s`` (the usual "short abandons excluded" convention).

References
----------
Palm, C. (1943). Intensitätsschwankungen im Fernsprechverkehr. Ericsson Technics 44.
Palm, C. (1957). Research on telephone traffic carried by full availability groups.
Tele 1 (English translation of the 1946 work on impatient subscribers).
Garnett, O., Mandelbaum, A., Reiman, M. (2002). Designing a call center with
impatient customers. Manufacturing & Service Operations Management 4(3), 208-227.
Mandelbaum, A., Zeltyn, S. (2007). Service engineering in action: the Palm/Erlang-A
queue, with applications to call centers. In Advances in Services Innovations,
Springer, 17-45.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import ArrayLike, NDArray

from .. import _numbacache
from .erlang import (
    _asa_int,
    _check_nonnegative,
    _check_positive,
    _erlang_c_int,
    _floats,
    _service_level_int,
    occupancy,
)

__all__ = ["ErlangAResult", "erlang_a"]

FloatArray = NDArray[np.float64]

_numbacache.configure()  # before the kernels below are compiled: they cache on disk


def _compiled(func):
    """Compile a scalar kernel with numba, cached on disk, with numpy's IEEE arithmetic
    (``x / 0`` and ``log 0`` give inf or NaN, no checks in the loops).

    numba's disk cache only watches the file of the function it caches, not the files
    of the functions it calls, so each compiled function and everything it calls are
    kept in one file: here (the Erlang C walk of :mod:`~forecast.queueing.required` calls
    none)."""
    return njit(cache=True, error_model="numpy")(func)


#: loads below this many Erlangs are zero to double precision (and 1 / load overflows)
_NEGLIGIBLE_LOAD = 1e-200
#: largest ``y - x`` (most likely number waiting) for which the tail sums start at j = 0
_SUM_FROM_ZERO_UP_TO = 64.0
#: relative size of the last term kept by the series
_TOL = 1e-18
#: continued fractions stop when a step changes the value by less than this
_CF_TOL = 1e-16


@dataclass(frozen=True)
class ErlangAResult:
    """Erlang A metrics, one array element per interval.

    Attributes
    ----------
    p_wait
        Probability an arrival has to wait (finds all agents busy).
    p_abandon
        Probability an arrival abandons.
    service_level
        Answered within the target among all arrivals (abandons count as failures).
    service_level_answered
        Answered within the target among answered calls.
    service_level_short_abandons_excluded
        Answered within the target among arrivals who did not abandon within it.
    p_abandon_within_target
        Probability an arrival abandons within the target time.
    asa_s
        Average speed of answer of answered calls, seconds (``inf`` if none answered).
    mean_wait_s
        Mean time in queue over all arrivals, seconds (``p_abandon * patience_s``).
    occupancy
        Carried load per agent: ``A (1 - p_abandon) / n``.
    """

    p_wait: FloatArray
    p_abandon: FloatArray
    service_level: FloatArray
    service_level_answered: FloatArray
    service_level_short_abandons_excluded: FloatArray
    p_abandon_within_target: FloatArray
    asa_s: FloatArray
    mean_wait_s: FloatArray
    occupancy: FloatArray


@_compiled
def _inverse_b(n: float, a: float) -> float:
    """``1 / B(n, A)`` for one whole ``n >= 0`` and ``A > 0`` with ``n <= A + 1``.

    ``1 / B(n, A) = sum_{j=0}^{n} t_j``, ``t_j = prod_{i<j} (n - i) / A``: the ratio of
    consecutive terms is ``(n - j) / A <= 1`` after the first, so the terms only fall and
    the sum stops once they are below 1e-18 of it (about ``sqrt(84 A)`` terms at
    ``n ~ A``). Two terms per step, ``t_{j+2} = t_j r_j r_{j+1}`` with ``r_j = (n - j) /
    A``, so the chain of dependent multiplications is half as long.
    """
    inv_a = 1.0 / a  # inf for a subnormal load: then so is the sum, not NaN
    term = 1.0
    total = 1.0
    j = 0.0
    while j + 1.0 < n:
        r0 = (n - j) * inv_a
        r1 = (n - j - 1.0) * inv_a
        first = term * r0
        term = term * (r0 * r1)
        total += first + term
        j += 2.0
        if first <= _TOL * total:
            return total
    if j < n:  # the last term, t_n
        total += term * (n - j) * inv_a
    return total


@_compiled
def _inverse_b_points(n, a, out):
    """:func:`_inverse_b` over flat arrays into ``out`` (entries with ``a <= 0`` untouched)."""
    for i in range(a.size):
        if a[i] > 0.0:
            out[i] = _inverse_b(n[i], a[i])


@_compiled
def _log_erlang_b_point(n: float, a: float) -> float:
    """``log B(n, A)`` for one whole ``n >= 1`` and ``A > 0``, compiled (as
    :func:`~forecast.queueing.erlang.log_erlang_b`).

    Up to ``n = A + 1`` the inverse series of :func:`_inverse_b`; above it Palm's
    form ``B = p(n) / P(X <= n)`` with ``X ~ Poisson(A)``, ``log p(n) = n log A - A -
    log n!`` and ``P(X > n) = p(n) sum_{j>=1} prod_{i=1}^{j} A / (n + i)`` (terms falling
    by at least ``A / (n + 1) < 1``).
    """
    if n <= a + 1.0:
        return -math.log(_inverse_b(n, a))
    log_pmf = n * math.log(a) - a - math.lgamma(n + 1.0)
    term = 1.0
    above = 0.0
    j = 1.0
    while True:
        term *= a / (n + j)
        above += term
        j += 1.0
        if term <= _TOL * above:
            break
    return min(log_pmf - math.log1p(-math.exp(log_pmf) * above), 0.0)


@_compiled
def _log_erlang_b_next(log_b: float, n: float, a: float) -> float:
    """``log B(n + 1, A)`` from ``log B(n, A)``: ``B(n+1) = A B / (n + 1 + A B)`` (stable)."""
    ab = a * math.exp(log_b)
    return log_b + math.log(a) - math.log(n + 1.0 + ab)


@_compiled
def _tail_sums(x: float, y: float, p: float, want_wait: bool):
    """Tail sums from ``j = 0`` over ``q_j = prod_{i=1}^{j} y / (x + i)``, for ``y - x <= 64``
    (see :func:`_conditional_given_wait` for where they are used).

    Returns ``M1(y) = sum_{j>=1} q_j`` (so ``T(x, y) = 1 + M1(y)``), ``M1(y p) =
    sum_{j>=1} p^j q_j`` and the answered-wait sum ``W(y) = sum_{j>=0} q_j x / (x + j + 1)
    H_j`` with ``H_j = sum_{i=1}^{j+1} 1 / (x + i) = psi(x + j + 2) - psi(x + 1)`` (0
    unless ``want_wait``). The terms rise while ``x + j < y`` and then fall, peaking
    below ``e^65``; the sum stops at the first term below 1e-18 of it, which can only be
    past the peak and also bounds the ``p^j q_j`` series.
    """
    r = 1.0 / (x + 1.0)
    q = 1.0
    p_j = 1.0
    m1 = 0.0
    m1p = 0.0
    harmonic = r
    wait = r * harmonic
    j = 1.0
    while True:
        q *= y * r
        p_j *= p
        m1 += q
        m1p += q * p_j
        r = 1.0 / (x + j + 1.0)
        if want_wait:
            harmonic += r
            wait += q * r * harmonic
        if q <= _TOL * m1:
            break
        j += 1.0
    return m1, m1p, wait * x


@_compiled
def _digamma(v: float) -> float:
    """``psi(v)`` for ``v > 0``: recurrence up to ``v >= 10``, then the asymptotic series."""
    shift = 0.0
    while v < 10.0:
        shift -= 1.0 / v
        v += 1.0
    w = 1.0 / (v * v)
    series = w * (1.0 / 12 - w * (1.0 / 120 - w * (1.0 / 252 - w * (1.0 / 240 - w / 132))))
    return shift + math.log(v) - 0.5 / v - series


@_compiled
def _answered_wait_ratio(x: float, y: float) -> float:
    """``W(y) / T(x, y)`` (see :func:`_tail_sums`) summed outwards from the peak ``j = m``.

    For ``y > x + 1`` (where :func:`_tail_sums` is not used): weights scaled so ``q_m =
    1``, ``m = floor(y - x)``, stepped by ``q_{j+1} = q_j y / (x + j + 1)`` upwards and
    ``q_{j-1} = q_j (x + j) / y`` downwards until below 1e-18 of the sum, with ``H_m =
    psi(x + m + 2) - psi(x + 1)``; no overflow however far the peak, and the scale
    cancels in the ratio.
    """
    m = math.floor(y - x)
    h_m = _digamma(x + m + 2.0) - _digamma(x + 1.0)
    total = 0.0
    wait = 0.0
    q = 1.0
    j = m
    harmonic = h_m
    while True:  # j = m, m + 1, ...
        r = 1.0 / (x + j + 1.0)
        total += q
        wait += q * r * harmonic
        q *= y * r
        j += 1.0
        harmonic += 1.0 / (x + j + 1.0)
        if q <= _TOL * total:
            break
    q = 1.0
    j = m
    harmonic = h_m
    while j > 0.0:  # j = m - 1, ..., 0
        q *= (x + j) / y
        harmonic -= 1.0 / (x + j + 1.0)
        j -= 1.0
        total += q
        wait += q * harmonic / (x + j + 1.0)
        if q <= _TOL * total:
            break
    return x * wait / total


@_compiled
def _log_gamma_density(x: float, z: float) -> float:
    """``log e(z) = x log z - z - log Gamma(x + 1)`` for ``x, z > 0``.

    For ``x >= 30`` the three large terms are not added up (that would lose
    ``eps x log x``): with ``mu = (z - x) / x`` and Stirling's series,
    ``log e(z) = -x (mu - log(1 + mu)) - log(2 pi x) / 2 - 1/(12 x) + 1/(360 x^3) -
    1/(1260 x^5) + 1/(1680 x^7)``, and for ``|mu| < 1/2``, with ``v = mu / (2 + mu)``,
    ``mu - log(1 + mu) = mu v - 2 (v^3/3 + v^5/5 + ...)`` (``log(1 + mu) = 2 atanh v``).
    """
    if x < 30.0:
        return x * math.log(z) - z - math.lgamma(x + 1.0)
    mu = (z - x) / x
    if abs(mu) < 0.5:
        v = mu / (2.0 + mu)
        v2 = v * v
        power = v * v2
        k = 3.0
        odd = 0.0
        while abs(power) > 1e-17 * abs(mu * v):
            odd += power / k
            power *= v2
            k += 2.0
        excess = mu * v - 2.0 * odd  # mu - log(1 + mu)
    else:
        excess = mu - math.log1p(mu)
    w = 1.0 / (x * x)
    stirling = (1.0 / 12.0 - w * (1.0 / 360.0 - w * (1.0 / 1260.0 - w / 1680.0))) / x
    return -x * excess - 0.5 * math.log(2.0 * math.pi * x) - stirling


@_compiled
def _upper_gamma_q(a: float, z: float, log_e: float) -> float:
    """Regularised upper incomplete gamma ``Q(a, z)`` for ``z > a + 1``.

    Legendre's continued fraction ``Q(a, z) = z^a e^-z / Gamma(a) * 1 / (z + 1 - a -
    1 (1 - a) / (z + 3 - a - 2 (2 - a) / (z + 5 - a - ...)))`` by the modified Lentz
    method (Press et al., Numerical Recipes, 3rd ed., section 6.2), with
    ``z^a e^-z / Gamma(a) = a exp(log_e)``, ``log_e = a log z - z - log Gamma(a + 1)``.
    """
    tiny = 1e-300
    b = z + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    frac = d
    i = 1.0
    while i < 1e6:
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        if abs(d) < tiny:
            d = tiny
        c = b + an / c
        if abs(c) < tiny:
            c = tiny
        d = 1.0 / d
        step = d * c
        frac *= step
        if abs(step - 1.0) < _CF_TOL:
            break
        i += 1.0
    return a * math.exp(log_e) * frac


@_compiled
def _expit(v: float) -> float:
    """Logistic function ``1 / (1 + e^-v)`` without overflow."""
    if v >= 0.0:
        return 1.0 / (1.0 + math.exp(-v))
    e = math.exp(v)
    return e / (1.0 + e)


@_compiled
def _clip(v: float, lo: float, hi: float) -> float:
    """``v`` limited to ``[lo, hi]``."""
    return min(max(v, lo), hi)


@_compiled
def _conditional_given_wait(x: float, y: float, p: float, log_scale: float, want_wait: bool):
    """The model's quantities given that the caller waits, for one point.

    Returns ``log T(x, y)``, ``P(Ab | W > 0) = 1 - (x / y) (1 - 1 / T)``, the ratio
    ``P(x, yp) / P(x, y)`` (``yp = y p``), ``P(answered by t | W > 0) = (x / y)
    [P(x+1, y) - P(x+1, yp)] / P(x, y)`` and the answered-wait sum over ``T``;
    ``log_scale = log(e(yp) / e(y))`` (see the module notes).

    Where ``yp <= x + 1`` and ``y - x <= 64`` (ordinary and light load) all come from the
    sums of :func:`_tail_sums`, no special function needed. Otherwise the callers
    outnumber what the agents clear: ``P(x, y)`` is near 1 and is taken as ``1 - Q(x,
    y)`` (:func:`_upper_gamma_q`), and likewise at ``yp`` above ``x + 1``, so that the
    difference of two ``P`` close to 1 keeps its digits (:func:`_log_gamma_density`
    gives ``e(y)`` there; :func:`_answered_wait_ratio` the answered wait).
    """
    x_over_y = x / y
    yp = y * p
    if yp <= x + 1.0 and y - x <= _SUM_FROM_ZERO_UP_TO:
        m1y, m1p, wait = _tail_sums(x, y, p, want_wait)
        tail = 1.0 + m1y
        scale = math.exp(log_scale)
        log_t = math.log(tail)
        abandon = (tail - x_over_y * m1y) / tail
        ratio_r = scale * (1.0 + m1p) / tail
        answered = x_over_y * (m1y - scale * m1p) / tail
        wait_ratio = wait / tail if want_wait else 0.0
        return log_t, abandon, ratio_r, answered, wait_ratio
    log_ey = _log_gamma_density(x, y)
    log_eyp = log_ey + log_scale
    q_y = _upper_gamma_q(x, y, log_ey)
    p_y = 1.0 - q_y
    if yp > x + 1.0:
        q_yp = _upper_gamma_q(x, yp, log_eyp)
        p_yp = 1.0 - q_yp
        drop = q_yp - q_y  # P(x, y) - P(x, yp)
    else:
        m1p = _tail_sums(x, yp, 1.0, False)[0]
        p_yp = math.exp(log_eyp) * (1.0 + m1p)
        drop = p_y - p_yp
    log_t = math.log(p_y) - log_ey
    abandon = 1.0 + x_over_y * math.expm1(-log_t)
    ratio_r = p_yp / p_y
    answered = x_over_y * (drop - (math.exp(log_ey) - math.exp(log_eyp))) / p_y
    wait_ratio = _answered_wait_ratio(x, y) if want_wait else 0.0
    return log_t, abandon, ratio_r, answered, wait_ratio


@_compiled
def _erlang_a_point(n, lam, aht_s, patience_s, target_s, log_b, want_asa):
    """Erlang A metrics for one whole number of agents ``n`` (compiled).

    ``log_b = log B(n, A)`` is passed in so a caller stepping through ``n`` can update it
    by the Erlang B recursion. Returns ``p_wait, p_abandon, service_level,
    p_abandon_within_target, asa_s, occupancy`` (``asa_s`` NaN unless ``want_asa``):
    ``P(W>0) = T B / (1 + (T - 1) B)``, ``P(Ab) = P(W>0) P(Ab | W>0)``, service level
    ``1 - P(W>0) + P(W>0) P(answered by t | W>0)``, abandoned within ``t``
    ``P(W>0) (1 - P(V > t | W>0) - P(answered by t | W>0))`` (still waiting at ``t``
    is ``p P(V > t | W>0)`` of the callers waiting with ``p = e^{-theta t}``, the chance
    of still being patient), ASA ``P(W>0) (W / T) / (theta (1 - P(Ab)))`` and occupancy
    ``A (1 - P(Ab)) / n``.
    """
    nan = math.nan
    load = lam * aht_s
    if n == 0.0:
        if lam > 0.0:  # no agents, some arrivals: everyone waits and abandons
            ab_t = -math.expm1(-target_s / patience_s)
            return 1.0, 1.0, 0.0, ab_t, math.inf if want_asa else nan, 1.0
        return 0.0, 0.0, 1.0, 0.0, 0.0 if want_asa else nan, 0.0
    if not load > _NEGLIGIBLE_LOAD:
        return 0.0, 0.0, 1.0, 0.0, 0.0 if want_asa else nan, min(load / n, 1.0)
    x = n * patience_s / aht_s
    y = lam * patience_s
    p = math.exp(-target_s / patience_s)
    log_scale = -x * target_s / patience_s - y * math.expm1(-target_s / patience_s)
    log_t, abandon, ratio_r, answered, wait_ratio = _conditional_given_wait(
        x, y, p, log_scale, want_asa)
    abandon = _clip(abandon, 0.0, 1.0)
    ratio_r = _clip(ratio_r, 0.0, 1.0)
    answered = _clip(answered, 0.0, 1.0)
    # P(W > 0) = T B / (1 + (T - 1) B) = 1 / (1 + (1 - B) / (B T)), in log space
    p_wait = _expit(log_b + log_t - math.log(-math.expm1(log_b)))
    p_ab = p_wait * abandon
    sl = _clip((1.0 - p_wait) + p_wait * answered, 0.0, 1.0)
    ab_t = _clip(p_wait * (1.0 - ratio_r * p - answered), 0.0, p_ab)
    occ = min(load * (1.0 - p_ab) / n, 1.0)
    asa_s = nan
    if want_asa:
        asa_s = p_wait * wait_ratio * patience_s / (1.0 - p_ab) if p_ab < 1.0 else math.inf
    return p_wait, p_ab, sl, ab_t, asa_s, occ


@_compiled
def _erlang_a_points(n, lam, aht_s, patience_s, target_s, want_asa, out):
    """:func:`_erlang_a_point` over flat arrays; column ``i`` of ``out`` gets its six metrics."""
    for i in range(n.size):
        log_b = 0.0
        load = lam[i] * aht_s[i]
        if n[i] > 0.0 and load > _NEGLIGIBLE_LOAD:
            log_b = _log_erlang_b_point(n[i], load)
        metrics = _erlang_a_point(n[i], lam[i], aht_s[i], patience_s[i], target_s[i], log_b,
                                  want_asa)
        for k in range(6):
            out[k, i] = metrics[k]


# Required agents under Erlang A: the search of forecast.queueing.required, compiled here
# with the point kernel it calls (see _compiled).

#: logits and logs of the targets are clipped to this size for the secant
_LOGIT_CAP = 40.0
#: whole numbers of agents are exact in floating point up to here
_MAX_AGENTS = 2.0**53


@_compiled
def _logit(v: float) -> float:
    """``log(v / (1 - v))`` clipped to ``[-40, 40]`` (so 0 and 1 stay finite)."""
    return _clip_to(math.log(v) - math.log1p(-v), _LOGIT_CAP)


@_compiled
def _clip_to(v: float, cap: float) -> float:
    """``v`` limited to ``[-cap, cap]``."""
    return min(max(v, -cap), cap)


@_compiled
def _nan_min(u: float, v: float) -> float:
    """``numpy.minimum`` for two floats: NaN if either is NaN."""
    if u != u or v != v:
        return math.nan
    return min(u, v)


@_compiled
def _margins(m, sl, max_ab, max_occ, max_asa, has_asa):
    """Margins of the targets at one point, ``m`` as returned by :func:`_erlang_a_point`.

    ``g``: the smallest of ``SL - s``, ``max_ab - P(Ab)``, ``max_occ - occupancy`` and
    (with an ASA target) ``max((max_asa - ASA) / max_asa, -1)``; all targets are met
    exactly when ``g >= 0``. ``u``: the same targets on a logit scale (log for ASA),
    nearly linear in the agents where the metrics saturate near 0 or 1, so that a secant
    through two points predicts the answer well; used only to choose the next point.
    """
    p_ab, sl_n, asa_s, occ = m[1], m[2], m[4], m[5]
    g = _nan_min(_nan_min(sl_n - sl, max_ab - p_ab), max_occ - occ)
    u = math.inf
    if sl > 0.0:
        u = min(u, _logit(sl_n) - _logit(sl))
    if max_ab < 1.0:
        u = min(u, _logit(max_ab) - _logit(p_ab))
    if max_occ < 1.0:
        u = min(u, _logit(max_occ) - _logit(occ))
    if has_asa and max_asa < math.inf:
        asa_margin = -math.inf if asa_s == math.inf else (max_asa - asa_s) / max_asa
        g = _nan_min(g, max(asa_margin, -1.0))
        u = min(u, _clip_to(math.log(max_asa) - math.log(asa_s), _LOGIT_CAP))
    return g, u


@_compiled
def _log_b_near(n, load, n_known, log_b_known):
    """``log B(n, A)``: one step of Erlang B's recursion from ``n +- 1`` when that one is
    known (``B(n+1) = A B / (n + 1 + A B)``; downwards ``B(n-1) = n B / (A (1 - B))``,
    only while ``B <= 1/2``), else afresh."""
    if n == n_known + 1.0:
        return _log_erlang_b_next(log_b_known, n_known, load)
    if n == n_known - 1.0 and log_b_known <= -math.log(2.0):
        return (math.log(n_known) + log_b_known - math.log(load)
                - math.log1p(-math.exp(log_b_known)))
    return _log_erlang_b_point(n, load)


@_compiled
def _next_probe(n, u, prev_n, prev_u, g, lo, hi, rounds):
    """Next number of agents to try, strictly inside the bracket ``(lo, hi)``.

    First the neighbour on the side of the answer; then the secant through the last two
    points on the logit scale, rounded up; bisection after 12 rounds (or if the secant is
    undefined) once an upper end is known, doubling until then."""
    if prev_n != prev_n:
        nxt = n - 1.0 if g >= 0.0 else n + 1.0
    elif u != prev_u and math.isfinite(u - prev_u):
        nxt = math.ceil(n - u * (n - prev_n) / (u - prev_u))
    else:
        nxt = math.nan
    if hi == math.inf:
        if not math.isfinite(nxt) or rounds > 8:
            nxt = max(nxt, 2.0 * lo + 1.0) if math.isfinite(nxt) else 2.0 * lo + 1.0
        return max(nxt, lo + 1.0)
    if not math.isfinite(nxt) or rounds > 12:
        nxt = math.floor((lo + hi) / 2.0)
    return min(max(nxt, lo + 1.0), hi - 1.0)


@_compiled
def _erlang_a_search(a, h, pat, t, sl, max_ab, max_occ, max_asa, has_asa, order, out):
    """Fewest agents meeting the Erlang A targets, one interval at a time (compiled).

    Keeps a bracket ``(lo, hi)`` with ``lo`` failing and ``hi`` meeting every target,
    starting from the lower bound ``n < s A`` and ``n < A (1 - max_ab)`` (at most ``n / A``
    of the calls can be answered); each round evaluates one point inside it
    (:func:`_next_probe`) until ``hi = lo + 1``. Intervals are taken in increasing load
    (``order``), and the first point tried is the previous interval's answer carried over
    as ``n = A + beta sqrt(A)`` with its ``beta``: the staffing of neighbouring loads
    differs little, so the first two points usually bracket the answer. Column ``i`` of
    ``out`` gets ``hi`` (row 0), the service level, abandonment, occupancy and ASA at
    ``hi`` (rows 1-4) and at ``hi - 1`` (rows 5-8), and the number of points evaluated.
    """
    beta = 0.0
    for i in order:
        load = a[i]
        if not load > 0.0:
            continue
        lam = load / h[i]
        args = (lam, h[i], pat[i], t[i])
        lo = max(math.ceil(sl[i] * load) - 1.0, math.ceil(load * (1.0 - max_ab[i])) - 1.0, 0.0)
        lo_known = lo == 0.0
        if lo_known:  # no agents: nobody is served
            _store(out, i, 5, _erlang_a_point(0.0, *args, 0.0, True))
        hi = math.inf
        root = load + beta * math.sqrt(load) - 0.5
        n = max(lo + 1.0, math.ceil(root))
        prev_n = prev_u = b_n = log_b = lo_u = hi_u = math.nan
        rounds = 0
        while True:
            log_b = _log_b_near(n, load, b_n, log_b)
            b_n = n
            m = _erlang_a_point(n, *args, log_b, True)
            g, u = _margins(m, sl[i], max_ab[i], max_occ[i], max_asa[i], has_asa)
            if g != g or n > _MAX_AGENTS:  # cannot happen for valid input; never loop on it
                raise FloatingPointError("Erlang A search met a NaN margin or no answer")
            rounds += 1
            if g >= 0.0:
                hi = n
                hi_u = u
                _store(out, i, 1, m)
            else:
                lo = n
                lo_u = u
                lo_known = True
                _store(out, i, 5, m)
            if hi - lo <= 1.0:
                break
            nxt = _next_probe(n, u, prev_n, prev_u, g, lo, hi, rounds)
            prev_n, prev_u, n = n, u, nxt
        if not lo_known:
            _store(out, i, 5, _erlang_a_point(lo, *args, _log_b_near(lo, load, b_n, log_b), True))
            rounds += 1
        # where the answer lies in (hi - 1, hi] on the logit scale, for the next start
        frac = hi_u / (hi_u - lo_u) if math.isfinite(hi_u - lo_u) and hi_u > lo_u else 0.5
        beta = (hi - min(max(frac, 0.0), 1.0) - load) / math.sqrt(load)
        out[0, i] = hi
        out[9, i] = rounds


@_compiled
def _store(out, i, col, m):
    """Service level, abandonment, occupancy and ASA of ``m`` into ``out[col:col + 4, i]``."""
    out[col, i] = m[2]
    out[col + 1, i] = m[1]
    out[col + 2, i] = m[5]
    out[col + 3, i] = m[4]


#: the metrics of :func:`_erlang_a_point`, in its order
_POINT_KEYS = ("p_wait", "p_abandon", "service_level", "p_abandon_within_target", "asa_s",
               "occupancy")


def _erlang_a_int(n, lam, aht_s, patience_s, target_s) -> dict:
    """Erlang A metrics for integer agents on flat float arrays of equal length."""
    out = np.empty((len(_POINT_KEYS), n.size))
    _erlang_a_points(n, lam, aht_s, patience_s, target_s, True, out)
    return dict(zip(_POINT_KEYS, out, strict=True))


def _finish(raw: dict, patience_s: FloatArray) -> dict:
    sl = raw["service_level"]
    p_ab = raw["p_abandon"]
    with np.errstate(divide="ignore", invalid="ignore"):
        sl_ans = np.where(p_ab < 1.0, sl / (1.0 - p_ab), 0.0)
        sl_excl = np.where(
            raw["p_abandon_within_target"] < 1.0, sl / (1.0 - raw["p_abandon_within_target"]), 0.0
        )
    raw["service_level_answered"] = np.clip(sl_ans, 0.0, 1.0)
    raw["service_level_short_abandons_excluded"] = np.clip(sl_excl, 0.0, 1.0)
    raw["mean_wait_s"] = p_ab * patience_s
    return raw


def erlang_a(
    agents: ArrayLike,
    arrival_rate_per_s: ArrayLike | None = None,
    aht_s: ArrayLike | None = None,
    patience_s: ArrayLike | None = None,
    target_s: ArrayLike | None = None,
    *,
    load: ArrayLike | None = None,
) -> ErlangAResult:
    """Erlang A (M/M/n+M) metrics for each interval.

    Parameters
    ----------
    agents
        Agents, >= 0. Fractional values interpolate linearly between the metrics at
        the neighbouring integers (ASA through its reciprocal).
    arrival_rate_per_s
        Arrival rate, contacts per second, >= 0. Give either this or ``load``.
    aht_s
        Average handle time, seconds, > 0 (required).
    patience_s
        Mean patience of waiting callers, seconds, > 0 (exponential patience;
        required). ``inf`` means nobody abandons: those elements are Erlang C's
        M/M/n metrics (:mod:`~forecast.queueing.erlang`).
    target_s
        Answer-time target for the service level, seconds, >= 0 (required).
    load
        Keyword-only alternative to ``arrival_rate_per_s``: the offered load in
        Erlangs (arrival rate x ``aht_s``), as :func:`~forecast.queueing.erlang_c`
        takes it. Exactly one of the two must be given.

    Returns
    -------
    ErlangAResult
        Arrays shaped like the broadcast inputs; see the class for conventions.

    Raises
    ------
    TypeError
        When ``aht_s``, ``patience_s`` or ``target_s`` is missing, or not exactly one of
        ``arrival_rate_per_s`` and ``load`` is given.
    ValueError
        When an argument is NaN, out of range, or infinite (other than ``patience_s``).

    Notes
    -----
    Formulas of Mandelbaum & Zeltyn (2007), see the module docstring. Zero arrivals
    give ``p_wait = p_abandon = 0``, service level 1, ASA 0, occupancy 0; zero agents
    with arrivals give ``p_abandon = 1``, service level 0, ASA ``inf``. With infinite
    patience ``p_abandon`` is 0, every service level is Erlang C's, ``asa_s`` and
    ``mean_wait_s`` are Erlang C's ASA and occupancy is ``min(load / agents, 1)``.
    """
    missing = [name for name, v in (("aht_s", aht_s), ("patience_s", patience_s),
                                    ("target_s", target_s)) if v is None]
    if missing:
        raise TypeError(f"erlang_a() missing required argument(s): {', '.join(missing)}")
    if (arrival_rate_per_s is None) == (load is None):
        raise TypeError("erlang_a() takes exactly one of arrival_rate_per_s and load; got "
                        + ("both" if load is not None else "neither"))
    rate_name = "arrival_rate_per_s" if load is None else "load"
    n, lam, h, pat, t = _floats(agents, arrival_rate_per_s if load is None else load, aht_s,
                                patience_s, target_s)
    _check_nonnegative("agents", n)
    _check_nonnegative(rate_name, lam)
    _check_nonnegative("target_s", t)
    _check_positive("aht_s", h)
    if np.any(~(pat > 0)):
        raise ValueError(f"patience_s must be a number > 0 (inf: no abandonment); got "
                         f"{float(pat[~(pat > 0)].flat[0])!r}")
    if load is not None:
        lam = lam / h
    shape = n.shape
    flat = [v.ravel() for v in (n, lam, h, pat, t)]
    low = np.floor(flat[0])
    high = np.ceil(flat[0])
    frac = flat[0] - low
    raw = _metrics_int(low, *flat[1:])
    if np.any(frac > 0):
        up = _metrics_int(high, *flat[1:])
        for key in raw:
            lo_v, hi_v = raw[key], up[key]
            if key == "asa_s":
                with np.errstate(divide="ignore"):
                    r = 1.0 / lo_v + frac * (1.0 / hi_v - 1.0 / lo_v)
                    raw[key] = np.where(frac > 0, 1.0 / r, lo_v)
            else:
                with np.errstate(invalid="ignore"):  # inf - inf: an endless wait either side
                    raw[key] = np.where(frac > 0, lo_v + frac * (hi_v - lo_v), lo_v)
        endless = np.isinf(flat[3])
        if endless.any():  # Erlang C's own figures at fractional agents
            raw["mean_wait_s"] = np.where(endless, raw["asa_s"], raw["mean_wait_s"])
            raw["occupancy"][endless] = occupancy(flat[0][endless],
                                                  (flat[1] * flat[2])[endless])
    return ErlangAResult(**{k: v.reshape(shape) for k, v in raw.items()})


def _metrics_int(n, lam, aht_s, patience_s, target_s) -> dict:
    """Every Erlang A metric for integer agents on flat arrays; Erlang C's where the
    patience is infinite (the compiled kernel never sees an infinite patience)."""
    endless = np.isinf(patience_s)
    if not endless.any():
        return _finish(_erlang_a_int(n, lam, aht_s, patience_s, target_s), patience_s)
    finite = np.where(endless, 1.0, patience_s)
    raw = _finish(_erlang_a_int(n, lam, aht_s, finite, target_s), finite)
    k, h, t = n[endless], aht_s[endless], target_s[endless]
    a = lam[endless] * h
    sl = _service_level_int(k, a, h, t)
    asa_s = _asa_int(k, a, h)
    erlang_c = {"p_wait": _erlang_c_int(k, a), "p_abandon": 0.0, "service_level": sl,
                "service_level_answered": sl, "service_level_short_abandons_excluded": sl,
                "p_abandon_within_target": 0.0, "asa_s": asa_s, "mean_wait_s": asa_s,
                "occupancy": occupancy(k, a)}
    for key, value in erlang_c.items():
        raw[key][endless] = value
    return raw
