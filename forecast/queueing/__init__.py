"""Queueing maths for staffing: Erlang B, C and A, and required agents.

Pure numpy/scipy, no I/O, vectorised over intervals (every argument broadcasts).
Loads are in Erlangs (arrival rate x AHT); times in seconds; rates per second.

* :func:`erlang_b`, :func:`erlang_c`, :func:`service_level`, :func:`asa`,
  :func:`occupancy` -- M/M/n (Erlang 1917; Palm 1943).
* :func:`erlang_a` -- M/M/n+M with exponential patience (Palm 1943/1957; Garnett,
  Mandelbaum & Reiman 2002; Mandelbaum & Zeltyn 2007).
* :func:`required_agents` -- fewest agents meeting service level, ASA, occupancy and
  abandonment targets, integer and continuous answers, with the binding constraint.
"""

from .erlang import asa, erlang_b, erlang_c, log_erlang_b, occupancy, service_level
from .erlang_a import ErlangAResult, erlang_a
from .required import CONSTRAINTS, RequiredAgents, required_agents

__all__ = [
    "CONSTRAINTS",
    "ErlangAResult",
    "RequiredAgents",
    "asa",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "log_erlang_b",
    "occupancy",
    "required_agents",
    "service_level",
]
