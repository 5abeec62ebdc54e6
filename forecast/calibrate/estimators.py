"""Handle-time and patience estimators from per-call durations.

Kaplan-Meier survival curve, exponential maximum-likelihood patience with censored
waits, and the handle-time mean, spread and lognormal fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = [
    "SurvivalCurve",
    "PatienceEstimate",
    "HandleTimeEstimate",
    "kaplan_meier",
    "estimate_patience",
    "estimate_handle_time",
]

SURVIVAL_POINTS_S = (10, 30, 60, 120, 300)


# --------------------------------------------------------------------------- patience


@dataclass(frozen=True)
class SurvivalCurve:
    """A right-censored survival function estimated by Kaplan-Meier.

    Attributes
    ----------
    time_s
        Distinct event times (seconds), increasing.
    survival
        ``S(t)`` just after each event time.
    at_risk, events
        Number still waiting at each time and number abandoning at it.
    std_err
        Greenwood standard error of ``survival``.
    """

    time_s: np.ndarray
    survival: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    std_err: np.ndarray

    def at(self, t_s: float | np.ndarray) -> np.ndarray:
        """``S(t)``: the step function evaluated at ``t_s`` (1 before the first event)."""
        idx = np.searchsorted(self.time_s, np.asarray(t_s, dtype=float), side="right") - 1
        padded = np.concatenate([[1.0], self.survival])
        return padded[idx + 1]

    def median_s(self) -> float:
        """First time at which ``S(t) <= 0.5``; NaN when the curve never gets there."""
        below = np.flatnonzero(self.survival <= 0.5)
        return float(self.time_s[below[0]]) if below.size else math.nan


def kaplan_meier(duration_s: np.ndarray, observed: np.ndarray) -> SurvivalCurve:
    """Kaplan-Meier estimate of a survival function from right-censored durations.

    Parameters
    ----------
    duration_s
        Observed durations (here: time waited in queue).
    observed
        True where the duration ends in the event (here: abandonment), False where
        it is censored (answered before the caller's patience ran out).

    Notes
    -----
    Kaplan, E. L. and Meier, P. (1958), "Nonparametric estimation from incomplete
    observations", JASA 53(282). Variance by Greenwood's formula. Ties: events at a
    time happen before censorings at the same time (the usual convention).
    """
    t = np.asarray(duration_s, dtype=float)
    e = np.asarray(observed, dtype=bool)
    if t.shape != e.shape:
        raise ValueError("duration_s and observed must have the same shape")
    if t.size and (not np.all(np.isfinite(t)) or t.min() < 0):
        raise ValueError("durations must be finite and >= 0")
    times, inverse = np.unique(t, return_inverse=True)
    total = np.bincount(inverse, minlength=times.size)
    events = np.bincount(inverse, weights=e, minlength=times.size).astype(np.int64)
    at_risk = t.size - np.concatenate([[0], np.cumsum(total)[:-1]])
    keep = events > 0
    times, events, at_risk = times[keep], events[keep], at_risk[keep]
    factor = 1.0 - events / at_risk
    survival = np.cumprod(factor)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = events / (at_risk * (at_risk - events))
        greenwood = np.cumsum(np.where(at_risk > events, terms, np.inf))
        std_err = survival * np.sqrt(greenwood)
    std_err = np.where(np.isfinite(std_err), std_err, 0.0)
    return SurvivalCurve(times, survival, at_risk.astype(np.int64), events, std_err)


@dataclass(frozen=True)
class PatienceEstimate:
    """Callers' patience (time they are willing to wait before hanging up).

    Attributes
    ----------
    mean_s, low_s, high_s
        Exponential MLE of the mean patience and its confidence interval
        (``inf``/NaN when nobody abandoned).
    confidence
        Level of the interval.
    abandoned, calls
        Abandonments and calls used.
    total_wait_s
        Total time all these callers waited.
    km_median_s
        Kaplan-Meier median patience (NaN when fewer than half would ever abandon
        within the waits observed).
    km_survival
        Kaplan-Meier ``P(patience > t)`` at ``t`` in :data:`SURVIVAL_POINTS_S`
        (keys are seconds as strings, for JSON/TOML).
    exponential_survival
        The same probabilities under the exponential fit, for comparison.
    max_gap
        Largest absolute difference between the two curves over the event times with
        at least 30 callers at risk: a check of Erlang A's exponential assumption.
    """

    mean_s: float
    low_s: float
    high_s: float
    confidence: float
    abandoned: int
    calls: int
    total_wait_s: float
    km_median_s: float
    km_survival: dict[str, float]
    exponential_survival: dict[str, float]
    max_gap: float


def estimate_patience(
    wait_s: np.ndarray, abandoned: np.ndarray, *, confidence: float = 0.95
) -> PatienceEstimate:
    """Estimate mean patience from waits, treating answered waits as censored.

    Parameters
    ----------
    wait_s
        Time each caller waited in queue (to answer or to hang-up), seconds.
    abandoned
        True for callers who hung up.
    confidence
        Level of the interval on the mean.

    Notes
    -----
    With exponential patience of mean ``theta``, the likelihood of waits ``w_i`` with
    ``k`` abandonments is ``theta^-k exp(-sum w_i / theta)``, maximised at
    ``theta = sum w_i / k`` (the standard call-centre estimator; Brown et al. (2005),
    "Statistical analysis of a telephone call center", JASA 100(469)). The interval
    uses ``2 sum w_i / theta ~ chi2(2k)``, exact under type-II censoring and a close
    approximation here.
    """
    w = np.asarray(wait_s, dtype=float)
    a = np.asarray(abandoned, dtype=bool)
    if w.shape != a.shape:
        raise ValueError("wait_s and abandoned must have the same shape")
    k = int(a.sum())
    total = float(w.sum())
    if k == 0:
        mean = low = high = math.inf
        if w.size == 0:
            mean = low = high = math.nan
    else:
        mean = total / k
        alpha = 1.0 - confidence
        low = 2.0 * total / stats.chi2.ppf(1.0 - alpha / 2.0, 2 * k)
        high = 2.0 * total / stats.chi2.ppf(alpha / 2.0, 2 * k)
    curve = kaplan_meier(w, a)
    points = np.array(SURVIVAL_POINTS_S, dtype=float)
    km = curve.at(points)
    usable = math.isfinite(mean) and mean > 0
    expo = np.exp(-points / mean) if usable else np.full_like(points, 0.0 if mean == 0 else 1.0)
    informative = curve.at_risk >= 30
    if usable and informative.any():
        gap = float(
            np.max(np.abs(curve.survival[informative] - np.exp(-curve.time_s[informative] / mean)))
        )
    else:
        gap = math.nan
    return PatienceEstimate(
        mean_s=float(mean),
        low_s=float(low),
        high_s=float(high),
        confidence=confidence,
        abandoned=k,
        calls=int(w.size),
        total_wait_s=total,
        km_median_s=curve.median_s(),
        km_survival={f"{p:g}": float(s) for p, s in zip(points, km, strict=True)},
        exponential_survival={f"{p:g}": float(s) for p, s in zip(points, expo, strict=True)},
        max_gap=gap,
    )


# --------------------------------------------------------------------------- handle time


@dataclass(frozen=True)
class HandleTimeEstimate:
    """Distribution of handle time (talk + wrap) of answered calls.

    Attributes
    ----------
    mean_s, low_s, high_s
        Sample mean and its normal-approximation confidence interval, the lower bound
        clipped at 0 (handle times are never negative; the normal interval of a few
        skewed handle times can reach below 0).
    cv
        Coefficient of variation (standard deviation / mean); 1 for exponential.
    median_s
        Sample median.
    lognormal_mu, lognormal_sigma
        Maximum-likelihood lognormal fit to the positive handle times
        (``log(handle_s) ~ Normal(mu, sigma)``).
    calls
        Answered calls used; ``zero_share`` of them had a handle time of 0 s (left
        out of the lognormal fit, kept in the mean).
    """

    mean_s: float
    low_s: float
    high_s: float
    cv: float
    median_s: float
    lognormal_mu: float
    lognormal_sigma: float
    calls: int
    zero_share: float

    @property
    def lognormal_mean_s(self) -> float:
        return float(math.exp(self.lognormal_mu + self.lognormal_sigma**2 / 2))


def estimate_handle_time(handle_s: np.ndarray, *, confidence: float = 0.95) -> HandleTimeEstimate:
    """Mean, spread and lognormal fit of handle times (NaNs ignored)."""
    h = np.asarray(handle_s, dtype=float)
    h = h[np.isfinite(h)]
    if h.size == 0:
        nan = math.nan
        return HandleTimeEstimate(nan, nan, nan, nan, nan, nan, nan, 0, nan)
    if h.min() < 0:
        raise ValueError("handle times must be >= 0")
    mean = float(h.mean())
    sd = float(h.std(ddof=1)) if h.size > 1 else 0.0
    half = float(stats.norm.ppf(0.5 + confidence / 2.0)) * sd / math.sqrt(h.size)
    positive = h[h > 0]
    logs = np.log(positive)
    return HandleTimeEstimate(
        mean_s=mean,
        low_s=max(mean - half, 0.0),
        high_s=mean + half,
        cv=sd / mean if mean > 0 else math.nan,
        median_s=float(np.median(h)),
        lognormal_mu=float(logs.mean()) if logs.size else math.nan,
        lognormal_sigma=float(logs.std(ddof=0)) if logs.size else math.nan,
        calls=int(h.size),
        zero_share=float(1.0 - positive.size / h.size),
    )
