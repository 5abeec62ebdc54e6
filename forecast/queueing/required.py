"""Required agents: the fewest agents meeting every target, for many intervals at once.

Constraints (each optional except where noted)
----------------------------------------------
``service_level``
    Share answered within ``target_s`` (Erlang C; Erlang A among all arrivals).
``asa``
    Average speed of answer at most ``max_asa_s`` (Erlang C over all arrivals; Erlang A
    over answered calls).
``occupancy``
    Occupancy at most ``max_occupancy`` (Erlang C: ``load / n``; Erlang A: carried
    load ``load (1 - p_abandon) / n``).
``abandonment``
    Share abandoning at most ``max_abandon`` (Erlang A only: needs ``patience_s``).

Every metric is monotone in the number of agents, so the answer is the largest of
the per-constraint minima; the constraint(s) that fail one agent below the answer
are the binding ones (reported by the first in the order above; ``stability`` when
only ``n > load`` holds it up under Erlang C, ``none`` at zero load).

Integer and fractional answers
------------------------------
``agents_integer`` is the exact minimal whole number. ``agents_fractional`` is the
continuous answer obtained by interpolating each binding metric linearly between
``n - 1`` and ``n`` agents (ASA through its reciprocal; Erlang C occupancy exactly as
``load / max_occupancy``) and solving for the target. It lies in ``(n - 1, n]``, is
continuous in the load, and equals the agents at which the metric functions of this
package (which interpolate the same way) meet the target exactly. Fractional
requirements of several queues can therefore be summed before rounding.

Speed
-----
Both searches are compiled (numba, cached on disk) and run one interval at a time.
Erlang C: the search starts at ``floor(A) + 1`` agents, where Erlang B is the inverse
of a short series (``1 / B(n, A) = sum_j prod_{i<j} (n - i) / A``, terms falling like
``exp(-j^2 / 2A)``), and climbs with the stable forward recursion
``1 / B(n+1) = 1 + (n + 1) / (A B(n))``. Erlang A: a bracketing search whose first
point carries over the answer of the next smaller load (intervals are visited in
increasing load) and whose next points come from a secant on a logit scale; each
point costs one evaluation of the Erlang A formulas (see
:mod:`~forecast.queueing.erlang_a`), Erlang B following the agents by its recursion,
and most intervals are settled by two points, the answer and one agent below it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .erlang import _floats
from .erlang_a import _compiled, _erlang_a_search, _inverse_b_points

__all__ = ["RequiredAgents", "required_agents", "CONSTRAINTS"]

FloatArray = NDArray[np.float64]

#: binding-constraint names, in the order used to break ties
CONSTRAINTS = ("service_level", "asa", "abandonment", "occupancy", "stability", "none")
_CONSTRAINT_NAMES = np.array(CONSTRAINTS)


@dataclass(frozen=True)
class RequiredAgents:
    """Answer of :func:`required_agents`, one element per interval.

    Attributes
    ----------
    agents
        ``agents_fractional`` if ``fractional=True`` was asked, else ``agents_integer``.
    binding
        Name of the constraint that set the number (see :data:`CONSTRAINTS`).
    agents_integer
        Minimal whole number of agents meeting every target (int64).
    agents_fractional
        Continuous requirement in ``(agents_integer - 1, agents_integer]``.
    service_level, asa_s, occupancy, abandonment
        Metrics at ``agents_integer`` (``abandonment`` is NaN without patience).
    """

    agents: NDArray
    binding: NDArray
    agents_integer: NDArray[np.int64]
    agents_fractional: FloatArray
    service_level: FloatArray
    asa_s: FloatArray
    occupancy: FloatArray
    abandonment: FloatArray


@_compiled
def _erlang_c_walk(a, h, t, miss, max_asa, n_occ, check_asa, out):
    """Climb from ``n = floor(A) + 1`` to the fewest agents meeting the Erlang C targets.

    Per interval (``A > 0``): ``1 / B(n, A)`` at the start is given in ``out[0]`` (see
    :func:`_erlang_c_search`); then upwards by Erlang B's recursion in its inverse form
    ``1 / B(n+1) = 1 + (n + 1) / (A B(n))`` (stable, no division in the chain), with
    ``C = n B / (n - A + A B) = n / ((n - A) / B + A)`` and the targets
    ``C exp(-(n - A) t / h) <= 1 - s``, ``C h / (n - A) <= max ASA`` and ``n >= n_occ``.
    Column ``i`` of ``out`` gets ``n, C, decay, C', decay'`` at the answer and one agent
    below it (``C' = 1``, ``decay' = 1`` when that one is not above the load).
    """
    for i in range(a.size):
        load = a[i]
        if not load > 0.0:
            continue
        inv_load = 1.0 / load
        n = math.floor(load) + 1.0
        inv_b = out[0, i]
        gap = n - load
        step = math.exp(-t[i] / h[i])
        decay = math.exp(-gap * t[i] / h[i])
        prev_c = 1.0  # at n - 1 <= A everyone waits
        prev_decay = 1.0
        while True:
            c = n / (gap * inv_b + load)
            if c != c:  # cannot happen for valid input; never loop on it
                raise FloatingPointError("Erlang C search met a NaN probability")
            if (c * decay <= miss[i] and n >= n_occ[i]
                    and (not check_asa or c * h[i] <= max_asa[i] * gap)):
                break
            prev_c, prev_decay = c, decay
            inv_b = 1.0 + (n + 1.0) * inv_load * inv_b
            n += 1.0
            gap += 1.0
            decay *= step
        out[0, i] = n
        out[1, i] = c
        out[2, i] = decay
        out[3, i] = prev_c
        out[4, i] = prev_decay


def _erlang_c_search(a, h, t, sl, max_asa, n_occ):
    """Minimal integer agents with Erlang C SL >= sl, ASA <= max_asa, n >= n_occ.

    Returns ``n, sl_n, asa_n, sl_prev, asa_prev`` (metrics at n and n - 1).
    """
    out = np.zeros((5, a.size))
    # 1 / B(floor(A) + 1, A), where its series is shortest (terms falling like exp(-j^2/2A))
    _inverse_b_points(np.floor(a) + 1.0, a, out[0])
    check_asa = bool(np.isfinite(max_asa).any())
    _erlang_c_walk(a, h, t, 1.0 - sl, max_asa, n_occ, check_asa, out)
    n, c, decay, prev_c, prev_decay = out
    gap = n - a
    loaded = a > 0
    sl_n = np.where(loaded, 1.0 - c * decay, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        asa_n = np.where(loaded, c * h / gap, 0.0)
        above = loaded & (gap > 1.0)  # n - 1 > A
        sl_prev = np.where(above, 1.0 - prev_c * prev_decay, 0.0)
        asa_prev = np.where(above, prev_c * h / (gap - 1.0), np.inf)
    return n, np.clip(sl_n, 0.0, 1.0), asa_n, np.clip(sl_prev, 0.0, 1.0), asa_prev


def _occupancy_floor(a: FloatArray, max_occupancy: FloatArray) -> FloatArray:
    """Smallest integer n with a / n <= max_occupancy (0 for zero load)."""
    n = np.ceil(a / max_occupancy)
    with np.errstate(divide="ignore", invalid="ignore"):
        lower_ok = (n - 1 > 0) & (a / (n - 1) <= max_occupancy)
    n = np.where(lower_ok, n - 1, n)
    return np.where(a > 0, np.maximum(n, 1.0), 0.0)


def _interp(prev, cur, target, n):
    """Agents in (n-1, n] where the linear interpolation of an increasing metric hits target."""
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = (target - prev) / (cur - prev)
    frac = np.where(np.isfinite(frac), np.clip(frac, 0.0, 1.0), 1.0)
    return n - 1.0 + frac


def _safe_reciprocal(v):
    with np.errstate(divide="ignore"):
        return np.where(v > 0, 1.0 / np.where(v > 0, v, 1.0), np.inf)


def required_agents(
    load: ArrayLike,
    aht_s: ArrayLike,
    service_level: ArrayLike | None,
    target_s: ArrayLike,
    *,
    max_asa_s: ArrayLike | None = None,
    max_occupancy: ArrayLike | None = None,
    patience_s: ArrayLike | None = None,
    max_abandon: ArrayLike | None = None,
    fractional: bool = False,
) -> RequiredAgents:
    """Fewest agents meeting every target, per interval (Erlang C, or Erlang A with patience).

    Parameters
    ----------
    load
        Offered load in Erlangs (arrival rate x AHT), >= 0.
    aht_s
        Average handle time, seconds, > 0.
    service_level
        Target share answered within ``target_s``, in [0, 1); ``None`` for no target.
    target_s
        Answer-time target, seconds, >= 0.
    max_asa_s
        Optional cap on the average speed of answer, seconds.
    max_occupancy
        Optional cap on occupancy, in (0, 1].
    patience_s
        Mean caller patience, seconds: switches to Erlang A (M/M/n+M).
    max_abandon
        Optional cap on the abandonment share (needs ``patience_s``).
    fractional
        Return the continuous requirement in ``agents`` (see module notes).

    Returns
    -------
    RequiredAgents
        Arrays shaped like the broadcast inputs.

    Raises
    ------
    ValueError
        For negative or non-finite loads, non-positive AHT, or targets out of range.
    """
    none = np.nan
    arrays = _floats(
        load,
        aht_s,
        0.0 if service_level is None else service_level,
        target_s,
        np.inf if max_asa_s is None else max_asa_s,
        1.0 if max_occupancy is None else max_occupancy,
        none if patience_s is None else patience_s,
        1.0 if max_abandon is None else max_abandon,
    )
    shape = arrays[0].shape
    a, h, sl, t, mx_asa, mx_occ, pat, mx_ab = (v.ravel() for v in arrays)
    _validate(a, h, sl, t, mx_asa, mx_occ, pat, mx_ab, patience_s is not None, max_abandon)
    if patience_s is None:
        res = _required_erlang_c(a, h, sl, t, mx_asa, mx_occ, service_level is not None)
    else:
        res = _required_erlang_a(a, h, sl, t, mx_asa, mx_occ, pat, mx_ab,
                                 service_level is not None, max_asa_s is not None)
    n_int, frac, binding, m_sl, m_asa, m_occ, m_ab = res
    n_int_i = n_int.astype(np.int64)
    return RequiredAgents(
        agents=(frac if fractional else n_int_i).reshape(shape),
        binding=binding.reshape(shape),
        agents_integer=n_int_i.reshape(shape),
        agents_fractional=frac.reshape(shape),
        service_level=m_sl.reshape(shape),
        asa_s=m_asa.reshape(shape),
        occupancy=m_occ.reshape(shape),
        abandonment=m_ab.reshape(shape),
    )


def _validate(a, h, sl, t, mx_asa, mx_occ, pat, mx_ab, has_patience, max_abandon) -> None:
    if np.any(~np.isfinite(a)) or np.any(a < 0):
        raise ValueError("load must be finite and >= 0 Erlangs")
    if np.any(~np.isfinite(h)) or np.any(h <= 0):
        raise ValueError("aht_s must be finite and > 0 seconds")
    if np.any(~(sl >= 0)) or np.any(sl >= 1):
        raise ValueError("service_level must be in [0, 1)")
    if np.any(~np.isfinite(t)) or np.any(t < 0):
        raise ValueError("target_s must be finite and >= 0 seconds")
    if np.any(~(mx_asa > 0)):
        raise ValueError("max_asa_s must be > 0 seconds")
    if np.any(~(mx_occ > 0)) or np.any(mx_occ > 1):
        raise ValueError("max_occupancy must be in (0, 1]")
    if has_patience and (np.any(~np.isfinite(pat)) or np.any(pat <= 0)):
        raise ValueError("patience_s must be finite and > 0 seconds")
    if max_abandon is not None and not has_patience:
        raise ValueError("max_abandon needs patience_s (abandonment is an Erlang A metric)")
    if np.any(~(mx_ab > 0)) or np.any(mx_ab > 1):
        raise ValueError("max_abandon must be in (0, 1]")


def _required_erlang_c(a, h, sl, t, mx_asa, mx_occ, has_sl):
    n_occ = _occupancy_floor(a, mx_occ)
    n, sl_n, asa_n, sl_prev, asa_prev = _erlang_c_search(a, h, t, sl, mx_asa, n_occ)
    candidates = [
        ("service_level", has_sl & (sl_prev < sl) & (sl > 0),
         lambda: _interp(sl_prev, sl_n, sl, n)),
        ("asa", asa_prev > mx_asa,
         lambda: _interp(_safe_reciprocal(asa_prev), _safe_reciprocal(asa_n),
                         _safe_reciprocal(mx_asa), n)),
        ("occupancy", n_occ >= n, lambda: a / mx_occ),
        ("stability", np.ones(n.shape, dtype=bool), lambda: np.minimum(a, n)),
    ]
    frac, binding = _combine(candidates, n, a)
    with np.errstate(divide="ignore", invalid="ignore"):
        occ = np.where(n > 0, a / np.where(n > 0, n, 1.0), 0.0)
    return n, frac, binding, sl_n, asa_n, np.minimum(occ, 1.0), np.full_like(a, np.nan)


def _combine(candidates, n, a):
    """Fractional answer = max over failing constraints; binding = first failing one.

    ``candidates`` holds ``(name, fails, value)`` in the order of :data:`CONSTRAINTS`;
    ``value`` is a function giving the fractional answer of that constraint, called only
    if the constraint fails somewhere."""
    loaded = a > 0
    frac = np.full_like(n, -np.inf)
    code = np.full(n.shape, CONSTRAINTS.index("none"), dtype=np.int8)
    unset = loaded.copy()
    for name, fails, value in candidates:
        fails = fails & loaded
        if not fails.any():
            continue
        np.maximum(frac, value(), out=frac, where=fails)
        code[unset & fails] = CONSTRAINTS.index(name)
        unset &= ~fails
    frac = np.where(np.isfinite(frac), frac, n)
    frac = np.where(loaded, np.clip(frac, n - 1.0, n), 0.0)
    return frac, _CONSTRAINT_NAMES[code]


def _required_erlang_a(a, h, sl, t, mx_asa, mx_occ, pat, mx_ab, has_sl, has_asa):
    """Erlang A: the compiled search of :func:`_erlang_a_search`, then the fractional
    answer and binding constraint from the metrics at the answer and one agent below."""
    out = np.zeros((10, a.size))
    _erlang_a_search(a, h, pat, t, sl, mx_ab, mx_occ, mx_asa, has_asa, np.argsort(a), out)
    n = out[0]
    zero = ~(a > 0)
    m_sl = np.where(zero, 1.0, out[1])
    m_ab = np.where(zero, 0.0, out[2])
    m_occ = np.where(zero, 0.0, out[3])
    m_asa = np.where(zero, 0.0, out[4])
    sl_prev, ab_prev, occ_prev, asa_prev = out[5:9]
    candidates = [
        ("service_level", has_sl & (sl > 0) & (sl_prev < sl),
         lambda: _interp(sl_prev, m_sl, sl, n)),
        ("asa", has_asa & (asa_prev > mx_asa),
         lambda: _interp(_safe_reciprocal(asa_prev), _safe_reciprocal(m_asa),
                         _safe_reciprocal(mx_asa), n)),
        ("abandonment", ab_prev > mx_ab, lambda: _interp(-ab_prev, -m_ab, -mx_ab, n)),
        ("occupancy", occ_prev > mx_occ, lambda: _interp(-occ_prev, -m_occ, -mx_occ, n)),
    ]
    frac, binding = _combine(candidates, n, a)
    return n, frac, binding, m_sl, m_asa, m_occ, m_ab
