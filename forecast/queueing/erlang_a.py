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

Where ``P(x, y)`` would underflow (light load, ``y`` well below ``x``) the tail
factor and the ratios are summed as the series above, which converges fast there;
everything else is done in log space, so results are finite from 0.01 to 10,000
Erlangs and 1 to 20,000 agents.

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

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from .erlang import _check_nonnegative, _floats, log_erlang_b

__all__ = ["ErlangAResult", "erlang_a"]

FloatArray = NDArray[np.float64]

#: below this value of P(x, y) the series form replaces the incomplete gamma form
_NEGLIGIBLE_LOAD = 1e-200
_SERIES_BELOW = 1e-150


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


def _series(x: FloatArray, z: FloatArray, *, with_abandon: bool):
    """``M1 = sum_{j>=1} q_j`` and ``S = sum_{j>=0} q_j (j+1)/(x+j+1)``, ``q_j = prod y/(x+i)``."""
    m1 = np.zeros_like(z)
    s_ab = 1.0 / (x + 1.0) if with_abandon else None
    if with_abandon:
        s_ab = np.array(s_ab, dtype=np.float64)
    term = np.ones_like(z)
    active = np.flatnonzero(z > 0)
    j = 0
    while active.size:
        j += 1
        xa = x[active]
        term[active] *= z[active] / (xa + j)
        m1[active] += term[active]
        if with_abandon:
            s_ab[active] += term[active] * (j + 1) / (xa + j + 1)
        active = active[term[active] > 1e-18 * (1.0 + m1[active])]
    return m1, s_ab


def _answered_wait_sum(x: FloatArray, y: FloatArray) -> FloatArray:
    """``E[wait; answered | W > 0] * theta``: sum over the number ``j`` found waiting.

    Terms ``q_j x / (x + j + 1) (psi(x + j + 2) - psi(x + 1))`` over ``q_j`` (the
    state weights), summed from nine standard deviations below the mode of ``q_j``
    until the terms are negligible. Weights are scaled so the mode's is 1 and stepped
    by ``q_{j+1} = q_j y / (x + j + 1)``: no overflow, no logarithms in the loop.
    """
    lo_half = np.ceil(9.0 * np.sqrt(np.maximum(y, 1.0)) + 10.0)
    mode = np.maximum(0.0, np.floor(y - x))
    j = np.maximum(0.0, mode - lo_half)
    lg_x1 = special.gammaln(x + 1.0)
    log_y = np.log(y)
    log_q_mode = mode * log_y - (special.gammaln(x + mode + 1.0) - lg_x1)
    q = np.exp(j * log_y - (special.gammaln(x + j + 1.0) - lg_x1) - log_q_mode)
    harmonic = special.digamma(x + j + 2.0) - special.digamma(x + 1.0)
    total = np.zeros_like(x)
    weighted = np.zeros_like(x)
    # working copies, compacted as intervals finish
    idx = np.arange(x.size)
    xs, ys, js, ms, qs, hs = x.copy(), y.copy(), j, mode, q, harmonic
    tot, wsum = np.zeros_like(x), np.zeros_like(x)
    while idx.size:
        for _ in range(16):
            d = xs + js + 1.0
            tot += qs
            wsum += qs * (xs / d) * hs
            qs = qs * (ys / d)
            hs = hs + 1.0 / (d + 1.0)
            js = js + 1.0
        done = (js > ms + 1.0) & (qs < 1e-18 * tot)
        if done.any():
            total[idx[done]] = tot[done]
            weighted[idx[done]] = wsum[done]
            keep = ~done
            idx, xs, ys, js, ms = idx[keep], xs[keep], ys[keep], js[keep], ms[keep]
            qs, hs, tot, wsum = qs[keep], hs[keep], tot[keep], wsum[keep]
    return weighted / total


