"""Candidate: the calibrated median (p50) as the point forecast, in place of the mean.

Status: Rejected on 2026-11-30: worse on every set (bank inner -0.0028, -4.25 SE).
Reproduce (see README.md here): ``forecast_decide.py --candidate median_point.py:make``
(benchmarks/RESULTS.md, "Changes judged by the decision rule").

On the example centre's growing volumes the p50 sits 2-3% above the mean and the mean's
backtest bias is -1.3%, which raised the question whether the median should be the point
forecast (it minimises absolute error when the errors are calibrated). On the real data it
is not: the calibrated median carries the inner weeks' errors forward, and those do not
persist.
"""
from forecast.forecasters import build_model
from forecast.forecasters.base import Forecaster


class MedianPoint(Forecaster):
    """A fitted model whose point forecast is its own p50."""

    def __init__(self, inner):
        super().__init__(calibration_weeks=0)
        self.inner = inner
        self.name = inner.name

    def fit(self, history, events=None):
        self.inner.fit(history, events)
        return self

    def predict(self, horizon, events=None, quantiles=(0.1, 0.5, 0.9)):
        qs = tuple(sorted(set(quantiles) | {0.5}))
        out = self.inner.predict(horizon, events, quantiles=qs)
        out["mean"] = out["p50"]
        return out


def make(events):
    """The candidate as judged: the default ensemble, its p50 as the point forecast."""
    return MedianPoint(build_model("ensemble", events))
