"""Calibration to the centre: call records -> handle time, patience, effective staffing.

Pure estimation on the records table of :mod:`forecast.records` (no file I/O except
the explicit TOML/JSON helpers of :mod:`~forecast.calibrate.toml_io`). The queueing
formulas come from :mod:`forecast.queueing`.

What is estimated, per queue (or per pool of queues sharing agents):

* **Arrivals and handle time per interval** (:func:`history_table`), in the volumes
  long shape (``queue, ds, y, aht_s, abandoned``) ready for forecasting.
* **Handle time** (:func:`estimate_handle_time`): mean with a confidence interval,
  coefficient of variation and a lognormal fit (maximum likelihood on the positive
  handle times).
* **Patience** (:func:`estimate_patience`): the exponential maximum-likelihood
  estimate *total time all callers spent waiting / number of abandonments* (waits of
  answered callers are right-censored patience times), with an exact-for-type-II
  chi-square confidence interval; beside it the Kaplan-Meier estimate of the patience
  distribution (abandonment = event, answer = censoring) to show whether the
  exponential assumption of Erlang A holds.
* **Effective availability** (:func:`fit_availability`): records show which agents
  served in an interval, not how many were logged in and free to take this queue's
  calls (agents on other queues, outbound work, breaks inside the hour, idle in
  after-call states). The factor ``a`` maps the agents seen serving (or the agents
  scheduled, when given) to the number that effectively serve: Erlang A with
  ``a x agents`` servers is fitted by weighted least squares over the learning
  intervals: by default the factor to the observed service level and Erlang A's
  patience to the observed abandonment (``objective="joint"``: both to their sum).
  Its uncertainty comes from a bootstrap over days.

Conventions: the observed service level of an interval is *calls answered within
``target_s`` divided by calls offered* (abandoned calls count as offered, including
those abandoning before the target), the same convention as
:class:`forecast.queueing.ErlangAResult.service_level`. Abandonment is abandoned /
offered. Calls are assigned to the interval in which they joined the queue.

Modules: :mod:`~forecast.calibrate.estimators` (handle time, patience, Kaplan-Meier),
:mod:`~forecast.calibrate.intervals` (per-interval tables from records),
:mod:`~forecast.calibrate.availability` (Erlang A predictions, availability fit),
:mod:`~forecast.calibrate.core` (:func:`calibrate`, its check, the config merge),
:mod:`~forecast.calibrate.toml_io` (params.toml / JSON). Everything is importable from
``forecast.calibrate`` itself.
"""

from __future__ import annotations

from .availability import (
    AvailabilityEstimate,
    fit_availability,
    predict_intervals,
    usable_intervals,
)
from .core import (
    Calibration,
    QueueCalibration,
    apply_calibration,
    calibrate,
    calibration_check,
    check_scores,
    plot_calibration,
)
from .estimators import (
    HandleTimeEstimate,
    PatienceEstimate,
    SurvivalCurve,
    estimate_handle_time,
    estimate_patience,
    kaplan_meier,
)
from .intervals import DEFAULT_SHIFT_GAP_S, history_table, interval_table
from .toml_io import calibration_to_toml, load_calibration

__all__ = [
    "SurvivalCurve",
    "PatienceEstimate",
    "HandleTimeEstimate",
    "AvailabilityEstimate",
    "QueueCalibration",
    "Calibration",
    "kaplan_meier",
    "estimate_patience",
    "estimate_handle_time",
    "interval_table",
    "history_table",
    "predict_intervals",
    "fit_availability",
    "calibrate",
    "calibration_check",
    "check_scores",
    "plot_calibration",
    "usable_intervals",
    "apply_calibration",
    "calibration_to_toml",
    "load_calibration",
    "DEFAULT_SHIFT_GAP_S",
]