def _erlang_a_int(n, lam, aht_s, patience_s, target_s, *, want_asa: bool = True) -> dict:
    """Erlang A metrics for integer agents on flat float arrays of equal length."""
    size = n.size
    load = lam * aht_s
    out = {
        "p_wait": np.zeros(size),
        "p_abandon": np.zeros(size),
        "service_level": np.ones(size),
        "p_abandon_within_target": np.zeros(size),
        "asa_s": np.zeros(size),
        "occupancy": np.zeros(size),
    }
    # no agents, some arrivals: everyone waits and abandons
    none = (n == 0) & (lam > 0)
    out["p_wait"][none] = 1.0
    out["p_abandon"][none] = 1.0
    out["service_level"][none] = 0.0
    out["p_abandon_within_target"][none] = -np.expm1(-target_s[none] / patience_s[none])
    out["asa_s"][none] = np.inf
    out["occupancy"][none] = 1.0

    # loads below 1e-200 Erlangs are zero to double precision (and 1 / load overflows)
    work = (n > 0) & (load > _NEGLIGIBLE_LOAD)
    tiny = (n > 0) & (lam > 0) & ~work
    out["occupancy"][tiny] = np.minimum(load[tiny] / n[tiny], 1.0)
    if np.any(work):
        nw, a, h, pat, t = n[work], load[work], aht_s[work], patience_s[work], target_s[work]
        x = nw * pat / h
        y = lam[work] * pat
        p = np.exp(-t / pat)
        yp = y * p
        log_b = log_erlang_b(nw, a)
        p_xy = special.gammainc(x, y)
        gam = p_xy > _SERIES_BELOW
        ser = ~gam
        log_t = np.empty_like(x)
        ratio_r = np.empty_like(x)  # P(V > t | W > 0)
        ans_w = np.empty_like(x)  # P(answered by t | W > 0)
        ab_w = np.empty_like(x)  # P(abandon | W > 0)
        if np.any(gam):
            sel = slice(None) if gam.all() else gam  # skip the copy in the usual case
            xg, yg, ypg, pg = x[sel], y[sel], yp[sel], p_xy[sel]
            lg = special.gammaln(xg + 1.0)
            log_y = np.log(yg)
            log_tg = lg + yg - xg * log_y + np.log(pg)
            log_t[sel] = log_tg
            p_xyp = special.gammainc(xg, ypg)
            with np.errstate(divide="ignore"):
                e_y = np.exp(xg * log_y - yg - lg)
                e_yp = np.exp(xg * (log_y - t[sel] / pat[sel]) - ypg - lg)
            ratio_r[sel] = p_xyp / pg
            x_over_y = xg / yg
            diff = (pg - p_xyp) - (e_y - e_yp)  # P(x+1, y) - P(x+1, yp)
            ans_w[sel] = np.clip(x_over_y * diff / pg, 0.0, 1.0)
            ab_w[sel] = 1.0 + x_over_y * np.expm1(-log_tg)
        if np.any(ser):
            xs, ys, yps, ps, ts, pats = x[ser], y[ser], yp[ser], p[ser], t[ser], pat[ser]
            m1_y, s_ab = _series(xs, ys, with_abandon=True)
            m1_yp, _ = _series(xs, yps, with_abandon=False)
            tail = 1.0 + m1_y
            log_t[ser] = np.log1p(m1_y)
            scale = np.exp(-xs * ts / pats + ys * (1.0 - ps))  # p^x e^{y(1-p)}
            ratio_r[ser] = scale * (1.0 + m1_yp) / tail
            ans_w[ser] = np.clip((xs / ys) * (m1_y - scale * m1_yp) / tail, 0.0, 1.0)
            ab_w[ser] = s_ab / tail
        ab_w = np.clip(ab_w, 0.0, 1.0)
        ratio_r = np.clip(ratio_r, 0.0, 1.0)
        # P(W > 0) = 1 / (1 + (1 - B) / (B T)), in log space
        log_one_minus_b = np.log(-np.expm1(log_b))
        p_wait = special.expit(log_b + log_t - log_one_minus_b)
        p_ab = p_wait * ab_w
        sl = (1.0 - p_wait) + p_wait * ans_w
        still_waiting = ratio_r * p
        ab_t = np.clip(p_wait * (1.0 - still_waiting - ans_w), 0.0, p_ab)
        out["p_wait"][work] = p_wait
        out["p_abandon"][work] = p_ab
        out["service_level"][work] = np.clip(sl, 0.0, 1.0)
        out["p_abandon_within_target"][work] = ab_t
        out["occupancy"][work] = np.minimum(a * (1.0 - p_ab) / nw, 1.0)
        if want_asa:
            wait_sum = _answered_wait_sum(x, y) / (1.0 / pat)
            with np.errstate(divide="ignore", invalid="ignore"):
                asa_s = p_wait * wait_sum / (1.0 - p_ab)
            out["asa_s"][work] = np.where(p_ab < 1.0, asa_s, np.inf)
    if not want_asa:
        out["asa_s"][:] = np.nan
    return out


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
    arrival_rate_per_s: ArrayLike,
    aht_s: ArrayLike,
    patience_s: ArrayLike,
    target_s: ArrayLike,
) -> ErlangAResult:
    """Erlang A (M/M/n+M) metrics for each interval.

    Parameters
    ----------
    agents
        Agents, >= 0. Fractional values interpolate linearly between the metrics at
        the neighbouring integers (ASA through its reciprocal).
    arrival_rate_per_s
        Arrival rate, contacts per second, >= 0.
    aht_s
        Average handle time, seconds, > 0.
    patience_s
        Mean patience of waiting callers, seconds, > 0 (exponential patience).
    target_s
        Answer-time target for the service level, seconds, >= 0.

    Returns
    -------
    ErlangAResult
        Arrays shaped like the broadcast inputs; see the class for conventions.

    Notes
    -----
    Formulas of Mandelbaum & Zeltyn (2007), see the module docstring. Zero arrivals
    give ``p_wait = p_abandon = 0``, service level 1, ASA 0, occupancy 0; zero agents
    with arrivals give ``p_abandon = 1``, service level 0, ASA ``inf``.
    """
    n, lam, h, pat, t = _floats(agents, arrival_rate_per_s, aht_s, patience_s, target_s)
    _check_nonnegative("agents", n)
    _check_nonnegative("arrival_rate_per_s", lam)
    _check_nonnegative("target_s", t)
    if np.any(~(h > 0)) or np.any(~np.isfinite(h)):
        raise ValueError("aht_s must be finite and > 0")
    if np.any(~(pat > 0)) or np.any(~np.isfinite(pat)):
        raise ValueError("patience_s must be finite and > 0")
    shape = n.shape
    flat = [v.ravel() for v in (n, lam, h, pat, t)]
    low = np.floor(flat[0])
    high = np.ceil(flat[0])
    frac = flat[0] - low
    raw = _finish(_erlang_a_int(low, *flat[1:]), flat[3])
    if np.any(frac > 0):
        up = _finish(_erlang_a_int(high, *flat[1:]), flat[3])
        for key in raw:
            lo_v, hi_v = raw[key], up[key]
            if key == "asa_s":
                with np.errstate(divide="ignore"):
                    r = 1.0 / lo_v + frac * (1.0 / hi_v - 1.0 / lo_v)
                    raw[key] = np.where(frac > 0, 1.0 / r, lo_v)
            else:
                raw[key] = np.where(frac > 0, lo_v + frac * (hi_v - lo_v), lo_v)
    return ErlangAResult(**{k: v.reshape(shape) for k, v in raw.items()})
