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
Erlang C: the search starts at ``floor(A) + 1`` agents, where Erlang B is the inverse
of a short series (``1 / B(n, A) = sum_j prod_{i<j} (n - i) / A``, terms falling like
``exp(-j^2 / 2A)``), and climbs with the stable forward recursion
``B(n+1) = A B(n) / (n + 1 + A B(n))``, all intervals at once, dropping intervals as
they meet their targets. Erlang A: bisection between a lower bound (service level
cannot exceed ``n / A``) and the Erlang C answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .erlang import _floats
from .erlang_a import _erlang_a_int

__all__ = ["RequiredAgents", "required_agents", "CONSTRAINTS"]

FloatArray = NDArray[np.float64]

#: binding-constraint names, in the order used to break ties
CONSTRAINTS = ("service_level", "asa", "abandonment", "occupancy", "stability", "none")


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


def _inverse_b_at_start(n0: FloatArray, load: FloatArray) -> FloatArray:
    """``1 / B(n0, A)`` for ``n0 = floor(A) + 1`` and ``load`` sorted in decreasing order.

    ``1 / B(n, A) = sum_{j=0}^{n} prod_{i<j} (n - i) / A``; at ``n = floor(A) + 1`` the
    terms fall like ``exp(-j^2 / 2A)``, so ``sqrt(84 A) + 3`` of them reach 1e-18 of the
    sum. Evaluated by Horner's rule from the innermost term outwards; because loads are
    sorted, the intervals needing term ``j`` are a prefix of the arrays.
    """
    terms = np.minimum(n0, np.ceil(np.sqrt(84.0 * load)) + 3.0).astype(np.int64)
    total = np.ones_like(load)
    if load.size == 0:
        return total
    with np.errstate(over="ignore", divide="ignore"):
        inv_a = 1.0 / load
    # prefix length needing more than j terms, j = 0 .. max-1 (terms is non-increasing)
    counts = np.searchsorted(-terms, -np.arange(1, int(terms[0]) + 1), side="right")
    buf = np.empty_like(load)
    with np.errstate(over="ignore", invalid="ignore"):
        for j in range(int(terms[0]) - 1, -1, -1):
            m = counts[j]
            r = buf[:m]
            np.subtract(n0[:m], j, out=r)
            np.multiply(r, inv_a[:m], out=r)  # (n0 - j) / A; inf, not NaN, for subnormal A
            np.multiply(r, total[:m], out=r)
            np.add(r, 1.0, out=total[:m])
    return total


def _erlang_c_search(a, h, t, sl, max_asa, n_occ):
    """Minimal integer agents with Erlang C SL >= sl, ASA <= max_asa, n >= n_occ.

    Returns ``n, sl_n, asa_n, sl_prev, asa_prev`` (metrics at n and n - 1).
    """
    size = a.size
    n_out = np.zeros(size)
    sl_n = np.ones(size)
    asa_n = np.zeros(size)
    sl_prev = np.zeros(size)
    asa_prev = np.full(size, np.inf)
    idx = np.flatnonzero(a > 0)
    if idx.size == 0:
        return n_out, sl_n, asa_n, sl_prev, asa_prev
    # the start series wants loads in decreasing order
    idx = idx[np.argsort(-a[idx])]
    aa, hh, tt = a[idx], h[idx], t[idx]
    miss = 1.0 - sl[idx]  # SL >= s  <=>  C exp(-(n-A) t / h) <= 1 - s
    mx = max_asa[idx]
    no = n_occ[idx]
    check_asa = bool(np.isfinite(mx).any())
    check_occ = bool((no > np.floor(aa) + 1.0).any())
    n = np.floor(aa) + 1.0
    b = 1.0 / _inverse_b_at_start(n, aa)
    gap = n - aa
    step = np.exp(-tt / hh)
    decay = np.exp(-gap * tt / hh)
    prev_c = np.ones_like(aa)  # at n - 1 <= A everyone waits: C = 1, ASA = inf
    prev_decay = np.ones_like(aa)
    prev_gap = gap - 1.0
    while idx.size:
        ab = aa * b
        c = n * b / (gap + ab)
        if np.isnan(c).any():  # cannot happen for valid input; never loop on it
            raise FloatingPointError("Erlang C search met a NaN probability")
        cd = c * decay
        ok = cd <= miss
        if check_occ:
            ok &= n >= no
        if check_asa:
            ok &= c * hh <= mx * gap
        if ok.any():
            w = np.flatnonzero(ok)
            target = idx[w]
            n_out[target] = n[w]
            sl_n[target] = 1.0 - cd[w]
            asa_n[target] = c[w] * hh[w] / gap[w]
            sl_prev[target] = np.where(prev_gap[w] > 0, 1.0 - prev_c[w] * prev_decay[w], 0.0)
            with np.errstate(divide="ignore"):
                asa_prev[target] = np.where(prev_gap[w] > 0,
                                            prev_c[w] * hh[w] / prev_gap[w], np.inf)
            keep = ~ok
            idx, aa, hh, miss, mx, no = idx[keep], aa[keep], hh[keep], miss[keep], mx[keep], \
                no[keep]
            n, b, ab, c, gap = n[keep], b[keep], ab[keep], c[keep], gap[keep]
            step, decay = step[keep], decay[keep]
        prev_c, prev_decay, prev_gap = c, decay, gap
        b = ab / (n + 1.0 + ab)
        n = n + 1.0
        gap = gap + 1.0
        decay = decay * step
    return n_out, np.clip(sl_n, 0.0, 1.0), asa_n, np.clip(sl_prev, 0.0, 1.0), asa_prev


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
    candidates = []
    fail_sl = has_sl & (sl_prev < sl) & (sl > 0)
    candidates.append(("service_level", fail_sl, _interp(sl_prev, sl_n, sl, n)))
    fail_asa = asa_prev > mx_asa
    candidates.append(("asa", fail_asa, _interp(_safe_reciprocal(asa_prev),
                                                _safe_reciprocal(asa_n),
                                                _safe_reciprocal(mx_asa), n)))
    fail_occ = n_occ >= n
    with np.errstate(divide="ignore", invalid="ignore"):
        occ_frac = a / mx_occ
    candidates.append(("occupancy", fail_occ, occ_frac))
    candidates.append(("stability", np.ones_like(fail_sl), np.minimum(a, n)))
    frac, binding = _combine(candidates, n, a)
    with np.errstate(divide="ignore", invalid="ignore"):
        occ = np.where(n > 0, a / np.where(n > 0, n, 1.0), 0.0)
    return n, frac, binding, sl_n, asa_n, np.minimum(occ, 1.0), np.full_like(a, np.nan)


