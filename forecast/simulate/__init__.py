"""Discrete-event simulation of a staffing plan: the service level a plan really buys.

The queueing formulas (Erlang C, Erlang A) promise a service level under steady-state
assumptions; the simulator serves randomly drawn (or replayed) calls with the plan's
agents, interval by interval, first come first served, with agents joining and leaving
at interval boundaries and impatient callers hanging up.

* :func:`simulate_plan` - every queue of a plan table, many replications, per-interval
  means with confidence intervals, ``.summary()`` per queue; :func:`simulable_queues`
  says which queues it can simulate without their settings (voice, by the plan's
  ``channel`` column).
* :func:`simulate_queue` - one queue call by call, for replaying real arrivals and handle
  times; :func:`interval_summary` turns its calls into per-interval figures.
* :func:`replay_deferred` - an email or social queue's backlog worked in open hours
  (response target in open seconds), for replaying a deferred plan.

Service level convention (the same as :mod:`forecast.queueing`): calls answered within
the target divided by calls offered in the interval (abandoned and still-waiting calls
count as missed). ``service_level_answered`` divides by answered calls instead.
"""

from __future__ import annotations

from .deferred import replay_deferred
from .kernel import HAVE_NUMBA
from .plan import METRICS, SimulationResult, mean_ci, simulable_queues, simulate_plan
from .planfile import read_plan, split_plan
from .queue import OUTCOMES, interval_summary, simulate_queue

__all__ = [
    "HAVE_NUMBA",
    "METRICS",
    "OUTCOMES",
    "SimulationResult",
    "interval_summary",
    "mean_ci",
    "read_plan",
    "replay_deferred",
    "simulable_queues",
    "simulate_plan",
    "simulate_queue",
    "split_plan",
]