def _combine(candidates, n, a):
    """Fractional answer = max over failing constraints; binding = first failing one."""
    frac = np.full_like(n, -np.inf)
    code = np.full(n.shape, CONSTRAINTS.index("none"), dtype=np.int8)
    unset = a > 0
    for name, fails, value in candidates:
        fails = fails & (a > 0)
        frac = np.where(fails, np.maximum(frac, value), frac)
        code[unset & fails] = CONSTRAINTS.index(name)
        unset &= ~fails
    frac = np.where(np.isfinite(frac), frac, n)
    frac = np.where(a > 0, np.clip(frac, n - 1.0, n), 0.0)
    return frac, np.array(CONSTRAINTS)[code]


def _required_erlang_a(a, h, sl, t, mx_asa, mx_occ, pat, mx_ab, has_sl, has_asa):
    """Erlang A search on the smallest margin over the targets (increasing in n).

    Starts at the Erlang C answer and tests it with the agent below; then secant steps
    through the last two points, each testing the predicted answer and the agent below
    it in one vectorised pass, inside a bracket that always holds the answer (bisection
    after four rounds). Metrics at the answer and one agent below it are kept."""
    size = a.size
    lam = a / h
    keys = ("service_level", "p_abandon", "occupancy", "asa_s")

    def evaluate(n, sel):
        m = _erlang_a_int(n, lam[sel], h[sel], pat[sel], t[sel], want_asa=has_asa)
        margin = np.minimum(m["service_level"] - sl[sel], mx_ab[sel] - m["p_abandon"])
        margin = np.minimum(margin, mx_occ[sel] - m["occupancy"])
        if has_asa:
            with np.errstate(invalid="ignore"):
                asa_margin = np.where(np.isinf(m["asa_s"]), -np.inf,
                                      (mx_asa[sel] - m["asa_s"]) / mx_asa[sel])
            margin = np.minimum(margin, np.maximum(asa_margin, -1.0))
        return m, margin

    hi_m = {k: np.full(size, np.nan) for k in keys}
    lo_m = {k: np.full(size, np.nan) for k in keys}

    def store(bank, where, m, ok_mask):
        for k in keys:
            bank[k][where] = m[k][ok_mask]

    active = np.flatnonzero(a > 0)
    # upper end: the Erlang C answer for the same targets (grown if it misses a target);
    # lower end: service level <= n / A and abandonment >= 1 - n / A rule these out
    n_c, *_ = _erlang_c_search(a, h, t, sl, mx_asa, _occupancy_floor(a, mx_occ))
    hi = np.maximum(n_c, 1.0)
    lo = np.maximum(np.ceil(sl * a) - 1.0, 0.0)
    lo = np.maximum(lo, np.ceil(a * (1.0 - mx_ab)) - 1.0)
    lo = np.minimum(lo, hi - 1.0)
    # the last two points evaluated, for the secant
    p_a, g_a = np.full(size, np.nan), np.full(size, np.nan)
    p_b, g_b = np.full(size, np.nan), np.full(size, np.nan)
    rounds = np.zeros(size, dtype=np.int64)

    def run(idx, probe):
        """Evaluate at probe and probe - 1 (when inside the bracket); update everything."""
        below = probe - 1.0
        pair = below > lo[idx]
        cand = np.concatenate([idx, idx[pair]])
        n_cand = np.concatenate([probe, below[pair]])
        m, g = evaluate(n_cand, cand)
        ok = g >= 0
        for part in (slice(0, idx.size), slice(idx.size, None)):
            c_idx, c_n, c_ok = cand[part], n_cand[part], ok[part]
            mp = {k: v[part] for k, v in m.items()}
            up = c_ok & (c_n <= hi[c_idx])  # <=: the first probe is hi itself
            store(hi_m, c_idx[up], mp, up)
            hi[c_idx[up]] = c_n[up]
            down = ~c_ok & (c_n >= lo[c_idx])
            store(lo_m, c_idx[down], mp, down)
            lo[c_idx[down]] = c_n[down]
        p_a[idx], g_a[idx] = p_b[idx], g_b[idx]
        p_b[idx], g_b[idx] = probe, g[: idx.size]
        p_a[idx[pair]], g_a[idx[pair]] = below[pair], g[idx.size:]
        rounds[idx] += 1
        return ok[: idx.size]

    check = active
    while check.size:  # confirm the upper end, doubling it where it falls short
        met = run(check, hi[check])
        grow = check[~met]
        lo[grow] = hi[grow]
        hi[grow] = 2.0 * hi[grow] + 1.0
        check = grow
    pending = active[hi[active] - lo[active] > 1]
    while pending.size:
        low, high = lo[pending], hi[pending]
        with np.errstate(divide="ignore", invalid="ignore"):
            guess = p_b[pending] - g_b[pending] * (p_b[pending] - p_a[pending]) / (
                g_b[pending] - g_a[pending])
        bisect = ~np.isfinite(guess) | (rounds[pending] >= 4)
        guess = np.where(bisect, np.floor((low + high) / 2.0), np.ceil(guess))
        run(pending, np.clip(guess, low + 1.0, high - 1.0))
        pending = pending[hi[pending] - lo[pending] > 1]
    # no agents below the answer: nobody is served
    zero_lo = active[lo[active] == 0]
    lo_m["service_level"][zero_lo] = 0.0
    lo_m["p_abandon"][zero_lo] = 1.0
    lo_m["occupancy"][zero_lo] = 1.0
    lo_m["asa_s"][zero_lo] = np.inf
    unknown = active[(lo[active] > 0) & np.isnan(lo_m["service_level"][active])]
    if unknown.size:
        m, _ = evaluate(lo[unknown], unknown)
        store(lo_m, unknown, m, np.ones(unknown.size, dtype=bool))
    n = np.where(a > 0, hi, 0.0)
    zero = a == 0
    m_sl = np.where(zero, 1.0, hi_m["service_level"])
    m_ab = np.where(zero, 0.0, hi_m["p_abandon"])
    m_occ = np.where(zero, 0.0, hi_m["occupancy"])
    if has_asa:
        m_asa = np.where(zero, 0.0, hi_m["asa_s"])
    else:
        m_asa = np.zeros(size)
        if active.size:
            full = _erlang_a_int(n[active], lam[active], h[active], pat[active], t[active])
            m_asa[active] = full["asa_s"]
    sl_prev, ab_prev = lo_m["service_level"], lo_m["p_abandon"]
    occ_prev, asa_prev = lo_m["occupancy"], lo_m["asa_s"]
    candidates = [
        ("service_level", has_sl & (sl > 0) & (sl_prev < sl), _interp(sl_prev, m_sl, sl, n)),
    ]
    if has_asa:
        candidates.append(("asa", asa_prev > mx_asa,
                           _interp(_safe_reciprocal(asa_prev), _safe_reciprocal(m_asa),
                                   _safe_reciprocal(mx_asa), n)))
    candidates.append(("abandonment", ab_prev > mx_ab, _interp(-ab_prev, -m_ab, -mx_ab, n)))
    candidates.append(("occupancy", occ_prev > mx_occ, _interp(-occ_prev, -m_occ, -mx_occ, n)))
    frac, binding = _combine(candidates, n, a)
    return n, frac, binding, m_sl, m_asa, m_occ, m_ab
